//! The demo's settlement (资金对账): after the trade reconciliations, the providers' fund flows
//! of the demo days are downloaded from a sandbox with a longer history, the bank statements
//! that received the payouts are generated (camt.053 for the USD account, a Chinese bank's
//! XLSX for the CNY one) with every settlement case planted, imported, and settled.
//!
//! Planted on the provider side: a Stripe payout that holds money back (composition mismatch),
//! an Alipay 提现 charged above its fee schedule (fee differs) and an Alipay 收款码 payment that
//! no trade bill lists (trade and fund flow differ). On the bank side
//! (`sandbox::settlement_gen`): two payouts in one credit, a payout that never arrives and an
//! unknown credit (CNY); a credit short of a bank charge and a closing balance with a charge
//! the lines leave out (USD).

use crate::context::bank_accounts::BankAccount;
use crate::context::config::Account;
use crate::context::private_file::{create_private_dir_all, replace_private};
use crate::context::workspace::Workspace;
use crate::sandbox::settlement_gen::{bank_statement, BankGenParams};
use crate::sandbox::SandboxEndpoint;
use crate::ServiceError;
use chrono::NaiveDate;
use paydesk_core::{Actor, BillDate, Currency, Provider};
use paydesk_sandbox::Quirk;
use serde::Serialize;
use std::collections::BTreeMap;

/// Days of provider history the settlement sandbox serves, ending on the demo date.
pub(crate) const HISTORY_DAYS: u64 = 10;

/// What the demo's settlement did for one bank account.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSettlement {
    pub bank_account: String,
    pub bank_file: String,
    pub payouts: u64,
    pub bank_lines: u64,
    pub links: u64,
    pub suggestions: u64,
    /// Findings per settlement class.
    pub counts: BTreeMap<String, u64>,
    /// Payouts per arrival state (arrived, suggested, in_transit, not_arrived, …).
    pub arrivals: BTreeMap<String, u64>,
    /// What the generator planted, for the reader to find in the results.
    pub planted: crate::sandbox::settlement_gen::PlantedBank,
}

fn day_minus(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(chrono::Days::new(n)).unwrap_or(d)
}

/// Runs the demo's settlement as of `date` (the second demo day) for every bank account of
/// the workspace. A workspace without `[[bank_accounts]]` (made by an older demo) has none.
pub async fn run(
    w: &Workspace,
    actor: &Actor,
    date: BillDate,
) -> Result<Vec<DemoSettlement>, ServiceError> {
    if w.config.bank_accounts.is_empty() {
        return Ok(Vec::new());
    }
    let first = day_minus(date.0, HISTORY_DAYS - 1);
    let days: Vec<BillDate> = (0..HISTORY_DAYS)
        .map(|k| BillDate(day_minus(date.0, k)))
        .collect();
    let sandbox = crate::sandbox::start(w, 0, &days).await?;
    // A Stripe payout three days back keeps 12.34 USD without itemizing it, and the Alipay
    // 提现 four days back is charged 5.00 CNY over the 0.10 % schedule.
    sandbox.plant_payout_quirk(
        Provider::Stripe,
        day_minus(date.0, 3),
        Quirk::HoldBack { minor: 1_234 },
    );
    sandbox.plant_payout_quirk(
        Provider::Alipay,
        day_minus(date.0, 4),
        Quirk::ExtraFee { minor: 500 },
    );
    // A customer paid the Alipay account 66.00 CNY by its 收款码 on the demo day: money on the
    // balance that no trade bill lists.
    sandbox.plant_payout_quirk(
        Provider::Alipay,
        date.0,
        Quirk::UnbilledPayment { minor: 6_600 },
    );
    let result = download_all(w, actor, &sandbox, first, date.0).await;
    sandbox.shutdown().await;
    result?;

    let mut out = Vec::new();
    for (k, ba) in w.config.bank_accounts.iter().enumerate() {
        out.push(bank_side(w, actor, ba, k as u64, first, date.0).await?);
    }
    Ok(out)
}

/// Downloads every paying account's fund flows for each day after the first (whose payouts
/// are the first ones) through today, when the demo date's payouts were made.
async fn download_all(
    w: &Workspace,
    actor: &Actor,
    sandbox: &paydesk_sandbox::SandboxHandle,
    first: NaiveDate,
    date: NaiveDate,
) -> Result<(), ServiceError> {
    let paying: Vec<&Account> = w
        .config
        .accounts
        .iter()
        .filter(|a| {
            w.config
                .bank_accounts
                .iter()
                .any(|b| b.accounts.contains(&a.name))
        })
        .collect();
    let endpoint = SandboxEndpoint::of(sandbox);
    for account in paying {
        let adapter = crate::connect::build(endpoint.demo_config(w, account)?)?;
        let mut day = first;
        while day <= date.succ_opt().unwrap_or(date) {
            crate::settlement::download::download_fund_flows_with(
                w,
                actor,
                adapter.as_ref(),
                account,
                day,
            )
            .await?;
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
    }
    Ok(())
}

/// Generates, writes and imports the bank statement of `ba`, then settles it as of `date`.
async fn bank_side(
    w: &Workspace,
    actor: &Actor,
    ba: &BankAccount,
    seed: u64,
    first: NaiveDate,
    date: NaiveDate,
) -> Result<DemoSettlement, ServiceError> {
    let stored =
        w.db.payouts_until(&ba.accounts, ba.calendar.add(date, ba.days_before))
            .await?;
    let payouts: Vec<_> = stored.into_iter().map(|p| p.payout).collect();
    let cny = ba.currency == Currency::CNY;
    let account_id = if cny {
        "755912345610101".to_string()
    } else {
        "US64SVBK00000012345678".to_string()
    };
    let major = |n: i64| n * 10_i64.pow(u32::from(ba.currency.exponent()));
    let params = BankGenParams {
        seed: 20_261_207 + seed,
        currency: ba.currency,
        account_id: account_id.clone(),
        from: first,
        to: date,
        opening: major(if cny { 250_000 } else { 40_000 }),
        // The CNY account shows the batch, the missing payout and the unknown credit; the
        // USD account the short credit and the unlisted charge.
        batch_two: cny,
        drop_one: cny,
        unknown_credit: cny.then(|| major(8_888)),
        short_by: (!cny).then(|| major(15)),
        unlisted_charge: (!cny).then(|| major(25)),
    };
    let generated = bank_statement(&payouts, &params);
    let dir = w.dir.join("bank");
    create_private_dir_all(&dir)
        .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let (name, bytes) = if cny {
        let bytes =
            paydesk_providers::bank::write_bank_xlsx(&generated.statement, "上海示例商贸有限公司")
                .map_err(|e| ServiceError::Io(e.to_string()))?;
        (format!("{}-{first}-to-{date}.xlsx", ba.name), bytes)
    } else {
        let xml = paydesk_providers::bank::write_camt053(&generated.statement, &account_id);
        (
            format!("{}-{first}-to-{date}.camt053.xml", ba.name),
            xml.into_bytes(),
        )
    };
    let path = dir.join(&name);
    // The statement is the demo's own: rewritten on every run, like its reports.
    replace_private(&path, &bytes)
        .map_err(|e| ServiceError::Io(format!("cannot write {}: {e}", path.display())))?;
    crate::settlement::import_bank(w, actor, &ba.name, &path, None).await?;
    let report = crate::settlement::settle(w, actor, &ba.name, date, false).await?;
    Ok(DemoSettlement {
        bank_account: ba.name.clone(),
        bank_file: path.display().to_string(),
        payouts: report.payouts.len() as u64,
        bank_lines: report.bank_lines,
        links: report.links.len() as u64,
        suggestions: report.suggestions.len() as u64,
        counts: report.counts.clone(),
        arrivals: report.arrivals.clone(),
        planted: generated.planted,
    })
}
