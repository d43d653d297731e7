//! Paydesk's app database (SQLite or PostgreSQL through one `sqlx::AnyPool` code path) and
//! the read-only order mirror. Saving a statement and its run is the exception: on
//! PostgreSQL it runs on a native connection that streams lines, outcomes and new
//! discrepancies with `COPY` (`save_tx`), in the same single transaction.
//!
//! # App database
//! [`AppDb::open`] creates a SQLite file if missing (WAL, foreign keys, 5 s busy timeout) or
//! connects to PostgreSQL, then applies the embedded migrations (`migrations/*.sql`) with its
//! own runner: a `schema_migrations` table records version and checksum, each migration runs
//! in a transaction, and a database whose applied checksum differs is refused.
//!
//! Encodings: times are BIGINT unix milliseconds (UTC), money BIGINT minor units (fees in
//! thousandths of a minor unit), booleans BIGINT 0/1, dates TEXT `YYYY-MM-DD`, enums their
//! snake_case words.
//!
//! # Re-runs and review work
//! [`AppDb::save_run`] upserts discrepancies by (account, bill date, key):
//! - a new key is inserted open;
//! - an existing key gets the run's data (class, amounts, evidence, explanation) but keeps
//!   its review state, resolution, note and assignee; one that Paydesk had auto-resolved as
//!   gone and that reappears is reopened;
//! - a key of the day the run no longer produces is marked gone (`present = false`) and, if
//!   unresolved, resolved as `auto_matched`;
//! - the previous day's timing differences named in [`CarryOverCloses`] are resolved as
//!   `auto_matched`;
//! - every change gets a history entry with the run's `started_by` as actor.

pub mod audit;
mod codec;
mod db;
mod error;
mod liveness;
mod meta;
mod mirror;
mod mirror_reader;
mod paging;
mod probe;
mod refunds;
mod review;
mod runs;
mod save_tx;
pub mod settlement;
mod statements;
pub mod users;
mod vault;

pub use audit::{
    AuditEntry, AuditFilter, AuditKey, AuditProblem, AuditVerification, NewAuditEntry,
};
pub use db::{close_tracked_pools, sqlite_path, track_pools, AppDb, Backend};
pub use error::{Result, StoreError};
pub use liveness::{process_alive, LockOwner, RUN_LOCK_STALE_AFTER};
pub use meta::{probe_app_db, AppDbProbe, WORKSPACE_KIND_DEMO};
pub use mirror::{
    create_default_mirror, create_mirror_file, insert_mirror_rows, is_demo_mirror,
    set_mirror_accounts, AccountFilter, AmountUnit, MirrorMapping, MirrorScope, OrderColumns,
    OrderMirror, RefundColumns, TimeFormat, DEFAULT_TEXT_TIME_FORMAT,
};
pub use paging::{DiscrepancyBlock, PageAt, PageCursor, SortKey, ANCHOR_EVERY};
pub use probe::probe_connection;
pub use refunds::{
    DailyCap, NewRefund, RefundAdmission, RefundEvent, RefundLedger, RefundRecord, RefundState,
    RefundUpdate,
};
pub use review::{
    DiscrepancySort, ReviewEdit, ReviewEditRecord, SummaryRow, UndoOutcome, REVIEW_EDIT_KEEP,
};
pub use runs::{CarryOverCloses, NewDiscrepancy, NewRun, OutcomeRow, RunLock, RunRecord};
pub use save_tx::{RowSource, SliceRows};
pub use statements::{NewStatement, SavedStatement, StatementRecord};
pub use users::{LoginAttempt, NewUser, UserRecord};
pub use vault::{NewVaultVersion, VaultCredential, VaultMeta, VaultRefresh, VaultVersion};
