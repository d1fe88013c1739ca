//! Time series of one indicator: the periods of a range, and the FRED-style
//! transforms (`lin`, `chg`, `ch1`, `pch`, `pc1`) of the values the resolver
//! (`domain::resolve`) gives for them; and how qualifiers and statuses combine.
//!
//! All maths is exact decimal maths with checked operations: an overflow or a
//! division by zero gives a missing value with a reason, never a panic and
//! never a rounded binary float.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::indicator::MeasureKind;
use super::period::{Frequency, PeriodCode};
use super::resolve::{percent_of, Resolved};
use super::value::{ObservationStatus, Qualifier};

/// Most periods [`periods_in_range`] returns: fifty years of months.
pub const MAX_PERIODS: usize = 600;

/// Decimal places of a percent change (`pch`, `pc1`).
pub const PERCENT_CHANGE_PLACES: u32 = 2;

/// Why a series cannot be built as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// Days do not follow each other in a regular sequence of reporting
    /// periods, so they cannot be listed or aggregated to.
    #[error(
        "{0} periods cannot be listed or aggregated to: use annual, semi_annual, quarterly, \
         monthly or year_to_date"
    )]
    FrequencyNotRegular(Frequency),
    /// A year-to-date series repeats one span each year, named by its start.
    #[error(
        "a year_to_date series starts at a year-to-date period (e.g. 2021-YTD-M09) and gives that \
         span for each year; {0} is not one"
    )]
    YearToDateNeedsStart(PeriodCode),
    /// The range's start lies after its end.
    #[error("the range starts at {from}, which is after its end at {to}")]
    RangeReversed {
        /// The period the range was asked to start from.
        from: PeriodCode,
        /// The period the range was asked to end at.
        to: PeriodCode,
    },
    /// The range holds more than [`MAX_PERIODS`] periods.
    #[error(
        "the range holds {count} {frequency} periods, more than the {max} allowed; narrow it or \
         choose a coarser frequency"
    )]
    TooManyPeriods {
        /// How many periods the range would hold.
        count: usize,
        /// The most allowed.
        max: usize,
        /// The frequency asked for.
        frequency: Frequency,
    },
    /// A period would fall outside the supported years (cannot happen for a
    /// range between two valid periods; kept so that no input panics).
    #[error("year {0} is outside the supported range")]
    YearOutOfRange(i64),
    /// A percent change of a ratio was asked for.
    #[error(
        "{0} of a ratio would be a percent change of a percent; use chg or ch1 for changes in \
         percentage points"
    )]
    TransformNotForRatio(Transform),
}

text_enum! {
    /// A FRED-style transform of a series: `lin` = levels; `chg` = change
    /// from the previous period; `ch1` = change from a year ago; `pch` =
    /// percent change from the previous period; `pc1` = percent change from a
    /// year ago.
    pub enum Transform as "transform" {
        /// Levels, unchanged.
        Lin = "lin",
        /// Change from the previous period, in the indicator's unit.
        Chg = "chg",
        /// Change from the same period a year ago, in the indicator's unit.
        Ch1 = "ch1",
        /// Percent change from the previous period.
        Pch = "pch",
        /// Percent change from the same period a year ago.
        Pc1 = "pc1",
    }
}

/// How many periods of a regular frequency make a year; `None` otherwise.
fn periods_per_year(frequency: Frequency) -> Option<i64> {
    match frequency {
        Frequency::Annual => Some(1),
        Frequency::SemiAnnual => Some(2),
        Frequency::Quarterly => Some(4),
        Frequency::Monthly => Some(12),
        Frequency::Daily | Frequency::YearToDate => None,
    }
}

/// A running number of the regular period (`per_year` to a year) holding
/// `date`, so that consecutive periods have consecutive numbers.
fn period_number(date: NaiveDate, per_year: i64) -> i64 {
    let months_per_period = 12 / per_year;
    i64::from(date.year()) * per_year + i64::from(date.month0()) / months_per_period
}

/// The period with running number `number` (see [`period_number`]).
fn period_from_number(
    number: i64,
    frequency: Frequency,
    per_year: i64,
) -> Result<PeriodCode, SeriesError> {
    let year = number.div_euclid(per_year);
    let out_of_range = || SeriesError::YearOutOfRange(year);
    let year_i32 = i32::try_from(year).map_err(|_| out_of_range())?;
    // 1-based position within the year; at most 12, so it fits in a u8.
    let position = u8::try_from(number.rem_euclid(per_year) + 1).map_err(|_| out_of_range())?;
    let period = match frequency {
        Frequency::Annual => PeriodCode::calendar_year(year_i32),
        Frequency::SemiAnnual => PeriodCode::half(year_i32, position),
        Frequency::Quarterly => PeriodCode::quarter(year_i32, position),
        Frequency::Monthly => PeriodCode::month(year_i32, position),
        Frequency::Daily | Frequency::YearToDate => {
            return Err(SeriesError::FrequencyNotRegular(frequency))
        }
    };
    period.map_err(|_| out_of_range())
}

/// The regular periods of `frequency` from the one containing `from.start()`
/// to the one containing `to.end()`, in order.
///
/// Annual, semi_annual, quarterly and monthly periods follow each other; at
/// most [`MAX_PERIODS`] periods. `from` and `to` may be of any frequency
/// (`2021-Q3` to `2023` annually gives 2021, 2022, 2023). A year_to_date
/// series gives the span of `from` (a year to date) for each year up to
/// `to`'s (`2021-YTD-M09` to `2023` gives the first nine months of 2021,
/// 2022 and 2023). Days are refused.
pub fn periods_in_range(
    from: &PeriodCode,
    to: &PeriodCode,
    frequency: Frequency,
) -> Result<Vec<PeriodCode>, SeriesError> {
    if from.start() > to.end() {
        return Err(SeriesError::RangeReversed {
            from: *from,
            to: *to,
        });
    }
    if frequency == Frequency::YearToDate {
        return years_to_date(from, to);
    }
    let per_year =
        periods_per_year(frequency).ok_or(SeriesError::FrequencyNotRegular(frequency))?;
    let first = period_number(from.start(), per_year);
    let last = period_number(to.end(), per_year);
    // Counted before anything is built, so a huge range costs nothing.
    let count = usize::try_from(last - first + 1).unwrap_or(usize::MAX);
    if count > MAX_PERIODS {
        return Err(SeriesError::TooManyPeriods {
            count,
            max: MAX_PERIODS,
            frequency,
        });
    }
    (first..=last)
        .map(|number| period_from_number(number, frequency, per_year))
        .collect()
}

/// The span of the year to date `from` in each year from its own to `to`'s.
fn years_to_date(from: &PeriodCode, to: &PeriodCode) -> Result<Vec<PeriodCode>, SeriesError> {
    let months = match from.month_span() {
        Some((_, 1, last)) if from.frequency() == Frequency::YearToDate => last,
        _ => return Err(SeriesError::YearToDateNeedsStart(*from)),
    };
    let count = usize::try_from(to.year() - from.year() + 1).unwrap_or(usize::MAX);
    if count > MAX_PERIODS {
        return Err(SeriesError::TooManyPeriods {
            count,
            max: MAX_PERIODS,
            frequency: Frequency::YearToDate,
        });
    }
    (from.year()..=to.year())
        .map(|year| {
            PeriodCode::year_to_date(year, months)
                .map_err(|_| SeriesError::YearOutOfRange(i64::from(year)))
        })
        .collect()
}

/// Checks `transform` makes sense for an indicator of `kind`: `pch` and `pc1`
/// of a ratio (a percent change of a percent) are refused; `chg` and `ch1`
/// give its change in percentage points.
///
/// # Errors
/// [`SeriesError::TransformNotForRatio`].
pub fn check_transform(kind: MeasureKind, transform: Transform) -> Result<(), SeriesError> {
    match (kind, transform) {
        (MeasureKind::Ratio, Transform::Pch | Transform::Pc1) => {
            Err(SeriesError::TransformNotForRatio(transform))
        }
        _ => Ok(()),
    }
}

/// Applies `transform` to `series` and returns, in `series` order, the
/// transformed point of each point whose period is in `keep` (the periods
/// asked for; the caller extends `series` a year back so that `ch1` and
/// `pc1` have a base).
///
/// The base is `period.previous_period()` for `chg`/`pch` and
/// `period.same_period_previous_year()` for `ch1`/`pc1`, looked up in
/// `series` (the first point for a period counts). Differences are exact.
/// Percent changes are (current − base) / |base| × 100 — FRED's
/// (current / base − 1) × 100 for a positive base, and like the year-on-year
/// changes of `comparison.rs` for a negative one (−100 → 50 is +150 %) —
/// rounded half away from zero to [`PERCENT_CHANGE_PLACES`] places without
/// trailing zeros (−8.99967… shows as −9), the project's display rule for
/// computed percentages. A missing current value, a missing base, a zero base
/// for a percent change, or an overflow gives value `None` with `Missing {
/// reason }`. The qualifier combines the two inputs' with
/// [`combine_difference`], the status with [`combine_status`]; the
/// provenance is the current point's unless the result is missing.
///
/// `apply_transform` does not know the measure kind: call
/// [`check_transform`] first.
pub fn apply_transform(
    series: &[Resolved],
    transform: Transform,
    keep: &[PeriodCode],
) -> Vec<Resolved> {
    let wanted: BTreeSet<&PeriodCode> = keep.iter().collect();
    let mut by_period: BTreeMap<PeriodCode, &Resolved> = BTreeMap::new();
    for point in series {
        by_period.entry(point.period).or_insert(point);
    }
    series
        .iter()
        .filter(|point| wanted.contains(&point.period))
        .map(|point| transform_point(point, transform, &by_period))
        .collect()
}

/// One transformed point (see [`apply_transform`]).
fn transform_point(
    current: &Resolved,
    transform: Transform,
    by_period: &BTreeMap<PeriodCode, &Resolved>,
) -> Resolved {
    let period = current.period;
    let (base_period, relation, percent) = match transform {
        Transform::Lin => return current.clone(),
        Transform::Chg => (period.previous_period(), "the period before", false),
        Transform::Ch1 => (period.same_period_previous_year(), "a year earlier", false),
        Transform::Pch => (period.previous_period(), "the period before", true),
        Transform::Pc1 => (period.same_period_previous_year(), "a year earlier", true),
    };
    let Some(value) = current.value else {
        return current.without_value(current.missing_reason());
    };
    let Some(base_period) = base_period else {
        let reason = if period.frequency() == Frequency::YearToDate {
            format!(
                "{period} has no period before it: year-to-date periods overlap; compare with a \
                 year earlier (ch1, pc1) instead"
            )
        } else {
            format!("{period} has no period {relation} within the supported years")
        };
        return current.without_value(reason);
    };
    let Some(base) = by_period.get(&base_period) else {
        return current.without_value(format!(
            "{base_period} ({relation}) is not in the series, so {period} has no base to compare \
             with"
        ));
    };
    let Some(base_value) = base.value else {
        return current.without_value(format!(
            "{base_period} ({relation}) has no value: {}",
            base.missing_reason()
        ));
    };

    let result = if !percent {
        value.checked_sub(base_value)
    } else if base_value.is_zero() {
        return current.without_value(format!(
            "{base_period} ({relation}) is zero, so a percent change from it is undefined"
        ));
    } else {
        value
            .checked_sub(base_value)
            // Over |base|, as comparison.rs computes year-on-year changes, so
            // that a rise from a negative base is a positive percentage.
            .and_then(|change| percent_of(change, base_value.abs()))
            .map(|change| round_half_up(change, PERCENT_CHANGE_PLACES).normalize())
    };
    match result {
        Some(result) => Resolved {
            value: Some(result),
            qualifier: combine_difference(current.qualifier, base.qualifier),
            status: combine_status(current.status, base.status),
            ..current.clone()
        },
        None => current.without_value(format!(
            "the {transform} of {period} does not fit in an exact decimal"
        )),
    }
}

/// Qualifier of a sum: exact + exact = exact; a lower bound with an exact
/// value or a lower bound = lower bound; an upper bound with an exact value or
/// an upper bound = upper bound; a lower bound with an upper bound, or
/// anything with an approximate value = approximate.
pub fn combine_sum(a: Qualifier, b: Qualifier) -> Qualifier {
    use Qualifier::{Approximate, Exact, LowerBound, UpperBound};
    match (a, b) {
        (Exact, other) | (other, Exact) => other,
        (LowerBound, LowerBound) => LowerBound,
        (UpperBound, UpperBound) => UpperBound,
        (Approximate, _)
        | (_, Approximate)
        | (LowerBound, UpperBound)
        | (UpperBound, LowerBound) => Approximate,
    }
}

/// Qualifier of a − b (and of a ÷ b for positive values): b's bound flips
/// (subtracting more than b gives less than a − b, so a lower bound on b is
/// an upper bound on the result), then [`combine_sum`].
pub fn combine_difference(a: Qualifier, b: Qualifier) -> Qualifier {
    let flipped = match b {
        Qualifier::LowerBound => Qualifier::UpperBound,
        Qualifier::UpperBound => Qualifier::LowerBound,
        other => other,
    };
    combine_sum(a, flipped)
}

/// Status of a value computed from several: the least final wins, forecast
/// (F) over estimated (E) over provisional (P) over normal (A).
pub fn combine_status(a: ObservationStatus, b: ObservationStatus) -> ObservationStatus {
    fn finality(status: ObservationStatus) -> u8 {
        match status {
            ObservationStatus::Normal => 3,
            ObservationStatus::Provisional => 2,
            ObservationStatus::Estimated => 1,
            ObservationStatus::Forecast => 0,
        }
    }
    if finality(b) < finality(a) {
        b
    } else {
        a
    }
}

/// Rounds half away from zero to `places` decimals, the rule the sources use
/// for displayed percentages (7.65 → 7.7, 7.64 → 7.6, −9.05 → −9.1), and
/// never shows more decimals than the input had (100.5 to 2 places stays
/// 100.5).
pub fn round_half_up(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resolve::{resolve, Figures, Provenance, Rule, StoredFigure};

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("{text:?} is a decimal: {e}"))
    }

    fn p(text: &str) -> PeriodCode {
        PeriodCode::parse(text).unwrap_or_else(|e| panic!("{text:?} is a period: {e}"))
    }

    /// What a transformed point should be.
    #[derive(Debug)]
    enum Expect {
        /// Built on the stored figure of the period.
        Observed,
        /// Missing, with a reason containing the text.
        Missing(&'static str),
    }

    fn check(point: &Resolved, value: Option<&str>, expect: &Expect, case: &str) {
        assert_eq!(point.value, value.map(d), "{case}: value");
        match (expect, &point.provenance) {
            (Expect::Observed, Provenance::Stored { .. }) => {}
            (Expect::Missing(text), Provenance::Missing { reason }) if reason.contains(text) => {}
            (expect, got) => panic!("{case}: expected {expect:?}, got {got:?}"),
        }
    }

    /// A flow's value as the resolver gives it: stored, or missing.
    fn series_point(period: &str, value: Option<&str>) -> Resolved {
        let figures: Figures = value
            .map(|value| StoredFigure {
                id: 1,
                period: p(period),
                value: d(value),
                qualifier: Qualifier::Exact,
                status: ObservationStatus::Normal,
            })
            .into_iter()
            .collect();
        resolve(MeasureKind::Flow, &p(period), &figures, false)
    }

    /// Quarterly revenue from 2021-Q1; 2022-Q3 is missing.
    fn quarterly_revenue() -> Vec<Resolved> {
        vec![
            series_point("2021-Q1", Some("6000")),
            series_point("2021-Q2", Some("6500")),
            series_point("2021-Q3", Some("7000")),
            series_point("2021-Q4", Some("7273.6")),
            series_point("2022-Q1", Some("6619")),
            series_point("2022-Q2", Some("7000.5")),
            series_point("2022-Q3", None),
            series_point("2022-Q4", Some("7700")),
        ]
    }

    #[test]
    fn transforms_follow_fred() {
        let series = quarterly_revenue();
        let keep: Vec<PeriodCode> = ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"]
            .iter()
            .map(|period| p(period))
            .collect();
        // Each row: the four kept quarters' values (as text, to check the
        // places shown) or the text a missing value's reason contains.
        let cases: [(Transform, [Result<&str, &str>; 4]); 5] = [
            (
                Transform::Lin,
                [
                    Ok("6619"),
                    Ok("7000.5"),
                    Err("nothing is stored for 2022-Q3"),
                    Ok("7700"),
                ],
            ),
            (
                Transform::Chg,
                [
                    // Across the year boundary: 6619 − 7273.6 (2021-Q4).
                    Ok("-654.6"),
                    // 7000.5 − 6619
                    Ok("381.5"),
                    Err("nothing is stored for 2022-Q3"),
                    Err("2022-Q3 (the period before) has no value: nothing is stored"),
                ],
            ),
            (
                Transform::Ch1,
                [
                    // 6619 − 6000
                    Ok("619"),
                    // 7000.5 − 6500
                    Ok("500.5"),
                    Err("nothing is stored for 2022-Q3"),
                    // 7700 − 7273.6
                    Ok("426.4"),
                ],
            ),
            (
                Transform::Pch,
                [
                    // −654.6 / 7273.6 × 100 = −8.99967… → −9.00, shown as −9
                    Ok("-9"),
                    // 381.5 / 6619 × 100 = 5.76371… → 5.76
                    Ok("5.76"),
                    Err("nothing is stored for 2022-Q3"),
                    Err("2022-Q3 (the period before) has no value"),
                ],
            ),
            (
                Transform::Pc1,
                [
                    // 619 / 6000 × 100 = 10.31666… → 10.32
                    Ok("10.32"),
                    // 500.5 / 6500 × 100 = 7.7 exactly
                    Ok("7.7"),
                    Err("nothing is stored for 2022-Q3"),
                    // 426.4 / 7273.6 × 100 = 5.86229… → 5.86
                    Ok("5.86"),
                ],
            ),
        ];
        for (transform, expected) in cases {
            let result = apply_transform(&series, transform, &keep);
            let periods: Vec<PeriodCode> = result.iter().map(|point| point.period).collect();
            assert_eq!(periods, keep, "{transform}");
            for (point, expected) in result.iter().zip(expected) {
                let case = format!("{transform} {}", point.period);
                match (expected, &point.value, &point.provenance) {
                    (Ok(text), Some(value), Provenance::Stored { .. }) => {
                        assert_eq!(value.to_string(), text, "{case}")
                    }
                    (Err(text), None, Provenance::Missing { reason }) => {
                        assert!(reason.contains(text), "{case}: {reason}")
                    }
                    (expected, value, provenance) => {
                        panic!("{case}: expected {expected:?}, got {value:?} {provenance:?}")
                    }
                }
            }
        }
    }

    #[test]
    fn transform_bases_that_are_missing_or_zero() {
        let series = vec![
            series_point("2022-Q1", Some("0")),
            series_point("2022-Q2", Some("5")),
        ];
        let keep = [p("2022-Q1"), p("2022-Q2")];
        let pch = apply_transform(&series, Transform::Pch, &keep);
        // 2021-Q4 was not fetched: no base.
        check(
            &pch[0],
            None,
            &Expect::Missing("2021-Q4 (the period before) is not in the series"),
            "no base",
        );
        check(&pch[1], None, &Expect::Missing("is zero"), "zero base");
        // A change from zero is fine: 5 − 0.
        let chg = apply_transform(&series, Transform::Chg, &keep);
        check(&chg[1], Some("5"), &Expect::Observed, "change from zero");
        let pc1 = apply_transform(&series, Transform::Pc1, &keep);
        check(
            &pc1[1],
            None,
            &Expect::Missing("2021-Q2 (a year earlier) is not in the series"),
            "no year-ago base",
        );
        // Only the kept periods come back.
        assert_eq!(
            apply_transform(&series, Transform::Lin, &keep[1..]).len(),
            1
        );
        // Year-to-date periods have no previous period.
        let ytd = [
            series_point("2022-YTD-M08", Some("1")),
            series_point("2022-YTD-M09", Some("2")),
        ];
        let chg = apply_transform(&ytd, Transform::Chg, &[p("2022-YTD-M09")]);
        check(
            &chg[0],
            None,
            &Expect::Missing("year-to-date periods overlap"),
            "ytd",
        );
    }

    #[test]
    fn percent_changes_round_half_away_from_zero_over_the_absolute_base() {
        let keep = [p("2022-Q2")];
        // 0.25 / 200 × 100 = 0.125 → 0.13; −0.25 / 200 × 100 = −0.125 → −0.13;
        // 20.4 / 200 × 100 = 10.2 (no trailing zero); from a negative base,
        // (50 − −100) / |−100| × 100 = +150 and (−150 − −100) / 100 × 100 = −50.
        for (previous, current, expected) in [
            ("200", "200.25", "0.13"),
            ("200", "199.75", "-0.13"),
            ("200", "220.4", "10.2"),
            ("-100", "50", "150"),
            ("-100", "-150", "-50"),
        ] {
            let series = vec![
                series_point("2022-Q1", Some(previous)),
                series_point("2022-Q2", Some(current)),
            ];
            let result = apply_transform(&series, Transform::Pch, &keep);
            assert_eq!(
                result[0].value.map(|v| v.to_string()).as_deref(),
                Some(expected)
            );
        }
    }

    #[test]
    fn transforms_combine_qualifiers_statuses_and_keep_provenance() {
        let mut base = series_point("2022-Q1", Some("100"));
        base.qualifier = Qualifier::LowerBound;
        let mut current = series_point("2022-Q2", Some("120"));
        current.status = ObservationStatus::Estimated;
        current.provenance = Provenance::Derived {
            rule: Rule::Sum,
            sub_periods: vec![p("2022-M04"), p("2022-M05"), p("2022-M06")],
            from: vec![4, 5, 6],
        };
        let result = apply_transform(&[base, current.clone()], Transform::Chg, &[p("2022-Q2")]);
        // 120 minus more than 100 is less than 20.
        assert_eq!(
            result,
            vec![Resolved {
                value: Some(d("20")),
                qualifier: Qualifier::UpperBound,
                ..current
            }]
        );
    }

    #[test]
    fn transform_text_and_fit_for_kind() {
        for (text, transform) in [
            ("lin", Transform::Lin),
            ("chg", Transform::Chg),
            ("ch1", Transform::Ch1),
            ("pch", Transform::Pch),
            ("pc1", Transform::Pc1),
        ] {
            assert_eq!(text.parse::<Transform>(), Ok(transform));
            assert_eq!(transform.to_string(), text);
            assert_eq!(
                serde_json::to_value(transform).unwrap(),
                serde_json::json!(text)
            );
        }
        assert!("log".parse::<Transform>().is_err());

        for kind in MeasureKind::ALL {
            for transform in Transform::ALL {
                let refused = *kind == MeasureKind::Ratio
                    && matches!(transform, Transform::Pch | Transform::Pc1);
                let expected = if refused {
                    Err(SeriesError::TransformNotForRatio(*transform))
                } else {
                    Ok(())
                };
                assert_eq!(
                    check_transform(*kind, *transform),
                    expected,
                    "{kind} {transform}"
                );
            }
        }
        let message = SeriesError::TransformNotForRatio(Transform::Pc1).to_string();
        assert!(message.contains("chg or ch1"), "{message}");
    }

    #[test]
    fn qualifier_combinations() {
        use Qualifier::{Approximate as A, Exact as E, LowerBound as L, UpperBound as U};
        // (a, b, a + b, a − b)
        let table = [
            (E, E, E, E),
            (E, L, L, U),
            (E, U, U, L),
            (E, A, A, A),
            (L, E, L, L),
            (L, L, L, A),
            (L, U, A, L),
            (L, A, A, A),
            (U, E, U, U),
            (U, L, A, U),
            (U, U, U, A),
            (U, A, A, A),
            (A, E, A, A),
            (A, L, A, A),
            (A, U, A, A),
            (A, A, A, A),
        ];
        for (a, b, sum, difference) in table {
            assert_eq!(combine_sum(a, b), sum, "{a} + {b}");
            assert_eq!(combine_difference(a, b), difference, "{a} - {b}");
        }
    }

    #[test]
    fn status_combinations() {
        use ObservationStatus::{Estimated as E, Forecast as F, Normal as A, Provisional as P};
        // The least final of each pair, for all 16.
        let table = [
            (A, A, A),
            (A, P, P),
            (A, E, E),
            (A, F, F),
            (P, A, P),
            (P, P, P),
            (P, E, E),
            (P, F, F),
            (E, A, E),
            (E, P, E),
            (E, E, E),
            (E, F, F),
            (F, A, F),
            (F, P, F),
            (F, E, F),
            (F, F, F),
        ];
        for (a, b, combined) in table {
            assert_eq!(combine_status(a, b), combined, "{a} with {b}");
        }
    }

    #[test]
    fn rounds_half_away_from_zero() {
        for (value, places, expected) in [
            ("7.65", 1, "7.7"),
            ("7.64", 1, "7.6"),
            ("-9.05", 1, "-9.1"),
            ("100.5", 2, "100.5"),
            ("61.1842847700269228909058666", 2, "61.18"),
            ("0.125", 2, "0.13"),
            ("-0.125", 2, "-0.13"),
            ("2.5", 0, "3"),
            ("-2.5", 0, "-3"),
            ("7.7", 28, "7.7"),
            ("7.7", 4_000_000_000, "7.7"),
        ] {
            assert_eq!(
                round_half_up(d(value), places).to_string(),
                expected,
                "{value} to {places}"
            );
        }
    }

    #[test]
    fn lists_regular_periods_in_a_range() {
        use Frequency::{Annual, Monthly, Quarterly, SemiAnnual};
        let codes = |from: &str, to: &str, frequency| {
            periods_in_range(&p(from), &p(to), frequency)
                .map(|periods| periods.iter().map(PeriodCode::code).collect::<Vec<_>>())
        };
        let list = |codes: &[&str]| Ok(codes.iter().map(|c| c.to_string()).collect());
        assert_eq!(
            codes("2021-Q3", "2022-Q2", Quarterly),
            list(&["2021-Q3", "2021-Q4", "2022-Q1", "2022-Q2"])
        );
        assert_eq!(
            codes("2021-Q3", "2023", Annual),
            list(&["2021", "2022", "2023"])
        );
        assert_eq!(
            codes("2022-Q1", "2022-Q1", Monthly),
            list(&["2022-M01", "2022-M02", "2022-M03"])
        );
        assert_eq!(
            codes("2021-05-10", "2022-M03", SemiAnnual),
            list(&["2021-S1", "2021-S2", "2022-S1"])
        );
        assert_eq!(
            codes("2022-YTD-M09", "2022", Quarterly),
            list(&["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"])
        );
        assert_eq!(codes("2999-M12", "2999", Monthly), list(&["2999-M12"]));
        assert_eq!(codes("1900", "1900-Q1", Annual), list(&["1900"]));

        assert_eq!(
            codes("2021", "2022", Frequency::Daily),
            Err(SeriesError::FrequencyNotRegular(Frequency::Daily))
        );
        // A year-to-date series repeats its first period's span each year.
        assert_eq!(
            codes("2021-YTD-M09", "2023-Q1", Frequency::YearToDate),
            list(&["2021-YTD-M09", "2022-YTD-M09", "2023-YTD-M09"])
        );
        assert_eq!(
            codes("2021", "2022", Frequency::YearToDate),
            Err(SeriesError::YearToDateNeedsStart(p("2021")))
        );
        assert_eq!(
            codes("2022-Q1", "2021-Q4", Quarterly),
            Err(SeriesError::RangeReversed {
                from: p("2022-Q1"),
                to: p("2021-Q4")
            })
        );
        // Overlapping but reversed ends: 2022-Q2 starts after 2022-Q1 ends.
        assert!(codes("2022-Q2", "2022-Q1", Annual).is_err());
        // 1951 to 2000 is 50 years = 600 months; one more year is too many.
        assert_eq!(
            periods_in_range(&p("1951"), &p("2000"), Monthly).map(|periods| periods.len()),
            Ok(MAX_PERIODS)
        );
        assert_eq!(
            codes("1950", "2000", Monthly),
            Err(SeriesError::TooManyPeriods {
                count: 612,
                max: MAX_PERIODS,
                frequency: Monthly
            })
        );
        assert!(codes("1900", "2999", Monthly).is_err());
    }
}
