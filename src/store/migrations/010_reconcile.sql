-- reconcile joins Shopify levels to ERP rows by (SKU, location).
CREATE INDEX shopify_levels_sku ON shopify_levels (snapshot_id, sku, location_id);

-- The last reconciled value of each level, the base that hybrid authority merges deltas onto.
-- Written when an apply finishes: the ERP's available then, and Shopify's available after the apply.
CREATE TABLE reconciled_levels (
  sku                  TEXT    NOT NULL,
  location_id          TEXT    NOT NULL,
  erp_available        INTEGER NOT NULL,
  shopify_available    INTEGER NOT NULL,
  erp_snapshot_id      INTEGER,
  shopify_snapshot_id  INTEGER,
  plan_digest          TEXT,
  reconciled_at        TEXT    NOT NULL,
  PRIMARY KEY (sku, location_id)
) WITHOUT ROWID;
