//! Paydesk's desktop console: a Tauri v2 shell over `paydesk-service`. The commands are thin:
//! they find the logged-in user, call one service, and shape the answer for the web UI in
//! `ui/`. No business rule lives here; permissions are enforced by the services.

pub mod batch;
pub mod commands;
pub mod error;
pub mod scheduler;
pub mod state;
#[cfg(test)]
mod ts_bindings;

use state::DesktopState;
use tauri::{Manager, Runtime};

/// The app's commands and state on any runtime (the real window, or Tauri's mock runtime in
/// tests).
pub fn with_commands<R: Runtime>(
    builder: tauri::Builder<R>,
    state: DesktopState,
) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::session::login,
            commands::session::logout,
            commands::session::me,
            commands::reconcile::dashboard,
            commands::reconcile::start_reconcile,
            commands::reconcile::cancel_reconcile,
            commands::reconcile::runs,
            commands::discrepancies::list_discrepancies,
            commands::discrepancies::discrepancy_totals,
            commands::discrepancies::discrepancy_detail,
            commands::discrepancies::update_discrepancy,
            commands::discrepancies::bulk_update_discrepancies,
            commands::discrepancies::bulk_update_discrepancies_by_ids,
            commands::discrepancies::undo_review_change,
            commands::discrepancies::export_discrepancies,
            commands::discrepancies::reviewers,
            commands::orders::search_orders,
            commands::orders::order_detail,
            commands::orders::refund_limits,
            commands::orders::request_refund,
            commands::orders::refunds,
            commands::orders::decide_refund,
            commands::orders::refund_detail,
            commands::keys::vault_status,
            commands::keys::vault_init,
            commands::keys::vault_unlock,
            commands::keys::keys_list,
            commands::keys::keys_import,
            commands::keys::keys_generate,
            commands::keys::keys_export_public,
            commands::keys::keys_register_with_sandbox,
            commands::keys::keys_test,
            commands::keys::keys_activate,
            commands::keys::keys_retire,
            commands::keys::keys_refresh_wechat_certs,
            commands::admin::users,
            commands::admin::create_user,
            commands::admin::set_roles,
            commands::admin::set_disabled,
            commands::admin::reset_password,
            commands::admin::audit_entries,
            commands::admin::audit_verify,
            commands::admin::settings,
            commands::admin::test_connection,
            commands::admin::save_schedule,
            commands::settlements::settlement_bank_accounts,
            commands::settlements::settlement_run,
            commands::settlements::settlement_links,
            commands::settlements::settlement_findings,
            commands::settlements::settlement_link,
            commands::settlements::settlement_payout,
            commands::settlements::settlement_decide,
            commands::settlements::settlement_finding_review,
            commands::settlements::settlement_follow,
            commands::settlements::bank_import,
            commands::settlements::fundflow_import,
        ])
}

/// Opens the workspace and runs the app until its window closes.
pub fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = state::workspace_dir_from(&args);
    let state = tauri::async_runtime::block_on(DesktopState::open(&dir));
    with_commands(tauri::Builder::<tauri::Wry>::default(), state)
        .setup(|app| {
            scheduler::start(app.handle().clone());
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_title("Paydesk");
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("the desktop app stopped: {e}"))
}
