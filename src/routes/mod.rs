//! Thin HTTP handlers, one module per resource. They parse the request,
//! call `ingest`/`db` on a blocking thread, and shape the answer.

pub mod analysis;
pub mod answer_cache;
pub mod committees;
pub mod export;
pub mod extractions;
pub mod groups;
pub mod health;
pub mod imports;
pub mod indicators;
pub mod locks;
pub mod observations;
pub mod periods;
pub mod query_rules;
pub mod sources;
pub mod targets;
pub mod tokens;

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{AnyConnection, Pool};
use crate::error::{ApiError, FieldError};

/// Where handlers are registered: registering a handler also documents it, so
/// no route is served without being in the OpenAPI document.
pub type Routes<'a> = utoipa_actix_web::service_config::ServiceConfig<'a>;

/// Mounts every resource under `/api/v1`, and the probes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            // Before targets: /targets/progress must not be read as /targets/{id}.
            .configure(analysis::configure)
            .configure(committees::configure)
            .configure(extractions::configure)
            .configure(groups::configure)
            .configure(imports::configure)
            .configure(indicators::configure)
            .configure(locks::configure)
            .configure(periods::configure)
            .configure(observations::configure)
            .configure(targets::configure)
            .configure(sources::configure)
            .configure(tokens::configure),
    )
    .configure(health::configure);
}

/// Runs database work on the blocking pool with a pooled connection.
pub async fn with_conn<T, F>(pool: &web::Data<Pool>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        let result = work(&mut conn);
        if matches!(result, Err(ApiError::Unavailable(_))) {
            // The server closed this connection: the pool must not hand it out again.
            conn.discard();
        }
        result
    })
    .await?
}

/// The lane of expensive requests: exports, `as_of` lists, checks, series and
/// imports. At most half the pool's connections serve them at once, so that
/// cheap requests (a figure, a comparison, a dashboard) always find one; a
/// request that cannot enter the lane in time is answered 503 with
/// `Retry-After` instead of waiting without a deadline.
pub struct HeavyLane {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

/// How long an expensive request waits for the lane before a 503.
pub const HEAVY_LANE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl HeavyLane {
    pub fn new(pool_size: u32, wait: std::time::Duration) -> Self {
        Self {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(
                (pool_size as usize / 2).max(1),
            )),
            wait,
        }
    }

    /// A place in the lane, held until dropped (a streamed export keeps it
    /// until its last byte).
    pub async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::Overloaded(format!(
                    "as many expensive requests (exports, as-of lists, checks, series, imports) as the server runs at once are in progress; this one waited {} s",
                    self.wait.as_secs()
                ))
            })?
            .map_err(|e| ApiError::Internal(e.into()))
    }
}

/// [`with_conn`] inside the expensive lane.
pub async fn with_heavy_conn<T, F>(
    pool: &web::Data<Pool>,
    lane: &web::Data<HeavyLane>,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    let _permit = lane.enter().await?;
    with_conn(pool, work).await
}

/// Where the read-only API answers are read: a streaming replica
/// (`DATABASE_READ_URL`) or, without one, the primary's own pool.
#[derive(Clone)]
pub struct ReadPool {
    pool: web::Data<Pool>,
    replica: bool,
}

impl ReadPool {
    /// Reads on the primary.
    pub fn primary(pool: web::Data<Pool>) -> Self {
        Self {
            pool,
            replica: false,
        }
    }

    /// Reads on a streaming replica.
    pub fn replica(pool: Pool) -> Self {
        Self {
            pool: web::Data::new(pool),
            replica: true,
        }
    }

    pub fn pool(&self) -> &web::Data<Pool> {
        &self.pool
    }

    /// How far the replica has replayed, read before an answer is computed
    /// there (so the answer holds at least that much); `None` on the primary.
    pub async fn position(&self) -> Result<Option<ReplayPosition>, ApiError> {
        if !self.replica {
            return Ok(None);
        }
        with_conn(&self.pool, |conn| {
            Ok(crate::db::connection::replay_position(conn)?)
        })
        .await
    }
}

pub use crate::db::connection::ReplayPosition;

/// The headers that say what an answer read on a replica holds: every
/// transaction up to `x-chitieu-replica-lsn`, the last of them committed at
/// `x-chitieu-replica-replayed-at`.
pub fn replica_headers(
    response: &mut actix_web::HttpResponseBuilder,
    position: Option<&ReplayPosition>,
) {
    if let Some(position) = position {
        response.insert_header(("x-chitieu-replica-lsn", position.lsn.clone()));
        response.insert_header((
            "x-chitieu-replica-replayed-at",
            position.replayed_at.clone(),
        ));
    }
}

pub const DEFAULT_PAGE_SIZE: i64 = 100;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// Page selection of list endpoints: keyset paging, by an opaque cursor.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<i64>,
    /// Where this page starts: the `next_cursor` of the previous page (from the first item when absent).
    pub cursor: Option<String>,
}

/// A page's size and where it starts: after the item with this id.
#[derive(Debug, Clone, Copy)]
pub struct PageAt {
    pub limit: i64,
    pub after: Option<i64>,
}

impl PageParams {
    pub fn resolve(self) -> Result<PageAt, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::invalid_parameter(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageAt { limit, after })
    }
}

/// A list cursor on the wire: the last item's id, as 16 hex digits. Opaque to
/// clients, who pass back what they were given.
fn encode_cursor(id: i64) -> String {
    hex::encode(id.to_be_bytes())
}

fn decode_cursor(raw: &str) -> Result<i64, ApiError> {
    let invalid = || {
        ApiError::invalid_parameter(
            "cursor",
            "invalid_cursor",
            "not a cursor this server gave: pass back the `next_cursor` of the previous page",
        )
    };
    let bytes: [u8; 8] = hex::decode(raw.trim())
        .map_err(|_| invalid())?
        .try_into()
        .map_err(|_| invalid())?;
    let id = i64::from_be_bytes(bytes);
    if id < 0 {
        return Err(invalid());
    }
    Ok(id)
}

/// A page of results, in id order (the order items were first entered).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub limit: i64,
    /// The cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The URL of the next page (also sent as a `Link: <…>; rel="next"` header); absent on the last page.
    pub next: Option<String>,
}

impl<T: ToSchema + Serialize> Page<T> {
    /// The page of `rows`, read with one more than `at.limit` so that a next
    /// page is known to exist without counting.
    pub fn new(
        request: &actix_web::HttpRequest,
        mut rows: Vec<T>,
        at: PageAt,
        id_of: impl Fn(&T) -> i64,
    ) -> Self {
        let more = rows.len() as i64 > at.limit;
        rows.truncate(at.limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|last| encode_cursor(id_of(last))))
            .flatten();
        let next = next_cursor
            .as_deref()
            .map(|cursor| next_page_url(request, cursor));
        Self {
            items: rows,
            limit: at.limit,
            next_cursor,
            next,
        }
    }

    /// The page as a response, with its `Link` header (and, read on a
    /// replica, how far the replica had replayed).
    pub fn respond(self, position: Option<&ReplayPosition>) -> actix_web::HttpResponse {
        let mut response = actix_web::HttpResponse::Ok();
        if let Some(next) = &self.next {
            response.insert_header(next_link_header(next));
        }
        replica_headers(&mut response, position);
        response.json(self)
    }
}

/// Splits a comma-separated query value into codes checked by `parse`.
pub fn code_list<C>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<C, crate::domain::code::InvalidCode>,
) -> Result<Vec<String>, ApiError>
where
    C: AsRef<str>,
{
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    raw.split(',')
        .map(str::trim)
        .map(|c| {
            parse(c)
                .map(|code| code.as_ref().to_owned())
                .map_err(|e| ApiError::invalid_parameter(field, "invalid_code", e.to_string()))
        })
        .collect()
}

/// Rejects a body's field errors as one 422.
pub fn reject(errors: Vec<FieldError>) -> ApiError {
    ApiError::validation(errors)
}

/// Reads an `as_of` parameter: an RFC 3339 timestamp (`2026-11-22T08:30:00+07:00`),
/// a UTC date-time without offset (`2026-11-22T01:30:00`), or a date, meaning
/// the end of that day in UTC.
pub fn as_of_param(raw: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(at.naive_utc()));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(raw, format) {
            return Ok(Some(at));
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day.and_hms_micro_opt(23, 59, 59, 999_999));
    }
    Err(ApiError::invalid_parameter(
        "as_of",
        "invalid_timestamp",
        format!("{raw:?} is not a timestamp: use RFC 3339 (2026-11-22T08:30:00+07:00), a UTC time (2026-11-22T01:30:00) or a date"),
    ))
}

/// The URL of the next page of a cursor-paged list: this request's path and
/// query with `cursor` set to `next` (every other parameter kept as given).
pub fn next_page_url(request: &actix_web::HttpRequest, next: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(request.query_string().as_bytes()) {
        if name != "cursor" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", next);
    format!("{}?{}", request.path(), query.finish())
}

/// The `Link` header of a page that has a next one (RFC 8288).
pub fn next_link_header(url: &str) -> (actix_web::http::header::HeaderName, String) {
    (
        actix_web::http::header::LINK,
        format!("<{url}>; rel=\"next\""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[actix_web::test]
    async fn the_expensive_lane_refuses_what_cannot_enter_in_time() {
        // A pool of 4 keeps 2 connections out of the lane.
        let lane = HeavyLane::new(4, std::time::Duration::from_millis(50));
        let first = lane.enter().await.expect("a place");
        let second = lane.enter().await.expect("a place");
        let refused = lane.enter().await.expect_err("the lane is full");
        assert_eq!(refused.status_code().as_u16(), 503);
        let response = refused.error_response();
        assert_eq!(
            response.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"5"[..])
        );
        drop(first);
        let third = lane.enter().await.expect("a place again");
        drop((second, third));
        // A pool of one still has a lane.
        let lane = HeavyLane::new(1, std::time::Duration::from_millis(50));
        assert!(lane.enter().await.is_ok());
    }
}
