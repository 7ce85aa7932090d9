-- Real-store hygiene in watch: its live state knows untracked items and inactive locations, as snapshots
-- do (040), so the live recompute leaves their levels out as diff and plan do.
ALTER TABLE watch_shopify_locations ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE watch_shopify_items ADD COLUMN tracked INTEGER NOT NULL DEFAULT 1;
