//! The key vault: unlock, list, import, generate, the rotation wizard's steps, WeChat
//! certificate refresh. Secrets come in (import) and never go out: answers carry
//! fingerprints and public halves only.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_service::context::config::Account;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::vault::WorkspaceVault;
use paydesk_service::vault::{
    self, ImportInput, KeyListing, MasterSource, PublicExport, VersionListing,
};
use paydesk_vault::Purpose;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::State;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VaultStatus {
    pub configured: bool,
    pub unlocked: bool,
    /// Where the master key came from when the app unlocked it by itself.
    #[cfg_attr(test, ts(type = "VaultSource | null"))]
    pub source: Option<&'static str>,
}

async fn status(state: &DesktopState, w: &Workspace) -> CmdResult<VaultStatus> {
    let configured = vault::is_configured(&w.db).await?;
    let unlocked = state.vault_if_unlocked().await.is_some();
    let source = match MasterSource::for_workspace(&w.config) {
        Some(MasterSource::KeyFile(_)) => Some("key_file"),
        Some(MasterSource::Passphrase(_)) => Some("env"),
        None if unlocked => Some("passphrase"),
        None => None,
    };
    Ok(VaultStatus {
        configured,
        unlocked,
        source,
    })
}

fn passphrase(text: String) -> CmdResult<MasterSource> {
    if text.is_empty() {
        return Err(AppError::bad_input(
            "passphrase: enter the vault passphrase",
        ));
    }
    Ok(MasterSource::Passphrase(SecretString::from(text)))
}

fn account<'a>(w: &'a Workspace, name: &str) -> CmdResult<&'a Account> {
    w.config
        .account(name)
        .map_err(|e| AppError::bad_input(format!("account: {e}")))
}

#[tauri::command]
pub async fn vault_status(state: State<'_, DesktopState>) -> CmdResult<VaultStatus> {
    let (w, actor) = state.actor().await?;
    paydesk_service::context::auth::require(
        &w.db,
        &actor,
        paydesk_core::Permission::KeyView,
        "vault",
    )
    .await?;
    status(&state, &w).await
}

#[tauri::command]
pub async fn vault_init(
    state: State<'_, DesktopState>,
    passphrase: String,
) -> CmdResult<VaultStatus> {
    let (w, actor) = state.actor().await?;
    // The service refuses a short (or empty) passphrase: vault::check_new_master.
    let source = MasterSource::Passphrase(SecretString::from(passphrase));
    vault::init(&w.db, &actor, &source, None).await?;
    let vault = w.unlock_vault(&actor, &source).await?;
    if let Some(sandbox) = state.sandbox() {
        paydesk_service::vault::sandbox_keys::import_sandbox_public_keys(
            &vault, &actor, &w, sandbox,
        )
        .await?;
    }
    state.set_vault(Some(vault)).await;
    status(&state, &w).await
}

#[tauri::command]
pub async fn vault_unlock(
    state: State<'_, DesktopState>,
    passphrase: String,
) -> CmdResult<VaultStatus> {
    let (w, actor) = state.actor().await?;
    paydesk_service::context::auth::require(
        &w.db,
        &actor,
        paydesk_core::Permission::KeyView,
        "vault",
    )
    .await?;
    let source = self::passphrase(passphrase)?;
    let vault = w.unlock_vault(&actor, &source).await?;
    state.set_vault(Some(vault)).await;
    status(&state, &w).await
}

#[tauri::command]
pub async fn keys_list(state: State<'_, DesktopState>) -> CmdResult<Vec<KeyListing>> {
    let (_, actor) = state.actor().await?;
    let vault = state.vault().await?;
    Ok(vault.list(&actor).await?)
}

/// Import fields; which ones a purpose needs is in `to_input`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields = nullable))]
pub struct ImportFields {
    pub private_key: Option<String>,
    pub public_key: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub text: Option<String>,
    pub key_id: Option<String>,
    pub secret: Option<String>,
    pub pem: Option<String>,
    /// WeChat merchant id the certificate must name (default: the account's `mchid`).
    pub mchid: Option<String>,
}

fn required(v: Option<String>, field: &str, purpose: Purpose) -> CmdResult<String> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| AppError::bad_input(format!("{field}: required for {purpose}")))
}

fn to_input(f: ImportFields, purpose: Purpose, acct: &Account) -> CmdResult<ImportInput> {
    let secret = |v: Option<String>, field: &str| -> CmdResult<SecretString> {
        required(v, field, purpose).map(SecretString::from)
    };
    Ok(match purpose {
        Purpose::AlipayAppKey => ImportInput::AlipayAppKey {
            private_key: secret(f.private_key, "private_key")?,
            public_key: f.public_key.filter(|s| !s.trim().is_empty()),
        },
        Purpose::AlipayPublicKey => ImportInput::AlipayPublicKey {
            text: required(f.text.or(f.public_key), "text", purpose)?,
        },
        Purpose::WechatMerchantKey => ImportInput::WechatMerchant {
            key: secret(f.key.or(f.private_key), "key")?,
            cert: required(f.cert, "cert", purpose)?,
            mchid: f
                .mchid
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| acct.credential("mchid").unwrap_or_default().to_string()),
        },
        Purpose::WechatApiv3Key => ImportInput::WechatApiv3Key {
            key: secret(f.key, "key")?,
        },
        Purpose::WechatPlatformCert => ImportInput::WechatPlatformCert {
            pem: required(f.pem.or(f.cert), "pem", purpose)?,
        },
        Purpose::WechatPublicKey => ImportInput::WechatPublicKey {
            text: required(f.text.or(f.public_key), "text", purpose)?,
            key_id: required(f.key_id, "key_id", purpose)?,
        },
        Purpose::StripeSecretKey => ImportInput::StripeSecretKey {
            key: secret(f.key.or(f.secret), "key")?,
        },
        Purpose::StripeWebhookSecret => ImportInput::StripeWebhookSecret {
            secret: secret(f.secret.or(f.key), "secret")?,
        },
    })
}

#[tauri::command]
pub async fn keys_import(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    fields: ImportFields,
) -> CmdResult<VersionListing> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault().await?;
    let acct = self::account(&w, &account)?;
    let input = to_input(fields, purpose, acct)?;
    Ok(vault.import(&actor, &acct.name, &input).await?)
}

#[tauri::command]
pub async fn keys_generate(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    bits: Option<usize>,
) -> CmdResult<PublicExport> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault().await?;
    let acct = self::account(&w, &account)?;
    let bits = bits.unwrap_or(2048);
    if bits != 2048 && bits != 4096 {
        return Err(AppError::bad_input(format!(
            "bits: {bits}; choose 2048 or 4096"
        )));
    }
    Ok(vault.generate(&actor, &acct.name, purpose, bits).await?)
}

#[tauri::command]
pub async fn keys_export_public(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    version: i64,
) -> CmdResult<PublicExport> {
    let (_, actor) = state.actor().await?;
    let vault = state.vault().await?;
    Ok(vault
        .export_public(&actor, &account, purpose, version)
        .await?)
}

#[tauri::command]
pub async fn keys_register_with_sandbox(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    version: i64,
) -> CmdResult<()> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault().await?;
    let acct = self::account(&w, &account)?;
    paydesk_service::context::auth::require(
        &w.db,
        &actor,
        paydesk_core::Permission::KeyManage,
        &acct.name,
    )
    .await?;
    Ok(paydesk_service::vault::sandbox_keys::register_with_sandbox(
        &vault, &actor, acct, purpose, version,
    )
    .await?)
}

#[tauri::command]
pub async fn keys_test(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    version: i64,
) -> CmdResult<String> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault().await?;
    let acct = self::account(&w, &account)?;
    let url = paydesk_service::connect::provider_base_url(acct)?;
    Ok(vault.test(&actor, acct, purpose, version, &url).await?)
}

/// The grace period asked for, or the workspace's `[vault] grace_hours`.
fn grace(hours: Option<i64>, vault: &vault::Vault) -> CmdResult<chrono::Duration> {
    let Some(h) = hours else {
        return Ok(vault.settings().grace);
    };
    if !(0..=24 * 90).contains(&h) {
        return Err(AppError::bad_input(format!(
            "grace hours: {h}; give 0 to 2160"
        )));
    }
    Ok(chrono::Duration::hours(h))
}

#[tauri::command]
pub async fn keys_activate(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    version: i64,
    grace_hours: Option<i64>,
) -> CmdResult<()> {
    let (_, actor) = state.actor().await?;
    let vault = state.vault().await?;
    Ok(vault
        .activate(
            &actor,
            &account,
            purpose,
            version,
            grace(grace_hours, &vault)?,
        )
        .await?)
}

#[tauri::command]
pub async fn keys_retire(
    state: State<'_, DesktopState>,
    account: String,
    purpose: Purpose,
    version: i64,
    grace_hours: Option<i64>,
) -> CmdResult<()> {
    let (_, actor) = state.actor().await?;
    let vault = state.vault().await?;
    Ok(vault
        .retire(
            &actor,
            &account,
            purpose,
            version,
            grace(grace_hours, &vault)?,
        )
        .await?)
}

#[tauri::command]
pub async fn keys_refresh_wechat_certs(
    state: State<'_, DesktopState>,
    account: String,
) -> CmdResult<Vec<String>> {
    let (w, actor) = state.actor().await?;
    let vault = state.vault().await?;
    let acct = self::account(&w, &account)?;
    let url = paydesk_service::connect::provider_base_url(acct)?;
    Ok(vault.refresh_wechat_certs(&actor, acct, &url).await?)
}
