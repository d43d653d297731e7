//! The transaction a statement and its run are saved in, and the bulk row writers.
//!
//! SQLite: a transaction of the app database's `Any` pool; rows go in as large multi-row
//! INSERTs. PostgreSQL: a transaction of a native connection ([`AppDb::pg`]), so that the
//! big tables (statement lines, outcomes, new discrepancies, their history) are streamed
//! with `COPY ... FROM STDIN`, which the `Any` driver cannot do. Everything of one save,
//! run-lock check included, is in that one transaction either way.

use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result};
use sqlx::any::AnyRow;
use sqlx::{Any, Postgres, Transaction};

/// One bound value of a [`SaveTx`] statement. NULLs carry their type: PostgreSQL types a
/// parameter by what is bound.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    I64(i64),
    OptI64(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
}

pub(crate) enum SaveTx {
    Any(Transaction<'static, Any>),
    Pg(Transaction<'static, Postgres>),
}

/// Binds `args` to a query of either driver.
fn bind<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for a in args {
        q = match *a {
            Arg::I64(v) => q.bind(v),
            Arg::OptI64(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
        };
    }
    q
}

impl SaveTx {
    /// Runs one statement; the number of rows it affected.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<u64> {
        Ok(match self {
            SaveTx::Any(tx) => bind(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            SaveTx::Pg(tx) => bind(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// The rows of a query, as `Any` rows whichever the connection (read with
    /// [`crate::codec::RowReader`]).
    pub async fn fetch_all(&mut self, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<Vec<AnyRow>> {
        match self {
            SaveTx::Any(tx) => bind(sqlx::query(sql), args).fetch_all(&mut **tx).await,
            SaveTx::Pg(tx) => {
                let rows = bind(sqlx::query(sql), args).fetch_all(&mut **tx).await?;
                rows.iter().map(AnyRow::try_from).collect()
            }
        }
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> sqlx::Result<Option<AnyRow>> {
        match self {
            SaveTx::Any(tx) => bind(sqlx::query(sql), args).fetch_optional(&mut **tx).await,
            SaveTx::Pg(tx) => bind(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
                .as_ref()
                .map(AnyRow::try_from)
                .transpose(),
        }
    }

    pub async fn fetch_one(&mut self, sql: &str, args: &[Arg<'_>]) -> sqlx::Result<AnyRow> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            SaveTx::Any(tx) => tx.commit().await,
            SaveTx::Pg(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            SaveTx::Any(tx) => tx.rollback().await,
            SaveTx::Pg(tx) => tx.rollback().await,
        }
    }
}

impl AppDb {
    /// Begins the transaction of a save: [`AppDb::begin_write`] on SQLite, a native
    /// connection's transaction on PostgreSQL.
    pub(crate) async fn begin_save(
        &self,
        op: &'static str,
        object: impl std::fmt::Display,
    ) -> Result<SaveTx> {
        match (self.backend, &self.pg) {
            (Backend::Postgres, Some(pg)) => Ok(SaveTx::Pg(pg.begin().await.ctx(op, object)?)),
            _ => Ok(SaveTx::Any(self.begin_write(op, object).await?)),
        }
    }
}

/// COPY data is sent to the server in pieces of about this size: the server parses one
/// while the next is encoded, and a million rows never sit in memory as text at once.
const COPY_PIECE: usize = 1 << 20;

/// Rows in `COPY ... FROM STDIN` text format: columns separated by tabs, `\N` for NULL,
/// backslash escapes for backslash, tab, newline and carriage return.
pub(crate) struct CopyRows {
    buf: Vec<u8>,
}

impl CopyRows {
    fn new() -> CopyRows {
        CopyRows {
            buf: Vec::with_capacity(COPY_PIECE + 64 * 1024),
        }
    }

    pub fn i64(&mut self, v: i64) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{v}");
        self.buf.push(b'\t');
    }

    pub fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.i64(v),
            None => self.null(),
        }
    }

    pub fn text(&mut self, s: &str) {
        for &b in s.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self.buf.push(b'\t');
    }

    pub fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"\\N\t");
    }

    /// Ends the row (its last column's tab becomes the row's newline).
    pub fn end_row(&mut self) {
        match self.buf.last_mut() {
            Some(last) if *last == b'\t' => *last = b'\n',
            _ => self.buf.push(b'\n'),
        }
    }
}

/// Streams `items` into `table (cols)` with `COPY FROM STDIN` inside the transaction;
/// `row` writes one item's columns in `cols` order. The number of rows copied.
pub(crate) async fn copy_in<T>(
    tx: &mut Transaction<'static, Postgres>,
    table: &str,
    cols: &[&str],
    items: impl IntoIterator<Item = T>,
    mut row: impl FnMut(&mut CopyRows, T),
) -> sqlx::Result<u64> {
    let sql = format!("COPY {table} ({}) FROM STDIN", cols.join(", "));
    let mut copy = tx.copy_in_raw(&sql).await?;
    let mut rows = CopyRows::new();
    for item in items {
        row(&mut rows, item);
        rows.end_row();
        if rows.buf.len() >= COPY_PIECE {
            copy.send(rows.buf.as_slice()).await?;
            rows.buf.clear();
        }
    }
    if !rows.buf.is_empty() {
        copy.send(rows.buf.as_slice()).await?;
    }
    copy.finish().await
}

/// Rows handed to a save a chunk at a time, so that a day of millions of statement lines
/// and outcomes is never held whole while it is written.
pub trait RowSource<T: Clone>: Send {
    /// How many rows the source holds in all (checked against what was written).
    fn total(&self) -> u64;
    /// The next chunk; empty once every row was handed out. An error names what failed.
    fn next_chunk(&mut self) -> std::result::Result<std::borrow::Cow<'_, [T]>, String>;
}

/// The rows of a slice, as one chunk.
pub struct SliceRows<'a, T> {
    rows: &'a [T],
    done: bool,
}

impl<'a, T> SliceRows<'a, T> {
    pub fn new(rows: &'a [T]) -> Self {
        Self { rows, done: false }
    }
}

impl<T: Clone + Sync> RowSource<T> for SliceRows<'_, T> {
    fn total(&self) -> u64 {
        self.rows.len() as u64
    }
    fn next_chunk(&mut self) -> std::result::Result<std::borrow::Cow<'_, [T]>, String> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(std::borrow::Cow::Borrowed(&[]));
        }
        Ok(std::borrow::Cow::Borrowed(self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_nulls() {
        let mut r = CopyRows::new();
        r.i64(-42);
        r.text("a\tb\\c\nd\re 中");
        r.opt_text(None);
        r.opt_i64(Some(7));
        r.end_row();
        r.text("");
        r.end_row();
        assert_eq!(
            String::from_utf8(r.buf).expect("utf8"),
            "-42\ta\\tb\\\\c\\nd\\re 中\t\\N\t7\n\n"
        );
    }
}
