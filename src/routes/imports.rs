//! Bulk import of figures from a file.

use crate::auth::Editor;
use std::io::{Seek, SeekFrom, Write};

use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::config::Config;
use crate::db::imports::Strategy;
use crate::db::Pool;
use crate::domain::locale::Locale;
use crate::error::{ApiError, FieldError};
use crate::import::{import, ImportOptions, ImportSummary, RowListing};
use crate::tabular::Format;

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(create_import);
}

/// How to import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv`, `json` or `xlsx`; by default from the Content-Type.
    pub format: Option<String>,
    /// `create`, `update`, `create_and_update` (default) or `delete`.
    pub strategy: Option<Strategy>,
    /// Check everything and answer with the summary, writing nothing.
    pub dry_run: Option<bool>,
    /// `true` (default): one rejected row and nothing is written. `false`: good rows are written, bad ones listed.
    pub atomic: Option<bool>,
    /// `vi` for Vietnamese numbers (27.701 and 975,9), units (tỷ đồng, triệu USD),
    /// qualifiers (trên, xấp xỉ) and statuses (ước đạt); `standard` by default.
    pub locale: Option<Locale>,
    /// Why these figures are entered; kept in every revision.
    pub reason: Option<String>,
    /// `true`: a row whose value is more than the plausibility factor (default
    /// 100×) above or below the committee's previous figure of the indicator is
    /// rejected (`implausible_change`) instead of written with a warning.
    pub strict: Option<bool>,
    /// Which rows the summary lists in `listed_rows`, each with its parsed
    /// figure and what the import does with it: `none` (default), `changes`
    /// (all but unchanged rows) or `all`. At most the first 1000 are listed
    /// (`rows_truncated` says when there were more).
    pub rows: Option<RowListing>,
}

/// A JSON import file: the object a JSON export writes (schema only; the file
/// is read as a stream). A bare array of figures is read too; it is left out
/// of the schema because generated clients cannot tell a list from an object
/// in a body that may be either.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ImportJson {
    pub observations: Vec<ImportRow>,
}

/// A figure in a JSON import: the columns of an export (`id` and `revision`
/// are ignored). Numbers may be JSON numbers or strings.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ImportRow {
    pub id: Option<i64>,
    pub revision: Option<i32>,
    pub committee: String,
    pub indicator: String,
    pub period: String,
    /// `dimension=value` pairs joined by `;`; empty or `null` for the total.
    pub breakdown: Option<String>,
    pub value: crate::domain::value::ExactDecimal,
    /// Optional when the indicator's unit is meant.
    pub unit: Option<String>,
    pub scale: Option<i32>,
    pub status: Option<String>,
    pub qualifier: Option<String>,
    pub reported_yoy_pct: Option<crate::domain::value::ExactDecimal>,
    pub reported_yoy_qualifier: Option<String>,
    pub reported_share_pct: Option<crate::domain::value::ExactDecimal>,
    pub reported_share_qualifier: Option<String>,
    pub source: Option<String>,
    pub source_quote: Option<String>,
}

/// A refused import: the problem, with the summary of what was found.
/// A refused import: the RFC 7807 members, then exactly the members of the
/// summary a 200 answers (one shape for both). `errors` is the summary's list
/// of rejected rows (row, column, code, message).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportProblem {
    /// URI identifying the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    #[serde(flatten)]
    pub summary: ImportSummary,
}

/// What a 422 of `POST /imports` is: rows were rejected ([`ImportProblem`],
/// with the summary) or a parameter or the file as a whole was refused (a
/// plain problem). Any of (not one of): an `ImportProblem` is also a problem.
pub struct ImportRefusal;

impl utoipa::PartialSchema for ImportRefusal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::AnyOfBuilder;
        use utoipa::openapi::Ref;
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("ImportProblem"))
            .item(Ref::from_schema_name("Problem"))
            .description(Some(
                "Rows were rejected (the summary's members beside the problem's), or a parameter or the file was refused",
            ))
            .into()
    }
}

impl ToSchema for ImportRefusal {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((ImportProblem::name().into(), ImportProblem::schema()));
        ImportProblem::schemas(schemas);
        schemas.push((
            crate::error::Problem::name().into(),
            crate::error::Problem::schema(),
        ));
        crate::error::Problem::schemas(schemas);
    }
}

/// Imports figures from CSV, JSON or XLSX, as DHIS2's dataValueSets: strategy,
/// dry run, atomic by default, a summary with every rejected row by number.
/// The columns are `committee, indicator, period, breakdown, value, unit, scale,
/// status, qualifier, reported_yoy_pct, reported_yoy_qualifier, reported_share_pct,
/// reported_share_qualifier, source, source_quote` (an export's `id` and `revision` are ignored).
#[utoipa::path(
    tag = "imports",
    params(ImportQuery),
    request_body(description = "The file: CSV, JSON (an array of figures or an export's {\"observations\": [...]}) or XLSX, named by its Content-Type (or by format=)",
        content(
            (crate::routes::export::CsvFile = "text/csv"),
            (ImportJson = "application/json"),
            (crate::routes::export::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
    responses(
        (status = 200, description = "Imported (or, for a dry run or a non-atomic import, the summary with any rejected rows)", body = ImportSummary),
        (status = 400, description = "The file cannot be read or its columns are wrong; nothing was written", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unknown format: give format= or a Content-Type", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows were rejected (atomic import): nothing was written; every rejected row is listed (an ImportProblem); or a parameter or the file was refused (a Problem)", body = ImportRefusal, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["editor", "admin"]))
)]
#[post("/imports")]
pub async fn create_import(
    Editor(caller): Editor,
    pool: web::Data<Pool>,
    lane: web::Data<super::HeavyLane>,
    config: web::Data<Config>,
    request: HttpRequest,
    query: web::Query<ImportQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let format = match query.format.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(name) => Format::from_name(name)
            .ok_or_else(|| ApiError::invalid_parameter("format", "invalid_format", "format is csv, json or xlsx"))?,
        None => request
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(Format::from_content_type)
            .ok_or_else(|| {
                ApiError::UnsupportedMediaType(
                    "send CSV (text/csv), JSON (application/json) or XLSX, or name the format with format=".into(),
                )
            })?,
    };
    crate::error::FieldError::check_text(
        "reason",
        query.reason.as_deref(),
        crate::domain::text::REASON,
    )
    .map_err(|e| ApiError::validation(vec![e]))?;
    // The body goes to a temporary file so that a large import never sits in memory.
    let limit = config.max_import_bytes;
    let mut file = tempfile::tempfile().map_err(|e| ApiError::Internal(e.into()))?;
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
        size += chunk.len();
        if size > limit {
            return Err(ApiError::PayloadTooLarge(format!(
                "an import file may have at most {limit} bytes"
            )));
        }
        file.write_all(&chunk)
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    if size == 0 {
        return Err(ApiError::BadRequest {
            detail: "the file is empty".into(),
            errors: vec![FieldError::new(
                "file",
                "empty",
                "send the file as the request body",
            )],
        });
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let options = ImportOptions {
        format,
        strategy: query.strategy.unwrap_or_default(),
        dry_run: query.dry_run.unwrap_or(false),
        atomic: query.atomic.unwrap_or(true),
        locale: query.locale.unwrap_or_default(),
        plausibility: crate::db::imports::Plausibility {
            factor: config.plausibility_factor,
            strict: query.strict.unwrap_or(false),
        },
        rows: query.rows.unwrap_or_default(),
    };
    let reason = query.reason.clone();
    let summary = super::with_heavy_conn(&pool, &lane, move |conn| {
        Ok(import(
            conn,
            file,
            options,
            &caller,
            reason.as_deref(),
            |_| {},
        )?)
    })
    .await?;
    if summary.rejected > 0 && summary.atomic {
        let problem = ApiError::Validation {
            detail: format!(
                "{} of {} rows were rejected; nothing was written (atomic import). Fix them, or import with atomic=false to write the good rows",
                summary.rejected, summary.rows
            ),
            errors: Vec::new(),
        }
        .problem();
        let body = ImportProblem {
            problem_type: problem.problem_type,
            title: problem.title,
            status: problem.status,
            detail: problem.detail,
            summary,
        };
        return Ok(HttpResponse::UnprocessableEntity()
            .content_type("application/problem+json")
            .json(body));
    }
    Ok(HttpResponse::Ok().json(summary))
}
