//! Settlement reconciliation (资金对账): bank statement import, provider fund-flow import,
//! settlement runs (payouts ↔ bank lines, composition, fees, balance continuity), the review
//! of grouped suggestions, and following an order to its bank line.
//!
//! Permissions: importing and running need `reconcile.run`, reading `discrepancy.view`,
//! accepting or rejecting a suggestion `discrepancy.review`. Every change is audited.

/// `[[bank_accounts]]` (kept with the rest of `paydesk.toml` in `context`).
pub use crate::context::bank_accounts as config;
pub mod download;
pub mod report;
pub mod views;

use crate::context::auth::{audit, require};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use chrono::{Duration, NaiveDate, Utc};
use config::BankAccount;
use paydesk_core::settlement::matching::{
    Arrival, Composition, Finding, Link, PriorDecisions, SearchStats, SettleClass, SettleSettings,
};
use paydesk_core::settlement::{
    check_composition, check_flow_balances, check_payout_fee, check_statement_totals,
    class_name_zh, cross_check_trades, match_payouts, BankLine, DayBalance, FundFlow, Payout,
    StatementTotals, TradeCheckWindow, TradeFlowCheck,
};
use paydesk_core::{Actor, Currency, Permission, Provider};
use paydesk_providers::bank::{import_bank_statement, BankFormat};
use paydesk_providers::fundflow::parse_fund_flows;
use paydesk_providers::statement::sha256_hex;
use paydesk_store::settlement::{
    finding_key, BankImportOutcome, FindingReview, LinkState, NewBankImport, NewFinding, NewLink,
    NewSettlementRun, PayoutOrigin, StoredBankLine, StoredBankStatement, StoredFinding, StoredLink,
    StoredPayout,
};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn bad(m: impl Into<String>) -> ServiceError {
    ServiceError::BadInput(m.into())
}

/// The `[[bank_accounts]]` entry called `name`.
pub fn bank_account<'w>(w: &'w Workspace, name: &str) -> Result<&'w BankAccount, ServiceError> {
    let name = name.trim();
    w.config
        .bank_accounts
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = w
                .config
                .bank_accounts
                .iter()
                .map(|b| b.name.as_str())
                .collect();
            if known.is_empty() {
                bad(format!(
                    "no bank account {name:?}: paydesk.toml has no [[bank_accounts]]; add one (README, \"Settlement\")"
                ))
            } else {
                bad(format!(
                    "no bank account {name:?} in paydesk.toml (known: {})",
                    known.join(", ")
                ))
            }
        })
}

/// Reads a file a person named, refusing one past the statement size limit before reading.
fn read_input(w: &Workspace, path: &Path) -> Result<(String, Vec<u8>), ServiceError> {
    let meta =
        std::fs::metadata(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(bad(format!("{} is not a file", path.display())));
    }
    let limit = w.config.limits.max_statement_bytes;
    if meta.len() > limit {
        return Err(bad(format!(
            "{}: the file is larger than {} MiB, the limit `[limits] max_statement_mb` of paydesk.toml",
            path.display(),
            limit / (1024 * 1024)
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok((name, bytes))
}

/// What a bank file import did.
#[derive(Debug, Clone, Serialize)]
pub struct BankImportReport {
    pub bank_account: String,
    pub file: String,
    pub format: String,
    pub content_sha256: String,
    /// The file was imported before: nothing changed.
    pub already_imported: bool,
    pub statements: u64,
    pub lines: u64,
    /// Lines an earlier, overlapping file already holds.
    pub already_known_lines: u64,
    /// camt.053 entries not booked yet (pending), left out.
    pub skipped_pending: u64,
    /// Statements whose own opening + lines ≠ closing (the run reports them as balance
    /// breaks too).
    pub roll_forward_gaps: Vec<String>,
}

/// Imports a bank statement file (camt.053, MT940, CSV/XLSX by the bank account's mapping)
/// into `bank_account`. All or nothing; the same file twice changes nothing.
pub async fn import_bank(
    w: &Workspace,
    actor: &Actor,
    bank_account_name: &str,
    path: &Path,
    format: Option<BankFormat>,
) -> Result<BankImportReport, ServiceError> {
    let target = format!("bank account {bank_account_name}");
    require(&w.db, actor, Permission::ReconcileRun, &target).await?;
    let ba = bank_account(w, bank_account_name)?;
    let (file, bytes) = read_input(w, path)?;
    let parsed = import_bank_statement(&bytes, &file, format, Some(&ba.mapping)).map_err(|e| {
        // The first problem in one line, then every rejected row (at most 50) below it.
        let mut m = e.to_string();
        for r in e.rejected.iter().skip(1).take(49) {
            m.push_str(&format!("\n  line {}: {}", r.line, r.reason));
        }
        bad(m)
    })?;
    if parsed.statements.is_empty() {
        return Err(bad(format!("{file}: the file holds no statement")));
    }
    for s in &parsed.statements {
        if s.currency != ba.currency {
            return Err(bad(format!(
                "{file}: the statement{} is in {}, bank account {} is in {}",
                s.statement_id
                    .as_deref()
                    .map(|i| format!(" {i}"))
                    .unwrap_or_default(),
                s.currency,
                ba.name,
                ba.currency
            )));
        }
        if let Some(l) = s.lines.iter().find(|l| l.currency != ba.currency) {
            return Err(bad(format!(
                "{file} line {}: the amount is in {}, bank account {} is in {}",
                l.line, l.currency, ba.name, ba.currency
            )));
        }
    }
    let sha = sha256_hex(&bytes);
    let outcome =
        w.db.import_bank_file(&NewBankImport {
            bank_account: &ba.name,
            file_name: &file,
            content_sha256: &sha,
            format: parsed.format.as_str(),
            statements: &parsed.statements,
            actor: &actor.username,
        })
        .await?;
    let gaps = parsed
        .statements
        .iter()
        .filter_map(|s| {
            let gap = s.roll_forward_gap()?;
            (gap != 0).then(|| {
                format!(
                    "statement {}: opening + lines differs from closing by {}",
                    s.statement_id.as_deref().unwrap_or("(no id)"),
                    money(gap, s.currency)
                )
            })
        })
        .collect();
    let mut report = BankImportReport {
        bank_account: ba.name.clone(),
        file: file.clone(),
        format: parsed.format.as_str().to_string(),
        content_sha256: sha.clone(),
        already_imported: false,
        statements: 0,
        lines: 0,
        already_known_lines: 0,
        skipped_pending: parsed.skipped_pending as u64,
        roll_forward_gaps: gaps,
    };
    match outcome {
        BankImportOutcome::AlreadyImported { .. } => report.already_imported = true,
        BankImportOutcome::Imported {
            statements,
            lines,
            already_known_lines,
        } => {
            report.statements = statements;
            report.lines = lines;
            report.already_known_lines = already_known_lines;
            audit(
                &w.db,
                &actor.username,
                "bank.import",
                &target,
                "ok",
                json!({"file": file, "sha256": sha, "format": report.format,
                       "statements": statements, "lines": lines,
                       "already_known_lines": already_known_lines}),
            )
            .await?;
        }
    }
    Ok(report)
}

/// What a fund-flow import did.
#[derive(Debug, Clone, Serialize)]
pub struct FundFlowImportReport {
    pub account: String,
    pub file: String,
    pub layout: String,
    pub flows: u64,
    pub new_flows: u64,
    pub known_flows: u64,
    pub payouts: u64,
    pub summary_checked: bool,
}

/// Imports a provider fund-flow file (Alipay 账务明细, WeChat 资金账单, Stripe itemized
/// payout report or API pages) of provider account `account`.
pub async fn import_fund_flows(
    w: &Workspace,
    actor: &Actor,
    account: &str,
    path: &Path,
) -> Result<FundFlowImportReport, ServiceError> {
    let target = format!("account {account}");
    require(&w.db, actor, Permission::ReconcileRun, &target).await?;
    let acc = w
        .config
        .accounts
        .iter()
        .find(|a| a.name == account.trim())
        .ok_or_else(|| bad(format!("no account {account:?} in paydesk.toml")))?;
    let (file, bytes) = read_input(w, path)?;
    let parsed =
        parse_fund_flows(&bytes, &file, acc.provider, &acc.name).map_err(|e| bad(e.to_string()))?;
    // A Stripe itemized report infers its payouts from the movements; every other layout
    // states them.
    let origin = if parsed.layout == paydesk_providers::fundflow::FundFlowLayout::StripeItemized {
        PayoutOrigin::Inferred
    } else {
        PayoutOrigin::Stated
    };
    save_flows(
        w,
        actor,
        &acc.name,
        &file,
        &layout_name(parsed.layout),
        (&parsed.flows, &parsed.payouts, origin),
        parsed.summary_checked,
    )
    .await
}

fn layout_name(layout: paydesk_providers::fundflow::FundFlowLayout) -> String {
    serde_json::to_value(layout)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Saves parsed (imported or downloaded) flows and payouts, audited.
pub(crate) async fn save_flows(
    w: &Workspace,
    actor: &Actor,
    account: &str,
    file: &str,
    layout: &str,
    (flows, payouts, origin): (&[FundFlow], &[Payout], PayoutOrigin),
    summary_checked: bool,
) -> Result<FundFlowImportReport, ServiceError> {
    if let Some(f) = flows.iter().find(|f| f.account != account) {
        return Err(bad(format!(
            "{file} line {}: the row belongs to account {}, not {account}",
            f.line, f.account
        )));
    }
    let saved = w.db.save_fund_flows(file, flows, payouts, origin).await?;
    audit(
        &w.db,
        &actor.username,
        "fundflow.import",
        &format!("account {account}"),
        "ok",
        json!({"file": file, "layout": layout, "flows": flows.len(),
               "new_flows": saved.new_flows, "payouts": saved.payouts}),
    )
    .await?;
    Ok(FundFlowImportReport {
        account: account.to_string(),
        file: file.to_string(),
        layout: layout.to_string(),
        flows: flows.len() as u64,
        new_flows: saved.new_flows,
        known_flows: saved.known_flows,
        payouts: saved.payouts,
        summary_checked,
    })
}

/// A payout in a settlement report.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutView {
    pub id: i64,
    #[serde(flatten)]
    pub payout: Payout,
    pub arrival: Arrival,
    /// What the payout settles, for itemized (Stripe automatic) payouts.
    pub composition: Option<Composition>,
}

/// A link or suggestion in a settlement report: stored ids, not indices.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub id: Option<i64>,
    pub rule: String,
    pub confidence: u8,
    pub state: String,
    pub currency: Currency,
    pub payout_total: i64,
    pub bank_total: i64,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    pub evidence: Vec<String>,
}

/// A finding in a settlement report.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub class: SettleClass,
    pub class_zh: &'static str,
    pub date: NaiveDate,
    pub currency: Currency,
    pub expected: Option<i64>,
    pub actual: Option<i64>,
    pub detail: String,
    pub payout_ids: Vec<i64>,
    pub bank_line_ids: Vec<i64>,
    /// The stored finding's id once the run is saved (`None` in a dry run).
    pub id: Option<i64>,
    /// A reviewer's verdict on the same finding (kept by its key over re-runs), if any.
    pub review: Option<FindingReview>,
}

/// One provider account's balance over one day.
#[derive(Debug, Clone, Serialize)]
pub struct AccountDay {
    pub account: String,
    #[serde(flatten)]
    pub day: DayBalance,
}

/// What a settlement run found.
#[derive(Debug, Clone, Serialize)]
pub struct SettleReport {
    pub bank_account: String,
    pub as_of: NaiveDate,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub payouts: Vec<PayoutView>,
    pub bank_lines: u64,
    pub links: Vec<LinkView>,
    pub suggestions: Vec<LinkView>,
    pub findings: Vec<FindingView>,
    /// Findings per class.
    pub counts: BTreeMap<String, u64>,
    /// Payouts per arrival state.
    pub arrivals: BTreeMap<String, u64>,
    pub balances: Vec<AccountDay>,
    /// Per provider account, the trade bills checked against the fund flows.
    pub trade_checks: Vec<AccountTradeCheck>,
    pub search: SearchStats,
    pub seconds: f64,
}

/// One provider account's trade bills against its fund flows over the run's last
/// `trade_check_days` days.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountTradeCheck {
    pub account: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days of the window whose trade bill is stored.
    pub trade_days: u64,
    /// Payments and refunds found on the balance with the amount they settle.
    pub matched: u64,
    /// Items whose counterpart's day is not stored yet.
    pub pending: u64,
    /// `trade_flow_mismatch` findings.
    pub findings: u64,
}

fn money(minor: i64, c: Currency) -> String {
    format!("{} {}", c.format_minor(minor), c.code())
}

/// Runs the settlement match of `bank_account` as of `as_of`: payouts of its provider
/// accounts against its bank lines over the look-back window, composition and fee checks,
/// and balance continuity. Saves the run (replacing the earlier run's links, suggestions and
/// findings; reviewers' decisions stand) unless `dry_run`.
pub async fn settle(
    w: &Workspace,
    actor: &Actor,
    bank_account_name: &str,
    as_of: NaiveDate,
    dry_run: bool,
) -> Result<SettleReport, ServiceError> {
    let clock = std::time::Instant::now();
    let target = format!("bank account {bank_account_name} {as_of}");
    require(&w.db, actor, Permission::ReconcileRun, &target).await?;
    let ba = bank_account(w, bank_account_name)?;
    let started_at = Utc::now();
    let from = as_of - Duration::days(i64::from(ba.lookback_days));
    let stored_payouts: Vec<StoredPayout> =
        w.db.payouts_until(&ba.accounts, ba.calendar.add(as_of, ba.days_before))
            .await?
            .into_iter()
            // A provider account with balances in several currencies pays each into a bank
            // account of its own currency.
            .filter(|p| p.payout.arrival_date >= from && p.payout.currency == ba.currency)
            .collect();
    let stored_lines: Vec<StoredBankLine> =
        w.db.bank_lines_between(&ba.name, ba.calendar.sub(from, ba.days_before), as_of)
            .await?;
    let payouts: Vec<Payout> = stored_payouts.iter().map(|p| p.payout.clone()).collect();
    let lines: Vec<BankLine> = stored_lines.iter().map(|l| l.line.clone()).collect();
    let payout_index: HashMap<i64, usize> = stored_payouts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    let line_index: HashMap<i64, usize> = stored_lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id, i))
        .collect();

    // Reviewers' decisions, mapped onto this window's items.
    let decided =
        w.db.settlement_links(&ba.name, &[LinkState::Accepted, LinkState::Rejected])
            .await?;
    let mut prior = PriorDecisions::default();
    for d in &decided {
        let ps: Vec<usize> = d
            .payout_ids
            .iter()
            .filter_map(|i| payout_index.get(i).copied())
            .collect();
        let bs: Vec<usize> = d
            .bank_line_ids
            .iter()
            .filter_map(|i| line_index.get(i).copied())
            .collect();
        if ps.is_empty() && bs.is_empty() {
            continue;
        }
        match d.state {
            LinkState::Accepted => prior.accepted.push((ps, bs)),
            _ => prior.rejected.push((ps, bs)),
        }
    }

    let mut settings = SettleSettings::new(as_of);
    settings.days_before = ba.days_before;
    settings.days_after = ba.days_after;
    settings.counterparties = ba.counterparties.clone();
    settings.calendar = ba.calendar.clone();
    let result = match_payouts(&payouts, &lines, &prior, &settings);

    let pid = |i: &usize| stored_payouts.get(*i).map(|p| p.id);
    let lid = |i: &usize| stored_lines.get(*i).map(|l| l.id);
    let mut findings: Vec<FindingView> = Vec::new();
    let mut push_finding = |f: &Finding, prefix: Option<&str>| {
        findings.push(FindingView {
            class: f.class,
            class_zh: class_name_zh(f.class),
            date: f.date,
            currency: f.currency,
            expected: f.expected,
            actual: f.actual,
            detail: match prefix {
                Some(p) => format!("{p}: {}", f.detail),
                None => f.detail.clone(),
            },
            payout_ids: f.payouts.iter().filter_map(pid).collect(),
            bank_line_ids: f.bank_lines.iter().filter_map(lid).collect(),
            id: None,
            review: None,
        })
    };
    for f in &result.findings {
        push_finding(f, None);
    }

    // Composition (Stripe automatic payouts) and payout fees.
    let flows_by_payout = w.db.fund_flows_with_payouts(&ba.accounts).await?;
    let mut compositions: Vec<Option<Composition>> = vec![None; payouts.len()];
    // Each scheduled account's fee movements, read once (not once per payout).
    let mut fees_by_account: HashMap<String, HashMap<String, Vec<FundFlow>>> = HashMap::new();
    for (i, p) in payouts.iter().enumerate() {
        let key = (p.account.clone(), p.payout_id.clone());
        let flows: Vec<&FundFlow> = flows_by_payout
            .get(&key)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        if let Some((composition, finding)) = check_composition(p, &flows) {
            compositions[i] = Some(composition);
            if let Some(mut f) = finding {
                f.payouts = vec![i];
                push_finding(&f, None);
            }
        }
        let schedule = w
            .config
            .accounts
            .iter()
            .find(|a| a.name == p.account)
            .and_then(|a| a.payout_fee);
        if let Some(schedule) = schedule {
            if !fees_by_account.contains_key(&p.account) {
                let fees = w.db.fee_flows_by_source(&p.account).await?;
                fees_by_account.insert(p.account.clone(), fees);
            }
            let refs: Vec<&FundFlow> = fees_by_account
                .get(&p.account)
                .and_then(|by_source| by_source.get(&p.payout_id))
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            if let Some(mut f) = check_payout_fee(p, &refs, &schedule) {
                f.payouts = vec![i];
                push_finding(&f, None);
            }
        }
    }

    // Balance continuity: provider accounts by day, bank statements by statement. Each
    // account's fund flows are read once, through the day after `as_of`: that day is only a
    // counterpart for the trade check of the last days (交易 ↔ 资金流水), which runs here too.
    let mut balances = Vec::new();
    let mut trade_checks = Vec::new();
    let mut trade_findings: Vec<(&str, Finding)> = Vec::new();
    let check_from = as_of - Duration::days(i64::from(ba.trade_check_days) - 1);
    for account in &ba.accounts {
        let Some(acc) = w.config.accounts.iter().find(|a| &a.name == account) else {
            continue;
        };
        let (start, _) = paydesk_core::BillDate(from).utc_bounds(acc.timezone);
        let (_, end) = paydesk_core::BillDate(as_of).utc_bounds(acc.timezone);
        let (_, next_end) = paydesk_core::BillDate(as_of)
            .succ()
            .utc_bounds(acc.timezone);
        let flows = w.db.fund_flows_between(account, start, next_end).await?;
        let through_as_of = flows.partition_point(|f| f.booked_at < end);
        let (days, breaks) = check_flow_balances(&flows[..through_as_of], acc.timezone, None);
        for f in &breaks {
            push_finding(f, Some(account));
        }
        balances.extend(days.into_iter().map(|day| AccountDay {
            account: account.clone(),
            day,
        }));
        if ba.trade_check_days > 0 {
            let (check, summary) =
                check_trades_against_flows(w, acc, check_from, as_of, &flows).await?;
            trade_findings.extend(check.findings.into_iter().map(|f| (account.as_str(), f)));
            trade_checks.push(summary);
        }
    }
    let statements: Vec<StoredBankStatement> =
        w.db.bank_statements(&ba.name)
            .await?
            .into_iter()
            .filter(|s| s.closing.is_none_or(|c| c.date >= from))
            .collect();
    // The stored totals: lines an overlapping earlier file holds are stored once, but each
    // statement's own roll-forward is over all of its lines.
    let totals: Vec<StatementTotals<'_>> = statements
        .iter()
        .map(|s| StatementTotals {
            account_id: None,
            statement_id: Some(s.statement_ref.as_deref().unwrap_or(s.file_name.as_str())),
            currency: s.currency,
            opening: s.opening,
            closing: s.closing,
            lines: usize::try_from(s.line_count).unwrap_or(usize::MAX),
            moved: i128::from(s.line_sum),
        })
        .collect();
    for f in check_statement_totals(&totals) {
        push_finding(&f, Some(&ba.name));
    }

    for (account, f) in &trade_findings {
        push_finding(f, Some(account));
    }

    let view = |l: &Link, state: LinkState| LinkView {
        id: None,
        rule: l.rule.to_string(),
        confidence: l.confidence,
        state: state.as_str().to_string(),
        currency: l
            .payouts
            .first()
            .and_then(|i| payouts.get(*i))
            .map(|p| p.currency)
            .or_else(|| {
                l.bank_lines
                    .first()
                    .and_then(|i| lines.get(*i))
                    .map(|b| b.currency)
            })
            .unwrap_or(ba.currency),
        payout_total: l
            .payouts
            .iter()
            .filter_map(|i| payouts.get(*i))
            .map(|p| p.amount)
            .sum(),
        bank_total: l
            .bank_lines
            .iter()
            .filter_map(|i| lines.get(*i))
            .map(|b| b.amount)
            .sum(),
        payout_ids: l.payouts.iter().filter_map(pid).collect(),
        bank_line_ids: l.bank_lines.iter().filter_map(lid).collect(),
        evidence: l.evidence.clone(),
    };
    // Links a reviewer accepted are stored already; the run keeps only its own.
    let accepted_keys: Vec<String> = decided
        .iter()
        .filter(|d| d.state == LinkState::Accepted)
        .map(|d| d.link_key.clone())
        .collect();
    let links: Vec<LinkView> = result
        .links
        .iter()
        .map(|l| view(l, LinkState::Booked))
        .filter(|v| {
            !accepted_keys.contains(&paydesk_store::settlement::link_key(
                &v.payout_ids,
                &v.bank_line_ids,
            ))
        })
        .collect();
    let suggestions: Vec<LinkView> = result
        .suggestions
        .iter()
        .map(|l| view(l, LinkState::Suggested))
        .collect();

    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for f in &findings {
        *counts.entry(f.class.to_string()).or_default() += 1;
    }
    let mut arrivals: BTreeMap<String, u64> = BTreeMap::new();
    for a in &result.arrivals {
        *arrivals.entry(a.to_string()).or_default() += 1;
    }
    let payout_views: Vec<PayoutView> = stored_payouts
        .iter()
        .enumerate()
        .map(|(i, p)| PayoutView {
            id: p.id,
            payout: p.payout.clone(),
            arrival: result
                .arrivals
                .get(i)
                .copied()
                .unwrap_or(Arrival::InTransit),
            composition: compositions.get(i).cloned().flatten(),
        })
        .collect();

    let mut report = SettleReport {
        bank_account: ba.name.clone(),
        as_of,
        dry_run,
        run_id: None,
        payouts: payout_views,
        bank_lines: stored_lines.len() as u64,
        links,
        suggestions,
        findings,
        counts,
        arrivals,
        balances,
        trade_checks,
        search: result.search.clone(),
        seconds: 0.0,
    };
    let new_findings: Vec<NewFinding> = report.findings.iter().map(new_finding).collect();
    // What each finding is about, stable over re-runs: how its stored row and review are found.
    let keys: Vec<String> = new_findings.iter().map(finding_key).collect();
    if !dry_run {
        let new_links: Vec<NewLink> = report
            .links
            .iter()
            .map(|v| (v, LinkState::Booked))
            .chain(report.suggestions.iter().map(|v| (v, LinkState::Suggested)))
            .filter_map(|(v, state)| {
                Some(NewLink {
                    rule: v.rule.parse().ok()?,
                    confidence: v.confidence,
                    state,
                    currency: v.currency,
                    payout_total: v.payout_total,
                    bank_total: v.bank_total,
                    evidence: v.evidence.clone(),
                    payout_ids: v.payout_ids.clone(),
                    bank_line_ids: v.bank_line_ids.clone(),
                })
            })
            .collect();
        let summary = json!({
            "payouts": report.payouts.len(), "bank_lines": report.bank_lines,
            "links": report.links.len(), "suggestions": report.suggestions.len(),
            "findings": report.counts, "arrivals": report.arrivals, "search": report.search,
            "trade_checks": report.trade_checks,
        });
        let run_id =
            w.db.save_settlement_run(&NewSettlementRun {
                bank_account: &ba.name,
                as_of,
                actor: &actor.username,
                started_at,
                summary: summary.clone(),
                links: &new_links,
                findings: &new_findings,
            })
            .await?;
        report.run_id = Some(run_id);
        // Stored ids of the run's links, for the caller to accept or reject.
        let stored =
            w.db.settlement_links(&ba.name, &[LinkState::Booked, LinkState::Suggested])
                .await?;
        let by_key: HashMap<&str, i64> =
            stored.iter().map(|l| (l.link_key.as_str(), l.id)).collect();
        for v in report.links.iter_mut().chain(report.suggestions.iter_mut()) {
            let key = paydesk_store::settlement::link_key(&v.payout_ids, &v.bank_line_ids);
            v.id = by_key.get(key.as_str()).copied();
        }
        audit(&w.db, &actor.username, "settle.run", &target, "ok", summary).await?;
        // The stored findings: their ids, for the caller to review them, and the reviews
        // that stand over re-runs (a finding found again is shown with its review).
        let stored = w.db.settlement_findings(&ba.name).await?;
        let by_key: HashMap<&str, &StoredFinding> = stored
            .iter()
            .filter(|f| f.run_id == run_id)
            .map(|f| (f.finding_key.as_str(), f))
            .collect();
        for (f, key) in report.findings.iter_mut().zip(&keys) {
            if let Some(s) = by_key.get(key.as_str()) {
                f.id = Some(s.id);
                f.review = s.review.clone();
            }
        }
    } else {
        let reviews = w.db.settlement_finding_reviews(&ba.name).await?;
        for (f, key) in report.findings.iter_mut().zip(&keys) {
            f.review = reviews.get(key).cloned();
        }
    }
    report.seconds = clock.elapsed().as_secs_f64();
    Ok(report)
}

fn new_finding(f: &FindingView) -> NewFinding {
    NewFinding {
        class: f.class,
        day: f.date,
        currency: f.currency,
        expected: f.expected,
        actual: f.actual,
        detail: f.detail.clone(),
        payout_ids: f.payout_ids.clone(),
        bank_line_ids: f.bank_line_ids.clone(),
    }
}

/// Cross-checks `account`'s trade bills of `from..=to` with its fund flows (`flows`, in
/// booking order, covering at least the day before `from` through the day after `to`). The
/// day before and after are counterparts only: a payment at 23:59:59 may move the balance
/// after midnight.
async fn check_trades_against_flows(
    w: &Workspace,
    account: &crate::context::config::Account,
    from: NaiveDate,
    to: NaiveDate,
    flows: &[FundFlow],
) -> Result<(TradeFlowCheck, AccountTradeCheck), ServiceError> {
    let tz = account.timezone;
    let bounds = |d: NaiveDate| paydesk_core::BillDate(d).utc_bounds(tz);
    let (first, last) = (from.pred_opt().unwrap_or(from), to.succ_opt().unwrap_or(to));
    let mut trades = Vec::new();
    let mut trade_days = Vec::new();
    let mut stored_in_window = 0u64;
    let mut day = first;
    while day <= last {
        if let Some(st) =
            w.db.current_statement(&account.name, paydesk_core::BillDate(day))
                .await?
        {
            trades.extend(w.db.statement_lines(st.id).await?);
            trade_days.push(bounds(day));
            if (from..=to).contains(&day) {
                stored_in_window += 1;
            }
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    let flows = &flows[flows.partition_point(|f| f.booked_at < bounds(first).0)..];
    let mut flow_days: Vec<NaiveDate> = flows
        .iter()
        .map(|f| f.booked_at.with_timezone(&tz).date_naive())
        .collect();
    flow_days.sort_unstable();
    flow_days.dedup();
    let window = TradeCheckWindow {
        from: bounds(from).0,
        to: bounds(to).1,
        trade_days,
        flow_days: flow_days.into_iter().map(bounds).collect(),
        grace: Duration::hours(1),
        timezone: tz,
    };
    let check = cross_check_trades(&trades, flows, &window);
    let summary = AccountTradeCheck {
        account: account.name.clone(),
        from,
        to,
        trade_days: stored_in_window,
        matched: check.matched,
        pending: check.pending,
        findings: check.findings.len() as u64,
    };
    Ok((check, summary))
}

/// A link with everything it stands on.
#[derive(Debug, Clone, Serialize)]
pub struct LinkDetail {
    pub link: StoredLink,
    pub payouts: Vec<StoredPayout>,
    pub bank_lines: Vec<StoredBankLine>,
    /// Per payout (same order), the movements it settles.
    pub settled: Vec<Vec<FundFlow>>,
}

/// The bank account's links in `states` (every state when empty).
pub async fn list_links(
    w: &Workspace,
    actor: &Actor,
    bank_account_name: &str,
    states: &[LinkState],
) -> Result<Vec<StoredLink>, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("bank account {bank_account_name}"),
    )
    .await?;
    let ba = bank_account(w, bank_account_name)?;
    Ok(w.db.settlement_links(&ba.name, states).await?)
}

/// The bank account's findings of its latest run.
pub async fn list_findings(
    w: &Workspace,
    actor: &Actor,
    bank_account_name: &str,
) -> Result<Vec<StoredFinding>, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("bank account {bank_account_name}"),
    )
    .await?;
    let ba = bank_account(w, bank_account_name)?;
    Ok(w.db.settlement_findings(&ba.name).await?)
}

/// Resolves (or reopens) a finding of the latest run, with an optional note; audited. The
/// review stands over re-runs that find the same thing.
pub async fn review_finding(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    resolved: bool,
    note: Option<&str>,
) -> Result<StoredFinding, ServiceError> {
    let target = format!("settlement finding {id}");
    require(&w.db, actor, Permission::DiscrepancyReview, &target).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(bad("a note may be at most 2,000 characters"));
    }
    let f =
        w.db.review_settlement_finding(id, resolved, note, &actor.username)
            .await
            .map_err(|e| match e {
                paydesk_store::StoreError::NotFound { .. } => ServiceError::NotFound(format!(
                    "no settlement finding {id} (findings are those of the latest run)"
                )),
                other => other.into(),
            })?;
    audit(
        &w.db,
        &actor.username,
        if resolved {
            "settlement.finding.resolve"
        } else {
            "settlement.finding.reopen"
        },
        &target,
        "ok",
        json!({"bank_account": f.bank_account, "class": f.class.to_string(),
               "finding_key": f.finding_key, "note": note}),
    )
    .await?;
    Ok(f)
}

/// One link with its payouts, bank lines and what each payout settles.
pub async fn show_link(w: &Workspace, actor: &Actor, id: i64) -> Result<LinkDetail, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("settlement link {id}"),
    )
    .await?;
    let link =
        w.db.settlement_link(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no settlement link {id}")))?;
    let payouts = w.db.payouts_by_ids(&link.payout_ids).await?;
    let bank_lines = w.db.bank_lines_by_ids(&link.bank_line_ids).await?;
    let mut settled = Vec::with_capacity(payouts.len());
    for p in &payouts {
        settled.push(
            w.db.fund_flows_of_payout(&p.payout.account, &p.payout.payout_id)
                .await?,
        );
    }
    Ok(LinkDetail {
        link,
        payouts,
        bank_lines,
        settled,
    })
}

/// Accepts or rejects a suggestion, audited. Accepting one whose items another link already
/// explains is refused.
pub async fn decide(
    w: &Workspace,
    actor: &Actor,
    id: i64,
    accept: bool,
    note: Option<&str>,
) -> Result<StoredLink, ServiceError> {
    let target = format!("settlement link {id}");
    require(&w.db, actor, Permission::DiscrepancyReview, &target).await?;
    let decided =
        w.db.decide_settlement_link(id, accept, &actor.username, note)
            .await
            .map_err(|e| match e {
                paydesk_store::StoreError::NotFound { .. } => {
                    ServiceError::NotFound(format!("no settlement suggestion {id}"))
                }
                paydesk_store::StoreError::Invalid { what, reason } => {
                    ServiceError::Conflict(format!("{what}: {reason}"))
                }
                other => other.into(),
            })?;
    audit(
        &w.db,
        &actor.username,
        if accept {
            "settlement.accept"
        } else {
            "settlement.reject"
        },
        &target,
        "ok",
        json!({"bank_account": decided.bank_account, "link_key": decided.link_key,
               "rule": decided.rule.to_string(), "confidence": decided.confidence,
               "payout_total": decided.payout_total, "bank_total": decided.bank_total,
               "note": note}),
    )
    .await?;
    Ok(decided)
}

/// A day after every payout (dates are compared as ISO text: `NaiveDate::MAX` prints with a
/// sign and would sort first).
pub(crate) fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default()
}

/// An order followed through settlement: the balance movements that name it, the payouts
/// that settled them and the bank lines those payouts arrived as.
#[derive(Debug, Clone, Serialize)]
pub struct OrderSettlement {
    pub order_no: String,
    pub flows: Vec<FundFlow>,
    pub payouts: Vec<StoredPayout>,
    pub links: Vec<StoredLink>,
    pub bank_lines: Vec<StoredBankLine>,
}

/// Follows an order (merchant order number, or the provider's transaction id) to its bank
/// line: the movements naming it, the payouts that settled them (Stripe automatic payouts
/// name their movements; an Alipay/WeChat withdrawal takes the balance, so the first one
/// after the movement is given), and those payouts' booked or accepted links.
pub async fn follow_order(
    w: &Workspace,
    actor: &Actor,
    key: &str,
) -> Result<OrderSettlement, ServiceError> {
    require(&w.db, actor, Permission::OrderView, &format!("order {key}")).await?;
    let key = key.trim();
    if key.is_empty() {
        return Err(bad("give an order number or a provider transaction id"));
    }
    let mut flows = w.db.fund_flows_of_order(key).await?;
    for f in w.db.fund_flows_of_source(key).await? {
        if !flows
            .iter()
            .any(|g| g.account == f.account && g.flow_id == f.flow_id)
        {
            flows.push(f);
        }
    }
    let orders = w.mirror.search_orders(key, 50).await.unwrap_or_default();
    if let Some(order) = orders.iter().find(|o| o.order_no.as_str() == key) {
        if let Some(txn) = &order.provider_txn_id {
            for f in w.db.fund_flows_of_source(txn.as_str()).await? {
                if !flows
                    .iter()
                    .any(|g| g.account == f.account && g.flow_id == f.flow_id)
                {
                    flows.push(f);
                }
            }
        }
    }
    let mut payouts: Vec<StoredPayout> = Vec::new();
    // Each account's payouts, read once however many of its movements name the order.
    let mut payouts_of: HashMap<String, Vec<StoredPayout>> = HashMap::new();
    for f in &flows {
        let ba = w
            .config
            .bank_accounts
            .iter()
            .find(|b| b.accounts.contains(&f.account));
        if !payouts_of.contains_key(&f.account) {
            let all =
                w.db.payouts_until(std::slice::from_ref(&f.account), far_future())
                    .await?;
            payouts_of.insert(f.account.clone(), all);
        }
        let candidates = payouts_of.get(&f.account).map_or(&[][..], Vec::as_slice);
        let found = match &f.payout_id {
            Some(po) => candidates.iter().find(|p| &p.payout.payout_id == po),
            None if matches!(f.provider, Provider::Alipay | Provider::Wechat) && ba.is_some() => {
                candidates
                    .iter()
                    .filter(|p| p.payout.created_at >= f.booked_at)
                    .min_by_key(|p| (p.payout.created_at, p.id))
            }
            None => None,
        }
        .cloned();
        if let Some(p) = found {
            if !payouts.iter().any(|q| q.id == p.id) {
                payouts.push(p);
            }
        }
    }
    let mut links = Vec::new();
    let mut bank_line_ids = Vec::new();
    for ba in &w.config.bank_accounts {
        for l in
            w.db.settlement_links(&ba.name, &[LinkState::Booked, LinkState::Accepted])
                .await?
        {
            if l.payout_ids
                .iter()
                .any(|id| payouts.iter().any(|p| p.id == *id))
            {
                bank_line_ids.extend(l.bank_line_ids.iter().copied());
                links.push(l);
            }
        }
    }
    let bank_lines = w.db.bank_lines_by_ids(&bank_line_ids).await?;
    Ok(OrderSettlement {
        order_no: key.to_string(),
        flows,
        payouts,
        links,
        bank_lines,
    })
}
