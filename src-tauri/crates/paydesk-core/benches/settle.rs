//! Settlement matching at scale: `cargo bench -p paydesk-core --bench settle [-- N_TXNS N_BANK]`.
//!
//! Generates (deterministically) 1,000,000 balance transactions settled by automatic payouts
//! of 50 transactions each (20,000 payouts over 100 days of 200 accounts) and 100,000 bank
//! lines: the payouts' credits (most naming the payout, some by amount only, 1 in 50 batched
//! two to a credit, 1 in 100 split in two credits, 1 in 100 missing) among unrelated credits
//! and debits. Then checks every payout's composition and matches payouts to bank lines,
//! printing the time of each step, the links, suggestions and findings, and the subset
//! searches' work (searches, total and worst steps, exhausted, ambiguous). Last, the trade
//! lines of the same transactions (1 in 1,000 for another amount, 1 in 1,000 missing) are
//! cross-checked with the balance transactions (交易 ↔ 资金流水).

#![allow(clippy::unwrap_used, clippy::float_arithmetic)]

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use paydesk_core::settlement::matching::{PriorDecisions, SettleSettings};
use paydesk_core::settlement::{
    check_composition, cross_check_trades, match_payouts, BankLine, FlowKind, FundFlow, Payout,
    PayoutStatus, TradeCheckWindow,
};
use paydesk_core::{Currency, LineKind, Provider, SourceRef, StatementLine};
use std::collections::HashMap;
use std::time::Instant;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_txns = args.first().copied().unwrap_or(1_000_000);
    let n_bank = args.get(1).copied().unwrap_or(100_000);
    let per_payout = 50u64;
    let n_payouts = (n_txns / per_payout).max(1);
    let accounts = 200u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap();

    let clock = Instant::now();
    let mut flows: Vec<FundFlow> = Vec::with_capacity(n_txns as usize);
    let mut payouts: Vec<Payout> = Vec::with_capacity(n_payouts as usize);
    for p in 0..n_payouts {
        let account = format!("stripe-{}", p % accounts);
        let day = start + Duration::days((p / accounts) as i64);
        let payout_id = format!("po_{:014}", p * 7919 + 13);
        let mut total = 0i64;
        for t in 0..per_payout {
            let refund = rng.below(100) < 7;
            let gross = if refund {
                -(rng.below(20_000) as i64 + 100)
            } else {
                rng.below(100_000) as i64 + 500
            };
            let fee = if refund { 0 } else { gross * 29 / 1000 + 30 };
            let net = gross - fee;
            total += net;
            flows.push(FundFlow {
                provider: Provider::Stripe,
                account: account.clone(),
                flow_id: format!("txn_{p:08}{t:03}"),
                source_id: Some(format!("ch_{p:08}{t:03}")),
                order_no: Some(format!("SO-{p}-{t}")),
                payout_id: Some(payout_id.clone()),
                kind: if refund {
                    FlowKind::Refund
                } else {
                    FlowKind::Payment
                },
                booked_at: t0 + Duration::days((p / accounts) as i64),
                currency: Currency::USD,
                gross,
                fee,
                net,
                balance_after: None,
                description: String::new(),
                line: t + 1,
            });
        }
        // 1 in 200 payouts disagrees with its transactions (a composition mismatch).
        let amount = if p % 200 == 7 { total + 100 } else { total };
        payouts.push(Payout {
            provider: Provider::Stripe,
            account,
            payout_id,
            amount: amount.max(1),
            currency: Currency::USD,
            created_at: t0 + Duration::days((p / accounts) as i64),
            arrival_date: day + Duration::days(2),
            trace_id: None,
            automatic: true,
            status: PayoutStatus::Paid,
        });
    }

    let mut bank: Vec<BankLine> = Vec::with_capacity(n_bank as usize);
    let credit =
        |date: NaiveDate, amount: i64, refs: Vec<String>, text: String, line: u64| BankLine {
            booking_date: date,
            value_date: Some(date),
            amount,
            currency: Currency::USD,
            counterparty: Some("STRIPE PAYMENTS".into()),
            references: refs,
            text,
            line,
        };
    let mut p = 0usize;
    while p < payouts.len() && (bank.len() as u64) < n_bank {
        let po = &payouts[p];
        let delay = rng.below(3) as i64; // booked 0..2 days after the expected day
        let date = po.arrival_date + Duration::days(delay - 1);
        let line = bank.len() as u64 + 1;
        match p % 100 {
            13 => {} // missing
            27 if p + 1 < payouts.len() => {
                // two payouts in one credit, no reference
                let sum = po.amount + payouts[p + 1].amount;
                bank.push(credit(date, sum, vec![], "STRIPE TRANSFER".into(), line));
                p += 1;
            }
            41 => {
                // split in two credits, no reference
                let first = po.amount / 3;
                bank.push(credit(date, first, vec![], "STRIPE".into(), line));
                bank.push(credit(
                    date,
                    po.amount - first,
                    vec![],
                    "STRIPE".into(),
                    line + 1,
                ));
            }
            k if k % 3 == 0 => {
                // amount and date only
                bank.push(credit(date, po.amount, vec![], "STRIPE".into(), line));
            }
            _ => bank.push(credit(
                date,
                po.amount,
                vec![po.payout_id.clone()],
                format!("STRIPE PAYOUT {}", po.payout_id),
                line,
            )),
        }
        p += 1;
    }
    let last_day = start + Duration::days((n_payouts / accounts) as i64 + 3);
    let span = (last_day - start).num_days().max(1) as u64;
    while (bank.len() as u64) < n_bank {
        let date = start + Duration::days(rng.below(span) as i64);
        let debit = rng.below(2) == 0;
        let amount = rng.below(5_000_000) as i64 + 1;
        let line = bank.len() as u64 + 1;
        bank.push(BankLine {
            booking_date: date,
            value_date: None,
            amount: if debit { -amount } else { amount },
            currency: Currency::USD,
            counterparty: Some(format!("SUPPLIER {}", rng.below(500))),
            references: vec![format!("E2E{:012}", rng.next() % 1_000_000_000_000)],
            text: "INVOICE".into(),
            line,
        });
    }
    let generated = clock.elapsed();

    let clock = Instant::now();
    let mut by_payout: HashMap<&str, Vec<&FundFlow>> = HashMap::with_capacity(payouts.len());
    for f in &flows {
        if let Some(po) = f.payout_id.as_deref() {
            by_payout.entry(po).or_default().push(f);
        }
    }
    let mut mismatches = 0u64;
    for po in &payouts {
        let items = by_payout
            .get(po.payout_id.as_str())
            .cloned()
            .unwrap_or_default();
        if let Some((_, Some(_))) = check_composition(po, &items) {
            mismatches += 1;
        }
    }
    let composed = clock.elapsed();

    let clock = Instant::now();
    let mut settings = SettleSettings::new(last_day);
    settings.counterparties = vec![(Provider::Stripe, "stripe".into())];
    let result = match_payouts(&payouts, &bank, &PriorDecisions::default(), &settings);
    let matched = clock.elapsed();

    let mut classes: HashMap<String, u64> = HashMap::new();
    for f in &result.findings {
        *classes.entry(f.class.to_string()).or_default() += 1;
    }
    let mut classes: Vec<_> = classes.into_iter().collect();
    classes.sort();
    println!(
        "settle bench: {} balance transactions, {} payouts, {} bank lines",
        flows.len(),
        payouts.len(),
        bank.len()
    );
    println!("  generate      {:>8.3} s", generated.as_secs_f64());
    println!(
        "  composition   {:>8.3} s  ({mismatches} payouts differ from their transactions)",
        composed.as_secs_f64()
    );
    println!(
        "  match         {:>8.3} s  ({} links, {} suggestions, {} findings)",
        matched.as_secs_f64(),
        result.links.len(),
        result.suggestions.len(),
        result.findings.len()
    );
    for (class, n) in classes {
        println!("    {class:<28} {n}");
    }
    let mut arrivals: HashMap<String, u64> = HashMap::new();
    for a in &result.arrivals {
        *arrivals.entry(a.to_string()).or_default() += 1;
    }
    let mut arrivals: Vec<_> = arrivals.into_iter().collect();
    arrivals.sort();
    println!("  payouts by arrival: {arrivals:?}");
    let s = &result.search;
    println!(
        "  subset searches: {} (total {} steps, worst {} of {} allowed, {} exhausted, {} ambiguous)",
        s.searches, s.total_steps, s.worst_steps, settings.max_steps, s.exhausted, s.ambiguous
    );

    // The trade report lines of the same transactions.
    let trades: Vec<StatementLine> = flows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 1000 != 500)
        .map(|(i, f)| {
            let gross = if i % 1000 == 250 {
                f.gross + 1
            } else {
                f.gross
            };
            StatementLine {
                payment_intent_id: None,
                presentment: None,
                provider: Provider::Stripe,
                account: f.account.as_str().into(),
                provider_txn_id: f.source_id.as_deref().unwrap_or("").into(),
                merchant_order_no: f.order_no.as_deref().map(Into::into),
                kind: if f.kind == FlowKind::Refund {
                    LineKind::Refund
                } else {
                    LineKind::Payment
                },
                gross,
                fee_milli: f.fee * 1000,
                net: gross - f.fee,
                currency: f.currency,
                provider_time: f.booked_at,
                provider_refund_id: None,
                merchant_refund_no: None,
                provider_status: "charge".into(),
                source: SourceRef {
                    file: "report.csv".into(),
                    line: i as u64 + 2,
                },
                fee_base: None,
            }
        })
        .collect();
    let span = (t0 - Duration::days(1), t0 + Duration::days(400));
    let window = TradeCheckWindow {
        from: span.0,
        to: span.1,
        trade_days: vec![span],
        flow_days: vec![span],
        grace: Duration::hours(1),
        timezone: chrono_tz::UTC,
    };
    let clock = Instant::now();
    let check = cross_check_trades(&trades, &flows, &window);
    println!(
        "  trade check   {:>8.3} s  ({} trade lines: {} agree, {} differ)",
        clock.elapsed().as_secs_f64(),
        trades.len(),
        check.matched,
        check.findings.len()
    );
}
