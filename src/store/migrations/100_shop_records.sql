-- The installs' record of applied plans (the shop metafield $app:invrecon.applies) as this install last
-- read or wrote it, one row per shop: the apply's claim writes from it with compare-and-swap in one call
-- (a stale copy is refused by Shopify and the record read again). It replaces shop-record.json.
CREATE TABLE shop_records (
  shop         TEXT PRIMARY KEY,  -- the shop's domain (shopify.shop)
  shop_id      TEXT NOT NULL,     -- its GID: the metafield's owner
  value        TEXT,              -- the metafield's JSON; NULL: the shop had no record
  digest       TEXT,              -- its compareDigest; NULL with value NULL
  source       TEXT NOT NULL CHECK (source IN ('read', 'written')),
  at           TEXT NOT NULL
);
