//! Committees: the organisations that report.

use crate::auth::{Admin, Reader};
use std::collections::HashMap;

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::with_conn;
use crate::db::committees::{CommitteeChanges, CommitteeRow};
use crate::db::{self, write_transaction, AnyConnection, Pool};
use crate::domain::code::CommitteeCode;
use crate::domain::committee::CommitteeKind;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_committees)
        .service(get_committee)
        .service(create_committee)
        .service(update_committee)
        .service(delete_committee);
}

/// A reporting organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Committee {
    #[schema(example = "haiphong-business-bloc")]
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    pub kind: CommitteeKind,
    /// Code of the parent committee.
    pub parent: Option<String>,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub updated_at: NaiveDateTime,
}

impl Committee {
    fn from_row(row: CommitteeRow, parent: Option<String>) -> Self {
        Self {
            code: row.code,
            name_vi: row.name_vi,
            name_en: row.name_en,
            kind: row.kind,
            parent,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new committee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommitteeInput {
    /// Stable code: lowercase ASCII letters, digits, `-`, `_`.
    #[schema(example = "haiduong-business-bloc")]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: CommitteeKind,
    /// Code of the parent committee.
    #[serde(default)]
    pub parent: Option<String>,
}

/// Every field of a committee but its code, which never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteeUpdate {
    pub name_vi: String,
    pub name_en: String,
    pub kind: CommitteeKind,
    #[serde(default)]
    pub parent: Option<String>,
}

/// A name is required and follows the rule for names.
pub(crate) fn check_name(errors: &mut Vec<FieldError>, field: &str, name: &str) {
    if name.trim().is_empty() {
        errors.push(FieldError::new(field, "invalid_name", "a name is required"));
    } else if let Err(invalid) = crate::domain::text::check(name, crate::domain::text::NAME) {
        errors.push(FieldError::text(field, invalid));
    }
}

/// Resolves an optional parent code, for a committee `own_id` (None when new).
fn resolve_parent(
    conn: &mut AnyConnection,
    parent: Option<&str>,
    own_id: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<i64>, ApiError> {
    let Some(code) = parent.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let Some(parent) = db::committees::find_by_code(conn, code)? else {
        errors.push(FieldError::new(
            "parent",
            "unknown_committee",
            format!("no committee has code \"{code}\""),
        ));
        return Ok(None);
    };
    if let Some(own_id) = own_id {
        if db::committees::is_self_or_ancestor(conn, own_id, parent.id)? {
            errors.push(FieldError::new(
                "parent",
                "parent_cycle",
                "a committee cannot be its own ancestor",
            ));
        }
    }
    Ok(Some(parent.id))
}

fn parent_code(conn: &mut AnyConnection, row: &CommitteeRow) -> Result<Option<String>, ApiError> {
    Ok(match row.parent_id {
        Some(id) => Some(db::committees::find(conn, id)?.code),
        None => None,
    })
}

fn find_or_404(conn: &mut AnyConnection, code: &str) -> Result<CommitteeRow, ApiError> {
    db::committees::find_by_code(conn, code)?
        .ok_or_else(|| ApiError::not_found(format!("no committee has code \"{code}\"")))
}

/// Lists every committee, ordered by code.
#[utoipa::path(tag = "committees", responses((status = 200, description = "All committees", body = Vec<Committee>),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/committees")]
pub async fn list_committees(_: Reader, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let committees = with_conn(&pool, |conn| {
        let rows = db::committees::list(conn)?;
        let codes: HashMap<i64, String> = rows.iter().map(|r| (r.id, r.code.clone())).collect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let parent = row.parent_id.and_then(|id| codes.get(&id).cloned());
                Committee::from_row(row, parent)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(committees))
}

/// One committee.
#[utoipa::path(
    tag = "committees",
    params(("code" = String, Path, description = "Committee code")),
    responses(
        (status = 200, description = "The committee", body = Committee),
        (status = 404, description = "No such committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/committees/{code}")]
pub async fn get_committee(
    _: Reader,
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let committee = with_conn(&pool, move |conn| {
        let row = find_or_404(conn, &code)?;
        let parent = parent_code(conn, &row)?;
        Ok(Committee::from_row(row, parent))
    })
    .await?;
    Ok(HttpResponse::Ok().json(committee))
}

/// Creates a committee.
#[utoipa::path(
    tag = "committees",
    request_body = NewCommitteeInput,
    responses(
        (status = 201, description = "Created", body = Committee),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A committee with this code exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/committees")]
pub async fn create_committee(
    _: Admin,
    pool: web::Data<Pool>,
    body: web::Json<NewCommitteeInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let committee = with_conn(&pool, move |conn| {
        let mut errors = Vec::new();
        let code = CommitteeCode::parse(input.code.trim())
            .map_err(|e| errors.push(FieldError::new("code", "invalid_code", e.to_string())))
            .ok();
        check_name(&mut errors, "name_vi", &input.name_vi);
        check_name(&mut errors, "name_en", &input.name_en);
        write_transaction(conn, |conn| {
            let parent_id = resolve_parent(conn, input.parent.as_deref(), None, &mut errors)?;
            let Some(code) = code.filter(|_| errors.is_empty()) else {
                return Err(ApiError::validation(errors));
            };
            if db::committees::find_by_code(conn, code.as_str())?.is_some() {
                return Err(ApiError::conflict(format!(
                    "a committee with code \"{code}\" already exists"
                )));
            }
            let row = db::committees::insert(
                conn,
                code.as_str(),
                CommitteeChanges {
                    name_vi: input.name_vi.trim(),
                    name_en: input.name_en.trim(),
                    kind: input.kind,
                    parent_id,
                },
            )?;
            let parent = parent_code(conn, &row)?;
            Ok(Committee::from_row(row, parent))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/committees/{}", committee.code)))
        .json(committee))
}

/// Replaces a committee's names, kind and parent.
#[utoipa::path(
    tag = "committees",
    params(("code" = String, Path, description = "Committee code")),
    request_body = CommitteeUpdate,
    responses(
        (status = 200, description = "Updated", body = Committee),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/committees/{code}")]
pub async fn update_committee(
    _: Admin,
    pool: web::Data<Pool>,
    code: web::Path<String>,
    body: web::Json<CommitteeUpdate>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let input = body.into_inner();
    let committee = with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = find_or_404(conn, &code)?;
            let mut errors = Vec::new();
            check_name(&mut errors, "name_vi", &input.name_vi);
            check_name(&mut errors, "name_en", &input.name_en);
            let parent_id =
                resolve_parent(conn, input.parent.as_deref(), Some(row.id), &mut errors)?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let row = db::committees::update(
                conn,
                row.id,
                CommitteeChanges {
                    name_vi: input.name_vi.trim(),
                    name_en: input.name_en.trim(),
                    kind: input.kind,
                    parent_id,
                },
            )?;
            let parent = parent_code(conn, &row)?;
            Ok(Committee::from_row(row, parent))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(committee))
}

/// Deletes a committee that has no figures, targets or sub-committees.
#[utoipa::path(
    tag = "committees",
    params(("code" = String, Path, description = "Committee code")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The committee still has data", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[delete("/committees/{code}")]
pub async fn delete_committee(
    _: Admin,
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = find_or_404(conn, &code)?;
            let dependents = db::committees::dependents(conn, row.id)?;
            if dependents.any() {
                return Err(ApiError::conflict(format!(
                    "committee \"{code}\" still has {} figure(s), {} target(s) and {} sub-committee(s); delete or move them first",
                    dependents.observations, dependents.targets, dependents.children
                )));
            }
            db::committees::delete(conn, row.id)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
