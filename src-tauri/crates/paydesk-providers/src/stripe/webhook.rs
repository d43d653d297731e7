//! Stripe webhook signatures (`Stripe-Signature`, providers.md §3.2), mirroring stripe-go.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Default tolerance, seconds.
pub const DEFAULT_TOLERANCE: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook has no Stripe-Signature header")]
    NotSigned,
    #[error("Stripe-Signature header is malformed")]
    InvalidHeader,
    #[error("no v1 signature matches")]
    NoValidSignature,
    #[error("webhook timestamp is {0} s old (tolerance exceeded)")]
    TooOld(i64),
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(payload);
    m.finalize().into_bytes().to_vec()
}

/// `v1` signature hex for a payload. The secret is used as raw bytes, `whsec_` included.
pub fn compute_signature(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, payload))
}

/// `t=<ts>,v1=<hex>`
pub fn generate_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        compute_signature(secret, timestamp, payload)
    )
}

/// Verifies a `Stripe-Signature` header over the raw payload. Like stripe-go: only `v1`
/// counts, undecodable entries are ignored, any matching `v1` is enough, and only timestamps
/// older than `tolerance` are rejected.
pub fn verify_header(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: i64,
    now_unix: i64,
) -> Result<i64, WebhookError> {
    if header.trim().is_empty() {
        return Err(WebhookError::NotSigned);
    }
    let mut timestamp: Option<i64> = None;
    let mut sigs: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err(WebhookError::InvalidHeader);
        };
        match k {
            "t" => timestamp = Some(v.parse().map_err(|_| WebhookError::InvalidHeader)?),
            "v1" => {
                if let Ok(b) = hex::decode(v) {
                    sigs.push(b);
                }
            }
            _ => {}
        }
    }
    let t = timestamp.ok_or(WebhookError::InvalidHeader)?;
    if sigs.is_empty() {
        return Err(WebhookError::NoValidSignature);
    }
    let expected = mac(secret, t, payload);
    let ok = sigs.iter().any(|s| constant_time_eq(s, &expected));
    if !ok {
        return Err(WebhookError::NoValidSignature);
    }
    let age = now_unix.saturating_sub(t);
    if tolerance > 0 && age > tolerance {
        return Err(WebhookError::TooOld(age));
    }
    Ok(t)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
