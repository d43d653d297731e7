//! Fetching statements from an account's endpoint through its provider adapter: the real
//! provider, or the workspace's built-in sandbox.

use crate::connect::SandboxHistory;
use crate::context::config::{Account, Endpoint};
use crate::context::workspace::Workspace;
use crate::reconcile::StatementInput;
use crate::ServiceError;
use paydesk_core::BillDate;
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_providers::error::ErrorKind;

/// Downloads one day's statement for an account (verifying every signed answer on the way).
pub async fn download_with(
    adapter: &dyn ProviderAdapter,
    account: &Account,
    date: BillDate,
    source: &str,
) -> Result<StatementInput, ServiceError> {
    let statement = match adapter.download_statement(date).await {
        Ok(statement) => statement,
        // "No statement: nothing happened that day" is an answer, not a failure.
        Err(e) if e.kind == ErrorKind::NoStatement => {
            return Ok(StatementInput::NoActivity {
                source: source.to_string(),
            })
        }
        Err(e) => {
            return Err(ServiceError::provider_said(
                &e,
                format!("account {}: {e}", account.name),
            ))
        }
    };
    Ok(StatementInput::Downloaded {
        file_name: statement.file_name,
        bytes: statement.bytes,
        source: source.to_string(),
    })
}

/// Downloads from the account's endpoint, with the credentials [`crate::connect`] picks; for
/// `endpoint = "sandbox"` a sandbox with the workspace's demo history is started for the call.
pub async fn download_statement(
    w: &Workspace,
    account: &Account,
    date: BillDate,
    actor: &paydesk_core::Actor,
) -> Result<StatementInput, ServiceError> {
    let days = [date];
    let conn = crate::connect::open(w, actor, account, SandboxHistory::Days(&days)).await?;
    let source = match account.endpoint {
        Endpoint::Sandbox | Endpoint::SandboxAt(_) => "sandbox",
        _ => "api",
    };
    let result = download_with(conn.adapter.as_ref(), account, date, source).await;
    conn.close().await;
    result
}
