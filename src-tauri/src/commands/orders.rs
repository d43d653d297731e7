//! Orders and refunds: search, detail, request, approve or reject. Refunds are sent in the
//! background; each state change reaches the window as a `refund-updated` event.

use crate::error::{AppError, CmdResult};
use crate::state::DesktopState;
use paydesk_core::money::format_scaled;
use paydesk_core::{Actor, Order};
use paydesk_service::context::workspace::Workspace;
use paydesk_service::refunds::{
    self as svc, AmountTextError, OrderDetail, RefundDetail, RefundInput,
};
use paydesk_store::{RefundRecord, RefundState};
use serde::Serialize;
use std::sync::Arc;
use tauri::{AppHandle, Emitter, Runtime, State};

pub const REFUND_EVENT: &str = "refund-updated";

fn emit<R: Runtime>(app: &AppHandle<R>, rec: &RefundRecord) {
    if let Err(e) = app.emit(REFUND_EVENT, rec) {
        tracing::warn!("refund event not delivered: {e}");
    }
}

/// Drives an admitted refund to the provider in the background.
fn send_in_background<R: Runtime>(
    app: AppHandle<R>,
    w: Arc<Workspace>,
    actor: Actor,
    rec: &RefundRecord,
) {
    if rec.state != RefundState::Requested {
        return;
    }
    let id = rec.id;
    tauri::async_runtime::spawn(async move {
        match svc::execute_refund(&w, &actor, id).await {
            Ok(rec) => emit(&app, &rec),
            Err(e) => {
                tracing::warn!("refund {id}: {e}");
                // The record says what happened (needs attention, still sending…).
                if let Ok(d) = svc::refund_detail(&w, &actor, id).await {
                    emit(&app, &d.refund);
                }
            }
        }
    });
}

#[tauri::command]
pub async fn search_orders(
    state: State<'_, DesktopState>,
    text: String,
    limit: Option<u32>,
) -> CmdResult<Vec<Order>> {
    let (w, actor) = state.actor().await?;
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::bad_input(
            "search: enter an order number, transaction id or customer reference",
        ));
    }
    Ok(svc::find_orders(&w, &actor, text, limit.unwrap_or(50).clamp(1, 500)).await?)
}

#[tauri::command]
pub async fn order_detail(
    state: State<'_, DesktopState>,
    key: String,
    query_provider: Option<bool>,
) -> CmdResult<OrderDetail> {
    let (w, actor) = state.actor().await?;
    Ok(svc::order_detail(&w, &actor, key.trim(), query_provider.unwrap_or(false)).await?)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RefundLimits {
    pub support_limit: String,
    pub admin_limit: Option<String>,
    pub daily_count: u32,
}

#[tauri::command]
pub async fn refund_limits(state: State<'_, DesktopState>) -> CmdResult<RefundLimits> {
    let (w, _) = state.actor().await?;
    let r = &w.config.refunds;
    Ok(RefundLimits {
        support_limit: format_scaled(r.support_limit_2dp, 2),
        admin_limit: r.admin_limit_2dp.map(|l| format_scaled(l, 2)),
        daily_count: r.daily_count,
    })
}

#[tauri::command]
pub async fn request_refund<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DesktopState>,
    order: String,
    amount: String,
    reason: String,
    currency: Option<String>,
    account: Option<String>,
) -> CmdResult<RefundRecord> {
    let (w, actor) = state.actor().await?;
    let order = order.trim().to_string();
    if order.is_empty() {
        return Err(AppError::bad_input("order: missing"));
    }
    let currency = currency.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let money = svc::refund_amount(&w, &actor, &order, amount.trim(), currency)
        .await
        .map_err(|e| match e {
            AmountTextError::Currency(e) => AppError::bad_input(format!("currency: {e}")),
            AmountTextError::Amount(e) => {
                AppError::bad_input(format!("amount {:?}: {e} (e.g. 12.34)", amount.trim()))
            }
            AmountTextError::Order(e) => e.into(),
        })?;
    let rec = svc::request_refund(
        &w,
        &actor,
        &RefundInput {
            order,
            amount: money,
            reason,
            account: account.filter(|a| !a.trim().is_empty()),
        },
    )
    .await?;
    emit(&app, &rec);
    send_in_background(app, w, actor, &rec);
    Ok(rec)
}

#[tauri::command]
pub async fn refunds(
    state: State<'_, DesktopState>,
    states: Option<Vec<RefundState>>,
    limit: Option<u32>,
) -> CmdResult<Vec<RefundRecord>> {
    let (w, actor) = state.actor().await?;
    let states = match states {
        Some(s) if !s.is_empty() => s,
        _ => RefundState::ALL.to_vec(),
    };
    Ok(svc::list_refunds(&w, &actor, &states, limit.unwrap_or(200).clamp(1, 2000)).await?)
}

#[tauri::command]
pub async fn decide_refund<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DesktopState>,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> CmdResult<RefundRecord> {
    let (w, actor) = state.actor().await?;
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let rec = svc::decide_refund(&w, &actor, id, approve, note.as_deref()).await?;
    emit(&app, &rec);
    send_in_background(app, w, actor, &rec);
    Ok(rec)
}

#[tauri::command]
pub async fn refund_detail(state: State<'_, DesktopState>, id: i64) -> CmdResult<RefundDetail> {
    let (w, actor) = state.actor().await?;
    Ok(svc::refund_detail(&w, &actor, id).await?)
}
