//! Orders belong to an account, not just a provider (issue 14, point 1).
//!
//! Two WeChat Pay merchant ids share one order mirror: reconciling each account against its
//! own bill reports nothing of the other account's orders or refunds, whether the mirror
//! says which account an order is in by its account column or by an `[accounts.mirror_filter]`
//! on a column of the merchant's own; without either, the configuration is refused. On
//! SQLite and PostgreSQL (mirror and app database on the same backend).
#![cfg(feature = "demo")]

use chrono::{DateTime, TimeZone, Utc};
use paydesk_core::{
    Actor, BillDate, Currency, LineKind, LocalRefund, Order, OrderStatus, Provider, RefundOrigin,
    Role,
};
use paydesk_service::context::config::Config;
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::mirror_mapping;
use paydesk_service::reconcile::{self, DryRun, ReconcileRequest, RunReport, StatementInput};
use paydesk_service::sandbox::files::statement_file;
use paydesk_service::ServiceError;
use paydesk_store::{AppDb, OrderMirror};
use paydesk_testkit::db::{backends, TestDb};
use paydesk_testkit::refunds::{payment_line, TestOrder};
use std::path::Path;

const DATE: &str = "2026-11-20";

/// (order, account, merchant id): three orders per merchant, all paid on DATE.
const ORDERS: &[(TestOrder, &str, &str)] = &[
    (
        wx("W1-1", "4200000001202611200001", 10_00),
        "wechat-main",
        "1900000001",
    ),
    (
        wx("W1-2", "4200000001202611200002", 20_00),
        "wechat-main",
        "1900000001",
    ),
    (
        wx("W1-3", "4200000001202611200003", 30_00),
        "wechat-main",
        "1900000001",
    ),
    (
        wx("W2-1", "4200000002202611200001", 11_00),
        "wechat-shop2",
        "1900000002",
    ),
    (
        wx("W2-2", "4200000002202611200002", 22_00),
        "wechat-shop2",
        "1900000002",
    ),
    (
        wx("W2-3", "4200000002202611200003", 33_00),
        "wechat-shop2",
        "1900000002",
    ),
];

/// The mirror's refund of W2-1, made on DATE through wechat-shop2.
const REFUND: (&str, &str, i64) = ("RF-W2-1", "W2-1", 5_00);

const fn wx(order_no: &'static str, txn_id: &'static str, amount: i64) -> TestOrder {
    TestOrder {
        order_no,
        provider: Provider::Wechat,
        txn_id,
        amount,
        currency: Currency::CNY,
        customer: "c@example.com",
    }
}

fn noon() -> DateTime<Utc> {
    // 12:00 in Shanghai on DATE.
    Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0)
        .single()
        .expect("time")
}

/// How the test mirror says which account an order is in.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    /// The default schema's account column holds the Paydesk account name.
    AccountColumn,
    /// The merchant's own column `mchid` (no account column), and a filter per account.
    MchidFilter,
    /// Neither: two accounts the mirror cannot tell apart.
    Nothing,
}

fn config_text(db_url: &str, mirror_url: &str, enc: Encoding) -> String {
    let mut text = format!(
        "[app]\ndatabase_url = \"{db_url}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [mirror]\nurl = \"{mirror_url}\"\n"
    );
    if !matches!(enc, Encoding::AccountColumn) {
        // The merchant's schema: no account column mapped.
        text.push_str("[mirror.mapping.order_columns]\naccount = \"\"\n");
    }
    for (name, mchid) in [
        ("wechat-main", "1900000001"),
        ("wechat-shop2", "1900000002"),
    ] {
        text.push_str(&format!(
            "\n[[accounts]]\nname = \"{name}\"\nprovider = \"wechat\"\ncurrency = \"CNY\"\n\
             endpoint = \"file\"\n[accounts.credentials]\nmchid = \"{mchid}\"\n"
        ));
        if matches!(enc, Encoding::MchidFilter) {
            text.push_str(&format!("[accounts.mirror_filter]\nmchid = {mchid}\n"));
        }
    }
    text
}

async fn fill_mirror(url: &str, enc: Encoding) {
    paydesk_store::create_default_mirror(url)
        .await
        .expect("mirror");
    let orders: Vec<Order> = ORDERS
        .iter()
        .map(|(o, _, _)| Order {
            order_no: o.order_no.into(),
            provider: o.provider,
            provider_txn_id: Some(o.txn_id.into()),
            amount: o.amount,
            currency: o.currency,
            status: OrderStatus::Paid,
            created_at: noon() - chrono::Duration::minutes(1),
            paid_at: Some(noon()),
            customer_ref: Some(o.customer.into()),
        })
        .collect();
    let refunds = vec![LocalRefund {
        refund_no: REFUND.0.into(),
        order_no: REFUND.1.into(),
        provider: Provider::Wechat,
        amount: REFUND.2,
        currency: Currency::CNY,
        refunded_at: noon() + chrono::Duration::hours(1),
        provider_refund_id: Some("50300000022026112000001".into()),
        origin: RefundOrigin::Mirror,
    }];
    paydesk_store::insert_mirror_rows(url, &orders, &refunds)
        .await
        .expect("mirror rows");
    match enc {
        Encoding::AccountColumn => {
            let pairs: Vec<(String, String)> = ORDERS
                .iter()
                .map(|(o, a, _)| (o.order_no.to_string(), a.to_string()))
                .collect();
            paydesk_store::set_mirror_accounts(url, &pairs)
                .await
                .expect("accounts");
        }
        Encoding::MchidFilter | Encoding::Nothing => {
            // The merchant's own column, an integer merchant id.
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(url).await.expect("pool");
            sqlx::query("ALTER TABLE orders ADD COLUMN mchid BIGINT NULL")
                .execute(&pool)
                .await
                .expect("alter");
            for (o, _, mchid) in ORDERS {
                sqlx::query(&format!(
                    "UPDATE orders SET mchid = {mchid} WHERE order_no = '{}'",
                    o.order_no
                ))
                .execute(&pool)
                .await
                .expect("update");
            }
            pool.close().await;
        }
    }
}

/// The account's bill: its own payments, and the refund for wechat-shop2.
fn bill(config: &Config, account: &str) -> (String, Vec<u8>) {
    let mut lines: Vec<_> = ORDERS
        .iter()
        .filter(|(_, a, _)| *a == account)
        .map(|(o, a, _)| {
            let mut l = payment_line(o, a);
            l.provider_time = noon();
            l
        })
        .collect();
    if account == "wechat-shop2" {
        let (o, a, _) = &ORDERS[3];
        let mut l = payment_line(o, a);
        l.kind = LineKind::Refund;
        l.gross = -REFUND.2;
        l.net = -REFUND.2;
        l.merchant_refund_no = Some(REFUND.0.into());
        l.provider_refund_id = Some("50300000022026112000001".into());
        l.provider_time = noon() + chrono::Duration::hours(1);
        lines.push(l);
    }
    let date = BillDate::parse(DATE).expect("date");
    statement_file(config.account(account).expect("account"), date, &lines).expect("bill")
}

async fn run(
    config: &Config,
    db: &AppDb,
    mirror: &OrderMirror,
    account: &str,
) -> Result<RunReport, ServiceError> {
    let (file_name, bytes) = bill(config, account);
    reconcile::reconcile(
        config,
        db,
        mirror,
        &ReconcileRequest {
            account: account.into(),
            date: BillDate::parse(DATE).expect("date"),
            statement: StatementInput::Downloaded {
                file_name,
                bytes,
                source: "test".into(),
            },
            dry_run: DryRun::No,
            actor: Actor::new("finance", [Role::Admin]),
            lock_wait: std::time::Duration::from_secs(10),
        },
        &Silent,
    )
    .await
}

async fn setup(
    app: &TestDb,
    mirror_db: &TestDb,
    dir: &Path,
    enc: Encoding,
) -> (Config, AppDb, OrderMirror) {
    fill_mirror(mirror_db.url(), enc).await;
    let config = Config::parse(&config_text(app.url(), mirror_db.url(), enc), dir)
        .unwrap_or_else(|e| panic!("config: {e}"));
    let db = AppDb::open(app.url()).await.expect("app db");
    let mapping = mirror_mapping(&config).expect("mapping");
    let mirror = OrderMirror::open(mirror_db.url(), mapping)
        .await
        .expect("open mirror");
    (config, db, mirror)
}

async fn both_accounts_clean(enc: Encoding) {
    let dir = paydesk_testkit::dirs::temp_dir();
    let apps = backends("scope-app.db", "paydesk_scope_app").await;
    let mirrors = backends("scope-mirror.db", "paydesk_scope_mirror").await;
    for (app, mirror_db) in apps.into_iter().zip(mirrors) {
        let sub = dir.path().join(format!("{enc:?}-{}", app.is_pg()));
        std::fs::create_dir_all(&sub).expect("dir");
        let (config, db, mirror) = setup(&app, &mirror_db, &sub, enc).await;
        for (account, payments, refunds) in [("wechat-main", 3, 0), ("wechat-shop2", 3, 1)] {
            let report = run(&config, &db, &mirror, account)
                .await
                .unwrap_or_else(|e| panic!("{enc:?} {account} (pg: {}): {e}", app.is_pg()));
            let found: Vec<String> = report
                .discrepancies
                .iter()
                .map(|d| format!("{:?} {:?} {:?}", d.class, d.order_no, d.refund_no))
                .collect();
            assert!(
                found.is_empty(),
                "{enc:?} {account} (pg: {}): the other account's orders or refunds were reported: {found:?}",
                app.is_pg()
            );
            let matched = report.counts.get("matched").copied().unwrap_or(0);
            assert_eq!(
                matched,
                payments + refunds,
                "{enc:?} {account}: {:?}",
                report.counts
            );
        }
        db.close().await;
        app.drop_db().await;
        mirror_db.drop_db().await;
    }
}

#[tokio::test]
async fn two_wechat_accounts_by_account_column() {
    both_accounts_clean(Encoding::AccountColumn).await;
}

#[tokio::test]
async fn two_wechat_accounts_by_mirror_filter() {
    both_accounts_clean(Encoding::MchidFilter).await;
}

#[tokio::test]
async fn two_accounts_the_mirror_cannot_tell_apart_are_refused() {
    let dir = paydesk_testkit::dirs::temp_dir();
    let apps = backends("scope-app.db", "paydesk_scope_app").await;
    let mirrors = backends("scope-mirror.db", "paydesk_scope_mirror").await;
    for (app, mirror_db) in apps.into_iter().zip(mirrors) {
        let sub = dir.path().join(format!("nothing-{}", app.is_pg()));
        std::fs::create_dir_all(&sub).expect("dir");
        let (config, db, mirror) = setup(&app, &mirror_db, &sub, Encoding::Nothing).await;
        let err = run(&config, &db, &mirror, "wechat-main")
            .await
            .map(|r| r.discrepancies.len())
            .expect_err("two wechat accounts without an account column or filter must be refused");
        let msg = err.to_string();
        assert_eq!(err.code(), "bad_input", "{msg}");
        for part in [
            "wechat-main",
            "wechat-shop2",
            "mirror_filter",
            "account column",
        ] {
            assert!(msg.contains(part), "message lacks {part:?}: {msg}");
        }
        db.close().await;
        app.drop_db().await;
        mirror_db.drop_db().await;
    }
}

#[tokio::test]
async fn a_filter_on_a_missing_column_names_it() {
    let dir = paydesk_testkit::dirs::temp_dir();
    let app = TestDb::sqlite("scope-app.db");
    let mirror_db = TestDb::sqlite("scope-mirror.db");
    let (_, db, mirror) = setup(&app, &mirror_db, dir.path(), Encoding::MchidFilter).await;
    let text = config_text(app.url(), mirror_db.url(), Encoding::MchidFilter)
        .replace("mchid = 1900000001\n", "merchant = 1900000001\n");
    let config = Config::parse(&text, dir.path()).expect("config");
    let err = run(&config, &db, &mirror, "wechat-main")
        .await
        .map(|r| r.discrepancies.len())
        .expect_err("a filter on a column the orders table lacks");
    let msg = err.to_string();
    assert!(
        msg.contains("\"merchant\"") && msg.contains("mirror_filter"),
        "{msg}"
    );
    db.close().await;
}
