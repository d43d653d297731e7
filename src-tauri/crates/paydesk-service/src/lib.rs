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
pub mod vault;

/// What a service call can fail with. `BadInput` and `Busy` are the caller's to fix; the
/// message always says what was wrong and with which input.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    BadInput(String),
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
    #[error("{0}")]
    Provider(String),
    #[error("{0}")]
    Io(String),
}
