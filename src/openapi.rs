//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::routes;

/// Endpoints under `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::committees::list_committees,
        routes::committees::get_committee,
        routes::committees::create_committee,
        routes::committees::update_committee,
        routes::committees::delete_committee,
        routes::groups::list_groups,
        routes::groups::get_group,
        routes::groups::create_group,
        routes::groups::add_member,
        routes::groups::remove_member,
        routes::indicators::list_indicators,
        routes::indicators::get_indicator,
        routes::indicators::create_indicator,
        routes::indicators::update_indicator,
        routes::periods::get_period,
        routes::observations::list_observations,
        routes::observations::create_observation,
        routes::observations::create_observations_batch,
        routes::observations::get_observation,
        routes::observations::update_observation,
        routes::observations::delete_observation,
        routes::observations::list_revisions,
        routes::targets::list_targets,
        routes::targets::upsert_target,
        routes::targets::get_target,
        routes::targets::list_target_revisions,
        routes::sources::list_sources,
        routes::sources::get_source,
        routes::imports::create_import,
        routes::tokens::list_tokens,
        routes::tokens::issue_token,
        routes::tokens::revoke_token,
        routes::locks::list_locks,
        routes::locks::create_lock,
        routes::locks::get_lock,
        routes::locks::lift_lock,
        routes::analysis::year_over_year,
        routes::analysis::series,
        routes::analysis::checks,
        routes::analysis::target_progress,
        routes::analysis::dashboard,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        // Types of query parameters: utoipa refers to them without collecting them.
        crate::domain::locale::Locale,
        crate::routes::observations::Mode,
        crate::db::imports::Strategy,
        crate::analysis::comparisons::Basis,
        crate::domain::series::Transform,
    ))
)]
struct V1Api;

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "chitieu",
        description = "Economic indicators reported by Vietnamese business-bloc party committees: \
committees, indicators, periods, figures with their sources and revisions, and targets. \
Every value is an exact decimal, sent and returned as a string (JSON numbers are accepted on input). \
Errors are RFC 7807 `application/problem+json`."
    ),
    paths(routes::health::healthz, routes::health::readyz),
    modifiers(&BearerAuth),
    security((), ("bearer" = [])),
    nest((path = "/api/v1", api = V1Api)),
    tags(
        (name = "committees", description = "Reporting organisations"),
        (name = "groups", description = "Groups of committees"),
        (name = "indicators", description = "What is measured"),
        (name = "periods", description = "Reporting periods"),
        (name = "observations", description = "Figures and their history"),
        (name = "targets", description = "Targets assigned to committees"),
        (name = "sources", description = "Source documents"),
        (name = "imports", description = "Bulk import of figures from CSV, JSON and XLSX"),
        (name = "tokens", description = "API tokens (admins)"),
        (name = "locks", description = "Committee × period locks after approval"),
        (name = "analysis", description = "Comparisons, series and totals, consistency checks, target progress, dashboards"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme. Reads are open unless
/// `CHITIEU_PUBLIC_READ=false`; writes need a token.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token: `chitieu token create --role admin --name me`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as served and as committed in `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Pretty JSON of the document, with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}
