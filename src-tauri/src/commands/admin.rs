//! Users and roles, the audit log, settings and the daily schedule.

use crate::commands::session::{app_info_of, AppInfo};
use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::Role;
use paydesk_service::context::auth;
use paydesk_service::context::settings::{self, ConnectionTest, SettingsView};
use paydesk_store::{AuditEntry, AuditFilter, AuditVerification, UserRecord};
use serde::Serialize;
use std::collections::BTreeSet;
use tauri::State;

fn role_set(roles: Vec<Role>) -> CmdResult<BTreeSet<Role>> {
    let set: BTreeSet<Role> = roles.into_iter().collect();
    if set.is_empty() {
        return Err(AppError::bad_input("roles: choose at least one role"));
    }
    Ok(set)
}

#[tauri::command]
pub async fn users(state: State<'_, DesktopState>) -> CmdResult<Vec<UserRecord>> {
    let (w, actor) = state.actor().await?;
    Ok(auth::list_users(&w.db, &actor).await?)
}

#[tauri::command]
pub async fn create_user(
    state: State<'_, DesktopState>,
    username: String,
    password: String,
    roles: Vec<Role>,
    display_name: Option<String>,
) -> CmdResult<UserRecord> {
    let (w, actor) = state.actor().await?;
    let username = username.trim().to_string();
    let display = display_name
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| username.clone());
    Ok(auth::create_user(
        &w.db,
        &actor,
        &username,
        &display,
        &password,
        role_set(roles)?,
    )
    .await?)
}

#[tauri::command]
pub async fn set_roles(
    state: State<'_, DesktopState>,
    username: String,
    roles: Vec<Role>,
) -> CmdResult<UserRecord> {
    let (w, actor) = state.actor().await?;
    Ok(auth::set_roles(&w.db, &actor, username.trim(), role_set(roles)?).await?)
}

#[tauri::command]
pub async fn set_disabled(
    state: State<'_, DesktopState>,
    username: String,
    disabled: bool,
) -> CmdResult<UserRecord> {
    let (w, actor) = state.actor().await?;
    Ok(auth::set_disabled(&w.db, &actor, username.trim(), disabled).await?)
}

#[tauri::command]
pub async fn reset_password(
    state: State<'_, DesktopState>,
    username: String,
    password: String,
) -> CmdResult<()> {
    let (w, actor) = state.actor().await?;
    Ok(auth::reset_password(&w.db, &actor, username.trim(), &password).await?)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AuditPage {
    pub total: u64,
    pub entries: Vec<AuditEntry>,
}

// Each filter is a named argument of the IPC call, as the other list commands take theirs.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn audit_entries(
    state: State<'_, DesktopState>,
    limit: Option<u32>,
    offset: Option<u64>,
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> CmdResult<AuditPage> {
    let (w, who) = state.actor().await?;
    auth::require(
        &w.db,
        &who,
        paydesk_core::Permission::AuditView,
        "audit log",
    )
    .await?;
    let filter = AuditFilter {
        actor: actor
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty()),
        action: action
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty()),
        target: target
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        // Days of the business timezone ([app] timezone), both included.
        from: day_bound("from", from, &w, false)?,
        until: day_bound("to", to, &w, true)?,
    };
    if let (Some(f), Some(u)) = (filter.from, filter.until) {
        if f >= u {
            return Err(AppError::bad_input(
                "to: the last day is before the first (from)",
            ));
        }
    }
    let (total, entries) =
        w.db.audit_page(
            &filter,
            limit.unwrap_or(100).clamp(1, 1000),
            offset.unwrap_or(0),
        )
        .await?;
    Ok(AuditPage { total, entries })
}

/// The start of `value`'s day (or of the day after it, for an inclusive end) in the
/// workspace's business timezone; `None` when not given.
fn day_bound(
    field: &str,
    value: Option<String>,
    w: &paydesk_service::context::workspace::Workspace,
    end: bool,
) -> CmdResult<Option<chrono::DateTime<chrono::Utc>>> {
    let Some(text) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let day = paydesk_core::BillDate::parse(&text)
        .map_err(|e| AppError::bad_input(format!("{field}: {e}")))?;
    let (start, next) = day.utc_bounds(w.config.timezone);
    Ok(Some(if end { next } else { start }))
}

#[tauri::command]
pub async fn audit_verify(state: State<'_, DesktopState>) -> CmdResult<AuditVerification> {
    let (w, actor) = state.actor().await?;
    Ok(paydesk_service::context::audit::verify(&w, &actor).await?)
}

#[tauri::command]
pub async fn settings(state: State<'_, DesktopState>) -> CmdResult<SettingsView> {
    let (w, actor) = state.actor().await?;
    let mut view = settings::view(&w, &actor).await?;
    view.schedule = state.schedule().map(|t| t.format("%H:%M").to_string());
    Ok(view)
}

#[tauri::command]
pub async fn test_connection(
    state: State<'_, DesktopState>,
    url: String,
) -> CmdResult<ConnectionTest> {
    let (w, actor) = state.actor().await?;
    Ok(settings::test_connection(&w, &actor, &url).await?)
}

#[tauri::command]
pub async fn save_schedule(
    state: State<'_, DesktopState>,
    time: Option<String>,
) -> CmdResult<AppInfo> {
    let (w, actor) = state.actor().await?;
    let config = settings::save_schedule(&w, &actor, time.as_deref()).await?;
    state.set_schedule(config.daily_run_at);
    Ok(app_info_of(&state))
}
