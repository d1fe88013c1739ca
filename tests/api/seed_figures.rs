//! Every figure of `shared/seeds/FIGURES.md` must come back through the API exactly as written.
//!
//! This table is an independent transcription of FIGURES.md (it deliberately does not read
//! `seed-data/`), so a transcription mistake in the seed data makes this test fail.

use crate::helpers::{Backend, TestApp};
use serde_json::Value;

pub(crate) struct ExpectedFigure {
    pub(crate) committee: &'static str,
    pub(crate) indicator: &'static str,
    /// Canonical period code: "2021", "2021-S1", "2022-Q1", "2024-03-18".
    pub(crate) period: &'static str,
    pub(crate) breakdown: &'static [(&'static str, &'static str)],
    pub(crate) value: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) scale: i32,
    pub(crate) status: &'static str,
    pub(crate) qualifier: &'static str,
    pub(crate) reported_yoy_pct: Option<&'static str>,
    pub(crate) reported_share_pct: Option<&'static str>,
    pub(crate) source: &'static str,
}

const HP: &str = "haiphong-business-bloc";
const UNNAMED: &str = "unnamed-province-business-bloc";
const EZ: &str = "haiphong-economic-zone";

const S000: &str = "000_9bb696cf0f5cc08b";
const S001: &str = "001_021cd1f05dc84603";
const S002: &str = "002_a43212b01e712aa8";
const S003: &str = "003_108fcca33707fa06";

const TOTAL: &[(&str, &str)] = &[];

/// Shorthand for the common case: a total, status "A", qualifier "exact", no comparisons.
#[allow(clippy::too_many_arguments)]
const fn fig(
    committee: &'static str,
    indicator: &'static str,
    period: &'static str,
    value: &'static str,
    unit: &'static str,
    scale: i32,
    source: &'static str,
) -> ExpectedFigure {
    ExpectedFigure {
        committee,
        indicator,
        period,
        breakdown: TOTAL,
        value,
        unit,
        scale,
        status: "A",
        qualifier: "exact",
        reported_yoy_pct: None,
        reported_share_pct: None,
        source,
    }
}

pub(crate) const FIGURES: &[ExpectedFigure] = &[
    // ---- 000: Hải Phòng city Business Bloc, year 2021 ----
    ExpectedFigure {
        reported_yoy_pct: Some("7.7"),
        ..fig(HP, "revenue", "2021", "27701", "VND", 9, S000)
    },
    fig(HP, "units_meeting_plan", "2021", "38", "units", 0, S000),
    ExpectedFigure {
        reported_yoy_pct: Some("6.8"),
        ..fig(HP, "budget_contribution", "2021", "975.9", "VND", 9, S000)
    },
    ExpectedFigure {
        reported_share_pct: Some("73.1"),
        ..fig(
            HP,
            "enterprises_budget_over_1bn",
            "2021",
            "68",
            "enterprises",
            0,
            S000,
        )
    },
    ExpectedFigure {
        reported_yoy_pct: Some("79"),
        ..fig(HP, "export_turnover", "2021", "131", "USD", 6, S000)
    },
    fig(
        HP,
        "bank_capital_mobilised",
        "2021",
        "50009",
        "VND",
        9,
        S000,
    ),
    ExpectedFigure {
        qualifier: "lower_bound",
        ..fig(
            HP,
            "social_welfare_contributions",
            "2021",
            "14.644",
            "VND",
            9,
            S000,
        )
    },
    fig(
        HP,
        "new_party_organisations",
        "2021",
        "1",
        "organisations",
        0,
        S000,
    ),
    fig(HP, "new_party_members", "2021", "201", "persons", 0, S000),
    // ---- 001: Hải Phòng city Business Bloc, first quarter 2022 ----
    ExpectedFigure {
        reported_yoy_pct: Some("-9"),
        ..fig(HP, "revenue", "2022-Q1", "6619", "VND", 9, S001)
    },
    fig(HP, "units_meeting_plan", "2022-Q1", "27", "units", 0, S001),
    ExpectedFigure {
        reported_yoy_pct: Some("9.8"),
        ..fig(
            HP,
            "budget_contribution",
            "2022-Q1",
            "203.1",
            "VND",
            9,
            S001,
        )
    },
    ExpectedFigure {
        reported_share_pct: Some("28.1"),
        ..fig(
            HP,
            "enterprises_budget_over_1bn",
            "2022-Q1",
            "30",
            "enterprises",
            0,
            S001,
        )
    },
    ExpectedFigure {
        reported_yoy_pct: Some("-0.1"),
        ..fig(HP, "export_turnover", "2022-Q1", "11.09", "USD", 6, S001)
    },
    fig(
        HP,
        "bank_capital_mobilised",
        "2022-Q1",
        "62029",
        "VND",
        9,
        S001,
    ),
    ExpectedFigure {
        reported_share_pct: Some("62.93"),
        ..fig(HP, "loans_outstanding", "2022-Q1", "37952", "VND", 9, S001)
    },
    fig(HP, "npl_ratio", "2022-Q1", "0.05", "percent", 0, S001),
    fig(
        HP,
        "nonstate_party_organisations_target_pct",
        "2022-Q1",
        "150",
        "percent",
        0,
        S001,
    ),
    // ---- 002: a province's Business Bloc (province not named), first half 2021 ----
    ExpectedFigure {
        status: "E",
        reported_yoy_pct: Some("21.37"),
        ..fig(UNNAMED, "revenue", "2021-S1", "24730", "VND", 9, S002)
    },
    ExpectedFigure {
        qualifier: "lower_bound",
        ..fig(
            UNNAMED,
            "social_insurance_contributions",
            "2021-S1",
            "472",
            "VND",
            9,
            S002,
        )
    },
    fig(
        UNNAMED,
        "workers_stable_jobs",
        "2021-S1",
        "25130",
        "persons",
        0,
        S002,
    ),
    // ---- 003: Hải Phòng Economic Zone Party Committee, as of 18/03/2024 ----
    ExpectedFigure {
        reported_share_pct: Some("7.5"),
        ..fig(
            EZ,
            "enterprises_with_party_organisation",
            "2024-03-18",
            "56",
            "enterprises",
            0,
            S003,
        )
    },
    fig(
        EZ,
        "nonstate_enterprises",
        "2024-03-18",
        "727",
        "enterprises",
        0,
        S003,
    ),
    ExpectedFigure {
        reported_share_pct: Some("77"),
        ..fig(EZ, "party_members", "2024-03-18", "789", "persons", 0, S003)
    },
    ExpectedFigure {
        qualifier: "lower_bound",
        reported_share_pct: Some("42"),
        ..fig(
            EZ,
            "registered_capital",
            "2024-03-18",
            "10.2",
            "USD",
            9,
            S003,
        )
    },
    ExpectedFigure {
        qualifier: "approximate",
        ..fig(
            EZ,
            "export_share_pct",
            "2024-03-18",
            "40",
            "percent",
            0,
            S003,
        )
    },
    ExpectedFigure {
        reported_share_pct: Some("50.85"),
        ..fig(EZ, "workers", "2024-03-18", "99570", "persons", 0, S003)
    },
    ExpectedFigure {
        breakdown: &[("sex", "female")],
        ..fig(EZ, "workers", "2024-03-18", "59356", "persons", 0, S003)
    },
    ExpectedFigure {
        breakdown: &[("sex", "male")],
        ..fig(EZ, "workers", "2024-03-18", "40214", "persons", 0, S003)
    },
    ExpectedFigure {
        breakdown: &[("skill", "manager_or_high_skilled")],
        reported_share_pct: Some("50"),
        ..fig(EZ, "workers", "2024-03-18", "10317", "persons", 0, S003)
    },
    ExpectedFigure {
        qualifier: "lower_bound",
        ..fig(EZ, "import_export_value", "2021", "10", "USD", 9, S003)
    },
    ExpectedFigure {
        qualifier: "lower_bound",
        ..fig(EZ, "import_export_value", "2022", "10", "USD", 9, S003)
    },
    ExpectedFigure {
        qualifier: "lower_bound",
        ..fig(EZ, "import_export_value", "2023", "10", "USD", 9, S003)
    },
];

const NORTHERN_BUSINESS_BLOCS: [&str; 7] = [
    "haiphong-business-bloc",
    "hanoi-business-bloc",
    "thaibinh-business-bloc",
    "vinhphuc-business-bloc",
    "hanam-business-bloc",
    "phutho-business-bloc",
    "bacgiang-business-bloc",
];

impl ExpectedFigure {
    fn label(&self) -> String {
        format!(
            "{} / {} / {} / {:?} = {} (source {})",
            self.committee, self.indicator, self.period, self.breakdown, self.value, self.source
        )
    }
}

fn breakdown_matches(actual: &Value, expected: &[(&str, &str)]) -> bool {
    match actual.as_object() {
        Some(obj) => {
            obj.len() == expected.len()
                && expected
                    .iter()
                    .all(|(k, v)| obj.get(*k).and_then(Value::as_str) == Some(*v))
        }
        None => false,
    }
}

fn assert_str_field(item: &Value, field: &str, expected: &str, label: &str) {
    assert_eq!(
        item[field].as_str(),
        Some(expected),
        "{label}: field `{field}` should be {expected:?}, got {}",
        item[field]
    );
}

fn assert_opt_str_field(item: &Value, field: &str, expected: Option<&str>, label: &str) {
    match expected {
        Some(e) => assert_str_field(item, field, e, label),
        None => assert!(
            item[field].is_null(),
            "{label}: field `{field}` should be null, got {}",
            item[field]
        ),
    }
}

async fn every_figure_of_figures_md_comes_back_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for f in FIGURES {
        let label = f.label();
        let (status, body) = app
            .get_json(&format!(
                "/api/v1/observations?committee={}&indicator={}&period={}",
                f.committee, f.indicator, f.period
            ))
            .await;
        assert_eq!(
            status, 200,
            "{label}: GET observations returned {status}: {body}"
        );

        let items = body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: response has no `items` array: {body}"));
        let matching: Vec<&Value> = items
            .iter()
            .filter(|item| breakdown_matches(&item["breakdown"], f.breakdown))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{label}: expected exactly one observation with this breakdown, got {}: {body}",
            matching.len()
        );
        let item = matching[0];

        assert_str_field(item, "committee", f.committee, &label);
        assert_str_field(item, "indicator", f.indicator, &label);
        assert_str_field(item, "period", f.period, &label);
        assert_str_field(item, "value", f.value, &label);
        assert_str_field(item, "unit", f.unit, &label);
        assert_eq!(
            item["scale"].as_i64(),
            Some(i64::from(f.scale)),
            "{label}: field `scale` should be {}, got {}",
            f.scale,
            item["scale"]
        );
        assert_str_field(item, "status", f.status, &label);
        assert_str_field(item, "qualifier", f.qualifier, &label);
        assert_opt_str_field(item, "reported_yoy_pct", f.reported_yoy_pct, &label);
        assert_opt_str_field(item, "reported_share_pct", f.reported_share_pct, &label);
        assert_str_field(item, "source", f.source, &label);
        let quote = item["source_quote"].as_str().unwrap_or("");
        assert!(
            !quote.trim().is_empty(),
            "{label}: `source_quote` should be a non-empty string, got {}",
            item["source_quote"]
        );
    }

    // The single target: 200 new party members for Hải Phòng in 2021, set by the City Party Committee.
    let (status, body) = app
        .get_json("/api/v1/targets?committee=haiphong-business-bloc&indicator=new_party_members&period=2021")
        .await;
    assert_eq!(status, 200, "GET targets returned {status}: {body}");
    assert_eq!(
        body["items"][0]["value"].as_str(),
        Some("200"),
        "target for new_party_members 2021 (Hải Phòng) should be \"200\": {body}"
    );

    // The seven northern business blocs of source 004.
    let (status, body) = app.get_json("/api/v1/groups/northern-business-blocs").await;
    assert_eq!(
        status, 200,
        "GET group northern-business-blocs returned {status}: {body}"
    );
    let members = body["members"]
        .as_array()
        .unwrap_or_else(|| panic!("group has no `members` array: {body}"));
    let mut codes: Vec<&str> = members
        .iter()
        .map(|m| {
            m["code"]
                .as_str()
                .unwrap_or_else(|| panic!("group member without a code: {m}"))
        })
        .collect();
    codes.sort_unstable();
    let mut expected: Vec<&str> = NORTHERN_BUSINESS_BLOCS.to_vec();
    expected.sort_unstable();
    assert_eq!(
        codes, expected,
        "members of northern-business-blocs: {body}"
    );
}

crate::both_backends!(every_figure_of_figures_md_comes_back_exactly);

/// The table itself must name each (committee, indicator, period, breakdown) once.
#[test]
fn figure_table_has_one_row_per_key() {
    let mut keys: Vec<String> = FIGURES
        .iter()
        .map(|f| {
            format!(
                "{}|{}|{}|{:?}",
                f.committee, f.indicator, f.period, f.breakdown
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate rows in FIGURES");
    assert_eq!(
        n, 33,
        "FIGURES.md lists 33 figures (counting 727 and the three import-export years)"
    );
}
