//! Unit tests of the settlement match: each step and each rule on small hand-made days.
//! November 2024: Mon 18, Fri 22, Sat 23, Sun 24, Mon 25, Wed 27, Thu 28, Fri 29.

use super::matching::*;
use super::*;
use crate::domain::Provider;
use crate::money::Currency;
use chrono::{NaiveDate, TimeZone, Utc};

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, day).unwrap()
}

fn payout(id: &str, amount: i64, arrival: u32) -> Payout {
    Payout {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        payout_id: id.into(),
        amount,
        currency: Currency::CNY,
        created_at: Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap(),
        arrival_date: nov(arrival),
        trace_id: None,
        automatic: true,
        status: PayoutStatus::Paid,
    }
}

fn credit(amount: i64, day: u32, line: u64) -> BankLine {
    BankLine {
        booking_date: nov(day),
        value_date: None,
        amount,
        currency: Currency::CNY,
        counterparty: None,
        references: vec![],
        text: String::new(),
        line,
    }
}

fn with_text(mut l: BankLine, text: &str) -> BankLine {
    l.text = text.into();
    l
}

fn from_stripe(mut l: BankLine) -> BankLine {
    l.counterparty = Some("STRIPE PAYMENTS EUROPE LTD".into());
    l
}

/// Today well after every window: what nothing explains is a finding.
fn settings() -> SettleSettings {
    let mut s = SettleSettings::new(nov(29) + chrono::Days::new(30));
    s.counterparties = vec![(Provider::Stripe, "Stripe Payments".into())];
    s
}

fn run(payouts: &[Payout], bank: &[BankLine]) -> SettleResult {
    match_payouts(payouts, bank, &PriorDecisions::default(), &settings())
}

fn classes(r: &SettleResult) -> Vec<SettleClass> {
    r.findings.iter().map(|f| f.class).collect()
}

#[test]
fn a_reference_with_the_same_amount_is_booked() {
    let payouts = [
        payout("po_1QaBcD", 10_000, 22),
        payout("po_2XyZwV", 10_000, 22),
    ];
    let bank = [with_text(credit(10_000, 25, 7), "STRIPE/po_2XyZwV/PAYOUT")];
    let r = run(&payouts, &bank);
    assert_eq!(r.links.len(), 1);
    let l = &r.links[0];
    assert_eq!((l.rule, l.confidence), (LinkRule::Reference, 100));
    assert_eq!(
        (l.payouts.clone(), l.bank_lines.clone()),
        (vec![1], vec![0])
    );
    assert!(l
        .evidence
        .iter()
        .any(|e| e.contains("names payout po_2XyZwV")));
    assert!(l
        .evidence
        .iter()
        .any(|e| e.contains("same amount 100.00 CNY")));
    assert_eq!(r.arrivals, vec![Arrival::NotArrived, Arrival::Arrived]);
    assert_eq!(classes(&r), vec![SettleClass::PayoutNotArrived]);
}

#[test]
fn a_reference_with_another_amount_is_linked_and_reported() {
    let payouts = [payout("po_1QaBcD", 10_000, 22)];
    let mut line = credit(9_990, 25, 3);
    line.references = vec!["E2E-PO_1QABCD".into()];
    let r = run(&payouts, &[line]);
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].rule, LinkRule::Reference);
    assert_eq!(r.arrivals, vec![Arrival::Arrived]);
    assert_eq!(classes(&r), vec![SettleClass::PayoutAmountMismatch]);
    let f = &r.findings[0];
    assert_eq!((f.expected, f.actual), (Some(10_000), Some(9_990)));
    assert_eq!(
        (f.payouts.clone(), f.bank_lines.clone()),
        (vec![0], vec![0])
    );
    assert!(f.detail.contains("difference -0.10 CNY"), "{}", f.detail);
}

#[test]
fn a_trace_id_in_chinese_text_is_a_reference() {
    let mut p = payout("2088000111", 50_000, 22);
    p.provider = Provider::Alipay;
    p.trace_id = Some("20241122880001".into());
    let bank = [with_text(
        credit(50_000, 22, 1),
        "支付宝提现20241122880001 附言",
    )];
    let r = run(&[p], &bank);
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].rule, LinkRule::Reference);
    assert!(r.findings.is_empty());
}

#[test]
fn a_reference_in_another_currency_is_not_a_link() {
    let p = payout("po_1QaBcD", 10_000, 22);
    let mut line = with_text(credit(10_000, 22, 1), "po_1QaBcD");
    line.currency = Currency::USD;
    let r = run(&[p], &[line]);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert_eq!(
        classes(&r),
        vec![
            SettleClass::PayoutNotArrived,
            SettleClass::BankCreditWithoutPayout
        ]
    );
}

#[test]
fn a_line_naming_several_payouts_is_one_link() {
    let payouts = [
        payout("po_AAAAAA", 30_000, 21),
        payout("po_BBBBBB", 20_000, 22),
        payout("po_CCCCCC", 20_000, 22),
    ];
    let bank = [with_text(credit(50_000, 25, 1), "po_AAAAAA po_BBBBBB")];
    let r = run(&payouts, &bank);
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].payouts, vec![0, 1]);
    assert_eq!(r.links[0].confidence, 100);
    assert_eq!(classes(&r), vec![SettleClass::PayoutNotArrived]);

    // Sums that differ: still linked (the references are certain), and reported.
    let bank = [with_text(credit(49_000, 25, 1), "po_AAAAAA po_BBBBBB")];
    let r = run(&payouts, &bank);
    assert_eq!(r.links[0].payouts, vec![0, 1]);
    let f = &r.findings[0];
    assert_eq!(f.class, SettleClass::PayoutAmountMismatch);
    assert_eq!((f.expected, f.actual), (Some(50_000), Some(49_000)));
}

#[test]
fn one_to_one_by_amount_across_a_weekend() {
    // Expected Friday, booked Monday: one business day late, from Stripe's entity.
    let payouts = [payout("po_1", 12_345, 22)];
    let r = run(&payouts, &[from_stripe(credit(12_345, 25, 9))]);
    assert_eq!(r.links.len(), 1);
    let l = &r.links[0];
    assert_eq!((l.rule, l.confidence), (LinkRule::AmountDate, 95));
    assert!(l
        .evidence
        .iter()
        .any(|e| e.contains("1 business day after")));
    assert!(r.findings.is_empty());

    // Wednesday is three business days late: 95 − 10 = 85, a suggestion.
    let r = run(&payouts, &[from_stripe(credit(12_345, 27, 9))]);
    assert!(r.links.is_empty());
    assert_eq!(r.suggestions[0].confidence, 85);
    assert_eq!(r.arrivals, vec![Arrival::Suggested]);

    // Thursday is four business days late: outside the window, not matched.
    let r = run(&payouts, &[from_stripe(credit(12_345, 28, 9))]);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert_eq!(
        classes(&r),
        vec![
            SettleClass::PayoutNotArrived,
            SettleClass::BankCreditWithoutPayout
        ]
    );

    // Expected Monday, booked the Friday before: one business day early is inside.
    let r = run(
        &[payout("po_1", 12_345, 25)],
        &[from_stripe(credit(12_345, 22, 9))],
    );
    assert_eq!(r.links[0].confidence, 95);
    assert!(r.links[0]
        .evidence
        .iter()
        .any(|e| e.contains("1 business day before")));
}

#[test]
fn without_the_providers_counterparty_one_to_one_is_only_suggested() {
    let r = run(&[payout("po_1", 12_345, 22)], &[credit(12_345, 22, 9)]);
    assert!(r.links.is_empty());
    assert_eq!(r.suggestions.len(), 1);
    assert_eq!(
        (r.suggestions[0].rule, r.suggestions[0].confidence),
        (LinkRule::AmountDate, 85)
    );
    assert!(r.findings.is_empty());
}

#[test]
fn equal_amounts_that_could_cross_are_not_guessed() {
    // Both credits fall in both windows: two pairings are equally good.
    let payouts = [payout("po_1", 5_000, 22), payout("po_2", 5_000, 25)];
    let bank = [
        from_stripe(credit(5_000, 25, 1)),
        from_stripe(credit(5_000, 26, 2)),
    ];
    let r = run(&payouts, &bank);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert_eq!(r.arrivals, vec![Arrival::NotArrived, Arrival::NotArrived]);
    assert_eq!(r.findings.len(), 4);
    assert!(r.findings.iter().all(|f| f.detail.contains("not guessed")));

    // One payout, two equal credits in its window: which one is not known either.
    let r = run(&payouts[..1], &bank);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert!(r.findings[0]
        .detail
        .contains("2 bank credits of the same amount fall in its window"));
}

#[test]
fn equal_amounts_in_separate_windows_pair_up() {
    let payouts = [payout("po_1", 5_000, 18), payout("po_2", 5_000, 25)];
    let bank = [
        from_stripe(credit(5_000, 26, 1)),
        from_stripe(credit(5_000, 19, 2)),
    ];
    let r = run(&payouts, &bank);
    let pairs: Vec<(Vec<usize>, Vec<usize>)> = r
        .links
        .iter()
        .map(|l| (l.payouts.clone(), l.bank_lines.clone()))
        .collect();
    assert_eq!(pairs, vec![(vec![0], vec![1]), (vec![1], vec![0])]);
}

#[test]
fn several_payouts_in_one_credit_are_suggested() {
    let payouts = [
        payout("po_1", 30_000, 20),
        payout("po_2", 45_000, 21),
        payout("po_3", 12_500, 22),
    ];
    let r = run(&payouts, &[from_stripe(credit(75_000, 25, 4))]);
    assert!(r.links.is_empty());
    assert_eq!(r.suggestions.len(), 1);
    let s = &r.suggestions[0];
    assert_eq!(s.rule, LinkRule::GroupedPayouts);
    assert_eq!(
        (s.payouts.clone(), s.bank_lines.clone()),
        (vec![0, 1], vec![0])
    );
    assert_eq!(s.confidence, 80);
    assert!(
        s.evidence[0].contains("2 payouts sum to 750.00 CNY"),
        "{:?}",
        s.evidence
    );
    assert_eq!(
        r.arrivals,
        vec![Arrival::Suggested, Arrival::Suggested, Arrival::NotArrived]
    );
    assert_eq!(r.search.searches, 1);
    assert_eq!(r.search.ambiguous, 0);

    // Without the provider's counterparty, three payouts: 75 − 5.
    let r = run(&payouts, &[credit(87_500, 25, 4)]);
    assert_eq!(r.suggestions[0].payouts, vec![0, 1, 2]);
    assert_eq!(r.suggestions[0].confidence, 70);
}

#[test]
fn two_fitting_subsets_are_not_guessed() {
    let payouts = [
        payout("po_1", 10_000, 21),
        payout("po_2", 20_000, 21),
        payout("po_3", 30_000, 22),
        payout("po_4", 40_000, 22),
    ];
    let r = run(&payouts, &[from_stripe(credit(50_000, 25, 4))]);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert_eq!(r.search.ambiguous, 1);
    let f = r
        .findings
        .iter()
        .find(|f| f.class == SettleClass::BankCreditWithoutPayout)
        .unwrap();
    assert!(
        f.detail.contains("2 subsets of payouts fit; not guessed"),
        "{}",
        f.detail
    );
}

#[test]
fn one_payout_split_over_two_credits_is_suggested() {
    let payouts = [payout("po_1", 100_000, 22)];
    let bank = [
        from_stripe(credit(60_000, 22, 1)),
        from_stripe(credit(40_000, 25, 2)),
        credit(-40_000, 25, 3),
    ];
    let r = run(&payouts, &bank);
    assert_eq!(r.suggestions.len(), 1);
    let s = &r.suggestions[0];
    assert_eq!(s.rule, LinkRule::SplitPayout);
    assert_eq!(
        (s.payouts.clone(), s.bank_lines.clone()),
        (vec![0], vec![0, 1])
    );
    assert_eq!(s.confidence, 80);
    // The debit is ignored: no finding for it.
    assert!(r.findings.is_empty());
}

#[test]
fn suggestions_wanting_the_same_payout_are_both_dropped() {
    // 500.00 = 300.00 + 200.00 and 250.00 = 200.00 + 50.00: each credit has exactly one
    // subset, and both want po_2.
    let payouts = [
        payout("po_1", 30_000, 22),
        payout("po_2", 20_000, 22),
        payout("po_3", 5_000, 22),
    ];
    let bank = [credit(50_000, 22, 1), credit(25_000, 22, 2)];
    let r = run(&payouts, &bank);
    assert!(r.suggestions.is_empty());
    assert_eq!(r.search.ambiguous, 2);
    let notes: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.class == SettleClass::BankCreditWithoutPayout)
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(notes
        .iter()
        .all(|d| d.contains("another bank credit wants some of the same payouts")));
}

#[test]
fn a_rejected_suggestion_is_not_suggested_again() {
    let payouts = [
        payout("po_1", 30_000, 20),
        payout("po_2", 45_000, 21),
        payout("po_3", 12_500, 22),
    ];
    let bank = [from_stripe(credit(75_000, 25, 4))];
    let prior = PriorDecisions {
        accepted: vec![],
        rejected: vec![(vec![1, 0], vec![0])],
    };
    let r = match_payouts(&payouts, &bank, &prior, &settings());
    assert!(r.suggestions.is_empty() && r.links.is_empty());
    assert_eq!(r.search.ambiguous, 0);

    // A rejected 1:1 pairing is not offered again either.
    let prior = PriorDecisions {
        accepted: vec![],
        rejected: vec![(vec![0], vec![0])],
    };
    let r = match_payouts(
        &[payout("po_1", 12_345, 22)],
        &[credit(12_345, 22, 9)],
        &prior,
        &settings(),
    );
    assert!(r.suggestions.is_empty() && r.links.is_empty());
    assert!(r.findings[0].detail.contains("a reviewer rejected"));
}

#[test]
fn a_rejected_subset_leaves_the_other_one() {
    // Two subsets fit; the reviewer rejected one, so the other is the only one left.
    let payouts = [
        payout("po_1", 10_000, 21),
        payout("po_2", 20_000, 21),
        payout("po_3", 30_000, 22),
        payout("po_4", 40_000, 22),
    ];
    let prior = PriorDecisions {
        accepted: vec![],
        rejected: vec![(vec![0, 3], vec![0])],
    };
    let r = match_payouts(&payouts, &[credit(50_000, 25, 4)], &prior, &settings());
    assert_eq!(r.suggestions.len(), 1);
    assert_eq!(r.suggestions[0].payouts, vec![1, 2]);
}

#[test]
fn an_accepted_link_stands() {
    // The reviewer paired po_1 with the second credit; the amounts would pair it with the
    // first. The accepted link comes first and the rest follows from what is left.
    let payouts = [payout("po_1", 10_000, 22), payout("po_2", 9_000, 22)];
    let bank = [
        from_stripe(credit(10_000, 22, 1)),
        from_stripe(credit(9_500, 22, 2)),
    ];
    let prior = PriorDecisions {
        accepted: vec![(vec![0], vec![1])],
        rejected: vec![],
    };
    let r = match_payouts(&payouts, &bank, &prior, &settings());
    assert_eq!(r.links.len(), 1);
    let l = &r.links[0];
    assert_eq!((l.rule, l.confidence), (LinkRule::Reviewer, 100));
    assert_eq!(
        (l.payouts.clone(), l.bank_lines.clone()),
        (vec![0], vec![1])
    );
    assert_eq!(
        classes(&r),
        vec![
            SettleClass::PayoutAmountMismatch,
            SettleClass::PayoutNotArrived,
            SettleClass::BankCreditWithoutPayout
        ]
    );

    // A stale accepted link (index out of range) is skipped, not a panic.
    let prior = PriorDecisions {
        accepted: vec![(vec![7], vec![0])],
        rejected: vec![],
    };
    let r = match_payouts(&payouts, &bank, &prior, &settings());
    assert!(r.links.iter().all(|l| l.rule != LinkRule::Reviewer));
}

#[test]
fn failed_payouts_are_not_expected_and_not_matched() {
    let mut p = payout("po_1QaBcD", 10_000, 22);
    p.status = PayoutStatus::Failed;
    let bank = [from_stripe(with_text(credit(10_000, 22, 1), "po_1QaBcD"))];
    let r = run(&[p], &bank);
    assert!(r.links.is_empty() && r.suggestions.is_empty());
    assert_eq!(r.arrivals, vec![Arrival::NotExpected]);
    assert_eq!(classes(&r), vec![SettleClass::BankCreditWithoutPayout]);
}

#[test]
fn a_payout_inside_its_window_is_in_transit() {
    let mut s = settings();
    s.today = nov(27);
    let r = match_payouts(
        &[payout("po_1", 10_000, 22)],
        &[],
        &PriorDecisions::default(),
        &s,
    );
    assert_eq!(r.arrivals, vec![Arrival::InTransit]);
    assert!(r.findings.is_empty());
    s.today = nov(28);
    let r = match_payouts(
        &[payout("po_1", 10_000, 22)],
        &[],
        &PriorDecisions::default(),
        &s,
    );
    assert_eq!(r.arrivals, vec![Arrival::NotArrived]);
    let f = &r.findings[0];
    assert_eq!(f.class, SettleClass::PayoutNotArrived);
    assert_eq!(
        (f.date, f.expected, f.actual),
        (nov(22), Some(10_000), None)
    );
    assert!(
        f.detail.contains("between 2024-11-21 and 2024-11-27"),
        "{}",
        f.detail
    );
}

#[test]
fn grouped_suggestions_are_never_booked() {
    let mut s = settings();
    s.auto_confidence = 50;
    let payouts = [payout("po_1", 30_000, 20), payout("po_2", 45_000, 21)];
    let r = match_payouts(
        &payouts,
        &[from_stripe(credit(75_000, 25, 4))],
        &PriorDecisions::default(),
        &s,
    );
    assert!(r.links.is_empty());
    assert_eq!(r.suggestions.len(), 1);
    assert!(r.suggestions[0].confidence < 90);
}

#[test]
fn a_search_out_of_steps_suggests_nothing() {
    let mut s = settings();
    s.max_steps = 3;
    let payouts: Vec<Payout> = (0..8)
        .map(|i| payout(&format!("po_{i}"), 1_000 + i, 22))
        .collect();
    let r = match_payouts(
        &payouts,
        &[credit(1_000 + 1_001 + 1_002 + 1_007, 22, 1)],
        &PriorDecisions::default(),
        &s,
    );
    assert!(r.suggestions.is_empty());
    assert_eq!(r.search.exhausted, 1);
    assert_eq!(r.search.worst_steps, 3);
    let f = r
        .findings
        .iter()
        .find(|f| f.class == SettleClass::BankCreditWithoutPayout)
        .unwrap();
    assert!(f.detail.contains("stopped after 3 steps"), "{}", f.detail);
}

#[test]
fn class_names_and_explanations() {
    let zh: Vec<&str> = SettleClass::ALL.iter().map(|c| class_name_zh(*c)).collect();
    assert_eq!(
        zh,
        vec![
            "未到账",
            "银行长款",
            "到账金额不符",
            "提现构成不符",
            "余额不连续",
            "提现手续费不符",
            "交易与资金流水不符"
        ]
    );
    for c in SettleClass::ALL {
        assert!(explain(c).ends_with('.'), "{c}");
        assert!(explain_zh(c).ends_with('。'), "{c}");
        assert_eq!(c.as_str().parse::<SettleClass>(), Ok(c));
    }
    let mut all: Vec<&str> = SettleClass::ALL.iter().map(|c| explain(*c)).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), SettleClass::ALL.len());
}

#[test]
fn a_payout_before_a_public_holiday_is_in_transit_until_the_banks_open() {
    // Made Wed 2026-09-30, expected Thu 1 Oct: 国庆 closes the banks 1–7 Oct.
    let mut p = payout("po_golden", 80_000, 1);
    p.arrival_date = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 10, 7).unwrap();
    let mut plain = SettleSettings::new(today);
    plain.days_before = 1;
    plain.days_after = 3;
    let result = match_payouts(
        std::slice::from_ref(&p),
        &[],
        &PriorDecisions::default(),
        &plain,
    );
    assert_eq!(
        result.arrivals,
        vec![Arrival::NotArrived],
        "Mon–Fri: the window ended on the 6th"
    );

    let mut holidays = plain.clone();
    holidays.calendar = calendar::BusinessCalendar::new(
        (1..=7).map(|d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap()),
        [NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()],
    )
    .unwrap();
    let result = match_payouts(
        std::slice::from_ref(&p),
        &[],
        &PriorDecisions::default(),
        &holidays,
    );
    assert_eq!(result.arrivals, vec![Arrival::InTransit]);
    // Booked on the first open day, the credit is its arrival, on time.
    let mut credit = credit(80_000, 1, 1);
    credit.booking_date = NaiveDate::from_ymd_opt(2026, 10, 8).unwrap();
    credit.counterparty = Some("STRIPE PAYMENTS".into());
    let mut s = holidays.clone();
    s.counterparties = vec![(Provider::Stripe, "stripe".into())];
    let result = match_payouts(&[p], &[credit], &PriorDecisions::default(), &s);
    assert_eq!(
        result.arrivals,
        vec![Arrival::Arrived],
        "{:?}",
        result.links
    );
    assert!(
        result.links[0]
            .evidence
            .iter()
            .any(|e| e.contains("1 business day after")),
        "{:?}",
        result.links[0].evidence
    );
}
