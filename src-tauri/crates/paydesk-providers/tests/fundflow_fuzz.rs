//! Fuzzing the fund-flow parsers: arbitrary bytes, every truncation and random mutations of
//! the fixtures never panic, and a refusal names the file with a reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paydesk_core::domain::Provider;
use paydesk_providers::fundflow::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/fundflow")
            .join(rel),
    )
    .unwrap()
}

/// The fixtures and the writers' API pages: every layout the entry point recognises.
fn samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "alipay/20888011365400330156_20121229_账务明细.csv",
        "alipay/20888011365400330156_20121229.csv.zip",
        "wechat/1601959334_20210201_BASIC_fundflow.csv",
        "wechat/1601959334_20210201_BASIC_fundflow.csv.gz",
        "stripe/payout_reconciliation_itemized_5_2026-11-25.csv",
    ]
    .iter()
    .map(|p| fixture(p))
    .collect();
    let stripe = parse_fund_flows(&v[4], "r.csv", Provider::Stripe, "s").unwrap();
    let mut flows = stripe.flows.clone();
    for f in &mut flows {
        f.payout_id = None;
    }
    v.push(write_stripe_balance_transactions_page(&flows, true).into_bytes());
    v.push(write_stripe_payouts_page(&stripe.payouts, false).into_bytes());
    v
}

/// Parses `bytes` every way there is; panics only on a malformed refusal.
fn check_all(bytes: &[u8]) {
    let _ = detect_fund_flow_layout(bytes, "fuzz.bin");
    for provider in [Provider::Alipay, Provider::Wechat, Provider::Stripe] {
        match parse_fund_flows(bytes, "fuzz.bin", provider, "a") {
            Ok(p) => {
                assert_eq!(p.layout.provider(), provider);
                for (i, f) in p.flows.iter().enumerate() {
                    assert_eq!(f.net, f.gross - f.fee, "flow {i}");
                    assert!(f.line >= 1);
                }
            }
            Err(e) => {
                assert!(e.file.starts_with("fuzz.bin"), "{e}");
                assert!(!e.reason.is_empty());
                assert!(e.line.is_none_or(|l| l >= 1), "{e}");
            }
        }
    }
    for r in [
        parse_stripe_balance_transactions(bytes, "a").map(|_| ()),
        parse_stripe_payouts(bytes, "a").map(|_| ()),
    ] {
        if let Err(e) = r {
            assert!(!e.reason.is_empty());
        }
    }
}

#[test]
fn every_truncation_of_every_sample() {
    for s in samples() {
        for n in 0..=s.len() {
            check_all(&s[..n]);
        }
    }
}

/// A truncated file is refused, never read as a shorter one: cut anywhere before their last
/// line, the text layouts fail (their end line, totals or summary are missing or disagree).
#[test]
fn truncated_text_files_are_refused() {
    let cases = [
        (
            "alipay/20888011365400330156_20121229_账务明细.csv",
            Provider::Alipay,
        ),
        (
            "wechat/1601959334_20210201_BASIC_fundflow.csv",
            Provider::Wechat,
        ),
    ];
    for (rel, provider) in cases {
        let s = fixture(rel);
        let last_line = s[..s.len() - 2].iter().rposition(|&b| b == b'\n').unwrap();
        // Up to the last line's start, less its CR LF (which cost nothing when cut).
        for n in 0..last_line - 1 {
            assert!(
                parse_fund_flows(&s[..n], "t.csv", provider, "a").is_err(),
                "{rel} cut at {n} was accepted"
            );
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![
                    Just(b','),
                    Just(b'`'),
                    Just(b'"'),
                    Just(b'\n'),
                    Just(b'#'),
                    Just(b'-'),
                    Just(b'{'),
                    any::<u8>()
                ],
                1..6
            )
        )
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(p, b) => {
                if !bytes.is_empty() {
                    let i = p % len;
                    bytes[i] ^= b | 1;
                }
            }
            Mutation::Insert(p, b) => {
                let i = p % (bytes.len() + 1);
                bytes.splice(i..i, b.iter().copied());
            }
            Mutation::Delete(p, n) => {
                if !bytes.is_empty() {
                    let i = p % len;
                    let end = (i + n).min(bytes.len());
                    bytes.drain(i..end);
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_all(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(which in 0usize..7, muts in prop::collection::vec(mutation(), 1..6)) {
        let s = samples();
        check_all(&apply(s[which % s.len()].clone(), &muts));
    }
}
