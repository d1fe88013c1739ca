//! Import through a preview: choose a file → the dry run's summary (what would
//! be created, updated or left unchanged, and a table of the rows that change
//! something or are rejected, with why and with warnings) → confirm. Both steps are `import::import`, the function behind
//! `POST /api/v1/imports` (dry run, then atomic), so every rule applies.
//!
//! The file goes up as the request body (a little script sends it), which
//! needs no multipart parser; the page says so when scripts are off.

use std::io::Cursor;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::entry::{qualifier_label, status_label};
use super::session::Person;
use super::{page, respond, WebError};
use crate::db::Pool;
use crate::domain::locale::Locale;
use crate::domain::locale::{format_number, unit_words};
use crate::error::ApiError;
use crate::import::{import, ImportOptions, ImportSummary, ListedRow, RowAction, RowListing};
use crate::routes::{with_heavy_conn, HeavyLane};
use crate::tabular::Format;

/// The header that carries the session's CSRF token with the file.
const CSRF_HEADER: &str = "x-csrf-token";

const SCRIPT: &str = r#"
const form = document.getElementById('import-form');
async function send(path) {
  const file = document.getElementById('file').files[0];
  if (!file) return;
  const format = file.name.split('.').pop().toLowerCase();
  const locale = document.getElementById('locale').value;
  const out = document.getElementById('preview');
  out.innerHTML = '<p role="status">Đang đọc tệp… <progress></progress></p>';
  const response = await fetch(path + '?format=' + encodeURIComponent(format) + '&locale=' + locale,
    { method: 'POST', body: file, headers: { 'X-CSRF-Token': form.dataset.csrf } });
  out.innerHTML = await response.text();
  const confirm = document.getElementById('confirm');
  if (confirm) confirm.addEventListener('click', () => send('/import/confirm'));
}
form.addEventListener('submit', (event) => { event.preventDefault(); send('/import/preview'); });
"#;

pub async fn form(person: Person) -> Result<HttpResponse, WebError> {
    let markup = page(
        "Nhập từ tệp",
        Some(&person),
        html! {
            h1 { "Nhập số liệu từ tệp" }
            p { "Tệp CSV, XLSX hoặc JSON với các cột committee, indicator, period, value (và unit, scale, status, qualifier nếu có). Xem trước rồi mới ghi." }
            form #import-form data-csrf=(person.csrf_token) {
                p {
                    label for="file" { "Tệp" } br;
                    input #file type="file" name="file" accept=".csv,.xlsx,.json" required;
                }
                p {
                    label for="locale" { "Cách viết số trong tệp" } br;
                    select #locale name="locale" {
                        option value="vi" { "Kiểu Việt Nam (27.701,5; tỷ đồng)" }
                        option value="standard" { "Chuẩn (27701.5)" }
                    }
                }
                p { button.primary type="submit" { "Xem trước" } }
            }
            noscript { p.warning { "Trang này cần JavaScript để gửi tệp; hoặc dùng lệnh chitieu import." } }
            div #preview aria-live="polite" {}
            script { (PreEscaped(SCRIPT)) }
        },
    );
    Ok(respond(markup))
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    format: Option<String>,
    locale: Option<String>,
}

fn summary_table(summary: &ImportSummary, dry_run: bool) -> Markup {
    html! {
        table {
            tbody {
                tr { th scope="row" { "Số dòng" } td.num { (summary.rows) } }
                tr { th scope="row" { "Tạo mới" } td.num { (summary.created) } }
                tr { th scope="row" { "Cập nhật" } td.num { (summary.updated) } }
                tr { th scope="row" { "Không đổi" } td.num { (summary.unchanged) } }
                tr { th scope="row" { "Bị từ chối" } td.num { (summary.rejected) } }
                tr { th scope="row" { "Cảnh báo" } td.num { (summary.warned) } }
            }
        }
        (rows_table(summary, dry_run))
    }
}

fn vi(value: rust_decimal::Decimal) -> String {
    format_number(value, Locale::Vietnamese)
}

/// What a row does, in words.
fn action_words(row: &ListedRow) -> String {
    match row.action {
        RowAction::Create => "tạo mới".into(),
        RowAction::Update => match row.old_value {
            Some(old) => format!("cập nhật (cũ: {})", vi(old)),
            None => "cập nhật".into(),
        },
        RowAction::Unchanged => "không đổi".into(),
        RowAction::Delete => "xoá".into(),
        RowAction::Rejected => "bị từ chối".into(),
    }
}

/// The rows that change something or are refused (the import's own row
/// listing, `rows=changes`), with each row's errors and warnings beside it.
fn rows_table(summary: &ImportSummary, dry_run: bool) -> Markup {
    let matching = summary.rows as i64 - summary.unchanged;
    let caption = if dry_run {
        "Các dòng sẽ được ghi hoặc bị từ chối"
    } else {
        "Các dòng đã ghi hoặc bị từ chối"
    };
    html! {
        @if summary.listed_rows.is_empty() {
            p { "Không có dòng nào thay đổi số liệu đã lưu." }
        } @else {
            table.import-rows {
                caption { (caption) }
                thead {
                    tr {
                        th.num scope="col" { "Dòng" }
                        th scope="col" { "Đơn vị" }
                        th scope="col" { "Chỉ tiêu" }
                        th scope="col" { "Kỳ" }
                        th.num scope="col" { "Giá trị" }
                        th scope="col" { "Đơn vị tính" }
                        th scope="col" { "Tình trạng" }
                        th scope="col" { "Mức chính xác" }
                        th scope="col" { "Thao tác" }
                        th scope="col" { "Lỗi, cảnh báo" }
                    }
                }
                tbody {
                    @for row in &summary.listed_rows {
                        tr data-action=(row.action.as_str()) {
                            th.num scope="row" { (row.row) }
                            td { (row.committee.as_deref().unwrap_or("")) }
                            td {
                                (row.indicator.as_deref().unwrap_or(""))
                                @if let Some(breakdown) = row.breakdown.as_deref().filter(|b| !b.is_empty()) {
                                    " (" (breakdown) ")"
                                }
                            }
                            td { (row.period.as_deref().unwrap_or("")) }
                            td.num { (row.value.map(vi).unwrap_or_default()) }
                            td {
                                @if let (Some(unit), Some(scale)) = (row.unit, row.scale) { (unit_words(unit, scale)) }
                            }
                            td { (row.status.map(status_label).unwrap_or("")) }
                            td { (row.qualifier.map(qualifier_label).unwrap_or("")) }
                            td { (action_words(row)) }
                            td {
                                @for error in &row.errors {
                                    p.warning-text {
                                        @if let Some(column) = &error.column { (column) ": " }
                                        (error.message)
                                    }
                                }
                                @for warning in &row.warnings {
                                    p.warning-text {
                                        "Gấp " (vi(warning.warning.ratio)) " lần số liệu trước ("
                                        (warning.warning.previous.period) ": " (vi(warning.warning.previous.value))
                                        "): nhầm dấu thập phân hay đơn vị?"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if summary.rows_truncated {
                p.warning role="note" {
                    "Chỉ hiện " (summary.listed_rows.len()) " dòng đầu trong " (matching)
                    " dòng thay đổi hoặc bị từ chối."
                }
            }
        }
    }
}

async fn run(
    person: Person,
    request: HttpRequest,
    pool: web::Data<Pool>,
    lane: web::Data<HeavyLane>,
    query: ImportQuery,
    body: web::Bytes,
    dry_run: bool,
) -> Result<HttpResponse, WebError> {
    let sent = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    person.require_csrf(sent)?;
    let format = query
        .format
        .as_deref()
        .and_then(Format::from_name)
        .ok_or_else(|| ApiError::bad_request("tệp phải là .csv, .xlsx hoặc .json"))?;
    let locale = match query.locale.as_deref() {
        None => Locale::Vietnamese,
        Some(raw) => raw
            .parse()
            .map_err(|e| ApiError::bad_request(format!("locale: {e}")))?,
    };
    // The API's plausibility rule, as warnings: the preview shows them.
    let factor = request
        .app_data::<web::Data<crate::config::Config>>()
        .map(|config| config.plausibility_factor)
        .unwrap_or_default();
    let options = ImportOptions {
        format,
        strategy: Default::default(),
        dry_run,
        atomic: true,
        locale,
        plausibility: crate::db::imports::Plausibility {
            factor,
            strict: false,
        },
        rows: RowListing::Changes,
    };
    let caller = person.caller.clone();
    let summary = with_heavy_conn(&pool, &lane, move |conn| {
        Ok(import(
            conn,
            Cursor::new(body),
            options,
            &caller,
            Some("nhập từ tệp qua ứng dụng web"),
            |_| {},
        )?)
    })
    .await?;
    let rejected = summary.rejected > 0;
    let fragment = html! {
        @if dry_run {
            h2 { "Xem trước (chưa ghi gì)" }
            (summary_table(&summary, dry_run))
            @if rejected {
                p.warning role="alert" { "Có dòng bị từ chối: sửa tệp rồi xem trước lại. Tệp chỉ được ghi khi mọi dòng đều đúng." }
            } @else {
                p { button #confirm .primary type="button" { "Ghi " (summary.created + summary.updated) " số liệu" } }
            }
        } @else if summary.committed {
            p.notice role="status" { "Đã ghi: " (summary.created) " tạo mới, " (summary.updated) " cập nhật." }
            (summary_table(&summary, dry_run))
        } @else {
            p.warning role="alert" { "Chưa ghi gì." }
            (summary_table(&summary, dry_run))
        }
    };
    let status = if rejected {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(fragment.into_string()))
}

pub async fn preview(
    person: Person,
    request: HttpRequest,
    pool: web::Data<Pool>,
    lane: web::Data<HeavyLane>,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    run(person, request, pool, lane, query.into_inner(), body, true).await
}

pub async fn confirm(
    person: Person,
    request: HttpRequest,
    pool: web::Data<Pool>,
    lane: web::Data<HeavyLane>,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    run(person, request, pool, lane, query.into_inner(), body, false).await
}
