//! The one error type every provider adapter returns.
//!
//! Messages name the provider, the call and what the provider answered. They never contain
//! secrets (keys, signatures of ours, Authorization headers, download tokens).

use paydesk_core::Provider;
use std::fmt;

/// What went wrong, classified by what the caller may do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// No answer (timeout, connection refused/reset). The outcome of a money-moving call is
    /// UNKNOWN: query, or retry with the same idempotency key, never with a new one.
    Transport { timeout: bool, detail: String },
    /// The provider refused the request; final for these parameters.
    Rejected { code: String, message: String },
    /// A documented transient error (ACQ.SYSTEM_ERROR, SYSTEM_ERROR, FREQUENCY_LIMITED,
    /// Stripe 429/5xx): retry with the same parameters and idempotency key.
    Retryable { code: String, message: String },
    /// The answer's signature (or hash) did not check out. The answer was discarded.
    Verification { detail: String },
    /// The provider answered with an error (`code`) that carried no signature, or one that did
    /// not verify (an unsigned Alipay error, a WeChat Pay 4xx failing verification). It is
    /// not trusted as the provider's word: not a refusal, not "not found"; the outcome of a
    /// money-moving call is UNKNOWN (query it).
    Unverified { code: String, message: String },
    /// The statement for that day is not generated yet; try again later.
    NotReady { detail: String },
    /// There is no statement for that day because there was no activity.
    NoStatement,
    /// The answer was not in the shape the protocol describes.
    Protocol { detail: String },
    /// The adapter is misconfigured (unreadable key, bad URL, missing id).
    Config { detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub provider: paydesk_core::Provider,
    /// The API call, e.g. `alipay.trade.refund` or `GET /v3/bill/tradebill`.
    pub call: String,
    pub kind: ErrorKind,
}

impl ProviderError {
    pub fn new(provider: Provider, call: impl Into<String>, kind: ErrorKind) -> ProviderError {
        ProviderError {
            provider,
            call: call.into(),
            kind,
        }
    }

    /// Whether retrying the same request (same idempotency key) is the documented remedy.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Retryable { .. } | ErrorKind::Transport { .. }
        )
    }

    /// Whether a money-moving call may or may not have taken effect.
    pub fn outcome_unknown(&self) -> bool {
        self.is_retryable() || matches!(self.kind, ErrorKind::Unverified { .. })
    }

    /// The same error from an answer whose signature is missing or did not verify: what the
    /// provider would have said (refused, not found, no statement) becomes
    /// [`ErrorKind::Unverified`]; transient and local kinds stay as they are.
    pub fn unverified(self) -> ProviderError {
        let kind = match self.kind {
            ErrorKind::Rejected { code, message } => ErrorKind::Unverified { code, message },
            ErrorKind::NoStatement => ErrorKind::Unverified {
                code: "no statement".into(),
                message: String::new(),
            },
            ErrorKind::NotReady { detail } => ErrorKind::Unverified {
                code: "statement not ready".into(),
                message: detail,
            },
            other => other,
        };
        ProviderError { kind, ..self }
    }

    /// Whether the provider said the object (trade, refund) does not exist.
    pub fn is_not_found(&self) -> bool {
        match &self.kind {
            ErrorKind::Rejected { code, .. } => matches!(
                code.as_str(),
                "ACQ.TRADE_NOT_EXIST"
                    | "REFUND_NOT_FOUND"
                    | "RESOURCE_NOT_EXISTS"
                    | "ORDER_NOT_EXIST"
                    | "ORDERNOTEXIST"
                    | "resource_missing"
            ),
            _ => false,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Transport {
                timeout: true,
                detail,
            } => {
                write!(f, "no answer (timed out; outcome unknown): {detail}")
            }
            ErrorKind::Transport { detail, .. } => {
                write!(
                    f,
                    "no answer (connection failed; outcome unknown): {detail}"
                )
            }
            ErrorKind::Rejected { code, message } => write!(f, "rejected with {code}: {message}"),
            ErrorKind::Retryable { code, message } => {
                write!(
                    f,
                    "answered {code} (temporary, retry with the same parameters): {message}"
                )
            }
            ErrorKind::Verification { detail } => {
                write!(f, "answer failed verification and was discarded: {detail}")
            }
            ErrorKind::Unverified { code, message } => write!(
                f,
                "answered {code} without a valid signature (not verified, so not trusted as the provider's answer): {message}"
            ),
            ErrorKind::NotReady { detail } => write!(f, "statement not generated yet: {detail}"),
            ErrorKind::NoStatement => f.write_str("no statement exists for that day (no activity)"),
            ErrorKind::Protocol { detail } => write!(f, "unexpected answer: {detail}"),
            ErrorKind::Config { detail } => write!(f, "configuration problem: {detail}"),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.provider, self.call, self.kind)
    }
}

impl std::error::Error for ProviderError {}

/// Shortens provider-supplied text before it goes into an error message.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 300;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
