//! A statement must be the account's statement: the merchant it names and the day it covers.
//! Checked once, after parsing and before anything is stored.

use crate::context::config::Account;
use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::{BillDate, Provider};
use paydesk_providers::statement::{alipay_pid, ParsedStatement};

/// Refuses a statement that names a merchant other than the account's configured identity
/// (Alipay `pid`; WeChat Pay `mchid` and, when configured, `sub_mchid`). An account without
/// a configured identity is not checked. The message names both identities.
pub fn check_identity(
    account: &Account,
    file_name: &str,
    parsed: &ParsedStatement,
) -> Result<(), ServiceError> {
    let id = &parsed.identity;
    let refuse = |what: &str, found: &str, key: &str, ours: &str, place: &str| {
        ServiceError::BadInput(format!(
            "{file_name}: statement is for {what} {found}, account {} is {ours} ({key} in paydesk.toml); {place}",
            account.name
        ))
    };
    let names = || id.name_ids.iter().map(|(i, n)| (i.as_str(), n.as_str()));
    match account.provider {
        Provider::Alipay => {
            let Some(pid) = account.credential("pid").map(alipay_pid) else {
                return Ok(());
            };
            let what = "Alipay merchant (PID)";
            if let Some(found) = id.merchant_ids.iter().find(|m| **m != pid) {
                let place = format!(
                    "the file's #账号 line reads [{}]",
                    id.account_header.as_deref().unwrap_or(found)
                );
                return Err(refuse(what, found, "pid", &pid, &place));
            }
            if let Some((found, name)) = names().find(|(i, _)| *i != pid) {
                let place = format!("named in {name:?}");
                return Err(refuse(what, found, "pid", &pid, &place));
            }
        }
        Provider::Wechat => {
            let sub = account.credential("sub_mchid");
            if let Some(mchid) = account.credential("mchid") {
                let what = "WeChat Pay merchant";
                if let Some(found) = id.merchant_ids.iter().find(|m| m.as_str() != mchid) {
                    return Err(refuse(what, found, "mchid", mchid, "商户号 of its rows"));
                }
                if let Some((found, name)) = names().find(|(i, _)| *i != mchid && Some(*i) != sub) {
                    let place = format!("named in {name:?}");
                    return Err(refuse(what, found, "mchid", mchid, &place));
                }
            }
            if let Some(sub) = sub {
                if let Some(found) = id.sub_merchant_ids.iter().find(|m| m.as_str() != sub) {
                    return Err(refuse(
                        "WeChat Pay sub-merchant",
                        found,
                        "sub_mchid",
                        sub,
                        "特约商户号 of its rows",
                    ));
                }
            }
        }
        Provider::Stripe | Provider::Manual => {}
    }
    Ok(())
}

/// Refuses a statement none of whose lines falls on `date` in the account's timezone (the
/// boundary slack lets lines near the day in, but it is not the day): an adjacent day's
/// file, or the wrong `--date`. A file without lines (a day without activity) passes. Fed
/// line by line, so a statement is never held whole for it.
pub struct DayCheck {
    date: BillDate,
    timezone: chrono_tz::Tz,
    bounds: (DateTime<Utc>, DateTime<Utc>),
    lines: u64,
    on_day: bool,
    /// The days the lines are on, while none is on `date` (a few: the lines are near it).
    days: std::collections::BTreeSet<BillDate>,
}

impl DayCheck {
    pub fn new(account: &Account, date: BillDate) -> Self {
        Self {
            date,
            timezone: account.timezone,
            bounds: date.utc_bounds(account.timezone),
            lines: 0,
            on_day: false,
            days: Default::default(),
        }
    }

    pub fn observe(&mut self, t: DateTime<Utc>) {
        self.lines += 1;
        if self.on_day {
            return;
        }
        if t >= self.bounds.0 && t < self.bounds.1 {
            self.on_day = true;
            self.days.clear();
        } else if self.days.len() < 16 {
            self.days.insert(BillDate::of(t, self.timezone));
        }
    }

    pub fn finish(self, file_name: &str) -> Result<(), ServiceError> {
        if self.lines == 0 || self.on_day {
            return Ok(());
        }
        let listed = self
            .days
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(ServiceError::BadInput(format!(
            "{file_name}: none of its {} lines is on the statement day {} ({}); they are on {listed}. Wrong file or wrong --date?",
            self.lines, self.date, self.timezone
        )))
    }
}
