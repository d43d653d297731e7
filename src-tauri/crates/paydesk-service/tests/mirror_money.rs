//! Issue 16, point 2: money read from the order mirror is validated, and the run's sums never
//! wrap. Each bad mirror value fails the run with an error naming the table, the row and
//! the column (an order without its number, a paid_at that is not a time, a negative paid
//! amount, a zero or negative refund); refunds whose amounts add up past what Paydesk counts
//! and a statement whose total does not fit fail the run naming the total, instead of
//! storing a wrapped number (two lines of 92,233,720,368,547,758.07 used to total −0.02).
//! On SQLite and PostgreSQL (mirror and app database on the same backend).

use chrono::{Duration, Utc};
use paydesk_core::money::Money;
use paydesk_core::{BillDate, Currency, LocalRefund, Provider, RefundOrigin};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::{self, Workspace};
use paydesk_service::reconcile::{self, DryRun, RunReport};
use paydesk_service::refunds::{self, RefundInput};
use paydesk_service::ServiceError;
use paydesk_testkit::db::{backends, TestDb};
use std::path::{Path, PathBuf};

const ACCOUNT: &str = "stripe-main";
const CHARGE: &str = "ch_3QxA1bC2dE3fG4hI0zY9xW8v";
/// 2026-11-22 01:10:00 UTC, in the day reconciled (stripe-main's timezone is UTC).
const PAID_AT: i64 = 1_795_309_800;

fn date() -> BillDate {
    BillDate::parse("2026-11-22").expect("date")
}

const HEADER: &str = "balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,customer_facing_currency,automatic_payout_id,charge_id,payment_intent_id,payment_metadata[order_id],refund_metadata[refund_id]";

/// A Stripe itemized balance report line: a charge of `gross` (major units) for `order`,
/// with its fee and net.
fn charge_row(txn: &str, charge: &str, order: &str, [gross, fee, net]: [&str; 3]) -> String {
    format!(
        "{txn},2026-11-22 01:14:09,2026-11-22 01:14:09,2026-11-24 00:00:00,2026-11-24 00:00:00,usd,{gross},{fee},{net},charge,{charge},Order {order},{gross},usd,,{charge},pi_{txn},{order},"
    )
}

/// The day's ordinary charge: SO-1, 25.00 with Stripe's fee (2.9% + 0.30).
fn so1_row() -> String {
    charge_row("txn_1AAA", CHARGE, "SO-1", ["25.00", "1.03", "23.97"])
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

async fn mirror_exec(url: &str, sqls: &[String]) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.expect("mirror");
    for s in sqls {
        sqlx::query(s)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    pool.close().await;
}

fn order_sql(order_no: &str, txn: &str, amount: &str, paid_at: &str) -> String {
    format!(
        "INSERT INTO orders (order_no, provider, provider_txn_id, amount, currency, status, \
         created_at, paid_at, customer_ref) VALUES ({order_no}, 'stripe', '{txn}', {amount}, \
         'USD', 'paid', {PAID_AT}, {paid_at}, NULL)"
    )
}

fn refund_sql(refund_no: &str, order_no: &str, amount: &str) -> String {
    format!(
        "INSERT INTO refunds (refund_no, order_no, provider, amount, currency, refunded_at) \
         VALUES ('{refund_no}', '{order_no}', 'stripe', {amount}, 'USD', {})",
        PAID_AT + 3600
    )
}

/// A workspace (template accounts, file endpoints) whose app database is `app` and whose
/// order mirror, in the default schema, is `mirror` with order SO-1 paid on the day.
async fn setup(dir: &Path, app: &TestDb, mirror: &TestDb) -> Workspace {
    std::fs::create_dir_all(dir).expect("dir");
    let config = workspace::template_config(false)
        .replace(
            "database_url = \"sqlite://paydesk.db\"",
            &format!("database_url = \"{}\"", app.url()),
        )
        .replace(
            "url = \"sqlite://orders.db\"",
            &format!("url = \"{}\"", mirror.url()),
        );
    std::fs::write(dir.join("paydesk.toml"), config).expect("config");
    paydesk_store::create_default_mirror(mirror.url())
        .await
        .expect("mirror");
    mirror_exec(
        mirror.url(),
        &[order_sql("'SO-1'", CHARGE, "2500", &PAID_AT.to_string())],
    )
    .await;
    workspace::init(dir, false).await.expect("init")
}

async fn run(w: &Workspace, file: &Path) -> Result<RunReport, ServiceError> {
    reconcile::reconcile_account(
        w,
        ACCOUNT,
        date(),
        Some(file.to_path_buf()),
        DryRun::No,
        &paydesk_testkit::actors::admin(),
        &Silent,
    )
    .await
}

/// The run fails, its message has every one of `parts`, and no run was stored.
async fn assert_fails(w: &Workspace, file: &Path, case: &str, parts: &[&str]) {
    let runs_before =
        w.db.runs(Some(ACCOUNT), None, 100)
            .await
            .expect("runs")
            .len();
    match run(w, file).await {
        Ok(r) => panic!(
            "{case}: the run succeeded ({:?}, totals {:?}); it must fail",
            r.counts, r.totals
        ),
        Err(e) => {
            let msg = e.to_string();
            for p in parts {
                assert!(msg.contains(p), "{case}: message lacks {p:?}: {msg}");
            }
        }
    }
    let runs_after =
        w.db.runs(Some(ACCOUNT), None, 100)
            .await
            .expect("runs")
            .len();
    assert_eq!(runs_before, runs_after, "{case}: a failed run was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_mirror_values_fail_the_run_naming_table_row_and_column() {
    let apps = backends("money-app.db", "paydesk_money_app").await;
    let mirrors = backends("money-mirror.db", "paydesk_money_mirror").await;
    for (app, mirror) in apps.into_iter().zip(mirrors) {
        let pg = app.is_pg();
        let tmp = paydesk_testkit::dirs::temp_dir();
        let ws = tmp.path().join("ws");
        let mut w = setup(&ws, &app, &mirror).await;
        let report = write_report(tmp.path(), "report.csv", &[so1_row()]);
        let ok = run(&w, &report)
            .await
            .unwrap_or_else(|e| panic!("pg {pg}: the clean run failed: {e}"));
        assert_eq!(ok.totals.statement_gross.get("USD"), Some(&2500));
        assert_eq!(ok.discrepancies.len(), 0, "pg {pg}: {:?}", ok.discrepancies);

        let url = mirror.url().to_string();
        if pg {
            // The default schema's primary key forbids a NULL order number; a merchant's
            // own table need not.
            mirror_exec(
                &url,
                &[
                    "ALTER TABLE orders DROP CONSTRAINT orders_pkey".into(),
                    "ALTER TABLE orders ALTER COLUMN order_no DROP NOT NULL".into(),
                ],
            )
            .await;
        }
        let paid = PAID_AT.to_string();
        let cases: Vec<(&str, String, Vec<&str>, String)> = vec![
            (
                "NULL order number",
                order_sql("NULL", "ch_nokey", "700", &paid),
                vec!["orders", "without order_no", "ch_nokey", "column order_no"],
                "DELETE FROM orders WHERE order_no IS NULL".into(),
            ),
            (
                "negative paid amount",
                order_sql("'SO-NEG'", "ch_neg", "-700", &paid),
                vec!["orders", "row SO-NEG", "column amount", "-700", "negative"],
                "DELETE FROM orders WHERE order_no = 'SO-NEG'".into(),
            ),
            (
                "zero refund amount",
                refund_sql("RF-ZERO", "SO-1", "0"),
                vec!["refunds", "row RF-ZERO", "column amount", "not positive"],
                "DELETE FROM refunds WHERE refund_no = 'RF-ZERO'".into(),
            ),
            (
                "negative refund amount",
                refund_sql("RF-NEG", "SO-1", "-100"),
                vec![
                    "refunds",
                    "row RF-NEG",
                    "column amount",
                    "-100",
                    "not positive",
                ],
                "DELETE FROM refunds WHERE refund_no = 'RF-NEG'".into(),
            ),
        ];
        for (case, insert, parts, cleanup) in cases {
            mirror_exec(&url, &[insert]).await;
            assert_fails(&w, &report, &format!("pg {pg}: {case}"), &parts).await;
            mirror_exec(&url, &[cleanup]).await;
        }

        // Two refunds that each fit but add up past i64: the run's sum of amounts at stake
        // used to wrap (or panic); it fails naming the total.
        mirror_exec(
            &url,
            &[
                refund_sql("RF-BIG-1", "SO-1", "5000000000000000000"),
                refund_sql("RF-BIG-2", "SO-1", "5000000000000000000"),
            ],
        )
        .await;
        assert_fails(
            &w,
            &report,
            &format!("pg {pg}: refunds past i64"),
            &[
                "amounts at stake of the run's discrepancies",
                "in USD",
                "100000000000000000.00 USD",
                "beyond",
            ],
        )
        .await;
        mirror_exec(
            &url,
            &["DELETE FROM refunds WHERE refund_no LIKE 'RF-BIG-%'".into()],
        )
        .await;

        // paid_at 'yesterday': SQLite keeps it in the integer column, where it sorts after
        // every number and used to drop out of the day silently (a hidden 短款). PostgreSQL's
        // BIGINT refuses it, so there the column is made text first.
        if pg {
            mirror_exec(
                &url,
                &["ALTER TABLE orders ALTER COLUMN paid_at TYPE TEXT".into()],
            )
            .await;
            // The mirror learns its columns' types when it is opened.
            w.db.close().await;
            w = Workspace::open(&ws).await.expect("reopen");
        }
        mirror_exec(&url, &[order_sql("'SO-Y'", "ch_y", "700", "'yesterday'")]).await;
        assert_fails(
            &w,
            &report,
            &format!("pg {pg}: paid_at 'yesterday'"),
            &["orders", "row SO-Y", "column paid_at", "yesterday"],
        )
        .await;

        w.db.close().await;
        app.drop_db().await;
        mirror.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_total_beyond_i64_fails_the_run_instead_of_wrapping() {
    let apps = backends("money-app.db", "paydesk_money_app").await;
    let mirrors = backends("money-mirror.db", "paydesk_money_mirror").await;
    for (app, mirror) in apps.into_iter().zip(mirrors) {
        let pg = app.is_pg();
        let tmp = paydesk_testkit::dirs::temp_dir();
        let w = setup(&tmp.path().join("ws"), &app, &mirror).await;
        let max = i64::MAX.to_string();
        mirror_exec(
            mirror.url(),
            &[
                order_sql("'SO-M1'", "ch_m1", &max, &PAID_AT.to_string()),
                order_sql("'SO-M2'", "ch_m2", &max, &PAID_AT.to_string()),
            ],
        )
        .await;
        // Each line is the largest amount Paydesk holds; their sum is not.
        let big = "92233720368547758.07";
        let report = write_report(
            tmp.path(),
            "report.csv",
            &[
                so1_row(),
                charge_row("txn_1MM1", "ch_m1", "SO-M1", [big, "0.00", big]),
                charge_row("txn_1MM2", "ch_m2", "SO-M2", [big, "0.00", big]),
            ],
        );
        assert_fails(
            &w,
            &report,
            &format!("pg {pg}: statement gross past i64"),
            // 25.00 + 2 × 92,233,720,368,547,758.07, not the −0.02 + 25.00 it wrapped to.
            &[
                "gross amounts of the statement's lines",
                "in USD",
                "184467440737095541.14 USD",
                "beyond",
            ],
        )
        .await;
        assert!(
            w.db.current_statement(ACCOUNT, date())
                .await
                .expect("current")
                .is_none(),
            "pg {pg}: the statement of a failed run became current"
        );
        w.db.close().await;
        app.drop_db().await;
        mirror.drop_db().await;
    }
}

/// The refund ledger: two mirror refunds of an order whose sum is past i64 used to wrap to a
/// negative "refunded outside Paydesk" and SQLite's ledger check then admitted a refund above
/// what was paid. The request is refused naming the order; nothing is reserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_summing_past_i64_never_make_room_for_a_refund() {
    for app in backends("money-ledger.db", "paydesk_money_ledger").await {
        let pg = app.is_pg();
        let tmp = paydesk_testkit::dirs::temp_dir();
        let dir = tmp.path().join("ws");
        paydesk_testkit::refunds::init_workspace(&dir, Some(app.url())).await;
        let w = Workspace::open(&dir).await.expect("open");
        let huge = |no: &str| LocalRefund {
            refund_no: no.into(),
            order_no: "ALI-1002".into(),
            provider: Provider::Alipay,
            amount: 5_000_000_000_000_000_000,
            currency: Currency::CNY,
            refunded_at: Utc::now() - Duration::minutes(30),
            provider_refund_id: None,
            origin: RefundOrigin::Mirror,
        };
        paydesk_store::insert_mirror_rows(
            &w.config.mirror_url,
            &[],
            &[huge("MERCH-RF-HUGE-1"), huge("MERCH-RF-HUGE-2")],
        )
        .await
        .expect("mirror refunds");
        let input = RefundInput {
            order: "ALI-1002".into(),
            amount: Money::new(10_000, Currency::CNY),
            reason: "customer returned the goods".into(),
            account: None,
        };
        match refunds::request_refund(&w, &paydesk_testkit::actors::support(), &input).await {
            Err(ServiceError::BadInput(msg)) => {
                for p in [
                    "ALI-1002",
                    "refunds recorded in the order mirror",
                    "add up to more than",
                ] {
                    assert!(msg.contains(p), "pg {pg}: message lacks {p:?}: {msg}");
                }
            }
            other => panic!("pg {pg}: expected the request refused, got {other:?}"),
        }
        assert!(
            w.db.refunds_of_order(Provider::Alipay, "ALI-1002")
                .await
                .expect("refunds")
                .is_empty(),
            "pg {pg}: a refund was recorded"
        );
        assert!(
            w.db.refund_ledger(Provider::Alipay, "ALI-1002")
                .await
                .expect("ledger")
                .is_none(),
            "pg {pg}: the ledger was written"
        );
        let detail =
            refunds::order_detail(&w, &paydesk_testkit::actors::support(), "ALI-1002", false).await;
        assert!(
            matches!(&detail, Err(ServiceError::BadInput(m)) if m.contains("ALI-1002")),
            "pg {pg}: {:?}",
            detail.map(|d| d.refundable)
        );
        w.db.close().await;
        app.drop_db().await;
    }
}
