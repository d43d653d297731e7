-- A change counter for the review table (issue 15): every statement that inserts, updates
-- or deletes discrepancies bumps its account's `version` (triggers in
-- 0010_review_anchors.sqlite.sql and 0010_review_anchors.postgres.sql). The sum only grows,
-- so the position anchors cached for deep jumps (AppDb::list_discrepancy_block) know they are
-- stale by reading it. One row per account, not one for all: runs of different accounts
-- saving at the same time do not queue on one row.
CREATE TABLE discrepancy_changes (
    account TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
