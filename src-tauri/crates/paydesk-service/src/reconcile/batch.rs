//! A reconciliation batch: several accounts for one day, one after the other (every account
//! of a provider, or all accounts). The one runner behind `paydesk reconcile --provider` and
//! the desktop app's batches (manual and scheduled); each caller shows the progress its own
//! way through a [`BatchObserver`].
//!
//! - A failing account is recorded and the batch goes on with the next one
//!   ([`OnFailure::Continue`]), or the batch ends there ([`OnFailure::Stop`]).
//! - A refused permission ([`ServiceError::Denied`]) is the same for every account: the batch
//!   stops at once, whatever the policy.
//! - Cancellation (the [`CancelFlag`]) is checked before each account and, through the
//!   progress, inside a run; a cancelled run ends the batch with `cancelled` set.

use crate::context::config::Config;
use crate::context::progress::{CancelFlag, Progress, Stage};
use crate::context::workspace::Workspace;
use crate::reconcile::{reconcile_account, DryRun, RunReport};
use crate::ServiceError;
use paydesk_core::{Actor, BillDate, Provider};
use std::path::PathBuf;

/// What a batch does after an account fails (other than by a refused permission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Record the failure and go on with the next account.
    Continue,
    /// End the batch with this failure.
    Stop,
}

/// One batch: which accounts, which day, and how.
#[derive(Debug, Clone)]
pub struct Batch {
    pub accounts: Vec<String>,
    pub date: BillDate,
    /// Import this statement file instead of downloading (a batch of one account).
    pub statement: Option<PathBuf>,
    pub dry_run: DryRun,
    pub on_failure: OnFailure,
}

/// Hears what a batch does. Called from the batch's task, one account at a time.
pub trait BatchObserver: Send + Sync {
    /// An account's run begins.
    fn account_started(&self, _account: &str) {}
    /// A stage of the account's run moved.
    fn stage(&self, account: &str, stage: Stage, done: u64, total: Option<u64>);
    fn account_done(&self, _account: &str, _report: &RunReport) {}
    /// The account's run failed (also when it was cancelled or refused).
    fn account_failed(&self, _account: &str, _error: &ServiceError) {}
}

/// One account's failure.
#[derive(Debug)]
pub struct AccountFailure {
    pub account: String,
    pub error: ServiceError,
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// The accounts that ran, in order.
    pub reports: Vec<RunReport>,
    /// The accounts that failed ([`OnFailure::Continue`]), in order.
    pub failures: Vec<AccountFailure>,
    pub cancelled: bool,
}

/// The names of every account of `provider`, or of all accounts, in `paydesk.toml`'s order.
pub fn accounts_of(config: &Config, provider: Option<Provider>) -> Vec<String> {
    config
        .accounts
        .iter()
        .filter(|a| provider.is_none_or(|p| a.provider == p))
        .map(|a| a.name.clone())
        .collect()
}

/// One account's progress, handed on to the observer with the account's name.
struct AccountProgress<'a> {
    observer: &'a dyn BatchObserver,
    account: &'a str,
    cancel: &'a CancelFlag,
}

impl Progress for AccountProgress<'_> {
    fn update(&self, stage: Stage, done: u64, total: Option<u64>) {
        self.observer.stage(self.account, stage, done, total);
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }
}

/// Runs the batch to its end, or until cancelled. `Err` is the failure that ended it: a
/// refused permission, or any failure with [`OnFailure::Stop`].
pub async fn run_batch(
    w: &Workspace,
    actor: &Actor,
    batch: Batch,
    cancel: &CancelFlag,
    observer: &dyn BatchObserver,
) -> Result<BatchOutcome, AccountFailure> {
    let mut out = BatchOutcome::default();
    for account in batch.accounts {
        if cancel.is_set() {
            out.cancelled = true;
            break;
        }
        observer.account_started(&account);
        let progress = AccountProgress {
            observer,
            account: &account,
            cancel,
        };
        let result = reconcile_account(
            w,
            &account,
            batch.date,
            batch.statement.clone(),
            batch.dry_run,
            actor,
            &progress,
        )
        .await;
        match result {
            Ok(report) => {
                observer.account_done(&account, &report);
                out.reports.push(report);
            }
            Err(ServiceError::Cancelled) => {
                observer.account_failed(&account, &ServiceError::Cancelled);
                out.cancelled = true;
                break;
            }
            Err(error) => {
                observer.account_failed(&account, &error);
                let failure = AccountFailure { account, error };
                if matches!(failure.error, ServiceError::Denied(_))
                    || batch.on_failure == OnFailure::Stop
                {
                    return Err(failure);
                }
                out.failures.push(failure);
            }
        }
    }
    Ok(out)
}
