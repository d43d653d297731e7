//! `paydesk audit head` prints the head to record; `paydesk audit verify --expect-head HASH`
//! fails (non-zero exit, one clear line) when that head is no longer in the log.

use std::path::Path;
use std::process::{Command, Output};

/// The demo admin (README) — also the first admin of `init --demo` workspaces.
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

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn a_recorded_head_that_is_gone_fails_verify() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    let out = paydesk(&["init", "--workspace", s(&ws), "--demo"]);
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    assert!(
        ws.join("audit.key").is_file(),
        "the workspace holds its audit key"
    );

    let out = paydesk(&["audit", "head", "--workspace", s(&ws)]);
    assert!(out.status.success(), "head: {}", text(&out.stderr));
    let line = text(&out.stdout);
    let (seq, hash) = line
        .trim()
        .strip_prefix('#')
        .and_then(|l| l.split_once(' '))
        .expect("`#SEQ HASH`");
    let seq: i64 = seq.parse().expect("seq");
    assert_eq!(hash.len(), 64, "{line}");

    // Still there: ok, and it says what came after it (this command's login).
    let out = paydesk(&[
        "audit",
        "verify",
        "--workspace",
        s(&ws),
        "--expect-head",
        hash,
    ]);
    assert!(out.status.success(), "verify: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "the expected head #{seq} is in the log; 1 entries were appended after it"
        )),
        "{err}"
    );

    // A malformed hash is refused before anything else.
    let out = paydesk(&[
        "audit",
        "verify",
        "--workspace",
        s(&ws),
        "--expect-head",
        "12ab",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("64 hex digits"),
        "{}",
        text(&out.stderr)
    );

    // The newest entries removed (the recorded head among them): the chain that is left is
    // intact, but verify fails and says so.
    let url = format!("sqlite://{}", ws.join("paydesk.db").display());
    let db = paydesk_store::AppDb::open(&url).await.expect("db");
    sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
        .bind(seq)
        .execute(db.pool())
        .await
        .expect("delete");
    db.close().await;
    let out = paydesk(&[
        "audit",
        "verify",
        "--workspace",
        s(&ws),
        "--expect-head",
        hash,
    ]);
    assert!(!out.status.success(), "must fail: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "the expected head {hash} is not in the audit log: entries after it were removed"
        )),
        "{err}"
    );
    // Without the recorded head the shortened chain looks intact: that is why it is recorded.
    let out = paydesk(&["audit", "verify", "--workspace", s(&ws)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
