//! Test harness: every scenario runs against a SQLite temp file and a fresh PostgreSQL
//! database (`CREATE DATABASE paydesk_t_<uuid>`, dropped afterwards).
//!
//! PostgreSQL: `PAYDESK_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Unreachable → the test fails when `CI` is set, otherwise it prints a loud skip notice.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paydesk_core::{
    BillDate, Currency, DiscrepancyDraft, LineKind, MatchRule, OutcomeClass, Provider, SourceRef,
    StatementLine,
};
use paydesk_store::{NewDiscrepancy, NewRun, NewStatement, OutcomeRow};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::future::Future;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("PAYDESK_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
}

/// Runs `f` with the URL of a fresh SQLite file.
pub async fn run_sqlite<F, Fut>(f: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("paydesk-test.db");
    let url = format!("sqlite://{}", path.display());
    f(url).await;
    drop(dir);
}

/// A fresh PostgreSQL database, or None (skip) when the server is unreachable outside CI.
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> Option<PgDb> {
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("CI").is_some() {
                    panic!(
                        "PostgreSQL test database at {admin} is unreachable and CI is set, so \
                         this is a failure, not a skip: {e}. Start PostgreSQL or set \
                         PAYDESK_TEST_PG_URL."
                    );
                }
                eprintln!(
                    "\n\
                     ##################################################################\n\
                     ## SKIPPING PostgreSQL half of this test: cannot connect to      ##\n\
                     ## {admin}\n\
                     ## ({e})\n\
                     ## Set PAYDESK_TEST_PG_URL or start PostgreSQL. With CI set this ##\n\
                     ## is a failure.                                                ##\n\
                     ##################################################################\n"
                );
                return None;
            }
        };
        let name = format!("paydesk_t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin).expect("PAYDESK_TEST_PG_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(PgDb {
            url: url.to_string(),
            admin,
            name,
        })
    }

    pub async fn drop_db(self) {
        if let Ok(mut conn) = sqlx::AnyConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// Runs `f` with the URL of a fresh PostgreSQL database, dropping it afterwards even when
/// `f` panics.
pub async fn run_pg<F, Fut>(f: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = PgDb::create().await else {
        return;
    };
    let result = tokio::spawn(f(db.url.clone())).await;
    db.drop_db().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Declares `mod name { sqlite(), postgres() }` test pairs for `async fn name(url: String)`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::common::run_sqlite(super::$name).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::common::run_pg(super::$name).await;
                }
            }
        )*
    };
}

pub fn date(s: &str) -> BillDate {
    BillDate(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

pub fn line(i: u64) -> StatementLine {
    let refund = i % 7 == 3;
    StatementLine {
        provider: Provider::Alipay,
        account: "alipay-main".into(),
        provider_txn_id: format!("2024050122001{i:010}"),
        merchant_order_no: if i % 11 == 5 {
            None
        } else {
            Some(format!("SO-{i}"))
        },
        kind: if refund {
            LineKind::Refund
        } else {
            LineKind::Payment
        },
        gross: if refund {
            -(i as i64 % 5000) - 1
        } else {
            (i as i64 % 100_000) + 1
        },
        fee_milli: (i as i64 % 1000) * 7,
        net: (i as i64 % 100_000) - 3,
        currency: if i.is_multiple_of(13) {
            Currency::USD
        } else {
            Currency::CNY
        },
        provider_time: Utc
            .timestamp_millis_opt(1_714_521_600_000 + (i as i64) * 1_237)
            .single()
            .expect("time"),
        provider_refund_id: refund.then(|| format!("RFID-{i}")),
        merchant_refund_no: refund.then(|| format!("RF-{i}")),
        provider_status: if refund {
            "退款".into()
        } else {
            "交易".into()
        },
        source: SourceRef {
            file: "20240501_alipay.csv".into(),
            line: i + 5,
        },
    }
}

pub fn statement(account: &str, d: BillDate, sha: &str) -> NewStatement {
    NewStatement {
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        file_name: "20240501_alipay.csv".into(),
        format: "alipay_csv".into(),
        content_sha256: sha.into(),
        source: "file".into(),
        imported_by: "amy".into(),
    }
}

pub fn new_run(account: &str, d: BillDate, statement_id: i64, by: &str) -> NewRun {
    let mut counts = BTreeMap::new();
    counts.insert(OutcomeClass::Matched, 10);
    counts.insert(OutcomeClass::OrderOnly, 2);
    NewRun {
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        statement_id,
        statement_sha256: "abc".into(),
        started_by: by.into(),
        started_at: at("2024-05-02T01:00:00.123Z"),
        finished_at: at("2024-05-02T01:00:05.456Z"),
        counts,
        totals_json: serde_json::json!({"gross": 12345, "currency": "CNY"}),
    }
}

pub fn draft(key: &str, class: OutcomeClass, difference: i64) -> DiscrepancyDraft {
    let order_no = key
        .strip_prefix("order:")
        .map(str::to_string)
        .or_else(|| Some(format!("SO-{key}")));
    DiscrepancyDraft {
        key: key.into(),
        class,
        rule: MatchRule::MerchantOrderNo,
        order_no,
        provider_txn_id: Some(format!("TXN-{key}")),
        refund_no: key.strip_prefix("refund:").map(str::to_string),
        currency: Currency::CNY,
        provider_amount: Some(1000 + difference),
        local_amount: Some(1000),
        difference,
        provider_currency: Some(Currency::CNY),
        local_currency: Some(Currency::CNY),
        provider_time: Some(at("2024-05-01T10:00:00Z")),
        local_time: Some(at("2024-05-01T09:59:58Z")),
        evidence: Some(SourceRef {
            file: "f.csv".into(),
            line: 7,
        }),
        explanation: format!("{class} for {key}"),
    }
}

pub fn nd(account: &str, d: BillDate, dr: DiscrepancyDraft) -> NewDiscrepancy {
    NewDiscrepancy {
        draft: dr,
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        due_at: at("2024-05-04T00:00:00Z"),
    }
}

pub fn outcomes_for(ds: &[NewDiscrepancy], matched: u64) -> Vec<OutcomeRow> {
    let mut v: Vec<OutcomeRow> = (0..matched)
        .map(|i| OutcomeRow {
            seq: i,
            class: OutcomeClass::Matched,
            rule: MatchRule::MerchantOrderNo,
            line_no: Some(i + 2),
            provider_txn_id: Some(format!("T{i}")),
            order_no: Some(format!("SO-{i}")),
            refund_no: None,
            discrepancy_key: None,
        })
        .collect();
    for d in ds {
        v.push(OutcomeRow {
            seq: v.len() as u64,
            class: d.draft.class,
            rule: d.draft.rule,
            line_no: None,
            provider_txn_id: d.draft.provider_txn_id.clone(),
            order_no: d.draft.order_no.clone(),
            refund_no: d.draft.refund_no.clone(),
            discrepancy_key: Some(d.draft.key.clone()),
        });
    }
    v
}
