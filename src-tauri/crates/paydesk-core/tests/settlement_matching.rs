//! The settlement match through the public API: a day with every class, and properties over
//! random days (no money explained twice, sums of links, order independence, bounded
//! searches).

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::money::Currency;
use paydesk_core::settlement::matching::{
    Arrival, Finding, Link, LinkRule, PayoutFeeSchedule, PriorDecisions, SettleClass, SettleResult,
    SettleSettings,
};
use paydesk_core::settlement::{
    check_bank_balances, check_composition, check_flow_balances, check_payout_fee,
    cross_check_trades, match_payouts, BankLine, BankStatement, FlowKind, FundFlow, Payout,
    PayoutStatus, StatedBalance, TradeCheckWindow,
};
use paydesk_core::Provider;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn day(offset: u64) -> NaiveDate {
    // Monday 2024-11-18.
    NaiveDate::from_ymd_opt(2024, 11, 18).expect("date") + chrono::Days::new(offset)
}

fn payout(id: &str, amount: i64, arrival: NaiveDate, status: PayoutStatus) -> Payout {
    Payout {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        payout_id: id.into(),
        amount,
        currency: Currency::CNY,
        created_at: Utc
            .with_ymd_and_hms(2024, 11, 1, 0, 0, 0)
            .single()
            .expect("time"),
        arrival_date: arrival,
        trace_id: None,
        automatic: true,
        status,
    }
}

fn credit(amount: i64, date: NaiveDate, text: &str, line: u64) -> BankLine {
    BankLine {
        booking_date: date,
        value_date: None,
        amount,
        currency: Currency::CNY,
        counterparty: Some("Stripe Payments Europe".into()),
        references: vec![],
        text: text.into(),
        line,
    }
}

#[test]
fn a_day_with_every_class() {
    let payouts = vec![
        payout("po_REFOK1", 50_000, day(4), PayoutStatus::Paid),
        payout("po_SHORT1", 20_000, day(4), PayoutStatus::Paid),
        payout("po_GONE01", 30_000, day(0), PayoutStatus::Paid),
        payout("po_TRANS1", 40_000, day(10), PayoutStatus::InTransit),
    ];
    let bank = vec![
        credit(50_000, day(7), "PAYOUT po_REFOK1", 1),
        credit(19_900, day(7), "PAYOUT po_SHORT1", 2),
        credit(77_700, day(7), "unknown customer transfer", 3),
        credit(-5_000, day(7), "bank charges", 4),
    ];
    let settings = SettleSettings::new(day(9));
    let r = match_payouts(&payouts, &bank, &PriorDecisions::default(), &settings);
    assert_eq!(
        r.arrivals,
        vec![
            Arrival::Arrived,
            Arrival::Arrived,
            Arrival::NotArrived,
            Arrival::InTransit
        ]
    );
    let mut found: BTreeSet<SettleClass> = r.findings.iter().map(|f| f.class).collect();

    let mut flows: Vec<FundFlow> = Vec::new();
    for (i, (kind, gross, fee)) in [
        (FlowKind::Payment, 52_000, 1_500),
        (FlowKind::Refund, -1_000, 0),
    ]
    .into_iter()
    .enumerate()
    {
        flows.push(FundFlow {
            provider: Provider::Stripe,
            account: "stripe-main".into(),
            flow_id: format!("txn_{i}"),
            source_id: Some("po_REFOK1".into()),
            order_no: None,
            payout_id: Some("po_REFOK1".into()),
            kind,
            booked_at: Utc.with_ymd_and_hms(2024, 11, 19, 3, 0, 0).unwrap(),
            currency: Currency::CNY,
            gross,
            fee,
            net: gross - fee,
            balance_after: Some(100_000 + gross - fee),
            description: String::new(),
            line: i as u64 + 1,
        });
    }
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let (_, composition) = check_composition(&payouts[0], &refs).unwrap();
    found.extend(composition.map(|f| f.class));
    let schedule = PayoutFeeSchedule {
        fixed: 100,
        rate_bp: 0,
    };
    found.extend(check_payout_fee(&payouts[0], &[], &schedule).map(|f| f.class));
    let (_, breaks) = check_flow_balances(&flows, chrono_tz::Asia::Shanghai, None);
    found.extend(breaks.iter().map(|f| f.class));
    let stmt = BankStatement {
        account_id: None,
        statement_id: None,
        currency: Currency::CNY,
        opening: Some(StatedBalance {
            date: day(7),
            amount: 0,
        }),
        closing: Some(StatedBalance {
            date: day(7),
            amount: 0,
        }),
        lines: bank.clone(),
    };
    found.extend(check_bank_balances(&[stmt]).iter().map(|f| f.class));
    // The payment movement is in no trade bill of its day.
    let (start, end) = paydesk_core::BillDate(day(1)).utc_bounds(chrono_tz::Asia::Shanghai);
    let window = TradeCheckWindow {
        from: start,
        to: end,
        trade_days: vec![(start, end)],
        flow_days: vec![(start, end)],
        grace: chrono::Duration::hours(1),
        timezone: chrono_tz::Asia::Shanghai,
    };
    found.extend(
        cross_check_trades(&[], &flows, &window)
            .findings
            .iter()
            .map(|f| f.class),
    );
    assert_eq!(found, SettleClass::ALL.into_iter().collect());
}

// ---- properties over random days ----

#[derive(Debug, Clone)]
struct Day {
    payouts: Vec<Payout>,
    bank: Vec<BankLine>,
    prior: PriorDecisions,
    max_steps: u64,
}

/// Few distinct amounts and dates, so equal amounts, fitting subsets and references collide.
fn day_strategy() -> impl Strategy<Value = Day> {
    let amounts = prop::sample::select(vec![100i64, 200, 300, 500, 700, 800, 1_000, 1_500]);
    let payouts = prop::collection::vec(
        (amounts.clone(), 0u64..12, 0u8..10, prop::option::of(0u8..4)),
        0..14,
    );
    let lines = prop::collection::vec(
        (
            prop::sample::select(vec![100i64, 200, 300, 500, 800, 1_000, 1_200, 1_500, -300]),
            0u64..16,
            prop::option::of(0usize..14),
            any::<bool>(),
        ),
        0..14,
    );
    let picks = prop::collection::vec(
        (
            prop::collection::vec(0usize..16, 1..3),
            prop::collection::vec(0usize..16, 1..3),
        ),
        0..3,
    );
    (payouts, lines, picks.clone(), picks, 1u64..400).prop_map(
        |(ps, ls, accepted, rejected, max_steps)| {
            let payouts: Vec<Payout> = ps
                .iter()
                .enumerate()
                .map(|(i, &(amount, d, status, trace))| {
                    let status = match status {
                        0 => PayoutStatus::Failed,
                        1 => PayoutStatus::Canceled,
                        _ => PayoutStatus::Paid,
                    };
                    let mut p = payout(&format!("po_{i:04}x"), amount * 100, day(d), status);
                    p.trace_id = trace.map(|t| format!("TRACE{t:03}"));
                    p
                })
                .collect();
            let bank: Vec<BankLine> = ls
                .iter()
                .enumerate()
                .map(|(i, &(amount, d, names, stripe))| {
                    let text = match names {
                        Some(k) if k < ps.len() => format!("SETTLEMENT po_{k:04}x"),
                        Some(k) => format!("REF TRACE{:03}", k % 4),
                        None => "TRANSFER".to_string(),
                    };
                    let mut l = credit(amount * 100, day(d), &text, i as u64 + 1);
                    if !stripe {
                        l.counterparty = None;
                    }
                    l
                })
                .collect();
            Day {
                payouts,
                bank,
                prior: PriorDecisions { accepted, rejected },
                max_steps,
            }
        },
    )
}

fn settings(max_steps: u64) -> SettleSettings {
    let mut s = SettleSettings::new(day(12));
    s.max_steps = max_steps;
    s.counterparties = vec![(Provider::Stripe, "stripe payments".into())];
    s
}

fn sum(ix: &[usize], amount: impl Fn(usize) -> i64) -> i128 {
    ix.iter().map(|&i| i128::from(amount(i))).sum()
}

/// Links and findings with indices mapped through `p` and `b` (position → original index),
/// in a canonical order: what must not depend on the order of the inputs.
type Canon = (
    BTreeSet<(Vec<usize>, Vec<usize>, LinkRule, u8, bool)>,
    BTreeSet<(
        SettleClass,
        Vec<usize>,
        Vec<usize>,
        NaiveDate,
        Option<i64>,
        Option<i64>,
    )>,
    Vec<Arrival>,
    (u64, u64, u64, u64, u64),
);

fn canon(r: &SettleResult, p: &[usize], b: &[usize]) -> Canon {
    let map = |ix: &[usize], m: &[usize]| {
        let mut v: Vec<usize> = ix.iter().map(|&i| m[i]).collect();
        v.sort_unstable();
        v
    };
    let link = |l: &Link, booked: bool| {
        (
            map(&l.payouts, p),
            map(&l.bank_lines, b),
            l.rule,
            l.confidence,
            booked,
        )
    };
    let finding = |f: &Finding| {
        (
            f.class,
            map(&f.payouts, p),
            map(&f.bank_lines, b),
            f.date,
            f.expected,
            f.actual,
        )
    };
    let mut arrivals = vec![Arrival::NotExpected; r.arrivals.len()];
    for (k, a) in r.arrivals.iter().enumerate() {
        arrivals[p[k]] = *a;
    }
    let s = &r.search;
    (
        r.links
            .iter()
            .map(|l| link(l, true))
            .chain(r.suggestions.iter().map(|l| link(l, false)))
            .collect(),
        r.findings.iter().map(finding).collect(),
        arrivals,
        (
            s.searches,
            s.total_steps,
            s.worst_steps,
            s.exhausted,
            s.ambiguous,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn money_is_never_explained_twice(d in day_strategy()) {
        let s = settings(d.max_steps);
        let r = match_payouts(&d.payouts, &d.bank, &d.prior, &s);
        let mut seen_p = vec![false; d.payouts.len()];
        let mut seen_b = vec![false; d.bank.len()];
        let rejected: BTreeSet<(Vec<usize>, Vec<usize>)> = d.prior.rejected.iter().map(|(p, b)| {
            let (mut p, mut b) = (p.clone(), b.clone());
            p.sort_unstable(); p.dedup(); b.sort_unstable(); b.dedup();
            (p, b)
        }).collect();
        for (l, booked) in r.links.iter().map(|l| (l, true)).chain(r.suggestions.iter().map(|l| (l, false))) {
            prop_assert!(!l.payouts.is_empty() && !l.bank_lines.is_empty());
            prop_assert!(l.payouts.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(l.bank_lines.windows(2).all(|w| w[0] < w[1]));
            for &p in &l.payouts {
                prop_assert!(!seen_p[p], "payout {} twice", p);
                seen_p[p] = true;
            }
            for &b in &l.bank_lines {
                prop_assert!(!seen_b[b], "bank line {} twice", b);
                seen_b[b] = true;
            }
            if l.rule == LinkRule::Reviewer {
                prop_assert!(booked);
                continue;
            }
            // Automatic links: credits only, expected payouts only, never a rejected pair.
            prop_assert!(l.bank_lines.iter().all(|&b| d.bank[b].amount > 0));
            prop_assert!(l.payouts.iter().all(|&p| !matches!(d.payouts[p].status, PayoutStatus::Failed | PayoutStatus::Canceled)));
            prop_assert!(!rejected.contains(&(l.payouts.clone(), l.bank_lines.clone())));
            let ps = sum(&l.payouts, |p| d.payouts[p].amount);
            let bs = sum(&l.bank_lines, |b| d.bank[b].amount);
            match l.rule {
                LinkRule::Reference => {
                    prop_assert!(booked);
                    let reported = r.findings.iter().any(|f| f.class == SettleClass::PayoutAmountMismatch
                        && f.payouts == l.payouts && f.bank_lines == l.bank_lines);
                    prop_assert_eq!(ps != bs, reported);
                }
                LinkRule::AmountDate => {
                    prop_assert_eq!(ps, bs);
                    prop_assert_eq!(booked, l.confidence >= s.auto_confidence);
                }
                LinkRule::GroupedPayouts | LinkRule::SplitPayout => {
                    prop_assert_eq!(ps, bs);
                    prop_assert!(!booked);
                    prop_assert!(l.confidence < 90);
                    prop_assert!(l.payouts.len() + l.bank_lines.len() >= 3);
                }
                LinkRule::Reviewer => {}
            }
        }
        // Arrivals agree with the links; every payout and credit left over is a finding.
        prop_assert_eq!(r.arrivals.len(), d.payouts.len());
        for (i, a) in r.arrivals.iter().enumerate() {
            let in_link = r.links.iter().any(|l| l.payouts.contains(&i));
            let in_sugg = r.suggestions.iter().any(|l| l.payouts.contains(&i));
            prop_assert_eq!(*a == Arrival::Arrived, in_link);
            prop_assert_eq!(*a == Arrival::Suggested, in_sugg);
            let not_arrived = r.findings.iter().filter(|f| f.class == SettleClass::PayoutNotArrived && f.payouts == vec![i]).count();
            prop_assert_eq!(not_arrived, usize::from(*a == Arrival::NotArrived));
        }
        for (i, l) in d.bank.iter().enumerate() {
            let reported = r.findings.iter().filter(|f| f.class == SettleClass::BankCreditWithoutPayout && f.bank_lines == vec![i]).count();
            prop_assert_eq!(reported, usize::from(l.amount > 0 && !seen_b[i]));
        }
        // Searches stay within their budget.
        let st = &r.search;
        prop_assert!(st.worst_steps <= s.max_steps);
        prop_assert!(st.total_steps <= st.searches * s.max_steps);
        prop_assert!(st.exhausted + st.ambiguous <= st.searches * 2);
        prop_assert!(st.exhausted <= st.searches);
    }

    #[test]
    fn the_order_of_the_inputs_does_not_matter(
        d in day_strategy(),
        pseed in any::<u64>(),
        bseed in any::<u64>(),
    ) {
        // Position k of the shuffled input holds original index perm[k].
        fn perm(n: usize, mut seed: u64) -> Vec<usize> {
            let mut v: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = usize::try_from((seed >> 33) % (i as u64 + 1)).expect("small");
                v.swap(i, j);
            }
            v
        }
        let s = settings(d.max_steps);
        let (pp, bp) = (perm(d.payouts.len(), pseed), perm(d.bank.len(), bseed));
        let payouts: Vec<Payout> = pp.iter().map(|&i| d.payouts[i].clone()).collect();
        let bank: Vec<BankLine> = bp.iter().map(|&i| d.bank[i].clone()).collect();
        // Prior decisions name the same items at their new positions.
        let (mut pinv, mut binv) = (vec![0; pp.len()], vec![0; bp.len()]);
        for (k, &i) in pp.iter().enumerate() { pinv[i] = k; }
        for (k, &i) in bp.iter().enumerate() { binv[i] = k; }
        let remap = |pairs: &[(Vec<usize>, Vec<usize>)]| -> Vec<(Vec<usize>, Vec<usize>)> {
            pairs.iter().map(|(p, b)| (
                p.iter().map(|&i| pinv.get(i).copied().unwrap_or(i + 1000)).collect(),
                b.iter().map(|&i| binv.get(i).copied().unwrap_or(i + 1000)).collect(),
            )).collect()
        };
        let prior = PriorDecisions { accepted: remap(&d.prior.accepted), rejected: remap(&d.prior.rejected) };
        let ident_p: Vec<usize> = (0..d.payouts.len()).collect();
        let ident_b: Vec<usize> = (0..d.bank.len()).collect();
        let a = match_payouts(&d.payouts, &d.bank, &d.prior, &s);
        let b = match_payouts(&payouts, &bank, &prior, &s);
        prop_assert_eq!(canon(&a, &ident_p, &ident_b), canon(&b, &pp, &bp));
        // And the same input twice gives the same output, evidence and details included.
        let again = match_payouts(&d.payouts, &d.bank, &d.prior, &s);
        prop_assert_eq!(&a.links, &again.links);
        prop_assert_eq!(&a.suggestions, &again.suggestions);
        prop_assert_eq!(&a.findings, &again.findings);
    }
}

#[test]
fn many_payouts_match_in_reasonable_time() {
    // 2,000 payouts over 40 business days, each paid by reference, by amount, or grouped;
    // plus unrelated credits. A smoke test of the indexes, not the benchmark.
    let mut payouts = Vec::new();
    let mut bank = Vec::new();
    for i in 0..2_000u64 {
        let arrival = day(i / 50);
        let amount = 10_000 + i64::try_from(i).unwrap() * 7;
        payouts.push(payout(
            &format!("po_{i:06}z"),
            amount,
            arrival,
            PayoutStatus::Paid,
        ));
        let text = if i % 2 == 0 {
            format!("PAYOUT po_{i:06}z")
        } else {
            "STRIPE".to_string()
        };
        bank.push(credit(amount, arrival, &text, i + 1));
    }
    for k in 0..4_000u64 {
        bank.push(credit(
            1_000_000 + i64::try_from(k).unwrap() * 13,
            day(k / 100),
            "customer",
            10_000 + k,
        ));
    }
    let s = settings(200_000);
    let started = std::time::Instant::now();
    let r = match_payouts(&payouts, &bank, &PriorDecisions::default(), &s);
    assert!(started.elapsed().as_secs() < 60);
    assert_eq!(r.links.len(), 2_000);
    assert!(r.arrivals.iter().all(|a| *a == Arrival::Arrived));
    assert!(r.search.worst_steps <= s.max_steps);
}
