//! Alipay OpenAPI RSA2 signing and verification (providers.md §1.1–§1.3).

use crate::keys::{verify_sha256_b64, KeyError, PrivateKey};
use rsa::RsaPublicKey;

/// The request string-to-sign: every parameter except `sign` (so `sign_type` is KEPT), pairs
/// with an empty key or value dropped, sorted by key (ASCII), joined `k=v` with `&`, raw values.
pub fn request_sign_content<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    join_sorted(params, &["sign"])
}

/// The V1 notification string-to-sign: as for requests, but `sign_type` is dropped as well
/// (rsaCheckV1; what payment notifications use).
pub fn notify_sign_content_v1<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    join_sorted(params, &["sign", "sign_type"])
}

fn join_sorted<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], skip: &[&str]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !skip.contains(k))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Signs request parameters with the app private key (SHA256withRSA, base64).
pub fn sign_request<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &PrivateKey,
) -> Result<String, KeyError> {
    key.sign_sha256_b64(request_sign_content(params).as_bytes())
}

/// Verifies a V1-signed asynchronous notification (form fields already URL-decoded).
pub fn verify_notify_v1<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &RsaPublicKey,
) -> bool {
    let Some(sign) = params
        .iter()
        .find(|(k, _)| k.as_ref() == "sign")
        .map(|(_, v)| v.as_ref())
    else {
        return false;
    };
    verify_sha256_b64(key, notify_sign_content_v1(params).as_bytes(), sign)
}

/// The raw pieces of a synchronous gateway answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseParts<'a> {
    /// The top-level key that carried the payload (`<method>_response` or `error_response`).
    pub key: String,
    /// The exact raw text of its value: the signed content.
    pub content: &'a str,
    /// The `sign` value, if any.
    pub sign: Option<String>,
    /// The `alipay_cert_sn` value (certificate mode), if any.
    pub alipay_cert_sn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("answer is not a JSON object")]
    NotObject,
    #[error("answer is malformed JSON near byte {0}")]
    Malformed(usize),
    #[error("answer has neither {0} nor error_response")]
    NoPayload(String),
}

/// The response key for a method: `alipay.trade.refund` → `alipay_trade_refund_response`.
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// Walks the top level of the answer and returns the raw text of the `<method>_response`
/// value (or `error_response`), byte-exact with escapes kept, plus `sign`.
pub fn extract_response<'a>(
    body: &'a str,
    method: &str,
) -> Result<ResponseParts<'a>, ExtractError> {
    let want = response_key(method);
    let members = top_level_members(body)?;
    let mut payload: Option<(String, &str)> = None;
    let mut error_payload: Option<&str> = None;
    let mut sign = None;
    let mut cert_sn = None;
    for (k, raw) in members {
        if k == want && payload.is_none() {
            payload = Some((k, raw));
        } else if k == "error_response" && error_payload.is_none() {
            error_payload = Some(raw);
        } else if k == "sign" {
            sign = serde_json::from_str::<String>(raw).ok();
        } else if k == "alipay_cert_sn" {
            cert_sn = serde_json::from_str::<String>(raw).ok();
        }
    }
    let (key, content) = match (payload, error_payload) {
        (Some(p), _) => p,
        (None, Some(e)) => ("error_response".to_string(), e),
        (None, None) => return Err(ExtractError::NoPayload(want)),
    };
    Ok(ResponseParts {
        key,
        content,
        sign,
        alipay_cert_sn: cert_sn,
    })
}

/// Lists the top-level members of a JSON object as (decoded key, raw value text).
fn top_level_members(body: &str) -> Result<Vec<(String, &str)>, ExtractError> {
    let b = body.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(ExtractError::NotObject);
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'}') => return Ok(out),
            Some(b',') => {
                i += 1;
                continue;
            }
            Some(b'"') => {}
            _ => return Err(ExtractError::Malformed(i)),
        }
        let key_end = string_end(b, i).ok_or(ExtractError::Malformed(i))?;
        let key: String =
            serde_json::from_str(&body[i..key_end]).map_err(|_| ExtractError::Malformed(i))?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(ExtractError::Malformed(i));
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i).ok_or(ExtractError::Malformed(i))?;
        out.push((key, &body[i..end]));
        i = end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// `b[start]` is `"`; returns the index just past the closing quote.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Returns the index just past the JSON value starting at `start`.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    match b.get(start)? {
        b'"' => string_end(b, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}

/// Verifies the raw payload of a gateway answer against the Alipay public key.
pub fn verify_response(parts: &ResponseParts<'_>, key: &RsaPublicKey) -> bool {
    match &parts.sign {
        Some(sign) => verify_sha256_b64(key, parts.content.as_bytes(), sign),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_raw_payload_with_escapes_and_nested_sign() {
        let body = r#"{"a_b_response" :  {"code":"10000","x":"q\"}{","sign":"inner","u":"https:\/\/h"} , "sign":"outer"}"#;
        let p = extract_response(body, "a.b").unwrap();
        assert_eq!(
            p.content,
            r#"{"code":"10000","x":"q\"}{","sign":"inner","u":"https:\/\/h"}"#
        );
        assert_eq!(p.sign.as_deref(), Some("outer"));
    }

    #[test]
    fn sign_before_payload_and_error_response() {
        let body = r#"{"sign":"s","error_response":{"code":"40002","msg":"Invalid Arguments"}}"#;
        let p = extract_response(body, "a.b").unwrap();
        assert_eq!(p.key, "error_response");
        assert_eq!(p.content, r#"{"code":"40002","msg":"Invalid Arguments"}"#);
        assert!(extract_response("[1]", "a.b").is_err());
        assert!(extract_response(r#"{"x":1}"#, "a.b").is_err());
        assert!(extract_response(r#"{"a_b_response":{"code":"1""#, "a.b").is_err());
    }

    #[test]
    fn content_rules() {
        let p = [
            ("sign", "x"),
            ("sign_type", "RSA2"),
            ("b", ""),
            ("a", "1"),
            ("c", "中 文"),
        ];
        assert_eq!(request_sign_content(&p), "a=1&c=中 文&sign_type=RSA2");
        assert_eq!(notify_sign_content_v1(&p), "a=1&c=中 文");
    }
}
