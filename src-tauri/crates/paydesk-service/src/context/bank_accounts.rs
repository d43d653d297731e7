//! `[[bank_accounts]]` and `[accounts.payout_fee]` in `paydesk.toml`, for settlement
//! reconciliation (the service's `settlement` module).
//!
//! ```toml
//! [[bank_accounts]]
//! name = "cmb-main"                     # letters, digits, - and _
//! currency = "CNY"
//! accounts = ["alipay-main", "wechat-main"]   # provider accounts that pay out into it
//! # Optional:
//! counterparties = ["支付宝（中国）网络技术有限公司", "财付通支付科技有限公司"]
//! days_before = 1                       # business days a credit may come before the expected day
//! days_after = 3                        # ... and after it
//! lookback_days = 45                    # how far back a run looks for open items
//! trade_check_days = 7                  # days whose trade bills are checked against the fund flows (0: off)
//! holidays = ["2026-10-01", "2026-10-02"]  # days the bank is closed (public holidays)
//! workdays = ["2026-10-10"]             # weekend days the bank works (调休)
//! [bank_accounts.mapping]               # a CSV/XLSX export's columns (BankTableMapping)
//! date = ["交易日期"]
//! ```

use crate::context::config::{parse_percent_ppm, Account, ConfigError};
use chrono::NaiveDate;
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::calendar::BusinessCalendar;
use paydesk_core::settlement::matching::PayoutFeeSchedule;
use paydesk_core::Provider;
use paydesk_providers::bank::BankTableMapping;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A bank account as written in `paydesk.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBankAccount {
    pub name: String,
    pub currency: Option<String>,
    #[serde(default)]
    pub accounts: Vec<String>,
    pub counterparties: Option<Vec<String>>,
    pub days_before: Option<i64>,
    pub days_after: Option<i64>,
    pub lookback_days: Option<i64>,
    pub trade_check_days: Option<i64>,
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub workdays: Vec<String>,
    pub mapping: Option<toml::Value>,
}

/// `[accounts.payout_fee]`: `fixed` in major units, `rate` a percentage of the payout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayoutFee {
    pub fixed: Option<String>,
    pub rate: Option<String>,
}

impl RawPayoutFee {
    pub(crate) fn parse(
        &self,
        currency: Currency,
        key: &str,
        invalid: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<PayoutFeeSchedule, ConfigError> {
        let fixed = match self.fixed.as_deref() {
            None => 0,
            Some(t) => parse_minor(t, currency)
                .map_err(|e| invalid(&format!("{key}.fixed"), e.to_string()))?,
        };
        if fixed < 0 {
            return Err(invalid(
                &format!("{key}.fixed"),
                "a payout fee must not be negative".into(),
            ));
        }
        let rate_bp = match self.rate.as_deref() {
            None => 0,
            Some(t) => {
                let ppm = parse_percent_ppm(t).map_err(|m| invalid(&format!("{key}.rate"), m))?;
                if ppm % 100 != 0 {
                    return Err(invalid(
                        &format!("{key}.rate"),
                        format!("{t:?} has more than two decimals of a percent (basis points)"),
                    ));
                }
                ppm / 100
            }
        };
        Ok(PayoutFeeSchedule { fixed, rate_bp })
    }
}

/// A validated bank account.
#[derive(Debug, Clone)]
pub struct BankAccount {
    pub name: String,
    pub currency: Currency,
    /// Provider account names (`[[accounts]]`) that pay out into it.
    pub accounts: Vec<String>,
    /// Counterparty names that identify each provider's settlement entity.
    pub counterparties: Vec<(Provider, String)>,
    pub days_before: u32,
    pub days_after: u32,
    pub lookback_days: u32,
    /// Days, ending on the run's day, whose trade bills are cross-checked with the fund flows
    /// (reading a day's trade lines is the costly part of a run, so fewer than lookback_days).
    pub trade_check_days: u32,
    /// The bank's business days: Monday to Friday less `holidays`, plus `workdays`.
    pub calendar: BusinessCalendar,
    pub mapping: BankTableMapping,
}

/// The settlement entities' usual names on Chinese and foreign bank statements, matched as
/// case-insensitive substrings.
pub fn default_counterparties(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Alipay => &["支付宝", "alipay"],
        Provider::Wechat => &["财付通", "tenpay", "wechat"],
        Provider::Stripe => &["stripe"],
        Provider::Manual => &[],
    }
}

pub(crate) fn parse_bank_accounts(
    raw: &[RawBankAccount],
    accounts: &[Account],
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<BankAccount>, ConfigError> {
    let mut names = BTreeSet::new();
    let mut paid_into: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        let key = |k: &str| format!("bank_accounts[{i}].{k}");
        let name = b.name.trim();
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
                format!("bank account {name:?} is defined twice"),
            ));
        }
        let currency = Currency::parse(b.currency.as_deref().unwrap_or("CNY"))
            .map_err(|e| invalid(&key("currency"), e.to_string()))?;
        let mut providers = Vec::new();
        for a in &b.accounts {
            let a = a.trim();
            let Some(acc) = accounts.iter().find(|x| x.name == a) else {
                return Err(invalid(
                    &key("accounts"),
                    format!("{a:?} is not an account of [[accounts]]"),
                ));
            };
            if !paid_into.insert(a.to_string()) {
                return Err(invalid(
                    &key("accounts"),
                    format!("account {a:?} already pays into another bank account"),
                ));
            }
            if !providers.contains(&acc.provider) {
                providers.push(acc.provider);
            }
        }
        let counterparties = match &b.counterparties {
            Some(list) => {
                let mut out = Vec::new();
                for n in list.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                    // A configured name belongs to every provider of the bank account: the
                    // bank line's reference or amount tells which payout it is.
                    for p in &providers {
                        out.push((*p, n.to_string()));
                    }
                }
                out
            }
            None => providers
                .iter()
                .flat_map(|p| {
                    default_counterparties(*p)
                        .iter()
                        .map(|n| (*p, n.to_string()))
                })
                .collect(),
        };
        let days = |k: &str, v: Option<i64>, default: u32| -> Result<u32, ConfigError> {
            match v {
                None => Ok(default),
                Some(n) => u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= 30)
                    .ok_or_else(|| invalid(&key(k), format!("{n} is outside 0..=30"))),
            }
        };
        let lookback_days = match b.lookback_days {
            None => 45,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=400).contains(n))
                .ok_or_else(|| invalid(&key("lookback_days"), format!("{n} is outside 1..=400")))?,
        };
        let trade_check_days = match b.trade_check_days {
            None => 7.min(lookback_days),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n <= lookback_days)
                .ok_or_else(|| {
                    invalid(
                        &key("trade_check_days"),
                        format!("{n} is outside 0..={lookback_days} (lookback_days)"),
                    )
                })?,
        };
        let dates = |k: &str, list: &[String]| -> Result<Vec<NaiveDate>, ConfigError> {
            list.iter()
                .map(|d| {
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        invalid(&key(k), format!("{d:?} is not a date like \"2026-10-01\""))
                    })
                })
                .collect()
        };
        let calendar = BusinessCalendar::new(
            dates("holidays", &b.holidays)?,
            dates("workdays", &b.workdays)?,
        )
        .map_err(|m| invalid(&key("workdays"), m))?;
        let mapping = match &b.mapping {
            None => BankTableMapping::default(),
            Some(v) => v.clone().try_into().map_err(|e: toml::de::Error| {
                invalid(&key("mapping"), e.to_string().trim().replace('\n', " "))
            })?,
        };
        out.push(BankAccount {
            name: name.to_string(),
            currency,
            accounts: b.accounts.iter().map(|a| a.trim().to_string()).collect(),
            counterparties,
            days_before: days("days_before", b.days_before, 1)?,
            days_after: days("days_after", b.days_after, 3)?,
            lookback_days,
            trade_check_days,
            calendar,
            mapping,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(toml_text: &str) -> RawBankAccount {
        toml::from_str(toml_text).expect("test toml")
    }

    fn parse(b: RawBankAccount) -> Result<Vec<BankAccount>, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "paydesk.toml".into(),
            key: key.to_string(),
            message,
        };
        parse_bank_accounts(&[b], &[], &invalid)
    }

    #[test]
    fn trade_check_days_defaults_to_a_week_and_stays_within_the_lookback() {
        let base = "name = \"cmb\"\ncurrency = \"CNY\"\n";
        let ok = parse(raw(base)).expect("defaults");
        assert_eq!((ok[0].lookback_days, ok[0].trade_check_days), (45, 7));
        let short = parse(raw(&format!("{base}lookback_days = 3\n"))).expect("short");
        assert_eq!(short[0].trade_check_days, 3);
        let off = parse(raw(&format!("{base}trade_check_days = 0\n"))).expect("off");
        assert_eq!(off[0].trade_check_days, 0);
        let err = parse(raw(&format!(
            "{base}lookback_days = 10\ntrade_check_days = 11\n"
        )))
        .expect_err("over the lookback")
        .to_string();
        assert!(err.contains("bank_accounts[0].trade_check_days"), "{err}");
        assert!(
            err.contains("11 is outside 0..=10 (lookback_days)"),
            "{err}"
        );
    }

    #[test]
    fn holidays_and_workdays_make_the_banks_calendar() {
        let base = "name = \"cmb\"\ncurrency = \"CNY\"\n";
        let ok = parse(raw(&format!(
            "{base}holidays = [\"2026-10-01\", \"2026-10-02\"]\nworkdays = [\"2026-10-10\"]\n"
        )))
        .expect("calendar");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert!(!ok[0].calendar.is_business_day(d("2026-10-01")));
        assert!(ok[0].calendar.is_business_day(d("2026-10-10")));
        assert_eq!(ok[0].calendar.add(d("2026-09-30"), 1), d("2026-10-05"));
        let err = parse(raw(&format!("{base}holidays = [\"1 Oct\"]\n")))
            .expect_err("not a date")
            .to_string();
        assert!(
            err.contains("bank_accounts[0].holidays") && err.contains("\"1 Oct\" is not a date"),
            "{err}"
        );
        let err = parse(raw(&format!("{base}workdays = [\"2026-10-09\"]\n")))
            .expect_err("a Friday")
            .to_string();
        assert!(
            err.contains("bank_accounts[0].workdays") && err.contains("2026-10-09 is a Fri"),
            "{err}"
        );
    }
}
