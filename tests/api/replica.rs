//! Reads on a streaming replica (`DATABASE_READ_URL`), tested for real: the
//! test starts its own PostgreSQL primary (`initdb`) and a hot standby made
//! from it with `pg_basebackup`, streaming from the primary, both on free
//! ports, and points chitieu at both. Pausing the replica's replay makes it
//! fall behind on purpose: the answers read there must then say so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::{postgres_available, test_config, Backend, TestApp, TestDatabase};

/// PostgreSQL's server programs (`initdb`, `pg_ctl`, `pg_basebackup`).
fn server_programs() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    from_pg_config
        .into_iter()
        .chain(
            std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path().join("bin")),
        )
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_basebackup").is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL program; as root, as the `postgres` user (the server
/// refuses to run as root).
fn run(programs: &Path, program: &str, args: &[&str]) -> Output {
    let path = programs.join(program);
    let output = if running_as_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&path)
            .args(args)
            .output()
    } else {
        Command::new(&path).args(args).output()
    }
    .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn append(file: &Path, lines: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(file).unwrap();
    f.write_all(lines.as_bytes()).unwrap();
}

/// A PostgreSQL server of this test, stopped when dropped.
struct Server {
    programs: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Server {
    fn start(programs: &Path, data: &Path, port: u16) -> Self {
        let log = data.with_extension("log");
        run(
            programs,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        Self {
            programs: programs.to_owned(),
            data: data.to_owned(),
            port,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url()).expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let path = self.programs.join("pg_ctl");
        let data = self.data.to_string_lossy().into_owned();
        let args = ["-D", &data, "-m", "immediate", "-w", "stop"];
        let _ = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        };
    }
}

/// A primary and a hot standby streaming from it.
struct Pair {
    // Dropped in this order: the replica, the primary, then their files.
    replica: Server,
    primary: Server,
    _dir: tempfile::TempDir,
}

fn start_pair(programs: &Path) -> Pair {
    let dir = tempfile::Builder::new()
        .prefix("chitieu-replica-")
        .tempdir()
        .unwrap();
    // The postgres user writes the clusters into it.
    Command::new("chmod")
        .args(["0777", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    let primary_data = dir.path().join("primary");
    let replica_data = dir.path().join("replica");
    let (primary_port, replica_port) = (free_port(), free_port());
    run(
        programs,
        "initdb",
        &[
            "-D",
            primary_data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
    );
    let socket_dir = dir.path().to_str().unwrap();
    append(
        &primary_data.join("postgresql.conf"),
        &format!(
            "\nport = {primary_port}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket_dir}'\nfsync = off\n\
             wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
        ),
    );
    let primary = Server::start(programs, &primary_data, primary_port);
    run(
        programs,
        "pg_basebackup",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &primary_port.to_string(),
            "-U",
            "postgres",
            "-D",
            replica_data.to_str().unwrap(),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        ],
    );
    // The copied configuration is the primary's; a later line wins.
    append(
        &replica_data.join("postgresql.conf"),
        &format!("\nport = {replica_port}\n"),
    );
    let replica = Server::start(programs, &replica_data, replica_port);
    Pair {
        replica,
        primary,
        _dir: dir,
    }
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

fn query_text(conn: &mut PgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<Text>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .value
}

/// A WAL position (`16/B374D848`) as a number, to compare.
fn lsn(text: &str) -> u64 {
    let (high, low) = text
        .split_once('/')
        .unwrap_or_else(|| panic!("an LSN: {text:?}"));
    (u64::from_str_radix(high, 16).unwrap() << 32) | u64::from_str_radix(low, 16).unwrap()
}

/// What a read said: its status, body and replica position.
struct Read {
    status: u16,
    body: Value,
    lsn: Option<u64>,
    replayed_at: Option<String>,
}

async fn read(app: &TestApp, path: &str) -> Read {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let lsn = header("x-chitieu-replica-lsn").map(|l| lsn(&l));
    let replayed_at = header("x-chitieu-replica-replayed-at");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Read {
        status,
        body,
        lsn,
        replayed_at,
    }
}

/// Reads `path` until `done` says so (the replica catching up), for at most 30 s.
async fn read_until(app: &TestApp, path: &str, done: impl Fn(&Read) -> bool) -> Read {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = read(app, path).await;
        if done(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never caught up: {} {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const YOY: &str =
    "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2022";

fn current_value(read: &Read) -> Option<&str> {
    read.body["items"][0]["current"]["value"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_on_a_streaming_replica_say_how_far_it_has_replayed() {
    if !postgres_available() {
        return;
    }
    let Some(programs) = server_programs() else {
        let message = "no PostgreSQL server programs (initdb, pg_basebackup) to start a replica";
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
            panic!("{message}");
        }
        eprintln!("\n!!!!!!!!!! SKIPPED: {message} !!!!!!!!!!\n");
        return;
    };
    let pair = start_pair(&programs);
    let replica_url = pair.replica.url();
    let app = TestApp::spawn_with(
        Backend::Postgres,
        TestDatabase::borrowed(&pair.primary.url()),
        move |url| {
            let mut config = test_config(url);
            config.database_read_url =
                Some(chitieu::config::DatabaseUrl::parse(&replica_url).unwrap());
            config
        },
    )
    .await;

    // The schema and the seeds reach the replica; every answer read there
    // says how far it had replayed.
    let first = read_until(&app, YOY, |r| r.status == 200).await;
    let first_lsn = first
        .lsn
        .expect("an answer read on the replica names its LSN");
    assert!(first
        .replayed_at
        .as_deref()
        .is_some_and(|t| t.ends_with('Z') && t.len() > 20));
    for path in [
        "/api/v1/observations?committee=haiphong-business-bloc&limit=5",
        "/api/v1/targets",
        "/api/v1/series?committee=haiphong-business-bloc&indicator=revenue&from=2021&to=2022",
        "/api/v1/checks?period=2022",
        "/api/v1/targets/progress?period=2021",
        "/api/v1/committees/haiphong-business-bloc/dashboard?period=2022",
        "/api/v1/observations/export?format=csv&committee=haiphong-business-bloc",
    ] {
        let answer = read(&app, path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert!(answer.lsn.is_some(), "{path} names the replica's position");
    }

    // A write goes to the primary and shows on the replica once replayed.
    let upsert = |value: &str| {
        json!({"committee": "haiphong-business-bloc", "indicator": "revenue",
               "period": "2022", "value": value})
    };
    let (status, body) = app
        .post_json("/api/v1/observations?mode=upsert", &upsert("31000"))
        .await;
    assert!(status == 200 || status == 201, "{body}");
    let caught_up = read_until(&app, YOY, |r| current_value(r) == Some("31000")).await;
    assert!(caught_up.lsn.unwrap() > first_lsn);

    // The replica stops replaying: it falls behind, and says so.
    let mut replica = pair.replica.connect();
    query_text(
        &mut replica,
        "SELECT 'paused' AS value FROM (SELECT pg_wal_replay_pause()) AS p",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while query_text(
        &mut replica,
        "SELECT pg_get_wal_replay_pause_state() AS value",
    ) != "paused"
    {
        assert!(Instant::now() < deadline, "replay never paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = app
        .post_json("/api/v1/observations?mode=upsert", &upsert("32000"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut primary = pair.primary.connect();
    let written = lsn(&query_text(
        &mut primary,
        "SELECT pg_current_wal_lsn()::text AS value",
    ));
    for _ in 0..5 {
        let stale = read(&app, YOY).await;
        assert_eq!(current_value(&stale), Some("31000"), "{}", stale.body);
        let at = stale.lsn.unwrap();
        assert!(
            at < written,
            "the stale answer says it was read before the write: {at:X} < {written:X}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Lists are read on the replica too: still the old figure.
    let (status, now) = app
        .get_json(
            "/api/v1/observations?committee=haiphong-business-bloc&indicator=revenue&period=2022",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(now["items"][0]["value"], "31000");

    // Replay resumes: the answer catches up, and its position passes the write.
    query_text(
        &mut replica,
        "SELECT 'resumed' AS value FROM (SELECT pg_wal_replay_resume()) AS p",
    );
    let fresh = read_until(&app, YOY, |r| current_value(r) == Some("32000")).await;
    assert!(fresh.lsn.unwrap() >= written);
    drop(app);
}
