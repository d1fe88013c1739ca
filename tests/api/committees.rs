//! Reference data: committees, groups, indicators, periods, sources and targets.

use serde_json::json;

use crate::helpers::{assert_problem, Backend, TestApp};

async fn committees_can_be_created_updated_and_deleted_unless_they_have_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let new = json!({"code": "haiduong-business-bloc", "name_vi": "Đảng ủy Khối Doanh nghiệp tỉnh Hải Dương",
                     "name_en": "Hai Duong Business Bloc Party Committee", "kind": "business_bloc"});
    let (status, created) = app.post_json("/api/v1/committees", &new).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["name_vi"],
        "Đảng ủy Khối Doanh nghiệp tỉnh Hải Dương"
    );
    let response = app
        .post_raw("/api/v1/committees", "application/json", new.to_string())
        .await;
    assert_problem(response, 409).await;

    let (status, updated) = app
        .put_json(
            "/api/v1/committees/haiduong-business-bloc",
            &json!({"name_vi": "Đảng ủy Khối DN Hải Dương", "name_en": "Hai Duong BB", "kind": "other", "parent": "haiphong-business-bloc"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["parent"], "haiphong-business-bloc");
    assert_eq!(updated["kind"], "other");
    // A committee cannot become its own ancestor.
    let response = app
        .client
        .put(app.url("/api/v1/committees/haiphong-business-bloc"))
        .json(&json!({"name_vi": "x", "name_en": "x", "kind": "business_bloc", "parent": "haiduong-business-bloc"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, 422).await;

    // A committee with figures (or sub-committees) cannot be deleted.
    let response = app
        .client
        .delete(app.url("/api/v1/committees/haiphong-business-bloc"))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("figure"),
        "{problem}"
    );
    let (status, _) = app
        .get_json("/api/v1/committees/haiphong-business-bloc")
        .await;
    assert_eq!(status, 200);

    let (status, _) = app
        .delete("/api/v1/committees/haiduong-business-bloc")
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .get_json("/api/v1/committees/haiduong-business-bloc")
        .await;
    assert_eq!(status, 404);
}

async fn groups_list_and_change_their_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, groups) = app.get_json("/api/v1/groups").await;
    assert_eq!(groups[0]["code"], "northern-business-blocs");
    assert_eq!(groups[0]["member_count"], 7);
    let (status, created) = app
        .post_json(
            "/api/v1/groups",
            &json!({"code": "haiphong", "name_vi": "Hải Phòng", "name_en": "Hai Phong", "members": ["haiphong-business-bloc"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, group) = app
        .post_json(
            "/api/v1/groups/haiphong/members",
            &json!({"committee": "haiphong-economic-zone"}),
        )
        .await;
    assert_eq!(status, 200, "{group}");
    let members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        ["haiphong-business-bloc", "haiphong-economic-zone"]
    );
    let (status, _) = app
        .delete("/api/v1/groups/haiphong/members/haiphong-business-bloc")
        .await;
    assert_eq!(status, 204);
    let (_, group) = app.get_json("/api/v1/groups/haiphong").await;
    assert_eq!(group["member_count"], 1);
    let response = app
        .client
        .delete(app.url("/api/v1/groups/haiphong/members/haiphong-business-bloc"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .post_raw(
            "/api/v1/groups/haiphong/members",
            "application/json",
            json!({"committee": "atlantis"}).to_string(),
        )
        .await;
    assert_problem(response, 404).await;
}

async fn indicators_keep_their_unit_once_they_have_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, revenue) = app.get_json("/api/v1/indicators/revenue").await;
    assert_eq!(
        (revenue["unit"].as_str(), revenue["scale"].as_i64()),
        (Some("VND"), Some(9))
    );
    assert_eq!(revenue["measure_kind"], "flow");
    let (_, loans) = app.get_json("/api/v1/indicators/loans_outstanding").await;
    assert_eq!(loans["denominator"], "bank_capital_mobilised");

    // A code the seed catalog does not hold (it has profit since the extraction work).
    let mut profit = json!({"code": "gross_profit", "name_vi": "Lãi gộp", "name_en": "Gross profit", "unit": "VND", "scale": 9,
                            "measure_kind": "flow", "direction": "higher_is_better"});
    let (status, created) = app.post_json("/api/v1/indicators", &profit).await;
    assert_eq!(status, 201, "{created}");
    profit.as_object_mut().unwrap().remove("code");
    profit["scale"] = json!(6);
    let (status, changed) = app
        .put_json("/api/v1/indicators/gross_profit", &profit)
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["scale"], 6);

    let mut revenue_change = profit.clone();
    revenue_change["name_vi"] = json!("Tổng doanh thu");
    let response = app
        .client
        .put(app.url("/api/v1/indicators/revenue"))
        .json(&revenue_change)
        .send()
        .await
        .unwrap();
    assert_problem(response, 409).await;
    // A ratio must be in percent.
    let bad = json!({"code": "odd", "name_vi": "x", "name_en": "x", "unit": "VND", "scale": 0, "measure_kind": "ratio", "direction": "neutral"});
    let response = app
        .post_raw("/api/v1/indicators", "application/json", bad.to_string())
        .await;
    assert_problem(response, 422).await;
}

async fn periods_parse_every_accepted_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (input, code, start, end, previous_year) in [
        (
            "quý%20I%2F2022",
            "2022-Q1",
            "2022-01-01",
            "2022-03-31",
            "2021-Q1",
        ),
        ("2022Q1", "2022-Q1", "2022-01-01", "2022-03-31", "2021-Q1"),
        (
            "6%20th%C3%A1ng%20%C4%91%E1%BA%A7u%20n%C4%83m%202021",
            "2021-S1",
            "2021-01-01",
            "2021-06-30",
            "2020-S1",
        ),
        (
            "9%20th%C3%A1ng%20%C4%91%E1%BA%A7u%20n%C4%83m%202022",
            "2022-YTD-M09",
            "2022-01-01",
            "2022-09-30",
            "2021-YTD-M09",
        ),
        ("202203", "2022-M03", "2022-03-01", "2022-03-31", "2021-M03"),
        (
            "n%C4%83m%202021",
            "2021",
            "2021-01-01",
            "2021-12-31",
            "2020",
        ),
        (
            "2024-03-18",
            "2024-03-18",
            "2024-03-18",
            "2024-03-18",
            "2023-03-18",
        ),
    ] {
        let (status, period) = app.get_json(&format!("/api/v1/periods/{input}")).await;
        assert_eq!(status, 200, "{input}: {period}");
        assert_eq!(period["code"], code);
        assert_eq!(period["start"], start);
        assert_eq!(period["end"], end);
        assert_eq!(period["previous_year"], previous_year);
    }
    let (_, q1) = app.get_json("/api/v1/periods/2022-Q1").await;
    assert_eq!(q1["previous_period"], "2021-Q4");
    let response = app
        .client
        .get(app.url("/api/v1/periods/2022-Q5"))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert!(
        problem.to_string().contains("quý I/2022"),
        "the problem lists the accepted forms: {problem}"
    );
}

async fn targets_are_set_revised_and_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, seeded) = app
        .get_json("/api/v1/targets?committee=haiphong-business-bloc&period=năm%202021")
        .await;
    assert_eq!(status, 200);
    assert_eq!(seeded["items"][0]["value"], "200");
    let body = json!({"committee": "haiphong-business-bloc", "indicator": "new_party_members", "period": "2022",
                      "value": 210, "assigned_by": "Thành ủy Hải Phòng"});
    let (status, created) = app.post_json("/api/v1/targets", &body).await;
    assert_eq!(status, 201, "{created}");
    let mut revised = body.clone();
    revised["value"] = json!("220");
    revised["reason"] = json!("raised mid-year");
    let (status, updated) = app.post_json("/api/v1/targets", &revised).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["value"], "220");
    let (_, revisions) = app
        .get_json(&format!("/api/v1/targets/{}/revisions", created["id"]))
        .await;
    assert_eq!(revisions[1]["previous_value"], "210");
    assert_eq!(revisions[1]["reason"], "raised mid-year");
    let mut negative = body.clone();
    negative["value"] = json!(-3);
    let response = app
        .post_raw("/api/v1/targets", "application/json", negative.to_string())
        .await;
    assert_problem(response, 422).await;
}

async fn sources_and_probes_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, sources) = app.get_json("/api/v1/sources").await;
    assert_eq!(sources.as_array().unwrap().len(), 5);
    let (status, source) = app.get_json("/api/v1/sources/000_9bb696cf0f5cc08b").await;
    assert_eq!(status, 200);
    assert_eq!(source["published_on"], "2021-12-28");
    assert_eq!(app.get_json("/healthz").await.0, 200);
    assert_eq!(app.get_json("/readyz").await.0, 200);
    let (status, spec) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(spec["paths"]["/api/v1/observations"].is_object());
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(
        docs.text().await.unwrap().contains("swagger"),
        "Swagger UI is served from the binary"
    );
}

crate::both_backends!(
    committees_can_be_created_updated_and_deleted_unless_they_have_data,
    groups_list_and_change_their_members,
    indicators_keep_their_unit_once_they_have_figures,
    periods_parse_every_accepted_form,
    targets_are_set_revised_and_listed,
    sources_and_probes_answer,
);
