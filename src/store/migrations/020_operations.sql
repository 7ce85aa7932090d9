-- Operations (sync, status, report): the run a lock belongs to, so a takeover can close that run,
-- and an index for "the last N syncs".
ALTER TABLE locks ADD COLUMN run_id INTEGER;
CREATE INDEX runs_command ON runs (command, id);
