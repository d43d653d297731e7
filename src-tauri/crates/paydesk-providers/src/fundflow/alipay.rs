//! Alipay 账务明细 (account log, `bill_type=signcustomer`): parser and writer.
//!
//! Layout (providers.md §1.5; the 2012 bill in fixtures/fundflow/README.md):
//! ```text
//! #支付宝账务明细查询
//! #账号：[20888011365400330156]
//! #起始日期：[2012年12月29日 00:00:00]   终止日期：[2012年12月30日 00:00:00]
//! #-----------------------------------------账务明细列表----------------------------------------
//! 账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注
//! <rows, ids padded with a TAB>
//! #----------------------------------------账务明细列表结束-------------------------------------
//! #支出合计：0笔，共0.00元
//! #收入合计：18笔，共14989.00元
//! #导出时间：[2012年12月31日 13:19:01]
//! ```
//! GBK (a UTF-8 re-save is accepted), columns found by name (newer files add 业务基础订单号,
//! 业务描述…). Income and expense are separate columns: exactly one is non-zero; an expense
//! becomes a negative gross whichever sign the file writes it with. fee = 0 (fees are rows of
//! their own), net = gross, balance_after = 账户余额. 发生时间 is Beijing time.
//!
//! The list must end with its `账务明细列表结束` line (a file cut short is refused). The
//! `#支出合计` / `#收入合计` lines must follow and agree with the rows; the sign the
//! 支出合计 amount is written with is UNCONFIRMED, so it is compared by magnitude.

use super::{join_description, split_description, FundFlowError};
use crate::statement::alipay::{account_id, cn_date, gbk_line, sniff_encoding};
use crate::statement::text::{self, check_width, err, Col, Header, LineSource, Record};
use crate::statement::zipio::{DosTime, ZipBuilder};
use crate::statement::{io_write_err, write_err};
use chrono::NaiveDate;
use paydesk_core::domain::Provider;
use paydesk_core::money::{parse_minor, Currency};
use paydesk_core::settlement::{FlowKind, FundFlow};
use std::io::{BufRead, Write};

/// The classic 12-column header, as the writer writes it.
pub const HEADER: [&str; 12] = [
    "账务流水号",
    "业务流水号",
    "商户订单号",
    "商品名称",
    "发生时间",
    "对方账号",
    "收入金额（+元）",
    "支出金额（-元）",
    "账户余额（元）",
    "交易渠道",
    "业务类型",
    "备注",
];

/// 业务类型 → kind. 交易付款/交易收款 are the words of Taobao sellers' account logs (public
/// samples show them on income rows); anything unknown is an Adjustment, its words kept.
pub fn alipay_kind(word: &str) -> FlowKind {
    match word {
        "在线支付" | "交易" | "交易付款" | "交易收款" => FlowKind::Payment,
        "交易退款" | "退款" => FlowKind::Refund,
        "收费" | "服务费" | "交易服务费" | "手续费" => FlowKind::Fee,
        "提现" => FlowKind::Payout,
        "提现退回" | "提现失败" => FlowKind::PayoutReversal,
        "转账" | "充值" => FlowKind::Transfer,
        _ => FlowKind::Adjustment,
    }
}

/// The word the writer uses for a kind, when the description does not carry one.
fn canonical_word(kind: FlowKind) -> Option<&'static str> {
    Some(match kind {
        FlowKind::Payment => "在线支付",
        FlowKind::Refund => "交易退款",
        FlowKind::Fee => "收费",
        FlowKind::Payout => "提现",
        FlowKind::PayoutReversal => "提现退回",
        FlowKind::Transfer => "转账",
        FlowKind::Adjustment => "其他",
        FlowKind::Dispute | FlowKind::DisputeReversal => return None,
    })
}

struct Cols {
    flow: Col,
    source: Option<Col>,
    order: Option<Col>,
    time: Col,
    income: Col,
    expense: Col,
    balance: Option<Col>,
    kind: Col,
    remark: Option<Col>,
}

/// A `#收入合计` / `#支出合计` line: count, amount (as written), line.
#[derive(Clone, Copy)]
struct Stated {
    count: u64,
    amount: i64,
    line: u64,
}

pub(crate) struct Parsed {
    pub flows: Vec<FundFlow>,
    pub account_label: Option<String>,
    pub summary_checked: bool,
}

fn find_any(h: &Header, names: &[&str]) -> Option<Col> {
    names.iter().find_map(|n| h.find(n))
}

fn require_any(h: &Header, names: &[&str], file: &str) -> Result<Col, FundFlowError> {
    find_any(h, names).ok_or_else(|| {
        err(
            file,
            Some(h.line),
            names.first().copied(),
            "required column is missing from the header",
        )
    })
}

/// Parses the decoded account log (the CSV, or the ZIP entry's stream).
pub(crate) fn parse(
    mut rd: Box<dyn BufRead + '_>,
    file: &str,
    account: &str,
) -> Result<Parsed, FundFlowError> {
    let enc = sniff_encoding(&mut *rd);
    let mut src = LineSource::new(rd, enc, file);
    src.comments = true;
    let mut rec = Record::default();
    let mut header: Option<(Header, Cols)> = None;
    let mut flows = Vec::new();
    let mut account_label = None;
    let mut ended = false;
    let (mut income, mut expense): (Option<Stated>, Option<Stated>) = (None, None);
    let (mut in_count, mut in_sum, mut out_count, mut out_sum) = (0u64, 0i64, 0u64, 0i64);
    while src.next_record(&mut rec)? {
        let comment = rec.is_comment();
        let words = rec.text.trim().trim_start_matches('#').trim();
        match (&header, comment) {
            (None, true) => {
                if let Some(value) = bracketed(words, "账号") {
                    account_label = Some(value);
                }
            }
            (None, false) => {
                let h = Header::from_record(&rec);
                let cols = Cols {
                    flow: h.require("账务流水号", file)?,
                    source: h.find("业务流水号"),
                    order: h.find("商户订单号"),
                    time: h.require("发生时间", file)?,
                    income: require_any(
                        &h,
                        &["收入金额（+元）", "收入金额（元）", "收入金额"],
                        file,
                    )?,
                    expense: require_any(
                        &h,
                        &["支出金额（-元）", "支出金额（元）", "支出金额"],
                        file,
                    )?,
                    balance: find_any(&h, &["账户余额（元）", "账户余额"]),
                    kind: require_any(&h, &["业务类型", "业务描述"], file)?,
                    remark: h.find("备注"),
                };
                header = Some((h, cols));
            }
            (Some(_), true) => {
                if words.contains("账务明细列表结束") {
                    ended = true;
                } else if let Some(s) = stated(words, "收入合计", &rec, file)? {
                    income = Some(s);
                } else if let Some(s) = stated(words, "支出合计", &rec, file)? {
                    expense = Some(s);
                }
            }
            (Some((h, c)), false) => {
                if ended {
                    return Err(err(
                        file,
                        Some(rec.line),
                        None,
                        "data row after the end of the 账务明细 list",
                    ));
                }
                let flow = row(&rec, h, c, file, account)?;
                let overflow = || err(file, Some(rec.line), None, "running total overflows");
                if flow.gross > 0 {
                    in_count += 1;
                    in_sum = in_sum.checked_add(flow.gross).ok_or_else(overflow)?;
                } else {
                    out_count += 1;
                    out_sum = out_sum.checked_sub(flow.gross).ok_or_else(overflow)?;
                }
                flows.push(flow);
            }
        }
    }
    if header.is_none() {
        return Err(err(
            file,
            None,
            None,
            "no header row found (is this an Alipay 账务明细 account log?)",
        ));
    }
    if !ended {
        return Err(err(
            file,
            Some(src.line_no),
            None,
            "the #…账务明细列表结束 line is missing: the file is truncated or not a complete account log",
        ));
    }
    let cny = Currency::CNY;
    let check = |s: Option<Stated>, label: &str, count: u64, sum: i64| {
        match s {
        Some(s) if s.count != count || s.amount.checked_abs() != Some(sum) => Err(err(
            file,
            Some(s.line),
            None,
            format!(
                "#{label} states {} rows totalling {} but the list has {count} rows totalling {} (edited or truncated file?)",
                s.count,
                cny.format_minor(s.amount),
                cny.format_minor(sum)
            ),
        )),
        Some(_) => Ok(true),
        None => Ok(false),
    }
    };
    let a = check(income, "收入合计", in_count, in_sum)?;
    let b = check(expense, "支出合计", out_count, out_sum)?;
    if !(a && b) {
        // Every account log seen ends with both totals: without them a cut inside the
        // footer could not be told from a complete file.
        let missing = if a { "#支出合计" } else { "#收入合计" };
        return Err(err(
            file,
            Some(src.line_no),
            None,
            format!("the {missing} totals line is missing: the file is truncated"),
        ));
    }
    Ok(Parsed {
        flows,
        account_label,
        summary_checked: true,
    })
}

/// `账号：[2088…0156]` → the bracketed value.
fn bracketed(words: &str, key: &str) -> Option<String> {
    let rest = words.strip_prefix(key)?;
    let rest = rest
        .trim_start()
        .strip_prefix('：')
        .or_else(|| rest.trim_start().strip_prefix(':'))?;
    let value = rest
        .trim()
        .trim_start_matches('[')
        .split(']')
        .next()
        .unwrap_or("")
        .trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `收入合计：18笔，共14989.00元` (trailing commas of a re-saved file tolerated).
fn stated(
    words: &str,
    key: &str,
    rec: &Record,
    file: &str,
) -> Result<Option<Stated>, FundFlowError> {
    let Some(rest) = words.strip_prefix(key) else {
        return Ok(None);
    };
    let bad = || {
        err(
            file,
            Some(rec.line),
            None,
            format!("cannot read the totals line {words:?}"),
        )
    };
    let rest = rest
        .trim_start()
        .strip_prefix('：')
        .or_else(|| rest.trim_start().strip_prefix(':'))
        .ok_or_else(bad)?;
    let (count_text, rest) = rest.split_once('笔').ok_or_else(bad)?;
    let count: u64 = count_text.trim().parse().map_err(|_| bad())?;
    let amount_text = rest
        .split_once('共')
        .and_then(|(_, r)| r.split_once('元'))
        .map(|(a, _)| a)
        .ok_or_else(bad)?;
    let amount = parse_minor(amount_text, Currency::CNY)
        .map_err(|e| err(file, Some(rec.line), None, format!("totals line: {e}")))?;
    Ok(Some(Stated {
        count,
        amount,
        line: rec.line,
    }))
}

fn row(
    rec: &Record,
    h: &Header,
    c: &Cols,
    file: &str,
    account: &str,
) -> Result<FundFlow, FundFlowError> {
    let line = rec.line;
    check_width(rec, h, file)?;
    let cell = |c: &Option<Col>| c.as_ref().map_or("", |c| rec.get(c.idx));
    let at = |col: &Col, reason: String| err(file, Some(line), Some(&col.name), reason);
    let flow_id = rec.get(c.flow.idx);
    if flow_id.is_empty() {
        return Err(at(&c.flow, "账务流水号 is empty".into()));
    }
    let booked_at = text::parse_local_time(rec.get(c.time.idx), chrono_tz::Asia::Shanghai)
        .map_err(|r| at(&c.time, r))?;
    let cny = Currency::CNY;
    let amount = |col: &Col| -> Result<i64, FundFlowError> {
        let t = rec.get(col.idx);
        if t.is_empty() {
            return Ok(0);
        }
        parse_minor(t, cny).map_err(|e| at(col, e.to_string()))
    };
    let income = amount(&c.income)?;
    let expense = amount(&c.expense)?;
    if income < 0 {
        return Err(at(&c.income, "income is negative".into()));
    }
    let gross = match (income, expense) {
        (i, 0) if i != 0 => i,
        (0, e) if e != 0 => e
            .checked_abs()
            .map(i64::wrapping_neg)
            .ok_or_else(|| at(&c.expense, "amount is too large".into()))?,
        _ => {
            return Err(err(
                file,
                Some(line),
                None,
                format!(
                    "exactly one of {} and {} must be non-zero",
                    c.income.name, c.expense.name
                ),
            ))
        }
    };
    let balance_after = match &c.balance {
        Some(col) if !rec.get(col.idx).is_empty() => Some(amount(col)?),
        _ => None,
    };
    let word = rec.get(c.kind.idx);
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(FundFlow {
        provider: Provider::Alipay,
        account: account.to_string(),
        flow_id: flow_id.to_string(),
        source_id: opt(cell(&c.source)),
        order_no: opt(cell(&c.order)),
        payout_id: None,
        kind: alipay_kind(word),
        booked_at,
        currency: cny,
        gross,
        fee: 0,
        net: gross,
        balance_after,
        description: join_description(word, cell(&c.remark)),
        line,
    })
}

// ------------------------------------------------------------------------------------------
// Writer

const WHAT: &str = "alipay account log";

/// A cell a writer puts out: quoted when it needs it, or when it would start a `#` comment.
fn cell(s: &str) -> String {
    if s.starts_with('#') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        text::csv_cell(s).into_owned()
    }
}

fn write_detail(
    flows: &[FundFlow],
    pid: &str,
    date: NaiveDate,
    out: &mut dyn Write,
) -> Result<(), FundFlowError> {
    let account = account_id(pid);
    gbk_line(out, "#支付宝账务明细查询", None)?;
    gbk_line(out, &format!("#账号：[{account}]"), None)?;
    let next = date.succ_opt().unwrap_or(date);
    gbk_line(
        out,
        &format!(
            "#起始日期：[{} 00:00:00]   终止日期：[{} 00:00:00]",
            cn_date(date),
            cn_date(next)
        ),
        None,
    )?;
    gbk_line(
        out,
        "#-----------------------------------------账务明细列表----------------------------------------",
        None,
    )?;
    gbk_line(out, &HEADER.join(","), None)?;
    let cny = Currency::CNY;
    let (mut in_count, mut in_sum, mut out_count, mut out_sum) = (0u64, 0i64, 0u64, 0i64);
    let shanghai = chrono_tz::Asia::Shanghai;
    for (i, f) in flows.iter().enumerate() {
        let bad = |r: String| write_err(WHAT, Some(i), r);
        if f.currency != cny {
            return Err(bad(format!(
                "Alipay account logs are in CNY, not {}",
                f.currency
            )));
        }
        if f.fee != 0 || f.net != f.gross {
            return Err(bad(
                "Alipay account log rows carry no fee (fees are rows of their own)".into(),
            ));
        }
        if f.gross == 0 {
            return Err(bad("an account log row moves money: gross is 0".into()));
        }
        if f.flow_id.is_empty() {
            return Err(bad("empty flow_id".into()));
        }
        let (word, remark) = split_description(&f.description);
        let (word, remark) = if alipay_kind(word) == f.kind && !word.is_empty() {
            (word, remark)
        } else {
            let canonical = canonical_word(f.kind)
                .ok_or_else(|| bad(format!("an Alipay account log has no {} rows", f.kind)))?;
            (canonical, f.description.as_str())
        };
        let overflow = || bad("totals overflow".into());
        let (income, expense) = if f.gross > 0 {
            in_count += 1;
            in_sum = in_sum.checked_add(f.gross).ok_or_else(overflow)?;
            (f.gross, 0)
        } else {
            out_count += 1;
            out_sum = out_sum.checked_sub(f.gross).ok_or_else(overflow)?;
            (0, f.gross)
        };
        let time = f
            .booked_at
            .with_timezone(&shanghai)
            .format("%Y-%m-%d %H:%M:%S");
        let row = format!(
            "{}\t,{}\t,{}\t,\t,{time},\t,{},{},{},,{},{}",
            cell(&f.flow_id),
            cell(f.source_id.as_deref().unwrap_or("")),
            cell(f.order_no.as_deref().unwrap_or("")),
            cny.format_minor(income),
            cny.format_minor(expense),
            f.balance_after
                .map(|b| cny.format_minor(b))
                .unwrap_or_default(),
            cell(word),
            cell(remark),
        );
        gbk_line(out, &row, Some(i))?;
    }
    gbk_line(
        out,
        "#----------------------------------------账务明细列表结束-------------------------------------",
        None,
    )?;
    gbk_line(
        out,
        &format!(
            "#支出合计：{out_count}笔，共{}元",
            cny.format_minor(out_sum)
        ),
        None,
    )?;
    gbk_line(
        out,
        &format!("#收入合计：{in_count}笔，共{}元", cny.format_minor(in_sum)),
        None,
    )?;
    let export = next.and_hms_opt(6, 0, 0).unwrap_or_default();
    gbk_line(
        out,
        &format!("#导出时间：[{}]", export.format("%Y年%m月%d日 %H:%M:%S")),
        None,
    )
}

/// Writes the bare 账务明细 CSV (GBK, CRLF, TAB-padded ids, the classic 12 columns, footer
/// totals). Rows must be CNY, without a fee, non-zero. The description's first word (before
/// ` / `) is written as 业务类型 when it means the row's kind, the rest as 备注; otherwise the
/// kind's usual word is written and the whole description goes to 备注.
pub fn write_alipay_accountlog_csv<W: Write>(
    pid: &str,
    date: NaiveDate,
    flows: &[FundFlow],
    out: W,
) -> Result<(), FundFlowError> {
    let mut w = std::io::BufWriter::new(out);
    write_detail(flows, pid, date, &mut w)?;
    w.flush().map_err(|e| io_write_err(WHAT, e))
}

/// The account-log ZIP as the `bill_type=signcustomer` download delivers it: one GBK entry
/// `<PID>0156_<YYYYMMDD>_账务明细.csv` with a GBK name and no UTF-8 flag. (The real archive
/// may hold a 汇总 entry too; readers ignore it, and this writer leaves it out.)
pub fn write_alipay_accountlog_zip(
    pid: &str,
    date: NaiveDate,
    flows: &[FundFlow],
) -> Result<Vec<u8>, FundFlowError> {
    let name = format!("{}_{}_账务明细.csv", account_id(pid), date.format("%Y%m%d"));
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&name);
    if unmappable {
        return Err(write_err(
            WHAT,
            None,
            format!("file name {name:?} cannot be written in GBK"),
        ));
    }
    let when = DosTime::from_naive(
        date.succ_opt()
            .unwrap_or(date)
            .and_hms_opt(6, 0, 0)
            .unwrap_or_default(),
    );
    let mut zip = ZipBuilder::new();
    zip.add(&gbk, when, |w| {
        let mut bw = std::io::BufWriter::new(w);
        write_detail(flows, pid, date, &mut bw)?;
        bw.flush().map_err(|e| io_write_err(WHAT, e))
    })?;
    zip.finish()
}
