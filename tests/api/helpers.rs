//! Spawning the real application on a throw-away database of either backend.

use std::sync::atomic::{AtomicU32, Ordering};

use chitieu::config::{Config, DatabaseUrl};
use chitieu::domain::role::Role;
use chitieu::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether PostgreSQL tests can run. In CI a missing server is a failure;
/// elsewhere the test is skipped with a loud warning.
pub fn postgres_available() -> bool {
    match PgConnection::establish(&admin_database_url()) {
        Ok(_) => true,
        Err(error) if in_ci() => panic!("CI requires PostgreSQL at TEST_DATABASE_URL: {error}"),
        Err(error) => {
            eprintln!(
                "\n!!!!!!!!!! SKIPPED: PostgreSQL test, no server at {} ({error}). \
                 Set TEST_DATABASE_URL; CI=true makes this a failure. !!!!!!!!!!\n",
                admin_database_url()
            );
            false
        }
    }
}

/// Runs an async test body on SQLite and on PostgreSQL, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_available() {
                        super::$name($crate::helpers::Backend::Postgres).await;
                    }
                }
            }
        )+
    };
}

static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// A database made for one test and removed after it.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = dir.path().join("chitieu.db").display().to_string();
                Self {
                    url,
                    postgres_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = admin_database_url();
                let name = format!(
                    "chitieu_test_{}_{}_{}",
                    std::process::id(),
                    NEXT_DATABASE.fetch_add(1, Ordering::Relaxed),
                    chrono::Utc::now().timestamp_micros()
                );
                let mut conn =
                    PgConnection::establish(&admin).expect("connect to the PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                // The same server and parameters as the admin URL. Without
                // parameters, no TLS: on loopback it only costs, and a test
                // process exits with servers' connections still open, which
                // OpenSSL's exit-time cleanup does not survive.
                let (address, query) = admin.split_once('?').unwrap_or((&admin, "sslmode=disable"));
                let base = address
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(address);
                Self {
                    url: format!("{base}/{name}?{query}"),
                    postgres_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl TestDatabase {
    /// A handle on a database another `TestDatabase` owns (it is not dropped twice).
    pub fn borrowed(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            postgres_name: None,
            _dir: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            if let Ok(mut conn) = PgConnection::establish(&admin_database_url()) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: DatabaseUrl::parse(database_url).expect("test database URL"),
        database_read_url: None,
        bind_addr: "127.0.0.1:0".parse().expect("address"),
        pool_size: 4,
        seed_on_start: true,
        seed_dir: chitieu::config::default_seed_dir(),
        max_body_bytes: 256 * 1024,
        answer_cache_bytes: 1024 * 1024,
        workers: 1,
        max_import_bytes: 64 * 1024 * 1024,
        public_read: true,
        cors_origins: vec!["https://dashboard.example".into()],
        lock_wait: std::time::Duration::from_secs(10),
        statement_timeout: std::time::Duration::from_secs(30),
        plausibility_factor: Default::default(),
    }
}

/// A running server on its own database.
#[allow(dead_code)] // `backend` is for tests that differ by backend; `database` lives as long as the app.
pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    /// Sends an admin token.
    pub client: reqwest::Client,
    /// Sends no token.
    pub anonymous: reqwest::Client,
    pub pool: chitieu::db::Pool,
    // Dropped last: the server must be gone before the database is.
    pub database: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let database = TestDatabase::create(backend);
        Self::spawn_on(backend, database).await
    }

    /// Starts a server on an existing database (e.g. to start twice on one database).
    pub async fn spawn_on(backend: Backend, database: TestDatabase) -> Self {
        Self::spawn_with(backend, database, test_config).await
    }

    /// Starts a server with a changed configuration. The test client carries an
    /// admin token; `client_for` makes clients with other tokens.
    pub async fn spawn_with(
        backend: Backend,
        database: TestDatabase,
        configure: impl FnOnce(&str) -> Config,
    ) -> Self {
        let config = configure(&database.url);
        let app = Application::build(config).expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let mut conn = app.pool().get().expect("connection");
        let (_, admin) =
            chitieu::auth::create_token(&mut conn, "test-admin", Role::Admin, &[], "test")
                .expect("admin token");
        drop(conn);
        let pool = app.pool().clone();
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            backend,
            client: client_with(Some(&admin)),
            anonymous: client_with(None),
            pool,
            database,
        }
    }

    /// A token with this name, role and committees (codes).
    pub fn token(&self, name: &str, role: Role, committees: &[&str]) -> String {
        let mut conn = self.pool.get().expect("connection");
        let ids: Vec<i64> = committees
            .iter()
            .map(|code| {
                chitieu::db::committees::find_by_code(&mut conn, code)
                    .unwrap()
                    .expect("committee")
                    .id
            })
            .collect();
        chitieu::auth::create_token(&mut conn, name, role, &ids, "test")
            .expect("token")
            .1
    }

    /// A client that sends this token.
    pub fn client_for(&self, token: &str) -> reqwest::Client {
        client_with(Some(token))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET, returning the status and the JSON body (Null if the body is not JSON).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        read(response).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// POST a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .delete(self.url(path))
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// How many live figures the API lists in all.
    pub async fn observation_count(&self) -> i64 {
        self.list_all("/api/v1/observations?limit=1000").await.len() as i64
    }

    /// Every item of a paged list: the first page at `path`, then each page
    /// its `next` names, checking that the pages neither repeat nor go back.
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items: Vec<Value> = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(path) = next.take() {
            let (status, body) = self.get_json(&path).await;
            assert_eq!(status, 200, "{path}: {body}");
            let page = body["items"].as_array().expect("items");
            if let (Some(last), Some(first)) = (items.last(), page.first()) {
                assert!(
                    first["id"].as_i64() > last["id"].as_i64(),
                    "pages go forward by id: {path}"
                );
            }
            items.extend(page.iter().cloned());
            next = body["next"].as_str().map(str::to_owned);
        }
        items
    }
}

fn client_with(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("header value");
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body)
}

/// Asserts an RFC 7807 answer with this status.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (_, body) = read(response).await;
    assert_eq!(actual, status, "{body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["status"].as_u64(), Some(u64::from(status)), "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
        "{body}"
    );
    body
}
