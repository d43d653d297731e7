//! Review changes of chosen discrepancies (by id) and their undo, on SQLite and PostgreSQL.

mod common;

use chrono::{Duration, Utc};
use common::*;
use paydesk_core::{
    DiscrepancyFilter, DiscrepancyRecord, OutcomeClass, ResolutionKind, ReviewChange, ReviewState,
};
use paydesk_store::{AppDb, CarryOverCloses, DiscrepancySort, StoreError, UndoOutcome};

db_tests!(
    chosen_ids_change_and_undo_restores_each_row,
    undo_skips_rows_changed_since,
    chosen_ids_are_checked,
    undo_is_refused_when_it_should_be,
    filter_and_single_changes_undo,
);

const ACC: &str = "alipay-main";

/// A database with `n` open discrepancies of 2024-05-01; returns them by id.
async fn with_discrepancies(url: &str, n: usize) -> (AppDb, Vec<i64>) {
    let db = AppDb::open(url).await.expect("open app db");
    let d = date("2024-05-01");
    let ds: Vec<_> = (0..n)
        .map(|i| {
            nd(
                ACC,
                d,
                draft(&format!("order:SO-{i}"), OutcomeClass::OrderOnly, 100),
            )
        })
        .collect();
    let sha = uuid::Uuid::new_v4().to_string();
    let st = db
        .save_statement(&statement(ACC, d, &sha), &[line(1)])
        .await
        .expect("save statement");
    let lock = db
        .try_lock_run(ACC, d, "tester@pid1", std::time::Duration::from_secs(600))
        .await
        .expect("lock");
    db.save_run(
        &lock,
        &new_run(ACC, d, st.id, "amy"),
        &outcomes_for(&ds, 0),
        &ds,
        &CarryOverCloses::default(),
    )
    .await
    .expect("save run");
    db.unlock_run(lock).await.expect("unlock");
    let mut ids: Vec<i64> = db
        .list_discrepancies(
            &DiscrepancyFilter::default(),
            DiscrepancySort::DateAsc,
            1000,
            0,
        )
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), n);
    (db, ids)
}

async fn get(db: &AppDb, id: i64) -> DiscrepancyRecord {
    db.discrepancy(id).await.expect("read").expect("exists")
}

fn resolve(note: &str) -> ReviewChange {
    ReviewChange {
        state: Some(ReviewState::Resolved),
        resolution: Some(ResolutionKind::WrittenOff),
        note: Some(note.into()),
        assignee: Some(Some("lead".into())),
    }
}

fn a_minute_ago() -> chrono::DateTime<Utc> {
    Utc::now() - Duration::seconds(60)
}

async fn chosen_ids_change_and_undo_restores_each_row(url: String) {
    let (db, ids) = with_discrepancies(&url, 5).await;
    // Review work before the change: the undo must bring it back as it was.
    db.update_discrepancy(
        ids[0],
        &ReviewChange {
            state: Some(ReviewState::Investigating),
            note: Some("asked the bank".into()),
            assignee: Some(Some("amy".into())),
            ..Default::default()
        },
        "amy",
    )
    .await
    .expect("earlier work");
    let before0 = get(&db, ids[0]).await;
    let before1 = get(&db, ids[1]).await;

    // Repeated ids count once.
    let edit = db
        .update_discrepancies_by_ids(&[ids[2], ids[0], ids[1], ids[0]], &resolve("bulk"), "lead")
        .await
        .expect("change chosen");
    assert_eq!(edit.changed, 3);
    let edit_id = edit.edit_id.expect("undoable");
    for id in &ids[..3] {
        let d = get(&db, *id).await;
        assert_eq!(d.state, ReviewState::Resolved);
        assert_eq!(d.resolution, Some(ResolutionKind::WrittenOff));
        assert_eq!(d.note.as_deref(), Some("bulk"));
        assert_eq!(d.assignee.as_deref(), Some("lead"));
    }
    // The others are untouched.
    assert_eq!(get(&db, ids[3]).await.state, ReviewState::Open);

    let rec = db.review_edit(edit_id).await.expect("read").expect("kept");
    assert_eq!(rec.actor, "lead");
    assert_eq!(rec.rows, 3);
    assert_eq!(rec.undone_at, None);

    let out = db
        .undo_review_edit(edit_id, "lead", a_minute_ago())
        .await
        .expect("undo");
    assert_eq!(
        out,
        UndoOutcome {
            restored: vec![ids[0], ids[1], ids[2]],
            skipped: vec![],
        }
    );
    let after0 = get(&db, ids[0]).await;
    assert_eq!(after0.state, ReviewState::Investigating);
    assert_eq!(after0.resolution, None);
    assert_eq!(after0.note, before0.note);
    assert_eq!(after0.assignee, before0.assignee);
    assert_eq!(after0.due_at, before0.due_at);
    let after1 = get(&db, ids[1]).await;
    assert_eq!(
        (
            after1.state,
            after1.resolution,
            after1.note,
            after1.assignee
        ),
        (
            before1.state,
            before1.resolution,
            before1.note,
            before1.assignee
        )
    );

    // The history says who undid what.
    let h = db.discrepancy_history(ids[0]).await.expect("history");
    let undo: Vec<_> = h.iter().filter(|e| e.field == "undo").collect();
    assert_eq!(undo.len(), 1);
    assert_eq!(undo[0].actor, "lead");
    assert_eq!(undo[0].new_value, Some(edit_id.to_string()));
    let last_state = h.iter().rev().find(|e| e.field == "state").expect("state");
    assert_eq!(last_state.old_value.as_deref(), Some("resolved"));
    assert_eq!(last_state.new_value.as_deref(), Some("investigating"));

    let rec = db.review_edit(edit_id).await.expect("read").expect("kept");
    assert_eq!(rec.undone_by.as_deref(), Some("lead"));
    assert!(rec.undone_at.is_some());
    // Once only.
    assert!(matches!(
        db.undo_review_edit(edit_id, "lead", a_minute_ago()).await,
        Err(StoreError::Invalid { reason, .. }) if reason.contains("undone already")
    ));
}

async fn undo_skips_rows_changed_since(url: String) {
    let (db, ids) = with_discrepancies(&url, 3).await;
    let edit = db
        .update_discrepancies_by_ids(&ids, &resolve("month end"), "lead")
        .await
        .expect("change");
    let edit_id = edit.edit_id.expect("undoable");
    // Someone else reassigns the second row...
    db.update_discrepancy(
        ids[1],
        &ReviewChange {
            assignee: Some(Some("amy".into())),
            ..Default::default()
        },
        "amy",
    )
    .await
    .expect("reassign");
    // ...and changes the third one's note and back: it looks the same, but was changed.
    for note in ["oops", "month end"] {
        db.update_discrepancy(
            ids[2],
            &ReviewChange {
                note: Some(note.into()),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("note");
    }
    let out = db
        .undo_review_edit(edit_id, "lead", a_minute_ago())
        .await
        .expect("undo");
    assert_eq!(out.restored, vec![ids[0]]);
    assert_eq!(out.skipped, vec![ids[1], ids[2]]);
    assert_eq!(get(&db, ids[0]).await.state, ReviewState::Open);
    // The skipped rows keep the later work.
    let d1 = get(&db, ids[1]).await;
    assert_eq!(d1.state, ReviewState::Resolved);
    assert_eq!(d1.assignee.as_deref(), Some("amy"));
    assert_eq!(get(&db, ids[2]).await.state, ReviewState::Resolved);
    assert!(db
        .discrepancy_history(ids[1])
        .await
        .expect("history")
        .iter()
        .all(|e| e.field != "undo"));
}

async fn chosen_ids_are_checked(url: String) {
    let (db, ids) = with_discrepancies(&url, 2).await;
    assert!(matches!(
        db.update_discrepancies_by_ids(&[], &resolve("x"), "lead").await,
        Err(StoreError::Invalid { reason, .. }) if reason.contains("no discrepancy chosen")
    ));
    // An unknown id fails the whole change, and is named.
    match db
        .update_discrepancies_by_ids(&[ids[0], 987_654, 987_655], &resolve("x"), "lead")
        .await
    {
        Err(StoreError::NotFound { id, .. }) => assert_eq!(id, "987654, 987655"),
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(get(&db, ids[0]).await.state, ReviewState::Open);
    // An invalid change is refused before anything is read.
    assert!(matches!(
        db.update_discrepancies_by_ids(
            &ids,
            &ReviewChange {
                state: Some(ReviewState::Resolved),
                ..Default::default()
            },
            "lead"
        )
        .await,
        Err(StoreError::Invalid { .. })
    ));
    // A change that changes nothing leaves nothing to undo.
    let assign = ReviewChange {
        assignee: Some(Some("amy".into())),
        ..Default::default()
    };
    let first = db
        .update_discrepancies_by_ids(&ids, &assign, "lead")
        .await
        .expect("assign");
    assert_eq!(first.changed, 2);
    let again = db
        .update_discrepancies_by_ids(&ids, &assign, "lead")
        .await
        .expect("assign again");
    assert_eq!((again.changed, again.edit_id), (0, None));
}

async fn undo_is_refused_when_it_should_be(url: String) {
    let (db, ids) = with_discrepancies(&url, 2).await;
    let edit_id = db
        .update_discrepancies_by_ids(&ids, &resolve("x"), "lead")
        .await
        .expect("change")
        .edit_id
        .expect("undoable");
    assert!(matches!(
        db.undo_review_edit(edit_id, "amy", a_minute_ago()).await,
        Err(StoreError::Invalid { reason, .. }) if reason.contains("only lead")
    ));
    assert!(matches!(
        db.undo_review_edit(edit_id, "lead", Utc::now() + Duration::seconds(5)).await,
        Err(StoreError::Invalid { reason, .. }) if reason.contains("too old")
    ));
    assert!(matches!(
        db.undo_review_edit(edit_id + 1000, "lead", a_minute_ago())
            .await,
        Err(StoreError::NotFound { .. })
    ));
    // Nothing was undone by the refusals.
    assert_eq!(get(&db, ids[0]).await.state, ReviewState::Resolved);
    let out = db
        .undo_review_edit(edit_id, "lead", a_minute_ago())
        .await
        .expect("undo");
    assert_eq!(out.restored, ids);
}

async fn filter_and_single_changes_undo(url: String) {
    let (db, ids) = with_discrepancies(&url, 4).await;
    let all = DiscrepancyFilter::default();
    let edit = db
        .bulk_update_discrepancies_undoable(&all, &resolve("all"), "lead")
        .await
        .expect("bulk");
    assert_eq!(edit.changed, 4);
    let out = db
        .undo_review_edit(edit.edit_id.expect("undoable"), "lead", a_minute_ago())
        .await
        .expect("undo bulk");
    assert_eq!(out.restored, ids);
    assert_eq!(
        db.count_discrepancies(&DiscrepancyFilter {
            states: vec![ReviewState::Open],
            ..Default::default()
        })
        .await
        .expect("count"),
        4
    );

    let (d, edit) = db
        .update_discrepancy_undoable(
            ids[3],
            &ReviewChange {
                note: Some("one".into()),
                ..Default::default()
            },
            "amy",
        )
        .await
        .expect("single");
    assert_eq!(d.note.as_deref(), Some("one"));
    let out = db
        .undo_review_edit(edit.edit_id.expect("undoable"), "amy", a_minute_ago())
        .await
        .expect("undo single");
    assert_eq!(out.restored, vec![ids[3]]);
    assert_eq!(get(&db, ids[3]).await.note, None);
    // The non-recording bulk change keeps its old behaviour.
    assert_eq!(
        db.bulk_update_discrepancies(&all, &resolve("again"), "lead")
            .await
            .expect("plain bulk"),
        4
    );
}
