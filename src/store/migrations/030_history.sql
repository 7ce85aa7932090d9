-- History that cannot be corrupted.
-- 1. Snapshot ids are never reused (AUTOINCREMENT): a plan, a run or a hybrid base that names snapshot #7
--    always means the same snapshot, even after `prune` removed the newest ones. The table is rebuilt in
--    place (the migration runs with foreign keys off and checks them before it commits), so the levels
--    tables keep referring to it and no row is lost.
CREATE TABLE snapshots_030 (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  side          TEXT    NOT NULL CHECK (side IN ('erp', 'shopify')),
  source        TEXT    NOT NULL,          -- file path, API URL or shop domain
  taken_at      TEXT    NOT NULL,          -- ISO 8601 UTC
  row_count     INTEGER NOT NULL,
  content_hash  TEXT    NOT NULL,          -- sha256 over the normalized rows
  meta          TEXT    NOT NULL DEFAULT '{}'  -- JSON: warnings, timings, counts
);
INSERT INTO snapshots_030 (id, side, source, taken_at, row_count, content_hash, meta)
  SELECT id, side, source, taken_at, row_count, content_hash, meta FROM snapshots;
DROP TABLE snapshots;
ALTER TABLE snapshots_030 RENAME TO snapshots;
CREATE INDEX snapshots_side ON snapshots (side, id);

-- Ids a database already used may be gone (an earlier prune): start above every id anything still names.
INSERT INTO sqlite_sequence (name, seq) SELECT 'snapshots', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'snapshots');
UPDATE sqlite_sequence SET seq = MAX(
  seq,
  (SELECT COALESCE(MAX(id), 0) FROM snapshots),
  (SELECT COALESCE(MAX(MAX(COALESCE(erp_snapshot_id, 0), COALESCE(shopify_snapshot_id, 0))), 0) FROM reconciled_levels),
  (SELECT COALESCE(MAX(MAX(COALESCE(json_extract(summary, '$.snapshots.erp'), 0), COALESCE(json_extract(summary, '$.snapshots.shopify'), 0))), 0)
     FROM runs WHERE json_valid(summary))
) WHERE name = 'snapshots';

-- 2. Every plan written, with the snapshots it was made from: the last applied plan's ERP snapshot is the
--    guards' known-good baseline, and prune removes a plan (and its file) together with its snapshots.
CREATE TABLE plans (
  digest               TEXT    NOT NULL,
  path                 TEXT    NOT NULL,   -- the plan file as written
  erp_snapshot_id      INTEGER NOT NULL REFERENCES snapshots (id),
  shopify_snapshot_id  INTEGER NOT NULL REFERENCES snapshots (id),
  created_at           TEXT    NOT NULL,   -- when it was written (ISO 8601 UTC)
  guards_passed        INTEGER NOT NULL,   -- 1: every guard passed
  forced               INTEGER NOT NULL,   -- 1: a guard failed and --force made it applyable
  PRIMARY KEY (digest, path)
);
CREATE INDEX plans_erp ON plans (erp_snapshot_id);
CREATE INDEX plans_shopify ON plans (shopify_snapshot_id);
