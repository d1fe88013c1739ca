//! Entering figures, reading them back exactly, and their history.

use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp, TestDatabase};

fn figure(period: &str, value: Value) -> Value {
    figure_of("revenue", period, value)
}

fn figure_of(indicator: &str, period: &str, value: Value) -> Value {
    json!({
        "committee": "haiphong-business-bloc",
        "indicator": indicator,
        "period": period,
        "value": value,
    })
}

async fn values_keep_every_digit_as_numbers_and_strings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Negative values go to profit, seeded without a lower bound (revenue's is 0).
    let cases = [
        ("12345678901234567.891", "2030-Q1"),
        ("975.9", "2030-Q2"),
        ("0.05", "2030-Q3"),
        ("14.644", "2030-Q4"),
        ("0.0000", "2030-S1"),
        ("-0.50", "2030-S2"),
    ];
    for (digits, period) in cases {
        let indicator = if digits.starts_with('-') {
            "profit"
        } else {
            "revenue"
        };
        // As a JSON number: written into the body text so no float is involved anywhere.
        let body = format!(
            r#"{{"committee":"haiphong-business-bloc","indicator":"{indicator}","period":"{period}","value":{digits}}}"#
        );
        let response = app
            .post_raw("/api/v1/observations", "application/json", body)
            .await;
        let (status, created) = crate::helpers::read(response).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["value"], json!(digits));
        let (_, read_back) = app
            .get_json(&format!("/api/v1/observations/{}", created["id"]))
            .await;
        assert_eq!(
            read_back["value"],
            json!(digits),
            "number {digits} on {backend:?}"
        );

        // As a string, for the same quarter a year later.
        let next_year = format!("2031{}", &period[4..]);
        let (status, created) = app
            .post_json(
                "/api/v1/observations",
                &figure_of(indicator, &next_year, json!(digits)),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let (_, read_back) = app
            .get_json(&format!("/api/v1/observations/{}", created["id"]))
            .await;
        assert_eq!(
            read_back["value"],
            json!(digits),
            "string {digits} on {backend:?}"
        );
    }
}

async fn a_quarterly_figure_round_trips_with_all_its_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = app
        .post_json(
            "/api/v1/observations",
            &json!({
                "committee": "hanoi-business-bloc",
                "indicator": "budget_contribution",
                "period": "quý II/2022",
                "value": "203.10",
                "unit": "VND",
                "scale": 9,
                "status": "P",
                "qualifier": "lower_bound",
                "reported_yoy_pct": -0.1,
                "reported_share_pct": "28.1",
                "reported_share_qualifier": "approximate",
                "source": "001_021cd1f05dc84603",
                "source_quote": "Tổng số nộp ngân sách nhà nước 203,1 tỷ đồng",
            }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, listed) = app
        .get_json("/api/v1/observations?committee=hanoi-business-bloc&period=2022Q2&indicator=budget_contribution")
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let item = &listed["items"][0];
    assert_eq!(item["period"], "2022-Q2");
    assert_eq!(item["period_start"], "2022-04-01");
    assert_eq!(item["period_end"], "2022-06-30");
    assert_eq!(item["frequency"], "quarterly");
    assert_eq!(item["value"], "203.10");
    assert_eq!(item["status"], "P");
    assert_eq!(item["qualifier"], "lower_bound");
    assert_eq!(item["reported_yoy_pct"], "-0.1");
    assert_eq!(item["reported_yoy_qualifier"], "exact");
    assert_eq!(item["reported_share_pct"], "28.1");
    assert_eq!(item["reported_share_qualifier"], "approximate");
    assert_eq!(item["source"], "001_021cd1f05dc84603");
    assert_eq!(item["revision"], 1);

    // A value given in millions is stored exactly in the indicator's billions.
    let (status, converted) = app
        .post_json(
            "/api/v1/observations",
            &json!({"committee": "hanoi-business-bloc", "indicator": "budget_contribution",
                    "period": "2022-Q3", "value": "203100", "scale": 6}),
        )
        .await;
    assert_eq!(status, 201, "{converted}");
    assert_eq!(converted["value"], "203.1");
    assert_eq!(converted["scale"], 9);
}

/// Enters a figure of Hải Phòng's revenue; its id.
async fn create(app: &TestApp, period: &str, value: Value) -> i64 {
    let (status, created) = app
        .post_json("/api/v1/observations", &figure(period, value))
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

async fn changes_and_deletion_keep_every_revision(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = create(&app, "2023-Q1", json!("100")).await;

    // Same values again with mode=create: a conflict that names the figure, nothing written.
    let response = app
        .post_raw(
            "/api/v1/observations",
            "application/json",
            figure("2023-Q1", json!("100")).to_string(),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, 409).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&id.to_string()),
        "{problem}"
    );

    // Upserting equal values makes no revision.
    let (status, same) = app
        .post_json(
            "/api/v1/observations?mode=upsert",
            &figure("2023-Q1", json!(100)),
        )
        .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["revision"], 1);

    let (status, updated) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "101.5", "reason": "corrected by the office"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["value"], "101.5");
    assert_eq!(updated["revision"], 2);

    let (status, _) = app
        .delete(&format!("/api/v1/observations/{id}?reason=duplicate"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(status, 404);
    let (status, listed) = app
        .get_json("/api/v1/observations?committee=haiphong-business-bloc&period=2023-Q1")
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);

    let (status, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(status, 200);
    let revisions = revisions.as_array().unwrap();
    let actions: Vec<&str> = revisions
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    assert_eq!(revisions[1]["previous_value"], "100");
    assert_eq!(revisions[1]["value"], "101.5");
    assert_eq!(revisions[1]["reason"], "corrected by the office");
    assert_eq!(revisions[2]["reason"], "duplicate");

    // Entering it again continues the same history.
    let (status, restored) = app
        .post_json("/api/v1/observations", &figure("2023-Q1", json!("99")))
        .await;
    assert_eq!(status, 201, "{restored}");
    assert_eq!(restored["id"].as_i64(), Some(id));
    assert_eq!(restored["revision"], 4);
}

async fn a_batch_is_all_or_nothing_with_an_error_per_bad_item(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    let batch = json!({"observations": [
        figure("2024-Q1", json!("1")),
        {"committee": "nowhere", "indicator": "revenue", "period": "2024-Q2", "value": "2"},
        figure("2024-Q9", json!("3")),
        figure("2024-Q4", json!("4")),
        {"committee": "haiphong-business-bloc", "indicator": "new_party_members", "period": "2024", "value": "-5"},
    ]});
    let response = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            batch.to_string(),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, 422).await;
    let errors: Vec<(u64, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (1, "unknown_committee"),
            (2, "invalid_period"),
            (4, "invalid_value")
        ]
    );
    assert_eq!(
        app.observation_count().await,
        before,
        "nothing may be written"
    );

    // A wrong type is reported with its index, too.
    let batch =
        json!({"observations": [figure("2024-Q1", json!("1")), figure("2024-Q2", json!(true))]});
    let response = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            batch.to_string(),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["index"], 1);

    // The same key twice in one batch.
    let batch =
        json!({"observations": [figure("2024-Q1", json!("1")), figure("2024Q1", json!("2"))]});
    let response = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            batch.to_string(),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "duplicate_in_batch");

    // A good batch lands whole; again with mode=upsert it changes nothing.
    let good =
        json!({"observations": [figure("2024-Q1", json!("1")), figure("2024-Q2", json!("2.5"))]});
    let (status, summary) = app.post_json("/api/v1/observations/batch", &good).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["created"].as_u64(), summary["updated"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(app.observation_count().await, before + 2);
    let (status, summary) = app
        .post_json("/api/v1/observations/batch?mode=upsert", &good)
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["unchanged"], 2);

    // mode=create refuses the batch if any figure exists, and writes none of it.
    let mixed =
        json!({"observations": [figure("2024-Q3", json!("3")), figure("2024-Q1", json!("9"))]});
    let response = app
        .post_raw(
            "/api/v1/observations/batch",
            "application/json",
            mixed.to_string(),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, 409).await;
    assert_eq!(problem["errors"][0]["index"], 1);
    assert_eq!(app.observation_count().await, before + 2);
}

async fn filters_narrow_the_list_and_pages_split_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, all) = app
        .get_json("/api/v1/observations?committee=haiphong-economic-zone")
        .await;
    let all = all["items"].as_array().unwrap().clone();
    let total = all.len();
    assert!(total >= 10, "{all:?}");
    let (_, women) = app
        .get_json("/api/v1/observations?committee=haiphong-economic-zone&breakdown=sex:female")
        .await;
    assert_eq!(women["items"].as_array().unwrap().len(), 1);
    assert_eq!(women["items"][0]["value"], "59356");
    let (_, estimated) = app.get_json("/api/v1/observations?status=E").await;
    assert_eq!(estimated["items"].as_array().unwrap().len(), 1);
    assert_eq!(estimated["items"][0]["value"], "24730");
    let (_, years) = app
        .get_json("/api/v1/observations?indicator=import_export_value&from=2022&to=năm%202023&frequency=annual")
        .await;
    let periods: Vec<&str> = years["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2022", "2023"]);
    // Pages of 5, followed by their cursors, are the whole list in the same order.
    let (status, first) = app
        .get_json("/api/v1/observations?committee=haiphong-economic-zone&limit=5")
        .await;
    assert_eq!(status, 200);
    assert_eq!(first["items"].as_array().unwrap(), &all[..5]);
    let next = first["next"].as_str().expect("a next page");
    assert!(
        next.starts_with("/api/v1/observations?") && next.contains("limit=5"),
        "{next}"
    );
    let paged = app
        .list_all("/api/v1/observations?committee=haiphong-economic-zone&limit=5")
        .await;
    assert_eq!(paged, all);
    let ids: Vec<i64> = all.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "in id order");
    // The last page names no next one; a cursor not given by the server is a 400.
    let (_, last) = app
        .get_json(&format!(
            "/api/v1/observations?committee=haiphong-economic-zone&limit={total}"
        ))
        .await;
    assert!(
        last["next"].is_null() && last["next_cursor"].is_null(),
        "{last}"
    );
    for bad in [
        "zz",
        "00000000000000",
        "ffffffffffffffff",
        "0000000000000001%20x",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/observations?cursor={bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

async fn starting_twice_on_one_database_adds_nothing(backend: Backend) {
    let database = TestDatabase::create(backend);
    let url = database.url.clone();
    let first = TestApp::spawn_on(backend, database).await;
    let count = first.observation_count().await;
    let (_, committees) = first.get_json("/api/v1/committees").await;
    // Correct a seeded figure; a restart must not undo it.
    let (_, revenue) = first
        .get_json(
            "/api/v1/observations?committee=haiphong-business-bloc&indicator=revenue&period=2021",
        )
        .await;
    let id = revenue["items"][0]["id"].as_i64().unwrap();
    let (status, _) = first
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "27702"}),
        )
        .await;
    assert_eq!(status, 200);

    let pool =
        chitieu::db::build_pool(&chitieu::config::DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    chitieu::startup::prepare_database(&pool, &crate::helpers::test_config(&url)).unwrap();
    drop(pool);

    assert_eq!(first.observation_count().await, count);
    let (_, again) = first.get_json("/api/v1/committees").await;
    assert_eq!(again, committees);
    let (_, after) = first.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(after["value"], "27702");
}

/// Every revision names a stored figure and, when it has one, a stored token;
/// a figure with revisions cannot be removed. (On PostgreSQL these are checked
/// per statement, not by per-row foreign keys: see the migration
/// `revision_reference_checks`.)
async fn revisions_always_name_a_stored_figure_and_token(backend: Backend) {
    use diesel::result::{DatabaseErrorKind, Error};
    use diesel::RunQueryDsl;

    let app = TestApp::spawn(backend).await;
    let id = create(&app, "2023-Q1", json!("100")).await;
    let url = app.database.url.clone();
    let pool =
        chitieu::db::build_pool(&chitieu::config::DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let revision = |observation: i64, revision: i32, token: &str| {
        format!(
            "INSERT INTO observation_revisions (observation_id, revision, action, value, status, \
               qualifier, changed_at, changed_by, token_id) \
             VALUES ({observation}, {revision}, 'update', 1, 'A', 'exact', CURRENT_TIMESTAMP, 'test', {token})"
        )
    };
    let foreign_key_violation = |result: diesel::QueryResult<usize>| {
        assert!(
            matches!(
                result,
                Err(Error::DatabaseError(
                    DatabaseErrorKind::ForeignKeyViolation,
                    _
                ))
            ),
            "{result:?}"
        )
    };
    foreign_key_violation(
        diesel::sql_query(revision(id + 1_000_000, 1, "NULL")).execute(&mut **conn),
    );
    foreign_key_violation(diesel::sql_query(revision(id, 50, "987654")).execute(&mut **conn));
    foreign_key_violation(
        diesel::sql_query(format!("DELETE FROM observations WHERE id = {id}")).execute(&mut **conn),
    );
    // The checks are not refusing everything: a revision of the figure, by no token, is stored.
    assert_eq!(
        diesel::sql_query(revision(id, 50, "NULL"))
            .execute(&mut **conn)
            .unwrap(),
        1
    );
    let (status, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(revisions.as_array().unwrap().len(), 2, "{revisions}");
    let (status, _) = app.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(status, 200, "the figure is still there");
}

crate::both_backends!(
    values_keep_every_digit_as_numbers_and_strings,
    a_quarterly_figure_round_trips_with_all_its_fields,
    changes_and_deletion_keep_every_revision,
    a_batch_is_all_or_nothing_with_an_error_per_bad_item,
    filters_narrow_the_list_and_pages_split_it,
    starting_twice_on_one_database_adds_nothing,
    revisions_always_name_a_stored_figure_and_token,
);
