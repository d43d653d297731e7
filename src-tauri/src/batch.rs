//! A reconciliation batch: several accounts for one day, one after the other, with progress
//! and cancellation reported as `run-event`s. Started by a person or by the daily schedule.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::{Actor, BillDate};
use paydesk_service::context::progress::{CancelFlag, Progress, Stage};
use paydesk_service::reconcile::{reconcile_account, DryRun, RunReport};
use paydesk_service::ServiceError;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::{Emitter, Runtime};

pub const RUN_EVENT: &str = "run-event";

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEvent {
    Started {
        batch: u64,
        accounts: Vec<String>,
        date: String,
        trigger: &'static str,
    },
    Stage {
        batch: u64,
        account: String,
        stage: Stage,
        done: u64,
        total: Option<u64>,
    },
    AccountDone {
        batch: u64,
        account: String,
        report: Box<RunReport>,
    },
    AccountFailed {
        batch: u64,
        account: String,
        message: String,
    },
    Finished {
        batch: u64,
        cancelled: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub account: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunBatch {
    pub reports: Vec<RunReport>,
    pub failures: Vec<Failure>,
    pub cancelled: bool,
}

/// Something that takes run events: the app window, or a test's collector.
pub trait EventSink: Send + Sync {
    fn send(&self, event: RunEvent);
}

impl<R: Runtime> EventSink for tauri::AppHandle<R> {
    fn send(&self, event: RunEvent) {
        if let Err(e) = self.emit(RUN_EVENT, &event) {
            tracing::warn!("run event not delivered: {e}");
        }
    }
}

/// Reports stage progress as events, at most every 100 ms per stage (a million-line parse
/// must not flood the window), and stops when the batch is cancelled.
struct EventProgress<'a> {
    sink: &'a dyn EventSink,
    batch: u64,
    account: String,
    cancel: Arc<CancelFlag>,
    last: Mutex<Option<(Stage, Instant)>>,
}

impl Progress for EventProgress<'_> {
    fn update(&self, stage: Stage, done: u64, total: Option<u64>) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let finished = total.is_some_and(|t| done >= t);
            if let Some((s, at)) = *last {
                if s == stage && !finished && now.duration_since(at) < Duration::from_millis(100) {
                    return;
                }
            }
            *last = Some((stage, now));
        }
        self.sink.send(RunEvent::Stage {
            batch: self.batch,
            account: self.account.clone(),
            stage,
            done,
            total,
        });
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }
}

/// Which accounts: the named ones (each must exist) or all.
pub fn resolve_accounts(
    state: &DesktopState,
    accounts: Option<Vec<String>>,
) -> CmdResult<Vec<String>> {
    let w = state.workspace()?;
    let all: Vec<String> = w.config.accounts.iter().map(|a| a.name.clone()).collect();
    match accounts {
        None => Ok(all),
        Some(list) if list.is_empty() => Ok(all),
        Some(list) => {
            for name in &list {
                if !all.contains(name) {
                    return Err(AppError::bad_input(format!(
                        "account {name:?} is not in this workspace (accounts: {})",
                        all.join(", ")
                    )));
                }
            }
            Ok(list)
        }
    }
}

/// Runs the batch to the end (or until cancelled). One batch at a time per app.
pub async fn run_batch(
    state: &DesktopState,
    sink: &dyn EventSink,
    actor: &Actor,
    accounts: Vec<String>,
    date: BillDate,
    trigger: &'static str,
) -> CmdResult<RunBatch> {
    let w = state.workspace()?;
    let (batch, cancel) = state.begin_batch()?;
    sink.send(RunEvent::Started {
        batch,
        accounts: accounts.clone(),
        date: date.to_string(),
        trigger,
    });
    let mut out = RunBatch {
        reports: Vec::new(),
        failures: Vec::new(),
        cancelled: false,
    };
    for account in accounts {
        if cancel.is_set() {
            out.cancelled = true;
            break;
        }
        let progress = EventProgress {
            sink,
            batch,
            account: account.clone(),
            cancel: cancel.clone(),
            last: Mutex::new(None),
        };
        match reconcile_account(&w, &account, date, None, DryRun::No, actor, &progress).await {
            Ok(report) => {
                sink.send(RunEvent::AccountDone {
                    batch,
                    account: account.clone(),
                    report: Box::new(report.clone()),
                });
                out.reports.push(report);
            }
            Err(ServiceError::Cancelled) => {
                out.cancelled = true;
                sink.send(RunEvent::AccountFailed {
                    batch,
                    account: account.clone(),
                    message: "cancelled".into(),
                });
                break;
            }
            Err(e) => {
                let message = e.to_string();
                sink.send(RunEvent::AccountFailed {
                    batch,
                    account: account.clone(),
                    message: message.clone(),
                });
                out.failures.push(Failure { account, message });
                // A refused permission is the same for every account: stop at once.
                if matches!(e, ServiceError::Denied(_)) {
                    state.end_batch();
                    sink.send(RunEvent::Finished {
                        batch,
                        cancelled: false,
                    });
                    return Err(e.into());
                }
            }
        }
    }
    state.end_batch();
    sink.send(RunEvent::Finished {
        batch,
        cancelled: out.cancelled,
    });
    Ok(out)
}
