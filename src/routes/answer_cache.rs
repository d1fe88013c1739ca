//! Answers of analysis requests kept in memory while the data they were
//! computed from has not changed.
//!
//! Each backend tells us, cheaply and across processes, whether anything was
//! committed since a moment:
//!
//! - **SQLite** counts commits: `PRAGMA data_version` on a connection that
//!   never writes changes whenever any other connection, in this process or
//!   another (the `chitieu import` CLI), commits. Reading it costs a few
//!   microseconds and no I/O.
//! - **PostgreSQL**: the transaction snapshot (`pg_current_snapshot()`: the
//!   oldest running transaction, the next to start, those in between still
//!   running). Two equal snapshots see exactly the same committed rows, and any
//!   transaction that writes takes a transaction id, which changes the
//!   snapshot, whichever API instance (or psql session) it came from. It is
//!   read on one connection of its own; a read answers every request that
//!   arrived before it started, so 32 concurrent requests cost one round trip
//!   between them, not 32. Read-only work never changes it; writes anywhere in
//!   the cluster do, which only costs a recomputation.
//!
//! An answer is stored under the version read *before* it was computed; data
//! committed meanwhile makes the next request see a new version and compute
//! again, so an answer is never older than the version it is served for, and a
//! client reads its own writes, through any instance.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes};
use actix_web::HttpRequest;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, SqliteConnection};

use serde::Serialize;

use crate::config::DatabaseUrl;
use crate::error::ApiError;

/// `PRAGMA data_version`, as a statement of static shape so diesel keeps it
/// prepared.
#[derive(Debug, Clone, Copy, QueryId)]
struct DataVersion;

impl QueryFragment<Sqlite> for DataVersion {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl Query for DataVersion {
    type SqlType = BigInt;
}

impl RunQueryDsl<SqliteConnection> for DataVersion {}

/// `pg_current_snapshot()` as text, prepared once.
#[derive(Debug, Clone, Copy, QueryId)]
struct CurrentSnapshot;

impl QueryFragment<Pg> for CurrentSnapshot {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT pg_current_snapshot()::text");
        Ok(())
    }
}

impl Query for CurrentSnapshot {
    type SqlType = Text;
}

impl RunQueryDsl<PgConnection> for CurrentSnapshot {}

/// What the data looked like when an answer was computed: equal versions,
/// equal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// SQLite's commit counter.
    Commits(i64),
    /// A PostgreSQL snapshot (`xmin:xmax:xip,…`).
    Snapshot(Arc<str>),
}

/// Reads PostgreSQL's snapshot for many requests at once.
struct SnapshotGate {
    url: String,
    state: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    conn: Option<PgConnection>,
    /// The last snapshot read, and when its read started.
    last: Option<(Instant, Arc<str>)>,
    /// When connecting last failed: answers are computed for a while.
    failed_at: Option<Instant>,
}

/// How long the gate waits before connecting again after a failure.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl SnapshotGate {
    /// A snapshot read after `arrival`. Requests wait for the connection in
    /// turn; one that finds a snapshot whose read started after it arrived
    /// takes that one, since nothing it could have seen committed is missing
    /// from it.
    fn read(&self, arrival: Instant) -> Option<Arc<str>> {
        let mut state = self.state.lock().ok()?;
        if let Some((started, snapshot)) = &state.last {
            if *started > arrival {
                return Some(snapshot.clone());
            }
        }
        let started = Instant::now();
        if state.conn.is_none() {
            if state
                .failed_at
                .is_some_and(|t| t.elapsed() < RECONNECT_AFTER)
            {
                return None;
            }
            match PgConnection::establish(&self.url) {
                Ok(conn) => state.conn = Some(conn),
                Err(error) => {
                    tracing::warn!(%error, "answer cache: cannot connect; computing every answer");
                    state.failed_at = Some(Instant::now());
                    return None;
                }
            }
        }
        match CurrentSnapshot.get_result::<String>(state.conn.as_mut()?) {
            Ok(snapshot) => {
                let snapshot: Arc<str> = snapshot.into();
                state.last = Some((started, snapshot.clone()));
                Some(snapshot)
            }
            Err(error) => {
                tracing::warn!(%error, "answer cache: cannot read the snapshot");
                state.conn = None;
                state.last = None;
                None
            }
        }
    }
}

/// How the data version is read.
enum Watcher {
    /// A SQLite connection that only reads `PRAGMA data_version`.
    Sqlite(Mutex<SqliteConnection>),
    Postgres(Arc<SnapshotGate>),
}

/// The store is split in shards by key, each behind its own lock, so that
/// concurrent requests rarely wait for each other.
const SHARDS: usize = 8;

/// One kept answer.
struct Slot {
    key: Box<str>,
    body: Bytes,
    /// Set when served; the clock hand clears it and passes over once.
    referenced: bool,
}

/// One shard: answers of one data version, evicted by CLOCK (second chance)
/// when its byte budget is reached. Every operation costs O(1) amortised:
/// nothing scans the shard.
#[derive(Default)]
struct Shard {
    /// The data version every kept answer was computed at.
    version: Option<Version>,
    by_key: HashMap<Box<str>, usize>,
    slots: Vec<Option<Slot>>,
    /// Free positions in `slots`.
    free: Vec<usize>,
    hand: usize,
    bytes: usize,
}

impl Shard {
    fn get(&mut self, key: &str, version: &Version) -> Option<Bytes> {
        if self.version.as_ref() != Some(version) {
            return None;
        }
        let slot = self.slots[*self.by_key.get(key)?].as_mut()?;
        slot.referenced = true;
        Some(slot.body.clone())
    }

    fn put(&mut self, key: &str, version: Version, body: Bytes, budget: usize) {
        if self.version.as_ref() != Some(&version) {
            // A commit happened: every kept answer may be wrong now.
            *self = Shard {
                version: Some(version),
                ..Shard::default()
            };
        }
        let size = key.len() + body.len();
        if size > budget {
            return;
        }
        if let Some(&at) = self.by_key.get(key) {
            self.remove(at);
        }
        while self.bytes + size > budget {
            self.evict_one();
        }
        let slot = Slot {
            key: key.into(),
            body,
            referenced: false,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.by_key.insert(key.into(), at);
        self.bytes += size;
    }

    fn remove(&mut self, at: usize) {
        if let Some(slot) = self.slots[at].take() {
            self.by_key.remove(&slot.key);
            self.bytes -= slot.key.len() + slot.body.len();
            self.free.push(at);
        }
    }

    /// Moves the hand to the first answer not served since it last passed,
    /// giving served ones a second chance, and drops it.
    fn evict_one(&mut self) {
        if self.by_key.is_empty() {
            return;
        }
        loop {
            self.hand = (self.hand + 1) % self.slots.len();
            match self.slots[self.hand].as_mut() {
                Some(slot) if slot.referenced => slot.referenced = false,
                Some(_) => return self.remove(self.hand),
                None => {}
            }
        }
    }
}

/// Answers by request (path and query string), each with the data version it
/// was computed at.
pub struct AnswerCache {
    /// `None` when caching is off.
    watcher: Option<Watcher>,
    shards: Vec<Mutex<Shard>>,
    /// The bytes of answers (and their keys) each shard may keep.
    shard_bytes: usize,
}

fn shards() -> Vec<Mutex<Shard>> {
    (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect()
}

impl AnswerCache {
    /// A cache holding at most `max_bytes` of answers; off when `max_bytes`
    /// is 0 or a SQLite watcher cannot open the file.
    pub fn new(url: &DatabaseUrl, max_bytes: usize) -> Self {
        let watcher = match url {
            _ if max_bytes == 0 => None,
            DatabaseUrl::Sqlite(path) => match SqliteConnection::establish(path) {
                Ok(conn) => Some(Watcher::Sqlite(Mutex::new(conn))),
                Err(error) => {
                    tracing::warn!(%error, "answer cache off: cannot open the database");
                    None
                }
            },
            // Connected on first use: a server starts while PostgreSQL is down.
            DatabaseUrl::Postgres(url) => Some(Watcher::Postgres(Arc::new(SnapshotGate {
                url: url.clone(),
                state: Mutex::new(GateState::default()),
            }))),
        };
        Self {
            watcher,
            shards: shards(),
            shard_bytes: max_bytes / SHARDS,
        }
    }

    /// A cache that stores nothing.
    pub fn off() -> Self {
        Self {
            watcher: None,
            shards: shards(),
            shard_bytes: 0,
        }
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let hash = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .hash_one(key);
        &self.shards[hash as usize % SHARDS]
    }

    /// The current data version, or `None` when answers must be computed.
    ///
    /// SQLite's is read on the async worker: the watcher has no busy timeout,
    /// so a locked file (SQLITE_BUSY) means "unknown", never a wait.
    /// PostgreSQL's is a round trip, on the blocking pool.
    pub async fn version(&self) -> Option<Version> {
        match self.watcher.as_ref()? {
            Watcher::Sqlite(conn) => {
                let mut conn = conn.lock().ok()?;
                DataVersion
                    .get_result::<i64>(&mut *conn)
                    .ok()
                    .map(Version::Commits)
            }
            Watcher::Postgres(gate) => {
                let (gate, arrival) = (gate.clone(), Instant::now());
                web::block(move || gate.read(arrival))
                    .await
                    .ok()
                    .flatten()
                    .map(Version::Snapshot)
            }
        }
    }

    /// The answer to `key` computed at `version`, if kept.
    pub fn get(&self, key: &str, version: &Version) -> Option<Bytes> {
        self.shard(key).lock().ok()?.get(key, version)
    }

    /// Keeps `body` as the answer to `key` at `version`. A new version drops
    /// the shard's older answers; a full shard evicts the answers served
    /// least recently (CLOCK). An answer larger than an eighth of a shard
    /// is not kept.
    pub fn put(&self, key: &str, version: Version, body: Bytes) {
        if self.shard_bytes == 0 || key.len() + body.len() > self.shard_bytes / 8 {
            return;
        }
        if let Ok(mut shard) = self.shard(key).lock() {
            shard.put(key, version, body, self.shard_bytes);
        }
    }
}

/// The JSON answer to `request`: kept from an earlier identical request while
/// the data is unchanged, or computed by `compute` (and kept).
pub async fn answer<T, F>(
    cache: &AnswerCache,
    request: &HttpRequest,
    compute: F,
) -> Result<(Bytes, CacheUse), ApiError>
where
    T: Serialize,
    F: Future<Output = Result<T, ApiError>>,
{
    let version = cache.version().await;
    let key = request.uri().to_string();
    if let Some(body) = version.as_ref().and_then(|v| cache.get(&key, v)) {
        return Ok((body, CacheUse::Hit));
    }
    let answer = compute.await?;
    let body = Bytes::from(serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.into()))?);
    let used = match version {
        Some(version) => {
            cache.put(&key, version, body.clone());
            CacheUse::Miss
        }
        None => CacheUse::Off,
    };
    Ok((body, used))
}

/// Whether an answer came from the cache, told to clients (and to the bench
/// harness, which reports the hit rate) as `x-chitieu-cache: hit | miss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    Hit,
    Miss,
    /// The cache is off (or the data version could not be read).
    Off,
}

impl CacheUse {
    /// The `x-chitieu-cache` header, when the cache is on.
    pub fn header(self) -> Option<(&'static str, &'static str)> {
        match self {
            CacheUse::Hit => Some(("x-chitieu-cache", "hit")),
            CacheUse::Miss => Some(("x-chitieu-cache", "miss")),
            CacheUse::Off => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_bytes: usize) -> AnswerCache {
        AnswerCache {
            watcher: None,
            shards: shards(),
            shard_bytes: max_bytes / SHARDS,
        }
    }

    fn kept_bytes(cache: &AnswerCache) -> usize {
        cache.shards.iter().map(|s| s.lock().unwrap().bytes).sum()
    }

    #[test]
    fn an_answer_is_served_only_at_its_own_version() {
        let cache = cache(1 << 20);
        cache.put("/a", Version::Commits(1), Bytes::from_static(b"one"));
        assert_eq!(
            cache.get("/a", &Version::Commits(1)).as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(cache.get("/a", &Version::Commits(2)), None);
        assert_eq!(cache.get("/b", &Version::Commits(1)), None);
    }

    #[test]
    fn a_new_version_drops_older_answers_and_the_bound_holds() {
        let cache = cache(8 * 1000);
        cache.put("/a", Version::Commits(1), Bytes::from(vec![b'x'; 100]));
        assert!(cache.get("/a", &Version::Commits(1)).is_some());
        // A new version in /a's shard drops it.
        let mut i = 0;
        while cache.get("/a", &Version::Commits(1)).is_some() {
            cache.put(
                &format!("/b{i}"),
                Version::Commits(2),
                Bytes::from(vec![b'y'; 100]),
            );
            i += 1;
        }
        assert!(
            i <= 64,
            "every shard sees the new version within a few keys"
        );
        for i in 0..500 {
            cache.put(
                &format!("/k{i}"),
                Version::Commits(2),
                Bytes::from(vec![b'z'; 100]),
            );
            assert!(kept_bytes(&cache) <= 8 * 1000);
        }
        // Too large for a shard: not kept.
        cache.put("/big", Version::Commits(2), Bytes::from(vec![b'z'; 200]));
        assert_eq!(cache.get("/big", &Version::Commits(2)), None);
    }

    #[test]
    fn a_full_shard_evicts_what_was_not_served_and_keeps_what_was() {
        let mut shard = Shard::default();
        let v = Version::Commits(7);
        let body = || Bytes::from(vec![b'x'; 98]);
        let key = |c: u8| format!("/{}", c as char);
        // Room for ten answers of 100 bytes (key included): /a … /j.
        for c in b'a'..=b'j' {
            shard.put(&key(c), v.clone(), body(), 1000);
        }
        assert_eq!(shard.by_key.len(), 10);
        // /a … /e are asked for again; five more answers evict the others.
        for c in b'a'..=b'e' {
            assert!(shard.get(&key(c), &v).is_some());
        }
        for c in b'k'..=b'o' {
            shard.put(&key(c), v.clone(), body(), 1000);
            assert!(shard.bytes <= 1000);
        }
        for c in b'a'..=b'e' {
            assert!(
                shard.get(&key(c), &v).is_some(),
                "{} was served: kept",
                key(c)
            );
        }
        for c in b'f'..=b'j' {
            assert!(
                shard.get(&key(c), &v).is_none(),
                "{} was not: evicted",
                key(c)
            );
        }
        // Replacing an answer keeps the count of bytes exact.
        shard.put("/a", v.clone(), Bytes::from_static(b"new"), 1000);
        assert_eq!(shard.get("/a", &v).as_deref(), Some(&b"new"[..]));
        let counted: usize = shard
            .slots
            .iter()
            .flatten()
            .map(|s| s.key.len() + s.body.len())
            .sum();
        assert_eq!(shard.bytes, counted);
        assert_eq!(shard.by_key.len(), shard.slots.iter().flatten().count());
    }

    #[actix_web::test]
    async fn the_watcher_sees_commits_of_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db").display().to_string();
        let mut writer = SqliteConnection::establish(&path).unwrap();
        diesel::sql_query("CREATE TABLE t (x INTEGER)")
            .execute(&mut writer)
            .unwrap();
        let cache = AnswerCache::new(&DatabaseUrl::Sqlite(path), 1 << 20);
        let before = cache.version().await.expect("a version");
        assert_eq!(
            cache.version().await,
            Some(before.clone()),
            "nothing changed"
        );
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        assert_ne!(cache.version().await, Some(before));
        assert!(AnswerCache::off().version().await.is_none());
    }
}
