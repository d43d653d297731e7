//! The reconciliation batch runner (`reconcile::batch`), as the CLI and the desktop app use
//! it: a failing account does not stop the others, a refused permission stops at once, a
//! cancel between accounts (or inside a run) ends the batch. On SQLite and on PostgreSQL.

use paydesk_core::{Actor, BillDate, Provider, Role};
use paydesk_service::context::progress::{CancelFlag, Stage};
use paydesk_service::context::workspace::{self, Workspace};
use paydesk_service::reconcile::batch::{self, Batch, BatchObserver, OnFailure};
use paydesk_service::reconcile::{DryRun, RunReport};
use paydesk_service::{context::auth, ServiceError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn wechat_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/samples/wechat/1921000401_20190219_ALL.csv")
}

fn date() -> BillDate {
    BillDate::parse("2019-02-19").expect("date")
}

/// A fresh PostgreSQL database, dropped at the end.
struct PgDb {
    admin: String,
    name: String,
    url: String,
}

impl PgDb {
    async fn create() -> Option<PgDb> {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let admin = std::env::var("PAYDESK_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "paydesk_batch_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        match sqlx::AnyPool::connect(&admin).await {
            Ok(pool) => {
                pool.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create database");
                pool.close().await;
            }
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL is required under CI: {e}"
                );
                eprintln!("SKIPPED: no PostgreSQL at {admin}: {e}");
                return None;
            }
        }
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        Some(PgDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }

    async fn drop_db(self) {
        use sqlx::Executor;
        if let Ok(pool) = sqlx::AnyPool::connect(&self.admin).await {
            let _ = pool
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
            pool.close().await;
        }
    }
}

/// A demo-style workspace (SQLite app database unless `pg_url`), with demo users.
async fn workspace(dir: &Path, pg_url: Option<&str>) -> Workspace {
    std::fs::create_dir_all(dir).expect("dir");
    // wechat-main is the merchant of the WeChat Pay sample bill every account is given.
    let mut config = workspace::template_config(true)
        .replace("mchid = \"1900000001\"", "mchid = \"1921000401\"");
    if let Some(url) = pg_url {
        config = config.replace(
            "database_url = \"sqlite://paydesk.db\"",
            &format!("database_url = \"{url}\""),
        );
    }
    std::fs::write(dir.join("paydesk.toml"), config).expect("config");
    let w = workspace::init(dir, true).await.expect("init");
    auth::ensure_demo_users(&w.db).await.expect("demo users");
    w
}

fn admin() -> Actor {
    Actor::new("admin", [Role::Admin])
}

/// What the observer heard, in order.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    /// Set the flag when this account is done (a cancel between accounts).
    cancel_after: Option<(&'static str, &'static CancelFlag)>,
    /// Set the flag at the first stage of a run (a cancel inside a run).
    cancel_in_run: Option<&'static CancelFlag>,
}

impl Recorder {
    fn push(&self, e: String) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }
    fn events(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl BatchObserver for Recorder {
    fn account_started(&self, account: &str) {
        self.push(format!("start {account}"));
    }
    fn stage(&self, _account: &str, _stage: Stage, _done: u64, _total: Option<u64>) {
        if let Some(flag) = self.cancel_in_run {
            flag.cancel();
        }
    }
    fn account_done(&self, account: &str, report: &RunReport) {
        assert_eq!(report.account, account);
        self.push(format!("done {account}"));
        if let Some((a, flag)) = self.cancel_after {
            if a == account {
                flag.cancel();
            }
        }
    }
    fn account_failed(&self, account: &str, error: &ServiceError) {
        let kind = match error {
            ServiceError::Denied(_) => "denied",
            ServiceError::Cancelled => "cancelled",
            _ => "failed",
        };
        self.push(format!("{kind} {account}"));
    }
}

/// A batch over `accounts`, every one given the WeChat Pay sample (so an Alipay account
/// fails on it), dry run.
fn request(accounts: &[&str], on_failure: OnFailure) -> Batch {
    Batch {
        accounts: accounts.iter().map(|a| a.to_string()).collect(),
        date: date(),
        statement: Some(wechat_sample()),
        dry_run: DryRun::Yes,
        on_failure,
    }
}

fn leak_flag() -> &'static CancelFlag {
    Box::leak(Box::default())
}

async fn check_runner(w: &Workspace) {
    // Which accounts: every one of a provider, or all, in paydesk.toml's order.
    let all = batch::accounts_of(&w.config, None);
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(
        batch::accounts_of(&w.config, Some(Provider::Wechat)),
        vec!["wechat-main".to_string(), "wechat-shop2".to_string()]
    );

    // A failing account does not stop the batch.
    let rec = Recorder::default();
    let never = CancelFlag::default();
    let out = batch::run_batch(
        w,
        &admin(),
        request(&["alipay-main", "wechat-main"], OnFailure::Continue),
        &never,
        &rec,
    )
    .await
    .expect("batch");
    assert!(!out.cancelled);
    assert_eq!(out.reports.len(), 1);
    assert_eq!(out.reports[0].account, "wechat-main");
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].account, "alipay-main");
    assert!(!out.failures[0].error.to_string().is_empty());
    assert_eq!(
        rec.events(),
        [
            "start alipay-main",
            "failed alipay-main",
            "start wechat-main",
            "done wechat-main"
        ]
    );

    // With OnFailure::Stop (the CLI), the first failure ends the batch.
    let rec = Recorder::default();
    let err = batch::run_batch(
        w,
        &admin(),
        request(&["alipay-main", "wechat-main"], OnFailure::Stop),
        &never,
        &rec,
    )
    .await
    .expect_err("stops");
    assert_eq!(err.account, "alipay-main");
    assert_eq!(rec.events(), ["start alipay-main", "failed alipay-main"]);

    // A refused permission stops at once, even when failures are to be skipped.
    let support = Actor::new("support", [Role::Support]);
    let rec = Recorder::default();
    let err = batch::run_batch(
        w,
        &support,
        request(&["wechat-main", "alipay-main"], OnFailure::Continue),
        &never,
        &rec,
    )
    .await
    .expect_err("denied");
    assert!(
        matches!(err.error, ServiceError::Denied(_)),
        "{:?}",
        err.error
    );
    assert_eq!(err.account, "wechat-main");
    assert_eq!(rec.events(), ["start wechat-main", "denied wechat-main"]);

    // A cancel between accounts: the next account does not start.
    let flag = leak_flag();
    let rec = Recorder {
        cancel_after: Some(("wechat-main", flag)),
        ..Default::default()
    };
    let out = batch::run_batch(
        w,
        &admin(),
        request(&["wechat-main", "alipay-main"], OnFailure::Continue),
        flag,
        &rec,
    )
    .await
    .expect("batch");
    assert!(out.cancelled);
    assert_eq!(out.reports.len(), 1);
    assert!(out.failures.is_empty());
    assert_eq!(rec.events(), ["start wechat-main", "done wechat-main"]);

    // Cancelled before it began: nothing runs.
    let flag = CancelFlag::default();
    flag.cancel();
    let rec = Recorder::default();
    let out = batch::run_batch(
        w,
        &admin(),
        request(&["wechat-main"], OnFailure::Continue),
        &flag,
        &rec,
    )
    .await
    .expect("batch");
    assert!(out.cancelled && out.reports.is_empty() && out.failures.is_empty());
    assert!(rec.events().is_empty());

    // A cancel inside a run ends that run and the batch; it is not a failure.
    let flag = leak_flag();
    let rec = Recorder {
        cancel_in_run: Some(flag),
        ..Default::default()
    };
    let out = batch::run_batch(
        w,
        &admin(),
        request(&["wechat-main", "alipay-main"], OnFailure::Continue),
        flag,
        &rec,
    )
    .await
    .expect("batch");
    assert!(out.cancelled);
    assert!(out.reports.is_empty() && out.failures.is_empty());
    assert_eq!(rec.events(), ["start wechat-main", "cancelled wechat-main"]);

    // Nothing of the dry runs was saved.
    assert!(w
        .db
        .runs(None, Some(date()), 10)
        .await
        .expect("runs")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_runner_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = workspace(&tmp.path().join("ws"), None).await;
    check_runner(&w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_runner_on_postgres() {
    let Some(pg) = PgDb::create().await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    check_runner(&w).await;
    w.db.close().await;
    pg.drop_db().await;
}
