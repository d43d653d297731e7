//! The CI rule: what a test needs but cannot find fails the test under CI and is skipped,
//! loudly, elsewhere.

/// Whether the tests run under CI (`CI` set to anything).
pub fn is_ci() -> bool {
    std::env::var_os("CI").is_some()
}
