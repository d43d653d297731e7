//! The daily run while the app is open: at `[app] daily_run_at` (business timezone) every
//! account is reconciled for yesterday, as the logged-in user, once a day. Days that were
//! already reconciled are left alone.

use crate::batch::{self, EventSink};
use crate::state::DesktopState;
use chrono::Utc;
use paydesk_core::{BillDate, Permission};
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};

pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let state = app.state::<DesktopState>();
            tick(&state, &app).await;
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
