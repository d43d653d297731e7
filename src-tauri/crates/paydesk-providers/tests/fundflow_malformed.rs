//! Fund-flow layouts' variants and hostile or damaged files: what is accepted, and the
//! one-line error (file, line, problem) for what is not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::domain::Provider;
use paydesk_core::money::Currency;
use paydesk_core::settlement::{FlowKind, FundFlow, PayoutStatus};
use paydesk_providers::fundflow::*;

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

fn alipay(rows: &[&str], footer: &[&str]) -> String {
    let mut s = String::from(
        "#支付宝账务明细查询\r\n#账号：[20880211096256330156]\r\n#起始日期：[2026年11月01日 00:00:00]   终止日期：[2026年11月02日 00:00:00]\r\n#-----------------------------------------账务明细列表----------------------------------------\r\n账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r\n",
    );
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s.push_str("#----------------------------------------账务明细列表结束-------------------------------------\r\n");
    for f in footer {
        s.push_str(f);
        s.push_str("\r\n");
    }
    s
}

fn parse_alipay(text: &str) -> Result<ParsedFundFlows, FundFlowError> {
    parse_fund_flows(&gbk(text), "log.csv", Provider::Alipay, "a")
}

#[test]
fn alipay_kinds_signs_and_words() {
    let rows = [
        "1\t,B1\t,O1\t,x\t,2026-11-01 08:00:00,\t,10.00,0.00,10.00,支付宝,交易,",
        "2\t,B2\t,\t,x\t,2026-11-01 09:00:00,\t,0.00,3.00,7.00,支付宝,退款,",
        "3\t,B3\t,\t,x\t,2026-11-01 10:00:00,\t,0.00,-0.06,6.94,支付宝,交易服务费,",
        "4\t,W1\t,\t,x\t,2026-11-01 11:00:00,\t,0.00,-5.00,1.94,支付宝,提现,",
        "5\t,W1\t,\t,x\t,2026-11-01 12:00:00,\t,5.00,0.00,6.94,支付宝,提现退回,银行退票",
        "6\t,T1\t,\t,x\t,2026-11-01 13:00:00,\t,1.00,0.00,7.94,支付宝,充值,",
        "7\t,K1\t,\t,x\t,2026-11-01 14:00:00,\t,0.00,-1.00,6.94,支付宝,保证金冻结,季度保证金",
    ];
    let p = parse_alipay(&alipay(
        &rows,
        &["#支出合计：4笔，共9.06元", "#收入合计：3笔，共16.00元"],
    ))
    .unwrap();
    assert!(p.summary_checked);
    let got: Vec<(FlowKind, i64, &str)> = p
        .flows
        .iter()
        .map(|f| (f.kind, f.gross, f.description.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (FlowKind::Payment, 1000, "交易"),
            (FlowKind::Refund, -300, "退款"),
            (FlowKind::Fee, -6, "交易服务费"),
            (FlowKind::Payout, -500, "提现"),
            (FlowKind::PayoutReversal, 500, "提现退回 / 银行退票"),
            (FlowKind::Transfer, 100, "充值"),
            (FlowKind::Adjustment, -100, "保证金冻结 / 季度保证金"),
        ]
    );
    assert_eq!(
        p.flows[0].booked_at,
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    );
    // The reversal names the withdrawal's business number: the payout failed.
    assert_eq!(p.payouts.len(), 1);
    assert_eq!(
        (p.payouts[0].payout_id.as_str(), p.payouts[0].amount),
        ("W1", 500)
    );
    assert_eq!(p.payouts[0].status, PayoutStatus::Failed);
    assert_eq!(p.payouts[0].trace_id.as_deref(), Some("4"));
}

#[test]
fn alipay_newer_columns_half_width_quotes_and_utf8() {
    let text = "\u{feff}#支付宝账务明细查询\n#账号:[2088021109625633]\n账务流水号,业务基础订单号,业务流水号,商户订单号,发生时间,收入金额(+元),支出金额(-元),账户余额(元),业务类型,业务描述,备注\n\"2026,1\",x,B1\t,\"O \"\"1\"\"\",2026-11-01 08:00:00,\"1,234.50\",0,, 在线支付 ,d,\"a, b\"\n#-----账务明细列表结束-----,,,,,,,,,,\n#支出合计：0笔，共0.00元,,,,,,,,,,\n#收入合计：1笔，共1234.50元,,,,,,,,,,\n";
    let p = parse_fund_flows(text.as_bytes(), "u.csv", Provider::Alipay, "a").unwrap();
    let f = &p.flows[0];
    assert_eq!(f.flow_id, "2026,1");
    assert_eq!(f.order_no.as_deref(), Some("O \"1\""));
    assert_eq!((f.gross, f.balance_after), (123_450, None));
    assert_eq!(
        (f.kind, f.description.as_str()),
        (FlowKind::Payment, "在线支付 / a, b")
    );
    assert_eq!(p.account_label.as_deref(), Some("2088021109625633"));
    assert!(p.summary_checked);
    // Without the totals the end of the file cannot be told from a cut: refused.
    let cut = text.split("#收入合计").next().unwrap();
    let e = parse_fund_flows(cut.as_bytes(), "u.csv", Provider::Alipay, "a").unwrap_err();
    assert!(e.reason.contains("#收入合计 totals line is missing"), "{e}");
}

#[test]
fn alipay_refusals_name_the_line() {
    let both = alipay(
        &["1\t,B\t,\t,x\t,2026-11-01 08:00:00,\t,1.00,-1.00,0.00,支付宝,交易,"],
        &[],
    );
    let e = parse_alipay(&both).unwrap_err();
    assert_eq!(e.line, Some(6));
    assert!(
        e.to_string().starts_with("log.csv line 6: exactly one of"),
        "{e}"
    );

    let none = alipay(
        &["1\t,B\t,\t,x\t,2026-11-01 08:00:00,\t,0.00,0.00,0.00,支付宝,交易,"],
        &[],
    );
    assert!(parse_alipay(&none)
        .unwrap_err()
        .reason
        .contains("exactly one"));

    let row = "1\t,B\t,\t,x\t,2026-11-01 08:00:00,\t,1.00,0.00,1.00,支付宝,交易,";
    let wrong = alipay(
        &[row],
        &["#支出合计：0笔，共0.00元", "#收入合计：2笔，共1.00元"],
    );
    let e = parse_alipay(&wrong).unwrap_err();
    assert_eq!(e.line, Some(9));
    assert!(e.reason.contains("#收入合计 states 2 rows"), "{e}");

    let full = alipay(&[row], &[]);
    let cut = full
        .split("#-----")
        .take(2)
        .collect::<Vec<_>>()
        .join("#-----");
    let e = parse_alipay(&cut).unwrap_err();
    assert!(e.reason.contains("账务明细列表结束"), "{e}");

    let bad_amount = alipay(
        &["1\t,B\t,\t,x\t,2026-11-01 08:00:00,\t,1,23,0.00,1.00,支付宝,交易,"],
        &[],
    );
    assert!(parse_alipay(&bad_amount)
        .unwrap_err()
        .reason
        .contains("cells but the header"));

    let bad_time = alipay(
        &["1\t,B\t,\t,x\t,2026/13/01 08:00:00,\t,1.00,0.00,1.00,支付宝,交易,"],
        &[],
    );
    let e = parse_alipay(&bad_time).unwrap_err();
    assert_eq!(e.column.as_deref(), Some("发生时间"));

    let trade_zip = std::fs::read(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../fixtures/samples/alipay/20880211096256330156_20190916.csv.zip"),
    )
    .unwrap();
    let e = parse_fund_flows(&trade_zip, "t.zip", Provider::Alipay, "a").unwrap_err();
    assert!(
        e.to_string().starts_with("t.zip: the ZIP holds") && e.reason.contains("业务明细.csv"),
        "{e}"
    );
    let trade = gbk("#支付宝业务明细查询\r\n#账号：[20880211096256330156]\r\n");
    let e = parse_fund_flows(&trade, "t.csv", Provider::Alipay, "a").unwrap_err();
    assert!(e.reason.contains("账务明细"), "{e}");
}

fn wechat(rows: &[&str], summary: &str, full_width: bool) -> String {
    let mut s = if full_width {
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n".to_string()
    } else {
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\n".to_string()
    };
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.push_str("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n");
    s.push_str(summary);
    s.push('\n');
    s
}

#[test]
fn wechat_official_example_full_width_and_kinds() {
    // WeChat's own example row (providers.md §2.6), 业务凭证号 the merchant refund number.
    let rows = [
        "`2018-02-01 04:21:23,`50000305742018020103387128253,`1900009231201802015884652186,`退款,`退款,`支出,`0.02,`0.17,`system,`缺货,`REF4200000068201801293084726067",
        "`2018-02-01 05:00:00,`0,`F2,`提现,`提现退票,`收入,`1.00,`1.17,`system,`,`",
        "`2018-02-01 06:00:00,`0,`F3,`其他,`营销补贴,`收入,`0.50,`1.67,`system,`,`",
    ];
    let p = parse_fund_flows(
        wechat(&rows, "`3.0,`2.0,`1.50,`1.0,`0.02", true).as_bytes(),
        "f.csv",
        Provider::Wechat,
        "w",
    )
    .unwrap();
    let f = &p.flows[0];
    assert_eq!(
        (
            f.kind,
            f.gross,
            f.balance_after,
            f.order_no.as_deref(),
            f.source_id.as_deref()
        ),
        (
            FlowKind::Refund,
            -2,
            Some(17),
            Some("REF4200000068201801293084726067"),
            Some("50000305742018020103387128253")
        )
    );
    assert_eq!(
        f.booked_at,
        Utc.with_ymd_and_hms(2018, 1, 31, 20, 21, 23).unwrap()
    );
    assert_eq!(
        (p.flows[1].kind, p.flows[1].source_id.as_deref()),
        (FlowKind::PayoutReversal, None)
    );
    assert_eq!(
        (p.flows[2].kind, p.flows[2].description.as_str()),
        (FlowKind::Adjustment, "营销补贴")
    );
}

#[test]
fn wechat_refusals() {
    let row = "`2021-02-01 13:54:01,`5030,`4200,`退款,`退款,`支出,`0.01,`0.22,`x,`,`S1";
    // The public Go client's test summary: three rows stated for the two it has.
    let e = parse_fund_flows(
        wechat(&[row, row], "`3,`1,`0.01,`2,`0.02", false).as_bytes(),
        "f.csv",
        Provider::Wechat,
        "w",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5));
    assert_eq!(e.column.as_deref(), Some("资金流水总笔数"));
    assert!(
        e.reason.contains("states 3 but the rows add up to 2"),
        "{e}"
    );
    let e = parse_fund_flows(
        wechat(&[row], "`1,`0,`0.00,`1,`0.02", false).as_bytes(),
        "f.csv",
        Provider::Wechat,
        "w",
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("支出金额"));
    let truncated = wechat(&[row], "`1,`0,`0.00,`1,`0.01", false);
    let cut = truncated.split("资金流水总笔数").next().unwrap();
    let e = parse_fund_flows(cut.as_bytes(), "f.csv", Provider::Wechat, "w").unwrap_err();
    assert!(e.reason.contains("summary"), "{e}");
    let odd = row.replace("`支出", "`转出");
    let e = parse_fund_flows(
        wechat(&[&odd], "`1,`0,`0.00,`1,`0.01", false).as_bytes(),
        "f.csv",
        Provider::Wechat,
        "w",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("收支类型")));
    // A 0.00 支出 row counts as an expense, as WeChat's summary counts it.
    let zero = row.replace("`0.01,`0.22", "`0.00,`0.22");
    let p = parse_fund_flows(
        wechat(&[&zero], "`1.0,`0.0,`0.00,`1.0,`0.00", false).as_bytes(),
        "f.csv",
        Provider::Wechat,
        "w",
    )
    .unwrap();
    assert_eq!(p.flows[0].gross, 0);
    let after = format!("{}junk\n", wechat(&[row], "`1,`0,`0.00,`1,`0.01", false));
    assert!(parse_fund_flows(after.as_bytes(), "f.csv", Provider::Wechat, "w").is_err());
}

#[test]
fn layout_and_provider_mismatches_are_refused() {
    let w = wechat(&[], "`0,`0,`0,`0,`0", false);
    let e = parse_fund_flows(w.as_bytes(), "f.csv", Provider::Alipay, "main").unwrap_err();
    assert!(
        e.reason.contains("WeChat Pay 资金账单") && e.reason.contains("alipay"),
        "{e}"
    );
    let e = parse_fund_flows(b"hello,world\n1,2\n", "x.csv", Provider::Stripe, "s").unwrap_err();
    assert!(
        e.to_string().starts_with("x.csv: not a fund-flow file"),
        "{e}"
    );
    // An empty WeChat bill with its summary is fine.
    let p = parse_fund_flows(w.as_bytes(), "f.csv", Provider::Wechat, "main").unwrap();
    assert!(p.flows.is_empty() && p.summary_checked);
}

#[test]
fn stripe_csv_exponents_signs_and_net_check() {
    let csv = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,description,payment_metadata[order_id]\n\
        txn_1,2026-11-01T10:00:00Z,kwd,1.234,0.034,1.200,charge,ch_1,,K-1\n\
        txn_2,2026-11-01 11:00:00,usd,5.00,0.00,5.00,refund_failure,re_2,,\n\
        txn_3,2026-11-01 12:00:00,usd,-1.00,0.00,-1.00,tax,,,\n\
        txn_4,2026-11-01 12:00:00,usd,3.00,0.00,3.00,dispute_reversal,dp_4,won,\n";
    let p = parse_fund_flows(csv.as_bytes(), "b.csv", Provider::Stripe, "s").unwrap();
    let got: Vec<(
        FlowKind,
        Currency,
        i64,
        i64,
        i64,
        Option<&str>,
        &str,
        Option<&str>,
    )> = p
        .flows
        .iter()
        .map(|f| {
            (
                f.kind,
                f.currency,
                f.gross,
                f.fee,
                f.net,
                f.order_no.as_deref(),
                f.description.as_str(),
                f.payout_id.as_deref(),
            )
        })
        .collect();
    let kwd = Currency::parse("KWD").unwrap();
    assert_eq!(
        got,
        vec![
            (
                FlowKind::Payment,
                kwd,
                1234,
                34,
                1200,
                Some("K-1"),
                "charge",
                None
            ),
            (
                FlowKind::Refund,
                Currency::USD,
                500,
                0,
                500,
                None,
                "refund_failure",
                None
            ),
            (
                FlowKind::Adjustment,
                Currency::USD,
                -100,
                0,
                -100,
                None,
                "tax",
                None
            ),
            (
                FlowKind::DisputeReversal,
                Currency::USD,
                300,
                0,
                300,
                None,
                "won",
                None
            ),
        ]
    );
    assert!(p.payouts.is_empty(), "no automatic_payout_id: no payouts");
    let bad = csv.replace("1.234,0.034,1.200", "1.234,0.034,1.201");
    let e = parse_fund_flows(bad.as_bytes(), "b.csv", Provider::Stripe, "s").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("net")));
    let precise = csv.replace("usd,5.00,", "usd,5.001,");
    assert!(parse_fund_flows(precise.as_bytes(), "b.csv", Provider::Stripe, "s").is_err());
}

#[test]
fn stripe_payouts_page_trace_id_shapes() {
    let page = br#"{"object":"list","url":"/v1/payouts","has_more":true,"data":[
      {"id":"po_1","object":"payout","amount":8819,"currency":"usd","created":1764028800,"arrival_date":1764115200,"automatic":true,"status":"paid","method":"standard","balance_transaction":"txn_9","trace_id":{"status":"supported","value":"TRACE-0001"}},
      {"id":"po_2","object":"payout","amount":2392,"currency":"jpy","created":1764028800,"arrival_date":1764201600,"automatic":false,"status":"in_transit","trace_id":"T2"},
      {"id":"po_3","object":"payout","amount":100,"currency":"usd","created":1764028800,"arrival_date":1764201600,"automatic":true,"status":"failed","trace_id":{"status":"unsupported","value":null}},
      {"id":"po_4","object":"payout","amount":100,"currency":"usd","created":1764028800,"arrival_date":1764201600,"status":"canceled","trace_id":null}
    ]}"#;
    let (payouts, more) = parse_stripe_payouts(page, "s").unwrap();
    assert!(more);
    let got: Vec<(
        &str,
        i64,
        Currency,
        NaiveDate,
        Option<&str>,
        bool,
        PayoutStatus,
    )> = payouts
        .iter()
        .map(|p| {
            (
                p.payout_id.as_str(),
                p.amount,
                p.currency,
                p.arrival_date,
                p.trace_id.as_deref(),
                p.automatic,
                p.status,
            )
        })
        .collect();
    let d = |day| NaiveDate::from_ymd_opt(2025, 11, day).unwrap();
    assert_eq!(
        got,
        vec![
            (
                "po_1",
                8819,
                Currency::USD,
                d(26),
                Some("TRACE-0001"),
                true,
                PayoutStatus::Paid
            ),
            (
                "po_2",
                2392,
                Currency::JPY,
                d(27),
                Some("T2"),
                false,
                PayoutStatus::InTransit
            ),
            (
                "po_3",
                100,
                Currency::USD,
                d(27),
                None,
                true,
                PayoutStatus::Failed
            ),
            (
                "po_4",
                100,
                Currency::USD,
                d(27),
                None,
                false,
                PayoutStatus::Canceled
            ),
        ]
    );
    assert_eq!(
        payouts[0].created_at,
        Utc.with_ymd_and_hms(2025, 11, 25, 0, 0, 0).unwrap()
    );
    let e = parse_stripe_payouts(br#"{"object":"list","data":[{"id":"po_1","amount":"1","currency":"usd","created":1,"arrival_date":1,"status":"paid"}]}"#, "s").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("amount")));
    let e = parse_stripe_payouts(br#"{"object":"list","data":[{"id":"po_1","amount":1,"currency":"usd","created":1,"arrival_date":1,"status":"lost"}]}"#, "s").unwrap_err();
    assert!(e.reason.contains("lost"));
    // The same page through the file entry point.
    let p = parse_fund_flows(page, "payouts.json", Provider::Stripe, "s").unwrap();
    assert_eq!(
        (p.layout, p.payouts.len(), p.flows.len()),
        (FundFlowLayout::StripePayoutsJson, 4, 0)
    );
}

#[test]
fn stripe_balance_transactions_page_sources_and_checks() {
    let page = br#"{"object":"list","url":"/v1/balance_transactions","has_more":false,"data":[
      {"id":"txn_1","object":"balance_transaction","amount":2500,"fee":103,"net":2397,"currency":"usd","created":1764000000,"available_on":1764115200,"reporting_category":"charge","type":"charge","description":null,
       "source":{"id":"ch_1","object":"charge","metadata":{"order_no":"A-1"}}},
      {"id":"txn_2","object":"balance_transaction","amount":-1000,"fee":0,"net":-1000,"currency":"usd","created":1764000100,"available_on":1764000100,"reporting_category":"refund","type":"refund","description":"REFUND","source":"re_2"},
      {"id":"txn_3","object":"balance_transaction","amount":-8819,"fee":0,"net":-8819,"currency":"usd","created":1764000200,"available_on":1764000200,"type":"payout","description":"STRIPE PAYOUT","source":"po_1"},
      {"id":"txn_4","object":"balance_transaction","amount":3000,"fee":108,"net":2892,"currency":"jpy","created":1764000300,"available_on":1764000300,"reporting_category":"charge","type":"charge","source":{"id":"ch_4","metadata":{"order_id":"J-1"}}},
      {"id":"txn_5","object":"balance_transaction","amount":-200,"fee":0,"net":-200,"currency":"usd","created":1764000400,"available_on":1764000400,"reporting_category":"fee","type":"stripe_fee","source":null}
    ]}"#;
    let (flows, more) = parse_stripe_balance_transactions(page, "s").unwrap();
    assert!(!more);
    let got: Vec<(
        &str,
        FlowKind,
        Option<&str>,
        Option<&str>,
        i64,
        i64,
        i64,
        &str,
        u64,
    )> = flows
        .iter()
        .map(|f| {
            (
                f.flow_id.as_str(),
                f.kind,
                f.source_id.as_deref(),
                f.order_no.as_deref(),
                f.gross,
                f.fee,
                f.net,
                f.description.as_str(),
                f.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "txn_1",
                FlowKind::Payment,
                Some("ch_1"),
                Some("A-1"),
                2500,
                103,
                2397,
                "charge",
                1
            ),
            (
                "txn_2",
                FlowKind::Refund,
                Some("re_2"),
                None,
                -1000,
                0,
                -1000,
                "REFUND",
                2
            ),
            (
                "txn_3",
                FlowKind::Payout,
                Some("po_1"),
                None,
                -8819,
                0,
                -8819,
                "STRIPE PAYOUT",
                3
            ),
            (
                "txn_4",
                FlowKind::Payment,
                Some("ch_4"),
                Some("J-1"),
                3000,
                108,
                2892,
                "charge",
                4
            ),
            ("txn_5", FlowKind::Fee, None, None, -200, 0, -200, "fee", 5),
        ]
    );
    assert_eq!(flows[3].currency, Currency::JPY);
    assert!(flows
        .iter()
        .all(|f| f.payout_id.is_none() && f.provider == Provider::Stripe));
    let bad = String::from_utf8(page.to_vec())
        .unwrap()
        .replace(r#""fee":108,"net":2892"#, r#""fee":108,"net":2893"#);
    let e = parse_stripe_balance_transactions(bad.as_bytes(), "s").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(4), Some("net")));
    assert!(e.reason.contains("txn_4"), "{e}");
    assert!(parse_stripe_balance_transactions(b"{\"object\":\"list\"}", "s").is_err());
    assert!(parse_stripe_balance_transactions(b"[1,2]", "s").is_err());
    assert!(parse_stripe_balance_transactions(
        br#"{"object":"list","data":[],"has_more":"no"}"#,
        "s"
    )
    .is_err());
}

#[test]
fn payouts_from_flows_choices() {
    let t = Utc.with_ymd_and_hms(2026, 11, 1, 17, 30, 0).unwrap();
    let flow = |id: &str, source: Option<&str>, kind, gross| FundFlow {
        provider: Provider::Wechat,
        account: "w".into(),
        flow_id: id.into(),
        source_id: source.map(str::to_string),
        order_no: None,
        payout_id: None,
        kind,
        booked_at: t,
        currency: Currency::CNY,
        gross,
        fee: 0,
        net: gross,
        balance_after: None,
        description: String::new(),
        line: 2,
    };
    let flows = [
        flow("F1", Some("W1"), FlowKind::Payout, -500),
        flow("F2", None, FlowKind::Payout, -300),
        flow("F3", Some("F2"), FlowKind::PayoutReversal, 300),
        flow("F4", Some("X"), FlowKind::Payment, 900),
    ];
    let p = payouts_from_flows(&flows);
    let got: Vec<(&str, i64, Option<&str>, PayoutStatus, NaiveDate, bool)> = p
        .iter()
        .map(|p| {
            (
                p.payout_id.as_str(),
                p.amount,
                p.trace_id.as_deref(),
                p.status,
                p.arrival_date,
                p.automatic,
            )
        })
        .collect();
    // 17:30 UTC is the next day in Beijing.
    let d = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    assert_eq!(
        got,
        vec![
            ("W1", 500, Some("F1"), PayoutStatus::Paid, d, false),
            ("F2", 300, Some("F2"), PayoutStatus::Failed, d, false),
        ]
    );
}
