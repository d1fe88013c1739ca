//! Analysis endpoints: comparisons, series, checks, target progress, dashboards.

use crate::auth::Reader;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::answer_cache::{answer, AnswerCache};
use super::{with_conn, with_heavy_conn};
use crate::analysis::catalog::Catalog;
use crate::analysis::checks::{
    check_page, default_page_committees, Check, CheckCursor, MAX_PAGE_COMMITTEES,
};
use crate::analysis::comparisons::{
    base_period, compare, compare_pair, compare_with, Basis, Comparison,
};
use crate::analysis::progress::{jobs, judge, progress_report, TargetProgress};
use crate::analysis::resolver::Resolver;
use crate::analysis::series::{build_series, Series, SeriesRequest};
use crate::db;
use crate::db::indicators::IndicatorRow;
use crate::domain::code::{CommitteeCode, IndicatorCode};
use crate::domain::comparison::Verdict;
use crate::domain::period::{Frequency, PeriodCode};
use crate::domain::resolve::Resolved;
use crate::domain::series::Transform;
use crate::error::ApiError;

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(year_over_year)
        .service(series)
        .service(checks)
        .service(target_progress)
        .service(dashboard);
}

fn period_param(field: &str, raw: Option<&str>) -> Result<Option<PeriodCode>, ApiError> {
    raw.filter(|p| !p.trim().is_empty())
        .map(|p| {
            PeriodCode::parse(p)
                .map_err(|e| ApiError::invalid_parameter(field, "invalid_period", e.to_string()))
        })
        .transpose()
}

fn required_period(field: &str, raw: Option<&str>) -> Result<PeriodCode, ApiError> {
    period_param(field, raw)?.ok_or_else(|| {
        ApiError::invalid_parameter(field, "missing_parameter", format!("{field} is required"))
    })
}

/// The one code a list parameter holds, if it holds exactly one.
fn single_code(raw: Option<&str>) -> Option<&str> {
    let raw = raw?.trim();
    (!raw.is_empty() && !raw.contains(',')).then_some(raw)
}

fn required<'a>(field: &str, raw: Option<&'a str>) -> Result<&'a str, ApiError> {
    raw.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ApiError::invalid_parameter(field, "missing_parameter", format!("{field} is required"))
    })
}

/// Parameters of a comparison.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComparisonQuery {
    /// Committee codes, comma-separated (or give `group`).
    pub committee: Option<String>,
    /// A group code: every member is compared.
    pub group: Option<String>,
    /// Indicator codes, comma-separated.
    pub indicator: Option<String>,
    /// The period, in any accepted form (a year-to-date period compares with the same span last year).
    pub period: Option<String>,
    /// `year_ago` (default) or `previous_period`.
    pub basis: Option<Basis>,
    /// Compare what was known at this moment (RFC 3339 timestamp, UTC date-time or date).
    pub as_of: Option<String>,
    /// A flow derived from only some of its sub-periods is refused (no value, with the
    /// reason) unless this is true; then it is returned with `completeness.complete: false`.
    pub allow_incomplete: Option<bool>,
}

/// Comparisons of one period with a base period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonReport {
    pub period: String,
    pub base_period: String,
    pub basis: Basis,
    pub items: Vec<Comparison>,
}

/// Compares figures with the same period a year earlier (or the previous
/// period): changes, the reported change with a verdict, implied values.
/// Both values are resolved as on every endpoint, for any period kind (year,
/// half, quarter, month, year to date): the figure stored for the period,
/// else derived from its sub-periods by measure kind (a flow sums them, a
/// stock takes the period-end level, a ratio is recomputed), with the ids of
/// the figures used.
#[utoipa::path(
    tag = "analysis",
    params(ComparisonQuery),
    responses(
        (status = 200, description = "One comparison per committee × indicator", body = ComparisonReport),
        (status = 400, description = "Missing or malformed parameters, or a period without a base period", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown committee, group or indicator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/comparisons/yoy")]
pub async fn year_over_year(
    _: Reader,
    read: web::Data<super::ReadPool>,
    answers: web::Data<AnswerCache>,
    request: HttpRequest,
    query: web::Query<ComparisonQuery>,
) -> Result<HttpResponse, ApiError> {
    let position = read.position().await?;
    let query = query.into_inner();
    let period = required_period("period", query.period.as_deref())?;
    let basis = query.basis.unwrap_or_default();
    let base = base_period(&period, basis)?;
    let indicator = required("indicator", query.indicator.as_deref())?.to_owned();
    let as_of = super::as_of_param(query.as_of.as_deref())?;
    let allow_incomplete = query.allow_incomplete.unwrap_or(false);
    // One committee and one indicator (what a dashboard tile asks): one statement.
    let pair = single_code(query.committee.as_deref())
        .zip(single_code(Some(&indicator)))
        .filter(|_| as_of.is_none() && query.group.as_deref().is_none_or(|g| g.trim().is_empty()))
        .and_then(|(committee, indicator)| {
            Some((
                CommitteeCode::parse(committee).ok()?,
                IndicatorCode::parse(indicator).ok()?,
            ))
        });
    let compute = with_conn(read.pool(), move |conn| {
        if let Some((committee, indicator)) = &pair {
            if let Some(item) = compare_pair(
                conn,
                committee.as_str(),
                indicator.as_str(),
                &period,
                basis,
                allow_incomplete,
            )? {
                return Ok(ComparisonReport {
                    period: period.code(),
                    base_period: base.code(),
                    basis,
                    items: vec![item],
                });
            }
        }
        let mut catalog = Catalog::load(conn)?;
        let committees = catalog.committees_or_group(
            conn,
            query.committee.as_deref(),
            query.group.as_deref(),
        )?;
        let indicators = catalog.indicators_named("indicator", &indicator)?;
        let items = compare(
            conn,
            &catalog.indicators,
            &committees,
            &indicators,
            &period,
            basis,
            as_of,
            allow_incomplete,
        )?;
        Ok(ComparisonReport {
            period: period.code(),
            base_period: base.code(),
            basis,
            items,
        })
    });
    let (body, cached) = answer(&answers, &request, compute).await?;
    let mut response = HttpResponse::Ok();
    if let Some(header) = cached.header() {
        response.insert_header(header);
    }
    super::replica_headers(&mut response, position.as_ref());
    Ok(response.content_type("application/json").body(body))
}

/// Parameters of a series.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// One committee code (or give `group` for the group total).
    pub committee: Option<String>,
    /// A group code: the series is the total over its members.
    pub group: Option<String>,
    /// One indicator code.
    pub indicator: Option<String>,
    /// First period of the range, in any accepted form.
    pub from: Option<String>,
    /// Last period of the range.
    pub to: Option<String>,
    /// `annual`, `semi_annual`, `quarterly` or `monthly`; by default the frequency of `from`.
    pub frequency: Option<String>,
    /// `lin` (levels, default), `chg`, `ch1`, `pch`, `pc1` (as FRED).
    pub transform: Option<Transform>,
    /// A flow derived from only some of its sub-periods is refused (no value, with the
    /// reason) unless this is true; then it is returned with `completeness.complete: false`.
    pub allow_incomplete: Option<bool>,
    /// The series as it was known at this moment (RFC 3339 timestamp, UTC date-time or date).
    pub as_of: Option<String>,
}

/// A series of one indicator for a committee or a group total, aggregated by
/// the indicator's measure kind (flows sum, stocks take the period end,
/// ratios are recomputed) and optionally transformed.
#[utoipa::path(
    tag = "analysis",
    params(SeriesQuery),
    responses(
        (status = 200, description = "The series", body = Series),
        (status = 400, description = "Missing or malformed parameters", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown committee, group or indicator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A transform or total that makes no sense for the indicator (e.g. summing a ratio)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/series")]
pub async fn series(
    _: Reader,
    read: web::Data<super::ReadPool>,
    lane: web::Data<super::HeavyLane>,
    query: web::Query<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let position = read.position().await?;
    let query = query.into_inner();
    let from = required_period("from", query.from.as_deref())?;
    let to = required_period("to", query.to.as_deref())?;
    let frequency = match query.frequency.as_deref().filter(|f| !f.trim().is_empty()) {
        None => from.frequency(),
        Some(f) => f.parse::<Frequency>().map_err(|e| {
            ApiError::invalid_parameter("frequency", "invalid_frequency", e.to_string())
        })?,
    };
    let indicator = required("indicator", query.indicator.as_deref())?.to_owned();
    let as_of = super::as_of_param(query.as_of.as_deref())?;
    if indicator.contains(',') {
        return Err(ApiError::invalid_parameter(
            "indicator",
            "one_indicator",
            "a series has one indicator: values of different indicators (and units) are never added",
        ));
    }
    let series = with_heavy_conn(read.pool(), &lane, move |conn| {
        let mut catalog = Catalog::load(conn)?;
        let committees = catalog.committees_or_group(
            conn,
            query.committee.as_deref(),
            query.group.as_deref(),
        )?;
        if query.group.is_none() && committees.len() != 1 {
            return Err(ApiError::invalid_parameter(
                "committee",
                "one_committee",
                "a series is for one committee; give group for a total over several",
            ));
        }
        let indicator = catalog.indicators_named("indicator", &indicator)?.remove(0);
        let request = SeriesRequest {
            committees,
            group: query.group.clone(),
            group_id: catalog.group_id(),
            use_rollups: true,
            catalog: &catalog.indicators,
            indicator: &indicator,
            from,
            to,
            frequency,
            transform: query.transform.unwrap_or(Transform::Lin),
            allow_incomplete: query.allow_incomplete.unwrap_or(false),
            as_of,
        };
        build_series(conn, &request)
    })
    .await?;
    let mut response = HttpResponse::Ok();
    super::replica_headers(&mut response, position.as_ref());
    Ok(response.json(series))
}

/// Parameters of the consistency checks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// Committee codes, comma-separated; all by default.
    pub committee: Option<String>,
    /// Only figures of this period.
    pub period: Option<String>,
    /// Also list the checks that passed.
    pub include_consistent: Option<bool>,
    /// Check against a base derived from only some of its sub-periods (said so in the
    /// message); by default such a base is refused and the check not made.
    pub allow_incomplete: Option<bool>,
    /// Committees checked in this page, in code order: at most 50; by default 10 with a
    /// `period`, 1 without (a committee's whole history).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
    /// Where this page starts: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of consistency checks: those of a page of committees.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckReport {
    /// Checks listed (inconsistencies only unless `include_consistent`).
    pub items: Vec<Check>,
    /// Inconsistencies found in this page's committees.
    pub inconsistent: usize,
    /// Checks that passed in this page's committees.
    pub consistent: usize,
    /// The committees this page checked, in code order.
    pub committees: Vec<String>,
    /// The cursor of the next page, if committees are left (also in `next` and a `Link` header).
    pub next_cursor: Option<String>,
    /// The URL of the next page, if committees are left.
    pub next: Option<String>,
}

/// Every place where a reported figure disagrees with one recomputed from
/// stored figures: shares, reported year-on-year changes, breakdowns. One
/// page of committees at a time, in code order; follow `next` for the rest.
#[utoipa::path(
    tag = "analysis",
    params(CheckQuery),
    responses(
        (status = 200, description = "The checks", body = CheckReport),
        (status = 400, description = "Malformed parameters", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/checks")]
pub async fn checks(
    _: Reader,
    request: HttpRequest,
    read: web::Data<super::ReadPool>,
    lane: web::Data<super::HeavyLane>,
    query: web::Query<CheckQuery>,
) -> Result<HttpResponse, ApiError> {
    let position = read.position().await?;
    let query = query.into_inner();
    let period = period_param("period", query.period.as_deref())?;
    let include_consistent = query.include_consistent.unwrap_or(false);
    let limit = match query.limit {
        None => default_page_committees(period.as_ref()),
        Some(n) if (1..=MAX_PAGE_COMMITTEES).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "limit",
                "out_of_range",
                format!("committees per page must be between 1 and {MAX_PAGE_COMMITTEES}"),
            ))
        }
    };
    let cursor = query
        .cursor
        .as_deref()
        .map(CheckCursor::parse)
        .transpose()?;
    let page = with_heavy_conn(read.pool(), &lane, move |conn| {
        let mut catalog = Catalog::load(conn)?;
        let named = match query.committee.as_deref() {
            Some(raw) => Some(catalog.committees_named(conn, "committee", raw)?),
            None => None,
        };
        check_page(
            conn,
            &mut catalog,
            named,
            period.as_ref(),
            query.allow_incomplete.unwrap_or(false),
            limit,
            cursor.as_ref(),
        )
    })
    .await?;
    let inconsistent = page
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Inconsistent)
        .count();
    let consistent = page.checks.len() - inconsistent;
    let next_cursor = page.next.as_ref().map(CheckCursor::encode);
    let next = next_cursor
        .as_deref()
        .map(|cursor| super::next_page_url(&request, cursor));
    let report = CheckReport {
        items: page
            .checks
            .into_iter()
            .filter(|c| include_consistent || c.verdict == Verdict::Inconsistent)
            .collect(),
        inconsistent,
        consistent,
        committees: page.committees,
        next_cursor,
        next: next.clone(),
    };
    let mut response = HttpResponse::Ok();
    if let Some(next) = &next {
        response.insert_header(super::next_link_header(next));
    }
    super::replica_headers(&mut response, position.as_ref());
    Ok(response.json(report))
}

/// Parameters of target progress.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    /// Committee codes, comma-separated; all by default.
    pub committee: Option<String>,
    /// Indicator codes, comma-separated; all by default.
    pub indicator: Option<String>,
    /// The period to judge; by default each target's own period. A part of a
    /// target's period (a quarter of a year) is judged pro rata for flows,
    /// linearly by elapsed months.
    pub period: Option<String>,
    /// A flow derived from only some of its sub-periods is refused (no value, with the
    /// reason) unless this is true; then it is returned with `completeness.complete: false`.
    pub allow_incomplete: Option<bool>,
}

/// Progress against targets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressReport {
    pub items: Vec<TargetProgress>,
}

/// Achieved value, target, percent of expected, percent of target and status
/// (met, exceeded, on track, behind), direction-aware.
///
/// For part of the target's period (2022-Q1 of an annual plan) a flow is
/// expected to have reached a pro-rata share of the target, linear by elapsed
/// months (3/12 for a quarter). `percent_of_expected` is achieved against that
/// share and decides the status; `percent_of_target` is achieved against the
/// whole plan. Stocks and ratios are expected to reach the target itself.
#[utoipa::path(
    tag = "analysis",
    params(ProgressQuery),
    responses(
        (status = 200, description = "Progress of every matching target", body = ProgressReport),
        (status = 400, description = "Malformed parameters", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown committee or indicator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/targets/progress")]
pub async fn target_progress(
    _: Reader,
    read: web::Data<super::ReadPool>,
    query: web::Query<ProgressQuery>,
) -> Result<HttpResponse, ApiError> {
    let position = read.position().await?;
    let query = query.into_inner();
    let period = period_param("period", query.period.as_deref())?;
    let report = with_conn(read.pool(), move |conn| {
        let mut catalog = Catalog::load(conn)?;
        let committee_ids: Vec<i64> = match query.committee.as_deref() {
            Some(raw) => catalog
                .committees_named(conn, "committee", raw)?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
            None => Vec::new(),
        };
        let indicator_ids: Vec<i64> = match query.indicator.as_deref() {
            Some(raw) => catalog
                .indicators_named("indicator", raw)?
                .into_iter()
                .map(|i| i.id)
                .collect(),
            None => Vec::new(),
        };
        Ok(ProgressReport {
            items: progress_report(
                conn,
                &mut catalog,
                &committee_ids,
                &indicator_ids,
                period.as_ref(),
                query.allow_incomplete.unwrap_or(false),
            )?,
        })
    })
    .await?;
    let mut response = HttpResponse::Ok();
    super::replica_headers(&mut response, position.as_ref());
    Ok(response.json(report))
}

/// The period of a dashboard.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Any accepted period form.
    pub period: Option<String>,
    /// A flow derived from only some of its sub-periods is refused (no value, with the
    /// reason) unless this is true; then it is returned with `completeness.complete: false`.
    pub allow_incomplete: Option<bool>,
    /// The dashboard as it was known at this moment (RFC 3339 timestamp, UTC date-time or
    /// date): figures and targets as they stood then.
    pub as_of: Option<String>,
}

/// One indicator on a dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardItem {
    pub indicator: String,
    pub name_vi: String,
    pub name_en: String,
    /// The value for the period, resolved as on every endpoint (the same as
    /// `year_on_year.current`).
    pub figure: Resolved,
    /// Against the same period a year earlier.
    pub year_on_year: Comparison,
    /// Against the target that covers the period, if any.
    pub progress: Option<TargetProgress>,
}

/// Everything a dashboard shows for one committee and period.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub committee: String,
    pub period: String,
    pub items: Vec<DashboardItem>,
}

/// Every indicator of a committee for a period, with its figure, year-on-year
/// comparison and target progress, in one response. Carries an ETag: a
/// polling dashboard sending `If-None-Match` gets 304 while nothing changed.
#[utoipa::path(
    tag = "analysis",
    params(("code" = String, Path, description = "Committee code"), DashboardQuery),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard, headers(("ETag" = String, description = "Changes whenever any value shown changes"))),
        (status = 304, description = "Not modified since the ETag sent in If-None-Match"),
        (status = 400, description = "Missing or malformed period, or a malformed as_of", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown committee", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token: an unknown or revoked token, or none while reads need one (CHITIEU_PUBLIC_READ=false)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is busy or unreachable, or too many expensive requests are running; retry after the Retry-After seconds", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[get("/committees/{code}/dashboard")]
pub async fn dashboard(
    _: Reader,
    read: web::Data<super::ReadPool>,
    answers: web::Data<AnswerCache>,
    request: HttpRequest,
    code: web::Path<String>,
    query: web::Query<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let position = read.position().await?;
    let code = code.into_inner();
    let period = required_period("period", query.period.as_deref())?;
    let allow_incomplete = query.allow_incomplete.unwrap_or(false);
    let as_of = super::as_of_param(query.as_of.as_deref())?;
    let compute = with_conn(read.pool(), move |conn| {
        build_dashboard(conn, &code, period, allow_incomplete, as_of)
    });
    let (body, cached) = answer(&answers, &request, compute).await?;
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Some(header) = cached.header() {
        response.insert_header(header);
    }
    super::replica_headers(&mut response, position.as_ref());
    if matches {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(body))
}

/// A committee's dashboard for a period: what `GET /committees/{code}/dashboard`
/// answers and the web app's dashboard page shows; with `as_of`, from the
/// figures and targets as they stood at that moment.
pub fn build_dashboard(
    conn: &mut db::AnyConnection,
    code: &str,
    period: PeriodCode,
    allow_incomplete: bool,
    as_of: Option<chrono::NaiveDateTime>,
) -> Result<Dashboard, ApiError> {
    let mut catalog = Catalog::load(conn)?;
    let (committee_id, committee) = catalog.committees_named(conn, "code", code)?.remove(0);
    let base = base_period(&period, Basis::YearAgo)?;
    let targets = match as_of {
        None => db::targets::select_rows(conn, &[committee_id], &[])?,
        Some(at) => db::targets::select_rows_as_of(conn, &[committee_id], at)?,
    };
    let jobs = jobs(&targets, Some(&period));
    // One read for every indicator's value in the period and a year before,
    // answered by the same functions as the comparison and progress endpoints.
    let every: Vec<&IndicatorRow> = catalog.indicators.iter().collect();
    let resolver = Resolver::load(
        conn,
        &catalog.indicators,
        &[committee_id],
        &every,
        &[period, base],
        as_of,
        allow_incomplete,
    )?;
    let mut items = Vec::new();
    for indicator in &catalog.indicators {
        let year_on_year = compare_with(
            &resolver,
            (committee_id, &committee),
            indicator,
            &period,
            Basis::YearAgo,
        )?;
        let progress = jobs
            .iter()
            .find(|(_, target)| target.indicator_id == indicator.id)
            .and_then(|(judged, target)| judge(&resolver, &catalog, judged, target));
        // Indicators with something stored for the period (a value, or
        // part of one), or a target that covers it.
        let current = &year_on_year.current;
        if current.value.is_none() && current.completeness.present == 0 && progress.is_none() {
            continue;
        }
        items.push(DashboardItem {
            indicator: indicator.code.clone(),
            name_vi: indicator.name_vi.clone(),
            name_en: indicator.name_en.clone(),
            figure: year_on_year.current.clone(),
            progress,
            year_on_year,
        });
    }
    items.sort_by(|a, b| a.indicator.cmp(&b.indicator));
    Ok(Dashboard {
        committee,
        period: period.code(),
        items,
    })
}
