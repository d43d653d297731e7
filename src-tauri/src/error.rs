//! What a command fails with, as the UI receives it: a kind to act on and a message for a
//! person. Messages come from the services, which never put secrets in them.

use paydesk_service::ServiceError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppError {
    /// What the UI acts on and titles the error with: `bad_input`, `busy`, `denied`,
    /// `unauthenticated`, `cancelled`, `config`, `store`, `provider`, `io` or `vault_locked`
    /// (the kind of [`code`](AppError::code), see [`kind_of`]).
    #[cfg_attr(test, ts(type = "ErrorKind"))]
    pub kind: &'static str,
    /// The stable machine-readable code, `ServiceError::code()` (one of
    /// `paydesk_service::ERROR_CODES`) for an error from a service.
    #[cfg_attr(test, ts(type = "ErrorCode"))]
    pub code: &'static str,
    pub message: String,
}

/// Every `kind` an [`AppError`] has.
pub const ERROR_KINDS: [&str; 10] = [
    "bad_input",
    "busy",
    "denied",
    "unauthenticated",
    "cancelled",
    "config",
    "store",
    "provider",
    "io",
    "vault_locked",
];

/// The kind (the UI's coarse class, its title and hint) of an error code: the codes that
/// refine `bad_input` (not found, conflict, the refundable amount) and `provider` (signature,
/// unavailable, …) keep those kinds, so the UI words them as before.
pub fn kind_of(code: &'static str) -> &'static str {
    match code {
        "not_found" | "conflict" | "refund_exceeds_refundable" => "bad_input",
        c if c.starts_with("provider") => "provider",
        c => c,
    }
}

impl AppError {
    /// An error made here (not by a service): its code is its kind.
    pub fn new(kind: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            code: kind,
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
        let code = e.code();
        AppError {
            kind: kind_of(code),
            code,
            message: e.to_string(),
        }
    }
}

impl From<paydesk_store::StoreError> for AppError {
    fn from(e: paydesk_store::StoreError) -> AppError {
        ServiceError::from(e).into()
    }
}

pub type CmdResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_code_has_a_kind_the_ui_knows() {
        for code in paydesk_service::ERROR_CODES {
            assert!(ERROR_KINDS.contains(&kind_of(code)), "{code}");
        }
        assert_eq!(kind_of("provider_signature"), "provider");
        assert_eq!(kind_of("provider"), "provider");
        assert_eq!(kind_of("not_found"), "bad_input");
        assert_eq!(kind_of("vault_locked"), "vault_locked");
    }

    #[test]
    fn a_service_error_keeps_its_code_and_message() {
        let e = AppError::from(ServiceError::VaultLocked("locked".into()));
        assert_eq!(
            (e.kind, e.code, e.message.as_str()),
            ("vault_locked", "vault_locked", "locked")
        );
        let e = AppError::from(ServiceError::RefundExceedsRefundable("too much".into()));
        assert_eq!((e.kind, e.code), ("bad_input", "refund_exceeds_refundable"));
        let e = AppError::from(ServiceError::provider_other("sandbox down"));
        assert_eq!((e.kind, e.code), ("provider", "provider"));
        let e = AppError::vault_locked();
        assert_eq!((e.kind, e.code), ("vault_locked", "vault_locked"));
    }
}
