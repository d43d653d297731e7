//! Alipay OpenAPI (RSA2) adapter, in public-key mode or certificate mode (公钥证书模式,
//! providers.md §1.4).
//!
//! In certificate mode every request carries `app_cert_sn` and `alipay_root_cert_sn` (signed
//! like any other parameter), and an answer is verified with the Alipay certificate its
//! `alipay_cert_sn` names. An SN the adapter does not know (Alipay renewed its certificate) is
//! downloaded with `alipay.open.app.alipaycert.download`, accepted only if it chains to the
//! configured Alipay root and its SN is the one asked for, kept (and handed to the
//! [`CertificateSink`]), and then used; otherwise the answer is refused.

pub mod sign;

use crate::adapter::{
    parse_downloaded_flows, CertificateSink, DownloadedFundFlows, DownloadedStatement,
    FetchedCertificate, PaymentState, PaymentStatus, ProviderAdapter, RefundQuery, RefundRequest,
    RefundState, RefundStatus,
};
use crate::error::{clip, ErrorKind, ProviderError};
use crate::http::{self, Clock, HttpOptions};
use crate::keys::{parse_public_key, PrivateKey};
use crate::x509::{alipay_root_cert_sn, X509};
use async_trait::async_trait;
use base64::Engine;
use chrono::NaiveDate;
use paydesk_core::money::parse_minor;
use paydesk_core::{BillDate, Currency, Provider};
use rsa::RsaPublicKey;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const METHOD_BILL_URL: &str = "alipay.data.dataservice.bill.downloadurl.query";
pub const METHOD_REFUND: &str = "alipay.trade.refund";
pub const METHOD_REFUND_QUERY: &str = "alipay.trade.fastpay.refund.query";
pub const METHOD_TRADE_QUERY: &str = "alipay.trade.query";
/// Downloads an Alipay public certificate by its SN (certificate mode).
pub const METHOD_CERT_DOWNLOAD: &str = "alipay.open.app.alipaycert.download";

/// Certificate mode (公钥证书模式): the three files from the Alipay console, as PEM text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlipayCertificates {
    /// `appCertPublicKey_<APPID>.crt`: its first certificate is the app certificate (it must
    /// hold the app private key's public key); `app_cert_sn` is computed from it.
    pub app_cert: String,
    /// `alipayCertPublicKey_RSA2.crt` first, then renewed Alipay certificates already
    /// downloaded: each text's first certificate is an Alipay certificate, the rest its chain.
    pub alipay_certs: Vec<String>,
    /// `alipayRootCert.crt`: the roots; `alipay_root_cert_sn` is computed from it.
    pub root_cert: String,
}

#[derive(Clone)]
pub struct AlipayConfig {
    pub app_id: String,
    /// e.g. `https://openapi.alipay.com/gateway.do`.
    pub gateway_url: String,
    /// App private key: PKCS#1 or PKCS#8, PEM or bare base64.
    pub app_private_key: SecretString,
    /// The Alipay public key (SPKI, PEM or bare base64). Unused in certificate mode.
    pub alipay_public_key: String,
    /// Partner id (2088...), used for bill file names.
    pub pid: String,
    /// Certificate mode when present (the Alipay certificates replace `alipay_public_key`).
    pub certificates: Option<AlipayCertificates>,
}

impl std::fmt::Debug for AlipayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayConfig")
            .field("app_id", &self.app_id)
            .field("gateway_url", &self.gateway_url)
            .field("app_private_key", &"[redacted]")
            .field("pid", &self.pid)
            .field("certificate_mode", &self.certificates.is_some())
            .finish()
    }
}

/// The certificate-mode state of an adapter.
#[derive(Debug)]
struct CertMode {
    app_cert_sn: String,
    root_cert_sn: String,
    roots: Vec<X509>,
    /// The SN of the configured Alipay certificate (for an answer without `alipay_cert_sn`).
    current_sn: String,
    /// Validated Alipay certificates by SN, and the CA certificates that came with them.
    certs: RwLock<HashMap<String, X509>>,
    intermediates: RwLock<Vec<X509>>,
}

pub struct AlipayAdapter {
    app_id: String,
    gateway_url: String,
    pid: String,
    key: PrivateKey,
    alipay_key: RsaPublicKey,
    cert_mode: Option<CertMode>,
    client: reqwest::Client,
    opts: HttpOptions,
    clock: Arc<dyn Clock>,
    sink: Option<Arc<dyn CertificateSink>>,
}

impl std::fmt::Debug for AlipayAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayAdapter")
            .field("app_id", &self.app_id)
            .field("gateway_url", &self.gateway_url)
            .field("certificate_mode", &self.cert_mode.is_some())
            .finish_non_exhaustive()
    }
}

fn cfg_err(detail: impl Into<String>) -> ProviderError {
    ProviderError::new(
        Provider::Alipay,
        "configure",
        ErrorKind::Config {
            detail: detail.into(),
        },
    )
}

impl AlipayAdapter {
    pub fn new(cfg: AlipayConfig, opts: HttpOptions) -> Result<AlipayAdapter, ProviderError> {
        let key = PrivateKey::parse(cfg.app_private_key.expose_secret())
            .map_err(|e| cfg_err(format!("app private key: {e}")))?;
        let (alipay_key, cert_mode) = match &cfg.certificates {
            Some(c) => {
                let mode = CertMode::new(c, &key, chrono::Utc::now())?;
                let current = mode.key(&mode.current_sn).ok_or_else(|| {
                    cfg_err("the Alipay public certificate holds no RSA public key")
                })?;
                (current, Some(mode))
            }
            None => (
                parse_public_key(&cfg.alipay_public_key)
                    .map_err(|e| cfg_err(format!("Alipay public key: {e}")))?,
                None,
            ),
        };
        url::Url::parse(&cfg.gateway_url).map_err(|e| cfg_err(format!("gateway url: {e}")))?;
        Ok(AlipayAdapter {
            app_id: cfg.app_id,
            gateway_url: cfg.gateway_url,
            pid: cfg.pid,
            key,
            alipay_key,
            cert_mode,
            client: http::build_client(Provider::Alipay, &opts)?,
            opts,
            clock: http::system_clock(),
            sink: None,
        })
    }

    /// Hands Alipay certificates downloaded on an unknown `alipay_cert_sn` to `sink` (the key
    /// vault keeps them).
    pub fn with_certificate_sink(mut self, sink: Arc<dyn CertificateSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Certificate mode: `(app_cert_sn, alipay_root_cert_sn)` as sent with every request.
    pub fn cert_sns(&self) -> Option<(String, String)> {
        self.cert_mode
            .as_ref()
            .map(|m| (m.app_cert_sn.clone(), m.root_cert_sn.clone()))
    }

    /// Certificate mode: the SNs of the Alipay certificates answers may be verified with.
    pub fn known_alipay_cert_sns(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .cert_mode
            .as_ref()
            .and_then(|m| m.certs.read().ok().map(|c| c.keys().cloned().collect()))
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn timestamp(&self) -> String {
        let t = chrono::DateTime::from_timestamp(self.clock.now_unix(), 0).unwrap_or_default();
        t.with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The signed form parameters of a gateway call.
    pub fn signed_params(
        &self,
        method: &str,
        biz_content: &Value,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let mut params: Vec<(String, String)> = vec![
            ("app_id".into(), self.app_id.clone()),
            ("method".into(), method.into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), self.timestamp()),
            ("version".into(), "1.0".into()),
            ("biz_content".into(), biz_content.to_string()),
        ];
        if let Some(m) = &self.cert_mode {
            params.push(("app_cert_sn".into(), m.app_cert_sn.clone()));
            params.push(("alipay_root_cert_sn".into(), m.root_cert_sn.clone()));
        }
        let sign = sign::sign_request(&params, &self.key).map_err(|e| {
            ProviderError::new(
                Provider::Alipay,
                method,
                ErrorKind::Config {
                    detail: e.to_string(),
                },
            )
        })?;
        params.push(("sign".into(), sign));
        Ok(params)
    }

    /// One gateway call: sign, POST, verify the raw payload, check `code`.
    /// Returns the verified `<method>_response` object with `code == 10000`.
    pub async fn call(
        &self,
        method: &str,
        biz_content: Value,
    ) -> Result<Map<String, Value>, ProviderError> {
        let body = self.post(method, &biz_content).await?;
        // Certificate mode: an answer signed with an Alipay certificate not known yet (Alipay
        // renewed it): download it, check it against the root, keep it, then verify.
        if let Some(sn) = self.unknown_cert_sn(method, &body) {
            self.fetch_alipay_cert(&sn).await?;
        }
        self.parse_answer(method, &body)
    }

    /// Signs and POSTs one gateway call; the body of a 2xx answer (not verified yet).
    async fn post(&self, method: &str, biz_content: &Value) -> Result<Vec<u8>, ProviderError> {
        let params = self.signed_params(method, biz_content)?;
        let resp = self
            .client
            .post(&self.gateway_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(form_encode(&params))
            .send()
            .await
            .map_err(|e| http::transport_error(Provider::Alipay, method, e))?;
        let status = resp.status();
        let body = http::read_body(Provider::Alipay, method, resp).await?;
        if !status.is_success() {
            let kind = if status.is_server_error() {
                ErrorKind::Retryable {
                    code: format!("HTTP {}", status.as_u16()),
                    message: clip(&String::from_utf8_lossy(&body)),
                }
            } else {
                ErrorKind::Protocol {
                    detail: format!("HTTP {}", status.as_u16()),
                }
            };
            return Err(ProviderError::new(Provider::Alipay, method, kind));
        }
        Ok(body)
    }

    /// The `alipay_cert_sn` of a signed answer when it names a certificate this adapter does
    /// not hold (certificate mode only).
    fn unknown_cert_sn(&self, method: &str, body: &[u8]) -> Option<String> {
        let mode = self.cert_mode.as_ref()?;
        let text = std::str::from_utf8(body).ok()?;
        let parts = sign::extract_response(text, method).ok()?;
        parts.sign.as_ref()?;
        let sn = parts.alipay_cert_sn?;
        (!mode.knows(&sn)).then_some(sn)
    }

    /// Downloads the Alipay certificate `sn` (`alipay.open.app.alipaycert.download`) and
    /// trusts it only if its SN is `sn`, it chains to the configured root and is valid now,
    /// and the download answer itself verifies (with it or a known certificate).
    pub async fn fetch_alipay_cert(&self, sn: &str) -> Result<(), ProviderError> {
        let call = METHOD_CERT_DOWNLOAD;
        let verification = |detail: String| {
            ProviderError::new(Provider::Alipay, call, ErrorKind::Verification { detail })
        };
        let Some(mode) = &self.cert_mode else {
            return Err(cfg_err(
                "not in certificate mode: no Alipay certificate to download",
            ));
        };
        let body = self.post(call, &json!({ "alipay_cert_sn": sn })).await?;
        let text =
            std::str::from_utf8(&body).map_err(|_| protocol(call, "answer is not UTF-8".into()))?;
        let parts =
            sign::extract_response(text, call).map_err(|e| protocol(call, e.to_string()))?;
        let obj: Map<String, Value> = serde_json::from_str(parts.content)
            .map_err(|e| protocol(call, format!("{} is not a JSON object: {e}", parts.key)))?;
        if str_field(&obj, "code").as_deref() != Some("10000") {
            // Not a certificate: classify (and verify, when signed) as any other answer.
            return Err(match self.parse_answer(call, &body) {
                Err(e) => e,
                Ok(_) => protocol(call, "the download answer carried no certificate".into()),
            });
        }
        let content = str_field(&obj, "alipay_cert_content").unwrap_or_default();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| protocol(call, "alipay_cert_content is not base64 of a PEM".into()))?;
        let mut chain = X509::parse_pem_bundle(&pem)
            .map_err(|e| verification(format!("the downloaded Alipay certificate: {e}")))?;
        if chain.is_empty() {
            return Err(protocol(
                call,
                "alipay_cert_content holds no certificate".into(),
            ));
        }
        let leaf = chain.remove(0);
        let got = leaf.alipay_sn();
        if got != sn {
            return Err(verification(format!(
                "asked for Alipay certificate {sn}, the answer holds certificate {got}"
            )));
        }
        let now = chrono::DateTime::from_timestamp(self.clock.now_unix(), 0).unwrap_or_default();
        let mut intermediates = mode.intermediates();
        intermediates.extend(chain.iter().cloned());
        leaf.validate_chain(&intermediates, &mode.roots, now)
            .map_err(|e| verification(format!("the downloaded Alipay certificate {sn}: {e}")))?;
        let leaf_key = leaf
            .public_key()
            .map_err(|e| verification(format!("the downloaded Alipay certificate {sn}: {e}")))?;
        // The download answer is signed too: with the new certificate or a known one.
        let signer_sn = parts
            .alipay_cert_sn
            .clone()
            .unwrap_or_else(|| mode.current_sn.clone());
        let signer = if signer_sn == sn {
            Some(leaf_key)
        } else {
            mode.key(&signer_sn)
        };
        let verified = signer.is_some_and(|k| sign::verify_response(&parts, &k));
        if !verified {
            return Err(verification(format!(
                "the answer carrying Alipay certificate {sn} does not verify with Alipay certificate {signer_sn}"
            )));
        }
        mode.learn(leaf, chain);
        tracing::info!(alipay_cert_sn = %sn, "downloaded and trusted a renewed Alipay certificate");
        if let Some(s) = &self.sink {
            s.learned(
                Provider::Alipay,
                vec![FetchedCertificate {
                    serial: sn.to_string(),
                    pem,
                }],
            )
            .await;
        }
        Ok(())
    }

    /// Verifies and classifies a gateway answer body.
    pub fn parse_answer(
        &self,
        method: &str,
        body: &[u8],
    ) -> Result<Map<String, Value>, ProviderError> {
        let err = |kind| ProviderError::new(Provider::Alipay, method, kind);
        let text = std::str::from_utf8(body).map_err(|_| {
            err(ErrorKind::Protocol {
                detail: "answer is not UTF-8".into(),
            })
        })?;
        let parts = sign::extract_response(text, method).map_err(|e| {
            err(ErrorKind::Protocol {
                detail: e.to_string(),
            })
        })?;
        let signed = parts.sign.is_some();
        if signed {
            self.verify_parts(&parts)
                .map_err(|detail| err(ErrorKind::Verification { detail }))?;
        }
        let obj: Map<String, Value> = serde_json::from_str(parts.content).map_err(|e| {
            err(ErrorKind::Protocol {
                detail: format!("{} is not a JSON object: {e}", parts.key),
            })
        })?;
        let code = str_field(&obj, "code").unwrap_or_default();
        if code == "10000" {
            if !signed {
                return Err(err(ErrorKind::Verification {
                    detail: "a success answer carried no signature".into(),
                }));
            }
            return Ok(obj);
        }
        // Error answers may be unsigned (the SDKs return them without verifying).
        let sub_code = str_field(&obj, "sub_code").unwrap_or_default();
        let msg = str_field(&obj, "sub_msg")
            .or_else(|| str_field(&obj, "msg"))
            .unwrap_or_default();
        let message = clip(&msg);
        let kind = match (code.as_str(), sub_code.as_str()) {
            (_, "ACQ.SYSTEM_ERROR") | (_, "isp.unknow-error") | ("20000", _) | ("40005", _) => {
                ErrorKind::Retryable {
                    code: if sub_code.is_empty() { code } else { sub_code },
                    message,
                }
            }
            _ => ErrorKind::Rejected {
                code: if sub_code.is_empty() { code } else { sub_code },
                message,
            },
        };
        // An unsigned refusal is only "not done, by someone": never the provider's verified
        // word (providers.md §1.2).
        if signed {
            Err(err(kind))
        } else {
            Err(err(kind).unverified())
        }
    }

    /// Verifies a signed answer: with the Alipay public key, or in certificate mode with the
    /// Alipay certificate its `alipay_cert_sn` names (the configured one when it names none),
    /// valid now.
    fn verify_parts(&self, parts: &sign::ResponseParts<'_>) -> Result<(), String> {
        let Some(mode) = &self.cert_mode else {
            return if sign::verify_response(parts, &self.alipay_key) {
                Ok(())
            } else {
                Err(format!(
                    "the signature over {} does not match the Alipay public key",
                    parts.key
                ))
            };
        };
        let sn = parts
            .alipay_cert_sn
            .clone()
            .unwrap_or_else(|| mode.current_sn.clone());
        let now = chrono::DateTime::from_timestamp(self.clock.now_unix(), 0).unwrap_or_default();
        let key = mode.usable_key(&sn, now)?;
        if sign::verify_response(parts, &key) {
            Ok(())
        } else {
            Err(format!(
                "the signature over {} does not match Alipay certificate {sn}",
                parts.key
            ))
        }
    }

    fn yuan(&self, method: &str, minor: i64, currency: Currency) -> Result<String, ProviderError> {
        if currency != Currency::CNY {
            return Err(ProviderError::new(
                Provider::Alipay,
                method,
                ErrorKind::Config {
                    detail: format!("Alipay amounts are CNY, not {currency}"),
                },
            ));
        }
        Ok(Currency::CNY.format_minor(minor))
    }

    /// `alipay.data.dataservice.bill.downloadurl.query` for `bill_type` and the day, then the
    /// GET of the URL the signed answer carried (the file itself is not signed; it is trusted
    /// because the URL came in a verified answer). Returns the file name and the ZIP.
    async fn download_bill(
        &self,
        bill_type: &str,
        date: BillDate,
    ) -> Result<(String, Vec<u8>), ProviderError> {
        let result = http::with_retries(&self.opts, || {
            self.call(
                METHOD_BILL_URL,
                json!({"bill_type": bill_type, "bill_date": date.to_string()}),
            )
        })
        .await;
        let obj = match result {
            Ok(o) => o,
            Err(e) => {
                if let ErrorKind::Rejected { code, message } = &e.kind {
                    let c = code.to_ascii_lowercase();
                    if c.contains("bill_not_exist") {
                        return Err(ProviderError::new(
                            Provider::Alipay,
                            METHOD_BILL_URL,
                            ErrorKind::NoStatement,
                        ));
                    }
                    if c.contains("bill_not_ready") || c.contains("bill_creating") {
                        return Err(ProviderError::new(
                            Provider::Alipay,
                            METHOD_BILL_URL,
                            ErrorKind::NotReady {
                                detail: message.clone(),
                            },
                        ));
                    }
                }
                return Err(e);
            }
        };
        let url = str_field(&obj, "bill_download_url")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                protocol(
                    METHOD_BILL_URL,
                    "no bill_download_url in a success answer".into(),
                )
            })?;
        let parsed = url::Url::parse(&url)
            .map_err(|_| protocol(METHOD_BILL_URL, "bill_download_url is not a URL".into()))?;
        let call = "GET bill_download_url";
        let bytes = http::with_retries(&self.opts, || async {
            let resp = self
                .client
                .get(parsed.clone())
                .send()
                .await
                .map_err(|e| http::transport_error(Provider::Alipay, call, e))?;
            let status = resp.status();
            let body = http::read_body(Provider::Alipay, call, resp).await?;
            if status.is_server_error() {
                return Err(ProviderError::new(
                    Provider::Alipay,
                    call,
                    ErrorKind::Retryable {
                        code: format!("HTTP {}", status.as_u16()),
                        message: String::new(),
                    },
                ));
            }
            if !status.is_success() {
                return Err(protocol(
                    call,
                    format!(
                        "HTTP {} (the URL lives 30 s; fetch a new one)",
                        status.as_u16()
                    ),
                ));
            }
            Ok(body)
        })
        .await?;
        if !bytes.starts_with(b"PK\x03\x04") {
            return Err(protocol(
                call,
                "the bill is not a zip file (the link may have expired)".into(),
            ));
        }
        let file_name = parsed
            .query_pairs()
            .find(|(k, _)| k == "downloadFileName")
            .map(|(_, v)| v.into_owned())
            .filter(|n| !n.is_empty() && !n.contains('/') && !n.contains('\\'))
            .unwrap_or_else(|| {
                let kind = if bill_type == "trade" { "" } else { "_fnd" };
                format!("{}0156_{}{kind}.csv.zip", self.pid, date.0.format("%Y%m%d"))
            });
        Ok((file_name, bytes))
    }

    async fn query_refund_inner(
        &self,
        order_no: &str,
        refund_no: &str,
    ) -> Result<RefundStatus, ProviderError> {
        let obj = http::with_retries(&self.opts, || {
            self.call(
                METHOD_REFUND_QUERY,
                json!({"out_trade_no": order_no, "out_request_no": refund_no}),
            )
        })
        .await?;
        let refund_status = str_field(&obj, "refund_status");
        let amount = str_field(&obj, "refund_amount")
            .filter(|s| !s.is_empty())
            .map(|s| parse_minor(&s, Currency::CNY))
            .transpose()
            .map_err(|e| protocol(METHOD_REFUND_QUERY, format!("refund_amount: {e}")))?;
        let has_data =
            amount.is_some() || str_field(&obj, "out_request_no").is_some_and(|s| !s.is_empty());
        let (state, status_text) = match refund_status.as_deref() {
            Some("REFUND_SUCCESS") => (RefundState::Succeeded, "REFUND_SUCCESS".to_string()),
            Some("REFUND_PROCESSING") => (RefundState::Processing, "REFUND_PROCESSING".to_string()),
            Some("REFUND_FAIL") => (RefundState::Failed, "REFUND_FAIL".to_string()),
            Some(other) if !other.is_empty() => (RefundState::NeedsAttention, other.to_string()),
            _ if has_data => (RefundState::Succeeded, "REFUND_SUCCESS (business data present)".to_string()),
            _ => {
                return Err(ProviderError::new(
                    Provider::Alipay,
                    METHOD_REFUND_QUERY,
                    ErrorKind::Rejected {
                        code: "REFUND_NOT_FOUND".into(),
                        message: format!("no refund {refund_no} on order {order_no}: retry the refund with the same number and amount"),
                    },
                ))
            }
        };
        Ok(RefundStatus {
            order_no: order_no.to_string(),
            refund_no: refund_no.to_string(),
            provider_refund_id: str_field(&obj, "trade_no"),
            state,
            provider_status: status_text,
            amount,
            currency: Currency::CNY,
            failure_reason: None,
        })
    }
}

impl CertMode {
    /// Reads and checks the three certificate files: the app certificate must hold the app
    /// key's public key and be valid; each Alipay certificate must chain to the root and be
    /// valid (the first one must; later, cached ones that no longer do are dropped).
    fn new(
        c: &AlipayCertificates,
        app_key: &PrivateKey,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<CertMode, ProviderError> {
        let app = X509::first_of_pem(&c.app_cert)
            .map_err(|e| cfg_err(format!("app certificate: {e}")))?;
        if app.public_key().ok().as_ref() != Some(&app_key.public_key()) {
            return Err(cfg_err(format!(
                "the app certificate (SN {}) is not for the app private key; import the certificate issued for this key",
                app.alipay_sn()
            )));
        }
        app.check_validity(now)
            .map_err(|e| cfg_err(format!("app certificate: {e}")))?;
        let root_cert_sn = alipay_root_cert_sn(&c.root_cert)
            .map_err(|e| cfg_err(format!("Alipay root certificate: {e}")))?;
        let roots = X509::parse_pem_bundle(&c.root_cert)
            .map_err(|e| cfg_err(format!("Alipay root certificate: {e}")))?;
        let mut chains = Vec::new();
        let mut intermediates = Vec::new();
        for text in &c.alipay_certs {
            let mut chain = X509::parse_pem_bundle(text)
                .map_err(|e| cfg_err(format!("Alipay public certificate: {e}")))?;
            if chain.is_empty() {
                return Err(cfg_err(
                    "Alipay public certificate: no certificate in the text",
                ));
            }
            let leaf = chain.remove(0);
            intermediates.extend(chain);
            chains.push(leaf);
        }
        let Some(first) = chains.first() else {
            return Err(cfg_err(
                "certificate mode needs the Alipay public certificate",
            ));
        };
        let current_sn = first.alipay_sn();
        let mut certs = HashMap::new();
        for (i, leaf) in chains.into_iter().enumerate() {
            match leaf.validate_chain(&intermediates, &roots, now) {
                Ok(()) => {
                    certs.insert(leaf.alipay_sn(), leaf);
                }
                Err(e) if i == 0 => {
                    return Err(cfg_err(format!(
                        "Alipay public certificate (SN {current_sn}): {e}"
                    )))
                }
                Err(e) => {
                    tracing::warn!(alipay_cert_sn = %leaf.alipay_sn(), "not using a kept Alipay certificate: {e}");
                }
            }
        }
        Ok(CertMode {
            app_cert_sn: app.alipay_sn(),
            root_cert_sn,
            roots,
            current_sn,
            certs: RwLock::new(certs),
            intermediates: RwLock::new(intermediates),
        })
    }

    fn knows(&self, sn: &str) -> bool {
        self.certs.read().is_ok_and(|c| c.contains_key(sn))
    }

    fn key(&self, sn: &str) -> Option<RsaPublicKey> {
        self.certs.read().ok()?.get(sn)?.public_key().ok()
    }

    fn intermediates(&self) -> Vec<X509> {
        self.intermediates
            .read()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// The key of certificate `sn` if it is known and valid at `now`.
    fn usable_key(
        &self,
        sn: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<RsaPublicKey, String> {
        let certs = self
            .certs
            .read()
            .map_err(|_| "the Alipay certificate store is unusable".to_string())?;
        let cert = certs.get(sn).ok_or_else(|| {
            format!("the answer names Alipay certificate {sn}, which is not a known, valid Alipay certificate")
        })?;
        cert.check_validity(now)
            .map_err(|e| format!("Alipay certificate {sn}: {e}"))?;
        cert.public_key()
            .map_err(|e| format!("Alipay certificate {sn}: {e}"))
    }

    fn learn(&self, leaf: X509, chain: Vec<X509>) {
        if let Ok(mut i) = self.intermediates.write() {
            i.extend(chain);
        }
        if let Ok(mut c) = self.certs.write() {
            c.insert(leaf.alipay_sn(), leaf);
        }
    }
}

fn protocol(call: &str, detail: String) -> ProviderError {
    ProviderError::new(Provider::Alipay, call, ErrorKind::Protocol { detail })
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` body.
pub(crate) fn form_encode(params: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

#[async_trait]
impl ProviderAdapter for AlipayAdapter {
    fn provider(&self) -> Provider {
        Provider::Alipay
    }

    async fn download_statement(
        &self,
        date: BillDate,
    ) -> Result<DownloadedStatement, ProviderError> {
        let (file_name, bytes) = self.download_bill("trade", date).await?;
        Ok(DownloadedStatement { file_name, bytes })
    }

    /// The 账务明细 (`bill_type=signcustomer`) of the day: every movement of the balance.
    async fn download_fund_flows(
        &self,
        account: &str,
        date: NaiveDate,
    ) -> Result<DownloadedFundFlows, ProviderError> {
        let (file_name, bytes) = self.download_bill("signcustomer", BillDate(date)).await?;
        parse_downloaded_flows(Provider::Alipay, METHOD_BILL_URL, account, file_name, bytes)
    }

    async fn query_payment(&self, order_no: &str) -> Result<PaymentStatus, ProviderError> {
        let result = http::with_retries(&self.opts, || {
            self.call(METHOD_TRADE_QUERY, json!({"out_trade_no": order_no}))
        })
        .await;
        let obj = match result {
            Ok(o) => o,
            Err(e) if matches!(&e.kind, ErrorKind::Rejected { code, .. } if code == "ACQ.TRADE_NOT_EXIST") => {
                return Ok(PaymentStatus {
                    order_no: order_no.to_string(),
                    provider_txn_id: None,
                    state: PaymentState::NotFound,
                    provider_status: "ACQ.TRADE_NOT_EXIST".into(),
                    amount: None,
                    currency: None,
                    paid_at: None,
                })
            }
            Err(e) => return Err(e),
        };
        let status = str_field(&obj, "trade_status").unwrap_or_default();
        let state = match status.as_str() {
            "WAIT_BUYER_PAY" => PaymentState::Pending,
            "TRADE_SUCCESS" => PaymentState::Paid,
            "TRADE_FINISHED" => PaymentState::Finished,
            "TRADE_CLOSED" => PaymentState::Closed,
            other => {
                return Err(protocol(
                    METHOD_TRADE_QUERY,
                    format!("unknown trade_status {other:?}"),
                ))
            }
        };
        let amount = str_field(&obj, "total_amount")
            .map(|s| parse_minor(&s, Currency::CNY))
            .transpose()
            .map_err(|e| protocol(METHOD_TRADE_QUERY, format!("total_amount: {e}")))?;
        Ok(PaymentStatus {
            order_no: order_no.to_string(),
            provider_txn_id: str_field(&obj, "trade_no"),
            state,
            provider_status: status,
            amount,
            currency: Some(Currency::CNY),
            paid_at: str_field(&obj, "send_pay_date"),
        })
    }

    async fn create_refund(&self, req: &RefundRequest) -> Result<RefundStatus, ProviderError> {
        let amount = self.yuan(METHOD_REFUND, req.amount, req.currency)?;
        let mut biz = json!({
            "out_trade_no": req.order_no,
            "refund_amount": amount,
            "out_request_no": req.refund_no,
        });
        if let (Some(reason), Some(m)) = (&req.reason, biz.as_object_mut()) {
            m.insert("refund_reason".into(), Value::String(reason.clone()));
        }
        // ACQ.SYSTEM_ERROR / timeouts: same out_request_no and amount, so retrying is safe.
        let obj = http::with_retries(&self.opts, || self.call(METHOD_REFUND, biz.clone())).await?;
        if str_field(&obj, "fund_change").as_deref() == Some("Y") {
            return Ok(RefundStatus {
                order_no: req.order_no.clone(),
                refund_no: req.refund_no.clone(),
                provider_refund_id: str_field(&obj, "trade_no"),
                state: RefundState::Succeeded,
                provider_status: "fund_change=Y".into(),
                amount: Some(req.amount),
                currency: Currency::CNY,
                failure_reason: None,
            });
        }
        // fund_change=N: no money moved in this call (possibly a duplicate). Confirm by query.
        match self.query_refund_inner(&req.order_no, &req.refund_no).await {
            Ok(s) => Ok(s),
            Err(e) if e.is_not_found() => Ok(RefundStatus {
                order_no: req.order_no.clone(),
                refund_no: req.refund_no.clone(),
                provider_refund_id: str_field(&obj, "trade_no"),
                state: RefundState::Pending,
                provider_status: "fund_change=N".into(),
                amount: None,
                currency: Currency::CNY,
                failure_reason: None,
            }),
            Err(e) => Err(e),
        }
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<RefundStatus, ProviderError> {
        self.query_refund_inner(&req.order_no, &req.refund_no).await
    }
}
