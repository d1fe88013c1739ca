//! The constraints the server enforces, written into the document from the
//! rules themselves (codes, text limits, page sizes), so that a generated
//! client or a fuzzer knows them and the document cannot drift from them.
//!
//! Applied by field name across every operation and input schema: a
//! `committee` is a committee code wherever it appears.

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{ArrayItems, Object, Schema};
use utoipa::openapi::{OpenApi, RefOr};

use crate::domain::text::{self, TextRule};

/// A code: 1 to 64 lowercase ASCII letters, digits, `-` or `_`, starting with
/// a letter or digit (`domain::code`).
pub const CODE_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";
/// A code, or nothing: an optional field or parameter sent empty means none.
pub const OPTIONAL_CODE_PATTERN: &str = "^([a-z0-9][a-z0-9_-]{0,63})?$";
/// Comma-separated codes (list filters); empty means no filter.
pub const CODE_LIST_PATTERN: &str =
    "^( *[a-z0-9][a-z0-9_-]{0,63} *(, *[a-z0-9][a-z0-9_-]{0,63} *)*)?$";

/// Fields and parameters that name a code.
const CODE_FIELDS: &[&str] = &[
    "committee",
    "indicator",
    "group",
    "source",
    "parent",
    "denominator",
    "numerator",
];
/// Arrays of codes.
const CODE_ARRAYS: &[&str] = &["committees", "members"];

fn text_rule(field: &str) -> Option<TextRule> {
    Some(match field {
        "name_vi" | "name_en" | "assigned_by" => text::NAME,
        "reason" => text::REASON,
        "source_quote" => text::QUOTE,
        "description" => text::DESCRIPTION,
        _ => return None,
    })
}

fn object(schema: &mut RefOr<Schema>) -> Option<&mut Object> {
    match schema {
        RefOr::T(Schema::Object(object)) => Some(object),
        _ => None,
    }
}

fn constrain_code(schema: &mut RefOr<Schema>, pattern: &str) {
    if let Some(object) = object(schema) {
        object.pattern = Some(pattern.to_owned());
    }
}

/// No control characters; line breaks and tabs only where the rule allows them.
const SINGLE_LINE_PATTERN: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
const MULTILINE_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn constrain_text(schema: &mut RefOr<Schema>, rule: TextRule) {
    if let Some(object) = object(schema) {
        object.max_length = Some(rule.max_chars);
        object.pattern = Some(
            if rule.multiline {
                MULTILINE_PATTERN
            } else {
                SINGLE_LINE_PATTERN
            }
            .to_owned(),
        );
    }
}

/// Writes the constraints into `document`.
pub fn apply(document: &mut OpenApi) {
    for (path, item) in document.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                let Some(schema) = parameter.schema.as_mut() else {
                    continue;
                };
                let name = parameter.name.as_str();
                let required = matches!(parameter.required, utoipa::openapi::Required::True);
                let single = if required {
                    CODE_PATTERN
                } else {
                    OPTIONAL_CODE_PATTERN
                };
                match parameter.parameter_in {
                    ParameterIn::Path if name == "code" && !path.contains("/periods/") => {
                        constrain_code(schema, CODE_PATTERN)
                    }
                    ParameterIn::Path if name == "committee" => {
                        constrain_code(schema, CODE_PATTERN)
                    }
                    ParameterIn::Query if CODE_FIELDS.contains(&name) => {
                        // Figure and target lists filter by several codes at once.
                        let list = path.ends_with("/observations") || path.ends_with("/targets");
                        constrain_code(schema, if list { CODE_LIST_PATTERN } else { single });
                    }
                    ParameterIn::Query if name == "limit" => {
                        if let Some(object) = object(schema) {
                            let most = if path.ends_with("/checks") {
                                crate::analysis::checks::MAX_PAGE_COMMITTEES as i32
                            } else {
                                crate::routes::MAX_PAGE_SIZE as i32
                            };
                            object.minimum = Some(1.into());
                            object.maximum = Some(most.into());
                        }
                    }
                    ParameterIn::Query => {
                        if let Some(rule) = text_rule(name) {
                            constrain_text(schema, rule)
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if !(name.ends_with("Input") || name.ends_with("Update")) {
            continue;
        }
        let Some(input) = object(schema) else {
            continue;
        };
        let required = input.required.clone();
        for (field, property) in input.properties.iter_mut() {
            let field = field.as_str();
            if CODE_FIELDS.contains(&field) || field == "code" {
                let pattern = if required.iter().any(|r| r == field) {
                    CODE_PATTERN
                } else {
                    OPTIONAL_CODE_PATTERN
                };
                constrain_code(property, pattern);
            } else if field == "scale" {
                if let Some(object) = object(property) {
                    object.minimum = Some(0.into());
                    object.maximum = Some(crate::domain::value::MAX_SCALE.into());
                }
            } else if CODE_ARRAYS.contains(&field) {
                if let RefOr::T(Schema::Array(array)) = property {
                    if let ArrayItems::RefOrSchema(items) = &mut array.items {
                        constrain_code(items, CODE_PATTERN);
                    }
                }
            } else if field == "name" {
                constrain_text(property, text::TOKEN_NAME);
            } else if let Some(rule) = text_rule(field) {
                constrain_text(property, rule);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::code::CommitteeCode;

    /// The patterns the document states accept exactly what the parser does.
    #[test]
    fn the_code_patterns_are_the_parser_s_rule() {
        let one = regex::Regex::new(CODE_PATTERN).unwrap();
        let list = regex::Regex::new(CODE_LIST_PATTERN).unwrap();
        let long = "x".repeat(64);
        let too_long = "x".repeat(65);
        for (input, valid) in [
            ("haiphong-business-bloc", true),
            ("a", true),
            ("0x_1", true),
            (long.as_str(), true),
            (too_long.as_str(), false),
            ("-a", false),
            ("_a", false),
            ("A", false),
            ("", false),
            ("a b", false),
            ("hà-nội", false),
        ] {
            assert_eq!(CommitteeCode::parse(input).is_ok(), valid, "{input:?}");
            assert_eq!(one.is_match(input), valid, "{input:?}");
            assert_eq!(list.is_match(input), valid || input.is_empty(), "{input:?}");
        }
        let optional = regex::Regex::new(OPTIONAL_CODE_PATTERN).unwrap();
        assert!(optional.is_match("") && optional.is_match("a-1") && !optional.is_match("-"));
        assert!(list.is_match("a,b"));
        // The text patterns refuse what the text rule refuses.
        let single = regex::Regex::new(SINGLE_LINE_PATTERN).unwrap();
        let multi = regex::Regex::new(MULTILINE_PATTERN).unwrap();
        for text in ["Hải Phòng", "a\tb", "a\nb", "a\0b", "a\u{8a}b", "a\u{1b}b"] {
            assert_eq!(
                single.is_match(text),
                text::check(text, text::NAME).is_ok(),
                "{text:?}"
            );
            assert_eq!(
                multi.is_match(text),
                text::check(text, text::REASON).is_ok(),
                "{text:?}"
            );
        }
        assert!(list.is_match("a, b-c ,d"));
        assert!(!list.is_match("a,,b"));
        assert!(!list.is_match("a,"));
    }
}
