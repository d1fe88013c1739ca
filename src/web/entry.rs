//! The entry form: one committee × one period, every indicator in a row.
//!
//! Saving writes every changed figure with the revision it was read at
//! (If-Match): a figure someone else changed meanwhile is not overwritten but
//! shown with both values. Values pass through the same validation as the
//! API's (`ingest::validate_observation`) and the same writes
//! (`db::observations`), so locks and every rule apply.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use maud::{html, Markup};

use super::session::Person;
use super::{page, WebError};
use crate::db::indicators::IndicatorRow;
use crate::db::locks::LockRow;
use crate::db::observations::{
    Author, ObservationFilter, ObservationRecord, WriteError, WriteMode,
};
use crate::db::{self, AnyConnection, Pool};
use crate::domain::breakdown::Breakdown;
use crate::domain::locale::{format_number, parse_number, unit_words, Locale};
use crate::domain::period::PeriodCode;
use crate::domain::value::{ExactDecimal, ObservationStatus, Qualifier};
use crate::error::ApiError;
use crate::ingest::{self, ObservationInput, ReferenceData};
use crate::routes::with_conn;

/// Most figures one committee may have in one period (every indicator and
/// breakdown): bounds the page's query.
const MAX_FIGURES_PER_SHEET: i64 = 10_000;

/// One indicator's line of a sheet.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub indicator: IndicatorRow,
    /// The total figure (no breakdown) stored for the period, if any.
    pub figure: Option<ObservationRecord>,
}

/// What is stored for a committee × period.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub committee: db::committees::CommitteeRow,
    pub period: PeriodCode,
    pub rows: Vec<SheetRow>,
    pub lock: Option<LockRow>,
}

pub fn status_label(status: ObservationStatus) -> &'static str {
    match status {
        ObservationStatus::Normal => "Chính thức",
        ObservationStatus::Estimated => "Ước tính",
        ObservationStatus::Provisional => "Sơ bộ",
        ObservationStatus::Forecast => "Dự báo",
    }
}

pub fn qualifier_label(qualifier: Qualifier) -> &'static str {
    match qualifier {
        Qualifier::Exact => "Đúng bằng",
        Qualifier::LowerBound => "Trên / hơn",
        Qualifier::UpperBound => "Dưới",
        Qualifier::Approximate => "Khoảng / xấp xỉ",
    }
}

/// The stored total figures of these committees for `period`, by committee and indicator.
pub fn figures_for(
    conn: &mut AnyConnection,
    committee_codes: Vec<String>,
    period: &PeriodCode,
) -> Result<Vec<ObservationRecord>, ApiError> {
    let filter = ObservationFilter {
        committees: committee_codes,
        period: Some(*period),
        breakdown: Some(Breakdown::total()),
        ..Default::default()
    };
    let limit = MAX_FIGURES_PER_SHEET;
    Ok(db::observations::list(conn, &filter, limit, None)?)
}

/// The lock, if any, that covers this committee's figures of `period`.
pub fn lock_for(
    conn: &mut AnyConnection,
    committee_id: i64,
    period: &PeriodCode,
) -> Result<Option<LockRow>, ApiError> {
    Ok(db::locks::active(conn, &[committee_id])?
        .into_iter()
        .find(|lock| lock.covers(period)))
}

/// Loads a committee's sheet, refusing a committee the person may not write for.
fn load_sheet(
    conn: &mut AnyConnection,
    person: &Person,
    committee: &str,
    period: &PeriodCode,
) -> Result<Sheet, ApiError> {
    let committee = db::committees::find_by_code(conn, committee)?
        .ok_or_else(|| ApiError::not_found(format!("no committee has code {committee:?}")))?;
    let code = committee.code.clone();
    person
        .caller
        .require_committees([committee.id], |_| code.clone())?;
    let mut figures: HashMap<i64, ObservationRecord> =
        figures_for(conn, vec![committee.code.clone()], period)?
            .into_iter()
            .map(|record| (record.row.indicator_id, record))
            .collect();
    let rows = db::indicators::list(conn)?
        .into_iter()
        .map(|indicator| SheetRow {
            figure: figures.remove(&indicator.id),
            indicator,
        })
        .collect();
    let lock = lock_for(conn, committee.id, period)?;
    Ok(Sheet {
        committee,
        period: *period,
        rows,
        lock,
    })
}

fn parse_period(raw: &str) -> Result<PeriodCode, ApiError> {
    PeriodCode::parse(raw)
        .map_err(|e| ApiError::bad_request(format!("kỳ báo cáo không hợp lệ: {e}")))
}

/// What a row's inputs hold, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RowInput {
    value: String,
    status: String,
    qualifier: String,
    quote: String,
}

impl RowInput {
    fn of(figure: Option<&ObservationRecord>) -> Self {
        match figure {
            None => Self {
                status: ObservationStatus::Normal.as_str().into(),
                qualifier: Qualifier::Exact.as_str().into(),
                ..Self::default()
            },
            Some(f) => Self {
                value: format_number(f.row.value, Locale::Vietnamese),
                status: f.row.status.as_str().into(),
                qualifier: f.row.qualifier.as_str().into(),
                quote: f.row.source_quote.clone().unwrap_or_default(),
            },
        }
    }

    /// What the row showed when the form was drawn, sent back to tell which
    /// rows the person changed.
    fn fingerprint(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.value.trim(),
            self.status,
            self.qualifier,
            self.quote.trim()
        )
    }
}

/// A figure that someone else changed after the form was read.
#[derive(Debug, Clone)]
struct Conflict {
    yours: RowInput,
    changed_by: String,
    changed_at: NaiveDateTime,
}

/// What a row shows beyond the stored figure after a save.
#[derive(Debug, Clone, Default)]
struct RowState {
    input: Option<RowInput>,
    errors: Vec<String>,
    conflict: Option<Conflict>,
}

struct View<'a> {
    person: &'a Person,
    sheet: &'a Sheet,
    states: HashMap<String, RowState>,
    /// What happened on saving, and whether it all went through.
    notice: Option<(bool, String)>,
    reason: String,
}

fn render(view: View<'_>) -> Markup {
    let sheet = view.sheet;
    let title = format!(
        "{} · {}",
        sheet.committee.name_vi,
        sheet.period.vietnamese_label()
    );
    let action = format!("/entry/{}/{}", sheet.committee.code, sheet.period.code());
    let locked = sheet.lock.is_some();
    let empty = RowState::default();
    page(
        &title,
        Some(view.person),
        html! {
            h1 { "Nhập số liệu: " (sheet.committee.name_vi) }
            p.muted { "Kỳ báo cáo: " strong { (sheet.period.vietnamese_label()) } " (" (sheet.period.code()) ")" }
            @if let Some(lock) = &sheet.lock {
                p.locked role="status" {
                    "Kỳ này đã khóa bởi " strong { (lock.locked_by) } " lúc " (lock.locked_at.format("%d/%m/%Y %H:%M")) " (UTC)"
                    @if let Some(reason) = &lock.reason { ": " (reason) }
                    ". Chỉ xem, không sửa được."
                }
            }
            @if let Some((ok, notice)) = &view.notice {
                p class=(if *ok { "notice" } else { "warning" }) role="status" { (notice) }
            }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(view.person.csrf_token);
                table {
                    thead { tr {
                        th { "Chỉ tiêu" } th { "Giá trị" } th { "Đơn vị" } th { "Tình trạng" } th { "Mức chính xác" } th { "Trích nguồn" } th { "Lịch sử" }
                    } }
                    tbody {
                        @for row in &sheet.rows {
                            @let code = &row.indicator.code;
                            @let state = view.states.get(code).unwrap_or(&empty);
                            @let stored = RowInput::of(row.figure.as_ref());
                            @let shown = state.input.clone().unwrap_or_else(|| stored.clone());
                            @let field = |name: &str| format!("{name}.{code}");
                            tr class=[state.conflict.as_ref().map(|_| "conflict")] {
                                th scope="row" {
                                    (row.indicator.name_vi)
                                    input type="hidden" name=(field("rev")) value=(row.figure.as_ref().map(|f| f.row.revision.to_string()).unwrap_or_default());
                                    input type="hidden" name=(field("was")) value=(stored.fingerprint());
                                }
                                td.num {
                                    label.sr-only for=(field("value")) { (row.indicator.name_vi) ": giá trị" }
                                    input id=(field("value")) name=(field("value")) value=(shown.value) inputmode="decimal" size="14" disabled[locked]
                                        aria-invalid=[(!state.errors.is_empty()).then_some("true")];
                                    @for error in &state.errors {
                                        span.field-error role="alert" { (error) }
                                    }
                                    @if let Some(conflict) = &state.conflict {
                                        span.field-error role="alert" {
                                            "Người khác đã sửa số này: " strong { (conflict.changed_by) } " lúc " (conflict.changed_at.format("%d/%m/%Y %H:%M"))
                                            ". Số hiện tại: " strong { (stored.value) } "; số bạn nhập: " strong { (conflict.yours.value) }
                                            ". Chưa ghi đè; hãy nhập lại nếu muốn thay."
                                        }
                                    }
                                }
                                td { (unit_words(row.indicator.unit, row.indicator.scale)) }
                                td {
                                    label.sr-only for=(field("status")) { (row.indicator.name_vi) ": tình trạng" }
                                    select id=(field("status")) name=(field("status")) disabled[locked] {
                                        @for status in ObservationStatus::ALL {
                                            option value=(status.as_str()) selected[shown.status == status.as_str()] { (status_label(*status)) }
                                        }
                                    }
                                }
                                td {
                                    label.sr-only for=(field("qualifier")) { (row.indicator.name_vi) ": mức chính xác" }
                                    select id=(field("qualifier")) name=(field("qualifier")) disabled[locked] {
                                        @for qualifier in Qualifier::ALL {
                                            option value=(qualifier.as_str()) selected[shown.qualifier == qualifier.as_str()] { (qualifier_label(*qualifier)) }
                                        }
                                    }
                                }
                                td {
                                    label.sr-only for=(field("quote")) { (row.indicator.name_vi) ": câu trích từ nguồn" }
                                    textarea id=(field("quote")) name=(field("quote")) rows="1" cols="30" disabled[locked] { (shown.quote) }
                                }
                                td {
                                    @if let Some(figure) = &row.figure {
                                        a href=(format!("/figures/{}/history", figure.row.id)) { "Lần sửa " (figure.row.revision) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !locked {
                    p {
                        label for="reason" { "Lý do sửa (ghi vào lịch sử)" } br;
                        input #reason name="reason" size="60" value=(view.reason);
                    }
                    p { button.primary type="submit" { "Lưu" } }
                    p.muted { "Số viết kiểu Việt Nam: dấu chấm ngăn hàng nghìn, dấu phẩy thập phân (27.701,5). Để trống ô đã có số thì số cũ được giữ nguyên." }
                }
            }
        },
    )
}

fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// The entry form.
pub async fn form(
    person: Person,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (committee, period) = path.into_inner();
    let period = parse_period(&period)?;
    let reader = person.clone();
    let sheet = with_conn(&pool, move |conn| {
        load_sheet(conn, &reader, &committee, &period)
    })
    .await?;
    let view = View {
        person: &person,
        sheet: &sheet,
        states: HashMap::new(),
        notice: None,
        reason: String::new(),
    };
    Ok(html_response(StatusCode::OK, render(view)))
}

/// The outcome of a save, to draw the form again.
struct Saved {
    sheet: Sheet,
    states: HashMap<String, RowState>,
    written: usize,
    invalid: bool,
    conflicts: usize,
}

fn save_sheet(
    conn: &mut AnyConnection,
    person: &Person,
    committee: &str,
    period: &PeriodCode,
    fields: &HashMap<String, String>,
    reason: Option<&str>,
) -> Result<Saved, ApiError> {
    let sheet = load_sheet(conn, person, committee, period)?;
    if let Some(lock) = &sheet.lock {
        return Err(ApiError::conflict(format!(
            "kỳ này đã khóa bởi {} lúc {}: không ghi được",
            lock.locked_by, lock.locked_at
        )));
    }
    let refs = ReferenceData::load(conn)?;
    let get = |name: &str, code: &str| fields.get(&format!("{name}.{code}")).cloned();
    let mut states: HashMap<String, RowState> = HashMap::new();
    // Rows the person changed, each with the revision it was read at.
    let mut changed = Vec::new();
    for row in &sheet.rows {
        let code = &row.indicator.code;
        let Some(value) = get("value", code) else {
            continue;
        };
        let input = RowInput {
            value,
            status: get("status", code).unwrap_or_default(),
            qualifier: get("qualifier", code).unwrap_or_default(),
            quote: get("quote", code).unwrap_or_default(),
        };
        let was = get("was", code).unwrap_or_default();
        if input.fingerprint() == was || input.value.trim().is_empty() {
            continue;
        }
        let read_at: Option<i32> = get("rev", code).and_then(|r| r.parse().ok());
        let mut errors = Vec::new();
        let value = parse_number(&input.value, Locale::Vietnamese)
            .map_err(|e| errors.push(format!("Không đọc được số: {e}")))
            .ok();
        let status = input
            .status
            .parse::<ObservationStatus>()
            .map_err(|e| errors.push(e.to_string()))
            .ok();
        let qualifier = input
            .qualifier
            .parse::<Qualifier>()
            .map_err(|e| errors.push(e.to_string()))
            .ok();
        let mut new = None;
        if let (Some(value), Some(status), Some(qualifier)) = (value, status, qualifier) {
            let observation = ObservationInput {
                committee: sheet.committee.code.clone(),
                indicator: code.clone(),
                period: sheet.period.code(),
                breakdown: None,
                value: ExactDecimal(value),
                unit: None,
                scale: None,
                status: Some(status),
                qualifier: Some(qualifier),
                reported_yoy_pct: None,
                reported_yoy_qualifier: None,
                reported_share_pct: None,
                reported_share_qualifier: None,
                // A change keeps the figure's source document.
                source: row.figure.as_ref().and_then(|f| f.source.clone()),
                source_quote: Some(input.quote.clone()),
                reason: reason.map(str::to_owned),
            };
            match ingest::validate_observation(&observation, &refs, None) {
                Ok(valid) => new = Some(valid),
                Err(problems) => errors.extend(problems.into_iter().map(|p| p.message)),
            }
        }
        let state = states.entry(code.clone()).or_default();
        state.input = Some(input);
        state.errors = errors;
        if let Some(new) = new {
            changed.push((
                code.clone(),
                row.figure.as_ref().map(|f| f.row.id),
                read_at,
                new,
            ));
        }
    }
    if states.values().any(|s| !s.errors.is_empty()) {
        return Ok(Saved {
            sheet,
            states,
            written: 0,
            invalid: true,
            conflicts: 0,
        });
    }
    let author = Author {
        changed_by: &person.caller.name,
        token_id: person.caller.token_id,
        reason,
    };
    let mut written = 0;
    let mut conflicts = 0;
    for (code, existing, read_at, new) in changed {
        let outcome = match existing {
            // Read at a revision: If-Match it.
            Some(id) => {
                db::observations::update_by_id(conn, id, &new.state, author, read_at).map(|_| ())
            }
            None => db::observations::write_many(conn, &[new], WriteMode::CreateOnly, author)
                .map(|_| ()),
        };
        match outcome {
            Ok(()) => {
                written += 1;
                // Drawn again from what is stored now.
                states.remove(&code);
            }
            Err(
                WriteError::RevisionMismatch { .. }
                | WriteError::AlreadyExists(_)
                | WriteError::NotFound,
            ) => {
                conflicts += 1;
                let state = states.entry(code).or_default();
                let yours = state.input.take().unwrap_or_default();
                state.conflict = Some(Conflict {
                    yours,
                    changed_by: String::new(),
                    changed_at: NaiveDateTime::default(),
                });
            }
            Err(WriteError::Locked(_)) => {
                return Err(ApiError::conflict("kỳ này vừa bị khóa: không ghi được"))
            }
            Err(WriteError::Database(e)) => return Err(e.into()),
        }
    }
    // Read everything again: the form shows what is stored now, and each
    // conflict who changed the figure and when.
    let sheet = load_sheet(conn, person, committee, period)?;
    for row in &sheet.rows {
        let Some(state) = states.get_mut(&row.indicator.code) else {
            continue;
        };
        if let (Some(conflict), Some(figure)) = (state.conflict.as_mut(), row.figure.as_ref()) {
            if let Some((last, _)) = db::observations::revisions(conn, figure.row.id)?.pop() {
                conflict.changed_by = last.changed_by;
                conflict.changed_at = last.changed_at;
            }
        }
    }
    Ok(Saved {
        sheet,
        states,
        written,
        invalid: false,
        conflicts,
    })
}

/// Saves the entry form.
pub async fn save(
    person: Person,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let fields: HashMap<String, String> = form.into_inner().into_iter().collect();
    person.require_csrf(fields.get("csrf").map(String::as_str))?;
    let (committee, period) = path.into_inner();
    let period = parse_period(&period)?;
    let reason = fields
        .get("reason")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let writer = person.clone();
    let kept_reason = reason.clone().unwrap_or_default();
    let saved = with_conn(&pool, move |conn| {
        save_sheet(
            conn,
            &writer,
            &committee,
            &period,
            &fields,
            reason.as_deref(),
        )
    })
    .await?;
    let (status, notice) = if saved.invalid {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Có ô chưa đúng (xem bên cạnh ô): chưa ghi gì.".to_owned(),
        )
    } else if saved.conflicts > 0 {
        (
            StatusCode::CONFLICT,
            format!(
                "Đã lưu {} số liệu; {} số liệu đã bị người khác sửa trong lúc bạn nhập và không bị ghi đè.",
                saved.written, saved.conflicts
            ),
        )
    } else {
        (StatusCode::OK, format!("Đã lưu {} số liệu.", saved.written))
    };
    let view = View {
        person: &person,
        sheet: &saved.sheet,
        states: saved.states,
        notice: Some((status == StatusCode::OK, notice)),
        reason: kept_reason,
    };
    Ok(html_response(status, render(view)))
}
