//! The dashboard (committee × period: a tile per indicator) and the chart of
//! an indicator over the last periods, drawn by the server as SVG and served
//! at an embeddable image URL.
//!
//! With `as_of`, the dashboard and its charts are built from what was known at
//! that moment, by the API's `as_of` (`routes::as_of_param`, the resolver).
//!
//! The numbers come from `routes::analysis::build_dashboard` and
//! `analysis::series::build_series`, the functions behind
//! `/api/v1/committees/{code}/dashboard` and `/api/v1/series`.

use std::fmt::Write;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDateTime, NaiveTime};
use maud::{html, Markup};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::entry::status_label;
use super::session::{Person, Reading};
use super::{page, respond, WebError};
use crate::analysis::catalog::Catalog;
use crate::analysis::series::{build_series, Series, SeriesRequest};
use crate::domain::comparison::{ProgressStatus, Verdict};
use crate::domain::locale::{format_number, unit_words, Locale};
use crate::domain::period::PeriodCode;
use crate::domain::series::Transform;
use crate::error::ApiError;
use crate::routes::analysis::build_dashboard;
use crate::routes::with_conn;

/// Periods a chart shows, ending with the chosen one.
const CHART_PERIODS: usize = 10;

/// The period of a dashboard, and the moment it is seen from (`as_of`).
#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
    as_of: Option<String>,
}

impl PeriodQuery {
    pub fn period(&self) -> Result<PeriodCode, ApiError> {
        let raw = self
            .period
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::bad_request("chọn kỳ báo cáo: ?period=2024-Q3"))?;
        PeriodCode::parse(raw).map_err(|e| ApiError::bad_request(format!("kỳ không hợp lệ: {e}")))
    }

    /// The moment asked for, read as the API reads `as_of`.
    pub fn as_of(&self) -> Result<Option<NaiveDateTime>, ApiError> {
        crate::routes::as_of_param(self.as_of.as_deref())
    }

    /// `as_of` as given, when given.
    pub fn as_of_text(&self) -> Option<&str> {
        self.as_of
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }
}

pub fn vi(value: Decimal) -> String {
    format_number(value.normalize(), Locale::Vietnamese)
}

/// The form choosing a period and, for a historical view, a date.
pub fn period_form(action: &str, period: &str, query: &PeriodQuery) -> Markup {
    // A date field shows only a date: a full timestamp keeps its date part.
    let as_of_date = query
        .as_of_text()
        .map(|a| a.get(..10).unwrap_or(a).to_owned())
        .unwrap_or_default();
    html! {
        form.period-form method="get" action=(action) {
            label for="period" { "Kỳ báo cáo" } " "
            input #period name="period" value=(period) size="16";
            " "
            label for="as_of" { "Số liệu đã biết đến ngày" } " "
            input #as_of type="date" name="as_of" value=(as_of_date) aria-describedby="as-of-help";
            " " button type="submit" { "Xem" }
            br;
            span #as-of-help .muted { "Để trống để xem số liệu hiện tại." }
        }
    }
}

/// Says, when the view is historical, from which moment it is seen.
pub fn as_of_note(as_of: Option<NaiveDateTime>, now_link: &str) -> Markup {
    html! {
        @if let Some(at) = as_of {
            @let end_of_day = at.time() == NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).expect("a time");
            p.historical role="status" {
                strong { "Số liệu lịch sử. " }
                "Đây là số liệu và chỉ tiêu như đã biết đến "
                @if end_of_day { "hết ngày " (at.format("%d/%m/%Y")) }
                @else { (at.format("%H:%M:%S ngày %d/%m/%Y")) " (giờ UTC)" }
                "; những gì nhập hoặc sửa sau đó không được tính. "
                a href=(now_link) { "Xem số liệu hiện tại" }
            }
        }
    }
}

/// An SVG chart as an image any page may embed.
pub fn svg_response(svg: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Embedded anywhere, it still runs no script and loads nothing.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(svg)
}

fn progress_label(status: ProgressStatus) -> &'static str {
    match status {
        ProgressStatus::Met => "Đạt",
        ProgressStatus::Exceeded => "Vượt",
        ProgressStatus::OnTrack => "Đúng tiến độ",
        ProgressStatus::Behind => "Chậm",
    }
}

pub async fn dashboard(
    person: Person,
    pool: web::Data<Pool>,
    code: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let code = code.into_inner();
    let period = query.period()?;
    let as_of = query.as_of()?;
    let wanted = code.clone();
    let (board, committee_name, groups) = with_conn(&pool, move |conn| {
        let board = build_dashboard(conn, &wanted, period, false, as_of)?;
        let committee = crate::db::committees::find_by_code(conn, &board.committee)?;
        let name = committee
            .as_ref()
            .map_or_else(|| board.committee.clone(), |c| c.name_vi.clone());
        let mut groups = Vec::new();
        if let Some(committee) = committee {
            for group in crate::db::groups::list(conn)? {
                if crate::db::groups::is_member(conn, group.id, committee.id)? {
                    groups.push(group);
                }
            }
        }
        Ok((board, name, groups))
    })
    .await?;
    let mut view_query = format!("period={}", board.period);
    if let Some(as_of) = query.as_of_text() {
        view_query.push_str("&as_of=");
        view_query.extend(form_urlencoded::byte_serialize(as_of.as_bytes()));
    }
    let markup = page(
        "Bảng điều khiển",
        Some(&person),
        html! {
            h1 { "Bảng điều khiển: " (committee_name) }
            (period_form(&format!("/dashboard/{code}"), &board.period, &query))
            (as_of_note(as_of, &format!("/dashboard/{code}?period={}", board.period)))
            @for group in &groups {
                p { "So sánh với các đảng bộ cùng nhóm: "
                    a href=(format!("/dashboard/group/{}?{view_query}", group.code)) { (group.name_vi) }
                }
            }
            h2 { (period.vietnamese_label()) }
            @if board.items.is_empty() {
                p { "Chưa có số liệu cho kỳ này." }
            }
            div.tiles {
                @for item in &board.items {
                    @let yoy = &item.year_on_year;
                    @let unit = unit_words(yoy.unit, yoy.scale);
                    section.tile data-indicator=(item.indicator) {
                        h3 { (item.name_vi) }
                        p.value {
                            @match item.figure.value {
                                Some(value) => { strong.figure { (vi(value)) } " " (unit) }
                                None => { span.muted { "Chưa có" } }
                            }
                            @if item.figure.value.is_some() {
                                " " span.muted { "(" (status_label(item.figure.status)) ")" }
                            }
                        }
                        p {
                            "So cùng kỳ: "
                            @match yoy.percent_change {
                                Some(pct) => {
                                    strong.yoy { @if pct > Decimal::ZERO { "+" } (vi(pct)) "%" }
                                }
                                None => { span.muted { "không tính được" } }
                            }
                            @if let Some(reported) = &yoy.reported {
                                br;
                                @match reported.verdict {
                                    Verdict::Consistent => span.ok { "Khớp với báo cáo (" (vi(reported.reported)) "%)" },
                                    Verdict::Inconsistent => span.error { "Lệch: báo cáo " (vi(reported.reported)) "%, tính được " (vi(reported.computed)) "%" },
                                }
                            }
                        }
                        @if let Some(progress) = &item.progress {
                            @let percent = progress.percent_of_target.unwrap_or_default();
                            p {
                                label for=(format!("progress-{}", item.indicator)) { "Tiến độ so với chỉ tiêu " (vi(progress.target)) " " (unit) }
                                br;
                                progress id=(format!("progress-{}", item.indicator)) max="100" value=(percent.min(Decimal::ONE_HUNDRED).max(Decimal::ZERO).to_string()) { (vi(percent)) "%" }
                                " " (vi(percent)) "%"
                                @if let Some(status) = progress.status { " · " (progress_label(status)) }
                            }
                        }
                        img loading="lazy" width="320" height="140"
                            src=(format!("/chart/{}/{}.svg?{view_query}", code, item.indicator))
                            alt=(format!("Biểu đồ {} qua {CHART_PERIODS} kỳ", item.name_vi));
                    }
                }
            }
        },
    );
    Ok(respond(markup))
}

/// The last [`CHART_PERIODS`] periods of `period`'s frequency, ending with it.
fn chart_range(period: PeriodCode) -> PeriodCode {
    let mut from = period;
    for _ in 1..CHART_PERIODS {
        match from.previous_period() {
            Some(previous) => from = previous,
            None => break,
        }
    }
    from
}

fn series_for(
    conn: &mut crate::db::AnyConnection,
    committee: &str,
    indicator: &str,
    period: PeriodCode,
    as_of: Option<NaiveDateTime>,
) -> Result<Series, ApiError> {
    let mut catalog = Catalog::load(conn)?;
    let committees = catalog.committees_named(conn, "committee", committee)?;
    let indicator = catalog
        .indicators_named("indicator", indicator)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("no such indicator"))?;
    build_series(
        conn,
        &SeriesRequest {
            committees,
            group: None,
            group_id: None,
            use_rollups: true,
            indicator: &indicator,
            catalog: &catalog.indicators,
            from: chart_range(period),
            to: period,
            frequency: period.frequency(),
            transform: Transform::Lin,
            allow_incomplete: false,
            as_of,
        },
    )
}

/// Escapes text for SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart of a series: one bar per period, its value above it. Missing
/// periods have no bar, so a gap is never drawn as zero.
pub fn draw_chart(title: &str, series: &Series) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 280.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 40.0;
    let values: Vec<Option<f64>> = series
        .points
        .iter()
        .map(|p| p.value.and_then(|v| v.to_f64()))
        .collect();
    let max = values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v));
    let min = values.iter().flatten().fold(0.0_f64, |m, v| m.min(*v));
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let slot = WIDTH / series.points.len().max(1) as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let y_of = |v: f64| TOP + (max - v) / span * plot;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" font-family="sans-serif" font-size="12"><title>{title}</title><rect width="100%" height="100%" fill="#fff"/><text x="8" y="18" font-weight="bold">{title}</text><line x1="0" x2="{WIDTH}" y1="{zero}" y2="{zero}" stroke="#999"/>"##,
        title = escape(title),
        zero = y_of(0.0),
    );
    for (index, (point, value)) in series.points.iter().zip(&values).enumerate() {
        let x = index as f64 * slot;
        let label = escape(&point.period);
        let _ = write!(
            svg,
            r##"<text x="{cx}" y="{ly}" text-anchor="middle" fill="#333">{label}</text>"##,
            cx = x + slot / 2.0,
            ly = HEIGHT - 12.0,
        );
        if let (Some(value), Some(exact)) = (value, point.value) {
            let (top, bottom) = (y_of(value.max(0.0)), y_of(value.min(0.0)));
            let _ = write!(
                svg,
                r##"<rect x="{bx}" y="{top}" width="{bw}" height="{bh}" fill="#7a1010"><title>{label}: {text}</title></rect><text x="{cx}" y="{ty}" text-anchor="middle">{text}</text>"##,
                bx = x + slot * 0.15,
                bw = slot * 0.7,
                bh = (bottom - top).max(0.5),
                cx = x + slot / 2.0,
                ty = top - 4.0,
                text = escape(&vi(exact)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The chart as an image any page may embed.
pub async fn chart(
    _: Reading,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, WebError> {
    let (committee, indicator) = path.into_inner();
    let indicator = indicator
        .strip_suffix(".svg")
        .unwrap_or(&indicator)
        .to_owned();
    let period = query.period()?;
    let as_of = query.as_of()?;
    let svg = with_conn(&pool, move |conn| {
        let series = series_for(conn, &committee, &indicator, period, as_of)?;
        let title = format!(
            "{} · {} ({})",
            series.committee.clone().unwrap_or_default(),
            series.indicator,
            unit_words(series.unit, series.scale)
        );
        Ok(draw_chart(&title, &series))
    })
    .await?;
    Ok(svg_response(svg))
}

use crate::db::Pool;
