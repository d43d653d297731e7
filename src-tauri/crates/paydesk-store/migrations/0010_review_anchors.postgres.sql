-- PostgreSQL part of 0010 (see 0010_review_anchors.sql): once per statement and account.

CREATE FUNCTION paydesk_discrepancy_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO discrepancy_changes (account, version)
        SELECT DISTINCT account, 1 FROM old_rows ORDER BY account
        ON CONFLICT (account) DO UPDATE SET version = discrepancy_changes.version + 1;
    ELSE
        INSERT INTO discrepancy_changes (account, version)
        SELECT DISTINCT account, 1 FROM new_rows ORDER BY account
        ON CONFLICT (account) DO UPDATE SET version = discrepancy_changes.version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER discrepancy_changes_insert AFTER INSERT ON discrepancies
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_changes();

CREATE TRIGGER discrepancy_changes_update AFTER UPDATE ON discrepancies
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_changes();

CREATE TRIGGER discrepancy_changes_delete AFTER DELETE ON discrepancies
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_changes();
