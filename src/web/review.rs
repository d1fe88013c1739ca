//! Extraction review: paste a report, see every figure proposed beside the
//! text with its words highlighted, edit, accept. Proposing is
//! `routes::extractions::extract_from` (what `POST /api/v1/extractions`
//! answers); accepting is an ordinary batch write (`ingest::validate_batch`,
//! `db::observations::write_many`), so every rule and lock applies.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};

use super::entry::status_label;
use super::session::Person;
use super::{page, WebError};
use crate::db::observations::{Author, WriteError, WriteMode};
use crate::db::{self, Pool};
use crate::domain::indicator::Unit;
use crate::domain::locale::{format_number, parse_number, unit_words, Locale};
use crate::domain::value::{ExactDecimal, ObservationStatus, Qualifier};
use crate::error::ApiError;
use crate::extract::{Candidate, MAX_TEXT_CHARS};
use crate::ingest::{self, ObservationInput, ReferenceData};
use crate::routes::extractions::extract_from;
use crate::routes::with_conn;

/// Most candidates accepted in one form.
const MAX_ROWS: usize = 500;

fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

fn vi(value: rust_decimal::Decimal) -> String {
    format_number(value, Locale::Vietnamese)
}

/// The committees the person may write for, for the committee choice.
fn writable_committees(
    conn: &mut db::AnyConnection,
    person: &Person,
) -> Result<Vec<(String, String)>, ApiError> {
    Ok(db::committees::list(conn)?
        .into_iter()
        .filter(|c| person.caller.may_write_for(c.id))
        .map(|c| (c.code, c.name_vi))
        .collect())
}

fn paste_form(
    person: &Person,
    committees: &[(String, String)],
    text: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        h1 { "Trích số liệu từ bài báo cáo" }
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form method="post" action="/review" {
            input type="hidden" name="csrf" value=(person.csrf_token);
            p {
                label for="committee" { "Đảng bộ" } br;
                select #committee name="committee" required {
                    @for (code, name) in committees { option value=(code) { (name) } }
                }
            }
            p {
                label for="published_on" { "Ngày đăng (để suy ra năm khi bài không ghi)" } br;
                input #published_on type="date" name="published_on";
            }
            p {
                label for="title" { "Tiêu đề hoặc địa chỉ bài" } br;
                input #title name="title" size="80";
            }
            p {
                label for="text" { "Nội dung bài" } br;
                textarea #text name="text" rows="14" cols="100" required { (text) }
            }
            p { button.primary type="submit" { "Trích số liệu" } }
        }
    }
}

/// The pasted text with each candidate's words marked, numbered as in the table.
fn highlighted(text: &str, candidates: &[Candidate]) -> Markup {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<(usize, usize, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.span.start.min(chars.len()),
                c.span.end.min(chars.len()),
                i + 1,
            )
        })
        .collect();
    spans.sort();
    // (text before a mark, the mark's number and words); overlapping spans
    // are shown once, as the first.
    let mut pieces: Vec<(String, usize, String)> = Vec::new();
    let mut at = 0;
    for (start, end, number) in spans {
        if start >= at {
            pieces.push((
                chars[at..start].iter().collect(),
                number,
                chars[start..end].iter().collect(),
            ));
            at = end;
        }
    }
    let rest: String = chars[at.min(chars.len())..].iter().collect();
    html! {
        div.report {
            @for (before, number, words) in &pieces {
                (before)
                mark id=(format!("quote-{number}")) { (words) sup { (number) } }
            }
            (rest)
        }
    }
}

fn candidate_rows(candidates: &[Candidate], errors: &HashMap<usize, Vec<String>>) -> Markup {
    html! {
        table {
            thead { tr {
                th { "Nhận" } th { "Chỉ tiêu" } th { "Kỳ" } th { "Giá trị" } th { "Đơn vị" } th { "Tình trạng" } th { "Ghi chú" }
            } }
            tbody {
                @for (i, c) in candidates.iter().enumerate() {
                    @let n = i + 1;
                    @let f = |name: &str| format!("{name}.{i}");
                    tr {
                        td {
                            label.sr-only for=(f("accept")) { "Nhận số liệu " (n) }
                            input type="checkbox" id=(f("accept")) name=(f("accept")) value="1" checked[c.indicator.is_some() && c.period.is_some()];
                            " " a href=(format!("#quote-{n}")) { (n) }
                        }
                        td {
                            label.sr-only for=(f("indicator")) { "Mã chỉ tiêu của số liệu " (n) }
                            input id=(f("indicator")) name=(f("indicator")) value=(c.indicator.clone().unwrap_or_default()) size="18";
                            br; span.muted { (c.label_vi) }
                        }
                        td {
                            label.sr-only for=(f("period")) { "Kỳ của số liệu " (n) }
                            input id=(f("period")) name=(f("period")) value=(c.period.clone().unwrap_or_default()) size="10";
                        }
                        td.num {
                            label.sr-only for=(f("value")) { "Giá trị của số liệu " (n) }
                            input id=(f("value")) name=(f("value")) value=(vi(c.value)) size="12" inputmode="decimal";
                            @for e in errors.get(&i).into_iter().flatten() { span.field-error role="alert" { (e) } }
                        }
                        td {
                            (c.unit_vi.clone().unwrap_or_else(|| unit_words(c.unit, c.scale)))
                            input type="hidden" name=(f("unit")) value=(c.unit.as_str());
                            input type="hidden" name=(f("scale")) value=(c.scale);
                        }
                        td {
                            label.sr-only for=(f("status")) { "Tình trạng của số liệu " (n) }
                            select id=(f("status")) name=(f("status")) {
                                @for s in ObservationStatus::ALL { option value=(s.as_str()) selected[*s == c.status] { (status_label(*s)) } }
                            }
                            input type="hidden" name=(f("qualifier")) value=(c.qualifier.as_str());
                            @if let Some(p) = c.reported_yoy_pct { input type="hidden" name=(f("yoy")) value=(p); }
                            @if let Some(q) = c.reported_yoy_qualifier { input type="hidden" name=(f("yoy_qualifier")) value=(q.as_str()); }
                            @if let Some(p) = c.reported_share_pct { input type="hidden" name=(f("share")) value=(p); }
                            @if let Some(q) = c.reported_share_qualifier { input type="hidden" name=(f("share_qualifier")) value=(q.as_str()); }
                            input type="hidden" name=(f("quote")) value=(c.quote);
                        }
                        td {
                            @if let Some(p) = c.reported_yoy_pct { "So cùng kỳ " (vi(p)) "%. " }
                            @for w in &c.warnings { span.warning-text { (w.message) } br; }
                            q.muted { (c.quote) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn form(person: Person, pool: web::Data<Pool>) -> Result<HttpResponse, WebError> {
    let reader = person.clone();
    let committees = with_conn(&pool, move |conn| writable_committees(conn, &reader)).await?;
    let markup = page(
        "Trích số liệu",
        Some(&person),
        paste_form(&person, &committees, "", None),
    );
    Ok(respond(StatusCode::OK, markup))
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Proposes the figures of a pasted report.
pub async fn propose(
    person: Person,
    pool: web::Data<Pool>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let fields: HashMap<String, String> = form.into_inner().into_iter().collect();
    person.require_csrf(fields.get("csrf").map(String::as_str))?;
    let text = fields.get("text").cloned().unwrap_or_default();
    if text.chars().nth(MAX_TEXT_CHARS).is_some() {
        return Err(ApiError::PayloadTooLarge(format!(
            "bài dài hơn {MAX_TEXT_CHARS} ký tự: hãy dán từng bài một"
        ))
        .into());
    }
    let published_on = match field(&fields, "published_on") {
        None => None,
        Some(raw) => Some(
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_request(format!("ngày đăng {raw:?} không hợp lệ")))?,
        ),
    };
    let committee = field(&fields, "committee").unwrap_or_default().to_owned();
    let title = field(&fields, "title").unwrap_or_default().to_owned();
    let reader = person.clone();
    let (committees, committee_name, extraction) = with_conn(&pool, {
        let text = text.clone();
        let committee = committee.clone();
        move |conn| {
            let committees = writable_committees(conn, &reader)?;
            let name = committees
                .iter()
                .find(|(code, _)| *code == committee)
                .map(|(_, name)| name.clone())
                .ok_or_else(|| {
                    ApiError::Forbidden(format!("không được nhập số liệu cho {committee:?}"))
                })?;
            let extraction = extract_from(conn, &text, published_on, Some(&committee))?;
            Ok((committees, name, extraction))
        }
    })
    .await?;
    if text.trim().is_empty() {
        let markup = page(
            "Trích số liệu",
            Some(&person),
            paste_form(&person, &committees, "", Some("Hãy dán nội dung bài.")),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, markup));
    }
    let candidates = &extraction.candidates[..extraction.candidates.len().min(MAX_ROWS)];
    let markup = page(
        "Duyệt số liệu trích",
        Some(&person),
        html! {
            h1 { "Duyệt số liệu trích: " (committee_name) }
            p { (candidates.len()) " số liệu đề xuất; " (extraction.ignored.len()) " con số bỏ qua (ngày, số hiệu văn bản…)." }
            div.review {
                section { h2 { "Bài báo cáo" } (highlighted(&text, candidates)) }
                section {
                    h2 { "Số liệu đề xuất" }
                    form method="post" action="/review/accept" {
                        input type="hidden" name="csrf" value=(person.csrf_token);
                        input type="hidden" name="committee" value=(committee);
                        input type="hidden" name="title" value=(title);
                        input type="hidden" name="rows" value=(candidates.len());
                        (candidate_rows(candidates, &HashMap::new()))
                        p { button.primary type="submit" { "Ghi các số liệu đã chọn" } }
                    }
                }
            }
        },
    );
    Ok(respond(StatusCode::OK, markup))
}

/// Writes the accepted candidates as one batch: all or none.
pub async fn accept(
    person: Person,
    pool: web::Data<Pool>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let fields: HashMap<String, String> = form.into_inner().into_iter().collect();
    person.require_csrf(fields.get("csrf").map(String::as_str))?;
    let committee = field(&fields, "committee").unwrap_or_default().to_owned();
    let rows: usize = field(&fields, "rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
        .min(MAX_ROWS);
    let title = field(&fields, "title").map(str::to_owned);
    let mut inputs = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for i in 0..rows {
        let get = |name: &str| field(&fields, &format!("{name}.{i}"));
        if get("accept").is_none() {
            continue;
        }
        let number = i + 1;
        let parse_pct = |name: &str| get(name).and_then(|p| p.parse().ok()).map(ExactDecimal);
        let parse_q = |name: &str| get(name).and_then(|q| q.parse::<Qualifier>().ok());
        let value = match get("value").map(|v| parse_number(v, Locale::Vietnamese)) {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                problems.push(format!("Số liệu {number}: {e}"));
                continue;
            }
            None => {
                problems.push(format!("Số liệu {number}: thiếu giá trị"));
                continue;
            }
        };
        inputs.push((
            number,
            ObservationInput {
                committee: committee.clone(),
                indicator: get("indicator").unwrap_or_default().to_owned(),
                period: get("period").unwrap_or_default().to_owned(),
                breakdown: None,
                value: ExactDecimal(value),
                unit: get("unit").and_then(|u| u.parse::<Unit>().ok()),
                scale: get("scale").and_then(|s| s.parse().ok()),
                status: get("status").and_then(|s| s.parse().ok()),
                qualifier: parse_q("qualifier"),
                reported_yoy_pct: parse_pct("yoy"),
                reported_yoy_qualifier: parse_q("yoy_qualifier"),
                reported_share_pct: parse_pct("share"),
                reported_share_qualifier: parse_q("share_qualifier"),
                source: None,
                source_quote: get("quote").map(str::to_owned),
                reason: Some(match &title {
                    Some(title) => format!(
                        "trích từ bài: {}",
                        title.chars().take(200).collect::<String>()
                    ),
                    None => "trích từ bài báo cáo".to_owned(),
                }),
            },
        ));
    }
    let writer = person.clone();
    let outcome = with_conn(&pool, move |conn| {
        let refs = ReferenceData::load(conn)?;
        let committee_id = refs
            .committee_id(&committee)
            .ok_or_else(|| ApiError::not_found(format!("không có đảng bộ {committee:?}")))?;
        writer.caller.require_committees([committee_id], |_| committee.clone())?;
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let numbers: Vec<usize> = inputs.iter().map(|(n, _)| *n).collect();
        let items: Vec<ObservationInput> = inputs.into_iter().map(|(_, input)| input).collect();
        let new = match ingest::validate_batch(&items, &refs) {
            Ok(new) => new,
            Err(errors) => {
                return Ok(Err(errors
                    .into_iter()
                    .map(|e| {
                        let number = e.index.map(|i| numbers[i]).unwrap_or_default();
                        format!("Số liệu {number} ({}): {}", e.field, e.message)
                    })
                    .collect()))
            }
        };
        let author = Author {
            changed_by: &writer.caller.name,
            token_id: writer.caller.token_id,
            reason: items.first().and_then(|i| i.reason.as_deref()),
        };
        // CreateOnly: a figure that exists already is shown, never overwritten.
        match db::observations::write_many(conn, &new, WriteMode::CreateOnly, author) {
            Ok(written) => Ok(Ok(written.len())),
            Err(WriteError::AlreadyExists(existing)) => Ok(Err(existing
                .into_iter()
                .map(|(index, id)| {
                    format!(
                        "Số liệu {} đã có trong cơ sở dữ liệu (mã {id}): sửa ở biểu nhập, không ghi đè ở đây",
                        numbers[index]
                    )
                })
                .collect())),
            Err(WriteError::Locked(locked)) => Ok(Err(locked
                .into_iter()
                .map(|(index, lock)| {
                    format!("Số liệu {}: kỳ {} đã khóa bởi {}", numbers[index], lock.period_code.code(), lock.locked_by)
                })
                .collect())),
            Err(WriteError::Database(e)) => Err(e.into()),
            Err(other) => Err(ApiError::Internal(anyhow::anyhow!("{other}"))),
        }
    })
    .await?;
    let (status, markup) = match outcome {
        Ok(written) => (
            StatusCode::OK,
            html! {
                h1 { "Đã ghi" }
                p.notice role="status" { "Đã ghi " (written) " số liệu, kèm câu trích nguồn." }
                p { a href="/review" { "Trích bài khác" } " · " a href="/" { "Về trang chủ" } }
            },
        ),
        Err(problems) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                h1 { "Chưa ghi gì" }
                p.warning role="alert" { "Các số liệu được ghi cùng nhau: sửa các lỗi sau rồi thử lại (nút Quay lại của trình duyệt giữ nguyên bảng)." }
                ul { @for problem in &problems { li.error { (problem) } } }
            },
        ),
    };
    Ok(respond(
        status,
        page("Ghi số liệu trích", Some(&person), markup),
    ))
}
