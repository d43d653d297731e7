//! End-to-end tests of the `paydesk` command line: the real binary, real SQLite files and a
//! real PostgreSQL server, the providers' real statement layouts.

use paydesk_testkit::psql::PsqlDb;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The demo admin (README) — also the first admin of generated workspaces here.
const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");

fn paydesk_as(user: (&str, &str), args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(args)
        .env_remove("PAYDESK_WORKSPACE")
        .env("PAYDESK_USER", user.0)
        .env("PAYDESK_PASSWORD", user.1)
        .output()
        .expect("run paydesk")
}

fn paydesk(args: &[&str]) -> Output {
    paydesk_as(ADMIN, args)
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

fn ok(args: &[&str]) -> String {
    let out = paydesk(args);
    assert!(
        out.status.success(),
        "paydesk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = paydesk(args);
    assert!(!out.status.success(), "paydesk {args:?} should have failed");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one-line reason expected, got: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().last(),
        Some(errors[0]),
        "{stderr}"
    );
    errors[0].to_string()
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/samples")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const DISCREPANCY_CLASSES: [&str; 12] = [
    "provider_only",
    "order_only",
    "amount_mismatch",
    "currency_mismatch",
    "status_mismatch",
    "duplicate_payment",
    "refund_only_at_provider",
    "refund_only_local",
    "refund_amount_mismatch",
    "fee_variance",
    "provider_adjustment",
    "timing_difference",
];

#[test]
fn demo_finds_every_class_closes_carry_overs_and_writes_reports() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("demo");
    let summary = ok_json(&[
        "demo",
        "--workspace",
        s(&ws),
        "--date",
        "2026-11-22",
        "--json",
    ]);
    for class in DISCREPANCY_CLASSES {
        let n = summary["class_totals"][class].as_u64().unwrap_or(0);
        assert!(n >= 1, "demo found no {class}: {}", summary["class_totals"]);
    }
    // A dispute downloaded from Stripe is tied to its order through the disputed charge.
    let disputes: Vec<&Value> = summary["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["discrepancies"].as_array().into_iter().flatten())
        .filter(|d| d["class"] == "provider_adjustment")
        .collect();
    assert!(!disputes.is_empty());
    assert!(
        disputes.iter().all(|d| d["order_no"].is_string()),
        "{disputes:?}"
    );
    // Eight runs: four accounts (two WeChat Pay merchants), two days.
    assert_eq!(summary["runs"].as_array().map(Vec::len), Some(8));
    // The second day's statements settle the first day's timing differences.
    let closed: usize = summary["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["date"] == "2026-11-22")
        .map(|r| r["carry_overs_closed"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(closed >= 1, "no carry-over was closed on the second day");
    for report in summary["reports"].as_array().into_iter().flatten() {
        let path = Path::new(report.as_str().expect("path"));
        assert!(
            path.is_file() && std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > 100,
            "{path:?}"
        );
    }
    // Re-running the demo is idempotent: same discrepancies, nothing duplicated.
    let again = ok_json(&[
        "demo",
        "--workspace",
        s(&ws),
        "--date",
        "2026-11-22",
        "--json",
    ]);
    assert_eq!(again["class_totals"], summary["class_totals"]);
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(&ws),
        "--limit",
        "1000",
        "--json",
    ]);
    let total_found: u64 = summary["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["discrepancies"].as_array().map_or(0, Vec::len) as u64)
        .sum();
    // Timing differences closed by the next day no longer count as present.
    assert!(listed["total"].as_u64().unwrap_or(0) <= total_found);
    assert!(listed["total"].as_u64().unwrap_or(0) >= total_found - closed as u64);
}

#[test]
fn reconciles_the_providers_real_sample_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    ok(&["init", "--workspace", s(&ws), "--demo"]);
    // The samples are merchant 2088021109625633's and 1921000401's statements: a statement
    // must be the account's (README, "Statement identity and day").
    let config = ws.join("paydesk.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .replace("pid = \"2088000000000001\"", "pid = \"2088021109625633\"")
        .replace("mchid = \"1900000001\"", "mchid = \"1921000401\"");
    std::fs::write(&config, text).expect("config");

    let alipay = ok_json(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "alipay-main",
        "--date",
        "2019-09-16",
        "--statement",
        s(&samples().join("alipay/20880211096256330156_20190916.csv.zip")),
        "--json",
    ]);
    // An empty mirror: 6 payments nobody ordered (长款), 4 refunds nobody recorded.
    assert_eq!(alipay["statement"]["lines"], 10);
    assert_eq!(alipay["counts"]["provider_only"], 6);
    assert_eq!(alipay["counts"]["refund_only_at_provider"], 4);
    let d = alipay["discrepancies"]
        .as_array()
        .and_then(|ds| {
            ds.iter()
                .find(|d| d["order_no"] == "service_1568601259302" && d["class"] == "provider_only")
        })
        .expect("the first sample order");
    assert_eq!(d["provider_amount"], 1);
    assert_eq!(d["currency"], "CNY");
    assert!(d["evidence"].as_str().unwrap_or("").contains(":"), "{d}");

    let csv = ok_json(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "alipay-main",
        "--date",
        "2019-09-16",
        "--statement",
        s(&samples().join("alipay/20880211096256330156_20190916_业务明细.csv")),
        "--json",
    ]);
    // Same lines from the bare CSV as from the zip.
    assert_eq!(csv["counts"], alipay["counts"]);

    let wechat = ok_json(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "wechat-main",
        "--date",
        "2019-02-19",
        "--statement",
        s(&samples().join("wechat/1921000401_20190219_ALL.csv.gz")),
        "--json",
    ]);
    assert_eq!(wechat["statement"]["lines"], 8);
    let stripe = ok_json(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "stripe-main",
        "--date",
        "2026-11-22",
        "--statement",
        s(&samples().join("stripe/balance_change_from_activity_itemized_2026-11-22.csv")),
        "--json",
    ]);
    assert_eq!(stripe["statement"]["lines"], 6);
    assert_eq!(stripe["counts"]["provider_adjustment"], 1, "the dispute");
}

#[test]
fn bad_input_gives_a_clear_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    ok(&["init", "--workspace", s(&ws), "--demo"]);

    // A WeChat bill given to the Alipay account.
    let err = fails(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "alipay-main",
        "--date",
        "2019-02-19",
        "--statement",
        s(&samples().join("wechat/1921000401_20190219_ALL.csv")),
    ]);
    assert!(
        err.contains("wechat") && err.contains("alipay-main"),
        "{err}"
    );

    // A truncated bill: the summary no longer agrees with the rows.
    let full = std::fs::read(samples().join("wechat/1921000401_20190219_ALL.csv")).expect("sample");
    let text = String::from_utf8(full).expect("utf-8");
    let mut kept: Vec<&str> = text.lines().collect();
    kept.remove(3);
    let truncated = tmp.path().join("truncated_ALL.csv");
    std::fs::write(&truncated, kept.join("\r\n")).expect("write");
    let err = fails(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "wechat-main",
        "--date",
        "2019-02-19",
        "--statement",
        s(&truncated),
    ]);
    assert!(err.contains("truncated_ALL.csv"), "{err}");

    // The wrong day for the file.
    let err = fails(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "wechat-main",
        "--date",
        "2020-01-01",
        "--statement",
        s(&samples().join("wechat/1921000401_20190219_ALL.csv")),
    ]);
    assert!(err.contains("2020-01-01"), "{err}");

    // A bad date and an unknown account.
    assert!(fails(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "alipay-main",
        "--date",
        "2026-13-01"
    ])
    .contains("--date"));
    assert!(fails(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "nope",
        "--date",
        "2026-11-01",
        "--statement",
        "x"
    ])
    .contains("nope"));

    // Nothing was imported by any of the failures.
    let runs = ok_json(&["runs", "--workspace", s(&ws), "--json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(0));
    let listed = ok_json(&["discrepancies", "list", "--workspace", s(&ws), "--json"]);
    assert_eq!(listed["total"], 0);

    // A config error names the key.
    let config = ws.join("paydesk.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("rate = \"0.6%\"", "rate = \"six\"")).expect("write");
    let err = fails(&["runs", "--workspace", s(&ws)]);
    assert!(err.contains("accounts[0].fees[0].rate"), "{err}");
}

/// Generates a day into `dir` and returns (workspace, wechat bill path).
fn generated(dir: &Path, orders: &str, mix: &str) -> (PathBuf, PathBuf) {
    let out = ok(&[
        "generate",
        "--orders",
        orders,
        "--date",
        "2026-11-22",
        "--seed",
        "5",
        "--mix",
        mix,
        "--providers",
        "wechat",
        "--out",
        s(dir),
    ]);
    let bill = out
        .lines()
        .find(|l| l.ends_with("ALL.csv"))
        .map(PathBuf::from)
        .expect("a wechat bill");
    // The generated workspace gets its app database and first admin.
    ok(&["init", "--workspace", s(dir)]);
    (dir.to_path_buf(), bill)
}

fn reconcile_wechat(ws: &Path, bill: &Path) -> Value {
    ok_json(&[
        "reconcile",
        "--workspace",
        s(ws),
        "--account",
        "wechat-main",
        "--date",
        "2026-11-22",
        "--statement",
        s(bill),
        "--json",
    ])
}

#[test]
fn rerun_is_idempotent_and_keeps_the_reviewers_work() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "400", "demo");
    let first = reconcile_wechat(&ws, &bill);
    let d = first["discrepancies"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["class"] == "amount_mismatch"))
        .expect("an amount mismatch")
        .clone();
    let order_no = d["order_no"].as_str().expect("order no");
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(&ws),
        "--class",
        "amount_mismatch",
        "--text",
        order_no,
        "--json",
    ]);
    assert_eq!(listed["total"], 1);
    let id = listed["discrepancies"][0]["id"].as_i64().expect("id");
    ok(&[
        "discrepancies",
        "resolve",
        "--workspace",
        s(&ws),
        &id.to_string(),
        "--assign",
        "li.na",
        "--note",
        "customer paid twice; 差额退回",
        "--investigating",
    ]);

    let second = reconcile_wechat(&ws, &bill);
    assert_eq!(second["counts"], first["counts"]);
    assert_eq!(second["statement"]["unchanged"], true);
    let shown = ok_json(&[
        "discrepancies",
        "show",
        "--workspace",
        s(&ws),
        &id.to_string(),
        "--json",
    ]);
    assert_eq!(
        shown["discrepancy"]["note"],
        "customer paid twice; 差额退回"
    );
    assert_eq!(shown["discrepancy"]["assignee"], "li.na");
    assert_eq!(shown["discrepancy"]["state"], "investigating");
    assert_eq!(shown["discrepancy"]["order_no"], d["order_no"]);
    assert!(shown["history"].as_array().map_or(0, Vec::len) >= 2);

    // A changed statement supersedes the old import; the run history shows both.
    let text = std::fs::read_to_string(&bill).expect("bill");
    let changed = tmp.path().join("changed_ALL.csv");
    // Same rows with other line endings: different bytes, same content.
    let other = if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text.replace('\n', "\r\n")
    };
    std::fs::write(&changed, other).expect("write");
    let third = reconcile_wechat(&ws, &changed);
    assert_eq!(third["statement"]["unchanged"], false);
    assert!(
        third["statement"]["superseded"].is_i64(),
        "{}",
        third["statement"]
    );
    assert_eq!(third["counts"], first["counts"]);
    let runs = ok_json(&["runs", "--workspace", s(&ws), "--json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(3));
    let shown = ok_json(&[
        "discrepancies",
        "show",
        "--workspace",
        s(&ws),
        &id.to_string(),
        "--json",
    ]);
    assert_eq!(
        shown["discrepancy"]["note"],
        "customer paid twice; 差额退回"
    );
}

#[test]
fn dry_run_saves_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "200", "demo");
    let dry = ok_json(&[
        "reconcile",
        "--workspace",
        s(&ws),
        "--account",
        "wechat-main",
        "--date",
        "2026-11-22",
        "--statement",
        s(&bill),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry["dry_run"], true);
    assert!(dry["run_id"].is_null());
    assert!(dry["discrepancies"].as_array().map_or(0, Vec::len) > 0);
    let runs = ok_json(&["runs", "--workspace", s(&ws), "--json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(0));
}

fn concurrent_runs_are_serialized(ws: &Path, bill: &Path) {
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .args([
                "reconcile",
                "--workspace",
                s(ws),
                "--account",
                "wechat-main",
                "--date",
                "2026-11-22",
                "--statement",
                s(bill),
                "--json",
            ])
            .env("PAYDESK_USER", ADMIN.0)
            .env("PAYDESK_PASSWORD", ADMIN.1)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let a = spawn();
    let b = spawn();
    let a = a.wait_with_output().expect("a");
    let b = b.wait_with_output().expect("b");
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let ra: Value = serde_json::from_slice(&a.stdout).expect("json a");
    let rb: Value = serde_json::from_slice(&b.stdout).expect("json b");
    assert_eq!(ra["counts"], rb["counts"]);
    assert_ne!(ra["run_id"], rb["run_id"]);
    let runs = ok_json(&["runs", "--workspace", s(ws), "--json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(2));
    // No duplicated discrepancies: one per key.
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(ws),
        "--limit",
        "10000",
        "--json",
    ]);
    assert_eq!(
        listed["total"].as_u64(),
        Some(ra["discrepancies"].as_array().map_or(0, Vec::len) as u64)
    );
}

#[test]
fn concurrent_runs_on_sqlite_are_serialized() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "2000", "realistic");
    concurrent_runs_are_serialized(&ws, &bill);
}

fn use_postgres(ws: &Path, url: &str) {
    let config = ws.join("paydesk.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "database_url = \"sqlite://paydesk.db\"",
        &format!("database_url = \"{url}\""),
    );
    std::fs::write(&config, text).expect("write config");
    // A fresh PostgreSQL app database gets its own first admin.
    ok(&["init", "--workspace", s(ws)]);
}

#[test]
fn concurrent_runs_on_postgres_are_serialized() {
    let Some(pg) = PsqlDb::create("paydesk_cli") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "2000", "realistic");
    use_postgres(&ws, &pg.url);
    concurrent_runs_are_serialized(&ws, &bill);
}

#[test]
fn postgres_rerun_keeps_notes_and_reports() {
    let Some(pg) = PsqlDb::create("paydesk_cli") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "300", "demo");
    use_postgres(&ws, &pg.url);
    let first = reconcile_wechat(&ws, &bill);
    for class in [
        "provider_only",
        "order_only",
        "amount_mismatch",
        "duplicate_payment",
        "fee_variance",
    ] {
        assert!(
            first["counts"][class].as_u64().unwrap_or(0) >= 1,
            "{class}: {}",
            first["counts"]
        );
    }
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(&ws),
        "--class",
        "order_only",
        "--json",
    ]);
    let id = listed["discrepancies"][0]["id"].as_i64().expect("id");
    ok(&[
        "discrepancies",
        "resolve",
        "--workspace",
        s(&ws),
        &id.to_string(),
        "--resolution",
        "written_off",
        "--note",
        "=cmd|' /C calc'!A0",
    ]);
    let second = reconcile_wechat(&ws, &bill);
    assert_eq!(second["counts"], first["counts"]);
    let shown = ok_json(&[
        "discrepancies",
        "show",
        "--workspace",
        s(&ws),
        &id.to_string(),
        "--json",
    ]);
    assert_eq!(shown["discrepancy"]["state"], "resolved");
    assert_eq!(shown["discrepancy"]["resolution"], "written_off");

    // The report neutralizes the formula-like note and keeps Chinese text.
    let out = tmp.path().join("report.csv");
    ok(&[
        "report",
        "--workspace",
        s(&ws),
        "--date",
        "2026-11-22",
        "--format",
        "csv",
        "--out",
        s(&out),
        "--lang",
        "zh",
    ]);
    let bytes = std::fs::read(&out).expect("report");
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "CSV needs a BOM for Excel"
    );
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains("'=cmd|"), "formula not neutralized");
    assert!(!text.contains(",=cmd|"), "raw formula leaked");
    assert!(text.contains("短款"), "Chinese labels");
    let xlsx = tmp.path().join("report.xlsx");
    ok(&[
        "report",
        "--workspace",
        s(&ws),
        "--date",
        "2026-11-22",
        "--format",
        "xlsx",
        "--out",
        s(&xlsx),
    ]);
    assert!(std::fs::metadata(&xlsx).map(|m| m.len()).unwrap_or(0) > 1000);
}

#[test]
fn bulk_change_says_how_many_before_it_acts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ws, bill) = generated(&tmp.path().join("gen"), "300", "demo");
    let first = reconcile_wechat(&ws, &bill);
    let expected = first["counts"]["provider_only"].as_u64().expect("count");
    let preview = ok(&[
        "discrepancies",
        "bulk",
        "--workspace",
        s(&ws),
        "--class",
        "provider_only",
        "--assign",
        "wang.fang",
    ]);
    assert!(
        preview.contains(&format!("{expected} discrepancies match")),
        "{preview}"
    );
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(&ws),
        "--assignee",
        "wang.fang",
        "--json",
    ]);
    assert_eq!(listed["total"], 0, "preview must not change anything");
    let applied = ok(&[
        "discrepancies",
        "bulk",
        "--workspace",
        s(&ws),
        "--class",
        "provider_only",
        "--assign",
        "wang.fang",
        "--yes",
    ]);
    assert!(
        applied.contains(&format!("{expected} discrepancies changed")),
        "{applied}"
    );
    let listed = ok_json(&[
        "discrepancies",
        "list",
        "--workspace",
        s(&ws),
        "--assignee",
        "wang.fang",
        "--json",
    ]);
    assert_eq!(listed["total"].as_u64(), Some(expected));
}

#[test]
fn processes_opening_a_fresh_postgres_database_at_once_all_succeed() {
    let Some(pg) = PsqlDb::create("paydesk_cli") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    ok(&["init", "--workspace", s(&ws), "--demo"]);
    let config = ws.join("paydesk.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "database_url = \"sqlite://paydesk.db\"",
            &format!("database_url = \"{}\"", pg.url),
        ),
    )
    .expect("write");
    // Four processes race to migrate the empty database and create the demo users.
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_paydesk"))
                .args(["init", "--workspace", s(&ws), "--demo"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let failures: Vec<String> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .filter(|o| !o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    // Migration must never fail; a loser of the demo-user race may only report that users exist.
    for f in &failures {
        assert!(!f.contains("migration"), "{f}");
    }
    let users = ok_json(&["users", "list", "--workspace", s(&ws), "--json"]);
    assert_eq!(users.as_array().map(Vec::len), Some(4));
}

/// `paydesk … --json | head`: the reader goes away before the output is written. The command
/// ends quietly (exit 0) instead of panicking on the broken pipe.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(&["init", "--workspace", s(&ws), "--demo"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(["users", "list", "--workspace", s(&ws), "--json"])
        .env("PAYDESK_USER", "admin")
        .env("PAYDESK_PASSWORD", "orchid-harbor-2026")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once: every write of the command meets a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// A reconcile dry run with the day split in `parts` partitions (`PAYDESK_MATCH_PARTITIONS`).
fn dry_run_in_parts(ws: &Path, account: &str, statement: &Path, parts: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args([
            "reconcile",
            "--workspace",
            s(ws),
            "--account",
            account,
            "--date",
            "2026-11-22",
            "--statement",
            s(statement),
            "--dry-run",
            "--json",
        ])
        .env_remove("PAYDESK_WORKSPACE")
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .env("PAYDESK_MATCH_PARTITIONS", parts)
        .output()
        .expect("run paydesk");
    assert!(
        out.status.success(),
        "{account} in {parts} parts: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["timings_ms"] = Value::Null;
    report
}

/// The day is matched partition by partition (issue 16: memory that does not grow with the
/// day). However it is split, every account's report is the same: the counts, every
/// discrepancy with its key and explanation in the same order, the totals and the notes.
/// Payment lines found by transaction or PaymentIntent id, refunds and duplicates cross
/// partitions in a realistic day of all three providers.
#[test]
fn a_day_split_in_partitions_gives_the_same_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("gen");
    let out = ok(&[
        "generate",
        "--orders",
        "6000",
        "--date",
        "2026-11-22",
        "--seed",
        "11",
        "--mix",
        "realistic",
        "--out",
        s(&dir),
    ]);
    ok(&["init", "--workspace", s(&dir)]);
    let statements: Vec<PathBuf> = out
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file() && !p.to_string_lossy().ends_with(".db"))
        .filter(|p| !p.to_string_lossy().ends_with(".toml"))
        .collect();
    for account in ["alipay-main", "wechat-main", "stripe-main"] {
        let statement = statements
            .iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(account))
            })
            .unwrap_or_else(|| panic!("no statement for {account} in {out}"));
        let whole = dry_run_in_parts(&dir, account, statement, "1");
        let discrepancies = whole["discrepancies"].as_array().map_or(0, Vec::len);
        assert!(discrepancies >= 20, "{account}: {discrepancies}");
        for parts in ["2", "7", "64"] {
            let split = dry_run_in_parts(&dir, account, statement, parts);
            assert_eq!(split, whole, "{account} in {parts} partitions");
        }
    }
}
