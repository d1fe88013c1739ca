//! Exact values and how a source qualified them.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

text_enum! {
    /// SDMX `OBS_STATUS` of a figure.
    pub enum ObservationStatus as "status" {
        /// Normal value.
        Normal = "A",
        /// Estimated ("ước đạt", "ước tính").
        Estimated = "E",
        /// Provisional: may be revised.
        Provisional = "P",
        /// Forecast.
        Forecast = "F",
    }
}

text_enum! {
    /// How exactly the source stated a number.
    pub enum Qualifier as "qualifier" {
        /// The number as stated.
        Exact = "exact",
        /// "trên", "hơn": the true value is more than the number.
        LowerBound = "lower_bound",
        /// "dưới": the true value is less than the number.
        UpperBound = "upper_bound",
        /// "xấp xỉ", "khoảng": about the number.
        Approximate = "approximate",
    }
}

/// Why a value is not an exact decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an exact decimal number: {reason}")]
pub struct InvalidDecimal {
    pub input: String,
    pub reason: String,
}

/// Longest decimal text we try to parse; anything longer cannot fit in 28 digits.
const MAX_DECIMAL_TEXT: usize = 64;

/// Parses a decimal written with `.` as the decimal point (`27701`, `975.9`,
/// `-0.1`, `1.5e3`). Never goes through binary floating point.
pub fn parse_decimal(input: &str) -> Result<Decimal, InvalidDecimal> {
    let text = input.trim();
    let fail = |reason: &str| InvalidDecimal {
        input: input.chars().take(MAX_DECIMAL_TEXT).collect(),
        reason: reason.into(),
    };
    if text.is_empty() {
        return Err(fail("it is empty"));
    }
    if text.len() > MAX_DECIMAL_TEXT {
        return Err(fail("it is too long (at most 28 significant digits)"));
    }
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let well_formed = !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.matches('.').count() <= 1
        && mantissa.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(fail(
            "use digits with '.' as the decimal point and no thousands separators",
        ));
    }
    let parsed = match exponent {
        None => Decimal::from_str_exact(text.strip_prefix('+').unwrap_or(text)),
        Some(_) => Decimal::from_scientific(text.strip_prefix('+').unwrap_or(text)),
    };
    parsed.map_err(|_| fail("it has more than 28 significant digits or is out of range"))
}

/// A decimal read from JSON exactly, whether sent as a number or a string.
///
/// With serde_json's `arbitrary_precision`, a JSON number reaches us as its
/// original text, so `12345678901234567.891` keeps every digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ExactDecimal(pub Decimal);

impl ExactDecimal {
    pub fn into_inner(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for ExactDecimal {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl FromStr for ExactDecimal {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s).map(Self)
    }
}

impl fmt::Display for ExactDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for ExactDecimal {
    /// Reads the value's JSON text as written: a number keeps every digit,
    /// and nothing but a number or a string is a decimal.
    ///
    /// Not a visitor: with serde_json's `arbitrary_precision` a number
    /// reaches a visitor as a one-entry map under a private key, and an
    /// object a client writes with that key (`{"$serde_json::private::Number":
    /// "1"}`) would pass for a number.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => {
                let string: String = serde_json::from_str(text).map_err(de::Error::custom)?;
                parse_decimal(&string)
                    .map(ExactDecimal)
                    .map_err(de::Error::custom)
            }
            Some(b'-' | b'0'..=b'9') => parse_decimal(text)
                .map(ExactDecimal)
                .map_err(de::Error::custom),
            _ => Err(de::Error::custom(format!(
                "expected a decimal number, as a JSON number or a string such as \"975.9\", not {}",
                match text.as_bytes().first() {
                    Some(b'{') => "an object",
                    Some(b'[') => "an array",
                    Some(b't' | b'f') => "a boolean",
                    _ => "null",
                }
            ))),
        }
    }
}

/// Power of ten a stored value is expressed in: 9 for "tỷ", 6 for "triệu".
pub const MAX_SCALE: i32 = 15;

/// Converts `value` given at power of ten `from` to power of ten `to`, exactly.
/// Returns `None` if the result does not fit in a decimal.
pub fn rescale(value: Decimal, from: i32, to: i32) -> Option<Decimal> {
    let shift = from - to;
    if shift == 0 {
        return Some(value);
    }
    let factor = Decimal::from_i128_with_scale(10i128.checked_pow(shift.unsigned_abs())?, 0);
    let result = if shift > 0 {
        value.checked_mul(factor)?
    } else {
        value.checked_div(factor)?
    };
    // 27701 tỷ is 27701000 triệu, not 27701000.000.
    Some(result.normalize())
}

/// In the OpenAPI document a decimal on input is a JSON number or a string of
/// plain decimal notation. (The server reads a little more than the string
/// pattern states: an exponent, a leading `+`, up to 28 significant digits;
/// the pattern is the form clients should send.)
impl utoipa::PartialSchema for ExactDecimal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(DECIMAL_PATTERN))
                    .examples(["27701", "975.9", "-0.35"]),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some(
                "An exact decimal: a JSON number (read digit for digit, never through a float) or a string",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ExactDecimal {
    fn name() -> std::borrow::Cow<'static, str> {
        "DecimalInput".into()
    }
}

/// Plain decimal notation, at most 28 digits: what a client should send as a string.
pub const DECIMAL_PATTERN: &str = "^-?[0-9]{1,16}(\\.[0-9]{1,12})?$";

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(json: &str) -> Result<String, String> {
        serde_json::from_str::<ExactDecimal>(json)
            .map(|d| d.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn json_numbers_and_strings_keep_every_digit() {
        for (json, expected) in [
            ("12345678901234567.891", "12345678901234567.891"),
            ("\"12345678901234567.891\"", "12345678901234567.891"),
            ("975.9", "975.9"),
            ("\"975.9\"", "975.9"),
            ("0.05", "0.05"),
            ("14.644", "14.644"),
            ("27701", "27701"),
            ("-0.1", "-0.1"),
            ("\"+7.7\"", "7.7"),
            ("1.5e3", "1500"),
        ] {
            assert_eq!(exact(json).as_deref(), Ok(expected), "{json}");
            // The same through a serde_json::Value (the seed loader's path).
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let through_value = serde_json::from_value::<ExactDecimal>(value)
                .map(|d| d.to_string())
                .map_err(|e| e.to_string());
            assert_eq!(through_value.as_deref(), Ok(expected), "{json} as a Value");
        }
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for json in [
            "\"27.701,5\"",
            "\"1,000\"",
            "\"abc\"",
            "\"\"",
            "true",
            "null",
            "[1]",
            "\"NaN\"",
            "\"1.2.3\"",
            // What serde_json's arbitrary_precision makes of a number inside,
            // written by a client: an object, not a number.
            r#"{"$serde_json::private::Number":"1"}"#,
            r#"{"$serde_json::private::Number":"1.5"}"#,
            "{}",
        ] {
            assert!(exact(json).is_err(), "{json} should be rejected");
        }
        let too_many_digits = format!("\"{}\"", "9".repeat(40));
        assert!(exact(&too_many_digits)
            .unwrap_err()
            .contains("28 significant digits"));
    }

    #[test]
    fn rescaling_is_exact() {
        let d = |s: &str| parse_decimal(s).unwrap();
        assert_eq!(rescale(d("27701"), 9, 6).unwrap().to_string(), "27701000");
        assert_eq!(rescale(d("975900"), 6, 9).unwrap().to_string(), "975.9");
        assert_eq!(rescale(d("11.09"), 6, 6).unwrap().to_string(), "11.09");
    }

    #[test]
    fn vocabularies_round_trip_through_text() {
        for status in ObservationStatus::ALL {
            assert_eq!(
                status.as_str().parse::<ObservationStatus>().unwrap(),
                *status
            );
        }
        let error = "X".parse::<Qualifier>().unwrap_err();
        assert!(error.to_string().contains("lower_bound"));
    }
}
