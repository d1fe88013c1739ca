//! The integration tests: one binary, one module per area.

mod helpers;

mod access;
mod analysis;
mod bad_input;
mod committees;
mod extractions;
mod imports;
mod observations;
mod openapi;
mod security;
mod seed_figures;
mod workflow;
