//! The bottom layer: what every service call stands on. The workspace (configuration, app
//! database, order mirror), the settings views, who is acting and what they may do, the
//! audit trail, progress reporting, and the rule that keeps exported cells inert.
//! Nothing here knows of the vault, providers or reconciliation.

pub mod audit;
pub mod audit_key;
pub mod auth;
pub mod cells;
pub mod config;
pub mod progress;
pub mod settings;
pub mod workspace;
