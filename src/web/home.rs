//! Home: the committees a person may see and, for a chosen period, how
//! complete each one's figures are (entered, estimated, missing, locked).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{Datelike, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::dashboard::vi;
use super::session::Person;
use super::{page, respond, WebError};
use crate::analysis::group_view::{build_group_view, GroupTotal, GroupView};
use crate::db::{self, Pool};
use crate::domain::locale::unit_words;
use crate::domain::period::PeriodCode;
use crate::domain::role::Role;
use crate::domain::value::ObservationStatus;
use crate::routes::with_conn;

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    period: Option<String>,
    /// The page of committees after this code (the `next` link's cursor).
    after: Option<String>,
}

/// Committees on one page of Home: its work is one page's, whatever the
/// number of committees (1,316 at national scale).
pub const HOME_PAGE_COMMITTEES: usize = 50;

/// The last quarter that has ended: what statisticians are entering now.
fn last_quarter() -> PeriodCode {
    let today = Utc::now().date_naive();
    let quarter = (today.month0() / 3) as u8 + 1;
    let code = if quarter == 1 {
        PeriodCode::quarter(today.year() - 1, 4)
    } else {
        PeriodCode::quarter(today.year(), quarter - 1)
    };
    code.expect("a quarter of a real date is valid")
}

/// Groups of at most this many members are shown at a glance on Home.
const GLANCE_MEMBERS: i64 = 12;
/// At most this many groups are shown at a glance; the others are linked.
const GLANCE_GROUPS: usize = 3;

/// A group on Home: its totals, or (a large group) a link to its view.
enum Glance {
    Totals(GroupView),
    Link(db::groups::GroupRow, i64),
}

/// One committee's line.
struct Completeness {
    code: String,
    name: String,
    entered: usize,
    estimated: usize,
    missing: usize,
    locked_by: Option<String>,
    may_write: bool,
}

pub async fn home(
    person: Person,
    pool: web::Data<Pool>,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, WebError> {
    let asked = query
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let (period, period_error) = match asked.map(PeriodCode::parse) {
        None => (last_quarter(), None),
        Some(Ok(period)) => (period, None),
        Some(Err(e)) => (last_quarter(), Some(e.to_string())),
    };
    let caller = person.caller.clone();
    let chosen = period;
    let after = query
        .after
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let first_page = after.is_none();
    let (lines, groups, more) = with_conn(&pool, move |conn| {
        // An editor sees the committees they enter for; others see all.
        let scope: Option<Vec<i64>> = (caller.role == Some(Role::Editor))
            .then(|| caller.committees.iter().copied().collect());
        let mut committees = db::committees::page(
            conn,
            after.as_deref(),
            scope.as_deref(),
            HOME_PAGE_COMMITTEES as i64 + 1,
        )?;
        let more = committees.len() > HOME_PAGE_COMMITTEES;
        committees.truncate(HOME_PAGE_COMMITTEES);
        let ids: Vec<i64> = committees.iter().map(|c| c.id).collect();
        let indicator_ids: Vec<i64> = db::indicators::list(conn)?
            .into_iter()
            .map(|i| i.id)
            .collect();
        // (entered, estimated) per committee: one grouped query for all.
        let mut per_committee: HashMap<i64, (usize, usize)> = HashMap::new();
        for (committee, status, count) in
            db::observations::completeness(conn, &ids, &indicator_ids, &chosen)?
        {
            let counts = per_committee.entry(committee).or_default();
            counts.0 += count as usize;
            if status == ObservationStatus::Estimated {
                counts.1 += count as usize;
            }
        }
        // The locks covering the period: one query for the page.
        let mut locked_by: HashMap<i64, String> = HashMap::new();
        for lock in db::locks::active(conn, &ids)? {
            if lock.covers(&chosen) {
                locked_by.entry(lock.committee_id).or_insert(lock.locked_by);
            }
        }
        let mut lines = Vec::with_capacity(committees.len());
        for committee in committees {
            let (entered, estimated) = per_committee
                .get(&committee.id)
                .copied()
                .unwrap_or_default();
            lines.push(Completeness {
                locked_by: locked_by.remove(&committee.id),
                may_write: caller.may_write_for(committee.id),
                code: committee.code,
                name: committee.name_vi,
                entered,
                estimated,
                missing: indicator_ids.len().saturating_sub(entered),
            });
        }
        // Small groups at a glance (their totals for the period); larger ones
        // only linked, so that Home's work stays bounded (bench/RESULTS.md).
        let counts: HashMap<i64, i64> = db::groups::member_counts(conn)?.into_iter().collect();
        let mut groups = Vec::new();
        for group in db::groups::list(conn)? {
            let members = counts.get(&group.id).copied().unwrap_or(0);
            let small = members <= GLANCE_MEMBERS
                && groups
                    .iter()
                    .filter(|g| matches!(g, Glance::Totals(_)))
                    .count()
                    < GLANCE_GROUPS;
            groups.push(if small {
                Glance::Totals(build_group_view(conn, &group.code, chosen, None, None)?)
            } else {
                Glance::Link(group, members)
            });
        }
        Ok((lines, groups, more))
    })
    .await?;
    let next = more
        .then(|| lines.last())
        .flatten()
        .map(|last| format!("/?period={}&after={}", period.code(), last.code));
    let markup = page(
        "Trang chủ",
        Some(&person),
        html! {
            h1 { "Tình hình nhập số liệu" }
            form method="get" action="/" {
                label for="period" { "Kỳ báo cáo" } " "
                input #period name="period" value=(period.code()) size="16"
                    aria-describedby="period-help";
                " " button type="submit" { "Xem" }
                br;
                span #period-help .muted { "Ví dụ: 2024-Q3, quý III/2024, 6 tháng đầu năm 2024, năm 2023" }
                @if let Some(error) = &period_error {
                    span.field-error role="alert" { "Kỳ không hợp lệ: " (error) }
                }
            }
            h2 { (period.vietnamese_label()) }
            table {
                thead { tr {
                    th { "Đảng bộ" } th.num { "Đã nhập" } th.num { "Ước tính" } th.num { "Còn thiếu" } th { "Khóa sổ" } th { "" }
                } }
                tbody {
                    @for line in &lines {
                        tr {
                            th scope="row" { (line.name) }
                            td.num { (line.entered) }
                            td.num { (line.estimated) }
                            td.num { (line.missing) }
                            td { @if let Some(by) = &line.locked_by { "Đã khóa (" (by) ")" } @else { "Chưa" } }
                            td {
                                @if line.may_write {
                                    a href=(format!("/entry/{}/{}", line.code, period.code())) { "Nhập số liệu" }
                                    " · "
                                }
                                a href=(format!("/dashboard/{}?period={}", line.code, period.code())) { "Bảng điều khiển" }
                            }
                        }
                    }
                }
            }
            @if next.is_some() || !first_page {
                nav.pager aria-label="Các trang danh sách đảng bộ" {
                    @if !first_page {
                        a href=(format!("/?period={}", period.code())) { "Về trang đầu" }
                        " "
                    }
                    @if let Some(next) = &next {
                        a rel="next" href=(next) { "Trang sau" }
                    }
                }
            }
            @for glance in &groups {
                @match glance {
                    Glance::Totals(view) => (group_at_a_glance(view)),
                    Glance::Link(group, members) => {
                        p.group-link {
                            "Nhóm " (group.name_vi) " (" (members) " đảng bộ): "
                            a href=(format!("/dashboard/group/{}?period={}", group.code, period.code())) { "so sánh các đảng bộ trong nhóm" }
                        }
                    }
                }
            }
        },
    );
    Ok(respond(markup))
}

/// A group's totals for the period, with a link to compare its members.
fn group_at_a_glance(view: &GroupView) -> Markup {
    let code = &view.group.code;
    let period = view.period.code();
    let heading = format!("group-{code}");
    html! {
        section.group-glance aria-labelledby=(heading) {
            h2 #(heading) { "Nhóm " (view.group.name_vi) }
            p {
                (view.members.len()) " đảng bộ. "
                a href=(format!("/dashboard/group/{code}?period={period}")) { "So sánh các đảng bộ trong nhóm" }
            }
            @if view.items.is_empty() {
                p.muted { "Chưa có số liệu của thành viên nào cho kỳ này." }
            } @else {
                table {
                    caption.sr-only { "Tổng của nhóm, " (view.period.vietnamese_label()) }
                    thead { tr {
                        th scope="col" { "Chỉ tiêu" } th.num scope="col" { "Cả nhóm" } th scope="col" { "Đơn vị" } th.num scope="col" { "Số đảng bộ có số liệu" }
                    } }
                    tbody {
                        @for item in &view.items {
                            tr data-indicator=(item.indicator.code) {
                                th scope="row" { (item.indicator.name_vi) }
                                @match &item.total {
                                    GroupTotal::Total { value, reported } => {
                                        td.num { @match value.value { Some(v) => (vi(v)), None => span.muted { "Chưa đủ" } } }
                                        td { (unit_words(item.indicator.unit, item.indicator.scale)) }
                                        td.num { (reported) "/" (view.members.len()) }
                                    }
                                    GroupTotal::NotTotalled => {
                                        td.num { span.muted { "Không cộng" } }
                                        td { (unit_words(item.indicator.unit, item.indicator.scale)) }
                                        td.num { (item.members.iter().filter(|m| m.value.is_some()).count()) "/" (view.members.len()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
