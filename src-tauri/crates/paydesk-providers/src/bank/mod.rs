//! Bank statement import for settlement reconciliation (资金对账): ISO 20022 camt.053 XML,
//! SWIFT MT940 text and bank exports as CSV/XLSX/XLS tables read through a
//! [`BankTableMapping`], each into [`BankStatement`]s of the core's settlement model.
//!
//! A file imports fully or not at all: every entry/row is validated, and if any is bad the
//! whole file is refused with every rejected row listed (line and reason) in a
//! [`BankImportError`]. Money is parsed exactly into minor units; the sign of a line always
//! comes from the statement's credit/debit marker or column, never from guessing.
//!
//! What each format carries into a [`BankLine`]:
//! - camt.053: booking and value date, amount, counterparty (debtor for a credit, creditor
//!   for a debit), references (entry `AcctSvcrRef`, then per transaction `EndToEndId`,
//!   `AcctSvcrRef` and the structured creditor reference), text (`Ustrd`, else
//!   `AddtlNtryInf`).
//! - MT940: value date, entry date, amount, references (customer reference, bank
//!   reference, `EREF` values of `:86:`), text (`:61:` supplementary details and `:86:`).
//! - Tables: date, optional value date, amount (signed, or credit/debit columns), counterparty,
//!   references (流水号 …), text (摘要, 用途, 附言, 备注 …), balances from the balance column.

mod camt053;
mod mt940;
mod table;
mod write;

pub use table::{BankTableMapping, TableEncoding};
pub use write::{write_bank_csv_gbk, write_bank_xlsx, write_camt053, write_mt940};

use paydesk_core::settlement::BankStatement;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest bank statement file accepted (a year of a busy account's camt.053 is far less).
pub const MAX_BANK_FILE_BYTES: usize = 200 * 1024 * 1024;

/// The bank statement formats Paydesk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankFormat {
    /// ISO 20022 camt.053 (BankToCustomerStatement), any version .001.02 onwards.
    Camt053,
    /// SWIFT MT940 customer statement, with or without the `{1:}{4:` block wrapper.
    Mt940,
    /// A CSV, XLSX or XLS export read through a [`BankTableMapping`].
    Table,
}

impl BankFormat {
    pub fn as_str(&self) -> &'static str {
        match self {
            BankFormat::Camt053 => "camt053",
            BankFormat::Mt940 => "mt940",
            BankFormat::Table => "table",
        }
    }
}

/// One row (entry, line) of a refused file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// 1-based line of the file (XML line of a camt entry, spreadsheet row of an XLSX).
    pub line: u64,
    pub reason: String,
}

/// Why a bank file was refused. Nothing of a refused file is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankImportError {
    pub file: String,
    /// What is wrong with the file as a whole ("3 rows rejected", "not a camt.053 file").
    pub message: String,
    /// Every rejected row, in file order (empty when the problem is not in one row).
    pub rejected: Vec<RejectedRow>,
}

impl BankImportError {
    /// A problem with the file as a whole.
    pub(crate) fn file(file: &str, message: impl Into<String>) -> Self {
        BankImportError {
            file: file.to_string(),
            message: one_line(message.into()),
            rejected: Vec::new(),
        }
    }

    /// A problem at one line that stops the reading (malformed XML, a missing header).
    pub(crate) fn at(file: &str, line: u64, reason: impl Into<String>) -> Self {
        let reason = one_line(reason.into());
        BankImportError {
            file: file.to_string(),
            message: format!("line {line}: {reason}"),
            rejected: vec![RejectedRow { line, reason }],
        }
    }

    /// The file refused for its rejected rows (`rejected` is not empty).
    pub(crate) fn rows(file: &str, rejected: Vec<RejectedRow>) -> Self {
        let n = rejected.len();
        BankImportError {
            file: file.to_string(),
            message: format!(
                "{n} row{} rejected; nothing was imported",
                if n == 1 { "" } else { "s" }
            ),
            rejected,
        }
    }
}

/// One line: `bank.xml line 12: amount "12.3.4" is not a decimal number (and 2 more rows
/// rejected)`.
impl fmt::Display for BankImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rejected.first() {
            Some(first) => {
                write!(f, "{} line {}: {}", self.file, first.line, first.reason)?;
                let more = self.rejected.len() - 1;
                if more > 0 {
                    write!(
                        f,
                        " (and {more} more row{} rejected)",
                        if more == 1 { "" } else { "s" }
                    )?;
                }
                Ok(())
            }
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for BankImportError {}

/// Most characters of a reason kept: reasons quote the file's own text, which may be long.
const MAX_REASON_CHARS: usize = 300;

/// A reason as one line of bounded length: the file's text quoted in it may hold line
/// breaks and control characters (shown as spaces) or be megabytes long (cut with "…").
fn one_line(s: String) -> String {
    if s.chars().count() <= MAX_REASON_CHARS && !s.chars().any(char::is_control) {
        return s;
    }
    let mut out: String = s
        .chars()
        .take(MAX_REASON_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > MAX_REASON_CHARS {
        out.push('…');
    }
    out
}

/// Collects rejected rows so a parser can go on and list every bad row of a file.
#[derive(Default)]
pub(crate) struct Rejections(pub Vec<RejectedRow>);

impl Rejections {
    pub fn push(&mut self, line: u64, reason: impl Into<String>) {
        self.0.push(RejectedRow {
            line,
            reason: one_line(reason.into()),
        });
    }

    /// `Err` with every rejected row when there are any.
    pub fn finish<T>(self, file: &str, value: T) -> Result<T, BankImportError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(BankImportError::rows(file, self.0))
        }
    }
}

/// A parsed bank file: its statements and what was left out on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankImport {
    pub format: BankFormat,
    pub statements: Vec<BankStatement>,
    /// camt.053 entries not booked (`Sts` PDNG or INFO), which are not statement lines.
    pub skipped_pending: usize,
}

/// Recognises a bank file by its content, then by its name: camt.053 XML (a
/// `BkToCstmrStmt` element near the start), MT940 (starts with `:20:` or a `{1:` block),
/// a spreadsheet (ZIP or OLE container) or a `.csv`/`.xlsx`/`.xls` name. `None` otherwise.
pub fn detect_bank_format(bytes: &[u8], file_name: &str) -> Option<BankFormat> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&head[head.len()..], |i| &head[i..]);
    if start.starts_with(b"<") {
        if contains(head, b"BkToCstmrStmt") {
            return Some(BankFormat::Camt053);
        }
        return None;
    }
    if start.starts_with(b":20:") || start.starts_with(b"{1:") || start.starts_with(b":940:") {
        return Some(BankFormat::Mt940);
    }
    if start.starts_with(b"PK\x03\x04") || start.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Some(BankFormat::Table);
    }
    let lower = file_name.to_ascii_lowercase();
    if [".csv", ".xlsx", ".xls"].iter().any(|e| lower.ends_with(e)) {
        return Some(BankFormat::Table);
    }
    if [".sta", ".mt940", ".940"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return Some(BankFormat::Mt940);
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parses a bank statement file into its statements (a camt.053 may hold several `Stmt`,
/// an MT940 file several messages). `format` `None` detects it ([`detect_bank_format`]);
/// `mapping` is used for tables (`None`: [`BankTableMapping::default`]).
pub fn parse_bank_statement(
    bytes: &[u8],
    file_name: &str,
    format: Option<BankFormat>,
    mapping: Option<&BankTableMapping>,
) -> Result<Vec<BankStatement>, BankImportError> {
    import_bank_statement(bytes, file_name, format, mapping).map(|i| i.statements)
}

/// [`parse_bank_statement`], also saying which format was read and how many unbooked
/// entries were left out.
pub fn import_bank_statement(
    bytes: &[u8],
    file_name: &str,
    format: Option<BankFormat>,
    mapping: Option<&BankTableMapping>,
) -> Result<BankImport, BankImportError> {
    if bytes.len() > MAX_BANK_FILE_BYTES {
        return Err(BankImportError::file(
            file_name,
            format!(
                "the file is {} MiB, larger than the {} MiB a bank statement may be",
                bytes.len() / (1024 * 1024),
                MAX_BANK_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let format = match format.or_else(|| detect_bank_format(bytes, file_name)) {
        Some(f) => f,
        None => {
            return Err(BankImportError::file(
                file_name,
                "not a recognised bank statement: expected camt.053 XML, MT940, or a CSV/XLSX/XLS export",
            ))
        }
    };
    let default_mapping;
    let mapping = match mapping {
        Some(m) => m,
        None => {
            default_mapping = BankTableMapping::default();
            &default_mapping
        }
    };
    let (statements, skipped_pending) = match format {
        BankFormat::Camt053 => camt053::parse(bytes, file_name)?,
        BankFormat::Mt940 => (mt940::parse(bytes, file_name)?, 0),
        BankFormat::Table => (vec![table::parse(bytes, file_name, mapping)?], 0),
    };
    Ok(BankImport {
        format,
        statements,
        skipped_pending,
    })
}

/// Adds `r` to `refs` unless it is empty or already there (statement order, no duplicates).
pub(crate) fn push_ref(refs: &mut Vec<String>, r: &str) {
    let r = r.trim();
    if !r.is_empty() && !r.eq_ignore_ascii_case("NOTPROVIDED") && !refs.iter().any(|x| x == r) {
        refs.push(r.to_string());
    }
}

/// Adds a piece of free text to `parts` unless it is empty; [`join_text`] joins them.
pub(crate) fn push_text(parts: &mut Vec<String>, t: &str) {
    let t = t.trim();
    if !t.is_empty() {
        parts.push(t.to_string());
    }
}

pub(crate) fn join_text(parts: &[String]) -> String {
    parts.join(" / ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn detects_by_content_then_name() {
        let camt = b"\xEF\xBB\xBF<?xml version=\"1.0\"?><Document><BkToCstmrStmt>";
        assert_eq!(detect_bank_format(camt, "x.txt"), Some(BankFormat::Camt053));
        assert_eq!(detect_bank_format(b"<html></html>", "x.xml"), None);
        assert_eq!(
            detect_bank_format(b"\r\n:20:STARTUMS\r\n", "a"),
            Some(BankFormat::Mt940)
        );
        assert_eq!(
            detect_bank_format(b"{1:F01INGBNL2ABXXX0000000000}", "a"),
            Some(BankFormat::Mt940)
        );
        assert_eq!(
            detect_bank_format(b"a,b\n", "export.CSV"),
            Some(BankFormat::Table)
        );
        assert_eq!(
            detect_bank_format(b"PK\x03\x04....", "a"),
            Some(BankFormat::Table)
        );
        assert_eq!(detect_bank_format(b"hello", "notes.txt"), None);
    }

    #[test]
    fn display_is_one_line_with_the_first_row_and_the_count() {
        let e = BankImportError::rows(
            "b.csv",
            vec![
                RejectedRow {
                    line: 7,
                    reason: "bad".into(),
                },
                RejectedRow {
                    line: 9,
                    reason: "worse".into(),
                },
            ],
        );
        assert_eq!(e.to_string(), "b.csv line 7: bad (and 1 more row rejected)");
        assert_eq!(
            BankImportError::file("b.csv", "empty").to_string(),
            "b.csv: empty"
        );
    }

    #[test]
    fn reasons_are_one_bounded_line() {
        let e = BankImportError::at("f", 3, format!("bad {:?}\n{}", "x", "y".repeat(1000)));
        let shown = e.to_string();
        assert!(!shown.contains('\n'));
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() < 330, "{shown}");
    }

    #[test]
    fn oversized_files_are_refused_before_reading() {
        let big = vec![b' '; MAX_BANK_FILE_BYTES + 1];
        let e = parse_bank_statement(&big, "big.xml", Some(BankFormat::Camt053), None).unwrap_err();
        assert!(e.message.contains("200 MiB"), "{e}");
    }
}
