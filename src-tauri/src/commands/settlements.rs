//! Settlement reconciliation (资金对账) for the Settlements screen: the bank accounts, a run,
//! its links, suggestions and findings, a reviewer's decision, following an order to the bank,
//! and importing a bank statement or a fund-flow file.
//!
//! The service's report types are shaped here into the types below (their TypeScript is
//! generated like the others'): stored and run-time links become one `LinkOut`, and each
//! finding carries its class's names and explanations in both languages.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use chrono::{DateTime, NaiveDate, Utc};
use paydesk_core::settlement::matching::{Arrival, SettleClass};
use paydesk_core::settlement::{BankLine, FundFlow, Payout};
use paydesk_core::{BillDate, Currency};
use paydesk_service::settlement::{self as svc, views};
use paydesk_store::settlement::{
    LinkState, StoredBankLine, StoredFinding, StoredLink, StoredPayout,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tauri::State;

/// Every arrival state a payout shows (`Arrival`'s serde names).
pub const ARRIVALS: [&str; 5] = [
    "arrived",
    "suggested",
    "in_transit",
    "not_arrived",
    "not_expected",
];

/// Every state a link has (`LinkState`'s serde names).
pub const LINK_STATES: [&str; 4] = ["booked", "suggested", "accepted", "rejected"];

fn arrival_name(a: Arrival) -> &'static str {
    match a {
        Arrival::Arrived => ARRIVALS[0],
        Arrival::Suggested => ARRIVALS[1],
        Arrival::InTransit => ARRIVALS[2],
        Arrival::NotArrived => ARRIVALS[3],
        Arrival::NotExpected => ARRIVALS[4],
    }
}

fn link_state_name(s: LinkState) -> &'static str {
    match s {
        LinkState::Booked => LINK_STATES[0],
        LinkState::Suggested => LINK_STATES[1],
        LinkState::Accepted => LINK_STATES[2],
        LinkState::Rejected => LINK_STATES[3],
    }
}

/// A `[[bank_accounts]]` entry of `paydesk.toml`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BankAccountInfo {
    pub name: String,
    pub currency: Currency,
    /// The provider accounts that pay out into it.
    pub accounts: Vec<String>,
}

/// A payout in a run's report: where it stands against the bank and what it settles.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PayoutOut {
    pub id: i64,
    pub payout: Payout,
    #[cfg_attr(test, ts(type = "Arrival"))]
    pub arrival: &'static str,
    /// Only itemized (Stripe automatic) payouts have one.
    pub composition: Option<CompositionOut>,
}

/// What a payout settles, summed by kind (minor units; refunds, fees, disputes negative).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CompositionOut {
    pub items: u64,
    pub payments: i64,
    pub refunds: i64,
    pub fees: i64,
    pub disputes: i64,
    pub other: i64,
    /// What the payout should be.
    pub total: i64,
}

/// A link (booked, accepted) or a suggestion, from a run or from the store.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LinkOut {
    /// The stored id; `None` in a dry run's report (nothing is stored).
    pub id: Option<i64>,
    #[cfg_attr(test, ts(type = "LinkRule"))]
    pub rule: String,
    /// 0..=100.
    pub confidence: u8,
    #[cfg_attr(test, ts(type = "LinkState"))]
    pub state: &'static str,
    pub currency: Currency,
    pub payout_total: i64,
    pub bank_total: i64,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    /// Plain-words reasons, one per fact.
    pub evidence: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Something that does not agree, with its class named and explained in both languages.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FindingOut {
    /// The stored id; `None` in a dry run's report.
    pub id: Option<i64>,
    pub class: SettleClass,
    pub class_en: &'static str,
    pub class_zh: &'static str,
    pub explain_en: &'static str,
    pub explain_zh: &'static str,
    pub date: NaiveDate,
    pub currency: Currency,
    pub expected: Option<i64>,
    pub actual: Option<i64>,
    pub detail: String,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    /// A reviewer's verdict ("open" with a note, or "resolved"); `None`: not reviewed.
    pub review_state: Option<String>,
    pub review_note: Option<String>,
}

/// One provider account's balance over one day.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BalanceDay {
    pub account: String,
    pub date: NaiveDate,
    pub currency: Currency,
    pub opening: Option<i64>,
    pub movements: i64,
    pub closing: Option<i64>,
}

/// How hard the grouped-suggestion searches worked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SearchOut {
    pub searches: u64,
    pub worst_steps: u64,
    /// Searches that ran out of steps or where two subsets fitted: they suggest nothing.
    pub exhausted: u64,
    pub ambiguous: u64,
}

/// What a settlement run found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SettlementReport {
    pub bank_account: String,
    pub as_of: NaiveDate,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub payouts: Vec<PayoutOut>,
    pub bank_lines: u64,
    pub links: Vec<LinkOut>,
    pub suggestions: Vec<LinkOut>,
    pub findings: Vec<FindingOut>,
    /// Findings per class.
    pub counts: BTreeMap<String, u64>,
    /// Payouts per arrival state.
    pub arrivals: BTreeMap<String, u64>,
    pub balances: Vec<BalanceDay>,
    /// Per provider account, its trade bills checked against its fund flows.
    pub trade_checks: Vec<svc::AccountTradeCheck>,
    pub search: SearchOut,
    pub seconds: f64,
}

/// A stored payout.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PayoutRow {
    pub id: i64,
    pub payout: Payout,
}

/// A stored bank line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BankLineRow {
    pub id: i64,
    pub bank_account: String,
    pub file_name: String,
    pub line: BankLine,
}

/// A link with everything it stands on.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LinkDetailOut {
    pub link: LinkOut,
    pub payouts: Vec<PayoutRow>,
    pub bank_lines: Vec<BankLineRow>,
    /// Per payout (same order), the movements it settles.
    pub settled: Vec<Vec<FundFlow>>,
}

/// A payout with its movements, the links that hold it and their bank lines.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PayoutDetailOut {
    pub payout: PayoutRow,
    pub flows: Vec<FundFlow>,
    pub links: Vec<LinkOut>,
    pub bank_lines: Vec<BankLineRow>,
}

/// An order followed from its balance movements to the bank.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OrderSettlementOut {
    pub order_no: String,
    pub flows: Vec<FundFlow>,
    pub payouts: Vec<PayoutRow>,
    pub links: Vec<LinkOut>,
    pub bank_lines: Vec<BankLineRow>,
}

/// What a bank statement import did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BankImportOut {
    pub bank_account: String,
    pub file: String,
    pub format: String,
    /// The same file was imported before: nothing changed.
    pub already_imported: bool,
    pub statements: u64,
    pub lines: u64,
    pub already_known_lines: u64,
    pub skipped_pending: u64,
    pub roll_forward_gaps: Vec<String>,
}

/// What a fund-flow import did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FundFlowImportOut {
    pub account: String,
    pub file: String,
    pub layout: String,
    pub flows: u64,
    pub new_flows: u64,
    pub known_flows: u64,
    pub payouts: u64,
    pub summary_checked: bool,
}

// ------------------------------------------------------------------ shaping

fn finding_texts(class: SettleClass) -> (&'static str, &'static str, &'static str, &'static str) {
    (
        class.label_en(),
        class.label_zh(),
        class.description_en(),
        class.description_zh(),
    )
}

impl From<svc::LinkView> for LinkOut {
    fn from(v: svc::LinkView) -> LinkOut {
        let state = v
            .state
            .parse::<LinkState>()
            .map(link_state_name)
            .unwrap_or(LINK_STATES[1]);
        LinkOut {
            id: v.id,
            rule: v.rule,
            confidence: v.confidence,
            state,
            currency: v.currency,
            payout_total: v.payout_total,
            bank_total: v.bank_total,
            payout_ids: v.payout_ids,
            bank_line_ids: v.bank_line_ids,
            evidence: v.evidence,
            decided_by: None,
            decided_at: None,
            note: None,
        }
    }
}

impl From<StoredLink> for LinkOut {
    fn from(l: StoredLink) -> LinkOut {
        LinkOut {
            id: Some(l.id),
            rule: l.rule.to_string(),
            confidence: l.confidence,
            state: link_state_name(l.state),
            currency: l.currency,
            payout_total: l.payout_total,
            bank_total: l.bank_total,
            payout_ids: l.payout_ids,
            bank_line_ids: l.bank_line_ids,
            evidence: l.evidence,
            decided_by: l.decided_by,
            decided_at: l.decided_at,
            note: l.note,
        }
    }
}

impl From<svc::FindingView> for FindingOut {
    fn from(f: svc::FindingView) -> FindingOut {
        let (class_en, class_zh, explain_en, explain_zh) = finding_texts(f.class);
        FindingOut {
            id: f.id,
            class: f.class,
            class_en,
            class_zh,
            explain_en,
            explain_zh,
            date: f.date,
            currency: f.currency,
            expected: f.expected,
            actual: f.actual,
            detail: f.detail,
            payout_ids: f.payout_ids,
            bank_line_ids: f.bank_line_ids,
            review_state: f.review.as_ref().map(|r| r.state.clone()),
            review_note: f.review.and_then(|r| r.note),
        }
    }
}

impl From<StoredFinding> for FindingOut {
    fn from(f: StoredFinding) -> FindingOut {
        let (class_en, class_zh, explain_en, explain_zh) = finding_texts(f.class);
        FindingOut {
            id: Some(f.id),
            class: f.class,
            class_en,
            class_zh,
            explain_en,
            explain_zh,
            date: f.day,
            currency: f.currency,
            expected: f.expected,
            actual: f.actual,
            detail: f.detail,
            payout_ids: f.payout_ids,
            bank_line_ids: f.bank_line_ids,
            review_state: f.review.as_ref().map(|r| r.state.clone()),
            review_note: f.review.and_then(|r| r.note),
        }
    }
}

impl From<svc::SettleReport> for SettlementReport {
    fn from(r: svc::SettleReport) -> SettlementReport {
        SettlementReport {
            bank_account: r.bank_account,
            as_of: r.as_of,
            dry_run: r.dry_run,
            run_id: r.run_id,
            payouts: r
                .payouts
                .into_iter()
                .map(|p| PayoutOut {
                    id: p.id,
                    payout: p.payout,
                    arrival: arrival_name(p.arrival),
                    composition: p.composition.map(|c| CompositionOut {
                        items: c.items,
                        payments: c.payments,
                        refunds: c.refunds,
                        fees: c.fees,
                        disputes: c.disputes,
                        other: c.other,
                        total: c.total,
                    }),
                })
                .collect(),
            bank_lines: r.bank_lines,
            trade_checks: r.trade_checks,
            links: r.links.into_iter().map(LinkOut::from).collect(),
            suggestions: r.suggestions.into_iter().map(LinkOut::from).collect(),
            findings: r.findings.into_iter().map(FindingOut::from).collect(),
            counts: r.counts,
            arrivals: r.arrivals,
            balances: r
                .balances
                .into_iter()
                .map(|b| BalanceDay {
                    account: b.account,
                    date: b.day.date,
                    currency: b.day.currency,
                    opening: b.day.opening,
                    movements: b.day.movements,
                    closing: b.day.closing,
                })
                .collect(),
            search: SearchOut {
                searches: r.search.searches,
                worst_steps: r.search.worst_steps,
                exhausted: r.search.exhausted,
                ambiguous: r.search.ambiguous,
            },
            seconds: r.seconds,
        }
    }
}

impl From<StoredPayout> for PayoutRow {
    fn from(p: StoredPayout) -> PayoutRow {
        PayoutRow {
            id: p.id,
            payout: p.payout,
        }
    }
}

impl From<StoredBankLine> for BankLineRow {
    fn from(l: StoredBankLine) -> BankLineRow {
        BankLineRow {
            id: l.id,
            bank_account: l.bank_account,
            file_name: l.file_name,
            line: l.line,
        }
    }
}

fn all<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(B::from).collect()
}

fn date(value: &str) -> CmdResult<NaiveDate> {
    BillDate::parse(value.trim())
        .map(|d| d.0)
        .map_err(|e| AppError::bad_input(format!("date: {e}")))
}

fn file(path: &str) -> CmdResult<PathBuf> {
    let path = path.trim();
    if path.is_empty() {
        return Err(AppError::bad_input("choose a file to import"));
    }
    Ok(PathBuf::from(path))
}

// ------------------------------------------------------------------ commands

/// The `[[bank_accounts]]` of `paydesk.toml`, for the bank account picker.
#[tauri::command]
pub async fn settlement_bank_accounts(
    state: State<'_, DesktopState>,
) -> CmdResult<Vec<BankAccountInfo>> {
    let (w, _actor) = state.actor().await?;
    Ok(w.config
        .bank_accounts
        .iter()
        .map(|b| BankAccountInfo {
            name: b.name.clone(),
            currency: b.currency,
            accounts: b.accounts.clone(),
        })
        .collect())
}

/// Runs settlement for a bank account as of `date` (stored unless `dry_run`).
#[tauri::command]
pub async fn settlement_run(
    state: State<'_, DesktopState>,
    bank: String,
    date: String,
    dry_run: Option<bool>,
) -> CmdResult<SettlementReport> {
    let (w, actor) = state.actor().await?;
    let as_of = self::date(&date)?;
    let report = svc::settle(&w, &actor, &bank, as_of, dry_run.unwrap_or(false)).await?;
    Ok(report.into())
}

/// The bank account's stored links in `state` (every state when absent).
#[tauri::command]
pub async fn settlement_links(
    state: State<'_, DesktopState>,
    bank: String,
    link_state: Option<String>,
) -> CmdResult<Vec<LinkOut>> {
    let (w, actor) = state.actor().await?;
    let states = match link_state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Vec::new(),
        Some(s) => vec![s.parse::<LinkState>().map_err(|_| {
            AppError::bad_input(format!("state {s:?}: one of {}", LINK_STATES.join(", ")))
        })?],
    };
    Ok(all(svc::list_links(&w, &actor, &bank, &states).await?))
}

/// The findings of the bank account's latest run.
#[tauri::command]
pub async fn settlement_findings(
    state: State<'_, DesktopState>,
    bank: String,
) -> CmdResult<Vec<FindingOut>> {
    let (w, actor) = state.actor().await?;
    Ok(all(svc::list_findings(&w, &actor, &bank).await?))
}

/// Resolves (or reopens) a finding of the latest run, with an optional note.
#[tauri::command]
pub async fn settlement_finding_review(
    state: State<'_, DesktopState>,
    id: i64,
    resolved: bool,
    note: Option<String>,
) -> CmdResult<FindingOut> {
    let (w, actor) = state.actor().await?;
    Ok(
        svc::review_finding(&w, &actor, id, resolved, note.as_deref())
            .await?
            .into(),
    )
}

/// One link with its payouts, bank lines and what each payout settles.
#[tauri::command]
pub async fn settlement_link(state: State<'_, DesktopState>, id: i64) -> CmdResult<LinkDetailOut> {
    let (w, actor) = state.actor().await?;
    let d = svc::show_link(&w, &actor, id).await?;
    Ok(LinkDetailOut {
        link: d.link.into(),
        payouts: all(d.payouts),
        bank_lines: all(d.bank_lines),
        settled: d.settled,
    })
}

/// One payout with its movements, links and bank lines.
#[tauri::command]
pub async fn settlement_payout(
    state: State<'_, DesktopState>,
    id: i64,
) -> CmdResult<PayoutDetailOut> {
    let (w, actor) = state.actor().await?;
    let d = views::show_payout(&w, &actor, id).await?;
    Ok(PayoutDetailOut {
        payout: d.payout.into(),
        flows: d.flows,
        links: all(d.links),
        bank_lines: all(d.bank_lines),
    })
}

/// Accepts or rejects a suggestion (a note says why; the UI asks for one on rejecting).
#[tauri::command]
pub async fn settlement_decide(
    state: State<'_, DesktopState>,
    id: i64,
    accept: bool,
    note: Option<String>,
) -> CmdResult<LinkOut> {
    let (w, actor) = state.actor().await?;
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    Ok(svc::decide(&w, &actor, id, accept, note.as_deref())
        .await?
        .into())
}

/// An order (or a provider transaction id) followed to its payout and bank line.
#[tauri::command]
pub async fn settlement_follow(
    state: State<'_, DesktopState>,
    order: String,
) -> CmdResult<OrderSettlementOut> {
    let (w, actor) = state.actor().await?;
    let o = svc::follow_order(&w, &actor, &order).await?;
    Ok(OrderSettlementOut {
        order_no: o.order_no,
        flows: o.flows,
        payouts: all(o.payouts),
        links: all(o.links),
        bank_lines: all(o.bank_lines),
    })
}

/// Imports a bank statement file (format detected) into a bank account.
#[tauri::command]
pub async fn bank_import(
    state: State<'_, DesktopState>,
    bank: String,
    path: String,
) -> CmdResult<BankImportOut> {
    let (w, actor) = state.actor().await?;
    let r = svc::import_bank(&w, &actor, &bank, &file(&path)?, None).await?;
    Ok(BankImportOut {
        bank_account: r.bank_account,
        file: r.file,
        format: r.format,
        already_imported: r.already_imported,
        statements: r.statements,
        lines: r.lines,
        already_known_lines: r.already_known_lines,
        skipped_pending: r.skipped_pending,
        roll_forward_gaps: r.roll_forward_gaps,
    })
}

/// Imports a provider fund-flow file of a provider account.
#[tauri::command]
pub async fn fundflow_import(
    state: State<'_, DesktopState>,
    account: String,
    path: String,
) -> CmdResult<FundFlowImportOut> {
    let (w, actor) = state.actor().await?;
    let r = svc::import_fund_flows(&w, &actor, &account, &file(&path)?).await?;
    Ok(FundFlowImportOut {
        account: r.account,
        file: r.file,
        layout: r.layout,
        flows: r.flows,
        new_flows: r.new_flows,
        known_flows: r.known_flows,
        payouts: r.payouts,
        summary_checked: r.summary_checked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_names_sent_are_the_serde_names() {
        for a in [
            Arrival::Arrived,
            Arrival::Suggested,
            Arrival::InTransit,
            Arrival::NotArrived,
            Arrival::NotExpected,
        ] {
            let json = serde_json::to_value(a).unwrap_or_default();
            assert_eq!(json.as_str(), Some(arrival_name(a)));
        }
        for s in LINK_STATES {
            let parsed = LinkState::from_str(s).map(link_state_name);
            assert_eq!(parsed, Ok(s));
        }
    }

    #[test]
    fn a_finding_carries_both_languages() {
        let f = FindingOut::from(svc::FindingView {
            class: SettleClass::BankCreditWithoutPayout,
            class_zh: "银行长款",
            date: NaiveDate::from_ymd_opt(2026, 3, 14).unwrap_or_default(),
            currency: Currency::CNY,
            expected: None,
            actual: Some(12_300),
            detail: "bank line 7".into(),
            payout_ids: vec![],
            bank_line_ids: vec![7],
            id: None,
            review: None,
        });
        assert_eq!(
            (f.class_en, f.class_zh),
            ("Bank credit without payout", "银行长款")
        );
        assert!(f.explain_zh.contains("银行"));
        assert_eq!(f.id, None);
    }

    #[test]
    fn a_run_link_keeps_its_state_and_an_unknown_one_is_a_suggestion() {
        let view = |state: &str| svc::LinkView {
            id: Some(3),
            rule: "grouped_payouts".into(),
            confidence: 70,
            state: state.into(),
            currency: Currency::CNY,
            payout_total: 100,
            bank_total: 100,
            payout_ids: vec![1, 2],
            bank_line_ids: vec![9],
            evidence: vec!["sum fits".into()],
        };
        assert_eq!(LinkOut::from(view("booked")).state, "booked");
        assert_eq!(LinkOut::from(view("suggested")).state, "suggested");
        assert_eq!(LinkOut::from(view("??")).state, "suggested");
    }
}
