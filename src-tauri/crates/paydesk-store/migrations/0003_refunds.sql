-- Refunds (owned by the refunds work; placeholder until it lands).
CREATE TABLE refund_placeholder (id {{ID_PK}})
