//! Issue 14, points 5 and 6, through the service's reconcile on SQLite and PostgreSQL:
//! Stripe report files under a custom `order_metadata_key`, presentment currencies and
//! PaymentIntent ids; Alipay refunds without a refund request number.

use chrono::{DateTime, TimeZone, Utc};
use paydesk_core::{
    Actor, BillDate, Currency, LocalRefund, MatchRule, Order, OrderStatus, OutcomeClass, Provider,
    RefundOrigin, Role,
};
use paydesk_service::context::config::Config;
use paydesk_service::context::progress::Silent;
use paydesk_service::reconcile::{self, DryRun, ReconcileRequest, RunReport, StatementInput};
use paydesk_store::{AppDb, MirrorMapping, OrderMirror};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures")
        .join(rel)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("time")
}

fn order(
    no: &str,
    provider: Provider,
    txn: Option<&str>,
    amount: i64,
    currency: Currency,
    paid: DateTime<Utc>,
) -> Order {
    Order {
        order_no: no.into(),
        provider,
        provider_txn_id: txn.map(Into::into),
        amount,
        currency,
        status: OrderStatus::Paid,
        created_at: paid,
        paid_at: Some(paid),
        customer_ref: None,
    }
}

struct Setup {
    config: Config,
    db: AppDb,
    mirror: OrderMirror,
    _dir: tempfile::TempDir,
}

async fn setup(url: &str, orders: &[Order], refunds: &[LocalRefund]) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let mirror_url = format!("sqlite://{}", dir.path().join("orders.db").display());
    paydesk_store::create_default_mirror(&mirror_url)
        .await
        .expect("mirror");
    paydesk_store::insert_mirror_rows(&mirror_url, orders, refunds)
        .await
        .expect("mirror rows");
    let text = format!(
        "[app]\ndatabase_url = \"{url}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [mirror]\nurl = \"{mirror_url}\"\n\n\
         [[accounts]]\nname = \"stripe-main\"\nprovider = \"stripe\"\ncurrency = \"USD\"\n\
         endpoint = \"file\"\n[accounts.credentials]\norder_metadata_key = \"shop_order\"\n\n\
         [[accounts]]\nname = \"alipay-main\"\nprovider = \"alipay\"\ncurrency = \"CNY\"\n\
         endpoint = \"file\"\n"
    );
    let config = Config::parse(&text, dir.path()).expect("config");
    let db = AppDb::open(url).await.expect("app db");
    let mirror = OrderMirror::open(&mirror_url, MirrorMapping::default())
        .await
        .expect("mirror");
    Setup {
        config,
        db,
        mirror,
        _dir: dir,
    }
}

async fn run(s: &Setup, account: &str, date: &str, file: PathBuf) -> RunReport {
    reconcile::reconcile(
        &s.config,
        &s.db,
        &s.mirror,
        &ReconcileRequest {
            account: account.into(),
            date: BillDate::parse(date).expect("date"),
            statement: StatementInput::File(file),
            dry_run: DryRun::No,
            actor: Actor::new("finance", [Role::Admin]),
            lock_wait: std::time::Duration::from_secs(10),
        },
        &Silent,
    )
    .await
    .expect("reconcile")
}

async fn stripe_report_custom_key_presentment_and_payment_intent(url: String) {
    let kwd = Currency::parse("KWD").expect("KWD");
    let day = |h, m| utc(2026, 11, 22, h, m);
    let orders = [
        order(
            "SO-10041",
            Provider::Stripe,
            None,
            2500,
            Currency::USD,
            day(1, 14),
        ),
        order(
            "SO-10043",
            Provider::Stripe,
            None,
            3000,
            Currency::JPY,
            day(7, 45),
        ),
        order("SO-10045", Provider::Stripe, None, 12345, kwd, day(8, 10)),
        // Known only by its PaymentIntent: no order metadata in the report.
        order(
            "SO-10042",
            Provider::Stripe,
            Some("pi_3QxA9kL8mN7oP6qR1pO9nM8l"),
            120000,
            Currency::USD,
            day(3, 2),
        ),
        order(
            "SO-10046",
            Provider::Stripe,
            None,
            3000,
            Currency::JPY,
            day(9, 30),
        ),
    ];
    let s = setup(&url, &orders, &[]).await;
    let report = run(
        &s,
        "stripe-main",
        "2026-11-22",
        fixture("stripe_ids/balance_change_from_activity_itemized_2026-11-22.csv"),
    )
    .await;
    let summary: Vec<_> = report
        .discrepancies
        .iter()
        .map(|d| (d.class, d.order_no.clone(), d.explanation.clone()))
        .collect();
    assert_eq!(report.counts.get("matched"), Some(&4), "{summary:#?}");
    assert_eq!(report.discrepancies.len(), 1, "{summary:#?}");
    let d = &report.discrepancies[0];
    assert_eq!(d.class, OutcomeClass::AmountMismatch);
    assert_eq!(d.order_no.as_deref(), Some("SO-10046"));
    assert_eq!(d.difference, 100);
    assert!(d.explanation.contains("USD 20.77"), "{}", d.explanation);

    let run_id = report.run_id.expect("run id");
    let outcomes = s.db.run_outcomes(run_id, 100, 0).await.expect("outcomes");
    let rule_of = |no: &str| {
        outcomes
            .iter()
            .find(|o| o.order_no.as_deref() == Some(no))
            .map(|o| (o.class, o.rule))
    };
    assert_eq!(
        rule_of("SO-10042"),
        Some((OutcomeClass::Matched, MatchRule::PaymentIntentId))
    );
    assert_eq!(
        rule_of("SO-10043"),
        Some((OutcomeClass::Matched, MatchRule::MerchantOrderNo))
    );
}

async fn alipay_refund_without_request_number(url: String) {
    // Beijing times of the bill, in UTC.
    let bj = |d, h, m| utc(2019, 9, d, h, m) - chrono::Duration::hours(8);
    let trades = [
        (
            "2019091622001458860515315453",
            "service_1568601259302",
            bj(16, 10, 55),
        ),
        (
            "2019091622001458860513822558",
            "service_1568603173853",
            bj(16, 11, 7),
        ),
        (
            "2019091622001458860516395930",
            "service_1568613406000",
            bj(16, 13, 57),
        ),
        (
            "2019091622001458860516993488",
            "qd_201909161455139634Sjad2vy",
            bj(16, 14, 57),
        ),
        (
            "2019091622001465870515233238",
            "20190916165659224L3VUQRL9",
            bj(16, 16, 58),
        ),
        (
            "2019091622001458860517860493",
            "qd_201909161844073417CB0wPzR",
            bj(16, 18, 43),
        ),
    ];
    let orders: Vec<Order> = trades
        .iter()
        .map(|(txn, no, at)| {
            let mut o = order(no, Provider::Alipay, Some(txn), 1, Currency::CNY, *at);
            o.status = OrderStatus::Refunded;
            o
        })
        .collect();
    let refund = |no: &str, order_no: &str, at| LocalRefund {
        refund_no: no.into(),
        order_no: order_no.into(),
        provider: Provider::Alipay,
        amount: 1,
        currency: Currency::CNY,
        refunded_at: at,
        provider_refund_id: None,
        origin: RefundOrigin::Mirror,
    };
    let refunds = [
        // The bill's 退款批次号 is empty for this one...
        refund("RF-A", "service_1568601259302", bj(16, 10, 56)),
        // ...and the trade's own out_trade_no for this one.
        refund("RF-B", "service_1568603173853", bj(16, 11, 26)),
        refund(
            "re_test_1568614511552",
            "service_1568613406000",
            bj(16, 14, 15),
        ),
        refund(
            "re_20190916150216125q8Lmiodp",
            "qd_201909161455139634Sjad2vy",
            bj(16, 15, 0),
        ),
    ];
    let s = setup(&url, &orders, &refunds).await;
    let report = run(
        &s,
        "alipay-main",
        "2019-09-16",
        fixture("alipay_refund_no/20880211096256330156_20190916_业务明细.csv"),
    )
    .await;
    let summary: Vec<_> = report
        .discrepancies
        .iter()
        .map(|d| (d.class, d.key.clone(), d.explanation.clone()))
        .collect();
    assert!(report.discrepancies.is_empty(), "{summary:#?}");
    assert_eq!(report.counts.get("matched"), Some(&10));
    let outcomes =
        s.db.run_outcomes(report.run_id.expect("run id"), 100, 0)
            .await
            .expect("outcomes");
    for no in ["RF-A", "RF-B"] {
        let o = outcomes
            .iter()
            .find(|o| o.refund_no.as_deref() == Some(no))
            .unwrap_or_else(|| panic!("no outcome for {no}: {outcomes:#?}"));
        assert_eq!(
            (o.class, o.rule),
            (OutcomeClass::Matched, MatchRule::OrderAmountDay)
        );
    }
}

paydesk_testkit::db_tests!(
    stripe_report_custom_key_presentment_and_payment_intent,
    alipay_refund_without_request_number
);
