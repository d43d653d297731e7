//! The refund fixture: a workspace whose accounts point at a sandbox running
//! in this test process (`endpoint = "sandbox:URL"`), with known orders in the order mirror
//! and the same payments at the provider side.
// Amounts are written yuan_fen (100_00 = 100.00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{Duration, Utc};
use paydesk_core::{
    Currency, LineKind, LocalRefund, Order, OrderStatus, Provider, RefundOrigin, SourceRef,
    StatementLine,
};
use paydesk_sandbox::SandboxHandle;
use paydesk_service::context::workspace::{self, Workspace};
use std::path::Path;

pub use crate::workspace::set_database;

pub struct TestOrder {
    pub order_no: &'static str,
    pub provider: Provider,
    pub txn_id: &'static str,
    pub amount: i64,
    pub currency: Currency,
    pub customer: &'static str,
}

/// One order per provider, plus one with an earlier refund recorded in the mirror.
pub const ORDERS: &[TestOrder] = &[
    TestOrder {
        order_no: "ALI-1001",
        provider: Provider::Alipay,
        txn_id: "2026112222001400001001",
        amount: 100_00,
        currency: Currency::CNY,
        customer: "alice@example.com",
    },
    TestOrder {
        order_no: "WX-2001",
        provider: Provider::Wechat,
        txn_id: "4200002001202611220001",
        amount: 100_00,
        currency: Currency::CNY,
        customer: "wang@example.com",
    },
    TestOrder {
        order_no: "ST-3001",
        provider: Provider::Stripe,
        txn_id: "ch_3PtestST3001",
        amount: 100_00,
        currency: Currency::USD,
        customer: "sam@example.com",
    },
    TestOrder {
        order_no: "ALI-1002",
        provider: Provider::Alipay,
        txn_id: "2026112222001400001002",
        amount: 2_000_00,
        currency: Currency::CNY,
        customer: "bob@example.com",
    },
    TestOrder {
        order_no: "WX-2002",
        provider: Provider::Wechat,
        txn_id: "4200002001202611220002",
        amount: 100_00,
        currency: Currency::CNY,
        customer: "li@example.com",
    },
];

/// The mirror's earlier (non-Paydesk) refund of ALI-1002.
pub const EARLIER_REFUND: (&str, i64) = ("MERCH-RF-1", 300_00);

pub fn payment_line(o: &TestOrder, account: &str) -> StatementLine {
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: o.provider,
        account: account.into(),
        provider_txn_id: o.txn_id.into(),
        merchant_order_no: Some(o.order_no.into()),
        kind: LineKind::Payment,
        gross: o.amount,
        fee_milli: 0,
        net: o.amount,
        currency: o.currency,
        provider_time: Utc::now() - Duration::hours(2),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "SUCCESS".into(),
        source: SourceRef {
            file: "test".into(),
            line: 1,
        },
        fee_base: None,
    }
}

pub fn account_of(p: Provider) -> &'static str {
    match p {
        Provider::Alipay => "alipay-main",
        Provider::Wechat => "wechat-main",
        _ => "stripe-main",
    }
}

/// Creates the workspace (demo users, default mirror with [`ORDERS`]), optionally on an
/// external app database, without touching endpoints yet.
pub async fn init_workspace(dir: &Path, database_url: Option<&str>) {
    let w = workspace::init(dir, true).await.expect("init workspace");
    paydesk_service::context::auth::ensure_demo_users(&w.db)
        .await
        .expect("demo users");
    let now = Utc::now();
    let orders: Vec<Order> = ORDERS
        .iter()
        .map(|o| Order {
            order_no: o.order_no.into(),
            provider: o.provider,
            provider_txn_id: Some(o.txn_id.into()),
            amount: o.amount,
            currency: o.currency,
            status: OrderStatus::Paid,
            created_at: now - Duration::hours(3),
            paid_at: Some(now - Duration::hours(2)),
            customer_ref: Some(o.customer.into()),
        })
        .collect();
    let refunds = vec![LocalRefund {
        refund_no: EARLIER_REFUND.0.into(),
        order_no: "ALI-1002".into(),
        provider: Provider::Alipay,
        amount: EARLIER_REFUND.1,
        currency: Currency::CNY,
        refunded_at: now - Duration::hours(1),
        provider_refund_id: Some("2026112222001400001002".into()),
        origin: RefundOrigin::Mirror,
    }];
    paydesk_store::insert_mirror_rows(&w.config.mirror_url, &orders, &refunds)
        .await
        .expect("mirror rows");
    // The demo has two WeChat Pay accounts: each order names its account (the mirror's
    // account column), so refunds are routed through it.
    let accounts: Vec<(String, String)> = ORDERS
        .iter()
        .map(|o| (o.order_no.to_string(), account_of(o.provider).to_string()))
        .collect();
    paydesk_store::set_mirror_accounts(&w.config.mirror_url, &accounts)
        .await
        .expect("mirror accounts");
    w.db.close().await;
    if let Some(url) = database_url {
        set_database(dir, url);
        // Migrate and seed the users there too.
        let w = Workspace::open(dir).await.expect("open on the database");
        paydesk_service::context::auth::ensure_demo_users(&w.db)
            .await
            .expect("demo users");
        w.db.close().await;
    }
}

/// Points every account at the sandbox and sets short refund timings for tests.
pub fn point_at_sandbox(dir: &Path, base_url: &str, refunds_extra: &str) {
    let path = dir.join("paydesk.toml");
    let text = std::fs::read_to_string(&path).expect("read config");
    let text = text.replace(
        "endpoint = \"sandbox\"",
        &format!("endpoint = \"sandbox:{base_url}\""),
    );
    let marker = "[refunds]\n";
    let text = text.replacen(
        marker,
        &format!(
            "{marker}call_timeout_ms = 1500\nretry_backoff_ms = 200\nmax_backoff_ms = 800\nexecute_for_seconds = 20\n{refunds_extra}\n"
        ),
        1,
    );
    std::fs::write(&path, text).expect("write config");
}

/// Starts the workspace's sandbox (its keys) in this process and loads [`ORDERS`]' payments.
pub async fn start_sandbox(dir: &Path) -> SandboxHandle {
    let w = Workspace::open(dir).await.expect("open workspace");
    let handle = crate::sandbox::start(&w, &[]).await;
    for o in ORDERS {
        handle.add_transactions(o.provider, vec![payment_line(o, account_of(o.provider))]);
    }
    w.db.close().await;
    handle
}
