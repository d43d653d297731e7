//! The refund fixture now lives in `paydesk_testkit::refunds`. This re-export stays only for
//! paydesk-cli's `refund_concurrency` and `refund_crash` tests, which include this file with
//! `#[path]`; delete it once they `use paydesk_testkit::refunds::*` themselves.
#![allow(unused_imports)]

pub use paydesk_testkit::refunds::*;
