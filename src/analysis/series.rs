//! Series of one indicator for a committee or a group total, aggregated to a
//! frequency by the indicator's measure kind and transformed like FRED.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::point;
use crate::db::indicators::IndicatorRow;
use crate::db::observations::{select_rows, Selection};
use crate::db::AnyConnection;
use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::period::{Frequency, PeriodCode};
use crate::domain::series::{
    aggregate, aggregate_ratio, apply_transform, check_transform, periods_in_range, sum_across,
    Point, Provenance, SeriesPoint, Transform,
};
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
    pub provenance: Provenance,
    /// For a group total: how many member committees reported this period.
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
    pub indicator: &'a IndicatorRow,
    pub numerator: Option<&'a IndicatorRow>,
    pub denominator: Option<&'a IndicatorRow>,
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

type Points = BTreeMap<PeriodCode, Point>;

fn worst(a: &Provenance, b: &Provenance) -> Provenance {
    let rank = |p: &Provenance| match p {
        Provenance::Observed => 0,
        Provenance::Aggregated { .. } => 1,
        Provenance::Incomplete { .. } => 2,
        Provenance::Missing { .. } => 3,
    };
    if rank(b) > rank(a) {
        b.clone()
    } else {
        a.clone()
    }
}

/// The value of one committee's series for `period`.
fn committee_point(
    request: &SeriesRequest<'_>,
    period: &PeriodCode,
    own: &Points,
    parts: Option<(&Points, &Points)>,
) -> Result<SeriesPoint, ApiError> {
    let kind = request.indicator.measure_kind;
    let map = |e: crate::domain::series::SeriesError| {
        unprocessable("indicator", "cannot_aggregate", e.to_string())
    };
    if kind != MeasureKind::Ratio {
        return aggregate(kind, period, own, request.allow_incomplete).map_err(map);
    }
    if let Some(stored) = own.get(period) {
        return Ok(SeriesPoint {
            period: *period,
            value: Some(stored.value),
            qualifier: stored.qualifier,
            status: stored.status,
            provenance: Provenance::Observed,
        });
    }
    match (parts, request.numerator, request.denominator) {
        (Some((numerator, denominator)), Some(n), Some(d)) => aggregate_ratio(
            period,
            (n.measure_kind, numerator),
            (d.measure_kind, denominator),
            request.allow_incomplete,
        )
        .map_err(map),
        _ => Ok(SeriesPoint {
            period: *period,
            value: None,
            qualifier: Qualifier::Exact,
            status: ObservationStatus::Normal,
            provenance: Provenance::Missing {
                reason: format!(
                    "{} is a ratio with no figure stored for {period}; a ratio is never summed or averaged, \
                     and this indicator names no numerator and denominator to recompute it from",
                    request.indicator.code
                ),
            },
        }),
    }
}

/// Builds the series.
pub fn build_series(
    conn: &mut AnyConnection,
    request: &SeriesRequest<'_>,
) -> Result<Series, ApiError> {
    let kind = request.indicator.measure_kind;
    check_transform(kind, request.transform)
        .map_err(|e| unprocessable("transform", "transform_not_for_kind", e.to_string()))?;
    let is_group = request.group.is_some();
    let ratio_parts = match (request.numerator, request.denominator) {
        (Some(n), Some(d)) => Some((n, d)),
        _ => None,
    };
    if is_group && kind == MeasureKind::Ratio && ratio_parts.is_none() {
        return Err(unprocessable(
            "indicator",
            "ratio_not_summable",
            format!(
                "{} is a ratio: a group total would add up percentages. Give the indicator a numerator and \
                 denominator so the ratio can be recomputed from their totals",
                request.indicator.code
            ),
        ));
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
    let start = extended
        .first()
        .map(PeriodCode::start)
        .unwrap_or(request.from.start());
    let end = extended
        .last()
        .map(PeriodCode::end)
        .unwrap_or(request.to.end());

    let mut indicator_ids = vec![request.indicator.id];
    if let Some((n, d)) = ratio_parts {
        indicator_ids.extend([n.id, d.id]);
    }
    let committee_ids: Vec<i64> = request.committees.iter().map(|(id, _)| *id).collect();
    // Most series are stored at the frequency asked for: read exactly those
    // periods first, and the whole range (for aggregation) only if some are missing.
    let exact = select_rows(
        conn,
        &Selection {
            committee_ids: committee_ids.clone(),
            indicator_ids: vec![request.indicator.id],
            period_codes: extended.iter().map(PeriodCode::code).collect(),
            totals_only: true,
            as_of: request.as_of,
            ..Selection::default()
        },
    )?;
    let rows = if exact.len() == committee_ids.len() * extended.len() {
        exact
    } else {
        select_rows(
            conn,
            &Selection {
                committee_ids,
                indicator_ids,
                starts_from: Some(start),
                ends_by: Some(end),
                totals_only: true,
                as_of: request.as_of,
                ..Selection::default()
            },
        )?
    };
    let mut points: HashMap<(i64, i64), Points> = HashMap::new();
    for row in &rows {
        points
            .entry((row.committee_id, row.indicator_id))
            .or_default()
            .insert(row.period_code, point(row));
    }
    let empty = Points::new();
    let get =
        |committee: i64, indicator: i64| points.get(&(committee, indicator)).unwrap_or(&empty);

    let mut series = Vec::with_capacity(extended.len());
    let mut members_reported = HashMap::new();
    for period in &extended {
        if !is_group {
            let (committee_id, _) = request.committees[0];
            let parts =
                ratio_parts.map(|(n, d)| (get(committee_id, n.id), get(committee_id, d.id)));
            series.push(committee_point(
                request,
                period,
                get(committee_id, request.indicator.id),
                parts,
            )?);
            continue;
        }
        // A group total: flows and stocks add across committees; a ratio is
        // recomputed from the totals of its numerator and denominator.
        let (total, reported, provenance) = match ratio_parts {
            None => {
                let mut values = Vec::new();
                let mut provenance = Provenance::Observed;
                for (committee_id, _) in &request.committees {
                    let p = committee_point(
                        request,
                        period,
                        get(*committee_id, request.indicator.id),
                        None,
                    )?;
                    if p.value.is_some() {
                        provenance = worst(&provenance, &p.provenance);
                    }
                    values.push(p.value.map(|value| Point {
                        value,
                        qualifier: p.qualifier,
                        status: p.status,
                    }));
                }
                let (total, reported) = sum_across(kind, &values)
                    .map_err(|e| unprocessable("indicator", "cannot_aggregate", e.to_string()))?;
                (total, reported, provenance)
            }
            Some((n, d)) => {
                let mut numerators = Vec::new();
                let mut denominators = Vec::new();
                let mut provenance = Provenance::Aggregated {
                    frequency: request.frequency,
                    parts: 1,
                };
                for (committee_id, _) in &request.committees {
                    let num = aggregate(
                        n.measure_kind,
                        period,
                        get(*committee_id, n.id),
                        request.allow_incomplete,
                    );
                    let den = aggregate(
                        d.measure_kind,
                        period,
                        get(*committee_id, d.id),
                        request.allow_incomplete,
                    );
                    if let (Ok(num), Ok(den)) = (num, den) {
                        if num.value.is_some() && den.value.is_some() {
                            provenance =
                                worst(&provenance, &worst(&num.provenance, &den.provenance));
                            numerators.push(num.value.map(|value| Point {
                                value,
                                qualifier: num.qualifier,
                                status: num.status,
                            }));
                            denominators.push(den.value.map(|value| Point {
                                value,
                                qualifier: den.qualifier,
                                status: den.status,
                            }));
                        }
                    }
                }
                let map = |e: crate::domain::series::SeriesError| {
                    unprocessable("indicator", "cannot_aggregate", e.to_string())
                };
                let (num, reported) = sum_across(n.measure_kind, &numerators).map_err(map)?;
                let (den, _) = sum_across(d.measure_kind, &denominators).map_err(map)?;
                let total = match (num, den) {
                    (Some(num), Some(den)) if !den.value.is_zero() => {
                        let single = |p: Point| BTreeMap::from([(*period, p)]);
                        aggregate_ratio(
                            period,
                            (n.measure_kind, &single(num)),
                            (d.measure_kind, &single(den)),
                            false,
                        )
                        .ok()
                        .and_then(|r| {
                            r.value.map(|value| Point {
                                value,
                                qualifier: r.qualifier,
                                status: r.status,
                            })
                        })
                    }
                    _ => None,
                };
                (total, reported, provenance)
            }
        };
        members_reported.insert(*period, reported);
        series.push(match total {
            Some(total) => SeriesPoint {
                period: *period,
                value: Some(total.value),
                qualifier: total.qualifier,
                status: total.status,
                provenance,
            },
            None => SeriesPoint {
                period: *period,
                value: None,
                qualifier: Qualifier::Exact,
                status: ObservationStatus::Normal,
                provenance: Provenance::Missing {
                    reason: format!("no member committee reported {period}"),
                },
            },
        });
    }
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
        indicator: request.indicator.code.clone(),
        unit: if percent {
            Unit::Percent
        } else {
            request.indicator.unit
        },
        scale: if percent { 0 } else { request.indicator.scale },
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
            })
            .collect(),
    })
}
