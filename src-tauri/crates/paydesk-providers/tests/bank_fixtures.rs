//! Bank statement import: every fixture of `fixtures/bank/` parses to exactly the expected
//! lines and balances, and hostile or broken files are refused whole with one clear error
//! naming the line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use paydesk_core::money::Currency;
use paydesk_core::settlement::{BankLine, BankStatement, StatedBalance};
use paydesk_providers::bank::*;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/bank")
            .join(name),
    )
    .unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn bal(date: NaiveDate, amount: i64) -> Option<StatedBalance> {
    Some(StatedBalance { date, amount })
}

#[allow(clippy::too_many_arguments)]
fn line(
    booking: NaiveDate,
    value: Option<NaiveDate>,
    amount: i64,
    currency: Currency,
    counterparty: Option<&str>,
    references: &[&str],
    text: &str,
    line: u64,
) -> BankLine {
    BankLine {
        booking_date: booking,
        value_date: value,
        amount,
        currency,
        counterparty: counterparty.map(str::to_string),
        references: references.iter().map(|s| s.to_string()).collect(),
        text: text.into(),
        line,
    }
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

#[test]
fn camt053_v02_two_statements_batch_pending_and_prcd() {
    let bytes = fixture("camt053_v02.xml");
    assert_eq!(
        detect_bank_format(&bytes, "camt053_v02.xml"),
        Some(BankFormat::Camt053)
    );
    let import = import_bank_statement(&bytes, "camt053_v02.xml", None, None).unwrap();
    assert_eq!(import.format, BankFormat::Camt053);
    assert_eq!(import.skipped_pending, 1);
    let day = d(2024, 11, 22);
    let first = BankStatement {
        account_id: Some("DE89370400440532013000".into()),
        statement_id: Some("STMT-20241122-EUR".into()),
        currency: eur(),
        opening: bal(d(2024, 11, 21), 1_000_000),
        closing: bal(day, 1_361_090),
        lines: vec![
            line(
                day,
                Some(day),
                152_340,
                eur(),
                Some("STRIPE PAYMENTS EUROPE LTD"),
                &["2024112200001", "po_1QNxYz2eZvKYlo2C8gq7AbCd"],
                "STRIPE PAYOUT po_1QNxYz2eZvKYlo2C8gq7AbCd",
                1,
            ),
            line(
                day,
                Some(day),
                -1_250,
                eur(),
                None,
                &[],
                "Account maintenance fee",
                2,
            ),
            line(
                day,
                Some(day),
                240_000,
                eur(),
                Some("Adyen N.V. & Co"),
                &["2024112200003", "SETTLE-20241121", "SETTLE-20241122"],
                "Settlement 2024-11-21 / Settlement 2024-11-22",
                4,
            ),
            line(
                day,
                Some(day),
                -30_000,
                eur(),
                Some("Office Rent GmbH"),
                &[],
                "Rent November",
                5,
            ),
        ],
    };
    let second = BankStatement {
        account_id: Some("DE89370400440532013000".into()),
        statement_id: Some("STMT-20241123-EUR".into()),
        currency: eur(),
        opening: bal(day, 1_361_090),
        closing: bal(d(2024, 11, 23), 1_381_090),
        lines: vec![line(
            d(2024, 11, 23),
            Some(d(2024, 11, 25)),
            20_000,
            eur(),
            Some("Stripe Payments Europe Ltd"),
            &["po_1QOaaa2eZvKYlo2CZZ11yyXx"],
            "STRIPE PAYOUT / po_1QOaaa2eZvKYlo2CZZ11yyXx",
            6,
        )],
    };
    assert_eq!(import.statements, vec![first, second]);
    for s in &import.statements {
        assert_eq!(s.roll_forward_gap(), Some(0));
    }
}

#[test]
fn camt053_v08_prefixed_namespace_and_v08_shapes() {
    let bytes = fixture("camt053_v08.xml");
    let import = import_bank_statement(&bytes, "camt053_v08.xml", None, None).unwrap();
    assert_eq!(import.skipped_pending, 1);
    let day = d(2024, 11, 25);
    assert_eq!(
        import.statements,
        vec![BankStatement {
            account_id: Some("755912345610801".into()),
            statement_id: Some("V08-2024-11-25".into()),
            currency: Currency::CNY,
            opening: bal(d(2024, 11, 24), 5_000_000),
            closing: bal(day, 14_756_543),
            lines: vec![
                line(
                    day,
                    Some(day),
                    9_876_543,
                    Currency::CNY,
                    Some("支付宝（中国）网络技术有限公司"),
                    &[
                        "CMB20241125000123",
                        "20241125200040011100830012345678",
                        "CMB-TX-1"
                    ],
                    "提现 20241125200040011100830012345678",
                    1,
                ),
                line(
                    day,
                    None,
                    -120_000,
                    Currency::CNY,
                    Some("上海某某物业管理有限公司"),
                    &[],
                    "11月物业费",
                    2,
                ),
            ],
        }]
    );
}

#[test]
fn mt940_wrapped_ing_and_dk_messages() {
    let bytes = fixture("mt940_ing_dk.sta");
    assert_eq!(
        detect_bank_format(&bytes, "statement.sta"),
        Some(BankFormat::Mt940)
    );
    let got = parse_bank_statement(&bytes, "mt940_ing_dk.sta", None, None).unwrap();
    let day = d(2024, 11, 22);
    let ing = BankStatement {
        account_id: Some("NL69INGB0123456789EUR".into()),
        statement_id: Some("P241122000000001".into()),
        currency: eur(),
        opening: bal(d(2024, 11, 21), 250_000),
        closing: bal(day, 397_830),
        lines: vec![
            line(
                day,
                Some(day),
                152_340,
                eur(),
                Some("STRIPE PAYMENTS EUROPE LTD"),
                &["po_1QNxYz2eZvK", "2411220001", "po_1QNxYz2eZvKYlo2C8gq7AbCd"],
                "/TRCD/00100/ / /EREF/po_1QNxYz2eZvKYlo2C8gq7AbCd//CNTP/IE12BOFI90001710027952/BOFIIE2D/STRIPE PAYMENTS EUROPE LTD/DUBLIN//REMI/USTD//STRIPE PAYOUT/",
                9,
            ),
            line(
                day,
                Some(day),
                -4_510,
                eur(),
                None,
                &["2411220002"],
                "/EREF/NOTPROVIDED//REMI/USTD//Bank charges November/",
                13,
            ),
        ],
    };
    let dk = BankStatement {
        account_id: Some("10020030/1234567890".into()),
        statement_id: Some("STARTUMS".into()),
        currency: eur(),
        opening: bal(d(2024, 12, 31), 10_000),
        closing: bal(d(2025, 1, 2), 30_000),
        lines: vec![
            line(
                d(2024, 12, 31),
                Some(d(2025, 1, 2)),
                25_000,
                eur(),
                Some("ACME PAYMENTS GMBH"),
                &["BANKREF9", "PO-20241231-7"],
                "166?00GUTSCHRIFT?109310?20EREF+PO-20241231-7?21SVWZ+Auszahlung Dezember?30DEUTDEFFXXX?31DE02120300000000202051?32ACME PAYMENTS?33 GMBH",
                23,
            ),
            line(
                d(2025, 1, 2),
                Some(d(2025, 1, 2)),
                -5_000,
                eur(),
                None,
                &["REF-RETURN-1"],
                "109?00RUECKLASTSCHRIFT?20Storno Lastschrift",
                27,
            ),
        ],
    };
    assert_eq!(got, vec![ing, dk]);
    for s in &got {
        assert_eq!(s.roll_forward_gap(), Some(0));
    }
}

#[test]
fn icbc_gbk_csv_with_title_rows_totals_and_footer() {
    let bytes = fixture("icbc_gbk.csv");
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture is GBK");
    let got = parse_bank_statement(&bytes, "icbc_gbk.csv", None, None).unwrap();
    let (d1, d2) = (d(2024, 11, 22), d(2024, 11, 23));
    assert_eq!(
        got,
        vec![BankStatement {
            account_id: Some("1001234509000012345".into()),
            statement_id: None,
            currency: Currency::CNY,
            opening: bal(d1, 5_000_000),
            closing: bal(d2, 14_908_883),
            lines: vec![
                line(
                    d1,
                    None,
                    9_876_543,
                    Currency::CNY,
                    Some("支付宝（中国）网络技术有限公司"),
                    &[],
                    "提现 / 支付宝提现 20241122200040011100830012345678",
                    5,
                ),
                line(
                    d1,
                    None,
                    -120_000,
                    Currency::CNY,
                    Some("上海某某物业管理有限公司"),
                    &[],
                    "转账支出 / 11月物业费",
                    6,
                ),
                line(
                    d2,
                    None,
                    152_340,
                    Currency::CNY,
                    Some("财付通支付科技有限公司"),
                    &[],
                    "财付通提现 / 微信支付提现 1900000109202411230001",
                    7,
                ),
            ],
        }]
    );
    assert_eq!(got[0].roll_forward_gap(), Some(0));
}

/// A 招商银行-like statement, for the XLSX and CSV writer fixtures.
fn cmb_statement() -> BankStatement {
    let (d1, d2) = (d(2024, 11, 22), d(2024, 11, 23));
    BankStatement {
        account_id: Some("755912345610801".into()),
        statement_id: None,
        currency: Currency::CNY,
        opening: bal(d1, 1_234_567),
        closing: bal(d2, 1_234_567 + 123_456_789 - 4_500),
        lines: vec![
            line(
                d1,
                None,
                123_456_789,
                Currency::CNY,
                Some("财付通支付科技有限公司"),
                &["K2024112200001"],
                "微信支付自动提现 1900000109",
                4,
            ),
            line(
                d2,
                None,
                -4_500,
                Currency::CNY,
                None,
                &["K2024112300007"],
                "手续费",
                5,
            ),
        ],
    }
}

#[test]
fn generated_cmb_xlsx_parses_back_exactly() {
    let stmt = cmb_statement();
    let xlsx = write_bank_xlsx(&stmt, "上海示例贸易有限公司").unwrap();
    assert_eq!(
        detect_bank_format(&xlsx, "交易明细.xlsx"),
        Some(BankFormat::Table)
    );
    let got = parse_bank_statement(&xlsx, "交易明细.xlsx", None, None).unwrap();
    // Title rows 1–2, header row 3: the lines are sheet rows 4 and 5.
    assert_eq!(got, vec![stmt]);
}

#[test]
fn generated_gbk_csv_parses_back_exactly() {
    let stmt = cmb_statement();
    let csv = write_bank_csv_gbk(&stmt, "上海示例贸易有限公司");
    let got = parse_bank_statement(&csv, "cmb.csv", None, None).unwrap();
    assert_eq!(got, vec![stmt]);
}

#[test]
fn english_csv_with_signed_amounts_newest_first() {
    let csv = "Account Number: 12345678\n\
Date,Description,Amount,Balance,Reference\n\
2024-11-23,STRIPE PAYOUT po_123456,\"1,000.00\",\"2,500.00\",TRC-2\n\
2024-11-22,Card fees,-35.80,\"1,500.00\",\n";
    let got = parse_bank_statement(csv.as_bytes(), "bank.csv", None, None).unwrap();
    let s = &got[0];
    assert_eq!(s.account_id.as_deref(), Some("12345678"));
    // Newest-first rows are put in date order; the balances follow.
    assert_eq!(s.lines[0].amount, -3_580);
    assert_eq!(s.lines[0].line, 4);
    assert_eq!(s.lines[1].references, vec!["TRC-2".to_string()]);
    assert_eq!(s.opening, bal(d(2024, 11, 22), 153_580));
    assert_eq!(s.closing, bal(d(2024, 11, 23), 250_000));
    assert_eq!(s.roll_forward_gap(), Some(0));
}

#[test]
fn a_saved_mapping_reads_other_headers() {
    let toml_like = serde_json::json!({
        "date": ["记账日"],
        "credit": ["进账"],
        "debit": ["出账"],
        "currency": "USD",
        "date_formats": ["%d/%m/%Y"],
    });
    let mapping: BankTableMapping = serde_json::from_value(toml_like).unwrap();
    assert_eq!(mapping.text, BankTableMapping::default().text);
    let csv = "记账日,进账,出账,摘要\n22/11/2024,10.00,,in\n23/11/2024,,2.50,out\n";
    let got = parse_bank_statement(csv.as_bytes(), "m.csv", None, Some(&mapping)).unwrap();
    let amounts: Vec<i64> = got[0].lines.iter().map(|l| l.amount).collect();
    assert_eq!(amounts, vec![1_000, -250]);
    assert_eq!(got[0].currency, Currency::USD);
    assert_eq!(got[0].lines[1].booking_date, d(2024, 11, 23));
    assert_eq!(got[0].opening, None);
}

// ---- hostile and broken files ----

fn refused(bytes: &[u8], name: &str, format: Option<BankFormat>) -> BankImportError {
    match parse_bank_statement(bytes, name, format, None) {
        Ok(s) => panic!("{name} was accepted: {s:?}"),
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.contains('\n'), "one line: {shown}");
            assert!(shown.starts_with(name), "names the file: {shown}");
            e
        }
    }
}

#[test]
fn doctype_entity_bomb_is_refused_at_its_line() {
    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<Document><BkToCstmrStmt><Stmt><Id>&lol2;</Id></Stmt></BkToCstmrStmt></Document>\n";
    let e = refused(bomb.as_bytes(), "bomb.xml", None);
    assert_eq!(e.rejected.len(), 1);
    assert!(e.to_string().contains("DOCTYPE"), "{e}");
    assert!(e.rejected[0].line <= 5, "{e}");
}

#[test]
fn an_undeclared_entity_is_refused() {
    let x = "<Document><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>";
    let e = refused(x.as_bytes(), "xxe.xml", None);
    assert!(e.to_string().contains("&xxe;"), "{e}");
}

#[test]
fn truncated_xml_names_where_it_ends() {
    let bytes = fixture("camt053_v02.xml");
    let cut = &bytes[..bytes.len() / 2];
    let e = refused(cut, "cut.xml", Some(BankFormat::Camt053));
    let shown = e.to_string();
    assert!(shown.contains("truncated"), "{shown}");
    assert!(e.rejected[0].line > 100, "{shown}");
}

#[test]
fn deep_nesting_is_refused() {
    let x = format!("<Document><BkToCstmrStmt>{}", "<a>".repeat(100));
    let e = refused(x.as_bytes(), "deep.xml", None);
    assert!(e.to_string().contains("nest"), "{e}");
}

#[test]
fn camt_wrong_currency_and_bad_amount_list_every_entry() {
    let text = String::from_utf8(fixture("camt053_v02.xml")).unwrap();
    let bad = text
        .replacen(
            "<Amt Ccy=\"EUR\">1523.40</Amt>",
            "<Amt Ccy=\"XYZ\">1523.40</Amt>",
            1,
        )
        .replacen(
            "<Amt Ccy=\"EUR\">12.50</Amt>",
            "<Amt Ccy=\"EUR\">12.3.4</Amt>",
            1,
        )
        .replacen(
            "<Amt Ccy=\"EUR\">300.00</Amt>",
            "<Amt Ccy=\"USD\">300.00</Amt>",
            1,
        );
    let e = refused(bad.as_bytes(), "bad.xml", None);
    assert_eq!(e.rejected.len(), 3, "{e:?}");
    assert!(e.rejected[0].reason.contains("entry 1"), "{e:?}");
    assert!(e.rejected[0].reason.contains("XYZ"), "{e:?}");
    assert!(e.rejected[1].reason.contains("12.3.4"), "{e:?}");
    assert!(e.rejected[2].reason.contains("USD differs"), "{e:?}");
    assert!(e.to_string().contains("(and 2 more rows rejected)"), "{e}");
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].lines().count() as u64;
    // A rejected entry is named by the line of its <Ntry>, the line before its amount.
    assert_eq!(
        e.rejected[1].line,
        line_of("<Amt Ccy=\"EUR\">12.50</Amt>") - 1
    );
}

#[test]
fn camt_negative_amount_and_bad_date_are_refused() {
    let text = String::from_utf8(fixture("camt053_v08.xml")).unwrap();
    let bad = text.replacen(">1200.00<", ">-1200.00<", 1).replacen(
        "2024-11-25T09:12:00+08:00",
        "2024-13-25T09:12:00",
        1,
    );
    let e = refused(bad.as_bytes(), "v08.xml", None);
    assert_eq!(e.rejected.len(), 2, "{e:?}");
    assert!(e.rejected[0].reason.contains("is not a date"), "{e:?}");
    assert!(e.rejected[1].reason.contains("negative"), "{e:?}");
}

#[test]
fn mt940_bad_amount_and_bad_date_name_their_lines() {
    let text = String::from_utf8(fixture("mt940_ing_dk.sta")).unwrap();
    let bad = text.replacen("C1523,40NTRF", "C12.3.4NTRF", 1).replacen(
        ":61:2501020102RC",
        ":61:2513020102RC",
        1,
    );
    let e = refused(bad.as_bytes(), "bad.sta", None);
    let lines: Vec<u64> = e.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![9, 27], "{e:?}");
    assert!(e.rejected[0].reason.contains("\"12.3.4\""), "{e:?}");
    assert!(e.rejected[1].reason.contains("not a date"), "{e:?}");
    assert!(
        e.to_string().starts_with("bad.sta line 9: :61: amount"),
        "{e}"
    );
}

#[test]
fn mt940_wrong_currency_is_refused() {
    let text = String::from_utf8(fixture("mt940_ing_dk.sta")).unwrap();
    let bad = text.replacen(":60F:C241121EUR", ":60F:C241121EUX", 1);
    let e = refused(bad.as_bytes(), "cur.sta", None);
    assert_eq!(e.rejected[0].line, 8, "{e:?}");
    assert!(e.to_string().contains("EUX"), "{e}");
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

const HEADER: &str = "交易日期,收入金额,支出金额,余额,对方户名,摘要,流水号\n";

#[test]
fn table_rows_credit_and_debit_both_filled_bad_amount_and_bad_date() {
    let csv = format!(
        "账号：6222000011112222\n{HEADER}\
2024-11-22,100.00,,100.00,甲,a,1\n\
2024-11-22,5.00,3.00,102.00,乙,b,2\n\
2024-11-22,12.3.4,,114.00,丙,c,3\n\
2024-11-31,1.00,,115.00,丁,d,4\n\
2024-11-23,,,115.00,戊,e,5\n\
合计,118.30,3.00,,,,\n"
    );
    let e = refused(&gbk(&csv), "t.csv", None);
    let lines: Vec<u64> = e.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![4, 5, 6, 7], "{e:?}");
    assert!(e.rejected[0].reason.contains("both filled"), "{e:?}");
    assert!(e.rejected[1].reason.contains("12.3.4"), "{e:?}");
    assert!(
        e.rejected[2]
            .reason
            .contains("\"2024-11-31\" is not a date"),
        "{e:?}"
    );
    assert!(e.rejected[3].reason.contains("neither"), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "t.csv line 4: {} (and 3 more rows rejected)",
            e.rejected[0].reason
        )
    );
}

#[test]
fn table_without_a_header_is_refused() {
    let csv = "招商银行\n日期范围,2024-11-01,2024-11-30\n1,2,3\n";
    let e = refused(csv.as_bytes(), "nohdr.csv", Some(BankFormat::Table));
    let shown = e.to_string();
    assert!(shown.contains("no header row in lines 1–3"), "{shown}");
    assert!(shown.contains("交易日期"), "{shown}");
}

#[test]
fn table_wrong_currency_cell_is_refused() {
    let csv =
        "交易日期,金额,币种\n2024-11-22,1.00,人民币\n2024-11-22,2.00,XYZ\n2024-11-22,3.00,USD\n";
    let e = refused(csv.as_bytes(), "c.csv", None);
    assert_eq!(e.rejected.len(), 2, "{e:?}");
    assert!(
        e.rejected[0].reason.contains("unknown currency \"XYZ\""),
        "{e:?}"
    );
    assert!(e.rejected[1].reason.contains("USD differs"), "{e:?}");
}

#[test]
fn inexact_spreadsheet_numbers_are_refused() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "交易日期").unwrap();
    ws.write_string(0, 1, "金额").unwrap();
    ws.write_string(1, 0, "2024-11-22").unwrap();
    ws.write_number(1, 1, 1234.5).unwrap();
    ws.write_string(2, 0, "2024-11-22").unwrap();
    ws.write_number(2, 1, 0.300_000_000_000_000_04_f64).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let e = refused(&bytes, "n.xlsx", None);
    assert_eq!(e.rejected.len(), 1, "{e:?}");
    assert_eq!(e.rejected[0].line, 3);
    assert!(
        e.rejected[0].reason.contains("0.30000000000000004"),
        "{e:?}"
    );
}

#[test]
fn unknown_format_and_empty_files_are_refused() {
    let e = refused(b"hello world", "notes.txt", None);
    assert!(e.message.contains("not a recognised bank statement"), "{e}");
    let e = refused(b"", "empty.sta", None);
    assert!(e.message.contains("no MT940 statement"), "{e}");
    let e = refused(b"<a/>", "x.xml", Some(BankFormat::Camt053));
    assert!(e.message.contains("no BkToCstmrStmt"), "{e}");
}

#[test]
fn an_xlsx_zip_bomb_is_refused_before_calamine_loads_it() {
    use std::io::Write;
    // A well-formed workbook whose sheet XML is 48 MiB of one repeated row: it deflates
    // about 1000 : 1, far past the ratio limit shared with trade statements.
    let row = "<row><c t=\"inlineStr\"><is><t>交易日期</t></is></c></row>";
    let mut sheet = String::from(
        "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    while sheet.len() < 48 * 1024 * 1024 {
        sheet.push_str(row);
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(sheet.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
    let e = refused(&bytes, "bomb.xlsx", None);
    assert!(e.message.contains("max_compression_ratio"), "{e}");
    assert!(e.message.contains("xl/worksheets/sheet1.xml"), "{e}");
}
