//! Unknown query parameters are refused, on every route, from one table: the
//! query parameters the OpenAPI document lists for the operation. A misspelt
//! filter (`/observations?group=x`) would otherwise be ignored and answer with
//! everything, which looks like a real answer.

use std::collections::{HashMap, HashSet};

use actix_web::http::Method;
use actix_web::{web, HttpRequest};
use utoipa::openapi::path::ParameterIn;

use crate::error::{ApiError, FieldError};

/// The query parameters of each operation, by method and route pattern.
#[derive(Debug, Default)]
pub struct QueryRules {
    known: HashMap<(Method, String), HashSet<String>>,
}

impl QueryRules {
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let mut known = HashMap::new();
        for (path, item) in &document.paths.paths {
            let operations = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let names: HashSet<String> = operation
                    .parameters
                    .iter()
                    .flatten()
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                known.insert((method, path.clone()), names);
            }
        }
        Self { known }
    }

    /// Refuses parameters the operation does not take (400, naming them).
    pub fn check(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let query = request.query_string();
        if query.is_empty() {
            return Ok(());
        }
        let Some(pattern) = request.match_pattern().map(|p| without_regexes(&p)) else {
            return Ok(());
        };
        let method = if request.method() == Method::HEAD {
            Method::GET
        } else {
            request.method().clone()
        };
        let empty = HashSet::new();
        let allowed = self.known.get(&(method, pattern)).unwrap_or(&empty);
        let mut unknown: Vec<String> = Vec::new();
        for (name, _) in form_urlencoded::parse(query.as_bytes()) {
            if !allowed.contains(name.as_ref()) && !unknown.iter().any(|u| u == name.as_ref()) {
                unknown.push(name.into_owned());
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        let mut expected: Vec<&str> = allowed.iter().map(String::as_str).collect();
        expected.sort_unstable();
        let hint = if expected.is_empty() {
            "this operation takes no query parameters".to_owned()
        } else {
            format!("this operation takes {}", expected.join(", "))
        };
        Err(ApiError::BadRequest {
            detail: format!("unknown query parameter(s) {}: {hint}", unknown.join(", ")),
            errors: unknown
                .into_iter()
                .map(|name| FieldError::new(name, "unknown_parameter", hint.clone()))
                .collect(),
        })
    }
}

impl QueryRules {
    /// The methods a path is served with, for a `405` and its `Allow` header.
    pub fn methods_for(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self
            .known
            .keys()
            .filter(|(_, pattern)| {
                // Ids in paths are integers, as the routes declare them.
                let routed = pattern.replace("{id}", "{id:\\d+}");
                actix_web::dev::ResourceDef::new(routed).is_match(path)
            })
            .map(|(method, _)| method.clone())
            .collect();
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        methods
    }
}

/// `/observations/{id:\d+}` (the router's pattern) as the document writes it,
/// `/observations/{id}`.
fn without_regexes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_regex = false;
    let mut depth = 0;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if !in_regex {
                    out.push(c);
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    in_regex = false;
                    out.push(c);
                }
            }
            ':' if depth == 1 => in_regex = true,
            _ if !in_regex => out.push(c),
            _ => {}
        }
    }
    out
}

/// Applies the rules kept in the application's data, if any.
pub fn check(request: &HttpRequest) -> Result<(), ApiError> {
    match request.app_data::<web::Data<QueryRules>>() {
        Some(rules) => rules.check(request),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::without_regexes;

    #[test]
    fn router_patterns_read_as_the_document_writes_them() {
        assert_eq!(without_regexes("/a/{id:\\d+}/b"), "/a/{id}/b");
        assert_eq!(without_regexes("/a/{code}"), "/a/{code}");
        assert_eq!(without_regexes("/a/{x:[0-9]{2}}/{y}"), "/a/{x}/{y}");
    }
}
