//! Alipay certificate mode cross-checked against the official Node SDK (npm `alipay-sdk`,
//! `antcertutil.getSN` and an `AlipaySdk` configured with the three certificates; see
//! tests/crosscheck/alipay.js): `app_cert_sn`, the Alipay certificate's SN and
//! `alipay_root_cert_sn` computed by Paydesk equal the SDK's for certificates made by
//! `openssl` (random serials, a UTF-8 name, an e-mail and an unnamed attribute in the issuer),
//! with a root file that mixes RSA (sha256 and sha1) and ECDSA roots; and the SDK's request in
//! certificate mode carries the same SNs Paydesk sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "crosscheck_support.rs"]
mod support;

use paydesk_providers::alipay::sign as ali;
use paydesk_providers::alipay::{AlipayAdapter, AlipayCertificates, AlipayConfig, METHOD_REFUND};
use paydesk_providers::http::HttpOptions;
use paydesk_providers::keys::{public_key_base64, verify_sha256_b64, PrivateKey};
use paydesk_providers::x509::{alipay_cert_sn, alipay_root_cert_sn, X509};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const SCRIPT: &str = "alipay.js";
const PEERS: &[&str] = &["alipay-sdk"];

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// The console's three files, made by openssl: a root file [ECDSA, RSA root, ECDSA, sha1 RSA
/// root], an app certificate and an Alipay certificate issued by the RSA root.
struct Files {
    app_key: String,
    app_cert: String,
    alipay_cert: String,
    root_bundle: String,
}

fn make_files(dir: &Path) -> Files {
    let self_signed = |key: &str, out: &str, subj: &str, extra: &[&str]| {
        let mut args = vec![
            "req", "-x509", "-nodes", "-days", "3650", "-utf8", "-keyout", key, "-out", out,
            "-subj", subj,
        ];
        args.extend_from_slice(extra);
        openssl(dir, &args);
    };
    self_signed(
        "root.key",
        "root.pem",
        "/C=CN/O=测试 Financial/OU=Certification Authority/CN=Test Root R1/emailAddress=ca@example.com/serialNumber=42",
        &["-newkey", "rsa:2048", "-sha256"],
    );
    self_signed(
        "ec1.key",
        "ec1.pem",
        "/C=CN/O=NRCAC/CN=ROOTCA",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    self_signed(
        "ec2.key",
        "ec2.pem",
        "/C=CN/O=Ant Financial/OU=Certification Authority/CN=Test E1",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    self_signed(
        "g3.key",
        "g3.pem",
        "/C=CN/O=iTrusChina/OU=China Trust Network/CN=Test Class 2 Root CA - G3",
        &["-newkey", "rsa:2048", "-sha1"],
    );
    for (name, subj) in [
        ("app", "/C=CN/O=Paydesk/OU=Alipay/CN=2088000000000001-2021000000000001"),
        ("alipay", "/C=CN/O=支付宝(中国)网络技术有限公司/OU=Alipay/CN=支付宝(中国)网络技术有限公司-2088000000000001"),
    ] {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let pem = format!("{name}.pem");
        openssl(
            dir,
            &[
                "req", "-new", "-nodes", "-utf8", "-newkey", "rsa:2048", "-keyout", &key, "-out",
                &csr, "-subj", subj,
            ],
        );
        openssl(
            dir,
            &[
                "x509", "-req", "-in", &csr, "-CA", "root.pem", "-CAkey", "root.key",
                "-CAcreateserial", "-days", "365", "-sha256", "-out", &pem,
            ],
        );
    }
    Files {
        app_key: read(dir, "app.key"),
        app_cert: read(dir, "app.pem"),
        alipay_cert: read(dir, "alipay.pem"),
        root_bundle: ["ec1.pem", "root.pem", "ec2.pem", "g3.pem"]
            .iter()
            .map(|f| read(dir, f))
            .collect::<Vec<_>>()
            .join(""),
    }
}

#[test]
fn crosscheck_alipay_cert_sns_match_the_official_sdk() {
    let test = "crosscheck_alipay_cert_sns_match_the_official_sdk";
    let Some(node) = support::node_with(test, PEERS) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Three independent sets: random serials (some with the high bit set) each time.
    for _ in 0..3 {
        let f = make_files(tmp.path());
        let roots = X509::parse_pem_bundle(&f.root_bundle).unwrap();
        assert_eq!(roots.len(), 4);
        assert_eq!(
            roots.iter().map(X509::is_rsa_signed).collect::<Vec<_>>(),
            [false, true, false, true],
            "ECDSA roots are not RSA-signed"
        );
        let ours_root = alipay_root_cert_sn(&f.root_bundle).unwrap();
        assert_eq!(ours_root.split('_').count(), 2, "{ours_root}");
        let answers = support::run_batch(
            &node,
            SCRIPT,
            vec![
                json!({"op": "cert_sn", "cert": f.app_cert, "root": f.root_bundle}),
                json!({"op": "cert_sn", "cert": f.alipay_cert, "root": f.root_bundle}),
            ],
        );
        let sdk = |i: usize, k: &str| answers[i][k].as_str().unwrap_or_default().to_string();
        assert_eq!(
            alipay_cert_sn(&f.app_cert).unwrap(),
            sdk(0, "cert_sn"),
            "app_cert_sn (issuer {})",
            X509::first_of_pem(&f.app_cert).unwrap().issuer_string()
        );
        assert_eq!(alipay_cert_sn(&f.alipay_cert).unwrap(), sdk(1, "cert_sn"));
        assert_eq!(ours_root, sdk(0, "root_cert_sn"));
        let alipay_key = X509::first_of_pem(&f.alipay_cert)
            .unwrap()
            .public_key()
            .unwrap();
        assert_eq!(
            public_key_base64(&alipay_key).unwrap(),
            sdk(1, "public_key")
        );

        // The SDK in certificate mode sends the SNs Paydesk sends, under its signature.
        let adapter = AlipayAdapter::new(
            AlipayConfig {
                app_id: "2021000000000001".into(),
                gateway_url: "http://127.0.0.1:9/gateway.do".into(),
                app_private_key: SecretString::from(f.app_key.clone()),
                alipay_public_key: String::new(),
                pid: "2088000000000001".into(),
                certificates: Some(AlipayCertificates {
                    app_cert: f.app_cert.clone(),
                    alipay_certs: vec![f.alipay_cert.clone()],
                    root_cert: f.root_bundle.clone(),
                }),
            },
            HttpOptions::default(),
        )
        .unwrap();
        let biz = r#"{"out_trade_no":"T1","refund_amount":"0.01","out_request_no":"R1"}"#;
        let sdk_req = support::run_json(
            &node,
            SCRIPT,
            &json!({
                "op": "sign_request_cert", "private_key": f.app_key, "app_id": "2021000000000001",
                "method": METHOD_REFUND, "biz_content": biz, "app_cert": f.app_cert,
                "alipay_cert": f.alipay_cert, "root_cert": f.root_bundle,
            }),
        );
        let params: Vec<(String, String)> = sdk_req["params"]
            .as_object()
            .unwrap_or_else(|| panic!("SDK answered {sdk_req}"))
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (app_sn, root_sn) = adapter.cert_sns().unwrap();
        assert_eq!(get("app_cert_sn"), app_sn);
        assert_eq!(get("alipay_root_cert_sn"), root_sn);
        let app_public = PrivateKey::parse(&f.app_key).unwrap().public_key();
        assert!(verify_sha256_b64(
            &app_public,
            ali::request_sign_content(&params).as_bytes(),
            &get("sign")
        ));
        let ours = adapter
            .signed_params(METHOD_REFUND, &serde_json::from_str::<Value>(biz).unwrap())
            .unwrap();
        // `format=JSON` is optional; the SDK (v4) leaves it out.
        let mut our_keys: Vec<&str> = ours
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "format")
            .collect();
        let mut sdk_keys: Vec<&str> = params
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !["alipay_sdk"].contains(k))
            .collect();
        our_keys.sort_unstable();
        sdk_keys.sort_unstable();
        assert_eq!(our_keys, sdk_keys);
    }
}
