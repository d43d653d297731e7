//! Rotation flows against the provider sandbox: activating a new Alipay app key while
//! statement downloads and refunds run (every one succeeds, no refund is lost or doubled),
//! and WeChat platform certificate
//! refresh (works on an unknown serial, fails closed when the certificate cannot be obtained).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::sliced_string_as_bytes
)]

mod keys_common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Duration;
use keys_common::*;
use paydesk_core::{BillDate, Provider};
use paydesk_providers::alipay::sign::request_sign_content;
use paydesk_providers::keys::{verify_sha256_b64, Certificate, PrivateKey};
use paydesk_sandbox::{Fault, FaultKind, Sandbox, SandboxKeys};
use paydesk_service::vault::{self, ImportInput};
use paydesk_vault::{Purpose, VersionState};
use rsa::RsaPublicKey;
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Alipay's 48-hour window, modelled: a gateway that accepts requests signed by the old OR
/// the new app key (routing each to the sandbox that knows that key).
struct Gateway {
    old_key: RsaPublicKey,
    old_url: String,
    new_url: String,
    client: reqwest::Client,
    old_hits: AtomicUsize,
    new_hits: AtomicUsize,
}

async fn gateway(State(g): State<Arc<Gateway>>, body: Bytes) -> impl IntoResponse {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let sign = params
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let by_old = verify_sha256_b64(&g.old_key, request_sign_content(&params).as_bytes(), &sign);
    let url = if by_old {
        g.old_hits.fetch_add(1, Ordering::SeqCst);
        &g.old_url
    } else {
        g.new_hits.fetch_add(1, Ordering::SeqCst);
        &g.new_url
    };
    let resp = g
        .client
        .post(url)
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body(body.to_vec())
        .send()
        .await
        .expect("sandbox answers");
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let bytes = resp.bytes().await.unwrap_or_default();
    (status, [("content-type", ct)], bytes.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn activating_the_alipay_app_key_under_load_loses_no_request() {
    let keys = SandboxKeys::generate().unwrap();
    let old = PrivateKey::generate().unwrap();
    let new = PrivateKey::generate().unwrap();
    let wechat = PrivateKey::generate().unwrap();
    let a = Sandbox::start(sandbox_config(&keys, old.public_key(), &wechat, "01"), 0)
        .await
        .unwrap();
    a.add_transactions(
        Provider::Alipay,
        vec![line(Provider::Alipay, "alipay-main")],
    );
    // The admin uploads the new public key in Alipay's console: from then on Alipay accepts
    // both until the old one is removed.
    let http = reqwest::Client::new();
    let uploaded = http
        .post(format!("{}/_control/keys", a.base_url))
        .json(&serde_json::json!({
            "provider": "alipay",
            "public_key": paydesk_providers::keys::public_key_pem(&new.public_key()).unwrap(),
        }))
        .send()
        .await
        .unwrap();
    assert!(uploaded.status().is_success());
    let g = Arc::new(Gateway {
        old_key: old.public_key(),
        old_url: a.alipay_gateway_url.clone(),
        new_url: a.alipay_gateway_url.clone(),
        client: reqwest::Client::new(),
        old_hits: AtomicUsize::new(0),
        new_hits: AtomicUsize::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!(
        "http://{}/alipay/gateway.do",
        listener.local_addr().unwrap()
    );
    let app = axum::Router::new()
        .route("/alipay/gateway.do", axum::routing::post(gateway))
        .with_state(g.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });

    for (round, t) in backends().await.into_iter().enumerate() {
        g.old_hits.store(0, Ordering::SeqCst);
        g.new_hits.store(0, Ordering::SeqCst);
        let db = vault_db(&t).await;
        let v = Arc::new(
            vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
                .await
                .unwrap(),
        );
        let adm = admin();
        v.import(
            &adm,
            "alipay-main",
            &ImportInput::AlipayAppKey {
                private_key: SecretString::from(old.to_pkcs8_pem().unwrap()),
                public_key: None,
            },
        )
        .await
        .unwrap();
        v.import(
            &adm,
            "alipay-main",
            &ImportInput::AlipayPublicKey {
                text: a.alipay_public_key_pem.clone(),
            },
        )
        .await
        .unwrap();
        // The new key, pending; "test" calls the provider with it.
        let pending = v
            .import(
                &adm,
                "alipay-main",
                &ImportInput::AlipayAppKey {
                    private_key: SecretString::from(new.to_pkcs8_pem().unwrap()),
                    public_key: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(pending.state, VersionState::Pending);
        let account = account("alipay-main");
        let outcome = v
            .test(
                &adm,
                &account,
                Purpose::AlipayAppKey,
                pending.version,
                &proxy_url,
            )
            .await
            .unwrap();
        assert_eq!(outcome, "accepted");
        assert!(
            g.new_hits.load(Ordering::SeqCst) >= 1,
            "the test call was signed with the pending key"
        );

        let date = BillDate::parse("2026-01-15").unwrap();
        let mut tasks = Vec::new();
        for worker in 0..4 {
            let v = v.clone();
            let account = account.clone();
            let url = proxy_url.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0;
                for i in 0..6 {
                    let adapter = v
                        .adapter(&account, &url)
                        .await
                        .expect("adapter from the vault");
                    adapter
                        .download_statement(date)
                        .await
                        .expect("download during rotation");
                    let refund = adapter
                        .create_refund(&paydesk_providers::adapter::RefundRequest {
                            order_no: "PD-VAULT-1".into(),
                            refund_no: format!("RFROT{round}W{worker}N{i}"),
                            amount: 100,
                            order_total: 12_300,
                            currency: paydesk_core::Currency::CNY,
                            reason: Some("rotation under load".into()),
                            provider_payment_id: None,
                        })
                        .await
                        .expect("refund during rotation");
                    assert_ne!(
                        refund.state,
                        paydesk_providers::adapter::RefundState::Failed,
                        "{refund:?}"
                    );
                    ok += 1;
                }
                ok
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        v.activate(
            &adm,
            "alipay-main",
            Purpose::AlipayAppKey,
            pending.version,
            Duration::hours(48),
        )
        .await
        .unwrap();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("download task");
        }
        assert_eq!(total, 24, "every download and refund succeeded");
        // The provider holds exactly those 24 refunds of this round: none lost, none twice.
        let refunds: serde_json::Value = http
            .get(format!("{}/_control/refunds", a.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let prefix = format!("RFROT{round}W");
        let ours: Vec<&serde_json::Value> = refunds["refunds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["refund_no"].as_str().unwrap_or("").starts_with(&prefix))
            .collect();
        assert_eq!(ours.len(), 24, "{refunds}");

        // After activation, new adapters sign with the new key only.
        let before = g.old_hits.load(Ordering::SeqCst);
        v.adapter(&account, &proxy_url)
            .await
            .unwrap()
            .download_statement(date)
            .await
            .unwrap();
        assert_eq!(g.old_hits.load(Ordering::SeqCst), before);
        let listing = v.list(&adm).await.unwrap();
        let app = listing
            .iter()
            .find(|l| l.purpose == Purpose::AlipayAppKey)
            .unwrap();
        let states: Vec<VersionState> = app.versions.iter().map(|x| x.state).collect();
        assert_eq!(states, vec![VersionState::Retired, VersionState::Active]);
        assert!(app.versions[1]
            .test_outcome
            .as_deref()
            .unwrap_or("")
            .starts_with("ok"));
        db.close().await;
        t.drop_db().await;
    }
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wechat_certificates_refresh_on_unknown_serial_and_fail_closed() {
    let keys = SandboxKeys::generate().unwrap();
    let wechat = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&wechat, &[0x3c, 0x55, 0x01], "1900000001").unwrap();
    let sb = Sandbox::start(
        sandbox_config(
            &keys,
            PrivateKey::generate().unwrap().public_key(),
            &wechat,
            &cert.serial_hex,
        ),
        0,
    )
    .await
    .unwrap();
    sb.add_transactions(
        Provider::Wechat,
        vec![line(Provider::Wechat, "wechat-main")],
    );
    let date = BillDate::parse("2026-01-15").unwrap();
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let adm = admin();
        // A certificate for another merchant is refused with the reason.
        let e = v
            .import(
                &adm,
                "wechat-main",
                &ImportInput::WechatMerchant {
                    key: SecretString::from(wechat.to_pkcs8_pem().unwrap()),
                    cert: cert.to_pem(),
                    mchid: "1900000999".into(),
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("another merchant"), "{e}");
        import_wechat_merchant(&v, &wechat, &cert, APIV3).await;
        let account = account("wechat-main");

        // Fails closed: the certificate download answer is signed with a serial nobody has.
        sb.set_fault(
            Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("/v3/certificates"),
        );
        let e = v
            .refresh_wechat_certs(&adm, &account, &sb.wechat_base_url)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("failed verification") && e.contains("no certificate was stored"),
            "{e}"
        );
        assert!(v
            .verification_keys(
                "wechat-main",
                Purpose::WechatPlatformCert,
                chrono::Utc::now()
            )
            .await
            .unwrap()
            .is_empty());

        // Works: the serial is unknown to the vault, the refresh stores it with its validity.
        let added = v
            .refresh_wechat_certs(&adm, &account, &sb.wechat_base_url)
            .await
            .unwrap();
        assert_eq!(added, vec![sb.wechat_platform_serial.clone()]);
        assert!(
            v.refresh_wechat_certs(&adm, &account, &sb.wechat_base_url)
                .await
                .unwrap()
                .is_empty(),
            "known certificates are not stored twice"
        );
        let listing = v.list(&adm).await.unwrap();
        let certs = listing
            .iter()
            .find(|l| l.purpose == Purpose::WechatPlatformCert)
            .unwrap();
        assert_eq!(certs.versions[0].state, VersionState::Active);
        assert_eq!(
            certs.versions[0].info.serial.as_deref(),
            Some(sb.wechat_platform_serial.as_str())
        );
        assert!(certs.versions[0].info.not_after.is_some());

        // An adapter built from the vault verifies with the stored certificate.
        v.adapter(&account, &sb.wechat_base_url)
            .await
            .unwrap()
            .download_statement(date)
            .await
            .unwrap();
        // An answer signed with an unknown serial: the adapter refreshes, still cannot find
        // the certificate, and refuses the answer (fails closed).
        sb.set_fault(
            Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("/v3/bill/tradebill"),
        );
        let e = v
            .adapter(&account, &sb.wechat_base_url)
            .await
            .unwrap()
            .download_statement(date)
            .await
            .unwrap_err();
        assert!(e.to_string().to_lowercase().contains("serial"), "{e}");
        sb.clear_faults();

        // The merchant key test signs /v3 calls with the stored key.
        let merchant = listing
            .iter()
            .find(|l| l.purpose == Purpose::WechatMerchantKey)
            .unwrap();
        assert_eq!(
            merchant.versions[0].info.serial.as_deref(),
            Some(cert.serial_hex.as_str())
        );
        db.close().await;
        t.drop_db().await;
    }
    sb.shutdown().await;
}

/// Stripe's key roll: the merchant rolls the secret key in the dashboard (both keys work until
/// the old one expires), imports the new key, tests and activates it; the old version retires
/// with the overlap as its grace. When Stripe ends the overlap, Paydesk's calls keep working,
/// and the old version is refused by Stripe as it would be.
#[tokio::test(flavor = "multi_thread")]
async fn rolling_the_stripe_key_keeps_calls_working_through_the_end_of_the_overlap() {
    const OLD: &str = "sk_test_sandboxvaultkey123";
    const NEW: &str = "sk_test_RolledSandboxKey4567890";
    let keys = SandboxKeys::generate().unwrap();
    let wechat = PrivateKey::generate().unwrap();
    let date = BillDate::parse("2026-01-15").unwrap();
    for t in backends().await {
        let sb = Sandbox::start(
            sandbox_config(
                &keys,
                PrivateKey::generate().unwrap().public_key(),
                &wechat,
                "5E7A11",
            ),
            0,
        )
        .await
        .unwrap();
        let mut charge = line(Provider::Stripe, "stripe-main");
        charge.currency = paydesk_core::Currency::USD;
        charge.provider_txn_id = "ch_3RollTest0001".into();
        sb.add_transactions(Provider::Stripe, vec![charge]);
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let adm = admin();
        let account = account("stripe-main");
        let import = |key: &'static str| {
            let v = &v;
            let adm = &adm;
            async move {
                v.import(
                    adm,
                    "stripe-main",
                    &ImportInput::StripeSecretKey {
                        key: SecretString::from(key),
                    },
                )
                .await
                .unwrap()
            }
        };
        import(OLD).await;
        let download = || async {
            v.adapter(&account, &sb.stripe_base_url)
                .await
                .unwrap()
                .download_statement(date)
                .await
        };
        download().await.unwrap();
        let stripe_versions = || async {
            v.list(&adm)
                .await
                .unwrap()
                .into_iter()
                .find(|l| l.purpose == Purpose::StripeSecretKey)
                .expect("Stripe key listed")
        };

        // Imported before the roll at Stripe: pending, and its test is refused (401).
        import(NEW).await;
        let stripe = stripe_versions().await;
        let states: Vec<_> = stripe
            .versions
            .iter()
            .map(|x| (x.version, x.state))
            .collect();
        assert!(states.contains(&(2, VersionState::Pending)), "{states:?}");
        let test = |version| {
            v.test(
                &adm,
                &account,
                Purpose::StripeSecretKey,
                version,
                &sb.stripe_base_url,
            )
        };
        let e = test(2).await.unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");

        // Rolled at Stripe: the test passes, activation retires version 1 with a 24 h overlap.
        sb.roll_stripe_key(NEW);
        test(2).await.unwrap();
        v.activate(
            &adm,
            "stripe-main",
            Purpose::StripeSecretKey,
            2,
            Duration::hours(24),
        )
        .await
        .unwrap();
        let stripe = stripe_versions().await;
        let old = stripe.versions.iter().find(|x| x.version == 1).unwrap();
        assert_eq!(old.state, VersionState::Retired);
        let until = old.usable_until.expect("overlap end recorded");
        assert!(
            (until - chrono::Utc::now() - Duration::hours(24))
                .num_minutes()
                .abs()
                < 2
        );
        let new = stripe.versions.iter().find(|x| x.version == 2).unwrap();
        assert_eq!(new.state, VersionState::Active);

        // Stripe ends the overlap: calls go on with the new key; the old one is refused.
        sb.expire_stripe_key(OLD);
        download().await.unwrap();
        let e = test(1).await.unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        db.close().await;
        t.drop_db().await;
        sb.shutdown().await;
    }
}
