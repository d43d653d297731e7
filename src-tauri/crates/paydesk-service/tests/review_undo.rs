//! Changing chosen discrepancies by id and undoing a review change, through the service entry
//! points the desktop app calls: permissions, validation, history and the audit log, on
//! SQLite and on PostgreSQL.

use chrono::TimeZone;
use paydesk_core::{
    Actor, BillDate, Currency, DiscrepancyFilter, Provider, ResolutionKind, ReviewChange,
    ReviewState, Role,
};
use paydesk_service::context::progress::Silent;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_service::review::{self, MAX_CHOSEN};
use paydesk_service::ServiceError;
use paydesk_store::{AuditFilter, DiscrepancySort};
use paydesk_testkit::db::backends;
use paydesk_testkit::workspace::{add_mirror_orders, demo_workspace, login_new_user, paid_order};
use std::path::Path;

/// A demo workspace (its sandbox answering an empty statement) where five orders we think
/// were paid on 2019-02-19 were reconciled (saved): five order-only discrepancies, their ids
/// ascending, and the sandbox (kept running while the workspace is used).
async fn reviewed_workspace(dir: &Path, url: &str) -> (Workspace, Vec<i64>, impl Sized) {
    let w = demo_workspace(dir, Some(url)).await;
    let sandbox = paydesk_testkit::sandbox::start(&w, &[]).await;
    w.db.close().await;
    paydesk_testkit::refunds::point_at_sandbox(dir, &sandbox.base_url, "");
    let w = Workspace::open(dir).await.expect("open");
    let admin = Actor::new("admin", [Role::Admin]);
    let paid_at = chrono::Utc
        .with_ymd_and_hms(2019, 2, 19, 6, 0, 0)
        .single()
        .expect("time");
    let orders: Vec<_> = (1..=5)
        .map(|i| {
            (
                "wechat-main",
                paid_order(
                    &format!("UNDO-WX-{i}"),
                    Provider::Wechat,
                    1_000 * i,
                    Currency::CNY,
                    paid_at,
                ),
            )
        })
        .collect();
    add_mirror_orders(&w, &orders).await;
    reconcile_account(
        &w,
        "wechat-main",
        BillDate::parse("2019-02-19").expect("date"),
        None,
        DryRun::No,
        &admin,
        &Silent,
    )
    .await
    .expect("reconcile");
    let page = review::list(
        &w,
        &admin,
        &DiscrepancyFilter::default(),
        DiscrepancySort::DateAsc,
        100,
        0,
    )
    .await
    .expect("list");
    let mut ids: Vec<i64> = page.discrepancies.iter().map(|d| d.id).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 5, "one discrepancy per order: {ids:?}");
    (w, ids, sandbox)
}

fn resolve() -> ReviewChange {
    ReviewChange {
        state: Some(ReviewState::Resolved),
        resolution: Some(ResolutionKind::NotAnIssue),
        note: Some("checked with the bank".into()),
        ..Default::default()
    }
}

async fn audited(w: &Workspace, action: &str) -> Vec<paydesk_store::AuditEntry> {
    w.db.audit_entries(
        &AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        },
        100,
        0,
    )
    .await
    .expect("audit")
}

#[tokio::test]
async fn chosen_rows_change_and_undo_with_history_and_audit() {
    for db in backends("undo.db", "paydesk_undo").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let (w, ids, _sandbox) = reviewed_workspace(&tmp.path().join("ws"), db.url()).await;
        let admin = Actor::new("admin", [Role::Admin]);
        let fin = login_new_user(&w, &admin, "fin1", &[Role::Finance]).await;
        let other = login_new_user(&w, &admin, "fin2", &[Role::Finance]).await;
        let chosen = [ids[0], ids[1], ids[2]];

        let done = review::bulk_update_by_ids(&w, &fin, &chosen, &resolve())
            .await
            .expect("change chosen");
        assert_eq!(done.updated, 3);
        let undo_id = done.undo_id.expect("undoable");
        let entry = audited(&w, "discrepancy.bulk_update_chosen").await;
        assert_eq!(entry.len(), 1);
        assert_eq!(entry[0].actor, "fin1");
        let details: serde_json::Value = serde_json::from_str(&entry[0].details).expect("json");
        assert_eq!(details["ids"], serde_json::json!(chosen));
        assert_eq!(details["undo_id"], serde_json::json!(undo_id));

        // Somebody else works on the second row meanwhile.
        review::update(
            &w,
            &other,
            ids[1],
            &ReviewChange {
                note: Some("refund sent".into()),
                ..Default::default()
            },
        )
        .await
        .expect("other's change");
        // Only the author may undo.
        assert!(matches!(
            review::undo(&w, &other, undo_id).await,
            Err(ServiceError::Conflict(m)) if m.contains("fin1")
        ));

        let out = review::undo(&w, &fin, undo_id).await.expect("undo");
        assert_eq!(out.restored, vec![ids[0], ids[2]]);
        assert_eq!(out.skipped, vec![ids[1]]);
        let (d0, h0) = review::show(&w, &fin, ids[0]).await.expect("show");
        assert_eq!(
            (d0.state, d0.resolution, d0.note),
            (ReviewState::Open, None, None)
        );
        assert!(h0.iter().any(|h| h.field == "undo"
            && h.actor == "fin1"
            && h.new_value == Some(undo_id.to_string())));
        let (d1, _) = review::show(&w, &fin, ids[1]).await.expect("show");
        assert_eq!(d1.state, ReviewState::Resolved);
        assert_eq!(d1.note.as_deref(), Some("refund sent"));

        let undo = audited(&w, "discrepancy.undo").await;
        assert_eq!(undo.len(), 1);
        assert_eq!(undo[0].actor, "fin1");
        assert_eq!(undo[0].outcome, "ok");
        assert_eq!(undo[0].target, format!("review change {undo_id}"));
        let details: serde_json::Value = serde_json::from_str(&undo[0].details).expect("json");
        assert_eq!(details["restored"], 2);
        assert_eq!(details["skipped"], serde_json::json!([ids[1]]));

        // Once only.
        assert!(matches!(
            review::undo(&w, &fin, undo_id).await,
            Err(ServiceError::Conflict(m)) if m.contains("undone already")
        ));

        // A single change is undoable too.
        let (rec, single) = review::update_undoable(
            &w,
            &fin,
            ids[0],
            &ReviewChange {
                assignee: Some(Some("fin2".into())),
                ..Default::default()
            },
        )
        .await
        .expect("single");
        assert_eq!(rec.assignee.as_deref(), Some("fin2"));
        let out = review::undo(&w, &fin, single.expect("undoable"))
            .await
            .expect("undo single");
        assert_eq!(out.restored, vec![ids[0]]);
        let (d0, _) = review::show(&w, &fin, ids[0]).await.expect("show");
        assert_eq!(d0.assignee, None);

        // And so is a change of all that match a filter.
        let all = review::bulk_update_undoable(&w, &fin, &DiscrepancyFilter::default(), &resolve())
            .await
            .expect("bulk");
        assert!(all.updated >= 2);
        let out = review::undo(&w, &fin, all.undo_id.expect("undoable"))
            .await
            .expect("undo bulk");
        assert_eq!(out.restored.len() as u64, all.updated);
        w.db.close().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn permissions_and_bad_input_are_refused() {
    for db in backends("undo-refused.db", "paydesk_undo_refused").await {
        let tmp = tempfile::tempdir().expect("tmp");
        let (w, ids, _sandbox) = reviewed_workspace(&tmp.path().join("ws"), db.url()).await;
        let admin = Actor::new("admin", [Role::Admin]);
        let fin = login_new_user(&w, &admin, "fin1", &[Role::Finance]).await;
        let support = login_new_user(&w, &admin, "help1", &[Role::Support]).await;

        // Without discrepancy.review: refused, audited, nothing changed.
        assert!(matches!(
            review::bulk_update_by_ids(&w, &support, &ids, &resolve()).await,
            Err(ServiceError::Denied(_))
        ));
        let done = review::bulk_update_by_ids(&w, &fin, &ids[..1], &resolve())
            .await
            .expect("change");
        let undo_id = done.undo_id.expect("undoable");
        assert!(matches!(
            review::undo(&w, &support, undo_id).await,
            Err(ServiceError::Denied(_))
        ));
        let denied =
            w.db.audit_entries(
                &AuditFilter {
                    actor: Some("help1".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.outcome == "denied")
            .collect::<Vec<_>>();
        assert_eq!(denied.len(), 2, "{denied:?}");
        assert!(denied.iter().all(|e| e.action == "discrepancy.review"));
        let (d, _) = review::show(&w, &fin, ids[0]).await.expect("show");
        assert_eq!(
            d.state,
            ReviewState::Resolved,
            "the refused undo did nothing"
        );

        // Every input checked.
        assert!(matches!(
            review::bulk_update_by_ids(&w, &fin, &[], &resolve()).await,
            Err(ServiceError::BadInput(m)) if m.contains("no discrepancies chosen")
        ));
        let too_many: Vec<i64> = (1..=(MAX_CHOSEN as i64 + 1)).collect();
        assert!(matches!(
            review::bulk_update_by_ids(&w, &fin, &too_many, &resolve()).await,
            Err(ServiceError::BadInput(m)) if m.contains("at most 20000")
        ));
        assert!(matches!(
            review::bulk_update_by_ids(&w, &fin, &[ids[1], 9_999_999], &resolve()).await,
            Err(ServiceError::NotFound(m)) if m.contains("9999999")
        ));
        let (d1, _) = review::show(&w, &fin, ids[1]).await.expect("show");
        assert_eq!(d1.state, ReviewState::Open, "all or nothing");
        assert!(matches!(
            review::bulk_update_by_ids(
                &w,
                &fin,
                &ids,
                &ReviewChange {
                    state: Some(ReviewState::Resolved),
                    ..Default::default()
                }
            )
            .await,
            Err(ServiceError::BadInput(_))
        ));
        assert!(matches!(
            review::undo(&w, &fin, undo_id + 1000).await,
            Err(ServiceError::NotFound(_))
        ));
        assert!(audited(&w, "discrepancy.undo").await.is_empty());
        w.db.close().await;
        db.drop_db().await;
    }
}
