//! Line-oriented text input shared by every statement format: capped physical-line reads,
//! per-line decoding (UTF-8 or GBK), a small quote-tolerant CSV splitter and header lookup.
//!
//! Lines are decoded one at a time so a GBK bill of a million rows never exists as one
//! decoded `String`. GBK trail bytes are 0x40..=0xFE, so splitting raw bytes on `\n` (0x0A)
//! before decoding is safe.

use super::StatementError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::io::BufRead;

/// One physical line may not exceed this many bytes: a file without newlines is rejected
/// instead of being read into memory whole.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// A quoted cell may span at most this many physical lines.
const MAX_RECORD_LINES: u64 = 10_000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    Utf8,
    Gbk,
}

pub(crate) fn err(
    file: &str,
    line: Option<u64>,
    column: Option<&str>,
    reason: impl Into<String>,
) -> StatementError {
    StatementError {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        reason: reason.into(),
    }
}

/// Reads physical lines from a byte stream and decodes them.
pub(crate) struct LineSource<'a> {
    rd: Box<dyn BufRead + 'a>,
    enc: TextEncoding,
    raw: Vec<u8>,
    /// Number of the last physical line read (1-based), 0 before the first.
    pub line_no: u64,
    first: bool,
    pub file: String,
    tmp: String,
    /// Lines starting with `#` are comments (Alipay): never treated as opening a quoted cell.
    pub comments: bool,
}

impl<'a> LineSource<'a> {
    pub fn new(rd: Box<dyn BufRead + 'a>, enc: TextEncoding, file: impl Into<String>) -> Self {
        LineSource {
            rd,
            enc,
            raw: Vec::with_capacity(1024),
            line_no: 0,
            first: true,
            file: file.into(),
            tmp: String::new(),
            comments: false,
        }
    }

    /// Reads one physical line (without its `\n` / `\r\n`) into `out`. False at end of input.
    pub fn next_line(&mut self, out: &mut String) -> Result<bool, StatementError> {
        self.raw.clear();
        let line_no = self.line_no + 1;
        let got = read_line_capped(&mut *self.rd, &mut self.raw).map_err(|e| {
            let reason = super::limits::limit_message(&e)
                .unwrap_or_else(|| format!("cannot read the file: {e}"));
            err(&self.file, Some(line_no), None, reason)
        })?;
        if !got {
            return Ok(false);
        }
        self.line_no = line_no;
        if self.raw.last() == Some(&b'\n') {
            self.raw.pop();
        }
        if self.raw.last() == Some(&b'\r') {
            self.raw.pop();
        }
        let mut bytes: &[u8] = &self.raw;
        if self.first {
            self.first = false;
            if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
                bytes = rest;
            }
        }
        out.clear();
        match self.enc {
            // The whole line is the text (no BOM cut off): the buffers trade places instead
            // of copying the line.
            TextEncoding::Utf8 if bytes.len() == self.raw.len() => {
                let raw = std::mem::replace(&mut self.raw, std::mem::take(out).into_bytes());
                match String::from_utf8(raw) {
                    Ok(s) => *out = s,
                    Err(e) => {
                        let valid = e.utf8_error().valid_up_to();
                        self.raw = e.into_bytes();
                        return Err(not_utf8(&self.file, line_no, valid));
                    }
                }
            }
            TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => out.push_str(s),
                Err(e) => return Err(not_utf8(&self.file, line_no, e.valid_up_to())),
            },
            TextEncoding::Gbk => {
                match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
                    Some(s) => out.push_str(&s),
                    None => {
                        return Err(err(
                            &self.file,
                            Some(line_no),
                            None,
                            "line is not valid GBK; is the file in another encoding?",
                        ))
                    }
                }
            }
        }
        Ok(true)
    }

    /// Reads the next non-blank logical CSV record (a quoted cell may span lines) into
    /// `rec`. False at end of input.
    pub fn next_record(&mut self, rec: &mut Record) -> Result<bool, StatementError> {
        loop {
            if !self.next_line(&mut rec.text)? {
                return Ok(false);
            }
            if rec.text.trim().is_empty() {
                continue;
            }
            rec.line = self.line_no;
            if self.comments && rec.text.trim_start().starts_with('#') {
                rec.split();
                return Ok(true);
            }
            let mut state = QuoteState::FieldStart;
            state = scan_quotes(&rec.text, state);
            let mut extra = 0u64;
            while state == QuoteState::Quoted {
                let mut tmp = std::mem::take(&mut self.tmp);
                let more = self.next_line(&mut tmp)?;
                if !more {
                    self.tmp = tmp;
                    return Err(err(
                        &self.file,
                        Some(rec.line),
                        None,
                        "a quoted cell is not closed before the end of the file",
                    ));
                }
                extra += 1;
                if extra > MAX_RECORD_LINES || rec.text.len() + tmp.len() > MAX_LINE_BYTES {
                    self.tmp = tmp;
                    return Err(err(
                        &self.file,
                        Some(rec.line),
                        None,
                        format!("a quoted cell is not closed within {MAX_RECORD_LINES} lines"),
                    ));
                }
                rec.text.push('\n');
                state = scan_quotes(&tmp, state);
                rec.text.push_str(&tmp);
                self.tmp = tmp;
            }
            rec.split();
            return Ok(true);
        }
    }
}

/// A line that is not UTF-8, `valid` bytes in.
fn not_utf8(file: &str, line_no: u64, valid: usize) -> StatementError {
    err(
        file,
        Some(line_no),
        None,
        format!(
            "line is not valid UTF-8 (byte {}); is the file in another encoding such as GBK?",
            valid + 1
        ),
    )
}

/// `read_until(b'\n')` that refuses lines longer than [`MAX_LINE_BYTES`].
fn read_line_capped(rd: &mut dyn BufRead, out: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut any = false;
    loop {
        let (done, used) = {
            let available = match rd.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(any);
            }
            any = true;
            match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    out.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    out.extend_from_slice(available);
                    (false, available.len())
                }
            }
        };
        rd.consume(used);
        if out.len() > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        if done {
            return Ok(true);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteSeen,
    AfterQuoted,
}

/// Tracks whether a record is inside a quoted cell, using the same rules as
/// [`Record::split`]: a cell is quoted only when its first character is `"`.
fn scan_quotes(text: &str, state: QuoteState) -> QuoteState {
    // Most lines have no quote at all (WeChat marks cells with a backtick): they cannot open
    // or close a quoted cell, and memchr finds that out many times faster than the loop.
    if !text.as_bytes().contains(&b'"') {
        match state {
            QuoteState::Quoted => return QuoteState::Quoted,
            QuoteState::FieldStart if text.is_empty() || text.ends_with(',') => {
                return QuoteState::FieldStart
            }
            QuoteState::FieldStart => return QuoteState::Unquoted,
            _ => {}
        }
    }
    scan_quotes_bytewise(text, state)
}

/// [`scan_quotes`] byte by byte.
fn scan_quotes_bytewise(text: &str, mut state: QuoteState) -> QuoteState {
    for b in text.bytes() {
        state = match (state, b) {
            (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
            (QuoteState::FieldStart, b',') => QuoteState::FieldStart,
            (QuoteState::FieldStart, _) => QuoteState::Unquoted,
            (QuoteState::Unquoted, b',') => QuoteState::FieldStart,
            (QuoteState::Unquoted, _) => QuoteState::Unquoted,
            (QuoteState::Quoted, b'"') => QuoteState::QuoteSeen,
            (QuoteState::Quoted, _) => QuoteState::Quoted,
            (QuoteState::QuoteSeen, b'"') => QuoteState::Quoted,
            (QuoteState::QuoteSeen, b',') => QuoteState::FieldStart,
            (QuoteState::QuoteSeen, _) => QuoteState::AfterQuoted,
            (QuoteState::AfterQuoted, b',') => QuoteState::FieldStart,
            (QuoteState::AfterQuoted, _) => QuoteState::AfterQuoted,
        };
    }
    if state == QuoteState::QuoteSeen {
        // A closing quote at the end of a physical line closes the cell.
        QuoteState::AfterQuoted
    } else {
        state
    }
}

/// Characters trimmed from both ends of every cell: Alipay pads ids with a TAB, WeChat
/// prefixes every cell with a backtick, hand-made files have stray spaces.
pub(crate) fn trim_cell(s: &str) -> &str {
    s.trim_matches(is_pad)
}

fn is_pad(c: char) -> bool {
    c == ' ' || c == '\t' || c == '`' || c == '\u{3000}'
}

/// One logical CSV record: the raw text plus the unescaped, trimmed cells.
#[derive(Default)]
pub(crate) struct Record {
    pub text: String,
    buf: String,
    spans: Vec<(usize, usize)>,
    /// The spans point into `text` itself (a record without any `"` needs no unescaping,
    /// so its cells are not copied), else into `buf`.
    in_text: bool,
    /// 1-based line number where the record starts.
    pub line: u64,
}

impl Record {
    /// A record split from one line of text.
    pub fn from_text(text: String, line: u64) -> Record {
        let mut r = Record {
            text,
            line,
            ..Record::default()
        };
        r.split();
        r
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Cell `i`, trimmed; "" when the record is shorter.
    pub fn get(&self, i: usize) -> &str {
        let cells = if self.in_text { &self.text } else { &self.buf };
        self.spans
            .get(i)
            .and_then(|&(s, e)| cells.get(s..e))
            .unwrap_or("")
    }

    /// True when the record is a comment line (`#...`).
    pub fn is_comment(&self) -> bool {
        self.text.trim_start().starts_with('#')
    }

    /// Splits `text` into cells (RFC 4180 quoting, lenient about junk after a closing quote).
    pub fn split(&mut self) {
        self.buf.clear();
        self.spans.clear();
        self.in_text = !self.text.as_bytes().contains(&b'"');
        if self.in_text {
            self.split_unquoted();
        } else {
            self.split_quoted();
        }
    }

    /// [`Record::split`] for a record with quotes: cells unescaped into `buf`.
    fn split_quoted(&mut self) {
        let text = self.text.as_str();
        let b = text.as_bytes();
        let mut i = 0usize;
        loop {
            let start = self.buf.len();
            if b.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let rest = text.get(i..).unwrap_or("");
                    match rest.find('"') {
                        None => {
                            self.buf.push_str(rest);
                            i = b.len();
                            break;
                        }
                        Some(k) => {
                            self.buf.push_str(rest.get(..k).unwrap_or(""));
                            i += k + 1;
                            if b.get(i) == Some(&b'"') {
                                self.buf.push('"');
                                i += 1;
                                continue;
                            }
                            break;
                        }
                    }
                }
            }
            let rest = text.get(i..).unwrap_or("");
            match rest.find(',') {
                Some(k) => {
                    self.buf.push_str(rest.get(..k).unwrap_or(""));
                    i += k;
                }
                None => {
                    self.buf.push_str(rest);
                    i = b.len();
                }
            }
            let end = self.buf.len();
            let cell = self.buf.get(start..end).unwrap_or("");
            let t1 = cell.trim_start_matches(is_pad);
            let lead = cell.len() - t1.len();
            let t2 = t1.trim_end_matches(is_pad);
            self.spans.push((start + lead, start + lead + t2.len()));
            if i >= b.len() {
                break;
            }
            i += 1; // the comma
        }
    }
}

impl Record {
    /// [`Record::split`] of a record without quotes (nearly every provider row: WeChat marks
    /// its cells with a backtick): the cells are the text between commas, trimmed, left in
    /// place. The byte loop is the statement parser's hottest code.
    fn split_unquoted(&mut self) {
        let b = self.text.as_bytes();
        let mut start = 0usize;
        // One vectorised pass finds every comma of the line.
        for end in memchr::memchr_iter(b',', b) {
            self.spans.push(trim_span(b, start, end));
            start = end + 1;
        }
        self.spans.push(trim_span(b, start, b.len()));
    }
}

/// `start..end` of `b` without the [`is_pad`] characters at either end. ASCII pads are
/// stripped byte by byte; the ideographic space (U+3000, `E3 80 80`) as three bytes, so the
/// span stays on character boundaries.
fn trim_span(b: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    const IDEOGRAPHIC_SPACE: &[u8] = "\u{3000}".as_bytes();
    while start < end {
        match b[start] {
            b' ' | b'\t' | b'`' => start += 1,
            0xE3 if b[start..end].starts_with(IDEOGRAPHIC_SPACE) => start += 3,
            _ => break,
        }
    }
    while start < end {
        match b[end - 1] {
            b' ' | b'\t' | b'`' => end -= 1,
            0x80 if b[start..end].ends_with(IDEOGRAPHIC_SPACE) => end -= 3,
            _ => break,
        }
    }
    (start, end)
}

/// Header names → column index. Lookup ignores case, whitespace and full-width vs
/// half-width parentheses (`（元）` = `(元)`), which differ between bill generations.
pub(crate) struct Header {
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    pub line: u64,
}

pub(crate) fn norm_name(s: &str) -> String {
    trim_cell(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl Header {
    pub fn from_record(rec: &Record) -> Header {
        let mut names = Vec::with_capacity(rec.len());
        let mut index = HashMap::new();
        for i in 0..rec.len() {
            let n = rec.get(i).to_string();
            index.entry(norm_name(&n)).or_insert(i);
            names.push(n);
        }
        Header {
            names,
            index,
            line: rec.line,
        }
    }

    pub fn find(&self, name: &str) -> Option<Col> {
        self.index.get(&norm_name(name)).map(|&idx| Col {
            idx,
            name: self
                .names
                .get(idx)
                .cloned()
                .unwrap_or_else(|| name.to_string()),
        })
    }

    pub fn require(&self, name: &str, file: &str) -> Result<Col, StatementError> {
        self.find(name).ok_or_else(|| {
            err(
                file,
                Some(self.line),
                Some(name),
                "required column is missing from the header",
            )
        })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// A column found in the header: its index and its name as the file writes it.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub idx: usize,
    pub name: String,
}

/// Checks a data record has as many cells as the header.
pub(crate) fn check_width(rec: &Record, header: &Header, file: &str) -> Result<(), StatementError> {
    if rec.len() != header.len() {
        return Err(err(
            file,
            Some(rec.line),
            None,
            format!(
                "row has {} cells but the header (line {}) has {}",
                rec.len(),
                header.line,
                header.len()
            ),
        ));
    }
    Ok(())
}

/// An identifier cell: `None` when empty (built inline, without a heap string, up to 24
/// bytes).
pub(crate) fn opt_string(s: &str) -> Option<paydesk_core::Id> {
    if s.is_empty() {
        None
    } else {
        Some(s.into())
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS` (also with `T` or `/`), quickly for the common case.
pub(crate) fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':'
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        return date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    None
}

/// Resolves a zone-less local time. An ambiguous time (DST fall-back) takes the earlier
/// instant; a time inside a DST gap does not exist and is an error.
pub(crate) fn local_to_utc(t: NaiveDateTime, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, String> {
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Single(x) => Ok(x.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, _) => Ok(a.with_timezone(&Utc)),
        chrono::LocalResult::None => Err(format!("time {t} does not exist in {tz}")),
    }
}

pub(crate) fn parse_local_time(s: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, String> {
    let t = parse_naive(s)
        .ok_or_else(|| format!("time {s:?} is not in the form YYYY-MM-DD HH:MM:SS"))?;
    local_to_utc(t, tz)
}

/// Formats a fee in thousandths of a minor unit as an exact decimal with at least the
/// currency's places ("0.01", "0.00600", "110").
pub(crate) fn format_fee(fee_milli: i64, exponent: u8) -> String {
    let full = paydesk_core::money::format_scaled(fee_milli, u32::from(exponent) + 3);
    let Some(dot) = full.find('.') else {
        return full;
    };
    let min_len = if exponent == 0 {
        dot
    } else {
        dot + 1 + usize::from(exponent)
    };
    let mut s = full;
    while s.len() > min_len && s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s
}

/// Quotes a CSV cell when it needs it.
pub(crate) fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        let r = Record::from_text(s.to_string(), 1);
        (0..r.len()).map(|i| r.get(i).to_string()).collect()
    }

    /// The memchr shortcut gives the byte-by-byte answer for every short line over the
    /// characters that matter, from every state.
    #[test]
    fn quote_scan_shortcut_agrees_with_the_bytewise_scan() {
        let states = [
            QuoteState::FieldStart,
            QuoteState::Unquoted,
            QuoteState::Quoted,
            QuoteState::QuoteSeen,
            QuoteState::AfterQuoted,
        ];
        let alphabet = ['a', ',', '"', '`'];
        let mut lines = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = lines
                .iter()
                .filter(|l| l.len() == lines.last().map_or(0, |x| x.len()))
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(longer);
        }
        assert!(lines.len() > 5000);
        for line in &lines {
            for state in states {
                assert_eq!(
                    scan_quotes(line, state),
                    scan_quotes_bytewise(line, state),
                    "{line:?} from {state:?}"
                );
            }
        }
    }

    /// The in-place split of a record without quotes gives the cells the unescaping split
    /// gives, over every short line of the characters that matter.
    #[test]
    fn unquoted_split_agrees_with_the_general_split() {
        let alphabet = ["a", ",", "`", " ", "\t", "\u{3000}", "中", "\u{3001}"];
        let mut lines = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(last.iter().cloned());
        }
        assert!(lines.len() > 30_000);
        let cells = |r: &Record| {
            (0..r.len())
                .map(|i| r.get(i).to_string())
                .collect::<Vec<_>>()
        };
        for line in lines {
            let mut fast = Record::from_text(line.clone(), 1);
            assert!(fast.in_text);
            let mut general = Record {
                text: line.clone(),
                ..Record::default()
            };
            general.split_quoted();
            assert_eq!(cells(&fast), cells(&general), "{line:?}");
            fast.split();
            assert_eq!(cells(&fast), cells(&general), "{line:?} split twice");
        }
    }

    #[test]
    fn splits_and_trims() {
        assert_eq!(split("a\t,`b, c ,,"), vec!["a", "b", "c", "", ""]);
        assert_eq!(split("\"x, y\",\"q\"\"t\"\"\""), vec!["x, y", "q\"t\""]);
        assert_eq!(split(""), vec![""]);
        assert_eq!(split("\"open"), vec!["open"]);
        assert_eq!(split("\"a\"junk,b"), vec!["ajunk", "b"]);
        assert_eq!(split("`"), vec![""]);
        assert_eq!(split("\t\t"), vec![""]);
    }

    #[test]
    fn fee_format() {
        assert_eq!(format_fee(600, 2), "0.006");
        assert_eq!(format_fee(1000, 2), "0.01");
        assert_eq!(format_fee(0, 2), "0.00");
        assert_eq!(format_fee(110_000, 0), "110");
        assert_eq!(format_fee(110_500, 0), "110.5");
        assert_eq!(format_fee(-1500, 2), "-0.015");
    }

    #[test]
    fn quote_state() {
        assert_eq!(
            scan_quotes("a,\"b", QuoteState::FieldStart),
            QuoteState::Quoted
        );
        assert_eq!(
            scan_quotes("a,\"b\"", QuoteState::FieldStart),
            QuoteState::AfterQuoted
        );
        assert_eq!(
            scan_quotes("a,b\"c", QuoteState::FieldStart),
            QuoteState::Unquoted
        );
    }
}
