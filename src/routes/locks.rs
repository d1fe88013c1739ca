//! Locks: close a committee × period to writes after approval, and lift them.

use crate::auth::{Admin, Reader};
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::with_conn;
use crate::db::locks::LockRow;
use crate::db::{self, write_transaction, Pool};
use crate::domain::code::CommitteeCode;
use crate::domain::period::PeriodCode;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_locks)
        .service(create_lock)
        .service(get_lock)
        .service(lift_lock);
}

/// A committee × period closed to writes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Lock {
    pub id: i64,
    pub committee: String,
    /// Figures whose period lies inside this one cannot be written.
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub locked_by: String,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub locked_at: NaiveDateTime,
    pub reason: Option<String>,
    /// Set once the lock was lifted.
    pub unlocked_by: Option<String>,
    #[serde(serialize_with = "crate::timestamp::utc_opt")]
    pub unlocked_at: Option<NaiveDateTime>,
    pub active: bool,
}

impl Lock {
    fn from_row(row: LockRow, committee: String) -> Self {
        Self {
            id: row.id,
            committee,
            period: row.period_code.code(),
            period_start: row.period_start,
            period_end: row.period_end,
            locked_by: row.locked_by,
            locked_at: row.locked_at,
            reason: row.reason,
            active: row.unlocked_at.is_none(),
            unlocked_by: row.unlocked_by,
            unlocked_at: row.unlocked_at,
        }
    }
}

/// A lock to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockInput {
    #[schema(example = "haiphong-business-bloc")]
    pub committee: String,
    /// Any accepted period form.
    #[schema(example = "2022-Q1")]
    pub period: String,
    /// Why, e.g. "approved by the standing committee".
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LockQuery {
    /// Also list lifted locks.
    pub include_lifted: Option<bool>,
}

/// Lists locks, newest first.
#[utoipa::path(tag = "locks", params(LockQuery), responses((status = 200, description = "The locks", body = Vec<Lock>),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/locks")]
pub async fn list_locks(
    _: Reader,
    pool: web::Data<Pool>,
    query: web::Query<LockQuery>,
) -> Result<HttpResponse, ApiError> {
    let include_lifted = query.include_lifted.unwrap_or(false);
    let locks = with_conn(&pool, move |conn| {
        Ok(db::locks::list(conn, include_lifted)?
            .into_iter()
            .map(|(row, code)| Lock::from_row(row, code))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(locks))
}

/// Locks a committee × period: from now on its figures (and those of every
/// period inside it) cannot be written, updated or deleted.
#[utoipa::path(
    tag = "locks",
    request_body = LockInput,
    responses(
        (status = 201, description = "Locked", body = Lock),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already locked", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown committee or bad period", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/locks")]
pub async fn create_lock(
    Admin(caller): Admin,
    pool: web::Data<Pool>,
    body: web::Json<LockInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let locked_by = caller.name;
    let lock = with_conn(&pool, move |conn| {
        let mut errors = Vec::new();
        let committee = match CommitteeCode::parse(input.committee.trim()) {
            Err(e) => {
                errors.push(FieldError::new("committee", "invalid_code", e.to_string()));
                None
            }
            Ok(code) => {
                let found = db::committees::find_by_code(conn, code.as_str())?;
                if found.is_none() {
                    errors.push(FieldError::new(
                        "committee",
                        "unknown_committee",
                        format!("no committee has code \"{code}\""),
                    ));
                }
                found
            }
        };
        let period = PeriodCode::parse(&input.period)
            .map_err(|e| errors.push(FieldError::new("period", "invalid_period", e.to_string())))
            .ok();
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if let Err(error) = FieldError::check_text("reason", reason, crate::domain::text::REASON) {
            errors.push(error);
        }
        let (Some(committee), Some(period)) = (committee, period) else {
            return Err(ApiError::validation(errors));
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        write_transaction(conn, |conn| {
            if let Some(existing) = db::locks::active(conn, &[committee.id])?
                .into_iter()
                .find(|l| l.covers(&period))
            {
                return Err(ApiError::conflict(format!(
                    "{} {} is already locked by lock {} ({} since {})",
                    committee.code, period, existing.id, existing.locked_by, existing.locked_at
                )));
            }
            let id = db::locks::insert(conn, committee.id, &period, &locked_by, reason)?;
            let (row, code) = db::locks::find(conn, id)?
                .ok_or_else(|| ApiError::not_found("the lock vanished"))?;
            Ok(Lock::from_row(row, code))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/locks/{}", lock.id)))
        .json(lock))
}

/// One lock.
#[utoipa::path(
    tag = "locks",
    params(("id" = i64, Path, description = "Lock id")),
    responses(
        (status = 200, description = "The lock", body = Lock),
        (status = 404, description = "No such lock", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/locks/{id:\\d+}")]
pub async fn get_lock(
    _: Reader,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lock = with_conn(&pool, move |conn| {
        db::locks::find(conn, id)?
            .map(|(row, code)| Lock::from_row(row, code))
            .ok_or_else(|| ApiError::not_found(format!("no lock has id {id}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(lock))
}

/// Lifts a lock (an admin action); the lock stays in the list as lifted.
#[utoipa::path(
    tag = "locks",
    params(("id" = i64, Path, description = "Lock id")),
    responses(
        (status = 204, description = "Lifted"),
        (status = 404, description = "No such active lock", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[delete("/locks/{id:\\d+}")]
pub async fn lift_lock(
    Admin(caller): Admin,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let unlocked_by = caller.name;
    with_conn(&pool, move |conn| {
        if db::locks::lift(conn, id, &unlocked_by)? {
            Ok(())
        } else {
            Err(ApiError::not_found(format!("no active lock has id {id}")))
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
