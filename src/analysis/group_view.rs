//! A group's members side by side for one period: every member's value of
//! each indicator, as the resolver gives it (`GET /api/v1/series?committee=`),
//! and the group total where the indicator can be totalled, by the rule of
//! `GET /api/v1/series?group=` (flows and stocks summed, ratios recomputed
//! from the totals of their parts, other ratios not totalled).

use super::catalog::Catalog;
use super::resolver::Resolver;
use super::series::check_group_total;
use crate::db::committees::CommitteeRow;
use crate::db::groups::GroupRow;
use crate::db::indicators::IndicatorRow;
use crate::db::AnyConnection;
use crate::domain::period::PeriodCode;
use crate::domain::resolve::Resolved;
use crate::error::ApiError;

/// The group total of one indicator, or why there is none.
pub enum GroupTotal {
    /// The total and how many members contributed to it.
    Total { value: Resolved, reported: usize },
    /// The indicator cannot be totalled: a ratio without a numerator and
    /// denominator (`GET /api/v1/series?group=` refuses it with 422).
    NotTotalled,
}

/// One indicator across the members.
pub struct GroupIndicator {
    pub indicator: IndicatorRow,
    /// In the order of [`GroupView::members`].
    pub members: Vec<Resolved>,
    pub total: GroupTotal,
}

/// Every indicator with something for the period, across the group's members.
pub struct GroupView {
    pub group: GroupRow,
    pub members: Vec<CommitteeRow>,
    pub period: PeriodCode,
    pub items: Vec<GroupIndicator>,
}

/// The group view of `group` (a code) for `period`, from what was known at
/// `as_of` (now when `None`). One read for every member and indicator. With
/// `only` (an indicator code), that indicator alone, even with no value.
pub fn build_group_view(
    conn: &mut AnyConnection,
    group: &str,
    period: PeriodCode,
    as_of: Option<chrono::NaiveDateTime>,
    only: Option<&str>,
) -> Result<GroupView, ApiError> {
    let mut catalog = Catalog::load(conn)?;
    let (group, members) = catalog.group(conn, group)?;
    let member_ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let chosen = match only {
        Some(code) => catalog.indicators_named("indicator", code)?,
        None => catalog.indicators.clone(),
    };
    let every: Vec<&IndicatorRow> = chosen.iter().collect();
    let resolver = Resolver::load(
        conn,
        &catalog.indicators,
        &member_ids,
        &every,
        &[period],
        as_of,
        false,
    )?;
    let mut items = Vec::new();
    for indicator in &chosen {
        let values: Vec<Resolved> = member_ids
            .iter()
            .map(|id| resolver.resolve(*id, indicator, &period))
            .collect();
        // Indicators with something stored for the period (a value, or part of one).
        if only.is_none()
            && values
                .iter()
                .all(|v| v.value.is_none() && v.completeness.present == 0)
        {
            continue;
        }
        let total = match check_group_total(indicator) {
            Ok(()) => {
                let (value, reported) = resolver.resolve_group(&member_ids, indicator, &period);
                GroupTotal::Total { value, reported }
            }
            Err(_) => GroupTotal::NotTotalled,
        };
        items.push(GroupIndicator {
            indicator: indicator.clone(),
            members: values,
            total,
        });
    }
    items.sort_by(|a, b| a.indicator.code.cmp(&b.indicator.code));
    Ok(GroupView {
        group,
        members,
        period,
        items,
    })
}
