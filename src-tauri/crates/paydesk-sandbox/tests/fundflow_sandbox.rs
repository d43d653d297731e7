//! Fund flows and payouts (资金流水) over HTTP: each client downloads, verifies and parses
//! what the sandbox holds.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use paydesk_core::settlement::{FlowKind, FundFlow, Payout};
use paydesk_core::{Currency, LineKind, Provider, SourceRef, StatementLine};
use paydesk_providers::adapter::ProviderAdapter;
use paydesk_providers::alipay::{AlipayAdapter, AlipayConfig};
use paydesk_providers::error::ErrorKind;
use paydesk_providers::http::HttpOptions;
use paydesk_providers::keys::PrivateKey;
use paydesk_providers::stripe::{StripeAdapter, StripeConfig};
use paydesk_providers::wechat::{WechatAdapter, WechatConfig};
use paydesk_sandbox::{
    Fault, FaultKind, Quirk, Sandbox, SandboxConfig, SandboxHandle, SandboxKeys, OPENING_BALANCE,
};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

const APIV3: &str = "0123456789abcdef0123456789ABCDEF";
const STRIPE_KEY: &str = "sk_test_sandbox";
const SERIAL: &str = "5F1C72E2A8931B72A2E13AF8DEE92471EB397115";

struct Keys {
    sandbox: SandboxKeys,
    alipay_app: PrivateKey,
    wechat_merchant: PrivateKey,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        sandbox: SandboxKeys::generate().unwrap(),
        alipay_app: PrivateKey::generate().unwrap(),
        wechat_merchant: PrivateKey::generate().unwrap(),
    })
}

fn opts() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_retries: 1,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

async fn start() -> SandboxHandle {
    let k = keys();
    Sandbox::start(
        SandboxConfig {
            keys: k.sandbox.clone(),
            alipay_app_id: "2021000000000001".into(),
            alipay_pid: "2088000000000001".into(),
            alipay_app_public_key: k.alipay_app.public_key(),
            wechat_mchid: "1900000001".into(),
            wechat_merchant_serial: SERIAL.into(),
            wechat_merchant_public_key: k.wechat_merchant.public_key(),
            apiv3_key: APIV3.into(),
            stripe_secret_key: STRIPE_KEY.into(),
        },
        0,
    )
    .await
    .unwrap()
}

fn alipay(h: &SandboxHandle) -> AlipayAdapter {
    AlipayAdapter::new(
        AlipayConfig {
            app_id: "2021000000000001".into(),
            gateway_url: h.alipay_gateway_url.clone(),
            app_private_key: SecretString::from(keys().alipay_app.to_pkcs8_pem().unwrap()),
            alipay_public_key: h.alipay_public_key_pem.clone(),
            pid: "2088000000000001".into(),
            certificates: None,
        },
        opts(),
    )
    .unwrap()
}

fn wechat(h: &SandboxHandle) -> WechatAdapter {
    let mut platform_keys = BTreeMap::new();
    platform_keys.insert(
        h.wechat_platform_serial.clone(),
        h.wechat_platform_public_key_pem.clone(),
    );
    WechatAdapter::new(
        WechatConfig {
            mchid: "1900000001".into(),
            base_url: h.wechat_base_url.clone(),
            merchant_serial: SERIAL.into(),
            merchant_private_key: SecretString::from(
                keys().wechat_merchant.to_pkcs8_pem().unwrap(),
            ),
            apiv3_key: SecretString::from(APIV3.to_string()),
            platform_keys,
        },
        opts(),
    )
    .unwrap()
}

fn stripe(h: &SandboxHandle) -> StripeAdapter {
    StripeAdapter::new(
        StripeConfig::new(
            h.stripe_base_url.clone(),
            SecretString::from(STRIPE_KEY.to_string()),
        ),
        opts(),
    )
    .unwrap()
}

/// A line on 2026-01-`day` at `hour` UTC (Beijing is 8 hours ahead: keep `hour` < 16).
#[allow(clippy::too_many_arguments)]
fn line(
    provider: Provider,
    kind: LineKind,
    txn: &str,
    order: &str,
    gross: i64,
    fee_milli: i64,
    day: u32,
    hour: u32,
) -> StatementLine {
    let currency = if provider == Provider::Stripe {
        Currency::USD
    } else {
        Currency::CNY
    };
    let refund = kind == LineKind::Refund;
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider,
        account: format!("{provider}-main").into(),
        provider_txn_id: txn.into(),
        merchant_order_no: Some(order.into()),
        kind,
        gross,
        fee_milli,
        net: gross - fee_milli / 1000,
        currency,
        provider_time: Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0).unwrap(),
        provider_refund_id: refund.then(|| format!("R{txn}").as_str().into()),
        merchant_refund_no: refund.then(|| format!("RF-{order}").as_str().into()),
        provider_status: "SUCCESS".into(),
        source: SourceRef {
            file: "test".into(),
            line: 1,
        },
        fee_base: None,
    }
}

fn jan(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

/// What a flow says, without the file's line and the writers' wording.
type Key = (
    String,
    FlowKind,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

fn keys_of(flows: &[FundFlow]) -> Vec<Key> {
    let mut v: Vec<Key> = flows
        .iter()
        .map(|f| {
            (
                f.flow_id.clone(),
                f.kind,
                f.gross,
                f.fee,
                f.net,
                f.balance_after,
                f.source_id.clone(),
                f.order_no.clone(),
                f.payout_id.clone(),
                f.booked_at.timestamp(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A payout without the account name (the sandbox names its ledgers by provider).
fn payout_keys(payouts: &[Payout]) -> Vec<(String, i64, i64, NaiveDate, Option<String>, bool)> {
    payouts
        .iter()
        .map(|p| {
            (
                p.payout_id.clone(),
                p.amount,
                p.created_at.timestamp(),
                p.arrival_date,
                p.trace_id.clone(),
                p.automatic,
            )
        })
        .collect()
}

/// Two days of payments, a refund and fees for `provider`.
fn load(h: &SandboxHandle, provider: Provider, prefix: &str) {
    let l = |kind, n: u32, gross, fee, day, hour| {
        line(
            provider,
            kind,
            &format!("{prefix}{n:04}"),
            &format!("SO-{n}"),
            gross,
            fee,
            day,
            hour,
        )
    };
    h.add_transactions(
        provider,
        vec![
            l(LineKind::Payment, 1, 12_345, 74_000, 10, 2),
            l(LineKind::Payment, 2, 8_800, 53_000, 10, 6),
            l(LineKind::Refund, 1, -2_000, 0, 10, 9),
            l(LineKind::Payment, 3, 40_000, 240_000, 11, 3),
        ],
    );
}

#[tokio::test]
async fn alipay_account_log_download_is_what_the_sandbox_holds() {
    let h = start().await;
    load(&h, Provider::Alipay, "202601102200140000");
    let ledger = h.ledger(Provider::Alipay, None);
    let a = alipay(&h);

    let day1 = a.download_fund_flows("alipay-main", jan(10)).await.unwrap();
    assert!(
        day1.bytes.starts_with(b"PK"),
        "the 账务明细 arrives as a ZIP"
    );
    assert!(day1.summary_checked);
    assert_eq!(
        keys_of(&day1.flows),
        keys_of(&ledger.flows_on(Provider::Alipay, jan(10)))
    );
    // Payments, their fee rows and the refund; no 提现 on the first day.
    assert_eq!(day1.flows.len(), 5);
    assert!(day1.payouts.is_empty());
    assert!(day1.flows.iter().all(|f| f.account == "alipay-main"));

    let day2 = a.download_fund_flows("alipay-main", jan(11)).await.unwrap();
    assert_eq!(
        keys_of(&day2.flows),
        keys_of(&ledger.flows_on(Provider::Alipay, jan(11)))
    );
    // The 10th's net (123.45 − 0.74 + 88.00 − 0.53 − 20.00) withdrawn on the 11th.
    assert_eq!(day2.payouts.len(), 1);
    assert_eq!(day2.payouts[0].amount, 12_345 - 74 + 8_800 - 53 - 2_000);
    let of_day: Vec<Payout> = ledger
        .payouts
        .iter()
        .filter(|p| p.arrival_date == jan(11))
        .cloned()
        .collect();
    assert_eq!(payout_keys(&day2.payouts), payout_keys(&of_day));
    assert_eq!(day2.payouts[0].account, "alipay-main");
    // Balances roll from the opening float.
    let first = day1.flows.first().unwrap();
    assert_eq!(first.balance_after, Some(OPENING_BALANCE + first.net));

    // No movement that day: no bill.
    let e = a
        .download_fund_flows("alipay-main", jan(20))
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::NoStatement), "{e}");
    // A tampered signature is refused, never read.
    h.set_fault(Fault::new(Provider::Alipay, FaultKind::CorruptSignature));
    let e = a
        .download_fund_flows("alipay-main", jan(10))
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
}

#[tokio::test]
async fn wechat_fund_flow_bill_download_is_what_the_sandbox_holds() {
    let h = start().await;
    load(&h, Provider::Wechat, "42000000002026011");
    let ledger = h.ledger(Provider::Wechat, None);
    let w = wechat(&h);
    for d in [10, 11] {
        let got = w.download_fund_flows("wechat-main", jan(d)).await.unwrap();
        assert_eq!(
            keys_of(&got.flows),
            keys_of(&ledger.flows_on(Provider::Wechat, jan(d))),
            "day {d}"
        );
        assert!(got.summary_checked);
    }
    let day2 = w.download_fund_flows("wechat-main", jan(11)).await.unwrap();
    assert_eq!(day2.payouts.len(), 1);
    assert_eq!(day2.payouts[0].amount, 12_345 - 74 + 8_800 - 53 - 2_000);
    // The refund row names the merchant's refund number (业务凭证号).
    let day1 = w.download_fund_flows("wechat-main", jan(10)).await.unwrap();
    let refund = day1
        .flows
        .iter()
        .find(|f| f.kind == FlowKind::Refund)
        .unwrap();
    assert_eq!(refund.order_no.as_deref(), Some("RF-SO-1"));
    assert_eq!(refund.gross, -2_000);

    // No movement that day: WeChat's NO_STATEMENT_EXIST, an answer and not a failure.
    let e = w
        .download_fund_flows("wechat-main", jan(20))
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::NoStatement), "{e}");

    h.set_fault(Fault::new(Provider::Wechat, FaultKind::CorruptSignature).only("fundflowbill"));
    let e = w
        .download_fund_flows("wechat-main", jan(10))
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
    // An unknown serial that a certificate refresh does not explain fails closed too.
    h.set_fault(Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("fundflowbill"));
    let e = w
        .download_fund_flows("wechat-main", jan(10))
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
}

#[tokio::test]
async fn stripe_payouts_and_their_balance_transactions_page_by_page() {
    let h = start().await;
    // 130 charges on the 10th: the payout of the 11th settles them over two pages.
    let lines: Vec<StatementLine> = (0..130)
        .map(|n| {
            line(
                Provider::Stripe,
                LineKind::Payment,
                &format!("ch_{n:05}"),
                &format!("SO-{n}"),
                1_000 + i64::from(n),
                59_000,
                10,
                1 + n / 10,
            )
        })
        .chain([line(
            Provider::Stripe,
            LineKind::Refund,
            "ch_00000",
            "SO-0",
            -500,
            0,
            10,
            20,
        )])
        .collect();
    h.add_transactions(Provider::Stripe, lines);
    let ledger = h.ledger(Provider::Stripe, None);
    let s = stripe(&h);

    let got = s.download_fund_flows("stripe-main", jan(11)).await.unwrap();
    assert_eq!(got.payouts.len(), 1);
    let po = &got.payouts[0];
    assert_eq!(payout_keys(&got.payouts), payout_keys(&ledger.payouts));
    assert!(po.automatic && po.payout_id.starts_with("po_"));
    assert_eq!(po.arrival_date, jan(12));
    // 130 charges, the refund and the payout's own transaction, all carrying the payout id.
    assert_eq!(got.flows.len(), 132);
    assert_eq!(
        keys_of(&got.flows),
        keys_of(&ledger.settled_by(&po.payout_id))
    );
    let settled: i64 = got
        .flows
        .iter()
        .filter(|f| f.kind != FlowKind::Payout)
        .map(|f| f.net)
        .sum();
    assert_eq!(settled, po.amount);
    let charge = got
        .flows
        .iter()
        .find(|f| f.kind == FlowKind::Payment)
        .unwrap();
    assert_eq!(charge.fee, 59);
    assert!(
        charge.order_no.is_some(),
        "the expanded source names the order"
    );

    // The day of the charges has no payout; the ids stay the same across requests.
    assert!(s
        .download_fund_flows("stripe-main", jan(10))
        .await
        .unwrap()
        .payouts
        .is_empty());
    let again = s.download_fund_flows("stripe-main", jan(11)).await.unwrap();
    assert_eq!(keys_of(&again.flows), keys_of(&got.flows));
}

#[tokio::test]
async fn a_planted_hold_back_makes_the_payout_differ_from_what_it_settles() {
    let h = start().await;
    load(&h, Provider::Stripe, "ch_");
    h.plant_payout_quirk(Provider::Stripe, jan(11), Quirk::HoldBack { minor: 1_500 });
    let got = stripe(&h)
        .download_fund_flows("stripe-main", jan(11))
        .await
        .unwrap();
    let po = &got.payouts[0];
    let settled: i64 = got
        .flows
        .iter()
        .filter(|f| f.kind != FlowKind::Payout)
        .map(|f| f.net)
        .sum();
    assert_eq!(settled - po.amount, 1_500);
}

#[tokio::test]
async fn the_default_adapter_method_says_there_is_no_fund_flow_data() {
    struct NoFlows;
    #[async_trait::async_trait]
    impl ProviderAdapter for NoFlows {
        fn provider(&self) -> Provider {
            Provider::Manual
        }
        async fn download_statement(
            &self,
            _: paydesk_core::BillDate,
        ) -> Result<
            paydesk_providers::adapter::DownloadedStatement,
            paydesk_providers::error::ProviderError,
        > {
            unreachable!()
        }
        async fn query_payment(
            &self,
            _: &str,
        ) -> Result<
            paydesk_providers::adapter::PaymentStatus,
            paydesk_providers::error::ProviderError,
        > {
            unreachable!()
        }
        async fn create_refund(
            &self,
            _: &paydesk_providers::adapter::RefundRequest,
        ) -> Result<paydesk_providers::adapter::RefundStatus, paydesk_providers::error::ProviderError>
        {
            unreachable!()
        }
        async fn query_refund(
            &self,
            _: &paydesk_providers::adapter::RefundQuery,
        ) -> Result<paydesk_providers::adapter::RefundStatus, paydesk_providers::error::ProviderError>
        {
            unreachable!()
        }
    }
    let e = NoFlows.download_fund_flows("m", jan(10)).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config { .. }), "{e}");
}

/// `GET /v1/payouts` as Stripe pages and filters it, and `?payout=` of an unknown payout.
#[tokio::test]
async fn stripe_payouts_list_pages_and_filters_like_stripe() {
    let h = start().await;
    // A charge a day from the 5th to the 9th: payouts on the 6th to the 10th.
    let lines: Vec<StatementLine> = (5..=9u32)
        .map(|d| {
            line(
                Provider::Stripe,
                LineKind::Payment,
                &format!("ch_d{d}"),
                &format!("SO-{d}"),
                1_000 * i64::from(d),
                0,
                d,
                12,
            )
        })
        .collect();
    h.add_transactions(Provider::Stripe, lines);
    let client = reqwest::Client::new();
    let get = |query: String| {
        let url = format!("{}/v1/payouts?{query}", h.stripe_base_url);
        let c = client.clone();
        async move {
            let r = c.get(url).bearer_auth(STRIPE_KEY).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, first) = get("limit=2".into()).await;
    assert_eq!(status, 200);
    assert_eq!(first["has_more"], true);
    assert_eq!(ids(&first).len(), 2);
    // Newest first.
    let created: Vec<i64> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["created"].as_i64().unwrap())
        .collect();
    assert!(created[0] > created[1]);
    let mut all = ids(&first);
    let mut after = all.last().cloned().unwrap();
    loop {
        let (_, page) = get(format!("limit=2&starting_after={after}")).await;
        all.extend(ids(&page));
        if page["has_more"] != true {
            break;
        }
        after = all.last().cloned().unwrap();
    }
    assert_eq!(all.len(), 5);
    let ledger = h.ledger(Provider::Stripe, None);
    let mut expected: Vec<String> = ledger.payouts.iter().map(|p| p.payout_id.clone()).collect();
    expected.reverse();
    assert_eq!(all, expected);

    // created[gte]/[lt] of the 7th: one payout; arrival_date[gte] of the 10th and later: the
    // payouts of the 9th (arriving Monday the 12th) and the 10th.
    let day = |d: u32| {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0)
            .unwrap()
            .timestamp()
    };
    let (_, on7) = get(format!("created[gte]={}&created[lt]={}", day(7), day(8))).await;
    assert_eq!(ids(&on7).len(), 1);
    let (_, late) = get(format!("arrival_date[gte]={}", day(10))).await;
    assert_eq!(ids(&late).len(), 2);

    let (status, body) = get("starting_after=po_nope".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "resource_missing");
    let r = client
        .get(format!(
            "{}/v1/balance_transactions?payout=po_nope",
            h.stripe_base_url
        ))
        .bearer_auth(STRIPE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A wrong key is refused before anything is listed.
    let r = client
        .get(format!("{}/v1/payouts", h.stripe_base_url))
        .bearer_auth("sk_test_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
