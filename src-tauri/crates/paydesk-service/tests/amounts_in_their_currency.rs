//! Every amount in its own currency (issue 17, point 2): a currency mismatch keeps both
//! sides' currencies, has no difference ("not comparable", stored as 0) but puts its amount
//! at stake; the review table sorts it by that amount and the dashboard sums it per currency
//! for the open discrepancies only. On SQLite and on PostgreSQL, through a real run.

use chrono::{TimeZone, Utc};
use paydesk_core::{
    Actor, BillDate, Currency, DiscrepancyFilter, LineKind, OutcomeClass, Provider, ReviewChange,
    ReviewState, Role, SourceRef, StatementLine,
};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_store::DiscrepancySort;
use paydesk_testkit::db::backends;
use paydesk_testkit::workspace::{add_mirror_orders, paid_order};
use std::path::Path;

fn eur() -> Currency {
    Currency::parse("EUR").expect("EUR")
}

fn day() -> BillDate {
    BillDate::parse("2026-11-22").expect("date")
}

fn at(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, 0, 0)
        .single()
        .expect("time")
}

fn line(txn: &str, order_no: &str, gross: i64, currency: Currency, n: u64) -> StatementLine {
    StatementLine {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        provider_txn_id: txn.into(),
        merchant_order_no: Some(order_no.into()),
        kind: LineKind::Payment,
        gross,
        fee_milli: 0,
        net: gross,
        currency,
        provider_time: at(10),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "available".into(),
        source: SourceRef {
            file: "t.csv".into(),
            line: n,
        },
        payment_intent_id: None,
        presentment: None,
        fee_base: None,
    }
}

/// The demo workspace with two Stripe orders in the mirror and a statement that settles one
/// in another currency and the other 1.00 short.
async fn workspace(dir: &Path, url: &str) -> (Workspace, std::path::PathBuf) {
    let w = paydesk_testkit::workspace::demo_workspace(dir, Some(url)).await;
    add_mirror_orders(
        &w,
        &[
            (
                "stripe-main",
                paid_order("CUR-1", Provider::Stripe, 94_347, Currency::USD, at(10)),
            ),
            (
                "stripe-main",
                paid_order("AMT-1", Provider::Stripe, 1_000, Currency::USD, at(10)),
            ),
        ],
    )
    .await;
    let lines = [
        line("ch_cur1", "CUR-1", 94_347, eur(), 2),
        line("ch_amt1", "AMT-1", 900, Currency::USD, 3),
    ];
    let file = dir.join("stripe-2026-11-22.csv");
    let mut out = Vec::new();
    paydesk_providers::statement::write_normalized(lines.iter(), &mut out).expect("write");
    std::fs::write(&file, out).expect("statement");
    (w, file)
}

/// The stripe-main card of the dashboard of the day.
async fn stripe_card(w: &Workspace, admin: &Actor) -> paydesk_service::dashboard::AccountCard {
    let dash = paydesk_service::dashboard::dashboard(w, admin, day(), 1, None)
        .await
        .expect("dashboard");
    dash.accounts
        .into_iter()
        .find(|a| a.account == "stripe-main")
        .expect("card")
}

#[tokio::test]
async fn a_currency_mismatch_is_at_stake_in_its_own_currency() {
    for db in backends("currencies.db", "paydesk_currencies").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let (w, file) = workspace(&tmp.path().join("ws"), db.url()).await;
        let admin = Actor::new("admin", [Role::Admin]);
        let report = reconcile_account(
            &w,
            "stripe-main",
            day(),
            Some(file),
            DryRun::No,
            &admin,
            &Silent,
        )
        .await
        .expect("reconcile");
        let cur = report
            .discrepancies
            .iter()
            .find(|d| d.order_no.as_deref() == Some("CUR-1"))
            .expect("the currency mismatch");
        assert_eq!(cur.class, OutcomeClass::CurrencyMismatch);
        assert_eq!(
            (
                cur.provider_currency.as_deref(),
                cur.local_currency.as_deref()
            ),
            (Some("EUR"), Some("USD"))
        );
        assert!(!cur.comparable);
        assert_eq!(cur.difference, 0);

        let filter = DiscrepancyFilter {
            account: Some("stripe-main".into()),
            ..Default::default()
        };
        let by_amount =
            w.db.list_discrepancies(&filter, DiscrepancySort::AmountDesc, 50, 0)
                .await
                .expect("list");
        let first = by_amount.first().expect("rows");
        // 943.47 at stake sorts before a 1.00 difference (it sorted last as |0|).
        assert_eq!(first.order_no.as_deref(), Some("CUR-1"), "{by_amount:?}");
        assert_eq!(first.provider_currency, Some(eur()));
        assert_eq!(first.local_currency, Some(Currency::USD));
        assert_eq!(first.amount_at_stake, 94_347);
        // The explanation in both languages (issue 17, point 3).
        assert!(
            first
                .explanation
                .contains("provider currency EUR but order currency USD"),
            "{}",
            first.explanation
        );
        assert_eq!(
            first
                .explanation_zh
                .as_deref()
                .map(|s| s.split('；').next()),
            Some(Some("渠道币种为 EUR，订单币种为 USD"))
        );
        assert_eq!(
            (first.provider_amount, first.local_amount),
            (Some(94_347), Some(94_347))
        );
        let amt = by_amount
            .iter()
            .find(|r| r.order_no.as_deref() == Some("AMT-1"))
            .expect("the amount mismatch");
        assert_eq!((amt.difference, amt.amount_at_stake), (-100, 100));
        // The minimum-amount filter is on the amount at stake too.
        let big =
            w.db.list_discrepancies(
                &DiscrepancyFilter {
                    min_abs_difference: Some(50_000),
                    ..filter.clone()
                },
                DiscrepancySort::AmountDesc,
                50,
                0,
            )
            .await
            .expect("list big");
        assert_eq!(
            big.iter().map(|r| r.order_no.clone()).collect::<Vec<_>>(),
            vec![Some("CUR-1".to_string())]
        );

        // The dashboard: what the open discrepancies put at stake, per currency.
        let card = stripe_card(&w, &admin).await;
        assert_eq!(card.open_amounts.get("EUR"), Some(&94_347), "{card:?}");
        assert_eq!(card.open_amounts.get("USD"), Some(&100), "{card:?}");
        let dash = paydesk_service::dashboard::dashboard(&w, &admin, day(), 1, None)
            .await
            .expect("dashboard");
        assert_eq!(dash.daily[0].unmatched.get("EUR"), Some(&94_347));

        // Resolved, it is no longer at stake on the card (the day's series still counts it).
        let id = first.id;
        paydesk_service::review::update(
            &w,
            &admin,
            id,
            &ReviewChange {
                state: Some(ReviewState::Resolved),
                resolution: Some(paydesk_core::ResolutionKind::WrittenOff),
                note: Some("converted at the card network's rate".into()),
                assignee: None,
            },
        )
        .await
        .expect("resolve");
        let card = stripe_card(&w, &admin).await;
        assert_eq!(card.open_amounts.get("EUR"), None, "{card:?}");
        assert_eq!(card.open_amounts.get("USD"), Some(&100));
        w.db.close().await;
        db.drop_db().await;
    }
}
