//! Reviewing discrepancies: the server-side filtered, sorted, paged table, the detail pane,
//! single and bulk changes, exports.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::{
    BillDate, DiscrepancyFilter, DiscrepancyRecord, HistoryEntry, Order, OutcomeClass, Provider,
    ResolutionKind, ReviewChange, ReviewState, StatementLine,
};
use paydesk_service::review::{self, DiscrepancyPage};
use paydesk_store::{DiscrepancySort, PageAt, PageCursor};
use serde::{Deserialize, Serialize};
use tauri::State;

/// The filter as the UI sends it: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields = nullable))]
pub struct FilterIn {
    pub account: Option<String>,
    pub provider: Option<Provider>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    #[cfg_attr(test, ts(as = "Option<Vec<OutcomeClass>>", optional))]
    pub classes: Vec<OutcomeClass>,
    #[cfg_attr(test, ts(as = "Option<Vec<ReviewState>>", optional))]
    pub states: Vec<ReviewState>,
    pub assignee: Option<String>,
    pub min_abs_difference: Option<i64>,
    pub text: Option<String>,
    #[cfg_attr(test, ts(as = "Option<bool>", optional))]
    pub include_gone: bool,
    pub run_id: Option<i64>,
}

fn date(field: &str, value: Option<&str>) -> CmdResult<Option<BillDate>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => BillDate::parse(v)
            .map(Some)
            .map_err(|e| AppError::bad_input(format!("{field}: {e}"))),
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl FilterIn {
    pub fn into_filter(self) -> CmdResult<DiscrepancyFilter> {
        let date_from = date("date_from", self.date_from.as_deref())?;
        let date_to = date("date_to", self.date_to.as_deref())?;
        if let (Some(a), Some(b)) = (date_from, date_to) {
            if a > b {
                return Err(AppError::bad_input(format!("date range: {a} is after {b}")));
            }
        }
        if self.min_abs_difference.is_some_and(|m| m < 0) {
            return Err(AppError::bad_input("minimum amount: must not be negative"));
        }
        Ok(DiscrepancyFilter {
            account: non_empty(self.account),
            provider: self.provider,
            date_from,
            date_to,
            classes: self.classes,
            states: self.states,
            assignee: non_empty(self.assignee),
            min_abs_difference: self.min_abs_difference,
            run_id: self.run_id,
            text: non_empty(self.text),
            include_gone: self.include_gone,
        })
    }
}

/// A reviewer's change as the UI sends it. `assignee` absent: unchanged; `null` or empty:
/// cleared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields = nullable))]
pub struct ChangeIn {
    pub state: Option<ReviewState>,
    pub resolution: Option<ResolutionKind>,
    pub note: Option<String>,
    #[serde(deserialize_with = "present")]
    #[cfg_attr(test, ts(type = "string | null", optional))]
    pub assignee: Option<Option<String>>,
}

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl ChangeIn {
    pub fn into_change(self) -> CmdResult<ReviewChange> {
        let change = ReviewChange {
            state: self.state,
            resolution: self.resolution,
            note: self.note,
            assignee: self
                .assignee
                .map(|a| a.map(|a| a.trim().to_string()).filter(|a| !a.is_empty())),
        };
        if change.is_empty() {
            return Err(AppError::bad_input("nothing to change"));
        }
        change.validate().map_err(AppError::bad_input)?;
        Ok(change)
    }
}

/// A block of the table: `limit` rows from `offset`, or, when the table already holds a
/// neighbouring block, right after its last row (`after`) or before its first (`before`),
/// read by keyset from that row (`offset` is then only where the table puts them).
#[tauri::command]
pub async fn list_discrepancies(
    state: State<'_, DesktopState>,
    filter: Option<FilterIn>,
    sort: Option<DiscrepancySort>,
    limit: Option<u32>,
    offset: Option<u64>,
    after: Option<PageCursor>,
    before: Option<PageCursor>,
) -> CmdResult<DiscrepancyPage> {
    let (w, actor) = state.actor().await?;
    let filter = filter.unwrap_or_default().into_filter()?;
    let limit = limit.unwrap_or(200).clamp(1, 1000);
    let at = match (after, before) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                "a block is read after one row or before one, not both",
            ))
        }
        (Some(c), None) => PageAt::After(c),
        (None, Some(c)) => PageAt::Before(c),
        (None, None) => PageAt::Offset(offset.unwrap_or(0)),
    };
    let sort = sort.unwrap_or_default();
    let page = review::list_at(&w, &actor, &filter, sort, limit, &at).await?;
    if at == PageAt::Offset(0) {
        // A view's first block: get its deep jumps ready while the person looks at it. A
        // failure here only means the first jump builds them itself (and reports it).
        let total = page.total;
        tauri::async_runtime::spawn(async move {
            let _ = review::prepare_jumps(&w, &filter, sort, total).await;
        });
    }
    Ok(page)
}

/// What the discrepancies matching `filter` put at stake, per currency (shown beside the
/// count: amounts of different currencies are never added).
#[tauri::command]
pub async fn discrepancy_totals(
    state: State<'_, DesktopState>,
    filter: Option<FilterIn>,
) -> CmdResult<Vec<review::CurrencyTotal>> {
    let (w, actor) = state.actor().await?;
    let filter = filter.unwrap_or_default().into_filter()?;
    Ok(review::totals(&w, &actor, &filter).await?)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DiscrepancyDetail {
    pub record: DiscrepancyRecord,
    pub history: Vec<HistoryEntry>,
    /// Our side: the order in the merchant's mirror, if the discrepancy names one.
    pub order: Option<Order>,
    /// The provider's side: the statement line the discrepancy cites.
    pub statement_line: Option<StatementLine>,
}

#[tauri::command]
pub async fn discrepancy_detail(
    state: State<'_, DesktopState>,
    id: i64,
) -> CmdResult<DiscrepancyDetail> {
    let (w, actor) = state.actor().await?;
    let (record, history) = review::show(&w, &actor, id).await?;
    let order = match &record.order_no {
        Some(no) => w
            .mirror
            .orders_by_numbers(record.provider, std::slice::from_ref(no))
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let statement_line = match record.evidence_line {
        Some(line) => match w.db.run(record.last_run_id).await? {
            Some(run) => w.db.statement_line_at(run.statement_id, line).await?,
            None => None,
        },
        None => None,
    };
    Ok(DiscrepancyDetail {
        record,
        history,
        order,
        statement_line,
    })
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UpdateResult {
    pub record: DiscrepancyRecord,
    /// For `undo_review_change` (30 s in the UI); `None` when nothing changed.
    pub undo_id: Option<i64>,
}

#[tauri::command]
pub async fn update_discrepancy(
    state: State<'_, DesktopState>,
    id: i64,
    change: ChangeIn,
) -> CmdResult<UpdateResult> {
    let (w, actor) = state.actor().await?;
    let change = change.into_change()?;
    let (record, undo_id) = review::update_undoable(&w, &actor, id, &change).await?;
    Ok(UpdateResult { record, undo_id })
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BulkResult {
    pub updated: u64,
    /// For `undo_review_change`; `None` when nothing changed.
    pub undo_id: Option<i64>,
}

impl From<review::ReviewUpdate> for BulkResult {
    fn from(u: review::ReviewUpdate) -> BulkResult {
        BulkResult {
            updated: u.updated,
            undo_id: u.undo_id,
        }
    }
}

/// Applies one change to every discrepancy matching the filter, but only if the filter still
/// matches the number the person confirmed.
#[tauri::command]
pub async fn bulk_update_discrepancies(
    state: State<'_, DesktopState>,
    filter: Option<FilterIn>,
    change: ChangeIn,
    expected: u64,
) -> CmdResult<BulkResult> {
    let (w, actor) = state.actor().await?;
    let filter = filter.unwrap_or_default().into_filter()?;
    let change = change.into_change()?;
    let now = review::count(&w, &actor, &filter).await?;
    if now != expected {
        return Err(AppError::bad_input(format!(
            "the filter now matches {now} discrepancies, not the {expected} you confirmed; check the list and try again"
        )));
    }
    Ok(review::bulk_update_undoable(&w, &actor, &filter, &change)
        .await?
        .into())
}

/// Applies one change to the rows the person chose (by id), all or nothing.
#[tauri::command]
pub async fn bulk_update_discrepancies_by_ids(
    state: State<'_, DesktopState>,
    ids: Vec<i64>,
    change: ChangeIn,
) -> CmdResult<BulkResult> {
    let (w, actor) = state.actor().await?;
    let change = change.into_change()?;
    Ok(review::bulk_update_by_ids(&w, &actor, &ids, &change)
        .await?
        .into())
}

/// Takes back a review change (single or bulk) its author made moments ago, row by row where
/// nobody changed the row since.
#[tauri::command]
pub async fn undo_review_change(
    state: State<'_, DesktopState>,
    undo_id: i64,
) -> CmdResult<review::UndoResult> {
    let (w, actor) = state.actor().await?;
    Ok(review::undo(&w, &actor, undo_id).await?)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ExportResult {
    pub path: String,
    pub rows: usize,
}

#[tauri::command]
pub async fn export_discrepancies(
    state: State<'_, DesktopState>,
    filter: Option<FilterIn>,
    format: String,
    lang: String,
) -> CmdResult<ExportResult> {
    let (w, actor) = state.actor().await?;
    let filter = filter.unwrap_or_default().into_filter()?;
    let format = format.trim().to_ascii_lowercase();
    if format != "csv" && format != "xlsx" {
        return Err(AppError::bad_input(format!(
            "format {format:?}: choose csv or xlsx"
        )));
    }
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let path = w
        .dir
        .join("exports")
        .join(format!("discrepancies-{stamp}-{}.{format}", lang.trim()));
    let rows = review::export_report(&w, &actor, &filter, &format, &path, &lang).await?;
    Ok(ExportResult {
        path: path.display().to_string(),
        rows,
    })
}

#[tauri::command]
pub async fn reviewers(state: State<'_, DesktopState>) -> CmdResult<Vec<String>> {
    let (w, actor) = state.actor().await?;
    Ok(paydesk_service::context::auth::reviewers(&w.db, &actor).await?)
}
