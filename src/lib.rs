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
pub mod telemetry;
pub mod timestamp;
pub mod web;

pub use startup::Application;

/// Sets up logging once, from `RUST_LOG` (default `info`) and
/// `CHITIEU_LOG_FORMAT` (`text` or `json`).
pub fn init_tracing() {
    telemetry::init();
}
