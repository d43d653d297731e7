//! The audit log: append-only and hash-chained.
//!
//! Each entry's hash covers the previous entry's hash and every field of the entry, so an
//! edited, deleted or reordered entry breaks the chain at that point and [`AppDb::audit_verify`]
//! says where. A chain alone cannot reveal the removal of the newest entries; `verify` returns
//! the head hash so an auditor can record it and compare later.

use crate::codec::{i64_of, ms, RowReader};
use crate::db::{AppDb, Backend};
use crate::error::{DbContext, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

#[allow(clippy::too_many_arguments)]
/// The entry hash: SHA-256 over the previous hash and every field, each on its own line.
pub fn entry_hash(
    prev_hash: &str,
    seq: u64,
    at_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    details: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        &at_ms.to_string(),
        actor,
        action,
        target,
        outcome,
        details,
    ] {
        // Length-prefixed, so that moving text between fields changes the hash.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
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
    pub async fn audit_append(&self, e: &NewAuditEntry) -> Result<AuditEntry> {
        let op = "append to";
        let mut tx = self.begin_write(op, "the audit log").await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .ctx(op, "the audit log")?;
        }
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
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
        let hash = entry_hash(
            &prev_hash, seq, at_ms, &e.actor, &e.action, &e.target, &e.outcome, &details,
        );
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
        .execute(&mut *tx)
        .await
        .ctx(op, "the audit log")?;
        tx.commit().await.ctx(op, "the audit log")?;
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

    /// Walks the whole chain in `seq` order and reports every place it is broken.
    pub async fn audit_verify(&self) -> Result<AuditVerification> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
            .fetch_all(self.pool())
            .await
            .ctx("verify", "the audit log")?;
        let mut problems = Vec::new();
        let mut expected_seq = 1u64;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut head = (0u64, GENESIS_HASH.to_string());
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
            let recomputed = entry_hash(
                &e.prev_hash,
                e.seq,
                ms(e.at),
                &e.actor,
                &e.action,
                &e.target,
                &e.outcome,
                &e.details,
            );
            if recomputed != e.hash {
                problems.push(AuditProblem {
                    seq: e.seq,
                    reason: "its content does not match its hash (the entry was edited)".into(),
                });
            }
            expected_seq = e.seq + 1;
            prev_hash = e.hash.clone();
            head = (e.seq, e.hash);
        }
        Ok(AuditVerification {
            entries: rows.len() as u64,
            head_seq: head.0,
            head_hash: head.1,
            problems,
        })
    }
}
