//! The real-layout samples in fixtures/samples parse to exact, known values.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use paydesk_core::domain::{LineKind, Provider, StatementLine};
use paydesk_core::money::Currency;
use paydesk_providers::statement::*;
use std::path::PathBuf;

fn sample(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/samples")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ctx(provider: Provider, file: &str) -> ParseContext {
    ParseContext::new("acct-main", provider, file)
}

const ALIPAY_CSV: &str = "alipay/20880211096256330156_20190916_业务明细.csv";
const ALIPAY_ZIP: &str = "alipay/20880211096256330156_20190916.csv.zip";
const WECHAT_CSV: &str = "wechat/1921000401_20190219_ALL.csv";
const WECHAT_GZ: &str = "wechat/1921000401_20190219_ALL.csv.gz";
const STRIPE_CSV: &str = "stripe/balance_change_from_activity_itemized_2026-11-22.csv";

/// Lines without their source file name (zip/gz variants differ only there).
fn strip_file(lines: &[StatementLine]) -> Vec<StatementLine> {
    lines
        .iter()
        .cloned()
        .map(|mut l| {
            l.source.file = String::new().into();
            l
        })
        .collect()
}

#[test]
fn detects_every_sample() {
    assert_eq!(
        detect_format(&sample(ALIPAY_CSV)),
        Some(StatementFormat::AlipayTradeBill)
    );
    assert_eq!(
        detect_format(&sample(ALIPAY_ZIP)),
        Some(StatementFormat::AlipayTradeBill)
    );
    assert_eq!(
        detect_format(&sample(WECHAT_CSV)),
        Some(StatementFormat::WechatTradeBill)
    );
    assert_eq!(
        detect_format(&sample(WECHAT_GZ)),
        Some(StatementFormat::WechatTradeBill)
    );
    assert_eq!(
        detect_format(&sample(STRIPE_CSV)),
        Some(StatementFormat::StripeBalanceReport)
    );
    assert_eq!(detect_format(b"hello,world\n1,2\n"), None);
    assert_eq!(detect_format(b""), None);
}

#[test]
fn alipay_bill_parses_exactly() {
    let bytes = sample(ALIPAY_CSV);
    let p = parse_statement(
        &bytes,
        &StatementFormat::AlipayTradeBill,
        &ctx(Provider::Alipay, "bill.csv"),
    )
    .unwrap();
    assert_eq!(p.lines.len(), 10);
    assert_eq!(p.content_sha256.len(), 64);
    assert_eq!(p.content_sha256, sha256_hex(&bytes));

    let first = &p.lines[0];
    assert_eq!(first.provider, Provider::Alipay);
    assert_eq!(first.account, "acct-main");
    assert_eq!(first.kind, LineKind::Payment);
    assert_eq!(first.provider_txn_id, "2019091622001458860515315453");
    assert_eq!(
        first.merchant_order_no.as_deref(),
        Some("service_1568601259302")
    );
    assert_eq!((first.gross, first.fee_milli, first.net), (1, 0, 1));
    assert_eq!(first.currency, Currency::CNY);
    // 完成时间 2019-09-16 10:55:23 Beijing time.
    assert_eq!(
        first.provider_time,
        Utc.with_ymd_and_hms(2019, 9, 16, 2, 55, 23).unwrap()
    );
    assert_eq!(first.merchant_refund_no, None);
    assert_eq!(first.provider_status, "交易");
    assert_eq!(
        (first.source.file.as_str(), first.source.line),
        ("bill.csv", 6)
    );

    let refund = &p.lines[1];
    assert_eq!(refund.kind, LineKind::Refund);
    assert_eq!(refund.provider_txn_id, "2019091622001458860515315453");
    assert_eq!((refund.gross, refund.fee_milli, refund.net), (-1, 0, -1));
    assert_eq!(
        refund.merchant_refund_no.as_deref(),
        Some("re_test_1568602607356")
    );
    assert_eq!(
        refund.provider_time,
        Utc.with_ymd_and_hms(2019, 9, 16, 2, 56, 48).unwrap()
    );
    assert_eq!(refund.source.line, 7);

    // The row with empty store cells and a different buyer.
    let odd = &p.lines[8];
    assert_eq!(
        odd.merchant_order_no.as_deref(),
        Some("20190916165659224L3VUQRL9")
    );
    assert_eq!(odd.provider_txn_id, "2019091622001465870515233238");
    assert_eq!(odd.source.line, 14);

    let kinds: Vec<LineKind> = p.lines.iter().map(|l| l.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == LineKind::Payment).count(), 6);
    assert_eq!(kinds.iter().filter(|k| **k == LineKind::Refund).count(), 4);

    let s = p.summary.unwrap();
    assert_eq!((s.payment_count, s.payment_amount), (6, 6));
    assert_eq!((s.refund_count, s.refund_amount), (4, -4));
    assert_eq!(s.total_count, 10);
}

#[test]
fn alipay_zip_gives_the_same_lines() {
    let c = ctx(Provider::Alipay, "x");
    let plain =
        parse_statement(&sample(ALIPAY_CSV), &StatementFormat::AlipayTradeBill, &c).unwrap();
    let zipped =
        parse_statement(&sample(ALIPAY_ZIP), &StatementFormat::AlipayTradeBill, &c).unwrap();
    assert_eq!(zipped.lines, plain.lines);
    assert_eq!(zipped.summary, plain.summary);
    assert_ne!(zipped.content_sha256, plain.content_sha256);
}

#[test]
fn wechat_bill_parses_exactly() {
    let bytes = sample(WECHAT_CSV);
    let p = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "ALL.csv"),
    )
    .unwrap();
    assert_eq!(p.lines.len(), 8);

    let r = &p.lines[0];
    assert_eq!(r.kind, LineKind::Refund);
    assert_eq!(r.provider_txn_id, "4200000263201902167700134212");
    assert_eq!(
        r.merchant_order_no.as_deref(),
        Some("autotest_20190216081946_82335")
    );
    assert_eq!((r.gross, r.fee_milli, r.net), (-1, 0, -1));
    assert_eq!(
        r.provider_refund_id.as_deref(),
        Some("50000709672019011908420787722")
    );
    assert_eq!(
        r.merchant_refund_no.as_deref(),
        Some("REF4200000263201902167700963919")
    );
    assert_eq!(
        r.provider_time,
        Utc.with_ymd_and_hms(2019, 2, 18, 21, 1, 46).unwrap()
    );
    assert_eq!(r.provider_status, "REFUND");
    assert_eq!(r.source.line, 2);

    let pay = &p.lines[1];
    assert_eq!(pay.kind, LineKind::Payment);
    assert_eq!(pay.provider_txn_id, "4200000263201902167700134902");
    // 订单金额 0.03, 手续费 0.01000 (five decimals, exact), 应结订单金额 0.03.
    assert_eq!((pay.gross, pay.fee_milli, pay.net), (3, 1000, 2));
    assert_eq!(pay.fee_minor(), 1);
    assert_eq!(pay.provider_refund_id, None);
    assert_eq!(pay.merchant_refund_no, None);
    assert_eq!(pay.currency, Currency::CNY);
    assert_eq!(
        pay.provider_time,
        Utc.with_ymd_and_hms(2019, 2, 18, 17, 52, 32).unwrap()
    );

    // 23:46:48 Beijing on the 19th is 15:46:48 UTC the same day.
    let late = &p.lines[6];
    assert_eq!(
        late.provider_time,
        Utc.with_ymd_and_hms(2019, 2, 19, 15, 46, 48).unwrap()
    );
    assert_eq!((late.gross, late.fee_milli, late.net), (1, 0, 1));

    let s = p.summary.unwrap();
    assert_eq!(s.total_count, 8);
    assert_eq!((s.payment_count, s.refund_count), (6, 2));
    assert_eq!((s.payment_amount, s.refund_amount), (12, 2));
    assert_eq!(s.fee_total, Some(3));
    assert_eq!(s.order_amount, Some(12));
    assert_eq!(s.refund_requested_amount, Some(2));
}

#[test]
fn wechat_gzip_gives_the_same_lines() {
    let c = ctx(Provider::Wechat, "x");
    let plain =
        parse_statement(&sample(WECHAT_CSV), &StatementFormat::WechatTradeBill, &c).unwrap();
    let gz = parse_statement(&sample(WECHAT_GZ), &StatementFormat::WechatTradeBill, &c).unwrap();
    assert_eq!(gz.lines, plain.lines);
    assert_eq!(gz.summary, plain.summary);
    // Streaming from a reader gives the same result.
    let gz_bytes = sample(WECHAT_GZ);
    let streamed: Result<Vec<_>, _> = StatementReader::from_read(
        std::io::Cursor::new(gz_bytes),
        &StatementFormat::WechatTradeBill,
        &c,
    )
    .unwrap()
    .collect();
    assert_eq!(streamed.unwrap(), plain.lines);
}

#[test]
fn stripe_report_parses_exactly() {
    let bytes = sample(STRIPE_CSV);
    let p = parse_statement(
        &bytes,
        &StatementFormat::StripeBalanceReport,
        &ctx(Provider::Stripe, "report.csv"),
    )
    .unwrap();
    assert_eq!(p.lines.len(), 6);
    assert!(p.summary.is_none());

    let c = &p.lines[0];
    assert_eq!(c.kind, LineKind::Payment);
    assert_eq!(c.provider_txn_id, "ch_3QxA1bC2dE3fG4hI0zY9xW8v");
    assert_eq!(c.merchant_order_no.as_deref(), Some("SO-10041"));
    assert_eq!((c.gross, c.fee_milli, c.net), (2500, 103_000, 2397));
    assert_eq!(c.currency, Currency::USD);
    assert_eq!(c.provider_status, "charge");
    assert_eq!(
        c.provider_time,
        Utc.with_ymd_and_hms(2026, 11, 22, 1, 14, 9).unwrap()
    );

    let jpy = &p.lines[2];
    assert_eq!(jpy.currency, Currency::JPY);
    assert_eq!((jpy.gross, jpy.fee_milli, jpy.net), (3000, 110_000, 2890));

    let refund = &p.lines[3];
    assert_eq!(refund.kind, LineKind::Refund);
    assert_eq!(refund.provider_txn_id, "ch_3QxA1bC2dE3fG4hI0zY9xW8v");
    assert_eq!(
        refund.provider_refund_id.as_deref(),
        Some("re_1QxC3dE4fG5hI6jK3wV0uT9s")
    );
    assert_eq!(refund.merchant_refund_no.as_deref(), Some("RF-7781"));
    assert_eq!(refund.merchant_order_no.as_deref(), Some("SO-10041"));
    assert_eq!(
        (refund.gross, refund.fee_milli, refund.net),
        (-1000, 0, -1000)
    );

    // 23:59:58 UTC: still the 22nd in UTC (the 23rd in UTC+8).
    let late = &p.lines[4];
    assert_eq!(
        late.provider_time,
        Utc.with_ymd_and_hms(2026, 11, 22, 23, 59, 58).unwrap()
    );
    assert_eq!(late.merchant_order_no.as_deref(), Some("SO-10044"));
    assert_eq!(
        (late.gross, late.fee_milli, late.net),
        (4999, 1_750_000 / 10, 4824)
    );
    assert_eq!(late.source.line, 6);

    let dispute = &p.lines[5];
    assert_eq!(dispute.kind, LineKind::Adjustment);
    assert_eq!(dispute.provider_status, "dispute");
    assert_eq!(dispute.provider_txn_id, "ch_1Qw99fG6hI7jK8lM5tS3rQ2p");
    assert_eq!((dispute.gross, dispute.net), (-1500, -1500));
}

#[test]
fn stripe_metadata_columns_are_configurable() {
    let bytes = sample(STRIPE_CSV);
    let opts = ParseOptions {
        stripe_order_column: "payment_intent_id".into(),
        ..ParseOptions::default()
    };
    let p = parse_statement_with(
        &bytes,
        &StatementFormat::StripeBalanceReport,
        &ctx(Provider::Stripe, "r.csv"),
        &opts,
    )
    .unwrap();
    assert_eq!(
        p.lines[0].merchant_order_no.as_deref(),
        Some("pi_3QxA1bC2dE3fG4hI0qR7sT6u")
    );
}

#[test]
fn samples_survive_a_write_parse_round_trip() {
    let c = ctx(Provider::Alipay, "x");
    let ali = parse_statement(&sample(ALIPAY_CSV), &StatementFormat::AlipayTradeBill, &c).unwrap();
    let date = paydesk_core::domain::BillDate::parse("2019-09-16").unwrap();
    let zip = write_alipay_bill_zip(&ali.lines, "2088021109625633", date).unwrap();
    let again = parse_statement(&zip, &StatementFormat::AlipayTradeBill, &c).unwrap();
    assert_eq!(strip_lines(&again.lines), strip_lines(&ali.lines));
    assert_eq!(again.summary, ali.summary);

    let c = ctx(Provider::Wechat, "x");
    let wx = parse_statement(&sample(WECHAT_CSV), &StatementFormat::WechatTradeBill, &c).unwrap();
    let mut out = Vec::new();
    write_wechat_bill(&wx.lines, &mut out).unwrap();
    let again = parse_statement(&out, &StatementFormat::WechatTradeBill, &c).unwrap();
    assert_eq!(strip_lines(&again.lines), strip_lines(&wx.lines));
}

/// Lines without source (positions differ between the sample and a rewritten file).
fn strip_lines(lines: &[StatementLine]) -> Vec<StatementLine> {
    strip_file(lines)
        .into_iter()
        .map(|mut l| {
            l.source.line = 0;
            l
        })
        .collect()
}

/// A reader that hands out a few bytes at a time, as a slow network or pipe does.
struct Trickle(std::io::Cursor<Vec<u8>>, usize);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

/// A streamed statement's hash (computed on a thread of its own) is the hash of its bytes,
/// however the reader cuts them, and for a gzip the hash of the file as given.
#[test]
fn a_streamed_statement_is_hashed_whole() {
    let c = ctx(Provider::Wechat, "x");
    for rel in [WECHAT_CSV, WECHAT_GZ] {
        let bytes = sample(rel);
        for step in [1, 7, 4096, usize::MAX] {
            let p = parse_statement_read_with(
                Trickle(std::io::Cursor::new(bytes.clone()), step),
                &StatementFormat::WechatTradeBill,
                &c,
                &ParseOptions::default(),
            )
            .unwrap();
            assert_eq!(
                p.content_sha256,
                sha256_hex(&bytes),
                "{rel} in steps of {step}"
            );
            assert!(!p.lines.is_empty());
        }
    }
}
