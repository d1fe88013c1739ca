//! Tokens and roles, limits, concurrency, several instances, crash safety.

use std::collections::HashMap;

use chitieu::domain::role::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, read, test_config, Backend, TestApp, TestDatabase};

fn figure(committee: &str, period: &str, value: &str) -> Value {
    json!({"committee": committee, "indicator": "revenue", "period": period, "value": value})
}

async fn tokens_and_roles_decide_who_may_write_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.url("/api/v1/observations");
    // No token: reads are open, writes are 401 with a problem.
    assert_eq!(
        app.anonymous
            .get(&url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let response = app
        .anonymous
        .post(&url)
        .json(&figure("haiphong-business-bloc", "2025-Q1", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"chitieu\""
    );
    assert_problem(response, 401).await;
    let bogus = app.client_for("ctu_not-a-token");
    assert_problem(bogus.get(&url).send().await.unwrap(), 401).await;

    // A viewer reads but never writes.
    let viewer = app.client_for(&app.token("dashboard", Role::Viewer, &[]));
    assert_eq!(
        viewer.get(&url).send().await.unwrap().status().as_u16(),
        200
    );
    assert_problem(
        viewer
            .post(&url)
            .json(&figure("haiphong-business-bloc", "2025-Q1", "1"))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;

    // An editor writes for its committee and its sub-committees, and nowhere else.
    let sub = json!({"code": "haiphong-bank-branch", "name_vi": "Chi bộ ngân hàng", "name_en": "Bank branch", "kind": "other", "parent": "haiphong-business-bloc"});
    assert_eq!(app.post_json("/api/v1/committees", &sub).await.0, 201);
    let editor =
        app.client_for(&app.token("thong-ke-hp", Role::Editor, &["haiphong-business-bloc"]));
    let response = editor
        .post(&url)
        .json(&figure("haiphong-business-bloc", "2025-Q1", "1"))
        .send()
        .await
        .unwrap();
    let (status, created) = read(response).await;
    assert_eq!(status, 201, "{created}");
    let response = editor
        .post(&url)
        .json(&figure("haiphong-bank-branch", "2025-Q1", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "a sub-committee is in the editor's subtree"
    );
    let response = editor
        .post(&url)
        .json(&figure("hanoi-business-bloc", "2025-Q1", "1"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let batch = json!({"observations": [figure("haiphong-business-bloc", "2025-Q2", "1"), figure("hanoi-business-bloc", "2025-Q2", "1")]});
    let response = editor
        .post(app.url("/api/v1/observations/batch"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let csv = "committee,indicator,period,value\nhaiphong-business-bloc,revenue,2025-Q3,1\nhanoi-business-bloc,revenue,2025-Q3,1\n";
    let response = editor
        .post(app.url("/api/v1/imports"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    let (_, seeded) = app
        .get_json("/api/v1/observations?committee=hanoi-business-bloc")
        .await;
    assert_eq!(
        seeded["items"].as_array().unwrap().len(),
        0,
        "nothing was written for Hà Nội"
    );
    // Editors do not change reference data or locks, and do not see tokens.
    let response = editor
        .post(app.url("/api/v1/committees"))
        .json(&sub)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;
    assert_problem(
        editor.get(app.url("/api/v1/tokens")).send().await.unwrap(),
        403,
    )
    .await;

    // Revisions say which token wrote.
    let id = created["id"].as_i64().unwrap();
    let response = editor
        .put(app.url(&format!("/api/v1/observations/{id}")))
        .json(&json!({"value": "2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(revisions[1]["changed_by"], "thong-ke-hp");
    assert!(revisions[1]["token_id"].is_i64(), "{revisions}");

    // Tokens through the API: the secret is shown once; a revoked token stops working.
    let (status, issued) = app
        .post_json("/api/v1/tokens", &json!({"name": "ci", "role": "viewer"}))
        .await;
    assert_eq!(status, 201, "{issued}");
    let secret = issued["secret"].as_str().unwrap().to_owned();
    let (_, listed) = app.get_json("/api/v1/tokens").await;
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is never listed"
    );
    let ci = app.client_for(&secret);
    assert_eq!(ci.get(&url).send().await.unwrap().status().as_u16(), 200);
    let (status, _) = app
        .delete(&format!("/api/v1/tokens/{}", issued["id"]))
        .await;
    assert_eq!(status, 204);
    assert_problem(ci.get(&url).send().await.unwrap(), 401).await;
    let response = app
        .post_raw(
            "/api/v1/tokens",
            "application/json",
            json!({"name": "x", "role": "editor"}).to_string(),
        )
        .await;
    assert_problem(response, 422).await;
}

async fn reads_can_require_a_token(backend: Backend) {
    let database = TestDatabase::create(backend);
    let app = TestApp::spawn_with(backend, database, |url| {
        let mut config = test_config(url);
        config.public_read = false;
        config
    })
    .await;
    let response = app
        .anonymous
        .get(app.url("/api/v1/committees"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    let viewer = app.client_for(&app.token("dashboard", Role::Viewer, &[]));
    assert_eq!(
        viewer
            .get(app.url("/api/v1/committees"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // Probes and the API description stay open.
    assert_eq!(
        app.anonymous
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        app.anonymous
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

async fn dashboards_in_allowed_origins_may_call_from_a_browser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let preflight = app
        .anonymous
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/observations"))
        .header("Origin", "https://dashboard.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 200);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://dashboard.example"
    );
    let other = app
        .anonymous
        .get(app.url("/api/v1/observations"))
        .header("Origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// 16 clients × 300 writes to 8 overlapping keys: only 200/201/409/412 come
/// back, and every accepted write is in the revision history.
async fn concurrent_writers_lose_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.url("/api/v1/observations?mode=upsert");
    let mut tasks = Vec::new();
    for client_no in 0..16 {
        let client = app.client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted: HashMap<String, Vec<String>> = HashMap::new();
            let mut statuses: HashMap<u16, usize> = HashMap::new();
            for i in 0..300 {
                let period = format!("2030-M{:02}", 1 + (client_no + i) % 8);
                // Every value is unique, so every accepted write makes a revision.
                let value = format!("{client_no}.{i:04}");
                let response = client
                    .post(&url)
                    .json(&figure("vinhphuc-business-bloc", &period, &value))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                *statuses.entry(status).or_default() += 1;
                if status == 200 || status == 201 {
                    accepted.entry(period).or_default().push(value);
                }
            }
            (accepted, statuses)
        }));
    }
    let mut accepted: HashMap<String, Vec<String>> = HashMap::new();
    for task in tasks {
        let (values, statuses) = task.await.unwrap();
        for status in statuses.keys() {
            assert!(
                [200, 201, 409, 412].contains(status),
                "unexpected status {status}: {statuses:?}"
            );
        }
        for (period, mut list) in values {
            accepted.entry(period).or_default().append(&mut list);
        }
    }
    let written: usize = accepted.values().map(Vec::len).sum();
    assert!(
        written > 16 * 300 / 2,
        "most writes should be accepted, got {written}"
    );
    for (period, values) in accepted {
        let (_, listed) = app
            .get_json(&format!(
                "/api/v1/observations?committee=vinhphuc-business-bloc&period={period}"
            ))
            .await;
        let id = listed["items"][0]["id"].as_i64().unwrap();
        let (_, revisions) = app
            .get_json(&format!("/api/v1/observations/{id}/revisions"))
            .await;
        let mut history: Vec<String> = revisions
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["value"].as_str().unwrap().to_owned())
            .collect();
        let mut expected = values;
        history.sort();
        expected.sort();
        assert_eq!(
            history, expected,
            "{period}: the history holds exactly the accepted writes"
        );
    }
}

/// Two API instances on one database: a write through either is read through both.
async fn two_instances_share_one_database(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let second_database = TestDatabase::borrowed(&first.database.url);
    let second = TestApp::spawn_on(backend, second_database).await;
    let (status, _) = first
        .post_json(
            "/api/v1/observations",
            &figure("phutho-business-bloc", "2025-Q1", "10"),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = second
        .post_json(
            "/api/v1/observations",
            &figure("phutho-business-bloc", "2025-Q2", "20"),
        )
        .await;
    assert_eq!(status, 201);
    for app in [&first, &second] {
        let (_, listed) = app
            .get_json("/api/v1/observations?committee=phutho-business-bloc")
            .await;
        let values: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["10", "20"]);
    }
    // An answer one instance keeps (the SQLite answer cache) gives way to a
    // figure the other writes: each sees the other's commits at once.
    let yoy =
        "/api/v1/comparisons/yoy?committee=phutho-business-bloc&indicator=revenue&period=2026-Q2";
    let dashboard = "/api/v1/committees/phutho-business-bloc/dashboard?period=2026-Q2";
    for path in [yoy, yoy, dashboard] {
        let (status, _) = first.get_json(path).await;
        assert_eq!(status, 200);
    }
    let (status, _) = second
        .post_json(
            "/api/v1/observations",
            &figure("phutho-business-bloc", "2026-Q2", "30"),
        )
        .await;
    assert_eq!(status, 201);
    let (_, answer) = first.get_json(yoy).await;
    assert_eq!(answer["items"][0]["current"]["value"], "30", "{answer}");
    assert_eq!(answer["items"][0]["percent_change"], "50");
    let (_, board) = first.get_json(dashboard).await;
    let revenue = board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "revenue")
        .expect("revenue on the dashboard");
    assert_eq!(revenue["figure"]["value"], "30", "{board}");

    // A conflict across instances is still a conflict.
    let response = second
        .post_raw(
            "/api/v1/observations",
            "application/json",
            figure("phutho-business-bloc", "2025-Q1", "11").to_string(),
        )
        .await;
    assert_problem(response, 409).await;
}

crate::both_backends!(
    tokens_and_roles_decide_who_may_write_what,
    reads_can_require_a_token,
    dashboards_in_allowed_origins_may_call_from_a_browser,
    concurrent_writers_lose_nothing,
    two_instances_share_one_database,
);

/// A server process of the built binary, for tests that kill it.
struct ServerProcess {
    child: std::process::Child,
    address: String,
}

impl ServerProcess {
    async fn start(database_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("CHITIEU_SEED_DIR", chitieu::config::default_seed_dir())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start the server");
        let address = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("{address}/readyz"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Self { child, address };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not become ready");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin_token(database_url: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .args(["token", "create", "--name", "crash-test", "--role", "admin"])
        .env("DATABASE_URL", database_url)
        .output()
        .expect("token create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// How many figures the server lists, following every page.
async fn total(address: &str) -> i64 {
    let mut count = 0;
    let mut next = Some("/api/v1/observations?limit=1000".to_owned());
    while let Some(path) = next.take() {
        let body: Value = reqwest::get(format!("{address}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        count += body["items"].as_array().unwrap().len() as i64;
        next = body["next"].as_str().map(str::to_owned);
    }
    count
}

/// kill -9 in the middle of a large import: after a restart the database holds
/// all of the import or none of it, and SQLite's integrity check passes.
async fn a_killed_import_leaves_all_or_nothing(backend: Backend) {
    let database = TestDatabase::create(backend);
    let server = ServerProcess::start(&database.url).await;
    let token = admin_token(&database.url);
    let before = total(&server.address).await;
    const ROWS: i64 = 60_000;
    let mut csv = String::from("committee,indicator,period,breakdown,value\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "bacgiang-business-bloc,revenue,2024,row=r{i},{i}.5\n"
        ));
    }
    let client = reqwest::Client::new();
    let upload = tokio::spawn(
        client
            .post(format!("{}/api/v1/imports", server.address))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let mut server = server;
    // SIGKILL: no chance to clean up.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let _ = upload.await;
    drop(server);

    let restarted = ServerProcess::start(&database.url).await;
    let after = total(&restarted.address).await;
    eprintln!("killed import: {before} figures before, {after} after ({backend:?})");
    assert!(
        after == before || after == before + ROWS,
        "all or nothing: {before} before, {after} after"
    );
    drop(restarted);
    if backend == Backend::Sqlite {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let mut conn = diesel::SqliteConnection::establish(&database.url).unwrap();
        let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut conn)
            .unwrap();
        assert_eq!(checks[0].integrity_check, "ok");
    }
}

crate::both_backends!(a_killed_import_leaves_all_or_nothing);

/// SIGTERM lets the request in flight finish before the server exits.
async fn sigterm_drains_requests_in_flight(backend: Backend) {
    let database = TestDatabase::create(backend);
    let mut server = ServerProcess::start(&database.url).await;
    let token = admin_token(&database.url);
    let before = total(&server.address).await;
    const ROWS: i64 = 40_000;
    let mut csv = String::from("committee,indicator,period,breakdown,value\n");
    for i in 0..ROWS {
        csv.push_str(&format!("hanam-business-bloc,revenue,2024,row=r{i},{i}\n"));
    }
    let upload = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/imports", server.address))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pid = server.child.id().to_string();
    let signal = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signal.success());
    let response = upload
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(response.status().as_u16(), 200);
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "a clean exit after SIGTERM, got {exit}");
    drop(server);
    let restarted = ServerProcess::start(&database.url).await;
    assert_eq!(total(&restarted.address).await, before + ROWS);
}

crate::both_backends!(sigterm_drains_requests_in_flight);
