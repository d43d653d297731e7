//! Refund service: limits and approval, amount validation, permissions, audit, execution
//! against the in-process sandbox (including retryable faults and an unknown outcome), and
//! the records reconciliation reads.

// Amounts are written yuan_fen (100_00 = 100.00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use chrono::{Duration, Utc};
use paydesk_core::money::Money;
use paydesk_core::{Actor, Currency, Provider, Role};
use paydesk_sandbox::{Fault, FaultKind};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::refunds::{self, RefundInput};
use paydesk_service::ServiceError;
use paydesk_store::{AuditFilter, RefundState};
use paydesk_testkit::actors::{admin, approver, finance, support};
use paydesk_testkit::refunds::*;

fn input(order: &str, minor: i64, currency: Currency) -> RefundInput {
    RefundInput {
        order: order.into(),
        amount: Money::new(minor, currency),
        reason: "customer returned the goods".into(),
        account: None,
    }
}

struct Env {
    _dir: tempfile::TempDir,
    w: Workspace,
    sandbox: paydesk_sandbox::SandboxHandle,
}

async fn env(refunds_extra: &str) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    init_workspace(dir.path(), None).await;
    let sandbox = start_sandbox(dir.path()).await;
    point_at_sandbox(dir.path(), &sandbox.base_url, refunds_extra);
    let w = Workspace::open(dir.path()).await.expect("open");
    Env {
        _dir: dir,
        w,
        sandbox,
    }
}

/// A refusal: bad input, or a more precise code (not found, conflict, over the refundable).
fn bad_input(r: Result<impl std::fmt::Debug, ServiceError>) -> String {
    match r {
        Err(
            ServiceError::BadInput(m)
            | ServiceError::NotFound(m)
            | ServiceError::Conflict(m)
            | ServiceError::RefundExceedsRefundable(m),
        ) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_execute_succeeds_for_every_provider() {
    let e = env("").await;
    for (order, currency) in [
        ("ALI-1001", Currency::CNY),
        ("WX-2001", Currency::CNY),
        ("ST-3001", Currency::USD),
    ] {
        let rec = refunds::request_refund(&e.w, &support(), &input(order, 25_00, currency))
            .await
            .expect("request");
        assert_eq!(rec.state, RefundState::Requested, "{order}");
        let done = refunds::execute_refund(&e.w, &support(), rec.id)
            .await
            .expect("execute");
        assert_eq!(done.state, RefundState::Succeeded, "{order}: {done:?}");
        assert!(done.provider_refund_id.is_some(), "{order}");
        let at_provider = e.sandbox.refunds_for(order);
        assert_eq!(at_provider.len(), 1, "{order}: {at_provider:?}");
        assert_eq!(at_provider[0].amount, 25_00);
        assert_eq!(at_provider[0].refund_no, done.refund_no);

        // The order view now shows it, and the refundable amount went down.
        let d = refunds::order_detail(&e.w, &support(), order, true)
            .await
            .expect("detail");
        assert_eq!(d.refunded_by_paydesk, 25_00);
        assert_eq!(d.refundable, 75_00);
        assert_eq!(d.provider_refunds.len(), 1);
        assert_eq!(
            d.provider_refunds[0].state, "succeeded",
            "{:?}",
            d.provider_refunds
        );

        // Every transition is recorded with time and actor.
        let events = e.w.db.refund_events(done.id).await.expect("events");
        let path: Vec<&str> = events.iter().map(|e| e.to_state.as_str()).collect();
        assert_eq!(path, ["requested", "sending", "succeeded"], "{events:?}");
        assert!(events.iter().all(|e| e.actor == "support"));
    }
    // Reconciliation sees them as Paydesk refunds.
    let now = Utc::now();
    let local =
        e.w.db
            .paydesk_refunds_between(
                Provider::Wechat,
                now - Duration::hours(1),
                now + Duration::hours(1),
            )
            .await
            .expect("local refunds");
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].origin, paydesk_core::RefundOrigin::Paydesk);
    assert_eq!(local[0].order_no, "WX-2001");
    let by_no =
        e.w.db
            .paydesk_refunds_by_numbers(
                Provider::Wechat,
                &[local[0].refund_no.to_string(), "nope".into()],
            )
            .await
            .expect("by numbers");
    assert_eq!(by_no, local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_are_validated_in_the_service() {
    let e = env("").await;
    let s = support();
    let m =
        bad_input(refunds::request_refund(&e.w, &s, &input("ALI-1001", 0, Currency::CNY)).await);
    assert!(m.contains("must be positive"), "{m}");
    let m = bad_input(
        refunds::request_refund(&e.w, &s, &input("ALI-1001", -5_00, Currency::CNY)).await,
    );
    assert!(m.contains("must be positive"), "{m}");
    let m =
        bad_input(refunds::request_refund(&e.w, &s, &input("ALI-1001", 5_00, Currency::USD)).await);
    assert!(m.contains("paid in CNY") && m.contains("USD"), "{m}");
    let over = refunds::request_refund(&e.w, &s, &input("ALI-1001", 100_01, Currency::CNY)).await;
    assert_eq!(
        over.as_ref().err().map(ServiceError::code),
        Some("refund_exceeds_refundable")
    );
    let m = bad_input(over);
    assert!(m.contains("refundable amount of 100.00 CNY"), "{m}");
    let mut no_reason = input("ALI-1001", 1_00, Currency::CNY);
    no_reason.reason = "  ".into();
    assert!(bad_input(refunds::request_refund(&e.w, &s, &no_reason).await).contains("reason"));
    let m =
        bad_input(refunds::request_refund(&e.w, &s, &input("NO-SUCH", 1_00, Currency::CNY)).await);
    assert!(m.contains("no order \"NO-SUCH\""), "{m}");

    // The mirror's earlier refund (300.00 of 2000.00) counts; the order is found by its
    // customer reference too. Admin has no limit by default.
    let m = bad_input(
        refunds::request_refund(
            &e.w,
            &admin(),
            &input("bob@example.com", 1_700_01, Currency::CNY),
        )
        .await,
    );
    assert!(m.contains("refundable amount of 1700.00 CNY"), "{m}");
    assert!(m.contains("refunded outside Paydesk 300.00 CNY"), "{m}");
    let ok = refunds::request_refund(
        &e.w,
        &admin(),
        &input("bob@example.com", 1_700_00, Currency::CNY),
    )
    .await
    .expect("exactly the refundable amount");
    assert_eq!(ok.state, RefundState::Requested);
    // In flight counts too: nothing is left.
    let m = bad_input(
        refunds::request_refund(&e.w, &admin(), &input("ALI-1002", 1, Currency::CNY)).await,
    );
    assert!(m.contains("refundable amount of 0.00 CNY"), "{m}");
    // Nothing reached the provider.
    assert!(e.sandbox.refunds_for("ALI-1001").is_empty());
    // Refusals are audited.
    let refused =
        e.w.db
            .audit_entries(
                &AuditFilter {
                    action: Some("refund.request".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .expect("audit");
    assert!(
        refused.iter().filter(|a| a.outcome == "refused").count() >= 6,
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_limits_and_approval() {
    let e = env("").await;
    // Finance can look but cannot request.
    let err = refunds::request_refund(&e.w, &finance(), &input("WX-2002", 1_00, Currency::CNY))
        .await
        .expect_err("finance cannot refund");
    assert!(matches!(err, ServiceError::Denied(_)), "{err}");
    assert!(err.to_string().contains("refund.request"), "{err}");
    refunds::order_detail(&e.w, &finance(), "WX-2002", false)
        .await
        .expect("finance may view orders");

    // Support over the limit (default 500.00): waits for approval.
    let big = refunds::request_refund(&e.w, &support(), &input("ALI-1002", 600_00, Currency::CNY))
        .await
        .expect("request");
    assert_eq!(big.state, RefundState::AwaitingApproval);
    assert!(big
        .approval_reason
        .as_deref()
        .unwrap_or("")
        .contains("support limit of 500.00 CNY"));
    // Executing it does nothing until approved.
    let same = refunds::execute_refund(&e.w, &support(), big.id)
        .await
        .expect("no-op");
    assert_eq!(same.state, RefundState::AwaitingApproval);
    assert!(e.sandbox.refunds_for("ALI-1002").is_empty());
    // The requester cannot approve (support lacks the permission anyway).
    let err = refunds::decide_refund(&e.w, &support(), big.id, true, None)
        .await
        .expect_err("support cannot approve");
    assert!(matches!(err, ServiceError::Denied(_)));
    // Nor can an approver approve their own.
    let own = refunds::request_refund(&e.w, &approver(), &input("ALI-1002", 700_00, Currency::CNY))
        .await
        .expect("request");
    assert_eq!(own.state, RefundState::AwaitingApproval);
    let m = bad_input(refunds::decide_refund(&e.w, &approver(), own.id, true, Some("mine")).await);
    assert!(m.contains("cannot approve"), "{m}");
    // Another approver approves; then it executes.
    let ok = refunds::decide_refund(&e.w, &admin(), big.id, true, Some("customer VIP"))
        .await
        .expect("approve");
    assert_eq!(ok.state, RefundState::Requested);
    assert_eq!(ok.decided_by.as_deref(), Some("admin"));
    let done = refunds::execute_refund(&e.w, &admin(), ok.id)
        .await
        .expect("execute");
    assert_eq!(done.state, RefundState::Succeeded);
    // Rejection is recorded with its note and releases the amount.
    let before = refunds::order_detail(&e.w, &support(), "ALI-1002", false)
        .await
        .expect("detail");
    let rej = refunds::decide_refund(
        &e.w,
        &Actor::new("approver2", [Role::Approver]),
        own.id,
        false,
        Some("not eligible"),
    )
    .await
    .expect("reject");
    assert_eq!(rej.state, RefundState::Rejected);
    assert_eq!(rej.decision_note.as_deref(), Some("not eligible"));
    let after = refunds::order_detail(&e.w, &support(), "ALI-1002", false)
        .await
        .expect("detail");
    assert_eq!(after.refundable, before.refundable + 700_00);
    let ledger =
        e.w.db
            .refund_ledger(Provider::Alipay, "ALI-1002")
            .await
            .expect("ledger")
            .expect("exists");
    assert_eq!(ledger.refundable(), after.refundable);
    // Deciding twice is refused.
    let m = bad_input(refunds::decide_refund(&e.w, &admin(), own.id, true, None).await);
    assert!(m.contains("not awaiting approval"), "{m}");

    // Audit: request, approve, reject, send, execute, denial.
    let all =
        e.w.db
            .audit_entries(
                &AuditFilter {
                    action: Some("refund.".into()),
                    ..Default::default()
                },
                500,
                0,
            )
            .await
            .expect("audit");
    for (action, outcome) in [
        ("refund.request", "ok"),
        ("refund.approve", "ok"),
        ("refund.approve", "denied"),
        ("refund.reject", "ok"),
        ("refund.send", "ok"),
        ("refund.execute", "succeeded"),
        ("refund.request", "denied"),
    ] {
        assert!(
            all.iter()
                .any(|a| a.action == action && a.outcome == outcome),
            "missing audit {action} {outcome}: {all:?}"
        );
    }
    assert!(e.w.db.audit_verify().await.expect("verify").intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_count_sends_further_requests_for_approval() {
    let e = env("").await;
    let path = e._dir.path().join("paydesk.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("daily_count = 20", "daily_count = 2")).expect("write");
    let w = Workspace::open(e._dir.path()).await.expect("reopen");
    for i in 0..2 {
        let r = refunds::request_refund(&w, &support(), &input("WX-2002", 1_00, Currency::CNY))
            .await
            .expect("ok");
        assert_eq!(r.state, RefundState::Requested, "request {i}");
    }
    let third = refunds::request_refund(&w, &support(), &input("WX-2002", 1_00, Currency::CNY))
        .await
        .expect("ok");
    assert_eq!(third.state, RefundState::AwaitingApproval);
    assert!(
        third
            .approval_reason
            .as_deref()
            .unwrap_or("")
            .contains("daily count"),
        "{third:?}"
    );
}

/// Retryable errors on every call, an answer lost after the provider committed, a corrupt
/// signature: one refund at the provider, Paydesk agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_outcomes_are_requeried_never_failed() {
    let e = env("").await;
    let cases: [(&str, Currency, Provider, Vec<Fault>); 6] = [
        (
            "ALI-1001",
            Currency::CNY,
            Provider::Alipay,
            vec![Fault::new(Provider::Alipay, FaultKind::SystemError)
                .times(4)
                .only("refund")],
        ),
        (
            "WX-2001",
            Currency::CNY,
            Provider::Wechat,
            vec![Fault::new(Provider::Wechat, FaultKind::RateLimited)
                .times(4)
                .only("refund")],
        ),
        (
            "ST-3001",
            Currency::USD,
            Provider::Stripe,
            vec![Fault::new(Provider::Stripe, FaultKind::RateLimited)
                .times(4)
                .only("refunds")],
        ),
        (
            "ALI-1001",
            Currency::CNY,
            Provider::Alipay,
            vec![Fault::new(
                Provider::Alipay,
                FaultKind::DelayAfterCommit { millis: 2500 },
            )
            .only("alipay.trade.refund")],
        ),
        (
            "WX-2001",
            Currency::CNY,
            Provider::Wechat,
            vec![Fault::new(Provider::Wechat, FaultKind::CorruptSignature).only("refund")],
        ),
        (
            "ST-3001",
            Currency::USD,
            Provider::Stripe,
            vec![
                Fault::new(Provider::Stripe, FaultKind::SystemError)
                    .times(3)
                    .only("refunds"),
                Fault::new(
                    Provider::Stripe,
                    FaultKind::DelayAfterCommit { millis: 2500 },
                )
                .only("refunds"),
            ],
        ),
    ];
    for (order, currency, provider, faults) in cases {
        let before = e.sandbox.refunds_for(order).len();
        for f in faults {
            e.sandbox.set_fault(f);
        }
        let rec = refunds::request_refund(&e.w, &support(), &input(order, 10_00, currency))
            .await
            .expect("request");
        let done = refunds::execute_refund(&e.w, &support(), rec.id)
            .await
            .expect("execute");
        e.sandbox.clear_faults();
        assert_eq!(
            done.state,
            RefundState::Succeeded,
            "{provider} {order}: {done:?}"
        );
        let mine: Vec<_> = e
            .sandbox
            .refunds_for(order)
            .into_iter()
            .filter(|r| r.refund_no == done.refund_no)
            .collect();
        assert_eq!(mine.len(), 1, "{provider}: {mine:?}");
        assert_eq!(mine[0].amount, 10_00);
        assert_eq!(e.sandbox.refunds_for(order).len(), before + 1);
        let expected_id = match provider {
            // Alipay has no refund id: its answers carry the trade number.
            Provider::Alipay => mine[0].txn_id.clone(),
            _ => mine[0].refund_id.clone(),
        };
        assert_eq!(
            done.provider_refund_id.as_deref(),
            Some(expected_id.as_str())
        );
        // The unknown outcome was recorded as an attempt, never as a failure.
        let events = e.w.db.refund_events(done.id).await.expect("events");
        assert!(
            events
                .iter()
                .any(|ev| ev.note.as_deref().unwrap_or("").contains("outcome unknown")),
            "{provider}: {events:?}"
        );
        assert!(events.iter().all(|ev| ev.to_state != RefundState::Failed));
    }
}

/// Reconciliation matches the refund Paydesk executed: the provider's refund line finds its
/// Paydesk record (origin paydesk) instead of being a refund only at the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_matches_paydesk_refunds() {
    let e = env("").await;
    let rec = refunds::request_refund(&e.w, &support(), &input("WX-2002", 12_34, Currency::CNY))
        .await
        .expect("request");
    let done = refunds::execute_refund(&e.w, &support(), rec.id)
        .await
        .expect("execute");
    assert_eq!(done.state, RefundState::Succeeded);
    let refunded_at = done.refunded_at.expect("refunded_at");
    let day = paydesk_core::BillDate::of(refunded_at, chrono_tz::Asia::Shanghai);
    let report = paydesk_service::reconcile::reconcile_account(
        &e.w,
        "wechat-main",
        day,
        None,
        paydesk_service::reconcile::DryRun::Yes,
        &Actor::new("finance", [Role::Finance]),
        &paydesk_service::context::progress::Silent,
    )
    .await
    .expect("reconcile");
    let about_it: Vec<_> = report
        .discrepancies
        .iter()
        .filter(|d| d.refund_no.as_deref() == Some(done.refund_no.as_str()))
        .collect();
    assert!(
        about_it.is_empty(),
        "the Paydesk refund must match its provider line: {about_it:?}"
    );
}
