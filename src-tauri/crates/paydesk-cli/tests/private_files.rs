//! Files Paydesk writes are private and never clobber its own state (issue 16, point 6): the
//! real binary, run under a permissive umask.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");
const FINANCE: (&str, &str) = ("fiona", "finance-pass-2026-x");

/// `paydesk ARGS` as `user`, under `umask 000` (everything would be world-writable).
fn paydesk_as(user: (&str, &str), ws: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_paydesk"))
        .args(args)
        .env("PAYDESK_WORKSPACE", ws)
        .env("PAYDESK_USER", user.0)
        .env("PAYDESK_PASSWORD", user.1)
        .env_remove("PAYDESK_VAULT_PASSPHRASE")
        .env_remove("PAYDESK_VAULT_KEY_FILE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run paydesk")
}

fn ok(ws: &Path, args: &[&str]) -> String {
    let out = paydesk_as(ADMIN, ws, args);
    assert!(
        out.status.success(),
        "paydesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one error line of a refused command.
fn refused(user: (&str, &str), ws: &Path, args: &[&str]) -> String {
    let out = paydesk_as(user, ws, args);
    assert!(!out.status.success(), "paydesk {args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    errors[0].to_string()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn workspace_files_are_private_and_exports_never_clobber_them() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    // The demo: workspace, app database, order mirror, demo and sandbox keys, reports.
    ok(&ws, &["demo", "--date", "2026-11-22", "--json"]);
    ok(
        &ws,
        &[
            "vault",
            "init",
            "--create-key-file",
            s(&ws.join("master.key")),
        ],
    );

    assert_eq!(mode(&ws), 0o700, "workspace folder");
    for f in [
        "paydesk.toml",
        "paydesk.db",
        "orders.db",
        "master.key",
        "audit.key",
    ] {
        assert_eq!(mode(&ws.join(f)), 0o600, "{f}");
    }
    for dir in ["keys", "sandbox", "reports"] {
        let dir = ws.join(dir);
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        let files = files_in(&dir);
        assert!(!files.is_empty(), "{} is empty", dir.display());
        for f in files {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }

    // An export is 0600 too, and replaces an older file atomically.
    let out = tmp.path().join("out").join("report.csv");
    let report = |out: &Path| -> Vec<String> {
        [
            "report",
            "--date",
            "2026-11-22",
            "--format",
            "csv",
            "--out",
            s(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    ok(&ws, &args(&report(&out)));
    assert_eq!(mode(&out), 0o600);
    assert_eq!(mode(out.parent().unwrap()), 0o700);
    ok(&ws, &args(&report(&out)));
    assert_eq!(files_in(out.parent().unwrap()), vec![out.clone()]);

    // The workspace's own files are refused, however they are spelled, and left unchanged.
    let protected = [
        ws.join("paydesk.db"),
        ws.join("paydesk.db-wal"),
        ws.join("paydesk.db-shm"),
        ws.join("paydesk.toml"),
        ws.join("orders.db"),
        ws.join("master.key"),
        ws.join("audit.key"),
        ws.join("keys").join("wechat_apiv3_key.txt"),
        ws.join("keys").join("new-name.csv"),
        ws.join("sandbox").join("x.csv"),
        ws.join("reports").join("..").join("paydesk.toml"),
    ];
    let before: Vec<Option<Vec<u8>>> = protected.iter().map(|p| std::fs::read(p).ok()).collect();
    for target in &protected {
        let err = refused(ADMIN, &ws, &args(&report(target)));
        assert!(
            err.contains("never overwrites it with an export"),
            "{}: {err}",
            target.display()
        );
        let err = refused(ADMIN, &ws, &["discrepancies", "export", "--out", s(target)]);
        assert!(err.contains("never overwrites"), "{err}");
    }
    // The databases change as every command writes its audit entry: they must still be
    // SQLite files, never an export. Everything else is byte for byte as it was.
    for (p, old) in protected.iter().zip(&before) {
        let now = std::fs::read(p).ok();
        let name = p.file_name().unwrap().to_string_lossy();
        if name.ends_with(".db") {
            assert!(
                now.unwrap().starts_with(b"SQLite format 3\0"),
                "{} is no database any more",
                p.display()
            );
        } else if name.contains(".db-") {
            assert!(
                now.is_none_or(|b| !b.starts_with(b"\xEF\xBB\xBF")),
                "{} holds an export",
                p.display()
            );
        } else {
            assert!(&now == old, "{} changed", p.display());
        }
    }
    assert!(!ws.join("keys").join("new-name.csv").exists());

    // A symbolic link at the target is refused; the file it points to is unchanged.
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let link = tmp.path().join("link.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let err = refused(ADMIN, &ws, &args(&report(&link)));
    assert!(err.contains("symbolic link"), "{err}");
    let link_to_db = tmp.path().join("db-link.xlsx");
    std::os::unix::fs::symlink(ws.join("paydesk.db"), &link_to_db).unwrap();
    refused(
        ADMIN,
        &ws,
        &["discrepancies", "export", "--out", s(&link_to_db)],
    );
    // A link planted at the temporary file's name does not redirect the write.
    let planted_for = tmp.path().join("fresh.csv");
    std::os::unix::fs::symlink(&victim, tmp.path().join("fresh.csv.partial")).unwrap();
    ok(&ws, &args(&report(&planted_for)));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::read(&planted_for)
        .unwrap()
        .starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(mode(&planted_for), 0o600);
    assert!(std::fs::read(ws.join("paydesk.db"))
        .unwrap()
        .starts_with(b"SQLite format 3\0"));

    // `vault rotate-master --create-key-file` by someone who may not manage the vault writes
    // no key file (the permission is checked first) and leaves the vault as it was.
    let out = Command::new(env!("CARGO_BIN_EXE_paydesk"))
        .args(["users", "add", FINANCE.0, "--roles", "finance"])
        .env("PAYDESK_WORKSPACE", &ws)
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .env("PAYDESK_NEW_PASSWORD", FINANCE.1)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_key = ws.join("new.key");
    let err = refused(
        FINANCE,
        &ws,
        &["vault", "rotate-master", "--create-key-file", s(&new_key)],
    );
    assert!(
        err.contains("key_manage") || err.contains("permission"),
        "{err}"
    );
    assert!(!new_key.exists(), "a refused rotation wrote a key file");
    ok(&ws, &["keys", "list"]);
    // The admin may; the new key file is 0600.
    ok(
        &ws,
        &["vault", "rotate-master", "--create-key-file", s(&new_key)],
    );
    assert_eq!(mode(&new_key), 0o600);
    ok(&ws, &["keys", "list"]);
}
