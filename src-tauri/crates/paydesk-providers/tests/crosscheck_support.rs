//! Shared plumbing for the `crosscheck_*` tests: finds node/python and the peer packages in
//! `tests/crosscheck/`, runs a peer script with a JSON request on stdin and a bounded wait, and
//! kills every child it started (also when a test panics).
//!
//! Included by the other `crosscheck_*.rs` files with `#[path] mod support;`. Compiled on its
//! own it is an empty test crate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous bound for one peer script run (a cold node/python start is well under a second).
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// `/work/main/tests/crosscheck` (or wherever the repository is checked out).
pub fn crosscheck_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/crosscheck")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/crosscheck"))
}

/// When a peer is missing: fail under CI (`paydesk_testkit::ci`), otherwise say so loudly and
/// skip. Returns `false` so callers can `return` early.
pub fn unavailable(test: &str, why: &str) -> bool {
    if paydesk_testkit::ci::is_ci() {
        panic!("{test}: cross-check peer unavailable under CI: {why}");
    }
    eprintln!();
    eprintln!("==================================================================");
    eprintln!("SKIPPED: {test}: {why}");
    eprintln!("  (install with: cd tests/crosscheck && npm ci; python3 -m pip install -r tests/crosscheck/requirements.txt)");
    eprintln!("  (this is a failure when CI is set)");
    eprintln!("==================================================================");
    false
}

/// Kills (and reaps) the child when dropped, so no peer outlives its test.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `program --version`-like probes with a timeout; `Some(stdout)` on exit status 0.
fn probe(program: &str, args: &[&str]) -> Option<String> {
    let child = Command::new(program)
        .args(args)
        .current_dir(crosscheck_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = wait_output(ChildGuard(child), Duration::from_secs(20)).ok()?;
    out.0.then_some(out.1)
}

/// The node binary (`PAYDESK_NODE` or `node`), if it runs and `node_modules/<pkg>` holds every
/// package in `packages`.
pub fn node_with(test: &str, packages: &[&str]) -> Option<String> {
    let node = std::env::var("PAYDESK_NODE").unwrap_or_else(|_| "node".into());
    if probe(&node, &["--version"]).is_none() {
        unavailable(test, &format!("`{node}` does not run"));
        return None;
    }
    for p in packages {
        let manifest = crosscheck_dir()
            .join("node_modules")
            .join(p)
            .join("package.json");
        if !manifest.is_file() {
            unavailable(
                test,
                &format!("npm package {p} is not installed in tests/crosscheck/node_modules"),
            );
            return None;
        }
    }
    Some(node)
}

/// The python binary (`PAYDESK_PYTHON` or `python3`), if it imports every module in `modules`.
pub fn python_with(test: &str, modules: &[&str]) -> Option<String> {
    let py = std::env::var("PAYDESK_PYTHON").unwrap_or_else(|_| "python3".into());
    let code = format!("import {}", modules.join(", "));
    if probe(&py, &["-c", &code]).is_none() {
        unavailable(
            test,
            &format!("`{py} -c \"{code}\"` fails (python or the PyPI packages are missing)"),
        );
        return None;
    }
    Some(py)
}

/// Waits for the child with a deadline; returns (success, stdout, stderr).
fn wait_output(mut guard: ChildGuard, timeout: Duration) -> Result<(bool, String, String), String> {
    let mut out = guard.0.stdout.take();
    let mut err = guard.0.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                drop(guard); // kills it, which also closes the pipes for the reader threads
                return Err(format!("timed out after {timeout:?}"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    Ok((status.success(), stdout, stderr))
}

/// Runs `program script` in tests/crosscheck with `input` as JSON on stdin and parses the JSON
/// it prints. Panics (with the script's stderr) on a non-zero exit, a timeout or bad JSON.
pub fn run_json(program: &str, script: &str, input: &Value) -> Value {
    let child = Command::new(program)
        .arg(script)
        .current_dir(crosscheck_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {program} {script}: {e}"));
    let mut guard = ChildGuard(child);
    {
        let mut stdin = guard.0.stdin.take().expect("stdin");
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("writing the request");
    } // closes stdin
    let (ok, stdout, stderr) =
        wait_output(guard, SCRIPT_TIMEOUT).unwrap_or_else(|e| panic!("{program} {script}: {e}"));
    assert!(ok, "{program} {script} failed:\n{stderr}");
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{program} {script}: not JSON ({e}): {stdout}\n{stderr}"));
    // A handler exception comes back as {"error": ...}; never let it pass for an answer.
    let answers = match &v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    for a in answers {
        if let Some(e) = a.get("error").and_then(Value::as_str) {
            if a.get("ok").is_none() && a.get("verified").is_none() {
                panic!("{program} {script}: the peer threw: {e}");
            }
        }
    }
    v
}

/// Runs a batch of requests; returns the answers in order.
pub fn run_batch(program: &str, script: &str, requests: Vec<Value>) -> Vec<Value> {
    let n = requests.len();
    match run_json(program, script, &Value::Array(requests)) {
        Value::Array(a) if a.len() == n => a,
        other => panic!("{script}: expected {n} answers, got {other}"),
    }
}

/// A long-running peer server whose first stdout line is `{"port": N}`.
pub struct Server {
    pub port: u16,
    /// Holds the state directory (TMPDIR of the child) until the server is gone.
    _dir: tempfile::TempDir,
    _guard: ChildGuard,
}

impl Server {
    /// Starts `program script` with its own TMPDIR and waits (bounded) for the port line.
    pub fn start(program: &str, script: &str, timeout: Duration) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(program)
            .arg(script)
            .current_dir(crosscheck_dir())
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {program} {script}: {e}"));
        let mut guard = ChildGuard(child);
        let stdout = guard.0.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {} // drain until the child exits
        });
        let first = match rx.recv_timeout(timeout) {
            Ok(l) => l,
            Err(_) => {
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                drop(guard);
                panic!("{script} did not report its port within {timeout:?}:\n{log}");
            }
        };
        let port = serde_json::from_str::<Value>(&first)
            .ok()
            .and_then(|v| v.get("port").and_then(Value::as_u64))
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("{script}: unexpected first line {first:?}"));
        Server {
            port,
            _dir: dir,
            _guard: guard,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default()
    }
}
