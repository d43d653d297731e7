//! The Tauri commands: each one finds the logged-in user, calls one service and shapes the
//! answer. Permissions are checked by the services, so a command called without the UI is
//! refused just the same.

pub mod admin;
pub mod discrepancies;
pub mod keys;
pub mod orders;
pub mod reconcile;
pub mod session;
pub mod settlements;
