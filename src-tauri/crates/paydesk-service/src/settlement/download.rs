//! Fund flows downloaded from an account's provider (Alipay 账务明细, WeChat 资金账单,
//! Stripe payouts and their balance transactions), verified by the adapter like the trade
//! statement and saved like an imported file.

use super::{save_flows, FundFlowImportReport};
use crate::connect::SandboxHistory;
use crate::context::auth::require;
use crate::context::config::Account;
use crate::context::workspace::Workspace;
use crate::ServiceError;
use chrono::NaiveDate;
use paydesk_core::{Actor, BillDate, Permission};
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_providers::error::ErrorKind;
use paydesk_store::settlement::PayoutOrigin;

/// Days of history an in-process sandbox is started with for one download: the day and the
/// days before it, so its payouts (T+1) and running balances have their past.
const SANDBOX_DAYS: u64 = 7;

/// Downloads the fund flows of `date` for provider account `account` through its endpoint
/// (with the credentials `connect` picks) and saves them. A day without movements saves
/// nothing and says so (`layout` "none").
pub async fn download_fund_flows(
    w: &Workspace,
    actor: &Actor,
    account: &str,
    date: NaiveDate,
) -> Result<FundFlowImportReport, ServiceError> {
    let acc = find_account(w, account)?;
    require(
        &w.db,
        actor,
        Permission::ReconcileRun,
        &format!("account {}", acc.name),
    )
    .await?;
    let days: Vec<BillDate> = (0..SANDBOX_DAYS)
        .filter_map(|back| date.checked_sub_days(chrono::Days::new(back)))
        .map(BillDate)
        .collect();
    let conn = crate::connect::open(w, actor, acc, SandboxHistory::Days(&days)).await?;
    let result = download_fund_flows_with(w, actor, conn.adapter.as_ref(), acc, date).await;
    conn.close().await;
    result
}

/// [`download_fund_flows`] through an adapter the caller holds (the demo's one sandbox for
/// every day). Checks the permission itself.
pub async fn download_fund_flows_with(
    w: &Workspace,
    actor: &Actor,
    adapter: &dyn ProviderAdapter,
    account: &Account,
    date: NaiveDate,
) -> Result<FundFlowImportReport, ServiceError> {
    let target = format!("account {}", account.name);
    require(&w.db, actor, Permission::ReconcileRun, &target).await?;
    if adapter.provider() != account.provider {
        return Err(ServiceError::BadInput(format!(
            "account {} is a {} account, the adapter speaks {}",
            account.name,
            account.provider,
            adapter.provider()
        )));
    }
    let downloaded = match adapter.download_fund_flows(&account.name, date).await {
        Ok(d) => d,
        // No movement that day: an answer, not a failure.
        Err(e) if e.kind == ErrorKind::NoStatement => {
            return Ok(FundFlowImportReport {
                account: account.name.clone(),
                file: String::new(),
                layout: "none".to_string(),
                flows: 0,
                new_flows: 0,
                known_flows: 0,
                payouts: 0,
                summary_checked: false,
            })
        }
        Err(e) => {
            return Err(ServiceError::provider_said(
                &e,
                format!("account {} fund flows of {date}: {e}", account.name),
            ))
        }
    };
    let layout = serde_json::to_value(downloaded.layout)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    save_flows(
        w,
        actor,
        &account.name,
        &downloaded.file_name,
        &layout,
        // Every download states its payouts: the 提现 rows, Stripe's payout objects.
        (&downloaded.flows, &downloaded.payouts, PayoutOrigin::Stated),
        downloaded.summary_checked,
    )
    .await
}

fn find_account<'w>(w: &'w Workspace, name: &str) -> Result<&'w Account, ServiceError> {
    w.config
        .accounts
        .iter()
        .find(|a| a.name == name.trim())
        .ok_or_else(|| ServiceError::BadInput(format!("no account {name:?} in paydesk.toml")))
}
