//! The import summary's row listing (issue 12, item 4): `rows=changes|all`
//! lists each row's parsed figure and what the import does with it, for dry
//! runs and real ones, 200 and 422 alike; `rows=none` (the default) lists none,
//! and a long listing is cut and says so.

use serde_json::{json, Value};

use crate::helpers::{read, Backend, TestApp};

const HANAM: &str = "hanam-business-bloc";

async fn import(
    app: &TestApp,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    read(
        app.post_raw(&format!("/api/v1/imports{query}"), content_type, body)
            .await,
    )
    .await
}

async fn store(app: &TestApp, indicator: &str, period: &str, value: &str) {
    let (status, body) = app
        .post_json(
            "/api/v1/observations",
            &json!({"committee": HANAM, "indicator": indicator, "period": period, "value": value}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn stored_value(app: &TestApp, indicator: &str, period: &str) -> Value {
    let (status, page) = app
        .get_json(&format!(
            "/api/v1/observations?committee={HANAM}&indicator={indicator}&period={period}"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"][0]["value"].clone()
}

/// (row, action) of each listed row.
fn actions(summary: &Value) -> Vec<(u64, String)> {
    summary["listed_rows"]
        .as_array()
        .unwrap_or_else(|| panic!("listed_rows: {summary}"))
        .iter()
        .map(|row| {
            (
                row["row"].as_u64().unwrap(),
                row["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(u64, &str)]) -> Vec<(u64, String)> {
    expected
        .iter()
        .map(|(row, action)| (*row, action.to_string()))
        .collect()
}

/// One row of each kind: an update (2), an unchanged row (3), a creation
/// written in another scale (4), an unreadable row (5), a creation with a
/// plausibility warning (6) and a row refused by the stored data (7).
fn mixed_file() -> String {
    format!(
        "committee,indicator,period,value,unit,scale,status,qualifier\n\
         {HANAM},revenue,2031-Q1,150,,,,\n\
         {HANAM},revenue,2031-Q2,200,,,,\n\
         {HANAM},revenue,2031-Q3,2500,VND,6,P,approximate\n\
         atlantis,revenue,2031-Q1,1,,,,\n\
         {HANAM},export_turnover,2041,27701,,,,\n\
         {HANAM},revenue,2031-Q1,7,,,,\n"
    )
}

async fn rows_lists_each_row_with_its_action(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    store(&app, "revenue", "2031-Q1", "100").await;
    store(&app, "revenue", "2031-Q2", "200").await;
    store(&app, "export_turnover", "2040", "27.701").await;
    let before = app.observation_count().await;
    let csv = mixed_file();

    let (status, all) = import(
        &app,
        "?dry_run=true&atomic=false&rows=all",
        "text/csv",
        csv.clone(),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        actions(&all),
        pairs(&[
            (2, "update"),
            (3, "unchanged"),
            (4, "create"),
            (5, "rejected"),
            (6, "create"),
            (7, "rejected"),
        ])
    );
    assert_eq!(all["rows_truncated"], false);
    let listed = &all["listed_rows"];
    // The update shows the value it replaces; the unchanged row none.
    assert_eq!(
        (listed[0]["value"].as_str(), listed[0]["old_value"].as_str()),
        (Some("150"), Some("100"))
    );
    assert_eq!(listed[1]["old_value"], Value::Null);
    // The parsed figure, in the indicator's unit and scale (2500 triệu = 2.5 tỷ).
    assert_eq!(
        listed[2],
        json!({
            "row": 4, "committee": HANAM, "indicator": "revenue", "period": "2031-Q3",
            "breakdown": "", "value": "2.5", "unit": "VND", "scale": 9, "status": "P",
            "qualifier": "approximate", "action": "create", "old_value": null,
            "errors": [], "warnings": []
        })
    );
    // An unreadable row: its errors, as the summary lists them, and no figure.
    assert_eq!(listed[3]["committee"], Value::Null);
    assert_eq!(listed[3]["errors"][0]["code"], "unknown_committee");
    assert!(all["errors"]
        .as_array()
        .unwrap()
        .contains(&listed[3]["errors"][0]));
    // The warning is the summary's own warning object.
    assert_eq!(listed[4]["warnings"], json!([all["warnings"][0].clone()]));
    assert_eq!(listed[4]["warnings"][0]["ratio"], "1000");
    assert_eq!(listed[4]["value"], "27701");
    assert_eq!(
        (listed[4]["unit"].as_str(), listed[4]["scale"].as_i64()),
        (Some("USD"), Some(6))
    );
    // A row refused by the stored data, with its error.
    assert_eq!(listed[5]["errors"][0]["code"], "duplicate_in_file");
    assert_eq!(listed[5]["period"], "2031-Q1");
    // A dry run writes nothing.
    assert_eq!(app.observation_count().await, before);
    assert_eq!(stored_value(&app, "revenue", "2031-Q1").await, "100");

    // changes: all but the unchanged row, the same objects.
    let (status, changes) = import(
        &app,
        "?dry_run=true&atomic=false&rows=changes",
        "text/csv",
        csv.clone(),
    )
    .await;
    assert_eq!(status, 200, "{changes}");
    let mut expected = listed.as_array().unwrap().clone();
    expected.remove(1);
    assert_eq!(changes["listed_rows"], json!(expected));

    // By default no row is listed.
    let (status, plain) = import(&app, "?dry_run=true&atomic=false", "text/csv", csv.clone()).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(
        (
            plain["listed_rows"].clone(),
            plain["rows_truncated"].clone()
        ),
        (json!([]), json!(false))
    );

    // A refused atomic import lists them too.
    let (status, refused) = import(&app, "?rows=changes", "text/csv", csv.clone()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["listed_rows"], changes["listed_rows"]);
    assert_eq!(app.observation_count().await, before);

    // A real run lists what it did.
    let (status, written) = import(&app, "?atomic=false&rows=changes", "text/csv", csv).await;
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["committed"], true);
    assert_eq!(written["listed_rows"], changes["listed_rows"]);
    assert_eq!(stored_value(&app, "revenue", "2031-Q1").await, "150");

    // A deletion shows the value it deletes.
    let (status, deletion) = import(
        &app,
        "?strategy=delete&dry_run=true&rows=all",
        "text/csv",
        format!("committee,indicator,period\n{HANAM},revenue,2031-Q2\n"),
    )
    .await;
    assert_eq!(status, 200, "{deletion}");
    assert_eq!(actions(&deletion), pairs(&[(2, "delete")]));
    assert_eq!(deletion["listed_rows"][0]["old_value"], "200");

    // A spreadsheet's number cell, listed as stored.
    let headers = ["committee", "indicator", "period", "value"];
    let cells = vec![vec![
        Some(HANAM.to_owned()),
        Some("export_turnover".to_owned()),
        Some("2042".to_owned()),
        Some("27.9".to_owned()),
    ]];
    let xlsx = chitieu::tabular::write_xlsx(&headers, &["value"], str::to_owned, cells.into_iter())
        .unwrap();
    let (status, sheet) = import(
        &app,
        "?format=xlsx&locale=vi&dry_run=true&rows=all",
        "application/octet-stream",
        xlsx,
    )
    .await;
    assert_eq!(status, 200, "{sheet}");
    assert_eq!(actions(&sheet), pairs(&[(2, "create")]));
    assert_eq!(sheet["listed_rows"][0]["value"], "27.9");
}

async fn a_long_listing_is_cut_and_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    // 1020 new figures: monthly, quarterly and yearly revenue of 60 years.
    let mut csv = String::from("committee,indicator,period,value\n");
    let mut periods = Vec::new();
    for year in 2001..2061 {
        periods.push(year.to_string());
        periods.extend((1..=4).map(|q| format!("{year}-Q{q}")));
        periods.extend((1..=12).map(|m| format!("{year}-M{m:02}")));
    }
    for period in &periods {
        csv.push_str(&format!("{HANAM},revenue,{period},1\n"));
    }
    assert!(periods.len() > chitieu::import::MAX_LISTED_ROWS);
    for rows in ["all", "changes"] {
        let (status, summary) = import(
            &app,
            &format!("?dry_run=true&rows={rows}"),
            "text/csv",
            csv.clone(),
        )
        .await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["rows"], periods.len());
        let listed = actions(&summary);
        assert_eq!(listed.len(), chitieu::import::MAX_LISTED_ROWS);
        assert_eq!(listed[0], (2, "create".to_owned()));
        assert_eq!(
            listed.last().unwrap().0,
            chitieu::import::MAX_LISTED_ROWS as u64 + 1
        );
        assert_eq!(summary["rows_truncated"], true);
    }
    // Exactly the cap: not cut.
    let cap: String = csv
        .lines()
        .take(chitieu::import::MAX_LISTED_ROWS + 1)
        .map(|line| format!("{line}\n"))
        .collect();
    let (status, summary) = import(&app, "?dry_run=true&rows=all", "text/csv", cap).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(actions(&summary).len(), chitieu::import::MAX_LISTED_ROWS);
    assert_eq!(summary["rows_truncated"], false);
    assert_eq!(app.observation_count().await, before);
}

async fn a_bad_rows_value_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    let csv = format!("committee,indicator,period,value\n{HANAM},revenue,2031,1\n");
    let response = app
        .post_raw("/api/v1/imports?rows=some", "text/csv", csv)
        .await;
    let problem = crate::helpers::assert_problem(response, 400).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("changes"),
        "{problem}"
    );
    assert_eq!(app.observation_count().await, before);
}

/// `chitieu import --rows changes` prints the listing as a table.
async fn the_command_line_prints_the_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, mixed_file()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chitieu"))
        .arg("import")
        .arg(&file)
        .args(["--dry-run", "--rows", "changes"])
        .env("DATABASE_URL", &app.database.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("chitieu import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "rejected rows: {stdout}");
    for line in [
        "row\taction\tcommittee\tindicator\tperiod\tbreakdown\tvalue\tunit\tscale\tstatus\tqualifier\told value\tnote",
        "4\tcreate\thanam-business-bloc\trevenue\t2031-Q3\t-\t2.5\tVND\t9\tP\tapproximate\t-\t-",
        "5\trejected\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tunknown_committee",
        "7\trejected\thanam-business-bloc\trevenue\t2031-Q1\t-\t7\tVND\t9\tA\texact\t-\tduplicate_in_file",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} in:\n{stdout}");
    }
    assert_eq!(app.observation_count().await, before);
}

crate::both_backends!(
    the_command_line_prints_the_rows,
    rows_lists_each_row_with_its_action,
    a_long_listing_is_cut_and_says_so,
    a_bad_rows_value_is_refused,
);
