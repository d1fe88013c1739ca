//! Imports from CSV, JSON and XLSX, and exports that re-import unchanged.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, postgres_available, read, Backend, TestApp};

const CSV: &str = "committee,indicator,period,value,unit,scale,status,qualifier\n\
hanam-business-bloc,revenue,2022-Q1,100,VND,9,A,exact\n\
hanam-business-bloc,revenue,2022-Q2,200.5,,,P,\n\
hanam-business-bloc,new_party_members,2022,35,persons,0,A,exact\n";

async fn import(
    app: &TestApp,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let response = app
        .post_raw(&format!("/api/v1/imports{query}"), content_type, body)
        .await;
    read(response).await
}

async fn revision_count(app: &TestApp, id: i64) -> usize {
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    revisions.as_array().unwrap().len()
}

async fn csv_json_and_xlsx_import_with_a_summary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    // A dry run reports what would happen and writes nothing.
    let (status, dry) = import(&app, "?dry_run=true", "text/csv", CSV).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (
            dry["created"].as_i64(),
            dry["committed"].as_bool(),
            dry["rows"].as_u64()
        ),
        (Some(3), Some(false), Some(3))
    );
    assert_eq!(app.observation_count().await, before);

    let (status, summary) = import(&app, "", "text/csv", CSV).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (
            summary["created"].as_i64(),
            summary["updated"].as_i64(),
            summary["rejected"].as_i64()
        ),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(summary["committed"], true);
    let (_, listed) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&period=2022-Q2")
        .await;
    let item = &listed["items"][0];
    assert_eq!(
        (
            item["value"].as_str(),
            item["status"].as_str(),
            item["revision"].as_i64()
        ),
        (Some("200.5"), Some("P"), Some(1))
    );
    let id = item["id"].as_i64().unwrap();

    // The same file again: unchanged, and no revision is made.
    let (_, again) = import(&app, "", "text/csv", CSV).await;
    assert_eq!(
        (
            again["unchanged"].as_i64(),
            again["created"].as_i64(),
            again["updated"].as_i64()
        ),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(revision_count(&app, id).await, 1);

    // JSON: one changed value (a revision), one new figure; numbers keep their digits.
    let body = json!({"observations": [
        {"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2022-Q2", "value": 200.75},
        {"committee": "hanam-business-bloc", "indicator": "revenue", "period": "2022-Q3", "value": "12345678901234567.891"},
    ]});
    let (status, summary) = import(
        &app,
        "?reason=corrected",
        "application/json",
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["created"].as_i64(), summary["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    assert_eq!(revisions[1]["previous_value"], "200.5");
    assert_eq!(revisions[1]["value"], "200.75");
    assert_eq!(revisions[1]["reason"], "corrected");
    let (_, q3) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&period=2022-Q3")
        .await;
    assert_eq!(q3["items"][0]["value"], "12345678901234567.891");

    // XLSX, as a spreadsheet program would save it.
    let headers = ["committee", "indicator", "period", "value"];
    let rows = vec![vec![
        Some("hanam-business-bloc".into()),
        Some("revenue".into()),
        Some("2022-Q4".into()),
        Some("975.9".into()),
    ]];
    let xlsx = chitieu::tabular::write_xlsx(&headers, &["value"], str::to_owned, rows.into_iter())
        .unwrap();
    let (status, summary) = import(&app, "?format=xlsx", "application/octet-stream", xlsx).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["created"], 1);
    let (_, q4) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&period=2022-Q4")
        .await;
    assert_eq!(q4["items"][0]["value"], "975.9");
}

async fn one_bad_row_and_an_atomic_import_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    let csv = "committee,indicator,period,value\n\
               hanam-business-bloc,revenue,2022-Q1,100\n\
               atlantis,revenue,2022-Q1,1\n\
               hanam-business-bloc,revenue,2022-Q5,1\n\
               hanam-business-bloc,new_party_members,2022,-3\n\
               hanam-business-bloc,revenue,2022Q1,7\n";
    let response = app.post_raw("/api/v1/imports", "text/csv", csv).await;
    let problem = assert_problem(response, 422).await;
    let errors: Vec<(u64, &str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "committee", "unknown_committee"),
            (4, "period", "invalid_period"),
            (5, "value", "invalid_value"),
            (6, "period", "duplicate_in_file")
        ]
    );
    assert_eq!(problem["rejected"], 4);
    assert_eq!(problem["committed"], false);
    assert_eq!(
        app.observation_count().await,
        before,
        "atomic: nothing written"
    );

    // Not atomic: the good row lands, the bad ones are listed.
    let (status, summary) = import(&app, "?atomic=false", "text/csv", csv).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["created"].as_i64(), summary["rejected"].as_i64()),
        (Some(1), Some(4))
    );
    assert_eq!(app.observation_count().await, before + 1);

    // Strategies: create refuses existing figures, update refuses new ones, delete deletes.
    let existing = "committee,indicator,period,value\nhanam-business-bloc,revenue,2022-Q1,100\n";
    let response = app
        .post_raw("/api/v1/imports?strategy=create", "text/csv", existing)
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "already_exists");
    let new = "committee,indicator,period,value\nhanam-business-bloc,revenue,2023-Q1,100\n";
    let response = app
        .post_raw("/api/v1/imports?strategy=update", "text/csv", new)
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "not_found");
    let (status, deleted) = import(
        &app,
        "?strategy=delete",
        "text/csv",
        "committee,indicator,period\nhanam-business-bloc,revenue,2022-Q1\n",
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted"], 1);
    assert_eq!(app.observation_count().await, before);

    // A locked period refuses its rows.
    let lock = json!({"committee": "hanam-business-bloc", "period": "2024"});
    assert_eq!(app.post_json("/api/v1/locks", &lock).await.0, 201);
    let response = app
        .post_raw(
            "/api/v1/imports",
            "text/csv",
            "committee,indicator,period,value\nhanam-business-bloc,revenue,2024-Q1,1\n",
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["code"], "locked");

    // Files that cannot be imported at all.
    let response = app
        .post_raw(
            "/api/v1/imports",
            "text/csv",
            "committee,indicator,period,valeu\nx,y,2022,1\n",
        )
        .await;
    let problem = assert_problem(response, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("valeu"),
        "{problem}"
    );
    let response = app
        .post_raw(
            "/api/v1/imports",
            "text/csv",
            "committee,indicator,period\nx,y,2022\n",
        )
        .await;
    assert_problem(response, 400).await;
    let response = app.post_raw("/api/v1/imports", "text/plain", "hello").await;
    assert_problem(response, 415).await;
    let response = app.post_raw("/api/v1/imports", "text/csv", "").await;
    assert_problem(response, 400).await;
    let response = app
        .post_raw("/api/v1/imports?strategy=sideways", "text/csv", CSV)
        .await;
    assert_problem(response, 400).await;
    assert_eq!(app.observation_count().await, before);
}

async fn vietnamese_files_import_with_locale_vi(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let csv = "committee;indicator;period;value;unit;qualifier;reported_yoy_pct\n\
               thaibinh-business-bloc;revenue;quý I/2023;27.701;tỷ đồng;;7,7\n\
               thaibinh-business-bloc;budget_contribution;6 tháng đầu năm 2023;975,9;tỷ đồng;;\n\
               thaibinh-business-bloc;social_welfare_contributions;năm 2023;trên 14,644 tỷ đồng;;;\n\
               thaibinh-business-bloc;export_turnover;tháng 3/2023;11,09;triệu USD;;-0,1%\n\
               thaibinh-business-bloc;revenue;6 tháng đầu năm 2023;ước đạt 24.730;tỷ đồng;;\n\
               thaibinh-business-bloc;export_share_pct;2023;40%;;xấp xỉ;\n\
               thaibinh-business-bloc;revenue;năm 2023;27701000;triệu đồng;;\n";
    let (status, summary) = import(&app, "?locale=vi", "text/csv", csv).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["created"], 7);
    let get = |period: &str, indicator: &str| {
        format!("/api/v1/observations?committee=thaibinh-business-bloc&indicator={indicator}&period={period}")
    };
    let (_, q1) = app.get_json(&get("2023-Q1", "revenue")).await;
    assert_eq!(
        (
            q1["items"][0]["value"].as_str(),
            q1["items"][0]["reported_yoy_pct"].as_str()
        ),
        (Some("27701"), Some("7.7"))
    );
    let (_, budget) = app.get_json(&get("2023-S1", "budget_contribution")).await;
    assert_eq!(budget["items"][0]["value"], "975.9");
    let (_, welfare) = app
        .get_json(&get("2023", "social_welfare_contributions"))
        .await;
    assert_eq!(
        (
            welfare["items"][0]["value"].as_str(),
            welfare["items"][0]["qualifier"].as_str()
        ),
        (Some("14.644"), Some("lower_bound"))
    );
    let (_, exports) = app.get_json(&get("2023-M03", "export_turnover")).await;
    assert_eq!(
        (
            exports["items"][0]["value"].as_str(),
            exports["items"][0]["reported_yoy_pct"].as_str()
        ),
        (Some("11.09"), Some("-0.1"))
    );
    let (_, estimate) = app.get_json(&get("2023-S1", "revenue")).await;
    assert_eq!(
        (
            estimate["items"][0]["value"].as_str(),
            estimate["items"][0]["status"].as_str()
        ),
        (Some("24730"), Some("E"))
    );
    let (_, share) = app.get_json(&get("2023", "export_share_pct")).await;
    assert_eq!(
        (
            share["items"][0]["value"].as_str(),
            share["items"][0]["qualifier"].as_str()
        ),
        (Some("40"), Some("approximate"))
    );
    // 27,701,000 million VND is stored as 27,701 billion, the indicator's scale.
    let (_, year) = app.get_json(&get("2023", "revenue")).await;
    assert_eq!(year["items"][0]["value"], "27701");

    // Without locale=vi, no row is half-read: each carries Vietnamese words
    // (in its value, unit or qualifier), so each is refused and names the fix.
    let response = app
        .post_raw("/api/v1/imports?dry_run=true", "text/csv", csv)
        .await;
    let problem = assert_problem(response, 422).await;
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 7, "{problem}");
    assert!(
        errors.iter().all(|e| e["code"] == "needs_locale_vi"
            && e["message"].as_str().unwrap().contains("locale=vi")),
        "{problem}"
    );
}

async fn an_export_re_imports_unchanged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let total = app.observation_count().await;
    for (format, accept) in [
        ("csv", None),
        ("xlsx", None),
        ("json_export", None),
        ("", Some("text/csv")),
    ] {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/observations?format={format}")));
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let file = response.bytes().await.unwrap();
        let import_format = match format {
            "xlsx" => "xlsx",
            "json_export" => "json",
            _ => "csv",
        };
        if import_format == "csv" {
            let text = String::from_utf8(file.to_vec()).unwrap();
            assert!(
                text.starts_with("id,revision,committee,indicator,period"),
                "{content_type}: {text}"
            );
            assert!(
                text.contains("Tổng doanh thu 27.701 tỷ đồng"),
                "quotes survive"
            );
            assert_eq!(text.lines().count() as i64, total + 1);
        }
        let (status, summary) = import(
            &app,
            &format!("?format={import_format}"),
            "application/octet-stream",
            file.to_vec(),
        )
        .await;
        assert_eq!(status, 200, "{format}: {summary}");
        assert_eq!(
            summary["unchanged"].as_i64(),
            Some(total),
            "{format}: {summary}"
        );
        assert_eq!(
            (summary["created"].as_i64(), summary["updated"].as_i64()),
            (Some(0), Some(0)),
            "{format}: {summary}"
        );
    }
    let response = app
        .client
        .get(app.url("/api/v1/observations?format=pdf"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

/// The ids of a list, every page of it, in order.
async fn listed_ids(app: &TestApp, query: &str) -> Vec<i64> {
    app.list_all(&format!("/api/v1/observations?{query}&limit=50"))
        .await
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// The ids and values of an exported file, in file order.
async fn exported(app: &TestApp, query: &str, format: &str) -> Vec<(i64, String)> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/observations?{query}&format={format}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let file = response.bytes().await.unwrap();
    if format == "csv" {
        let mut reader = csv::Reader::from_reader(&file[..]);
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (id, value) = (column("id"), column("value"));
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[id].parse().unwrap(), r[value].to_owned())
            })
            .collect()
    } else {
        let body: Value = serde_json::from_slice(&file).unwrap();
        body["observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["id"].as_i64().unwrap(),
                    // A JSON number, written digit for digit.
                    o["value"].as_number().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// An export holds the figures a list would show, every one once, in the
/// list's order (it is sent period span by period span), filtered or not,
/// now or as known at a past moment.
async fn an_export_is_the_list_in_one_file(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A figure whose span (the first half of 2022) sits between others.
    let (status, created) = app
        .post_json(
            "/api/v1/observations",
            &json!({"committee": "haiphong-business-bloc", "indicator": "revenue",
                    "period": "2022-S1", "value": "500"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    let then = revisions[0]["changed_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, _) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "501"}),
        )
        .await;
    assert_eq!(status, 200);

    for query in [
        String::new(),
        "committee=haiphong-business-bloc".to_owned(),
        "indicator=revenue&from=2022&to=2022".to_owned(),
        format!("as_of={then}"),
    ] {
        let mut ids = listed_ids(&app, &query).await;
        assert!(ids.contains(&id), "{query}");
        ids.sort();
        for format in ["csv", "json_export"] {
            // The same figures as the list's pages, each once (the file is in
            // period order, the list in id order).
            let file = exported(&app, &query, format).await;
            let mut file_ids: Vec<i64> = file.iter().map(|(i, _)| *i).collect();
            file_ids.sort();
            assert_eq!(file_ids, ids, "{query} {format}");
            let value = &file.iter().find(|(i, _)| *i == id).unwrap().1;
            let expected = if query.starts_with("as_of") {
                "500"
            } else {
                "501"
            };
            assert_eq!(value, expected, "{query} {format}");
        }
    }
    // Nothing matches: a file with no figure, still well-formed.
    assert!(exported(&app, "committee=nobody", "csv").await.is_empty());
    assert!(exported(&app, "committee=nobody", "json_export")
        .await
        .is_empty());
}

async fn repeats_of_stored_figures_and_mixed_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, first) = import(&app, "", "text/csv", CSV).await;
    assert_eq!(status, 200, "{first}");
    // One stored figure changed, then repeated (in another spelling of the
    // period); one new figure; one stored figure unchanged.
    let csv = "committee,indicator,period,value\n\
               hanam-business-bloc,revenue,2022-Q1,101\n\
               hanam-business-bloc,revenue,2022-Q3,7\n\
               hanam-business-bloc,revenue,2022Q1,102\n\
               hanam-business-bloc,new_party_members,2022,35\n";
    let response = app.post_raw("/api/v1/imports", "text/csv", csv).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["row"], 4);
    assert_eq!(problem["errors"][0]["code"], "duplicate_in_file");
    let (status, summary) = import(&app, "?atomic=false", "text/csv", csv).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (
            summary["created"].as_i64(),
            summary["updated"].as_i64(),
            summary["unchanged"].as_i64(),
            summary["rejected"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(1)),
        "{summary}"
    );
    let (_, q1) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&period=2022-Q1")
        .await;
    let q1 = &q1["items"][0];
    assert_eq!(
        (q1["value"].as_str(), q1["revision"].as_i64()),
        (Some("101"), Some(2))
    );
    let id = q1["id"].as_i64().unwrap();
    assert_eq!(revision_count(&app, id).await, 2);
    let (_, q3) = app
        .get_json("/api/v1/observations?committee=hanam-business-bloc&period=2022-Q3")
        .await;
    let q3 = &q3["items"][0];
    assert_eq!(
        (q3["value"].as_str(), q3["revision"].as_i64()),
        (Some("7"), Some(1))
    );
    let (_, revisions) = app
        .get_json(&format!(
            "/api/v1/observations/{}/revisions",
            q3["id"].as_i64().unwrap()
        ))
        .await;
    assert_eq!(revisions.as_array().unwrap().len(), 1, "{revisions}");
    assert_eq!(revisions[0]["value"], "7");
    assert_eq!(revisions[0]["previous_value"], Value::Null);
}

#[derive(diesel::QueryableByName)]
struct Estimate {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
}

/// The planner's estimate of the figures PostgreSQL stores (-1: never analysed).
fn planner_estimate(url: &str) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(url).expect("connect");
    diesel::sql_query(
        "SELECT CAST(reltuples AS BIGINT) AS rows FROM pg_class WHERE relname = 'observations'",
    )
    .get_result::<Estimate>(&mut conn)
    .expect("pg_class")
    .rows
}

/// A bulk import leaves PostgreSQL's planner knowing what it loaded, even
/// where autovacuum is off or has not come round: a freshly loaded table the
/// planner takes for empty gets plans that read it whole per joined row (an
/// export of 10M imported figures spent 10 s on each period).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_import_refreshes_the_planner_statistics() {
    if !postgres_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    // A small import is no reason to sample the tables.
    let (status, summary) = import(&app, "", "text/csv", CSV).await;
    assert_eq!(
        (status, summary["created"].as_i64()),
        (200, Some(3)),
        "{summary}"
    );
    let stale = planner_estimate(&app.database.url);
    assert_ne!(
        stale,
        app.observation_count().await,
        "statistics already current"
    );

    let committees = [
        "haiphong-business-bloc",
        "hanoi-business-bloc",
        "thaibinh-business-bloc",
        "vinhphuc-business-bloc",
        "phutho-business-bloc",
    ];
    let mut csv = String::from("committee,indicator,period,value,unit,scale\n");
    let mut rows = 0;
    for committee in committees {
        for year in 2001..=2020 {
            for month in 1..=12 {
                rows += 1;
                csv.push_str(&format!(
                    "{committee},revenue,{year}-M{month:02},{},VND,9\n",
                    1000 + rows
                ));
            }
        }
    }
    assert!(rows >= chitieu::db::imports::ANALYZE_AFTER_ROWS);
    let (status, summary) = import(&app, "", "text/csv", csv).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["created"].as_i64(), Some(rows), "{summary}");
    // Under 30,000 rows ANALYZE reads them all: the estimate is the count.
    assert_eq!(
        planner_estimate(&app.database.url),
        app.observation_count().await
    );
}

crate::both_backends!(
    csv_json_and_xlsx_import_with_a_summary,
    one_bad_row_and_an_atomic_import_writes_nothing,
    vietnamese_files_import_with_locale_vi,
    an_export_re_imports_unchanged,
    an_export_is_the_list_in_one_file,
    repeats_of_stored_figures_and_mixed_files,
);
