//! Series of one indicator for a committee or a group total: each period's
//! value as the resolver gives it (stored, or derived by the indicator's
//! measure kind), transformed like FRED.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::resolver::{group_total_from_rollups, ratio_parts, with_parts, Resolver};
use crate::db::indicators::IndicatorRow;
use crate::db::observations::candidate_figures;
use crate::db::AnyConnection;
use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::period::{Frequency, PeriodCode};
use crate::domain::resolve::{Completeness, Provenance, Resolved};
use crate::domain::series::{apply_transform, check_transform, periods_in_range, Transform};
use crate::domain::value::{ObservationStatus, Qualifier};
use crate::error::{ApiError, FieldError};

/// One period of a series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesValue {
    pub period: String,
    #[schema(value_type = Option<String>)]
    pub value: Option<Decimal>,
    pub qualifier: Qualifier,
    pub status: ObservationStatus,
    /// Where the period's value came from (for a transform, the period's own value's).
    pub provenance: Provenance,
    pub completeness: Completeness,
    /// For a group total: how many member committees have a value for this period.
    pub members_reported: Option<usize>,
}

/// A series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    /// The committee, or the group whose members are totalled.
    pub committee: Option<String>,
    pub group: Option<String>,
    /// Number of committees in the group.
    pub members: Option<usize>,
    pub indicator: String,
    /// Unit of the values (percent for pch and pc1).
    pub unit: Unit,
    pub scale: i32,
    pub measure_kind: MeasureKind,
    #[schema(value_type = String)]
    pub frequency: Frequency,
    pub transform: Transform,
    pub points: Vec<SeriesValue>,
}

/// What a series request asks for, parsed.
pub struct SeriesRequest<'a> {
    pub committees: Vec<(i64, String)>,
    pub group: Option<String>,
    /// The group's id: its totals are read from its rollups where they are
    /// the answer (see `db::rollups`).
    pub group_id: Option<i64>,
    /// False reads every member's figures even where the rollups answer
    /// (what tests compare the rollups with).
    pub use_rollups: bool,
    pub indicator: &'a IndicatorRow,
    /// Every indicator (a ratio's numerator and denominator are among them).
    pub catalog: &'a [IndicatorRow],
    pub from: PeriodCode,
    pub to: PeriodCode,
    pub frequency: Frequency,
    pub transform: Transform,
    pub allow_incomplete: bool,
    /// Build the series from what was known at this moment.
    pub as_of: Option<chrono::NaiveDateTime>,
}

fn unprocessable(field: &str, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

/// Refuses a group total of a ratio that cannot be recomputed from the totals
/// of its numerator and denominator (adding percentages makes no sense).
pub fn check_group_total(indicator: &IndicatorRow) -> Result<(), ApiError> {
    let has_parts = indicator.numerator_id.is_some() && indicator.denominator_id.is_some();
    if indicator.measure_kind == MeasureKind::Ratio && !has_parts {
        return Err(unprocessable(
            "indicator",
            "ratio_not_summable",
            format!(
                "{} is a ratio: a group total would add up percentages. Give the indicator a numerator and \
                 denominator so the ratio can be recomputed from their totals",
                indicator.code
            ),
        ));
    }
    Ok(())
}

/// Builds the series.
pub fn build_series(
    conn: &mut AnyConnection,
    request: &SeriesRequest<'_>,
) -> Result<Series, ApiError> {
    let indicator = request.indicator;
    let kind = indicator.measure_kind;
    check_transform(kind, request.transform)
        .map_err(|e| unprocessable("transform", "transform_not_for_kind", e.to_string()))?;
    let is_group = request.group.is_some();
    if is_group {
        check_group_total(indicator)?;
    }
    let bad_range = |e: crate::domain::series::SeriesError| {
        ApiError::invalid_parameter("frequency", "invalid_range", e.to_string())
    };
    let keep =
        periods_in_range(&request.from, &request.to, request.frequency).map_err(bad_range)?;
    // One year before the range, so that changes have a base.
    let first = request
        .from
        .same_period_previous_year()
        .unwrap_or(request.from);
    let extended = periods_in_range(&first, &request.to, request.frequency).map_err(bad_range)?;

    let committee_ids: Vec<i64> = request.committees.iter().map(|(id, _)| *id).collect();
    // A group's total for a period where every member has a figure stored is
    // its rollup: one row per period instead of every member's figures.
    let mut from_rollups: HashMap<PeriodCode, (Resolved, usize)> = HashMap::new();
    if let (Some(group_id), true, None) = (request.group_id, request.use_rollups, request.as_of) {
        let rollups = crate::db::rollups::read(
            conn,
            group_id,
            &with_parts(&[indicator]),
            &extended.iter().map(PeriodCode::code).collect::<Vec<_>>(),
        )?;
        for period in &extended {
            if let Some(answer) =
                group_total_from_rollups(&rollups, committee_ids.len(), indicator, period)
            {
                from_rollups.insert(*period, answer);
            }
        }
    }
    let remaining: Vec<PeriodCode> = extended
        .iter()
        .filter(|period| !from_rollups.contains_key(period))
        .copied()
        .collect();
    // Most series are stored at the frequency asked for, and a stored figure
    // is always the resolver's answer: read exactly those periods first, and
    // everything that may answer only if some are missing.
    let exact = candidate_figures(
        conn,
        &committee_ids,
        &[indicator.id],
        &remaining.iter().map(PeriodCode::code).collect::<Vec<_>>(),
        request.as_of,
    )?;
    // A group total of a ratio with parts is recomputed from the parts'
    // figures, which that first read does not include.
    let totals_from_parts = is_group && ratio_parts(indicator).is_some();
    let resolver = if !totals_from_parts && exact.len() == committee_ids.len() * remaining.len() {
        Resolver::from_rows(request.catalog, exact, request.allow_incomplete)
    } else {
        Resolver::load(
            conn,
            request.catalog,
            &committee_ids,
            &[indicator],
            &remaining,
            request.as_of,
            request.allow_incomplete,
        )?
    };

    let mut members_reported = HashMap::new();
    let series: Vec<Resolved> = extended
        .iter()
        .map(|period| {
            if is_group {
                let (total, reported) = match from_rollups.remove(period) {
                    Some(answer) => answer,
                    None => resolver.resolve_group(&committee_ids, indicator, period),
                };
                members_reported.insert(*period, reported);
                total
            } else {
                resolver.resolve(committee_ids[0], indicator, period)
            }
        })
        .collect();
    let transformed = apply_transform(&series, request.transform, &keep);
    let percent = matches!(request.transform, Transform::Pch | Transform::Pc1);
    Ok(Series {
        committee: if is_group {
            None
        } else {
            request.committees.first().map(|(_, code)| code.clone())
        },
        group: request.group.clone(),
        members: is_group.then_some(request.committees.len()),
        indicator: indicator.code.clone(),
        unit: if percent {
            Unit::Percent
        } else {
            indicator.unit
        },
        scale: if percent { 0 } else { indicator.scale },
        measure_kind: kind,
        frequency: request.frequency,
        transform: request.transform,
        points: transformed
            .into_iter()
            .map(|p| SeriesValue {
                period: p.period.code(),
                members_reported: members_reported.get(&p.period).copied(),
                value: p.value,
                qualifier: p.qualifier,
                status: p.status,
                provenance: p.provenance,
                completeness: p.completeness,
            })
            .collect(),
    })
}
