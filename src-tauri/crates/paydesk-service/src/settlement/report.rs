//! The daily settlement report (资金日报): per provider account and day, what came in and went
//! out of the provider balance, what was paid out, what arrived in the bank, and what does not
//! agree. CSV or XLSX, English or Chinese headers.

use crate::context::auth::{audit, require};
use crate::context::private_file::{write_export, ProtectedFiles};
use crate::context::workspace::Workspace;
use crate::review::report::Lang;
use crate::ServiceError;
use chrono::NaiveDate;
use paydesk_core::settlement::FlowKind;
use paydesk_core::{Actor, BillDate, Currency, Permission};
use paydesk_store::settlement::LinkState;
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

/// One provider account's day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SettlementDay {
    pub date: NaiveDate,
    pub account: String,
    pub currency: String,
    /// Σ gross of payments.
    pub gross: i64,
    /// Σ of refunds (negative).
    pub refunds: i64,
    /// Σ of fees taken (negative: inline fees and fee rows).
    pub fees: i64,
    /// Σ of disputes and their reversals.
    pub disputes: i64,
    /// Everything else that moved the balance (transfers, adjustments, payout reversals).
    pub other: i64,
    /// gross + refunds + fees + disputes + other: what the day added to the balance.
    pub net: i64,
    /// Σ of the payouts created that day.
    pub paid_out: i64,
    /// Σ of those payouts that a booked or accepted link explains (arrived in the bank).
    pub arrived: i64,
    /// Findings of the latest settlement run dated that day for this currency.
    pub differences: u64,
}

const COLUMNS: [(&str, &str); 13] = [
    ("date", "日期"),
    ("account", "账户"),
    ("currency", "币种"),
    ("gross", "收款"),
    ("refunds", "退款"),
    ("fees", "手续费"),
    ("disputes", "争议/拒付"),
    ("other", "其他"),
    ("net", "净额"),
    ("paid_out", "提现/结算"),
    ("arrived", "已到账"),
    ("not_arrived", "未到账/在途"),
    ("differences", "差异数"),
];

fn cells(d: &SettlementDay) -> Vec<String> {
    let c = Currency::parse(&d.currency).unwrap_or(Currency::CNY);
    let m = |v: i64| c.format_minor(v);
    vec![
        d.date.to_string(),
        d.account.clone(),
        d.currency.clone(),
        m(d.gross),
        m(d.refunds),
        m(d.fees),
        m(d.disputes),
        m(d.other),
        m(d.net),
        m(d.paid_out),
        m(d.arrived),
        m(d.paid_out - d.arrived),
        d.differences.to_string(),
    ]
}

fn header(lang: Lang) -> Vec<&'static str> {
    COLUMNS
        .iter()
        .map(|(en, zh)| match lang {
            Lang::En => *en,
            Lang::Zh => *zh,
        })
        .collect()
}

/// Writes the report as CSV (UTF-8 with a BOM, so that Excel opens the Chinese headers).
pub fn write_csv<W: Write>(days: &[SettlementDay], lang: Lang, mut out: W) -> Result<(), String> {
    out.write_all(b"\xEF\xBB\xBF").map_err(|e| e.to_string())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header(lang)).map_err(|e| e.to_string())?;
    for d in days {
        w.write_record(cells(d)).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// Writes the report as an XLSX workbook with one sheet; amounts are text with the currency's
/// decimals (never floats).
pub fn write_xlsx<W: Write + std::io::Seek + Send>(
    days: &[SettlementDay],
    lang: Lang,
    out: W,
) -> Result<(), String> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let name = match lang {
        Lang::En => "Settlement",
        Lang::Zh => "资金日报",
    };
    sheet.set_name(name).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (col, h) in header(lang).iter().enumerate() {
        let col = u16::try_from(col).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, *h, &bold)
            .map_err(|e| e.to_string())?;
        sheet.set_column_width(col, 14).map_err(|e| e.to_string())?;
    }
    for (row, d) in days.iter().enumerate() {
        let row = u32::try_from(row + 1).map_err(|e| e.to_string())?;
        for (col, v) in cells(d).iter().enumerate() {
            let col = u16::try_from(col).map_err(|e| e.to_string())?;
            sheet.write_string(row, col, v).map_err(|e| e.to_string())?;
        }
    }
    book.save_to_writer(out).map_err(|e| e.to_string())
}

/// The daily rows of `bank_account`'s provider accounts over `[from, to]` (local days of each
/// account).
pub async fn daily(
    w: &Workspace,
    actor: &Actor,
    bank_account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SettlementDay>, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::DiscrepancyView,
        &format!("bank account {bank_account}"),
    )
    .await?;
    if to < from {
        return Err(ServiceError::BadInput(format!(
            "the report's last day {to} is before its first day {from}"
        )));
    }
    if (to - from).num_days() > 400 {
        return Err(ServiceError::BadInput(
            "a settlement report covers at most 400 days".into(),
        ));
    }
    let ba = super::bank_account(w, bank_account)?;
    let explained: HashSet<i64> =
        w.db.settlement_links(&ba.name, &[LinkState::Booked, LinkState::Accepted])
            .await?
            .into_iter()
            .flat_map(|l| l.payout_ids)
            .collect();
    let findings = w.db.settlement_findings(&ba.name).await?;
    let mut days: BTreeMap<(NaiveDate, String, String), SettlementDay> = BTreeMap::new();
    for account in &ba.accounts {
        let Some(acc) = w.config.accounts.iter().find(|a| &a.name == account) else {
            continue;
        };
        let tz = acc.timezone;
        let (start, _) = BillDate(from).utc_bounds(tz);
        let (_, end) = BillDate(to).utc_bounds(tz);
        for f in w.db.fund_flows_between(account, start, end).await? {
            let date = f.booked_at.with_timezone(&tz).date_naive();
            let d = days
                .entry((date, account.clone(), f.currency.code().to_string()))
                .or_insert_with(|| SettlementDay {
                    date,
                    account: account.clone(),
                    currency: f.currency.code().to_string(),
                    ..SettlementDay::default()
                });
            match f.kind {
                FlowKind::Payout => continue,
                FlowKind::Payment => d.gross += f.gross,
                FlowKind::Refund => d.refunds += f.gross,
                FlowKind::Fee => d.fees += f.gross,
                FlowKind::Dispute | FlowKind::DisputeReversal => d.disputes += f.gross,
                _ => d.other += f.gross,
            }
            d.fees -= f.fee;
            d.net += f.net;
        }
        let payouts =
            w.db.payouts_until(std::slice::from_ref(account), super::far_future())
                .await?;
        for p in payouts {
            let date = p.payout.created_at.with_timezone(&tz).date_naive();
            if date < from || date > to {
                continue;
            }
            let d = days
                .entry((date, account.clone(), p.payout.currency.code().to_string()))
                .or_insert_with(|| SettlementDay {
                    date,
                    account: account.clone(),
                    currency: p.payout.currency.code().to_string(),
                    ..SettlementDay::default()
                });
            d.paid_out += p.payout.amount;
            if explained.contains(&p.id) {
                d.arrived += p.payout.amount;
            }
        }
    }
    for f in findings {
        for d in days.values_mut() {
            if d.date == f.day && d.currency == f.currency.code() {
                d.differences += 1;
                break;
            }
        }
    }
    Ok(days.into_values().collect())
}

/// Exports the daily report to `out` as `format` (csv or xlsx) in `lang` (en or zh).
#[allow(clippy::too_many_arguments)]
pub async fn export(
    w: &Workspace,
    actor: &Actor,
    bank_account: &str,
    from: NaiveDate,
    to: NaiveDate,
    format: &str,
    lang: Lang,
    out: &Path,
) -> Result<usize, ServiceError> {
    require(
        &w.db,
        actor,
        Permission::ReportExport,
        &format!("settlement report {bank_account}"),
    )
    .await?;
    let days = daily(w, actor, bank_account, from, to).await?;
    let protected = ProtectedFiles::of(&w.config);
    match format {
        "csv" => write_export(out, &protected, |file| {
            write_csv(&days, lang, std::io::BufWriter::new(file))
        })?,
        "xlsx" => write_export(out, &protected, |file| write_xlsx(&days, lang, file))?,
        other => {
            return Err(ServiceError::BadInput(format!(
                "report format {other:?} is not csv or xlsx"
            )))
        }
    }
    audit(
        &w.db,
        &actor.username,
        "settlement.report",
        &format!("bank account {bank_account} {from}..{to}"),
        "ok",
        json!({"rows": days.len(), "format": format,
               "file": out.file_name().map(|f| f.to_string_lossy().into_owned())}),
    )
    .await?;
    Ok(days.len())
}

#[cfg(test)]
// Amounts in cents read as money: 1_234_50 is 1,234.50.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn day() -> SettlementDay {
        SettlementDay {
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
            account: "alipay-main".into(),
            currency: "CNY".into(),
            gross: 1_234_50,
            refunds: -35_80,
            fees: -7_41,
            disputes: 0,
            other: 0,
            net: 1_191_29,
            paid_out: 1_000_00,
            arrived: 900_00,
            differences: 2,
        }
    }

    #[test]
    fn csv_has_the_language_headers_and_exact_amounts() {
        let mut en = Vec::new();
        write_csv(&[day()], Lang::En, &mut en).expect("csv");
        let en = String::from_utf8(en).expect("utf-8");
        assert!(en.starts_with("\u{feff}date,account,currency,gross,refunds,fees"));
        assert!(en.contains("2026-11-23,alipay-main,CNY,1234.50,-35.80,-7.41,0.00,0.00,1191.29,1000.00,900.00,100.00,2"), "{en}");
        let mut zh = Vec::new();
        write_csv(&[day()], Lang::Zh, &mut zh).expect("csv");
        let zh = String::from_utf8(zh).expect("utf-8");
        assert!(zh.contains("日期,账户,币种,收款,退款,手续费"), "{zh}");
    }

    #[test]
    fn xlsx_reads_back_with_text_amounts() {
        use calamine::{Reader, Xlsx};
        let mut buf = std::io::Cursor::new(Vec::new());
        write_xlsx(&[day()], Lang::Zh, &mut buf).expect("xlsx");
        buf.set_position(0);
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(buf).expect("open");
        let range = book.worksheet_range("资金日报").expect("sheet");
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows[0][0], "日期");
        assert_eq!(rows[1][3], "1234.50");
        assert_eq!(rows[1][11], "100.00");
    }
}
