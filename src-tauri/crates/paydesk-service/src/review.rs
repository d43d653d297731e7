//! Review round trips: export discrepancies to CSV/XLSX, re-import a reviewed XLSX.

use crate::report::{self, Lang, ReportMeta};
use crate::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{DiscrepancyFilter, DiscrepancyRecord};
use paydesk_store::DiscrepancySort;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Reads every discrepancy matching `filter`, page by page, in a stable order.
pub async fn load_all(
    w: &Workspace,
    filter: &DiscrepancyFilter,
) -> Result<Vec<DiscrepancyRecord>, ServiceError> {
    const PAGE: u32 = 5_000;
    let mut rows = Vec::new();
    loop {
        let page =
            w.db.list_discrepancies(filter, DiscrepancySort::DateAsc, PAGE, rows.len() as u64)
                .await?;
        let n = page.len();
        rows.extend(page);
        if n < PAGE as usize {
            return Ok(rows);
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
    filter: &DiscrepancyFilter,
    format: &str,
    out: &Path,
    lang: &str,
    actor: &str,
) -> Result<usize, ServiceError> {
    let lang = parse_lang(lang)?;
    let rows = load_all(w, filter).await?;
    let meta = ReportMeta {
        title: match lang {
            Lang::En => "Paydesk discrepancy report".into(),
            Lang::Zh => "Paydesk 对账差异报告".into(),
        },
        generated_at: chrono::Utc::now(),
        generated_by: actor.to_string(),
        scope: describe_filter(filter),
        lang,
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    match format {
        "csv" => {
            // Write to a temporary file and rename, so a failed export leaves no half file.
            let tmp = out.with_extension("csv.partial");
            let file = std::fs::File::create(&tmp)
                .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", tmp.display())))?;
            report::write_csv(&rows, &meta, std::io::BufWriter::new(file))
                .map_err(|e| ServiceError::Io(e.to_string()))?;
            std::fs::rename(&tmp, out)
                .map_err(|e| ServiceError::Io(format!("cannot write {}: {e}", out.display())))?;
        }
        "xlsx" => {
            report::write_xlsx(&rows, &meta, out).map_err(|e| ServiceError::Io(e.to_string()))?;
        }
        other => {
            return Err(ServiceError::BadInput(format!(
                "report format {other:?} is not csv or xlsx"
            )))
        }
    }
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
    file: &Path,
    actor: &str,
) -> Result<ImportOutcome, ServiceError> {
    let all = load_all(
        w,
        &DiscrepancyFilter {
            include_gone: true,
            ..Default::default()
        },
    )
    .await?;
    let by_id: HashMap<i64, DiscrepancyRecord> = all.into_iter().map(|d| (d.id, d)).collect();
    let import = report::read_review_xlsx(file, &|id| by_id.get(&id).cloned())
        .map_err(|e| ServiceError::BadInput(e.to_string()))?;
    let changes: Vec<(i64, paydesk_core::ReviewChange)> = import
        .changes
        .iter()
        .map(|c| (c.id, c.change.clone()))
        .collect();
    let applied = if changes.is_empty() {
        0
    } else {
        w.db.apply_review_changes(&changes, actor).await?
    };
    Ok(ImportOutcome {
        applied,
        rejected: import.rejected,
    })
}
