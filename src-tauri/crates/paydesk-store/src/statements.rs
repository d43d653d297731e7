//! Statements and their lines.

use crate::codec::{chunk_rows, date_text, i64_of, insert_sql, ms, now_ms, AnyQuery, RowReader};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::save_tx::{copy_in, Arg, RowSource, SaveTx, SliceRows};
use chrono::{DateTime, Utc};
use paydesk_core::{BillDate, Provider, SourceRef, StatementLine};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A statement file about to be saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStatement {
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    pub file_name: String,
    pub format: String,
    pub content_sha256: String,
    /// "sandbox" | "file" | "api"
    pub source: String,
    pub imported_by: String,
}

/// What [`AppDb::save_statement`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedStatement {
    pub id: i64,
    /// The same content was already the current statement of the day; nothing was written.
    pub unchanged: bool,
    /// The id of the statement this one replaced as the day's current statement.
    pub superseded: Option<i64>,
    pub line_count: u64,
}

/// A stored statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRecord {
    pub id: i64,
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    pub file_name: String,
    pub format: String,
    pub content_sha256: String,
    pub source: String,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
    pub line_count: u64,
    pub superseded_by: Option<i64>,
}

const STATEMENT_COLS: &str =
    "id, account, provider, bill_date, file_name, format, content_sha256, \
     source, imported_by, imported_at, line_count, superseded_by";

fn statement_from_row(row: &sqlx::any::AnyRow) -> Result<StatementRecord> {
    let id: i64 = row.try_get("id").ctx("read", "statement")?;
    let r = RowReader::new(row, "statements", format!("id {id}"));
    Ok(StatementRecord {
        id,
        account: r.text("account")?,
        provider: r.parsed("provider")?,
        bill_date: r.date("bill_date")?,
        file_name: r.text("file_name")?,
        format: r.text("format")?,
        content_sha256: r.text("content_sha256")?,
        source: r.text("source")?,
        imported_by: r.text("imported_by")?,
        imported_at: r.time("imported_at")?,
        line_count: r.u64("line_count")?,
        superseded_by: r.opt_i64("superseded_by")?,
    })
}

const LINE_COLS: [&str; 17] = [
    "statement_id",
    "seq",
    "provider",
    "account",
    "provider_txn_id",
    "merchant_order_no",
    "kind",
    "gross",
    "fee_milli",
    "net",
    "currency",
    "provider_time",
    "provider_refund_id",
    "merchant_refund_no",
    "provider_status",
    "source_file",
    "source_line",
];

/// Binds one line; provider, account and source file are NULL when they equal the
/// statement's (the common case), which keeps the rows small.
fn bind_line<'q>(
    q: AnyQuery<'q>,
    statement_id: i64,
    seq: i64,
    l: &'q StatementLine,
    s: &'q NewStatement,
) -> AnyQuery<'q> {
    q.bind(statement_id)
        .bind(seq)
        .bind((l.provider != s.provider).then(|| l.provider.as_str()))
        .bind((l.account != s.account).then_some(l.account.as_str()))
        .bind(l.provider_txn_id.as_str())
        .bind(l.merchant_order_no.as_deref())
        .bind(l.kind.as_str())
        .bind(l.gross)
        .bind(l.fee_milli)
        .bind(l.net)
        .bind(l.currency.code())
        .bind(ms(l.provider_time))
        .bind(l.provider_refund_id.as_deref())
        .bind(l.merchant_refund_no.as_deref())
        .bind(l.provider_status.as_str())
        .bind((l.source.file != s.file_name).then_some(l.source.file.as_str()))
        .bind(i64_of(l.source.line))
}

/// Inserts a statement's lines (`seq` = position): COPY on PostgreSQL, multi-row INSERTs
/// on SQLite. The number of rows written.
async fn insert_lines(
    tx: &mut SaveTx,
    backend: Backend,
    statement_id: i64,
    s: &NewStatement,
    first_seq: i64,
    lines: &[StatementLine],
) -> sqlx::Result<u64> {
    let tx = match tx {
        SaveTx::Pg(tx) => {
            let mut seq: i64 = first_seq;
            return copy_in(tx, "statement_lines", &LINE_COLS, lines, |r, l| {
                // The same values, NULLs included, as bind_line binds.
                r.i64(statement_id);
                r.i64(seq);
                seq += 1;
                r.opt_text((l.provider != s.provider).then(|| l.provider.as_str()));
                r.opt_text((l.account != s.account).then_some(l.account.as_str()));
                r.text(&l.provider_txn_id);
                r.opt_text(l.merchant_order_no.as_deref());
                r.text(l.kind.as_str());
                r.i64(l.gross);
                r.i64(l.fee_milli);
                r.i64(l.net);
                r.text(l.currency.code());
                r.i64(ms(l.provider_time));
                r.opt_text(l.provider_refund_id.as_deref());
                r.opt_text(l.merchant_refund_no.as_deref());
                r.text(l.provider_status.as_str());
                r.opt_text((l.source.file != s.file_name).then_some(l.source.file.as_str()));
                r.i64(i64_of(l.source.line));
            })
            .await;
        }
        SaveTx::Any(tx) => tx,
    };
    let per = chunk_rows(LINE_COLS.len());
    let full_sql = insert_sql(backend, "statement_lines", &LINE_COLS, per, "");
    let mut seq: i64 = first_seq;
    let mut written = 0;
    for chunk in lines.chunks(per) {
        let tail_sql;
        let sql = if chunk.len() == per {
            full_sql.as_str()
        } else {
            tail_sql = insert_sql(backend, "statement_lines", &LINE_COLS, chunk.len(), "");
            tail_sql.as_str()
        };
        let mut q = sqlx::query(sql);
        for l in chunk {
            q = bind_line(q, statement_id, seq, l, s);
            seq += 1;
        }
        written += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

impl AppDb {
    /// Saves a statement and its lines in one transaction.
    ///
    /// If the day's current statement has the same content hash, nothing is written and it
    /// is returned with `unchanged = true`. Otherwise the new statement becomes current and
    /// the previous one gets `superseded_by` = the new id (both stay in the history).
    pub async fn save_statement(
        &self,
        s: &NewStatement,
        lines: &[StatementLine],
    ) -> Result<SavedStatement> {
        let op = "save statement";
        let object = format!("{} of {} {}", s.file_name, s.account, s.bill_date);
        let mut tx = self.begin_save(op, &object).await?;
        let saved = self
            .save_statement_in(&mut tx, s, &mut SliceRows::new(lines))
            .await?;
        if saved.unchanged {
            tx.rollback().await.ctx(op, &object)?;
        } else {
            tx.commit().await.ctx(op, &object)?;
        }
        Ok(saved)
    }

    /// [`AppDb::save_statement`] inside the caller's transaction: nothing is visible (and
    /// the day's current statement does not change) until the caller commits.
    pub(crate) async fn save_statement_in(
        &self,
        tx: &mut SaveTx,
        s: &NewStatement,
        lines: &mut dyn RowSource<StatementLine>,
    ) -> Result<SavedStatement> {
        let op = "save statement";
        let object = format!("{} of {} {}", s.file_name, s.account, s.bill_date);
        if s.account.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "statement".into(),
                reason: "the account name is empty".into(),
            });
        }
        let date = date_text(s.bill_date);
        let now = now_ms();

        // Takes the (account, day) row lock on PostgreSQL so concurrent imports serialize.
        tx.execute(
            "INSERT INTO statement_heads (account, bill_date, current_id, touched_at) \
             VALUES ($1, $2, NULL, $3) \
             ON CONFLICT (account, bill_date) DO UPDATE SET touched_at = excluded.touched_at",
            &[Arg::Text(&s.account), Arg::Text(&date), Arg::I64(now)],
        )
        .await
        .ctx(op, &object)?;

        let current = tx
            .fetch_optional(
                &format!(
                    "SELECT {STATEMENT_COLS} FROM statements \
                     WHERE account = $1 AND bill_date = $2 AND superseded_by IS NULL \
                     ORDER BY id DESC LIMIT 1"
                ),
                &[Arg::Text(&s.account), Arg::Text(&date)],
            )
            .await
            .ctx(op, &object)?;
        let current = current.as_ref().map(statement_from_row).transpose()?;
        if let Some(cur) = &current {
            if cur.content_sha256.eq_ignore_ascii_case(&s.content_sha256) {
                return Ok(SavedStatement {
                    id: cur.id,
                    unchanged: true,
                    superseded: None,
                    line_count: cur.line_count,
                });
            }
        }

        let id: i64 = tx
            .fetch_one(
                "INSERT INTO statements (account, provider, bill_date, file_name, format, \
                 content_sha256, source, imported_by, imported_at, line_count, superseded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL) RETURNING id",
                &[
                    Arg::Text(&s.account),
                    Arg::Text(s.provider.as_str()),
                    Arg::Text(&date),
                    Arg::Text(&s.file_name),
                    Arg::Text(&s.format),
                    Arg::Text(&s.content_sha256),
                    Arg::Text(&s.source),
                    Arg::Text(&s.imported_by),
                    Arg::I64(now),
                    Arg::I64(i64_of(lines.total())),
                ],
            )
            .await
            .ctx(op, &object)?
            .try_get("id")
            .ctx(op, &object)?;

        let mut copied: u64 = 0;
        loop {
            let chunk = lines.next_chunk().map_err(|reason| StoreError::Invalid {
                what: format!("lines of {object}"),
                reason,
            })?;
            if chunk.is_empty() {
                break;
            }
            copied += insert_lines(tx, self.backend, id, s, i64_of(copied), &chunk)
                .await
                .ctx(op, format!("lines of {object}"))?;
        }
        if copied != lines.total() {
            return Err(StoreError::Invalid {
                what: format!("lines of {object}"),
                reason: format!("{copied} of {} lines were saved", lines.total()),
            });
        }

        let superseded = current.map(|c| c.id);
        if let Some(old) = superseded {
            tx.execute(
                "UPDATE statements SET superseded_by = $1 WHERE id = $2",
                &[Arg::I64(id), Arg::I64(old)],
            )
            .await
            .ctx(op, &object)?;
        }
        tx.execute(
            "UPDATE statement_heads SET current_id = $1 WHERE account = $2 AND bill_date = $3",
            &[Arg::I64(id), Arg::Text(&s.account), Arg::Text(&date)],
        )
        .await
        .ctx(op, &object)?;
        Ok(SavedStatement {
            id,
            unchanged: false,
            superseded,
            line_count: lines.total(),
        })
    }

    /// The day's current (not superseded) statement.
    pub async fn current_statement(
        &self,
        account: &str,
        date: BillDate,
    ) -> Result<Option<StatementRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {STATEMENT_COLS} FROM statements \
             WHERE account = $1 AND bill_date = $2 AND superseded_by IS NULL \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(account)
        .bind(date_text(date))
        .fetch_optional(&self.pool)
        .await
        .ctx("read current statement of", format!("{account} {date}"))?;
        row.as_ref().map(statement_from_row).transpose()
    }

    /// Every statement of the day, newest first, superseded ones included.
    pub async fn statements(&self, account: &str, date: BillDate) -> Result<Vec<StatementRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {STATEMENT_COLS} FROM statements \
             WHERE account = $1 AND bill_date = $2 ORDER BY id DESC"
        ))
        .bind(account)
        .bind(date_text(date))
        .fetch_all(&self.pool)
        .await
        .ctx("list statements of", format!("{account} {date}"))?;
        rows.iter().map(statement_from_row).collect()
    }

    /// One statement by id.
    pub async fn statement(&self, id: i64) -> Result<Option<StatementRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {STATEMENT_COLS} FROM statements WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("read statement", id)?;
        row.as_ref().map(statement_from_row).transpose()
    }

    /// The line of a statement at a file line number (the evidence a discrepancy names).
    pub async fn statement_line_at(
        &self,
        statement_id: i64,
        source_line: u64,
    ) -> Result<Option<StatementLine>> {
        let Some(st) = self.statement(statement_id).await? else {
            return Ok(None);
        };
        let line = i64::try_from(source_line).unwrap_or(i64::MAX);
        let mut lines = read_lines_where(
            &self.pool,
            &st,
            "source_line >= $2 AND source_line <= $3",
            line,
            line,
        )
        .await?;
        Ok(if lines.is_empty() {
            None
        } else {
            Some(lines.swap_remove(0))
        })
    }

    /// A statement's lines in file order, exactly as saved (times at millisecond precision).
    pub async fn statement_lines(&self, statement_id: i64) -> Result<Vec<StatementLine>> {
        let st = self
            .statement(statement_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "statement",
                id: statement_id.to_string(),
            })?;
        // Large statements are read in a few seq ranges on separate connections at once:
        // row delivery, not the query, is what takes the time.
        let total = i64_of(st.line_count);
        let parts: i64 = if total >= 40_000 { 4 } else { 1 };
        let step = (total + parts - 1) / parts.max(1);
        let st = std::sync::Arc::new(st);
        let mut tasks = tokio::task::JoinSet::new();
        for p in 0..parts {
            let (from, to) = if parts == 1 {
                (0, i64::MAX)
            } else {
                (
                    p * step,
                    if p == parts - 1 {
                        i64::MAX
                    } else {
                        (p + 1) * step
                    },
                )
            };
            let pool = self.pool.clone();
            let st = st.clone();
            tasks.spawn(async move { (p, read_lines(&pool, &st, from, to).await) });
        }
        let mut chunks: Vec<(i64, Vec<StatementLine>)> = Vec::with_capacity(parts as usize);
        while let Some(joined) = tasks.join_next().await {
            let (p, res) = joined.map_err(|e| StoreError::Invalid {
                what: format!("read of statement {statement_id}"),
                reason: format!("reader task failed: {e}"),
            })?;
            chunks.push((p, res?));
        }
        chunks.sort_by_key(|c| c.0);
        let mut out = Vec::with_capacity(st.line_count as usize);
        for (_, c) in chunks {
            out.extend(c);
        }
        Ok(out)
    }
}

async fn read_lines(
    pool: &sqlx::AnyPool,
    st: &StatementRecord,
    from: i64,
    to: i64,
) -> Result<Vec<StatementLine>> {
    read_lines_where(pool, st, "seq >= $2 AND seq < $3", from, to).await
}

/// Lines of `st` matching `cond` (over `$2` and `$3`), in file order.
async fn read_lines_where(
    pool: &sqlx::AnyPool,
    st: &StatementRecord,
    cond: &str,
    p2: i64,
    p3: i64,
) -> Result<Vec<StatementLine>> {
    let op = "read lines of statement";
    let statement_id = st.id;
    let sql = format!(
        "SELECT seq, provider, account, provider_txn_id, merchant_order_no, kind, gross, \
         fee_milli, net, currency, provider_time, provider_refund_id, merchant_refund_no, \
         provider_status, source_file, source_line \
         FROM statement_lines WHERE statement_id = $1 AND {cond} ORDER BY seq"
    );
    let rows = sqlx::query(&sql)
        .bind(statement_id)
        .bind(p2)
        .bind(p3)
        .fetch_all(pool)
        .await
        .ctx(op, statement_id)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.try_get("seq").ctx(op, statement_id)?;
        let r = RowReader::new(row, "statement_lines", format!("{statement_id}/{seq}"));
        let provider = match r.opt_parsed::<Provider>("provider")? {
            Some(p) => p,
            None => st.provider,
        };
        out.push(StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider,
            account: r
                .opt_text("account")?
                .unwrap_or_else(|| st.account.clone())
                .into(),
            provider_txn_id: r.text("provider_txn_id")?.into(),
            merchant_order_no: r.opt_text("merchant_order_no")?.map(Into::into),
            kind: r.parsed("kind")?,
            gross: r.i64("gross")?,
            fee_milli: r.i64("fee_milli")?,
            net: r.i64("net")?,
            currency: r.currency("currency")?,
            provider_time: r.time("provider_time")?,
            provider_refund_id: r.opt_text("provider_refund_id")?.map(Into::into),
            merchant_refund_no: r.opt_text("merchant_refund_no")?.map(Into::into),
            provider_status: r.text("provider_status")?.into(),
            source: SourceRef {
                file: r
                    .opt_text("source_file")?
                    .unwrap_or_else(|| st.file_name.clone())
                    .into(),
                line: r.u64("source_line")?,
            },
            fee_base: None,
        });
    }
    Ok(out)
}
