//! The dashboard (committee × period: a tile per indicator) and the chart of
//! an indicator over the last periods, drawn by the server as SVG and served
//! at an embeddable image URL.
//!
//! The numbers come from `routes::analysis::build_dashboard` and
//! `analysis::series::build_series`, the functions behind
//! `/api/v1/committees/{code}/dashboard` and `/api/v1/series`.

use std::fmt::Write;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use maud::html;
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

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
}

fn period_of(query: &PeriodQuery) -> Result<PeriodCode, ApiError> {
    let raw = query
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::bad_request("chọn kỳ báo cáo: ?period=2024-Q3"))?;
    PeriodCode::parse(raw).map_err(|e| ApiError::bad_request(format!("kỳ không hợp lệ: {e}")))
}

fn vi(value: Decimal) -> String {
    format_number(value.normalize(), Locale::Vietnamese)
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
    let period = period_of(&query)?;
    let wanted = code.clone();
    let (board, committee_name) = with_conn(&pool, move |conn| {
        let board = build_dashboard(conn, &wanted, period, false)?;
        let name = crate::db::committees::find_by_code(conn, &board.committee)?
            .map_or_else(|| board.committee.clone(), |c| c.name_vi);
        Ok((board, name))
    })
    .await?;
    let markup = page(
        "Bảng điều khiển",
        Some(&person),
        html! {
            h1 { "Bảng điều khiển: " (committee_name) }
            form method="get" action=(format!("/dashboard/{code}")) {
                label for="period" { "Kỳ báo cáo" } " "
                input #period name="period" value=(board.period) size="16";
                " " button type="submit" { "Xem" }
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
                            src=(format!("/chart/{}/{}.svg?period={}", code, item.indicator, board.period))
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
            as_of: None,
        },
    )
}

/// Escapes text for SVG.
fn escape(text: &str) -> String {
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
    let period = period_of(&query)?;
    let svg = with_conn(&pool, move |conn| {
        let series = series_for(conn, &committee, &indicator, period)?;
        let title = format!(
            "{} · {} ({})",
            series.committee.clone().unwrap_or_default(),
            series.indicator,
            unit_words(series.unit, series.scale)
        );
        Ok(draw_chart(&title, &series))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Embedded anywhere, it still runs no script and loads nothing.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(svg))
}

use crate::db::Pool;
