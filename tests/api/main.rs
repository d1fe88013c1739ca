//! The integration tests: one binary, one module per area.

mod helpers;

mod access;
mod analysis;
mod bad_input;
mod committees;
mod export_safety;
mod extractions;
mod fidelity;
mod history;
mod imports;
mod input_limits;
mod input_rules;
mod observations;
mod openapi;
mod plausibility;
mod resolver;
mod security;
mod seed_figures;
mod workflow;
mod write_lock;
