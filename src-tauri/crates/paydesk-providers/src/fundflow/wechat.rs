//! WeChat Pay 资金账单 (fund-flow bill, `/v3/bill/fundflowbill`): parser and writer.
//!
//! Layout (providers.md §2.6; fixtures/fundflow/README.md): the header
//! `记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号`
//! (older files write `（元）`), data cells each prefixed with a backtick, then the summary
//! header `资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额` and one value line whose counts
//! are written like decimals (`20.0`). UTF-8, a BOM tolerated, LF or CRLF.
//!
//! 收支类型 收入/支出 gives the sign of 收支金额 (written without one). The summary is checked
//! against the rows exactly and a file that disagrees, or lacks it, is refused.
//! flow_id = 资金流水单号, source_id = 微信支付业务单号, order_no = 业务凭证号 (the merchant's
//! order or refund number), balance_after = 账户结余, description = 业务类型 [/ 备注].
//! 记账时间 is Beijing time. The bill has no currency column: it is CNY.

use super::{join_description, split_description, FundFlowError};
use crate::statement::text::{
    self, check_width, err, Col, Header, LineSource, Record, TextEncoding,
};
use crate::statement::wechat::bt;
use crate::statement::write_err;
use paydesk_core::domain::Provider;
use paydesk_core::money::{parse_minor, parse_scaled, Currency};
use paydesk_core::settlement::{FlowKind, FundFlow};
use std::io::BufRead;

/// The header the writer writes (the newer half-width `(元)`).
pub const HEADER: [&str; 11] = [
    "记账时间",
    "微信支付业务单号",
    "资金流水单号",
    "业务名称",
    "业务类型",
    "收支类型",
    "收支金额(元)",
    "账户结余(元)",
    "资金变更提交申请人",
    "备注",
    "业务凭证号",
];

pub const SUMMARY_HEADER: [&str; 5] = [
    "资金流水总笔数",
    "收入笔数",
    "收入金额",
    "支出笔数",
    "支出金额",
];

/// 业务类型 → kind; anything unknown is an Adjustment, its words kept.
pub fn wechat_kind(word: &str) -> FlowKind {
    match word {
        "交易" => FlowKind::Payment,
        "退款" => FlowKind::Refund,
        "扣除手续费" | "扣除交易手续费" | "手续费" => FlowKind::Fee,
        "提现" => FlowKind::Payout,
        "提现退票" => FlowKind::PayoutReversal,
        "充值" | "转账" => FlowKind::Transfer,
        _ => FlowKind::Adjustment,
    }
}

/// The writer's (业务名称, 业务类型) for a kind whose description carries no word of its own.
fn canonical_words(kind: FlowKind) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        FlowKind::Payment => ("交易", "交易"),
        FlowKind::Refund => ("退款", "退款"),
        FlowKind::Fee => ("交易", "扣除交易手续费"),
        FlowKind::Payout => ("提现", "提现"),
        FlowKind::PayoutReversal => ("提现", "提现退票"),
        FlowKind::Transfer => ("充值", "充值"),
        FlowKind::Adjustment => ("其他", "其他"),
        FlowKind::Dispute | FlowKind::DisputeReversal => return None,
    })
}

/// 业务名称 for a 业务类型 the description carried.
fn name_for(kind: FlowKind) -> &'static str {
    canonical_words(kind).map_or("其他", |(n, _)| n)
}

struct Cols {
    time: Col,
    source: Option<Col>,
    flow: Col,
    kind: Col,
    direction: Col,
    amount: Col,
    balance: Option<Col>,
    remark: Option<Col>,
    voucher: Option<Col>,
}

#[derive(Default)]
struct Sums {
    count: u64,
    in_count: u64,
    in_sum: i64,
    out_count: u64,
    out_sum: i64,
}

pub(crate) fn parse(
    rd: Box<dyn BufRead + '_>,
    file: &str,
    account: &str,
) -> Result<Vec<FundFlow>, FundFlowError> {
    let mut src = LineSource::new(rd, TextEncoding::Utf8, file);
    let mut rec = Record::default();
    let mut header: Option<(Header, Cols)> = None;
    let mut summary_header: Option<Header> = None;
    let mut checked = false;
    let mut flows = Vec::new();
    let mut sums = Sums::default();
    while src.next_record(&mut rec)? {
        if checked {
            return Err(err(
                file,
                Some(rec.line),
                None,
                "unexpected content after the summary line",
            ));
        }
        if let Some(sh) = &summary_header {
            check_summary(&rec, sh, &sums, file)?;
            checked = true;
            continue;
        }
        let Some((h, c)) = &header else {
            let h = Header::from_record(&rec);
            let cols = Cols {
                time: h.require("记账时间", file)?,
                source: h.find("微信支付业务单号"),
                flow: h.require("资金流水单号", file)?,
                kind: h.require("业务类型", file)?,
                direction: h.require("收支类型", file)?,
                amount: h.require("收支金额(元)", file)?,
                balance: h.find("账户结余(元)"),
                remark: h.find("备注"),
                voucher: h.find("业务凭证号"),
            };
            header = Some((h, cols));
            continue;
        };
        if text::norm_name(rec.get(0)) == "资金流水总笔数" {
            summary_header = Some(Header::from_record(&rec));
            continue;
        }
        let (flow, income) = row(&rec, h, c, file, account)?;
        let overflow = || err(file, Some(rec.line), None, "running total overflows");
        sums.count += 1;
        // Counted by 收支类型, as the summary counts them (a 0.00 支出 row is an expense).
        if income {
            sums.in_count += 1;
            sums.in_sum = sums.in_sum.checked_add(flow.gross).ok_or_else(overflow)?;
        } else {
            sums.out_count += 1;
            sums.out_sum = sums.out_sum.checked_sub(flow.gross).ok_or_else(overflow)?;
        }
        flows.push(flow);
    }
    if header.is_none() {
        return Err(err(file, None, None, "the file is empty"));
    }
    if !checked {
        return Err(err(
            file,
            Some(src.line_no),
            None,
            "the summary (资金流水总笔数,…) is missing at the end: the file is truncated",
        ));
    }
    Ok(flows)
}

fn row(
    rec: &Record,
    h: &Header,
    c: &Cols,
    file: &str,
    account: &str,
) -> Result<(FundFlow, bool), FundFlowError> {
    let line = rec.line;
    check_width(rec, h, file)?;
    let at = |col: &Col, reason: String| err(file, Some(line), Some(&col.name), reason);
    let cell = |c: &Option<Col>| c.as_ref().map_or("", |c| rec.get(c.idx));
    let flow_id = rec.get(c.flow.idx);
    if flow_id.is_empty() {
        return Err(at(&c.flow, "资金流水单号 is empty".into()));
    }
    let booked_at = text::parse_local_time(rec.get(c.time.idx), chrono_tz::Asia::Shanghai)
        .map_err(|r| at(&c.time, r))?;
    let cny = Currency::CNY;
    let amount =
        parse_minor(rec.get(c.amount.idx), cny).map_err(|e| at(&c.amount, e.to_string()))?;
    if amount < 0 {
        return Err(at(
            &c.amount,
            "收支金额 is negative; the bill writes it without a sign and 收支类型 gives the direction".into(),
        ));
    }
    let (gross, income) = match rec.get(c.direction.idx) {
        "收入" => (amount, true),
        "支出" => (-amount, false),
        other => {
            return Err(at(
                &c.direction,
                format!("unknown 收支类型 {other:?} (expected 收入 or 支出)"),
            ))
        }
    };
    let balance_after = match &c.balance {
        Some(col) if !rec.get(col.idx).is_empty() => {
            Some(parse_minor(rec.get(col.idx), cny).map_err(|e| at(col, e.to_string()))?)
        }
        _ => None,
    };
    let word = rec.get(c.kind.idx);
    // `0` stands for "none" in WeChat's bills.
    let opt = |s: &str| (!s.is_empty() && s != "0").then(|| s.to_string());
    let flow = FundFlow {
        provider: Provider::Wechat,
        account: account.to_string(),
        flow_id: flow_id.to_string(),
        source_id: opt(cell(&c.source)),
        order_no: opt(cell(&c.voucher)),
        payout_id: None,
        kind: wechat_kind(word),
        booked_at,
        currency: cny,
        gross,
        fee: 0,
        net: gross,
        balance_after,
        description: join_description(word, cell(&c.remark)),
        line,
    };
    Ok((flow, income))
}

fn check_summary(rec: &Record, sh: &Header, s: &Sums, file: &str) -> Result<(), FundFlowError> {
    let line = rec.line;
    check_width(rec, sh, file)?;
    let col = |name: &str| sh.require(name, file);
    let mismatch = |c: &Col, stated: String, actual: String| {
        err(
            file,
            Some(line),
            Some(&c.name),
            format!("the summary states {stated} but the rows add up to {actual} (edited or truncated file?)"),
        )
    };
    for (name, actual) in [
        ("资金流水总笔数", s.count),
        ("收入笔数", s.in_count),
        ("支出笔数", s.out_count),
    ] {
        let c = col(name)?;
        let stated = parse_scaled(rec.get(c.idx), 0)
            .map_err(|e| err(file, Some(line), Some(&c.name), format!("count: {e}")))?;
        if u64::try_from(stated).ok() != Some(actual) {
            return Err(mismatch(&c, stated.to_string(), actual.to_string()));
        }
    }
    let cny = Currency::CNY;
    for (name, actual) in [("收入金额", s.in_sum), ("支出金额", s.out_sum)] {
        let c = col(name)?;
        let stated = parse_minor(rec.get(c.idx), cny)
            .map_err(|e| err(file, Some(line), Some(&c.name), e.to_string()))?;
        if stated != actual {
            return Err(mismatch(
                &c,
                cny.format_minor(stated),
                cny.format_minor(actual),
            ));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Writer

const WHAT: &str = "wechat fund-flow bill";

/// Writes a 资金账单 in WeChat's layout: UTF-8 with BOM, CRLF, backtick-prefixed cells, the
/// summary header and its line (counts as `N.0`). Rows must be CNY without a fee (WeChat
/// books fees as rows of their own). The description's first word (before ` / `) is written
/// as 业务类型 when it means the row's kind, the rest as 备注; otherwise the kind's usual words
/// are written and the whole description goes to 备注. 资金变更提交申请人 is `system`.
pub fn write_wechat_fundflow_bill(flows: &[FundFlow]) -> Result<String, FundFlowError> {
    let cny = Currency::CNY;
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(","));
    out.push_str("\r\n");
    let mut sums = Sums::default();
    let shanghai = chrono_tz::Asia::Shanghai;
    for (i, f) in flows.iter().enumerate() {
        let bad = |r: String| write_err(WHAT, Some(i), r);
        if f.currency != cny {
            return Err(bad(format!(
                "a WeChat fund-flow bill is in CNY, not {}",
                f.currency
            )));
        }
        if f.fee != 0 || f.net != f.gross {
            return Err(bad(
                "fund-flow bill rows carry no fee (fees are rows of their own)".into(),
            ));
        }
        if f.flow_id.is_empty() {
            return Err(bad("empty flow_id".into()));
        }
        let (word, remark) = split_description(&f.description);
        let (name, word, remark) = if !word.is_empty() && wechat_kind(word) == f.kind {
            (name_for(f.kind), word, remark)
        } else {
            let (n, w) = canonical_words(f.kind)
                .ok_or_else(|| bad(format!("a WeChat fund-flow bill has no {} rows", f.kind)))?;
            (n, w, f.description.as_str())
        };
        let overflow = || bad("totals overflow".into());
        sums.count += 1;
        let direction = if f.gross >= 0 {
            sums.in_count += 1;
            sums.in_sum = sums.in_sum.checked_add(f.gross).ok_or_else(overflow)?;
            "收入"
        } else {
            sums.out_count += 1;
            sums.out_sum = sums.out_sum.checked_sub(f.gross).ok_or_else(overflow)?;
            "支出"
        };
        let time = f
            .booked_at
            .with_timezone(&shanghai)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let amount = f.gross.checked_abs().ok_or_else(overflow)?;
        let balance = f
            .balance_after
            .map(|b| cny.format_minor(b))
            .unwrap_or_default();
        let cells: [&str; 11] = [
            &time,
            f.source_id.as_deref().unwrap_or(""),
            &f.flow_id,
            name,
            word,
            direction,
            &cny.format_minor(amount),
            &balance,
            "system",
            remark,
            f.order_no.as_deref().unwrap_or(""),
        ];
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            bt(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out.push_str(&SUMMARY_HEADER.join(","));
    out.push_str("\r\n");
    out.push_str(&format!(
        "`{}.0,`{}.0,`{},`{}.0,`{}\r\n",
        sums.count,
        sums.in_count,
        cny.format_minor(sums.in_sum),
        sums.out_count,
        cny.format_minor(sums.out_sum)
    ));
    Ok(out)
}
