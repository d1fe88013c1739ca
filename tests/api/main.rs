//! The integration tests: one binary, one module per area.

mod helpers;

mod access;
mod analysis;
mod bad_input;
mod clients;
mod committees;
mod export_safety;
mod extractions;
mod fidelity;
mod history;
mod import_rows;
mod imports;
mod input_limits;
mod input_rules;
mod observations;
mod openapi;
mod operators;
mod plausibility;
mod readme;
mod replica;
mod resolver;
mod rollups;
mod security;
mod seed_figures;
mod web;
mod workflow;
mod write_lock;

/// A run without PostgreSQL must not look like a full one: each PostgreSQL
/// test would pass having done nothing. Outside CI this test fails, naming the
/// fix, unless the skip is asked for with `CHITIEU_SKIP_POSTGRES=1` (in CI a
/// missing server fails every PostgreSQL test anyway).
#[test]
fn postgres_unavailable() {
    use diesel::Connection;
    let url = helpers::admin_database_url();
    if let Err(error) = diesel::PgConnection::establish(&url) {
        let skip_asked = std::env::var("CHITIEU_SKIP_POSTGRES").is_ok_and(|v| v == "1");
        assert!(
            skip_asked,
            "PostgreSQL is unavailable at {url} ({error}): every PostgreSQL test was SKIPPED. \
             Start it or set TEST_DATABASE_URL; to run the SQLite half alone, set CHITIEU_SKIP_POSTGRES=1"
        );
    }
}
