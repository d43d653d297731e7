//! Fetching statements from an account's endpoint through its provider adapter: the real
//! provider, or the workspace's built-in sandbox.

use crate::config::{Account, Endpoint};
use crate::connect::SandboxHistory;
use crate::reconcile::StatementInput;
use crate::sandbox::DemoCredentials;
use crate::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{BillDate, Provider};
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_providers::alipay::{AlipayAdapter, AlipayConfig};
use paydesk_providers::http::HttpOptions;
use paydesk_providers::stripe::{StripeAdapter, StripeConfig};
use paydesk_providers::wechat::{WechatAdapter, WechatConfig};
use paydesk_sandbox::SandboxHandle;

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
        let keys = paydesk_sandbox::SandboxKeys::load_or_create(&w.dir.join("sandbox"))
            .map_err(|e| ServiceError::Io(format!("sandbox keys: {e}")))?;
        let pem = paydesk_providers::keys::public_key_pem(&keys.alipay.public_key())
            .map_err(|e| ServiceError::Io(format!("sandbox keys: {e}")))?;
        Ok(SandboxEndpoint {
            base_url: base_url.to_string(),
            alipay_public_key_pem: pem,
        })
    }
}
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

fn missing(account: &Account, key: &str) -> ServiceError {
    ServiceError::BadInput(format!(
        "account {}: key `accounts.credentials.{key}` is required to talk to {}",
        account.name, account.provider
    ))
}

/// Reads a credential file named by `accounts.credentials.<key>` (relative to the workspace).
fn credential_file(
    w: &Workspace,
    account: &Account,
    key: &str,
) -> Result<SecretString, ServiceError> {
    let name = account
        .credential(key)
        .ok_or_else(|| missing(account, key))?;
    let path = w.dir.join(name);
    std::fs::read_to_string(&path)
        .map(|t| SecretString::from(t.trim().to_string()))
        .map_err(|e| {
            ServiceError::BadInput(format!(
                "account {}: key `accounts.credentials.{key}`: cannot read {}: {e}",
                account.name,
                path.display()
            ))
        })
}

/// Builds the adapter for an account: against the given sandbox, or against the account's URL
/// with the credentials its configuration names.
pub fn adapter_for(
    w: &Workspace,
    account: &Account,
    sandbox: Option<&SandboxEndpoint>,
) -> Result<Box<dyn ProviderAdapter>, ServiceError> {
    let opts = HttpOptions::default();
    let provider_err =
        |e: paydesk_providers::error::ProviderError| ServiceError::Provider(e.to_string());
    let cred = |key: &str, default: &str| account.credential(key).unwrap_or(default).to_string();
    match (account.provider, sandbox) {
        (Provider::Alipay, Some(sb)) => {
            let creds = DemoCredentials::load_or_create(&w.dir.join("keys"))?;
            let key_pem = creds
                .alipay_app_key
                .to_pkcs8_pem()
                .map_err(|e| ServiceError::Io(e.to_string()))?;
            Ok(Box::new(
                AlipayAdapter::new(
                    AlipayConfig {
                        app_id: cred("app_id", "2021000000000001"),
                        gateway_url: format!("{}/alipay/gateway.do", sb.base_url),
                        app_private_key: SecretString::from(key_pem),
                        alipay_public_key: sb.alipay_public_key_pem.clone(),
                        pid: cred("pid", "2088000000000001"),
                    },
                    opts,
                )
                .map_err(provider_err)?,
            ))
        }
        (Provider::Wechat, Some(sb)) => {
            let creds = DemoCredentials::load_or_create(&w.dir.join("keys"))?;
            let key_pem = creds
                .wechat_merchant_key
                .to_pkcs8_pem()
                .map_err(|e| ServiceError::Io(e.to_string()))?;
            Ok(Box::new(
                WechatAdapter::new(
                    WechatConfig {
                        mchid: cred("mchid", "1900000001"),
                        base_url: format!("{}/wechat", sb.base_url),
                        merchant_serial: creds.wechat_merchant_serial.clone(),
                        merchant_private_key: SecretString::from(key_pem),
                        apiv3_key: creds.apiv3_key.clone(),
                        // Empty: the adapter fetches /v3/certificates and pins what it gets.
                        platform_keys: BTreeMap::new(),
                    },
                    opts,
                )
                .map_err(provider_err)?,
            ))
        }
        (Provider::Stripe, Some(sb)) => {
            let creds = DemoCredentials::load_or_create(&w.dir.join("keys"))?;
            let mut cfg = StripeConfig::new(
                format!("{}/stripe", sb.base_url),
                creds.stripe_secret_key.clone(),
            );
            cfg.order_metadata_key = cred("order_metadata_key", "order_id");
            Ok(Box::new(
                StripeAdapter::new(cfg, opts).map_err(provider_err)?,
            ))
        }
        (_, Some(_)) | (Provider::Manual, None) => Err(ServiceError::BadInput(format!(
            "account {}: {} statements come from files; give --statement FILE",
            account.name, account.provider
        ))),
        (provider, None) => {
            let Endpoint::Url(url) = &account.endpoint else {
                return Err(ServiceError::BadInput(format!(
                    "account {} has no endpoint to download from (endpoint = \"file\"); give --statement FILE",
                    account.name
                )));
            };
            match provider {
                Provider::Alipay => Ok(Box::new(
                    AlipayAdapter::new(
                        AlipayConfig {
                            app_id: account
                                .credential("app_id")
                                .ok_or_else(|| missing(account, "app_id"))?
                                .to_string(),
                            gateway_url: url.clone(),
                            app_private_key: credential_file(w, account, "app_private_key_file")?,
                            alipay_public_key: credential_file(
                                w,
                                account,
                                "alipay_public_key_file",
                            )?
                            .expose_secret()
                            .to_string(),
                            pid: account
                                .credential("pid")
                                .ok_or_else(|| missing(account, "pid"))?
                                .to_string(),
                        },
                        opts,
                    )
                    .map_err(provider_err)?,
                )),
                Provider::Wechat => Ok(Box::new(
                    WechatAdapter::new(
                        WechatConfig {
                            mchid: account
                                .credential("mchid")
                                .ok_or_else(|| missing(account, "mchid"))?
                                .to_string(),
                            base_url: url.clone(),
                            merchant_serial: account
                                .credential("merchant_serial")
                                .ok_or_else(|| missing(account, "merchant_serial"))?
                                .to_string(),
                            merchant_private_key: credential_file(
                                w,
                                account,
                                "merchant_private_key_file",
                            )?,
                            apiv3_key: credential_file(w, account, "apiv3_key_file")?,
                            platform_keys: BTreeMap::new(),
                        },
                        opts,
                    )
                    .map_err(provider_err)?,
                )),
                Provider::Stripe => {
                    let mut cfg = StripeConfig::new(
                        url.clone(),
                        credential_file(w, account, "secret_key_file")?,
                    );
                    cfg.order_metadata_key = cred("order_metadata_key", "order_id");
                    Ok(Box::new(
                        StripeAdapter::new(cfg, opts).map_err(provider_err)?,
                    ))
                }
                Provider::Manual => Err(ServiceError::BadInput(
                    "manual accounts import files".into(),
                )),
            }
        }
    }
}

/// Downloads one day's statement for an account (verifying every signed answer on the way).
pub async fn download_with(
    adapter: &dyn ProviderAdapter,
    account: &Account,
    date: BillDate,
    source: &str,
) -> Result<StatementInput, ServiceError> {
    let statement = adapter
        .download_statement(date)
        .await
        .map_err(|e| ServiceError::Provider(format!("account {}: {e}", account.name)))?;
    Ok(StatementInput::Downloaded {
        file_name: statement.file_name,
        bytes: statement.bytes,
        source: source.to_string(),
    })
}

/// Downloads from the account's endpoint, with the credentials [`crate::connect`] picks; for
/// `endpoint = "sandbox"` a sandbox with the workspace's demo history is started for the call.
pub async fn download_statement(
    w: &Workspace,
    account: &Account,
    date: BillDate,
    actor: &paydesk_core::Actor,
) -> Result<StatementInput, ServiceError> {
    let days = [date];
    let conn = crate::connect::open(w, actor, account, SandboxHistory::Days(&days)).await?;
    let source = match account.endpoint {
        Endpoint::Sandbox | Endpoint::SandboxAt(_) => "sandbox",
        _ => "api",
    };
    let result = download_with(conn.adapter.as_ref(), account, date, source).await;
    conn.close().await;
    result
}
