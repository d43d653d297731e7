//! Alipay certificate mode through the key vault (issue 16, points 13 and 14), on SQLite and
//! PostgreSQL: the three console files are imported (a certificate that does not chain to the
//! root, or has expired, is refused with the reason), the account's adapter then sends the
//! certificate SNs to a sandbox playing certificate mode, and a renewed Alipay certificate
//! the sandbox switches to is downloaded, checked and kept in the vault as the new active
//! version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keys_common;

use chrono::{Duration, Utc};
use keys_common::*;
use paydesk_providers::adapter::PaymentState;
use paydesk_providers::keys::PrivateKey;
use paydesk_providers::x509::{issue, CertSpec, X509};
use paydesk_sandbox::{Sandbox, SandboxConfig, SandboxKeys};
use paydesk_service::vault::{self, ImportInput};
use paydesk_vault::Purpose;
use secrecy::SecretString;

#[tokio::test(flavor = "multi_thread")]
async fn certificate_mode_imports_checks_calls_and_keeps_a_renewed_certificate() {
    let app_key = PrivateKey::generate().unwrap();
    let sandbox_keys = SandboxKeys::generate().unwrap();
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let a = admin();
        let account = account("alipay-main");
        let h = Sandbox::start(
            SandboxConfig {
                keys: sandbox_keys.clone(),
                alipay_app_id: account.credential("app_id").unwrap_or_default().to_string(),
                alipay_pid: "2088000000000001".into(),
                alipay_app_public_key: app_key.public_key(),
                wechat_mchid: "1900000001".into(),
                wechat_merchant_serial: "01".into(),
                wechat_merchant_public_key: app_key.public_key(),
                apiv3_key: APIV3.into(),
                stripe_secret_key: "sk_test_x".into(),
            },
            0,
        )
        .await
        .unwrap();
        let files = h.enable_alipay_cert_mode().unwrap();

        // The app key with its app certificate.
        let app = v
            .import(
                &a,
                &account.name,
                &ImportInput::AlipayAppKey {
                    private_key: SecretString::from(app_key.to_pkcs8_pem().unwrap()),
                    public_key: Some(files.app_cert.clone()),
                },
            )
            .await
            .unwrap();
        let app_sn = X509::first_of_pem(&files.app_cert).unwrap().alipay_sn();
        assert_eq!(app.info.key_id.as_deref(), Some(app_sn.as_str()));

        // An Alipay certificate from another root: refused, naming it and the reason.
        let stranger_key = PrivateKey::generate().unwrap();
        let now = Utc::now();
        let stranger_root = issue(
            &CertSpec {
                subject: vec![("C", "CN".into()), ("CN", "Another Root".into())],
                serial: vec![1],
                not_before: now - Duration::days(1),
                not_after: now + Duration::days(100),
                ca: true,
            },
            &stranger_key.public_key(),
            None,
            &stranger_key,
        )
        .unwrap();
        let e = v
            .import(
                &a,
                &account.name,
                &ImportInput::AlipayPublicCert {
                    cert: files.alipay_cert.clone(),
                    root: stranger_root.to_pem(),
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("Alipay public certificate"), "{e}");
        assert!(e.contains("wrong issuer"), "{e}");
        // An expired one.
        let expired = issue(
            &CertSpec {
                subject: vec![("C", "CN".into()), ("CN", "Old Alipay".into())],
                serial: vec![0x42],
                not_before: now - Duration::days(800),
                not_after: now - Duration::days(70),
                ca: false,
            },
            &stranger_key.public_key(),
            Some(&stranger_root),
            &stranger_key,
        )
        .unwrap();
        let e = v
            .import(
                &a,
                &account.name,
                &ImportInput::AlipayPublicCert {
                    cert: expired.to_pem(),
                    root: stranger_root.to_pem(),
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("certificate 42"), "{e}");
        assert!(e.contains("expired on"), "{e}");

        let pub_v = v
            .import(
                &a,
                &account.name,
                &ImportInput::AlipayPublicCert {
                    cert: files.alipay_cert.clone(),
                    root: files.root_cert.clone(),
                },
            )
            .await
            .unwrap();
        let first_sn = X509::first_of_pem(&files.alipay_cert).unwrap().alipay_sn();
        assert_eq!(pub_v.info.key_id.as_deref(), Some(first_sn.as_str()));

        // Calls in certificate mode: the sandbox checks app_cert_sn and alipay_root_cert_sn.
        let adapter = v
            .adapter_for_calls(&account, &h.alipay_gateway_url, &a)
            .await
            .unwrap();
        let s = adapter.query_payment("NO-SUCH-ORDER").await.unwrap();
        assert_eq!(s.state, PaymentState::NotFound);

        // Alipay renews its certificate: the call downloads it and the vault keeps it.
        let renewed = h.renew_alipay_cert().unwrap();
        let s = adapter.query_payment("NO-SUCH-ORDER-2").await.unwrap();
        assert_eq!(s.state, PaymentState::NotFound);
        let listing = v.list(&a).await.unwrap();
        let public = listing
            .iter()
            .find(|l| l.account == account.name && l.purpose == Purpose::AlipayPublicKey)
            .unwrap();
        let active: Vec<_> = public
            .versions
            .iter()
            .filter(|x| x.state == paydesk_vault::VersionState::Active)
            .collect();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].info.key_id.as_deref(), Some(renewed.as_str()));
        assert_eq!(active[0].source, "download");
        // The next adapter starts with it: no download, the old certificate in its grace.
        let cfg = v
            .alipay_config(&account, &h.alipay_gateway_url, None)
            .await
            .unwrap();
        let certs = cfg.certificates.clone().unwrap();
        assert_eq!(certs.alipay_certs.len(), 2);
        assert_eq!(
            X509::first_of_pem(&certs.alipay_certs[0])
                .unwrap()
                .alipay_sn(),
            renewed
        );
        let fresh = paydesk_providers::alipay::AlipayAdapter::new(
            cfg,
            paydesk_providers::http::HttpOptions::default(),
        )
        .unwrap();
        assert!(fresh.known_alipay_cert_sns().contains(&renewed));
        assert_eq!(fresh.cert_sns().map(|(app, _)| app), Some(app_sn.clone()));
        h.shutdown().await;
    }
}
