//! The order mirror's hot path: the rows a reconciliation reads, through each database's own
//! driver — rusqlite for a SQLite file, sqlx's native PostgreSQL driver — streamed and
//! handed to the caller one row at a time, read by column position as borrowed text.
//!
//! sqlx's `Any` driver turns every cell into an owned value, and the mirror looked columns
//! up by a formatted name; together about 15 µs per order, most of a 1M-line day (issue 15).
//! Here a SQLite row costs well under a microsecond and nothing is collected before it is
//! decoded. The SQL is the same for both databases (`$1`-style parameters, every column
//! `CAST(.. AS TEXT)`), so both read exactly what the `Any` path read.

use crate::error::{Result, StoreError};
use crate::mirror::db_message;
use futures_util::TryStreamExt;
use sqlx::Row;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A query parameter.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    I64(i64),
    Text(String),
}

/// One row of a mirror query, its columns read by position as text (`None` for NULL; a
/// cell that is not valid UTF-8 reads as `None` too, which the decoder reports as empty).
pub(crate) trait TextRow {
    fn text(&self, idx: usize) -> Option<&str>;

    /// The column's value when the database holds an integer and the reader has it as one
    /// (its text is then that integer in decimal); `None` says "read the text".
    fn int(&self, _idx: usize) -> Option<i64> {
        None
    }
}

/// A row of SQLite's own reader, whose query selects the columns as stored (not cast to
/// text): `text` gives what `CAST(col AS TEXT)` would have — an integer in decimal, a real
/// as SQLite writes it (asked of SQLite itself: rare, and its formatting is its own), a
/// blob's bytes — and `int` the integers as they are.
struct SqliteRow<'r> {
    row: &'r rusqlite::Row<'r>,
    conn: &'r rusqlite::Connection,
    /// Texts made for non-text values, one per column, made when first asked for (the
    /// cells belong to the query and are emptied between rows: no allocation per row).
    made: &'r [std::cell::OnceCell<Option<String>>],
}

impl SqliteRow<'_> {
    fn real_as_text(&self, value: f64) -> Option<String> {
        self.conn
            .prepare_cached("SELECT CAST(?1 AS TEXT)")
            .and_then(|mut s| s.query_row([value], |r| r.get::<_, Option<String>>(0)))
            .ok()
            .flatten()
    }
}

impl TextRow for SqliteRow<'_> {
    fn text(&self, idx: usize) -> Option<&str> {
        use rusqlite::types::ValueRef;
        match self.row.get_ref(idx).ok()? {
            ValueRef::Text(b) | ValueRef::Blob(b) => std::str::from_utf8(b).ok(),
            ValueRef::Null => None,
            ValueRef::Integer(i) => self
                .made
                .get(idx)?
                .get_or_init(|| Some(i.to_string()))
                .as_deref(),
            ValueRef::Real(f) => self
                .made
                .get(idx)?
                .get_or_init(|| self.real_as_text(f))
                .as_deref(),
        }
    }

    fn int(&self, idx: usize) -> Option<i64> {
        match self.row.get_ref(idx).ok()? {
            rusqlite::types::ValueRef::Integer(i) => Some(i),
            _ => None,
        }
    }
}

impl TextRow for sqlx::any::AnyRow {
    fn text(&self, idx: usize) -> Option<&str> {
        self.try_get::<Option<&str>, _>(idx).ok().flatten()
    }
}

impl TextRow for sqlx::postgres::PgRow {
    fn text(&self, idx: usize) -> Option<&str> {
        self.try_get::<Option<&str>, _>(idx).ok().flatten()
    }
}

/// The connection the hot path reads through.
#[derive(Clone)]
pub(crate) enum MirrorReader {
    Sqlite(SqliteFile),
    Postgres(sqlx::PgPool),
    /// sqlx's `Any` driver, the reader before issue 15: kept to check that the native
    /// readers read the same ([`crate::OrderMirror::open_through_any`]).
    Any(sqlx::AnyPool),
}

impl std::fmt::Debug for MirrorReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorReader::Sqlite(s) => write!(f, "MirrorReader::Sqlite({})", s.path.display()),
            MirrorReader::Postgres(_) => f.write_str("MirrorReader::Postgres"),
            MirrorReader::Any(_) => f.write_str("MirrorReader::Any"),
        }
    }
}

/// A SQLite mirror file, opened read-only; connections are kept for the next query.
#[derive(Clone)]
pub(crate) struct SqliteFile {
    path: PathBuf,
    idle: Arc<Mutex<Vec<rusqlite::Connection>>>,
}

/// Streams the rows of an sqlx query into `each` (one body for the two sqlx pools, whose
/// types differ).
macro_rules! stream_rows {
    ($pool:expr, $sql:expr, $params:expr, $each:expr, $fail:expr) => {{
        let mut q = sqlx::query($sql);
        for p in $params {
            q = match p {
                Param::I64(v) => q.bind(*v),
                Param::Text(s) => q.bind(s.as_str()),
            };
        }
        let mut rows = q.fetch($pool);
        while let Some(row) = rows.try_next().await.map_err(|e| $fail(db_message(&e)))? {
            $each(&row)?;
        }
        Ok(())
    }};
}

impl MirrorReader {
    /// The reader for a mirror URL the `Any` pool has already opened (so the URL is known
    /// to be good). A SQLite mirror must be a file: an in-memory database has no orders.
    pub(crate) async fn open(url: &str, backend: crate::db::Backend) -> Result<MirrorReader> {
        match backend {
            crate::db::Backend::Sqlite => {
                let path = crate::db::sqlite_path(url).ok_or_else(|| {
                    StoreError::MirrorSchema(format!(
                        "{} is not a SQLite file; the order mirror is a SQLite file or a \
                         PostgreSQL database",
                        crate::error::redact_url(url)
                    ))
                })?;
                let file = SqliteFile {
                    path,
                    idle: Arc::new(Mutex::new(Vec::new())),
                };
                // Open one connection now, so that a file rusqlite cannot open fails here.
                let conn = file.connect()?;
                file.put_back(conn);
                Ok(MirrorReader::Sqlite(file))
            }
            crate::db::Backend::Postgres => {
                use std::str::FromStr;
                let options =
                    sqlx::postgres::PgConnectOptions::from_str(url.trim()).map_err(|source| {
                        StoreError::Open {
                            url: crate::error::redact_url(url),
                            source,
                        }
                    })?;
                // The same pool settings as `connect_pool` (no maintenance task, see there).
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .min_connections(0)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(std::time::Duration::from_secs(30))
                    .connect_lazy_with(options);
                Ok(MirrorReader::Postgres(pool))
            }
        }
    }

    /// Runs `sql` with `params` and calls `each` with every row, in order, without
    /// collecting them. `table` names the mirror table in errors.
    pub(crate) async fn for_each(
        &self,
        table: &str,
        sql: &str,
        params: &[Param],
        mut each: impl FnMut(&dyn TextRow) -> Result<()>,
    ) -> Result<()> {
        let fail = |reason: String| StoreError::MirrorRead {
            table: table.to_string(),
            reason,
        };
        match self {
            MirrorReader::Sqlite(file) => blocking(|| {
                let conn = file.connect()?;
                let result = (|| {
                    let mut stmt = conn.prepare_cached(sql).map_err(|e| fail(e.to_string()))?;
                    for (k, p) in params.iter().enumerate() {
                        let Some(idx) = stmt
                            .parameter_index(&format!("${}", k + 1))
                            .map_err(|e| fail(e.to_string()))?
                        else {
                            continue;
                        };
                        match p {
                            Param::I64(v) => stmt.raw_bind_parameter(idx, v),
                            Param::Text(s) => stmt.raw_bind_parameter(idx, s.as_str()),
                        }
                        .map_err(|e| fail(e.to_string()))?;
                    }
                    let mut made: Vec<std::cell::OnceCell<Option<String>>> = (0..stmt
                        .column_count())
                        .map(|_| Default::default())
                        .collect();
                    let mut rows = stmt.raw_query();
                    while let Some(row) = rows.next().map_err(|e| fail(e.to_string()))? {
                        made.iter_mut().for_each(|m| drop(m.take()));
                        each(&SqliteRow {
                            row,
                            conn: &conn,
                            made: &made,
                        })?;
                    }
                    Ok(())
                })();
                file.put_back(conn);
                result
            }),
            MirrorReader::Postgres(pool) => stream_rows!(pool, sql, params, each, fail),
            MirrorReader::Any(pool) => stream_rows!(pool, sql, params, each, fail),
        }
    }
}

impl MirrorReader {
    /// Whether queries select the mapped columns as stored rather than cast to text (see
    /// [`SqliteRow`]).
    pub(crate) fn reads_raw_values(&self) -> bool {
        matches!(self, MirrorReader::Sqlite(_))
    }
}

impl SqliteFile {
    fn connect(&self) -> Result<rusqlite::Connection> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            StoreError::MirrorSchema(format!("cannot open {}: {e}", self.path.display()))
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| {
                StoreError::MirrorSchema(format!("cannot open {}: {e}", self.path.display()))
            })?;
        Ok(conn)
    }

    fn put_back(&self, conn: rusqlite::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < 4 {
            idle.push(conn);
        }
    }
}

/// Runs blocking work (a SQLite read) without stalling the other tasks of a multi-threaded
/// runtime; on a current-thread runtime (or none) it simply runs.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
