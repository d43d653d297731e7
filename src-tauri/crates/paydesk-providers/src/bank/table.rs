//! Bank exports as tables: CSV (UTF-8 or GBK, BOM tolerated), XLSX and XLS (calamine),
//! read through a [`BankTableMapping`] of header names.
//!
//! Chinese corporate exports put title rows (bank, 账号, 户名, period) above the header and a
//! 合计 row below the data, so the header row is looked for among the first 30 rows and the
//! data stops at a total row. A `账号：…` or `币种：…` title cell names the account and the
//! currency.
//!
//! Spreadsheet money: calamine hands numeric cells over as `f64`. As in
//! `statement::manual`, a numeric cell is turned into Rust's shortest round-trip decimal
//! string (12.34 → "12.34", 0.1+0.2 → "0.30000000000000004") and parsed as an exact decimal;
//! a value that is not exact to the currency's places is rejected, never rounded.

use super::{push_ref, push_text, BankImportError, Rejections};
use crate::statement::text::{norm_name, LineSource, Record, TextEncoding};
use crate::statement::{check_spreadsheet, xlsx_sheet_range, InputLimits};
use chrono::{NaiveDate, NaiveDateTime};
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::{BankLine, BankStatement, StatedBalance};
use serde::{Deserialize, Serialize};

/// How many rows from the top the header row may be.
const HEADER_SEARCH_ROWS: usize = 30;

/// Text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableEncoding {
    /// UTF-8 when the bytes are valid UTF-8 (with or without a BOM), else GBK.
    #[default]
    Auto,
    Utf8,
    Gbk,
}

/// Which columns of a bank export mean what: for each field, the header names it may have,
/// in order of preference (matched ignoring case, spaces and full-width parentheses; a
/// header "借方发生额（支取）" matches the name "借方发生额"). Stored in `paydesk.toml`, so
/// every field has a default; [`BankTableMapping::default`] reads the usual exports of
/// 招商银行, 工商银行, 建设银行 and a plain English layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BankTableMapping {
    /// Booking date (required).
    pub date: Vec<String>,
    /// Time of day (read past; a bank line keeps only its date).
    pub time: Vec<String>,
    /// Value date (起息日), optional.
    pub value_date: Vec<String>,
    /// One signed amount column (+ money in); used when there are no credit/debit columns.
    pub amount: Vec<String>,
    /// Money in (收入金额, 贷方发生额: for the account holder 贷方 is money in).
    pub credit: Vec<String>,
    /// Money out (支出金额, 借方发生额), written positive (a negative value is taken as is).
    pub debit: Vec<String>,
    /// Running balance after the row; gives the opening and closing balances.
    pub balance: Vec<String>,
    pub counterparty: Vec<String>,
    /// Counterparty account, the counterparty when no name is given.
    pub counterparty_account: Vec<String>,
    /// Every present column of these is text, joined by " / " in this order.
    pub text: Vec<String>,
    /// Every present column of these is a reference.
    pub reference: Vec<String>,
    /// The currency when the file names none (no currency column, no 币种 title).
    pub currency: String,
    /// A currency column (ISO code or 人民币/美元/…), optional.
    pub currency_column: Vec<String>,
    /// chrono formats tried for dates, in order (a date-time value's date is taken).
    pub date_formats: Vec<String>,
    pub encoding: TableEncoding,
    /// Spreadsheet sheet name; none means the first sheet.
    pub sheet: Option<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for BankTableMapping {
    fn default() -> Self {
        BankTableMapping {
            date: names(&[
                "交易日期",
                "记账日期",
                "入账日期",
                "交易日",
                "日期",
                "Date",
                "Booking Date",
                "Transaction Date",
                "Posting Date",
                "交易时间",
            ]),
            time: names(&["交易时间", "时间", "Time"]),
            value_date: names(&["起息日", "起息日期", "Value Date"]),
            amount: names(&["交易金额", "发生额", "金额", "Amount"]),
            credit: names(&[
                "收入金额",
                "贷方发生额",
                "贷方金额",
                "收入",
                "存入金额",
                "Credit",
                "Credit Amount",
                "Money In",
            ]),
            debit: names(&[
                "支出金额",
                "借方发生额",
                "借方金额",
                "支出",
                "取出金额",
                "Debit",
                "Debit Amount",
                "Money Out",
            ]),
            balance: names(&["余额", "账户余额", "当前余额", "联机余额", "Balance"]),
            counterparty: names(&[
                "对方户名",
                "对方账户名称",
                "对方账户名",
                "对方名称",
                "对方单位名称",
                "对方单位",
                "收/付方名称",
                "收(付)方名称",
                "Counterparty",
                "Payee/Payer",
            ]),
            counterparty_account: names(&[
                "对方账号",
                "对方帐号",
                "对方账户",
                "收/付方帐号",
                "收/付方账号",
                "收(付)方账号",
                "Counterparty Account",
            ]),
            text: names(&[
                "摘要",
                "交易摘要",
                "业务摘要",
                "用途",
                "附言",
                "交易附言",
                "备注",
                "Description",
                "Memo",
                "Narrative",
                "Remarks",
            ]),
            reference: names(&[
                "流水号",
                "交易流水号",
                "账户明细编号-交易流水号",
                "业务参考号",
                "企业流水号",
                "Reference",
                "Transaction Reference",
            ]),
            currency: "CNY".into(),
            currency_column: names(&["币种", "货币", "Currency"]),
            date_formats: names(&[
                "%Y-%m-%d",
                "%Y/%m/%d",
                "%Y%m%d",
                "%Y.%m.%d",
                "%Y年%m月%d日",
                "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M",
                "%Y%m%d %H:%M:%S",
            ]),
            encoding: TableEncoding::Auto,
            sheet: None,
        }
    }
}

/// A row of the table: its 1-based line (CSV line, sheet row) and trimmed cells.
type Row = (u64, Vec<String>);

/// Whether the bytes are a spreadsheet (ZIP for XLSX/ODS, OLE for XLS).
fn is_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

/// Parses a bank export into one statement.
pub(crate) fn parse(
    bytes: &[u8],
    file: &str,
    mapping: &BankTableMapping,
) -> Result<BankStatement, BankImportError> {
    let rows = if is_spreadsheet(bytes) {
        sheet_rows(bytes, file, mapping)?
    } else {
        csv_rows(bytes, file, mapping.encoding)?
    };
    let cols = find_header(&rows, mapping, file)?;
    let header_at = cols.row;
    let (title_account, title_currency) = titles(&rows[..header_at]);
    let default_currency = match title_currency.or_else(|| currency_name(&mapping.currency)) {
        Some(c) => c,
        None => {
            return Err(BankImportError::file(
                file,
                format!("mapping: unknown currency {:?}", mapping.currency),
            ))
        }
    };
    let mut rejected = Rejections::default();
    let mut out: Vec<(BankLine, Option<i64>)> = Vec::new();
    let mut currency: Option<Currency> = None;
    for (line, cells) in &rows[header_at + 1..] {
        if is_total_row(cells) {
            break;
        }
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        match cols.line(cells, *line, default_currency, mapping) {
            Ok((l, bal)) => {
                let sc = *currency.get_or_insert(l.currency);
                if sc != l.currency {
                    rejected.push(
                        *line,
                        format!(
                            "currency {} differs from the statement's currency {}",
                            l.currency.code(),
                            sc.code()
                        ),
                    );
                } else {
                    out.push((l, bal));
                }
            }
            Err(r) => rejected.push(*line, r),
        }
    }
    let mut out = rejected.finish(file, out)?;
    // Newest-first exports are put in date order, so the first row opens the period.
    if let (Some(first), Some(last)) = (out.first(), out.last()) {
        if first.0.booking_date > last.0.booking_date {
            out.reverse();
        }
    }
    let opening = match out.first() {
        Some((l, Some(bal))) => Some(StatedBalance {
            date: l.booking_date,
            amount: bal.checked_sub(l.amount).ok_or_else(|| {
                BankImportError::at(file, l.line, "balance minus amount overflows")
            })?,
        }),
        _ => None,
    };
    let closing = match out.last() {
        Some((l, Some(bal))) => Some(StatedBalance {
            date: l.booking_date,
            amount: *bal,
        }),
        _ => None,
    };
    Ok(BankStatement {
        account_id: title_account,
        statement_id: None,
        currency: currency.unwrap_or(default_currency),
        opening,
        closing,
        lines: out.into_iter().map(|(l, _)| l).collect(),
    })
}

/// The rows of a CSV, decoded as the mapping says (auto: UTF-8 if valid, else GBK).
fn csv_rows(
    bytes: &[u8],
    file: &str,
    encoding: TableEncoding,
) -> Result<Vec<Row>, BankImportError> {
    let enc = match encoding {
        TableEncoding::Utf8 => TextEncoding::Utf8,
        TableEncoding::Gbk => TextEncoding::Gbk,
        TableEncoding::Auto => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            if std::str::from_utf8(body).is_ok() {
                TextEncoding::Utf8
            } else {
                TextEncoding::Gbk
            }
        }
    };
    let mut src = LineSource::new(Box::new(bytes), enc, file);
    let mut rec = Record::default();
    let mut rows = Vec::new();
    loop {
        match src.next_record(&mut rec) {
            Ok(true) => rows.push((
                rec.line,
                (0..rec.len()).map(|i| rec.get(i).to_string()).collect(),
            )),
            Ok(false) => break,
            Err(e) => {
                return Err(BankImportError::at(file, e.line.unwrap_or(1), e.reason));
            }
        }
    }
    Ok(rows)
}

/// The rows of the mapping's sheet (else the first), within the spreadsheet limits.
fn sheet_rows(
    bytes: &[u8],
    file: &str,
    mapping: &BankTableMapping,
) -> Result<Vec<Row>, BankImportError> {
    use calamine::Reader;
    let limits = InputLimits::default();
    check_spreadsheet(bytes, file, &limits).map_err(|e| BankImportError::file(file, e.reason))?;
    // calamine is third-party code fed untrusted input: a panic inside it becomes an error.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
            .map_err(|e| format!("not a readable spreadsheet: {e}"))?;
        let range = if let calamine::Sheets::Xlsx(x) = &mut wb {
            let name = match &mapping.sheet {
                Some(name) => name.clone(),
                None => x
                    .sheet_names()
                    .first()
                    .cloned()
                    .ok_or_else(|| "the workbook has no sheets".to_string())?,
            };
            xlsx_sheet_range(x, &name, &limits)?
        } else {
            match &mapping.sheet {
                Some(name) => wb
                    .worksheet_range(name)
                    .map_err(|e| format!("sheet {name:?}: {e}"))?,
                None => wb
                    .worksheet_range_at(0)
                    .ok_or_else(|| "the workbook has no sheets".to_string())?
                    .map_err(|e| format!("first sheet: {e}"))?,
            }
        };
        let first_row = u64::from(range.start().map(|(r, _)| r).unwrap_or(0));
        let rows: Vec<Row> = range
            .rows()
            .enumerate()
            .map(|(i, r)| {
                let cells = r.iter().map(|c| cell_text(c).trim().to_string()).collect();
                (first_row + i as u64 + 1, cells)
            })
            .filter(|(_, cells): &Row| cells.iter().any(|c| !c.is_empty()))
            .collect();
        Ok::<_, String>(rows)
    }));
    match loaded {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(reason)) => Err(BankImportError::file(file, reason)),
        Err(_) => Err(BankImportError::file(
            file,
            "the spreadsheet could not be read (reader failure)",
        )),
    }
}

/// A cell as text: numbers by their shortest round-trip decimal (see the module doc),
/// dates as `YYYY-MM-DD HH:MM:SS`.
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let serial = format!("{}", dt.as_f64());
            excel_serial_to_text(&serial).unwrap_or(serial)
        }
        Data::Error(e) => format!("#ERROR {e:?}"),
    }
}

/// An Excel serial date (1900 system) written as a decimal string, to a timestamp text, in
/// integer arithmetic (rounded to the second).
fn excel_serial_to_text(serial: &str) -> Option<String> {
    let (int_part, frac_part) = serial.split_once('.').unwrap_or((serial, ""));
    let days: i64 = int_part.parse().ok()?;
    let frac: String = frac_part.chars().take(15).collect();
    let secs: i64 = if frac.is_empty() {
        0
    } else {
        let num: i128 = frac.parse().ok()?;
        let den: i128 = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
        i64::try_from((num * 86_400 * 2 + den) / (2 * den)).ok()?
    };
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(chrono::NaiveTime::MIN);
    let t = epoch.checked_add_signed(chrono::Duration::try_seconds(
        days.checked_mul(86_400)?.checked_add(secs)?,
    )?)?;
    Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// A total row ends the data: its first filled cell starts with 合计/总计/小计 or "Total".
fn is_total_row(cells: &[String]) -> bool {
    let Some(first) = cells.iter().find(|c| !c.is_empty()) else {
        return false;
    };
    let f = first.trim();
    ["合计", "总计", "本页合计", "小计", "累计"]
        .iter()
        .any(|p| f.starts_with(p))
        || f.to_ascii_lowercase().starts_with("total")
}

/// A currency by ISO code or by its Chinese name as banks write it.
fn currency_name(s: &str) -> Option<Currency> {
    let s = s.trim();
    let code = match s {
        "人民币" | "人民币元" | "RMB" | "本币" => "CNY",
        "美元" => "USD",
        "港币" | "港元" => "HKD",
        "欧元" => "EUR",
        "英镑" => "GBP",
        "日元" => "JPY",
        other => other,
    };
    Currency::parse(code).ok()
}

/// `账号：6222…` / `币种：人民币` title cells above the header (the value in the same cell
/// after the colon, or in the next filled cell).
fn titles(rows: &[Row]) -> (Option<String>, Option<Currency>) {
    let mut account = None;
    let mut currency = None;
    for (_, cells) in rows {
        for (i, cell) in cells.iter().enumerate() {
            let value = |label_len: usize| {
                let rest = cell[label_len..]
                    .trim_start_matches([':', '：', ' '])
                    .trim()
                    .to_string();
                if rest.is_empty() {
                    cells[i + 1..]
                        .iter()
                        .find(|c| !c.is_empty())
                        .cloned()
                        .unwrap_or_default()
                } else {
                    rest
                }
            };
            for label in ["账号", "帐号", "Account No.", "Account Number", "Account"] {
                if account.is_none() && cell.starts_with(label) {
                    let v = value(label.len());
                    let v = v.split_whitespace().next().unwrap_or("").to_string();
                    if v.bytes().any(|b| b.is_ascii_digit()) {
                        account = Some(v);
                    }
                }
            }
            for label in ["币种", "Currency"] {
                if currency.is_none() && cell.starts_with(label) {
                    currency = currency_name(&value(label.len()));
                }
            }
        }
    }
    (account, currency)
}

/// The header's columns for each field.
struct Columns {
    /// Index of the header row in the rows.
    row: usize,
    width: usize,
    date: usize,
    value_date: Option<usize>,
    amount: Option<usize>,
    credit_debit: Option<(usize, usize)>,
    balance: Option<usize>,
    counterparty: Option<usize>,
    counterparty_account: Option<usize>,
    text: Vec<usize>,
    reference: Vec<usize>,
    currency: Option<usize>,
}

/// Whether a header cell is one of `names` (or one of them with a parenthesised unit).
fn header_is(cell: &str, name: &str) -> bool {
    let (c, n) = (norm_name(cell), norm_name(name));
    !n.is_empty() && (c == n || c.strip_prefix(&n).is_some_and(|r| r.starts_with('(')))
}

/// The first column named by the first name of `names` that the header has.
fn first_col(header: &[String], names: &[String], taken: &[usize]) -> Option<usize> {
    names.iter().find_map(|n| {
        header
            .iter()
            .enumerate()
            .position(|(i, h)| !taken.contains(&i) && header_is(h, n))
    })
}

/// Every column named by any of `names`, in the order of `names`.
fn all_cols(header: &[String], names: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    for n in names {
        for (i, h) in header.iter().enumerate() {
            if header_is(h, n) && !out.contains(&i) {
                out.push(i);
            }
        }
    }
    out
}

/// Finds the header row among the first rows: the first with a date column and an amount
/// (or credit and debit) column.
fn find_header(rows: &[Row], m: &BankTableMapping, file: &str) -> Result<Columns, BankImportError> {
    for (idx, (_, header)) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let Some(date) = first_col(header, &m.date, &[]) else {
            continue;
        };
        let credit_debit = match (
            first_col(header, &m.credit, &[date]),
            first_col(header, &m.debit, &[date]),
        ) {
            (Some(c), Some(d)) => Some((c, d)),
            _ => None,
        };
        let amount = match credit_debit {
            Some(_) => None,
            None => first_col(header, &m.amount, &[date]),
        };
        if credit_debit.is_none() && amount.is_none() {
            continue;
        }
        return Ok(Columns {
            row: idx,
            width: header.len(),
            date,
            value_date: first_col(header, &m.value_date, &[date]),
            amount,
            credit_debit,
            balance: first_col(header, &m.balance, &[]),
            counterparty: first_col(header, &m.counterparty, &[]),
            counterparty_account: first_col(header, &m.counterparty_account, &[]),
            text: all_cols(header, &m.text),
            reference: all_cols(header, &m.reference),
            currency: first_col(header, &m.currency_column, &[]),
        });
    }
    let last = rows[..rows.len().min(HEADER_SEARCH_ROWS)]
        .last()
        .map_or(0, |(l, _)| *l);
    Err(BankImportError::file(
        file,
        format!(
            "no header row in lines 1–{last}: need a date column ({}) and an amount column ({}) or credit and debit columns ({} / {})",
            m.date.first().map_or("", String::as_str),
            m.amount.join(", "),
            m.credit.first().map_or("", String::as_str),
            m.debit.first().map_or("", String::as_str),
        ),
    ))
}

/// A cell counts as empty when blank or a dash placeholder.
fn blank(s: &str) -> bool {
    matches!(s.trim(), "" | "-" | "--" | "—" | "——")
}

/// A date cell, by the mapping's formats (a date-time's date).
fn parse_date(s: &str, formats: &[String]) -> Option<NaiveDate> {
    for f in formats {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d);
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.date());
        }
    }
    crate::statement::text::parse_naive(s).map(|t| t.date())
}

impl Columns {
    /// One data row as a line (and its balance), or the reason it is rejected.
    fn line(
        &self,
        cells: &[String],
        line: u64,
        default_currency: Currency,
        m: &BankTableMapping,
    ) -> Result<(BankLine, Option<i64>), String> {
        let cell = |i: usize| cells.get(i).map(String::as_str).unwrap_or("");
        if cells.len() > self.width && cells[self.width..].iter().any(|c| !c.is_empty()) {
            return Err(format!(
                "row has {} cells but the header has {}",
                cells.len(),
                self.width
            ));
        }
        let currency = match self.currency.map(cell).filter(|c| !blank(c)) {
            Some(c) => currency_name(c).ok_or_else(|| format!("unknown currency {c:?}"))?,
            None => default_currency,
        };
        let date_text = cell(self.date);
        if date_text.is_empty() {
            return Err("date is empty".into());
        }
        let booking_date = parse_date(date_text, &m.date_formats)
            .ok_or_else(|| format!("date {date_text:?} is not a date"))?;
        let value_date = match self.value_date.map(cell).filter(|c| !blank(c)) {
            Some(v) => Some(
                parse_date(v, &m.date_formats)
                    .ok_or_else(|| format!("value date {v:?} is not a date"))?,
            ),
            None => None,
        };
        let money = |i: usize, what: &str| -> Result<Option<i64>, String> {
            let t = cell(i);
            if blank(t) {
                return Ok(None);
            }
            parse_minor(t, currency)
                .map(Some)
                .map_err(|e| format!("{what}: {e}"))
        };
        let amount = match (self.credit_debit, self.amount) {
            (Some((ci, di)), _) => {
                let credit = money(ci, "credit")?;
                let debit = money(di, "debit")?.map(|v| if v > 0 { -v } else { v });
                match (credit, debit) {
                    (Some(c), Some(d)) if c != 0 && d != 0 => {
                        return Err(format!(
                            "credit {:?} and debit {:?} are both filled",
                            cell(ci),
                            cell(di)
                        ))
                    }
                    (Some(c), Some(0) | None) => c,
                    (_, Some(d)) => d,
                    (None, None) => return Err("neither credit nor debit is filled".into()),
                }
            }
            (None, Some(a)) => money(a, "amount")?.ok_or("amount is empty")?,
            (None, None) => return Err("no amount column".into()),
        };
        let balance = match self.balance {
            Some(b) => money(b, "balance")?,
            None => None,
        };
        let counterparty = self
            .counterparty
            .map(cell)
            .filter(|c| !blank(c))
            .or_else(|| self.counterparty_account.map(cell).filter(|c| !blank(c)))
            .map(str::to_string);
        let mut references = Vec::new();
        for &i in &self.reference {
            if !blank(cell(i)) {
                push_ref(&mut references, cell(i));
            }
        }
        let mut texts = Vec::new();
        for &i in &self.text {
            if !blank(cell(i)) {
                push_text(&mut texts, cell(i));
            }
        }
        Ok((
            BankLine {
                booking_date,
                value_date,
                amount,
                currency,
                counterparty,
                references,
                text: super::join_text(&texts),
                line,
            },
            balance,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn headers_match_with_units_and_full_width_parentheses() {
        assert!(header_is("借方发生额（支取）", "借方发生额"));
        assert!(header_is(" Amount ", "amount"));
        assert!(!header_is("对方账号", "账号"));
        assert!(!header_is("余额", ""));
    }

    #[test]
    fn float_cells_are_exact_or_refused() {
        assert_eq!(cell_text(&calamine::Data::Float(1234.5)), "1234.5");
        let inexact = cell_text(&calamine::Data::Float(0.300_000_000_000_000_04));
        assert!(parse_minor(&inexact, Currency::CNY).is_err(), "{inexact}");
    }

    #[test]
    fn title_cells_name_account_and_currency() {
        let rows = vec![
            (1, vec!["招商银行交易明细".to_string()]),
            (
                2,
                vec![
                    "账号：755912345610801".to_string(),
                    "户名：示例公司".to_string(),
                    "币种".to_string(),
                    "人民币".to_string(),
                ],
            ),
        ];
        let (a, c) = titles(&rows);
        assert_eq!(a.as_deref(), Some("755912345610801"));
        assert_eq!(c, Some(Currency::CNY));
    }
}
