//! The vault passphrase rule from the command line: `paydesk vault init` and
//! `paydesk vault rotate-master` refuse a passphrase shorter than 12 characters with one clear
//! line (the service's rule, the same the desktop app shows), and nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");
const GOOD: &str = "a-long-enough-passphrase";

fn run(ws: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paydesk"));
    c.args(args)
        .env("PAYDESK_WORKSPACE", ws)
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .env_remove("PAYDESK_VAULT_PASSPHRASE")
        .env_remove("PAYDESK_VAULT_NEW_PASSPHRASE")
        .env_remove("PAYDESK_VAULT_KEY_FILE")
        .stdin(std::process::Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run paydesk")
}

fn ok(ws: &Path, args: &[&str], envs: &[(&str, &str)]) {
    let out = run(ws, args, envs);
    assert!(
        out.status.success(),
        "paydesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fails with exit code 2 and the one error line `want`.
fn refused(ws: &Path, args: &[&str], envs: &[(&str, &str)], want: &str) {
    let out = run(ws, args, envs);
    assert_eq!(out.status.code(), Some(2), "paydesk {args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors, [want], "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_short_vault_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    ok(&ws, &["init", "--demo"], &[]);

    let rule = "error: passphrase: use at least 12 characters";
    refused(
        &ws,
        &["vault", "init"],
        &[("PAYDESK_VAULT_PASSPHRASE", "short-11chr")],
        rule,
    );
    // Nothing was created: a good passphrase still initialises the vault.
    ok(
        &ws,
        &["vault", "init"],
        &[("PAYDESK_VAULT_PASSPHRASE", "twelve-chars")],
    );

    // Rotating to a short passphrase is refused; the vault still opens with the old one.
    let ws2 = dir.path().join("ws2");
    ok(&ws2, &["init", "--demo"], &[]);
    ok(
        &ws2,
        &["vault", "init"],
        &[("PAYDESK_VAULT_PASSPHRASE", GOOD)],
    );
    refused(
        &ws2,
        &["vault", "rotate-master"],
        &[
            ("PAYDESK_VAULT_PASSPHRASE", GOOD),
            ("PAYDESK_VAULT_NEW_PASSPHRASE", "too-short"),
        ],
        rule,
    );
    ok(
        &ws2,
        &["keys", "list"],
        &[("PAYDESK_VAULT_PASSPHRASE", GOOD)],
    );
}
