//! Provider-side state: payments, refunds, statement lines, faults, idempotency records.

use crate::SandboxConfig;
use axum::extract::{Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use paydesk_core::{BillDate, Currency, LineKind, Provider, SourceRef, StatementLine};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) type Shared = Arc<State>;

pub(crate) struct State {
    pub cfg: SandboxConfig,
    pub base_url: String,
    pub platform_serial: String,
    pub platform_cert_pem: String,
    pub inner: Mutex<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub payments: Vec<SandboxPayment>,
    pub refunds: Vec<SandboxRefund>,
    pub lines: Vec<StatementLine>,
    pub faults: Vec<Fault>,
    /// download token → bytes
    pub files: HashMap<String, Vec<u8>>,
    /// Stripe Idempotency-Key → (params fingerprint, status, body)
    pub idempotency: HashMap<String, (String, u16, String)>,
    pub seq: u64,
    /// Keys the merchant "uploaded in the provider's console" after start (rotation).
    pub registered: RegisteredKeys,
    /// WeChat Pay's platform certificate rotation: a successor published next to the current
    /// certificate (as WeChat Pay does up to 180 days ahead), and whether answers are signed
    /// with it yet.
    pub platform_successor: Option<PlatformCert>,
    pub signing_with_successor: bool,
    /// WeChat Pay merchants besides the configured one: mchid → the account name its lines
    /// carry (`StatementLine::account`). Empty: one merchant, every WeChat line is its.
    pub wechat_merchants: HashMap<String, String>,
    /// Alipay certificate mode, when switched on: the sandbox's CA and certificates.
    pub alipay_ca: Option<crate::alipay_certs::AlipayCa>,
    /// Planted payout differences (settlement demos and tests).
    pub quirks: crate::fundflow::Quirks,
}

/// A platform certificate and the key that signs answers under its serial.
#[derive(Clone)]
pub(crate) struct PlatformCert {
    pub key: paydesk_providers::keys::PrivateKey,
    pub serial: String,
    pub pem: String,
}

/// Merchant keys registered after start, accepted next to the configured ones.
#[derive(Default)]
pub(crate) struct RegisteredKeys {
    pub alipay_app_public_keys: Vec<rsa::RsaPublicKey>,
    /// serial → merchant certificate public key
    pub wechat_merchant_keys: HashMap<String, rsa::RsaPublicKey>,
    pub stripe_secret_keys: Vec<String>,
    /// Keys whose roll overlap ended: Stripe answers 401 to them.
    pub stripe_expired_keys: Vec<String>,
}

/// A payment the provider knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPayment {
    pub provider: Provider,
    pub account: String,
    pub order_no: String,
    /// Alipay trade_no / WeChat transaction_id / Stripe charge id.
    pub txn_id: String,
    /// Stripe PaymentIntent id (derived from the charge id), empty for others.
    pub payment_intent: String,
    pub amount: i64,
    pub currency: Currency,
    pub paid_at: DateTime<Utc>,
}

/// A refund the provider executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxRefund {
    pub provider: Provider,
    pub order_no: String,
    pub refund_no: String,
    pub refund_id: String,
    pub txn_id: String,
    pub amount: i64,
    pub currency: Currency,
    pub created: DateTime<Utc>,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FaultKind {
    /// Commit the effect, then hold the answer this long (a client timeout sees "no answer").
    DelayAfterCommit { millis: u64 },
    /// Documented retryable error before any effect: ACQ.SYSTEM_ERROR / SYSTEM_ERROR / Stripe 500.
    SystemError,
    /// Rate limiting: Alipay 40005-style ACQ.SYSTEM_ERROR, WeChat 429 FREQUENCY_LIMITED, Stripe 429.
    RateLimited,
    /// Sign the answer, then flip one signature byte.
    CorruptSignature,
    /// Sign WeChat answers with a serial the client has not seen (a fresh certificate).
    UnknownSerial,
    /// Statement download: not generated yet.
    StatementNotReady,
    /// A "not found" refusal before any effect whose signature does not verify: Alipay
    /// `40004 ACQ.TRADE_NOT_EXIST` with no `sign`, WeChat Pay `404 RESOURCE_NOT_EXISTS` with a
    /// flipped signature.
    UnverifiedRefusal,
}

/// A fault for the next `times` requests to `provider` (optionally only `path` containing text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub provider: Provider,
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
    /// Only requests whose path (or Alipay method) contains this text.
    #[serde(default)]
    pub only: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(provider: Provider, kind: FaultKind) -> Fault {
        Fault {
            provider,
            kind,
            times: 1,
            only: None,
        }
    }

    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }

    pub fn only(mut self, what: impl Into<String>) -> Fault {
        self.only = Some(what.into());
        self
    }
}

impl State {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Alipay app public keys requests may be signed with: the configured one, then any
    /// registered later.
    pub fn alipay_app_keys(&self) -> Vec<rsa::RsaPublicKey> {
        let mut keys = vec![self.cfg.alipay_app_public_key.clone()];
        keys.extend(
            self.lock()
                .registered
                .alipay_app_public_keys
                .iter()
                .cloned(),
        );
        keys
    }

    /// The WeChat merchant certificate key for a serial, if the merchant has it.
    pub fn wechat_merchant_key(&self, serial: &str) -> Option<rsa::RsaPublicKey> {
        if serial == self.cfg.wechat_merchant_serial {
            return Some(self.cfg.wechat_merchant_public_key.clone());
        }
        self.lock()
            .registered
            .wechat_merchant_keys
            .get(serial)
            .cloned()
    }

    /// Whether `mchid` is a merchant of this sandbox: the configured one or one added later.
    pub fn wechat_merchant_known(&self, mchid: &str) -> bool {
        mchid == self.cfg.wechat_mchid || self.lock().wechat_merchants.contains_key(mchid)
    }

    /// Whether a WeChat line or payment of `account` is merchant `mchid`'s: with one merchant
    /// all are; else the account registered for it, and for the configured merchant also
    /// accounts no merchant claims.
    pub fn wechat_owns(&self, mchid: &str, account: &str) -> bool {
        let g = self.lock();
        let merchants = &g.wechat_merchants;
        if merchants.is_empty() {
            return true;
        }
        if merchants.get(mchid).is_some_and(|a| a == account) {
            return true;
        }
        mchid == self.cfg.wechat_mchid && !merchants.values().any(|a| a == account)
    }

    pub fn stripe_key_accepted(&self, key: &str) -> bool {
        let inner = self.lock();
        let registered = &inner.registered;
        !registered.stripe_expired_keys.iter().any(|k| k == key)
            && (key == self.cfg.stripe_secret_key
                || registered.stripe_secret_keys.iter().any(|k| k == key))
    }

    /// Takes one firing of a matching fault.
    pub fn take_fault(
        &self,
        provider: Provider,
        what: &str,
        pred: impl Fn(&FaultKind) -> bool,
    ) -> Option<FaultKind> {
        let mut g = self.lock();
        let idx = g.faults.iter().position(|f| {
            f.provider == provider
                && f.times > 0
                && pred(&f.kind)
                && f.only.as_deref().is_none_or(|o| what.contains(o))
        })?;
        let kind = g.faults[idx].kind;
        g.faults[idx].times -= 1;
        if g.faults[idx].times == 0 {
            g.faults.remove(idx);
        }
        Some(kind)
    }

    pub fn next_id(&self, prefix: &str) -> String {
        let mut g = self.lock();
        g.seq += 1;
        format!(
            "{prefix}{:08}{}",
            g.seq,
            paydesk_providers::http::random_nonce(8)
        )
    }

    pub fn add_lines(&self, provider: Provider, lines: Vec<StatementLine>) {
        let mut g = self.lock();
        for mut l in lines {
            l.provider = provider;
            if l.kind == LineKind::Payment {
                if let Some(order) = &l.merchant_order_no {
                    let pi = if provider == Provider::Stripe {
                        format!(
                            "pi_{}",
                            l.provider_txn_id
                                .trim_start_matches("ch_")
                                .trim_start_matches("py_")
                        )
                    } else {
                        String::new()
                    };
                    if !g
                        .payments
                        .iter()
                        .any(|p| p.provider == provider && p.order_no == order)
                    {
                        g.payments.push(SandboxPayment {
                            provider,
                            account: l.account.to_string(),
                            order_no: order.to_string(),
                            txn_id: l.provider_txn_id.to_string(),
                            payment_intent: pi,
                            amount: l.gross,
                            currency: l.currency,
                            paid_at: l.provider_time,
                        });
                    }
                }
            }
            g.lines.push(l);
        }
    }

    /// Statement lines of a day: loaded lines plus refunds executed here, in the provider's
    /// day boundaries. Refunds issued today appear in today's statement (delivered T+1).
    pub fn statement_lines(&self, provider: Provider, date: BillDate) -> Vec<StatementLine> {
        let tz = provider.default_timezone();
        let g = self.lock();
        let mut out: Vec<StatementLine> = g
            .lines
            .iter()
            .filter(|l| l.provider == provider && BillDate::of(l.provider_time, tz) == date)
            .cloned()
            .collect();
        for r in g
            .refunds
            .iter()
            .filter(|r| r.provider == provider && BillDate::of(r.created, tz) == date)
        {
            out.push(refund_line(
                r,
                g.payments
                    .iter()
                    .find(|p| p.provider == provider && p.order_no == r.order_no),
            ));
        }
        out.sort_by_key(|l| l.provider_time);
        out
    }

    pub fn payment(&self, provider: Provider, order_no: &str) -> Option<SandboxPayment> {
        self.lock()
            .payments
            .iter()
            .find(|p| p.provider == provider && p.order_no == order_no)
            .cloned()
    }

    pub fn refunded_total(&self, provider: Provider, order_no: &str) -> i64 {
        self.lock()
            .refunds
            .iter()
            .filter(|r| r.provider == provider && r.order_no == order_no)
            .map(|r| r.amount)
            .sum()
    }

    pub fn store_file(&self, bytes: Vec<u8>) -> String {
        let token = paydesk_providers::http::random_nonce(24);
        self.lock().files.insert(token.clone(), bytes);
        token
    }
}

pub(crate) fn refund_line(r: &SandboxRefund, p: Option<&SandboxPayment>) -> StatementLine {
    let status = match r.provider {
        Provider::Alipay => "退款",
        Provider::Wechat => "REFUND",
        _ => "refund",
    };
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: r.provider,
        account: p.map(|p| p.account.clone()).unwrap_or_default().into(),
        provider_txn_id: r.txn_id.as_str().into(),
        merchant_order_no: Some(r.order_no.as_str().into()),
        kind: LineKind::Refund,
        gross: -r.amount,
        fee_milli: 0,
        net: -r.amount,
        currency: r.currency,
        provider_time: r.created,
        provider_refund_id: Some(r.refund_id.as_str().into()),
        merchant_refund_no: Some(r.refund_no.as_str().into()),
        provider_status: status.into(),
        source: SourceRef {
            file: "sandbox".into(),
            line: 0,
        },
        fee_base: None,
    }
}

// ------------------------------------------------------------------ control API

#[derive(Deserialize)]
pub(crate) struct AddLines {
    provider: Provider,
    lines: Vec<StatementLine>,
}

pub(crate) async fn control_add(
    AxState(st): AxState<Shared>,
    Json(body): Json<AddLines>,
) -> Response {
    let n = body.lines.len();
    st.add_lines(body.provider, body.lines);
    Json(serde_json::json!({"added": n})).into_response()
}

pub(crate) async fn control_fault(AxState(st): AxState<Shared>, Json(f): Json<Fault>) -> Response {
    st.lock().faults.push(f);
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn control_clear_faults(AxState(st): AxState<Shared>) -> Response {
    st.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub(crate) struct RefundsQuery {
    order_no: Option<String>,
}

pub(crate) async fn control_refunds(
    AxState(st): AxState<Shared>,
    Query(q): Query<RefundsQuery>,
) -> Response {
    let g = st.lock();
    let list: Vec<&SandboxRefund> = g
        .refunds
        .iter()
        .filter(|r| q.order_no.as_deref().is_none_or(|o| o == r.order_no))
        .collect();
    let mut per_order: HashMap<&str, i64> = HashMap::new();
    for r in &list {
        *per_order.entry(r.order_no.as_str()).or_default() += r.amount;
    }
    Json(serde_json::json!({"refunds": list, "refunded_per_order": per_order})).into_response()
}

pub(crate) async fn control_state(AxState(st): AxState<Shared>) -> Response {
    let g = st.lock();
    Json(serde_json::json!({
        "payments": g.payments,
        "refunds": g.refunds,
        "lines": g.lines.len(),
        "faults": g.faults,
        "wechat_platform_serial": st.platform_serial,
    }))
    .into_response()
}

/// `POST /_control/keys`: registers a merchant key, as uploading it in the provider's console.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisterKey {
    pub provider: Provider,
    /// Alipay app public key / WeChat merchant certificate public key (PEM or base64 SPKI).
    pub public_key: Option<String>,
    /// WeChat merchant certificate serial.
    pub serial: Option<String>,
    /// Stripe secret key.
    pub secret_key: Option<String>,
}

pub(crate) async fn control_register_key(
    AxState(st): AxState<Shared>,
    Json(req): Json<RegisterKey>,
) -> Response {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string()).into_response();
    let public = match req.public_key.as_deref() {
        Some(text) => match paydesk_providers::keys::parse_public_key(text) {
            Ok(k) => Some(k),
            Err(e) => return bad(&format!("public_key: {e}")),
        },
        None => None,
    };
    let mut inner = st.lock();
    match (req.provider, public, req.serial, req.secret_key) {
        (Provider::Alipay, Some(k), _, _) => inner.registered.alipay_app_public_keys.push(k),
        (Provider::Wechat, Some(k), Some(serial), _) => {
            inner
                .registered
                .wechat_merchant_keys
                .insert(serial.to_ascii_uppercase(), k);
        }
        (Provider::Stripe, _, _, Some(key)) if !key.trim().is_empty() => {
            inner.registered.stripe_secret_keys.push(key.trim().to_string())
        }
        _ => {
            return bad(
                "give provider alipay + public_key, wechat + public_key + serial, or stripe + secret_key",
            )
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
