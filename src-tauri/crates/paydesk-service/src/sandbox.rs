//! The built-in provider sandbox for a workspace: the demo merchant's provider-side history
//! (generated deterministically, the same data the demo loads into the order mirror),
//! served over HTTP with the providers' real protocols and signatures.
//!
//! The merchant-side demo credentials live in `<workspace>/keys/` and the sandbox's own keys
//! in `<workspace>/sandbox/`. They are test keys for the sandbox only: real provider
//! credentials belong in the key vault.

use crate::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{BillDate, Provider};
use paydesk_providers::keys::PrivateKey;
use paydesk_sandbox::{Sandbox, SandboxConfig, SandboxHandle, SandboxKeys};
use secrecy::SecretString;
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
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::write(path, &text).map_err(|e| io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(text)
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
    .map_err(|e| ServiceError::Provider(format!("cannot start the provider sandbox: {e}")))?;

    let mut sorted: Vec<BillDate> = days.to_vec();
    sorted.sort();
    sorted.dedup();
    if let Some(first) = sorted.first().copied() {
        // The day before contributes only its late payments, which the providers book on
        // the first day.
        let before = crate::demo::demo_day(w, first.pred());
        for account in &w.config.accounts {
            if let Some(lines) = before.next_day_lines.get(&account.name) {
                handle.add_transactions(account.provider, lines.clone());
            }
        }
    }
    for day in &sorted {
        let gen = crate::demo::demo_day(w, *day);
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
    let last = crate::demo::default_demo_date();
    let mut dates = vec![last];
    for _ in 1..days.max(1) {
        let prev = dates.last().copied().unwrap_or(last).pred();
        dates.push(prev);
    }
    start(w, port, &dates).await
}

/// The path an account's provider calls take below a sandbox's base URL.
pub fn sandbox_path(provider: Provider) -> &'static str {
    match provider {
        Provider::Alipay => "/alipay/gateway.do",
        Provider::Wechat => "/wechat",
        Provider::Stripe => "/stripe",
        Provider::Manual => "",
    }
}

/// The base URL an account's provider calls go to (`…/alipay/gateway.do`, `…/wechat`,
/// `…/stripe` on a sandbox), or an error naming the account if it has none.
pub fn provider_base_url(account: &crate::config::Account) -> Result<String, ServiceError> {
    use crate::config::Endpoint;
    let suffix = sandbox_path(account.provider);
    match &account.endpoint {
        Endpoint::Url(u) => Ok(u.clone()),
        Endpoint::SandboxAt(u) => Ok(format!("{}{suffix}", u.trim_end_matches('/'))),
        Endpoint::Sandbox => Err(ServiceError::BadInput(format!(
            "account {} uses the in-process sandbox, which only runs during a download; \
             serve it with `paydesk sandbox serve` and set endpoint = \"sandbox:URL\"",
            account.name
        ))),
        Endpoint::FileOnly => Err(ServiceError::BadInput(format!(
            "account {} has no provider endpoint (statements come from files)",
            account.name
        ))),
    }
}

/// Demo only: registers a (pending) signing key version with the running sandbox, standing
/// in for the admin uploading it in the provider's console (Alipay app public key, WeChat
/// merchant certificate key and serial, Stripe secret key), so that the key can be tested and
/// activated end to end. Refused for accounts that talk to a real provider.
pub async fn register_with_sandbox(
    vault: &crate::keys::Vault,
    actor: &paydesk_core::Actor,
    account: &crate::config::Account,
    purpose: paydesk_vault::Purpose,
    version: i64,
) -> Result<(), ServiceError> {
    use crate::config::Endpoint;
    let Endpoint::SandboxAt(base) = &account.endpoint else {
        return Err(ServiceError::BadInput(format!(
            "account {} is not served by the sandbox: upload the public key in the provider's console",
            account.name
        )));
    };
    crate::auth::require(
        vault.db(),
        actor,
        paydesk_core::Permission::KeyManage,
        &account.name,
    )
    .await?;
    if crate::connect::signing_purpose(account.provider) != Some(purpose) {
        return Err(ServiceError::BadInput(format!(
            "the sandbox takes the signing key of {} accounts, not {purpose}",
            account.provider
        )));
    }
    let body = vault.sandbox_registration(account, Some(version)).await?;
    post_control(base, "/_control/keys", &body).await?;
    crate::auth::audit(
        vault.db(),
        &actor.username,
        "key.upload_sandbox",
        &format!("{}/{purpose}", account.name),
        "ok",
        serde_json::json!({ "version": version }),
    )
    .await
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
        .map_err(|e| ServiceError::Provider(format!("sandbox at {base}: {e}")))?;
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(ServiceError::Provider(format!(
            "sandbox at {base} refused {path} ({status}): {text}"
        )));
    }
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Demo only: stores the sandbox's own verification keys (Alipay public key, WeChat Pay
/// platform certificate) in a new vault for the accounts it serves, as an admin would
/// download them from the provider's console. Accounts that already have one are skipped.
pub async fn import_sandbox_public_keys(
    vault: &crate::keys::Vault,
    actor: &paydesk_core::Actor,
    w: &Workspace,
    handle: &SandboxHandle,
) -> Result<(), ServiceError> {
    use crate::config::Endpoint;
    use crate::keys::ImportInput;
    let listed = vault.list(actor).await?;
    let has = |account: &str, purpose: paydesk_vault::Purpose| {
        listed
            .iter()
            .any(|l| l.account == account && l.purpose == purpose)
    };
    for account in &w.config.accounts {
        if !matches!(account.endpoint, Endpoint::SandboxAt(ref u) if *u == handle.base_url) {
            continue;
        }
        let input = match account.provider {
            Provider::Alipay if !has(&account.name, paydesk_vault::Purpose::AlipayPublicKey) => {
                ImportInput::AlipayPublicKey {
                    text: handle.alipay_public_key_pem.clone(),
                }
            }
            Provider::Wechat if !has(&account.name, paydesk_vault::Purpose::WechatPlatformCert) => {
                ImportInput::WechatPlatformCert {
                    pem: handle.wechat_platform_cert_pem.clone(),
                }
            }
            _ => continue,
        };
        vault.import(actor, &account.name, &input).await?;
    }
    Ok(())
}
