//! Stripe webhook signatures cross-checked against the official Python SDK (PyPI `stripe`,
//! `WebhookSignature.generate_signature_header` / `verify_header`, `Webhook.construct_event`;
//! see tests/crosscheck/stripe_webhook.py).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "crosscheck_support.rs"]
mod support;

use paydesk_providers::http::random_nonce;
use paydesk_providers::stripe::webhook::{self, WebhookError, DEFAULT_TOLERANCE};
use serde_json::json;

const SCRIPT: &str = "stripe_webhook.py";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn crosscheck_stripe_webhook_signatures_both_ways() {
    let Some(py) = support::python_with(
        "crosscheck_stripe_webhook_signatures_both_ways",
        &["stripe"],
    ) else {
        return;
    };
    let secret = format!("whsec_{}", random_nonce(32));
    let wrong = format!("whsec_{}", random_nonce(32));
    let payload = r#"{"id":"evt_1Pcrosscheck","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","amount_refunded":2500,"description":"退款 ✓ \"partial\""}}}"#;
    let tampered = payload.replace("2500", "25000");
    let t = now();

    // Paydesk's header, and the same header with a second v1 made with a rolled secret.
    let ours = webhook::generate_header(&secret, t, payload.as_bytes());
    let rolled = format!(
        "{ours},v1={}",
        webhook::compute_signature(&wrong, t, payload.as_bytes())
    );
    let old_t = t - 2 * DEFAULT_TOLERANCE;
    let old = webhook::generate_header(&secret, old_t, payload.as_bytes());

    let verify = |p: &str, h: &str, s: &str| json!({"op": "verify", "payload": p, "header": h, "secret": s, "tolerance": DEFAULT_TOLERANCE});
    let a = support::run_batch(
        &py,
        SCRIPT,
        vec![
            json!({"op": "generate", "payload": payload, "secret": secret, "timestamp": t}),
            verify(payload, &ours, &secret),
            json!({"op": "construct_event", "payload": payload, "header": ours, "secret": secret}),
            verify(payload, &ours, &wrong),
            verify(&tampered, &ours, &secret),
            verify(payload, &rolled, &secret),
            verify(payload, &rolled, &wrong),
            verify(payload, &old, &secret),
            json!({"op": "generate", "payload": "{\"id\":\"evt_test_webhook\",\"object\":\"event\"}",
                   "secret": "whsec_test_secret", "timestamp": 1_533_204_620}),
        ],
    );

    // Same timestamp, same header, byte for byte.
    assert_eq!(a[0]["header"].as_str(), Some(ours.as_str()));
    // The SDK accepts Paydesk's header...
    assert_eq!(a[1]["ok"], true, "{}", a[1]);
    assert_eq!(a[2]["ok"], true, "{}", a[2]);
    assert_eq!(a[2]["id"], "evt_1Pcrosscheck");
    // ...refuses the wrong secret and a tampered body...
    assert_eq!(a[3]["ok"], false, "{}", a[3]);
    assert_eq!(a[4]["ok"], false, "{}", a[4]);
    // ...accepts either secret while two are live (rolled secret)...
    assert_eq!(a[5]["ok"], true, "{}", a[5]);
    assert_eq!(a[6]["ok"], true, "{}", a[6]);
    // ...and refuses a timestamp older than the tolerance.
    assert_eq!(a[7]["ok"], false, "{}", a[7]);
    // providers.md C-1 comes out of the SDK too.
    assert_eq!(
        a[8]["header"],
        "t=1533204620,v1=ac1b8a66c1f854bc7a9112821d5ce61be5cec50fdbe491078db8a40cf5e3e3d4"
    );

    // Paydesk verifies the SDK's header and agrees on every negative case.
    let theirs = a[0]["header"].as_str().unwrap();
    let n = now();
    assert_eq!(
        webhook::verify_header(payload.as_bytes(), theirs, &secret, DEFAULT_TOLERANCE, n),
        Ok(t)
    );
    assert_eq!(
        webhook::verify_header(payload.as_bytes(), theirs, &wrong, DEFAULT_TOLERANCE, n),
        Err(WebhookError::NoValidSignature)
    );
    assert_eq!(
        webhook::verify_header(tampered.as_bytes(), theirs, &secret, DEFAULT_TOLERANCE, n),
        Err(WebhookError::NoValidSignature)
    );
    for s in [&secret, &wrong] {
        assert_eq!(
            webhook::verify_header(payload.as_bytes(), &rolled, s, DEFAULT_TOLERANCE, n),
            Ok(t)
        );
    }
    assert!(matches!(
        webhook::verify_header(payload.as_bytes(), &old, &secret, DEFAULT_TOLERANCE, n),
        Err(WebhookError::TooOld(_))
    ));
    assert_eq!(
        webhook::verify_header(
            br#"{"id":"evt_test_webhook","object":"event"}"#,
            a[8]["header"].as_str().unwrap(),
            "whsec_test_secret",
            DEFAULT_TOLERANCE,
            1_533_204_620
        ),
        Ok(1_533_204_620)
    );
}
