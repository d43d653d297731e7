//! Users, roles and the audit log, through the same service entry points the CLI and the
//! desktop app call, on SQLite and on PostgreSQL.

use chrono::{Duration, Utc};
use paydesk_core::auth::role_grants;
use paydesk_core::{Actor, BillDate, DiscrepancyFilter, Permission, ReviewChange, Role};
use paydesk_service::context::workspace::{self, Workspace};
use paydesk_service::reconcile::DryRun;
use paydesk_service::{context::auth, context::progress::Silent, ServiceError};
use paydesk_testkit::db::PgDb;
use paydesk_testkit::workspace::{demo_workspace, login_new_user};
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/samples")
}

/// The vault's master key file for the matrix workspace (created by the admin first).
fn master_key_file(tmp: &Path) -> paydesk_service::vault::MasterSource {
    paydesk_service::vault::MasterSource::KeyFile(tmp.join("master.key"))
}

/// Calls the service entry point guarded by `permission`. `Ok(true)` = allowed (whatever the
/// operation then made of its input), `Ok(false)` = refused for lack of the permission.
async fn attempt(w: &Workspace, actor: &Actor, permission: Permission, tmp: &Path) -> Option<bool> {
    let result: Result<(), ServiceError> = match permission {
        Permission::ReconcileRun => paydesk_service::reconcile::reconcile_account(
            w,
            "wechat-main",
            BillDate::parse("2019-02-19").expect("date"),
            Some(samples().join("wechat/1921000401_20190219_ALL.csv")),
            DryRun::Yes,
            actor,
            &Silent,
        )
        .await
        .map(|_| ()),
        Permission::DiscrepancyView => paydesk_service::review::list(
            w,
            actor,
            &DiscrepancyFilter::default(),
            paydesk_store::DiscrepancySort::DateDesc,
            10,
            0,
        )
        .await
        .map(|_| ()),
        Permission::DiscrepancyReview => paydesk_service::review::update(
            w,
            actor,
            999_999,
            &ReviewChange {
                note: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .map(|_| ()),
        Permission::ReportExport => paydesk_service::review::export_report(
            w,
            actor,
            &DiscrepancyFilter::default(),
            "csv",
            &tmp.join(format!("{}.csv", actor.username)),
            "en",
        )
        .await
        .map(|_| ()),
        Permission::UserManage => auth::list_users(&w.db, actor).await.map(|_| ()),
        Permission::AuditView => paydesk_service::context::audit::verify(w, actor)
            .await
            .map(|_| ()),
        Permission::OrderView => paydesk_service::refunds::find_orders(w, actor, "AP", 5)
            .await
            .map(|_| ()),
        Permission::RefundRequest => paydesk_service::refunds::request_refund(
            w,
            actor,
            &paydesk_service::refunds::RefundInput {
                order: "NO-SUCH-ORDER".into(),
                amount: paydesk_core::Money::new(100, paydesk_core::Currency::CNY),
                reason: "matrix".into(),
                account: None,
            },
        )
        .await
        .map(|_| ()),
        Permission::RefundApprove => {
            paydesk_service::refunds::decide_refund(w, actor, 999_999, true, Some("matrix"))
                .await
                .map(|_| ())
        }
        Permission::KeyView => {
            match paydesk_service::vault::unlock(&w.db, actor, &master_key_file(tmp)).await {
                Ok(vault) => vault.list(actor).await.map(|_| ()),
                Err(e) => Err(e),
            }
        }
        Permission::KeyManage => {
            match paydesk_service::vault::unlock(&w.db, actor, &master_key_file(tmp)).await {
                Ok(vault) => vault
                    .retire(
                        actor,
                        "alipay-main",
                        paydesk_vault::Purpose::AlipayAppKey,
                        999,
                        Duration::zero(),
                    )
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        }
        // Settings are edited in paydesk.toml; no service entry point yet.
        Permission::SettingsManage => return None,
    };
    match result {
        Err(ServiceError::Denied(d)) => {
            assert_eq!(d.permission, permission, "refusal names the permission");
            assert!(d.to_string().contains(permission.as_str()));
            Some(false)
        }
        _ => Some(true),
    }
}

async fn walk_matrix(w: &Workspace, tmp: &Path) {
    let admin = auth::login(&w.db, "admin", "orchid-harbor-2026", Utc::now())
        .await
        .expect("demo admin")
        .actor;
    std::fs::write(tmp.join("master.key"), "11".repeat(32)).expect("master key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            tmp.join("master.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod 600");
    }
    paydesk_service::vault::init(&w.db, &admin, &master_key_file(tmp), None)
        .await
        .expect("vault");
    let mut checked = 0;
    for role in Role::ALL {
        let actor = login_new_user(w, &admin, &format!("m-{}", role.as_str()), &[role]).await;
        for permission in Permission::ALL {
            if let Some(allowed) = attempt(w, &actor, permission, tmp).await {
                assert_eq!(
                    allowed,
                    role_grants(role, permission),
                    "{role} × {permission}: the matrix says {}",
                    role_grants(role, permission)
                );
                checked += 1;
            }
        }
    }
    // Every permission but settings.manage has a service entry point to try.
    assert_eq!(checked, Role::ALL.len() * (Permission::ALL.len() - 1));
    // Every refusal was audited.
    let denied =
        w.db.audit_entries(&paydesk_store::AuditFilter::default(), 10_000, 0)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.outcome == "denied")
            .count();
    let expected_denials = Role::ALL
        .iter()
        .flat_map(|r| {
            Permission::ALL
                .into_iter()
                .filter(|p| *p != Permission::SettingsManage)
                .filter(move |p| !role_grants(*r, *p))
        })
        .count();
    assert_eq!(denied, expected_denials);
}

#[tokio::test]
async fn permission_matrix_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    walk_matrix(&w, tmp.path()).await;
}

#[tokio::test]
async fn permission_matrix_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    walk_matrix(&w, tmp.path()).await;
    w.db.close().await;
    pg.drop_db().await;
}

#[tokio::test]
async fn lockout_after_repeated_failures_then_cool_down() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    let now = Utc::now();
    for _ in 0..auth::LOCK_AFTER_FAILURES {
        let err = auth::login(&w.db, "finance", "not-the-password-1", now)
            .await
            .expect_err("wrong");
        assert_eq!(err.to_string(), auth::BAD_CREDENTIALS);
    }
    // Locked: even the right password is refused (its password is not checked while locked),
    // with the same answer, which names the lock rule.
    let err = auth::login(&w.db, "finance", "ledger-maple-2026", now)
        .await
        .expect_err("locked");
    assert_eq!(err.to_string(), auth::BAD_CREDENTIALS);
    assert!(err.to_string().contains("lock"), "{err}");
    // After the cool-down the right password works again.
    let later = now + auth::lock_duration() + Duration::seconds(1);
    auth::login(&w.db, "finance", "ledger-maple-2026", later)
        .await
        .expect("unlocked");
    // Unknown users look exactly like wrong passwords.
    let err = auth::login(&w.db, "nobody", "whatever-123", now)
        .await
        .expect_err("unknown");
    assert_eq!(err.to_string(), auth::BAD_CREDENTIALS);
}

/// The reasons of the failed-login audit entries of `user`, in order.
async fn login_failures(w: &Workspace, user: &str) -> Vec<String> {
    w.db.audit_entries(
        &paydesk_store::AuditFilter {
            actor: Some(user.into()),
            action: Some("login".into()),
            ..Default::default()
        },
        10_000,
        0,
    )
    .await
    .expect("audit")
    .into_iter()
    .filter(|e| e.outcome == "failed")
    .map(|e| {
        serde_json::from_str::<serde_json::Value>(&e.details).expect("details")["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
    .collect()
}

/// 20 wrong passwords at once for a limit of 5: exactly 5 passwords are checked (the audit
/// log says "wrong password" for those; the others were refused as locked before any check),
/// and then the right password is refused too until the lock ends.
async fn parallel_wrong_passwords(w: &Workspace) {
    let now = Utc::now();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = w.db.clone();
            tokio::spawn(async move {
                auth::login(&db, "finance", &format!("wrong-password-{i}"), now)
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        let err = task.await.expect("task").expect_err("wrong password");
        assert_eq!(err.to_string(), auth::BAD_CREDENTIALS);
    }
    let reasons = login_failures(w, "finance").await;
    assert_eq!(reasons.len(), 20, "{reasons:?}");
    let checked = reasons.iter().filter(|r| *r == "wrong password").count();
    assert_eq!(
        checked,
        auth::LOCK_AFTER_FAILURES as usize,
        "passwords checked: {reasons:?}"
    );
    assert_eq!(
        reasons.iter().filter(|r| *r == "locked").count(),
        20 - auth::LOCK_AFTER_FAILURES as usize
    );
    let user = w.db.user("finance").await.expect("user").expect("finance");
    assert!(user.locked_until.is_some_and(|t| t > now), "{user:?}");
    // Locked: the right password is refused, unchecked, with the same answer.
    let err = auth::login(
        &w.db,
        "finance",
        "ledger-maple-2026",
        now + Duration::minutes(1),
    )
    .await
    .expect_err("locked");
    assert_eq!(err.to_string(), auth::BAD_CREDENTIALS);
    assert_eq!(
        login_failures(w, "finance")
            .await
            .last()
            .map(String::as_str),
        Some("locked")
    );
    let later = now + auth::lock_duration() + Duration::seconds(1);
    auth::login(&w.db, "finance", "ledger-maple-2026", later)
        .await
        .expect("the lock ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_check_at_most_the_limit_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    parallel_wrong_passwords(&w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_check_at_most_the_limit_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    parallel_wrong_passwords(&w).await;
    w.db.close().await;
    pg.drop_db().await;
}

/// Parallel logins with the right password (cron jobs, several windows) never lock anyone
/// out: attempts beyond the limit wait for a slot instead of being refused.
async fn parallel_right_passwords(w: &Workspace) {
    let now = Utc::now();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let db = w.db.clone();
            tokio::spawn(async move {
                auth::login(&db, "finance", "ledger-maple-2026", now)
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("task")
            .expect("the right password logs in");
    }
    assert!(login_failures(w, "finance").await.is_empty());
    let user = w.db.user("finance").await.expect("user").expect("finance");
    assert_eq!(user.locked_until, None, "{user:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_right_passwords_all_log_in_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    parallel_right_passwords(&w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_right_passwords_all_log_in_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    parallel_right_passwords(&w).await;
    w.db.close().await;
    pg.drop_db().await;
}

/// Unknown user, wrong password, disabled user with a wrong password, locked user: the same
/// error, so that nobody learns which users exist or what state they are in.
#[tokio::test]
async fn every_failed_login_gets_the_same_answer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    let now = Utc::now();
    let admin = auth::login(&w.db, "admin", "orchid-harbor-2026", now)
        .await
        .expect("admin")
        .actor;
    auth::set_disabled(&w.db, &admin, "support", true)
        .await
        .expect("disable");
    for _ in 0..auth::LOCK_AFTER_FAILURES {
        let _ = auth::login(&w.db, "approver", "wrong-password-0", now).await;
    }
    let mut answers = Vec::new();
    for (user, password) in [
        ("nobody", "wrong-password-1"),
        ("finance", "wrong-password-1"),
        ("support", "wrong-password-1"),
        ("approver", "wrong-password-1"),
        ("approver", "signoff-cedar-2026"),
    ] {
        let err = auth::login(&w.db, user, password, now)
            .await
            .expect_err("refused");
        answers.push((user, err.code(), err.to_string()));
    }
    for (user, code, text) in &answers {
        assert_eq!(
            (*code, text.as_str()),
            ("unauthenticated", auth::BAD_CREDENTIALS),
            "{user}"
        );
    }
    // The audit log keeps the real reason for the admin.
    assert_eq!(
        login_failures(&w, "support").await,
        ["wrong password (user disabled)"]
    );
    assert_eq!(login_failures(&w, "nobody").await, ["unknown user"]);
    // A disabled user who types the right password is told why.
    let err = auth::login(&w.db, "support", "helpdesk-river-2026", now)
        .await
        .expect_err("disabled");
    assert!(err.to_string().contains("disabled"), "{err}");
}

#[tokio::test]
async fn sessions_expire_after_inactivity_and_end_when_disabled() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    let t0 = Utc::now();
    let session = auth::login(&w.db, "support", "helpdesk-river-2026", t0)
        .await
        .expect("login");
    let idle = auth::default_session_idle();
    let actor = auth::authenticate(&w.db, &session.token, idle, t0 + Duration::minutes(20))
        .await
        .expect("active");
    assert_eq!(actor.username, "support");
    // Activity at +20 min moved the window: +45 min is still within 30 min of it.
    auth::authenticate(&w.db, &session.token, idle, t0 + Duration::minutes(45))
        .await
        .expect("still active");
    let err = auth::authenticate(&w.db, &session.token, idle, t0 + Duration::minutes(80))
        .await
        .expect_err("expired");
    assert!(matches!(err, ServiceError::Unauthenticated(_)));

    // Disabling a user ends their live sessions at once.
    let session = auth::login(&w.db, "support", "helpdesk-river-2026", Utc::now())
        .await
        .expect("login");
    let admin = auth::login(&w.db, "admin", "orchid-harbor-2026", Utc::now())
        .await
        .expect("admin")
        .actor;
    auth::set_disabled(&w.db, &admin, "support", true)
        .await
        .expect("disable");
    assert!(auth::authenticate(&w.db, &session.token, idle, Utc::now())
        .await
        .is_err());
    assert!(
        auth::login(&w.db, "support", "helpdesk-river-2026", Utc::now())
            .await
            .is_err()
    );
    // Secrets stay out of Debug output.
    assert!(!format!("{session:?}").contains(secrecy::ExposeSecret::expose_secret(&session.token)));
}

#[tokio::test]
async fn first_admin_bootstrap_happens_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("paydesk.toml"), workspace::template_config(false)).expect("config");
    let w = workspace::init(&dir, false).await.expect("init");
    assert_eq!(w.db.user_count().await.expect("count"), 0);
    assert!(
        auth::bootstrap_admin(&w.db, "root", "short").await.is_err(),
        "password rules apply"
    );
    let admin = auth::bootstrap_admin(&w.db, "root", "first-admin-2026")
        .await
        .expect("bootstrap");
    assert!(admin.roles.contains(&Role::Admin));
    let err = auth::bootstrap_admin(&w.db, "root2", "first-admin-2026")
        .await
        .expect_err("only once");
    assert!(err.to_string().contains("already has users"));
}

async fn tamper_checks(w: &Workspace) {
    // Some history: logins, a user change, a verify.
    let admin = auth::login(&w.db, "admin", "orchid-harbor-2026", Utc::now())
        .await
        .expect("admin")
        .actor;
    for i in 0..3 {
        let _ = auth::login(&w.db, "finance", &format!("wrong-pass-{i}x"), Utc::now()).await;
    }
    auth::set_roles(
        &w.db,
        &admin,
        "support",
        [Role::Support, Role::Approver].into_iter().collect(),
    )
    .await
    .expect("roles");
    let clean = paydesk_service::context::audit::verify(w, &admin)
        .await
        .expect("verify");
    assert!(clean.intact(), "{:?}", clean.problems);
    assert!(clean.entries >= 8);
    let pool = w.db.pool();
    use sqlx::Executor;

    // Edited entry: detected at that entry; putting the original value back heals it.
    let (original,): (String,) = sqlx::query_as("SELECT actor FROM audit_log WHERE seq = 3")
        .fetch_one(pool)
        .await
        .expect("row");
    pool.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .await
        .expect("edit");
    let v = w.db.audit_verify().await.expect("verify");
    assert_eq!(
        v.problems.first().map(|p| p.seq),
        Some(3),
        "{:?}",
        v.problems
    );
    assert!(v.problems[0].reason.contains("edited"));
    let broken = paydesk_service::context::audit::verify(w, &admin)
        .await
        .expect("verify");
    assert!(!broken.intact());
    sqlx::query("UPDATE audit_log SET actor = $1 WHERE seq = 3")
        .bind(&original)
        .execute(pool)
        .await
        .expect("restore");
    assert!(w.db.audit_verify().await.expect("verify").intact());

    // Deleted entry.
    pool.execute("DELETE FROM audit_log WHERE seq = 5")
        .await
        .expect("delete");
    let v = w.db.audit_verify().await.expect("verify");
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 5 && p.reason.contains("missing")),
        "{:?}",
        v.problems
    );
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 6 && p.reason.contains("chain")),
        "{:?}",
        v.problems
    );

    // Reordered entries: swap the positions of 7 and 8.
    pool.execute("UPDATE audit_log SET seq = -7 WHERE seq = 7")
        .await
        .expect("swap");
    pool.execute("UPDATE audit_log SET seq = 7 WHERE seq = 8")
        .await
        .expect("swap");
    pool.execute("UPDATE audit_log SET seq = 8 WHERE seq = -7")
        .await
        .expect("swap");
    let v = w.db.audit_verify().await.expect("verify");
    assert!(v.problems.iter().any(|p| p.seq == 7), "{:?}", v.problems);
    assert!(v.problems.iter().any(|p| p.seq == 8), "{:?}", v.problems);
}

#[tokio::test]
async fn audit_tampering_is_detected_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    tamper_checks(&w).await;
}

#[tokio::test]
async fn audit_tampering_is_detected_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    tamper_checks(&w).await;
    w.db.close().await;
    pg.drop_db().await;
}

/// Rewrites the chain from entry `from` on as someone who can write the table but has no
/// audit key would: each entry's hash recomputed with the unkeyed SHA-256 chain.
async fn recompute_unkeyed(w: &Workspace, from: u64) {
    let entries =
        w.db.audit_entries(&paydesk_store::AuditFilter::default(), 100_000, 0)
            .await
            .expect("entries");
    let mut prev = paydesk_store::audit::GENESIS_HASH.to_string();
    for e in entries {
        if e.seq >= from {
            let hash = paydesk_store::audit::ChainedFields {
                prev_hash: &prev,
                seq: e.seq,
                at_ms: e.at.timestamp_millis(),
                actor: &e.actor,
                action: &e.action,
                target: &e.target,
                outcome: &e.outcome,
                details: &e.details,
            }
            .unkeyed_hash();
            sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(&prev)
                .bind(&hash)
                .bind(e.seq as i64)
                .execute(w.db.pool())
                .await
                .expect("rewrite");
            prev = hash;
        } else {
            prev = e.hash;
        }
    }
}

async fn keyed_chain_checks(w: &Workspace) {
    use paydesk_service::context::audit::{self as audit_svc, HeadCheck};
    let admin = auth::login(&w.db, "admin", "orchid-harbor-2026", Utc::now())
        .await
        .expect("admin")
        .actor;
    // The log was keyed when the workspace was created: its first entry starts the key.
    let first = &w
        .db
        .audit_entries(&Default::default(), 1, 0)
        .await
        .expect("entries")[0];
    assert_eq!(first.action, "audit.key");
    assert!(first.details.contains(&w.db.audit_key_id().expect("keyed")));

    // A recorded head: found while nothing is removed, with what came after it.
    let h = audit_svc::head(w, &admin).await.expect("head");
    let (v, check) = audit_svc::verify_with_head(w, &admin, Some(&h.hash))
        .await
        .expect("verify");
    assert!(v.intact(), "{:?}", v.problems);
    assert_eq!(check, Some(HeadCheck::Current { seq: h.seq }));
    for i in 0..2 {
        let _ = auth::login(&w.db, "finance", &format!("wrong-pass-{i}x"), Utc::now()).await;
    }
    // Upper-case and surrounding space are the same hash.
    let (v, check) =
        audit_svc::verify_with_head(w, &admin, Some(&format!(" {} ", h.hash.to_uppercase())))
            .await
            .expect("verify");
    assert!(v.intact());
    assert_eq!(
        check,
        Some(HeadCheck::Found {
            seq: h.seq,
            appended: 3, // the audit.verify entry and two failed logins
            head_seq: h.seq + 3
        })
    );
    assert!(audit_svc::verify_with_head(w, &admin, Some("abc"))
        .await
        .is_err_and(|e| e.to_string().contains("64 hex digits")));

    // The newest entries removed: the rest of the chain is intact, but the head is gone.
    sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
        .bind(h.seq as i64 - 1)
        .execute(w.db.pool())
        .await
        .expect("delete");
    let (v, check) = audit_svc::verify_with_head(w, &admin, Some(&h.hash))
        .await
        .expect("verify");
    assert!(
        v.intact(),
        "a truncated chain is still a chain: {:?}",
        v.problems
    );
    assert!(
        matches!(check, Some(HeadCheck::Missing { head_seq, .. }) if head_seq == h.seq - 2),
        "{check:?}"
    );

    // An entry edited and the chain after it recomputed without the key: detected.
    for i in 0..3 {
        let _ = auth::login(&w.db, "finance", &format!("wrong-pass-{i}y"), Utc::now()).await;
    }
    assert!(w.db.audit_verify().await.expect("verify").intact());
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
        .execute(w.db.pool())
        .await
        .expect("edit");
    recompute_unkeyed(w, 4).await;
    let v = w.db.audit_verify().await.expect("verify");
    assert!(
        v.problems
            .iter()
            .any(|p| p.seq == 4 && p.reason.contains("unkeyed although the log is keyed")),
        "{:?}",
        v.problems
    );
    // ... and the whole chain recomputed without the key, key entry included: detected.
    recompute_unkeyed(w, 1).await;
    let v = w.db.audit_verify().await.expect("verify");
    assert!(!v.intact());
    assert!(
        v.problems.iter().any(|p| p
            .reason
            .contains("no entry is keyed with this workspace's audit key")),
        "{:?}",
        v.problems
    );
    // Writers refuse to extend a log whose keyed part is gone.
    let err = auth::login(&w.db, "finance", "ledger-maple-2026", Utc::now())
        .await
        .expect_err("no unkeyed appends");
    assert!(err.to_string().contains("audit log"), "{err}");
}

#[tokio::test]
async fn keyed_audit_chain_and_recorded_head_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), None).await;
    keyed_chain_checks(&w).await;
}

#[tokio::test]
async fn keyed_audit_chain_and_recorded_head_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let w = demo_workspace(&tmp.path().join("ws"), Some(&pg.url)).await;
    keyed_chain_checks(&w).await;
    w.db.close().await;
    pg.drop_db().await;
}

/// A log written before keying (unkeyed entries) is keyed by the next workspace that opens
/// it and still verifies; a second workspace on the same database needs the same key file.
async fn legacy_log_and_shared_key(url: &str, tmp: &Path) {
    let legacy = paydesk_store::AppDb::open(url).await.expect("db");
    for i in 0..3 {
        legacy
            .audit_append(&paydesk_store::NewAuditEntry {
                actor: "old".into(),
                action: "login".into(),
                target: format!("user old{i}"),
                outcome: "ok".into(),
                details: serde_json::json!({}),
            })
            .await
            .expect("legacy append");
    }
    let ws = tmp.join("ws");
    std::fs::create_dir_all(&ws).expect("dir");
    std::fs::write(
        ws.join("paydesk.toml"),
        paydesk_testkit::workspace::with_database(&workspace::template_config(true), url),
    )
    .expect("config");
    let w = workspace::init(&ws, true).await.expect("init keys the log");
    auth::ensure_demo_users(&w.db).await.expect("users");
    let v = w.db.audit_verify().await.expect("verify");
    assert!(v.intact(), "{:?}", v.problems);
    let start = w.db.audit_key_start().await.expect("start").expect("keyed");
    assert_eq!(start.0, 4, "the key starts after the three unkeyed entries");
    // The unkeyed handle may no longer append.
    assert!(legacy
        .audit_append(&paydesk_store::NewAuditEntry {
            actor: "old".into(),
            action: "login".into(),
            target: "user old".into(),
            outcome: "ok".into(),
            details: serde_json::json!({}),
        })
        .await
        .is_err_and(|e| e.to_string().contains("keyed")));
    legacy.close().await;

    // A second machine's workspace on the same database: refused without the key file...
    let ws2 = tmp.join("ws2");
    std::fs::create_dir_all(&ws2).expect("dir");
    let mirror = format!("url = \"sqlite://{}\"", ws.join("orders.db").display());
    std::fs::write(
        ws2.join("paydesk.toml"),
        paydesk_testkit::workspace::with_database(&workspace::template_config(true), url)
            .replace("url = \"sqlite://orders.db\"", &mirror),
    )
    .expect("config");
    let err = Workspace::open(&ws2).await.err().expect("no key file");
    assert!(
        err.to_string().contains("audit.key") && err.to_string().contains("copy"),
        "{err}"
    );
    // ... and works with a copy of it.
    std::fs::copy(ws.join("audit.key"), ws2.join("audit.key")).expect("copy key");
    let w2 = Workspace::open(&ws2).await.expect("open with the key");
    auth::login(&w2.db, "admin", "orchid-harbor-2026", Utc::now())
        .await
        .expect("login from the second machine");
    assert!(w.db.audit_verify().await.expect("verify").intact());
    w2.db.close().await;
    w.db.close().await;
}

#[tokio::test]
async fn legacy_log_is_keyed_and_the_key_is_shared_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = format!("sqlite://{}", tmp.path().join("shared.db").display());
    legacy_log_and_shared_key(&url, tmp.path()).await;
}

#[tokio::test]
async fn legacy_log_is_keyed_and_the_key_is_shared_on_postgres() {
    let Some(pg) = PgDb::create("paydesk_auth").await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    legacy_log_and_shared_key(&pg.url, tmp.path()).await;
    pg.drop_db().await;
}
