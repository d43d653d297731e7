//! Discrepancies as stored and reviewed: the record read back from the app database and the
//! changes a reviewer makes to it.

use crate::discrepancy::{MatchRule, OutcomeClass, ResolutionKind, ReviewState};
use crate::domain::{BillDate, Provider};
use crate::money::Currency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A discrepancy as the app database holds it, with its review state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiscrepancyRecord {
    pub id: i64,
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    /// Stable identity within (account, bill_date), see `DiscrepancyDraft::key`.
    pub key: String,
    pub class: OutcomeClass,
    pub rule: MatchRule,
    pub order_no: Option<String>,
    pub provider_txn_id: Option<String>,
    pub refund_no: Option<String>,
    pub currency: Currency,
    pub provider_amount: Option<i64>,
    pub local_amount: Option<i64>,
    /// provider − local (minor units of `currency`); 0 when the two sides are in different
    /// currencies (see `provider_currency` / `local_currency`): not comparable, not equal.
    pub difference: i64,
    /// The currency of each side, when known: `provider_amount` is in `provider_currency`,
    /// `local_amount` in `local_currency`; `currency` is the provider's (else ours).
    pub provider_currency: Option<Currency>,
    pub local_currency: Option<Currency>,
    /// The money in question (minor units of `currency`): |difference|, or for a
    /// zero-difference discrepancy the amount on whichever side has one. See
    /// [`crate::amount_at_stake`].
    pub amount_at_stake: i64,
    pub provider_time: Option<DateTime<Utc>>,
    pub local_time: Option<DateTime<Utc>>,
    pub evidence_file: Option<String>,
    pub evidence_line: Option<u64>,
    pub explanation: String,
    /// The same in Chinese; `None` for a discrepancy saved before Paydesk wrote both.
    pub explanation_zh: Option<String>,
    pub state: ReviewState,
    pub resolution: Option<ResolutionKind>,
    pub note: Option<String>,
    pub assignee: Option<String>,
    /// When the discrepancy should be resolved by (SLA by amount and age).
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The run that first found it and the latest run that still found it.
    pub first_run_id: i64,
    pub last_run_id: i64,
    /// False once a later run of the same account and day no longer finds it.
    pub present: bool,
}

/// A reviewer's change to a discrepancy. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewChange {
    pub state: Option<ReviewState>,
    pub resolution: Option<ResolutionKind>,
    pub note: Option<String>,
    /// `Some(None)` clears the assignee.
    pub assignee: Option<Option<String>>,
}

impl ReviewChange {
    pub fn is_empty(&self) -> bool {
        self.state.is_none()
            && self.resolution.is_none()
            && self.note.is_none()
            && self.assignee.is_none()
    }

    /// Checks the change makes sense on its own: a resolution goes with the resolved state
    /// and vice versa; notes and assignees have sane lengths.
    pub fn validate(&self) -> Result<(), String> {
        if self.resolution.is_some() && self.state.is_some_and(|s| s != ReviewState::Resolved) {
            return Err("a resolution can only be set together with state resolved".into());
        }
        if self.state == Some(ReviewState::Resolved) && self.resolution.is_none() {
            return Err(
                "resolving needs a resolution kind (e.g. corrected_locally, written_off)".into(),
            );
        }
        if self.resolution == Some(ResolutionKind::AutoMatched) {
            return Err("auto_matched is set by Paydesk itself, not by a reviewer".into());
        }
        if self.note.as_ref().is_some_and(|n| n.chars().count() > 4000) {
            return Err("note is longer than 4000 characters".into());
        }
        if let Some(Some(a)) = &self.assignee {
            if a.trim().is_empty() || a.chars().count() > 100 {
                return Err("assignee must be 1 to 100 characters".into());
            }
        }
        Ok(())
    }
}

/// One entry of a discrepancy's history: who changed what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    pub discrepancy_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// e.g. "state", "resolution", "note", "assignee", "class", "presence".
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// What to list: every `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyFilter {
    pub account: Option<String>,
    pub provider: Option<Provider>,
    pub date_from: Option<BillDate>,
    pub date_to: Option<BillDate>,
    pub classes: Vec<OutcomeClass>,
    pub states: Vec<ReviewState>,
    pub assignee: Option<String>,
    /// Amount at stake at least this (minor units; see `crate::amount_at_stake`).
    pub min_abs_difference: Option<i64>,
    pub run_id: Option<i64>,
    /// Substring of order no, provider txn id or refund no.
    pub text: Option<String>,
    /// Include discrepancies that later runs no longer find (default: only present ones).
    pub include_gone: bool,
}
