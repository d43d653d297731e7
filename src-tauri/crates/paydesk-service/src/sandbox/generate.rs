//! A deterministic generator of an order mirror plus the providers' matching statements, with
//! a chosen mix of discrepancies, for the demo, tests and benchmarks.
//!
//! Same parameters, same output, on every machine: it uses its own small PRNG (SplitMix64)
//! rather than a library generator whose stream may change between versions.

use chrono::{DateTime, Duration, Utc};
use paydesk_core::money::Currency;
use paydesk_core::{
    BillDate, LineKind, LocalRefund, Order, OrderStatus, OutcomeClass, Provider, RefundOrigin,
    SourceRef, StatementLine,
};
use std::collections::BTreeMap;

/// Deterministic pseudo-random numbers (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next_u64() % 10) as u8))
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(CHARS[(self.next_u64() % CHARS.len() as u64) as usize]))
            .collect()
    }
}

/// How often each discrepancy class is injected, in parts per million of orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    pub rates_ppm: BTreeMap<OutcomeClass, u32>,
    /// Also inject at least one of every class with a non-zero rate (small demo days).
    pub at_least_one: bool,
}

impl Mix {
    /// No discrepancies at all.
    pub fn none() -> Mix {
        Mix {
            rates_ppm: BTreeMap::new(),
            at_least_one: false,
        }
    }

    /// A realistic default: about 2% of orders carry a discrepancy of some class.
    pub fn realistic() -> Mix {
        let mut rates_ppm = BTreeMap::new();
        for class in OutcomeClass::discrepancy_classes() {
            rates_ppm.insert(class, 1_500);
        }
        Mix {
            rates_ppm,
            at_least_one: false,
        }
    }

    /// Every class at least once: the demo.
    pub fn demo() -> Mix {
        Mix {
            at_least_one: true,
            ..Mix::realistic()
        }
    }

    /// Parses "provider_only=0.5%,order_only=0.1%" or one of "none", "realistic", "demo".
    pub fn parse(text: &str) -> Result<Mix, String> {
        match text.trim() {
            "none" => return Ok(Mix::none()),
            "realistic" | "default" => return Ok(Mix::realistic()),
            "demo" => return Ok(Mix::demo()),
            _ => {}
        }
        let mut mix = Mix::none();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part
                .split_once('=')
                .ok_or_else(|| format!("mix entry {part:?} must look like class=0.5%"))?;
            let class: OutcomeClass = name.trim().parse()?;
            if !class.is_discrepancy() {
                return Err(
                    "`matched` is what is left over; give rates for discrepancy classes".into(),
                );
            }
            let ppm = crate::context::config::parse_percent_ppm(rate)?;
            // "1%" → 10_000 parts per million.
            mix.rates_ppm
                .insert(class, u32::try_from(ppm).unwrap_or(u32::MAX));
        }
        Ok(mix)
    }

    fn total_ppm(&self) -> u64 {
        self.rates_ppm.values().map(|&r| u64::from(r)).sum()
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateParams {
    pub orders: u64,
    pub date: BillDate,
    pub seed: u64,
    pub mix: Mix,
    /// Provider accounts to spread the orders over: (account name, provider, currency, timezone).
    pub accounts: Vec<GenAccount>,
}

#[derive(Debug, Clone)]
pub struct GenAccount {
    pub name: String,
    pub provider: Provider,
    pub currency: Currency,
    pub timezone: chrono_tz::Tz,
}

impl GenAccount {
    pub fn new(name: &str, provider: Provider) -> GenAccount {
        GenAccount {
            name: name.to_string(),
            provider,
            currency: if provider == Provider::Stripe {
                Currency::USD
            } else {
                Currency::CNY
            },
            timezone: provider.default_timezone(),
        }
    }
}

/// The generated day.
#[derive(Debug, Clone, Default)]
pub struct GeneratedDay {
    pub orders: Vec<Order>,
    /// (order no, account name) of every order: the mirror's account column.
    pub order_accounts: Vec<(String, String)>,
    pub refunds: Vec<LocalRefund>,
    /// Statement lines per account name for `date`.
    pub lines: BTreeMap<String, Vec<StatementLine>>,
    /// Lines that belong to the next day's statement (payments made just before midnight).
    pub next_day_lines: BTreeMap<String, Vec<StatementLine>>,
    /// How many of each class were injected (what a reconciliation should find).
    pub injected: BTreeMap<OutcomeClass, u64>,
    /// Each injected discrepancy: what this day's runs must report, and nothing else.
    pub planted: Vec<Planted>,
    /// Items crossing midnight that must not become discrepancies (see [`Crossings`]).
    pub crossings: Crossings,
}

/// One injected discrepancy: the account whose run reports it, its class, the order it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planted {
    pub account: String,
    pub class: OutcomeClass,
    pub order_no: String,
}

/// Midnight crossings the generator made, besides the late payments of
/// [`OutcomeClass::TimingDifference`] (paid before midnight, booked after).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crossings {
    /// Booked by the provider just before midnight; the shop's `paid_at` is just after.
    pub payments_booked_before: u64,
    /// Refund booked by the provider just before midnight; ours just after.
    pub refunds_booked_before: u64,
    /// Refund booked by us just before midnight; by the provider just after (a timing
    /// difference, planted as one).
    pub refunds_booked_after: u64,
    /// Refund of this day's order made the next day (both sides on the next day).
    pub refunds_next_day: u64,
}

/// Scheduled fee: 0.6% for Alipay/WeChat, 2.9% + 0.30 for Stripe USD, 3.6% for JPY.
pub fn scheduled_fee_milli(provider: Provider, currency: Currency, gross: i64) -> i64 {
    match (provider, currency.code()) {
        (Provider::Stripe, "JPY") => gross * 36,
        (Provider::Stripe, _) => gross * 29 + 30_000,
        _ => gross * 6,
    }
}

pub fn generate(params: &GenerateParams) -> GeneratedDay {
    let mut rng =
        Rng::new(params.seed ^ (params.date.0.to_string().len() as u64) ^ day_number(params.date));
    let mut day = GeneratedDay::default();
    if params.accounts.is_empty() {
        return day;
    }
    for a in &params.accounts {
        day.lines.insert(a.name.clone(), Vec::new());
        day.next_day_lines.insert(a.name.clone(), Vec::new());
    }
    let total_ppm = params.mix.total_ppm();
    // Classes forced once each (demo), spread over the first orders of suitable accounts.
    let mut forced: Vec<OutcomeClass> = if params.mix.at_least_one {
        params
            .mix
            .rates_ppm
            .iter()
            .filter(|(_, &r)| r > 0)
            .map(|(c, _)| *c)
            .collect()
    } else {
        Vec::new()
    };

    for i in 0..params.orders {
        let account = &params.accounts[(i % params.accounts.len() as u64) as usize];
        let pick = if let Some(pos) = forced.iter().position(|c| class_fits(*c, account.provider)) {
            Some(forced.remove(pos))
        } else if total_ppm > 0 && rng.range(0, 1_000_000) < total_ppm as i64 {
            let mut x = rng.range(0, total_ppm as i64) as u64;
            let mut chosen = None;
            for (class, &rate) in &params.mix.rates_ppm {
                if x < u64::from(rate) {
                    chosen = Some(*class);
                    break;
                }
                x -= u64::from(rate);
            }
            chosen.filter(|c| class_fits(*c, account.provider))
        } else {
            None
        };
        generate_order(&mut rng, params, account, i, pick, &mut day);
    }
    day
}

fn day_number(date: BillDate) -> u64 {
    use chrono::Datelike;
    u64::try_from(date.0.num_days_from_ce()).unwrap_or(0)
}

/// Some classes cannot occur in some providers' files: Alipay bills have no currency column
/// and a WeChat bill holds one currency, so currency mismatches come from Stripe.
fn class_fits(class: OutcomeClass, provider: Provider) -> bool {
    match class {
        OutcomeClass::CurrencyMismatch => provider == Provider::Stripe,
        OutcomeClass::ProviderAdjustment => provider == Provider::Stripe,
        _ => true,
    }
}

fn txn_id(rng: &mut Rng, provider: Provider, date: BillDate) -> String {
    match provider {
        Provider::Alipay => format!("{}2200{}", date.0.format("%Y%m%d"), rng.digits(16)),
        Provider::Wechat => format!("4200{}{}", rng.digits(6), rng.digits(18)),
        // A Stripe payment's id is its charge's (the report's `charge_id`, what a refund is
        // created against).
        Provider::Stripe => format!("ch_{}", rng.alnum(24)),
        Provider::Manual => format!("M{}", rng.digits(18)),
    }
}

fn generate_order(
    rng: &mut Rng,
    params: &GenerateParams,
    account: &GenAccount,
    i: u64,
    class: Option<OutcomeClass>,
    day: &mut GeneratedDay,
) {
    let provider = account.provider;
    let prefix = match provider {
        Provider::Alipay => "AP",
        Provider::Wechat => "WX",
        Provider::Stripe => "ST",
        Provider::Manual => "MN",
    };
    let order_no = format!("{prefix}{}{:08}", params.date.0.format("%Y%m%d"), i);
    let currency = account.currency;
    let amount = if currency.exponent() == 0 {
        rng.range(100, 50_000)
    } else {
        rng.range(100, 200_000)
    };
    let (start, end) = params.date.utc_bounds(account.timezone);
    let day_secs = (end - start).num_seconds();
    // Normal orders stay clear of the timing window; timing orders fall inside it.
    let paid_at = if class == Some(OutcomeClass::TimingDifference) {
        end - Duration::seconds(rng.range(60, 20 * 60))
    } else {
        start + Duration::seconds(rng.range(0, day_secs - 3600))
    };
    let txn = txn_id(rng, provider, params.date);
    let mut order = Order {
        order_no: order_no.as_str().into(),
        provider,
        // Every provider's payment id, a Stripe order's charge id included: a refund from
        // Paydesk is created against it.
        provider_txn_id: Some(txn.as_str().into()),
        amount,
        currency,
        status: OrderStatus::Paid,
        created_at: paid_at - Duration::seconds(rng.range(5, 600)),
        paid_at: Some(paid_at),
        customer_ref: Some(format!("cust-{:06}", rng.range(0, 1_000_000)).into()),
    };
    let provider_time = paid_at + Duration::seconds(rng.range(0, 5));
    let mut line = StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider,
        account: account.name.as_str().into(),
        provider_txn_id: txn.into(),
        merchant_order_no: Some(order_no.as_str().into()),
        kind: LineKind::Payment,
        gross: amount,
        fee_milli: 0,
        net: 0,
        currency,
        provider_time,
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "SUCCESS".into(),
        source: SourceRef {
            file: String::new().into(),
            line: 0,
        },
        fee_base: None,
    };
    let mut push_order = true;
    let mut push_line = true;
    let mut refund_next_day = false;
    let mut extra_lines: Vec<StatementLine> = Vec::new();
    let mut local_refund: Option<LocalRefund> = None;
    let mut refund_line: Option<StatementLine> = None;

    // A few ordinary partial refunds that match, for realism.
    let ordinary_refund = class.is_none() && rng.range(0, 100) < 3;
    let refund_amount = (amount / 2).max(1);
    let refund_no = format!("RF{}", &order_no[2..]);
    let make_local_refund = |amount: i64, at: DateTime<Utc>| LocalRefund {
        refund_no: refund_no.as_str().into(),
        order_no: order_no.as_str().into(),
        provider,
        amount,
        currency,
        refunded_at: at,
        provider_refund_id: None,
        origin: RefundOrigin::Mirror,
    };
    let refund_at = paid_at + Duration::seconds(rng.range(60, 1800));
    let make_refund_line = |rng: &mut Rng, amount: i64| {
        let mut l = line.clone();
        l.kind = LineKind::Refund;
        l.gross = -amount;
        // A refund line names the charge it refunds, as Stripe's report does (`charge_id`).
        // The draw keeps the generator's stream as it was.
        if provider == Provider::Stripe {
            let _ = rng.alnum(24);
        }
        l.provider_refund_id = Some(match provider {
            Provider::Stripe => format!("re_{}", rng.alnum(24)).into(),
            _ => format!("5030{}", rng.digits(24)).into(),
        });
        l.merchant_refund_no = Some(refund_no.as_str().into());
        l.provider_time = refund_at + Duration::seconds(2);
        l.provider_status = "REFUND".into();
        l
    };

    match class {
        None | Some(OutcomeClass::Matched) => {
            if ordinary_refund {
                local_refund = Some(make_local_refund(refund_amount, refund_at));
                refund_line = Some(make_refund_line(rng, refund_amount));
                order.status = OrderStatus::PartiallyRefunded;
            }
        }
        Some(OutcomeClass::ProviderOnly) => push_order = false,
        Some(OutcomeClass::OrderOnly) => push_line = false,
        Some(OutcomeClass::AmountMismatch) => line.gross = amount + rng.range(1, 500),
        Some(OutcomeClass::CurrencyMismatch) => {
            line.currency = if currency == Currency::CNY {
                Currency::USD
            } else {
                Currency::parse("EUR").unwrap_or(Currency::CNY)
            };
        }
        Some(OutcomeClass::StatusMismatch) => {
            order.status = if rng.range(0, 2) == 0 {
                OrderStatus::Pending
            } else {
                OrderStatus::Closed
            };
            order.paid_at = None;
        }
        Some(OutcomeClass::DuplicatePayment) => {
            let mut dup = line.clone();
            dup.provider_txn_id = txn_id(rng, provider, params.date).into();
            dup.provider_time = provider_time + Duration::seconds(rng.range(10, 300));
            extra_lines.push(dup);
        }
        Some(OutcomeClass::RefundOnlyAtProvider) => {
            refund_line = Some(make_refund_line(rng, refund_amount));
        }
        Some(OutcomeClass::RefundOnlyLocal) => {
            local_refund = Some(make_local_refund(refund_amount, refund_at));
            order.status = OrderStatus::PartiallyRefunded;
        }
        Some(OutcomeClass::RefundAmountMismatch) => {
            local_refund = Some(make_local_refund(refund_amount, refund_at));
            let provider_amount = refund_amount + rng.range(1, 50);
            refund_line = Some(make_refund_line(rng, provider_amount));
            order.status = OrderStatus::PartiallyRefunded;
        }
        Some(OutcomeClass::FeeVariance) => {} // fee set below
        Some(OutcomeClass::ProviderAdjustment) => {
            let mut dispute = line.clone();
            dispute.kind = LineKind::Adjustment;
            dispute.gross = -amount;
            dispute.provider_txn_id = format!("txn_{}", rng.alnum(24)).into();
            dispute.provider_status = "dispute".into();
            dispute.provider_time = provider_time + Duration::seconds(600);
            extra_lines.push(dispute);
        }
        Some(OutcomeClass::TimingDifference) => {}
    }

    let set_fee = |l: &mut StatementLine, variance: bool| {
        let fee = match l.kind {
            LineKind::Payment => scheduled_fee_milli(provider, l.currency, l.gross),
            _ => 0,
        };
        // Fees are whole minor units except WeChat's, which keep sub-cent precision.
        let fee = if provider == Provider::Wechat {
            fee
        } else {
            paydesk_core::money::milli_to_minor_rounded(fee) * 1000
        };
        l.fee_milli = if variance { fee + 250_000 } else { fee };
        l.net = l.gross - paydesk_core::money::milli_to_minor_rounded(l.fee_milli);
    };
    // Midnight crossings, drawn from a stream of their own so the rest of the day is unchanged.
    let mut cross = Rng::new(
        params.seed.rotate_left(17) ^ day_number(params.date).wrapping_mul(0x0100_0000_01B3) ^ i,
    );
    let timing_planted = params
        .mix
        .rates_ppm
        .get(&OutcomeClass::TimingDifference)
        .is_some_and(|&r| r > 0);
    let roll = cross.range(0, 1000);
    match (class, local_refund.as_mut(), refund_line.as_mut()) {
        (None, Some(r), Some(l)) if roll < 250 => {
            l.provider_time = end - Duration::seconds(cross.range(1, 10));
            r.refunded_at = end + Duration::seconds(cross.range(1, 90));
            day.crossings.refunds_booked_before += 1;
        }
        (None, Some(r), Some(l)) if roll < 500 && timing_planted => {
            r.refunded_at = end - Duration::seconds(cross.range(60, 600));
            l.provider_time = end + Duration::seconds(cross.range(1, 120));
            refund_next_day = true;
            day.crossings.refunds_booked_after += 1;
            *day.injected
                .entry(OutcomeClass::TimingDifference)
                .or_insert(0) += 1;
            day.planted.push(Planted {
                account: account.name.clone(),
                class: OutcomeClass::TimingDifference,
                order_no: order_no.clone(),
            });
        }
        (None, Some(r), Some(l)) if roll < 750 => {
            r.refunded_at = end + Duration::seconds(cross.range(3600, 12 * 3600));
            l.provider_time = r.refunded_at + Duration::seconds(2);
            refund_next_day = true;
            day.crossings.refunds_next_day += 1;
        }
        (None, None, None) if roll < 25 => {
            line.provider_time = end - Duration::seconds(cross.range(1, 10));
            let shop_time = end + Duration::seconds(cross.range(1, 90));
            order.paid_at = Some(shop_time);
            order.created_at = shop_time - Duration::seconds(cross.range(5, 600));
            day.crossings.payments_booked_before += 1;
        }
        _ => {}
    }

    set_fee(&mut line, class == Some(OutcomeClass::FeeVariance));
    for l in &mut extra_lines {
        set_fee(l, false);
    }
    if let Some(l) = refund_line.as_mut() {
        l.fee_milli = 0;
        l.net = l.gross;
    }

    if push_order {
        day.order_accounts
            .push((order.order_no.to_string(), account.name.clone()));
        day.orders.push(order);
    }
    let account_lines = if class == Some(OutcomeClass::TimingDifference) {
        // The provider books it after midnight: it is in tomorrow's statement.
        line.provider_time =
            params.date.utc_bounds(account.timezone).1 + Duration::seconds(rng.range(1, 120));
        day.next_day_lines.entry(account.name.clone()).or_default()
    } else {
        day.lines.entry(account.name.clone()).or_default()
    };
    if push_line {
        account_lines.push(line);
    }
    let lines = day.lines.entry(account.name.clone()).or_default();
    lines.extend(extra_lines);
    if let Some(l) = refund_line {
        if refund_next_day {
            day.next_day_lines
                .entry(account.name.clone())
                .or_default()
                .push(l);
        } else {
            lines.push(l);
        }
    }
    if let Some(r) = local_refund {
        day.refunds.push(r);
    }
    if let Some(c) = class {
        *day.injected.entry(c).or_insert(0) += 1;
        day.planted.push(Planted {
            account: account.name.clone(),
            class: c,
            order_no,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(orders: u64, mix: Mix) -> GenerateParams {
        GenerateParams {
            orders,
            date: BillDate::parse("2026-11-22").expect("date"),
            seed: 7,
            mix,
            accounts: vec![
                GenAccount::new("alipay-main", Provider::Alipay),
                GenAccount::new("wechat-main", Provider::Wechat),
                GenAccount::new("stripe-main", Provider::Stripe),
            ],
        }
    }

    #[test]
    fn is_deterministic() {
        let a = generate(&params(500, Mix::realistic()));
        let b = generate(&params(500, Mix::realistic()));
        assert_eq!(a.orders, b.orders);
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.refunds, b.refunds);
    }

    #[test]
    fn demo_mix_injects_every_class() {
        let day = generate(&params(60, Mix::demo()));
        for class in OutcomeClass::discrepancy_classes() {
            assert!(
                day.injected.get(&class).copied().unwrap_or(0) >= 1,
                "{class:?}"
            );
        }
    }

    #[test]
    fn clean_mix_matches_everything() {
        let p = params(300, Mix::none());
        let day = generate(&p);
        for account in &p.accounts {
            let lines = day.lines.get(&account.name).cloned().unwrap_or_default();
            let input = paydesk_core::MatchInput {
                lines,
                orders: day
                    .orders
                    .iter()
                    .filter(|o| o.provider == account.provider)
                    .cloned()
                    .collect(),
                refunds: day
                    .refunds
                    .iter()
                    .filter(|r| r.provider == account.provider)
                    .cloned()
                    .collect(),
                window: Some(p.date.utc_bounds(account.timezone)),
                ..Default::default()
            };
            let settings = paydesk_core::MatchSettings {
                fee_rules: vec![],
                ..Default::default()
            };
            let result = paydesk_core::match_day(&input, &settings);
            let counts = result.counts();
            assert_eq!(counts.len(), 1, "{account:?}: {counts:?}");
            assert!(counts.contains_key(&OutcomeClass::Matched));
        }
    }

    #[test]
    fn stripe_orders_carry_their_charge_id() {
        let day = generate(&params(300, Mix::demo()));
        let stripe: Vec<&Order> = day
            .orders
            .iter()
            .filter(|o| o.provider == Provider::Stripe)
            .collect();
        assert!(stripe.len() >= 50, "{}", stripe.len());
        let lines: Vec<&StatementLine> = day
            .lines
            .get("stripe-main")
            .into_iter()
            .chain(day.next_day_lines.get("stripe-main"))
            .flatten()
            .collect();
        let mut paid = 0;
        let mut refunded = 0;
        for o in stripe {
            let charge = o.provider_txn_id.as_deref().unwrap_or_default();
            assert!(charge.starts_with("ch_"), "{o:?}");
            let of_order = |kind: LineKind| {
                lines
                    .iter()
                    .filter(move |l| {
                        l.kind == kind
                            && l.merchant_order_no.as_deref() == Some(o.order_no.as_str())
                    })
                    .collect::<Vec<_>>()
            };
            // Its payment (the first; a duplicate is another charge) and every refund name it.
            if let Some(l) = of_order(LineKind::Payment).first() {
                assert_eq!(l.provider_txn_id, charge, "{o:?}");
                paid += 1;
            }
            for l in of_order(LineKind::Refund) {
                assert_eq!(l.provider_txn_id, charge, "{o:?}");
                refunded += 1;
            }
        }
        assert!(
            paid >= 50 && refunded >= 1,
            "{paid} payments, {refunded} refunds"
        );
    }

    #[test]
    fn mix_parsing() {
        let m = Mix::parse("provider_only=1%, order_only=0.5%").expect("mix");
        assert_eq!(m.rates_ppm.get(&OutcomeClass::ProviderOnly), Some(&10_000));
        assert_eq!(m.rates_ppm.get(&OutcomeClass::OrderOnly), Some(&5_000));
        assert!(Mix::parse("matched=1%").is_err());
        assert!(Mix::parse("nonsense=1%").is_err());
        assert!(Mix::parse("provider_only").is_err());
    }
}
