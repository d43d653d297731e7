-- SQLite part of 0010 (see 0010_review_anchors.sql): SQLite has no statement triggers, so
-- the counter moves once per changed row.

CREATE TRIGGER discrepancy_changes_insert AFTER INSERT ON discrepancies BEGIN
    INSERT INTO discrepancy_changes (account, version) VALUES (new.account, 1)
    ON CONFLICT (account) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER discrepancy_changes_update AFTER UPDATE ON discrepancies BEGIN
    INSERT INTO discrepancy_changes (account, version) VALUES (new.account, 1)
    ON CONFLICT (account) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER discrepancy_changes_delete AFTER DELETE ON discrepancies BEGIN
    INSERT INTO discrepancy_changes (account, version) VALUES (old.account, 1)
    ON CONFLICT (account) DO UPDATE SET version = version + 1;
END;
