//! One answer to "which credentials does this provider call use", for every caller
//! (statement downloads, refunds, order queries, key tests):
//!
//! 1. the key vault, when it holds an active signing credential for the account (the vault
//!    must then be unlocked: by a person in the desktop app, or from the workspace's key file
//!    or environment) — a locked vault is an error, never a silent fallback to files;
//! 2. otherwise the credential files named in `paydesk.toml` (real endpoints), or the demo
//!    credentials (sandbox endpoints).
//!
//! Each source resolves to a [`ProviderConfig`], which the one adapter factory
//! ([`paydesk_providers::factory::build_adapter`]) turns into an adapter.
//!
//! Sandbox endpoints get the sandbox's URL; `endpoint = "sandbox"` starts an in-process
//! sandbox for as long as the connection lives, and tells it the vault's active public keys
//! (as the merchant would have uploaded them in the provider's console). A build without the
//! `demo` feature has no sandbox: such accounts are refused with a message saying so.
//!
//! This layer stands on `context`, `vault` (and `sandbox` with the `demo` feature).

pub mod certificates;

use crate::context::config::{Account, Endpoint};
use crate::context::workspace::Workspace;
use crate::vault::{Vault, WorkspaceVault};
use crate::ServiceError;
use paydesk_core::{Actor, BillDate, Provider};
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_providers::alipay::{AlipayCertificates, AlipayConfig};
use paydesk_providers::factory::{build_adapter, ProviderConfig};
use paydesk_providers::http::HttpOptions;
use paydesk_providers::stripe::StripeConfig;
use paydesk_providers::wechat::WechatConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::BTreeMap;

#[cfg(feature = "demo")]
use crate::sandbox::SandboxEndpoint;
#[cfg(feature = "demo")]
pub use paydesk_sandbox::SandboxHandle;

/// A build without the `demo` feature never runs a sandbox.
#[cfg(not(feature = "demo"))]
pub enum SandboxHandle {}

/// Stops an in-process sandbox.
pub async fn stop_sandbox(handle: SandboxHandle) {
    #[cfg(feature = "demo")]
    handle.shutdown().await;
    #[cfg(not(feature = "demo"))]
    match handle {}
}

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
            stop_sandbox(s).await;
        }
    }
}

/// Where an account's calls go. Short-lived (one per connection), so its size doesn't matter.
#[allow(clippy::large_enum_variant)]
enum Target {
    /// The provider itself, at the account's URL.
    Provider,
    /// A sandbox: started for this connection (`running`), or served elsewhere.
    #[cfg(feature = "demo")]
    Sandbox {
        endpoint: SandboxEndpoint,
        running: Option<SandboxHandle>,
    },
}

#[cfg(not(feature = "demo"))]
fn no_sandbox(account: &Account) -> ServiceError {
    ServiceError::BadInput(format!(
        "account {} uses the provider sandbox, and this build of Paydesk has none (built without the `demo` feature): give the provider's URL as its endpoint",
        account.name
    ))
}

/// Opens a connection for `actor` to the account's provider (see the module documentation).
pub async fn open(
    w: &Workspace,
    actor: &Actor,
    account: &Account,
    history: SandboxHistory<'_>,
) -> Result<ProviderConn, ServiceError> {
    let target = match &account.endpoint {
        Endpoint::Url(_) => Target::Provider,
        Endpoint::FileOnly => {
            return Err(ServiceError::BadInput(format!(
                "account {} has no provider endpoint (endpoint = \"file\"): its statements come from files (--statement FILE) and it cannot call the provider",
                account.name
            )))
        }
        #[cfg(feature = "demo")]
        Endpoint::Sandbox => {
            let handle = match history {
                SandboxHistory::Days(days) => crate::sandbox::start(w, 0, days).await?,
                SandboxHistory::Recent(n) => crate::sandbox::start_recent(w, 0, n).await?,
            };
            Target::Sandbox {
                endpoint: SandboxEndpoint::of(&handle),
                running: Some(handle),
            }
        }
        #[cfg(feature = "demo")]
        Endpoint::SandboxAt(url) => Target::Sandbox {
            endpoint: SandboxEndpoint::external(w, url)?,
            running: None,
        },
        #[cfg(not(feature = "demo"))]
        Endpoint::Sandbox | Endpoint::SandboxAt(_) => {
            let _ = history;
            return Err(no_sandbox(account));
        }
    };
    let result = connect(w, actor, account, &target).await;
    let sandbox = match target {
        Target::Provider => None,
        #[cfg(feature = "demo")]
        Target::Sandbox { running, .. } => running,
    };
    match result {
        Ok((adapter, credentials)) => Ok(ProviderConn {
            adapter,
            credentials,
            sandbox,
        }),
        Err(e) => {
            if let Some(s) = sandbox {
                stop_sandbox(s).await;
            }
            Err(e)
        }
    }
}

async fn connect(
    w: &Workspace,
    actor: &Actor,
    account: &Account,
    target: &Target,
) -> Result<(Box<dyn ProviderAdapter>, CredentialSource), ServiceError> {
    if !crate::vault::signs_for(&w.db, account).await? {
        let (config, source) = match target {
            Target::Provider => (files_config(w, account)?, CredentialSource::Files),
            #[cfg(feature = "demo")]
            Target::Sandbox { endpoint, .. } => {
                (endpoint.demo_config(w, account)?, CredentialSource::Demo)
            }
        };
        return Ok((build(config)?, source));
    }
    let vault = w.vault_for_calls(actor).await?.ok_or_else(|| {
        ServiceError::VaultLocked(format!(
            "account {}'s keys are in the key vault, which is locked: unlock it (desktop: Keys), or name the master key file in paydesk.toml ([vault] key_file) or set {}",
            account.name,
            crate::vault::PASSPHRASE_VAR
        ))
    })?;
    let base_url = match target {
        Target::Provider => provider_base_url(account)?,
        #[cfg(feature = "demo")]
        Target::Sandbox { endpoint, running } => {
            if let Some(handle) = running {
                register_active_key(&vault, account, &handle.base_url).await?;
            }
            format!("{}{}", endpoint.base_url, sandbox_path(account.provider))
        }
    };
    let adapter = vault.adapter_for_calls(account, &base_url, actor).await?;
    Ok((adapter, CredentialSource::Vault))
}

/// The one adapter factory, with the default HTTP options.
pub fn build(config: ProviderConfig) -> Result<Box<dyn ProviderAdapter>, ServiceError> {
    build_adapter(config, HttpOptions::default(), None).map_err(|e| ServiceError::provider(&e))
}

/// Tells an in-process sandbox the vault's active signing key of the account, as the merchant
/// would have uploaded it in the provider's console.
#[cfg(feature = "demo")]
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
        return Ok((provider_base_url(account)?, None));
    }
    #[cfg(feature = "demo")]
    {
        let handle = crate::sandbox::start_recent(w, 0, 1).await?;
        if let Err(e) = register_active_key(vault, account, &handle.base_url).await {
            handle.shutdown().await;
            return Err(e);
        }
        let url = format!("{}{}", handle.base_url, sandbox_path(account.provider));
        Ok((url, Some(handle)))
    }
    #[cfg(not(feature = "demo"))]
    {
        let _ = (w, vault);
        Err(no_sandbox(account))
    }
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
pub fn provider_base_url(account: &Account) -> Result<String, ServiceError> {
    let suffix = sandbox_path(account.provider);
    match &account.endpoint {
        Endpoint::Url(u) => Ok(provider_url(account.provider, u)),
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

/// An account's URL as its adapter takes it, whichever usual form it was given in: Alipay's
/// gateway (`https://openapi.alipay.com` gets `/gateway.do`), WeChat Pay's and Stripe's base
/// without the API version (`…/v3`, `…/v1` are dropped: the adapters add it to each path).
pub fn provider_url(provider: Provider, url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let version = match provider {
        Provider::Wechat => "/v3",
        Provider::Stripe => "/v1",
        Provider::Alipay | Provider::Manual => "",
    };
    let url = match url.strip_suffix(version) {
        Some(base) if !version.is_empty() => base.trim_end_matches('/'),
        _ => url,
    };
    let has_path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .contains('/');
    if provider == Provider::Alipay && !has_path {
        return format!("{url}/gateway.do");
    }
    url.to_string()
}

/// The `accounts.credentials` keys an account of `provider` calls its provider with: the
/// required ones, then the optional ones (with their defaults).
pub fn credential_keys(provider: Provider) -> (&'static [&'static str], &'static [&'static str]) {
    match provider {
        Provider::Alipay => (
            &[
                "app_id",
                "pid",
                "app_private_key_file",
                "alipay_public_key_file",
            ],
            // Certificate mode (公钥证书模式) instead of alipay_public_key_file: all three.
            &["app_cert_file", "alipay_cert_file", "alipay_root_cert_file"],
        ),
        Provider::Wechat => (
            &[
                "mchid",
                "merchant_serial",
                "merchant_private_key_file",
                "apiv3_key_file",
            ],
            &[],
        ),
        Provider::Stripe => (&["secret_key_file"], &["order_metadata_key"]),
        Provider::Manual => (&[], &[]),
    }
}

fn missing(account: &Account, key: &str) -> ServiceError {
    let (required, _) = credential_keys(account.provider);
    ServiceError::BadInput(format!(
        "account {}: key `accounts.credentials.{key}` is missing; {} calls need [accounts.credentials] {} (files are read relative to the workspace), or keep the keys in the key vault instead: `paydesk keys import --account {} --purpose … --file …`",
        account.name,
        account.provider,
        required.join(", "),
        account.name
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

/// The account's configuration from the credentials named in `paydesk.toml`, against the
/// account's URL.
fn files_config(w: &Workspace, account: &Account) -> Result<ProviderConfig, ServiceError> {
    let Endpoint::Url(url) = &account.endpoint else {
        return Err(ServiceError::BadInput(format!(
            "account {} has no endpoint to download from (endpoint = \"file\"); give --statement FILE",
            account.name
        )));
    };
    let url = &provider_url(account.provider, url);
    let required = |key: &str| {
        account
            .credential(key)
            .map(str::to_string)
            .ok_or_else(|| missing(account, key))
    };
    Ok(match account.provider {
        Provider::Alipay => {
            let text =
                |key: &str| credential_file(w, account, key).map(|t| t.expose_secret().to_string());
            // Certificate mode when the app certificate is named: then all three files.
            let certificates = match account.credential("app_cert_file") {
                Some(_) => Some(AlipayCertificates {
                    app_cert: text("app_cert_file")?,
                    alipay_certs: vec![text("alipay_cert_file")?],
                    root_cert: text("alipay_root_cert_file")?,
                }),
                None => None,
            };
            ProviderConfig::Alipay(AlipayConfig {
                app_id: required("app_id")?,
                gateway_url: url.clone(),
                app_private_key: credential_file(w, account, "app_private_key_file")?,
                alipay_public_key: match certificates {
                    Some(_) => String::new(),
                    None => text("alipay_public_key_file")?,
                },
                pid: required("pid")?,
                certificates,
            })
        }
        Provider::Wechat => ProviderConfig::Wechat(WechatConfig {
            mchid: required("mchid")?,
            base_url: url.clone(),
            merchant_serial: required("merchant_serial")?,
            merchant_private_key: credential_file(w, account, "merchant_private_key_file")?,
            apiv3_key: credential_file(w, account, "apiv3_key_file")?,
            platform_keys: BTreeMap::new(),
        }),
        Provider::Stripe => {
            let mut cfg =
                StripeConfig::new(url.clone(), credential_file(w, account, "secret_key_file")?);
            cfg.order_metadata_key = account
                .credential("order_metadata_key")
                .unwrap_or("order_id")
                .to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_take_the_base_or_the_full_url() {
        for (provider, given, expected) in [
            (
                Provider::Alipay,
                "https://openapi.alipay.com",
                "https://openapi.alipay.com/gateway.do",
            ),
            (
                Provider::Alipay,
                "https://openapi.alipay.com/",
                "https://openapi.alipay.com/gateway.do",
            ),
            (
                Provider::Alipay,
                "https://openapi.alipay.com/gateway.do",
                "https://openapi.alipay.com/gateway.do",
            ),
            (
                Provider::Alipay,
                "https://openapi.alipay.com/gateway.do/",
                "https://openapi.alipay.com/gateway.do",
            ),
            (
                Provider::Wechat,
                "https://api.mch.weixin.qq.com",
                "https://api.mch.weixin.qq.com",
            ),
            (
                Provider::Wechat,
                "https://api.mch.weixin.qq.com/",
                "https://api.mch.weixin.qq.com",
            ),
            (
                Provider::Wechat,
                "https://api.mch.weixin.qq.com/v3",
                "https://api.mch.weixin.qq.com",
            ),
            (
                Provider::Wechat,
                "https://api.mch.weixin.qq.com/v3/",
                "https://api.mch.weixin.qq.com",
            ),
            (
                Provider::Stripe,
                "https://api.stripe.com",
                "https://api.stripe.com",
            ),
            (
                Provider::Stripe,
                "https://api.stripe.com/v1",
                "https://api.stripe.com",
            ),
            (
                Provider::Stripe,
                "https://api.stripe.com/v1/",
                "https://api.stripe.com",
            ),
            (
                Provider::Stripe,
                "https://api.stripe.com/",
                "https://api.stripe.com",
            ),
        ] {
            assert_eq!(
                provider_url(provider, given),
                expected,
                "{provider} {given}"
            );
        }
    }

    #[test]
    fn every_provider_url_form_reaches_the_same_adapter_url() {
        let template = crate::context::workspace::template_config(true);
        let dir = std::env::temp_dir();
        for (provider, forms) in [
            (
                Provider::Alipay,
                [
                    "https://openapi.alipay.com",
                    "https://openapi.alipay.com/gateway.do",
                ],
            ),
            (
                Provider::Wechat,
                [
                    "https://api.mch.weixin.qq.com",
                    "https://api.mch.weixin.qq.com/v3",
                ],
            ),
            (
                Provider::Stripe,
                ["https://api.stripe.com/", "https://api.stripe.com/v1"],
            ),
        ] {
            let urls: Vec<String> = forms
                .iter()
                .map(|form| {
                    let text = template
                        .replace("endpoint = \"sandbox\"", &format!("endpoint = \"{form}\""));
                    let cfg = crate::context::config::Config::parse(&text, &dir).expect("parses");
                    let account = cfg
                        .accounts
                        .iter()
                        .find(|a| a.provider == provider)
                        .expect("account");
                    provider_base_url(account).expect("a URL")
                })
                .collect();
            assert_eq!(urls[0], urls[1], "{provider}");
        }
    }

    #[test]
    fn a_missing_credential_names_every_key_and_the_vault() {
        let dir = std::env::temp_dir();
        let cfg = crate::context::config::Config::parse(
            &crate::context::workspace::template_config(true),
            &dir,
        )
        .expect("parses");
        for account in &cfg.accounts {
            let (required, _) = credential_keys(account.provider);
            let Some(first) = required.first() else {
                continue;
            };
            let text = missing(account, first).to_string();
            for key in required {
                assert!(text.contains(key), "{text} names {key}");
            }
            assert!(text.contains("paydesk keys import"), "{text}");
            assert!(text.contains(&account.name), "{text}");
        }
    }
}
