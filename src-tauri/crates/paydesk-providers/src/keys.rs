//! RSA key loading, SHA256withRSA signing/verification and a minimal X.509 reader/writer.
//!
//! Providers hand out keys in many shapes: PEM PKCS#1 (`RSA PRIVATE KEY`), PEM PKCS#8
//! (`PRIVATE KEY`), the same without headers, Alipay's one-line base64, SPKI public keys with
//! or without headers, and X.509 certificates (WeChat platform certificates). All of them are
//! accepted here. Private keys are wrapped in [`PrivateKey`], whose `Debug` never prints
//! key material.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use paydesk_vault::PemError;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// Why a key or certificate could not be read. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key text is empty")]
    Empty,
    #[error("key text is not PEM or base64")]
    NotBase64,
    #[error("not an RSA private key in PKCS#1 or PKCS#8 form")]
    NotPrivateKey,
    #[error("not an RSA public key (SPKI, PKCS#1) or X.509 certificate")]
    NotPublicKey,
    #[error("certificate is malformed: {0}")]
    BadCertificate(&'static str),
    #[error("signing failed")]
    SignFailed,
    #[error("could not encode key")]
    Encode,
}

/// An RSA private key. `Debug` is redacted; the inner key zeroizes on drop.
#[derive(Clone)]
pub struct PrivateKey(RsaPrivateKey);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

impl PrivateKey {
    /// Reads PKCS#1 or PKCS#8, PEM with or without headers, or one-line base64.
    pub fn parse(text: &str) -> Result<PrivateKey, KeyError> {
        let der = pem_or_base64_to_der(text)?;
        RsaPrivateKey::from_pkcs8_der(&der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
            .map(PrivateKey)
            .map_err(|_| KeyError::NotPrivateKey)
    }

    pub fn from_rsa(key: RsaPrivateKey) -> PrivateKey {
        PrivateKey(key)
    }

    /// Generates a fresh 2048-bit key (sandbox and tests).
    pub fn generate() -> Result<PrivateKey, KeyError> {
        let mut rng = rand::thread_rng();
        RsaPrivateKey::new(&mut rng, 2048)
            .map(PrivateKey)
            .map_err(|_| KeyError::SignFailed)
    }

    pub fn public_key(&self) -> RsaPublicKey {
        self.0.to_public_key()
    }

    pub fn rsa(&self) -> &RsaPrivateKey {
        &self.0
    }

    /// SHA256withRSA (PKCS#1 v1.5), standard base64 with padding.
    pub fn sign_sha256_b64(&self, message: &[u8]) -> Result<String, KeyError> {
        let digest = Sha256::digest(message);
        self.0
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map(|sig| B64.encode(sig))
            .map_err(|_| KeyError::SignFailed)
    }

    /// PKCS#8 PEM (LF line ends), for persisting sandbox keys.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map(|z| z.to_string())
            .map_err(|_| KeyError::Encode)
    }
}

/// Reads an RSA public key: SPKI or PKCS#1, PEM or bare base64, or an X.509 certificate
/// (PEM or base64 DER), in which case the certificate's subject public key is returned.
pub fn parse_public_key(text: &str) -> Result<RsaPublicKey, KeyError> {
    let der = pem_or_base64_to_der(text)?;
    if let Ok(k) = RsaPublicKey::from_public_key_der(&der) {
        return Ok(k);
    }
    if let Ok(k) = RsaPublicKey::from_pkcs1_der(&der) {
        return Ok(k);
    }
    let cert = Certificate::from_der(&der).map_err(|_| KeyError::NotPublicKey)?;
    cert.public_key()
}

/// SPKI PEM of a public key.
pub fn public_key_pem(key: &RsaPublicKey) -> Result<String, KeyError> {
    key.to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|_| KeyError::Encode)
}

/// SPKI as one-line base64, the way Alipay shows public keys.
pub fn public_key_base64(key: &RsaPublicKey) -> Result<String, KeyError> {
    key.to_public_key_der()
        .map(|d| B64.encode(d.as_bytes()))
        .map_err(|_| KeyError::Encode)
}

/// Verifies a base64 SHA256withRSA signature. Any decoding problem is a failed verification.
pub fn verify_sha256_b64(key: &RsaPublicKey, message: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = B64.decode(signature_b64.trim()) else {
        return false;
    };
    let digest = Sha256::digest(message);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
        .is_ok()
}

/// Re-wraps bare base64 key text into a PEM block with 64-character lines.
pub fn rewrap_pem(label: &str, text: &str) -> String {
    let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = format!("-----BEGIN {label}-----\n");
    let bytes = b64.as_bytes();
    for chunk in bytes.chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// PEM (any label) or bare base64 → DER, through the vault's one reader
/// ([`paydesk_vault::pem_or_base64_to_der`]); armour with nothing inside is empty too.
fn pem_or_base64_to_der(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let der = paydesk_vault::pem_or_base64_to_der(text).map_err(|e| match e {
        PemError::Empty => KeyError::Empty,
        PemError::NotBase64 => KeyError::NotBase64,
    })?;
    if der.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(der)
}

// ---------------------------------------------------------------------------------------
// Minimal DER / X.509 support: enough to read a certificate's serial and public key, and to
// build a self-signed certificate for the sandbox. No chain validation.
// ---------------------------------------------------------------------------------------

/// A parsed X.509 certificate (only the parts Paydesk needs).
#[derive(Debug, Clone)]
pub struct Certificate {
    /// Serial number as uppercase hex, two digits per byte, no leading zero byte
    /// (wechatpay-go `fmt.Sprintf("%X", cert.SerialNumber.Bytes())`).
    pub serial_hex: String,
    spki_der: Vec<u8>,
    pub der: Vec<u8>,
}

impl Certificate {
    pub fn from_pem(text: &str) -> Result<Certificate, KeyError> {
        Certificate::from_der(&pem_or_base64_to_der(text)?)
    }

    pub fn from_der(der: &[u8]) -> Result<Certificate, KeyError> {
        let (tag, cert, _) = der_read(der)?;
        if tag != 0x30 {
            return Err(KeyError::BadCertificate("not a SEQUENCE"));
        }
        let (tag, tbs, _) = der_read(cert)?;
        if tag != 0x30 {
            return Err(KeyError::BadCertificate("no tbsCertificate"));
        }
        let (mut tag, mut field, mut rest) = der_read(tbs)?;
        if tag == 0xa0 {
            (tag, field, rest) = der_read(rest)?;
        }
        if tag != 0x02 {
            return Err(KeyError::BadCertificate("no serial"));
        }
        let serial = {
            let s = field;
            let s = if s.len() > 1 && s[0] == 0 { &s[1..] } else { s };
            hex::encode_upper(s)
        };
        // signature algorithm, issuer, validity, subject
        for _ in 0..4 {
            let (_, _, r) = der_read(rest)?;
            rest = r;
        }
        let spki_len = rest.len() - der_read(rest)?.2.len();
        Ok(Certificate {
            serial_hex: serial,
            spki_der: rest[..spki_len].to_vec(),
            der: der.to_vec(),
        })
    }

    pub fn public_key(&self) -> Result<RsaPublicKey, KeyError> {
        RsaPublicKey::from_public_key_der(&self.spki_der).map_err(|_| KeyError::NotPublicKey)
    }

    pub fn to_pem(&self) -> String {
        rewrap_pem("CERTIFICATE", &B64.encode(&self.der))
    }

    /// Builds a self-signed certificate (SHA256withRSA) with the given serial bytes and
    /// common name, valid 2020-01-01 to 2049-12-31. For the sandbox and tests only.
    pub fn self_signed(
        key: &PrivateKey,
        serial: &[u8],
        common_name: &str,
    ) -> Result<Certificate, KeyError> {
        const SHA256_RSA: &[u8] = &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
        ];
        let alg = der_write(0x30, SHA256_RSA);
        let mut serial_content = serial.to_vec();
        if serial_content.first().is_some_and(|b| *b & 0x80 != 0) {
            serial_content.insert(0, 0);
        }
        let cn = {
            let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03];
            atv.extend(der_write(0x0c, common_name.as_bytes()));
            der_write(0x30, &der_write(0x31, &der_write(0x30, &atv)))
        };
        let validity = {
            let mut v = der_write(0x17, b"200101000000Z");
            v.extend(der_write(0x17, b"491231235959Z"));
            der_write(0x30, &v)
        };
        let spki = key
            .public_key()
            .to_public_key_der()
            .map_err(|_| KeyError::Encode)?;
        let mut tbs = der_write(0xa0, &der_write(0x02, &[2]));
        tbs.extend(der_write(0x02, &serial_content));
        tbs.extend(&alg);
        tbs.extend(&cn);
        tbs.extend(validity);
        tbs.extend(&cn);
        tbs.extend(spki.as_bytes());
        let tbs = der_write(0x30, &tbs);
        let digest = Sha256::digest(&tbs);
        let sig = key
            .0
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|_| KeyError::SignFailed)?;
        let mut bits = vec![0u8];
        bits.extend(sig);
        let mut body = tbs;
        body.extend(alg);
        body.extend(der_write(0x03, &bits));
        Certificate::from_der(&der_write(0x30, &body))
    }
}

/// One DER TLV: (tag, content, rest).
fn der_read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyError> {
    crate::der::read(input).map_err(KeyError::BadCertificate)
}

use crate::der::write as der_write;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_length_forms() {
        let long = vec![7u8; 300];
        let enc = der_write(0x04, &long);
        let (tag, content, rest) = der_read(&enc).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (0x04, 300, 0));
        assert!(der_read(&[0x30, 0x82, 0x01]).is_err());
    }

    #[test]
    fn rewraps_to_64_columns() {
        let pem = rewrap_pem("PUBLIC KEY", &"A".repeat(130));
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[3].len(), 2);
    }
}
