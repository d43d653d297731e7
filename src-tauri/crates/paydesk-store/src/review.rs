//! Listing, filtering and reviewing discrepancies.

use crate::codec::{
    bind_params, chunk_rows, date_text, fold_case, folded_column, insert_sql, like_escape, now_ms,
    Param, RowReader,
};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::runs::{insert_history, NewHistory};
use chrono::{DateTime, Utc};
use paydesk_core::names::{self, Case};
use paydesk_core::{
    BillDate, Currency, DiscrepancyFilter, DiscrepancyRecord, HistoryEntry, OutcomeClass,
    ResolutionKind, ReviewChange, ReviewState,
};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::str::FromStr;
use strum::VariantArray;

/// How to order a discrepancy list. Ties are broken by id, so paging is stable.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DiscrepancySort {
    /// Newest bill date first.
    #[default]
    DateDesc,
    DateAsc,
    /// Largest amount at stake first (the difference, or for a currency or status mismatch
    /// the amount in question: see `paydesk_core::amount_at_stake`).
    AmountDesc,
    AmountAsc,
    /// By class name.
    Class,
    /// Open, then investigating, then resolved.
    State,
    /// Soonest due first.
    DueAsc,
}

impl DiscrepancySort {
    pub const ALL: [DiscrepancySort; 7] = names::array(DiscrepancySort::VARIANTS);

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// The sort's key, direction and the index (migration 0008) that serves it.
    pub(crate) fn plan(&self) -> SortPlan {
        let (key, desc, index) = match self {
            DiscrepancySort::DateDesc => ("bill_date", true, "discrepancies_page_date"),
            DiscrepancySort::DateAsc => ("bill_date", false, "discrepancies_page_date"),
            DiscrepancySort::AmountDesc => ("abs_difference", true, "discrepancies_page_amount"),
            DiscrepancySort::AmountAsc => ("abs_difference", false, "discrepancies_page_amount"),
            DiscrepancySort::Class => ("class", false, "discrepancies_page_class"),
            DiscrepancySort::State => (STATE_RANK, false, "discrepancies_page_state"),
            DiscrepancySort::DueAsc => ("due_at", false, "discrepancies_page_due"),
        };
        SortPlan {
            key,
            desc,
            index,
            text_key: matches!(key, "bill_date" | "class"),
        }
    }
}

/// Open, then investigating, then resolved: the State sort's key. The same text as the
/// expression of the index `discrepancies_page_state` (SQLite matches index expressions by
/// their text).
const STATE_RANK: &str = "CASE state WHEN 'open' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END";

/// How a sort orders the list: by `key`, then id, both ascending or both descending.
pub(crate) struct SortPlan {
    pub key: &'static str,
    pub desc: bool,
    /// The covering index led by (key, id).
    pub index: &'static str,
    /// Whether the key is TEXT (else BIGINT).
    pub text_key: bool,
}

impl SortPlan {
    /// ORDER BY clause: the list's order, or (`reversed`) the opposite one.
    pub(crate) fn order_by(&self, reversed: bool) -> String {
        let dir = if self.desc != reversed { "DESC" } else { "ASC" };
        format!("{} {dir}, id {dir}", self.key)
    }

    /// The key as a column of a SELECT (BIGINT whatever the backend makes of the CASE).
    pub(crate) fn key_select(&self) -> String {
        if self.text_key {
            format!("{} AS k", self.key)
        } else {
            format!("CAST({} AS BIGINT) AS k", self.key)
        }
    }
}

impl FromStr for DiscrepancySort {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown sort {s:?} (expected one of: {})",
                names::listed::<DiscrepancySort>(", ")
            )
        })
    }
}

pub(crate) const RECORD_COLS: &str =
    "id, account, provider, bill_date, dkey, class, rule, order_no, \
     provider_txn_id, refund_no, currency, provider_amount, local_amount, difference, \
     provider_currency, local_currency, abs_difference, provider_time, local_time, evidence_file, evidence_line, explanation, explanation_zh, state, resolution, \
     note, assignee, due_at, created_at, updated_at, first_run_id, last_run_id, present";

pub(crate) fn record_from_row(row: &AnyRow) -> Result<DiscrepancyRecord> {
    let id: i64 = row.try_get("id").ctx("read", "discrepancy")?;
    let r = RowReader::new(row, "discrepancies", format!("id {id}"));
    Ok(DiscrepancyRecord {
        id,
        account: r.text("account")?,
        provider: r.parsed("provider")?,
        bill_date: r.date("bill_date")?,
        key: r.text("dkey")?,
        class: r.parsed("class")?,
        rule: r.rule("rule")?,
        order_no: r.opt_text("order_no")?,
        provider_txn_id: r.opt_text("provider_txn_id")?,
        refund_no: r.opt_text("refund_no")?,
        currency: r.currency("currency")?,
        provider_amount: r.opt_i64("provider_amount")?,
        local_amount: r.opt_i64("local_amount")?,
        difference: r.i64("difference")?,
        provider_currency: r.opt_currency("provider_currency")?,
        local_currency: r.opt_currency("local_currency")?,
        amount_at_stake: r.i64("abs_difference")?,
        provider_time: r.opt_time("provider_time")?,
        local_time: r.opt_time("local_time")?,
        evidence_file: r.opt_text("evidence_file")?,
        evidence_line: r.opt_u64("evidence_line")?,
        explanation: r.text("explanation")?,
        explanation_zh: r.opt_text("explanation_zh")?,
        state: r.parsed("state")?,
        resolution: r.opt_parsed("resolution")?,
        note: r.opt_text("note")?,
        assignee: r.opt_text("assignee")?,
        due_at: r.time("due_at")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        first_run_id: r.i64("first_run_id")?,
        last_run_id: r.i64("last_run_id")?,
        present: r.bool("present")?,
    })
}

/// One group of [`AppDb::discrepancy_summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub bill_date: BillDate,
    pub account: String,
    pub class: OutcomeClass,
    pub state: ReviewState,
    pub currency: Currency,
    pub count: u64,
    /// Sum of the amounts at stake (`paydesk_core::amount_at_stake`) in minor units.
    pub abs_difference: i64,
    /// How many are past their due time and not resolved.
    pub overdue: u64,
}

/// A filter as SQL.
pub(crate) struct FilterSql {
    /// `WHERE ...` (or empty), with `$1..$n` placeholders.
    pub where_: String,
    pub params: Vec<Param>,
    /// The filter names a small set by an index (an indexed text search, a run): the rows are
    /// found through that index and sorted, not by walking a sort index.
    pub narrow: bool,
    /// The text search goes through the trigram index.
    pub text_indexed: bool,
    /// The filter tests only columns of `discrepancy_counts`, so its count is a sum there.
    pub countable: bool,
}

/// Whether a trigram index answers a text search for `folded` exactly (with the LIKE
/// re-checking its candidates): at least three characters, all ASCII, and none whose case
/// folding [`folded_column`] spells out with REPLACE (k: the Kelvin sign). Otherwise every
/// row of the walk is tested.
fn text_indexable(folded: &str) -> bool {
    folded.chars().count() >= 3
        && folded.is_ascii()
        && folded_column("order_no", folded) == "LOWER(order_no)"
}

/// WHERE clause and parameters for a filter; `sort`: the list's order, if it is a list.
pub(crate) fn filter_sql(
    f: &DiscrepancyFilter,
    backend: Backend,
    sort: Option<DiscrepancySort>,
) -> FilterSql {
    let mut narrow = false;
    let mut text_indexed = false;
    let countable = f.assignee.is_none()
        && f.min_abs_difference.is_none()
        && f.run_id.is_none()
        && f.text.as_ref().is_none_or(|t| t.trim().is_empty());
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let next = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    if let Some(a) = &f.account {
        let p = next(&mut params, Param::Text(a.clone()));
        conds.push(format!("account = {p}"));
    }
    if let Some(p) = f.provider {
        let p = next(&mut params, Param::Text(p.as_str().into()));
        conds.push(format!("provider = {p}"));
    }
    if let Some(d) = f.date_from {
        let p = next(&mut params, Param::Text(date_text(d)));
        conds.push(format!("bill_date >= {p}"));
    }
    if let Some(d) = f.date_to {
        let p = next(&mut params, Param::Text(date_text(d)));
        conds.push(format!("bill_date <= {p}"));
    }
    if let [class] = f.classes.as_slice() {
        let p = next(&mut params, Param::Text(class.as_str().into()));
        if backend == Backend::Postgres && sort == Some(DiscrepancySort::Class) {
            // Spelled as a range: with `class = $p` PostgreSQL drops class from the sort
            // (constant) and walks the primary key reading every row, not the class index.
            conds.push(format!("class >= {p} AND class <= {p}"));
        } else {
            conds.push(format!("class = {p}"));
        }
    } else if !f.classes.is_empty() {
        let ps: Vec<String> = f
            .classes
            .iter()
            .map(|c| next(&mut params, Param::Text(c.as_str().into())))
            .collect();
        conds.push(format!("class IN ({})", ps.join(",")));
    }
    if !f.states.is_empty() {
        let ps: Vec<String> = f
            .states
            .iter()
            .map(|s| next(&mut params, Param::Text(s.as_str().into())))
            .collect();
        conds.push(format!("state IN ({})", ps.join(",")));
    }
    if let Some(a) = &f.assignee {
        let p = next(&mut params, Param::Text(a.clone()));
        conds.push(format!("assignee = {p}"));
    }
    if let Some(m) = f.min_abs_difference {
        let p = next(&mut params, Param::I64(m.saturating_abs()));
        conds.push(format!("abs_difference >= {p}"));
    }
    if let Some(run) = f.run_id {
        narrow = true;
        let p = next(&mut params, Param::I64(run));
        conds.push(format!(
            "account = (SELECT account FROM runs WHERE id = {p}) \
             AND bill_date = (SELECT bill_date FROM runs WHERE id = {p}) \
             AND dkey IN (SELECT discrepancy_key FROM run_outcomes \
                          WHERE run_id = {p} AND discrepancy_key IS NOT NULL)"
        ));
    }
    if let Some(t) = f.text.as_ref().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let folded = fold_case(t);
        let pattern = format!("%{}%", like_escape(&folded));
        if text_indexable(&folded) {
            narrow = true;
            text_indexed = true;
            if backend == Backend::Sqlite {
                // FTS5 query: the needle as one string, i.e. the phrase of its trigrams.
                let query = format!("\"{}\"", folded.replace('"', "\"\""));
                let p = next(&mut params, Param::Text(query));
                conds.push(format!(
                    "id IN (SELECT rowid FROM discrepancy_text WHERE discrepancy_text MATCH {p})"
                ));
            }
            // PostgreSQL: the LIKEs below are the expressions of the trigram indexes.
        }
        let p = next(&mut params, Param::Text(pattern));
        let like = ["order_no", "provider_txn_id", "refund_no"]
            .iter()
            .map(|c| format!("{} LIKE {p} ESCAPE '\\'", folded_column(c, &folded)))
            .collect::<Vec<_>>()
            .join(" OR ");
        conds.push(format!("({like})"));
    }
    if !f.include_gone {
        conds.push("present = 1".into());
    }
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    FilterSql {
        where_,
        params,
        narrow,
        text_indexed,
        countable,
    }
}

/// What an undoable review change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewEdit {
    /// How many discrepancies actually changed.
    pub changed: u64,
    /// The change's undo record: `None` when nothing changed (nothing to undo).
    pub edit_id: Option<i64>,
}

/// A recorded review change, as its undo sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEditRecord {
    pub id: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// How many discrepancies it changed.
    pub rows: u64,
    pub undone_at: Option<DateTime<Utc>>,
    pub undone_by: Option<String>,
}

/// What an undo did, by discrepancy id (ascending).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UndoOutcome {
    /// Put back as they were before the change.
    pub restored: Vec<i64>,
    /// Left alone: their review changed since (by anyone, or by a run).
    pub skipped: Vec<i64>,
}

/// How long review changes stay recorded for undo; older ones are deleted as new ones are
/// recorded. Longer than any undo window, so that a late undo is told it is too late rather
/// than that the change is unknown.
pub const REVIEW_EDIT_KEEP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Ids per `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

const EDIT_ROW_COLS: [&str; 12] = [
    "edit_id",
    "discrepancy_id",
    "old_state",
    "old_resolution",
    "old_note",
    "old_assignee",
    "old_auto_closed",
    "new_state",
    "new_resolution",
    "new_note",
    "new_assignee",
    "new_auto_closed",
];

const EDIT_ROW_SNAPSHOT: &str = "old_state, old_resolution, old_note, old_assignee, \
     old_auto_closed, new_state, new_resolution, new_note, new_assignee, new_auto_closed";

/// "3, 8, 12" (the first ten, then how many more).
fn listed_ids(ids: &[i64]) -> String {
    let mut s = ids
        .iter()
        .take(10)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > 10 {
        s.push_str(&format!(" and {} more", ids.len() - 10));
    }
    s
}

/// The review columns of the discrepancies with these ids (those that exist), locked for
/// the transaction on PostgreSQL.
async fn review_rows_by_ids(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
    op: &'static str,
) -> Result<Vec<ReviewCols>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {REVIEW_COLS} FROM discrepancies WHERE id IN ({}) ORDER BY id{lock}",
            marks.join(",")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&mut **tx).await.ctx(op, "discrepancies")?;
        for row in &rows {
            out.push(review_cols(row)?);
        }
    }
    Ok(out)
}

/// Records a change's rows before and after (`changed`), for undo; deletes records older
/// than [`REVIEW_EDIT_KEEP`]. Returns the record's id.
async fn record_edit(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    actor: &str,
    now: i64,
    changed: &[(&ReviewCols, ReviewCols)],
    op: &'static str,
) -> Result<i64> {
    let keep = i64::try_from(REVIEW_EDIT_KEEP.as_millis()).unwrap_or(i64::MAX);
    let old = now.saturating_sub(keep);
    sqlx::query(
        "DELETE FROM review_edit_rows WHERE edit_id IN (SELECT id FROM review_edits WHERE at < $1)",
    )
    .bind(old)
    .execute(&mut **tx)
    .await
    .ctx(op, "old review changes")?;
    sqlx::query("DELETE FROM review_edits WHERE at < $1")
        .bind(old)
        .execute(&mut **tx)
        .await
        .ctx(op, "old review changes")?;
    // The change's own history is written: any later entry is someone else's.
    let row =
        sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS mark FROM discrepancy_history")
            .fetch_one(&mut **tx)
            .await
            .ctx(op, "discrepancy history")?;
    let mark: i64 = row.try_get("mark").ctx(op, "discrepancy history")?;
    let row = sqlx::query(
        "INSERT INTO review_edits (actor, at, history_mark) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(actor)
    .bind(now)
    .bind(mark)
    .fetch_one(&mut **tx)
    .await
    .ctx(op, "review change")?;
    let id: i64 = row.try_get("id").ctx(op, "review change")?;
    for chunk in changed.chunks(chunk_rows(EDIT_ROW_COLS.len())) {
        let sql = insert_sql(backend, "review_edit_rows", &EDIT_ROW_COLS, chunk.len(), "");
        let mut q = sqlx::query(&sql);
        for (old, new) in chunk {
            q = q.bind(id).bind(old.id);
            for c in [*old, new] {
                q = q
                    .bind(c.state.as_str())
                    .bind(c.resolution.as_deref())
                    .bind(c.note.as_deref())
                    .bind(c.assignee.as_deref())
                    .bind(c.auto_closed.as_deref());
            }
        }
        q.execute(&mut **tx).await.ctx(op, "review change rows")?;
    }
    Ok(id)
}

/// The reviewer-owned columns of a discrepancy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReviewCols {
    id: i64,
    state: String,
    resolution: Option<String>,
    note: Option<String>,
    assignee: Option<String>,
    auto_closed: Option<String>,
}

const REVIEW_COLS: &str = "id, state, resolution, note, assignee, auto_closed";

fn review_cols(row: &AnyRow) -> Result<ReviewCols> {
    let id: i64 = row.try_get("id").ctx("read", "discrepancy")?;
    let r = RowReader::new(row, "discrepancies", format!("id {id}"));
    Ok(ReviewCols {
        id,
        state: r.text("state")?,
        resolution: r.opt_text("resolution")?,
        note: r.opt_text("note")?,
        assignee: r.opt_text("assignee")?,
        auto_closed: r.opt_text("auto_closed")?,
    })
}

fn invalid_change(id: Option<i64>, reason: String) -> StoreError {
    StoreError::Invalid {
        what: match id {
            Some(id) => format!("review change for discrepancy {id}"),
            None => "review change".into(),
        },
        reason,
    }
}

/// Applies a (validated) change to one discrepancy whose review columns are `cur`.
/// Returns the columns it wrote, if anything changed.
async fn apply_change(
    tx: &mut Transaction<'static, Any>,
    cur: &ReviewCols,
    change: &ReviewChange,
    actor: &str,
    now: i64,
    history: &mut Vec<NewHistory>,
) -> Result<Option<ReviewCols>> {
    let resolved = ReviewState::Resolved.as_str();
    let state = match (change.state, change.resolution) {
        (Some(s), _) => s.as_str().to_string(),
        (None, Some(_)) => resolved.to_string(),
        (None, None) => cur.state.clone(),
    };
    let resolution = if state == resolved {
        change
            .resolution
            .map(|r| r.as_str().to_string())
            .or_else(|| cur.resolution.clone())
    } else {
        None
    };
    if state == resolved && resolution.is_none() {
        return Err(invalid_change(
            Some(cur.id),
            "resolving needs a resolution kind (e.g. corrected_locally, written_off)".into(),
        ));
    }
    let note = match &change.note {
        Some(n) if n.trim().is_empty() => None,
        Some(n) => Some(n.clone()),
        None => cur.note.clone(),
    };
    let assignee = match &change.assignee {
        Some(a) => a.as_ref().map(|a| a.trim().to_string()),
        None => cur.assignee.clone(),
    };
    let review_changed = state != cur.state || resolution != cur.resolution;
    let auto_closed = if review_changed {
        None
    } else {
        cur.auto_closed.clone()
    };
    let mut changed = false;
    let mut push = |field: &'static str, old: &Option<String>, new: &Option<String>| {
        if old != new {
            changed = true;
            history.push(NewHistory {
                discrepancy_id: cur.id,
                at: now,
                actor: actor.to_string(),
                field,
                old_value: old.clone(),
                new_value: new.clone(),
            });
        }
    };
    push("state", &Some(cur.state.clone()), &Some(state.clone()));
    push("resolution", &cur.resolution, &resolution);
    push("note", &cur.note, &note);
    push("assignee", &cur.assignee, &assignee);
    if !changed {
        return Ok(None);
    }
    let new = ReviewCols {
        id: cur.id,
        state,
        resolution,
        note,
        assignee,
        auto_closed,
    };
    write_review_cols(tx, &new, now).await?;
    Ok(Some(new))
}

async fn write_review_cols(
    tx: &mut Transaction<'static, Any>,
    cols: &ReviewCols,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE discrepancies SET state = $1, resolution = $2, note = $3, assignee = $4, \
         auto_closed = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(cols.state.as_str())
    .bind(cols.resolution.as_deref())
    .bind(cols.note.as_deref())
    .bind(cols.assignee.as_deref())
    .bind(cols.auto_closed.as_deref())
    .bind(now)
    .bind(cols.id)
    .execute(&mut **tx)
    .await
    .ctx("update discrepancy", cols.id)?;
    Ok(())
}

fn validate(change: &ReviewChange, id: Option<i64>) -> Result<()> {
    change.validate().map_err(|e| invalid_change(id, e))?;
    if change.resolution == Some(ResolutionKind::AutoMatched) {
        return Err(invalid_change(
            id,
            "auto_matched is set by Paydesk itself".into(),
        ));
    }
    Ok(())
}

impl AppDb {
    /// Counts and amounts at stake of the discrepancies matching `f`, grouped by bill
    /// date, account, class, state and currency (for dashboards; one query).
    pub async fn discrepancy_summary(&self, f: &DiscrepancyFilter) -> Result<Vec<SummaryRow>> {
        let FilterSql { where_, params, .. } = filter_sql(f, self.backend, None);
        let sql = format!(
            "SELECT bill_date, account, class, state, currency, COUNT(*) AS n, \
             CAST(SUM(abs_difference) AS BIGINT) AS amount, \
             CAST(SUM(CASE WHEN due_at < $0 AND state <> 'resolved' THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
             FROM discrepancies {where_} \
             GROUP BY bill_date, account, class, state, currency ORDER BY bill_date"
        );
        let now = now_ms();
        let sql = sql.replace("$0", &format!("{now}"));
        let rows = bind_params(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await
            .ctx("summarize", "discrepancies")?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "discrepancies", "summary");
                Ok(SummaryRow {
                    bill_date: r.date("bill_date")?,
                    account: r.text("account")?,
                    class: r.parsed("class")?,
                    state: r.parsed("state")?,
                    currency: r.currency("currency")?,
                    count: u64::try_from(r.i64("n")?).unwrap_or(0),
                    abs_difference: r.i64("amount")?,
                    overdue: u64::try_from(r.i64("overdue")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// How many discrepancies match the filter: a sum over `discrepancy_counts` when the
    /// filter tests only its columns, else a count.
    pub async fn count_discrepancies(&self, f: &DiscrepancyFilter) -> Result<u64> {
        let fs = filter_sql(f, self.backend, None);
        let where_ = &fs.where_;
        let sql = if fs.countable {
            format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM discrepancy_counts {where_}"
            )
        } else {
            let hint = self.index_hint(&fs, None);
            format!("SELECT COUNT(*) AS n FROM discrepancies{hint} {where_}")
        };
        let params = fs.params;
        let row = bind_params(sqlx::query(&sql), &params)
            .fetch_one(&self.pool)
            .await
            .ctx("count", "discrepancies")?;
        let n: i64 = row.try_get("n").ctx("count", "discrepancies")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub async fn discrepancy(&self, id: i64) -> Result<Option<DiscrepancyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLS} FROM discrepancies WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("read discrepancy", id)?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Applies a reviewer's change, recording one history entry per changed field.
    pub async fn update_discrepancy(
        &self,
        id: i64,
        change: &ReviewChange,
        actor: &str,
    ) -> Result<DiscrepancyRecord> {
        validate(change, Some(id))?;
        self.apply_review_changes(&[(id, change.clone())], actor)
            .await?;
        self.discrepancy(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "discrepancy",
                id: id.to_string(),
            })
    }

    /// Applies one change to every discrepancy matching the filter, in one transaction.
    /// Returns how many discrepancies actually changed.
    pub async fn bulk_update_discrepancies(
        &self,
        f: &DiscrepancyFilter,
        change: &ReviewChange,
        actor: &str,
    ) -> Result<u64> {
        Ok(self.bulk_update(f, change, actor, false).await?.changed)
    }

    /// [`AppDb::bulk_update_discrepancies`], recording what each row was before, so that
    /// the change can be undone for a while ([`AppDb::undo_review_edit`]).
    pub async fn bulk_update_discrepancies_undoable(
        &self,
        f: &DiscrepancyFilter,
        change: &ReviewChange,
        actor: &str,
    ) -> Result<ReviewEdit> {
        self.bulk_update(f, change, actor, true).await
    }

    async fn bulk_update(
        &self,
        f: &DiscrepancyFilter,
        change: &ReviewChange,
        actor: &str,
        undoable: bool,
    ) -> Result<ReviewEdit> {
        validate(change, None)?;
        let op = "bulk update";
        let FilterSql { where_, params, .. } = filter_sql(f, self.backend, None);
        let mut tx = self.begin_write(op, "discrepancies").await?;
        let sql = format!("SELECT {REVIEW_COLS} FROM discrepancies {where_} ORDER BY id");
        let rows = bind_params(sqlx::query(&sql), &params)
            .fetch_all(&mut *tx)
            .await
            .ctx(op, "discrepancies")?;
        let rows = rows.iter().map(review_cols).collect::<Result<Vec<_>>>()?;
        let edit = self
            .edit_rows(&mut tx, &rows, change, actor, undoable, op)
            .await?;
        tx.commit().await.ctx(op, "discrepancies")?;
        Ok(edit)
    }

    /// Applies one change to the discrepancies with these ids (a person's selection), in one
    /// transaction, recording it for undo. All or nothing: an unknown id fails the whole
    /// change, naming the unknown ids. Repeated ids count once.
    pub async fn update_discrepancies_by_ids(
        &self,
        ids: &[i64],
        change: &ReviewChange,
        actor: &str,
    ) -> Result<ReviewEdit> {
        validate(change, None)?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(invalid_change(None, "no discrepancy chosen".into()));
        }
        let op = "update chosen";
        let mut tx = self.begin_write(op, "discrepancies").await?;
        let rows = review_rows_by_ids(&mut tx, self.backend, &ids, op).await?;
        if rows.len() != ids.len() {
            let found: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
            let missing: Vec<i64> = ids.into_iter().filter(|id| !found.contains(id)).collect();
            return Err(StoreError::NotFound {
                what: "discrepancy",
                id: listed_ids(&missing),
            });
        }
        let edit = self
            .edit_rows(&mut tx, &rows, change, actor, true, op)
            .await?;
        tx.commit().await.ctx(op, "discrepancies")?;
        Ok(edit)
    }

    /// [`AppDb::update_discrepancy`], recorded for undo.
    pub async fn update_discrepancy_undoable(
        &self,
        id: i64,
        change: &ReviewChange,
        actor: &str,
    ) -> Result<(DiscrepancyRecord, ReviewEdit)> {
        validate(change, Some(id))?;
        let edit = self
            .update_discrepancies_by_ids(&[id], change, actor)
            .await?;
        let d = self
            .discrepancy(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "discrepancy",
                id: id.to_string(),
            })?;
        Ok((d, edit))
    }

    /// Applies `change` to `rows` (read in `tx`), writes their history and, if `undoable`
    /// and anything changed, the undo record.
    async fn edit_rows(
        &self,
        tx: &mut Transaction<'static, Any>,
        rows: &[ReviewCols],
        change: &ReviewChange,
        actor: &str,
        undoable: bool,
        op: &'static str,
    ) -> Result<ReviewEdit> {
        let now = now_ms();
        let mut history = Vec::new();
        let mut changed: Vec<(&ReviewCols, ReviewCols)> = Vec::new();
        for cur in rows {
            if let Some(new) = apply_change(tx, cur, change, actor, now, &mut history).await? {
                changed.push((cur, new));
            }
        }
        insert_history(tx, self.backend, &history, op).await?;
        let edit_id = if undoable && !changed.is_empty() {
            Some(record_edit(tx, self.backend, actor, now, &changed, op).await?)
        } else {
            None
        };
        Ok(ReviewEdit {
            changed: changed.len() as u64,
            edit_id,
        })
    }

    /// A recorded review change, if it is still kept (see [`REVIEW_EDIT_KEEP`]).
    pub async fn review_edit(&self, id: i64) -> Result<Option<ReviewEditRecord>> {
        let op = "read review change";
        let row = sqlx::query(
            "SELECT e.id, e.actor, e.at, e.undone_at, e.undone_by, \
             (SELECT COUNT(*) FROM review_edit_rows r WHERE r.edit_id = e.id) AS n \
             FROM review_edits e WHERE e.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx(op, id)?;
        let Some(row) = row else { return Ok(None) };
        let r = RowReader::new(&row, "review_edits", format!("id {id}"));
        Ok(Some(ReviewEditRecord {
            id,
            actor: r.text("actor")?,
            at: r.time("at")?,
            rows: u64::try_from(r.i64("n")?).unwrap_or(0),
            undone_at: r.opt_time("undone_at")?,
            undone_by: r.opt_text("undone_by")?,
        }))
    }

    /// Undoes a recorded review change made by `actor` at or after `not_before`: each of its
    /// rows gets back the state, resolution, note, assignee (and auto-close mark) it had
    /// before, unless the row's review was changed since (by anyone, or by a run), in which
    /// case it is left alone and reported as skipped. One transaction; every restored field
    /// gets a history entry with `actor`, plus an `undo` entry naming the change. A change is
    /// undone at most once.
    pub async fn undo_review_edit(
        &self,
        id: i64,
        actor: &str,
        not_before: DateTime<Utc>,
    ) -> Result<UndoOutcome> {
        let op = "undo review change";
        let refused = |reason: String| StoreError::Invalid {
            what: format!("undo of review change {id}"),
            reason,
        };
        let mut tx = self.begin_write(op, id).await?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "", // BEGIN IMMEDIATE: the whole database is locked
        };
        let row = sqlx::query(&format!(
            "SELECT actor, at, history_mark, undone_at FROM review_edits WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .ctx(op, id)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "review change",
                id: id.to_string(),
            });
        };
        let r = RowReader::new(&row, "review_edits", format!("id {id}"));
        let by = r.text("actor")?;
        if r.opt_i64("undone_at")?.is_some() {
            return Err(refused("it was undone already".into()));
        }
        if r.i64("at")? < not_before.timestamp_millis() {
            return Err(refused("it is too old to be undone".into()));
        }
        if by != actor {
            return Err(refused(format!("only {by}, who made it, can undo it")));
        }
        let mark = r.i64("history_mark")?;

        // Rows whose review changed after the change: history entries since its mark (few:
        // the mark is recent).
        let since = sqlx::query(
            "SELECT DISTINCT discrepancy_id FROM discrepancy_history \
             WHERE id > $1 AND field IN ('state', 'resolution', 'note', 'assignee')",
        )
        .bind(mark)
        .fetch_all(&mut *tx)
        .await
        .ctx(op, id)?;
        let mut changed_since = std::collections::HashSet::new();
        for row in &since {
            let d: i64 = row.try_get("discrepancy_id").ctx(op, id)?;
            changed_since.insert(d);
        }

        let rows = sqlx::query(&format!(
            "SELECT discrepancy_id, {EDIT_ROW_SNAPSHOT} FROM review_edit_rows \
             WHERE edit_id = $1 ORDER BY discrepancy_id"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .ctx(op, id)?;
        let edits = rows
            .iter()
            .map(|row| {
                let r = RowReader::new(row, "review_edit_rows", format!("of {id}"));
                let d = r.i64("discrepancy_id")?;
                let old = ReviewCols {
                    id: d,
                    state: r.text("old_state")?,
                    resolution: r.opt_text("old_resolution")?,
                    note: r.opt_text("old_note")?,
                    assignee: r.opt_text("old_assignee")?,
                    auto_closed: r.opt_text("old_auto_closed")?,
                };
                let new = ReviewCols {
                    id: d,
                    state: r.text("new_state")?,
                    resolution: r.opt_text("new_resolution")?,
                    note: r.opt_text("new_note")?,
                    assignee: r.opt_text("new_assignee")?,
                    auto_closed: r.opt_text("new_auto_closed")?,
                };
                Ok((old, new))
            })
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = edits.iter().map(|(old, _)| old.id).collect();
        let current: std::collections::HashMap<i64, ReviewCols> =
            review_rows_by_ids(&mut tx, self.backend, &ids, op)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();

        let now = now_ms();
        let mut history = Vec::new();
        let mut outcome = UndoOutcome::default();
        for (old, new) in &edits {
            let unchanged = current.get(&old.id) == Some(new) && !changed_since.contains(&old.id);
            if !unchanged {
                outcome.skipped.push(old.id);
                continue;
            }
            write_review_cols(&mut tx, old, now).await?;
            let mut push = |field: &'static str, from: &Option<String>, to: &Option<String>| {
                if from != to {
                    history.push(NewHistory {
                        discrepancy_id: old.id,
                        at: now,
                        actor: actor.to_string(),
                        field,
                        old_value: from.clone(),
                        new_value: to.clone(),
                    });
                }
            };
            push("state", &Some(new.state.clone()), &Some(old.state.clone()));
            push("resolution", &new.resolution, &old.resolution);
            push("note", &new.note, &old.note);
            push("assignee", &new.assignee, &old.assignee);
            push("undo", &None, &Some(id.to_string()));
            outcome.restored.push(old.id);
        }
        insert_history(&mut tx, self.backend, &history, op).await?;
        sqlx::query("UPDATE review_edits SET undone_at = $1, undone_by = $2 WHERE id = $3")
            .bind(now)
            .bind(actor)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx(op, id)?;
        tx.commit().await.ctx(op, id)?;
        Ok(outcome)
    }

    /// Applies a batch of changes (a spreadsheet re-import) in one transaction: all or
    /// nothing. Every change is validated first; an unknown id fails the whole batch.
    /// Returns how many discrepancies actually changed.
    pub async fn apply_review_changes(
        &self,
        changes: &[(i64, ReviewChange)],
        actor: &str,
    ) -> Result<u64> {
        for (id, change) in changes {
            validate(change, Some(*id))?;
        }
        let op = "apply review changes to";
        let mut tx = self.begin_write(op, "discrepancies").await?;
        let now = now_ms();
        let mut history = Vec::new();
        let mut n = 0u64;
        for (id, change) in changes {
            let row = sqlx::query(&format!(
                "SELECT {REVIEW_COLS} FROM discrepancies WHERE id = $1"
            ))
            .bind(*id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(op, format!("discrepancy {id}"))?;
            let Some(row) = row else {
                return Err(StoreError::NotFound {
                    what: "discrepancy",
                    id: id.to_string(),
                });
            };
            let cur = review_cols(&row)?;
            if apply_change(&mut tx, &cur, change, actor, now, &mut history)
                .await?
                .is_some()
            {
                n += 1;
            }
        }
        insert_history(&mut tx, self.backend, &history, op).await?;
        tx.commit().await.ctx(op, "discrepancies")?;
        Ok(n)
    }

    /// A discrepancy's history, oldest first.
    pub async fn discrepancy_history(&self, id: i64) -> Result<Vec<HistoryEntry>> {
        let op = "read history of discrepancy";
        let rows = sqlx::query(
            "SELECT id, discrepancy_id, at, actor, field, old_value, new_value \
             FROM discrepancy_history WHERE discrepancy_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .ctx(op, id)?;
        rows.iter()
            .map(|row| {
                let r = RowReader::new(row, "discrepancy_history", format!("of {id}"));
                Ok(HistoryEntry {
                    discrepancy_id: r.i64("discrepancy_id")?,
                    at: r.time("at")?,
                    actor: r.text("actor")?,
                    field: r.text("field")?,
                    old_value: r.opt_text("old_value")?,
                    new_value: r.opt_text("new_value")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_names_round_trip() {
        names::assert_round_trip::<DiscrepancySort>(|s| s.parse().ok());
        assert_eq!(DiscrepancySort::ALL.as_slice(), DiscrepancySort::VARIANTS);
        for s in DiscrepancySort::ALL {
            assert_eq!(serde_json::to_value(s).ok(), Some(s.as_str().into()));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(" Due_Asc ".parse(), Ok(DiscrepancySort::DueAsc));
        assert_eq!(
            "size".parse::<DiscrepancySort>(),
            Err("unknown sort \"size\" (expected one of: date_desc, date_asc, amount_desc, amount_asc, class, state, due_asc)".into())
        );
    }
}
