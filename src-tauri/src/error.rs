//! What a command fails with, as the UI receives it: a kind to act on and a message for a
//! person. Messages come from the services, which never put secrets in them.

use paydesk_service::ServiceError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppError {
    /// `bad_input`, `busy`, `denied`, `unauthenticated`, `cancelled`, `config`, `store`,
    /// `provider`, `io` or `vault_locked`.
    pub kind: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> AppError {
        AppError::new("bad_input", message)
    }

    pub fn unauthenticated() -> AppError {
        AppError::new("unauthenticated", "you are not logged in; log in again")
    }

    pub fn vault_locked() -> AppError {
        AppError::new(
            "vault_locked",
            "the key vault is locked: unlock it with the vault passphrase on the Keys screen",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> AppError {
        let kind = match &e {
            ServiceError::BadInput(_) => "bad_input",
            ServiceError::Busy(_) => "busy",
            ServiceError::Denied(_) => "denied",
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::Cancelled => "cancelled",
            ServiceError::Config(_) => "config",
            ServiceError::Store(_) => "store",
            ServiceError::Provider(_) => "provider",
            ServiceError::Io(_) => "io",
        };
        AppError::new(kind, e.to_string())
    }
}

impl From<paydesk_store::StoreError> for AppError {
    fn from(e: paydesk_store::StoreError) -> AppError {
        ServiceError::from(e).into()
    }
}

pub type CmdResult<T> = Result<T, AppError>;
