//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::routes;

mod constraints;

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
    // Relative: the paths carry `/api/v1`, and a client is pointed at the
    // host that serves it (the document itself is at /api/v1/openapi.json).
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&BearerAuth),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        // Types of query parameters: utoipa refers to them without collecting them.
        crate::domain::locale::Locale,
        crate::routes::observations::Mode,
        crate::routes::observations::ExportFormat,
        crate::db::imports::Strategy,
        crate::import::RowListing,
        crate::analysis::comparisons::Basis,
        crate::domain::series::Transform,
    )),
    tags(
        (name = "committees", description = "Reporting organisations"),
        (name = "groups", description = "Groups of committees"),
        (name = "indicators", description = "What is measured"),
        (name = "periods", description = "Reporting periods"),
        (name = "observations", description = "Figures and their history"),
        (name = "targets", description = "Targets assigned to committees"),
        (name = "sources", description = "Source documents"),
        (name = "extractions", description = "Figures proposed from the text of a report (nothing is stored)"),
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

/// The document as served and as committed in `openapi/openapi.json`: the
/// paths are those the router registers ([`routes::configure`]), so a served
/// route cannot be missing from it.
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let mut document = document;
    constraints::apply(&mut document);
    reference_page_items(&mut document);
    document
}

/// utoipa inlines the item type of a generic `Page<T>`; a generated client
/// then gets an anonymous class per list. Each `Page_T` refers to `T` instead
/// when `T` is a named schema.
fn reference_page_items(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    use utoipa::openapi::{Ref, RefOr};
    let Some(components) = document.components.as_mut() else {
        return;
    };
    let named: Vec<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item_name) = name.strip_prefix("Page_") else {
            continue;
        };
        if !named.iter().any(|n| n == item_name) {
            continue;
        }
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items =
                ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item_name))));
        }
    }
}

/// Pretty JSON of the document, with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}
