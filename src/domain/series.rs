//! Time series of one indicator: aggregation to coarser frequencies by
//! measure kind, group totals across committees, and the FRED-style
//! transforms (`lin`, `chg`, `ch1`, `pch`, `pc1`).
//!
//! All maths is exact decimal maths with checked operations: an overflow or a
//! division by zero gives a missing value with a reason, never a panic and
//! never a rounded binary float.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::indicator::MeasureKind;
use super::period::{Frequency, PeriodCode};
use super::value::{ObservationStatus, Qualifier};

/// Most periods [`periods_in_range`] returns: fifty years of months.
pub const MAX_PERIODS: usize = 600;

/// Decimal places of a percent change (`pch`, `pc1`).
pub const PERCENT_CHANGE_PLACES: u32 = 2;

/// The regular frequencies a longer period may be built from, coarsest first.
/// Coarser parts are tried first because they are closer to what the source
/// reported and sum fewer separately rounded figures.
const FINER_FREQUENCIES: [Frequency; 3] = [
    Frequency::SemiAnnual,
    Frequency::Quarterly,
    Frequency::Monthly,
];

/// One stored figure of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// The exact value, in the indicator's unit and scale.
    pub value: Decimal,
    /// How exactly the source stated it.
    pub qualifier: Qualifier,
    /// SDMX observation status.
    pub status: ObservationStatus,
}

/// How a period's value was obtained.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// Stored for exactly this period.
    Observed,
    /// Computed from `parts` sub-periods of `frequency`, all present.
    Aggregated {
        /// Frequency of the parts (`semi_annual`, `quarterly` or `monthly`).
        #[schema(value_type = String, example = "quarterly")]
        frequency: Frequency,
        /// How many parts tile the period (all of them were present).
        parts: usize,
    },
    /// Computed from only `parts` of `expected` sub-periods of `frequency`;
    /// only when the caller allowed it, and flagged so nobody mistakes it for
    /// a complete figure.
    Incomplete {
        /// Frequency of the parts (`semi_annual`, `quarterly` or `monthly`).
        #[schema(value_type = String, example = "quarterly")]
        frequency: Frequency,
        /// How many parts were present.
        parts: usize,
        /// How many parts tile the period.
        expected: usize,
    },
    /// Not enough data; `reason` says what is lacking.
    Missing {
        /// Why there is no value, in words a user can act on.
        reason: String,
    },
}

impl Provenance {
    /// Orders provenances from the most direct to the least (missing last),
    /// for choosing the one a combined value reports.
    fn remoteness(&self) -> u8 {
        match self {
            Provenance::Observed => 0,
            Provenance::Aggregated { .. } => 1,
            Provenance::Incomplete { .. } => 2,
            Provenance::Missing { .. } => 3,
        }
    }
}

/// One period of a computed series: its value (if any), how exactly it is
/// known, and how it was obtained.
///
/// For a missing value, `qualifier` and `status` carry no information and are
/// `exact` and `A` unless the point was derived from one that had a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPoint {
    /// The period the value is for.
    pub period: PeriodCode,
    /// The value, or `None` when it cannot be known (see `provenance`).
    pub value: Option<Decimal>,
    /// Combined qualifier of the figures the value came from.
    pub qualifier: Qualifier,
    /// Combined status of the figures the value came from.
    pub status: ObservationStatus,
    /// How the value was obtained, or why it is missing.
    pub provenance: Provenance,
}

impl SeriesPoint {
    fn observed(period: PeriodCode, point: Point) -> Self {
        Self {
            period,
            value: Some(point.value),
            qualifier: point.qualifier,
            status: point.status,
            provenance: Provenance::Observed,
        }
    }

    fn missing(period: PeriodCode, reason: String) -> Self {
        Self {
            period,
            value: None,
            qualifier: Qualifier::Exact,
            status: ObservationStatus::Normal,
            provenance: Provenance::Missing { reason },
        }
    }

    /// This point without its value, keeping its qualifier and status.
    fn without_value(&self, reason: String) -> Self {
        Self {
            value: None,
            provenance: Provenance::Missing { reason },
            ..self.clone()
        }
    }

    /// The reason this point has no value, or a generic one.
    fn missing_reason(&self) -> String {
        match &self.provenance {
            Provenance::Missing { reason } => reason.clone(),
            _ => format!("no value for {}", self.period),
        }
    }
}

/// Why a series cannot be built as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// Days and year-to-date periods do not follow each other in a regular
    /// sequence, so they cannot be listed or aggregated to.
    #[error(
        "{0} periods cannot be listed or aggregated to: use annual, semi_annual, quarterly or \
         monthly"
    )]
    FrequencyNotRegular(Frequency),
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
    /// A ratio was to be summed or aggregated as if it were a flow or stock.
    #[error(
        "a ratio is never summed or averaged: recompute it from its numerator and denominator"
    )]
    RatioNeedsNumeratorAndDenominator,
    /// A percent change of a ratio was asked for.
    #[error(
        "{0} of a ratio would be a percent change of a percent; use chg or ch1 for changes in \
         percentage points"
    )]
    TransformNotForRatio(Transform),
    /// A total does not fit in an exact decimal.
    #[error("the total does not fit in an exact decimal (at most 28 significant digits)")]
    Overflow,
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
/// Only annual, semi_annual, quarterly and monthly are regular; at most
/// [`MAX_PERIODS`] periods. `from` and `to` may be of any frequency
/// (`2021-Q3` to `2023` annually gives 2021, 2022, 2023).
pub fn periods_in_range(
    from: &PeriodCode,
    to: &PeriodCode,
    frequency: Frequency,
) -> Result<Vec<PeriodCode>, SeriesError> {
    let per_year =
        periods_per_year(frequency).ok_or(SeriesError::FrequencyNotRegular(frequency))?;
    if from.start() > to.end() {
        return Err(SeriesError::RangeReversed {
            from: *from,
            to: *to,
        });
    }
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

/// English plural of a finer frequency's periods, for reasons.
fn plural(frequency: Frequency) -> &'static str {
    match frequency {
        Frequency::Annual => "years",
        Frequency::SemiAnnual => "halves",
        Frequency::Quarterly => "quarters",
        Frequency::Monthly => "months",
        Frequency::Daily => "days",
        Frequency::YearToDate => "year-to-date periods",
    }
}

/// Joins words as "a", "a or b", "a, b or c".
fn join_or(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What is stored of the parts of one finer frequency that tile a target.
struct Parts {
    frequency: Frequency,
    /// How many parts tile the target.
    expected: usize,
    /// The stored parts, in period order.
    present: Vec<Point>,
    /// The part that ends the target (a stock's value).
    last: PeriodCode,
    last_present: bool,
}

impl Parts {
    /// The parts of `frequency` tiling `target`; `None` if they do not tile it.
    fn gather(
        target: &PeriodCode,
        frequency: Frequency,
        points: &BTreeMap<PeriodCode, Point>,
    ) -> Option<Self> {
        let tiles = target.sub_periods(frequency)?;
        let last = *tiles.last()?;
        Some(Self {
            frequency,
            expected: tiles.len(),
            present: tiles
                .iter()
                .filter_map(|tile| points.get(tile).copied())
                .collect(),
            last,
            last_present: points.contains_key(&last),
        })
    }

    fn is_complete(&self) -> bool {
        self.present.len() == self.expected
    }

    /// Whether an incomplete set can still give a value: a flow needs any
    /// part, a stock its period-end part.
    fn usable_when_incomplete(&self, kind: MeasureKind) -> bool {
        !self.present.is_empty() && (kind == MeasureKind::Flow || self.last_present)
    }

    /// Share of the target the present parts cover, in twelfths of a year;
    /// comparable across frequencies because all candidates tile one target.
    fn covered_months(&self) -> usize {
        let months_per_part = match self.frequency {
            Frequency::SemiAnnual => 6,
            Frequency::Quarterly => 3,
            _ => 1,
        };
        self.present.len().saturating_mul(months_per_part)
    }

    /// The target's value from the present parts: their sum for a flow, the
    /// last one for a stock (callers only pass stock parts whose last part is
    /// present).
    fn combine(
        &self,
        kind: MeasureKind,
        target: &PeriodCode,
        provenance: Provenance,
    ) -> SeriesPoint {
        let combined = match kind {
            MeasureKind::Stock => self.present.last().copied(),
            _ => sum_points(&self.present),
        };
        match combined {
            Some(point) => SeriesPoint {
                provenance,
                ..SeriesPoint::observed(*target, point)
            },
            None => SeriesPoint::missing(
                *target,
                format!(
                    "the sum of the {} {} of {target} does not fit in an exact decimal",
                    self.present.len(),
                    plural(self.frequency)
                ),
            ),
        }
    }
}

/// The sum of `points` with combined qualifier and status; `None` if there
/// are none or the sum overflows.
fn sum_points(points: &[Point]) -> Option<Point> {
    let (first, rest) = points.split_first()?;
    rest.iter().try_fold(*first, |total, point| {
        Some(Point {
            value: total.value.checked_add(point.value)?,
            qualifier: combine_sum(total.qualifier, point.qualifier),
            status: combine_status(total.status, point.status),
        })
    })
}

/// The value of `target` for an indicator of `kind` from the stored `points`.
///
/// In order of preference:
/// 1. the point stored for exactly `target` (`Observed`);
/// 2. the first of the finer regular frequencies — semi_annual, quarterly,
///    monthly, only those whose periods tile `target` — whose parts are all
///    stored (`Aggregated`): a flow sums them, a stock takes the last one
///    (the period-end level). A stock, too, needs every part here: a gap in
///    its quarters makes the year `Incomplete` even when Q4 is stored;
/// 3. if `allow_incomplete`, the finer frequency whose stored parts cover the
///    most of `target` (ties go to the coarser), aggregated from those
///    (`Incomplete`, flagged). A flow sums the parts present. A stock is
///    strict: its value is the level at the end of `target`, so only a
///    frequency whose *last* part is stored qualifies; earlier parts never
///    stand in for it;
/// 4. otherwise no value, with `Missing { reason }` saying what is lacking
///    (e.g. "3 of 4 quarters stored for 2021; pass allow_incomplete=true to
///    aggregate them anyway").
///
/// Parts of different frequencies are never mixed (two quarters and six
/// months do not make a year). A year-to-date target works the same way
/// (`2022-YTD-M09` from three quarters). A day or a month has no finer
/// regular frequency, so it is either observed or missing.
///
/// The qualifier and status of an aggregate combine those of its parts
/// ([`combine_sum`], [`combine_status`]); a stock's are those of its last
/// part. An incomplete sum keeps its parts' qualifier: the `Incomplete`
/// provenance is the flag, since a partial sum of a flow that can be
/// negative is no bound.
///
/// # Errors
/// [`SeriesError::RatioNeedsNumeratorAndDenominator`] for a ratio; use
/// [`aggregate_ratio`].
pub fn aggregate(
    kind: MeasureKind,
    target: &PeriodCode,
    points: &BTreeMap<PeriodCode, Point>,
    allow_incomplete: bool,
) -> Result<SeriesPoint, SeriesError> {
    if kind == MeasureKind::Ratio {
        return Err(SeriesError::RatioNeedsNumeratorAndDenominator);
    }
    if let Some(point) = points.get(target) {
        return Ok(SeriesPoint::observed(*target, *point));
    }
    let candidates: Vec<Parts> = FINER_FREQUENCIES
        .into_iter()
        // sub_periods gives the target itself for its own frequency.
        .filter(|frequency| *frequency != target.frequency())
        .filter_map(|frequency| Parts::gather(target, frequency, points))
        .collect();

    if let Some(complete) = candidates.iter().find(|parts| parts.is_complete()) {
        let provenance = Provenance::Aggregated {
            frequency: complete.frequency,
            parts: complete.expected,
        };
        return Ok(complete.combine(kind, target, provenance));
    }

    // Only strictly wider coverage replaces the best so far, so ties keep
    // the coarser frequency (fewer figures summed).
    let best = candidates
        .iter()
        .filter(|parts| parts.usable_when_incomplete(kind))
        .fold(None::<&Parts>, |best, parts| match best {
            Some(best) if best.covered_months() >= parts.covered_months() => Some(best),
            _ => Some(parts),
        });

    let point = match best {
        Some(best) if allow_incomplete => {
            let provenance = Provenance::Incomplete {
                frequency: best.frequency,
                parts: best.present.len(),
                expected: best.expected,
            };
            best.combine(kind, target, provenance)
        }
        Some(best) => SeriesPoint::missing(
            *target,
            format!(
                "{} of {} {} stored for {target}; pass allow_incomplete=true to aggregate them \
                 anyway",
                best.present.len(),
                best.expected,
                plural(best.frequency)
            ),
        ),
        None => SeriesPoint::missing(*target, nothing_usable_reason(kind, target, &candidates)),
    };
    Ok(point)
}

/// Why no candidate could give `target` a value even if incomplete.
fn nothing_usable_reason(kind: MeasureKind, target: &PeriodCode, candidates: &[Parts]) -> String {
    let some_stored = candidates.iter().any(|parts| !parts.present.is_empty());
    if kind == MeasureKind::Stock && some_stored {
        let ends: Vec<String> = candidates.iter().map(|parts| parts.last.code()).collect();
        return format!(
            "nothing is stored for the end of {target} ({}): a stock's value is its level at the \
             end of the period, which earlier parts cannot give",
            join_or(&ends)
        );
    }
    if candidates.is_empty() {
        return format!("nothing is stored for {target}");
    }
    let kinds: Vec<String> = candidates
        .iter()
        .map(|parts| plural(parts.frequency).to_owned())
        .collect();
    format!("nothing is stored for {target} or its {}", join_or(&kinds))
}

/// `numerator / denominator × 100`, exactly to 28 significant digits;
/// `None` for a zero denominator or an overflow.
fn percent_of(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    // Multiplying first keeps more digits of a small quotient; dividing first
    // still works when the numerator is too large to multiply.
    numerator
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|scaled| scaled.checked_div(denominator))
        .or_else(|| {
            numerator
                .checked_div(denominator)?
                .checked_mul(Decimal::ONE_HUNDRED)
        })
        .map(|percent| percent.normalize())
}

/// The provenance a ratio reports: the less direct of its two inputs'.
/// Between two incomplete ones the one covering less; between two aggregated
/// ones the one built from more parts; on a tie the numerator's.
fn ratio_provenance(numerator: &Provenance, denominator: &Provenance) -> Provenance {
    let denominator_is_worse = match (numerator, denominator) {
        (
            Provenance::Incomplete {
                parts: top_parts,
                expected: top_expected,
                ..
            },
            Provenance::Incomplete {
                parts: bottom_parts,
                expected: bottom_expected,
                ..
            },
        ) => {
            // bottom_parts / bottom_expected < top_parts / top_expected
            bottom_parts.saturating_mul(*top_expected) < top_parts.saturating_mul(*bottom_expected)
        }
        (
            Provenance::Aggregated {
                parts: top_parts, ..
            },
            Provenance::Aggregated {
                parts: bottom_parts,
                ..
            },
        ) => bottom_parts > top_parts,
        _ => denominator.remoteness() > numerator.remoteness(),
    };
    if denominator_is_worse {
        denominator.clone()
    } else {
        numerator.clone()
    }
}

/// A ratio (percent) for `target`, recomputed as numerator / denominator ×
/// 100 from a numerator series and a denominator series, each aggregated by
/// its own kind with [`aggregate`] (so an NPL ratio for a year divides the
/// year-end bad debt by the year-end loans, and a margin divides summed
/// quarterly flows).
///
/// The value is exact to rust_decimal's 28 significant digits (round it for
/// display with [`round_half_up`]). It is `None`, with a reason, if either
/// input is missing or the denominator is zero. The qualifier is that of a
/// quotient ([`combine_difference`], valid for positive values); the status
/// the least final of the two. Provenance: `Observed` only if both were
/// observed for exactly `target`; otherwise the less direct of the two
/// (`Incomplete` if either was incomplete, else `Aggregated`).
///
/// # Errors
/// [`SeriesError::RatioNeedsNumeratorAndDenominator`] if either input is
/// itself a ratio.
pub fn aggregate_ratio(
    target: &PeriodCode,
    numerator: (MeasureKind, &BTreeMap<PeriodCode, Point>),
    denominator: (MeasureKind, &BTreeMap<PeriodCode, Point>),
    allow_incomplete: bool,
) -> Result<SeriesPoint, SeriesError> {
    let top = aggregate(numerator.0, target, numerator.1, allow_incomplete)?;
    let bottom = aggregate(denominator.0, target, denominator.1, allow_incomplete)?;
    let (top_value, bottom_value) = match (top.value, bottom.value) {
        (Some(top_value), Some(bottom_value)) => (top_value, bottom_value),
        _ => {
            let mut reasons = Vec::new();
            if top.value.is_none() {
                reasons.push(format!("numerator: {}", top.missing_reason()));
            }
            if bottom.value.is_none() {
                reasons.push(format!("denominator: {}", bottom.missing_reason()));
            }
            return Ok(SeriesPoint::missing(*target, reasons.join("; ")));
        }
    };
    let qualifier = combine_difference(top.qualifier, bottom.qualifier);
    let status = combine_status(top.status, bottom.status);
    let reason = if bottom_value.is_zero() {
        format!("the denominator is zero for {target}, so the ratio is undefined")
    } else {
        match percent_of(top_value, bottom_value) {
            Some(ratio) => {
                return Ok(SeriesPoint {
                    period: *target,
                    value: Some(ratio),
                    qualifier,
                    status,
                    provenance: ratio_provenance(&top.provenance, &bottom.provenance),
                })
            }
            None => format!("the ratio for {target} does not fit in an exact decimal"),
        }
    };
    Ok(SeriesPoint {
        qualifier,
        status,
        ..SeriesPoint::missing(*target, reason)
    })
}

/// Sums one period across committees (a group total): flows and stocks both
/// add across committees.
///
/// Returns the sum of the present values with their combined qualifier
/// ([`combine_sum`]) and status ([`combine_status`]), and how many members
/// were present; `(None, 0)` if none was. Absent members are not guessed:
/// the caller compares the count with the group's size and decides.
///
/// # Errors
/// [`SeriesError::RatioNeedsNumeratorAndDenominator`] for a ratio (ratios
/// cannot be summed); [`SeriesError::Overflow`] if the total does not fit.
pub fn sum_across(
    kind: MeasureKind,
    values: &[Option<Point>],
) -> Result<(Option<Point>, usize), SeriesError> {
    if kind == MeasureKind::Ratio {
        return Err(SeriesError::RatioNeedsNumeratorAndDenominator);
    }
    let present: Vec<Point> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return Ok((None, 0));
    }
    let total = sum_points(&present).ok_or(SeriesError::Overflow)?;
    Ok((Some(total), present.len()))
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
    series: &[SeriesPoint],
    transform: Transform,
    keep: &[PeriodCode],
) -> Vec<SeriesPoint> {
    let wanted: BTreeSet<&PeriodCode> = keep.iter().collect();
    let mut by_period: BTreeMap<PeriodCode, &SeriesPoint> = BTreeMap::new();
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
    current: &SeriesPoint,
    transform: Transform,
    by_period: &BTreeMap<PeriodCode, &SeriesPoint>,
) -> SeriesPoint {
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
        Some(result) => SeriesPoint {
            period,
            value: Some(result),
            qualifier: combine_difference(current.qualifier, base.qualifier),
            status: combine_status(current.status, base.status),
            provenance: current.provenance.clone(),
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

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap_or_else(|e| panic!("{text:?} is a decimal: {e}"))
    }

    fn p(text: &str) -> PeriodCode {
        PeriodCode::parse(text).unwrap_or_else(|e| panic!("{text:?} is a period: {e}"))
    }

    fn exact(value: &str) -> Point {
        Point {
            value: d(value),
            qualifier: Qualifier::Exact,
            status: ObservationStatus::Normal,
        }
    }

    fn stored(rows: &[(&str, &str)]) -> BTreeMap<PeriodCode, Point> {
        rows.iter()
            .map(|(period, value)| (p(period), exact(value)))
            .collect()
    }

    /// What a computed point should look like.
    #[derive(Debug)]
    enum Expect {
        Observed,
        Aggregated(Frequency, usize),
        Incomplete(Frequency, usize, usize),
        /// Missing, with a reason containing the text.
        Missing(&'static str),
    }

    fn check(point: &SeriesPoint, value: Option<&str>, expect: &Expect, case: &str) {
        assert_eq!(point.value, value.map(d), "{case}: value");
        match (expect, &point.provenance) {
            (Expect::Observed, Provenance::Observed) => {}
            (Expect::Aggregated(f, n), Provenance::Aggregated { frequency, parts })
                if f == frequency && n == parts => {}
            (
                Expect::Incomplete(f, n, e),
                Provenance::Incomplete {
                    frequency,
                    parts,
                    expected,
                },
            ) if f == frequency && n == parts && e == expected => {}
            (Expect::Missing(text), Provenance::Missing { reason }) if reason.contains(text) => {}
            (expect, got) => panic!("{case}: expected {expect:?}, got {got:?}"),
        }
    }

    const FOUR_QUARTERS: [(&str, &str); 4] = [
        ("2021-Q1", "6619"),
        ("2021-Q2", "7000.5"),
        ("2021-Q3", "7100"),
        ("2021-Q4", "6981.5"),
    ];

    /// One row of the aggregation table.
    struct AggregationCase {
        name: &'static str,
        kind: MeasureKind,
        target: &'static str,
        stored: Vec<(&'static str, &'static str)>,
        allow_incomplete: bool,
        value: Option<&'static str>,
        expect: Expect,
    }

    /// The first `count` months of 2021, each 100.
    fn months_of_2021(count: usize) -> Vec<(&'static str, &'static str)> {
        const MONTHS: [&str; 12] = [
            "2021-M01", "2021-M02", "2021-M03", "2021-M04", "2021-M05", "2021-M06", "2021-M07",
            "2021-M08", "2021-M09", "2021-M10", "2021-M11", "2021-M12",
        ];
        MONTHS
            .iter()
            .take(count)
            .map(|month| (*month, "100"))
            .collect()
    }

    #[test]
    fn aggregates_flows_and_stocks_by_kind() {
        use Frequency::{Monthly, Quarterly, SemiAnnual};
        use MeasureKind::{Flow, Stock};
        let q = FOUR_QUARTERS;
        let first_quarter_by_month = vec![
            ("2022-M01", "2000"),
            ("2022-M02", "2100.25"),
            ("2022-M03", "2518.75"),
        ];
        let case = |name, kind, target, stored, allow_incomplete, value, expect| AggregationCase {
            name,
            kind,
            target,
            stored,
            allow_incomplete,
            value,
            expect,
        };
        let cases = [
            // 6619 + 7000.5 + 7100 + 6981.5 = 27701
            case(
                "four quarters sum to the year",
                Flow,
                "2021",
                q.to_vec(),
                false,
                Some("27701"),
                Expect::Aggregated(Quarterly, 4),
            ),
            // 13619.5 + 14081.5 = 27701
            case(
                "two halves sum to the year",
                Flow,
                "2021",
                vec![("2021-S1", "13619.5"), ("2021-S2", "14081.5")],
                false,
                Some("27701"),
                Expect::Aggregated(SemiAnnual, 2),
            ),
            // Halves are complete too (15000 + 15000 = 30000) and are tried first.
            case(
                "halves before quarters",
                Flow,
                "2021",
                [&q[..], &[("2021-S1", "15000"), ("2021-S2", "15000")]].concat(),
                false,
                Some("30000"),
                Expect::Aggregated(SemiAnnual, 2),
            ),
            case(
                "a stored year wins over its quarters",
                Flow,
                "2021",
                [&q[..], &[("2021", "27700")]].concat(),
                false,
                Some("27700"),
                Expect::Observed,
            ),
            // A stock's year is its Q4 level, not the sum 27701.
            case(
                "a stock year takes Q4",
                Stock,
                "2021",
                q.to_vec(),
                false,
                Some("6981.5"),
                Expect::Aggregated(Quarterly, 4),
            ),
            case(
                "three of four quarters without permission",
                Flow,
                "2021",
                q[..3].to_vec(),
                false,
                None,
                Expect::Missing("3 of 4 quarters stored for 2021; pass allow_incomplete=true"),
            ),
            // 6619 + 7000.5 + 7100 = 20719.5
            case(
                "three of four quarters allowed",
                Flow,
                "2021",
                q[..3].to_vec(),
                true,
                Some("20719.5"),
                Expect::Incomplete(Quarterly, 3, 4),
            ),
            // Q3 missing: 6619 + 7000.5 + 6981.5 = 20601
            case(
                "a gap in the middle allowed",
                Flow,
                "2021",
                vec![q[0], q[1], q[3]],
                true,
                Some("20601"),
                Expect::Incomplete(Quarterly, 3, 4),
            ),
            case(
                "a stock without Q4 even when allowed",
                Stock,
                "2021",
                q[..3].to_vec(),
                true,
                None,
                Expect::Missing(
                    "nothing is stored for the end of 2021 (2021-S2, 2021-Q4 or 2021-M12)",
                ),
            ),
            case(
                "a stock with Q4 but a gap, allowed",
                Stock,
                "2021",
                vec![q[0], q[1], q[3]],
                true,
                Some("6981.5"),
                Expect::Incomplete(Quarterly, 3, 4),
            ),
            case(
                "a stock with Q4 but a gap, not allowed",
                Stock,
                "2021",
                vec![q[0], q[1], q[3]],
                false,
                None,
                Expect::Missing("3 of 4 quarters"),
            ),
            // 2000 + 2100.25 + 2518.75 = 6619
            case(
                "three months sum to the quarter",
                Flow,
                "2022-Q1",
                first_quarter_by_month.clone(),
                false,
                Some("6619"),
                Expect::Aggregated(Monthly, 3),
            ),
            case(
                "a stock quarter takes its last month",
                Stock,
                "2022-Q1",
                first_quarter_by_month.clone(),
                false,
                Some("2518.75"),
                Expect::Aggregated(Monthly, 3),
            ),
            // Quarters are incomplete (Q1 only), the twelve months are not: 12 × 100.
            case(
                "complete months when quarters are not",
                Flow,
                "2021",
                [&q[..1], &months_of_2021(12)[..]].concat(),
                false,
                Some("1200"),
                Expect::Aggregated(Monthly, 12),
            ),
            // Three quarters cover nine months, five months only five.
            case(
                "incomplete prefers the wider coverage",
                Flow,
                "2021",
                [&q[..3], &months_of_2021(5)[..]].concat(),
                true,
                Some("20719.5"),
                Expect::Incomplete(Quarterly, 3, 4),
            ),
            // One quarter covers three months, seven months cover seven: 7 × 100.
            case(
                "incomplete months can cover more",
                Flow,
                "2021",
                [&q[..1], &months_of_2021(7)[..]].concat(),
                true,
                Some("700"),
                Expect::Incomplete(Monthly, 7, 12),
            ),
            // Q1 and M01..M03 both cover three months: the coarser wins, 6619.
            case(
                "equal coverage goes to the coarser",
                Flow,
                "2021",
                [&q[..1], &months_of_2021(3)[..]].concat(),
                true,
                Some("6619"),
                Expect::Incomplete(Quarterly, 1, 4),
            ),
            // Q3 + Q4 = 7100 + 6981.5 = 14081.5
            case(
                "a half from its quarters",
                Flow,
                "2021-S2",
                q.to_vec(),
                false,
                Some("14081.5"),
                Expect::Aggregated(Quarterly, 2),
            ),
            // Q1 + Q2 + Q3 = 20719.5
            case(
                "nine months to date from three quarters",
                Flow,
                "2021-YTD-M09",
                q.to_vec(),
                false,
                Some("20719.5"),
                Expect::Aggregated(Quarterly, 3),
            ),
            case(
                "other years do not count",
                Flow,
                "2022",
                q.to_vec(),
                true,
                None,
                Expect::Missing("nothing is stored for 2022 or its halves, quarters or months"),
            ),
            case(
                "a month has nothing finer",
                Flow,
                "2022-M03",
                q.to_vec(),
                true,
                None,
                Expect::Missing("nothing is stored for 2022-M03"),
            ),
            case(
                "a stored day is observed",
                Stock,
                "2024-03-18",
                vec![("2024-03-18", "5")],
                false,
                Some("5"),
                Expect::Observed,
            ),
        ];
        for case in &cases {
            let points = stored(&case.stored);
            let target = p(case.target);
            let point = aggregate(case.kind, &target, &points, case.allow_incomplete)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(point.period, target, "{}", case.name);
            check(&point, case.value, &case.expect, case.name);
        }
    }

    #[test]
    fn aggregation_combines_qualifiers_and_statuses() {
        let mut points = stored(&FOUR_QUARTERS);
        let q2 = p("2021-Q2");
        points.insert(
            q2,
            Point {
                qualifier: Qualifier::LowerBound,
                status: ObservationStatus::Estimated,
                ..points[&q2]
            },
        );
        let flow = aggregate(MeasureKind::Flow, &p("2021"), &points, false).unwrap();
        assert_eq!(flow.qualifier, Qualifier::LowerBound);
        assert_eq!(flow.status, ObservationStatus::Estimated);
        // A stock's year only depends on Q4, which is exact and normal.
        let stock = aggregate(MeasureKind::Stock, &p("2021"), &points, false).unwrap();
        assert_eq!(stock.qualifier, Qualifier::Exact);
        assert_eq!(stock.status, ObservationStatus::Normal);
    }

    #[test]
    fn aggregation_refuses_ratios_and_survives_overflow() {
        let points = stored(&FOUR_QUARTERS);
        assert_eq!(
            aggregate(MeasureKind::Ratio, &p("2021"), &points, true),
            Err(SeriesError::RatioNeedsNumeratorAndDenominator)
        );
        let huge: BTreeMap<PeriodCode, Point> = ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]
            .iter()
            .map(|period| {
                (
                    p(period),
                    Point {
                        value: Decimal::MAX,
                        ..exact("0")
                    },
                )
            })
            .collect();
        let point = aggregate(MeasureKind::Flow, &p("2021"), &huge, false).unwrap();
        check(
            &point,
            None,
            &Expect::Missing("does not fit in an exact decimal"),
            "overflow",
        );
    }

    #[test]
    fn ratios_are_recomputed_from_numerator_and_denominator() {
        use Frequency::Quarterly;
        use MeasureKind::{Flow, Stock};
        let observed_top = stored(&[("2021", "37952")]);
        let observed_bottom = stored(&[("2021", "62029")]);
        let ratio = aggregate_ratio(
            &p("2021"),
            (Stock, &observed_top),
            (Stock, &observed_bottom),
            false,
        )
        .unwrap();
        // 37952 / 62029 × 100 = 61.18428477002692289090586661… (worked out
        // with long division); exact digits, not a float's.
        let value = ratio.value.expect("both are stored");
        assert!(
            value.to_string().starts_with("61.184284770026922890905866"),
            "{value}"
        );
        assert_eq!(round_half_up(value, 2), d("61.18"));
        assert_eq!(ratio.provenance, Provenance::Observed);

        // Profit over revenue, both flows: (10+20+30+40) / (100+200+300+400) × 100 = 10.
        let profit = stored(&[
            ("2021-Q1", "10"),
            ("2021-Q2", "20"),
            ("2021-Q3", "30"),
            ("2021-Q4", "40"),
        ]);
        let revenue = stored(&[
            ("2021-Q1", "100"),
            ("2021-Q2", "200"),
            ("2021-Q3", "300"),
            ("2021-Q4", "400"),
        ]);
        let margin = aggregate_ratio(&p("2021"), (Flow, &profit), (Flow, &revenue), false).unwrap();
        check(
            &margin,
            Some("10"),
            &Expect::Aggregated(Quarterly, 4),
            "margin",
        );

        // NPL ratio, both stocks: Q4 3.2 / Q4 200 × 100 = 1.6 (not 10.7 / 680).
        let bad_debt = stored(&[
            ("2021-Q1", "2"),
            ("2021-Q2", "2.5"),
            ("2021-Q3", "3"),
            ("2021-Q4", "3.2"),
        ]);
        let loans = stored(&[
            ("2021-Q1", "150"),
            ("2021-Q2", "160"),
            ("2021-Q3", "170"),
            ("2021-Q4", "200"),
        ]);
        let npl = aggregate_ratio(&p("2021"), (Stock, &bad_debt), (Stock, &loans), false).unwrap();
        check(&npl, Some("1.6"), &Expect::Aggregated(Quarterly, 4), "npl");

        // Observed numerator, aggregated denominator: 100 / 1000 × 100 = 10, aggregated.
        let annual_profit = stored(&[("2021", "100")]);
        let mixed =
            aggregate_ratio(&p("2021"), (Flow, &annual_profit), (Flow, &revenue), false).unwrap();
        check(
            &mixed,
            Some("10"),
            &Expect::Aggregated(Quarterly, 4),
            "mixed",
        );

        // Revenue missing Q4 but allowed: 100 / (100+200+300) × 100 = 16.666…
        let partial_revenue = stored(&[("2021-Q1", "100"), ("2021-Q2", "200"), ("2021-Q3", "300")]);
        let incomplete = aggregate_ratio(
            &p("2021"),
            (Flow, &annual_profit),
            (Flow, &partial_revenue),
            true,
        )
        .unwrap();
        assert_eq!(
            round_half_up(incomplete.value.expect("allowed"), 2),
            d("16.67")
        );
        assert_eq!(
            incomplete.provenance,
            Provenance::Incomplete {
                frequency: Quarterly,
                parts: 3,
                expected: 4
            }
        );
        let refused = aggregate_ratio(
            &p("2021"),
            (Flow, &annual_profit),
            (Flow, &partial_revenue),
            false,
        )
        .unwrap();
        check(
            &refused,
            None,
            &Expect::Missing("denominator: 3 of 4 quarters"),
            "refused",
        );

        let zero = stored(&[("2021", "0")]);
        let undefined =
            aggregate_ratio(&p("2021"), (Stock, &observed_top), (Stock, &zero), false).unwrap();
        check(
            &undefined,
            None,
            &Expect::Missing("denominator is zero"),
            "zero",
        );

        let nothing = BTreeMap::new();
        let no_numerator =
            aggregate_ratio(&p("2021"), (Stock, &nothing), (Stock, &loans), false).unwrap();
        check(
            &no_numerator,
            None,
            &Expect::Missing("numerator: nothing is stored for 2021"),
            "no numerator",
        );

        assert_eq!(
            aggregate_ratio(
                &p("2021"),
                (MeasureKind::Ratio, &observed_top),
                (Stock, &loans),
                false
            ),
            Err(SeriesError::RatioNeedsNumeratorAndDenominator)
        );
    }

    #[test]
    fn ratio_qualifier_is_that_of_a_quotient() {
        let top: BTreeMap<PeriodCode, Point> = [(
            p("2021"),
            Point {
                qualifier: Qualifier::LowerBound,
                status: ObservationStatus::Provisional,
                ..exact("5")
            },
        )]
        .into();
        let bottom: BTreeMap<PeriodCode, Point> = [(
            p("2021"),
            Point {
                qualifier: Qualifier::UpperBound,
                ..exact("200")
            },
        )]
        .into();
        // More than 5 over less than 200 is more than 2.5 %.
        let ratio = aggregate_ratio(
            &p("2021"),
            (MeasureKind::Stock, &top),
            (MeasureKind::Stock, &bottom),
            false,
        )
        .unwrap();
        assert_eq!(ratio.value, Some(d("2.5")));
        assert_eq!(ratio.qualifier, Qualifier::LowerBound);
        assert_eq!(ratio.status, ObservationStatus::Provisional);
    }

    #[test]
    fn ratio_provenance_reports_the_less_direct_input() {
        use Frequency::{Monthly, Quarterly};
        let aggregated = |frequency, parts| Provenance::Aggregated { frequency, parts };
        let incomplete = |parts, expected| Provenance::Incomplete {
            frequency: Quarterly,
            parts,
            expected,
        };
        for (top, bottom, expected) in [
            (
                Provenance::Observed,
                Provenance::Observed,
                Provenance::Observed,
            ),
            (
                Provenance::Observed,
                aggregated(Quarterly, 4),
                aggregated(Quarterly, 4),
            ),
            (
                aggregated(Quarterly, 4),
                Provenance::Observed,
                aggregated(Quarterly, 4),
            ),
            (
                aggregated(Quarterly, 4),
                aggregated(Monthly, 12),
                aggregated(Monthly, 12),
            ),
            (
                aggregated(Monthly, 12),
                aggregated(Quarterly, 4),
                aggregated(Monthly, 12),
            ),
            (aggregated(Monthly, 12), incomplete(3, 4), incomplete(3, 4)),
            (incomplete(3, 4), incomplete(2, 4), incomplete(2, 4)),
            (incomplete(2, 4), incomplete(3, 4), incomplete(2, 4)),
        ] {
            assert_eq!(
                ratio_provenance(&top, &bottom),
                expected,
                "{top:?} / {bottom:?}"
            );
        }
    }

    #[test]
    fn sums_across_committees() {
        // 100 + 50.5 = 150.5 from two of three members.
        let (total, present) = sum_across(
            MeasureKind::Flow,
            &[Some(exact("100")), None, Some(exact("50.5"))],
        )
        .unwrap();
        assert_eq!(total.map(|point| point.value), Some(d("150.5")));
        assert_eq!(present, 2);

        let (total, present) = sum_across(MeasureKind::Stock, &[None, None]).unwrap();
        assert_eq!((total, present), (None, 0));
        assert_eq!(sum_across(MeasureKind::Stock, &[]).unwrap(), (None, 0));

        let more_than = Point {
            qualifier: Qualifier::LowerBound,
            status: ObservationStatus::Estimated,
            ..exact("7")
        };
        let (total, present) =
            sum_across(MeasureKind::Stock, &[Some(more_than), Some(exact("3"))]).unwrap();
        assert_eq!(present, 2);
        assert_eq!(
            total,
            Some(Point {
                value: d("10"),
                qualifier: Qualifier::LowerBound,
                status: ObservationStatus::Estimated
            })
        );

        assert_eq!(
            sum_across(MeasureKind::Ratio, &[Some(exact("1.5"))]),
            Err(SeriesError::RatioNeedsNumeratorAndDenominator)
        );
        let max = Point {
            value: Decimal::MAX,
            ..exact("0")
        };
        assert_eq!(
            sum_across(MeasureKind::Flow, &[Some(max), Some(exact("1"))]),
            Err(SeriesError::Overflow)
        );
    }

    fn series_point(period: &str, value: Option<&str>) -> SeriesPoint {
        match value {
            Some(value) => SeriesPoint::observed(p(period), exact(value)),
            None => SeriesPoint::missing(p(period), format!("nothing is stored for {period}")),
        }
    }

    /// Quarterly revenue from 2021-Q1; 2022-Q3 is missing.
    fn quarterly_revenue() -> Vec<SeriesPoint> {
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
                    (Ok(text), Some(value), Provenance::Observed) => {
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
        current.provenance = Provenance::Aggregated {
            frequency: Frequency::Monthly,
            parts: 3,
        };
        let result = apply_transform(&[base, current.clone()], Transform::Chg, &[p("2022-Q2")]);
        // 120 minus more than 100 is less than 20.
        assert_eq!(
            result,
            vec![SeriesPoint {
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

        for frequency in [Frequency::Daily, Frequency::YearToDate] {
            assert_eq!(
                codes("2021", "2022", frequency),
                Err(SeriesError::FrequencyNotRegular(frequency))
            );
        }
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

    #[test]
    fn provenance_on_the_wire() {
        use serde_json::json;
        for (provenance, expected) in [
            (Provenance::Observed, json!({"kind": "observed"})),
            (
                Provenance::Aggregated {
                    frequency: Frequency::Quarterly,
                    parts: 4,
                },
                json!({"kind": "aggregated", "frequency": "quarterly", "parts": 4}),
            ),
            (
                Provenance::Incomplete {
                    frequency: Frequency::SemiAnnual,
                    parts: 1,
                    expected: 2,
                },
                json!({"kind": "incomplete", "frequency": "semi_annual", "parts": 1, "expected": 2}),
            ),
            (
                Provenance::Missing {
                    reason: "why".into(),
                },
                json!({"kind": "missing", "reason": "why"}),
            ),
        ] {
            assert_eq!(serde_json::to_value(&provenance).unwrap(), expected);
        }
        let schema = serde_json::to_string(&<Provenance as utoipa::PartialSchema>::schema())
            .expect("the schema serialises");
        assert!(schema.contains("incomplete"), "{schema}");
    }
}
