//! The audit log: append-only and hash-chained, keyed.
//!
//! Each entry's hash covers the previous entry's hash and every field of the entry, so an
//! edited, deleted or reordered entry breaks the chain at that point and [`AppDb::audit_verify`]
//! says where. A chain alone cannot reveal the removal of the newest entries; `verify` returns
//! the head hash so an auditor can record it and compare later ([`AppDb::audit_head`],
//! [`AppDb::audit_seq_of_hash`]).
//!
//! **Keyed chain.** An unkeyed hash chain can be recomputed by anyone who can write the
//! table, so an edit followed by a recomputation would verify. Entries are therefore
//! HMAC-SHA256'd with an [`AuditKey`] that is not in the database (the service keeps it in
//! the workspace's `audit.key` file). Logs written before keying keep their SHA-256
//! entries: the first keyed entry is the `audit.key` entry naming the key's id
//! ([`AppDb::audit_start_keyed`]); every entry after it must be keyed, so a chain recomputed
//! without the key fails verification, and with a key given a log without that start
//! entry fails too (its keyed part was removed or recomputed).

use crate::codec::{i64_of, ms, RowReader};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result, StoreError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The action of the entry that starts the keyed part of the chain.
pub const KEY_START_ACTION: &str = "audit.key";

/// The secret key of the audit chain's HMACs (32 bytes; never printed, never stored in the
/// database: only its [`AuditKey::id`] is).
pub struct AuditKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(id {})", self.id())
    }
}

impl AuditKey {
    pub fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        AuditKey(SecretBox::new(Box::new(bytes)))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.0.expose_secret()[..]) {
            Ok(m) => m,
            Err(_) => unreachable_hmac(),
        }
    }

    /// A public name of the key (16 hex digits of an HMAC of a fixed label): tells which key
    /// wrote a log without revealing it.
    pub fn id(&self) -> String {
        let mut m = self.mac();
        m.update(b"paydesk-audit/v1/key-id");
        hex::encode(&m.finalize().into_bytes()[..8])
    }
}

#[allow(clippy::panic)]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 rejected a 32-byte key")
}

/// The hash the first entry chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor: String,
    /// Dotted action name, e.g. "login", "login.failed", "reconcile.run", "refund.approve".
    pub action: String,
    /// What it was done to, e.g. "alipay-main 2026-11-22", "user li.na", "discrepancy 17".
    pub target: String,
    /// "ok", "denied", "failed".
    pub outcome: String,
    /// Relevant details (never secrets).
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    /// The details exactly as stored (JSON text), which is what the hash covers.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What to read: every `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Exact action, or a prefix ending in '.', e.g. "refund.".
    pub action: Option<String>,
    /// Substring of the target.
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditProblem {
    pub seq: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditVerification {
    pub entries: u64,
    pub head_seq: u64,
    pub head_hash: String,
    /// Empty when the chain is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditVerification {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The fields an entry's hash covers, fed length-prefixed so that moving text between fields
/// changes the hash.
pub struct ChainedFields<'a> {
    pub prev_hash: &'a str,
    pub seq: u64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    /// The details exactly as stored (JSON text).
    pub details: &'a str,
}

impl ChainedFields<'_> {
    fn feed(&self, mut update: impl FnMut(&[u8])) {
        for part in [
            self.prev_hash,
            &self.seq.to_string(),
            &self.at_ms.to_string(),
            self.actor,
            self.action,
            self.target,
            self.outcome,
            self.details,
        ] {
            update(&(part.len() as u64).to_be_bytes());
            update(part.as_bytes());
        }
    }

    /// The unkeyed entry hash (entries written before the log was keyed): SHA-256 over the
    /// previous hash and every field.
    pub fn unkeyed_hash(&self) -> String {
        let mut h = Sha256::new();
        self.feed(|b| h.update(b));
        hex::encode(h.finalize())
    }

    /// The keyed entry hash: HMAC-SHA256 with the audit key over the same fields.
    pub fn keyed_hash(&self, key: &AuditKey) -> String {
        let mut m = key.mac();
        self.feed(|b| m.update(b));
        hex::encode(m.finalize().into_bytes())
    }

    /// The hash an entry gets: keyed when the log has a key.
    pub fn hash(&self, key: Option<&AuditKey>) -> String {
        match key {
            Some(key) => self.keyed_hash(key),
            None => self.unkeyed_hash(),
        }
    }
}

impl AuditEntry {
    fn fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            prev_hash: &self.prev_hash,
            seq: self.seq,
            at_ms: ms(self.at),
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            outcome: &self.outcome,
            details: &self.details,
        }
    }

    fn unkeyed_hash(&self) -> String {
        self.fields().unkeyed_hash()
    }

    fn keyed_hash(&self, key: &AuditKey) -> String {
        self.fields().keyed_hash(key)
    }

    /// The key id named by a key start entry.
    fn started_key_id(&self) -> Option<String> {
        if self.action != KEY_START_ACTION {
            return None;
        }
        serde_json::from_str::<serde_json::Value>(&self.details)
            .ok()?
            .get("key_id")?
            .as_str()
            .map(str::to_string)
    }
}

/// Compares two hex digests in constant time.
fn same_digest(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

fn read_entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let r = RowReader::new(row, "audit_log", "?");
    let seq = r.u64("seq")?;
    let r = RowReader::new(row, "audit_log", seq.to_string());
    Ok(AuditEntry {
        seq,
        at: r.time("at")?,
        actor: r.text("actor")?,
        action: r.text("action")?,
        target: r.text("target")?,
        outcome: r.text("outcome")?,
        details: r.text("details")?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

const COLUMNS: &str = "seq, at, actor, action, target, outcome, details, prev_hash, hash";

/// The first `audit.key` entry, which starts the keyed part of the log.
async fn key_start_in(conn: &mut sqlx::AnyConnection) -> Result<Option<AuditEntry>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE action = $1 ORDER BY seq LIMIT 1"
    ))
    .bind(KEY_START_ACTION)
    .fetch_optional(&mut *conn)
    .await
    .ctx("read", "the audit log")?;
    row.as_ref().map(read_entry).transpose()
}

/// WHERE clause and parameters (texts are bound before times) for an audit filter.
fn audit_where(f: &AuditFilter) -> (String, Vec<String>, Vec<i64>) {
    let mut sql = String::from("WHERE 1 = 1");
    let mut texts: Vec<String> = Vec::new();
    let mut times: Vec<i64> = Vec::new();
    let mut n = 0;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if let Some(a) = &f.actor {
        next(&mut sql, " AND actor = ?");
        texts.push(a.clone());
    }
    if let Some(a) = &f.action {
        if a.ends_with('.') {
            next(&mut sql, " AND action LIKE ? ESCAPE '\\'");
            texts.push(format!("{}%", crate::codec::like_escape(a)));
        } else {
            next(&mut sql, " AND action = ?");
            texts.push(a.clone());
        }
    }
    if let Some(t) = &f.target {
        next(&mut sql, " AND target LIKE ? ESCAPE '\\'");
        texts.push(format!("%{}%", crate::codec::like_escape(t)));
    }
    if let Some(from) = f.from {
        next(&mut sql, " AND at >= ?");
        times.push(ms(from));
    }
    if let Some(until) = f.until {
        next(&mut sql, " AND at < ?");
        times.push(ms(until));
    }
    (sql, texts, times)
}

impl AppDb {
    /// Appends one entry. Appends are serialized (SQLite write lock; an exclusive table lock
    /// on PostgreSQL) so that two consoles cannot both chain to the same previous entry.
    /// With an audit key the entry is HMAC-keyed, and the log must have been keyed with that
    /// key ([`AppDb::audit_start_keyed`]); without one the log must never have been keyed.
    pub async fn audit_append(&self, e: &NewAuditEntry) -> Result<AuditEntry> {
        let op = "append to";
        let mut tx = self.begin_audit_write(op).await?;
        let started = key_start_in(&mut tx).await?;
        let invalid = |reason: String| StoreError::Invalid {
            what: "audit log".into(),
            reason,
        };
        match (self.audit_key.as_deref(), started) {
            (None, None) => {}
            (None, Some(start)) => {
                return Err(invalid(format!(
                    "it is keyed (from entry {}) and no audit key was given to append to it",
                    start.seq
                )))
            }
            (Some(key), None) => {
                return Err(invalid(format!(
                    "it has no entry starting audit key {}, which this workspace holds: its keyed entries were removed, or the workspace now uses another database (then move audit.key away so that a new key starts)",
                    key.id()
                )))
            }
            (Some(key), Some(start)) => {
                let id = start.started_key_id().unwrap_or_default();
                if id != key.id() {
                    return Err(invalid(format!(
                        "it is keyed with audit key {id} (from entry {}), not with this workspace's audit key {}: use the audit.key file of a workspace that uses this database",
                        start.seq,
                        key.id()
                    )));
                }
                if !same_digest(&start.keyed_hash(key), &start.hash) {
                    return Err(invalid(format!(
                        "its entry {} starting audit key {id} does not carry that key's HMAC: the log was recomputed without the key; run `paydesk audit verify`",
                        start.seq
                    )));
                }
            }
        }
        let entry = self.append_in(&mut tx, e).await?;
        tx.commit().await.ctx(op, "the audit log")?;
        Ok(entry)
    }

    /// Starts the keyed part of the log: appends the `audit.key` entry naming this handle's
    /// key id, itself keyed. Refused when the log is already keyed (with this key: nothing to
    /// do, the existing start entry is returned; with another: an error naming both ids).
    pub async fn audit_start_keyed(&self) -> Result<AuditEntry> {
        let op = "start the keyed audit log in";
        let Some(key) = &self.audit_key else {
            return Err(StoreError::Invalid {
                what: "audit log".into(),
                reason: "no audit key was given to key it with".into(),
            });
        };
        let mut tx = self.begin_audit_write(op).await?;
        if let Some(start) = key_start_in(&mut tx).await? {
            let id = start.started_key_id().unwrap_or_default();
            if id == key.id() {
                return Ok(start);
            }
            return Err(StoreError::Invalid {
                what: "audit log".into(),
                reason: format!(
                    "another workspace keyed it first, with audit key {id} (entry {}); copy that workspace's audit.key here instead of key {}",
                    start.seq,
                    key.id()
                ),
            });
        }
        let entry = self
            .append_in(
                &mut tx,
                &NewAuditEntry {
                    actor: "system".into(),
                    action: KEY_START_ACTION.into(),
                    target: "audit log".into(),
                    outcome: "ok".into(),
                    details: serde_json::json!({
                        "key_id": key.id(),
                        "mac": "HMAC-SHA256",
                        "note": "this and every later entry is keyed with the workspace's audit key",
                    }),
                },
            )
            .await?;
        tx.commit().await.ctx(op, "the audit log")?;
        Ok(entry)
    }

    /// The entry that started the keyed log: (seq, key id).
    pub async fn audit_key_start(&self) -> Result<Option<(u64, String)>> {
        let mut conn = self.pool().acquire().await.ctx("read", "the audit log")?;
        Ok(key_start_in(&mut conn)
            .await?
            .map(|e| (e.seq, e.started_key_id().unwrap_or_default())))
    }

    async fn begin_audit_write(
        &self,
        op: &'static str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.begin_write(op, "the audit log").await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .ctx(op, "the audit log")?;
        }
        Ok(tx)
    }

    /// Appends `e` inside a transaction holding the audit lock: keyed when a key is given.
    async fn append_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        e: &NewAuditEntry,
    ) -> Result<AuditEntry> {
        let op = "append to";
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await
            .ctx(op, "the audit log")?;
        let (prev_seq, prev_hash) = match &last {
            Some(row) => {
                let r = RowReader::new(row, "audit_log", "last");
                (r.u64("seq")?, r.text("hash")?)
            }
            None => (0, GENESIS_HASH.to_string()),
        };
        let seq = prev_seq + 1;
        let at = Utc::now();
        let at_ms = ms(at);
        let details = serde_json::to_string(&e.details).unwrap_or_else(|_| "null".into());
        let hash = ChainedFields {
            prev_hash: &prev_hash,
            seq,
            at_ms,
            actor: &e.actor,
            action: &e.action,
            target: &e.target,
            outcome: &e.outcome,
            details: &details,
        }
        .hash(self.audit_key.as_deref());
        sqlx::query(&format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(i64_of(seq))
        .bind(at_ms)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.outcome)
        .bind(&details)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .ctx(op, "the audit log")?;
        Ok(AuditEntry {
            seq,
            at: DateTime::from_timestamp_millis(at_ms).unwrap_or(at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            outcome: e.outcome.clone(),
            details,
            prev_hash,
            hash,
        })
    }

    /// The newest entry's sequence number and hash ((0, [`GENESIS_HASH`]) for an empty log):
    /// what to record elsewhere to detect later removal of the newest entries.
    pub async fn audit_head(&self) -> Result<(u64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await
            .ctx("read", "the audit log")?;
        match &row {
            Some(row) => {
                let r = RowReader::new(row, "audit_log", "head");
                Ok((r.u64("seq")?, r.text("hash")?))
            }
            None => Ok((0, GENESIS_HASH.to_string())),
        }
    }

    /// The sequence number of the entry whose hash is `hash` (lower-case hex), if any.
    pub async fn audit_seq_of_hash(&self, hash: &str) -> Result<Option<u64>> {
        if hash == GENESIS_HASH {
            return Ok(Some(0));
        }
        let row = sqlx::query("SELECT seq FROM audit_log WHERE hash = $1 ORDER BY seq LIMIT 1")
            .bind(hash)
            .fetch_optional(self.pool())
            .await
            .ctx("read", "the audit log")?;
        row.as_ref()
            .map(|r| RowReader::new(r, "audit_log", "head").u64("seq"))
            .transpose()
    }

    /// Entries matching `f`, oldest first.
    pub async fn audit_entries(
        &self,
        f: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<AuditEntry>> {
        self.audit_query(f, &format!("ORDER BY seq LIMIT {limit} OFFSET {offset}"))
            .await
    }

    /// One page of the entries matching `f`, newest first, and how many match in all.
    pub async fn audit_page(
        &self,
        f: &AuditFilter,
        limit: u32,
        offset: u64,
    ) -> Result<(u64, Vec<AuditEntry>)> {
        let (where_, texts, times) = audit_where(f);
        let count_sql = format!("SELECT COUNT(*) AS n FROM audit_log {where_}");
        let mut q = sqlx::query(&count_sql);
        for t in &texts {
            q = q.bind(t);
        }
        for t in &times {
            q = q.bind(*t);
        }
        let row = q
            .fetch_one(self.pool())
            .await
            .ctx("count", "the audit log")?;
        let total: i64 = sqlx::Row::try_get(&row, "n").ctx("count", "the audit log")?;
        let entries = self
            .audit_query(
                f,
                &format!("ORDER BY seq DESC LIMIT {limit} OFFSET {offset}"),
            )
            .await?;
        Ok((u64::try_from(total).unwrap_or(0), entries))
    }

    async fn audit_query(&self, f: &AuditFilter, order_limit: &str) -> Result<Vec<AuditEntry>> {
        let (where_, texts, times) = audit_where(f);
        let sql = format!("SELECT {COLUMNS} FROM audit_log {where_} {order_limit}");
        let mut q = sqlx::query(&sql);
        for t in &texts {
            q = q.bind(t);
        }
        for t in &times {
            q = q.bind(*t);
        }
        let rows = q
            .fetch_all(self.pool())
            .await
            .ctx("read", "the audit log")?;
        rows.iter().map(read_entry).collect()
    }

    /// Walks the whole chain in `seq` order and reports every place it is broken. With an
    /// audit key: entries before the `audit.key` start entry carry the unkeyed hash, that
    /// entry and all later ones the key's HMAC, and the start entry must exist.
    pub async fn audit_verify(&self) -> Result<AuditVerification> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
            .fetch_all(self.pool())
            .await
            .ctx("verify", "the audit log")?;
        let mut problems = Vec::new();
        let mut expected_seq = 1u64;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut head = (0u64, GENESIS_HASH.to_string());
        let mut keyed_from: Option<u64> = None;
        for row in &rows {
            let e = read_entry(row)?;
            if e.seq != expected_seq {
                problems.push(AuditProblem {
                    seq: expected_seq,
                    reason: format!(
                        "entries {expected_seq} to {} are missing (deleted)",
                        e.seq.saturating_sub(1)
                    ),
                });
            }
            if e.prev_hash != prev_hash {
                problems.push(AuditProblem {
                    seq: e.seq,
                    reason: "does not chain to the entry before it (an entry before it was deleted, edited or moved)".into(),
                });
            }
            let keyed = self
                .audit_key
                .as_deref()
                .is_some_and(|k| same_digest(&e.keyed_hash(k), &e.hash));
            if keyed {
                if keyed_from.is_none() {
                    let key_id = self.audit_key.as_deref().map(AuditKey::id);
                    if e.started_key_id() != key_id {
                        problems.push(AuditProblem {
                            seq: e.seq,
                            reason: "the first keyed entry is not the audit.key entry starting the keyed log (entries were removed)".into(),
                        });
                    }
                    keyed_from = Some(e.seq);
                }
            } else if same_digest(&e.unkeyed_hash(), &e.hash) {
                if let Some(from) = keyed_from {
                    problems.push(AuditProblem {
                        seq: e.seq,
                        reason: format!(
                            "its hash is unkeyed although the log is keyed from entry {from} (the entry was forged or the chain recomputed without the audit key)"
                        ),
                    });
                }
            } else if self.audit_key.is_some() {
                problems.push(AuditProblem {
                    seq: e.seq,
                    reason: "its content does not match its hash (the entry was edited)".into(),
                });
            } else {
                problems.push(AuditProblem {
                    seq: e.seq,
                    reason: "its content does not match its unkeyed hash (the entry was edited, or it is keyed and no audit key was given)".into(),
                });
            }
            expected_seq = e.seq + 1;
            prev_hash = e.hash.clone();
            head = (e.seq, e.hash);
        }
        if let (Some(key), None) = (self.audit_key.as_deref(), keyed_from) {
            problems.push(AuditProblem {
                seq: head.0,
                reason: format!(
                    "no entry is keyed with this workspace's audit key {}: the log was recomputed without the key or its keyed entries were removed",
                    key.id()
                ),
            });
        }
        Ok(AuditVerification {
            entries: rows.len() as u64,
            head_seq: head.0,
            head_hash: head.1,
            problems,
        })
    }
}
