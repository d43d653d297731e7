//! Listing, filtering and reviewing discrepancies.

use crate::codec::{
    bind_params, date_text, fold_case, folded_column, like_escape, now_ms, Param, RowReader,
};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use crate::runs::{insert_history, NewHistory};
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
/// Returns whether anything changed.
async fn apply_change(
    tx: &mut Transaction<'static, Any>,
    cur: &ReviewCols,
    change: &ReviewChange,
    actor: &str,
    now: i64,
    history: &mut Vec<NewHistory>,
) -> Result<bool> {
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
        return Ok(false);
    }
    sqlx::query(
        "UPDATE discrepancies SET state = $1, resolution = $2, note = $3, assignee = $4, \
         auto_closed = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(state.as_str())
    .bind(resolution.as_deref())
    .bind(note.as_deref())
    .bind(assignee.as_deref())
    .bind(auto_closed.as_deref())
    .bind(now)
    .bind(cur.id)
    .execute(&mut **tx)
    .await
    .ctx("update discrepancy", cur.id)?;
    Ok(true)
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
        validate(change, None)?;
        let op = "bulk update";
        let FilterSql { where_, params, .. } = filter_sql(f, self.backend, None);
        let mut tx = self.begin_write(op, "discrepancies").await?;
        let sql = format!("SELECT {REVIEW_COLS} FROM discrepancies {where_} ORDER BY id");
        let rows = bind_params(sqlx::query(&sql), &params)
            .fetch_all(&mut *tx)
            .await
            .ctx(op, "discrepancies")?;
        let now = now_ms();
        let mut history = Vec::new();
        let mut n = 0u64;
        for row in &rows {
            let cur = review_cols(row)?;
            if apply_change(&mut tx, &cur, change, actor, now, &mut history).await? {
                n += 1;
            }
        }
        insert_history(&mut tx, self.backend, &history, op).await?;
        tx.commit().await.ctx(op, "discrepancies")?;
        Ok(n)
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
            if apply_change(&mut tx, &cur, change, actor, now, &mut history).await? {
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
