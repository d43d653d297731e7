//! ZIP input and output for Alipay bills.
//!
//! Reading: the `zip` crate finds the entries; the chosen entry is then inflated straight
//! from the input slice while its CRC-32 and size are checked, so nothing is buffered whole.
//! Writing: a minimal ZIP writer of our own, because Alipay's entry names are GBK without
//! the UTF-8 flag (bit 11) and the `zip` crate always writes names as UTF-8.

use super::text::err;
use super::StatementError;
use std::io::{BufRead, BufReader, Read, Write};

/// Entry names are GBK when the UTF-8 flag is unset (Alipay); fall back to UTF-8.
pub(crate) fn decode_name(raw: &[u8]) -> String {
    if let Some(s) = encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(raw) {
        return s.into_owned();
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// Why an entry name cannot come from a provider: `..` components, absolute paths and drive
/// letters (nothing is ever extracted, but such an archive is not a provider's file).
fn unsafe_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("is an absolute path");
    }
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("starts with a drive letter");
    }
    if name.split(['/', '\\']).any(|part| part == "..") {
        return Some("climbs out of the archive with `..`");
    }
    None
}

type Archive<'a> = zip::ZipArchive<std::io::Cursor<&'a [u8]>>;

/// The detail entry's reader, its name, and every entry's name.
pub(crate) type BillEntry<'a> = (Box<dyn BufRead + 'a>, String, Vec<String>);

/// Opens the archive and checks every entry name: a damaged archive is "truncated or
/// corrupt zip", an entry name no provider writes is refused.
fn open_archive<'a>(
    bytes: &'a [u8],
    file: &str,
) -> Result<(Archive<'a>, Vec<String>), StatementError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| err(file, None, None, format!("truncated or corrupt zip ({e})")))?;
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| {
            err(
                file,
                None,
                None,
                format!(
                    "truncated or corrupt zip: cannot read entry {} ({e})",
                    i + 1
                ),
            )
        })?;
        // The `zip` crate decodes names as UTF-8 when the entry's UTF-8 flag is set (and as
        // CP437 otherwise): a raw name equal to that is UTF-8; anything else is GBK (Alipay).
        let name = match std::str::from_utf8(entry.name_raw()) {
            Ok(utf8) if utf8 == entry.name() => utf8.to_string(),
            _ => decode_name(entry.name_raw()),
        };
        if let Some(why) = unsafe_name(&name) {
            return Err(err(
                file,
                None,
                None,
                format!("ZIP entry name {name:?} {why}; a provider's statement never has such an entry, so the file is refused"),
            ));
        }
        names.push(name);
    }
    Ok((archive, names))
}

/// Checks that `bytes` is a readable ZIP whose entry names are all plain relative names.
pub(crate) fn check_archive(bytes: &[u8], file: &str) -> Result<(), StatementError> {
    open_archive(bytes, file).map(|_| ())
}

/// Opens the 业务明细 (detail) entry of an Alipay bill ZIP, ignoring the 汇总 (summary)
/// entry and whatever order the entries come in. Also gives every entry's name.
/// The entry is refused before it is inflated when its declared size passes
/// `limits.max_statement_bytes` or it would grow by more than `limits.max_ratio` (the reader
/// then holds the entry to its declared size).
pub(crate) fn open_bill_entry<'a>(
    bytes: &'a [u8],
    file: &str,
    limits: &super::InputLimits,
) -> Result<BillEntry<'a>, StatementError> {
    open_named_entry(bytes, file, limits, "业务明细", "业务明细 (trade detail)")
}

/// [`open_bill_entry`] for the entry whose name contains `want` (`账务明细` for the account
/// log of `bill_type=signcustomer`); `label` names it in the error when there is none.
pub(crate) fn open_named_entry<'a>(
    bytes: &'a [u8],
    file: &str,
    limits: &super::InputLimits,
    want: &str,
    label: &str,
) -> Result<BillEntry<'a>, StatementError> {
    let (mut archive, names) = open_archive(bytes, file)?;
    let mut candidates = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let entry = archive.by_index_raw(i).map_err(|e| {
            err(
                file,
                None,
                None,
                format!("cannot read ZIP entry {}: {e}", i + 1),
            )
        })?;
        if entry.is_dir() {
            continue;
        }
        let name = name.clone();
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        let lower = base.to_ascii_lowercase();
        if base.contains("汇总") || !(lower.ends_with(".csv") || lower.ends_with(".txt")) {
            continue;
        }
        candidates.push((i, base));
    }
    let chosen = match candidates.iter().find(|(_, n)| n.contains(want)) {
        Some(c) => c.clone(),
        None if candidates.len() == 1 => candidates.swap_remove(0),
        None => {
            return Err(err(
                file,
                None,
                None,
                format!("the ZIP archive has no {label} CSV entry"),
            ))
        }
    };
    let (index, name) = chosen;
    let entry_file = format!("{file}:{name}");
    let entry = archive.by_index_raw(index).map_err(|e| {
        err(
            &entry_file,
            None,
            None,
            format!("cannot read ZIP entry: {e}"),
        )
    })?;
    if entry.encrypted() {
        return Err(err(&entry_file, None, None, "the ZIP entry is encrypted"));
    }
    let start = usize::try_from(entry.data_start()).unwrap_or(usize::MAX);
    let len = usize::try_from(entry.compressed_size()).unwrap_or(usize::MAX);
    let data = start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| {
            err(
                &entry_file,
                None,
                None,
                "truncated or corrupt zip: the entry's data ends early",
            )
        })?;
    let expected_crc = entry.crc32();
    let expected_size = entry.size();
    limits.check_entry(&entry_file, expected_size, entry.compressed_size())?;
    let inner: Box<dyn Read + 'a> = match entry.compression() {
        zip::CompressionMethod::Stored => Box::new(data),
        zip::CompressionMethod::Deflated => Box::new(flate2::read::DeflateDecoder::new(data)),
        other => {
            return Err(err(
                &entry_file,
                None,
                None,
                format!("unsupported ZIP compression method {other:?}"),
            ))
        }
    };
    let checked = CrcCheckReader {
        inner,
        crc: flate2::Crc::new(),
        expected_crc,
        expected_size,
        seen: 0,
    };
    Ok((
        Box::new(BufReader::with_capacity(64 * 1024, checked)),
        name,
        names,
    ))
}

/// Passes bytes through and, at the end, checks the entry's CRC-32 and size: a damaged
/// entry fails instead of silently yielding a shorter bill.
struct CrcCheckReader<R> {
    inner: R,
    crc: flate2::Crc,
    expected_crc: u32,
    expected_size: u64,
    seen: u64,
}

impl<R: Read> Read for CrcCheckReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or(&[]);
        self.crc.update(got);
        self.seen += n as u64;
        if self.seen > self.expected_size {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "ZIP entry is longer than its stated size",
            ));
        }
        if n == 0
            && !buf.is_empty()
            && (self.seen != self.expected_size || self.crc.sum() != self.expected_crc)
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "truncated or corrupt zip: the entry fails its CRC-32/size check",
            ));
        }
        Ok(n)
    }
}

/// Counts bytes and CRC-32 of what is written through it.
pub(crate) struct CrcWriter<W> {
    pub inner: W,
    pub crc: flate2::Crc,
    pub len: u64,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(buf.get(..n).unwrap_or(&[]));
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A ZIP archive built in memory with deflated entries whose names are raw bytes.
pub(crate) struct ZipBuilder {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

/// MS-DOS date/time fields.
#[derive(Clone, Copy)]
pub(crate) struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    pub fn from_naive(t: chrono::NaiveDateTime) -> DosTime {
        use chrono::{Datelike, Timelike};
        let year = t.year().clamp(1980, 2107) as u16;
        DosTime {
            time: ((t.hour() as u16) << 11)
                | ((t.minute() as u16) << 5)
                | ((t.second() as u16) / 2),
            date: ((year - 1980) << 9) | ((t.month() as u16) << 5) | (t.day() as u16),
        }
    }
}

const TOO_BIG: &str = "ZIP entry larger than 4 GiB (ZIP64 is not written)";

impl ZipBuilder {
    pub fn new() -> Self {
        ZipBuilder {
            out: Vec::new(),
            central: Vec::new(),
            entries: 0,
        }
    }

    /// Adds one entry whose content `fill` writes (deflated as it goes).
    pub fn add<F>(&mut self, name: &[u8], when: DosTime, fill: F) -> Result<(), StatementError>
    where
        F: FnOnce(&mut dyn Write) -> Result<(), StatementError>,
    {
        let what = "alipay bill zip";
        let io = |e: std::io::Error| super::io_write_err(what, e);
        let header_offset =
            u32::try_from(self.out.len()).map_err(|_| super::write_err(what, None, TOO_BIG))?;
        let name_len = u16::try_from(name.len())
            .map_err(|_| super::write_err(what, None, "entry name too long"))?;
        let mut w = CrcWriter {
            inner: flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default()),
            crc: flate2::Crc::new(),
            len: 0,
        };
        fill(&mut w)?;
        let crc = w.crc.sum();
        let size = u32::try_from(w.len).map_err(|_| super::write_err(what, None, TOO_BIG))?;
        let data = w.inner.finish().map_err(io)?;
        let csize = u32::try_from(data.len()).map_err(|_| super::write_err(what, None, TOO_BIG))?;

        let o = &mut self.out;
        o.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        o.extend_from_slice(&20u16.to_le_bytes()); // version needed
        o.extend_from_slice(&0u16.to_le_bytes()); // flags: no UTF-8 bit, names are GBK
        o.extend_from_slice(&8u16.to_le_bytes()); // deflate
        o.extend_from_slice(&when.time.to_le_bytes());
        o.extend_from_slice(&when.date.to_le_bytes());
        o.extend_from_slice(&crc.to_le_bytes());
        o.extend_from_slice(&csize.to_le_bytes());
        o.extend_from_slice(&size.to_le_bytes());
        o.extend_from_slice(&name_len.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(name);
        o.extend_from_slice(&data);

        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes()); // version made by (MS-DOS)
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&8u16.to_le_bytes());
        c.extend_from_slice(&when.time.to_le_bytes());
        c.extend_from_slice(&when.date.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&csize.to_le_bytes());
        c.extend_from_slice(&size.to_le_bytes());
        c.extend_from_slice(&name_len.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes()); // extra
        c.extend_from_slice(&0u16.to_le_bytes()); // comment
        c.extend_from_slice(&0u16.to_le_bytes()); // disk
        c.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
        c.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        c.extend_from_slice(&header_offset.to_le_bytes());
        c.extend_from_slice(name);
        self.entries += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, StatementError> {
        let what = "alipay bill zip";
        let cd_offset =
            u32::try_from(self.out.len()).map_err(|_| super::write_err(what, None, TOO_BIG))?;
        let cd_size =
            u32::try_from(self.central.len()).map_err(|_| super::write_err(what, None, TOO_BIG))?;
        self.out.extend_from_slice(&self.central);
        let o = &mut self.out;
        o.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(&self.entries.to_le_bytes());
        o.extend_from_slice(&self.entries.to_le_bytes());
        o.extend_from_slice(&cd_size.to_le_bytes());
        o.extend_from_slice(&cd_offset.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        Ok(self.out)
    }
}
