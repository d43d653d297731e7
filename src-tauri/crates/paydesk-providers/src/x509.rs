//! X.509 certificates as the providers use them: reading (issuer, subject, serial, validity,
//! key usage, signature), Alipay's certificate serial numbers (`app_cert_sn`,
//! `alipay_root_cert_sn`, `alipay_cert_sn`; providers.md §1.4) and chain validation that fails
//! closed with one line naming the certificate and the reason.
//!
//! The SN is computed exactly as the official Node SDK (`alipay-sdk` `antcertutil.getSN`):
//! the issuer's attributes in reverse order written `SHORT=value` and joined with `,` (short
//! names CN, C, L, ST, O, OU, E; any other attribute type is written with an empty name),
//! followed by the serial number in decimal, MD5, lowercase hex. For the root file only the
//! certificates whose signature algorithm is RSA (`1.2.840.113549.1.1.*`) count; their SNs are
//! joined with `_` in file order.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};
use std::fmt;

/// `rsaEncryption` family: every PKCS#1 signature algorithm OID starts with this.
const RSA_OID_PREFIX: &str = "1.2.840.113549.1.1";

/// Why a certificate cannot be used. `Display` is one line: the certificate (serial and
/// subject) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError {
    /// The certificate's serial (uppercase hex), or empty when it could not be read at all.
    pub serial: String,
    /// Its subject (`CN=…,O=…`), or empty.
    pub subject: String,
    pub reason: CertProblem,
}

/// What is wrong with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    Malformed(String),
    Expired {
        not_after: DateTime<Utc>,
    },
    NotYetValid {
        not_before: DateTime<Utc>,
    },
    /// No configured root or intermediate issued it (`issuer` is its issuer name).
    UnknownIssuer {
        issuer: String,
    },
    /// The named issuer's key does not verify its signature.
    BadSignature {
        issuer: String,
    },
    /// Its key usage does not allow what it is used for.
    KeyUsage(&'static str),
    /// An issuing certificate that is not a CA.
    NotCa,
    UnsupportedAlgorithm(String),
    /// A chain longer than any provider uses (a loop, or garbage).
    ChainTooLong,
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertProblem::Malformed(d) => write!(f, "is not a readable X.509 certificate ({d})"),
            CertProblem::Expired { not_after } => {
                write!(f, "expired on {}", not_after.format("%Y-%m-%d %H:%M:%S UTC"))
            }
            CertProblem::NotYetValid { not_before } => write!(
                f,
                "is not valid yet (valid from {})",
                not_before.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            CertProblem::UnknownIssuer { issuer } => write!(
                f,
                "is issued by {issuer}, which is not a configured root or intermediate certificate (wrong issuer)"
            ),
            CertProblem::BadSignature { issuer } => {
                write!(f, "has a signature that {issuer} did not make (bad signature)")
            }
            CertProblem::KeyUsage(what) => write!(f, "has a key usage that does not allow {what}"),
            CertProblem::NotCa => f.write_str("issues certificates but is not a CA certificate"),
            CertProblem::UnsupportedAlgorithm(oid) => {
                write!(f, "is signed with an unsupported algorithm ({oid})")
            }
            CertProblem::ChainTooLong => f.write_str("has a chain longer than 8 certificates"),
        }
    }
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.serial.is_empty(), self.subject.is_empty()) {
            (true, _) => write!(f, "certificate {}", self.reason),
            (false, true) => write!(f, "certificate {} {}", self.serial, self.reason),
            (false, false) => write!(
                f,
                "certificate {} ({}) {}",
                self.serial, self.subject, self.reason
            ),
        }
    }
}

impl std::error::Error for CertError {}

/// One attribute of a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttr {
    /// Dotted OID, e.g. `2.5.4.3`.
    pub oid: String,
    /// The value's bytes read as UTF-8 (as the Node SDK does for every string type).
    pub value: String,
}

/// A parsed X.509 v3 certificate (the parts the providers need).
#[derive(Clone)]
pub struct X509 {
    der: Vec<u8>,
    tbs: Vec<u8>,
    /// Serial number, big-endian magnitude without a leading zero byte.
    serial: Vec<u8>,
    signature_oid: String,
    issuer_raw: Vec<u8>,
    subject_raw: Vec<u8>,
    issuer: Vec<NameAttr>,
    subject: Vec<NameAttr>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    spki: Vec<u8>,
    /// The KeyUsage bits (bit 0 = digitalSignature is 0x8000), if the extension is present.
    key_usage: Option<u16>,
    /// BasicConstraints cA, if the extension is present.
    is_ca: Option<bool>,
    signature: Vec<u8>,
}

impl fmt::Debug for X509 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X509")
            .field("serial", &self.serial_hex())
            .field("subject", &self.subject_string())
            .field("issuer", &self.issuer_string())
            .finish_non_exhaustive()
    }
}

/// The whole TLV at the start of `input` (header included).
fn der_whole(input: &[u8]) -> Result<&[u8], String> {
    let (_, _, rest) = der_read(input)?;
    Ok(&input[..input.len() - rest.len()])
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let (t, content, rest) = der_read(input)?;
    if t != tag {
        return Err(format!("{what}: expected tag {tag:#04x}, found {t:#04x}"));
    }
    Ok((content, rest))
}

fn oid_string(content: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < 9 {
                let (a, c) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                parts.push(a);
                parts.push(c);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn algorithm_oid(alg_seq_content: &[u8]) -> Result<String, String> {
    let (oid, _) = expect(alg_seq_content, 0x06, "algorithm")?;
    Ok(oid_string(oid))
}

fn parse_name(content: &[u8]) -> Result<Vec<NameAttr>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (set, r) = expect(rest, 0x31, "name")?;
        rest = r;
        let mut inner = set;
        while !inner.is_empty() {
            let (atv, r2) = expect(inner, 0x30, "name attribute")?;
            inner = r2;
            let (oid, after) = expect(atv, 0x06, "name attribute type")?;
            let (_, value, _) = der_read(after)?;
            out.push(NameAttr {
                oid: oid_string(oid),
                value: String::from_utf8_lossy(value).into_owned(),
            });
        }
    }
    Ok(out)
}

fn parse_time(tag: u8, content: &[u8]) -> Result<DateTime<Utc>, String> {
    let bad = || "unreadable validity time".to_string();
    let s = std::str::from_utf8(content).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = s.get(..2).ok_or_else(bad)?.parse().map_err(|_| bad())?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &s[2..])
        }
        0x18 => (
            s.get(..4).ok_or_else(bad)?.parse().map_err(|_| bad())?,
            s.get(4..).ok_or_else(bad)?,
        ),
        _ => return Err(bad()),
    };
    let n = |r: std::ops::Range<usize>| -> Result<u32, String> {
        rest.get(r).ok_or_else(bad)?.parse().map_err(|_| bad())
    };
    let date = NaiveDate::from_ymd_opt(year, n(0..2)?, n(2..4)?).ok_or_else(bad)?;
    let t = date
        .and_hms_opt(n(4..6)?, n(6..8)?, n(8..10)?)
        .ok_or_else(bad)?;
    Ok(Utc.from_utc_datetime(&t))
}

/// Short names the Node SDK (`@fidm/x509`) writes; any other attribute gets an empty name.
fn short_name(oid: &str) -> &'static str {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "E",
        _ => "",
    }
}

/// `CN=…,OU=…,O=…,C=…`: the attributes most-specific first (the reverse of the encoding),
/// no spaces (the SDK's `principalName`).
fn name_string(attrs: &[NameAttr]) -> String {
    attrs
        .iter()
        .rev()
        .map(|a| format!("{}={}", short_name(&a.oid), a.value))
        .collect::<Vec<_>>()
        .join(",")
}

/// Big-endian unsigned bytes → decimal text.
fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = Vec::new(); // little-endian base-10 digits
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

impl X509 {
    pub fn from_der(der: &[u8]) -> Result<X509, CertError> {
        Self::parse(der).map_err(|d| CertError {
            serial: String::new(),
            subject: String::new(),
            reason: CertProblem::Malformed(d),
        })
    }

    fn parse(der: &[u8]) -> Result<X509, String> {
        let (cert, _) = expect(der, 0x30, "certificate")?;
        let tbs_whole = der_whole(cert)?;
        let (tbs, rest) = expect(cert, 0x30, "tbsCertificate")?;
        let (outer_alg, rest) = expect(rest, 0x30, "signatureAlgorithm")?;
        let (bits, _) = expect(rest, 0x03, "signature")?;
        let signature = bits.get(1..).ok_or("empty signature")?.to_vec();
        let signature_oid = algorithm_oid(outer_alg)?;

        let mut r = tbs;
        if r.first() == Some(&0xa0) {
            r = der_read(r)?.2;
        }
        let (serial, r) = expect(r, 0x02, "serialNumber")?;
        let serial = match serial {
            [0, rest @ ..] if !rest.is_empty() => rest.to_vec(),
            s => s.to_vec(),
        };
        let (_inner_alg, r) = expect(r, 0x30, "signature")?;
        let issuer_whole = der_whole(r)?.to_vec();
        let (issuer, r) = expect(r, 0x30, "issuer")?;
        let (validity, r) = expect(r, 0x30, "validity")?;
        let (t1, nb, vr) = der_read(validity)?;
        let (t2, na, _) = der_read(vr)?;
        let subject_whole = der_whole(r)?.to_vec();
        let (subject, r) = expect(r, 0x30, "subject")?;
        let spki = der_whole(r)?.to_vec();
        let (_, _, mut r) = der_read(r)?;
        let mut key_usage = None;
        let mut is_ca = None;
        while !r.is_empty() {
            let (tag, content, rest) = der_read(r)?;
            r = rest;
            if tag != 0xa3 {
                continue;
            }
            let (exts, _) = expect(content, 0x30, "extensions")?;
            let mut e = exts;
            while !e.is_empty() {
                let (ext, rest) = expect(e, 0x30, "extension")?;
                e = rest;
                let (oid, mut x) = expect(ext, 0x06, "extension id")?;
                if x.first() == Some(&0x01) {
                    x = der_read(x)?.2;
                }
                let (value, _) = expect(x, 0x04, "extension value")?;
                match oid_string(oid).as_str() {
                    "2.5.29.15" => {
                        let (bits, _) = expect(value, 0x03, "keyUsage")?;
                        let b0 = u16::from(bits.get(1).copied().unwrap_or(0));
                        let b1 = u16::from(bits.get(2).copied().unwrap_or(0));
                        key_usage = Some((b0 << 8) | b1);
                    }
                    "2.5.29.19" => {
                        let (seq, _) = expect(value, 0x30, "basicConstraints")?;
                        is_ca = Some(match der_read(seq) {
                            Ok((0x01, v, _)) => v.first().is_some_and(|b| *b != 0),
                            _ => false,
                        });
                    }
                    _ => {}
                }
            }
        }
        Ok(X509 {
            der: der_whole(der)?.to_vec(),
            tbs: tbs_whole.to_vec(),
            serial,
            signature_oid,
            issuer_raw: issuer_whole,
            subject_raw: subject_whole,
            issuer: parse_name(issuer)?,
            subject: parse_name(subject)?,
            not_before: parse_time(t1, nb)?,
            not_after: parse_time(t2, na)?,
            spki,
            key_usage,
            is_ca,
            signature,
        })
    }

    /// Every `CERTIFICATE` block of a PEM text, in order (a chain or a root bundle), or one
    /// bare base64 certificate.
    pub fn parse_pem_bundle(text: &str) -> Result<Vec<X509>, CertError> {
        let malformed = |d: &str| CertError {
            serial: String::new(),
            subject: String::new(),
            reason: CertProblem::Malformed(d.into()),
        };
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let mut out = Vec::new();
        if !text.contains(BEGIN) {
            let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            if b64.is_empty() {
                return Err(malformed("the text is empty"));
            }
            let der = B64
                .decode(b64)
                .map_err(|_| malformed("not PEM or base64"))?;
            out.push(X509::from_der(&der)?);
            return Ok(out);
        }
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let after = &rest[start + BEGIN.len()..];
            let end = after
                .find(END)
                .ok_or_else(|| malformed("a CERTIFICATE block has no END line"))?;
            let b64: String = after[..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let der = B64
                .decode(b64)
                .map_err(|_| malformed("a CERTIFICATE block is not base64"))?;
            out.push(X509::from_der(&der)?);
            rest = &after[end + END.len()..];
        }
        Ok(out)
    }

    /// The first certificate of a PEM text (the leaf of a chain file).
    pub fn first_of_pem(text: &str) -> Result<X509, CertError> {
        X509::parse_pem_bundle(text)?
            .into_iter()
            .next()
            .ok_or_else(|| CertError {
                serial: String::new(),
                subject: String::new(),
                reason: CertProblem::Malformed("no certificate in the text".into()),
            })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn to_pem(&self) -> String {
        crate::keys::rewrap_pem("CERTIFICATE", &B64.encode(&self.der))
    }

    /// Uppercase hex, two digits per byte (wechatpay-go's `%X` of the serial's bytes).
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(&self.serial)
    }

    /// The serial number in decimal.
    pub fn serial_decimal(&self) -> String {
        decimal(&self.serial)
    }

    pub fn issuer_string(&self) -> String {
        name_string(&self.issuer)
    }

    pub fn subject_string(&self) -> String {
        name_string(&self.subject)
    }

    /// The subject's CN, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.subject
            .iter()
            .find(|a| a.oid == "2.5.4.3")
            .map(|a| a.value.as_str())
    }

    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The signature algorithm OID (dotted).
    pub fn signature_oid(&self) -> &str {
        &self.signature_oid
    }

    /// Signed with an RSA algorithm (`1.2.840.113549.1.1.*`); what Alipay's root SN counts.
    pub fn is_rsa_signed(&self) -> bool {
        self.signature_oid.starts_with(RSA_OID_PREFIX)
    }

    pub fn public_key(&self) -> Result<RsaPublicKey, CertError> {
        RsaPublicKey::from_public_key_der(&self.spki).map_err(|_| {
            self.error(CertProblem::UnsupportedAlgorithm(
                "a non-RSA public key".into(),
            ))
        })
    }

    /// Alipay's certificate SN: MD5(issuer string + decimal serial), lowercase hex.
    pub fn alipay_sn(&self) -> String {
        let mut h = Md5::new();
        h.update(self.issuer_string().as_bytes());
        h.update(self.serial_decimal().as_bytes());
        hex::encode(h.finalize())
    }

    fn error(&self, reason: CertProblem) -> CertError {
        CertError {
            serial: self.serial_hex(),
            subject: self.subject_string(),
            reason,
        }
    }

    fn is_self_issued(&self) -> bool {
        self.issuer_raw == self.subject_raw
    }

    /// Valid at `now` (not before ≤ now ≤ not after).
    pub fn check_validity(&self, now: DateTime<Utc>) -> Result<(), CertError> {
        if now < self.not_before {
            return Err(self.error(CertProblem::NotYetValid {
                not_before: self.not_before,
            }));
        }
        if now > self.not_after {
            return Err(self.error(CertProblem::Expired {
                not_after: self.not_after,
            }));
        }
        Ok(())
    }

    /// The key may verify signatures: no KeyUsage extension, or one with digitalSignature
    /// (or nonRepudiation, which some CAs set alone on signing certificates).
    pub fn check_signing_usage(&self) -> Result<(), CertError> {
        match self.key_usage {
            Some(bits) if bits & 0xc000 == 0 => {
                Err(self.error(CertProblem::KeyUsage("digital signatures")))
            }
            _ => Ok(()),
        }
    }

    /// Whether `issuer` made this certificate's signature (names and signature).
    fn signed_by(&self, issuer: &X509) -> Result<(), CertError> {
        let key = issuer.public_key().map_err(|_| {
            self.error(CertProblem::UnsupportedAlgorithm(format!(
                "{} by a non-RSA issuer key",
                self.signature_oid
            )))
        })?;
        let ok = match self.signature_oid.as_str() {
            "1.2.840.113549.1.1.11" => key.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&self.tbs),
                &self.signature,
            ),
            "1.2.840.113549.1.1.12" => key.verify(
                Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(&self.tbs),
                &self.signature,
            ),
            "1.2.840.113549.1.1.13" => key.verify(
                Pkcs1v15Sign::new::<Sha512>(),
                &Sha512::digest(&self.tbs),
                &self.signature,
            ),
            "1.2.840.113549.1.1.5" => key.verify(
                Pkcs1v15Sign::new::<sha1::Sha1>(),
                &<sha1::Sha1 as sha1::Digest>::digest(&self.tbs),
                &self.signature,
            ),
            other => return Err(self.error(CertProblem::UnsupportedAlgorithm(other.to_string()))),
        };
        ok.map_err(|_| {
            self.error(CertProblem::BadSignature {
                issuer: issuer.subject_string(),
            })
        })
    }

    /// Validates this certificate for verifying signatures at `now`: valid, key usage allows
    /// signatures, and chained by signature to one of `roots` (trust anchors), possibly through
    /// `intermediates` (each valid at `now` and a CA). The first problem is the error.
    pub fn validate_chain(
        &self,
        intermediates: &[X509],
        roots: &[X509],
        now: DateTime<Utc>,
    ) -> Result<(), CertError> {
        self.check_validity(now)?;
        self.check_signing_usage()?;
        // The leaf itself is a configured root: trusted as is.
        if roots.iter().any(|r| r.der == self.der) {
            return Ok(());
        }
        let mut current = self;
        for _ in 0..8 {
            let same_name = |c: &&X509| c.subject_raw == current.issuer_raw;
            // Roots first: a match by name must also verify.
            let root_matches: Vec<&X509> = roots.iter().filter(same_name).collect();
            let mut last_err = None;
            for root in &root_matches {
                match current.signed_by(root) {
                    Ok(()) => {
                        root.check_validity(now)?;
                        return Ok(());
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            let next = intermediates
                .iter()
                .filter(|c| c.der != current.der && !c.is_self_issued())
                .filter(same_name)
                .find(|c| current.signed_by(c).is_ok());
            match next {
                Some(ca) => {
                    ca.check_validity(now)?;
                    if ca.is_ca == Some(false) {
                        return Err(ca.error(CertProblem::NotCa));
                    }
                    if ca.key_usage.is_some_and(|b| b & 0x0400 == 0) {
                        return Err(ca.error(CertProblem::KeyUsage("signing certificates")));
                    }
                    current = ca;
                }
                None => {
                    if let Some(e) = last_err {
                        return Err(e);
                    }
                    // An issuer by name whose signature does not check out; one that does is
                    // a root nobody configured (wrong issuer, below).
                    if let Some(ca) = intermediates.iter().find(same_name) {
                        current.signed_by(ca)?;
                    }
                    return Err(current.error(CertProblem::UnknownIssuer {
                        issuer: current.issuer_string(),
                    }));
                }
            }
        }
        Err(self.error(CertProblem::ChainTooLong))
    }
}

/// Alipay's `alipay_root_cert_sn` of a root file: the SNs of its RSA-signed certificates in
/// file order, joined with `_`. An empty result (no RSA certificate) is an error.
pub fn alipay_root_cert_sn(root_pem: &str) -> Result<String, CertError> {
    let sns: Vec<String> = X509::parse_pem_bundle(root_pem)?
        .iter()
        .filter(|c| c.is_rsa_signed())
        .map(X509::alipay_sn)
        .collect();
    if sns.is_empty() {
        return Err(CertError {
            serial: String::new(),
            subject: String::new(),
            reason: CertProblem::Malformed(
                "the Alipay root certificate file holds no RSA-signed certificate".into(),
            ),
        });
    }
    Ok(sns.join("_"))
}

/// Alipay's SN of the first certificate of a PEM text (`app_cert_sn`, `alipay_cert_sn`).
pub fn alipay_cert_sn(pem: &str) -> Result<String, CertError> {
    Ok(X509::first_of_pem(pem)?.alipay_sn())
}

// ---------------------------------------------------------------------------------------
// Issuing certificates (the sandbox and tests): RSA, SHA256withRSA, with names, validity,
// key usage and basic constraints.
// ---------------------------------------------------------------------------------------

/// What to put in an issued certificate.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject attributes, most-significant first as encoded, e.g. `[("C","CN"),("O","Ant"),("CN","x")]`.
    pub subject: Vec<(&'static str, String)>,
    pub serial: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// A CA certificate (keyCertSign) or a signing leaf (digitalSignature).
    pub ca: bool,
}

fn name_der(attrs: &[(&'static str, String)]) -> Vec<u8> {
    let mut seq = Vec::new();
    for (short, value) in attrs {
        let oid: &[u8] = match *short {
            "C" => &[0x55, 0x04, 0x06],
            "L" => &[0x55, 0x04, 0x07],
            "ST" => &[0x55, 0x04, 0x08],
            "O" => &[0x55, 0x04, 0x0a],
            "OU" => &[0x55, 0x04, 0x0b],
            _ => &[0x55, 0x04, 0x03],
        };
        let mut atv = der_write(0x06, oid);
        // PrintableString for the country, UTF8String otherwise (what CAs do).
        let tag = if *short == "C" { 0x13 } else { 0x0c };
        atv.extend(der_write(tag, value.as_bytes()));
        seq.extend(der_write(0x31, &der_write(0x30, &atv)));
    }
    der_write(0x30, &seq)
}

fn time_der(t: DateTime<Utc>) -> Vec<u8> {
    use chrono::Datelike;
    if (1950..2050).contains(&t.year()) {
        der_write(0x17, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        der_write(0x18, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
    }
}

/// Issues a certificate for `public_key` per `spec`, signed (SHA256withRSA) by `issuer_key`
/// in the name of `issuer` (`None`: self-signed, the subject is the issuer).
pub fn issue(
    spec: &CertSpec,
    public_key: &RsaPublicKey,
    issuer: Option<&X509>,
    issuer_key: &crate::keys::PrivateKey,
) -> Result<X509, CertError> {
    use rsa::pkcs8::EncodePublicKey;
    let fail = |d: &str| CertError {
        serial: hex::encode_upper(&spec.serial),
        subject: String::new(),
        reason: CertProblem::Malformed(d.into()),
    };
    let alg = der_write(
        0x30,
        &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
        ],
    );
    let mut serial = spec.serial.clone();
    // A positive INTEGER: a leading zero byte when the high bit is set (or it is empty).
    let needs_zero = match serial.first() {
        None => true,
        Some(b) => b & 0x80 != 0,
    };
    if needs_zero {
        serial.insert(0, 0);
    }
    let subject = name_der(&spec.subject);
    let issuer_name = issuer.map_or_else(|| subject.clone(), |i| i.subject_raw.clone());
    let mut validity = time_der(spec.not_before);
    validity.extend(time_der(spec.not_after));
    let spki = public_key
        .to_public_key_der()
        .map_err(|_| fail("cannot encode the public key"))?;
    // Extensions: basicConstraints (critical) and keyUsage (critical).
    let mut bc_seq = Vec::new();
    if spec.ca {
        bc_seq.extend(der_write(0x01, &[0xff]));
    }
    let bc = {
        let mut e = der_write(0x06, &[0x55, 0x1d, 0x13]);
        e.extend(der_write(0x01, &[0xff]));
        e.extend(der_write(0x04, &der_write(0x30, &bc_seq)));
        der_write(0x30, &e)
    };
    let ku = {
        // digitalSignature (0x80) for leaves; keyCertSign|cRLSign (0x06) for CAs.
        let bits: &[u8] = if spec.ca {
            &[0x01, 0x06]
        } else {
            &[0x07, 0x80]
        };
        let mut e = der_write(0x06, &[0x55, 0x1d, 0x0f]);
        e.extend(der_write(0x01, &[0xff]));
        e.extend(der_write(0x04, &der_write(0x03, bits)));
        der_write(0x30, &e)
    };
    let mut exts = bc;
    exts.extend(ku);
    let mut tbs = der_write(0xa0, &der_write(0x02, &[2]));
    tbs.extend(der_write(0x02, &serial));
    tbs.extend(&alg);
    tbs.extend(&issuer_name);
    tbs.extend(der_write(0x30, &validity));
    tbs.extend(&subject);
    tbs.extend(spki.as_bytes());
    tbs.extend(der_write(0xa3, &der_write(0x30, &exts)));
    let tbs = der_write(0x30, &tbs);
    let sig = issuer_key
        .rsa()
        .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&tbs))
        .map_err(|_| fail("signing failed"))?;
    let mut bits = vec![0u8];
    bits.extend(sig);
    let mut body = tbs;
    body.extend(alg);
    body.extend(der_write(0x03, &bits));
    X509::from_der(&der_write(0x30, &body))
}

/// One DER TLV: (tag, content, rest).
fn der_read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    crate::der::read(input).map_err(str::to_string)
}

use crate::der::write as der_write;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_big_serials() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        // The iTrusChina root's serial (providers.md §5.A-1).
        let itrus = hex::decode("10c764e9d560384212d9c08fd10e373fdd0fb396").unwrap();
        assert_eq!(
            decimal(&itrus),
            "95790491425698859646659490580052089075020051350"
        );
    }

    #[test]
    fn oid_strings() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(
            oid_string(&[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75]),
            "1.2.156.10197.1.501"
        );
        assert_eq!(oid_string(&[0x55, 0x04, 0x03]), "2.5.4.3");
    }

    #[test]
    fn name_string_is_reversed_with_short_names() {
        let attrs = vec![
            NameAttr {
                oid: "2.5.4.6".into(),
                value: "CN".into(),
            },
            NameAttr {
                oid: "2.5.4.10".into(),
                value: "Ant Financial".into(),
            },
            NameAttr {
                oid: "2.5.4.11".into(),
                value: "Certification Authority".into(),
            },
            NameAttr {
                oid: "2.5.4.3".into(),
                value: "Ant Financial Certification Authority Class 1 R1".into(),
            },
        ];
        assert_eq!(
            name_string(&attrs),
            "CN=Ant Financial Certification Authority Class 1 R1,OU=Certification Authority,O=Ant Financial,C=CN"
        );
    }
}
