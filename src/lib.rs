//! chitieu: a typed home for economic indicators reported by Vietnamese
//! business-bloc party committees.
//!
//! Data flows one way: HTTP edge ([`routes`]) → rules ([`ingest`], [`domain`]) →
//! storage ([`db`]).

pub mod analysis;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod import;
pub mod ingest;
pub mod openapi;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod tabular;
pub mod timestamp;
pub mod web;

pub use startup::Application;

/// Sets up logging once, from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
