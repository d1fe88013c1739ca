//! The statistician's workflow: optimistic concurrency, locks, as-of answers,
//! imports and exports.

use serde_json::{json, Value};

use chitieu::domain::role::Role;

use crate::helpers::{assert_problem, Backend, TestApp};

fn figure(period: &str, value: &str) -> Value {
    json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": period, "value": value})
}

async fn if_match_stops_a_second_statistician_overwriting_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app
        .post_json("/api/v1/observations", &figure("2022-Q1", "100"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/observations/{id}"));

    let read = app.client.get(&url).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    // The first statistician saves with the ETag she read: accepted, new ETag.
    let first = app
        .client
        .put(&url)
        .header("If-Match", &etag)
        .json(&json!({"value": "110"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    assert_eq!(first.headers()["etag"].to_str().unwrap(), "\"2\"");
    // The second one read the same version: refused, nothing overwritten.
    let second = app
        .client
        .put(&url)
        .header("If-Match", &etag)
        .json(&json!({"value": "120"}))
        .send()
        .await
        .unwrap();
    assert_problem(second, 412).await;
    let delete = app
        .client
        .delete(&url)
        .header("If-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_problem(delete, 412).await;
    let (_, now) = app.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(now["value"], "110");
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(
        revisions.as_array().unwrap().len(),
        2,
        "every accepted write, and only those"
    );
    // Without If-Match the last writer wins, as before.
    let (status, _) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "130"}),
        )
        .await;
    assert_eq!(status, 200);
}

async fn a_locked_period_refuses_writes_until_an_admin_lifts_the_lock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app
        .post_json("/api/v1/observations", &figure("2022-Q2", "100"))
        .await;
    assert_eq!(status, 201);
    let id = created["id"].as_i64().unwrap();
    let chief = app.client_for(&app.token("chief-statistician", Role::Admin, &[]));
    let (status, lock) = chief
        .post(app.url("/api/v1/locks"))
        .json(&json!({"committee": "hanam-business-bloc", "period": "2022", "reason": "approved"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 201);
    let lock: Value = lock.json().await.unwrap();
    assert_eq!(lock["locked_by"], "chief-statistician");
    let lock_id = lock["id"].as_i64().unwrap();

    // Every kind of write inside 2022 is refused with the lock described.
    let put = app
        .client
        .put(app.url(&format!("/api/v1/observations/{id}")))
        .json(&json!({"value": "1"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(put, 409).await;
    assert_eq!(problem["lock"]["reason"], "locked");
    assert_eq!(problem["lock"]["locked_by"], "chief-statistician");
    assert_eq!(problem["lock"]["period"], "2022");
    assert!(problem["lock"]["locked_at"].is_string());
    let post = app
        .post_raw(
            "/api/v1/observations",
            "application/json",
            figure("2022-Q3", "5").to_string(),
        )
        .await;
    assert_problem(post, 409).await;
    let batch = json!({"observations": [figure("2023-Q1", "1"), figure("2022-M05", "2")]});
    let post = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            batch.to_string(),
        )
        .await;
    let problem = assert_problem(post, 409).await;
    assert_eq!(problem["errors"][0]["index"], 1);
    let delete = app
        .client
        .delete(app.url(&format!("/api/v1/observations/{id}")))
        .send()
        .await
        .unwrap();
    assert_problem(delete, 409).await;
    // Other periods and committees are open.
    let (status, _) = app
        .post_json("/api/v1/observations", &figure("2023-Q1", "7"))
        .await;
    assert_eq!(status, 201);
    // Locking it twice is a conflict.
    let again = app
        .post_raw(
            "/api/v1/locks",
            "application/json",
            json!({"committee": "hanam-business-bloc", "period": "2022-Q2"}).to_string(),
        )
        .await;
    assert_problem(again, 409).await;

    let (status, _) = app.delete(&format!("/api/v1/locks/{lock_id}")).await;
    assert_eq!(status, 204);
    let (status, _) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "101"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, lifted) = app.get_json(&format!("/api/v1/locks/{lock_id}")).await;
    assert_eq!(lifted["active"], false);
    let (_, active) = app.get_json("/api/v1/locks").await;
    assert_eq!(active.as_array().unwrap().len(), 0);
    let (status, _) = app.delete(&format!("/api/v1/locks/{lock_id}")).await;
    assert_eq!(status, 404);
}

async fn as_of_answers_what_was_known_then(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, created) = app
        .post_json("/api/v1/observations", &figure("2021", "1000"))
        .await;
    let id = created["id"].as_i64().unwrap();
    let (_, previous) = app
        .post_json("/api/v1/observations", &figure("2020", "800"))
        .await;
    let previous_id = previous["id"].as_i64().unwrap();
    // The moment both figures had been entered.
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{previous_id}/revisions"))
        .await;
    let first_known = revisions[0]["changed_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.put_json(
        &format!("/api/v1/observations/{id}"),
        &json!({"value": "1100"}),
    )
    .await;
    app.delete(&format!("/api/v1/observations/{previous_id}"))
        .await;

    // Now: 1100, and 2020 is gone.
    let (_, now) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc")
        .await;
    assert_eq!(now["items"].as_array().unwrap().len(), 1);
    assert_eq!(now["items"][0]["value"], "1100");
    // Then: 1000 at revision 1, and 2020 was there.
    let then = first_known;
    let (status, past) = app
        .get_json(&format!(
            "/api/v1/observations?committee=hanam-business-bloc&as_of={then}"
        ))
        .await;
    assert_eq!(status, 200, "{past}");
    assert_eq!(past["items"].as_array().unwrap().len(), 2, "{past}");
    let values: Vec<&str> = past["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    // In the order they were entered: 2021 first, then 2020.
    assert_eq!(values, ["1000", "800"]);
    assert_eq!(past["items"][0]["revision"], 1);
    // Before anything was entered: nothing.
    let (_, before) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&as_of=2000-01-01")
        .await;
    assert_eq!(before["items"].as_array().unwrap().len(), 0);
    // The comparison as it stood: (1000 − 800) / 800 = 25 %; now there is no 2020 figure.
    let (_, compared) = app
        .get_json(&format!("/api/v1/comparisons/yoy?committee=hanam-business-bloc&indicator=revenue&period=2021&as_of={then}"))
        .await;
    assert_eq!(compared["items"][0]["percent_change"], "25", "{compared}");
    let (_, series) = app
        .get_json(&format!("/api/v1/series?committee=hanam-business-bloc&indicator=revenue&from=2020&to=2021&as_of={then}"))
        .await;
    let points: Vec<&str> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(points, ["800", "1000"]);
    let response = app
        .client
        .get(app.url("/api/v1/observations?as_of=yesterday"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

crate::both_backends!(
    if_match_stops_a_second_statistician_overwriting_the_first,
    a_locked_period_refuses_writes_until_an_admin_lifts_the_lock,
    as_of_answers_what_was_known_then,
);
