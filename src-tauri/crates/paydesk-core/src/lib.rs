//! Paydesk's domain core: money, statement lines, orders, refunds, the matcher and the
//! permission table. It does no I/O and knows nothing of databases, HTTP or Tauri.

pub mod auth;
pub mod discrepancy;
pub mod domain;
pub mod matcher;
pub mod money;
pub mod names;
pub mod refund;
pub mod review;
pub mod settlement;
pub mod shared_str;

pub use auth::{Actor, Denied, Permission, Role};
pub use discrepancy::{MatchRule, OutcomeClass, ResolutionKind, ReviewState};
pub use domain::{
    BillDate, Id, LineKind, LocalRefund, Order, OrderStatus, Provider, RefundOrigin, SourceRef,
    StatementLine,
};
pub use matcher::{
    amount_at_stake, comparable, discrepancy_key, line_key_ordinals_of, local_key, match_day,
    with_ordinal, DiscrepancyDraft, FeeRule, MatchInput, MatchResult, MatchSettings, Outcome,
};
pub use money::{AmountUnit, Currency, Money, MoneyError};
pub use refund::RefundState;
pub use review::{DiscrepancyFilter, DiscrepancyRecord, HistoryEntry, ReviewChange};
pub use shared_str::{FewValues, SharedStr};
