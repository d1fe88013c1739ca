//! Source documents.

use crate::auth::Reader;
use actix_web::{get, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::with_conn;
use crate::db::sources::SourceRow;
use crate::db::{self, Pool};
use crate::error::ApiError;

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_sources).service(get_source);
}

/// A document figures are quoted from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Source {
    #[schema(example = "000_9bb696cf0f5cc08b")]
    pub code: String,
    pub title: String,
    pub publisher: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub url: Option<String>,
    pub author: Option<String>,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
}

impl From<SourceRow> for Source {
    fn from(row: SourceRow) -> Self {
        Self {
            code: row.code,
            title: row.title,
            publisher: row.publisher,
            published_on: row.published_on,
            url: row.url,
            author: row.author,
            created_at: row.created_at,
        }
    }
}

/// Lists every source document.
#[utoipa::path(tag = "sources", responses((status = 200, description = "All sources", body = Vec<Source>),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/sources")]
pub async fn list_sources(_: Reader, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let sources = with_conn(&pool, |conn| {
        Ok(db::sources::list(conn)?
            .into_iter()
            .map(Source::from)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(sources))
}

/// One source document.
#[utoipa::path(
    tag = "sources",
    params(("code" = String, Path, description = "Source code")),
    responses(
        (status = 200, description = "The source", body = Source),
        (status = 404, description = "No such source", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/sources/{code}")]
pub async fn get_source(
    _: Reader,
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let source = with_conn(&pool, move |conn| {
        db::sources::find_by_code(conn, &code)?
            .map(Source::from)
            .ok_or_else(|| ApiError::not_found(format!("no source has code \"{code}\"")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(source))
}
