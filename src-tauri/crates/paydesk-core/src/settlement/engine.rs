//! The steps of [`match_payouts`](super::matching::match_payouts), on shared state that
//! knows which payouts and bank lines are already explained.
//!
//! Order: reviewers' links, references, 1:1 by amount and date, N:1 and 1:N suggestions,
//! then what is left becomes findings. Every step only looks at items no earlier step took,
//! so no payout or bank line is in two links or suggestions.

use super::matching::{
    Arrival, Finding, Link, LinkRule, PriorDecisions, SettleClass, SettleResult, SettleSettings,
};
use super::subset::{find_subsets, SubsetOutcome};
use super::tokens;
use super::{BankLine, Payout, PayoutStatus};
use crate::domain::Provider;
use crate::matcher::{FastMap, FastSet};
use crate::money::{format_scaled_wide, Currency};
use chrono::{Days, NaiveDate};

/// 1:1 by amount and date: the base confidence, the bonus for a known counterparty and the
/// cost of each business day beyond the first between expected and booked.
const AMOUNT_DATE_BASE: i32 = 85;
const COUNTERPARTY_BONUS: i32 = 10;
const PER_DAY_LATE: i32 = 5;
/// Grouped suggestions: two items, five less per extra item, five more when every line's
/// counterparty is the provider's.
const GROUP_BASE: i32 = 75;
const GROUP_PER_ITEM: i32 = 5;
const GROUP_COUNTERPARTY: i32 = 5;
/// The highest a grouped suggestion can score stays below the default booking threshold:
/// subset sums are coincidences until a reviewer says otherwise.
const _: () = assert!(GROUP_BASE + GROUP_COUNTERPARTY < 90);

/// MT940's "no reference" placeholder: as an id it would name every line.
const NO_REFERENCE: &str = "nonref";

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Linked,
    Suggested,
}

pub(super) struct Matcher<'a> {
    payouts: &'a [Payout],
    bank: &'a [BankLine],
    settings: &'a SettleSettings,
    rejected: FastSet<(Vec<usize>, Vec<usize>)>,
    payout_state: Vec<State>,
    bank_state: Vec<State>,
    /// Why an item was left alone ("2 credits of the same amount fit; not guessed"), for its
    /// finding if nothing explains it in the end.
    payout_note: Vec<Option<String>>,
    bank_note: Vec<Option<String>>,
    windows: Vec<(NaiveDate, NaiveDate)>,
    counterparties: Vec<(Provider, String)>,
    out: SettleResult,
}

pub(super) fn money(c: Currency, v: i64) -> String {
    format!("{} {}", c.format_minor(v), c.code())
}

fn money_wide(c: Currency, v: i128) -> String {
    format!(
        "{} {}",
        format_scaled_wide(v, u32::from(c.exponent())),
        c.code()
    )
}

fn sorted(v: &[usize]) -> Vec<usize> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl<'a> Matcher<'a> {
    pub(super) fn new(
        payouts: &'a [Payout],
        bank: &'a [BankLine],
        prior: &PriorDecisions,
        settings: &'a SettleSettings,
    ) -> Matcher<'a> {
        let windows = payouts
            .iter()
            .map(|p| {
                settings.calendar.arrival_window(
                    p.arrival_date,
                    settings.days_before,
                    settings.days_after,
                )
            })
            .collect();
        let rejected = prior
            .rejected
            .iter()
            .map(|(p, b)| (sorted(p), sorted(b)))
            .collect();
        let counterparties = settings
            .counterparties
            .iter()
            .map(|(p, n)| (*p, n.trim().to_lowercase()))
            .filter(|(_, n)| !n.is_empty())
            .collect();
        Matcher {
            payouts,
            bank,
            settings,
            rejected,
            payout_state: vec![State::Free; payouts.len()],
            bank_state: vec![State::Free; bank.len()],
            payout_note: vec![None; payouts.len()],
            bank_note: vec![None; bank.len()],
            windows,
            counterparties,
            out: SettleResult {
                arrivals: Vec::with_capacity(payouts.len()),
                ..SettleResult::default()
            },
        }
    }

    /// A payout the automatic steps may use: not taken, and money is expected from it.
    fn payout_open(&self, i: usize) -> bool {
        self.payout_state[i] == State::Free
            && !matches!(
                self.payouts[i].status,
                PayoutStatus::Failed | PayoutStatus::Canceled
            )
    }

    /// A bank line the automatic steps may use: not taken, and a credit.
    fn bank_open(&self, i: usize) -> bool {
        self.bank_state[i] == State::Free && self.bank[i].amount > 0
    }

    fn is_rejected(&self, payouts: &[usize], bank: &[usize]) -> bool {
        !self.rejected.is_empty() && self.rejected.contains(&(payouts.to_vec(), bank.to_vec()))
    }

    /// Whether the line's counterparty is one of the provider's settlement entities.
    fn counterparty_is(&self, line: &BankLine, provider: Provider) -> bool {
        let Some(cp) = &line.counterparty else {
            return false;
        };
        let cp = cp.to_lowercase();
        self.counterparties
            .iter()
            .any(|(p, n)| *p == provider && cp.contains(n.as_str()))
    }

    fn record(&mut self, link: Link, booked: bool) {
        let state = if booked {
            State::Linked
        } else {
            State::Suggested
        };
        for &p in &link.payouts {
            self.payout_state[p] = state;
        }
        for &b in &link.bank_lines {
            self.bank_state[b] = state;
        }
        if booked {
            self.out.links.push(link);
        } else {
            self.out.suggestions.push(link);
        }
    }

    fn line_words(&self, b: usize) -> String {
        let l = &self.bank[b];
        format!(
            "bank line {} ({}, {})",
            l.line,
            l.booking_date,
            money(l.currency, l.amount)
        )
    }

    fn payout_words(&self, p: usize) -> String {
        let po = &self.payouts[p];
        format!(
            "payout {} ({}, expected {})",
            po.payout_id,
            money(po.currency, po.amount),
            po.arrival_date
        )
    }

    /// When the sums of a link differ, the difference is a finding: the link stands.
    fn amount_check(&mut self, payouts: &[usize], bank: &[usize]) {
        let Some(&first) = payouts.first() else {
            return;
        };
        let currency = self.payouts[first].currency;
        let same = payouts
            .iter()
            .all(|&p| self.payouts[p].currency == currency)
            && bank.iter().all(|&b| self.bank[b].currency == currency);
        let expected: i128 = payouts
            .iter()
            .map(|&p| i128::from(self.payouts[p].amount))
            .sum();
        let actual: i128 = bank.iter().map(|&b| i128::from(self.bank[b].amount)).sum();
        if same && expected == actual {
            return;
        }
        let date = bank
            .iter()
            .map(|&b| self.bank[b].booking_date)
            .max()
            .unwrap_or(self.payouts[first].arrival_date);
        let ids: Vec<&str> = payouts
            .iter()
            .map(|&p| self.payouts[p].payout_id.as_str())
            .collect();
        let lines: Vec<String> = bank
            .iter()
            .map(|&b| self.bank[b].line.to_string())
            .collect();
        let detail = if same {
            format!(
                "{} {} {}, but bank line{} {} credited {} (difference {})",
                if ids.len() == 1 { "payout" } else { "payouts" },
                ids.join(", "),
                if ids.len() == 1 {
                    format!("is {}", money_wide(currency, expected))
                } else {
                    format!("sum to {}", money_wide(currency, expected))
                },
                if lines.len() == 1 { "" } else { "s" },
                lines.join(", "),
                money_wide(currency, actual),
                money_wide(currency, actual - expected),
            )
        } else {
            format!(
                "payouts {} and bank lines {} are linked but not all in {}",
                ids.join(", "),
                lines.join(", "),
                currency.code()
            )
        };
        self.out.findings.push(Finding {
            class: SettleClass::PayoutAmountMismatch,
            payouts: payouts.to_vec(),
            bank_lines: bank.to_vec(),
            date,
            currency,
            expected: i64::try_from(expected).ok(),
            actual: i64::try_from(actual).ok(),
            detail,
        });
    }

    /// Step a: links reviewers made or accepted stand first. A link naming an item that is
    /// out of range or already in an earlier accepted link is skipped (stale decisions).
    pub(super) fn book_accepted(&mut self, prior: &PriorDecisions) {
        for (p, b) in &prior.accepted {
            let (p, b) = (sorted(p), sorted(b));
            if p.is_empty() || b.is_empty() {
                continue;
            }
            let fits = p
                .iter()
                .all(|&i| i < self.payouts.len() && self.payout_state[i] == State::Free)
                && b.iter()
                    .all(|&i| i < self.bank.len() && self.bank_state[i] == State::Free);
            if !fits {
                continue;
            }
            self.amount_check(&p, &b);
            self.record(
                Link {
                    payouts: p,
                    bank_lines: b,
                    rule: LinkRule::Reviewer,
                    confidence: 100,
                    evidence: vec!["linked by a reviewer".to_string()],
                },
                true,
            );
        }
    }

    /// Step b: bank credits naming payouts. Lines and payouts that name each other form
    /// groups (connected components); each group is one link, and a group whose sums differ
    /// is linked anyway with a [`SettleClass::PayoutAmountMismatch`] finding.
    pub(super) fn by_reference(&mut self) {
        // Payout ids and trace ids, normalized; ids the token fast path cannot find are
        // tested with `BankLine::mentions` on every open credit (rare: non-ASCII ids).
        let mut fast: FastMap<String, Vec<usize>> = FastMap::default();
        let mut slow: Vec<(String, usize)> = Vec::new();
        for (i, p) in self.payouts.iter().enumerate() {
            if !self.payout_open(i) {
                continue;
            }
            for id in std::iter::once(&p.payout_id).chain(p.trace_id.as_ref()) {
                let Some(n) = tokens::normalize(id) else {
                    continue;
                };
                if n == NO_REFERENCE {
                    continue;
                }
                if tokens::is_fast(&n) {
                    let v = fast.entry(n).or_default();
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                } else {
                    slow.push((id.trim().to_string(), i));
                }
            }
        }
        if fast.is_empty() && slow.is_empty() {
            return;
        }
        // Edges (bank line, payout, the id the line names).
        let mut edges: Vec<(usize, usize, String)> = Vec::new();
        let mut hits: Vec<(usize, String)> = Vec::new();
        for (b, line) in self.bank.iter().enumerate() {
            if !self.bank_open(b) {
                continue;
            }
            hits.clear();
            let mut look = |t: &str| {
                if let Some(ps) = fast.get(t) {
                    for &p in ps {
                        hits.push((p, t.to_string()));
                    }
                }
            };
            for r in &line.references {
                tokens::for_each_token(r, &mut look);
            }
            tokens::for_each_token(&line.text, &mut look);
            for (id, p) in &slow {
                if line.mentions(id) {
                    hits.push((*p, id.clone()));
                }
            }
            hits.sort();
            hits.dedup_by(|a, b| a.0 == b.0);
            for (p, id) in hits.drain(..) {
                let po = &self.payouts[p];
                if po.currency == line.currency {
                    // Name the id as the provider wrote it.
                    let what = if tokens::normalize(&po.payout_id).as_deref() == Some(id.as_str())
                        || po.payout_id.trim() == id
                    {
                        format!("payout {}", po.payout_id.trim())
                    } else {
                        format!(
                            "trace id {} of payout {}",
                            po.trace_id.as_deref().unwrap_or(&id).trim(),
                            po.payout_id
                        )
                    };
                    edges.push((b, p, what));
                }
            }
        }
        if edges.is_empty() {
            return;
        }
        // Components by union-find: nodes are payouts, then bank lines after them.
        let np = self.payouts.len();
        let mut parent: Vec<usize> = (0..np + self.bank.len()).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for (b, p, _) in &edges {
            let (x, y) = (root(&mut parent, *p), root(&mut parent, np + *b));
            if x != y {
                parent[x.max(y)] = x.min(y);
            }
        }
        // Per component: its payouts, its bank lines and its edges.
        type Component = (Vec<usize>, Vec<usize>, Vec<usize>);
        let mut groups: FastMap<usize, Component> = FastMap::default();
        for (k, (b, p, _)) in edges.iter().enumerate() {
            let r = root(&mut parent, *p);
            let g = groups.entry(r).or_default();
            g.0.push(*p);
            g.1.push(*b);
            g.2.push(k);
        }
        let mut groups: Vec<Component> = groups
            .into_values()
            .map(|(p, b, e)| (sorted(&p), sorted(&b), e))
            .collect();
        groups.sort_by(|x, y| (&x.1, &x.0).cmp(&(&y.1, &y.0)));
        for (ps, bs, es) in groups {
            if self.is_rejected(&ps, &bs) {
                for &b in &bs {
                    self.bank_note[b] =
                        Some("it names a payout, but a reviewer rejected that link".to_string());
                }
                continue;
            }
            let mut evidence: Vec<String> = es
                .iter()
                .map(|&k| {
                    let (b, _, id) = &edges[k];
                    format!("{} names {}", self.line_words(*b), id)
                })
                .collect();
            let currency = self.payouts[ps[0]].currency;
            let expected: i128 = ps.iter().map(|&p| i128::from(self.payouts[p].amount)).sum();
            let actual: i128 = bs.iter().map(|&b| i128::from(self.bank[b].amount)).sum();
            if expected == actual {
                evidence.push(if ps.len() == 1 && bs.len() == 1 {
                    format!("same amount {}", money_wide(currency, expected))
                } else {
                    format!(
                        "{} and {} both come to {}",
                        plural(ps.len(), "payout", "payouts"),
                        plural(bs.len(), "bank credit", "bank credits"),
                        money_wide(currency, expected)
                    )
                });
            } else {
                evidence.push(format!(
                    "the amounts differ: payouts {}, bank {}",
                    money_wide(currency, expected),
                    money_wide(currency, actual)
                ));
            }
            self.amount_check(&ps, &bs);
            self.record(
                Link {
                    payouts: ps,
                    bank_lines: bs,
                    rule: LinkRule::Reference,
                    confidence: 100,
                    evidence,
                },
                true,
            );
        }
    }

    /// Step c: one payout, one credit of the same amount inside its window, and neither has
    /// another candidate of that amount. Equal-amount pairs that could be crossed are left
    /// alone: guessing between them would book the wrong money as explained.
    pub(super) fn by_amount_and_date(&mut self) {
        type Group = (Vec<usize>, Vec<usize>);
        let mut groups: FastMap<(Currency, i64), Group> = FastMap::default();
        for p in 0..self.payouts.len() {
            if self.payout_open(p) && self.payouts[p].amount > 0 {
                let po = &self.payouts[p];
                groups
                    .entry((po.currency, po.amount))
                    .or_default()
                    .0
                    .push(p);
            }
        }
        for b in 0..self.bank.len() {
            if self.bank_open(b) {
                let l = &self.bank[b];
                if let Some(g) = groups.get_mut(&(l.currency, l.amount)) {
                    g.1.push(b);
                }
            }
        }
        let mut keys: Vec<(Currency, i64)> = groups
            .iter()
            .filter(|(_, g)| !g.1.is_empty())
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        for key in keys {
            let Some((ps, mut bs)) = groups.remove(&key) else {
                continue;
            };
            bs.sort_by_key(|&b| (self.bank[b].booking_date, b));
            let dates: Vec<NaiveDate> = bs.iter().map(|&b| self.bank[b].booking_date).collect();
            let mut los: Vec<NaiveDate> = ps.iter().map(|&p| self.windows[p].0).collect();
            let mut his: Vec<NaiveDate> = ps.iter().map(|&p| self.windows[p].1).collect();
            los.sort_unstable();
            his.sort_unstable();
            // How many payouts of this amount expect a credit booked on `d`.
            let expecting = |d: NaiveDate| {
                los.partition_point(|&lo| lo <= d) - his.partition_point(|&hi| hi < d)
            };
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            for &p in &ps {
                let (lo, hi) = self.windows[p];
                let from = dates.partition_point(|&d| d < lo);
                let to = dates.partition_point(|&d| d <= hi);
                let fitting = to - from;
                if fitting == 1 {
                    let b = bs[from];
                    let rivals = expecting(self.bank[b].booking_date);
                    if rivals == 1 {
                        pairs.push((p, b));
                    } else {
                        self.payout_note[p] = Some(format!(
                            "its one bank credit of the same amount is also expected by {} other payouts; not guessed",
                            rivals - 1
                        ));
                    }
                } else if fitting > 1 {
                    self.payout_note[p] = Some(format!(
                        "{fitting} bank credits of the same amount fall in its window; not guessed"
                    ));
                }
            }
            for (k, &b) in bs.iter().enumerate() {
                let n = expecting(dates[k]);
                if n > 1 {
                    self.bank_note[b] = Some(format!(
                        "{n} payouts of the same amount expect it; not guessed"
                    ));
                }
            }
            for (p, b) in pairs {
                if self.is_rejected(&[p], &[b]) {
                    self.payout_note[p] =
                        Some("a reviewer rejected the one bank credit that fits".to_string());
                    self.bank_note[b] =
                        Some("a reviewer rejected the one payout that fits".to_string());
                    continue;
                }
                let link = self.amount_date_link(p, b);
                let booked = link.confidence >= self.settings.auto_confidence;
                self.record(link, booked);
            }
        }
    }

    fn amount_date_link(&self, p: usize, b: usize) -> Link {
        let po = &self.payouts[p];
        let line = &self.bank[b];
        let (lo, hi) = self.windows[p];
        let days = self
            .settings
            .calendar
            .between(po.arrival_date, line.booking_date);
        let mut confidence = AMOUNT_DATE_BASE;
        let mut evidence = vec![
            format!("same amount {}", money(po.currency, po.amount)),
            format!(
                "{} booked {}, {}",
                self.line_words(b),
                line.booking_date,
                match days {
                    0 => format!("on the expected arrival day of {}", po.payout_id),
                    d if d > 0 => format!(
                        "{} after {}'s expected arrival {}",
                        plural(d.unsigned_abs() as usize, "business day", "business days"),
                        po.payout_id,
                        po.arrival_date
                    ),
                    d => format!(
                        "{} before {}'s expected arrival {}",
                        plural(d.unsigned_abs() as usize, "business day", "business days"),
                        po.payout_id,
                        po.arrival_date
                    ),
                }
            ),
            format!(
                "the only credit of this amount in the window {lo} to {hi}, and the only payout expecting it"
            ),
        ];
        if self.counterparty_is(line, po.provider) {
            confidence += COUNTERPARTY_BONUS;
            evidence.push(format!(
                "counterparty \"{}\" is {}'s settlement entity",
                line.counterparty.as_deref().unwrap_or_default(),
                po.provider.as_str()
            ));
        }
        let beyond = days.unsigned_abs().saturating_sub(1);
        let penalty = i32::try_from(beyond).unwrap_or(i32::MAX / PER_DAY_LATE) * PER_DAY_LATE;
        confidence = confidence.saturating_sub(penalty).clamp(0, 100);
        Link {
            payouts: vec![p],
            bank_lines: vec![b],
            rule: LinkRule::AmountDate,
            confidence: u8::try_from(confidence).unwrap_or(0),
            evidence,
        }
    }

    /// Calendar days a window can reach from its arrival date, each way: `n` business days
    /// span at most `n / 5` weeks plus `n % 5` days plus one weekend.
    fn reach(&self) -> (u64, u64) {
        let span = |n: u32| u64::from(n / 5) * 7 + u64::from(n % 5) + 2;
        (
            span(self.settings.days_before),
            span(self.settings.days_after),
        )
    }

    fn group_confidence(&self, items: usize, counterparty_all: bool) -> u8 {
        let extra = i32::try_from(items.saturating_sub(2)).unwrap_or(i32::MAX / GROUP_PER_ITEM);
        let mut c = GROUP_BASE.saturating_sub(extra.saturating_mul(GROUP_PER_ITEM));
        if counterparty_all {
            c += GROUP_COUNTERPARTY;
        }
        u8::try_from(c.clamp(0, 100)).unwrap_or(0)
    }

    fn count_search(&mut self, steps: u64) {
        let s = &mut self.out.search;
        s.searches += 1;
        s.total_steps += steps;
        s.worst_steps = s.worst_steps.max(steps);
    }

    /// Step d, N:1: for each open credit, a subset of 2..=max_group open payouts in whose
    /// windows it falls summing to it exactly. Suggested only when exactly one subset fits
    /// and no other suggestion wants the same payouts.
    pub(super) fn grouped_payouts(&mut self) {
        let (before, after) = self.reach();
        // Open payouts by currency, by arrival date.
        let mut by_currency: FastMap<Currency, Vec<(NaiveDate, usize)>> = FastMap::default();
        for p in 0..self.payouts.len() {
            if self.payout_open(p) && self.payouts[p].amount > 0 {
                let po = &self.payouts[p];
                by_currency
                    .entry(po.currency)
                    .or_default()
                    .push((po.arrival_date, p));
            }
        }
        for v in by_currency.values_mut() {
            v.sort_unstable();
        }
        let mut proposals: Vec<(Vec<usize>, usize, usize)> = Vec::new();
        let mut candidates: Vec<(i64, i64, i64, &str, usize)> = Vec::new();
        for b in 0..self.bank.len() {
            if !self.bank_open(b) {
                continue;
            }
            let line = &self.bank[b];
            let Some(list) = by_currency.get(&line.currency) else {
                continue;
            };
            let d = line.booking_date;
            let first = d
                .checked_sub_days(Days::new(after))
                .unwrap_or(NaiveDate::MIN);
            let last = d
                .checked_add_days(Days::new(before))
                .unwrap_or(NaiveDate::MAX);
            let from = list.partition_point(|(a, _)| *a < first);
            candidates.clear();
            for &(arrival, p) in &list[from..] {
                if arrival > last {
                    break;
                }
                let (lo, hi) = self.windows[p];
                let amount = self.payouts[p].amount;
                if lo <= d && d <= hi && amount < line.amount {
                    let bd = self.settings.calendar.between(arrival, d).abs();
                    let cd = (d - arrival).num_days().abs();
                    candidates.push((bd, cd, amount, self.payouts[p].payout_id.as_str(), p));
                }
            }
            if candidates.len() < 2 {
                continue;
            }
            candidates.sort_unstable();
            candidates.truncate(self.settings.max_candidates);
            let amounts: Vec<i64> = candidates.iter().map(|c| c.2).collect();
            let ids: Vec<usize> = candidates.iter().map(|c| c.4).collect();
            let search = {
                let rejected = &self.rejected;
                let skip = |pos: &[usize]| {
                    !rejected.is_empty() && {
                        let ps = sorted(&pos.iter().map(|&k| ids[k]).collect::<Vec<_>>());
                        rejected.contains(&(ps, vec![b]))
                    }
                };
                find_subsets(
                    &amounts,
                    line.amount,
                    2,
                    self.settings.max_group,
                    self.settings.max_steps,
                    &skip,
                )
            };
            self.count_search(search.steps);
            match search.outcome {
                SubsetOutcome::None => {}
                SubsetOutcome::One(pos) => {
                    let ps = sorted(&pos.iter().map(|&k| ids[k]).collect::<Vec<_>>());
                    proposals.push((ps, b, ids.len()));
                }
                SubsetOutcome::Many(k) => {
                    self.out.search.ambiguous += 1;
                    self.bank_note[b] = Some(format!("{k} subsets of payouts fit; not guessed"));
                }
                SubsetOutcome::Exhausted(k) => {
                    self.out.search.exhausted += 1;
                    self.bank_note[b] = Some(format!(
                        "the search for payouts summing to it stopped after {} steps ({} subsets found so far); not guessed",
                        search.steps, k
                    ));
                }
            }
        }
        // A payout two proposals want explains neither for sure: drop both.
        let mut uses: FastMap<usize, u32> = FastMap::default();
        for (ps, _, _) in &proposals {
            for &p in ps {
                *uses.entry(p).or_default() += 1;
            }
        }
        for (ps, b, considered) in proposals {
            if ps.iter().any(|p| uses.get(p).copied().unwrap_or(0) > 1) {
                self.out.search.ambiguous += 1;
                self.bank_note[b] = Some(
                    "a subset of payouts fits, but another bank credit wants some of the same payouts; not guessed"
                        .to_string(),
                );
                continue;
            }
            let link = self.grouped_link(ps, b, considered);
            self.record(link, false);
        }
    }

    fn grouped_link(&self, ps: Vec<usize>, b: usize, considered: usize) -> Link {
        let line = &self.bank[b];
        let counterparty_all = ps
            .iter()
            .all(|&p| self.counterparty_is(line, self.payouts[p].provider));
        let mut evidence = vec![
            format!(
                "{} payouts sum to {}, the amount of {}",
                ps.len(),
                money(line.currency, line.amount),
                self.line_words(b)
            ),
            format!(
                "the only subset of the {} candidate payouts whose windows contain {} that fits",
                considered, line.booking_date
            ),
        ];
        evidence.extend(ps.iter().map(|&p| self.payout_words(p)));
        if counterparty_all {
            evidence.push(format!(
                "counterparty \"{}\" is the payouts' provider's settlement entity",
                line.counterparty.as_deref().unwrap_or_default()
            ));
        }
        Link {
            confidence: self.group_confidence(ps.len(), counterparty_all),
            payouts: ps,
            bank_lines: vec![b],
            rule: LinkRule::GroupedPayouts,
            evidence,
        }
    }

    /// Step d, 1:N: for each open payout, a subset of 2..=max_group open credits inside its
    /// window summing to it exactly, under the same rules as N:1.
    pub(super) fn split_payouts(&mut self) {
        let mut by_currency: FastMap<Currency, Vec<(NaiveDate, usize)>> = FastMap::default();
        for b in 0..self.bank.len() {
            if self.bank_open(b) {
                let l = &self.bank[b];
                by_currency
                    .entry(l.currency)
                    .or_default()
                    .push((l.booking_date, b));
            }
        }
        for v in by_currency.values_mut() {
            v.sort_unstable();
        }
        let mut proposals: Vec<(usize, Vec<usize>, usize)> = Vec::new();
        let mut candidates: Vec<(i64, i64, i64, u64, usize)> = Vec::new();
        for p in 0..self.payouts.len() {
            if !self.payout_open(p) || self.payouts[p].amount <= 0 {
                continue;
            }
            let po = &self.payouts[p];
            let Some(list) = by_currency.get(&po.currency) else {
                continue;
            };
            let (lo, hi) = self.windows[p];
            let from = list.partition_point(|(d, _)| *d < lo);
            candidates.clear();
            for &(d, b) in &list[from..] {
                if d > hi {
                    break;
                }
                let amount = self.bank[b].amount;
                if amount < po.amount {
                    let bd = self.settings.calendar.between(po.arrival_date, d).abs();
                    let cd = (d - po.arrival_date).num_days().abs();
                    candidates.push((bd, cd, amount, self.bank[b].line, b));
                }
            }
            if candidates.len() < 2 {
                continue;
            }
            candidates.sort_unstable();
            candidates.truncate(self.settings.max_candidates);
            let amounts: Vec<i64> = candidates.iter().map(|c| c.2).collect();
            let ids: Vec<usize> = candidates.iter().map(|c| c.4).collect();
            let search = {
                let rejected = &self.rejected;
                let skip = |pos: &[usize]| {
                    !rejected.is_empty() && {
                        let bs = sorted(&pos.iter().map(|&k| ids[k]).collect::<Vec<_>>());
                        rejected.contains(&(vec![p], bs))
                    }
                };
                find_subsets(
                    &amounts,
                    po.amount,
                    2,
                    self.settings.max_group,
                    self.settings.max_steps,
                    &skip,
                )
            };
            self.count_search(search.steps);
            match search.outcome {
                SubsetOutcome::None => {}
                SubsetOutcome::One(pos) => {
                    let bs = sorted(&pos.iter().map(|&k| ids[k]).collect::<Vec<_>>());
                    proposals.push((p, bs, ids.len()));
                }
                SubsetOutcome::Many(k) => {
                    self.out.search.ambiguous += 1;
                    self.payout_note[p] =
                        Some(format!("{k} subsets of bank credits fit; not guessed"));
                }
                SubsetOutcome::Exhausted(k) => {
                    self.out.search.exhausted += 1;
                    self.payout_note[p] = Some(format!(
                        "the search for bank credits summing to it stopped after {} steps ({} subsets found so far); not guessed",
                        search.steps, k
                    ));
                }
            }
        }
        let mut uses: FastMap<usize, u32> = FastMap::default();
        for (_, bs, _) in &proposals {
            for &b in bs {
                *uses.entry(b).or_default() += 1;
            }
        }
        for (p, bs, considered) in proposals {
            if bs.iter().any(|b| uses.get(b).copied().unwrap_or(0) > 1) {
                self.out.search.ambiguous += 1;
                self.payout_note[p] = Some(
                    "a subset of bank credits fits, but another payout wants some of the same credits; not guessed"
                        .to_string(),
                );
                continue;
            }
            let link = self.split_link(p, bs, considered);
            self.record(link, false);
        }
    }

    fn split_link(&self, p: usize, bs: Vec<usize>, considered: usize) -> Link {
        let po = &self.payouts[p];
        let counterparty_all = bs
            .iter()
            .all(|&b| self.counterparty_is(&self.bank[b], po.provider));
        let (lo, hi) = self.windows[p];
        let mut evidence = vec![
            format!(
                "{} bank credits sum to {}, the amount of payout {}",
                bs.len(),
                money(po.currency, po.amount),
                po.payout_id
            ),
            format!(
                "the only subset of the {considered} candidate credits in the window {lo} to {hi} that fits"
            ),
        ];
        evidence.extend(bs.iter().map(|&b| self.line_words(b)));
        if counterparty_all {
            evidence.push(format!(
                "every credit's counterparty is {}'s settlement entity",
                po.provider.as_str()
            ));
        }
        Link {
            confidence: self.group_confidence(bs.len(), counterparty_all),
            payouts: vec![p],
            bank_lines: bs,
            rule: LinkRule::SplitPayout,
            evidence,
        }
    }

    /// Step e: where each payout stands, and findings for what nothing explains.
    pub(super) fn finish(mut self) -> SettleResult {
        for (p, po) in self.payouts.iter().enumerate() {
            let arrival = match self.payout_state[p] {
                State::Linked => Arrival::Arrived,
                State::Suggested => Arrival::Suggested,
                State::Free
                    if matches!(po.status, PayoutStatus::Failed | PayoutStatus::Canceled) =>
                {
                    Arrival::NotExpected
                }
                State::Free if self.windows[p].1 >= self.settings.today => Arrival::InTransit,
                State::Free => {
                    let mut detail = format!(
                        "{} {} of {} was expected between {} and {}; no bank credit explains it",
                        po.provider.as_str(),
                        po.payout_id,
                        money(po.currency, po.amount),
                        self.windows[p].0,
                        self.windows[p].1
                    );
                    if let Some(note) = &self.payout_note[p] {
                        detail.push_str(" (");
                        detail.push_str(note);
                        detail.push(')');
                    }
                    self.out.findings.push(Finding {
                        class: SettleClass::PayoutNotArrived,
                        payouts: vec![p],
                        bank_lines: vec![],
                        date: po.arrival_date,
                        currency: po.currency,
                        expected: Some(po.amount),
                        actual: None,
                        detail,
                    });
                    Arrival::NotArrived
                }
            };
            self.out.arrivals.push(arrival);
        }
        for (b, line) in self.bank.iter().enumerate() {
            if !self.bank_open(b) {
                continue;
            }
            let mut detail = format!(
                "bank credit of {} on {} (line {}",
                money(line.currency, line.amount),
                line.booking_date,
                line.line
            );
            if let Some(cp) = &line.counterparty {
                detail.push_str(&format!(", from \"{cp}\""));
            }
            detail.push_str(") is explained by no payout");
            if let Some(note) = &self.bank_note[b] {
                detail.push_str(": ");
                detail.push_str(note);
            }
            self.out.findings.push(Finding {
                class: SettleClass::BankCreditWithoutPayout,
                payouts: vec![],
                bank_lines: vec![b],
                date: line.booking_date,
                currency: line.currency,
                expected: None,
                actual: Some(line.amount),
                detail,
            });
        }
        self.out
    }
}
