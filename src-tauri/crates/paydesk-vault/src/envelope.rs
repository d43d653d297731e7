//! Master key, data keys and sealed payloads (see the crate documentation for the scheme).

use crate::error::VaultError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Sealed payloads, and data keys wrapped before format v2 (bound to the credential uid only).
const PREFIX: &str = "v1.";
/// Data keys wrapped from format v2 on: bound to the credential's uid, account and purpose.
const WRAP_V2: &str = "v2.";
const KCV_LABEL: &[u8] = b"paydesk-vault/v1/key-check";

/// Argon2id parameters (stored with the vault; the salt is base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt: String,
}

impl KdfParams {
    /// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane) with a fresh 16-byte salt.
    pub fn recommended() -> KdfParams {
        KdfParams::with_costs(19 * 1024, 2, 1)
    }

    /// Given costs with a fresh salt (tests use small costs).
    pub fn with_costs(m_cost: u32, t_cost: u32, p_cost: u32) -> KdfParams {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KdfParams {
            m_cost,
            t_cost,
            p_cost,
            salt: B64.encode(salt),
        }
    }
}

/// How the master key is obtained, as stored in the vault header (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kdf", rename_all = "snake_case")]
pub enum MasterSpec {
    Argon2id(KdfParams),
    KeyFile,
}

impl MasterSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            MasterSpec::Argon2id(_) => "passphrase",
            MasterSpec::KeyFile => "key file",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<MasterSpec, VaultError> {
        serde_json::from_str(text)
            .map_err(|e| VaultError::BadParams(format!("stored master key parameters: {e}")))
    }
}

/// The 32-byte master key. Never printed, never stored.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Argon2id over the passphrase with the stored parameters.
    pub fn from_passphrase(
        passphrase: &SecretString,
        params: &KdfParams,
    ) -> Result<MasterKey, VaultError> {
        if passphrase.expose_secret().is_empty() {
            return Err(VaultError::input(
                "vault passphrase",
                "it is empty; set PAYDESK_VAULT_PASSPHRASE or type it at the prompt",
            ));
        }
        let salt = B64
            .decode(&params.salt)
            .map_err(|_| VaultError::BadParams("the stored salt is not base64".into()))?;
        let p = argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| VaultError::BadParams(format!("Argon2id parameters: {e}")))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
        let mut out = Box::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose_secret().as_bytes(), &salt, &mut out[..])
            .map_err(|e| VaultError::BadParams(format!("Argon2id: {e}")))?;
        Ok(MasterKey(SecretBox::new(out)))
    }

    /// A key file's content: 32 raw bytes, 64 hex digits, or base64 of 32 bytes.
    pub fn from_key_file_bytes(bytes: &[u8]) -> Result<MasterKey, VaultError> {
        let mut out = Box::new([0u8; 32]);
        if bytes.len() == 32 {
            out.copy_from_slice(bytes);
            return Ok(MasterKey(SecretBox::new(out)));
        }
        let text = std::str::from_utf8(bytes).map(str::trim).map_err(|_| {
            VaultError::BadKeyFile(format!(
                "expected 32 raw bytes, 64 hex digits or base64 of 32 bytes; got {} bytes",
                bytes.len()
            ))
        })?;
        let decoded = Zeroizing::new(if text.len() == 64 {
            hex::decode(text)
                .map_err(|_| VaultError::BadKeyFile("64 characters but not hex digits".into()))?
        } else {
            B64.decode(text).map_err(|_| {
                VaultError::BadKeyFile(
                    "expected 32 raw bytes, 64 hex digits or base64 of 32 bytes".into(),
                )
            })?
        });
        if decoded.len() != 32 {
            return Err(VaultError::BadKeyFile(format!(
                "the key must be 32 bytes, the file holds {}",
                decoded.len()
            )));
        }
        out.copy_from_slice(&decoded);
        Ok(MasterKey(SecretBox::new(out)))
    }

    /// A fresh random key-file content (64 hex digits and a newline).
    pub fn generate_key_file() -> Zeroizing<String> {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut k[..]);
        Zeroizing::new(format!("{}\n", hex::encode(&k[..])))
    }

    /// The key check value stored with the vault (hex of 16 bytes of an HMAC).
    pub fn check_value(&self) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.expose_secret()[..])
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(KCV_LABEL);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Compares with the stored check value (constant time).
    pub fn verify_check_value(&self, stored: &str) -> Result<(), VaultError> {
        let mine = self.check_value();
        let a = mine.as_bytes();
        let b = stored.trim().as_bytes();
        let mut diff = u8::from(a.len() != b.len());
        for (x, y) in a.iter().zip(b.iter()) {
            diff |= x ^ y;
        }
        if diff == 0 {
            Ok(())
        } else {
            Err(VaultError::WrongMasterKey)
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.expose_secret().into())
    }

    /// Wraps a data key for a credential, in the current format (v2): the AAD names the
    /// credential's uid, account and purpose, so the wrapped key opens only for that row.
    pub fn wrap(
        &self,
        key: &DataKey,
        credential: &CredentialBinding<'_>,
    ) -> Result<WrappedDataKey, VaultError> {
        let aad = dek_aad_v2(credential);
        seal_with(
            &self.cipher(),
            WRAP_V2,
            &key.0.expose_secret()[..],
            aad.as_bytes(),
        )
        .map(WrappedDataKey)
    }

    /// Unwraps the data key of a credential. A v2 key opens only for the uid, account and
    /// purpose it was wrapped for (relabelling a credential's account in the database is
    /// tampering); a v1 key (written before v2) is bound to the uid only.
    pub fn unwrap_key(
        &self,
        wrapped: &WrappedDataKey,
        credential: &CredentialBinding<'_>,
    ) -> Result<DataKey, VaultError> {
        let tampered = || VaultError::Tampered {
            what: format!("the data key of {credential}"),
        };
        let (prefix, aad) = if wrapped.0.starts_with(WRAP_V2) {
            (WRAP_V2, dek_aad_v2(credential))
        } else {
            (PREFIX, dek_aad_v1(credential.uid))
        };
        let plain =
            open_with(&self.cipher(), &wrapped.0, prefix, aad.as_bytes()).map_err(|e| match e {
                VaultError::Tampered { .. } => tampered(),
                other => other,
            })?;
        if plain.len() != 32 {
            return Err(tampered());
        }
        let mut k = Box::new([0u8; 32]);
        k.copy_from_slice(&plain);
        Ok(DataKey(SecretBox::new(k)))
    }
}

/// What a wrapped data key is bound to: its credential's uid, account and purpose (as
/// stored in the credential's row). Shown in errors (no secret in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialBinding<'a> {
    pub uid: &'a str,
    pub account: &'a str,
    pub purpose: &'a str,
}

impl std::fmt::Display for CredentialBinding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of account {} (credential {})",
            self.purpose, self.account, self.uid
        )
    }
}

#[allow(clippy::panic)]
fn unreachable_hmac() -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot happen.
    panic!("HMAC-SHA256 rejected a 32-byte key")
}

fn dek_aad_v1(uid: &str) -> String {
    format!("paydesk-vault/v1/data-key|{uid}")
}

/// The v2 AAD of a wrapped data key: the fields as a JSON array, so that no separator in an
/// account name can make two bindings look alike.
fn dek_aad_v2(c: &CredentialBinding<'_>) -> String {
    let fields = serde_json::to_string(&[c.uid, c.account, c.purpose]).unwrap_or_default();
    format!("paydesk-vault/v2/data-key|{fields}")
}

/// The AAD of a sealed payload: credential uid, version, purpose and the info digest.
pub fn secret_aad(uid: &str, version: i64, purpose: &str, info_json: &str) -> String {
    use sha2::Digest;
    let info = hex::encode(Sha256::digest(info_json.as_bytes()));
    format!("paydesk-vault/v1/secret|cred={uid}|ver={version}|purpose={purpose}|info={info}")
}

/// A wrapped data key as stored (`v2.<base64>`, or `v1.<base64>` if written before format
/// v2). Not secret without the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedDataKey(pub String);

impl WrappedDataKey {
    /// Whether it is in the current format (v2: bound to the credential's account and
    /// purpose); older ones are re-wrapped when the vault is unlocked and at master rotation.
    pub fn is_current(&self) -> bool {
        self.0.starts_with(WRAP_V2)
    }
}

/// A per-credential data key (32 bytes).
pub struct DataKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

impl DataKey {
    pub fn generate() -> DataKey {
        let mut k = Box::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut k[..]);
        DataKey(SecretBox::new(k))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.expose_secret().into())
    }

    /// Seals a payload under this data key with the given AAD (see [`secret_aad`]).
    pub fn seal(&self, payload: &[u8], aad: &str) -> Result<String, VaultError> {
        seal_with(&self.cipher(), PREFIX, payload, aad.as_bytes())
    }

    /// Opens a sealed payload; any mismatch (bytes, AAD, key) is [`VaultError::Tampered`].
    pub fn open(
        &self,
        sealed: &str,
        aad: &str,
        what: &str,
    ) -> Result<SecretBox<Vec<u8>>, VaultError> {
        open_with(&self.cipher(), sealed, PREFIX, aad.as_bytes())
            .map(|z| SecretBox::new(Box::new(z.to_vec())))
            .map_err(|e| match e {
                VaultError::Tampered { .. } => VaultError::Tampered { what: what.into() },
                other => other,
            })
    }
}

fn seal_with(
    cipher: &Aes256Gcm,
    prefix: &str,
    plain: &[u8],
    aad: &[u8],
) -> Result<String, VaultError> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| VaultError::Internal("AES-GCM encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(format!("{prefix}{}", B64.encode(out)))
}

fn open_with(
    cipher: &Aes256Gcm,
    sealed: &str,
    prefix: &str,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let tampered = || VaultError::Tampered {
        what: "a vault ciphertext".into(),
    };
    let body = sealed.strip_prefix(prefix).ok_or_else(tampered)?;
    let raw = B64.decode(body).map_err(|_| tampered())?;
    if raw.len() < 12 + 16 {
        return Err(tampered());
    }
    let (nonce, ct) = raw.split_at(12);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| tampered())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> KdfParams {
        KdfParams::with_costs(256, 1, 1)
    }

    #[test]
    fn passphrase_derivation_is_deterministic_and_salted() {
        let p = small();
        let a = MasterKey::from_passphrase(&SecretString::from("correct horse"), &p).unwrap();
        let b = MasterKey::from_passphrase(&SecretString::from("correct horse"), &p).unwrap();
        assert_eq!(a.check_value(), b.check_value());
        let c = MasterKey::from_passphrase(&SecretString::from("correct horse"), &small()).unwrap();
        assert_ne!(
            a.check_value(),
            c.check_value(),
            "a new salt gives a new key"
        );
        let wrong = MasterKey::from_passphrase(&SecretString::from("wrong horse"), &p).unwrap();
        assert_eq!(
            wrong.verify_check_value(&a.check_value()),
            Err(VaultError::WrongMasterKey)
        );
        assert!(a.verify_check_value(&a.check_value()).is_ok());
        assert!(MasterKey::from_passphrase(&SecretString::from(""), &p).is_err());
    }

    #[test]
    fn key_file_forms() {
        let text = MasterKey::generate_key_file();
        let a = MasterKey::from_key_file_bytes(text.as_bytes()).unwrap();
        let raw = hex::decode(text.trim()).unwrap();
        let b = MasterKey::from_key_file_bytes(&raw).unwrap();
        let c = MasterKey::from_key_file_bytes(B64.encode(&raw).as_bytes()).unwrap();
        assert_eq!(a.check_value(), b.check_value());
        assert_eq!(a.check_value(), c.check_value());
        let e = MasterKey::from_key_file_bytes(b"short").unwrap_err();
        assert!(e.to_string().contains("key file"), "{e}");
    }

    #[test]
    fn wrap_seal_roundtrip_and_binding() {
        let m = MasterKey::from_key_file_bytes(&[7u8; 32]).unwrap();
        let dk = DataKey::generate();
        let bind = |uid, account| CredentialBinding {
            uid,
            account,
            purpose: "stripe_secret_key",
        };
        let w = m.wrap(&dk, &bind("cred-a", "stripe-main")).unwrap();
        assert!(w.is_current() && w.0.starts_with("v2."));
        let dk2 = m.unwrap_key(&w, &bind("cred-a", "stripe-main")).unwrap();
        assert!(matches!(
            m.unwrap_key(&w, &bind("cred-b", "stripe-main")),
            Err(VaultError::Tampered { .. })
        ));
        // Another account or purpose: tampering, named by the row it was read for.
        let e = m
            .unwrap_key(&w, &bind("cred-a", "stripe-eu"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("the data key of stripe_secret_key of account stripe-eu (credential cred-a) failed authentication"),
            "{e}"
        );
        let purpose = CredentialBinding {
            purpose: "stripe_webhook_secret",
            ..bind("cred-a", "stripe-main")
        };
        assert!(m.unwrap_key(&w, &purpose).is_err());
        // Separators in names cannot make two bindings alike.
        let w2 = m.wrap(&dk, &bind("a|b", "c")).unwrap();
        assert!(m.unwrap_key(&w2, &bind("a", "b|c")).is_err());
        let other = MasterKey::from_key_file_bytes(&[8u8; 32]).unwrap();
        assert!(other
            .unwrap_key(&w, &bind("cred-a", "stripe-main"))
            .is_err());

        let aad = secret_aad("cred-a", 1, "stripe_secret_key", "{}");
        let sealed = dk.seal(b"sk_test_abc", &aad).unwrap();
        let opened = dk2.open(&sealed, &aad, "x").unwrap();
        assert_eq!(opened.expose_secret().as_slice(), b"sk_test_abc");
        for bad_aad in [
            secret_aad("cred-b", 1, "stripe_secret_key", "{}"),
            secret_aad("cred-a", 2, "stripe_secret_key", "{}"),
            secret_aad("cred-a", 1, "stripe_webhook_secret", "{}"),
            secret_aad("cred-a", 1, "stripe_secret_key", "{\"x\":1}"),
        ] {
            assert!(matches!(
                dk.open(&sealed, &bad_aad, "x"),
                Err(VaultError::Tampered { .. })
            ));
        }
        // Flip one ciphertext byte.
        let mut raw = B64.decode(&sealed[3..]).unwrap();
        raw[20] ^= 1;
        let flipped = format!("v1.{}", B64.encode(raw));
        assert!(matches!(
            dk.open(&flipped, &aad, "x"),
            Err(VaultError::Tampered { .. })
        ));
        assert!(!sealed.contains("sk_test"));
    }

    /// A data key wrapped in format v1 (before v2: AAD = uid only) still unwraps, for any
    /// account label (v1 did not bind it); re-wrapping gives v2.
    #[test]
    fn v1_wrapped_keys_still_open() {
        let m = MasterKey::from_key_file_bytes(&[7u8; 32]).unwrap();
        let dk = DataKey::generate();
        let v1 = WrappedDataKey(
            seal_with(
                &m.cipher(),
                PREFIX,
                &dk.0.expose_secret()[..],
                b"paydesk-vault/v1/data-key|cred-a",
            )
            .unwrap(),
        );
        assert!(!v1.is_current());
        let bind = CredentialBinding {
            uid: "cred-a",
            account: "alipay-main",
            purpose: "alipay_app_key",
        };
        let opened = m.unwrap_key(&v1, &bind).unwrap();
        assert_eq!(opened.0.expose_secret(), dk.0.expose_secret());
        assert!(m
            .unwrap_key(
                &v1,
                &CredentialBinding {
                    uid: "cred-b",
                    ..bind
                }
            )
            .is_err());
        let v2 = m.wrap(&opened, &bind).unwrap();
        assert!(v2.is_current());
        assert_eq!(
            m.unwrap_key(&v2, &bind).unwrap().0.expose_secret(),
            dk.0.expose_secret()
        );
    }

    #[test]
    fn spec_json_roundtrip() {
        let s = MasterSpec::Argon2id(small());
        assert_eq!(MasterSpec::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(
            MasterSpec::from_json(&MasterSpec::KeyFile.to_json()).unwrap(),
            MasterSpec::KeyFile
        );
    }
}
