-- invrecon watch: the live state it keeps between snapshots, the events it accepted, the writes it
-- sent and the ERP corrections it owes. Every change of these tables is one short transaction, so
-- the batch commands keep working on the same database while watch runs.

-- The live ERP state: the newest whole row of each (SKU, warehouse), from the seed snapshot or an event.
CREATE TABLE watch_erp_levels (
  sku           TEXT    NOT NULL,
  warehouse     TEXT    NOT NULL,
  on_hand       INTEGER NOT NULL,
  reserved      INTEGER NOT NULL DEFAULT 0,
  incoming      INTEGER NOT NULL DEFAULT 0,
  safety_stock  INTEGER,
  category      TEXT,
  touched_at    TEXT,                      -- when an event set it; NULL: from a snapshot
  PRIMARY KEY (sku, warehouse)
) WITHOUT ROWID;

-- The live Shopify state: items, locations and levels, from the seed snapshot, webhooks, re-reads and own writes.
CREATE TABLE watch_shopify_locations (
  location_id  TEXT PRIMARY KEY,
  name         TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE watch_shopify_items (
  inventory_item_id  TEXT PRIMARY KEY,
  sku                TEXT
) WITHOUT ROWID;
CREATE INDEX watch_shopify_items_sku ON watch_shopify_items (sku);

CREATE TABLE watch_shopify_levels (
  inventory_item_id  TEXT    NOT NULL,
  location_id        TEXT    NOT NULL,
  available          INTEGER NOT NULL,
  on_hand            INTEGER NOT NULL DEFAULT 0,
  committed          INTEGER NOT NULL DEFAULT 0,
  reserved           INTEGER NOT NULL DEFAULT 0,
  incoming           INTEGER NOT NULL DEFAULT 0,
  webhook_at         TEXT,                 -- updated_at of the newest webhook taken (out-of-order deliveries are older)
  touched_at         TEXT,                 -- when watch last changed it; NULL: from a snapshot
  PRIMARY KEY (inventory_item_id, location_id)
) WITHOUT ROWID;

-- Key/value: the snapshots the live state was seeded from, poll cursors, the figures status shows.
CREATE TABLE watch_meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) WITHOUT ROWID;

-- Every accepted request (ERP rows, a webhook, a poll), kept for the audit and pruned after a week.
CREATE TABLE watch_events (
  id           INTEGER PRIMARY KEY,
  kind         TEXT    NOT NULL,           -- erp | webhook | poll
  received_at  TEXT    NOT NULL,
  rows         INTEGER NOT NULL,
  outcome      TEXT    NOT NULL,           -- accepted | duplicate | echo | out-of-order | unknown-level
  payload      TEXT    NOT NULL
);

-- Shopify webhook ids already taken: a redelivery is answered 200 and ignored.
CREATE TABLE watch_webhook_ids (
  webhook_id   TEXT PRIMARY KEY,
  received_at  TEXT NOT NULL
) WITHOUT ROWID;

-- SKUs whose targets must be recomputed. gen grows with each event, so a write finishing for an older
-- gen leaves a newer event's mark in place. accepted_ms: the oldest event not yet written (latency).
CREATE TABLE watch_dirty (
  sku          TEXT    PRIMARY KEY,
  gen          INTEGER NOT NULL,
  accepted_ms  INTEGER NOT NULL,
  reread       INTEGER NOT NULL DEFAULT 0  -- 1: read the SKU's levels from Shopify first
) WITHOUT ROWID;

-- Writes sent to Shopify. A write still 'sent' after a restart has an unknown outcome: it is sent
-- again under the same idempotency key, never as a new change.
CREATE TABLE watch_writes (
  id               INTEGER PRIMARY KEY,
  idempotency_key  TEXT    NOT NULL UNIQUE,
  status           TEXT    NOT NULL,       -- sent | done | failed
  rows             TEXT    NOT NULL,       -- JSON [{ sku, inventoryItemId, locationId, from, to, authority, erpAvailable }]
  skus             TEXT    NOT NULL,       -- JSON { sku: gen } the write settles
  created_at       TEXT    NOT NULL,
  finished_at      TEXT,
  result           TEXT
);
CREATE INDEX watch_writes_status ON watch_writes (status, id);

-- ERP corrections owed where Shopify (or a hybrid merge) moved a level: exported as CSV per interval
-- and/or posted to the ERP's webhook.
CREATE TABLE watch_outbox (
  id             INTEGER PRIMARY KEY,
  created_at     TEXT    NOT NULL,
  sku            TEXT    NOT NULL,
  location_id    TEXT    NOT NULL,
  location_name  TEXT    NOT NULL,
  warehouse      TEXT    NOT NULL,
  current        INTEGER NOT NULL,
  proposed       INTEGER NOT NULL,
  delta          INTEGER NOT NULL,
  authority      TEXT    NOT NULL,
  reason         TEXT    NOT NULL,
  exported_to    TEXT,                     -- CSV file it went into
  posted_at      TEXT                      -- when the ERP webhook took it
);
CREATE INDEX watch_outbox_pending ON watch_outbox (exported_to, posted_at);

-- Values watch's own writes set, recorded before each call: the webhook carrying one back is its echo,
-- not a sale, even when it arrives after a restart.
CREATE TABLE watch_echoes (
  inventory_item_id  TEXT    NOT NULL,
  location_id        TEXT    NOT NULL,
  value              INTEGER NOT NULL,
  until_ms           INTEGER NOT NULL,
  PRIMARY KEY (inventory_item_id, location_id, value)
) WITHOUT ROWID;
