//! Paydesk services: the operations people run (reconcile, review, report, generate), wired
//! from the core, the store and the provider adapters. The `paydesk` CLI and the desktop app
//! call only these.

// The layers, bottom to top. A module uses only the layers listed before it (checked by
// `tests/layers.rs`); the crate root holds only `ServiceError`, which every layer returns.
pub mod connect;
pub mod context;
pub mod dashboard;
#[cfg(feature = "demo")]
pub mod demo;
pub mod reconcile;
pub mod refunds;
pub mod review;
#[cfg(feature = "demo")]
pub mod sandbox;
pub mod settlement;
pub mod vault;

use paydesk_providers::error::ProviderError;

/// What a service call can fail with. Every error has a stable machine-readable [`code`]
/// (what a caller branches on) and a message for a person that says what was wrong and with
/// which input. `BadInput`, `NotFound`, `Conflict`, `RefundExceedsRefundable` and `Busy` are
/// the caller's to fix.
///
/// [`code`]: ServiceError::code
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadInput(String),
    /// The thing asked for (an order, a refund, a discrepancy, a key version) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing is not in a state that allows the change (a refund already decided, a key
    /// version no longer pending, a file that already exists).
    #[error("{0}")]
    Conflict(String),
    /// A refund request for more than the order can still be refunded.
    #[error("{0}")]
    RefundExceedsRefundable(String),
    /// The call needs the key vault, which is locked.
    #[error("{0}")]
    VaultLocked(String),
    #[error("{0}")]
    Busy(String),
    /// The acting user lacks a permission; the message names it.
    #[error("{0}")]
    Denied(#[from] paydesk_core::Denied),
    /// Not logged in, wrong credentials, session ended.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Config(#[from] context::config::ConfigError),
    #[error("{0}")]
    Store(#[from] paydesk_store::StoreError),
    /// A provider call failed; the failure keeps the provider error's kind.
    #[error("{0}")]
    Provider(ProviderFailure),
    #[error("{0}")]
    Io(String),
}

/// Every code [`ServiceError::code`] returns.
pub const ERROR_CODES: [&str; 20] = [
    "bad_input",
    "not_found",
    "conflict",
    "refund_exceeds_refundable",
    "vault_locked",
    "busy",
    "denied",
    "unauthenticated",
    "cancelled",
    "config",
    "store",
    "io",
    "provider",
    "provider_signature",
    "provider_unavailable",
    "provider_rejected",
    "provider_not_found",
    "provider_not_ready",
    "provider_protocol",
    "provider_config",
];

impl ServiceError {
    /// The stable machine-readable code of this error (one of [`ERROR_CODES`]).
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadInput(_) => "bad_input",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::RefundExceedsRefundable(_) => "refund_exceeds_refundable",
            ServiceError::VaultLocked(_) => "vault_locked",
            ServiceError::Busy(_) => "busy",
            ServiceError::Denied(_) => "denied",
            ServiceError::Unauthenticated(_) => "unauthenticated",
            ServiceError::Cancelled => "cancelled",
            ServiceError::Config(_) => "config",
            ServiceError::Store(_) => "store",
            ServiceError::Provider(f) => f.fault.code(),
            ServiceError::Io(_) => "io",
        }
    }

    /// The message for a person (the same as `to_string()`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// A provider call's error, its kind kept, its message as the provider error says it.
    pub fn provider(e: &ProviderError) -> ServiceError {
        ServiceError::provider_said(e, e.to_string())
    }

    /// A provider call's error, its kind kept, with a message that adds context.
    pub fn provider_said(e: &ProviderError, message: impl Into<String>) -> ServiceError {
        ServiceError::Provider(ProviderFailure {
            fault: ProviderFault::of(e),
            message: message.into(),
        })
    }

    /// A failure talking to a provider (or the sandbox) that is no provider error.
    pub fn provider_other(message: impl Into<String>) -> ServiceError {
        ServiceError::Provider(ProviderFailure {
            fault: ProviderFault::Other,
            message: message.into(),
        })
    }
}

impl From<ProviderError> for ServiceError {
    fn from(e: ProviderError) -> ServiceError {
        ServiceError::provider(&e)
    }
}

/// A provider call that failed: the kind of failure and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderFailure {
    pub fault: ProviderFault,
    pub message: String,
}

/// What kind of provider failure, kept from [`paydesk_providers::error::ErrorKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFault {
    /// The answer's signature (or hash) did not check out.
    Signature,
    /// No answer (timeout, connection failed) or a documented transient error.
    Unavailable,
    /// The provider refused the request.
    Rejected,
    /// The provider said the trade or refund does not exist.
    NotFound,
    /// The statement is not generated yet, or there is none for that day.
    NotReady,
    /// The answer was not in the shape the protocol describes.
    Protocol,
    /// The adapter is misconfigured (unreadable key, bad URL, missing id).
    Config,
    /// Not a provider error (the sandbox could not start, a key test that cannot call).
    Other,
}

impl ProviderFault {
    pub fn of(e: &ProviderError) -> ProviderFault {
        use paydesk_providers::error::ErrorKind as K;
        if e.is_not_found() {
            return ProviderFault::NotFound;
        }
        match e.kind {
            K::Verification { .. } | K::Unverified { .. } => ProviderFault::Signature,
            K::Transport { .. } | K::Retryable { .. } => ProviderFault::Unavailable,
            K::Rejected { .. } => ProviderFault::Rejected,
            K::NotReady { .. } | K::NoStatement => ProviderFault::NotReady,
            K::Protocol { .. } => ProviderFault::Protocol,
            K::Config { .. } => ProviderFault::Config,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ProviderFault::Signature => "provider_signature",
            ProviderFault::Unavailable => "provider_unavailable",
            ProviderFault::Rejected => "provider_rejected",
            ProviderFault::NotFound => "provider_not_found",
            ProviderFault::NotReady => "provider_not_ready",
            ProviderFault::Protocol => "provider_protocol",
            ProviderFault::Config => "provider_config",
            ProviderFault::Other => "provider",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_core::Provider;
    use paydesk_providers::error::ErrorKind as K;

    fn perr(kind: K) -> ProviderError {
        ProviderError::new(Provider::Alipay, "alipay.trade.query", kind)
    }

    #[test]
    fn every_variant_has_its_code() {
        let denied = paydesk_core::Denied {
            username: "sam".into(),
            permission: paydesk_core::Permission::UserManage,
        };
        let cases: Vec<(ServiceError, &str)> = vec![
            (ServiceError::BadInput("x".into()), "bad_input"),
            (ServiceError::NotFound("x".into()), "not_found"),
            (ServiceError::Conflict("x".into()), "conflict"),
            (
                ServiceError::RefundExceedsRefundable("x".into()),
                "refund_exceeds_refundable",
            ),
            (ServiceError::VaultLocked("x".into()), "vault_locked"),
            (ServiceError::Busy("x".into()), "busy"),
            (ServiceError::Denied(denied), "denied"),
            (ServiceError::Unauthenticated("x".into()), "unauthenticated"),
            (ServiceError::Cancelled, "cancelled"),
            (
                ServiceError::Config(context::config::ConfigError::Syntax {
                    path: "paydesk.toml".into(),
                    message: "x".into(),
                }),
                "config",
            ),
            (
                ServiceError::Store(paydesk_store::StoreError::NotFound {
                    what: "run",
                    id: "7".into(),
                }),
                "store",
            ),
            (ServiceError::Io("x".into()), "io"),
            (ServiceError::provider_other("x"), "provider"),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code, "{e:?}");
            assert!(ERROR_CODES.contains(&e.code()), "{code} is listed");
            assert_eq!(e.message(), e.to_string());
        }
    }

    #[test]
    fn provider_errors_keep_their_kind() {
        let cases = [
            (
                K::Verification {
                    detail: "bad signature".into(),
                },
                "provider_signature",
            ),
            (
                K::Transport {
                    timeout: true,
                    detail: "10 s".into(),
                },
                "provider_unavailable",
            ),
            (
                K::Transport {
                    timeout: false,
                    detail: "refused".into(),
                },
                "provider_unavailable",
            ),
            (
                K::Retryable {
                    code: "SYSTEM_ERROR".into(),
                    message: "busy".into(),
                },
                "provider_unavailable",
            ),
            (
                K::Rejected {
                    code: "INVALID_PARAMETER".into(),
                    message: "no".into(),
                },
                "provider_rejected",
            ),
            (
                K::Rejected {
                    code: "ACQ.TRADE_NOT_EXIST".into(),
                    message: "no such trade".into(),
                },
                "provider_not_found",
            ),
            (
                K::Unverified {
                    code: "ACQ.TRADE_NOT_EXIST".into(),
                    message: "unsigned".into(),
                },
                "provider_signature",
            ),
            (
                K::NotReady {
                    detail: "later".into(),
                },
                "provider_not_ready",
            ),
            (K::NoStatement, "provider_not_ready"),
            (
                K::Protocol {
                    detail: "not JSON".into(),
                },
                "provider_protocol",
            ),
            (
                K::Config {
                    detail: "no key".into(),
                },
                "provider_config",
            ),
        ];
        for (kind, code) in cases {
            let pe = perr(kind);
            let e = ServiceError::from(pe.clone());
            assert_eq!(e.code(), code, "{pe}");
            assert!(ERROR_CODES.contains(&code));
            // The message is the provider error's, unflattened kind or not.
            assert_eq!(e.to_string(), pe.to_string());
            let e = ServiceError::provider_said(&pe, format!("account a: {pe}"));
            assert_eq!(e.code(), code);
            assert_eq!(e.to_string(), format!("account a: {pe}"));
        }
    }

    #[test]
    fn the_code_list_has_no_duplicates() {
        let mut codes = ERROR_CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len());
    }
}
