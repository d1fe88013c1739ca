//! Progress against targets, direction-aware, pro rata for part of a period.
//! The achieved value is the resolver's, as on every other endpoint.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::Catalog;
use super::caveats;
use super::resolver::Resolver;
use crate::db::indicators::IndicatorRow;
use crate::db::targets::TargetRow;
use crate::db::{self, AnyConnection};
use crate::domain::comparison::{progress, ProgressStatus};
use crate::domain::indicator::{Direction, MeasureKind, Unit};
use crate::domain::period::PeriodCode;
use crate::domain::resolve::Resolved;
use crate::domain::series::round_half_up;
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
    /// What `period` should reach. For a flow judged on part of the target's
    /// period, the pro-rata share, linear by elapsed months: target × months
    /// of `period` ÷ months of the target's period (a quarter of an annual
    /// plan expects 3/12 of it). Otherwise (the whole period, a stock's level
    /// or a ratio) the target itself.
    #[schema(value_type = String)]
    pub expected: Decimal,
    /// Whether `expected` is a pro-rata share of the target.
    pub pro_rata: bool,
    /// The value for `period`, resolved as on every endpoint (stored, or
    /// derived from its sub-periods by measure kind).
    pub achieved: Resolved,
    /// achieved ÷ expected × 100 (inverted when lower is better), rounded
    /// half up to at most 2 decimals: progress against what `period` should
    /// have reached. The status is judged on this.
    #[schema(value_type = Option<String>)]
    pub percent_of_expected: Option<Decimal>,
    /// achieved ÷ target × 100 (inverted when lower is better), rounded half
    /// up to at most 2 decimals: the share of the whole plan reached so far.
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

/// The (period judged, target) pairs: for `period` if given (against the
/// target that contains it), else each target for its own period.
pub fn jobs<'a>(
    targets: &'a [TargetRow],
    period: Option<&PeriodCode>,
) -> Vec<(PeriodCode, &'a TargetRow)> {
    match period {
        Some(period) => {
            let mut pairs: Vec<(i64, i64)> = targets
                .iter()
                .map(|t| (t.committee_id, t.indicator_id))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            pairs
                .into_iter()
                .filter_map(|(committee_id, indicator_id)| {
                    applicable(targets, committee_id, indicator_id, period)
                })
                .map(|target| (*period, target))
                .collect()
        }
        None => targets.iter().map(|t| (t.period_code, t)).collect(),
    }
}

/// Progress of every target of these committees and indicators (empty: all);
/// for `period` if given (judged against the target that contains it), else
/// for each target's own period.
pub fn progress_report(
    conn: &mut AnyConnection,
    catalog: &mut Catalog,
    committee_ids: &[i64],
    indicator_ids: &[i64],
    period: Option<&PeriodCode>,
    allow_incomplete: bool,
) -> Result<Vec<TargetProgress>, ApiError> {
    let targets = db::targets::select_rows(conn, committee_ids, indicator_ids)?;
    let jobs = jobs(&targets, period);
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut committees: Vec<i64> = jobs.iter().map(|(_, t)| t.committee_id).collect();
    committees.sort_unstable();
    committees.dedup();
    catalog.learn_codes(conn, &committees)?;
    let indicators: Vec<&IndicatorRow> = catalog
        .indicators
        .iter()
        .filter(|i| jobs.iter().any(|(_, t)| t.indicator_id == i.id))
        .collect();
    let mut periods: Vec<PeriodCode> = jobs.iter().map(|(p, _)| *p).collect();
    periods.sort_unstable();
    periods.dedup();
    let resolver = Resolver::load(
        conn,
        &catalog.indicators,
        &committees,
        &indicators,
        &periods,
        None,
        allow_incomplete,
    )?;
    Ok(jobs
        .into_iter()
        .filter_map(|(period, target)| judge(&resolver, catalog, &period, target))
        .collect())
}

/// Progress towards `target` in `period`, with the resolver's value.
pub fn judge(
    resolver: &Resolver,
    catalog: &Catalog,
    period: &PeriodCode,
    target: &TargetRow,
) -> Option<TargetProgress> {
    let indicator = catalog.indicator(target.indicator_id)?;
    let mut notes = Vec::new();
    let whole = *period == target.period_code;
    let mut pro_rata = false;
    let expected = if whole {
        target.value
    } else {
        match (
            indicator.measure_kind,
            period.months(),
            target.period_code.months(),
        ) {
            // A flow accrues through the period, linearly by elapsed months:
            // a quarter should bring three twelfths of an annual plan.
            (MeasureKind::Flow, Some(part), Some(all)) if all > 0 => {
                pro_rata = part != all;
                notes.push(format!(
                    "expected is {part}/{all} of the target for {} (pro rata, linear by elapsed months)",
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
    let achieved = resolver.resolve(target.committee_id, indicator, period);
    let judged = achieved
        .value
        .map(|value| progress(value, target.value, expected, whole, indicator.direction));
    match achieved.value {
        Some(_) => {
            notes.extend(caveats(
                "achieved value",
                achieved.qualifier,
                achieved.status,
            ));
            if !achieved.completeness.complete {
                notes.push(format!(
                    "the achieved value is incomplete: it covers {} of {} months of {period}",
                    achieved.completeness.present, achieved.completeness.expected
                ));
            }
        }
        None => notes.push(format!(
            "no value for {period}: {}",
            achieved.missing_reason()
        )),
    }
    Some(TargetProgress {
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
        pro_rata,
        achieved,
        percent_of_expected: judged.as_ref().and_then(|j| j.percent_of_expected),
        percent_of_target: judged.as_ref().and_then(|j| j.percent_of_target),
        status: judged.map(|j| j.status),
        notes,
    })
}
