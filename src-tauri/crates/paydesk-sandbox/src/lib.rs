//! A local provider simulator on 127.0.0.1 that speaks Alipay OpenAPI (RSA2), WeChat Pay v3
//! and Stripe with real signatures made with its own keys, and checks the client's.
//!
//! Paths: `/alipay/gateway.do`, `/alipay/bill/{token}`, `/wechat/v3/...`, `/stripe/v1/...`,
//! and a JSON control API under `/_control/...`.

// Handlers return `Result<_, Response>` to short-circuit with a protocol error answer.
#![allow(clippy::result_large_err)]

mod alipay;
mod alipay_certs;
mod fundflow;
mod state;
mod stripe;
mod wechat;

pub use alipay_certs::AlipayCertFiles;
pub use fundflow::{Quirk, SandboxLedger, ALIPAY_WITHDRAWAL_FEE_BP, OPENING_BALANCE};
pub use state::{Fault, FaultKind, SandboxPayment, SandboxRefund};

use axum::routing::{delete, get, post};
use axum::Router;
use paydesk_core::{Provider, StatementLine};
use paydesk_providers::keys::{
    public_key_base64, public_key_pem, Certificate, KeyError, PrivateKey,
};
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};
use state::{Inner, Shared};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox key: {0}")]
    Key(#[from] KeyError),
    #[error("sandbox io: {0}")]
    Io(#[from] std::io::Error),
}

/// The sandbox's own keys (the provider side). Persist them with [`SandboxKeys::load_or_create`]
/// so a client configured once keeps trusting the sandbox across runs.
#[derive(Clone, Debug)]
pub struct SandboxKeys {
    /// Signs Alipay answers; its public half is "the Alipay public key".
    pub alipay: PrivateKey,
    /// Signs WeChat Pay answers; published as a platform certificate.
    pub wechat_platform: PrivateKey,
}

const ALIPAY_KEY_FILE: &str = "sandbox-alipay-private-key.pem";
const WECHAT_KEY_FILE: &str = "sandbox-wechat-platform-private-key.pem";

impl SandboxKeys {
    pub fn generate() -> Result<SandboxKeys, SandboxError> {
        Ok(SandboxKeys {
            alipay: PrivateKey::generate()?,
            wechat_platform: PrivateKey::generate()?,
        })
    }

    /// Loads the two PEM files from `dir`, creating (and writing) any that are missing.
    pub fn load_or_create(dir: &Path) -> Result<SandboxKeys, SandboxError> {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            folder.mode(0o700);
        }
        if !dir.is_dir() {
            folder.create(dir)?;
        }
        let load = |name: &str| -> Result<PrivateKey, SandboxError> {
            let path = dir.join(name);
            if path.exists() {
                return Ok(PrivateKey::parse(&std::fs::read_to_string(&path)?)?);
            }
            let key = PrivateKey::generate()?;
            // A private key: 0600 from the start whatever the umask, and never written
            // through a link planted at the name (`create_new` does not follow links).
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = match options.open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_file() => {
                    // Another process wrote it first: use theirs.
                    return Ok(PrivateKey::parse(&std::fs::read_to_string(&path)?)?);
                }
                Err(e) => return Err(e.into()),
            };
            std::io::Write::write_all(&mut file, key.to_pkcs8_pem()?.as_bytes())?;
            file.sync_all()?;
            Ok(key)
        };
        Ok(SandboxKeys {
            alipay: load(ALIPAY_KEY_FILE)?,
            wechat_platform: load(WECHAT_KEY_FILE)?,
        })
    }

    /// The platform certificate for the WeChat key; the serial derives from the key, so it is
    /// stable across runs.
    pub fn wechat_platform_certificate(&self) -> Result<Certificate, SandboxError> {
        platform_certificate(&self.wechat_platform)
    }
}

/// A WeChat Pay platform certificate for `key`, its serial derived from the key.
fn platform_certificate(key: &PrivateKey) -> Result<Certificate, SandboxError> {
    let spki = public_key_base64(&key.public_key())?;
    let mut serial = Sha256::digest(spki.as_bytes())[..16].to_vec();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    Ok(Certificate::self_signed(
        key,
        &serial,
        "Paydesk Sandbox WeChat Pay platform",
    )?)
}

/// What the sandbox needs to know about the merchant (client) side.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub keys: SandboxKeys,
    pub alipay_app_id: String,
    pub alipay_pid: String,
    /// The merchant's app public key; requests must verify against it.
    pub alipay_app_public_key: RsaPublicKey,
    pub wechat_mchid: String,
    /// Serial of the merchant API certificate the client signs with.
    pub wechat_merchant_serial: String,
    pub wechat_merchant_public_key: RsaPublicKey,
    /// The 32-byte APIv3 key shared with the merchant.
    pub apiv3_key: String,
    /// The Stripe secret key the client must present.
    pub stripe_secret_key: String,
}

/// A running sandbox. Shuts down on drop or [`SandboxHandle::shutdown`].
pub struct SandboxHandle {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// `<base_url>/alipay/gateway.do`
    pub alipay_gateway_url: String,
    /// The Alipay public key the client must trust (SPKI PEM).
    pub alipay_public_key_pem: String,
    /// `<base_url>/wechat` (use as `WechatConfig::base_url`).
    pub wechat_base_url: String,
    pub wechat_platform_serial: String,
    pub wechat_platform_public_key_pem: String,
    pub wechat_platform_cert_pem: String,
    /// `<base_url>/stripe` (use as `StripeConfig::base_url`).
    pub stripe_base_url: String,
    state: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Sandbox;

impl Sandbox {
    /// Binds 127.0.0.1:`port` (0 = a random free port) and serves until shut down.
    pub async fn start(cfg: SandboxConfig, port: u16) -> Result<SandboxHandle, SandboxError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let cert = cfg.keys.wechat_platform_certificate()?;
        let alipay_public_key_pem = public_key_pem(&cfg.keys.alipay.public_key())?;
        let wechat_platform_public_key_pem =
            public_key_pem(&cfg.keys.wechat_platform.public_key())?;
        let state: Shared = Arc::new(state::State {
            cfg,
            base_url: base_url.clone(),
            platform_serial: cert.serial_hex.clone(),
            platform_cert_pem: cert.to_pem(),
            inner: Mutex::new(Inner::default()),
        });
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "sandbox server stopped");
            }
        });
        Ok(SandboxHandle {
            alipay_gateway_url: format!("{base_url}/alipay/gateway.do"),
            alipay_public_key_pem,
            wechat_base_url: format!("{base_url}/wechat"),
            wechat_platform_serial: cert.serial_hex.clone(),
            wechat_platform_public_key_pem,
            wechat_platform_cert_pem: cert.to_pem(),
            stripe_base_url: format!("{base_url}/stripe"),
            base_url,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/alipay/gateway.do", post(alipay::gateway))
        .route("/alipay/bill/{token}", get(alipay::bill))
        .route("/wechat/v3/certificates", get(wechat::certificates))
        .route("/wechat/v3/bill/tradebill", get(wechat::tradebill))
        .route("/wechat/v3/bill/fundflowbill", get(wechat::fundflowbill))
        .route("/wechat/v3/billdownload/file", get(wechat::billfile))
        .route(
            "/wechat/v3/refund/domestic/refunds",
            post(wechat::create_refund),
        )
        .route(
            "/wechat/v3/refund/domestic/refunds/{no}",
            get(wechat::query_refund),
        )
        .route(
            "/wechat/v3/pay/transactions/out-trade-no/{no}",
            get(wechat::query_order),
        )
        .route(
            "/stripe/v1/balance_transactions",
            get(stripe::balance_transactions),
        )
        .route(
            "/stripe/v1/refunds",
            post(stripe::create_refund).get(stripe::list_refunds),
        )
        .route("/stripe/v1/refunds/{id}", get(stripe::get_refund))
        .route("/stripe/v1/payouts", get(stripe::list_payouts))
        .route(
            "/stripe/v1/payment_intents/search",
            get(stripe::search_payment_intents),
        )
        .route(
            "/stripe/v1/payment_intents/{id}",
            get(stripe::get_payment_intent),
        )
        .route("/stripe/v1/charges/{id}", get(stripe::get_charge))
        .route("/_control/transactions", post(state::control_add))
        .route(
            "/_control/fault",
            post(state::control_fault).delete(state::control_clear_faults),
        )
        .route("/_control/refunds", get(state::control_refunds))
        .route("/_control/state", get(state::control_state))
        .route("/_control/faults", delete(state::control_clear_faults))
        .route("/_control/keys", post(state::control_register_key))
        .with_state(state)
}

impl SandboxHandle {
    /// Loads statement lines for one provider account. Payment lines also become payments the
    /// sandbox can query and refund.
    pub fn add_transactions(&self, account_provider: Provider, lines: Vec<StatementLine>) {
        self.state.add_lines(account_provider, lines);
    }

    /// Serves a further WeChat Pay merchant `mchid` (another merchant id next to the
    /// configured `wechat_mchid`, signing with the same merchant certificate): its requests
    /// are accepted, and its bills, orders and refunds are those of the lines whose account is
    /// `account`. Register the configured merchant too to keep its bills to its own account.
    pub fn add_wechat_merchant(&self, mchid: &str, account: &str) {
        self.state
            .lock()
            .wechat_merchants
            .insert(mchid.to_string(), account.to_string());
    }

    /// Queues a fault; it fires on the next matching requests (`times` of them).
    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Refunds the provider side holds for an order (all providers).
    pub fn refunds_for(&self, order_no: &str) -> Vec<SandboxRefund> {
        self.state
            .lock()
            .refunds
            .iter()
            .filter(|r| r.order_no == order_no)
            .cloned()
            .collect()
    }

    /// WeChat Pay platform certificate rotation, first step: publishes a successor
    /// certificate for `key` in `/v3/certificates` next to the current one; answers are still
    /// signed with the current certificate. Returns the successor's serial.
    /// Switches Alipay to certificate mode (公钥证书模式): the sandbox becomes the CA, issues
    /// its Alipay certificate and an app certificate for the configured app key, and from now
    /// on requires `app_cert_sn`/`alipay_root_cert_sn` and answers with `alipay_cert_sn`.
    /// Returns the three files the merchant downloads from the console.
    pub fn enable_alipay_cert_mode(&self) -> Result<AlipayCertFiles, SandboxError> {
        let mut ca = alipay_certs::AlipayCa::new(&self.state.cfg.keys.alipay)?;
        let app_cert = ca.issue_app_cert(
            &self.state.cfg.alipay_app_public_key,
            &self.state.cfg.alipay_app_id,
        )?;
        let files = AlipayCertFiles {
            app_cert,
            alipay_cert: ca.current().map(|c| c.1.clone()).unwrap_or_default(),
            root_cert: ca.root_pem().to_string(),
        };
        self.state.lock().alipay_ca = Some(ca);
        Ok(files)
    }

    /// Certificate mode: issues an app certificate for another app key (a key rotation).
    pub fn issue_alipay_app_cert(&self, app_key: &RsaPublicKey) -> Result<String, SandboxError> {
        let app_id = self.state.cfg.alipay_app_id.clone();
        let mut inner = self.state.lock();
        let ca = inner.alipay_ca.as_mut().ok_or(KeyError::BadCertificate(
            "the sandbox is not in Alipay certificate mode",
        ))?;
        Ok(ca.issue_app_cert(app_key, &app_id)?)
    }

    /// Certificate mode: Alipay renews its certificate; answers are signed with a new key
    /// under the new SN, which `alipay.open.app.alipaycert.download` hands out. Returns the SN.
    pub fn renew_alipay_cert(&self) -> Result<String, SandboxError> {
        let mut inner = self.state.lock();
        let ca = inner.alipay_ca.as_mut().ok_or(KeyError::BadCertificate(
            "the sandbox is not in Alipay certificate mode",
        ))?;
        Ok(ca.renew()?)
    }

    /// Certificate mode: answers are signed with a "renewed" Alipay certificate from a CA that
    /// does not chain to the root (what a client must refuse). Returns its SN.
    pub fn renew_alipay_cert_from_foreign_ca(&self) -> Result<String, SandboxError> {
        let mut inner = self.state.lock();
        let ca = inner.alipay_ca.as_mut().ok_or(KeyError::BadCertificate(
            "the sandbox is not in Alipay certificate mode",
        ))?;
        Ok(ca.renew_from_foreign_ca()?)
    }

    pub fn publish_wechat_platform_successor(
        &self,
        key: PrivateKey,
    ) -> Result<String, SandboxError> {
        let cert = platform_certificate(&key)?;
        let serial = cert.serial_hex.clone();
        self.state.lock().platform_successor = Some(state::PlatformCert {
            key,
            serial: serial.clone(),
            pem: cert.to_pem(),
        });
        Ok(serial)
    }

    /// Like [`SandboxHandle::publish_wechat_platform_successor`], with a certificate made
    /// elsewhere (PEM, for `key`): e.g. an expired one, which a client must not trust.
    pub fn publish_wechat_platform_successor_cert(
        &self,
        key: PrivateKey,
        pem: &str,
    ) -> Result<String, SandboxError> {
        let cert = Certificate::from_pem(pem)?;
        let serial = cert.serial_hex.clone();
        self.state.lock().platform_successor = Some(state::PlatformCert {
            key,
            serial: serial.clone(),
            pem: cert.to_pem(),
        });
        Ok(serial)
    }

    /// Second step: answers are signed with the published successor from now on (`false`
    /// goes back to the original certificate).
    pub fn sign_with_wechat_platform_successor(&self, on: bool) {
        self.state.lock().signing_with_successor = on;
    }

    /// Stripe's key roll: `new_key` works from now on next to the old ones (the merchant
    /// rolled the key in the dashboard).
    pub fn roll_stripe_key(&self, new_key: &str) {
        self.state
            .lock()
            .registered
            .stripe_secret_keys
            .push(new_key.to_string());
    }

    /// The end of a roll's overlap: `key` gets 401 from now on.
    pub fn expire_stripe_key(&self, key: &str) {
        self.state
            .lock()
            .registered
            .stripe_expired_keys
            .push(key.to_string());
    }

    /// The balance history of a provider account as the sandbox serves it: every fund flow
    /// with its running balance, and the payouts. `account` names the lines' account (the
    /// `[[accounts]]` name); `None` takes every line of the provider, as the Alipay and Stripe
    /// merchants of the sandbox do.
    pub fn ledger(&self, provider: Provider, account: Option<&str>) -> SandboxLedger {
        let name = account.unwrap_or(provider.as_str());
        let inner = self.state.lock();
        fundflow::ledger(&inner, provider, name, &|a| account.is_none_or(|x| x == a))
    }

    /// Plants a payout difference on the payout `provider` makes on `date` (its own zone).
    pub fn plant_payout_quirk(&self, provider: Provider, date: chrono::NaiveDate, quirk: Quirk) {
        self.state.lock().quirks.push((provider, date, quirk));
    }

    pub fn payments(&self) -> Vec<SandboxPayment> {
        self.state.lock().payments.clone()
    }

    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
