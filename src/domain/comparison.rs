//! Comparisons of figures: changes, reported-versus-computed checks, implied
//! values and progress against targets. Exact decimal maths throughout.
//!
//! Rounding rule for displayed percentages: half away from zero ("half up",
//! as the sources round), to at most 2 decimal places, without trailing zeros
//! (7.7022 → 7.7, 100.5 → 100.5, −5.4428 → −5.44). A reported figure is checked
//! at its own precision (7.7 at one decimal, 62.93 at two).

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::indicator::Direction;
use super::series::round_half_up;
use super::value::Qualifier;

/// Decimal places of a displayed computed percentage.
pub const PERCENT_PLACES: u32 = 2;

/// A computed percentage as displayed: half up to 2 places, no trailing zeros.
pub fn display_percent(value: Decimal) -> Decimal {
    round_half_up(value, PERCENT_PLACES).normalize()
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// `(current − previous) / |previous| × 100`, unrounded; None for a zero base.
pub fn percent_change(current: Decimal, previous: Decimal) -> Option<Decimal> {
    if previous.is_zero() {
        return None;
    }
    current
        .checked_sub(previous)?
        .checked_mul(HUNDRED)?
        .checked_div(previous.abs())
}

/// `part / whole × 100`, unrounded; None for a zero whole.
pub fn share(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    part.checked_mul(HUNDRED)?.checked_div(whole)
}

/// Whether a reported figure agrees with the one computed from stored values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The computed value, rounded to the reported precision, agrees.
    Consistent,
    /// It does not: both numbers are shown.
    Inconsistent,
}

/// A reported percentage set against the computed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReportedCheck {
    /// As the source wrote it.
    #[schema(value_type = String)]
    pub reported: Decimal,
    pub reported_qualifier: Qualifier,
    /// The computed value rounded half up to the reported number's decimals.
    #[schema(value_type = String)]
    pub computed: Decimal,
    pub verdict: Verdict,
}

/// Checks `reported` (with its qualifier: "hơn 21,37%" is a lower bound)
/// against the unrounded `computed` value, at the reported precision.
pub fn check_reported(
    computed: Decimal,
    reported: Decimal,
    reported_qualifier: Qualifier,
) -> ReportedCheck {
    let rounded = round_half_up(computed, reported.scale());
    let agrees = match reported_qualifier {
        Qualifier::Exact | Qualifier::Approximate => rounded == reported,
        Qualifier::LowerBound => rounded >= reported,
        Qualifier::UpperBound => rounded <= reported,
    };
    ReportedCheck {
        reported,
        reported_qualifier,
        computed: rounded,
        verdict: if agrees {
            Verdict::Consistent
        } else {
            Verdict::Inconsistent
        },
    }
}

/// The previous value implied by a current value and a reported change:
/// `current / (1 + pct / 100)`, rounded half up to one more decimal than the
/// current value shows (27701 at +7.7 % implies 25720.5). None if the change is −100 %.
pub fn implied_previous(current: Decimal, reported_pct: Decimal) -> Option<Decimal> {
    let factor = Decimal::ONE.checked_add(reported_pct.checked_div(HUNDRED)?)?;
    if factor.is_zero() {
        return None;
    }
    Some(round_half_up(
        current.checked_div(factor)?,
        current.scale() + 1,
    ))
}

/// How a committee stands against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatus {
    /// The whole period is reported and the target is reached exactly.
    Met,
    /// Better than the target (for the whole period, or already for a part of it).
    Exceeded,
    /// Part of the period: at or better than the pro-rata expectation.
    OnTrack,
    /// Worse than the target or the pro-rata expectation.
    Behind,
}

/// Progress of `achieved` against `target`, judged against `expected` (the
/// target itself for the whole period; its pro-rata share for a part of it).
pub struct Progress {
    /// achieved / expected × 100 (expected / achieved × 100 when lower is better), rounded.
    pub percent_of_expected: Option<Decimal>,
    /// achieved / target × 100 (target / achieved × 100 when lower is better), rounded.
    pub percent_of_target: Option<Decimal>,
    pub status: ProgressStatus,
}

/// Judges progress. `whole_period` is false when `expected` is a pro-rata
/// share of a longer target. For `lower_is_better` (an NPL ratio), smaller is better.
pub fn progress(
    achieved: Decimal,
    target: Decimal,
    expected: Decimal,
    whole_period: bool,
    direction: Direction,
) -> Progress {
    let better = |a: Decimal, b: Decimal| match direction {
        Direction::LowerIsBetter => a < b,
        Direction::HigherIsBetter | Direction::Neutral => a > b,
    };
    let percent_of = |goal: Decimal| {
        match direction {
            Direction::LowerIsBetter => share(goal, achieved),
            Direction::HigherIsBetter | Direction::Neutral => share(achieved, goal),
        }
        .map(display_percent)
    };
    let status = if whole_period {
        if achieved == target {
            ProgressStatus::Met
        } else if better(achieved, target) {
            ProgressStatus::Exceeded
        } else {
            ProgressStatus::Behind
        }
    } else if better(achieved, target) || achieved == target {
        ProgressStatus::Exceeded
    } else if better(achieved, expected) || achieved == expected {
        ProgressStatus::OnTrack
    } else {
        ProgressStatus::Behind
    };
    Progress {
        percent_of_expected: percent_of(expected),
        percent_of_target: percent_of(target),
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn percent_change_and_share_are_exact_until_displayed() {
        // (110 − 100) / 100 × 100 = 10
        assert_eq!(percent_change(d("110"), d("100")), Some(d("10")));
        // (6619 − 7273.6) / 7273.6 × 100 = −8.9996… → −9.00 at 2 places
        let change = percent_change(d("6619"), d("7273.6")).unwrap();
        assert_eq!(round_half_up(change, 2), d("-9.00"));
        assert_eq!(percent_change(d("5"), d("0")), None);
        // A fall from a negative base is measured against its magnitude.
        assert_eq!(percent_change(d("-20"), d("-10")), Some(d("-100")));
        // 56 / 727 = 7.7028…%
        assert_eq!(
            round_half_up(share(d("56"), d("727")).unwrap(), 2),
            d("7.70")
        );
    }

    #[test]
    fn reported_figures_are_checked_at_their_own_precision() {
        // 56 of 727 is 7.70 %, the source says 7.5 %.
        let check = check_reported(
            share(d("56"), d("727")).unwrap(),
            d("7.5"),
            Qualifier::Exact,
        );
        assert_eq!(
            (check.computed, check.verdict),
            (d("7.7"), Verdict::Inconsistent)
        );
        // Loans 37,952 of deposits 62,029 is 61.18 %, the source says 62.93 %.
        let check = check_reported(
            share(d("37952"), d("62029")).unwrap(),
            d("62.93"),
            Qualifier::Exact,
        );
        assert_eq!(
            (check.computed, check.verdict),
            (d("61.18"), Verdict::Inconsistent)
        );
        // 107.7 against 100 rounds to the reported 7.7 at one decimal.
        let check = check_reported(
            percent_change(d("107.66"), d("100")).unwrap(),
            d("7.7"),
            Qualifier::Exact,
        );
        assert_eq!(check.verdict, Verdict::Consistent);
        // "tăng hơn 21,37%": 21.5 % is more than 21.37 %, 21.2 % is not.
        assert_eq!(
            check_reported(d("21.5"), d("21.37"), Qualifier::LowerBound).verdict,
            Verdict::Consistent
        );
        assert_eq!(
            check_reported(d("21.2"), d("21.37"), Qualifier::LowerBound).verdict,
            Verdict::Inconsistent
        );
    }

    #[test]
    fn implied_previous_values_show_one_more_decimal_than_the_current() {
        // 27701 / 1.077 = 25720.519…
        assert_eq!(implied_previous(d("27701"), d("7.7")), Some(d("25720.5")));
        // 6619 / 0.91 = 7273.626…
        assert_eq!(implied_previous(d("6619"), d("-9")), Some(d("7273.6")));
        // 975.9 / 1.068 = 913.764…
        assert_eq!(implied_previous(d("975.9"), d("6.8")), Some(d("913.76")));
        assert_eq!(implied_previous(d("5"), d("-100")), None);
    }

    #[test]
    fn progress_is_direction_aware_and_pro_rata_for_parts_of_a_period() {
        // 201 new members against 200: 100.5 %, exceeded.
        let p = progress(
            d("201"),
            d("200"),
            d("200"),
            true,
            Direction::HigherIsBetter,
        );
        assert_eq!(
            (p.percent_of_target, p.status),
            (Some(d("100.5")), ProgressStatus::Exceeded)
        );
        let p = progress(
            d("200"),
            d("200"),
            d("200"),
            true,
            Direction::HigherIsBetter,
        );
        assert_eq!(p.status, ProgressStatus::Met);
        // A first quarter judged against a quarter of an annual plan of 1000.
        let p = progress(
            d("260"),
            d("1000"),
            d("250"),
            false,
            Direction::HigherIsBetter,
        );
        // 260 / 250 = 104 % of what the quarter should bring, 26 % of the year's plan.
        assert_eq!(
            (p.percent_of_expected, p.percent_of_target, p.status),
            (Some(d("104")), Some(d("26")), ProgressStatus::OnTrack)
        );
        // The case: 1111.1 of 6000 in a first quarter, 1500 expected:
        // 1111.1 / 1500 = 74.0733… → 74.07; 1111.1 / 6000 = 18.5183… → 18.52.
        let p = progress(
            d("1111.1"),
            d("6000"),
            d("1500"),
            false,
            Direction::HigherIsBetter,
        );
        assert_eq!(
            (p.percent_of_expected, p.percent_of_target, p.status),
            (Some(d("74.07")), Some(d("18.52")), ProgressStatus::Behind)
        );
        let p = progress(
            d("240"),
            d("1000"),
            d("250"),
            false,
            Direction::HigherIsBetter,
        );
        assert_eq!(p.status, ProgressStatus::Behind);
        // NPL ratio 0.05 % against a ceiling of 2 %: lower is better, so exceeded (4000 %).
        let p = progress(d("0.05"), d("2"), d("2"), true, Direction::LowerIsBetter);
        assert_eq!(
            (p.percent_of_target, p.status),
            (Some(d("4000")), ProgressStatus::Exceeded)
        );
        let p = progress(d("3"), d("2"), d("2"), true, Direction::LowerIsBetter);
        assert_eq!(p.status, ProgressStatus::Behind);
    }
}
