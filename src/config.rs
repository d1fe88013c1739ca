//! Configuration from the environment (12-factor). Every setting has a default
//! that works on a fresh machine: an SQLite file in the working directory.

use std::fmt;
use std::net::SocketAddr;

/// Where the data lives, chosen by the scheme of `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
    /// A file path (`chitieu.db`, `sqlite://chitieu.db`, `sqlite:///abs/path.db`).
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, anyhow::Error> {
        let raw = raw.trim();
        if raw.is_empty() {
            anyhow::bail!("DATABASE_URL is empty");
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path == ":memory:" {
            // Each pooled connection would get its own empty in-memory database.
            anyhow::bail!(
                "DATABASE_URL must name an SQLite file or a postgres:// URL, not {raw:?}"
            );
        }
        if let Some((scheme, _)) = path.split_once("://") {
            anyhow::bail!("DATABASE_URL scheme {scheme:?} is not supported: use postgres:// or an SQLite file path");
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    /// The URL without its password, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite file {path}"),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let credentials = &url[scheme_end + 3..at];
                    let user = credentials.split(':').next().unwrap_or_default();
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Settings of one running service.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// A streaming replica of the PostgreSQL primary (`DATABASE_READ_URL`):
    /// the read-only API answers (analysis, lists, exports) are read there,
    /// each saying how far the replica had replayed. Writes, reads of one
    /// figure (with its ETag for If-Match) and the web app stay on the primary.
    pub database_read_url: Option<DatabaseUrl>,
    pub bind_addr: SocketAddr,
    pub pool_size: u32,
    /// Load `seed_dir` on start (idempotent).
    pub seed_on_start: bool,
    pub seed_dir: std::path::PathBuf,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Number of HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// Largest accepted import file, in bytes.
    pub max_import_bytes: usize,
    /// Reads need no token (`CHITIEU_PUBLIC_READ`, default true).
    pub public_read: bool,
    /// Origins allowed to call the API from a browser (`CHITIEU_CORS_ORIGINS`, comma-separated).
    pub cors_origins: Vec<String>,
    /// Memory for analysis answers kept while the data is unchanged (SQLite;
    /// `CHITIEU_ANSWER_CACHE_MIB`, default 8, 0 turns it off; measured never
    /// slower than no cache on keys spread over the data, bench/RESULTS.md).
    pub answer_cache_bytes: usize,
    /// How long a write waits for another writer's lock before it is
    /// answered 503 with `Retry-After` (`CHITIEU_DB_LOCK_WAIT_MS`, default 10 s).
    pub lock_wait: std::time::Duration,
    /// How long one statement of a request may run on PostgreSQL before it is
    /// cancelled and answered 503 (`CHITIEU_STATEMENT_TIMEOUT_MS`, default
    /// 30 s; 0 means no limit). Imports, migrations and seeding have none.
    pub statement_timeout: std::time::Duration,
    /// A figure more than this factor above or below the committee's previous
    /// figure of the indicator is a warning (`CHITIEU_PLAUSIBILITY_FACTOR`,
    /// default 100, at least 2).
    pub plausibility_factor: crate::domain::plausibility::Factor,
}

impl Config {
    /// The limits of each pooled database session.
    pub fn session_limits(&self) -> crate::db::connection::SessionLimits {
        crate::db::connection::SessionLimits {
            lock_wait: self.lock_wait,
            statement_timeout: self.statement_timeout,
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "chitieu.db";

/// Pooled connections unless `DATABASE_POOL_SIZE` says otherwise. SQLite
/// reads run in this process on its cores, and each connection keeps its own
/// page cache: past 4 connections on the 2-core benchmark machine, memory at
/// 32 concurrent group totals grew (50 → 69 MiB at 8) for no throughput
/// (bench/RESULTS.md). PostgreSQL connections wait on the network, so more
/// of them keep the server busy.
fn default_pool_size(url: &DatabaseUrl) -> u64 {
    match url {
        DatabaseUrl::Sqlite(_) => 4,
        DatabaseUrl::Postgres(_) => 8,
    }
}
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";

impl Config {
    /// Reads `DATABASE_URL`, `DATABASE_READ_URL`, `BIND_ADDR`, `DATABASE_POOL_SIZE`, `CHITIEU_SEED`,
    /// `CHITIEU_SEED_DIR`, `CHITIEU_MAX_BODY_BYTES`, `CHITIEU_MAX_IMPORT_BYTES`, `CHITIEU_WORKERS`,
    /// `CHITIEU_PUBLIC_READ`, `CHITIEU_CORS_ORIGINS`, `CHITIEU_ANSWER_CACHE_MIB` and
    /// `CHITIEU_DB_LOCK_WAIT_MS`, `CHITIEU_STATEMENT_TIMEOUT_MS` and
    /// `CHITIEU_PLAUSIBILITY_FACTOR`.
    pub fn from_env() -> Result<Self, anyhow::Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let database_url = DatabaseUrl::parse(
            &var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
        )?;
        let bind_addr = var("BIND_ADDR")
            .unwrap_or_else(|| DEFAULT_BIND_ADDR.into())
            .parse()
            .map_err(|e| {
                anyhow::anyhow!("BIND_ADDR must be host:port, e.g. 127.0.0.1:8080: {e}")
            })?;
        let number = |name: &str, default: u64| -> Result<u64, anyhow::Error> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{name} must be a whole number, got {v:?}")),
            }
        };
        let flag = |name: &str, default: bool| -> Result<bool, anyhow::Error> {
            match var(name).as_deref().map(str::to_ascii_lowercase) {
                None => Ok(default),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(v) => anyhow::bail!("{name} must be true or false, got {v:?}"),
            }
        };
        let seed_on_start = flag("CHITIEU_SEED", true)?;
        let database_read_url = var("DATABASE_READ_URL")
            .map(|raw| DatabaseUrl::parse(&raw))
            .transpose()?;
        match (&database_url, &database_read_url) {
            (_, None) | (DatabaseUrl::Postgres(_), Some(DatabaseUrl::Postgres(_))) => {}
            _ => anyhow::bail!(
                "DATABASE_READ_URL names a streaming replica of a PostgreSQL DATABASE_URL; \
                 both must be postgres:// URLs"
            ),
        }
        let pool_size = u32::try_from(
            number("DATABASE_POOL_SIZE", default_pool_size(&database_url))?.clamp(1, 256),
        )?;
        Ok(Self {
            database_url,
            database_read_url,
            bind_addr,
            pool_size,
            seed_on_start,
            seed_dir: var("CHITIEU_SEED_DIR")
                .map(Into::into)
                .unwrap_or_else(default_seed_dir),
            max_body_bytes: usize::try_from(number("CHITIEU_MAX_BODY_BYTES", 4 * 1024 * 1024)?)?,
            workers: usize::try_from(number("CHITIEU_WORKERS", 0)?)?,
            max_import_bytes: usize::try_from(number(
                "CHITIEU_MAX_IMPORT_BYTES",
                1024 * 1024 * 1024,
            )?)?,
            public_read: flag("CHITIEU_PUBLIC_READ", true)?,
            lock_wait: std::time::Duration::from_millis(number(
                "CHITIEU_DB_LOCK_WAIT_MS",
                crate::db::connection::DEFAULT_LOCK_WAIT.as_millis() as u64,
            )?),
            statement_timeout: std::time::Duration::from_millis(number(
                "CHITIEU_STATEMENT_TIMEOUT_MS",
                crate::db::connection::DEFAULT_STATEMENT_TIMEOUT.as_millis() as u64,
            )?),
            answer_cache_bytes: usize::try_from(number("CHITIEU_ANSWER_CACHE_MIB", 8)?.min(4096))?
                * 1024
                * 1024,
            plausibility_factor: crate::domain::plausibility::Factor::new(u32::try_from(number(
                "CHITIEU_PLAUSIBILITY_FACTOR",
                crate::domain::plausibility::DEFAULT_FACTOR.into(),
            )?)?)
            .map_err(|e| anyhow::anyhow!("CHITIEU_PLAUSIBILITY_FACTOR: {e}"))?,
            cors_origins: var("CHITIEU_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// `seed-data/` of the working directory, else the one next to Cargo.toml
/// (so `cargo run` from anywhere in the checkout finds it).
pub fn default_seed_dir() -> std::path::PathBuf {
    let local = std::path::PathBuf::from("seed-data");
    if local.is_dir() {
        local
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_picks_the_backend_from_the_scheme() {
        let cases = [
            ("chitieu.db", DatabaseUrl::Sqlite("chitieu.db".into())),
            (
                "sqlite://data/x.db",
                DatabaseUrl::Sqlite("data/x.db".into()),
            ),
            (
                "sqlite:///var/x.db",
                DatabaseUrl::Sqlite("/var/x.db".into()),
            ),
            ("sqlite:x.db", DatabaseUrl::Sqlite("x.db".into())),
            (
                "postgres://u@h/db",
                DatabaseUrl::Postgres("postgres://u@h/db".into()),
            ),
            (
                "postgresql://u@h/db",
                DatabaseUrl::Postgres("postgresql://u@h/db".into()),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(DatabaseUrl::parse(raw).unwrap(), expected, "{raw}");
        }
        for bad in ["", ":memory:", "mysql://h/db", "sqlite://"] {
            assert!(
                DatabaseUrl::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn redaction_hides_the_password_only() {
        let url = DatabaseUrl::parse("postgres://app:secret@db:5432/chitieu").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/chitieu");
        assert!(!format!("{url:?}").contains("secret"));
    }
}
