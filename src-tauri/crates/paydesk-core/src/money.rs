//! Money: integer minor units plus an ISO 4217 currency. No floats anywhere.
//!
//! Provider files write amounts as decimal strings ("9.90", "-35.80", "1,234.50",
//! "`0.01000", "0.01\t"). [`parse_minor`] turns such a string into minor units exactly,
//! or says precisely why it cannot.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency that Paydesk knows the minor-unit exponent of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies with their minor-unit exponents (ISO 4217; Stripe's zero-decimal list agrees).
const KNOWN: &[(&str, u8)] = &[
    ("CNY", 2),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("MOP", 2),
    ("TWD", 2),
    ("SGD", 2),
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("NZD", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("MYR", 2),
    ("THB", 2),
    ("INR", 2),
    ("MXN", 2),
    ("BRL", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("VND", 0),
    ("CLP", 0),
    ("ISK", 0),
    ("BHD", 3),
    ("KWD", 3),
    ("JOD", 3),
    ("OMR", 3),
];

impl Currency {
    pub const CNY: Currency = Currency {
        code: *b"CNY",
        exponent: 2,
    };
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        exponent: 0,
    };

    /// Parses a currency code, case-insensitively ("cny", "CNY").
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        // Called for every statement line and mirror row: no allocation.
        let trimmed = code.trim().as_bytes();
        let upper = match trimmed {
            [a, b, c] => [
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ],
            _ => return Err(MoneyError::UnknownCurrency(code.trim().to_string())),
        };
        KNOWN
            .iter()
            .find(|(c, _)| c.as_bytes() == upper)
            .map(|(c, e)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    exponent: *e,
                }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.trim().to_string()))
    }

    pub fn code(&self) -> &str {
        // The code bytes always come from KNOWN, which is ASCII.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Number of decimal places of the minor unit (CNY 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Formats minor units as a plain decimal string ("-35.80", "3000").
    pub fn format_minor(&self, minor: i64) -> String {
        format_scaled(minor, u32::from(self.exponent))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

/// How a file or a database writes amounts: decimal major units ("12.34") or integer minor
/// units ("1234"). Shared by the manual statement mapping and the order mirror mapping, in
/// configuration as `"major"` / `"minor"`. No `Default`: each mapping states its own (manual
/// statements: major, the order mirror: minor).
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
pub enum AmountUnit {
    /// Decimal major units ("12.34"), text or NUMERIC; parsed exactly.
    Major,
    /// Integer minor units (fen, cents).
    Minor,
}

impl AmountUnit {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// Minor units from an integer in this unit of `currency`, as [`AmountUnit::parse`]
    /// reads its decimal text; `None` when it does not fit (the text path then explains).
    pub fn from_integer(&self, value: i64, currency: Currency) -> Option<i64> {
        if value == i64::MIN {
            // Its digits alone do not fit an i64, so the text is refused as too large.
            return None;
        }
        match self {
            AmountUnit::Major => 10i64
                .checked_pow(u32::from(currency.exponent))
                .and_then(|scale| value.checked_mul(scale)),
            AmountUnit::Minor => Some(value),
        }
    }

    /// Minor units from `text` written in this unit of `currency`.
    pub fn parse(&self, text: &str, currency: Currency) -> Result<i64, MoneyError> {
        match self {
            AmountUnit::Major => parse_minor(text, currency),
            AmountUnit::Minor => parse_scaled(text, 0),
        }
    }
}

/// An amount in minor units of a currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a provider amount string in major units ("35.80" CNY → 3580).
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        Ok(Money {
            minor: parse_minor(text, currency)?,
            currency,
        })
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Adds two amounts of the same currency; refuses to mix currencies or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMix(self.currency, other.currency));
        }
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(Money::new(
            other.minor.checked_neg().ok_or(MoneyError::Overflow)?,
            other.currency,
        ))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.currency.format_minor(self.minor),
            self.currency
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a decimal number")]
    NotANumber(String),
    #[error("amount {0:?} has misplaced thousands separators")]
    BadGrouping(String),
    #[error("amount {text:?} has {given} decimal places but at most {allowed} are allowed here")]
    TooPrecise {
        text: String,
        given: usize,
        allowed: u32,
    },
    #[error("amount {0:?} is too large")]
    TooLarge(String),
    #[error("amount arithmetic overflowed")]
    Overflow,
    #[error("cannot combine amounts in {0} and {1}")]
    CurrencyMix(Currency, Currency),
}

/// Parses a decimal amount in major units into minor units of `currency`.
///
/// Accepts a leading `-` or `+`, surrounding whitespace, tabs and backticks (WeChat prefixes
/// every cell with one, Alipay pads with tabs), thousands separators in correct groups of
/// three, and trailing zero decimals beyond the currency exponent ("0.01000" CNY is exactly 1).
/// Rejects anything ambiguous: "1,23", "1.2.3", "12.345" CNY, "1e3", "", "--1".
pub fn parse_minor(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    parse_scaled(text, u32::from(currency.exponent))
}

/// Parses a decimal string into an integer scaled by 10^scale, exactly.
/// Digits beyond `scale` must all be zero.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, MoneyError> {
    match parse_plain_scaled(text.as_bytes(), scale) {
        Some(value) => Ok(value),
        None => parse_scaled_general(text, scale),
    }
}

/// [`parse_scaled`] of the shape nearly every amount has (`-?digits(.digits)?`, at most 18
/// digits, no padding, no digit beyond `scale` but zeros), in one pass without allocating;
/// `None` for anything else, which the general parser then accepts or explains.
fn parse_plain_scaled(b: &[u8], scale: u32) -> Option<i64> {
    let (negative, body) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let mut value: i64 = 0;
    let mut digits = 0usize;
    let mut frac: Option<u32> = None;
    for &c in body {
        if c.is_ascii_digit() {
            // 18 digits always fit an i64: no overflow check needed below.
            digits += 1;
            if digits > 18 {
                return None;
            }
        }
        match (c, frac) {
            (b'0'..=b'9', None) => value = value * 10 + i64::from(c - b'0'),
            (b'0'..=b'9', Some(n)) if n < scale => {
                value = value * 10 + i64::from(c - b'0');
                frac = Some(n + 1);
            }
            (b'0', Some(n)) => frac = Some(n + 1),
            (b'.', None) if digits > 0 => frac = Some(0),
            _ => return None,
        }
    }
    if digits == 0 || frac == Some(0) {
        return None;
    }
    // Digits written past `scale` are zeros (checked above); fill the rest of the scale.
    let written = frac.unwrap_or(0).min(scale);
    for _ in written..scale {
        value = value.checked_mul(10)?;
    }
    Some(if negative { -value } else { value })
}

fn parse_scaled_general(text: &str, scale: u32) -> Result<i64, MoneyError> {
    let cleaned = clean_amount_text(text);
    if cleaned.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (negative, body) = match cleaned.as_bytes()[0] {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, cleaned),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int_part.is_empty() && frac_part.is_none_or(|f| f.is_empty()) {
        return Err(MoneyError::NotANumber(text.trim().to_string()));
    }
    let int_digits = strip_grouping(int_part, text)?;
    let frac_digits = frac_part.unwrap_or("");
    if !frac_digits.bytes().all(|b| b.is_ascii_digit()) || frac_part == Some("") {
        return Err(MoneyError::NotANumber(text.trim().to_string()));
    }
    let significant_frac = frac_digits.trim_end_matches('0');
    if significant_frac.len() > scale as usize {
        return Err(MoneyError::TooPrecise {
            text: text.trim().to_string(),
            given: significant_frac.len(),
            allowed: scale,
        });
    }
    let too_large = || MoneyError::TooLarge(text.trim().to_string());
    let mut value: i64 = 0;
    for b in int_digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    for i in 0..scale as usize {
        let digit = significant_frac.as_bytes().get(i).map_or(0, |b| b - b'0');
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit)))
            .ok_or_else(too_large)?;
    }
    Ok(if negative { -value } else { value })
}

/// Strips the padding providers put around amounts: whitespace, tabs, backticks, quotes.
fn clean_amount_text(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '`' || c == '"' || c == '\'')
}

/// Removes thousands separators, checking that they sit in groups of three.
fn strip_grouping<'a>(
    int_part: &'a str,
    original: &str,
) -> Result<std::borrow::Cow<'a, str>, MoneyError> {
    if int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(std::borrow::Cow::Borrowed(int_part));
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    let well_formed = groups.len() > 1
        && !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        if int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
            return Err(MoneyError::BadGrouping(original.trim().to_string()));
        }
        return Err(MoneyError::NotANumber(original.trim().to_string()));
    }
    Ok(std::borrow::Cow::Owned(groups.concat()))
}

/// Formats an integer scaled by 10^scale as a decimal string.
pub fn format_scaled(value: i64, scale: u32) -> String {
    let negative = value < 0;
    let abs = value.unsigned_abs();
    if scale == 0 {
        return format!("{}{}", if negative { "-" } else { "" }, abs);
    }
    let divisor = 10u64.pow(scale);
    format!(
        "{}{}.{:0width$}",
        if negative { "-" } else { "" },
        abs / divisor,
        abs % divisor,
        width = scale as usize
    )
}

/// [`format_scaled`] for sums wider than `i64` (totals that do not fit, named in errors).
pub fn format_scaled_wide(value: i128, scale: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    match 10u128.checked_pow(scale) {
        Some(divisor) if scale > 0 => format!(
            "{sign}{}.{:0width$}",
            abs / divisor,
            abs % divisor,
            width = scale as usize
        ),
        _ => format!("{sign}{abs}"),
    }
}

/// Fees are kept at a finer precision than the currency allows: WeChat writes fees with five
/// decimals (`0.00600` yuan = 0.6 fen). `FEE_EXTRA_DIGITS` extra digits are kept, so a fee is
/// stored in thousandths of a minor unit and rounded only when shown or summed into money.
pub const FEE_EXTRA_DIGITS: u32 = 3;

/// Parses a fee into thousandths of a minor unit (CNY "0.00600" → 600).
pub fn parse_fee_milli(text: &str, currency: Currency) -> Result<i64, MoneyError> {
    parse_scaled(text, u32::from(currency.exponent) + FEE_EXTRA_DIGITS)
}

/// Rounds thousandths of a minor unit to minor units, half away from zero.
pub fn milli_to_minor_rounded(milli: i64) -> i64 {
    let q = milli / 1000;
    let r = milli % 1000;
    if r >= 500 {
        q + 1
    } else if r <= -500 {
        q - 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_unit_names_round_trip() {
        use strum::VariantArray;
        for u in AmountUnit::VARIANTS {
            let json = serde_json::to_value(u).ok();
            assert_eq!(json, Some(u.as_str().into()));
            assert_eq!(u.to_string(), u.as_str());
            let back: Option<AmountUnit> = json.and_then(|j| serde_json::from_value(j).ok());
            assert_eq!(back, Some(*u));
        }
        assert_eq!(AmountUnit::Major.as_str(), "major");
        assert_eq!(AmountUnit::Minor.as_str(), "minor");
        assert_eq!(AmountUnit::Major.parse("12.34", Currency::CNY), Ok(1234));
        assert_eq!(AmountUnit::Minor.parse("1234", Currency::CNY), Ok(1234));
    }

    #[test]
    fn wide_sums_format_exactly() {
        let two_max = 2 * i128::from(i64::MAX);
        assert_eq!(format_scaled_wide(two_max, 2), "184467440737095516.14");
        assert_eq!(
            format_scaled_wide(-two_max - 2, 2),
            "-184467440737095516.16"
        );
        assert_eq!(
            format_scaled_wide(i128::from(i64::MIN), 0),
            "-9223372036854775808"
        );
        assert_eq!(format_scaled_wide(-5, 3), "-0.005");
        // Agrees with format_scaled wherever both apply.
        for v in [0, 1, -1, 990, -3580, i64::MAX, i64::MIN] {
            assert_eq!(format_scaled_wide(i128::from(v), 2), format_scaled(v, 2));
        }
    }

    fn cny(s: &str) -> Result<i64, MoneyError> {
        parse_minor(s, Currency::CNY)
    }

    #[test]
    fn parses_provider_amounts_exactly() {
        assert_eq!(cny("9.90"), Ok(990));
        assert_eq!(cny("-35.80"), Ok(-3580));
        assert_eq!(cny("1,234.50"), Ok(123_450));
        assert_eq!(cny("1,234,567.01"), Ok(123_456_701));
        assert_eq!(cny("`0.01"), Ok(1));
        assert_eq!(cny("0.01\t"), Ok(1));
        assert_eq!(cny(" +3 "), Ok(300));
        assert_eq!(cny("0.01000"), Ok(1));
        assert_eq!(cny(".5"), Ok(50));
        assert_eq!(cny("45.0"), Ok(4500));
        assert_eq!(parse_minor("3000", Currency::JPY), Ok(3000));
        assert_eq!(parse_minor("3000.00", Currency::JPY), Ok(3000));
    }

    #[test]
    fn rejects_ambiguous_amounts() {
        assert!(matches!(cny("1,23"), Err(MoneyError::BadGrouping(_))));
        assert!(matches!(cny("1234,567"), Err(MoneyError::BadGrouping(_))));
        assert!(matches!(cny("12.345"), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(
            parse_minor("1.5", Currency::JPY),
            Err(MoneyError::TooPrecise { .. })
        ));
        for bad in [
            "1.2.3", "1e3", "--1", "abc", "1.", "-", "1 000", "0x10", "1.-2", "٣",
        ] {
            assert!(cny(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(cny(""), Err(MoneyError::Empty));
        assert_eq!(cny("`"), Err(MoneyError::Empty));
        assert!(matches!(
            cny("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn fees_keep_sub_cent_precision() {
        assert_eq!(parse_fee_milli("0.00600", Currency::CNY), Ok(600));
        assert_eq!(parse_fee_milli("0.01000", Currency::CNY), Ok(1000));
        assert_eq!(milli_to_minor_rounded(600), 1);
        assert_eq!(milli_to_minor_rounded(499), 0);
        assert_eq!(milli_to_minor_rounded(-600), -1);
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(Currency::CNY.format_minor(-3580), "-35.80");
        assert_eq!(Currency::CNY.format_minor(5), "0.05");
        assert_eq!(Currency::JPY.format_minor(3000), "3000");
        assert_eq!(Money::new(-5, Currency::CNY).to_string(), "-0.05 CNY");
    }

    #[test]
    fn integers_read_as_their_decimal_text() {
        for unit in [AmountUnit::Major, AmountUnit::Minor] {
            for currency in [
                Currency::CNY,
                Currency::JPY,
                Currency::parse("KWD").expect("KWD"),
            ] {
                for v in [
                    0,
                    1,
                    -7,
                    990,
                    123_456_789,
                    i64::MAX / 1000,
                    i64::MAX,
                    i64::MIN,
                ] {
                    let text = unit.parse(&v.to_string(), currency).ok();
                    assert_eq!(
                        unit.from_integer(v, currency),
                        text,
                        "{v} {unit:?} {currency}"
                    );
                }
            }
        }
    }

    /// The one-pass parser agrees with the general one on every short string of the
    /// characters amounts are made of, at every scale providers use.
    #[test]
    fn plain_amounts_parse_as_the_general_parser_parses_them() {
        let alphabet = ["0", "1", "9", "-", ".", ",", " ", "+"];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all.extend([
            "999999999999999999".to_string(),
            "9999999999999999999".to_string(),
            "92233720368547758.07".to_string(),
            "-922337203685477.5807".to_string(),
            "123456789012345678.00".to_string(),
            "0.000000".to_string(),
        ]);
        let mut fast = 0;
        for text in &all {
            for scale in [0, 2, 3, 5] {
                let general = parse_scaled_general(text, scale);
                if let Some(v) = parse_plain_scaled(text.as_bytes(), scale) {
                    fast += 1;
                    assert_eq!(Ok(v), general, "{text:?} at scale {scale}");
                }
                assert_eq!(
                    parse_scaled(text, scale),
                    general,
                    "{text:?} at scale {scale}"
                );
            }
        }
        assert!(
            fast > 10_000,
            "the one-pass parser took only {fast} strings"
        );
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::parse("usd"), Ok(Currency::USD));
        assert_eq!(Currency::parse("jpy").map(|c| c.exponent()), Ok(0));
        assert!(Currency::parse("XYZ").is_err());
        assert_eq!(Currency::parse(" cNy\t"), Ok(Currency::CNY));
        for bad in ["", "CN", "CNYY", "人民币", "C\u{0}Y", "ÇNY"] {
            assert_eq!(
                Currency::parse(bad),
                Err(MoneyError::UnknownCurrency(bad.trim().to_string())),
                "{bad:?}"
            );
        }
        assert!(Money::new(1, Currency::CNY)
            .checked_add(Money::new(1, Currency::USD))
            .is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = cny(&s);
        }

        #[test]
        fn format_then_parse_is_identity(v in -1_000_000_000_000i64..1_000_000_000_000i64) {
            proptest::prop_assert_eq!(cny(&Currency::CNY.format_minor(v)), Ok(v));
        }
    }
}
