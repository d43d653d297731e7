-- The review table stays fast at any depth (issue 15). Portable part; the backend-specific
-- parts (text search index, keeping discrepancy_counts current) are in
-- 0008_review_paging.sqlite.sql and 0008_review_paging.postgres.sql, run after this file.
--
-- One index per sort the review table offers, led by the sort key and id (the order of the
-- list, ties broken by id) and followed by the columns the usual filters test, so that finding
-- the row at position N of a filtered, sorted list walks only the index, never the table
-- (AppDb::list_discrepancies). They replace the (key, id) indexes of 0001.

DROP INDEX discrepancies_by_date;
DROP INDEX discrepancies_by_due;
DROP INDEX discrepancies_by_amount;

CREATE INDEX discrepancies_page_date ON discrepancies (bill_date, id, present, state, class, account, provider);
CREATE INDEX discrepancies_page_due ON discrepancies (due_at, id, present, state, class, account, provider, bill_date);
CREATE INDEX discrepancies_page_amount ON discrepancies (abs_difference, id, present, state, class, account, provider, bill_date);
CREATE INDEX discrepancies_page_class ON discrepancies (class, id, present, state, account, provider, bill_date);
CREATE INDEX discrepancies_page_state ON discrepancies ((CASE state WHEN 'open' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END), id, present, state, class, account, provider, bill_date);

-- How many discrepancies each (account, provider, day, class, state, present) group has,
-- kept current by triggers on discrepancies: counting a filter on these columns sums a few
-- rows instead of walking a million.
CREATE TABLE discrepancy_counts (
    account TEXT NOT NULL,
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    class TEXT NOT NULL,
    state TEXT NOT NULL,
    present BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (account, provider, bill_date, class, state, present)
);

INSERT INTO discrepancy_counts (account, provider, bill_date, class, state, present, n)
SELECT account, provider, bill_date, class, state, present, COUNT(*)
FROM discrepancies GROUP BY account, provider, bill_date, class, state, present;
