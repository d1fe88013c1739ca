//! What operators read: request ids on every answer and in the log line, JSON
//! or plain-text logs, and a refused request logged once at INFO.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Backend, TestApp};

/// Every answer carries `x-request-id`: a well-formed incoming one is kept,
/// anything else replaced, and answers refused before routing have it too.
async fn every_answer_carries_a_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let plain = app
        .anonymous
        .get(app.url("/api/v1/periods/2021"))
        .send()
        .await
        .unwrap();
    let generated = id_of(&plain).expect("a generated id");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let kept = app
        .anonymous
        .get(app.url("/api/v1/periods/nonsense"))
        .header("x-request-id", "edge-7f3a.1")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status().as_u16(), 400);
    assert_eq!(id_of(&kept).as_deref(), Some("edge-7f3a.1"));
    let refused = app
        .anonymous
        .post(app.url("/api/v1/observations"))
        .header("authorization", "Bearer not-a-token")
        .header("x-request-id", "two words")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let replaced = id_of(&refused).expect("an id on a refused request");
    assert_ne!(replaced, "two words");
    assert_eq!(replaced.len(), 36);
}

crate::both_backends!(every_answer_carries_a_request_id);

/// The built server, its stdout read line by line.
struct Server {
    child: Child,
    lines: Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(log_format: &str) -> (Self, u16) {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_chitieu"))
            .env("DATABASE_URL", dir.path().join("chitieu.db"))
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("CHITIEU_LOG_FORMAT", log_format)
            .env("RUST_LOG", "info")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (sender, lines) = channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = sender.send(line);
                }
            });
        }
        let mut server = Self {
            child,
            lines,
            _dir: dir,
        };
        let port = server
            .wait_for(|line| line.contains("is listening"))
            .and_then(|line| {
                let digits = line.split("port").nth(1)?;
                digits
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .expect("the server says its port");
        (server, port)
    }

    fn wait_for(&mut self, found: impl Fn(&str) -> bool) -> Option<String> {
        loop {
            let line = self.lines.recv_timeout(Duration::from_secs(60)).ok()?;
            if found(&line) {
                return Some(line);
            }
        }
    }

    /// Every line written until now (after a short pause for the last ones).
    fn drain(&mut self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(300));
        self.lines.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn refuse(port: u16, id: &str) -> u16 {
    reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/periods/{}",
            "x".repeat(3000)
        ))
        .header("x-request-id", id)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn json_logs_say_a_refused_request_once_at_info_with_its_id() {
    let (mut server, port) = Server::start("json");
    assert_eq!(refuse(port, "json-log-test-1").await, 400);
    let lines = server.drain();
    let mentioning: Vec<Value> = lines
        .iter()
        .filter(|line| line.contains("json-log-test-1"))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(mentioning.len(), 1, "{lines:#?}");
    let line = &mentioning[0];
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["span"]["request_id"], "json-log-test-1", "{line}");
    assert_eq!(line["fields"]["status"], 400, "{line}");
    let text = line.to_string();
    assert!(
        text.len() < 1000,
        "one short line, not the whole problem: {text}"
    );
}

#[tokio::test]
async fn text_logs_have_no_colour_codes_when_not_on_a_terminal() {
    let (mut server, port) = Server::start("text");
    assert_eq!(refuse(port, "text-log-test-1").await, 400);
    let lines = server.drain();
    let line = lines
        .iter()
        .find(|line| line.contains("text-log-test-1"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("status=400"), "{line}");
    assert!(
        !lines.iter().any(|line| line.contains('\u{1b}')),
        "{lines:#?}"
    );
}
