//! Paydesk services: the operations people run (reconcile, review, report, generate), wired
//! from the core, the store and the provider adapters. The `paydesk` CLI and the desktop app
//! call only these.

pub mod config;
pub mod generate;
pub mod report;
