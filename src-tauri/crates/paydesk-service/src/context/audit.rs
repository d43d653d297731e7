//! Reading and verifying the audit log.

use crate::context::auth::{audit, require};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{Actor, Permission};
use paydesk_store::{AuditEntry, AuditFilter, AuditVerification};
use serde::Serialize;
use serde_json::json;

pub async fn entries(
    w: &Workspace,
    actor: &Actor,
    filter: &AuditFilter,
    limit: u32,
    offset: u64,
) -> Result<Vec<AuditEntry>, ServiceError> {
    require(&w.db, actor, Permission::AuditView, "audit log").await?;
    Ok(w.db.audit_entries(filter, limit, offset).await?)
}

/// Walks the hash chain; the check itself is audited (after the walk, so it does not change
/// what it verified).
pub async fn verify(w: &Workspace, actor: &Actor) -> Result<AuditVerification, ServiceError> {
    Ok(verify_with_head(w, actor, None).await?.0)
}

/// The newest entry of the log: what to record somewhere the database's writers cannot
/// reach, to detect later that the newest entries were removed
/// ([`verify_with_head`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

/// Where a recorded head is in the log now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "head", rename_all = "snake_case")]
pub enum HeadCheck {
    /// It is still the newest entry.
    Current { seq: u64 },
    /// It is in the log and `appended` entries came after it (up to `head_seq`).
    Found {
        seq: u64,
        appended: u64,
        head_seq: u64,
    },
    /// It is not in the log: entries were removed (or the log was rewritten).
    Missing { head_seq: u64, head_hash: String },
}

impl HeadCheck {
    pub fn ok(&self) -> bool {
        !matches!(self, HeadCheck::Missing { .. })
    }
}

/// The current head (audited as `audit.head`: the head printed is that entry itself, so a
/// later [`verify_with_head`] finds it as long as nothing was removed).
pub async fn head(w: &Workspace, actor: &Actor) -> Result<AuditHead, ServiceError> {
    require(&w.db, actor, Permission::AuditView, "audit log").await?;
    audit(
        &w.db,
        &actor.username,
        "audit.head",
        "audit log",
        "ok",
        json!({}),
    )
    .await?;
    let (seq, hash) = w.db.audit_head().await?;
    Ok(AuditHead { seq, hash })
}

/// The 64 lower-case hex digits of a recorded head hash, or why `text` is none.
pub fn parse_head_hash(text: &str) -> Result<String, ServiceError> {
    let t = text.trim().to_ascii_lowercase();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t)
    } else {
        Err(ServiceError::BadInput(format!(
            "expected head {text:?} is not a head hash: give the 64 hex digits `paydesk audit head` printed"
        )))
    }
}

/// [`verify`], and with `expected_head` (a hash recorded from [`head`] earlier) where that
/// head is in the log now. Both are checked before the check's own audit entry is added.
pub async fn verify_with_head(
    w: &Workspace,
    actor: &Actor,
    expected_head: Option<&str>,
) -> Result<(AuditVerification, Option<HeadCheck>), ServiceError> {
    let expected = expected_head.map(parse_head_hash).transpose()?;
    require(&w.db, actor, Permission::AuditView, "audit log").await?;
    let result = w.db.audit_verify().await?;
    let check = match &expected {
        None => None,
        Some(hash) => Some(match w.db.audit_seq_of_hash(hash).await? {
            Some(seq) if seq == result.head_seq => HeadCheck::Current { seq },
            Some(seq) if seq < result.head_seq => HeadCheck::Found {
                seq,
                appended: result.head_seq - seq,
                head_seq: result.head_seq,
            },
            _ => HeadCheck::Missing {
                head_seq: result.head_seq,
                head_hash: result.head_hash.clone(),
            },
        }),
    };
    let ok = result.intact() && !matches!(check, Some(HeadCheck::Missing { .. }));
    audit(
        &w.db,
        &actor.username,
        "audit.verify",
        "audit log",
        if ok { "ok" } else { "failed" },
        json!({
            "entries": result.entries,
            "head_hash": result.head_hash,
            "problems": result.problems.len(),
            "expected_head": expected,
            "expected_head_found": check.as_ref().map(HeadCheck::ok),
        }),
    )
    .await?;
    Ok((result, check))
}

/// Every entry matching the filter, as CSV (for auditors). Text cells are neutralized.
pub async fn export_csv(
    w: &Workspace,
    actor: &Actor,
    filter: &AuditFilter,
    out: &std::path::Path,
) -> Result<usize, ServiceError> {
    require(&w.db, actor, Permission::AuditView, "audit log").await?;
    let mut rows = Vec::new();
    loop {
        let page = w.db.audit_entries(filter, 5_000, rows.len() as u64).await?;
        let n = page.len();
        rows.extend(page);
        if n < 5_000 {
            break;
        }
    }
    let protected = crate::context::private_file::ProtectedFiles::of(&w.config);
    crate::context::private_file::write_export(out, &protected, |file| {
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
        writer
            .write_record([
                "seq",
                "at_utc",
                "actor",
                "action",
                "target",
                "outcome",
                "details",
                "prev_hash",
                "hash",
            ])
            .map_err(|e| e.to_string())?;
        for e in &rows {
            let n = crate::context::cells::neutralize;
            writer
                .write_record([
                    e.seq.to_string().as_str(),
                    &e.at.to_rfc3339(),
                    &n(&e.actor),
                    &n(&e.action),
                    &n(&e.target),
                    &n(&e.outcome),
                    &n(&e.details),
                    &e.prev_hash,
                    &e.hash,
                ])
                .map_err(|e| e.to_string())?;
        }
        writer.flush().map_err(|e| e.to_string())
    })?;
    audit(
        &w.db,
        &actor.username,
        "audit.export",
        "audit log",
        "ok",
        json!({"entries": rows.len(), "file": out.file_name().map(|f| f.to_string_lossy().into_owned())}),
    )
    .await?;
    Ok(rows.len())
}
