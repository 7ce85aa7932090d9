-- Outcomes told as they are: a level change learnt from Shopify's answer is 'applied'; one whose answer was
-- lost and that a re-read found at its target is 'confirmed'; one whose answer was lost and whose level is
-- elsewhere is 'unknown' (Shopify may have applied it: a later plan must not take it for a sale).
ALTER TABLE audit_changes ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied';
CREATE INDEX audit_changes_level ON audit_changes (inventory_item_id, location_id, at);

-- Real-store hygiene: untracked items and inactive locations are kept in the snapshot but left out of plans.
ALTER TABLE shopify_items ADD COLUMN tracked INTEGER NOT NULL DEFAULT 1;
ALTER TABLE shopify_locations ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1;
