//! Persists N synthetic statement lines (default 1,000,000) and prints rows/s.
//!
//! `cargo run -p paydesk-store --release --example store_bench -- [N] [DB_URL]`
//! DB_URL defaults to a SQLite file in a temp directory.

#![allow(clippy::float_arithmetic)]

use chrono::{TimeZone, Utc};
use paydesk_core::{BillDate, Currency, LineKind, Provider, SourceRef, StatementLine};
use paydesk_store::{AppDb, NewStatement};
use std::time::Instant;

fn line(i: u64) -> StatementLine {
    let refund = i % 7 == 3;
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: Provider::Alipay,
        account: "alipay-main".into(),
        provider_txn_id: format!("2024050122001{i:010}").into(),
        merchant_order_no: Some(format!("SO-{i}").into()),
        kind: if refund {
            LineKind::Refund
        } else {
            LineKind::Payment
        },
        gross: if refund {
            -((i % 5000) as i64) - 1
        } else {
            (i % 100_000) as i64 + 1
        },
        fee_milli: (i % 1000) as i64 * 7,
        net: (i % 100_000) as i64 - 3,
        currency: Currency::CNY,
        provider_time: Utc
            .timestamp_millis_opt(1_714_521_600_000 + i as i64 * 86)
            .single()
            .unwrap_or_default(),
        provider_refund_id: (refund.then(|| format!("RFID-{i}"))).map(Into::into),
        merchant_refund_no: (refund.then(|| format!("RF-{i}"))).map(Into::into),
        provider_status: if refund {
            "退款".into()
        } else {
            "交易".into()
        },
        source: SourceRef {
            file: "20240501_alipay.csv".into(),
            line: i + 5,
        },
        fee_base: None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let db = AppDb::open(&url).await?;
    let lines: Vec<StatementLine> = (0..n).map(line).collect();
    let date = BillDate::parse("2024-05-01")?;
    let st = NewStatement {
        account: "alipay-main".into(),
        provider: Provider::Alipay,
        bill_date: date,
        file_name: "20240501_alipay.csv".into(),
        format: "alipay_csv".into(),
        content_sha256: uuid::Uuid::new_v4().to_string(),
        source: "file".into(),
        imported_by: "bench".into(),
    };
    let t = Instant::now();
    let saved = db.save_statement(&st, &lines).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:?}: saved {n} statement lines in {secs:.2} s = {:.0} rows/s",
        db.backend(),
        n as f64 / secs
    );
    let t = Instant::now();
    let back = db.statement_lines(saved.id).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{:?}: read {} lines back in {secs:.2} s = {:.0} rows/s",
        db.backend(),
        back.len(),
        back.len() as f64 / secs
    );
    Ok(())
}
