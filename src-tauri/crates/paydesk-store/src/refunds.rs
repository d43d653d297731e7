//! Refund requests, approvals and execution records (being written).
