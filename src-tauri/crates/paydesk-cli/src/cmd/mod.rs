//! The commands, one file per group, and what they share: the workspace argument, the
//! logged-in [`Session`], secret and plain input, progress on stderr.

pub mod audit;
#[cfg(feature = "demo")]
pub mod demo;
pub mod init;
pub mod keys;
pub mod reconcile;
pub mod refunds;
pub mod review;
pub mod settle;
pub mod users;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use paydesk_core::{Actor, BillDate};
use paydesk_service::context::progress::{Progress, Stage};
use paydesk_service::context::workspace::Workspace;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct WorkspaceArg {
    /// Workspace folder (holds paydesk.toml).
    #[arg(long, env = "PAYDESK_WORKSPACE", default_value = "paydesk-workspace")]
    pub workspace: PathBuf,
}

/// An open workspace and the user acting in it: what almost every command starts with.
pub struct Session {
    pub w: Workspace,
    pub actor: Actor,
}

impl Session {
    /// Opens the workspace and logs in (PAYDESK_USER / PAYDESK_PASSWORD, or prompts).
    pub async fn open(ws: &WorkspaceArg) -> Result<Session> {
        Session::login(Session::workspace(ws).await?).await
    }

    /// Opens the workspace only, for a command that checks its arguments before logging in.
    pub async fn workspace(ws: &WorkspaceArg) -> Result<Workspace> {
        Ok(Workspace::open(&ws.workspace).await?)
    }

    /// Logs in to an open workspace.
    pub async fn login(w: Workspace) -> Result<Session> {
        let user = plain_input("PAYDESK_USER", "Paydesk user: ")?;
        let password = secret_input("PAYDESK_PASSWORD", "Password: ")?;
        let session =
            paydesk_service::context::auth::login(&w.db, &user, &password, chrono::Utc::now())
                .await?;
        Ok(Session {
            w,
            actor: session.actor,
        })
    }
}

/// A secret from an environment variable, or typed at a prompt when a person is there.
pub fn secret_input(var: &str, prompt: &str) -> Result<String> {
    use std::io::IsTerminal;
    if let Ok(v) = std::env::var(var) {
        return Ok(v);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).context("reading the password");
    }
    Err(anyhow!("set {var} (no terminal to prompt on)"))
}

pub fn plain_input(var: &str, prompt: &str) -> Result<String> {
    use std::io::{IsTerminal, Write};
    if let Ok(v) = std::env::var(var) {
        return Ok(v);
    }
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the username")?;
        return Ok(line.trim().to_string());
    }
    Err(anyhow!("set {var} (no terminal to prompt on)"))
}

pub fn parse_date(s: &str) -> Result<BillDate> {
    BillDate::parse(s).map_err(|e| anyhow!("--date: {e}"))
}

/// Progress on stderr, one line per stage change.
pub struct StderrProgress {
    quiet: bool,
    last: std::sync::Mutex<Option<Stage>>,
}

impl Progress for StderrProgress {
    fn update(&self, stage: Stage, done: u64, total: Option<u64>) {
        if self.quiet {
            return;
        }
        let mut last = match self.last.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        let finished = total.is_some_and(|t| t == done);
        if *last != Some(stage) || finished {
            match total {
                Some(t) if finished => eprintln!("  {:<8} done ({t})", stage.as_str()),
                _ => eprintln!("  {:<8} ...", stage.as_str()),
            }
            *last = Some(stage);
        }
    }
}

impl StderrProgress {
    /// `quiet`: say nothing (the output is JSON).
    pub fn new(quiet: bool) -> StderrProgress {
        StderrProgress {
            quiet,
            last: Default::default(),
        }
    }
}
