//! Alipay certificate mode (公钥证书模式, providers.md §1.4) and certificate validation
//! (issue 16, points 13 and 14): the SNs against the documented official values, requests
//! carrying (and signing) `app_cert_sn`/`alipay_root_cert_sn`, answers verified with the
//! certificate `alipay_cert_sn` names, and chains refused for the right reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use paydesk_providers::alipay::sign as ali;
use paydesk_providers::alipay::{
    AlipayAdapter, AlipayCertificates, AlipayConfig, METHOD_REFUND, METHOD_TRADE_QUERY,
};
use paydesk_providers::error::ErrorKind;
use paydesk_providers::http::HttpOptions;
use paydesk_providers::keys::{verify_sha256_b64, PrivateKey};
use paydesk_providers::wechat::check_platform_certificate;
use paydesk_providers::x509::{alipay_root_cert_sn, issue, CertProblem, CertSpec, X509};
use secrecy::SecretString;
use std::sync::OnceLock;

fn name(cn: &str, o: &str, ou: &str) -> Vec<(&'static str, String)> {
    vec![
        ("C", "CN".into()),
        ("O", o.into()),
        ("OU", ou.into()),
        ("CN", cn.into()),
    ]
}

fn spec(subject: Vec<(&'static str, String)>, serial: &[u8], ca: bool) -> CertSpec {
    let now = Utc::now();
    CertSpec {
        subject,
        serial: serial.to_vec(),
        not_before: now - Duration::days(30),
        not_after: now + Duration::days(365),
        ca,
    }
}

/// RSA keys are slow to generate: a few, shared by the tests.
fn keys() -> &'static [PrivateKey] {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| (0..5).map(|_| PrivateKey::generate().unwrap()).collect())
}

/// A root → CA → leaf chain like Alipay's (root, "Class 2" CA, Alipay certificate).
struct Chain {
    root: X509,
    ca: X509,
    leaf: X509,
    leaf_key: PrivateKey,
}

fn chain(leaf_spec: CertSpec) -> Chain {
    chain_with(leaf_spec, [0, 1, 2])
}

/// The same names, with the keys `keys()[i]` for root, CA and leaf.
fn chain_with(leaf_spec: CertSpec, [r, c, l]: [usize; 3]) -> Chain {
    let k = keys();
    let root = issue(
        &spec(
            name("Test Root R1", "Ant Financial", "Certification Authority"),
            &[1],
            true,
        ),
        &k[r].public_key(),
        None,
        &k[r],
    )
    .unwrap();
    let ca = issue(
        &spec(
            name(
                "Test Class 2 R1",
                "Ant Financial",
                "Certification Authority",
            ),
            &[2],
            true,
        ),
        &k[c].public_key(),
        Some(&root),
        &k[r],
    )
    .unwrap();
    let leaf = issue(&leaf_spec, &k[l].public_key(), Some(&ca), &k[c]).unwrap();
    Chain {
        root,
        ca,
        leaf,
        leaf_key: k[l].clone(),
    }
}

fn leaf_spec() -> CertSpec {
    spec(
        name(
            "支付宝(中国)网络技术有限公司-2088000000000001",
            "Alipay",
            "Alipay",
        ),
        &[0x10, 0x20, 0x30],
        false,
    )
}

#[test]
fn sn_matches_the_official_sdk_values_for_the_documented_roots() {
    // providers.md §5.A-1: the Ant Financial R1 and iTrusChina roots of alipayRootCert.crt.
    let k = &keys()[0];
    let r1 = issue(
        &spec(
            name(
                "Ant Financial Certification Authority R1",
                "Ant Financial",
                "Certification Authority",
            ),
            &2_292_228_364_100_439_313u64.to_be_bytes(),
            true,
        ),
        &k.public_key(),
        None,
        k,
    )
    .unwrap();
    assert_eq!(
        r1.issuer_string(),
        "CN=Ant Financial Certification Authority R1,OU=Certification Authority,O=Ant Financial,C=CN"
    );
    assert_eq!(r1.serial_decimal(), "2292228364100439313");
    assert_eq!(r1.alipay_sn(), "687b59193f3f462dd5336e5abf83c5d8");
    let itrus = issue(
        &spec(
            name(
                "iTrusChina Class 2 Root CA - G3",
                "iTrusChina",
                "China Trust Network",
            ),
            &hex::decode("10c764e9d560384212d9c08fd10e373fdd0fb396").unwrap(),
            true,
        ),
        &k.public_key(),
        None,
        k,
    )
    .unwrap();
    assert_eq!(itrus.alipay_sn(), "02941eef3187dddf3d3b83462e1dfcf6");
    let bundle = format!("{}{}", r1.to_pem(), itrus.to_pem());
    assert_eq!(
        alipay_root_cert_sn(&bundle).unwrap(),
        "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
    );
}

fn cert_mode_config(c: &Chain, app_key: &PrivateKey, app_cert: &X509) -> AlipayConfig {
    AlipayConfig {
        app_id: "2021000000000001".into(),
        gateway_url: "http://127.0.0.1:9/gateway.do".into(),
        app_private_key: SecretString::from(app_key.to_pkcs8_pem().unwrap()),
        alipay_public_key: String::new(),
        pid: "2088000000000001".into(),
        certificates: Some(AlipayCertificates {
            app_cert: app_cert.to_pem(),
            alipay_certs: vec![format!("{}{}", c.leaf.to_pem(), c.ca.to_pem())],
            root_cert: c.root.to_pem(),
        }),
    }
}

fn app_cert(c: &Chain, app_key: &PrivateKey) -> X509 {
    issue(
        &spec(
            name("2088000000000001-2021000000000001", "Alipay", "Alipay"),
            &[7],
            false,
        ),
        &app_key.public_key(),
        Some(&c.ca),
        &keys()[1],
    )
    .unwrap()
}

#[test]
fn requests_carry_and_sign_the_certificate_sns() {
    let c = chain(leaf_spec());
    let app_key = &keys()[3];
    let app = app_cert(&c, app_key);
    let adapter =
        AlipayAdapter::new(cert_mode_config(&c, app_key, &app), HttpOptions::default()).unwrap();
    let params = adapter
        .signed_params(METHOD_REFUND, &serde_json::json!({"out_trade_no": "T1"}))
        .unwrap();
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("app_cert_sn"), app.alipay_sn());
    assert_eq!(get("alipay_root_cert_sn"), c.root.alipay_sn());
    let content = ali::request_sign_content(&params);
    assert!(content.contains(&format!("app_cert_sn={}", app.alipay_sn())));
    assert!(content.contains(&format!("alipay_root_cert_sn={}", c.root.alipay_sn())));
    assert!(verify_sha256_b64(
        &app_key.public_key(),
        content.as_bytes(),
        &get("sign")
    ));
    assert_eq!(
        adapter.cert_sns(),
        Some((app.alipay_sn(), c.root.alipay_sn()))
    );
}

fn answer(key: &PrivateKey, method: &str, content: &str, sn: Option<&str>) -> String {
    let sign = key.sign_sha256_b64(content.as_bytes()).unwrap();
    let sn = sn
        .map(|s| format!(",\"alipay_cert_sn\":\"{s}\""))
        .unwrap_or_default();
    format!(
        "{{\"{}\":{content},\"sign\":\"{sign}\"{sn}}}",
        ali::response_key(method)
    )
}

#[test]
fn answers_verify_with_the_certificate_their_sn_names() {
    let c = chain(leaf_spec());
    let app_key = &keys()[3];
    let adapter = AlipayAdapter::new(
        cert_mode_config(&c, app_key, &app_cert(&c, app_key)),
        HttpOptions::default(),
    )
    .unwrap();
    let sn = c.leaf.alipay_sn();
    let content = r#"{"code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS"}"#;
    let good = answer(&c.leaf_key, METHOD_TRADE_QUERY, content, Some(&sn));
    assert!(adapter
        .parse_answer(METHOD_TRADE_QUERY, good.as_bytes())
        .is_ok());
    // No alipay_cert_sn: the configured Alipay certificate.
    let plain = answer(&c.leaf_key, METHOD_TRADE_QUERY, content, None);
    assert!(adapter
        .parse_answer(METHOD_TRADE_QUERY, plain.as_bytes())
        .is_ok());
    // Signed by another key under the right SN: refused.
    let forged = answer(&keys()[4], METHOD_TRADE_QUERY, content, Some(&sn));
    let e = adapter
        .parse_answer(METHOD_TRADE_QUERY, forged.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::Verification { detail } if detail.contains(&sn)),
        "{e}"
    );
    // An SN nobody configured: refused, naming it (the call path downloads it first).
    let unknown = answer(&keys()[4], METHOD_TRADE_QUERY, content, Some("0123abcd"));
    let e = adapter
        .parse_answer(METHOD_TRADE_QUERY, unknown.as_bytes())
        .unwrap_err();
    assert!(e.to_string().contains("0123abcd"), "{e}");
    assert!(e.to_string().contains("not a known"), "{e}");
}

#[test]
fn an_alipay_certificate_that_does_not_chain_to_the_root_is_refused() {
    let c = chain(leaf_spec());
    // The same names under other keys: another environment's certificate and CA.
    let other = chain_with(leaf_spec(), [4, 4, 2]);
    let app_key = &keys()[3];
    let mut cfg = cert_mode_config(&c, app_key, &app_cert(&c, app_key));
    // Without its CA: nothing configured issued it (wrong issuer).
    if let Some(certs) = cfg.certificates.as_mut() {
        certs.alipay_certs = vec![other.leaf.to_pem()];
    }
    let e = AlipayAdapter::new(cfg.clone(), HttpOptions::default()).unwrap_err();
    assert!(e.to_string().contains("wrong issuer"), "{e}");
    // With its CA, whose name is right but whose signature the root did not make.
    if let Some(certs) = cfg.certificates.as_mut() {
        certs.alipay_certs = vec![format!("{}{}", other.leaf.to_pem(), other.ca.to_pem())];
    }
    let e = AlipayAdapter::new(cfg, HttpOptions::default()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("Alipay public certificate"), "{text}");
    assert!(text.contains("bad signature"), "{text}");

    // An app certificate for another key.
    let wrong_app = app_cert(&c, &keys()[4]);
    let e = AlipayAdapter::new(
        cert_mode_config(&c, app_key, &wrong_app),
        HttpOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not for the app private key"), "{e}");
}

#[test]
fn chain_validation_names_the_certificate_and_the_reason() {
    let now = Utc::now();
    let good = chain(leaf_spec());
    assert!(good
        .leaf
        .validate_chain(
            std::slice::from_ref(&good.ca),
            std::slice::from_ref(&good.root),
            now
        )
        .is_ok());

    // Expired.
    let mut s = leaf_spec();
    s.not_before = Utc.with_ymd_and_hms(2020, 5, 1, 0, 0, 0).unwrap();
    s.not_after = Utc.with_ymd_and_hms(2022, 5, 1, 0, 0, 0).unwrap();
    let expired = chain(s);
    let e = expired
        .leaf
        .validate_chain(
            std::slice::from_ref(&expired.ca),
            std::slice::from_ref(&expired.root),
            now,
        )
        .unwrap_err();
    assert!(matches!(e.reason, CertProblem::Expired { .. }), "{e}");
    assert_eq!(e.serial, "102030");
    assert!(e.to_string().contains("certificate 102030"), "{e}");
    assert!(e.to_string().contains("expired on 2022-05-01"), "{e}");

    // Not yet valid.
    let mut s = leaf_spec();
    s.not_before = now + Duration::days(10);
    let early = chain(s);
    let e = early
        .leaf
        .validate_chain(
            std::slice::from_ref(&early.ca),
            std::slice::from_ref(&early.root),
            now,
        )
        .unwrap_err();
    assert!(matches!(e.reason, CertProblem::NotYetValid { .. }), "{e}");
    assert!(e.to_string().contains("not valid yet"), "{e}");

    // Wrong issuer: a root that did not issue the chain.
    let k = keys();
    let stranger = issue(
        &spec(name("Someone Else Root", "Other", "CA"), &[9], true),
        &k[4].public_key(),
        None,
        &k[4],
    )
    .unwrap();
    let e = good
        .leaf
        .validate_chain(std::slice::from_ref(&good.ca), &[stranger], now)
        .unwrap_err();
    assert!(matches!(e.reason, CertProblem::UnknownIssuer { .. }), "{e}");
    assert!(e.to_string().contains("wrong issuer"), "{e}");
    assert!(e.to_string().contains("Test Root R1"), "{e}");

    // Bad signature: a root with the right name but another key.
    let impostor = issue(
        &spec(
            name("Test Root R1", "Ant Financial", "Certification Authority"),
            &[1],
            true,
        ),
        &k[4].public_key(),
        None,
        &k[4],
    )
    .unwrap();
    let e = good
        .leaf
        .validate_chain(std::slice::from_ref(&good.ca), &[impostor], now)
        .unwrap_err();
    assert!(matches!(e.reason, CertProblem::BadSignature { .. }), "{e}");
    assert!(e.to_string().contains("bad signature"), "{e}");
    assert_eq!(e.serial, good.ca.serial_hex());

    // Key usage: a CA certificate (keyCertSign only) cannot verify answers.
    let e = good.ca.check_signing_usage().unwrap_err();
    assert!(matches!(e.reason, CertProblem::KeyUsage(_)), "{e}");
    assert!(e.to_string().contains("digital signatures"), "{e}");
}

#[test]
fn wechat_platform_certificates_are_checked_before_they_are_trusted() {
    let now = Utc::now();
    let k = keys();
    let tenpay_ca = issue(
        &spec(
            name("Tenpay.com Root CA", "Tenpay.com", "Tenpay.com CA Center"),
            &[1],
            true,
        ),
        &k[0].public_key(),
        None,
        &k[0],
    )
    .unwrap();
    let platform = |not_before, not_after| {
        let mut s = spec(
            name("Tenpay.com sign", "Tenpay.com", "Tenpay.com CA Center"),
            &[0x5d, 0xea],
            false,
        );
        s.not_before = not_before;
        s.not_after = not_after;
        issue(&s, &k[2].public_key(), Some(&tenpay_ca), &k[0]).unwrap()
    };
    let good = platform(now - Duration::days(1), now + Duration::days(1800));
    assert!(check_platform_certificate(&good, &[], now).is_ok());
    assert!(check_platform_certificate(&good, std::slice::from_ref(&tenpay_ca), now).is_ok());

    let expired = platform(now - Duration::days(1900), now - Duration::days(1));
    let e = check_platform_certificate(&expired, &[], now).unwrap_err();
    assert!(e.to_string().starts_with("certificate 5DEA"), "{e}");
    assert!(e.to_string().contains("expired on"), "{e}");

    let early = platform(now + Duration::days(2), now + Duration::days(1800));
    let e = check_platform_certificate(&early, &[], now).unwrap_err();
    assert!(e.to_string().contains("not valid yet"), "{e}");

    // Issued by someone other than the configured CA.
    let other_ca = issue(
        &spec(name("Not Tenpay", "Other", "CA"), &[2], true),
        &k[1].public_key(),
        None,
        &k[1],
    )
    .unwrap();
    let e = check_platform_certificate(&good, &[other_ca], now).unwrap_err();
    assert!(e.to_string().contains("wrong issuer"), "{e}");

    // A certificate whose key may not sign.
    let e = check_platform_certificate(&tenpay_ca, &[], now).unwrap_err();
    assert!(e.to_string().contains("key usage"), "{e}");
}
