//! Import through a preview: choose a file → the dry run's summary (what would
//! be created, updated or left unchanged, and every rejected row with why) →
//! confirm. Both steps are `import::import`, the function behind
//! `POST /api/v1/imports` (dry run, then atomic), so every rule applies.
//!
//! The file goes up as the request body (a little script sends it), which
//! needs no multipart parser; the page says so when scripts are off.

use std::io::Cursor;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::session::Person;
use super::{page, respond, WebError};
use crate::db::Pool;
use crate::domain::locale::Locale;
use crate::error::ApiError;
use crate::import::{import, ImportOptions, ImportSummary};
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

fn summary_table(summary: &ImportSummary) -> Markup {
    html! {
        table {
            tbody {
                tr { th scope="row" { "Số dòng" } td.num { (summary.rows) } }
                tr { th scope="row" { "Tạo mới" } td.num { (summary.created) } }
                tr { th scope="row" { "Cập nhật" } td.num { (summary.updated) } }
                tr { th scope="row" { "Không đổi" } td.num { (summary.unchanged) } }
                tr { th scope="row" { "Bị từ chối" } td.num { (summary.rejected) } }
            }
        }
        @if !summary.errors.is_empty() {
            h3 { "Các dòng bị từ chối" }
            table {
                thead { tr { th.num { "Dòng" } th { "Cột" } th { "Lỗi" } } }
                tbody {
                    @for error in &summary.errors {
                        tr { td.num { (error.row) } td { (error.column.clone().unwrap_or_default()) } td { (error.message) } }
                    }
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
            (summary_table(&summary))
            @if rejected {
                p.warning role="alert" { "Có dòng bị từ chối: sửa tệp rồi xem trước lại. Tệp chỉ được ghi khi mọi dòng đều đúng." }
            } @else {
                p { button #confirm .primary type="button" { "Ghi " (summary.created + summary.updated) " số liệu" } }
            }
        } @else if summary.committed {
            p.notice role="status" { "Đã ghi: " (summary.created) " tạo mới, " (summary.updated) " cập nhật." }
            (summary_table(&summary))
        } @else {
            p.warning role="alert" { "Chưa ghi gì." }
            (summary_table(&summary))
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
