-- Plans applied although they are not what the rules give for their baseline (apply --unverified):
-- recorded with what differed, so that a forced apply is never silent.
CREATE TABLE plan_verifications (
  plan_digest TEXT NOT NULL,
  forced_at   TEXT NOT NULL,
  mismatches  TEXT NOT NULL          -- JSON array of the differences found
);
CREATE INDEX plan_verifications_digest ON plan_verifications (plan_digest);
