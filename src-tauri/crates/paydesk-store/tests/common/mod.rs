//! The store's test records (statement lines, statements, runs, discrepancy drafts). The
//! databases — a SQLite temp file and a fresh PostgreSQL database per scenario, with the CI
//! rule — and `db_tests!` come from `paydesk_testkit::db`.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paydesk_core::{
    BillDate, Currency, DiscrepancyDraft, LineKind, MatchRule, OutcomeClass, Provider, SourceRef,
    StatementLine,
};
use paydesk_store::{NewDiscrepancy, NewRun, NewStatement, OutcomeRow};
use std::collections::BTreeMap;

pub use paydesk_testkit::db_tests;

pub fn date(s: &str) -> BillDate {
    BillDate(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

pub fn line(i: u64) -> StatementLine {
    let refund = i % 7 == 3;
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: Provider::Alipay,
        account: "alipay-main".into(),
        provider_txn_id: format!("2024050122001{i:010}").into(),
        merchant_order_no: if i % 11 == 5 {
            None
        } else {
            Some(format!("SO-{i}").into())
        },
        kind: if refund {
            LineKind::Refund
        } else {
            LineKind::Payment
        },
        gross: if refund {
            -(i as i64 % 5000) - 1
        } else {
            (i as i64 % 100_000) + 1
        },
        fee_milli: (i as i64 % 1000) * 7,
        net: (i as i64 % 100_000) - 3,
        currency: if i.is_multiple_of(13) {
            Currency::USD
        } else {
            Currency::CNY
        },
        provider_time: Utc
            .timestamp_millis_opt(1_714_521_600_000 + (i as i64) * 1_237)
            .single()
            .expect("time"),
        provider_refund_id: (refund.then(|| format!("RFID-{i}"))).map(Into::into),
        merchant_refund_no: (refund.then(|| format!("RF-{i}"))).map(Into::into),
        provider_status: if refund {
            "退款".into()
        } else {
            "交易".into()
        },
        source: SourceRef {
            file: "20240501_alipay.csv".into(),
            line: i + 5,
        },
        fee_base: None,
    }
}

pub fn statement(account: &str, d: BillDate, sha: &str) -> NewStatement {
    NewStatement {
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        file_name: "20240501_alipay.csv".into(),
        format: "alipay_csv".into(),
        content_sha256: sha.into(),
        source: "file".into(),
        imported_by: "amy".into(),
    }
}

pub fn new_run(account: &str, d: BillDate, statement_id: i64, by: &str) -> NewRun {
    let mut counts = BTreeMap::new();
    counts.insert(OutcomeClass::Matched, 10);
    counts.insert(OutcomeClass::OrderOnly, 2);
    NewRun {
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        statement_id,
        statement_sha256: "abc".into(),
        started_by: by.into(),
        started_at: at("2024-05-02T01:00:00.123Z"),
        finished_at: at("2024-05-02T01:00:05.456Z"),
        counts,
        totals_json: serde_json::json!({"gross": 12345, "currency": "CNY"}),
    }
}

pub fn draft(key: &str, class: OutcomeClass, difference: i64) -> DiscrepancyDraft {
    let order_no = key
        .strip_prefix("order:")
        .map(str::to_string)
        .or_else(|| Some(format!("SO-{key}")));
    DiscrepancyDraft {
        key: key.into(),
        class,
        rule: MatchRule::MerchantOrderNo,
        order_no,
        provider_txn_id: Some(format!("TXN-{key}")),
        refund_no: key.strip_prefix("refund:").map(str::to_string),
        currency: Currency::CNY,
        provider_amount: Some(1000 + difference),
        local_amount: Some(1000),
        difference,
        provider_currency: Some(Currency::CNY),
        local_currency: Some(Currency::CNY),
        provider_time: Some(at("2024-05-01T10:00:00Z")),
        local_time: Some(at("2024-05-01T09:59:58Z")),
        evidence: Some(SourceRef {
            file: "f.csv".into(),
            line: 7,
        }),
        explanation: format!("{class} for {key}"),
        explanation_zh: format!("{key} 的{class}"),
    }
}

pub fn nd(account: &str, d: BillDate, dr: DiscrepancyDraft) -> NewDiscrepancy {
    NewDiscrepancy {
        draft: dr,
        account: account.into(),
        provider: Provider::Alipay,
        bill_date: d,
        due_at: at("2024-05-04T00:00:00Z"),
    }
}

pub fn outcomes_for(ds: &[NewDiscrepancy], matched: u64) -> Vec<OutcomeRow> {
    let mut v: Vec<OutcomeRow> = (0..matched)
        .map(|i| OutcomeRow {
            seq: i,
            class: OutcomeClass::Matched,
            rule: MatchRule::MerchantOrderNo,
            line_no: Some(i + 2),
            provider_txn_id: Some(format!("T{i}")),
            order_no: Some(format!("SO-{i}")),
            refund_no: None,
            discrepancy_key: None,
        })
        .collect();
    for d in ds {
        v.push(OutcomeRow {
            seq: v.len() as u64,
            class: d.draft.class,
            rule: d.draft.rule,
            line_no: None,
            provider_txn_id: d.draft.provider_txn_id.clone(),
            order_no: d.draft.order_no.clone(),
            refund_no: d.draft.refund_no.clone(),
            discrepancy_key: Some(d.draft.key.clone()),
        });
    }
    v
}
