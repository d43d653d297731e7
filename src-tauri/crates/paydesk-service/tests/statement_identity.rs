//! A statement must be the account's statement (issue 14, point 2): another merchant's
//! WeChat Pay bill and a file for another day are refused before anything is stored; the
//! right bill for the right day is stored. On SQLite and PostgreSQL.

use paydesk_core::{Actor, BillDate, Role};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_service::ServiceError;
use paydesk_testkit::db::backends;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures")
}

fn admin() -> Actor {
    Actor::new("admin", [Role::Admin])
}

fn day(s: &str) -> BillDate {
    BillDate::parse(s).expect("date")
}

/// The demo workspace with wechat-main configured as the sample bill's merchant.
async fn workspace(dir: &Path, url: &str) -> Workspace {
    let w = paydesk_testkit::workspace::demo_workspace(dir, Some(url)).await;
    drop(w);
    let path = dir.join("paydesk.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    assert!(text.contains("mchid = \"1900000001\""));
    std::fs::write(
        &path,
        text.replace("mchid = \"1900000001\"", "mchid = \"1921000401\""),
    )
    .expect("write config");
    Workspace::open(dir).await.expect("open")
}

async fn run(w: &Workspace, date: &str, file: PathBuf) -> Result<(), ServiceError> {
    reconcile_account(
        w,
        "wechat-main",
        day(date),
        Some(file),
        DryRun::No,
        &admin(),
        &Silent,
    )
    .await
    .map(|_| ())
}

#[tokio::test]
async fn wrong_merchant_and_wrong_day_are_refused_with_nothing_stored() {
    for db in backends("identity.db", "paydesk_ident").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let w = workspace(&tmp.path().join("ws"), db.url()).await;

        // Another merchant's bill (商户号 1921000402 on every row), for the right day.
        let e = run(
            &w,
            "2019-02-19",
            fixtures().join("identity/wechat_other_merchant_20190219_ALL.csv"),
        )
        .await
        .expect_err("another merchant's bill");
        let msg = e.to_string();
        assert_eq!(e.code(), "bad_input", "{msg}");
        assert!(
            msg.contains("statement is for WeChat Pay merchant 1921000402, account wechat-main is 1921000401"),
            "{msg}"
        );

        // The account's own bill named after another merchant.
        let renamed = tmp.path().join("1921000402_20190219_ALL.csv");
        std::fs::copy(
            fixtures().join("samples/wechat/1921000401_20190219_ALL.csv"),
            &renamed,
        )
        .expect("copy");
        let msg = run(&w, "2019-02-19", renamed)
            .await
            .expect_err("named for another merchant")
            .to_string();
        assert!(
            msg.contains("statement is for WeChat Pay merchant 1921000402")
                && msg.contains("named in \"1921000402_20190219_ALL.csv\""),
            "{msg}"
        );

        // The right merchant, the adjacent day: every row is within the day's slack but none
        // is on 2019-02-20.
        let sample = fixtures().join("samples/wechat/1921000401_20190219_ALL.csv");
        let msg = run(&w, "2019-02-20", sample.clone())
            .await
            .expect_err("adjacent day's file")
            .to_string();
        assert!(
            msg.contains("none of its 8 lines is on the statement day 2019-02-20"),
            "{msg}"
        );

        for date in ["2019-02-19", "2019-02-20"] {
            let stored =
                w.db.statements("wechat-main", day(date))
                    .await
                    .expect("statements");
            assert!(stored.is_empty(), "{date}: stored {}", stored.len());
        }

        // The right bill for the right day is stored.
        run(&w, "2019-02-19", sample).await.expect("own bill");
        let stored =
            w.db.statements("wechat-main", day("2019-02-19"))
                .await
                .expect("statements");
        assert_eq!(stored.len(), 1);

        drop(w);
        db.drop_db().await;
    }
}
