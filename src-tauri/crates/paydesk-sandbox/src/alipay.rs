//! Alipay OpenAPI gateway simulator (RSA2; public-key mode, or certificate mode once
//! switched on, see `alipay_certs`).

use crate::state::{FaultKind, SandboxRefund, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use paydesk_core::money::parse_minor;
use paydesk_core::{BillDate, Currency, Provider};
use paydesk_providers::alipay::sign::{request_sign_content, response_key};
use paydesk_providers::keys::verify_sha256_b64;
use serde_json::{json, Value};
use std::collections::HashMap;

fn respond(st: &Shared, key: &str, content: &Value, corrupt: bool) -> Response {
    // Alipay escapes '/' as '\/': the client must verify the raw text, not a re-serialization.
    let text = content.to_string().replace('/', "\\/");
    // Certificate mode: signed with the current Alipay certificate's key, named by its SN.
    let cert_signer = st.lock().alipay_ca.as_ref().and_then(|ca| {
        ca.current()
            .map(|(k, _)| (k.clone(), ca.current_sn.clone()))
    });
    let signer = cert_signer.as_ref().map_or(&st.cfg.keys.alipay, |(k, _)| k);
    let mut sign = signer.sign_sha256_b64(text.as_bytes()).unwrap_or_default();
    if corrupt {
        sign = flip_b64(&sign);
    }
    let cert_sn = cert_signer
        .map(|(_, sn)| format!(",\"alipay_cert_sn\":\"{sn}\""))
        .unwrap_or_default();
    let body = format!("{{\"{key}\":{text},\"sign\":\"{sign}\"{cert_sn}}}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

/// Changes one character of a base64 signature (keeps it decodable).
pub(crate) fn flip_b64(s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if let Some(x) = c.get_mut(10) {
        *x = if *x == 'A' { 'B' } else { 'A' };
    }
    c.into_iter().collect()
}

fn error(code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> Value {
    json!({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})
}

fn yuan(minor: i64) -> String {
    Currency::CNY.format_minor(minor)
}

pub(crate) async fn gateway(State(st): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(q) = uri.query() {
        params.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    params.extend(url::form_urlencoded::parse(&body).into_owned());
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let method = get("method");
    let key = if method.is_empty() {
        "error_response".to_string()
    } else {
        response_key(&method)
    };
    let corrupt = st
        .take_fault(Provider::Alipay, &method, |k| {
            *k == FaultKind::CorruptSignature
        })
        .is_some();

    if st
        .take_fault(Provider::Alipay, &method, |k| {
            *k == FaultKind::UnverifiedRefusal
        })
        .is_some()
    {
        let content = error(
            "40004",
            "Business Failed",
            "ACQ.TRADE_NOT_EXIST",
            "交易不存在",
        );
        // No `sign`: what an unsigned gateway error looks like.
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
            format!("{{\"{key}\":{content}}}"),
        )
            .into_response();
    }
    if get("app_id") != st.cfg.alipay_app_id {
        return respond(
            &st,
            &key,
            &error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-app-id",
                "无效的AppID参数",
            ),
            corrupt,
        );
    }
    if get("sign_type") != "RSA2" {
        return respond(
            &st,
            &key,
            &error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-signature-type",
                "无效的签名类型",
            ),
            corrupt,
        );
    }
    let content = request_sign_content(&params);
    let signature = get("sign");
    // Certificate mode: the request names its app certificate and the root by SN, and must
    // verify with the key of that app certificate.
    let cert_mode = {
        let inner = st.lock();
        inner.alipay_ca.as_ref().map(|ca| {
            (
                ca.app_certs.get(&get("app_cert_sn")).cloned(),
                ca.root_sn == get("alipay_root_cert_sn"),
            )
        })
    };
    let app_keys = match cert_mode {
        None => st.alipay_app_keys(),
        Some((None, _)) => {
            let sub = if get("app_cert_sn").is_empty() {
                "缺少应用公钥证书序列号(app_cert_sn)"
            } else {
                "应用公钥证书序列号不匹配"
            };
            return respond(
                &st,
                &key,
                &error(
                    "40002",
                    "Invalid Arguments",
                    "isv.app-cert-sn-not-match",
                    sub,
                ),
                corrupt,
            );
        }
        Some((Some(_), false)) => {
            return respond(
                &st,
                &key,
                &error(
                    "40002",
                    "Invalid Arguments",
                    "isv.alipay-root-cert-sn-not-match",
                    "支付宝根证书序列号不匹配",
                ),
                corrupt,
            );
        }
        Some((Some(k), true)) => vec![k],
    };
    if !app_keys
        .iter()
        .any(|k| verify_sha256_b64(k, content.as_bytes(), &signature))
    {
        return respond(
            &st,
            &key,
            &error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-signature",
                "验签出错",
            ),
            corrupt,
        );
    }
    if let Some(k) = st.take_fault(Provider::Alipay, &method, |k| {
        matches!(k, FaultKind::SystemError | FaultKind::RateLimited)
    }) {
        let v = match k {
            FaultKind::RateLimited => {
                error("40004", "Business Failed", "ACQ.SYSTEM_ERROR", "系统繁忙")
            }
            _ => error("40004", "Business Failed", "ACQ.SYSTEM_ERROR", "系统错误"),
        };
        return respond(&st, &key, &v, corrupt);
    }
    let biz: HashMap<String, Value> = serde_json::from_str(&get("biz_content")).unwrap_or_default();
    let b = |k: &str| biz.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let answer = match method.as_str() {
        "alipay.data.dataservice.bill.downloadurl.query" => {
            bill_url(&st, &b("bill_type"), &b("bill_date"), &method)
        }
        "alipay.trade.query" => trade_query(&st, &b("out_trade_no")),
        "alipay.trade.refund" => refund(
            &st,
            &b("out_trade_no"),
            &b("refund_amount"),
            &b("out_request_no"),
        ),
        "alipay.trade.fastpay.refund.query" => {
            refund_query(&st, &b("out_trade_no"), &b("out_request_no"))
        }
        "alipay.open.app.alipaycert.download" => cert_download(&st, &b("alipay_cert_sn")),
        _ => error(
            "40004",
            "Business Failed",
            "isv.invalid-method",
            "不存在的方法名",
        ),
    };
    if let Some(FaultKind::DelayAfterCommit { millis }) =
        st.take_fault(Provider::Alipay, &method, |k| {
            matches!(k, FaultKind::DelayAfterCommit { .. })
        })
    {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
    respond(&st, &key, &answer, corrupt)
}

/// `alipay.open.app.alipaycert.download`: the Alipay certificate (with its CA) by SN,
/// base64 of the PEM.
fn cert_download(st: &Shared, sn: &str) -> Value {
    use base64::Engine;
    let inner = st.lock();
    match inner
        .alipay_ca
        .as_ref()
        .and_then(|ca| ca.alipay_certs.get(sn))
    {
        Some((_, pem)) => ok(json!({
            "alipay_cert_content": base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
        })),
        None => error(
            "40004",
            "Business Failed",
            "isv.alipay-cert-not-exist",
            "支付宝公钥证书不存在",
        ),
    }
}

fn ok(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.insert("code".into(), json!("10000"));
        m.insert("msg".into(), json!("Success"));
    }
    v
}

fn bill_url(st: &Shared, bill_type: &str, bill_date: &str, method: &str) -> Value {
    if bill_type == "signcustomer" {
        return accountlog_url(st, bill_date, method);
    }
    if bill_type != "trade" {
        return error(
            "40004",
            "Business Failed",
            "isp.bill_type_not_supported",
            "sandbox serves trade and signcustomer bills",
        );
    }
    let Ok(date) = BillDate::parse(bill_date) else {
        return error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-parameter",
            "参数不合法",
        );
    };
    if st
        .take_fault(Provider::Alipay, method, |k| {
            *k == FaultKind::StatementNotReady
        })
        .is_some()
    {
        return error(
            "40004",
            "Business Failed",
            "isp.bill_not_ready",
            "账单生成中",
        );
    }
    let lines = st.statement_lines(Provider::Alipay, date);
    if lines.is_empty() {
        return error(
            "40004",
            "Business Failed",
            "isp.bill_not_exist",
            "账单不存在",
        );
    }
    let zip =
        match paydesk_providers::statement::write_alipay_bill_zip(&lines, &st.cfg.alipay_pid, date)
        {
            Ok(z) => z,
            Err(e) => {
                return error(
                    "20000",
                    "Service Currently Unavailable",
                    "isp.unknow-error",
                    &e.to_string(),
                )
            }
        };
    let token = st.store_file(zip);
    let name = format!(
        "{}0156_{}.csv.zip",
        st.cfg.alipay_pid,
        date.0.format("%Y%m%d")
    );
    ok(json!({
        "bill_download_url": format!(
            "{}/alipay/bill/{token}?bizType=trade&userId={}0156&fileType=csv.zip&bizDates={}&downloadFileName={name}",
            st.base_url, st.cfg.alipay_pid, date.0.format("%Y%m%d")
        )
    }))
}

/// `bill_type=signcustomer`: the 账务明细 ZIP of the day (Beijing), every movement of the
/// merchant's balance, behind a download URL with `bizType=fnd`.
fn accountlog_url(st: &Shared, bill_date: &str, method: &str) -> Value {
    let Ok(date) = BillDate::parse(bill_date) else {
        return error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-parameter",
            "参数不合法",
        );
    };
    if st
        .take_fault(Provider::Alipay, method, |k| {
            *k == FaultKind::StatementNotReady
        })
        .is_some()
    {
        return error(
            "40004",
            "Business Failed",
            "isp.bill_not_ready",
            "账单生成中",
        );
    }
    let flows = {
        let g = st.lock();
        crate::fundflow::ledger(&g, Provider::Alipay, Provider::Alipay.as_str(), &|_| true)
            .flows_on(Provider::Alipay, date.0)
    };
    if flows.is_empty() {
        return error(
            "40004",
            "Business Failed",
            "isp.bill_not_exist",
            "账单不存在",
        );
    }
    let zip = match paydesk_providers::fundflow::write_alipay_accountlog_zip(
        &st.cfg.alipay_pid,
        date.0,
        &flows,
    ) {
        Ok(z) => z,
        Err(e) => {
            return error(
                "20000",
                "Service Currently Unavailable",
                "isp.unknow-error",
                &e.to_string(),
            )
        }
    };
    let token = st.store_file(zip);
    let day = date.0.format("%Y%m%d");
    let name = format!("{}0156_{day}_fnd.csv.zip", st.cfg.alipay_pid);
    ok(json!({
        "bill_download_url": format!(
            "{}/alipay/bill/{token}?bizType=fnd&userId={}0156&fileType=csv.zip&bizDates={day}&downloadFileName={name}",
            st.base_url, st.cfg.alipay_pid
        )
    }))
}

pub(crate) async fn bill(State(st): State<Shared>, Path(token): Path<String>) -> Response {
    let bytes = st.lock().files.get(&token).cloned();
    match bytes {
        Some(b) => ([(header::CONTENT_TYPE, "application/zip")], b).into_response(),
        None => (StatusCode::NOT_FOUND, "下载超时，请重新下载").into_response(),
    }
}

fn trade_query(st: &Shared, order_no: &str) -> Value {
    let Some(p) = st.payment(Provider::Alipay, order_no) else {
        return error(
            "40004",
            "Business Failed",
            "ACQ.TRADE_NOT_EXIST",
            "交易不存在",
        );
    };
    let refunded = st.refunded_total(Provider::Alipay, order_no);
    let status = if refunded >= p.amount {
        "TRADE_CLOSED"
    } else {
        "TRADE_SUCCESS"
    };
    ok(json!({
        "trade_no": p.txn_id,
        "out_trade_no": p.order_no,
        "trade_status": status,
        "total_amount": yuan(p.amount),
        "send_pay_date": p.paid_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
    }))
}

fn refund(st: &Shared, order_no: &str, amount: &str, out_request_no: &str) -> Value {
    let Some(p) = st.payment(Provider::Alipay, order_no) else {
        return error(
            "40004",
            "Business Failed",
            "ACQ.TRADE_NOT_EXIST",
            "交易不存在",
        );
    };
    let Ok(minor) = parse_minor(amount, Currency::CNY) else {
        return error(
            "40002",
            "Invalid Arguments",
            "ACQ.INVALID_PARAMETER",
            "refund_amount 不合法",
        );
    };
    if minor <= 0 {
        return error(
            "40004",
            "Business Failed",
            "ACQ.INVALID_PARAMETER",
            "退款金额不合法",
        );
    }
    let request_no = if out_request_no.is_empty() {
        order_no
    } else {
        out_request_no
    };
    let mut g = st.lock();
    let existing = g
        .refunds
        .iter()
        .find(|r| {
            r.provider == Provider::Alipay && r.order_no == order_no && r.refund_no == request_no
        })
        .cloned();
    let refunded: i64 = g
        .refunds
        .iter()
        .filter(|r| r.provider == Provider::Alipay && r.order_no == order_no)
        .map(|r| r.amount)
        .sum();
    if let Some(r) = existing {
        if r.amount != minor {
            return error(
                "40004",
                "Business Failed",
                "ACQ.DISCORDANT_REPEAT_REQUEST",
                "请求信息不一致",
            );
        }
        return ok(
            json!({"trade_no": p.txn_id, "out_trade_no": order_no, "fund_change": "N", "refund_fee": yuan(refunded)}),
        );
    }
    if refunded + minor > p.amount {
        return error(
            "40004",
            "Business Failed",
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
            "退款金额超限",
        );
    }
    g.seq += 1;
    let refund_id = format!("{}{:04}", p.txn_id, g.seq);
    g.refunds.push(SandboxRefund {
        provider: Provider::Alipay,
        order_no: order_no.to_string(),
        refund_no: request_no.to_string(),
        refund_id,
        txn_id: p.txn_id.clone(),
        amount: minor,
        currency: Currency::CNY,
        created: chrono::Utc::now(),
        status: "REFUND_SUCCESS".into(),
    });
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    ok(json!({
        "trade_no": p.txn_id,
        "out_trade_no": order_no,
        "fund_change": "Y",
        "refund_fee": yuan(refunded + minor),
        "gmt_refund_pay": now.format("%Y-%m-%d %H:%M:%S").to_string(),
    }))
}

fn refund_query(st: &Shared, order_no: &str, out_request_no: &str) -> Value {
    let g = st.lock();
    let Some(p) = g
        .payments
        .iter()
        .find(|p| p.provider == Provider::Alipay && p.order_no == order_no)
    else {
        return error(
            "40004",
            "Business Failed",
            "ACQ.TRADE_NOT_EXIST",
            "交易不存在",
        );
    };
    match g.refunds.iter().find(|r| {
        r.provider == Provider::Alipay && r.order_no == order_no && r.refund_no == out_request_no
    }) {
        Some(r) => ok(json!({
            "trade_no": p.txn_id,
            "out_trade_no": order_no,
            "out_request_no": r.refund_no,
            "refund_amount": yuan(r.amount),
            "total_amount": yuan(p.amount),
            "refund_status": "REFUND_SUCCESS",
        })),
        // Alipay answers 10000 without business data when the refund does not exist.
        None => ok(json!({})),
    }
}
