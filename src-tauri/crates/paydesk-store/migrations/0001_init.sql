-- Paydesk app database, version 1.
-- Portable SQL for SQLite and PostgreSQL. Placeholders substituted per backend by the
-- migration runner: {{ID_PK}} (auto id primary key), {{WITHOUT_ROWID}} (SQLite table option).
-- Times: BIGINT unix milliseconds UTC. Money: BIGINT minor units (fees: thousandths of a
-- minor unit). Booleans: BIGINT 0/1. Dates: TEXT YYYY-MM-DD. Enums: TEXT snake_case words.

CREATE TABLE statements (
    id {{ID_PK}},
    account TEXT NOT NULL,
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    line_count BIGINT NOT NULL,
    superseded_by BIGINT NULL REFERENCES statements (id)
);

CREATE INDEX statements_by_day ON statements (account, bill_date, id);

-- One row per (account, day) that has a statement: serializes concurrent imports of the same
-- day (the upsert takes a row lock on PostgreSQL) and points at the current statement.
CREATE TABLE statement_heads (
    account TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    current_id BIGINT NULL REFERENCES statements (id),
    touched_at BIGINT NOT NULL,
    PRIMARY KEY (account, bill_date)
);

-- NULL in provider / account / source_file means "the same as the statement's".
CREATE TABLE statement_lines (
    statement_id BIGINT NOT NULL REFERENCES statements (id),
    seq BIGINT NOT NULL,
    provider TEXT NULL,
    account TEXT NULL,
    provider_txn_id TEXT NOT NULL,
    merchant_order_no TEXT NULL,
    kind TEXT NOT NULL,
    gross BIGINT NOT NULL,
    fee_milli BIGINT NOT NULL,
    net BIGINT NOT NULL,
    currency TEXT NOT NULL,
    provider_time BIGINT NOT NULL,
    provider_refund_id TEXT NULL,
    merchant_refund_no TEXT NULL,
    provider_status TEXT NOT NULL,
    source_file TEXT NULL,
    source_line BIGINT NOT NULL,
    PRIMARY KEY (statement_id, seq)
){{WITHOUT_ROWID}};

CREATE TABLE run_locks (
    account TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    holder TEXT NOT NULL,
    token TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (account, bill_date)
);

CREATE TABLE runs (
    id {{ID_PK}},
    account TEXT NOT NULL,
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    statement_id BIGINT NOT NULL REFERENCES statements (id),
    statement_sha256 TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    counts_json TEXT NOT NULL,
    totals_json TEXT NOT NULL
);

CREATE INDEX runs_by_day ON runs (account, bill_date, id);

CREATE TABLE run_outcomes (
    run_id BIGINT NOT NULL REFERENCES runs (id),
    seq BIGINT NOT NULL,
    class TEXT NOT NULL,
    rule TEXT NOT NULL,
    line_no BIGINT NULL,
    provider_txn_id TEXT NULL,
    order_no TEXT NULL,
    refund_no TEXT NULL,
    discrepancy_key TEXT NULL,
    PRIMARY KEY (run_id, seq)
){{WITHOUT_ROWID}};

-- auto_closed: 'gone' when a later run no longer found it and Paydesk resolved it;
-- 'carry_over' when the next day's statement closed a timing difference; NULL otherwise.
CREATE TABLE discrepancies (
    id {{ID_PK}},
    account TEXT NOT NULL,
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    dkey TEXT NOT NULL,
    class TEXT NOT NULL,
    rule TEXT NOT NULL,
    order_no TEXT NULL,
    provider_txn_id TEXT NULL,
    refund_no TEXT NULL,
    currency TEXT NOT NULL,
    provider_amount BIGINT NULL,
    local_amount BIGINT NULL,
    difference BIGINT NOT NULL,
    abs_difference BIGINT NOT NULL,
    provider_currency TEXT NULL,
    local_currency TEXT NULL,
    provider_time BIGINT NULL,
    local_time BIGINT NULL,
    evidence_file TEXT NULL,
    evidence_line BIGINT NULL,
    explanation TEXT NOT NULL,
    state TEXT NOT NULL,
    resolution TEXT NULL,
    note TEXT NULL,
    assignee TEXT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_run_id BIGINT NOT NULL REFERENCES runs (id),
    last_run_id BIGINT NOT NULL REFERENCES runs (id),
    present BIGINT NOT NULL,
    auto_closed TEXT NULL,
    UNIQUE (account, bill_date, dkey)
);

CREATE INDEX discrepancies_by_date ON discrepancies (bill_date, id);
CREATE INDEX discrepancies_by_due ON discrepancies (due_at, id);
CREATE INDEX discrepancies_by_amount ON discrepancies (abs_difference, id);
CREATE INDEX discrepancies_by_state ON discrepancies (state, bill_date);
CREATE INDEX discrepancies_by_class ON discrepancies (class, bill_date);
CREATE INDEX discrepancies_by_run ON discrepancies (last_run_id);
CREATE INDEX discrepancies_by_assignee ON discrepancies (assignee);

CREATE TABLE discrepancy_history (
    id {{ID_PK}},
    discrepancy_id BIGINT NOT NULL REFERENCES discrepancies (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT NULL,
    new_value TEXT NULL
);

CREATE INDEX discrepancy_history_by_discrepancy ON discrepancy_history (discrepancy_id, id);
