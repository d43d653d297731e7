//! Fetching statements from an account's endpoint through its provider adapter.

use crate::config::{Account, Endpoint};
use crate::reconcile::StatementInput;
use crate::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::BillDate;

pub async fn download_statement(
    _w: &Workspace,
    account: &Account,
    _date: BillDate,
) -> Result<StatementInput, ServiceError> {
    match &account.endpoint {
        Endpoint::FileOnly => Err(ServiceError::BadInput(format!(
            "account {} has no endpoint to download from (endpoint = \"file\"); give --statement FILE",
            account.name
        ))),
        Endpoint::Sandbox | Endpoint::Url(_) => Err(ServiceError::Provider(format!(
            "downloading {} statements is not wired yet; give --statement FILE",
            account.provider
        ))),
    }
}
