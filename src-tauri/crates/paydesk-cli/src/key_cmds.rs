//! `paydesk keys ...` and `paydesk vault ...`: the key vault from the command line. Secrets
//! are read from files or environment variables, never from arguments (which `ps` shows),
//! and never printed: listings show fingerprints, sizes, serials, states and dates.

use crate::{login, secret_input, WorkspaceArg};
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use paydesk_service::config::Account;
use paydesk_service::keys::{self, ImportInput, MasterSource, Vault};
use paydesk_service::workspace::Workspace;
use paydesk_vault::Purpose;
use secrecy::SecretString;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List credentials and versions (fingerprints, sizes, states, dates; never secrets).
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Import a key from a file (PEM PKCS#1/PKCS#8, Alipay one-line base64, certificates).
    Import {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        /// alipay_app_key, alipay_public_key, wechat_merchant_key, wechat_apiv3_key,
        /// wechat_platform_cert, wechat_public_key, stripe_secret_key, stripe_webhook_secret.
        #[arg(long)]
        purpose: String,
        /// The key file (private key, public key, certificate, or a file holding the secret).
        #[arg(long)]
        file: PathBuf,
        /// The matching public key (Alipay app key) or certificate (`apiclient_cert.pem`).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// WeChat Pay public key id (`PUB_KEY_ID_...`).
        #[arg(long)]
        key_id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Generate an RSA app key inside Paydesk and print its public key for the provider console.
    Generate {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long, default_value = "alipay_app_key")]
        purpose: String,
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        #[arg(long)]
        json: bool,
    },
    /// Print a version's public key (PEM and one-line base64).
    ExportPublic {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        version: i64,
        #[arg(long)]
        json: bool,
    },
    /// Call the provider with a (pending) version.
    Test {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        version: i64,
        /// Provider base URL (default: the account's endpoint).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Activate a pending version; the active one retires with a grace period.
    Activate {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        version: i64,
        /// Hours the previous version stays usable (verification keys; Stripe overlap).
        #[arg(long, default_value_t = 48)]
        grace_hours: i64,
    },
    /// Retire a version.
    Retire {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long)]
        purpose: String,
        #[arg(long)]
        version: i64,
        #[arg(long, default_value_t = 0)]
        grace_hours: i64,
    },
    /// Download WeChat Pay platform certificates into the vault.
    RefreshWechatCerts {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        account: String,
        #[arg(long)]
        base_url: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Create the workspace's key vault (PAYDESK_VAULT_PASSPHRASE or PAYDESK_VAULT_KEY_FILE).
    Init {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Re-wrap every data key under a new master key, in one transaction.
    /// The new passphrase comes from PAYDESK_VAULT_NEW_PASSPHRASE (or --new-key-file).
    RotateMaster {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

fn master_source() -> Result<MasterSource> {
    if let Some(s) = MasterSource::from_env() {
        return Ok(s);
    }
    let p = secret_input(keys::PASSPHRASE_VAR, "Vault passphrase: ")?;
    Ok(MasterSource::Passphrase(SecretString::from(p)))
}

async fn open(ws: &WorkspaceArg) -> Result<(Workspace, paydesk_core::Actor, Vault)> {
    let w = Workspace::open(&ws.workspace).await?;
    let actor = login(&w).await?;
    let vault = keys::unlock(&w.db, &actor, &master_source()?).await?;
    Ok((w, actor, vault))
}

fn purpose(s: &str) -> Result<Purpose> {
    Purpose::parse(s).map_err(|e| anyhow!("--purpose: {e}"))
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_secret(path: &Path) -> Result<SecretString> {
    read_text(path).map(|t| SecretString::from(t.trim().to_string()))
}

fn account<'a>(w: &'a Workspace, name: &str) -> Result<&'a Account> {
    w.config
        .accounts
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| anyhow!("--account {name}: no such account in paydesk.toml"))
}

fn base_url(account: &Account, given: Option<String>) -> Result<String> {
    match given {
        Some(u) => Ok(u),
        None => paydesk_service::sandbox::provider_base_url(account)
            .map_err(|e| anyhow!("{e}; or give --base-url")),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn keys_cmd(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::List { ws, json } => {
            let (_w, actor, vault) = open(&ws).await?;
            let list = vault.list(&actor).await?;
            if json {
                return print_json(&list);
            }
            println!(
                "{:<14} {:<22} {:>3} {:<8} {:<6} {:<18} {:<20} created",
                "account", "purpose", "ver", "state", "bits", "fingerprint", "serial/hint"
            );
            for c in &list {
                for v in &c.versions {
                    println!(
                        "{:<14} {:<22} {:>3} {:<8} {:<6} {:<18} {:<20} {}",
                        c.account,
                        c.purpose.as_str(),
                        v.version,
                        v.state.as_str(),
                        v.info.key_bits.map(|b| b.to_string()).unwrap_or_default(),
                        v.info.fingerprint.get(..16).unwrap_or(&v.info.fingerprint),
                        v.info
                            .serial
                            .clone()
                            .or_else(|| v.info.key_id.clone())
                            .or_else(|| v.info.hint.clone())
                            .unwrap_or_default(),
                        v.created_at.format("%Y-%m-%d %H:%M")
                    );
                }
                for warning in &c.warnings {
                    eprintln!("warning: {}: {warning}", c.account);
                }
            }
            Ok(())
        }
        KeysCommand::Import {
            ws,
            account,
            purpose: p,
            file,
            cert,
            key_id,
            json,
        } => {
            let purpose = purpose(&p)?;
            let (_w, actor, vault) = open(&ws).await?;
            let input = match purpose {
                Purpose::AlipayAppKey => ImportInput::AlipayAppKey {
                    private_key: read_secret(&file)?,
                    public_key: cert.as_deref().map(read_text).transpose()?,
                },
                Purpose::AlipayPublicKey => ImportInput::AlipayPublicKey {
                    text: read_text(&file)?,
                },
                Purpose::WechatMerchantKey => {
                    let w = Workspace::open(&ws.workspace).await?;
                    let mchid = w
                        .config
                        .accounts
                        .iter()
                        .find(|a| a.name == account)
                        .and_then(|a| a.credential("mchid"))
                        .unwrap_or_default()
                        .to_string();
                    ImportInput::WechatMerchant {
                        key: read_secret(&file)?,
                        cert: read_text(cert.as_deref().ok_or_else(|| {
                            anyhow!("--cert apiclient_cert.pem is required for wechat_merchant_key")
                        })?)?,
                        mchid,
                    }
                }
                Purpose::WechatApiv3Key => ImportInput::WechatApiv3Key {
                    key: read_secret(&file)?,
                },
                Purpose::WechatPlatformCert => ImportInput::WechatPlatformCert {
                    pem: read_text(&file)?,
                },
                Purpose::WechatPublicKey => ImportInput::WechatPublicKey {
                    text: read_text(&file)?,
                    key_id: key_id.ok_or_else(|| anyhow!("--key-id PUB_KEY_ID_... is required"))?,
                },
                Purpose::StripeSecretKey => ImportInput::StripeSecretKey {
                    key: read_secret(&file)?,
                },
                Purpose::StripeWebhookSecret => ImportInput::StripeWebhookSecret {
                    secret: read_secret(&file)?,
                },
            };
            let v = vault.import(&actor, &account, &input).await?;
            if json {
                return print_json(&v);
            }
            println!(
                "imported {account} {purpose} version {} ({}), fingerprint {}",
                v.version, v.state, v.info.fingerprint
            );
            Ok(())
        }
        KeysCommand::Generate {
            ws,
            account,
            purpose: p,
            bits,
            json,
        } => {
            let purpose = purpose(&p)?;
            let (_w, actor, vault) = open(&ws).await?;
            let e = vault.generate(&actor, &account, purpose, bits).await?;
            if json {
                return print_json(&e);
            }
            println!(
                "generated {account} {purpose} version {} (RSA-{}), fingerprint {}",
                e.version,
                e.key_bits.unwrap_or_default(),
                e.fingerprint
            );
            println!("\nPublic key (PEM):\n{}", e.public_key_pem);
            println!(
                "Public key (one line, for the Alipay console):\n{}",
                e.public_key_base64
            );
            Ok(())
        }
        KeysCommand::ExportPublic {
            ws,
            account,
            purpose: p,
            version,
            json,
        } => {
            let purpose = purpose(&p)?;
            let (_w, actor, vault) = open(&ws).await?;
            let e = vault
                .export_public(&actor, &account, purpose, version)
                .await?;
            if json {
                return print_json(&e);
            }
            println!("{}\n{}", e.public_key_pem, e.public_key_base64);
            Ok(())
        }
        KeysCommand::Test {
            ws,
            account: name,
            purpose: p,
            version,
            base_url: url,
        } => {
            let purpose = purpose(&p)?;
            let (w, actor, vault) = open(&ws).await?;
            let a = account(&w, &name)?;
            let url = base_url(a, url)?;
            let outcome = vault.test(&actor, a, purpose, version, &url).await?;
            println!("{name} {purpose} version {version}: {outcome}");
            Ok(())
        }
        KeysCommand::Activate {
            ws,
            account,
            purpose: p,
            version,
            grace_hours,
        } => {
            let purpose = purpose(&p)?;
            let (_w, actor, vault) = open(&ws).await?;
            vault
                .activate(
                    &actor,
                    &account,
                    purpose,
                    version,
                    chrono::Duration::hours(grace_hours),
                )
                .await?;
            println!("activated {account} {purpose} version {version}; the previous version stays usable for {grace_hours} h");
            Ok(())
        }
        KeysCommand::Retire {
            ws,
            account,
            purpose: p,
            version,
            grace_hours,
        } => {
            let purpose = purpose(&p)?;
            let (_w, actor, vault) = open(&ws).await?;
            vault
                .retire(
                    &actor,
                    &account,
                    purpose,
                    version,
                    chrono::Duration::hours(grace_hours),
                )
                .await?;
            println!("retired {account} {purpose} version {version}");
            Ok(())
        }
        KeysCommand::RefreshWechatCerts {
            ws,
            account: name,
            base_url: url,
        } => {
            let (w, actor, vault) = open(&ws).await?;
            let a = account(&w, &name)?;
            let url = base_url(a, url)?;
            let added = vault.refresh_wechat_certs(&actor, a, &url).await?;
            if added.is_empty() {
                println!("{name}: no new platform certificate");
            } else {
                println!("{name}: stored platform certificates {}", added.join(", "));
            }
            Ok(())
        }
    }
}

pub async fn vault_cmd(command: VaultCommand) -> Result<()> {
    match command {
        VaultCommand::Init { ws } => {
            let w = Workspace::open(&ws.workspace).await?;
            let actor = login(&w).await?;
            keys::init(&w.db, &actor, &master_source()?, None).await?;
            println!("created the key vault of {}", ws.workspace.display());
            Ok(())
        }
        VaultCommand::RotateMaster { ws, new_key_file } => {
            let (_w, actor, mut vault) = open(&ws).await?;
            let new = match new_key_file {
                Some(p) => MasterSource::KeyFile(p),
                None => MasterSource::Passphrase(SecretString::from(secret_input(
                    "PAYDESK_VAULT_NEW_PASSPHRASE",
                    "New vault passphrase: ",
                )?)),
            };
            vault.rotate_master(&actor, &new, None).await?;
            println!("re-wrapped every data key under the new master key");
            Ok(())
        }
    }
}
