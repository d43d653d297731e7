//! A discrepancy record and report metadata for the report tests (report_csv, report_xlsx,
//! report_roundtrip).
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use paydesk_core::discrepancy::{MatchRule, OutcomeClass, ReviewState};
use paydesk_core::domain::{BillDate, Provider};
use paydesk_core::money::Currency;
use paydesk_core::review::DiscrepancyRecord;
use paydesk_service::review::report::{Lang, ReportMeta};

/// The metadata of an English-titled report of run 12.
pub fn meta(lang: Lang) -> ReportMeta {
    ReportMeta {
        title: "Open discrepancies".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
        generated_by: "finance@example.com".into(),
        scope: "run 12: alipay-main 2026-11-22".into(),
        lang,
    }
}

pub fn record(id: i64, class: OutcomeClass, currency: Currency) -> DiscrepancyRecord {
    let t = Utc.with_ymd_and_hms(2026, 11, 22, 3, 4, 5).unwrap();
    DiscrepancyRecord {
        id,
        account: "alipay-main".into(),
        provider: Provider::Alipay,
        bill_date: BillDate::parse("2026-11-22").unwrap(),
        key: format!("k{id}"),
        class,
        rule: MatchRule::MerchantOrderNo,
        order_no: Some(format!("ORD{id}")),
        provider_txn_id: Some(format!("2026112222001{id}")),
        refund_no: None,
        currency,
        provider_amount: Some(10_000),
        local_amount: Some(10_000),
        difference: 0,
        provider_currency: Some(currency),
        local_currency: Some(currency),
        amount_at_stake: 10_000,
        provider_time: Some(t),
        local_time: Some(t),
        evidence_file: Some("alipay_20261122.csv".into()),
        evidence_line: Some(id as u64 + 4),
        explanation: "plain".into(),
        explanation_zh: Some("简单".into()),
        state: ReviewState::Open,
        resolution: None,
        note: None,
        assignee: None,
        due_at: Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap(),
        created_at: t,
        updated_at: t,
        first_run_id: 12,
        last_run_id: 12,
        present: true,
    }
}
