//! Temporary files for a day too large to hold whole: statement lines and orders written in
//! a compact binary form (a few dozen bytes each instead of a few hundred as Rust values) to
//! numbered partition files, and read back one partition at a time.
//!
//! The files live in a private temporary folder that is removed when the run ends, however it
//! ends. A record that does not decode (a truncated or corrupted temporary file) is an error,
//! never a panic.

use crate::ServiceError;
use chrono::{DateTime, Utc};
use paydesk_core::{
    Currency, FewValues, Id, LineKind, MatchRule, Money, Order, OrderStatus, OutcomeClass,
    Provider, SharedStr, SourceRef, StatementLine,
};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strum::VariantArray;

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Io(format!(
        "{what} the run's temporary file {}: {e}",
        path.display()
    ))
}

/// The run's temporary folder (removed on drop).
#[derive(Clone)]
pub(crate) struct SpillDir(Arc<tempfile::TempDir>);

impl SpillDir {
    pub(crate) fn new() -> Result<Self, ServiceError> {
        let dir = tempfile::Builder::new()
            .prefix("paydesk-run-")
            .tempdir()
            .map_err(|e| ServiceError::Io(format!("cannot create a temporary folder: {e}")))?;
        Ok(Self(Arc::new(dir)))
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// A value that can be written to and read back from a spill file.
pub(crate) trait Record: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(input: &mut Decoder<'_>) -> Option<Self>;
}

/// Writes records to `parts` files named `<name>-<n>`.
pub(crate) struct PartWriter {
    files: Vec<(PathBuf, BufWriter<File>, u64)>,
    buf: Vec<u8>,
}

impl PartWriter {
    pub(crate) fn create(dir: &SpillDir, name: &str, parts: usize) -> Result<Self, ServiceError> {
        let files = (0..parts.max(1))
            .map(|n| {
                let path = dir.path(&format!("{name}-{n}"));
                let file = File::create(&path).map_err(|e| io_error("cannot create", &path, e))?;
                Ok((path, BufWriter::with_capacity(1 << 16, file), 0))
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        Ok(Self {
            files,
            buf: Vec::with_capacity(256),
        })
    }

    /// Appends `record` to partition `part`, framed by its length.
    pub(crate) fn write<R: Record>(&mut self, part: usize, record: &R) -> Result<(), ServiceError> {
        self.buf.clear();
        record.encode(&mut self.buf);
        let Some((path, file, count)) = self.files.get_mut(part) else {
            return Err(ServiceError::Io(format!(
                "no temporary partition {part} of {}",
                self.files.len()
            )));
        };
        let len = u32::try_from(self.buf.len())
            .map_err(|_| io_error("a record too large for", path, self.buf.len()))?;
        file.write_all(&len.to_le_bytes())
            .and_then(|()| file.write_all(&self.buf))
            .map_err(|e| io_error("cannot write", path, e))?;
        *count += 1;
        Ok(())
    }

    /// Flushes every file; returns their paths and record counts.
    pub(crate) fn finish(self) -> Result<Vec<(PathBuf, u64)>, ServiceError> {
        self.files
            .into_iter()
            .map(|(path, mut file, count)| {
                file.flush()
                    .map_err(|e| io_error("cannot write", &path, e))?;
                Ok((path, count))
            })
            .collect()
    }
}

/// No line or order comes near this; a longer "record" is a damaged file.
const MAX_RECORD: usize = 16 << 20;

/// Reads the records of one spill file in the order they were written.
pub(crate) struct PartReader {
    path: PathBuf,
    file: BufReader<File>,
    buf: Vec<u8>,
    strings: FewValues,
}

impl PartReader {
    pub(crate) fn open(path: &Path) -> Result<Self, ServiceError> {
        let file = File::open(path).map_err(|e| io_error("cannot open", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: BufReader::with_capacity(1 << 16, file),
            buf: Vec::new(),
            strings: FewValues::default(),
        })
    }

    /// The next record, or `None` at the end of the file.
    pub(crate) fn next<R: Record>(&mut self) -> Result<Option<R>, ServiceError> {
        let mut len = [0u8; 4];
        // The end of the file is only between records; within one it is a damaged file.
        let first = loop {
            match self.file.read(&mut len[..1]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("cannot read", &self.path, e)),
            }
        };
        if first == 0 {
            return Ok(None);
        }
        self.file
            .read_exact(&mut len[1..])
            .map_err(|e| io_error("cannot read", &self.path, e))?;
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_RECORD {
            return Err(io_error(
                "a damaged record in",
                &self.path,
                "its length is not a record's",
            ));
        }
        self.buf.resize(len, 0);
        self.file
            .read_exact(&mut self.buf)
            .map_err(|e| io_error("cannot read", &self.path, e))?;
        let mut d = Decoder {
            bytes: &self.buf,
            strings: &mut self.strings,
        };
        let record = R::decode(&mut d)
            .filter(|_| d.bytes.is_empty())
            .ok_or_else(|| io_error("a damaged record in", &self.path, "it does not decode"))?;
        Ok(Some(record))
    }

    /// Every record of the file at `path`.
    pub(crate) fn read_all<R: Record>(path: &Path) -> Result<Vec<R>, ServiceError> {
        let mut reader = Self::open(path)?;
        let mut out = Vec::new();
        while let Some(r) = reader.next()? {
            out.push(r);
        }
        Ok(out)
    }
}

/// A whole spill file in memory, read record by record without decoding: for the passes
/// that need a field or two of every record (an order number, a line's key), not the value.
pub(crate) struct RawFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl RawFile {
    pub(crate) fn read(path: &Path) -> Result<Self, ServiceError> {
        let bytes = std::fs::read(path).map_err(|e| io_error("cannot read", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// The records' bytes, in the order they were written.
    pub(crate) fn records(&self) -> impl Iterator<Item = Result<&[u8], ServiceError>> + '_ {
        let mut rest = self.bytes.as_slice();
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let record = rest
                .get(..4)
                .and_then(|len| len.try_into().ok())
                .map(|len: [u8; 4]| u32::from_le_bytes(len) as usize)
                .and_then(|len| rest.get(4..4 + len));
            match record {
                Some(r) => {
                    rest = &rest[4 + r.len()..];
                    Some(Ok(r))
                }
                None => {
                    rest = &[];
                    Some(Err(io_error(
                        "a damaged record in",
                        &self.path,
                        "it ends early",
                    )))
                }
            }
        })
    }

    pub(crate) fn damaged(&self) -> ServiceError {
        io_error("a damaged record in", &self.path, "it does not decode")
    }
}

/// The first fields of a spilled line, read in place.
pub(crate) struct LineHead<'a> {
    pub(crate) at: u32,
    pub(crate) kind: LineKind,
    pub(crate) provider_txn_id: &'a str,
    pub(crate) merchant_order_no: Option<&'a str>,
    pub(crate) provider_refund_id: Option<&'a str>,
    pub(crate) merchant_refund_no: Option<&'a str>,
}

impl<'a> LineHead<'a> {
    pub(crate) fn of(record: &'a [u8]) -> Option<Self> {
        let mut r = RawDecoder(record);
        let at = r.u32()?;
        r.take(1)?; // provider
        r.str()?; // account
        let provider_txn_id = r.str()?;
        let merchant_order_no = r.opt_str()?;
        let kind = *LineKind::VARIANTS.get(r.take(1)?[0] as usize)?;
        r.take(8 * 3 + 3 + 12)?; // gross, fee, net, currency, time
        let provider_refund_id = r.opt_str()?;
        let merchant_refund_no = r.opt_str()?;
        Some(Self {
            at,
            kind,
            provider_txn_id,
            merchant_order_no,
            provider_refund_id,
            merchant_refund_no,
        })
    }

    /// The whole line.
    pub(crate) fn decode(record: &[u8]) -> Option<Placed> {
        let mut strings = FewValues::default();
        let mut d = Decoder {
            bytes: record,
            strings: &mut strings,
        };
        Placed::decode(&mut d).filter(|_| d.bytes.is_empty())
    }
}

/// The order number of a spilled order, read in place.
pub(crate) fn order_no_of(record: &[u8]) -> Option<&str> {
    RawDecoder(record).str()
}

struct RawDecoder<'a>(&'a [u8]);

impl<'a> RawDecoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }
    fn opt_str(&mut self) -> Option<Option<&'a str>> {
        match self.take(1)?[0] {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
}

/// Reads a record's fields; every getter returns `None` past the end.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    strings: &'a mut FewValues,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }
    fn id(&mut self) -> Option<Id> {
        self.str().map(Id::from)
    }
    fn opt_id(&mut self) -> Option<Option<Id>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.id().map(Some),
        }
    }
    fn shared(&mut self) -> Option<SharedStr> {
        let s = self.str()?;
        Some(self.strings.get(s))
    }
    fn time(&mut self) -> Option<DateTime<Utc>> {
        let secs = self.i64()?;
        let nanos = self.u32()?;
        DateTime::from_timestamp(secs, nanos)
    }
    fn opt_time(&mut self) -> Option<Option<DateTime<Utc>>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.time().map(Some),
        }
    }
    fn currency(&mut self) -> Option<Currency> {
        Currency::parse(std::str::from_utf8(self.take(3)?).ok()?).ok()
    }
    fn variant<T: Copy>(&mut self, all: &[T]) -> Option<T> {
        all.get(self.u8()? as usize).copied()
    }
}

/// Writes a record's fields.
struct Encoder<'a>(&'a mut Vec<u8>);

impl Encoder<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        // Statement fields are far below 4 GiB; a longer one is cut, never wrapped.
        let bytes = &s.as_bytes()[..s.len().min(u32::MAX as usize)];
        self.u32(bytes.len() as u32);
        self.0.extend_from_slice(bytes);
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn time(&mut self, t: DateTime<Utc>) {
        self.i64(t.timestamp());
        self.u32(t.timestamp_subsec_nanos());
    }
    fn opt_time(&mut self, t: Option<DateTime<Utc>>) {
        match t {
            None => self.u8(0),
            Some(t) => {
                self.u8(1);
                self.time(t);
            }
        }
    }
    fn currency(&mut self, c: Currency) {
        let code = c.code().as_bytes();
        let mut fixed = [b'?'; 3];
        for (slot, b) in fixed.iter_mut().zip(code) {
            *slot = *b;
        }
        self.0.extend_from_slice(&fixed);
    }
    fn variant<T: PartialEq>(&mut self, all: &[T], v: &T) {
        self.u8(all.iter().position(|x| x == v).unwrap_or(u8::MAX as usize) as u8);
    }
}

/// A statement line and its place (0-based) in the file.
pub(crate) struct Placed(pub u32, pub StatementLine);

impl Record for Placed {
    fn encode(&self, out: &mut Vec<u8>) {
        let Placed(at, l) = self;
        let mut e = Encoder(out);
        e.u32(*at);
        e.variant(Provider::VARIANTS, &l.provider);
        e.str(&l.account);
        e.str(&l.provider_txn_id);
        e.opt_str(l.merchant_order_no.as_deref());
        e.variant(LineKind::VARIANTS, &l.kind);
        e.i64(l.gross);
        e.i64(l.fee_milli);
        e.i64(l.net);
        e.currency(l.currency);
        e.time(l.provider_time);
        e.opt_str(l.provider_refund_id.as_deref());
        e.opt_str(l.merchant_refund_no.as_deref());
        e.str(&l.provider_status);
        e.str(&l.source.file);
        e.i64(l.source.line as i64);
        e.opt_str(l.payment_intent_id.as_deref());
        match l.presentment {
            None => e.u8(0),
            Some(m) => {
                e.u8(1);
                e.i64(m.minor);
                e.currency(m.currency);
            }
        }
        match l.fee_base {
            None => e.u8(0),
            Some(b) => {
                e.u8(1);
                e.i64(b);
            }
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        let at = d.u32()?;
        let line = StatementLine {
            provider: d.variant(Provider::VARIANTS)?,
            account: d.shared()?,
            provider_txn_id: d.id()?,
            merchant_order_no: d.opt_id()?,
            kind: d.variant(LineKind::VARIANTS)?,
            gross: d.i64()?,
            fee_milli: d.i64()?,
            net: d.i64()?,
            currency: d.currency()?,
            provider_time: d.time()?,
            provider_refund_id: d.opt_id()?,
            merchant_refund_no: d.opt_id()?,
            provider_status: d.shared()?,
            source: SourceRef {
                file: d.shared()?,
                line: u64::try_from(d.i64()?).ok()?,
            },
            payment_intent_id: d.opt_id()?,
            presentment: match d.u8()? {
                0 => None,
                _ => Some(Money::new(d.i64()?, d.currency()?)),
            },
            fee_base: match d.u8()? {
                0 => None,
                _ => Some(d.i64()?),
            },
        };
        Some(Placed(at, line))
    }
}

impl Record for Order {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut e = Encoder(out);
        e.str(&self.order_no);
        e.variant(Provider::VARIANTS, &self.provider);
        e.opt_str(self.provider_txn_id.as_deref());
        e.i64(self.amount);
        e.currency(self.currency);
        e.variant(OrderStatus::VARIANTS, &self.status);
        e.time(self.created_at);
        e.opt_time(self.paid_at);
        e.opt_str(self.customer_ref.as_deref());
    }

    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        Some(Order {
            order_no: d.id()?,
            provider: d.variant(Provider::VARIANTS)?,
            provider_txn_id: d.opt_id()?,
            amount: d.i64()?,
            currency: d.currency()?,
            status: d.variant(OrderStatus::VARIANTS)?,
            created_at: d.time()?,
            paid_at: d.opt_time()?,
            customer_ref: d.opt_id()?,
        })
    }
}

/// An outcome row as the save writes it, and the discrepancy (by its place among the run's
/// drafts) whose key it carries once the keys are final.
pub(crate) struct SpilledOutcome {
    pub(crate) row: paydesk_store::OutcomeRow,
    pub(crate) draft: Option<u32>,
}

impl Record for SpilledOutcome {
    fn encode(&self, out: &mut Vec<u8>) {
        let r = &self.row;
        let mut e = Encoder(out);
        e.i64(r.seq as i64);
        e.variant(&OutcomeClass::ALL, &r.class);
        e.variant(MatchRule::VARIANTS, &r.rule);
        match r.line_no {
            None => e.u8(0),
            Some(n) => {
                e.u8(1);
                e.i64(n as i64);
            }
        }
        e.opt_str(r.provider_txn_id.as_deref());
        e.opt_str(r.order_no.as_deref());
        e.opt_str(r.refund_no.as_deref());
        match self.draft {
            None => e.u8(0),
            Some(n) => {
                e.u8(1);
                e.u32(n);
            }
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Option<Self> {
        let opt_string = |d: &mut Decoder<'_>| -> Option<Option<String>> {
            Some(d.opt_id()?.map(|s| s.to_string()))
        };
        let row = paydesk_store::OutcomeRow {
            seq: u64::try_from(d.i64()?).ok()?,
            class: d.variant(&OutcomeClass::ALL)?,
            rule: d.variant(MatchRule::VARIANTS)?,
            line_no: match d.u8()? {
                0 => None,
                _ => Some(u64::try_from(d.i64()?).ok()?),
            },
            provider_txn_id: opt_string(d)?,
            order_no: opt_string(d)?,
            refund_no: opt_string(d)?,
            discrepancy_key: None,
        };
        let draft = match d.u8()? {
            0 => None,
            _ => Some(d.u32()?),
        };
        Some(SpilledOutcome { row, draft })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u32) -> StatementLine {
        StatementLine {
            provider: Provider::Stripe,
            account: "stripe-eu".into(),
            provider_txn_id: format!("ch_{n:040}").into(),
            merchant_order_no: n.is_multiple_of(2).then(|| Id::from(format!("订单-{n}"))),
            kind: LineKind::VARIANTS[n as usize % LineKind::VARIANTS.len()],
            gross: -(i64::from(n) * 1001),
            fee_milli: i64::MIN + i64::from(n),
            net: i64::MAX,
            currency: Currency::parse("EUR").unwrap(),
            provider_time: DateTime::from_timestamp(1_795_276_800 + i64::from(n), n * 7).unwrap(),
            provider_refund_id: n.is_multiple_of(3).then(|| Id::from("re_1")),
            merchant_refund_no: (n % 3 == 1).then(|| Id::from("")),
            provider_status: "charge".into(),
            source: SourceRef {
                file: "balance.csv".into(),
                line: u64::from(n) + 2,
            },
            payment_intent_id: n.is_multiple_of(5).then(|| Id::from("pi_9")),
            presentment: n
                .is_multiple_of(4)
                .then(|| Money::new(12345, Currency::parse("USD").unwrap())),
            fee_base: n.is_multiple_of(6).then_some(i64::from(n) * 3),
        }
    }

    #[test]
    fn lines_and_orders_read_back_as_written() {
        let dir = SpillDir::new().unwrap();
        let mut w = PartWriter::create(&dir, "lines", 3).unwrap();
        let lines: Vec<StatementLine> = (0..50).map(line).collect();
        for (i, l) in lines.iter().enumerate() {
            w.write(i % 3, &Placed(i as u32, l.clone())).unwrap();
        }
        let files = w.finish().unwrap();
        assert_eq!(files.iter().map(|f| f.1).sum::<u64>(), 50);
        let mut back = Vec::new();
        for (path, _) in &files {
            back.extend(PartReader::read_all::<Placed>(path).unwrap());
        }
        back.sort_by_key(|p| p.0);
        let back: Vec<StatementLine> = back.into_iter().map(|p| p.1).collect();
        assert_eq!(back, lines);

        let order = Order {
            order_no: "A-1".into(),
            provider: Provider::Wechat,
            provider_txn_id: Some("4200000000000000000000000000001".into()),
            amount: 990,
            currency: Currency::parse("CNY").unwrap(),
            status: OrderStatus::VARIANTS[2],
            created_at: DateTime::from_timestamp(1, 2).unwrap(),
            paid_at: None,
            customer_ref: Some("客户".into()),
        };
        let mut w = PartWriter::create(&dir, "orders", 1).unwrap();
        w.write(0, &order).unwrap();
        let files = w.finish().unwrap();
        assert_eq!(
            PartReader::read_all::<Order>(&files[0].0).unwrap(),
            vec![order]
        );
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let dir = SpillDir::new().unwrap();
        let mut w = PartWriter::create(&dir, "lines", 1).unwrap();
        w.write(0, &Placed(0, line(4))).unwrap();
        let files = w.finish().unwrap();
        let bytes = std::fs::read(&files[0].0).unwrap();
        // Every truncation, and every byte flipped, either decodes or fails cleanly.
        for cut in 0..bytes.len() {
            std::fs::write(&files[0].0, &bytes[..cut]).unwrap();
            assert!(PartReader::read_all::<Placed>(&files[0].0).is_err() || cut == 0);
        }
        for i in 4..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            std::fs::write(&files[0].0, &bad).unwrap();
            let _ = PartReader::read_all::<Placed>(&files[0].0);
        }
        std::fs::write(&files[0].0, [0xff, 0xff, 0xff, 0x7f]).unwrap();
        assert!(PartReader::read_all::<Placed>(&files[0].0).is_err());
    }
}
