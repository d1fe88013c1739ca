//! Rules every input follows on every path: what a value may be, and what a
//! free-text field may hold.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, Backend, TestApp};

fn figure(period: &str) -> Value {
    json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": period, "value": "1"})
}

/// An object a client writes with the key serde_json uses inside for
/// numbers: not a number.
fn disguised_number() -> Value {
    json!({"$serde_json::private::Number": "1"})
}

async fn a_value_is_a_json_number_or_a_string_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app.post_json("/api/v1/observations", &figure("2021")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let with = |mut body: Value, field: &str, value: Value| {
        body[field] = value;
        body
    };
    let observation_url = format!("/api/v1/observations/{id}");
    let target = json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2021", "value": "5"});
    for bad in [disguised_number(), json!({}), json!([1]), json!(true)] {
        let cases: Vec<(&str, &str, Value)> = vec![
            (
                "POST",
                "/api/v1/observations",
                with(figure("2022"), "value", bad.clone()),
            ),
            (
                "POST",
                "/api/v1/observations",
                with(figure("2022"), "reported_yoy_pct", bad.clone()),
            ),
            (
                "POST",
                "/api/v1/observations/batch",
                json!({"observations": [with(figure("2022"), "value", bad.clone())]}),
            ),
            ("PUT", &observation_url, json!({"value": bad.clone()})),
            (
                "PUT",
                &observation_url,
                json!({"value": "2", "reported_share_pct": bad.clone()}),
            ),
            (
                "POST",
                "/api/v1/targets",
                with(target.clone(), "value", bad.clone()),
            ),
        ];
        for (method, path, body) in cases {
            let request = match method {
                "PUT" => app.client.put(app.url(path)),
                _ => app.client.post(app.url(path)),
            };
            let response = request.json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(
                status == 400 || status == 422,
                "{method} {path} {body}: {status}"
            );
            assert_problem(response, status).await;
        }
    }
    // Nothing was written by any of them.
    let (_, now) = app.get_json(&observation_url).await;
    assert_eq!(now["revision"], 1, "{now}");
    assert_eq!(app.observation_count().await, 1 + seeded(&app).await);
    // Numbers and strings still are values, exactly.
    // Raw text: a Rust float literal would lose the digits before sending.
    let response = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            r#"{"observations": [
                {"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2023", "value": 12345678901234567.891},
                {"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2024", "value": "975.9"},
                {"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2025", "value": 0.5}
            ]}"#,
        )
        .await;
    let (status, body) = crate::helpers::read(response).await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&from=2023")
        .await;
    let values: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["12345678901234567.891", "975.9", "0.5"]);
}

/// Figures of other committees loaded at start.
async fn seeded(app: &TestApp) -> i64 {
    let (_, others) = app.get_json("/api/v1/observations?limit=1").await;
    let (_, ours) = app
        .get_json("/api/v1/observations?limit=1&committee=hanam-business-bloc")
        .await;
    others["total"].as_i64().unwrap() - ours["total"].as_i64().unwrap()
}

crate::both_backends!(a_value_is_a_json_number_or_a_string_only);
