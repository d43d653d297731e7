//! What the app holds while it runs: the open workspace, who is logged in, the unlocked vault,
//! the running reconciliation batch and, for demo workspaces, the provider sandbox.

use crate::error::{AppError, CmdResult};
use chrono::{NaiveTime, Utc};
use paydesk_core::{Actor, BillDate};
use paydesk_service::context::config::Endpoint;
use paydesk_service::context::progress::CancelFlag;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::vault::Vault;
use paydesk_service::vault::WorkspaceVault;
use paydesk_service::{context::auth, ServiceError};
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct DesktopState {
    /// The workspace, or why it could not be opened (shown on the login screen).
    workspace: Result<Arc<Workspace>, String>,
    pub workspace_dir: PathBuf,
    /// The logged-in user's session token (the user is re-read from it on every command,
    /// so a disabled user or an expired session stops working at once).
    session: tokio::sync::Mutex<Option<SecretString>>,
    /// Cancellation of the reconciliation batch that is running, if one is.
    batch: Mutex<Option<Arc<CancelFlag>>>,
    batch_seq: AtomicU64,
    schedule: Mutex<Option<NaiveTime>>,
    /// The day the schedule last fired (business timezone), so it fires once a day.
    pub last_scheduled: Mutex<Option<BillDate>>,
    /// Demo workspaces talk to the built-in sandbox, which lives as long as the app.
    sandbox: Option<paydesk_sandbox::SandboxHandle>,
}

/// The workspace the app opens: `--workspace DIR`, else `PAYDESK_WORKSPACE`, else a demo
/// workspace in the user's data folder.
pub fn workspace_dir_from(args: &[String]) -> PathBuf {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--workspace" {
            if let Some(dir) = it.next() {
                return PathBuf::from(dir);
            }
        } else if let Some(dir) = a.strip_prefix("--workspace=") {
            return PathBuf::from(dir);
        }
    }
    if let Ok(dir) = std::env::var("PAYDESK_WORKSPACE") {
        if !dir.trim().is_empty() {
            return PathBuf::from(dir);
        }
    }
    let data = std::env::var("XDG_DATA_HOME")
        .ok()
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| Path::new(&h).join(".local/share"))
        })
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("paydesk").join("demo-workspace")
}

impl DesktopState {
    /// Opens `dir`; a new (missing or empty) folder becomes the demo workspace, and any other
    /// folder without `paydesk.toml` is refused (the demo never touches a real workspace:
    /// `demo::prepare`). Accounts on
    /// the in-process sandbox are pointed at one sandbox that lives as long as the app, so
    /// refunds and uploaded keys persist between calls.
    pub async fn open(dir: &Path) -> DesktopState {
        let mut sandbox = None;
        let workspace = match open_workspace(dir).await {
            Ok(mut w) => {
                match start_sandbox(&mut w).await {
                    Ok(handle) => sandbox = handle,
                    Err(e) => tracing::warn!("sandbox not started: {e}"),
                }
                Ok(Arc::new(w))
            }
            Err(e) => Err(e.to_string()),
        };
        let schedule = workspace.as_ref().ok().and_then(|w| w.config.daily_run_at);
        DesktopState {
            workspace,
            workspace_dir: dir.to_path_buf(),
            session: tokio::sync::Mutex::new(None),
            batch: Mutex::new(None),
            batch_seq: AtomicU64::new(0),
            schedule: Mutex::new(schedule),
            last_scheduled: Mutex::new(None),
            sandbox,
        }
    }

    pub fn workspace(&self) -> CmdResult<Arc<Workspace>> {
        self.workspace.clone().map_err(|e| {
            AppError::new(
                "config",
                format!(
                    "the workspace {} cannot be opened: {e}",
                    self.workspace_dir.display()
                ),
            )
        })
    }

    pub fn sandbox(&self) -> Option<&paydesk_sandbox::SandboxHandle> {
        self.sandbox.as_ref()
    }

    pub fn sandbox_url(&self) -> Option<&str> {
        self.sandbox.as_ref().map(|s| s.base_url.as_str())
    }

    /// The logged-in user, checked against the database now.
    pub async fn actor(&self) -> CmdResult<(Arc<Workspace>, Actor)> {
        let w = self.workspace()?;
        let token = self
            .session
            .lock()
            .await
            .clone()
            .ok_or_else(AppError::unauthenticated)?;
        let actor = auth::authenticate(&w.db, &token, auth::default_session_idle(), Utc::now())
            .await
            .map_err(AppError::from)?;
        Ok((w, actor))
    }

    pub async fn set_session(&self, token: Option<SecretString>) -> Option<SecretString> {
        let mut guard = self.session.lock().await;
        let old = guard.take();
        *guard = token;
        old
    }

    /// The vault unlocked in this app (kept by the workspace, so downloads and refunds use
    /// it too).
    pub async fn vault(&self) -> CmdResult<Arc<Vault>> {
        self.vault_if_unlocked()
            .await
            .ok_or_else(AppError::vault_locked)
    }

    pub async fn vault_if_unlocked(&self) -> Option<Arc<Vault>> {
        match &self.workspace {
            Ok(w) => w.unlocked_vault().await,
            Err(_) => None,
        }
    }

    pub async fn set_vault(&self, vault: Option<Vault>) {
        if let Ok(w) = &self.workspace {
            w.set_unlocked_vault(vault).await;
        }
    }

    /// Unlocks the vault with the master key the workspace names without asking anyone
    /// (`[vault] key_file`, `PAYDESK_VAULT_KEY_FILE`, `PAYDESK_VAULT_PASSPHRASE`), quietly:
    /// without one, an admin unlocks it on the Keys page.
    pub async fn unlock_vault_unattended(&self, w: &Workspace, actor: &Actor) {
        if let Err(e) = w.vault_for_calls(actor).await {
            tracing::warn!("vault not unlocked automatically: {e}");
        }
    }

    /// Claims the batch slot; `Busy` while another batch runs.
    pub fn begin_batch(&self) -> CmdResult<(u64, Arc<CancelFlag>)> {
        let mut slot = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(ServiceError::Busy(
                "a reconciliation is already running; wait for it or cancel it".into(),
            )
            .into());
        }
        let flag = Arc::new(CancelFlag::default());
        *slot = Some(flag.clone());
        Ok((self.batch_seq.fetch_add(1, Ordering::SeqCst) + 1, flag))
    }

    pub fn end_batch(&self) {
        *self.batch.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Asks the running batch to stop; false if none runs.
    pub fn cancel_batch(&self) -> bool {
        match self
            .batch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(flag) => {
                flag.cancel();
                true
            }
            None => false,
        }
    }

    pub fn schedule(&self) -> Option<NaiveTime> {
        *self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_schedule(&self, t: Option<NaiveTime>) {
        *self.schedule.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Yesterday in the workspace's business timezone: the day the morning run reconciles.
    pub fn yesterday(&self) -> BillDate {
        let tz = self
            .workspace
            .as_ref()
            .map(|w| w.config.timezone)
            .unwrap_or(chrono_tz::Asia::Shanghai);
        BillDate::of(Utc::now(), tz).pred()
    }
}

async fn open_workspace(dir: &Path) -> Result<Workspace, ServiceError> {
    if dir
        .join(paydesk_service::context::config::CONFIG_FILE)
        .is_file()
    {
        Workspace::open(dir).await
    } else {
        paydesk_service::demo::prepare(dir, paydesk_service::sandbox::history::default_demo_date())
            .await
    }
}

/// Starts the sandbox if an account uses it and points those accounts at it.
async fn start_sandbox(
    w: &mut Workspace,
) -> Result<Option<paydesk_sandbox::SandboxHandle>, ServiceError> {
    if !w
        .config
        .accounts
        .iter()
        .any(|a| a.endpoint == Endpoint::Sandbox)
    {
        return Ok(None);
    }
    let last = paydesk_service::sandbox::history::default_demo_date();
    let handle = paydesk_service::sandbox::start(w, 0, &[last.pred(), last]).await?;
    for account in &mut w.config.accounts {
        if account.endpoint == Endpoint::Sandbox {
            account.endpoint = Endpoint::SandboxAt(handle.base_url.clone());
        }
    }
    Ok(Some(handle))
}

#[cfg(test)]
mod tests {
    use super::workspace_dir_from;
    use std::path::PathBuf;

    /// The app on a folder without paydesk.toml that is not empty: no demo is made there
    /// (issue 16, point 1), the login screen says why, and the folder is left as it was.
    #[test]
    fn a_folder_with_other_files_does_not_become_a_demo() {
        let tmp = tempfile::tempdir().expect("tmp");
        std::fs::write(tmp.path().join("notes.txt"), "not a workspace").expect("notes");
        let state = tauri::async_runtime::block_on(super::DesktopState::open(tmp.path()));
        let err = state.workspace().err().expect("refused");
        let text = err.message;
        assert!(text.contains("is not empty"), "{text}");
        assert!(text.contains("new folder"), "{text}");
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["notes.txt"]);
    }

    #[test]
    fn workspace_argument_wins() {
        let args = vec![
            "paydesk-desktop".to_string(),
            "--workspace".into(),
            "/tmp/ws".into(),
        ];
        assert_eq!(workspace_dir_from(&args), PathBuf::from("/tmp/ws"));
        let args = vec!["paydesk-desktop".to_string(), "--workspace=/tmp/w2".into()];
        assert_eq!(workspace_dir_from(&args), PathBuf::from("/tmp/w2"));
    }
}
