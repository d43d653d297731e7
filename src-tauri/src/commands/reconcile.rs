//! Starting, cancelling and listing reconciliation runs; the dashboard.

use crate::batch::{self, RunBatch};
use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::BillDate;
use paydesk_service::dashboard::Dashboard;
use paydesk_store::RunRecord;
use tauri::{AppHandle, Runtime, State};

#[tauri::command]
pub async fn start_reconcile<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DesktopState>,
    accounts: Option<Vec<String>>,
    date: Option<String>,
) -> CmdResult<RunBatch> {
    let (_, actor) = state.actor().await?;
    let date = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => state.yesterday(),
        Some(d) => BillDate::parse(d).map_err(|e| AppError::bad_input(format!("date: {e}")))?,
    };
    let accounts = batch::resolve_accounts(&state, accounts)?;
    batch::run_batch(&state, &app, &actor, accounts, date, "manual").await
}

#[tauri::command]
pub async fn cancel_reconcile(state: State<'_, DesktopState>) -> CmdResult<bool> {
    // Only someone who may run reconciliations may stop one.
    let (w, actor) = state.actor().await?;
    paydesk_service::context::auth::require(
        &w.db,
        &actor,
        paydesk_core::Permission::ReconcileRun,
        "reconciliation",
    )
    .await?;
    Ok(state.cancel_batch())
}

#[tauri::command]
pub async fn runs(
    state: State<'_, DesktopState>,
    account: Option<String>,
) -> CmdResult<Vec<RunRecord>> {
    let (w, actor) = state.actor().await?;
    Ok(paydesk_service::reconcile::runs(&w, &actor, account.as_deref()).await?)
}

#[tauri::command]
pub async fn dashboard(state: State<'_, DesktopState>, days: Option<u32>) -> CmdResult<Dashboard> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault_if_unlocked().await;
    Ok(paydesk_service::dashboard::dashboard(
        &w,
        &actor,
        state.yesterday(),
        days.unwrap_or(30),
        vault.as_deref(),
    )
    .await?)
}
