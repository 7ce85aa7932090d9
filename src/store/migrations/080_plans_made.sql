-- Plans this database's "invrecon plan" (or sync) wrote, with a fingerprint of what made them (the
-- config and the tool's version). A plan file whose digest is here, made with the same fingerprint, is
-- what the rules give for its baseline: apply trusts it without recomputing the plan. An edited file has
-- another digest and is recomputed as before.
CREATE TABLE plans_made (
  plan_digest  TEXT PRIMARY KEY,
  inputs       TEXT NOT NULL,     -- sha256 of the config as loaded and the tool version
  made_at      TEXT NOT NULL
);
