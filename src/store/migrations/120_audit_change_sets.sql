-- Level changes are recorded one row per call (a set of levels), no longer one row per level: an apply of a
-- million changes wrote a million rows under three indexes, about a sixth of its CPU, and the commits that
-- carried those pages. The view keeps the per-level shape for readers and for ad hoc queries.
CREATE TABLE audit_change_sets (
  id          INTEGER PRIMARY KEY,
  at          TEXT    NOT NULL,
  plan_digest TEXT,
  -- JSON array of [sku, inventory_item_id, location_id, before, after, rule, outcome], in the call's order.
  levels      TEXT    NOT NULL
);
CREATE INDEX audit_change_sets_at ON audit_change_sets (at);

-- Each earlier row becomes a set of one, under its own id: order and content are kept.
INSERT INTO audit_change_sets (id, at, plan_digest, levels)
  SELECT id, at, plan_digest, json_array(json_array(sku, inventory_item_id, location_id, before, after, rule, outcome))
  FROM audit_changes ORDER BY id;
DROP TABLE audit_changes;

-- A level's id: its set's id, then its place in the set (a set holds at most 10,000 levels).
CREATE VIEW audit_changes AS
  SELECT s.id * 10000 + j.key AS id, s.at AS at, s.plan_digest AS plan_digest,
         j.value ->> 0 AS sku, j.value ->> 1 AS inventory_item_id, j.value ->> 2 AS location_id,
         j.value ->> 3 AS before, j.value ->> 4 AS after, j.value ->> 5 AS rule, j.value ->> 6 AS outcome
  FROM audit_change_sets s, json_each(s.levels) j;
