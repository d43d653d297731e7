//! Saving a statement and its run in one transaction, as a reconciliation does: what goes in
//! reads back unchanged, identically on SQLite (multi-row INSERTs) and PostgreSQL (COPY),
//! and a save that fails part-way leaves nothing behind.

mod common;

use common::*;
use paydesk_core::{
    BillDate, DiscrepancyFilter, DiscrepancyRecord, HistoryEntry, MatchRule, OutcomeClass,
    Provider, StatementLine,
};
use paydesk_store::{
    AppDb, CarryOverCloses, DiscrepancySort, NewDiscrepancy, OutcomeRow, RunLock, RunRecord,
    StatementRecord, StoreError, SummaryRow,
};
use std::time::Duration;

db_tests!(failed_save_leaves_nothing, line_and_outcome_references_hold);

const ACC: &str = "alipay-main";

/// Text COPY's format must escape (tab, newline, carriage return, backslash) or tell apart
/// from NULL (`\N`, the empty string).
const AWKWARD: [&str; 7] = [
    "tab\there",
    "line\nbreak\r\n",
    "back\\slash \\t",
    "\\N",
    "",
    "中文 \"quoted\" 'single'; --",
    "trailing\\",
];

fn awkward(i: u64) -> &'static str {
    AWKWARD[(i % AWKWARD.len() as u64) as usize]
}

/// Statement lines with awkward text, NULLs, and the columns that are stored only when they
/// differ from the statement's (provider, account, source file).
fn lines(n: u64) -> Vec<StatementLine> {
    (0..n)
        .map(|i| {
            let mut l = line(i);
            if i % 5 == 0 {
                l.provider_txn_id = format!("{}-{i}", awkward(i)).into();
            }
            if i % 9 == 1 {
                l.merchant_order_no = Some(awkward(i).into());
            }
            if i % 17 == 2 {
                l.provider_status = awkward(i).into();
            }
            if i % 23 == 3 {
                l.source.file = format!("other{}.csv", awkward(i)).into();
            }
            if i % 29 == 4 {
                l.account = "alipay-other".into();
                l.provider = Provider::Wechat;
            }
            if i % 31 == 5 {
                l.gross = i64::MIN;
                l.net = i64::MAX;
            }
            l
        })
        .collect()
}

/// `n` discrepancies, every fourth with its optional columns empty, awkward text in some.
fn discrepancies(d: BillDate, from: u64, n: u64, difference: i64) -> Vec<NewDiscrepancy> {
    (from..from + n)
        .map(|i| {
            let class = if i % 3 == 0 {
                OutcomeClass::OrderOnly
            } else {
                OutcomeClass::AmountMismatch
            };
            let mut dr = draft(&format!("order:SO-{i}"), class, difference + i as i64);
            dr.explanation = format!("{} {i}", awkward(i));
            if i % 4 == 0 {
                dr.provider_txn_id = None;
                dr.provider_amount = None;
                dr.provider_currency = None;
                dr.provider_time = None;
                dr.evidence = None;
            }
            if i % 7 == 1 {
                dr.order_no = Some(awkward(i).to_string());
            }
            nd(ACC, d, dr)
        })
        .collect()
}

fn outcomes(ds: &[NewDiscrepancy], matched: u64) -> Vec<OutcomeRow> {
    let mut v = outcomes_for(ds, matched);
    for o in v.iter_mut().step_by(11) {
        o.provider_txn_id = Some(awkward(o.seq).to_string());
        o.rule = MatchRule::ProviderTxnId;
    }
    for o in v.iter_mut().skip(3).step_by(13) {
        o.order_no = None;
        o.line_no = None;
    }
    v
}

async fn lock(db: &AppDb, d: BillDate, who: &str) -> RunLock {
    db.try_lock_run(ACC, d, who, Duration::from_secs(600))
        .await
        .expect("lock")
}

/// Everything a save wrote, as the app reads it back (times the save took from the clock
/// blanked, so that two databases can be compared).
#[derive(Debug, PartialEq)]
struct Snapshot {
    statements: Vec<StatementRecord>,
    lines: Vec<Vec<StatementLine>>,
    runs: Vec<RunRecord>,
    outcomes: Vec<Vec<OutcomeRow>>,
    discrepancies: Vec<DiscrepancyRecord>,
    history: Vec<Vec<HistoryEntry>>,
    count: u64,
    open_count: u64,
    summary: Vec<SummaryRow>,
}

async fn snapshot(db: &AppDb, d: BillDate) -> Snapshot {
    let epoch = chrono::DateTime::UNIX_EPOCH;
    let mut statements = db.statements(ACC, d).await.expect("statements");
    let mut lines = Vec::new();
    for s in &mut statements {
        lines.push(db.statement_lines(s.id).await.expect("lines"));
        s.imported_at = epoch;
    }
    let runs = db.runs(Some(ACC), Some(d), 100).await.expect("runs");
    let mut outcomes = Vec::new();
    for r in &runs {
        outcomes.push(db.run_outcomes(r.id, u32::MAX, 0).await.expect("outcomes"));
    }
    let all = DiscrepancyFilter {
        account: Some(ACC.into()),
        include_gone: true,
        ..Default::default()
    };
    let mut discrepancies = db
        .list_discrepancies(&all, DiscrepancySort::DateAsc, 100_000, 0)
        .await
        .expect("list");
    let mut history = Vec::new();
    for r in &mut discrepancies {
        let mut h = db.discrepancy_history(r.id).await.expect("history");
        for e in &mut h {
            e.at = epoch;
        }
        history.push(h);
        r.created_at = epoch;
        r.updated_at = epoch;
    }
    let open = DiscrepancyFilter {
        account: Some(ACC.into()),
        states: vec![paydesk_core::ReviewState::Open],
        ..Default::default()
    };
    let mut summary = db.discrepancy_summary(&all).await.expect("summary");
    for s in &mut summary {
        s.overdue = 0;
    }
    Snapshot {
        statements,
        lines,
        runs,
        outcomes,
        discrepancies,
        history,
        count: db.count_discrepancies(&all).await.expect("count"),
        open_count: db.count_discrepancies(&open).await.expect("count open"),
        summary,
    }
}

/// Two runs of one day (the second changes, drops and adds discrepancies), saved the way a
/// reconciliation saves them; checks what reads back against what went in.
async fn two_runs(db: &AppDb) -> Snapshot {
    let d = date("2024-05-01");
    let first_lines = lines(5_000);
    let first_ds = discrepancies(d, 0, 300, 10);
    let first_outcomes = outcomes(&first_ds, 4_000);
    let l = lock(db, d, "amy@1").await;
    let (saved, run1) = db
        .save_statement_and_run(
            &l,
            &statement(ACC, d, "sha-1"),
            &first_lines,
            &new_run(ACC, d, 0, "amy"),
            &first_outcomes,
            &first_ds,
            &CarryOverCloses::default(),
        )
        .await
        .expect("first save");
    db.unlock_run(l).await.expect("unlock");
    assert_eq!(saved.line_count, 5_000);
    assert_eq!(
        db.statement_lines(saved.id).await.expect("lines"),
        first_lines
    );
    assert_eq!(
        db.run_outcomes(run1.id, u32::MAX, 0)
            .await
            .expect("outcomes"),
        first_outcomes
    );

    // Re-run on a changed file: the first 100 are gone, 100..200 changed, 300..350 new.
    let mut second_ds = discrepancies(d, 100, 100, 99);
    second_ds.extend(discrepancies(d, 200, 150, 10));
    let second_lines = lines(4_000);
    let second_outcomes = outcomes(&second_ds, 3_000);
    let l = lock(db, d, "bob@2").await;
    let (saved2, run2) = db
        .save_statement_and_run(
            &l,
            &statement(ACC, d, "sha-2"),
            &second_lines,
            &new_run(ACC, d, 0, "bob"),
            &second_outcomes,
            &second_ds,
            &CarryOverCloses::default(),
        )
        .await
        .expect("second save");
    db.unlock_run(l).await.expect("unlock");
    assert_eq!(saved2.superseded, Some(saved.id));
    assert_eq!(run2.statement_id, saved2.id);

    let snap = snapshot(db, d).await;
    assert_eq!(snap.lines, vec![second_lines, first_lines]);
    assert_eq!(snap.outcomes, vec![second_outcomes, first_outcomes]);
    assert_eq!(snap.discrepancies.len(), 350);
    assert_eq!(snap.count, 350);
    // Gone and unresolved: auto-resolved; the rest are open.
    assert_eq!(snap.open_count, 250);
    for (r, h) in snap.discrepancies.iter().zip(&snap.history) {
        let i: u64 = r
            .key
            .trim_start_matches("order:SO-")
            .parse()
            .expect("key number");
        let expected = if i < 100 {
            &first_ds[i as usize]
        } else {
            &second_ds[(i - 100) as usize]
        };
        let dr = &expected.draft;
        assert_eq!(
            (
                &r.order_no,
                &r.provider_txn_id,
                r.provider_amount,
                r.difference,
                &r.explanation,
                r.provider_time,
                r.evidence_line
            ),
            (
                &dr.order_no,
                &dr.provider_txn_id,
                dr.provider_amount,
                dr.difference,
                &dr.explanation,
                dr.provider_time,
                dr.evidence.as_ref().map(|e| e.line)
            ),
            "{}",
            r.key
        );
        assert_eq!(r.present, i >= 100, "{}", r.key);
        assert_eq!(r.first_run_id, if i < 300 { run1.id } else { run2.id });
        assert_eq!(r.last_run_id, if i < 100 { run1.id } else { run2.id });
        assert_eq!(h[0].field, "presence", "{}", r.key);
        let fields: Vec<&str> = h.iter().map(|e| e.field.as_str()).collect();
        let expected_fields: &[&str] = match i {
            0..=99 => &["presence", "presence", "state", "resolution"],
            100..=199 => &["presence", "difference", "provider_amount"],
            _ => &["presence"],
        };
        // Drafts without a provider amount change only their difference.
        if (100..200).contains(&i) && dr.provider_amount.is_none() {
            assert_eq!(fields, ["presence", "difference"], "{}", r.key);
        } else {
            assert_eq!(fields, expected_fields, "{}", r.key);
        }
    }
    snap
}

/// What a save through PostgreSQL's COPY path reads back is what the same save through
/// SQLite's INSERT path reads back: lines, outcomes, discrepancies, history and counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_save_reads_back_the_same_on_both_backends() {
    let mut snapshots = Vec::new();
    for t in paydesk_testkit::db::backends("bulk.db", "paydesk_bulk").await {
        let db = AppDb::open(t.url()).await.expect("open");
        snapshots.push(two_runs(&db).await);
        db.close().await;
        t.drop_db().await;
    }
    if let [sqlite, pg] = snapshots.as_slice() {
        assert_eq!(sqlite.statements, pg.statements);
        assert_eq!(sqlite.lines, pg.lines);
        assert_eq!(sqlite.runs, pg.runs);
        assert_eq!(sqlite.outcomes, pg.outcomes);
        assert_eq!(sqlite.discrepancies, pg.discrepancies);
        assert_eq!(sqlite.history, pg.history);
        assert_eq!(sqlite, pg);
    }
}

/// A save that fails — the run lock lost before it, a bad discrepancy after the lines were
/// written, a constraint broken in the middle of the outcomes — leaves the database as it
/// was, and the next save works.
async fn failed_save_leaves_nothing(url: String) {
    let db = AppDb::open(&url).await.expect("open");
    let d = date("2024-05-01");
    let ds = discrepancies(d, 0, 40, 5);
    let l = lock(&db, d, "amy@1").await;
    db.save_statement_and_run(
        &l,
        &statement(ACC, d, "sha-1"),
        &lines(500),
        &new_run(ACC, d, 0, "amy"),
        &outcomes(&ds, 400),
        &ds,
        &CarryOverCloses::default(),
    )
    .await
    .expect("first save");
    db.unlock_run(l).await.expect("unlock");
    let before = snapshot(&db, d).await;

    let changed = discrepancies(d, 20, 60, 7);
    let save = |l: RunLock, ds: Vec<NewDiscrepancy>, outcomes: Vec<OutcomeRow>| {
        let db = db.clone();
        async move {
            db.save_statement_and_run(
                &l,
                &statement(ACC, d, "sha-2"),
                &lines(3_000),
                &new_run(ACC, d, 0, "bob"),
                &outcomes,
                &ds,
                &CarryOverCloses::default(),
            )
            .await
        }
    };

    // The lock was taken over by another run before the save.
    let lost = lock(&db, d, "bob@2").await;
    db.unlock_run(lost.clone()).await.expect("unlock");
    let other = lock(&db, d, "carol@3").await;
    let res = save(lost, changed.clone(), outcomes(&changed, 2_000)).await;
    assert!(
        matches!(res, Err(StoreError::LockNotHeld { .. })),
        "{res:?}"
    );
    assert_eq!(snapshot(&db, d).await, before);
    db.unlock_run(other).await.expect("unlock");

    // A discrepancy of another day, found after the statement and its lines were written.
    let l = lock(&db, d, "bob@2").await;
    let mut bad = changed.clone();
    bad.push(nd(
        ACC,
        date("2024-05-02"),
        draft("order:SO-X", OutcomeClass::OrderOnly, 1),
    ));
    let res = save(l.clone(), bad, outcomes(&changed, 2_000)).await;
    assert!(matches!(res, Err(StoreError::Invalid { .. })), "{res:?}");
    assert_eq!(snapshot(&db, d).await, before);

    // Two outcomes with one seq: the outcomes' primary key fails at the end of their rows.
    let mut dup = outcomes(&changed, 2_000);
    let last = dup.last().cloned().expect("outcomes");
    dup.push(last);
    let res = save(l.clone(), changed.clone(), dup).await;
    assert!(matches!(res, Err(StoreError::Db { .. })), "{res:?}");
    assert_eq!(snapshot(&db, d).await, before);

    // The same connection pool saves the next run in full.
    let (saved, run) = save(l.clone(), changed.clone(), outcomes(&changed, 2_000))
        .await
        .expect("save after failures");
    db.unlock_run(l).await.expect("unlock");
    assert_eq!(
        db.statement_lines(saved.id).await.expect("lines"),
        lines(3_000)
    );
    assert_eq!(
        db.run_outcomes(run.id, u32::MAX, 0)
            .await
            .expect("outcomes"),
        outcomes(&changed, 2_000)
    );
    let after = snapshot(&db, d).await;
    assert_eq!(after.count, 80);
    assert_eq!(after.statements.len(), 2);
    assert_eq!(after.runs.len(), 2);
}

/// Lines need their statement and outcomes their run, and neither parent can go while it has
/// them (SQLite: foreign keys; PostgreSQL: per-statement checks since migration 0009).
async fn line_and_outcome_references_hold(url: String) {
    let db = AppDb::open(&url).await.expect("open");
    let d = date("2024-05-01");
    let old = db
        .save_statement(&statement(ACC, d, "sha-1"), &lines(10))
        .await
        .expect("statement");
    let current = db
        .save_statement(&statement(ACC, d, "sha-2"), &lines(5))
        .await
        .expect("statement");
    let l = lock(&db, d, "amy@1").await;
    let run = db
        .save_run(
            &l,
            &new_run(ACC, d, current.id, "amy"),
            &outcomes(&[], 5),
            &[],
            &CarryOverCloses::default(),
        )
        .await
        .expect("run");
    let (st, r) = (old.id, run.id);
    let refused = [
        format!("DELETE FROM statements WHERE id = {st}"),
        format!("UPDATE statements SET id = 999 WHERE id = {st}"),
        format!("DELETE FROM runs WHERE id = {r}"),
        format!("UPDATE statement_lines SET statement_id = 999 WHERE statement_id = {st}"),
        format!("UPDATE run_outcomes SET run_id = 999 WHERE run_id = {r}"),
        "INSERT INTO statement_lines (statement_id, seq, provider_txn_id, kind, gross, \
         fee_milli, net, currency, provider_time, provider_status, source_line) \
         VALUES (999, 0, 't', 'payment', 1, 0, 1, 'CNY', 0, 'ok', 1)"
            .to_string(),
        "INSERT INTO run_outcomes (run_id, seq, class, rule) VALUES (999, 0, 'matched', 'x')"
            .to_string(),
    ];
    for sql in &refused {
        assert!(
            sqlx::query(sql).execute(db.pool()).await.is_err(),
            "not refused: {sql}"
        );
    }
    assert_eq!(db.statement_lines(st).await.expect("lines"), lines(10));
    assert_eq!(
        db.run_outcomes(r, 100, 0).await.expect("outcomes"),
        outcomes(&[], 5)
    );
    // Without its lines the superseded statement can go.
    for sql in [
        format!("DELETE FROM statement_lines WHERE statement_id = {st}"),
        format!("DELETE FROM statements WHERE id = {st}"),
    ] {
        sqlx::query(&sql).execute(db.pool()).await.expect(&sql);
    }
}
