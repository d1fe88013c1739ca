//! Whether a figure is plausible next to the committee's previous figure of
//! the indicator: DHIS2's outlier check, reduced to one ratio. A jump of more
//! than a factor (default 100) up or down is a warning, not an error: real
//! figures do jump (a first year of a new programme), a 1000× slip of a
//! decimal separator must not pass unnoticed.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// The factor when `CHITIEU_PLAUSIBILITY_FACTOR` is not set.
pub const DEFAULT_FACTOR: u32 = 100;

/// How far a figure may move from the previous one, as a factor (≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Factor(u32);

impl Factor {
    /// A factor of at least 2: below that every ordinary change would warn.
    pub fn new(factor: u32) -> Result<Self, String> {
        if factor < 2 {
            return Err(format!(
                "the plausibility factor is at least 2, got {factor}"
            ));
        }
        Ok(Self(factor))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Factor {
    fn default() -> Self {
        Self(DEFAULT_FACTOR)
    }
}

/// The ratio `value / previous` when it lies beyond `factor` either way
/// (above `factor` or below `1 / factor`); `None` when the figure is plausible
/// or cannot be compared.
///
/// Compared only when both figures are non-zero and of the same sign: a zero
/// has no ratio (a first zero, or a zero after figures, is a real outcome, not
/// a slipped separator), and a change of sign (a loss after a profit) is no
/// order of magnitude.
pub fn implausible_ratio(value: Decimal, previous: Decimal, factor: Factor) -> Option<Decimal> {
    if value.is_zero()
        || previous.is_zero()
        || value.is_sign_negative() != previous.is_sign_negative()
    {
        return None;
    }
    let (value, previous) = (value.abs(), previous.abs());
    let factor = Decimal::from(factor.0);
    // Compared by multiplication, exact; only the reported ratio is divided.
    // A product that overflows exceeds every decimal: nothing is beyond it.
    let above = previous
        .checked_mul(factor)
        .is_some_and(|limit| value > limit);
    let below = value.checked_mul(factor).is_some_and(|v| v < previous);
    let beyond = above || below;
    beyond.then(|| {
        let ratio = value.checked_div(previous).unwrap_or(Decimal::MAX);
        ratio.round_sf(6).unwrap_or(ratio).normalize()
    })
}

/// The stored figure a new one was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PreviousFigure {
    /// Its id (`GET /api/v1/observations/{id}`).
    pub id: i64,
    /// Its period, the latest stored before the new figure's (same frequency and breakdown).
    pub period: String,
    #[schema(value_type = String, example = "27.701")]
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
}

/// A figure written (or, with `strict=true`, refused) although it is far from
/// the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlausibilityWarning {
    /// `implausible_change`.
    pub code: String,
    pub message: String,
    pub previous: PreviousFigure,
    /// New value divided by the previous one (6 significant digits).
    #[schema(value_type = String, example = "1000")]
    #[serde(with = "rust_decimal::serde::str")]
    pub ratio: Decimal,
}

pub const IMPLAUSIBLE_CHANGE: &str = "implausible_change";

/// The warning for `value` next to `previous`, if it is one.
pub fn check_change(
    value: Decimal,
    previous: PreviousFigure,
    factor: Factor,
) -> Option<PlausibilityWarning> {
    let ratio = implausible_ratio(value, previous.value, factor)?;
    Some(PlausibilityWarning {
        code: IMPLAUSIBLE_CHANGE.into(),
        message: format!(
            "{value} is {ratio} times the previous figure {} of {} (more than {}× up or down): a slipped decimal separator or scale?",
            previous.value,
            previous.period,
            factor.get()
        ),
        previous,
        ratio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_thousandfold_slip_either_way_is_implausible() {
        let f = Factor::default();
        assert_eq!(
            implausible_ratio(d("27701"), d("27.701"), f),
            Some(d("1000"))
        );
        assert_eq!(
            implausible_ratio(d("0.027701"), d("27.701"), f),
            Some(d("0.001"))
        );
        assert_eq!(implausible_ratio(d("-5000"), d("-5"), f), Some(d("1000")));
    }

    #[test]
    fn up_to_the_factor_is_plausible() {
        let f = Factor::default();
        assert_eq!(implausible_ratio(d("100"), d("1"), f), None);
        assert_eq!(implausible_ratio(d("0.01"), d("1"), f), None);
        assert!(implausible_ratio(d("100.0001"), d("1"), f).is_some());
        assert!(implausible_ratio(d("0.0099"), d("1"), f).is_some());
    }

    #[test]
    fn zeros_and_sign_changes_are_not_compared() {
        let f = Factor::default();
        assert_eq!(implausible_ratio(d("0"), d("5000"), f), None);
        assert_eq!(implausible_ratio(d("5000"), d("0"), f), None);
        assert_eq!(implausible_ratio(d("-5000"), d("5"), f), None);
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let f = Factor::default();
        assert_eq!(implausible_ratio(Decimal::MAX, Decimal::MAX, f), None);
        assert!(implausible_ratio(Decimal::MAX, d("1"), f).is_some());
    }

    #[test]
    fn factor_is_at_least_two() {
        assert!(Factor::new(1).is_err());
        assert_eq!(Factor::new(1000).unwrap().get(), 1000);
    }
}
