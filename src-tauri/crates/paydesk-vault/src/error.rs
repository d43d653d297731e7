//! Vault errors. Messages say what failed, with which input, and what to do; they never
//! contain key material.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the vault master key is wrong: the passphrase (PAYDESK_VAULT_PASSPHRASE or the prompt) or key file does not open this vault; check it and try again")]
    WrongMasterKey,
    #[error("{what} failed authentication: the stored ciphertext was altered, moved to another row, or belongs to another vault; restore the database from a backup or re-import the key")]
    Tampered { what: String },
    #[error("invalid key file: {0}")]
    BadKeyFile(String),
    #[error("invalid vault parameters: {0}")]
    BadParams(String),
    #[error("{what}: {reason}")]
    BadInput { what: String, reason: String },
    #[error("{0}")]
    State(String),
    #[error("internal vault error: {0}")]
    Internal(String),
}

impl VaultError {
    pub fn input(what: impl Into<String>, reason: impl Into<String>) -> VaultError {
        VaultError::BadInput {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
