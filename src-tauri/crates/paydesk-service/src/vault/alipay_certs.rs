//! Alipay certificate mode (公钥证书模式) in the vault (providers.md §1.4).
//!
//! - The app certificate (`appCertPublicKey_<APPID>.crt`) is imported with the app private key
//!   (`--cert`): it must hold that key's public key and be valid; it is kept in the version's
//!   public info (`KeyInfo::certificate`), and `app_cert_sn` is computed from it.
//! - The Alipay public certificate (`alipayCertPublicKey_RSA2.crt`) is imported together with
//!   the Alipay root certificate (`alipayRootCert.crt`) as an `alipay_public_key` version: it
//!   must chain to the root and be valid. The version's payload holds both texts; its info
//!   shows the certificate (serial, subject, validity) and its SN (`key_id`).
//! - An account is in certificate mode when its active `alipay_public_key` is such a
//!   certificate: then the app key must carry its app certificate.
//! - An Alipay certificate the adapter downloads on an unknown `alipay_cert_sn` (checked
//!   against the root there) becomes a new active `alipay_public_key` version with the same
//!   root; the previous one stays usable for the grace period.

use chrono::{DateTime, Utc};
use paydesk_providers::x509::X509;
use paydesk_vault::material::fingerprint;
use paydesk_vault::{KeyInfo, Material, Purpose, VaultError};
use rsa::traits::PublicKeyParts;
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};

/// `KeyInfo::kind` of an Alipay public certificate with its root.
pub const KIND: &str = "alipay_certificate";

/// The payload of an Alipay public certificate version.
#[derive(Serialize, Deserialize)]
pub struct CertBundle {
    /// The Alipay certificate (first) and its chain, PEM.
    pub alipay_cert: String,
    /// The Alipay root certificates, PEM.
    pub root_cert: String,
}

fn bad(what: &str, reason: impl Into<String>) -> VaultError {
    VaultError::input(what, reason)
}

fn cert_info(kind: &str, cert: &X509, what: &str) -> Result<KeyInfo, VaultError> {
    use base64::Engine;
    use rsa::pkcs8::EncodePublicKey;
    let key = cert.public_key().map_err(|e| {
        bad(
            what,
            format!("{e}; Alipay certificates hold RSA keys (RSA2)"),
        )
    })?;
    let spki = key
        .to_public_key_der()
        .map_err(|_| VaultError::Internal("cannot encode a public key".into()))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(KeyInfo {
        kind: kind.into(),
        fingerprint: fingerprint(&key)?,
        key_bits: u32::try_from(key.size() * 8).ok(),
        serial: Some(cert.serial_hex()),
        key_id: Some(cert.alipay_sn()),
        subject: Some(cert.subject_string()),
        not_before: Some(cert.not_before()),
        not_after: Some(cert.not_after()),
        public_key: Some(b64.encode(spki.as_bytes())),
        certificate: Some(b64.encode(cert.der())),
        ..KeyInfo::default()
    })
}

/// The app private key with its app certificate: the pair must match (checked by
/// [`Material::private_key`]) and the certificate must be valid at `now`.
pub fn app_key_with_cert(
    private_key: &secrecy::SecretString,
    cert_text: &str,
    now: DateTime<Utc>,
) -> Result<Material, VaultError> {
    let what = "app certificate";
    let mut m = Material::private_key(Purpose::AlipayAppKey, private_key, Some(cert_text))?;
    let cert = X509::first_of_pem(cert_text).map_err(|e| bad(what, e.to_string()))?;
    cert.check_validity(now)
        .map_err(|e| bad(what, e.to_string()))?;
    let info = cert_info(&m.info.kind, &cert, what)?;
    m.info.serial = info.serial;
    m.info.key_id = info.key_id;
    m.info.subject = info.subject;
    m.info.not_before = info.not_before;
    m.info.not_after = info.not_after;
    m.info.certificate = info.certificate;
    Ok(m)
}

/// Whether the text is an X.509 certificate (not a bare public key).
pub fn is_certificate(text: &str) -> bool {
    X509::first_of_pem(text).is_ok()
}

/// The Alipay public certificate with the Alipay root: it must chain to the root (through
/// the intermediates its file carries), be valid at `now`, and its key must allow signatures.
pub fn public_cert(
    cert_text: &str,
    root_text: &str,
    now: DateTime<Utc>,
) -> Result<Material, VaultError> {
    let what = "Alipay public certificate";
    let mut chain = X509::parse_pem_bundle(cert_text).map_err(|e| bad(what, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(what, "no certificate in the file"));
    }
    let leaf = chain.remove(0);
    let roots = X509::parse_pem_bundle(root_text)
        .map_err(|e| bad("Alipay root certificate", e.to_string()))?;
    paydesk_providers::x509::alipay_root_cert_sn(root_text)
        .map_err(|e| bad("Alipay root certificate", e.to_string()))?;
    leaf.validate_chain(&chain, &roots, now).map_err(|e| {
        bad(
            what,
            format!("{e}; check that alipayRootCert.crt is the root file of the same environment"),
        )
    })?;
    let info = cert_info(KIND, &leaf, what)?;
    let payload = serde_json::to_vec(&CertBundle {
        alipay_cert: cert_text.to_string(),
        root_cert: root_text.to_string(),
    })
    .map_err(|e| VaultError::Internal(e.to_string()))?;
    Ok(Material {
        purpose: Purpose::AlipayPublicKey,
        payload: SecretBox::new(Box::new(payload)),
        info,
    })
}

/// The certificate bundle of an `alipay_public_key` version, if it holds one.
pub fn bundle_of(m: &Material) -> Option<CertBundle> {
    if m.info.kind != KIND {
        return None;
    }
    serde_json::from_slice(m.payload.expose_secret()).ok()
}
