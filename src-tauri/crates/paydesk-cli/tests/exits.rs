//! The `paydesk` process always ends: many short commands each exit with status 0 (no pool
//! maintenance task left spinning, sqlx issue #3645), a broken set-up fails at once with one
//! line, and the log filter comes from `PAYDESK_LOG` or `RUST_LOG`.

use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The demo admin (README) — also the first admin of `init --demo` workspaces.
const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paydesk"));
    c.args(args)
        .env_remove("PAYDESK_WORKSPACE")
        .env_remove("PAYDESK_LOG")
        .env_remove("RUST_LOG")
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1);
    c
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn init_demo(ws: &Path) {
    let out = command(&["init", "--workspace", s(ws), "--demo"])
        .output()
        .expect("run paydesk");
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs to the end or is killed after `limit`; `None` when it had to be killed.
fn run_with_timeout(mut c: Command, limit: Duration) -> Option<ExitStatus> {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn paydesk");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_hundred_short_commands_all_exit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    init_demo(&ws);
    const RUNS: usize = 200;
    const AT_ONCE: usize = 8;
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|w| {
                let ws = &ws;
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for i in (w..RUNS).step_by(AT_ONCE) {
                        let c = command(&["runs", "--workspace", s(ws), "--json"]);
                        match run_with_timeout(c, Duration::from_secs(20)) {
                            Some(status) if status.success() => {}
                            Some(status) => failures.push(format!("run {i}: {status}")),
                            None => failures.push(format!("run {i}: still running after 20 s")),
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {RUNS}: {failures:?}",
        failures.len()
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

fn output(c: &mut Command) -> (Output, Duration) {
    let start = Instant::now();
    let out = c.output().expect("run paydesk");
    (out, start.elapsed())
}

#[test]
fn a_garbage_database_file_fails_at_once_with_one_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    init_demo(&ws);
    let db = ws.join("paydesk.db");
    assert!(
        db.is_file(),
        "the demo keeps its app database in paydesk.db"
    );
    // 1 KB that is not SQLite (a fixed pseudo-random pattern).
    let mut x: u32 = 0x1234_5678;
    let garbage: Vec<u8> = (0..1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    for side in ["paydesk.db-wal", "paydesk.db-shm"] {
        let _ = std::fs::remove_file(ws.join(side));
    }
    std::fs::write(&db, garbage).expect("write garbage");

    let (out, took) = output(&mut command(&["runs", "--workspace", s(&ws), "--json"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(
        lines[0].starts_with("error") && lines[0].contains("is not a SQLite database"),
        "{stderr}"
    );
    assert!(lines[0].contains("paydesk.db"), "{stderr}");
}

#[test]
fn rust_log_or_paydesk_log_set_the_filter_and_paydesk_log_wins() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    init_demo(&ws);
    let args = ["runs", "--workspace", s(&ws), "--json"];
    let has_debug = |c: &mut Command| {
        let (out, _) = output(c);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).contains("DEBUG")
    };
    assert!(!has_debug(&mut command(&args)), "default: warnings only");
    assert!(
        has_debug(command(&args).env("RUST_LOG", "debug")),
        "RUST_LOG"
    );
    assert!(
        has_debug(command(&args).env("PAYDESK_LOG", "debug")),
        "PAYDESK_LOG"
    );
    assert!(
        !has_debug(
            command(&args)
                .env("RUST_LOG", "debug")
                .env("PAYDESK_LOG", "warn")
        ),
        "PAYDESK_LOG wins over RUST_LOG"
    );
}
