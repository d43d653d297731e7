//! Paydesk services: the operations people run (reconcile, review, report, generate), wired
//! from the core, the store and the provider adapters. The `paydesk` CLI and the desktop app
//! call only these.

pub mod audit;
pub mod auth;
pub mod config;
pub mod connect;
pub mod dashboard;
pub mod demo;
pub mod download;
pub mod generate;
pub mod keys;
pub mod progress;
pub mod reconcile;
pub mod refunds;
pub mod report;
pub mod review;
pub mod sandbox;
pub mod settings;
pub mod workspace;

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
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Store(#[from] paydesk_store::StoreError),
    #[error("{0}")]
    Provider(String),
    #[error("{0}")]
    Io(String),
}
