//! The morning overview: per account the last run and what is still open, a daily series of
//! discrepancies and unmatched amounts, and what needs a person today.

use crate::context::auth::require;
use crate::context::workspace::Workspace;
use crate::vault::Vault;
use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::{Actor, BillDate, DiscrepancyFilter, OutcomeClass, Permission, Provider};
use paydesk_core::{Currency, ReviewState};
use paydesk_store::{RefundState, RunRecord};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dashboard {
    pub accounts: Vec<AccountCard>,
    /// One point per day of the window, oldest first (days without discrepancies included).
    pub daily: Vec<DayPoint>,
    pub attention: Attention,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountCard {
    pub account: String,
    pub provider: Provider,
    pub currency: Currency,
    pub last_run: Option<RunRecord>,
    /// Open or investigating discrepancies of this account, any day.
    pub open: u64,
    /// Those open ones by class.
    pub counts: BTreeMap<OutcomeClass, u64>,
    /// What they put at stake per currency (minor units; see `paydesk_core::amount_at_stake`).
    pub open_amounts: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayPoint {
    pub date: BillDate,
    /// Discrepancies found for that bill date (still present), any review state.
    pub discrepancies: u64,
    /// Of those, not resolved yet.
    pub open: u64,
    /// Sum of the amounts at stake of that day's discrepancies per currency (minor units).
    pub unmatched: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attention {
    pub open_discrepancies: u64,
    pub overdue_discrepancies: u64,
    pub refunds_awaiting_approval: u64,
    pub refunds_needing_attention: u64,
    pub keys: Vec<KeyAttention>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyAttention {
    pub account: String,
    #[cfg_attr(feature = "ts", ts(type = "Purpose"))]
    pub purpose: String,
    pub version: Option<i64>,
    /// The warning's stable code (see `keys::KeyWarning`), for the UI's own wording.
    #[cfg_attr(feature = "ts", ts(type = "KeyWarningCode"))]
    pub code: &'static str,
    pub message: String,
    /// The certificate serial the warning is about, if any.
    pub serial: Option<String>,
    /// The warning's date: the expiry, or the last certificate download.
    pub at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// `sum + amount` of discrepancy amounts, or an error naming the account and currency when
/// the sum is beyond what Paydesk counts (never a wrapped sum).
fn add_amount(
    sum: i64,
    amount: i64,
    currency: paydesk_core::Currency,
    account: &str,
) -> Result<i64, ServiceError> {
    sum.checked_add(amount).ok_or_else(|| {
        ServiceError::BadInput(format!(
            "the discrepancy amounts of account {account} in {currency} add up to more than \
             {} (the largest amount Paydesk counts); check the account's discrepancies",
            paydesk_core::Money::new(i64::MAX, currency)
        ))
    })
}

/// The dashboard for the `days` bill dates ending with `last_day`. Key warnings need the
/// unlocked vault; without it they are left out.
pub async fn dashboard(
    w: &Workspace,
    actor: &Actor,
    last_day: BillDate,
    days: u32,
    vault: Option<&Vault>,
) -> Result<Dashboard, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyView, "dashboard").await?;
    let days = days.clamp(1, 366);
    let mut first_day = last_day;
    for _ in 1..days {
        first_day = first_day.pred();
    }

    let window =
        w.db.discrepancy_summary(&DiscrepancyFilter {
            date_from: Some(first_day),
            date_to: Some(last_day),
            ..Default::default()
        })
        .await?;
    let mut daily: BTreeMap<BillDate, DayPoint> = BTreeMap::new();
    let mut day = first_day;
    loop {
        daily.insert(
            day,
            DayPoint {
                date: day,
                discrepancies: 0,
                open: 0,
                unmatched: BTreeMap::new(),
            },
        );
        if day >= last_day {
            break;
        }
        day = day.succ();
    }
    for row in &window {
        if let Some(point) = daily.get_mut(&row.bill_date) {
            point.discrepancies += row.count;
            if row.state != ReviewState::Resolved {
                point.open += row.count;
            }
            let sum = point
                .unmatched
                .entry(row.currency.code().to_string())
                .or_insert(0);
            *sum = add_amount(*sum, row.abs_difference, row.currency, &row.account)?;
        }
    }

    let open =
        w.db.discrepancy_summary(&DiscrepancyFilter {
            states: vec![ReviewState::Open, ReviewState::Investigating],
            ..Default::default()
        })
        .await?;
    let mut attention = Attention::default();
    let mut accounts = Vec::new();
    for account in &w.config.accounts {
        let last_run = w.db.runs(Some(&account.name), None, 1).await?.pop();
        let mut card = AccountCard {
            account: account.name.clone(),
            provider: account.provider,
            currency: account.currency,
            last_run,
            open: 0,
            counts: BTreeMap::new(),
            open_amounts: BTreeMap::new(),
        };
        for row in open.iter().filter(|r| r.account == account.name) {
            card.open += row.count;
            *card.counts.entry(row.class).or_insert(0) += row.count;
            let sum = card
                .open_amounts
                .entry(row.currency.code().to_string())
                .or_insert(0);
            *sum = add_amount(*sum, row.abs_difference, row.currency, &row.account)?;
        }
        accounts.push(card);
    }
    for row in &open {
        attention.open_discrepancies += row.count;
        attention.overdue_discrepancies += row.overdue;
    }
    attention.refunds_awaiting_approval =
        w.db.refunds_in_states(&[RefundState::AwaitingApproval], 10_000)
            .await?
            .len() as u64;
    attention.refunds_needing_attention =
        w.db.refunds_in_states(&[RefundState::NeedsAttention], 10_000)
            .await?
            .len() as u64;
    if let Some(vault) = vault {
        if actor.can(Permission::KeyView) {
            for listing in vault.list(actor).await? {
                let active = listing
                    .versions
                    .iter()
                    .find(|v| v.state == paydesk_vault::VersionState::Active);
                for warning in &listing.warnings {
                    let expires_at = match warning.code {
                        "expires_soon" => warning.at,
                        _ => active.and_then(|v| v.info.not_after),
                    };
                    attention.keys.push(KeyAttention {
                        account: listing.account.clone(),
                        purpose: listing.purpose.to_string(),
                        version: warning.version.or(active.map(|v| v.version)),
                        code: warning.code,
                        message: warning.message.clone(),
                        serial: warning.serial.clone(),
                        at: warning.at,
                        expires_at,
                    });
                }
            }
        }
    }
    Ok(Dashboard {
        accounts,
        daily: daily.into_values().collect(),
        attention,
    })
}
