//! Groups of committees, e.g. the seven northern business blocs.

use crate::auth::{Admin, Reader};
use std::collections::HashMap;

use actix_web::{delete, get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::committees::check_name;
use super::with_conn;
use crate::db::groups::{GroupChanges, GroupRow};
use crate::db::{self, write_transaction, AnyConnection, Pool};
use crate::domain::code::{CommitteeCode, GroupCode, SourceCode};
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_groups)
        .service(get_group)
        .service(create_group)
        .service(add_member)
        .service(remove_member);
}

/// A group of committees.
#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    #[schema(example = "northern-business-blocs")]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub description: Option<String>,
    /// Code of the source document that defines the group.
    pub source: Option<String>,
    pub member_count: i64,
}

/// A committee as listed in a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupMember {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

/// A group with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDetail {
    #[serde(flatten)]
    pub group: Group,
    pub members: Vec<GroupMember>,
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupInput {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Committee codes.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A committee to add to a group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    #[schema(example = "hanoi-business-bloc")]
    pub committee: String,
}

fn source_code(conn: &mut AnyConnection, id: Option<i64>) -> Result<Option<String>, ApiError> {
    Ok(match id {
        None => None,
        Some(id) => db::sources::list(conn)?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.code),
    })
}

fn detail(conn: &mut AnyConnection, row: GroupRow) -> Result<GroupDetail, ApiError> {
    let members: Vec<GroupMember> = db::groups::members(conn, row.id)?
        .into_iter()
        .map(|c| GroupMember {
            code: c.code,
            name_vi: c.name_vi,
            name_en: c.name_en,
        })
        .collect();
    let source = source_code(conn, row.source_id)?;
    Ok(GroupDetail {
        group: Group {
            code: row.code,
            name_vi: row.name_vi,
            name_en: row.name_en,
            description: row.description,
            source,
            member_count: members.len() as i64,
        },
        members,
    })
}

fn find_or_404(conn: &mut AnyConnection, code: &str) -> Result<GroupRow, ApiError> {
    db::groups::find_by_code(conn, code)?
        .ok_or_else(|| ApiError::not_found(format!("no group has code \"{code}\"")))
}

fn committee_or_404(conn: &mut AnyConnection, code: &str) -> Result<i64, ApiError> {
    Ok(db::committees::find_by_code(conn, code)?
        .ok_or_else(|| ApiError::not_found(format!("no committee has code \"{code}\"")))?
        .id)
}

/// Lists every group with its member count.
#[utoipa::path(tag = "groups", responses((status = 200, description = "All groups", body = Vec<Group>),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/groups")]
pub async fn list_groups(_: Reader, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let groups = with_conn(&pool, |conn| {
        let counts: HashMap<i64, i64> = db::groups::member_counts(conn)?.into_iter().collect();
        let sources: HashMap<i64, String> = db::sources::list(conn)?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        Ok(db::groups::list(conn)?
            .into_iter()
            .map(|row| Group {
                member_count: counts.get(&row.id).copied().unwrap_or(0),
                source: row.source_id.and_then(|id| sources.get(&id).cloned()),
                code: row.code,
                name_vi: row.name_vi,
                name_en: row.name_en,
                description: row.description,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(groups))
}

/// One group with its members.
#[utoipa::path(
    tag = "groups",
    params(("code" = String, Path, description = "Group code")),
    responses(
        (status = 200, description = "The group and its members", body = GroupDetail),
        (status = 404, description = "No such group", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/groups/{code}")]
pub async fn get_group(
    _: Reader,
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let group = with_conn(&pool, move |conn| {
        let row = find_or_404(conn, &code)?;
        detail(conn, row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(group))
}

/// Creates a group, optionally with its members.
#[utoipa::path(
    tag = "groups",
    request_body = NewGroupInput,
    responses(
        (status = 201, description = "Created", body = GroupDetail),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A group with this code exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown members", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/groups")]
pub async fn create_group(
    _: Admin,
    pool: web::Data<Pool>,
    body: web::Json<NewGroupInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let group = with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let mut errors = Vec::new();
            let code = GroupCode::parse(input.code.trim())
                .map_err(|e| errors.push(FieldError::new("code", "invalid_code", e.to_string())))
                .ok();
            check_name(&mut errors, "name_vi", &input.name_vi);
            check_name(&mut errors, "name_en", &input.name_en);
            if let Err(error) = FieldError::check_text(
                "description",
                input.description.as_deref(),
                crate::domain::text::DESCRIPTION,
            ) {
                errors.push(error);
            }
            let source_id = match input
                .source
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => None,
                Some(source) => match SourceCode::parse(source) {
                    Err(e) => {
                        errors.push(FieldError::new("source", "invalid_code", e.to_string()));
                        None
                    }
                    Ok(source) => {
                        let found = db::sources::find_by_code(conn, source.as_str())?;
                        if found.is_none() {
                            errors.push(FieldError::new(
                                "source",
                                "unknown_source",
                                format!("no source has code \"{source}\""),
                            ));
                        }
                        found.map(|s| s.id)
                    }
                },
            };
            let mut member_ids = Vec::new();
            for (i, member) in input.members.iter().enumerate() {
                let field = format!("members[{i}]");
                match CommitteeCode::parse(member.trim()) {
                    Err(e) => errors.push(FieldError::new(field, "invalid_code", e.to_string())),
                    Ok(member) => match db::committees::find_by_code(conn, member.as_str())? {
                        None => errors.push(FieldError::new(
                            field,
                            "unknown_committee",
                            format!("no committee has code \"{member}\""),
                        )),
                        Some(c) => member_ids.push(c.id),
                    },
                }
            }
            let Some(code) = code.filter(|_| errors.is_empty()) else {
                return Err(ApiError::validation(errors));
            };
            if db::groups::find_by_code(conn, code.as_str())?.is_some() {
                return Err(ApiError::conflict(format!(
                    "a group with code \"{code}\" already exists"
                )));
            }
            let description = input
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty());
            let row = db::groups::insert(
                conn,
                code.as_str(),
                GroupChanges {
                    name_vi: input.name_vi.trim(),
                    name_en: input.name_en.trim(),
                    description,
                    source_id,
                },
            )?;
            db::groups::add_members(conn, row.id, &member_ids)?;
            detail(conn, row)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/groups/{}", group.group.code)))
        .json(group))
}

/// Adds a committee to a group (adding a member twice changes nothing).
#[utoipa::path(
    tag = "groups",
    params(("code" = String, Path, description = "Group code")),
    request_body = MemberInput,
    responses(
        (status = 200, description = "The group with its members", body = GroupDetail),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/groups/{code}/members")]
pub async fn add_member(
    _: Admin,
    pool: web::Data<Pool>,
    code: web::Path<String>,
    body: web::Json<MemberInput>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let committee = body.into_inner().committee;
    let group = with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = find_or_404(conn, &code)?;
            let committee_id = committee_or_404(conn, committee.trim())?;
            db::groups::add_member(conn, row.id, committee_id)?;
            detail(conn, row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(group))
}

/// Removes a committee from a group.
#[utoipa::path(
    tag = "groups",
    params(
        ("code" = String, Path, description = "Group code"),
        ("committee" = String, Path, description = "Committee code"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such group, committee or membership", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[delete("/groups/{code}/members/{committee}")]
pub async fn remove_member(
    _: Admin,
    pool: web::Data<Pool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, committee) = path.into_inner();
    with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = find_or_404(conn, &code)?;
            let committee_id = committee_or_404(conn, &committee)?;
            if db::groups::remove_member(conn, row.id, committee_id)? {
                Ok(())
            } else {
                Err(ApiError::not_found(format!(
                    "\"{committee}\" is not a member of \"{code}\""
                )))
            }
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
