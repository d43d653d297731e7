//! Test support shared by Paydesk's test binaries. A dev-dependency only, never published.
//!
//! - [`ci`]: the CI rule — a missing test service (PostgreSQL, a cross-check peer) fails the
//!   test when `CI` is set, otherwise it is skipped with a loud notice.
//! - [`db`]: a SQLite temp file and a fresh PostgreSQL database per test (from
//!   `PAYDESK_TEST_PG_URL`), [`db::backends`] for both, [`db_tests!`] for test pairs.
//! - [`dirs`]: temporary directories.
//! - [`psql`]: a fresh PostgreSQL database made with `psql`, for tests of the real binary.
//! - [`actors`]: the role holders the tests act as.
//! - With the `service` feature: [`workspace`] (demo workspaces, config edits, logins),
//!   [`sandbox`] (the provider sandbox on port 0) and [`refunds`] (the refund fixture).

pub mod actors;
pub mod ci;
pub mod db;
pub mod dirs;
pub mod psql;
#[cfg(feature = "service")]
pub mod refunds;
#[cfg(feature = "service")]
pub mod sandbox;
#[cfg(feature = "service")]
pub mod workspace;
