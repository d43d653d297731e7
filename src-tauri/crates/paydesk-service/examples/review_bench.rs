//! How fast the discrepancy table's server side answers on a large workspace: the count and
//! one 200-row block at the start, middle and end, per sort and with filters, as the desktop
//! app asks while someone scrolls (blocks fetched last, first, middle: jumps, not a scroll
//! from the top). Prints milliseconds per request and the slowest of each row.
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
    println!("app database: {:?}", w.db.backend());
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
            "open+inv, 长款",
            DiscrepancyFilter {
                states: vec![ReviewState::Open, ReviewState::Investigating],
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
        "{:<20} {:<12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "filter", "sort", "total", "count_ms", "first_ms", "middle_ms", "last_ms", "max_ms"
    );
    let mut worst: f64 = 0.0;
    for (name, filter) in &filters {
        for sort in DiscrepancySort::ALL {
            let t = Instant::now();
            let total = review::count(&w, &actor, filter).await?;
            let count_ms = t.elapsed().as_secs_f64() * 1000.0;
            // Blocks start at multiples of 200, as the table asks; fetched last, first, middle.
            let last = total.saturating_sub(1) / 200 * 200;
            let middle = total / 2 / 200 * 200;
            let mut block_ms = [0.0; 3];
            for (slot, offset) in [(2, last), (0, 0), (1, middle)] {
                let t = Instant::now();
                let page = review::list(&w, &actor, filter, sort, 200, offset).await?;
                block_ms[slot] = t.elapsed().as_secs_f64() * 1000.0;
                let want = total.saturating_sub(offset).min(200);
                if page.discrepancies.len() as u64 != want {
                    return Err(format!(
                        "{name} {sort}: block at {offset} has {} rows, expected {want}",
                        page.discrepancies.len()
                    )
                    .into());
                }
            }
            let max = block_ms.iter().copied().fold(count_ms, f64::max);
            worst = worst.max(max);
            println!(
                "{:<20} {:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                name,
                sort.as_str(),
                total,
                count_ms,
                block_ms[0],
                block_ms[1],
                block_ms[2],
                max
            );
        }
    }
    println!("slowest request: {worst:.1} ms");
    Ok(())
}
