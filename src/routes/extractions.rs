//! Figures proposed from a pasted report: nothing is written.

use crate::auth::Reader;
use std::collections::HashMap;

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::with_conn;
use crate::db::{self, Pool};
use crate::error::{ApiError, FieldError};
use crate::extract::{self, Candidate, CatalogIndicator, IgnoredNumber, MAX_TEXT_CHARS};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(create_extraction);
}

/// Longest title or URL accepted, in characters.
const MAX_LABEL_CHARS: usize = 2_000;

/// A report to read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractionRequest {
    /// The report's text, as published (at most 100,000 characters).
    #[schema(min_length = 1, max_length = 100000, pattern = "\\S")]
    pub text: String,
    /// `YYYY-MM-DD`: dates "Hiện nay" and supplies a year the text leaves out.
    #[serde(default)]
    #[schema(example = "2021-12-28")]
    pub published_on: Option<String>,
    /// The committee the report is about; copied into every candidate.
    #[serde(default)]
    #[schema(example = "haiphong-business-bloc")]
    pub committee: Option<String>,
    /// The report's headline, echoed for the source of accepted figures.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// The source the candidates would be filed under once accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractionSource {
    pub title: Option<String>,
    pub url: Option<String>,
    pub published_on: Option<NaiveDate>,
}

/// Proposed figures and the numbers set aside. Review, edit, then accept
/// with `POST /api/v1/observations/batch`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractionResponse {
    /// How `span` offsets count: Unicode scalar values of `text` as sent, end exclusive.
    #[schema(example = "unicode_scalar_values")]
    pub offsets: &'static str,
    pub source: ExtractionSource,
    pub candidates: Vec<Candidate>,
    pub ignored: Vec<IgnoredNumber>,
}

/// Reads the figures of a report's text into candidate observations.
///
/// Rule-based and offline: Vietnamese numbers, units, qualifiers (trên, hơn,
/// gần, xấp xỉ, khoảng), statuses (ước đạt), comparisons (tăng/giảm X% so cùng
/// kỳ, chiếm X%, đạt X% kế hoạch, tăng X tỷ đồng), periods from the sentence or
/// its context, and the indicator from the catalog. Every candidate quotes the
/// clause it came from with its character offsets; every other number is
/// listed with the reason it was set aside. Nothing is stored.
#[utoipa::path(
    tag = "extractions",
    request_body = ExtractionRequest,
    responses(
        (status = 200, description = "Candidates and numbers set aside", body = ExtractionResponse),
        (status = 400, description = "Malformed JSON or wrong field types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than the server's body limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty text, text over 100,000 characters, an invalid date or an unknown committee", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[post("/extractions")]
pub async fn create_extraction(
    _: Reader,
    pool: web::Data<Pool>,
    body: web::Json<ExtractionRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let mut errors = Vec::new();
    // A body over the byte limit is refused (413) before it is parsed; a text
    // within it but longer than the schema's `maxLength` is a field error.
    if request.text.chars().nth(MAX_TEXT_CHARS).is_some() {
        return Err(super::reject(vec![FieldError::new(
            "text",
            "too_long",
            format!(
                "the text has more than {MAX_TEXT_CHARS} characters; send one report at a time"
            ),
        )]));
    }
    if request.text.trim().is_empty() {
        errors.push(FieldError::new("text", "empty", "the text is empty"));
    }
    let published_on = match request.published_on.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                errors.push(FieldError::new(
                    "published_on",
                    "invalid_date",
                    format!("{raw:?} is not a date: use YYYY-MM-DD, e.g. 2021-12-28"),
                ));
                None
            }
        },
    };
    for (field, value) in [("title", &request.title), ("url", &request.url)] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().nth(MAX_LABEL_CHARS).is_some())
        {
            errors.push(FieldError::new(
                field,
                "too_long",
                format!("{field} has more than {MAX_LABEL_CHARS} characters"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(super::reject(errors));
    }

    let committee = request
        .committee
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let text = request.text;
    let extraction = with_conn(&pool, move |conn| {
        if let Some(code) = committee.as_deref() {
            if db::committees::find_by_code(conn, code)?.is_none() {
                return Err(super::reject(vec![FieldError::new(
                    "committee",
                    "unknown_committee",
                    format!("no committee has code {code:?}"),
                )]));
            }
        }
        extract_from(conn, &text, published_on, committee.as_deref())
    })
    .await?;

    Ok(HttpResponse::Ok().json(ExtractionResponse {
        offsets: "unicode_scalar_values",
        source: ExtractionSource {
            title: request.title,
            url: request.url,
            published_on,
        },
        candidates: extraction.candidates,
        ignored: extraction.ignored,
    }))
}

/// The figures of a report, read against the indicator catalog: what
/// `POST /extractions` answers and the web app's review screen shows.
pub fn extract_from(
    conn: &mut db::AnyConnection,
    text: &str,
    published_on: Option<NaiveDate>,
    committee: Option<&str>,
) -> Result<extract::Extraction, ApiError> {
    let rows = db::indicators::list(conn)?;
    let codes: HashMap<i64, String> = rows.iter().map(|r| (r.id, r.code.clone())).collect();
    let catalog: Vec<CatalogIndicator> = rows
        .into_iter()
        .map(|row| CatalogIndicator {
            denominator: row.denominator_id.and_then(|id| codes.get(&id).cloned()),
            code: row.code,
            name_vi: row.name_vi,
            unit: row.unit,
            scale: row.scale,
            measure_kind: row.measure_kind,
        })
        .collect();
    // Pure and fast (a 10,000-character report in well under 10 ms), but
    // run here, off the async workers, like everything that scales with input.
    Ok(extract::extract(text, published_on, committee, &catalog))
}
