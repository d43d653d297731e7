//! The demo: a workspace with four sandbox accounts (two WeChat Pay merchants, to show account
//! scoping), two generated days with every kind of discrepancy, reconciled end to end, with
//! CSV and XLSX reports.

pub mod settlement;

use crate::context::progress::Progress;
use crate::context::workspace::{self, Workspace};
use crate::reconcile::{self, DryRun, ReconcileRequest, RunReport};
use crate::sandbox::generate::GeneratedDay;
use crate::sandbox::history::demo_day;
use crate::sandbox::SandboxEndpoint;
use crate::ServiceError;
use paydesk_core::{BillDate, DiscrepancyFilter};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub workspace: String,
    pub days: Vec<String>,
    pub runs: Vec<RunReport>,
    /// Discrepancies found per class over all runs.
    pub class_totals: BTreeMap<String, u64>,
    pub reports: Vec<String>,
    /// Settlement (资金对账) per bank account: fund flows downloaded, bank statements
    /// generated and imported, settled as of the second day.
    pub settlements: Vec<settlement::DemoSettlement>,
    /// Settlement findings per class over all bank accounts.
    pub settlement_totals: BTreeMap<String, u64>,
}

pub async fn run_demo(
    dir: &Path,
    date: BillDate,
    progress: &dyn Progress,
) -> Result<DemoSummary, ServiceError> {
    let w = prepare(dir, date).await?;
    let day1 = date.pred();
    // The morning job runs as the demo's finance user.
    let actor = paydesk_core::Actor::new("finance", [paydesk_core::Role::Finance]);
    // The provider side: the built-in sandbox serves both days' statements over HTTP with the
    // providers' real protocols; every download is signed and verified like the real thing.
    let sandbox = crate::sandbox::start(&w, 0, &[day1, date]).await?;
    let mut runs = Vec::new();
    let mut failure = None;
    'days: for day in [day1, date] {
        for account in &w.config.accounts {
            progress.update(crate::context::progress::Stage::Download, 0, None);
            let result = async {
                let endpoint = SandboxEndpoint::of(&sandbox);
                let adapter = crate::connect::build(endpoint.demo_config(&w, account)?)?;
                let statement = crate::reconcile::download::download_with(
                    adapter.as_ref(),
                    account,
                    day,
                    "sandbox",
                )
                .await?;
                reconcile::reconcile(
                    &w.config,
                    &w.db,
                    &w.mirror,
                    &ReconcileRequest {
                        account: account.name.clone(),
                        date: day,
                        statement,
                        dry_run: DryRun::No,
                        actor: actor.clone(),
                        lock_wait: Duration::from_secs(60),
                    },
                    progress,
                )
                .await
            }
            .await;
            match result {
                Ok(report) => runs.push(report),
                Err(e) => {
                    failure = Some(e);
                    break 'days;
                }
            }
        }
    }
    sandbox.shutdown().await;
    if let Some(e) = failure {
        return Err(e);
    }

    let mut class_totals = BTreeMap::new();
    for r in &runs {
        for d in &r.discrepancies {
            *class_totals
                .entry(d.class.as_str().to_string())
                .or_insert(0) += 1;
        }
    }
    let filter = DiscrepancyFilter {
        date_from: Some(day1),
        date_to: Some(date),
        include_gone: true,
        ..Default::default()
    };
    let reports_dir = w.dir.join("reports");
    let mut reports = Vec::new();
    for (format, lang) in [("csv", "en"), ("xlsx", "en"), ("xlsx", "zh")] {
        let out = reports_dir.join(format!("discrepancies-{day1}-to-{date}-{lang}.{format}"));
        crate::review::export_report(&w, &actor, &filter, format, &out, lang).await?;
        reports.push(out.display().to_string());
    }
    let settlements = settlement::run(&w, &actor, date).await?;
    // The daily settlement report of each bank account over the demo's history.
    for s in &settlements {
        let from = date
            .0
            .checked_sub_days(chrono::Days::new(settlement::HISTORY_DAYS))
            .unwrap_or(date.0);
        for (format, lang) in [
            ("csv", crate::review::report::Lang::En),
            ("xlsx", crate::review::report::Lang::Zh),
        ] {
            let tag = if lang == crate::review::report::Lang::Zh {
                "zh"
            } else {
                "en"
            };
            let out = reports_dir.join(format!(
                "settlement-{}-{from}-to-{date}-{tag}.{format}",
                s.bank_account
            ));
            crate::settlement::report::export(
                &w,
                &actor,
                &s.bank_account,
                from,
                date.0,
                format,
                lang,
                &out,
            )
            .await?;
            reports.push(out.display().to_string());
        }
    }
    let mut settlement_totals = BTreeMap::new();
    for s in &settlements {
        for (class, n) in &s.counts {
            *settlement_totals.entry(class.clone()).or_insert(0) += n;
        }
        // Suggestions wait for a reviewer: not a finding, but shown with them.
        if s.suggestions != 0 {
            *settlement_totals
                .entry("suggestion".to_string())
                .or_insert(0) += s.suggestions;
        }
    }
    Ok(DemoSummary {
        workspace: w.dir.display().to_string(),
        days: vec![day1.to_string(), date.to_string()],
        runs,
        class_totals,
        reports,
        settlements,
        settlement_totals,
    })
}

/// Opens (or creates) the demo workspace with the merchant's orders up to `date` in the
/// mirror and the demo users, without reconciling anything: what the desktop app starts on.
/// Only on a new folder or a workspace the demo created: any other folder is refused before
/// anything is written (see [`workspace::demo_folder`]).
pub async fn prepare(dir: &Path, date: BillDate) -> Result<Workspace, ServiceError> {
    let w = workspace::open_or_create_demo(dir).await?;
    // The demo loads its orders into the mirror file it created, and into no other.
    if !paydesk_store::is_demo_mirror(&w.config.mirror_url).await? {
        return Err(workspace::not_for_demo(
            dir,
            "has an order mirror that is not the file the demo created, and the demo writes to \
             no other",
        ));
    }
    let day1 = date.pred();
    // The merchant's history includes the day before: its late payments settle on day one.
    seed_mirror(&w, &demo_day(&w, day1.pred())).await?;
    seed_mirror(&w, &demo_day(&w, day1)).await?;
    seed_mirror(&w, &demo_day(&w, date)).await?;
    crate::context::auth::ensure_demo_users(&w.db).await?;
    Ok(w)
}

/// Loads the generated orders and refunds into the demo's own mirror once (re-running the
/// demo does not duplicate them). [`prepare`] checked that the mirror is the demo's.
async fn seed_mirror(w: &Workspace, day: &GeneratedDay) -> Result<(), ServiceError> {
    let Some(first) = day.orders.first() else {
        return Ok(());
    };
    let present = w
        .mirror
        .orders_by_numbers(
            first.provider,
            std::slice::from_ref(&first.order_no.to_string()),
        )
        .await?;
    if present.is_empty() {
        paydesk_store::insert_mirror_rows(&w.config.mirror_url, &day.orders, &day.refunds).await?;
    }
    // Each order belongs to the account it was made for (see "Account scoping"): the two
    // WeChat Pay merchants reconcile against their own orders. Tagging again is harmless.
    paydesk_store::set_mirror_accounts(&w.config.mirror_url, &day.order_accounts).await?;
    Ok(())
}
