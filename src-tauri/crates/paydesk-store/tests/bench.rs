//! Bench-like: persists 100k statement lines and 100k run outcomes on each database and
//! prints rows/s. Not a timed assertion. For 1,000,000 lines in release mode:
//! `cargo run -p paydesk-store --release --example store_bench -- 1000000 [URL]`.

#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use paydesk_core::{MatchRule, OutcomeClass};
use paydesk_store::{AppDb, CarryOverCloses, OutcomeRow};
use std::time::{Duration, Instant};

db_tests!(bench_100k_lines);

async fn bench_100k_lines(url: String) {
    const N: u64 = 100_000;
    let db = AppDb::open(&url).await.expect("open");
    let backend = format!("{:?}", db.backend());
    let d = date("2024-05-01");
    let lines: Vec<_> = (0..N).map(line).collect();

    let t = Instant::now();
    let saved = db
        .save_statement(&statement("alipay-main", d, "bench"), &lines)
        .await
        .expect("save");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "[bench {backend}] save_statement: {N} lines in {secs:.2} s = {:.0} rows/s",
        N as f64 / secs
    );
    assert_eq!(saved.line_count, N);

    let t = Instant::now();
    let back = db.statement_lines(saved.id).await.expect("read");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "[bench {backend}] statement_lines: {N} lines in {secs:.2} s = {:.0} rows/s",
        N as f64 / secs
    );
    assert_eq!(back.len() as u64, N);
    assert_eq!(back[12_345], lines[12_345]);

    let outcomes: Vec<OutcomeRow> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| OutcomeRow {
            seq: i as u64,
            class: OutcomeClass::Matched,
            rule: MatchRule::MerchantOrderNo,
            line_no: Some(l.source.line),
            provider_txn_id: Some(l.provider_txn_id.to_string()),
            order_no: l.merchant_order_no.clone().map(|s| s.to_string()),
            refund_no: l.merchant_refund_no.clone().map(|s| s.to_string()),
            discrepancy_key: None,
        })
        .collect();
    let ds: Vec<_> = (0..5_000)
        .map(|i| {
            nd(
                "alipay-main",
                d,
                draft(&format!("order:SO-{i}"), OutcomeClass::OrderOnly, -i),
            )
        })
        .collect();
    let lock = db
        .try_lock_run("alipay-main", d, "bench", Duration::from_secs(600))
        .await
        .expect("lock");
    let t = Instant::now();
    db.save_run(
        &lock,
        &new_run("alipay-main", d, saved.id, "bench"),
        &outcomes,
        &ds,
        &CarryOverCloses::default(),
    )
    .await
    .expect("run");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "[bench {backend}] save_run: {N} outcomes + 5000 discrepancies in {secs:.2} s = {:.0} outcome rows/s",
        N as f64 / secs
    );
    let t = Instant::now();
    db.save_run(
        &lock,
        &new_run("alipay-main", d, saved.id, "bench"),
        &outcomes,
        &ds,
        &CarryOverCloses::default(),
    )
    .await
    .expect("re-run");
    println!(
        "[bench {backend}] save_run (re-run, 5000 existing discrepancies): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    db.unlock_run(lock).await.expect("unlock");
}
