//! Settlement reconciliation through the real `paydesk` binary, on SQLite and PostgreSQL:
//! Stripe payouts and their balance transactions imported from the providers' layouts, a
//! camt.053 bank statement with every shape (a payout named by reference, one matched by
//! amount and date, two payouts in one credit, a payout missing, an unknown credit, a wrong
//! amount, a payout that is not the sum of its transactions), the grouped suggestion accepted
//! and audited, an order followed to its bank line, and the day's trade bill checked against
//! the fund flows (a charge on the balance for another amount, a charge never on it).
#![allow(clippy::inconsistent_digit_grouping)] // amounts in cents: 1_000_00 is 1,000.00

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::settlement::{
    BankLine, BankStatement, FlowKind, FundFlow, Payout, PayoutStatus, StatedBalance,
};
use paydesk_core::{Currency, LineKind, Provider, SourceRef, StatementLine};
use paydesk_providers::bank::write_camt053;
use paydesk_providers::fundflow::{write_stripe_payout_itemized_with, write_stripe_payouts_page};
use paydesk_providers::statement::write_stripe_report;
use paydesk_testkit::psql::PsqlDb;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");

fn paydesk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(args)
        .env_remove("PAYDESK_WORKSPACE")
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .output()
        .expect("run paydesk")
}

fn ok_json(args: &[&str]) -> Value {
    let out = paydesk(args);
    assert!(
        out.status.success(),
        "paydesk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "paydesk {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date")
}

fn payout(id: &str, amount: i64, arrival: &str, trace: Option<&str>) -> Payout {
    Payout {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        payout_id: id.into(),
        amount,
        currency: Currency::USD,
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
            .single()
            .expect("t"),
        arrival_date: day(arrival),
        trace_id: trace.map(str::to_string),
        automatic: true,
        status: PayoutStatus::Paid,
    }
}

fn charge(n: u32, payout: &str, gross: i64, fee: i64) -> FundFlow {
    FundFlow {
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        flow_id: format!("txn_1Q{n:06}"),
        source_id: Some(format!("ch_3Q{n:06}")),
        order_no: Some(format!("SO-{n}")),
        payout_id: Some(payout.into()),
        kind: FlowKind::Payment,
        booked_at: Utc
            .with_ymd_and_hms(2026, 11, 19, 10, 0, 0)
            .single()
            .expect("t"),
        currency: Currency::USD,
        gross,
        fee,
        net: gross - fee,
        balance_after: None,
        description: "charge".into(),
        line: 0,
    }
}

fn credit(date: &str, amount: i64, refs: &[&str], text: &str, who: &str) -> BankLine {
    BankLine {
        booking_date: day(date),
        value_date: Some(day(date)),
        amount,
        currency: Currency::USD,
        counterparty: Some(who.into()),
        references: refs.iter().map(|r| r.to_string()).collect(),
        text: text.into(),
        line: 0,
    }
}

/// The shared day: six payouts (Mon 2026-11-23 and Tue 2026-11-24 arrivals) and their bank.
fn write_inputs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let payouts = vec![
        payout("po_1QAAAAAA", 100_00, "2026-11-23", Some("TRC0001")),
        payout("po_1QBBBBBB", 40_00, "2026-11-23", None),
        payout("po_1QCCCCCC", 60_00, "2026-11-23", None),
        payout("po_1QDDDDDD", 250_00, "2026-11-23", None),
        payout("po_1QEEEEEE", 70_00, "2026-11-24", None),
        payout("po_1QFFFFFF", 33_00, "2026-11-24", None),
        payout("po_1QGGGGGG", 30_00, "2026-11-24", None),
        payout("po_1QHHHHHH", 20_00, "2026-11-24", None),
    ];
    let mut flows = vec![
        charge(1, "po_1QAAAAAA", 103_20, 3_20),
        charge(2, "po_1QBBBBBB", 40_00, 0),
        charge(3, "po_1QCCCCCC", 60_00, 0),
        charge(4, "po_1QDDDDDD", 250_00, 0),
        // E's transactions sum to 69.00, not its 70.00.
        charge(5, "po_1QEEEEEE", 71_00, 2_00),
        charge(6, "po_1QFFFFFF", 33_00, 0),
        charge(7, "po_1QGGGGGG", 30_00, 0),
        charge(8, "po_1QHHHHHH", 20_00, 0),
    ];
    // An instant-payout fee of 1.00 on A, where the schedule says none.
    flows.push(FundFlow {
        flow_id: "txn_1QFEE001".into(),
        source_id: Some("po_1QAAAAAA".into()),
        order_no: None,
        payout_id: None,
        kind: FlowKind::Fee,
        gross: -1_00,
        fee: 0,
        net: -1_00,
        description: "Instant payout fee".into(),
        ..charge(9, "po_1QAAAAAA", 0, 0)
    });
    for (i, f) in flows.iter_mut().enumerate() {
        f.line = i as u64 + 2;
    }
    let itemized = dir.join("payout_reconciliation_itemized_5.csv");
    std::fs::write(
        &itemized,
        write_stripe_payout_itemized_with(&flows, &payouts).expect("itemized"),
    )
    .expect("write");
    let page = dir.join("payouts.json");
    std::fs::write(&page, write_stripe_payouts_page(&payouts, false)).expect("write");

    let lines = vec![
        // A by its trace id.
        credit(
            "2026-11-23",
            100_00,
            &["TRC0001"],
            "STRIPE PAYOUT",
            "STRIPE",
        ),
        // B + C in one credit, no reference.
        credit("2026-11-24", 100_00, &[], "STRIPE TRANSFER", "STRIPE"),
        // E by amount and date from Stripe.
        credit("2026-11-24", 70_00, &[], "STRIPE TRANSFER", "STRIPE"),
        // F named, but 32.50 arrived.
        credit(
            "2026-11-25",
            32_50,
            &["po_1QFFFFFF"],
            "STRIPE PAYOUT",
            "STRIPE",
        ),
        // G + H in one credit: the suggestion the reviewer rejects.
        credit("2026-11-25", 50_00, &[], "STRIPE TRANSFER", "STRIPE"),
        // Nobody's payout.
        credit(
            "2026-11-24",
            12_34,
            &["E2E-778899"],
            "REFUND FROM SUPPLIER",
            "ACME LTD",
        ),
    ];
    let moved: i64 = lines.iter().map(|l| l.amount).sum();
    let stmt = BankStatement {
        account_id: Some("US33XXX0000000000001".into()),
        statement_id: Some("STMT-2026-11-25".into()),
        currency: Currency::USD,
        opening: Some(StatedBalance {
            date: day("2026-11-22"),
            amount: 1_000_00,
        }),
        // A 25.00 charge in the closing balance that no line shows: a balance break.
        closing: Some(StatedBalance {
            date: day("2026-11-25"),
            amount: 1_000_00 + moved - 25_00,
        }),
        lines,
    };
    let camt = dir.join("camt053_2026-11-25.xml");
    std::fs::write(&camt, write_camt053(&stmt, "US33XXX0000000000001")).expect("write");
    (itemized, page, camt)
}

fn workspace(dir: &Path, pg: Option<&str>) -> std::path::PathBuf {
    let ws = dir.join("ws");
    let out = paydesk(&["init", "--workspace", s(&ws)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = ws.join("paydesk.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    if let Some(url) = pg {
        text = text.replace(
            "database_url = \"sqlite://paydesk.db\"",
            &format!("database_url = \"{url}\""),
        );
    }
    // A payout should cost nothing on this account.
    text = text.replace(
        "order_metadata_key = \"order_id\"\n",
        "order_metadata_key = \"order_id\"\n[accounts.payout_fee]\nfixed = \"0.00\"\n",
    );
    assert!(text.contains("[accounts.payout_fee]"), "{text}");
    if !text.contains("[[bank_accounts]]") {
        text.push_str(
            "\n[[bank_accounts]]\nname = \"stripe-bank\"\ncurrency = \"USD\"\naccounts = [\"stripe-main\"]\ntrade_check_days = 14\n",
        );
    }
    std::fs::write(&config, text).expect("write config");
    if pg.is_some() {
        let out = paydesk(&["init", "--workspace", s(&ws)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ws
}

/// `paydesk settle` of the shared bank account as of 2026-12-01, as JSON.
fn settle(w: &str, dry_run: bool) -> Value {
    let mut args = vec![
        "settle",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--date",
        "2026-12-01",
    ];
    if dry_run {
        args.push("--dry-run");
    }
    args.push("--json");
    ok_json(&args)
}

/// The findings of a `settle --json` report or a `settlements list --json`.
fn findings(report: &Value) -> impl Iterator<Item = &Value> {
    report["findings"].as_array().into_iter().flatten()
}

fn finding_classes(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings(report)
        .filter_map(|f| f["class"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

fn settle_day_end_to_end(pg: Option<&str>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = workspace(tmp.path(), pg);
    let (itemized, page, camt) = write_inputs(tmp.path());
    let w = s(&ws);

    // The provider's payouts first, then the itemized report: its inferred payouts never
    // replace the stated amounts.
    let r = ok_json(&[
        "fundflows",
        "import",
        "--workspace",
        w,
        "--account",
        "stripe-main",
        "--file",
        s(&page),
        "--json",
    ]);
    assert_eq!(r["payouts"], 8);
    let r = ok_json(&[
        "fundflows",
        "import",
        "--workspace",
        w,
        "--account",
        "stripe-main",
        "--file",
        s(&itemized),
        "--json",
    ]);
    assert_eq!(r["new_flows"], 9);

    let r = ok_json(&[
        "bank",
        "import",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--file",
        s(&camt),
        "--json",
    ]);
    assert_eq!(
        (r["format"].as_str(), r["lines"].as_u64()),
        (Some("camt053"), Some(6))
    );
    let again = ok_json(&[
        "bank",
        "import",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--file",
        s(&camt),
        "--json",
    ]);
    assert_eq!(again["already_imported"], true);

    // A hostile file: one line, nothing imported.
    let evil = tmp.path().join("evil.xml");
    std::fs::write(
        &evil,
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>\
         <Document><BkToCstmrStmt>&b;</BkToCstmrStmt></Document>",
    )
    .expect("write");
    let out = paydesk(&[
        "bank",
        "import",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--file",
        s(&evil),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("evil.xml"), "{err}");

    let report = settle(w, false);
    assert_eq!(
        finding_classes(&report),
        vec![
            "balance_break",
            "bank_credit_without_payout",
            "composition_mismatch",
            "payout_amount_mismatch",
            "payout_fee_differs",
            "payout_not_arrived",
        ],
        "{report:#}"
    );
    let brk = findings(&report)
        .find(|f| f["class"] == "balance_break")
        .expect("balance break");
    // The stored statement's own totals: its 6 lines, the 25.00 gap.
    assert!(
        brk["detail"]
            .as_str()
            .is_some_and(|d| d.contains("25.00") && d.contains("6 lines")),
        "{brk}"
    );
    let not_arrived = findings(&report)
        .find(|f| f["class"] == "payout_not_arrived")
        .expect("not arrived");
    assert_eq!(not_arrived["expected"], 250_00);
    let unknown = findings(&report)
        .find(|f| f["class"] == "bank_credit_without_payout")
        .expect("unknown credit");
    assert_eq!(unknown["actual"], 12_34);
    // Links booked: A by trace id, E by amount and date from Stripe, F by its id.
    let rules: Vec<&str> = report["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["rule"].as_str())
        .collect();
    assert_eq!(
        rules.iter().filter(|r| **r == "reference").count(),
        2,
        "{rules:?}"
    );
    assert_eq!(
        rules.iter().filter(|r| **r == "amount_date").count(),
        1,
        "{rules:?}"
    );
    // B + C and G + H: suggestions, never booked.
    let suggestions = report["suggestions"].as_array().expect("suggestions");
    assert_eq!(suggestions.len(), 2, "{report:#}");
    let s0 = suggestions
        .iter()
        .find(|x| x["bank_total"] == 100_00)
        .expect("B + C");
    let gh = suggestions
        .iter()
        .find(|x| x["bank_total"] == 50_00)
        .expect("G + H");
    let rejected_id = gh["id"].as_i64().expect("stored id").to_string();
    assert_eq!(s0["rule"], "grouped_payouts");
    assert_eq!(
        (s0["payout_total"].as_i64(), s0["bank_total"].as_i64()),
        (Some(100_00), Some(100_00))
    );
    assert!(s0["confidence"].as_u64().unwrap_or(100) < 90);
    let id = s0["id"].as_i64().expect("stored suggestion id").to_string();

    let accepted = ok_json(&[
        "settlements",
        "accept",
        "--workspace",
        w,
        &id,
        "--note",
        "bank advice checked",
        "--json",
    ]);
    assert_eq!(accepted["state"], "accepted");
    // The link with its payouts (in its own order), its bank line and what each payout settles.
    let shown = ok_json(&["settlements", "show", "--workspace", w, &id, "--json"]);
    let shown_payouts: Vec<&str> = shown["payouts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["payout"]["payout_id"].as_str())
        .collect();
    assert_eq!(
        shown_payouts,
        vec!["po_1QBBBBBB", "po_1QCCCCCC"],
        "{shown:#}"
    );
    assert_eq!(shown["bank_lines"][0]["line"]["amount"], 100_00);
    assert_eq!(shown["settled"][0][0]["order_no"], "SO-2", "{shown:#}");
    let rejected = ok_json(&[
        "settlements",
        "reject",
        "--workspace",
        w,
        &rejected_id,
        "--note",
        "not ours",
        "--json",
    ]);
    assert_eq!(rejected["state"], "rejected");
    let audit = ok_json(&["audit", "list", "--workspace", w, "--json"]);
    let actions: Vec<&str> = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "bank.import",
        "fundflow.import",
        "settle.run",
        "settlement.accept",
        "settlement.reject",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
    // A re-run: B and C have arrived; the rejected G + H is not suggested again, so G and
    // H are not arrived and the 50.00 credit is unexplained.
    let rerun = settle(w, false);
    assert!(
        rerun["suggestions"]
            .as_array()
            .is_some_and(|a| a.is_empty()),
        "{rerun:#}"
    );
    assert_eq!(rerun["arrivals"]["arrived"], 5, "{:#}", rerun["arrivals"]);
    assert_eq!(
        rerun["arrivals"]["not_arrived"], 3,
        "{:#}",
        rerun["arrivals"]
    );
    assert_eq!(
        rerun["counts"]["bank_credit_without_payout"], 2,
        "{:#}",
        rerun["counts"]
    );
    // The missing payout: finance resolves its finding with a note; a re-run keeps it.
    let list = ok_json(&[
        "settlements",
        "list",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--json",
    ]);
    let missing = findings(&list)
        .find(|f| f["class"] == "payout_not_arrived" && f["expected"] == 250_00)
        .expect("D not arrived");
    let fid = missing["id"].as_i64().expect("finding id").to_string();
    let resolved = ok_json(&[
        "settlements",
        "resolve",
        "--workspace",
        w,
        &fid,
        "--note",
        "bank recalled it",
        "--json",
    ]);
    assert_eq!(resolved["review"]["state"], "resolved");
    let rerun = settle(w, false);
    // The run's own report shows the finding found again with its review and its new id.
    let again = findings(&rerun)
        .find(|f| f["class"] == "payout_not_arrived" && f["expected"] == 250_00)
        .expect("D again");
    assert_eq!(again["review"]["state"], "resolved", "{again}");
    assert_eq!(again["review"]["note"], "bank recalled it");
    assert!(
        again["id"].as_i64().is_some_and(|id| id.to_string() != fid),
        "{again}"
    );
    let others_reviewed = findings(&rerun).filter(|f| !f["review"].is_null()).count();
    assert_eq!(others_reviewed, 1, "{rerun:#}");
    let list = ok_json(&[
        "settlements",
        "list",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--json",
    ]);
    let still = findings(&list)
        .find(|f| f["class"] == "payout_not_arrived" && f["expected"] == 250_00)
        .expect("D still not arrived");
    assert_eq!(still["review"]["state"], "resolved", "{still}");
    assert_eq!(still["review"]["note"], "bank recalled it");

    // Accepting it again is refused.
    let out = paydesk(&["settlements", "accept", "--workspace", w, &id]);
    assert!(!out.status.success());

    // The daily report, in Chinese: the flows' day and the payouts' day.
    let csv = ws.join("settlement.csv");
    let out = paydesk(&[
        "settlements",
        "report",
        "--workspace",
        w,
        "--bank",
        "stripe-bank",
        "--from",
        "2026-11-19",
        "--to",
        "2026-11-20",
        "--format",
        "csv",
        "--out",
        s(&csv),
        "--lang",
        "zh",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).expect("report");
    let rows: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        rows,
        vec![
            "日期,账户,币种,收款,退款,手续费,争议/拒付,其他,净额,提现/结算,已到账,未到账/在途,差异数",
            "2026-11-19,stripe-main,USD,607.20,0.00,-6.20,0.00,0.00,601.00,0.00,0.00,0.00,0",
            "2026-11-20,stripe-main,USD,0.00,0.00,0.00,0.00,0.00,0.00,603.00,303.00,300.00,0",
        ],
        "{text}"
    );

    // Order SO-1 → charge → payout po_1QAAAAAA → the bank line naming its trace id.
    let follow = ok_json(&["settlements", "follow", "--workspace", w, "SO-1", "--json"]);
    assert_eq!(
        follow["payouts"][0]["payout"]["payout_id"], "po_1QAAAAAA",
        "{follow:#}"
    );
    assert_eq!(
        follow["bank_lines"][0]["line"]["amount"], 100_00,
        "{follow:#}"
    );
    assert_eq!(
        follow["bank_lines"][0]["line"]["booking_date"],
        "2026-11-23"
    );

    // The trade bill of 2026-11-19 against the fund flows: charge 3 is 61.00 in the bill but
    // moved the balance by 60.00, charge 99 is in the bill and never on the balance; the
    // other seven agree.
    let trade = tmp
        .path()
        .join("balance_change_from_activity_2026-11-19.csv");
    let mut lines: Vec<StatementLine> = [
        (1, 103_20, 3_20),
        (2, 40_00, 0),
        (3, 61_00, 0),
        (4, 250_00, 0),
        (5, 71_00, 2_00),
        (6, 33_00, 0),
        (7, 30_00, 0),
        (8, 20_00, 0),
        (99, 15_00, 0),
    ]
    .into_iter()
    .map(|(n, gross, fee)| trade_line(n, gross, fee))
    .collect();
    lines.sort_by_key(|l| l.provider_txn_id.to_string());
    let mut csv = Vec::new();
    write_stripe_report(&lines, &mut csv).expect("trade report");
    std::fs::write(&trade, csv).expect("write");
    let out = paydesk(&[
        "reconcile",
        "--workspace",
        w,
        "--account",
        "stripe-main",
        "--date",
        "2026-11-19",
        "--statement",
        s(&trade),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = settle(w, true);
    let check = &report["trade_checks"][0];
    assert_eq!(
        (
            &check["account"],
            &check["matched"],
            &check["pending"],
            &check["findings"]
        ),
        (
            &Value::from("stripe-main"),
            &Value::from(7),
            &Value::from(0),
            &Value::from(2)
        ),
        "{check}"
    );
    let mut trade_findings: Vec<(Value, Value, String)> = findings(&report)
        .filter(|f| f["class"] == "trade_flow_mismatch")
        .map(|f| {
            (
                f["expected"].clone(),
                f["actual"].clone(),
                f["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    trade_findings.sort_by_key(|f| f.2.clone());
    assert_eq!(trade_findings.len(), 2, "{report:#}");
    assert_eq!(
        (&trade_findings[0].0, &trade_findings[0].1),
        (&Value::from(61_00), &Value::from(60_00))
    );
    assert!(
        trade_findings[0]
            .2
            .contains("payment ch_3Q000003 of order SO-3")
            && trade_findings[0]
                .2
                .contains("balance movement txn_1Q000003 is 60.00 USD"),
        "{}",
        trade_findings[0].2
    );
    assert_eq!(
        (&trade_findings[1].0, &trade_findings[1].1),
        (&Value::from(15_00), &Value::Null)
    );
    assert!(
        trade_findings[1].2.contains("ch_3Q000099")
            && trade_findings[1].2.contains("did not move the balance"),
        "{}",
        trade_findings[1].2
    );
}

/// Charge `n` as the trade report lists it (the fund flows' `charge(n, …)`).
fn trade_line(n: u32, gross: i64, fee: i64) -> StatementLine {
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider: Provider::Stripe,
        account: "stripe-main".into(),
        provider_txn_id: format!("ch_3Q{n:06}").as_str().into(),
        merchant_order_no: Some(format!("SO-{n}").as_str().into()),
        kind: LineKind::Payment,
        gross,
        fee_milli: fee * 1000,
        net: gross - fee,
        currency: Currency::USD,
        provider_time: Utc
            .with_ymd_and_hms(2026, 11, 19, 10, 0, 0)
            .single()
            .expect("t"),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: "charge".into(),
        source: SourceRef {
            file: "trade.csv".into(),
            line: 0,
        },
        fee_base: None,
    }
}

#[test]
fn settlement_day_on_sqlite() {
    settle_day_end_to_end(None);
}

#[test]
fn settlement_day_on_postgres() {
    let Some(pg) = PsqlDb::create("paydesk_settle") else {
        return;
    };
    settle_day_end_to_end(Some(&pg.url));
}
