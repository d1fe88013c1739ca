//! Group totals from rollups kept current on write (issue 14): wherever the
//! rollups answer, the answer is exactly what reading every member's figures
//! gives, after creates, updates, deletes, batches, imports and membership
//! changes, with qualifiers, statuses and ratios; and concurrent writers of
//! one group leave the rollups as a rebuild makes them.

use chitieu::analysis::catalog::Catalog;
use chitieu::analysis::resolver::group_total_from_rollups;
use chitieu::analysis::series::{build_series, SeriesRequest};
use chitieu::db::AnyConnection;
use chitieu::domain::period::PeriodCode;
use chitieu::domain::series::Transform;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{read, Backend, TestApp};

/// Members of group A from the start.
const MEMBERS: [&str; 3] = [
    "thaibinh-business-bloc",
    "vinhphuc-business-bloc",
    "phutho-business-bloc",
];
/// Joins and leaves group A during the test; always in group B.
const JOINER: &str = "hanam-business-bloc";
const GROUP_A: &str = "rollup-a";
const GROUP_B: &str = "rollup-b";
const RATIO: &str = "loans_to_deposits_pct";
const INDICATORS: [&str; 4] = [
    "revenue",
    "loans_outstanding",
    "bank_capital_mobilised",
    RATIO,
];
const PERIODS: [&str; 7] = [
    "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4", "2023-S1", "2023-S2", "2023",
];
const QUALIFIERS: [&str; 3] = ["exact", "lower_bound", "approximate"];
const STATUSES: [&str; 3] = ["A", "E", "P"];

/// A small deterministic generator (no test may depend on luck).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// An exact decimal with a fractional part, in a plausible range.
    fn value(&mut self) -> String {
        format!("{}.{:03}", 1000 + self.below(9000), self.below(1000))
    }
}

/// The group's series as `build_series` gives it, from the rollups or from
/// every member's figures.
fn group_series(
    conn: &mut AnyConnection,
    group: &str,
    indicator: &str,
    range: (&str, &str),
    use_rollups: bool,
) -> Value {
    let mut catalog = Catalog::load(conn).expect("catalog");
    let committees = catalog.group_members(conn, group).expect("group");
    let indicator = catalog
        .indicators_named("indicator", indicator)
        .expect("indicator")
        .remove(0);
    let from = PeriodCode::parse(range.0).unwrap();
    let request = SeriesRequest {
        committees,
        group: Some(group.to_owned()),
        group_id: catalog.group_id(),
        use_rollups,
        indicator: &indicator,
        catalog: &catalog.indicators,
        from,
        to: PeriodCode::parse(range.1).unwrap(),
        frequency: from.frequency(),
        transform: Transform::Lin,
        allow_incomplete: true,
        as_of: None,
    };
    serde_json::to_value(build_series(conn, &request).expect("series")).unwrap()
}

const RANGES: [(&str, &str); 3] = [
    ("2023-Q1", "2023-Q4"),
    ("2023-S1", "2023-S2"),
    ("2022", "2023"),
];

/// Compares the rollup answers with the members' path for every group,
/// indicator and range; returns how many periods the rollups answered.
fn compare_everything(app: &TestApp, step: &str) -> usize {
    let mut conn = app.pool.get().expect("connection");
    let conn: &mut AnyConnection = &mut conn;
    let mut answered = 0;
    for group in [GROUP_A, GROUP_B, "northern-business-blocs"] {
        for indicator in INDICATORS {
            for range in RANGES {
                let fast = group_series(conn, group, indicator, range, true);
                let slow = group_series(conn, group, indicator, range, false);
                assert_eq!(fast, slow, "{step}: {group} {indicator} {range:?}");
            }
            answered += rollup_answers(conn, group, indicator);
        }
    }
    answered
}

/// How many of the test's periods the rollups answer for this group and indicator.
fn rollup_answers(conn: &mut AnyConnection, group: &str, indicator: &str) -> usize {
    let mut catalog = Catalog::load(conn).unwrap();
    let members = catalog.group_members(conn, group).unwrap().len();
    let indicator = catalog
        .indicators_named("indicator", indicator)
        .unwrap()
        .remove(0);
    let ids = chitieu::analysis::resolver::with_parts(&[&indicator]);
    let codes: Vec<String> = PERIODS.iter().map(|p| p.to_string()).collect();
    let rollups =
        chitieu::db::rollups::read(conn, catalog.group_id().unwrap(), &ids, &codes).unwrap();
    PERIODS
        .iter()
        .filter(|p| {
            group_total_from_rollups(
                &rollups,
                members,
                &indicator,
                &PeriodCode::parse(p).unwrap(),
            )
            .is_some()
        })
        .count()
}

/// The rollup rows equal what a rebuild from the figures makes.
fn assert_rollups_as_rebuilt(app: &TestApp, step: &str) {
    let mut conn = app.pool.get().expect("connection");
    let conn: &mut AnyConnection = &mut conn;
    let kept = chitieu::db::rollups::all_rows(conn).unwrap();
    chitieu::db::rollups::rebuild_all(conn).unwrap();
    let rebuilt = chitieu::db::rollups::all_rows(conn).unwrap();
    assert!(!rebuilt.is_empty(), "{step}: there are rollups");
    let kept_only: Vec<_> = kept.iter().filter(|row| !rebuilt.contains(row)).collect();
    let rebuilt_only: Vec<_> = rebuilt.iter().filter(|row| !kept.contains(row)).collect();
    assert!(
        kept_only.is_empty() && rebuilt_only.is_empty(),
        "{step}: rollups kept on write {kept_only:?} differ from rebuilt {rebuilt_only:?}"
    );
}

async fn create_groups_and_ratio(app: &TestApp) {
    let body = json!({"code": RATIO, "name_vi": RATIO, "name_en": RATIO, "unit": "percent",
        "scale": 0, "measure_kind": "ratio", "direction": "neutral",
        "numerator": "loans_outstanding", "denominator": "bank_capital_mobilised"});
    let (status, created) = app.post_json("/api/v1/indicators", &body).await;
    assert_eq!(status, 201, "{created}");
    for (code, members) in [
        (GROUP_A, MEMBERS.to_vec()),
        (GROUP_B, vec![JOINER, MEMBERS[0]]),
    ] {
        let body = json!({"code": code, "name_vi": code, "name_en": code, "members": members});
        let (status, created) = app.post_json("/api/v1/groups", &body).await;
        assert_eq!(status, 201, "{created}");
    }
}

async fn generated_writes_keep_rollups_equal_to_the_members_path(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    // A step's comparisons can outlast the server's keep-alive on a loaded
    // machine: a fresh connection per request, never one the server is closing.
    let token = app.token("rollups", chitieu::domain::role::Role::Admin, &[]);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    app.client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    create_groups_and_ratio(&app).await;
    let mut random = Random(0x5eed_0014);
    let mut committees: Vec<&str> = MEMBERS.to_vec();
    committees.push(JOINER);
    // The ratio too: a ratio stored by every member must not stand in for
    // the total recomputed from its parts.
    let figures = &INDICATORS[..];
    let mut ids: Vec<i64> = Vec::new();
    let mut joined = false;
    let mut answered = 0;
    for number in 0..40 {
        let what = match random.below(8) {
            0 | 1 => {
                let body = json!({
                    "committee": random.pick(&committees), "indicator": random.pick(figures),
                    "period": random.pick(&PERIODS), "value": random.value(),
                    "qualifier": random.pick(&QUALIFIERS), "status": random.pick(&STATUSES),
                });
                let (status, created) = app
                    .post_json("/api/v1/observations?mode=upsert", &body)
                    .await;
                assert!(status == 200 || status == 201, "{created}");
                ids.push(created["id"].as_i64().unwrap());
                format!("single {body}")
            }
            2 | 3 => {
                // Every committee at once: the periods where all members store.
                let (indicator, period) = (random.pick(figures), random.pick(&PERIODS));
                let items: Vec<Value> = committees
                    .iter()
                    .map(|c| {
                        json!({"committee": c, "indicator": indicator, "period": period,
                            "value": random.value(), "qualifier": random.pick(&QUALIFIERS),
                            "status": random.pick(&STATUSES)})
                    })
                    .collect();
                let (status, written) = app
                    .post_json(
                        "/api/v1/observations/batch?mode=upsert",
                        &json!({ "observations": items }),
                    )
                    .await;
                assert_eq!(status, 200, "{written}");
                format!("batch {indicator} {period}")
            }
            4 if !ids.is_empty() => {
                let id = ids[random.below(ids.len())];
                let body = json!({"value": random.value(), "qualifier": random.pick(&QUALIFIERS)});
                let (status, body) = app
                    .put_json(&format!("/api/v1/observations/{id}"), &body)
                    .await;
                assert!(status == 200 || status == 404, "{body}");
                format!("update {id}")
            }
            5 if !ids.is_empty() => {
                let id = ids.swap_remove(random.below(ids.len()));
                let (status, body) = app.delete(&format!("/api/v1/observations/{id}")).await;
                assert!(status == 204 || status == 404, "{body}");
                format!("delete {id}")
            }
            6 => {
                let strategy = if random.below(3) == 0 {
                    "delete"
                } else {
                    "create_and_update"
                };
                let mut csv = String::from("committee,indicator,period,value,qualifier,status\n");
                for _ in 0..4 {
                    csv.push_str(&format!(
                        "{},{},{},{},{},{}\n",
                        random.pick(&committees),
                        random.pick(figures),
                        random.pick(&PERIODS),
                        random.value(),
                        random.pick(&QUALIFIERS),
                        random.pick(&STATUSES)
                    ));
                }
                let response = app
                    .post_raw(
                        &format!("/api/v1/imports?strategy={strategy}&atomic=false"),
                        "text/csv",
                        csv.clone(),
                    )
                    .await;
                let (status, summary) = read(response).await;
                assert!(status == 200 || status == 422, "{summary}");
                format!("import {strategy}\n{csv}")
            }
            _ => {
                let (status, body) = if joined {
                    app.delete(&format!("/api/v1/groups/{GROUP_A}/members/{JOINER}"))
                        .await
                } else {
                    app.post_json(
                        &format!("/api/v1/groups/{GROUP_A}/members"),
                        &json!({ "committee": JOINER }),
                    )
                    .await
                };
                assert!(status == 200 || status == 204, "{body}");
                joined = !joined;
                format!("{JOINER} joined: {joined}")
            }
        };
        let step = format!("step {number} ({what})");
        answered += compare_everything(&app, &step);
        if number % 6 == 5 {
            assert_rollups_as_rebuilt(&app, &step);
        }
    }
    assert_rollups_as_rebuilt(&app, "the end");
    // The comparison means something only if the rollups answered often.
    assert!(answered > 100, "the rollups answered {answered} periods");
}

/// The HTTP answer is the rollup's, and a member whose figure changes changes it.
async fn the_series_endpoint_answers_from_the_rollups(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_groups_and_ratio(&app).await;
    let items: Vec<Value> = MEMBERS
        .iter()
        .zip(["100.5", "200.25", "300"])
        .map(|(c, v)| json!({"committee": c, "indicator": "revenue", "period": "2023-Q1", "value": v}))
        .collect();
    let (status, written) = app
        .post_json(
            "/api/v1/observations/batch",
            &json!({ "observations": items }),
        )
        .await;
    assert_eq!(status, 200, "{written}");
    let path = format!("/api/v1/series?group={GROUP_A}&indicator=revenue&from=2023-Q1&to=2023-Q1");
    let (status, series) = app.get_json(&path).await;
    assert_eq!(status, 200, "{series}");
    let point = &series["points"][0];
    assert_eq!(point["value"], "600.75");
    assert_eq!(point["members_reported"], 3);
    assert_eq!(point["provenance"]["rule"], "group_total");
    assert_eq!(point["provenance"]["from"].as_array().unwrap().len(), 3);
    {
        let mut conn = app.pool.get().unwrap();
        assert_eq!(
            rollup_answers(&mut conn, GROUP_A, "revenue"),
            1,
            "2023-Q1 is answered by the rollup"
        );
    }
    // A lower bound in one member (Thái Bình's, second by code) makes the total one.
    let id = point["provenance"]["from"][1].as_i64().unwrap();
    let (status, body) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({"value": "100", "qualifier": "lower_bound"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, series) = app.get_json(&path).await;
    assert_eq!(series["points"][0]["value"], "600.25");
    assert_eq!(series["points"][0]["qualifier"], "lower_bound");
    // The whole answer equals the members' path.
    let (_, series) = app.get_json(&format!("{path}&allow_incomplete=true")).await;
    let mut conn = app.pool.get().unwrap();
    let slow = group_series(&mut conn, GROUP_A, "revenue", ("2023-Q1", "2023-Q1"), false);
    assert_eq!(series, slow);
}

/// Writers of different committees of one group, at once: the rollups end
/// as a rebuild makes them (on PostgreSQL, without the group lock a writer
/// would recompute a total from a snapshot missing another's figure).
async fn concurrent_writers_of_one_group(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut members = Vec::new();
    for i in 0..12 {
        let code = format!("rollup-writer-{i:02}");
        let body = json!({"code": code, "name_vi": code, "name_en": code, "kind": "other"});
        let (status, created) = app.post_json("/api/v1/committees", &body).await;
        assert_eq!(status, 201, "{created}");
        members.push(code);
    }
    let body = json!({"code": "writers", "name_vi": "w", "name_en": "w", "members": members});
    let (status, created) = app.post_json("/api/v1/groups", &body).await;
    assert_eq!(status, 201, "{created}");
    let mut tasks = Vec::new();
    for (i, code) in members.iter().enumerate() {
        let client = app.client.clone();
        let url = app.url("/api/v1/observations/batch?mode=upsert");
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..4 {
                let items: Vec<Value> = PERIODS[..4]
                    .iter()
                    .map(|p| {
                        json!({"committee": code, "indicator": "revenue", "period": p,
                            "value": format!("{}.5", 1000 + i * 10 + round)})
                    })
                    .collect();
                let response = client
                    .post(&url)
                    .json(&json!({ "observations": items }))
                    .send()
                    .await
                    .expect("request");
                let (status, body) = read(response).await;
                assert_eq!(status, 200, "{body}");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let path = "/api/v1/series?group=writers&indicator=revenue&from=2023-Q1&to=2023-Q4";
    let (status, series) = app.get_json(path).await;
    assert_eq!(status, 200, "{series}");
    // Each member's last round: 1000 + 10 i + 3 + 0.5, over 12 members.
    let expected: Decimal = (0..12)
        .map(|i| Decimal::from(1000 + 10 * i + 3) + Decimal::new(5, 1))
        .sum();
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 4, "{series}");
    for point in points {
        let value: Decimal = point["value"].as_str().unwrap().parse().unwrap();
        assert_eq!(value, expected, "{point}");
        assert_eq!(point["members_reported"], 12);
    }
    assert_rollups_as_rebuilt(&app, "after concurrent writers");
}

crate::both_backends!(
    generated_writes_keep_rollups_equal_to_the_members_path,
    the_series_endpoint_answers_from_the_rollups,
    concurrent_writers_of_one_group,
);
