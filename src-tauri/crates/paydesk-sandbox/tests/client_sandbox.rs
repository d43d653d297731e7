//! Client ↔ sandbox over HTTP on 127.0.0.1, for all three providers.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use paydesk_core::{BillDate, Currency, LineKind, Provider, SourceRef, StatementLine};
use paydesk_providers::adapter::{ProviderAdapter, RefundQuery, RefundRequest, RefundState};
use paydesk_providers::alipay::{AlipayAdapter, AlipayConfig};
use paydesk_providers::error::ErrorKind;
use paydesk_providers::http::HttpOptions;
use paydesk_providers::keys::PrivateKey;
use paydesk_providers::statement::{parse_statement, ParseContext, StatementFormat};
use paydesk_providers::stripe::{StripeAdapter, StripeConfig};
use paydesk_providers::wechat::{WechatAdapter, WechatConfig};
use paydesk_sandbox::{Fault, FaultKind, Sandbox, SandboxConfig, SandboxHandle, SandboxKeys};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

const APIV3: &str = "0123456789abcdef0123456789ABCDEF";
const STRIPE_KEY: &str = "sk_test_sandbox";

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
        max_retries: 2,
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
            wechat_merchant_serial: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
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

fn wechat(h: &SandboxHandle, trusted: bool) -> WechatAdapter {
    let mut platform_keys = BTreeMap::new();
    if trusted {
        platform_keys.insert(
            h.wechat_platform_serial.clone(),
            h.wechat_platform_public_key_pem.clone(),
        );
    }
    WechatAdapter::new(
        WechatConfig {
            mchid: "1900000001".into(),
            base_url: h.wechat_base_url.clone(),
            merchant_serial: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
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

fn line(
    provider: Provider,
    txn: &str,
    order: &str,
    gross: i64,
    currency: Currency,
    hour: u32,
) -> StatementLine {
    StatementLine {
        payment_intent_id: None,
        presentment: None,
        provider,
        account: format!("{provider}-main").into(),
        provider_txn_id: txn.into(),
        merchant_order_no: Some(order.into()),
        kind: LineKind::Payment,
        gross,
        fee_milli: 0,
        net: gross,
        currency,
        // 2026-01-10 in both UTC and Beijing time.
        provider_time: Utc.with_ymd_and_hms(2026, 1, 10, hour, 0, 0).unwrap(),
        provider_refund_id: None,
        merchant_refund_no: None,
        provider_status: match provider {
            Provider::Alipay => "交易",
            Provider::Wechat => "SUCCESS",
            _ => "charge",
        }
        .into(),
        source: SourceRef {
            file: "test".into(),
            line: 1,
        },
        fee_base: None,
    }
}

fn day() -> BillDate {
    BillDate::parse("2026-01-10").unwrap()
}

#[tokio::test]
async fn alipay_statement_download_and_refunds() {
    let h = start().await;
    h.add_transactions(
        Provider::Alipay,
        vec![
            line(
                Provider::Alipay,
                "2026011022001400000001",
                "SO-1",
                1234,
                Currency::CNY,
                2,
            ),
            line(
                Provider::Alipay,
                "2026011022001400000002",
                "SO-2",
                50,
                Currency::CNY,
                5,
            ),
        ],
    );
    let a = alipay(&h);
    let st = a.download_statement(day()).await.unwrap();
    assert!(st.bytes.starts_with(b"PK"));
    assert_eq!(st.file_name, "20880000000000010156_20260110.csv.zip");
    let parsed = parse_statement(
        &st.bytes,
        &StatementFormat::AlipayTradeBill,
        &ParseContext::new("alipay-main", Provider::Alipay, &st.file_name),
    )
    .unwrap();
    let mut got: Vec<(Option<String>, i64)> = parsed
        .lines
        .iter()
        .map(|l| (l.merchant_order_no.as_ref().map(|n| n.to_string()), l.gross))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![(Some("SO-1".into()), 1234), (Some("SO-2".into()), 50)]
    );

    // No activity → NoStatement; generation fault → NotReady.
    let e = a
        .download_statement(BillDate::parse("2026-01-11").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoStatement, "{e}");
    h.set_fault(Fault::new(Provider::Alipay, FaultKind::StatementNotReady));
    assert!(matches!(
        a.download_statement(day()).await.unwrap_err().kind,
        ErrorKind::NotReady { .. }
    ));

    // A corrupted signature is an error, never data.
    h.set_fault(Fault::new(Provider::Alipay, FaultKind::CorruptSignature));
    let e = a.download_statement(day()).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");

    // Payment query.
    let p = a.query_payment("SO-1").await.unwrap();
    assert_eq!(
        (p.amount, p.provider_status.as_str()),
        (Some(1234), "TRADE_SUCCESS")
    );
    assert_eq!(
        a.query_payment("SO-404").await.unwrap().state,
        paydesk_providers::adapter::PaymentState::NotFound
    );

    // Refund with a transient ACQ.SYSTEM_ERROR first: retried with the same out_request_no.
    h.set_fault(Fault::new(Provider::Alipay, FaultKind::SystemError).only("alipay.trade.refund"));
    let req = RefundRequest {
        order_no: "SO-1".into(),
        refund_no: "RF-1".into(),
        amount: 234,
        order_total: 1234,
        currency: Currency::CNY,
        reason: Some("test".into()),
        provider_payment_id: None,
    };
    let r = a.create_refund(&req).await.unwrap();
    assert_eq!(r.state, RefundState::Succeeded);
    // Same request again: fund_change=N, confirmed by query; still one refund provider-side.
    let again = a.create_refund(&req).await.unwrap();
    assert_eq!(again.state, RefundState::Succeeded);
    assert_eq!(h.refunds_for("SO-1").len(), 1);
    let q = a
        .query_refund(&RefundQuery {
            order_no: "SO-1".into(),
            refund_no: "RF-1".into(),
            provider_refund_id: None,
            provider_payment_id: None,
        })
        .await
        .unwrap();
    assert_eq!((q.state, q.amount), (RefundState::Succeeded, Some(234)));
    let missing = a
        .query_refund(&RefundQuery {
            order_no: "SO-1".into(),
            refund_no: "RF-X".into(),
            provider_refund_id: None,
            provider_payment_id: None,
        })
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
    // Over-refund is rejected.
    let mut big = req.clone();
    big.refund_no = "RF-2".into();
    big.amount = 1001;
    assert!(matches!(
        a.create_refund(&big).await.unwrap_err().kind,
        ErrorKind::Rejected { .. }
    ));
    // The refund shows in the day's statement.
    let today = BillDate::of(Utc::now(), chrono_tz::Asia::Shanghai);
    let st = a.download_statement(today).await.unwrap();
    let parsed = parse_statement(
        &st.bytes,
        &StatementFormat::AlipayTradeBill,
        &ParseContext::new("alipay-main", Provider::Alipay, &st.file_name),
    )
    .unwrap();
    assert!(parsed.lines.iter().any(|l| l.kind == LineKind::Refund
        && l.gross == -234
        && l.merchant_refund_no.as_deref() == Some("RF-1")));
    h.shutdown().await;
}

#[tokio::test]
async fn alipay_rejects_a_client_with_the_wrong_key() {
    let h = start().await;
    let mut cfg_key = PrivateKey::generate().unwrap().to_pkcs8_pem().unwrap();
    let a = AlipayAdapter::new(
        AlipayConfig {
            app_id: "2021000000000001".into(),
            gateway_url: h.alipay_gateway_url.clone(),
            app_private_key: SecretString::from(std::mem::take(&mut cfg_key)),
            alipay_public_key: h.alipay_public_key_pem.clone(),
            pid: "2088000000000001".into(),
            certificates: None,
        },
        opts(),
    )
    .unwrap();
    let e = a.query_payment("SO-1").await.unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::Rejected { code, .. } if code == "isv.invalid-signature"),
        "{e}"
    );
}

#[tokio::test]
async fn wechat_statement_download_fetches_certificates_and_refunds() {
    let h = start().await;
    h.add_transactions(
        Provider::Wechat,
        vec![
            line(
                Provider::Wechat,
                "4200000001202601100000000001",
                "WX-1",
                990,
                Currency::CNY,
                3,
            ),
            line(
                Provider::Wechat,
                "4200000001202601100000000002",
                "WX-2",
                1,
                Currency::CNY,
                4,
            ),
        ],
    );
    // No platform key configured: the first answer's serial is unknown → /v3/certificates.
    let w = wechat(&h, false);
    assert!(w.known_serials().is_empty());
    let st = w.download_statement(day()).await.unwrap();
    assert_eq!(w.known_serials(), vec![h.wechat_platform_serial.clone()]);
    assert_eq!(st.file_name, "1900000001_20260110_ALL.csv");
    let parsed = parse_statement(
        &st.bytes,
        &StatementFormat::WechatTradeBill,
        &ParseContext::new("wechat-main", Provider::Wechat, &st.file_name),
    )
    .unwrap();
    let mut got: Vec<(Option<String>, i64)> = parsed
        .lines
        .iter()
        .map(|l| (l.merchant_order_no.as_ref().map(|n| n.to_string()), l.gross))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![(Some("WX-1".into()), 990), (Some("WX-2".into()), 1)]
    );

    let w = wechat(&h, true);
    assert_eq!(
        w.download_statement(BillDate::parse("2026-01-12").unwrap())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NoStatement
    );
    h.set_fault(Fault::new(Provider::Wechat, FaultKind::StatementNotReady));
    assert!(matches!(
        w.download_statement(day()).await.unwrap_err().kind,
        ErrorKind::NotReady { .. }
    ));
    h.set_fault(Fault::new(Provider::Wechat, FaultKind::CorruptSignature));
    assert!(matches!(
        w.download_statement(day()).await.unwrap_err().kind,
        ErrorKind::Verification { .. }
    ));
    // Unknown serial → certificate fetch → still unknown → fails closed.
    h.set_fault(Fault::new(Provider::Wechat, FaultKind::UnknownSerial).only("tradebill"));
    let e = w.download_statement(day()).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");

    // Order query and refunds, with a SYSTEM_ERROR retried under the same out_refund_no.
    let p = w.query_payment("WX-1").await.unwrap();
    assert_eq!(
        (p.amount, p.provider_status.as_str()),
        (Some(990), "SUCCESS")
    );
    h.set_fault(Fault::new(Provider::Wechat, FaultKind::SystemError).only("refunds"));
    let req = RefundRequest {
        order_no: "WX-1".into(),
        refund_no: "WRF-1".into(),
        amount: 90,
        order_total: 990,
        currency: Currency::CNY,
        reason: None,
        provider_payment_id: None,
    };
    assert_eq!(
        w.create_refund(&req).await.unwrap().state,
        RefundState::Succeeded
    );
    assert_eq!(
        w.create_refund(&req).await.unwrap().state,
        RefundState::Succeeded
    );
    assert_eq!(h.refunds_for("WX-1").len(), 1);
    let q = w
        .query_refund(&RefundQuery {
            order_no: "WX-1".into(),
            refund_no: "WRF-1".into(),
            provider_refund_id: None,
            provider_payment_id: None,
        })
        .await
        .unwrap();
    assert_eq!(q.amount, Some(90));
    let e = w
        .query_refund(&RefundQuery {
            order_no: "WX-1".into(),
            refund_no: "nope".into(),
            provider_refund_id: None,
            provider_payment_id: None,
        })
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Rate limiting beyond the retry budget surfaces as Retryable.
    h.set_fault(
        Fault::new(Provider::Wechat, FaultKind::RateLimited)
            .times(5)
            .only("out-trade-no"),
    );
    let e = w.query_payment("WX-1").await.unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::Retryable { code, .. } if code == "FREQUENCY_LIMITED"),
        "{e}"
    );
    h.clear_faults();
}

#[tokio::test]
async fn wechat_delay_after_commit_is_outcome_unknown_then_same_number_is_safe() {
    let h = start().await;
    h.add_transactions(
        Provider::Wechat,
        vec![line(
            Provider::Wechat,
            "4200000001202601100000000009",
            "WX-9",
            500,
            Currency::CNY,
            3,
        )],
    );
    let mut o = opts();
    o.timeout = Duration::from_millis(300);
    o.max_retries = 0;
    let w = WechatAdapter::new(
        WechatConfig {
            mchid: "1900000001".into(),
            base_url: h.wechat_base_url.clone(),
            merchant_serial: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
            merchant_private_key: SecretString::from(
                keys().wechat_merchant.to_pkcs8_pem().unwrap(),
            ),
            apiv3_key: SecretString::from(APIV3.to_string()),
            platform_keys: BTreeMap::from([(
                h.wechat_platform_serial.clone(),
                h.wechat_platform_public_key_pem.clone(),
            )]),
        },
        o,
    )
    .unwrap();
    h.set_fault(Fault::new(
        Provider::Wechat,
        FaultKind::DelayAfterCommit { millis: 1000 },
    ));
    let req = RefundRequest {
        order_no: "WX-9".into(),
        refund_no: "WRF-9".into(),
        amount: 500,
        order_total: 500,
        currency: Currency::CNY,
        reason: None,
        provider_payment_id: None,
    };
    let e = w.create_refund(&req).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    assert_eq!(h.refunds_for("WX-9").len(), 1);
    assert_eq!(
        w.create_refund(&req).await.unwrap().state,
        RefundState::Succeeded
    );
    assert_eq!(h.refunds_for("WX-9").len(), 1);
}

#[tokio::test]
async fn stripe_statement_download_paginates_and_refunds_are_idempotent() {
    let h = start().await;
    let mut lines = Vec::new();
    for i in 0..130u32 {
        lines.push(line(
            Provider::Stripe,
            &format!("ch_{i:04}"),
            &format!("ST-{i:04}"),
            1000 + i64::from(i),
            Currency::USD,
            i % 24,
        ));
    }
    h.add_transactions(Provider::Stripe, lines);
    let s = stripe(&h);
    let st = s.download_statement(day()).await.unwrap();
    let parsed = parse_statement(
        &st.bytes,
        &StatementFormat::StripeBalanceReport,
        &ParseContext::new("stripe-main", Provider::Stripe, &st.file_name),
    )
    .unwrap();
    assert_eq!(parsed.lines.len(), 130);
    assert!(parsed
        .lines
        .iter()
        .any(|l| l.merchant_order_no.as_deref() == Some("ST-0007") && l.gross == 1007));
    assert_eq!(
        s.download_statement(BillDate::parse("2026-01-09").unwrap())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NoStatement
    );

    let req = RefundRequest {
        order_no: "ST-0001".into(),
        refund_no: "SRF-1".into(),
        amount: 500,
        order_total: 1001,
        currency: Currency::USD,
        reason: Some("requested_by_customer".into()),
        provider_payment_id: Some("pi_0001".into()),
    };
    h.set_fault(Fault::new(Provider::Stripe, FaultKind::SystemError).only("refunds"));
    let r = s.create_refund(&req).await.unwrap();
    assert_eq!(r.state, RefundState::Succeeded);
    let r2 = s.create_refund(&req).await.unwrap();
    assert_eq!(
        r.provider_refund_id, r2.provider_refund_id,
        "Idempotency-Key replays the first refund"
    );
    assert_eq!(h.refunds_for("ST-0001").len(), 1);
    let mut other = req.clone();
    other.amount = 400;
    let e = s.create_refund(&other).await.unwrap_err();
    assert!(
        matches!(&e.kind, ErrorKind::Rejected { code, .. } if code == "idempotency_error"),
        "{e}"
    );
    let q = s
        .query_refund(&RefundQuery {
            order_no: "ST-0001".into(),
            refund_no: "SRF-1".into(),
            provider_refund_id: None,
            provider_payment_id: Some("pi_0001".into()),
        })
        .await
        .unwrap();
    assert_eq!(q.provider_refund_id, r.provider_refund_id);
    assert_eq!(
        s.query_payment("ST-0001")
            .await
            .unwrap()
            .provider_txn_id
            .as_deref(),
        Some("pi_0001")
    );
    // The refund appears in today's (UTC) statement with its refund number.
    let today = BillDate::of(Utc::now(), chrono_tz::UTC);
    let st = s.download_statement(today).await.unwrap();
    let parsed = parse_statement(
        &st.bytes,
        &StatementFormat::StripeBalanceReport,
        &ParseContext::new("stripe-main", Provider::Stripe, &st.file_name),
    )
    .unwrap();
    assert!(parsed.lines.iter().any(|l| l.kind == LineKind::Refund
        && l.gross == -500
        && l.merchant_order_no.as_deref() == Some("ST-0001")));
    // Wrong key → 401 rejected.
    let bad = StripeAdapter::new(
        StripeConfig::new(
            h.stripe_base_url.clone(),
            SecretString::from("sk_test_wrong".to_string()),
        ),
        opts(),
    )
    .unwrap();
    assert!(matches!(
        bad.query_payment("pi_0001").await.unwrap_err().kind,
        ErrorKind::Rejected { .. }
    ));
}

#[tokio::test]
async fn keys_persist_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let a = SandboxKeys::load_or_create(dir.path()).unwrap();
    let b = SandboxKeys::load_or_create(dir.path()).unwrap();
    assert_eq!(a.alipay.public_key(), b.alipay.public_key());
    assert_eq!(
        a.wechat_platform_certificate().unwrap().serial_hex,
        b.wechat_platform_certificate().unwrap().serial_hex
    );
}

/// Two WeChat Pay merchants on one sandbox: each is billed only for its own account's lines,
/// with its merchant id as 商户号 and in the file name; neither finds the other's orders.
#[tokio::test]
async fn wechat_second_merchant_gets_only_its_own_bill_and_orders() {
    let h = start().await;
    h.add_wechat_merchant("1900000001", "wechat-main");
    h.add_wechat_merchant("1900000002", "wechat-shop2");
    let mut shop2 = line(
        Provider::Wechat,
        "4200000002202601100000000002",
        "WX-S2",
        500,
        Currency::CNY,
        5,
    );
    shop2.account = "wechat-shop2".into();
    h.add_transactions(
        Provider::Wechat,
        vec![
            line(
                Provider::Wechat,
                "4200000001202601100000000001",
                "WX-M1",
                990,
                Currency::CNY,
                3,
            ),
            shop2,
        ],
    );
    let adapter = |mchid: &str| {
        WechatAdapter::new(
            WechatConfig {
                mchid: mchid.into(),
                base_url: h.wechat_base_url.clone(),
                merchant_serial: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
                merchant_private_key: SecretString::from(
                    keys().wechat_merchant.to_pkcs8_pem().unwrap(),
                ),
                apiv3_key: SecretString::from(APIV3.to_string()),
                platform_keys: BTreeMap::new(),
            },
            opts(),
        )
        .unwrap()
    };
    for (mchid, account, order, other) in [
        ("1900000001", "wechat-main", "WX-M1", "WX-S2"),
        ("1900000002", "wechat-shop2", "WX-S2", "WX-M1"),
    ] {
        let w = adapter(mchid);
        let st = w.download_statement(day()).await.unwrap();
        assert!(
            st.file_name.starts_with(&format!("{mchid}_")),
            "{}",
            st.file_name
        );
        let text = String::from_utf8(st.bytes.clone()).unwrap();
        let rows: Vec<&str> = text
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with('`'))
            .collect();
        assert_eq!(rows.len(), 1, "{text}");
        assert_eq!(
            rows[0].split(',').nth(2),
            Some(format!("`{mchid}").as_str())
        );
        let parsed = parse_statement(
            &st.bytes,
            &StatementFormat::WechatTradeBill,
            &ParseContext::new(account, Provider::Wechat, &st.file_name),
        )
        .unwrap();
        let orders: Vec<Option<String>> = parsed
            .lines
            .iter()
            .map(|l| l.merchant_order_no.as_ref().map(|n| n.to_string()))
            .collect();
        assert_eq!(orders, vec![Some(order.to_string())]);
        assert!(w
            .query_payment(order)
            .await
            .unwrap()
            .provider_txn_id
            .is_some());
        assert!(w
            .query_payment(other)
            .await
            .unwrap()
            .provider_txn_id
            .is_none());
    }
    // A merchant id the sandbox does not serve is refused.
    assert!(adapter("1900000009")
        .download_statement(day())
        .await
        .is_err());
}

/// Keeps what an adapter hands to its certificate sink.
#[derive(Default)]
struct RecordingSink(std::sync::Mutex<Vec<(Provider, String)>>);

#[async_trait::async_trait]
impl paydesk_providers::adapter::CertificateSink for RecordingSink {
    async fn learned(
        &self,
        provider: Provider,
        certificates: Vec<paydesk_providers::adapter::FetchedCertificate>,
    ) {
        let mut got = self.0.lock().unwrap();
        got.extend(certificates.into_iter().map(|c| (provider, c.serial)));
    }
}

#[tokio::test]
async fn alipay_certificate_mode_sends_sns_and_picks_up_a_renewed_certificate() {
    use paydesk_providers::adapter::PaymentState;
    use paydesk_providers::alipay::AlipayCertificates;
    let h = start().await;
    let files = h.enable_alipay_cert_mode().unwrap();
    let cfg = AlipayConfig {
        app_id: "2021000000000001".into(),
        gateway_url: h.alipay_gateway_url.clone(),
        app_private_key: SecretString::from(keys().alipay_app.to_pkcs8_pem().unwrap()),
        alipay_public_key: String::new(),
        pid: "2088000000000001".into(),
        certificates: Some(AlipayCertificates {
            app_cert: files.app_cert.clone(),
            alipay_certs: vec![files.alipay_cert.clone()],
            root_cert: files.root_cert.clone(),
        }),
    };
    let sink = std::sync::Arc::new(RecordingSink::default());
    let adapter = AlipayAdapter::new(cfg, opts())
        .unwrap()
        .with_certificate_sink(sink.clone());
    // The sandbox checks app_cert_sn, alipay_root_cert_sn and the signature; the adapter
    // verifies the answer with the certificate alipay_cert_sn names.
    let s = adapter.query_payment("NO-SUCH-ORDER-1").await.unwrap();
    assert_eq!(s.state, PaymentState::NotFound);
    let first = adapter.known_alipay_cert_sns();
    assert_eq!(first.len(), 1);

    // Alipay renews its certificate: the next answer names an unknown SN; the adapter
    // downloads it, checks it against the root, keeps it and verifies with it.
    let renewed = h.renew_alipay_cert().unwrap();
    assert!(!first.contains(&renewed));
    let s = adapter.query_payment("NO-SUCH-ORDER-2").await.unwrap();
    assert_eq!(s.state, PaymentState::NotFound);
    assert!(adapter.known_alipay_cert_sns().contains(&renewed));
    assert_eq!(
        sink.0.lock().unwrap().clone(),
        vec![(Provider::Alipay, renewed.clone())]
    );
    // The kept certificate serves from now on: no second download.
    assert_eq!(
        adapter
            .query_payment("NO-SUCH-ORDER-3")
            .await
            .unwrap()
            .state,
        PaymentState::NotFound
    );
    assert_eq!(sink.0.lock().unwrap().len(), 1);

    // A "renewal" that does not chain to the root: downloaded, refused, never used.
    let rogue = h.renew_alipay_cert_from_foreign_ca().unwrap();
    let e = adapter.query_payment("NO-SUCH-ORDER-5").await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&rogue), "{text}");
    assert!(text.contains("wrong issuer"), "{text}");
    assert!(!adapter.known_alipay_cert_sns().contains(&rogue));
    assert_eq!(sink.0.lock().unwrap().len(), 1, "nothing kept");

    // A client without the certificate SNs is refused by the sandbox in certificate mode.
    let e = alipay(&h).query_payment("NO-SUCH-ORDER-4").await;
    let e = e.expect_err("public-key mode is refused");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::Verification { .. } | ErrorKind::Rejected { .. }
        ),
        "{e}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn wechat_platform_certificate_that_has_expired_is_never_trusted() {
    use chrono::Duration as Days;
    use paydesk_providers::x509::{issue, CertSpec};
    let h = start().await;
    let w = wechat(&h, false);
    // WeChat Pay publishes a successor that has expired already (a broken rotation).
    let key = PrivateKey::generate().unwrap();
    let now = Utc::now();
    let expired = issue(
        &CertSpec {
            subject: vec![
                ("C", "CN".into()),
                ("O", "Tenpay.com".into()),
                ("CN", "Tenpay.com sign".into()),
            ],
            serial: vec![0x5d, 0xea, 0x10, 0xef],
            not_before: now - Days::days(1900),
            not_after: now - Days::days(3),
            ca: false,
        },
        &key.public_key(),
        None,
        &key,
    )
    .unwrap();
    let serial = h
        .publish_wechat_platform_successor_cert(key, &expired.to_pem())
        .unwrap();
    assert_eq!(serial, "5DEA10EF");
    // The download verifies (signed by the current certificate) and keeps only that one.
    let fetched = w.refresh_certificates().await.unwrap();
    assert_eq!(
        fetched.iter().map(|c| c.serial.clone()).collect::<Vec<_>>(),
        vec![h.wechat_platform_serial.clone()]
    );
    assert_eq!(w.known_serials(), vec![h.wechat_platform_serial.clone()]);
    // Answers signed with the expired certificate fail closed, naming it and why.
    h.add_transactions(
        Provider::Wechat,
        vec![line(
            Provider::Wechat,
            "4200000001202601100000000009",
            "WX-9",
            990,
            Currency::CNY,
            3,
        )],
    );
    h.sign_with_wechat_platform_successor(true);
    let e = w.query_payment("WX-9").await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Verification { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("certificate 5DEA10EF"), "{text}");
    assert!(text.contains("expired on"), "{text}");
    h.shutdown().await;
}
