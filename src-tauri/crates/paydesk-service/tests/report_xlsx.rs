//! XLSX export read back with calamine: sheets, summary totals, detail rows, exact amounts.

// Test helpers panic on purpose: a panic is how a test reports a broken fixture.
#![allow(clippy::unwrap_used)]

mod report_common;
use report_common::record;

use calamine::{open_workbook, Data, Range, Reader, Xlsx};
use paydesk_core::discrepancy::OutcomeClass;
use paydesk_core::domain::Provider;
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::review::DiscrepancyRecord;
use paydesk_service::review::report::{write_xlsx, Lang, ReportMeta};
use std::collections::BTreeMap;
use std::path::Path;

/// A title that starts with `=` and holds Chinese (neutralized, kept whole).
fn meta(lang: Lang) -> ReportMeta {
    ReportMeta {
        title: "=Open discrepancies 未处理差异".into(),
        ..report_common::meta(lang)
    }
}

/// A mix of classes, providers and currencies, including a very large CNY amount, JPY and
/// amounts beyond what a double holds exactly.
fn fixture() -> Vec<DiscrepancyRecord> {
    let mut rows = Vec::new();
    let mut id = 0;
    let mut next = |class, currency, provider, pa: Option<i64>, la: Option<i64>| {
        id += 1;
        let mut r = record(id, class, currency);
        r.provider = provider;
        r.provider_amount = pa;
        r.local_amount = la;
        r.difference = pa.unwrap_or(0) - la.unwrap_or(0);
        r
    };
    use OutcomeClass::*;
    rows.push(next(
        ProviderOnly,
        Currency::CNY,
        Provider::Alipay,
        Some(123_456_789_012),
        None,
    ));
    rows.push(next(
        ProviderOnly,
        Currency::CNY,
        Provider::Alipay,
        Some(990),
        None,
    ));
    rows.push(next(
        OrderOnly,
        Currency::CNY,
        Provider::Wechat,
        None,
        Some(3_580),
    ));
    rows.push(next(
        AmountMismatch,
        Currency::CNY,
        Provider::Alipay,
        Some(10_000),
        Some(13_580),
    ));
    rows.push(next(
        AmountMismatch,
        Currency::CNY,
        Provider::Alipay,
        Some(5),
        Some(1),
    ));
    rows.push(next(
        ProviderOnly,
        Currency::JPY,
        Provider::Stripe,
        Some(3_000),
        None,
    ));
    rows.push(next(
        RefundOnlyAtProvider,
        Currency::USD,
        Provider::Stripe,
        Some(-3_580),
        None,
    ));
    rows.push(next(
        FeeVariance,
        Currency::CNY,
        Provider::Wechat,
        Some(-1),
        Some(0),
    ));
    // 10^16 minor units: more digits than a double keeps.
    rows.push(next(
        ProviderAdjustment,
        Currency::CNY,
        Provider::Alipay,
        Some(10_000_000_000_000_001),
        None,
    ));
    rows
}

fn sheet(path: &Path, name: &str) -> Range<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// An amount cell as minor units: a number cell (whose shortest decimal is the exact value)
/// or, for amounts too large for a double, a text cell.
fn minor(d: &Data, currency: Currency) -> i64 {
    match d {
        Data::Float(f) => parse_minor(&f.to_string(), currency).unwrap(),
        Data::String(s) => parse_minor(s, currency).unwrap(),
        Data::Empty => 0,
        other => panic!("unexpected amount cell {other:?}"),
    }
}

fn column(header: &[Data], name: &str) -> usize {
    header
        .iter()
        .position(|d| text(d) == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    count: i64,
    abs_difference: i64,
    provider_total: i64,
    local_total: i64,
}

fn check_workbook(lang: Lang) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xlsx");
    let rows = fixture();
    write_xlsx(&rows, &meta(lang), &path).unwrap();

    let (summary, detail, help) = match lang {
        Lang::En => ("Summary", "Detail", "Help"),
        Lang::Zh => ("汇总", "明细", "说明"),
    };
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), vec![summary, detail, help]);

    // --- Summary: meta lines and one line per class × provider × currency.
    let s = sheet(&path, summary);
    let s_rows: Vec<&[Data]> = s.rows().collect();
    assert_eq!(text(&s_rows[0][0]), "'=Open discrepancies 未处理差异");
    let (count_header, scope_label) = match lang {
        Lang::En => ("Count", "Scope"),
        Lang::Zh => ("笔数", "范围"),
    };
    assert!(s_rows
        .iter()
        .any(|r| text(&r[0]) == scope_label && text(&r[1]) == "run 12: alipay-main 2026-11-22"));
    let header_at = s_rows
        .iter()
        .position(|r| r.iter().any(|d| text(d) == count_header))
        .expect("summary table header");
    let mut found: BTreeMap<(OutcomeClass, Provider, String), Totals> = BTreeMap::new();
    for r in &s_rows[header_at + 1..] {
        let label = text(&r[0]);
        let Some(class) = OutcomeClass::ALL.into_iter().find(|c| {
            label
                == match lang {
                    Lang::En => c.label_en(),
                    Lang::Zh => c.label_zh(),
                }
        }) else {
            break;
        };
        let description = text(&r[1]);
        assert_eq!(
            description,
            match lang {
                Lang::En => class.description_en(),
                Lang::Zh => class.description_zh(),
            }
        );
        let provider: Provider = text(&r[2]).parse().unwrap();
        let currency = Currency::parse(&text(&r[3])).unwrap();
        let t = Totals {
            count: text(&r[4]).parse().unwrap(),
            abs_difference: minor(&r[5], currency),
            provider_total: minor(&r[6], currency),
            local_total: minor(&r[7], currency),
        };
        found.insert((class, provider, currency.code().to_string()), t);
    }
    let mut expected: BTreeMap<(OutcomeClass, Provider, String), Totals> = BTreeMap::new();
    for r in &rows {
        let t = expected
            .entry((r.class, r.provider, r.currency.code().to_string()))
            .or_default();
        t.count += 1;
        t.abs_difference += r.difference.abs();
        t.provider_total += r.provider_amount.unwrap_or(0);
        t.local_total += r.local_amount.unwrap_or(0);
    }
    assert_eq!(found, expected);
    // Spot checks in plain numbers.
    let provider_only_cny = &found[&(OutcomeClass::ProviderOnly, Provider::Alipay, "CNY".into())];
    assert_eq!(provider_only_cny.count, 2);
    assert_eq!(provider_only_cny.provider_total, 123_456_790_002);

    // --- Detail: one row per discrepancy, exact amounts.
    let d = sheet(&path, detail);
    let d_rows: Vec<&[Data]> = d.rows().collect();
    assert_eq!(d_rows.len() - 1, rows.len());
    let header = d_rows[0];
    assert_eq!(header.len(), 22);
    let (id_h, pa_h, la_h, diff_h, state_h, class_h) = match lang {
        Lang::En => (
            "ID",
            "Provider amount",
            "Local amount",
            "Difference",
            "State",
            "Class",
        ),
        Lang::Zh => ("编号", "渠道金额", "我方金额", "差额", "状态", "差异类型"),
    };
    let (id_c, pa_c, la_c, diff_c, state_c, class_c) = (
        column(header, id_h),
        column(header, pa_h),
        column(header, la_h),
        column(header, diff_h),
        column(header, state_h),
        column(header, class_h),
    );
    for (r, rec) in d_rows[1..].iter().zip(&rows) {
        assert_eq!(text(&r[id_c]), rec.id.to_string());
        assert_eq!(text(&r[state_c]), "open");
        assert_eq!(
            text(&r[class_c]),
            match lang {
                Lang::En => rec.class.label_en(),
                Lang::Zh => rec.class.label_zh(),
            }
        );
        assert_eq!(minor(&r[diff_c], rec.currency), rec.difference);
        if let Some(p) = rec.provider_amount {
            assert_eq!(minor(&r[pa_c], rec.currency), p);
        }
        match rec.local_amount {
            Some(l) => assert_eq!(minor(&r[la_c], rec.currency), l),
            None => assert_eq!(r[la_c], Data::Empty),
        }
    }
    // The literal values, as a person sees them in Excel.
    assert_eq!(d_rows[1][pa_c], Data::Float(1_234_567_890.12));
    assert_eq!(d_rows[1][pa_c].to_string(), "1234567890.12");
    assert_eq!(d_rows[6][pa_c].to_string(), "3000");
    assert_eq!(d_rows[7][pa_c].to_string(), "-35.8");
    assert_eq!(d_rows[8][diff_c].to_string(), "-0.01");
    // Too large for a double: kept exact as text.
    assert_eq!(
        d_rows[9][pa_c],
        Data::String("100000000000000.01".to_string())
    );

    // --- Help: every discrepancy class is explained.
    let h = sheet(&path, help);
    let help_text: Vec<String> = h.rows().flat_map(|r| r.iter().map(text)).collect();
    for class in OutcomeClass::discrepancy_classes() {
        assert!(help_text.iter().any(|t| t == class.as_str()), "{class}");
    }
    for code in ["open", "investigating", "resolved", "written_off"] {
        assert!(help_text.iter().any(|t| t == code), "{code}");
    }
}

#[test]
fn xlsx_in_english() {
    check_workbook(Lang::En);
}

#[test]
fn xlsx_in_chinese() {
    check_workbook(Lang::Zh);
}

#[test]
fn xlsx_neutralizes_text_but_not_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.xlsx");
    let mut r = record(7, OutcomeClass::AmountMismatch, Currency::CNY);
    r.order_no = Some("=1+1".into());
    r.provider_txn_id = Some("+cmd".into());
    r.refund_no = Some("-2+3".into());
    r.note = Some("@SUM(A1)".into());
    r.explanation = "退款 -35.80".into();
    r.provider_amount = Some(-3_580);
    r.local_amount = Some(0);
    r.difference = -3_580;
    write_xlsx(&[r], &meta(Lang::En), &path).unwrap();
    let d = sheet(&path, "Detail");
    let rows: Vec<&[Data]> = d.rows().collect();
    let get = |name: &str| rows[1][column(rows[0], name)].clone();
    assert_eq!(get("Order no"), Data::String("'=1+1".into()));
    assert_eq!(get("Provider txn id"), Data::String("'+cmd".into()));
    assert_eq!(get("Refund no"), Data::String("'-2+3".into()));
    assert_eq!(get("Note"), Data::String("'@SUM(A1)".into()));
    assert_eq!(get("Explanation"), Data::String("退款 -35.80".into()));
    assert_eq!(get("Provider amount"), Data::Float(-35.8));
    assert_eq!(get("Difference"), Data::Float(-35.8));
}

#[test]
fn empty_export_still_has_all_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.xlsx");
    write_xlsx(&[], &meta(Lang::Zh), &path).unwrap();
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), vec!["汇总", "明细", "说明"]);
    let d = sheet(&path, "明细");
    assert_eq!(d.rows().count(), 1);
}

#[test]
fn unwritable_path_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("report.xlsx");
    let err = write_xlsx(&fixture(), &meta(Lang::En), &path).unwrap_err();
    assert!(err.to_string().contains("report.xlsx"), "{err}");
}
