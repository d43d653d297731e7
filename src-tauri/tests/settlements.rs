//! The Settlements screen's commands called the way the web view calls them (Tauri's IPC on
//! the mock runtime): roles are enforced by the backend, a bank statement imports once, a run
//! sees it and is stored, and errors come back with their codes.

use paydesk_desktop::state::DesktopState;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

const BANK: &str = "test-cny";

struct App {
    _app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    _dir: tempfile::TempDir,
}

/// A demo workspace with one more bank account (no provider account pays into it, so it
/// stands beside whatever bank accounts the demo configures).
fn app_with_bank() -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path().join("ws");
    // The first open makes the demo workspace.
    drop(tauri::async_runtime::block_on(DesktopState::open(&ws)));
    let config = ws.join("paydesk.toml");
    let mut text = std::fs::read_to_string(&config).expect("paydesk.toml");
    text.push_str(&format!(
        "\n[[bank_accounts]]\nname = \"{BANK}\"\ncurrency = \"CNY\"\naccounts = []\n"
    ));
    std::fs::write(&config, text).expect("write paydesk.toml");
    let state = tauri::async_runtime::block_on(DesktopState::open(&ws));
    let app = paydesk_desktop::with_commands(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    App {
        _app: app,
        window,
        _dir: dir,
    }
}

impl App {
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().expect("json answer"))
    }

    fn login(&self, user: &str, password: &str) {
        self.invoke("login", json!({ "username": user, "password": password }))
            .unwrap_or_else(|e| panic!("login {user}: {e}"));
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/bank")
        .join(name)
}

#[test]
fn settlement_commands_from_import_to_review() {
    let app = app_with_bank();
    let statement = fixture("camt053_v08.xml");
    let path = statement.display().to_string();

    // Support may neither import nor run.
    app.login("support", "helpdesk-river-2026");
    let e = app
        .invoke("bank_import", json!({ "bank": BANK, "path": path }))
        .expect_err("support imports");
    assert_eq!(e["code"], "denied", "{e}");
    let e = app
        .invoke(
            "settlement_run",
            json!({ "bank": BANK, "date": "2024-11-28", "dryRun": false }),
        )
        .expect_err("support runs");
    assert_eq!(e["code"], "denied", "{e}");

    app.login("finance", "ledger-maple-2026");
    let banks = app
        .invoke("settlement_bank_accounts", json!({}))
        .expect("bank accounts");
    let ours = banks
        .as_array()
        .and_then(|a| a.iter().find(|b| b["name"] == BANK))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        ours,
        json!({ "name": BANK, "currency": "CNY", "accounts": [] })
    );

    // A bank statement imports once; the same file again changes nothing.
    let first = app
        .invoke("bank_import", json!({ "bank": BANK, "path": path }))
        .expect("import");
    assert_eq!(first["already_imported"], false, "{first}");
    assert_eq!(first["format"], "camt053", "{first}");
    let lines = first["lines"].as_u64().unwrap_or(0);
    assert!(lines >= 2, "{first}");
    let again = app
        .invoke("bank_import", json!({ "bank": BANK, "path": path }))
        .expect("import again");
    assert_eq!(again["already_imported"], true, "{again}");

    // Refusals name what is wrong.
    let e = app
        .invoke("bank_import", json!({ "bank": BANK, "path": "  " }))
        .expect_err("no path");
    assert_eq!(e["code"], "bad_input", "{e}");
    let e = app
        .invoke(
            "bank_import",
            json!({ "bank": BANK, "path": "/nonexistent/stmt.xml" }),
        )
        .expect_err("missing file");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("/nonexistent/stmt.xml")),
        "{e}"
    );
    let e = app
        .invoke(
            "settlement_run",
            json!({ "bank": "no-such-bank", "date": "2024-11-28" }),
        )
        .expect_err("unknown bank");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("no-such-bank")),
        "{e}"
    );
    let e = app
        .invoke(
            "settlement_run",
            json!({ "bank": BANK, "date": "28/11/2024" }),
        )
        .expect_err("bad date");
    assert_eq!(e["code"], "bad_input", "{e}");

    // A dry run sees the imported lines and stores nothing; a run is stored.
    let dry = app
        .invoke(
            "settlement_run",
            json!({ "bank": BANK, "date": "2024-11-28", "dryRun": true }),
        )
        .expect("dry run");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["run_id"], Value::Null);
    assert!(dry["bank_lines"].as_u64().unwrap_or(0) >= 1, "{dry}");
    let run = app
        .invoke(
            "settlement_run",
            json!({ "bank": BANK, "date": "2024-11-28", "dryRun": false }),
        )
        .expect("run");
    assert!(run["run_id"].as_i64().unwrap_or(0) > 0, "{run}");
    assert_eq!(run["bank_lines"], dry["bank_lines"]);

    // The stored findings are the run's, each named in both languages.
    let stored = app
        .invoke("settlement_findings", json!({ "bank": BANK }))
        .expect("findings");
    let classes = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["class"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        c.sort();
        c
    };
    assert_eq!(classes(&stored), classes(&run["findings"]));
    for f in stored.as_array().into_iter().flatten() {
        assert!(f["id"].as_i64().is_some(), "{f}");
        let names = match f["class"].as_str().unwrap_or("") {
            "payout_not_arrived" => ("Payout not arrived", "未到账"),
            "bank_credit_without_payout" => ("Bank credit without payout", "银行长款"),
            "payout_amount_mismatch" => ("Payout amount mismatch", "到账金额不符"),
            "composition_mismatch" => ("Payout composition mismatch", "提现构成不符"),
            "balance_break" => ("Balance break", "余额不连续"),
            "payout_fee_differs" => ("Payout fee differs", "提现手续费不符"),
            "trade_flow_mismatch" => ("Trade and fund flow differ", "交易与资金流水不符"),
            other => panic!("unknown class {other}"),
        };
        assert_eq!(
            (f["class_en"].clone(), f["class_zh"].clone()),
            (json!(names.0), json!(names.1))
        );
        assert!(!f["explain_zh"].as_str().unwrap_or("").is_empty(), "{f}");
    }
    let links = app
        .invoke(
            "settlement_links",
            json!({ "bank": BANK, "linkState": "suggested" }),
        )
        .expect("links");
    assert_eq!(links, json!([]), "no payout pays into this bank account");
    let e = app
        .invoke(
            "settlement_links",
            json!({ "bank": BANK, "linkState": "maybe" }),
        )
        .expect_err("bad state");
    assert_eq!(e["code"], "bad_input", "{e}");

    // Deciding or opening what does not exist is not_found.
    let e = app
        .invoke(
            "settlement_decide",
            json!({ "id": 999_999, "accept": true, "note": null }),
        )
        .expect_err("no such suggestion");
    assert_eq!(e["code"], "not_found", "{e}");
    let e = app
        .invoke("settlement_payout", json!({ "id": 999_999 }))
        .expect_err("no such payout");
    assert_eq!(e["code"], "not_found", "{e}");
    let e = app
        .invoke("settlement_link", json!({ "id": 999_999 }))
        .expect_err("no such link");
    assert_eq!(e["code"], "not_found", "{e}");
}
