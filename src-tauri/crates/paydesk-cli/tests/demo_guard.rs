//! `paydesk demo` never touches a real workspace (issue 16, point 1) and a demo Stripe order
//! can be refunded (point 12): the real binary on real SQLite files and a real PostgreSQL
//! server.

use paydesk_testkit::psql::PsqlDb;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The demo admin (README), also the first admin of the real workspaces made here.
const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");

fn run(args: &[&str], workspace_env: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paydesk"));
    cmd.args(args)
        .env_remove("PAYDESK_WORKSPACE")
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1);
    if let Some(dir) = workspace_env {
        cmd.env("PAYDESK_WORKSPACE", dir);
    }
    cmd.output().expect("run paydesk")
}

fn ok(args: &[&str]) -> String {
    let out = run(args, None);
    assert!(
        out.status.success(),
        "paydesk {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok_json(args: &[&str]) -> Value {
    let text = ok(args);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("paydesk {args:?} printed no JSON ({e}): {text}"))
}

/// Runs a command that must fail, and returns its one-line `error:` reason.
fn refused(args: &[&str], workspace_env: Option<&Path>) -> String {
    let out = run(args, workspace_env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "paydesk {args:?} should have been refused; stderr: {stderr}"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one-line reason expected, got: {stderr}");
    errors[0].to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// Every file is as it was, byte for byte. Reading a SQLite database in WAL mode may create
/// its side files: a new `-shm` (the WAL index, no data) is ignored and a new `-wal` must be
/// empty; an existing one must be unchanged.
fn assert_unchanged(before: &BTreeMap<PathBuf, Vec<u8>>, dir: &Path) {
    let after = snapshot(dir);
    let shm = |p: &Path| p.to_string_lossy().ends_with("-shm");
    for (path, bytes) in before.iter().filter(|(p, _)| !shm(p)) {
        assert!(after.get(path) == Some(bytes), "{} changed", path.display());
    }
    for (path, bytes) in after.iter().filter(|(p, _)| !shm(p)) {
        if !before.contains_key(path) {
            let wal = path.to_string_lossy().ends_with("-wal");
            assert!(wal && bytes.is_empty(), "{} appeared", path.display());
        }
    }
}

/// The refusal names the folder and says what to do instead.
fn assert_refusal_names(err: &str, dir: &Path) {
    assert!(err.contains(s(dir)), "the folder is not named: {err}");
    assert!(err.contains("new folder"), "{err}");
    assert!(err.contains("PAYDESK_WORKSPACE"), "{err}");
}

/// A real (non-demo) workspace: generated orders in its mirror, its first admin, and a
/// WeChat Pay statement imported and reconciled. Returns the folder.
fn real_workspace(dir: &Path, postgres: Option<&str>) -> PathBuf {
    let out = ok(&[
        "generate",
        "--orders",
        "60",
        "--date",
        "2026-11-22",
        "--seed",
        "9",
        "--mix",
        "realistic",
        "--providers",
        "alipay,wechat,stripe",
        "--out",
        s(dir),
    ]);
    let bill = out
        .lines()
        .find(|l| l.ends_with("ALL.csv"))
        .map(PathBuf::from)
        .expect("a wechat bill");
    if let Some(url) = postgres {
        let config = dir.join("paydesk.toml");
        let text = std::fs::read_to_string(&config).expect("config");
        let text = text.replace(
            "database_url = \"sqlite://paydesk.db\"",
            &format!("database_url = \"{url}\""),
        );
        std::fs::write(&config, text).expect("write config");
    }
    ok(&["init", "--workspace", s(dir)]);
    ok(&[
        "reconcile",
        "--workspace",
        s(dir),
        "--account",
        "wechat-main",
        "--date",
        "2026-11-22",
        "--statement",
        s(&bill),
        "--json",
    ]);
    dir.to_path_buf()
}

/// Every way to start the demo on `dir` is refused with a message naming it.
fn demo_is_refused_on(dir: &Path) {
    let err = refused(
        &["demo", "--workspace", s(dir), "--date", "2026-11-22"],
        None,
    );
    assert_refusal_names(&err, dir);
    // PAYDESK_WORKSPACE is honoured, and refused the same way.
    let err = refused(&["demo", "--date", "2026-11-22"], Some(dir));
    assert_refusal_names(&err, dir);
    // `init --demo` would add the demo users (with published passwords) to it.
    let err = refused(&["init", "--demo", "--workspace", s(dir)], None);
    assert_refusal_names(&err, dir);
}

#[test]
fn demo_refuses_a_real_sqlite_workspace_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = real_workspace(&tmp.path().join("shop"), None);
    let before = snapshot(&ws);
    assert!(before.contains_key(&ws.join("paydesk.db")));
    assert!(before.contains_key(&ws.join("orders.db")));
    demo_is_refused_on(&ws);
    let err = refused(&["demo", "--workspace", s(&ws)], None);
    assert!(err.contains("not created as a demo"), "{err}");
    // The app database, the order mirror and the imported statement: byte for byte.
    assert_unchanged(&before, &ws);
    let runs = ok_json(&["runs", "--workspace", s(&ws), "--json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
}

/// Row counts of the app database's tables the demo would write to.
fn pg_counts(url: &str) -> String {
    let out = Command::new("psql")
        .args([
            url,
            "-tAc",
            "select (select count(*) from users), (select count(*) from runs), \
             (select count(*) from statements), (select count(*) from discrepancies), \
             (select count(*) from audit_log), (select count(*) from workspace_meta)",
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn demo_refuses_a_real_postgres_workspace_and_writes_nothing() {
    let Some(pg) = PsqlDb::create("paydesk_demo_guard") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = real_workspace(&tmp.path().join("shop"), Some(&pg.url));
    let counts = pg_counts(&pg.url);
    // One admin, one run, one statement; no workspace kind.
    assert!(counts.starts_with("1|1|1|"), "{counts}");
    assert!(counts.ends_with("|0"), "{counts}");
    let before = snapshot(&ws);
    demo_is_refused_on(&ws);
    assert_eq!(pg_counts(&pg.url), counts);
    assert_unchanged(&before, &ws);
}

#[test]
fn demo_refuses_a_folder_that_holds_other_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Someone's order mirror and notes, without paydesk.toml.
    let real = real_workspace(&tmp.path().join("shop"), None);
    let dir = tmp.path().join("other");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(real.join("orders.db"), dir.join("orders.db")).expect("copy mirror");
    std::fs::write(dir.join("notes.txt"), "not a workspace").expect("notes");
    let before = snapshot(&dir);
    let err = refused(
        &["demo", "--workspace", s(&dir), "--date", "2026-11-22"],
        None,
    );
    assert_refusal_names(&err, &dir);
    assert!(err.contains("not empty"), "{err}");
    assert_unchanged(&before, &dir);
}

fn class_totals(summary: &Value) -> Value {
    summary["class_totals"].clone()
}

#[test]
fn demo_runs_again_on_its_own_workspace_but_not_on_another_mirror() {
    let tmp = tempfile::tempdir().expect("tmp");
    // An existing empty folder is new (what `mktemp -d` gives).
    let ws = tmp.path().join("demo");
    std::fs::create_dir_all(&ws).expect("dir");
    let args = [
        "demo",
        "--workspace",
        s(&ws),
        "--date",
        "2026-11-22",
        "--json",
    ];
    let first = ok_json(&args);
    let second = ok_json(&args);
    assert_eq!(class_totals(&second), class_totals(&first));
    // `init --demo` on it is fine too.
    ok(&["init", "--demo", "--workspace", s(&ws)]);

    // The demo workspace pointed at a mirror the demo did not create: refused, that mirror
    // untouched.
    let shop = real_workspace(&tmp.path().join("shop"), None);
    let shop_before = snapshot(&shop);
    let config = ws.join("paydesk.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let moved = text.replace(
        "url = \"sqlite://orders.db\"",
        &format!("url = \"sqlite://{}\"", s(&shop.join("orders.db"))),
    );
    assert_ne!(moved, text, "the demo config names its mirror");
    std::fs::write(&config, moved).expect("write config");
    let demo_before = snapshot(&ws);
    let err = refused(&args, None);
    assert_refusal_names(&err, &ws);
    assert!(err.contains("order mirror"), "{err}");
    assert_unchanged(&shop_before, &shop);
    assert_unchanged(&demo_before, &ws);
}

#[test]
fn a_demo_stripe_order_is_refunded_through_the_sandbox() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("demo");
    // The default demo days (up to yesterday): the refund's sandbox serves recent days.
    let summary = ok_json(&["demo", "--workspace", s(&ws), "--json"]);
    // An ordinary Stripe order: paid, and in no discrepancy (so the provider has its charge).
    let named: BTreeSet<String> = summary["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["discrepancies"].as_array().into_iter().flatten())
        .filter_map(|d| d["order_no"].as_str().map(str::to_string))
        .collect();
    let orders = ok_json(&[
        "orders",
        "list",
        "--workspace",
        s(&ws),
        "--provider",
        "stripe",
        "--status",
        "paid",
        "--json",
    ]);
    let order = orders
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| {
            o["order_no"].as_str().is_some_and(|n| !named.contains(n))
                && o["amount"].as_i64().unwrap_or(0) >= 200
        })
        .expect("an ordinary paid Stripe order")
        .clone();
    let order_no = order["order_no"].as_str().expect("order no");
    // The mirror has its charge id.
    assert!(
        order["provider_txn_id"]
            .as_str()
            .is_some_and(|t| t.starts_with("ch_")),
        "{order}"
    );

    let refund = ok_json(&[
        "refund",
        "create",
        "--workspace",
        s(&ws),
        "--order",
        order_no,
        "--amount",
        "1.00",
        "--reason",
        "requested_by_customer",
        "--json",
    ]);
    assert_eq!(refund["state"], "succeeded", "{refund}");
    assert!(
        refund["provider_refund_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("re_")),
        "{refund}"
    );
    assert_eq!(refund["amount"], 100, "{refund}");
    assert_eq!(refund["currency"], "USD", "{refund}");

    // The ledger shows it, and the order's refundable amount dropped by it.
    let listed = ok_json(&["refunds", "list", "--workspace", s(&ws), "--json"]);
    let mine: Vec<&Value> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["order_no"] == order_no)
        .collect();
    assert_eq!(mine.len(), 1, "{listed}");
    assert_eq!(mine[0]["state"], "succeeded");
    assert_eq!(mine[0]["id"], refund["id"]);
    let detail = ok_json(&["orders", "show", "--workspace", s(&ws), order_no, "--json"]);
    assert_eq!(detail["refunded_by_paydesk"], 100, "{detail}");
    assert_eq!(
        detail["refundable"].as_i64(),
        order["amount"].as_i64().map(|a| a - 100),
        "{detail}"
    );
}
