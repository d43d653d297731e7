//! The run lock, reconciliation runs, their outcomes, and the discrepancy upsert.

use crate::codec::{
    chunk_rows, date_text, i64_of, insert_sql, ms, now_ms, numbered, qmarks, AnyQuery, RowReader,
};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::liveness::{LockOwner, RUN_LOCK_STALE_AFTER};
use crate::save_tx::{copy_in, Arg, RowSource, SaveTx, SliceRows};
use crate::statements::{NewStatement, SavedStatement};
use chrono::{DateTime, Utc};
use paydesk_core::{
    BillDate, DiscrepancyDraft, MatchRule, OutcomeClass, Provider, ResolutionKind, ReviewState,
    StatementLine,
};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Proof of holding the run lock of (account, date). Release it with [`AppDb::unlock_run`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLock {
    pub account: String,
    pub date: BillDate,
    pub holder: String,
    pub token: String,
}

/// A finished run about to be saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    pub statement_id: i64,
    pub statement_sha256: String,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub counts: BTreeMap<OutcomeClass, u64>,
    pub totals_json: serde_json::Value,
}

/// A saved run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunRecord {
    pub id: i64,
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    pub statement_id: i64,
    pub statement_sha256: String,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub counts: BTreeMap<OutcomeClass, u64>,
    #[cfg_attr(feature = "ts", ts(type = "Partial<Totals> | null"))]
    pub totals_json: serde_json::Value,
}

/// One outcome of a run (one per statement line, order or refund considered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub seq: u64,
    pub class: OutcomeClass,
    pub rule: MatchRule,
    pub line_no: Option<u64>,
    pub provider_txn_id: Option<String>,
    pub order_no: Option<String>,
    pub refund_no: Option<String>,
    pub discrepancy_key: Option<String>,
}

/// A discrepancy a run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDiscrepancy {
    pub draft: DiscrepancyDraft,
    pub account: String,
    pub provider: Provider,
    pub bill_date: BillDate,
    pub due_at: DateTime<Utc>,
}

/// The previous day's timing differences this run's statement closes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarryOverCloses {
    pub prev_date: Option<BillDate>,
    /// Keys like "order:SO-1", "refund:RF-1" (a bare number is tried as both).
    pub matched: Vec<String>,
    /// Keys that were expected today but are still missing: closed on the previous day and
    /// reported as order-only / refund-only on this day instead.
    pub still_missing: Vec<String>,
}

const RUN_COLS: &str = "id, account, provider, bill_date, statement_id, statement_sha256, \
     started_by, started_at, finished_at, counts_json, totals_json";

fn run_from_row(row: &AnyRow) -> Result<RunRecord> {
    let id: i64 = row.try_get("id").ctx("read", "run")?;
    let r = RowReader::new(row, "runs", format!("id {id}"));
    let counts_text = r.text("counts_json")?;
    let counts: BTreeMap<OutcomeClass, u64> =
        serde_json::from_str(&counts_text).map_err(|e| StoreError::Corrupt {
            table: "runs",
            key: format!("id {id}"),
            column: "counts_json",
            reason: e.to_string(),
        })?;
    let totals_text = r.text("totals_json")?;
    let totals_json = serde_json::from_str(&totals_text).map_err(|e| StoreError::Corrupt {
        table: "runs",
        key: format!("id {id}"),
        column: "totals_json",
        reason: e.to_string(),
    })?;
    Ok(RunRecord {
        id,
        account: r.text("account")?,
        provider: r.parsed("provider")?,
        bill_date: r.date("bill_date")?,
        statement_id: r.i64("statement_id")?,
        statement_sha256: r.text("statement_sha256")?,
        started_by: r.text("started_by")?,
        started_at: r.time("started_at")?,
        finished_at: r.time("finished_at")?,
        counts,
        totals_json,
    })
}

/// A history row to insert.
pub(crate) struct NewHistory {
    pub discrepancy_id: i64,
    pub at: i64,
    pub actor: String,
    pub field: &'static str,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

const HISTORY_COLS: [&str; 6] = [
    "discrepancy_id",
    "at",
    "actor",
    "field",
    "old_value",
    "new_value",
];

fn bind_history<'q>(q: AnyQuery<'q>, h: &'q NewHistory) -> AnyQuery<'q> {
    q.bind(h.discrepancy_id)
        .bind(h.at)
        .bind(h.actor.as_str())
        .bind(h.field)
        .bind(h.old_value.as_deref())
        .bind(h.new_value.as_deref())
}

pub(crate) async fn insert_history(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    entries: &[NewHistory],
    op: &'static str,
) -> Result<()> {
    let per = chunk_rows(HISTORY_COLS.len());
    for chunk in entries.chunks(per) {
        let sql = insert_sql(
            backend,
            "discrepancy_history",
            &HISTORY_COLS,
            chunk.len(),
            "",
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = bind_history(q, h);
        }
        q.execute(&mut **tx).await.ctx(op, "discrepancy history")?;
    }
    Ok(())
}

/// [`insert_history`] in a save's transaction: COPY on PostgreSQL.
async fn save_history(
    tx: &mut SaveTx,
    backend: Backend,
    entries: &[NewHistory],
    op: &'static str,
) -> Result<()> {
    match tx {
        SaveTx::Any(tx) => insert_history(tx, backend, entries, op).await,
        SaveTx::Pg(tx) => {
            copy_in(tx, "discrepancy_history", &HISTORY_COLS, entries, |r, h| {
                r.i64(h.discrepancy_id);
                r.i64(h.at);
                r.text(&h.actor);
                r.text(h.field);
                r.opt_text(h.old_value.as_deref());
                r.opt_text(h.new_value.as_deref());
            })
            .await
            .ctx(op, "discrepancy history")?;
            Ok(())
        }
    }
}

/// `UPDATE discrepancies SET <set> WHERE id IN (...)` in chunks; `set` uses `?` for
/// `params` (in order), the ids follow.
async fn update_ids(
    tx: &mut SaveTx,
    backend: Backend,
    set: &str,
    params: &[Arg<'_>],
    ids: &[i64],
    op: &'static str,
) -> Result<()> {
    let per = 30_000usize;
    for chunk in ids.chunks(per) {
        let sql = numbered(
            &format!(
                "UPDATE discrepancies SET {set} WHERE id IN ({})",
                qmarks(chunk.len())
            ),
            backend,
        );
        let mut args = params.to_vec();
        args.extend(chunk.iter().map(|id| Arg::I64(*id)));
        tx.execute(&sql, &args).await.ctx(op, "discrepancies")?;
    }
    Ok(())
}

/// The columns a run writes (and may change on a re-run), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DataCols {
    provider: String,
    class: String,
    rule: String,
    order_no: Option<String>,
    provider_txn_id: Option<String>,
    refund_no: Option<String>,
    currency: String,
    provider_amount: Option<i64>,
    local_amount: Option<i64>,
    difference: i64,
    provider_currency: Option<String>,
    local_currency: Option<String>,
    provider_time: Option<i64>,
    local_time: Option<i64>,
    evidence_file: Option<String>,
    evidence_line: Option<i64>,
    explanation: String,
    explanation_zh: Option<String>,
}

impl DataCols {
    fn of(d: &NewDiscrepancy) -> DataCols {
        let dr = &d.draft;
        DataCols {
            provider: d.provider.as_str().to_string(),
            class: dr.class.as_str().to_string(),
            rule: dr.rule.as_str().to_string(),
            order_no: dr.order_no.clone(),
            provider_txn_id: dr.provider_txn_id.clone(),
            refund_no: dr.refund_no.clone(),
            currency: dr.currency.code().to_string(),
            provider_amount: dr.provider_amount,
            local_amount: dr.local_amount,
            difference: dr.difference,
            provider_currency: dr.provider_currency.map(|c| c.code().to_string()),
            local_currency: dr.local_currency.map(|c| c.code().to_string()),
            provider_time: dr.provider_time.map(ms),
            local_time: dr.local_time.map(ms),
            evidence_file: dr.evidence.as_ref().map(|e| e.file.to_string()),
            evidence_line: dr.evidence.as_ref().map(|e| i64_of(e.line)),
            explanation: dr.explanation.clone(),
            explanation_zh: Some(dr.explanation_zh.clone()).filter(|s| !s.is_empty()),
        }
    }

    fn read(r: &RowReader<'_>) -> Result<DataCols> {
        Ok(DataCols {
            provider: r.text("provider")?,
            class: r.text("class")?,
            rule: r.text("rule")?,
            order_no: r.opt_text("order_no")?,
            provider_txn_id: r.opt_text("provider_txn_id")?,
            refund_no: r.opt_text("refund_no")?,
            currency: r.text("currency")?,
            provider_amount: r.opt_i64("provider_amount")?,
            local_amount: r.opt_i64("local_amount")?,
            difference: r.i64("difference")?,
            provider_currency: r.opt_text("provider_currency")?,
            local_currency: r.opt_text("local_currency")?,
            provider_time: r.opt_i64("provider_time")?,
            local_time: r.opt_i64("local_time")?,
            evidence_file: r.opt_text("evidence_file")?,
            evidence_line: r.opt_i64("evidence_line")?,
            explanation: r.text("explanation")?,
            explanation_zh: r.opt_text("explanation_zh")?,
        })
    }
}

/// What save_run needs to know of an existing discrepancy of the day.
struct Existing {
    id: i64,
    data: DataCols,
    state: String,
    resolution: Option<String>,
    present: bool,
    auto_closed: Option<String>,
}

const EXISTING_COLS: &str = "id, dkey, provider, class, rule, order_no, provider_txn_id, \
     refund_no, currency, provider_amount, local_amount, difference, provider_currency, \
     local_currency, provider_time, local_time, evidence_file, evidence_line, explanation, \
     explanation_zh, state, resolution, present, auto_closed";

const INSERT_COLS: [&str; 33] = [
    "account",
    "provider",
    "bill_date",
    "dkey",
    "class",
    "rule",
    "order_no",
    "provider_txn_id",
    "refund_no",
    "currency",
    "provider_amount",
    "local_amount",
    "difference",
    "abs_difference",
    "provider_currency",
    "local_currency",
    "provider_time",
    "local_time",
    "evidence_file",
    "evidence_line",
    "explanation",
    "explanation_zh",
    "state",
    "resolution",
    "note",
    "assignee",
    "due_at",
    "created_at",
    "updated_at",
    "first_run_id",
    "last_run_id",
    "present",
    "auto_closed",
];

struct InsertCtx<'a> {
    date: &'a str,
    now: i64,
    run_id: i64,
}

fn bind_new<'q>(
    q: AnyQuery<'q>,
    d: &'q NewDiscrepancy,
    key: &'q str,
    c: &DataCols,
    x: &InsertCtx<'q>,
) -> AnyQuery<'q> {
    q.bind(d.account.as_str())
        .bind(d.provider.as_str())
        .bind(x.date)
        .bind(key)
        .bind(d.draft.class.as_str())
        .bind(d.draft.rule.as_str())
        .bind(d.draft.order_no.as_deref())
        .bind(d.draft.provider_txn_id.as_deref())
        .bind(d.draft.refund_no.as_deref())
        .bind(d.draft.currency.code())
        .bind(d.draft.provider_amount)
        .bind(d.draft.local_amount)
        .bind(d.draft.difference)
        .bind(d.draft.amount_at_stake())
        .bind(c.provider_currency.clone())
        .bind(c.local_currency.clone())
        .bind(c.provider_time)
        .bind(c.local_time)
        .bind(d.draft.evidence.as_ref().map(|e| e.file.as_str()))
        .bind(c.evidence_line)
        .bind(d.draft.explanation.as_str())
        .bind(c.explanation_zh.clone())
        .bind(ReviewState::Open.as_str())
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind(ms(d.due_at))
        .bind(x.now)
        .bind(x.now)
        .bind(x.run_id)
        .bind(x.run_id)
        .bind(1i64)
        .bind(None::<&str>)
}

fn normalize_close_key(k: &str) -> Vec<String> {
    let k = k.trim();
    if k.starts_with("order:") || k.starts_with("refund:") {
        vec![k.to_string()]
    } else {
        vec![format!("order:{k}"), format!("refund:{k}")]
    }
}

impl AppDb {
    /// Takes the run lock of (account, date) for `ttl`, as this process
    /// ([`AppDb::try_lock_run_as`] with [`LockOwner::current`] and
    /// [`RUN_LOCK_STALE_AFTER`]).
    pub async fn try_lock_run(
        &self,
        account: &str,
        date: BillDate,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<RunLock> {
        self.try_lock_run_as(
            account,
            date,
            holder,
            &LockOwner::current(),
            ttl,
            RUN_LOCK_STALE_AFTER,
        )
        .await
    }

    /// Takes the run lock of (account, date) for `ttl`, recording `owner` (host, pid, the
    /// pid's start time) and a first heartbeat. Refused with [`StoreError::RunLocked`] while
    /// another holder's lock is held; it is taken over when
    /// - it expired (`ttl` passed), or
    /// - its holder ran on this host and that process is gone (or its pid is now another
    ///   process), or
    /// - its holder ran on another host (or its process cannot be checked) and its heartbeat
    ///   ([`AppDb::heartbeat_run_lock`]) is older than `stale_after`.
    ///
    /// A live holder on this host is always respected.
    pub async fn try_lock_run_as(
        &self,
        account: &str,
        date: BillDate,
        holder: &str,
        owner: &LockOwner,
        ttl: std::time::Duration,
        stale_after: std::time::Duration,
    ) -> Result<RunLock> {
        let op = "take run lock of";
        let object = format!("{account} {date}");
        let token = uuid::Uuid::new_v4().to_string();
        let d = date_text(date);
        let pid = i64::from(owner.pid);
        let host = (!owner.host.is_empty()).then_some(owner.host.as_str());
        let ours = |token: String| RunLock {
            account: account.to_string(),
            date,
            holder: holder.to_string(),
            token,
        };
        for _attempt in 0..3 {
            let now = now_ms();
            let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
            let res = sqlx::query(
                "INSERT INTO run_locks (account, bill_date, holder, token, acquired_at, expires_at, \
                 host, pid, pid_start, heartbeat_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (account, bill_date) DO UPDATE SET holder = excluded.holder, \
                 token = excluded.token, acquired_at = excluded.acquired_at, \
                 expires_at = excluded.expires_at, host = excluded.host, pid = excluded.pid, \
                 pid_start = excluded.pid_start, heartbeat_at = excluded.heartbeat_at \
                 WHERE run_locks.expires_at < excluded.acquired_at",
            )
            .bind(account)
            .bind(d.as_str())
            .bind(holder)
            .bind(token.as_str())
            .bind(now)
            .bind(expires)
            .bind(host)
            .bind(pid)
            .bind(owner.pid_start.as_deref())
            .bind(now)
            .execute(&self.pool)
            .await
            .ctx(op, &object)?;
            if res.rows_affected() == 1 {
                return Ok(ours(token));
            }
            let row = sqlx::query(
                "SELECT holder, token, acquired_at, host, pid, pid_start, heartbeat_at \
                 FROM run_locks WHERE account = $1 AND bill_date = $2",
            )
            .bind(account)
            .bind(d.as_str())
            .fetch_optional(&self.pool)
            .await
            .ctx(op, &object)?;
            let Some(row) = row else {
                // Released between our attempt and the look-up: try again.
                continue;
            };
            let r = RowReader::new(&row, "run_locks", object.clone());
            let held_by = r.text("holder")?;
            let their_token = r.text("token")?;
            let since = r.time("acquired_at")?;
            let their_host = r.opt_text("host")?.unwrap_or_default();
            let their_pid = r.opt_i64("pid")?;
            let their_start = r.opt_text("pid_start")?;
            let heartbeat = r.opt_i64("heartbeat_at")?;
            let same_host = !their_host.is_empty() && their_host == owner.host;
            let alive = match (same_host, their_pid.and_then(|p| u32::try_from(p).ok())) {
                (true, Some(p)) => crate::liveness::process_alive(p, their_start.as_deref()),
                _ => None,
            };
            let stale_ms = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
            let silent = heartbeat.is_some_and(|h| now.saturating_sub(h) > stale_ms);
            let gone = match alive {
                Some(alive) => !alive,
                None => silent,
            };
            if gone {
                let why = if alive == Some(false) {
                    "its process on this host is gone"
                } else {
                    "its heartbeat stopped"
                };
                let took = sqlx::query(
                    "UPDATE run_locks SET holder = $1, token = $2, acquired_at = $3, \
                     expires_at = $4, host = $5, pid = $6, pid_start = $7, heartbeat_at = $8 \
                     WHERE account = $9 AND bill_date = $10 AND token = $11",
                )
                .bind(holder)
                .bind(token.as_str())
                .bind(now)
                .bind(expires)
                .bind(host)
                .bind(pid)
                .bind(owner.pid_start.as_deref())
                .bind(now)
                .bind(account)
                .bind(d.as_str())
                .bind(their_token.as_str())
                .execute(&self.pool)
                .await
                .ctx(op, &object)?;
                if took.rows_affected() == 1 {
                    tracing::warn!(
                        account, date = %date, previous = %held_by, host = %their_host,
                        pid = ?their_pid, "took over the run lock: {why}"
                    );
                    return Ok(ours(token));
                }
                // Someone else took it over first: look again.
                continue;
            }
            let mut detail = String::new();
            if !their_host.is_empty() {
                detail.push_str(&format!(" on host {their_host}"));
            }
            if let Some(p) = their_pid {
                detail.push_str(&format!(" pid {p}"));
            }
            if let Some(h) = heartbeat {
                let ago = now.saturating_sub(h).max(0) / 1000;
                detail.push_str(&format!(", last heartbeat {ago} s ago"));
            }
            return Err(StoreError::RunLocked {
                account: account.to_string(),
                date,
                holder: held_by,
                since,
                detail,
            });
        }
        Err(StoreError::RunLocked {
            account: account.to_string(),
            date,
            holder: "another run (the lock changed hands repeatedly)".into(),
            since: Utc::now(),
            detail: String::new(),
        })
    }

    /// Records that the holder of `lock` is alive (call every few seconds while the run
    /// lasts, well within [`RUN_LOCK_STALE_AFTER`]). [`StoreError::LockNotHeld`] when the
    /// lock is not ours any more.
    pub async fn heartbeat_run_lock(&self, lock: &RunLock) -> Result<()> {
        let res = sqlx::query(
            "UPDATE run_locks SET heartbeat_at = $1 WHERE account = $2 AND bill_date = $3 AND token = $4",
        )
        .bind(now_ms())
        .bind(lock.account.as_str())
        .bind(date_text(lock.date))
        .bind(lock.token.as_str())
        .execute(&self.pool)
        .await
        .ctx("heartbeat run lock of", format!("{} {}", lock.account, lock.date))?;
        if res.rows_affected() == 1 {
            Ok(())
        } else {
            Err(lock_lost(
                lock,
                "it was released or another run took it over",
            ))
        }
    }

    /// Extends a held lock to expire `ttl` from now (for long runs).
    pub async fn refresh_run_lock(&self, lock: &RunLock, ttl: std::time::Duration) -> Result<()> {
        let expires = now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let res = sqlx::query(
            "UPDATE run_locks SET expires_at = $1 WHERE account = $2 AND bill_date = $3 AND token = $4",
        )
        .bind(expires)
        .bind(lock.account.as_str())
        .bind(date_text(lock.date))
        .bind(lock.token.as_str())
        .execute(&self.pool)
        .await
        .ctx("refresh run lock of", format!("{} {}", lock.account, lock.date))?;
        if res.rows_affected() == 1 {
            Ok(())
        } else {
            Err(lock_lost(lock, "it expired and another run took it over"))
        }
    }

    /// Releases the lock. Releasing a lock that has meanwhile been taken over by another
    /// holder leaves that holder's lock alone (and is not an error).
    pub async fn unlock_run(&self, lock: RunLock) -> Result<()> {
        let res = sqlx::query(
            "DELETE FROM run_locks WHERE account = $1 AND bill_date = $2 AND token = $3",
        )
        .bind(lock.account.as_str())
        .bind(date_text(lock.date))
        .bind(lock.token.as_str())
        .execute(&self.pool)
        .await
        .ctx(
            "release run lock of",
            format!("{} {}", lock.account, lock.date),
        )?;
        if res.rows_affected() == 0 {
            tracing::warn!(
                account = %lock.account, date = %lock.date, holder = %lock.holder,
                "run lock was already released or taken over by another run"
            );
        }
        Ok(())
    }

    /// Saves a run, its outcomes and the upsert of its discrepancies in one transaction.
    /// See the crate docs for the rules (review work survives re-runs; gone discrepancies are
    /// auto-resolved; reappearing ones reopen; carry-overs close the previous day's timing
    /// differences).
    pub async fn save_run(
        &self,
        lock: &RunLock,
        run: &NewRun,
        outcomes: &[OutcomeRow],
        discrepancies: &[NewDiscrepancy],
        closes: &CarryOverCloses,
    ) -> Result<RunRecord> {
        let op = "save run of";
        let object = format!("{} {}", run.account, run.bill_date);
        let mut tx = self.begin_save(op, &object).await?;
        let record = self
            .save_run_in(
                &mut tx,
                lock,
                run,
                &mut SliceRows::new(outcomes),
                discrepancies,
                closes,
            )
            .await?;
        tx.commit().await.ctx(op, &object)?;
        Ok(record)
    }

    /// Saves the statement ([`AppDb::save_statement`]: unchanged content is not stored
    /// twice, changed content supersedes the day's current statement) and the run of it
    /// ([`AppDb::save_run`], `run.statement_id` is replaced by the saved statement's id) in
    /// ONE transaction: the import becomes the day's current statement only together with
    /// its run, and a failure anywhere leaves the database as it was.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_statement_and_run(
        &self,
        lock: &RunLock,
        statement: &NewStatement,
        lines: &[StatementLine],
        run: &NewRun,
        outcomes: &[OutcomeRow],
        discrepancies: &[NewDiscrepancy],
        closes: &CarryOverCloses,
    ) -> Result<(SavedStatement, RunRecord)> {
        self.save_statement_and_run_streamed(
            lock,
            statement,
            &mut SliceRows::new(lines),
            run,
            &mut SliceRows::new(outcomes),
            discrepancies,
            closes,
        )
        .await
    }

    /// [`Self::save_statement_and_run`] with the lines and outcomes handed over a chunk at
    /// a time (a day of millions is never held whole), in the same one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_statement_and_run_streamed(
        &self,
        lock: &RunLock,
        statement: &NewStatement,
        lines: &mut dyn RowSource<StatementLine>,
        run: &NewRun,
        outcomes: &mut dyn RowSource<OutcomeRow>,
        discrepancies: &[NewDiscrepancy],
        closes: &CarryOverCloses,
    ) -> Result<(SavedStatement, RunRecord)> {
        let op = "save run of";
        let object = format!("{} {}", run.account, run.bill_date);
        if statement.account != run.account || statement.bill_date != run.bill_date {
            return Err(StoreError::Invalid {
                what: format!("statement {}", statement.file_name),
                reason: format!(
                    "it is for {} {}, the run for {} {}",
                    statement.account, statement.bill_date, run.account, run.bill_date
                ),
            });
        }
        let started = std::time::Instant::now();
        let mut tx = self.begin_save(op, &object).await?;
        // A lost lock fails the save before a million lines are written, not after.
        check_lock(&mut tx, lock, op, &object).await?;
        let saved = self.save_statement_in(&mut tx, statement, lines).await?;
        let statement_ms = started.elapsed().as_millis();
        let run = NewRun {
            statement_id: saved.id,
            ..run.clone()
        };
        let record = self
            .save_run_in(&mut tx, lock, &run, outcomes, discrepancies, closes)
            .await?;
        let run_ms = started.elapsed().as_millis() - statement_ms;
        tx.commit().await.ctx(op, &object)?;
        // Where a save's time goes (`PAYDESK_LOG=paydesk_store=debug`).
        tracing::debug!(
            lines = lines.total(),
            outcomes = outcomes.total(),
            discrepancies = discrepancies.len(),
            statement_ms,
            run_ms,
            commit_ms = started.elapsed().as_millis() - statement_ms - run_ms,
            "saved statement and run"
        );
        Ok((saved, record))
    }

    async fn save_run_in(
        &self,
        tx: &mut SaveTx,
        lock: &RunLock,
        run: &NewRun,
        outcomes: &mut dyn RowSource<OutcomeRow>,
        discrepancies: &[NewDiscrepancy],
        closes: &CarryOverCloses,
    ) -> Result<RunRecord> {
        let op = "save run of";
        let object = format!("{} {}", run.account, run.bill_date);
        if lock.account != run.account || lock.date != run.bill_date {
            return Err(lock_lost(
                lock,
                &format!("the run is for {} {}", run.account, run.bill_date),
            ));
        }
        for d in discrepancies {
            if d.account != run.account || d.bill_date != run.bill_date {
                return Err(StoreError::Invalid {
                    what: format!("discrepancy {}", d.draft.key),
                    reason: format!(
                        "it is for {} {}, the run for {} {}",
                        d.account, d.bill_date, run.account, run.bill_date
                    ),
                });
            }
        }
        // Keys must be unique within the day; a statement that lists the same item twice
        // gets "#2", "#3" suffixes (stable across re-runs of the same file).
        let mut seen: HashMap<&str, u32> = HashMap::new();
        let mut keys: Vec<String> = Vec::with_capacity(discrepancies.len());
        for d in discrepancies {
            let n = seen.entry(d.draft.key.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 {
                keys.push(d.draft.key.clone());
            } else {
                tracing::warn!(key = %d.draft.key, "duplicate discrepancy key in one run");
                keys.push(format!("{}#{}", d.draft.key, n));
            }
        }

        let date = date_text(run.bill_date);
        let now = now_ms();
        let actor = run.started_by.clone();

        check_lock(tx, lock, op, &object).await?;

        let counts_json = serde_json::to_string(&run.counts).map_err(|e| StoreError::Invalid {
            what: "run counts".into(),
            reason: e.to_string(),
        })?;
        let totals_json = run.totals_json.to_string();
        let run_id: i64 = tx
            .fetch_one(
                "INSERT INTO runs (account, provider, bill_date, statement_id, statement_sha256, \
                 started_by, started_at, finished_at, counts_json, totals_json) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                &[
                    Arg::Text(&run.account),
                    Arg::Text(run.provider.as_str()),
                    Arg::Text(&date),
                    Arg::I64(run.statement_id),
                    Arg::Text(&run.statement_sha256),
                    Arg::Text(&run.started_by),
                    Arg::I64(ms(run.started_at)),
                    Arg::I64(ms(run.finished_at)),
                    Arg::Text(&counts_json),
                    Arg::Text(&totals_json),
                ],
            )
            .await
            .ctx(op, &object)?
            .try_get("id")
            .ctx(op, &object)?;

        let started = std::time::Instant::now();
        let mut saved: u64 = 0;
        loop {
            let chunk = outcomes
                .next_chunk()
                .map_err(|reason| StoreError::Invalid {
                    what: format!("outcomes of run {run_id}"),
                    reason,
                })?;
            if chunk.is_empty() {
                break;
            }
            saved += insert_outcomes(tx, self.backend, run_id, &chunk)
                .await
                .ctx("save outcomes of run", run_id)?;
        }
        tracing::debug!(
            outcomes = outcomes.total(),
            ms = started.elapsed().as_millis(),
            "saved outcomes"
        );
        if saved != outcomes.total() {
            return Err(StoreError::Invalid {
                what: format!("outcomes of run {run_id}"),
                reason: format!("{saved} of {} outcomes were saved", outcomes.total()),
            });
        }

        // Existing discrepancies of the day.
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT {EXISTING_COLS} FROM discrepancies \
                     WHERE account = $1 AND bill_date = $2"
                ),
                &[Arg::Text(&run.account), Arg::Text(&date)],
            )
            .await
            .ctx(op, &object)?;
        let mut existing: HashMap<String, Existing> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let key: String = row.try_get("dkey").ctx(op, &object)?;
            let r = RowReader::new(row, "discrepancies", format!("{object} {key}"));
            existing.insert(
                key,
                Existing {
                    id: r.i64("id")?,
                    data: DataCols::read(&r)?,
                    state: r.text("state")?,
                    resolution: r.opt_text("resolution")?,
                    present: r.bool("present")?,
                    auto_closed: r.opt_text("auto_closed")?,
                },
            );
        }
        drop(rows);

        let mut history: Vec<NewHistory> = Vec::new();
        let hist =
            |id: i64, field: &'static str, old: Option<String>, new: Option<String>| NewHistory {
                discrepancy_id: id,
                at: now,
                actor: actor.clone(),
                field,
                old_value: old,
                new_value: new,
            };
        let mut to_insert: Vec<(usize, DataCols)> = Vec::new();
        let mut touch_only: Vec<i64> = Vec::new();
        let resolved = ReviewState::Resolved.as_str();
        let auto = ResolutionKind::AutoMatched.as_str();
        let update_sql = "UPDATE discrepancies SET provider = $1, class = $2, rule = $3, \
             order_no = $4, provider_txn_id = $5, refund_no = $6, currency = $7, \
             provider_amount = $8, local_amount = $9, difference = $10, abs_difference = $11, \
             provider_currency = $12, local_currency = $13, provider_time = $14, \
             local_time = $15, evidence_file = $16, evidence_line = $17, explanation = $18, \
             last_run_id = $19, present = 1, updated_at = $20, state = $21, resolution = $22, \
             auto_closed = $23, explanation_zh = $24 WHERE id = $25";

        for (i, d) in discrepancies.iter().enumerate() {
            let key = &keys[i];
            let data = DataCols::of(d);
            let Some(ex) = existing.get(key) else {
                to_insert.push((i, data));
                continue;
            };
            let reappears = !ex.present;
            let reopen = reappears
                && ex.state == resolved
                && ex.resolution.as_deref() == Some(auto)
                && ex.auto_closed.as_deref() == Some("gone");
            if data == ex.data && !reappears {
                touch_only.push(ex.id);
                continue;
            }
            if data.class != ex.data.class {
                history.push(hist(
                    ex.id,
                    "class",
                    Some(ex.data.class.clone()),
                    Some(data.class.clone()),
                ));
            }
            if data.difference != ex.data.difference {
                history.push(hist(
                    ex.id,
                    "difference",
                    Some(ex.data.difference.to_string()),
                    Some(data.difference.to_string()),
                ));
            }
            if data.provider_amount != ex.data.provider_amount {
                history.push(hist(
                    ex.id,
                    "provider_amount",
                    ex.data.provider_amount.map(|v| v.to_string()),
                    data.provider_amount.map(|v| v.to_string()),
                ));
            }
            if data.local_amount != ex.data.local_amount {
                history.push(hist(
                    ex.id,
                    "local_amount",
                    ex.data.local_amount.map(|v| v.to_string()),
                    data.local_amount.map(|v| v.to_string()),
                ));
            }
            if reappears {
                history.push(hist(
                    ex.id,
                    "presence",
                    Some("gone".into()),
                    Some(format!("found again by run {run_id}")),
                ));
            }
            let (state, resolution, auto_closed) = if reopen {
                history.push(hist(
                    ex.id,
                    "state",
                    Some(ex.state.clone()),
                    Some(ReviewState::Open.as_str().into()),
                ));
                history.push(hist(ex.id, "resolution", ex.resolution.clone(), None));
                (ReviewState::Open.as_str().to_string(), None, None)
            } else {
                (
                    ex.state.clone(),
                    ex.resolution.clone(),
                    ex.auto_closed.clone(),
                )
            };
            tx.execute(
                update_sql,
                &[
                    Arg::Text(&data.provider),
                    Arg::Text(&data.class),
                    Arg::Text(&data.rule),
                    Arg::OptText(data.order_no.as_deref()),
                    Arg::OptText(data.provider_txn_id.as_deref()),
                    Arg::OptText(data.refund_no.as_deref()),
                    Arg::Text(&data.currency),
                    Arg::OptI64(data.provider_amount),
                    Arg::OptI64(data.local_amount),
                    Arg::I64(data.difference),
                    Arg::I64(paydesk_core::amount_at_stake(
                        data.difference,
                        data.provider_amount,
                        data.local_amount,
                    )),
                    Arg::OptText(data.provider_currency.as_deref()),
                    Arg::OptText(data.local_currency.as_deref()),
                    Arg::OptI64(data.provider_time),
                    Arg::OptI64(data.local_time),
                    Arg::OptText(data.evidence_file.as_deref()),
                    Arg::OptI64(data.evidence_line),
                    Arg::Text(&data.explanation),
                    Arg::I64(run_id),
                    Arg::I64(now),
                    Arg::Text(&state),
                    Arg::OptText(resolution.as_deref()),
                    Arg::OptText(auto_closed.as_deref()),
                    Arg::OptText(data.explanation_zh.as_deref()),
                    Arg::I64(ex.id),
                ],
            )
            .await
            .ctx(op, format!("discrepancy {key} of {object}"))?;
        }
        update_ids(
            tx,
            self.backend,
            "last_run_id = ?",
            &[Arg::I64(run_id)],
            &touch_only,
            op,
        )
        .await?;

        // Gone: present before, not produced by this run.
        let produced: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let mut gone_resolve: Vec<i64> = Vec::new();
        let mut gone_only: Vec<i64> = Vec::new();
        for (key, ex) in &existing {
            if !ex.present || produced.contains(key.as_str()) {
                continue;
            }
            history.push(hist(
                ex.id,
                "presence",
                Some("present".into()),
                Some(format!("no longer found by run {run_id}")),
            ));
            if ex.state == resolved {
                gone_only.push(ex.id);
            } else {
                history.push(hist(
                    ex.id,
                    "state",
                    Some(ex.state.clone()),
                    Some(resolved.into()),
                ));
                history.push(hist(
                    ex.id,
                    "resolution",
                    ex.resolution.clone(),
                    Some(auto.into()),
                ));
                gone_resolve.push(ex.id);
            }
        }
        gone_only.sort_unstable();
        gone_resolve.sort_unstable();
        update_ids(
            tx,
            self.backend,
            "present = 0, updated_at = ?",
            &[Arg::I64(now)],
            &gone_only,
            op,
        )
        .await?;
        update_ids(
            tx,
            self.backend,
            "present = 0, updated_at = ?, state = ?, resolution = ?, auto_closed = 'gone'",
            &[Arg::I64(now), Arg::Text(resolved), Arg::Text(auto)],
            &gone_resolve,
            op,
        )
        .await?;

        // New discrepancies.
        let ctx = InsertCtx {
            date: date.as_str(),
            now,
            run_id,
        };
        let new_ids = insert_new(tx, self.backend, discrepancies, &keys, &to_insert, &ctx)
            .await
            .ctx(op, format!("new discrepancies of {object}"))?;
        if new_ids.len() != to_insert.len() {
            return Err(StoreError::Invalid {
                what: format!("new discrepancies of {object}"),
                reason: format!("{} of {} were saved", new_ids.len(), to_insert.len()),
            });
        }
        for id in new_ids {
            history.push(hist(
                id,
                "presence",
                None,
                Some(format!("found by run {run_id}")),
            ));
        }

        // Carry-overs: close the previous day's timing differences.
        if let Some(prev) = closes.prev_date {
            let prev_text = date_text(prev);
            let mut wanted: Vec<(String, bool)> = Vec::new();
            for k in &closes.matched {
                wanted.extend(normalize_close_key(k).into_iter().map(|k| (k, false)));
            }
            for k in &closes.still_missing {
                wanted.extend(normalize_close_key(k).into_iter().map(|k| (k, true)));
            }
            let missing_of: HashMap<&str, bool> =
                wanted.iter().map(|(k, m)| (k.as_str(), *m)).collect();
            let all_keys: Vec<&str> = missing_of.keys().copied().collect();
            let mut to_close: Vec<(i64, String, String, Option<String>)> = Vec::new();
            for chunk in all_keys.chunks(10_000) {
                let sql = numbered(
                    &format!(
                        "SELECT id, dkey, state, resolution FROM discrepancies \
                         WHERE account = ? AND bill_date = ? AND class = ? AND dkey IN ({})",
                        qmarks(chunk.len())
                    ),
                    self.backend,
                );
                let mut args = vec![
                    Arg::Text(&run.account),
                    Arg::Text(&prev_text),
                    Arg::Text(OutcomeClass::TimingDifference.as_str()),
                ];
                args.extend(chunk.iter().map(|k| Arg::Text(k)));
                let rows = tx
                    .fetch_all(&sql, &args)
                    .await
                    .ctx(op, format!("carry-overs of {} {prev}", run.account))?;
                for row in &rows {
                    let r = RowReader::new(row, "discrepancies", format!("{} {prev}", run.account));
                    let state = r.text("state")?;
                    if state == resolved {
                        continue;
                    }
                    to_close.push((
                        r.i64("id")?,
                        r.text("dkey")?,
                        state,
                        r.opt_text("resolution")?,
                    ));
                }
            }
            to_close.sort_by_key(|t| t.0);
            let mut ids = Vec::with_capacity(to_close.len());
            for (id, key, state, resolution) in to_close {
                let still_missing = missing_of.get(key.as_str()).copied().unwrap_or(false);
                let note = if still_missing {
                    format!(
                        "still missing from the {} statement (run {run_id}); now reported as {} on {} instead",
                        run.bill_date,
                        if key.starts_with("refund:") { "refund-only-local" } else { "order-only" },
                        run.bill_date
                    )
                } else {
                    format!("found in the {} statement by run {run_id}", run.bill_date)
                };
                history.push(hist(id, "state", Some(state), Some(resolved.into())));
                history.push(hist(id, "resolution", resolution, Some(auto.into())));
                history.push(hist(id, "carry_over", None, Some(note)));
                ids.push(id);
            }
            update_ids(
                tx,
                self.backend,
                "updated_at = ?, state = ?, resolution = ?, auto_closed = 'carry_over'",
                &[Arg::I64(now), Arg::Text(resolved), Arg::Text(auto)],
                &ids,
                op,
            )
            .await?;
        }

        save_history(tx, self.backend, &history, op).await?;
        Ok(RunRecord {
            id: run_id,
            account: run.account.clone(),
            provider: run.provider,
            bill_date: run.bill_date,
            statement_id: run.statement_id,
            statement_sha256: run.statement_sha256.clone(),
            started_by: run.started_by.clone(),
            started_at: trunc_ms(run.started_at),
            finished_at: trunc_ms(run.finished_at),
            counts: run.counts.clone(),
            totals_json: run.totals_json.clone(),
        })
    }

    /// Runs, newest first, optionally of one account and/or day.
    pub async fn runs(
        &self,
        account: Option<&str>,
        date: Option<BillDate>,
        limit: u32,
    ) -> Result<Vec<RunRecord>> {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        if let Some(a) = account {
            params.push(crate::codec::Param::Text(a.to_string()));
            conds.push(format!("account = ${}", params.len()));
        }
        if let Some(d) = date {
            params.push(crate::codec::Param::Text(date_text(d)));
            conds.push(format!("bill_date = ${}", params.len()));
        }
        params.push(crate::codec::Param::I64(i64::from(limit)));
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let sql = format!(
            "SELECT {RUN_COLS} FROM runs {where_} ORDER BY id DESC LIMIT ${}",
            params.len()
        );
        let rows = crate::codec::bind_params(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await
            .ctx("list", "runs")?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn run(&self, id: i64) -> Result<Option<RunRecord>> {
        let row = sqlx::query(&format!("SELECT {RUN_COLS} FROM runs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("read run", id)?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// A page of a run's outcomes in `seq` order.
    pub async fn run_outcomes(
        &self,
        run_id: i64,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<OutcomeRow>> {
        let op = "read outcomes of run";
        let rows = sqlx::query(
            "SELECT seq, class, rule, line_no, provider_txn_id, order_no, refund_no, discrepancy_key \
             FROM run_outcomes WHERE run_id = $1 ORDER BY seq LIMIT $2 OFFSET $3",
        )
        .bind(run_id)
        .bind(i64::from(limit))
        .bind(i64_of(offset))
        .fetch_all(&self.pool)
        .await
        .ctx(op, run_id)?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq").ctx(op, run_id)?;
                let r = RowReader::new(row, "run_outcomes", format!("{run_id}/{seq}"));
                Ok(OutcomeRow {
                    seq: r.u64("seq")?,
                    class: r.parsed("class")?,
                    rule: r.rule("rule")?,
                    line_no: r.opt_u64("line_no")?,
                    provider_txn_id: r.opt_text("provider_txn_id")?,
                    order_no: r.opt_text("order_no")?,
                    refund_no: r.opt_text("refund_no")?,
                    discrepancy_key: r.opt_text("discrepancy_key")?,
                })
            })
            .collect()
    }

    /// Open (unresolved, still present) timing differences of (account, date): the order
    /// numbers and refund numbers the next day's run must look for.
    pub async fn open_carry_overs(
        &self,
        account: &str,
        date: BillDate,
    ) -> Result<(HashSet<String>, HashSet<String>)> {
        let op = "read carry-overs of";
        let object = format!("{account} {date}");
        let rows = sqlx::query(
            "SELECT dkey, order_no, refund_no FROM discrepancies \
             WHERE account = $1 AND bill_date = $2 AND class = $3 AND state <> $4 AND present = 1",
        )
        .bind(account)
        .bind(date_text(date))
        .bind(OutcomeClass::TimingDifference.as_str())
        .bind(ReviewState::Resolved.as_str())
        .fetch_all(&self.pool)
        .await
        .ctx(op, &object)?;
        let mut orders = HashSet::new();
        let mut refunds = HashSet::new();
        for row in &rows {
            let r = RowReader::new(row, "discrepancies", object.clone());
            let key = r.text("dkey")?;
            if let Some(no) = key.strip_prefix("order:") {
                orders.insert(no.to_string());
            } else if let Some(no) = key.strip_prefix("refund:") {
                refunds.insert(no.to_string());
            } else if let Some(no) = r.opt_text("refund_no")? {
                refunds.insert(no);
            } else if let Some(no) = r.opt_text("order_no")? {
                orders.insert(no);
            }
        }
        Ok((orders, refunds))
    }
}

impl AppDb {
    /// Which of the given order and refund numbers the latest run of (account, date) settled:
    /// a statement line accounted for them ([`paydesk_core::matcher::SETTLING_CLASSES`]), so
    /// the next day's run never reports them missing (midnight crossings). Asked for the few
    /// items a run found unmatched, not for the million a day settles.
    pub async fn settled_among(
        &self,
        account: &str,
        date: BillDate,
        order_nos: &[String],
        refund_nos: &[String],
    ) -> Result<(HashSet<String>, HashSet<String>)> {
        let op = "read settled items of";
        let object = format!("{account} {date}");
        let classes = paydesk_core::matcher::SETTLING_CLASSES;
        let mut orders = HashSet::new();
        let mut refunds = HashSet::new();
        for (column, numbers, found) in [
            ("order_no", order_nos, &mut orders),
            ("refund_no", refund_nos, &mut refunds),
        ] {
            for chunk in numbers.chunks(500) {
                let first = 3 + classes.len();
                let sql = format!(
                    "SELECT {column} AS n FROM run_outcomes WHERE run_id = \
                     (SELECT MAX(id) FROM runs WHERE account = $1 AND bill_date = $2) \
                     AND line_no IS NOT NULL AND class IN ({}) AND {column} IN ({}){}",
                    (0..classes.len())
                        .map(|i| format!("${}", i + 3))
                        .collect::<Vec<_>>()
                        .join(", "),
                    (0..chunk.len())
                        .map(|i| format!("${}", i + first))
                        .collect::<Vec<_>>()
                        .join(", "),
                    // An order's settling outcome is the one without a refund number.
                    if column == "order_no" {
                        " AND refund_no IS NULL"
                    } else {
                        ""
                    }
                );
                let mut q = sqlx::query(&sql).bind(account).bind(date_text(date));
                for c in classes {
                    q = q.bind(c.as_str());
                }
                for n in chunk {
                    q = q.bind(n.as_str());
                }
                for row in q.fetch_all(&self.pool).await.ctx(op, &object)? {
                    let r = RowReader::new(&row, "run_outcomes", object.clone());
                    if let Some(n) = r.opt_text("n")? {
                        found.insert(n);
                    }
                }
            }
        }
        Ok((orders, refunds))
    }
}

fn trunc_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms(t)).unwrap_or(t)
}

fn lock_lost(lock: &RunLock, reason: &str) -> StoreError {
    StoreError::LockNotHeld {
        account: lock.account.clone(),
        date: lock.date,
        holder: lock.holder.clone(),
        reason: reason.to_string(),
    }
}

const OUTCOME_COLS: [&str; 9] = [
    "run_id",
    "seq",
    "class",
    "rule",
    "line_no",
    "provider_txn_id",
    "order_no",
    "refund_no",
    "discrepancy_key",
];

fn bind_outcome<'q>(q: AnyQuery<'q>, run_id: i64, o: &'q OutcomeRow) -> AnyQuery<'q> {
    q.bind(run_id)
        .bind(i64_of(o.seq))
        .bind(o.class.as_str())
        .bind(o.rule.as_str())
        .bind(o.line_no.map(i64_of))
        .bind(o.provider_txn_id.as_deref())
        .bind(o.order_no.as_deref())
        .bind(o.refund_no.as_deref())
        .bind(o.discrepancy_key.as_deref())
}

/// Inserts a run's outcomes: COPY on PostgreSQL, multi-row INSERTs on SQLite. The number of
/// rows written.
async fn insert_outcomes(
    tx: &mut SaveTx,
    backend: Backend,
    run_id: i64,
    outcomes: &[OutcomeRow],
) -> sqlx::Result<u64> {
    let tx = match tx {
        SaveTx::Pg(tx) => {
            return copy_in(tx, "run_outcomes", &OUTCOME_COLS, outcomes, |r, o| {
                r.i64(run_id);
                r.i64(i64_of(o.seq));
                r.text(o.class.as_str());
                r.text(o.rule.as_str());
                r.opt_i64(o.line_no.map(i64_of));
                r.opt_text(o.provider_txn_id.as_deref());
                r.opt_text(o.order_no.as_deref());
                r.opt_text(o.refund_no.as_deref());
                r.opt_text(o.discrepancy_key.as_deref());
            })
            .await;
        }
        SaveTx::Any(tx) => tx,
    };
    let per = chunk_rows(OUTCOME_COLS.len());
    let full_sql = insert_sql(backend, "run_outcomes", &OUTCOME_COLS, per, "");
    let mut written = 0;
    for chunk in outcomes.chunks(per) {
        let tail_sql;
        let sql = if chunk.len() == per {
            full_sql.as_str()
        } else {
            tail_sql = insert_sql(backend, "run_outcomes", &OUTCOME_COLS, chunk.len(), "");
            tail_sql.as_str()
        };
        let mut q = sqlx::query(sql);
        for o in chunk {
            q = bind_outcome(q, run_id, o);
        }
        written += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

/// The run lock must still be ours; touching the row also blocks a take-over on
/// PostgreSQL until the transaction ends.
async fn check_lock(tx: &mut SaveTx, lock: &RunLock, op: &'static str, object: &str) -> Result<()> {
    let held = tx
        .execute(
            "UPDATE run_locks SET holder = holder \
             WHERE account = $1 AND bill_date = $2 AND token = $3",
            &[
                Arg::Text(&lock.account),
                Arg::Text(&date_text(lock.date)),
                Arg::Text(&lock.token),
            ],
        )
        .await
        .ctx(op, object)?;
    if held != 1 {
        return Err(lock_lost(lock, "it expired and another run took it over"));
    }
    Ok(())
}

/// Inserts the run's new discrepancies (`to_insert`: index into `discrepancies` and its
/// data); their ids in `to_insert` order. PostgreSQL: COPY, then the ids of the rows this run
/// created (identity ids follow the COPY's row order). SQLite: INSERT ... RETURNING.
async fn insert_new(
    tx: &mut SaveTx,
    backend: Backend,
    discrepancies: &[NewDiscrepancy],
    keys: &[String],
    to_insert: &[(usize, DataCols)],
    ctx: &InsertCtx<'_>,
) -> sqlx::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(to_insert.len());
    let tx = match tx {
        SaveTx::Pg(tx) => {
            if to_insert.is_empty() {
                return Ok(ids);
            }
            copy_in(tx, "discrepancies", &INSERT_COLS, to_insert, |r, (i, c)| {
                let d = &discrepancies[*i];
                // The same values as bind_new binds.
                r.text(&d.account);
                r.text(d.provider.as_str());
                r.text(ctx.date);
                r.text(&keys[*i]);
                r.text(d.draft.class.as_str());
                r.text(d.draft.rule.as_str());
                r.opt_text(d.draft.order_no.as_deref());
                r.opt_text(d.draft.provider_txn_id.as_deref());
                r.opt_text(d.draft.refund_no.as_deref());
                r.text(d.draft.currency.code());
                r.opt_i64(d.draft.provider_amount);
                r.opt_i64(d.draft.local_amount);
                r.i64(d.draft.difference);
                r.i64(d.draft.amount_at_stake());
                r.opt_text(c.provider_currency.as_deref());
                r.opt_text(c.local_currency.as_deref());
                r.opt_i64(c.provider_time);
                r.opt_i64(c.local_time);
                r.opt_text(d.draft.evidence.as_ref().map(|e| e.file.as_str()));
                r.opt_i64(c.evidence_line);
                r.text(&d.draft.explanation);
                r.opt_text(c.explanation_zh.as_deref());
                r.text(ReviewState::Open.as_str());
                r.null();
                r.null();
                r.null();
                r.i64(ms(d.due_at));
                r.i64(ctx.now);
                r.i64(ctx.now);
                r.i64(ctx.run_id);
                r.i64(ctx.run_id);
                r.i64(1);
                r.null();
            })
            .await?;
            // Only the rows just copied have this run as their first run (last_run_id has
            // the index; rows this run updated have it too).
            let rows = sqlx::query(
                "SELECT id FROM discrepancies \
                 WHERE last_run_id = $1 AND first_run_id = $1 ORDER BY id",
            )
            .bind(ctx.run_id)
            .fetch_all(&mut **tx)
            .await?;
            for row in &rows {
                ids.push(row.try_get::<i64, _>("id")?);
            }
            return Ok(ids);
        }
        SaveTx::Any(tx) => tx,
    };
    let per = chunk_rows(INSERT_COLS.len());
    for chunk in to_insert.chunks(per) {
        let sql = insert_sql(
            backend,
            "discrepancies",
            &INSERT_COLS,
            chunk.len(),
            "RETURNING id",
        );
        let mut q = sqlx::query(&sql);
        for (i, data) in chunk {
            q = bind_new(q, &discrepancies[*i], keys[*i].as_str(), data, ctx);
        }
        for row in &q.fetch_all(&mut **tx).await? {
            ids.push(row.try_get::<i64, _>("id")?);
        }
    }
    Ok(ids)
}
