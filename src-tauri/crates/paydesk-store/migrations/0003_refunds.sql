-- Refunds issued through Paydesk: the per-order refund ledger that serializes concurrent
-- requests, the refund intents (each with its provider idempotency key, refund_no), and
-- every state transition with its time and actor.

-- One row per (provider, order): what was paid, what the order mirror says was refunded
-- outside Paydesk, and what Paydesk has reserved (refunds requested, in flight or done).
-- A refund is admitted only by a conditional UPDATE that keeps
-- paid - refunded_external - reserved >= 0, so two consoles cannot over-refund together.
CREATE TABLE refund_ledgers (
    provider TEXT NOT NULL,
    order_no TEXT NOT NULL,
    currency TEXT NOT NULL,
    paid BIGINT NOT NULL,
    refunded_external BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (provider, order_no)
);

-- A refund intent. refund_no is the provider idempotency key (Alipay out_request_no,
-- WeChat out_refund_no, Stripe Idempotency-Key and metadata refund_id); it is committed
-- before any provider call and never changes.
CREATE TABLE refunds (
    id {{ID_PK}},
    refund_no TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    order_no TEXT NOT NULL,
    provider_txn_id TEXT NULL,
    order_total BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- requested, awaiting_approval, sending, processing, succeeded, failed, needs_attention, rejected
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approval_reason TEXT NULL,
    decided_by TEXT NULL,
    decided_at BIGINT NULL,
    decision_note TEXT NULL,
    provider_refund_id TEXT NULL,
    provider_status TEXT NULL,
    failure_reason TEXT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    refunded_at BIGINT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX refunds_by_order ON refunds (provider, order_no);
CREATE INDEX refunds_by_state ON refunds (state);
CREATE INDEX refunds_by_refunded_at ON refunds (refunded_at);
CREATE INDEX refunds_by_requester ON refunds (requested_by, requested_at);

-- Every transition (and every provider attempt) of a refund, append-only.
CREATE TABLE refund_events (
    id {{ID_PK}},
    refund_id BIGINT NOT NULL REFERENCES refunds (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    from_state TEXT NULL,
    to_state TEXT NOT NULL,
    note TEXT NULL
);

CREATE INDEX refund_events_by_refund ON refund_events (refund_id, id)
