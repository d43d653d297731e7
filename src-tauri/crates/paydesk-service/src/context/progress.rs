//! Progress of long work, reported by the services and shown by the CLI (stderr) or the
//! desktop app (a Tauri channel). Cancellation goes the other way.

use crate::ServiceError;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Stage {
    Download,
    Verify,
    Parse,
    Match,
    Save,
}

impl Stage {
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Verify => "verify",
            Stage::Parse => "parse",
            Stage::Match => "match",
            Stage::Save => "save",
        }
    }
}

pub trait Progress: Send + Sync {
    fn update(&self, stage: Stage, done: u64, total: Option<u64>);

    /// Whether the person asked to stop.
    fn is_cancelled(&self) -> bool {
        false
    }

    fn check_cancelled(&self) -> Result<(), ServiceError> {
        if self.is_cancelled() {
            Err(ServiceError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Reports nothing, never cancels.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _: Stage, _: u64, _: Option<u64>) {}
}

/// A cancellation flag another task can set.
#[derive(Default)]
pub struct CancelFlag(AtomicBool);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
