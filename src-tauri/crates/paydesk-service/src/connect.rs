//! One answer to "which credentials does this provider call use", for every caller
//! (statement downloads, refunds, order queries, key tests):
//!
//! 1. the key vault, when it holds an active signing credential for the account (the vault
//!    must then be unlocked: by a person in the desktop app, or from the workspace's key file
//!    or environment) — a locked vault is an error, never a silent fallback to files;
//! 2. otherwise the credential files named in `paydesk.toml` (real endpoints), or the demo
//!    credentials (sandbox endpoints).
//!
//! Sandbox endpoints get the sandbox's URL; `endpoint = "sandbox"` starts an in-process
//! sandbox for as long as the connection lives, and tells it the vault's active public keys
//! (as the merchant would have uploaded them in the provider's console).

use crate::config::{Account, Endpoint};
use crate::download::{adapter_for, SandboxEndpoint};
use crate::keys::Vault;
use crate::sandbox::sandbox_path;
use crate::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{Actor, BillDate, Provider};
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_sandbox::SandboxHandle;
use paydesk_vault::Purpose;
use serde::Serialize;

/// Where a connection's credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Vault,
    Files,
    Demo,
}

/// Which demo history an in-process sandbox is loaded with.
#[derive(Debug, Clone, Copy)]
pub enum SandboxHistory<'a> {
    Days(&'a [BillDate]),
    Recent(u32),
}

/// An adapter ready for calls, and the in-process sandbox it may talk to.
pub struct ProviderConn {
    pub adapter: Box<dyn ProviderAdapter>,
    pub credentials: CredentialSource,
    sandbox: Option<SandboxHandle>,
}

impl ProviderConn {
    /// Stops the in-process sandbox, if one was started.
    pub async fn close(self) {
        if let Some(s) = self.sandbox {
            s.shutdown().await;
        }
    }
}

/// The purpose of the credential that signs an account's requests.
pub fn signing_purpose(provider: Provider) -> Option<Purpose> {
    match provider {
        Provider::Alipay => Some(Purpose::AlipayAppKey),
        Provider::Wechat => Some(Purpose::WechatMerchantKey),
        Provider::Stripe => Some(Purpose::StripeSecretKey),
        Provider::Manual => None,
    }
}

/// Whether the vault holds an active version of `purpose` for `account`. Reads only the
/// vault's public columns: no master key, no decryption (cheap enough for a timer).
pub async fn vault_has_active(
    db: &paydesk_store::AppDb,
    account: &str,
    purpose: Purpose,
) -> Result<bool, ServiceError> {
    let Some(c) = db.vault_credential(account, purpose.as_str()).await? else {
        return Ok(false);
    };
    Ok(db
        .vault_versions(c.id)
        .await?
        .iter()
        .any(|v| v.state == "active"))
}

/// Whether the vault holds an active signing credential for the account.
pub async fn vault_signs_for(w: &Workspace, account: &Account) -> Result<bool, ServiceError> {
    match signing_purpose(account.provider) {
        Some(purpose) => vault_has_active(&w.db, &account.name, purpose).await,
        None => Ok(false),
    }
}

/// Opens a connection for `actor` to the account's provider (see the module documentation).
pub async fn open(
    w: &Workspace,
    actor: &Actor,
    account: &Account,
    history: SandboxHistory<'_>,
) -> Result<ProviderConn, ServiceError> {
    let (sandbox, endpoint) = match &account.endpoint {
        Endpoint::Sandbox => {
            let handle = match history {
                SandboxHistory::Days(days) => crate::sandbox::start(w, 0, days).await?,
                SandboxHistory::Recent(n) => crate::sandbox::start_recent(w, 0, n).await?,
            };
            let endpoint = SandboxEndpoint::of(&handle);
            (Some(handle), Some(endpoint))
        }
        Endpoint::SandboxAt(url) => (None, Some(SandboxEndpoint::external(w, url)?)),
        Endpoint::Url(_) => (None, None),
        Endpoint::FileOnly => {
            return Err(ServiceError::BadInput(format!(
                "account {} has no provider endpoint (endpoint = \"file\"): its statements come from files (--statement FILE) and it cannot call the provider",
                account.name
            )))
        }
    };
    let result = connect(w, actor, account, endpoint.as_ref(), sandbox.as_ref()).await;
    match result {
        Ok((adapter, credentials)) => Ok(ProviderConn {
            adapter,
            credentials,
            sandbox,
        }),
        Err(e) => {
            if let Some(s) = sandbox {
                s.shutdown().await;
            }
            Err(e)
        }
    }
}

async fn connect(
    w: &Workspace,
    actor: &Actor,
    account: &Account,
    endpoint: Option<&SandboxEndpoint>,
    in_process: Option<&SandboxHandle>,
) -> Result<(Box<dyn ProviderAdapter>, CredentialSource), ServiceError> {
    if !vault_signs_for(w, account).await? {
        let source = if endpoint.is_some() {
            CredentialSource::Demo
        } else {
            CredentialSource::Files
        };
        return Ok((adapter_for(w, account, endpoint)?, source));
    }
    let vault = w.vault_for_calls(actor).await?.ok_or_else(|| {
        ServiceError::BadInput(format!(
            "account {}'s keys are in the key vault, which is locked: unlock it (desktop: Keys), or name the master key file in paydesk.toml ([vault] key_file) or set {}",
            account.name,
            crate::keys::PASSPHRASE_VAR
        ))
    })?;
    let base_url = match endpoint {
        Some(sb) => format!("{}{}", sb.base_url, sandbox_path(account.provider)),
        None => crate::sandbox::provider_base_url(account)?,
    };
    if let Some(handle) = in_process {
        register_active_key(&vault, account, &handle.base_url).await?;
    }
    let adapter = vault.adapter_for_calls(account, &base_url, actor).await?;
    Ok((adapter, CredentialSource::Vault))
}

/// Tells an in-process sandbox the vault's active signing key of the account, as the merchant
/// would have uploaded it in the provider's console.
async fn register_active_key(
    vault: &Vault,
    account: &Account,
    sandbox_base_url: &str,
) -> Result<(), ServiceError> {
    let body = vault.sandbox_registration(account, None).await?;
    crate::sandbox::post_control(sandbox_base_url, "/_control/keys", &body).await?;
    Ok(())
}

/// The base URL for calls the vault's credentials sign outside an adapter (the certificate
/// download): the account's endpoint, or for `endpoint = "sandbox"` an in-process sandbox
/// started for the call (stop it when done) and told the vault's active key.
pub async fn vault_endpoint(
    w: &Workspace,
    vault: &Vault,
    account: &Account,
) -> Result<(String, Option<SandboxHandle>), ServiceError> {
    if account.endpoint != Endpoint::Sandbox {
        return Ok((crate::sandbox::provider_base_url(account)?, None));
    }
    let handle = crate::sandbox::start_recent(w, 0, 1).await?;
    if let Err(e) = register_active_key(vault, account, &handle.base_url).await {
        handle.shutdown().await;
        return Err(e);
    }
    let url = format!("{}{}", handle.base_url, sandbox_path(account.provider));
    Ok((url, Some(handle)))
}
