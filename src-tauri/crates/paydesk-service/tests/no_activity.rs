//! A day the provider has nothing for is a result, not a failure (issue 17, point 6): WeChat
//! Pay's `NO_STATEMENT_EXIST`, Alipay's `bill_not_exist` and a Stripe day without balance
//! transactions reconcile against an empty statement. The run is saved, the report says
//! `no_activity`, and an order we think paid that day is still 短款. On SQLite and on
//! PostgreSQL, through the workspace's sandbox.

use chrono::TimeZone;
use paydesk_core::{Actor, BillDate, Currency, Provider, Role};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_testkit::db::backends;
use paydesk_testkit::workspace::{add_mirror_orders, paid_order};

/// A day the sandbox has no lines for.
fn quiet_day() -> BillDate {
    BillDate::parse("2019-02-19").expect("date")
}

#[tokio::test]
async fn a_day_without_activity_is_reconciled_against_an_empty_statement() {
    for db in backends("quiet.db", "paydesk_quiet").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("ws");
        let w = paydesk_testkit::workspace::demo_workspace(&dir, Some(db.url())).await;
        // The workspace's sandbox without any transaction: every day is quiet.
        let sandbox = paydesk_testkit::sandbox::start(&w, &[]).await;
        w.db.close().await;
        paydesk_testkit::refunds::point_at_sandbox(&dir, &sandbox.base_url, "");
        let w = Workspace::open(&dir).await.expect("open");
        let admin = Actor::new("admin", [Role::Admin]);
        let paid_at = chrono::Utc
            .with_ymd_and_hms(2019, 2, 19, 6, 0, 0)
            .single()
            .expect("time");
        add_mirror_orders(
            &w,
            &[(
                "wechat-main",
                paid_order(
                    "QUIET-WX-1",
                    Provider::Wechat,
                    4_200,
                    Currency::CNY,
                    paid_at,
                ),
            )],
        )
        .await;

        for (account, our_order) in [
            ("wechat-main", Some("QUIET-WX-1")),
            ("stripe-main", None),
            ("alipay-main", None),
        ] {
            let report =
                reconcile_account(&w, account, quiet_day(), None, DryRun::No, &admin, &Silent)
                    .await
                    .unwrap_or_else(|e| panic!("{account}: a quiet day is no failure: {e}"));
            assert!(report.statement.no_activity, "{account}: {report:?}");
            assert_eq!(report.statement.lines, 0, "{account}");
            assert_eq!(report.statement.file, "no-activity-2019-02-19");
            assert!(report.run_id.is_some(), "{account}: the run is saved");
            assert!(report.statement.statement_id.is_some(), "{account}");
            let order_only: Vec<_> = report
                .discrepancies
                .iter()
                .filter(|d| d.class == paydesk_core::OutcomeClass::OrderOnly)
                .filter_map(|d| d.order_no.as_deref())
                .collect();
            // What we think was paid that day and the provider never saw is still 短款.
            assert_eq!(
                order_only,
                our_order.into_iter().collect::<Vec<_>>(),
                "{account}"
            );
            assert_eq!(report.counts["matched"], 0);

            // The same answer again is the same (empty) statement.
            let again =
                reconcile_account(&w, account, quiet_day(), None, DryRun::No, &admin, &Silent)
                    .await
                    .expect("again");
            assert!(
                again.statement.unchanged,
                "{account}: {:?}",
                again.statement
            );
            assert!(again.statement.no_activity);
        }
        w.db.close().await;
        sandbox.shutdown().await;
        db.drop_db().await;
    }
}
