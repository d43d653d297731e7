//! Alipay RSA2 cross-checked against the official Node SDK (npm `alipay-sdk` 4, see
//! tests/crosscheck/alipay.js): request signing both ways, gateway answers and notifications
//! signed the SDK's way, and tampering caught on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "crosscheck_support.rs"]
mod support;

use paydesk_providers::alipay::sign as ali;
use paydesk_providers::alipay::{AlipayAdapter, AlipayConfig, METHOD_REFUND};
use paydesk_providers::error::ErrorKind;
use paydesk_providers::http::{FixedClock, HttpOptions};
use paydesk_providers::keys::{public_key_base64, verify_sha256_b64, PrivateKey};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const APP_KEY_PKCS1: &str =
    include_str!("../../../../fixtures/keys/alipay-sdk-nodejs/app-private-key.pem");
const APP_ID: &str = "2016073100135823";
/// 2024-01-02 03:04:05 Asia/Shanghai.
const T0: i64 = 1_704_135_845;
const SCRIPT: &str = "alipay.js";
const PEERS: &[&str] = &["alipay-sdk"];

fn app_key() -> PrivateKey {
    PrivateKey::parse(APP_KEY_PKCS1).unwrap()
}

/// Paydesk's adapter with the SDK test key as app key and `alipay_key` as "Alipay's" key.
fn adapter(alipay_key: &PrivateKey) -> AlipayAdapter {
    AlipayAdapter::new(
        AlipayConfig {
            app_id: APP_ID.into(),
            gateway_url: "http://127.0.0.1:9/gateway.do".into(),
            app_private_key: SecretString::from(APP_KEY_PKCS1.to_string()),
            alipay_public_key: public_key_base64(&alipay_key.public_key()).unwrap(),
            pid: "2088000000000000".into(),
            certificates: None,
        },
        HttpOptions::default(),
    )
    .unwrap()
    .with_clock(Arc::new(FixedClock(T0)))
}

fn as_object(params: &[(String, String)]) -> Value {
    Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn as_pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
        .collect()
}

fn set(params: &mut [(String, String)], key: &str, value: &str) {
    let slot = params.iter_mut().find(|(k, _)| k == key).expect(key);
    slot.1 = value.to_string();
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key}"))
}

/// A biz_content with the characters that trip serialisers: non-ASCII, a slash, quotes.
fn refund_biz() -> Value {
    json!({
        "out_trade_no": "T20240102001",
        "out_request_no": "R-001",
        "refund_amount": "88.88",
        "refund_reason": "顾客退货 \"尺码\" 1/2",
    })
}

#[test]
fn crosscheck_alipay_sdk_verifies_paydesk_requests() {
    let Some(node) = support::node_with("crosscheck_alipay_sdk_verifies_paydesk_requests", PEERS)
    else {
        return;
    };
    let app_pub = public_key_base64(&app_key().public_key()).unwrap();
    let params = adapter(&app_key())
        .signed_params(METHOD_REFUND, &refund_biz())
        .unwrap();
    // Paydesk never sends an empty value, so the SDK's `k=` rule and Alipay's "drop empty
    // values" rule give the same content for its requests.
    assert!(params.iter().all(|(k, v)| !k.is_empty() && !v.is_empty()));
    assert_eq!(get(&params, "sign_type"), "RSA2");
    assert_eq!(get(&params, "timestamp"), "2024-01-02 03:04:05");

    let mut tampered_amount = params.clone();
    let biz = get(&params, "biz_content").replace("88.88", "88.89");
    set(&mut tampered_amount, "biz_content", &biz);
    let mut tampered_method = params.clone();
    set(&mut tampered_method, "method", "alipay.trade.query");
    let without_sign_type: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "sign_type")
        .cloned()
        .collect();
    let other_key = PrivateKey::parse(include_str!(
        "../../../../fixtures/keys/wechatpay-go/testing-key.pem"
    ))
    .unwrap();

    let req = |p: &[(String, String)], key: &str| json!({"op": "check_request", "public_key": key, "params": as_object(p)});
    let other_pub = public_key_base64(&other_key.public_key()).unwrap();
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            req(&params, &app_pub),
            req(&tampered_amount, &app_pub),
            req(&tampered_method, &app_pub),
            req(&without_sign_type, &app_pub),
            req(&params, &other_pub),
        ],
    );
    assert_eq!(
        a[0]["strict"], true,
        "SDK rejects Paydesk's request: {}",
        a[0]
    );
    assert_eq!(a[0]["lenient"], true, "{}", a[0]);
    for (i, what) in [
        (1, "tampered amount"),
        (2, "tampered method"),
        (4, "wrong public key"),
    ] {
        assert_eq!(a[i]["strict"], false, "SDK accepted {what}: {}", a[i]);
        assert_eq!(a[i]["lenient"], false, "SDK accepted {what}: {}", a[i]);
    }
    // sign_type is part of the signed request content. (checkNotifySign puts a missing
    // sign_type back as its configured "RSA2" before checking, so only the strict check,
    // over exactly the fields sent, can see that it was removed.)
    assert_eq!(
        a[3]["strict"], false,
        "SDK accepted sign_type removed: {}",
        a[3]
    );
    // Paydesk's own verification agrees on every case.
    let pk = app_key().public_key();
    let ok = |p: &[(String, String)]| {
        verify_sha256_b64(&pk, ali::request_sign_content(p).as_bytes(), get(p, "sign"))
    };
    assert!(ok(&params));
    assert!(!ok(&tampered_amount));
    assert!(!ok(&tampered_method));
    assert!(!ok(&without_sign_type));
}

#[test]
fn crosscheck_paydesk_verifies_alipay_sdk_requests() {
    let Some(node) = support::node_with("crosscheck_paydesk_verifies_alipay_sdk_requests", PEERS)
    else {
        return;
    };
    let pkcs1 = app_key();
    // The same key as PKCS#8: the Node SDK must be told `keyType: 'PKCS8'` for it.
    let pkcs8_pem = pkcs1.to_pkcs8_pem().unwrap();
    let biz = refund_biz().to_string();
    let extra = json!({"timestamp": "2024-01-02 03:04:05", "notify_url": "https://m.example.com/n?a=1&b=2"});
    let sign_req = |key: &str, key_type: &str| {
        json!({"op": "sign_request", "private_key": key, "key_type": key_type, "app_id": APP_ID,
               "method": METHOD_REFUND, "biz_content": biz, "extra": extra})
    };
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            sign_req(APP_KEY_PKCS1, "PKCS1"),
            sign_req(&pkcs8_pem, "PKCS8"),
        ],
    );
    let pk = pkcs1.public_key();
    for answer in &a {
        let params = as_pairs(&answer["params"]);
        // The SDK sent exactly Paydesk's biz_content text (so both sign the same bytes).
        assert_eq!(get(&params, "biz_content"), biz);
        assert_eq!(get(&params, "sign_type"), "RSA2");
        assert_eq!(get(&params, "app_id"), APP_ID);
        let sdk_sign = get(&params, "sign").to_string();
        // Paydesk verifies the SDK's signature under its request rule...
        let content = ali::request_sign_content(&params);
        assert!(
            verify_sha256_b64(&pk, content.as_bytes(), &sdk_sign),
            "Paydesk rejects the SDK's request signature over {content}"
        );
        // ...and, PKCS#1 v1.5 being deterministic, signs the same parameters to the same bytes.
        assert_eq!(ali::sign_request(&params, &pkcs1).unwrap(), sdk_sign);
        // Tampering is caught.
        let mut t = params.clone();
        set(&mut t, "notify_url", "https://evil.example.com/n");
        assert!(!verify_sha256_b64(
            &pk,
            ali::request_sign_content(&t).as_bytes(),
            &sdk_sign
        ));
    }
}

/// Documents the one place the SDK and Alipay's Java server disagree: the SDK signs an empty
/// value as `k=`, Alipay (and Paydesk) leave it out. Paydesk never sends empty values.
#[test]
fn crosscheck_alipay_empty_values_sdk_vs_paydesk() {
    let Some(node) = support::node_with("crosscheck_alipay_empty_values_sdk_vs_paydesk", PEERS)
    else {
        return;
    };
    let a = support::run_json(
        &node,
        SCRIPT,
        &json!({"op": "sign_request", "private_key": APP_KEY_PKCS1, "key_type": "PKCS1",
                "app_id": APP_ID, "method": METHOD_REFUND, "biz_content": refund_biz().to_string(),
                "extra": {"timestamp": "2024-01-02 03:04:05", "notify_url": ""}}),
    );
    let params = as_pairs(&a["params"]);
    assert_eq!(get(&params, "notify_url"), "");
    let pk = app_key().public_key();
    let paydesk_content = ali::request_sign_content(&params);
    assert!(!paydesk_content.contains("notify_url"));
    // The SDK's rule: every parameter but `sign`, empty ones included as `k=`.
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|(k, _)| k != "sign")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    let sdk_content = pairs.join("&");
    assert!(sdk_content.contains("&notify_url=&"));
    assert!(verify_sha256_b64(
        &pk,
        sdk_content.as_bytes(),
        get(&params, "sign")
    ));
    assert!(!verify_sha256_b64(
        &pk,
        paydesk_content.as_bytes(),
        get(&params, "sign")
    ));
}

#[test]
fn crosscheck_paydesk_verifies_answers_signed_the_alipay_sdk_way() {
    let Some(node) = support::node_with(
        "crosscheck_paydesk_verifies_answers_signed_the_alipay_sdk_way",
        PEERS,
    ) else {
        return;
    };
    // "Alipay's" key for this test: the WeChat fixture key (PKCS#8), any RSA key will do.
    let alipay_pem = include_str!("../../../../fixtures/keys/wechatpay-go/testing-key.pem");
    let alipay_key = PrivateKey::parse(alipay_pem).unwrap();
    let alipay_pub = public_key_base64(&alipay_key.public_key()).unwrap();
    let response_key = ali::response_key(METHOD_REFUND);
    // Raw payload as Alipay writes it: escaped slashes, unicode, a nested "sign" key.
    let content = r#"{"code":"10000","msg":"Success","trade_no":"2024010222001400000000000001","out_trade_no":"T20240102001","buyer_logon_id":"159****5620","fund_change":"Y","refund_fee":"88.88","gmt_refund_pay":"2024-01-02 03:04:06","store_name":"测试门店 \"一号\"","detail_url":"https:\/\/m.example.com\/r?id=1","extra":{"sign":"inner"}}"#;
    let a = support::run_json(
        &node,
        SCRIPT,
        &json!({"op": "sign_response", "private_key": alipay_pem, "key_type": "PKCS8",
                "response_key": response_key, "content": content}),
    );
    let body = a["body"].as_str().unwrap().to_string();
    let tampered = body.replace("88.88", "88.89");
    let check = |b: &str, key: &str| json!({"op": "check_response", "public_key": key, "response_key": response_key, "body": b});
    let other_pub = public_key_base64(&app_key().public_key()).unwrap();
    let c = support::run_batch(
        &node,
        SCRIPT,
        vec![
            check(&body, &alipay_pub),
            check(&tampered, &alipay_pub),
            check(&body, &other_pub),
        ],
    );
    assert_eq!(c[0]["ok"], true, "the SDK rejects its own answer: {}", c[0]);
    assert_eq!(c[1]["ok"], false, "the SDK accepted a tampered answer");
    assert_eq!(c[2]["ok"], false, "the SDK accepted the wrong key");

    // Paydesk extracts the same signed text as the SDK and verifies it.
    let parts = ali::extract_response(&body, METHOD_REFUND).unwrap();
    assert_eq!(parts.content, content);
    assert_eq!(c[0]["content"].as_str(), Some(content));
    assert!(ali::verify_response(&parts, &alipay_key.public_key()));
    let obj: Map<String, Value> = adapter(&alipay_key)
        .parse_answer(METHOD_REFUND, body.as_bytes())
        .expect("Paydesk rejects an answer the SDK accepts");
    assert_eq!(obj["refund_fee"], "88.88");
    assert_eq!(obj["store_name"], "测试门店 \"一号\"");

    let e = adapter(&alipay_key)
        .parse_answer(METHOD_REFUND, tampered.as_bytes())
        .expect_err("Paydesk accepted a tampered answer");
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e:?}");
    let e = adapter(&app_key())
        .parse_answer(METHOD_REFUND, body.as_bytes())
        .expect_err("Paydesk accepted the wrong key");
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e:?}");
}

fn notification() -> Vec<(String, String)> {
    [
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2024010200222030406000000000000001"),
        ("notify_time", "2024-01-02 03:04:10"),
        ("app_id", APP_ID),
        ("auth_app_id", APP_ID),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("trade_no", "2024010222001400000000000001"),
        ("out_trade_no", "T20240102001"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.88"),
        ("receipt_amount", "88.88"),
        ("buyer_pay_amount", "88.88"),
        ("subject", "语雀空间 500人规模"),
        (
            "fund_bill_list",
            r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
        ("gmt_payment", "2024-01-02 03:04:08"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn crosscheck_alipay_notifications_both_ways() {
    let Some(node) = support::node_with("crosscheck_alipay_notifications_both_ways", PEERS) else {
        return;
    };
    let key = app_key();
    let pk = key.public_key();
    let pub_b64 = public_key_base64(&pk).unwrap();
    let base = notification();

    // Paydesk-signed (V1: sign and sign_type left out), the way Alipay signs notifications.
    let mut paydesk_signed = base.clone();
    let sig = key
        .sign_sha256_b64(ali::notify_sign_content_v1(&base).as_bytes())
        .unwrap();
    paydesk_signed.push(("sign".into(), sig));
    let mut paydesk_tampered = paydesk_signed.clone();
    set(&mut paydesk_tampered, "total_amount", "888.80");

    let sign_notify = |keep: bool| {
        json!({"op": "sign_notify", "private_key": APP_KEY_PKCS1, "key_type": "PKCS1",
               "public_key": pub_b64, "params": as_object(&base), "keep_sign_type": keep})
    };
    let check = |p: &[(String, String)]| json!({"op": "check_notify", "public_key": pub_b64, "params": as_object(p)});
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            sign_notify(false),
            sign_notify(true),
            check(&paydesk_signed),
            check(&paydesk_tampered),
        ],
    );
    // The SDK accepts Paydesk's notification, strictly under V1, and rejects the tampered one.
    assert_eq!(a[2]["strict_v1"], true, "{}", a[2]);
    assert_eq!(a[2]["lenient"], true, "{}", a[2]);
    assert_eq!(a[3]["strict_v1"], false, "{}", a[3]);
    assert_eq!(a[3]["lenient"], false, "{}", a[3]);
    // The content the SDK signed is Paydesk's V1 content.
    assert_eq!(
        a[0]["content"].as_str(),
        Some(ali::notify_sign_content_v1(&base).as_str())
    );

    // Paydesk accepts the SDK-signed V1 notification and rejects it once tampered.
    let sdk_v1 = as_pairs(&a[0]["params"]);
    assert!(ali::verify_notify_v1(&sdk_v1, &pk));
    let mut t = sdk_v1.clone();
    set(&mut t, "trade_status", "TRADE_FINISHED");
    assert!(!ali::verify_notify_v1(&t, &pk));
    let mut t = sdk_v1.clone();
    set(&mut t, "subject", "语雀空间 600人规模");
    assert!(!ali::verify_notify_v1(&t, &pk));

    // Signed with sign_type kept (the V2 / request rule): the SDK's check accepts it (it tries
    // both rules), Paydesk's payment-notification check (V1 only) does not.
    let sdk_v2 = as_pairs(&a[1]["params"]);
    let v2_check = support::run_json(&node, SCRIPT, &check(&sdk_v2));
    assert_eq!(v2_check["lenient"], true, "{v2_check}");
    assert_eq!(v2_check["strict_v1"], false, "{v2_check}");
    assert!(!ali::verify_notify_v1(&sdk_v2, &pk));
}
