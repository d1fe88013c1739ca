//! Indicators: what is measured, its unit and how it aggregates.

use crate::auth::{Admin, Reader};
use std::collections::HashMap;

use actix_web::{get, post, put, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::committees::check_name;
use super::with_conn;
use crate::db::decimal::StoredDecimal;
use crate::db::indicators::{IndicatorChanges, IndicatorRow};
use crate::db::{self, write_transaction, AnyConnection, Pool};
use crate::domain::code::IndicatorCode;
use crate::domain::indicator::{
    check_kind_fits_unit, check_scale, Bounds, Direction, MeasureKind, Unit,
};
use crate::domain::value::ExactDecimal;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(list_indicators)
        .service(get_indicator)
        .service(create_indicator)
        .service(update_indicator);
}

/// What is measured.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator {
    #[schema(example = "revenue")]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub unit: Unit,
    /// Power of ten values are expressed in: 9 for tỷ (billion), 6 for triệu (million).
    #[schema(example = 9)]
    pub scale: i32,
    pub measure_kind: MeasureKind,
    pub direction: Direction,
    /// Indicator a reported share of this one is computed against; for a ratio, its denominator.
    pub denominator: Option<String>,
    /// For a ratio: the indicator divided by `denominator` (× 100), so the ratio can be
    /// recomputed for longer periods and group totals.
    pub numerator: Option<String>,
    pub description: Option<String>,
    /// Smallest plausible value, in the indicator's unit and scale; figures
    /// and targets below it are refused (422). `null`: no lower bound.
    #[schema(value_type = Option<String>, example = "0")]
    pub min_value: Option<rust_decimal::Decimal>,
    /// Largest plausible value (100 for a percentage of a total; none for a
    /// percent of target, which may exceed 100). `null`: no upper bound.
    #[schema(value_type = Option<String>, example = "100")]
    pub max_value: Option<rust_decimal::Decimal>,
    /// Only whole numbers are plausible (counts always are).
    pub whole_number: bool,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub updated_at: NaiveDateTime,
}

impl Indicator {
    fn from_row(row: IndicatorRow, codes: &HashMap<i64, String>) -> Self {
        let code_of = |id: Option<i64>| id.and_then(|id| codes.get(&id).cloned());
        Self {
            code: row.code,
            name_vi: row.name_vi,
            name_en: row.name_en,
            unit: row.unit,
            scale: row.scale,
            measure_kind: row.measure_kind,
            direction: row.direction,
            denominator: code_of(row.denominator_id),
            numerator: code_of(row.numerator_id),
            description: row.description,
            min_value: row.min_value.map(Into::into),
            max_value: row.max_value.map(Into::into),
            whole_number: row.whole_number,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new indicator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIndicatorInput {
    #[schema(example = "profit")]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub unit: Unit,
    pub scale: i32,
    pub measure_kind: MeasureKind,
    pub direction: Direction,
    #[serde(default)]
    pub denominator: Option<String>,
    /// For a ratio only, with `denominator`.
    #[serde(default)]
    pub numerator: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Smallest plausible value, in the indicator's unit and scale.
    #[serde(default)]
    pub min_value: Option<ExactDecimal>,
    /// Largest plausible value.
    #[serde(default)]
    pub max_value: Option<ExactDecimal>,
    /// Only whole numbers are plausible; `false` when omitted.
    #[serde(default)]
    pub whole_number: bool,
}

impl NewIndicatorInput {
    fn split(self) -> (String, IndicatorUpdate) {
        let fields = IndicatorUpdate {
            name_vi: self.name_vi,
            name_en: self.name_en,
            unit: self.unit,
            scale: self.scale,
            measure_kind: self.measure_kind,
            direction: self.direction,
            denominator: self.denominator,
            numerator: self.numerator,
            description: self.description,
            min_value: self.min_value,
            max_value: self.max_value,
            whole_number: self.whole_number,
        };
        (self.code, fields)
    }
}

/// Every field of an indicator but its code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorUpdate {
    pub name_vi: String,
    pub name_en: String,
    pub unit: Unit,
    pub scale: i32,
    pub measure_kind: MeasureKind,
    pub direction: Direction,
    #[serde(default)]
    pub denominator: Option<String>,
    /// For a ratio only, with `denominator`.
    #[serde(default)]
    pub numerator: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Smallest plausible value, in the indicator's unit and scale; omitted: none.
    #[serde(default)]
    pub min_value: Option<ExactDecimal>,
    /// Largest plausible value; omitted: none.
    #[serde(default)]
    pub max_value: Option<ExactDecimal>,
    /// Only whole numbers are plausible; `false` when omitted.
    #[serde(default)]
    pub whole_number: bool,
}

impl IndicatorUpdate {
    fn bounds(&self) -> Bounds {
        Bounds {
            min: self.min_value.map(ExactDecimal::into_inner),
            max: self.max_value.map(ExactDecimal::into_inner),
            whole: self.whole_number,
        }
    }
}

/// Codes of every indicator by id, to show references as codes.
fn indicator_codes(conn: &mut AnyConnection) -> Result<HashMap<i64, String>, ApiError> {
    Ok(db::indicators::list(conn)?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect())
}

fn find_or_404(conn: &mut AnyConnection, code: &str) -> Result<IndicatorRow, ApiError> {
    db::indicators::find_by_code(conn, code)?
        .ok_or_else(|| ApiError::not_found(format!("no indicator has code \"{code}\"")))
}

/// Checks the fields and resolves the numerator and denominator.
fn validate(
    conn: &mut AnyConnection,
    fields: &IndicatorUpdate,
    own_id: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<References, ApiError> {
    check_name(errors, "name_vi", &fields.name_vi);
    check_name(errors, "name_en", &fields.name_en);
    if let Err(message) = check_scale(fields.scale) {
        errors.push(FieldError::new("scale", "invalid_scale", message));
    }
    if let Err(message) = fields.bounds().check_definition() {
        errors.push(FieldError::new("min_value", "invalid_bounds", message));
    }
    if let Err(message) = check_kind_fits_unit(fields.measure_kind, fields.unit) {
        errors.push(FieldError::new(
            "measure_kind",
            "kind_unit_mismatch",
            message,
        ));
    }
    if let Err(error) = FieldError::check_text(
        "description",
        fields.description.as_deref(),
        crate::domain::text::DESCRIPTION,
    ) {
        errors.push(error);
    }
    let denominator_id = reference(
        conn,
        "denominator",
        fields.denominator.as_deref(),
        own_id,
        errors,
    )?;
    let numerator_id = reference(
        conn,
        "numerator",
        fields.numerator.as_deref(),
        own_id,
        errors,
    )?;
    match (
        fields.measure_kind,
        numerator_id.is_some(),
        denominator_id.is_some(),
    ) {
        (MeasureKind::Ratio, true, false) | (MeasureKind::Ratio, false, true) => {
            errors.push(FieldError::new(
                "numerator",
                "incomplete_ratio",
                "a ratio names both its numerator and its denominator, or neither",
            ))
        }
        (MeasureKind::Flow | MeasureKind::Stock, true, _) => errors.push(FieldError::new(
            "numerator",
            "numerator_without_ratio",
            "only a ratio indicator has a numerator",
        )),
        _ => {}
    }
    Ok(References {
        denominator_id,
        numerator_id,
    })
}

/// The indicators an indicator refers to.
#[derive(Debug, Clone, Copy)]
struct References {
    denominator_id: Option<i64>,
    numerator_id: Option<i64>,
}

/// Resolves an optional indicator code given in `field`.
fn reference(
    conn: &mut AnyConnection,
    field: &str,
    code: Option<&str>,
    own_id: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<i64>, ApiError> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    match db::indicators::find_by_code(conn, code)? {
        None => {
            errors.push(FieldError::new(
                field,
                "unknown_indicator",
                format!("no indicator has code \"{code}\""),
            ));
            Ok(None)
        }
        Some(found) if Some(found.id) == own_id => {
            errors.push(FieldError::new(
                field,
                "self_reference",
                format!("an indicator cannot be its own {field}"),
            ));
            Ok(None)
        }
        Some(found) => Ok(Some(found.id)),
    }
}

fn changes(fields: &IndicatorUpdate, references: References) -> IndicatorChanges<'_> {
    IndicatorChanges {
        name_vi: fields.name_vi.trim(),
        name_en: fields.name_en.trim(),
        unit: fields.unit,
        scale: fields.scale,
        measure_kind: fields.measure_kind,
        direction: fields.direction,
        denominator_id: references.denominator_id,
        numerator_id: references.numerator_id,
        description: fields
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty()),
        min_value: fields.min_value.map(|d| StoredDecimal(d.0)),
        max_value: fields.max_value.map(|d| StoredDecimal(d.0)),
        whole_number: fields.whole_number,
    }
}

/// Lists every indicator, ordered by code.
#[utoipa::path(tag = "indicators", responses((status = 200, description = "All indicators", body = Vec<Indicator>),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/indicators")]
pub async fn list_indicators(_: Reader, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let indicators = with_conn(&pool, |conn| {
        let rows = db::indicators::list(conn)?;
        let codes: HashMap<i64, String> = rows.iter().map(|r| (r.id, r.code.clone())).collect();
        Ok(rows
            .into_iter()
            .map(|row| Indicator::from_row(row, &codes))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(indicators))
}

/// One indicator.
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "Indicator code")),
    responses(
        (status = 200, description = "The indicator", body = Indicator),
        (status = 404, description = "No such indicator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/indicators/{code}")]
pub async fn get_indicator(
    _: Reader,
    pool: web::Data<Pool>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let indicator = with_conn(&pool, move |conn| {
        let row = find_or_404(conn, &code)?;
        Ok(Indicator::from_row(row, &indicator_codes(conn)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(indicator))
}

/// Creates an indicator.
#[utoipa::path(
    tag = "indicators",
    request_body = NewIndicatorInput,
    responses(
        (status = 201, description = "Created", body = Indicator),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An indicator with this code exists", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/indicators")]
pub async fn create_indicator(
    _: Admin,
    pool: web::Data<Pool>,
    body: web::Json<NewIndicatorInput>,
) -> Result<HttpResponse, ApiError> {
    let (code, fields) = body.into_inner().split();
    let indicator = with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let mut errors = Vec::new();
            let code = IndicatorCode::parse(code.trim())
                .map_err(|e| errors.push(FieldError::new("code", "invalid_code", e.to_string())))
                .ok();
            let references = validate(conn, &fields, None, &mut errors)?;
            let Some(code) = code.filter(|_| errors.is_empty()) else {
                return Err(ApiError::validation(errors));
            };
            if db::indicators::find_by_code(conn, code.as_str())?.is_some() {
                return Err(ApiError::conflict(format!(
                    "an indicator with code \"{code}\" already exists"
                )));
            }
            let row = db::indicators::insert(conn, code.as_str(), changes(&fields, references))?;
            Ok(Indicator::from_row(row, &indicator_codes(conn)?))
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/indicators/{}", indicator.code)))
        .json(indicator))
}

/// Replaces an indicator's fields. Unit, scale and measure kind cannot change
/// once figures or targets use the indicator (409): that would silently change
/// what those figures mean.
#[utoipa::path(
    tag = "indicators",
    params(("code" = String, Path, description = "Indicator code")),
    request_body = IndicatorUpdate,
    responses(
        (status = 200, description = "Updated", body = Indicator),
        (status = 400, description = "Malformed JSON or wrong types", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such indicator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Unit, scale or kind change on an indicator with data", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token (or, for reads, none while reads need one)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not do this", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of a media type this operation reads", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/indicators/{code}")]
pub async fn update_indicator(
    _: Admin,
    pool: web::Data<Pool>,
    code: web::Path<String>,
    body: web::Json<IndicatorUpdate>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let input = body.into_inner();
    let indicator = with_conn(&pool, move |conn| {
        write_transaction(conn, |conn| {
            let row = find_or_404(conn, &code)?;
            let mut errors = Vec::new();
            let references = validate(conn, &input, Some(row.id), &mut errors)?;
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            let meaning_changes = row.unit != input.unit || row.scale != input.scale || row.measure_kind != input.measure_kind;
            if meaning_changes && db::indicators::has_data(conn, row.id)? {
                return Err(ApiError::conflict(format!(
                    "indicator \"{code}\" has figures or targets; its unit, scale and measure kind cannot change"
                )));
            }
            let row = db::indicators::update(conn, row.id, changes(&input, references))?;
            Ok(Indicator::from_row(row, &indicator_codes(conn)?))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(indicator))
}
