//! The group view: the members of a group (the seven northern provinces'
//! Business Blocs) side by side for a period, each indicator with every
//! member's value, the group total where it can be totalled, and a bar chart
//! comparing the members, served at an embeddable image URL.
//!
//! The numbers come from `analysis::group_view::build_group_view`: members'
//! values by the resolver, totals by the rule of `GET /api/v1/series?group=`.

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::dashboard::{as_of_note, escape, period_form, vi, PeriodQuery};
use super::entry::status_label;
use super::session::{Person, Reading};
use super::{page, respond, WebError};
use crate::analysis::group_view::{build_group_view, GroupTotal, GroupView};
use crate::db::committees::CommitteeRow;
use crate::db::Pool;
use crate::domain::locale::unit_words;
use crate::domain::resolve::Resolved;
use crate::domain::value::ObservationStatus;
use crate::routes::with_conn;

/// Members' names without the words they all share ("Đảng ủy Khối Doanh
/// nghiệp "), so that a chart's labels are short.
pub fn short_names(members: &[CommitteeRow]) -> Vec<String> {
    let words: Vec<Vec<&str>> = members
        .iter()
        .map(|m| m.name_vi.split(' ').collect())
        .collect();
    let shortest = words.iter().map(Vec::len).min().unwrap_or(0);
    let mut shared = 0;
    // Keep at least one word of each name.
    while members.len() > 1
        && shared + 1 < shortest
        && words.iter().all(|w| w[shared] == words[0][shared])
    {
        shared += 1;
    }
    words.iter().map(|w| w[shared..].join(" ")).collect()
}

fn value_cell(value: &Resolved) -> Markup {
    html! {
        @match value.value {
            Some(number) => {
                (vi(number))
                @if value.status != ObservationStatus::Normal {
                    " " span.muted { "(" (status_label(value.status)) ")" }
                }
            }
            None => span.muted { "Chưa có" },
        }
    }
}

/// The query string a chart or link of this view carries.
fn view_query(query: &PeriodQuery, period: &str) -> String {
    let mut text = format!("period={period}");
    if let Some(as_of) = query.as_of_text() {
        let _ = write!(
            text,
            "&as_of={}",
            form_urlencoded::byte_serialize(as_of.as_bytes()).collect::<String>()
        );
    }
    text
}

pub async fn group_view(
    person: Person,
    pool: web::Data<Pool>,
    code: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let code = code.into_inner();
    let period = query.period()?;
    let as_of = query.as_of()?;
    let wanted = code.clone();
    let view = with_conn(&pool, move |conn| {
        build_group_view(conn, &wanted, period, as_of, None)
    })
    .await?;
    let names = short_names(&view.members);
    let link_query = view_query(&query, &period.code());
    let markup = page(
        "So sánh trong nhóm",
        Some(&person),
        html! {
            h1 { "So sánh trong nhóm: " (view.group.name_vi) }
            (period_form(&format!("/dashboard/group/{code}"), &period.code(), &query))
            (as_of_note(as_of, &format!("/dashboard/group/{code}?period={}", period.code())))
            h2 { (period.vietnamese_label()) }
            p { "Thành viên: "
                @for (index, member) in view.members.iter().enumerate() {
                    @if index > 0 { ", " }
                    a href=(format!("/dashboard/{}?{}", member.code, link_query)) { (names[index]) }
                }
            }
            @if view.items.is_empty() {
                p { "Chưa có số liệu của thành viên nào cho kỳ này." }
            }
            @for item in &view.items {
                @let indicator = &item.indicator;
                @let unit = unit_words(indicator.unit, indicator.scale);
                section.group-indicator data-indicator=(indicator.code) {
                    h3 #(format!("i-{}", indicator.code)) { (indicator.name_vi) " (" (unit) ")" }
                    div.group-body {
                        table aria-labelledby=(format!("i-{}", indicator.code)) {
                            thead { tr { th scope="col" { "Đảng bộ" } th.num scope="col" { "Giá trị" } } }
                            tbody {
                                @for (index, value) in item.members.iter().enumerate() {
                                    tr data-member=(view.members[index].code) {
                                        th scope="row" { (names[index]) }
                                        td.num { (value_cell(value)) }
                                    }
                                }
                            }
                            tfoot {
                                tr.total {
                                    th scope="row" { "Cả nhóm" }
                                    td.num {
                                        @match &item.total {
                                            GroupTotal::Total { value, reported } => {
                                                (value_cell(value))
                                                br;
                                                span.muted { (reported) "/" (view.members.len()) " đảng bộ có số liệu" }
                                            }
                                            GroupTotal::NotTotalled => {
                                                span.muted { "Không cộng: tỷ lệ không có tử số và mẫu số" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        img loading="lazy" width="480" height=(chart_height(view.members.len()) as u32)
                            src=(format!("/chart/group/{code}/{}.svg?{link_query}", indicator.code))
                            alt=(format!("Biểu đồ so sánh {} giữa các đảng bộ trong nhóm", indicator.name_vi));
                    }
                }
            }
        },
    );
    Ok(respond(markup))
}

const CHART_WIDTH: f64 = 480.0;
const ROW: f64 = 26.0;
const CHART_TOP: f64 = 30.0;

fn chart_height(members: usize) -> f64 {
    CHART_TOP + ROW * members as f64 + 10.0
}

/// A horizontal bar per member, its value at the end. A member without a
/// value has no bar (a gap is never drawn as zero) and says "chưa có".
pub fn draw_member_chart(title: &str, rows: &[(String, Option<Decimal>)]) -> String {
    const LABEL: f64 = 150.0;
    const VALUE_ROOM: f64 = 90.0;
    let height = chart_height(rows.len());
    let values: Vec<Option<f64>> = rows
        .iter()
        .map(|(_, v)| v.and_then(|v| v.to_f64()))
        .collect();
    let max = values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v));
    let min = values.iter().flatten().fold(0.0_f64, |m, v| m.min(*v));
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let plot = CHART_WIDTH - LABEL - VALUE_ROOM;
    let x_of = |v: f64| LABEL + (v - min) / span * plot;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{title}" font-family="sans-serif" font-size="12"><title>{title}</title><rect width="100%" height="100%" fill="#fff"/><text x="4" y="18" font-weight="bold">{title}</text><line x1="{zero}" x2="{zero}" y1="{CHART_TOP}" y2="{bottom}" stroke="#767676"/>"##,
        title = escape(title),
        zero = x_of(0.0),
        bottom = height - 10.0,
    );
    for (index, ((label, exact), value)) in rows.iter().zip(&values).enumerate() {
        let y = CHART_TOP + index as f64 * ROW;
        let label = escape(label);
        let _ = write!(
            svg,
            r##"<text x="4" y="{ty}" fill="#1a1a1a">{label}</text>"##,
            ty = y + ROW * 0.65,
        );
        match (value, exact) {
            (Some(value), Some(exact)) => {
                let (left, right) = (x_of(value.min(0.0)), x_of(value.max(0.0)));
                let text = escape(&vi(*exact));
                let _ = write!(
                    svg,
                    r##"<rect x="{left}" y="{by}" width="{bw}" height="{bh}" fill="#7a1010"><title>{label}: {text}</title></rect><text x="{tx}" y="{ty}" fill="#1a1a1a">{text}</text>"##,
                    by = y + ROW * 0.15,
                    bw = (right - left).max(0.5),
                    bh = ROW * 0.7,
                    tx = right + 4.0,
                    ty = y + ROW * 0.65,
                );
            }
            _ => {
                let _ = write!(
                    svg,
                    r##"<text x="{tx}" y="{ty}" fill="#555">chưa có</text>"##,
                    tx = LABEL + 4.0,
                    ty = y + ROW * 0.65,
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn chart_of(view: &GroupView) -> String {
    let names = short_names(&view.members);
    let Some(item) = view.items.first() else {
        return draw_member_chart(&view.group.code, &[]);
    };
    let rows: Vec<(String, Option<Decimal>)> = names
        .into_iter()
        .zip(&item.members)
        .map(|(name, value)| (name, value.value))
        .collect();
    let title = format!(
        "{} · {} · {} ({})",
        view.group.code,
        item.indicator.code,
        view.period.code(),
        unit_words(item.indicator.unit, item.indicator.scale)
    );
    draw_member_chart(&title, &rows)
}

/// The group chart of one indicator as an image any page may embed.
pub async fn group_chart(
    _: Reading,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let (group, indicator) = path.into_inner();
    let indicator = indicator
        .strip_suffix(".svg")
        .unwrap_or(&indicator)
        .to_owned();
    let period = query.period()?;
    let as_of = query.as_of()?;
    let svg = with_conn(&pool, move |conn| {
        let view = build_group_view(conn, &group, period, as_of, Some(&indicator))?;
        Ok(chart_of(&view))
    })
    .await?;
    Ok(super::dashboard::svg_response(svg))
}
