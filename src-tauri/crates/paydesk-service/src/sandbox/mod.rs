//! The built-in provider sandbox for a workspace: the demo merchant's provider-side history
//! (generated deterministically, the same data the demo loads into the order mirror),
//! served over HTTP with the providers' real protocols and signatures.
//!
//! This layer (behind the `demo` cargo feature) stands on `context` only: the connect layer
//! asks it for a running sandbox and for the demo credentials that sign against it.
//!
//! The merchant-side demo credentials live in `<workspace>/keys/` and the sandbox's own keys
//! in `<workspace>/sandbox/`. They are test keys for the sandbox only: real provider
//! credentials belong in the key vault.

pub mod files;
pub mod generate;
pub mod history;
pub mod settlement_gen;

use crate::context::config::Account;
use crate::context::private_file::{create_private_dir_all, write_new_private};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{BillDate, Provider};
use paydesk_providers::alipay::AlipayConfig;
use paydesk_providers::factory::ProviderConfig;
use paydesk_providers::keys::PrivateKey;
use paydesk_providers::stripe::StripeConfig;
use paydesk_providers::wechat::WechatConfig;
use paydesk_sandbox::{Sandbox, SandboxConfig, SandboxHandle, SandboxKeys};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::Path;

/// Merchant-side credentials the demo accounts use against the sandbox.
pub struct DemoCredentials {
    pub alipay_app_key: PrivateKey,
    pub wechat_merchant_key: PrivateKey,
    pub wechat_merchant_serial: String,
    pub apiv3_key: SecretString,
    pub stripe_secret_key: SecretString,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Io(format!("{}: {e}", path.display()))
}

fn random_alnum(n: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// Reads `path`, or creates it with `make()` (mode 0600) the first time.
fn load_or_create_text(
    path: &Path,
    make: impl FnOnce() -> Result<String, ServiceError>,
) -> Result<String, ServiceError> {
    if path.is_file() {
        return std::fs::read_to_string(path).map_err(|e| io(path, e));
    }
    let text = make()?;
    if let Some(dir) = path.parent() {
        create_private_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    // Created 0600 from the start (no window in which others could read it), never through
    // a link planted at the name.
    match write_new_private(path, text.as_bytes()) {
        Ok(()) => Ok(text),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_file() => {
            std::fs::read_to_string(path).map_err(|e| io(path, e))
        }
        Err(e) => Err(io(path, e)),
    }
}

impl DemoCredentials {
    pub fn load_or_create(dir: &Path) -> Result<DemoCredentials, ServiceError> {
        let key = |name: &str| -> Result<PrivateKey, ServiceError> {
            let path = dir.join(name);
            let pem = load_or_create_text(&path, || {
                PrivateKey::generate()
                    .and_then(|k| k.to_pkcs8_pem())
                    .map_err(|e| ServiceError::Io(format!("cannot generate a test key: {e}")))
            })?;
            PrivateKey::parse(&pem).map_err(|e| io(&path, e))
        };
        let alipay_app_key = key("alipay_app_private_key.pem")?;
        let wechat_merchant_key = key("wechat_apiclient_key.pem")?;
        let wechat_merchant_serial =
            load_or_create_text(&dir.join("wechat_merchant_serial.txt"), || {
                Ok(random_alnum(40).to_ascii_uppercase())
            })?
            .trim()
            .to_string();
        let apiv3_key =
            load_or_create_text(&dir.join("wechat_apiv3_key.txt"), || Ok(random_alnum(32)))?;
        let stripe_secret_key = load_or_create_text(&dir.join("stripe_secret_key.txt"), || {
            Ok(format!("sk_test_{}", random_alnum(24)))
        })?;
        Ok(DemoCredentials {
            alipay_app_key,
            wechat_merchant_key,
            wechat_merchant_serial,
            apiv3_key: SecretString::from(apiv3_key.trim().to_string()),
            stripe_secret_key: SecretString::from(stripe_secret_key.trim().to_string()),
        })
    }
}

/// Starts the workspace's sandbox on 127.0.0.1:`port` (0 = any free port), loaded with the
/// demo history of `days` (and the day before the first, whose late payments settle on it).
pub async fn start(
    w: &Workspace,
    port: u16,
    days: &[BillDate],
) -> Result<SandboxHandle, ServiceError> {
    let creds = DemoCredentials::load_or_create(&w.dir.join("keys"))?;
    let keys = SandboxKeys::load_or_create(&w.dir.join("sandbox"))
        .map_err(|e| ServiceError::Io(format!("sandbox keys: {e}")))?;
    let credential = |provider: Provider, key: &str, default: &str| {
        w.config
            .accounts_of(provider)
            .first()
            .and_then(|a| a.credential(key).map(str::to_string))
            .unwrap_or_else(|| default.to_string())
    };
    let handle = Sandbox::start(
        SandboxConfig {
            keys,
            alipay_app_id: credential(Provider::Alipay, "app_id", "2021000000000001"),
            alipay_pid: credential(Provider::Alipay, "pid", "2088000000000001"),
            alipay_app_public_key: creds.alipay_app_key.public_key(),
            wechat_mchid: credential(Provider::Wechat, "mchid", "1900000001"),
            wechat_merchant_serial: creds.wechat_merchant_serial.clone(),
            wechat_merchant_public_key: creds.wechat_merchant_key.public_key(),
            apiv3_key: secrecy::ExposeSecret::expose_secret(&creds.apiv3_key).to_string(),
            stripe_secret_key: secrecy::ExposeSecret::expose_secret(&creds.stripe_secret_key)
                .to_string(),
        },
        port,
    )
    .await
    .map_err(|e| ServiceError::provider_other(format!("cannot start the provider sandbox: {e}")))?;
    // Every WeChat Pay account is a merchant of its own (its mchid), billed for its own lines.
    for account in w.config.accounts_of(Provider::Wechat) {
        if let Some(mchid) = account.credential("mchid") {
            handle.add_wechat_merchant(mchid, &account.name);
        }
    }

    let mut sorted: Vec<BillDate> = days.to_vec();
    sorted.sort();
    sorted.dedup();
    if let Some(first) = sorted.first().copied() {
        // The day before contributes only its late payments, which the providers book on
        // the first day.
        let before = history::demo_day(w, first.pred());
        for account in &w.config.accounts {
            if let Some(lines) = before.next_day_lines.get(&account.name) {
                handle.add_transactions(account.provider, lines.clone());
            }
        }
    }
    for day in &sorted {
        let gen = history::demo_day(w, *day);
        for account in &w.config.accounts {
            // Late payments carry next-day booking times: the sandbox puts them in the next
            // day's statement, as the provider would.
            let mut lines = gen.lines.get(&account.name).cloned().unwrap_or_default();
            lines.extend(
                gen.next_day_lines
                    .get(&account.name)
                    .cloned()
                    .unwrap_or_default(),
            );
            handle.add_transactions(account.provider, lines);
        }
    }
    Ok(handle)
}

/// `paydesk sandbox serve`: the sandbox with the demo history of the last `days` days up to
/// yesterday (Beijing), until the returned handle is dropped.
pub async fn serve(dir: &Path, port: u16, days: u32) -> Result<SandboxHandle, ServiceError> {
    let w = Workspace::open(dir).await?;
    start_recent(&w, port, days).await
}

/// The sandbox with the demo history of the last `days` days up to yesterday (Beijing).
pub async fn start_recent(
    w: &Workspace,
    port: u16,
    days: u32,
) -> Result<SandboxHandle, ServiceError> {
    let last = history::default_demo_date();
    let mut dates = vec![last];
    for _ in 1..days.max(1) {
        let prev = dates.last().copied().unwrap_or(last).pred();
        dates.push(prev);
    }
    start(w, port, &dates).await
}

/// POSTs a JSON body to a sandbox control endpoint (`/_control/...`).
pub async fn post_control(
    base: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, ServiceError> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let answer = reqwest::Client::new()
        .post(&url)
        .json(body)
        .send()
        .await
        .map_err(|e| ServiceError::provider_other(format!("sandbox at {base}: {e}")))?;
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(ServiceError::provider_other(format!(
            "sandbox at {base} refused {path} ({status}): {text}"
        )));
    }
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Where a sandbox listens and the key it signs Alipay answers with.
pub struct SandboxEndpoint {
    pub base_url: String,
    pub alipay_public_key_pem: String,
}

impl SandboxEndpoint {
    pub fn of(handle: &SandboxHandle) -> SandboxEndpoint {
        SandboxEndpoint {
            base_url: handle.base_url.clone(),
            alipay_public_key_pem: handle.alipay_public_key_pem.clone(),
        }
    }

    /// A sandbox served by `paydesk sandbox serve` for this workspace (same key folder).
    pub fn external(w: &Workspace, base_url: &str) -> Result<SandboxEndpoint, ServiceError> {
        let keys = SandboxKeys::load_or_create(&w.dir.join("sandbox"))
            .map_err(|e| ServiceError::Io(format!("sandbox keys: {e}")))?;
        let pem = paydesk_providers::keys::public_key_pem(&keys.alipay.public_key())
            .map_err(|e| ServiceError::Io(format!("sandbox keys: {e}")))?;
        Ok(SandboxEndpoint {
            base_url: base_url.to_string(),
            alipay_public_key_pem: pem,
        })
    }

    /// The account's configuration for calls to this sandbox with the workspace's demo
    /// credentials.
    pub fn demo_config(
        &self,
        w: &Workspace,
        account: &Account,
    ) -> Result<ProviderConfig, ServiceError> {
        let cred =
            |key: &str, default: &str| account.credential(key).unwrap_or(default).to_string();
        let creds = DemoCredentials::load_or_create(&w.dir.join("keys"))?;
        let pem = |key: &PrivateKey| {
            key.to_pkcs8_pem()
                .map(SecretString::from)
                .map_err(|e| ServiceError::Io(e.to_string()))
        };
        Ok(match account.provider {
            Provider::Alipay => ProviderConfig::Alipay(AlipayConfig {
                app_id: cred("app_id", "2021000000000001"),
                gateway_url: format!("{}/alipay/gateway.do", self.base_url),
                app_private_key: pem(&creds.alipay_app_key)?,
                alipay_public_key: self.alipay_public_key_pem.clone(),
                pid: cred("pid", "2088000000000001"),
                certificates: None,
            }),
            Provider::Wechat => ProviderConfig::Wechat(WechatConfig {
                mchid: cred("mchid", "1900000001"),
                base_url: format!("{}/wechat", self.base_url),
                merchant_serial: creds.wechat_merchant_serial.clone(),
                merchant_private_key: pem(&creds.wechat_merchant_key)?,
                apiv3_key: creds.apiv3_key.clone(),
                // Empty: the adapter fetches /v3/certificates and pins what it gets.
                platform_keys: BTreeMap::new(),
            }),
            Provider::Stripe => {
                let mut cfg = StripeConfig::new(
                    format!("{}/stripe", self.base_url),
                    creds.stripe_secret_key.clone(),
                );
                cfg.order_metadata_key = cred("order_metadata_key", "order_id");
                ProviderConfig::Stripe(cfg)
            }
            Provider::Manual => {
                return Err(ServiceError::BadInput(format!(
                    "account {}: {} statements come from files; give --statement FILE",
                    account.name, account.provider
                )))
            }
        })
    }
}
