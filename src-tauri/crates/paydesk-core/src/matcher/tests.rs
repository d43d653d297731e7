use super::*;
use crate::domain::{BillDate, OrderStatus, Provider, RefundOrigin};
use chrono::TimeZone;

fn t(s: &str) -> DateTime<Utc> {
    // Beijing local time "2026-11-22 10:00:00" → UTC.
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("test time");
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&naive)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

fn line(txn: &str, order: Option<&str>, kind: LineKind, gross: i64, at: &str) -> StatementLine {
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: Provider::Alipay,
        account: "alipay-main".into(),
        provider_txn_id: txn.into(),
        merchant_order_no: order.map(Into::into),
        kind,
        gross,
        // 0.6% of gross, in thousandths of a minor unit: what the default schedule expects.
        fee_milli: gross.saturating_mul(6),
        net: gross,
        currency: Currency::CNY,
        provider_time: t(at),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "SUCCESS".into(),
        source: SourceRef {
            file: "bill.csv".into(),
            line: 1,
        },
        fee_base: None,
    }
}

fn order(no: &str, amount: i64, status: OrderStatus, paid: &str) -> Order {
    Order {
        order_no: no.into(),
        provider: Provider::Alipay,
        provider_txn_id: None,
        amount,
        currency: Currency::CNY,
        status,
        created_at: t(paid),
        paid_at: Some(t(paid)),
        customer_ref: None,
    }
}

fn refund(no: &str, order_no: &str, amount: i64, at: &str) -> LocalRefund {
    LocalRefund {
        refund_no: no.into(),
        order_no: order_no.into(),
        provider: Provider::Alipay,
        amount,
        currency: Currency::CNY,
        refunded_at: t(at),
        provider_refund_id: None,
        origin: RefundOrigin::Mirror,
    }
}

fn window() -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let day = BillDate::parse("2026-11-22").expect("date");
    Some(day.utc_bounds(chrono_tz::Asia::Shanghai))
}

fn classes(result: &MatchResult) -> Vec<OutcomeClass> {
    let mut c: Vec<_> = result.outcomes.iter().map(|o| o.class).collect();
    c.sort();
    c
}

#[test]
fn exact_match_by_order_no() {
    let input = MatchInput {
        lines: vec![line(
            "T1",
            Some("SO-1"),
            LineKind::Payment,
            990,
            "2026-11-22 10:00:00",
        )],
        orders: vec![order("SO-1", 990, OrderStatus::Paid, "2026-11-22 09:59:58")],
        window: window(),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&r), vec![OutcomeClass::Matched]);
    assert_eq!(r.outcomes[0].rule, MatchRule::MerchantOrderNo);
    assert_eq!(r.outcomes[0].order, Some(0));
}

#[test]
fn falls_back_to_provider_txn_id() {
    let mut o = order("SO-1", 990, OrderStatus::Paid, "2026-11-22 09:59:58");
    o.provider_txn_id = Some("T1".into());
    let input = MatchInput {
        lines: vec![line(
            "T1",
            None,
            LineKind::Payment,
            990,
            "2026-11-22 10:00:00",
        )],
        orders: vec![o],
        window: window(),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&r), vec![OutcomeClass::Matched]);
    assert_eq!(r.outcomes[0].rule, MatchRule::ProviderTxnId);
}

#[test]
fn every_discrepancy_class_is_reachable() {
    let mut cur = order("SO-CUR", 500, OrderStatus::Paid, "2026-11-22 11:00:00");
    cur.currency = Currency::USD;
    let mut dup_line = line(
        "T-DUP2",
        Some("SO-DUP"),
        LineKind::Payment,
        700,
        "2026-11-22 12:05:00",
    );
    dup_line.source.line = 9;
    let mut refund_line_ok = line(
        "T-R",
        Some("SO-R"),
        LineKind::Refund,
        -300,
        "2026-11-22 13:00:00",
    );
    refund_line_ok.merchant_refund_no = Some("RF-1".into());
    let mut refund_line_extra = line(
        "T-R2",
        Some("SO-R"),
        LineKind::Refund,
        -100,
        "2026-11-22 13:10:00",
    );
    refund_line_extra.merchant_refund_no = Some("RF-X".into());
    let mut refund_line_bad = line(
        "T-R3",
        Some("SO-R"),
        LineKind::Refund,
        -250,
        "2026-11-22 13:20:00",
    );
    refund_line_bad.merchant_refund_no = Some("RF-2".into());
    let mut fee_line = line(
        "T-FEE",
        Some("SO-FEE"),
        LineKind::Payment,
        10_000,
        "2026-11-22 14:00:00",
    );
    fee_line.fee_milli = 200_000; // 2.00 charged; 0.6% of 100.00 = 0.60 expected
    let input = MatchInput {
        lines: vec![
            line(
                "T-OK",
                Some("SO-OK"),
                LineKind::Payment,
                1000,
                "2026-11-22 10:00:00",
            ),
            line(
                "T-LONG",
                Some("SO-NONE"),
                LineKind::Payment,
                800,
                "2026-11-22 10:30:00",
            ),
            line(
                "T-AMT",
                Some("SO-AMT"),
                LineKind::Payment,
                1200,
                "2026-11-22 10:40:00",
            ),
            line(
                "T-CUR",
                Some("SO-CUR"),
                LineKind::Payment,
                500,
                "2026-11-22 11:00:00",
            ),
            line(
                "T-ST",
                Some("SO-ST"),
                LineKind::Payment,
                600,
                "2026-11-22 11:30:00",
            ),
            line(
                "T-DUP1",
                Some("SO-DUP"),
                LineKind::Payment,
                700,
                "2026-11-22 12:00:00",
            ),
            dup_line,
            refund_line_ok,
            refund_line_extra,
            refund_line_bad,
            fee_line,
            line(
                "dp_1",
                Some("SO-OK"),
                LineKind::Adjustment,
                -1000,
                "2026-11-22 15:00:00",
            ),
        ],
        orders: vec![
            order("SO-OK", 1000, OrderStatus::Paid, "2026-11-22 09:59:00"),
            order("SO-AMT", 1000, OrderStatus::Paid, "2026-11-22 10:39:00"),
            cur,
            order("SO-ST", 600, OrderStatus::Closed, "2026-11-22 11:29:00"),
            order("SO-DUP", 700, OrderStatus::Paid, "2026-11-22 11:59:00"),
            order("SO-SHORT", 900, OrderStatus::Paid, "2026-11-22 16:00:00"),
            order("SO-LATE", 450, OrderStatus::Paid, "2026-11-22 23:50:00"),
            order("SO-FEE", 10_000, OrderStatus::Paid, "2026-11-22 13:59:00"),
            order(
                "SO-PENDING",
                100,
                OrderStatus::Pending,
                "2026-11-22 12:00:00",
            ),
        ],
        refunds: vec![
            refund("RF-1", "SO-R", 300, "2026-11-22 12:59:00"),
            refund("RF-2", "SO-R", 200, "2026-11-22 13:19:00"),
            refund("RF-LOCAL", "SO-R", 50, "2026-11-22 17:00:00"),
        ],
        window: window(),
        ..Default::default()
    };
    let settings = MatchSettings {
        fee_rules: vec![FeeRule {
            currency: Currency::CNY,
            rate_ppm: 6_000,
            fixed_minor: 0,
        }],
        ..Default::default()
    };
    let r = match_day(&input, &settings);
    let got = classes(&r);
    for class in OutcomeClass::ALL {
        assert!(got.contains(&class), "missing {class:?} in {got:?}");
    }
    // 12 lines + 2 unmatched orders (短款, timing) + 1 local-only refund.
    assert_eq!(r.outcomes.len(), 15);
    // Every line is covered exactly once.
    let mut seen = vec![0; input.lines.len()];
    for o in &r.outcomes {
        if let Some(l) = o.line {
            seen[l as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");

    let drafts: Vec<_> = r.discrepancies(&input, &settings).collect();
    let amt = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::AmountMismatch)
        .expect("amount");
    assert_eq!(
        (amt.provider_amount, amt.local_amount, amt.difference),
        (Some(1200), Some(1000), 200)
    );
    assert_eq!(
        amt.evidence.as_ref().map(|e| e.file.as_str()),
        Some("bill.csv")
    );
    let rf = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::RefundAmountMismatch)
        .expect("refund amount");
    assert_eq!(
        (rf.provider_amount, rf.local_amount, rf.difference),
        (Some(250), Some(200), 50)
    );
    let fee = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::FeeVariance)
        .expect("fee");
    assert_eq!(fee.difference, 140);
    let dup = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::DuplicatePayment)
        .expect("dup");
    assert_eq!(dup.provider_txn_id.as_deref(), Some("T-DUP2"));
    let short = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::OrderOnly)
        .expect("short");
    assert_eq!(short.order_no.as_deref(), Some("SO-SHORT"));
    let late = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::TimingDifference)
        .expect("late");
    assert_eq!(late.order_no.as_deref(), Some("SO-LATE"));
    let adj = drafts
        .iter()
        .find(|d| d.class == OutcomeClass::ProviderAdjustment)
        .expect("adjustment");
    assert_eq!(
        (adj.provider_amount, adj.local_amount, adj.difference),
        (Some(-1000), None, -1000)
    );
    assert_eq!(adj.order_no.as_deref(), Some("SO-OK"));
    // Keys are unique within the day.
    let keys: HashSet<_> = drafts.iter().map(|d| d.key.clone()).collect();
    assert_eq!(keys.len(), drafts.len());
    // Every explanation is in Chinese too: no English word is left once the identifiers
    // (order, transaction and refund numbers, currency codes, the provider's own status words)
    // are taken out.
    for d in &drafts {
        assert!(!d.explanation_zh.is_empty(), "{:?}", d.class);
        assert_ne!(d.explanation_zh, d.explanation);
        let mut rest = d.explanation_zh.clone();
        for id in [&d.order_no, &d.provider_txn_id, &d.refund_no]
            .into_iter()
            .flatten()
        {
            rest = rest.replace(id.as_str(), " ");
        }
        let english: Vec<&str> = rest
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3)
            .filter(|w| !w.chars().all(|c| c.is_ascii_uppercase()))
            .collect();
        assert!(
            english.is_empty(),
            "{:?}: {:?} in {:?}",
            d.class,
            english,
            d.explanation_zh
        );
    }
}

#[test]
fn carried_over_order_closes_next_day_or_becomes_short() {
    let late = order("SO-LATE", 450, OrderStatus::Paid, "2026-11-22 23:50:00");
    let day2 = BillDate::parse("2026-11-23").expect("date");
    let mut carried = HashSet::new();
    carried.insert("SO-LATE".to_string());
    let input = MatchInput {
        lines: vec![line(
            "T-L",
            Some("SO-LATE"),
            LineKind::Payment,
            450,
            "2026-11-23 00:00:05",
        )],
        orders: vec![late.clone()],
        carried_orders: carried.clone(),
        window: Some(day2.utc_bounds(chrono_tz::Asia::Shanghai)),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&r), vec![OutcomeClass::Matched]);
    assert!(r.outcomes[0].closes_carry_over);

    // Not in the next statement either: now it is 短款.
    let input = MatchInput {
        lines: vec![],
        orders: vec![late],
        carried_orders: carried,
        window: Some(day2.utc_bounds(chrono_tz::Asia::Shanghai)),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&r), vec![OutcomeClass::OrderOnly]);
    assert!(r.outcomes[0].closes_carry_over);
}

#[test]
fn tolerance_allows_small_differences() {
    let input = MatchInput {
        lines: vec![line(
            "T1",
            Some("SO-1"),
            LineKind::Payment,
            991,
            "2026-11-22 10:00:00",
        )],
        orders: vec![order("SO-1", 990, OrderStatus::Paid, "2026-11-22 09:59:58")],
        window: window(),
        ..Default::default()
    };
    let strict = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&strict), vec![OutcomeClass::AmountMismatch]);
    let lenient = match_day(
        &input,
        &MatchSettings {
            amount_tolerance_minor: 1,
            ..Default::default()
        },
    );
    assert_eq!(classes(&lenient), vec![OutcomeClass::Matched]);
}

#[test]
fn orders_outside_the_window_are_not_expected() {
    let input = MatchInput {
        lines: vec![],
        orders: vec![order(
            "SO-OLD",
            100,
            OrderStatus::Paid,
            "2026-11-21 10:00:00",
        )],
        window: window(),
        ..Default::default()
    };
    assert!(match_day(&input, &MatchSettings::default())
        .outcomes
        .is_empty());
}

#[test]
fn day_bounds_follow_the_provider_timezone() {
    let day = BillDate::parse("2026-11-22").expect("date");
    let (start, end) = day.utc_bounds(chrono_tz::Asia::Shanghai);
    assert_eq!(start.to_rfc3339(), "2026-11-21T16:00:00+00:00");
    assert_eq!(end.to_rfc3339(), "2026-11-22T16:00:00+00:00");
    // Stripe's 23:59:58 UTC line is the next day in UTC+8.
    let instant = Utc
        .with_ymd_and_hms(2026, 11, 22, 23, 59, 58)
        .single()
        .expect("time");
    assert_eq!(
        BillDate::of(instant, chrono_tz::UTC).to_string(),
        "2026-11-22"
    );
    assert_eq!(
        BillDate::of(instant, chrono_tz::Asia::Shanghai).to_string(),
        "2026-11-23"
    );
}

#[test]
fn amount_at_stake_is_the_difference_else_the_amount() {
    let mut d = DiscrepancyDraft {
        key: "order:A".into(),
        class: OutcomeClass::AmountMismatch,
        rule: MatchRule::MerchantOrderNo,
        order_no: Some("A".into()),
        provider_txn_id: None,
        refund_no: None,
        currency: Currency::CNY,
        provider_amount: Some(100_000),
        local_amount: Some(99_999),
        difference: 1,
        provider_currency: None,
        local_currency: None,
        provider_time: None,
        local_time: None,
        evidence: None,
        explanation: String::new(),
        explanation_zh: String::new(),
    };
    // A cent off a large order is a cent at stake (the SLA and the dashboard agree on it).
    assert_eq!(d.amount_at_stake(), 1);
    d.difference = -250;
    assert_eq!(d.amount_at_stake(), 250);
    // No difference (a status or currency mismatch): the amount that is there.
    d.difference = 0;
    d.provider_amount = None;
    assert_eq!(d.amount_at_stake(), 99_999);
}

#[test]
fn keys_name_the_item_not_the_class() {
    let order = order("SO-1", 100, OrderStatus::Paid, "2026-11-22 10:00:00");
    assert_eq!(
        crate::local_key(Some(&order), None).as_deref(),
        Some("order:SO-1")
    );
    assert_eq!(
        crate::discrepancy_key(OutcomeClass::OrderOnly, None, Some(&order), None),
        crate::discrepancy_key(OutcomeClass::AmountMismatch, None, Some(&order), None)
    );
    assert_eq!(
        crate::discrepancy_key(OutcomeClass::OrderOnly, None, None, None),
        "outcome:order_only"
    );
}

/// The provider booked at 23:59:55 on the 22nd, the shop's notification says 00:00:20 on the
/// 23rd: matched on the 22nd (the line names the order), so never 短款 on the 23rd although the
/// 23rd's mirror window holds the order again. The same for a refund.
#[test]
fn matched_the_day_before_is_never_missing_the_day_after() {
    let day2 = BillDate::parse("2026-11-23").expect("date");
    let early = order("SO-EARLY", 800, OrderStatus::Paid, "2026-11-23 00:00:20");
    let early_refund = refund("RF-EARLY", "SO-OLD", 300, "2026-11-23 00:00:30");
    let input = MatchInput {
        lines: vec![],
        orders: vec![early.clone()],
        refunds: vec![early_refund.clone()],
        settled_orders: HashSet::from(["SO-EARLY".to_string()]),
        settled_refunds: HashSet::from(["RF-EARLY".to_string()]),
        window: Some(day2.utc_bounds(chrono_tz::Asia::Shanghai)),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert!(r.outcomes.is_empty(), "{:?}", classes(&r));

    // Without that knowledge the same day reports both as missing: the rule is what helps.
    let input = MatchInput {
        settled_orders: HashSet::new(),
        settled_refunds: HashSet::new(),
        ..input
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(
        classes(&r),
        vec![OutcomeClass::OrderOnly, OutcomeClass::RefundOnlyLocal]
    );

    // A settled order that a line of today names again is still a second payment.
    let mut dup = line(
        "T-2",
        Some("SO-EARLY"),
        LineKind::Payment,
        800,
        "2026-11-23 08:00:00",
    );
    dup.fee_milli = 800 * 6;
    let input = MatchInput {
        lines: vec![dup],
        orders: vec![Order {
            provider_txn_id: Some("T-1".into()),
            ..early
        }],
        settled_orders: HashSet::from(["SO-EARLY".to_string()]),
        window: Some(day2.utc_bounds(chrono_tz::Asia::Shanghai)),
        ..Default::default()
    };
    let r = match_day(&input, &MatchSettings::default());
    assert_eq!(classes(&r), vec![OutcomeClass::DuplicatePayment]);
}

/// Issue 16, point 2: comparisons of extreme amounts neither overflow (a panic in debug
/// builds, a wrapped difference that might fall within the tolerance in release) nor wrap
/// the difference to the other sign.
#[test]
fn extreme_amounts_compare_without_overflow() {
    let mut pay = line(
        "T1",
        Some("SO-1"),
        LineKind::Payment,
        -i64::MAX,
        "2026-11-22 10:00:00",
    );
    pay.fee_milli = 0;
    let mut rf = line(
        "T2",
        Some("SO-2"),
        LineKind::Refund,
        i64::MIN,
        "2026-11-22 11:00:00",
    );
    rf.fee_milli = 0;
    rf.merchant_refund_no = Some("RF-2".into());
    let input = MatchInput {
        lines: vec![pay, rf],
        orders: vec![
            order("SO-1", i64::MAX, OrderStatus::Paid, "2026-11-22 09:59:58"),
            order("SO-2", 200, OrderStatus::Paid, "2026-11-22 09:00:00"),
        ],
        refunds: vec![refund("RF-2", "SO-2", 100, "2026-11-22 11:00:00")],
        window: window(),
        ..Default::default()
    };
    let settings = MatchSettings {
        amount_tolerance_minor: 1,
        ..Default::default()
    };
    let r = match_day(&input, &settings);
    assert_eq!(r.outcomes[0].class, OutcomeClass::AmountMismatch);
    assert_eq!(r.outcomes[1].class, OutcomeClass::RefundAmountMismatch);
    let d = MatchResult::discrepancy(&r.outcomes[0], &input, &settings);
    // −MAX − MAX is held at the bound, still negative: the provider paid out, not in.
    assert_eq!(d.difference, i64::MIN);
    assert_eq!(d.amount_at_stake(), i64::MAX);
    let d = MatchResult::discrepancy(&r.outcomes[1], &input, &settings);
    assert_eq!(d.provider_amount, Some(i64::MAX));
    assert!(d.amount_at_stake() > 0);
}

/// The service no longer sorts a million orders and refunds before matching: the result
/// must be the same whatever order they come in — including the ties that order used to
/// decide (two orders with one transaction id, two refunds with one provider refund id, two
/// candidate refunds of one order) and the order in which unmatched items are reported.
#[test]
fn the_result_does_not_depend_on_the_order_of_orders_and_refunds() {
    let mut by_txn = line(
        "T-SHARED",
        None,
        LineKind::Payment,
        500,
        "2026-11-22 10:00:00",
    );
    by_txn.merchant_order_no = None;
    let mut shared_a = order("SO-A", 500, OrderStatus::Paid, "2026-11-22 09:59:00");
    shared_a.provider_txn_id = Some("T-SHARED".into());
    let mut shared_b = order("SO-B", 500, OrderStatus::Paid, "2026-11-22 09:58:00");
    shared_b.provider_txn_id = Some("T-SHARED".into());
    let mut refund_by_id = line(
        "T-P",
        Some("SO-P"),
        LineKind::Refund,
        -100,
        "2026-11-22 12:00:00",
    );
    refund_by_id.provider_refund_id = Some("R-SHARED".into());
    let mut rf_x = refund("RF-X", "SO-P", 100, "2026-11-22 11:59:00");
    rf_x.provider_refund_id = Some("R-SHARED".into());
    let mut rf_y = refund("RF-Y", "SO-P", 100, "2026-11-22 11:58:00");
    rf_y.provider_refund_id = Some("R-SHARED".into());
    // An Alipay refund line without a refund number: matched by order, amount and day.
    let refund_by_order = line(
        "T-Q",
        Some("SO-Q"),
        LineKind::Refund,
        -70,
        "2026-11-22 13:00:00",
    );
    let lines = vec![by_txn, refund_by_id, refund_by_order];
    let orders = vec![
        shared_b,
        shared_a,
        order("SO-S3", 30, OrderStatus::Paid, "2026-11-22 15:00:00"),
        order("SO-S1", 10, OrderStatus::Paid, "2026-11-22 16:00:00"),
        order("SO-S2", 20, OrderStatus::Paid, "2026-11-22 23:55:00"),
    ];
    let refunds = vec![
        rf_y,
        rf_x,
        refund("RF-Q2", "SO-Q", 70, "2026-11-22 12:40:00"),
        refund("RF-Q1", "SO-Q", 70, "2026-11-22 12:50:00"),
        refund("RF-L2", "SO-L", 5, "2026-11-22 16:00:00"),
        refund("RF-L1", "SO-L", 5, "2026-11-22 16:30:00"),
    ];
    let settings = MatchSettings::default();
    let report = |orders: Vec<Order>, refunds: Vec<LocalRefund>| {
        let input = MatchInput {
            lines: lines.clone(),
            orders,
            refunds,
            window: window(),
            ..Default::default()
        };
        let r = match_day(&input, &settings);
        r.outcomes
            .iter()
            .map(|o| {
                (
                    o.class,
                    o.line,
                    o.order.map(|i| input.orders[i as usize].order_no.clone()),
                    o.refund
                        .map(|i| input.refunds[i as usize].refund_no.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    let forward = report(orders.clone(), refunds.clone());
    let backward = report(
        orders.iter().rev().cloned().collect(),
        refunds.iter().rev().cloned().collect(),
    );
    assert_eq!(forward, backward);
    // Ties go to the smaller number; unmatched items come in number order.
    let named: Vec<(Option<String>, Option<String>)> = forward
        .iter()
        .map(|o| {
            (
                o.2.as_ref().map(|s| s.to_string()),
                o.3.as_ref().map(|s| s.to_string()),
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![
            (Some("SO-A".to_string()), None),
            (None, Some("RF-X".to_string())),
            (None, Some("RF-Q1".to_string())),
            (Some("SO-B".to_string()), None),
            (Some("SO-S1".to_string()), None),
            (Some("SO-S2".to_string()), None),
            (Some("SO-S3".to_string()), None),
            (None, Some("RF-L1".to_string())),
            (None, Some("RF-L2".to_string())),
            (None, Some("RF-Q2".to_string())),
            (None, Some("RF-Y".to_string())),
        ]
    );
}

#[test]
fn lines_are_matched_in_time_order_whatever_their_order_in_the_file() {
    // Two payments of one order: the earlier one matches, the later is the duplicate, in
    // whichever order the file lists them (a statement in time order skips the sort).
    let mut early = line(
        "T-EARLY",
        Some("SO-D"),
        LineKind::Payment,
        100,
        "2026-11-22 09:00:00",
    );
    early.source.line = 7;
    let mut late = line(
        "T-LATE",
        Some("SO-D"),
        LineKind::Payment,
        100,
        "2026-11-22 18:00:00",
    );
    late.source.line = 3;
    let orders = vec![order("SO-D", 100, OrderStatus::Paid, "2026-11-22 08:59:00")];
    let settings = MatchSettings::default();
    let by_txn = |lines: Vec<StatementLine>| {
        let input = MatchInput {
            lines,
            orders: orders.clone(),
            window: window(),
            ..Default::default()
        };
        let r = match_day(&input, &settings);
        let mut out: Vec<(String, OutcomeClass)> = r
            .outcomes
            .iter()
            .filter_map(|o| o.line)
            .zip(r.outcomes.iter().map(|o| o.class))
            .map(|(li, class)| (input.lines[li as usize].provider_txn_id.to_string(), class))
            .collect();
        out.sort();
        out
    };
    let expected = vec![
        ("T-EARLY".to_string(), OutcomeClass::Matched),
        ("T-LATE".to_string(), OutcomeClass::DuplicatePayment),
    ];
    assert_eq!(by_txn(vec![early.clone(), late.clone()]), expected);
    assert_eq!(by_txn(vec![late, early]), expected);
}
