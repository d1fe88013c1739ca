//! Consistency checks: where a reported figure can be recomputed from stored
//! ones, show both and flag disagreements.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::Catalog;
use super::resolver::Resolver;
use crate::db::indicators::IndicatorRow;
use crate::db::observations::{select_rows, ObservationRow, Selection};
use crate::db::AnyConnection;
use crate::domain::comparison::{check_reported, percent_change, share, Verdict};
use crate::domain::period::PeriodCode;
use crate::domain::resolve::Resolved;
use crate::domain::value::Qualifier;
use crate::error::ApiError;

/// What was recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A reported share against part ÷ whole of stored figures.
    Share,
    /// A reported year-on-year change against the stored figures of both years.
    ReportedYoy,
    /// The parts of a complete breakdown (women + men) against the total.
    BreakdownSum,
    /// One part of a breakdown against the total it is part of.
    BreakdownPart,
}

/// One recomputed figure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    pub kind: CheckKind,
    pub verdict: Verdict,
    pub committee: String,
    pub indicator: String,
    pub period: String,
    /// What the source reported (a percent for shares and changes, the total for breakdowns).
    #[schema(value_type = String)]
    pub reported: Decimal,
    /// What the stored figures give, at the reported precision.
    #[schema(value_type = String)]
    pub computed: Decimal,
    pub message: String,
    /// The stored figures involved.
    pub observation_ids: Vec<i64>,
}

/// Dimensions whose values together make up the whole total.
const COMPLETE_DIMENSIONS: &[(&str, &[&str])] = &[("sex", &["female", "male"])];

fn exactish(q: Qualifier) -> bool {
    q == Qualifier::Exact
}

/// A value to check against, with the ids of the figures it comes from:
/// for a total, the resolver's (stored or derived, as every endpoint gives
/// it); for a part of a breakdown, the part stored for exactly that period.
struct Base {
    value: Decimal,
    ids: Vec<i64>,
    /// How it was obtained, for the message.
    how: String,
}

fn resolved_base(resolved: Resolved) -> Option<Base> {
    let value = resolved.value?;
    let how = match resolved.stored_id() {
        Some(_) => String::new(),
        None if resolved.completeness.complete => " (derived)".to_owned(),
        None => format!(
            " (derived from {} of {} months only)",
            resolved.completeness.present, resolved.completeness.expected
        ),
    };
    Some(Base {
        value,
        ids: resolved.ids(),
        how,
    })
}

/// Every check that can be made on the figures of these committees and period.
pub fn run_checks(
    conn: &mut AnyConnection,
    catalog: &mut Catalog,
    committee_ids: &[i64],
    period: Option<&PeriodCode>,
    allow_incomplete: bool,
) -> Result<Vec<Check>, ApiError> {
    let mut periods = Vec::new();
    if let Some(period) = period {
        periods.push(period.code());
        if let Some(previous) = period.same_period_previous_year() {
            periods.push(previous.code());
        }
    }
    let rows = select_rows(
        conn,
        &Selection {
            committee_ids: committee_ids.to_vec(),
            period_codes: periods,
            ..Selection::default()
        },
    )?;
    let row_committees: Vec<i64> = rows.iter().map(|r| r.committee_id).collect();
    catalog.learn_codes(conn, &row_committees)?;
    // Without a period every figure of the committees was read, and the
    // resolver answers from those; with one, it reads what may answer for
    // the period and the year before.
    let resolver = match period {
        None => Resolver::from_rows(&catalog.indicators, rows.iter().cloned(), allow_incomplete),
        Some(period) => {
            let asked: Vec<&IndicatorRow> = catalog.indicators.iter().collect();
            let periods: Vec<PeriodCode> = std::iter::once(*period)
                .chain(period.same_period_previous_year())
                .collect();
            Resolver::load(
                conn,
                &catalog.indicators,
                committee_ids,
                &asked,
                &periods,
                None,
                allow_incomplete,
            )?
        }
    };
    let base_of = |row: &ObservationRow, indicator: &IndicatorRow, period: &PeriodCode| {
        if row.breakdown.is_total() {
            resolved_base(resolver.resolve(row.committee_id, indicator, period))
        } else {
            by_key_lookup(&rows, row, indicator.id, period)
        }
    };
    let judged = rows
        .iter()
        .filter(|r| period.is_none_or(|p| r.period_code == *p));
    let mut checks = Vec::new();
    for row in judged {
        let Some(indicator) = catalog.indicator(row.indicator_id) else {
            continue;
        };
        let describe = |kind, verdict, reported, computed, message: String, ids: Vec<i64>| Check {
            kind,
            verdict,
            committee: catalog.committee_code(row.committee_id).to_owned(),
            indicator: indicator.code.clone(),
            period: row.period_code.code(),
            reported,
            computed,
            message,
            observation_ids: ids,
        };
        // A reported share, against the denominator stored for the same committee and period.
        if let (Some(reported), Some(denominator)) = (
            row.reported_share_pct,
            indicator
                .denominator_id
                .and_then(|id| catalog.indicator(id)),
        ) {
            let whole = base_of(row, denominator, &row.period_code);
            if let Some(whole) = whole {
                if let Some(computed) = share(row.value, whole.value) {
                    let qualifier = row
                        .reported_share_qualifier
                        .as_deref()
                        .and_then(|q| q.parse().ok())
                        .unwrap_or(Qualifier::Exact);
                    let check = check_reported(computed, reported.into(), qualifier);
                    let mut ids = vec![row.id];
                    ids.extend(&whole.ids);
                    checks.push(describe(
                        CheckKind::Share,
                        check.verdict,
                        check.reported,
                        check.computed,
                        format!(
                            "{} of {}{} ({}) is {}%, the source says {}%",
                            row.value,
                            whole.value,
                            whole.how,
                            denominator.code,
                            check.computed,
                            check.reported
                        ),
                        ids,
                    ));
                }
            }
        }
        // A reported year-on-year change, against last year's stored figure.
        if let (Some(reported), Some(previous_period)) = (
            row.reported_yoy_pct,
            row.period_code.same_period_previous_year(),
        ) {
            if let Some(previous) = base_of(row, indicator, &previous_period) {
                if let Some(computed) = percent_change(row.value, previous.value) {
                    let qualifier = row
                        .reported_yoy_qualifier
                        .as_deref()
                        .and_then(|q| q.parse().ok())
                        .unwrap_or(Qualifier::Exact);
                    let check = check_reported(computed, reported.into(), qualifier);
                    let mut ids = vec![row.id];
                    ids.extend(&previous.ids);
                    checks.push(describe(
                        CheckKind::ReportedYoy,
                        check.verdict,
                        check.reported,
                        check.computed,
                        format!(
                            "{} against {} in {previous_period}{} is {}%, the source says {}%",
                            row.value, previous.value, previous.how, check.computed, check.reported
                        ),
                        ids,
                    ));
                }
            }
        }
        // Breakdowns of a total.
        if row.breakdown.is_total() {
            let parts: Vec<&ObservationRow> = rows
                .iter()
                .filter(|p| {
                    p.committee_id == row.committee_id
                        && p.indicator_id == row.indicator_id
                        && p.period_code == row.period_code
                        && p.breakdown.as_map().len() == 1
                })
                .collect();
            for (dimension, values) in COMPLETE_DIMENSIONS {
                let members: Vec<&&ObservationRow> = parts
                    .iter()
                    .filter(|p| p.breakdown.as_map().contains_key(*dimension))
                    .collect();
                let complete = values.iter().all(|v| {
                    members.iter().any(|p| {
                        p.breakdown.as_map().get(*dimension).map(String::as_str) == Some(*v)
                    })
                });
                if !complete || members.len() != values.len() {
                    continue;
                }
                let sum: Decimal = members.iter().map(|p| p.value).sum();
                let all_exact =
                    exactish(row.qualifier) && members.iter().all(|p| exactish(p.qualifier));
                let verdict = if sum == row.value || !all_exact {
                    Verdict::Consistent
                } else {
                    Verdict::Inconsistent
                };
                let mut ids = vec![row.id];
                ids.extend(members.iter().map(|p| p.id));
                checks.push(describe(
                    CheckKind::BreakdownSum,
                    verdict,
                    row.value,
                    sum,
                    format!(
                        "the {dimension} breakdown adds up to {sum}, the total is {}",
                        row.value
                    ),
                    ids,
                ));
            }
            for part in &parts {
                // A part can exceed its total only if the total is a lower bound or the part an upper one.
                let may_exceed = matches!(
                    row.qualifier,
                    Qualifier::LowerBound | Qualifier::Approximate
                ) || matches!(
                    part.qualifier,
                    Qualifier::UpperBound | Qualifier::Approximate
                );
                if part.value > row.value && !may_exceed {
                    checks.push(describe(
                        CheckKind::BreakdownPart,
                        Verdict::Inconsistent,
                        row.value,
                        part.value,
                        format!(
                            "the part {} ({}) is larger than its total {}",
                            part.breakdown, part.value, row.value
                        ),
                        vec![row.id, part.id],
                    ));
                }
            }
        }
    }
    Ok(checks)
}

/// The figure of the same breakdown as `row`, stored for exactly `period`.
fn by_key_lookup(
    rows: &[ObservationRow],
    row: &ObservationRow,
    indicator_id: i64,
    period: &PeriodCode,
) -> Option<Base> {
    rows.iter()
        .find(|r| {
            r.committee_id == row.committee_id
                && r.indicator_id == indicator_id
                && r.period_code == *period
                && r.breakdown == row.breakdown
        })
        .map(|r| Base {
            value: r.value,
            ids: vec![r.id],
            how: String::new(),
        })
}
