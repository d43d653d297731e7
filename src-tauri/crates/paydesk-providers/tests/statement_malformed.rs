//! Malformed, tampered and unusual inputs: every error names file, line and column.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::domain::{LineKind, Provider};
use paydesk_providers::statement::*;
use std::path::PathBuf;

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/samples")
            .join(rel),
    )
    .unwrap()
}

fn alipay_text() -> String {
    let b = sample("alipay/20880211096256330156_20190916_业务明细.csv");
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(&b)
        .unwrap()
        .into_owned()
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

fn wechat_text() -> String {
    String::from_utf8(sample("wechat/1921000401_20190219_ALL.csv")).unwrap()
}

fn stripe_text() -> String {
    String::from_utf8(sample(
        "stripe/balance_change_from_activity_itemized_2026-11-22.csv",
    ))
    .unwrap()
}

fn parse(bytes: &[u8], f: StatementFormat) -> Result<ParsedStatement, StatementError> {
    let provider = match f {
        StatementFormat::AlipayTradeBill => Provider::Alipay,
        StatementFormat::WechatTradeBill => Provider::Wechat,
        StatementFormat::StripeBalanceReport => Provider::Stripe,
        _ => Provider::Manual,
    };
    parse_statement(bytes, &f, &ParseContext::new("a", provider, "bill.csv"))
}

fn alipay(s: &str) -> Result<ParsedStatement, StatementError> {
    parse(&gbk(s), StatementFormat::AlipayTradeBill)
}

#[test]
fn bad_amount_names_line_and_column() {
    let t = alipay_text().replacen(
        "alipay\t,\t,*津水(602***@qq.com)\t,0.01,",
        "alipay\t,\t,*津水(602***@qq.com)\t,\"1,23\",",
        1,
    );
    let e = alipay(&t).unwrap_err();
    assert_eq!(e.line, Some(6));
    assert_eq!(e.column.as_deref(), Some("订单金额（元）"));
    assert_eq!(e.to_string(), "bill.csv line 6, column 订单金额（元）: amount \"1,23\" has misplaced thousands separators");
}

#[test]
fn tampered_alipay_totals_are_rejected() {
    let t = alipay_text().replace("商家实收共0.06元", "商家实收共0.07元");
    let e = alipay(&t).unwrap_err();
    assert_eq!(e.line, Some(17), "{e}");
    assert!(e.reason.contains("交易合计"), "{e}");

    let t = alipay_text().replace("#退款合计：4笔", "#退款合计：3笔");
    assert_eq!(alipay(&t).unwrap_err().line, Some(18));

    // A data row deleted: the footer no longer adds up.
    let text = alipay_text();
    let lines: Vec<&str> = text.split("\r\n").collect();
    let mut cut = lines.clone();
    cut.remove(8);
    let e = alipay(&cut.join("\r\n")).unwrap_err();
    assert!(e.reason.contains("edited or truncated"), "{e}");

    // Truncated: the footer lines are gone.
    let truncated = lines[..12].join("\r\n");
    let e = alipay(&truncated).unwrap_err();
    assert!(e.reason.contains("missing"), "{e}");
}

#[test]
fn unknown_alipay_business_type_is_named() {
    let t = alipay_text().replacen(",交易\t,", ",转账\t,", 1);
    let e = alipay(&t).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(6), Some("业务类型")));
    assert!(e.reason.contains("转账"), "{e}");
}

#[test]
fn missing_column_names_the_header_line() {
    let t = alipay_text().replace("订单金额（元）", "金额");
    let e = alipay(&t).unwrap_err();
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(5), Some("订单金额（元）"))
    );
}

#[test]
fn reordered_and_added_columns_are_mapped_by_name() {
    // Move 订单金额 to the front and add a new column: every row is rewritten the same way.
    let text = alipay_text();
    let out: Vec<String> = text
        .split("\r\n")
        .map(|l| {
            if l.starts_with('#') || l.is_empty() {
                return l.to_string();
            }
            let mut cells: Vec<&str> = l.split(',').collect();
            let amount = cells.remove(11);
            cells.insert(0, amount);
            cells.push(if l.starts_with("支付宝") {
                "新列"
            } else {
                "x"
            });
            cells.join(",")
        })
        .collect();
    let p = alipay(&out.join("\r\n")).unwrap();
    let orig = alipay(&text).unwrap();
    assert_eq!(p.lines, orig.lines);
}

#[test]
fn extra_cells_in_a_row_are_an_error() {
    let t = wechat_text();
    let lines: Vec<&str> = t.split('\n').collect();
    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    v[3].push_str(",`extra");
    let e = parse(v.join("\n").as_bytes(), StatementFormat::WechatTradeBill).unwrap_err();
    assert_eq!(e.line, Some(4));
    assert!(e.reason.contains("28 cells"), "{e}");
}

#[test]
fn truncated_and_corrupt_zip_are_rejected() {
    let zip = sample("alipay/20880211096256330156_20190916.csv.zip");
    for cut in [10, 100, zip.len() / 2, zip.len() - 1] {
        let e = parse(&zip[..cut], StatementFormat::AlipayTradeBill).unwrap_err();
        assert_eq!(e.file, "bill.csv", "{e}");
    }
    // Flip a byte inside the compressed data: inflate or CRC check must fail.
    let mut bad = zip.clone();
    let mid = 30 + 60 + 200;
    bad[mid] ^= 0x55;
    let e = parse(&bad, StatementFormat::AlipayTradeBill).unwrap_err();
    assert!(e.file.contains("业务明细"), "{e}");
}

#[test]
fn wrong_encoding_is_reported() {
    // The WeChat bill re-encoded as GBK is not UTF-8: line 1 fails.
    let g = gbk(&wechat_text());
    let e = parse(&g, StatementFormat::WechatTradeBill).unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.reason.contains("UTF-8"), "{e}");
    // An Alipay bill re-saved as UTF-8 (with BOM) parses to the same lines.
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(alipay_text().as_bytes());
    assert_eq!(
        parse(&utf8, StatementFormat::AlipayTradeBill)
            .unwrap()
            .lines,
        alipay(&alipay_text()).unwrap().lines
    );
    // A GBK Alipay bill with an invalid byte sequence in row 3.
    let mut b = gbk(&alipay_text());
    let pos = b.windows(5).position(|w| w == b"11:07").unwrap();
    b[pos] = 0x81;
    b[pos + 1] = 0x20;
    let e = parse(&b, StatementFormat::AlipayTradeBill).unwrap_err();
    assert_eq!(e.line, Some(8), "{e}");
}

#[test]
fn tampered_wechat_summary_is_rejected() {
    let e = parse(
        wechat_text().replace("`8.0,", "`9.0,").as_bytes(),
        StatementFormat::WechatTradeBill,
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(11), Some("总交易单数"))
    );
    let e = parse(
        wechat_text()
            .replace("`0.12,`0.02,`0.0,`0.03", "`0.12,`0.02,`0.0,`0.04")
            .as_bytes(),
        StatementFormat::WechatTradeBill,
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("手续费总金额"), "{e}");
    let e = parse(
        wechat_text()
            .replace("`0.12,`0.02,`0.0", "`0.13,`0.02,`0.0")
            .as_bytes(),
        StatementFormat::WechatTradeBill,
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("应结订单总金额"), "{e}");
    // Truncated: summary gone.
    let t = wechat_text();
    let cut: Vec<&str> = t.split('\n').take(9).collect();
    let e = parse(cut.join("\n").as_bytes(), StatementFormat::WechatTradeBill).unwrap_err();
    assert!(e.reason.contains("truncated"), "{e}");
    // A row after the summary.
    let mut extra = t.clone();
    extra.push_str("`2019-02-19 05:01:46,`x\n");
    let e = parse(extra.as_bytes(), StatementFormat::WechatTradeBill).unwrap_err();
    assert_eq!(e.line, Some(12), "{e}");
}

#[test]
fn wechat_status_and_fee_precision() {
    let e = parse(
        wechat_text()
            .replacen("`NATIVE,`SUCCESS,", "`NATIVE,`PAYERROR,", 1)
            .as_bytes(),
        StatementFormat::WechatTradeBill,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("交易状态")));
    assert!(e.reason.contains("PAYERROR"));
    // Six decimals in a fee cannot be held exactly.
    let e = parse(
        wechat_text()
            .replacen("`0.01000,", "`0.010001,", 1)
            .as_bytes(),
        StatementFormat::WechatTradeBill,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("手续费")));
}

#[test]
fn wechat_accepts_bom_and_crlf() {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(wechat_text().replace('\n', "\r\n").as_bytes());
    let a = parse(&b, StatementFormat::WechatTradeBill).unwrap();
    assert_eq!(
        a.lines,
        parse(wechat_text().as_bytes(), StatementFormat::WechatTradeBill)
            .unwrap()
            .lines
    );
}

#[test]
fn stripe_errors_and_lenience() {
    let e = parse(
        stripe_text()
            .replacen(",25.00,1.03,", ",25.001,1.03,", 1)
            .as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("gross")));
    let e = parse(
        stripe_text()
            .replacen(",3000,110,", ",3000.5,110,", 1)
            .as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(4), Some("gross")));
    let e = parse(
        stripe_text().replacen("currency,", "ccy,", 1).as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("currency")));
    // An unknown category becomes an adjustment, never dropped.
    let p = parse(
        stripe_text().replacen(",dispute,", ",topup,", 1).as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap();
    assert_eq!(p.lines.len(), 6);
    assert_eq!(
        (p.lines[5].kind, p.lines[5].provider_status.as_str()),
        (LineKind::Adjustment, "topup")
    );
    // A description spanning two lines: later line numbers stay right.
    let p = parse(
        stripe_text()
            .replacen(
                "\"Order SO-10041, 2 items\"",
                "\"Order SO-10041,\n2 items\"",
                1,
            )
            .as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap();
    assert_eq!(p.lines[0].source.line, 2);
    assert_eq!(p.lines[1].source.line, 4);
    let e = parse(
        stripe_text()
            .replacen(
                "\"Order SO-10041, 2 items\"",
                "\"Order SO-10041, 2 items",
                1,
            )
            .as_bytes(),
        StatementFormat::StripeBalanceReport,
    )
    .unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn streaming_reader_reports_the_error_last() {
    let t = alipay_text().replace("商家实收共0.06元", "商家实收共0.07元");
    let bytes = gbk(&t);
    let ctx = ParseContext::new("a", Provider::Alipay, "bill.csv");
    let items: Vec<_> = StatementReader::new(&bytes, &StatementFormat::AlipayTradeBill, &ctx)
        .unwrap()
        .collect();
    assert_eq!(items.len(), 11);
    assert!(items[..10].iter().all(Result::is_ok));
    assert!(items[10].is_err());
}

#[test]
fn empty_and_garbage_inputs() {
    for f in [
        StatementFormat::AlipayTradeBill,
        StatementFormat::WechatTradeBill,
        StatementFormat::StripeBalanceReport,
        StatementFormat::Normalized,
    ] {
        assert!(parse(b"", f.clone()).is_err(), "{f:?}");
        assert!(parse(b"\x1f\x8b\x08garbage", f.clone()).is_err(), "{f:?}");
        assert!(parse(b"PK\x03\x04garbage", f.clone()).is_err(), "{f:?}");
    }
}
