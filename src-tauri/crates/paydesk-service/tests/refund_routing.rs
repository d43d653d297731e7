//! Refund routing with two merchant ids of one provider (issue 14, point 1): a refund is sent
//! through the account its order belongs to in the mirror, the provider sees it under that
//! merchant, and naming the other account is refused.

// Amounts are written yuan_fen (10_00 = 10.00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use paydesk_core::money::Money;
use paydesk_core::Currency;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::refunds::{self, RefundInput};
use paydesk_store::RefundState;
use paydesk_testkit::actors::support;
use paydesk_testkit::refunds::*;

fn input(order: &str, account: Option<&str>) -> RefundInput {
    RefundInput {
        order: order.into(),
        amount: Money::new(10_00, Currency::CNY),
        reason: "customer returned the goods".into(),
        account: account.map(str::to_string),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_goes_through_the_account_of_its_order_on_sqlite() {
    routes_by_the_orders_account(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_goes_through_the_account_of_its_order_on_postgres() {
    let Some(pg) = paydesk_testkit::db::PgDb::create("paydesk_route").await else {
        return;
    };
    routes_by_the_orders_account(Some(&pg.url)).await;
    pg.drop_db().await;
}

async fn routes_by_the_orders_account(database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    init_workspace(dir.path(), database_url).await;
    // WX-2002 is the second WeChat Pay merchant's order (wechat-shop2, 1900000002).
    let w = Workspace::open(dir.path()).await.expect("open");
    paydesk_store::set_mirror_accounts(
        &w.config.mirror_url,
        &[("WX-2002".to_string(), "wechat-shop2".to_string())],
    )
    .await
    .expect("account");
    let sandbox = paydesk_testkit::sandbox::start(&w, &[]).await;
    for o in ORDERS {
        let account = match o.order_no {
            "WX-2002" => "wechat-shop2",
            _ => account_of(o.provider),
        };
        sandbox.add_transactions(o.provider, vec![payment_line(o, account)]);
    }
    w.db.close().await;
    point_at_sandbox(dir.path(), &sandbox.base_url, "");
    let w = Workspace::open(dir.path()).await.expect("open");

    // Naming the other merchant is refused, and nothing is recorded.
    let wrong = refunds::request_refund(&w, &support(), &input("WX-2002", Some("wechat-main")))
        .await
        .expect_err("another account than the order's");
    assert!(
        wrong.to_string().contains("wechat-shop2"),
        "the refusal names the order's account: {wrong}"
    );
    assert!(sandbox.refunds_for("WX-2002").is_empty());

    // Unnamed, each order's refund goes through its own merchant.
    for (order, account) in [("WX-2002", "wechat-shop2"), ("WX-2001", "wechat-main")] {
        let rec = refunds::request_refund(&w, &support(), &input(order, None))
            .await
            .expect("request");
        assert_eq!(rec.account, account, "{order}");
        let done = refunds::execute_refund(&w, &support(), rec.id)
            .await
            .expect("execute");
        assert_eq!(done.state, RefundState::Succeeded, "{order}: {done:?}");
        let at_provider = sandbox.refunds_for(order);
        assert_eq!(at_provider.len(), 1, "{order}: {at_provider:?}");
        assert_eq!(at_provider[0].amount, 10_00);
    }
}
