//! The order mirror's account dimension (issue 14, point 1): a scope narrows every read to one
//! account's orders, and refunds to those of its orders, in SQL, on SQLite and PostgreSQL.
mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use paydesk_core::Provider;
use paydesk_store::{AccountFilter, MirrorMapping, MirrorScope, OrderColumns, OrderMirror};

db_tests!(
    mapped_account_column,
    filter_on_merchant_columns,
    only_account_takes_unassigned_rows,
);

async fn exec(url: &str, sqls: &[String]) {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite") && !url.contains('?') {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
    for s in sqls {
        sqlx::query(s)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    pool.close().await;
}

/// The merchant's schema: `shop` (the Paydesk account name, NULL for O-5), `mch` (merchant
/// id, integer) and `channel_app`; two orders of each of two WeChat shops, one unassigned,
/// a refund per order.
async fn schema(url: &str) {
    let paid = Utc
        .with_ymd_and_hms(2026, 11, 20, 4, 0, 0)
        .single()
        .expect("t")
        .timestamp();
    let mut sqls = vec![
        "CREATE TABLE orders (order_no TEXT PRIMARY KEY, provider TEXT, provider_txn_id TEXT, \
         amount BIGINT, currency TEXT, status TEXT, created_at BIGINT, paid_at BIGINT, \
         customer_ref TEXT, shop TEXT NULL, mch BIGINT NULL, channel_app TEXT NULL)"
            .to_string(),
        "CREATE TABLE refunds (refund_no TEXT PRIMARY KEY, order_no TEXT, provider TEXT, \
         amount BIGINT, currency TEXT, refunded_at BIGINT, provider_refund_id TEXT)"
            .to_string(),
    ];
    for (i, shop, mch, app) in [
        (1, "'wechat-main'", "1900000001", "'wx1'"),
        (2, "'wechat-main'", "1900000001", "'wx2'"),
        (3, "'wechat-shop2'", "1900000002", "'wx1'"),
        (4, "'wechat-shop2'", "1900000002", "'wx1'"),
        (5, "NULL", "NULL", "NULL"),
    ] {
        sqls.push(format!(
            "INSERT INTO orders VALUES ('O-{i}', 'wechat', 'T{i}', {}, 'CNY', 'paid', {}, {}, \
             NULL, {shop}, {mch}, {app})",
            100 * i,
            paid - 60,
            paid + i
        ));
        sqls.push(format!(
            "INSERT INTO refunds VALUES ('R-{i}', 'O-{i}', 'wechat', 10, 'CNY', {}, NULL)",
            paid + 100 + i
        ));
    }
    // A refund of an order the mirror does not have.
    sqls.push(format!(
        "INSERT INTO refunds VALUES ('R-9', 'O-9', 'wechat', 10, 'CNY', {}, NULL)",
        paid + 200
    ));
    exec(url, &sqls).await;
}

fn scope(conditions: &[(&str, &str)], or_unassigned: bool) -> MirrorScope {
    MirrorScope {
        provider: Provider::Wechat,
        account: Some(AccountFilter {
            conditions: conditions
                .iter()
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect(),
            or_unassigned,
        }),
    }
}

async fn numbers(m: &OrderMirror, s: &MirrorScope) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (start, end) = date("2026-11-20").utc_bounds(chrono_tz::Asia::Shanghai);
    let mut paid: Vec<String> = m
        .orders_paid_between(s, start, end)
        .await
        .expect("paid")
        .into_iter()
        .map(|o| o.order_no.to_string())
        .collect();
    paid.sort();
    let all: Vec<String> = (1..=5).map(|i| format!("O-{i}")).collect();
    let mut by_no: Vec<String> = m
        .orders_by_numbers(s, &all)
        .await
        .expect("by no")
        .into_iter()
        .map(|o| o.order_no.to_string())
        .collect();
    by_no.sort();
    let txns: Vec<String> = (1..=5).map(|i| format!("T{i}")).collect();
    let by_txn: Vec<String> = m
        .orders_by_txn_ids(s, &txns)
        .await
        .expect("by txn")
        .into_iter()
        .map(|o| o.order_no.to_string())
        .collect();
    assert_eq!(by_txn.len(), by_no.len(), "{by_txn:?} vs {by_no:?}");
    let mut refunds: Vec<String> = m
        .refunds_between(s, start, end + Duration::days(1))
        .await
        .expect("refunds")
        .into_iter()
        .map(|r| r.refund_no.to_string())
        .collect();
    refunds.sort();
    let rnos: Vec<String> = ["R-1", "R-2", "R-3", "R-4", "R-5", "R-9"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut by_rno: Vec<String> = m
        .refunds_by_numbers(s, &rnos)
        .await
        .expect("refunds by no")
        .into_iter()
        .map(|r| r.refund_no.to_string())
        .collect();
    by_rno.sort();
    assert_eq!(refunds, by_rno);
    (paid, by_no, refunds)
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn open(url: &str, account_col: Option<&str>) -> OrderMirror {
    let mapping = MirrorMapping {
        order_columns: OrderColumns {
            account: account_col.map(str::to_string),
            ..OrderColumns::default()
        },
        time_format: paydesk_store::TimeFormat::UnixSeconds,
        ..MirrorMapping::default()
    };
    OrderMirror::open(url, mapping).await.expect("open")
}

async fn mapped_account_column(url: String) {
    schema(&url).await;
    let m = open(&url, Some("shop")).await;
    assert_eq!(m.account_column(), Some("shop"));
    let (paid, by_no, refunds) = numbers(&m, &scope(&[("shop", "wechat-shop2")], false)).await;
    assert_eq!(paid, v(&["O-3", "O-4"]));
    assert_eq!(by_no, v(&["O-3", "O-4"]));
    assert_eq!(refunds, v(&["R-3", "R-4"]));
    let (paid, _, refunds) = numbers(&m, &scope(&[("shop", "wechat-main")], false)).await;
    assert_eq!(paid, v(&["O-1", "O-2"]));
    assert_eq!(refunds, v(&["R-1", "R-2"]));
    // Without a scope: the whole provider, as before.
    let (paid, _, refunds) = numbers(&m, &Provider::Wechat.into()).await;
    assert_eq!(paid.len(), 5);
    assert_eq!(refunds.len(), 6);
    // A mapped account column the table lacks: no account dimension (not an open error).
    let m = open(&url, Some("account")).await;
    assert_eq!(m.account_column(), None);
}

async fn filter_on_merchant_columns(url: String) {
    schema(&url).await;
    let m = open(&url, None).await;
    assert_eq!(m.account_column(), None);
    assert!(m.orders_have_column("mch").await);
    assert!(!m.orders_have_column("merchant").await);
    // An integer column compared with the configured text value.
    let (paid, _, refunds) = numbers(&m, &scope(&[("mch", "1900000001")], false)).await;
    assert_eq!(paid, v(&["O-1", "O-2"]));
    assert_eq!(refunds, v(&["R-1", "R-2"]));
    // Several columns: all must hold.
    let (paid, _, refunds) = numbers(
        &m,
        &scope(&[("mch", "1900000001"), ("channel_app", "wx2")], false),
    )
    .await;
    assert_eq!(paid, v(&["O-2"]));
    assert_eq!(refunds, v(&["R-2"]));
}

async fn only_account_takes_unassigned_rows(url: String) {
    schema(&url).await;
    let m = open(&url, Some("shop")).await;
    // The provider's only account: its own rows and rows without an account value, and
    // refunds of orders outside the mirror; never another account's rows.
    let (paid, by_no, refunds) = numbers(&m, &scope(&[("shop", "wechat-main")], true)).await;
    assert_eq!(paid, v(&["O-1", "O-2", "O-5"]));
    assert_eq!(by_no, v(&["O-1", "O-2", "O-5"]));
    assert_eq!(refunds, v(&["R-1", "R-2", "R-5", "R-9"]));
}
