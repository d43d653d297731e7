//! Parser throughput: 1,000,000 lines per format, written with the crate's own writers into
//! memory, then parsed with the streaming reader. `cargo bench -p paydesk-providers --bench parse`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_arithmetic)]

use chrono::{TimeZone, Utc};
use paydesk_core::domain::{BillDate, LineKind, Provider, SourceRef, StatementLine};
use paydesk_core::money::Currency;
use paydesk_providers::statement::*;
use std::time::Instant;

fn lines(n: usize) -> Vec<StatementLine> {
    let base = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            let refund = i % 10 == 9;
            let amount = 100 + (i as i64 * 7919) % 1_000_000;
            let fee = amount * 6; // 0.6% in thousandths of a fen
            StatementLine {
                payment_intent_id: None,
                presentment: None,
                provider: Provider::Wechat,
                account: "bench".into(),
                provider_txn_id: format!("42000002632019{i:014}").into(),
                merchant_order_no: Some(format!("SO-{i:010}").into()),
                kind: if refund {
                    LineKind::Refund
                } else {
                    LineKind::Payment
                },
                gross: if refund { -amount } else { amount },
                fee_milli: if refund { 0 } else { fee },
                net: if refund {
                    -amount
                } else {
                    amount - paydesk_core::money::milli_to_minor_rounded(fee)
                },
                currency: Currency::CNY,
                provider_time: base + chrono::Duration::milliseconds(i as i64 * 86),
                provider_refund_id: (refund.then(|| format!("5000070967{i:019}"))).map(Into::into),
                merchant_refund_no: (refund.then(|| format!("RF-{i:010}"))).map(Into::into),
                provider_status: String::new().into(),
                source: SourceRef {
                    file: String::new().into(),
                    line: 0,
                },
                fee_base: None,
            }
        })
        .collect()
}

fn run(
    name: &str,
    bytes: &[u8],
    format: &StatementFormat,
    provider: Provider,
    expect: usize,
    write_secs: f64,
) {
    let ctx = ParseContext::new("bench", provider, name);
    let start = Instant::now();
    let mut count = 0usize;
    for line in StatementReader::new(bytes, format, &ctx).unwrap() {
        line.unwrap();
        count += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(count, expect);
    println!(
        "{name:<22} {count:>9} lines  {:>8.1} MB input  parse {:>6.2} s  {:>10.0} lines/s  {:>7.1} MB/s   (write {:.2} s)",
        bytes.len() as f64 / 1e6,
        secs,
        count as f64 / secs,
        bytes.len() as f64 / 1e6 / secs,
        write_secs,
    );
}

fn main() {
    let n: usize = std::env::var("BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let data = lines(n);
    println!("statement parse benchmark, {n} lines per format (release build, single thread)");

    let t = Instant::now();
    let zip = write_alipay_bill_zip(
        &data,
        "2088021109625633",
        BillDate::parse("2026-11-22").unwrap(),
    )
    .unwrap();
    let w = t.elapsed().as_secs_f64();
    run(
        "alipay zip (GBK)",
        &zip,
        &StatementFormat::AlipayTradeBill,
        Provider::Alipay,
        n,
        w,
    );
    drop(zip);

    let t = Instant::now();
    let mut csv = Vec::new();
    write_alipay_bill_csv(
        &data,
        "2088021109625633",
        BillDate::parse("2026-11-22").unwrap(),
        &mut csv,
    )
    .unwrap();
    let w = t.elapsed().as_secs_f64();
    run(
        "alipay csv (GBK)",
        &csv,
        &StatementFormat::AlipayTradeBill,
        Provider::Alipay,
        n,
        w,
    );
    drop(csv);

    let t = Instant::now();
    let mut wx = Vec::new();
    write_wechat_bill(&data, &mut wx).unwrap();
    let w = t.elapsed().as_secs_f64();
    run(
        "wechat trade bill",
        &wx,
        &StatementFormat::WechatTradeBill,
        Provider::Wechat,
        n,
        w,
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &wx).unwrap();
    drop(wx);
    let gz = gz.finish().unwrap();
    run(
        "wechat trade bill (gz)",
        &gz,
        &StatementFormat::WechatTradeBill,
        Provider::Wechat,
        n,
        0.0,
    );
    drop(gz);

    let t = Instant::now();
    let mut st = Vec::new();
    write_stripe_report(&data, &mut st).unwrap();
    let w = t.elapsed().as_secs_f64();
    run(
        "stripe report",
        &st,
        &StatementFormat::StripeBalanceReport,
        Provider::Stripe,
        n,
        w,
    );
    drop(st);

    let t = Instant::now();
    let mut nz = Vec::new();
    write_normalized(&data, &mut nz).unwrap();
    let w = t.elapsed().as_secs_f64();
    run(
        "normalized",
        &nz,
        &StatementFormat::Normalized,
        Provider::Manual,
        n,
        w,
    );
}
