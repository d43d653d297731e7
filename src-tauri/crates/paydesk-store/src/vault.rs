//! Encrypted credentials and their versions (the key vault's storage).
//!
//! This module stores opaque strings produced by `paydesk-vault` (wrapped data keys, sealed
//! payloads, public info JSON); it never sees plaintext key material. State changes that
//! must be atomic (activation retiring the previous version, master key rotation re-wrapping
//! every data key together with the new key check value) are single transactions.

use crate::codec::{ms, RowReader};
use crate::db::AppDb;
use crate::error::{DbContext, Result, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The vault header (singleton row). No secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultMeta {
    /// `paydesk_vault::MasterSpec` as JSON (KDF and parameters, or key file).
    pub master_spec: String,
    /// Key check value of the master key.
    pub key_check: String,
    /// Incremented by every master key rotation.
    pub generation: i64,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultCredential {
    pub id: i64,
    /// Random id bound into the ciphertexts' AAD.
    pub uid: String,
    pub account: String,
    pub purpose: String,
    /// The data key wrapped by the master key (`v1.<base64>`).
    pub wrapped_key: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultVersion {
    pub id: i64,
    pub credential_id: i64,
    pub version: i64,
    /// "pending", "active", "retired".
    pub state: String,
    /// Public info JSON (bound into the ciphertext's AAD).
    pub info: String,
    pub ciphertext: String,
    /// "import", "generate", "download".
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub activated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub usable_until: Option<DateTime<Utc>>,
    pub tested_at: Option<DateTime<Utc>>,
    pub test_outcome: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewVaultVersion {
    pub version: i64,
    pub state: String,
    pub info: String,
    pub ciphertext: String,
    pub source: String,
    pub created_by: String,
    pub at: DateTime<Utc>,
}

const VERSION_COLUMNS: &str =
    "id, credential_id, version, state, info, ciphertext, source, created_at, \
    created_by, activated_at, retired_at, usable_until, tested_at, test_outcome";
const CREDENTIAL_COLUMNS: &str = "id, uid, account, purpose, wrapped_key, created_at, created_by";

fn read_meta(row: &sqlx::any::AnyRow) -> Result<VaultMeta> {
    let r = RowReader::new(row, "vault_meta", "1");
    Ok(VaultMeta {
        master_spec: r.text("master_spec")?,
        key_check: r.text("key_check")?,
        generation: r.i64("generation")?,
        created_at: r.time("created_at")?,
        rotated_at: r.opt_time("rotated_at")?,
    })
}

fn read_credential(row: &sqlx::any::AnyRow) -> Result<VaultCredential> {
    let r = RowReader::new(row, "vault_credentials", "?");
    let id = r.i64("id")?;
    let r = RowReader::new(row, "vault_credentials", id.to_string());
    Ok(VaultCredential {
        id,
        uid: r.text("uid")?,
        account: r.text("account")?,
        purpose: r.text("purpose")?,
        wrapped_key: r.text("wrapped_key")?,
        created_at: r.time("created_at")?,
        created_by: r.text("created_by")?,
    })
}

fn read_version(row: &sqlx::any::AnyRow) -> Result<VaultVersion> {
    let r = RowReader::new(row, "vault_versions", "?");
    let id = r.i64("id")?;
    let r = RowReader::new(row, "vault_versions", id.to_string());
    Ok(VaultVersion {
        id,
        credential_id: r.i64("credential_id")?,
        version: r.i64("version")?,
        state: r.text("state")?,
        info: r.text("info")?,
        ciphertext: r.text("ciphertext")?,
        source: r.text("source")?,
        created_at: r.time("created_at")?,
        created_by: r.text("created_by")?,
        activated_at: r.opt_time("activated_at")?,
        retired_at: r.opt_time("retired_at")?,
        usable_until: r.opt_time("usable_until")?,
        tested_at: r.opt_time("tested_at")?,
        test_outcome: r.opt_text("test_outcome")?,
    })
}

fn conflict(what: String, reason: &str) -> StoreError {
    StoreError::Invalid {
        what,
        reason: reason.into(),
    }
}

impl AppDb {
    /// The vault header, or `None` when no vault was created in this database.
    pub async fn vault_meta(&self) -> Result<Option<VaultMeta>> {
        let row = sqlx::query(
            "SELECT master_spec, key_check, generation, created_at, rotated_at FROM vault_meta WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await
        .ctx("read", "the vault header")?;
        row.as_ref().map(read_meta).transpose()
    }

    /// Creates the vault header; refuses if a vault exists.
    pub async fn vault_create(
        &self,
        master_spec: &str,
        key_check: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write("create", "the vault").await?;
        let exists = sqlx::query("SELECT id FROM vault_meta WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await
            .ctx("create", "the vault")?;
        if exists.is_some() {
            return Err(conflict(
                "vault".into(),
                "this workspace already has a vault; use `paydesk vault rotate-master` to change its master key",
            ));
        }
        sqlx::query(
            "INSERT INTO vault_meta (id, master_spec, key_check, generation, created_at) VALUES (1, $1, $2, 1, $3)",
        )
        .bind(master_spec)
        .bind(key_check)
        .bind(ms(at))
        .execute(&mut *tx)
        .await
        .ctx("create", "the vault")?;
        tx.commit().await.ctx("create", "the vault")
    }

    /// Master key rotation: the new header and every re-wrapped data key in ONE transaction.
    /// `rewrapped` must cover every credential; the header's generation must still be
    /// `expected_generation` (another console did not rotate meanwhile).
    pub async fn vault_rotate_master(
        &self,
        expected_generation: i64,
        master_spec: &str,
        key_check: &str,
        rewrapped: &[(i64, String)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let op = "rotate the master key of";
        let mut tx = self.begin_write(op, "the vault").await?;
        let changed = sqlx::query(
            "UPDATE vault_meta SET master_spec = $1, key_check = $2, generation = generation + 1, rotated_at = $3 \
             WHERE id = 1 AND generation = $4",
        )
        .bind(master_spec)
        .bind(key_check)
        .bind(ms(at))
        .bind(expected_generation)
        .execute(&mut *tx)
        .await
        .ctx(op, "the vault")?
        .rows_affected();
        if changed != 1 {
            return Err(conflict(
                "vault master key".into(),
                "it was changed by someone else meanwhile; nothing was changed, run the rotation again",
            ));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM vault_credentials")
            .fetch_one(&mut *tx)
            .await
            .ctx(op, "the vault")?;
        let total = RowReader::new(&row, "vault_credentials", "count").u64("n")?;
        if total != rewrapped.len() as u64 {
            return Err(conflict(
                "vault master key".into(),
                "credentials were added meanwhile; nothing was changed, run the rotation again",
            ));
        }
        for (id, wrapped) in rewrapped {
            let n = sqlx::query("UPDATE vault_credentials SET wrapped_key = $1 WHERE id = $2")
                .bind(wrapped)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx(op, format!("credential {id}"))?
                .rows_affected();
            if n != 1 {
                return Err(conflict(
                    format!("credential {id}"),
                    "it disappeared during the rotation; nothing was changed",
                ));
            }
        }
        tx.commit().await.ctx(op, "the vault")
    }

    /// Replaces a credential's wrapped data key if it still is `old` (a re-wrap of the same
    /// data key under the same master key); false when the row changed meanwhile.
    pub async fn vault_replace_wrapped_key(&self, id: i64, old: &str, new: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE vault_credentials SET wrapped_key = $1 WHERE id = $2 AND wrapped_key = $3",
        )
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(self.pool())
        .await
        .ctx("re-wrap the data key of", format!("credential {id}"))?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn vault_credentials(&self) -> Result<Vec<VaultCredential>> {
        let rows = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM vault_credentials ORDER BY account, purpose"
        ))
        .fetch_all(self.pool())
        .await
        .ctx("list", "vault credentials")?;
        rows.iter().map(read_credential).collect()
    }

    pub async fn vault_credential(
        &self,
        account: &str,
        purpose: &str,
    ) -> Result<Option<VaultCredential>> {
        let row = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM vault_credentials WHERE account = $1 AND purpose = $2"
        ))
        .bind(account)
        .bind(purpose)
        .fetch_optional(self.pool())
        .await
        .ctx("read credential", format!("{account} {purpose}"))?;
        row.as_ref().map(read_credential).transpose()
    }

    /// Creates a credential with its wrapped data key; returns the existing one if another
    /// console created it meanwhile (the caller then uses that one's data key).
    pub async fn vault_create_credential(
        &self,
        uid: &str,
        account: &str,
        purpose: &str,
        wrapped_key: &str,
        created_by: &str,
        at: DateTime<Utc>,
    ) -> Result<VaultCredential> {
        let object = format!("{account} {purpose}");
        let mut tx = self.begin_write("create credential", &object).await?;
        let existing =
            sqlx::query("SELECT id FROM vault_credentials WHERE account = $1 AND purpose = $2")
                .bind(account)
                .bind(purpose)
                .fetch_optional(&mut *tx)
                .await
                .ctx("create credential", &object)?;
        if existing.is_none() {
            sqlx::query(
                "INSERT INTO vault_credentials (uid, account, purpose, wrapped_key, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(uid)
            .bind(account)
            .bind(purpose)
            .bind(wrapped_key)
            .bind(ms(at))
            .bind(created_by)
            .execute(&mut *tx)
            .await
            .ctx("create credential", &object)?;
        }
        tx.commit().await.ctx("create credential", &object)?;
        self.vault_credential(account, purpose)
            .await?
            .ok_or(StoreError::NotFound {
                what: "vault credential",
                id: object,
            })
    }

    pub async fn vault_versions(&self, credential_id: i64) -> Result<Vec<VaultVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM vault_versions WHERE credential_id = $1 ORDER BY version"
        ))
        .bind(credential_id)
        .fetch_all(self.pool())
        .await
        .ctx("list versions of credential", credential_id)?;
        rows.iter().map(read_version).collect()
    }

    /// The next version number of a credential.
    pub async fn vault_next_version(&self, credential_id: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS v FROM vault_versions WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_one(self.pool())
        .await
        .ctx("number versions of credential", credential_id)?;
        Ok(RowReader::new(&row, "vault_versions", credential_id.to_string()).i64("v")? + 1)
    }

    /// Adds a version (its number was bound into the ciphertext by the caller). A concurrent
    /// add of the same number fails on the unique key: the caller retries with a new number.
    pub async fn vault_add_version(
        &self,
        credential_id: i64,
        v: &NewVaultVersion,
    ) -> Result<VaultVersion> {
        let object = format!("credential {credential_id} version {}", v.version);
        let mut tx = self.begin_write("add key version", &object).await?;
        let taken =
            sqlx::query("SELECT id FROM vault_versions WHERE credential_id = $1 AND version = $2")
                .bind(credential_id)
                .bind(v.version)
                .fetch_optional(&mut *tx)
                .await
                .ctx("add key version", &object)?;
        if taken.is_some() {
            return Err(conflict(
                object,
                "this version number was taken meanwhile; try again",
            ));
        }
        sqlx::query(
            "INSERT INTO vault_versions (credential_id, version, state, info, ciphertext, source, created_at, created_by, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(credential_id)
        .bind(v.version)
        .bind(&v.state)
        .bind(&v.info)
        .bind(&v.ciphertext)
        .bind(&v.source)
        .bind(ms(v.at))
        .bind(&v.created_by)
        .bind(if v.state == "active" { Some(ms(v.at)) } else { None })
        .execute(&mut *tx)
        .await
        .ctx("add key version", &object)?;
        tx.commit().await.ctx("add key version", &object)?;
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM vault_versions WHERE credential_id = $1 AND version = $2"
        ))
        .bind(credential_id)
        .bind(v.version)
        .fetch_one(self.pool())
        .await
        .ctx("read key version", &object)?;
        read_version(&row)
    }

    /// Activates a pending version. With `retire_others`, the currently active version(s)
    /// are retired in the same transaction with `usable_until` as their grace end.
    pub async fn vault_activate(
        &self,
        credential_id: i64,
        version: i64,
        retire_others: bool,
        usable_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let object = format!("credential {credential_id} version {version}");
        let mut tx = self.begin_write("activate key version", &object).await?;
        if retire_others {
            sqlx::query(
                "UPDATE vault_versions SET state = 'retired', retired_at = $1, usable_until = $2 \
                 WHERE credential_id = $3 AND state = 'active' AND version <> $4",
            )
            .bind(ms(at))
            .bind(usable_until.map(ms))
            .bind(credential_id)
            .bind(version)
            .execute(&mut *tx)
            .await
            .ctx("activate key version", &object)?;
        }
        let n = sqlx::query(
            "UPDATE vault_versions SET state = 'active', activated_at = $1 \
             WHERE credential_id = $2 AND version = $3 AND state = 'pending'",
        )
        .bind(ms(at))
        .bind(credential_id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .ctx("activate key version", &object)?
        .rows_affected();
        if n != 1 {
            return Err(conflict(
                object,
                "it is not pending (only a pending version can be activated)",
            ));
        }
        tx.commit().await.ctx("activate key version", &object)
    }

    /// Retires a pending or active version; `usable_until` is its grace end.
    pub async fn vault_retire(
        &self,
        credential_id: i64,
        version: i64,
        usable_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let object = format!("credential {credential_id} version {version}");
        let mut tx = self.begin_write("retire key version", &object).await?;
        let n = sqlx::query(
            "UPDATE vault_versions SET state = 'retired', retired_at = $1, usable_until = $2 \
             WHERE credential_id = $3 AND version = $4 AND state IN ('pending', 'active')",
        )
        .bind(ms(at))
        .bind(usable_until.map(ms))
        .bind(credential_id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .ctx("retire key version", &object)?
        .rows_affected();
        if n != 1 {
            return Err(conflict(object, "it is already retired"));
        }
        tx.commit().await.ctx("retire key version", &object)
    }

    /// Records the result of testing a version against the provider.
    pub async fn vault_record_test(
        &self,
        version_id: i64,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE vault_versions SET tested_at = $1, test_outcome = $2 WHERE id = $3")
            .bind(ms(at))
            .bind(outcome)
            .bind(version_id)
            .execute(self.pool())
            .await
            .ctx("record key test of version", version_id)?;
        Ok(())
    }

    /// Records a certificate download for `account`: success (`error` None) or the error.
    pub async fn vault_record_refresh(
        &self,
        account: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let ok_at = if error.is_none() { Some(ms(at)) } else { None };
        sqlx::query(
            "INSERT INTO vault_refresh (account, last_attempt_at, last_ok_at, last_error) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, \
             last_ok_at = COALESCE(excluded.last_ok_at, vault_refresh.last_ok_at), \
             last_error = excluded.last_error",
        )
        .bind(account)
        .bind(ms(at))
        .bind(ok_at)
        .bind(error)
        .execute(self.pool())
        .await
        .ctx("record certificate refresh of account", account)?;
        Ok(())
    }

    /// The last certificate download of `account`, if any.
    pub async fn vault_refresh_state(&self, account: &str) -> Result<Option<VaultRefresh>> {
        let row = sqlx::query(
            "SELECT account, last_attempt_at, last_ok_at, last_error FROM vault_refresh \
             WHERE account = $1",
        )
        .bind(account)
        .fetch_optional(self.pool())
        .await
        .ctx("read certificate refresh of account", account)?;
        row.map(|row| {
            let r = RowReader::new(&row, "vault_refresh", account);
            Ok(VaultRefresh {
                account: r.text("account")?,
                last_attempt_at: r.time("last_attempt_at")?,
                last_ok_at: r.opt_time("last_ok_at")?,
                last_error: r.opt_text("last_error")?,
            })
        })
        .transpose()
    }
}

/// When an account's provider certificates were last downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VaultRefresh {
    pub account: String,
    pub last_attempt_at: DateTime<Utc>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}
