//! WeChat Pay v3 trade bill (`bill_type=ALL`): parser and writer.
//!
//! Layout (providers.md §2.6): a 27-column header without backticks, data lines whose every
//! cell starts with a backtick, then the summary header `总交易单数,…` and one value line
//! (counts written like `8.0`). Columns are found by header name.
//!
//! Mapping, SUCCESS rows → Payment: gross = 订单金额 (what the customer's order was worth,
//! the figure merchants reconcile against `amount.total`); fee = 手续费 (5 decimals, exact in
//! thousandths of a fen); net = 应结订单金额 − fee rounded to fen (the settled amount);
//! fee_base = 应结订单金额 when it differs from 订单金额 (a 免充值代金券: WeChat charges its fee
//! on the settlement amount). The writer puts 订单金额 − 应结订单金额 in 代金券金额.
//!
//! REFUND rows → Refund: gross = −申请退款金额 (the amount the merchant asked to refund, the
//! counterpart of 订单金额 and what the merchant's refund record holds; falls back to 退款金额
//! when the column is absent); net = −退款金额 − fee rounded to fen (退款金额 is what actually
//! left the settled balance); fee = 手续费 as written (negative when the fee is returned).
//! merchant_refund_no = 商户退款单号, provider_refund_id = 微信退款单号 (`0` means none).
//! provider_time = 交易时间 in Beijing time. 货币种类 is the currency.

use super::text::{
    self, check_width, err, opt_string, Col, Header, LineSource, Record, TextEncoding,
};
use super::{write_err, ParseContext, RowSource, StatementError, StatementSummary};
use paydesk_core::domain::{LineKind, SourceRef, StatementLine};
use paydesk_core::money::{
    format_scaled, milli_to_minor_rounded, parse_fee_milli, parse_minor, parse_scaled, Currency,
    MoneyError,
};
use std::io::{BufRead, Write};

pub(crate) const HEADER: [&str; 27] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];

pub(crate) const SUMMARY_HEADER: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Rows,
    SummaryValues,
    AfterSummary,
    Done,
}

struct Cols {
    time: Col,
    txn: Col,
    order: Col,
    status: Col,
    currency: Option<Col>,
    settle: Col,
    fee: Col,
    order_amount: Option<Col>,
    refund_id: Option<Col>,
    refund_no: Option<Col>,
    refund_amount: Option<Col>,
    refund_requested: Option<Col>,
    coupon_refund: Option<Col>,
    mchid: Option<Col>,
    sub_mchid: Option<Col>,
}

#[derive(Default)]
struct Sums {
    count: u64,
    payments: u64,
    refunds: u64,
    settle: i64,
    refund: i64,
    coupon_refund: i64,
    fee_milli: i64,
    fee_rounded_each: i64,
    order: i64,
    refund_requested: i64,
}

pub(crate) struct WechatParser<'a> {
    src: LineSource<'a>,
    rec: Record,
    ctx: ParseContext,
    file: String,
    state: State,
    header: Option<Header>,
    cols: Option<Cols>,
    summary_header: Option<Header>,
    currency: Option<Currency>,
    sums: Sums,
    summary: Option<StatementSummary>,
    identity: super::StatementIdentity,
}

impl<'a> WechatParser<'a> {
    pub fn new(rd: Box<dyn BufRead + 'a>, ctx: &ParseContext) -> Self {
        WechatParser {
            src: LineSource::new(rd, TextEncoding::Utf8, ctx.file_name.clone()),
            rec: Record::default(),
            ctx: ctx.clone(),
            file: ctx.file_name.to_string(),
            state: State::Header,
            header: None,
            cols: None,
            summary_header: None,
            currency: None,
            sums: Sums::default(),
            summary: None,
            identity: super::StatementIdentity::default(),
        }
    }

    fn read_header(&mut self) -> Result<(), StatementError> {
        let h = Header::from_record(&self.rec);
        let f = self.file.as_str();
        let cols = Cols {
            time: h.require("交易时间", f)?,
            txn: h.require("微信订单号", f)?,
            order: h.require("商户订单号", f)?,
            status: h.require("交易状态", f)?,
            currency: h.find("货币种类"),
            settle: h.require("应结订单金额", f)?,
            fee: h.require("手续费", f)?,
            order_amount: h.find("订单金额"),
            refund_id: h.find("微信退款单号"),
            refund_no: h.find("商户退款单号"),
            refund_amount: h.find("退款金额"),
            refund_requested: h.find("申请退款金额"),
            coupon_refund: h.find("充值券退款金额"),
            mchid: h.find("商户号"),
            sub_mchid: h.find("特约商户号"),
        };
        self.header = Some(h);
        self.cols = Some(cols);
        Ok(())
    }

    fn row(&mut self) -> Result<StatementLine, StatementError> {
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
        let status = rec.get(c.status.idx);
        // REVOKED (撤销): a revoked micropay order, no money moved; a zero payment line.
        let revoked = status == "REVOKED";
        let kind = match status {
            "SUCCESS" | "REVOKED" => LineKind::Payment,
            "REFUND" => LineKind::Refund,
            other => {
                return Err(err(
                    f,
                    Some(line),
                    Some(&c.status.name),
                    format!("unknown 交易状态 {other:?} (expected SUCCESS, REFUND or REVOKED)"),
                ))
            }
        };
        let cur = match &c.currency {
            Some(col) if !rec.get(col.idx).is_empty() => Currency::parse(rec.get(col.idx))
                .map_err(|e| err(f, Some(line), Some(&col.name), e.to_string()))?,
            _ => self.ctx.currency,
        };
        match self.currency {
            None => self.currency = Some(cur),
            Some(first) if first.exponent() != cur.exponent() => {
                return Err(err(
                    f,
                    Some(line),
                    c.currency.as_ref().map(|c| c.name.as_str()),
                    format!("currency {cur} mixes with {first} earlier in the bill; the summary cannot be checked"),
                ))
            }
            Some(_) => {}
        }
        let txn = rec.get(c.txn.idx);
        if txn.is_empty() {
            return Err(err(f, Some(line), Some(&c.txn.name), "微信订单号 is empty"));
        }
        let time = text::parse_local_time(rec.get(c.time.idx), self.ctx.timezone)
            .map_err(|r| err(f, Some(line), Some(&c.time.name), r))?;
        let money = |col: &Col, e: MoneyError| err(f, Some(line), Some(&col.name), e.to_string());
        let amount = |col: &Col| parse_minor(rec.get(col.idx), cur).map_err(|e| money(col, e));
        let optional = |col: &Option<Col>| -> Result<Option<i64>, StatementError> {
            match col {
                Some(col) if !rec.get(col.idx).is_empty() => amount(col).map(Some),
                Some(_) => Ok(Some(0)),
                None => Ok(None),
            }
        };
        let settle = amount(&c.settle)?;
        let fee = parse_fee_milli(rec.get(c.fee.idx), cur).map_err(|e| money(&c.fee, e))?;
        let order_amount = optional(&c.order_amount)?;
        let refund_amount = optional(&c.refund_amount)?;
        let refund_requested = optional(&c.refund_requested)?;
        let coupon_refund = optional(&c.coupon_refund)?;

        let overflow = || err(f, Some(line), None, "running total overflows");
        let s = &mut self.sums;
        let add = |acc: &mut i64, v: i64| -> Result<(), StatementError> {
            *acc = acc.checked_add(v).ok_or_else(overflow)?;
            Ok(())
        };
        s.count += 1;
        add(&mut s.settle, settle)?;
        add(&mut s.refund, refund_amount.unwrap_or(0))?;
        add(&mut s.coupon_refund, coupon_refund.unwrap_or(0))?;
        add(&mut s.fee_milli, fee)?;
        add(&mut s.fee_rounded_each, milli_to_minor_rounded(fee))?;
        add(&mut s.order, order_amount.unwrap_or(0))?;
        add(&mut s.refund_requested, refund_requested.unwrap_or(0))?;

        for (col, ids) in [
            (&c.mchid, &mut self.identity.merchant_ids),
            (&c.sub_mchid, &mut self.identity.sub_merchant_ids),
        ] {
            if let Some(v) = col.as_ref().map(|c| rec.get(c.idx)) {
                if !v.is_empty() && v != "0" && !ids.contains(v) {
                    ids.insert(v.to_string());
                }
            }
        }
        let fee_minor = milli_to_minor_rounded(fee);
        let (gross, net) = match kind {
            LineKind::Payment if revoked => {
                (0, settle.checked_sub(fee_minor).ok_or_else(overflow)?)
            }
            LineKind::Payment => {
                s.payments += 1;
                (
                    order_amount.unwrap_or(settle),
                    settle.checked_sub(fee_minor).ok_or_else(overflow)?,
                )
            }
            _ => {
                s.refunds += 1;
                let Some(refunded) = refund_amount else {
                    return Err(err(
                        f,
                        Some(h.line),
                        Some("退款金额"),
                        "a REFUND row needs the 退款金额 column, which the header lacks",
                    ));
                };
                let requested = refund_requested.unwrap_or(refunded);
                (
                    requested.checked_abs().ok_or_else(overflow)?.wrapping_neg(),
                    refunded
                        .checked_abs()
                        .ok_or_else(overflow)?
                        .wrapping_neg()
                        .checked_sub(fee_minor)
                        .ok_or_else(overflow)?,
                )
            }
        };
        let id = |col: &Option<Col>| {
            col.as_ref()
                .map(|c| rec.get(c.idx))
                .filter(|v| *v != "0")
                .and_then(opt_string)
        };
        Ok(StatementLine {
            payment_intent_id: None,
            presentment: None,
            // WeChat charges its fee on 应结订单金额, less than 订单金额 by a 免充值代金券.
            fee_base: (kind == LineKind::Payment && settle != gross).then_some(settle),
            provider: self.ctx.provider,
            account: self.ctx.account.clone(),
            provider_txn_id: txn.into(),
            merchant_order_no: opt_string(rec.get(c.order.idx)),
            kind,
            gross,
            fee_milli: fee,
            net,
            currency: cur,
            provider_time: time,
            provider_refund_id: id(&c.refund_id),
            merchant_refund_no: id(&c.refund_no),
            provider_status: status.into(),
            source: SourceRef {
                file: self.ctx.file_name.clone(),
                line,
            },
        })
    }

    /// Checks the summary line against the rows.
    ///
    /// Counts: `总交易单数` counts SUCCESS and REFUND rows alike. Amounts: each stated total
    /// must equal the exact sum of its column. Fees: rows carry 5 decimals but the total only
    /// 2, so `手续费总金额` is accepted when it equals the exact sum of the row fees rounded half
    /// away from zero to fen, or the sum of the row fees each rounded that way (WeChat does not
    /// document which rounding it uses); anything else is a mismatch.
    fn check_summary(&mut self) -> Result<(), StatementError> {
        let Some(sh) = &self.summary_header else {
            return Err(err(
                &self.file,
                Some(self.rec.line),
                None,
                "summary values without a summary header",
            ));
        };
        let rec = &self.rec;
        let f = self.file.as_str();
        let line = rec.line;
        check_width(rec, sh, f)?;
        let cur = self.currency.unwrap_or(self.ctx.currency);
        let s = &self.sums;
        let get = |name: &str| -> Result<Option<(i64, String)>, StatementError> {
            match sh.find(name) {
                Some(col) => parse_minor(rec.get(col.idx), cur)
                    .map(|v| Some((v, col.name.clone())))
                    .map_err(|e| err(f, Some(line), Some(&col.name), e.to_string())),
                None => Ok(None),
            }
        };
        let count_col = sh.require("总交易单数", f)?;
        let count = parse_scaled(rec.get(count_col.idx), 0)
            .map_err(|e| err(f, Some(line), Some(&count_col.name), format!("count: {e}")))?;
        let mismatch = |col: &str, stated: String, actual: String| {
            err(
                f,
                Some(line),
                Some(col),
                format!("the summary states {stated} but the rows add up to {actual} (edited or truncated file?)"),
            )
        };
        if u64::try_from(count).ok() != Some(s.count) {
            return Err(mismatch(
                &count_col.name,
                count.to_string(),
                s.count.to_string(),
            ));
        }
        let must = |name: &str| -> Result<(i64, String), StatementError> {
            get(name)?.ok_or_else(|| {
                err(
                    f,
                    Some(sh.line),
                    Some(name),
                    "required column is missing from the summary header",
                )
            })
        };
        let check =
            |stated: Option<(i64, String)>, actual: i64| -> Result<Option<i64>, StatementError> {
                match stated {
                    Some((v, name)) if v != actual => Err(mismatch(
                        &name,
                        cur.format_minor(v),
                        cur.format_minor(actual),
                    )),
                    Some((v, _)) => Ok(Some(v)),
                    None => Ok(None),
                }
            };
        let settle = must("应结订单总金额")?;
        let refund = must("退款总金额")?;
        let fee = must("手续费总金额")?;
        let payment_amount = check(Some(settle), s.settle)?.unwrap_or(0);
        let refund_amount = check(Some(refund), s.refund)?.unwrap_or(0);
        check(get("充值券退款总金额")?, s.coupon_refund)?;
        let order_amount = check(get("订单总金额")?, s.order)?;
        let refund_requested_amount = check(get("申请退款总金额")?, s.refund_requested)?;
        let rounded_total = milli_to_minor_rounded(s.fee_milli);
        if fee.0 != rounded_total && fee.0 != s.fee_rounded_each {
            return Err(mismatch(
                &fee.1,
                cur.format_minor(fee.0),
                format_scaled(s.fee_milli, u32::from(cur.exponent()) + 3),
            ));
        }
        self.summary = Some(StatementSummary {
            currency: cur,
            payment_count: s.payments,
            refund_count: s.refunds,
            total_count: s.count,
            payment_amount,
            refund_amount,
            fee_total: Some(fee.0),
            order_amount,
            refund_requested_amount,
        });
        Ok(())
    }
}

impl RowSource for WechatParser<'_> {
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            if !self.src.next_record(&mut self.rec)? {
                let state = self.state;
                self.state = State::Done;
                return match state {
                    State::AfterSummary => Ok(None),
                    State::Header => Err(err(&self.file, None, None, "the file is empty")),
                    _ => Err(err(
                        &self.file,
                        Some(self.src.line_no),
                        None,
                        "the summary (总交易单数,…) is missing at the end: the file is truncated",
                    )),
                };
            }
            match self.state {
                State::Header => {
                    self.read_header()?;
                    self.state = State::Rows;
                }
                State::Rows => {
                    if self.rec.get(0) == "总交易单数" {
                        self.summary_header = Some(Header::from_record(&self.rec));
                        self.state = State::SummaryValues;
                    } else {
                        return self.row().map(Some);
                    }
                }
                State::SummaryValues => {
                    self.check_summary()?;
                    self.state = State::AfterSummary;
                }
                State::AfterSummary => {
                    return Err(err(
                        &self.file,
                        Some(self.rec.line),
                        None,
                        "unexpected content after the summary line",
                    ))
                }
                State::Done => return Ok(None),
            }
        }
    }

    fn summary(&self) -> Option<StatementSummary> {
        self.summary.clone()
    }

    fn identity(&self) -> super::StatementIdentity {
        self.identity.clone()
    }
}

// ------------------------------------------------------------------------------------------
// Writer

const WHAT: &str = "wechat bill";

/// A backtick-prefixed cell; quoted as a whole when it needs quoting.
pub(crate) fn bt(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push_str("\"`");
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push('`');
        out.push_str(s);
    }
}

/// Writes a trade bill (`bill_type=ALL`) in WeChat's layout: UTF-8 with BOM, CRLF (as the
/// official SDK fixture), backtick-prefixed cells, then the summary header and line with the
/// totals of the rows. Streaming. Only Payment (SUCCESS) and Refund (REFUND) lines of one
/// currency can be written; 公众账号ID, 商户号, 用户标识 are left empty, 交易类型 is NATIVE and
/// 费率 a placeholder 0.60%.
pub fn write_wechat_bill<'l, W: Write>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    out: W,
) -> Result<(), StatementError> {
    write_wechat_merchant_bill(lines, "", out)
}

/// [`write_wechat_bill`] with 商户号 `mchid` on every row, as the merchant's download has it.
pub fn write_wechat_merchant_bill<'l, W: Write>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    mchid: &str,
    out: W,
) -> Result<(), StatementError> {
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
    let io = |e: std::io::Error| super::io_write_err(WHAT, e);
    w.write_all(b"\xEF\xBB\xBF").map_err(io)?;
    w.write_all(HEADER.join(",").as_bytes()).map_err(io)?;
    w.write_all(b"\r\n").map_err(io)?;
    let mut sums = Sums::default();
    let mut currency: Option<Currency> = None;
    let shanghai = chrono_tz::Asia::Shanghai;
    let mut row = String::with_capacity(512);
    for (i, l) in lines.into_iter().enumerate() {
        let bad = |r: &str| write_err(WHAT, Some(i), r);
        let cur = l.currency;
        match currency {
            None => currency = Some(cur),
            Some(c) if c != cur => return Err(bad("a bill holds one currency")),
            Some(_) => {}
        }
        if l.provider_txn_id.is_empty() {
            return Err(bad("empty provider_txn_id"));
        }
        let fee_minor = milli_to_minor_rounded(l.fee_milli);
        let settled = l
            .net
            .checked_add(fee_minor)
            .ok_or_else(|| bad("amount overflows"))?;
        let zero = cur.format_minor(0);
        // A 免充值代金券 is the part of 订单金额 that never reaches 应结订单金额.
        let coupon = match l.kind {
            LineKind::Payment => l.gross.saturating_sub(settled).max(0),
            _ => 0,
        };
        let coupon = cur.format_minor(coupon);
        let (status, settle, refund, requested, order) = match l.kind {
            LineKind::Payment if l.provider_status == "REVOKED" => ("REVOKED", settled, 0, 0, 0),
            LineKind::Payment => ("SUCCESS", settled, 0, 0, l.gross),
            LineKind::Refund => {
                let refunded = settled
                    .checked_neg()
                    .ok_or_else(|| bad("amount overflows"))?;
                let requested = l
                    .gross
                    .checked_neg()
                    .ok_or_else(|| bad("amount overflows"))?;
                if refunded < 0 || requested < 0 {
                    return Err(bad("refund line with a positive gross or net"));
                }
                ("REFUND", 0, refunded, requested, 0)
            }
            other => {
                return Err(write_err(
                    WHAT,
                    Some(i),
                    format!("a WeChat trade bill has no {} lines", other.as_str()),
                ))
            }
        };
        let overflow = || bad("totals overflow");
        sums.count += 1;
        sums.settle = sums.settle.checked_add(settle).ok_or_else(overflow)?;
        sums.refund = sums.refund.checked_add(refund).ok_or_else(overflow)?;
        sums.fee_milli = sums
            .fee_milli
            .checked_add(l.fee_milli)
            .ok_or_else(overflow)?;
        sums.order = sums.order.checked_add(order).ok_or_else(overflow)?;
        sums.refund_requested = sums
            .refund_requested
            .checked_add(requested)
            .ok_or_else(overflow)?;

        row.clear();
        let time = l
            .provider_time
            .with_timezone(&shanghai)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let is_refund = l.kind == LineKind::Refund;
        let refund_id = if is_refund {
            l.provider_refund_id.as_deref().unwrap_or("0")
        } else {
            "0"
        };
        let refund_no = if is_refund {
            l.merchant_refund_no.as_deref().unwrap_or("0")
        } else {
            "0"
        };
        let cells: [&str; 27] = [
            &time,
            "",
            mchid,
            "0",
            "",
            &l.provider_txn_id,
            l.merchant_order_no.as_deref().unwrap_or(""),
            "",
            "NATIVE",
            status,
            "OTHERS",
            cur.code(),
            &cur.format_minor(settle),
            &coupon,
            refund_id,
            refund_no,
            &cur.format_minor(refund),
            &zero,
            if is_refund { "ORIGINAL" } else { "" },
            if is_refund { "SUCCESS" } else { "" },
            "",
            "",
            &format_scaled(l.fee_milli, u32::from(cur.exponent()) + 3),
            "0.60%",
            &cur.format_minor(order),
            &cur.format_minor(requested),
            "",
        ];
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                row.push(',');
            }
            bt(&mut row, c);
        }
        row.push_str("\r\n");
        w.write_all(row.as_bytes()).map_err(io)?;
    }
    let cur = currency.unwrap_or(Currency::CNY);
    w.write_all(SUMMARY_HEADER.join(",").as_bytes())
        .map_err(io)?;
    w.write_all(b"\r\n").map_err(io)?;
    let summary = format!(
        "`{}.0,`{},`{},`{},`{},`{},`{}\r\n",
        sums.count,
        cur.format_minor(sums.settle),
        cur.format_minor(sums.refund),
        cur.format_minor(0),
        cur.format_minor(milli_to_minor_rounded(sums.fee_milli)),
        cur.format_minor(sums.order),
        cur.format_minor(sums.refund_requested),
    );
    w.write_all(summary.as_bytes()).map_err(io)?;
    w.flush().map_err(io)
}
