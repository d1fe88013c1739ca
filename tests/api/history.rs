//! Revision history: answers "as of" a moment, and history that stays exact
//! under concurrent writers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};

/// Figures in the as-of test: one per month over 25 years.
const FIGURES: usize = 300;

fn monthly_figure(month: usize, value: usize, status: &str) -> Value {
    json!({
        "committee": "hanam-business-bloc",
        "indicator": "revenue",
        "period": format!("{}-M{:02}", 2001 + month / 12, month % 12 + 1),
        "value": value.to_string(),
        "status": status,
    })
}

async fn upsert(app: &TestApp, items: Vec<Value>) -> Vec<i64> {
    let (status, body) = app
        .post_json(
            "/api/v1/observations/batch?mode=upsert",
            &json!({ "observations": items }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// What a figure looked like as of a moment, by the rule the API documents:
/// its last revision made by then, unless that revision deleted it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Standing {
    period_start: String,
    id: i64,
    revision: i64,
    value: String,
    status: String,
}

fn rebuild(histories: &BTreeMap<i64, (String, Vec<Value>)>, at: &str) -> Vec<Standing> {
    let mut standing: Vec<Standing> = histories
        .iter()
        .filter_map(|(id, (period_start, revisions))| {
            // RFC 3339 UTC timestamps of one format compare as text.
            let last = revisions
                .iter()
                .filter(|r| r["changed_at"].as_str().unwrap() <= at)
                .max_by_key(|r| r["revision"].as_i64().unwrap())?;
            (last["action"] != "delete").then(|| Standing {
                period_start: period_start.clone(),
                id: *id,
                revision: last["revision"].as_i64().unwrap(),
                value: last["value"].as_str().unwrap().to_owned(),
                status: last["status"].as_str().unwrap().to_owned(),
            })
        })
        .collect();
    standing.sort();
    standing
}

/// Every page of the test committee's figures as of `at`, in small pages
/// (followed by their `next` cursors), sorted as `rebuild` sorts, and how
/// many there were.
async fn list_pages(app: &TestApp, at: &str, filter: &str) -> (Vec<Standing>, i64) {
    let at = at.replace('+', "%2B");
    let mut items: Vec<Standing> = app
        .list_all(&format!(
            "/api/v1/observations?committee=hanam-business-bloc&as_of={at}{filter}&limit=37"
        ))
        .await
        .iter()
        .map(|item| Standing {
            period_start: item["period_start"].as_str().unwrap().to_owned(),
            id: item["id"].as_i64().unwrap(),
            revision: item["revision"].as_i64().unwrap(),
            value: item["value"].as_str().unwrap().to_owned(),
            status: item["status"].as_str().unwrap().to_owned(),
        })
        .collect();
    items.sort();
    let total = items.len() as i64;
    (items, total)
}

async fn as_of_pages_equal_the_history_rebuilt_figure_by_figure(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Round 1 creates every figure; later rounds revise some, delete some,
    // restore some of those, so figures stand at different revisions.
    let ids = upsert(
        &app,
        (0..FIGURES).map(|m| monthly_figure(m, m, "A")).collect(),
    )
    .await;
    upsert(
        &app,
        (0..FIGURES)
            .step_by(2)
            .map(|m| monthly_figure(m, m + 1000, "P"))
            .collect(),
    )
    .await;
    for id in ids.iter().step_by(7) {
        let (status, body) = app.delete(&format!("/api/v1/observations/{id}")).await;
        assert_eq!(status, 204, "{body}");
    }
    upsert(
        &app,
        (0..FIGURES)
            .step_by(3)
            .map(|m| monthly_figure(m, m + 2000, "E"))
            .collect(),
    )
    .await;
    for id in ids.iter().step_by(11) {
        let (status, body) = app
            .put_json(
                &format!("/api/v1/observations/{id}"),
                &json!({"value": "7", "status": "A"}),
            )
            .await;
        // A figure deleted and not restored is gone: 404 is its answer.
        assert!(status == 200 || status == 404, "{status} {body}");
    }

    let mut histories = BTreeMap::new();
    for (month, id) in ids.iter().enumerate() {
        let (status, revisions) = app
            .get_json(&format!("/api/v1/observations/{id}/revisions"))
            .await;
        assert_eq!(status, 200, "{revisions}");
        let period_start = format!("{}-{:02}-01", 2001 + month / 12, month % 12 + 1);
        histories.insert(*id, (period_start, revisions.as_array().unwrap().clone()));
    }

    // Each moment a revision was made (the boundaries), and one before all.
    let mut moments: Vec<String> = histories
        .values()
        .flat_map(|(_, revisions)| {
            revisions
                .iter()
                .map(|r| r["changed_at"].as_str().unwrap().to_owned())
        })
        .collect();
    moments.sort();
    moments.dedup();
    assert!(moments.len() >= 5, "{moments:?}");
    moments.push("2000-01-01T00:00:00Z".into());
    // Every third moment, and the last ones, keep the test quick.
    let checked = moments
        .iter()
        .step_by(3)
        .chain(moments.iter().rev().take(2));
    for at in checked {
        let expected = rebuild(&histories, at);
        let (listed, total) = list_pages(&app, at, "").await;
        assert_eq!(total, expected.len() as i64, "as of {at}");
        assert_eq!(listed, expected, "as of {at}");
        // A filter on the status applies to the status as it stood then.
        let estimated: Vec<Standing> = expected
            .iter()
            .filter(|s| s.status == "E")
            .cloned()
            .collect();
        let (listed, total) = list_pages(&app, at, "&status=E").await;
        assert_eq!(total, estimated.len() as i64, "as of {at}, status E");
        assert_eq!(listed, estimated, "as of {at}, status E");
    }

    // The export as of the last moment holds the same figures, in order.
    let last = moments[moments.len() - 2].replace('+', "%2B");
    let (status, export) = app
        .get_json(&format!(
            "/api/v1/observations?committee=hanam-business-bloc&as_of={last}&format=json_export"
        ))
        .await;
    assert_eq!(status, 200, "{export}");
    let exported: Vec<(i64, i64, String)> = export["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            // Numbers are JSON numbers, exact (serde_json keeps their text).
            (
                row["id"].as_i64().unwrap(),
                row["revision"].as_i64().unwrap(),
                row["value"].as_number().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(i64, i64, String)> = rebuild(&histories, &moments[moments.len() - 2])
        .into_iter()
        .map(|s| (s.id, s.revision, s.value))
        .collect();
    assert_eq!(exported, expected);
}

/// Writers of each kind sent at once at the same figure.
const WRITERS_PER_KIND: usize = 6;

/// What a concurrent write answered: its status and body.
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn concurrent_writers_of_one_figure_keep_its_history_exact(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let figure = |value: usize| json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2022", "value": value.to_string()});
    let (status, created) = app.post_json("/api/v1/observations", &figure(0)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();

    // Every writer sets a value of its own, so every write is a revision.
    let mut writes = Vec::new();
    for n in 0..WRITERS_PER_KIND {
        let put = app
            .client
            .put(app.url(&format!("/api/v1/observations/{id}")))
            .json(&json!({"value": (100 + n).to_string()}));
        let upsert = app
            .client
            .post(app.url("/api/v1/observations?mode=upsert"))
            .json(&figure(200 + n));
        let batch = app
            .client
            .post(app.url("/api/v1/observations/batch?mode=upsert"))
            .json(&json!({"observations": [figure(300 + n)]}));
        let import = app
            .client
            .post(app.url("/api/v1/imports"))
            .header("content-type", "text/csv")
            .body(format!(
                "committee,indicator,period,value\nhanam-business-bloc,revenue,2022,{}\n",
                400 + n
            ));
        for request in [put, upsert, batch, import] {
            writes.push(async move { answer(request.send().await.unwrap()).await });
        }
    }
    let answers = futures_util::future::join_all(writes).await;
    for (status, body) in &answers {
        assert!(*status < 300, "{status} {body}");
    }

    let (status, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(status, 200, "{revisions}");
    let revisions = revisions.as_array().unwrap();
    assert_eq!(revisions.len(), 1 + answers.len(), "{revisions:#?}");
    for (n, revision) in revisions.iter().enumerate() {
        assert_eq!(revision["revision"], n as i64 + 1, "{revisions:#?}");
        if n > 0 {
            // Each revision replaced the value the one before it left.
            assert_eq!(
                revision["previous_value"],
                revisions[n - 1]["value"],
                "{revisions:#?}"
            );
        }
    }
    let (_, now) = app.get_json(&format!("/api/v1/observations/{id}")).await;
    assert_eq!(now["value"], revisions[revisions.len() - 1]["value"]);
    assert_eq!(now["revision"], revisions.len() as i64);
}

/// Two writers creating the same new figure at once: one creates it, the
/// other is told it exists (409), in words of its own.
async fn concurrent_creations_of_one_figure_are_one_figure(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let figure = json!({"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2023", "value": "1"});
    let creations = (0..WRITERS_PER_KIND).map(|_| {
        let request = app
            .client
            .post(app.url("/api/v1/observations"))
            .json(&figure);
        async move { answer(request.send().await.unwrap()).await }
    });
    let answers = futures_util::future::join_all(creations).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in &answers {
        assert!(*status == 201 || *status == 409, "{status} {body}");
        assert!(
            !body.contains("_key") && !body.contains("constraint"),
            "{body}"
        );
    }
}

crate::both_backends!(
    as_of_pages_equal_the_history_rebuilt_figure_by_figure,
    concurrent_writers_of_one_figure_keep_its_history_exact,
    concurrent_creations_of_one_figure_are_one_figure,
);
