//! Fuzzing with proptest: arbitrary bytes and mutated valid files never panic, and a parse
//! either returns every line or an error that names the file.
//! Failing cases are saved in `statement_fuzz.proptest-regressions` (the regression corpus).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::domain::Provider;
use paydesk_providers::statement::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/samples")
            .join(rel),
    )
    .unwrap()
}

fn samples() -> Vec<Vec<u8>> {
    [
        "alipay/20880211096256330156_20190916_业务明细.csv",
        "alipay/20880211096256330156_20190916.csv.zip",
        "wechat/1921000401_20190219_ALL.csv",
        "wechat/1921000401_20190219_ALL.csv.gz",
        "stripe/balance_change_from_activity_itemized_2026-11-22.csv",
    ]
    .iter()
    .map(|p| sample(p))
    .collect()
}

fn manual() -> StatementFormat {
    let mut m = ColumnMapping::new("balance_transaction_id", "gross", "created_utc");
    m.fee = Some("fee".into());
    m.kind = Some("reporting_category".into());
    m.kind_values
        .insert("charge".into(), paydesk_core::domain::LineKind::Payment);
    StatementFormat::Manual(m)
}

fn formats() -> Vec<StatementFormat> {
    vec![
        StatementFormat::AlipayTradeBill,
        StatementFormat::WechatTradeBill,
        StatementFormat::StripeBalanceReport,
        StatementFormat::Normalized,
        manual(),
    ]
}

fn check_all(bytes: &[u8]) {
    let _ = detect_format(bytes);
    let ctx = ParseContext::new("a", Provider::Manual, "fuzz.csv");
    for f in formats() {
        match parse_statement(bytes, &f, &ctx) {
            Ok(p) => assert_eq!(p.content_sha256.len(), 64),
            Err(e) => {
                assert!(e.file.starts_with("fuzz.csv"), "{e}");
                assert!(!e.reason.is_empty());
                if let Some(l) = e.line {
                    assert!(l >= 1, "{e}");
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (
            any::<usize>(),
            proptest::collection::vec(
                prop_oneof![
                    any::<u8>(),
                    Just(b','),
                    Just(b'"'),
                    Just(b'\n'),
                    Just(b'`'),
                    Just(b'#'),
                    Just(b'-'),
                    Just(b'.')
                ],
                1..8
            )
        )
            .prop_map(|(p, v)| Mutation::Insert(p, v)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(p, x) => {
                let i = p % b.len();
                b[i] ^= x | 1;
            }
            Mutation::Insert(p, v) => {
                let i = p % (b.len() + 1);
                b.splice(i..i, v.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let i = p % b.len();
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Truncate(p) => b.truncate(p % b.len()),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_all(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "[a-z0-9,\"`#\n\r\t .:-]{0,400}") {
        check_all(text.as_bytes());
        let with_header = format!("balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n{text}");
        check_all(with_header.as_bytes());
    }

    #[test]
    fn mutated_samples_never_panic(which in 0usize..5, muts in proptest::collection::vec(mutation(), 1..6)) {
        let base = samples().swap_remove(which);
        let mutated = apply(base, &muts);
        check_all(&mutated);
    }
}

#[test]
fn unmutated_samples_still_parse() {
    // Guard for the fuzz harness: the base corpus is valid for its own format.
    let ctx = ParseContext::new("a", Provider::Manual, "fuzz.csv");
    let s = samples();
    let expect = [
        StatementFormat::AlipayTradeBill,
        StatementFormat::AlipayTradeBill,
        StatementFormat::WechatTradeBill,
        StatementFormat::WechatTradeBill,
        StatementFormat::StripeBalanceReport,
    ];
    for (b, f) in s.iter().zip(expect) {
        assert!(!parse_statement(b, &f, &ctx).unwrap().lines.is_empty());
    }
}
