//! How fast the discrepancy table's server side answers on a large workspace: the count and
//! 200-row blocks at the start, middle and end and at other deep positions (jumps: the
//! scrollbar dragged), and the blocks right after and before a deep one by cursor (scrolling
//! on), per sort and with filters, as the desktop app asks. Prints milliseconds per request,
//! the slowest of each row, and separately the first deep jump of a view, which builds the
//! position anchors.
//!
//! `cargo run --release -p paydesk-service --example review_bench -- WORKSPACE`
//! (`tests/bin/bench-review.sh` builds a workspace with 100,000 discrepancies first.)

#![allow(clippy::float_arithmetic)]

use paydesk_core::{Actor, DiscrepancyFilter, OutcomeClass, ReviewState, Role};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::review;
use paydesk_store::{DiscrepancySort, PageAt};
use std::time::Instant;

/// One 200-row block and how long it took (ms).
async fn timed(
    w: &Workspace,
    actor: &Actor,
    filter: &DiscrepancyFilter,
    sort: DiscrepancySort,
    at: PageAt,
) -> Result<(f64, review::DiscrepancyPage), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let page = review::list_at(w, actor, filter, sort, 200, &at).await?;
    Ok((t.elapsed().as_secs_f64() * 1000.0, page))
}

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
        "{:<20} {:<12} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "filter",
        "sort",
        "total",
        "count_ms",
        "first_ms",
        "middle_ms",
        "last_ms",
        "jump_ms",
        "next_ms",
        "prev_ms",
        "max_ms",
        "build_ms"
    );
    let mut worst: f64 = 0.0;
    let mut worst_build: f64 = 0.0;
    for (name, filter) in &filters {
        for sort in DiscrepancySort::ALL {
            let t = Instant::now();
            let total = review::count(&w, &actor, filter).await?;
            let count_ms = t.elapsed().as_secs_f64() * 1000.0;
            // Blocks start at multiples of 200, as the table asks. Fetched: last, first, one
            // deep jump (at 3/10; builds the position anchors when the view needs them and
            // nothing built them yet: build_ms, the first-request cost), the middle, the
            // median of five more deep jumps (jump_ms), then the blocks right after and right
            // before the middle one by cursor (scrolling on from it: next_ms, prev_ms).
            let block = |fraction: f64| (total as f64 * fraction) as u64 / 200 * 200;
            let last = total.saturating_sub(1) / 200 * 200;
            // A block from `offset` has this many rows (before the middle: `middle` at most).
            let rows_from = |offset: u64| total.saturating_sub(offset).min(200);
            let check_n = |page: &review::DiscrepancyPage, want: u64| -> Result<(), String> {
                if page.discrepancies.len() as u64 == want {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} {sort}: a block has {} rows, expected {want}",
                        page.discrepancies.len()
                    ))
                }
            };
            let check =
                |page: &review::DiscrepancyPage, offset: u64| check_n(page, rows_from(offset));
            let at = |offset: u64| timed(&w, &actor, filter, sort, PageAt::Offset(offset));
            let (last_ms, page) = at(last).await?;
            check(&page, last)?;
            let (first_ms, page) = at(0).await?;
            check(&page, 0)?;
            let (build_ms, page) = at(block(0.3)).await?;
            check(&page, block(0.3))?;
            let middle = block(0.5);
            let (middle_ms, mid) = at(middle).await?;
            check(&mid, middle)?;
            let mut jumps = Vec::new();
            for fraction in [0.1, 0.37, 0.62, 0.77, 0.9] {
                let (t, page) = at(block(fraction)).await?;
                jumps.push(t);
                check(&page, block(fraction))?;
            }
            jumps.sort_by(f64::total_cmp);
            let jump_ms = jumps[jumps.len() / 2];
            let mut by_cursor = [0.0; 2];
            if let (Some(first), Some(last)) = (mid.first.clone(), mid.last.clone()) {
                let (t, page) = timed(&w, &actor, filter, sort, PageAt::After(last)).await?;
                by_cursor[0] = t;
                check(&page, middle + 200)?;
                let (t, page) = timed(&w, &actor, filter, sort, PageAt::Before(first)).await?;
                by_cursor[1] = t;
                check_n(&page, middle.min(200))?;
            }
            let max = [
                first_ms,
                middle_ms,
                last_ms,
                jumps[jumps.len() - 1],
                by_cursor[0],
                by_cursor[1],
            ]
            .into_iter()
            .fold(count_ms, f64::max);
            worst = worst.max(max);
            worst_build = worst_build.max(build_ms);
            println!(
                "{:<20} {:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                name,
                sort.as_str(),
                total,
                count_ms,
                first_ms,
                middle_ms,
                last_ms,
                jump_ms,
                by_cursor[0],
                by_cursor[1],
                max,
                build_ms
            );
        }
    }
    println!("slowest request once anchors exist: {worst:.1} ms");
    println!("slowest first deep jump of a view (builds anchors): {worst_build:.1} ms");
    Ok(())
}
