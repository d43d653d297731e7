//! Who is logged in, and what the app is looking at.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use chrono::Utc;
use paydesk_core::{Actor, Permission, Provider, Role};
use paydesk_service::context::auth;
use paydesk_service::context::settings::endpoint_kind;
use serde::Serialize;
use tauri::State;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountInfo {
    pub name: String,
    pub provider: Provider,
    pub currency: String,
    #[cfg_attr(test, ts(type = "Endpoint"))]
    pub endpoint: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    pub workspace: String,
    pub version: &'static str,
    /// The accounts talk to the built-in sandbox (demo data, demo users).
    pub demo: bool,
    pub timezone: String,
    pub yesterday: String,
    pub accounts: Vec<AccountInfo>,
    pub schedule: Option<String>,
    /// Set when the workspace could not be opened: what is wrong and what to do.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Me {
    pub username: String,
    pub roles: Vec<Role>,
    pub permissions: Vec<Permission>,
}

impl Me {
    pub fn of(actor: &Actor) -> Me {
        Me {
            username: actor.username.clone(),
            roles: actor.roles.iter().copied().collect(),
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| actor.can(*p))
                .collect(),
        }
    }
}

pub fn app_info_of(state: &DesktopState) -> AppInfo {
    let yesterday = state.yesterday().to_string();
    match state.workspace() {
        Ok(w) => {
            let accounts: Vec<AccountInfo> = w
                .config
                .accounts
                .iter()
                .map(|a| AccountInfo {
                    name: a.name.clone(),
                    provider: a.provider,
                    currency: a.currency.code().to_string(),
                    endpoint: endpoint_kind(&a.endpoint),
                })
                .collect();
            AppInfo {
                workspace: w.dir.display().to_string(),
                version: env!("CARGO_PKG_VERSION"),
                demo: state.sandbox_url().is_some(),
                timezone: w.config.timezone.name().to_string(),
                yesterday,
                accounts,
                schedule: state.schedule().map(|t| t.format("%H:%M").to_string()),
                error: None,
            }
        }
        Err(e) => AppInfo {
            workspace: state.workspace_dir.display().to_string(),
            version: env!("CARGO_PKG_VERSION"),
            demo: false,
            timezone: String::new(),
            yesterday,
            accounts: Vec::new(),
            schedule: None,
            error: Some(e.message),
        },
    }
}

#[tauri::command]
pub fn app_info(state: State<'_, DesktopState>) -> AppInfo {
    app_info_of(&state)
}

#[tauri::command]
pub async fn login(
    state: State<'_, DesktopState>,
    username: String,
    password: String,
) -> CmdResult<Me> {
    let w = state.workspace()?;
    if username.trim().is_empty() || password.is_empty() {
        return Err(AppError::bad_input("enter your username and password"));
    }
    let session = auth::login(&w.db, username.trim(), &password, Utc::now()).await?;
    if let Some(old) = state.set_session(Some(session.token)).await {
        let _ = auth::logout(&w.db, &old).await;
    }
    state.set_vault(None).await;
    state.unlock_vault_unattended(&w, &session.actor).await;
    Ok(Me::of(&session.actor))
}

#[tauri::command]
pub async fn logout(state: State<'_, DesktopState>) -> CmdResult<()> {
    let old = state.set_session(None).await;
    state.set_vault(None).await;
    if let (Some(token), Ok(w)) = (old, state.workspace()) {
        auth::logout(&w.db, &token).await?;
    }
    Ok(())
}

/// The logged-in user, or `None` (not an error: the UI shows the login screen).
#[tauri::command]
pub async fn me(state: State<'_, DesktopState>) -> CmdResult<Option<Me>> {
    match state.actor().await {
        Ok((_, actor)) => Ok(Some(Me::of(&actor))),
        Err(e) if e.kind == "unauthenticated" => Ok(None),
        Err(e) => Err(e),
    }
}
