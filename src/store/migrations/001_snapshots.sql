-- Snapshots are immutable: one row here, its levels in the side's tables, all written in one transaction.
CREATE TABLE snapshots (
  id            INTEGER PRIMARY KEY,
  side          TEXT    NOT NULL CHECK (side IN ('erp', 'shopify')),
  source        TEXT    NOT NULL,          -- file path, API URL or shop domain
  taken_at      TEXT    NOT NULL,          -- ISO 8601 UTC
  row_count     INTEGER NOT NULL,
  content_hash  TEXT    NOT NULL,          -- sha256 over the normalized rows, order-independent
  meta          TEXT    NOT NULL DEFAULT '{}'  -- JSON: warnings, timings, counts
);
CREATE INDEX snapshots_side ON snapshots (side, id);

CREATE TABLE erp_levels (
  snapshot_id   INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  sku           TEXT    NOT NULL,
  warehouse     TEXT    NOT NULL,
  on_hand       INTEGER NOT NULL,
  reserved      INTEGER NOT NULL DEFAULT 0,
  incoming      INTEGER NOT NULL DEFAULT 0,
  safety_stock  INTEGER,                   -- NULL: the export has no value, config rules apply
  category      TEXT,
  line          INTEGER NOT NULL,          -- source line (CSV) or record number (API), for messages
  PRIMARY KEY (snapshot_id, sku, warehouse)
) WITHOUT ROWID;

CREATE TABLE shopify_locations (
  snapshot_id   INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  location_id   TEXT    NOT NULL,          -- gid://shopify/Location/…
  name          TEXT    NOT NULL,
  PRIMARY KEY (snapshot_id, location_id)
) WITHOUT ROWID;

-- Every inventory item read, with or without a SKU, so that missing and shared SKUs can be reported.
CREATE TABLE shopify_items (
  snapshot_id        INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  inventory_item_id  TEXT    NOT NULL,
  sku                TEXT,                 -- NULL or '' when the item has none
  PRIMARY KEY (snapshot_id, inventory_item_id)
) WITHOUT ROWID;

CREATE TABLE shopify_levels (
  snapshot_id        INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  inventory_item_id  TEXT    NOT NULL,
  location_id        TEXT    NOT NULL,
  sku                TEXT,
  available          INTEGER NOT NULL,
  on_hand            INTEGER NOT NULL,
  committed          INTEGER NOT NULL DEFAULT 0,
  reserved           INTEGER NOT NULL DEFAULT 0,
  incoming           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (snapshot_id, inventory_item_id, location_id)
) WITHOUT ROWID;

-- One row per command run that changes state (pull, plan, apply, sync), for status and reports.
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  command       TEXT    NOT NULL,
  started_at    TEXT    NOT NULL,
  finished_at   TEXT,
  outcome       TEXT,                      -- ok | drift | conflicts | error
  summary       TEXT    NOT NULL DEFAULT '{}'
);

-- Advisory locks (sync: one at a time per database). A holder that stopped heartbeating is stale.
CREATE TABLE locks (
  name          TEXT PRIMARY KEY,
  owner         TEXT NOT NULL,             -- pid@host
  pid           INTEGER NOT NULL,
  host          TEXT NOT NULL,
  acquired_at   TEXT NOT NULL,
  heartbeat_at  TEXT NOT NULL
);

-- Apply progress, recorded before and after each batch is sent, so a killed apply resumes exactly.
CREATE TABLE applies (
  plan_digest   TEXT PRIMARY KEY,
  plan_path     TEXT NOT NULL,
  shop          TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL              -- running | done | conflicts | failed
);

CREATE TABLE apply_batches (
  plan_digest      TEXT    NOT NULL REFERENCES applies (plan_digest) ON DELETE CASCADE,
  batch_no         INTEGER NOT NULL,
  attempt          INTEGER NOT NULL DEFAULT 0,
  idempotency_key  TEXT    NOT NULL,
  status           TEXT    NOT NULL,       -- pending | sent | done
  request          TEXT,                   -- JSON rows of the attempt in flight
  result           TEXT,                   -- JSON outcome per row
  updated_at       TEXT    NOT NULL,
  PRIMARY KEY (plan_digest, batch_no, attempt)
) WITHOUT ROWID;

-- Audit log: every call to Shopify, and every level change made.
CREATE TABLE audit_calls (
  id               INTEGER PRIMARY KEY,
  at               TEXT    NOT NULL,
  plan_digest      TEXT,
  batch_no         INTEGER,
  idempotency_key  TEXT,
  operation        TEXT    NOT NULL,
  cost             REAL,
  latency_ms       INTEGER,
  outcome          TEXT    NOT NULL,
  detail           TEXT
);
CREATE INDEX audit_calls_plan ON audit_calls (plan_digest);

CREATE TABLE audit_changes (
  id                 INTEGER PRIMARY KEY,
  at                 TEXT    NOT NULL,
  plan_digest        TEXT,
  sku                TEXT    NOT NULL,
  inventory_item_id  TEXT    NOT NULL,
  location_id        TEXT    NOT NULL,
  before             INTEGER,
  after              INTEGER NOT NULL,
  rule               TEXT
);
CREATE INDEX audit_changes_plan ON audit_changes (plan_digest);
CREATE INDEX audit_changes_sku ON audit_changes (sku);
