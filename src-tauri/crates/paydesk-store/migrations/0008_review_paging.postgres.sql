-- PostgreSQL part of 0008 (see 0008_review_paging.sql).

-- discrepancy_counts follows every statement on discrepancies, one grouped update per
-- statement (transition tables), not one per row.
CREATE FUNCTION paydesk_discrepancy_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        UPDATE discrepancy_counts c SET n = c.n - o.n
        FROM (SELECT account, provider, bill_date, class, state, present, COUNT(*) AS n
              FROM old_rows GROUP BY account, provider, bill_date, class, state, present) o
        WHERE c.account = o.account AND c.provider = o.provider AND c.bill_date = o.bill_date
          AND c.class = o.class AND c.state = o.state AND c.present = o.present;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
        INSERT INTO discrepancy_counts (account, provider, bill_date, class, state, present, n)
        SELECT account, provider, bill_date, class, state, present, COUNT(*)
        FROM new_rows GROUP BY account, provider, bill_date, class, state, present
        ORDER BY account, provider, bill_date, class, state, present
        ON CONFLICT (account, provider, bill_date, class, state, present)
        DO UPDATE SET n = discrepancy_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER discrepancy_counts_insert AFTER INSERT ON discrepancies
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_counts();

CREATE TRIGGER discrepancy_counts_update AFTER UPDATE ON discrepancies
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_counts();

CREATE TRIGGER discrepancy_counts_delete AFTER DELETE ON discrepancies
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_discrepancy_counts();

-- Text search: trigram indexes on the lowercased columns, which the search's
-- LOWER(column) LIKE '%needle%' uses as they are (ASCII needles; others scan). Without the
-- pg_trgm extension (not installed, or no right to create it) the search scans instead.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX discrepancies_text_order_no ON discrepancies USING gin (LOWER(order_no) gin_trgm_ops);
    CREATE INDEX discrepancies_text_provider_txn_id ON discrepancies USING gin (LOWER(provider_txn_id) gin_trgm_ops);
    CREATE INDEX discrepancies_text_refund_no ON discrepancies USING gin (LOWER(refund_no) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'no trigram index for discrepancy text search: %', SQLERRM;
END
$$;
