//! The workspace: a folder holding `paydesk.toml`, the embedded app database and, for the
//! demo, the order mirror and the sandbox's keys.
//!
//! Every value is validated when the file is loaded; an error names the key that is wrong.

use paydesk_core::money::{parse_scaled, Currency};
use paydesk_core::{FeeRule, MatchSettings, Provider};
use paydesk_providers::statement::InputLimits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "paydesk.toml";

/// `paydesk.toml` as written by people.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub app: RawApp,
    pub mirror: RawMirror,
    #[serde(default)]
    pub tolerances: RawTolerances,
    #[serde(default)]
    pub sla: RawSla,
    #[serde(default, rename = "accounts")]
    pub accounts: Vec<RawAccount>,
    #[serde(default)]
    pub refunds: RawRefunds,
    #[serde(default)]
    pub vault: RawVault,
    #[serde(default)]
    pub limits: RawLimits,
    /// `[[bank_accounts]]`: the bank accounts provider payouts arrive in (settlement).
    #[serde(default)]
    pub bank_accounts: Vec<crate::context::bank_accounts::RawBankAccount>,
}

/// `[limits]`: how large the files Paydesk reads may be, so that a hostile or broken file is
/// a clear error instead of exhausting memory. Raise a limit for a genuine file it refuses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Most MiB a statement may have once decompressed (ZIP entry, gzip stream or plain
    /// file). Default 1024.
    pub max_statement_mb: Option<i64>,
    /// Most a compressed statement or spreadsheet may grow (decompressed : compressed), once
    /// more than 16 MiB came out. Default 100.
    pub max_compression_ratio: Option<i64>,
    /// Most MiB the parts of a spreadsheet (XLSX statement, review XLSX) may decompress to,
    /// all together. Default 256.
    pub max_spreadsheet_mb: Option<i64>,
    /// Most cells the used area of a spreadsheet's sheet may span. Default 10000000.
    pub max_sheet_cells: Option<i64>,
}

fn parse_limits(
    raw: &RawLimits,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<InputLimits, ConfigError> {
    let d = InputLimits::default();
    let ranged = |key: &str, v: Option<i64>, range: std::ops::RangeInclusive<i64>| match v {
        None => Ok(None),
        Some(n) if range.contains(&n) => Ok(Some(n.unsigned_abs())),
        Some(n) => Err(invalid(
            key,
            format!("{n} is outside {}..={}", range.start(), range.end()),
        )),
    };
    const MIB: u64 = 1024 * 1024;
    Ok(InputLimits {
        max_statement_bytes: ranged(
            "limits.max_statement_mb",
            raw.max_statement_mb,
            1..=1_048_576,
        )?
        .map_or(d.max_statement_bytes, |mb| mb * MIB),
        max_ratio: ranged(
            "limits.max_compression_ratio",
            raw.max_compression_ratio,
            2..=1_000_000,
        )?
        .unwrap_or(d.max_ratio),
        max_spreadsheet_bytes: ranged(
            "limits.max_spreadsheet_mb",
            raw.max_spreadsheet_mb,
            1..=1_048_576,
        )?
        .map_or(d.max_spreadsheet_bytes, |mb| mb * MIB),
        max_sheet_cells: ranged(
            "limits.max_sheet_cells",
            raw.max_sheet_cells,
            1..=1_000_000_000_000,
        )?
        .unwrap_or(d.max_sheet_cells),
    })
}

/// `[vault]`: where the key vault's master key comes from, and how long keys overlap.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVault {
    /// A file holding the 32-byte master key (raw, 64 hex digits or base64), relative to the
    /// workspace or absolute; readable by its owner only. Absent: the vault is opened with a
    /// passphrase (`PAYDESK_VAULT_PASSPHRASE` or a prompt).
    pub key_file: Option<String>,
    /// Hours a replaced verification key stays usable (and, for Stripe, the overlap during
    /// which the old secret key still works at Stripe). Default 48 (Alipay's own overlap).
    pub grace_hours: Option<i64>,
    /// Hours between downloads of WeChat Pay platform certificates. Default 12.
    pub certificate_refresh_hours: Option<i64>,
    /// Certificates and keys expiring within this many days are warned about. Default 60.
    pub expiry_warning_days: Option<i64>,
}

/// `[refunds]`: who may refund how much without approval, and how hard Paydesk retries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefunds {
    /// Largest refund a support user may issue without approval, major units of the order's
    /// currency ("500.00"). Default "500.00".
    pub support_limit: Option<String>,
    /// Largest refund an admin may issue without approval; unlimited when absent.
    pub admin_limit: Option<String>,
    /// Refunds one support user may request per day (business timezone) without approval.
    /// Default 20.
    pub daily_count: Option<i64>,
    /// Timeout of one provider call, milliseconds. Default 30000.
    pub call_timeout_ms: Option<i64>,
    /// First wait between attempts after an unknown outcome, milliseconds. Default 2000.
    pub retry_backoff_ms: Option<i64>,
    /// Longest wait between attempts, milliseconds. Default 30000.
    pub max_backoff_ms: Option<i64>,
    /// How long one command keeps driving a refund to a final state before leaving it to
    /// `paydesk refunds resume`, seconds. Default 60.
    pub execute_for_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    /// Default `sqlite://<workspace>/paydesk.db`.
    pub database_url: Option<String>,
    /// Business timezone, default Asia/Shanghai.
    pub timezone: Option<String>,
    /// The desktop app reconciles every account for yesterday at this local time ("07:30")
    /// while it is open. Absent: no scheduled run.
    pub daily_run_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMirror {
    /// `sqlite://orders.db` (relative to the workspace) or `postgres://...`.
    pub url: String,
    /// Mapping of the merchant's tables and columns; the documented default schema if absent.
    pub mapping: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTolerances {
    /// Amount difference still considered equal, in major units ("0.00").
    pub amount: Option<String>,
    /// Minutes before midnight in which a missing payment is a timing difference.
    pub timing_window_minutes: Option<i64>,
    /// Fee difference tolerated before a fee variance, in major units ("0.01").
    pub fee: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    /// Days to resolve a discrepancy, default 3.
    pub days: Option<i64>,
    /// Discrepancies at or above this amount (major units) are due in `large_days`.
    pub large_amount: Option<String>,
    pub large_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub name: String,
    pub provider: String,
    /// Default currency of the account's statements.
    pub currency: Option<String>,
    /// Day boundaries; defaults to the provider's (Asia/Shanghai for Alipay/WeChat, UTC for Stripe).
    pub timezone: Option<String>,
    /// "sandbox" for the built-in provider sandbox, or the provider's base URL.
    pub endpoint: Option<String>,
    #[serde(default)]
    pub fees: Vec<RawFee>,
    /// Provider credentials and identifiers (see README): app_id, pid, mchid, key files...
    #[serde(default)]
    pub credentials: toml::Table,
    /// The account's orders in the mirror: column of the orders table = value (README,
    /// "Account scoping").
    #[serde(default)]
    pub mirror_filter: toml::Table,
    /// What the provider charges per payout (提现手续费), checked by settlement runs.
    pub payout_fee: Option<crate::context::bank_accounts::RawPayoutFee>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFee {
    pub currency: String,
    /// Percentage of the gross, e.g. "0.6%" or "2.9%".
    pub rate: String,
    /// Fixed part per payment in major units, e.g. "0.30".
    pub fixed: Option<String>,
}

/// A validated workspace configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub workspace: PathBuf,
    pub database_url: String,
    pub timezone: chrono_tz::Tz,
    pub mirror_url: String,
    pub mirror_mapping: Option<toml::Value>,
    pub tolerances: Tolerances,
    pub sla: Sla,
    pub accounts: Vec<Account>,
    pub refunds: RefundSettings,
    /// `[app] daily_run_at`, in the business timezone.
    pub daily_run_at: Option<chrono::NaiveTime>,
    pub vault: VaultSettings,
    /// `[limits]`: how large the statements and spreadsheets Paydesk reads may be.
    pub limits: InputLimits,
    /// `[[bank_accounts]]`, validated (names unique, provider accounts known).
    pub bank_accounts: Vec<crate::context::bank_accounts::BankAccount>,
}

/// Validated `[vault]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultSettings {
    /// The master key file, resolved against the workspace.
    pub key_file: Option<PathBuf>,
    pub grace: chrono::Duration,
    pub certificate_refresh: chrono::Duration,
    pub expiry_warning: chrono::Duration,
}

impl Default for VaultSettings {
    fn default() -> Self {
        VaultSettings {
            key_file: None,
            grace: chrono::Duration::hours(48),
            certificate_refresh: chrono::Duration::hours(12),
            expiry_warning: chrono::Duration::days(60),
        }
    }
}

fn parse_vault_settings(
    raw: &RawVault,
    workspace: &Path,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<VaultSettings, ConfigError> {
    let d = VaultSettings::default();
    let ranged = |key: &str, v: Option<i64>, range: std::ops::RangeInclusive<i64>| match v {
        None => Ok(None),
        Some(n) if range.contains(&n) => Ok(Some(n)),
        Some(n) => Err(invalid(
            key,
            format!("{n} is outside {}..={}", range.start(), range.end()),
        )),
    };
    let key_file = match raw.key_file.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            return Err(invalid(
                "vault.key_file",
                "is empty; remove the key or name the master key file".into(),
            ))
        }
        Some(p) => Some(workspace.join(p)),
    };
    Ok(VaultSettings {
        key_file,
        grace: ranged("vault.grace_hours", raw.grace_hours, 0..=24 * 90)?
            .map_or(d.grace, chrono::Duration::hours),
        certificate_refresh: ranged(
            "vault.certificate_refresh_hours",
            raw.certificate_refresh_hours,
            1..=24 * 7,
        )?
        .map_or(d.certificate_refresh, chrono::Duration::hours),
        expiry_warning: ranged(
            "vault.expiry_warning_days",
            raw.expiry_warning_days,
            1..=365,
        )?
        .map_or(d.expiry_warning, chrono::Duration::days),
    })
}

/// Validated `[refunds]`. Limits are kept at 2 decimals ("500.00" → 50000) and converted to
/// the order's currency with [`RefundSettings::limit_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundSettings {
    pub support_limit_2dp: i64,
    pub admin_limit_2dp: Option<i64>,
    pub daily_count: u32,
    pub call_timeout: std::time::Duration,
    pub retry_backoff: std::time::Duration,
    pub max_backoff: std::time::Duration,
    pub execute_for: std::time::Duration,
}

impl RefundSettings {
    /// A limit kept at 2 decimals, in minor units of `currency` (JPY "500.00" → 500).
    pub fn limit_in(limit_2dp: i64, currency: Currency) -> i64 {
        match currency.exponent() {
            0 => limit_2dp / 100,
            1 => limit_2dp / 10,
            2 => limit_2dp,
            e => limit_2dp.saturating_mul(10i64.saturating_pow(u32::from(e) - 2)),
        }
    }
}

impl Default for RefundSettings {
    fn default() -> Self {
        RefundSettings {
            support_limit_2dp: 50_000,
            admin_limit_2dp: None,
            daily_count: 20,
            call_timeout: std::time::Duration::from_secs(30),
            retry_backoff: std::time::Duration::from_secs(2),
            max_backoff: std::time::Duration::from_secs(30),
            execute_for: std::time::Duration::from_secs(60),
        }
    }
}

fn parse_refund_settings(
    raw: &RawRefunds,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<RefundSettings, ConfigError> {
    let d = RefundSettings::default();
    let amount = |key: &str, text: &str| -> Result<i64, ConfigError> {
        let v = parse_scaled(text, 2).map_err(|e| invalid(key, e.to_string()))?;
        if v <= 0 {
            return Err(invalid(
                key,
                format!("{text:?} must be a positive amount like \"500.00\""),
            ));
        }
        Ok(v)
    };
    let millis = |key: &str, v: Option<i64>, default: std::time::Duration, max: i64| match v {
        None => Ok(default),
        Some(ms) if (1..=max).contains(&ms) => {
            Ok(std::time::Duration::from_millis(ms.unsigned_abs()))
        }
        Some(ms) => Err(invalid(key, format!("{ms} is outside 1..={max}"))),
    };
    let daily_count = match raw.daily_count {
        None => d.daily_count,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| invalid("refunds.daily_count", format!("{n} is outside 0..=100000")))?,
    };
    let execute_for = match raw.execute_for_seconds {
        None => d.execute_for,
        Some(s) if (1..=3600).contains(&s) => std::time::Duration::from_secs(s.unsigned_abs()),
        Some(s) => {
            return Err(invalid(
                "refunds.execute_for_seconds",
                format!("{s} is outside 1..=3600"),
            ))
        }
    };
    Ok(RefundSettings {
        support_limit_2dp: match raw.support_limit.as_deref() {
            None => d.support_limit_2dp,
            Some(t) => amount("refunds.support_limit", t)?,
        },
        admin_limit_2dp: raw
            .admin_limit
            .as_deref()
            .map(|t| amount("refunds.admin_limit", t))
            .transpose()?,
        daily_count,
        call_timeout: millis(
            "refunds.call_timeout_ms",
            raw.call_timeout_ms,
            d.call_timeout,
            600_000,
        )?,
        retry_backoff: millis(
            "refunds.retry_backoff_ms",
            raw.retry_backoff_ms,
            d.retry_backoff,
            600_000,
        )?,
        max_backoff: millis(
            "refunds.max_backoff_ms",
            raw.max_backoff_ms,
            d.max_backoff,
            3_600_000,
        )?,
        execute_for,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerances {
    pub amount_minor: i64,
    pub timing_window_minutes: i64,
    pub fee_minor: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sla {
    pub days: i64,
    pub large_amount_minor: i64,
    pub large_days: i64,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub provider: Provider,
    pub currency: Currency,
    pub timezone: chrono_tz::Tz,
    pub endpoint: Endpoint,
    pub fee_rules: Vec<FeeRule>,
    pub credentials: toml::Table,
    /// `[accounts.mirror_filter]`: (column of the mirror's orders table, value); empty when
    /// not configured.
    pub mirror_filter: Vec<(String, String)>,
    /// `[accounts.payout_fee]`: the fee schedule of a payout, in the account's currency.
    pub payout_fee: Option<paydesk_core::settlement::matching::PayoutFeeSchedule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The built-in provider sandbox, started in-process.
    Sandbox,
    /// The workspace's sandbox already running elsewhere (`paydesk sandbox serve`), e.g.
    /// `sandbox:http://127.0.0.1:8900`: several processes share its provider-side state.
    SandboxAt(String),
    /// A provider base URL (real endpoint or an external sandbox).
    Url(String),
    /// Statements only come from files.
    FileOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
}

impl Account {
    pub fn match_settings(&self, tolerances: &Tolerances) -> MatchSettings {
        MatchSettings {
            amount_tolerance_minor: tolerances.amount_minor,
            timing_window: chrono::Duration::minutes(tolerances.timing_window_minutes),
            fee_rules: self.fee_rules.clone(),
            fee_tolerance_minor: tolerances.fee_minor,
        }
    }

    /// A credential value as a string, e.g. `app_id`.
    pub fn credential(&self, key: &str) -> Option<&str> {
        self.credentials.get(key).and_then(|v| v.as_str())
    }
}

impl Config {
    /// Loads and validates `<workspace>/paydesk.toml`.
    pub fn load(workspace: &Path) -> Result<Config, ConfigError> {
        let path = workspace.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, workspace)
    }

    pub fn parse(text: &str, workspace: &Path) -> Result<Config, ConfigError> {
        let path = workspace.join(CONFIG_FILE).display().to_string();
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.clone(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: path.clone(),
            key: key.to_string(),
            message,
        };

        let timezone = parse_tz(raw.app.timezone.as_deref().unwrap_or("Asia/Shanghai"))
            .map_err(|m| invalid("app.timezone", m))?;
        let database_url = match raw.app.database_url.as_deref() {
            None => sqlite_url(&workspace.join("paydesk.db")),
            Some(url) => {
                resolve_db_url(url, workspace).map_err(|m| invalid("app.database_url", m))?
            }
        };
        let mirror_url =
            resolve_db_url(&raw.mirror.url, workspace).map_err(|m| invalid("mirror.url", m))?;

        // Tolerances and SLA amounts are in CNY-style major units with 2 decimals.
        let two_dp = Currency::CNY;
        let amount_minor = match raw.tolerances.amount.as_deref() {
            None => 0,
            Some(s) => parse_scaled(s, u32::from(two_dp.exponent()))
                .map_err(|e| invalid("tolerances.amount", e.to_string()))?,
        };
        let fee_minor = match raw.tolerances.fee.as_deref() {
            None => 1,
            Some(s) => parse_scaled(s, u32::from(two_dp.exponent()))
                .map_err(|e| invalid("tolerances.fee", e.to_string()))?,
        };
        if amount_minor < 0 {
            return Err(invalid("tolerances.amount", "must not be negative".into()));
        }
        if fee_minor < 0 {
            return Err(invalid("tolerances.fee", "must not be negative".into()));
        }
        let timing_window_minutes = raw.tolerances.timing_window_minutes.unwrap_or(30);
        if !(0..=24 * 60).contains(&timing_window_minutes) {
            return Err(invalid(
                "tolerances.timing_window_minutes",
                format!("{timing_window_minutes} is outside 0..=1440"),
            ));
        }

        let days = raw.sla.days.unwrap_or(3);
        let large_days = raw.sla.large_days.unwrap_or(1);
        if !(0..=365).contains(&days) {
            return Err(invalid("sla.days", format!("{days} is outside 0..=365")));
        }
        if !(0..=365).contains(&large_days) {
            return Err(invalid(
                "sla.large_days",
                format!("{large_days} is outside 0..=365"),
            ));
        }
        let large_amount_minor = match raw.sla.large_amount.as_deref() {
            None => 100_000,
            Some(s) => {
                let v =
                    parse_scaled(s, 2).map_err(|e| invalid("sla.large_amount", e.to_string()))?;
                if v < 0 {
                    return Err(invalid(
                        "sla.large_amount",
                        format!("{s:?} must not be negative"),
                    ));
                }
                v
            }
        };

        let mut names = BTreeSet::new();
        let mut accounts = Vec::new();
        for (i, a) in raw.accounts.iter().enumerate() {
            let key = |k: &str| format!("accounts[{i}].{k}");
            let name = a.name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(
                    &key("name"),
                    format!("{name:?} must be non-empty letters, digits, - or _"),
                ));
            }
            if !names.insert(name.to_string()) {
                return Err(invalid(
                    &key("name"),
                    format!("account {name:?} is defined twice"),
                ));
            }
            let provider: Provider = a
                .provider
                .parse()
                .map_err(|m| invalid(&key("provider"), m))?;
            let default_currency = match provider {
                Provider::Stripe => "USD",
                _ => "CNY",
            };
            let currency = Currency::parse(a.currency.as_deref().unwrap_or(default_currency))
                .map_err(|e| invalid(&key("currency"), e.to_string()))?;
            let timezone = match a.timezone.as_deref() {
                None => provider.default_timezone(),
                Some(tz) => parse_tz(tz).map_err(|m| invalid(&key("timezone"), m))?,
            };
            let endpoint = match a.endpoint.as_deref().map(str::trim) {
                None | Some("") | Some("file") => Endpoint::FileOnly,
                Some("sandbox") => Endpoint::Sandbox,
                Some(url) if url.starts_with("sandbox:http://") => {
                    Endpoint::SandboxAt(url.trim_start_matches("sandbox:").trim_end_matches('/').to_string())
                }
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Endpoint::Url(url.trim_end_matches('/').to_string())
                }
                Some(other) => {
                    return Err(invalid(
                        &key("endpoint"),
                        format!("{other:?} is not \"sandbox\", \"sandbox:http://HOST:PORT\", \"file\" or an http(s) URL"),
                    ))
                }
            };
            let mut fee_rules = Vec::new();
            for (j, f) in a.fees.iter().enumerate() {
                let fkey = |k: &str| format!("accounts[{i}].fees[{j}].{k}");
                let currency = Currency::parse(&f.currency)
                    .map_err(|e| invalid(&fkey("currency"), e.to_string()))?;
                let rate_ppm = parse_percent_ppm(&f.rate).map_err(|m| invalid(&fkey("rate"), m))?;
                let fixed_minor = match f.fixed.as_deref() {
                    None => 0,
                    Some(s) => paydesk_core::money::parse_minor(s, currency)
                        .map_err(|e| invalid(&fkey("fixed"), e.to_string()))?,
                };
                if fixed_minor < 0 {
                    return Err(invalid(
                        &fkey("fixed"),
                        format!(
                            "{:?} must not be negative",
                            f.fixed.as_deref().unwrap_or("")
                        ),
                    ));
                }
                fee_rules.push(FeeRule {
                    currency,
                    rate_ppm,
                    fixed_minor,
                });
            }
            let mut mirror_filter = Vec::new();
            for (col, v) in &a.mirror_filter {
                let fkey = format!("accounts[{i}].mirror_filter.{col}");
                let value = match v {
                    toml::Value::String(s) => s.trim().to_string(),
                    toml::Value::Integer(n) => n.to_string(),
                    other => {
                        return Err(invalid(
                            &fkey,
                            format!(
                                "{other} must be a string or an integer (the value the column holds for this account)"
                            ),
                        ))
                    }
                };
                if col.trim().is_empty() || value.is_empty() {
                    return Err(invalid(
                        &fkey,
                        "a filter needs a column name and a non-empty value".into(),
                    ));
                }
                mirror_filter.push((col.trim().to_string(), value));
            }
            accounts.push(Account {
                name: name.to_string(),
                provider,
                currency,
                timezone,
                endpoint,
                fee_rules,
                credentials: a.credentials.clone(),
                mirror_filter,
                payout_fee: a
                    .payout_fee
                    .as_ref()
                    .map(|f| f.parse(currency, &key("payout_fee"), &invalid))
                    .transpose()?,
            });
        }

        let refunds = parse_refund_settings(&raw.refunds, &invalid)?;
        let vault = parse_vault_settings(&raw.vault, workspace, &invalid)?;
        let limits = parse_limits(&raw.limits, &invalid)?;

        let daily_run_at = match raw.app.daily_run_at.as_deref() {
            None => None,
            Some(t) => Some(parse_daily_time(t).map_err(|m| invalid("app.daily_run_at", m))?),
        };
        // The mapping is checked here so that a typo (an unknown key) is named at load time.
        if let Some(mapping) = &raw.mirror.mapping {
            let checked: Result<paydesk_store::MirrorMapping, toml::de::Error> =
                mapping.clone().try_into();
            if let Err(e) = checked {
                return Err(invalid(
                    "mirror.mapping",
                    e.to_string().trim().replace('\n', " "),
                ));
            }
        }
        let bank_accounts = crate::context::bank_accounts::parse_bank_accounts(
            &raw.bank_accounts,
            &accounts,
            &invalid,
        )?;
        Ok(Config {
            bank_accounts,
            daily_run_at,
            workspace: workspace.to_path_buf(),
            database_url,
            timezone,
            mirror_url,
            mirror_mapping: raw.mirror.mapping,
            tolerances: Tolerances {
                amount_minor,
                timing_window_minutes,
                fee_minor,
            },
            sla: Sla {
                days,
                large_amount_minor,
                large_days,
            },
            accounts,
            refunds,
            vault,
            limits,
        })
    }

    pub fn account(&self, name: &str) -> Result<&Account, String> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                format!(
                    "no account named {name:?} in {} (accounts: {})",
                    CONFIG_FILE,
                    self.account_names().join(", ")
                )
            })
    }

    pub fn accounts_of(&self, provider: Provider) -> Vec<&Account> {
        self.accounts
            .iter()
            .filter(|a| a.provider == provider)
            .collect()
    }

    pub fn account_names(&self) -> Vec<&str> {
        self.accounts.iter().map(|a| a.name.as_str()).collect()
    }

    /// Due date for a discrepancy found now, by amount.
    pub fn due_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        abs_amount_minor: i64,
    ) -> chrono::DateTime<chrono::Utc> {
        let days = if abs_amount_minor >= self.sla.large_amount_minor {
            self.sla.large_days
        } else {
            self.sla.days
        };
        now + chrono::Duration::days(days)
    }
}

fn parse_tz(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{name:?} is not an IANA timezone (e.g. Asia/Shanghai, UTC)"))
}

/// "0.6%" → 6000 ppm, exactly.
/// "HH:MM" (24-hour) as a time of day.
pub fn parse_daily_time(text: &str) -> Result<chrono::NaiveTime, String> {
    let t = text.trim();
    let ok = t.len() == 5 && t.as_bytes()[2] == b':';
    chrono::NaiveTime::parse_from_str(t, "%H:%M")
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| format!("{text:?} is not a time of day as HH:MM (e.g. \"07:30\")"))
}

/// Sets (or with `None` removes) `[app] daily_run_at` in the workspace's `paydesk.toml`,
/// keeping the rest of the file as written.
pub fn save_daily_run_at(workspace: &Path, time: Option<&str>) -> Result<Config, ConfigError> {
    let value = match time {
        Some(t) => Some(
            parse_daily_time(t)
                .map_err(|message| ConfigError::Invalid {
                    path: workspace.join(CONFIG_FILE).display().to_string(),
                    key: "app.daily_run_at".into(),
                    message,
                })?
                .format("%H:%M")
                .to_string(),
        ),
        None => None,
    };
    save_setting(workspace, "app", "daily_run_at", value)
}

/// Sets (or with `None` removes) `[vault] key_file`, e.g. after the master key moved to a
/// new key file or to a passphrase.
pub fn save_vault_key_file(workspace: &Path, path: Option<&Path>) -> Result<Config, ConfigError> {
    save_setting(
        workspace,
        "vault",
        "key_file",
        path.map(|p| p.display().to_string()),
    )
}

/// Sets or removes one string setting `[table] key`, keeping the rest of `paydesk.toml` as
/// written (comments included). The new file is validated before it replaces the old one,
/// which it does by an atomic rename.
fn save_setting(
    workspace: &Path,
    table: &str,
    key: &str,
    value: Option<String>,
) -> Result<Config, ConfigError> {
    let path = workspace.join(CONFIG_FILE);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Syntax {
                path: shown.clone(),
                message: e.to_string().trim().replace('\n', " "),
            })?;
    if !doc.contains_key(table) {
        doc[table] = toml_edit::table();
    }
    let t = doc[table]
        .as_table_mut()
        .ok_or_else(|| ConfigError::Invalid {
            path: shown.clone(),
            key: format!("{table}.{key}"),
            message: format!("[{table}] is not a table"),
        })?;
    match value {
        Some(v) => t[key] = toml_edit::value(v),
        None => {
            t.remove(key);
        }
    }
    let new_text = doc.to_string();
    let config = Config::parse(&new_text, workspace)?;
    crate::context::private_file::replace_private(&path, new_text.as_bytes()).map_err(
        |source| ConfigError::Read {
            path: shown.clone(),
            source,
        },
    )?;
    Ok(config)
}

pub fn parse_percent_ppm(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let number = t
        .strip_suffix('%')
        .ok_or_else(|| format!("{t:?} must be a percentage like \"0.6%\""))?;
    let ppm = parse_scaled(number, 4).map_err(|e| e.to_string())?;
    if !(0..=1_000_000).contains(&ppm) {
        return Err(format!("{t:?} must be between 0% and 100%"));
    }
    Ok(ppm)
}

/// Makes `sqlite://relative.db` relative to the workspace; checks the scheme.
fn resolve_db_url(url: &str, workspace: &Path) -> Result<String, String> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("sqlite://") {
        if rest.is_empty() {
            return Err("sqlite URL has no file path".into());
        }
        let (file, query) = match rest.split_once('?') {
            Some((f, q)) => (f, Some(q)),
            None => (rest, None),
        };
        let path = Path::new(file);
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            workspace.join(path)
        };
        let mut out = sqlite_url(&abs);
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        Ok(out)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_string())
    } else {
        Err(format!(
            "{url:?} is neither a sqlite:// nor a postgres:// URL"
        ))
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[app]
timezone = "Asia/Shanghai"

[mirror]
url = "sqlite://orders.db"

[tolerances]
amount = "0.01"
timing_window_minutes = 20

[[accounts]]
name = "alipay-main"
provider = "alipay"
endpoint = "sandbox"
fees = [{ currency = "CNY", rate = "0.6%" }]

[[accounts]]
name = "stripe-us"
provider = "stripe"
currency = "usd"
fees = [{ currency = "USD", rate = "2.9%", fixed = "0.30" }]
"#;

    #[test]
    fn loads_a_good_config() {
        let c = Config::parse(GOOD, Path::new("/ws")).expect("valid");
        assert_eq!(c.database_url, "sqlite:///ws/paydesk.db");
        assert_eq!(c.mirror_url, "sqlite:///ws/orders.db");
        assert_eq!(c.tolerances.amount_minor, 1);
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(c.accounts[0].fee_rules[0].rate_ppm, 6000);
        assert_eq!(c.accounts[1].fee_rules[0].fixed_minor, 30);
        assert_eq!(c.accounts[1].timezone, chrono_tz::UTC);
        assert_eq!(c.accounts[1].endpoint, Endpoint::FileOnly);
        assert_eq!(c.accounts[0].endpoint, Endpoint::Sandbox);
    }

    fn err(text: &str) -> String {
        Config::parse(text, Path::new("/ws"))
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn errors_name_the_key() {
        let bad_tz = GOOD.replace("Asia/Shanghai", "Mars/Olympus");
        assert!(err(&bad_tz).contains("app.timezone"), "{}", err(&bad_tz));
        let bad_rate = GOOD.replace("0.6%", "0.6");
        assert!(err(&bad_rate).contains("accounts[0].fees[0].rate"));
        let bad_provider = GOOD.replace("\"alipay\"", "\"paypal\"");
        assert!(err(&bad_provider).contains("accounts[0].provider"));
        let dup = GOOD.replace("stripe-us", "alipay-main");
        assert!(err(&dup).contains("defined twice"));
        let bad_amount = GOOD.replace("\"0.01\"", "\"0.001\"");
        assert!(err(&bad_amount).contains("tolerances.amount"));
        let unknown = format!("{GOOD}\n[extra]\nx = 1\n");
        assert!(err(&unknown).contains("unknown field"), "{}", err(&unknown));
        let bad_mirror = GOOD.replace("sqlite://orders.db", "mysql://x");
        assert!(err(&bad_mirror).contains("mirror.url"));
        let bad_endpoint = GOOD.replace("\"sandbox\"", "\"ftp://x\"");
        assert!(err(&bad_endpoint).contains("accounts[0].endpoint"));
    }

    #[test]
    fn mirror_mapping_typos_are_errors_naming_the_key() {
        let with = |mapping: &str| {
            GOOD.replace(
                "url = \"sqlite://orders.db\"",
                &format!("url = \"sqlite://orders.db\"\n\n[mirror.mapping]\n{mapping}"),
            )
        };
        let good = with("orders_table = \"shop_orders\"\norder_columns = { order_no = \"no\" }");
        Config::parse(&good, Path::new("/ws")).expect("valid mapping");
        let typo = err(&with("orders_tabel = \"shop_orders\""));
        assert!(
            typo.contains("mirror.mapping") && typo.contains("orders_tabel"),
            "{typo}"
        );
        let col_typo = err(&with("order_columns = { order_number = \"no\" }"));
        assert!(
            col_typo.contains("mirror.mapping") && col_typo.contains("order_number"),
            "{col_typo}"
        );
        let refund_typo = err(&with("refund_columns = { refund_nr = \"no\" }"));
        assert!(refund_typo.contains("refund_nr"), "{refund_typo}");
    }

    #[test]
    fn negative_amounts_and_fees_are_refused_naming_the_key() {
        let neg_large = format!("{GOOD}\n[sla]\nlarge_amount = \"-5.00\"\n");
        let e = err(&neg_large);
        assert!(
            e.contains("sla.large_amount") && e.contains("negative"),
            "{e}"
        );
        let neg_rate = GOOD.replace("rate = \"0.6%\"", "rate = \"-0.6%\"");
        let e = err(&neg_rate);
        assert!(e.contains("accounts[0].fees[0].rate"), "{e}");
        let neg_fixed = GOOD.replace("fixed = \"0.30\"", "fixed = \"-0.30\"");
        let e = err(&neg_fixed);
        assert!(
            e.contains("accounts[1].fees[0].fixed") && e.contains("negative"),
            "{e}"
        );
    }

    #[test]
    fn refund_settings_are_validated() {
        let c = Config::parse(GOOD, Path::new("/ws")).expect("valid");
        assert_eq!(c.refunds, RefundSettings::default());
        let with = format!("{GOOD}\n[refunds]\nsupport_limit = \"100.00\"\ndaily_count = 3\ncall_timeout_ms = 500\n");
        let c = Config::parse(&with, Path::new("/ws")).expect("valid");
        assert_eq!(c.refunds.support_limit_2dp, 10_000);
        assert_eq!(c.refunds.daily_count, 3);
        assert_eq!(RefundSettings::limit_in(10_000, Currency::JPY), 100);
        let bad = format!("{GOOD}\n[refunds]\nsupport_limit = \"abc\"\n");
        assert!(err(&bad).contains("refunds.support_limit"), "{}", err(&bad));
        let bad = format!("{GOOD}\n[refunds]\ndaily_count = -1\n");
        assert!(err(&bad).contains("refunds.daily_count"), "{}", err(&bad));
        let bad = format!("{GOOD}\n[refunds]\nlimit = 1\n");
        assert!(err(&bad).contains("unknown field"), "{}", err(&bad));
    }

    #[test]
    fn vault_settings_are_validated() {
        let c = Config::parse(GOOD, Path::new("/ws")).expect("valid");
        assert_eq!(c.vault, VaultSettings::default());
        let with = format!(
            "{GOOD}\n[vault]\nkey_file = \"secrets/vault.key\"\ngrace_hours = 24\ncertificate_refresh_hours = 6\nexpiry_warning_days = 90\n"
        );
        let c = Config::parse(&with, Path::new("/ws")).expect("valid");
        assert_eq!(
            c.vault.key_file,
            Some(PathBuf::from("/ws/secrets/vault.key"))
        );
        assert_eq!(c.vault.grace, chrono::Duration::hours(24));
        assert_eq!(c.vault.certificate_refresh, chrono::Duration::hours(6));
        assert_eq!(c.vault.expiry_warning, chrono::Duration::days(90));
        let view = crate::context::settings::view_of(&c).vault;
        assert_eq!(view.key_file.as_deref(), Some("/ws/secrets/vault.key"));
        assert_eq!(
            (
                view.grace_hours,
                view.certificate_refresh_hours,
                view.expiry_warning_days
            ),
            (24, 6, 90)
        );
        for (bad, key) in [
            ("grace_hours = 99999", "vault.grace_hours"),
            (
                "certificate_refresh_hours = 0",
                "vault.certificate_refresh_hours",
            ),
            ("expiry_warning_days = 1000", "vault.expiry_warning_days"),
            ("key_file = \"  \"", "vault.key_file"),
            ("passphrase = \"x\"", "unknown field"),
        ] {
            let text = format!("{GOOD}\n[vault]\n{bad}\n");
            assert!(err(&text).contains(key), "{bad}: {}", err(&text));
        }
    }

    #[test]
    fn limits_are_validated() {
        let c = Config::parse(GOOD, Path::new("/ws")).expect("valid");
        assert_eq!(c.limits, InputLimits::default());
        let with = format!(
            "{GOOD}\n[limits]\nmax_statement_mb = 2048\nmax_compression_ratio = 500\nmax_spreadsheet_mb = 64\nmax_sheet_cells = 1000\n"
        );
        let c = Config::parse(&with, Path::new("/ws")).expect("valid");
        assert_eq!(
            c.limits,
            InputLimits {
                max_statement_bytes: 2048 * 1024 * 1024,
                max_ratio: 500,
                max_spreadsheet_bytes: 64 * 1024 * 1024,
                max_sheet_cells: 1000,
            }
        );
        for (bad, key) in [
            ("max_statement_mb = 0", "limits.max_statement_mb"),
            ("max_compression_ratio = 1", "limits.max_compression_ratio"),
            ("max_spreadsheet_mb = -5", "limits.max_spreadsheet_mb"),
            ("max_sheet_cells = 0", "limits.max_sheet_cells"),
            ("max_statement_bytes = 5", "unknown field"),
        ] {
            let text = format!("{GOOD}\n[limits]\n{bad}\n");
            assert!(err(&text).contains(key), "{bad}: {}", err(&text));
        }
    }

    #[test]
    fn percent_parsing_is_exact() {
        assert_eq!(parse_percent_ppm("0.6%"), Ok(6000));
        assert_eq!(parse_percent_ppm("2.9%"), Ok(29_000));
        assert_eq!(parse_percent_ppm("0.0001%"), Ok(1));
        assert!(parse_percent_ppm("0.00001%").is_err());
        assert!(parse_percent_ppm("101%").is_err());
    }
}
