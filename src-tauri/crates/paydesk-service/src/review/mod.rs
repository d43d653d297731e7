//! Review round trips: export discrepancies to CSV/XLSX, re-import a reviewed XLSX.

pub mod report;

use crate::context::auth::{audit, require};
use crate::context::private_file::{write_export, ProtectedFiles};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{
    Actor, Currency, DiscrepancyFilter, DiscrepancyRecord, HistoryEntry, Permission, ReviewChange,
};
use paydesk_store::{DiscrepancySort, PageAt, PageCursor, StoreError};
use report::{Lang, ReportMeta};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

/// A page of discrepancies and how many match in all.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiscrepancyPage {
    pub total: u64,
    pub discrepancies: Vec<DiscrepancyRecord>,
    /// Where the first and last rows stand (sort key and id): ask for the block before or
    /// after this one with them, so that scrolling never looks rows up by position.
    pub first: Option<PageCursor>,
    pub last: Option<PageCursor>,
}

/// The `limit` rows from position `offset`.
pub async fn list(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    sort: DiscrepancySort,
    limit: u32,
    offset: u64,
) -> Result<DiscrepancyPage, ServiceError> {
    list_at(w, actor, filter, sort, limit, &PageAt::Offset(offset)).await
}

/// A block at a position or right after/before a row of an earlier block (a cursor of the
/// same filter and sort).
pub async fn list_at(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    sort: DiscrepancySort,
    limit: u32,
    at: &PageAt,
) -> Result<DiscrepancyPage, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyView, "discrepancies").await?;
    let total = w.db.count_discrepancies(filter).await?;
    let block = w.db.list_discrepancy_block(filter, sort, limit, at).await?;
    Ok(DiscrepancyPage {
        total,
        discrepancies: block.rows,
        first: block.first,
        last: block.last,
    })
}

/// What a view's discrepancies put at stake, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CurrencyTotal {
    pub currency: Currency,
    pub count: u64,
    /// Σ of the amounts at stake, minor units (amounts of different currencies are never
    /// added together).
    pub at_stake: i64,
}

/// The discrepancies matching `filter`, counted and summed per currency (one grouped query),
/// largest amount first.
pub async fn totals(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
) -> Result<Vec<CurrencyTotal>, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyView, "discrepancies").await?;
    let mut by_currency: Vec<CurrencyTotal> = Vec::new();
    for row in w.db.discrepancy_summary(filter).await? {
        match by_currency.iter_mut().find(|t| t.currency == row.currency) {
            Some(t) => {
                t.count += row.count;
                t.at_stake = t.at_stake.saturating_add(row.abs_difference);
            }
            None => by_currency.push(CurrencyTotal {
                currency: row.currency,
                count: row.count,
                at_stake: row.abs_difference,
            }),
        }
    }
    by_currency.sort_by(|a, b| {
        b.at_stake
            .cmp(&a.at_stake)
            .then_with(|| a.currency.code().cmp(b.currency.code()))
    });
    Ok(by_currency)
}

/// Prepares deep jumps in a view of `total` rows (the position anchors), so that the first
/// one does not pay for walking the whole list: the desktop app runs it in the background
/// when a view's first block is shown.
pub async fn prepare_jumps(
    w: &Workspace,
    filter: &DiscrepancyFilter,
    sort: DiscrepancySort,
    total: u64,
) -> Result<bool, ServiceError> {
    Ok(w.db.prepare_review_jumps(filter, sort, total).await?)
}

/// One discrepancy with its history.
pub async fn show(
    w: &Workspace,
    actor: &Actor,
    id: i64,
) -> Result<(DiscrepancyRecord, Vec<HistoryEntry>), ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("discrepancy {id}"),
    )
    .await?;
    let d =
        w.db.discrepancy(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no discrepancy with id {id}")))?;
    Ok((d, w.db.discrepancy_history(id).await?))
}

pub async fn update(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    change: &ReviewChange,
) -> Result<DiscrepancyRecord, ServiceError> {
    Ok(update_undoable(w, actor, id, change).await?.0)
}

/// [`update`], and the id its author can undo it with for [`UNDO_WINDOW_SECS`] (`None` when
/// nothing changed).
pub async fn update_undoable(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    change: &ReviewChange,
) -> Result<(DiscrepancyRecord, Option<i64>), ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyReview,
        &format!("discrepancy {id}"),
    )
    .await?;
    change.validate().map_err(ServiceError::BadInput)?;
    let (d, edit) =
        w.db.update_discrepancy_undoable(id, change, &actor.username)
            .await
            .map_err(plain_store_error)?;
    audit(
        &w.db,
        &actor.username,
        "discrepancy.update",
        &format!("discrepancy {id}"),
        "ok",
        json!(change),
    )
    .await?;
    Ok((d, edit.edit_id))
}

/// How many discrepancies a bulk change would touch (the UI and CLI say so before acting).
pub async fn count(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
) -> Result<u64, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyView, "discrepancies").await?;
    Ok(w.db.count_discrepancies(filter).await?)
}

pub async fn bulk_update(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    change: &ReviewChange,
) -> Result<u64, ServiceError> {
    Ok(bulk_update_undoable(w, actor, filter, change)
        .await?
        .updated)
}

/// What an undoable review change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewUpdate {
    /// How many discrepancies actually changed.
    pub updated: u64,
    /// What [`undo`] takes back for [`UNDO_WINDOW_SECS`]; `None` when nothing changed.
    pub undo_id: Option<i64>,
}

/// How long after a review change its author may undo it. The desktop offers the undo for
/// 30 s; the rest covers a slow answer and a last-moment click.
pub const UNDO_WINDOW_SECS: i64 = 120;

/// The most discrepancies one change by id may name (a person's selection among the rows loaded in the table: at most 12,000).
pub const MAX_CHOSEN: usize = 20_000;

/// [`bulk_update`], undoable.
pub async fn bulk_update_undoable(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    change: &ReviewChange,
) -> Result<ReviewUpdate, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyReview, "discrepancies").await?;
    change.validate().map_err(ServiceError::BadInput)?;
    let edit =
        w.db.bulk_update_discrepancies_undoable(filter, change, &actor.username)
            .await
            .map_err(plain_store_error)?;
    audit(
        &w.db,
        &actor.username,
        "discrepancy.bulk_update",
        &describe_filter(filter),
        "ok",
        json!({"rows": edit.changed, "change": change, "undo_id": edit.edit_id}),
    )
    .await?;
    Ok(ReviewUpdate {
        updated: edit.changed,
        undo_id: edit.edit_id,
    })
}

/// Applies one change to the chosen discrepancies (by id; repeats count once), all or
/// nothing: an unknown id fails the whole change. Undoable like [`bulk_update_undoable`].
pub async fn bulk_update_by_ids(
    w: &Workspace,
    actor: &Actor,
    ids: &[i64],
    change: &ReviewChange,
) -> Result<ReviewUpdate, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyReview, "discrepancies").await?;
    change.validate().map_err(ServiceError::BadInput)?;
    let mut chosen = ids.to_vec();
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.is_empty() {
        return Err(ServiceError::BadInput(
            "no discrepancies chosen: choose at least one".into(),
        ));
    }
    if chosen.len() > MAX_CHOSEN {
        return Err(ServiceError::BadInput(format!(
            "{} discrepancies chosen; at most {MAX_CHOSEN} can be changed by id at once \
             (change all that match a filter instead)",
            chosen.len()
        )));
    }
    let edit =
        w.db.update_discrepancies_by_ids(&chosen, change, &actor.username)
            .await
            .map_err(plain_store_error)?;
    audit(
        &w.db,
        &actor.username,
        "discrepancy.bulk_update_chosen",
        &format!("{} chosen discrepancies", chosen.len()),
        "ok",
        json!({"rows": edit.changed, "ids": chosen, "change": change, "undo_id": edit.edit_id}),
    )
    .await?;
    Ok(ReviewUpdate {
        updated: edit.changed,
        undo_id: edit.edit_id,
    })
}

/// What [`undo`] did, by discrepancy id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UndoResult {
    /// Put back as they were before the change.
    pub restored: Vec<i64>,
    /// Left as they are: their review was changed after the change (by someone, or a run).
    pub skipped: Vec<i64>,
}

/// Undoes a review change (`undo_id` from [`update_undoable`], [`bulk_update_undoable`] or
/// [`bulk_update_by_ids`]): only its author, within [`UNDO_WINDOW_SECS`], once. Each row
/// gets back its state, resolution, note and assignee of before the change, unless it was
/// changed since (then it is skipped and named). Audited as `discrepancy.undo`.
pub async fn undo(w: &Workspace, actor: &Actor, undo_id: i64) -> Result<UndoResult, ServiceError> {
    let target = format!("review change {undo_id}");
    require(&w.db, actor, Permission::DiscrepancyReview, &target).await?;
    let not_before = chrono::Utc::now() - chrono::Duration::seconds(UNDO_WINDOW_SECS);
    // Checked here for a clear answer; the store checks again in its transaction.
    let Some(edit) = w.db.review_edit(undo_id).await? else {
        return Err(ServiceError::NotFound(format!(
            "no review change {undo_id} to undo (changes can be undone for {UNDO_WINDOW_SECS} s)"
        )));
    };
    if edit.actor != actor.username {
        return Err(ServiceError::Conflict(format!(
            "{target} was made by {}: only they can undo it",
            edit.actor
        )));
    }
    if edit.undone_at.is_some() {
        return Err(ServiceError::Conflict(format!(
            "{target} was undone already{}",
            edit.undone_by
                .map(|by| format!(" by {by}"))
                .unwrap_or_default()
        )));
    }
    if edit.at < not_before {
        return Err(ServiceError::Conflict(format!(
            "{target} is more than {UNDO_WINDOW_SECS} s old: change the discrepancies back by hand"
        )));
    }
    let out =
        w.db.undo_review_edit(undo_id, &actor.username, not_before)
            .await
            .map_err(|e| match e {
                // Lost a race with another undo of the same change.
                StoreError::Invalid { what, reason } => {
                    ServiceError::Conflict(format!("{what}: {reason}"))
                }
                e => plain_store_error(e),
            })?;
    audit(
        &w.db,
        &actor.username,
        "discrepancy.undo",
        &target,
        "ok",
        json!({"restored": out.restored.len(), "skipped": out.skipped, "rows": edit.rows}),
    )
    .await?;
    Ok(UndoResult {
        restored: out.restored,
        skipped: out.skipped,
    })
}

/// A refused input (unknown discrepancy, invalid change) as the caller's mistake rather than
/// a database failure.
fn plain_store_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound { what, id } => {
            let ids = if id.contains(',') { "ids" } else { "id" };
            ServiceError::NotFound(format!("no {what} with {ids} {id}"))
        }
        StoreError::Invalid { what, reason } => ServiceError::BadInput(format!("{what}: {reason}")),
        e => ServiceError::Store(e),
    }
}

/// Reads every discrepancy matching `filter`, page by page, in a stable order (each page
/// read by keyset after the previous one's last row, not by position).
pub async fn load_all(
    w: &Workspace,
    filter: &DiscrepancyFilter,
) -> Result<Vec<DiscrepancyRecord>, ServiceError> {
    const PAGE: u32 = 5_000;
    let mut rows = Vec::new();
    let mut at = PageAt::Offset(0);
    loop {
        let page =
            w.db.list_discrepancy_block(filter, DiscrepancySort::DateAsc, PAGE, &at)
                .await?;
        let n = page.rows.len();
        rows.extend(page.rows);
        match page.last {
            Some(last) if n == PAGE as usize => at = PageAt::After(last),
            _ => return Ok(rows),
        }
    }
}

pub fn parse_lang(lang: &str) -> Result<Lang, ServiceError> {
    match lang.trim().to_ascii_lowercase().as_str() {
        "en" | "english" => Ok(Lang::En),
        "zh" | "zh-cn" | "cn" | "chinese" => Ok(Lang::Zh),
        other => Err(ServiceError::BadInput(format!(
            "language {other:?} is not en or zh"
        ))),
    }
}

/// Writes the discrepancies matching `filter` as CSV or XLSX. Returns how many rows.
pub async fn export_report(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    format: &str,
    out: &Path,
    lang: &str,
) -> Result<usize, ServiceError> {
    require(&w.db, actor, Permission::ReportExport, "discrepancy report").await?;
    let lang = parse_lang(lang)?;
    let rows = load_all(w, filter).await?;
    let meta = ReportMeta {
        title: match lang {
            Lang::En => "Paydesk discrepancy report".into(),
            Lang::Zh => "Paydesk 对账差异报告".into(),
        },
        generated_at: chrono::Utc::now(),
        generated_by: actor.username.clone(),
        scope: describe_filter(filter),
        lang,
    };
    // Private (0600), atomic, and never onto the workspace's own files or through a link.
    let protected = ProtectedFiles::of(&w.config);
    let shown = out.display().to_string();
    match format {
        "csv" => write_export(out, &protected, |file| {
            report::write_csv(&rows, &meta, std::io::BufWriter::new(file))
                .map_err(|e| e.to_string())
        })?,
        "xlsx" => write_export(out, &protected, |file| {
            report::write_xlsx_to(&rows, &meta, &shown, file).map_err(|e| e.to_string())
        })?,
        other => {
            return Err(ServiceError::BadInput(format!(
                "report format {other:?} is not csv or xlsx"
            )))
        }
    }
    audit(
        &w.db,
        &actor.username,
        "report.export",
        &describe_filter(filter),
        "ok",
        json!({"rows": rows.len(), "format": format, "file": out.file_name().map(|f| f.to_string_lossy().into_owned())}),
    )
    .await?;
    Ok(rows.len())
}

/// The filter in words, for the report header.
pub fn describe_filter(f: &DiscrepancyFilter) -> String {
    let mut parts = Vec::new();
    if let Some(run) = f.run_id {
        parts.push(format!("run {run}"));
    }
    if let Some(a) = &f.account {
        parts.push(format!("account {a}"));
    }
    if let Some(p) = f.provider {
        parts.push(format!("provider {p}"));
    }
    match (f.date_from, f.date_to) {
        (Some(a), Some(b)) if a == b => parts.push(format!("day {a}")),
        (Some(a), Some(b)) => parts.push(format!("days {a} to {b}")),
        (Some(a), None) => parts.push(format!("from {a}")),
        (None, Some(b)) => parts.push(format!("until {b}")),
        (None, None) => {}
    }
    if !f.classes.is_empty() {
        parts.push(format!(
            "classes {}",
            f.classes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !f.states.is_empty() {
        parts.push(format!(
            "states {}",
            f.states
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if parts.is_empty() {
        "all discrepancies".into()
    } else {
        parts.join("; ")
    }
}

/// What a spreadsheet re-import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub applied: u64,
    pub rejected: Vec<report::RejectedRow>,
}

/// Re-imports a reviewed XLSX: every row validated; the valid ones applied in one
/// transaction; the rejected ones reported with reasons.
pub async fn import_review(
    w: &Workspace,
    actor: &Actor,
    file: &Path,
) -> Result<ImportOutcome, ServiceError> {
    require(&w.db, actor, Permission::DiscrepancyReview, "discrepancies").await?;
    let all = load_all(
        w,
        &DiscrepancyFilter {
            include_gone: true,
            ..Default::default()
        },
    )
    .await?;
    let by_id: HashMap<i64, DiscrepancyRecord> = all.into_iter().map(|d| (d.id, d)).collect();
    let import =
        report::read_review_xlsx_with(file, &|id| by_id.get(&id).cloned(), &w.config.limits)
            .map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let changes: Vec<(i64, paydesk_core::ReviewChange)> = import
        .changes
        .iter()
        .map(|c| (c.id, c.change.clone()))
        .collect();
    let applied = if changes.is_empty() {
        0
    } else {
        w.db.apply_review_changes(&changes, &actor.username).await?
    };
    audit(
        &w.db,
        &actor.username,
        "discrepancy.import",
        &file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        "ok",
        json!({"applied": applied, "rejected": import.rejected.len()}),
    )
    .await?;
    Ok(ImportOutcome {
        applied,
        rejected: import.rejected,
    })
}
