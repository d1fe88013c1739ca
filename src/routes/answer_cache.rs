//! Answers of analysis requests kept in memory while the data they were
//! computed from has not changed (SQLite only).
//!
//! SQLite counts commits for us: `PRAGMA data_version` on a connection that
//! never writes changes whenever any other connection, in this process or
//! another (the `chitieu import` CLI), commits. Reading it costs a few
//! microseconds and no I/O, so a repeated question is answered without
//! touching the figures. An answer is stored under the version read *before*
//! it was computed; data committed meanwhile makes the next request see a new
//! version and compute again, so an answer is never older than the version
//! it is served for, and a client reads its own writes.
//!
//! PostgreSQL has no such free counter: any freshness check is a round trip,
//! as dear as the one prepared statement a comparison runs (see
//! `pair_by_codes`), and API instances behind a load balancer would each
//! need it. There the cache is off and every answer is computed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use actix_web::web::Bytes;
use actix_web::HttpRequest;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::sqlite::Sqlite;
use diesel::SqliteConnection;

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

struct Entry {
    version: i64,
    body: Bytes,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Entry>,
    bytes: usize,
}

/// Answers by request (path and query string), each with the data version it
/// was computed at.
pub struct AnswerCache {
    /// A connection that only reads the version; `None` when caching is off.
    watcher: Option<Mutex<SqliteConnection>>,
    entries: Mutex<Entries>,
    max_bytes: usize,
}

impl AnswerCache {
    /// A cache holding at most `max_bytes` of answers; off for PostgreSQL, or
    /// when `max_bytes` is 0 or the watcher cannot open the file.
    pub fn new(url: &DatabaseUrl, max_bytes: usize) -> Self {
        let watcher = match url {
            DatabaseUrl::Sqlite(path) if max_bytes > 0 => match SqliteConnection::establish(path) {
                Ok(conn) => Some(Mutex::new(conn)),
                Err(error) => {
                    tracing::warn!(%error, "answer cache off: cannot open the database");
                    None
                }
            },
            _ => None,
        };
        Self {
            watcher,
            entries: Mutex::new(Entries::default()),
            max_bytes,
        }
    }

    /// A cache that stores nothing.
    pub fn off() -> Self {
        Self {
            watcher: None,
            entries: Mutex::new(Entries::default()),
            max_bytes: 0,
        }
    }

    /// The current data version, or `None` when answers must be computed.
    ///
    /// Called on the async worker: the watcher has no busy timeout, so a
    /// locked file (SQLITE_BUSY) means "unknown", never a wait.
    pub fn version(&self) -> Option<i64> {
        let mut conn = self.watcher.as_ref()?.lock().ok()?;
        DataVersion.get_result::<i64>(&mut *conn).ok()
    }

    /// The answer to `key` computed at `version`, if kept.
    pub fn get(&self, key: &str, version: i64) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.by_key.get(key)?;
        (entry.version == version).then(|| entry.body.clone())
    }

    /// Keeps `body` as the answer to `key` at `version`. Answers of older
    /// versions are dropped first; when the bound is reached, everything is.
    pub fn put(&self, key: &str, version: i64, body: Bytes) {
        if body.len() > self.max_bytes / 8 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let stale = entries.by_key.values().any(|e| e.version != version);
        if stale || entries.bytes + key.len() + body.len() > self.max_bytes {
            entries.by_key.retain(|_, e| !stale || e.version == version);
            entries.bytes = entries
                .by_key
                .iter()
                .map(|(k, e)| k.len() + e.body.len())
                .sum();
            if entries.bytes + key.len() + body.len() > self.max_bytes {
                entries.by_key.clear();
                entries.bytes = 0;
            }
        }
        entries.bytes += key.len() + body.len();
        if let Some(old) = entries.by_key.insert(
            key.to_owned(),
            Entry {
                version,
                body: body.clone(),
            },
        ) {
            entries.bytes -= key.len() + old.body.len();
        }
    }
}

/// The JSON answer to `request`: kept from an earlier identical request while
/// the data is unchanged, or computed by `compute` (and kept).
pub async fn answer<T, F>(
    cache: &AnswerCache,
    request: &HttpRequest,
    compute: F,
) -> Result<Bytes, ApiError>
where
    T: Serialize,
    F: Future<Output = Result<T, ApiError>>,
{
    let version = cache.version();
    let key = request.uri().to_string();
    if let Some(body) = version.and_then(|v| cache.get(&key, v)) {
        return Ok(body);
    }
    let answer = compute.await?;
    let body = Bytes::from(serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.into()))?);
    if let Some(version) = version {
        cache.put(&key, version, body.clone());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_bytes: usize) -> AnswerCache {
        AnswerCache {
            watcher: None,
            entries: Mutex::new(Entries::default()),
            max_bytes,
        }
    }

    #[test]
    fn an_answer_is_served_only_at_its_own_version() {
        let cache = cache(1 << 20);
        cache.put("/a", 1, Bytes::from_static(b"one"));
        assert_eq!(cache.get("/a", 1).as_deref(), Some(&b"one"[..]));
        assert_eq!(cache.get("/a", 2), None);
        assert_eq!(cache.get("/b", 1), None);
    }

    #[test]
    fn a_new_version_drops_older_answers_and_the_bound_holds() {
        let cache = cache(1000);
        cache.put("/a", 1, Bytes::from(vec![b'x'; 100]));
        cache.put("/b", 2, Bytes::from(vec![b'y'; 100]));
        assert_eq!(cache.get("/a", 1), None, "stale answers are dropped");
        for i in 0..50 {
            cache.put(&format!("/k{i}"), 2, Bytes::from(vec![b'z'; 100]));
            assert!(cache.entries.lock().unwrap().bytes <= 1000);
        }
        // Too large for the cache: not kept.
        cache.put("/big", 2, Bytes::from(vec![b'z'; 200]));
        assert_eq!(cache.get("/big", 2), None);
    }

    #[test]
    fn the_watcher_sees_commits_of_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db").display().to_string();
        let mut writer = SqliteConnection::establish(&path).unwrap();
        diesel::sql_query("CREATE TABLE t (x INTEGER)")
            .execute(&mut writer)
            .unwrap();
        let cache = AnswerCache::new(&DatabaseUrl::Sqlite(path), 1 << 20);
        let before = cache.version().expect("a version");
        assert_eq!(cache.version(), Some(before), "nothing changed");
        diesel::sql_query("INSERT INTO t VALUES (1)")
            .execute(&mut writer)
            .unwrap();
        assert_ne!(cache.version(), Some(before));
        assert!(AnswerCache::off().version().is_none());
    }
}
