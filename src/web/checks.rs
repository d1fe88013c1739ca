//! The checks page: every place where a reported figure and a computed one
//! disagree, with the figures involved and their source quotes. The checks
//! are `analysis::checks::run_checks`, the function behind `/api/v1/checks`.

use actix_web::{web, HttpResponse};
use maud::html;
use serde::Deserialize;

use super::session::Person;
use super::{page, respond, WebError};
use crate::analysis::catalog::Catalog;
use crate::analysis::checks::{check_page, default_page_committees, CheckCursor};
use crate::db::{self, Pool};
use crate::domain::comparison::Verdict;
use crate::domain::locale::{format_number, Locale};
use crate::domain::period::PeriodCode;
use crate::error::ApiError;
use crate::routes::{with_heavy_conn, HeavyLane};

/// Disagreements shown on one page, each with its figures' quotes.
const MAX_SHOWN: usize = 200;

#[derive(Debug, Deserialize)]
pub struct ChecksQuery {
    period: Option<String>,
    committee: Option<String>,
    cursor: Option<String>,
}

/// A figure a check used, with its quote.
struct Involved {
    id: i64,
    period: String,
    quote: Option<String>,
}

pub async fn checks(
    person: Person,
    pool: web::Data<Pool>,
    lane: web::Data<HeavyLane>,
    query: web::Query<ChecksQuery>,
) -> Result<HttpResponse, WebError> {
    let query = query.into_inner();
    let period_text = query.period.clone().unwrap_or_default();
    let committee_text = query.committee.clone().unwrap_or_default();
    let period = match query
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(raw) => Some(
            PeriodCode::parse(raw)
                .map_err(|e| ApiError::bad_request(format!("kỳ không hợp lệ: {e}")))?,
        ),
    };
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(CheckCursor::parse)
        .transpose()?;
    let (rows, total, consistent, checked, next) = with_heavy_conn(&pool, &lane, move |conn| {
        let mut catalog = Catalog::load(conn)?;
        let named = match query.committee.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                Some(catalog.committees_named(conn, "committee", raw)?)
            }
            _ => None,
        };
        let page = check_page(
            conn,
            &mut catalog,
            named,
            period.as_ref(),
            false,
            default_page_committees(period.as_ref()),
            cursor.as_ref(),
        )?;
        let all = page.checks;
        let consistent = all
            .iter()
            .filter(|c| c.verdict == Verdict::Consistent)
            .count();
        let disagreeing: Vec<_> = all
            .into_iter()
            .filter(|c| c.verdict == Verdict::Inconsistent)
            .collect();
        let total = disagreeing.len();
        let mut rows = Vec::new();
        for check in disagreeing.into_iter().take(MAX_SHOWN) {
            let mut involved = Vec::new();
            for id in &check.observation_ids {
                if let Some(record) = db::observations::find(conn, *id)? {
                    involved.push(Involved {
                        id: *id,
                        period: record.row.period_code.code(),
                        quote: record.row.source_quote,
                    });
                }
            }
            rows.push((check, involved));
        }
        Ok((rows, total, consistent, page.committees, page.next))
    })
    .await?;
    let vi = |v| format_number(v, Locale::Vietnamese);
    let markup = page(
        "Kiểm tra số liệu",
        Some(&person),
        html! {
            h1 { "Kiểm tra: số báo cáo và số tính lại không khớp" }
            form method="get" action="/checks" {
                label for="period" { "Kỳ báo cáo" } " "
                input #period name="period" value=(period_text) size="14";
                " "
                label for="committee" { "Mã đảng bộ" } " "
                input #committee name="committee" value=(committee_text) size="28";
                " " button type="submit" { "Kiểm tra" }
            }
            p role="status" {
                @if let (Some(first), Some(last)) = (checked.first(), checked.last()) {
                    "Đảng bộ " (first) " đến " (last) ": "
                }
                strong { (total) } " chỗ không khớp; " (consistent) " chỗ khớp."
                @if total > MAX_SHOWN { " Hiện " (MAX_SHOWN) " chỗ đầu: hãy chọn kỳ hoặc đảng bộ." }
            }
            @if !rows.is_empty() {
                table {
                    thead { tr {
                        th { "Đảng bộ" } th { "Chỉ tiêu" } th { "Kỳ" } th.num { "Báo cáo" } th.num { "Tính lại" } th { "Giải thích" } th { "Số liệu dùng và trích nguồn" }
                    } }
                    tbody {
                        @for (check, involved) in &rows {
                            tr.check {
                                td { (check.committee) }
                                td { (check.indicator) }
                                td { (check.period) }
                                td.num { (vi(check.reported)) }
                                td.num { (vi(check.computed)) }
                                td { (check.message) }
                                td {
                                    ul {
                                        @for figure in involved {
                                            li {
                                                a href=(format!("/figures/{}/history", figure.id)) { (figure.period) }
                                                @if let Some(quote) = &figure.quote { ": " q { (quote) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &next {
                p {
                    a rel="next" href=(next_href(&period_text, &committee_text, next)) {
                        "Các đảng bộ tiếp theo →"
                    }
                }
            }
        },
    );
    Ok(respond(markup))
}

/// The link to the next page of committees, keeping the form's fields.
fn next_href(period: &str, committee: &str, next: &CheckCursor) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !period.is_empty() {
        query.append_pair("period", period);
    }
    if !committee.is_empty() {
        query.append_pair("committee", committee);
    }
    query.append_pair("cursor", &next.encode());
    format!("/checks?{}", query.finish())
}
