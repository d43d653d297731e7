//! Refund records driven through the core's lifecycle table, on SQLite and PostgreSQL:
//! admission, the approval hold, events applied against the state the transaction reads,
//! illegal events writing nothing, and reservations released on failed and rejected.

use paydesk_testkit::db_tests;

use paydesk_core::refund::Event;
use paydesk_core::{Currency, Provider};
use paydesk_store::{AppDb, NewRefund, RefundAdmission, RefundRecord, RefundState, RefundUpdate};

db_tests!(
    lifecycle_through_events,
    approval_hold_approve_and_reject,
    ledger_refuses_wrapped_amounts,
);

async fn open(url: &str) -> AppDb {
    AppDb::open(url).await.expect("open app db")
}

fn new_refund(no: &str, order: &str, amount: i64, approval: Option<&str>) -> NewRefund {
    NewRefund {
        refund_no: no.into(),
        provider: Provider::Alipay,
        account: "alipay-main".into(),
        order_no: order.into(),
        provider_txn_id: Some(format!("TXN-{order}")),
        paid: 10_000,
        amount,
        currency: Currency::CNY,
        reason: "customer request".into(),
        requested_by: "support".into(),
        refunded_external: 1_000,
        approval_reason: approval.map(str::to_string),
        daily_cap: None,
    }
}

async fn create(db: &AppDb, n: &NewRefund) -> RefundRecord {
    match db.create_refund(n).await.expect("create refund") {
        RefundAdmission::Created(r) => *r,
        other => panic!("not admitted: {other:?}"),
    }
}

async fn step(db: &AppDb, id: i64, event: Event) -> Option<RefundRecord> {
    db.transition_refund(
        id,
        event,
        "executor",
        Some(event.as_str()),
        &RefundUpdate::default(),
    )
    .await
    .expect("transition")
}

async fn refundable(db: &AppDb, order: &str) -> i64 {
    db.refund_ledger(Provider::Alipay, order)
        .await
        .expect("ledger")
        .expect("ledger exists")
        .refundable()
}

async fn states(db: &AppDb, id: i64) -> Vec<(Option<RefundState>, RefundState)> {
    db.refund_events(id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.from_state, e.to_state))
        .collect()
}

async fn lifecycle_through_events(url: String) {
    use RefundState as S;
    let db = open(&url).await;
    let r = create(&db, &new_refund("RF-1", "O-1", 2_000, None)).await;
    assert_eq!(r.state, S::Requested);
    assert_eq!(refundable(&db, "O-1").await, 10_000 - 1_000 - 2_000);

    // Not accepted in `requested`: nothing written.
    for e in [
        Event::Approve,
        Event::ProviderSucceeded,
        Event::ProviderUnknown,
    ] {
        assert_eq!(step(&db, r.id, e).await, None, "{e}");
    }
    let sent = step(&db, r.id, Event::Send).await.expect("send");
    assert_eq!(sent.state, S::Sending);
    assert_eq!(step(&db, r.id, Event::Send).await, None, "sent twice");

    let accepted = step(&db, r.id, Event::ProviderAccepted)
        .await
        .expect("accepted");
    assert_eq!(accepted.state, S::Processing);
    // Accepted again while processing: written and recorded as a step that stays.
    let again = step(&db, r.id, Event::ProviderAccepted)
        .await
        .expect("accepted again");
    assert_eq!(again.state, S::Processing);
    let done = step(&db, r.id, Event::ProviderSucceeded)
        .await
        .expect("succeeded");
    assert_eq!(done.state, S::Succeeded);
    for e in Event::ALL {
        assert_eq!(step(&db, r.id, e).await, None, "succeeded + {e}");
    }
    // A succeeded refund keeps its reservation.
    assert_eq!(refundable(&db, "O-1").await, 7_000);
    assert_eq!(
        states(&db, r.id).await,
        [
            (None, S::Requested),
            (Some(S::Requested), S::Sending),
            (Some(S::Sending), S::Processing),
            (Some(S::Processing), S::Processing),
            (Some(S::Processing), S::Succeeded),
        ]
    );

    // A refused create fails the refund and releases its amount.
    let f = create(&db, &new_refund("RF-2", "O-1", 3_000, None)).await;
    assert_eq!(refundable(&db, "O-1").await, 4_000);
    step(&db, f.id, Event::Send).await.expect("send");
    let failed = step(&db, f.id, Event::ProviderRefused)
        .await
        .expect("refused");
    assert_eq!(failed.state, S::Failed);
    assert_eq!(refundable(&db, "O-1").await, 7_000);
    assert_eq!(step(&db, f.id, Event::ProviderFailed).await, None);
    assert_eq!(refundable(&db, "O-1").await, 7_000, "released once");

    // Needs attention keeps the reservation and accepts nothing more.
    let a = create(&db, &new_refund("RF-3", "O-1", 500, None)).await;
    step(&db, a.id, Event::Send).await.expect("send");
    let attn = step(&db, a.id, Event::ProviderNeedsAttention)
        .await
        .expect("needs attention");
    assert_eq!(attn.state, S::NeedsAttention);
    assert_eq!(refundable(&db, "O-1").await, 6_500);
    for e in Event::ALL {
        assert_eq!(step(&db, a.id, e).await, None, "needs_attention + {e}");
    }

    // More than is refundable: refused, nothing written.
    match db
        .create_refund(&new_refund("RF-4", "O-1", 6_501, None))
        .await
        .expect("create")
    {
        RefundAdmission::ExceedsRefundable { ledger } => assert_eq!(ledger.refundable(), 6_500),
        other => panic!("admitted {other:?}"),
    }
    db.close().await;
}

async fn approval_hold_approve_and_reject(url: String) {
    use RefundState as S;
    let db = open(&url).await;
    let held = create(
        &db,
        &new_refund("RF-10", "O-2", 4_000, Some("over the support limit")),
    )
    .await;
    assert_eq!(held.state, S::AwaitingApproval);
    assert_eq!(
        states(&db, held.id).await,
        [
            (None, S::Requested),
            (Some(S::Requested), S::AwaitingApproval)
        ]
    );
    assert_eq!(step(&db, held.id, Event::Send).await, None, "not approved");
    let approved = db
        .transition_refund(
            held.id,
            Event::Approve,
            "approver",
            Some("ok"),
            &RefundUpdate {
                decided_by: Some("approver".into()),
                decision_note: Some("ok".into()),
                ..Default::default()
            },
        )
        .await
        .expect("approve")
        .expect("approved");
    assert_eq!(approved.state, S::Requested);
    assert_eq!(approved.decided_by.as_deref(), Some("approver"));
    assert!(approved.decided_at.is_some());
    assert_eq!(step(&db, held.id, Event::Reject).await, None, "decided");

    let other = create(&db, &new_refund("RF-11", "O-2", 2_000, Some("daily count"))).await;
    assert_eq!(refundable(&db, "O-2").await, 10_000 - 1_000 - 4_000 - 2_000);
    let rejected = step(&db, other.id, Event::Reject).await.expect("reject");
    assert_eq!(rejected.state, S::Rejected);
    assert_eq!(refundable(&db, "O-2").await, 5_000);
    for e in Event::ALL {
        assert_eq!(step(&db, other.id, e).await, None, "rejected + {e}");
    }
    db.close().await;
}

/// Issue 16, point 2: two huge mirror refunds used to wrap to a negative "refunded outside
/// Paydesk" (i64::MIN), and SQLite's ledger check (`paid - refunded_external - reserved >=
/// amount`, computed in floating point once it overflows) then admitted a refund far above
/// what was paid. Negative ledger amounts are refused with a clear error, nothing written.
async fn ledger_refuses_wrapped_amounts(url: String) {
    let db = open(&url).await;
    for (paid, external) in [(10_000, i64::MIN), (10_000, -1), (-5, 0)] {
        let mut n = new_refund("RF-WRAP", "SO-WRAP", 5_000_000, None);
        n.paid = paid;
        n.refunded_external = external;
        match db.create_refund(&n).await {
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("SO-WRAP") && msg.contains("cannot be negative"),
                    "{msg}"
                );
            }
            Ok(other) => {
                panic!("paid {paid}, refunded outside {external}: expected an error, got {other:?}")
            }
        }
        assert!(db.refund_by_no("RF-WRAP").await.expect("read").is_none());
        assert!(db
            .refund_ledger(Provider::Alipay, "SO-WRAP")
            .await
            .expect("ledger")
            .is_none());
    }
    // The same order with sound amounts is still refundable up to what is left.
    let n = new_refund("RF-FINE", "SO-WRAP", 9_000, None);
    create(&db, &n).await;
    let over = new_refund("RF-OVER", "SO-WRAP", 1, None);
    assert!(matches!(
        db.create_refund(&over).await.expect("create"),
        RefundAdmission::ExceedsRefundable { .. }
    ));
    db.close().await;
}
