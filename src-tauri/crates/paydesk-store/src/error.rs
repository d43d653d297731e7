//! The store's error type: every variant names the operation and the object it concerned.

use chrono::{DateTime, Utc};
use paydesk_core::BillDate;
use std::fmt;

/// Errors from the app database and the order mirror.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or opened.
    #[error("cannot open database {url}: {source}")]
    Open {
        /// The URL with any password removed.
        url: String,
        #[source]
        source: sqlx::Error,
    },

    /// The URL names no database Paydesk can use.
    #[error("unsupported database URL {url}: {reason}")]
    BadUrl { url: String, reason: String },

    /// A database statement failed.
    #[error("could not {op} {object}: {source}")]
    Db {
        /// What Paydesk was doing, e.g. "save statement".
        op: &'static str,
        /// What it was doing it to, e.g. "alipay-main 2024-05-01".
        object: String,
        #[source]
        source: sqlx::Error,
    },

    /// A migration could not be applied.
    #[error("could not apply database migration {version} ({name}): {source}")]
    Migration {
        version: i64,
        name: String,
        #[source]
        source: sqlx::Error,
    },

    /// An applied migration differs from the one this build ships.
    #[error(
        "database migration {version} ({name}) was applied with a different checksum \
         (database {applied}, this build {expected}); refusing to open a database whose schema \
         this build does not know"
    )]
    MigrationChecksum {
        version: i64,
        name: String,
        applied: String,
        expected: String,
    },

    /// The database was migrated by a newer Paydesk.
    #[error(
        "database has migration {version} applied, which this build does not know; upgrade Paydesk"
    )]
    SchemaTooNew { version: i64 },

    /// No such object.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// The request itself is invalid (nothing was written).
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },

    /// Another run of the same account and day holds the run lock.
    /// `detail` names the holder's host, pid and last heartbeat when known.
    #[error(
        "a run of {account} for {date} is already in progress (held by {holder}{detail} since {since}); \
         a holder whose process is gone (this host) or whose heartbeat is 30 s old (another host) is \
         taken over automatically; if you are sure that run is gone, delete its lock by hand: \
         DELETE FROM run_locks WHERE account = '{account}' AND bill_date = '{date}'"
    )]
    RunLocked {
        account: String,
        date: BillDate,
        holder: String,
        since: DateTime<Utc>,
        detail: String,
    },

    /// The caller's run lock is no longer held (it expired and another run took it over) or
    /// is for a different account or day.
    #[error("the run lock for {account} {date} held by {holder} is not held any more: {reason}")]
    LockNotHeld {
        account: String,
        date: BillDate,
        holder: String,
        reason: String,
    },

    /// A stored value could not be read back (corrupt or hand-edited database).
    #[error("bad stored value in {table} {key}, column {column}: {reason}")]
    Corrupt {
        table: &'static str,
        key: String,
        column: &'static str,
        reason: String,
    },

    /// The order mirror's schema does not fit the configured mapping.
    #[error("order mirror: {0}")]
    MirrorSchema(String),

    /// Reading the order mirror failed (the database's message).
    #[error("could not read order mirror table {table}: {reason}")]
    MirrorRead { table: String, reason: String },

    /// A row of the order mirror could not be understood.
    #[error("order mirror table {table}, row {key}, column {column}: {reason}")]
    MirrorRow {
        table: String,
        key: String,
        column: String,
        reason: String,
    },
}

impl StoreError {
    /// The database refused because another connection holds its write lock (SQLite
    /// SQLITE_BUSY / SQLITE_LOCKED after the busy timeout): worth waiting for, not a fault.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Db {
                source: sqlx::Error::Database(db),
                ..
            } => matches!(db.code().as_deref(), Some("5") | Some("6") | Some("517")),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches the operation and the object to a database error.
pub(crate) trait DbContext<T> {
    fn ctx(self, op: &'static str, object: impl fmt::Display) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, op: &'static str, object: impl fmt::Display) -> Result<T> {
        self.map_err(|source| StoreError::Db {
            op,
            object: object.to_string(),
            source,
        })
    }
}

/// The URL with the password (if any) replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:///a/b.db"), "sqlite:///a/b.db");
    }
}
