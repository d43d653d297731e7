//! Issue 14, points 8 and 9, on SQLite and PostgreSQL:
//! - a run is atomic: a run that fails after parsing (mirror read, match, save) leaves the
//!   app database exactly as it was — no new statement, no superseded one, no partial run;
//! - every discrepancy has its own key: a dispute and its reversal on one charge on one day
//!   are two discrepancies, and each outcome points at its own.

use paydesk_core::BillDate;
use paydesk_service::context::progress::{Progress, Silent, Stage};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{self, DryRun, RunReport};
use paydesk_service::ServiceError;
use paydesk_testkit::db::{backends, TestDb};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const ACCOUNT: &str = "stripe-main";
const CHARGE: &str = "ch_3QxA1bC2dE3fG4hI0zY9xW8v";

fn date() -> BillDate {
    BillDate::parse("2026-11-22").expect("date")
}

const HEADER: &str = "balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency,automatic_payout_id,charge_id,payment_intent_id,payment_metadata[order_id],refund_metadata[refund_id]";

/// A Stripe itemized balance report (the real layout): a charge for SO-1, then a dispute
/// and its reversal on that charge the same day.
fn report_rows() -> Vec<String> {
    vec![
        format!("txn_1AAA,2026-11-22 01:14:09,2026-11-22 01:14:09,2026-11-24 00:00:00,2026-11-24 00:00:00,usd,25.00,1.03,23.97,charge,{CHARGE},Order SO-1,25.00,usd,,{CHARGE},pi_1AAA,SO-1,"),
        format!("txn_1BBB,2026-11-22 09:30:00,2026-11-22 09:30:00,2026-11-29 00:00:00,2026-11-29 00:00:00,usd,-25.00,15.00,-40.00,dispute,du_1BBB,Dispute on SO-1,-25.00,usd,,{CHARGE},pi_1AAA,SO-1,"),
        format!("txn_1CCC,2026-11-22 18:05:00,2026-11-22 18:05:00,2026-11-29 00:00:00,2026-11-29 00:00:00,usd,25.00,-15.00,40.00,dispute_reversal,du_1BBB,Dispute won SO-1,25.00,usd,,{CHARGE},pi_1AAA,SO-1,"),
    ]
}

/// A second, different statement of the day: the first plus a payment with no order.
fn changed_rows() -> Vec<String> {
    let mut rows = report_rows();
    rows.push("txn_1DDD,2026-11-22 20:00:00,2026-11-22 20:00:00,2026-11-24 00:00:00,2026-11-24 00:00:00,usd,10.00,0.59,9.41,charge,ch_1DDD,Unknown,10.00,usd,,ch_1DDD,pi_1DDD,SO-404,".to_string());
    rows
}

fn write_report(dir: &Path, name: &str, rows: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    std::fs::write(&path, text).expect("write report");
    path
}

async fn mirror_pool(dir: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", dir.join("orders.db").display());
    sqlx::AnyPool::connect(&url).await.expect("mirror")
}

async fn add_order(dir: &Path, order_no: &str, currency: &str) {
    let pool = mirror_pool(dir).await;
    // 2026-11-22 01:10:00 UTC
    sqlx::query(
        "INSERT INTO orders (order_no, provider, provider_txn_id, amount, currency, status, \
         created_at, paid_at, customer_ref) VALUES ($1, 'stripe', $2, 2500, $3, 'paid', \
         1795309800, 1795309800, NULL)",
    )
    .bind(order_no)
    .bind(if order_no == "SO-1" { CHARGE } else { "ch_x" })
    .bind(currency)
    .execute(&pool)
    .await
    .expect("insert order");
    pool.close().await;
}

async fn remove_order(dir: &Path, order_no: &str) {
    let pool = mirror_pool(dir).await;
    sqlx::query("DELETE FROM orders WHERE order_no = $1")
        .bind(order_no)
        .execute(&pool)
        .await
        .expect("delete order");
    pool.close().await;
}

async fn app_pool(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(db.url()).await.expect("app db")
}

/// What a failed run must not change.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    counts: Vec<(String, i64)>,
    /// (id, superseded_by) of every statement.
    statements: Vec<(i64, Option<i64>)>,
    current: Option<i64>,
    head: Option<i64>,
    /// (key, state, last_run_id, present) of every discrepancy.
    discrepancies: Vec<(String, String, i64, i64)>,
}

async fn snapshot(db: &TestDb, w: &Workspace) -> Snapshot {
    let pool = app_pool(db).await;
    let mut counts = Vec::new();
    for t in [
        "statements",
        "statement_lines",
        "runs",
        "run_outcomes",
        "discrepancies",
        "discrepancy_history",
    ] {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {t}"))
            .fetch_one(&pool)
            .await
            .expect("count")
            .try_get("n")
            .expect("n");
        counts.push((t.to_string(), n));
    }
    let statements = sqlx::query("SELECT id, superseded_by FROM statements ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("statements")
        .iter()
        .map(|r| {
            (
                r.get::<i64, _>("id"),
                r.get::<Option<i64>, _>("superseded_by"),
            )
        })
        .collect();
    let head = sqlx::query("SELECT current_id FROM statement_heads WHERE account = $1")
        .bind(ACCOUNT)
        .fetch_optional(&pool)
        .await
        .expect("head")
        .and_then(|r| r.get::<Option<i64>, _>("current_id"));
    let discrepancies =
        sqlx::query("SELECT dkey, state, last_run_id, present FROM discrepancies ORDER BY dkey")
            .fetch_all(&pool)
            .await
            .expect("discrepancies")
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("dkey"),
                    r.get::<String, _>("state"),
                    r.get::<i64, _>("last_run_id"),
                    r.get::<i64, _>("present"),
                )
            })
            .collect();
    pool.close().await;
    let current =
        w.db.current_statement(ACCOUNT, date())
            .await
            .expect("current")
            .map(|s| s.id);
    Snapshot {
        counts,
        statements,
        current,
        head,
        discrepancies,
    }
}

async fn run(
    w: &Workspace,
    file: &Path,
    progress: &dyn Progress,
) -> Result<RunReport, ServiceError> {
    reconcile::reconcile_account(
        w,
        ACCOUNT,
        date(),
        Some(file.to_path_buf()),
        DryRun::No,
        &paydesk_testkit::actors::admin(),
        progress,
    )
    .await
}

/// Cancels once the run has reached the given stage.
struct CancelAt(Stage, AtomicBool);

impl Progress for CancelAt {
    fn update(&self, stage: Stage, _: u64, _: Option<u64>) {
        if stage == self.0 {
            self.1.store(true, Ordering::SeqCst);
        }
    }
    fn is_cancelled(&self) -> bool {
        self.1.load(Ordering::SeqCst)
    }
}

async fn rename_table(db: &TestDb, from: &str, to: &str) {
    let pool = app_pool(db).await;
    sqlx::query(&format!("ALTER TABLE {from} RENAME TO {to}"))
        .execute(&pool)
        .await
        .expect("rename table");
    pool.close().await;
}

#[tokio::test]
async fn a_failed_run_leaves_the_database_as_it_was() {
    for db in backends("atomic.db", "paydesk_atomic").await {
        let tmp = paydesk_testkit::dirs::temp_dir();
        let dir = tmp.path().join("ws");
        let w = paydesk_testkit::workspace::demo_workspace(&dir, Some(db.url())).await;
        add_order(&dir, "SO-1", "USD").await;
        let first = write_report(tmp.path(), "report-1.csv", &report_rows());
        let second = write_report(tmp.path(), "report-2.csv", &changed_rows());

        // A first import that succeeds: the day has a current statement and a run.
        let ok = run(&w, &first, &Silent).await.expect("first run");
        assert!(ok.run_id.is_some());
        let before = snapshot(&db, &w).await;
        assert_eq!(before.current, ok.statement.statement_id);

        // 1. The mirror read fails: a mirror row that cannot be decoded.
        add_order(&dir, "SO-BAD", "not-a-currency").await;
        let err = run(&w, &second, &Silent).await;
        assert!(
            err.is_err(),
            "an undecodable mirror row must fail the run: {err:?}"
        );
        assert_eq!(
            snapshot(&db, &w).await,
            before,
            "mirror failure changed the database"
        );
        remove_order(&dir, "SO-BAD").await;

        // 2. The run stops after matching (cancelled at the match step).
        let cancel = CancelAt(Stage::Match, AtomicBool::new(false));
        let err = run(&w, &second, &cancel).await;
        assert!(
            matches!(err, Err(ServiceError::Cancelled)),
            "expected a cancelled run: {err:?}"
        );
        assert_eq!(
            snapshot(&db, &w).await,
            before,
            "cancelled match changed the database"
        );

        // 3. Saving fails late: the history table is not there (a failing statement).
        rename_table(&db, "discrepancy_history", "discrepancy_history_away").await;
        let err = run(&w, &second, &Silent).await;
        rename_table(&db, "discrepancy_history_away", "discrepancy_history").await;
        assert!(err.is_err(), "a failing save must fail the run: {err:?}");
        assert_eq!(
            snapshot(&db, &w).await,
            before,
            "failed save changed the database"
        );

        // The same import then succeeds: it supersedes the first statement with its run.
        let ok2 = run(&w, &second, &Silent).await.expect("second run");
        let after = snapshot(&db, &w).await;
        assert_eq!(after.current, ok2.statement.statement_id);
        assert_eq!(ok2.statement.superseded, ok.statement.statement_id);
        assert!(!ok2.statement.unchanged);
        assert_eq!(after.statements.len(), 2);

        // Unchanged content is not stored twice, but the run is saved.
        let ok3 = run(&w, &second, &Silent).await.expect("third run");
        assert!(ok3.statement.unchanged);
        assert_eq!(ok3.statement.statement_id, ok2.statement.statement_id);
        let again = snapshot(&db, &w).await;
        assert_eq!(again.statements, after.statements);
        assert_eq!(again.current, after.current);

        // A dry run writes nothing.
        let dry = reconcile::reconcile_account(
            &w,
            ACCOUNT,
            date(),
            Some(first.clone()),
            DryRun::Yes,
            &paydesk_testkit::actors::admin(),
            &Silent,
        )
        .await
        .expect("dry run");
        assert!(dry.run_id.is_none() && dry.statement.statement_id.is_none());
        assert_eq!(snapshot(&db, &w).await, again);

        drop(w);
        db.drop_db().await;
    }
}

/// (key, evidence line) of the day's present discrepancies; (line_no, key) of a run's outcomes.
async fn links(
    db: &TestDb,
    run_id: i64,
) -> (
    Vec<(String, Option<i64>)>,
    Vec<(Option<i64>, Option<String>)>,
) {
    let pool = app_pool(db).await;
    let ds = sqlx::query(
        "SELECT dkey, evidence_line FROM discrepancies WHERE present = 1 ORDER BY dkey",
    )
    .fetch_all(&pool)
    .await
    .expect("discrepancies")
    .iter()
    .map(|r| {
        (
            r.get::<String, _>("dkey"),
            r.get::<Option<i64>, _>("evidence_line"),
        )
    })
    .collect();
    let os = sqlx::query(
        "SELECT line_no, discrepancy_key FROM run_outcomes WHERE run_id = $1 ORDER BY seq",
    )
    .bind(run_id)
    .fetch_all(&pool)
    .await
    .expect("outcomes")
    .iter()
    .map(|r| {
        (
            r.get::<Option<i64>, _>("line_no"),
            r.get::<Option<String>, _>("discrepancy_key"),
        )
    })
    .collect();
    pool.close().await;
    (ds, os)
}

#[tokio::test]
async fn a_dispute_and_its_reversal_are_two_discrepancies_each_outcome_linked_to_its_own() {
    for db in backends("keys.db", "paydesk_keys").await {
        let tmp = paydesk_testkit::dirs::temp_dir();
        let dir = tmp.path().join("ws");
        let w = paydesk_testkit::workspace::demo_workspace(&dir, Some(db.url())).await;
        add_order(&dir, "SO-1", "USD").await;
        let file = write_report(tmp.path(), "report.csv", &report_rows());

        let mut keys_of_runs = Vec::new();
        for _ in 0..2 {
            let report = run(&w, &file, &Silent).await.expect("run");
            let run_id = report.run_id.expect("run id");
            let (ds, os) = links(&db, run_id).await;
            // The dispute (file line 3) and its reversal (line 4): two discrepancies.
            let adjustments: Vec<_> = ds
                .iter()
                .filter(|(k, _)| k.contains(CHARGE) && k.starts_with("line:adjustment:"))
                .cloned()
                .collect();
            assert_eq!(adjustments.len(), 2, "discrepancies: {ds:?}");
            assert_ne!(adjustments[0].0, adjustments[1].0);
            // The first keeps the key it always had.
            assert!(
                adjustments
                    .iter()
                    .any(|(k, _)| k == &format!("line:adjustment:{CHARGE}")),
                "{adjustments:?}"
            );
            // Every outcome with a key points at the discrepancy of its own line.
            let mut linked = 0;
            for (line_no, key) in &os {
                let Some(key) = key else { continue };
                let target: Vec<_> = ds.iter().filter(|(k, _)| k == key).collect();
                assert_eq!(target.len(), 1, "outcome key {key} names {target:?}");
                assert_eq!(
                    target[0].1, *line_no,
                    "outcome of line {line_no:?} links to {key}"
                );
                linked += 1;
            }
            assert_eq!(linked, ds.len(), "outcomes {os:?} discrepancies {ds:?}");
            // The report says the same.
            let report_keys: Vec<_> = report.discrepancies.iter().map(|d| d.key.clone()).collect();
            let mut sorted = report_keys.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), report_keys.len(), "{report_keys:?}");
            keys_of_runs.push(ds);
        }
        // A re-run of the same file finds the same keys (reviewers' notes survive).
        assert_eq!(keys_of_runs[0], keys_of_runs[1]);

        drop(w);
        db.drop_db().await;
    }
}
