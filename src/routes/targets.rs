//! Targets: committee × indicator × period → the value to reach, and who assigned it.

use crate::auth::{Editor, Reader};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{code_list, with_conn, Page, PageParams};
use crate::db::observations::{Author, WriteOutcome};
use crate::db::targets::{TargetFilter, TargetRecord, TargetRevisionRow};
use crate::db::{self, Pool};
use crate::domain::code::{CommitteeCode, IndicatorCode};
use crate::domain::period::{Frequency, PeriodCode};
use crate::error::ApiError;
use crate::ingest::{self, ReferenceData, TargetInput};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_targets)
        .service(upsert_target)
        .service(get_target)
        .service(list_target_revisions);
}

/// A target.
#[derive(Debug, Serialize, ToSchema)]
pub struct Target {
    pub id: i64,
    pub committee: String,
    pub indicator: String,
    #[schema(example = "2021")]
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[schema(value_type = String)]
    pub frequency: Frequency,
    /// Exact decimal in the indicator's unit and scale.
    #[schema(value_type = String, example = "200")]
    pub value: Decimal,
    pub unit: String,
    pub scale: i32,
    /// Who assigned the target, e.g. the City Party Committee.
    pub assigned_by: Option<String>,
    pub source: Option<String>,
    pub source_quote: Option<String>,
    pub revision: i32,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub updated_at: NaiveDateTime,
}

impl From<TargetRecord> for Target {
    fn from(record: TargetRecord) -> Self {
        let row = record.row;
        Self {
            id: row.id,
            committee: record.committee,
            indicator: record.indicator,
            period: row.period_code.code(),
            frequency: row.period_code.frequency(),
            period_start: row.period_start,
            period_end: row.period_end,
            value: row.value,
            unit: record.unit,
            scale: record.scale,
            assigned_by: row.assigned_by,
            source: record.source,
            source_quote: row.source_quote,
            revision: row.revision,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Filters of the target list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// Committee codes, comma-separated.
    pub committee: Option<String>,
    /// Indicator codes, comma-separated.
    pub indicator: Option<String>,
    /// One period, in any accepted form.
    pub period: Option<String>,
}

/// One change of a target.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetRevision {
    pub revision: i32,
    #[schema(value_type = String)]
    pub value: Decimal,
    #[schema(value_type = Option<String>)]
    pub previous_value: Option<Decimal>,
    pub assigned_by: Option<String>,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub changed_at: NaiveDateTime,
    pub changed_by: String,
    pub reason: Option<String>,
}

impl From<TargetRevisionRow> for TargetRevision {
    fn from(row: TargetRevisionRow) -> Self {
        Self {
            revision: row.revision,
            value: row.value,
            previous_value: row.previous_value.map(Decimal::from),
            assigned_by: row.assigned_by,
            changed_at: row.changed_at,
            changed_by: row.changed_by,
            reason: row.reason,
        }
    }
}

/// Lists targets, filtered, a page at a time in the order they were first set (follow `next`).
#[utoipa::path(
    tag = "targets",
    params(TargetQuery, PageParams),
    responses(
        (status = 200, description = "One page of targets", body = Page<Target>),
        (status = 400, description = "A bad filter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/targets")]
pub async fn list_targets(
    _: Reader,
    request: HttpRequest,
    read: web::Data<super::ReadPool>,
    query: web::Query<TargetQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = TargetFilter {
        committees: code_list(
            "committee",
            query.committee.as_deref(),
            CommitteeCode::parse,
        )?,
        indicators: code_list(
            "indicator",
            query.indicator.as_deref(),
            IndicatorCode::parse,
        )?,
        period: query
            .period
            .as_deref()
            .map(|p| {
                PeriodCode::parse(p).map_err(|e| {
                    ApiError::invalid_parameter("period", "invalid_period", e.to_string())
                })
            })
            .transpose()?,
    };
    let at = page.into_inner().resolve()?;
    let position = read.position().await?;
    let items = with_conn(read.pool(), move |conn| {
        Ok(db::targets::list(conn, &filter, at.limit + 1, at.after)?
            .into_iter()
            .map(Target::from)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Page::new(&request, items, at, |t| t.id).respond(position.as_ref()))
}

/// Sets a target: creates it, or revises the existing one for the same
/// committee, indicator and period.
#[utoipa::path(
    tag = "targets",
    request_body = TargetInput,
    responses(
        (status = 201, description = "Created", body = Target, headers(("ETag" = String, description = "The target's revision"), ("Location" = String, description = "The target's URL"))),
        (status = 200, description = "Revised or unchanged", body = Target, headers(("ETag" = String, description = "The target's revision"), ("Location" = String, description = "The target's URL"))),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The committee × period is locked (the problem carries the lock); nothing was written", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[post("/targets")]
pub async fn upsert_target(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    body: web::Json<TargetInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let (outcome, target) = with_conn(&pool, move |conn| {
        let refs = ReferenceData::load(conn)?;
        let new = ingest::validate_target(&input, &refs).map_err(ApiError::validation)?;
        caller.require_committees([new.committee_id], |id| refs.committee_code(id))?;
        let written = db::targets::upsert(
            conn,
            &new,
            Author {
                changed_by: &caller.name,
                token_id: caller.token_id,
                reason: input.reason.as_deref(),
            },
        )
        .map_err(|error| super::observations::write_error(conn, error, None, false))?;
        let record = db::targets::find(conn, written.id)?
            .ok_or_else(|| ApiError::not_found("the target vanished"))?;
        Ok((written.outcome, Target::from(record)))
    })
    .await?;
    let mut response = if outcome == WriteOutcome::Created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header(("Location", format!("/api/v1/targets/{}", target.id)))
        .insert_header((
            actix_web::http::header::ETAG,
            super::observations::etag(target.revision),
        ))
        .json(target))
}

/// One target.
#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path, description = "Target id")),
    responses(
        (status = 200, description = "The target", body = Target, headers(("ETag" = String, description = "The target's revision"))),
        (status = 404, description = "No such target", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/targets/{id:\\d+}")]
pub async fn get_target(
    _: Reader,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let target = with_conn(&pool, move |conn| {
        db::targets::find(conn, id)?
            .map(Target::from)
            .ok_or_else(|| ApiError::not_found(format!("no target has id {id}")))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            super::observations::etag(target.revision),
        ))
        .json(target))
}

/// The history of a target, oldest first.
#[utoipa::path(
    tag = "targets",
    params(("id" = i64, Path, description = "Target id")),
    responses(
        (status = 200, description = "Every revision", body = Vec<TargetRevision>),
        (status = 404, description = "No such target", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/targets/{id:\\d+}/revisions")]
pub async fn list_target_revisions(
    _: Reader,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let revisions = with_conn(&pool, move |conn| {
        if db::targets::find(conn, id)?.is_none() {
            return Err(ApiError::not_found(format!("no target has id {id}")));
        }
        Ok(db::targets::revisions(conn, id)?
            .into_iter()
            .map(TargetRevision::from)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(revisions))
}
