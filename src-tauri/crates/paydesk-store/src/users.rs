//! Local user accounts and login sessions. Passwords arrive here already hashed (Argon2id, in
//! the service); session tokens arrive as their SHA-256.

use crate::codec::{ms, now_ms, RowReader};
use crate::db::AppDb;
use crate::error::{DbContext, Result, StoreError};
use chrono::{DateTime, Utc};
use paydesk_core::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A user as shown to admins (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: BTreeSet<Role>,
    pub disabled: bool,
    pub failed_attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

/// The answer to [`AppDb::reserve_login_attempt`].
#[derive(Clone, PartialEq, Eq)]
pub enum LoginAttempt {
    /// An attempt was counted: check the password against `hash` (the user's Argon2id
    /// PHC string, never printed).
    Granted { user: UserRecord, hash: String },
    /// The account is locked: no password may be checked.
    Locked(UserRecord),
    /// Not locked, but earlier failures plus the attempts still being checked already fill
    /// the limit: no password may be checked until one of them ends (a success frees the
    /// slots, a failure at the limit locks the account).
    Busy(UserRecord),
    /// No such user.
    UnknownUser,
}

impl std::fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginAttempt::Granted { user, .. } => f
                .debug_struct("Granted")
                .field("user", user)
                .field("hash", &"***")
                .finish(),
            LoginAttempt::Locked(user) => f.debug_tuple("Locked").field(user).finish(),
            LoginAttempt::Busy(user) => f.debug_tuple("Busy").field(user).finish(),
            LoginAttempt::UnknownUser => f.write_str("UnknownUser"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub roles: BTreeSet<Role>,
    pub password_hash: String,
}

fn roles_text(roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

const USER_COLUMNS: &str = "id, username, display_name, roles, password_hash, disabled, \
    failed_attempts, locked_until, created_at, password_changed_at";

fn read_user(row: &sqlx::any::AnyRow) -> Result<(UserRecord, String)> {
    let r = RowReader::new(row, "users", "?");
    let username = r.text("username")?;
    let r = RowReader::new(row, "users", username.clone());
    let mut roles = BTreeSet::new();
    for word in r.text("roles")?.split(',').filter(|w| !w.is_empty()) {
        roles.insert(word.parse::<Role>().map_err(|e| StoreError::Corrupt {
            table: "users",
            key: username.clone(),
            column: "roles",
            reason: e,
        })?);
    }
    Ok((
        UserRecord {
            id: r.i64("id")?,
            username,
            display_name: r.text("display_name")?,
            roles,
            disabled: r.bool("disabled")?,
            failed_attempts: u32::try_from(r.i64("failed_attempts")?).unwrap_or(u32::MAX),
            locked_until: r.opt_time("locked_until")?,
            created_at: r.time("created_at")?,
            password_changed_at: r.time("password_changed_at")?,
        },
        r.text("password_hash")?,
    ))
}

impl AppDb {
    pub async fn user_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(self.pool())
            .await
            .ctx("count", "users")?;
        RowReader::new(&row, "users", "count").u64("n")
    }

    pub async fn create_user(&self, u: &NewUser) -> Result<UserRecord> {
        let now = now_ms();
        let mut tx = self.begin_write("create user", &u.username).await?;
        let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(&u.username)
            .fetch_optional(&mut *tx)
            .await
            .ctx("create user", &u.username)?;
        if exists.is_some() {
            return Err(StoreError::Invalid {
                what: format!("user {}", u.username),
                reason: "a user with this name already exists".into(),
            });
        }
        sqlx::query(
            "INSERT INTO users (username, display_name, roles, password_hash, disabled, failed_attempts, \
             created_at, updated_at, password_changed_at) VALUES ($1, $2, $3, $4, 0, 0, $5, $5, $5)",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(roles_text(&u.roles))
        .bind(&u.password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx("create user", &u.username)?;
        tx.commit().await.ctx("create user", &u.username)?;
        self.user(&u.username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                id: u.username.clone(),
            })
    }

    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        Ok(self.user_with_hash(username).await?.map(|(u, _)| u))
    }

    /// The user and their password hash, for login.
    pub async fn user_with_hash(&self, username: &str) -> Result<Option<(UserRecord, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await
        .ctx("read user", username)?;
        row.as_ref().map(read_user).transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await
        .ctx("list", "users")?;
        rows.iter().map(|r| read_user(r).map(|(u, _)| u)).collect()
    }

    pub async fn set_user_roles(
        &self,
        username: &str,
        roles: &BTreeSet<Role>,
    ) -> Result<UserRecord> {
        let done = sqlx::query("UPDATE users SET roles = $1, updated_at = $2 WHERE username = $3")
            .bind(roles_text(roles))
            .bind(now_ms())
            .bind(username)
            .execute(self.pool())
            .await
            .ctx("update user", username)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            });
        }
        self.user(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            })
    }

    /// Disabling a user also ends all their sessions, in the same transaction.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<UserRecord> {
        let mut tx = self.begin_write("update user", username).await?;
        let done =
            sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE username = $3")
                .bind(i64::from(disabled))
                .bind(now_ms())
                .bind(username)
                .execute(&mut *tx)
                .await
                .ctx("update user", username)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            });
        }
        if disabled {
            sqlx::query("UPDATE sessions SET revoked = 1 WHERE username = $1")
                .bind(username)
                .execute(&mut *tx)
                .await
                .ctx("end sessions of", username)?;
        }
        tx.commit().await.ctx("update user", username)?;
        self.user(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            })
    }

    pub async fn set_password_hash(&self, username: &str, hash: &str) -> Result<UserRecord> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2, \
             failed_attempts = 0, locked_until = NULL WHERE username = $3",
        )
        .bind(hash)
        .bind(now)
        .bind(username)
        .execute(self.pool())
        .await
        .ctx("set password of", username)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            });
        }
        self.user(username)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                id: username.to_string(),
            })
    }

    /// Counts a login attempt before its password is checked, in one atomic statement: the
    /// counter holds the failures since the last success plus the attempts still being
    /// checked, and an attempt is granted only while it stays within `lock_after`. So however
    /// many logins run in parallel, at most `lock_after` passwords are checked before the
    /// account locks; a failure that leaves the counter at the limit locks the account
    /// ([`AppDb::record_login_failure`]) and a success resets it
    /// ([`AppDb::record_login_success`]). An expired lock starts a new count. The account is
    /// never locked here: correct passwords checked in parallel must not lock anyone out.
    pub async fn reserve_login_attempt(
        &self,
        username: &str,
        lock_after: u32,
        now: DateTime<Utc>,
    ) -> Result<LoginAttempt> {
        let op = "reserve a login attempt of";
        let expired = "(locked_until IS NOT NULL AND locked_until <= $2)";
        let count = format!("(CASE WHEN {expired} THEN 1 ELSE failed_attempts + 1 END)");
        let row = sqlx::query(&format!(
            "UPDATE users SET failed_attempts = {count}, locked_until = NULL \
             WHERE username = $1 AND (locked_until IS NULL OR locked_until <= $2) \
             AND {count} <= $3 \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(username)
        .bind(ms(now))
        .bind(i64::from(lock_after.max(1)))
        .fetch_optional(self.pool())
        .await
        .ctx(op, username)?;
        if let Some(row) = row {
            let (user, hash) = read_user(&row)?;
            return Ok(LoginAttempt::Granted { user, hash });
        }
        Ok(match self.user(username).await? {
            Some(user) if user.locked_until.is_some_and(|t| t > now) => LoginAttempt::Locked(user),
            Some(user) => LoginAttempt::Busy(user),
            None => LoginAttempt::UnknownUser,
        })
    }

    /// A checked password was wrong: locks the account until `until` when its counter
    /// (failures and attempts in flight) is at `lock_after`. Also used when an attempt waited
    /// in vain for a slot (attempts of a process that died stay counted as failures).
    pub async fn record_login_failure(
        &self,
        username: &str,
        lock_after: u32,
        until: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE users SET locked_until = CAST($3 AS BIGINT) \
             WHERE username = $1 AND failed_attempts >= $2 AND locked_until IS NULL",
        )
        .bind(username)
        .bind(i64::from(lock_after.max(1)))
        .bind(ms(until))
        .execute(self.pool())
        .await
        .ctx("record a failed login of", username)?;
        Ok(())
    }

    pub async fn record_login_success(&self, username: &str) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = $1",
        )
        .bind(username)
        .execute(self.pool())
        .await
        .ctx("record login of", username)?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, username, created_at, last_seen_at, revoked) VALUES ($1, $2, $3, $3, 0)",
        )
        .bind(token_hash)
        .bind(username)
        .bind(ms(now))
        .execute(self.pool())
        .await
        .ctx("create session for", username)?;
        Ok(())
    }

    /// The session's user if it is live (not revoked, seen within `idle`); marks it seen.
    pub async fn touch_session(
        &self,
        token_hash: &str,
        idle: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT username, last_seen_at, revoked FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await
        .ctx("read", "session")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let r = RowReader::new(&row, "sessions", "?");
        let username = r.text("username")?;
        if r.bool("revoked")? || r.time("last_seen_at")? + idle < now {
            return Ok(None);
        }
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(ms(now))
            .bind(token_hash)
            .execute(self.pool())
            .await
            .ctx("touch", "session")?;
        Ok(Some(username))
    }

    pub async fn revoke_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await
            .ctx("end", "session")?;
        Ok(())
    }
}
