//! The one interface every provider adapter implements, and its request/status types.
//! Amounts are integer minor units plus a [`Currency`]; never floats.

use crate::error::ProviderError;
use async_trait::async_trait;
use chrono::NaiveDate;
use paydesk_core::settlement::{FundFlow, Payout};
use paydesk_core::{BillDate, Currency, Provider};
use serde::{Deserialize, Serialize};

/// A statement file as the provider delivered it.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadedStatement {
    pub file_name: String,
    /// Alipay: the bill zip as downloaded. WeChat: the trade bill, gunzipped and SHA1-checked.
    /// Stripe: a CSV in the Reporting API `balance_change_from_activity.itemized` layout built
    /// from `/v1/balance_transactions`.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for DownloadedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadedStatement")
            .field("file_name", &self.file_name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A provider account's fund flows of one day (资金流水), downloaded, verified and parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadedFundFlows {
    /// The file's name as the provider gives it (Alipay `downloadFileName`), or one made up
    /// of the merchant and the day.
    pub file_name: String,
    /// The file as delivered: Alipay the 账务明细 ZIP, WeChat the 资金账单 (gunzipped,
    /// SHA1-checked). Empty for Stripe, whose data are API list pages.
    pub bytes: Vec<u8>,
    /// `crate::fundflow::FundFlowLayout` of the file, or of Stripe's pages
    /// (`stripe_balance_transactions_json`).
    pub layout: crate::fundflow::FundFlowLayout,
    /// Every movement: Alipay/WeChat those booked that day (Beijing time); Stripe those the
    /// day's payouts settle (each with its `payout_id`) and the payouts' own.
    pub flows: Vec<FundFlow>,
    /// Alipay/WeChat: the day's 提现 rows; Stripe: the payouts created that day (UTC).
    pub payouts: Vec<Payout>,
    /// Whether the file stated totals that agreed with its rows.
    pub summary_checked: bool,
}

impl std::fmt::Debug for DownloadedFundFlows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadedFundFlows")
            .field("file_name", &self.file_name)
            .field("bytes", &self.bytes.len())
            .field("flows", &self.flows.len())
            .field("payouts", &self.payouts.len())
            .finish()
    }
}

/// A payment's state at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Created at the provider, not paid (Alipay WAIT_BUYER_PAY, WeChat NOTPAY/USERPAYING,
    /// Stripe requires_* / processing).
    Pending,
    /// Paid (and possibly partly refunded).
    Paid,
    /// Paid; a refund has been initiated (WeChat REFUND).
    RefundInitiated,
    /// Closed without payment, or closed after a full refund (Alipay TRADE_CLOSED).
    Closed,
    /// Paid and no longer refundable (Alipay TRADE_FINISHED).
    Finished,
    /// Payment failed (WeChat PAYERROR).
    Failed,
    /// The provider has no such payment (Alipay ACQ.TRADE_NOT_EXIST: never reached the
    /// cashier; not necessarily a bad order number).
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentStatus {
    pub order_no: String,
    pub provider_txn_id: Option<String>,
    pub state: PaymentState,
    /// The provider's own status word ("TRADE_SUCCESS", "NOTPAY", "succeeded").
    pub provider_status: String,
    /// Order total in minor units, when the provider reports it.
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
    /// When the payment completed (RFC 3339 or the provider's text), if reported.
    pub paid_at: Option<String>,
}

/// A refund to issue. `refund_no` is the idempotency key (Alipay out_request_no, WeChat
/// out_refund_no, Stripe Idempotency-Key + metadata): retry with the same one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub order_no: String,
    pub refund_no: String,
    /// Amount to refund, minor units, positive.
    pub amount: i64,
    /// The original order total, minor units (WeChat requires it).
    pub order_total: i64,
    pub currency: Currency,
    pub reason: Option<String>,
    /// Stripe: the PaymentIntent (`pi_`) or Charge (`ch_`) id. Ignored by others.
    pub provider_payment_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundQuery {
    pub order_no: String,
    pub refund_no: String,
    /// Stripe `re_` id if known.
    pub provider_refund_id: Option<String>,
    /// Stripe PaymentIntent id, used to list refunds when the `re_` id is unknown.
    pub provider_payment_id: Option<String>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RefundState {
    /// Accepted but not confirmed (Alipay fund_change=N awaiting query; Stripe pending).
    Pending,
    /// The provider is processing it (WeChat PROCESSING).
    Processing,
    Succeeded,
    /// Final failure (WeChat CLOSED, Stripe failed/canceled). A new refund number is needed.
    Failed,
    /// Needs a human (WeChat ABNORMAL, Stripe requires_action).
    NeedsAttention,
}

impl RefundState {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    pub fn is_final(&self) -> bool {
        matches!(self, RefundState::Succeeded | RefundState::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundStatus {
    pub order_no: String,
    pub refund_no: String,
    pub provider_refund_id: Option<String>,
    pub state: RefundState,
    /// The provider's status text ("REFUND_SUCCESS", "PROCESSING", "succeeded", "fund_change=N").
    pub provider_status: String,
    /// Refunded amount in minor units, when reported.
    pub amount: Option<i64>,
    pub currency: Currency,
    pub failure_reason: Option<String>,
}

#[async_trait]
pub trait ProviderAdapter: Send + Sync {
    fn provider(&self) -> Provider;
    async fn download_statement(
        &self,
        date: BillDate,
    ) -> Result<DownloadedStatement, ProviderError>;
    async fn query_payment(&self, order_no: &str) -> Result<PaymentStatus, ProviderError>;
    async fn create_refund(&self, req: &RefundRequest) -> Result<RefundStatus, ProviderError>;
    async fn query_refund(&self, req: &RefundQuery) -> Result<RefundStatus, ProviderError>;

    /// The fund flows and payouts of `date` for the account named `account` (the name the
    /// flows carry), verified like the trade statement. Providers without fund-flow data say
    /// so ([`crate::error::ErrorKind::Config`]).
    async fn download_fund_flows(
        &self,
        account: &str,
        date: NaiveDate,
    ) -> Result<DownloadedFundFlows, ProviderError> {
        let _ = (account, date);
        Err(ProviderError::new(
            self.provider(),
            "download fund flows",
            crate::error::ErrorKind::Config {
                detail: format!(
                    "{} offers no fund-flow download; import the file instead",
                    self.provider()
                ),
            },
        ))
    }
}

/// Parses a downloaded fund-flow file into [`DownloadedFundFlows`]; a file that does not
/// parse is a protocol error of `call` naming the problem.
pub(crate) fn parse_downloaded_flows(
    provider: Provider,
    call: &str,
    account: &str,
    file_name: String,
    bytes: Vec<u8>,
) -> Result<DownloadedFundFlows, ProviderError> {
    let parsed =
        crate::fundflow::parse_fund_flows(&bytes, &file_name, provider, account).map_err(|e| {
            ProviderError::new(
                provider,
                call,
                crate::error::ErrorKind::Protocol {
                    detail: e.to_string(),
                },
            )
        })?;
    Ok(DownloadedFundFlows {
        file_name,
        bytes,
        layout: parsed.layout,
        flows: parsed.flows,
        payouts: parsed.payouts,
        summary_checked: parsed.summary_checked,
    })
}

/// A verification certificate an adapter fetched from the provider and checked (WeChat Pay
/// platform certificates from `/v3/certificates`, decrypted and signature-verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedCertificate {
    /// The provider's id for it (WeChat: the serial, uppercase hex).
    pub serial: String,
    pub pem: String,
}

/// Keeps certificates an adapter learned while working (e.g. on an unknown `Wechatpay-Serial`),
/// so that the next adapter starts with them. Called only after the download verified.
#[async_trait]
pub trait CertificateSink: Send + Sync {
    async fn learned(&self, provider: Provider, certificates: Vec<FetchedCertificate>);
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_core::names::{self, Case};
    use strum::VariantArray;

    #[test]
    fn refund_state_names_round_trip() {
        names::assert_round_trip::<RefundState>(|s| names::parse(s, Case::Sensitive, &[]));
        for s in RefundState::VARIANTS {
            assert_eq!(serde_json::to_value(s).ok(), Some(s.as_str().into()));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(RefundState::NeedsAttention.as_str(), "needs_attention");
    }
}
