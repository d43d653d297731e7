//! Paging the review table (issue 15): every block of every sort and filter, fetched in any
//! order, is exactly the slice of one unpaged ORDER BY (ties broken by id), and the count is
//! the number of matching rows, on SQLite and PostgreSQL.

mod common;

use common::*;
use paydesk_core::{DiscrepancyFilter, OutcomeClass, ReviewChange, ReviewState};
use paydesk_store::{
    AppDb, CarryOverCloses, DiscrepancySort, NewDiscrepancy, PageAt, PageCursor, SortKey,
};
use sqlx::Row;
use std::cmp::Reverse;
use std::time::Duration;

db_tests!(
    blocks_equal_one_ordered_query,
    cursor_and_anchor_blocks_equal_offset_blocks
);

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
/// The views both tests walk first: none, by state, by class, and a combination with an
/// account.
fn common_filters() -> Vec<DiscrepancyFilter> {
    vec![
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
    ]
}

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
        common_filters(),
        vec![
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
        ],
    ]
    .concat();
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

/// Anchors this close together put a few thousand rows through every way of reaching a block.
const EVERY: u64 = 97;

async fn ids_at(
    db: &AppDb,
    f: &DiscrepancyFilter,
    sort: DiscrepancySort,
    limit: u32,
    at: PageAt,
) -> (Vec<i64>, Option<PageCursor>, Option<PageCursor>) {
    let b = db
        .list_discrepancy_block(f, sort, limit, &at)
        .await
        .expect("block");
    (b.rows.iter().map(|r| r.id).collect(), b.first, b.last)
}

/// Jumps (from either end, from anchors), scrolling down by `after` and up by `before`: every
/// block is the slice of the reference list at its position.
async fn check_blocks(db: &AppDb, rows: &[Seen], f: &DiscrepancyFilter, sort: DiscrepancySort) {
    let want = expected(rows, f, sort);
    let n = want.len() as u64;
    let slice = |from: u64, len: u64| -> Vec<i64> {
        let a = from.min(n) as usize;
        let b = from.saturating_add(len).min(n) as usize;
        want[a..b].to_vec()
    };
    // Jumps: block starts and odd positions, deep ones through the anchors.
    let mut offsets: Vec<u64> = (0..n).step_by(200).collect();
    offsets.extend([
        1,
        EVERY - 1,
        EVERY,
        EVERY + 1,
        3 * EVERY + 48,
        n / 2,
        n / 2 + 49,
    ]);
    offsets.extend([
        n.saturating_sub(201),
        n.saturating_sub(EVERY + 3),
        n.saturating_sub(1),
        n,
        n + 7,
    ]);
    for offset in offsets {
        for limit in [200u32, 61] {
            let (got, first, last) = ids_at(db, f, sort, limit, PageAt::Offset(offset)).await;
            assert_eq!(
                got,
                slice(offset, u64::from(limit)),
                "jump {offset}+{limit} {sort} {f:?}"
            );
            assert_eq!(first.map(|c| c.id), got.first().copied());
            assert_eq!(last.map(|c| c.id), got.last().copied());
        }
    }
    // Scrolling down from the top and up from the bottom, one block after another.
    let mut down = Vec::new();
    let mut at = PageAt::Offset(0);
    loop {
        let (got, _, last) = ids_at(db, f, sort, 200, at).await;
        assert_eq!(
            got,
            slice(down.len() as u64, 200),
            "scroll down {sort} {f:?}"
        );
        down.extend(got);
        match last {
            Some(last) => at = PageAt::After(last),
            None => break,
        }
    }
    assert_eq!(down, want, "scrolled down {sort} {f:?}");
    let mut up: Vec<i64> = Vec::new();
    let mut at = PageAt::Offset(n.saturating_sub(150));
    loop {
        let (got, first, _) = ids_at(db, f, sort, 150, at).await;
        let end = n - up.len() as u64;
        let from = end.saturating_sub(150);
        assert_eq!(got, slice(from, end - from), "scroll up {sort} {f:?}");
        up.splice(0..0, got);
        match first {
            Some(first) => at = PageAt::Before(first),
            None => break,
        }
    }
    assert_eq!(up, want, "scrolled up {sort} {f:?}");
    // From a deep jump onwards, both ways.
    let mid = n / 2 / 200 * 200;
    let (_, first, last) = ids_at(db, f, sort, 200, PageAt::Offset(mid)).await;
    if let (Some(first), Some(last)) = (first, last) {
        let (after, _, _) = ids_at(db, f, sort, 200, PageAt::After(last)).await;
        assert_eq!(
            after,
            slice(mid + 200, 200),
            "after the middle {sort} {f:?}"
        );
        let (before, _, _) = ids_at(db, f, sort, 200, PageAt::Before(first)).await;
        assert_eq!(
            before,
            slice(mid.saturating_sub(200), mid.min(200)),
            "before the middle {sort} {f:?}"
        );
    }
}

async fn cursor_and_anchor_blocks_equal_offset_blocks(url: String) {
    let db = AppDb::open(&url)
        .await
        .expect("open")
        .with_review_anchors(EVERY);
    for (ai, account) in ACCOUNTS.iter().enumerate() {
        for day in 0..3 {
            save_day(&db, account, day, 450 + 70 * day + 40 * ai).await;
        }
    }
    for sql in [
        "UPDATE discrepancies SET state = 'resolved', resolution = 'written_off' WHERE id % 5 = 2",
        "UPDATE discrepancies SET state = 'investigating' WHERE id % 17 = 3",
        "UPDATE discrepancies SET present = 0 WHERE id % 11 = 3",
        "UPDATE discrepancies SET assignee = 'bob' WHERE id % 3 = 0",
    ] {
        sqlx::query(sql).execute(db.pool()).await.expect(sql);
    }
    let filters = [
        common_filters(),
        vec![
            // Not answered by discrepancy_counts: the anchors give the total.
            DiscrepancyFilter {
                assignee: Some("bob".into()),
                include_gone: true,
                ..Default::default()
            },
            DiscrepancyFilter {
                min_abs_difference: Some(6),
                ..Default::default()
            },
            // Narrow (the text index): by offset, and by cursor.
            DiscrepancyFilter {
                text: Some("SO-alipay-main-1-".into()),
                ..Default::default()
            },
        ],
    ]
    .concat();
    let rows = all_rows(&db).await;
    for (i, f) in filters.iter().enumerate() {
        for sort in DiscrepancySort::ALL {
            // Half the sorts with the anchors built ahead (as the desktop app does).
            if (sort as usize).is_multiple_of(2) {
                let n = expected(&rows, f, sort).len() as u64;
                let built = db.prepare_review_jumps(f, sort, n).await.expect("prepare");
                assert_eq!(built, f.text.is_none() && n > 2 * EVERY, "{i} {sort} {n}");
            }
            check_blocks(&db, &rows, f, sort).await;
        }
    }

    // A change invalidates the anchors: resolve rows through the API and in SQL, then jump
    // again (the cached anchors of before would land on the wrong rows).
    let before = db.review_version().await.expect("version");
    let n = db
        .bulk_update_discrepancies(
            &DiscrepancyFilter {
                classes: vec![OutcomeClass::ProviderOnly],
                states: vec![ReviewState::Open],
                date_to: Some(date("2024-05-02")),
                ..Default::default()
            },
            &ReviewChange {
                state: Some(ReviewState::Resolved),
                resolution: Some(paydesk_core::ResolutionKind::WrittenOff),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("bulk");
    assert!(n > 100, "{n}");
    let after_bulk = db.review_version().await.expect("version");
    assert!(after_bulk > before, "{before} -> {after_bulk}");
    sqlx::query("UPDATE discrepancies SET abs_difference = abs_difference + 3 WHERE id % 7 = 1")
        .execute(db.pool())
        .await
        .expect("amounts");
    assert!(db.review_version().await.expect("version") > after_bulk);
    let rows = all_rows(&db).await;
    for f in &filters[..3] {
        for sort in DiscrepancySort::ALL {
            check_blocks(&db, &rows, f, sort).await;
        }
    }

    // A cursor of another sort's kind is refused.
    let wrong = PageCursor {
        key: SortKey::Int(5),
        id: 1,
    };
    let err = db
        .list_discrepancy_block(
            &filters[0],
            DiscrepancySort::DateDesc,
            10,
            &PageAt::After(wrong),
        )
        .await
        .expect_err("text key");
    assert!(err.to_string().contains("cursor"), "{err}");
}
