//! Alipay certificate mode (公钥证书模式) on the sandbox's side: the sandbox plays Alipay's CA.
//!
//! It issues a root certificate, an Alipay certificate for the key that signs answers, and
//! app certificates for the merchant's app public keys. In this mode a request must carry the
//! `app_cert_sn` of an issued app certificate and the root's `alipay_root_cert_sn`, its
//! signature must verify with that app certificate's key, answers carry `alipay_cert_sn`,
//! and `alipay.open.app.alipaycert.download` hands out Alipay certificates by SN. A renewed
//! Alipay certificate (new key) can take over signing, as when Alipay rotates.

use chrono::{Duration, Utc};
use paydesk_providers::keys::{KeyError, PrivateKey};
use paydesk_providers::x509::{alipay_root_cert_sn, issue, CertSpec, X509};
use rsa::RsaPublicKey;
use std::collections::HashMap;

/// The PEM files a merchant downloads from the Alipay console in certificate mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayCertFiles {
    /// `appCertPublicKey_<APPID>.crt` for the app key.
    pub app_cert: String,
    /// `alipayCertPublicKey_RSA2.crt`: the Alipay certificate and the CA that issued it.
    pub alipay_cert: String,
    /// `alipayRootCert.crt`.
    pub root_cert: String,
}

pub(crate) struct AlipayCa {
    ca_key: PrivateKey,
    /// The intermediate that issues app and Alipay certificates (Ant's "Class 1/2" CAs).
    ca: X509,
    root_pem: String,
    pub root_sn: String,
    /// app_cert_sn → the app public key it certifies.
    pub app_certs: HashMap<String, RsaPublicKey>,
    /// alipay_cert_sn → (signing key, PEM of the certificate and its CA).
    pub alipay_certs: HashMap<String, (PrivateKey, String)>,
    /// The SN answers are signed under.
    pub current_sn: String,
    serial: u64,
}

fn key_err(_: paydesk_providers::x509::CertError) -> KeyError {
    KeyError::BadCertificate("could not issue a sandbox certificate")
}

impl AlipayCa {
    /// A root, an intermediate CA, and an Alipay certificate for `alipay_key`.
    pub fn new(alipay_key: &PrivateKey) -> Result<AlipayCa, KeyError> {
        let now = Utc::now();
        let root_key = PrivateKey::generate()?;
        let spec = |serial: u64, cn: &str, ca: bool| CertSpec {
            subject: vec![
                ("C", "CN".to_string()),
                ("O", "Paydesk Sandbox".to_string()),
                ("OU", "Certification Authority".to_string()),
                ("CN", cn.to_string()),
            ],
            serial: serial.to_be_bytes().to_vec(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(3650),
            ca,
        };
        let root = issue(
            &spec(
                0x1fcf_a18d_6a48_0d11,
                "Paydesk Sandbox Alipay Root R1",
                true,
            ),
            &root_key.public_key(),
            None,
            &root_key,
        )
        .map_err(key_err)?;
        let ca_key = PrivateKey::generate()?;
        let ca = issue(
            &spec(0x2a01, "Paydesk Sandbox Alipay Class 2 R1", true),
            &ca_key.public_key(),
            Some(&root),
            &root_key,
        )
        .map_err(key_err)?;
        let root_pem = root.to_pem();
        let root_sn = alipay_root_cert_sn(&root_pem).map_err(key_err)?;
        let mut out = AlipayCa {
            ca_key,
            ca,
            root_pem,
            root_sn,
            app_certs: HashMap::new(),
            alipay_certs: HashMap::new(),
            current_sn: String::new(),
            serial: 0x3000,
        };
        out.current_sn = out.add_alipay_cert(alipay_key.clone())?;
        Ok(out)
    }

    fn next_spec(&mut self, cn: String, days: i64) -> CertSpec {
        self.serial += 1;
        let now = Utc::now();
        CertSpec {
            subject: vec![
                ("C", "CN".to_string()),
                ("O", "Paydesk Sandbox".to_string()),
                ("OU", "Alipay".to_string()),
                ("CN", cn),
            ],
            serial: self.serial.to_be_bytes().to_vec(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(days),
            ca: false,
        }
    }

    fn add_alipay_cert(&mut self, key: PrivateKey) -> Result<String, KeyError> {
        let spec = self.next_spec("支付宝(中国)网络技术有限公司-2088000000000001".into(), 365);
        let cert =
            issue(&spec, &key.public_key(), Some(&self.ca), &self.ca_key).map_err(key_err)?;
        let sn = cert.alipay_sn();
        let pem = format!("{}{}", cert.to_pem(), self.ca.to_pem());
        self.alipay_certs.insert(sn.clone(), (key, pem));
        Ok(sn)
    }

    /// Issues the app certificate for `app_key` (what the console does with the CSR).
    pub fn issue_app_cert(
        &mut self,
        app_key: &RsaPublicKey,
        app_id: &str,
    ) -> Result<String, KeyError> {
        let spec = self.next_spec(format!("2088000000000001-{app_id}"), 365);
        let cert = issue(&spec, app_key, Some(&self.ca), &self.ca_key).map_err(key_err)?;
        self.app_certs.insert(cert.alipay_sn(), app_key.clone());
        Ok(format!("{}{}", cert.to_pem(), self.ca.to_pem()))
    }

    /// Alipay renews its certificate: a new key signs answers from now on. Returns its SN.
    pub fn renew(&mut self) -> Result<String, KeyError> {
        let sn = self.add_alipay_cert(PrivateKey::generate()?)?;
        self.current_sn = sn.clone();
        Ok(sn)
    }

    /// A "renewal" by a CA that does not chain to the root (an impostor): answers are signed
    /// with it from now on. Returns its SN.
    pub fn renew_from_foreign_ca(&mut self) -> Result<String, KeyError> {
        let rogue_key = PrivateKey::generate()?;
        let now = Utc::now();
        let rogue = issue(
            &CertSpec {
                subject: vec![("C", "CN".to_string()), ("CN", "Not Alipay CA".to_string())],
                serial: vec![0x66],
                not_before: now - Duration::days(1),
                not_after: now + Duration::days(365),
                ca: true,
            },
            &rogue_key.public_key(),
            None,
            &rogue_key,
        )
        .map_err(key_err)?;
        let key = PrivateKey::generate()?;
        let spec = self.next_spec("支付宝(中国)网络技术有限公司-2088000000000001".into(), 365);
        let cert = issue(&spec, &key.public_key(), Some(&rogue), &rogue_key).map_err(key_err)?;
        let sn = cert.alipay_sn();
        let pem = format!("{}{}", cert.to_pem(), rogue.to_pem());
        self.alipay_certs.insert(sn.clone(), (key, pem));
        self.current_sn = sn.clone();
        Ok(sn)
    }

    pub fn current(&self) -> Option<&(PrivateKey, String)> {
        self.alipay_certs.get(&self.current_sn)
    }

    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }
}
