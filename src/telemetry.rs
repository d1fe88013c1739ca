//! Logs for operators: one line per request with its request id, in text or
//! JSON, and the `x-request-id` header on every response.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest incoming request id kept; a longer or odd one is replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

/// How log lines are written (`CHITIEU_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event; coloured only on a terminal.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    /// From `CHITIEU_LOG_FORMAT`: `text` (default) or `json`.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim).unwrap_or("") {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "CHITIEU_LOG_FORMAT is text or json, not {other:?}; writing text"
            )),
        }
    }
}

/// Sets up logging once, from `RUST_LOG` (default `info`) and `CHITIEU_LOG_FORMAT`.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let requested = std::env::var("CHITIEU_LOG_FORMAT").ok();
    let (format, problem) = match LogFormat::parse(requested.as_deref()) {
        Ok(format) => (format, None),
        Err(problem) => (LogFormat::Text, Some(problem)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        // Colour codes are noise in a file or a pipe.
        LogFormat::Text => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
    };
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

/// A request id is kept when a client or proxy sends a well-formed one:
/// 1 to 64 letters, digits, `-`, `_`, `.` or `:` (nothing that could forge a
/// log line or a header).
pub fn is_well_formed(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The id of the request being served (in the request's extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives every request an id (the incoming `x-request-id` when well-formed,
/// else a new UUID) and sends it back in `x-request-id`, error answers included.
pub async fn request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| is_well_formed(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    match next.call(request).await {
        Ok(mut response) => {
            insert_request_id(response.headers_mut(), &id);
            Ok(response)
        }
        // A layer inside refused the request (an unknown token): its answer is
        // built later, from the error, so the error carries the id.
        Err(error) => Err(WithRequestId { error, id }.into()),
    }
}

fn insert_request_id(headers: &mut actix_web::http::header::HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
}

/// An error answered with the request's id.
#[derive(Debug)]
struct WithRequestId {
    error: Error,
    id: String,
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl actix_web::ResponseError for WithRequestId {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = self.error.error_response();
        insert_request_id(response.headers_mut(), &self.id);
        response
    }
}

/// When the request started, to log its duration.
struct Started(Instant);

/// The root span of each request, and its one log line at the end: INFO for
/// every answer below 500 (a client's mistake is not the operator's alarm),
/// ERROR for a 5xx. The problem's title is in the line, not its whole detail.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        request.extensions_mut().insert(Started(Instant::now()));
        tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = %short(request.path()),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        let (status, error, elapsed) = match outcome {
            Ok(response) => (
                response.status(),
                response.response().error().map(ToString::to_string),
                response
                    .request()
                    .extensions()
                    .get::<Started>()
                    .map(|started| started.0.elapsed()),
            ),
            Err(error) => (
                error.as_response_error().status_code(),
                Some(error.to_string()),
                None,
            ),
        };
        // Milliseconds to the microsecond; unknown when a layer refused the request.
        let elapsed_ms = elapsed.map(|d| (d.as_secs_f64() * 1e6).round() / 1e3);
        let error = error.map(|e| short(&e));
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                elapsed_ms,
                error = error.as_deref(),
                "answered"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                elapsed_ms,
                error = error.as_deref(),
                "answered"
            );
        }
    }
}

/// At most 200 characters of an error's message: a log line stays a line.
fn short(message: &str) -> String {
    const MAX: usize = 200;
    let flat: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_text_or_json() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some(" text ")), Ok(LogFormat::Text));
        assert!(LogFormat::parse(Some("yaml")).is_err());
    }

    #[test]
    fn only_plain_request_ids_are_kept() {
        assert!(is_well_formed("3f0c1a7e-9b2d-4c55-8e61-0d1f2a3b4c5d"));
        assert!(is_well_formed("lb:1234.abc_def"));
        for bad in ["", "a b", "a\nINFO forged", "é", &"x".repeat(65)] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_long_error_is_cut_to_one_short_line() {
        let long = format!("bad period\n{}", "x".repeat(5000));
        let line = short(&long);
        assert!(line.chars().count() <= 201);
        assert!(!line.contains('\n'));
    }
}
