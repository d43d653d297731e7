//! Accounts, logins and the audit trail of who did what.
//!
//! Passwords are hashed with Argon2id; session tokens are random and stored only as their
//! SHA-256. Every state-changing operation here and in the other services appends an audit
//! entry with the acting user.

use crate::ServiceError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use paydesk_core::{Actor, Permission, Role};
use paydesk_store::{AppDb, LoginAttempt, NewAuditEntry, NewUser, UserRecord};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Consecutive failed logins before an account is locked.
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub fn lock_duration() -> Duration {
    Duration::minutes(15)
}
/// Sessions end after this much inactivity unless configured otherwise.
pub fn default_session_idle() -> Duration {
    Duration::minutes(30)
}

/// A logged-in user: the actor and the session token (secret: never printed).
pub struct Session {
    pub actor: Actor,
    pub token: SecretString,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("actor", &self.actor)
            .field("token", &"***")
            .finish()
    }
}

/// Password rules: at least 10 characters, a letter and a digit, not the username.
pub fn check_password_rules(username: &str, password: &str) -> Result<(), ServiceError> {
    let bad = |why: &str| Err(ServiceError::BadInput(format!("password rejected: {why}")));
    if password.chars().count() < 10 {
        return bad("it must be at least 10 characters long");
    }
    if password.chars().count() > 256 {
        return bad("it must be at most 256 characters long");
    }
    if !password.chars().any(|c| c.is_alphabetic()) || !password.chars().any(|c| c.is_ascii_digit())
    {
        return bad("it must contain at least one letter and one digit");
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return bad("it must not contain the username");
    }
    Ok(())
}

fn check_username(username: &str) -> Result<(), ServiceError> {
    let ok = (2..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::BadInput(format!(
            "username {username:?} must be 2 to 64 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Io(format!("cannot hash the password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn actor_of(user: &UserRecord) -> Actor {
    Actor::new(user.username.clone(), user.roles.iter().copied())
}

/// Appends an audit entry. A failure to audit is an error: an unaudited change must not
/// look like a successful one.
pub async fn audit(
    db: &AppDb,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    db.audit_append(&NewAuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        outcome: outcome.to_string(),
        details,
    })
    .await?;
    Ok(())
}

/// Checks a permission; a refusal is audited and returned as an error naming the permission.
pub async fn require(
    db: &AppDb,
    actor: &Actor,
    permission: Permission,
    target: &str,
) -> Result<(), ServiceError> {
    match actor.require(permission) {
        Ok(()) => Ok(()),
        Err(denied) => {
            audit(
                db,
                &actor.username,
                permission.as_str(),
                target,
                "denied",
                json!({ "reason": denied.to_string() }),
            )
            .await?;
            Err(ServiceError::Denied(denied))
        }
    }
}

/// Why a login failed. Every failure gives this same answer: an unknown user, a wrong
/// password, a disabled user with a wrong password and a locked account (whatever password
/// was typed: a locked account's password is not checked at all, so the answer cannot tell a
/// right one from a wrong one), so that usernames and account states cannot be probed. It
/// names the lock, so that a person who knows their password is right knows why.
pub const BAD_CREDENTIALS: &str =
    "wrong username or password (5 failed logins lock an account for 15 minutes)";

/// A PHC string with the parameters of [`hash_password`], checked against when the user is
/// unknown or locked, so that every login costs one Argon2 verification.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // Hashing a constant with a fresh salt cannot fail; were it to, the empty string would
    // only make these answers faster, never let anyone in.
    DUMMY.get_or_init(|| hash_password("paydesk dummy password 0").unwrap_or_default())
}

/// Verifies off the async threads (Argon2 takes tens of milliseconds of CPU).
async fn verify_password_blocking(password: &str, hash: &str) -> bool {
    let password = zeroize::Zeroizing::new(password.to_string());
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// How long a login waits for a slot while the limit is filled by attempts still being
/// checked (parallel logins of one user, e.g. cron jobs); then the account is locked.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Logs a user in. Each attempt is first counted in the database ([`AppDb::reserve_login_attempt`],
/// one atomic statement) and only then is the password checked, so parallel attempts cannot
/// check more than [`LOCK_AFTER_FAILURES`] passwords before the account locks; an attempt
/// that finds the limit filled by attempts in flight waits for them.
pub async fn login(
    db: &AppDb,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Session, ServiceError> {
    let target = format!("user {username}");
    let failed = |reason: &'static str| async move {
        audit(
            db,
            username,
            "login",
            &format!("user {username}"),
            "failed",
            json!({ "reason": reason }),
        )
        .await?;
        Err::<Session, _>(ServiceError::Unauthenticated(BAD_CREDENTIALS.into()))
    };
    let waiting_since = std::time::Instant::now();
    let attempt = loop {
        match db
            .reserve_login_attempt(username, LOCK_AFTER_FAILURES, now)
            .await?
        {
            LoginAttempt::Busy(_) if waiting_since.elapsed() < BUSY_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            LoginAttempt::Busy(user) => {
                db.record_login_failure(username, LOCK_AFTER_FAILURES, now + lock_duration())
                    .await?;
                break LoginAttempt::Locked(user);
            }
            attempt => break attempt,
        }
    };
    let (user, hash) = match attempt {
        LoginAttempt::UnknownUser => {
            verify_password_blocking(password, dummy_hash()).await;
            return failed("unknown user").await;
        }
        LoginAttempt::Locked(_) | LoginAttempt::Busy(_) => {
            verify_password_blocking(password, dummy_hash()).await;
            return failed("locked").await;
        }
        LoginAttempt::Granted { user, hash } => (user, hash),
    };
    if !verify_password_blocking(password, &hash).await {
        db.record_login_failure(username, LOCK_AFTER_FAILURES, now + lock_duration())
            .await?;
        return failed(if user.disabled {
            "wrong password (user disabled)"
        } else {
            "wrong password"
        })
        .await;
    }
    if user.disabled {
        // The right password: the person may be told why they cannot log in.
        db.record_login_failure(username, LOCK_AFTER_FAILURES, now + lock_duration())
            .await?;
        audit(
            db,
            username,
            "login",
            &target,
            "failed",
            json!({"reason": "disabled"}),
        )
        .await?;
        return Err(ServiceError::Unauthenticated(format!(
            "user {username} is disabled; ask an admin"
        )));
    }
    db.record_login_success(username).await?;
    let token = {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    db.create_session(&token_hash(&token), username, now)
        .await?;
    audit(db, username, "login", &target, "ok", json!({})).await?;
    Ok(Session {
        actor: actor_of(&user),
        token: SecretString::from(token),
    })
}

/// The actor behind a session token, if the session is live and the user still enabled.
pub async fn authenticate(
    db: &AppDb,
    token: &SecretString,
    idle: Duration,
    now: DateTime<Utc>,
) -> Result<Actor, ServiceError> {
    let expired = || ServiceError::Unauthenticated("your session has ended; log in again".into());
    let username = db
        .touch_session(&token_hash(token.expose_secret()), idle, now)
        .await?
        .ok_or_else(expired)?;
    let user = db.user(&username).await?.ok_or_else(expired)?;
    if user.disabled {
        return Err(expired());
    }
    Ok(actor_of(&user))
}

pub async fn logout(db: &AppDb, token: &SecretString) -> Result<(), ServiceError> {
    db.revoke_session(&token_hash(token.expose_secret()))
        .await?;
    Ok(())
}

/// Creates the first admin of a workspace. Refused once any user exists.
pub async fn bootstrap_admin(
    db: &AppDb,
    username: &str,
    password: &str,
) -> Result<UserRecord, ServiceError> {
    if db.user_count().await? > 0 {
        return Err(ServiceError::BadInput(
            "the workspace already has users; an admin creates further users".into(),
        ));
    }
    let user = insert_user(
        db,
        username,
        username,
        password,
        [Role::Admin].into_iter().collect(),
    )
    .await?;
    audit(
        db,
        "system",
        "user.create",
        &format!("user {username}"),
        "ok",
        json!({"roles": ["admin"], "bootstrap": true}),
    )
    .await?;
    Ok(user)
}

async fn insert_user(
    db: &AppDb,
    username: &str,
    display_name: &str,
    password: &str,
    roles: BTreeSet<Role>,
) -> Result<UserRecord, ServiceError> {
    check_username(username)?;
    check_password_rules(username, password)?;
    if display_name.trim().is_empty() || display_name.chars().count() > 100 {
        return Err(ServiceError::BadInput(
            "display name must be 1 to 100 characters".into(),
        ));
    }
    Ok(db
        .create_user(&NewUser {
            username: username.to_string(),
            display_name: display_name.trim().to_string(),
            roles,
            password_hash: hash_password(password)?,
        })
        .await?)
}

pub async fn create_user(
    db: &AppDb,
    actor: &Actor,
    username: &str,
    display_name: &str,
    password: &str,
    roles: BTreeSet<Role>,
) -> Result<UserRecord, ServiceError> {
    require(
        db,
        actor,
        Permission::UserManage,
        &format!("user {username}"),
    )
    .await?;
    let user = insert_user(db, username, display_name, password, roles.clone()).await?;
    audit(
        db,
        &actor.username,
        "user.create",
        &format!("user {username}"),
        "ok",
        json!({"roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()}),
    )
    .await?;
    Ok(user)
}

pub async fn set_roles(
    db: &AppDb,
    actor: &Actor,
    username: &str,
    roles: BTreeSet<Role>,
) -> Result<UserRecord, ServiceError> {
    require(
        db,
        actor,
        Permission::UserManage,
        &format!("user {username}"),
    )
    .await?;
    if username == actor.username
        && !roles.contains(&Role::Admin)
        && actor.roles.contains(&Role::Admin)
    {
        return Err(ServiceError::BadInput(
            "you cannot remove your own admin role; ask another admin".into(),
        ));
    }
    let before = db.user(username).await?;
    let user = db.set_user_roles(username, &roles).await?;
    audit(
        db,
        &actor.username,
        "user.roles",
        &format!("user {username}"),
        "ok",
        json!({
            "before": before.map(|u| u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
            "after": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(user)
}

/// Disabling a user ends their sessions at once.
pub async fn set_disabled(
    db: &AppDb,
    actor: &Actor,
    username: &str,
    disabled: bool,
) -> Result<UserRecord, ServiceError> {
    require(
        db,
        actor,
        Permission::UserManage,
        &format!("user {username}"),
    )
    .await?;
    if username == actor.username && disabled {
        return Err(ServiceError::BadInput("you cannot disable yourself".into()));
    }
    let user = db.set_user_disabled(username, disabled).await?;
    audit(
        db,
        &actor.username,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        &format!("user {username}"),
        "ok",
        json!({}),
    )
    .await?;
    Ok(user)
}

pub async fn reset_password(
    db: &AppDb,
    actor: &Actor,
    username: &str,
    new_password: &str,
) -> Result<(), ServiceError> {
    if actor.username != username {
        require(
            db,
            actor,
            Permission::UserManage,
            &format!("user {username}"),
        )
        .await?;
    }
    check_password_rules(username, new_password)?;
    db.set_password_hash(username, &hash_password(new_password)?)
        .await?;
    audit(
        db,
        &actor.username,
        "user.password",
        &format!("user {username}"),
        "ok",
        json!({}),
    )
    .await?;
    Ok(())
}

/// Usernames of enabled users who may review discrepancies (the assignee picker).
pub async fn reviewers(db: &AppDb, actor: &Actor) -> Result<Vec<String>, ServiceError> {
    require(db, actor, Permission::DiscrepancyView, "users").await?;
    Ok(db
        .users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && actor_of(u).can(Permission::DiscrepancyReview))
        .map(|u| u.username)
        .collect())
}

pub async fn list_users(db: &AppDb, actor: &Actor) -> Result<Vec<UserRecord>, ServiceError> {
    require(db, actor, Permission::UserManage, "users").await?;
    Ok(db.users().await?)
}

/// The demo workspace's people (documented in the README).
pub const DEMO_USERS: [(&str, &str, &str, &[Role]); 4] = [
    (
        "admin",
        "Admin 管理员",
        "orchid-harbor-2026",
        &[Role::Admin],
    ),
    (
        "finance",
        "Li Na 李娜 (finance)",
        "ledger-maple-2026",
        &[Role::Finance],
    ),
    (
        "support",
        "Wang Wei 王伟 (support)",
        "helpdesk-river-2026",
        &[Role::Support],
    ),
    (
        "approver",
        "Zhang Min 张敏 (approver)",
        "signoff-cedar-2026",
        &[Role::Approver, Role::Support],
    ),
];

/// Creates the demo users when the workspace has none.
pub async fn ensure_demo_users(db: &AppDb) -> Result<(), ServiceError> {
    if db.user_count().await? > 0 {
        return Ok(());
    }
    for (username, display, password, roles) in DEMO_USERS {
        insert_user(
            db,
            username,
            display,
            password,
            roles.iter().copied().collect(),
        )
        .await?;
        audit(
            db,
            "system",
            "user.create",
            &format!("user {username}"),
            "ok",
            json!({"demo": true}),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert!(check_password_rules("li.na", "short1").is_err());
        assert!(check_password_rules("li.na", "longenoughbutnodigit").is_err());
        assert!(check_password_rules("li.na", "1234567890123").is_err());
        assert!(check_password_rules("li.na", "li.na-2026-secure").is_err());
        assert!(check_password_rules("li.na", "correct horse 42").is_ok());
    }

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse 42").expect("hash");
        let b = hash_password("correct horse 42").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse 42", &a));
        assert!(!verify_password("correct horse 43", &a));
        assert!(!verify_password("correct horse 42", "not a hash"));
    }

    #[test]
    fn the_login_answer_names_the_lock_rule() {
        assert!(BAD_CREDENTIALS.contains(&format!("{LOCK_AFTER_FAILURES} failed logins")));
        assert!(BAD_CREDENTIALS.contains(&format!("{} minutes", lock_duration().num_minutes())));
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("anything", dummy_hash()));
    }
}
