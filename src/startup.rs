//! Building and running the HTTP server.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpServer};

use crate::auth::{identify, require_access_rule, AuthSettings};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::db::{self, Pool};
use crate::error::{ApiError, FieldError};
use crate::routes::answer_cache::AnswerCache;
use crate::routes::query_rules::QueryRules;
use crate::{openapi, routes, seed};

/// A migrated, seeded, bound server, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
}

impl Application {
    /// Connects, migrates, seeds (if configured) and binds. Port 0 picks a free port.
    pub fn build(config: Config) -> Result<Self, anyhow::Error> {
        let pool = db::build_pool_with(
            &config.database_url,
            config.pool_size,
            config.session_limits(),
        )?;
        prepare_database(&pool, &config)?;
        let listener = TcpListener::bind(config.bind_addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind_addr))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, pool.clone(), &config)?;
        Ok(Self { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves until stopped; SIGTERM and SIGINT drain in-flight requests first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Migrates and seeds under the start-up lock.
pub fn prepare_database(pool: &Pool, config: &Config) -> Result<(), anyhow::Error> {
    let mut conn = pool.get()?;
    db::with_startup_lock(&mut conn, |conn| {
        let applied = db::run_migrations(conn)?;
        if applied > 0 {
            tracing::info!(applied, "migrations applied");
        }
        if config.seed_on_start && !config.seed_dir.is_dir() {
            // A binary deployed without the repository has no seed data; that is
            // not a reason to refuse to start.
            tracing::warn!(dir = %config.seed_dir.display(), "no seed data directory; nothing seeded");
        } else if config.seed_on_start {
            let report = seed::load_dir(conn, &config.seed_dir)?;
            tracing::info!(?report, dir = %config.seed_dir.display(), "seed data loaded");
        }
        // After the migration that adds them, or a change of their rule.
        if db::rollups::ensure_current(conn)? {
            tracing::info!("group totals (rollups) rebuilt");
        }
        Ok(())
    })
}

fn problem_json(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::OverflowKnownLength { length, limit } => {
            ApiError::PayloadTooLarge(format!("the body has {length} bytes; the limit is {limit}"))
        }
        JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge(format!(
            "the body is larger than the limit of {limit} bytes"
        )),
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonPayloadError::Deserialize(e) => {
            let what = match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    "malformed JSON"
                }
                _ => "the JSON does not have the expected shape",
            };
            ApiError::BadRequest {
                detail: format!("{what}: {e}"),
                errors: vec![FieldError::new(
                    format!("line {} column {}", e.line(), e.column()),
                    "invalid_json",
                    e.to_string(),
                )],
            }
        }
        other => ApiError::bad_request(format!("the body could not be read: {other}")),
    }
}

fn problem_query(error: QueryPayloadError) -> ApiError {
    ApiError::bad_request(format!("invalid query string: {error}"))
}

fn problem_path(error: PathError) -> ApiError {
    ApiError::bad_request(format!("invalid path: {error}"))
}

/// No route: 405 with `Allow` when the path is served with other methods,
/// otherwise 404.
async fn not_found(request: HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    crate::auth::no_handler(&request);
    let methods = request
        .app_data::<web::Data<QueryRules>>()
        .map(|rules| rules.methods_for(request.path()))
        .unwrap_or_default();
    if methods.is_empty() {
        return ApiError::not_found(format!(
            "no endpoint {} {}; see /docs",
            request.method(),
            request.path()
        ))
        .error_response();
    }
    let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    let mut response = ApiError::MethodNotAllowed(format!(
        "{} {} is not served; this path takes {}",
        request.method(),
        request.path(),
        allow.join(", ")
    ))
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Starts the server on `listener`.
pub fn run(listener: TcpListener, pool: Pool, config: &Config) -> Result<Server, anyhow::Error> {
    let pool = web::Data::new(pool);
    let read_pool = web::Data::new(match &config.database_read_url {
        None => routes::ReadPool::primary(pool.clone()),
        Some(url) => {
            tracing::info!(replica = %url.redacted(), "read-only answers are read on the replica");
            routes::ReadPool::replica(db::build_pool_with(
                url,
                config.pool_size,
                config.session_limits(),
            )?)
        }
    });
    // Cached answers are keyed by the primary's snapshot; an answer read on a
    // replica may be older than that, so with a replica nothing is cached.
    let answer_cache_bytes = match config.database_read_url {
        None => config.answer_cache_bytes,
        Some(_) => 0,
    };
    let shared_config = web::Data::new(config.clone());
    let auth = web::Data::new(AuthSettings {
        public_read: config.public_read,
    });
    let answers = web::Data::new(AnswerCache::new(&config.database_url, answer_cache_bytes));
    let origins = config.cors_origins.clone();
    let max_body = config.max_body_bytes;
    let document = openapi::document();
    let query_rules = web::Data::new(QueryRules::from_document(&document));
    let heavy_lane = web::Data::new(routes::HeavyLane::new(
        config.pool_size,
        routes::HEAVY_LANE_WAIT,
    ));
    let mut server = HttpServer::new(move || {
        let mut cors = Cors::default()
            .allowed_methods(["GET", "POST", "PUT", "DELETE"])
            .allowed_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::ACCEPT,
                header::HeaderName::from_static(crate::telemetry::REQUEST_ID_HEADER),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::HeaderName::from_static(crate::telemetry::REQUEST_ID_HEADER),
            ])
            .max_age(3600);
        for origin in &origins {
            cors = cors.allowed_origin(origin);
        }
        App::new()
            // The last wrapped runs first: CORS answers preflights before the
            // caller is identified; the access-rule check sees the handler's answer.
            .wrap(from_fn(require_access_rule))
            .wrap(from_fn(identify))
            .wrap(cors)
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
            // Outermost: the id exists before the request's span and is on
            // every answer, errors of the layers inside included.
            .wrap(from_fn(crate::telemetry::request_id))
            .app_data(pool.clone())
            .app_data(read_pool.clone())
            .app_data(answers.clone())
            .app_data(auth.clone())
            .app_data(query_rules.clone())
            .app_data(heavy_lane.clone())
            .app_data(shared_config.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(|error, _| problem_json(error).into()),
            )
            .app_data(web::PayloadConfig::default().limit(max_body))
            .app_data(
                web::QueryConfig::default().error_handler(|error, _| problem_query(error).into()),
            )
            .app_data(
                web::PathConfig::default().error_handler(|error, _| problem_path(error).into()),
            )
            // Before the /api/v1 scope, which would answer 404 for the spec's path.
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", document.clone()))
            .route(
                "/docs",
                web::get().to(|| async {
                    actix_web::HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
            .configure(|cfg| routes::configure(&mut routes::Routes::new(cfg)))
            // The web app for people, at `/`; not part of the OpenAPI document.
            .configure(crate::web::configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .shutdown_timeout(30);
    let workers = if config.workers > 0 {
        config.workers
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    };
    // Database work runs on each worker's blocking threads. More of them than
    // pooled connections would only wait for one, each with its own malloc
    // arena and stack: at 32 concurrent group totals the SQLite server grew
    // from 31 to 118 MiB (bench/RESULTS.md). Requests beyond the pool queue
    // for a thread instead, which costs no memory.
    let blocking_threads = (config.pool_size as usize).div_ceil(workers).max(1);
    server = server
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads);
    Ok(server.run())
}
