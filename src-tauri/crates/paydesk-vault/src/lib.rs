//! Paydesk key vault core: envelope encryption, key material, version states.
//!
//! No database, no HTTP, no UI: the store keeps the opaque strings this crate produces and the
//! service wires both together.
//!
//! # Envelope scheme (format `v2`; data keys in `v1` still open)
//!
//! ```text
//! passphrase ──Argon2id(m, t, p, salt)──► master key (32 B) ─┐   never stored anywhere
//! key file (32 raw bytes | 64 hex | base64 of 32 B) ─────────┘
//!
//! master key ──HMAC-SHA256("paydesk-vault/v1/key-check")[..16]──► key check value (stored)
//!
//! per credential: data key (32 random bytes)
//!   wrapped = "v2." || b64( nonce(12) || AES-256-GCM(master, nonce, data key,
//!               AAD = "paydesk-vault/v2/data-key|" || JSON ["<uid>", "<account>", "<purpose>"]) )
//!   (v1, before: "v1." ... AAD = "paydesk-vault/v1/data-key|<credential uid>"; still opened,
//!    re-wrapped as v2 when the vault is unlocked and at master key rotation)
//!
//! per version: payload (PKCS#8 DER | SPKI DER | certificate DER | raw symmetric key)
//!   sealed  = "v1." || b64( nonce(12) || AES-256-GCM(data key, nonce, payload,
//!               AAD = "paydesk-vault/v1/secret|cred=<uid>|ver=<n>|purpose=<purpose>|info=<sha256(info JSON)>") )
//! ```
//!
//! - The master key never touches the database; only the KDF parameters and salt (for a
//!   passphrase) and the key check value do. A wrong passphrase or key file fails the key
//!   check with [`VaultError::WrongMasterKey`] before anything is decrypted; if the check
//!   value itself was tampered with, unwrapping the data keys still fails authentication.
//! - Each sealed payload is bound through its AAD to its credential, version number and
//!   purpose, and to the SHA-256 of the public info shown for it (fingerprint, serial,
//!   validity): moving a ciphertext to another row, another version or another purpose, or
//!   editing the displayed info, fails authentication ([`VaultError::Tampered`]).
//! - Each data key (v2) is bound to its credential's uid, account and purpose: swapping two
//!   credentials' account labels (or purposes) in the database fails authentication too,
//!   instead of one account's key silently signing for another.
//! - Nonces are 96-bit random per encryption; a data key encrypts few payloads, far below
//!   the random-nonce bound.
//! - Master key rotation re-wraps every data key (payloads are untouched) and is written in
//!   one database transaction together with the new KDF parameters and key check value, so
//!   the vault opens with the old master key before the commit and with the new one after.
//!
//! Secrets in memory are `secrecy` types or [`zeroize::Zeroizing`] buffers; no type here
//! implements `Debug`, `Display` or `Serialize` in a way that prints secret bytes, and no
//! error message contains them.

pub mod envelope;
pub mod error;
pub mod material;
pub mod pem;
pub mod version;

pub use envelope::{CredentialBinding, DataKey, KdfParams, MasterKey, MasterSpec, WrappedDataKey};
pub use error::VaultError;
pub use material::{KeyInfo, Material, Purpose};
pub use pem::{pem_or_base64_to_der, PemError};
pub use version::VersionState;
