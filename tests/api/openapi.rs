//! The committed OpenAPI document and the migration trees stay in step with the code.

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn committed_openapi_document_equals_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let generated = chitieu::openapi::document_json();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` (or UPDATE_OPENAPI=1 cargo test)"
    );
}

/// Every `$ref` names a schema the document has (utoipa refers to the type of
/// a query parameter without collecting it: `src/openapi.rs` lists those).
#[test]
fn every_reference_in_the_document_resolves() {
    fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let document: serde_json::Value =
        serde_json::from_str(&chitieu::openapi::document_json()).expect("JSON");
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    let unresolved: BTreeSet<&str> = found
        .into_iter()
        .filter(|target| {
            let name = target.trim_start_matches("#/components/schemas/");
            document["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(unresolved.is_empty(), "unresolved: {unresolved:?}");
}

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            for file in ["up.sql", "down.sql"] {
                assert!(path.join(file).is_file(), "{} lacks {file}", path.display());
            }
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn both_migration_trees_have_the_same_directories() {
    let sqlite = migration_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names("postgres"));
}
