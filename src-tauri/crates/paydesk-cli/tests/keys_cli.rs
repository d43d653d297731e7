//! `paydesk keys` / `paydesk vault` end to end: the real binary on a real SQLite workspace.
//! No secret (nor its base64) appears in any command's stdout or stderr, or in the database
//! file; a wrong passphrase fails with one clear line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::sliced_string_as_bytes
)]

use std::path::Path;
use std::process::{Command, Output};

const ADMIN: (&str, &str) = ("admin", "orchid-harbor-2026");
const PASS: &str = "cli-vault-passphrase-31";
const STRIPE: &str = "rk_test_CliVaultSecretKey5566778899";
const APIV3: &str = "CliApiV3KeyForVaultTests01234567";

/// `paydesk ARGS` as the admin, with no vault master key in the environment.
fn paydesk(ws: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paydesk"));
    c.args(args)
        .env("PAYDESK_WORKSPACE", ws)
        .env("PAYDESK_USER", ADMIN.0)
        .env("PAYDESK_PASSWORD", ADMIN.1)
        .env_remove("PAYDESK_VAULT_PASSPHRASE")
        .env_remove("PAYDESK_VAULT_KEY_FILE")
        .stdin(std::process::Stdio::null());
    c
}

fn run(ws: &Path, passphrase: &str, args: &[&str]) -> Output {
    paydesk(ws, args)
        .env("PAYDESK_VAULT_PASSPHRASE", passphrase)
        .output()
        .expect("run paydesk")
}

#[test]
fn keys_commands_never_print_secrets() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let outputs = std::cell::RefCell::new(Vec::<u8>::new());
    let ok = |args: &[&str], pass: &str| {
        let out = run(&ws, pass, args);
        outputs.borrow_mut().extend(&out.stdout);
        outputs.borrow_mut().extend(&out.stderr);
        assert!(
            out.status.success(),
            "paydesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["init", "--demo"], PASS);
    ok(&["vault", "init"], PASS);
    let stripe_file = dir.path().join("stripe.txt");
    std::fs::write(&stripe_file, STRIPE).unwrap();
    let apiv3_file = dir.path().join("apiv3.txt");
    std::fs::write(&apiv3_file, APIV3).unwrap();
    ok(
        &[
            "keys",
            "import",
            "--account",
            "stripe-main",
            "--purpose",
            "stripe_secret_key",
            "--file",
            stripe_file.to_str().unwrap(),
        ],
        PASS,
    );
    ok(
        &[
            "keys",
            "import",
            "--account",
            "wechat-main",
            "--purpose",
            "wechat_apiv3_key",
            "--file",
            apiv3_file.to_str().unwrap(),
            "--json",
        ],
        PASS,
    );
    let generated = ok(
        &["keys", "generate", "--account", "alipay-main", "--json"],
        PASS,
    );
    let g: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(g["public_key_base64"]
        .as_str()
        .unwrap()
        .starts_with("MIIBIjAN"));
    let list = ok(&["keys", "list", "--json"], PASS);
    let l: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(l.as_array().unwrap().len(), 3);
    ok(&["keys", "list"], PASS);
    ok(
        &[
            "keys",
            "export-public",
            "--account",
            "alipay-main",
            "--purpose",
            "alipay_app_key",
            "--version",
            "1",
        ],
        PASS,
    );

    // Wrong passphrase: one clear error line.
    let out = run(&ws, "wrong-passphrase-000", &["keys", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("master key is wrong"), "{err}");
    outputs.borrow_mut().extend(&out.stdout);
    outputs.borrow_mut().extend(&out.stderr);

    let out = paydesk(&ws, &["vault", "rotate-master"])
        .env("PAYDESK_VAULT_PASSPHRASE", PASS)
        .env("PAYDESK_VAULT_NEW_PASSPHRASE", "rotated-cli-passphrase-42")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&["keys", "list"], "rotated-cli-passphrase-42");

    let mut db = std::fs::read(ws.join("paydesk.db")).unwrap();
    if let Ok(wal) = std::fs::read(ws.join("paydesk.db-wal")) {
        db.extend(wal);
    }
    let outputs = outputs.into_inner();
    for secret in [STRIPE, APIV3] {
        for needle in [
            secret.to_string(),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ] {
            let n = needle.as_bytes();
            assert!(
                !outputs.windows(n.len()).any(|w| w == n),
                "a secret was printed"
            );
            assert!(
                !db.windows(n.len()).any(|w| w == n),
                "a secret is in the database file"
            );
        }
    }
}

/// `paydesk` as cron runs it: the user's credentials, no vault passphrase in the environment.
fn run_unattended(ws: &Path, args: &[&str]) -> Output {
    paydesk(ws, args).output().expect("run paydesk")
}

#[test]
fn a_key_file_vault_runs_unattended_and_cron_refreshes_due_certificates() {
    use paydesk_providers::keys::{Certificate, PrivateKey};
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let outputs = std::cell::RefCell::new(Vec::<u8>::new());
    let ok = |args: &[&str]| {
        let out = run_unattended(&ws, args);
        outputs.borrow_mut().extend(&out.stdout);
        outputs.borrow_mut().extend(&out.stderr);
        assert!(
            out.status.success(),
            "paydesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["init", "--demo"]);
    let key_file = ws.join("vault.key");
    ok(&[
        "vault",
        "init",
        "--create-key-file",
        key_file.to_str().unwrap(),
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let config = std::fs::read_to_string(ws.join("paydesk.toml")).unwrap();
    assert!(config.contains("key_file = \"vault.key\""), "{config}");
    // Never overwritten.
    let out = run_unattended(
        &ws,
        &[
            "vault",
            "init",
            "--create-key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites"));

    // The merchant's WeChat Pay key, certificate and APIv3 key go into the vault.
    let merchant = PrivateKey::generate().unwrap();
    let cert = Certificate::self_signed(&merchant, &[0x3c, 0x55, 0x05], "1900000001").unwrap();
    let key_pem = dir.path().join("apiclient_key.pem");
    std::fs::write(&key_pem, merchant.to_pkcs8_pem().unwrap()).unwrap();
    let cert_pem = dir.path().join("apiclient_cert.pem");
    std::fs::write(&cert_pem, cert.to_pem()).unwrap();
    ok(&[
        "keys",
        "import",
        "--account",
        "wechat-main",
        "--purpose",
        "wechat_merchant_key",
        "--file",
        key_pem.to_str().unwrap(),
        "--cert",
        cert_pem.to_str().unwrap(),
    ]);
    // The demo sandbox reads its APIv3 key from keys/ (creating it on first start): give it
    // the one the merchant imports.
    let apiv3 = ws.join("keys/wechat_apiv3_key.txt");
    std::fs::create_dir_all(ws.join("keys")).unwrap();
    std::fs::write(&apiv3, APIV3).unwrap();
    ok(&[
        "keys",
        "import",
        "--account",
        "wechat-main",
        "--purpose",
        "wechat_apiv3_key",
        "--file",
        apiv3.to_str().unwrap(),
    ]);

    // Due: downloaded (through the demo's sandbox, told the vault's key) and stored.
    let first: serde_json::Value =
        serde_json::from_str(&ok(&["keys", "refresh-wechat-certs", "--due", "--json"])).unwrap();
    // wechat-shop2, the demo's second WeChat Pay merchant, has no key in the vault: skipped.
    assert_eq!(first.as_array().unwrap().len(), 2, "{first}");
    assert_eq!(first[1]["account"], "wechat-shop2", "{first}");
    assert_eq!(first[1]["outcome"], "skipped", "{first}");
    assert_eq!(first[0]["account"], "wechat-main");
    assert_eq!(first[0]["outcome"], "refreshed", "{first}");
    assert_eq!(first[0]["added"].as_array().unwrap().len(), 1, "{first}");
    // Run again from cron: not due.
    let again = ok(&["keys", "refresh-wechat-certs", "--due"]);
    assert!(again.contains("wechat-main: not due until"), "{again}");
    let table = ok(&["keys", "list"]);
    assert!(
        table.contains("platform certificates last downloaded: 20"),
        "{table}"
    );
    let list: serde_json::Value = serde_json::from_str(&ok(&["keys", "list", "--json"])).unwrap();
    let certs = list
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["purpose"] == "wechat_platform_cert")
        .expect("platform certificates listed");
    assert!(certs["refresh"]["last_ok_at"].is_string(), "{certs}");

    // No secret in any output or in the database: the master key file's content, the APIv3
    // key, the merchant private key (its base64 body).
    let master = std::fs::read_to_string(&key_file).unwrap();
    let pkcs8 = merchant.to_pkcs8_pem().unwrap();
    let body: String = pkcs8
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let mut db = std::fs::read(ws.join("paydesk.db")).unwrap();
    if let Ok(wal) = std::fs::read(ws.join("paydesk.db-wal")) {
        db.extend(wal);
    }
    let outputs = outputs.into_inner();
    // Past the public modulus: the private exponent and the CRT coefficient.
    let middle = body.len() / 2;
    for secret in [
        master.trim(),
        APIV3,
        &body[middle..middle + 64],
        &body[body.len() - 64..],
    ] {
        let n = secret.as_bytes();
        assert!(
            !outputs.windows(n.len()).any(|w| w == n),
            "a secret was printed"
        );
        assert!(
            !db.windows(n.len()).any(|w| w == n),
            "a secret is in the database file"
        );
    }

    // A key file other users can read is refused with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = run_unattended(&ws, &["keys", "list"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root (`<name>-root.pem`) and a certificate it issued for a new key (`<name>-<leaf>.pem`,
/// key `<name>-<leaf>.key`), made by openssl.
fn openssl_chain(dir: &Path, name: &str, leaves: &[&str]) {
    let root = format!("{name}-root");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-nodes",
            "-days",
            "3650",
            "-newkey",
            "rsa:2048",
            "-sha256",
            "-keyout",
            &format!("{root}.key"),
            "-out",
            &format!("{root}.pem"),
            "-subj",
            &format!("/C=CN/O=Test/OU=Certification Authority/CN={name} Root"),
        ],
    );
    for leaf in leaves {
        let base = format!("{name}-{leaf}");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-nodes",
                "-newkey",
                "rsa:2048",
                "-keyout",
                &format!("{base}.key"),
                "-out",
                &format!("{base}.csr"),
                "-subj",
                &format!("/C=CN/O=Test/CN={leaf}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{base}.csr"),
                "-CA",
                &format!("{root}.pem"),
                "-CAkey",
                &format!("{root}.key"),
                "-CAcreateserial",
                "-days",
                "365",
                "-sha256",
                "-out",
                &format!("{base}.pem"),
            ],
        );
    }
}

#[test]
fn alipay_certificate_mode_import_checks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let d = dir.path();
    openssl_chain(d, "ali", &["app", "alipay"]);
    openssl_chain(d, "other", &[]);
    let p = |f: &str| d.join(f).to_str().unwrap().to_string();
    let ok = |args: &[&str]| {
        let out = run(&ws, PASS, args);
        assert!(
            out.status.success(),
            "paydesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["init", "--demo"]);
    ok(&["vault", "init"]);
    let import = |purpose: &str, file: &str, extra: &[&str]| {
        let mut args = vec![
            "keys",
            "import",
            "--account",
            "alipay-main",
            "--purpose",
            purpose,
            "--file",
            file,
        ];
        args.extend_from_slice(extra);
        run(&ws, PASS, &args)
    };
    let out = import(
        "alipay_app_key",
        &p("ali-app.key"),
        &["--cert", &p("ali-app.pem")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The Alipay certificate with another environment's root: refused in one clear line.
    let out = import(
        "alipay_public_key",
        &p("ali-alipay.pem"),
        &["--root-cert", &p("other-root.pem")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Alipay public certificate"), "{err}");
    assert!(err.contains("wrong issuer"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // --root-cert belongs to alipay_public_key only.
    let out = import(
        "alipay_app_key",
        &p("ali-app.key"),
        &["--root-cert", &p("ali-root.pem")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--root-cert"));
    let out = import(
        "alipay_public_key",
        &p("ali-alipay.pem"),
        &["--root-cert", &p("ali-root.pem"), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["info"]["kind"], "alipay_certificate");
    assert_eq!(v["info"]["key_id"].as_str().map(str::len), Some(32), "{v}");
}
