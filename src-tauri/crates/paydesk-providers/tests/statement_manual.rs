//! Manual mappings over CSV and XLSX.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use paydesk_core::domain::{LineKind, Provider};
use paydesk_core::money::Currency;
use paydesk_providers::statement::*;

fn mapping() -> ColumnMapping {
    let mut m = ColumnMapping::new("Reference", "Amount", "Date");
    m.merchant_order_no = Some("Order".into());
    m.kind = Some("Type".into());
    m.kind_values.insert("Sale".into(), LineKind::Payment);
    m.kind_values.insert("Refund".into(), LineKind::Refund);
    m.kind_values.insert("Charge".into(), LineKind::Fee);
    m.fee = Some("Fee".into());
    m.time_format = "%d/%m/%Y %H:%M".into();
    m.timezone = Some("Europe/London".into());
    m.refund_sign = RefundSign::Positive;
    m.currency = Some("Currency".into());
    m
}

fn ctx() -> ParseContext {
    ParseContext::new("bank-1", Provider::Manual, "bank.csv")
}

const CSV: &str = "Reference,Order,Type,Amount,Fee,Currency,Date\n\
R1,O-1,Sale,\"1,234.50\",1.20,GBP,01/07/2024 09:30\n\
R2,O-1,refund,100.00,0,GBP,15/01/2024 23:10\n\
R3,,Charge,-2.5,,gbp,16/01/2024 00:00\n";

#[test]
fn csv_with_mapping() {
    let p = parse_statement(CSV.as_bytes(), &StatementFormat::Manual(mapping()), &ctx()).unwrap();
    assert_eq!(p.lines.len(), 3);
    let a = &p.lines[0];
    assert_eq!(
        (a.kind, a.gross, a.fee_milli, a.net),
        (LineKind::Payment, 123_450, 120_000, 123_330)
    );
    assert_eq!(a.currency, Currency::parse("GBP").unwrap());
    // 09:30 London summer time is 08:30 UTC.
    assert_eq!(
        a.provider_time,
        Utc.with_ymd_and_hms(2024, 7, 1, 8, 30, 0).unwrap()
    );
    assert_eq!(a.provider_status, "Sale");
    let r = &p.lines[1];
    assert_eq!(
        (r.kind, r.gross, r.net),
        (LineKind::Refund, -10_000, -10_000)
    );
    assert_eq!(
        r.provider_time,
        Utc.with_ymd_and_hms(2024, 1, 15, 23, 10, 0).unwrap()
    );
    assert_eq!(p.lines[2].kind, LineKind::Fee);
    assert_eq!(p.lines[2].merchant_order_no, None);
}

#[test]
fn manual_errors() {
    let bad = CSV.replace("Sale,", "Transfer,");
    let e =
        parse_statement(bad.as_bytes(), &StatementFormat::Manual(mapping()), &ctx()).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("Type")));
    let bad = CSV.replace(",100.00,", ",-100.00,");
    let e =
        parse_statement(bad.as_bytes(), &StatementFormat::Manual(mapping()), &ctx()).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(3), Some("Amount")));
    let mut m = mapping();
    m.gross = "Value".into();
    let e = parse_statement(CSV.as_bytes(), &StatementFormat::Manual(m), &ctx()).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("Value")));
    let mut m = mapping();
    m.amount_unit = AmountUnit::Minor;
    let e = parse_statement(CSV.as_bytes(), &StatementFormat::Manual(m), &ctx()).unwrap_err();
    assert_eq!(e.line, Some(2));
}

#[test]
fn mapping_is_serde() {
    let m = mapping();
    let json = serde_json::to_string(&StatementFormat::Manual(m.clone())).unwrap();
    let back: StatementFormat = serde_json::from_str(&json).unwrap();
    assert_eq!(back, StatementFormat::Manual(m));
    // Minimal saved mapping: defaults fill the rest.
    let m: ColumnMapping =
        serde_json::from_str(r#"{"provider_txn_id":"id","gross":"amt","time":"t"}"#).unwrap();
    assert_eq!(m.time_format, "%Y-%m-%d %H:%M:%S");
    assert_eq!(m.amount_unit, AmountUnit::Major);
}

fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    build(ws);
    wb.save_to_buffer().unwrap()
}

#[test]
fn xlsx_text_and_numeric_cells() {
    let bytes = xlsx(|ws| {
        for (c, h) in [
            "Reference",
            "Order",
            "Type",
            "Amount",
            "Fee",
            "Currency",
            "Date",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_number(1, 0, 20_190_916_001.0).unwrap();
        ws.write_string(1, 1, "O-1").unwrap();
        ws.write_string(1, 2, "Sale").unwrap();
        ws.write_number(1, 3, 12.34).unwrap();
        ws.write_number(1, 4, 0.5).unwrap();
        ws.write_string(1, 5, "GBP").unwrap();
        ws.write_string(1, 6, "01/07/2024 09:30").unwrap();
        ws.write_string(2, 0, "R2").unwrap();
        ws.write_string(2, 2, "Refund").unwrap();
        ws.write_string(2, 3, "5.00").unwrap();
        ws.write_string(2, 5, "GBP").unwrap();
        ws.write_string(2, 6, "02/07/2024 10:00").unwrap();
    });
    let p = parse_statement(&bytes, &StatementFormat::Manual(mapping()), &ctx()).unwrap();
    assert_eq!(p.lines.len(), 2);
    assert_eq!(p.lines[0].provider_txn_id, "20190916001");
    assert_eq!((p.lines[0].gross, p.lines[0].fee_milli), (1234, 50_000));
    assert_eq!(p.lines[0].source.line, 2);
    assert_eq!(
        (p.lines[1].kind, p.lines[1].gross),
        (LineKind::Refund, -500)
    );
}

#[test]
fn xlsx_float_that_is_not_an_exact_amount_is_rejected() {
    let bytes = xlsx(|ws| {
        for (c, h) in ["Reference", "Type", "Amount", "Currency", "Date"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "R1").unwrap();
        ws.write_string(1, 1, "Sale").unwrap();
        ws.write_number(1, 2, 0.1 + 0.2).unwrap();
        ws.write_string(1, 3, "GBP").unwrap();
        ws.write_string(1, 4, "01/07/2024 09:30").unwrap();
    });
    let mut m = mapping();
    m.fee = None;
    m.merchant_order_no = None;
    let e = parse_statement(&bytes, &StatementFormat::Manual(m), &ctx()).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("Amount")));
    assert!(e.reason.contains("0.30000000000000004"), "{e}");
}
