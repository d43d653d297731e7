//! Alipay 业务明细 (trade detail) bill: parser and writer.
//!
//! Layout (providers.md §1.5): `#` comment lines, a 25-column header, data rows whose text
//! cells end in a TAB, then `#交易合计：N笔，商家实收共X元…` and `#退款合计：M笔，商家实收退款共-Y元…`.
//! GBK encoded, CRLF. Columns are found by header name.
//!
//! Mapping: 交易 → Payment, 退款 → Refund; 支付宝交易号 → provider_txn_id; 商户订单号 →
//! merchant_order_no; 退款批次号/请求号 → merchant_refund_no; 完成时间 (Beijing time, no zone;
//! for refunds the refund time) → provider_time; 订单金额（元） → gross; 服务费（元） → fee.
//!
//! **net = 商家实收（元） − 服务费（元）** (fee rounded to fen): 商家实收 is what the buyer's
//! payment brought in after Alipay-funded discounts, and the service fee is deducted from it
//! on settlement, so that difference is what reaches the merchant's balance.
//! The fee is kept with the sign the file writes (positive = charged); whether Alipay ever
//! writes a charged fee as negative is UNCONFIRMED (the samples carry 0.00).
//!
//! Refund rows are negative in the file. Should a refund row be written positive, the whole
//! row (gross, 商家实收, fee) is mirrored so gross is negative, per the domain convention.

use super::text::{
    self, check_width, err, opt_string, Col, Header, LineSource, Record, TextEncoding,
};
use super::zipio::{DosTime, ZipBuilder};
use super::{write_err, ParseContext, RowSource, StatementError, StatementSummary};
use paydesk_core::domain::{BillDate, LineKind, SourceRef, StatementLine};
use paydesk_core::money::{
    milli_to_minor_rounded, parse_fee_milli, parse_minor, Currency, MoneyError,
};
use std::io::{BufRead, Write};

pub(crate) const HEADER: [&str; 25] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    Rows,
    Footer,
    Done,
}

struct Cols {
    txn: Col,
    order: Option<Col>,
    kind: Col,
    time: Col,
    gross: Col,
    received: Col,
    fee: Option<Col>,
    refund_no: Option<Col>,
}

/// A `#交易合计` / `#退款合计` line: count, 商家实收 total, line number.
#[derive(Clone, Copy)]
struct Stated {
    count: u64,
    amount: i64,
    line: u64,
}

pub(crate) struct AlipayParser<'a> {
    src: LineSource<'a>,
    rec: Record,
    ctx: ParseContext,
    file: String,
    state: State,
    header: Option<Header>,
    cols: Option<Cols>,
    pay_count: u64,
    refund_count: u64,
    pay_sum: i64,
    refund_sum: i64,
    stated_pay: Option<Stated>,
    stated_refund: Option<Stated>,
    summary: Option<StatementSummary>,
    identity: super::StatementIdentity,
}

/// Bills are GBK; a UTF-8 re-save (BOM, or a valid UTF-8 first line) is accepted too.
pub(crate) fn sniff_encoding(rd: &mut dyn BufRead) -> TextEncoding {
    let buf = loop {
        match rd.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return TextEncoding::Gbk,
        }
    };
    if buf.starts_with(b"\xEF\xBB\xBF") {
        return TextEncoding::Utf8;
    }
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let first = buf.get(..end).unwrap_or(buf);
    match std::str::from_utf8(first) {
        Ok(s) if !s.is_ascii() => TextEncoding::Utf8,
        Err(e) if e.error_len().is_none() && end == buf.len() && e.valid_up_to() > 0 => {
            TextEncoding::Utf8
        }
        _ => TextEncoding::Gbk,
    }
}

fn money(file: &str, line: u64, col: &Col, e: MoneyError) -> StatementError {
    err(file, Some(line), Some(&col.name), e.to_string())
}

impl<'a> AlipayParser<'a> {
    pub fn new(
        mut rd: Box<dyn BufRead + 'a>,
        ctx: &ParseContext,
        file: String,
    ) -> Result<Self, StatementError> {
        let enc = sniff_encoding(&mut *rd);
        let mut src = LineSource::new(rd, enc, file.clone());
        src.comments = true;
        Ok(AlipayParser {
            src,
            rec: Record::default(),
            ctx: ctx.clone(),
            file,
            state: State::Preamble,
            header: None,
            cols: None,
            pay_count: 0,
            refund_count: 0,
            pay_sum: 0,
            refund_sum: 0,
            stated_pay: None,
            stated_refund: None,
            summary: None,
            identity: super::StatementIdentity::default(),
        })
    }

    fn read_header(&mut self) -> Result<(), StatementError> {
        let h = Header::from_record(&self.rec);
        let f = self.file.as_str();
        let cols = Cols {
            txn: h.require("支付宝交易号", f)?,
            order: h.find("商户订单号"),
            kind: h.require("业务类型", f)?,
            time: h.require("完成时间", f)?,
            gross: h.require("订单金额（元）", f)?,
            received: h.require("商家实收（元）", f)?,
            fee: h.find("服务费（元）"),
            refund_no: h.find("退款批次号/请求号"),
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
        let kind_text = rec.get(c.kind.idx);
        let kind = match kind_text {
            "交易" => LineKind::Payment,
            "退款" => LineKind::Refund,
            other => {
                return Err(err(
                    f,
                    Some(line),
                    Some(&c.kind.name),
                    format!("unknown 业务类型 {other:?} (expected 交易 or 退款)"),
                ))
            }
        };
        let txn = rec.get(c.txn.idx);
        if txn.is_empty() {
            return Err(err(
                f,
                Some(line),
                Some(&c.txn.name),
                "支付宝交易号 is empty",
            ));
        }
        let time = text::parse_local_time(rec.get(c.time.idx), self.ctx.timezone)
            .map_err(|r| err(f, Some(line), Some(&c.time.name), r))?;
        let cur = self.ctx.currency;
        let gross =
            parse_minor(rec.get(c.gross.idx), cur).map_err(|e| money(f, line, &c.gross, e))?;
        let received = parse_minor(rec.get(c.received.idx), cur)
            .map_err(|e| money(f, line, &c.received, e))?;
        let fee = match &c.fee {
            Some(col) => {
                let t = rec.get(col.idx);
                if t.is_empty() {
                    0
                } else {
                    parse_fee_milli(t, cur).map_err(|e| money(f, line, col, e))?
                }
            }
            None => 0,
        };
        let overflow = || {
            err(
                f,
                Some(line),
                Some(&c.received.name),
                "running total overflows",
            )
        };
        if kind == LineKind::Payment {
            self.pay_count += 1;
            self.pay_sum = self.pay_sum.checked_add(received).ok_or_else(overflow)?;
        } else {
            self.refund_count += 1;
            self.refund_sum = self.refund_sum.checked_add(received).ok_or_else(overflow)?;
        }
        let (gross, received, fee) = if kind == LineKind::Refund && gross > 0 {
            (-gross, -received, -fee)
        } else {
            (gross, received, fee)
        };
        let net = received
            .checked_sub(milli_to_minor_rounded(fee))
            .ok_or_else(overflow)?;
        Ok(StatementLine {
            payment_intent_id: None,
            presentment: None,
            provider: self.ctx.provider,
            account: self.ctx.account.clone(),
            provider_txn_id: txn.into(),
            merchant_order_no: c.order.as_ref().and_then(|o| opt_string(rec.get(o.idx))),
            kind,
            gross,
            fee_milli: fee,
            net,
            currency: cur,
            provider_time: time,
            provider_refund_id: None,
            merchant_refund_no: c
                .refund_no
                .as_ref()
                .and_then(|o| opt_string(rec.get(o.idx))),
            provider_status: kind_text.into(),
            source: SourceRef {
                file: self.ctx.file_name.clone(),
                line,
            },
            fee_base: None,
        })
    }

    fn footer_line(&mut self) -> Result<(), StatementError> {
        let t = self.rec.text.trim().trim_start_matches('#').trim();
        let line = self.rec.line;
        let (which, keys): (bool, &[&str]) = if let Some(rest) = t.strip_prefix("交易合计") {
            let _ = rest;
            (true, &["商家实收共"])
        } else if t.starts_with("退款合计") {
            (false, &["商家实收退款共", "商家实收共"])
        } else {
            return Ok(());
        };
        let bad = || {
            err(
                &self.file,
                Some(line),
                None,
                format!("cannot read the totals line {t:?}"),
            )
        };
        let after_colon = t
            .split_once('：')
            .or_else(|| t.split_once(':'))
            .map(|(_, r)| r)
            .ok_or_else(bad)?;
        let (count_text, rest) = after_colon.split_once('笔').ok_or_else(bad)?;
        let count: u64 = count_text.trim().parse().map_err(|_| bad())?;
        let amount_text = keys
            .iter()
            .find_map(|k| rest.split_once(k).map(|(_, r)| r))
            .and_then(|r| r.split_once('元').map(|(a, _)| a))
            .ok_or_else(bad)?;
        let amount = parse_minor(amount_text, self.ctx.currency)
            .map_err(|e| err(&self.file, Some(line), None, format!("totals line: {e}")))?;
        let stated = Some(Stated {
            count,
            amount,
            line,
        });
        if which {
            self.stated_pay = stated;
        } else {
            self.stated_refund = stated;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), StatementError> {
        self.state = State::Done;
        let f = self.file.as_str();
        if self.header.is_none() {
            return Err(err(
                f,
                None,
                None,
                "no header row found (is this an Alipay 业务明细 bill?)",
            ));
        }
        let cur = self.ctx.currency;
        let check = |stated: Option<Stated>, label: &str, count: u64, sum: i64| {
            let Some(s) = stated else {
                return Err(err(
                    f,
                    Some(self.src.line_no),
                    None,
                    format!("the #{label} totals line is missing: the file is truncated or not a complete bill"),
                ));
            };
            if s.count != count || s.amount != sum {
                return Err(err(
                    f,
                    Some(s.line),
                    None,
                    format!(
                        "#{label} states {} rows totalling {} but the file has {} rows totalling {} (edited or truncated file?)",
                        s.count,
                        cur.format_minor(s.amount),
                        count,
                        cur.format_minor(sum)
                    ),
                ));
            }
            Ok(s)
        };
        let p = check(self.stated_pay, "交易合计", self.pay_count, self.pay_sum)?;
        let r = check(
            self.stated_refund,
            "退款合计",
            self.refund_count,
            self.refund_sum,
        )?;
        self.summary = Some(StatementSummary {
            currency: cur,
            payment_count: p.count,
            refund_count: r.count,
            total_count: p.count + r.count,
            payment_amount: p.amount,
            refund_amount: r.amount,
            fee_total: None,
            order_amount: None,
            refund_requested_amount: None,
        });
        Ok(())
    }
}

impl RowSource for AlipayParser<'_> {
    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        loop {
            if self.state == State::Done {
                return Ok(None);
            }
            if !self.src.next_record(&mut self.rec)? {
                self.finish()?;
                return Ok(None);
            }
            match self.state {
                State::Preamble => {
                    if self.rec.is_comment() {
                        self.account_line();
                    } else {
                        self.read_header()?;
                        self.state = State::Rows;
                    }
                }
                State::Rows => {
                    if self.rec.is_comment() {
                        self.state = State::Footer;
                        self.footer_line()?;
                    } else {
                        return self.row().map(Some);
                    }
                }
                State::Footer => {
                    if self.rec.is_comment() {
                        self.footer_line()?;
                    } else {
                        return Err(err(
                            &self.file,
                            Some(self.rec.line),
                            None,
                            "data row after the end of the detail list",
                        ));
                    }
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

impl AlipayParser<'_> {
    /// `#账号：[20880211096256330156]`: the PID followed by `0156`.
    fn account_line(&mut self) {
        let t = self.rec.text.trim().trim_start_matches('#').trim();
        let Some(rest) = t.strip_prefix("账号：").or_else(|| t.strip_prefix("账号:")) else {
            return;
        };
        let value = rest
            .trim()
            .trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or("")
            .trim();
        if value.is_empty() {
            return;
        }
        self.identity.account_header = Some(value.to_string());
        self.identity.merchant_ids.insert(super::alipay_pid(value));
    }
}

// ------------------------------------------------------------------------------------------
// Writer

const WHAT: &str = "alipay bill";

/// `#账号：[...]` and the file names carry the PID followed by `0156`; a 16-digit PID gets
/// the suffix appended, anything else is used as given.
pub(crate) fn account_id(pid: &str) -> String {
    if pid.len() == 16 && pid.bytes().all(|b| b.is_ascii_digit()) {
        format!("{pid}0156")
    } else {
        pid.to_string()
    }
}

pub(crate) fn cn_date(d: chrono::NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// Totals written to the footer and the 汇总 file.
#[derive(Default, Clone, Copy)]
struct Totals {
    pay_count: u64,
    refund_count: u64,
    pay_received: i64,
    refund_received: i64,
    gross: i64,
    fee_milli: i64,
}

pub(crate) fn gbk_line(
    out: &mut dyn Write,
    line: &str,
    index: Option<usize>,
) -> Result<(), StatementError> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(line);
    if unmappable {
        return Err(write_err(
            WHAT,
            index,
            format!("text in {line:?} cannot be written in GBK"),
        ));
    }
    out.write_all(&bytes)
        .and_then(|_| out.write_all(b"\r\n"))
        .map_err(|e| super::io_write_err(WHAT, e))
}

fn export_time(date: BillDate) -> chrono::NaiveDateTime {
    date.succ()
        .0
        .and_hms_opt(6, 0, 0)
        .unwrap_or_else(|| date.0.and_time(chrono::NaiveTime::MIN))
}

fn preamble(
    out: &mut dyn Write,
    title: &str,
    list: &str,
    account: &str,
    date: BillDate,
) -> Result<(), StatementError> {
    gbk_line(out, title, None)?;
    gbk_line(out, &format!("#账号：[{account}]"), None)?;
    gbk_line(
        out,
        &format!(
            "#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]",
            cn_date(date.0),
            cn_date(date.succ().0)
        ),
        None,
    )?;
    gbk_line(
        out,
        &format!("#-----------------------------------------{list}----------------------------------------"),
        None,
    )
}

fn write_detail<'l>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    account: &str,
    date: BillDate,
    out: &mut dyn Write,
) -> Result<Totals, StatementError> {
    preamble(out, "#支付宝业务明细查询", "业务明细列表", account, date)?;
    gbk_line(out, &HEADER.join(","), None)?;
    let mut t = Totals::default();
    let mut row = String::with_capacity(512);
    let shanghai = chrono_tz::Asia::Shanghai;
    for (i, l) in lines.into_iter().enumerate() {
        let bad = |r: String| write_err(WHAT, Some(i), r);
        if l.currency != Currency::CNY {
            return Err(bad(format!("Alipay bills are in CNY, not {}", l.currency)));
        }
        let kind = match l.kind {
            LineKind::Payment => "交易",
            LineKind::Refund if l.gross <= 0 => "退款",
            LineKind::Refund => return Err(bad("refund line with a positive gross".into())),
            other => {
                return Err(bad(format!(
                    "an Alipay trade bill has no {} lines",
                    other.as_str()
                )))
            }
        };
        if l.provider_txn_id.is_empty() {
            return Err(bad("empty provider_txn_id".into()));
        }
        let received = l
            .net
            .checked_add(milli_to_minor_rounded(l.fee_milli))
            .ok_or_else(|| bad("amount overflows".into()))?;
        let overflow = || bad("totals overflow".into());
        if l.kind == LineKind::Payment {
            t.pay_count += 1;
            t.pay_received = t.pay_received.checked_add(received).ok_or_else(overflow)?;
        } else {
            t.refund_count += 1;
            t.refund_received = t
                .refund_received
                .checked_add(received)
                .ok_or_else(overflow)?;
        }
        t.gross = t.gross.checked_add(l.gross).ok_or_else(overflow)?;
        t.fee_milli = t.fee_milli.checked_add(l.fee_milli).ok_or_else(overflow)?;
        let time = l
            .provider_time
            .with_timezone(&shanghai)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let cur = l.currency;
        let txn = if l.provider_txn_id.starts_with('#') {
            format!("\"{}\"", l.provider_txn_id.replace('"', "\"\""))
        } else {
            text::csv_cell(&l.provider_txn_id).into_owned()
        };
        row.clear();
        use std::fmt::Write as _;
        let _ = write!(
            row,
            "{txn}\t,{}\t,{kind}\t,,{time},{time},\t,\t,\t,\t,\t,{},{},0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,{}\t,{},0.00,",
            text::csv_cell(l.merchant_order_no.as_deref().unwrap_or("")),
            cur.format_minor(l.gross),
            cur.format_minor(received),
            text::csv_cell(l.merchant_refund_no.as_deref().unwrap_or("")),
            text::format_fee(l.fee_milli, cur.exponent()),
        );
        gbk_line(out, &row, Some(i))?;
    }
    let cny = Currency::CNY;
    gbk_line(
        out,
        "#-----------------------------------------业务明细列表结束------------------------------------",
        None,
    )?;
    gbk_line(
        out,
        &format!(
            "#交易合计：{}笔，商家实收共{}元，商家优惠共0.00元",
            t.pay_count,
            cny.format_minor(t.pay_received)
        ),
        None,
    )?;
    gbk_line(
        out,
        &format!(
            "#退款合计：{}笔，商家实收退款共{}元，商家优惠退款共0.00元",
            t.refund_count,
            cny.format_minor(t.refund_received)
        ),
        None,
    )?;
    gbk_line(
        out,
        &format!(
            "#导出时间：[{}]",
            export_time(date).format("%Y年%m月%d日 %H:%M:%S")
        ),
        None,
    )?;
    Ok(t)
}

/// Writes the bare 业务明细 CSV (GBK, CRLF, trailing TABs, footer totals), streaming.
/// Only CNY Payment and Refund lines can be written.
pub fn write_alipay_bill_csv<'l, W: Write>(
    lines: impl IntoIterator<Item = &'l StatementLine>,
    pid: &str,
    date: BillDate,
    out: W,
) -> Result<(), StatementError> {
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, out);
    write_detail(lines, &account_id(pid), date, &mut w)?;
    w.flush().map_err(|e| super::io_write_err(WHAT, e))
}

/// Writes the bill ZIP as `bill_download_url` delivers it: `<PID>0156_<YYYYMMDD>_业务明细.csv`
/// and `..._业务明细(汇总).csv`, both GBK, with GBK entry names and no UTF-8 flag.
/// The 汇总 file's `#` comment text is UNCONFIRMED (providers.md §1.5); it has one 合计 row.
pub fn write_alipay_bill_zip(
    lines: &[StatementLine],
    pid: &str,
    date: BillDate,
) -> Result<Vec<u8>, StatementError> {
    let account = account_id(pid);
    let day = date.0.format("%Y%m%d");
    let when = DosTime::from_naive(export_time(date));
    let detail_name = format!("{account}_{day}_业务明细.csv");
    let summary_name = format!("{account}_{day}_业务明细(汇总).csv");
    let gbk_name = |n: &str| -> Result<Vec<u8>, StatementError> {
        let (b, _, bad) = encoding_rs::GBK.encode(n);
        if bad {
            return Err(write_err(
                WHAT,
                None,
                format!("file name {n:?} cannot be written in GBK"),
            ));
        }
        Ok(b.into_owned())
    };
    let mut zip = ZipBuilder::new();
    let mut totals = Totals::default();
    zip.add(&gbk_name(&detail_name)?, when, |w| {
        let mut bw = std::io::BufWriter::with_capacity(64 * 1024, w);
        totals = write_detail(lines, &account, date, &mut bw)?;
        bw.flush().map_err(|e| super::io_write_err(WHAT, e))
    })?;
    zip.add(&gbk_name(&summary_name)?, when, |w| {
        let cny = Currency::CNY;
        let t = totals;
        preamble(w, "#支付宝业务汇总查询", "业务汇总列表", &account, date)?;
        gbk_line(
            w,
            "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
            None,
        )?;
        let received = t.pay_received.saturating_add(t.refund_received);
        let fee = milli_to_minor_rounded(t.fee_milli);
        gbk_line(
            w,
            &format!(
                "合计,,{},{},{},{},0.00,0.00,0.00,{},0.00,{}",
                t.pay_count,
                t.refund_count,
                cny.format_minor(t.gross),
                cny.format_minor(received),
                cny.format_minor(fee),
                cny.format_minor(received.saturating_sub(fee)),
            ),
            None,
        )?;
        gbk_line(
            w,
            "#-----------------------------------------业务汇总列表结束------------------------------------",
            None,
        )?;
        gbk_line(
            w,
            &format!("#导出时间：[{}]", export_time(date).format("%Y年%m月%d日 %H:%M:%S")),
            None,
        )
    })?;
    zip.finish()
}
