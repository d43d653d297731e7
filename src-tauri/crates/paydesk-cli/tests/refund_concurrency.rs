//! Two `paydesk refund create` processes each try to refund 60% of the same order at the same
//! moment, on SQLite and on PostgreSQL: exactly one succeeds, the other is refused with a
//! reason naming the refundable amount, and the provider holds exactly one refund.

use paydesk_sandbox::SandboxHandle;
use paydesk_testkit::psql::PsqlDb;
use paydesk_testkit::refunds::*;
use serde_json::Value;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SUPPORT: (&str, &str) = ("support", "helpdesk-river-2026");
const APPROVER: (&str, &str) = ("approver", "signoff-cedar-2026");

/// Kills children a failed assertion leaves behind.
struct Children(Vec<Child>);
impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(ws: &str, user: (&str, &str), args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(args)
        .args(["--workspace", ws])
        .env_remove("PAYDESK_WORKSPACE")
        .env_remove("PAYDESK_TEST_CRASH_AT")
        .env("PAYDESK_USER", user.0)
        .env("PAYDESK_PASSWORD", user.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn paydesk")
}

fn finish(c: &mut Child) -> (bool, String, String) {
    let start = Instant::now();
    while c.try_wait().expect("wait").is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "paydesk hung");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = c.stdout.take() {
        s.read_to_string(&mut out).ok();
    }
    if let Some(mut s) = c.stderr.take() {
        s.read_to_string(&mut err).ok();
    }
    (c.wait().expect("status").success(), out, err)
}

fn race(ws: &str, sandbox: &SandboxHandle, order: &str, user2: (&str, &str)) {
    let args = [
        "refund", "create", "--order", order, "--amount", "60.00", "--reason", "race", "--json",
    ];
    let mut kids = Children(vec![spawn(ws, SUPPORT, &args), spawn(ws, user2, &args)]);
    let results: Vec<(bool, String, String)> = kids.0.iter_mut().map(finish).collect();
    let winners: Vec<&(bool, String, String)> = results.iter().filter(|r| r.0).collect();
    let losers: Vec<&(bool, String, String)> = results.iter().filter(|r| !r.0).collect();
    assert_eq!(winners.len(), 1, "exactly one must succeed: {results:?}");
    assert_eq!(losers.len(), 1, "{results:?}");
    let won: Value = serde_json::from_str(&winners[0].1).expect("winner JSON");
    assert_eq!(won["state"], "succeeded", "{won}");
    assert_eq!(won["amount"], 6000);
    let reason = losers[0].2.trim();
    assert!(
        reason.contains("exceeds the refundable amount of 40.00 CNY"),
        "the refusal must name the refundable amount: {reason}"
    );
    let at_provider = sandbox.refunds_for(order);
    assert_eq!(at_provider.len(), 1, "{at_provider:?}");
    assert_eq!(at_provider[0].amount, 6000);
    assert_eq!(
        won["refund_no"].as_str(),
        Some(at_provider[0].refund_no.as_str())
    );
}

fn setup(db_url: Option<&str>) -> (tempfile::TempDir, SandboxHandle, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = rt.block_on(async {
        init_workspace(dir.path(), db_url).await;
        start_sandbox(dir.path()).await
    });
    point_at_sandbox(dir.path(), &sandbox.base_url, "");
    (dir, sandbox, rt)
}

#[test]
fn two_consoles_cannot_over_refund_on_sqlite() {
    let (dir, sandbox, _rt) = setup(None);
    let ws = dir.path().to_str().expect("utf-8");
    race(ws, &sandbox, "ALI-1001", SUPPORT);
    race(ws, &sandbox, "WX-2001", APPROVER);
}

#[test]
fn two_consoles_cannot_over_refund_on_postgres() {
    let Some(pg) = PsqlDb::create("paydesk_rf") else {
        return;
    };
    let (dir, sandbox, _rt) = setup(Some(&pg.url));
    let ws = dir.path().to_str().expect("utf-8");
    race(ws, &sandbox, "ALI-1001", SUPPORT);
    race(ws, &sandbox, "WX-2001", APPROVER);
}
