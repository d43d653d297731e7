//! Process-level refund tests: the real `paydesk` binary is killed at every step of a refund
//! (test hook `PAYDESK_TEST_CRASH_AT` → abort, and a real SIGKILL), then `paydesk refunds
//! resume` finishes it. The provider side is a sandbox running in this test process, so it
//! outlives the killed child. After every scenario the sandbox's own record
//! (`GET /_control/refunds?order_no=`) shows exactly one refund for the intent, with the
//! right amount, and Paydesk's record agrees.

use paydesk_core::Provider;
use paydesk_sandbox::{Fault, FaultKind, SandboxHandle};
use paydesk_testkit::refunds::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");
const SUPPORT: (&str, &str) = ("support", "helpdesk-river-2026");

struct Env {
    dir: tempfile::TempDir,
    sandbox: SandboxHandle,
    rt: tokio::runtime::Runtime,
}

impl Env {
    fn new() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let sandbox = rt.block_on(async {
            init_workspace(dir.path(), None).await;
            start_sandbox(dir.path()).await
        });
        point_at_sandbox(dir.path(), &sandbox.base_url, "");
        Env { dir, sandbox, rt }
    }

    fn ws(&self) -> &str {
        self.dir.path().to_str().expect("utf-8")
    }

    fn command(&self, user: (&str, &str), args: &[&str], envs: &[(&str, &str)]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paydesk"));
        c.args(args)
            .args(["--workspace", self.ws()])
            .env_remove("PAYDESK_WORKSPACE")
            .env_remove("PAYDESK_TEST_CRASH_AT")
            .env("PAYDESK_USER", user.0)
            .env("PAYDESK_PASSWORD", user.1);
        for (k, v) in envs {
            c.env(k, v);
        }
        c
    }

    fn run(&self, user: (&str, &str), args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut child = self
            .command(user, args, envs)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn paydesk");
        wait_bounded(&mut child, Duration::from_secs(60))
    }

    fn json(&self, user: (&str, &str), args: &[&str]) -> Value {
        let out = self.run(user, args, &[]);
        assert!(
            out.status.success(),
            "paydesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON from {args:?} ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// The sandbox's provider-side refunds of an order, over its HTTP control API.
    fn provider_refunds(&self, order_no: &str) -> Vec<Value> {
        let body = http_get(
            &self.sandbox.base_url,
            &format!("/_control/refunds?order_no={order_no}"),
        );
        let v: Value = serde_json::from_str(&body).expect("control JSON");
        v["refunds"].as_array().cloned().unwrap_or_default()
    }
}

/// Kills the child if a test fails half-way.
struct ChildGuard(Option<Child>);
impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("paydesk did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_end(&mut stdout).ok();
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_end(&mut stderr).ok();
    }
    Output {
        status: child.wait().expect("status"),
        stdout,
        stderr,
    }
}

/// A minimal HTTP/1.1 GET (the control API is plain JSON on 127.0.0.1).
fn http_get(base: &str, path: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect sandbox");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("http answer");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // De-chunk.
        let mut out = String::new();
        let mut rest = body;
        while let Some((len, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        return out;
    }
    body.to_string()
}

fn order_of(p: Provider) -> (&'static str, &'static str) {
    match p {
        Provider::Alipay => ("ALI-1002", "CNY"),
        Provider::Wechat => ("WX-2001", "CNY"),
        _ => ("ST-3001", "USD"),
    }
}

/// The newest refund Paydesk records.
fn newest_refund(env: &Env) -> Value {
    let list = env.json(ADMIN, &["refunds", "list", "--json", "--limit", "1"]);
    list[0].clone()
}

/// One scenario: start `refund create` with the crash hook (and faults), expect it to die,
/// resume, then check the provider and Paydesk agree on exactly one refund.
/// `committed`: whether the provider must already hold the refund when the process died.
fn scenario(
    env: &Env,
    provider: Provider,
    name: &str,
    crash_at: Option<&str>,
    committed: bool,
    faults: Vec<Fault>,
) {
    let (order, _) = order_of(provider);
    let before: Vec<Value> = env.provider_refunds(order);
    for f in faults {
        env.sandbox.set_fault(f);
    }
    let mut envs: Vec<(&str, &str)> = vec![("PAYDESK_TEST_CRASH_DELAY_MS", "300")];
    if let Some(point) = crash_at {
        envs.push(("PAYDESK_TEST_CRASH_AT", point));
    }
    let out = env.run(
        SUPPORT,
        &[
            "refund", "create", "--order", order, "--amount", "10.00", "--reason", name, "--json",
        ],
        &envs,
    );
    if crash_at.is_some() {
        assert!(
            !out.status.success(),
            "{provider} {name}: the process should have died: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mid = newest_refund(env);
        assert!(
            ["sending", "processing", "requested"].contains(&mid["state"].as_str().unwrap_or("")),
            "{provider} {name}: after the crash {mid}"
        );
        let at_crash = env.provider_refunds(order).len();
        assert_eq!(
            at_crash,
            before.len() + usize::from(committed),
            "{provider} {name}: provider-side refunds when the process died"
        );
    } else {
        assert!(
            out.status.success(),
            "{provider} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["state"], "succeeded", "{provider} {name}: {v}");
        let id = v["id"].as_i64().expect("id").to_string();
        let shown = env.json(ADMIN, &["refund", "show", &id, "--json"]);
        let notes: Vec<&str> = shown["events"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["note"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            notes.iter().any(|n| n.contains("outcome unknown")),
            "{provider} {name}: {notes:?}"
        );
    }
    env.sandbox.clear_faults();
    let resumed = env.run(ADMIN, &["refunds", "resume", "--json"], &[]);
    assert!(
        resumed.status.success(),
        "{provider} {name}: resume failed: {}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    check_one_refund(env, provider, name, &before);
}

fn check_one_refund(env: &Env, provider: Provider, name: &str, before: &[Value]) {
    let (order, currency) = order_of(provider);
    let rec = newest_refund(env);
    let id = rec["id"].as_i64().expect("id").to_string();
    let shown = env.json(ADMIN, &["refund", "show", &id, "--json"]);
    let r = &shown["refund"];
    assert_eq!(r["state"], "succeeded", "{provider} {name}: {shown}");
    assert_eq!(r["amount"], 1000, "{provider} {name}");
    assert_eq!(r["currency"], currency);
    let no = r["refund_no"].as_str().expect("refund_no");
    let after = env.provider_refunds(order);
    let mine: Vec<&Value> = after.iter().filter(|x| x["refund_no"] == no).collect();
    assert_eq!(mine.len(), 1, "{provider} {name}: provider side {after:?}");
    assert_eq!(
        after.len(),
        before.len() + 1,
        "{provider} {name}: {after:?}"
    );
    assert_eq!(mine[0]["amount"], 1000, "{provider} {name}");
    let expected_id = match provider {
        Provider::Alipay => &mine[0]["txn_id"],
        _ => &mine[0]["refund_id"],
    };
    assert_eq!(&r["provider_refund_id"], expected_id, "{provider} {name}");
}

/// Real SIGKILL while the provider holds the answer after committing.
fn sigkill_scenario(env: &Env, provider: Provider) {
    let (order, _) = order_of(provider);
    let before = env.provider_refunds(order);
    env.sandbox.set_fault(
        Fault::new(provider, FaultKind::DelayAfterCommit { millis: 4000 }).only(match provider {
            Provider::Alipay => "alipay.trade.refund",
            Provider::Wechat => "refund",
            _ => "refunds",
        }),
    );
    let child = env
        .command(
            SUPPORT,
            &[
                "refund", "create", "--order", order, "--amount", "10.00", "--reason", "sigkill",
            ],
            &[],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut guard = ChildGuard(Some(child));
    let start = Instant::now();
    while env.sandbox.refunds_for(order).len() == before.len() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{provider}: provider never committed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The provider committed; the answer is still held back. SIGKILL now.
    if let Some(c) = guard.0.as_mut() {
        c.kill().expect("SIGKILL");
        let status = c.wait().expect("wait");
        assert!(!status.success());
    }
    guard.0 = None;
    env.sandbox.clear_faults();
    let resumed = env.run(ADMIN, &["refunds", "resume"], &[]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    check_one_refund(env, provider, "sigkill", &before);
}

fn only(provider: Provider) -> &'static str {
    match provider {
        Provider::Alipay => "refund",
        Provider::Wechat => "refund",
        _ => "refunds",
    }
}

fn all_crash_points(provider: Provider) {
    let env = Env::new();
    let o = only(provider);
    // 1. Intent committed (state sending), nothing sent.
    scenario(
        &env,
        provider,
        "after_intent",
        Some("after_intent"),
        false,
        vec![],
    );
    // 2. Attempt marked, about to send.
    scenario(
        &env,
        provider,
        "before_send",
        Some("before_send"),
        false,
        vec![],
    );
    // 3. Request sent, provider failed with a retryable error (nothing committed), process
    //    died before the retry.
    scenario(
        &env,
        provider,
        "after_send_no_commit",
        Some("after_send"),
        false,
        vec![Fault::new(provider, FaultKind::SystemError)
            .times(1)
            .only(o)],
    );
    // 4. Provider committed, answer lost (held back 1.5 s; the process dies at 300 ms).
    scenario(
        &env,
        provider,
        "after_send_committed",
        Some("after_send"),
        true,
        vec![Fault::new(provider, FaultKind::DelayAfterCommit { millis: 1500 }).only(o)],
    );
    // 5. Answer read, process died before recording it.
    scenario(
        &env,
        provider,
        "before_record",
        Some("before_record"),
        true,
        vec![],
    );
    // 6. A real SIGKILL after the provider committed.
    sigkill_scenario(&env, provider);
    // 7. No crash: a timeout (answer held past call_timeout_ms) then 5xx and rate limits on
    //    the re-queries; the same process finishes it.
    scenario(
        &env,
        provider,
        "timeout_then_errors",
        None,
        false,
        vec![
            Fault::new(provider, FaultKind::DelayAfterCommit { millis: 2500 }).only(o),
            Fault::new(provider, FaultKind::SystemError)
                .times(2)
                .only(o),
            Fault::new(provider, FaultKind::RateLimited)
                .times(2)
                .only(o),
        ],
    );
    // The sandbox ledger: 7 refunds of 10.00, nothing else.
    let (order, _) = order_of(provider);
    let all = env.provider_refunds(order);
    assert_eq!(all.len(), 7, "{all:?}");
    drop(env.rt);
}

#[test]
fn alipay_survives_a_crash_at_every_step() {
    all_crash_points(Provider::Alipay);
}

#[test]
fn wechat_survives_a_crash_at_every_step() {
    all_crash_points(Provider::Wechat);
}

#[test]
fn stripe_survives_a_crash_at_every_step() {
    all_crash_points(Provider::Stripe);
}
