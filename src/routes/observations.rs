//! Observations: the figures themselves, one by one or in batches, with their history.

use crate::auth::{Editor, Reader};
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use super::{code_list, reject, with_conn, Page, PageParams};
use crate::config::Config;
use crate::db::observations::{
    Author, ObservationFilter, ObservationRecord, RevisionRow, WriteError, WriteMode, WriteOutcome,
    Written,
};
use crate::db::{self, Pool};
use crate::domain::breakdown::Breakdown;
use crate::domain::code::{CommitteeCode, IndicatorCode};
use crate::domain::indicator::Unit;
use crate::domain::locale::Locale;
use crate::domain::period::{Frequency, PeriodCode};
use crate::domain::plausibility::PlausibilityWarning;
use crate::domain::text;
use crate::domain::value::{ExactDecimal, ObservationStatus, Qualifier};
use crate::error::{ApiError, FieldError, LockProblem};
use crate::ingest::{self, ObservationInput, ReferenceData, StateInput};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_observations)
        .service(export_observations)
        .service(create_observations_batch)
        .service(create_observation)
        .service(get_observation)
        .service(update_observation)
        .service(delete_observation)
        .service(list_revisions);
}

/// Largest batch accepted in one request.
pub const MAX_BATCH_ITEMS: usize = 5000;

/// A figure.
#[derive(Debug, Serialize, ToSchema)]
pub struct Observation {
    pub id: i64,
    #[schema(example = "haiphong-business-bloc")]
    pub committee: String,
    #[schema(example = "revenue")]
    pub indicator: String,
    /// Canonical period code.
    #[schema(example = "2021")]
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = String, example = "annual")]
    pub frequency: Frequency,
    /// Disaggregation; `{}` for the total.
    pub breakdown: BTreeMap<String, String>,
    /// Exact decimal, as a string so that no client rounds it through a float.
    #[schema(value_type = String, example = "27701")]
    pub value: Decimal,
    pub unit: Unit,
    /// Power of ten of `value` (9: billions).
    pub scale: i32,
    pub status: ObservationStatus,
    pub qualifier: Qualifier,
    #[schema(value_type = Option<String>, example = "7.7")]
    pub reported_yoy_pct: Option<Decimal>,
    pub reported_yoy_qualifier: Option<Qualifier>,
    #[schema(value_type = Option<String>)]
    pub reported_share_pct: Option<Decimal>,
    pub reported_share_qualifier: Option<Qualifier>,
    /// Code of the source document.
    pub source: Option<String>,
    /// The source's sentence stating the figure.
    pub source_quote: Option<String>,
    /// Revision number; each change adds one.
    pub revision: i32,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub updated_at: NaiveDateTime,
}

impl TryFrom<ObservationRecord> for Observation {
    type Error = ApiError;

    fn try_from(record: ObservationRecord) -> Result<Self, ApiError> {
        let state = record.row.state()?;
        let row = record.row;
        Ok(Self {
            id: row.id,
            committee: record.committee,
            indicator: record.indicator,
            frequency: row.period_code.frequency(),
            period: row.period_code.code(),
            period_start: row.period_start,
            period_end: row.period_end,
            breakdown: row.breakdown.as_map().clone(),
            value: state.value,
            unit: record.unit,
            scale: record.scale,
            status: state.status,
            qualifier: state.qualifier,
            reported_yoy_pct: state.reported_yoy_pct,
            reported_yoy_qualifier: state.reported_yoy_qualifier,
            reported_share_pct: state.reported_share_pct,
            reported_share_qualifier: state.reported_share_qualifier,
            source: record.source,
            source_quote: state.source_quote,
            revision: row.revision,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Filters of the observation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObservationQuery {
    /// Committee codes, comma-separated.
    pub committee: Option<String>,
    /// Indicator codes, comma-separated.
    pub indicator: Option<String>,
    /// One period, in any accepted form.
    pub period: Option<String>,
    /// Periods starting on or after this period's start.
    pub from: Option<String>,
    /// Periods ending on or before this period's end.
    pub to: Option<String>,
    /// `annual`, `semi_annual`, `quarterly`, `monthly`, `daily` or `year_to_date`.
    pub frequency: Option<String>,
    /// `A`, `E`, `P` or `F`.
    pub status: Option<String>,
    /// `total`, or `dimension:value` pairs separated by `;` (e.g. `sex:female`).
    pub breakdown: Option<String>,
    /// Answer with what was known at this moment: an RFC 3339 timestamp, a UTC
    /// date-time, or a date (its end). Rebuilt from the revisions.
    pub as_of: Option<String>,
}

/// The answer of the observation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFormat {
    /// `json` (default, paginated), or an export of every matching figure:
    /// `csv` or `xlsx` (also chosen by `Accept: text/csv` or the XLSX type) or
    /// `json_export`. An export re-imports unchanged through `POST /api/v1/imports`.
    /// Generated clients call `GET /api/v1/observations/export` instead, whose
    /// answer is always a file.
    pub format: Option<String>,
    /// For a csv or xlsx export: `vi` writes decimals in text as Vietnamese
    /// (`975,9`), so that the file re-imports unchanged with `locale=vi`;
    /// `standard` (default) writes `975.9`. XLSX number cells and JSON
    /// numbers are the same in every locale.
    pub locale: Option<Locale>,
}

/// The file of an export.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// The JSON answer of the observation list: a page, or with
/// `format=json_export` every matching figure (schema only).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ObservationList {
    Page(Page<Observation>),
    Export(super::export::ObservationExport),
}

/// Which file an export writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` or `xlsx`: the columns of `format=json_export` on the list, re-importable
    /// unchanged through `POST /api/v1/imports`.
    pub format: ExportFormat,
    /// `vi` writes decimals in text as Vietnamese (`975,9`), so that the file
    /// re-imports unchanged with `locale=vi`; `standard` (default) writes `975.9`.
    pub locale: Option<Locale>,
}

fn period_param(field: &str, raw: Option<&str>) -> Result<Option<PeriodCode>, ApiError> {
    raw.map(|p| {
        PeriodCode::parse(p)
            .map_err(|e| ApiError::invalid_parameter(field, "invalid_period", e.to_string()))
    })
    .transpose()
}

impl ObservationQuery {
    fn into_filter(self) -> Result<ObservationFilter, ApiError> {
        Ok(ObservationFilter {
            committees: code_list("committee", self.committee.as_deref(), CommitteeCode::parse)?,
            indicators: code_list("indicator", self.indicator.as_deref(), IndicatorCode::parse)?,
            period: period_param("period", self.period.as_deref())?,
            from: period_param("from", self.from.as_deref())?.map(|p| p.start()),
            to: period_param("to", self.to.as_deref())?.map(|p| p.end()),
            frequency: self
                .frequency
                .as_deref()
                .map(|f| {
                    f.parse::<Frequency>().map_err(|e| {
                        ApiError::invalid_parameter("frequency", "invalid_frequency", e.to_string())
                    })
                })
                .transpose()?,
            status: self
                .status
                .as_deref()
                .map(|s| {
                    s.parse::<ObservationStatus>().map_err(|e| {
                        ApiError::invalid_parameter("status", "invalid_status", e.to_string())
                    })
                })
                .transpose()?,
            breakdown: self
                .breakdown
                .as_deref()
                .map(|b| {
                    Breakdown::parse(b).map_err(|e| {
                        ApiError::invalid_parameter("breakdown", "invalid_breakdown", e.to_string())
                    })
                })
                .transpose()?,
            as_of: super::as_of_param(self.as_of.as_deref())?,
        })
    }
}

/// How a write treats a figure that exists already.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// An existing figure is a conflict (409): nothing is overwritten by accident.
    #[default]
    Create,
    /// An existing figure is updated (a new revision) or, if equal, left unchanged.
    Upsert,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WriteParams {
    /// `create` (default) or `upsert`.
    pub mode: Option<Mode>,
    /// `true`: a value more than the plausibility factor (default 100×) above or
    /// below the committee's previous figure of the indicator is refused (422)
    /// instead of written with a warning.
    pub strict: Option<bool>,
}

/// Whether a plausibility warning refuses the change.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StrictParams {
    /// `true`: a value more than the plausibility factor (default 100×) above or
    /// below the committee's previous figure of the indicator is refused (422)
    /// instead of written with a warning.
    pub strict: Option<bool>,
}

/// A figure as written, with what looked implausible about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WrittenObservation {
    #[serde(flatten)]
    pub observation: Observation,
    /// Written anyway: the value is more than the plausibility factor above or
    /// below the committee's previous figure of the indicator (same frequency
    /// and breakdown). Empty when nothing looked wrong.
    pub warnings: Vec<PlausibilityWarning>,
}

impl From<Mode> for WriteMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Create => WriteMode::CreateOnly,
            Mode::Upsert => WriteMode::CreateOrUpdate,
        }
    }
}

/// A batch of figures, written all or nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// Up to 5000 figures.
    // Kept as JSON text, each item read on its own below: through a
    // `serde_json::Value` an object could pass for a number (see ExactDecimal).
    #[schema(value_type = Vec<ObservationInput>)]
    pub observations: Vec<Box<serde_json::value::RawValue>>,
    /// Why these figures are entered; kept in every revision.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What happened to one item of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    pub index: usize,
    pub id: i64,
    pub outcome: WriteOutcome,
    pub revision: i32,
    /// Plausibility warnings of this item (see `WrittenObservation`).
    pub warnings: Vec<PlausibilityWarning>,
}

/// Summary of a batch write.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub items: Vec<BatchItemResult>,
}

/// New values for an existing figure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationUpdate {
    pub value: ExactDecimal,
    #[serde(default)]
    pub unit: Option<Unit>,
    #[serde(default)]
    pub scale: Option<i32>,
    #[serde(default)]
    pub status: Option<ObservationStatus>,
    #[serde(default)]
    pub qualifier: Option<Qualifier>,
    #[serde(default)]
    pub reported_yoy_pct: Option<ExactDecimal>,
    #[serde(default)]
    pub reported_yoy_qualifier: Option<Qualifier>,
    #[serde(default)]
    pub reported_share_pct: Option<ExactDecimal>,
    #[serde(default)]
    pub reported_share_qualifier: Option<Qualifier>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_quote: Option<String>,
    /// Why the value changes; kept in the revision.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Why a figure is deleted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Kept in the deletion's revision.
    pub reason: Option<String>,
}

/// One change in a figure's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revision {
    pub revision: i32,
    /// `create`, `update`, `delete` or `restore`.
    pub action: String,
    /// The value after the change (for a deletion, the value deleted).
    #[schema(value_type = String)]
    pub value: Decimal,
    /// The value before the change.
    #[schema(value_type = Option<String>)]
    pub previous_value: Option<Decimal>,
    pub status: String,
    pub qualifier: String,
    #[schema(value_type = Option<String>)]
    pub reported_yoy_pct: Option<Decimal>,
    pub reported_yoy_qualifier: Option<String>,
    #[schema(value_type = Option<String>)]
    pub reported_share_pct: Option<Decimal>,
    pub reported_share_qualifier: Option<String>,
    pub source: Option<String>,
    pub source_quote: Option<String>,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub changed_at: NaiveDateTime,
    pub changed_by: String,
    pub reason: Option<String>,
    /// Id of the API token that made the change (none for seeding and the command line).
    pub token_id: Option<i64>,
}

impl From<(RevisionRow, Option<String>)> for Revision {
    fn from((row, source): (RevisionRow, Option<String>)) -> Self {
        Self {
            revision: row.revision,
            action: row.action,
            value: row.value,
            previous_value: row.previous_value.map(Decimal::from),
            status: row.status,
            qualifier: row.qualifier,
            reported_yoy_pct: row.reported_yoy_pct.map(Decimal::from),
            reported_yoy_qualifier: row.reported_yoy_qualifier,
            reported_share_pct: row.reported_share_pct.map(Decimal::from),
            reported_share_qualifier: row.reported_share_qualifier,
            source,
            source_quote: row.source_quote,
            changed_at: row.changed_at,
            changed_by: row.changed_by,
            reason: row.reason,
            token_id: row.token_id,
        }
    }
}

/// Turns a refused write into its problem: 404, 409 (exists, locked) or 412.
pub(crate) fn write_error(
    conn: &mut db::AnyConnection,
    error: WriteError,
    id: Option<i64>,
    batch: bool,
) -> ApiError {
    let at = |error: FieldError, index: usize| if batch { error.at(index) } else { error };
    match error {
        WriteError::Database(e) => e.into(),
        WriteError::NotFound => ApiError::not_found(format!("no figure has id {}", id.unwrap_or_default())),
        WriteError::RevisionMismatch { current } => ApiError::PreconditionFailed(format!(
            "the figure is at revision {current} (ETag \"{current}\"), not the one in If-Match: someone changed it first; read it again and reapply your change"
        )),
        WriteError::AlreadyExists(conflicts) => {
            let errors: Vec<FieldError> = conflicts
                .into_iter()
                .map(|(index, id)| at(FieldError::new(
                    "observation",
                    "already_exists",
                    format!("figure {id} exists for this committee, indicator, period and breakdown; use mode=upsert or PUT /api/v1/observations/{id} to change it"),
                ), index))
                .collect();
            let detail = match errors.as_slice() {
                [only] => only.message.clone(),
                many => format!("{} figures exist already; nothing was written", many.len()),
            };
            ApiError::Conflict { detail, errors }
        }
        WriteError::Locked(locked) => {
            let mut committee = |id: i64| db::committees::find(conn, id).map(|c| c.code).unwrap_or_default();
            let problems: Vec<LockProblem> = locked
                .iter()
                .map(|(_, lock)| LockProblem {
                    reason: "locked".into(),
                    lock_id: lock.id,
                    committee: committee(lock.committee_id),
                    period: lock.period_code.code(),
                    locked_by: lock.locked_by.clone(),
                    locked_at: lock.locked_at,
                    note: lock.reason.clone(),
                })
                .collect();
            let errors = locked
                .iter()
                .zip(&problems)
                .map(|((index, _), lock)| at(FieldError::new(
                    "period",
                    "locked",
                    format!("{} {} is locked by {} since {}", lock.committee, lock.period, lock.locked_by, lock.locked_at),
                ), *index))
                .collect();
            let first = problems.into_iter().next();
            match first {
                Some(lock) => ApiError::Locked {
                    detail: format!(
                        "{} {} was locked by {} at {}; nothing was written (an admin can lift the lock: DELETE /api/v1/locks/{})",
                        lock.committee, lock.period, lock.locked_by, lock.locked_at, lock.lock_id
                    ),
                    lock: Box::new(lock),
                    errors,
                },
                None => ApiError::conflict("the period is locked"),
            }
        }
    }
}

/// The ETag of a figure: its revision.
pub fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

/// The revision an `If-Match` header names; `None` without the header or for `*`.
/// A value that is not one of our ETags can never match: revision −1.
fn if_match(request: &HttpRequest) -> Option<i32> {
    let value = request
        .headers()
        .get(actix_web::http::header::IF_MATCH)?
        .to_str()
        .unwrap_or_default()
        .trim();
    if value == "*" {
        return None;
    }
    Some(
        value
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .unwrap_or(-1),
    )
}

fn load(conn: &mut db::AnyConnection, id: i64) -> Result<Observation, ApiError> {
    db::observations::find(conn, id)?
        .filter(|record| record.row.deleted_at.is_none())
        .ok_or_else(|| ApiError::not_found(format!("no figure has id {id}")))?
        .try_into()
}

/// Lists figures, filtered, a page at a time in the order they were first
/// entered (follow `next`); or exports every matching figure as CSV, XLSX or JSON.
#[utoipa::path(
    tag = "observations",
    params(ObservationQuery, ListFormat, PageParams),
    responses(
        (status = 200, description = "One page of figures; with format=csv|xlsx|json_export (or Accept: text/csv or XLSX), every matching figure as a file", body = Page<Observation>,
            content(
                (ObservationList = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 400, description = "A bad filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/observations")]
pub async fn list_observations(
    _: Reader,
    read: web::Data<super::ReadPool>,
    lane: web::Data<super::HeavyLane>,
    request: HttpRequest,
    query: web::Query<ObservationQuery>,
    list_format: web::Query<ListFormat>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let export = super::export::export_format(&request, list_format.format.as_deref())?;
    let locale = list_format.locale.unwrap_or_default();
    let filter = query.into_filter()?;
    if let Some(format) = export {
        return super::export::export(read, lane, filter, format, locale).await;
    }
    let at = page.into_inner().resolve()?;
    // A list as known at a past moment is rebuilt from the history: expensive.
    let _lane = match filter.as_of {
        Some(_) => Some(lane.enter().await?),
        None => None,
    };
    let position = read.position().await?;
    let items = with_conn(read.pool(), move |conn| {
        db::observations::list(conn, &filter, at.limit + 1, at.after)?
            .into_iter()
            .map(Observation::try_from)
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Page::new(&request, items, at, |o| o.id).respond(position.as_ref()))
}

/// Exports every matching figure as one file: CSV or XLSX. The list's
/// `format=` does the same (and `json_export`); this operation exists so that
/// a generated client reads a file, never a page, from its answer.
#[utoipa::path(
    tag = "observations",
    params(ObservationQuery, ExportParams),
    responses(
        (status = 200, description = "Every matching figure, as a file (Content-Disposition: attachment)",
            content(
                (crate::routes::export::CsvFile = "text/csv"),
                (crate::routes::export::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 400, description = "A bad filter or format", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/observations/export")]
pub async fn export_observations(
    _: Reader,
    read: web::Data<super::ReadPool>,
    lane: web::Data<super::HeavyLane>,
    query: web::Query<ObservationQuery>,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let format = match params.format {
        ExportFormat::Csv => crate::tabular::Format::Csv,
        ExportFormat::Xlsx => crate::tabular::Format::Xlsx,
    };
    super::export::export(
        read,
        lane,
        filter,
        format,
        params.locale.unwrap_or_default(),
    )
    .await
}

/// Enters one figure.
#[utoipa::path(
    tag = "observations",
    params(WriteParams),
    request_body = ObservationInput,
    responses(
        (status = 201, description = "Created (or restored after a deletion), with any plausibility warnings", body = WrittenObservation, headers(("ETag" = String, description = "The revision, for If-Match on the next PUT or DELETE"), ("Location" = String, description = "The figure's URL"))),
        (status = 200, description = "With mode=upsert: updated or unchanged, with any plausibility warnings", body = WrittenObservation, headers(("ETag" = String, description = "The revision, for If-Match on the next PUT or DELETE"), ("Location" = String, description = "The figure's URL"))),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The figure exists already (mode=create)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: unknown codes, bad period, unit mismatch, negative count, out of bounds, or (strict=true) an implausible change …", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[post("/observations")]
pub async fn create_observation(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    config: web::Data<Config>,
    params: web::Query<WriteParams>,
    body: web::Json<ObservationInput>,
) -> Result<HttpResponse, ApiError> {
    let mode = params.mode.unwrap_or_default();
    let strict = params.strict.unwrap_or(false);
    let factor = config.plausibility_factor;
    let input = body.into_inner();
    let (written, observation, warnings) = with_conn(&pool, move |conn| {
        let refs = ReferenceData::load(conn)?;
        let new = ingest::validate_observation(&input, &refs, None).map_err(reject)?;
        caller.require_committees([new.key.committee_id], |id| refs.committee_code(id))?;
        let warnings: Vec<PlausibilityWarning> =
            ingest::plausibility_warning(conn, &new.key, new.state.value, factor)?
                .into_iter()
                .collect();
        if strict && !warnings.is_empty() {
            return Err(reject(ingest::strict_errors(
                warnings.iter().map(|w| (None, w)),
            )));
        }
        let author = Author {
            changed_by: &caller.name,
            token_id: caller.token_id,
            reason: input.reason.as_deref(),
        };
        let written = match db::observations::write_many(conn, &[new], mode.into(), author) {
            Ok(written) => written[0],
            Err(error) => return Err(write_error(conn, error, None, false)),
        };
        Ok((written, load(conn, written.id)?, warnings))
    })
    .await?;
    let mut response = match written.outcome {
        WriteOutcome::Created | WriteOutcome::Restored => HttpResponse::Created(),
        WriteOutcome::Updated | WriteOutcome::Unchanged => HttpResponse::Ok(),
    };
    Ok(response
        .insert_header((
            "Location",
            format!("/api/v1/observations/{}", observation.id),
        ))
        .insert_header((actix_web::http::header::ETAG, etag(observation.revision)))
        .json(WrittenObservation {
            observation,
            warnings,
        }))
}

/// Enters many figures at once: all of them or none.
#[utoipa::path(
    tag = "observations",
    params(WriteParams),
    request_body = BatchInput,
    responses(
        (status = 200, description = "Every figure was written", body = BatchSummary),
        (status = 400, description = "Malformed JSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Figures exist already (mode=create); nothing was written", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or batch too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid items (or, with strict=true, implausible changes), each error with its index; nothing was written", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[post("/observations/batch")]
pub async fn create_observations_batch(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    config: web::Data<Config>,
    params: web::Query<WriteParams>,
    body: web::Json<BatchInput>,
) -> Result<HttpResponse, ApiError> {
    let mode = params.mode.unwrap_or_default();
    let strict = params.strict.unwrap_or(false);
    let factor = config.plausibility_factor;
    let BatchInput {
        observations,
        reason,
    } = body.into_inner();
    if observations.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {MAX_BATCH_ITEMS} figures, this one has {}",
            observations.len()
        )));
    }
    if observations.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "observations",
            "empty_batch",
            "the batch has no figures",
        )]));
    }
    // Checked once here; the reason is copied into every item's revision.
    FieldError::check_text("reason", reason.as_deref(), text::REASON)
        .map_err(|e| ApiError::validation(vec![e]))?;
    // Each item is read on its own so that a wrong type is reported with its index.
    let mut errors = Vec::new();
    let mut inputs = Vec::with_capacity(observations.len());
    for (index, item) in observations.into_iter().enumerate() {
        match serde_json::from_str::<ObservationInput>(item.get()) {
            Ok(input) => inputs.push(input),
            Err(e) => {
                errors.push(FieldError::new("observation", "invalid_item", e.to_string()).at(index))
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest {
            detail: format!(
                "{} item(s) could not be read; nothing was written",
                errors.len()
            ),
            errors,
        });
    }
    let summary = with_conn(&pool, move |conn| {
        let refs = ReferenceData::load(conn)?;
        let new = ingest::validate_batch(&inputs, &refs).map_err(reject)?;
        let mut committees: Vec<i64> = new.iter().map(|n| n.key.committee_id).collect();
        committees.sort_unstable();
        committees.dedup();
        caller.require_committees(committees, |id| refs.committee_code(id))?;
        // Compared with the figures stored before this batch, one indexed
        // lookup per item (a batch holds at most MAX_BATCH_ITEMS).
        let mut warnings = Vec::with_capacity(new.len());
        for item in &new {
            warnings.push(ingest::plausibility_warning(
                conn,
                &item.key,
                item.state.value,
                factor,
            )?);
        }
        if strict && warnings.iter().any(Option::is_some) {
            return Err(reject(ingest::strict_errors(
                warnings
                    .iter()
                    .enumerate()
                    .filter_map(|(index, w)| w.as_ref().map(|w| (Some(index), w))),
            )));
        }
        let author = Author {
            changed_by: &caller.name,
            token_id: caller.token_id,
            reason: reason.as_deref(),
        };
        let written = match db::observations::write_many(conn, &new, mode.into(), author) {
            Ok(written) => written,
            Err(error) => return Err(write_error(conn, error, None, true)),
        };
        Ok(summarise(&written, warnings))
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}

fn summarise(written: &[Written], warnings: Vec<Option<PlausibilityWarning>>) -> BatchSummary {
    let mut summary = BatchSummary::default();
    for ((index, w), warning) in written.iter().enumerate().zip(warnings) {
        match w.outcome {
            WriteOutcome::Created | WriteOutcome::Restored => summary.created += 1,
            WriteOutcome::Updated => summary.updated += 1,
            WriteOutcome::Unchanged => summary.unchanged += 1,
        }
        summary.items.push(BatchItemResult {
            index,
            id: w.id,
            outcome: w.outcome,
            revision: w.revision,
            warnings: warning.into_iter().collect(),
        });
    }
    summary
}

/// One figure.
#[utoipa::path(
    tag = "observations",
    params(("id" = i64, Path, description = "Figure id")),
    responses(
        (status = 200, description = "The figure", body = Observation, headers(("ETag" = String, description = "The figure's revision, for If-Match"))),
        (status = 404, description = "No such figure (or it was deleted)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/observations/{id:\\d+}")]
pub async fn get_observation(
    _: Reader,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let observation = with_conn(&pool, move |conn| load(conn, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(observation.revision)))
        .json(observation))
}

/// Changes a figure's value and annotations; the old values stay in its revisions.
#[utoipa::path(
    tag = "observations",
    params(("id" = i64, Path, description = "Figure id"), ("If-Match" = Option<String>, Header, description = "The ETag of the revision this change was made from (e.g. \"3\"); a later revision answers 412. Without it the write is unconditional."), StrictParams),
    request_body = ObservationUpdate,
    responses(
        (status = 200, description = "Updated (or unchanged), with any plausibility warnings; the ETag is the new revision", body = WrittenObservation, headers(("ETag" = String, description = "The figure's revision"))),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such figure", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The committee × period is locked; the problem's `lock` says by whom and since when", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older revision: someone else changed it first", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or (strict=true) an implausible change", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[put("/observations/{id:\\d+}")]
pub async fn update_observation(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    config: web::Data<Config>,
    request: HttpRequest,
    id: web::Path<i64>,
    params: web::Query<StrictParams>,
    body: web::Json<ObservationUpdate>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let strict = params.strict.unwrap_or(false);
    let factor = config.plausibility_factor;
    let input = body.into_inner();
    FieldError::check_text("reason", input.reason.as_deref(), text::REASON)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let expected_revision = if_match(&request);
    let (observation, warnings) = with_conn(&pool, move |conn| {
        let current = load(conn, id)?;
        let refs = ReferenceData::load(conn)?;
        let committee = refs.committee_id(&current.committee).unwrap_or_default();
        caller.require_committees([committee], |id| refs.committee_code(id))?;
        let state = ingest::validate_change(
            StateInput {
                value: input.value,
                unit: input.unit,
                scale: input.scale,
                status: input.status,
                qualifier: input.qualifier,
                reported_yoy_pct: input.reported_yoy_pct,
                reported_yoy_qualifier: input.reported_yoy_qualifier,
                reported_share_pct: input.reported_share_pct,
                reported_share_qualifier: input.reported_share_qualifier,
                source: input.source.as_deref(),
                source_quote: input.source_quote.as_deref(),
            },
            &current.indicator,
            &refs,
        )
        .map_err(reject)?;
        let key = match db::observations::find(conn, id)? {
            Some(record) => record.row.key(),
            None => return Err(ApiError::not_found(format!("no figure has id {id}"))),
        };
        let warnings: Vec<PlausibilityWarning> =
            ingest::plausibility_warning(conn, &key, state.value, factor)?
                .into_iter()
                .collect();
        if strict && !warnings.is_empty() {
            return Err(reject(ingest::strict_errors(
                warnings.iter().map(|w| (None, w)),
            )));
        }
        let author = Author {
            changed_by: &caller.name,
            token_id: caller.token_id,
            reason: input.reason.as_deref(),
        };
        db::observations::update_by_id(conn, id, &state, author, expected_revision)
            .map_err(|e| write_error(conn, e, Some(id), false))?;
        Ok((load(conn, id)?, warnings))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(observation.revision)))
        .json(WrittenObservation {
            observation,
            warnings,
        }))
}

/// Deletes a figure. Its history is kept, and the deletion is its last revision.
#[utoipa::path(
    tag = "observations",
    params(("id" = i64, Path, description = "Figure id"), ("If-Match" = Option<String>, Header, description = "The ETag of the revision this change was made from (e.g. \"3\"); a later revision answers 412. Without it the write is unconditional."), DeleteParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such figure", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The committee × period is locked", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older revision", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason is too long or holds control characters", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason breaks the text rule (too long, control characters)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[delete("/observations/{id:\\d+}")]
pub async fn delete_observation(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    request: HttpRequest,
    id: web::Path<i64>,
    params: web::Query<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reason = params.into_inner().reason;
    FieldError::check_text("reason", reason.as_deref(), text::REASON)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let expected_revision = if_match(&request);
    with_conn(&pool, move |conn| {
        if let Some(current) =
            db::observations::find(conn, id)?.filter(|r| r.row.deleted_at.is_none())
        {
            let refs = ReferenceData::load(conn)?;
            caller.require_committees([current.row.committee_id], |id| refs.committee_code(id))?;
        }
        let author = Author {
            changed_by: &caller.name,
            token_id: caller.token_id,
            reason: reason.as_deref(),
        };
        db::observations::delete_by_id(conn, id, author, expected_revision)
            .map(|_| ())
            .map_err(|e| write_error(conn, e, Some(id), false))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The history of a figure, oldest first, including after its deletion.
#[utoipa::path(
    tag = "observations",
    params(("id" = i64, Path, description = "Figure id")),
    responses(
        (status = 200, description = "Every revision", body = Vec<Revision>),
        (status = 404, description = "No such figure", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/observations/{id:\\d+}/revisions")]
pub async fn list_revisions(
    _: Reader,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let revisions = with_conn(&pool, move |conn| {
        if db::observations::find(conn, id)?.is_none() {
            return Err(ApiError::not_found(format!("no figure has id {id}")));
        }
        Ok(db::observations::revisions(conn, id)?
            .into_iter()
            .map(Revision::from)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(revisions))
}
