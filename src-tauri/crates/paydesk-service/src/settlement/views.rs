//! Read-only views the desktop's Settlements screen needs beside the run's report: one
//! payout with the movements it settles and the bank lines its links explain it with.

use crate::context::auth::require;
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::settlement::FundFlow;
use paydesk_core::{Actor, Permission};
use paydesk_store::settlement::{LinkState, StoredBankLine, StoredLink, StoredPayout};
use serde::Serialize;

/// A payout with everything a reviewer checks it against.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutDetail {
    pub payout: StoredPayout,
    /// The movements it settles (Stripe automatic payouts name them); empty for manual
    /// payouts and Alipay/WeChat withdrawals, which take the balance as a whole.
    pub flows: Vec<FundFlow>,
    /// Links and suggestions that hold it (rejected ones left out), oldest first.
    pub links: Vec<StoredLink>,
    /// The bank lines of those links, in link order.
    pub bank_lines: Vec<StoredBankLine>,
}

/// One payout by its stored id, with its movements, links and bank lines.
pub async fn show_payout(
    w: &Workspace,
    actor: &Actor,
    id: i64,
) -> Result<PayoutDetail, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("payout {id}"),
    )
    .await?;
    let payout =
        w.db.payouts_by_ids(&[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::NotFound(format!("no payout {id}")))?;
    let flows =
        w.db.fund_flows_of_payout(&payout.payout.account, &payout.payout.payout_id)
            .await?;
    let mut links = Vec::new();
    // The bank account it pays into; a payout of an account no bank account lists has none.
    if let Some(ba) = w
        .config
        .bank_accounts
        .iter()
        .find(|b| b.accounts.contains(&payout.payout.account))
    {
        links =
            w.db.settlement_links(
                &ba.name,
                &[LinkState::Booked, LinkState::Suggested, LinkState::Accepted],
            )
            .await?
            .into_iter()
            .filter(|l| l.payout_ids.contains(&id))
            .collect();
    }
    let mut line_ids: Vec<i64> = Vec::new();
    for l in &links {
        for b in &l.bank_line_ids {
            if !line_ids.contains(b) {
                line_ids.push(*b);
            }
        }
    }
    let bank_lines = w.db.bank_lines_by_ids(&line_ids).await?;
    Ok(PayoutDetail {
        payout,
        flows,
        links,
        bank_lines,
    })
}
