//! The integration tests: one binary, one module per area.

mod helpers;

mod analysis;
mod bad_input;
mod committees;
mod history;
mod imports;
mod input_rules;
mod observations;
mod openapi;
mod security;
mod seed_figures;
mod workflow;
