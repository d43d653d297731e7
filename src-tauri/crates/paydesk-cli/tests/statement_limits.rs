//! Bounded memory on any input (issue 16, point 7), through the real binary: a gzip bomb of
//! repeated bill lines and a bill past a lowered `[limits]` are refused with one clear line
//! naming the limit; the process never aborts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");

fn paydesk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(args)
        .env_remove("PAYDESK_WORKSPACE")
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run paydesk")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(args: &[&str]) -> String {
    let out = paydesk(args);
    assert!(
        out.status.success(),
        "paydesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails with exactly one error line (exit code 1-ish, not a signal), which is returned.
fn refused(args: &[&str]) -> String {
    let out = paydesk(args);
    assert!(
        out.status.code().is_some_and(|c| c != 0),
        "paydesk {args:?} should fail with an exit code, not a signal: {:?}",
        out.status
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    errors[0].to_string()
}

fn reconcile(ws: &Path, bill: &Path) -> Vec<String> {
    [
        "reconcile",
        "--workspace",
        s(ws),
        "--account",
        "wechat-main",
        "--date",
        "2026-11-22",
        "--statement",
        s(bill),
        "--dry-run",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn bombs_and_oversized_bills_are_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("gen");
    let out = ok(&[
        "generate",
        "--orders",
        "6000",
        "--date",
        "2026-11-22",
        "--seed",
        "5",
        "--providers",
        "wechat",
        "--out",
        s(&ws),
    ]);
    let bill = out
        .lines()
        .find(|l| l.ends_with("ALL.csv"))
        .map(PathBuf::from)
        .expect("a wechat bill");
    ok(&["init", "--workspace", s(&ws)]);
    let text = std::fs::read_to_string(&bill).unwrap();
    assert!(text.len() > 1024 * 1024, "{} bytes", text.len());

    // A gzip bomb: the bill's header and first row, the row repeated to 80 MiB.
    let mut lines = text.lines();
    let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(header.as_bytes()).unwrap();
    enc.write_all(b"\n").unwrap();
    let mut written = 0;
    while written < 80 * 1024 * 1024 {
        enc.write_all(row.as_bytes()).unwrap();
        enc.write_all(b"\n").unwrap();
        written += row.len() + 1;
    }
    let bomb = tmp.path().join("1900000001_20261122_ALL.csv.gz");
    std::fs::write(&bomb, enc.finish().unwrap()).unwrap();
    let err = refused(&strs(&reconcile(&ws, &bomb)));
    assert!(err.contains("max_compression_ratio"), "{err}");

    // The normal bill reconciles within the defaults...
    ok(&strs(&reconcile(&ws, &bill)));
    // ...and is refused once the limit is lowered below its size.
    let config = ws.join("paydesk.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[limits]\nmax_statement_mb = 1\n");
    std::fs::write(&config, toml).unwrap();
    let err = refused(&strs(&reconcile(&ws, &bill)));
    assert!(
        err.contains("larger than 1 MiB") && err.contains("[limits] max_statement_mb"),
        "{err}"
    );
}
