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
    let all = app.list_all("/api/v1/observations?limit=1000").await;
    let ours = app
        .list_all("/api/v1/observations?limit=1000&committee=hanam-business-bloc")
        .await;
    all.len() as i64 - ours.len() as i64
}

/// Everything a refused write could have changed, as the API shows it.
async fn stored_state(app: &TestApp, figure: i64) -> Vec<Value> {
    let mut state = Vec::new();
    for path in [
        "/api/v1/observations?limit=1000".to_owned(),
        format!("/api/v1/observations/{figure}/revisions"),
        "/api/v1/targets?limit=1000".to_owned(),
        "/api/v1/locks".to_owned(),
        "/api/v1/committees".to_owned(),
        "/api/v1/groups".to_owned(),
        "/api/v1/indicators".to_owned(),
        "/api/v1/tokens".to_owned(),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        state.push(body);
    }
    state
}

/// Every free-text field on every path that writes it: a NUL, another
/// control character and a text over the field's limit are each refused
/// with 422 naming the field, and nothing is stored.
async fn every_free_text_field_refuses_control_characters_and_overlong_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app.post_json("/api/v1/observations", &figure("2021")).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let figure_url = format!("/api/v1/observations/{id}");
    let committee = json!({"code": "haiduong-business-bloc", "name_vi": "Hải Dương", "name_en": "Hai Duong", "kind": "business_bloc"});
    let committee_update =
        json!({"name_vi": "Hà Nam", "name_en": "Ha Nam", "kind": "business_bloc"});
    let group = json!({"code": "north", "name_vi": "Miền Bắc", "name_en": "North", "members": ["hanam-business-bloc"]});
    let indicator = json!({"code": "gross_margin", "name_vi": "Lãi gộp", "name_en": "Gross margin", "unit": "VND", "scale": 9,
                           "measure_kind": "flow", "direction": "higher_is_better"});
    let mut indicator_update = indicator.clone();
    indicator_update.as_object_mut().unwrap().remove("code");
    let target = json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2021", "value": "5"});
    let lock = json!({"committee": "hanam-business-bloc", "period": "2024"});
    let token = json!({"name": "ci", "role": "viewer"});
    // (method, path, body, field, limit): the field is set in the body, or
    // in the query when the body is none.
    let cases: Vec<(&str, String, Option<Value>, &str, usize)> = vec![
        (
            "POST",
            "/api/v1/observations".into(),
            Some(figure("2022")),
            "source_quote",
            4000,
        ),
        (
            "POST",
            "/api/v1/observations".into(),
            Some(figure("2022")),
            "reason",
            1000,
        ),
        (
            "POST",
            "/api/v1/observations/batch".into(),
            Some(json!({"observations": [figure("2022")]})),
            "reason",
            1000,
        ),
        (
            "POST",
            "/api/v1/observations/batch".into(),
            Some(json!({"observations": [figure("2022")]})),
            "observations.0.source_quote",
            4000,
        ),
        (
            "POST",
            "/api/v1/observations/batch".into(),
            Some(json!({"observations": [figure("2022")]})),
            "observations.0.reason",
            1000,
        ),
        (
            "PUT",
            figure_url.clone(),
            Some(json!({"value": "2"})),
            "source_quote",
            4000,
        ),
        (
            "PUT",
            figure_url.clone(),
            Some(json!({"value": "2"})),
            "reason",
            1000,
        ),
        ("DELETE", figure_url.clone(), None, "reason", 1000),
        (
            "POST",
            "/api/v1/targets".into(),
            Some(target.clone()),
            "assigned_by",
            300,
        ),
        (
            "POST",
            "/api/v1/targets".into(),
            Some(target.clone()),
            "source_quote",
            4000,
        ),
        (
            "POST",
            "/api/v1/targets".into(),
            Some(target.clone()),
            "reason",
            1000,
        ),
        (
            "POST",
            "/api/v1/locks".into(),
            Some(lock.clone()),
            "reason",
            1000,
        ),
        (
            "POST",
            "/api/v1/committees".into(),
            Some(committee.clone()),
            "name_vi",
            300,
        ),
        (
            "POST",
            "/api/v1/committees".into(),
            Some(committee.clone()),
            "name_en",
            300,
        ),
        (
            "PUT",
            "/api/v1/committees/hanam-business-bloc".into(),
            Some(committee_update.clone()),
            "name_vi",
            300,
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            Some(group.clone()),
            "name_vi",
            300,
        ),
        (
            "POST",
            "/api/v1/groups".into(),
            Some(group.clone()),
            "description",
            2000,
        ),
        (
            "POST",
            "/api/v1/indicators".into(),
            Some(indicator.clone()),
            "name_en",
            300,
        ),
        (
            "POST",
            "/api/v1/indicators".into(),
            Some(indicator.clone()),
            "description",
            2000,
        ),
        (
            "PUT",
            "/api/v1/indicators/revenue".into(),
            Some(indicator_update.clone()),
            "description",
            2000,
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(token.clone()),
            "name",
            100,
        ),
    ];
    let before = stored_state(&app, id).await;
    for (method, path, body, field, limit) in &cases {
        for bad in [
            "a\0b".to_owned(),
            "a\u{1b}[2Jb".to_owned(),
            "ệ".repeat(limit + 1),
        ] {
            let (url, body) = match body {
                None => (
                    format!(
                        "{}?{field}={}",
                        app.url(path),
                        bad.replace('\0', "%00")
                            .replace('\u{1b}', "%1B")
                            .replace('[', "%5B")
                    ),
                    None,
                ),
                Some(body) => {
                    let mut body = body.clone();
                    let mut at = &mut body;
                    let mut parts = field.split('.').peekable();
                    while let Some(part) = parts.next() {
                        at = match part.parse::<usize>() {
                            Ok(index) => &mut at[index],
                            Err(_) if parts.peek().is_none() => {
                                at[part] = json!(bad);
                                break;
                            }
                            Err(_) => &mut at[part],
                        };
                    }
                    (app.url(path), Some(body))
                }
            };
            let request = match *method {
                "PUT" => app.client.put(&url),
                "DELETE" => app.client.delete(&url),
                _ => app.client.post(&url),
            };
            let request = match body {
                Some(body) => request.json(&body),
                None => request,
            };
            let response = request.send().await.unwrap();
            let problem = assert_problem(response, 422).await;
            let named = field.rsplit('.').next().unwrap();
            assert!(
                problem["errors"]
                    .as_array()
                    .is_some_and(|errors| errors.iter().any(|e| e["field"] == named)),
                "{method} {path} {field}: {problem}"
            );
        }
    }
    // An import names its reason in the query and its quotes in the rows.
    for bad in ["a%00b", &"x".repeat(1001)] {
        let response = app
            .post_raw(
                &format!("/api/v1/imports?reason={bad}"),
                "text/csv",
                "committee,indicator,period,value\nhanam-business-bloc,revenue,2023,1\n",
            )
            .await;
        assert_problem(response, 422).await;
    }
    for bad in ["a\0b", &"x".repeat(4001)] {
        let response = app
            .post_raw(
                "/api/v1/imports",
                "application/json",
                json!([{"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2023", "value": "1", "source_quote": bad}]).to_string(),
            )
            .await;
        let problem = assert_problem(response, 422).await;
        assert!(problem.to_string().contains("source_quote"), "{problem}");
    }
    assert_eq!(stored_state(&app, id).await, before);
    // Lines are text where text has lines; the same text is kept as sent.
    let (status, body) = app
        .put_json(
            &figure_url,
            &json!({"value": "2", "source_quote": "dòng 1\ndòng 2\tcột", "reason": "sửa\nlại"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source_quote"], "dòng 1\ndòng 2\tcột");
}

crate::both_backends!(
    a_value_is_a_json_number_or_a_string_only,
    every_free_text_field_refuses_control_characters_and_overlong_text,
);
