//! CSV export: BOM, Chinese text, neutralized free text, plain amounts, csv round trip.

// Test helpers panic on purpose: a panic is how a test reports a broken fixture.
#![allow(clippy::unwrap_used)]

mod report_common;
use report_common::{meta, record};

use paydesk_core::discrepancy::{OutcomeClass, ResolutionKind, ReviewState};
use paydesk_core::domain::Provider;
use paydesk_core::money::Currency;
use paydesk_core::review::DiscrepancyRecord;
use paydesk_service::review::report::{neutralize, write_csv, Lang};

fn fixture() -> Vec<DiscrepancyRecord> {
    let mut hostile = record(1, OutcomeClass::AmountMismatch, Currency::CNY);
    hostile.account = "支付宝主账户".into();
    hostile.order_no = Some("=1+1".into());
    hostile.provider_txn_id = Some("+cmd".into());
    hostile.refund_no = Some("-2+3".into());
    hostile.note = Some("@SUM(A1)".into());
    hostile.assignee = Some("\tTAB".into());
    hostile.explanation = "渠道金额 100.00，我方金额 135.80，差额 -35.80。".into();
    hostile.provider_amount = Some(10_000);
    hostile.local_amount = Some(13_580);
    hostile.difference = -3_580;

    let mut refund = record(2, OutcomeClass::RefundOnlyAtProvider, Currency::CNY);
    refund.provider_amount = Some(-3_580);
    refund.local_amount = None;
    refund.difference = -3_580;
    refund.refund_no = Some("RF2".into());
    refund.local_time = None;
    refund.note = Some("line one, with comma\nline \"two\"".into());
    refund.state = ReviewState::Resolved;
    refund.resolution = Some(ResolutionKind::CorrectedLocally);

    let mut jpy = record(3, OutcomeClass::ProviderOnly, Currency::JPY);
    jpy.provider = Provider::Stripe;
    jpy.account = "stripe-jp".into();
    jpy.provider_amount = Some(3_000);
    jpy.local_amount = None;
    jpy.difference = 3_000;
    jpy.order_no = None;
    jpy.explanation = "-3000 refunded later?".into();
    vec![hostile, refund, jpy]
}

fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM first");
    let mut r = csv::Reader::from_reader(body);
    let headers = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (headers, rows)
}

fn field<'a>(headers: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {headers:?}"));
    &row[i]
}

#[test]
fn csv_has_bom_chinese_text_and_neutralized_free_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.csv");
    let rows = fixture();
    write_csv(
        &rows,
        &meta(Lang::En),
        std::fs::File::create(&path).unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("支付宝主账户"));
    assert!(text.contains("渠道金额 100.00，我方金额 135.80，差额 -35.80。"));

    let (h, data) = parse(&bytes);
    assert_eq!(h[0], "ID");
    assert_eq!(data.len(), 3);
    let first = &data[0];
    assert_eq!(field(&h, first, "ID"), "1");
    assert_eq!(field(&h, first, "Account"), "支付宝主账户");
    assert_eq!(field(&h, first, "Order no"), "'=1+1");
    assert_eq!(field(&h, first, "Provider txn id"), "'+cmd");
    assert_eq!(field(&h, first, "Refund no"), "'-2+3");
    assert_eq!(field(&h, first, "Note"), "'@SUM(A1)");
    assert_eq!(field(&h, first, "Assignee"), "'\tTAB");
    // Amounts are data: plain decimal strings, negative ones not quoted.
    assert_eq!(field(&h, first, "Provider amount"), "100.00");
    assert_eq!(field(&h, first, "Local amount"), "135.80");
    assert_eq!(field(&h, first, "Difference"), "-35.80");
    assert_eq!(field(&h, first, "Class"), "Amount mismatch");
    // The CSV is for reading: states and resolutions in words, in the report's language.
    assert_eq!(field(&h, first, "State"), "Open");
    assert_eq!(field(&h, first, "Resolution"), "");
    assert_eq!(field(&h, first, "Bill date"), "2026-11-22");
    // Alipay times are shown on Beijing time.
    assert_eq!(
        field(&h, first, "Provider time"),
        "2026-11-22 11:04:05 +08:00"
    );
    assert_eq!(
        field(&h, first, "Evidence (file:line)"),
        "alipay_20261122.csv:5"
    );
    assert_eq!(field(&h, first, "Age (days)"), "2");

    let refund = &data[1];
    assert_eq!(field(&h, refund, "Provider amount"), "-35.80");
    assert_eq!(field(&h, refund, "Local amount"), "");
    assert_eq!(field(&h, refund, "Difference"), "-35.80");
    assert_eq!(field(&h, refund, "Local time"), "");
    assert_eq!(
        field(&h, refund, "Note"),
        "line one, with comma\nline \"two\""
    );
    assert_eq!(field(&h, refund, "State"), "Resolved");
    assert_eq!(field(&h, refund, "Resolution"), "Corrected in our records");

    let jpy = &data[2];
    assert_eq!(field(&h, jpy, "Currency"), "JPY");
    assert_eq!(field(&h, jpy, "Provider amount"), "3000");
    assert_eq!(field(&h, jpy, "Order no"), "");
    assert_eq!(
        field(&h, jpy, "Provider time"),
        "2026-11-22 03:04:05 +00:00"
    );
    // A minus sign in free text is neutralized even when it looks like a number.
    assert_eq!(field(&h, jpy, "Explanation"), "'-3000 refunded later?");

    // Every free-text field in the file is inert: none starts with a trigger character,
    // except the amount columns.
    let amount_cols = ["Provider amount", "Local amount", "Difference"];
    for row in &data {
        for (name, value) in h.iter().zip(row) {
            if amount_cols.contains(&name.as_str()) {
                continue;
            }
            assert_eq!(neutralize(value), value.as_str(), "{name} = {value:?}");
        }
    }
}

#[test]
fn csv_headers_and_labels_follow_the_language() {
    let mut out = Vec::new();
    write_csv(&fixture(), &meta(Lang::Zh), &mut out).unwrap();
    let (h, data) = parse(&out);
    assert_eq!(h[0], "编号");
    assert!(h.contains(&"差额".to_string()));
    assert!(h.contains(&"备注".to_string()));
    assert_eq!(field(&h, &data[0], "差异类型"), "金额不符");
    assert_eq!(field(&h, &data[2], "差异类型"), "长款（渠道有、我方无）");
    assert_eq!(field(&h, &data[0], "差额"), "-35.80");
    assert_eq!(field(&h, &data[0], "状态"), "待处理");
}

#[test]
fn empty_report_is_just_the_header() {
    let mut out = Vec::new();
    write_csv(&[], &meta(Lang::En), &mut out).unwrap();
    let (h, data) = parse(&out);
    assert_eq!(h.len(), 22);
    assert!(data.is_empty());
}
