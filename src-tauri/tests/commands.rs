//! The desktop commands called the way the web view calls them (Tauri's IPC on the mock
//! runtime), bypassing the UI: the backend itself must refuse what a role may not do.

use paydesk_desktop::state::DesktopState;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow, WebviewWindowBuilder};

struct App {
    _app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

fn demo_app() -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path().join("ws");
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
        db: ws.join("paydesk.db"),
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

    fn login(&self, user: &str, password: &str) -> Value {
        self.invoke("login", json!({ "username": user, "password": password }))
            .unwrap_or_else(|e| panic!("login {user}: {e}"))
    }

    fn count(&self, sql: &str) -> i64 {
        let url = format!("sqlite://{}", self.db.display());
        tauri::async_runtime::block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await.expect("db");
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut c)
                .await
                .expect("query")
        })
    }
}

fn kind(e: &Value) -> &str {
    e["kind"].as_str().unwrap_or("")
}

#[test]
fn nothing_works_before_login() {
    let app = demo_app();
    let info = app.invoke("app_info", json!({})).expect("app_info");
    assert_eq!(info["demo"], true);
    // alipay-main, wechat-main, wechat-shop2 (a second WeChat Pay merchant), stripe-main.
    assert_eq!(info["accounts"].as_array().map(Vec::len), Some(4));
    assert_eq!(app.invoke("me", json!({})).expect("me"), Value::Null);
    for (cmd, args) in [
        ("dashboard", json!({})),
        ("list_discrepancies", json!({})),
        ("discrepancy_totals", json!({})),
        ("users", json!({})),
        ("search_orders", json!({ "text": "x" })),
    ] {
        let err = app.invoke(cmd, args).expect_err(cmd);
        assert_eq!(kind(&err), "unauthenticated", "{cmd}: {err}");
    }
    let err = app
        .invoke(
            "login",
            json!({ "username": "support", "password": "wrong-password-1" }),
        )
        .expect_err("wrong password");
    assert_eq!(kind(&err), "unauthenticated", "{err}");
    assert!(!err["message"]
        .as_str()
        .unwrap_or("")
        .contains("wrong-password-1"));
}

#[test]
fn roles_are_enforced_by_the_backend() {
    let app = demo_app();
    let me = app.login("support", "helpdesk-river-2026");
    assert_eq!(me["roles"], json!(["support"]));
    let users_before = app.count("SELECT COUNT(*) FROM users");

    let denied = [
        (
            "create_user",
            json!({ "username": "mallory", "password": "Password12345", "roles": ["admin"] }),
        ),
        (
            "set_roles",
            json!({ "username": "support", "roles": ["admin"] }),
        ),
        ("users", json!({})),
        ("audit_entries", json!({})),
        ("settings", json!({})),
        ("save_schedule", json!({ "time": "07:30" })),
        ("start_reconcile", json!({ "accounts": null, "date": null })),
        ("list_discrepancies", json!({})),
        ("discrepancy_totals", json!({})),
        (
            "vault_init",
            json!({ "passphrase": "a long enough passphrase" }),
        ),
        ("test_connection", json!({ "url": "sqlite://paydesk.db" })),
    ];
    for (cmd, args) in denied {
        let err = app.invoke(cmd, args).expect_err(cmd);
        assert_eq!(kind(&err), "denied", "{cmd}: {err}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), users_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = 'mallory'"),
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM runs"), 0);
    // Each refusal is in the audit log with the actor.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'support' AND outcome = 'denied'")
            >= 5
    );

    // Finance may reconcile but not manage users.
    app.login("finance", "ledger-maple-2026");
    let err = app
        .invoke(
            "set_disabled",
            json!({ "username": "admin", "disabled": true }),
        )
        .expect_err("finance disabling admin");
    assert_eq!(kind(&err), "denied");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = 'admin' AND disabled = 0"),
        1
    );
}

#[test]
fn reconcile_emits_progress_and_refunds_need_a_second_person() {
    let app = demo_app();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let sink = events.clone();
    app.window.listen_any("run-event", move |e| {
        if let Ok(v) = serde_json::from_str::<Value>(e.payload()) {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(v);
        }
    });

    app.login("finance", "ledger-maple-2026");
    let batch = app
        .invoke("start_reconcile", json!({ "accounts": null, "date": null }))
        .expect("reconcile");
    assert_eq!(
        batch["reports"].as_array().map(Vec::len),
        Some(4),
        "{batch}"
    );
    assert_eq!(batch["failures"], json!([]));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM runs WHERE started_by = 'finance'"),
        4
    );
    let seen = events.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let kinds: Vec<&str> = seen.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "account_done").count(), 4);
    for stage in ["download", "verify", "parse", "match", "save"] {
        assert!(
            seen.iter()
                .any(|e| e["kind"] == "stage" && e["stage"] == stage),
            "no {stage} progress in {kinds:?}"
        );
    }

    let page = app
        .invoke(
            "list_discrepancies",
            json!({ "filter": { "classes": ["amount_mismatch"] }, "sort": "amount_desc", "limit": 5, "offset": 0 }),
        )
        .expect("list");
    assert!(page["total"].as_u64().unwrap_or(0) >= 1, "{page}");
    // The next block by cursor (scrolling) is the one by offset; both cursors at once are
    // refused.
    let list = |extra: Value| {
        let mut args = json!({ "filter": {}, "sort": "amount_desc", "limit": 3, "offset": 3 });
        if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        app.invoke("list_discrepancies", args)
    };
    let top = list(json!({ "offset": 0 })).expect("top");
    let by_offset = list(json!({})).expect("by offset");
    let by_cursor = list(json!({ "after": top["last"] })).expect("by cursor");
    assert_eq!(by_cursor["discrepancies"], by_offset["discrepancies"]);
    assert_eq!(by_offset["discrepancies"].as_array().map(Vec::len), Some(3));
    let err = list(json!({ "after": top["last"], "before": top["first"] })).expect_err("both");
    assert_eq!(kind(&err), "bad_input", "{err}");

    // Beside the count, what the view puts at stake, per currency: the database's own sums.
    let totals = app
        .invoke("discrepancy_totals", json!({ "filter": {} }))
        .expect("totals");
    let totals = totals.as_array().cloned().unwrap_or_default();
    assert!(!totals.is_empty());
    for t in &totals {
        let c = t["currency"].as_str().unwrap_or("");
        assert_eq!(
            t["count"].as_i64(),
            Some(app.count(&format!(
                "SELECT COUNT(*) FROM discrepancies WHERE present = 1 AND currency = '{c}'"
            ))),
            "{t}"
        );
        assert_eq!(
            t["at_stake"].as_i64(),
            Some(app.count(&format!(
                "SELECT COALESCE(SUM(abs_difference), 0) FROM discrepancies WHERE present = 1 AND currency = '{c}'"
            ))),
            "{t}"
        );
    }
    let counted: i64 = totals.iter().filter_map(|t| t["count"].as_i64()).sum();
    assert_eq!(
        counted,
        app.count("SELECT COUNT(*) FROM discrepancies WHERE present = 1")
    );
    let err = app
        .invoke(
            "discrepancy_totals",
            json!({ "filter": { "date_from": "yesterday" } }),
        )
        .expect_err("bad filter");
    assert_eq!(kind(&err), "bad_input", "{err}");

    // Support: a refund over the 500.00 limit waits for approval.
    app.login("support", "helpdesk-river-2026");
    let order: String = {
        let url = format!("sqlite://{}", app.db.with_file_name("orders.db").display());
        tauri::async_runtime::block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await.expect("mirror");
            sqlx::query_scalar::<_, String>(
                "SELECT order_no FROM orders WHERE status = 'paid' AND currency = 'CNY' \
                 AND amount > 60000 AND provider = 'alipay' ORDER BY order_no LIMIT 1",
            )
            .fetch_one(&mut c)
            .await
            .expect("a large paid order")
        })
    };
    let rec = app
        .invoke(
            "request_refund",
            json!({ "order": order, "amount": "550.00", "reason": "customer returned the goods", "currency": null, "account": null }),
        )
        .expect("refund request");
    assert_eq!(rec["state"], "awaiting_approval", "{rec}");
    let id = rec["id"].as_i64().expect("id");
    let err = app
        .invoke(
            "decide_refund",
            json!({ "id": id, "approve": true, "note": null }),
        )
        .expect_err("support approving");
    assert_eq!(kind(&err), "denied", "{err}");

    // The approver (who did not request it) approves.
    app.login("approver", "signoff-cedar-2026");
    let rec = app
        .invoke(
            "decide_refund",
            json!({ "id": id, "approve": true, "note": "ok" }),
        )
        .expect("approve");
    assert_ne!(rec["state"], "awaiting_approval", "{rec}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM refunds WHERE id = {id} AND decided_by = 'approver'"
        )),
        1
    );
}

struct Collect(std::sync::Mutex<Vec<String>>);

impl paydesk_desktop::batch::EventSink for Collect {
    fn send(&self, event: paydesk_desktop::batch::RunEvent) {
        let v = serde_json::to_value(&event).unwrap_or_default();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(v["kind"].as_str().unwrap_or("").to_string());
    }
}

#[test]
fn admin_settings_schedule_dashboard_and_audit() {
    use tauri::Manager;
    let app = demo_app();
    app.login("admin", "orchid-harbor-2026");

    let err = app
        .invoke("save_schedule", json!({ "time": "25:99" }))
        .expect_err("bad time");
    assert_eq!(kind(&err), "config", "{err}");
    assert!(err["message"]
        .as_str()
        .unwrap_or("")
        .contains("daily_run_at"));
    let info = app
        .invoke("save_schedule", json!({ "time": "00:00" }))
        .expect("schedule");
    assert_eq!(info["schedule"], "00:00");
    let toml = std::fs::read_to_string(app.db.with_file_name("paydesk.toml")).expect("config");
    assert!(toml.contains("daily_run_at = \"00:00\""), "{toml}");
    assert!(
        toml.contains("# Paydesk workspace configuration"),
        "comments kept"
    );

    // The schedule fires once for yesterday, then not again that day.
    let state = app._app.state::<paydesk_desktop::state::DesktopState>();
    let sink = Collect(Default::default());
    assert!(tauri::async_runtime::block_on(
        paydesk_desktop::scheduler::tick(&state, &sink)
    ));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM runs WHERE started_by = 'admin'"),
        4
    );
    assert!(!tauri::async_runtime::block_on(
        paydesk_desktop::scheduler::tick(&state, &sink)
    ));
    let kinds = sink.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(kinds.first().map(String::as_str), Some("started"));
    assert_eq!(kinds.iter().filter(|k| *k == "account_done").count(), 4);

    let dash = app
        .invoke("dashboard", json!({ "days": 30 }))
        .expect("dashboard");
    assert_eq!(dash["daily"].as_array().map(Vec::len), Some(30));
    assert_eq!(dash["accounts"].as_array().map(Vec::len), Some(4));
    let open: u64 = dash["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a["open"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        open as i64,
        app.count("SELECT COUNT(*) FROM discrepancies WHERE present = 1 AND state <> 'resolved'")
    );
    assert_eq!(dash["attention"]["open_discrepancies"].as_u64(), Some(open));
    assert!(dash["accounts"][0]["last_run"]["id"].as_i64().is_some());

    let settings = app.invoke("settings", json!({})).expect("settings");
    assert_eq!(settings["schedule"], "00:00");
    assert_eq!(settings["refunds"]["support_limit"], "500.00");
    let ok = app
        .invoke("test_connection", json!({ "url": "sqlite://orders.db" }))
        .expect("test");
    assert_eq!(ok["ok"], true, "{ok}");
    let missing = app
        .invoke("test_connection", json!({ "url": "sqlite://nowhere.db" }))
        .expect("test");
    assert_eq!(missing["ok"], false);
    assert!(!app.db.with_file_name("nowhere.db").exists(), "not created");

    let page = app
        .invoke(
            "audit_entries",
            json!({ "limit": 3, "offset": 0, "action": null, "actor": "admin" }),
        )
        .expect("audit");
    let total = page["total"].as_u64().unwrap_or(0);
    assert_eq!(
        total as i64,
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'admin'")
    );
    let entries = page["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3);
    assert!(
        entries[0]["seq"].as_u64() > entries[2]["seq"].as_u64(),
        "newest first"
    );
    // By days of the business timezone (the demo's Asia/Shanghai): today holds them all,
    // yesterday none; a range that ends before it starts and a word are refused.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let page_of = |from: &chrono::NaiveDate, to: &chrono::NaiveDate| {
        app.invoke(
            "audit_entries",
            json!({ "limit": 3, "offset": 0, "actor": "admin",
                    "from": from.to_string(), "to": to.to_string() }),
        )
    };
    let today_page = page_of(&today, &today).expect("today");
    assert_eq!(today_page["total"].as_u64(), Some(total), "{today_page}");
    let none = page_of(&yesterday, &yesterday).expect("yesterday");
    assert_eq!(none["total"].as_u64(), Some(0), "{none}");
    let err = page_of(&today, &yesterday).expect_err("backwards");
    assert_eq!(kind(&err), "bad_input");
    let err = app
        .invoke("audit_entries", json!({ "from": "last week" }))
        .expect_err("not a day");
    assert_eq!(kind(&err), "bad_input");
    assert!(err.to_string().contains("from"), "{err}");
    let targeted = app
        .invoke(
            "audit_entries",
            json!({ "limit": 50, "offset": 0, "target": "no such target anywhere" }),
        )
        .expect("target");
    assert_eq!(targeted["total"].as_u64(), Some(0));

    let verify = app.invoke("audit_verify", json!({})).expect("verify");
    assert_eq!(verify["problems"], json!([]));
}

#[test]
fn key_rotation_through_the_sandbox() {
    let app = demo_app();
    app.login("admin", "orchid-harbor-2026");
    let err = app.invoke("keys_list", json!({})).expect_err("locked");
    assert_eq!(kind(&err), "vault_locked");
    let st = app
        .invoke(
            "vault_init",
            json!({ "passphrase": "correct horse battery" }),
        )
        .expect("init");
    assert_eq!(st["unlocked"], true);
    let account = json!("alipay-main");
    let purpose = json!("alipay_app_key");
    for version in [1, 2] {
        let export = app
            .invoke(
                "keys_generate",
                json!({ "account": account, "purpose": purpose, "bits": 2048 }),
            )
            .expect("generate");
        assert_eq!(export["version"], version);
        assert!(export["public_key_pem"]
            .as_str()
            .unwrap_or("")
            .contains("BEGIN PUBLIC KEY"));
        let args = json!({ "account": account, "purpose": purpose, "version": version });
        if version == 2 {
            // Not uploaded yet: the provider refuses the new key.
            let err = app
                .invoke("keys_test", args.clone())
                .expect_err("not uploaded");
            assert_eq!(kind(&err), "provider", "{err}");
        }
        app.invoke("keys_register_with_sandbox", args.clone())
            .expect("upload");
        assert_eq!(
            app.invoke("keys_test", args.clone()).expect("test"),
            "accepted"
        );
        let mut activate = args.clone();
        activate["graceHours"] = json!(1);
        if version == 2 {
            app.invoke("keys_activate", activate).expect("activate");
        }
    }
    let list = app.invoke("keys_list", json!({})).expect("list");
    let text = list.to_string();
    assert!(!text.contains("PRIVATE KEY"));
    let app_key = list
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["purpose"] == "alipay_app_key" && l["account"] == "alipay-main")
        .cloned()
        .unwrap_or_default();
    let versions = &app_key["versions"];
    let state_of = |v: i64| {
        versions
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["version"] == v)
            .map(|x| x["state"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(state_of(2).as_deref(), Some("active"));
    assert_eq!(state_of(1).as_deref(), Some("retired"));
    assert!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'key.activate' AND actor = 'admin'"
        ) >= 1
    );
}

/// The app's scheduled WeChat Pay certificate download: due once the merchant key and APIv3
/// key are in the unlocked vault, run as Paydesk itself, then not again until the interval.
#[test]
fn platform_certificates_are_downloaded_on_the_schedule() {
    use paydesk_providers::keys::{Certificate, PrivateKey};
    use paydesk_service::vault::CertificateCheck;
    use tauri::Manager;
    let app = demo_app();
    app.login("admin", "orchid-harbor-2026");
    let state = app._app.state::<paydesk_desktop::state::DesktopState>();
    let tick =
        || tauri::async_runtime::block_on(paydesk_desktop::scheduler::certificate_tick(&state));
    assert!(
        tick().is_empty(),
        "nothing happens while the vault is locked"
    );
    app.invoke(
        "vault_init",
        json!({ "passphrase": "correct horse battery" }),
    )
    .expect("init");
    let checks = tick();
    assert!(
        matches!(&checks[0].check, CertificateCheck::Skipped { .. }),
        "no merchant key yet: {checks:?}"
    );

    let merchant = PrivateKey::generate().expect("key");
    let cert =
        Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x07], "1900000001").expect("cert");
    let listed = app
        .invoke(
            "keys_import",
            json!({ "account": "wechat-main", "purpose": "wechat_merchant_key",
                    "fields": { "key": merchant.to_pkcs8_pem().expect("pem"), "cert": cert.to_pem() } }),
        )
        .expect("import merchant key");
    let apiv3 = std::fs::read_to_string(app.db.with_file_name("keys").join("wechat_apiv3_key.txt"))
        .expect("demo APIv3 key");
    app.invoke(
        "keys_import",
        json!({ "account": "wechat-main", "purpose": "wechat_apiv3_key",
                "fields": { "key": apiv3.trim() } }),
    )
    .expect("import APIv3 key");
    app.invoke(
        "keys_register_with_sandbox",
        json!({ "account": "wechat-main", "purpose": "wechat_merchant_key", "version": listed["version"] }),
    )
    .expect("upload to the sandbox");

    let checks = tick();
    // wechat-shop2, the demo's second WeChat Pay merchant, has no key in the vault: skipped.
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        matches!(&checks[0].check, CertificateCheck::Refreshed { .. }),
        "{checks:?}"
    );
    assert_eq!(checks[1].account, "wechat-shop2");
    assert!(
        matches!(&checks[1].check, CertificateCheck::Skipped { .. }),
        "{checks:?}"
    );
    assert!(matches!(&tick()[0].check, CertificateCheck::NotDue { .. }));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'key.refresh_wechat_certs' AND actor = 'system' AND outcome = 'ok'"
        ),
        1
    );
    let list = app.invoke("keys_list", json!({})).expect("list");
    let certs = list
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["purpose"] == "wechat_platform_cert")
        .cloned()
        .unwrap_or_default();
    assert!(certs["refresh"]["last_ok_at"].is_string(), "{certs}");
}
