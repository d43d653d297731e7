//! The scheduled download of WeChat Pay platform certificates over each account's connection
//! (the desktop app calls it while it runs; headless, `paydesk keys refresh-wechat-certs
//! --due` from cron).

use crate::context::auth::require;
use crate::context::config::{Account, Endpoint};
use crate::context::workspace::Workspace;
use crate::vault::{AccountCertificateCheck, CertificateCheck, Vault};
use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::{Actor, Permission, Provider};
use paydesk_vault::Purpose;

/// The scheduled refresh of WeChat Pay platform certificates (the desktop app calls it while
/// it runs; headless, `paydesk keys refresh-wechat-certs --due` from cron): every WeChat Pay
/// account whose merchant key and APIv3 key are in the vault is downloaded when due at `now`.
/// One account's failure does not stop the others.
pub async fn refresh_due_certificates(
    w: &Workspace,
    vault: &Vault,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<AccountCertificateCheck>, ServiceError> {
    require(&w.db, actor, Permission::KeyManage, "vault").await?;
    let mut out = Vec::new();
    for account in w
        .config
        .accounts
        .iter()
        .filter(|a| a.provider == Provider::Wechat)
    {
        let check = check_account_certificates(w, vault, actor, account, now).await?;
        out.push(AccountCertificateCheck {
            account: account.name.clone(),
            check,
        });
    }
    Ok(out)
}

async fn check_account_certificates(
    w: &Workspace,
    vault: &Vault,
    actor: &Actor,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<CertificateCheck, ServiceError> {
    let skipped = |reason: &str| {
        Ok(CertificateCheck::Skipped {
            reason: reason.into(),
        })
    };
    if account.endpoint == Endpoint::FileOnly {
        return skipped("endpoint = \"file\": no provider API");
    }
    // Runs on a timer: decide from the vault's public columns, without decrypting anything.
    let has = |purpose| crate::vault::has_active(&w.db, &account.name, purpose);
    for purpose in [Purpose::WechatMerchantKey, Purpose::WechatApiv3Key] {
        if !has(purpose).await? {
            return skipped(&format!("no active {purpose} in the vault"));
        }
    }
    // WeChat Pay public-key mode (`PUB_KEY_ID_...`, the only mode of new merchants): there
    // are no platform certificates to download. During a migration both are held, and the
    // certificates are still kept current.
    let public_key_mode = has(Purpose::WechatPublicKey).await?
        && vault
            .credential(&account.name, Purpose::WechatPlatformCert)
            .await?
            .is_none();
    if public_key_mode {
        return skipped(
            "WeChat Pay public-key mode (PUB_KEY_ID): no platform certificates to download",
        );
    }
    // Not due: no sandbox to start, no connection to open.
    let next_at = vault.next_certificate_refresh(&account.name, now).await?;
    if next_at > now {
        return Ok(CertificateCheck::NotDue { next_at });
    }
    let (base_url, sandbox) = match super::vault_endpoint(w, vault, account).await {
        Ok(v) => v,
        Err(e) => {
            return Ok(CertificateCheck::Failed {
                error: e.to_string(),
            })
        }
    };
    let result = vault.refresh_if_due(actor, account, &base_url, now).await;
    if let Some(s) = sandbox {
        super::stop_sandbox(s).await;
    }
    result
}
