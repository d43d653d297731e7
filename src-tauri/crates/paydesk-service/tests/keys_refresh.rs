//! WeChat Pay platform certificates kept current: the scheduled download (due every
//! `[vault] certificate_refresh_hours`, failures recorded, warned about and retried later,
//! the certificates held staying in use), certificates an adapter fetched on an unknown
//! `Wechatpay-Serial` kept in the vault, and the expiry warnings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::sliced_string_as_bytes
)]

mod keys_common;

use chrono::{Duration, Utc};
use keys_common::*;
use paydesk_core::{Actor, BillDate, Provider, Role};
use paydesk_providers::keys::{Certificate, PrivateKey};
use paydesk_sandbox::{Fault, FaultKind, Sandbox, SandboxKeys};
use paydesk_service::context::config::VaultSettings;
use paydesk_service::context::workspace::{self, Workspace};
use paydesk_service::vault::WorkspaceVault;
use paydesk_service::vault::{self, CertificateCheck, MasterSource};
use paydesk_vault::{Purpose, VersionState};

const MCHID: &str = "1900000001";

/// A sandbox that knows `merchant` (serial `serial`) and has one payment on 2026-01-15.
async fn sandbox(merchant: &PrivateKey, serial: &str) -> paydesk_sandbox::SandboxHandle {
    let cfg = sandbox_config(
        &SandboxKeys::generate().unwrap(),
        PrivateKey::generate().unwrap().public_key(),
        merchant,
        serial,
    );
    let sb = Sandbox::start(cfg, 0).await.unwrap();
    sb.add_transactions(
        Provider::Wechat,
        vec![line(Provider::Wechat, "wechat-main")],
    );
    sb
}

fn warning_codes(listing: &[vault::KeyListing], purpose: Purpose) -> Vec<&'static str> {
    listing
        .iter()
        .filter(|l| l.purpose == purpose)
        .flat_map(|l| l.warnings.iter().map(|w| w.code))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_download_runs_when_due_and_a_failure_is_recorded_and_retried_later() {
    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x02], MCHID).unwrap();
    let sb = sandbox(&merchant, &cert.serial_hex).await;
    let account = account("wechat-main");
    let every = Duration::hours(12);
    let settings = VaultSettings {
        certificate_refresh: every,
        ..VaultSettings::default()
    };
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap()
            .with_settings(&settings);
        import_wechat_merchant(&v, &merchant, &cert, APIV3).await;
        let adm = admin();
        let t0 = Utc::now();

        // Never downloaded: due at once; the download stores the platform certificate.
        assert_eq!(
            v.next_certificate_refresh("wechat-main", t0).await.unwrap(),
            t0
        );
        let check = v
            .refresh_if_due(&adm, &account, &sb.wechat_base_url, t0)
            .await
            .unwrap();
        assert_eq!(
            check,
            CertificateCheck::Refreshed {
                added: vec![sb.wechat_platform_serial.clone()]
            }
        );

        // Just downloaded: not due until the interval has passed.
        match v
            .refresh_if_due(&adm, &account, &sb.wechat_base_url, t0)
            .await
            .unwrap()
        {
            CertificateCheck::NotDue { next_at } => {
                let delta = next_at - (t0 + every);
                assert!(delta.num_seconds().abs() < 60, "next at {next_at}");
            }
            other => panic!("expected not due, got {other:?}"),
        }

        // Due again 13 h later, but the provider fails: recorded, warned about, and the
        // certificate already held stays usable (nothing is replaced by a failed download).
        sb.set_fault(
            Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("/v3/certificates"),
        );
        let later = t0 + Duration::hours(13);
        let check = v
            .refresh_if_due(&adm, &account, &sb.wechat_base_url, later)
            .await
            .unwrap();
        let CertificateCheck::Failed { error } = check else {
            panic!("expected a failure, got {check:?}");
        };
        assert!(error.contains("no certificate was stored"), "{error}");
        let state = db
            .vault_refresh_state("wechat-main")
            .await
            .unwrap()
            .unwrap();
        assert!(state.last_error.is_some());
        assert!(state
            .last_ok_at
            .is_some_and(|ok| ok <= state.last_attempt_at));
        let listing = v.list(&adm).await.unwrap();
        assert!(
            warning_codes(&listing, Purpose::WechatPlatformCert).contains(&"refresh_failed"),
            "{listing:?}"
        );
        let usable = v
            .verification_keys("wechat-main", Purpose::WechatPlatformCert, Utc::now())
            .await
            .unwrap();
        assert_eq!(usable.len(), 1, "the held certificate stays in use");

        // A failure is not retried at every check, only after a tenth of the interval.
        sb.clear_faults();
        let soon = later + Duration::minutes(10);
        assert!(matches!(
            v.refresh_if_due(&adm, &account, &sb.wechat_base_url, soon)
                .await
                .unwrap(),
            CertificateCheck::NotDue { .. }
        ));
        let retry = later + Duration::hours(2);
        assert_eq!(
            v.refresh_if_due(&adm, &account, &sb.wechat_base_url, retry)
                .await
                .unwrap(),
            CertificateCheck::Refreshed { added: vec![] },
            "known certificates are not stored twice"
        );
        let listing = v.list(&adm).await.unwrap();
        assert!(
            !warning_codes(&listing, Purpose::WechatPlatformCert).contains(&"refresh_failed"),
            "a later success clears the warning"
        );

        // Every download is audited, the failed one with its reason.
        let filter = paydesk_store::AuditFilter {
            action: Some("key.refresh_wechat_certs".into()),
            ..Default::default()
        };
        let (n, entries) = db.audit_page(&filter, 10, 0).await.unwrap();
        assert_eq!(n, 3, "{entries:?}");
        assert_eq!(
            entries.iter().filter(|e| e.outcome == "failed").count(),
            1,
            "{entries:?}"
        );

        // Support may not trigger downloads.
        let support = Actor::new("agent", [Role::Support]);
        let e = v
            .refresh_if_due(&support, &account, &sb.wechat_base_url, retry)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("key.manage"), "{e}");
        db.close().await;
        t.drop_db().await;
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_fetched_on_an_unknown_serial_is_kept_in_the_vault() {
    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x03], MCHID).unwrap();
    let sb = sandbox(&merchant, &cert.serial_hex).await;
    let account = account("wechat-main");
    let date = BillDate::parse("2026-01-15").unwrap();
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        import_wechat_merchant(&v, &merchant, &cert, APIV3).await;
        let support = Actor::new("agent", [Role::Support]);

        // The vault holds no platform certificate: the first answer names an unknown serial,
        // the adapter downloads and verifies the certificates, and the vault keeps them.
        let adapter = v
            .adapter_for_calls(&account, &sb.wechat_base_url, &support)
            .await
            .unwrap();
        adapter.download_statement(date).await.unwrap();
        let held = v
            .verification_keys("wechat-main", Purpose::WechatPlatformCert, Utc::now())
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
        let listing = v.list(&admin()).await.unwrap();
        let certs = listing
            .iter()
            .find(|l| l.purpose == Purpose::WechatPlatformCert)
            .unwrap();
        assert_eq!(certs.versions[0].state, VersionState::Active);
        assert_eq!(
            certs.versions[0].info.serial.as_deref(),
            Some(sb.wechat_platform_serial.as_str())
        );
        assert!(certs
            .refresh
            .as_ref()
            .is_some_and(|r| r.last_ok_at.is_some()));
        let filter = paydesk_store::AuditFilter {
            action: Some("key.refresh_wechat_certs".into()),
            ..Default::default()
        };
        let (_, entries) = db.audit_page(&filter, 10, 0).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor, "system");
        assert!(
            entries[0]
                .details
                .contains("unknown_serial during a call by agent"),
            "{}",
            entries[0].details
        );

        // A new adapter starts with the kept certificate: with the certificate download now
        // broken, statements still verify.
        sb.set_fault(
            Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("/v3/certificates"),
        );
        v.adapter_for_calls(&account, &sb.wechat_base_url, &support)
            .await
            .unwrap()
            .download_statement(date)
            .await
            .unwrap();
        sb.clear_faults();
        db.close().await;
        t.drop_db().await;
    }
    sb.shutdown().await;
}

/// The workspace path: `[vault] key_file` in paydesk.toml unlocks the vault without anyone
/// typing a passphrase, and the scheduled check downloads for each WeChat Pay account of the
/// workspace (here the demo's, through an in-process sandbox told the vault's key).
#[tokio::test(flavor = "multi_thread")]
async fn the_workspace_schedule_checks_every_wechat_account() {
    let (_tmp, dir, w, adm) = demo_workspace_with_key_file_vault().await;
    vault::remember_key_file(&w, Some(&dir.join("vault.key"))).unwrap();
    let text = std::fs::read_to_string(dir.join("paydesk.toml")).unwrap();
    assert!(
        text.contains("key_file = \"vault.key\""),
        "stored relative: {text}"
    );
    let w = Workspace::open(&dir).await.unwrap();
    assert_eq!(w.config.vault.key_file, Some(dir.join("vault.key")));

    let vault = w
        .vault_for_calls(&adm)
        .await
        .unwrap()
        .expect("unlocked by key file");
    // Without WeChat credentials in the vault the account is skipped, with the reason.
    let checks = paydesk_service::connect::certificates::refresh_due_certificates(
        &w,
        &vault,
        &adm,
        Utc::now(),
    )
    .await
    .unwrap();
    // The demo's two WeChat Pay merchants.
    let names: Vec<&str> = checks.iter().map(|c| c.account.as_str()).collect();
    assert_eq!(names, ["wechat-main", "wechat-shop2"], "{checks:?}");
    assert!(
        checks.iter().all(|c| matches!(&c.check, CertificateCheck::Skipped { reason } if reason.contains("wechat_merchant_key"))),
        "{checks:?}"
    );

    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x04], "1900000001").unwrap();
    // The demo sandbox's APIv3 key (a wrong one fails closed: nothing would be stored).
    let apiv3 = demo_apiv3_key(&dir);
    import_wechat_merchant(&vault, &merchant, &cert, &apiv3).await;
    let now = Utc::now();
    let checks =
        paydesk_service::connect::certificates::refresh_due_certificates(&w, &vault, &adm, now)
            .await
            .unwrap();
    let CertificateCheck::Refreshed { added } = &checks[0].check else {
        panic!("{checks:?}");
    };
    assert_eq!(
        added.len(),
        1,
        "the sandbox's platform certificate is stored"
    );
    let checks =
        paydesk_service::connect::certificates::refresh_due_certificates(&w, &vault, &adm, now)
            .await
            .unwrap();
    assert!(
        matches!(checks[0].check, CertificateCheck::NotDue { .. }),
        "{checks:?}"
    );
    // JSON as `paydesk keys refresh-wechat-certs --due --json` prints it.
    let json = serde_json::to_value(&checks).unwrap();
    assert_eq!(json[0]["account"], "wechat-main");
    assert_eq!(json[0]["outcome"], "not_due");
    assert!(json[0]["next_at"].is_string());
}

#[test]
fn expiry_warnings_come_early_and_stop_once_a_successor_is_there() {
    use paydesk_service::vault::{credential_warnings, VersionListing};
    let now = Utc::now();
    let settings = VaultSettings::default();
    let cert = |version: i64, days_left: i64| VersionListing {
        version,
        state: VersionState::Active,
        usable: true,
        source: "download".into(),
        created_at: now,
        created_by: "system".into(),
        activated_at: Some(now),
        retired_at: None,
        usable_until: None,
        tested_at: None,
        test_outcome: None,
        info: paydesk_vault::KeyInfo {
            kind: "certificate".into(),
            serial: Some(format!("SERIAL{version}")),
            not_after: Some(now + Duration::days(days_left)),
            ..Default::default()
        },
    };
    // 300 days left: quiet.
    let w = credential_warnings(
        "wechat-main",
        Purpose::WechatPlatformCert,
        &[cert(1, 300)],
        None,
        &settings,
        now,
    );
    assert!(w.is_empty(), "{w:?}");
    // 45 days left (inside the 60-day window) and nothing newer: warned, naming the serial.
    let w = credential_warnings(
        "wechat-main",
        Purpose::WechatPlatformCert,
        &[cert(1, 45)],
        None,
        &settings,
        now,
    );
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "expires_soon");
    assert_eq!(w[0].serial.as_deref(), Some("SERIAL1"));
    assert!(
        w[0].message.contains("refresh the platform certificates"),
        "{}",
        w[0].message
    );
    // WeChat Pay published the successor (valid much longer): no warning.
    let w = credential_warnings(
        "wechat-main",
        Purpose::WechatPlatformCert,
        &[cert(1, 45), cert(2, 1800)],
        None,
        &settings,
        now,
    );
    assert!(w.is_empty(), "{w:?}");
    // A download that has not succeeded for more than two intervals is overdue.
    let stale = paydesk_store::VaultRefresh {
        account: "wechat-main".into(),
        last_attempt_at: now - Duration::hours(30),
        last_ok_at: Some(now - Duration::hours(30)),
        last_error: None,
    };
    let w = credential_warnings(
        "wechat-main",
        Purpose::WechatPlatformCert,
        &[cert(1, 300)],
        Some(&stale),
        &settings,
        now,
    );
    assert_eq!(
        w.iter().map(|w| w.code).collect::<Vec<_>>(),
        vec!["refresh_overdue"]
    );
}

/// WeChat Pay's own rotation: the successor certificate is published next to the current one
/// long before answers switch to it. The scheduled download stores it (several valid at
/// once), so when WeChat Pay switches, answers verify from the vault with no download at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_published_successor_certificate_is_stored_before_wechat_pay_switches_to_it() {
    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x06], MCHID).unwrap();
    let account = account("wechat-main");
    let date = BillDate::parse("2026-01-15").unwrap();
    for t in backends().await {
        let sb = sandbox(&merchant, &cert.serial_hex).await;
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        import_wechat_merchant(&v, &merchant, &cert, APIV3).await;
        let adm = admin();
        let t0 = Utc::now();
        v.refresh_if_due(&adm, &account, &sb.wechat_base_url, t0)
            .await
            .unwrap();

        let successor = sb
            .publish_wechat_platform_successor(PrivateKey::generate().unwrap())
            .unwrap();
        let check = v
            .refresh_if_due(
                &adm,
                &account,
                &sb.wechat_base_url,
                t0 + Duration::hours(13),
            )
            .await
            .unwrap();
        assert_eq!(
            check,
            CertificateCheck::Refreshed {
                added: vec![successor.clone()]
            }
        );
        let held = v
            .verification_keys("wechat-main", Purpose::WechatPlatformCert, Utc::now())
            .await
            .unwrap();
        assert_eq!(held.len(), 2, "both certificates valid at once");

        // WeChat Pay switches; the certificate download is broken, so only the vault's copy
        // of the successor can verify the answers.
        sb.sign_with_wechat_platform_successor(true);
        sb.set_fault(
            Fault::new(Provider::Wechat, FaultKind::UnknownSerial)
                .only("/v3/certificates")
                .times(100),
        );
        v.adapter(&account, &sb.wechat_base_url)
            .await
            .unwrap()
            .download_statement(date)
            .await
            .unwrap();
        db.close().await;
        t.drop_db().await;
        sb.shutdown().await;
    }
}

/// A new merchant verifies with the WeChat Pay public key (`PUB_KEY_ID_...`) and has no
/// platform certificates: nothing to download, so the schedule skips it rather than failing
/// every few hours. Once a certificate is held too (a migration), it is kept current again.
#[tokio::test(flavor = "multi_thread")]
async fn public_key_mode_accounts_have_no_certificates_to_download() {
    let (_tmp, dir, w, adm) = demo_workspace_with_key_file_vault().await;
    let source = MasterSource::KeyFile(dir.join("vault.key"));
    let vault = w.unlock_vault(&adm, &source).await.unwrap();
    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x08], "1900000001").unwrap();
    let apiv3 = demo_apiv3_key(&dir);
    import_wechat_merchant(&vault, &merchant, &cert, &apiv3).await;
    let wechat_pay_key = PrivateKey::generate().unwrap();
    vault
        .import(
            &adm,
            "wechat-main",
            &vault::ImportInput::WechatPublicKey {
                text: paydesk_providers::keys::public_key_pem(&wechat_pay_key.public_key())
                    .unwrap(),
                key_id: "PUB_KEY_ID_0114232134912410000000000000".into(),
            },
        )
        .await
        .unwrap();
    let checks = paydesk_service::connect::certificates::refresh_due_certificates(
        &w,
        &vault,
        &adm,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(
        matches!(&checks[0].check, CertificateCheck::Skipped { reason } if reason.contains("public-key mode")),
        "{checks:?}"
    );
    assert!(db_refresh_is_empty(&w).await, "no download was attempted");

    // Migrating: a platform certificate is held as well, so the schedule downloads again.
    let sandbox = paydesk_service::sandbox::start_recent(&w, 0, 1)
        .await
        .unwrap();
    let pem = sandbox.wechat_platform_cert_pem.clone();
    sandbox.shutdown().await;
    vault
        .import(
            &adm,
            "wechat-main",
            &vault::ImportInput::WechatPlatformCert { pem },
        )
        .await
        .unwrap();
    let checks = paydesk_service::connect::certificates::refresh_due_certificates(
        &w,
        &vault,
        &adm,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        checks[0].check,
        CertificateCheck::Refreshed { added: vec![] },
        "the held certificate is the sandbox's"
    );
}

async fn db_refresh_is_empty(w: &Workspace) -> bool {
    w.db.vault_refresh_state("wechat-main")
        .await
        .unwrap()
        .is_none()
}

/// A demo workspace (its sandbox endpoints) with a vault opened by the key file
/// `<workspace>/vault.key`, and the demo's admin.
async fn demo_workspace_with_key_file_vault(
) -> (tempfile::TempDir, std::path::PathBuf, Workspace, Actor) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    let w = workspace::init(&dir, true).await.unwrap();
    let adm = Actor::new("admin", [Role::Admin]);
    vault::create_key_file(&dir.join("vault.key")).unwrap();
    vault::init(
        &w.db,
        &adm,
        &MasterSource::KeyFile(dir.join("vault.key")),
        None,
    )
    .await
    .unwrap();
    (tmp, dir, w, adm)
}

/// The APIv3 key the demo sandbox shares with the merchant (a wrong one fails closed).
fn demo_apiv3_key(dir: &std::path::Path) -> String {
    let demo =
        paydesk_service::sandbox::DemoCredentials::load_or_create(&dir.join("keys")).unwrap();
    secrecy::ExposeSecret::expose_secret(&demo.apiv3_key).to_string()
}
