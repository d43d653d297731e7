//! A reconciliation batch: several accounts for one day, one after the other, with progress
//! and cancellation reported as `run-event`s. Started by a person or by the daily schedule.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::{Actor, BillDate};
use paydesk_service::context::progress::Stage;
use paydesk_service::reconcile::batch::{self as service_batch, Batch, BatchObserver, OnFailure};
use paydesk_service::reconcile::{DryRun, RunReport};
use paydesk_service::ServiceError;
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tauri::{Emitter, Runtime};

pub const RUN_EVENT: &str = "run-event";

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RunEvent {
    Started {
        batch: u64,
        accounts: Vec<String>,
        date: String,
        #[cfg_attr(test, ts(type = "RunTrigger"))]
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
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Failure {
    pub account: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
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

/// Hands a batch's progress to the sink as events: stages at most every 100 ms per stage of
/// an account (a million-line parse must not flood the window), each account's end.
struct EventObserver<'a> {
    sink: &'a dyn EventSink,
    batch: u64,
    last: Mutex<Option<(Stage, Instant)>>,
}

impl BatchObserver for EventObserver<'_> {
    fn account_started(&self, _account: &str) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn stage(&self, account: &str, stage: Stage, done: u64, total: Option<u64>) {
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
            account: account.to_string(),
            stage,
            done,
            total,
        });
    }

    fn account_done(&self, account: &str, report: &RunReport) {
        self.sink.send(RunEvent::AccountDone {
            batch: self.batch,
            account: account.to_string(),
            report: Box::new(report.clone()),
        });
    }

    fn account_failed(&self, account: &str, error: &ServiceError) {
        self.sink.send(RunEvent::AccountFailed {
            batch: self.batch,
            account: account.to_string(),
            message: error.to_string(),
        });
    }
}

/// Which accounts: the named ones (each must exist) or all.
pub fn resolve_accounts(
    state: &DesktopState,
    accounts: Option<Vec<String>>,
) -> CmdResult<Vec<String>> {
    let w = state.workspace()?;
    let all = service_batch::accounts_of(&w.config, None);
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

/// Runs the batch to the end (or until cancelled) with the service's batch runner. One batch
/// at a time per app.
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
    let observer = EventObserver {
        sink,
        batch,
        last: Mutex::new(None),
    };
    let request = Batch {
        accounts,
        date,
        statement: None,
        dry_run: DryRun::No,
        on_failure: OnFailure::Continue,
    };
    let result = service_batch::run_batch(&w, actor, request, &cancel, &observer).await;
    state.end_batch();
    match result {
        Ok(outcome) => {
            sink.send(RunEvent::Finished {
                batch,
                cancelled: outcome.cancelled,
            });
            Ok(RunBatch {
                reports: outcome.reports,
                failures: outcome
                    .failures
                    .into_iter()
                    .map(|f| Failure {
                        message: f.error.to_string(),
                        account: f.account,
                    })
                    .collect(),
                cancelled: outcome.cancelled,
            })
        }
        // A refused permission stopped the batch at once.
        Err(failure) => {
            sink.send(RunEvent::Finished {
                batch,
                cancelled: false,
            });
            Err(failure.error.into())
        }
    }
}
