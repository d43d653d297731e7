//! Payout composition, payout fees and balance continuity, through the public API.

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::money::Currency;
use paydesk_core::settlement::matching::{PayoutFeeSchedule, SettleClass};
use paydesk_core::settlement::{
    check_bank_balances, check_composition, check_flow_balances, check_payout_fee,
    scheduled_payout_fee, BankLine, BankStatement, DayBalance, FlowKind, FundFlow, Payout,
    PayoutStatus, StatedBalance,
};
use paydesk_core::Provider;

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, day).expect("date")
}

fn payout(amount: i64) -> Payout {
    Payout {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        payout_id: "po_1QaBcDeF".into(),
        amount,
        currency: Currency::USD,
        created_at: Utc
            .with_ymd_and_hms(2024, 11, 20, 0, 0, 0)
            .single()
            .expect("time"),
        arrival_date: nov(22),
        trace_id: None,
        automatic: true,
        status: PayoutStatus::Paid,
    }
}

fn flow(id: &str, kind: FlowKind, gross: i64, fee: i64) -> FundFlow {
    FundFlow {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        flow_id: id.into(),
        source_id: None,
        order_no: None,
        payout_id: Some("po_1QaBcDeF".into()),
        kind,
        booked_at: Utc
            .with_ymd_and_hms(2024, 11, 19, 10, 0, 0)
            .single()
            .expect("time"),
        currency: Currency::USD,
        gross,
        fee,
        net: gross - fee,
        balance_after: None,
        description: String::new(),
        line: 1,
    }
}

/// A payout of 10,000 − 1,000 − 59 − 1,500 = 7,441 settles these (Stripe charges carry
/// their fee inline).
fn settled() -> Vec<FundFlow> {
    vec![
        flow("txn_ch1", FlowKind::Payment, 6_000, 200),
        flow("txn_ch2", FlowKind::Payment, 4_000, 130),
        flow("txn_re1", FlowKind::Refund, -1_000, 0),
        flow("txn_fee", FlowKind::Fee, 271, 0),
        flow("txn_dp1", FlowKind::Dispute, -1_500, 0),
    ]
}

#[test]
fn composition_sums_by_kind() {
    // The Fee row here is a credit (a fee refund) to make every bucket count.
    let flows = settled();
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let total: i64 = flows.iter().map(|f| f.net).sum();
    let (c, finding) = check_composition(&payout(total), &refs).unwrap();
    assert_eq!(finding, None);
    assert_eq!(c.items, 5);
    assert_eq!(c.payments, 10_000);
    assert_eq!(c.refunds, -1_000);
    assert_eq!(c.fees, 271 - 330);
    assert_eq!(c.disputes, -1_500);
    assert_eq!(c.other, 0);
    assert_eq!(c.total, total);
    assert_eq!(
        c.payments + c.refunds + c.fees + c.disputes + c.other,
        c.total
    );
}

#[test]
fn the_payouts_own_movement_is_left_out_whether_listed_or_not() {
    let mut flows = settled();
    let total: i64 = flows.iter().map(|f| f.net).sum();
    let mut own = flow("txn_po", FlowKind::Payout, -total, 0);
    own.source_id = Some("po_1QaBcDeF".into());
    flows.push(own);
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let (with_own, f1) = check_composition(&payout(total), &refs).unwrap();
    let (without_own, f2) = check_composition(&payout(total), &refs[..5]).unwrap();
    assert_eq!((f1, f2), (None, None));
    assert_eq!(with_own, without_own);
    assert_eq!(with_own.items, 5);
}

#[test]
fn a_payout_that_is_not_its_sum_is_a_finding() {
    let flows = settled();
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let total: i64 = flows.iter().map(|f| f.net).sum();
    let (c, finding) = check_composition(&payout(total + 100), &refs).unwrap();
    let f = finding.unwrap();
    assert_eq!(f.class, SettleClass::CompositionMismatch);
    assert_eq!((f.expected, f.actual), (Some(c.total), Some(total + 100)));
    assert!(f.detail.contains("its 5 items sum to"), "{}", f.detail);
    assert!(f.detail.contains("difference 1.00 USD"), "{}", f.detail);
}

#[test]
fn an_item_in_another_currency_is_a_finding() {
    let mut flows = settled();
    let total: i64 = flows.iter().map(|f| f.net).sum();
    let mut eur = flow("txn_eur", FlowKind::Payment, 500, 0);
    eur.currency = Currency::parse("EUR").unwrap();
    flows.push(eur);
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let (c, finding) = check_composition(&payout(total), &refs).unwrap();
    assert_eq!(c.total, total);
    let f = finding.unwrap();
    assert_eq!(f.class, SettleClass::CompositionMismatch);
    assert!(f.detail.contains("1 item is not in USD"), "{}", f.detail);
    assert!(f.detail.contains("txn_eur"), "{}", f.detail);
}

#[test]
fn manual_and_non_stripe_payouts_have_no_composition() {
    let flows = settled();
    let refs: Vec<&FundFlow> = flows.iter().collect();
    let mut manual = payout(1);
    manual.automatic = false;
    assert_eq!(check_composition(&manual, &refs), None);
    let mut alipay = payout(1);
    alipay.provider = Provider::Alipay;
    assert_eq!(check_composition(&alipay, &refs), None);
}

#[test]
fn the_payout_fee_follows_the_schedule() {
    // 2.00 + 0.25 % of 1,234.50 = 2.00 + 3.08625 → 5.09 (half up).
    let schedule = PayoutFeeSchedule {
        fixed: 200,
        rate_bp: 25,
    };
    let p = payout(123_450);
    assert_eq!(scheduled_payout_fee(123_450, &schedule), 509);
    // Half exactly rounds up: 0.5 % of 1.00 = 0.005 → 0.01.
    assert_eq!(
        scheduled_payout_fee(
            100,
            &PayoutFeeSchedule {
                fixed: 0,
                rate_bp: 50
            }
        ),
        1
    );
    let mut fee = flow("txn_pofee", FlowKind::Fee, -509, 0);
    fee.source_id = Some("po_1QaBcDeF".into());
    let mut other = flow("txn_other", FlowKind::Fee, -300, 0);
    other.source_id = Some("ch_other".into());
    assert_eq!(check_payout_fee(&p, &[&fee, &other], &schedule), None);

    fee.gross = -600;
    fee.net = -600;
    let f = check_payout_fee(&p, &[&fee, &other], &schedule).unwrap();
    assert_eq!(f.class, SettleClass::PayoutFeeDiffers);
    assert_eq!((f.expected, f.actual), (Some(509), Some(600)));
    assert!(f.detail.contains("charged 6.00 USD"), "{}", f.detail);

    // No fee charged at all where the schedule wants one.
    let f = check_payout_fee(&p, &[], &schedule).unwrap();
    assert_eq!((f.expected, f.actual), (Some(509), Some(0)));
}

fn cny_flow(id: &str, at: (u32, u32), net: i64, balance: Option<i64>) -> FundFlow {
    let mut f = flow(id, FlowKind::Payment, net, 0);
    f.provider = Provider::Alipay;
    f.account = "alipay-main".into();
    f.currency = Currency::CNY;
    f.payout_id = None;
    // `at` is (day, hour) in UTC; Shanghai is UTC+8.
    f.booked_at = Utc
        .with_ymd_and_hms(2024, 11, at.0, at.1, 0, 0)
        .single()
        .expect("time");
    f.balance_after = balance;
    f
}

#[test]
fn flow_balances_roll_forward_by_local_day() {
    let tz = chrono_tz::Asia::Shanghai;
    let flows = vec![
        cny_flow("f1", (21, 2), 1_000, Some(11_000)),
        cny_flow("f2", (21, 3), -300, Some(10_700)),
        // 17:00 UTC on the 21st is 01:00 on the 22nd in Shanghai.
        cny_flow("f3", (21, 17), 500, None),
        cny_flow("f4", (22, 1), 100, Some(11_300)),
    ];
    let (days, findings) = check_flow_balances(&flows, tz, Some(10_000));
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(
        days,
        vec![
            DayBalance {
                date: nov(21),
                currency: Currency::CNY,
                opening: Some(10_000),
                movements: 700,
                closing: Some(10_700),
            },
            DayBalance {
                date: nov(22),
                currency: Currency::CNY,
                opening: Some(10_700),
                movements: 600,
                closing: Some(11_300),
            },
        ]
    );
}

#[test]
fn a_break_inside_the_file_names_the_row() {
    let tz = chrono_tz::Asia::Shanghai;
    let flows = vec![
        cny_flow("f1", (21, 2), 1_000, Some(11_000)),
        cny_flow("f2", (21, 3), -300, Some(10_600)),
        cny_flow("f3", (21, 4), 100, Some(10_700)),
    ];
    let (days, findings) = check_flow_balances(&flows, tz, None);
    assert_eq!(
        findings.len(),
        1,
        "one wrong row is one finding: {findings:?}"
    );
    let f = &findings[0];
    assert_eq!(f.class, SettleClass::BalanceBreak);
    assert_eq!((f.expected, f.actual), (Some(10_700), Some(10_600)));
    assert_eq!(f.date, nov(21));
    assert!(f.detail.contains("flow f2 (line 1)"), "{}", f.detail);
    assert!(f.detail.contains("difference -1.00 CNY"), "{}", f.detail);
    assert_eq!(days[0].opening, Some(10_000));
    assert_eq!(days[0].closing, Some(10_700));
}

#[test]
fn a_break_across_days_is_a_finding() {
    let tz = chrono_tz::Asia::Shanghai;
    let flows = vec![cny_flow("f1", (22, 2), 1_000, Some(11_000))];
    // The previous day closed at 9,950.00; this day opens at 10,000.00.
    let (days, findings) = check_flow_balances(&flows, tz, Some(9_950));
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.class, SettleClass::BalanceBreak);
    assert_eq!((f.expected, f.actual), (Some(9_950), Some(10_000)));
    assert_eq!(f.date, nov(22));
    assert!(
        f.detail.contains("the previous day closed at 99.50 CNY"),
        "{}",
        f.detail
    );
    assert_eq!(days[0].opening, Some(10_000));

    // Without running balances (Stripe) the days still sum, from the previous closing.
    let mut flows = vec![cny_flow("f1", (22, 2), 1_000, None)];
    flows[0].balance_after = None;
    let (days, findings) = check_flow_balances(&flows, tz, None);
    assert!(findings.is_empty());
    assert_eq!((days[0].opening, days[0].closing), (None, None));
    assert_eq!(days[0].movements, 1_000);
}

fn line(amount: i64, day: u32) -> BankLine {
    BankLine {
        booking_date: nov(day),
        value_date: None,
        amount,
        currency: Currency::CNY,
        counterparty: None,
        references: vec![],
        text: String::new(),
        line: 1,
    }
}

fn statement(id: &str, open: (u32, i64), close: (u32, i64), lines: Vec<BankLine>) -> BankStatement {
    BankStatement {
        account_id: Some("CN0012345678".into()),
        statement_id: Some(id.into()),
        currency: Currency::CNY,
        opening: Some(StatedBalance {
            date: nov(open.0),
            amount: open.1,
        }),
        closing: Some(StatedBalance {
            date: nov(close.0),
            amount: close.1,
        }),
        lines,
    }
}

#[test]
fn bank_statements_roll_forward() {
    let a = statement(
        "S1",
        (21, 10_000),
        (21, 10_500),
        vec![line(700, 21), line(-200, 21)],
    );
    let b = statement("S2", (22, 10_500), (22, 11_000), vec![line(500, 22)]);
    // Given in any order, and one imported twice.
    assert!(check_bank_balances(&[b.clone(), a.clone(), a.clone()]).is_empty());

    // A gap inside a file.
    let bad = statement("S2", (22, 10_500), (22, 11_100), vec![line(500, 22)]);
    let findings = check_bank_balances(&[a.clone(), bad]);
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!(f.class, SettleClass::BalanceBreak);
    assert_eq!((f.expected, f.actual), (Some(11_000), Some(11_100)));
    assert!(
        f.detail.contains("statement S2 of CN0012345678"),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("gap -1.00 CNY"), "{}", f.detail);

    // A gap between two files, naming both dates.
    let c = statement("S3", (25, 10_400), (25, 10_900), vec![line(500, 25)]);
    let findings = check_bank_balances(&[a, b, c]);
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!((f.expected, f.actual), (Some(11_000), Some(10_400)));
    assert_eq!(f.date, nov(25));
    assert!(
        f.detail.contains("2024-11-22") && f.detail.contains("2024-11-25"),
        "{}",
        f.detail
    );
}

#[test]
fn huge_amounts_do_not_overflow() {
    let s = statement(
        "S1",
        (21, i64::MAX),
        (21, i64::MIN),
        vec![line(i64::MAX, 21), line(i64::MAX, 21)],
    );
    let findings = check_bank_balances(&[s]);
    assert_eq!(findings.len(), 1);
    let flows = vec![
        cny_flow("f1", (21, 2), i64::MAX, Some(i64::MAX)),
        cny_flow("f2", (21, 3), i64::MAX, Some(i64::MIN)),
    ];
    let (_, findings) = check_flow_balances(&flows, chrono_tz::UTC, Some(i64::MIN));
    assert!(!findings.is_empty());
}
