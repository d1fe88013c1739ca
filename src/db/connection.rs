//! One connection type for both backends, a pool, and the write-transaction rule.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<AnyConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<AnyConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl AnyConnection {
    /// Opens a connection of the kind the URL names. We choose the variant
    /// ourselves: the derived `establish` tries PostgreSQL, hides its error,
    /// then treats any string as an SQLite file name.
    pub fn open(url: &DatabaseUrl) -> ConnectionResult<Self> {
        Self::open_with(url, SessionLimits::default())
    }

    /// Opens a connection whose writes wait at most `limits.lock_wait` for a
    /// lock another writer holds, then fail (answered 503 with `Retry-After`),
    /// and whose statements run at most `limits.statement_timeout`
    /// (PostgreSQL; SQLite work is bounded by the expensive lane instead).
    pub fn open_with(url: &DatabaseUrl, limits: SessionLimits) -> ConnectionResult<Self> {
        let lock_wait_ms = limits.lock_wait.as_millis().max(1);
        let statement_ms = limits.statement_timeout.as_millis();
        match url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                // Without them a write waiting on a row lock, or a runaway
                // query, would hold its connection for ever.
                conn.batch_execute(&format!(
                    "SET lock_timeout = {lock_wait_ms}; SET statement_timeout = {statement_ms}"
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(Self::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // WAL lets readers run beside a writer; busy_timeout makes a second
                // writer wait instead of failing at once with "database is locked". Each
                // connection has its own page cache: 1 MiB (SQLite's default is
                // 2) keeps the serving process under its memory target; the
                // operating system caches the file anyway.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL;
                     PRAGMA busy_timeout = {lock_wait_ms};
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;"
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                let mut conn = Self::Sqlite(conn);
                set_sqlite_cache_kib(&mut conn, SQLITE_CACHE_KIB)
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
        }
    }

    pub fn backend(&self) -> BackendKind {
        match self {
            Self::Postgres(_) => BackendKind::Postgres,
            Self::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

/// A pooled connection, with what the pool needs to decide whether to test it.
pub struct PoolConnection {
    conn: AnyConnection,
    /// When it last went back to the pool.
    returned_at: Instant,
    /// A query on it failed because the server closed it: drop it.
    lost: bool,
}

impl PoolConnection {
    /// Marks the connection as lost: the pool drops it when it comes back.
    pub fn discard(&mut self) {
        self.lost = true;
    }
}

impl Deref for PoolConnection {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// A connection back in the pool for less than this is handed out again
/// without a test query. Testing every checkout (r2d2's default) cost a
/// round trip per request, as much as the query the request came for
/// (bench/RESULTS.md); a connection that sat idle, the ones a database
/// restart leaves dead, is still tested.
const TRUST_RECENTLY_USED: Duration = Duration::from_secs(1);

/// How long a write waits for another writer's lock unless configured
/// otherwise (`CHITIEU_DB_LOCK_WAIT_MS`).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// How long one statement of a request may run on PostgreSQL (0: no limit).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What one database session may wait for and spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub lock_wait: Duration,
    pub statement_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            lock_wait: DEFAULT_LOCK_WAIT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

/// Runs `work` with no statement timeout (imports, migrations and seeding are
/// long by nature and bounded otherwise); the session's own comes back after.
pub fn without_statement_timeout<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if conn.backend() != BackendKind::Postgres {
        return work(conn);
    }
    let previous = diesel::sql_query("SELECT current_setting('statement_timeout') AS setting")
        .get_result::<Setting>(conn)?
        .setting;
    conn.batch_execute("SET statement_timeout = 0")?;
    let result = work(conn);
    diesel::sql_query("SELECT set_config('statement_timeout', $1, false)")
        .bind::<diesel::sql_types::Text, _>(previous)
        .execute(conn)?;
    result
}

/// Page cache of each SQLite connection (KiB), see [`AnyConnection::open`].
pub const SQLITE_CACHE_KIB: i64 = 1024;

/// Sets an SQLite connection's page cache; nothing on PostgreSQL.
pub fn set_sqlite_cache_kib(conn: &mut AnyConnection, kib: i64) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(sqlite) => {
            sqlite.batch_execute(&format!("PRAGMA cache_size = -{}", kib.max(1)))
        }
        AnyConnection::Postgres(_) => Ok(()),
    }
}

/// r2d2 manager that opens [`AnyConnection`]s for one URL.
#[derive(Debug, Clone)]
pub struct AnyConnectionManager {
    url: DatabaseUrl,
    limits: SessionLimits,
}

impl ManageConnection for AnyConnectionManager {
    type Connection = PoolConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, Self::Error> {
        let conn = AnyConnection::open_with(&self.url, self.limits)
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(PoolConnection {
            conn,
            returned_at: Instant::now(),
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), Self::Error> {
        if conn.returned_at.elapsed() < TRUST_RECENTLY_USED {
            return Ok(());
        }
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        conn.returned_at = Instant::now();
        conn.lost || <AnyConnection as diesel::r2d2::R2D2Connection>::is_broken(&mut conn.conn)
    }
}

/// Builds the pool. Connections are opened lazily except the first, so a bad
/// URL fails at start with the database's own message.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, anyhow::Error> {
    build_pool_with(url, max_size, SessionLimits::default())
}

/// Builds the pool; its connections follow `limits`.
pub fn build_pool_with(
    url: &DatabaseUrl,
    max_size: u32,
    limits: SessionLimits,
) -> Result<Pool, anyhow::Error> {
    // Opening once by hand surfaces the real error (r2d2 only says "timed out").
    AnyConnection::open_with(url, limits)
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", url.redacted()))?;
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(AnyConnectionManager {
            url: url.clone(),
            limits,
        })?;
    Ok(pool)
}

/// Key of the PostgreSQL advisory lock held while migrating and seeding, so
/// several API instances starting at once against one database take turns.
const STARTUP_LOCK_KEY: i64 = 0x0063_6869_7469_6575; // "chitieu" in ASCII

/// Runs pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, anyhow::Error> {
    let applied = match conn {
        AnyConnection::Postgres(pg) => pg
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("PostgreSQL migrations failed: {e}"))?
            .len(),
        AnyConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("SQLite migrations failed: {e}"))?
            .len(),
    };
    Ok(applied)
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    setting: String,
}

/// Runs `work` while holding the start-up lock (PostgreSQL only; an SQLite file
/// belongs to one process and its writes are serialised anyway).
pub fn with_startup_lock<T>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, anyhow::Error>,
) -> Result<T, anyhow::Error> {
    if conn.backend() == BackendKind::Postgres {
        // Another instance may migrate and seed for longer than a write
        // waits for a lock: this wait has no limit, and the connection's own
        // goes back afterwards.
        let lock_wait = diesel::sql_query("SELECT current_setting('lock_timeout') AS setting")
            .get_result::<Setting>(conn)?
            .setting;
        conn.batch_execute("SET lock_timeout = 0")?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({STARTUP_LOCK_KEY})"))?;
        let result = without_statement_timeout(conn, work);
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({STARTUP_LOCK_KEY})"))?;
        diesel::sql_query("SELECT set_config('lock_timeout', $1, false)")
            .bind::<diesel::sql_types::Text, _>(lock_wait)
            .execute(conn)?;
        result
    } else {
        work(conn)
    }
}

/// First key of the PostgreSQL advisory locks that serialise the writes of
/// one committee's figures and targets (the second is the committee id).
/// Two-key advisory locks never conflict with the one-key start-up lock.
const COMMITTEE_WRITE_LOCK_CLASS: i32 = 0x6368; // "ch"

/// Makes the rest of the current write transaction the only one writing
/// figures or targets of these committees, until it ends.
///
/// Every write of a figure or target reads what it replaces (the revision
/// number, the previous value, whether the figure exists) and then writes.
/// On PostgreSQL two such transactions otherwise read the same state: both
/// claim the same previous value, or the same next revision number, or both
/// create the figure. A transaction-level advisory lock per committee, taken
/// in ascending id order (so no two writers wait on each other in a
/// circle), makes the second wait until the first commits; under READ
/// COMMITTED each statement after the lock then sees what the first wrote.
/// A lock per committee rather than per figure keeps a 5000-item batch or a
/// million-row import to a handful of locks. SQLite needs nothing: its
/// write transactions begin IMMEDIATE, one at a time.
pub fn serialise_committee_writes(
    conn: &mut AnyConnection,
    committee_ids: impl IntoIterator<Item = i64>,
) -> QueryResult<()> {
    if conn.backend() == BackendKind::Sqlite {
        return Ok(());
    }
    let mut ids: Vec<i64> = committee_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        // Ids beyond i32 share a lock with another committee: harmless, as a
        // shared lock only makes two writers take turns.
        let key = id as i32;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(COMMITTEE_WRITE_LOCK_CLASS)
            .bind::<diesel::sql_types::Integer, _>(key)
            .execute(conn)?;
    }
    Ok(())
}

/// Runs `work` in a transaction meant to write.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`: a deferred transaction that
/// reads and then writes cannot wait for the lock (SQLite reports
/// SQLITE_BUSY at once to avoid a deadlock), an immediate one queues on
/// `busy_timeout` like any writer.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    // Inside a transaction already: a savepoint keeps the work atomic.
    if <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some()
    {
        return conn.transaction(work);
    }
    match conn {
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgres(_) => {
            <AnyConnection as Connection>::TransactionManager::begin_transaction(conn)?
        }
    }
    match work(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one worth reporting; a failed rollback
            // leaves the connection marked broken and the pool drops it.
            let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// How far a PostgreSQL streaming replica has replayed its primary's
/// write-ahead log: the log position and the commit time of the last
/// transaction replayed. An answer read on the replica after this was read
/// holds every transaction committed up to it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct ReplayPosition {
    /// `pg_last_wal_replay_lsn()`, e.g. `0/3000148`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub lsn: String,
    /// `pg_last_xact_replay_timestamp()` in UTC (RFC 3339), empty before the
    /// first replayed transaction.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub replayed_at: String,
}

/// The replay position of the replica `conn` is connected to; `None` on a
/// primary (or SQLite), which is never behind.
pub fn replay_position(conn: &mut AnyConnection) -> QueryResult<Option<ReplayPosition>> {
    let AnyConnection::Postgres(pg) = conn else {
        return Ok(None);
    };
    let position: ReplayPosition = diesel::sql_query(
        "SELECT COALESCE(pg_last_wal_replay_lsn()::text, '') AS lsn, \
         COALESCE(to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', \
         'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '') AS replayed_at",
    )
    .get_result(pg)?;
    Ok((!position.lsn.is_empty()).then_some(position))
}
