//! The order mirror, on SQLite and PostgreSQL.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use paydesk_core::{Currency, LocalRefund, Order, OrderStatus, Provider, RefundOrigin};
use paydesk_store::{
    create_default_mirror, insert_mirror_rows, AmountUnit, MirrorMapping, OrderColumns,
    OrderMirror, RefundColumns, StoreError, TimeFormat,
};
use std::collections::BTreeMap;

db_tests!(
    default_mirror_round_trip,
    custom_mapping_major_text_amounts_local_times,
    missing_table_or_column_is_named,
    bad_rows_are_clear_errors,
    bad_money_and_missing_numbers_are_clear_errors,
    times_that_are_not_times_fail_range_queries,
    native_and_any_readers_agree_on_narrow_and_wide_ranges,
    stored_types_read_as_their_text,
);

async fn exec(url: &str, sqls: &[&str]) {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite") && !url.contains('?') {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    for s in sqls {
        sqlx::query(s)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    pool.close().await;
}

fn order(i: i64, provider: Provider) -> Order {
    let paid = Utc
        .with_ymd_and_hms(2024, 4, 30, 16, 0, 0)
        .single()
        .expect("t")
        + Duration::seconds(i * 37);
    Order {
        order_no: format!("SO-{i}").into(),
        provider,
        provider_txn_id: Some(format!("TXN{i:08}").into()),
        amount: 100 + i,
        currency: Currency::CNY,
        status: if i % 5 == 0 {
            OrderStatus::Refunded
        } else {
            OrderStatus::Paid
        },
        created_at: paid - Duration::seconds(30),
        paid_at: (i % 9 != 4).then_some(paid),
        customer_ref: Some(format!("cust{i}@example.com").into()),
    }
}

async fn default_mirror_round_trip(url: String) {
    create_default_mirror(&url).await.expect("create");
    create_default_mirror(&url)
        .await
        .expect("create is idempotent");
    let mut orders: Vec<Order> = (0..1200).map(|i| order(i, Provider::Alipay)).collect();
    let mut wx = order(5000, Provider::Wechat);
    wx.paid_at = Some(at("2024-05-01T03:00:00Z"));
    wx.customer_ref = Some("Jörg.ÄRGER@Example.de".into());
    orders.push(wx);
    let refunds: Vec<LocalRefund> = (0..20)
        .map(|i| LocalRefund {
            refund_no: format!("RF-{i}").into(),
            order_no: format!("SO-{}", i * 5).into(),
            provider: Provider::Alipay,
            amount: 50 + i,
            currency: Currency::CNY,
            refunded_at: Utc
                .with_ymd_and_hms(2024, 5, 1, 1, 0, 0)
                .single()
                .expect("t")
                + Duration::minutes(i * 90),
            provider_refund_id: ((i % 2 == 0).then(|| format!("RFID{i}"))).map(Into::into),
            origin: RefundOrigin::Mirror,
        })
        .collect();
    insert_mirror_rows(&url, &orders, &refunds)
        .await
        .expect("insert");
    // Upsert: writing again (with a change) does not duplicate.
    let mut changed = orders[1].clone();
    changed.amount = 999;
    insert_mirror_rows(&url, &[changed], &[])
        .await
        .expect("upsert");

    let m = OrderMirror::open(&url, MirrorMapping::default())
        .await
        .expect("open");
    // Beijing day 2024-05-01 = [04-30 16:00Z, 05-01 16:00Z).
    let (start, end) = date("2024-05-01").utc_bounds(chrono_tz::Asia::Shanghai);
    let paid = m
        .orders_paid_between(Provider::Alipay, start, end)
        .await
        .expect("paid");
    let expected: Vec<&Order> = orders
        .iter()
        .filter(|o| {
            o.provider == Provider::Alipay && o.paid_at.is_some_and(|t| t >= start && t < end)
        })
        .collect();
    assert_eq!(paid.len(), expected.len());
    assert!(paid.len() > 1000);
    let so2 = paid.iter().find(|o| o.order_no == "SO-2").expect("SO-2");
    assert_eq!(so2, &orders[2]);
    assert_eq!(
        paid.iter().find(|o| o.order_no == "SO-1").map(|o| o.amount),
        Some(999)
    );
    assert!(m
        .orders_paid_between(Provider::Stripe, start, end)
        .await
        .expect("none")
        .is_empty());
    assert_eq!(
        m.orders_paid_between(Provider::Wechat, start, end)
            .await
            .expect("wx")
            .len(),
        1
    );

    // Chunked IN lists (more than one chunk), unknown numbers are absent.
    let mut wanted: Vec<String> = (0..1100).map(|i| format!("SO-{i}")).collect();
    wanted.push("SO-NOPE".into());
    let by_no = m
        .orders_by_numbers(Provider::Alipay, &wanted)
        .await
        .expect("by no");
    assert_eq!(by_no.len(), 1100);
    let by_txn = m
        .orders_by_txn_ids(
            Provider::Alipay,
            &["TXN00000007".into(), "TXN00000008".into()],
        )
        .await
        .expect("by txn");
    assert_eq!(by_txn.len(), 2);
    assert!(m
        .orders_by_numbers(Provider::Stripe, &["SO-1".into()])
        .await
        .expect("other provider")
        .is_empty());

    let rs = m
        .refunds_between(Provider::Alipay, start, end)
        .await
        .expect("refunds");
    let expected_refunds: Vec<&LocalRefund> = refunds
        .iter()
        .filter(|r| r.refunded_at >= start && r.refunded_at < end)
        .collect();
    assert_eq!(rs.len(), expected_refunds.len());
    let mut got_rf = m
        .refunds_by_numbers(Provider::Alipay, &["RF-2".into(), "RF-3".into()])
        .await
        .expect("rf");
    got_rf.sort_by(|a, b| a.refund_no.cmp(&b.refund_no));
    assert_eq!(got_rf, vec![refunds[2].clone(), refunds[3].clone()]);

    let s = m.search_orders("SO-7", 5).await.expect("search");
    assert_eq!(
        s.first().map(|o| o.order_no.as_str()),
        Some("SO-7"),
        "exact match first"
    );
    assert_eq!(s.len(), 5);
    let s = m
        .search_orders("CUST12@EXAMPLE", 10)
        .await
        .expect("search ci");
    assert!(s.iter().any(|o| o.order_no == "SO-12"));
    let s = m
        .search_orders("TXN00005000", 10)
        .await
        .expect("search txn");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].provider, Provider::Wechat);
    // Case folding beyond ASCII, on SQLite too (its LOWER folds only ASCII).
    for needle in ["jÖrg.ärger@example", "JÖRG.ÄRGER", "örg.Ä"] {
        let s = m.search_orders(needle, 10).await.expect("search unicode");
        assert_eq!(s.len(), 1, "{needle}");
        assert_eq!(s[0].order_no, "SO-5000", "{needle}");
    }
    assert!(m
        .search_orders("jorg.arger", 10)
        .await
        .expect("search")
        .is_empty());
}

async fn custom_mapping_major_text_amounts_local_times(url: String) {
    exec(
        &url,
        &[
            "CREATE TABLE shop_orders (ord_id TEXT, channel TEXT, txn TEXT, total NUMERIC(12,2), \
             cur TEXT, st TEXT, created TEXT, \"PaidAt\" TIMESTAMP, email TEXT)",
            "CREATE TABLE shop_refunds (rid TEXT, ord TEXT, channel TEXT, amt TEXT, cur TEXT, at_local TEXT)",
            "INSERT INTO shop_orders VALUES ('A-1', 'WeChatPay', 'W1', 12.30, 'cny', 'PAID_OK', \
             '2024-05-01 00:10:00', '2024-05-01 00:10:05', 'a@x')",
            "INSERT INTO shop_orders VALUES ('A-2', 'weixin', 'W2', 1234.5, 'CNY', 'WAIT', \
             '2024-05-01 23:59:00', NULL, 'b@x')",
            "INSERT INTO shop_orders VALUES ('A-3', 'wechat', 'W3', 0.01, 'CNY', '已关闭', \
             '2024-04-30 23:59:59', '2024-04-30 23:59:59', 'c@x')",
            "INSERT INTO shop_orders VALUES ('A-4', 'alipay', 'Z4', 5, 'CNY', 'paid_ok', \
             '2024-05-01 12:00:00', '2024-05-01 12:00:00', 'd@x')",
            "INSERT INTO shop_refunds VALUES ('R-1', 'A-1', 'wechat', '1,234.50', 'CNY', '2024-05-01 10:00:00')",
            "INSERT INTO shop_refunds VALUES ('R-2', 'A-1', 'wechat', '0.10', 'CNY', '2024-05-02 00:00:00')",
        ],
    )
    .await;
    let mut status_values = BTreeMap::new();
    status_values.insert("PAID_OK".to_string(), OrderStatus::Paid);
    status_values.insert("WAIT".to_string(), OrderStatus::Pending);
    status_values.insert("已关闭".to_string(), OrderStatus::Closed);
    let mapping = MirrorMapping {
        orders_table: "shop_orders".into(),
        order_columns: OrderColumns {
            order_no: "ord_id".into(),
            provider: "channel".into(),
            provider_txn_id: Some("txn".into()),
            amount: "total".into(),
            currency: "cur".into(),
            status: "st".into(),
            created_at: "created".into(),
            paid_at: "PaidAt".into(),
            customer_ref: Some("email".into()),
            account: None,
        },
        refunds_table: "shop_refunds".into(),
        refund_columns: RefundColumns {
            refund_no: "rid".into(),
            order_no: "ord".into(),
            provider: "channel".into(),
            amount: "amt".into(),
            currency: "cur".into(),
            refunded_at: "at_local".into(),
            provider_refund_id: None,
        },
        amount_unit: AmountUnit::Major,
        time_format: TimeFormat::Text("%Y-%m-%d %H:%M:%S".into()),
        timezone: "Asia/Shanghai".into(),
        status_values,
    };
    // The mapping also comes from configuration.
    let json = serde_json::to_string(&mapping).expect("ser");
    let back: MirrorMapping = serde_json::from_str(&json).expect("de");
    assert_eq!(back, mapping);
    let partial: MirrorMapping =
        serde_json::from_str(r#"{"orders_table": "x", "time_format": "text"}"#).expect("partial");
    assert_eq!(partial.refunds_table, "refunds");
    assert_eq!(
        partial.time_format,
        TimeFormat::Text("%Y-%m-%d %H:%M:%S".into())
    );

    let m = OrderMirror::open(&url, mapping).await.expect("open custom");
    let (start, end) = date("2024-05-01").utc_bounds(chrono_tz::Asia::Shanghai);
    let paid = m
        .orders_paid_between(Provider::Wechat, start, end)
        .await
        .expect("paid");
    assert_eq!(paid.len(), 1, "{paid:?}");
    let a1 = &paid[0];
    assert_eq!(a1.order_no, "A-1");
    assert_eq!(a1.provider, Provider::Wechat);
    assert_eq!(a1.amount, 1230);
    assert_eq!(a1.currency, Currency::CNY);
    assert_eq!(a1.status, OrderStatus::Paid);
    assert_eq!(a1.paid_at, Some(at("2024-04-30T16:10:05Z")));
    assert_eq!(a1.created_at, at("2024-04-30T16:10:00Z"));
    assert_eq!(a1.customer_ref.as_deref(), Some("a@x"));
    assert_eq!(a1.provider_txn_id.as_deref(), Some("W1"));

    let mut by_no = m
        .orders_by_numbers(
            Provider::Wechat,
            &["A-2".into(), "A-3".into(), "A-4".into()],
        )
        .await
        .expect("by no");
    by_no.sort_by(|a, b| a.order_no.cmp(&b.order_no));
    assert_eq!(by_no.len(), 2, "A-4 is an Alipay order");
    assert_eq!(
        (by_no[0].amount, by_no[0].status, by_no[0].paid_at),
        (123_450, OrderStatus::Pending, None)
    );
    assert_eq!((by_no[1].amount, by_no[1].status), (1, OrderStatus::Closed));
    // Case-insensitive status match.
    let a4 = m
        .orders_by_txn_ids(Provider::Alipay, &["Z4".into()])
        .await
        .expect("z4");
    assert_eq!(a4[0].status, OrderStatus::Paid);
    assert_eq!(a4[0].amount, 500);

    let rs = m
        .refunds_between(Provider::Wechat, start, end)
        .await
        .expect("refunds");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].refund_no, "R-1");
    assert_eq!(rs[0].amount, 123_450);
    assert_eq!(rs[0].refunded_at, at("2024-05-01T02:00:00Z"));
    assert_eq!(rs[0].provider_refund_id, None);
    let r2 = m
        .refunds_by_numbers(Provider::Wechat, &["R-2".into()])
        .await
        .expect("r2");
    assert_eq!(r2[0].amount, 10);

    let s = m.search_orders("b@x", 10).await.expect("search");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].order_no, "A-2");
}

async fn missing_table_or_column_is_named(url: String) {
    create_default_mirror(&url).await.expect("create");
    let mut mapping = MirrorMapping::default();
    mapping.order_columns.paid_at = "paid_time".into();
    let err = OrderMirror::open(&url, mapping)
        .await
        .expect_err("missing column");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::MirrorSchema(_)));
    assert!(msg.contains("paid_time") && msg.contains("orders"), "{msg}");

    let mapping = MirrorMapping {
        refunds_table: "refund_log".into(),
        ..Default::default()
    };
    let msg = OrderMirror::open(&url, mapping)
        .await
        .expect_err("missing table")
        .to_string();
    assert!(msg.contains("refund_log"), "{msg}");

    let mapping = MirrorMapping {
        timezone: "Mars/Olympus".into(),
        ..Default::default()
    };
    let msg = OrderMirror::open(&url, mapping)
        .await
        .expect_err("bad tz")
        .to_string();
    assert!(msg.contains("Mars/Olympus"), "{msg}");
}

async fn bad_rows_are_clear_errors(url: String) {
    create_default_mirror(&url).await.expect("create");
    exec(
        &url,
        &[
            "INSERT INTO orders VALUES ('SO-BADSTATUS', 'alipay', 'T1', 100, 'CNY', 'weird', 1714500000, 1714540000, NULL, NULL)",
            "INSERT INTO orders VALUES ('SO-BADCUR', 'alipay', 'T2', 100, 'XXX', 'paid', 1714500000, 1714540000, NULL, NULL)",
            "INSERT INTO refunds VALUES ('RF-OK', 'SO-1', 'alipay', 100, 'CNY', 1714540000, NULL)",
            "CREATE TABLE t_orders (no TEXT, p TEXT, amt TEXT, cur TEXT, st TEXT, c TEXT, pa TEXT)",
            "INSERT INTO t_orders VALUES ('SO-BADAMT', 'alipay', '12.x', 'CNY', 'paid', '2024-05-01 10:00:00', '2024-05-01 10:00:00')",
            "INSERT INTO t_orders VALUES ('SO-BADTIME', 'alipay', '12.00', 'CNY', 'paid', '2024-05-01 10:00:00', '2024-05-01 soon')",
            "INSERT INTO t_orders VALUES ('SO-PRECISE', 'alipay', '12.345', 'CNY', 'paid', '2024-05-01 10:00:00', '2024-05-01 10:00:00')",
        ],
    )
    .await;
    let m = OrderMirror::open(&url, MirrorMapping::default())
        .await
        .expect("open");
    let check = |r: Result<Vec<Order>, StoreError>, key: &str, column: &str, words: &str| match r {
        Err(e @ StoreError::MirrorRow { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("orders")
                    && msg.contains(key)
                    && msg.contains(column)
                    && msg.contains(words),
                "{msg}"
            );
        }
        other => panic!("expected a MirrorRow error for {key}, got {other:?}"),
    };
    check(
        m.orders_by_numbers(Provider::Alipay, &["SO-BADSTATUS".into()])
            .await,
        "SO-BADSTATUS",
        "status",
        "weird",
    );
    check(
        m.orders_by_numbers(Provider::Alipay, &["SO-BADCUR".into()])
            .await,
        "SO-BADCUR",
        "currency",
        "XXX",
    );
    // A bad row inside a range query fails the query rather than vanishing from it.
    let start = at("2024-05-01T00:00:00Z");
    assert!(m
        .orders_paid_between(Provider::Alipay, start, start + Duration::days(1))
        .await
        .is_err());
    assert_eq!(
        m.refunds_between(Provider::Alipay, start, start + Duration::days(1))
            .await
            .expect("good refunds")
            .len(),
        1
    );

    let mapping = MirrorMapping {
        orders_table: "t_orders".into(),
        order_columns: OrderColumns {
            order_no: "no".into(),
            provider: "p".into(),
            provider_txn_id: None,
            amount: "amt".into(),
            currency: "cur".into(),
            status: "st".into(),
            created_at: "c".into(),
            paid_at: "pa".into(),
            customer_ref: None,
            account: None,
        },
        amount_unit: AmountUnit::Major,
        time_format: TimeFormat::Text("%Y-%m-%d %H:%M:%S".into()),
        ..Default::default()
    };
    let m = OrderMirror::open(&url, mapping).await.expect("open t");
    check(
        m.orders_by_numbers(Provider::Alipay, &["SO-BADAMT".into()])
            .await,
        "SO-BADAMT",
        "amt",
        "12.x",
    );
    check(
        m.orders_by_numbers(Provider::Alipay, &["SO-BADTIME".into()])
            .await,
        "SO-BADTIME",
        "pa",
        "soon",
    );
    check(
        m.orders_by_numbers(Provider::Alipay, &["SO-PRECISE".into()])
            .await,
        "SO-PRECISE",
        "amt",
        "12.345",
    );
    // No txn-id column mapped: nothing to find, no error.
    assert!(m
        .orders_by_txn_ids(Provider::Alipay, &["T1".into()])
        .await
        .expect("no column")
        .is_empty());
}

/// `r` must be a MirrorRow error whose message has every one of `parts`.
fn assert_row_error<T: std::fmt::Debug>(r: Result<T, StoreError>, parts: &[&str]) {
    match r {
        Err(e @ StoreError::MirrorRow { .. }) => {
            let msg = e.to_string();
            for p in parts {
                assert!(msg.contains(p), "message lacks {p:?}: {msg}");
            }
        }
        other => panic!("expected a MirrorRow error naming {parts:?}, got {other:?}"),
    }
}

/// Tables like the default schema's, without the primary keys (a merchant's view or a table
/// that lets the order number be NULL).
const LOOSE_TABLES: [&str; 2] = [
    "CREATE TABLE loose_orders (order_no TEXT NULL, provider TEXT, provider_txn_id TEXT, \
     amount BIGINT, currency TEXT, status TEXT, created_at BIGINT, paid_at BIGINT, \
     customer_ref TEXT, account TEXT)",
    "CREATE TABLE loose_refunds (refund_no TEXT NULL, order_no TEXT, provider TEXT, \
     amount BIGINT, currency TEXT, refunded_at BIGINT, provider_refund_id TEXT)",
];

fn loose_mapping() -> MirrorMapping {
    MirrorMapping {
        orders_table: "loose_orders".into(),
        refunds_table: "loose_refunds".into(),
        ..Default::default()
    }
}

/// Issue 16, point 2: a NULL order (refund) number, a negative order amount and a zero or
/// negative refund amount fail the read naming table, row and column — by range and by
/// number — instead of becoming an order called "<no key>" or a refund that adds money.
async fn bad_money_and_missing_numbers_are_clear_errors(url: String) {
    exec(&url, &LOOSE_TABLES).await;
    let m = OrderMirror::open(&url, loose_mapping())
        .await
        .expect("open");
    // 2024-05-01 04:00:00Z and the day around it.
    let t = 1_714_536_000;
    let start = at("2024-05-01T00:00:00Z");
    let end = start + Duration::days(1);
    let order_row = |no: &str, txn: &str, amount: i64| {
        format!(
            "INSERT INTO loose_orders VALUES ({no}, 'alipay', '{txn}', {amount}, 'CNY', 'paid', \
             {t}, {t}, NULL, NULL)"
        )
    };
    exec(&url, &[&order_row("'SO-OK'", "T-OK", 100)]).await;
    assert_eq!(
        m.orders_paid_between(Provider::Alipay, start, end)
            .await
            .expect("good orders")
            .len(),
        1
    );

    // An order without its number.
    exec(&url, &[&order_row("NULL", "T-NOKEY", 700)]).await;
    let parts = [
        "loose_orders",
        "without order_no",
        "T-NOKEY",
        "column order_no",
    ];
    assert_row_error(
        m.orders_paid_between(Provider::Alipay, start, end).await,
        &parts,
    );
    assert_row_error(
        m.orders_by_txn_ids(Provider::Alipay, &["T-NOKEY".into()])
            .await,
        &parts,
    );
    exec(&url, &["DELETE FROM loose_orders WHERE order_no IS NULL"]).await;

    // A negative paid amount.
    exec(&url, &[&order_row("'SO-NEG'", "T-NEG", -700)]).await;
    let parts = [
        "loose_orders",
        "row SO-NEG",
        "column amount",
        "-700",
        "negative",
    ];
    assert_row_error(
        m.orders_paid_between(Provider::Alipay, start, end).await,
        &parts,
    );
    assert_row_error(
        m.orders_by_numbers(Provider::Alipay, &["SO-NEG".into()])
            .await,
        &parts,
    );
    exec(
        &url,
        &["DELETE FROM loose_orders WHERE order_no = 'SO-NEG'"],
    )
    .await;
    // Zero is a possible order amount (a free order).
    exec(&url, &[&order_row("'SO-FREE'", "T-FREE", 0)]).await;
    assert_eq!(
        m.orders_paid_between(Provider::Alipay, start, end)
            .await
            .expect("a free order is fine")
            .len(),
        2
    );

    let refund_row = |no: &str, amount: i64| {
        format!(
            "INSERT INTO loose_refunds VALUES ({no}, 'SO-OK', 'alipay', {amount}, 'CNY', {t}, NULL)"
        )
    };
    exec(&url, &[&refund_row("'RF-OK'", 40)]).await;
    assert_eq!(
        m.refunds_between(Provider::Alipay, start, end)
            .await
            .expect("good refunds")
            .len(),
        1
    );
    for (no, amount) in [("RF-ZERO", 0), ("RF-NEG", -40)] {
        exec(&url, &[&refund_row(&format!("'{no}'"), amount)]).await;
        let amount_text = amount.to_string();
        let parts = [
            "loose_refunds",
            no,
            "column amount",
            amount_text.as_str(),
            "not positive",
        ];
        assert_row_error(
            m.refunds_between(Provider::Alipay, start, end).await,
            &parts,
        );
        assert_row_error(
            m.refunds_by_numbers(Provider::Alipay, &[no.into()]).await,
            &parts,
        );
        exec(
            &url,
            &[&format!(
                "DELETE FROM loose_refunds WHERE refund_no = '{no}'"
            )],
        )
        .await;
    }
    // A refund without its number.
    exec(&url, &[&refund_row("NULL", 40)]).await;
    assert_row_error(
        m.refunds_between(Provider::Alipay, start, end).await,
        &[
            "loose_refunds",
            "without refund_no",
            "SO-OK",
            "column refund_no",
        ],
    );
}

/// Issue 16, point 2: a time column holding something that is not a time fails the range
/// query that would otherwise pass over it (on SQLite 'yesterday' in an integer column sorts
/// after every number; with text times it sorts after every date, on both databases) — a
/// paid order silently missing from reconciliation would be a hidden 短款.
async fn times_that_are_not_times_fail_range_queries(url: String) {
    let start = at("2024-05-01T00:00:00Z");
    let end = start + Duration::days(1);
    let pg = url.starts_with("postgres");

    // Unix seconds in integer columns (the default schema). PostgreSQL's BIGINT refuses
    // such values, so only SQLite can hold them.
    create_default_mirror(&url).await.expect("create");
    exec(
        &url,
        &[
            "INSERT INTO orders VALUES ('SO-OK', 'alipay', 'T1', 100, 'CNY', 'paid', 1714536000, 1714536000, NULL, NULL)",
            "INSERT INTO refunds VALUES ('RF-OK', 'SO-OK', 'alipay', 10, 'CNY', 1714536000, NULL)",
        ],
    )
    .await;
    let m = OrderMirror::open(&url, MirrorMapping::default())
        .await
        .expect("open");
    assert_eq!(
        m.orders_paid_between(Provider::Alipay, start, end)
            .await
            .expect("good")
            .len(),
        1
    );
    if !pg {
        exec(
            &url,
            &[
                "INSERT INTO orders VALUES ('SO-Y', 'alipay', 'T2', 100, 'CNY', 'paid', 1714536000, 'yesterday', NULL, NULL)",
                "INSERT INTO refunds VALUES ('RF-Y', 'SO-OK', 'alipay', 10, 'CNY', '2024-05-01 10:00:00', NULL)",
                // Empty: not paid yet, like NULL.
                "INSERT INTO orders VALUES ('SO-E', 'alipay', 'T3', 100, 'CNY', 'pending', 1714536000, '', NULL, NULL)",
            ],
        )
        .await;
        assert_row_error(
            m.orders_paid_between(Provider::Alipay, start, end).await,
            &["orders", "row SO-Y", "column paid_at", "yesterday"],
        );
        assert_row_error(
            m.refunds_between(Provider::Alipay, start, end).await,
            &[
                "refunds",
                "row RF-Y",
                "column refunded_at",
                "2024-05-01 10:00:00",
            ],
        );
        // Another provider's rows are not this query's business.
        assert!(m
            .orders_paid_between(Provider::Wechat, start, end)
            .await
            .expect("no wechat rows")
            .is_empty());
        exec(&url, &["DELETE FROM orders WHERE order_no = 'SO-Y'"]).await;
        let paid = m
            .orders_paid_between(Provider::Alipay, start, end)
            .await
            .expect("an empty paid_at is no time, not a bad one");
        assert_eq!(
            paid.iter().map(|o| o.order_no.as_str()).collect::<Vec<_>>(),
            ["SO-OK"]
        );
    }

    // Text times (sortable format) in text columns, on both databases.
    exec(
        &url,
        &[
            "CREATE TABLE t_orders (no TEXT, p TEXT, amt BIGINT, cur TEXT, st TEXT, c TEXT, pa TEXT)",
            "CREATE INDEX t_orders_pa ON t_orders (pa)",
            "INSERT INTO t_orders VALUES ('SO-1', 'alipay', 100, 'CNY', 'paid', '2024-05-01 10:00:00', '2024-05-01 10:00:00')",
            "INSERT INTO t_orders VALUES ('SO-OLD', 'alipay', 100, 'CNY', 'paid', '2023-05-01 10:00:00', '2023-05-01 10:00:00')",
        ],
    )
    .await;
    let mapping = MirrorMapping {
        orders_table: "t_orders".into(),
        order_columns: OrderColumns {
            order_no: "no".into(),
            provider: "p".into(),
            provider_txn_id: None,
            amount: "amt".into(),
            currency: "cur".into(),
            status: "st".into(),
            created_at: "c".into(),
            paid_at: "pa".into(),
            customer_ref: None,
            account: None,
        },
        time_format: TimeFormat::Text("%Y-%m-%d %H:%M:%S".into()),
        ..Default::default()
    };
    let m = OrderMirror::open(&url, mapping).await.expect("open t");
    let paid = m
        .orders_paid_between(Provider::Alipay, start, end)
        .await
        .expect("good");
    assert_eq!(
        paid.iter().map(|o| o.order_no.as_str()).collect::<Vec<_>>(),
        ["SO-1"]
    );
    for (no, bad) in [("SO-Y", "yesterday"), ("SO-DMY", "01.05.2024 10:00:00")] {
        exec(
            &url,
            &[&format!(
                "INSERT INTO t_orders VALUES ('{no}', 'alipay', 100, 'CNY', 'paid', '2024-05-01 10:00:00', '{bad}')"
            )],
        )
        .await;
        assert_row_error(
            m.orders_paid_between(Provider::Alipay, start, end).await,
            &["t_orders", no, "column pa", bad],
        );
        exec(&url, &[&format!("DELETE FROM t_orders WHERE no = '{no}'")]).await;
    }
}

/// The native readers (and, on SQLite, the full scan chosen when a range holds most of the
/// table rather than the time index) read exactly what sqlx's `Any` driver reads: a range
/// holding a few percent of the orders (read through the index) and one holding all of
/// them (a full scan), orders, refunds and lookups by number and transaction id.
async fn native_and_any_readers_agree_on_narrow_and_wide_ranges(url: String) {
    create_default_mirror(&url).await.expect("create");
    let orders: Vec<Order> = (0..1200).map(|i| order(i, Provider::Alipay)).collect();
    let refunds: Vec<LocalRefund> = (0..300)
        .map(|i| LocalRefund {
            refund_no: format!("RF-{i}").into(),
            order_no: format!("SO-{}", i * 4).into(),
            provider: Provider::Alipay,
            amount: 10 + i,
            currency: Currency::CNY,
            refunded_at: at("2024-04-30T16:00:00Z") + Duration::seconds(i * 150),
            provider_refund_id: None,
            origin: RefundOrigin::Mirror,
        })
        .collect();
    insert_mirror_rows(&url, &orders, &refunds)
        .await
        .expect("insert");
    let native = OrderMirror::open(&url, MirrorMapping::default())
        .await
        .expect("native");
    let any = OrderMirror::open_through_any(&url, MirrorMapping::default())
        .await
        .expect("any");
    let sorted_orders = |mut v: Vec<Order>| {
        v.sort_by(|a, b| a.order_no.cmp(&b.order_no));
        v
    };
    let sorted_refunds = |mut v: Vec<LocalRefund>| {
        v.sort_by(|a, b| a.refund_no.cmp(&b.refund_no));
        v
    };
    // 30 minutes of 12 hours of orders; then the whole day and more.
    for (start, end, expect_orders) in [
        (at("2024-04-30T16:00:00Z"), at("2024-04-30T16:30:00Z"), 44),
        (at("2024-04-30T00:00:00Z"), at("2024-05-02T00:00:00Z"), 1067),
    ] {
        let a = sorted_orders(
            native
                .orders_paid_between(Provider::Alipay, start, end)
                .await
                .expect("native orders"),
        );
        let b = sorted_orders(
            any.orders_paid_between(Provider::Alipay, start, end)
                .await
                .expect("any orders"),
        );
        assert_eq!(a.len(), expect_orders, "{start}..{end}");
        assert_eq!(a, b, "{start}..{end}");
        let a = sorted_refunds(
            native
                .refunds_between(Provider::Alipay, start, end)
                .await
                .expect("native refunds"),
        );
        let b = sorted_refunds(
            any.refunds_between(Provider::Alipay, start, end)
                .await
                .expect("any refunds"),
        );
        assert!(!a.is_empty());
        assert_eq!(a, b, "{start}..{end}");
    }
    let numbers: Vec<String> = (0..1500).step_by(7).map(|i| format!("SO-{i}")).collect();
    let a = sorted_orders(
        native
            .orders_by_numbers(Provider::Alipay, &numbers)
            .await
            .expect("native by numbers"),
    );
    let b = sorted_orders(
        any.orders_by_numbers(Provider::Alipay, &numbers)
            .await
            .expect("any by numbers"),
    );
    assert_eq!(a.len(), 172);
    assert_eq!(a, b);
    let txns: Vec<String> = (0..1200)
        .step_by(11)
        .map(|i| format!("TXN{i:08}"))
        .collect();
    let a = sorted_orders(
        native
            .orders_by_txn_ids(Provider::Alipay, &txns)
            .await
            .expect("native by txn"),
    );
    let b = sorted_orders(
        any.orders_by_txn_ids(Provider::Alipay, &txns)
            .await
            .expect("any by txn"),
    );
    assert_eq!(a.len(), 110);
    assert_eq!(a, b);
}

/// SQLite's own reader takes integers as they are stored and asks for no cast; whatever a
/// column holds — integer order numbers, reals with long expansions, integers, text and
/// blobs in a loosely typed SQLite column, out-of-range numbers — it reads exactly what the
/// cast to text read (sqlx's `Any` driver, which casts), values and errors alike.
async fn stored_types_read_as_their_text(url: String) {
    let sqlite = url.starts_with("sqlite");
    let real = if sqlite { "REAL" } else { "DOUBLE PRECISION" };
    let create = format!(
        "CREATE TABLE odd_orders (no BIGINT, channel TEXT, total {real}, cur TEXT, st TEXT, \
         created BIGINT, paid BIGINT)"
    );
    let mut sqls = vec![
        create.as_str(),
        "CREATE TABLE odd_refunds (rid BIGINT, ord BIGINT, channel TEXT, amt BIGINT, cur TEXT, at_unix BIGINT)",
        "INSERT INTO odd_orders VALUES (1001, 'wechat', 9.9, 'CNY', 'paid', 1714500000, 1714500060)",
        "INSERT INTO odd_orders VALUES (1002, 'wechat', 0.30000000000000004, 'CNY', 'paid', 1714500000, 1714500070)",
        "INSERT INTO odd_orders VALUES (1003, 'wechat', 12, 'JPY', 'paid', 1714500000, 1714500080)",
        "INSERT INTO odd_orders VALUES (-7, 'wechat', 1234567.5, 'CNY', 'paid', 1714500000, 1714500090)",
        "INSERT INTO odd_refunds VALUES (1, 1001, 'wechat', 5, 'CNY', 1714500100)",
        "INSERT INTO odd_refunds VALUES (2, 1003, 'wechat', 12, 'JPY', 1714500110)",
    ];
    if sqlite {
        // SQLite keeps what a column's affinity cannot convert as it was given.
        sqls.extend([
            "INSERT INTO odd_orders VALUES ('A-9', 'wechat', '12.30', 'CNY', 'paid', '1714500000', 1714500100)",
            "INSERT INTO odd_orders VALUES (x'422d31', 'wechat', x'372e3235', 'CNY', 'paid', 1714500000, 1714500110)",
            "INSERT INTO odd_refunds VALUES (3, 'A-9', 'wechat', 1.5, 'CNY', 1714500120)",
        ]);
    }
    exec(&url, &sqls).await;
    let mut status_values = BTreeMap::new();
    status_values.insert("paid".to_string(), OrderStatus::Paid);
    let mapping = MirrorMapping {
        orders_table: "odd_orders".into(),
        order_columns: OrderColumns {
            order_no: "no".into(),
            provider: "channel".into(),
            provider_txn_id: None,
            amount: "total".into(),
            currency: "cur".into(),
            status: "st".into(),
            created_at: "created".into(),
            paid_at: "paid".into(),
            customer_ref: None,
            account: None,
        },
        refunds_table: "odd_refunds".into(),
        refund_columns: RefundColumns {
            refund_no: "rid".into(),
            order_no: "ord".into(),
            provider: "channel".into(),
            amount: "amt".into(),
            currency: "cur".into(),
            refunded_at: "at_unix".into(),
            provider_refund_id: None,
        },
        amount_unit: AmountUnit::Major,
        time_format: TimeFormat::UnixSeconds,
        timezone: "Asia/Shanghai".into(),
        status_values,
    };
    let native = OrderMirror::open(&url, mapping.clone())
        .await
        .expect("native");
    let any = OrderMirror::open_through_any(&url, mapping)
        .await
        .expect("any");
    let (start, end) = (at("2024-04-30T00:00:00Z"), at("2024-05-02T00:00:00Z"));
    let a = native
        .orders_paid_between(Provider::Wechat, start, end)
        .await;
    let b = any.orders_paid_between(Provider::Wechat, start, end).await;
    match (&a, &b) {
        (Ok(a), Ok(b)) => {
            let mut a = a.clone();
            let mut b = b.clone();
            a.sort_by(|x, y| x.order_no.cmp(&y.order_no));
            b.sort_by(|x, y| x.order_no.cmp(&y.order_no));
            assert_eq!(a, b);
        }
        _ => assert_eq!(
            a.as_ref().map_err(ToString::to_string).err(),
            b.as_ref().map_err(ToString::to_string).err()
        ),
    }
    // SQLite writes a real with 15 significant digits ("0.3": 30 fen); PostgreSQL with as
    // many as it takes, so 0.30000000000000004 CNY is not a whole number of fen there.
    if sqlite {
        let a = a.expect("SQLite reads 0.3");
        assert!(a.iter().any(|o| o.order_no == "1002" && o.amount == 30));
    } else {
        let err = a.expect_err("a real with more than 2 decimals");
        assert!(err.to_string().contains("total"), "{err}");
    }
    exec(&url, &["DELETE FROM odd_orders WHERE no = 1002"]).await;
    let mut a = native
        .orders_paid_between(Provider::Wechat, start, end)
        .await
        .expect("native orders");
    let mut b = any
        .orders_paid_between(Provider::Wechat, start, end)
        .await
        .expect("any orders");
    a.sort_by(|x, y| x.order_no.cmp(&y.order_no));
    b.sort_by(|x, y| x.order_no.cmp(&y.order_no));
    assert_eq!(a, b);
    let amounts: Vec<(String, i64)> = a
        .iter()
        .map(|o| (o.order_no.to_string(), o.amount))
        .collect();
    let mut expected = vec![
        ("-7".to_string(), 123_456_750),
        ("1001".to_string(), 990),
        ("1003".to_string(), 12),
    ];
    if sqlite {
        expected.extend([("A-9".to_string(), 1230), ("B-1".to_string(), 725)]);
    }
    expected.sort();
    assert_eq!(amounts, expected);
    let a = native
        .refunds_between(Provider::Wechat, start, end)
        .await
        .expect("native refunds");
    let b = any
        .refunds_between(Provider::Wechat, start, end)
        .await
        .map_err(|e| e.to_string());
    if sqlite {
        // The 1.5 CNY refund is in an integer column of major units: 150 on both.
        assert_eq!(a.len(), 3);
    }
    assert_eq!(Ok(a), b);
    // A number too large for minor units is refused the same way by both readers.
    exec(
        &url,
        &["UPDATE odd_orders SET total = 92233720368547758 WHERE no = 1001"],
    )
    .await;
    let a = native
        .orders_paid_between(Provider::Wechat, start, end)
        .await;
    let b = any.orders_paid_between(Provider::Wechat, start, end).await;
    assert_eq!(
        a.map_err(|e| e.to_string()).err(),
        b.map_err(|e| e.to_string()).err()
    );
}
