//! Demo only: the key uploads a sandbox stands in for. A real provider takes the merchant's
//! public keys in its console; the sandbox takes them over its control endpoint.

use super::{ImportInput, Vault};
use crate::context::auth::{audit, require};
use crate::context::config::{Account, Endpoint};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::Provider;
use paydesk_sandbox::SandboxHandle;

/// Demo only: registers a (pending) signing key version with the running sandbox, standing
/// in for the admin uploading it in the provider's console (Alipay app public key, WeChat
/// merchant certificate key and serial, Stripe secret key), so that the key can be tested and
/// activated end to end. Refused for accounts that talk to a real provider.
pub async fn register_with_sandbox(
    vault: &Vault,
    actor: &paydesk_core::Actor,
    account: &Account,
    purpose: paydesk_vault::Purpose,
    version: i64,
) -> Result<(), ServiceError> {
    let Endpoint::SandboxAt(base) = &account.endpoint else {
        return Err(ServiceError::BadInput(format!(
            "account {} is not served by the sandbox: upload the public key in the provider's console",
            account.name
        )));
    };
    require(
        vault.db(),
        actor,
        paydesk_core::Permission::KeyManage,
        &account.name,
    )
    .await?;
    if super::signing_purpose(account.provider) != Some(purpose) {
        return Err(ServiceError::BadInput(format!(
            "the sandbox takes the signing key of {} accounts, not {purpose}",
            account.provider
        )));
    }
    let body = vault.sandbox_registration(account, Some(version)).await?;
    crate::sandbox::post_control(base, "/_control/keys", &body).await?;
    audit(
        vault.db(),
        &actor.username,
        "key.upload_sandbox",
        &format!("{}/{purpose}", account.name),
        "ok",
        serde_json::json!({ "version": version }),
    )
    .await
}

/// Demo only: stores the sandbox's own verification keys (Alipay public key, WeChat Pay
/// platform certificate) in a new vault for the accounts it serves, as an admin would
/// download them from the provider's console. Accounts that already have one are skipped.
pub async fn import_sandbox_public_keys(
    vault: &Vault,
    actor: &paydesk_core::Actor,
    w: &Workspace,
    handle: &SandboxHandle,
) -> Result<(), ServiceError> {
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
