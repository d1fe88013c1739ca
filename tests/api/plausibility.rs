//! Plausibility warnings (issue 12, item 3): a value more than the factor
//! (default 100×) above or below the committee's previous figure of the
//! indicator is a warning with the previous figure and the ratio on every
//! write path, written anyway unless `strict=true` refuses it.

use serde_json::{json, Value};

use crate::helpers::{read, Backend, TestApp};

const COMMITTEE: &str = "hanam-business-bloc";
const INDICATOR: &str = "export_turnover";

fn figure(period: &str, value: &str) -> Value {
    json!({"committee": COMMITTEE, "indicator": INDICATOR, "period": period, "value": value})
}

/// Stores the previous figure (2040: 27.701) and returns its id.
async fn previous(app: &TestApp) -> i64 {
    let (status, body) = app
        .post_json("/api/v1/observations", &figure("2040", "27.701"))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Asserts `warnings` holds one 1000× warning against `previous_id`.
fn assert_thousandfold(warnings: &Value, previous_id: i64) {
    let warnings = warnings.as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = &warnings[0];
    assert_eq!(warning["code"], "implausible_change");
    assert_eq!(warning["ratio"], "1000");
    assert_eq!(warning["previous"]["id"], previous_id);
    assert_eq!(warning["previous"]["period"], "2040");
    assert_eq!(warning["previous"]["value"], "27.701");
}

async fn stored_count(app: &TestApp, period: &str) -> usize {
    let (status, page) = app
        .get_json(&format!(
            "/api/v1/observations?committee={COMMITTEE}&indicator={INDICATOR}&period={period}"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

async fn single_and_update_warn_or_refuse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let previous_id = previous(&app).await;

    // strict: refused, nothing written.
    let (status, problem) = app
        .post_json("/api/v1/observations?strict=true", &figure("2041", "27701"))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["code"], "implausible_change",
        "{problem}"
    );
    assert_eq!(stored_count(&app, "2041").await, 0);

    // Not strict: written, with the warning beside the figure.
    let (status, body) = app
        .post_json("/api/v1/observations", &figure("2041", "27701"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["value"], "27701");
    assert_thousandfold(&body["warnings"], previous_id);
    let id = body["id"].as_i64().unwrap();

    // A plausible value warns of nothing.
    let (status, body) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "30.1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warnings"], json!([]));

    // PUT: the slip again (1/1000 this time), strict refuses, else warns.
    let (status, problem) = app
        .put_json(
            &format!("/api/v1/observations/{id}?strict=true"),
            &json!({"value": "0.027701"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let (_, current) = app.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(current["value"], "30.1");
    let (status, body) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "0.027701"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warnings"][0]["ratio"], "0.001", "{body}");
}

async fn batch_warns_per_item_or_refuses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let previous_id = previous(&app).await;
    let batch = json!({"observations": [
        {"committee": COMMITTEE, "indicator": INDICATOR, "period": "2041", "value": "27701"},
        {"committee": COMMITTEE, "indicator": INDICATOR, "period": "2040-Q1", "value": "7"},
    ]});
    let (status, problem) = app
        .post_json("/api/v1/observations/batch?strict=true", &batch)
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["index"], 0, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "implausible_change");
    assert_eq!(stored_count(&app, "2041").await, 0);
    assert_eq!(stored_count(&app, "2040-Q1").await, 0);

    let (status, summary) = app.post_json("/api/v1/observations/batch", &batch).await;
    assert_eq!(status, 200, "{summary}");
    assert_thousandfold(&summary["items"][0]["warnings"], previous_id);
    assert_eq!(summary["items"][1]["warnings"], json!([]), "{summary}");
}

async fn import_lists_warnings_or_rejects_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let previous_id = previous(&app).await;
    let csv = format!(
        "committee,indicator,period,value\n{COMMITTEE},{INDICATOR},2041,27701\n{COMMITTEE},{INDICATOR},2042,27.9\n"
    );
    let post = |query: &'static str| {
        let app = &app;
        let csv = csv.clone();
        async move {
            read(
                app.post_raw(&format!("/api/v1/imports{query}"), "text/csv", csv)
                    .await,
            )
            .await
        }
    };
    let (status, problem) = post("?strict=true").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["rejected"], 1, "{problem}");
    assert_eq!(problem["errors"][0]["row"], 2);
    assert_eq!(problem["errors"][0]["code"], "implausible_change");
    assert_eq!(stored_count(&app, "2041").await, 0);

    let (status, summary) = post("").await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["warned"], 1, "{summary}");
    assert_eq!(summary["warnings"][0]["row"], 2);
    assert_thousandfold(&json!([summary["warnings"][0].clone()]), previous_id);
    assert_eq!(summary["created"], 2);
    assert_eq!(stored_count(&app, "2041").await, 1);
}

/// A refused import answers the same summary members as an accepted one,
/// beside the RFC 7807 members.
async fn refused_and_accepted_imports_have_one_summary_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let csv = format!(
        "committee,indicator,period,value\n{COMMITTEE},{INDICATOR},2041,1\n{COMMITTEE},{INDICATOR},2041-Q9,1\n"
    );
    let keys =
        |body: &Value| -> Vec<String> { body.as_object().unwrap().keys().cloned().collect() };
    let (status, accepted) = read(
        app.post_raw(
            "/api/v1/imports?atomic=false&dry_run=true",
            "text/csv",
            csv.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    let response = app.post_raw("/api/v1/imports", "text/csv", csv).await;
    let refused = crate::helpers::assert_problem(response, 422).await;
    let mut expected = keys(&accepted);
    expected.extend(["type", "title", "status", "detail"].map(String::from));
    expected.sort();
    let mut actual = keys(&refused);
    actual.sort();
    assert_eq!(actual, expected);
    assert_eq!(refused["errors"], accepted["errors"]);
    assert_eq!(refused["rejected"], 1);
}

crate::both_backends!(
    single_and_update_warn_or_refuse,
    batch_warns_per_item_or_refuses,
    import_lists_warnings_or_rejects_rows,
    refused_and_accepted_imports_have_one_summary_shape,
);
