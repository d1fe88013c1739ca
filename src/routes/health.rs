//! Liveness and readiness probes.

use crate::auth::Public;
use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Pool;
use crate::error::ApiError;

pub fn configure(cfg: &mut super::Routes) {
    cfg.service(healthz).service(readyz);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, description = "The server is running", body = Health),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/healthz")]
pub async fn healthz(_: Public) -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The database is reachable", body = Health),
        (status = 503, description = "The database is not reachable", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The request could not be read: malformed input, an unknown query parameter, or more than one Authorization header", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(_: Public, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let pool = pool.clone();
    web::block(move || -> Result<(), ApiError> {
        let mut conn = pool.get_timeout(std::time::Duration::from_secs(2))?;
        conn.batch_execute("SELECT 1")
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    })
    .await??;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
