//! A line matched on something other than its gross says what was compared (issue 14,
//! point 4): a WeChat Pay order paid with a 免充值代金券 matches on 订单金额, its fee is
//! checked on 应结订单金额, and the run report says so in both languages.

use chrono::TimeZone;
use paydesk_core::{Actor, BillDate, Currency, MatchRule, Provider, Role};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_testkit::db::backends;
use paydesk_testkit::workspace::{add_mirror_orders, paid_order};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures")
}

/// The demo workspace with wechat-main as the fixture bill's merchant, and the coupon order
/// in the mirror.
async fn workspace(dir: &Path, url: &str) -> Workspace {
    drop(paydesk_testkit::workspace::demo_workspace(dir, Some(url)).await);
    let path = dir.join("paydesk.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        text.replace("mchid = \"1900000001\"", "mchid = \"1921000401\""),
    )
    .expect("write config");
    let w = Workspace::open(dir).await.expect("open");
    let paid = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2019, 2, 19, 18, 19, 30)
        .single()
        .expect("time")
        .with_timezone(&chrono::Utc);
    // The demo has two WeChat Pay merchants: the order is wechat-main's.
    add_mirror_orders(
        &w,
        &[(
            "wechat-main",
            paid_order(
                "autotest_20190219181930_76386",
                Provider::Wechat,
                10_000,
                Currency::CNY,
                paid,
            ),
        )],
    )
    .await;
    w
}

#[tokio::test]
async fn a_coupon_order_says_what_was_compared() {
    for db in backends("notes.db", "paydesk_notes").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let w = workspace(&tmp.path().join("ws"), db.url()).await;
        let report = reconcile_account(
            &w,
            "wechat-main",
            BillDate::parse("2019-02-19").expect("date"),
            Some(fixtures().join("fee_base/wechat_coupon_20190219_ALL.csv")),
            DryRun::Yes,
            &Actor::new("admin", [Role::Admin]),
            &Silent,
        )
        .await
        .expect("reconcile");
        let note = report
            .matched_notes
            .iter()
            .find(|n| n.order_no.as_deref() == Some("autotest_20190219181930_76386"))
            .unwrap_or_else(|| {
                panic!(
                    "no note for the coupon order: {:?} {:?} {:?}",
                    report.matched_notes, report.counts, report.discrepancies
                )
            });
        assert_eq!(note.rule, MatchRule::MerchantOrderNo);
        assert_eq!(
            note.text,
            "matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%"
        );
        assert_eq!(
            note.text_zh,
            "按 订单金额 100.00 匹配；手续费 0.54，按 应结订单金额 90.00 × 0.60%"
        );
        assert!(
            !report
                .discrepancies
                .iter()
                .any(|d| d.order_no.as_deref() == Some("autotest_20190219181930_76386")),
            "the coupon order is no discrepancy: {:?}",
            report.discrepancies
        );
        // A plain match by the merchant's own number on the gross needs no note.
        assert!(report.matched_notes.iter().all(|n| n.order_no.as_deref()
            == Some("autotest_20190219181930_76386")
            || n.rule != MatchRule::MerchantOrderNo));
        db.drop_db().await;
    }
}
