//! WeChat Pay API v3: request signing, response/notification verification, AEAD_AES_256_GCM
//! (providers.md §2.1–§2.3).

use crate::keys::{verify_sha256_b64, KeyError, PrivateKey};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::RsaPublicKey;
use std::collections::HashMap;

pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// Maximum |now − Wechatpay-Timestamp|, seconds (wechatpay-go `FiveMinute`).
pub const MAX_CLOCK_SKEW: i64 = 300;

/// The five-line request message; every line ends in `\n`, including the body line.
pub fn request_message(
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{canonical_url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// `WECHATPAY2-SHA256-RSA2048 mchid="...",nonce_str="...",timestamp="...",serial_no="...",signature="..."`
pub fn authorization_value(
    mchid: &str,
    nonce: &str,
    timestamp: i64,
    serial_no: &str,
    signature: &str,
) -> String {
    format!(
        "{AUTH_SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\",signature=\"{signature}\""
    )
}

/// Signs a request and returns the `Authorization` header value.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    key: &PrivateKey,
    mchid: &str,
    serial_no: &str,
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> Result<String, KeyError> {
    let msg = request_message(method, canonical_url, timestamp, nonce, body);
    let sig = key.sign_sha256_b64(msg.as_bytes())?;
    Ok(authorization_value(
        mchid, nonce, timestamp, serial_no, &sig,
    ))
}

/// The parsed fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 ...` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizationFields {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: String,
    pub serial_no: String,
    pub signature: String,
}

/// Parses an Authorization header (any field order). `None` if the scheme is wrong or a field
/// is missing.
pub fn parse_authorization(value: &str) -> Option<AuthorizationFields> {
    let rest = value.strip_prefix(AUTH_SCHEME)?.trim_start();
    let mut f = AuthorizationFields::default();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim().strip_prefix('"')?.strip_suffix('"')?.to_string();
        match k.trim() {
            "mchid" => f.mchid = v,
            "nonce_str" => f.nonce_str = v,
            "timestamp" => f.timestamp = v,
            "serial_no" => f.serial_no = v,
            "signature" => f.signature = v,
            _ => {}
        }
    }
    (!f.mchid.is_empty()
        && !f.nonce_str.is_empty()
        && !f.timestamp.is_empty()
        && !f.serial_no.is_empty()
        && !f.signature.is_empty())
    .then_some(f)
}

/// The response/notification message `TIMESTAMP\nNONCE\nBODY\n`.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 64);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The four `Wechatpay-*` headers of a signed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the answer has no {0} header")]
    MissingHeader(&'static str),
    #[error("Wechatpay-Timestamp is not a number")]
    BadTimestamp,
    #[error("Wechatpay-Timestamp is {0} s away from now (limit 300 s)")]
    Skewed(i64),
    #[error("signature is a WECHATPAY/SIGNTEST/ probe")]
    SignTestProbe,
    #[error("no key is known for Wechatpay-Serial {0}")]
    UnknownSerial(String),
    #[error("signature does not match the key for serial {0}")]
    BadSignature(String),
}

/// Verifies a WeChat Pay answer or notification. `keys` maps platform certificate serials and
/// `PUB_KEY_ID_...` ids to public keys; the key is chosen by `Wechatpay-Serial`, never guessed.
pub fn verify_response(
    headers: &SignedHeaders,
    body: &[u8],
    keys: &HashMap<String, RsaPublicKey>,
    now_unix: i64,
) -> Result<(), VerifyError> {
    if headers.signature.starts_with("WECHATPAY/SIGNTEST/") {
        return Err(VerifyError::SignTestProbe);
    }
    let ts: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let skew = now_unix.saturating_sub(ts);
    if skew.saturating_abs() >= MAX_CLOCK_SKEW {
        return Err(VerifyError::Skewed(skew));
    }
    let key = keys
        .get(headers.serial.trim())
        .ok_or_else(|| VerifyError::UnknownSerial(headers.serial.clone()))?;
    let msg = response_message(headers.timestamp.trim(), &headers.nonce, body);
    if verify_sha256_b64(key, &msg, &headers.signature) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature(headers.serial.clone()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AeadError {
    #[error("the APIv3 key must be 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("the nonce must be 12 bytes, got {0}")]
    NonceLength(usize),
    #[error("ciphertext is not base64")]
    NotBase64,
    #[error("decryption failed (wrong or stale APIv3 key, or tampered data)")]
    Tag,
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
}

fn cipher(key: &[u8], nonce: &[u8]) -> Result<Aes256Gcm, AeadError> {
    if key.len() != 32 {
        return Err(AeadError::KeyLength(key.len()));
    }
    if nonce.len() != 12 {
        return Err(AeadError::NonceLength(nonce.len()));
    }
    Aes256Gcm::new_from_slice(key).map_err(|_| AeadError::KeyLength(key.len()))
}

/// AEAD_AES_256_GCM decryption: key = the APIv3 key's 32 raw bytes, nonce and AAD are the
/// UTF-8 bytes given, ciphertext = base64(ciphertext ‖ 16-byte tag).
pub fn aead_decrypt(
    key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, AeadError> {
    let c = cipher(key, nonce.as_bytes())?;
    let ct = B64
        .decode(ciphertext_b64.trim())
        .map_err(|_| AeadError::NotBase64)?;
    c.decrypt(
        Nonce::from_slice(nonce.as_bytes()),
        Payload {
            msg: &ct,
            aad: associated_data.as_bytes(),
        },
    )
    .map_err(|_| AeadError::Tag)
}

/// AEAD_AES_256_GCM encryption (the sandbox's side), returns base64(ciphertext ‖ tag).
pub fn aead_encrypt(
    key: &[u8],
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Result<String, AeadError> {
    let c = cipher(key, nonce.as_bytes())?;
    c.encrypt(
        Nonce::from_slice(nonce.as_bytes()),
        Payload {
            msg: plaintext,
            aad: associated_data.as_bytes(),
        },
    )
    .map(|ct| B64.encode(ct))
    .map_err(|_| AeadError::Tag)
}

/// An encrypted `resource` / `encrypt_certificate` object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
}

impl EncryptedResource {
    pub fn decrypt(&self, key: &[u8]) -> Result<Vec<u8>, AeadError> {
        if self.algorithm != "AEAD_AES_256_GCM" {
            return Err(AeadError::Algorithm(self.algorithm.clone()));
        }
        aead_decrypt(key, &self.nonce, &self.associated_data, &self.ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_shapes() {
        assert_eq!(
            request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", ""),
            "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"
        );
        assert_eq!(
            request_message(
                "POST",
                "/v3/certificates",
                1624523846,
                "A1B2C3D4E5F6G7",
                "Hello World!\n"
            ),
            "POST\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\nHello World!\n\n"
        );
        let h = authorization_value(
            "1234567890",
            "A1B2C3D4E5F6G7",
            1624523846,
            "0123456789ABC",
            "sig",
        );
        assert_eq!(
            h,
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1234567890\",nonce_str=\"A1B2C3D4E5F6G7\",timestamp=\"1624523846\",serial_no=\"0123456789ABC\",signature=\"sig\""
        );
        let f = parse_authorization(&h).unwrap();
        assert_eq!(f.serial_no, "0123456789ABC");
        assert!(parse_authorization("WECHATPAY2-SHA256-RSA2048 mchid=\"1\"").is_none());
    }
}
