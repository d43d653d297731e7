//! The demo: a workspace with three sandbox accounts, two generated days with every kind of
//! discrepancy, reconciled end to end, with CSV and XLSX reports.

use crate::config::Account;
use crate::generate::{self, GenAccount, GenerateParams, GeneratedDay, Mix};
use crate::progress::Progress;
use crate::reconcile::{self, DryRun, ReconcileRequest, RunReport};
use crate::workspace::{self, Workspace};
use crate::ServiceError;
use paydesk_core::{BillDate, DiscrepancyFilter, Provider, StatementLine};
use paydesk_providers::statement;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Yesterday in Beijing: the day finance staff reconcile each morning.
pub fn default_demo_date() -> BillDate {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    BillDate(today).pred()
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub workspace: String,
    pub days: Vec<String>,
    pub runs: Vec<RunReport>,
    /// Discrepancies found per class over all runs.
    pub class_totals: BTreeMap<String, u64>,
    pub reports: Vec<String>,
}

/// Orders per demo day: small enough to read, large enough for every class.
const DEMO_ORDERS_PER_DAY: u64 = 45;

/// The demo data for one day: the generator's output for the workspace's accounts.
pub fn demo_day(w: &Workspace, date: BillDate) -> GeneratedDay {
    let accounts = w
        .config
        .accounts
        .iter()
        .map(|a| GenAccount {
            name: a.name.clone(),
            provider: a.provider,
            currency: a.currency,
            timezone: a.timezone,
        })
        .collect();
    generate::generate(&GenerateParams {
        orders: DEMO_ORDERS_PER_DAY,
        date,
        seed: 20_261_122,
        mix: Mix::demo(),
        accounts,
    })
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
            progress.update(crate::progress::Stage::Download, 0, None);
            let result = async {
                let endpoint = crate::download::SandboxEndpoint::of(&sandbox);
                let adapter = crate::download::adapter_for(&w, account, Some(&endpoint))?;
                let statement =
                    crate::download::download_with(adapter.as_ref(), account, day, "sandbox")
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
    Ok(DemoSummary {
        workspace: w.dir.display().to_string(),
        days: vec![day1.to_string(), date.to_string()],
        runs,
        class_totals,
        reports,
    })
}

/// Opens (or creates) the demo workspace with the merchant's orders up to `date` in the
/// mirror and the demo users, without reconciling anything: what the desktop app starts on.
pub async fn prepare(dir: &Path, date: BillDate) -> Result<Workspace, ServiceError> {
    let w = if dir.join(crate::config::CONFIG_FILE).is_file() {
        Workspace::open(dir).await?
    } else {
        workspace::init(dir, true).await?
    };
    let day1 = date.pred();
    // The merchant's history includes the day before: its late payments settle on day one.
    seed_mirror(&w, &demo_day(&w, day1.pred())).await?;
    seed_mirror(&w, &demo_day(&w, day1)).await?;
    seed_mirror(&w, &demo_day(&w, date)).await?;
    crate::auth::ensure_demo_users(&w.db).await?;
    Ok(w)
}

/// Loads the generated orders and refunds into the mirror once (re-running the demo does
/// not duplicate them).
async fn seed_mirror(w: &Workspace, day: &GeneratedDay) -> Result<(), ServiceError> {
    let Some(first) = day.orders.first() else {
        return Ok(());
    };
    let present = w
        .mirror
        .orders_by_numbers(first.provider, std::slice::from_ref(&first.order_no))
        .await?;
    if present.is_empty() {
        paydesk_store::insert_mirror_rows(&w.config.mirror_url, &day.orders, &day.refunds).await?;
    }
    Ok(())
}

/// Writes `lines` in the account's provider's real statement format.
pub fn statement_file(
    account: &Account,
    date: BillDate,
    lines: &[StatementLine],
) -> Result<(String, Vec<u8>), ServiceError> {
    let compact = date.0.format("%Y%m%d");
    let bad = |e: statement::StatementError| ServiceError::Io(e.to_string());
    Ok(match account.provider {
        Provider::Alipay => {
            let pid = account.credential("pid").unwrap_or("2088000000000001");
            (
                format!("{pid}0156_{compact}.csv.zip"),
                statement::write_alipay_bill_zip(lines, pid, date).map_err(bad)?,
            )
        }
        Provider::Wechat => {
            let mchid = account.credential("mchid").unwrap_or("1900000001");
            let mut out = Vec::new();
            statement::write_wechat_bill(lines.iter(), &mut out).map_err(bad)?;
            (format!("{mchid}_{compact}_ALL.csv"), out)
        }
        Provider::Stripe => {
            let mut out = Vec::new();
            statement::write_stripe_report(lines.iter(), &mut out).map_err(bad)?;
            (
                format!("balance_change_from_activity_itemized_{date}.csv"),
                out,
            )
        }
        Provider::Manual => {
            let mut out = Vec::new();
            statement::write_normalized(lines.iter(), &mut out).map_err(bad)?;
            (format!("{}_{date}.csv", account.name), out)
        }
    })
}

/// `paydesk generate`: an order mirror (`orders.db`, default schema), one statement file per
/// account in its provider's real format, and a `paydesk.toml` that reads them.
pub async fn generate_to_dir(
    params: &GenerateParams,
    out: &Path,
) -> Result<Vec<PathBuf>, ServiceError> {
    std::fs::create_dir_all(out)
        .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", out.display())))?;
    let day = generate::generate(params);
    let mut written = Vec::new();

    let config_path = out.join(crate::config::CONFIG_FILE);
    if !config_path.exists() {
        std::fs::write(&config_path, workspace::template_config(false)).map_err(|e| {
            ServiceError::Io(format!("cannot write {}: {e}", config_path.display()))
        })?;
        written.push(config_path);
    }
    let mirror_path = out.join("orders.db");
    if mirror_path.exists() {
        return Err(ServiceError::BadInput(format!(
            "{} already exists; generate into an empty folder",
            mirror_path.display()
        )));
    }
    let mirror_url = crate::config::sqlite_url(&mirror_path);
    paydesk_store::create_default_mirror(&mirror_url).await?;
    paydesk_store::insert_mirror_rows(&mirror_url, &day.orders, &day.refunds).await?;
    written.push(mirror_path);

    for gen in &params.accounts {
        let account = Account {
            name: gen.name.clone(),
            provider: gen.provider,
            currency: gen.currency,
            timezone: gen.timezone,
            endpoint: crate::config::Endpoint::FileOnly,
            fee_rules: Vec::new(),
            credentials: toml::Table::new(),
        };
        let lines = day.lines.get(&gen.name).cloned().unwrap_or_default();
        let (name, bytes) = statement_file(&account, params.date, &lines)?;
        let path = out.join(format!("{}-{name}", gen.name));
        std::fs::write(&path, bytes)
            .map_err(|e| ServiceError::Io(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
