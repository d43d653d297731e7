//! App database behaviour, on SQLite and PostgreSQL.

mod common;

use common::*;
use paydesk_core::{
    DiscrepancyFilter, OutcomeClass, Provider, ResolutionKind, ReviewChange, ReviewState,
};
use paydesk_store::{
    AppDb, CarryOverCloses, DiscrepancySort, LockOwner, RunLock, StoreError, RUN_LOCK_STALE_AFTER,
};
use std::time::Duration;

db_tests!(
    statements_save_unchanged_supersede,
    migration_checksum_mismatch_is_refused,
    run_lock_refuses_expires_and_races,
    run_lock_of_dead_pid_on_this_host_is_taken_over,
    run_lock_heartbeat_from_another_host,
    rerun_keeps_review_work,
    gone_discrepancies_auto_resolve_and_reopen,
    carry_overs_close_previous_day,
    filters_sort_paging_counts,
    text_search_folds_case_beyond_ascii,
    bulk_update_and_apply_all_or_nothing,
    runs_and_outcomes_listing,
);

const ACC: &str = "alipay-main";

async fn open(url: &str) -> AppDb {
    AppDb::open(url).await.expect("open app db")
}

async fn lock(db: &AppDb, d: paydesk_core::BillDate) -> RunLock {
    db.try_lock_run(ACC, d, "tester@pid1", Duration::from_secs(600))
        .await
        .expect("lock")
}

/// Saves a statement (fresh sha) and a run with the given discrepancies; returns the run id.
async fn run_with(
    db: &AppDb,
    d: paydesk_core::BillDate,
    by: &str,
    ds: &[paydesk_store::NewDiscrepancy],
    closes: &CarryOverCloses,
) -> i64 {
    let sha = uuid::Uuid::new_v4().to_string();
    let st = db
        .save_statement(&statement(ACC, d, &sha), &[line(1), line(2)])
        .await
        .expect("save statement");
    let l = lock(db, d).await;
    let rec = db
        .save_run(
            &l,
            &new_run(ACC, d, st.id, by),
            &outcomes_for(ds, 3),
            ds,
            closes,
        )
        .await
        .expect("save run");
    db.unlock_run(l).await.expect("unlock");
    rec.id
}

async fn by_key(
    db: &AppDb,
    d: paydesk_core::BillDate,
    key: &str,
) -> paydesk_core::DiscrepancyRecord {
    let all = db
        .list_discrepancies(
            &DiscrepancyFilter {
                account: Some(ACC.into()),
                date_from: Some(d),
                date_to: Some(d),
                include_gone: true,
                ..Default::default()
            },
            DiscrepancySort::DateAsc,
            1000,
            0,
        )
        .await
        .expect("list");
    all.into_iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no discrepancy {key}"))
}

async fn statements_save_unchanged_supersede(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let mut lines: Vec<_> = (0..50).map(line).collect();
    // Lines whose account / provider / source file differ from the statement's survive too.
    lines[3].account = "alipay-other".into();
    lines[4].provider = Provider::Wechat;
    lines[5].source.file = "other.csv".into();
    lines[6].provider_time = at("2024-05-01T23:59:59.999Z");

    let s1 = db
        .save_statement(&statement(ACC, d, "sha-a"), &lines)
        .await
        .expect("save");
    assert!(!s1.unchanged);
    assert_eq!(s1.superseded, None);
    assert_eq!(s1.line_count, 50);

    let again = db
        .save_statement(&statement(ACC, d, "sha-a"), &lines)
        .await
        .expect("save again");
    assert!(again.unchanged);
    assert_eq!(again.id, s1.id);
    assert_eq!(db.statements(ACC, d).await.expect("list").len(), 1);

    let s2 = db
        .save_statement(&statement(ACC, d, "sha-b"), &lines[..10])
        .await
        .expect("save b");
    assert!(!s2.unchanged);
    assert_eq!(s2.superseded, Some(s1.id));

    let cur = db
        .current_statement(ACC, d)
        .await
        .expect("cur")
        .expect("some");
    assert_eq!(cur.id, s2.id);
    assert_eq!(cur.line_count, 10);
    assert_eq!(cur.content_sha256, "sha-b");
    assert_eq!(cur.imported_by, "amy");
    let all = db.statements(ACC, d).await.expect("all");
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![s2.id, s1.id]
    );
    assert_eq!(all[1].superseded_by, Some(s2.id));
    assert_eq!(all[0].superseded_by, None);

    // Exact round trip, file order.
    assert_eq!(db.statement_lines(s1.id).await.expect("lines"), lines);
    assert_eq!(
        db.statement_lines(s2.id).await.expect("lines"),
        lines[..10].to_vec()
    );

    // The old content again is a new statement (it is not the current one).
    let s3 = db
        .save_statement(&statement(ACC, d, "sha-a"), &lines)
        .await
        .expect("save a again");
    assert!(!s3.unchanged);
    assert_eq!(s3.superseded, Some(s2.id));

    // Other days and accounts are separate.
    assert!(db
        .current_statement(ACC, date("2024-05-02"))
        .await
        .expect("cur")
        .is_none());
    let empty = db
        .save_statement(&statement("stripe-eu", d, "sha-a"), &[])
        .await
        .expect("empty");
    assert!(!empty.unchanged);
    assert!(db
        .statement_lines(empty.id)
        .await
        .expect("lines")
        .is_empty());

    match db.statement_lines(999_999).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }

    // Reopening runs no migration twice.
    db.close().await;
    let db = open(&url).await;
    assert_eq!(db.statements(ACC, d).await.expect("list").len(), 3);
}

async fn migration_checksum_mismatch_is_refused(url: String) {
    let db = open(&url).await;
    sqlx::query("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1")
        .execute(db.pool())
        .await
        .expect("tamper");
    db.close().await;
    match AppDb::open(&url).await {
        Err(e @ StoreError::MigrationChecksum { .. }) => {
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        other => panic!("expected a checksum refusal, got {other:?}"),
    }
}

async fn run_lock_refuses_expires_and_races(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let a = db
        .try_lock_run(ACC, d, "amy@pid1", Duration::from_secs(600))
        .await
        .expect("first lock");
    match db
        .try_lock_run(ACC, d, "bob@pid2", Duration::from_secs(600))
        .await
    {
        Err(StoreError::RunLocked {
            holder,
            account,
            date: ld,
            ..
        }) => {
            assert_eq!(holder, "amy@pid1");
            assert_eq!(account, ACC);
            assert_eq!(ld, d);
        }
        other => panic!("expected RunLocked, got {other:?}"),
    }
    // Another day is independent.
    let other_day = db
        .try_lock_run(
            ACC,
            date("2024-05-02"),
            "bob@pid2",
            Duration::from_secs(600),
        )
        .await
        .expect("other day");
    db.unlock_run(other_day).await.expect("unlock");

    db.unlock_run(a.clone()).await.expect("unlock a");
    let b = db
        .try_lock_run(ACC, d, "bob@pid2", Duration::from_millis(100))
        .await
        .expect("after release");
    tokio::time::sleep(Duration::from_millis(250)).await;
    // Bob crashed: his lock expired and can be taken over.
    let c = db
        .try_lock_run(ACC, d, "carol@pid3", Duration::from_secs(600))
        .await
        .expect("take over expired lock");
    assert_ne!(b.token, c.token);

    // Bob's stale lock can no longer save a run, and releasing it leaves Carol's alone.
    let st = db
        .save_statement(&statement(ACC, d, "s"), &[line(1)])
        .await
        .expect("statement");
    match db
        .save_run(
            &b,
            &new_run(ACC, d, st.id, "bob"),
            &[],
            &[],
            &CarryOverCloses::default(),
        )
        .await
    {
        Err(StoreError::LockNotHeld { .. }) => {}
        other => panic!("expected LockNotHeld, got {other:?}"),
    }
    // A lock for another day does not fit the run either.
    let wrong = db
        .try_lock_run(
            ACC,
            date("2024-05-03"),
            "carol@pid3",
            Duration::from_secs(600),
        )
        .await
        .expect("lock other day");
    assert!(matches!(
        db.save_run(
            &wrong,
            &new_run(ACC, d, st.id, "carol"),
            &[],
            &[],
            &CarryOverCloses::default()
        )
        .await,
        Err(StoreError::LockNotHeld { .. })
    ));
    db.unlock_run(b)
        .await
        .expect("stale unlock is not an error");
    assert!(matches!(
        db.try_lock_run(ACC, d, "dave@pid4", Duration::from_secs(600))
            .await,
        Err(StoreError::RunLocked { .. })
    ));
    db.unlock_run(c).await.expect("unlock c");

    // Race: several consoles (separate pools) try at once; exactly one wins.
    let race_day = date("2024-06-01");
    let mut handles = Vec::new();
    for i in 0..6 {
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let db = AppDb::open(&url).await.expect("open");
            db.try_lock_run(
                ACC,
                race_day,
                &format!("console{i}"),
                Duration::from_secs(600),
            )
            .await
        }));
    }
    let mut won = 0;
    let mut refused = 0;
    for h in handles {
        match h.await.expect("join") {
            Ok(_) => won += 1,
            Err(StoreError::RunLocked { .. }) => refused += 1,
            Err(e) => panic!("unexpected error in race: {e}"),
        }
    }
    assert_eq!((won, refused), (1, 5));
}

async fn run_lock_of_dead_pid_on_this_host_is_taken_over(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    if paydesk_store::process_alive(std::process::id(), None).is_none() {
        eprintln!("skipped: no /proc to tell a dead process");
        return;
    }
    // A holder that was killed: a short-lived child, waited for, so its pid is dead.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = LockOwner::of_pid(child.id());
    child.wait().expect("wait for true");
    let ttl = Duration::from_secs(15 * 60);
    let old = db
        .try_lock_run_as(ACC, d, "amy@dead", &dead, ttl, RUN_LOCK_STALE_AFTER)
        .await
        .expect("dead holder's lock");
    // Its heartbeat is fresh and its lock far from expiry, yet it is taken over at once.
    let started = std::time::Instant::now();
    let new = db
        .try_lock_run(ACC, d, "bob@alive", ttl)
        .await
        .expect("take over a dead pid's lock");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_ne!(old.token, new.token);
    assert!(matches!(
        db.heartbeat_run_lock(&old).await,
        Err(StoreError::LockNotHeld { .. })
    ));
    db.unlock_run(new).await.expect("unlock");

    // A pid now used by another process (start time differs) is not the holder either.
    let reused = LockOwner {
        pid_start: Some("1".into()),
        ..LockOwner::current()
    };
    db.try_lock_run_as(ACC, d, "carol@reused", &reused, ttl, RUN_LOCK_STALE_AFTER)
        .await
        .expect("lock");
    let taken = db
        .try_lock_run(ACC, d, "dave@alive", ttl)
        .await
        .expect("take over a reused pid's lock");
    // A live holder on this host is respected, however old its heartbeat.
    match db
        .try_lock_run_as(
            ACC,
            d,
            "erin@alive",
            &LockOwner::current(),
            ttl,
            Duration::ZERO,
        )
        .await
    {
        Err(e @ StoreError::RunLocked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("dave@alive"), "{msg}");
            assert!(
                msg.contains(&format!("pid {}", std::process::id())),
                "{msg}"
            );
            assert!(msg.contains("DELETE FROM run_locks WHERE account = 'alipay-main' AND bill_date = '2024-05-01'"), "{msg}");
        }
        other => panic!("expected RunLocked, got {other:?}"),
    }
    db.unlock_run(taken).await.expect("unlock");
}

async fn run_lock_heartbeat_from_another_host(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let ttl = Duration::from_secs(15 * 60);
    let elsewhere = LockOwner {
        host: "another-host.example".into(),
        pid: 1,
        pid_start: None,
    };
    let theirs = db
        .try_lock_run_as(ACC, d, "amy@other", &elsewhere, ttl, RUN_LOCK_STALE_AFTER)
        .await
        .expect("other host's lock");
    // Fresh heartbeat: respected (the pid is not looked at on another host).
    match db.try_lock_run(ACC, d, "bob@here", ttl).await {
        Err(e @ StoreError::RunLocked { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("amy@other on host another-host.example pid 1"),
                "{msg}"
            );
            assert!(msg.contains("last heartbeat 0 s ago"), "{msg}");
        }
        other => panic!("expected RunLocked, got {other:?}"),
    }
    // Kept fresh by heartbeats: still respected with a short staleness limit.
    tokio::time::sleep(Duration::from_millis(400)).await;
    db.heartbeat_run_lock(&theirs).await.expect("heartbeat");
    let short = Duration::from_millis(300);
    let here = LockOwner::current();
    assert!(matches!(
        db.try_lock_run_as(ACC, d, "bob@here", &here, ttl, short)
            .await,
        Err(StoreError::RunLocked { .. })
    ));
    // Silent longer than the limit: taken over.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mine = db
        .try_lock_run_as(ACC, d, "bob@here", &here, ttl, short)
        .await
        .expect("take over a stale heartbeat");
    assert_ne!(mine.token, theirs.token);
    // The old holder cannot save, and its heartbeat says the lock is lost.
    assert!(matches!(
        db.heartbeat_run_lock(&theirs).await,
        Err(StoreError::LockNotHeld { .. })
    ));
    db.unlock_run(theirs)
        .await
        .expect("stale unlock is no error");
    db.heartbeat_run_lock(&mine).await.expect("still mine");
    db.unlock_run(mine).await.expect("unlock");
}

async fn rerun_keeps_review_work(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let ds1 = vec![
        nd(ACC, d, draft("order:SO-1", OutcomeClass::OrderOnly, -1000)),
        nd(
            ACC,
            d,
            draft("line:payment:T2", OutcomeClass::ProviderOnly, 500),
        ),
        nd(
            ACC,
            d,
            draft("line:payment:T3", OutcomeClass::AmountMismatch, 5),
        ),
    ];
    let run1 = run_with(&db, d, "amy", &ds1, &CarryOverCloses::default()).await;
    let a = by_key(&db, d, "order:SO-1").await;
    assert_eq!(a.state, ReviewState::Open);
    assert_eq!((a.first_run_id, a.last_run_id), (run1, run1));
    assert!(a.present);
    assert_eq!(a.due_at, at("2024-05-04T00:00:00Z"));
    assert_eq!(a.evidence_file.as_deref(), Some("f.csv"));
    assert_eq!(a.evidence_line, Some(7));
    assert_eq!(a.provider_time, Some(at("2024-05-01T10:00:00Z")));

    let upd = db
        .update_discrepancy(
            a.id,
            &ReviewChange {
                state: Some(ReviewState::Investigating),
                note: Some("called the customer".into()),
                assignee: Some(Some("bob".into())),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("update");
    assert_eq!(upd.state, ReviewState::Investigating);
    assert_eq!(upd.note.as_deref(), Some("called the customer"));
    assert_eq!(upd.assignee.as_deref(), Some("bob"));
    let c = by_key(&db, d, "line:payment:T3").await;
    db.update_discrepancy(
        c.id,
        &ReviewChange {
            state: Some(ReviewState::Resolved),
            resolution: Some(ResolutionKind::WrittenOff),
            ..Default::default()
        },
        "amy",
    )
    .await
    .expect("resolve");

    // Re-run: A's amounts changed, C was reclassified.
    let ds2 = vec![
        nd(ACC, d, draft("order:SO-1", OutcomeClass::OrderOnly, -1200)),
        nd(
            ACC,
            d,
            draft("line:payment:T2", OutcomeClass::ProviderOnly, 500),
        ),
        nd(
            ACC,
            d,
            draft("line:payment:T3", OutcomeClass::FeeVariance, 5),
        ),
    ];
    let run2 = run_with(&db, d, "bob", &ds2, &CarryOverCloses::default()).await;
    let a2 = by_key(&db, d, "order:SO-1").await;
    assert_eq!(a2.id, a.id);
    assert_eq!(a2.state, ReviewState::Investigating);
    assert_eq!(a2.note.as_deref(), Some("called the customer"));
    assert_eq!(a2.assignee.as_deref(), Some("bob"));
    assert_eq!(a2.difference, -1200);
    assert_eq!((a2.first_run_id, a2.last_run_id), (run1, run2));
    let b2 = by_key(&db, d, "line:payment:T2").await;
    assert_eq!(b2.last_run_id, run2);
    let c2 = by_key(&db, d, "line:payment:T3").await;
    assert_eq!(c2.class, OutcomeClass::FeeVariance);
    assert_eq!(c2.state, ReviewState::Resolved);
    assert_eq!(c2.resolution, Some(ResolutionKind::WrittenOff));
    assert_eq!(
        db.count_discrepancies(&DiscrepancyFilter::default())
            .await
            .expect("count"),
        3
    );

    let h = db.discrepancy_history(a.id).await.expect("history");
    let fields: Vec<(&str, &str)> = h
        .iter()
        .map(|e| (e.field.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("presence", "amy"),
            ("state", "amy"),
            ("note", "amy"),
            ("assignee", "amy"),
            ("difference", "bob"),
            ("provider_amount", "bob"),
        ]
    );
    assert_eq!(
        h[0].new_value.as_deref(),
        Some(format!("found by run {run1}").as_str())
    );
    assert_eq!(h[1].old_value.as_deref(), Some("open"));
    assert_eq!(h[1].new_value.as_deref(), Some("investigating"));
    assert_eq!(h[4].old_value.as_deref(), Some("-1000"));
    assert_eq!(h[4].new_value.as_deref(), Some("-1200"));
    let hc = db.discrepancy_history(c.id).await.expect("history");
    assert!(hc
        .iter()
        .any(|e| e.field == "class" && e.new_value.as_deref() == Some("fee_variance")));

    // A no-op change writes nothing.
    let before = db.discrepancy_history(a.id).await.expect("h").len();
    db.update_discrepancy(
        a.id,
        &ReviewChange {
            note: Some("called the customer".into()),
            ..Default::default()
        },
        "amy",
    )
    .await
    .expect("noop");
    assert_eq!(db.discrepancy_history(a.id).await.expect("h").len(), before);
    // Clearing the assignee and the note.
    let cleared = db
        .update_discrepancy(
            a.id,
            &ReviewChange {
                note: Some(String::new()),
                assignee: Some(None),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("clear");
    assert_eq!((cleared.note, cleared.assignee), (None, None));
}

async fn gone_discrepancies_auto_resolve_and_reopen(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let a = nd(ACC, d, draft("order:SO-1", OutcomeClass::OrderOnly, -1000));
    let b = nd(ACC, d, draft("order:SO-2", OutcomeClass::OrderOnly, -2000));
    let w = nd(ACC, d, draft("order:SO-3", OutcomeClass::OrderOnly, -3000));
    run_with(
        &db,
        d,
        "amy",
        &[a.clone(), b.clone(), w.clone()],
        &CarryOverCloses::default(),
    )
    .await;
    let w1 = by_key(&db, d, "order:SO-3").await;
    db.update_discrepancy(
        w1.id,
        &ReviewChange {
            state: Some(ReviewState::Resolved),
            resolution: Some(ResolutionKind::NotAnIssue),
            note: Some("test order".into()),
            ..Default::default()
        },
        "amy",
    )
    .await
    .expect("resolve w");

    // Re-run without B and W.
    let run2 = run_with(
        &db,
        d,
        "bob",
        std::slice::from_ref(&a),
        &CarryOverCloses::default(),
    )
    .await;
    let b2 = by_key(&db, d, "order:SO-2").await;
    assert!(!b2.present);
    assert_eq!(b2.state, ReviewState::Resolved);
    assert_eq!(b2.resolution, Some(ResolutionKind::AutoMatched));
    let hb = db.discrepancy_history(b2.id).await.expect("history");
    assert!(
        hb.iter().any(|e| e.new_value.as_deref()
            == Some(format!("no longer found by run {run2}").as_str())
            && e.actor == "bob"),
        "{hb:?}"
    );
    let w2 = by_key(&db, d, "order:SO-3").await;
    assert!(!w2.present);
    assert_eq!(
        w2.resolution,
        Some(ResolutionKind::NotAnIssue),
        "a reviewer's resolution stays"
    );

    // Gone ones are hidden by default.
    let visible = DiscrepancyFilter::default();
    assert_eq!(db.count_discrepancies(&visible).await.expect("count"), 1);
    let all = DiscrepancyFilter {
        include_gone: true,
        ..Default::default()
    };
    assert_eq!(db.count_discrepancies(&all).await.expect("count"), 3);

    // They reappear.
    let run3 = run_with(&db, d, "carol", &[a, b, w], &CarryOverCloses::default()).await;
    let b3 = by_key(&db, d, "order:SO-2").await;
    assert!(b3.present);
    assert_eq!(b3.state, ReviewState::Open);
    assert_eq!(b3.resolution, None);
    assert_eq!(b3.last_run_id, run3);
    let hb = db.discrepancy_history(b3.id).await.expect("history");
    assert!(hb.iter().any(|e| e.field == "state"
        && e.old_value.as_deref() == Some("resolved")
        && e.new_value.as_deref() == Some("open")
        && e.actor == "carol"));
    let w3 = by_key(&db, d, "order:SO-3").await;
    assert!(w3.present);
    assert_eq!(w3.state, ReviewState::Resolved);
    assert_eq!(w3.resolution, Some(ResolutionKind::NotAnIssue));
    assert_eq!(w3.note.as_deref(), Some("test order"));
    assert_eq!(db.count_discrepancies(&visible).await.expect("count"), 3);
}

async fn carry_overs_close_previous_day(url: String) {
    let db = open(&url).await;
    let d1 = date("2024-05-01");
    let d2 = date("2024-05-02");
    let t = OutcomeClass::TimingDifference;
    run_with(
        &db,
        d1,
        "amy",
        &[
            nd(ACC, d1, draft("order:SO-9", t, -900)),
            nd(ACC, d1, draft("order:SO-10", t, -1000)),
            nd(ACC, d1, draft("refund:RF-3", t, 300)),
            nd(
                ACC,
                d1,
                draft("order:SO-11", OutcomeClass::OrderOnly, -1100),
            ),
        ],
        &CarryOverCloses::default(),
    )
    .await;
    let (orders, refunds) = db.open_carry_overs(ACC, d1).await.expect("carry");
    let mut o: Vec<_> = orders.into_iter().collect();
    o.sort();
    assert_eq!(o, vec!["SO-10".to_string(), "SO-9".to_string()]);
    assert_eq!(
        refunds.into_iter().collect::<Vec<_>>(),
        vec!["RF-3".to_string()]
    );
    assert!(db
        .open_carry_overs("other", d1)
        .await
        .expect("c")
        .0
        .is_empty());

    let closes = CarryOverCloses {
        prev_date: Some(d1),
        matched: vec![
            "order:SO-9".into(),
            "refund:RF-3".into(),
            "order:SO-11".into(),
        ],
        still_missing: vec!["order:SO-10".into()],
    };
    let run2 = run_with(
        &db,
        d2,
        "bob",
        &[nd(
            ACC,
            d2,
            draft("order:SO-10", OutcomeClass::OrderOnly, -1000),
        )],
        &closes,
    )
    .await;
    let so9 = by_key(&db, d1, "order:SO-9").await;
    assert_eq!(so9.state, ReviewState::Resolved);
    assert_eq!(so9.resolution, Some(ResolutionKind::AutoMatched));
    let h = db.discrepancy_history(so9.id).await.expect("h");
    let note = h
        .iter()
        .find(|e| e.field == "carry_over")
        .and_then(|e| e.new_value.clone())
        .expect("carry-over note");
    assert!(note.contains(&format!("run {run2}")), "{note}");
    assert!(h.iter().all(|e| e.field == "presence" || e.actor == "bob"));

    let so10 = by_key(&db, d1, "order:SO-10").await;
    assert_eq!(so10.resolution, Some(ResolutionKind::AutoMatched));
    let note = db
        .discrepancy_history(so10.id)
        .await
        .expect("h")
        .into_iter()
        .find(|e| e.field == "carry_over")
        .and_then(|e| e.new_value)
        .expect("note");
    assert!(
        note.contains("still missing") && note.contains("order-only"),
        "{note}"
    );
    assert_eq!(
        by_key(&db, d1, "refund:RF-3").await.state,
        ReviewState::Resolved
    );
    // Not a timing difference: untouched.
    assert_eq!(
        by_key(&db, d1, "order:SO-11").await.state,
        ReviewState::Open
    );
    let (o, r) = db.open_carry_overs(ACC, d1).await.expect("carry");
    assert!(o.is_empty() && r.is_empty());
    // Day 2's order-only exists on its own.
    assert_eq!(
        by_key(&db, d2, "order:SO-10").await.class,
        OutcomeClass::OrderOnly
    );
}

/// The discrepancy text search folds case beyond ASCII on both backends (SQLite's `LOWER`
/// alone folds only ASCII): simple one-character case folding, so `straße` is not `STRASSE`.
async fn text_search_folds_case_beyond_ascii(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let ds: Vec<_> = [
        "order:ÄÖÜ Straße 1",
        "order:Ärger-2",
        "order:ΣΑΣ-3",
        "order:订单-4",
        "order:so-5%_x",
    ]
    .iter()
    .map(|k| nd(ACC, d, draft(k, OutcomeClass::ProviderOnly, 0)))
    .collect();
    run_with(&db, d, "amy", &ds, &CarryOverCloses::default()).await;
    let found = |t: &str| {
        let db = db.clone();
        let f = DiscrepancyFilter {
            text: Some(t.into()),
            ..Default::default()
        };
        async move {
            let n = db.count_discrepancies(&f).await.expect("count");
            let page = db
                .list_discrepancies(&f, DiscrepancySort::DateAsc, 10, 0)
                .await
                .expect("list");
            assert_eq!(n, page.len() as u64);
            let mut v: Vec<String> = page.into_iter().filter_map(|r| r.order_no).collect();
            v.sort();
            v
        }
    };
    assert_eq!(found("äöü").await, ["ÄÖÜ Straße 1"]);
    assert_eq!(found("äÖü straSSE").await, Vec::<String>::new());
    assert_eq!(found("äöü STRAße").await, ["ÄÖÜ Straße 1"]);
    assert_eq!(found("ärger").await, ["Ärger-2"]);
    assert_eq!(found("ÄRGER").await, ["Ärger-2"]);
    assert_eq!(found("σασ").await, ["ΣΑΣ-3"]);
    assert_eq!(found("ΣΑΣ").await, ["ΣΑΣ-3"]);
    assert_eq!(found("订单").await, ["订单-4"]);
    assert_eq!(found("SO-5%_").await, ["so-5%_x"]);
    assert_eq!(found("5_").await, Vec::<String>::new());
    assert_eq!(found("txn-ORDER:ärger").await, ["Ärger-2"]);
    assert_eq!(found("STRAẞE 1").await, ["ÄÖÜ Straße 1"]);
}

async fn filters_sort_paging_counts(url: String) {
    let db = open(&url).await;
    let days = [date("2024-05-01"), date("2024-05-02"), date("2024-05-03")];
    let classes = [
        OutcomeClass::OrderOnly,
        OutcomeClass::ProviderOnly,
        OutcomeClass::AmountMismatch,
    ];
    let mut run_ids = Vec::new();
    for (di, d) in days.iter().enumerate() {
        let ds: Vec<_> = (0..10)
            .map(|i| {
                let mut dr = draft(
                    &format!("order:SO-{di}-{i}"),
                    classes[i % 3],
                    (i as i64 - 5) * 100,
                );
                if i == 7 {
                    dr.provider_txn_id = Some("TXN_100%_special".into());
                }
                let mut n = nd(ACC, *d, dr);
                n.due_at = at("2024-06-01T00:00:00Z")
                    + chrono::Duration::hours((30 - i as i64 * 3 + di as i64) % 17);
                n
            })
            .collect();
        run_ids.push(run_with(&db, *d, "amy", &ds, &CarryOverCloses::default()).await);
    }
    // Another account on another provider.
    let other = "stripe-eu";
    let st = db
        .save_statement(&statement(other, days[0], "x"), &[line(1)])
        .await
        .expect("st");
    let l = db
        .try_lock_run(other, days[0], "t", Duration::from_secs(60))
        .await
        .expect("lock");
    let mut ods = vec![nd(
        other,
        days[0],
        draft("order:X-1", OutcomeClass::OrderOnly, 7),
    )];
    ods[0].provider = Provider::Stripe;
    let mut r = new_run(other, days[0], st.id, "amy");
    r.provider = Provider::Stripe;
    db.save_run(
        &l,
        &r,
        &outcomes_for(&ods, 0),
        &ods,
        &CarryOverCloses::default(),
    )
    .await
    .expect("run");
    db.unlock_run(l).await.expect("unlock");

    let count = |f: DiscrepancyFilter| {
        let db = db.clone();
        async move { db.count_discrepancies(&f).await.expect("count") }
    };
    assert_eq!(count(DiscrepancyFilter::default()).await, 31);
    assert_eq!(
        count(DiscrepancyFilter {
            account: Some(ACC.into()),
            ..Default::default()
        })
        .await,
        30
    );
    assert_eq!(
        count(DiscrepancyFilter {
            provider: Some(Provider::Stripe),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        count(DiscrepancyFilter {
            date_from: Some(days[1]),
            date_to: Some(days[2]),
            ..Default::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(DiscrepancyFilter {
            classes: vec![OutcomeClass::ProviderOnly, OutcomeClass::AmountMismatch],
            account: Some(ACC.into()),
            ..Default::default()
        })
        .await,
        18
    );
    // The minimum is on the amount at stake: |difference| ≥ 4.00 on 9 rows, plus the three
    // without a difference (i = 5) whose 10.00 is at stake.
    assert_eq!(
        count(DiscrepancyFilter {
            min_abs_difference: Some(400),
            ..Default::default()
        })
        .await,
        12
    );
    assert_eq!(
        count(DiscrepancyFilter {
            run_id: Some(run_ids[1]),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(DiscrepancyFilter {
            text: Some("so-1-".into()),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(DiscrepancyFilter {
            text: Some("100%_".into()),
            ..Default::default()
        })
        .await,
        3
    );
    assert_eq!(
        count(DiscrepancyFilter {
            text: Some("TXN_1%".into()),
            ..Default::default()
        })
        .await,
        0
    );

    // States and assignees.
    let page = db
        .list_discrepancies(
            &DiscrepancyFilter::default(),
            DiscrepancySort::DateAsc,
            4,
            0,
        )
        .await
        .expect("list");
    for r in &page[..2] {
        db.update_discrepancy(
            r.id,
            &ReviewChange {
                assignee: Some(Some("zoe".into())),
                state: Some(ReviewState::Investigating),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("assign");
    }
    assert_eq!(
        count(DiscrepancyFilter {
            assignee: Some("zoe".into()),
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        count(DiscrepancyFilter {
            states: vec![ReviewState::Investigating],
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        count(DiscrepancyFilter {
            states: vec![ReviewState::Open],
            ..Default::default()
        })
        .await,
        29
    );

    // Sorts.
    let list = |s: DiscrepancySort, limit: u32, offset: u64| {
        let db = db.clone();
        async move {
            db.list_discrepancies(&DiscrepancyFilter::default(), s, limit, offset)
                .await
                .expect("list")
        }
    };
    let amt = list(DiscrepancySort::AmountDesc, 100, 0).await;
    assert_eq!(amt.len(), 31);
    // By the amount at stake: |difference|, or the amount when there is no difference.
    for r in &amt {
        assert_eq!(
            r.amount_at_stake,
            paydesk_core::amount_at_stake(r.difference, r.provider_amount, r.local_amount)
        );
    }
    assert!(amt
        .windows(2)
        .all(|w| w[0].amount_at_stake > w[1].amount_at_stake
            || (w[0].amount_at_stake == w[1].amount_at_stake && w[0].id > w[1].id)));
    let asc = list(DiscrepancySort::AmountAsc, 100, 0).await;
    assert!(asc
        .windows(2)
        .all(|w| w[0].amount_at_stake <= w[1].amount_at_stake));
    let dd = list(DiscrepancySort::DateDesc, 100, 0).await;
    assert!(dd.windows(2).all(|w| w[0].bill_date >= w[1].bill_date));
    assert_eq!(dd[0].bill_date, days[2]);
    let due = list(DiscrepancySort::DueAsc, 100, 0).await;
    assert!(due
        .windows(2)
        .all(|w| w[0].due_at < w[1].due_at || (w[0].due_at == w[1].due_at && w[0].id < w[1].id)));
    let st = list(DiscrepancySort::State, 100, 0).await;
    assert_eq!(st.last().map(|r| r.state), Some(ReviewState::Investigating));
    let cl = list(DiscrepancySort::Class, 100, 0).await;
    assert!(cl
        .windows(2)
        .all(|w| w[0].class.as_str() <= w[1].class.as_str()));

    // Paging is stable and complete.
    for sort in [
        DiscrepancySort::AmountDesc,
        DiscrepancySort::Class,
        DiscrepancySort::DateDesc,
    ] {
        let full = list(sort, 100, 0).await;
        let mut paged = Vec::new();
        for p in 0..4u64 {
            paged.extend(list(sort, 8, p * 8).await);
        }
        assert_eq!(
            paged.iter().map(|r| r.id).collect::<Vec<_>>(),
            full.iter().map(|r| r.id).collect::<Vec<_>>()
        );
    }
    let single = db
        .discrepancy(amt[0].id)
        .await
        .expect("one")
        .expect("exists");
    assert_eq!(single, amt[0]);
    assert!(db.discrepancy(9_999_999).await.expect("none").is_none());
}

async fn bulk_update_and_apply_all_or_nothing(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let ds: Vec<_> = (0..9)
        .map(|i| {
            let class = if i % 3 == 0 {
                OutcomeClass::ProviderOnly
            } else {
                OutcomeClass::OrderOnly
            };
            nd(ACC, d, draft(&format!("order:SO-{i}"), class, 100 + i))
        })
        .collect();
    run_with(&db, d, "amy", &ds, &CarryOverCloses::default()).await;
    let order_only = DiscrepancyFilter {
        classes: vec![OutcomeClass::OrderOnly],
        ..Default::default()
    };
    let n = db
        .bulk_update_discrepancies(
            &order_only,
            &ReviewChange {
                assignee: Some(Some("carol".into())),
                ..Default::default()
            },
            "lead",
        )
        .await
        .expect("bulk");
    assert_eq!(n, 6);
    assert_eq!(
        db.count_discrepancies(&DiscrepancyFilter {
            assignee: Some("carol".into()),
            ..Default::default()
        })
        .await
        .expect("count"),
        6
    );
    // Same change again touches nothing.
    let n = db
        .bulk_update_discrepancies(
            &order_only,
            &ReviewChange {
                assignee: Some(Some("carol".into())),
                ..Default::default()
            },
            "lead",
        )
        .await
        .expect("bulk again");
    assert_eq!(n, 0);
    // An invalid bulk change is refused.
    assert!(matches!(
        db.bulk_update_discrepancies(
            &order_only,
            &ReviewChange {
                state: Some(ReviewState::Resolved),
                ..Default::default()
            },
            "lead"
        )
        .await,
        Err(StoreError::Invalid { .. })
    ));

    let all = db
        .list_discrepancies(
            &DiscrepancyFilter::default(),
            DiscrepancySort::DateAsc,
            100,
            0,
        )
        .await
        .expect("list");
    let (id0, id1) = (all[0].id, all[1].id);
    let hist_before = db.discrepancy_history(id0).await.expect("h").len();
    let good = ReviewChange {
        note: Some("from spreadsheet".into()),
        ..Default::default()
    };
    let bad = ReviewChange {
        state: Some(ReviewState::Resolved),
        ..Default::default()
    };
    match db
        .apply_review_changes(&[(id0, good.clone()), (id1, bad)], "sheet")
        .await
    {
        Err(e @ StoreError::Invalid { .. }) => {
            assert!(e.to_string().contains(&id1.to_string()), "{e}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    match db
        .apply_review_changes(&[(id0, good.clone()), (987_654, good.clone())], "sheet")
        .await
    {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    let r0 = db.discrepancy(id0).await.expect("get").expect("exists");
    assert_eq!(r0.note, None, "nothing may have been applied");
    assert_eq!(
        db.discrepancy_history(id0).await.expect("h").len(),
        hist_before
    );

    let n = db
        .apply_review_changes(
            &[
                (id0, good.clone()),
                (
                    id1,
                    ReviewChange {
                        state: Some(ReviewState::Resolved),
                        resolution: Some(ResolutionKind::CorrectedLocally),
                        ..Default::default()
                    },
                ),
            ],
            "sheet",
        )
        .await
        .expect("apply");
    assert_eq!(n, 2);
    let r1 = db.discrepancy(id1).await.expect("get").expect("exists");
    assert_eq!(
        (r1.state, r1.resolution),
        (
            ReviewState::Resolved,
            Some(ResolutionKind::CorrectedLocally)
        )
    );
    let h1 = db.discrepancy_history(id1).await.expect("h");
    assert!(h1.iter().any(|e| e.field == "resolution"
        && e.actor == "sheet"
        && e.new_value.as_deref() == Some("corrected_locally")));
    // Reopening clears the resolution.
    let re = db
        .update_discrepancy(
            id1,
            &ReviewChange {
                state: Some(ReviewState::Open),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("reopen");
    assert_eq!((re.state, re.resolution), (ReviewState::Open, None));

    assert!(matches!(
        db.update_discrepancy(555_555, &good, "amy").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        db.update_discrepancy(
            id0,
            &ReviewChange {
                state: Some(ReviewState::Resolved),
                resolution: Some(ResolutionKind::AutoMatched),
                ..Default::default()
            },
            "amy"
        )
        .await,
        Err(StoreError::Invalid { .. })
    ));
}

async fn runs_and_outcomes_listing(url: String) {
    let db = open(&url).await;
    let d = date("2024-05-01");
    let ds = vec![nd(ACC, d, draft("order:SO-1", OutcomeClass::OrderOnly, -1))];
    let st = db
        .save_statement(&statement(ACC, d, "s1"), &[line(1)])
        .await
        .expect("st");
    let l = lock(&db, d).await;
    let nr = new_run(ACC, d, st.id, "amy");
    let outcomes = outcomes_for(&ds, 250);
    let rec = db
        .save_run(&l, &nr, &outcomes, &ds, &CarryOverCloses::default())
        .await
        .expect("run");
    db.unlock_run(l).await.expect("unlock");
    let run2 = run_with(
        &db,
        date("2024-05-02"),
        "bob",
        &[],
        &CarryOverCloses::default(),
    )
    .await;

    let got = db.run(rec.id).await.expect("run").expect("exists");
    assert_eq!(got, rec);
    assert_eq!(got.counts, nr.counts);
    assert_eq!(got.totals_json, nr.totals_json);
    assert_eq!(got.started_at, nr.started_at);
    assert!(db.run(424_242).await.expect("none").is_none());

    let all = db.runs(None, None, 10).await.expect("runs");
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![run2, rec.id]
    );
    assert_eq!(
        db.runs(Some(ACC), Some(d), 10).await.expect("runs").len(),
        1
    );
    assert_eq!(
        db.runs(Some("nobody"), None, 10).await.expect("runs").len(),
        0
    );
    assert_eq!(db.runs(None, None, 1).await.expect("runs").len(), 1);

    let first = db.run_outcomes(rec.id, 100, 0).await.expect("outcomes");
    assert_eq!(first, outcomes[..100].to_vec());
    let last = db.run_outcomes(rec.id, 100, 200).await.expect("outcomes");
    assert_eq!(last, outcomes[200..].to_vec());
    assert_eq!(
        last.last()
            .and_then(|o| o.discrepancy_key.clone())
            .as_deref(),
        Some("order:SO-1")
    );
}

/// The SQLite app database is created 0600 whatever the umask, so its `-wal` and `-shm`
/// (which SQLite gives the main file's permissions) are private too.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("app.db");
    let db = open(&format!("sqlite://{}", path.display())).await;
    // A write, so that the WAL and its index exist while the pool is open.
    db.try_lock_run(
        ACC,
        paydesk_core::BillDate::parse("2026-11-22").expect("date"),
        "t@1",
        Duration::from_secs(60),
    )
    .await
    .expect("lock");
    for suffix in ["", "-wal", "-shm"] {
        let p = dir.path().join(format!("app.db{suffix}"));
        let mode = std::fs::metadata(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    db.close().await;
}
