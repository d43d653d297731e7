//! The demo's settlement (资金对账): fund flows downloaded from the sandbox, bank statements
//! generated and imported, every settlement class found; and the service's download of one
//! account's fund flows through its endpoint (`settlement::download`).
#![cfg(feature = "demo")]

use paydesk_core::{Actor, BillDate, Role};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace;

fn date() -> BillDate {
    BillDate::parse("2026-11-20").unwrap_or(BillDate(chrono::NaiveDate::MIN))
}

#[tokio::test]
async fn the_demo_shows_every_settlement_class_and_again_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = dir.path().join("demo");
    let summary = paydesk_service::demo::run_demo(&ws, date(), &Silent)
        .await
        .expect("demo");
    let totals = &summary.settlement_totals;
    for class in [
        "payout_not_arrived",
        "bank_credit_without_payout",
        "payout_amount_mismatch",
        "composition_mismatch",
        "balance_break",
        "payout_fee_differs",
        "trade_flow_mismatch",
    ] {
        assert_eq!(totals.get(class), Some(&1), "{class}: {totals:?}");
    }
    // The batched credit waits for a reviewer as one grouped suggestion.
    assert_eq!(totals.get("suggestion"), Some(&1), "{totals:?}");
    let names: Vec<&str> = summary
        .settlements
        .iter()
        .map(|s| s.bank_account.as_str())
        .collect();
    assert_eq!(names, ["cmb-main", "stripe-bank"]);
    let cny = &summary.settlements[0];
    assert!(cny.bank_file.ends_with(".xlsx"));
    assert_eq!(cny.arrivals.get("not_arrived"), Some(&1));
    assert_eq!(cny.arrivals.get("suggested"), Some(&2));
    assert!(cny.arrivals.get("arrived").is_some_and(|n| *n >= 10));
    let usd = &summary.settlements[1];
    assert!(usd.bank_file.ends_with(".camt053.xml"));
    assert!(std::path::Path::new(&usd.bank_file).is_file());

    // Again on the same workspace: flows and bank lines are known, the result the same.
    let again = paydesk_service::demo::run_demo(&ws, date(), &Silent)
        .await
        .expect("demo again");
    assert_eq!(&again.settlement_totals, totals);
}

#[tokio::test]
async fn a_download_through_the_accounts_endpoint_saves_the_days_flows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = workspace::open_or_create_demo(&dir.path().join("ws"))
        .await
        .expect("workspace");
    let actor = Actor::new("finance", [Role::Finance]);
    let day = date().0;
    let report =
        paydesk_service::settlement::download::download_fund_flows(&w, &actor, "alipay-main", day)
            .await
            .expect("download");
    assert_eq!(report.account, "alipay-main");
    assert_eq!(report.layout, "alipay_account_log");
    assert!(report.summary_checked);
    assert!(report.flows > 0);
    assert_eq!(report.new_flows, report.flows);
    // The 提现 of the day before's net.
    assert_eq!(report.payouts, 1);
    // The same day again: nothing new.
    let again =
        paydesk_service::settlement::download::download_fund_flows(&w, &actor, "alipay-main", day)
            .await
            .expect("download again");
    assert_eq!((again.flows, again.new_flows), (report.flows, 0));

    // Someone who may not run reconciliations may not download either.
    let support = Actor::new("support", [Role::Support]);
    let e = paydesk_service::settlement::download::download_fund_flows(
        &w,
        &support,
        "stripe-main",
        day,
    )
    .await
    .expect_err("denied");
    assert_eq!(e.code(), "denied", "{e}");
    let e = paydesk_service::settlement::download::download_fund_flows(&w, &actor, "nope", day)
        .await
        .expect_err("unknown account");
    assert_eq!(e.code(), "bad_input", "{e}");
}
