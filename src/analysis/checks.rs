//! Consistency checks: where a reported figure can be recomputed from stored
//! ones, show both and flag disagreements.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::catalog::Catalog;
use super::resolver::Resolver;
use crate::db::indicators::IndicatorRow;
use crate::db::observations::{select_rows, ObservationRow, Selection};
use crate::db::AnyConnection;
use crate::domain::breakdown::Breakdown;
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

/// Committees checked in one page of checks for a period, unless the caller
/// asks for another number.
pub const DEFAULT_PAGE_COMMITTEES: usize = 10;
/// Committees checked in one page of checks of every period: one committee's
/// whole history (thousands of figures) is already a page's worth of work.
pub const DEFAULT_PAGE_COMMITTEES_ALL_PERIODS: usize = 1;

/// The page size when the caller does not give one.
pub fn default_page_committees(period: Option<&PeriodCode>) -> usize {
    match period {
        Some(_) => DEFAULT_PAGE_COMMITTEES,
        None => DEFAULT_PAGE_COMMITTEES_ALL_PERIODS,
    }
}
/// The most committees one page of checks may cover: the work of a request
/// is bounded by this many committees' figures, whatever the database holds.
pub const MAX_PAGE_COMMITTEES: usize = 50;

/// Where the next page of checks starts: after this committee code. On the
/// wire it is opaque (hex), so that clients pass it back rather than build it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckCursor(String);

impl CheckCursor {
    /// Reads a cursor given back by a client; anything else is a 400.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::invalid_parameter(
                "cursor",
                "invalid_cursor",
                "not a cursor this server gave: pass back the `next_cursor` of the previous page",
            )
        };
        let bytes = hex::decode(raw.trim()).map_err(|_| invalid())?;
        let code = String::from_utf8(bytes).map_err(|_| invalid())?;
        crate::domain::code::CommitteeCode::parse(&code).map_err(|_| invalid())?;
        Ok(Self(code))
    }

    pub fn encode(&self) -> String {
        hex::encode(self.0.as_bytes())
    }
}

/// One page of checks: those of up to `limit` committees, in code order.
#[derive(Debug)]
pub struct CheckPage {
    pub checks: Vec<Check>,
    /// The committees this page checked, in order.
    pub committees: Vec<String>,
    /// Where the next page starts, if any committee is left.
    pub next: Option<CheckCursor>,
}

/// The checks of one page of committees: the `named` ones (all committees
/// when `None`) in code order, the first `limit` after `cursor`. The API's
/// `/checks` and the web app's checks page both call this.
pub fn check_page(
    conn: &mut AnyConnection,
    catalog: &mut Catalog,
    named: Option<Vec<(i64, String)>>,
    period: Option<&PeriodCode>,
    allow_incomplete: bool,
    limit: usize,
    cursor: Option<&CheckCursor>,
) -> Result<CheckPage, ApiError> {
    let limit = limit.clamp(1, MAX_PAGE_COMMITTEES);
    let after = cursor.map(|c| c.0.as_str());
    let mut committees: Vec<(i64, String)> = match named {
        Some(mut named) => {
            named.sort_by(|a, b| a.1.cmp(&b.1));
            named.dedup_by_key(|c| c.0);
            named
                .into_iter()
                .filter(|(_, code)| after.is_none_or(|after| code.as_str() > after))
                .take(limit + 1)
                .collect()
        }
        None => crate::db::committees::codes_after(conn, after, limit as i64 + 1)?,
    };
    let next = if committees.len() > limit {
        committees.truncate(limit);
        committees.last().map(|(_, code)| CheckCursor(code.clone()))
    } else {
        None
    };
    let checks = if committees.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<i64> = committees.iter().map(|c| c.0).collect();
        let mut checks = run_checks(conn, catalog, &ids, period, allow_incomplete)?;
        // In the page's committee order, so that pages read one after
        // another list the checks as one large page would.
        checks.sort_by(|a, b| a.committee.cmp(&b.committee));
        checks
    };
    Ok(CheckPage {
        checks,
        committees: committees.into_iter().map(|c| c.1).collect(),
        next,
    })
}

/// Every check that can be made on the figures of these committees (never
/// empty: see [`check_page`]) and period.
fn run_checks(
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
    // With periods, every indicator is named too, so that the database
    // seeks each committee × indicator × period in the figures' key rather
    // than reading every figure of the committees to keep those periods'.
    let indicator_ids: Vec<i64> = match periods.is_empty() {
        true => Vec::new(),
        false => catalog.indicators.iter().map(|i| i.id).collect(),
    };
    let rows = select_rows(
        conn,
        &Selection {
            committee_ids: committee_ids.to_vec(),
            indicator_ids,
            period_codes: periods,
            ..Selection::default()
        },
    )?;
    // One order whatever order the database returned them in: by committee,
    // indicator, period, breakdown and id.
    let mut rows = rows;
    rows.sort_by(|a, b| {
        (a.committee_id, a.indicator_id, a.period_start, a.period_end)
            .cmp(&(b.committee_id, b.indicator_id, b.period_start, b.period_end))
            .then_with(|| a.breakdown.cmp(&b.breakdown))
            .then_with(|| a.id.cmp(&b.id))
    });
    let row_committees: Vec<i64> = rows.iter().map(|r| r.committee_id).collect();
    catalog.learn_codes(conn, &row_committees)?;
    // The resolver answers for totals only where a check needs it: the
    // denominators of reported shares and the indicators of reported
    // changes. Most figures report neither, and then nothing more is read.
    let mut needed: Vec<i64> = rows
        .iter()
        .filter(|r| r.breakdown.is_total())
        .flat_map(|r| {
            let denominator = r
                .reported_share_pct
                .and(catalog.indicator(r.indicator_id))
                .and_then(|i| i.denominator_id);
            let own = r.reported_yoy_pct.map(|_| r.indicator_id);
            [denominator, own]
        })
        .flatten()
        .collect();
    needed.sort_unstable();
    needed.dedup();
    let asked: Vec<&IndicatorRow> = catalog
        .indicators
        .iter()
        .filter(|i| needed.binary_search(&i.id).is_ok())
        .collect();
    let resolver = match period {
        _ if asked.is_empty() => {
            Resolver::from_rows(&catalog.indicators, std::iter::empty(), allow_incomplete)
        }
        // Without a period every figure of the committees was read, and the
        // resolver answers from those of the indicators it is asked about.
        None => {
            let read = super::resolver::with_parts(&asked);
            Resolver::from_rows(
                &catalog.indicators,
                rows.iter()
                    .filter(|r| read.binary_search(&r.indicator_id).is_ok())
                    .cloned(),
                allow_incomplete,
            )
        }
        // With one, it reads what may answer for the period and the year before.
        Some(period) => {
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
    // Every figure by its key, and each total's one-dimension parts: the
    // checks look figures up in these, so checking is linear in the figures.
    let by_key: HashMap<Key, &ObservationRow> = rows.iter().map(|r| (key_of(r), r)).collect();
    let mut parts_of: HashMap<(i64, i64, PeriodCode), Vec<&ObservationRow>> = HashMap::new();
    for part in rows.iter().filter(|p| p.breakdown.as_map().len() == 1) {
        parts_of
            .entry((part.committee_id, part.indicator_id, part.period_code))
            .or_default()
            .push(part);
    }
    let base_of = |row: &ObservationRow, indicator: &IndicatorRow, period: &PeriodCode| {
        if row.breakdown.is_total() {
            resolved_base(resolver.resolve(row.committee_id, indicator, period))
        } else {
            by_key
                .get(&(row.committee_id, indicator.id, *period, &row.breakdown))
                .map(|r| Base {
                    value: r.value,
                    ids: vec![r.id],
                    how: String::new(),
                })
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
            let parts: &[&ObservationRow] = parts_of
                .get(&(row.committee_id, row.indicator_id, row.period_code))
                .map(Vec::as_slice)
                .unwrap_or_default();
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
            for part in parts {
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

/// A figure's key: committee, indicator, period, breakdown.
type Key<'a> = (i64, i64, PeriodCode, &'a Breakdown);

fn key_of(row: &ObservationRow) -> Key<'_> {
    (
        row.committee_id,
        row.indicator_id,
        row.period_code,
        &row.breakdown,
    )
}
