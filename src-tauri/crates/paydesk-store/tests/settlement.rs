//! Settlement tables on SQLite and PostgreSQL: bank files imported once and all or nothing,
//! overlapping statements not booking a line twice, fund flows and payouts upserted, runs
//! replacing their links and findings while reviewers' decisions stand, and a suggestion
//! that would explain money twice refused.
#![allow(clippy::inconsistent_digit_grouping)] // amounts in cents: 1_000_00 is 1,000.00

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::settlement::matching::{LinkRule, SettleClass};
use paydesk_core::settlement::{
    BankLine, BankStatement, FlowKind, FundFlow, Payout, PayoutStatus, StatedBalance,
};
use paydesk_core::{Currency, Provider};
use paydesk_store::settlement::{
    BankImportOutcome, LinkState, NewBankImport, NewFinding, NewLink, NewSettlementRun,
    PayoutOrigin,
};
use paydesk_store::AppDb;
use paydesk_testkit::db_tests;

db_tests!(
    bank_files_import_once_and_overlaps_count_once,
    flows_and_payouts_upsert,
    runs_replace_their_links_and_decisions_stand,
    finding_reviews_stand_over_reruns,
);

async fn open(url: &str) -> AppDb {
    AppDb::open(url).await.expect("open app db")
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn bank_line(date: &str, amount: i64, text: &str) -> BankLine {
    BankLine {
        booking_date: day(date),
        value_date: Some(day(date)),
        amount,
        currency: Currency::CNY,
        counterparty: Some("支付宝（中国）网络技术有限公司".into()),
        references: vec![format!("REF-{text}")],
        text: text.into(),
        line: 1,
    }
}

fn statement(lines: Vec<BankLine>, open: i64) -> BankStatement {
    let sum: i64 = lines.iter().map(|l| l.amount).sum();
    let first = lines
        .first()
        .map(|l| l.booking_date)
        .unwrap_or(day("2026-11-23"));
    let last = lines.last().map(|l| l.booking_date).unwrap_or(first);
    BankStatement {
        account_id: Some("6225880000000001".into()),
        statement_id: Some("S1".into()),
        currency: Currency::CNY,
        opening: Some(StatedBalance {
            date: first,
            amount: open,
        }),
        closing: Some(StatedBalance {
            date: last,
            amount: open + sum,
        }),
        lines,
    }
}

async fn bank_files_import_once_and_overlaps_count_once(url: String) {
    let db = open(&url).await;
    // Two identical transfers on one day are two lines.
    let day1 = statement(
        vec![
            bank_line("2026-11-23", 100_00, "提现 A"),
            bank_line("2026-11-23", 100_00, "提现 A"),
            bank_line("2026-11-23", 55_00, "提现 B"),
        ],
        1_000_00,
    );
    let import = |sha: &'static str, stmts: &'static [BankStatement]| NewBankImport {
        bank_account: "cmb-main",
        file_name: "day.xlsx",
        content_sha256: sha,
        format: "table",
        statements: stmts,
        actor: "li.na",
    };
    let day1: &'static [BankStatement] = Box::leak(Box::new([day1]));
    let first = db
        .import_bank_file(&import("sha-1", day1))
        .await
        .expect("import");
    assert_eq!(
        first,
        BankImportOutcome::Imported {
            statements: 1,
            lines: 3,
            already_known_lines: 0
        }
    );
    // The same file again changes nothing.
    let again = db
        .import_bank_file(&import("sha-1", day1))
        .await
        .expect("again");
    assert!(
        matches!(again, BankImportOutcome::AlreadyImported { ref imported_by, .. } if imported_by == "li.na")
    );
    // A later export covering the same day plus the next: only the new line is booked.
    let two_days: &'static [BankStatement] = Box::leak(Box::new([statement(
        vec![
            bank_line("2026-11-23", 100_00, "提现 A"),
            bank_line("2026-11-23", 100_00, "提现 A"),
            bank_line("2026-11-23", 55_00, "提现 B"),
            bank_line("2026-11-24", 77_00, "提现 C"),
        ],
        1_000_00,
    )]));
    let second = db
        .import_bank_file(&import("sha-2", two_days))
        .await
        .expect("import 2");
    assert_eq!(
        second,
        BankImportOutcome::Imported {
            statements: 1,
            lines: 1,
            already_known_lines: 3
        }
    );
    let lines = db
        .bank_lines_between("cmb-main", day("2026-11-01"), day("2026-11-30"))
        .await
        .expect("lines");
    let amounts: Vec<i64> = lines.iter().map(|l| l.line.amount).collect();
    assert_eq!(amounts, vec![100_00, 100_00, 55_00, 77_00]);
    assert_eq!(lines[0].line.references, vec!["REF-提现 A".to_string()]);
    assert_eq!(
        lines[0].line.counterparty.as_deref(),
        Some("支付宝（中国）网络技术有限公司")
    );
    // Another bank account sees none of them.
    assert!(db
        .bank_lines_between("other", day("2026-11-01"), day("2026-11-30"))
        .await
        .expect("other")
        .is_empty());
    let stmts = db.bank_statements("cmb-main").await.expect("statements");
    assert_eq!(stmts.len(), 2);
    assert_eq!(stmts[1].line_sum, 332_00);
    assert_eq!(stmts[1].closing.map(|c| c.amount), Some(1_332_00));
    db.close().await;
}

fn flow(id: &str, kind: FlowKind, net: i64, payout: Option<&str>) -> FundFlow {
    FundFlow {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        flow_id: id.into(),
        source_id: Some(format!("ch_{id}")),
        order_no: Some(format!("SO-{id}")),
        payout_id: payout.map(str::to_string),
        kind,
        booked_at: Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("time"),
        currency: Currency::USD,
        gross: net,
        fee: 0,
        net,
        balance_after: None,
        description: "Payment".into(),
        line: 2,
    }
}

fn payout(id: &str, amount: i64, status: PayoutStatus) -> Payout {
    Payout {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        payout_id: id.into(),
        amount,
        currency: Currency::USD,
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
            .single()
            .expect("time"),
        arrival_date: day("2026-11-25"),
        trace_id: Some("TRACE1".into()),
        automatic: true,
        status,
    }
}

async fn flows_and_payouts_upsert(url: String) {
    let db = open(&url).await;
    let flows = vec![
        flow("txn_1", FlowKind::Payment, 10_00, Some("po_1")),
        flow("txn_2", FlowKind::Refund, -3_00, Some("po_1")),
        flow("txn_3", FlowKind::Payment, 4_00, None),
    ];
    let saved = db
        .save_fund_flows(
            "report.csv",
            &flows,
            &[payout("po_1", 7_00, PayoutStatus::Paid)],
            PayoutOrigin::Stated,
        )
        .await
        .expect("save");
    assert_eq!(
        (saved.new_flows, saved.known_flows, saved.payouts),
        (3, 0, 1)
    );
    // A later download: the same flows are known; the payout failed meanwhile.
    let saved = db
        .save_fund_flows(
            "report2.csv",
            &flows,
            &[payout("po_1", 7_00, PayoutStatus::Failed)],
            PayoutOrigin::Stated,
        )
        .await
        .expect("save again");
    assert_eq!((saved.new_flows, saved.known_flows), (0, 3));
    // An itemized report's inferred payout (Σ of its movements) never hides the stated one.
    db.save_fund_flows(
        "itemized.csv",
        &[],
        &[payout("po_1", 999_00, PayoutStatus::Paid)],
        PayoutOrigin::Inferred,
    )
    .await
    .expect("inferred");
    let payouts = db
        .payouts_until(&["stripe-main".to_string()], day("2026-11-30"))
        .await
        .expect("payouts");
    assert_eq!(payouts.len(), 1);
    assert_eq!(payouts[0].payout.status, PayoutStatus::Failed);
    assert_eq!(payouts[0].payout.amount, 7_00);
    assert_eq!(payouts[0].payout.trace_id.as_deref(), Some("TRACE1"));
    // Before its arrival date it is not listed.
    assert!(db
        .payouts_until(&["stripe-main".to_string()], day("2026-11-24"))
        .await
        .expect("early")
        .is_empty());
    let of_payout = db
        .fund_flows_of_payout("stripe-main", "po_1")
        .await
        .expect("of payout");
    assert_eq!(
        of_payout
            .iter()
            .map(|f| f.flow_id.as_str())
            .collect::<Vec<_>>(),
        vec!["txn_1", "txn_2"]
    );
    assert_eq!(of_payout, flows[..2].to_vec());
    let by_order = db.fund_flows_of_order("SO-txn_3").await.expect("by order");
    assert_eq!(by_order, vec![flows[2].clone()]);
    let grouped = db
        .fund_flows_with_payouts(&["stripe-main".to_string()])
        .await
        .expect("grouped");
    assert_eq!(grouped.len(), 1);
    db.close().await;
}

fn new_link(state: LinkState, payouts: Vec<i64>, lines: Vec<i64>) -> NewLink {
    NewLink {
        rule: if payouts.len() > 1 {
            LinkRule::GroupedPayouts
        } else {
            LinkRule::AmountDate
        },
        confidence: if state == LinkState::Booked { 95 } else { 75 },
        state,
        currency: Currency::CNY,
        payout_total: 150_00,
        bank_total: 150_00,
        evidence: vec!["same amount 150.00".into()],
        payout_ids: payouts,
        bank_line_ids: lines,
    }
}

async fn runs_replace_their_links_and_decisions_stand(url: String) {
    let db = open(&url).await;
    let stmts: &'static [BankStatement] = Box::leak(Box::new([statement(
        vec![
            bank_line("2026-11-23", 150_00, "batch"),
            bank_line("2026-11-23", 80_00, "single"),
        ],
        0,
    )]));
    db.import_bank_file(&NewBankImport {
        bank_account: "cmb-main",
        file_name: "a.xml",
        content_sha256: "sha-a",
        format: "camt053",
        statements: stmts,
        actor: "li.na",
    })
    .await
    .expect("import");
    let lines = db
        .bank_lines_between("cmb-main", day("2026-11-01"), day("2026-11-30"))
        .await
        .expect("lines");
    let (b1, b2) = (lines[0].id, lines[1].id);
    let mut ps = Vec::new();
    for (i, amount) in [100_00, 50_00, 80_00].iter().enumerate() {
        let mut p = payout(&format!("po_{i}"), *amount, PayoutStatus::Paid);
        p.currency = Currency::CNY;
        ps.push(p);
    }
    db.save_fund_flows("payouts.json", &[], &ps, PayoutOrigin::Stated)
        .await
        .expect("payouts");
    let stored = db
        .payouts_until(&["stripe-main".to_string()], day("2026-11-30"))
        .await
        .expect("payouts");
    let (p0, p1, p2) = (stored[0].id, stored[1].id, stored[2].id);

    let finding = NewFinding {
        class: SettleClass::BankCreditWithoutPayout,
        day: day("2026-11-23"),
        currency: Currency::CNY,
        expected: None,
        actual: Some(80_00),
        detail: "nothing explains it".into(),
        payout_ids: vec![],
        bank_line_ids: vec![b2],
    };
    let links = vec![
        new_link(LinkState::Suggested, vec![p0, p1], vec![b1]),
        new_link(LinkState::Booked, vec![p2], vec![b2]),
    ];
    let run = |links: &'static [NewLink], findings: &'static [NewFinding]| NewSettlementRun {
        bank_account: "cmb-main",
        as_of: day("2026-11-24"),
        actor: "li.na",
        started_at: Utc::now(),
        summary: serde_json::json!({"links": links.len()}),
        links,
        findings,
    };
    let links: &'static [NewLink] = Box::leak(links.into_boxed_slice());
    let findings: &'static [NewFinding] = Box::leak(vec![finding].into_boxed_slice());
    db.save_settlement_run(&run(links, findings))
        .await
        .expect("run 1");
    let suggested = db
        .settlement_links("cmb-main", &[LinkState::Suggested])
        .await
        .expect("suggested");
    assert_eq!(suggested.len(), 1);
    let s = &suggested[0];
    assert_eq!(s.payout_ids, vec![p0, p1]);
    assert_eq!(s.bank_line_ids, vec![b1]);
    assert_eq!(s.rule, LinkRule::GroupedPayouts);
    assert_eq!(s.evidence, vec!["same amount 150.00".to_string()]);
    let found = db.settlement_findings("cmb-main").await.expect("findings");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].bank_line_ids, vec![b2]);
    assert_eq!(found[0].class, SettleClass::BankCreditWithoutPayout);

    // Accept it; a booked link cannot be "decided".
    let accepted = db
        .decide_settlement_link(s.id, true, "wang.fang", Some("checked the bank advice"))
        .await
        .expect("accept");
    assert_eq!(accepted.state, LinkState::Accepted);
    assert_eq!(accepted.decided_by.as_deref(), Some("wang.fang"));
    let booked = db
        .settlement_links("cmb-main", &[LinkState::Booked])
        .await
        .expect("booked");
    assert!(db
        .decide_settlement_link(booked[0].id, false, "wang.fang", None)
        .await
        .is_err());
    assert!(db
        .decide_settlement_link(s.id, false, "x", None)
        .await
        .is_err());

    // A second run replaces booked links, suggestions and findings; the accepted one stands.
    // Its new suggestion reuses payout p0, which the accepted link explains: refused.
    let links2: &'static [NewLink] = Box::leak(
        vec![
            new_link(LinkState::Booked, vec![p2], vec![b2]),
            new_link(LinkState::Suggested, vec![p0], vec![b2]),
        ]
        .into_boxed_slice(),
    );
    db.save_settlement_run(&run(links2, &[]))
        .await
        .expect("run 2");
    assert!(db
        .settlement_findings("cmb-main")
        .await
        .expect("f")
        .is_empty());
    let all = db.settlement_links("cmb-main", &[]).await.expect("all");
    let states: Vec<LinkState> = all.iter().map(|l| l.state).collect();
    assert_eq!(
        states,
        vec![LinkState::Accepted, LinkState::Booked, LinkState::Suggested]
    );
    let twice = all[2].id;
    let refused = db
        .decide_settlement_link(twice, true, "wang.fang", None)
        .await
        .expect_err("money explained twice");
    assert!(
        refused.to_string().contains("already explains"),
        "{refused}"
    );
    // Rejecting it is fine.
    let rejected = db
        .decide_settlement_link(twice, false, "wang.fang", Some("wrong day"))
        .await
        .expect("reject");
    assert_eq!(rejected.state, LinkState::Rejected);
    let run = db
        .latest_settlement_run("cmb-main")
        .await
        .expect("run")
        .expect("some");
    assert_eq!(run.summary["links"], 2);
    db.close().await;
}

async fn finding_reviews_stand_over_reruns(url: String) {
    let db = open(&url).await;
    let finding = |payout: i64, detail: &str| NewFinding {
        class: SettleClass::PayoutNotArrived,
        day: day("2026-11-26"),
        currency: Currency::CNY,
        expected: Some(250_00),
        actual: None,
        detail: detail.into(),
        payout_ids: vec![payout],
        bank_line_ids: vec![],
    };
    let save = |findings: Vec<NewFinding>| {
        let findings: &'static [NewFinding] = Box::leak(findings.into_boxed_slice());
        NewSettlementRun {
            bank_account: "cmb-main",
            as_of: day("2026-12-01"),
            actor: "li.na",
            started_at: Utc::now(),
            summary: serde_json::json!({}),
            links: &[],
            findings,
        }
    };
    db.save_settlement_run(&save(vec![finding(7, "payout 7 not in the bank")]))
        .await
        .expect("run 1");
    let first = db.settlement_findings("cmb-main").await.expect("findings");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].review, None);
    let reviewed = db
        .review_settlement_finding(
            first[0].id,
            true,
            Some("bank confirms: arrives Monday"),
            "wang.fang",
        )
        .await
        .expect("resolve");
    let review = reviewed.review.clone().expect("a review");
    assert_eq!(
        (review.state.as_str(), review.updated_by.as_str()),
        ("resolved", "wang.fang")
    );
    assert_eq!(
        review.note.as_deref(),
        Some("bank confirms: arrives Monday")
    );

    // A re-run finds the same payout not arrived (its words changed) and another one: the
    // review follows the first, the second is open.
    db.save_settlement_run(&save(vec![
        finding(7, "payout 7 still not in the bank"),
        finding(8, "payout 8 not in the bank"),
    ]))
    .await
    .expect("run 2");
    let again = db.settlement_findings("cmb-main").await.expect("findings");
    assert_eq!(again.len(), 2);
    let by_payout = |p: i64| {
        again
            .iter()
            .find(|f| f.payout_ids == vec![p])
            .expect("finding")
    };
    assert_eq!(
        by_payout(7).review.as_ref().map(|r| r.state.as_str()),
        Some("resolved")
    );
    assert_eq!(by_payout(8).review, None);
    assert_ne!(
        by_payout(7).id,
        first[0].id,
        "the run replaced the finding row"
    );

    // Reopening keeps the note unless a new one is given.
    let reopened = db
        .review_settlement_finding(by_payout(7).id, false, None, "li.na")
        .await
        .expect("reopen");
    let r = reopened.review.expect("review");
    assert_eq!(r.state, "open");
    assert_eq!(r.note.as_deref(), Some("bank confirms: arrives Monday"));
    // A finding of an older run is gone.
    assert!(db
        .review_settlement_finding(first[0].id, true, None, "li.na")
        .await
        .is_err());
    db.close().await;
}
