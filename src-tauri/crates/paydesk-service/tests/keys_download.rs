//! With a key vault, a real endpoint's statement download signs with the vault's key and
//! verifies with the vault's provider key — no credential files involved.

use paydesk_core::{Actor, BillDate, Role};
use paydesk_service::context::workspace::{self, Workspace};
use paydesk_service::reconcile::{reconcile_account, DryRun};
use paydesk_service::vault::{self, ImportInput, MasterSource};
use paydesk_service::{context::progress::Silent, ServiceError};
use secrecy::SecretString;

#[tokio::test]
async fn reconcile_downloads_with_credentials_from_the_vault() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ws");
    let admin = Actor::new("admin", [Role::Admin]);
    let date = BillDate::parse("2026-11-22").expect("date");

    // A demo workspace's sandbox; its Alipay gateway plays the real provider below.
    let w = workspace::init(&dir, true).await.expect("init");
    let sandbox = paydesk_service::sandbox::start(&w, 0, &[date])
        .await
        .expect("sandbox");
    let gateway = format!("{}/alipay/gateway.do", sandbox.base_url);
    let config = std::fs::read_to_string(dir.join("paydesk.toml")).expect("config");
    let config = config.replacen(
        "endpoint = \"sandbox\"",
        &format!("endpoint = \"{gateway}\""),
        1,
    );
    std::fs::write(dir.join("paydesk.toml"), config).expect("config");
    let w = Workspace::open(&dir).await.expect("open");

    // The merchant's Alipay keys go into the vault.
    let key_file = tmp.path().join("master.key");
    vault::create_key_file(&key_file).expect("key file");
    let source = MasterSource::KeyFile(key_file.clone());
    vault::init(&w.db, &admin, &source, None)
        .await
        .expect("vault");
    let vault = vault::unlock(&w.db, &admin, &source).await.expect("unlock");
    let app_key =
        std::fs::read_to_string(dir.join("keys/alipay_app_private_key.pem")).expect("demo key");
    vault
        .import(
            &admin,
            "alipay-main",
            &ImportInput::AlipayAppKey {
                private_key: SecretString::from(app_key),
                public_key: None,
            },
        )
        .await
        .expect("import app key");
    vault
        .import(
            &admin,
            "alipay-main",
            &ImportInput::AlipayPublicKey {
                text: sandbox.alipay_public_key_pem.clone(),
            },
        )
        .await
        .expect("import alipay key");

    // Locked vault: a clear error naming how to unlock it.
    std::env::remove_var(vault::KEY_FILE_VAR);
    std::env::remove_var(vault::PASSPHRASE_VAR);
    let err = reconcile_account(&w, "alipay-main", date, None, DryRun::Yes, &admin, &Silent)
        .await
        .expect_err("locked");
    assert!(matches!(err, ServiceError::VaultLocked(_)), "{err}");
    assert_eq!(err.code(), "vault_locked");
    assert!(err.to_string().contains("[vault] key_file"), "{err}");

    // Unlocked by the key file the workspace names in paydesk.toml (no environment):
    // downloaded, verified and parsed with the vault's keys (the account names no credential
    // files, so nothing else could have signed).
    vault::remember_key_file(&w, Some(&key_file)).expect("remember key file");
    let text = std::fs::read_to_string(dir.join("paydesk.toml")).expect("config");
    assert!(
        text.contains("[vault]") && text.contains("key_file"),
        "{text}"
    );
    let w = Workspace::open(&dir).await.expect("reopen");
    let report = reconcile_account(&w, "alipay-main", date, None, DryRun::Yes, &admin, &Silent)
        .await
        .expect("download through the vault");
    assert!(report.statement.lines > 0);
    assert!(
        report.statement.file.ends_with(".csv.zip"),
        "{}",
        report.statement.file
    );
    // A key file other users can read is refused, with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let w = Workspace::open(&dir).await.expect("reopen");
        let err = reconcile_account(&w, "alipay-main", date, None, DryRun::Yes, &admin, &Silent)
            .await
            .expect_err("shared key file");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let filter = paydesk_store::AuditFilter {
            action: Some("key.unlock".into()),
            ..Default::default()
        };
        let (n, entries) = w.db.audit_page(&filter, 10, 0).await.expect("audit");
        assert_eq!(n, 1, "the refused unlock is audited once");
        assert_eq!(entries[0].outcome, "failed");
    }
    sandbox.shutdown().await;
}
