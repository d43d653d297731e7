//! Paydesk's normalized CSV: one [`StatementLine`] per row, amounts as major-unit decimal
//! strings (fee with up to 3 extra decimals), `provider_time` RFC 3339. Used for fixtures,
//! demo data and manual work. Columns are found by name; `provider` and `account` may be
//! left empty to take them from the [`ParseContext`].

use super::text::{check_width, err, opt_string, Col, Header, LineSource, Record, TextEncoding};
use super::{write_err, ParseContext, RowSource, StatementError};
use paydesk_core::domain::{LineKind, Provider, SourceRef, StatementLine};
use paydesk_core::money::{parse_fee_milli, parse_minor, Currency, MoneyError};
use std::io::{BufRead, Write};

/// The header [`write_normalized`] writes.
pub const NORMALIZED_HEADER: [&str; 13] = [
    "provider",
    "account",
    "provider_txn_id",
    "merchant_order_no",
    "kind",
    "gross",
    "fee",
    "net",
    "currency",
    "provider_time",
    "provider_refund_id",
    "merchant_refund_no",
    "provider_status",
];

struct Cols {
    provider: Option<Col>,
    account: Option<Col>,
    txn: Col,
    order: Option<Col>,
    kind: Col,
    gross: Col,
    fee: Col,
    net: Col,
    currency: Col,
    time: Col,
    refund_id: Option<Col>,
    refund_no: Option<Col>,
    status: Option<Col>,
}

pub(crate) struct NormalizedParser<'a> {
    src: LineSource<'a>,
    rec: Record,
    ctx: ParseContext,
    file: String,
    header: Option<Header>,
    cols: Option<Cols>,
}

impl<'a> NormalizedParser<'a> {
    pub fn new(rd: Box<dyn BufRead + 'a>, ctx: &ParseContext) -> Self {
        NormalizedParser {
            src: LineSource::new(rd, TextEncoding::Utf8, ctx.file_name.clone()),
            rec: Record::default(),
            ctx: ctx.clone(),
            file: ctx.file_name.to_string(),
            header: None,
            cols: None,
        }
    }

    fn read_header(&mut self) -> Result<(), StatementError> {
        let h = Header::from_record(&self.rec);
        let f = self.file.as_str();
        self.cols = Some(Cols {
            provider: h.find("provider"),
            account: h.find("account"),
            txn: h.require("provider_txn_id", f)?,
            order: h.find("merchant_order_no"),
            kind: h.require("kind", f)?,
            gross: h.require("gross", f)?,
            fee: h.require("fee", f)?,
            net: h.require("net", f)?,
            currency: h.require("currency", f)?,
            time: h.require("provider_time", f)?,
            refund_id: h.find("provider_refund_id"),
            refund_no: h.find("merchant_refund_no"),
            status: h.find("provider_status"),
        });
        self.header = Some(h);
        Ok(())
    }

    fn row(&self) -> Result<StatementLine, StatementError> {
        let (Some(h), Some(c)) = (&self.header, &self.cols) else {
            return Err(err(
                &self.file,
                Some(self.rec.line),
                None,
                "data row before the header",
            ));
        };
        let rec = &self.rec;
        let f = self.file.as_str();
        let line = rec.line;
        check_width(rec, h, f)?;
        let cell = |c: &Option<Col>| c.as_ref().map(|c| rec.get(c.idx)).unwrap_or("");
        let at = |col: &Col, reason: String| err(f, Some(line), Some(&col.name), reason);
        let provider = match cell(&c.provider) {
            "" => self.ctx.provider,
            p => p
                .parse::<Provider>()
                .map_err(|e| at(c.provider.as_ref().unwrap_or(&c.txn), e))?,
        };
        let account = match cell(&c.account) {
            "" => self.ctx.account.clone(),
            a => a.into(),
        };
        let kind: LineKind = rec.get(c.kind.idx).parse().map_err(|e| at(&c.kind, e))?;
        let currency =
            Currency::parse(rec.get(c.currency.idx)).map_err(|e| at(&c.currency, e.to_string()))?;
        let money = |col: &Col, e: MoneyError| at(col, e.to_string());
        let gross = parse_minor(rec.get(c.gross.idx), currency).map_err(|e| money(&c.gross, e))?;
        let fee = parse_fee_milli(rec.get(c.fee.idx), currency).map_err(|e| money(&c.fee, e))?;
        let net = parse_minor(rec.get(c.net.idx), currency).map_err(|e| money(&c.net, e))?;
        if kind == LineKind::Refund && gross > 0 {
            return Err(at(
                &c.gross,
                "refund line with a positive gross: the normalized format writes refunds negative"
                    .into(),
            ));
        }
        let time_text = rec.get(c.time.idx);
        let time = chrono::DateTime::parse_from_rfc3339(time_text)
            .map_err(|_| {
                at(
                    &c.time,
                    format!("time {time_text:?} is not RFC 3339 (2026-11-22T23:59:58Z)"),
                )
            })?
            .with_timezone(&chrono::Utc);
        let txn = rec.get(c.txn.idx);
        if txn.is_empty() {
            return Err(at(&c.txn, "provider_txn_id is empty".into()));
        }
        Ok(StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider,
            account,
            provider_txn_id: txn.into(),
            merchant_order_no: opt_string(cell(&c.order)),
            kind,
            gross,
            fee_milli: fee,
            net,
            currency,
            provider_time: time,
            provider_refund_id: opt_string(cell(&c.refund_id)),
            merchant_refund_no: opt_string(cell(&c.refund_no)),
            provider_status: cell(&c.status).into(),
            source: SourceRef {
                file: self.ctx.file_name.clone(),
                line,
            },
            fee_base: None,
        })
    }
}

impl RowSource for NormalizedParser<'_> {
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        loop {
            if !self.src.next_record(&mut self.rec)? {
                if self.header.is_none() {
                    return Err(err(&self.file, None, None, "the file is empty"));
                }
                return Ok(None);
            }
            if self.header.is_none() {
                self.read_header()?;
                continue;
            }
            return self.row().map(Some);
        }
    }
}

const WHAT: &str = "normalized csv";

/// Writes lines as normalized CSV (UTF-8, LF, header [`NORMALIZED_HEADER`]), streaming.
/// Every field of a [`StatementLine`] except `source` is written; cell text is trimmed of
/// spaces, tabs and backticks when read back.
pub fn write_normalized<'l, W: Write>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    out: W,
) -> Result<(), StatementError> {
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
    let io = |e: std::io::Error| super::io_write_err(WHAT, e);
    w.write_all(NORMALIZED_HEADER.join(",").as_bytes())
        .map_err(io)?;
    w.write_all(b"\n").map_err(io)?;
    let mut row = String::with_capacity(256);
    for (i, l) in lines.into_iter().enumerate() {
        if l.provider_txn_id.is_empty() {
            return Err(write_err(WHAT, Some(i), "empty provider_txn_id"));
        }
        let cur = l.currency;
        let time = l
            .provider_time
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let cells: [&str; 13] = [
            l.provider.as_str(),
            &l.account,
            &l.provider_txn_id,
            l.merchant_order_no.as_deref().unwrap_or(""),
            l.kind.as_str(),
            &cur.format_minor(l.gross),
            &super::text::format_fee(l.fee_milli, cur.exponent()),
            &cur.format_minor(l.net),
            cur.code(),
            &time,
            l.provider_refund_id.as_deref().unwrap_or(""),
            l.merchant_refund_no.as_deref().unwrap_or(""),
            &l.provider_status,
        ];
        row.clear();
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                row.push(',');
            }
            row.push_str(&super::text::csv_cell(c));
        }
        row.push('\n');
        w.write_all(row.as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)
}
