-- Who holds a run lock, so that a dead holder does not block the day until the lock expires:
-- the holder's host name, process id and that process's start time (Linux /proc/<pid>/stat
-- field 22, so a reused pid is not mistaken for the holder), and the holder's heartbeat
-- (refreshed every few seconds while the run lasts). NULL in rows written before this
-- migration: such a lock only expires.
ALTER TABLE run_locks ADD COLUMN host TEXT;
ALTER TABLE run_locks ADD COLUMN pid BIGINT;
ALTER TABLE run_locks ADD COLUMN pid_start TEXT;
ALTER TABLE run_locks ADD COLUMN heartbeat_at BIGINT
