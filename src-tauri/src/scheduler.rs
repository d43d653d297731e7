//! The daily run while the app is open: at `[app] daily_run_at` (business timezone) every
//! account is reconciled for yesterday, as the logged-in user, once a day. Days that were
//! already reconciled are left alone. While the key vault is unlocked, WeChat Pay platform
//! certificates are downloaded whenever due (`[vault] certificate_refresh_hours`).

use crate::batch::{self, EventSink};
use crate::state::DesktopState;
use chrono::Utc;
use paydesk_core::{Actor, BillDate, Permission};
use paydesk_service::vault::{AccountCertificateCheck, CertificateCheck, WorkspaceVault};
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};

pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let state = app.state::<DesktopState>();
            tick(&state, &app).await;
            certificate_tick(&state).await;
        }
    });
}

/// One check of the schedule; returns whether a batch ran.
pub async fn tick(state: &DesktopState, sink: &dyn EventSink) -> bool {
    let Some(at) = state.schedule() else {
        return false;
    };
    let Ok(w) = state.workspace() else {
        return false;
    };
    let now = Utc::now().with_timezone(&w.config.timezone);
    if now.time() < at {
        return false;
    }
    let today = BillDate(now.date_naive());
    if *state
        .last_scheduled
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        == Some(today)
    {
        return false;
    }
    // Someone who may run reconciliations must be logged in.
    let Ok((_, actor)) = state.actor().await else {
        return false;
    };
    if !actor.can(Permission::ReconcileRun) {
        return false;
    }
    let date = today.pred();
    let mut pending = Vec::new();
    for account in &w.config.accounts {
        match w.db.runs(Some(&account.name), Some(date), 1).await {
            Ok(runs) if runs.is_empty() => pending.push(account.name.clone()),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("schedule: cannot read runs: {e}");
                return false;
            }
        }
    }
    if pending.is_empty() {
        *state
            .last_scheduled
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(today);
        return false;
    }
    match batch::run_batch(state, sink, &actor, pending, date, "schedule").await {
        Ok(_) => {
            *state
                .last_scheduled
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(today);
            true
        }
        // A manual run is going: try again at the next tick.
        Err(e) if e.kind == "busy" => false,
        Err(e) => {
            tracing::warn!("scheduled run failed: {e}");
            *state
                .last_scheduled
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(today);
            false
        }
    }
}

/// The scheduled download of WeChat Pay platform certificates, as Paydesk itself (audited as
/// `system`): only while the vault is unlocked in the app, only for accounts that are due.
/// A failure is recorded for the Keys page and the dashboard and retried later.
pub async fn certificate_tick(state: &DesktopState) -> Vec<AccountCertificateCheck> {
    let Ok(w) = state.workspace() else {
        return Vec::new();
    };
    let Some(vault) = w.unlocked_vault().await else {
        return Vec::new();
    };
    match paydesk_service::connect::certificates::refresh_due_certificates(
        &w,
        &vault,
        &Actor::system(),
        Utc::now(),
    )
    .await
    {
        Ok(checks) => {
            for c in &checks {
                match &c.check {
                    CertificateCheck::Failed { error } => {
                        tracing::warn!(account = %c.account, "platform certificate download failed: {error}")
                    }
                    CertificateCheck::Refreshed { added } => {
                        tracing::info!(account = %c.account, ?added, "platform certificates downloaded")
                    }
                    _ => {}
                }
            }
            checks
        }
        Err(e) => {
            tracing::warn!("scheduled certificate check: {e}");
            Vec::new()
        }
    }
}
