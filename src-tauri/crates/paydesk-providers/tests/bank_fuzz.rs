//! Fuzzing the bank parsers: arbitrary bytes, every truncation and random byte changes of
//! each valid fixture never panic; a parse returns statements or an error naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_providers::bank::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/bank")
            .join(name),
    )
    .unwrap()
}

const FORMATS: [Option<BankFormat>; 4] = [
    None,
    Some(BankFormat::Camt053),
    Some(BankFormat::Mt940),
    Some(BankFormat::Table),
];

/// Parses in every format; an error must name the file and fit on one line.
fn parse_all(bytes: &[u8], name: &str) {
    for f in FORMATS {
        if let Err(e) = parse_bank_statement(bytes, name, f, None) {
            let shown = e.to_string();
            assert!(shown.starts_with(name), "{shown}");
            assert!(!shown.contains('\n'), "{shown}");
        }
    }
}

/// A small generated XLSX, as the only binary sample.
fn xlsx() -> Vec<u8> {
    let csv = fixture("icbc_gbk.csv");
    let stmt = parse_bank_statement(&csv, "icbc_gbk.csv", None, None)
        .unwrap()
        .remove(0);
    write_bank_xlsx(&stmt, "示例").unwrap()
}

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("camt053_v02.xml", fixture("camt053_v02.xml")),
        ("camt053_v08.xml", fixture("camt053_v08.xml")),
        ("mt940_ing_dk.sta", fixture("mt940_ing_dk.sta")),
        ("icbc_gbk.csv", fixture("icbc_gbk.csv")),
        ("cmb.xlsx", xlsx()),
    ]
}

#[test]
fn every_truncation_of_every_fixture_is_handled() {
    for (name, bytes) in samples() {
        // Text fixtures are cut at every byte; the XLSX (a ZIP) at every 7th.
        let step = if name.ends_with(".xlsx") { 7 } else { 1 };
        for n in (0..bytes.len()).step_by(step) {
            match parse_bank_statement(&bytes[..n], name, None, None) {
                Ok(statements) => {
                    for s in statements {
                        for l in &s.lines {
                            assert!(l.line >= 1, "{name}[..{n}]: line numbers start at 1");
                        }
                    }
                }
                Err(e) => assert!(e.to_string().starts_with(name), "{e}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_all(&bytes, "fuzz.bin");
    }

    #[test]
    fn arbitrary_text_with_format_markers_never_panics(
        prefix in prop::sample::select(vec![
            "<Document><BkToCstmrStmt><Stmt>",
            ":20:X\n:60F:C240101EUR1,00\n:61:",
            "{1:F01}{4:\n:20:",
            "交易日期,收入金额,支出金额,余额\n",
        ]),
        body in "[ -~\\n收支交易日期金额余额合计]{0,400}",
    ) {
        parse_all(format!("{prefix}{body}").as_bytes(), "fuzz.txt");
    }

    #[test]
    fn changed_bytes_never_panic(
        which in 0usize..5,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let (name, mut bytes) = samples().swap_remove(which);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        parse_all(&bytes, name);
    }
}
