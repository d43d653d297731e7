-- SQLite part of 0008 (see 0008_review_paging.sql).

-- Text search (order no, provider txn id, refund no; substring, case-insensitive): a trigram
-- index (with positions: a needle is a phrase of its trigrams) whose candidates the exact LIKE
-- then checks.
CREATE VIRTUAL TABLE discrepancy_text USING fts5 (
    order_no, provider_txn_id, refund_no,
    content = 'discrepancies', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 0'
);

INSERT INTO discrepancy_text (discrepancy_text) VALUES ('rebuild');

CREATE TRIGGER discrepancy_text_insert AFTER INSERT ON discrepancies BEGIN
    INSERT INTO discrepancy_text (rowid, order_no, provider_txn_id, refund_no)
    VALUES (new.id, new.order_no, new.provider_txn_id, new.refund_no);
END;

CREATE TRIGGER discrepancy_text_delete AFTER DELETE ON discrepancies BEGIN
    INSERT INTO discrepancy_text (discrepancy_text, rowid, order_no, provider_txn_id, refund_no)
    VALUES ('delete', old.id, old.order_no, old.provider_txn_id, old.refund_no);
END;

CREATE TRIGGER discrepancy_text_update AFTER UPDATE OF order_no, provider_txn_id, refund_no ON discrepancies BEGIN
    INSERT INTO discrepancy_text (discrepancy_text, rowid, order_no, provider_txn_id, refund_no)
    VALUES ('delete', old.id, old.order_no, old.provider_txn_id, old.refund_no);
    INSERT INTO discrepancy_text (rowid, order_no, provider_txn_id, refund_no)
    VALUES (new.id, new.order_no, new.provider_txn_id, new.refund_no);
END;

CREATE TRIGGER discrepancy_counts_insert AFTER INSERT ON discrepancies BEGIN
    INSERT INTO discrepancy_counts (account, provider, bill_date, class, state, present, n)
    VALUES (new.account, new.provider, new.bill_date, new.class, new.state, new.present, 1)
    ON CONFLICT (account, provider, bill_date, class, state, present) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER discrepancy_counts_delete AFTER DELETE ON discrepancies BEGIN
    UPDATE discrepancy_counts SET n = n - 1
    WHERE account = old.account AND provider = old.provider AND bill_date = old.bill_date
      AND class = old.class AND state = old.state AND present = old.present;
END;

CREATE TRIGGER discrepancy_counts_update AFTER UPDATE OF account, provider, bill_date, class, state, present ON discrepancies
WHEN old.account IS NOT new.account OR old.provider IS NOT new.provider
  OR old.bill_date IS NOT new.bill_date OR old.class IS NOT new.class
  OR old.state IS NOT new.state OR old.present IS NOT new.present
BEGIN
    UPDATE discrepancy_counts SET n = n - 1
    WHERE account = old.account AND provider = old.provider AND bill_date = old.bill_date
      AND class = old.class AND state = old.state AND present = old.present;
    INSERT INTO discrepancy_counts (account, provider, bill_date, class, state, present, n)
    VALUES (new.account, new.provider, new.bill_date, new.class, new.state, new.present, 1)
    ON CONFLICT (account, provider, bill_date, class, state, present) DO UPDATE SET n = n + 1;
END;
