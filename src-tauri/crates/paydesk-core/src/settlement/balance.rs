//! Balance continuity: opening + Σ movements = closing, for a provider account's fund flows
//! (row by row where the file states a running balance, and day by day) and for bank
//! statements (each file, and from one statement to the next).

use super::engine::money;
use super::matching::{Finding, SettleClass};
use super::{BankStatement, FundFlow, StatedBalance};
use crate::matcher::FastMap;
use crate::money::{format_scaled_wide, Currency};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One provider account's balance over one local day, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBalance {
    pub date: NaiveDate,
    pub currency: Currency,
    /// The balance before the day's first movement; `None` when neither the file (no running
    /// balance, as on Stripe) nor the previous closing says it.
    pub opening: Option<i64>,
    /// Σ net of the day's movements.
    pub movements: i64,
    /// The balance after the day's last movement (the file's, where it states one).
    pub closing: Option<i64>,
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

fn wide(c: Currency, v: i128) -> String {
    format!(
        "{} {}",
        format_scaled_wide(v, u32::from(c.exponent())),
        c.code()
    )
}

/// Check one provider account's fund flows, in file order (the order the provider booked
/// them, as Alipay's 账务明细 and WeChat's 资金账单 list them), and sum them per local day
/// of `tz`.
///
/// Every row that states `balance_after` must equal the balance before it plus its net; a
/// break is a finding naming the row, and the check goes on from the stated balance (one
/// wrong row is one finding, not a cascade). The balance before the first row comes from the
/// first stated balance (minus the movements up to it); when `previous_closing` is given and
/// differs from it, that is a break too. Each currency is checked on its own;
/// `previous_closing` belongs to the currency of the first flow. Days come out by currency
/// (first seen first), then date.
pub fn check_flow_balances(
    flows: &[FundFlow],
    tz: chrono_tz::Tz,
    previous_closing: Option<i64>,
) -> (Vec<DayBalance>, Vec<Finding>) {
    let mut currencies: Vec<Currency> = Vec::new();
    for f in flows {
        if !currencies.contains(&f.currency) {
            currencies.push(f.currency);
        }
    }
    let mut days_out = Vec::new();
    let mut findings = Vec::new();
    for (k, &c) in currencies.iter().enumerate() {
        let rows: Vec<&FundFlow> = flows.iter().filter(|f| f.currency == c).collect();
        let day_of = |f: &FundFlow| f.booked_at.with_timezone(&tz).date_naive();
        // The balance before the first row, as the file states it.
        let mut moved = 0i128;
        let mut stated_start = None;
        for f in &rows {
            moved += i128::from(f.net);
            if let Some(b) = f.balance_after {
                stated_start = Some(i128::from(b) - moved);
                break;
            }
        }
        let previous = if k == 0 {
            previous_closing.map(i128::from)
        } else {
            None
        };
        if let (Some(prev), Some(start), Some(first)) = (previous, stated_start, rows.first()) {
            if prev != start {
                findings.push(Finding {
                    class: SettleClass::BalanceBreak,
                    payouts: vec![],
                    bank_lines: vec![],
                    date: day_of(first),
                    currency: c,
                    expected: Some(clamp(prev)),
                    actual: Some(clamp(start)),
                    detail: format!(
                        "{}: the previous day closed at {} but {} opens at {} (difference {})",
                        first.account,
                        wide(c, prev),
                        day_of(first),
                        wide(c, start),
                        wide(c, start - prev)
                    ),
                });
            }
        }
        let mut run = stated_start.or(previous);
        let mut days: Vec<(NaiveDate, Option<i128>, i128, Option<i128>)> = Vec::new();
        let mut index: FastMap<NaiveDate, usize> = FastMap::default();
        for f in &rows {
            let day = day_of(f);
            let slot = *index.entry(day).or_insert_with(|| {
                days.push((day, run, 0, run));
                days.len() - 1
            });
            let net = i128::from(f.net);
            let expected = run.map(|r| r + net);
            if let (Some(e), Some(stated)) = (expected, f.balance_after) {
                let stated = i128::from(stated);
                if e != stated {
                    findings.push(Finding {
                        class: SettleClass::BalanceBreak,
                        payouts: vec![],
                        bank_lines: vec![],
                        date: day,
                        currency: c,
                        expected: Some(clamp(e)),
                        actual: Some(clamp(stated)),
                        detail: format!(
                            "{} flow {} (line {}) on {}: {} before it + {} = {}, but the file states {} (difference {})",
                            f.account,
                            f.flow_id,
                            f.line,
                            day,
                            wide(c, e - net),
                            money(c, f.net),
                            wide(c, e),
                            wide(c, stated),
                            wide(c, stated - e)
                        ),
                    });
                }
            }
            run = f.balance_after.map(i128::from).or(expected);
            let d = &mut days[slot];
            d.2 += net;
            d.3 = run;
        }
        days.sort_by_key(|d| d.0);
        days_out.extend(
            days.into_iter()
                .map(|(date, open, moved, close)| DayBalance {
                    date,
                    currency: c,
                    opening: open.map(clamp),
                    movements: clamp(moved),
                    closing: close.map(clamp),
                }),
        );
    }
    (days_out, findings)
}

/// What the balance checks need of a bank statement: its balances and the sum of its lines.
/// A stored statement gives these without loading its lines ([`check_statement_totals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementTotals<'a> {
    pub account_id: Option<&'a str>,
    pub statement_id: Option<&'a str>,
    pub currency: Currency,
    pub opening: Option<StatedBalance>,
    pub closing: Option<StatedBalance>,
    /// How many lines the statement has.
    pub lines: usize,
    /// Σ of its lines' amounts (wide: a hostile file's sums do not overflow).
    pub moved: i128,
}

impl<'a> StatementTotals<'a> {
    pub fn of(s: &'a BankStatement) -> StatementTotals<'a> {
        StatementTotals {
            account_id: s.account_id.as_deref(),
            statement_id: s.statement_id.as_deref(),
            currency: s.currency,
            opening: s.opening,
            closing: s.closing,
            lines: s.lines.len(),
            moved: s.lines.iter().map(|l| i128::from(l.amount)).sum(),
        }
    }
}

fn statement_name(s: &StatementTotals<'_>) -> String {
    match (s.statement_id, s.account_id) {
        (Some(id), Some(acct)) => format!("statement {id} of {acct}"),
        (Some(id), None) => format!("statement {id}"),
        (None, Some(acct)) => format!("statement of {acct}"),
        (None, None) => "statement".to_string(),
    }
}

/// Check bank statements: each must roll forward (opening + Σ lines = closing; the gap of
/// [`BankStatement::roll_forward_gap`], summed without overflow), and of one account's
/// statements ordered by closing date, each must open where the one before it closed.
/// A statement imported twice (same opening and closing) is not compared with itself.
pub fn check_bank_balances(stmts: &[BankStatement]) -> Vec<Finding> {
    let totals: Vec<StatementTotals<'_>> = stmts.iter().map(StatementTotals::of).collect();
    check_statement_totals(&totals)
}

/// [`check_bank_balances`] over statements' totals.
pub fn check_statement_totals(stmts: &[StatementTotals<'_>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for s in stmts {
        let (Some(open), Some(close)) = (s.opening, s.closing) else {
            continue;
        };
        let moved = s.moved;
        let should = i128::from(open.amount) + moved;
        let gap = should - i128::from(close.amount);
        if gap != 0 {
            let c = s.currency;
            findings.push(Finding {
                class: SettleClass::BalanceBreak,
                payouts: vec![],
                bank_lines: vec![],
                date: close.date,
                currency: c,
                expected: Some(clamp(should)),
                actual: Some(close.amount),
                detail: format!(
                    "{}: opening {} on {} + {} lines moving {} = {}, but the closing balance on {} is {} (gap {})",
                    statement_name(s),
                    money(c, open.amount),
                    open.date,
                    s.lines,
                    wide(c, moved),
                    wide(c, should),
                    close.date,
                    money(c, close.amount),
                    wide(c, gap)
                ),
            });
        }
    }
    // One chain per (account, currency), by closing date.
    let mut chains: FastMap<(Option<&str>, Currency), Vec<&StatementTotals<'_>>> =
        FastMap::default();
    for s in stmts {
        if s.opening.is_some() || s.closing.is_some() {
            chains
                .entry((s.account_id, s.currency))
                .or_default()
                .push(s);
        }
    }
    let mut keys: Vec<(Option<&str>, Currency)> = chains.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let Some(chain) = chains.get_mut(&key) else {
            continue;
        };
        let at = |s: &StatementTotals<'_>| {
            s.closing
                .map(|b| b.date)
                .or(s.opening.map(|b| b.date))
                .unwrap_or(NaiveDate::MIN)
        };
        chain.sort_by_key(|s| (at(s), s.opening.map(|b| b.date)));
        for pair in chain.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.opening == b.opening && a.closing == b.closing {
                continue;
            }
            let (Some(closed), Some(opened)) = (a.closing, b.opening) else {
                continue;
            };
            if closed.amount != opened.amount {
                let c = b.currency;
                findings.push(Finding {
                    class: SettleClass::BalanceBreak,
                    payouts: vec![],
                    bank_lines: vec![],
                    date: opened.date,
                    currency: c,
                    expected: Some(closed.amount),
                    actual: Some(opened.amount),
                    detail: format!(
                        "{} closed at {} on {}, but {} opens at {} on {} (difference {})",
                        statement_name(a),
                        money(c, closed.amount),
                        closed.date,
                        statement_name(b),
                        money(c, opened.amount),
                        opened.date,
                        wide(c, i128::from(opened.amount) - i128::from(closed.amount))
                    ),
                });
            }
        }
    }
    findings
}
