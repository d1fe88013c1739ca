//! Year-on-year and previous-period comparisons.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{caveats, FigureView};
use crate::db::indicators::IndicatorRow;
use crate::db::observations::{pair_by_codes, select_rows, ObservationRow, Selection};
use crate::db::AnyConnection;
use crate::domain::comparison::{
    check_reported, display_percent, implied_previous, percent_change, ReportedCheck,
};
use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::period::PeriodCode;
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
    pub current: Option<FigureView>,
    pub previous: Option<FigureView>,
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

type Key = (i64, i64, String);

/// Compares every committee × indicator for `period` with its base period.
pub fn compare(
    conn: &mut AnyConnection,
    committees: &[(i64, String)],
    indicators: &[IndicatorRow],
    period: &PeriodCode,
    basis: Basis,
    as_of: Option<chrono::NaiveDateTime>,
) -> Result<Vec<Comparison>, ApiError> {
    let base = base_period(period, basis)?;
    let rows = select_rows(
        conn,
        &Selection {
            committee_ids: committees.iter().map(|(id, _)| *id).collect(),
            indicator_ids: indicators.iter().map(|i| i.id).collect(),
            period_codes: vec![period.code(), base.code()],
            totals_only: true,
            as_of,
            ..Selection::default()
        },
    )?;
    let by_key: HashMap<Key, ObservationRow> = rows
        .into_iter()
        .map(|row| {
            (
                (row.committee_id, row.indicator_id, row.period_code.code()),
                row,
            )
        })
        .collect();
    let mut comparisons = Vec::with_capacity(committees.len() * indicators.len());
    for (committee_id, committee) in committees {
        for indicator in indicators {
            let current = by_key.get(&(*committee_id, indicator.id, period.code()));
            let previous = by_key.get(&(*committee_id, indicator.id, base.code()));
            comparisons.push(compare_one(
                committee, indicator, period, &base, basis, current, previous,
            ));
        }
    }
    Ok(comparisons)
}

/// The comparison of one committee × indicator, both named by (parsed) code,
/// in one statement ([`pair_by_codes`]). `None` when neither figure is
/// stored: the general path then tells an unknown code from a missing figure.
pub fn compare_pair(
    conn: &mut AnyConnection,
    committee: &str,
    indicator: &str,
    period: &PeriodCode,
    basis: Basis,
) -> Result<Option<Comparison>, ApiError> {
    let base = base_period(period, basis)?;
    let (current_code, base_code) = (period.code(), base.code());
    let rows = pair_by_codes(conn, committee, indicator, [&current_code, &base_code])?;
    let Some((_, indicator_row)) = rows.first() else {
        return Ok(None);
    };
    let find = |code: &str| {
        rows.iter()
            .map(|(row, _)| row)
            .find(|row| row.period_code.code() == code)
    };
    Ok(Some(compare_one(
        committee,
        indicator_row,
        period,
        &base,
        basis,
        find(&current_code),
        find(&base_code),
    )))
}

/// The comparison of two (possibly missing) figures.
pub fn compare_one(
    committee: &str,
    indicator: &IndicatorRow,
    period: &PeriodCode,
    base: &PeriodCode,
    basis: Basis,
    current: Option<&ObservationRow>,
    previous: Option<&ObservationRow>,
) -> Comparison {
    let mut comparison = Comparison {
        committee: committee.to_owned(),
        indicator: indicator.code.clone(),
        unit: indicator.unit,
        scale: indicator.scale,
        period: period.code(),
        base_period: base.code(),
        current: current.map(FigureView::from),
        previous: previous.map(FigureView::from),
        implied_previous: None,
        absolute_change: None,
        percent_change: None,
        qualifier: None,
        status: None,
        reported: None,
        notes: Vec::new(),
    };
    let is_ratio = indicator.measure_kind == MeasureKind::Ratio;
    let Some(current) = current else {
        comparison
            .notes
            .push(format!("no figure is stored for {period}"));
        return comparison;
    };
    comparison
        .notes
        .extend(caveats("current value", current.qualifier, current.status));
    // The reported change is year-on-year; it says nothing about the previous quarter.
    let reported = match basis {
        Basis::YearAgo => current.reported_yoy_pct.map(Decimal::from),
        Basis::PreviousPeriod => None,
    };
    let reported_qualifier = current
        .reported_yoy_qualifier
        .as_deref()
        .and_then(|q| q.parse::<Qualifier>().ok())
        .unwrap_or(Qualifier::Exact);
    match previous {
        Some(previous) => {
            comparison.notes.extend(caveats(
                "previous value",
                previous.qualifier,
                previous.status,
            ));
            comparison.absolute_change = current.value.checked_sub(previous.value);
            comparison.qualifier = Some(combine_difference(current.qualifier, previous.qualifier));
            comparison.status = Some(combine_status(current.status, previous.status));
            if is_ratio {
                comparison
                    .notes
                    .push("a ratio changes in percentage points: see absolute_change".into());
            } else {
                let change = percent_change(current.value, previous.value);
                comparison.percent_change = change.map(display_percent);
                if change.is_none() {
                    comparison
                        .notes
                        .push("the previous value is zero: no percent change".into());
                }
                if let (Some(change), Some(reported)) = (change, reported) {
                    comparison.reported =
                        Some(check_reported(change, reported, reported_qualifier));
                }
            }
        }
        None => {
            comparison
                .notes
                .push(format!("no figure is stored for {base}"));
            if let Some(reported) = reported.filter(|_| !is_ratio) {
                comparison.implied_previous =
                    implied_previous(current.value, reported).map(|value| ImpliedValue {
                        value,
                        derived: true,
                        method: format!("{} / (1 + {reported} / 100)", current.value),
                        qualifier: Qualifier::Approximate,
                    });
                comparison.notes.push(format!(
                    "implied_previous is derived from the reported change of {reported}%, not observed"
                ));
            }
        }
    }
    comparison
}
