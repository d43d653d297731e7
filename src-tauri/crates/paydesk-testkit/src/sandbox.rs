//! The workspace's provider sandbox, in this test process on a free port.

use paydesk_core::BillDate;
use paydesk_sandbox::SandboxHandle;
use paydesk_service::context::workspace::Workspace;

/// Starts `w`'s sandbox (its keys) on port 0 with the demo history of `dates`.
pub async fn start(w: &Workspace, dates: &[BillDate]) -> SandboxHandle {
    paydesk_service::sandbox::start(w, 0, dates)
        .await
        .expect("sandbox")
}
