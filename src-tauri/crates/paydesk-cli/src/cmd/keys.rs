//! `paydesk keys ...` and `paydesk vault ...`: the key vault from the command line. Secrets
//! are read from files or environment variables, never from arguments (which `ps` shows),
//! and never printed: listings show fingerprints, sizes, serials, states and dates.

use super::{secret_input, Session, WorkspaceArg};
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use paydesk_service::context::config::Account;
use paydesk_service::context::workspace::Workspace;
use paydesk_service::vault::WorkspaceVault;
use paydesk_service::vault::{self, ImportInput, MasterSource, Vault};
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
        /// The matching public key (Alipay app key) or certificate: `apiclient_cert.pem`, or
        /// for Alipay certificate mode the app certificate `appCertPublicKey_<APPID>.crt`.
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Alipay certificate mode: `alipayRootCert.crt`, with `--purpose alipay_public_key
        /// --file alipayCertPublicKey_RSA2.crt` (the certificate must chain to this root).
        #[arg(long)]
        root_cert: Option<PathBuf>,
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
        /// Default: paydesk.toml's [vault] grace_hours (48).
        #[arg(long)]
        grace_hours: Option<i64>,
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
    /// Download WeChat Pay platform certificates now (--account), or for every WeChat Pay
    /// account whose download is due (--due: for cron; [vault] certificate_refresh_hours).
    RefreshWechatCerts {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, required_unless_present = "due", conflicts_with = "due")]
        account: Option<String>,
        #[arg(long, requires = "account")]
        base_url: Option<String>,
        #[arg(long)]
        due: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Create the workspace's key vault. The master key is a passphrase
    /// (PAYDESK_VAULT_PASSPHRASE or a prompt) unless a key file is given; a key file is
    /// recorded in paydesk.toml ([vault] key_file) so every command and the desktop app find it.
    Init {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// Use this existing master key file (32 bytes: raw, 64 hex digits or base64; mode 0600).
        #[arg(long, conflicts_with = "create_key_file")]
        key_file: Option<PathBuf>,
        /// Write a new random master key file here (mode 0600) and use it.
        #[arg(long)]
        create_key_file: Option<PathBuf>,
    },
    /// Re-wrap every data key under a new master key, in one transaction. The new master
    /// key is a passphrase (PAYDESK_VAULT_NEW_PASSPHRASE or a prompt) unless a key file is
    /// given; paydesk.toml's [vault] key_file is updated to match.
    RotateMaster {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// Use this existing key file as the new master key.
        #[arg(long, conflicts_with = "create_key_file")]
        new_key_file: Option<PathBuf>,
        /// Write a new random key file here and use it as the new master key.
        #[arg(long)]
        create_key_file: Option<PathBuf>,
    },
}

/// The master key for this workspace: environment, `[vault] key_file`, or a prompt.
fn master_source(w: &Workspace) -> Result<MasterSource> {
    if let Some(s) = MasterSource::for_workspace(&w.config) {
        return Ok(s);
    }
    let p = secret_input(vault::PASSPHRASE_VAR, "Vault passphrase: ")?;
    Ok(MasterSource::Passphrase(SecretString::from(p)))
}

/// A key file named on the command line, written first when `create` is set (once `actor`
/// is known to be allowed to manage the vault: a refused command writes no key file).
async fn key_file_source(
    w: &Workspace,
    actor: &paydesk_core::Actor,
    existing: Option<PathBuf>,
    create: Option<PathBuf>,
) -> Result<Option<(MasterSource, bool)>> {
    if let Some(path) = create {
        vault::create_key_file_as(&w.db, actor, &path).await?;
        eprintln!(
            "wrote a new master key file {} (mode 0600); back it up somewhere safe",
            path.display()
        );
        return Ok(Some((MasterSource::KeyFile(path), true)));
    }
    Ok(existing.map(|p| (MasterSource::KeyFile(p), false)))
}

async fn open(ws: &WorkspaceArg) -> Result<(Workspace, paydesk_core::Actor, Vault)> {
    let Session { w, actor } = Session::open(ws).await?;
    let vault = w.unlock_vault(&actor, &master_source(&w)?).await?;
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
        None => paydesk_service::connect::provider_base_url(account)
            .map_err(|e| anyhow!("{e}; or give --base-url")),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
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
            out!(
                "{:<14} {:<22} {:>3} {:<8} {:<6} {:<18} {:<20} created",
                "account",
                "purpose",
                "ver",
                "state",
                "bits",
                "fingerprint",
                "serial/hint"
            );
            for c in &list {
                for v in &c.versions {
                    out!(
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
                if let Some(r) = &c.refresh {
                    let last = r.last_ok_at.map_or_else(
                        || "never".to_string(),
                        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
                    );
                    out!(
                        "{:<14} platform certificates last downloaded: {last}{}",
                        c.account,
                        if r.last_error.is_some() {
                            " (the last attempt failed)"
                        } else {
                            ""
                        }
                    );
                }
                for warning in &c.warnings {
                    eprintln!("warning: {}: {}", c.account, warning.message);
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
            root_cert,
            key_id,
            json,
        } => {
            let purpose = purpose(&p)?;
            if root_cert.is_some() && purpose != Purpose::AlipayPublicKey {
                return Err(anyhow!(
                    "--root-cert (alipayRootCert.crt) goes with --purpose alipay_public_key and --file alipayCertPublicKey_RSA2.crt, not with {purpose}"
                ));
            }
            let (w, actor, vault) = open(&ws).await?;
            let input = match purpose {
                Purpose::AlipayAppKey => ImportInput::AlipayAppKey {
                    private_key: read_secret(&file)?,
                    public_key: cert.as_deref().map(read_text).transpose()?,
                },
                Purpose::AlipayPublicKey => match &root_cert {
                    Some(root) => ImportInput::AlipayPublicCert {
                        cert: read_text(&file)?,
                        root: read_text(root)?,
                    },
                    None => ImportInput::AlipayPublicKey {
                        text: read_text(&file)?,
                    },
                },
                Purpose::WechatMerchantKey => {
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
            out!(
                "imported {account} {purpose} version {} ({}), fingerprint {}",
                v.version,
                v.state,
                v.info.fingerprint
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
            out!(
                "generated {account} {purpose} version {} (RSA-{}), fingerprint {}",
                e.version,
                e.key_bits.unwrap_or_default(),
                e.fingerprint
            );
            out!("\nPublic key (PEM):\n{}", e.public_key_pem);
            out!(
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
            out!("{}\n{}", e.public_key_pem, e.public_key_base64);
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
            out!("{name} {purpose} version {version}: {outcome}");
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
            let grace = match grace_hours {
                Some(h) if !(0..=24 * 90).contains(&h) => {
                    return Err(anyhow!("--grace-hours {h}: give 0 to 2160"))
                }
                Some(h) => chrono::Duration::hours(h),
                None => vault.settings().grace,
            };
            vault
                .activate(&actor, &account, purpose, version, grace)
                .await?;
            out!(
                "activated {account} {purpose} version {version}; the previous version stays usable for {} h",
                grace.num_hours()
            );
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
            out!("retired {account} {purpose} version {version}");
            Ok(())
        }
        KeysCommand::RefreshWechatCerts {
            ws,
            account: name,
            base_url: url,
            due,
            json,
        } => {
            let (w, actor, vault) = open(&ws).await?;
            let checks = match name {
                Some(name) if !due => {
                    let a = account(&w, &name)?;
                    let url = base_url(a, url)?;
                    let added = vault.refresh_wechat_certs(&actor, a, &url).await?;
                    vec![vault::AccountCertificateCheck {
                        account: name,
                        check: vault::CertificateCheck::Refreshed { added },
                    }]
                }
                _ => {
                    paydesk_service::connect::certificates::refresh_due_certificates(
                        &w,
                        &vault,
                        &actor,
                        chrono::Utc::now(),
                    )
                    .await?
                }
            };
            if json {
                print_json(&checks)?;
            } else {
                for c in &checks {
                    out!("{}", describe_check(c));
                }
            }
            let failed: Vec<&str> = checks
                .iter()
                .filter(|c| matches!(c.check, vault::CertificateCheck::Failed { .. }))
                .map(|c| c.account.as_str())
                .collect();
            if !failed.is_empty() {
                return Err(anyhow!(
                    "platform certificates could not be downloaded for {}",
                    failed.join(", ")
                ));
            }
            Ok(())
        }
    }
}

fn describe_check(c: &vault::AccountCertificateCheck) -> String {
    use vault::CertificateCheck::*;
    let name = &c.account;
    match &c.check {
        Refreshed { added } if added.is_empty() => {
            format!("{name}: downloaded; no new platform certificate")
        }
        Refreshed { added } => format!("{name}: stored platform certificates {}", added.join(", ")),
        NotDue { next_at } => format!(
            "{name}: not due until {}",
            next_at.format("%Y-%m-%d %H:%M UTC")
        ),
        Failed { error } => format!("{name}: FAILED: {error}"),
        Skipped { reason } => format!("{name}: skipped ({reason})"),
    }
}

pub async fn vault_cmd(command: VaultCommand) -> Result<()> {
    match command {
        VaultCommand::Init {
            ws,
            key_file,
            create_key_file,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let (source, created) =
                match key_file_source(&w, &actor, key_file, create_key_file).await? {
                    Some(s) => s,
                    None => (master_source(&w)?, false),
                };
            if let Err(e) = vault::init(&w.db, &actor, &source, None).await {
                if let (true, MasterSource::KeyFile(p)) = (created, &source) {
                    let _ = std::fs::remove_file(p);
                }
                return Err(e.into());
            }
            if let MasterSource::KeyFile(p) = &source {
                vault::remember_key_file(&w, Some(p))?;
            }
            out!(
                "created the key vault of {} ({})",
                ws.workspace.display(),
                source.describe()
            );
            Ok(())
        }
        VaultCommand::RotateMaster {
            ws,
            new_key_file,
            create_key_file,
        } => {
            let (w, actor, mut vault) = open(&ws).await?;
            let new = match key_file_source(&w, &actor, new_key_file, create_key_file).await? {
                Some((s, _)) => s,
                None => MasterSource::Passphrase(SecretString::from(secret_input(
                    "PAYDESK_VAULT_NEW_PASSPHRASE",
                    "New vault passphrase: ",
                )?)),
            };
            vault.rotate_master(&actor, &new, None).await?;
            let file = match &new {
                MasterSource::KeyFile(p) => Some(p.as_path()),
                MasterSource::Passphrase(_) => None,
            };
            vault::remember_key_file(&w, file).context(
                "the vault now opens with the NEW master key, but paydesk.toml could not be updated; set [vault] key_file by hand",
            )?;
            out!(
                "re-wrapped every data key under the new master key ({})",
                new.describe()
            );
            Ok(())
        }
    }
}
