//! Manually mapped statements: any CSV or spreadsheet (XLSX/XLS/ODS via calamine) read
//! through a saved [`ColumnMapping`].
//!
//! Spreadsheet money: calamine hands numeric cells over as `f64`, so a money cell is never
//! used as a float. Text cells are parsed as written. A numeric cell is converted through
//! Rust's shortest round-trip decimal representation of the float (`{}` formatting: 12.34 →
//! "12.34", 0.1+0.2 → "0.30000000000000004") and then parsed as an exact decimal; a value
//! that is not an exact decimal with at most the currency's places (or the fee's 3 extra
//! places) is rejected rather than rounded. Store amounts as text in the sheet to avoid this.

use super::text::{self, err, opt_string, Col, Header, LineSource, Record, TextEncoding};
use super::{ParseContext, RowSource, StatementError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use paydesk_core::domain::{LineKind, SourceRef, StatementLine};
use paydesk_core::money::{milli_to_minor_rounded, parse_scaled, Currency, FEE_EXTRA_DIGITS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;

/// Whether amounts are written in major units ("12.34") or minor units ("1234"): the one
/// type shared with the order mirror. A manual mapping without one reads major units.
pub use paydesk_core::money::AmountUnit;

fn default_amount_unit() -> AmountUnit {
    AmountUnit::Major
}

/// How the file writes refund amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundSign {
    /// Refund rows are already negative; a positive refund row is an error.
    #[default]
    Negative,
    /// Refund rows are written positive; gross, fee and net are negated. A negative refund
    /// row is an error.
    Positive,
}

/// Text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileEncoding {
    #[default]
    Utf8,
    Gbk,
}

/// How to read a manual statement: header names per field and the conventions of the file.
/// Saved in the account's config, so it is serde (de)serializable with defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// Header of the provider transaction id column (required).
    pub provider_txn_id: String,
    #[serde(default)]
    pub merchant_order_no: Option<String>,
    /// Header of the type column whose values [`kind_values`](Self::kind_values) maps.
    #[serde(default)]
    pub kind: Option<String>,
    /// Type column value → line kind. A value not listed (case-insensitive) is an error.
    #[serde(default)]
    pub kind_values: BTreeMap<String, LineKind>,
    /// Kind of every row when there is no type column.
    #[serde(default = "default_kind")]
    pub default_kind: LineKind,
    /// Header of the gross amount column (required).
    pub gross: String,
    /// Fee column; no column means no fee.
    #[serde(default)]
    pub fee: Option<String>,
    /// Net column; no column means net = gross − fee (fee rounded to minor units).
    #[serde(default)]
    pub net: Option<String>,
    /// Currency column; no column means the context's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Header of the time column (required).
    pub time: String,
    /// chrono `strftime` format of the time column, or `rfc3339`. A format without a time
    /// part is read as midnight. Spreadsheet date cells need no format.
    #[serde(default = "default_time_format")]
    pub time_format: String,
    /// IANA zone for times without an offset; none means the context's timezone.
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default = "default_amount_unit")]
    pub amount_unit: AmountUnit,
    #[serde(default)]
    pub refund_sign: RefundSign,
    #[serde(default)]
    pub provider_refund_id: Option<String>,
    #[serde(default)]
    pub merchant_refund_no: Option<String>,
    /// Status column; without one, provider_status is the raw type value.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub encoding: FileEncoding,
    /// Spreadsheet sheet name; none means the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Rows (lines) before the header row to skip.
    #[serde(default)]
    pub skip_rows: u32,
}

fn default_kind() -> LineKind {
    LineKind::Payment
}

fn default_time_format() -> String {
    "%Y-%m-%d %H:%M:%S".into()
}

impl ColumnMapping {
    /// A mapping with the required columns and defaults for everything else.
    pub fn new(provider_txn_id: &str, gross: &str, time: &str) -> Self {
        ColumnMapping {
            provider_txn_id: provider_txn_id.into(),
            merchant_order_no: None,
            kind: None,
            kind_values: BTreeMap::new(),
            default_kind: LineKind::Payment,
            gross: gross.into(),
            fee: None,
            net: None,
            currency: None,
            time: time.into(),
            time_format: default_time_format(),
            timezone: None,
            amount_unit: default_amount_unit(),
            refund_sign: RefundSign::Negative,
            provider_refund_id: None,
            merchant_refund_no: None,
            status: None,
            encoding: FileEncoding::Utf8,
            sheet: None,
            skip_rows: 0,
        }
    }
}

/// Spreadsheets are ZIP (xlsx/ods) or OLE (xls) containers.
pub(crate) fn is_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
}

/// Column lookups resolved against a header, plus everything needed to build lines.
struct Mapper {
    ctx: ParseContext,
    mapping: ColumnMapping,
    tz: chrono_tz::Tz,
    file: String,
    width: usize,
    header_line: u64,
    txn: Col,
    order: Option<Col>,
    kind: Option<Col>,
    gross: Col,
    fee: Option<Col>,
    net: Option<Col>,
    currency: Option<Col>,
    time: Col,
    refund_id: Option<Col>,
    refund_no: Option<Col>,
    status: Option<Col>,
    kinds_lower: BTreeMap<String, LineKind>,
}

impl Mapper {
    fn new(
        h: &Header,
        mapping: &ColumnMapping,
        ctx: &ParseContext,
        file: &str,
    ) -> Result<Self, StatementError> {
        let tz = match &mapping.timezone {
            Some(name) if !name.trim().is_empty() => {
                name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
                    err(
                        file,
                        None,
                        None,
                        format!("mapping: unknown timezone {name:?}"),
                    )
                })?
            }
            _ => ctx.timezone,
        };
        let opt = |name: &Option<String>| -> Result<Option<Col>, StatementError> {
            match name {
                Some(n) if !n.trim().is_empty() => h.require(n, file).map(Some),
                _ => Ok(None),
            }
        };
        Ok(Mapper {
            ctx: ctx.clone(),
            mapping: mapping.clone(),
            tz,
            file: file.to_string(),
            width: h.len(),
            header_line: h.line,
            txn: h.require(&mapping.provider_txn_id, file)?,
            order: opt(&mapping.merchant_order_no)?,
            kind: opt(&mapping.kind)?,
            gross: h.require(&mapping.gross, file)?,
            fee: opt(&mapping.fee)?,
            net: opt(&mapping.net)?,
            currency: opt(&mapping.currency)?,
            time: h.require(&mapping.time, file)?,
            refund_id: opt(&mapping.provider_refund_id)?,
            refund_no: opt(&mapping.merchant_refund_no)?,
            status: opt(&mapping.status)?,
            kinds_lower: mapping
                .kind_values
                .iter()
                .map(|(k, v)| (text::trim_cell(k).to_lowercase(), *v))
                .collect(),
        })
    }

    fn amount(&self, text: &str, cur: Currency, extra: u32) -> Result<i64, String> {
        let scale = match self.mapping.amount_unit {
            AmountUnit::Major => u32::from(cur.exponent()) + extra,
            AmountUnit::Minor => extra,
        };
        parse_scaled(text, scale).map_err(|e| e.to_string())
    }

    fn time(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let fmt = self.mapping.time_format.as_str();
        if fmt.eq_ignore_ascii_case("rfc3339") {
            return DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| format!("time {text:?} is not RFC 3339"));
        }
        if fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z") {
            if let Ok(t) = DateTime::parse_from_str(text, fmt) {
                return Ok(t.with_timezone(&Utc));
            }
        }
        let naive = NaiveDateTime::parse_from_str(text, fmt)
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text, fmt)
                    .ok()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            // Spreadsheet date cells arrive in this canonical form.
            .or_else(|| text::parse_naive(text))
            .ok_or_else(|| format!("time {text:?} does not match the format {fmt:?}"))?;
        text::local_to_utc(naive, self.tz)
    }

    /// Builds a line from one row's (trimmed) cells.
    fn line<'c>(
        &self,
        width: usize,
        cell: impl Fn(usize) -> &'c str,
        line: u64,
    ) -> Result<StatementLine, StatementError> {
        let f = self.file.as_str();
        if width != self.width
            && !(width > self.width && (self.width..width).all(|i| cell(i).is_empty()))
        {
            return Err(err(
                f,
                Some(line),
                None,
                format!(
                    "row has {width} cells but the header (line {}) has {}",
                    self.header_line, self.width
                ),
            ));
        }
        let at = |col: &Col, reason: String| err(f, Some(line), Some(&col.name), reason);
        let get = |c: &Option<Col>| c.as_ref().map(|c| cell(c.idx)).unwrap_or("");
        let (kind, raw_kind) = match &self.kind {
            Some(col) => {
                let v = cell(col.idx);
                let k = self
                    .mapping
                    .kind_values
                    .get(v)
                    .copied()
                    .or_else(|| self.kinds_lower.get(&v.to_lowercase()).copied())
                    .ok_or_else(|| {
                        at(
                            col,
                            format!("type value {v:?} is not in the mapping's kind values"),
                        )
                    })?;
                (k, v)
            }
            None => (self.mapping.default_kind, ""),
        };
        let cur = match &self.currency {
            Some(col) if !cell(col.idx).is_empty() => {
                Currency::parse(cell(col.idx)).map_err(|e| at(col, e.to_string()))?
            }
            _ => self.ctx.currency,
        };
        let gross = self
            .amount(cell(self.gross.idx), cur, 0)
            .map_err(|r| at(&self.gross, r))?;
        let fee = match &self.fee {
            Some(col) if !cell(col.idx).is_empty() => self
                .amount(cell(col.idx), cur, FEE_EXTRA_DIGITS)
                .map_err(|r| at(col, r))?,
            _ => 0,
        };
        let overflow = || err(f, Some(line), None, "amount overflows");
        let net = match &self.net {
            Some(col) => self.amount(cell(col.idx), cur, 0).map_err(|r| at(col, r))?,
            None => gross
                .checked_sub(milli_to_minor_rounded(fee))
                .ok_or_else(overflow)?,
        };
        let (gross, fee, net) = if kind == LineKind::Refund {
            match self.mapping.refund_sign {
                RefundSign::Negative if gross > 0 => return Err(at(
                    &self.gross,
                    "refund amount is positive but the mapping says refunds are written negative"
                        .into(),
                )),
                RefundSign::Positive if gross < 0 => return Err(at(
                    &self.gross,
                    "refund amount is negative but the mapping says refunds are written positive"
                        .into(),
                )),
                RefundSign::Positive => (
                    gross.checked_neg().ok_or_else(overflow)?,
                    fee.checked_neg().ok_or_else(overflow)?,
                    net.checked_neg().ok_or_else(overflow)?,
                ),
                RefundSign::Negative => (gross, fee, net),
            }
        } else {
            (gross, fee, net)
        };
        let time = self
            .time(cell(self.time.idx))
            .map_err(|r| at(&self.time, r))?;
        let txn = cell(self.txn.idx);
        if txn.is_empty() {
            return Err(at(&self.txn, "transaction id is empty".into()));
        }
        let status = match &self.status {
            Some(col) => cell(col.idx),
            None => raw_kind,
        };
        Ok(StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider: self.ctx.provider,
            account: self.ctx.account.clone(),
            provider_txn_id: txn.into(),
            merchant_order_no: opt_string(get(&self.order)),
            kind,
            gross,
            fee_milli: fee,
            net,
            currency: cur,
            provider_time: time,
            provider_refund_id: opt_string(get(&self.refund_id)),
            merchant_refund_no: opt_string(get(&self.refund_no)),
            provider_status: status.into(),
            source: SourceRef {
                file: self.ctx.file_name.clone(),
                line,
            },
            fee_base: None,
        })
    }
}

/// Manual CSV, streamed line by line.
pub(crate) struct CsvParser<'a> {
    src: LineSource<'a>,
    rec: Record,
    ctx: ParseContext,
    mapping: ColumnMapping,
    mapper: Option<Mapper>,
    skipped: bool,
}

impl<'a> CsvParser<'a> {
    pub fn new(
        rd: Box<dyn BufRead + 'a>,
        mapping: &ColumnMapping,
        ctx: &ParseContext,
    ) -> Result<Self, StatementError> {
        let enc = match mapping.encoding {
            FileEncoding::Utf8 => TextEncoding::Utf8,
            FileEncoding::Gbk => TextEncoding::Gbk,
        };
        Ok(CsvParser {
            src: LineSource::new(rd, enc, ctx.file_name.clone()),
            rec: Record::default(),
            ctx: ctx.clone(),
            mapping: mapping.clone(),
            mapper: None,
            skipped: false,
        })
    }
}

impl RowSource for CsvParser<'_> {
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        if !self.skipped {
            self.skipped = true;
            let mut scratch = String::new();
            for _ in 0..self.mapping.skip_rows {
                if !self.src.next_line(&mut scratch)? {
                    break;
                }
            }
        }
        loop {
            if !self.src.next_record(&mut self.rec)? {
                if self.mapper.is_none() {
                    return Err(err(
                        &self.ctx.file_name,
                        None,
                        None,
                        "the file has no header row",
                    ));
                }
                return Ok(None);
            }
            match &self.mapper {
                None => {
                    let h = Header::from_record(&self.rec);
                    self.mapper = Some(Mapper::new(
                        &h,
                        &self.mapping,
                        &self.ctx,
                        &self.ctx.file_name,
                    )?);
                }
                Some(m) => {
                    let rec = &self.rec;
                    return m.line(rec.len(), |i| rec.get(i), rec.line).map(Some);
                }
            }
        }
    }
}

/// Manual spreadsheet: the sheet is loaded by calamine (spreadsheets hold their cells
/// compressed in a ZIP and cannot be streamed row by row here), then mapped row by row.
pub(crate) struct SheetParser {
    rows: std::vec::IntoIter<(u64, Vec<String>)>,
    mapper: Mapper,
}

/// Text of a spreadsheet cell; see the module doc for numbers. Dates become
/// `YYYY-MM-DD HH:MM:SS` (1900 date system).
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_serial_to_text(&format!("{}", dt.as_f64()))
            .unwrap_or_else(|| format!("{}", dt.as_f64())),
        Data::Error(e) => format!("#ERROR {e:?}"),
    }
}

/// Converts an Excel serial date written as a decimal string into a timestamp text, with
/// integer arithmetic only (rounded to the second).
fn excel_serial_to_text(serial: &str) -> Option<String> {
    let (int_part, frac_part) = serial.split_once('.').unwrap_or((serial, ""));
    let days: i64 = int_part.parse().ok()?;
    let frac: String = frac_part.chars().take(15).collect();
    let secs_in_day: i64 = if frac.is_empty() {
        0
    } else {
        let num: i128 = frac.parse().ok()?;
        let den: i128 = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
        i64::try_from((num * 86_400 * 2 + den) / (2 * den)).ok()?
    };
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_time(chrono::NaiveTime::MIN);
    let t = epoch.checked_add_signed(chrono::Duration::try_seconds(
        days.checked_mul(86_400)?.checked_add(secs_in_day)?,
    )?)?;
    Some(t.format("%Y-%m-%d %H:%M:%S").to_string())
}

impl SheetParser {
    pub fn new(
        bytes: &[u8],
        mapping: &ColumnMapping,
        ctx: &ParseContext,
        limits: &super::InputLimits,
    ) -> Result<Self, StatementError> {
        use calamine::Reader;
        let f = ctx.file_name.as_str();
        // Bounded memory: the parts are inflated once through a counter before calamine
        // loads them, and an XLSX sheet is read cell by cell within the cell limit.
        super::limits::check_spreadsheet(bytes, f, limits)?;
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
                super::limits::xlsx_sheet_range(x, &name, limits)?
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
            let rows: Vec<(u64, Vec<String>)> = range
                .rows()
                .enumerate()
                .map(|(i, r)| {
                    let cells = r
                        .iter()
                        .map(|c| text::trim_cell(&cell_text(c)).to_string())
                        .collect();
                    (first_row + i as u64 + 1, cells)
                })
                .collect();
            Ok::<_, String>(rows)
        }));
        let rows = match loaded {
            Ok(Ok(rows)) => rows,
            Ok(Err(reason)) => return Err(err(f, None, None, reason)),
            Err(_) => {
                return Err(err(
                    f,
                    None,
                    None,
                    "the spreadsheet could not be read (reader failure)",
                ))
            }
        };
        let mut rows = rows
            .into_iter()
            .skip(usize::try_from(mapping.skip_rows).unwrap_or(usize::MAX))
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
        let (header_line, header_cells) = rows
            .next()
            .ok_or_else(|| err(f, None, None, "the sheet has no header row"))?;
        // Header names may contain commas: quote them for the splitter.
        let joined = header_cells
            .iter()
            .map(|c| text::csv_cell(c).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        let rec = Record::from_text(joined, header_line);
        let h = Header::from_record(&rec);
        let mapper = Mapper::new(&h, mapping, ctx, f)?;
        Ok(SheetParser {
            rows: rows.collect::<Vec<_>>().into_iter(),
            mapper,
        })
    }
}

impl RowSource for SheetParser {
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        match self.rows.next() {
            None => Ok(None),
            Some((line, cells)) => {
                // Trailing empty cells of a sheet's used range are not data.
                let width = cells.len();
                self.mapper
                    .line(
                        width,
                        |i| cells.get(i).map(String::as_str).unwrap_or(""),
                        line,
                    )
                    .map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serials() {
        assert_eq!(
            excel_serial_to_text("45000").as_deref(),
            Some("2023-03-15 00:00:00")
        );
        assert_eq!(
            excel_serial_to_text("45000.5").as_deref(),
            Some("2023-03-15 12:00:00")
        );
        assert_eq!(excel_serial_to_text("NaN"), None);
        assert_eq!(excel_serial_to_text("1e300"), None);
    }

    #[test]
    fn float_cells_use_shortest_decimal() {
        assert_eq!(cell_text(&calamine::Data::Float(12.34)), "12.34");
        assert_eq!(cell_text(&calamine::Data::Int(7)), "7");
    }
}
