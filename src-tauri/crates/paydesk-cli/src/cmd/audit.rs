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
    /// Check the keyed hash chain; exits non-zero and says where when it is broken.
    Verify {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// A head hash recorded earlier with `paydesk audit head`: fails when it is no longer
        /// in the log (the newest entries were removed); notes entries appended after it.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the log's head (sequence number and hash), to record somewhere the database's
    /// writers cannot change; `audit verify --expect-head HASH` checks it later.
    Head {
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
        AuditCommand::Verify {
            ws,
            expect_head,
            json,
        } => {
            if let Some(h) = &expect_head {
                // Refuse a malformed hash before logging in.
                paydesk_service::context::audit::parse_head_hash(h)?;
            }
            let Session { w, actor } = Session::open(&ws).await?;
            let (v, head) = paydesk_service::context::audit::verify_with_head(
                &w,
                &actor,
                expect_head.as_deref(),
            )
            .await?;
            if json {
                out!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "verification": v,
                        "expected_head": head,
                    }))?
                );
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
            use paydesk_service::context::audit::HeadCheck;
            match &head {
                Some(HeadCheck::Current { seq }) => {
                    eprintln!("the expected head #{seq} is the log's head")
                }
                Some(HeadCheck::Found {
                    seq,
                    appended,
                    head_seq,
                }) => eprintln!(
                    "the expected head #{seq} is in the log; {appended} entries were appended after it (up to #{head_seq})"
                ),
                Some(HeadCheck::Missing { .. }) | None => {}
            }
            if !v.intact() {
                return Err(anyhow!(
                    "audit log broken at entry {}: {}",
                    v.problems[0].seq,
                    v.problems[0].reason
                ));
            }
            if let Some(HeadCheck::Missing {
                head_seq,
                head_hash,
            }) = &head
            {
                return Err(anyhow!(
                    "the expected head {} is not in the audit log: entries after it were removed (the log now ends at #{head_seq} {head_hash})",
                    expect_head.as_deref().unwrap_or_default().trim()
                ));
            }
            eprintln!("audit log intact");
            Ok(())
        }
        AuditCommand::Head { ws, json } => {
            let Session { w, actor } = Session::open(&ws).await?;
            let h = paydesk_service::context::audit::head(&w, &actor).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&h)?);
            } else {
                out!("#{} {}", h.seq, h.hash);
                eprintln!(
                    "record this head elsewhere; check it later with `paydesk audit verify --expect-head {}`",
                    h.hash
                );
            }
            Ok(())
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
