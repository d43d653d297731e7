//! Issue 14 points 2, 7 and 10: the identities a statement names, WeChat REVOKED rows, and
//! ZIP archives no provider would send.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::domain::{LineKind, Provider};
use paydesk_providers::statement::*;
use std::io::Write;
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ctx(provider: Provider, file: &str) -> ParseContext {
    ParseContext::new("acct-main", provider, file)
}

fn set(ids: &[&str]) -> std::collections::BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn wechat_bill_names_its_merchant_in_rows_and_file_name() {
    let bytes = fixture("samples/wechat/1921000401_20190219_ALL.csv");
    let p = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "1921000401_20190219_ALL.csv"),
    )
    .unwrap();
    assert_eq!(p.identity.merchant_ids, set(&["1921000401"]));
    assert!(
        p.identity.sub_merchant_ids.is_empty(),
        "`0 is no sub-merchant"
    );
    assert_eq!(
        p.identity.name_ids,
        vec![(
            "1921000401".to_string(),
            "1921000401_20190219_ALL.csv".to_string()
        )]
    );
}

#[test]
fn wechat_bill_of_another_merchant_names_that_merchant() {
    let bytes = fixture("identity/wechat_other_merchant_20190219_ALL.csv");
    let p = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "statement.csv"),
    )
    .unwrap();
    assert_eq!(p.identity.merchant_ids, set(&["1921000402"]));
    assert!(
        p.identity.name_ids.is_empty(),
        "a free file name carries no id"
    );
}

#[test]
fn wechat_sub_merchants_are_collected() {
    let text = String::from_utf8(fixture("samples/wechat/1921000401_20190219_ALL.csv")).unwrap();
    let text = text.replacen(",`1921000401,`0,", ",`1921000401,`1900000109,", 1);
    let text = text.replace(",`1921000401,`0,", ",`1921000401,`1900000110,");
    let p = parse_statement(
        text.as_bytes(),
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "bill.csv"),
    )
    .unwrap();
    assert_eq!(
        p.identity.sub_merchant_ids,
        set(&["1900000109", "1900000110"])
    );
}

#[test]
fn alipay_bill_names_its_pid_in_header_file_and_entries() {
    let csv = fixture("samples/alipay/20880211096256330156_20190916_业务明细.csv");
    let p = parse_statement(
        &csv,
        &StatementFormat::AlipayTradeBill,
        &ctx(
            Provider::Alipay,
            "20880211096256330156_20190916_业务明细.csv",
        ),
    )
    .unwrap();
    assert_eq!(
        p.identity.account_header.as_deref(),
        Some("20880211096256330156")
    );
    assert_eq!(p.identity.merchant_ids, set(&["2088021109625633"]));
    assert_eq!(p.identity.name_ids.len(), 1);
    assert_eq!(p.identity.name_ids[0].0, "2088021109625633");

    let zip = fixture("samples/alipay/20880211096256330156_20190916.csv.zip");
    let p = parse_statement(
        &zip,
        &StatementFormat::AlipayTradeBill,
        &ctx(Provider::Alipay, "bill.zip"),
    )
    .unwrap();
    assert_eq!(p.identity.merchant_ids, set(&["2088021109625633"]));
    assert!(
        !p.identity.name_ids.is_empty()
            && p.identity
                .name_ids
                .iter()
                .all(|(id, _)| id == "2088021109625633"),
        "entry names carry the PID: {:?}",
        p.identity.name_ids
    );
}

#[test]
fn alipay_bill_of_another_pid_names_that_pid() {
    let csv = fixture("samples/alipay/20880211096256330156_20190916_业务明细.csv");
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let from = gbk("#账号：[20880211096256330156]");
    let to = gbk("#账号：[20889999999999990156]");
    let pos = csv
        .windows(from.len())
        .position(|w| w == from.as_slice())
        .expect("the sample has the #账号 line");
    let mut edited = csv[..pos].to_vec();
    edited.extend_from_slice(&to);
    edited.extend_from_slice(&csv[pos + from.len()..]);
    let p = parse_statement(
        &edited,
        &StatementFormat::AlipayTradeBill,
        &ctx(Provider::Alipay, "bill.csv"),
    )
    .unwrap();
    assert_eq!(p.identity.merchant_ids, set(&["2088999999999999"]));
}

#[test]
fn wechat_revoked_rows_import_as_zero_payments() {
    let bytes = fixture("identity/wechat_revoked_20190219_ALL.csv");
    let p = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "bill.csv"),
    )
    .unwrap();
    assert_eq!(p.lines.len(), 9);
    let rev = p
        .lines
        .iter()
        .find(|l| l.provider_status == "REVOKED")
        .expect("the REVOKED row is imported");
    assert_eq!(rev.kind, LineKind::Payment);
    assert_eq!(rev.merchant_order_no.as_deref(), Some("autotest_revoked_1"));
    assert_eq!((rev.gross, rev.net, rev.fee_milli), (0, 0, 0));
    let s = p.summary.unwrap();
    assert_eq!(s.total_count, 9);
    assert_eq!(s.payment_count + s.refund_count, 8, "REVOKED is neither");
}

#[test]
fn wechat_unknown_state_still_refuses_the_file() {
    let bytes = fixture("identity/wechat_unknown_state_20190219_ALL.csv");
    let e = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "bill.csv"),
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("交易状态"));
    assert!(
        e.reason.contains("unknown 交易状态 \"PAYERROR\""),
        "{}",
        e.reason
    );
}

// ---------------------------------------------------------------------------------------------
// ZIP archives

fn zip_with(names: &[&str], body: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for n in names {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn alipay_csv() -> Vec<u8> {
    fixture("samples/alipay/20880211096256330156_20190916_业务明细.csv")
}

#[test]
fn crafted_zip_with_a_plain_name_parses() {
    let z = zip_with(&["2088021109625633_20190916_业务明细.csv"], &alipay_csv());
    assert_eq!(detect_format(&z), Some(StatementFormat::AlipayTradeBill));
    let p = parse_statement(
        &z,
        &StatementFormat::AlipayTradeBill,
        &ctx(Provider::Alipay, "b.zip"),
    )
    .unwrap();
    assert!(!p.lines.is_empty());
}

#[test]
fn zip_entries_with_unsafe_names_are_refused() {
    for bad in [
        "../业务明细.csv",
        "bills/../../业务明细.csv",
        "/etc/业务明细.csv",
        "\\\\server\\业务明细.csv",
        "C:/temp/业务明细.csv",
        "c:业务明细.csv",
    ] {
        let z = zip_with(
            &[bad, "2088021109625633_20190916_业务明细.csv"],
            &alipay_csv(),
        );
        let e = detect_format_checked(&z, "b.zip").unwrap_err();
        assert_eq!(e.file, "b.zip");
        assert!(e.reason.contains("ZIP entry name"), "{bad}: {}", e.reason);
        assert!(
            e.reason.contains(bad) || e.reason.contains(&format!("{bad:?}")),
            "{}",
            e.reason
        );
        let e = parse_statement(
            &z,
            &StatementFormat::AlipayTradeBill,
            &ctx(Provider::Alipay, "b.zip"),
        )
        .unwrap_err();
        assert!(e.reason.contains("ZIP entry name"), "{bad}: {}", e.reason);
    }
}

#[test]
fn truncated_zip_says_truncated_or_corrupt() {
    let z = fixture("samples/alipay/20880211096256330156_20190916.csv.zip");
    for cut in [z.len() / 2, z.len() - 10, 30] {
        let short = &z[..cut];
        let e = detect_format_checked(short, "bill.zip").unwrap_err();
        assert!(
            e.reason.contains("truncated or corrupt zip"),
            "cut at {cut}: {}",
            e.reason
        );
        let e = parse_statement(
            short,
            &StatementFormat::AlipayTradeBill,
            &ctx(Provider::Alipay, "bill.zip"),
        )
        .unwrap_err();
        assert!(
            e.reason.contains("truncated or corrupt zip"),
            "{}",
            e.reason
        );
    }
}

#[test]
fn xlsx_like_zip_is_still_just_unrecognised() {
    let z = zip_with(&["xl/workbook.xml", "[Content_Types].xml"], b"<x/>");
    assert_eq!(detect_format_checked(&z, "book.xlsx").unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// REVOKED rows through the matcher

fn revoked_input(status: Option<paydesk_core::OrderStatus>) -> paydesk_core::MatchInput {
    let bytes = fixture("identity/wechat_revoked_20190219_ALL.csv");
    let p = parse_statement(
        &bytes,
        &StatementFormat::WechatTradeBill,
        &ctx(Provider::Wechat, "bill.csv"),
    )
    .unwrap();
    let line = p
        .lines
        .into_iter()
        .find(|l| l.provider_status == "REVOKED")
        .unwrap();
    let orders = status
        .map(|status| paydesk_core::Order {
            order_no: "autotest_revoked_1".into(),
            provider: Provider::Wechat,
            provider_txn_id: None,
            amount: 3,
            currency: paydesk_core::Currency::CNY,
            status,
            created_at: line.provider_time,
            paid_at: Some(line.provider_time),
            customer_ref: None,
        })
        .into_iter()
        .collect();
    paydesk_core::MatchInput {
        lines: vec![line],
        orders,
        ..Default::default()
    }
}

fn classes(input: &paydesk_core::MatchInput) -> Vec<paydesk_core::OutcomeClass> {
    let r = paydesk_core::match_day(input, &paydesk_core::MatchSettings::default());
    r.outcomes.iter().map(|o| o.class).collect()
}

#[test]
fn revoked_row_without_an_order_is_no_discrepancy() {
    use paydesk_core::OutcomeClass::*;
    assert_eq!(classes(&revoked_input(None)), vec![Matched]);
    assert_eq!(
        classes(&revoked_input(Some(paydesk_core::OrderStatus::Closed))),
        vec![Matched]
    );
}

#[test]
fn revoked_row_whose_order_is_paid_is_a_status_mismatch() {
    use paydesk_core::OutcomeClass::*;
    let input = revoked_input(Some(paydesk_core::OrderStatus::Paid));
    let r = paydesk_core::match_day(&input, &paydesk_core::MatchSettings::default());
    assert_eq!(
        r.outcomes.iter().map(|o| o.class).collect::<Vec<_>>(),
        vec![StatusMismatch],
        "one outcome: the order is not also 短款"
    );
    let d = paydesk_core::MatchResult::discrepancy(
        &r.outcomes[0],
        &input,
        &paydesk_core::MatchSettings::default(),
    );
    assert!(d.explanation.contains("revoked"), "{}", d.explanation);
}
