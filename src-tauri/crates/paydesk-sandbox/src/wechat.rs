//! WeChat Pay API v3 simulator.

use crate::alipay::flip_b64;
use crate::state::{FaultKind, SandboxPayment, SandboxRefund, Shared};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paydesk_core::{BillDate, Currency, Provider};
use paydesk_providers::http::random_nonce;
use paydesk_providers::keys::verify_sha256_b64;
use paydesk_providers::wechat::sign::{
    aead_encrypt, parse_authorization, request_message, response_message,
};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::io::Write;

/// A serial no certificate carries (for the UnknownSerial fault).
const ROGUE_SERIAL: &str = "7E57000000000000000000000000000000000BAD";

fn signed(st: &Shared, status: StatusCode, body: String, what: &str) -> Response {
    let corrupt = st
        .take_fault(Provider::Wechat, what, |k| {
            *k == FaultKind::CorruptSignature
        })
        .is_some();
    let rogue = st
        .take_fault(Provider::Wechat, what, |k| *k == FaultKind::UnknownSerial)
        .is_some();
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = random_nonce(32);
    let msg = response_message(&ts, &nonce, body.as_bytes());
    // After a rotation's switch, answers are signed under the successor's serial.
    let successor = {
        let inner = st.lock();
        inner
            .platform_successor
            .clone()
            .filter(|_| inner.signing_with_successor)
    };
    let (key, current_serial) = match &successor {
        Some(s) => (&s.key, s.serial.clone()),
        None => (&st.cfg.keys.wechat_platform, st.platform_serial.clone()),
    };
    let mut sig = key.sign_sha256_b64(&msg).unwrap_or_default();
    if corrupt {
        sig = flip_b64(&sig);
    }
    let serial = if rogue {
        ROGUE_SERIAL.to_string()
    } else {
        current_serial
    };
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    let h = resp.headers_mut();
    for (k, v) in [
        ("Wechatpay-Timestamp", ts),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Signature", sig),
        ("Wechatpay-Serial", serial),
        ("Request-ID", random_nonce(16)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

fn error(st: &Shared, status: StatusCode, code: &str, message: &str, what: &str) -> Response {
    signed(
        st,
        status,
        json!({"code": code, "message": message}).to_string(),
        what,
    )
}

/// Checks the merchant's Authorization header over the request as received; returns the
/// merchant id it names.
fn check_auth(
    st: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, Response> {
    let fail = |m: &str| {
        Err(error(
            st,
            StatusCode::UNAUTHORIZED,
            "SIGN_ERROR",
            m,
            uri.path(),
        ))
    };
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return fail("缺少Authorization");
    };
    let Some(f) = parse_authorization(auth) else {
        return fail("Authorization格式错误");
    };
    if !st.wechat_merchant_known(&f.mchid) {
        return fail("商户号与签名不匹配");
    }
    let Some(merchant_key) = st.wechat_merchant_key(&f.serial_no.to_ascii_uppercase()) else {
        return fail("商户证书序列号有误");
    };
    let Ok(ts) = f.timestamp.parse::<i64>() else {
        return fail("时间戳格式错误");
    };
    if (chrono::Utc::now().timestamp() - ts).abs() >= 300 {
        return fail("时间戳超出范围");
    }
    let canonical = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(uri.path());
    let Ok(body_text) = std::str::from_utf8(body) else {
        return fail("请求体不是UTF-8");
    };
    let msg = request_message(method.as_str(), canonical, ts, &f.nonce_str, body_text);
    if !verify_sha256_b64(&merchant_key, msg.as_bytes(), &f.signature) {
        return fail("签名错误");
    }
    Ok(f.mchid)
}

/// The payment of `order_no` if it is merchant `mchid`'s.
fn merchant_payment(st: &Shared, mchid: &str, order_no: &str) -> Option<SandboxPayment> {
    st.payment(Provider::Wechat, order_no)
        .filter(|p| st.wechat_owns(mchid, &p.account))
}

fn transient(st: &Shared, what: &str) -> Option<Response> {
    match st.take_fault(Provider::Wechat, what, |k| {
        matches!(
            k,
            FaultKind::SystemError | FaultKind::RateLimited | FaultKind::UnverifiedRefusal
        )
    })? {
        FaultKind::UnverifiedRefusal => {
            let mut r = error(
                st,
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "订单不存在",
                what,
            );
            let flipped = r
                .headers()
                .get("Wechatpay-Signature")
                .and_then(|v| v.to_str().ok())
                .map(flip_b64)
                .and_then(|s| HeaderValue::from_str(&s).ok());
            if let Some(v) = flipped {
                r.headers_mut().insert("Wechatpay-Signature", v);
            }
            Some(r)
        }
        FaultKind::RateLimited => Some(error(
            st,
            StatusCode::TOO_MANY_REQUESTS,
            "FREQUENCY_LIMITED",
            "频率超限",
            what,
        )),
        _ => Some(error(
            st,
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
            what,
        )),
    }
}

async fn delay_after_commit(st: &Shared, what: &str) {
    if let Some(FaultKind::DelayAfterCommit { millis }) =
        st.take_fault(Provider::Wechat, what, |k| {
            matches!(k, FaultKind::DelayAfterCommit { .. })
        })
    {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
}

pub(crate) async fn certificates(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check_auth(&st, &method, &uri, &headers, &body) {
        return r;
    }
    // The current certificate, and a published successor (both valid at once).
    let mut certs = vec![(st.platform_serial.clone(), st.platform_cert_pem.clone())];
    if let Some(s) = st.lock().platform_successor.clone() {
        certs.push((s.serial, s.pem));
    }
    let mut data = Vec::new();
    for (serial, pem) in certs {
        let nonce = random_nonce(12);
        let ct = match aead_encrypt(
            st.cfg.apiv3_key.as_bytes(),
            &nonce,
            "certificate",
            pem.as_bytes(),
        ) {
            Ok(c) => c,
            Err(e) => {
                return error(
                    &st,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    &e.to_string(),
                    uri.path(),
                )
            }
        };
        data.push(json!({
            "serial_no": serial,
            "effective_time": "2020-01-01T08:00:00+08:00",
            "expire_time": "2050-01-01T07:59:59+08:00",
            "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate", "ciphertext": ct}
        }));
    }
    let body = json!({ "data": data });
    signed(&st, StatusCode::OK, body.to_string(), uri.path())
}

pub(crate) async fn tradebill(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let what = uri.path();
    let (mchid, date) = match bill_request(&st, &method, &uri, &headers, &q, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The merchant's bill: only its lines, its merchant id on every row.
    let mut lines = st.statement_lines(Provider::Wechat, date);
    lines.retain(|l| st.wechat_owns(&mchid, &l.account));
    if lines.is_empty() {
        return error(
            &st,
            StatusCode::BAD_REQUEST,
            "NO_STATEMENT_EXIST",
            "账单文件不存在",
            what,
        );
    }
    let mut bill = Vec::new();
    if let Err(e) =
        paydesk_providers::statement::write_wechat_merchant_bill(&lines, &mchid, &mut bill)
    {
        return error(
            &st,
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            &e.to_string(),
            what,
        );
    }
    deliver_bill(
        &st,
        bill,
        q.get("tar_type").is_some_and(|t| t == "GZIP"),
        what,
    )
}

/// What both bill requests check first: the signature (giving the merchant id), planted
/// transient faults, a `bill_date`, and a planted "still being generated".
fn bill_request(
    st: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: &Bytes,
) -> Result<(String, BillDate), Response> {
    let what = uri.path();
    let mchid = check_auth(st, method, uri, headers, body)?;
    if let Some(r) = transient(st, what) {
        return Err(r);
    }
    let Some(date) = q.get("bill_date").and_then(|d| BillDate::parse(d).ok()) else {
        return Err(error(
            st,
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "bill_date格式错误",
            what,
        ));
    };
    if st
        .take_fault(Provider::Wechat, what, |k| {
            *k == FaultKind::StatementNotReady
        })
        .is_some()
    {
        return Err(error(
            st,
            StatusCode::BAD_REQUEST,
            "STATEMENT_CREATING",
            "账单生成中",
            what,
        ));
    }
    Ok((mchid, date))
}

/// Step 1's answer for a bill: stores the file (gzipped when asked) for the download
/// route and answers, signed, with the SHA1 of the uncompressed bill and the URL.
fn deliver_bill(st: &Shared, bill: Vec<u8>, gzip: bool, what: &str) -> Response {
    let hash = hex::encode(Sha1::digest(&bill));
    let file = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        match enc.write_all(&bill).and_then(|()| enc.finish()) {
            Ok(b) => b,
            Err(_) => {
                return error(
                    st,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "gzip",
                    what,
                )
            }
        }
    } else {
        bill
    };
    let token = st.store_file(file);
    let tar = if gzip { "&tartype=gzip" } else { "" };
    let body = json!({
        "hash_type": "SHA1",
        "hash_value": hash,
        "download_url": format!("{}/wechat/v3/billdownload/file?token={token}{tar}", st.base_url),
    });
    signed(st, StatusCode::OK, body.to_string(), what)
}

/// `GET /v3/bill/fundflowbill?bill_date=&account_type=BASIC[&tar_type=GZIP]`: the merchant's
/// 资金账单 of the basic account (the sandbox keeps no operation or fee accounts: those bills
/// do not exist), delivered like the trade bill.
pub(crate) async fn fundflowbill(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let what = uri.path();
    let (mchid, date) = match bill_request(&st, &method, &uri, &headers, &q, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let account_type = q.get("account_type").map_or("BASIC", String::as_str);
    if !["BASIC", "OPERATION", "FEES", "ALL"].contains(&account_type) {
        return error(
            &st,
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "account_type参数错误",
            what,
        );
    }
    // The merchant's accounts, asked before the ledger holds the state.
    let accounts: Vec<String> = {
        let g = st.lock();
        let mut a: Vec<String> = g
            .lines
            .iter()
            .filter(|l| l.provider == Provider::Wechat)
            .map(|l| l.account.to_string())
            .collect();
        a.sort();
        a.dedup();
        a
    };
    let owned: Vec<String> = accounts
        .into_iter()
        .filter(|a| st.wechat_owns(&mchid, a))
        .collect();
    let flows = if account_type == "OPERATION" || account_type == "FEES" {
        Vec::new()
    } else {
        let g = st.lock();
        // The ledger's name (its ids derive from it): the account registered for the
        // merchant, else the provider's, as `SandboxHandle::ledger` names them.
        let label = g
            .wechat_merchants
            .get(&mchid)
            .cloned()
            .unwrap_or_else(|| Provider::Wechat.as_str().to_string());
        crate::fundflow::ledger(&g, Provider::Wechat, &label, &|a| {
            owned.iter().any(|o| o == a)
        })
        .flows_on(Provider::Wechat, date.0)
    };
    if flows.is_empty() {
        return error(
            &st,
            StatusCode::BAD_REQUEST,
            "NO_STATEMENT_EXIST",
            "账单文件不存在",
            what,
        );
    }
    let bill = match paydesk_providers::fundflow::write_wechat_fundflow_bill(&flows) {
        Ok(b) => b.into_bytes(),
        Err(e) => {
            return error(
                &st,
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                &e.to_string(),
                what,
            )
        }
    };
    deliver_bill(
        &st,
        bill,
        q.get("tar_type").is_some_and(|t| t == "GZIP"),
        what,
    )
}

/// Not signed (like the real `/v3/billdownload/file`); the SHA1 in the signed answer covers it.
pub(crate) async fn billfile(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Err(r) = check_auth(&st, &method, &uri, &headers, &body) {
        return r;
    }
    let file = q.get("token").and_then(|t| st.lock().files.get(t).cloned());
    match file {
        Some(b) => ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"code": "INVALID_REQUEST", "message": "下载链接已失效"}).to_string(),
        )
            .into_response(),
    }
}

fn refund_json(st: &Shared, r: &SandboxRefund) -> Value {
    let total = st
        .payment(Provider::Wechat, &r.order_no)
        .map(|p| p.amount)
        .unwrap_or(0);
    let t = r
        .created
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .to_rfc3339();
    json!({
        "refund_id": r.refund_id,
        "out_refund_no": r.refund_no,
        "transaction_id": r.txn_id,
        "out_trade_no": r.order_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": t,
        "create_time": t,
        "status": r.status,
        "funds_account": "AVAILABLE",
        "amount": {"total": total, "refund": r.amount, "payer_total": total, "payer_refund": r.amount,
                   "settlement_refund": r.amount, "settlement_total": total, "discount_refund": 0, "currency": "CNY"},
    })
}

pub(crate) async fn create_refund(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = uri.path().to_string();
    let mchid = match check_auth(&st, &method, &uri, &headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) = transient(&st, &what) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            &st,
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "请求体不是JSON",
            &what,
        );
    };
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (order_no, refund_no) = (s("/out_trade_no"), s("/out_refund_no"));
    let refund = v
        .pointer("/amount/refund")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let total = v
        .pointer("/amount/total")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if refund_no.is_empty() || refund <= 0 || s("/amount/currency") != "CNY" {
        return error(
            &st,
            StatusCode::BAD_REQUEST,
            "PARAM_ERROR",
            "参数错误",
            &what,
        );
    }
    let Some(p) = merchant_payment(&st, &mchid, &order_no) else {
        return error(
            &st,
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "订单不存在",
            &what,
        );
    };
    let result = {
        let mut g = st.lock();
        if let Some(r) = g
            .refunds
            .iter()
            .find(|r| r.provider == Provider::Wechat && r.refund_no == refund_no)
        {
            // The same out_refund_no refunds at most once.
            Ok(r.clone())
        } else if total != p.amount {
            Err(("PARAM_ERROR", "订单金额与原订单不一致"))
        } else {
            let refunded: i64 = g
                .refunds
                .iter()
                .filter(|r| r.provider == Provider::Wechat && r.order_no == order_no)
                .map(|r| r.amount)
                .sum();
            if refunded + refund > p.amount {
                Err(("INVALID_REQUEST", "申请退款金额超过订单可退金额"))
            } else {
                g.seq += 1;
                let r = SandboxRefund {
                    provider: Provider::Wechat,
                    order_no: order_no.clone(),
                    refund_no: refund_no.clone(),
                    refund_id: format!("50000{:08}{}", g.seq, random_nonce(6)),
                    txn_id: p.txn_id.clone(),
                    amount: refund,
                    currency: Currency::CNY,
                    created: chrono::Utc::now(),
                    status: "SUCCESS".into(),
                };
                g.refunds.push(r.clone());
                Ok(r)
            }
        }
    };
    match result {
        Ok(r) => {
            delay_after_commit(&st, &what).await;
            signed(&st, StatusCode::OK, refund_json(&st, &r).to_string(), &what)
        }
        Err((code, msg)) => error(&st, StatusCode::BAD_REQUEST, code, msg, &what),
    }
}

pub(crate) async fn query_refund(
    State(st): State<Shared>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = uri.path().to_string();
    let mchid = match check_auth(&st, &method, &uri, &headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) = transient(&st, &what) {
        return r;
    }
    let found = st
        .lock()
        .refunds
        .iter()
        .find(|r| r.provider == Provider::Wechat && r.refund_no == no)
        .cloned();
    // Another merchant's refund is not found (the lock above is released by now).
    let found = found.filter(|r| {
        st.payment(Provider::Wechat, &r.order_no)
            .is_none_or(|p| st.wechat_owns(&mchid, &p.account))
    });
    match found {
        Some(r) => signed(&st, StatusCode::OK, refund_json(&st, &r).to_string(), &what),
        None => error(
            &st,
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "退款单不存在",
            &what,
        ),
    }
}

pub(crate) async fn query_order(
    State(st): State<Shared>,
    Path(no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = uri.path().to_string();
    let mchid = match check_auth(&st, &method, &uri, &headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) = transient(&st, &what) {
        return r;
    }
    let Some(p) = merchant_payment(&st, &mchid, &no) else {
        return error(
            &st,
            StatusCode::NOT_FOUND,
            "ORDER_NOT_EXIST",
            "订单不存在",
            &what,
        );
    };
    let refunded = st.refunded_total(Provider::Wechat, &no);
    let body = json!({
        "mchid": mchid,
        "out_trade_no": p.order_no,
        "transaction_id": p.txn_id,
        "trade_type": "NATIVE",
        "trade_state": if refunded > 0 { "REFUND" } else { "SUCCESS" },
        "trade_state_desc": "支付成功",
        "success_time": p.paid_at.with_timezone(&chrono_tz::Asia::Shanghai).to_rfc3339(),
        "amount": {"total": p.amount, "payer_total": p.amount, "currency": "CNY", "payer_currency": "CNY"},
    });
    signed(&st, StatusCode::OK, body.to_string(), &what)
}
