//! Stripe API simulator (the parts Paydesk uses).

use crate::state::{refund_line, FaultKind, SandboxPayment, SandboxRefund, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paydesk_core::{LineKind, Provider, StatementLine};
use serde_json::{json, Value};

fn stripe_error(status: StatusCode, typ: &str, code: &str, message: &str) -> Response {
    let mut e = json!({"error": {"type": typ, "message": message}});
    if !code.is_empty() {
        e["error"]["code"] = json!(code);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        e.to_string(),
    )
        .into_response()
}

fn ok(v: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn check(st: &Shared, headers: &HeaderMap, what: &str) -> Result<(), Response> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !auth
        .strip_prefix("Bearer ")
        .is_some_and(|k| st.stripe_key_accepted(k))
    {
        return Err(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "",
            "Invalid API Key provided",
        ));
    }
    match st.take_fault(Provider::Stripe, what, |k| {
        matches!(k, FaultKind::SystemError | FaultKind::RateLimited)
    }) {
        Some(FaultKind::RateLimited) => Err(stripe_error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            "rate_limit",
            "Too many requests",
        )),
        Some(_) => Err(stripe_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "",
            "An unknown error occurred",
        )),
        None => Ok(()),
    }
}

fn params(uri: &Uri, body: &[u8]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    p.extend(url::form_urlencoded::parse(body).into_owned());
    p
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn pi_json(p: &SandboxPayment) -> Value {
    json!({"id": p.payment_intent, "object": "payment_intent", "amount": p.amount, "currency": p.currency.code().to_ascii_lowercase(),
           "status": "succeeded", "latest_charge": p.txn_id, "metadata": {"order_id": p.order_no}, "created": p.paid_at.timestamp()})
}

fn charge_json(p: &SandboxPayment, refunded: i64) -> Value {
    json!({"id": p.txn_id, "object": "charge", "amount": p.amount, "amount_refunded": refunded, "currency": p.currency.code().to_ascii_lowercase(),
           "payment_intent": p.payment_intent, "status": "succeeded", "paid": true, "refunded": refunded >= p.amount,
           "metadata": {"order_id": p.order_no}, "created": p.paid_at.timestamp()})
}

fn refund_json(r: &SandboxRefund, p: Option<&SandboxPayment>) -> Value {
    json!({"id": r.refund_id, "object": "refund", "amount": r.amount, "currency": r.currency.code().to_ascii_lowercase(),
           "charge": r.txn_id, "payment_intent": p.map(|p| p.payment_intent.clone()), "status": r.status,
           "metadata": {"refund_id": r.refund_no, "order_id": r.order_no}, "created": r.created.timestamp()})
}

fn balance_txn_id(l: &StatementLine) -> String {
    crate::fundflow::stripe_txn_id(l)
}

/// Balance transactions derived from loaded lines and refunds executed here, newest first.
fn balance_transactions_list(st: &Shared) -> Vec<(i64, Value)> {
    let g = st.lock();
    let pay = |order: &Option<paydesk_core::Id>| {
        g.payments
            .iter()
            .find(|p| {
                p.provider == Provider::Stripe && Some(p.order_no.as_str()) == order.as_deref()
            })
            .cloned()
    };
    let mut lines: Vec<StatementLine> = g
        .lines
        .iter()
        .filter(|l| l.provider == Provider::Stripe)
        .cloned()
        .collect();
    for r in g.refunds.iter().filter(|r| r.provider == Provider::Stripe) {
        let p = g
            .payments
            .iter()
            .find(|p| p.provider == Provider::Stripe && p.order_no == r.order_no);
        lines.push(refund_line(r, p));
    }
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let p = pay(&l.merchant_order_no);
        let pi = p.as_ref().map(|p| p.payment_intent.clone());
        let cur = l.currency.code().to_ascii_lowercase();
        let (category, source) = match l.kind {
            LineKind::Payment => (
                "charge",
                json!({"id": l.provider_txn_id, "object": "charge", "payment_intent": pi, "amount": l.gross, "currency": cur,
                       "metadata": {"order_id": l.merchant_order_no}}),
            ),
            LineKind::Refund => (
                "refund",
                // Like Stripe, a refund points at the charge it refunds (the original payment's).
                json!({"id": l.provider_refund_id.clone().unwrap_or_else(|| format!("re_{i}").into()), "object": "refund",
                       "charge": p.as_ref().map(|p| p.txn_id.clone()).unwrap_or_else(|| l.provider_txn_id.to_string()),
                       "payment_intent": pi, "amount": -l.gross, "currency": cur, "status": "succeeded",
                       "metadata": {"refund_id": l.merchant_refund_no}}),
            ),
            LineKind::Fee => ("fee", json!(null)),
            LineKind::Payout => ("payout", json!(null)),
            // A dispute names the charge it disputes, as Stripe's dispute objects do.
            LineKind::Adjustment if l.provider_status == "dispute" => (
                "dispute",
                json!({"id": format!("dp_{}", &balance_txn_id(l)[4..]), "object": "dispute",
                       "charge": p.as_ref().map(|p| p.txn_id.clone()), "payment_intent": pi,
                       "amount": -l.gross, "currency": cur}),
            ),
            LineKind::Adjustment => ("other_adjustment", json!(null)),
        };
        let created = l.provider_time.timestamp();
        let txn = json!({
            // Derived from the transaction itself, never its position: the same history gives
            // the same ids whichever days are loaded, as Stripe's ids never change.
            "id": balance_txn_id(l),
            "object": "balance_transaction",
            "amount": l.gross, "fee": l.fee_minor(), "net": l.net, "currency": cur,
            "created": created, "available_on": created + 2 * 86_400, "status": "available",
            "type": category, "reporting_category": category, "description": format!("{} {}", category, l.merchant_order_no.clone().unwrap_or_default()),
            "source": if source.is_null() { json!(null) } else { source },
        });
        out.push((created, txn));
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.0));
    out
}

pub(crate) async fn balance_transactions(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let p = params(&uri, &[]);
    if let Some(po) = param(&p, "payout") {
        return payout_transactions(&st, &p, po);
    }
    let num = |k: &str| param(&p, k).and_then(|v| v.parse::<i64>().ok());
    let limit = num("limit").unwrap_or(10).clamp(1, 100) as usize;
    let expand = p.iter().any(|(k, v)| k == "expand[]" && v == "data.source");
    let all: Vec<Value> = balance_transactions_list(&st)
        .into_iter()
        .filter(|(c, _)| {
            num("created[gte]").is_none_or(|g| *c >= g) && num("created[lt]").is_none_or(|l| *c < l)
        })
        .map(|(_, v)| v)
        .collect();
    let start = match param(&p, "starting_after") {
        Some(after) => match all.iter().position(|t| t["id"] == after) {
            Some(i) => i + 1,
            None => {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "resource_missing",
                    "No such balance transaction",
                )
            }
        },
        None => 0,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|t| {
            let mut t = t.clone();
            if !expand {
                let id = t["source"]["id"].clone();
                t["source"] = id;
            }
            t
        })
        .collect();
    let has_more = start + page.len() < all.len();
    ok(
        &json!({"object": "list", "url": "/v1/balance_transactions", "has_more": has_more, "data": page}),
    )
}

/// One page of `items` (newest first) after `starting_after`: the page and `has_more`, or
/// Stripe's answer to an unknown cursor.
fn page_after<T>(
    items: &[T],
    id: impl Fn(&T) -> &str,
    p: &[(String, String)],
    what: &str,
) -> Result<(Vec<T>, bool), Response>
where
    T: Clone,
{
    let limit = param(p, "limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(10)
        .clamp(1, 100) as usize;
    let start = match param(p, "starting_after") {
        Some(after) => match items.iter().position(|t| id(t) == after) {
            Some(i) => i + 1,
            None => {
                return Err(stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "resource_missing",
                    &format!("No such {what}: '{after}'"),
                ))
            }
        },
        None => 0,
    };
    let page: Vec<T> = items.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + page.len() < items.len();
    Ok((page, has_more))
}

/// The Stripe account's ledger (the sandbox has one Stripe merchant).
fn stripe_ledger(st: &Shared) -> crate::fundflow::SandboxLedger {
    let g = st.lock();
    crate::fundflow::ledger(&g, Provider::Stripe, Provider::Stripe.as_str(), &|_| true)
}

/// `GET /v1/balance_transactions?payout=po_…`: what an automatic payout settles, and its own
/// transaction, newest first, paginated.
fn payout_transactions(st: &Shared, p: &[(String, String)], po: &str) -> Response {
    let ledger = stripe_ledger(st);
    if !ledger.payouts.iter().any(|x| x.payout_id == po) {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "resource_missing",
            &format!("No such payout: '{po}'"),
        );
    }
    let flows = crate::fundflow::flows_newest_first(ledger.settled_by(po));
    match page_after(&flows, |f| f.flow_id.as_str(), p, "balance transaction") {
        Ok((page, has_more)) => {
            let body = paydesk_providers::fundflow::write_stripe_balance_transactions_page(
                &page, has_more,
            );
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(r) => r,
    }
}

/// `GET /v1/payouts` with `created[…]` and `arrival_date[…]` filters (`gt`, `gte`, `lt`,
/// `lte`, or an exact value), newest first, paginated by `starting_after`.
pub(crate) async fn list_payouts(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let p = params(&uri, &[]);
    let within = |field: &str, v: i64| -> bool {
        let num = |op: &str| {
            let key = if op.is_empty() {
                field.to_string()
            } else {
                format!("{field}[{op}]")
            };
            param(&p, &key).and_then(|x| x.parse::<i64>().ok())
        };
        num("").is_none_or(|x| v == x)
            && num("gt").is_none_or(|x| v > x)
            && num("gte").is_none_or(|x| v >= x)
            && num("lt").is_none_or(|x| v < x)
            && num("lte").is_none_or(|x| v <= x)
    };
    let payouts: Vec<paydesk_core::settlement::Payout> =
        crate::fundflow::newest_first(stripe_ledger(&st).payouts)
            .into_iter()
            .filter(|x| {
                let arrival = x
                    .arrival_date
                    .and_hms_opt(0, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp());
                within("created", x.created_at.timestamp()) && within("arrival_date", arrival)
            })
            .collect();
    match page_after(&payouts, |x| x.payout_id.as_str(), &p, "payout") {
        Ok((page, has_more)) => {
            let body = paydesk_providers::fundflow::write_stripe_payouts_page(&page, has_more);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(r) => r,
    }
}

fn fingerprint(p: &[(String, String)]) -> String {
    let mut v: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    v.sort();
    v.join("&")
}

pub(crate) async fn create_refund(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = uri.path().to_string();
    if let Err(r) = check(&st, &headers, &what) {
        return r;
    }
    let p = params(&uri, &body);
    let idem = headers
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fp = fingerprint(&p);
    if let Some(k) = &idem {
        let prior = st.lock().idempotency.get(k).cloned();
        if let Some((prior_fp, status, prior_body)) = prior {
            if prior_fp != fp {
                return stripe_error(StatusCode::BAD_REQUEST, "idempotency_error", "",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.");
            }
            let mut r = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                [(header::CONTENT_TYPE, "application/json")],
                prior_body,
            )
                .into_response();
            r.headers_mut().insert(
                "Idempotent-Replayed",
                header::HeaderValue::from_static("true"),
            );
            return r;
        }
    }
    let payment = {
        let g = st.lock();
        g.payments
            .iter()
            .find(|x| {
                x.provider == Provider::Stripe
                    && (param(&p, "payment_intent") == Some(x.payment_intent.as_str())
                        || param(&p, "charge") == Some(x.txn_id.as_str()))
            })
            .cloned()
    };
    let Some(pay) = payment else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent",
        );
    };
    let refunded = st.refunded_total(Provider::Stripe, &pay.order_no);
    let amount = match param(&p, "amount") {
        Some(a) => match a.parse::<i64>() {
            Ok(v) if v > 0 => v,
            _ => {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "parameter_invalid_integer",
                    "Invalid amount",
                )
            }
        },
        None => pay.amount - refunded,
    };
    if refunded + amount > pay.amount {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "charge_already_refunded",
            "Refund amount is greater than unrefunded amount on charge",
        );
    }
    let refund = SandboxRefund {
        provider: Provider::Stripe,
        order_no: pay.order_no.clone(),
        refund_no: param(&p, "metadata[refund_id]").unwrap_or("").to_string(),
        refund_id: st.next_id("re_"),
        txn_id: pay.txn_id.clone(),
        amount,
        currency: pay.currency,
        created: chrono::Utc::now(),
        status: "succeeded".into(),
    };
    let mut v = refund_json(&refund, Some(&pay));
    // Echo every metadata[...] parameter.
    for (k, val) in &p {
        if let Some(mk) = k
            .strip_prefix("metadata[")
            .and_then(|s| s.strip_suffix(']'))
        {
            v["metadata"][mk] = json!(val);
        }
    }
    let text = v.to_string();
    {
        let mut g = st.lock();
        g.refunds.push(refund);
        if let Some(k) = idem {
            g.idempotency.insert(k, (fp, 200, text.clone()));
        }
    }
    if let Some(FaultKind::DelayAfterCommit { millis }) =
        st.take_fault(Provider::Stripe, &what, |k| {
            matches!(k, FaultKind::DelayAfterCommit { .. })
        })
    {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

fn refund_value(st: &Shared, r: &SandboxRefund) -> Value {
    let p = st.payment(Provider::Stripe, &r.order_no);
    refund_json(r, p.as_ref())
}

pub(crate) async fn get_refund(
    State(st): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let found = st
        .lock()
        .refunds
        .iter()
        .find(|r| r.provider == Provider::Stripe && r.refund_id == id)
        .cloned();
    match found {
        Some(r) => ok(&refund_value(&st, &r)),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            "No such refund",
        ),
    }
}

pub(crate) async fn list_refunds(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let p = params(&uri, &[]);
    let pay = {
        let g = st.lock();
        g.payments
            .iter()
            .find(|x| {
                x.provider == Provider::Stripe
                    && (param(&p, "payment_intent") == Some(x.payment_intent.as_str())
                        || param(&p, "charge") == Some(x.txn_id.as_str()))
            })
            .cloned()
    };
    let refunds: Vec<SandboxRefund> = st
        .lock()
        .refunds
        .iter()
        .filter(|r| {
            r.provider == Provider::Stripe && pay.as_ref().is_none_or(|p| p.order_no == r.order_no)
        })
        .rev()
        .cloned()
        .collect();
    let data: Vec<Value> = refunds.iter().map(|r| refund_value(&st, r)).collect();
    ok(&json!({"object": "list", "has_more": false, "data": data}))
}

pub(crate) async fn get_payment_intent(
    State(st): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let found = st
        .lock()
        .payments
        .iter()
        .find(|p| p.provider == Provider::Stripe && p.payment_intent == id)
        .cloned();
    match found {
        Some(p) => ok(&pi_json(&p)),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            "No such payment_intent",
        ),
    }
}

/// Supports `query=metadata['order_id']:'X'` only.
pub(crate) async fn search_payment_intents(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let p = params(&uri, &[]);
    let q = param(&p, "query").unwrap_or("");
    let wanted = q
        .split_once(":'")
        .map(|(_, v)| v.trim_end_matches('\'').to_string())
        .unwrap_or_default();
    let data: Vec<Value> = st
        .lock()
        .payments
        .iter()
        .filter(|x| x.provider == Provider::Stripe && x.order_no == wanted)
        .map(pi_json)
        .collect();
    ok(&json!({"object": "search_result", "has_more": false, "data": data}))
}

pub(crate) async fn get_charge(
    State(st): State<Shared>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = check(&st, &headers, uri.path()) {
        return r;
    }
    let found = st
        .lock()
        .payments
        .iter()
        .find(|p| p.provider == Provider::Stripe && p.txn_id == id)
        .cloned();
    match found {
        Some(p) => {
            let refunded = st.refunded_total(Provider::Stripe, &p.order_no);
            ok(&charge_json(&p, refunded))
        }
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "resource_missing",
            "No such charge",
        ),
    }
}
