//! Progress against targets, direction-aware, pro rata for part of a period.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::Catalog;
use super::{caveats, point};
use crate::db::observations::{select_rows, Selection};
use crate::db::targets::TargetRow;
use crate::db::{self, AnyConnection};
use crate::domain::comparison::{progress, ProgressStatus};
use crate::domain::indicator::{Direction, MeasureKind, Unit};
use crate::domain::period::PeriodCode;
use crate::domain::series::{aggregate, round_half_up, Provenance};
use crate::domain::value::{ObservationStatus, Qualifier};
use crate::error::ApiError;

/// How far a committee has come towards a target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetProgress {
    pub committee: String,
    pub indicator: String,
    pub unit: Unit,
    pub scale: i32,
    pub direction: Direction,
    /// The period judged.
    pub period: String,
    /// The period the target is set for.
    pub target_period: String,
    #[schema(value_type = String)]
    pub target: Decimal,
    pub assigned_by: Option<String>,
    /// What `period` should reach: the target, or its pro-rata share when
    /// `period` is part of the target's period (a quarter of an annual plan).
    #[schema(value_type = String)]
    pub expected: Decimal,
    pub pro_rata: bool,
    /// The figure for `period` (stored, or summed from its sub-periods for a flow).
    #[schema(value_type = Option<String>)]
    pub achieved: Option<Decimal>,
    pub achieved_qualifier: Option<Qualifier>,
    pub achieved_status: Option<ObservationStatus>,
    /// achieved / target × 100 (inverted when lower is better), rounded half up to 2 decimals.
    #[schema(value_type = Option<String>)]
    pub percent_of_target: Option<Decimal>,
    pub status: Option<ProgressStatus>,
    pub notes: Vec<String>,
}

/// The target that applies to `period`: one set for exactly it, else the
/// shortest target period that contains it.
fn applicable<'a>(
    targets: &'a [TargetRow],
    committee_id: i64,
    indicator_id: i64,
    period: &PeriodCode,
) -> Option<&'a TargetRow> {
    targets
        .iter()
        .filter(|t| {
            t.committee_id == committee_id
                && t.indicator_id == indicator_id
                && t.period_code.contains(period)
        })
        .min_by_key(|t| t.period_end - t.period_start)
}

/// Progress of every target of these committees and indicators; for `period`
/// if given (judged against the target that contains it), else for each
/// target's own period.
pub fn progress_report(
    conn: &mut AnyConnection,
    catalog: &mut Catalog,
    committee_ids: &[i64],
    indicator_ids: &[i64],
    period: Option<&PeriodCode>,
) -> Result<Vec<TargetProgress>, ApiError> {
    let targets = db::targets::select_rows(conn, committee_ids, indicator_ids)?;
    let target_committees: Vec<i64> = targets.iter().map(|t| t.committee_id).collect();
    catalog.learn_codes(conn, &target_committees)?;
    // (committee, indicator, period judged, target)
    let mut jobs: Vec<(PeriodCode, &TargetRow)> = Vec::new();
    match period {
        Some(period) => {
            let mut pairs: Vec<(i64, i64)> = targets
                .iter()
                .map(|t| (t.committee_id, t.indicator_id))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            for (committee_id, indicator_id) in pairs {
                if let Some(target) = applicable(&targets, committee_id, indicator_id, period) {
                    jobs.push((*period, target));
                }
            }
        }
        None => jobs.extend(targets.iter().map(|t| (t.period_code, t))),
    }
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = select_rows(
        conn,
        &Selection {
            committee_ids: jobs.iter().map(|(_, t)| t.committee_id).collect(),
            indicator_ids: jobs.iter().map(|(_, t)| t.indicator_id).collect(),
            starts_from: jobs.iter().map(|(p, _)| p.start()).min(),
            ends_by: jobs.iter().map(|(p, _)| p.end()).max(),
            totals_only: true,
            ..Selection::default()
        },
    )?;
    let mut report = Vec::with_capacity(jobs.len());
    for (period, target) in jobs {
        let Some(indicator) = catalog.indicator(target.indicator_id) else {
            continue;
        };
        let points: BTreeMap<PeriodCode, _> = rows
            .iter()
            .filter(|r| {
                r.committee_id == target.committee_id && r.indicator_id == target.indicator_id
            })
            .map(|r| (r.period_code, point(r)))
            .collect();
        let mut notes = Vec::new();
        let whole = period == target.period_code;
        let expected = if whole {
            target.value
        } else {
            match (
                indicator.measure_kind,
                period.months(),
                target.period_code.months(),
            ) {
                // A flow accrues through the year: a quarter should bring a quarter of the plan.
                (MeasureKind::Flow, Some(part), Some(all)) if all > 0 => {
                    notes.push(format!(
                        "judged against {part}/{all} of the target for {}",
                        target.period_code
                    ));
                    round_half_up(
                        target.value * Decimal::from(part) / Decimal::from(all),
                        target.value.scale() + 2,
                    )
                }
                _ => target.value,
            }
        };
        let achieved = match indicator.measure_kind {
            MeasureKind::Ratio => points.get(&period).copied(),
            kind => aggregate(kind, &period, &points, false).ok().and_then(|p| {
                if let Provenance::Missing { reason } = &p.provenance {
                    notes.push(reason.clone());
                }
                p.value.map(|value| crate::domain::series::Point {
                    value,
                    qualifier: p.qualifier,
                    status: p.status,
                })
            }),
        };
        let judged =
            achieved.map(|a| progress(a.value, target.value, expected, whole, indicator.direction));
        if let Some(a) = achieved {
            notes.extend(caveats("achieved value", a.qualifier, a.status));
        } else {
            notes.push(format!("no figure is stored for {period}"));
        }
        report.push(TargetProgress {
            committee: catalog.committee_code(target.committee_id).to_owned(),
            indicator: indicator.code.clone(),
            unit: indicator.unit,
            scale: indicator.scale,
            direction: indicator.direction,
            period: period.code(),
            target_period: target.period_code.code(),
            target: target.value,
            assigned_by: target.assigned_by.clone(),
            expected,
            pro_rata: !whole && expected != target.value,
            achieved: achieved.map(|a| a.value),
            achieved_qualifier: achieved.map(|a| a.qualifier),
            achieved_status: achieved.map(|a| a.status),
            percent_of_target: judged.as_ref().and_then(|j| j.percent_of_target),
            status: judged.map(|j| j.status),
            notes,
        });
    }
    Ok(report)
}
