//! The figure of a period: the one rule every analysis answers with.
//!
//! "What was indicator I for committee C in period P?" is answered here, from
//! the figures stored for that committee and indicator, and nowhere else:
//!
//! 1. **Stored.** A figure stored for P, or for a period with exactly P's
//!    span (`2022-S1` answers `2022-YTD-M06`, and the other way round).
//! 2. **Derived**, by the indicator's measure kind:
//!    - *flow*: the sum of figures that tile P. P splits into halves, a half
//!      into quarters, a quarter into months (a year-to-date span into the
//!      largest aligned blocks: `YTD-M09` = S1 + Q3), and each part is
//!      resolved by this same rule. So every part is covered by the coarsest
//!      figure stored for it, gaps are looked for in finer figures, and a
//!      derived year always equals the sum of what its halves resolve to.
//!    - *stock*: the level at P's end, i.e. the figure of a period that ends
//!      on P's last day (2022 from 2022-Q4, or 2022-M12, or 2022-12-31). It
//!      is complete as soon as that one figure is stored.
//!    - *ratio*: numerator ÷ denominator × 100, each resolved by its own kind;
//!      never summed or averaged.
//! 3. **Missing**, with a reason a user can act on.
//!
//! A flow with only some of its parts stored is *incomplete*: refused (a
//! missing value whose reason says what is lacking) unless the caller passes
//! `allow_incomplete`, and then returned with `completeness.complete = false`.
//!
//! Every answer says where it came from ([`Provenance`]: the stored figure's
//! id, or the ids and periods of the figures it was derived from), how much
//! of the period it covers ([`Completeness`]), and inherits the qualifiers and
//! statuses of its inputs (a sum with a lower bound is a lower bound, with an
//! estimate an estimate: [`combine_sum`], [`combine_status`]).
//!
//! Pure exact decimal maths: no storage, no HTTP.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::indicator::MeasureKind;
use super::period::PeriodCode;
use super::series::{combine_difference, combine_status, combine_sum};
use super::value::{ObservationStatus, Qualifier};

/// A figure as stored: one committee × indicator × period (a total).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFigure {
    pub id: i64,
    pub period: PeriodCode,
    pub value: Decimal,
    pub qualifier: Qualifier,
    pub status: ObservationStatus,
}

/// The stored figures of one committee × indicator, by period.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    by_period: BTreeMap<PeriodCode, StoredFigure>,
}

impl Figures {
    pub const fn new() -> Self {
        Self {
            by_period: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, figure: StoredFigure) {
        self.by_period.insert(figure.period, figure);
    }

    pub fn get(&self, period: &PeriodCode) -> Option<&StoredFigure> {
        self.by_period.get(period)
    }

    /// The figure stored for exactly `period`, else for another period with
    /// the same span (a half for the year to date of its six months).
    pub fn same_span(&self, period: &PeriodCode) -> Option<&StoredFigure> {
        if let Some(figure) = self.get(period) {
            return Some(figure);
        }
        let (year, first, last) = period.month_span()?;
        periods_spanning(year, first, last)
            .iter()
            .find_map(|alias| self.get(alias))
    }
}

impl FromIterator<StoredFigure> for Figures {
    fn from_iter<T: IntoIterator<Item = StoredFigure>>(iter: T) -> Self {
        let mut figures = Figures::default();
        for figure in iter {
            figures.insert(figure);
        }
        figures
    }
}

/// How a derived value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A flow: the sum of figures that tile the period.
    Sum,
    /// A stock: the level stored for a period ending on the period's last day.
    PeriodEnd,
    /// A ratio: numerator ÷ denominator × 100.
    Ratio,
    /// A group: the total over its member committees.
    GroupTotal,
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A figure stored for this period (or for one with the same span).
    Stored {
        /// Id of the stored figure.
        id: i64,
        /// The period it is stored for (`2022-S1` for `2022-YTD-M06`).
        #[schema(value_type = String)]
        period: PeriodCode,
    },
    /// Computed from stored figures.
    Derived {
        rule: Rule,
        /// The periods of the figures used, in order.
        #[schema(value_type = Vec<String>)]
        sub_periods: Vec<PeriodCode>,
        /// Ids of the stored figures used.
        from: Vec<i64>,
    },
    /// No value; `reason` says what is lacking.
    Missing { reason: String },
}

/// How much of the period the value covers.
///
/// For a flow, `present` of `expected` months of the period are covered by
/// the figures used; for a stock (one level at the period's end), a day, or a
/// figure stored for the period, 1 of 1 or 0 of 1; for a ratio, the less
/// complete of numerator and denominator; for a group, the totals over the
/// members that have a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Completeness {
    pub present: u32,
    pub expected: u32,
    /// `present == expected`. A value with `complete: false` was asked for
    /// with `allow_incomplete=true` and is not the period's full figure.
    pub complete: bool,
    /// The parts with nothing stored (coarsest first: `2022-S2`, not its quarters).
    #[schema(value_type = Vec<String>)]
    pub missing: Vec<PeriodCode>,
}

impl Completeness {
    fn whole(complete: bool, period: &PeriodCode) -> Self {
        Self {
            present: u32::from(complete),
            expected: 1,
            complete,
            missing: if complete { Vec::new() } else { vec![*period] },
        }
    }

    /// Present share as a fraction comparable across units.
    fn less_complete_than(&self, other: &Completeness) -> bool {
        u64::from(self.present) * u64::from(other.expected)
            < u64::from(other.present) * u64::from(self.expected)
    }
}

/// The answer to "the value of I for C in P".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resolved {
    #[schema(value_type = String)]
    pub period: PeriodCode,
    /// The value, or null when it cannot be given (see `provenance.reason`).
    #[schema(value_type = Option<String>)]
    pub value: Option<Decimal>,
    /// Combined qualifier of the figures used.
    pub qualifier: Qualifier,
    /// The least final status of the figures used.
    pub status: ObservationStatus,
    pub provenance: Provenance,
    pub completeness: Completeness,
}

impl Resolved {
    fn stored(period: PeriodCode, figure: &StoredFigure) -> Self {
        Self {
            period,
            value: Some(figure.value),
            qualifier: figure.qualifier,
            status: figure.status,
            provenance: Provenance::Stored {
                id: figure.id,
                period: figure.period,
            },
            completeness: Completeness::whole(true, &period),
        }
    }

    /// No value, for `reason`.
    pub fn missing(period: PeriodCode, reason: String, completeness: Completeness) -> Self {
        Self {
            period,
            value: None,
            qualifier: Qualifier::Exact,
            status: ObservationStatus::Normal,
            provenance: Provenance::Missing { reason },
            completeness,
        }
    }

    /// This answer without its value, keeping qualifier, status and completeness.
    pub fn without_value(&self, reason: String) -> Self {
        Self {
            value: None,
            provenance: Provenance::Missing { reason },
            ..self.clone()
        }
    }

    /// Ids of the stored figures the value is built from.
    pub fn ids(&self) -> Vec<i64> {
        match &self.provenance {
            Provenance::Stored { id, .. } => vec![*id],
            Provenance::Derived { from, .. } => from.clone(),
            Provenance::Missing { .. } => Vec::new(),
        }
    }

    /// The id of the figure stored for this period, if the value is one.
    pub fn stored_id(&self) -> Option<i64> {
        match &self.provenance {
            Provenance::Stored { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Periods of the figures the value is built from.
    fn sub_periods(&self) -> Vec<PeriodCode> {
        match &self.provenance {
            Provenance::Stored { period, .. } => vec![*period],
            Provenance::Derived { sub_periods, .. } => sub_periods.clone(),
            Provenance::Missing { .. } => Vec::new(),
        }
    }

    /// Why there is no value, or a generic phrase.
    pub fn missing_reason(&self) -> String {
        match &self.provenance {
            Provenance::Missing { reason } => reason.clone(),
            _ => format!("no value for {}", self.period),
        }
    }
}

/// The periods whose stored figure answers for `period` as stored (see
/// [`resolve`]: a figure stored for the period itself, else for one with the
/// same span), in the order they are tried.
pub fn same_span_periods(period: &PeriodCode) -> Vec<PeriodCode> {
    let mut periods = vec![*period];
    if let Some((year, first, last)) = period.month_span() {
        for alias in periods_spanning(year, first, last) {
            if !periods.contains(&alias) {
                periods.push(alias);
            }
        }
    }
    periods
}

/// The periods of a year with the span `first..=last` months: the regular
/// one (year, half, quarter, month) first, then the year to date.
fn periods_spanning(year: i32, first: u8, last: u8) -> Vec<PeriodCode> {
    let mut periods = Vec::new();
    let length = last.saturating_sub(first) + 1;
    let regular = match length {
        12 if first == 1 => PeriodCode::calendar_year(year).ok(),
        6 if first == 1 || first == 7 => PeriodCode::half(year, first / 6 + 1).ok(),
        3 if (first - 1).is_multiple_of(3) => PeriodCode::quarter(year, first / 3 + 1).ok(),
        1 => PeriodCode::month(year, first).ok(),
        _ => None,
    };
    periods.extend(regular);
    if first == 1 && last < 12 {
        periods.extend(PeriodCode::year_to_date(year, last).ok());
    }
    periods
}

/// Every month-based period of `year`: the year, its halves, quarters,
/// months and years to date.
fn periods_of_year(year: i32) -> Vec<PeriodCode> {
    let mut periods = Vec::new();
    periods.extend(PeriodCode::calendar_year(year).ok());
    periods.extend((1..=2).filter_map(|h| PeriodCode::half(year, h).ok()));
    periods.extend((1..=4).filter_map(|q| PeriodCode::quarter(year, q).ok()));
    periods.extend((1..=12).filter_map(|m| PeriodCode::month(year, m).ok()));
    periods.extend((1..=11).filter_map(|m| PeriodCode::year_to_date(year, m).ok()));
    periods
}

/// Every period whose stored figure [`resolve`] may use for `period`, of any
/// measure kind: the periods within it (a flow's parts) and those ending on
/// its last day (a stock's level), including that day itself. What storage
/// reads for a question, so the read is bounded by what the question names.
pub fn candidate_periods(period: &PeriodCode) -> Vec<PeriodCode> {
    let Some((year, first, last)) = period.month_span() else {
        return vec![*period];
    };
    let mut candidates: Vec<PeriodCode> = periods_of_year(year)
        .into_iter()
        .filter(|candidate| {
            candidate
                .month_span()
                .is_some_and(|(_, start, end)| (first <= start && end <= last) || end == last)
        })
        .collect();
    candidates.extend(PeriodCode::day(period.end()).ok());
    candidates
}

/// Splits the months `first..=last` into the largest aligned blocks shorter
/// than the whole: a year into halves, a half into quarters, a quarter into
/// months, `1..=9` into a half and a quarter.
fn split(first: u8, last: u8) -> Vec<(u8, u8)> {
    let length = last - first + 1;
    let mut parts = Vec::new();
    let mut month = first;
    while month <= last {
        let size = [6u8, 3, 1]
            .into_iter()
            .find(|size| {
                *size < length && (month - 1).is_multiple_of(*size) && month + size - 1 <= last
            })
            .unwrap_or(1);
        parts.push((month, month + size - 1));
        month += size;
    }
    parts
}

/// How a flow's months are covered: by a stored figure, by finer parts, or not at all.
enum Cover<'a> {
    Stored(&'a StoredFigure),
    Split(Vec<Cover<'a>>),
    Gap(PeriodCode),
}

fn cover<'a>(figures: &'a Figures, year: i32, first: u8, last: u8) -> Cover<'a> {
    let periods = periods_spanning(year, first, last);
    if let Some(figure) = periods.iter().find_map(|period| figures.get(period)) {
        return Cover::Stored(figure);
    }
    let gap = || Cover::Gap(periods[0]);
    if first == last {
        return gap();
    }
    let parts: Vec<Cover<'a>> = split(first, last)
        .into_iter()
        .map(|(start, end)| cover(figures, year, start, end))
        .collect();
    if parts.iter().all(|part| matches!(part, Cover::Gap(_))) {
        // One gap named for the whole part, not for each of its months.
        gap()
    } else {
        Cover::Split(parts)
    }
}

fn flatten<'a>(cover: Cover<'a>, used: &mut Vec<&'a StoredFigure>, gaps: &mut Vec<PeriodCode>) {
    match cover {
        Cover::Stored(figure) => used.push(figure),
        Cover::Gap(period) => gaps.push(period),
        Cover::Split(parts) => {
            for part in parts {
                flatten(part, used, gaps);
            }
        }
    }
}

fn months_of(figure: &StoredFigure) -> u32 {
    figure.period.months().unwrap_or(0)
}

fn codes(periods: &[PeriodCode]) -> String {
    periods
        .iter()
        .map(PeriodCode::code)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sum of `figures` with combined qualifier and status; `None` on overflow.
fn sum(figures: &[&StoredFigure]) -> Option<(Decimal, Qualifier, ObservationStatus)> {
    let (first, rest) = figures.split_first()?;
    rest.iter().try_fold(
        (first.value, first.qualifier, first.status),
        |(value, qualifier, status), figure| {
            Some((
                value.checked_add(figure.value)?,
                combine_sum(qualifier, figure.qualifier),
                combine_status(status, figure.status),
            ))
        },
    )
}

fn resolve_flow(period: &PeriodCode, figures: &Figures, allow_incomplete: bool) -> Resolved {
    let Some((year, first, last)) = period.month_span() else {
        return Resolved::missing(
            *period,
            format!("nothing is stored for {period}"),
            Completeness::whole(false, period),
        );
    };
    let mut used = Vec::new();
    let mut gaps = Vec::new();
    match cover(figures, year, first, last) {
        // The whole span is stored (under another name), handled by the caller.
        Cover::Stored(figure) => used.push(figure),
        Cover::Gap(_) => gaps.push(*period),
        Cover::Split(parts) => {
            for part in parts {
                flatten(part, &mut used, &mut gaps);
            }
        }
    }
    let expected = u32::from(last - first + 1);
    let present: u32 = used.iter().map(|figure| months_of(figure)).sum();
    let completeness = Completeness {
        present,
        expected,
        complete: gaps.is_empty(),
        missing: gaps.clone(),
    };
    if used.is_empty() {
        return Resolved::missing(
            *period,
            format!("nothing is stored for {period} or any part of it"),
            completeness,
        );
    }
    let sub_periods: Vec<PeriodCode> = used.iter().map(|figure| figure.period).collect();
    if !gaps.is_empty() && !allow_incomplete {
        return Resolved::missing(
            *period,
            format!(
                "only {present} of the {expected} months of {period} are stored ({}); nothing is \
                 stored for {}. Pass allow_incomplete=true to get the sum of what is stored, \
                 flagged incomplete",
                codes(&sub_periods),
                codes(&gaps)
            ),
            completeness,
        );
    }
    let Some((value, qualifier, status)) = sum(&used) else {
        return Resolved::missing(
            *period,
            format!(
                "the sum of {} does not fit in an exact decimal",
                codes(&sub_periods)
            ),
            completeness,
        );
    };
    Resolved {
        period: *period,
        value: Some(value),
        // A partial sum keeps its parts' qualifier: the completeness is the
        // flag, since a partial sum of a flow that can be negative is no bound.
        qualifier,
        status,
        provenance: Provenance::Derived {
            rule: Rule::Sum,
            sub_periods,
            from: used.iter().map(|figure| figure.id).collect(),
        },
        completeness,
    }
}

/// The periods whose figure is a stock's level at the end of `period`,
/// longest first (the year, its last half, quarter, month; a period before
/// the same span as a year to date), then its last day.
fn period_end_candidates(period: &PeriodCode) -> Vec<PeriodCode> {
    let mut candidates: Vec<PeriodCode> = match period.month_span() {
        Some((year, _, last)) => periods_of_year(year)
            .into_iter()
            .filter(|candidate| {
                candidate
                    .month_span()
                    .is_some_and(|(_, _, end)| end == last)
            })
            .collect(),
        None => Vec::new(),
    };
    // Stable: among equal spans the regular period stays before the year to date.
    candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.end() - candidate.start()));
    candidates.extend(PeriodCode::day(period.end()).ok());
    candidates
}

fn resolve_stock(period: &PeriodCode, figures: &Figures) -> Resolved {
    let candidates = period_end_candidates(period);
    match candidates
        .iter()
        .find_map(|candidate| figures.get(candidate))
    {
        Some(figure) => Resolved {
            provenance: Provenance::Derived {
                rule: Rule::PeriodEnd,
                sub_periods: vec![figure.period],
                from: vec![figure.id],
            },
            ..Resolved::stored(*period, figure)
        },
        None => Resolved::missing(
            *period,
            format!(
                "nothing is stored for the end of {period} ({}): a stock's value is its level at \
                 the end of the period, which earlier sub-periods cannot give",
                codes(&candidates)
            ),
            Completeness::whole(false, period),
        ),
    }
}

/// The value of an indicator of `kind` for `period`, from its stored figures.
///
/// A ratio given to this function has no numerator and denominator to
/// recompute it from: it is stored or missing (see [`resolve_ratio`]).
pub fn resolve(
    kind: MeasureKind,
    period: &PeriodCode,
    figures: &Figures,
    allow_incomplete: bool,
) -> Resolved {
    if let Some(figure) = figures.same_span(period) {
        return Resolved::stored(*period, figure);
    }
    match kind {
        MeasureKind::Flow => resolve_flow(period, figures, allow_incomplete),
        MeasureKind::Stock => resolve_stock(period, figures),
        MeasureKind::Ratio => Resolved::missing(
            *period,
            format!(
                "no figure is stored for {period}; a ratio is never summed or averaged, and this \
                 indicator names no numerator and denominator to recompute it from"
            ),
            Completeness::whole(false, period),
        ),
    }
}

/// The value of a ratio for `period`: stored, else recomputed from the
/// numerator's and denominator's values, each resolved by its own kind.
pub fn resolve_ratio(
    period: &PeriodCode,
    figures: &Figures,
    numerator: (MeasureKind, &Figures),
    denominator: (MeasureKind, &Figures),
    allow_incomplete: bool,
) -> Resolved {
    if let Some(figure) = figures.same_span(period) {
        return Resolved::stored(*period, figure);
    }
    let top = resolve(numerator.0, period, numerator.1, allow_incomplete);
    let bottom = resolve(denominator.0, period, denominator.1, allow_incomplete);
    ratio_of(period, &top, &bottom)
}

/// `numerator / denominator × 100`, exactly to 28 significant digits;
/// `None` for a zero denominator or an overflow.
pub fn percent_of(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
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

/// A ratio (percent) from a resolved numerator and denominator. Exact (round
/// it only for display); qualifier that of a quotient ([`combine_difference`],
/// valid for positive values), status the least final, completeness the less
/// complete of the two, provenance the figures of both.
pub fn ratio_of(period: &PeriodCode, numerator: &Resolved, denominator: &Resolved) -> Resolved {
    let completeness = if denominator
        .completeness
        .less_complete_than(&numerator.completeness)
    {
        denominator.completeness.clone()
    } else {
        numerator.completeness.clone()
    };
    let (Some(top), Some(bottom)) = (numerator.value, denominator.value) else {
        let mut reasons = Vec::new();
        if numerator.value.is_none() {
            reasons.push(format!("numerator: {}", numerator.missing_reason()));
        }
        if denominator.value.is_none() {
            reasons.push(format!("denominator: {}", denominator.missing_reason()));
        }
        return Resolved::missing(*period, reasons.join("; "), completeness);
    };
    let qualifier = combine_difference(numerator.qualifier, denominator.qualifier);
    let status = combine_status(numerator.status, denominator.status);
    let value = if bottom.is_zero() {
        Err(format!(
            "the denominator is zero for {period}, so the ratio is undefined"
        ))
    } else {
        percent_of(top, bottom)
            .ok_or_else(|| format!("the ratio for {period} does not fit in an exact decimal"))
    };
    let mut sub_periods = numerator.sub_periods();
    sub_periods.extend(denominator.sub_periods());
    sub_periods.sort();
    sub_periods.dedup();
    let mut from = numerator.ids();
    from.extend(denominator.ids());
    match value {
        Ok(value) => Resolved {
            period: *period,
            value: Some(value),
            qualifier,
            status,
            provenance: Provenance::Derived {
                rule: Rule::Ratio,
                sub_periods,
                from,
            },
            completeness,
        },
        Err(reason) => Resolved {
            qualifier,
            status,
            ..Resolved::missing(*period, reason, completeness)
        },
    }
}

/// The total of one period over the members of a group (flows and stocks
/// both add across committees), from each member's resolved value, and how
/// many members have one. Absent members are not guessed: the caller reports
/// the count next to the group's size.
pub fn group_total(period: &PeriodCode, members: &[Resolved]) -> (Resolved, usize) {
    let present: Vec<&Resolved> = members.iter().filter(|m| m.value.is_some()).collect();
    let Some((first, rest)) = present.split_first() else {
        return (
            Resolved::missing(
                *period,
                format!("no member committee has a value for {period}"),
                Completeness::whole(false, period),
            ),
            0,
        );
    };
    let start = (
        first.value.unwrap_or_default(),
        first.qualifier,
        first.status,
    );
    let total = rest
        .iter()
        .try_fold(start, |(value, qualifier, status), member| {
            Some((
                value.checked_add(member.value?)?,
                combine_sum(qualifier, member.qualifier),
                combine_status(status, member.status),
            ))
        });
    let completeness = Completeness {
        present: present.iter().map(|m| m.completeness.present).sum(),
        expected: present.iter().map(|m| m.completeness.expected).sum(),
        complete: present.iter().all(|m| m.completeness.complete),
        missing: present
            .iter()
            .flat_map(|m| m.completeness.missing.iter().copied())
            .collect(),
    };
    let Some((value, qualifier, status)) = total else {
        return (
            Resolved::missing(
                *period,
                "the total does not fit in an exact decimal".into(),
                completeness,
            ),
            present.len(),
        );
    };
    let mut sub_periods: Vec<PeriodCode> = present.iter().flat_map(|m| m.sub_periods()).collect();
    sub_periods.sort();
    sub_periods.dedup();
    let resolved = Resolved {
        period: *period,
        value: Some(value),
        qualifier,
        status,
        provenance: Provenance::Derived {
            rule: Rule::GroupTotal,
            sub_periods,
            from: present.iter().flat_map(|m| m.ids()).collect(),
        },
        completeness,
    };
    (resolved, present.len())
}

/// The total of one period over the figures stored for exactly that period
/// by members of a group (in member order), and how many there are: the
/// [`group_total`] of what [`resolve`] answers for each (a stored figure is
/// its own answer). When every member has one, it is the group's answer for
/// the period, which is why storage keeps it current on write (a rollup).
pub fn stored_total(period: &PeriodCode, figures: &[StoredFigure]) -> (Resolved, usize) {
    let members: Vec<Resolved> = figures
        .iter()
        .map(|figure| Resolved::stored(*period, figure))
        .collect();
    group_total(period, &members)
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

    /// Figures with ids 1, 2, … in the order given.
    fn stored(rows: &[(&str, &str)]) -> Figures {
        rows.iter()
            .zip(1..)
            .map(|((period, value), id)| StoredFigure {
                id,
                period: p(period),
                value: d(value),
                qualifier: Qualifier::Exact,
                status: ObservationStatus::Normal,
            })
            .collect()
    }

    /// What an answer should be.
    #[derive(Debug)]
    enum Expect {
        /// Stored, with this id.
        Stored(i64),
        /// Derived by this rule from these sub-periods; `present` of `expected`.
        Derived(Rule, &'static [&'static str], u32, u32),
        /// Missing, the reason containing the text.
        Missing(&'static str),
    }

    fn check(answer: &Resolved, value: Option<&str>, expect: &Expect, case: &str) {
        assert_eq!(answer.value, value.map(d), "{case}: value {answer:?}");
        match (expect, &answer.provenance) {
            (Expect::Stored(want), Provenance::Stored { id, .. }) => {
                assert_eq!(id, want, "{case}");
                assert!(answer.completeness.complete, "{case}");
            }
            (
                Expect::Derived(rule, periods, present, expected),
                Provenance::Derived {
                    rule: got,
                    sub_periods,
                    from,
                },
            ) => {
                assert_eq!(got, rule, "{case}");
                let codes: Vec<String> = sub_periods.iter().map(PeriodCode::code).collect();
                assert_eq!(codes, *periods, "{case}");
                if *rule != Rule::Ratio {
                    assert_eq!(from.len(), periods.len(), "{case}: one id per figure");
                }
                assert_eq!(
                    (answer.completeness.present, answer.completeness.expected),
                    (*present, *expected),
                    "{case}"
                );
                assert_eq!(answer.completeness.complete, present == expected, "{case}");
            }
            (Expect::Missing(text), Provenance::Missing { reason }) => {
                assert!(reason.contains(text), "{case}: {reason}")
            }
            (expect, got) => panic!("{case}: expected {expect:?}, got {got:?}"),
        }
    }

    /// Name, stored figures, period asked, allow_incomplete, value, answer.
    type FlowCase = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        &'static str,
        bool,
        Option<&'static str>,
        Expect,
    );
    /// Name, stored figures, period asked, value, answer.
    type StockCase = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        &'static str,
        Option<&'static str>,
        Expect,
    );

    const QUARTERS_2022: [(&str, &str); 4] = [
        ("2022-Q1", "1400"),
        ("2022-Q2", "1450.5"),
        ("2022-Q3", "1500"),
        ("2022-Q4", "1511"),
    ];

    fn months_2022() -> Vec<(&'static str, &'static str)> {
        const MONTHS: [&str; 12] = [
            "2022-M01", "2022-M02", "2022-M03", "2022-M04", "2022-M05", "2022-M06", "2022-M07",
            "2022-M08", "2022-M09", "2022-M10", "2022-M11", "2022-M12",
        ];
        // 101, 102, … 112
        const VALUES: [&str; 12] = [
            "101", "102", "103", "104", "105", "106", "107", "108", "109", "110", "111", "112",
        ];
        MONTHS.into_iter().zip(VALUES).collect()
    }

    #[test]
    fn a_flow_is_stored_or_the_sum_of_what_tiles_it() {
        use Expect::{Derived, Missing, Stored};
        use Rule::Sum;
        let q = QUARTERS_2022.to_vec();
        let m = months_2022();
        let all_quarters: &[&str] = &["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"];
        #[rustfmt::skip]
        let cases: Vec<FlowCase> = vec![
            // 1400 + 1450.5 + 1500 + 1511 = 5861.5
            ("year from quarters", q.clone(), "2022", false, Some("5861.5"), Derived(Sum, all_quarters, 12, 12)),
            ("a stored year wins", [&q[..], &[("2022", "5900")]].concat(), "2022", false, Some("5900"), Stored(5)),
            // 1400 + 1450.5 = 2850.5
            ("half from quarters", q.clone(), "2022-S1", false, Some("2850.5"), Derived(Sum, &["2022-Q1", "2022-Q2"], 6, 6)),
            ("year to date of six months from quarters", q.clone(), "2022-YTD-M06", false, Some("2850.5"), Derived(Sum, &["2022-Q1", "2022-Q2"], 6, 6)),
            // 1400 + 1450.5 + 1500 = 4350.5
            ("nine months from quarters", q.clone(), "2022-YTD-M09", false, Some("4350.5"), Derived(Sum, &["2022-Q1", "2022-Q2", "2022-Q3"], 9, 9)),
            ("a quarter is stored", q.clone(), "2022-Q3", false, Some("1500"), Stored(3)),
            ("a month of quarterly data", q.clone(), "2022-M02", false, None, Missing("nothing is stored for 2022-M02")),
            // 101 + … + 112 = 1278
            ("year from months", m.clone(), "2022", false, Some("1278"), Derived(Sum, &["2022-M01", "2022-M02", "2022-M03", "2022-M04", "2022-M05", "2022-M06", "2022-M07", "2022-M08", "2022-M09", "2022-M10", "2022-M11", "2022-M12"], 12, 12)),
            // 110 + 111 + 112 = 333
            ("quarter from months", m.clone(), "2022-Q4", false, Some("333"), Derived(Sum, &["2022-M10", "2022-M11", "2022-M12"], 3, 3)),
            // 101 + … + 108 = 836
            ("eight months from months", m.clone(), "2022-YTD-M08", false, Some("836"), Derived(Sum, &["2022-M01", "2022-M02", "2022-M03", "2022-M04", "2022-M05", "2022-M06", "2022-M07", "2022-M08"], 8, 8)),
            // The coarsest stored figure covers each part: S1 (3000) + Q3 (1500) + M10..M12 (333) = 4833.
            ("mixed halves, quarters and months", vec![("2022-S1", "3000"), ("2022-Q3", "1500"), ("2022-M10", "110"), ("2022-M11", "111"), ("2022-M12", "112"), ("2022-Q1", "1")], "2022", false, Some("4833"), Derived(Sum, &["2022-S1", "2022-Q3", "2022-M10", "2022-M11", "2022-M12"], 12, 12)),
            // The year equals what its halves resolve to: S1 stored (3000) beats Q1 + Q2.
            ("a stored half beats its quarters", [&q[..], &[("2022-S1", "3000")]].concat(), "2022", false, Some("6011"), Derived(Sum, &["2022-S1", "2022-Q3", "2022-Q4"], 12, 12)),
            ("a year to date answers its half", vec![("2022-YTD-M06", "2850.5")], "2022-S1", false, Some("2850.5"), Stored(1)),
            ("a half answers its year to date", vec![("2022-S1", "2850.5")], "2022-YTD-M06", false, Some("2850.5"), Stored(1)),
            ("three quarters are refused", q[..3].to_vec(), "2022", false, None, Missing("only 9 of the 12 months of 2022 are stored (2022-Q1, 2022-Q2, 2022-Q3); nothing is stored for 2022-Q4. Pass allow_incomplete=true")),
            ("three quarters when allowed", q[..3].to_vec(), "2022", true, Some("4350.5"), Derived(Sum, &["2022-Q1", "2022-Q2", "2022-Q3"], 9, 12)),
            ("a missing half is named once", q[..2].to_vec(), "2022", false, None, Missing("nothing is stored for 2022-S2")),
            ("nothing stored", q.clone(), "2023", true, None, Missing("nothing is stored for 2023 or any part of it")),
            ("a day is stored or missing", q.clone(), "2022-03-31", true, None, Missing("nothing is stored for 2022-03-31")),
        ];
        for (name, rows, period, allow, value, expect) in cases {
            let answer = resolve(MeasureKind::Flow, &p(period), &stored(&rows), allow);
            assert_eq!(answer.period, p(period), "{name}");
            check(&answer, value, &expect, name);
        }
        let refused = resolve(MeasureKind::Flow, &p("2022"), &stored(&q[..3]), false);
        assert_eq!(
            (refused.completeness.present, refused.completeness.expected),
            (9, 12),
            "a refusal still says how much is there"
        );
        assert_eq!(refused.completeness.missing, vec![p("2022-Q4")]);
    }

    #[test]
    fn a_stock_is_its_level_at_the_period_end() {
        use Expect::{Derived, Missing, Stored};
        use Rule::PeriodEnd;
        // Bank deposits stored for 2021-Q4, 2022-Q2 and 2022-Q4 (the case).
        let deposits = vec![
            ("2021-Q4", "50000"),
            ("2022-Q2", "55000"),
            ("2022-Q4", "62029"),
        ];
        let m = months_2022();
        #[rustfmt::skip]
        let cases: Vec<StockCase> = vec![
            ("a year is its Q4, gaps or not", deposits.clone(), "2022", Some("62029"), Derived(PeriodEnd, &["2022-Q4"], 1, 1)),
            ("last year likewise", deposits.clone(), "2021", Some("50000"), Derived(PeriodEnd, &["2021-Q4"], 1, 1)),
            ("a half is its last quarter", deposits.clone(), "2022-S1", Some("55000"), Derived(PeriodEnd, &["2022-Q2"], 1, 1)),
            ("a year to date ending a quarter", deposits.clone(), "2022-YTD-M06", Some("55000"), Derived(PeriodEnd, &["2022-Q2"], 1, 1)),
            ("no level at the end", deposits.clone(), "2022-S2", Some("62029"), Derived(PeriodEnd, &["2022-Q4"], 1, 1)),
            ("a month ending a stored quarter", deposits.clone(), "2022-M12", Some("62029"), Derived(PeriodEnd, &["2022-Q4"], 1, 1)),
            ("earlier levels never stand in", deposits.clone(), "2022-Q3", None, Missing("nothing is stored for the end of 2022-Q3 (2022-YTD-M09, 2022-Q3, 2022-M09, 2022-09-30)")),
            ("a stored quarter", deposits.clone(), "2022-Q2", Some("55000"), Stored(2)),
            ("a year from its December", m.clone(), "2022", Some("112"), Derived(PeriodEnd, &["2022-M12"], 1, 1)),
            ("nine months from September", m.clone(), "2022-YTD-M09", Some("109"), Derived(PeriodEnd, &["2022-M09"], 1, 1)),
            // The longest period ending there wins: S2 before Q4.
            ("the longest period ending there", vec![("2022-Q4", "1"), ("2022-S2", "2")], "2022", Some("2"), Derived(PeriodEnd, &["2022-S2"], 1, 1)),
            ("a day at the end", vec![("2022-12-31", "7")], "2022-Q4", Some("7"), Derived(PeriodEnd, &["2022-12-31"], 1, 1)),
        ];
        for (name, rows, period, value, expect) in cases {
            // allow_incomplete changes nothing for a stock.
            for allow in [false, true] {
                let answer = resolve(MeasureKind::Stock, &p(period), &stored(&rows), allow);
                check(&answer, value, &expect, name);
            }
        }
    }

    #[test]
    fn a_ratio_is_recomputed_never_averaged() {
        use Expect::{Derived, Missing, Stored};
        // Bad debt (stock) over loans (stock), and a margin: profit (flow) over revenue (flow).
        let bad_debt = stored(&[("2022-Q4", "30"), ("2022-Q2", "10")]);
        let loans = stored(&[("2022-Q4", "1200"), ("2022-Q2", "800")]);
        let no_ratio = Figures::default();
        let stock = MeasureKind::Stock;
        // 30 / 1200 × 100 = 2.5: the year-end levels, not an average of quarters.
        let answer = resolve_ratio(
            &p("2022"),
            &no_ratio,
            (stock, &bad_debt),
            (stock, &loans),
            false,
        );
        check(
            &answer,
            Some("2.5"),
            &Derived(Rule::Ratio, &["2022-Q4"], 1, 1),
            "stock over stock",
        );
        assert_eq!(answer.ids(), vec![1, 1], "one figure of each");

        let profit: Figures = stored(&[("2022-Q1", "10"), ("2022-Q2", "20")]);
        let revenue: Figures = stored(&[("2022-Q1", "100"), ("2022-Q2", "300")]);
        let flow = MeasureKind::Flow;
        // (10 + 20) / (100 + 300) × 100 = 7.5, not the mean of 10 % and 6.67 %.
        check(
            &resolve_ratio(
                &p("2022-S1"),
                &no_ratio,
                (flow, &profit),
                (flow, &revenue),
                false,
            ),
            Some("7.5"),
            &Derived(Rule::Ratio, &["2022-Q1", "2022-Q2"], 6, 6),
            "flow over flow",
        );
        check(
            &resolve_ratio(
                &p("2022"),
                &no_ratio,
                (flow, &profit),
                (flow, &revenue),
                false,
            ),
            None,
            &Missing("numerator: only 6 of the 12 months"),
            "incomplete parts are refused",
        );
        let flagged = resolve_ratio(
            &p("2022"),
            &no_ratio,
            (flow, &profit),
            (flow, &revenue),
            true,
        );
        check(
            &flagged,
            Some("7.5"),
            &Derived(Rule::Ratio, &["2022-Q1", "2022-Q2"], 6, 12),
            "incomplete parts when allowed",
        );
        let stored_ratio = stored(&[("2022", "8")]);
        check(
            &resolve_ratio(
                &p("2022"),
                &stored_ratio,
                (flow, &profit),
                (flow, &revenue),
                false,
            ),
            Some("8"),
            &Stored(1),
            "a stored ratio wins",
        );
        let zero = stored(&[("2022-S1", "0")]);
        check(
            &resolve_ratio(
                &p("2022-S1"),
                &no_ratio,
                (flow, &profit),
                (flow, &zero),
                false,
            ),
            None,
            &Missing("the denominator is zero"),
            "zero denominator",
        );
        check(
            &resolve(MeasureKind::Ratio, &p("2022"), &no_ratio, true),
            None,
            &Missing("names no numerator and denominator"),
            "a ratio without parts",
        );
    }

    #[test]
    fn a_derived_value_inherits_qualifiers_and_statuses() {
        let mut figures = stored(&QUARTERS_2022);
        let mut lower = figures.get(&p("2022-Q2")).unwrap().clone();
        lower.qualifier = Qualifier::LowerBound;
        figures.insert(lower);
        let mut estimate = figures.get(&p("2022-Q4")).unwrap().clone();
        estimate.status = ObservationStatus::Estimated;
        figures.insert(estimate);
        let year = resolve(MeasureKind::Flow, &p("2022"), &figures, false);
        assert_eq!(
            year.qualifier,
            Qualifier::LowerBound,
            "a sum with a lower bound"
        );
        assert_eq!(
            year.status,
            ObservationStatus::Estimated,
            "a sum with an estimate"
        );
        let stock = resolve(MeasureKind::Stock, &p("2022"), &figures, false);
        assert_eq!(
            (stock.qualifier, stock.status),
            (Qualifier::Exact, ObservationStatus::Estimated),
            "a stock takes its period-end figure's"
        );
    }

    #[test]
    fn overflow_and_bounds_never_panic() {
        let huge: Figures = ["2021-Q1", "2021-Q2"]
            .iter()
            .zip(1..)
            .map(|(period, id)| StoredFigure {
                id,
                period: p(period),
                value: Decimal::MAX,
                qualifier: Qualifier::Exact,
                status: ObservationStatus::Normal,
            })
            .collect();
        check(
            &resolve(MeasureKind::Flow, &p("2021-S1"), &huge, false),
            None,
            &Expect::Missing("does not fit in an exact decimal"),
            "overflow",
        );
        // More than 5 over less than 200 is more than 2.5 %.
        let mut top = stored(&[("2021", "5")]).get(&p("2021")).unwrap().clone();
        top.qualifier = Qualifier::LowerBound;
        top.status = ObservationStatus::Provisional;
        let mut bottom = stored(&[("2021", "200")]).get(&p("2021")).unwrap().clone();
        bottom.qualifier = Qualifier::UpperBound;
        let ratio = resolve_ratio(
            &p("2021"),
            &Figures::new(),
            (MeasureKind::Stock, &std::iter::once(top).collect()),
            (MeasureKind::Stock, &std::iter::once(bottom).collect()),
            false,
        );
        assert_eq!(ratio.value, Some(d("2.5")));
        assert_eq!(ratio.qualifier, Qualifier::LowerBound);
        assert_eq!(ratio.status, ObservationStatus::Provisional);
    }

    #[test]
    fn provenance_on_the_wire() {
        use serde_json::json;
        let figures = stored(&QUARTERS_2022);
        let year = resolve(MeasureKind::Flow, &p("2022"), &figures, false);
        assert_eq!(
            serde_json::to_value(&year).unwrap(),
            json!({
                "period": "2022", "value": "5861.5", "qualifier": "exact", "status": "A",
                "provenance": {"kind": "derived", "rule": "sum",
                    "sub_periods": ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"], "from": [1, 2, 3, 4]},
                "completeness": {"present": 12, "expected": 12, "complete": true, "missing": []}
            })
        );
        let quarter = resolve(MeasureKind::Flow, &p("2022-Q1"), &figures, false);
        assert_eq!(
            serde_json::to_value(&quarter.provenance).unwrap(),
            json!({"kind": "stored", "id": 1, "period": "2022-Q1"})
        );
        let missing = resolve(MeasureKind::Flow, &p("2023"), &figures, false);
        assert_eq!(
            serde_json::to_value(&missing.provenance).unwrap()["kind"],
            "missing"
        );
    }

    #[test]
    fn a_group_total_adds_what_its_members_resolve_to() {
        let a = resolve(
            MeasureKind::Flow,
            &p("2022"),
            &stored(&QUARTERS_2022),
            false,
        );
        let b = resolve(
            MeasureKind::Flow,
            &p("2022"),
            &stored(&[("2022", "500")]),
            false,
        );
        let c = resolve(MeasureKind::Flow, &p("2022"), &Figures::default(), false);
        let (total, reported) = group_total(&p("2022"), &[a, b, c]);
        // 5861.5 + 500
        assert_eq!((total.value, reported), (Some(d("6361.5")), 2));
        assert_eq!(total.ids().len(), 5);
        assert!(total.completeness.complete);
        let (none, reported) = group_total(&p("2022"), &[]);
        assert_eq!((none.value, reported), (None, 0));
    }

    #[test]
    fn candidates_are_the_parts_and_the_period_ends() {
        let year = candidate_periods(&p("2022"));
        // 30 month-based periods of the year and its last day.
        assert_eq!(year.len(), 31);
        let q3: Vec<String> = candidate_periods(&p("2022-Q3"))
            .iter()
            .map(PeriodCode::code)
            .collect();
        assert_eq!(
            q3,
            [
                "2022-Q3",
                "2022-M07",
                "2022-M08",
                "2022-M09",
                "2022-YTD-M09",
                "2022-09-30"
            ]
        );
        assert_eq!(candidate_periods(&p("2024-03-18")), vec![p("2024-03-18")]);
        // Whatever resolve reads is among the candidates.
        let all: Figures = periods_of_year(2022)
            .into_iter()
            .zip(1..)
            .map(|(period, id)| StoredFigure {
                id,
                period,
                value: Decimal::ONE,
                qualifier: Qualifier::Exact,
                status: ObservationStatus::Normal,
            })
            .collect();
        for period in periods_of_year(2022) {
            let candidates = candidate_periods(&period);
            for kind in [MeasureKind::Flow, MeasureKind::Stock] {
                let answer = resolve(kind, &period, &all, false);
                for used in answer.sub_periods() {
                    assert!(candidates.contains(&used), "{period} {kind}: {used}");
                }
            }
        }
    }

    #[test]
    fn splits_into_the_largest_aligned_blocks() {
        assert_eq!(split(1, 12), vec![(1, 6), (7, 12)]);
        assert_eq!(split(7, 12), vec![(7, 9), (10, 12)]);
        assert_eq!(split(4, 6), vec![(4, 4), (5, 5), (6, 6)]);
        assert_eq!(split(1, 9), vec![(1, 6), (7, 9)]);
        assert_eq!(split(1, 11), vec![(1, 6), (7, 9), (10, 10), (11, 11)]);
        assert_eq!(split(1, 5), vec![(1, 3), (4, 4), (5, 5)]);
        assert_eq!(split(1, 6), vec![(1, 3), (4, 6)]);
    }
}
