//! Reporting periods: parse any accepted form.

use crate::auth::Reader;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::period::{Frequency, PeriodCode, ACCEPTED_FORMS};
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(get_period);
}

/// A parsed period.
#[derive(Debug, Serialize, ToSchema)]
pub struct Period {
    /// Canonical code.
    #[schema(example = "2022-Q1")]
    pub code: String,
    #[schema(value_type = String)]
    pub frequency: Frequency,
    pub year: i32,
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// The same period a year earlier.
    pub previous_year: Option<String>,
    /// The period just before (none for year-to-date periods).
    pub previous_period: Option<String>,
    /// How a Vietnamese report writes it.
    #[schema(example = "quý I/2022")]
    pub label_vi: String,
}

impl From<&PeriodCode> for Period {
    fn from(period: &PeriodCode) -> Self {
        Self {
            code: period.code(),
            frequency: period.frequency(),
            year: period.year(),
            start: period.start(),
            end: period.end(),
            previous_year: period.same_period_previous_year().map(|p| p.code()),
            previous_period: period.previous_period().map(|p| p.code()),
            label_vi: period.vietnamese_label(),
        }
    }
}

/// Parses a period code in any accepted form (canonical, DHIS2 or Vietnamese).
#[utoipa::path(
    tag = "periods",
    params(("code" = String, Path, description = "e.g. `2022-Q1`, `2022Q1`, `quý I/2022`, `6 tháng đầu năm 2021`")),
    responses(
        (status = 200, description = "The parsed period", body = Period),
        (status = 400, description = "Not a period; the problem lists the accepted forms", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/periods/{code}")]
pub async fn get_period(_: Reader, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let period = PeriodCode::parse(&code).map_err(|e| ApiError::BadRequest {
        detail: e.to_string(),
        errors: vec![FieldError::new(
            "code",
            "invalid_period",
            format!("accepted forms: {}", ACCEPTED_FORMS.join("; ")),
        )],
    })?;
    Ok(HttpResponse::Ok().json(Period::from(&period)))
}
