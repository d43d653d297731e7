//! How fast the discrepancy table's server side answers on a large workspace: the count and
//! one 200-row block at the start, middle and end, per sort and with filters, as the desktop
//! app asks while someone scrolls. Prints milliseconds per request.
//!
//! `cargo run --release -p paydesk-service --example review_bench -- WORKSPACE`
//! (`tests/bin/bench-review.sh` builds a workspace with 100,000 discrepancies first.)

#![allow(clippy::float_arithmetic)]

use paydesk_core::{Actor, DiscrepancyFilter, OutcomeClass, ReviewState, Role};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::review;
use paydesk_store::DiscrepancySort;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: review_bench WORKSPACE")?;
    let w = Workspace::open(std::path::Path::new(&dir)).await?;
    let actor = Actor::new("bench", [Role::Finance]);
    let filters = [
        ("all present", DiscrepancyFilter::default()),
        (
            "open+investigating",
            DiscrepancyFilter {
                states: vec![ReviewState::Open, ReviewState::Investigating],
                ..Default::default()
            },
        ),
        (
            "class provider_only",
            DiscrepancyFilter {
                classes: vec![OutcomeClass::ProviderOnly],
                ..Default::default()
            },
        ),
        (
            "text search",
            DiscrepancyFilter {
                text: Some("0000042".into()),
                ..Default::default()
            },
        ),
    ];
    println!(
        "{:<20} {:<12} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "filter", "sort", "total", "count_ms", "first_ms", "middle_ms", "last_ms"
    );
    for (name, filter) in &filters {
        for sort in [
            DiscrepancySort::DateDesc,
            DiscrepancySort::AmountDesc,
            DiscrepancySort::DueAsc,
        ] {
            let t = Instant::now();
            let total = review::count(&w, &actor, filter).await?;
            let count_ms = t.elapsed().as_secs_f64() * 1000.0;
            let mut block_ms = Vec::new();
            for offset in [0, total / 2, total.saturating_sub(200)] {
                let t = Instant::now();
                let page = review::list(&w, &actor, filter, sort, 200, offset).await?;
                block_ms.push(t.elapsed().as_secs_f64() * 1000.0);
                assert!(page.discrepancies.len() as u64 <= 200);
            }
            println!(
                "{:<20} {:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                name,
                format!("{sort:?}"),
                total,
                count_ms,
                block_ms[0],
                block_ms[1],
                block_ms[2]
            );
        }
    }
    Ok(())
}
