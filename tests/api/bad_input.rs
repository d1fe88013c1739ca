//! Every bad input gets a clear 4xx problem+json and writes nothing.

use serde_json::json;

use crate::helpers::{assert_problem, Backend, TestApp};

async fn bad_figures_are_refused_with_a_problem_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    let good = json!({"committee": "haiphong-business-bloc", "indicator": "revenue", "period": "2025-Q1", "value": "1"});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = good.clone();
        body[field] = value;
        body.to_string()
    };
    // (what, body, status, field the problem must name)
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("malformed JSON", r#"{"committee": "haiphong-business-bloc", "#.into(), 400, "line"),
        ("wrong type for value", with("value", json!(true)), 400, "line"),
        ("wrong type for committee", with("committee", json!(7)), 400, "line"),
        ("decimal comma", with("value", json!("27.701,5")), 400, "line"),
        ("unknown field", with("valeu", json!("1")), 400, "line"),
        ("missing value", json!({"committee": "haiphong-business-bloc", "indicator": "revenue", "period": "2025-Q1"}).to_string(), 400, "line"),
        ("unknown committee", with("committee", json!("atlantis")), 422, "committee"),
        ("malformed committee code", with("committee", json!("Hải Phòng")), 422, "committee"),
        ("unknown indicator", with("indicator", json!("gdp")), 422, "indicator"),
        ("bad period", with("period", json!("2025-Q5")), 422, "period"),
        ("unit mismatch", with("unit", json!("USD")), 422, "unit"),
        ("unknown unit", with("unit", json!("EUR")), 400, "line"),
        ("unknown source", with("source", json!("no-such-source")), 422, "source"),
        ("bad breakdown", with("breakdown", json!({"Sex": "nữ"})), 422, "breakdown"),
        ("bad scale", with("scale", json!(40)), 422, "scale"),
        ("qualifier without percent", with("reported_yoy_qualifier", json!("exact")), 422, "reported_yoy_qualifier"),
    ];
    for (what, body, status, field) in cases {
        let response = app
            .post_raw("/api/v1/observations", "application/json", body)
            .await;
        let problem = assert_problem(response, status).await;
        let named = problem["errors"].as_array().is_some_and(|errors| {
            errors
                .iter()
                .any(|e| e["field"].as_str().is_some_and(|f| f.starts_with(field)))
        });
        assert!(named, "{what}: the problem should name {field}: {problem}");
    }

    // Negative and fractional counts.
    for value in ["-1", "1.5"] {
        let body = json!({"committee": "haiphong-business-bloc", "indicator": "new_party_members", "period": "2025", "value": value});
        let response = app
            .post_raw("/api/v1/observations", "application/json", body.to_string())
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], "value", "{problem}");
    }

    // Not JSON at all, and too large.
    let response = app
        .post_raw("/api/v1/observations", "text/plain", good.to_string())
        .await;
    assert_problem(response, 415).await;
    let huge = format!(
        r#"{{"observations": [{}]}}"#,
        vec![good.to_string(); 5000].join(",")
    );
    let response = app
        .post_raw("/api/v1/observations/batch", "application/json", huge)
        .await;
    assert_problem(response, 413).await;

    assert_eq!(
        app.observation_count().await,
        before,
        "no bad input may write anything"
    );
}

async fn bad_paths_and_queries_are_refused_with_a_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, status) in [
        // Ids are integers: another segment names no figure.
        ("/api/v1/observations/abc", 404),
        ("/api/v1/observations/99999999999999999999", 400),
        ("/api/v1/observations/999999", 404),
        ("/api/v1/observations?period=2021-Q7", 400),
        ("/api/v1/observations?frequency=weekly", 400),
        ("/api/v1/observations?status=X", 400),
        ("/api/v1/observations?limit=0", 400),
        ("/api/v1/observations?limit=100000", 400),
        ("/api/v1/observations?offset=0", 400),
        ("/api/v1/observations?cursor=-1", 400),
        ("/api/v1/observations?limit=abc", 400),
        ("/api/v1/observations?committee=Bad%20Code", 400),
        ("/api/v1/committees/nowhere", 404),
        ("/api/v1/indicators/nothing", 404),
        ("/api/v1/groups/none", 404),
        ("/api/v1/sources/none", 404),
        ("/api/v1/targets/12345", 404),
        ("/api/v1/no-such-endpoint", 404),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(response, status).await;
    }
    let response = app
        .client
        .put(app.url("/api/v1/observations/999999"))
        .json(&json!({"value": "1"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .client
        .delete(app.url("/api/v1/observations/999999"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

crate::both_backends!(
    bad_figures_are_refused_with_a_problem_and_write_nothing,
    bad_paths_and_queries_are_refused_with_a_problem,
);
