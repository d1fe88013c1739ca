//! Year-on-year and previous-period comparisons.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caveats;
use super::resolver::Resolver;
use crate::db::indicators::IndicatorRow;
use crate::db::observations::{pair_by_codes, pair_by_period_codes, ObservationRow};
use crate::db::AnyConnection;
use crate::domain::comparison::{
    check_reported, display_percent, implied_previous, percent_change, ReportedCheck,
};
use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::period::PeriodCode;
use crate::domain::resolve::{same_span_periods, Resolved};
use crate::domain::series::{combine_difference, combine_status};
use crate::domain::value::{ObservationStatus, Qualifier};
use crate::error::ApiError;

/// What a period is compared with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The same period a year earlier (for a year-to-date period, the same span last year).
    #[default]
    YearAgo,
    /// The period just before (2022-Q1 against 2021-Q4).
    PreviousPeriod,
}

/// A previous value derived from the current one and the reported change; not observed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImpliedValue {
    #[schema(value_type = String)]
    pub value: Decimal,
    /// Always true: this value was computed, nobody reported it.
    pub derived: bool,
    /// How: `current / (1 + reported_yoy_pct / 100)`.
    pub method: String,
    /// Approximate, since the reported change was rounded.
    pub qualifier: Qualifier,
}

/// One committee × indicator compared between two periods.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comparison {
    pub committee: String,
    pub indicator: String,
    pub unit: Unit,
    pub scale: i32,
    pub period: String,
    pub base_period: String,
    /// The period's value, as every endpoint resolves it (stored, derived or missing).
    pub current: Resolved,
    /// The base period's value, resolved the same way.
    pub previous: Resolved,
    /// When the previous value is missing but the source reported a change.
    pub implied_previous: Option<ImpliedValue>,
    /// current − previous (in the indicator's unit; percentage points for a ratio).
    #[schema(value_type = Option<String>)]
    pub absolute_change: Option<Decimal>,
    /// (current − previous) / |previous| × 100, rounded half up to at most 2 decimals; none for a ratio.
    #[schema(value_type = Option<String>)]
    pub percent_change: Option<Decimal>,
    /// How exact the change is, given its inputs.
    pub qualifier: Option<Qualifier>,
    /// The least final status of the inputs.
    pub status: Option<ObservationStatus>,
    /// The change the source reported, and whether the stored figures agree with it.
    pub reported: Option<ReportedCheck>,
    pub notes: Vec<String>,
}

/// The base period of `period` for `basis`.
pub fn base_period(period: &PeriodCode, basis: Basis) -> Result<PeriodCode, ApiError> {
    let base = match basis {
        Basis::YearAgo => period.same_period_previous_year(),
        Basis::PreviousPeriod => period.previous_period(),
    };
    base.ok_or_else(|| {
        ApiError::invalid_parameter(
            "basis",
            "no_base_period",
            format!("{period} has no {} to compare with (a year-to-date period has no previous period; use basis=year_ago)", match basis {
                Basis::YearAgo => "year-earlier period",
                Basis::PreviousPeriod => "previous period",
            }),
        )
    })
}

/// Compares every committee × indicator for `period` with its base period,
/// reading every figure that may answer in one query.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    conn: &mut AnyConnection,
    catalog: &[IndicatorRow],
    committees: &[(i64, String)],
    indicators: &[IndicatorRow],
    period: &PeriodCode,
    basis: Basis,
    as_of: Option<chrono::NaiveDateTime>,
    allow_incomplete: bool,
) -> Result<Vec<Comparison>, ApiError> {
    let base = base_period(period, basis)?;
    let committee_ids: Vec<i64> = committees.iter().map(|(id, _)| *id).collect();
    let asked: Vec<&IndicatorRow> = indicators.iter().collect();
    let resolver = Resolver::load(
        conn,
        catalog,
        &committee_ids,
        &asked,
        &[*period, base],
        as_of,
        allow_incomplete,
    )?;
    let mut comparisons = Vec::with_capacity(committees.len() * indicators.len());
    for (committee_id, committee) in committees {
        for indicator in indicators {
            comparisons.push(compare_with(
                &resolver,
                (*committee_id, committee),
                indicator,
                period,
                basis,
            )?);
        }
    }
    Ok(comparisons)
}

/// The comparison of one committee × indicator, resolved from figures already read.
pub fn compare_with(
    resolver: &Resolver,
    (committee_id, committee): (i64, &str),
    indicator: &IndicatorRow,
    period: &PeriodCode,
    basis: Basis,
) -> Result<Comparison, ApiError> {
    let base = base_period(period, basis)?;
    let current = resolver.resolve(committee_id, indicator, period);
    let previous = resolver.resolve(committee_id, indicator, &base);
    let reported_by = resolver.stored_row(&current);
    Ok(compare_one(
        committee,
        indicator,
        &base,
        basis,
        current,
        previous,
        reported_by,
    ))
}

/// The comparison of one committee × indicator, both named by (parsed) code,
/// in one statement ([`pair_by_codes`]) read into the same resolver as the
/// general path, so it answers identically. `None` when nothing is stored
/// in the span, or the indicator is a ratio recomputed from other
/// indicators: the general path then answers (and tells an unknown code from
/// a missing figure).
pub fn compare_pair(
    conn: &mut AnyConnection,
    committee: &str,
    indicator: &str,
    period: &PeriodCode,
    basis: Basis,
    allow_incomplete: bool,
) -> Result<Option<Comparison>, ApiError> {
    let base = base_period(period, basis)?;
    // Usually both periods are stored: then the figures stored for their
    // spans are all `resolve` looks at (a stored figure answers before any
    // derivation), so reading only those gives the same answer. Otherwise
    // every candidate is read: each lies between 1 January of the earlier
    // period's year and the end of the later one.
    let current_span = same_span_periods(period);
    let base_span = same_span_periods(&base);
    let codes: Vec<String> = current_span
        .iter()
        .chain(&base_span)
        .map(PeriodCode::code)
        .collect();
    let stored = pair_by_period_codes(conn, committee, indicator, &codes)?;
    let has = |span: &[PeriodCode]| {
        stored
            .iter()
            .any(|(row, _)| span.contains(&row.period_code))
    };
    let rows = if has(&current_span) && has(&base_span) {
        stored
    } else {
        let starts_from = chrono::NaiveDate::from_ymd_opt(period.year().min(base.year()), 1, 1)
            .unwrap_or(base.start());
        let ends_by = period.end().max(base.end());
        pair_by_codes(conn, committee, indicator, starts_from, ends_by)?
    };
    let Some((first, indicator_row)) = rows.first() else {
        return Ok(None);
    };
    if indicator_row.numerator_id.is_some() || indicator_row.denominator_id.is_some() {
        return Ok(None);
    }
    let committee_id = first.committee_id;
    let indicator_row = indicator_row.clone();
    let resolver = Resolver::from_rows(
        std::slice::from_ref(&indicator_row),
        rows.into_iter().map(|(row, _)| row),
        allow_incomplete,
    );
    compare_with(
        &resolver,
        (committee_id, committee),
        &indicator_row,
        period,
        basis,
    )
    .map(Some)
}

/// What a note says of a value that does not cover its whole period.
fn incomplete_note(what: &str, value: &Resolved) -> Option<String> {
    let completeness = &value.completeness;
    (value.value.is_some() && !completeness.complete).then(|| {
        format!(
            "the {what} is incomplete: it covers {} of {} months of {}; results built on it are \
             not the full period's",
            completeness.present, completeness.expected, value.period
        )
    })
}

/// The comparison of two resolved values; `reported_by` is the stored figure
/// of the current period, when it is one, with the change its source reported.
pub fn compare_one(
    committee: &str,
    indicator: &IndicatorRow,
    base: &PeriodCode,
    basis: Basis,
    current: Resolved,
    previous: Resolved,
    reported_by: Option<&ObservationRow>,
) -> Comparison {
    let period = current.period;
    let mut comparison = Comparison {
        committee: committee.to_owned(),
        indicator: indicator.code.clone(),
        unit: indicator.unit,
        scale: indicator.scale,
        period: period.code(),
        base_period: base.code(),
        current,
        previous,
        implied_previous: None,
        absolute_change: None,
        percent_change: None,
        qualifier: None,
        status: None,
        reported: None,
        notes: Vec::new(),
    };
    let is_ratio = indicator.measure_kind == MeasureKind::Ratio;
    let current = &comparison.current;
    let Some(current_value) = current.value else {
        let note = format!("no figure for {period}: {}", current.missing_reason());
        comparison.notes.push(note);
        return comparison;
    };
    let mut notes = caveats("current value", current.qualifier, current.status);
    notes.extend(incomplete_note("current value", current));
    // The reported change is year-on-year; it says nothing about the previous quarter.
    let reported = reported_by.and_then(|row| match basis {
        Basis::YearAgo => row.reported_yoy_pct.map(Decimal::from),
        Basis::PreviousPeriod => None,
    });
    let reported_qualifier = reported_by
        .and_then(|row| row.reported_yoy_qualifier.as_deref())
        .and_then(|q| q.parse::<Qualifier>().ok())
        .unwrap_or(Qualifier::Exact);
    let previous = &comparison.previous;
    match previous.value {
        Some(previous_value) => {
            notes.extend(caveats(
                "previous value",
                previous.qualifier,
                previous.status,
            ));
            notes.extend(incomplete_note("previous value", previous));
            comparison.absolute_change = current_value.checked_sub(previous_value);
            comparison.qualifier = Some(combine_difference(current.qualifier, previous.qualifier));
            comparison.status = Some(combine_status(current.status, previous.status));
            if is_ratio {
                notes.push("a ratio changes in percentage points: see absolute_change".into());
            } else {
                let change = percent_change(current_value, previous_value);
                comparison.percent_change = change.map(display_percent);
                if change.is_none() {
                    notes.push("the previous value is zero: no percent change".into());
                }
                if let (Some(change), Some(reported)) = (change, reported) {
                    comparison.reported =
                        Some(check_reported(change, reported, reported_qualifier));
                }
            }
        }
        None => {
            notes.push(format!(
                "no figure for {base}: {}",
                previous.missing_reason()
            ));
            if let Some(reported) = reported.filter(|_| !is_ratio) {
                comparison.implied_previous =
                    implied_previous(current_value, reported).map(|value| ImpliedValue {
                        value,
                        derived: true,
                        method: format!("{current_value} / (1 + {reported} / 100)"),
                        qualifier: Qualifier::Approximate,
                    });
                notes.push(format!(
                    "implied_previous is derived from the reported change of {reported}%, not observed"
                ));
            }
        }
    }
    comparison.notes.extend(notes);
    comparison
}
