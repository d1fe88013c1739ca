//! Storage: the only module that speaks diesel. One file per aggregate.

pub mod committees;
pub mod connection;
pub mod decimal;
pub mod groups;
pub mod imports;
pub mod indicators;
pub mod locks;
pub mod observations;
pub mod rollups;
pub mod schema;
pub mod sources;
pub mod targets;
pub mod tokens;
pub mod users;

pub use connection::{
    build_pool, build_pool_with, run_migrations, serialise_committee_writes, with_startup_lock,
    write_transaction, AnyConnection, BackendKind, Pool, PoolConnection, PooledConnection,
};

/// The current time as stored: UTC, microsecond precision on both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    // PostgreSQL keeps microseconds; truncate so a value read back equals the one written.
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}
