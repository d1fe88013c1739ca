//! Exports are safe to open in a spreadsheet, and still re-import unchanged.

use serde_json::json;

use crate::helpers::{read, Backend, TestApp};

/// Source quotes that a spreadsheet would run as formulas.
const QUOTES: [&str; 5] = [
    "=HYPERLINK(\"http://evil.example\",\"bấm vào đây\")",
    "-5 tỷ đồng so với cùng kỳ",
    "@SUM(A1:A9)",
    "+84 912 345 678",
    "'=already quoted",
];

async fn csv_exports_neutralise_formulas_and_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Profit may be negative (it is seeded without a lower bound; revenue has a minimum of 0).
    for (index, quote) in QUOTES.iter().enumerate() {
        let (status, body) = app
            .post_json(
                "/api/v1/observations",
                &json!({"committee": "hanam-business-bloc", "indicator": "profit",
                        "period": format!("2031-Q{}", index % 4 + 1),
                        "breakdown": {"sex": format!("k{index}")},
                        "value": -5 - index as i64, "source_quote": quote}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let filter = "committee=hanam-business-bloc&from=2031-Q1&to=2031-Q4";
    let response = app
        .client
        .get(app.url(&format!("/api/v1/observations?format=csv&{filter}")))
        .send()
        .await
        .unwrap();
    let csv = response.text().await.unwrap();
    // Every text cell that begins with a formula character has a quote in
    // front; the negative values stay numbers.
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let value = fields[6];
        assert!(
            value.starts_with('-') && value[1..].parse::<u32>().is_ok(),
            "{line}"
        );
    }
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\""),
        "{csv}"
    );
    assert!(csv.contains(",'-5 tỷ đồng so với cùng kỳ"), "{csv}");
    assert!(csv.contains(",'@SUM(A1:A9)"), "{csv}");
    assert!(csv.contains(",'+84 912 345 678"), "{csv}");
    assert!(csv.contains(",''=already quoted"), "{csv}");
    for line in csv.lines() {
        for field in line.split(',') {
            let field = field.trim_start_matches('"');
            assert!(
                !field.starts_with(['=', '+', '@']),
                "a cell starts like a formula: {line}"
            );
        }
    }

    // The file re-imports unchanged: the quotes come back exactly.
    let (status, summary) = read(app.post_raw("/api/v1/imports", "text/csv", csv).await).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["unchanged"], QUOTES.len(), "{summary}");
    let (_, listed) = app
        .get_json(&format!("/api/v1/observations?{filter}&limit=100"))
        .await;
    let mut stored: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["source_quote"].as_str().unwrap())
        .collect();
    let mut expected = QUOTES.to_vec();
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
}

crate::both_backends!(csv_exports_neutralise_formulas_and_round_trip);
