//! API tokens (admins only).

use crate::auth::Admin;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::with_conn;
use crate::auth::create_token;
use crate::db::tokens::TokenRow;
use crate::db::{self, Pool};
use crate::domain::code::CommitteeCode;
use crate::domain::role::Role;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_tokens)
        .service(issue_token)
        .service(revoke_token);
}

/// A token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Committees an editor may write for (and their sub-committees).
    pub committees: Vec<String>,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
    pub created_by: String,
    #[serde(serialize_with = "crate::timestamp::utc_opt")]
    pub revoked_at: Option<NaiveDateTime>,
}

impl Token {
    fn from_row(row: TokenRow, committees: Vec<String>) -> Self {
        Self {
            id: row.id,
            name: row.name,
            role: row.role,
            prefix: row.token_prefix,
            committees,
            created_at: row.created_at,
            created_by: row.created_by,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new token, with its secret: shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub token: Token,
    /// Send as `Authorization: Bearer <token>`. It is not stored and cannot be shown again.
    pub secret: String,
}

/// A token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// Who or what uses it; recorded in every revision it makes.
    #[schema(example = "thong-ke-haiphong")]
    pub name: String,
    pub role: Role,
    /// For an editor: the committees (with their sub-committees) it may write for.
    #[serde(default)]
    pub committees: Vec<String>,
}

/// Lists tokens (never their secrets).
#[utoipa::path(
    tag = "tokens",
    responses(
        (status = 200, description = "Every token, newest first", body = Vec<Token>),
        (status = 401, description = "No valid token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[get("/tokens")]
pub async fn list_tokens(_: Admin, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let tokens = with_conn(&pool, |conn| {
        Ok(db::tokens::list(conn)?
            .into_iter()
            .map(|(row, codes)| Token::from_row(row, codes))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Issues a token. Its secret is in this response only.
#[utoipa::path(
    tag = "tokens",
    request_body = TokenInput,
    responses(
        (status = 201, description = "Issued; keep the secret", body = IssuedToken),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name, or an editor without committees, or unknown committees", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/tokens")]
pub async fn issue_token(
    Admin(caller): Admin,
    pool: web::Data<Pool>,
    body: web::Json<TokenInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let issuer = caller.name;
    let issued = with_conn(&pool, move |conn| {
        let ids = resolve_scope(conn, &input)?;
        let (id, secret) = create_token(conn, input.name.trim(), input.role, &ids, &issuer)?;
        let (row, codes) = db::tokens::list(conn)?
            .into_iter()
            .find(|(row, _)| row.id == id)
            .ok_or_else(|| ApiError::not_found("the token vanished"))?;
        Ok(IssuedToken {
            token: Token::from_row(row, codes),
            secret,
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(issued))
}

/// Checks a token request and resolves its committees.
pub fn resolve_scope(
    conn: &mut db::AnyConnection,
    input: &TokenInput,
) -> Result<Vec<i64>, ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "invalid_name",
            "a token needs a name",
        ));
    } else if let Err(invalid) = crate::domain::text::check(name, crate::domain::text::TOKEN_NAME) {
        errors.push(FieldError::text("name", invalid));
    }
    let mut ids = Vec::new();
    for (i, code) in input.committees.iter().enumerate() {
        let field = format!("committees[{i}]");
        match CommitteeCode::parse(code.trim()) {
            Err(e) => errors.push(FieldError::new(field, "invalid_code", e.to_string())),
            Ok(code) => match db::committees::find_by_code(conn, code.as_str())? {
                None => errors.push(FieldError::new(
                    field,
                    "unknown_committee",
                    format!("no committee has code \"{code}\""),
                )),
                Some(c) => ids.push(c.id),
            },
        }
    }
    match (input.role, ids.is_empty()) {
        (Role::Editor, true) if errors.is_empty() => errors.push(FieldError::new(
            "committees",
            "editor_without_committees",
            "an editor token writes for the committees it names: give at least one",
        )),
        (Role::Admin | Role::Viewer, false) => errors.push(FieldError::new(
            "committees",
            "committees_for_editors_only",
            "only an editor token is limited to committees",
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Revokes a token: it stops working at once.
#[utoipa::path(
    tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such active token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[delete("/tokens/{id:\\d+}")]
pub async fn revoke_token(
    _: Admin,
    pool: web::Data<Pool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    with_conn(&pool, move |conn| {
        if db::tokens::revoke(conn, id)? {
            Ok(())
        } else {
            Err(ApiError::not_found(format!("no active token has id {id}")))
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
