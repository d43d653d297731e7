//! The key vault service: unlocking, importing, generating, testing, activating and retiring
//! provider credentials, master key rotation, WeChat platform certificate refresh, and
//! resolving provider configurations from the vault.
//!
//! This layer stands on `context` (and `sandbox` with the `demo` feature, for the demo's key
//! uploads). The unlocked vault of a process is kept in the workspace's slot
//! ([`WorkspaceVault`]), so the context layer never needs to know what a vault is.
//!
//! Envelope encryption and key formats live in `paydesk-vault` (its crate documentation
//! describes the scheme); storage in `paydesk-store::vault`. Every key event is audited with
//! the actor (`key.unlock`, `key.import`, `key.generate`, `key.test`, `key.activate`,
//! `key.retire`, `key.export_public`, `key.refresh_wechat_certs`, `vault.init`,
//! `vault.rotate_master`). Nothing here returns, logs or audits secret bytes: listings carry
//! [`KeyInfo`] only (fingerprints, sizes, serials, validity, states, dates).

pub mod alipay_certs;
#[cfg(feature = "demo")]
pub mod sandbox_keys;

use crate::context::auth::{audit, require};
use crate::context::config::{Account, VaultSettings};
use crate::context::workspace::Workspace;
use crate::{ProviderFailure, ProviderFault, ServiceError};
use chrono::{DateTime, Duration, Utc};
use paydesk_core::{Actor, Permission, Provider};
use paydesk_providers::adapter::{CertificateSink, FetchedCertificate, ProviderAdapter};
use paydesk_providers::alipay::{AlipayCertificates, AlipayConfig};
use paydesk_providers::factory::{build_adapter, ProviderConfig};
use paydesk_providers::http::HttpOptions;
use paydesk_providers::keys::verify_sha256_b64;
use paydesk_providers::stripe::StripeConfig;
use paydesk_providers::wechat::{WechatAdapter, WechatConfig};
use paydesk_store::{AppDb, NewVaultVersion, VaultCredential, VaultVersion};
use paydesk_vault::envelope::secret_aad;
use paydesk_vault::version::usable_at;
use paydesk_vault::{
    CredentialBinding, DataKey, KdfParams, KeyInfo, MasterKey, MasterSpec, Material, Purpose,
    VaultError, VersionState, WrappedDataKey,
};
use rsa::RsaPublicKey;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

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
pub async fn has_active(db: &AppDb, account: &str, purpose: Purpose) -> Result<bool, ServiceError> {
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
pub async fn signs_for(db: &AppDb, account: &Account) -> Result<bool, ServiceError> {
    match signing_purpose(account.provider) {
        Some(purpose) => has_active(db, &account.name, purpose).await,
        None => Ok(false),
    }
}

/// The vault unlocked in this process, kept in the workspace's slot: a person's passphrase
/// in the desktop app, or the workspace's key file / environment on first need.
#[allow(async_fn_in_trait)]
pub trait WorkspaceVault {
    /// Unlocks the vault with `source`, with this workspace's `[vault]` settings (grace
    /// period, certificate refresh interval, expiry warnings). Does not keep it.
    async fn unlock_vault(
        &self,
        actor: &Actor,
        source: &MasterSource,
    ) -> Result<Vault, ServiceError>;
    /// The vault if it is unlocked in this process.
    async fn unlocked_vault(&self) -> Option<Arc<Vault>>;
    /// Keeps (or with `None` forgets, i.e. locks) the unlocked vault for this process.
    async fn set_unlocked_vault(&self, vault: Option<Vault>);
    /// The vault for provider calls: the one already unlocked, else unlocked now with the
    /// master key this workspace names without asking anyone (`[vault] key_file`,
    /// `PAYDESK_VAULT_KEY_FILE`, `PAYDESK_VAULT_PASSPHRASE`) and kept. `None` when no vault
    /// exists or no master key is available that way.
    async fn vault_for_calls(&self, actor: &Actor) -> Result<Option<Arc<Vault>>, ServiceError>;
}

impl WorkspaceVault for Workspace {
    async fn unlock_vault(
        &self,
        actor: &Actor,
        source: &MasterSource,
    ) -> Result<Vault, ServiceError> {
        Ok(unlock(&self.db, actor, source)
            .await?
            .with_settings(&self.config.vault))
    }

    async fn unlocked_vault(&self) -> Option<Arc<Vault>> {
        self.unlocked_master().await.map(|master| {
            Arc::new(Vault {
                db: self.db.clone(),
                master,
                settings: self.config.vault.clone(),
            })
        })
    }

    async fn set_unlocked_vault(&self, vault: Option<Vault>) {
        self.keep_unlocked_master(vault.map(|v| v.master)).await;
    }

    async fn vault_for_calls(&self, actor: &Actor) -> Result<Option<Arc<Vault>>, ServiceError> {
        if let Some(v) = self.unlocked_vault().await {
            return Ok(Some(v));
        }
        if !is_configured(&self.db).await? {
            return Ok(None);
        }
        let Some(source) = MasterSource::for_workspace(&self.config) else {
            return Ok(None);
        };
        let vault = self.unlock_vault(actor, &source).await?;
        self.keep_unlocked_master(Some(vault.master.clone())).await;
        Ok(Some(Arc::new(vault)))
    }
}

/// Environment variable holding the vault passphrase.
pub const PASSPHRASE_VAR: &str = "PAYDESK_VAULT_PASSPHRASE";
/// Environment variable naming the vault key file.
pub const KEY_FILE_VAR: &str = "PAYDESK_VAULT_KEY_FILE";
/// Where the master key comes from.
pub enum MasterSource {
    Passphrase(SecretString),
    KeyFile(PathBuf),
}

impl std::fmt::Debug for MasterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterSource::Passphrase(_) => f.write_str("Passphrase([redacted])"),
            MasterSource::KeyFile(p) => write!(f, "KeyFile({})", p.display()),
        }
    }
}

impl MasterSource {
    /// Where this workspace's master key comes from without asking anyone: the key file of
    /// `PAYDESK_VAULT_KEY_FILE`, else `[vault] key_file` of `paydesk.toml`, else the
    /// passphrase in `PAYDESK_VAULT_PASSPHRASE`. `None`: a person must type the passphrase.
    pub fn for_workspace(config: &crate::context::config::Config) -> Option<MasterSource> {
        Self::key_file_from_env()
            .or_else(|| config.vault.key_file.clone().map(MasterSource::KeyFile))
            .or_else(Self::passphrase_from_env)
    }

    fn key_file_from_env() -> Option<MasterSource> {
        std::env::var(KEY_FILE_VAR)
            .ok()
            .filter(|p| !p.trim().is_empty())
            .map(|p| MasterSource::KeyFile(PathBuf::from(p)))
    }

    fn passphrase_from_env() -> Option<MasterSource> {
        std::env::var(PASSPHRASE_VAR)
            .ok()
            .map(|p| MasterSource::Passphrase(SecretString::from(p)))
    }

    /// "passphrase" or "key file" (the words of `MasterSpec::kind`), for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            MasterSource::Passphrase(_) => "passphrase",
            MasterSource::KeyFile(_) => "key file",
        }
    }

    fn derive(&self, spec: &MasterSpec) -> Result<MasterKey, ServiceError> {
        match (self, spec) {
            (MasterSource::Passphrase(p), MasterSpec::Argon2id(params)) => {
                MasterKey::from_passphrase(p, params).map_err(vault_err)
            }
            (MasterSource::KeyFile(path), MasterSpec::KeyFile) => {
                refuse_shared_key_file(path)?;
                let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
                    ServiceError::BadInput(format!(
                        "cannot read the vault key file {}: {e}",
                        path.display()
                    ))
                })?);
                MasterKey::from_key_file_bytes(&bytes)
                    .map_err(|e| ServiceError::BadInput(format!("{}: {e}", path.display())))
            }
            (given, stored) => {
                Err(ServiceError::BadInput(format!(
                    "this vault is opened with a {}, but a {} was given; {}",
                    stored.kind(),
                    given.describe(),
                    if matches!(stored, MasterSpec::KeyFile) {
                        format!("name the key file in paydesk.toml ([vault] key_file) or {KEY_FILE_VAR}")
                    } else {
                        format!("remove [vault] key_file from paydesk.toml and {KEY_FILE_VAR}, and give the passphrase ({PASSPHRASE_VAR} or the prompt)")
                    }
                )))
            }
        }
    }

    fn new_spec(&self, kdf: Option<KdfParams>) -> MasterSpec {
        match self {
            MasterSource::Passphrase(_) => {
                MasterSpec::Argon2id(kdf.unwrap_or_else(KdfParams::recommended))
            }
            MasterSource::KeyFile(_) => MasterSpec::KeyFile,
        }
    }
}

/// A master key file others can read is no secret: refuse it, as ssh refuses such keys.
fn refuse_shared_key_file(path: &std::path::Path) -> Result<(), ServiceError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ServiceError::BadInput(format!(
                    "the vault key file {} can be read by other users (mode {mode:04o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// [`create_key_file`] for `actor`, who must be allowed to manage the vault: the permission is
/// checked before the file is written, so a refused `vault init` / `vault rotate-master
/// --create-key-file` leaves no key file behind (and the vault unchanged).
pub async fn create_key_file_as(
    db: &AppDb,
    actor: &Actor,
    path: &std::path::Path,
) -> Result<(), ServiceError> {
    require(db, actor, Permission::KeyManage, "vault").await?;
    create_key_file(path)
}

/// Writes a new random master key file (64 hex digits, mode 0600 whatever the umask). Never
/// overwrites a file and never writes through a link (`create_new`).
pub fn create_key_file(path: &std::path::Path) -> Result<(), ServiceError> {
    use std::io::Write;
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        ServiceError::BadInput(if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("{shown} already exists; Paydesk never overwrites a key file")
        } else {
            format!("cannot create the vault key file {shown}: {e}")
        })
    })?;
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
    let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(key.as_ref())));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ServiceError::Io(format!("cannot write the vault key file {shown}: {e}")))
}

fn vault_err(e: VaultError) -> ServiceError {
    match e {
        VaultError::Internal(_) | VaultError::Tampered { .. } => ServiceError::Io(e.to_string()),
        VaultError::State(_) => ServiceError::Busy(e.to_string()),
        _ => ServiceError::BadInput(e.to_string()),
    }
}

/// What a credential's data key is bound to (its row's uid, account and purpose).
fn binding(c: &VaultCredential) -> CredentialBinding<'_> {
    CredentialBinding {
        uid: &c.uid,
        account: &c.account,
        purpose: &c.purpose,
    }
}

fn target(account: &str, purpose: Purpose) -> String {
    format!("{account} {purpose}")
}

/// Records the master key file in `paydesk.toml` (`[vault] key_file`; `None` removes it when
/// the vault moved to a passphrase). A file inside the workspace is written relative to it.
pub fn remember_key_file(
    w: &crate::context::workspace::Workspace,
    path: Option<&std::path::Path>,
) -> Result<(), ServiceError> {
    let shown = path.map(|p| {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let ws = std::path::absolute(&w.dir).unwrap_or_else(|_| w.dir.clone());
        abs.strip_prefix(&ws)
            .map(|r| r.to_path_buf())
            .unwrap_or(abs)
    });
    crate::context::config::save_vault_key_file(&w.dir, shown.as_deref())
        .map(|_| ())
        .map_err(|e| ServiceError::BadInput(e.to_string()))
}

/// Whether the workspace database holds a vault.
pub async fn is_configured(db: &AppDb) -> Result<bool, ServiceError> {
    Ok(db.vault_meta().await?.is_some())
}

/// The fewest characters a new vault passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The rule for a new master key (at init and at rotation): a passphrase has at least
/// [`MIN_PASSPHRASE_CHARS`] characters. A key file is 32 random bytes, checked when read.
pub fn check_new_master(source: &MasterSource) -> Result<(), ServiceError> {
    match source {
        MasterSource::Passphrase(p) if p.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS => {
            Err(ServiceError::BadInput(format!(
                "passphrase: use at least {MIN_PASSPHRASE_CHARS} characters"
            )))
        }
        _ => Ok(()),
    }
}

/// Creates the vault (once per workspace database). `kdf` overrides the Argon2id costs.
/// A passphrase must pass [`check_new_master`].
pub async fn init(
    db: &AppDb,
    actor: &Actor,
    source: &MasterSource,
    kdf: Option<KdfParams>,
) -> Result<(), ServiceError> {
    check_new_master(source)?;
    require(db, actor, Permission::KeyManage, "vault").await?;
    let spec = source.new_spec(kdf);
    let master = source.derive(&spec)?;
    db.vault_create(&spec.to_json(), &master.check_value(), Utc::now())
        .await?;
    audit(
        db,
        &actor.username,
        "vault.init",
        "vault",
        "ok",
        json!({ "master": spec.kind() }),
    )
    .await
}

/// One version as listed (no secret).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VersionListing {
    pub version: i64,
    pub state: VersionState,
    /// Usable now (active, or retired within its grace period, and not expired).
    pub usable: bool,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub usable_until: Option<DateTime<Utc>>,
    pub tested_at: Option<DateTime<Utc>>,
    pub test_outcome: Option<String>,
    pub info: KeyInfo,
}

/// One credential as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyListing {
    pub account: String,
    pub purpose: Purpose,
    pub versions: Vec<VersionListing>,
    pub warnings: Vec<KeyWarning>,
    /// WeChat Pay platform certificates: the last download (scheduled or on an unknown serial).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub refresh: Option<paydesk_store::VaultRefresh>,
}

/// Every [`KeyWarning::code`].
pub const KEY_WARNING_CODES: [&str; 5] = [
    "expires_soon",
    "expired_no_successor",
    "no_active",
    "refresh_failed",
    "refresh_overdue",
];

/// Something about a credential an admin should act on. `code` is stable (the UI words it in
/// its language); `message` says the same in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyWarning {
    /// "expires_soon", "expired_no_successor", "no_active", "refresh_failed", "refresh_overdue".
    #[cfg_attr(feature = "ts", ts(type = "KeyWarningCode"))]
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub serial: Option<String>,
    /// The expiry, or when the last refresh happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub at: Option<DateTime<Utc>>,
    pub message: String,
}

/// What a scheduled certificate check did for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CertificateCheck {
    /// Downloaded and verified; `added` are the serials stored for the first time.
    Refreshed { added: Vec<String> },
    /// Downloaded recently enough; the next download is due at `next_at`.
    NotDue { next_at: DateTime<Utc> },
    /// The download failed (nothing was stored; the certificates held stay in use).
    Failed { error: String },
    /// The account has no WeChat Pay credentials in the vault, or no provider endpoint.
    Skipped { reason: String },
}

/// One account's line of [`refresh_due_certificates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountCertificateCheck {
    pub account: String,
    #[serde(flatten)]
    pub check: CertificateCheck,
}

/// The warnings of one credential at `now` (pure: the listing and the tests use it).
pub fn credential_warnings(
    account: &str,
    purpose: Purpose,
    versions: &[VersionListing],
    refresh: Option<&paydesk_store::VaultRefresh>,
    settings: &VaultSettings,
    now: DateTime<Utc>,
) -> Vec<KeyWarning> {
    let mut out = Vec::new();
    let usable: Vec<&VersionListing> = versions.iter().filter(|v| v.usable).collect();
    // The latest expiry among the usable versions: a successor that outlives the warning
    // window means the expiring one is being replaced already.
    let latest = usable
        .iter()
        .map(|v| v.info.not_after.unwrap_or(DateTime::<Utc>::MAX_UTC))
        .max();
    let has_successor = latest.is_some_and(|t| t - now >= settings.expiry_warning);
    for v in &usable {
        let Some(exp) = v.info.not_after else {
            continue;
        };
        if exp - now < settings.expiry_warning && !has_successor {
            let what = v.info.serial.as_deref().unwrap_or("certificate");
            out.push(KeyWarning {
                code: "expires_soon",
                version: Some(v.version),
                serial: v.info.serial.clone(),
                at: Some(exp),
                message: format!(
                    "version {} ({what}) expires on {}, {} days from now, and nothing replaces it yet; {}",
                    v.version,
                    exp.format("%Y-%m-%d"),
                    (exp - now).num_days(),
                    match purpose {
                        Purpose::WechatPlatformCert => "refresh the platform certificates (WeChat Pay issues the successor up to 180 days ahead)",
                        Purpose::WechatMerchantKey => "apply for a new API certificate in the WeChat Pay merchant portal",
                        _ => "get its successor from the provider now",
                    }
                ),
            });
        }
    }
    if !versions.iter().any(|v| v.state == VersionState::Active) {
        out.push(KeyWarning {
            code: "no_active",
            version: None,
            serial: None,
            at: None,
            message: format!("no active version: {purpose} of {account} is not usable"),
        });
    } else if usable.is_empty() {
        out.push(KeyWarning {
            code: "expired_no_successor",
            version: None,
            serial: None,
            at: None,
            message: format!("every version of {purpose} of {account} has expired"),
        });
    }
    if purpose == Purpose::WechatPlatformCert {
        match refresh {
            Some(r) if r.last_error.is_some() => out.push(KeyWarning {
                code: "refresh_failed",
                version: None,
                serial: None,
                at: Some(r.last_attempt_at),
                message: format!(
                    "the last certificate download ({}) failed: {}",
                    r.last_attempt_at.format("%Y-%m-%d %H:%M UTC"),
                    r.last_error.as_deref().unwrap_or_default()
                ),
            }),
            Some(r) => {
                let last = r.last_ok_at.unwrap_or(r.last_attempt_at);
                if now - last > settings.certificate_refresh * 2 {
                    out.push(KeyWarning {
                        code: "refresh_overdue",
                        version: None,
                        serial: None,
                        at: Some(last),
                        message: format!(
                            "platform certificates were last downloaded {} hours ago (every {} hours is due)",
                            (now - last).num_hours(),
                            settings.certificate_refresh.num_hours()
                        ),
                    });
                }
            }
            None => {}
        }
    }
    out
}

/// A generated key's public half, in the forms the provider consoles expect.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PublicExport {
    pub account: String,
    pub purpose: Purpose,
    pub version: i64,
    pub fingerprint: String,
    pub key_bits: Option<u32>,
    /// SPKI PEM.
    pub public_key_pem: String,
    /// One-line base64 SPKI (Alipay's console).
    pub public_key_base64: String,
}

/// What to import.
pub enum ImportInput {
    /// Alipay app private key (PKCS#1/PKCS#8, PEM or one-line base64); the optional public
    /// key must match it.
    AlipayAppKey {
        private_key: SecretString,
        public_key: Option<String>,
    },
    /// Alipay public key (SPKI) or Alipay public certificate.
    AlipayPublicKey {
        text: String,
    },
    /// Certificate mode: `alipayCertPublicKey_RSA2.crt` with `alipayRootCert.crt`; the
    /// certificate must chain to the root and be valid.
    AlipayPublicCert {
        cert: String,
        root: String,
    },
    /// `apiclient_key.pem` + `apiclient_cert.pem`; the certificate must name `mchid`.
    WechatMerchant {
        key: SecretString,
        cert: String,
        mchid: String,
    },
    WechatApiv3Key {
        key: SecretString,
    },
    WechatPlatformCert {
        pem: String,
    },
    WechatPublicKey {
        text: String,
        key_id: String,
    },
    StripeSecretKey {
        key: SecretString,
    },
    StripeWebhookSecret {
        secret: SecretString,
    },
}

impl ImportInput {
    fn material(&self) -> Result<Material, VaultError> {
        match self {
            // An app certificate (`appCertPublicKey_<APPID>.crt`) is kept for certificate mode.
            ImportInput::AlipayAppKey {
                private_key,
                public_key: Some(cert),
            } if alipay_certs::is_certificate(cert) => {
                alipay_certs::app_key_with_cert(private_key, cert, Utc::now())
            }
            ImportInput::AlipayAppKey {
                private_key,
                public_key,
            } => Material::private_key(Purpose::AlipayAppKey, private_key, public_key.as_deref()),
            ImportInput::AlipayPublicKey { text } => {
                Material::public_key(Purpose::AlipayPublicKey, text)
            }
            ImportInput::AlipayPublicCert { cert, root } => {
                alipay_certs::public_cert(cert, root, Utc::now())
            }
            ImportInput::WechatMerchant { key, cert, mchid } => {
                Material::wechat_merchant(key, cert, mchid)
            }
            ImportInput::WechatApiv3Key { key } => Material::apiv3_key(key),
            ImportInput::WechatPlatformCert { pem } => {
                // Only a certificate that is valid now and may sign is worth trusting.
                let cert = paydesk_providers::x509::X509::first_of_pem(pem)
                    .map_err(|e| VaultError::input("platform certificate", e.to_string()))?;
                paydesk_providers::wechat::check_platform_certificate(&cert, &[], Utc::now())
                    .map_err(|e| VaultError::input("platform certificate", e.to_string()))?;
                Material::wechat_platform_cert(pem)
            }
            ImportInput::WechatPublicKey { text, key_id } => {
                Material::wechat_public_key(text, key_id)
            }
            ImportInput::StripeSecretKey { key } => Material::stripe_key(key),
            ImportInput::StripeWebhookSecret { secret } => Material::stripe_webhook_secret(secret),
        }
    }
}

/// An unlocked vault: the master key in memory (never printed), the database. Clones share
/// the master key.
#[derive(Clone)]
pub struct Vault {
    db: AppDb,
    master: Arc<MasterKey>,
    settings: VaultSettings,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([unlocked])")
    }
}

/// Opens the vault. A wrong passphrase or key file is a clear error and is audited
/// (`key.unlock`, outcome `failed`).
pub async fn unlock(
    db: &AppDb,
    actor: &Actor,
    source: &MasterSource,
) -> Result<Vault, ServiceError> {
    let meta = db.vault_meta().await?.ok_or_else(|| {
        ServiceError::BadInput(
            "this workspace has no key vault yet; create one with `paydesk vault init`".into(),
        )
    })?;
    let spec = MasterSpec::from_json(&meta.master_spec).map_err(vault_err)?;
    let result = source.derive(&spec).and_then(|m| {
        m.verify_check_value(&meta.key_check)
            .map(|()| m)
            .map_err(vault_err)
    });
    match result {
        Ok(master) => {
            let vault = Vault {
                db: db.clone(),
                master: Arc::new(master),
                settings: VaultSettings::default(),
            };
            if let Err(e) = vault.rewrap_old_data_keys(actor).await {
                // The old format still opens; the next unlock tries again.
                tracing::warn!("vault data keys not re-wrapped into format v2: {e}");
            }
            Ok(vault)
        }
        Err(e) => {
            audit(
                db,
                &actor.username,
                "key.unlock",
                "vault",
                "failed",
                json!({ "reason": e.to_string(), "master": source.describe() }),
            )
            .await?;
            Err(e)
        }
    }
}

/// A version's opened material and row.
struct Opened {
    row: VaultVersion,
    material: Material,
}

impl Vault {
    /// Re-wraps data keys written before envelope format v2 (bound to the uid only) into v2
    /// (bound to uid, account and purpose), so that from now on relabelling them is detected.
    /// A key that does not open is left alone (using it reports the tampering); each update
    /// applies only if the row still holds the old wrapped key (a concurrent rotation wins).
    async fn rewrap_old_data_keys(&self, actor: &Actor) -> Result<(), ServiceError> {
        let mut upgraded = 0u64;
        for c in self.db.vault_credentials().await? {
            let old = WrappedDataKey(c.wrapped_key.clone());
            if old.is_current() {
                continue;
            }
            let Ok(dk) = self.data_key(&c) else {
                continue;
            };
            let new = self.master.wrap(&dk, &binding(&c)).map_err(vault_err)?;
            if self
                .db
                .vault_replace_wrapped_key(c.id, &old.0, &new.0)
                .await?
            {
                upgraded += 1;
            }
        }
        if upgraded > 0 {
            audit(
                &self.db,
                &actor.username,
                "key.rewrap",
                "vault",
                "ok",
                json!({ "data_keys": upgraded, "format": "v2" }),
            )
            .await?;
        }
        Ok(())
    }

    pub fn db(&self) -> &AppDb {
        &self.db
    }

    /// The workspace's `[vault]` settings (grace, refresh interval, warning window); the
    /// defaults until given.
    pub fn with_settings(mut self, settings: &VaultSettings) -> Vault {
        self.settings = settings.clone();
        self
    }

    pub fn settings(&self) -> &VaultSettings {
        &self.settings
    }

    /// When the account's platform certificates are next due for a download: now if never
    /// downloaded, else `[vault] certificate_refresh_hours` after the last success; a failed
    /// attempt is retried after a tenth of that interval, not at every check.
    pub async fn next_certificate_refresh(
        &self,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, ServiceError> {
        let every = self.settings.certificate_refresh;
        Ok(match self.db.vault_refresh_state(account).await? {
            None => now,
            Some(r) => {
                let after_ok = r.last_ok_at.map_or(now, |t| t + every);
                after_ok.max(r.last_attempt_at + every / 10)
            }
        })
    }

    /// The scheduled certificate check of one WeChat Pay account: downloads
    /// `/v3/certificates` (see [`Vault::refresh_wechat_certs`]) when due at `now`. A failure
    /// is recorded (the listing warns about it) and returned as [`CertificateCheck::Failed`];
    /// the certificates already held stay in use.
    pub async fn refresh_if_due(
        &self,
        actor: &Actor,
        account: &Account,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<CertificateCheck, ServiceError> {
        require(&self.db, actor, Permission::KeyManage, &account.name).await?;
        let next = self.next_certificate_refresh(&account.name, now).await?;
        if next > now {
            return Ok(CertificateCheck::NotDue { next_at: next });
        }
        match self
            .download_platform_certs(actor, account, base_url, now)
            .await
        {
            Ok(added) => Ok(CertificateCheck::Refreshed { added }),
            Err(ServiceError::Provider(f)) => Ok(CertificateCheck::Failed { error: f.message }),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn credential(
        &self,
        account: &str,
        purpose: Purpose,
    ) -> Result<Option<VaultCredential>, ServiceError> {
        Ok(self.db.vault_credential(account, purpose.as_str()).await?)
    }

    async fn need_credential(
        &self,
        account: &str,
        purpose: Purpose,
    ) -> Result<VaultCredential, ServiceError> {
        self.credential(account, purpose).await?.ok_or_else(|| {
            ServiceError::BadInput(format!(
                "no {purpose} is stored for account {account}; import one with `paydesk keys import`"
            ))
        })
    }

    fn data_key(&self, c: &VaultCredential) -> Result<DataKey, ServiceError> {
        self.master
            .unwrap_key(&WrappedDataKey(c.wrapped_key.clone()), &binding(c))
            .map_err(vault_err)
    }

    fn open(
        &self,
        c: &VaultCredential,
        dk: &DataKey,
        v: &VaultVersion,
    ) -> Result<Opened, ServiceError> {
        let purpose = Purpose::parse(&c.purpose).map_err(ServiceError::Io)?;
        let aad = secret_aad(&c.uid, v.version, purpose.as_str(), &v.info);
        let what = format!("{} {} version {}", c.account, c.purpose, v.version);
        let payload = dk.open(&v.ciphertext, &aad, &what).map_err(vault_err)?;
        let info = KeyInfo::from_json(&v.info).map_err(vault_err)?;
        Ok(Opened {
            row: v.clone(),
            material: Material::from_parts(purpose, payload, info),
        })
    }

    /// Opens every version of a credential (authenticating each).
    async fn open_all(&self, c: &VaultCredential) -> Result<Vec<Opened>, ServiceError> {
        let dk = self.data_key(c)?;
        self.db
            .vault_versions(c.id)
            .await?
            .iter()
            .map(|v| self.open(c, &dk, v))
            .collect()
    }

    /// The listing: every credential and version, with warnings (expiring certificates and
    /// keys, no active version, failed or overdue certificate downloads). Needs `key.view`.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<KeyListing>, ServiceError> {
        require(&self.db, actor, Permission::KeyView, "vault").await?;
        let now = Utc::now();
        let mut out = Vec::new();
        for c in self.db.vault_credentials().await? {
            let purpose = Purpose::parse(&c.purpose).map_err(ServiceError::Io)?;
            let mut versions = Vec::new();
            for o in self.open_all(&c).await? {
                let state = VersionState::parse(&o.row.state).map_err(ServiceError::Io)?;
                let mut info = o.material.info.clone();
                let usable = usable_at(state, o.row.usable_until, info.not_after, now);
                info.certificate = None;
                versions.push(VersionListing {
                    version: o.row.version,
                    state,
                    usable,
                    source: o.row.source.clone(),
                    created_at: o.row.created_at,
                    created_by: o.row.created_by.clone(),
                    activated_at: o.row.activated_at,
                    retired_at: o.row.retired_at,
                    usable_until: o.row.usable_until,
                    tested_at: o.row.tested_at,
                    test_outcome: o.row.test_outcome.clone(),
                    info,
                });
            }
            let refresh = if purpose == Purpose::WechatPlatformCert {
                self.db.vault_refresh_state(&c.account).await?
            } else {
                None
            };
            out.push(KeyListing {
                warnings: credential_warnings(
                    &c.account,
                    purpose,
                    &versions,
                    refresh.as_ref(),
                    &self.settings,
                    now,
                ),
                account: c.account.clone(),
                purpose,
                versions,
                refresh,
            });
        }
        Ok(out)
    }

    /// Stores a material as a new version. The first version of a credential (and every
    /// platform certificate) becomes active at once; later ones are pending until activated.
    async fn add(
        &self,
        actor: &Actor,
        account: &str,
        material: &Material,
        source: &str,
    ) -> Result<VersionListing, ServiceError> {
        let purpose = material.purpose;
        let now = Utc::now();
        let c = match self.credential(account, purpose).await? {
            Some(c) => c,
            None => {
                let uid = uuid::Uuid::new_v4().to_string();
                let dk = DataKey::generate();
                let wrapped = self
                    .master
                    .wrap(
                        &dk,
                        &CredentialBinding {
                            uid: &uid,
                            account,
                            purpose: purpose.as_str(),
                        },
                    )
                    .map_err(vault_err)?;
                self.db
                    .vault_create_credential(
                        &uid,
                        account,
                        purpose.as_str(),
                        &wrapped.0,
                        &actor.username,
                        now,
                    )
                    .await?
            }
        };
        let dk = self.data_key(&c)?;
        let existing = self.db.vault_versions(c.id).await?;
        let any_active = existing.iter().any(|v| v.state == "active");
        let state = if !any_active || purpose.allows_several_active() {
            VersionState::Active
        } else {
            VersionState::Pending
        };
        let info_json = material.info.to_json();
        let mut last_err = None;
        for _ in 0..3 {
            let version = self.db.vault_next_version(c.id).await?;
            let aad = secret_aad(&c.uid, version, purpose.as_str(), &info_json);
            let ciphertext = dk
                .seal(material.payload.expose_secret(), &aad)
                .map_err(vault_err)?;
            match self
                .db
                .vault_add_version(
                    c.id,
                    &NewVaultVersion {
                        version,
                        state: state.as_str().into(),
                        info: info_json.clone(),
                        ciphertext,
                        source: source.into(),
                        created_by: actor.username.clone(),
                        at: now,
                    },
                )
                .await
            {
                Ok(row) => {
                    let mut info = material.info.clone();
                    info.certificate = None;
                    return Ok(VersionListing {
                        version: row.version,
                        state,
                        usable: state == VersionState::Active,
                        source: row.source,
                        created_at: row.created_at,
                        created_by: row.created_by,
                        activated_at: row.activated_at,
                        retired_at: None,
                        usable_until: None,
                        tested_at: None,
                        test_outcome: None,
                        info,
                    });
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.map(ServiceError::Store).unwrap_or_else(|| {
            ServiceError::Busy("could not add the key version; try again".into())
        }))
    }

    /// Imports a credential from the formats merchants have. Bad or mismatched input is
    /// refused with the reason (and the refusal audited).
    pub async fn import(
        &self,
        actor: &Actor,
        account: &str,
        input: &ImportInput,
    ) -> Result<VersionListing, ServiceError> {
        require(&self.db, actor, Permission::KeyManage, account).await?;
        let material = match input.material() {
            Ok(m) => m,
            Err(e) => {
                audit(
                    &self.db,
                    &actor.username,
                    "key.import",
                    account,
                    "failed",
                    json!({ "reason": e.to_string() }),
                )
                .await?;
                return Err(vault_err(e));
            }
        };
        let v = self.add(actor, account, &material, "import").await?;
        audit(
            &self.db,
            &actor.username,
            "key.import",
            &target(account, material.purpose),
            "ok",
            json!({ "version": v.version, "state": v.state, "fingerprint": v.info.fingerprint, "serial": v.info.serial }),
        )
        .await?;
        Ok(v)
    }

    /// Generates an RSA app/merchant key inside Paydesk as a pending version (active if it is
    /// the first) and returns its public key for the provider console.
    pub async fn generate(
        &self,
        actor: &Actor,
        account: &str,
        purpose: Purpose,
        bits: usize,
    ) -> Result<PublicExport, ServiceError> {
        require(&self.db, actor, Permission::KeyManage, account).await?;
        if !purpose.generatable() {
            return Err(ServiceError::BadInput(format!(
                "Paydesk cannot generate a {purpose}; only alipay_app_key can be generated here (WeChat merchant keys come with a certificate from the merchant portal)"
            )));
        }
        if purpose == Purpose::WechatMerchantKey {
            return Err(ServiceError::BadInput(
                "a WeChat merchant key needs its certificate from the merchant portal; import apiclient_key.pem and apiclient_cert.pem instead".into(),
            ));
        }
        let material = tokio::task::spawn_blocking(move || Material::generate_rsa(purpose, bits))
            .await
            .map_err(|e| ServiceError::Io(format!("key generation stopped: {e}")))?
            .map_err(vault_err)?;
        let v = self.add(actor, account, &material, "generate").await?;
        audit(
            &self.db,
            &actor.username,
            "key.generate",
            &target(account, purpose),
            "ok",
            json!({ "version": v.version, "bits": bits, "fingerprint": v.info.fingerprint }),
        )
        .await?;
        export_of(account, purpose, v.version, &material.info)
    }

    /// The public key of a version, as the provider console expects it (audited).
    pub async fn export_public(
        &self,
        actor: &Actor,
        account: &str,
        purpose: Purpose,
        version: i64,
    ) -> Result<PublicExport, ServiceError> {
        require(&self.db, actor, Permission::KeyView, account).await?;
        let o = self.version(account, purpose, version).await?;
        let e = export_of(account, purpose, version, &o.material.info)?;
        audit(
            &self.db,
            &actor.username,
            "key.export_public",
            &target(account, purpose),
            "ok",
            json!({ "version": version, "fingerprint": e.fingerprint }),
        )
        .await?;
        Ok(e)
    }

    async fn version(
        &self,
        account: &str,
        purpose: Purpose,
        version: i64,
    ) -> Result<Opened, ServiceError> {
        let c = self.need_credential(account, purpose).await?;
        self.open_all(&c)
            .await?
            .into_iter()
            .find(|o| o.row.version == version)
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "{purpose} of account {account} has no version {version}; see `paydesk keys list`"
                ))
            })
    }

    /// The active version's material (for building adapters).
    async fn active(
        &self,
        account: &str,
        purpose: Purpose,
    ) -> Result<Option<Opened>, ServiceError> {
        let Some(c) = self.credential(account, purpose).await? else {
            return Ok(None);
        };
        Ok(self
            .open_all(&c)
            .await?
            .into_iter()
            .filter(|o| o.row.state == "active")
            .max_by_key(|o| o.row.version))
    }

    /// Activates a pending version; the active one retires in the same transaction, usable
    /// (for verification, or at the provider for Stripe's overlap) until `now + grace`.
    pub async fn activate(
        &self,
        actor: &Actor,
        account: &str,
        purpose: Purpose,
        version: i64,
        grace: Duration,
    ) -> Result<(), ServiceError> {
        require(&self.db, actor, Permission::KeyManage, account).await?;
        let c = self.need_credential(account, purpose).await?;
        let o = self.version(account, purpose, version).await?;
        let state = VersionState::parse(&o.row.state).map_err(ServiceError::Io)?;
        if !state.can_become(VersionState::Active) {
            return Err(ServiceError::Conflict(format!(
                "{purpose} version {version} of {account} is {state}; only a pending version can be activated"
            )));
        }
        let now = Utc::now();
        let until = (grace > Duration::zero()).then(|| now + grace);
        self.db
            .vault_activate(c.id, version, !purpose.allows_several_active(), until, now)
            .await?;
        audit(
            &self.db,
            &actor.username,
            "key.activate",
            &target(account, purpose),
            "ok",
            json!({ "version": version, "fingerprint": o.material.info.fingerprint, "previous_usable_until": until }),
        )
        .await
    }

    /// Retires a version (usable until `now + grace`, zero for at once).
    pub async fn retire(
        &self,
        actor: &Actor,
        account: &str,
        purpose: Purpose,
        version: i64,
        grace: Duration,
    ) -> Result<(), ServiceError> {
        require(&self.db, actor, Permission::KeyManage, account).await?;
        let c = self.need_credential(account, purpose).await?;
        let now = Utc::now();
        let until = (grace > Duration::zero()).then(|| now + grace);
        self.db.vault_retire(c.id, version, until, now).await?;
        audit(
            &self.db,
            &actor.username,
            "key.retire",
            &target(account, purpose),
            "ok",
            json!({ "version": version, "usable_until": until }),
        )
        .await
    }

    /// The public keys usable at `now` to verify answers: active versions and retired ones
    /// within their grace period, unexpired. Keyed by serial / key id / `v<version>`.
    pub async fn verification_keys(
        &self,
        account: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, RsaPublicKey>, ServiceError> {
        let mut out = BTreeMap::new();
        let Some(c) = self.credential(account, purpose).await? else {
            return Ok(out);
        };
        for o in self.open_all(&c).await? {
            let state = VersionState::parse(&o.row.state).map_err(ServiceError::Io)?;
            if !usable_at(state, o.row.usable_until, o.material.info.not_after, now) {
                continue;
            }
            if let Some(k) = o.material.info.rsa_public_key() {
                let id = o
                    .material
                    .info
                    .key_id
                    .clone()
                    .or_else(|| o.material.info.serial.clone())
                    .unwrap_or_else(|| format!("v{}", o.row.version));
                out.insert(id, k);
            }
        }
        Ok(out)
    }

    /// Verifies a SHA256withRSA signature (base64) against the usable verification keys.
    pub async fn verify_signature(
        &self,
        account: &str,
        purpose: Purpose,
        message: &[u8],
        signature_b64: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .verification_keys(account, purpose, now)
            .await?
            .values()
            .any(|k| verify_sha256_b64(k, message, signature_b64)))
    }

    /// Rotates the master key: every data key is re-wrapped under the new master key and
    /// written with the new header in ONE transaction. Before the commit the vault opens with
    /// the old key only; after it, with the new key only. A new passphrase must pass
    /// [`check_new_master`].
    pub async fn rotate_master(
        &mut self,
        actor: &Actor,
        new_source: &MasterSource,
        kdf: Option<KdfParams>,
    ) -> Result<(), ServiceError> {
        check_new_master(new_source)?;
        require(&self.db, actor, Permission::KeyManage, "vault").await?;
        let meta = self
            .db
            .vault_meta()
            .await?
            .ok_or_else(|| ServiceError::BadInput("this workspace has no key vault".into()))?;
        let spec = new_source.new_spec(kdf);
        let new_master = new_source.derive(&spec)?;
        let mut rewrapped = Vec::new();
        for c in self.db.vault_credentials().await? {
            let dk = self.data_key(&c)?;
            let w = new_master.wrap(&dk, &binding(&c)).map_err(vault_err)?;
            rewrapped.push((c.id, w.0));
        }
        let result = self
            .db
            .vault_rotate_master(
                meta.generation,
                &spec.to_json(),
                &new_master.check_value(),
                &rewrapped,
                Utc::now(),
            )
            .await;
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        audit(
            &self.db,
            &actor.username,
            "vault.rotate_master",
            "vault",
            outcome,
            json!({ "master": spec.kind(), "data_keys": rewrapped.len(), "error": result.as_ref().err().map(|e| e.to_string()) }),
        )
        .await?;
        result?;
        self.master = std::sync::Arc::new(new_master);
        Ok(())
    }

    // ---------------------------------------------------------------------------------
    // Adapters from the vault
    // ---------------------------------------------------------------------------------

    async fn private_pem(
        &self,
        account: &str,
        purpose: Purpose,
        version: Option<i64>,
    ) -> Result<(Opened, SecretString), ServiceError> {
        let o = match version {
            Some(v) => self.version(account, purpose, v).await?,
            None => self.active(account, purpose).await?.ok_or_else(|| {
                ServiceError::BadInput(format!(
                    "account {account} has no active {purpose} in the vault; import or activate one (`paydesk keys list`)"
                ))
            })?,
        };
        let pem = o.material.private_key_pem().map_err(vault_err)?;
        Ok((o, pem))
    }

    async fn active_text(
        &self,
        account: &str,
        purpose: Purpose,
        version: Option<i64>,
    ) -> Result<SecretString, ServiceError> {
        let o = match version {
            Some(v) => self.version(account, purpose, v).await?,
            None => self.active(account, purpose).await?.ok_or_else(|| {
                ServiceError::BadInput(format!(
                    "account {account} has no active {purpose} in the vault"
                ))
            })?,
        };
        o.material.secret_text().map_err(vault_err)
    }

    /// Alipay configuration from the vault (app key: active, or `version` to test it).
    pub async fn alipay_config(
        &self,
        account: &Account,
        gateway_url: &str,
        version: Option<i64>,
    ) -> Result<AlipayConfig, ServiceError> {
        let (app, pem) = self
            .private_pem(&account.name, Purpose::AlipayAppKey, version)
            .await?;
        let no_public = || {
            ServiceError::BadInput(format!(
                "account {} has no active alipay_public_key in the vault; import the Alipay public key (or, in certificate mode, alipayCertPublicKey_RSA2.crt with --root-cert alipayRootCert.crt)",
                account.name
            ))
        };
        let active = self
            .active(&account.name, Purpose::AlipayPublicKey)
            .await?
            .ok_or_else(no_public)?;
        // Certificate mode when the active Alipay public key is a certificate with its root.
        let certificates = match alipay_certs::bundle_of(&active.material) {
            None => None,
            Some(bundle) => {
                let app_cert = app.material.info.certificate_pem().ok_or_else(|| {
                    ServiceError::BadInput(format!(
                        "account {}: the Alipay public key is a certificate (certificate mode), but alipay_app_key version {} has no app certificate; import the app key again with --cert appCertPublicKey_<APPID>.crt",
                        account.name, app.row.version
                    ))
                })?;
                // The active certificate first, then those still usable (retired in grace).
                let mut alipay_certs = vec![bundle.alipay_cert];
                let c = self
                    .need_credential(&account.name, Purpose::AlipayPublicKey)
                    .await?;
                let now = Utc::now();
                for o in self.open_all(&c).await? {
                    let state = VersionState::parse(&o.row.state).map_err(ServiceError::Io)?;
                    if o.row.version == active.row.version
                        || !usable_at(state, o.row.usable_until, o.material.info.not_after, now)
                    {
                        continue;
                    }
                    if let Some(b) = alipay_certs::bundle_of(&o.material) {
                        alipay_certs.push(b.alipay_cert);
                    }
                }
                Some(AlipayCertificates {
                    app_cert,
                    alipay_certs,
                    root_cert: bundle.root_cert,
                })
            }
        };
        let alipay_public_key = match certificates {
            Some(_) => String::new(),
            None => active
                .material
                .info
                .public_key_pem()
                .ok_or_else(no_public)?,
        };
        Ok(AlipayConfig {
            app_id: account.credential("app_id").unwrap_or_default().to_string(),
            gateway_url: gateway_url.to_string(),
            app_private_key: pem,
            alipay_public_key,
            pid: account.credential("pid").unwrap_or_default().to_string(),
            certificates,
        })
    }

    /// WeChat configuration from the vault: merchant key + serial, APIv3 key, and every
    /// usable platform certificate / public key.
    pub async fn wechat_config(
        &self,
        account: &Account,
        base_url: &str,
        version: Option<i64>,
    ) -> Result<WechatConfig, ServiceError> {
        let (o, pem) = self
            .private_pem(&account.name, Purpose::WechatMerchantKey, version)
            .await?;
        let serial = o.material.info.serial.clone().unwrap_or_default();
        let apiv3 = self
            .active_text(&account.name, Purpose::WechatApiv3Key, None)
            .await?;
        let now = Utc::now();
        let mut platform_keys = BTreeMap::new();
        for purpose in [Purpose::WechatPlatformCert, Purpose::WechatPublicKey] {
            for (id, key) in self.verification_keys(&account.name, purpose, now).await? {
                if let Ok(p) = paydesk_providers::keys::public_key_pem(&key) {
                    platform_keys.insert(id, p);
                }
            }
        }
        Ok(WechatConfig {
            mchid: account.credential("mchid").unwrap_or_default().to_string(),
            base_url: base_url.to_string(),
            merchant_serial: serial,
            merchant_private_key: pem,
            apiv3_key: apiv3,
            platform_keys,
        })
    }

    pub async fn stripe_config(
        &self,
        account: &Account,
        base_url: &str,
        version: Option<i64>,
    ) -> Result<StripeConfig, ServiceError> {
        let key = self
            .active_text(&account.name, Purpose::StripeSecretKey, version)
            .await?;
        let mut cfg = StripeConfig::new(base_url.to_string(), key);
        if let Some(k) = account.credential("order_metadata_key") {
            cfg.order_metadata_key = k.to_string();
        }
        Ok(cfg)
    }

    /// The body of a sandbox's `/_control/keys` for the account's signing key (`version`, or
    /// the active one): what the merchant uploads in the provider's console. Demo sandboxes
    /// only; the Stripe secret goes to a sandbox on 127.0.0.1.
    #[cfg(feature = "demo")]
    pub(crate) async fn sandbox_registration(
        &self,
        account: &Account,
        version: Option<i64>,
    ) -> Result<serde_json::Value, ServiceError> {
        let purpose = signing_purpose(account.provider).ok_or_else(|| {
            ServiceError::BadInput(format!("account {} signs nothing", account.name))
        })?;
        let o = match version {
            Some(v) => self.version(&account.name, purpose, v).await?,
            None => self.active(&account.name, purpose).await?.ok_or_else(|| {
                ServiceError::BadInput(format!("account {} has no active {purpose}", account.name))
            })?,
        };
        let public = || {
            o.material.info.public_key_pem().ok_or_else(|| {
                ServiceError::Io(format!("{purpose} of {} has no public key", account.name))
            })
        };
        Ok(match account.provider {
            Provider::Alipay => json!({ "provider": "alipay", "public_key": public()? }),
            Provider::Wechat => json!({
                "provider": "wechat",
                "public_key": public()?,
                "serial": o.material.info.serial.clone().unwrap_or_default(),
            }),
            _ => json!({
                "provider": "stripe",
                "secret_key": o.material.secret_text().map_err(vault_err)?.expose_secret(),
            }),
        })
    }

    /// The account's configuration for calls from the vault (the active signing key, or
    /// `version` of it to test that version).
    pub async fn provider_config(
        &self,
        account: &Account,
        base_url: &str,
        version: Option<i64>,
    ) -> Result<ProviderConfig, ServiceError> {
        Ok(match account.provider {
            Provider::Alipay => {
                ProviderConfig::Alipay(self.alipay_config(account, base_url, version).await?)
            }
            Provider::Wechat => {
                ProviderConfig::Wechat(self.wechat_config(account, base_url, version).await?)
            }
            Provider::Stripe => {
                ProviderConfig::Stripe(self.stripe_config(account, base_url, version).await?)
            }
            Provider::Manual => {
                return Err(ServiceError::BadInput(format!(
                    "account {} is a manual account; it has no provider keys",
                    account.name
                )))
            }
        })
    }

    /// The account's adapter for calls made on behalf of `actor`: like [`Vault::adapter`],
    /// and WeChat Pay platform certificates the adapter fetches on an unknown serial are kept
    /// in the vault.
    pub async fn adapter_for_calls(
        &self,
        account: &Account,
        base_url: &str,
        actor: &Actor,
    ) -> Result<Box<dyn ProviderAdapter>, ServiceError> {
        let sink: Arc<dyn CertificateSink> = Arc::new(VaultCertificateSink {
            vault: self.clone(),
            account: account.name.clone(),
            during: actor.username.clone(),
        });
        let config = self.provider_config(account, base_url, None).await?;
        build_adapter(config, HttpOptions::default(), Some(sink))
            .map_err(|e| ServiceError::provider(&e))
    }

    /// Builds the account's adapter from the vault (each call reads the active versions, so
    /// an adapter built after an activation uses the new key).
    pub async fn adapter(
        &self,
        account: &Account,
        base_url: &str,
    ) -> Result<Box<dyn ProviderAdapter>, ServiceError> {
        self.adapter_with(account, base_url, None).await
    }

    async fn adapter_with(
        &self,
        account: &Account,
        base_url: &str,
        version: Option<i64>,
    ) -> Result<Box<dyn ProviderAdapter>, ServiceError> {
        let config = self.provider_config(account, base_url, version).await?;
        build_adapter(config, HttpOptions::default(), None).map_err(|e| ServiceError::provider(&e))
    }

    /// Calls the provider with a (pending) version: a signed order query for an order that
    /// does not exist. A verified answer ("not found" included) means the provider accepts
    /// the key; an answer without a valid signature is "not verified", never accepted. The outcome is recorded on the version and audited.
    pub async fn test(
        &self,
        actor: &Actor,
        account: &Account,
        purpose: Purpose,
        version: i64,
        base_url: &str,
    ) -> Result<String, ServiceError> {
        require(&self.db, actor, Permission::KeyManage, &account.name).await?;
        let o = self.version(&account.name, purpose, version).await?;
        let signing = matches!(
            purpose,
            Purpose::AlipayAppKey | Purpose::WechatMerchantKey | Purpose::StripeSecretKey
        );
        // The failure keeps the provider error's kind (signature, unavailable, refused…).
        let result: Result<String, (ProviderFault, String)> = if !signing {
            Err((
                ProviderFault::Other,
                format!(
                    "{purpose} cannot be tested by a call; it is checked when answers are verified"
                ),
            ))
        } else {
            match self.adapter_with(account, base_url, Some(version)).await {
                Err(ServiceError::Provider(f)) => Err((f.fault, f.message)),
                Err(e) => Err((ProviderFault::Other, e.to_string())),
                Ok(adapter) => {
                    let probe = format!("paydesk-key-test-{}", uuid::Uuid::new_v4().simple());
                    match adapter.query_payment(&probe).await {
                        Ok(_) => Ok("accepted".to_string()),
                        Err(e) if e.is_not_found() => Ok("accepted".to_string()),
                        // An answer whose signature is missing or wrong proves nothing.
                        Err(e) => match ProviderFault::of(&e) {
                            ProviderFault::Signature => {
                                Err((ProviderFault::Signature, format!("not verified: {e}")))
                            }
                            fault => Err((fault, e.to_string())),
                        },
                    }
                }
            }
        };
        let (outcome, text) = match &result {
            Ok(t) => ("ok", t.clone()),
            Err((_, e)) => ("failed", e.clone()),
        };
        self.db
            .vault_record_test(o.row.id, &format!("{outcome}: {text}"), Utc::now())
            .await?;
        audit(
            &self.db,
            &actor.username,
            "key.test",
            &target(&account.name, purpose),
            outcome,
            json!({ "version": version, "result": text }),
        )
        .await?;
        result.map_err(|(fault, e)| {
            let message = if fault == ProviderFault::Signature {
                format!("{purpose} version {version} of {}: {e}", account.name)
            } else {
                format!(
                    "{purpose} version {version} of {} was refused: {e}",
                    account.name
                )
            };
            ServiceError::Provider(ProviderFailure { fault, message })
        })
    }

    /// Downloads `/v3/certificates` with the account's vault credentials through the WeChat
    /// adapter (each certificate decrypted with the APIv3 key, the answer's signature verified
    /// with the known or just-decrypted certificates; it fails closed otherwise), and stores
    /// the new ones. Returns the serials newly stored.
    pub async fn refresh_wechat_certs(
        &self,
        actor: &Actor,
        account: &Account,
        base_url: &str,
    ) -> Result<Vec<String>, ServiceError> {
        require(&self.db, actor, Permission::KeyManage, &account.name).await?;
        self.download_platform_certs(actor, account, base_url, Utc::now())
            .await
    }

    /// The download of [`Vault::refresh_wechat_certs`], recorded as made at `now`.
    async fn download_platform_certs(
        &self,
        actor: &Actor,
        account: &Account,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, ServiceError> {
        let fetched = match self.fetch_wechat_certs(account, base_url).await {
            Ok(f) => f,
            Err(e) => {
                self.db
                    .vault_record_refresh(&account.name, now, Some(&e.to_string()))
                    .await?;
                audit(
                    &self.db,
                    &actor.username,
                    "key.refresh_wechat_certs",
                    &account.name,
                    "failed",
                    json!({ "reason": e.to_string() }),
                )
                .await?;
                return Err(e);
            }
        };
        self.store_platform_certs(actor, &account.name, &fetched, "refresh", now)
            .await
    }

    async fn fetch_wechat_certs(
        &self,
        account: &Account,
        base_url: &str,
    ) -> Result<Vec<FetchedCertificate>, ServiceError> {
        let cfg = self.wechat_config(account, base_url, None).await?;
        let adapter = WechatAdapter::new(cfg, HttpOptions::default())
            .map_err(|e| ServiceError::provider(&e))?;
        adapter.refresh_certificates().await.map_err(|e| {
            ServiceError::provider_said(
                &e,
                format!("account {}: {e}; no certificate was stored", account.name),
            )
        })
    }

    /// Stores verified platform certificates the vault does not hold yet (by serial), records
    /// the refresh and audits it. `trigger`: "refresh" (asked for or scheduled) or
    /// "unknown_serial" (an answer named a serial the vault did not have).
    async fn store_platform_certs(
        &self,
        actor: &Actor,
        account: &str,
        fetched: &[FetchedCertificate],
        trigger: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, ServiceError> {
        let known: Vec<String> = match self
            .credential(account, Purpose::WechatPlatformCert)
            .await?
        {
            Some(c) => self
                .open_all(&c)
                .await?
                .into_iter()
                .filter_map(|o| o.material.info.serial)
                .collect(),
            None => Vec::new(),
        };
        let mut added = Vec::new();
        let mut skipped_expired = Vec::new();
        for f in fetched {
            if known.iter().any(|k| k.eq_ignore_ascii_case(&f.serial)) {
                continue;
            }
            let m = Material::wechat_platform_cert(&f.pem).map_err(vault_err)?;
            // WeChat Pay never signs with an expired certificate: do not keep one.
            if m.info.not_after.is_some_and(|t| t <= now) {
                skipped_expired.push(f.serial.clone());
                continue;
            }
            self.add(actor, account, &m, "download").await?;
            added.push(f.serial.clone());
        }
        self.db.vault_record_refresh(account, now, None).await?;
        audit(
            &self.db,
            &actor.username,
            "key.refresh_wechat_certs",
            account,
            "ok",
            json!({ "added": added, "trigger": trigger, "skipped_expired": skipped_expired }),
        )
        .await?;
        Ok(added)
    }
}

impl Vault {
    /// Keeps an Alipay certificate the adapter downloaded on an unknown `alipay_cert_sn`
    /// (already checked against the root there, and checked again here): a new active
    /// `alipay_public_key` version with the active version's root; the previous version stays
    /// usable for the `[vault]` grace period. Returns the new version, or `None` when the
    /// vault holds that certificate already or the account is not in certificate mode.
    pub async fn store_alipay_cert(
        &self,
        actor: &Actor,
        account: &str,
        fetched: &FetchedCertificate,
        trigger: &str,
    ) -> Result<Option<i64>, ServiceError> {
        let purpose = Purpose::AlipayPublicKey;
        let Some(c) = self.credential(account, purpose).await? else {
            return Ok(None);
        };
        let opened = self.open_all(&c).await?;
        if opened
            .iter()
            .any(|o| o.material.info.key_id.as_deref() == Some(fetched.serial.as_str()))
        {
            return Ok(None);
        }
        let Some(root) = opened
            .iter()
            .filter(|o| o.row.state == "active")
            .max_by_key(|o| o.row.version)
            .and_then(|o| alipay_certs::bundle_of(&o.material))
            .map(|b| b.root_cert)
        else {
            return Ok(None);
        };
        let now = Utc::now();
        let m = alipay_certs::public_cert(&fetched.pem, &root, now).map_err(vault_err)?;
        let v = self.add(actor, account, &m, "download").await?;
        if v.state != VersionState::Active {
            let until = (self.settings.grace > Duration::zero()).then(|| now + self.settings.grace);
            self.db
                .vault_activate(c.id, v.version, true, until, now)
                .await?;
        }
        audit(
            &self.db,
            &actor.username,
            "key.download_alipay_cert",
            &target(account, purpose),
            "ok",
            json!({ "version": v.version, "alipay_cert_sn": fetched.serial, "serial": v.info.serial, "trigger": trigger }),
        )
        .await?;
        Ok(Some(v.version))
    }
}

/// Keeps the verification certificates an adapter fetched on an unknown serial in the vault
/// (WeChat Pay platform certificates; Alipay certificates in certificate mode), as the system (the person whose call triggered it is named in the audit details).
struct VaultCertificateSink {
    vault: Vault,
    account: String,
    during: String,
}

#[async_trait::async_trait]
impl CertificateSink for VaultCertificateSink {
    async fn learned(&self, provider: Provider, certificates: Vec<FetchedCertificate>) {
        let system = Actor::system();
        let trigger = format!("unknown_serial during a call by {}", self.during);
        if provider == Provider::Alipay {
            for cert in &certificates {
                match self
                    .vault
                    .store_alipay_cert(&system, &self.account, cert, &trigger)
                    .await
                {
                    Ok(Some(version)) => {
                        tracing::info!(account = %self.account, alipay_cert_sn = %cert.serial, version, "stored a renewed Alipay certificate");
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(account = %self.account, "could not keep the downloaded Alipay certificate: {e}")
                    }
                }
            }
            return;
        }
        match self
            .vault
            .store_platform_certs(&system, &self.account, &certificates, &trigger, Utc::now())
            .await
        {
            Ok(added) if !added.is_empty() => {
                tracing::info!(account = %self.account, ?added, "stored new WeChat Pay platform certificates");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(account = %self.account, "could not keep fetched platform certificates: {e}")
            }
        }
    }
}

fn export_of(
    account: &str,
    purpose: Purpose,
    version: i64,
    info: &KeyInfo,
) -> Result<PublicExport, ServiceError> {
    let pem = info.public_key_pem().ok_or_else(|| {
        ServiceError::BadInput(format!(
            "{purpose} version {version} of {account} has no public key to export"
        ))
    })?;
    Ok(PublicExport {
        account: account.to_string(),
        purpose,
        version,
        fingerprint: info.fingerprint.clone(),
        key_bits: info.key_bits,
        public_key_pem: pem,
        public_key_base64: info.public_key_base64().unwrap_or_default(),
    })
}
