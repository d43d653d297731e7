//! Stripe Reporting API `balance_change_from_activity.itemized` CSV: parser and writer.
//!
//! Amounts are decimal MAJOR units ("25.00" USD, "3000" JPY) in the row's `currency`.
//! `created_utc` is UTC. `reporting_category` gives the kind: charge → Payment, refund →
//! Refund, fee → Fee, payout → Payout, dispute / other_adjustment and every category Paydesk
//! does not know → Adjustment (never dropped; the category is kept in provider_status).
//!
//! provider_txn_id is the charge (`charge_id`, so refund and dispute lines carry the charge
//! they belong to, like Alipay and WeChat refund rows), else `source_id` (po_, fee ids), else
//! `balance_transaction_id`. provider_refund_id = `source_id` of refund lines (re_...).
//! The merchant order/refund numbers come from metadata columns ([`super::ParseOptions`]).

use super::text::{
    self, check_width, err, opt_string, Col, Header, LineSource, Record, TextEncoding,
};
use super::{write_err, ParseContext, ParseOptions, RowSource, StatementError};
use paydesk_core::domain::{LineKind, SourceRef, StatementLine};
use paydesk_core::money::{parse_fee_milli, parse_minor, Currency, Money, MoneyError};
use std::io::{BufRead, Write};

struct Cols {
    txn: Col,
    created: Col,
    currency: Col,
    gross: Col,
    fee: Col,
    net: Col,
    category: Col,
    source: Option<Col>,
    charge: Option<Col>,
    payment_intent: Option<Col>,
    facing_amount: Option<Col>,
    facing_currency: Option<Col>,
    order: Option<Col>,
    refund: Option<Col>,
}

pub(crate) struct StripeParser<'a> {
    src: LineSource<'a>,
    rec: Record,
    ctx: ParseContext,
    opts: ParseOptions,
    file: String,
    header: Option<Header>,
    cols: Option<Cols>,
}

/// The kind of a `reporting_category`.
pub(crate) fn category_kind(category: &str) -> LineKind {
    match category {
        "charge" => LineKind::Payment,
        "refund" => LineKind::Refund,
        "fee" => LineKind::Fee,
        "payout" => LineKind::Payout,
        _ => LineKind::Adjustment,
    }
}

impl<'a> StripeParser<'a> {
    pub fn new(rd: Box<dyn BufRead + 'a>, ctx: &ParseContext, opts: &ParseOptions) -> Self {
        StripeParser {
            src: LineSource::new(rd, TextEncoding::Utf8, ctx.file_name.clone()),
            rec: Record::default(),
            ctx: ctx.clone(),
            opts: opts.clone(),
            file: ctx.file_name.to_string(),
            header: None,
            cols: None,
        }
    }

    fn read_header(&mut self) -> Result<(), StatementError> {
        let h = Header::from_record(&self.rec);
        let f = self.file.as_str();
        self.cols = Some(Cols {
            txn: h.require("balance_transaction_id", f)?,
            created: h.require("created_utc", f)?,
            currency: h.require("currency", f)?,
            gross: h.require("gross", f)?,
            fee: h.require("fee", f)?,
            net: h.require("net", f)?,
            category: h.require("reporting_category", f)?,
            source: h.find("source_id"),
            charge: h.find("charge_id"),
            payment_intent: h.find("payment_intent_id"),
            facing_amount: h.find("customer_facing_amount"),
            facing_currency: h.find("customer_facing_currency"),
            order: h.find(&self.opts.stripe_order_column),
            refund: h.find(&self.opts.stripe_refund_column),
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
        let currency = Currency::parse(rec.get(c.currency.idx))
            .map_err(|e| err(f, Some(line), Some(&c.currency.name), e.to_string()))?;
        let money = |col: &Col, e: MoneyError| err(f, Some(line), Some(&col.name), e.to_string());
        let gross = parse_minor(rec.get(c.gross.idx), currency).map_err(|e| money(&c.gross, e))?;
        let fee = parse_fee_milli(rec.get(c.fee.idx), currency).map_err(|e| money(&c.fee, e))?;
        let net = parse_minor(rec.get(c.net.idx), currency).map_err(|e| money(&c.net, e))?;
        let created = rec.get(c.created.idx);
        let time = match chrono::DateTime::parse_from_rfc3339(created) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(_) => text::parse_naive(created)
                .map(|t| t.and_utc())
                .ok_or_else(|| {
                    err(
                        f,
                        Some(line),
                        Some(&c.created.name),
                        format!("time {created:?} is not in the form YYYY-MM-DD HH:MM:SS"),
                    )
                })?,
        };
        let category = rec.get(c.category.idx);
        if category.is_empty() {
            return Err(err(
                f,
                Some(line),
                Some(&c.category.name),
                "reporting_category is empty",
            ));
        }
        let kind = category_kind(category);
        let (gross, fee, net) = if kind == LineKind::Refund && gross > 0 {
            (-gross, -fee, -net)
        } else {
            (gross, fee, net)
        };
        // What the customer was charged, kept only when it is another currency than the
        // settlement one (a JPY order settled in USD); signed like gross.
        let facing_currency = cell(&c.facing_currency);
        let facing_amount = cell(&c.facing_amount);
        let presentment = match (&c.facing_amount, facing_amount.is_empty()) {
            (Some(col), false) if !facing_currency.is_empty() => {
                let cur = Currency::parse(facing_currency).map_err(|e| {
                    let name = c.facing_currency.as_ref().map(|c| c.name.as_str());
                    err(f, Some(line), name, e.to_string())
                })?;
                let amount = parse_minor(facing_amount, cur).map_err(|e| money(col, e))?;
                let amount = if gross < 0 {
                    -amount.abs()
                } else {
                    amount.abs()
                };
                (cur != currency).then(|| Money::new(amount, cur))
            }
            _ => None,
        };
        let source = cell(&c.source);
        let charge = cell(&c.charge);
        let txn_id = rec.get(c.txn.idx);
        let provider_txn_id = [charge, source, txn_id]
            .into_iter()
            .find(|s| !s.is_empty())
            .ok_or_else(|| {
                err(
                    f,
                    Some(line),
                    Some(&c.txn.name),
                    "the row has no transaction, charge or source id",
                )
            })?;
        Ok(StatementLine {
            payment_intent_id: opt_string(cell(&c.payment_intent)),
            presentment,
            provider: self.ctx.provider,
            account: self.ctx.account.clone(),
            provider_txn_id: provider_txn_id.into(),
            merchant_order_no: opt_string(cell(&c.order)),
            kind,
            gross,
            fee_milli: fee,
            net,
            currency,
            provider_time: time,
            provider_refund_id: if kind == LineKind::Refund {
                opt_string(source)
            } else {
                None
            },
            merchant_refund_no: opt_string(cell(&c.refund)),
            provider_status: category.into(),
            source: SourceRef {
                file: self.ctx.file_name.clone(),
                line,
            },
            fee_base: None,
        })
    }
}

impl RowSource for StripeParser<'_> {
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

// ------------------------------------------------------------------------------------------
// Writer

const WHAT: &str = "stripe report";

/// The columns of the Reporting API `balance_change_from_activity.itemized.3` layout (times
/// in UTC), before the metadata columns: the one list for this writer and for the CSV the
/// Stripe adapter builds from balance transactions (`stripe::REPORT_COLUMNS`).
pub const REPORT_COLUMNS: &[&str] = &[
    "balance_transaction_id",
    "created_utc",
    "created",
    "available_on_utc",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "source_id",
    "description",
    "customer_facing_amount",
    "customer_facing_currency",
    "automatic_payout_id",
    "charge_id",
    "payment_intent_id",
];

/// The metadata columns the writer adds after [`REPORT_COLUMNS`] (the default metadata keys).
const METADATA_COLUMNS: [&str; 2] = ["payment_metadata[order_id]", "refund_metadata[refund_id]"];

/// Cells per written row.
const ROW_LEN: usize = 19;
const _: () = assert!(REPORT_COLUMNS.len() + METADATA_COLUMNS.len() == ROW_LEN);

/// Writes a `balance_change_from_activity.itemized` CSV (report timezone UTC, so `created`
/// equals `created_utc`) with the columns in [`REPORT_COLUMNS`] and the default metadata
/// columns, streaming. `balance_transaction_id`
/// is synthesized (`txn_` + the line's position); `reporting_category` is the line's
/// provider_status when that names a category of the line's kind, else the canonical one.
pub fn write_stripe_report<'l, W: Write>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    out: W,
) -> Result<(), StatementError> {
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
    let io = |e: std::io::Error| super::io_write_err(WHAT, e);
    let header: Vec<&str> = REPORT_COLUMNS
        .iter()
        .chain(&METADATA_COLUMNS)
        .copied()
        .collect();
    w.write_all(header.join(",").as_bytes()).map_err(io)?;
    w.write_all(b"\n").map_err(io)?;
    let mut row = String::with_capacity(512);
    for (i, l) in lines.into_iter().enumerate() {
        if l.provider_txn_id.is_empty() {
            return Err(write_err(WHAT, Some(i), "empty provider_txn_id"));
        }
        let category =
            if !l.provider_status.is_empty() && category_kind(&l.provider_status) == l.kind {
                l.provider_status.as_str()
            } else {
                match l.kind {
                    LineKind::Payment => "charge",
                    LineKind::Refund => "refund",
                    LineKind::Fee => "fee",
                    LineKind::Payout => "payout",
                    LineKind::Adjustment => "other_adjustment",
                }
            };
        let (source, charge) = match l.kind {
            LineKind::Payment => (l.provider_txn_id.as_str(), l.provider_txn_id.as_str()),
            LineKind::Refund => (
                l.provider_refund_id.as_deref().unwrap_or(""),
                l.provider_txn_id.as_str(),
            ),
            _ => (l.provider_txn_id.as_str(), ""),
        };
        let cur = l.currency;
        let time = l.provider_time.format("%Y-%m-%d %H:%M:%S").to_string();
        let code = cur.code().to_ascii_lowercase();
        let gross = cur.format_minor(l.gross);
        let txn = format!("txn_{:024}", i + 1);
        let cells: [&str; ROW_LEN] = [
            &txn,
            &time,
            &time,
            &time,
            &time,
            &code,
            &gross,
            &text::format_fee(l.fee_milli, cur.exponent()),
            &cur.format_minor(l.net),
            category,
            source,
            "",
            &gross,
            &code,
            "",
            charge,
            "",
            l.merchant_order_no.as_deref().unwrap_or(""),
            l.merchant_refund_no.as_deref().unwrap_or(""),
        ];
        row.clear();
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                row.push(',');
            }
            row.push_str(&text::csv_cell(c));
        }
        row.push('\n');
        w.write_all(row.as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)
}
