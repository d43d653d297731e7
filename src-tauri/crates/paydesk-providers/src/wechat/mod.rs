//! WeChat Pay API v3 adapter.

pub mod sign;

use crate::adapter::{
    parse_downloaded_flows, CertificateSink, DownloadedFundFlows, DownloadedStatement,
    FetchedCertificate, PaymentState, PaymentStatus, ProviderAdapter, RefundQuery, RefundRequest,
    RefundState, RefundStatus,
};
use crate::error::{clip, ErrorKind, ProviderError};
use crate::http::{self, Clock, HttpOptions};
use crate::keys::{parse_public_key, PrivateKey};
use crate::x509::{CertError, X509};
use async_trait::async_trait;
use chrono::NaiveDate;
use paydesk_core::{BillDate, Currency, Provider};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use rsa::RsaPublicKey;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use sign::{EncryptedResource, SignedHeaders, VerifyError};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct WechatConfig {
    pub mchid: String,
    /// e.g. `https://api.mch.weixin.qq.com` (no trailing `/v3`).
    pub base_url: String,
    /// Serial of the merchant API certificate (uppercase hex).
    pub merchant_serial: String,
    /// `apiclient_key.pem` (PKCS#8; PKCS#1 and bare base64 are accepted too).
    pub merchant_private_key: SecretString,
    /// The 32-character APIv3 key (AES-256-GCM key, never a signing key).
    pub apiv3_key: SecretString,
    /// Known WeChat Pay keys: platform certificate serial or `PUB_KEY_ID_...` → public key
    /// (SPKI PEM/base64) or certificate PEM. Unknown serials trigger a `/v3/certificates` fetch.
    pub platform_keys: BTreeMap<String, String>,
}

impl std::fmt::Debug for WechatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatConfig")
            .field("mchid", &self.mchid)
            .field("base_url", &self.base_url)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_private_key", &"[redacted]")
            .field("apiv3_key", &"[redacted]")
            .field(
                "platform_keys",
                &self.platform_keys.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

pub struct WechatAdapter {
    mchid: String,
    base: url::Url,
    merchant_serial: String,
    key: PrivateKey,
    apiv3_key: SecretBox<[u8]>,
    platform_keys: RwLock<HashMap<String, RsaPublicKey>>,
    client: reqwest::Client,
    opts: HttpOptions,
    clock: Arc<dyn Clock>,
    sink: Option<Arc<dyn CertificateSink>>,
    /// CA certificates platform certificates must chain to (empty: validity and key usage
    /// are checked, the issuer is not).
    platform_ca: Vec<X509>,
}

/// Checks a WeChat Pay platform certificate before it is trusted: valid at `now`, its key
/// usage allows digital signatures, and, when CA certificates are given, issued (and signed)
/// by one of them. The error names the certificate's serial and the reason.
pub fn check_platform_certificate(
    cert: &X509,
    ca: &[X509],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), CertError> {
    if ca.is_empty() {
        cert.check_validity(now)?;
        cert.check_signing_usage()
    } else {
        cert.validate_chain(&[], ca, now)
    }
}

impl std::fmt::Debug for WechatAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatAdapter")
            .field("mchid", &self.mchid)
            .field("base", &self.base.as_str())
            .field("merchant_serial", &self.merchant_serial)
            .finish_non_exhaustive()
    }
}

fn err(call: &str, kind: ErrorKind) -> ProviderError {
    ProviderError::new(Provider::Wechat, call, kind)
}

fn protocol(call: &str, detail: impl Into<String>) -> ProviderError {
    err(
        call,
        ErrorKind::Protocol {
            detail: detail.into(),
        },
    )
}

const CALL_CERTS: &str = "GET /v3/certificates";
const CALL_TRADEBILL: &str = "GET /v3/bill/tradebill";
const CALL_FUNDFLOWBILL: &str = "GET /v3/bill/fundflowbill";
const CALL_BILLFILE: &str = "GET /v3/billdownload/file";
const CALL_ORDER: &str = "GET /v3/pay/transactions/out-trade-no";
const CALL_REFUND: &str = "POST /v3/refund/domestic/refunds";
const CALL_REFUND_QUERY: &str = "GET /v3/refund/domestic/refunds";

impl WechatAdapter {
    pub fn new(cfg: WechatConfig, opts: HttpOptions) -> Result<WechatAdapter, ProviderError> {
        let cfg_err = |d: String| err("configure", ErrorKind::Config { detail: d });
        let key = PrivateKey::parse(cfg.merchant_private_key.expose_secret())
            .map_err(|e| cfg_err(format!("merchant private key: {e}")))?;
        let apiv3 = cfg.apiv3_key.expose_secret().as_bytes().to_vec();
        if apiv3.len() != 32 {
            return Err(cfg_err(format!(
                "the APIv3 key must be 32 bytes, got {}",
                apiv3.len()
            )));
        }
        let mut keys = HashMap::new();
        for (serial, text) in &cfg.platform_keys {
            let k = parse_public_key(text)
                .map_err(|e| cfg_err(format!("platform key {serial}: {e}")))?;
            keys.insert(serial.trim().to_string(), k);
        }
        let base = url::Url::parse(cfg.base_url.trim_end_matches('/'))
            .map_err(|e| cfg_err(format!("base url: {e}")))?;
        Ok(WechatAdapter {
            mchid: cfg.mchid,
            base,
            merchant_serial: cfg.merchant_serial,
            key,
            apiv3_key: SecretBox::new(apiv3.into_boxed_slice()),
            platform_keys: RwLock::new(keys),
            client: http::build_client(Provider::Wechat, &opts)?,
            opts,
            clock: http::system_clock(),
            sink: None,
            platform_ca: Vec::new(),
        })
    }

    /// Platform certificates must be issued by one of these CA certificates (PEM; e.g. the
    /// Tenpay CA), besides being valid and allowed to sign.
    pub fn with_platform_ca(mut self, ca_pem: &str) -> Result<Self, ProviderError> {
        let ca = X509::parse_pem_bundle(ca_pem).map_err(|e| {
            err(
                "configure",
                ErrorKind::Config {
                    detail: format!("platform CA: {e}"),
                },
            )
        })?;
        self.platform_ca = ca;
        Ok(self)
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Hands certificates fetched on an unknown serial to `sink` (the key vault keeps them).
    pub fn with_certificate_sink(mut self, sink: Arc<dyn CertificateSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The serials/ids currently trusted.
    pub fn known_serials(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .platform_keys
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    fn url(&self, path_and_query: &str) -> Result<url::Url, ProviderError> {
        let base = self.base.as_str().trim_end_matches('/');
        url::Url::parse(&format!("{base}{path_and_query}")).map_err(|e| {
            err(
                "build url",
                ErrorKind::Config {
                    detail: e.to_string(),
                },
            )
        })
    }

    /// Signs and sends one request. Returns status, headers and raw body; does not verify.
    async fn send(
        &self,
        call: &str,
        method: Method,
        url: &url::Url,
        body: Option<&str>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), ProviderError> {
        let canonical = match url.query() {
            Some(q) => format!("{}?{}", url.path(), q),
            None => url.path().to_string(),
        };
        let ts = self.clock.now_unix();
        let nonce = http::random_nonce(32);
        let auth = sign::sign_request(
            &self.key,
            &self.mchid,
            &self.merchant_serial,
            method.as_str(),
            &canonical,
            ts,
            &nonce,
            body.unwrap_or(""),
        )
        .map_err(|e| {
            err(
                call,
                ErrorKind::Config {
                    detail: e.to_string(),
                },
            )
        })?;
        let mut rb = self
            .client
            .request(method, url.clone())
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(id) = self
            .known_serials()
            .into_iter()
            .find(|s| s.starts_with("PUB_KEY_ID_"))
        {
            rb = rb.header("Wechatpay-Serial", id);
        }
        if let Some(b) = body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| http::transport_error(Provider::Wechat, call, e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = http::read_body(Provider::Wechat, call, resp).await?;
        Ok((status, headers, bytes))
    }

    /// Sends a request; on 2xx verifies the signature (fetching certificates once on an unknown
    /// serial) and returns the body; on an error status classifies the error.
    async fn send_verified(
        &self,
        call: &str,
        method: Method,
        url: &url::Url,
        body: Option<&str>,
    ) -> Result<(StatusCode, Vec<u8>), ProviderError> {
        let (status, headers, bytes) = self.send(call, method, url, body).await?;
        if !status.is_success() {
            // Error answers are signed too; one that does not verify is not the provider's
            // word (wechatpay-go returns it before validating: an error, never data).
            let e = classify_error(call, status, &bytes);
            return Err(match self.verify(call, &headers, &bytes, true).await {
                Ok(()) => e,
                Err(_) => e.unverified(),
            });
        }
        self.verify(call, &headers, &bytes, true).await?;
        Ok((status, bytes))
    }

    fn verify_with_known(&self, sh: &SignedHeaders, body: &[u8]) -> Result<(), VerifyError> {
        let now = self.clock.now_unix();
        match self.platform_keys.read() {
            Ok(keys) => sign::verify_response(sh, body, &keys, now),
            Err(_) => Err(VerifyError::UnknownSerial(sh.serial.clone())),
        }
    }

    async fn verify(
        &self,
        call: &str,
        headers: &HeaderMap,
        body: &[u8],
        may_refresh: bool,
    ) -> Result<(), ProviderError> {
        let sh = signed_headers(headers).map_err(|e| {
            err(
                call,
                ErrorKind::Verification {
                    detail: e.to_string(),
                },
            )
        })?;
        match self.verify_with_known(&sh, body) {
            Ok(()) => Ok(()),
            Err(VerifyError::UnknownSerial(serial)) if may_refresh => {
                tracing::info!(serial = %serial, "unknown Wechatpay-Serial; fetching platform certificates");
                let fetched = self.refresh_certificates().await?;
                if let Some(sink) = &self.sink {
                    sink.learned(Provider::Wechat, fetched).await;
                }
                self.verify_with_known(&sh, body).map_err(|e| {
                    err(
                        call,
                        ErrorKind::Verification {
                            detail: e.to_string(),
                        },
                    )
                })
            }
            Err(e) => Err(err(
                call,
                ErrorKind::Verification {
                    detail: e.to_string(),
                },
            )),
        }
    }

    /// Downloads `/v3/certificates`, decrypts each certificate with the APIv3 key, checks the
    /// answer's own signature with the known or just-decrypted keys, then trusts them.
    /// Returns every certificate of the (verified) answer.
    pub async fn refresh_certificates(&self) -> Result<Vec<FetchedCertificate>, ProviderError> {
        let url = self.url("/v3/certificates")?;
        let (status, headers, bytes) = self.send(CALL_CERTS, Method::GET, &url, None).await?;
        if !status.is_success() {
            return Err(classify_error(CALL_CERTS, status, &bytes));
        }
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| protocol(CALL_CERTS, e.to_string()))?;
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| protocol(CALL_CERTS, "no data array"))?;
        let mut fresh: HashMap<String, RsaPublicKey> = HashMap::new();
        let mut fetched = Vec::new();
        let mut refused: Vec<(String, CertError)> = Vec::new();
        let now = chrono::DateTime::from_timestamp(self.clock.now_unix(), 0).unwrap_or_default();
        for item in data {
            let serial = item
                .get("serial_no")
                .and_then(Value::as_str)
                .ok_or_else(|| protocol(CALL_CERTS, "certificate without serial_no"))?;
            let enc: EncryptedResource = serde_json::from_value(
                item.get("encrypt_certificate")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
            .map_err(|e| protocol(CALL_CERTS, format!("encrypt_certificate: {e}")))?;
            let pem = enc.decrypt(self.apiv3_key.expose_secret()).map_err(|e| {
                err(
                    CALL_CERTS,
                    ErrorKind::Verification {
                        detail: e.to_string(),
                    },
                )
            })?;
            let cert = X509::first_of_pem(&String::from_utf8_lossy(&pem))
                .map_err(|e| protocol(CALL_CERTS, e.to_string()))?;
            if !cert.serial_hex().eq_ignore_ascii_case(serial) {
                return Err(err(
                    CALL_CERTS,
                    ErrorKind::Verification {
                        detail: format!(
                            "serial_no {serial} does not match the certificate's serial {}",
                            cert.serial_hex()
                        ),
                    },
                ));
            }
            // Not trusted unless valid, allowed to sign, and (with a CA) issued by it.
            if let Err(e) = check_platform_certificate(&cert, &self.platform_ca, now) {
                tracing::warn!(serial = %serial, "platform certificate refused: {e}");
                refused.push((serial.to_ascii_uppercase(), e));
                continue;
            }
            let key = cert
                .public_key()
                .map_err(|e| protocol(CALL_CERTS, e.to_string()))?;
            fresh.insert(serial.to_ascii_uppercase(), key);
            fetched.push(FetchedCertificate {
                serial: serial.to_ascii_uppercase(),
                pem: cert.to_pem(),
            });
        }
        let sh = signed_headers(&headers).map_err(|e| {
            err(
                CALL_CERTS,
                ErrorKind::Verification {
                    detail: e.to_string(),
                },
            )
        })?;
        // Fail closed: the certificate the answer is signed with, or every certificate, refused.
        let signer_refused = refused
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(&sh.serial));
        if let Some((_, e)) = signer_refused.or(if fresh.is_empty() {
            refused.first()
        } else {
            None
        }) {
            return Err(err(
                CALL_CERTS,
                ErrorKind::Verification {
                    detail: format!("platform {e}; no certificate was trusted"),
                },
            ));
        }
        let mut union = self
            .platform_keys
            .read()
            .map(|m| m.clone())
            .unwrap_or_default();
        union.extend(fresh.clone());
        sign::verify_response(&sh, &bytes, &union, self.clock.now_unix()).map_err(|e| {
            err(
                CALL_CERTS,
                ErrorKind::Verification {
                    detail: e.to_string(),
                },
            )
        })?;
        if let Ok(mut m) = self.platform_keys.write() {
            m.extend(fresh);
        }
        Ok(fetched)
    }

    /// A bill's two steps: the signed answer of `path_and_query` (`call`) with the SHA1 and
    /// the URL, then the unsigned file, gunzipped and checked against that SHA1.
    async fn download_bill(
        &self,
        call: &str,
        path_and_query: &str,
    ) -> Result<Vec<u8>, ProviderError> {
        let url = self.url(path_and_query)?;
        let (_, body) = http::with_retries(&self.opts, || {
            self.send_verified(call, Method::GET, &url, None)
        })
        .await?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| protocol(call, e.to_string()))?;
        let hash_type = v.get("hash_type").and_then(Value::as_str).unwrap_or("");
        if !hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(protocol(
                call,
                format!("unsupported hash_type {hash_type:?}"),
            ));
        }
        let hash_value = v
            .get("hash_value")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol(call, "no hash_value"))?
            .to_string();
        let download = v
            .get("download_url")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .ok_or_else(|| protocol(call, "no usable download_url"))?;
        // The download answer is not signed: it is checked by the SHA1 from the signed answer.
        let raw = http::with_retries(&self.opts, || async {
            let (status, _, bytes) = self
                .send(CALL_BILLFILE, Method::GET, &download, None)
                .await?;
            if !status.is_success() {
                return Err(classify_error(CALL_BILLFILE, status, &bytes));
            }
            Ok(bytes)
        })
        .await?;
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            gunzip(CALL_BILLFILE, &raw)?
        } else {
            raw
        };
        let digest = hex::encode(Sha1::digest(&bytes));
        if !digest.eq_ignore_ascii_case(hash_value.trim()) {
            return Err(err(
                CALL_BILLFILE,
                ErrorKind::Verification {
                    detail: format!(
                        "SHA1 of the bill is {digest}, the signed answer said {hash_value}"
                    ),
                },
            ));
        }
        Ok(bytes)
    }

    fn refund_status(
        &self,
        call: &str,
        v: &Value,
        req_order: &str,
        req_refund: &str,
    ) -> Result<RefundStatus, ProviderError> {
        let status = v
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol(call, "refund without status"))?;
        let state = match status {
            "SUCCESS" => RefundState::Succeeded,
            "PROCESSING" => RefundState::Processing,
            "CLOSED" => RefundState::Failed,
            "ABNORMAL" => RefundState::NeedsAttention,
            other => return Err(protocol(call, format!("unknown refund status {other:?}"))),
        };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(RefundStatus {
            order_no: s("out_trade_no").unwrap_or_else(|| req_order.to_string()),
            refund_no: s("out_refund_no").unwrap_or_else(|| req_refund.to_string()),
            provider_refund_id: s("refund_id"),
            state,
            provider_status: status.to_string(),
            amount: v.pointer("/amount/refund").and_then(Value::as_i64),
            currency: Currency::CNY,
            failure_reason: None,
        })
    }
}

fn signed_headers(h: &HeaderMap) -> Result<SignedHeaders, VerifyError> {
    let get = |name: &'static str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(VerifyError::MissingHeader(name))
    };
    Ok(SignedHeaders {
        timestamp: get("Wechatpay-Timestamp")?,
        nonce: get("Wechatpay-Nonce")?,
        signature: get("Wechatpay-Signature")?,
        serial: get("Wechatpay-Serial")?,
    })
}

/// Maps a non-2xx answer to an error kind (providers.md §2.6, §2.7).
fn classify_error(call: &str, status: StatusCode, body: &[u8]) -> ProviderError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = v
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = clip(v.get("message").and_then(Value::as_str).unwrap_or(""));
    let code_or_status = if code.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        code.clone()
    };
    let kind = match code.as_str() {
        "NO_STATEMENT_EXIST" => ErrorKind::NoStatement,
        "STATEMENT_CREATING" => ErrorKind::NotReady { detail: message },
        "SYSTEM_ERROR" | "FREQUENCY_LIMITED" => ErrorKind::Retryable { code, message },
        _ if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
            ErrorKind::Retryable {
                code: code_or_status,
                message,
            }
        }
        _ => ErrorKind::Rejected {
            code: code_or_status,
            message,
        },
    };
    err(call, kind)
}

/// Decompresses a downloaded bill within the default statement limits (size and ratio),
/// so that a broken or hostile answer cannot exhaust memory.
fn gunzip(call: &str, bytes: &[u8]) -> Result<Vec<u8>, ProviderError> {
    use crate::statement::limits::{limit_message, CountingReader, LimitedReader};
    let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let decoder = flate2::read::GzDecoder::new(CountingReader {
        inner: bytes,
        count: compressed.clone(),
    });
    let mut out = Vec::new();
    LimitedReader::new(
        decoder,
        crate::statement::InputLimits::default(),
        Some(compressed),
        "the downloaded bill",
    )
    .read_to_end(&mut out)
    .map_err(|e| {
        protocol(
            call,
            limit_message(&e).unwrap_or_else(|| format!("gzip: {e}")),
        )
    })?;
    Ok(out)
}

#[async_trait]
impl ProviderAdapter for WechatAdapter {
    fn provider(&self) -> Provider {
        Provider::Wechat
    }

    async fn download_statement(
        &self,
        date: BillDate,
    ) -> Result<DownloadedStatement, ProviderError> {
        let bytes = self
            .download_bill(
                CALL_TRADEBILL,
                &format!("/v3/bill/tradebill?bill_date={date}&bill_type=ALL&tar_type=GZIP"),
            )
            .await?;
        Ok(DownloadedStatement {
            file_name: format!("{}_{}_ALL.csv", self.mchid, date.0.format("%Y%m%d")),
            bytes,
        })
    }

    /// The 资金账单 of the basic account (`account_type=BASIC`) of the day.
    async fn download_fund_flows(
        &self,
        account: &str,
        date: NaiveDate,
    ) -> Result<DownloadedFundFlows, ProviderError> {
        let bytes = self
            .download_bill(
                CALL_FUNDFLOWBILL,
                &format!(
                    "/v3/bill/fundflowbill?bill_date={}&account_type=BASIC&tar_type=GZIP",
                    date.format("%Y-%m-%d")
                ),
            )
            .await?;
        let file_name = format!(
            "{}_{}_BASIC_fundflow.csv",
            self.mchid,
            date.format("%Y%m%d")
        );
        parse_downloaded_flows(
            Provider::Wechat,
            CALL_FUNDFLOWBILL,
            account,
            file_name,
            bytes,
        )
    }

    async fn query_payment(&self, order_no: &str) -> Result<PaymentStatus, ProviderError> {
        let mut url = self.url("/v3/pay/transactions/out-trade-no")?;
        url.path_segments_mut()
            .map_err(|_| protocol(CALL_ORDER, "base url cannot have a path"))?
            .push(order_no);
        url.query_pairs_mut().append_pair("mchid", &self.mchid);
        let result = http::with_retries(&self.opts, || {
            self.send_verified(CALL_ORDER, Method::GET, &url, None)
        })
        .await;
        let body = match result {
            Ok((_, b)) => b,
            Err(e) if matches!(&e.kind, ErrorKind::Rejected { code, .. } if code == "ORDER_NOT_EXIST" || code == "RESOURCE_NOT_EXISTS") => {
                return Ok(PaymentStatus {
                    order_no: order_no.to_string(),
                    provider_txn_id: None,
                    state: PaymentState::NotFound,
                    provider_status: "ORDER_NOT_EXIST".into(),
                    amount: None,
                    currency: None,
                    paid_at: None,
                })
            }
            Err(e) => return Err(e),
        };
        let v: Value =
            serde_json::from_slice(&body).map_err(|e| protocol(CALL_ORDER, e.to_string()))?;
        let trade_state = v
            .get("trade_state")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let state = match trade_state.as_str() {
            "SUCCESS" => PaymentState::Paid,
            "REFUND" => PaymentState::RefundInitiated,
            "NOTPAY" | "USERPAYING" | "ACCEPT" => PaymentState::Pending,
            "CLOSED" | "REVOKED" => PaymentState::Closed,
            "PAYERROR" => PaymentState::Failed,
            other => {
                return Err(protocol(
                    CALL_ORDER,
                    format!("unknown trade_state {other:?}"),
                ))
            }
        };
        let currency = v
            .pointer("/amount/currency")
            .and_then(Value::as_str)
            .and_then(|c| Currency::parse(c).ok());
        Ok(PaymentStatus {
            order_no: order_no.to_string(),
            provider_txn_id: v
                .get("transaction_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            state,
            provider_status: trade_state,
            amount: v.pointer("/amount/total").and_then(Value::as_i64),
            currency,
            paid_at: v
                .get("success_time")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    async fn create_refund(&self, req: &RefundRequest) -> Result<RefundStatus, ProviderError> {
        if req.currency != Currency::CNY {
            return Err(err(
                CALL_REFUND,
                ErrorKind::Config {
                    detail: format!("WeChat Pay refunds are CNY, not {}", req.currency),
                },
            ));
        }
        let mut body = json!({
            "out_trade_no": req.order_no,
            "out_refund_no": req.refund_no,
            "amount": {"refund": req.amount, "total": req.order_total, "currency": "CNY"},
        });
        if let (Some(r), Some(m)) = (&req.reason, body.as_object_mut()) {
            m.insert("reason".into(), Value::String(r.chars().take(80).collect()));
        }
        let body = body.to_string();
        let url = self.url("/v3/refund/domestic/refunds")?;
        // Same out_refund_no on every attempt: WeChat refunds it at most once.
        let (_, resp) = http::with_retries(&self.opts, || {
            self.send_verified(CALL_REFUND, Method::POST, &url, Some(&body))
        })
        .await?;
        let v: Value =
            serde_json::from_slice(&resp).map_err(|e| protocol(CALL_REFUND, e.to_string()))?;
        self.refund_status(CALL_REFUND, &v, &req.order_no, &req.refund_no)
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<RefundStatus, ProviderError> {
        let mut url = self.url("/v3/refund/domestic/refunds")?;
        url.path_segments_mut()
            .map_err(|_| protocol(CALL_REFUND_QUERY, "base url cannot have a path"))?
            .push(&req.refund_no);
        let (_, resp) = http::with_retries(&self.opts, || {
            self.send_verified(CALL_REFUND_QUERY, Method::GET, &url, None)
        })
        .await?;
        let v: Value = serde_json::from_slice(&resp)
            .map_err(|e| protocol(CALL_REFUND_QUERY, e.to_string()))?;
        self.refund_status(CALL_REFUND_QUERY, &v, &req.order_no, &req.refund_no)
    }
}
