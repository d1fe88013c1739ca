//! Who may call what: every route the server serves × every kind of caller ×
//! every spelling of its path.
//!
//! The routes come from the served OpenAPI document, which is built from the
//! router's own registrations (a route cannot be served undocumented), and the
//! rule each route is expected to apply is the `security` it documents. Every
//! request is sent byte for byte over a raw socket, so that no client library
//! normalises the path first (`curl --path-as-is`).

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::helpers::{test_config, Backend, TestApp, TestDatabase};
use chitieu::domain::role::Role;

/// The committee the in-scope editor writes for, and another one.
const MINE: &str = "haiphong-business-bloc";
const THEIRS: &str = "hanoi-business-bloc";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Public,
    Read,
    Write,
    Admin,
}

/// The rule an operation documents in its `security`.
fn documented_rule(operation: &Value) -> Rule {
    let security = operation["security"]
        .as_array()
        .unwrap_or_else(|| panic!("every operation states its security: {operation}"));
    let optional = security
        .iter()
        .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
    let roles: Vec<&str> = security
        .iter()
        .filter_map(|s| s["bearer"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    match (optional, security.len(), roles.as_slice()) {
        (true, 1, []) => Rule::Public,
        (true, 2, []) => Rule::Read,
        (false, 1, ["editor", "admin"]) => Rule::Write,
        (false, 1, ["admin"]) => Rule::Admin,
        _ => panic!("unexpected security {security:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Anonymous,
    Revoked,
    Viewer,
    OutOfScopeEditor,
    InScopeEditor,
    Admin,
}

/// Refusals first, so that a write admitted for one caller has not consumed
/// the sample another caller must be refused on.
const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::Revoked,
    Who::Viewer,
    Who::OutOfScopeEditor,
    Who::InScopeEditor,
    Who::Admin,
];

/// The status a caller must be refused with, or `None` if it is let through.
fn refusal(rule: Rule, who: Who, public_read: bool) -> Option<u16> {
    use Who::*;
    match (rule, who) {
        (_, Revoked) => Some(401),
        (Rule::Public, _) => None,
        (Rule::Read, Anonymous) if !public_read => Some(401),
        (Rule::Read, _) => None,
        (Rule::Write | Rule::Admin, Anonymous) => Some(401),
        (Rule::Write, Viewer | OutOfScopeEditor) => Some(403),
        (Rule::Write, InScopeEditor | Admin) => None,
        (Rule::Admin, Admin) => None,
        (Rule::Admin, _) => Some(403),
    }
}

/// The spellings of a path an attacker would try: percent-encoding (one
/// character, every character, either case of hex), empty and dot segments,
/// a trailing slash, other letter case, an encoded slash.
fn variants(path: &str) -> Vec<String> {
    let encode_all = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    format!("%{:02X}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let first = segments[0];
    let rest = &path[first.len() + 1..];
    let last = *segments.last().unwrap();
    let head = &path[..path.len() - last.len()];
    let mut out = vec![
        format!("/%{:02x}{}{rest}", first.as_bytes()[0], &first[1..]),
        format!("/%{:02X}{}{rest}", first.as_bytes()[0], &first[1..]),
        encode_all(path),
        format!("{head}%{:02x}{}", last.as_bytes()[0], &last[1..]),
        format!("/{path}"),
        path.replacen('/', "//", 2).replacen("//", "/", 1),
        format!("{path}/"),
        path.to_uppercase(),
        format!("/{first}/.{rest}"),
        format!("/{first}/x/..{rest}"),
        format!("/{first}%2F{}", rest.trim_start_matches('/')),
        format!("/{first}%2f{}", rest.trim_start_matches('/')),
    ];
    out.retain(|v| v != path);
    out.dedup();
    out
}

/// A request sent as raw bytes: the path exactly as given.
async fn raw(
    address: &str,
    method: &str,
    target: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> u16 {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await.expect("send");
    stream.write_all(body).await.expect("send body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// One concrete request for an operation: path (with query), body.
struct Sample {
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

struct Fixture {
    figure: i64,
    figure_to_delete: i64,
    target: i64,
    lock: i64,
    token_to_revoke: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let figure = |period: &str| json!({"committee": MINE, "indicator": "revenue", "period": period, "value": "10"});
    let (status, a) = app
        .post_json("/api/v1/observations", &figure("2031-Q1"))
        .await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = app
        .post_json("/api/v1/observations", &figure("2031-Q2"))
        .await;
    assert_eq!(status, 201, "{b}");
    let (status, target) = app
        .post_json(
            "/api/v1/targets",
            &json!({"committee": MINE, "indicator": "revenue", "period": "2031", "value": "100"}),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    let (status, lock) = app
        .post_json(
            "/api/v1/locks",
            &json!({"committee": MINE, "period": "2019-Q1"}),
        )
        .await;
    assert_eq!(status, 201, "{lock}");
    let (status, token) = app
        .post_json(
            "/api/v1/tokens",
            &json!({"name": "to-revoke", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    let (status, committee) = app
        .post_json(
            "/api/v1/committees",
            &json!({"code": "matrix-throwaway", "name_vi": "Thử", "name_en": "Throwaway", "kind": "other"}),
        )
        .await;
    assert_eq!(status, 201, "{committee}");
    Fixture {
        figure: a["id"].as_i64().unwrap(),
        figure_to_delete: b["id"].as_i64().unwrap(),
        target: target["id"].as_i64().unwrap(),
        lock: lock["id"].as_i64().unwrap(),
        token_to_revoke: token["id"].as_i64().unwrap(),
    }
}

/// A request each caller the rule admits can carry out. Every operation of
/// the document needs one: a new route without a sample fails here.
fn sample(method: &str, template: &str, f: &Fixture) -> Sample {
    let json_body = |v: Value| Sample {
        path: String::new(),
        content_type: Some("application/json"),
        body: v.to_string().into_bytes(),
    };
    let none = || Sample {
        path: String::new(),
        content_type: None,
        body: Vec::new(),
    };
    let figure =
        json!({"committee": MINE, "indicator": "revenue", "period": "2032-Q1", "value": "7"});
    let mut s = match (method, template) {
        ("POST", "/api/v1/committees") => json_body(
            json!({"code": "matrix-new", "name_vi": "Mới", "name_en": "New", "kind": "other"}),
        ),
        ("PUT", "/api/v1/committees/{code}") => {
            json_body(json!({"name_vi": "Thử lại", "name_en": "Throwaway again", "kind": "other"}))
        }
        ("POST", "/api/v1/groups") => json_body(
            json!({"code": "matrix-group", "name_vi": "Nhóm", "name_en": "Group", "members": [MINE]}),
        ),
        ("POST", "/api/v1/groups/{code}/members") => {
            json_body(json!({"committee": "haiphong-economic-zone"}))
        }
        ("POST", "/api/v1/indicators") => json_body(json!({
            "code": "matrix_indicator", "name_vi": "Chỉ tiêu", "name_en": "Indicator",
            "unit": "VND", "scale": 9, "measure_kind": "flow", "direction": "higher_is_better"
        })),
        ("PUT", "/api/v1/indicators/{code}") => json_body(json!({
            "name_vi": "Tổng doanh thu", "name_en": "Total revenue",
            "unit": "VND", "scale": 9, "measure_kind": "flow", "direction": "higher_is_better"
        })),
        ("POST", "/api/v1/extractions") => {
            json_body(json!({"text": "Năm 2021, tổng doanh thu 27.701 tỷ đồng."}))
        }
        ("POST", "/api/v1/locks") => json_body(json!({"committee": MINE, "period": "2018-Q1"})),
        ("POST", "/api/v1/observations") => json_body(figure),
        ("POST", "/api/v1/observations/batch") => json_body(
            json!({"observations": [{"committee": MINE, "indicator": "revenue", "period": "2032-Q2", "value": "8"}]}),
        ),
        ("PUT", "/api/v1/observations/{id}") => json_body(json!({"value": "11"})),
        ("POST", "/api/v1/imports") => Sample {
            path: String::new(),
            content_type: Some("text/csv"),
            body: format!("committee,indicator,period,value\n{MINE},revenue,2032-Q3,9\n")
                .into_bytes(),
        },
        ("POST", "/api/v1/targets") => json_body(
            json!({"committee": MINE, "indicator": "revenue", "period": "2032", "value": "50"}),
        ),
        ("POST", "/api/v1/tokens") => {
            json_body(json!({"name": "matrix", "role": "editor", "committees": [MINE]}))
        }
        (_, _) => none(),
    };
    let query = match (method, template) {
        ("GET", "/api/v1/comparisons/yoy") => {
            "?committee=haiphong-business-bloc&indicator=revenue&period=2022"
        }
        ("GET", "/api/v1/series") => {
            "?committee=haiphong-business-bloc&indicator=revenue&from=2021&to=2022"
        }
        ("GET", "/api/v1/committees/{code}/dashboard") => "?period=2022",
        ("GET", "/api/v1/targets/progress") => "?period=2022",
        ("GET", "/api/v1/observations/export") => "?format=csv",
        _ => "",
    };
    let code = || match template {
        t if t.starts_with("/api/v1/committees/{code}/dashboard") => MINE,
        t if t.starts_with("/api/v1/committees") => "matrix-throwaway",
        t if t.starts_with("/api/v1/groups") => "northern-business-blocs",
        t if t.starts_with("/api/v1/indicators") => "revenue",
        t if t.starts_with("/api/v1/periods") => "2022-Q1",
        t if t.starts_with("/api/v1/sources") => "004_28daa8c0953f086d",
        other => panic!("no sample code for {other}"),
    };
    let id = || match template {
        "/api/v1/observations/{id}" if method == "DELETE" => f.figure_to_delete,
        t if t.starts_with("/api/v1/observations") => f.figure,
        t if t.starts_with("/api/v1/targets") => f.target,
        t if t.starts_with("/api/v1/locks") => f.lock,
        t if t.starts_with("/api/v1/tokens") => f.token_to_revoke,
        other => panic!("no sample id for {other}"),
    };
    let mut path = template.replace("{committee}", MINE);
    if path.contains("{code}") {
        path = path.replace("{code}", code());
    }
    if path.contains("{id}") {
        path = path.replace("{id}", &id().to_string());
    }
    assert!(
        !path.contains('{'),
        "no sample for {method} {template}: add one"
    );
    s.path = format!("{path}{query}");
    s
}

async fn route_matrix(backend: Backend, public_read: bool) {
    let app = TestApp::spawn_with(backend, TestDatabase::create(backend), |url| {
        let mut config = test_config(url);
        config.public_read = public_read;
        config
    })
    .await;
    let f = fixture(&app).await;
    let mut tokens = std::collections::HashMap::new();
    tokens.insert(Who::Viewer, app.token("matrix-viewer", Role::Viewer, &[]));
    tokens.insert(
        Who::OutOfScopeEditor,
        app.token("matrix-theirs", Role::Editor, &[THEIRS]),
    );
    tokens.insert(
        Who::InScopeEditor,
        app.token("matrix-mine", Role::Editor, &[MINE]),
    );
    tokens.insert(Who::Admin, app.token("matrix-admin", Role::Admin, &[]));
    let revoked = app.token("matrix-revoked", Role::Admin, &[]);
    let revoked_id = {
        let (_, list) = app.get_json("/api/v1/tokens").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "matrix-revoked")
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        app.delete(&format!("/api/v1/tokens/{revoked_id}")).await.0,
        204
    );
    tokens.insert(Who::Revoked, revoked);

    let (status, document) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let mut operations = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((method.to_uppercase(), template.clone(), operation.clone()));
        }
    }
    // Reads first, then writes, deletions last: a deleted sample does not
    // make a later operation's sample disappear.
    let order = |m: &str| match m {
        "GET" => 0,
        "POST" | "PUT" => 1,
        _ => 2,
    };
    operations.sort_by_key(|(m, t, _)| (order(m), t.contains("tokens"), t.clone()));
    assert!(operations.len() >= 40, "{} operations", operations.len());

    let mut failures = Vec::new();
    for (method, template, operation) in &operations {
        let rule = documented_rule(operation);
        let sample = sample(method, template, &f);
        let (path, query) = match sample.path.split_once('?') {
            Some((p, q)) => (p.to_owned(), format!("?{q}")),
            None => (sample.path.clone(), String::new()),
        };
        let mut admitted_success = false;
        for who in EVERYONE {
            let token = tokens.get(&who).map(String::as_str);
            let expected = refusal(rule, who, public_read);
            let mut spellings: Vec<(String, bool)> =
                variants(&path).into_iter().map(|v| (v, true)).collect();
            spellings.push((path.clone(), false));
            for (spelling, is_variant) in spellings {
                let status = raw(
                    &app.address,
                    method,
                    &format!("{spelling}{query}"),
                    token,
                    sample.content_type,
                    &sample.body,
                )
                .await;
                let ok = match expected {
                    // Refused exactly as the rule says; another spelling may
                    // also not be routed at all.
                    Some(refused) => {
                        status == refused || (is_variant && matches!(status, 404 | 405))
                    }
                    None => !matches!(status, 401 | 403) && status < 500,
                };
                if expected.is_none() && (200..300).contains(&status) {
                    admitted_success = true;
                }
                if !ok {
                    failures.push(format!(
                        "{method} {spelling}{query} as {who:?} ({rule:?}): {status}, expected {}",
                        expected.map_or("admitted".to_owned(), |s| s.to_string())
                    ));
                }
            }
        }
        if !admitted_success {
            failures.push(format!(
                "{method} {template}: no admitted caller succeeded; the sample is not a real request"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn every_route_refuses_every_caller_its_rule_excludes(backend: Backend) {
    route_matrix(backend, false).await;
}

async fn with_public_reads_the_same_matrix_holds(backend: Backend) {
    route_matrix(backend, true).await;
}

both_backends!(
    every_route_refuses_every_caller_its_rule_excludes,
    with_public_reads_the_same_matrix_holds
);

fn figure(committee: &str, period: &str) -> Value {
    json!({"committee": committee, "indicator": "revenue", "period": period, "value": "1"})
}

/// A token's scope never widens: not when its only committee is deleted (an
/// empty scope grants nothing), not when a committee is moved under its own.
async fn scopes_never_widen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post_json(
            "/api/v1/committees",
            &json!({"code": "short-lived", "name_vi": "Tạm", "name_en": "Short-lived", "kind": "other"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let orphan = app.client_for(&app.token("orphan", Role::Editor, &["short-lived"]));
    assert_eq!(app.delete("/api/v1/committees/short-lived").await.0, 204);
    let csv = format!("committee,indicator,period,value\n{THEIRS},revenue,2033-Q1,1\n");
    for response in [
        orphan
            .post(app.url("/api/v1/imports"))
            .header("Content-Type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .unwrap(),
        orphan
            .post(app.url("/api/v1/imports?dry_run=true"))
            .header("Content-Type", "text/csv")
            .body(csv.clone())
            .send()
            .await
            .unwrap(),
        orphan
            .post(app.url("/api/v1/observations"))
            .json(&figure(THEIRS, "2033-Q1"))
            .send()
            .await
            .unwrap(),
    ] {
        crate::helpers::assert_problem(response, 403).await;
    }
    assert_eq!(
        app.get_json(&format!(
            "/api/v1/observations?committee={THEIRS}&period=2033-Q1"
        ))
        .await
        .1["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Moving another province's committee under the editor's own does not
    // hand it over: the scope was fixed when the token was issued.
    let mine = app.client_for(&app.token("mine", Role::Editor, &[MINE]));
    let (status, body) = app
        .put_json(
            &format!("/api/v1/committees/{THEIRS}"),
            &json!({"name_vi": "Đảng ủy Khối Doanh nghiệp thành phố Hà Nội", "name_en": "Ha Noi", "kind": "business_bloc", "parent": MINE}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let response = mine
        .post(app.url("/api/v1/observations"))
        .json(&figure(THEIRS, "2033-Q2"))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(response, 403).await;
    // Re-parenting is for admins.
    let response = mine
        .put(app.url(&format!("/api/v1/committees/{THEIRS}")))
        .json(&json!({"name_vi": "x", "name_en": "x", "kind": "business_bloc", "parent": MINE}))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(response, 403).await;
}

/// Scope is checked before locks (403, not 409), locks cover targets, two
/// Authorization headers are refused, unknown query parameters are refused.
async fn refusals_are_the_right_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .post_json(
            "/api/v1/locks",
            &json!({"committee": THEIRS, "period": "2033"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mine = app.client_for(&app.token("mine", Role::Editor, &[MINE]));
    let csv = format!("committee,indicator,period,value\n{THEIRS},revenue,2033-Q1,1\n");
    let response = mine
        .post(app.url("/api/v1/imports"))
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(response, 403).await;
    let response = mine
        .post(app.url("/api/v1/observations"))
        .json(&figure(THEIRS, "2033-Q1"))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(response, 403).await;

    // A target in a locked period is refused like a figure.
    let (status, body) = app
        .post_json(
            "/api/v1/targets",
            &json!({"committee": THEIRS, "indicator": "revenue", "period": "2033-Q4", "value": "5"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["lock"]["committee"], THEIRS, "{body}");

    // Two Authorization headers: which one counts is not for the server to guess.
    let admin = app.token("second-admin", Role::Admin, &[]);
    let viewer = app.token("a-viewer", Role::Viewer, &[]);
    let status = raw_with_headers(
        &app.address,
        "GET /api/v1/tokens",
        &[
            format!("Authorization: Bearer {viewer}"),
            format!("Authorization: Bearer {admin}"),
        ],
    )
    .await;
    assert_eq!(status, 400);

    // A misspelt filter is refused, not ignored.
    let (status, body) = app.get_json("/api/v1/observations?group=x").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "group", "{body}");
    assert_eq!(body["errors"][0]["code"], "unknown_parameter", "{body}");
    let (status, body) = app.get_json("/api/v1/committees?limit=5").await;
    assert_eq!(status, 400, "{body}");
    // A served path with another method: 405 and what it takes.
    let response = app
        .client
        .patch(app.url("/api/v1/observations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, POST");
    crate::helpers::assert_problem(response, 405).await;
    let response = app
        .client
        .put(app.url("/api/v1/tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, POST");
    crate::helpers::assert_problem(response, 405).await;

    // Known ones still work.
    let (status, _) = app
        .get_json("/api/v1/observations?committee=haiphong-business-bloc&limit=5")
        .await;
    assert_eq!(status, 200);
}

async fn raw_with_headers(address: &str, request_line: &str, headers: &[String]) -> u16 {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let mut head = format!("{request_line} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status")
}

both_backends!(scopes_never_widen, refusals_are_the_right_ones);
