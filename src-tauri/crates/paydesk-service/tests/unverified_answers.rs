//! Only verified answers count (issue 14, point 11): an error answer whose signature is missing
//! (Alipay) or does not verify (WeChat Pay 4xx) is never "accepted" by a key test, never a
//! "not found", and never marks a refund failed: the refund stays unknown and is queried.
//! Exercised over HTTP against the sandbox (its `UnverifiedRefusal` fault), on SQLite and
//! PostgreSQL where a database is involved.

#![allow(clippy::inconsistent_digit_grouping)]

use paydesk_core::money::Money;
use paydesk_core::{Currency, Provider};
use paydesk_providers::adapter::PaymentState;
use paydesk_providers::error::ErrorKind;
use paydesk_sandbox::{Fault, FaultKind};
use paydesk_service::connect::{self, SandboxHistory};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::refunds::{self, RefundInput};
use paydesk_service::sandbox::DemoCredentials;
use paydesk_service::vault::{self, ImportInput, MasterSource};
use paydesk_store::RefundState;
use paydesk_testkit::actors::{admin, support};
use paydesk_testkit::refunds::*;
use paydesk_vault::{KdfParams, Purpose};
use secrecy::SecretString;

struct Env {
    dir: tempfile::TempDir,
    w: Workspace,
    sandbox: paydesk_sandbox::SandboxHandle,
}

async fn env(database_url: Option<&str>) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    init_workspace(dir.path(), database_url).await;
    let sandbox = start_sandbox(dir.path()).await;
    point_at_sandbox(dir.path(), &sandbox.base_url, "");
    let w = Workspace::open(dir.path()).await.expect("open");
    Env { dir, w, sandbox }
}

fn account(w: &Workspace, provider: Provider) -> paydesk_service::context::config::Account {
    w.config
        .accounts
        .iter()
        .find(|a| a.provider == provider)
        .expect("account")
        .clone()
}

/// The adapters' own reading: an unverified "not found" is not a "not found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_not_found_is_not_an_answer() {
    let e = env(None).await;
    for (provider, only) in [
        (Provider::Alipay, "alipay.trade.query"),
        (Provider::Wechat, "out-trade-no"),
    ] {
        let acct = account(&e.w, provider);
        let conn = connect::open(&e.w, &admin(), &acct, SandboxHistory::Recent(1))
            .await
            .expect("connect");
        let verified = conn
            .adapter
            .query_payment("NO-SUCH-ORDER-1")
            .await
            .expect("a verified not-found answer");
        assert_eq!(verified.state, PaymentState::NotFound, "{provider}");

        e.sandbox
            .set_fault(Fault::new(provider, FaultKind::UnverifiedRefusal).only(only));
        let err = conn
            .adapter
            .query_payment("NO-SUCH-ORDER-2")
            .await
            .expect_err("an unverified answer is no answer");
        e.sandbox.clear_faults();
        assert!(
            matches!(&err.kind, ErrorKind::Unverified { code, .. } if code == "ACQ.TRADE_NOT_EXIST" || code == "RESOURCE_NOT_EXISTS"),
            "{provider}: {err:?}"
        );
        assert!(!err.is_not_found(), "{provider}: {err}");
        assert!(err.outcome_unknown(), "{provider}: {err}");
        assert!(
            err.to_string().contains("without a valid signature"),
            "{err}"
        );
        conn.close().await;
    }
}

/// `keys test` counts only a verified answer: an unsigned ACQ.TRADE_NOT_EXIST is "not verified".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_test_of_an_unsigned_answer_is_not_verified() {
    let e = env(None).await;
    let adm = admin();
    let pass = MasterSource::Passphrase(SecretString::from("blue-lantern-orchard-42".to_string()));
    vault::init(&e.w.db, &adm, &pass, Some(KdfParams::with_costs(512, 1, 1)))
        .await
        .expect("vault init");
    let v = vault::unlock(&e.w.db, &adm, &pass).await.expect("unlock");
    let creds = DemoCredentials::load_or_create(&e.dir.path().join("keys")).expect("demo keys");
    let app_key = v
        .import(
            &adm,
            "alipay-main",
            &ImportInput::AlipayAppKey {
                private_key: SecretString::from(
                    creds.alipay_app_key.to_pkcs8_pem().expect("PKCS#8"),
                ),
                public_key: None,
            },
        )
        .await
        .expect("import app key");
    v.import(
        &adm,
        "alipay-main",
        &ImportInput::AlipayPublicKey {
            text: e.sandbox.alipay_public_key_pem.clone(),
        },
    )
    .await
    .expect("import Alipay public key");
    let acct = account(&e.w, Provider::Alipay);
    let gateway = format!("{}/alipay/gateway.do", e.sandbox.base_url);

    let ok = v
        .test(
            &adm,
            &acct,
            Purpose::AlipayAppKey,
            app_key.version,
            &gateway,
        )
        .await
        .expect("a signed not-found answer accepts the key");
    assert_eq!(ok, "accepted");

    e.sandbox.set_fault(
        Fault::new(Provider::Alipay, FaultKind::UnverifiedRefusal).only("alipay.trade.query"),
    );
    let err = v
        .test(
            &adm,
            &acct,
            Purpose::AlipayAppKey,
            app_key.version,
            &gateway,
        )
        .await
        .expect_err("an unsigned answer does not accept the key");
    e.sandbox.clear_faults();
    let text = err.to_string();
    assert!(text.contains("not verified"), "{text}");
    assert!(!text.contains("accepted"), "{text}");
    assert_eq!(err.code(), "provider_signature", "{text}");
}

fn input(order: &str, minor: i64) -> RefundInput {
    RefundInput {
        order: order.into(),
        amount: Money::new(minor, Currency::CNY),
        reason: "customer returned the goods".into(),
        account: None,
    }
}

/// An unverified refusal of the create call leaves the refund unknown; it is queried and
/// finished with the same refund number, never marked failed.
async fn unverified_refusal_never_fails_a_refund(url: String) {
    let e = env(Some(&url)).await;
    for (order, provider, only) in [
        ("ALI-1001", Provider::Alipay, "alipay.trade.refund"),
        ("WX-2001", Provider::Wechat, "refund"),
    ] {
        e.sandbox
            .set_fault(Fault::new(provider, FaultKind::UnverifiedRefusal).only(only));
        let rec = refunds::request_refund(&e.w, &support(), &input(order, 10_00))
            .await
            .expect("request");
        let done = refunds::execute_refund(&e.w, &support(), rec.id)
            .await
            .expect("execute");
        e.sandbox.clear_faults();
        let events = e.w.db.refund_events(done.id).await.expect("events");
        assert!(
            events.iter().all(|ev| ev.to_state != RefundState::Failed),
            "{provider}: {events:?}"
        );
        assert!(
            events.iter().any(|ev| {
                let note = ev.note.as_deref().unwrap_or("");
                note.contains("outcome unknown") && note.contains("without a valid signature")
            }),
            "{provider}: {events:?}"
        );
        assert_eq!(done.state, RefundState::Succeeded, "{provider}: {done:?}");
        let mine: Vec<_> = e
            .sandbox
            .refunds_for(order)
            .into_iter()
            .filter(|r| r.refund_no == done.refund_no)
            .collect();
        assert_eq!(mine.len(), 1, "{provider}: {mine:?}");
    }
    e.w.db.close().await;
}

paydesk_testkit::db_tests!(unverified_refusal_never_fails_a_refund);
