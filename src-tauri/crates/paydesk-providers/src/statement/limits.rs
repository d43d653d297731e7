//! Bounded memory on any input: limits on what a statement or a spreadsheet may decompress
//! to, enforced while the bytes stream (a counting reader that fails past the limit), so a
//! ZIP/gzip bomb or an XLSX whose sheet inflates to gigabytes is a clear error naming the
//! limit, never an allocation failure that aborts the process.

use super::text::err;
use super::StatementError;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const MIB: u64 = 1024 * 1024;

/// Decompressed inputs up to this size are never refused for their compression ratio: a
/// small file of repeated text compresses far better than any real statement.
pub const RATIO_GRACE_BYTES: u64 = 16 * MIB;

/// The limits, as `[limits]` of `paydesk.toml` sets them (the defaults otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputLimits {
    /// Most bytes a statement may have once decompressed (the ZIP entry, the gzip stream or
    /// the plain file). `[limits] max_statement_mb`, default 1024 MiB.
    pub max_statement_bytes: u64,
    /// Most a compressed input may grow: decompressed bytes per compressed byte read, once
    /// more than [`RATIO_GRACE_BYTES`] came out. `[limits] max_compression_ratio`, default 100
    /// (bills compress about 5–20 : 1, spreadsheet XML up to about 50 : 1; deflate's most is
    /// about 1000 : 1, repeated bill lines about 200 : 1).
    pub max_ratio: u64,
    /// Most bytes the parts of a spreadsheet (XLSX/ODS: sheet XML, shared strings, styles)
    /// may decompress to, all together. `[limits] max_spreadsheet_mb`, default 256 MiB.
    pub max_spreadsheet_bytes: u64,
    /// Most cells a sheet's used area (rows × columns) may span.
    /// `[limits] max_sheet_cells`, default 10 000 000.
    pub max_sheet_cells: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_statement_bytes: 1024 * MIB,
            max_ratio: 100,
            max_spreadsheet_bytes: 256 * MIB,
            max_sheet_cells: 10_000_000,
        }
    }
}

impl InputLimits {
    /// No limit (recognising a file's format reads only its start).
    pub(crate) const NONE: InputLimits = InputLimits {
        max_statement_bytes: u64::MAX,
        max_ratio: u64::MAX,
        max_spreadsheet_bytes: u64::MAX,
        max_sheet_cells: u64::MAX,
    };

    /// "1024 MiB (`[limits] max_statement_mb` in paydesk.toml)".
    fn statement_limit(&self) -> String {
        format!(
            "{} MiB, the limit `[limits] max_statement_mb` of paydesk.toml",
            self.max_statement_bytes / MIB
        )
    }

    fn ratio_limit(&self) -> String {
        format!(
            "{} : 1, the limit `[limits] max_compression_ratio` of paydesk.toml",
            self.max_ratio
        )
    }

    fn spreadsheet_limit(&self) -> String {
        format!(
            "{} MiB, the limit `[limits] max_spreadsheet_mb` of paydesk.toml",
            self.max_spreadsheet_bytes / MIB
        )
    }

    /// The message for a statement past its size limit.
    pub(crate) fn statement_too_big(&self, what: &str) -> String {
        format!(
            "{what} is larger than {}; raise the limit if the file is genuine",
            self.statement_limit()
        )
    }

    /// The message for an input decompressing by more than the ratio limit.
    pub(crate) fn ratio_too_high(&self, what: &str, out: u64, compressed: u64) -> String {
        format!(
            "{what} decompresses by more than {} ({} MiB out of {} KiB so far): a compression bomb, or raise the limit if the file is genuine",
            self.ratio_limit(),
            out / MIB,
            compressed / 1024
        )
    }

    /// Whether `out` decompressed bytes from `compressed` bytes pass the ratio limit.
    fn ratio_ok(&self, out: u64, compressed: u64) -> bool {
        out <= RATIO_GRACE_BYTES || out <= compressed.saturating_mul(self.max_ratio)
    }

    /// Checks a ZIP entry before it is inflated, by its declared sizes (the entry's reader
    /// checks it does not grow past its declared size).
    pub(crate) fn check_entry(
        &self,
        file: &str,
        size: u64,
        compressed: u64,
    ) -> Result<(), StatementError> {
        if size > self.max_statement_bytes {
            return Err(err(
                file,
                None,
                None,
                self.statement_too_big(&format!("the ZIP entry ({} MiB)", size / MIB)),
            ));
        }
        if !self.ratio_ok(size, compressed) {
            return Err(err(
                file,
                None,
                None,
                self.ratio_too_high("the ZIP entry", size, compressed),
            ));
        }
        Ok(())
    }
}

/// The error a [`LimitedReader`] fails with; the line reader shows its message as it is.
#[derive(Debug)]
pub(crate) struct LimitExceeded(pub String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

/// The limit's message if `e` is a [`LimitExceeded`].
pub(crate) fn limit_message(e: &std::io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
        .map(|l| l.0.clone())
}

/// Counts the bytes read through it into a shared counter (the compressed side of a
/// decompressor, which the [`LimitedReader`] on its output compares with).
pub(crate) struct CountingReader<R> {
    pub inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Passes bytes through and fails, without reading further, once more than the limit came
/// out, or (when `compressed` counts the input of a decompressor) once the output outgrows
/// the input by more than the ratio limit.
pub(crate) struct LimitedReader<R> {
    inner: R,
    out: u64,
    limits: InputLimits,
    compressed: Option<Arc<AtomicU64>>,
    what: &'static str,
}

impl<R: Read> LimitedReader<R> {
    /// `what` names the stream in messages ("the statement", "the gzip stream").
    pub fn new(
        inner: R,
        limits: InputLimits,
        compressed: Option<Arc<AtomicU64>>,
        what: &'static str,
    ) -> Self {
        LimitedReader {
            inner,
            out: 0,
            limits,
            compressed,
            what,
        }
    }
}

impl<R> LimitedReader<R> {
    /// Fails once the bytes passed exceed a limit.
    fn check(&self) -> std::io::Result<()> {
        let fail = |msg: String| {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                LimitExceeded(msg),
            ))
        };
        if self.out > self.limits.max_statement_bytes {
            return fail(self.limits.statement_too_big(self.what));
        }
        if let Some(c) = &self.compressed {
            let compressed = c.load(Ordering::Relaxed);
            if !self.limits.ratio_ok(self.out, compressed) {
                return fail(self.limits.ratio_too_high(self.what, self.out, compressed));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        self.check()?;
        Ok(n)
    }
}

/// Over a buffered reader the bytes are counted as they are consumed, without a copy; a
/// limit passed fails the next `fill_buf`.
impl<R: std::io::BufRead> std::io::BufRead for LimitedReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.check()?;
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.out += amt as u64;
        self.inner.consume(amt);
    }
}

/// Checks a spreadsheet (XLSX, ODS: a ZIP) before a reader loads it: every part is inflated
/// once through a counter, which fails past [`InputLimits::max_spreadsheet_bytes`] (all parts
/// together) or when a part outgrows its compressed size by more than the ratio limit. Not a
/// ZIP (XLS): nothing to check. Nothing is kept in memory.
pub fn check_spreadsheet(
    bytes: &[u8],
    file: &str,
    limits: &InputLimits,
) -> Result<(), StatementError> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(());
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| err(file, None, None, format!("not a readable spreadsheet: {e}")))?;
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| err(file, None, None, format!("not a readable spreadsheet: {e}")))?;
        let name = entry.name().to_string();
        let compressed = entry.compressed_size();
        let mut out = 0u64;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(err(
                        file,
                        None,
                        None,
                        format!("not a readable spreadsheet: part {name}: {e}"),
                    ))
                }
            };
            out += n;
            total += n;
            if total > limits.max_spreadsheet_bytes {
                return Err(err(
                    file,
                    None,
                    None,
                    format!(
                        "the spreadsheet's contents (sheets, shared strings) decompress to more than {}; raise the limit if the file is genuine",
                        limits.spreadsheet_limit()
                    ),
                ));
            }
            if !limits.ratio_ok(out, compressed) {
                return Err(err(
                    file,
                    None,
                    None,
                    limits.ratio_too_high(&format!("the spreadsheet part {name}"), out, compressed),
                ));
            }
        }
    }
    Ok(())
}

/// Reads an XLSX sheet cell by cell (no dense grid is built until the used area is known),
/// refusing a sheet with more than [`InputLimits::max_sheet_cells`] cells or whose used area
/// (rows × columns) exceeds it: a sheet with cells at A1 and XFD1048576 would otherwise ask
/// for a grid of 17 billion cells. Empty cells are left out, as calamine's `worksheet_range`
/// does. Call [`check_spreadsheet`] on the file first.
pub fn xlsx_sheet_range<RS: std::io::Read + std::io::Seek>(
    workbook: &mut calamine::Xlsx<RS>,
    sheet: &str,
    limits: &InputLimits,
) -> Result<calamine::Range<calamine::Data>, String> {
    let too_many = |what: String| {
        format!(
            "sheet {sheet:?} {what}, more than {} cells, the limit `[limits] max_sheet_cells` of paydesk.toml; raise the limit if the file is genuine",
            limits.max_sheet_cells
        )
    };
    let mut reader = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| format!("sheet {sheet:?}: {e}"))?;
    let mut cells = Vec::new();
    let (mut r0, mut r1, mut c0, mut c1) = (u32::MAX, 0u32, u32::MAX, 0u32);
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| format!("sheet {sheet:?}: {e}"))?
    {
        if matches!(cell.get_value(), calamine::DataRef::Empty) {
            continue;
        }
        if cells.len() as u64 >= limits.max_sheet_cells {
            return Err(too_many("has more cells".into()));
        }
        let (r, c) = cell.get_position();
        r0 = r0.min(r);
        r1 = r1.max(r);
        c0 = c0.min(c);
        c1 = c1.max(c);
        cells.push(calamine::Cell::new(
            (r, c),
            calamine::Data::from(cell.get_value().clone()),
        ));
    }
    if !cells.is_empty() {
        let area = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
        if area > limits.max_sheet_cells {
            return Err(too_many(format!(
                "spans {} rows × {} columns ({area} cells)",
                r1 - r0 + 1,
                c1 - c0 + 1
            )));
        }
    }
    Ok(calamine::Range::from_sparse(cells))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn small() -> InputLimits {
        InputLimits {
            max_statement_bytes: 20 * MIB,
            ..InputLimits::default()
        }
    }

    #[test]
    fn limited_reader_stops_at_the_size_limit() {
        let data = vec![b'x'; (21 * MIB) as usize];
        let mut r = LimitedReader::new(&data[..], small(), None, "the statement");
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        let msg = limit_message(&e).unwrap();
        assert!(msg.contains("max_statement_mb"), "{msg}");
        assert!(msg.contains("20 MiB"), "{msg}");
    }

    #[test]
    fn limited_reader_stops_a_bomb_by_its_ratio() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let line = b"2026-11-22 10:00:00,repeated bill line,100.00\n";
        for _ in 0..(64 * MIB as usize / line.len()) {
            enc.write_all(line).unwrap();
        }
        let gz = enc.finish().unwrap();
        let count = Arc::new(AtomicU64::new(0));
        let dec = flate2::read::MultiGzDecoder::new(CountingReader {
            inner: &gz[..],
            count: count.clone(),
        });
        let mut r = LimitedReader::new(dec, InputLimits::default(), Some(count), "the gzip stream");
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        let msg = limit_message(&e).unwrap();
        assert!(msg.contains("max_compression_ratio"), "{msg}");
    }
}
