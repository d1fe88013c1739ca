//! Analysis: comparisons, series and totals, checks, target progress, dashboards.
//! Expected answers are worked out by hand in the comments.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, Backend, TestApp};

async fn enter(app: &TestApp, committee: &str, indicator: &str, period: &str, value: &str) {
    let body =
        json!({"committee": committee, "indicator": indicator, "period": period, "value": value});
    let (status, created) = app
        .post_json("/api/v1/observations?mode=upsert", &body)
        .await;
    assert!(status == 200 || status == 201, "{created}");
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn note_mentions(item: &Value, word: &str) -> bool {
    item["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains(word))
}

async fn year_on_year_compares_checks_reported_changes_and_implies_missing_values(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    // Seeds: 2021 revenue 27,701 at +7.7 %, no 2020 figure: 27701 / 1.077 = 25720.519… → 25720.5, derived.
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=năm%202021").await;
    assert_eq!(report["base_period"], "2020");
    let item = &report["items"][0];
    assert_eq!(item["current"]["value"], "27701");
    assert!(item["previous"]["value"].is_null());
    assert_eq!(item["previous"]["provenance"]["kind"], "missing");
    assert_eq!(item["implied_previous"]["value"], "25720.5");
    assert_eq!(item["implied_previous"]["derived"], true);
    assert!(item["percent_change"].is_null());
    // Q1 2022: 6619 at −9 % → 6619 / 0.91 = 7273.626… → 7273.6.
    let report = ok(
        &app,
        "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2022-Q1",
    )
    .await;
    assert_eq!(report["items"][0]["implied_previous"]["value"], "7273.6");

    // A made-up 2020 figure: (27701 − 25720) / 25720 = 7.7022 % → 7.7 (2 decimals, no trailing zero); at the reported
    // precision 7.7, consistent.
    enter(&app, "haiphong-business-bloc", "revenue", "2020", "25720").await;
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue,budget_contribution&period=2021").await;
    let revenue = &report["items"][0];
    assert_eq!(revenue["absolute_change"], "1981");
    assert_eq!(revenue["percent_change"], "7.7");
    assert_eq!(revenue["reported"]["reported"], "7.7");
    assert_eq!(revenue["reported"]["computed"], "7.7");
    assert_eq!(revenue["reported"]["verdict"], "consistent");
    assert!(revenue["implied_previous"].is_null());
    assert_eq!(report["items"][1]["indicator"], "budget_contribution");
    // 2020 at 25,000: (27701 − 25000) / 25000 = 10.804 % → 10.8, and 10.8 at one decimal: inconsistent.
    enter(&app, "haiphong-business-bloc", "revenue", "2020", "25000").await;
    let report = ok(
        &app,
        "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2021",
    )
    .await;
    let revenue = &report["items"][0];
    assert_eq!(revenue["percent_change"], "10.8");
    assert_eq!(revenue["reported"]["computed"], "10.8");
    assert_eq!(revenue["reported"]["verdict"], "inconsistent");

    // A lower bound ("trên 14,644 tỷ") makes the change a lower bound too.
    enter(
        &app,
        "haiphong-business-bloc",
        "social_welfare_contributions",
        "2020",
        "10",
    )
    .await;
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=social_welfare_contributions&period=2021").await;
    let item = &report["items"][0];
    assert_eq!(item["absolute_change"], "4.644");
    assert_eq!(item["qualifier"], "lower_bound");
    assert!(note_mentions(item, "lower bound"), "{item}");

    // An estimate carries its status; "tăng hơn 21,37%" is a lower bound:
    // (24730 − 20000) / 20000 = 23.65 % ≥ 21.37 → consistent.
    enter(
        &app,
        "unnamed-province-business-bloc",
        "revenue",
        "2020-S1",
        "20000",
    )
    .await;
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=unnamed-province-business-bloc&indicator=revenue&period=6%20th%C3%A1ng%20%C4%91%E1%BA%A7u%20n%C4%83m%202021").await;
    let item = &report["items"][0];
    assert_eq!(item["status"], "E");
    assert_eq!(item["percent_change"], "23.65");
    assert_eq!(item["reported"]["reported_qualifier"], "lower_bound");
    assert_eq!(item["reported"]["verdict"], "consistent");
    assert!(note_mentions(item, "estimate"), "{item}");

    // Previous period: 2022-Q1 against 2021-Q4 = 7000: (6619 − 7000) / 7000 = −5.4428… → −5.44.
    enter(&app, "haiphong-business-bloc", "revenue", "2021-Q4", "7000").await;
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2022-Q1&basis=previous_period").await;
    assert_eq!(report["base_period"], "2021-Q4");
    let item = &report["items"][0];
    assert_eq!(item["absolute_change"], "-381");
    assert_eq!(item["percent_change"], "-5.44");
    assert!(
        item["reported"].is_null(),
        "a year-on-year report says nothing about the previous quarter"
    );

    // Year to date against the same span last year: (900 − 800) / 800 = 12.5 %.
    enter(
        &app,
        "thaibinh-business-bloc",
        "revenue",
        "9 tháng đầu năm 2022",
        "900",
    )
    .await;
    enter(
        &app,
        "thaibinh-business-bloc",
        "revenue",
        "2021-YTD-M09",
        "800",
    )
    .await;
    let report = ok(&app, "/api/v1/comparisons/yoy?committee=thaibinh-business-bloc&indicator=revenue&period=2022-YTD-M09").await;
    assert_eq!(report["items"][0]["percent_change"], "12.5");

    // A group: one comparison per member.
    let report = ok(
        &app,
        "/api/v1/comparisons/yoy?group=northern-business-blocs&indicator=revenue&period=2021",
    )
    .await;
    assert_eq!(report["items"].as_array().unwrap().len(), 7);

    // Bad requests.
    for (path, status) in [
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue", 400),
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&period=2021", 400),
        ("/api/v1/comparisons/yoy?committee=atlantis&indicator=revenue&period=2021", 404),
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=gdp&period=2021", 404),
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2021-Q9", 400),
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2022-YTD-M09&basis=previous_period", 400),
        ("/api/v1/comparisons/yoy?committee=haiphong-business-bloc&group=northern-business-blocs&indicator=revenue&period=2021", 400),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(response, status).await;
    }
}

/// One committee × indicator is read by a single statement of its own
/// (`pair_by_codes`); it must answer exactly as the general path does for the
/// same pair in a list, and see deletions and new figures at once.
async fn one_pair_answers_as_in_a_list_and_sees_every_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hp = "haiphong-business-bloc";
    enter(&app, hp, "revenue", "2020", "25720").await;
    let single = |period: &str| {
        format!("/api/v1/comparisons/yoy?committee={hp}&indicator=revenue&period={period}")
    };
    let listed = |period: &str| {
        format!("/api/v1/comparisons/yoy?committee={hp},thaibinh-business-bloc&indicator=revenue,budget_contribution&period={period}")
    };
    for period in ["2021", "2022-Q1", "2020", "2019"] {
        let one = ok(&app, &single(period)).await;
        let list = ok(&app, &listed(period)).await;
        assert_eq!(one["items"].as_array().unwrap().len(), 1);
        assert_eq!(one["items"][0], list["items"][0], "{period}");
        assert_eq!(one["base_period"], list["base_period"]);
    }
    let one = ok(&app, &single("2021")).await;
    assert_eq!(one["items"][0]["previous"]["value"], "25720");
    assert_eq!(one["items"][0]["committee"], hp);
    assert_eq!(one["items"][0]["unit"], list_unit(&app).await);

    // Deleting the 2020 figure: the comparison falls back to the implied value.
    let (_, page) = app
        .get_json(&format!(
            "/api/v1/observations?committee={hp}&indicator=revenue&period=2020"
        ))
        .await;
    let id = page["items"][0]["id"].as_i64().expect("the 2020 figure");
    let (status, _) = app.delete(&format!("/api/v1/observations/{id}")).await;
    assert!(status == 200 || status == 204, "delete: {status}");
    let one = ok(&app, &single("2021")).await;
    assert!(one["items"][0]["previous"]["value"].is_null());
    assert_eq!(one["items"][0]["implied_previous"]["value"], "25720.5");

    // Neither figure stored: still one item, with notes, not an error.
    let one = ok(&app, &single("2016")).await;
    assert!(one["items"][0]["current"]["value"].is_null());
    assert!(note_mentions(&one["items"][0], "no figure"));
}

async fn list_unit(app: &TestApp) -> Value {
    let (status, body) = app.get_json("/api/v1/indicators/revenue").await;
    assert_eq!(status, 200, "{body}");
    body["unit"].clone()
}

async fn series_aggregate_by_measure_kind_and_transform(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tb = "thaibinh-business-bloc";
    for (quarter, value) in [
        ("2022-Q1", "100"),
        ("2022-Q2", "200"),
        ("2022-Q3", "300"),
        ("2022-Q4", "400.5"),
    ] {
        enter(&app, tb, "revenue", quarter, value).await;
    }
    for (quarter, value) in [
        ("2022-Q1", "10"),
        ("2022-Q2", "20"),
        ("2022-Q3", "30"),
        ("2022-Q4", "40"),
    ] {
        enter(&app, tb, "loans_outstanding", quarter, value).await;
    }
    for (quarter, value) in [
        ("2023-Q1", "100"),
        ("2023-Q2", "200"),
        ("2023-Q3", "300"),
        ("2021-Q1", "80"),
    ] {
        enter(&app, tb, "revenue", quarter, value).await;
    }
    // A flow sums its quarters: 100 + 200 + 300 + 400.5 = 1000.5.
    let series = ok(
        &app,
        &format!("/api/v1/series?committee={tb}&indicator=revenue&from=2022&to=2023"),
    )
    .await;
    assert_eq!(series["frequency"], "annual");
    let points = series["points"].as_array().unwrap();
    assert_eq!(points[0]["period"], "2022");
    assert_eq!(points[0]["value"], "1000.5");
    assert_eq!(points[0]["provenance"]["kind"], "derived");
    assert_eq!(points[0]["provenance"]["rule"], "sum");
    assert_eq!(points[0]["provenance"]["from"].as_array().unwrap().len(), 4);
    assert_eq!(points[0]["completeness"]["complete"], true);
    // 2023 has three quarters of four: not aggregated unless asked.
    assert!(points[1]["value"].is_null());
    assert_eq!(points[1]["provenance"]["kind"], "missing");
    let series = ok(&app, &format!("/api/v1/series?committee={tb}&indicator=revenue&from=2023&to=2023&allow_incomplete=true")).await;
    let point = &series["points"][0];
    assert_eq!(point["value"], "600");
    // Flagged: three quarters cover 9 of the year's 12 months.
    assert_eq!(point["provenance"]["kind"], "derived");
    assert_eq!(point["completeness"]["complete"], false);
    assert_eq!(
        (
            point["completeness"]["present"].as_u64(),
            point["completeness"]["expected"].as_u64()
        ),
        (Some(9), Some(12))
    );
    assert_eq!(point["completeness"]["missing"], json!(["2023-Q4"]));

    // A stock takes the period-end level: Q4 = 40, not 100.
    let series = ok(
        &app,
        &format!("/api/v1/series?committee={tb}&indicator=loans_outstanding&from=2022&to=2022"),
    )
    .await;
    assert_eq!(series["points"][0]["value"], "40");

    // Transforms over quarters: pch Q2 = (200 − 100) / 100 = 100 %; chg Q4 = 400.5 − 300 = 100.5;
    // pc1 Q1 = (100 − 80) / 80 = 25 %.
    let path = |t: &str| {
        format!(
            "/api/v1/series?committee={tb}&indicator=revenue&from=2022-Q1&to=2022-Q4&transform={t}"
        )
    };
    let pch = ok(&app, &path("pch")).await;
    assert_eq!(pch["unit"], "percent");
    assert_eq!(pch["points"][1]["value"], "100");
    let chg = ok(&app, &path("chg")).await;
    assert_eq!(chg["points"][3]["value"], "100.5");
    let pc1 = ok(&app, &path("pc1")).await;
    assert_eq!(pc1["points"][0]["value"], "25");
    assert!(
        pc1["points"][1]["value"].is_null(),
        "2021-Q2 is not stored: {pc1}"
    );

    // A group total: Thái Bình's 1000.5 (from quarters) + Hà Nam's 500 = 1500.5, 2 of 7 reporting.
    enter(&app, "hanam-business-bloc", "revenue", "2022", "500").await;
    let total = ok(
        &app,
        "/api/v1/series?group=northern-business-blocs&indicator=revenue&from=2022&to=2022",
    )
    .await;
    assert_eq!(total["members"], 7);
    assert_eq!(total["points"][0]["value"], "1500.5");
    assert_eq!(total["points"][0]["members_reported"], 2);

    // What makes no sense is refused.
    for (path, status) in [
        ("/api/v1/series?group=northern-business-blocs&indicator=npl_ratio&from=2022&to=2022", 422),
        ("/api/v1/series?committee=haiphong-business-bloc&indicator=npl_ratio&from=2022-Q1&to=2022-Q4&transform=pch", 422),
        ("/api/v1/series?committee=haiphong-business-bloc&indicator=revenue,export_turnover&from=2022&to=2022", 400),
        ("/api/v1/series?committee=haiphong-business-bloc&indicator=revenue&from=2022&to=2022&frequency=daily", 400),
        ("/api/v1/series?committee=haiphong-business-bloc&indicator=revenue&from=2023&to=2021", 400),
        ("/api/v1/series?committee=haiphong-business-bloc&indicator=revenue&from=2022&to=2022&transform=log", 400),
        ("/api/v1/series?indicator=revenue&from=2022&to=2022", 400),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(response, status).await;
    }
}

async fn checks_list_every_disagreement_between_reported_and_computed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let report = ok(&app, "/api/v1/checks?limit=50").await;
    let items = report["items"].as_array().unwrap();
    // 56 of 727 is 7.70 %, reported 7.5 %.
    let zone = items
        .iter()
        .find(|c| c["indicator"] == "enterprises_with_party_organisation")
        .expect("share check");
    assert_eq!(
        (
            zone["kind"].as_str(),
            zone["reported"].as_str(),
            zone["computed"].as_str()
        ),
        (Some("share"), Some("7.5"), Some("7.7"))
    );
    assert_eq!(zone["verdict"], "inconsistent");
    // Loans 37,952 of deposits 62,029 is 61.18 %, reported 62.93 %.
    let loans = items
        .iter()
        .find(|c| c["indicator"] == "loans_outstanding")
        .expect("loans check");
    assert_eq!(
        (loans["reported"].as_str(), loans["computed"].as_str()),
        (Some("62.93"), Some("61.18"))
    );
    assert!(items.iter().all(|c| c["verdict"] == "inconsistent"));
    assert_eq!(report["inconsistent"].as_u64(), Some(items.len() as u64));

    // Women 59,356 + men 40,214 = 99,570 workers: consistent, listed only when asked.
    let all = ok(
        &app,
        "/api/v1/checks?committee=haiphong-economic-zone&include_consistent=true",
    )
    .await;
    let sum = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "breakdown_sum")
        .expect("breakdown check");
    assert_eq!(
        (sum["computed"].as_str(), sum["verdict"].as_str()),
        (Some("99570"), Some("consistent"))
    );

    // A made-up disagreement: men 40,000 makes the sum 99,356.
    let body = json!({"committee": "haiphong-economic-zone", "indicator": "workers", "period": "2024-03-18",
                      "breakdown": {"sex": "male"}, "value": "40000"});
    let (status, _) = app
        .post_json("/api/v1/observations?mode=upsert", &body)
        .await;
    assert_eq!(status, 200);
    let report = ok(
        &app,
        "/api/v1/checks?committee=haiphong-economic-zone&period=2024-03-18",
    )
    .await;
    let sum = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "breakdown_sum")
        .expect("now inconsistent");
    assert_eq!(sum["computed"], "99356");

    // A reported change against a stored previous year: 2022-Q1 budget 203.1 at +9.8 %;
    // 2021-Q1 = 185: (203.1 − 185) / 185 = 9.78 % → 9.8, consistent; 180 → 12.8, inconsistent.
    enter(
        &app,
        "haiphong-business-bloc",
        "budget_contribution",
        "2021-Q1",
        "180",
    )
    .await;
    let report = ok(
        &app,
        "/api/v1/checks?committee=haiphong-business-bloc&period=2022-Q1",
    )
    .await;
    let yoy = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "reported_yoy")
        .expect("yoy check");
    assert_eq!(
        (yoy["reported"].as_str(), yoy["computed"].as_str()),
        (Some("9.8"), Some("12.8"))
    );
    enter(
        &app,
        "haiphong-business-bloc",
        "budget_contribution",
        "2021-Q1",
        "185",
    )
    .await;
    let report = ok(
        &app,
        "/api/v1/checks?committee=haiphong-business-bloc&period=2022-Q1",
    )
    .await;
    assert!(report["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["kind"] != "reported_yoy"));

    let response = app
        .client
        .get(app.url("/api/v1/checks?committee=atlantis"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

/// `/checks` answers a page of committees at a time, in code order: walking
/// the pages with `next` gives exactly the checks of one large page, each
/// committee once, and a `Link` header says where the next page is.
async fn checks_are_paged_by_committee_and_the_pages_add_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Without a period, a page is one committee's whole history by default.
    let first = ok(&app, "/api/v1/checks").await;
    assert_eq!(first["committees"].as_array().unwrap().len(), 1, "{first}");
    assert!(first["next"].is_string());
    let whole = ok(&app, "/api/v1/checks?include_consistent=true&limit=50").await;
    assert!(
        whole["next"].is_null() && whole["next_cursor"].is_null(),
        "{whole}"
    );
    let committees: Vec<String> = whole["committees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert!(committees.len() > 3, "the seeds have several committees");
    let mut sorted = committees.clone();
    sorted.sort();
    assert_eq!(committees, sorted, "pages go in committee code order");
    assert!(!whole["items"].as_array().unwrap().is_empty());

    let mut path = "/api/v1/checks?include_consistent=true&limit=2".to_owned();
    let mut walked_committees = Vec::new();
    let mut walked_items = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let link = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let page: Value = response.json().await.unwrap();
        let listed = page["committees"].as_array().unwrap();
        assert!(listed.len() <= 2, "{page}");
        walked_committees.extend(listed.iter().map(|c| c.as_str().unwrap().to_owned()));
        walked_items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(
                    link.as_deref(),
                    Some(format!("<{next}>; rel=\"next\"").as_str())
                );
                assert!(next.contains("limit=2") && next.contains("include_consistent=true"));
                path = next.to_owned();
            }
            None => {
                assert!(link.is_none());
                break;
            }
        }
    }
    assert_eq!(pages, committees.len().div_ceil(2));
    assert_eq!(walked_committees, committees);
    assert_eq!(&walked_items, whole["items"].as_array().unwrap());

    // Named committees are paged the same way, in code order.
    let page = ok(
        &app,
        "/api/v1/checks?committee=haiphong-economic-zone,haiphong-business-bloc&limit=1",
    )
    .await;
    assert_eq!(page["committees"], json!(["haiphong-business-bloc"]));
    let rest = ok(&app, page["next"].as_str().unwrap()).await;
    assert_eq!(rest["committees"], json!(["haiphong-economic-zone"]));
    assert!(rest["next"].is_null());

    // A made-up cursor or a page size out of range is a 400.
    for path in [
        "/api/v1/checks?cursor=zz",
        "/api/v1/checks?cursor=c0001",
        "/api/v1/checks?limit=0",
        "/api/v1/checks?limit=51",
        "/api/v1/checks?limit=ten",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(response, 400).await;
    }
}

async fn target_progress_is_direction_aware_and_pro_rata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Seeds: 201 new members against 200 → 100.5 %, exceeded.
    let report = ok(
        &app,
        "/api/v1/targets/progress?committee=haiphong-business-bloc&indicator=new_party_members",
    )
    .await;
    let item = &report["items"][0];
    assert_eq!(
        (item["achieved"]["value"].as_str(), item["target"].as_str()),
        (Some("201"), Some("200"))
    );
    assert_eq!(item["percent_of_target"], "100.5");
    assert_eq!(item["status"], "exceeded");
    assert_eq!(
        item["assigned_by"].as_str().map(|a| a.contains("Thành ủy")),
        Some(true)
    );

    // An annual plan of 4000 judged in its first quarter against 4000 × 3/12 = 1000.
    let target = json!({"committee": "thaibinh-business-bloc", "indicator": "revenue", "period": "2022", "value": "4000"});
    assert_eq!(app.post_json("/api/v1/targets", &target).await.0, 201);
    enter(&app, "thaibinh-business-bloc", "revenue", "2022-Q1", "100").await;
    let path = "/api/v1/targets/progress?committee=thaibinh-business-bloc&indicator=revenue&period=2022-Q1";
    let item = ok(&app, path).await["items"][0].clone();
    assert_eq!(item["expected"], "1000");
    assert_eq!(item["pro_rata"], true);
    assert_eq!(item["percent_of_target"], "2.5"); // 100 / 4000
    assert_eq!(item["percent_of_expected"], "10"); // 100 / 1000
    assert_eq!(item["status"], "behind");
    enter(&app, "thaibinh-business-bloc", "revenue", "2022-Q1", "1100").await;
    let item = ok(&app, path).await["items"][0].clone();
    assert_eq!(
        (
            item["percent_of_target"].as_str(),
            item["percent_of_expected"].as_str(),
            item["status"].as_str()
        ),
        (Some("27.5"), Some("110"), Some("on_track"))
    );
    // A quarterly target, when one exists, is used instead of the pro-rata share.
    let quarterly = json!({"committee": "thaibinh-business-bloc", "indicator": "revenue", "period": "2022-Q1", "value": "1200"});
    assert_eq!(app.post_json("/api/v1/targets", &quarterly).await.0, 201);
    let item = ok(&app, path).await["items"][0].clone();
    assert_eq!(
        (item["target_period"].as_str(), item["status"].as_str()),
        (Some("2022-Q1"), Some("behind"))
    );

    // Lower is better: an NPL ceiling of 1 % against 0.05 % → 1 / 0.05 = 2000 %, exceeded.
    let ceiling = json!({"committee": "haiphong-business-bloc", "indicator": "npl_ratio", "period": "2022", "value": "1"});
    assert_eq!(app.post_json("/api/v1/targets", &ceiling).await.0, 201);
    let report = ok(&app, "/api/v1/targets/progress?committee=haiphong-business-bloc&indicator=npl_ratio&period=2022-Q1").await;
    let item = &report["items"][0];
    assert_eq!(item["direction"], "lower_is_better");
    assert_eq!(item["expected"], "1", "a ratio ceiling is not pro-rated");
    assert_eq!(
        (item["percent_of_target"].as_str(), item["status"].as_str()),
        (Some("2000"), Some("exceeded"))
    );

    let response = app
        .client
        .get(app.url("/api/v1/targets/progress?period=2022-Q9"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

async fn a_dashboard_answers_in_one_call_and_304_while_nothing_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = "/api/v1/committees/haiphong-business-bloc/dashboard?period=2021";
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let board: Value = response.json().await.unwrap();
    let items = board["items"].as_array().unwrap();
    // Nine figures for 2021 in source 000, one with a target.
    assert_eq!(items.len(), 9, "{board}");
    let members = items
        .iter()
        .find(|i| i["indicator"] == "new_party_members")
        .unwrap();
    assert_eq!(members["figure"]["value"], "201");
    assert_eq!(members["progress"]["status"], "exceeded");
    let revenue = items.iter().find(|i| i["indicator"] == "revenue").unwrap();
    assert_eq!(
        revenue["year_on_year"]["implied_previous"]["value"],
        "25720.5"
    );

    let again = app
        .client
        .get(app.url(path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    enter(&app, "haiphong-business-bloc", "revenue", "2020", "25720").await;
    let changed = app
        .client
        .get(app.url(path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);

    for (path, status) in [
        ("/api/v1/committees/atlantis/dashboard?period=2021", 404),
        ("/api/v1/committees/haiphong-business-bloc/dashboard", 400),
        (
            "/api/v1/committees/haiphong-business-bloc/dashboard?period=someday",
            400,
        ),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(response, status).await;
    }
}

/// The answer cache says whether it answered (`x-chitieu-cache`), and a hit is
/// the answer computed afresh: a write makes the next request a miss with the
/// new figure in it.
async fn the_answer_cache_says_hit_or_miss_and_never_serves_an_old_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path =
        "/api/v1/comparisons/yoy?committee=haiphong-business-bloc&indicator=revenue&period=2022";
    let get = || async {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let cache = response
            .headers()
            .get("x-chitieu-cache")
            .map(|v| v.to_str().unwrap().to_owned());
        (cache, response.json::<Value>().await.unwrap())
    };
    let (first, before) = get().await;
    assert_eq!(first.as_deref(), Some("miss"));
    let (second, again) = get().await;
    assert_eq!(second.as_deref(), Some("hit"));
    assert_eq!(before, again, "a hit is the same answer");
    enter(&app, "haiphong-business-bloc", "revenue", "2022", "99999").await;
    let (third, after) = get().await;
    assert_eq!(third.as_deref(), Some("miss"), "a write invalidates");
    assert_eq!(after["items"][0]["current"]["value"], "99999", "{after}");
}

crate::both_backends!(
    the_answer_cache_says_hit_or_miss_and_never_serves_an_old_answer,
    year_on_year_compares_checks_reported_changes_and_implies_missing_values,
    one_pair_answers_as_in_a_list_and_sees_every_change,
    series_aggregate_by_measure_kind_and_transform,
    checks_list_every_disagreement_between_reported_and_computed,
    checks_are_paged_by_committee_and_the_pages_add_up,
    target_progress_is_direction_aware_and_pro_rata,
    a_dashboard_answers_in_one_call_and_304_while_nothing_changes,
);
