-- The command holding a lock (sync, apply, watch), so a taker that finds it held can say who holds it.
-- NULL for a lock taken before this column (said as "another process").
ALTER TABLE locks ADD COLUMN command TEXT;
