//! The demo's bank side: a bank statement that receives the providers' payouts the way banks
//! do, with the cases settlement reconciliation exists for planted in it.
//!
//! Pure and deterministic by seed. Every payout paid out (not failed or canceled) in the
//! statement's currency arrives as one credit T+1..T+2 business days after the day it was
//! made (Stripe: its `arrival_date`, or the next business day), unless it is planted
//! otherwise:
//! - **batched**: two payouts arrive as one credit without a reference (a grouped N:1
//!   suggestion for a reviewer);
//! - **missing**: the earliest payout never arrives (未到账 once its window passed);
//! - **unknown credit**: a credit from a customer that no payout explains (银行长款);
//! - **short credit**: a payout named in the credit arrives less a bank charge (到账金额不符);
//! - **balance break**: the closing balance includes a charge the lines leave out (余额不连续).
//!
//! About half of the other credits name the payout in their text (附言 / remittance info),
//! the rest only the provider's settlement entity, as Chinese banks and ACH credits show them.
//! Credits booked after the statement's last day are left out: they are in transit.

use crate::sandbox::generate::Rng;
use chrono::NaiveDate;
use paydesk_core::settlement::calendar::add_business_days;
use paydesk_core::settlement::{BankLine, BankStatement, Payout, PayoutStatus, StatedBalance};
use paydesk_core::{Currency, Provider};
use serde::Serialize;

/// What to generate and what to plant.
#[derive(Debug, Clone)]
pub struct BankGenParams {
    pub seed: u64,
    pub currency: Currency,
    /// The statement's account (IBAN or account number).
    pub account_id: String,
    /// The statement covers `from..=to` (booking dates).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Balance at the start of `from`, minor units.
    pub opening: i64,
    pub batch_two: bool,
    pub drop_one: bool,
    /// Amount of a credit no payout explains.
    pub unknown_credit: Option<i64>,
    /// A bank charge taken off one referenced credit.
    pub short_by: Option<i64>,
    /// A charge in the closing balance that no line shows.
    pub unlisted_charge: Option<i64>,
}

/// The cases a generated statement carries, by payout id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlantedBank {
    pub batched: Vec<String>,
    pub missing: Option<String>,
    pub unknown_credit: Option<i64>,
    pub short: Option<(String, i64)>,
    pub unlisted_charge: Option<i64>,
    /// Payouts whose credit falls after the statement (in transit).
    pub in_transit: Vec<String>,
    /// Credits that name their payout in the text.
    pub referenced: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GeneratedBank {
    pub statement: BankStatement,
    pub planted: PlantedBank,
}

/// The name a provider's settlement entity has on a bank statement.
pub fn counterparty(provider: Provider) -> &'static str {
    match provider {
        Provider::Alipay => "支付宝（中国）网络技术有限公司",
        Provider::Wechat => "财付通支付科技有限公司",
        Provider::Stripe => "STRIPE PAYMENTS",
        Provider::Manual => "",
    }
}

/// Business days between the day a payout was made and its credit.
fn delay(p: &Payout, rng: &mut Rng) -> NaiveDate {
    let n = rng.range(0, 2) as u32;
    if p.provider == Provider::Stripe {
        // Stripe's arrival_date is already the next business day: on it, or one day late.
        add_business_days(p.arrival_date, n).max(p.arrival_date)
    } else {
        let made = p
            .created_at
            .with_timezone(&p.provider.default_timezone())
            .date_naive();
        add_business_days(made, 1 + n)
    }
}

/// What a credit says: the payout's id in the text (or only the entity's words).
fn words(p: &Payout, referenced: bool) -> String {
    let what = match p.provider {
        Provider::Alipay => "支付宝提现",
        Provider::Wechat => "微信支付结算",
        _ => "STRIPE TRANSFER",
    };
    if !referenced {
        return what.to_string();
    }
    // Stripe: the trace id banks show; Alipay/WeChat: the 提现's business number.
    let id = match (p.provider, &p.trace_id) {
        (Provider::Stripe, Some(t)) => t.as_str(),
        _ => p.payout_id.as_str(),
    };
    format!("{what} {id}")
}

/// The bank statement for `payouts` with the cases of `params` planted.
pub fn bank_statement(payouts: &[Payout], params: &BankGenParams) -> GeneratedBank {
    let mut rng = Rng::new(params.seed);
    let mut eligible: Vec<&Payout> = payouts
        .iter()
        .filter(|p| p.currency == params.currency)
        .filter(|p| !matches!(p.status, PayoutStatus::Failed | PayoutStatus::Canceled))
        .collect();
    eligible.sort_by(|a, b| (a.created_at, &a.payout_id).cmp(&(b.created_at, &b.payout_id)));
    let mut planted = PlantedBank::default();

    // (booking date, amount, counterparty, text) of each credit.
    let mut credits: Vec<(NaiveDate, i64, String, String)> = Vec::new();
    let mut rest: Vec<&Payout> = eligible.clone();
    if params.drop_one && !rest.is_empty() {
        planted.missing = Some(rest.remove(0).payout_id.clone());
    }
    if params.batch_two {
        // Two payouts made the same day (different accounts where there are), else the
        // first two: one credit on the later one's day.
        let pair = (0..rest.len())
            .flat_map(|i| (i + 1..rest.len()).map(move |j| (i, j)))
            .find(|&(i, j)| {
                let (a, b) = (rest[i], rest[j]);
                a.created_at.date_naive() == b.created_at.date_naive() && a.account != b.account
            })
            .or((rest.len() >= 2).then_some((0, 1)));
        if let Some((i, j)) = pair {
            let (a, b) = (rest[i], rest[j]);
            let day = delay(a, &mut rng).max(delay(b, &mut rng));
            let entity = if a.provider == b.provider {
                counterparty(a.provider)
            } else {
                "银联清算"
            };
            credits.push((
                day,
                a.amount + b.amount,
                entity.to_string(),
                format!("{} 批量结算", words(a, false)),
            ));
            planted.batched = vec![a.payout_id.clone(), b.payout_id.clone()];
            rest.remove(j);
            rest.remove(i);
        }
    }
    let mut short_taken = params.short_by.is_none();
    for p in rest {
        let day = delay(p, &mut rng);
        // The planted short credit names its payout, so the bank amount is compared with it.
        let short = !short_taken && day <= params.to;
        let referenced = short || rng.range(0, 2) == 0;
        let mut amount = p.amount;
        if short {
            let by = params.short_by.unwrap_or(0);
            amount -= by;
            planted.short = Some((p.payout_id.clone(), by));
            short_taken = true;
        }
        if referenced {
            planted.referenced.push(p.payout_id.clone());
        }
        if day > params.to {
            planted.in_transit.push(p.payout_id.clone());
        }
        credits.push((
            day,
            amount,
            counterparty(p.provider).to_string(),
            words(p, referenced),
        ));
    }
    if let Some(amount) = params.unknown_credit {
        // Mid-period, on a business day.
        let span = (params.to - params.from).num_days().max(0);
        let day = add_business_days(params.from, (span / 2) as u32).min(params.to);
        let text = if params.currency == Currency::CNY {
            "货款"
        } else {
            "INVOICE PAYMENT"
        };
        let who = if params.currency == Currency::CNY {
            "上海云杉贸易有限公司"
        } else {
            "NORTHWIND TRADERS LLC"
        };
        credits.push((day, amount, who.to_string(), text.to_string()));
        planted.unknown_credit = Some(amount);
    }

    credits.retain(|(day, ..)| *day >= params.from && *day <= params.to);
    credits.sort_by(|a, b| (a.0, &a.3, a.1).cmp(&(b.0, &b.3, b.1)));
    let lines: Vec<BankLine> = credits
        .into_iter()
        .enumerate()
        .map(|(i, (day, amount, who, text))| BankLine {
            booking_date: day,
            value_date: Some(day),
            amount,
            currency: params.currency,
            counterparty: Some(who),
            // The bank's own serial (流水号 / AcctSvcrRef).
            references: vec![format!(
                "{}{:08}",
                day.format("%Y%m%d"),
                rng.range(0, 100_000_000)
            )],
            text,
            line: i as u64 + 1,
        })
        .collect();
    let moved: i64 = lines.iter().map(|l| l.amount).sum();
    let unlisted = params.unlisted_charge.unwrap_or(0);
    planted.unlisted_charge = params.unlisted_charge;
    GeneratedBank {
        statement: BankStatement {
            account_id: Some(params.account_id.clone()),
            statement_id: Some(format!(
                "STMT-{}-{}",
                params.account_id,
                params.to.format("%Y%m%d")
            )),
            currency: params.currency,
            opening: Some(StatedBalance {
                date: params.from,
                amount: params.opening,
            }),
            closing: Some(StatedBalance {
                date: params.to,
                amount: params.opening + moved - unlisted,
            }),
            lines,
        },
        planted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use paydesk_core::settlement::matching::{Arrival, LinkRule, SettleClass, SettleSettings};
    use paydesk_core::settlement::{match_payouts, matching::PriorDecisions};

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap_or_default()
    }

    /// Payouts of two WeChat merchants and Alipay, each day 2–13 March 2026 (made 09:00
    /// Beijing = 01:00 UTC), with amounts that never sum alike by chance.
    fn payouts() -> Vec<Payout> {
        let mut out = Vec::new();
        for day in 2..=13u32 {
            for (k, (account, provider)) in [
                ("alipay-main", Provider::Alipay),
                ("wechat-main", Provider::Wechat),
                ("wechat-shop2", Provider::Wechat),
            ]
            .into_iter()
            .enumerate()
            {
                let at = Utc
                    .with_ymd_and_hms(2026, 3, day, 1, 0, 0)
                    .single()
                    .unwrap_or_default();
                out.push(Payout {
                    provider,
                    account: account.to_string(),
                    payout_id: format!("2026030{day:02}{k}000123456"),
                    amount: 100_000 + i64::from(day) * 7_919 + k as i64 * 104_729,
                    currency: Currency::CNY,
                    created_at: at,
                    arrival_date: d(day),
                    trace_id: Some(format!("T{day}{k}")),
                    automatic: false,
                    status: PayoutStatus::Paid,
                });
            }
        }
        out
    }

    fn params(seed: u64) -> BankGenParams {
        BankGenParams {
            seed,
            currency: Currency::CNY,
            account_id: "755912345610101".into(),
            from: d(2),
            to: d(13),
            opening: 1_000_000,
            batch_two: true,
            drop_one: true,
            unknown_credit: Some(88_800),
            short_by: Some(1_500),
            unlisted_charge: Some(2_000),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_statement_and_another_seed_other_delays() {
        let a = bank_statement(&payouts(), &params(7));
        let b = bank_statement(&payouts(), &params(7));
        assert_eq!(a.statement, b.statement);
        assert_eq!(a.planted, b.planted);
        let c = bank_statement(&payouts(), &params(8));
        let days = |g: &GeneratedBank| -> Vec<NaiveDate> {
            g.statement.lines.iter().map(|l| l.booking_date).collect()
        };
        assert_ne!(days(&a), days(&c));
    }

    #[test]
    fn every_payout_arrives_once_except_the_planted_ones() {
        let ps = payouts();
        let g = bank_statement(&ps, &params(3));
        let p = &g.planted;
        assert_eq!(p.missing.as_deref(), Some(ps[0].payout_id.as_str()));
        assert_eq!(p.batched.len(), 2);
        // The pair was made the same day by two accounts.
        let pair: Vec<&Payout> = ps
            .iter()
            .filter(|x| p.batched.contains(&x.payout_id))
            .collect();
        assert_eq!(pair[0].created_at, pair[1].created_at);
        assert_ne!(pair[0].account, pair[1].account);
        let batch_sum = pair[0].amount + pair[1].amount;
        let lines = &g.statement.lines;
        assert_eq!(lines.iter().filter(|l| l.amount == batch_sum).count(), 1);
        // Every other payout: one credit of its amount (less the charge for the short one),
        // T+1..T+2 business days after it was made, unless in transit.
        for x in &ps {
            if p.missing.as_ref() == Some(&x.payout_id) || p.batched.contains(&x.payout_id) {
                assert!(lines.iter().all(|l| l.amount != x.amount));
                continue;
            }
            let expect = match &p.short {
                Some((id, by)) if *id == x.payout_id => x.amount - by,
                _ => x.amount,
            };
            let found: Vec<&BankLine> = lines.iter().filter(|l| l.amount == expect).collect();
            if p.in_transit.contains(&x.payout_id) {
                assert!(found.is_empty());
                continue;
            }
            assert_eq!(found.len(), 1, "{}", x.payout_id);
            let made = x.arrival_date;
            let b = found[0].booking_date;
            assert!(
                b >= add_business_days(made, 1) && b <= add_business_days(made, 2),
                "{b}"
            );
            assert_eq!(
                found[0].mentions(&x.payout_id),
                p.referenced.contains(&x.payout_id)
            );
        }
        assert!(
            !p.in_transit.is_empty(),
            "the last days' credits are still on their way"
        );
        assert_eq!(lines.iter().filter(|l| l.amount == 88_800).count(), 1);
        // The closing balance leaves out the unlisted charge: the statement does not roll.
        assert_eq!(g.statement.roll_forward_gap(), Some(2_000));
        let mut lines_sorted = lines.clone();
        lines_sorted.sort_by_key(|l| l.booking_date);
        assert_eq!(&lines_sorted, lines);
    }

    #[test]
    fn nothing_planted_rolls_forward_and_every_payout_in_the_period_arrives() {
        let ps = payouts();
        let mut p = params(5);
        p.batch_two = false;
        p.drop_one = false;
        p.unknown_credit = None;
        p.short_by = None;
        p.unlisted_charge = None;
        let g = bank_statement(&ps, &p);
        assert_eq!(g.statement.roll_forward_gap(), Some(0));
        assert_eq!(g.planted.missing, None);
        assert_eq!(
            g.statement.lines.len() + g.planted.in_transit.len(),
            ps.len()
        );
    }

    #[test]
    fn the_match_finds_each_planted_case() {
        let ps = payouts();
        let g = bank_statement(&ps, &params(11));
        let mut settings = SettleSettings::new(d(13));
        settings.counterparties = vec![
            (Provider::Alipay, "支付宝".into()),
            (Provider::Wechat, "财付通".into()),
        ];
        let r = match_payouts(
            &ps,
            &g.statement.lines,
            &PriorDecisions::default(),
            &settings,
        );
        let idx = |id: &str| {
            ps.iter()
                .position(|p| p.payout_id == id)
                .unwrap_or(usize::MAX)
        };
        let missing = idx(g.planted.missing.as_deref().unwrap_or(""));
        assert_eq!(r.arrivals.get(missing), Some(&Arrival::NotArrived));
        let classes: Vec<SettleClass> = r.findings.iter().map(|f| f.class).collect();
        assert!(classes.contains(&SettleClass::PayoutNotArrived));
        assert!(classes.contains(&SettleClass::BankCreditWithoutPayout));
        assert!(classes.contains(&SettleClass::PayoutAmountMismatch));
        // The batch is a grouped suggestion of exactly the two payouts, not booked.
        let mut batched: Vec<usize> = g.planted.batched.iter().map(|id| idx(id)).collect();
        batched.sort_unstable();
        assert!(
            r.suggestions
                .iter()
                .any(|s| s.rule == LinkRule::GroupedPayouts && s.payouts == batched),
            "{:?}",
            r.suggestions
        );
        assert!(r.links.iter().all(|l| l.payouts != batched));
    }
}
