//! The history of a figure: every revision, who made it, when, why, old → new.

use actix_web::{web, HttpResponse};
use maud::html;

use super::session::Person;
use super::{page, respond, WebError};
use crate::db::{self, Pool};
use crate::domain::locale::{format_number, unit_words, Locale};
use crate::domain::value::ObservationStatus;
use crate::error::ApiError;
use crate::routes::with_conn;

fn action_label(action: &str) -> &str {
    match action {
        "create" => "Nhập mới",
        "update" => "Sửa",
        "delete" => "Xóa",
        "restore" => "Nhập lại",
        other => other,
    }
}

pub async fn history(
    person: Person,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let (record, revisions) = with_conn(&pool, move |conn| {
        let record = db::observations::find(conn, id)?
            .ok_or_else(|| ApiError::not_found(format!("không có số liệu mã {id}")))?;
        let mut revisions = db::observations::revisions(conn, id)?;
        revisions.reverse();
        Ok((record, revisions))
    })
    .await?;
    let unit = unit_words(record.unit, record.scale);
    let vi = |v: rust_decimal::Decimal| format_number(v, Locale::Vietnamese);
    let markup = page(
        "Lịch sử số liệu",
        Some(&person),
        html! {
            h1 { "Lịch sử số liệu" }
            p {
                (record.committee) " · " (record.indicator) " · " (record.row.period_code.vietnamese_label())
                " (" (unit) ")"
            }
            table {
                thead { tr {
                    th.num { "Lần" } th { "Lúc (UTC)" } th { "Người sửa" } th { "Việc" } th.num { "Cũ" } th.num { "Mới" } th { "Tình trạng" } th { "Lý do" } th { "Trích nguồn" }
                } }
                tbody {
                    @for (revision, source) in &revisions {
                        tr {
                            td.num { (revision.revision) }
                            td { (revision.changed_at.format("%d/%m/%Y %H:%M:%S")) }
                            td { (revision.changed_by) }
                            td { (action_label(&revision.action)) }
                            td.num { @if let Some(old) = revision.previous_value { (vi(old.into())) } }
                            td.num { (vi(revision.value)) }
                            td { (revision.status.parse::<ObservationStatus>().map(super::entry::status_label).unwrap_or(&revision.status)) }
                            td { (revision.reason.clone().unwrap_or_default()) }
                            td {
                                @if let Some(source) = source { (source) ": " }
                                (revision.source_quote.clone().unwrap_or_default())
                            }
                        }
                    }
                }
            }
            p { a href=(format!("/entry/{}/{}", record.committee, record.row.period_code.code())) { "Về biểu nhập" } }
        },
    );
    Ok(respond(markup))
}
