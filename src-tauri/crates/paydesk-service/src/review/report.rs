//! Discrepancy reports: CSV and XLSX exports for finance staff and auditors, and the re-import
//! of the review columns a person filled in Excel.
//!
//! * [`write_csv`]: UTF-8 with BOM (so Excel opens Chinese text correctly), one header row in
//!   the report language, one row per discrepancy. Amounts are plain decimal strings
//!   (`-35.80`, `3000`); every other text cell goes through [`neutralize`].
//! * [`write_xlsx`]: three sheets, "Summary"/"汇总" (meta lines and totals per class ×
//!   provider × currency), "Detail"/"明细" (one row per discrepancy, with the editable
//!   review columns State, Resolution, Assignee, Note) and "Help"/"说明" (what each class
//!   means, what the editable columns accept).
//! * [`read_review_xlsx`]: reads the Detail sheet back, finds columns by their header text in
//!   either language (so reordered columns still work), and turns each edited row into a
//!   [`ReviewChange`] or a [`RejectedRow`] that says which column is wrong.
//!
//! # Formula injection
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is something a
//! spreadsheet may execute. Such free-text cells are written with a leading `'` in both CSV and
//! XLSX. Amount columns are exempt: `-35.80` in an amount column is data, and in XLSX it is a
//! number cell anyway. On import the added `'` is taken off again (see [`read_review_xlsx`]).
//!
//! # Amounts in XLSX
//! Money is `i64` minor units everywhere and is never computed with floats. An XLSX number
//! cell, however, *is* an IEEE double, so the only float on the money path is the final
//! conversion of an exact decimal string into a cell value:
//!
//! 1. the minor units are formatted exactly as a decimal string with the currency's number of
//!    decimals (`123456789012` CNY → `"1234567890.12"`, `3000` JPY → `"3000"`);
//! 2. if the amount has at most 15 significant digits, that string is parsed into the nearest
//!    double. Every decimal with ≤ 15 significant digits survives decimal → double → shortest
//!    decimal unchanged, and the cell XML holds the shortest representation, so the file
//!    contains exactly `1234567890.12`; Excel (15-digit precision) shows it exactly, and the
//!    cell gets a number format with the currency's decimals (`#,##0.00`, `#,##0`, `#,##0.000`)
//!    so sums and filters work;
//! 3. larger amounts (≥ 10¹⁵ minor units, e.g. more than 9,999,999,999,999.99 CNY) cannot be
//!    held exactly by a double, so they are written as a right-aligned **text** cell with the
//!    exact decimal string instead of being silently rounded.
//!
//! No arithmetic is ever done on the double.
//!
//! # Times
//! Times are written as text in the provider's day-boundary time zone with the offset
//! (`2026-11-22 23:58:01 +08:00`), because Excel date cells have no time zone and the bill
//! date of Alipay and WeChat is a Beijing day.

use calamine::{Data, Reader};
use chrono::{DateTime, Utc};
use paydesk_core::discrepancy::{OutcomeClass, ResolutionKind, ReviewState};
use paydesk_core::domain::Provider;
use paydesk_core::money::Currency;
use paydesk_core::review::{DiscrepancyRecord, ReviewChange};
use paydesk_providers::statement::InputLimits;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DocProperties, Format, FormatAlign,
    FormatBorder, Note, Workbook, Worksheet, XlsxError,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

/// Language of headers, sheet names, class labels and help texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    fn class_label(self, class: OutcomeClass) -> &'static str {
        self.pick(class.label_en(), class.label_zh())
    }

    fn class_description(self, class: OutcomeClass) -> &'static str {
        self.pick(class.description_en(), class.description_zh())
    }
}

/// What a report is about; printed on the Summary sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMeta {
    pub title: String,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    /// e.g. "run 12: alipay-main 2026-11-22", or the filter in words.
    pub scope: String,
    pub lang: Lang,
}

/// Everything that can go wrong writing or reading a report. Each message names the file (or
/// the CSV output) and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the CSV report: {0}")]
    CsvWrite(#[source] csv::Error),
    #[error("cannot write the CSV report: {0}")]
    Io(#[source] std::io::Error),
    #[error("cannot write the XLSX report {path}: {source}")]
    XlsxWrite {
        path: String,
        #[source]
        source: XlsxError,
    },
    #[error("{path}: {rows} discrepancies do not fit on one sheet (Excel allows {max} data rows); narrow the filter and export again")]
    TooManyRows {
        path: String,
        rows: usize,
        max: usize,
    },
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} cannot be opened as an XLSX workbook (is it an Excel .xlsx file?): {reason}")]
    NotXlsx { path: String, reason: String },
    /// The file is past one of the `[limits]` (its message names the limit).
    #[error("{0}")]
    TooLarge(String),
    #[error("{path} has no sheet named \"Detail\" or \"明细\" (its sheets: {found}); import the file Paydesk exported")]
    NoDetailSheet { path: String, found: String },
    #[error("{path}: cannot read sheet \"{sheet}\": {reason}")]
    ReadSheet {
        path: String,
        sheet: String,
        reason: String,
    },
    #[error("{path}: sheet \"{sheet}\" has no \"{en}\" / \"{zh}\" column header; the header row must keep that column")]
    MissingColumn {
        path: String,
        sheet: String,
        en: &'static str,
        zh: &'static str,
    },
    #[error("{path}: sheet \"{sheet}\" has none of the review columns (State, Resolution, Assignee, Note / 状态, 处理方式, 负责人, 备注); nothing to import")]
    NoReviewColumns { path: String, sheet: String },
}

// ---------------------------------------------------------------------------------------------
// Neutralizing cells
// ---------------------------------------------------------------------------------------------

pub use crate::context::cells::{neutralize, unneutralize};

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
    Id,
    Account,
    Provider,
    BillDate,
    Class,
    OrderNo,
    ProviderTxnId,
    RefundNo,
    Currency,
    ProviderAmount,
    LocalAmount,
    Difference,
    ProviderTime,
    LocalTime,
    Evidence,
    Explanation,
    DueDate,
    AgeDays,
    State,
    Resolution,
    Assignee,
    Note,
}

const DETAIL_COLUMNS: [Col; 22] = [
    Col::Id,
    Col::Account,
    Col::Provider,
    Col::BillDate,
    Col::Class,
    Col::OrderNo,
    Col::ProviderTxnId,
    Col::RefundNo,
    Col::Currency,
    Col::ProviderAmount,
    Col::LocalAmount,
    Col::Difference,
    Col::ProviderTime,
    Col::LocalTime,
    Col::Evidence,
    Col::Explanation,
    Col::DueDate,
    Col::AgeDays,
    Col::State,
    Col::Resolution,
    Col::Assignee,
    Col::Note,
];

impl Col {
    fn en(self) -> &'static str {
        match self {
            Col::Id => "ID",
            Col::Account => "Account",
            Col::Provider => "Provider",
            Col::BillDate => "Bill date",
            Col::Class => "Class",
            Col::OrderNo => "Order no",
            Col::ProviderTxnId => "Provider txn id",
            Col::RefundNo => "Refund no",
            Col::Currency => "Currency",
            Col::ProviderAmount => "Provider amount",
            Col::LocalAmount => "Local amount",
            Col::Difference => "Difference",
            Col::ProviderTime => "Provider time",
            Col::LocalTime => "Local time",
            Col::Evidence => "Evidence (file:line)",
            Col::Explanation => "Explanation",
            Col::DueDate => "Due date",
            Col::AgeDays => "Age (days)",
            Col::State => "State",
            Col::Resolution => "Resolution",
            Col::Assignee => "Assignee",
            Col::Note => "Note",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Col::Id => "编号",
            Col::Account => "账户",
            Col::Provider => "渠道",
            Col::BillDate => "账单日期",
            Col::Class => "差异类型",
            Col::OrderNo => "商户订单号",
            Col::ProviderTxnId => "渠道交易号",
            Col::RefundNo => "退款单号",
            Col::Currency => "币种",
            Col::ProviderAmount => "渠道金额",
            Col::LocalAmount => "我方金额",
            Col::Difference => "差额",
            Col::ProviderTime => "渠道时间",
            Col::LocalTime => "我方时间",
            Col::Evidence => "证据（文件:行）",
            Col::Explanation => "差异说明",
            Col::DueDate => "处理截止时间",
            Col::AgeDays => "账龄（天）",
            Col::State => "状态",
            Col::Resolution => "处理方式",
            Col::Assignee => "负责人",
            Col::Note => "备注",
        }
    }

    fn header(self, lang: Lang) -> &'static str {
        lang.pick(self.en(), self.zh())
    }

    /// Whether a header cell names this column (either language, case and spaces ignored).
    fn matches_header(self, cell: &str) -> bool {
        let norm = normalize_header(cell);
        norm == normalize_header(self.en()) || norm == normalize_header(self.zh())
    }

    fn width(self) -> f64 {
        match self {
            Col::Id => 9.0,
            Col::Account => 16.0,
            Col::Provider => 9.0,
            Col::BillDate => 11.0,
            Col::Class => 24.0,
            Col::OrderNo => 22.0,
            Col::ProviderTxnId => 30.0,
            Col::RefundNo => 20.0,
            Col::Currency => 8.0,
            Col::ProviderAmount | Col::LocalAmount | Col::Difference => 15.0,
            Col::ProviderTime | Col::LocalTime | Col::DueDate => 26.0,
            Col::Evidence => 30.0,
            Col::Explanation => 50.0,
            Col::AgeDays => 10.0,
            Col::State => 15.0,
            Col::Resolution => 22.0,
            Col::Assignee => 15.0,
            Col::Note => 40.0,
        }
    }

    fn is_editable(self) -> bool {
        matches!(
            self,
            Col::State | Col::Resolution | Col::Assignee | Col::Note
        )
    }
}

fn normalize_header(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The value of one cell of a discrepancy row, before it is written as CSV or XLSX.
enum Cell {
    /// Our own integer (id, age).
    Int(i64),
    /// An amount in minor units of the row's currency.
    Amount(i64),
    /// Free text: neutralized on output.
    Text(String),
    Empty,
}

fn opt_text(v: &Option<String>) -> Cell {
    match v {
        Some(s) if !s.is_empty() => Cell::Text(s.clone()),
        _ => Cell::Empty,
    }
}

fn opt_amount(v: Option<i64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Amount)
}

/// A time in the provider's day-boundary time zone, with the offset.
fn format_time(t: DateTime<Utc>, provider: Provider) -> String {
    t.with_timezone(&provider.default_timezone())
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

fn cell_value(rec: &DiscrepancyRecord, col: Col, meta: &ReportMeta) -> Cell {
    match col {
        Col::Id => Cell::Int(rec.id),
        Col::Account => Cell::Text(rec.account.clone()),
        Col::Provider => Cell::Text(rec.provider.as_str().to_string()),
        Col::BillDate => Cell::Text(rec.bill_date.to_string()),
        Col::Class => Cell::Text(meta.lang.class_label(rec.class).to_string()),
        Col::OrderNo => opt_text(&rec.order_no),
        Col::ProviderTxnId => opt_text(&rec.provider_txn_id),
        Col::RefundNo => opt_text(&rec.refund_no),
        Col::Currency => Cell::Text(rec.currency.code().to_string()),
        Col::ProviderAmount => opt_amount(rec.provider_amount),
        // An amount in another currency than the row's names its currency; a difference
        // between two currencies is no number at all.
        Col::LocalAmount => match (rec.local_amount, rec.local_currency) {
            (Some(v), Some(c)) if c != rec.currency => {
                Cell::Text(format!("{} {}", c.format_minor(v), c.code()))
            }
            (v, _) => opt_amount(v),
        },
        Col::Difference => match (rec.provider_currency, rec.local_currency) {
            (Some(p), Some(l)) if p != l => Cell::Text(format!(
                "{} ({} / {})",
                meta.lang.pick("not comparable", "币种不同，不可比"),
                p.code(),
                l.code()
            )),
            _ => Cell::Amount(rec.difference),
        },
        Col::ProviderTime => rec
            .provider_time
            .map_or(Cell::Empty, |t| Cell::Text(format_time(t, rec.provider))),
        Col::LocalTime => rec
            .local_time
            .map_or(Cell::Empty, |t| Cell::Text(format_time(t, rec.provider))),
        Col::Evidence => match (&rec.evidence_file, rec.evidence_line) {
            (Some(f), Some(l)) => Cell::Text(format!("{f}:{l}")),
            (Some(f), None) => Cell::Text(f.clone()),
            (None, _) => Cell::Empty,
        },
        Col::Explanation => Cell::Text(match (meta.lang, &rec.explanation_zh) {
            (Lang::Zh, Some(zh)) if !zh.is_empty() => zh.clone(),
            _ => rec.explanation.clone(),
        }),
        Col::DueDate => Cell::Text(format_time(rec.due_at, rec.provider)),
        Col::AgeDays => Cell::Int(
            meta.generated_at
                .signed_duration_since(rec.created_at)
                .num_days()
                .max(0),
        ),
        Col::State => Cell::Text(rec.state.as_str().to_string()),
        Col::Resolution => rec
            .resolution
            .map_or(Cell::Empty, |r| Cell::Text(r.as_str().to_string())),
        Col::Assignee => opt_text(&rec.assignee),
        Col::Note => opt_text(&rec.note),
    }
}

/// Formats an `i128` of minor units exactly with `exponent` decimals (sums can exceed i64).
fn format_minor_wide(value: i128, exponent: u8) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let divisor = 10u128.pow(u32::from(exponent));
    format!(
        "{sign}{}.{:0width$}",
        abs / divisor,
        abs % divisor,
        width = usize::from(exponent)
    )
}

/// Largest magnitude (in minor units) written as an XLSX number: below 10¹⁵ every value has at
/// most 15 significant digits and survives the double exactly.
const MAX_EXACT_MINOR: u128 = 999_999_999_999_999;

/// The exact cell value for an amount: `Ok(number)` when a double represents the decimal
/// exactly (see the module docs), `Err(text)` with the exact decimal otherwise.
fn amount_cell_value(minor: i128, currency: Currency) -> Result<f64, String> {
    let text = format_minor_wide(minor, currency.exponent());
    if minor.unsigned_abs() > MAX_EXACT_MINOR {
        return Err(text);
    }
    // Parsing (not arithmetic): the nearest double to a ≤15-significant-digit decimal, whose
    // shortest representation is that decimal again.
    text.parse::<f64>().map_err(|_| text)
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// Writes the discrepancies as CSV: UTF-8 BOM, a header row in `meta.lang`, one row per
/// discrepancy, in the same columns as the XLSX Detail sheet. Amounts are plain decimal strings
/// with the currency's decimals; all other text is [`neutralize`]d.
pub fn write_csv<W: Write>(
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    mut out: W,
) -> Result<(), ReportError> {
    out.write_all(b"\xEF\xBB\xBF").map_err(ReportError::Io)?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(DETAIL_COLUMNS.iter().map(|c| c.header(meta.lang)))
        .map_err(ReportError::CsvWrite)?;
    for rec in rows {
        let fields: Vec<String> = DETAIL_COLUMNS
            .iter()
            .map(|&col| match (col, cell_value(rec, col, meta)) {
                // The CSV is read, not re-imported: its state and resolution are in words.
                (Col::State, _) => meta
                    .lang
                    .pick(rec.state.label_en(), rec.state.label_zh())
                    .to_string(),
                (Col::Resolution, Cell::Text(_)) => rec
                    .resolution
                    .map(|r| meta.lang.pick(r.label_en(), r.label_zh()).to_string())
                    .unwrap_or_default(),
                (_, Cell::Int(v)) => v.to_string(),
                (_, Cell::Amount(v)) => rec.currency.format_minor(v),
                (_, Cell::Text(s)) => neutralize(&s).into_owned(),
                (_, Cell::Empty) => String::new(),
            })
            .collect();
        w.write_record(&fields).map_err(ReportError::CsvWrite)?;
    }
    w.flush().map_err(ReportError::Io)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------------------------

/// Excel's row limit minus the header row.
const MAX_DETAIL_ROWS: usize = 1_048_575;
/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

fn sheet_names(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::En => ("Summary", "Detail", "Help"),
        Lang::Zh => ("汇总", "明细", "说明"),
    }
}

/// Sheet names [`read_review_xlsx`] accepts for the detail sheet.
const DETAIL_SHEET_NAMES: [&str; 2] = ["Detail", "明细"];

/// Integers (not money) up to 2^53 are exact in a double.
const MAX_EXACT_INT: u64 = 1 << 53;

/// Cuts text to what one XLSX cell can hold.
fn fit_cell(s: &str) -> Cow<'_, str> {
    if s.chars().count() <= MAX_CELL_CHARS {
        Cow::Borrowed(s)
    } else {
        let mut cut: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
        cut.push('…');
        Cow::Owned(cut)
    }
}

struct Formats {
    header: Format,
    header_editable: Format,
    editable: Format,
    title: Format,
    label: Format,
    wrap: Format,
    /// Right-aligned text for amounts too large for an exact number cell.
    big_amount: Format,
    /// Amount number formats by currency exponent.
    amount: HashMap<u8, Format>,
}

impl Formats {
    fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xD9E1F2))
            .set_border_bottom(FormatBorder::Thin);
        Formats {
            header_editable: header.clone().set_background_color(Color::RGB(0xFFE699)),
            header,
            editable: Format::new()
                .set_background_color(Color::RGB(0xFFF8E1))
                .set_unlocked(),
            title: Format::new().set_bold().set_font_size(14),
            label: Format::new().set_bold(),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            big_amount: Format::new().set_align(FormatAlign::Right),
            amount: HashMap::new(),
        }
    }

    fn amount(&mut self, exponent: u8) -> &Format {
        self.amount.entry(exponent).or_insert_with(|| {
            let pattern = if exponent == 0 {
                "#,##0".to_string()
            } else {
                format!("#,##0.{}", "0".repeat(usize::from(exponent)))
            };
            Format::new().set_num_format(pattern)
        })
    }
}

fn write_amount(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    minor: i128,
    currency: Currency,
    formats: &mut Formats,
) -> Result<(), XlsxError> {
    match amount_cell_value(minor, currency) {
        Ok(number) => {
            let format = formats.amount(currency.exponent()).clone();
            ws.write_number_with_format(row, col, number, &format)?;
        }
        Err(text) => {
            ws.write_string_with_format(row, col, text, &formats.big_amount)?;
        }
    }
    Ok(())
}

fn write_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let safe = neutralize(text);
    let fitted = fit_cell(&safe);
    match format {
        Some(f) => ws.write_string_with_format(row, col, fitted.as_ref(), f)?,
        None => ws.write_string(row, col, fitted.as_ref())?,
    };
    Ok(())
}

/// Totals of one class × provider × currency group, in minor units.
#[derive(Default)]
struct Group {
    count: u64,
    abs_difference: i128,
    provider_total: i128,
    local_total: i128,
}

fn summarize(rows: &[DiscrepancyRecord]) -> BTreeMap<(OutcomeClass, Provider, Currency), Group> {
    let mut groups: BTreeMap<(OutcomeClass, Provider, Currency), Group> = BTreeMap::new();
    for rec in rows {
        let g = groups
            .entry((rec.class, rec.provider, rec.currency))
            .or_default();
        g.count += 1;
        // i128 cannot overflow here: even 2^63 rows of i64::MIN stay far inside its range.
        g.abs_difference += i128::from(rec.difference.unsigned_abs());
        g.provider_total += i128::from(rec.provider_amount.unwrap_or(0));
        // A local amount in another currency does not add into this currency's total.
        if rec.local_currency.is_none_or(|c| c == rec.currency) {
            g.local_total += i128::from(rec.local_amount.unwrap_or(0));
        }
    }
    groups
}

/// Writes an XLSX workbook with the sheets Summary/汇总, Detail/明细 and Help/说明 (names in
/// `meta.lang`). The Detail sheet is the one to fill in and re-import with
/// [`read_review_xlsx`]: its header row is frozen and filtered, State and Resolution have
/// dropdowns of the snake_case codes, and the editable columns are shaded and carry a note.
pub fn write_xlsx(
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    path: &Path,
) -> Result<(), ReportError> {
    write_xlsx_with(rows, meta, &path.display().to_string(), |workbook| {
        workbook.save(path)
    })
}

/// [`write_xlsx`] into `out` (an already opened file); `shown` names it in errors.
pub fn write_xlsx_to<W: Write + std::io::Seek + Send>(
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    shown: &str,
    out: W,
) -> Result<(), ReportError> {
    write_xlsx_with(rows, meta, shown, |workbook| workbook.save_to_writer(out))
}

fn write_xlsx_with(
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    shown: &str,
    save: impl FnOnce(&mut Workbook) -> Result<(), XlsxError>,
) -> Result<(), ReportError> {
    if rows.len() > MAX_DETAIL_ROWS {
        return Err(ReportError::TooManyRows {
            path: shown.to_string(),
            rows: rows.len(),
            max: MAX_DETAIL_ROWS,
        });
    }
    build_workbook(rows, meta)
        .and_then(|mut workbook| save(&mut workbook))
        .map_err(|source| ReportError::XlsxWrite {
            path: shown.to_string(),
            source,
        })
}

fn build_workbook(rows: &[DiscrepancyRecord], meta: &ReportMeta) -> Result<Workbook, XlsxError> {
    let lang = meta.lang;
    let (summary_name, detail_name, help_name) = sheet_names(lang);
    let mut formats = Formats::new();
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(meta.title.as_str())
            .set_author(meta.generated_by.as_str())
            .set_comment(meta.scope.as_str()),
    );

    let summary = workbook.add_worksheet();
    summary.set_name(summary_name)?;
    write_summary(summary, rows, meta, &mut formats)?;

    let detail = workbook.add_worksheet();
    detail.set_name(detail_name)?;
    write_detail(detail, rows, meta, &mut formats)?;

    let help = workbook.add_worksheet();
    help.set_name(help_name)?;
    write_help(help, lang, &formats)?;

    Ok(workbook)
}

fn write_summary(
    ws: &mut Worksheet,
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    formats: &mut Formats,
) -> Result<(), XlsxError> {
    let lang = meta.lang;
    write_text(ws, 0, 0, &meta.title, Some(&formats.title))?;
    let generated_at = meta
        .generated_at
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let count = rows.len().to_string();
    let lines: [(&str, &str); 4] = [
        (lang.pick("Generated at", "生成时间"), &generated_at),
        (lang.pick("Generated by", "生成人"), &meta.generated_by),
        (lang.pick("Scope", "范围"), &meta.scope),
        (lang.pick("Discrepancies", "差异笔数"), &count),
    ];
    for (i, (label, value)) in (1u32..).zip(lines) {
        ws.write_string_with_format(i, 0, label, &formats.label)?;
        write_text(ws, i, 1, value, None)?;
    }

    let header_row = 6u32;
    let headers = [
        lang.pick("Class", "差异类型"),
        lang.pick("What it means", "含义"),
        lang.pick("Provider", "渠道"),
        lang.pick("Currency", "币种"),
        lang.pick("Count", "笔数"),
        lang.pick("Sum of |difference|", "差额绝对值合计"),
        lang.pick("Provider total", "渠道金额合计"),
        lang.pick("Local total", "我方金额合计"),
    ];
    let widths = [26.0, 60.0, 10.0, 9.0, 9.0, 20.0, 18.0, 18.0];
    for ((col, header), width) in (0u16..).zip(headers).zip(widths) {
        ws.write_string_with_format(header_row, col, header, &formats.header)?;
        ws.set_column_width(col, width)?;
    }
    let mut row = header_row;
    for ((class, provider, currency), g) in summarize(rows) {
        row += 1;
        ws.write_string(row, 0, lang.class_label(class))?;
        ws.write_string(row, 1, lang.class_description(class))?;
        ws.write_string(row, 2, provider.as_str())?;
        ws.write_string(row, 3, currency.code())?;
        // A count is not money; u64 → f64 is exact below 2^53 rows.
        ws.write_number(row, 4, g.count as f64)?;
        write_amount(ws, row, 5, g.abs_difference, currency, formats)?;
        write_amount(ws, row, 6, g.provider_total, currency, formats)?;
        write_amount(ws, row, 7, g.local_total, currency, formats)?;
    }
    if row > header_row {
        ws.autofilter(header_row, 0, row, 7)?;
    }
    ws.set_freeze_panes(header_row + 1, 0)?;
    row += 2;
    let note = lang.pick(
        "Amounts are in the currency's units. Provider/local totals add up the amounts each side recorded; a missing side counts as 0. Review and edit on the Detail sheet; see Help for what each class and column means.",
        "金额以对应币种的主单位表示（如人民币为元）。渠道/我方金额合计为各方记录金额之和，缺失一方按 0 计。请在“明细”表中处理差异；各差异类型与可编辑列的含义见“说明”表。",
    );
    ws.write_string(row, 0, note)?;
    Ok(())
}

fn write_detail(
    ws: &mut Worksheet,
    rows: &[DiscrepancyRecord],
    meta: &ReportMeta,
    formats: &mut Formats,
) -> Result<(), XlsxError> {
    let lang = meta.lang;
    for (col, c) in (0u16..).zip(DETAIL_COLUMNS) {
        let f = if c.is_editable() {
            &formats.header_editable
        } else {
            &formats.header
        };
        ws.write_string_with_format(0, col, c.header(lang), f)?;
        ws.set_column_width(col, c.width())?;
        if let Some(text) = editable_note(c, lang) {
            let note = Note::new(text)
                .add_author_prefix(false)
                .set_width(320)
                .set_height(110);
            ws.insert_note(0, col, &note)?;
        }
    }
    for (row, rec) in (1u32..).zip(rows) {
        for (col, c) in (0u16..).zip(DETAIL_COLUMNS) {
            let editable = c.is_editable().then(|| formats.editable.clone());
            match cell_value(rec, c, meta) {
                Cell::Int(v) if v.unsigned_abs() <= MAX_EXACT_INT => {
                    // Ids and ages: below 2^53 the double holds them exactly.
                    ws.write_number(row, col, v as f64)?;
                }
                Cell::Int(v) => {
                    ws.write_string(row, col, v.to_string())?;
                }
                Cell::Amount(v) => {
                    write_amount(ws, row, col, i128::from(v), rec.currency, formats)?;
                }
                Cell::Text(s) => write_text(ws, row, col, &s, editable.as_ref())?,
                Cell::Empty => {
                    if let Some(f) = &editable {
                        ws.write_blank(row, col, f)?;
                    }
                }
            }
        }
    }

    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX).max(1);
    let last_col = u16::try_from(DETAIL_COLUMNS.len() - 1).unwrap_or(0);
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last_row, last_col)?;

    let states = [
        ReviewState::Open.as_str(),
        ReviewState::Investigating.as_str(),
        ReviewState::Resolved.as_str(),
    ];
    let resolutions: Vec<&str> = ResolutionKind::ALL
        .iter()
        .filter(|k| **k != ResolutionKind::AutoMatched)
        .map(|k| k.as_str())
        .collect();
    for (c, list, msg) in [
        (
            Col::State,
            states.to_vec(),
            lang.pick(
                "Choose open, investigating or resolved.",
                "请选择 open、investigating 或 resolved。",
            ),
        ),
        (
            Col::Resolution,
            resolutions,
            lang.pick(
                "Only with state resolved: corrected_locally, corrected_at_provider, written_off or not_an_issue.",
                "仅在状态为 resolved 时填写：corrected_locally、corrected_at_provider、written_off 或 not_an_issue。",
            ),
        ),
    ] {
        let Some(col) = DETAIL_COLUMNS.iter().position(|x| *x == c) else {
            continue;
        };
        let col = u16::try_from(col).unwrap_or(0);
        let dv = DataValidation::new()
            .allow_list_strings(&list)?
            .ignore_blank(true)
            .set_error_style(DataValidationErrorStyle::Stop)
            .set_error_title(lang.pick("Not a valid code", "无效代码"))?
            .set_error_message(msg)?
            .set_input_message(msg)?;
        ws.add_data_validation(1, col, last_row, col, &dv)?;
    }
    Ok(())
}

fn editable_note(c: Col, lang: Lang) -> Option<&'static str> {
    Some(match c {
        Col::State => lang.pick(
            "Editable. open, investigating or resolved. resolved needs a Resolution.",
            "可编辑。open（待处理）、investigating（调查中）或 resolved（已解决）；resolved 需填写处理方式。",
        ),
        Col::Resolution => lang.pick(
            "Editable, only with State resolved: corrected_locally, corrected_at_provider, written_off, not_an_issue. auto_matched is set by Paydesk only.",
            "可编辑，仅在状态为 resolved 时填写：corrected_locally、corrected_at_provider、written_off、not_an_issue。auto_matched 仅由系统设置。",
        ),
        Col::Assignee => lang.pick(
            "Editable. Who handles it (1 to 100 characters); empty it to unassign.",
            "可编辑。处理人（1 至 100 个字符）；清空表示取消指派。",
        ),
        Col::Note => lang.pick(
            "Editable. Free text, at most 4000 characters.",
            "可编辑。自由文本，最多 4000 个字符。",
        ),
        _ => return None,
    })
}

fn resolution_description(kind: ResolutionKind, lang: Lang) -> &'static str {
    match kind {
        ResolutionKind::CorrectedLocally => lang.pick(
            "Our records were corrected to agree with the provider.",
            "已更正我方记录，与渠道一致。",
        ),
        ResolutionKind::CorrectedAtProvider => lang.pick(
            "The provider corrected its side (or a refund/adjustment was issued).",
            "渠道已更正（或已发起退款/调账）。",
        ),
        ResolutionKind::WrittenOff => lang.pick(
            "The difference is real and accepted (written off).",
            "差异属实，已核销。",
        ),
        ResolutionKind::NotAnIssue => lang.pick(
            "Not a real difference (e.g. a test order).",
            "不是真实差异（例如测试订单）。",
        ),
        ResolutionKind::AutoMatched => lang.pick(
            "Set by Paydesk only (e.g. a timing difference matched the next day); not for reviewers.",
            "仅由系统设置（例如跨日差异次日自动匹配）；请勿手工选择。",
        ),
    }
}

fn write_help(ws: &mut Worksheet, lang: Lang, formats: &Formats) -> Result<(), XlsxError> {
    ws.set_column_width(0, 28.0)?;
    ws.set_column_width(1, 90.0)?;
    ws.set_column_width(2, 26.0)?;
    let mut row = 0u32;
    ws.write_string_with_format(
        row,
        0,
        lang.pick("How to use this workbook", "使用说明"),
        &formats.title,
    )?;
    row += 1;
    ws.write_string_with_format(
        row,
        1,
        lang.pick(
            "Fill in the shaded columns State, Resolution, Assignee and Note on the Detail sheet, save the file as .xlsx and import it in Paydesk. Do not change the ID column; other columns are for reference and are ignored on import. You may sort, filter and reorder columns.",
            "在“明细”表中填写带底色的列：状态、处理方式、负责人、备注，保存为 .xlsx 后在 Paydesk 中导入。请勿修改编号列；其余列仅供参考，导入时忽略。可以排序、筛选和调整列顺序。",
        ),
        &formats.wrap,
    )?;
    row += 1;
    ws.write_string_with_format(
        row,
        1,
        lang.pick(
            "Text starting with = + - @ is shown with a leading ' so spreadsheets do not run it as a formula. Amounts are numbers in the currency's units; times are in the provider's time zone.",
            "以 = + - @ 开头的文本前加了 '，防止被当作公式执行。金额为对应币种单位的数字；时间为渠道所在时区。",
        ),
        &formats.wrap,
    )?;

    row += 2;
    ws.write_string_with_format(
        row,
        0,
        lang.pick("Editable columns", "可编辑列"),
        &formats.header,
    )?;
    ws.write_string_with_format(row, 1, lang.pick("Meaning", "含义"), &formats.header)?;
    ws.write_string_with_format(row, 2, lang.pick("Code", "代码"), &formats.header)?;
    for c in [Col::State, Col::Resolution, Col::Assignee, Col::Note] {
        row += 1;
        ws.write_string(row, 0, c.header(lang))?;
        ws.write_string_with_format(row, 1, editable_note(c, lang).unwrap_or(""), &formats.wrap)?;
    }
    for (state, en, zh) in [
        (ReviewState::Open, "Not looked at yet.", "尚未处理。"),
        (
            ReviewState::Investigating,
            "Someone is looking into it.",
            "正在调查。",
        ),
        (
            ReviewState::Resolved,
            "Settled; needs a Resolution.",
            "已解决；需填写处理方式。",
        ),
    ] {
        row += 1;
        ws.write_string(row, 0, Col::State.header(lang))?;
        ws.write_string_with_format(row, 1, lang.pick(en, zh), &formats.wrap)?;
        ws.write_string(row, 2, state.as_str())?;
    }
    for kind in ResolutionKind::ALL {
        row += 1;
        ws.write_string(row, 0, Col::Resolution.header(lang))?;
        ws.write_string_with_format(row, 1, resolution_description(kind, lang), &formats.wrap)?;
        ws.write_string(row, 2, kind.as_str())?;
    }

    row += 2;
    ws.write_string_with_format(
        row,
        0,
        lang.pick("Discrepancy classes", "差异类型"),
        &formats.header,
    )?;
    ws.write_string_with_format(row, 1, lang.pick("Meaning", "含义"), &formats.header)?;
    ws.write_string_with_format(row, 2, lang.pick("Code", "代码"), &formats.header)?;
    for class in OutcomeClass::discrepancy_classes() {
        row += 1;
        ws.write_string(row, 0, lang.class_label(class))?;
        ws.write_string_with_format(row, 1, lang.class_description(class), &formats.wrap)?;
        ws.write_string(row, 2, class.as_str())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Re-import
// ---------------------------------------------------------------------------------------------

/// The outcome of reading back a filled-in Detail sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewImport {
    /// Rows whose review columns differ from the stored discrepancy and pass validation.
    pub changes: Vec<ReviewImportRow>,
    /// Rows that cannot be applied, with the reason.
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewImportRow {
    /// 1-based spreadsheet row, as Excel shows it.
    pub row: u32,
    pub id: i64,
    pub change: ReviewChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// 1-based spreadsheet row, as Excel shows it.
    pub row: u32,
    pub id: Option<i64>,
    /// What is wrong, naming the column as its header reads in the file.
    pub reason: String,
}

/// The text of a cell as a person sees it; `Err` for an error cell (`#REF!`, …).
fn cell_text(cell: Option<&Data>) -> Result<String, String> {
    Ok(match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.clone(),
        // Display of a double is the shortest exact form: 12.0 → "12".
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Some(Data::DateTime(d)) => d.to_string(),
        Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => s.clone(),
        Some(Data::Error(e)) => return Err(format!("holds the spreadsheet error {e}")),
    })
}

/// Reads an id cell: an integral number or a decimal integer as text.
fn parse_id(cell: Option<&Data>) -> Result<Option<i64>, String> {
    let text = cell_text(cell)?;
    let text = unneutralize(text.trim()).trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{text:?} is not a discrepancy id"))
}

/// Where each known column sits in the sheet, and how its header reads there.
struct Layout {
    header_row: usize,
    cols: HashMap<Col, (usize, String)>,
}

impl Layout {
    fn find(rows: &[&[Data]]) -> Option<Layout> {
        // The header is the first row (of the first few) that has an ID column.
        for (r, cells) in rows.iter().enumerate().take(20) {
            let texts: Vec<String> = cells
                .iter()
                .map(|c| cell_text(Some(c)).unwrap_or_default())
                .collect();
            if !texts.iter().any(|t| Col::Id.matches_header(t)) {
                continue;
            }
            let mut cols = HashMap::new();
            for c in DETAIL_COLUMNS {
                if let Some(i) = texts.iter().position(|t| c.matches_header(t)) {
                    cols.insert(c, (i, texts[i].trim().to_string()));
                }
            }
            return Some(Layout {
                header_row: r,
                cols,
            });
        }
        None
    }

    fn get<'a>(&self, row: &'a [Data], col: Col) -> Option<&'a Data> {
        self.cols.get(&col).and_then(|(i, _)| row.get(*i))
    }

    fn has(&self, col: Col) -> bool {
        self.cols.contains_key(&col)
    }

    /// The column's header as the file spells it, for messages.
    fn name(&self, col: Col) -> String {
        self.cols
            .get(&col)
            .map_or_else(|| col.en().to_string(), |(_, h)| h.clone())
    }

    /// The text of a column in this row, neutralization undone; `Ok(None)` if the column is
    /// not in the sheet.
    fn text(&self, row: &[Data], col: Col) -> Result<Option<String>, String> {
        if !self.has(col) {
            return Ok(None);
        }
        let raw =
            cell_text(self.get(row, col)).map_err(|e| format!("column {} {e}", self.name(col)))?;
        Ok(Some(unneutralize(&raw).to_string()))
    }
}

fn empty_to_none(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// Reads the review columns of a Detail sheet written by [`write_xlsx`] and edited by a person.
///
/// Columns are found by their header text in either language (also after reordering). For
/// every row with an ID, `known(id)` gives the stored discrepancy, and the State, Resolution,
/// Assignee and Note cells are compared with it:
///
/// * rows where nothing changed produce nothing;
/// * a changed, valid row becomes a [`ReviewImportRow`]. Its change holds only what differs,
///   except that a row that (re)sets state resolved carries both `state` and `resolution`, so
///   the change validates on its own. An emptied Assignee is `Some(None)` (unassign); an
///   emptied Note is `Some("")`;
/// * anything wrong becomes a [`RejectedRow`] whose reason names the column: an id that is
///   not a number, unknown or repeated; a row whose Account or Provider does not belong to the
///   id (the ID cell was edited or rows were pasted); an unknown state or resolution code; a
///   resolution without state resolved or resolved without a resolution; `auto_matched` chosen
///   by a person; a note over 4000 characters; an assignee over 100 characters.
///
/// Review columns missing from the sheet leave their field unchanged; a sheet with none of
/// them, without an ID column or without a Detail/明细 sheet is an `Err`, as is a file that is
/// not an XLSX workbook.
///
/// Text the export prefixed with `'` (see [`neutralize`]) is read without that prefix, so an
/// untouched neutralized note does not count as a change.
pub fn read_review_xlsx(
    path: &Path,
    known: &dyn Fn(i64) -> Option<DiscrepancyRecord>,
) -> Result<ReviewImport, ReportError> {
    read_review_xlsx_with(path, known, &InputLimits::default())
}

/// [`read_review_xlsx`] within the workspace's `[limits]`: the workbook's parts may
/// decompress to at most `limits.max_spreadsheet_bytes` (and by at most the ratio limit), the
/// Detail sheet span at most `limits.max_sheet_cells`. Past a limit the file is refused with
/// [`ReportError::TooLarge`] naming it, before anything is loaded whole.
pub fn read_review_xlsx_with(
    path: &Path,
    known: &dyn Fn(i64) -> Option<DiscrepancyRecord>,
    limits: &InputLimits,
) -> Result<ReviewImport, ReportError> {
    let shown = path.display().to_string();
    let open = |source| ReportError::Open {
        path: shown.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(open)?.len();
    if size > limits.max_spreadsheet_bytes {
        return Err(ReportError::TooLarge(format!(
            "{shown}: the file is larger than {} MiB, the limit `[limits] max_spreadsheet_mb` of paydesk.toml; raise the limit if the file is genuine",
            limits.max_spreadsheet_bytes / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(open)?;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(ReportError::NotXlsx {
            path: shown,
            reason: "the file is not a ZIP container".into(),
        });
    }
    paydesk_providers::statement::check_spreadsheet(&bytes, &shown, limits)
        .map_err(|e| ReportError::TooLarge(e.to_string()))?;
    let mut workbook: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ReportError::NotXlsx {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    let names = workbook.sheet_names();
    let Some(sheet) = names
        .iter()
        .find(|n| DETAIL_SHEET_NAMES.contains(&n.trim()))
        .or_else(|| {
            names.iter().find(|n| {
                DETAIL_SHEET_NAMES
                    .iter()
                    .any(|d| n.trim().eq_ignore_ascii_case(d))
            })
        })
        .cloned()
    else {
        return Err(ReportError::NoDetailSheet {
            path: shown,
            found: names.join(", "),
        });
    };
    // Cell by cell within the cell limit: a sparse sheet never becomes a huge dense grid.
    let range = paydesk_providers::statement::xlsx_sheet_range(&mut workbook, &sheet, limits)
        .map_err(|reason| {
            if reason.contains("[limits]") {
                ReportError::TooLarge(format!("{shown}: {reason}"))
            } else {
                ReportError::ReadSheet {
                    path: shown.clone(),
                    sheet: sheet.clone(),
                    reason,
                }
            }
        })?;
    let first_row = range.start().map_or(0, |(r, _)| r);
    let rows: Vec<&[Data]> = range.rows().collect();
    let Some(layout) = Layout::find(&rows) else {
        return Err(ReportError::MissingColumn {
            path: shown,
            sheet,
            en: Col::Id.en(),
            zh: Col::Id.zh(),
        });
    };
    if ![Col::State, Col::Resolution, Col::Assignee, Col::Note]
        .iter()
        .any(|c| layout.has(*c))
    {
        return Err(ReportError::NoReviewColumns { path: shown, sheet });
    }

    let mut import = ReviewImport::default();
    let mut seen: HashMap<i64, u32> = HashMap::new();
    for (i, cells) in rows.iter().enumerate().skip(layout.header_row + 1) {
        let sheet_row = first_row
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
            .saturating_add(1);
        let blank = cells
            .iter()
            .all(|c| cell_text(Some(c)).is_ok_and(|t| t.trim().is_empty()));
        if blank {
            continue;
        }
        let reject = |id: Option<i64>, reason: String| RejectedRow {
            row: sheet_row,
            id,
            reason,
        };
        let id = match parse_id(layout.get(cells, Col::Id)) {
            Ok(Some(id)) => id,
            Ok(None) => {
                import.rejected.push(reject(
                    None,
                    format!(
                        "column {} is empty; every row needs the discrepancy id it was exported with",
                        layout.name(Col::Id)
                    ),
                ));
                continue;
            }
            Err(e) => {
                import.rejected.push(reject(
                    None,
                    format!("column {}: {e}", layout.name(Col::Id)),
                ));
                continue;
            }
        };
        if let Some(first) = seen.insert(id, sheet_row) {
            import.rejected.push(reject(
                Some(id),
                format!(
                    "column {}: id {id} appears again (first on row {first}); each discrepancy may appear once",
                    layout.name(Col::Id)
                ),
            ));
            continue;
        }
        let Some(rec) = known(id) else {
            import.rejected.push(reject(
                Some(id),
                format!(
                    "column {}: unknown id {id}, no such discrepancy",
                    layout.name(Col::Id)
                ),
            ));
            continue;
        };
        match compare_row(&layout, cells, &rec, id) {
            Ok(None) => {}
            Ok(Some(change)) => import.changes.push(ReviewImportRow {
                row: sheet_row,
                id,
                change,
            }),
            Err(reasons) => import.rejected.push(reject(Some(id), reasons.join("; "))),
        }
    }
    Ok(import)
}

/// Compares one row's review columns with the stored record: `Ok(None)` if nothing changed.
fn compare_row(
    layout: &Layout,
    cells: &[Data],
    rec: &DiscrepancyRecord,
    id: i64,
) -> Result<Option<ReviewChange>, Vec<String>> {
    let mut errors = Vec::new();
    let id_col = layout.name(Col::Id);

    // Identity: the row must belong to the id.
    if rec.id != id {
        errors.push(format!(
            "id mismatch: column {id_col} says {id} but the stored discrepancy has id {}",
            rec.id
        ));
    }
    match layout.text(cells, Col::Account) {
        Ok(Some(account)) if account.trim() != rec.account => errors.push(format!(
            "id mismatch: column {} is {:?} but discrepancy {id} belongs to account {:?}; was column {id_col} edited?",
            layout.name(Col::Account),
            account.trim(),
            rec.account
        )),
        Err(e) => errors.push(e),
        _ => {}
    }
    match layout.text(cells, Col::Provider) {
        Ok(Some(p)) if !p.trim().eq_ignore_ascii_case(rec.provider.as_str()) => {
            errors.push(format!(
                "id mismatch: column {} is {:?} but discrepancy {id} is from {}; was column {id_col} edited?",
                layout.name(Col::Provider),
                p.trim(),
                rec.provider
            ))
        }
        Err(e) => errors.push(e),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // State.
    let state_name = layout.name(Col::State);
    let state = match layout.text(cells, Col::State) {
        Ok(None) => Some(rec.state),
        Ok(Some(s)) => match empty_to_none(&s) {
            None => {
                errors.push(format!(
                    "column {state_name} is empty; expected open, investigating or resolved"
                ));
                None
            }
            Some(s) => match s.parse::<ReviewState>() {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(format!("column {state_name}: {e}"));
                    None
                }
            },
        },
        Err(e) => {
            errors.push(e);
            None
        }
    };

    // Resolution.
    let res_name = layout.name(Col::Resolution);
    let resolution: Option<Option<ResolutionKind>> = match layout.text(cells, Col::Resolution) {
        Ok(None) => Some(rec.resolution),
        Ok(Some(s)) => match empty_to_none(&s) {
            None => Some(None),
            Some(s) => match s.parse::<ResolutionKind>() {
                Ok(v) => Some(Some(v)),
                Err(e) => {
                    errors.push(format!("column {res_name}: {e}"));
                    None
                }
            },
        },
        Err(e) => {
            errors.push(e);
            None
        }
    };

    // Assignee and note.
    let assignee_name = layout.name(Col::Assignee);
    let assignee: Option<Option<String>> = match layout.text(cells, Col::Assignee) {
        Ok(None) => Some(rec.assignee.clone()),
        Ok(Some(s)) => Some(empty_to_none(&s).map(str::to_string)),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Some(Some(a)) = &assignee {
        if a.chars().count() > 100 {
            errors.push(format!(
                "column {assignee_name}: an assignee is at most 100 characters (this one has {})",
                a.chars().count()
            ));
        }
    }
    let note_name = layout.name(Col::Note);
    let note: Option<Option<String>> = if layout.has(Col::Note) {
        match cell_text(layout.get(cells, Col::Note)) {
            Ok(raw) => {
                let stored = rec.note.as_deref().unwrap_or("");
                if raw == neutralize(stored) || raw == stored {
                    Some(rec.note.clone())
                } else {
                    let text = unneutralize(&raw);
                    Some((!text.trim().is_empty()).then(|| text.to_string()))
                }
            }
            Err(e) => {
                errors.push(format!("column {note_name} {e}"));
                None
            }
        }
    } else {
        Some(rec.note.clone())
    };
    if let Some(Some(n)) = &note {
        let len = n.chars().count();
        if len > 4000 {
            errors.push(format!(
                "column {note_name}: a note is at most 4000 characters (this one has {len})"
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(state), Some(resolution), Some(assignee), Some(note)) =
        (state, resolution, assignee, note)
    else {
        return Err(vec!["the review columns could not be read".to_string()]);
    };

    // Combinations.
    let state_changed = state != rec.state;
    let resolution_changed = resolution != rec.resolution;
    if let Some(r) = resolution {
        if state != ReviewState::Resolved && (state_changed || resolution_changed) {
            errors.push(format!(
                "column {res_name}: {} can only be set together with {state_name} resolved ({state_name} is {})",
                r.as_str(),
                state.as_str()
            ));
        }
        if r == ResolutionKind::AutoMatched && resolution_changed {
            errors.push(format!(
                "column {res_name}: auto_matched is set by Paydesk itself, not by a reviewer"
            ));
        }
    } else if state == ReviewState::Resolved && (state_changed || resolution_changed) {
        errors.push(format!(
            "column {res_name} is empty; {state_name} resolved needs a resolution (corrected_locally, corrected_at_provider, written_off or not_an_issue)"
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut change = ReviewChange::default();
    if state_changed || (state == ReviewState::Resolved && resolution_changed) {
        change.state = Some(state);
        if state == ReviewState::Resolved {
            change.resolution = resolution;
        }
    }
    if note != rec.note {
        change.note = Some(note.unwrap_or_default());
    }
    if assignee != rec.assignee {
        change.assignee = Some(assignee);
    }
    if change.is_empty() {
        return Ok(None);
    }
    change.validate().map_err(|e| {
        vec![format!(
            "columns {state_name}/{res_name}/{assignee_name}/{note_name}: {e}"
        )]
    })?;
    Ok(Some(change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralizes_only_trigger_starts() {
        assert_eq!(neutralize("=1+1"), "'=1+1");
        assert_eq!(neutralize("+cmd"), "'+cmd");
        assert_eq!(neutralize("-2+3"), "'-2+3");
        assert_eq!(neutralize("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize("\tx"), "'\tx");
        assert_eq!(neutralize("\rx"), "'\rx");
        assert!(matches!(neutralize("退款 =1"), Cow::Borrowed(_)));
        assert!(matches!(neutralize(""), Cow::Borrowed(_)));
        for s in ["=1+1", "-35.80", "@x", "plain", "'plain", "长款", ""] {
            assert_eq!(unneutralize(&neutralize(s)), s);
        }
        // The one ambiguous case: text that itself starts with ' and a trigger. Unchanged
        // cells are compared before unneutralizing (see `compare_row`), so only a person
        // typing such text loses the quote.
        assert_eq!(unneutralize(&neutralize("'=x")), "=x");
    }

    #[test]
    fn wide_format_is_exact() {
        assert_eq!(format_minor_wide(-3580, 2), "-35.80");
        assert_eq!(format_minor_wide(5, 2), "0.05");
        assert_eq!(format_minor_wide(3000, 0), "3000");
        assert_eq!(format_minor_wide(-1, 3), "-0.001");
        let big = i128::from(i64::MAX) * 3;
        assert_eq!(format_minor_wide(big, 2), "276701161105643274.21");
    }

    #[test]
    fn amount_cells_are_exact_or_text() {
        let v = amount_cell_value(123_456_789_012, Currency::CNY);
        assert_eq!(v.map(|f| f.to_string()), Ok("1234567890.12".to_string()));
        assert_eq!(
            amount_cell_value(3000, Currency::JPY).map(|f| f.to_string()),
            Ok("3000".to_string())
        );
        assert_eq!(
            amount_cell_value(-999_999_999_999_999, Currency::CNY).map(|f| f.to_string()),
            Ok("-9999999999999.99".to_string())
        );
        assert_eq!(
            amount_cell_value(1_000_000_000_000_000, Currency::CNY),
            Err("10000000000000.00".to_string())
        );
    }

    #[test]
    fn ids_parse_from_numbers_and_text() {
        assert_eq!(parse_id(Some(&Data::Float(12.0))), Ok(Some(12)));
        assert_eq!(parse_id(Some(&Data::Int(7))), Ok(Some(7)));
        assert_eq!(parse_id(Some(&Data::String(" 42 ".into()))), Ok(Some(42)));
        assert_eq!(parse_id(Some(&Data::Empty)), Ok(None));
        assert!(parse_id(Some(&Data::Float(12.5))).is_err());
        assert!(parse_id(Some(&Data::String("abc".into()))).is_err());
    }

    #[test]
    fn headers_match_either_language() {
        assert!(Col::State.matches_header(" state "));
        assert!(Col::State.matches_header("状态"));
        assert!(Col::Evidence.matches_header("Evidence (file:line)"));
        assert!(!Col::State.matches_header("Statement"));
    }
}
