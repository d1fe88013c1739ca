//! One answer for "the figure of a period" (issue 13): comparisons, series,
//! target progress and dashboards give the same value, provenance and
//! completeness for every period kind and measure kind.
//!
//! The expected values come from an oracle written here independently of the
//! server's rule: a flow is the sum of the stored figures lying within the
//! period, when they cover all its months; a stock is the figure stored for a
//! period ending on the period's last day; a ratio is numerator ÷ denominator
//! × 100 of those. The regression tests at the end use hand-computed numbers.

use std::collections::BTreeMap;

use chitieu::domain::period::{Frequency, PeriodCode};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};

/// Reports quarterly.
const QUARTERLY: &str = "thaibinh-business-bloc";
/// Reports monthly.
const MONTHLY: &str = "hanam-business-bloc";
/// Made by the test, of the two committees above.
const GROUP: &str = "quarterly-and-monthly";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Flow,
    Stock,
    Ratio(&'static str, &'static str),
}

/// The indicators of the test: two seeded flows, two seeded stocks, and two
/// ratios created here (stock over stock, flow over flow).
const INDICATORS: [(&str, Kind); 6] = [
    ("revenue", Kind::Flow),
    ("budget_contribution", Kind::Flow),
    ("bank_capital_mobilised", Kind::Stock),
    ("loans_outstanding", Kind::Stock),
    (
        "loans_to_deposits_pct",
        Kind::Ratio("loans_outstanding", "bank_capital_mobilised"),
    ),
    (
        "budget_to_revenue_pct",
        Kind::Ratio("budget_contribution", "revenue"),
    ),
];

/// Every period kind asked about.
const PERIODS: [&str; 10] = [
    "2022",
    "2022-S1",
    "2022-S2",
    "2022-Q1",
    "2022-Q3",
    "2022-M05",
    "2022-M12",
    "2022-YTD-M05",
    "2022-YTD-M06",
    "2022-YTD-M09",
];

fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn p(text: &str) -> PeriodCode {
    PeriodCode::parse(text).unwrap()
}

/// A generated figure: `base + step × index + (year − 2021) × yearly`, with
/// a fractional part so that sums are exact decimals, not integers.
fn generated(indicator: &str, year: i32, index: u8) -> Decimal {
    let (base, step, yearly) = match indicator {
        "revenue" => ("1000.25", "10", "100"),
        "budget_contribution" => ("50.5", "1.5", "5"),
        "bank_capital_mobilised" => ("20000.1", "100", "1500"),
        _ => ("12000", "37.5", "800"),
    };
    d(base) + d(step) * Decimal::from(index) + d(yearly) * Decimal::from(year - 2021)
}

/// What is stored: committee → indicator → period → value.
type Stored = BTreeMap<(&'static str, &'static str), BTreeMap<PeriodCode, Decimal>>;

fn generate() -> Stored {
    let mut stored = Stored::new();
    for (indicator, kind) in INDICATORS {
        if matches!(kind, Kind::Ratio(..)) {
            continue;
        }
        for year in [2021, 2022] {
            for quarter in 1..=4u8 {
                let period = PeriodCode::quarter(year, quarter).unwrap();
                let value = generated(indicator, year, quarter) * Decimal::from(3);
                stored
                    .entry((QUARTERLY, indicator))
                    .or_default()
                    .insert(period, value);
            }
            for month in 1..=12u8 {
                let period = PeriodCode::month(year, month).unwrap();
                stored
                    .entry((MONTHLY, indicator))
                    .or_default()
                    .insert(period, generated(indicator, year, month));
            }
        }
    }
    stored
}

/// The oracle: the value of `indicator` for `committee` in `period`.
fn expected(
    stored: &Stored,
    committee: &str,
    indicator: &str,
    period: &PeriodCode,
) -> Option<Decimal> {
    let kind = INDICATORS.iter().find(|(code, _)| *code == indicator)?.1;
    let figures = stored
        .iter()
        .find(|((c, i), _)| *c == committee && *i == indicator)
        .map(|(_, figures)| figures);
    match kind {
        Kind::Flow => {
            let within: Vec<(&PeriodCode, &Decimal)> = figures?
                .iter()
                .filter(|(stored, _)| {
                    period.start() <= stored.start() && stored.end() <= period.end()
                })
                .collect();
            let months: u32 = within
                .iter()
                .map(|(stored, _)| stored.months().unwrap())
                .sum();
            (months == period.months()?).then(|| within.iter().map(|(_, v)| **v).sum())
        }
        Kind::Stock => figures?
            .iter()
            .find(|(stored, _)| stored.end() == period.end())
            .map(|(_, value)| *value),
        Kind::Ratio(numerator, denominator) => {
            let top = expected(stored, committee, numerator, period)?;
            let bottom = expected(stored, committee, denominator, period)?;
            Some((top * Decimal::ONE_HUNDRED / bottom).normalize())
        }
    }
}

/// A computed percentage as the API shows it: half up to 2 places, no trailing zeros.
fn display(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

fn decimal(value: &Value) -> Option<Decimal> {
    value.as_str().map(d)
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn enter(app: &TestApp, committee: &str, indicator: &str, period: &str, value: &str) {
    let body =
        json!({"committee": committee, "indicator": indicator, "period": period, "value": value});
    let (status, created) = app
        .post_json("/api/v1/observations?mode=upsert", &body)
        .await;
    assert!(status == 200 || status == 201, "{created}");
}

async fn target(app: &TestApp, committee: &str, indicator: &str, period: &str, value: &str) {
    let body =
        json!({"committee": committee, "indicator": indicator, "period": period, "value": value});
    let (status, created) = app.post_json("/api/v1/targets", &body).await;
    assert_eq!(status, 201, "{created}");
}

async fn create_ratios(app: &TestApp) {
    for (code, kind) in INDICATORS {
        if let Kind::Ratio(numerator, denominator) = kind {
            let body = json!({"code": code, "name_vi": code, "name_en": code, "unit": "percent",
                "scale": 0, "measure_kind": "ratio", "direction": "neutral",
                "numerator": numerator, "denominator": denominator});
            let (status, created) = app.post_json("/api/v1/indicators", &body).await;
            assert_eq!(status, 201, "{created}");
        }
    }
}

fn series_frequency(period: &PeriodCode) -> &'static str {
    match period.frequency() {
        Frequency::Annual => "annual",
        Frequency::SemiAnnual => "semi_annual",
        Frequency::Quarterly => "quarterly",
        Frequency::Monthly => "monthly",
        Frequency::YearToDate => "year_to_date",
        Frequency::Daily => "daily",
    }
}

/// The group total of `indicator`: flows and stocks add the members' values;
/// a ratio divides the totals of its numerator and denominator over the
/// members that have both.
fn expected_total(
    stored: &Stored,
    indicator: &str,
    period: &PeriodCode,
) -> (Option<Decimal>, usize) {
    let kind = INDICATORS
        .iter()
        .find(|(code, _)| *code == indicator)
        .unwrap()
        .1;
    let members = [QUARTERLY, MONTHLY];
    let values: Vec<(Decimal, Decimal)> = match kind {
        Kind::Ratio(numerator, denominator) => members
            .iter()
            .filter_map(|c| {
                Some((
                    expected(stored, c, numerator, period)?,
                    expected(stored, c, denominator, period)?,
                ))
            })
            .collect(),
        _ => members
            .iter()
            .filter_map(|c| Some((expected(stored, c, indicator, period)?, Decimal::ONE)))
            .collect(),
    };
    if values.is_empty() {
        return (None, 0);
    }
    let top: Decimal = values.iter().map(|(top, _)| top).sum();
    let total = match kind {
        Kind::Ratio(..) => {
            let bottom: Decimal = values.iter().map(|(_, bottom)| bottom).sum();
            (top * Decimal::ONE_HUNDRED / bottom).normalize()
        }
        _ => top,
    };
    (Some(total), values.len())
}

async fn every_endpoint_gives_the_value_of_the_resolver(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_ratios(&app).await;
    let group =
        json!({"code": GROUP, "name_vi": GROUP, "name_en": GROUP, "members": [QUARTERLY, MONTHLY]});
    let (status, created) = app.post_json("/api/v1/groups", &group).await;
    assert_eq!(status, 201, "{created}");
    let stored = generate();
    for ((committee, indicator), figures) in &stored {
        for (period, value) in figures {
            enter(
                &app,
                committee,
                indicator,
                &period.code(),
                &value.to_string(),
            )
            .await;
        }
    }
    // Annual plans for 2022, judged on every part of the year.
    for committee in [QUARTERLY, MONTHLY] {
        target(&app, committee, "revenue", "2022", "20000").await;
        target(&app, committee, "bank_capital_mobilised", "2022", "30000").await;
        target(&app, committee, "budget_to_revenue_pct", "2022", "5").await;
    }
    let indicator_list: Vec<&str> = INDICATORS.iter().map(|(code, _)| *code).collect();
    let indicator_list = indicator_list.join(",");
    let mut checked_values = 0;
    for period_text in PERIODS {
        let period = p(period_text);
        let previous = period.same_period_previous_year().unwrap();
        let listed = ok(
            &app,
            &format!(
                "/api/v1/comparisons/yoy?committee={QUARTERLY},{MONTHLY}&indicator={indicator_list}&period={period_text}"
            ),
        )
        .await;
        for committee in [QUARTERLY, MONTHLY] {
            let board = ok(
                &app,
                &format!("/api/v1/committees/{committee}/dashboard?period={period_text}"),
            )
            .await;
            for (indicator, kind) in INDICATORS {
                let case = format!("{committee} {indicator} {period_text}");
                let want = expected(&stored, committee, indicator, &period);
                let want_previous = expected(&stored, committee, indicator, &previous);
                checked_values += usize::from(want.is_some());

                // The comparison of one pair (its own fast read) …
                let single = ok(
                    &app,
                    &format!("/api/v1/comparisons/yoy?committee={committee}&indicator={indicator}&period={period_text}"),
                )
                .await["items"][0]
                    .clone();
                assert_eq!(
                    decimal(&single["current"]["value"]),
                    want,
                    "{case}: {single}"
                );
                assert_eq!(
                    decimal(&single["previous"]["value"]),
                    want_previous,
                    "{case} previous: {single}"
                );
                let change = match (kind, want, want_previous) {
                    (Kind::Ratio(..), ..) => None,
                    (_, Some(now), Some(before)) => Some(display(
                        (now - before) * Decimal::ONE_HUNDRED / before.abs(),
                    )),
                    _ => None,
                };
                assert_eq!(
                    decimal(&single["percent_change"]),
                    change,
                    "{case}: {single}"
                );
                match (&single["current"]["provenance"]["kind"], want) {
                    (kind, Some(_)) => assert!(kind == "stored" || kind == "derived", "{case}"),
                    (kind, None) => assert_eq!(kind, "missing", "{case}"),
                }
                if want.is_some() {
                    assert_eq!(
                        single["current"]["completeness"]["complete"], true,
                        "{case}"
                    );
                    assert!(
                        single["current"]["provenance"]["from"]
                            .as_array()
                            .is_some_and(|ids| !ids.is_empty())
                            || single["current"]["provenance"]["id"].is_i64(),
                        "{case}: every value names its figures: {single}"
                    );
                }
                // … is the one in a list (the general read).
                let in_list = listed["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|item| item["committee"] == committee && item["indicator"] == indicator)
                    .unwrap_or_else(|| panic!("{case} listed"));
                assert_eq!(&single, in_list, "{case}: one pair and the list agree");

                // The series of that period kind.
                let series = ok(
                    &app,
                    &format!(
                        "/api/v1/series?committee={committee}&indicator={indicator}&from={period_text}&to={period_text}&frequency={}",
                        series_frequency(&period)
                    ),
                )
                .await;
                let point = &series["points"][0];
                assert_eq!(point["period"], period_text, "{case}");
                for field in ["value", "qualifier", "status", "provenance", "completeness"] {
                    assert_eq!(
                        point[field], single["current"][field],
                        "{case}: series {field}"
                    );
                }
                if !matches!(kind, Kind::Ratio(..)) {
                    let pc1 = ok(
                        &app,
                        &format!(
                            "/api/v1/series?committee={committee}&indicator={indicator}&from={period_text}&to={period_text}&frequency={}&transform=pc1",
                            series_frequency(&period)
                        ),
                    )
                    .await;
                    assert_eq!(decimal(&pc1["points"][0]["value"]), change, "{case}: pc1");
                }

                // Target progress, where a target covers the period.
                let progress = ok(
                    &app,
                    &format!("/api/v1/targets/progress?committee={committee}&indicator={indicator}&period={period_text}"),
                )
                .await;
                let progress = progress["items"].get(0).cloned();
                if let Some(progress) = &progress {
                    assert_eq!(progress["achieved"], single["current"], "{case}: progress");
                }

                // The dashboard shows exactly what the three endpoints give.
                let item = board["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|item| item["indicator"] == indicator);
                match item {
                    Some(item) => {
                        assert_eq!(
                            item["figure"], single["current"],
                            "{case}: dashboard figure"
                        );
                        assert_eq!(item["year_on_year"], single, "{case}: dashboard comparison");
                        assert_eq!(
                            item["progress"],
                            progress.clone().unwrap_or(Value::Null),
                            "{case}: dashboard progress"
                        );
                    }
                    None => assert!(
                        want.is_none() && progress.is_none(),
                        "{case}: a value or target missing from the dashboard"
                    ),
                }

                // The group total adds what the members resolve to.
                let total = ok(
                    &app,
                    &format!(
                        "/api/v1/series?group={GROUP}&indicator={indicator}&from={period_text}&to={period_text}&frequency={}",
                        series_frequency(&period)
                    ),
                )
                .await;
                let (want_total, reported) = expected_total(&stored, indicator, &period);
                let point = &total["points"][0];
                assert_eq!(decimal(&point["value"]), want_total, "{case}: group");
                assert_eq!(point["members_reported"], reported, "{case}: group");
            }
        }
    }
    // Most cases have a value; the rest are the quarterly committee's months.
    assert!(checked_values > 90, "{checked_values}");
}

/// The issue's three cases, with hand-computed numbers.
async fn the_three_cases_of_the_issue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tb = QUARTERLY;
    for (period, value) in [
        ("2021-Q1", "1300"),
        ("2021-Q2", "1350"),
        ("2021-Q3", "1400"),
        ("2021-Q4", "1397.5"),
        ("2022-Q1", "1400"),
        ("2022-Q2", "1450.5"),
        ("2022-Q3", "1500"),
        ("2022-Q4", "1511"),
        ("2023-Q1", "1600"),
        ("2023-Q2", "1650"),
    ] {
        enter(&app, tb, "revenue", period, value).await;
    }
    target(&app, tb, "revenue", "2022", "6000").await;

    // 1. A year of quarters is the sum of its quarters everywhere:
    // 2022 = 1400 + 1450.5 + 1500 + 1511 = 5861.5; 2021 = 5447.5;
    // (5861.5 − 5447.5) / 5447.5 = 7.5998… % → 7.6.
    let yoy = ok(
        &app,
        &format!("/api/v1/comparisons/yoy?committee={tb}&indicator=revenue&period=2022"),
    )
    .await;
    let item = &yoy["items"][0];
    assert_eq!(item["current"]["value"], "5861.5", "{item}");
    assert_eq!(item["current"]["provenance"]["kind"], "derived");
    assert_eq!(
        item["current"]["provenance"]["sub_periods"],
        json!(["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"])
    );
    assert_eq!(
        item["current"]["provenance"]["from"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(item["previous"]["value"], "5447.5");
    assert_eq!(item["percent_change"], "7.6");
    let series = ok(&app, &format!("/api/v1/series?committee={tb}&indicator=revenue&from=2022&to=2022&frequency=annual&transform=pc1")).await;
    assert_eq!(series["points"][0]["value"], "7.6");
    let progress = ok(
        &app,
        &format!("/api/v1/targets/progress?committee={tb}&indicator=revenue&period=2022"),
    )
    .await;
    assert_eq!(progress["items"][0]["achieved"]["value"], "5861.5");
    let board = ok(
        &app,
        &format!("/api/v1/committees/{tb}/dashboard?period=2022"),
    )
    .await;
    let revenue = &board["items"][0];
    assert_eq!(revenue["indicator"], "revenue");
    assert_eq!(revenue["figure"]["value"], "5861.5");
    assert_eq!(revenue["year_on_year"]["percent_change"], "7.6");
    assert_eq!(revenue["progress"]["achieved"]["value"], "5861.5");
    // Halves and years to date, in any accepted form: 2022-S1 = 1400 + 1450.5 =
    // 2850.5 against 2650, +7.57 %; nine months 4350.5 against 4050, +7.42 %.
    for (period, current, previous, change) in [
        ("2022-S1", "2850.5", "2650", "7.57"),
        (
            "6%20th%C3%A1ng%20%C4%91%E1%BA%A7u%20n%C4%83m%202022",
            "2850.5",
            "2650",
            "7.57",
        ),
        ("2022-YTD-M06", "2850.5", "2650", "7.57"),
        (
            "9%20th%C3%A1ng%20%C4%91%E1%BA%A7u%20n%C4%83m%202022",
            "4350.5",
            "4050",
            "7.42",
        ),
    ] {
        let yoy = ok(
            &app,
            &format!("/api/v1/comparisons/yoy?committee={tb}&indicator=revenue&period={period}"),
        )
        .await;
        let item = &yoy["items"][0];
        assert_eq!(
            (
                item["current"]["value"].as_str(),
                item["previous"]["value"].as_str(),
                item["percent_change"].as_str()
            ),
            (Some(current), Some(previous), Some(change)),
            "{period}: {item}"
        );
    }
    // A part-stored 2023 is refused with the reason, or returned flagged.
    let refused = ok(
        &app,
        &format!("/api/v1/comparisons/yoy?committee={tb}&indicator=revenue&period=2023"),
    )
    .await;
    let item = &refused["items"][0];
    assert!(item["current"]["value"].is_null());
    let reason = item["current"]["provenance"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("6 of the 12 months") && reason.contains("allow_incomplete"),
        "{reason}"
    );
    assert_eq!(
        item["current"]["completeness"]["missing"],
        json!(["2023-S2"])
    );
    let flagged = ok(&app, &format!("/api/v1/comparisons/yoy?committee={tb}&indicator=revenue&period=2023&allow_incomplete=true")).await;
    let item = &flagged["items"][0];
    assert_eq!(item["current"]["value"], "3250");
    assert_eq!(item["current"]["completeness"]["complete"], false);
    assert!(
        item["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("incomplete")),
        "{item}"
    );
    for path in [
        format!("/api/v1/series?committee={tb}&indicator=revenue&from=2023&to=2023"),
        format!("/api/v1/committees/{tb}/dashboard?period=2023"),
    ] {
        let refused = ok(&app, &path).await;
        assert!(
            refused.to_string().contains("allow_incomplete"),
            "{path}: {refused}"
        );
        let flagged = ok(&app, &format!("{path}&allow_incomplete=true")).await;
        assert!(
            flagged.to_string().contains("\"3250\""),
            "{path}: {flagged}"
        );
    }

    // Checks judge a reported change against the same derived base: 2022 stored
    // as 5861.5 "up 7.6 %" against 2021's quarters (5447.5) is consistent.
    let pt = "phutho-business-bloc";
    for (period, value) in [
        ("2021-Q1", "1300"),
        ("2021-Q2", "1350"),
        ("2021-Q3", "1400"),
        ("2021-Q4", "1397.5"),
    ] {
        enter(&app, pt, "revenue", period, value).await;
    }
    let body = json!({"committee": pt, "indicator": "revenue", "period": "2022", "value": "5861.5", "reported_yoy_pct": "7.6"});
    let (status, created) = app.post_json("/api/v1/observations", &body).await;
    assert_eq!(status, 201, "{created}");
    let checks = ok(
        &app,
        &format!("/api/v1/checks?committee={pt}&period=2022&include_consistent=true"),
    )
    .await;
    let yoy = checks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "reported_yoy")
        .unwrap_or_else(|| panic!("a check of the reported change: {checks}"));
    assert_eq!(
        (yoy["computed"].as_str(), yoy["verdict"].as_str()),
        (Some("7.6"), Some("consistent")),
        "{yoy}"
    );
    assert_eq!(
        yoy["observation_ids"].as_array().unwrap().len(),
        5,
        "the figure and four quarters"
    );
    let compared = ok(
        &app,
        &format!("/api/v1/comparisons/yoy?committee={pt}&indicator=revenue&period=2022"),
    )
    .await;
    assert_eq!(compared["items"][0]["reported"]["verdict"], "consistent");

    // 2. A stock stored for 2021-Q4, 2022-Q2 and 2022-Q4: its year is its
    // year-end level, complete, with no allow_incomplete:
    // (62029 − 50000) / 50000 = 24.058 % → 24.06.
    for (period, value) in [
        ("2021-Q4", "50000"),
        ("2022-Q2", "55000"),
        ("2022-Q4", "62029"),
    ] {
        enter(&app, tb, "bank_capital_mobilised", period, value).await;
    }
    let yoy = ok(
        &app,
        &format!(
            "/api/v1/comparisons/yoy?committee={tb}&indicator=bank_capital_mobilised&period=2022"
        ),
    )
    .await;
    let item = &yoy["items"][0];
    assert_eq!(item["current"]["value"], "62029", "{item}");
    assert_eq!(item["current"]["provenance"]["rule"], "period_end");
    assert_eq!(
        item["current"]["provenance"]["sub_periods"],
        json!(["2022-Q4"])
    );
    assert_eq!(item["current"]["completeness"]["complete"], true);
    assert_eq!(item["previous"]["value"], "50000");
    assert_eq!(item["percent_change"], "24.06");
    let series = ok(
        &app,
        &format!(
            "/api/v1/series?committee={tb}&indicator=bank_capital_mobilised&from=2022&to=2022"
        ),
    )
    .await;
    assert_eq!(series["points"][0]["value"], "62029");

    // 3. Part of an annual plan: 2022-Q1 of 6000 expects 6000 × 3/12 = 1500;
    // 1111.1 is 74.07 % of that (behind) and 18.52 % of the year's plan.
    enter(
        &app,
        "vinhphuc-business-bloc",
        "revenue",
        "2022-Q1",
        "1111.1",
    )
    .await;
    target(&app, "vinhphuc-business-bloc", "revenue", "2022", "6000").await;
    let progress = ok(&app, "/api/v1/targets/progress?committee=vinhphuc-business-bloc&indicator=revenue&period=2022-Q1").await;
    let item = &progress["items"][0];
    assert_eq!(
        (
            item["expected"].as_str(),
            item["percent_of_expected"].as_str(),
            item["percent_of_target"].as_str(),
            item["status"].as_str(),
            item["pro_rata"].as_bool()
        ),
        (
            Some("1500"),
            Some("74.07"),
            Some("18.52"),
            Some("behind"),
            Some(true)
        ),
        "{item}"
    );
}

/// The resolver reads the figures stored for the asked periods' own spans
/// first and every candidate only where one is missing; that must answer
/// exactly as reading every candidate does, for committees that store some
/// periods and derive others, every measure kind and period kind, members
/// alone and as a group, now and as of a past moment.
async fn the_stored_first_read_answers_as_reading_every_candidate(backend: Backend) {
    use chitieu::analysis::resolver::Resolver;
    use chitieu::db::AnyConnection;

    let app = TestApp::spawn(backend).await;
    create_ratios(&app).await;
    let stored = generate();
    for ((committee, indicator), figures) in &stored {
        for (period, value) in figures {
            enter(
                &app,
                committee,
                indicator,
                &period.code(),
                &value.to_string(),
            )
            .await;
        }
    }
    // Some periods stored besides their parts (the stored figure wins), a
    // year to date stored as such, and a ratio stored without its parts.
    enter(&app, QUARTERLY, "revenue", "2022", "99999.5").await;
    enter(&app, MONTHLY, "revenue", "2022-YTD-M05", "4321").await;
    enter(&app, MONTHLY, "bank_capital_mobilised", "2022-S1", "55555").await;
    enter(&app, QUARTERLY, "loans_to_deposits_pct", "2022-Q2", "61.5").await;
    let before = chrono::Utc::now().naive_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    enter(&app, MONTHLY, "revenue", "2022-M03", "1").await;

    let mut conn = app.pool.get().expect("connection");
    let conn: &mut AnyConnection = &mut conn;
    let catalog = chitieu::db::indicators::list(conn).unwrap();
    let asked: Vec<_> = catalog
        .iter()
        .filter(|i| INDICATORS.iter().any(|(code, _)| *code == i.code))
        .collect();
    let ids: Vec<i64> = [QUARTERLY, MONTHLY]
        .iter()
        .map(|code| {
            chitieu::db::committees::find_by_code(conn, code)
                .unwrap()
                .unwrap()
                .id
        })
        .collect();
    let mut compared = 0;
    // Questions the stored figures answered alone, with fewer figures read.
    let mut fewer_read = 0;
    for as_of in [None, Some(before)] {
        for period_text in PERIODS {
            let period = p(period_text);
            let periods = [period, period.same_period_previous_year().unwrap()];
            for committees in [&ids[..1], &ids[1..], &ids[..]] {
                // One indicator at a time (what a tile asks) and all at once (a dashboard).
                let mut questions: Vec<Vec<_>> = asked.iter().map(|i| vec![*i]).collect();
                questions.push(asked.clone());
                for question in questions {
                    let mut read = |every: bool| {
                        let load = if every {
                            Resolver::load_every_candidate
                        } else {
                            Resolver::load
                        };
                        load(
                            &mut *conn, &catalog, committees, &question, &periods, as_of, false,
                        )
                        .unwrap()
                    };
                    let (fast, every) = (read(false), read(true));
                    if fast.figures_read() < every.figures_read() {
                        fewer_read += 1;
                    }
                    for indicator in &question {
                        for period in &periods {
                            for committee in committees {
                                assert_eq!(
                                    fast.resolve(*committee, indicator, period),
                                    every.resolve(*committee, indicator, period),
                                    "{} {period} as of {as_of:?}",
                                    indicator.code
                                );
                                compared += 1;
                            }
                            assert_eq!(
                                fast.resolve_group(committees, indicator, period),
                                every.resolve_group(committees, indicator, period),
                                "group: {} {period} as of {as_of:?}",
                                indicator.code
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "{compared}");
    assert!(
        fewer_read > 0,
        "the stored-first read was taken: {fewer_read}"
    );
}

crate::both_backends!(
    every_endpoint_gives_the_value_of_the_resolver,
    the_stored_first_read_answers_as_reading_every_candidate,
    the_three_cases_of_the_issue,
);
