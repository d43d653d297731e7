-- The Chinese explanation of a discrepancy beside the English one (issue 17, point 3): the
-- matcher writes both, the UI and the reports pick by language. NULL for discrepancies saved
-- before; a re-run of their day fills it.
ALTER TABLE discrepancies ADD COLUMN explanation_zh TEXT;
