//! `paydesk audit ...`: the tamper-evident audit log.

use super::{Session, WorkspaceArg};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use paydesk_service::context::private_file::{self, ProtectedFiles};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// List entries, oldest first.
    List {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        actor: Option<String>,
        /// An action, or a prefix ending in '.', e.g. "refund.".
        #[arg(long)]
        action: Option<String>,
        #[arg(long)]
        target: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Check the hash chain; exits non-zero and says where when it is broken.
    Verify {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Export entries as CSV or JSON for auditors.
    Export {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long, value_parser = ["csv", "json"])]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn audit(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::List {
            ws,
            actor: who,
            action,
            target,
            limit,
            json,
        } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let filter = paydesk_store::AuditFilter {
                actor: who,
                action,
                target,
                ..Default::default()
            };
            let entries =
                paydesk_service::context::audit::entries(&w, &actor, &filter, limit, 0).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in entries {
                    out!(
                        "{:>6} {} {:<12} {:<24} {:<8} {}  {}",
                        e.seq,
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.action,
                        e.outcome,
                        e.target,
                        e.details
                    );
                }
            }
            Ok(())
        }
        AuditCommand::Verify { ws, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let v = paydesk_service::context::audit::verify(&w, &actor).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                out!(
                    "{} entries, head #{} {}",
                    v.entries,
                    v.head_seq,
                    v.head_hash
                );
                for p in &v.problems {
                    out!("  entry {}: {}", p.seq, p.reason);
                }
            }
            if v.intact() {
                eprintln!("audit log intact");
                Ok(())
            } else {
                Err(anyhow!(
                    "audit log broken at entry {}: {}",
                    v.problems[0].seq,
                    v.problems[0].reason
                ))
            }
        }
        AuditCommand::Export { ws, format, out } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let filter = paydesk_store::AuditFilter::default();
            if format == "csv" {
                let n =
                    paydesk_service::context::audit::export_csv(&w, &actor, &filter, &out).await?;
                eprintln!("wrote {n} entries to {}", out.display());
            } else {
                let entries =
                    paydesk_service::context::audit::entries(&w, &actor, &filter, u32::MAX, 0)
                        .await?;
                let json = serde_json::to_vec_pretty(&entries)?;
                let protected = ProtectedFiles::of(&w.config);
                private_file::write_export(&out, &protected, |file| {
                    std::io::Write::write_all(file, &json).map_err(|e| e.to_string())
                })?;
                eprintln!("wrote {} entries to {}", entries.len(), out.display());
            }
            Ok(())
        }
    }
}
