//! What generated clients and dashboards rely on: a document generators accept,
//! exports that agree with each other, and ETags on writes.

use serde_json::Value;

use crate::helpers::{Backend, TestApp};

fn document() -> Value {
    serde_json::to_value(chitieu::openapi::document()).unwrap()
}

#[test]
fn the_document_names_its_server_and_references_list_items() {
    let document = document();
    assert!(
        document["servers"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "servers must be set"
    );
    for (page, item) in [
        ("Page_Observation", "Observation"),
        ("Page_Target", "Target"),
    ] {
        assert_eq!(
            document["components"]["schemas"][page]["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{page} refers to {item}"
        );
    }
}

#[test]
fn every_body_and_file_is_declared_with_its_media_type() {
    let document = document();
    let import = &document["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"];
    for media_type in [
        "text/csv",
        "application/json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ] {
        assert!(import[media_type].is_object(), "imports read {media_type}");
    }
    assert_eq!(
        import["application/json"]["schema"]["$ref"],
        "#/components/schemas/ImportJson"
    );
    let export =
        &document["paths"]["/api/v1/observations/export"]["get"]["responses"]["200"]["content"];
    assert_eq!(
        export["text/csv"]["schema"]["$ref"],
        "#/components/schemas/CsvFile"
    );
    assert_eq!(
        document["components"]["schemas"]["CsvFile"]["format"],
        "binary"
    );
    assert!(
        export["application/json"].is_null(),
        "the export operation answers with files only"
    );
    let list = &document["components"]["schemas"]["ObservationList"]["oneOf"];
    assert_eq!(
        list[1]["$ref"], "#/components/schemas/ObservationExport",
        "format=json_export is documented"
    );
}

#[test]
fn every_operation_documents_its_security_and_client_errors() {
    let document = document();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('4')),
                "{name} documents no 4xx"
            );
            let security = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} documents no security"));
            let needs_scope = security.iter().any(|requirement| {
                requirement["bearer"]
                    .as_array()
                    .is_some_and(|scopes| !scopes.is_empty())
            });
            if needs_scope {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{name} documents no {status}"
                    );
                }
            }
        }
    }
}

/// The export operation answers with the file the list's `format=` gives.
async fn the_export_operation_sends_the_lists_file(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = |path: String| {
        let request = app.client.get(app.url(&path));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (status, content_type, response.bytes().await.unwrap())
        }
    };
    let filter = "committee=haiphong-business-bloc&indicator=revenue";
    let (status, content_type, exported) =
        body(format!("/api/v1/observations/export?{filter}&format=csv")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let (_, _, listed) = body(format!("/api/v1/observations?{filter}&format=csv")).await;
    assert_eq!(exported, listed);
    assert!(exported.len() > 200, "the seed has Hải Phòng's revenue");
    let (status, content_type, _) =
        body(format!("/api/v1/observations/export?{filter}&format=xlsx")).await;
    assert_eq!(status, 200);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    for query in ["", "format=json", "format=pdf"] {
        let (status, content_type, _) = body(format!("/api/v1/observations/export?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(content_type, "application/problem+json", "{query}");
    }
}

/// A JSON export has the columns of the CSV export, numbers as JSON numbers
/// (ids and scales integers), and every empty cell as an explicit null.
async fn a_json_export_keeps_types_and_nulls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/api/v1/observations?format=json_export"))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let csv = app
        .client
        .get(app.url("/api/v1/observations?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csv_columns: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let items = body["observations"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = csv_columns.clone();
        expected.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, expected, "{item}");
        for integer in ["id", "revision", "scale"] {
            assert!(item[integer].is_i64(), "{integer} in {item}");
        }
        assert!(
            item["value"].is_number(),
            "numbers are JSON numbers: {item}"
        );
    }
    assert!(
        items
            .iter()
            .any(|item| item["breakdown"].is_null() && item["reported_share_pct"].is_null()),
        "empty cells are explicit nulls"
    );
}

crate::both_backends!(
    the_export_operation_sends_the_lists_file,
    a_json_export_keeps_types_and_nulls,
);

/// A write answers with the ETag a following If-Match names, as a read does.
async fn writes_return_the_etag_of_what_they_wrote(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let etag = |response: &reqwest::Response| {
        response
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let created = app
        .client
        .post(app.url("/api/v1/observations"))
        .json(
            &serde_json::json!({"committee": "haiphong-business-bloc", "indicator": "revenue",
                                  "period": "2031", "value": "1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created_etag = etag(&created);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let read = app.client.get(app.url(&location)).send().await.unwrap();
    assert_eq!(created_etag.as_deref(), Some("\"1\""));
    assert_eq!(created_etag, etag(&read));
    let target = app
        .client
        .post(app.url("/api/v1/targets"))
        .json(
            &serde_json::json!({"committee": "haiphong-business-bloc", "indicator": "revenue",
                                  "period": "2031", "value": "10"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(target.status().as_u16(), 201);
    let target_etag = etag(&target);
    let location = target.headers()["location"].to_str().unwrap().to_owned();
    let read = app.client.get(app.url(&location)).send().await.unwrap();
    assert_eq!(target_etag.as_deref(), Some("\"1\""));
    assert_eq!(target_etag, etag(&read));
}

crate::both_backends!(writes_return_the_etag_of_what_they_wrote);
