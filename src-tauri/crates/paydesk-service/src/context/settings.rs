//! What the settings screen shows (never a password), a database connection test, and the
//! daily schedule.

use crate::context::auth::{audit, require};
use crate::context::config::{Config, Endpoint};
use crate::context::workspace::Workspace;
use crate::ServiceError;
use paydesk_core::money::format_scaled;
use paydesk_core::{Actor, Permission, Provider};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsView {
    pub workspace: String,
    pub config_file: String,
    /// Connection URLs with any password replaced by `***`.
    pub database: String,
    pub mirror: String,
    pub timezone: String,
    pub schedule: Option<String>,
    pub tolerances: TolerancesView,
    pub sla: SlaView,
    pub refunds: RefundsView,
    pub vault: VaultView,
    pub accounts: Vec<AccountView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TolerancesView {
    pub amount: String,
    pub timing_window_minutes: i64,
    pub fee: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaView {
    pub days: i64,
    pub large_amount: String,
    pub large_days: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundsView {
    pub support_limit: String,
    pub admin_limit: Option<String>,
    pub daily_count: u32,
}

/// `[vault]`: where the master key comes from when nobody types it, and the key timings.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VaultView {
    /// The master key file (a path, never its content); `None`: a passphrase.
    pub key_file: Option<String>,
    pub grace_hours: i64,
    pub certificate_refresh_hours: i64,
    pub expiry_warning_days: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountView {
    pub name: String,
    pub provider: Provider,
    pub currency: String,
    pub timezone: String,
    /// "sandbox", "file" or "url".
    pub endpoint: String,
    /// The endpoint's address, if any (never credentials).
    pub address: Option<String>,
}

/// `sandbox`, `file` or `url`, as the UI groups endpoints.
pub fn endpoint_kind(e: &Endpoint) -> &'static str {
    match e {
        Endpoint::Sandbox | Endpoint::SandboxAt(_) => "sandbox",
        Endpoint::FileOnly => "file",
        Endpoint::Url(_) => "url",
    }
}

/// A connection URL with its password (and any `password=` parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.password().is_some() && parsed.set_password(Some("***")).is_ok() {
            out = parsed.to_string();
        }
    }
    if let Some(i) = out.find("password=") {
        let rest = &out[i + "password=".len()..];
        let end = rest.find('&').map(|j| i + "password=".len() + j);
        out = match end {
            Some(end) => format!("{}password=***{}", &out[..i], &out[end..]),
            None => format!("{}password=***", &out[..i]),
        };
    }
    out
}

pub async fn view(w: &Workspace, actor: &Actor) -> Result<SettingsView, ServiceError> {
    require(&w.db, actor, Permission::SettingsManage, "settings").await?;
    Ok(view_of(&w.config))
}

pub fn view_of(c: &Config) -> SettingsView {
    SettingsView {
        workspace: c.workspace.display().to_string(),
        config_file: c
            .workspace
            .join(crate::context::config::CONFIG_FILE)
            .display()
            .to_string(),
        database: redact_url(&c.database_url),
        mirror: redact_url(&c.mirror_url),
        timezone: c.timezone.name().to_string(),
        schedule: c.daily_run_at.map(|t| t.format("%H:%M").to_string()),
        tolerances: TolerancesView {
            amount: format_scaled(c.tolerances.amount_minor, 2),
            timing_window_minutes: c.tolerances.timing_window_minutes,
            fee: format_scaled(c.tolerances.fee_minor, 2),
        },
        sla: SlaView {
            days: c.sla.days,
            large_amount: format_scaled(c.sla.large_amount_minor, 2),
            large_days: c.sla.large_days,
        },
        refunds: RefundsView {
            support_limit: format_scaled(c.refunds.support_limit_2dp, 2),
            admin_limit: c.refunds.admin_limit_2dp.map(|l| format_scaled(l, 2)),
            daily_count: c.refunds.daily_count,
        },
        vault: VaultView {
            key_file: c.vault.key_file.as_ref().map(|p| p.display().to_string()),
            grace_hours: c.vault.grace.num_hours(),
            certificate_refresh_hours: c.vault.certificate_refresh.num_hours(),
            expiry_warning_days: c.vault.expiry_warning.num_days(),
        },
        accounts: c
            .accounts
            .iter()
            .map(|a| AccountView {
                name: a.name.clone(),
                provider: a.provider,
                currency: a.currency.code().to_string(),
                timezone: a.timezone.name().to_string(),
                endpoint: endpoint_kind(&a.endpoint).to_string(),
                address: match &a.endpoint {
                    Endpoint::SandboxAt(u) | Endpoint::Url(u) => Some(redact_url(u)),
                    _ => None,
                },
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
}

/// Opens a SQLite or PostgreSQL URL read-only-ish (one `SELECT 1`) and says what happened.
/// The answer never repeats a password. A SQLite file that does not exist is reported, not
/// created.
pub async fn test_connection(
    w: &Workspace,
    actor: &Actor,
    url: &str,
) -> Result<ConnectionTest, ServiceError> {
    require(&w.db, actor, Permission::SettingsManage, "settings").await?;
    let url = url.trim();
    let shown = redact_url(url);
    let result = paydesk_store::probe_connection(url, &w.config.workspace).await;
    let outcome = ConnectionTest {
        ok: result.is_ok(),
        message: match result {
            Ok(what) => format!("connected to {shown}: {what}"),
            Err(e) => format!("cannot connect to {shown}: {}", e.replace(url, &shown)),
        },
    };
    audit(
        &w.db,
        &actor.username,
        "settings.test_connection",
        &shown,
        if outcome.ok { "ok" } else { "failed" },
        json!({}),
    )
    .await?;
    Ok(outcome)
}

/// Sets or clears the daily run time (`[app] daily_run_at`) and returns the new settings.
pub async fn save_schedule(
    w: &Workspace,
    actor: &Actor,
    time: Option<&str>,
) -> Result<Config, ServiceError> {
    require(&w.db, actor, Permission::SettingsManage, "settings").await?;
    let time = time.map(str::trim).filter(|t| !t.is_empty());
    let config = crate::context::config::save_daily_run_at(&w.config.workspace, time)?;
    audit(
        &w.db,
        &actor.username,
        "settings.schedule",
        "app.daily_run_at",
        "ok",
        json!({ "daily_run_at": time }),
    )
    .await?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact_url("postgres://pay:s3cret@db:5432/pd"),
            "postgres://pay:***@db:5432/pd"
        );
        assert_eq!(
            redact_url("postgres://db/pd?user=a&password=s3cret&sslmode=require"),
            "postgres://db/pd?user=a&password=***&sslmode=require"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
