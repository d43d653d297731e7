//! Writers of bank statements in the formats the parsers read, for tests and the demo:
//! camt.053.001.08 XML, MT940, and a 招商银行-like export as XLSX or GBK CSV.
//!
//! What survives a write and a parse, per format:
//! - camt.053: everything of a line (references become one `TxDtls` each, so a line with
//!   several is a batch booking), both balances.
//! - MT940: dates, amount, the first two references (customer and bank reference), text;
//!   no counterparty. MT940 requires both balances: a missing one is derived from the other
//!   and the lines (0 when both are missing).
//! - Tables: booking date, amount, counterparty, the first reference (流水号), text (摘要);
//!   no value date. Balances are written per row when the opening balance is known, dated
//!   by the first and the last line.

use super::BankImportError;
use crate::statement::text::csv_cell;
use chrono::NaiveDate;
use paydesk_core::money::{format_scaled, Currency};
use paydesk_core::settlement::{BankStatement, StatedBalance};
use std::fmt::Write as _;

/// The amount without its sign, in major units ("1234.50").
fn major_abs(minor: i64, cur: Currency) -> String {
    let s = format_scaled(minor, u32::from(cur.exponent()));
    s.trim_start_matches('-').to_string()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn cdt_dbt(amount: i64) -> &'static str {
    if amount < 0 {
        "DBIT"
    } else {
        "CRDT"
    }
}

/// The day a writer dates the statement by: its closing, its last line, or its opening.
fn statement_day(stmt: &BankStatement) -> NaiveDate {
    stmt.closing
        .map(|b| b.date)
        .or_else(|| stmt.lines.last().map(|l| l.booking_date))
        .or_else(|| stmt.opening.map(|b| b.date))
        .unwrap_or(NaiveDate::MIN)
}

/// The statement as a camt.053.001.08 document (one `Stmt`).
pub fn write_camt053(stmt: &BankStatement, account_iban: &str) -> String {
    let cur = stmt.currency;
    let ccy = cur.code();
    let id = xml_escape(stmt.statement_id.as_deref().unwrap_or("PAYDESK"));
    let day = statement_day(stmt).format("%Y-%m-%d");
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
  <BkToCstmrStmt>\n\
    <GrpHdr>\n      <MsgId>{id}</MsgId>\n      <CreDtTm>{day}T23:59:59</CreDtTm>\n    </GrpHdr>\n\
    <Stmt>\n      <Id>{id}</Id>\n      <CreDtTm>{day}T23:59:59</CreDtTm>\n\
      <Acct>\n        <Id>\n          <IBAN>{}</IBAN>\n        </Id>\n        <Ccy>{ccy}</Ccy>\n      </Acct>\n",
        xml_escape(account_iban)
    );
    let bal = |x: &mut String, code: &str, b: &StatedBalance| {
        let _ = write!(
            x,
            "      <Bal>\n        <Tp>\n          <CdOrPrtry>\n            <Cd>{code}</Cd>\n          </CdOrPrtry>\n        </Tp>\n\
        <Amt Ccy=\"{ccy}\">{}</Amt>\n        <CdtDbtInd>{}</CdtDbtInd>\n        <Dt>\n          <Dt>{}</Dt>\n        </Dt>\n      </Bal>\n",
            major_abs(b.amount, cur),
            cdt_dbt(b.amount),
            b.date.format("%Y-%m-%d")
        );
    };
    if let Some(b) = &stmt.opening {
        bal(&mut x, "OPBD", b);
    }
    if let Some(b) = &stmt.closing {
        bal(&mut x, "CLBD", b);
    }
    for l in &stmt.lines {
        let credit = l.amount >= 0;
        let _ = write!(
            x,
            "      <Ntry>\n        <Amt Ccy=\"{}\">{}</Amt>\n        <CdtDbtInd>{}</CdtDbtInd>\n\
        <Sts>\n          <Cd>BOOK</Cd>\n        </Sts>\n        <BookgDt>\n          <Dt>{}</Dt>\n        </BookgDt>\n",
            l.currency.code(),
            major_abs(l.amount, l.currency),
            cdt_dbt(l.amount),
            l.booking_date.format("%Y-%m-%d")
        );
        if let Some(v) = l.value_date {
            let _ = writeln!(
                x,
                "        <ValDt>\n          <Dt>{}</Dt>\n        </ValDt>",
                v.format("%Y-%m-%d")
            );
        }
        let _ = write!(
            x,
            "        <BkTxCd>\n          <Domn>\n            <Cd>PMNT</Cd>\n            <Fmly>\n              <Cd>{}</Cd>\n              <SubFmlyCd>OTHR</SubFmlyCd>\n            </Fmly>\n          </Domn>\n        </BkTxCd>\n",
            if credit { "RCDT" } else { "ICDT" }
        );
        let tx_count = l
            .references
            .len()
            .max(usize::from(l.counterparty.is_some() || !l.text.is_empty()));
        if tx_count > 0 {
            x.push_str("        <NtryDtls>\n");
            for i in 0..tx_count {
                x.push_str("          <TxDtls>\n");
                if let Some(r) = l.references.get(i) {
                    let _ = writeln!(
                        x,
                        "            <Refs>\n              <EndToEndId>{}</EndToEndId>\n            </Refs>",
                        xml_escape(r)
                    );
                }
                if i == 0 {
                    if let Some(name) = &l.counterparty {
                        let party = if credit { "Dbtr" } else { "Cdtr" };
                        let _ = writeln!(
                            x,
                            "            <RltdPties>\n              <{party}>\n                <Pty>\n                  <Nm>{}</Nm>\n                </Pty>\n              </{party}>\n            </RltdPties>",
                            xml_escape(name)
                        );
                    }
                    if !l.text.is_empty() {
                        let _ = writeln!(
                            x,
                            "            <RmtInf>\n              <Ustrd>{}</Ustrd>\n            </RmtInf>",
                            xml_escape(&l.text)
                        );
                    }
                }
                x.push_str("          </TxDtls>\n");
            }
            x.push_str("        </NtryDtls>\n");
        }
        x.push_str("      </Ntry>\n");
    }
    x.push_str("    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n");
    x
}

/// An MT940 amount: decimal comma, no sign ("1234,56", "1234," for JPY).
fn mt_amount(minor: i64, cur: Currency) -> String {
    let s = major_abs(minor, cur).replace('.', ",");
    if s.contains(',') {
        s
    } else {
        s + ","
    }
}

/// Opening and closing as MT940 needs both: a missing one is derived from the other.
fn both_balances(stmt: &BankStatement) -> (StatedBalance, StatedBalance) {
    let moved: i64 = stmt
        .lines
        .iter()
        .fold(0i64, |a, l| a.saturating_add(l.amount));
    let first = stmt
        .lines
        .first()
        .map(|l| l.value_date.unwrap_or(l.booking_date));
    let day = statement_day(stmt);
    let open = stmt.opening.unwrap_or_else(|| StatedBalance {
        date: first.unwrap_or(day),
        amount: stmt.closing.map_or(0, |c| c.amount.saturating_sub(moved)),
    });
    let close = stmt.closing.unwrap_or_else(|| StatedBalance {
        date: day,
        amount: open.amount.saturating_add(moved),
    });
    (open, close)
}

/// Splits `:86:` text into lines of at most 65 characters, never starting a continuation
/// line with a character the parser would read as a tag, a block or a message end.
fn wrap_65(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + 65).min(chars.len());
        while end < chars.len() && end > start + 1 && matches!(chars[end], ':' | '-' | '{') {
            end -= 1;
        }
        out.push(chars[start..end].iter().collect());
        start = end;
    }
    out
}

/// The statement as one MT940 message. `account` goes into `:25:`.
pub fn write_mt940(stmt: &BankStatement, account: &str) -> String {
    let cur = stmt.currency;
    let bal = |tag: &str, b: &StatedBalance| {
        format!(
            ":{tag}:{}{}{}{}\r\n",
            if b.amount < 0 { 'D' } else { 'C' },
            b.date.format("%y%m%d"),
            cur.code(),
            mt_amount(b.amount, cur)
        )
    };
    let (open, close) = both_balances(stmt);
    let mut m = String::new();
    let _ = write!(
        m,
        ":20:{}\r\n:25:{account}\r\n:28C:00001\r\n",
        stmt.statement_id.as_deref().unwrap_or("PAYDESK")
    );
    m.push_str(&bal("60F", &open));
    for l in &stmt.lines {
        let value = l.value_date.unwrap_or(l.booking_date);
        let _ = write!(
            m,
            ":61:{}{}{}{}NTRF{}",
            value.format("%y%m%d"),
            l.booking_date.format("%m%d"),
            if l.amount < 0 { 'D' } else { 'C' },
            mt_amount(l.amount, cur),
            l.references.first().map_or("NONREF", String::as_str)
        );
        if let Some(bank_ref) = l.references.get(1) {
            let _ = write!(m, "//{bank_ref}");
        }
        m.push_str("\r\n");
        if !l.text.is_empty() {
            for (i, part) in wrap_65(&l.text).iter().enumerate() {
                if i == 0 {
                    m.push_str(":86:");
                }
                m.push_str(part);
                m.push_str("\r\n");
            }
        }
    }
    m.push_str(&bal("62F", &close));
    m.push_str("-\r\n");
    m
}

/// "1234567.5" → "1,234,567.50": the amount with thousands separators and the currency's
/// places, as Chinese bank exports write it.
fn grouped(minor: i64, cur: Currency) -> String {
    let s = format_scaled(minor, u32::from(cur.exponent()));
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", s.as_str()),
    };
    let (int, frac) = body
        .split_once('.')
        .map_or((body, None), |(i, f)| (i, Some(f)));
    let mut g = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{g}.{f}"),
        None => format!("{sign}{g}"),
    }
}

/// The 招商银行-like headers of the table writers.
const TABLE_HEADER: [&str; 10] = [
    "交易日期",
    "交易时间",
    "收入金额",
    "支出金额",
    "余额",
    "对方户名",
    "对方账号",
    "摘要",
    "附言",
    "流水号",
];

/// The export's rows: two title rows, the header, one row per line, a 合计 row.
fn table_rows(stmt: &BankStatement, account_name: &str) -> Vec<Vec<String>> {
    let cur = stmt.currency;
    let first = stmt.lines.first().map(|l| l.booking_date);
    let last = stmt.lines.last().map(|l| l.booking_date);
    let period = match (first, last) {
        (Some(a), Some(b)) => format!("{}至{}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d")),
        _ => String::new(),
    };
    let mut rows = vec![
        vec!["招商银行 账户交易明细".to_string()],
        vec![
            format!("账号：{}", stmt.account_id.as_deref().unwrap_or("")),
            format!("户名：{account_name}"),
            format!("币种：{}", cur.code()),
            format!("起止日期：{period}"),
        ],
        TABLE_HEADER.iter().map(|s| s.to_string()).collect(),
    ];
    let mut running = stmt.opening.map(|b| b.amount);
    let (mut total_in, mut total_out) = (0i64, 0i64);
    for l in &stmt.lines {
        running = running.map(|r| r.saturating_add(l.amount));
        let (inc, out) = if l.amount < 0 {
            total_out = total_out.saturating_add(l.amount);
            (String::new(), grouped(-l.amount, cur))
        } else {
            total_in = total_in.saturating_add(l.amount);
            (grouped(l.amount, cur), String::new())
        };
        rows.push(vec![
            l.booking_date.format("%Y%m%d").to_string(),
            "00:00:00".into(),
            inc,
            out,
            running.map(|r| grouped(r, cur)).unwrap_or_default(),
            l.counterparty.clone().unwrap_or_default(),
            String::new(),
            l.text.clone(),
            String::new(),
            l.references.first().cloned().unwrap_or_default(),
        ]);
    }
    rows.push(vec![
        "合计".into(),
        String::new(),
        grouped(total_in, cur),
        grouped(total_out.saturating_neg(), cur),
    ]);
    rows
}

/// The statement as a 招商银行-like XLSX export: title rows, the header 交易日期 … 流水号,
/// amounts as text cells with two decimals and thousands separators, a 合计 row.
pub fn write_bank_xlsx(
    stmt: &BankStatement,
    account_name: &str,
) -> Result<Vec<u8>, BankImportError> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        BankImportError::file("bank.xlsx", format!("cannot write the workbook: {e}"))
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("交易明细").map_err(fail)?;
    for (r, row) in table_rows(stmt, account_name).iter().enumerate() {
        let r = u32::try_from(r)
            .map_err(|_| BankImportError::file("bank.xlsx", "too many lines for one worksheet"))?;
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, c as u16, v).map_err(fail)?;
            }
        }
    }
    wb.save_to_buffer().map_err(fail)
}

/// The same export as a GBK-encoded CSV (CRLF line ends), as Chinese online banking
/// downloads it. Characters GBK cannot encode become numeric character references.
pub fn write_bank_csv_gbk(stmt: &BankStatement, account_name: &str) -> Vec<u8> {
    let mut s = String::new();
    for row in table_rows(stmt, account_name) {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c).into_owned()).collect();
        s.push_str(&cells.join(","));
        s.push_str("\r\n");
    }
    let (bytes, _, _) = encoding_rs::GBK.encode(&s);
    bytes.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_mt_amounts() {
        assert_eq!(grouped(123456750, Currency::CNY), "1,234,567.50");
        assert_eq!(grouped(-5, Currency::CNY), "-0.05");
        assert_eq!(grouped(100000, Currency::JPY), "100,000");
        assert_eq!(mt_amount(-123456, Currency::CNY), "1234,56");
        assert_eq!(mt_amount(5000, Currency::JPY), "5000,");
    }

    #[test]
    fn wrapping_never_starts_a_line_like_a_tag() {
        let text = format!("{}:20:x", "a".repeat(65));
        let lines = wrap_65(&text);
        assert_eq!(lines.concat(), text);
        assert!(lines.iter().all(|l| l.chars().count() <= 65));
        assert!(
            lines.iter().skip(1).all(|l| !l.starts_with(':')),
            "{lines:?}"
        );
    }
}
