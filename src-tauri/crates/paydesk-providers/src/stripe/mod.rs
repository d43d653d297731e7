//! Stripe adapter: Bearer auth, pinned `Stripe-Version`, `Idempotency-Key` on POST.

pub mod webhook;

use crate::adapter::{
    DownloadedFundFlows, DownloadedStatement, PaymentState, PaymentStatus, ProviderAdapter,
    RefundQuery, RefundRequest, RefundState, RefundStatus,
};
use crate::error::{clip, ErrorKind, ProviderError};
use crate::fundflow::{parse_stripe_balance_transactions, parse_stripe_payouts};
use crate::http::{self, HttpOptions};
use async_trait::async_trait;
use chrono::NaiveDate;
use paydesk_core::settlement::{FundFlow, Payout};
use paydesk_core::{BillDate, Currency, Provider};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;

/// The API version this client is written against (stripe-go v86).
pub const STRIPE_VERSION: &str = "2026-07-29.dahlia";

/// The columns of the CSV built by [`StripeAdapter::download_statement`]: the Reporting API
/// `balance_change_from_activity.itemized.3` layout (times in UTC), the list the statement
/// writer uses too.
pub use crate::statement::STRIPE_REPORT_COLUMNS as REPORT_COLUMNS;

#[derive(Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com` (no trailing `/v1`).
    pub base_url: String,
    /// Secret or (better) restricted key.
    pub secret_key: SecretString,
    /// Metadata key holding the merchant order number on PaymentIntents/Charges.
    pub order_metadata_key: String,
    /// Metadata key holding the merchant refund number on Refunds (Paydesk writes it).
    pub refund_metadata_key: String,
}

impl StripeConfig {
    pub fn new(base_url: impl Into<String>, secret_key: SecretString) -> StripeConfig {
        StripeConfig {
            base_url: base_url.into(),
            secret_key,
            order_metadata_key: "order_id".into(),
            refund_metadata_key: "refund_id".into(),
        }
    }
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("base_url", &self.base_url)
            .field("secret_key", &"[redacted]")
            .field("order_metadata_key", &self.order_metadata_key)
            .field("refund_metadata_key", &self.refund_metadata_key)
            .finish()
    }
}

pub struct StripeAdapter {
    cfg: StripeConfig,
    client: reqwest::Client,
    opts: HttpOptions,
}

impl std::fmt::Debug for StripeAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeAdapter")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

fn err(call: &str, kind: ErrorKind) -> ProviderError {
    ProviderError::new(Provider::Stripe, call, kind)
}

fn protocol(call: &str, detail: impl Into<String>) -> ProviderError {
    err(
        call,
        ErrorKind::Protocol {
            detail: detail.into(),
        },
    )
}

const CALL_BT: &str = "GET /v1/balance_transactions";
const CALL_PAYOUTS: &str = "GET /v1/payouts";
const CALL_CHARGE: &str = "GET /v1/charges/{id}";
const CALL_PI: &str = "GET /v1/payment_intents/{id}";
const CALL_PI_SEARCH: &str = "GET /v1/payment_intents/search";
const CALL_REFUND: &str = "POST /v1/refunds";
const CALL_REFUND_GET: &str = "GET /v1/refunds/{id}";
const CALL_REFUND_LIST: &str = "GET /v1/refunds";
const MAX_PAGES: usize = 10_000;

impl StripeAdapter {
    pub fn new(cfg: StripeConfig, opts: HttpOptions) -> Result<StripeAdapter, ProviderError> {
        url::Url::parse(&cfg.base_url).map_err(|e| {
            err(
                "configure",
                ErrorKind::Config {
                    detail: format!("base url: {e}"),
                },
            )
        })?;
        if cfg.secret_key.expose_secret().trim().is_empty() {
            return Err(err(
                "configure",
                ErrorKind::Config {
                    detail: "the secret key is empty".into(),
                },
            ));
        }
        Ok(StripeAdapter {
            client: http::build_client(Provider::Stripe, &opts)?,
            cfg,
            opts,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.base_url.trim_end_matches('/'), path)
    }

    /// One request. `form` is sent as the urlencoded body (POST) or query (GET).
    async fn request(
        &self,
        call: &str,
        method: Method,
        path: &str,
        params: &[(String, String)],
        idempotency_key: Option<&str>,
    ) -> Result<Value, ProviderError> {
        let mut rb = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(self.cfg.secret_key.expose_secret())
            .header("Stripe-Version", STRIPE_VERSION);
        if method == Method::POST {
            rb = rb
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(crate::alipay::form_encode(params));
            if let Some(k) = idempotency_key {
                rb = rb.header("Idempotency-Key", k);
            }
        } else if !params.is_empty() {
            rb = rb.query(params);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| http::transport_error(Provider::Stripe, call, e))?;
        let status = resp.status();
        let should_retry = resp
            .headers()
            .get("Stripe-Should-Retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let body = http::read_body(Provider::Stripe, call, resp).await?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| protocol(call, format!("answer is not JSON: {e}")));
        }
        Err(classify_error(call, status, should_retry, &body))
    }

    async fn get(
        &self,
        call: &str,
        path: &str,
        params: &[(String, String)],
    ) -> Result<Value, ProviderError> {
        http::with_retries(&self.opts, || {
            self.request(call, Method::GET, path, params, None)
        })
        .await
    }

    fn refund_status(
        &self,
        call: &str,
        v: &Value,
        order_no: &str,
        refund_no: &str,
    ) -> Result<RefundStatus, ProviderError> {
        let status = v
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol(call, "refund without status"))?;
        let state = match status {
            "succeeded" => RefundState::Succeeded,
            "pending" => RefundState::Processing,
            "requires_action" => RefundState::NeedsAttention,
            "failed" | "canceled" => RefundState::Failed,
            other => return Err(protocol(call, format!("unknown refund status {other:?}"))),
        };
        let currency = v
            .get("currency")
            .and_then(Value::as_str)
            .map(Currency::parse)
            .transpose()
            .map_err(|e| protocol(call, e.to_string()))?
            .ok_or_else(|| protocol(call, "refund without currency"))?;
        Ok(RefundStatus {
            order_no: order_no.to_string(),
            refund_no: refund_no.to_string(),
            provider_refund_id: v.get("id").and_then(Value::as_str).map(str::to_string),
            state,
            provider_status: status.to_string(),
            amount: v.get("amount").and_then(Value::as_i64),
            currency,
            failure_reason: v
                .get("failure_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// All balance transactions created in `[gte, lt)`, following `has_more`/`starting_after`.
    pub async fn list_balance_transactions(
        &self,
        gte: i64,
        lt: i64,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut out: Vec<Value> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = vec![
                ("created[gte]".to_string(), gte.to_string()),
                ("created[lt]".to_string(), lt.to_string()),
                ("limit".to_string(), "100".to_string()),
                ("expand[]".to_string(), "data.source".to_string()),
            ];
            if let Some(a) = &after {
                params.push(("starting_after".into(), a.clone()));
            }
            let page = self
                .get(CALL_BT, "/v1/balance_transactions", &params)
                .await?;
            let data = page
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| protocol(CALL_BT, "list without data"))?;
            let has_more = page
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let last = data
                .last()
                .and_then(|t| t.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            out.extend(data.iter().cloned());
            match (has_more, last) {
                (true, Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
                (true, _) => return Err(protocol(CALL_BT, "has_more without progress")),
                (false, _) => return Ok(out),
            }
        }
        Err(protocol(CALL_BT, "too many pages"))
    }

    /// Every page of a list call (`limit=100`, following `has_more` with `starting_after`
    /// the last id), each page's raw JSON.
    async fn list_pages(
        &self,
        call: &str,
        path: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Vec<u8>>, ProviderError> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut p = params.to_vec();
            p.push(("limit".into(), "100".into()));
            if let Some(a) = &after {
                p.push(("starting_after".into(), a.clone()));
            }
            let page = self.get(call, path, &p).await?;
            let has_more = page
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let last = page
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| protocol(call, "list without data"))?
                .last()
                .and_then(|t| t.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            pages.push(page.to_string().into_bytes());
            match (has_more, last) {
                (true, Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
                (true, _) => return Err(protocol(call, "has_more without progress")),
                (false, _) => return Ok(pages),
            }
        }
        Err(protocol(call, "too many pages"))
    }

    /// The payouts created on `date` (UTC) and, for each automatic one, the balance
    /// transactions it settles (`GET /v1/balance_transactions?payout=`), each given the
    /// payout's id. Manual payouts cannot be itemized and bring no transactions.
    pub async fn payouts_of_day(
        &self,
        account: &str,
        date: NaiveDate,
    ) -> Result<(Vec<Payout>, Vec<FundFlow>), ProviderError> {
        let (start, end) = BillDate(date).utc_bounds(chrono_tz::UTC);
        let pages = self
            .list_pages(
                CALL_PAYOUTS,
                "/v1/payouts",
                &[
                    ("created[gte]".into(), start.timestamp().to_string()),
                    ("created[lt]".into(), end.timestamp().to_string()),
                ],
            )
            .await?;
        let mut payouts = Vec::new();
        for page in &pages {
            let (mut p, _) = parse_stripe_payouts(page, account)
                .map_err(|e| protocol(CALL_PAYOUTS, e.to_string()))?;
            payouts.append(&mut p);
        }
        let mut flows: Vec<FundFlow> = Vec::new();
        for payout in payouts.iter().filter(|p| p.automatic) {
            let pages = self
                .list_pages(
                    CALL_BT,
                    "/v1/balance_transactions",
                    &[
                        ("payout".into(), payout.payout_id.clone()),
                        ("expand[]".into(), "data.source".into()),
                    ],
                )
                .await?;
            for page in &pages {
                let (list, _) = parse_stripe_balance_transactions(page, account)
                    .map_err(|e| protocol(CALL_BT, e.to_string()))?;
                for mut f in list {
                    f.payout_id = Some(payout.payout_id.clone());
                    f.line = flows.len() as u64 + 1;
                    flows.push(f);
                }
            }
        }
        Ok((payouts, flows))
    }

    /// Builds the report-layout CSV from balance transactions.
    async fn build_report_csv(&self, txns: &[Value]) -> Result<Vec<u8>, ProviderError> {
        let order_col = format!("payment_metadata[{}]", self.cfg.order_metadata_key);
        let refund_col = format!("refund_metadata[{}]", self.cfg.refund_metadata_key);
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = REPORT_COLUMNS.to_vec();
        header.push(&order_col);
        header.push(&refund_col);
        w.write_record(&header)
            .map_err(|e| protocol(CALL_BT, e.to_string()))?;
        let mut charge_cache: HashMap<String, Value> = HashMap::new();
        for t in txns {
            let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let i = |k: &str| t.get(k).and_then(Value::as_i64);
            let id = s("id");
            let currency = Currency::parse(&s("currency"))
                .map_err(|e| protocol(CALL_BT, format!("{id}: {e}")))?;
            let (amount, fee, net) = match (i("amount"), i("fee"), i("net")) {
                (Some(a), Some(f), Some(n)) => (a, f, n),
                _ => return Err(protocol(CALL_BT, format!("{id}: amount/fee/net missing"))),
            };
            let created =
                i("created").ok_or_else(|| protocol(CALL_BT, format!("{id}: no created")))?;
            let available = i("available_on").unwrap_or(created);
            let fmt_t = |ts: i64| {
                chrono::DateTime::from_timestamp(ts, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default()
            };
            let category = match t.get("reporting_category").and_then(Value::as_str) {
                Some(c) => c.to_string(),
                None => s("type"),
            };
            let (mut source_id, mut charge_id, mut pi_id, mut order_no, mut refund_no) = (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            );
            // customer_facing_amount / _currency: the charge's (or refund's) own amount and
            // currency, which differ from the balance transaction's when Stripe converted.
            let mut facing = (currency.format_minor(amount), currency);
            match t.get("source") {
                Some(Value::String(sid)) => source_id = sid.clone(),
                Some(src @ Value::Object(_)) => {
                    let ss = |k: &str| src.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let src_amount = src.get("amount").and_then(Value::as_i64);
                    let src_currency = Currency::parse(&ss("currency")).ok();
                    if let (Some(a), Some(c)) = (src_amount, src_currency) {
                        if matches!(ss("object").as_str(), "charge" | "refund") {
                            let a = if amount < 0 { -a.abs() } else { a.abs() };
                            facing = (c.format_minor(a), c);
                        }
                    }
                    let meta = |k: &str| {
                        src.pointer(&format!("/metadata/{k}"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    source_id = ss("id");
                    match ss("object").as_str() {
                        "charge" => {
                            charge_id = source_id.clone();
                            pi_id = ss("payment_intent");
                            order_no = meta(&self.cfg.order_metadata_key);
                        }
                        "refund" => {
                            charge_id = ss("charge");
                            pi_id = ss("payment_intent");
                            refund_no = meta(&self.cfg.refund_metadata_key);
                            order_no = meta(&self.cfg.order_metadata_key);
                        }
                        "dispute" => {
                            charge_id = ss("charge");
                            pi_id = ss("payment_intent");
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            if order_no.is_empty() && !charge_id.is_empty() {
                if !charge_cache.contains_key(&charge_id) {
                    let ch = self
                        .get(CALL_CHARGE, &format!("/v1/charges/{charge_id}"), &[])
                        .await?;
                    charge_cache.insert(charge_id.clone(), ch);
                }
                if let Some(ch) = charge_cache.get(&charge_id) {
                    order_no = ch
                        .pointer(&format!("/metadata/{}", self.cfg.order_metadata_key))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if pi_id.is_empty() {
                        pi_id = ch
                            .get("payment_intent")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                    }
                }
            }
            let gross = currency.format_minor(amount);
            let row = [
                id,
                fmt_t(created),
                fmt_t(created),
                fmt_t(available),
                fmt_t(available),
                currency.code().to_ascii_lowercase(),
                gross,
                currency.format_minor(fee),
                currency.format_minor(net),
                category,
                source_id,
                s("description"),
                facing.0,
                facing.1.code().to_ascii_lowercase(),
                String::new(),
                charge_id,
                pi_id,
                order_no,
                refund_no,
            ];
            w.write_record(&row)
                .map_err(|e| protocol(CALL_BT, e.to_string()))?;
        }
        w.into_inner().map_err(|e| protocol(CALL_BT, e.to_string()))
    }

    async fn find_refund(&self, q: &RefundQuery) -> Result<Value, ProviderError> {
        if let Some(id) = &q.provider_refund_id {
            return self
                .get(CALL_REFUND_GET, &format!("/v1/refunds/{id}"), &[])
                .await;
        }
        let Some(pi) = &q.provider_payment_id else {
            return Err(err(
                CALL_REFUND_LIST,
                ErrorKind::Config {
                    detail: "finding a Stripe refund needs the re_ id or the PaymentIntent id"
                        .into(),
                },
            ));
        };
        let key = if pi.starts_with("ch_") {
            "charge"
        } else {
            "payment_intent"
        };
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut params = vec![
                (key.to_string(), pi.clone()),
                ("limit".to_string(), "100".to_string()),
            ];
            if let Some(a) = &after {
                params.push(("starting_after".into(), a.clone()));
            }
            let page = self.get(CALL_REFUND_LIST, "/v1/refunds", &params).await?;
            let data = page
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(r) = data.iter().find(|r| {
                r.pointer(&format!("/metadata/{}", self.cfg.refund_metadata_key))
                    .and_then(Value::as_str)
                    == Some(q.refund_no.as_str())
            }) {
                return Ok(r.clone());
            }
            let has_more = page
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match data
                .last()
                .and_then(|r| r.get("id"))
                .and_then(Value::as_str)
            {
                Some(l) if has_more => after = Some(l.to_string()),
                _ => break,
            }
        }
        Err(err(
            CALL_REFUND_LIST,
            ErrorKind::Rejected {
                code: "resource_missing".into(),
                message: format!(
                    "no refund with metadata {}={} on {pi}",
                    self.cfg.refund_metadata_key, q.refund_no
                ),
            },
        ))
    }
}

fn classify_error(
    call: &str,
    status: StatusCode,
    should_retry: Option<bool>,
    body: &[u8],
) -> ProviderError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let e = v.get("error");
    let typ = e
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let code = e
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            if typ.is_empty() {
                format!("HTTP {}", status.as_u16())
            } else {
                typ.to_string()
            }
        });
    let message = clip(
        e.and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let message = format!("HTTP {}: {message}", status.as_u16());
    let retry = should_retry.unwrap_or(
        status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::CONFLICT
            || status.is_server_error(),
    );
    let kind = if retry {
        ErrorKind::Retryable { code, message }
    } else {
        ErrorKind::Rejected { code, message }
    };
    err(call, kind)
}

#[async_trait]
impl ProviderAdapter for StripeAdapter {
    fn provider(&self) -> Provider {
        Provider::Stripe
    }

    async fn download_statement(
        &self,
        date: BillDate,
    ) -> Result<DownloadedStatement, ProviderError> {
        let (start, end) = date.utc_bounds(chrono_tz::UTC);
        let txns = self
            .list_balance_transactions(start.timestamp(), end.timestamp())
            .await?;
        if txns.is_empty() {
            return Err(err(CALL_BT, ErrorKind::NoStatement));
        }
        let bytes = self.build_report_csv(&txns).await?;
        Ok(DownloadedStatement {
            file_name: format!("balance_change_from_activity_itemized_{date}.csv"),
            bytes,
        })
    }

    /// Payouts created that day (UTC) and what each automatic one settles.
    async fn download_fund_flows(
        &self,
        account: &str,
        date: NaiveDate,
    ) -> Result<DownloadedFundFlows, ProviderError> {
        let (payouts, flows) = self.payouts_of_day(account, date).await?;
        Ok(DownloadedFundFlows {
            file_name: format!("stripe_payouts_{date}.json"),
            bytes: Vec::new(),
            layout: crate::fundflow::FundFlowLayout::StripeBalanceTransactionsJson,
            flows,
            payouts,
            summary_checked: false,
        })
    }

    async fn query_payment(&self, order_no: &str) -> Result<PaymentStatus, ProviderError> {
        let pi = if order_no.starts_with("pi_") {
            self.get(CALL_PI, &format!("/v1/payment_intents/{order_no}"), &[])
                .await?
        } else {
            let q = format!(
                "metadata['{}']:'{}'",
                self.cfg.order_metadata_key,
                order_no.replace('\'', "\\'")
            );
            let page = self
                .get(
                    CALL_PI_SEARCH,
                    "/v1/payment_intents/search",
                    &[("query".into(), q)],
                )
                .await?;
            match page
                .get("data")
                .and_then(Value::as_array)
                .and_then(|d| d.first())
            {
                Some(p) => p.clone(),
                None => {
                    return Ok(PaymentStatus {
                        order_no: order_no.to_string(),
                        provider_txn_id: None,
                        state: PaymentState::NotFound,
                        provider_status: "not_found".into(),
                        amount: None,
                        currency: None,
                        paid_at: None,
                    })
                }
            }
        };
        let status = pi
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let state = match status.as_str() {
            "succeeded" => PaymentState::Paid,
            "canceled" => PaymentState::Closed,
            "requires_payment_method"
            | "requires_confirmation"
            | "requires_action"
            | "processing"
            | "requires_capture" => PaymentState::Pending,
            other => return Err(protocol(CALL_PI, format!("unknown status {other:?}"))),
        };
        Ok(PaymentStatus {
            order_no: pi
                .pointer(&format!("/metadata/{}", self.cfg.order_metadata_key))
                .and_then(Value::as_str)
                .unwrap_or(order_no)
                .to_string(),
            provider_txn_id: pi.get("id").and_then(Value::as_str).map(str::to_string),
            state,
            provider_status: status,
            amount: pi.get("amount").and_then(Value::as_i64),
            currency: pi
                .get("currency")
                .and_then(Value::as_str)
                .and_then(|c| Currency::parse(c).ok()),
            paid_at: None,
        })
    }

    async fn create_refund(&self, req: &RefundRequest) -> Result<RefundStatus, ProviderError> {
        let Some(pid) = &req.provider_payment_id else {
            return Err(err(
                CALL_REFUND,
                ErrorKind::Config {
                    detail: "a Stripe refund needs the PaymentIntent (pi_) or Charge (ch_) id"
                        .into(),
                },
            ));
        };
        let target = if pid.starts_with("ch_") {
            "charge"
        } else {
            "payment_intent"
        };
        let mut params = vec![
            (target.to_string(), pid.clone()),
            ("amount".to_string(), req.amount.to_string()),
            (
                format!("metadata[{}]", self.cfg.refund_metadata_key),
                req.refund_no.clone(),
            ),
            (
                format!("metadata[{}]", self.cfg.order_metadata_key),
                req.order_no.clone(),
            ),
        ];
        if let Some(r) = &req.reason {
            if matches!(
                r.as_str(),
                "duplicate" | "fraudulent" | "requested_by_customer"
            ) {
                params.push(("reason".into(), r.clone()));
            }
        }
        // The merchant refund number is the Idempotency-Key, so retries cannot double-refund.
        let v = http::with_retries(&self.opts, || {
            self.request(
                CALL_REFUND,
                Method::POST,
                "/v1/refunds",
                &params,
                Some(&req.refund_no),
            )
        })
        .await?;
        self.refund_status(CALL_REFUND, &v, &req.order_no, &req.refund_no)
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<RefundStatus, ProviderError> {
        let v = self.find_refund(req).await?;
        self.refund_status(CALL_REFUND_GET, &v, &req.order_no, &req.refund_no)
    }
}
