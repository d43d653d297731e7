-- Settlement findings are reviewed like discrepancies (issue 18): a reviewer resolves one or
-- writes a note, and that survives re-runs, which replace the findings themselves. The
-- finding key names what a finding is about (class, day, currency, the payouts and bank lines
-- it names, or its detail when it names none), so a re-run that finds the same thing finds
-- its review.
ALTER TABLE settlement_findings ADD COLUMN finding_key TEXT NOT NULL DEFAULT '';

CREATE TABLE settlement_finding_reviews (
    bank_account TEXT NOT NULL,
    finding_key TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (bank_account, finding_key)
);
