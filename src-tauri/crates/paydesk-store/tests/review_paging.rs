//! Paging the review table (issue 15): every block of every sort and filter, fetched in any
//! order, is exactly the slice of one unpaged ORDER BY (ties broken by id), and the count is
//! the number of matching rows, on SQLite and PostgreSQL.

mod common;

use common::*;
use paydesk_core::{DiscrepancyFilter, OutcomeClass, ReviewChange, ReviewState};
use paydesk_store::{AppDb, CarryOverCloses, DiscrepancySort, NewDiscrepancy};
use sqlx::Row;
use std::cmp::Reverse;
use std::time::Duration;

db_tests!(blocks_equal_one_ordered_query);

const ACCOUNTS: [&str; 2] = ["alipay-main", "alipay-hk"];

/// The columns the filters and sorts look at, read straight from the table.
#[derive(Debug, Clone)]
struct Seen {
    id: i64,
    account: String,
    bill_date: String,
    class: String,
    state: String,
    abs_difference: i64,
    due_at: i64,
    present: bool,
    assignee: Option<String>,
    texts: Vec<String>,
}

async fn save_day(db: &AppDb, account: &str, day: usize, n: usize) {
    let d = date(&format!("2024-05-0{}", day + 1));
    let classes = [
        OutcomeClass::OrderOnly,
        OutcomeClass::ProviderOnly,
        OutcomeClass::AmountMismatch,
    ];
    let ds: Vec<NewDiscrepancy> = (0..n)
        .map(|i| {
            let key = if i % 9 == 4 {
                format!("refund:RF-{account}-{day}-{i}")
            } else {
                format!("order:SO-{account}-{day}-{i}")
            };
            // Many ties in amount and due time, some zero differences.
            let diff = ((i as i64 * 37) % 41) - 20;
            let mut x = nd(account, d, draft(&key, classes[(i * 7 + day) % 3], diff));
            x.due_at = at("2024-06-01T00:00:00Z") + chrono::Duration::hours((i % 13) as i64);
            x
        })
        .collect();
    let sha = uuid::Uuid::new_v4().to_string();
    let st = db
        .save_statement(&statement(account, d, &sha), &[line(1)])
        .await
        .expect("save statement");
    let l = db
        .try_lock_run(account, d, "tester@pid1", Duration::from_secs(600))
        .await
        .expect("lock");
    db.save_run(
        &l,
        &new_run(account, d, st.id, "amy"),
        &outcomes_for(&ds, 1),
        &ds,
        &CarryOverCloses::default(),
    )
    .await
    .expect("save run");
    db.unlock_run(l).await.expect("unlock");
}

async fn all_rows(db: &AppDb) -> Vec<Seen> {
    let rows = sqlx::query(
        "SELECT id, account, bill_date, class, state, abs_difference, due_at, present, \
         assignee, order_no, provider_txn_id, refund_no FROM discrepancies",
    )
    .fetch_all(db.pool())
    .await
    .expect("read all");
    rows.iter()
        .map(|r| Seen {
            id: r.get("id"),
            account: r.get("account"),
            bill_date: r.get("bill_date"),
            class: r.get("class"),
            state: r.get("state"),
            abs_difference: r.get("abs_difference"),
            due_at: r.get("due_at"),
            present: r.get::<i64, _>("present") == 1,
            assignee: r.get("assignee"),
            texts: ["order_no", "provider_txn_id", "refund_no"]
                .iter()
                .filter_map(|c| r.get::<Option<String>, _>(*c))
                .map(|t| t.to_lowercase())
                .collect(),
        })
        .collect()
}

fn matches(r: &Seen, f: &DiscrepancyFilter) -> bool {
    f.account.as_ref().is_none_or(|a| &r.account == a)
        && f.date_from.is_none_or(|d| r.bill_date >= d.to_string())
        && f.date_to.is_none_or(|d| r.bill_date <= d.to_string())
        && (f.classes.is_empty() || f.classes.iter().any(|c| c.as_str() == r.class))
        && (f.states.is_empty() || f.states.iter().any(|s| s.as_str() == r.state))
        && f.assignee
            .as_ref()
            .is_none_or(|a| r.assignee.as_ref() == Some(a))
        && f.min_abs_difference.is_none_or(|m| r.abs_difference >= m)
        && f.text.as_ref().is_none_or(|t| {
            let t = t.trim().to_lowercase();
            r.texts.iter().any(|x| x.contains(&t))
        })
        && (f.include_gone || r.present)
}

fn state_rank(s: &str) -> i64 {
    match s {
        "open" => 0,
        "investigating" => 1,
        _ => 2,
    }
}

/// The reference: filter and sort in Rust, ties broken by id.
fn expected(rows: &[Seen], f: &DiscrepancyFilter, sort: DiscrepancySort) -> Vec<i64> {
    let mut v: Vec<&Seen> = rows.iter().filter(|r| matches(r, f)).collect();
    match sort {
        DiscrepancySort::DateDesc => v.sort_by_key(|r| Reverse((r.bill_date.clone(), r.id))),
        DiscrepancySort::DateAsc => v.sort_by_key(|r| (r.bill_date.clone(), r.id)),
        DiscrepancySort::AmountDesc => v.sort_by_key(|r| Reverse((r.abs_difference, r.id))),
        DiscrepancySort::AmountAsc => v.sort_by_key(|r| (r.abs_difference, r.id)),
        DiscrepancySort::Class => v.sort_by_key(|r| (r.class.clone(), r.id)),
        DiscrepancySort::State => v.sort_by_key(|r| (state_rank(&r.state), r.id)),
        DiscrepancySort::DueAsc => v.sort_by_key(|r| (r.due_at, r.id)),
    }
    v.iter().map(|r| r.id).collect()
}

/// The same list in one query without paging, in SQL (for the filter-free case).
async fn unpaged_sql(db: &AppDb, sort: DiscrepancySort) -> Vec<i64> {
    let order = match sort {
        DiscrepancySort::DateDesc => "bill_date DESC, id DESC",
        DiscrepancySort::DateAsc => "bill_date ASC, id ASC",
        DiscrepancySort::AmountDesc => "abs_difference DESC, id DESC",
        DiscrepancySort::AmountAsc => "abs_difference ASC, id ASC",
        DiscrepancySort::Class => "class ASC, id ASC",
        DiscrepancySort::State => {
            "CASE state WHEN 'open' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END ASC, id ASC"
        }
        DiscrepancySort::DueAsc => "due_at ASC, id ASC",
    };
    sqlx::query(&format!(
        "SELECT id FROM discrepancies WHERE present = 1 ORDER BY {order}"
    ))
    .fetch_all(db.pool())
    .await
    .expect("unpaged")
    .iter()
    .map(|r| r.get::<i64, _>("id"))
    .collect()
}

/// The block offsets in the order they are fetched: last, first, middle, then the rest.
fn fetch_order(total: u64, block: u64) -> Vec<u64> {
    let blocks = total.div_ceil(block).max(1);
    let mut order = vec![(blocks - 1) * block, 0, (blocks / 2) * block];
    for b in (0..blocks).rev() {
        order.push(b * block);
    }
    let mut seen = std::collections::HashSet::new();
    order.retain(|o| seen.insert(*o));
    order
}

async fn blocks_equal_one_ordered_query(url: String) {
    let db = AppDb::open(&url).await.expect("open");
    for (ai, account) in ACCOUNTS.iter().enumerate() {
        for day in 0..3 {
            save_day(&db, account, day, 450 + 70 * day + 40 * ai).await;
        }
    }
    // Review work: through the API and straight in SQL (the counts follow either way).
    let n = db
        .bulk_update_discrepancies(
            &DiscrepancyFilter {
                classes: vec![OutcomeClass::AmountMismatch],
                date_from: Some(date("2024-05-02")),
                ..Default::default()
            },
            &ReviewChange {
                state: Some(ReviewState::Investigating),
                assignee: Some(Some("zoe".into())),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("bulk");
    assert!(n > 100, "{n}");
    for sql in [
        "UPDATE discrepancies SET state = 'resolved', resolution = 'written_off' WHERE id % 5 = 2",
        "UPDATE discrepancies SET state = 'investigating' WHERE id % 17 = 3",
        "UPDATE discrepancies SET present = 0 WHERE id % 11 = 3",
        "UPDATE discrepancies SET assignee = 'bob' WHERE id % 3 = 0",
    ] {
        sqlx::query(sql).execute(db.pool()).await.expect(sql);
    }
    let rows = all_rows(&db).await;
    assert!(rows.len() > 3000, "{}", rows.len());

    let filters = [
        DiscrepancyFilter::default(),
        DiscrepancyFilter {
            states: vec![ReviewState::Open, ReviewState::Investigating],
            ..Default::default()
        },
        DiscrepancyFilter {
            classes: vec![OutcomeClass::ProviderOnly],
            ..Default::default()
        },
        DiscrepancyFilter {
            classes: vec![OutcomeClass::ProviderOnly, OutcomeClass::AmountMismatch],
            states: vec![ReviewState::Open],
            account: Some("alipay-hk".into()),
            ..Default::default()
        },
        DiscrepancyFilter {
            include_gone: true,
            date_from: Some(date("2024-05-02")),
            date_to: Some(date("2024-05-02")),
            ..Default::default()
        },
        DiscrepancyFilter {
            assignee: Some("bob".into()),
            ..Default::default()
        },
        DiscrepancyFilter {
            min_abs_difference: Some(15),
            states: vec![ReviewState::Resolved],
            include_gone: true,
            ..Default::default()
        },
        // An indexed text search (ASCII, three characters or more).
        DiscrepancyFilter {
            text: Some("SO-alipay-main-1-".into()),
            ..Default::default()
        },
        // One matching every row through the index.
        DiscrepancyFilter {
            text: Some("txn-".into()),
            ..Default::default()
        },
        // Too short for the trigram index: scanned.
        DiscrepancyFilter {
            text: Some("7".into()),
            ..Default::default()
        },
        // A 'k' (the Kelvin sign folds to it): not the index, same answer.
        DiscrepancyFilter {
            text: Some("rf-alipay-hk".into()),
            states: vec![ReviewState::Open],
            ..Default::default()
        },
    ];
    for sort in DiscrepancySort::ALL {
        assert_eq!(
            unpaged_sql(&db, sort).await,
            expected(&rows, &DiscrepancyFilter::default(), sort),
            "{sort}"
        );
    }
    for f in &filters {
        let count = db.count_discrepancies(f).await.expect("count");
        for sort in DiscrepancySort::ALL {
            let want = expected(&rows, f, sort);
            assert_eq!(count, want.len() as u64, "count {f:?}");
            assert!(!want.is_empty(), "{f:?}");
            for block in [200u64, 97] {
                let mut got = std::collections::BTreeMap::new();
                for offset in fetch_order(count, block) {
                    let page = db
                        .list_discrepancies(f, sort, block as u32, offset)
                        .await
                        .expect("list");
                    got.insert(offset, page.into_iter().map(|r| r.id).collect::<Vec<_>>());
                }
                let joined: Vec<i64> = got.into_values().flatten().collect();
                assert_eq!(joined, want, "{sort} block {block} {f:?}");
            }
            // Past the end, and a block reaching over it.
            let past = db
                .list_discrepancies(f, sort, 200, count + 5)
                .await
                .expect("past");
            assert!(past.is_empty());
            let tail = db
                .list_discrepancies(f, sort, 200, count.saturating_sub(3))
                .await
                .expect("tail");
            let tail: Vec<i64> = tail.into_iter().map(|r| r.id).collect();
            assert_eq!(tail, want[want.len().saturating_sub(3)..], "{sort} {f:?}");
        }
    }
    // The counts table matches the rows per group.
    let groups = sqlx::query(
        "SELECT COUNT(*) AS n FROM discrepancy_counts c WHERE n <> (SELECT COUNT(*) FROM \
         discrepancies d WHERE d.account = c.account AND d.provider = c.provider \
         AND d.bill_date = c.bill_date AND d.class = c.class AND d.state = c.state \
         AND d.present = c.present)",
    )
    .fetch_one(db.pool())
    .await
    .expect("counts");
    assert_eq!(groups.get::<i64, _>("n"), 0);
}
