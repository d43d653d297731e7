//! Statement files: detection, streaming parsers and writers for Alipay trade bills (业务明细),
//! WeChat Pay trade bills (ALL), Stripe `balance_change_from_activity.itemized` reports,
//! Paydesk's normalized CSV and manually mapped CSV/XLSX files.
//!
//! Every parser turns a file into [`StatementLine`]s following the sign convention of
//! `paydesk_core::domain` (money in is positive, refunds have negative gross, fees are in
//! thousandths of a minor unit). Money is never held in a float.
//!
//! Parsing is streaming ([`StatementReader`]): a file is read line by line and only the raw
//! input bytes are kept in memory. [`parse_statement`] collects a reader and either returns
//! every line or the first error: a file parses fully or not at all.

pub(crate) mod alipay;
pub(crate) mod limits;
mod manual;
mod normalized;
mod stripe_report;
pub(crate) mod text;
pub(crate) mod wechat;
pub(crate) mod zipio;

pub use alipay::{write_alipay_bill_csv, write_alipay_bill_zip};
pub use limits::{check_spreadsheet, xlsx_sheet_range, InputLimits, RATIO_GRACE_BYTES};
pub use manual::{AmountUnit, ColumnMapping, FileEncoding, RefundSign};
pub use normalized::{write_normalized, NORMALIZED_HEADER};
pub use stripe_report::{write_stripe_report, REPORT_COLUMNS as STRIPE_REPORT_COLUMNS};
pub use wechat::{write_wechat_bill, write_wechat_merchant_bill};

use paydesk_core::domain::{Provider, StatementLine};
use paydesk_core::money::Currency;
use paydesk_core::{FewValues, SharedStr};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

/// The layout of a statement file.
// Formats are chosen once per file; an unboxed mapping keeps `Manual(mapping)` simple to build.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "mapping")]
pub enum StatementFormat {
    /// Alipay 业务明细 (trade detail) bill: the ZIP from `bill_download_url` or the bare GBK CSV.
    AlipayTradeBill,
    /// WeChat Pay v3 trade bill (`bill_type=ALL`), plain or gzip.
    WechatTradeBill,
    /// Stripe Reporting API `balance_change_from_activity.itemized` CSV.
    StripeBalanceReport,
    /// Paydesk's own CSV ([`NORMALIZED_HEADER`]).
    Normalized,
    /// Any CSV or XLSX file read through a saved column mapping.
    Manual(ColumnMapping),
}

impl StatementFormat {
    pub fn name(&self) -> &'static str {
        match self {
            StatementFormat::AlipayTradeBill => "alipay_trade_bill",
            StatementFormat::WechatTradeBill => "wechat_trade_bill",
            StatementFormat::StripeBalanceReport => "stripe_balance_report",
            StatementFormat::Normalized => "normalized",
            StatementFormat::Manual(_) => "manual",
        }
    }
}

/// What the caller knows about a file that the file may not say itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseContext {
    /// Provider account name from `paydesk.toml`, shared by every line.
    pub account: SharedStr,
    pub provider: Provider,
    /// File name (not a full path) used in [`SourceRef`](paydesk_core::domain::SourceRef)s and errors.
    pub file_name: SharedStr,
    /// Currency for formats that don't state one (Alipay bills are CNY).
    pub currency: Currency,
    /// Zone of times written without one (Alipay and WeChat: Asia/Shanghai).
    pub timezone: chrono_tz::Tz,
}

impl ParseContext {
    /// A context with the provider's usual defaults: CNY and Beijing time for Alipay/WeChat,
    /// USD and UTC otherwise.
    pub fn new(
        account: impl Into<SharedStr>,
        provider: Provider,
        file_name: impl Into<SharedStr>,
    ) -> Self {
        let currency = match provider {
            Provider::Alipay | Provider::Wechat => Currency::CNY,
            Provider::Stripe | Provider::Manual => Currency::USD,
        };
        ParseContext {
            account: account.into(),
            provider,
            file_name: file_name.into(),
            currency,
            timezone: provider.default_timezone(),
        }
    }
}

/// Options that only some formats use. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseOptions {
    /// Stripe report column holding the merchant order number.
    pub stripe_order_column: String,
    /// Stripe report column holding the merchant refund number.
    pub stripe_refund_column: String,
    /// How large a statement may be once decompressed (and by what ratio).
    #[serde(default)]
    pub limits: InputLimits,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            stripe_order_column: "payment_metadata[order_id]".into(),
            stripe_refund_column: "refund_metadata[refund_id]".into(),
            limits: InputLimits::default(),
        }
    }
}

/// Totals a file states about itself, each already checked against the parsed rows.
/// Amounts are minor units with the sign the file writes them with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSummary {
    pub currency: Currency,
    /// Alipay `#交易合计：N笔`; WeChat: SUCCESS rows (not stated by the file, counted).
    pub payment_count: u64,
    /// Alipay `#退款合计：N笔`; WeChat: REFUND rows (counted).
    pub refund_count: u64,
    /// WeChat `总交易单数` (payment and refund rows); Alipay: the sum of the two counts.
    pub total_count: u64,
    /// Alipay `商家实收共`; WeChat `应结订单总金额`.
    pub payment_amount: i64,
    /// Alipay `商家实收退款共` (negative, as written); WeChat `退款总金额` (positive, as written).
    pub refund_amount: i64,
    /// WeChat `手续费总金额` in minor units (2 dp as the file writes it); Alipay: None.
    pub fee_total: Option<i64>,
    /// WeChat `订单总金额`, when the file has it.
    pub order_amount: Option<i64>,
    /// WeChat `申请退款总金额`, when the file has it.
    pub refund_requested_amount: Option<i64>,
}

/// A fully parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    pub format: StatementFormat,
    pub lines: Vec<StatementLine>,
    /// Lower-case hex SHA-256 of the raw input bytes (the ZIP/gzip as received).
    pub content_sha256: String,
    /// Totals the file itself states, already checked against the lines.
    pub summary: Option<StatementSummary>,
    /// Whose statement the file says it is (merchant ids in rows, header and names).
    pub identity: StatementIdentity,
}

/// The identities a statement file names, for checking it is the account's statement.
/// Empty sets mean the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementIdentity {
    /// Merchant ids in the content: WeChat 商户号 of every row; the Alipay PID of the
    /// `#账号：[...]` line (its `0156` suffix removed).
    pub merchant_ids: std::collections::BTreeSet<String>,
    /// WeChat 特约商户号 (sub-merchant) of the rows, `0` and empty left out.
    pub sub_merchant_ids: std::collections::BTreeSet<String>,
    /// Alipay `#账号：[...]` value as written.
    pub account_header: Option<String>,
    /// Ids in the file name and ZIP entry names that follow the provider's naming
    /// (`<PID>0156_<YYYYMMDD>…` for Alipay, `<mchid>_<YYYYMMDD>_…` for WeChat): (id, name).
    pub name_ids: Vec<(String, String)>,
}

impl StatementIdentity {
    /// Records the id a provider-style file or entry name carries, if it has one.
    pub(crate) fn add_name(&mut self, format: &StatementFormat, name: &str) {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let Some((id, rest)) = base.split_once('_') else {
            return;
        };
        let date_ok = rest.len() >= 8 && rest.bytes().take(8).all(|b| b.is_ascii_digit());
        if !date_ok || id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        let id = match format {
            StatementFormat::AlipayTradeBill if id.len() == 16 || id.len() == 20 => alipay_pid(id),
            StatementFormat::WechatTradeBill if (8..=12).contains(&id.len()) => id.to_string(),
            _ => return,
        };
        if !self.name_ids.iter().any(|(i, n)| *i == id && n == base) {
            self.name_ids.push((id, base.to_string()));
        }
    }
}

/// An Alipay PID from `#账号：[...]` or a file name: 20 digits ending in `0156` lose the suffix.
pub fn alipay_pid(id: &str) -> String {
    let id = id.trim();
    match id.strip_suffix("0156") {
        Some(pid) if id.len() == 20 && id.bytes().all(|b| b.is_ascii_digit()) => pid.to_string(),
        _ => id.to_string(),
    }
}

/// Why a file could not be parsed (or written), and where.
///
/// Displays as `bill.csv line 12, column 订单金额（元）: amount "1,23" has misplaced thousands separators`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementError {
    /// File name (for a ZIP: `archive.zip:entry.csv`).
    pub file: String,
    /// 1-based line in the decoded file (spreadsheet row for XLSX), when known.
    pub line: Option<u64>,
    /// Column header name, when the problem is in one cell or column.
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column {col}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for StatementError {}

/// A format-specific row parser.
pub(crate) trait RowSource {
    /// The next line, `None` at the end (after the file's own totals were checked).
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError>;
    fn summary(&self) -> Option<StatementSummary> {
        None
    }
    /// The identities the rows and header named (complete once the end is reached).
    fn identity(&self) -> StatementIdentity {
        StatementIdentity::default()
    }
}

/// Streaming statement parser: an iterator of lines. The first error ends the iteration;
/// the file's stated totals are checked when the last line has been read, so the final item
/// may be an error even after many good lines. Consumers that must not act on a partial file
/// should use [`parse_statement`] (or collect into a `Result<Vec<_>, _>`).
pub struct StatementReader<'a> {
    inner: Box<dyn RowSource + 'a>,
    /// Status words and account names: a handful of values over a million lines, shared.
    few: (FewValues, FewValues),
    done: bool,
    summary: Option<StatementSummary>,
    identity: StatementIdentity,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = b"\x1f\x8b";

impl<'a> StatementReader<'a> {
    /// Parses `bytes` (a ZIP, gzip, CSV or XLSX, as the format allows) with default options.
    pub fn new(
        bytes: &'a [u8],
        format: &StatementFormat,
        ctx: &ParseContext,
    ) -> Result<Self, StatementError> {
        Self::with_options(bytes, format, ctx, &ParseOptions::default())
    }

    pub fn with_options(
        bytes: &'a [u8],
        format: &StatementFormat,
        ctx: &ParseContext,
        opts: &ParseOptions,
    ) -> Result<Self, StatementError> {
        let mut names = StatementIdentity::default();
        let inner: Box<dyn RowSource + 'a> = match format {
            StatementFormat::AlipayTradeBill if bytes.starts_with(ZIP_MAGIC) => {
                let (entry, name, all) =
                    zipio::open_bill_entry(bytes, &ctx.file_name, &opts.limits)?;
                names.add_name(format, &ctx.file_name);
                for n in &all {
                    names.add_name(format, n);
                }
                let file = format!("{}:{}", ctx.file_name, name);
                Box::new(alipay::AlipayParser::new(entry, ctx, file)?)
            }
            StatementFormat::Manual(mapping) if manual::is_spreadsheet(bytes) => {
                Box::new(manual::SheetParser::new(bytes, mapping, ctx, &opts.limits)?)
            }
            _ => return Self::from_read_with_options(bytes, format, ctx, opts),
        };
        Ok(StatementReader {
            few: Default::default(),
            inner,
            done: false,
            summary: None,
            identity: names,
        })
    }

    /// Parses from any reader (gzip is recognised and decompressed). ZIP and XLSX input
    /// needs random access: pass the bytes to [`StatementReader::new`] instead.
    pub fn from_read<R: Read + 'a>(
        reader: R,
        format: &StatementFormat,
        ctx: &ParseContext,
    ) -> Result<Self, StatementError> {
        Self::from_read_with_options(reader, format, ctx, &ParseOptions::default())
    }

    pub fn from_read_with_options<R: Read + 'a>(
        reader: R,
        format: &StatementFormat,
        ctx: &ParseContext,
        opts: &ParseOptions,
    ) -> Result<Self, StatementError> {
        // The bytes read are counted (no copy) so that a gzip stream's output can be held to
        // the ratio limit; the decompressed (or plain) text is held to the size limit.
        let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = limits::CountingReader {
            inner: AtLeast(reader),
            count: compressed.clone(),
        };
        let mut raw = BufReader::with_capacity(64 * 1024, counted);
        let head = peek(&mut raw, &ctx.file_name)?;
        let rd: Box<dyn BufRead + 'a> = if head.starts_with(GZIP_MAGIC) {
            Box::new(BufReader::with_capacity(
                64 * 1024,
                limits::LimitedReader::new(
                    flate2::read::MultiGzDecoder::new(raw),
                    opts.limits,
                    Some(compressed),
                    "the gzip stream",
                ),
            ))
        } else if head.starts_with(ZIP_MAGIC) {
            return Err(text::err(
                &ctx.file_name,
                None,
                None,
                "the file is a ZIP archive; pass its bytes to StatementReader::new / parse_statement",
            ));
        } else {
            Box::new(limits::LimitedReader::new(
                raw,
                opts.limits,
                None,
                "the statement",
            ))
        };
        let inner: Box<dyn RowSource + 'a> = match format {
            StatementFormat::AlipayTradeBill => Box::new(alipay::AlipayParser::new(
                rd,
                ctx,
                ctx.file_name.to_string(),
            )?),
            StatementFormat::WechatTradeBill => Box::new(wechat::WechatParser::new(rd, ctx)),
            StatementFormat::StripeBalanceReport => {
                Box::new(stripe_report::StripeParser::new(rd, ctx, opts))
            }
            StatementFormat::Normalized => Box::new(normalized::NormalizedParser::new(rd, ctx)),
            StatementFormat::Manual(mapping) => Box::new(manual::CsvParser::new(rd, mapping, ctx)?),
        };
        let mut identity = StatementIdentity::default();
        identity.add_name(format, &ctx.file_name);
        Ok(StatementReader {
            few: Default::default(),
            inner,
            done: false,
            summary: None,
            identity,
        })
    }

    /// The totals the file states, once the reader has reached the end without error.
    pub fn summary(&self) -> Option<&StatementSummary> {
        self.summary.as_ref()
    }

    /// Whose statement it is: the file and entry names at once, the rows' and header's ids
    /// once the reader has reached the end without error.
    pub fn identity(&self) -> &StatementIdentity {
        &self.identity
    }
}

fn peek(rd: &mut dyn BufRead, file: &str) -> Result<Vec<u8>, StatementError> {
    loop {
        match rd.fill_buf() {
            Ok(b) => return Ok(b.get(..4).unwrap_or(b).to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(text::err(
                    file,
                    None,
                    None,
                    format!("cannot read the file: {e}"),
                ))
            }
        }
    }
}

impl Iterator for StatementReader<'_> {
    type Item = Result<StatementLine, StatementError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.inner.next_line() {
            Ok(Some(mut line)) => {
                line.provider_status = self.few.0.get(&line.provider_status);
                line.account = self.few.1.get(&line.account);
                Some(Ok(line))
            }
            Ok(None) => {
                self.done = true;
                self.summary = self.inner.summary();
                let found = self.inner.identity();
                self.identity.merchant_ids.extend(found.merchant_ids);
                self.identity
                    .sub_merchant_ids
                    .extend(found.sub_merchant_ids);
                if found.account_header.is_some() {
                    self.identity.account_header = found.account_header;
                }
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses a whole statement: every line, or the first error.
pub fn parse_statement(
    bytes: &[u8],
    format: &StatementFormat,
    ctx: &ParseContext,
) -> Result<ParsedStatement, StatementError> {
    parse_statement_with(bytes, format, ctx, &ParseOptions::default())
}

/// [`parse_statement`] with non-default [`ParseOptions`].
pub fn parse_statement_with(
    bytes: &[u8],
    format: &StatementFormat,
    ctx: &ParseContext,
    opts: &ParseOptions,
) -> Result<ParsedStatement, StatementError> {
    let mut reader = StatementReader::with_options(bytes, format, ctx, opts)?;
    let mut lines = Vec::new();
    for line in reader.by_ref() {
        lines.push(line?);
    }
    Ok(ParsedStatement {
        format: format.clone(),
        lines,
        content_sha256: sha256_hex(bytes),
        summary: reader.summary.take(),
        identity: std::mem::take(&mut reader.identity),
    })
}

/// [`parse_statement_with`] from a stream (a plain or gzip statement; ZIP and spreadsheet
/// input needs its bytes): the file is never held whole in memory, its SHA-256 is computed
/// as it streams.
pub fn parse_statement_read_with<R: Read>(
    reader: R,
    format: &StatementFormat,
    ctx: &ParseContext,
    opts: &ParseOptions,
) -> Result<ParsedStatement, StatementError> {
    let mut lines = Vec::new();
    let mut parsed = parse_statement_read_each(reader, format, ctx, opts, |line| {
        lines.push(line);
        std::ops::ControlFlow::Continue(())
    })?;
    parsed.lines = lines;
    Ok(parsed)
}

/// [`parse_statement_read_with`] that hands each line to `each` as it is parsed instead of
/// keeping it (the returned statement has no lines): a day of millions of lines is never
/// held whole. `each` may stop the parse (`Break`); the statement then covers the lines
/// before, and is not hashed to the end.
pub fn parse_statement_read_each<R: Read>(
    reader: R,
    format: &StatementFormat,
    ctx: &ParseContext,
    opts: &ParseOptions,
    mut each: impl FnMut(StatementLine) -> std::ops::ControlFlow<()>,
) -> Result<ParsedStatement, StatementError> {
    let mut hashing = HashingReader::new(reader);
    let (summary, identity, stopped) = {
        let mut reader = StatementReader::from_read_with_options(&mut hashing, format, ctx, opts)?;
        let mut stopped = false;
        for line in reader.by_ref() {
            if each(line?).is_break() {
                stopped = true;
                break;
            }
        }
        (
            reader.summary.take(),
            std::mem::take(&mut reader.identity),
            stopped,
        )
    };
    if !stopped {
        // Whatever the parser left unread (nothing, for a well-formed file) still counts.
        std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| {
            text::err(
                &ctx.file_name,
                None,
                None,
                format!("cannot read the file: {e}"),
            )
        })?;
    }
    Ok(ParsedStatement {
        format: format.clone(),
        lines: Vec::new(),
        content_sha256: hashing.finish().ok_or_else(|| {
            text::err(
                &ctx.file_name,
                None,
                None,
                "the file could not be hashed (the hashing thread stopped)",
            )
        })?,
        summary,
        identity,
    })
}

/// Reads at least 16 bytes a call (unless the input ends first), so that the first fill of
/// a buffer holds enough to recognise a gzip or zip stream even from a reader that hands
/// out a byte at a time.
struct AtLeast<R>(R);

impl<R: Read> Read for AtLeast<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(16);
        let mut got = 0;
        while got < want {
            match self.0.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if got == 0 => return Err(e),
                // What was read is handed out; the error comes again on the next call.
                Err(_) => break,
            }
        }
        Ok(got)
    }
}

/// Passes bytes through, hashing them: on a thread of its own when one can be started (the
/// hash is a tenth of a big bill's parse, which is the longest step of a run), else inline.
struct HashingReader<R> {
    inner: R,
    hashing: Hashing,
}

enum Hashing {
    Inline(sha2::Sha256),
    Aside {
        chunks: std::sync::mpsc::SyncSender<Vec<u8>>,
        done: std::thread::JoinHandle<sha2::Sha256>,
    },
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
        let started = std::thread::Builder::new()
            .name("statement-hash".into())
            .spawn(move || {
                let mut hasher = sha2::Sha256::new();
                for chunk in received {
                    hasher.update(&chunk);
                }
                hasher
            });
        let hashing = match started {
            Ok(done) => Hashing::Aside { chunks, done },
            Err(_) => Hashing::Inline(sha2::Sha256::new()),
        };
        HashingReader { inner, hashing }
    }

    /// The lower-case hex SHA-256 of every byte read (`None`: the hashing thread stopped).
    fn finish(self) -> Option<String> {
        let hasher = match self.hashing {
            Hashing::Inline(hasher) => Some(hasher),
            Hashing::Aside { chunks, done } => {
                drop(chunks);
                done.join().ok()
            }
        };
        hasher.map(|h| hex::encode(h.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        match &mut self.hashing {
            Hashing::Inline(hasher) => hasher.update(bytes),
            Hashing::Aside { chunks, .. } => {
                if !bytes.is_empty() && chunks.send(bytes.to_vec()).is_err() {
                    return Err(std::io::Error::other(
                        "the statement's hashing thread stopped",
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Recognises a statement by its content. Manual files cannot be recognised (None).
///
/// ZIP → Alipay bill (XLSX files are ZIPs too, but carry no 业务明细 entry and give None);
/// gzip → whatever the decompressed start is; a first line `#支付宝…` (GBK or UTF-8) →
/// Alipay; the WeChat trade-bill header; a header with `balance_transaction_id` → Stripe;
/// the normalized header.
pub fn detect_format(bytes: &[u8]) -> Option<StatementFormat> {
    detect_format_checked(bytes, "").ok().flatten()
}

/// [`detect_format`] that tells a damaged ZIP apart from an unknown file: a ZIP that cannot
/// be read ("truncated or corrupt zip") or has entry names no provider writes (`..`, absolute
/// paths, drive letters) is an error naming `file`; an unknown layout is `Ok(None)`.
pub fn detect_format_checked(
    bytes: &[u8],
    file: &str,
) -> Result<Option<StatementFormat>, StatementError> {
    if bytes.starts_with(ZIP_MAGIC) {
        zipio::check_archive(bytes, file)?;
        return Ok(zipio::open_bill_entry(bytes, file, &InputLimits::NONE)
            .ok()
            .map(|_| StatementFormat::AlipayTradeBill));
    }
    Ok(detect_content(bytes))
}

fn detect_content(bytes: &[u8]) -> Option<StatementFormat> {
    if bytes.starts_with(GZIP_MAGIC) {
        let mut head = Vec::new();
        let dec = flate2::read::MultiGzDecoder::new(bytes);
        // A truncated or corrupt stream still gives its first bytes; detection only needs those.
        let _ = dec.take(64 * 1024).read_to_end(&mut head);
        if head.starts_with(GZIP_MAGIC) || head.is_empty() {
            return None;
        }
        return detect_format(&head);
    }
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes);
    let first_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let first = body.get(..first_end).unwrap_or(body);
    let first_text = match std::str::from_utf8(first) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(first)?,
    };
    let first_text = first_text.trim();
    if first_text.starts_with("#支付宝") {
        return Some(StatementFormat::AlipayTradeBill);
    }
    let rec = text::Record::from_text(first_text.to_string(), 1);
    let names: Vec<String> = (0..rec.len())
        .map(|i| text::norm_name(rec.get(i)))
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("交易时间") && has("微信订单号") && has("交易状态") {
        return Some(StatementFormat::WechatTradeBill);
    }
    if has("balance_transaction_id") && has("reporting_category") {
        return Some(StatementFormat::StripeBalanceReport);
    }
    if has("provider") && has("provider_txn_id") && has("kind") && has("gross") {
        return Some(StatementFormat::Normalized);
    }
    if has("支付宝交易号") && has("业务类型") {
        return Some(StatementFormat::AlipayTradeBill);
    }
    None
}

/// Builds a writer-side error (no file yet; `what` names the output).
pub(crate) fn write_err(
    what: &str,
    index: Option<usize>,
    reason: impl Into<String>,
) -> StatementError {
    StatementError {
        file: what.to_string(),
        line: index.map(|i| i as u64 + 1),
        column: None,
        reason: reason.into(),
    }
}

pub(crate) fn io_write_err(what: &str, e: std::io::Error) -> StatementError {
    write_err(what, None, format!("cannot write: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_forms() {
        let e = StatementError {
            file: "bill.csv".into(),
            line: Some(12),
            column: Some("订单金额（元）".into()),
            reason: "amount \"1,23\" has misplaced thousands separators".into(),
        };
        assert_eq!(
            e.to_string(),
            "bill.csv line 12, column 订单金额（元）: amount \"1,23\" has misplaced thousands separators"
        );
        let e = StatementError {
            file: "b.zip".into(),
            line: None,
            column: None,
            reason: "truncated".into(),
        };
        assert_eq!(e.to_string(), "b.zip: truncated");
    }

    #[test]
    fn detects_normalized_and_bare_headers() {
        let header = NORMALIZED_HEADER.join(",");
        assert_eq!(
            detect_format(format!("\u{feff}{header}\n").as_bytes()),
            Some(StatementFormat::Normalized)
        );
        let gbk = encoding_rs::GBK
            .encode("#支付宝业务明细查询\r\n")
            .0
            .into_owned();
        assert_eq!(detect_format(&gbk), Some(StatementFormat::AlipayTradeBill));
        assert_eq!(detect_format(b"\x1f\x8b"), None);
        assert_eq!(detect_format(&[0xff, 0xfe, 0x00]), None);
    }

    #[test]
    fn format_serde_names() {
        let json = serde_json::to_string(&StatementFormat::WechatTradeBill).unwrap_or_default();
        assert_eq!(json, r#"{"type":"wechat_trade_bill"}"#);
    }
}
