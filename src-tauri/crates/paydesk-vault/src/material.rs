//! Key material: what each purpose holds, importing the formats merchants have, generating
//! RSA keys, fingerprints and public-key export.
//!
//! A [`Material`] is the (secret) payload to seal plus its [`KeyInfo`], the public facts that
//! may be shown: fingerprint (SHA-256 of the SPKI DER), key size, certificate serial and
//! validity, a Stripe key's type and last four characters. `KeyInfo` never holds secret bytes.

use crate::error::VaultError;
use crate::pem::{pem_or_base64_to_der, PemError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strum::VariantArray;
use zeroize::Zeroizing;

/// What a credential is for. One credential per (account, purpose).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Purpose {
    /// Alipay app private key (signs requests).
    AlipayAppKey,
    /// Alipay public key or Alipay public certificate (verifies answers).
    AlipayPublicKey,
    /// WeChat merchant API private key plus its certificate serial (signs requests).
    WechatMerchantKey,
    /// WeChat APIv3 key (decrypts notifications and certificates).
    WechatApiv3Key,
    /// WeChat Pay platform certificates (verify answers; several valid at once).
    WechatPlatformCert,
    /// WeChat Pay public key (`PUB_KEY_ID_...`).
    WechatPublicKey,
    /// Stripe secret (`sk_`) or restricted (`rk_`) key.
    StripeSecretKey,
    /// Stripe webhook endpoint secret (`whsec_`).
    StripeWebhookSecret,
}

pub const ALL_PURPOSES: &[Purpose] = Purpose::VARIANTS;

impl Purpose {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// Blanks trimmed, `-` read as `_`, ASCII case ignored.
    pub fn parse(s: &str) -> Result<Purpose, String> {
        let norm = s.trim().replace('-', "_");
        Purpose::VARIANTS
            .iter()
            .copied()
            .find(|p| p.as_str().eq_ignore_ascii_case(&norm))
            .ok_or_else(|| {
                format!(
                    "unknown key purpose {s:?}; expected one of {}",
                    ALL_PURPOSES
                        .iter()
                        .map(Purpose::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    /// Several versions may be active at once (WeChat platform certificates).
    pub fn allows_several_active(&self) -> bool {
        matches!(self, Purpose::WechatPlatformCert)
    }

    /// Verification material: retired versions stay usable for verification during a grace
    /// period.
    pub fn verifies(&self) -> bool {
        matches!(
            self,
            Purpose::AlipayPublicKey | Purpose::WechatPlatformCert | Purpose::WechatPublicKey
        )
    }

    /// Paydesk can generate this key itself (RSA app / merchant keys).
    pub fn generatable(&self) -> bool {
        matches!(self, Purpose::AlipayAppKey | Purpose::WechatMerchantKey)
    }
}

impl std::str::FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::parse(s)
    }
}

/// The public facts about one key version: safe to show, log and export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyInfo {
    /// "rsa_private_key", "rsa_public_key", "certificate", "symmetric_key", "api_key".
    pub kind: String,
    /// SHA-256 (hex) of the SPKI DER for RSA keys and certificates; for symmetric secrets a
    /// domain-separated SHA-256 of the key, shortened to 16 hex digits.
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub key_bits: Option<u32>,
    /// Certificate serial (uppercase hex), e.g. the WeChat merchant / platform serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub serial: Option<String>,
    /// Provider key id, e.g. `PUB_KEY_ID_...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub not_after: Option<DateTime<Utc>>,
    /// e.g. "sk_live_…4f2a" for Stripe keys (type and last four, as Stripe's dashboard shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub hint: Option<String>,
    /// SPKI DER, base64 (public).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub public_key: Option<String>,
    /// Certificate DER, base64 (public).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub certificate: Option<String>,
}

impl KeyInfo {
    /// The canonical JSON bound into the payload's AAD.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<KeyInfo, VaultError> {
        serde_json::from_str(text)
            .map_err(|e| VaultError::Internal(format!("stored key info is not readable: {e}")))
    }

    pub fn rsa_public_key(&self) -> Option<RsaPublicKey> {
        let der = B64.decode(self.public_key.as_deref()?).ok()?;
        RsaPublicKey::from_public_key_der(&der).ok()
    }

    /// SPKI PEM of the public key, for the provider console.
    pub fn public_key_pem(&self) -> Option<String> {
        self.rsa_public_key()?
            .to_public_key_pem(LineEnding::LF)
            .ok()
    }

    /// One-line base64 SPKI, the way Alipay's console expects it.
    pub fn public_key_base64(&self) -> Option<String> {
        self.public_key.clone()
    }

    /// Certificate PEM, when the version holds a certificate.
    pub fn certificate_pem(&self) -> Option<String> {
        self.certificate
            .as_deref()
            .map(|b| pem_wrap("CERTIFICATE", b))
    }
}

/// A payload to seal and its public info.
pub struct Material {
    pub purpose: Purpose,
    pub payload: SecretBox<Vec<u8>>,
    pub info: KeyInfo,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("purpose", &self.purpose)
            .field("payload", &"[redacted]")
            .field("info", &self.info)
            .finish()
    }
}

fn bad(what: &str, reason: impl Into<String>) -> VaultError {
    VaultError::input(what, reason)
}

fn spki_der(key: &RsaPublicKey) -> Result<Vec<u8>, VaultError> {
    key.to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|_| VaultError::Internal("cannot encode a public key".into()))
}

/// SHA-256 (hex) of a public key's SPKI DER.
pub fn fingerprint(key: &RsaPublicKey) -> Result<String, VaultError> {
    Ok(hex::encode(Sha256::digest(spki_der(key)?)))
}

fn symmetric_fingerprint(secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"paydesk-vault/v1/fingerprint|");
    h.update(secret);
    hex::encode(&h.finalize()[..8])
}

fn rsa_info(kind: &str, key: &RsaPublicKey) -> Result<KeyInfo, VaultError> {
    let der = spki_der(key)?;
    Ok(KeyInfo {
        kind: kind.into(),
        fingerprint: hex::encode(Sha256::digest(&der)),
        key_bits: u32::try_from(key.size() * 8).ok(),
        public_key: Some(B64.encode(&der)),
        ..KeyInfo::default()
    })
}

/// PEM (any label) or bare base64 → DER ([`crate::pem`]). Never echoes the input.
fn to_der(what: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(bad(
            what,
            "the key is password-protected; export it without a password (openssl pkcs8 -nocrypt) and import again",
        ));
    }
    pem_or_base64_to_der(text).map_err(|e| match e {
        PemError::Empty => bad(what, "the text is empty"),
        PemError::NotBase64 => bad(
            what,
            "not PEM or base64 (expected -----BEGIN ...----- or one line of base64)",
        ),
    })
}

fn parse_private(what: &str, text: &str) -> Result<RsaPrivateKey, VaultError> {
    let der = to_der(what, text)?;
    RsaPrivateKey::from_pkcs8_der(&der)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
        .map_err(|_| bad(what, "not an RSA private key in PKCS#1 or PKCS#8 form"))
}

fn parse_public(what: &str, text: &str) -> Result<(RsaPublicKey, Option<Cert>), VaultError> {
    let der = to_der(what, text)?;
    if let Ok(k) = RsaPublicKey::from_public_key_der(&der) {
        return Ok((k, None));
    }
    if let Ok(k) = RsaPublicKey::from_pkcs1_der(&der) {
        return Ok((k, None));
    }
    let cert = Cert::from_der(&der).map_err(|_| {
        bad(
            what,
            "not an RSA public key (SPKI, PKCS#1) or X.509 certificate",
        )
    })?;
    let key = cert.public_key(what)?;
    Ok((key, Some(cert)))
}

fn private_material(purpose: Purpose, key: &RsaPrivateKey) -> Result<Material, VaultError> {
    let bits = key.size() * 8;
    if bits < 2048 {
        return Err(bad(
            "private key",
            format!("it is RSA-{bits}; providers require at least RSA-2048"),
        ));
    }
    let der = key
        .to_pkcs8_der()
        .map_err(|_| VaultError::Internal("cannot encode a private key".into()))?;
    let info = rsa_info("rsa_private_key", &key.to_public_key())?;
    Ok(Material {
        purpose,
        payload: SecretBox::new(Box::new(der.as_bytes().to_vec())),
        info,
    })
}

impl Material {
    /// An RSA private key in PEM PKCS#1 / PKCS#8 or bare base64 (Alipay's one-line form).
    /// With `public_text`, the public key (or certificate) must belong to it.
    pub fn private_key(
        purpose: Purpose,
        text: &SecretString,
        public_text: Option<&str>,
    ) -> Result<Material, VaultError> {
        let key = parse_private("private key", text.expose_secret())?;
        if let Some(p) = public_text {
            let (public, _) = parse_public("public key", p)?;
            if public != key.to_public_key() {
                return Err(bad(
                    "public key",
                    format!(
                        "it does not match the private key (public key fingerprint {}, private key's {}); import the matching pair",
                        short(&fingerprint(&public)?),
                        short(&fingerprint(&key.to_public_key())?)
                    ),
                ));
            }
        }
        private_material(purpose, &key)
    }

    /// A fresh RSA key (2048 or 4096 bits) generated here.
    pub fn generate_rsa(purpose: Purpose, bits: usize) -> Result<Material, VaultError> {
        if bits != 2048 && bits != 4096 {
            return Err(bad("key size", format!("{bits} bits; choose 2048 or 4096")));
        }
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map_err(|e| VaultError::Internal(format!("RSA key generation failed: {e}")))?;
        private_material(purpose, &key)
    }

    /// A provider public key (SPKI / PKCS#1, PEM or base64) or public certificate.
    pub fn public_key(purpose: Purpose, text: &str) -> Result<Material, VaultError> {
        let (key, cert) = parse_public("public key", text)?;
        let mut info = rsa_info("rsa_public_key", &key)?;
        if let Some(c) = cert {
            c.fill(&mut info);
        }
        let payload = spki_der(&key)?;
        Ok(Material {
            purpose,
            payload: SecretBox::new(Box::new(payload)),
            info,
        })
    }

    /// WeChat Pay public key with its `PUB_KEY_ID_...`.
    pub fn wechat_public_key(text: &str, key_id: &str) -> Result<Material, VaultError> {
        let id = key_id.trim();
        if !id.starts_with("PUB_KEY_ID_") {
            return Err(bad(
                "WeChat Pay public key id",
                format!("{id:?} does not start with PUB_KEY_ID_ (copy it from 商户平台 → API安全)"),
            ));
        }
        let mut m = Material::public_key(Purpose::WechatPublicKey, text)?;
        m.info.key_id = Some(id.to_string());
        Ok(m)
    }

    /// `apiclient_key.pem` + `apiclient_cert.pem`: the key must match the certificate, and
    /// the certificate must name the merchant `mchid`. The serial is read from the certificate.
    pub fn wechat_merchant(
        key_text: &SecretString,
        cert_text: &str,
        mchid: &str,
    ) -> Result<Material, VaultError> {
        let key = parse_private("apiclient_key.pem", key_text.expose_secret())?;
        let der = to_der("apiclient_cert.pem", cert_text)?;
        let cert = Cert::from_der(&der).map_err(|e| {
            bad(
                "apiclient_cert.pem",
                format!("not an X.509 certificate: {e}"),
            )
        })?;
        let cert_key = cert.public_key("apiclient_cert.pem")?;
        if cert_key != key.to_public_key() {
            return Err(bad(
                "apiclient_cert.pem",
                format!(
                    "the certificate (serial {}) is not for this private key; use the apiclient_key.pem and apiclient_cert.pem downloaded together",
                    cert.serial_hex
                ),
            ));
        }
        let mchid = mchid.trim();
        if !mchid.is_empty() && !cert.subject_values.iter().any(|v| v.contains(mchid)) {
            return Err(bad(
                "apiclient_cert.pem",
                format!(
                    "the certificate (serial {}, subject {}) is for another merchant, not {mchid}",
                    cert.serial_hex,
                    cert.subject_values.join(",")
                ),
            ));
        }
        let mut m = private_material(Purpose::WechatMerchantKey, &key)?;
        cert.fill(&mut m.info);
        Ok(m)
    }

    /// A WeChat Pay platform certificate (PEM), as decrypted from `/v3/certificates`.
    pub fn wechat_platform_cert(cert_text: &str) -> Result<Material, VaultError> {
        let der = to_der("platform certificate", cert_text)?;
        let cert = Cert::from_der(&der).map_err(|e| {
            bad(
                "platform certificate",
                format!("not an X.509 certificate: {e}"),
            )
        })?;
        let key = cert.public_key("platform certificate")?;
        let mut info = rsa_info("certificate", &key)?;
        cert.fill(&mut info);
        Ok(Material {
            purpose: Purpose::WechatPlatformCert,
            payload: SecretBox::new(Box::new(der.to_vec())),
            info,
        })
    }

    /// The 32-character APIv3 key.
    pub fn apiv3_key(text: &SecretString) -> Result<Material, VaultError> {
        let k = text.expose_secret().trim();
        if k.len() != 32 || !k.is_ascii() {
            return Err(bad(
                "APIv3 key",
                format!(
                    "it must be exactly 32 ASCII characters, got {} bytes",
                    k.len()
                ),
            ));
        }
        Ok(symmetric(Purpose::WechatApiv3Key, "symmetric_key", k, None))
    }

    /// A Stripe secret (`sk_`) or restricted (`rk_`) key.
    pub fn stripe_key(text: &SecretString) -> Result<Material, VaultError> {
        let k = text.expose_secret().trim();
        let prefix = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"]
            .into_iter()
            .find(|p| k.starts_with(p));
        let Some(prefix) = prefix else {
            let why = if k.starts_with("pk_") {
                "this is a publishable key (pk_); Paydesk needs a secret (sk_) or, better, a restricted (rk_) key".to_string()
            } else {
                "expected a key starting with sk_live_, sk_test_, rk_live_ or rk_test_".to_string()
            };
            return Err(bad("Stripe key", why));
        };
        if k.len() < prefix.len() + 8 || k.chars().any(char::is_whitespace) {
            return Err(bad("Stripe key", "it is too short or contains spaces"));
        }
        Ok(symmetric(
            Purpose::StripeSecretKey,
            "api_key",
            k,
            Some(prefix),
        ))
    }

    /// A Stripe webhook endpoint secret (`whsec_`).
    pub fn stripe_webhook_secret(text: &SecretString) -> Result<Material, VaultError> {
        let k = text.expose_secret().trim();
        if !k.starts_with("whsec_") || k.len() < 14 {
            return Err(bad(
                "Stripe webhook secret",
                "expected a secret starting with whsec_",
            ));
        }
        Ok(symmetric(
            Purpose::StripeWebhookSecret,
            "api_key",
            k,
            Some("whsec_"),
        ))
    }

    /// Rebuilds a material from an opened payload and its stored info.
    pub fn from_parts(purpose: Purpose, payload: SecretBox<Vec<u8>>, info: KeyInfo) -> Material {
        Material {
            purpose,
            payload,
            info,
        }
    }

    /// PKCS#8 PEM of a private-key payload (what the provider adapters take).
    pub fn private_key_pem(&self) -> Result<SecretString, VaultError> {
        let key = RsaPrivateKey::from_pkcs8_der(self.payload.expose_secret()).map_err(|_| {
            VaultError::State(format!("the {} version holds no private key", self.purpose))
        })?;
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|z| SecretString::from(z.to_string()))
            .map_err(|_| VaultError::Internal("cannot encode a private key".into()))
    }

    /// A symmetric payload as text (APIv3 key, Stripe keys).
    pub fn secret_text(&self) -> Result<SecretString, VaultError> {
        std::str::from_utf8(self.payload.expose_secret())
            .map(|s| SecretString::from(s.to_string()))
            .map_err(|_| VaultError::State(format!("the {} version is not text", self.purpose)))
    }
}

fn symmetric(purpose: Purpose, kind: &str, secret: &str, prefix: Option<&str>) -> Material {
    let hint = prefix.map(|p| {
        let tail: String = secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{p}…{tail}")
    });
    Material {
        purpose,
        payload: SecretBox::new(Box::new(secret.as_bytes().to_vec())),
        info: KeyInfo {
            kind: kind.into(),
            fingerprint: symmetric_fingerprint(secret.as_bytes()),
            key_bits: u32::try_from(secret.len() * 8).ok(),
            hint,
            ..KeyInfo::default()
        },
    }
}

fn short(fp: &str) -> &str {
    fp.get(..16).unwrap_or(fp)
}

fn pem_wrap(label: &str, b64: &str) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// -------------------------------------------------------------------------------------
// Minimal X.509 reader: serial, subject attribute values, validity, SPKI.
// -------------------------------------------------------------------------------------

/// The parts of a certificate the vault shows and checks.
#[derive(Debug, Clone)]
pub struct Cert {
    pub serial_hex: String,
    pub subject_values: Vec<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    spki: Vec<u8>,
    der: Vec<u8>,
}

fn der_read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), &'static str> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&len0, mut rest) = rest.split_first().ok_or("truncated DER")?;
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length");
        }
        let mut l = 0usize;
        for &b in &rest[..n] {
            l = (l << 8) | usize::from(b);
        }
        rest = &rest[n..];
        l
    };
    if rest.len() < len {
        return Err("truncated DER");
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn der_time(tag: u8, content: &[u8]) -> Option<DateTime<Utc>> {
    let s = std::str::from_utf8(content).ok()?.trim_end_matches('Z');
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |r: std::ops::Range<usize>| -> Option<u32> { rest.get(r)?.parse().ok() };
    let date = NaiveDate::from_ymd_opt(year, n(0..2)?, n(2..4)?)?;
    let t = date.and_hms_opt(n(4..6)?, n(6..8)?, n(8..10).unwrap_or(0))?;
    Some(Utc.from_utc_datetime(&t))
}

fn subject_values(name: &[u8]) -> Vec<String> {
    // Name ::= SEQUENCE OF SET OF SEQUENCE { OID, value }
    let mut out = Vec::new();
    let mut rest = name;
    while let Ok((_, set, r)) = der_read(rest) {
        rest = r;
        let mut inner = set;
        while let Ok((_, atv, r2)) = der_read(inner) {
            inner = r2;
            if let Ok((_, _oid, after)) = der_read(atv) {
                if let Ok((_, value, _)) = der_read(after) {
                    out.push(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
    }
    out
}

impl Cert {
    pub fn from_der(der: &[u8]) -> Result<Cert, &'static str> {
        let (tag, cert, _) = der_read(der)?;
        if tag != 0x30 {
            return Err("not a SEQUENCE");
        }
        let (tag, tbs, _) = der_read(cert)?;
        if tag != 0x30 {
            return Err("no tbsCertificate");
        }
        let (mut tag, mut field, mut rest) = der_read(tbs)?;
        if tag == 0xa0 {
            (tag, field, rest) = der_read(rest)?;
        }
        if tag != 0x02 {
            return Err("no serial number");
        }
        let serial = if field.len() > 1 && field[0] == 0 {
            &field[1..]
        } else {
            field
        };
        let (_, _alg, r) = der_read(rest)?;
        let (_, _issuer, r) = der_read(r)?;
        let (_, validity, r) = der_read(r)?;
        let (t1, nb, vr) = der_read(validity)?;
        let (t2, na, _) = der_read(vr)?;
        let (_, subject, r) = der_read(r)?;
        let spki_len = r.len() - der_read(r)?.2.len();
        Ok(Cert {
            serial_hex: hex::encode_upper(serial),
            subject_values: subject_values(subject),
            not_before: der_time(t1, nb),
            not_after: der_time(t2, na),
            spki: r[..spki_len].to_vec(),
            der: der.to_vec(),
        })
    }

    pub fn public_key(&self, what: &str) -> Result<RsaPublicKey, VaultError> {
        RsaPublicKey::from_public_key_der(&self.spki)
            .map_err(|_| bad(what, "the certificate does not hold an RSA public key"))
    }

    fn fill(&self, info: &mut KeyInfo) {
        info.serial = Some(self.serial_hex.clone());
        info.subject = Some(self.subject_values.join(","));
        info.not_before = self.not_before;
        info.not_after = self.not_after;
        info.certificate = Some(B64.encode(&self.der));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_names_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for p in ALL_PURPOSES {
            assert!(seen.insert(p.as_str()));
            assert_eq!(p.as_str().parse::<Purpose>(), Ok(*p));
            assert_eq!(p.to_string(), p.as_str());
            assert_eq!(serde_json::to_value(p).ok(), Some(p.as_str().into()));
        }
        assert_eq!(ALL_PURPOSES.len(), 8);
        assert_eq!(
            Purpose::parse(" Wechat-APIv3-Key "),
            Ok(Purpose::WechatApiv3Key)
        );
        assert_eq!(
            Purpose::parse("x"),
            Err("unknown key purpose \"x\"; expected one of alipay_app_key, alipay_public_key, wechat_merchant_key, wechat_apiv3_key, wechat_platform_cert, wechat_public_key, stripe_secret_key, stripe_webhook_secret".into())
        );
    }

    /// A self-signed certificate with the given CN (test helper, mirrors the sandbox's).
    pub(crate) fn self_signed(key: &RsaPrivateKey, serial: &[u8], cn: &str) -> String {
        use rsa::Pkcs1v15Sign;
        fn w(tag: u8, c: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            if c.len() < 0x80 {
                out.push(c.len() as u8);
            } else if c.len() < 0x100 {
                out.extend([0x81, c.len() as u8]);
            } else {
                out.extend([0x82, (c.len() >> 8) as u8, c.len() as u8]);
            }
            out.extend_from_slice(c);
            out
        }
        let alg = w(
            0x30,
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
            ],
        );
        let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03];
        atv.extend(w(0x0c, cn.as_bytes()));
        let name = w(0x30, &w(0x31, &w(0x30, &atv)));
        let mut v = w(0x17, b"200101000000Z");
        v.extend(w(0x18, b"20491231235959Z"));
        let mut tbs = w(0xa0, &w(0x02, &[2]));
        tbs.extend(w(0x02, serial));
        tbs.extend(&alg);
        tbs.extend(&name);
        tbs.extend(w(0x30, &v));
        tbs.extend(&name);
        tbs.extend(key.to_public_key().to_public_key_der().unwrap().as_bytes());
        let tbs = w(0x30, &tbs);
        let sig = key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&tbs))
            .unwrap();
        let mut bits = vec![0u8];
        bits.extend(sig);
        let mut body = tbs;
        body.extend(alg);
        body.extend(w(0x03, &bits));
        pem_wrap("CERTIFICATE", &B64.encode(w(0x30, &body)))
    }

    fn key() -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap()
    }

    #[test]
    fn imports_pkcs1_pkcs8_and_one_line_base64() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let k = key();
        let fp = fingerprint(&k.to_public_key()).unwrap();
        let pkcs8 = k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let pkcs1 = k.to_pkcs1_pem(LineEnding::CRLF).unwrap().to_string();
        let one_line = B64.encode(k.to_pkcs1_der().unwrap().as_bytes());
        let pub_b64 = B64.encode(k.to_public_key().to_public_key_der().unwrap().as_bytes());
        for text in [pkcs8, pkcs1, one_line] {
            let m = Material::private_key(
                Purpose::AlipayAppKey,
                &SecretString::from(text.clone()),
                Some(&pub_b64),
            )
            .unwrap();
            assert_eq!(m.info.fingerprint, fp);
            assert_eq!(m.info.key_bits, Some(2048));
            let json = m.info.to_json();
            let tail = &text
                .trim_end()
                .trim_end_matches(concat!("-----END ", "PRIVATE KEY-----"))
                .trim_end_matches(concat!("-----END RSA ", "PRIVATE KEY-----"))
                .trim_end();
            let probe: String = tail[tail.len() - 120..tail.len() - 60]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            assert!(!json.contains(&probe[..40]));
            assert!(format!("{m:?}").contains("redacted"));
        }
    }

    #[test]
    fn mismatched_public_key_is_refused_with_reason() {
        let a = key();
        let b = key();
        let pub_b = B64.encode(b.to_public_key().to_public_key_der().unwrap().as_bytes());
        let e = Material::private_key(
            Purpose::AlipayAppKey,
            &SecretString::from(a.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()),
            Some(&pub_b),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("does not match the private key"),
            "{e}"
        );
        let e = Material::private_key(
            Purpose::AlipayAppKey,
            &SecretString::from("garbage!!"),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not PEM or base64"), "{e}");
    }

    #[test]
    fn wechat_merchant_pair_checks_key_and_merchant() {
        let k = key();
        let cert = self_signed(&k, &[0x5a, 0x01, 0x02], "1900000001");
        let key_pem = SecretString::from(k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string());
        let m = Material::wechat_merchant(&key_pem, &cert, "1900000001").unwrap();
        assert_eq!(m.info.serial.as_deref(), Some("5A0102"));
        assert_eq!(
            m.info.not_after.unwrap().format("%Y-%m-%d").to_string(),
            "2049-12-31"
        );
        assert_eq!(m.info.not_before.unwrap().format("%Y").to_string(), "2020");
        let e = Material::wechat_merchant(&key_pem, &cert, "1900000002").unwrap_err();
        assert!(e.to_string().contains("another merchant"), "{e}");
        let other = key();
        let other_cert = self_signed(&other, &[1], "1900000001");
        let e = Material::wechat_merchant(&key_pem, &other_cert, "1900000001").unwrap_err();
        assert!(e.to_string().contains("not for this private key"), "{e}");
        let p = Material::wechat_platform_cert(&cert).unwrap();
        assert_eq!(p.info.serial.as_deref(), Some("5A0102"));
        assert!(p
            .info
            .certificate_pem()
            .unwrap()
            .contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn symmetric_secrets() {
        let m = Material::stripe_key(&SecretString::from("rk_live_ABCDEFGH12345678wxyz")).unwrap();
        assert_eq!(m.info.hint.as_deref(), Some("rk_live_…wxyz"));
        assert!(!m.info.to_json().contains("ABCDEFGH"));
        assert!(
            Material::stripe_key(&SecretString::from("pk_live_ABCDEFGH12345678"))
                .unwrap_err()
                .to_string()
                .contains("publishable")
        );
        assert!(Material::apiv3_key(&SecretString::from("short")).is_err());
        let a =
            Material::apiv3_key(&SecretString::from("0123456789abcdef0123456789abcdef")).unwrap();
        assert_eq!(
            a.secret_text().unwrap().expose_secret(),
            "0123456789abcdef0123456789abcdef"
        );
        assert!(Material::wechat_public_key("x", "KEY_1")
            .unwrap_err()
            .to_string()
            .contains("PUB_KEY_ID_"));
    }

    #[test]
    fn generated_keys_export_public_forms() {
        let m = Material::generate_rsa(Purpose::AlipayAppKey, 2048).unwrap();
        assert_eq!(m.info.key_bits, Some(2048));
        assert!(m
            .info
            .public_key_pem()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(m.info.public_key_base64().unwrap().starts_with("MIIBIjAN"));
        let pem = m.private_key_pem().unwrap();
        // PKCS#8 label ("-----BEGIN" + " PRIVATE KEY-----").
        assert!(pem.expose_secret().starts_with("-----BEGIN PRIVATE"));
        assert!(Material::generate_rsa(Purpose::AlipayAppKey, 1024).is_err());
        assert_eq!(
            Purpose::parse("alipay-app-key").unwrap(),
            Purpose::AlipayAppKey
        );
    }
}
