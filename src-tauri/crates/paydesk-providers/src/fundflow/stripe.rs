//! Stripe fund flows: the Reporting API itemized CSVs and the API's list pages.
//!
//! **CSV** (`payout_reconciliation.itemized.5`, `balance_change_from_activity.itemized.3`;
//! providers.md §3.3): columns by name; amounts are decimal MAJOR units of the row's
//! `currency` (its exponent: JPY 0, KWD 3); `created_utc` is UTC. flow_id =
//! `balance_transaction_id`, source_id = `source_id`, payout_id = `automatic_payout_id`,
//! order_no = `payment_metadata[order_no]` (else `payment_metadata[order_id]`, the trade
//! statements' default key). A row whose net ≠ gross − fee is refused. description = the
//! `description` cell, else the `reporting_category` (so an adjustment keeps its category).
//! The payouts of a `payout_reconciliation` report are built per `automatic_payout_id`
//! (see [`parse_itemized`]).
//!
//! **JSON** (`GET /v1/payouts`, `GET /v1/balance_transactions[?payout=po_…]` list pages):
//! integer minor units; `currency` lowercase; times unix seconds. A balance transaction
//! whose net ≠ amount − fee is refused. Whether the `payout=po_…` listing includes the
//! payout's own `type=payout` transaction is UNCONFIRMED: it is parsed like any row (kind
//! Payout), and the core's composition check leaves it out. A balance transaction does not
//! name the payout that settled it: payout_id is None, and a caller that listed with
//! `?payout=po_…` sets it.

use super::{FundFlowError, FundFlowLayout};
use crate::statement::text::{
    self, check_width, err, Col, Header, LineSource, Record, TextEncoding,
};
use crate::statement::write_err;
use chrono::{DateTime, NaiveDate, Utc};
use paydesk_core::domain::Provider;
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::{FlowKind, FundFlow, Payout, PayoutStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::BufRead;

/// `reporting_category` → kind. A refund_failure is a Refund with a positive amount.
pub fn stripe_category_kind(category: &str) -> FlowKind {
    match category {
        "charge" | "payment" => FlowKind::Payment,
        "refund" | "refund_failure" => FlowKind::Refund,
        "fee" => FlowKind::Fee,
        "payout" => FlowKind::Payout,
        "payout_reversal" => FlowKind::PayoutReversal,
        "dispute" => FlowKind::Dispute,
        "dispute_reversal" => FlowKind::DisputeReversal,
        "transfer" | "topup" | "transfer_reversal" | "topup_reversal" => FlowKind::Transfer,
        _ => FlowKind::Adjustment,
    }
}

/// The balance transaction `type` → kind, for an object without `reporting_category`.
fn type_kind(t: &str) -> FlowKind {
    match t {
        "charge" | "payment" => FlowKind::Payment,
        "refund" | "payment_refund" | "refund_failure" | "payment_failure_refund" => {
            FlowKind::Refund
        }
        "stripe_fee" | "application_fee" | "stripe_fx_fee" | "tax_fee" => FlowKind::Fee,
        "payout" => FlowKind::Payout,
        "payout_failure" | "payout_cancel" => FlowKind::PayoutReversal,
        "transfer" | "topup" | "transfer_refund" | "transfer_cancel" | "transfer_failure"
        | "topup_reversal" => FlowKind::Transfer,
        _ => FlowKind::Adjustment,
    }
}

/// Categories a writer may put in `reporting_category` as they are (the description names
/// one of these when it was parsed from an empty description).
const KNOWN_CATEGORIES: &[&str] = &[
    "charge",
    "payment",
    "refund",
    "refund_failure",
    "fee",
    "payout",
    "payout_reversal",
    "dispute",
    "dispute_reversal",
    "transfer",
    "topup",
    "transfer_reversal",
    "topup_reversal",
    "other_adjustment",
    "partial_capture_reversal",
    "tax",
    "platform_earning",
    "platform_earning_refund",
    "risk_reserved_funds",
    "connect_reserved_funds",
    "connect_collection_transfer",
    "advance",
    "advance_funding",
    "charge_failure",
];

/// The category the writers put for a flow: its description when that is a known category
/// of the flow's kind (then the description cell stays empty), else the kind's usual one.
fn category_for(f: &FundFlow) -> (&str, &str) {
    if KNOWN_CATEGORIES.contains(&f.description.as_str())
        && stripe_category_kind(&f.description) == f.kind
    {
        return (f.description.as_str(), "");
    }
    let c = match f.kind {
        FlowKind::Payment => "charge",
        FlowKind::Refund if f.gross > 0 => "refund_failure",
        FlowKind::Refund => "refund",
        FlowKind::Fee => "fee",
        FlowKind::Payout => "payout",
        FlowKind::PayoutReversal => "payout_reversal",
        FlowKind::Dispute => "dispute",
        FlowKind::DisputeReversal => "dispute_reversal",
        FlowKind::Transfer => "transfer",
        FlowKind::Adjustment => "other_adjustment",
    };
    (c, f.description.as_str())
}

// ------------------------------------------------------------------------------------------
// CSV

struct Cols {
    txn: Col,
    created: Col,
    currency: Col,
    gross: Col,
    fee: Col,
    net: Col,
    category: Col,
    source: Option<Col>,
    description: Option<Col>,
    payout: Option<Col>,
    effective: Option<Col>,
    order: Option<Col>,
}

fn utc_time(s: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => text::parse_naive(s).map(|t| t.and_utc()).or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        }),
    }
}

/// One automatic payout as the itemized report shows it.
struct Group {
    currency: Currency,
    effective: Option<DateTime<Utc>>,
    /// Σ net of the rows it settles (its own payout row left out).
    settled: i64,
    /// −net of its own `payout` row, when the report lists it.
    own: Option<i64>,
    first_line: u64,
}

/// Parses an itemized CSV. Besides the flows it builds one Payout per
/// `automatic_payout_id` when the report has `automatic_payout_effective_at(_utc)`: amount =
/// −net of the payout's own row when listed, else Σ net of the rows it settles;
/// created_at = the effective time, arrival_date = its day (UTC), automatic, status Paid
/// (the report lists payouts Stripe made; a later failure shows only in the API), trace_id
/// None. Without the effective-at column no payout is built. `_utc` is preferred; the plain
/// `automatic_payout_effective_at` is in the report's timezone, read as UTC (the default).
/// A report holds no totals, so a file cut at a line end cannot be told from a whole one.
pub(crate) fn parse_itemized(
    rd: Box<dyn BufRead + '_>,
    file: &str,
    account: &str,
) -> Result<(Vec<FundFlow>, Vec<Payout>), FundFlowError> {
    let mut src = LineSource::new(rd, TextEncoding::Utf8, file);
    let mut rec = Record::default();
    let mut header: Option<(Header, Cols)> = None;
    let mut flows = Vec::new();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    while src.next_record(&mut rec)? {
        let Some((h, c)) = &header else {
            let h = Header::from_record(&rec);
            let cols = Cols {
                txn: h.require("balance_transaction_id", file)?,
                created: h.require("created_utc", file)?,
                currency: h.require("currency", file)?,
                gross: h.require("gross", file)?,
                fee: h.require("fee", file)?,
                net: h.require("net", file)?,
                category: h.require("reporting_category", file)?,
                source: h.find("source_id"),
                description: h.find("description"),
                payout: h.find("automatic_payout_id"),
                effective: h
                    .find("automatic_payout_effective_at_utc")
                    .or_else(|| h.find("automatic_payout_effective_at")),
                order: h
                    .find("payment_metadata[order_no]")
                    .or_else(|| h.find("payment_metadata[order_id]")),
            };
            header = Some((h, cols));
            continue;
        };
        let line = rec.line;
        check_width(&rec, h, file)?;
        let at = |col: &Col, reason: String| err(file, Some(line), Some(&col.name), reason);
        let cell = |c: &Option<Col>| c.as_ref().map_or("", |c| rec.get(c.idx));
        let flow_id = rec.get(c.txn.idx);
        if flow_id.is_empty() {
            return Err(at(&c.txn, "balance_transaction_id is empty".into()));
        }
        let currency =
            Currency::parse(rec.get(c.currency.idx)).map_err(|e| at(&c.currency, e.to_string()))?;
        let money =
            |col: &Col| parse_minor(rec.get(col.idx), currency).map_err(|e| at(col, e.to_string()));
        let (gross, fee, net) = (money(&c.gross)?, money(&c.fee)?, money(&c.net)?);
        if gross.checked_sub(fee) != Some(net) {
            return Err(at(
                &c.net,
                format!(
                    "net {} is not gross {} − fee {}",
                    currency.format_minor(net),
                    currency.format_minor(gross),
                    currency.format_minor(fee)
                ),
            ));
        }
        let created = rec.get(c.created.idx);
        let booked_at = utc_time(created).ok_or_else(|| {
            at(
                &c.created,
                format!("time {created:?} is not in the form YYYY-MM-DD HH:MM:SS"),
            )
        })?;
        let category = rec.get(c.category.idx);
        if category.is_empty() {
            return Err(at(&c.category, "reporting_category is empty".into()));
        }
        let kind = stripe_category_kind(category);
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let payout_id = opt(cell(&c.payout));
        if let Some(po) = &payout_id {
            let effective = match &c.effective {
                Some(col) if !rec.get(col.idx).is_empty() => {
                    let t = rec.get(col.idx);
                    Some(utc_time(t).ok_or_else(|| {
                        at(
                            col,
                            format!("time {t:?} is not in the form YYYY-MM-DD HH:MM:SS"),
                        )
                    })?)
                }
                _ => None,
            };
            let g = groups.entry(po.clone()).or_insert(Group {
                currency,
                effective,
                settled: 0,
                own: None,
                first_line: line,
            });
            if g.currency != currency {
                return Err(at(
                    &c.currency,
                    format!(
                        "payout {po} mixes {currency} with {} (line {})",
                        g.currency, g.first_line
                    ),
                ));
            }
            let overflow = || at(&c.net, "payout total overflows".into());
            if kind == FlowKind::Payout && cell(&c.source) == po {
                g.own = Some(net.checked_neg().ok_or_else(overflow)?);
            } else {
                g.settled = g.settled.checked_add(net).ok_or_else(overflow)?;
            }
            g.effective = g.effective.or(effective);
        }
        let description = match cell(&c.description) {
            "" => category.to_string(),
            d => d.to_string(),
        };
        flows.push(FundFlow {
            provider: Provider::Stripe,
            account: account.to_string(),
            flow_id: flow_id.to_string(),
            source_id: opt(cell(&c.source)),
            order_no: opt(cell(&c.order)),
            payout_id,
            kind,
            booked_at,
            currency,
            gross,
            fee,
            net,
            balance_after: None,
            description,
            line,
        });
    }
    if header.is_none() {
        return Err(err(file, None, None, "the file is empty"));
    }
    let mut payouts: Vec<(u64, Payout)> = groups
        .into_iter()
        .filter_map(|(id, g)| {
            let effective = g.effective?;
            Some((
                g.first_line,
                Payout {
                    provider: Provider::Stripe,
                    account: account.to_string(),
                    payout_id: id,
                    amount: g.own.unwrap_or(g.settled),
                    currency: g.currency,
                    created_at: effective,
                    arrival_date: effective.date_naive(),
                    trace_id: None,
                    automatic: true,
                    status: PayoutStatus::Paid,
                },
            ))
        })
        .collect();
    payouts.sort_by_key(|(line, _)| *line);
    Ok((flows, payouts.into_iter().map(|(_, p)| p).collect()))
}

/// The columns [`write_stripe_payout_itemized`] writes: the start of
/// `payout_reconciliation.itemized.5` and the order metadata.
pub const ITEMIZED_COLUMNS: [&str; 15] = [
    "automatic_payout_id",
    "automatic_payout_effective_at",
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
    "payment_metadata[order_no]",
];

const WHAT: &str = "stripe itemized report";

/// [`write_stripe_payout_itemized_with`] without payouts: a payout's effective time is
/// written as midnight (UTC) after the last movement it settles.
pub fn write_stripe_payout_itemized(flows: &[FundFlow]) -> Result<String, FundFlowError> {
    write_stripe_payout_itemized_with(flows, &[])
}

/// Writes a `payout_reconciliation.itemized.5` CSV with [`ITEMIZED_COLUMNS`] (report
/// timezone UTC, so `created` = `created_utc`). `automatic_payout_effective_at` is the
/// arrival day of the matching payout in `payouts`, else midnight after the payout's last
/// movement. `reporting_category` is the description when that is a category of the flow's
/// kind (the description cell then stays empty), else the kind's usual category.
pub fn write_stripe_payout_itemized_with(
    flows: &[FundFlow],
    payouts: &[Payout],
) -> Result<String, FundFlowError> {
    let mut last: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for f in flows {
        if let Some(po) = f.payout_id.as_deref() {
            let e = last.entry(po).or_insert(f.booked_at);
            *e = (*e).max(f.booked_at);
        }
    }
    let effective = |po: &str| -> String {
        if let Some(p) = payouts.iter().find(|p| p.payout_id == po) {
            return format!("{} 00:00:00", p.arrival_date.format("%Y-%m-%d"));
        }
        last.get(po)
            .and_then(|t| t.date_naive().succ_opt())
            .map(|d| format!("{} 00:00:00", d.format("%Y-%m-%d")))
            .unwrap_or_default()
    };
    let mut out = ITEMIZED_COLUMNS.join(",");
    out.push('\n');
    for (i, f) in flows.iter().enumerate() {
        if f.flow_id.is_empty() {
            return Err(write_err(WHAT, Some(i), "empty flow_id"));
        }
        if f.gross.checked_sub(f.fee) != Some(f.net) {
            return Err(write_err(WHAT, Some(i), "net is not gross − fee"));
        }
        let cur = f.currency;
        let time = f.booked_at.format("%Y-%m-%d %H:%M:%S").to_string();
        let po = f.payout_id.as_deref().unwrap_or("");
        let eff = if po.is_empty() {
            String::new()
        } else {
            effective(po)
        };
        let (category, description) = category_for(f);
        let code = cur.code().to_ascii_lowercase();
        let cells: [&str; 15] = [
            po,
            &eff,
            &f.flow_id,
            &time,
            &time,
            &time,
            &time,
            &code,
            &cur.format_minor(f.gross),
            &cur.format_minor(f.fee),
            &cur.format_minor(f.net),
            category,
            f.source_id.as_deref().unwrap_or(""),
            description,
            f.order_no.as_deref().unwrap_or(""),
        ];
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(&text::csv_cell(c));
        }
        out.push('\n');
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// JSON

/// Which list a JSON page is: by its `url`, else by its first object's `object`.
pub(crate) fn json_layout(bytes: &[u8]) -> Option<FundFlowLayout> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let url = v.get("url").and_then(Value::as_str).unwrap_or("");
    if url.starts_with("/v1/payouts") {
        return Some(FundFlowLayout::StripePayoutsJson);
    }
    if url.starts_with("/v1/balance_transactions") || url.starts_with("/v1/balance/history") {
        return Some(FundFlowLayout::StripeBalanceTransactionsJson);
    }
    let first = v.get("data")?.as_array()?.first()?;
    match first.get("object").and_then(Value::as_str)? {
        "payout" => Some(FundFlowLayout::StripePayoutsJson),
        "balance_transaction" => Some(FundFlowLayout::StripeBalanceTransactionsJson),
        _ => None,
    }
}

/// The `data` array and `has_more` of a list page.
fn list_page<'v>(v: &'v Value, file: &str) -> Result<(&'v [Value], bool), FundFlowError> {
    if v.get("object")
        .and_then(Value::as_str)
        .is_some_and(|o| o != "list")
    {
        return Err(err(
            file,
            None,
            None,
            "not a list page: `object` is not \"list\"",
        ));
    }
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| err(file, None, None, "not a list page: no `data` array"))?;
    let has_more = match v.get("has_more") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(err(file, None, None, "`has_more` is not true or false")),
    };
    Ok((data, has_more))
}

/// Field access on one object of a page, with errors naming the position and field.
struct Obj<'v> {
    v: &'v Value,
    file: &'v str,
    pos: u64,
}

impl<'v> Obj<'v> {
    fn fail(&self, field: &str, reason: impl Into<String>) -> FundFlowError {
        err(self.file, Some(self.pos), Some(field), reason)
    }
    fn str_opt(&self, field: &str) -> Result<Option<&'v str>, FundFlowError> {
        match self.v.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.fail(field, "is not a string")),
        }
    }
    fn str(&self, field: &str) -> Result<&'v str, FundFlowError> {
        match self.str_opt(field)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(self.fail(field, "is missing")),
        }
    }
    fn int(&self, field: &str) -> Result<i64, FundFlowError> {
        match self.v.get(field) {
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                self.fail(field, format!("{n} is not a whole number of minor units"))
            }),
            None | Some(Value::Null) => Err(self.fail(field, "is missing")),
            Some(_) => Err(self.fail(field, "is not a number")),
        }
    }
    fn time(&self, field: &str) -> Result<DateTime<Utc>, FundFlowError> {
        let secs = self.int(field)?;
        DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| self.fail(field, format!("{secs} is not a time")))
    }
    fn currency(&self) -> Result<Currency, FundFlowError> {
        Currency::parse(self.str("currency")?).map_err(|e| self.fail("currency", e.to_string()))
    }
}

fn parse_json(json: &[u8], file: &str) -> Result<Value, FundFlowError> {
    serde_json::from_slice(json).map_err(|e| {
        err(
            file,
            Some(e.line() as u64),
            None,
            format!("not valid JSON: {e}"),
        )
    })
}

/// Parses one `GET /v1/payouts` list page: the payouts and `has_more`.
/// `trace_id` may be `{status, value}`, a plain string or null; an unavailable or empty
/// value is None. Positions in `data` (1-based) name the payout in errors.
pub fn parse_stripe_payouts(
    json: &[u8],
    account: &str,
) -> Result<(Vec<Payout>, bool), FundFlowError> {
    payouts_page(json, "stripe payouts page", account)
}

pub(crate) fn payouts_page(
    json: &[u8],
    file: &str,
    account: &str,
) -> Result<(Vec<Payout>, bool), FundFlowError> {
    let v = parse_json(json, file)?;
    let (data, has_more) = list_page(&v, file)?;
    let mut out = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let o = Obj {
            v: item,
            file,
            pos: i as u64 + 1,
        };
        let amount = o.int("amount")?;
        let status = match o.str("status")? {
            "pending" => PayoutStatus::Pending,
            "in_transit" => PayoutStatus::InTransit,
            "paid" => PayoutStatus::Paid,
            "failed" => PayoutStatus::Failed,
            "canceled" | "cancelled" => PayoutStatus::Canceled,
            other => return Err(o.fail("status", format!("unknown payout status {other:?}"))),
        };
        let trace_id = match item.get("trace_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(t)) => match t.get("value") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(o.fail("trace_id", "`value` is not a string")),
            },
            Some(_) => return Err(o.fail("trace_id", "is neither an object, a string nor null")),
        }
        .filter(|s| !s.is_empty());
        let automatic = match item.get("automatic") {
            Some(Value::Bool(b)) => *b,
            None | Some(Value::Null) => false,
            Some(_) => return Err(o.fail("automatic", "is not true or false")),
        };
        out.push(Payout {
            provider: Provider::Stripe,
            account: account.to_string(),
            payout_id: o.str("id")?.to_string(),
            amount,
            currency: o.currency()?,
            created_at: o.time("created")?,
            arrival_date: o.time("arrival_date")?.date_naive(),
            trace_id,
            automatic,
            status,
        });
    }
    Ok((out, has_more))
}

/// Parses one `GET /v1/balance_transactions[?payout=po_…]` list page: the flows and
/// `has_more`. `source` may be an id, an expanded object (its `id`, and `metadata.order_no`
/// or `metadata.order_id` as order_no) or null. line = the position in `data` (1-based).
pub fn parse_stripe_balance_transactions(
    json: &[u8],
    account: &str,
) -> Result<(Vec<FundFlow>, bool), FundFlowError> {
    balance_transactions_page(json, "stripe balance transactions page", account)
}

pub(crate) fn balance_transactions_page(
    json: &[u8],
    file: &str,
    account: &str,
) -> Result<(Vec<FundFlow>, bool), FundFlowError> {
    let v = parse_json(json, file)?;
    let (data, has_more) = list_page(&v, file)?;
    let mut out = Vec::with_capacity(data.len());
    for (i, item) in data.iter().enumerate() {
        let o = Obj {
            v: item,
            file,
            pos: i as u64 + 1,
        };
        let id = o.str("id")?;
        let (amount, fee, net) = (o.int("amount")?, o.int("fee")?, o.int("net")?);
        if amount.checked_sub(fee) != Some(net) {
            return Err(o.fail(
                "net",
                format!("{id}: net {net} is not amount {amount} − fee {fee}"),
            ));
        }
        let category = o.str_opt("reporting_category")?.unwrap_or("");
        let kind = if category.is_empty() {
            type_kind(o.str("type")?)
        } else {
            stripe_category_kind(category)
        };
        let (source_id, order_no) = match item.get("source") {
            None | Some(Value::Null) => (None, None),
            Some(Value::String(s)) => (Some(s.clone()), None),
            Some(Value::Object(s)) => {
                let sid = match s.get("id") {
                    Some(Value::String(x)) => Some(x.clone()),
                    None | Some(Value::Null) => None,
                    Some(_) => return Err(o.fail("source", "`id` is not a string")),
                };
                let meta = s.get("metadata");
                let order = ["order_no", "order_id"].iter().find_map(|k| {
                    meta.and_then(|m| m.get(*k))
                        .and_then(Value::as_str)
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                });
                (sid, order)
            }
            Some(_) => return Err(o.fail("source", "is neither an id, an object nor null")),
        };
        let description = match o.str_opt("description")? {
            Some(d) if !d.is_empty() => d.to_string(),
            _ if !category.is_empty() => category.to_string(),
            _ => o.str_opt("type")?.unwrap_or("").to_string(),
        };
        out.push(FundFlow {
            provider: Provider::Stripe,
            account: account.to_string(),
            flow_id: id.to_string(),
            source_id: source_id.filter(|s| !s.is_empty()),
            order_no,
            payout_id: None,
            kind,
            booked_at: o.time("created")?,
            currency: o.currency()?,
            gross: amount,
            fee,
            net,
            balance_after: None,
            description,
            line: i as u64 + 1,
        });
    }
    Ok((out, has_more))
}

/// A `GET /v1/payouts` list page in Stripe's shape (for the sandbox and the demo).
/// `trace_id` is written as `{status: "supported", value}` or `{status: "unsupported", value: null}`.
pub fn write_stripe_payouts_page(payouts: &[Payout], has_more: bool) -> String {
    let data: Vec<Value> = payouts
        .iter()
        .map(|p| {
            let arrival = p
                .arrival_date
                .and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp());
            let status = match p.status {
                PayoutStatus::Pending => "pending",
                PayoutStatus::InTransit => "in_transit",
                PayoutStatus::Paid => "paid",
                PayoutStatus::Failed => "failed",
                PayoutStatus::Canceled => "canceled",
            };
            json!({
                "id": p.payout_id,
                "object": "payout",
                "amount": p.amount,
                "arrival_date": arrival,
                "automatic": p.automatic,
                "balance_transaction": null,
                "created": p.created_at.timestamp(),
                "currency": p.currency.code().to_ascii_lowercase(),
                "method": "standard",
                "reconciliation_status": if p.automatic { "completed" } else { "not_applicable" },
                "status": status,
                "trace_id": match &p.trace_id {
                    Some(t) => json!({"status": "supported", "value": t}),
                    None => json!({"status": "unsupported", "value": null}),
                },
            })
        })
        .collect();
    json!({"object": "list", "data": data, "has_more": has_more, "url": "/v1/payouts"}).to_string()
}

/// A `GET /v1/balance_transactions` list page in Stripe's shape. A flow with an order
/// number gets its source expanded (`{id, object, metadata: {order_no}}`), as a listing
/// with `expand[]=data.source` gives it; the others a plain source id. `reporting_category`
/// and `description` as in [`write_stripe_payout_itemized_with`].
pub fn write_stripe_balance_transactions_page(flows: &[FundFlow], has_more: bool) -> String {
    let data: Vec<Value> = flows
        .iter()
        .map(|f| {
            let (category, description) = category_for(f);
            let source = match (&f.source_id, &f.order_no) {
                (s, Some(order)) => json!({
                    "id": s,
                    "object": source_object(s.as_deref()),
                    "metadata": {"order_no": order},
                }),
                (Some(s), None) => json!(s),
                (None, None) => Value::Null,
            };
            let kind_type = match f.kind {
                FlowKind::Payment => "charge",
                FlowKind::Refund => "refund",
                FlowKind::Fee => "stripe_fee",
                FlowKind::Payout => "payout",
                FlowKind::PayoutReversal => "payout_failure",
                FlowKind::Transfer => "transfer",
                _ => "adjustment",
            };
            json!({
                "id": f.flow_id,
                "object": "balance_transaction",
                "amount": f.gross,
                "available_on": f.booked_at.timestamp(),
                "created": f.booked_at.timestamp(),
                "currency": f.currency.code().to_ascii_lowercase(),
                "description": if description.is_empty() { Value::Null } else { json!(description) },
                "exchange_rate": null,
                "fee": f.fee,
                "fee_details": [],
                "net": f.net,
                "reporting_category": category,
                "source": source,
                "status": "available",
                "type": kind_type,
            })
        })
        .collect();
    json!({"object": "list", "data": data, "has_more": has_more, "url": "/v1/balance_transactions"})
        .to_string()
}

/// The `object` of an expanded source, from its id's prefix.
fn source_object(id: Option<&str>) -> &'static str {
    match id.and_then(|s| s.split_once('_')).map(|(p, _)| p) {
        Some("ch" | "py") => "charge",
        Some("re" | "pyr") => "refund",
        Some("po") => "payout",
        Some("dp" | "du") => "dispute",
        Some("tr") => "transfer",
        _ => "charge",
    }
}
