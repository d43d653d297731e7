//! Shared helpers of the key vault tests: an admin actor, the vault's passphrase and costs,
//! test accounts, the sandbox's view of the merchant. The databases (a fresh SQLite file and a
//! fresh PostgreSQL database per test, `paydesk_vault_<uuid>`) come from `paydesk_testkit::db`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::sliced_string_as_bytes
)]
#![allow(dead_code)]

use paydesk_core::{Actor, Role};
use paydesk_service::context::config::{Account, Config};
use paydesk_service::vault::{self, MasterSource};
use paydesk_store::AppDb;
use paydesk_vault::KdfParams;
use secrecy::SecretString;

pub use paydesk_testkit::db::TestDb;

pub const PASSPHRASE: &str = "blue-lantern-orchard-42";
/// The APIv3 key the test sandboxes share with the merchant.
pub const APIV3: &str = "Sandbox0ApiV3Key0For0Vault0Tests";

pub fn admin() -> Actor {
    Actor::new("keyadmin", [Role::Admin])
}

pub fn passphrase(p: &str) -> MasterSource {
    MasterSource::Passphrase(SecretString::from(p.to_string()))
}

/// Cheap Argon2id costs for tests (the parameters are stored, so they are honoured).
pub fn kdf() -> Option<KdfParams> {
    Some(KdfParams::with_costs(512, 1, 1))
}

pub fn accounts() -> Vec<Account> {
    let dir = std::env::temp_dir();
    let cfg = Config::parse(
        &paydesk_service::context::workspace::template_config(true),
        &dir,
    )
    .expect("template config parses");
    cfg.accounts
}

pub fn account(name: &str) -> Account {
    accounts()
        .into_iter()
        .find(|a| a.name == name)
        .expect("template account")
}

/// SQLite always (`vault-test.db`); PostgreSQL (`paydesk_vault_<uuid>`) when reachable, a
/// failure under CI when not.
pub async fn backends() -> Vec<TestDb> {
    paydesk_testkit::db::backends("vault-test.db", "paydesk_vault").await
}

/// Opens the app database and creates a passphrase vault.
pub async fn vault_db(t: &TestDb) -> AppDb {
    let db = AppDb::open(t.url()).await.expect("open app db");
    vault::init(&db, &admin(), &passphrase(PASSPHRASE), kdf())
        .await
        .expect("init vault");
    db
}

/// Every text value of every vault/audit row (the "PG dump" the secret search looks at).
pub async fn dump_text(db: &AppDb) -> String {
    use sqlx::Row;
    let mut out = String::new();
    for (table, cols) in [
        ("vault_meta", "master_spec, key_check"),
        ("vault_credentials", "uid, account, purpose, wrapped_key, created_by"),
        ("vault_versions", "state, info, ciphertext, source, created_by, COALESCE(test_outcome, '') AS test_outcome"),
        ("audit_log", "actor, action, target, outcome, details"),
    ] {
        let rows = sqlx::query(&format!("SELECT {cols} FROM {table}"))
            .fetch_all(db.pool())
            .await
            .unwrap_or_else(|e| panic!("dump {table}: {e}"));
        for r in rows {
            for i in 0..r.len() {
                if let Ok(s) = r.try_get::<String, _>(i) {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Imports a WeChat Pay merchant key with its certificate (merchant 1900000001) and the APIv3
/// key into `wechat-main`: what an admin has before any platform certificate.
pub async fn import_wechat_merchant(
    v: &vault::Vault,
    merchant: &paydesk_providers::keys::PrivateKey,
    cert: &paydesk_providers::keys::Certificate,
    apiv3: &str,
) {
    for input in [
        vault::ImportInput::WechatMerchant {
            key: SecretString::from(merchant.to_pkcs8_pem().expect("PKCS#8")),
            cert: cert.to_pem(),
            mchid: "1900000001".into(),
        },
        vault::ImportInput::WechatApiv3Key {
            key: SecretString::from(apiv3.to_string()),
        },
    ] {
        v.import(&admin(), "wechat-main", &input)
            .await
            .expect("import WeChat Pay credentials");
    }
}

/// One payment on 2026-01-15 (Beijing) so the day has a statement.
pub fn line(provider: paydesk_core::Provider, account: &str) -> paydesk_core::StatementLine {
    use chrono::TimeZone;
    paydesk_core::StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider,
        account: account.into(),
        provider_txn_id: "4200000000202601150001".into(),
        merchant_order_no: Some("PD-VAULT-1".into()),
        kind: paydesk_core::LineKind::Payment,
        gross: 12_300,
        fee_milli: 73_800,
        net: 12_226,
        currency: paydesk_core::Currency::CNY,
        provider_time: chrono::Utc.with_ymd_and_hms(2026, 1, 15, 4, 0, 0).unwrap(),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "SUCCESS".into(),
        source: paydesk_core::SourceRef {
            file: "test".into(),
            line: 1,
        },
        fee_base: None,
    }
}

/// The sandbox's view of the merchant: `wechat` signs WeChat Pay requests under `serial`.
pub fn sandbox_config(
    keys: &paydesk_sandbox::SandboxKeys,
    app_key: rsa::RsaPublicKey,
    wechat: &paydesk_providers::keys::PrivateKey,
    serial: &str,
) -> paydesk_sandbox::SandboxConfig {
    paydesk_sandbox::SandboxConfig {
        keys: keys.clone(),
        alipay_app_id: "2021000000000001".into(),
        alipay_pid: "2088000000000001".into(),
        alipay_app_public_key: app_key,
        wechat_mchid: "1900000001".into(),
        wechat_merchant_serial: serial.into(),
        wechat_merchant_public_key: wechat.public_key(),
        apiv3_key: APIV3.into(),
        stripe_secret_key: "sk_test_sandboxvaultkey123".into(),
    }
}
