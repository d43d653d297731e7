//! Round trips: a statement written by each bank writer parses back to the same statement
//! (amounts, dates, references, text, counterparty, balances), within what each format
//! carries (see `paydesk_providers::bank` writers' doc).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use paydesk_core::money::Currency;
use paydesk_core::settlement::{BankLine, BankStatement, StatedBalance};
use paydesk_providers::bank::*;
use proptest::prelude::*;

/// What a format keeps of a line.
#[derive(Clone, Copy)]
struct Carries {
    max_refs: usize,
    value_date: bool,
    counterparty: bool,
}

const CAMT: Carries = Carries {
    max_refs: 4,
    value_date: true,
    counterparty: true,
};
const MT940: Carries = Carries {
    max_refs: 2,
    value_date: true,
    counterparty: false,
};
const TABLE: Carries = Carries {
    max_refs: 1,
    value_date: false,
    counterparty: true,
};

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::CNY),
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(Currency::parse("EUR").unwrap()),
    ]
}

/// Free text as banks write it: words of Latin letters, digits, CJK and XML/CSV-special
/// characters, single spaces between them, trimmed.
fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(
        "[A-Za-z0-9&<>'\",.提现支付宝财付通手续费结算款]{1,12}",
        0..8,
    )
    .prop_map(|w| w.join(" "))
}

fn reference() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{6,16}"
}

fn line(c: Carries) -> impl Strategy<Value = (i64, u8, u8, Vec<String>, String, Option<String>)> {
    (
        -100_000_000_000i64..100_000_000_000,
        0u8..3,
        0u8..4,
        prop::collection::hash_set(reference(), 0..=c.max_refs),
        words(),
        prop::option::of("[A-Za-z支付宝财付通科技有限公司]{1,10}( [A-Za-z]{1,8}){0,2}"),
    )
        .prop_map(|(a, gap, lag, refs, text, cp)| {
            let mut refs: Vec<String> = refs.into_iter().collect();
            refs.sort();
            (a, gap, lag, refs, text, cp)
        })
}

/// A consistent statement: lines in date order, opening dated by the first line and
/// closing = opening + Σ lines dated by the last.
fn statement(c: Carries) -> impl Strategy<Value = BankStatement> {
    (
        currency(),
        0i64..20_000,
        -1_000_000_000i64..1_000_000_000,
        prop::collection::vec(line(c), 1..8),
        "[0-9]{8,19}",
        "[A-Z0-9]{4,16}",
    )
        .prop_map(move |(cur, start, open, raw, account, id)| {
            let mut day =
                NaiveDate::from_ymd_opt(2001, 1, 1).unwrap() + chrono::Days::new(start as u64);
            let mut lines = Vec::new();
            for (i, (amount, gap, lag, references, text, cp)) in raw.into_iter().enumerate() {
                day = day + chrono::Days::new(u64::from(gap));
                lines.push(BankLine {
                    booking_date: day,
                    value_date: c
                        .value_date
                        .then(|| day + chrono::Days::new(u64::from(lag))),
                    amount,
                    currency: cur,
                    counterparty: if c.counterparty { cp } else { None },
                    references,
                    text,
                    line: i as u64,
                });
            }
            let sum: i64 = lines.iter().map(|l| l.amount).sum();
            BankStatement {
                account_id: Some(account),
                statement_id: Some(id),
                currency: cur,
                opening: Some(StatedBalance {
                    date: lines[0].booking_date,
                    amount: open,
                }),
                closing: Some(StatedBalance {
                    date: day,
                    amount: open + sum,
                }),
                lines,
            }
        })
}

/// The statement with line numbers cleared (each format numbers its lines its own way).
fn unnumbered(mut s: BankStatement) -> BankStatement {
    for l in &mut s.lines {
        l.line = 0;
    }
    s
}

fn parse_one(bytes: &[u8], name: &str, format: BankFormat) -> BankStatement {
    let mut got = parse_bank_statement(bytes, name, Some(format), None)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(bytes)));
    assert_eq!(got.len(), 1);
    unnumbered(got.remove(0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn camt053_round_trip(s in statement(CAMT)) {
        let iban = s.account_id.clone().unwrap();
        let xml = write_camt053(&s, &iban);
        prop_assert_eq!(detect_bank_format(xml.as_bytes(), "s.xml"), Some(BankFormat::Camt053));
        prop_assert_eq!(parse_one(xml.as_bytes(), "s.xml", BankFormat::Camt053), unnumbered(s));
    }

    #[test]
    fn mt940_round_trip(s in statement(MT940)) {
        let account = s.account_id.clone().unwrap();
        let text = write_mt940(&s, &account);
        prop_assert_eq!(detect_bank_format(text.as_bytes(), "s.sta"), Some(BankFormat::Mt940));
        prop_assert_eq!(parse_one(text.as_bytes(), "s.sta", BankFormat::Mt940), unnumbered(s));
    }

    #[test]
    fn xlsx_round_trip(s in statement(TABLE)) {
        let bytes = write_bank_xlsx(&s, "上海示例贸易有限公司").unwrap();
        let mut want = unnumbered(s);
        want.statement_id = None;
        prop_assert_eq!(parse_one(&bytes, "s.xlsx", BankFormat::Table), want);
    }

    #[test]
    fn gbk_csv_round_trip(s in statement(TABLE)) {
        let bytes = write_bank_csv_gbk(&s, "上海示例贸易有限公司");
        let mut want = unnumbered(s);
        want.statement_id = None;
        prop_assert_eq!(parse_one(&bytes, "s.csv", BankFormat::Table), want);
    }
}

#[test]
fn several_mt940_messages_in_one_file() {
    let runner_case = |cur: Currency, id: &str, amount: i64| {
        let day = NaiveDate::from_ymd_opt(2024, 12, 30).unwrap();
        BankStatement {
            account_id: Some("123456789".into()),
            statement_id: Some(id.into()),
            currency: cur,
            opening: Some(StatedBalance {
                date: day,
                amount: 0,
            }),
            closing: Some(StatedBalance { date: day, amount }),
            lines: vec![BankLine {
                booking_date: day,
                value_date: Some(day),
                amount,
                currency: cur,
                counterparty: None,
                references: vec!["po_abcdef".into()],
                text: "STRIPE PAYOUT".into(),
                line: 0,
            }],
        }
    };
    let a = runner_case(Currency::USD, "DAY1", 12_345);
    let b = runner_case(Currency::JPY, "DAY2", -500);
    let file = write_mt940(&a, "123456789") + &write_mt940(&b, "123456789");
    let got: Vec<BankStatement> = parse_bank_statement(file.as_bytes(), "two.sta", None, None)
        .unwrap()
        .into_iter()
        .map(unnumbered)
        .collect();
    assert_eq!(got, vec![a, b]);
}
