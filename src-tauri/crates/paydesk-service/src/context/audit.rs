//! Reading and verifying the audit log.

use crate::context::auth::{audit, require};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::{Actor, Permission};
use paydesk_store::{AuditEntry, AuditFilter, AuditVerification};
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
    require(&w.db, actor, Permission::AuditView, "audit log").await?;
    let result = w.db.audit_verify().await?;
    audit(
        &w.db,
        &actor.username,
        "audit.verify",
        "audit log",
        if result.intact() { "ok" } else { "failed" },
        json!({"entries": result.entries, "head_hash": result.head_hash, "problems": result.problems.len()}),
    )
    .await?;
    Ok(result)
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
