//! The demo merchant's history: what the sandbox serves and the demo loads into the order
//! mirror, generated deterministically for each day.

use crate::context::workspace::Workspace;
use crate::sandbox::generate::{self, GenAccount, GenerateParams, GeneratedDay, Mix};
use paydesk_core::BillDate;

/// Yesterday in Beijing: the day finance staff reconcile each morning.
pub fn default_demo_date() -> BillDate {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    BillDate(today).pred()
}

/// Orders per demo day: small enough to read, large enough for every class.
const DEMO_ORDERS_PER_DAY: u64 = 45;

/// The demo data for one day: the generator's output for the workspace's accounts.
pub fn demo_day(w: &Workspace, date: BillDate) -> GeneratedDay {
    let accounts = w
        .config
        .accounts
        .iter()
        .map(|a| GenAccount {
            name: a.name.clone(),
            provider: a.provider,
            currency: a.currency,
            timezone: a.timezone,
        })
        .collect();
    generate::generate(&GenerateParams {
        orders: DEMO_ORDERS_PER_DAY,
        date,
        seed: 20_261_122,
        mix: Mix::demo(),
        accounts,
    })
}
