//! Conversions between domain values and the portable column encodings (TEXT words,
//! BIGINT milliseconds, BIGINT 0/1), and typed reads from rows.

use crate::db::Backend;
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use paydesk_core::{BillDate, Currency, MatchRule};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::str::FromStr;

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn now_ms() -> i64 {
    ms(Utc::now())
}

pub(crate) fn date_text(d: BillDate) -> String {
    d.to_string()
}

pub(crate) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Reads typed columns of one row of `table`, naming the row's `key` in errors.
pub(crate) struct RowReader<'r> {
    pub row: &'r AnyRow,
    pub table: &'static str,
    pub key: String,
}

impl<'r> RowReader<'r> {
    pub fn new(row: &'r AnyRow, table: &'static str, key: impl Into<String>) -> Self {
        RowReader {
            row,
            table,
            key: key.into(),
        }
    }

    fn corrupt(&self, column: &'static str, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            column,
            reason: reason.into(),
        }
    }

    pub fn i64(&self, column: &'static str) -> Result<i64> {
        self.row
            .try_get::<i64, _>(column)
            .map_err(|e| self.corrupt(column, e.to_string()))
    }

    pub fn opt_i64(&self, column: &'static str) -> Result<Option<i64>> {
        self.row
            .try_get::<Option<i64>, _>(column)
            .map_err(|e| self.corrupt(column, e.to_string()))
    }

    pub fn u64(&self, column: &'static str) -> Result<u64> {
        let v = self.i64(column)?;
        u64::try_from(v).map_err(|_| self.corrupt(column, format!("negative count {v}")))
    }

    pub fn opt_u64(&self, column: &'static str) -> Result<Option<u64>> {
        match self.opt_i64(column)? {
            None => Ok(None),
            Some(v) => u64::try_from(v)
                .map(Some)
                .map_err(|_| self.corrupt(column, format!("negative number {v}"))),
        }
    }

    pub fn text(&self, column: &'static str) -> Result<String> {
        self.row
            .try_get::<String, _>(column)
            .map_err(|e| self.corrupt(column, e.to_string()))
    }

    pub fn opt_text(&self, column: &'static str) -> Result<Option<String>> {
        self.row
            .try_get::<Option<String>, _>(column)
            .map_err(|e| self.corrupt(column, e.to_string()))
    }

    pub fn bool(&self, column: &'static str) -> Result<bool> {
        Ok(self.i64(column)? != 0)
    }

    pub fn time(&self, column: &'static str) -> Result<DateTime<Utc>> {
        let v = self.i64(column)?;
        DateTime::from_timestamp_millis(v)
            .ok_or_else(|| self.corrupt(column, format!("time {v} ms is out of range")))
    }

    pub fn opt_time(&self, column: &'static str) -> Result<Option<DateTime<Utc>>> {
        match self.opt_i64(column)? {
            None => Ok(None),
            Some(v) => DateTime::from_timestamp_millis(v)
                .map(Some)
                .ok_or_else(|| self.corrupt(column, format!("time {v} ms is out of range"))),
        }
    }

    pub fn date(&self, column: &'static str) -> Result<BillDate> {
        let s = self.text(column)?;
        BillDate::parse(&s).map_err(|e| self.corrupt(column, e))
    }

    pub fn parsed<T: FromStr<Err = String>>(&self, column: &'static str) -> Result<T> {
        let s = self.text(column)?;
        s.parse::<T>().map_err(|e| self.corrupt(column, e))
    }

    pub fn opt_parsed<T: FromStr<Err = String>>(&self, column: &'static str) -> Result<Option<T>> {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(s) => s
                .parse::<T>()
                .map(Some)
                .map_err(|e| self.corrupt(column, e)),
        }
    }

    pub fn rule(&self, column: &'static str) -> Result<MatchRule> {
        let s = self.text(column)?;
        s.parse::<MatchRule>().map_err(|e| self.corrupt(column, e))
    }

    pub fn currency(&self, column: &'static str) -> Result<Currency> {
        let s = self.text(column)?;
        Currency::parse(&s).map_err(|e| self.corrupt(column, e.to_string()))
    }

    pub fn opt_currency(&self, column: &'static str) -> Result<Option<Currency>> {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(s) => Currency::parse(&s)
                .map(Some)
                .map_err(|e| self.corrupt(column, e.to_string())),
        }
    }
}

/// Splits `items` into chunks so that `per_row` bind variables per item stay under the
/// SQLite limit (32766) and PostgreSQL's (65535).
pub(crate) fn chunk_rows(per_row: usize) -> usize {
    const MAX_VARS: usize = 32_766;
    (MAX_VARS / per_row.max(1)).clamp(1, 4096)
}

/// `INSERT INTO table (cols) VALUES (..),(..)` for `rows` rows, plus `suffix`.
///
/// SQLite gets anonymous `?` placeholders: with numbered ones (`$n`) SQLite looks parameter
/// names up linearly, which makes binding a 30,000-variable statement quadratic.
pub(crate) fn insert_sql(
    backend: Backend,
    table: &str,
    cols: &[&str],
    rows: usize,
    suffix: &str,
) -> String {
    let mut sql = String::with_capacity(64 + rows * cols.len() * 7);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&cols.join(", "));
    sql.push_str(") VALUES ");
    let mut n = 1usize;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            n += 1;
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

/// `?,?,?` (n marks) for an IN list in SQL that goes through [`numbered`].
pub(crate) fn qmarks(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

/// SQL written with `?` placeholders (in bind order, none inside string literals) for the
/// backend: kept as is for SQLite, `$1, $2, ..` for PostgreSQL.
pub(crate) fn numbered(sql: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => sql.to_string(),
        Backend::Postgres => {
            let mut out = String::with_capacity(sql.len() + sql.len() / 2);
            let mut n = 0usize;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// `$from, $from+1, ..` for an IN list of `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A dynamically built query's parameters.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    I64(i64),
    Text(String),
}

pub(crate) fn bind_params<'q>(mut q: AnyQuery<'q>, params: &'q [Param]) -> AnyQuery<'q> {
    for p in params {
        q = match p {
            Param::I64(v) => q.bind(*v),
            Param::Text(s) => q.bind(s.as_str()),
        };
    }
    q
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Simple (one character at a time) lowercase of a search needle, the folding
/// [`folded_column`] applies to the column: `ΣΑΣ` → `σασ` (no final-sigma rule), `ÄÖÜ` → `äöü`.
pub(crate) fn fold_case(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The non-ASCII characters whose simple lowercase is one other character, by that lowercase
/// (`ä` → `Ä`, `k` → `K`, the Kelvin sign). Built once (one pass over the code points).
fn upper_forms() -> &'static std::collections::HashMap<char, Vec<char>> {
    static MAP: std::sync::OnceLock<std::collections::HashMap<char, Vec<char>>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: std::collections::HashMap<char, Vec<char>> = Default::default();
        for x in (0x80..=0x10FFFF_u32).filter_map(char::from_u32) {
            let mut lower = x.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                if l != x {
                    map.entry(l).or_default().push(x);
                }
            }
        }
        map
    })
}

/// The SQL expression lowercasing the text expression `expr` for a LIKE against a pattern
/// built from `fold_case(needle)`. SQLite's `LOWER` folds only ASCII (and PostgreSQL's depends
/// on the database's locale), so each non-ASCII character that lowercases to one of the
/// needle's characters is first replaced by it: `LOWER(REPLACE(expr, 'Ä', 'ä'))` for the
/// needle `äx`. Only the needle's characters are spelled out; a needle without such
/// characters (most ASCII, Chinese) gives the plain `LOWER(expr)`.
pub(crate) fn folded_column(expr: &str, folded_needle: &str) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = expr.to_string();
    for c in folded_needle.chars() {
        if !seen.insert(c) {
            continue;
        }
        for x in upper_forms().get(&c).into_iter().flatten() {
            // Case pairs are letters, never a quote; doubled anyway.
            let q = |ch: char| ch.to_string().replace('\'', "''");
            out = format!("REPLACE({out}, '{}', '{}')", q(*x), q(c));
        }
    }
    format!("LOWER({out})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_beyond_ascii() {
        assert_eq!(fold_case("ÄÖÜ Straße ΣΑΣ"), "äöü straße σασ");
        assert_eq!(folded_column("c", "abc"), "LOWER(c)");
        assert_eq!(folded_column("c", "订单"), "LOWER(c)");
        assert_eq!(folded_column("c", "ää"), "LOWER(REPLACE(c, 'Ä', 'ä'))");
        let k = folded_column("c", "k");
        assert!(k.contains("'\u{212A}', 'k'"), "{k}");
    }

    #[test]
    fn builds_insert_sql() {
        assert_eq!(
            insert_sql(Backend::Postgres, "t", &["a", "b"], 2, "RETURNING id"),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4) RETURNING id"
        );
        assert_eq!(
            insert_sql(Backend::Sqlite, "t", &["a", "b"], 2, ""),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?)"
        );
        assert_eq!(
            numbered("a = ? AND b IN (?,?)", Backend::Postgres),
            "a = $1 AND b IN ($2,$3)"
        );
        assert_eq!(numbered("a = ?", Backend::Sqlite), "a = ?");
        assert_eq!(placeholders(3, 2), "$3,$4");
        assert!(chunk_rows(17) * 17 <= 32_766);
    }
}
