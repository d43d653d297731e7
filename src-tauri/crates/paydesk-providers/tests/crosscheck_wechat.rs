//! WeChat Pay API v3 cross-checked against npm `wechatpay-axios-plugin` 0.9 (see
//! tests/crosscheck/wechat.js): the request Authorization both ways, response signatures
//! (`Wechatpay-Timestamp/Nonce/Signature/Serial`) both ways, and AEAD_AES_256_GCM both ways with
//! tag tampering rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "crosscheck_support.rs"]
mod support;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use paydesk_providers::http::random_nonce;
use paydesk_providers::keys::{public_key_pem, verify_sha256_b64, PrivateKey};
use paydesk_providers::wechat::sign::{self as wx, AeadError, SignedHeaders, VerifyError};
use serde_json::{json, Value};
use std::collections::HashMap;

const MERCHANT_KEY: &str = include_str!("../../../../fixtures/keys/wechatpay-go/testing-key.pem");
/// Stands in for the WeChat Pay platform key (any RSA key will do).
const PLATFORM_KEY: &str =
    include_str!("../../../../fixtures/keys/alipay-sdk-nodejs/app-private-key.pem");
const MCHID: &str = "1900000109";
const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const PLATFORM_SERIAL: &str = "7132D72A03E93CDDF8C03BBD1F37EEDF204F9C8B";
const SCRIPT: &str = "wechat.js";
const PEERS: &[&str] = &["wechatpay-axios-plugin"];

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn refund_body() -> String {
    json!({
        "out_trade_no": "T20240102001",
        "out_refund_no": "R-001",
        "reason": "顾客退货 \"尺码\" 1/2",
        "amount": {"refund": 8888, "total": 10000, "currency": "CNY"}
    })
    .to_string()
}

#[test]
fn crosscheck_wechat_plugin_verifies_paydesk_authorization() {
    let Some(node) = support::node_with(
        "crosscheck_wechat_plugin_verifies_paydesk_authorization",
        PEERS,
    ) else {
        return;
    };
    let key = PrivateKey::parse(MERCHANT_KEY).unwrap();
    let pub_pem = public_key_pem(&key.public_key()).unwrap();
    let body = refund_body();
    let cases: Vec<(&str, &str, String)> = vec![
        ("POST", "/v3/refund/domestic/refunds", body.clone()),
        (
            "GET",
            "/v3/refund/domestic/refunds/R-001?sub_mchid=1900000110",
            String::new(),
        ),
        ("GET", "/v3/certificates", String::new()),
    ];
    let ts = now();
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for (method, uri, body) in &cases {
        let nonce = random_nonce(32);
        let auth = wx::sign_request(&key, MCHID, SERIAL, method, uri, ts, &nonce, body).unwrap();
        let check = |m: &str, u: &str, b: &str| {
            json!({"op": "check_authorization", "public_key": pub_pem, "method": m, "uri": u,
                   "body": b, "authorization": auth})
        };
        requests.push(check(method, uri, body));
        // Tampered: other body, other path, other method.
        requests.push(check(method, uri, &format!("{body} ")));
        requests.push(check(method, &format!("{uri}/x"), body));
        requests.push(check(
            if *method == "GET" { "POST" } else { "GET" },
            uri,
            body,
        ));
        expected.push((wx::request_message(method, uri, ts, &nonce, body), auth));
    }
    let a = support::run_batch(&node, SCRIPT, requests);
    for (i, (message, auth)) in expected.iter().enumerate() {
        let ok = &a[i * 4];
        assert_eq!(
            ok["verified"], true,
            "plugin rejects Paydesk's {auth}: {ok}"
        );
        // The plugin's Formatter.request builds byte-for-byte Paydesk's message.
        assert_eq!(ok["message"].as_str(), Some(message.as_str()));
        for bad in &a[i * 4 + 1..i * 4 + 4] {
            assert_eq!(
                bad["verified"], false,
                "plugin accepted a tampered request: {bad}"
            );
        }
        // The plugin's header layout (other field order) parses to the same fields in Paydesk.
        let mine = wx::parse_authorization(auth).unwrap();
        let theirs = wx::parse_authorization(ok["rebuilt"].as_str().unwrap()).unwrap();
        assert_eq!(mine, theirs);
        assert_eq!(theirs.mchid, MCHID);
        assert_eq!(theirs.serial_no, SERIAL);
    }
}

#[test]
fn crosscheck_paydesk_verifies_plugin_authorization() {
    let Some(node) = support::node_with("crosscheck_paydesk_verifies_plugin_authorization", PEERS)
    else {
        return;
    };
    let key = PrivateKey::parse(MERCHANT_KEY).unwrap();
    let pk = key.public_key();
    let data: Value = serde_json::from_str(&refund_body()).unwrap();
    let sign = |method: &str, url: &str, data: Option<&Value>| {
        let mut r = json!({"op": "sign_request", "private_key": MERCHANT_KEY, "mchid": MCHID,
                           "serial": SERIAL, "method": method, "url": url});
        if let Some(d) = data {
            r["data"] = d.clone();
        }
        r
    };
    let cases = [
        ("POST", "/v3/refund/domestic/refunds"),
        (
            "GET",
            "/v3/refund/domestic/refunds/R-001?sub_mchid=1900000110",
        ),
    ];
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            sign("post", cases[0].1, Some(&data)),
            sign("get", cases[1].1, None),
        ],
    );
    for ((method, uri), answer) in cases.iter().zip(&a) {
        let auth = answer["authorization"].as_str().unwrap();
        let body = answer["body"].as_str().unwrap();
        let f = wx::parse_authorization(auth)
            .unwrap_or_else(|| panic!("Paydesk cannot parse the plugin's header {auth}"));
        assert_eq!((f.mchid.as_str(), f.serial_no.as_str()), (MCHID, SERIAL));
        let ts: i64 = f.timestamp.parse().unwrap();
        assert!((now() - ts).abs() < 60);
        let msg = wx::request_message(method, uri, ts, &f.nonce_str, body);
        assert!(
            verify_sha256_b64(&pk, msg.as_bytes(), &f.signature),
            "Paydesk's message does not verify the plugin's signature: {msg:?}"
        );
        // Same inputs, same (deterministic PKCS#1 v1.5) signature, same header fields.
        let mine =
            wx::sign_request(&key, MCHID, SERIAL, method, uri, ts, &f.nonce_str, body).unwrap();
        assert_eq!(wx::parse_authorization(&mine).unwrap(), f);
        // Tampering is caught.
        let msg = wx::request_message(method, uri, ts, &f.nonce_str, &format!("{body}x"));
        assert!(!verify_sha256_b64(&pk, msg.as_bytes(), &f.signature));
        let msg = wx::request_message(method, uri, ts + 1, &f.nonce_str, body);
        assert!(!verify_sha256_b64(&pk, msg.as_bytes(), &f.signature));
    }
}

fn headers_from(v: &Value) -> SignedHeaders {
    let h = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| panic!("no {k}"))
            .to_string()
    };
    SignedHeaders {
        timestamp: h("Wechatpay-Timestamp"),
        nonce: h("Wechatpay-Nonce"),
        signature: h("Wechatpay-Signature"),
        serial: h("Wechatpay-Serial"),
    }
}

fn headers_json(h: &SignedHeaders) -> Value {
    json!({
        "Wechatpay-Timestamp": h.timestamp,
        "Wechatpay-Nonce": h.nonce,
        "Wechatpay-Signature": h.signature,
        "Wechatpay-Serial": h.serial,
    })
}

#[test]
fn crosscheck_wechat_response_signatures_both_ways() {
    let Some(node) = support::node_with("crosscheck_wechat_response_signatures_both_ways", PEERS)
    else {
        return;
    };
    let platform = PrivateKey::parse(PLATFORM_KEY).unwrap();
    let platform_pem = public_key_pem(&platform.public_key()).unwrap();
    let mut keys = HashMap::new();
    keys.insert(PLATFORM_SERIAL.to_string(), platform.public_key());
    let body = r#"{"refund_id":"50000000382019052709732678859","out_refund_no":"R-001","status":"SUCCESS","amount":{"refund":8888,"total":10000,"currency":"CNY"},"user_received_account":"招商银行信用卡0403"}"#;
    let url = "/v3/refund/domestic/refunds/R-001";
    let t_now = now();

    // Plugin signs, Paydesk verifies.
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            json!({"op": "sign_response", "private_key": PLATFORM_KEY, "serial": PLATFORM_SERIAL,
                   "body": body}),
            json!({"op": "sign_response", "private_key": PLATFORM_KEY, "serial": PLATFORM_SERIAL,
                   "body": "", "timestamp": t_now}),
        ],
    );
    let h = headers_from(&a[0]["headers"]);
    wx::verify_response(&h, body.as_bytes(), &keys, now())
        .expect("Paydesk rejects a response the plugin signed");
    // Empty body (HTTP 204 answers) verifies too.
    wx::verify_response(&headers_from(&a[1]["headers"]), b"", &keys, now())
        .expect("Paydesk rejects a signed empty body");
    let tampered = body.replace("8888", "9888");
    assert!(matches!(
        wx::verify_response(&h, tampered.as_bytes(), &keys, now()),
        Err(VerifyError::BadSignature(_))
    ));
    let mut other_serial = h.clone();
    other_serial.serial = "0000000000000000000000000000000000000000".into();
    assert!(matches!(
        wx::verify_response(&other_serial, body.as_bytes(), &keys, now()),
        Err(VerifyError::UnknownSerial(_))
    ));

    // Paydesk signs (the sandbox's side), the plugin's response verifier accepts.
    let nonce = random_nonce(32);
    let ts = t_now.to_string();
    let sig = platform
        .sign_sha256_b64(&wx::response_message(&ts, &nonce, body.as_bytes()))
        .unwrap();
    let mine = SignedHeaders {
        timestamp: ts.clone(),
        nonce: nonce.clone(),
        signature: sig.clone(),
        serial: PLATFORM_SERIAL.into(),
    };
    let stale_ts = (t_now - 600).to_string();
    let stale = SignedHeaders {
        timestamp: stale_ts.clone(),
        nonce: nonce.clone(),
        signature: platform
            .sign_sha256_b64(&wx::response_message(&stale_ts, &nonce, body.as_bytes()))
            .unwrap(),
        serial: PLATFORM_SERIAL.into(),
    };
    let verify = |h: &SignedHeaders, b: &str| {
        json!({"op": "verify_response", "certs": {PLATFORM_SERIAL: platform_pem}, "url": url,
               "headers": headers_json(h), "body": b})
    };
    let v = support::run_batch(
        &node,
        SCRIPT,
        vec![
            verify(&mine, body),
            verify(&mine, &tampered),
            verify(&other_serial, body),
            verify(&stale, body),
            verify(&h, body),
        ],
    );
    assert_eq!(
        v[0]["ok"], true,
        "plugin rejects Paydesk's signature: {}",
        v[0]
    );
    assert_eq!(v[1]["code"], "EV3_RES_HEADER_SIGNATURE_DIGEST", "{}", v[1]);
    assert_eq!(v[2]["code"], "EV3_RES_HEADER_PLATFORM_SERIAL", "{}", v[2]);
    assert_eq!(v[3]["code"], "EV3_RES_HEADER_TIMESTAMP_OFFSET", "{}", v[3]);
    assert_eq!(
        v[4]["ok"], true,
        "plugin rejects its own signature: {}",
        v[4]
    );
    // Both sides refuse the stale timestamp and agree on the fresh one.
    assert!(matches!(
        wx::verify_response(&stale, body.as_bytes(), &keys, now()),
        Err(VerifyError::Skewed(_))
    ));
    wx::verify_response(&mine, body.as_bytes(), &keys, now()).unwrap();
}

#[test]
fn crosscheck_wechat_aead_aes_256_gcm_both_ways() {
    let Some(node) = support::node_with("crosscheck_wechat_aead_aes_256_gcm_both_ways", PEERS)
    else {
        return;
    };
    // A fresh 32-character APIv3 key and nonce, plus the published wechatpay-java vector.
    let key = random_nonce(32);
    let nonce = random_nonce(12);
    let aad = "transaction";
    let plaintext = r#"{"mchid":"1900000109","out_trade_no":"T20240102001","trade_state":"SUCCESS","amount":{"total":10000,"payer_total":10000,"currency":"CNY"},"attach":"中文 \"附加\""}"#;

    let ours = wx::aead_encrypt(key.as_bytes(), &nonce, aad, plaintext.as_bytes()).unwrap();
    let tamper_tag = |b64: &str| {
        let mut raw = B64.decode(b64).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
        B64.encode(raw)
    };
    let tamper_body = |b64: &str| {
        let mut raw = B64.decode(b64).unwrap();
        raw[0] ^= 0x80;
        B64.encode(raw)
    };
    let dec = |ct: &str, aad: &str| json!({"op": "decrypt", "key": key, "nonce": nonce, "aad": aad, "ciphertext": ct});
    let a = support::run_batch(
        &node,
        SCRIPT,
        vec![
            json!({"op": "encrypt", "key": key, "nonce": nonce, "aad": aad, "plaintext": plaintext}),
            dec(&ours, aad),
            dec(&tamper_tag(&ours), aad),
            dec(&tamper_body(&ours), aad),
            dec(&ours, "certificate"),
            json!({"op": "encrypt", "key": "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
                   "nonce": "uluk4a9R25RW", "aad": "associatedData", "plaintext": "message"}),
        ],
    );
    // The plugin decrypts what Paydesk encrypts...
    assert_eq!(a[1]["ok"], true, "{}", a[1]);
    assert_eq!(a[1]["plaintext"].as_str(), Some(plaintext));
    // ...and refuses a flipped tag bit, a flipped ciphertext bit and the wrong AAD.
    for (i, what) in [(2, "tag"), (3, "ciphertext"), (4, "associated data")] {
        assert_eq!(
            a[i]["ok"], false,
            "plugin accepted a tampered {what}: {}",
            a[i]
        );
    }

    // Paydesk decrypts what the plugin encrypts (same key and nonce: same bytes as ours).
    let theirs = a[0]["ciphertext"].as_str().unwrap();
    assert_eq!(theirs, ours);
    let res = wx::EncryptedResource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: theirs.to_string(),
        associated_data: aad.into(),
        nonce: nonce.clone(),
    };
    assert_eq!(res.decrypt(key.as_bytes()).unwrap(), plaintext.as_bytes());
    assert_eq!(
        wx::aead_decrypt(key.as_bytes(), &nonce, aad, &tamper_tag(theirs)),
        Err(AeadError::Tag)
    );
    assert_eq!(
        wx::aead_decrypt(key.as_bytes(), &nonce, aad, &tamper_body(theirs)),
        Err(AeadError::Tag)
    );
    assert_eq!(
        wx::aead_decrypt(key.as_bytes(), &nonce, "certificate", theirs),
        Err(AeadError::Tag)
    );
    // The published 32-byte-key vector (providers.md B-4) comes out of the plugin too.
    assert_eq!(a[5]["ciphertext"], "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=");
    assert_eq!(
        wx::aead_decrypt(
            b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
            "uluk4a9R25RW",
            "associatedData",
            a[5]["ciphertext"].as_str().unwrap()
        )
        .unwrap(),
        b"message"
    );
}
