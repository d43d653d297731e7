//! The bottom layer: what every service call stands on. The workspace (configuration, app
//! database, order mirror), the settings views, who is acting and what they may do, the
//! audit trail, progress reporting, the rule that keeps exported cells inert, and how files
//! are written (private, atomic, never over the workspace's own files).
//! Nothing here knows of the vault, provider adapters or reconciliation (the configuration
//! only carries the statement readers' `[limits]`).

pub mod audit;
pub mod audit_key;
pub mod auth;
pub mod bank_accounts;
pub mod cells;
pub mod config;
pub mod private_file;
pub mod progress;
pub mod settings;
pub mod workspace;
