//! The normalized records every adapter produces and the matcher consumes.

use crate::money::{milli_to_minor_rounded, Currency, Money};
use crate::names::{self, Case};
use crate::SharedStr;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use strum::VariantArray;

/// A payment provider Paydesk speaks to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Provider {
    Alipay,
    Wechat,
    Stripe,
    /// A statement imported from a file with a saved column mapping (bank, other PSP).
    Manual,
}

impl Provider {
    pub const ALL: [Provider; 4] = names::array(Provider::VARIANTS);

    /// Other words [`FromStr`] accepts (ASCII case-insensitively).
    pub const ALIASES: &'static [(&'static str, Provider)] = &[
        ("wechatpay", Provider::Wechat),
        ("weixin", Provider::Wechat),
    ];

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// The provider's name and its aliases: the words that parse to it.
    pub fn words(self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.as_str()).chain(
            Self::ALIASES
                .iter()
                .filter(move |(_, p)| *p == self)
                .map(|(w, _)| *w),
        )
    }

    /// The timezone the provider draws its day boundaries in. Alipay and WeChat bills are
    /// Beijing days; Stripe's are whatever the account asks for, UTC by default.
    pub fn default_timezone(&self) -> chrono_tz::Tz {
        match self {
            Provider::Alipay | Provider::Wechat => chrono_tz::Asia::Shanghai,
            Provider::Stripe | Provider::Manual => chrono_tz::UTC,
        }
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, Provider::ALIASES).ok_or_else(|| {
            format!(
                "unknown provider {:?} (expected {})",
                s.trim().to_ascii_lowercase(),
                names::listed::<Provider>(" or ")
            )
        })
    }
}

/// What a statement line records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LineKind {
    Payment,
    Refund,
    Fee,
    Adjustment,
    Payout,
}

impl LineKind {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

impl FromStr for LineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown line kind {:?} (expected {})",
                s.trim().to_ascii_lowercase(),
                names::listed::<LineKind>(" or ")
            )
        })
    }
}

/// Where a statement line came from, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SourceRef {
    /// File name (not a full path) or API call that delivered the line.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub file: SharedStr,
    /// 1-based line number in the (decoded) file, or position in the API listing.
    pub line: u64,
}

/// One line of a provider statement, normalized.
///
/// Sign convention: money into the merchant is positive. A refund line has a negative
/// `gross` whatever sign the provider's file used; `fee_milli` is positive when the provider
/// charges a fee (negative when a refund returns part of it); `net = gross - fee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatementLine {
    pub provider: Provider,
    /// The provider account name from `paydesk.toml` (e.g. "alipay-main").
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub account: SharedStr,
    /// Provider transaction id (Alipay 支付宝交易号, WeChat 微信订单号, Stripe txn_/ch_ id).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub provider_txn_id: Id,
    /// The merchant's order number as the provider recorded it, if any.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub merchant_order_no: Option<Id>,
    pub kind: LineKind,
    /// Gross amount in minor units (signed, see above).
    pub gross: i64,
    /// Fee in thousandths of a minor unit: WeChat writes fees with 5 decimals.
    pub fee_milli: i64,
    /// Net amount in minor units as the provider states it.
    pub net: i64,
    pub currency: Currency,
    /// When the provider booked the line.
    pub provider_time: DateTime<Utc>,
    /// The provider's refund id (WeChat 微信退款单号, Stripe re_...), for refund lines.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub provider_refund_id: Option<Id>,
    /// The merchant's refund request number (Alipay out_request_no, WeChat out_refund_no,
    /// Stripe refund metadata), for refund lines.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub merchant_refund_no: Option<Id>,
    /// The provider's status word for the line, as written ("SUCCESS", "REFUND", "交易").
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub provider_status: SharedStr,
    pub source: SourceRef,
    /// Stripe: the PaymentIntent (`pi_...`) of the line's charge; `provider_txn_id` holds the
    /// charge (`ch_...`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub payment_intent_id: Option<Id>,
    /// What the customer was charged when it differs from the settlement currency (Stripe's
    /// `customer_facing_amount` / `customer_facing_currency`), signed like `gross`.
    #[serde(default)]
    pub presentment: Option<Money>,
    /// The amount (minor units) the provider charges its fee on, when it is not `gross`:
    /// WeChat's 应结订单金额 when a 免充值代金券 made it smaller than 订单金额. `None` means
    /// the gross (README "Fee base").
    #[serde(default)]
    pub fee_base: Option<i64>,
}

impl StatementLine {
    /// The fee rounded to minor units (half away from zero).
    pub fn fee_minor(&self) -> i64 {
        milli_to_minor_rounded(self.fee_milli)
    }

    /// The amount the fee is charged on: [`StatementLine::fee_base`], else the gross.
    pub fn fee_base_minor(&self) -> i64 {
        self.fee_base.unwrap_or(self.gross)
    }
}

/// The merchant's view of an order's payment state.
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OrderStatus {
    /// Created, not paid yet.
    Pending,
    Paid,
    /// Closed without payment (cancelled, expired).
    Closed,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    /// Other words [`FromStr`] accepts (ASCII case-insensitively): what providers and shop
    /// systems commonly write.
    pub const ALIASES: &'static [(&'static str, OrderStatus)] = &[
        ("unpaid", OrderStatus::Pending),
        ("created", OrderStatus::Pending),
        ("notpay", OrderStatus::Pending),
        ("success", OrderStatus::Paid),
        ("succeeded", OrderStatus::Paid),
        ("completed", OrderStatus::Paid),
        ("cancelled", OrderStatus::Closed),
        ("canceled", OrderStatus::Closed),
        ("expired", OrderStatus::Closed),
        ("failed", OrderStatus::Closed),
        ("partial_refund", OrderStatus::PartiallyRefunded),
    ];

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// Whether the merchant believes money was received for this order.
    pub fn counts_as_paid(&self) -> bool {
        matches!(
            self,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded
        )
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, OrderStatus::ALIASES).ok_or_else(|| {
            format!(
                "unknown order status {:?} (expected {})",
                s.trim().to_ascii_lowercase(),
                names::listed::<OrderStatus>(" or ")
            )
        })
    }
}

/// An identifier (order, refund or transaction number): held inline up to 24 bytes, so a
/// million orders and lines do not each allocate their numbers (issue 15). Reads, compares,
/// hashes and serializes as the plain string.
pub type Id = compact_str::CompactString;

/// An order as the merchant's order mirror records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Order {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub order_no: Id,
    pub provider: Provider,
    /// The provider's transaction id, if the merchant stored it.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub provider_txn_id: Option<Id>,
    /// Amount the merchant expects to have been paid, minor units.
    pub amount: i64,
    pub currency: Currency,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// A reference support staff search by (customer email, phone, member id).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub customer_ref: Option<Id>,
}

/// Where a refund record comes from: the merchant's mirror, or Paydesk's own refund service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RefundOrigin {
    Mirror,
    Paydesk,
}

/// A refund the merchant (or Paydesk) believes was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LocalRefund {
    /// Merchant refund number = the provider idempotency key (out_request_no / out_refund_no).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub refund_no: Id,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub order_no: Id,
    pub provider: Provider,
    /// Positive amount refunded, minor units.
    pub amount: i64,
    pub currency: Currency,
    pub refunded_at: DateTime<Utc>,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub provider_refund_id: Option<Id>,
    pub origin: RefundOrigin,
}

/// A calendar day of a provider account's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct BillDate(pub NaiveDate);

impl BillDate {
    pub fn parse(s: &str) -> Result<BillDate, String> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(BillDate)
            .map_err(|_| format!("date {s:?} is not a calendar date in the form YYYY-MM-DD"))
    }

    /// The UTC instants [start, end) of this day in `tz`.
    pub fn utc_bounds(&self, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = day_start(self.0, tz);
        let end = day_start(self.0.succ_opt().unwrap_or(self.0), tz);
        (start, end)
    }

    pub fn succ(&self) -> BillDate {
        BillDate(self.0.succ_opt().unwrap_or(self.0))
    }

    pub fn pred(&self) -> BillDate {
        BillDate(self.0.pred_opt().unwrap_or(self.0))
    }

    /// The day `instant` falls on in `tz`.
    pub fn of(instant: DateTime<Utc>, tz: chrono_tz::Tz) -> BillDate {
        BillDate(instant.with_timezone(&tz).date_naive())
    }
}

fn day_start(date: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A DST gap at midnight is resolved to the earliest valid instant after it.
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc()),
    }
}

impl fmt::Display for BillDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        names::assert_round_trip::<Provider>(|s| s.parse().ok());
        names::assert_round_trip::<LineKind>(|s| s.parse().ok());
        names::assert_round_trip::<OrderStatus>(|s| s.parse().ok());
        assert_eq!(Provider::ALL.as_slice(), Provider::VARIANTS);
        for p in Provider::ALL {
            assert_eq!(p.to_string(), p.as_str());
            assert_eq!(serde_json::to_value(p).ok(), Some(p.as_str().into()));
            for w in p.words() {
                assert_eq!(w.to_ascii_uppercase().parse::<Provider>(), Ok(p));
            }
        }
        for k in LineKind::VARIANTS {
            assert_eq!(serde_json::to_value(k).ok(), Some(k.as_str().into()));
        }
        for o in OrderStatus::VARIANTS {
            assert_eq!(o.to_string(), o.as_str());
            assert_eq!(serde_json::to_value(o).ok(), Some(o.as_str().into()));
        }
    }

    #[test]
    fn lenient_parsing_and_messages_stay() {
        assert_eq!(" WeChatPay ".parse::<Provider>(), Ok(Provider::Wechat));
        assert_eq!("Weixin".parse::<Provider>(), Ok(Provider::Wechat));
        assert_eq!(
            " Paypal ".parse::<Provider>(),
            Err("unknown provider \"paypal\" (expected alipay, wechat, stripe or manual)".into())
        );
        assert_eq!(" Payout\t".parse::<LineKind>(), Ok(LineKind::Payout));
        assert_eq!(
            "Bonus".parse::<LineKind>(),
            Err(
                "unknown line kind \"bonus\" (expected payment, refund, fee, adjustment or payout)"
                    .into()
            )
        );
        for (word, status) in [
            ("NOTPAY", OrderStatus::Pending),
            ("Succeeded", OrderStatus::Paid),
            ("canceled", OrderStatus::Closed),
            ("partial_refund", OrderStatus::PartiallyRefunded),
            ("partially_refunded ", OrderStatus::PartiallyRefunded),
        ] {
            assert_eq!(word.parse::<OrderStatus>(), Ok(status), "{word}");
        }
        assert_eq!(
            "Lost".parse::<OrderStatus>(),
            Err("unknown order status \"lost\" (expected pending, paid, closed, partially_refunded or refunded)".into())
        );
    }
}
