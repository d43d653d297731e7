//! The TypeScript bindings of the desktop API: the types the commands take and return,
//! generated with `ts-rs` into `ui/src/generated/bindings.ts`. The test fails when the
//! committed file differs from what the Rust types generate; regenerate it with
//! `PAYDESK_WRITE_TS=1 cargo test -p paydesk-desktop --lib ts_bindings`.

use ts_rs::{Config, TS};

const OUT: &str = "../ui/src/generated/bindings.ts";

fn union(name: &str, values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let list = quoted.join(", ");
    format!(
        "export type {name} = {};\nexport const {}: {name}[] = [{list}];\n",
        quoted.join(" | "),
        upper_snake(name) + "S",
    )
}

fn upper_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn decl<T: TS + 'static>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    let d = T::decl(cfg);
    out.push_str("export ");
    out.push_str(d.trim_end());
    if !d.trim_end().ends_with(';') {
        out.push(';');
    }
    out.push_str("\n\n");
}

/// The whole file, as the Rust types say it.
pub fn bindings() -> String {
    use crate::batch::{Failure, RunBatch, RunEvent};
    use crate::commands::admin::AuditPage;
    use crate::commands::discrepancies::{
        BulkResult, ChangeIn, DiscrepancyDetail, ExportResult, FilterIn, UpdateResult,
    };
    use crate::commands::keys::{ImportFields, VaultStatus};
    use crate::commands::orders::RefundLimits;
    use crate::commands::session::{AccountInfo, AppInfo, Me};
    use crate::commands::settlements as settle;
    use crate::error::{AppError, ERROR_KINDS};
    use paydesk_core as core;
    use paydesk_service as svc;
    use paydesk_store as store;

    // JSON numbers: serde writes i64/u64 as numbers, and the UI reads them as such.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/ts_bindings.rs (ts-rs). Do not edit:\n\
         // change the Rust type, then run\n\
         //   PAYDESK_WRITE_TS=1 cargo test -p paydesk-desktop --lib ts_bindings\n\
         // Field names are the Rust ones (serde snake_case); money is integer minor units.\n\n",
    );
    out.push_str(&union("ErrorKind", &ERROR_KINDS));
    out.push_str(&union("ErrorCode", &svc::ERROR_CODES));
    out.push_str(&union("KeyWarningCode", &svc::vault::KEY_WARNING_CODES));
    out.push_str(&union("Endpoint", &["sandbox", "file", "url"]));
    out.push_str(&union("VaultSource", &["env", "key_file", "passphrase"]));
    out.push_str(&union("RunTrigger", &["manual", "schedule"]));
    out.push_str(&union("Arrival", &settle::ARRIVALS));
    out.push_str(&union("LinkState", &settle::LINK_STATES));
    out.push('\n');
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $( decl::<$t>(&cfg, &mut out); )* };
    }
    all!(
        // paydesk-core
        core::Provider,
        core::LineKind,
        core::SourceRef,
        core::StatementLine,
        core::OrderStatus,
        core::Order,
        core::RefundOrigin,
        core::LocalRefund,
        core::BillDate,
        core::DiscrepancyRecord,
        core::HistoryEntry,
        core::Currency,
        core::Money,
        core::OutcomeClass,
        core::MatchRule,
        core::ReviewState,
        core::ResolutionKind,
        core::Role,
        core::Permission,
        core::refund::RefundState,
        core::settlement::FlowKind,
        core::settlement::FundFlow,
        core::settlement::PayoutStatus,
        core::settlement::Payout,
        core::settlement::BankLine,
        core::settlement::matching::LinkRule,
        core::settlement::matching::SettleClass,
        // paydesk-vault
        paydesk_vault::Purpose,
        paydesk_vault::VersionState,
        paydesk_vault::KeyInfo,
        // paydesk-store
        store::RunRecord,
        store::RefundRecord,
        store::RefundEvent,
        store::UserRecord,
        store::AuditEntry,
        store::AuditVerification,
        store::AuditProblem,
        store::VaultRefresh,
        store::DiscrepancySort,
        store::SortKey,
        store::PageCursor,
        // paydesk-service
        svc::review::DiscrepancyPage,
        svc::refunds::ProviderRefundView,
        svc::refunds::ProviderPaymentView,
        svc::refunds::OrderDetail,
        svc::refunds::RefundDetail,
        svc::reconcile::RunReport,
        svc::reconcile::StatementInfo,
        svc::reconcile::Totals,
        svc::reconcile::DiscrepancyOut,
        svc::reconcile::MatchNote,
        svc::dashboard::Dashboard,
        svc::dashboard::AccountCard,
        svc::dashboard::DayPoint,
        svc::dashboard::Attention,
        svc::dashboard::KeyAttention,
        svc::vault::VersionListing,
        svc::vault::KeyListing,
        svc::vault::KeyWarning,
        svc::vault::PublicExport,
        svc::context::settings::SettingsView,
        svc::context::settings::TolerancesView,
        svc::context::settings::SlaView,
        svc::context::settings::RefundsView,
        svc::context::settings::VaultView,
        svc::context::settings::AccountView,
        svc::context::settings::ConnectionTest,
        svc::context::progress::Stage,
        // the desktop's own
        AppError,
        AccountInfo,
        AppInfo,
        Me,
        AuditPage,
        FilterIn,
        ChangeIn,
        DiscrepancyDetail,
        svc::review::CurrencyTotal,
        BulkResult,
        UpdateResult,
        svc::review::UndoResult,
        ExportResult,
        RefundLimits,
        VaultStatus,
        ImportFields,
        RunEvent,
        Failure,
        RunBatch,
        settle::BankAccountInfo,
        settle::PayoutOut,
        settle::CompositionOut,
        settle::LinkOut,
        settle::FindingOut,
        settle::BalanceDay,
        settle::SearchOut,
        svc::settlement::AccountTradeCheck,
        settle::SettlementReport,
        settle::PayoutRow,
        settle::BankLineRow,
        settle::LinkDetailOut,
        settle::PayoutDetailOut,
        settle::OrderSettlementOut,
        settle::BankImportOut,
        settle::FundFlowImportOut,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn ts_bindings_are_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(OUT);
    let now = bindings();
    if std::env::var("PAYDESK_WRITE_TS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create folder");
        std::fs::write(&path, &now).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "{} is stale (or missing): the Rust types of the desktop API changed. Regenerate it with\n  PAYDESK_WRITE_TS=1 cargo test -p paydesk-desktop --lib ts_bindings\nand commit it.",
        path.display()
    );
}
