//! The order mirror's native readers (rusqlite for a SQLite file, sqlx's PostgreSQL driver,
//! with a full scan when the day holds most of a SQLite table) give exactly the results of
//! the reader they replaced, sqlx's `Any` driver (issue 15): a generated day of 100,000
//! orders with a realistic mix of discrepancies, reconciled (dry run) through the real
//! service on a SQLite and a PostgreSQL mirror, has the same per-class counts, totals and
//! discrepancies (keys, classes, both sides, in the same order) through either reader — and
//! the same on both databases.
#![cfg(feature = "demo")]

use paydesk_core::{Actor, BillDate, Provider, Role};
use paydesk_service::context::config::Config;
use paydesk_service::context::progress::Silent;
use paydesk_service::reconcile::{self, DryRun, ReconcileRequest, RunReport, StatementInput};
use paydesk_service::sandbox::files::statement_file;
use paydesk_service::sandbox::generate::{self, GenAccount, GenerateParams, Mix};
use paydesk_store::{AppDb, MirrorMapping, OrderMirror};

const ORDERS: u64 = 100_000;

fn config_text(db_url: &str, mirror_url: &str) -> String {
    format!(
        "[app]\ndatabase_url = \"{db_url}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [mirror]\nurl = \"{mirror_url}\"\n\n\
         [[accounts]]\nname = \"wechat-main\"\nprovider = \"wechat\"\ncurrency = \"CNY\"\n\
         endpoint = \"file\"\n[accounts.credentials]\nmchid = \"1900000001\"\n"
    )
}

/// What a finance team sees of a run: counts, totals and every discrepancy in order.
fn seen(report: &RunReport) -> String {
    let mut v = serde_json::json!({
        "counts": report.counts,
        "totals": report.totals,
        "discrepancies": report.discrepancies,
        "carry_overs_closed": report.carry_overs_closed,
    });
    if let Some(o) = v.as_object_mut() {
        o.insert("lines".into(), report.statement.lines.into());
    }
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_readers_read_what_the_any_reader_read_on_both_databases() {
    let date = BillDate::parse("2026-11-22").expect("date");
    let day = generate::generate(&GenerateParams {
        orders: ORDERS,
        date,
        seed: 7,
        mix: Mix::realistic(),
        accounts: vec![GenAccount::new("wechat-main", Provider::Wechat)],
    });
    let lines = day.lines.get("wechat-main").cloned().unwrap_or_default();
    assert!(lines.len() as u64 >= ORDERS, "{} lines", lines.len());

    let dir = paydesk_testkit::dirs::temp_dir();
    let app_db_url = format!("sqlite://{}", dir.path().join("paydesk.db").display());
    let mut results: Vec<(String, String)> = Vec::new();
    for mirror_db in paydesk_testkit::db::backends("orders.db", "paydesk_readers").await {
        let mirror_url = mirror_db.url().to_string();
        paydesk_store::create_default_mirror(&mirror_url)
            .await
            .expect("mirror");
        paydesk_store::insert_mirror_rows(&mirror_url, &day.orders, &day.refunds)
            .await
            .expect("mirror rows");
        let config =
            Config::parse(&config_text(&app_db_url, &mirror_url), dir.path()).expect("config");
        let db = AppDb::open(&app_db_url).await.expect("app db");
        let account = config.account("wechat-main").expect("account");
        let (file_name, bytes) = statement_file(account, date, &lines).expect("statement");
        let native = OrderMirror::open(&mirror_url, MirrorMapping::default())
            .await
            .expect("native mirror");
        let any = OrderMirror::open_through_any(&mirror_url, MirrorMapping::default())
            .await
            .expect("any mirror");
        for (reader, mirror) in [("native", &native), ("any", &any)] {
            let report = reconcile::reconcile(
                &config,
                &db,
                mirror,
                &ReconcileRequest {
                    account: "wechat-main".into(),
                    date,
                    statement: StatementInput::Downloaded {
                        file_name: file_name.clone(),
                        bytes: bytes.clone(),
                        source: "test".into(),
                    },
                    dry_run: DryRun::Yes,
                    actor: Actor::new("finance", [Role::Admin]),
                    lock_wait: std::time::Duration::from_secs(10),
                },
                &Silent,
            )
            .await
            .unwrap_or_else(|e| panic!("{reader} reader on {mirror_url}: {e}"));
            // The generator planted about 2% discrepancies: the comparison compares something.
            assert!(
                report.discrepancies.len() as u64 > ORDERS / 100,
                "{} discrepancies",
                report.discrepancies.len()
            );
            let backend = if mirror_db.is_pg() {
                "postgres"
            } else {
                "sqlite"
            };
            results.push((format!("{backend}/{reader}"), seen(&report)));
        }
        mirror_db.drop_db().await;
    }
    assert!(
        results.len() >= 2 + usize::from(paydesk_testkit::ci::is_ci()) * 2,
        "{} runs",
        results.len()
    );
    let (first_name, first) = &results[0];
    for (name, result) in &results[1..] {
        assert!(
            result == first,
            "{name} differs from {first_name}:\n{}\n---\n{}",
            &result[..result.len().min(2000)],
            &first[..first.len().min(2000)]
        );
    }
}
