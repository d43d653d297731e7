-- Settlement reconciliation (资金对账, issue 18): bank statements, the providers' balance
-- movements and payouts, and the links between payouts and bank lines that a settlement run
-- books or suggests and a reviewer accepts or rejects.

-- One statement of a bank file (a camt.053 or MT940 file may hold several). A file is
-- imported once: its content hash is the idempotency key.
CREATE TABLE bank_statements (
    id {{ID_PK}},
    bank_account TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    position BIGINT NOT NULL,
    format TEXT NOT NULL,
    statement_ref TEXT NULL,
    account_ref TEXT NULL,
    currency TEXT NOT NULL,
    opening_date TEXT NULL,
    opening_amount BIGINT NULL,
    closing_date TEXT NULL,
    closing_amount BIGINT NULL,
    line_count BIGINT NOT NULL,
    -- Σ of the statement's lines as parsed (before overlap with earlier files is removed):
    -- opening + line_sum = closing is the statement's own roll-forward.
    line_sum BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL
);
CREATE UNIQUE INDEX bank_statements_content ON bank_statements (bank_account, content_sha256, position);

-- A bank line. line_key hashes its content (and its occurrence among identical lines of its
-- file), so overlapping statements (a day exported twice, a month after its days) do not
-- book a line twice.
CREATE TABLE bank_lines (
    id {{ID_PK}},
    statement_id BIGINT NOT NULL REFERENCES bank_statements (id),
    bank_account TEXT NOT NULL,
    line_key TEXT NOT NULL,
    booking_date TEXT NOT NULL,
    value_date TEXT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    counterparty TEXT NULL,
    refs TEXT NOT NULL,
    text TEXT NOT NULL,
    line_no BIGINT NOT NULL
);
CREATE UNIQUE INDEX bank_lines_key ON bank_lines (bank_account, line_key);
CREATE INDEX bank_lines_day ON bank_lines (bank_account, booking_date);

-- A movement on a provider balance (Alipay 账务明细, WeChat 资金账单, Stripe balance
-- transaction), unique by its flow id in its account.
CREATE TABLE fund_flows (
    id {{ID_PK}},
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    source_id TEXT NULL,
    order_no TEXT NULL,
    payout_id TEXT NULL,
    kind TEXT NOT NULL,
    booked_at BIGINT NOT NULL,
    currency TEXT NOT NULL,
    gross BIGINT NOT NULL,
    fee BIGINT NOT NULL,
    net BIGINT NOT NULL,
    balance_after BIGINT NULL,
    description TEXT NOT NULL,
    file_name TEXT NOT NULL,
    line_no BIGINT NOT NULL
);
CREATE UNIQUE INDEX fund_flows_id ON fund_flows (account, flow_id);
CREATE INDEX fund_flows_payout ON fund_flows (account, payout_id);
CREATE INDEX fund_flows_time ON fund_flows (account, booked_at);
CREATE INDEX fund_flows_order ON fund_flows (order_no);

-- A payout (Stripe po_, Alipay/WeChat 提现). Its status can change (paid, later failed):
-- a newer download updates it.
CREATE TABLE payouts (
    id {{ID_PK}},
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    payout_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    arrival_date TEXT NOT NULL,
    trace_id TEXT NULL,
    automatic BIGINT NOT NULL,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX payouts_id ON payouts (account, payout_id);
CREATE INDEX payouts_arrival ON payouts (arrival_date);

-- One settlement run over a bank account as of a day.
CREATE TABLE settlement_runs (
    id {{ID_PK}},
    bank_account TEXT NOT NULL,
    as_of TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    summary TEXT NOT NULL
);

-- Payouts and bank lines that explain each other. state: booked (by the run), suggested
-- (waiting for a reviewer), accepted, rejected. A run replaces the booked and suggested links
-- of its bank account; accepted and rejected ones stand. link_key names the items
-- ("p1,p2|b7"), so a decision survives re-runs.
CREATE TABLE settlement_links (
    id {{ID_PK}},
    bank_account TEXT NOT NULL,
    link_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    confidence BIGINT NOT NULL,
    state TEXT NOT NULL,
    currency TEXT NOT NULL,
    payout_total BIGINT NOT NULL,
    bank_total BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_by TEXT NULL,
    decided_at BIGINT NULL,
    note TEXT NULL
);
CREATE UNIQUE INDEX settlement_links_key ON settlement_links (bank_account, link_key);
CREATE INDEX settlement_links_state ON settlement_links (bank_account, state);

CREATE TABLE settlement_link_items (
    link_id BIGINT NOT NULL REFERENCES settlement_links (id),
    payout_id BIGINT NULL REFERENCES payouts (id),
    bank_line_id BIGINT NULL REFERENCES bank_lines (id)
);
CREATE INDEX settlement_link_items_link ON settlement_link_items (link_id);
CREATE INDEX settlement_link_items_payout ON settlement_link_items (payout_id);
CREATE INDEX settlement_link_items_bank ON settlement_link_items (bank_line_id);

-- What does not agree (classes of paydesk_core::settlement::SettleClass). A run replaces
-- the findings of its bank account.
CREATE TABLE settlement_findings (
    id {{ID_PK}},
    run_id BIGINT NOT NULL,
    bank_account TEXT NOT NULL,
    class TEXT NOT NULL,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    expected BIGINT NULL,
    actual BIGINT NULL,
    detail TEXT NOT NULL,
    payout_ids TEXT NOT NULL,
    bank_line_ids TEXT NOT NULL
);
CREATE INDEX settlement_findings_account ON settlement_findings (bank_account, class);
