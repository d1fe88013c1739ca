//! One error type for the HTTP edge, rendered as RFC 7807 `application/problem+json`.
//!
//! Client errors say what was wrong and where; server errors are logged with
//! their cause and answered with a generic message.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One thing wrong with a request: which field (or row), a machine-readable
/// code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where: a field name (`period`), a query parameter, or a path into the body.
    pub field: String,
    /// Position of the item in a batch, counting from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Row of an imported file, as a person sees it in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// Stable machine-readable code, e.g. `unknown_committee`, `invalid_period`.
    pub code: String,
    /// What was wrong and what is expected.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            index: None,
            row: None,
            code: code.into(),
            message: message.into(),
        }
    }

    /// A free text that breaks the rule for its field (see [`crate::domain::text`]).
    pub fn text(field: impl Into<String>, invalid: crate::domain::text::InvalidText) -> Self {
        Self::new(field, invalid.code(), invalid.to_string())
    }

    /// Checks an optional free text; `Err` names the field.
    pub fn check_text(
        field: &str,
        text: Option<&str>,
        rule: crate::domain::text::TextRule,
    ) -> Result<(), Self> {
        match text {
            Some(text) => crate::domain::text::check(text, rule).map_err(|e| Self::text(field, e)),
            None => Ok(()),
        }
    }

    pub fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }
}

/// Why a write was refused: the committee × period is locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LockProblem {
    /// Always `locked`.
    pub reason: String,
    /// Id of the lock (`DELETE /api/v1/locks/{id}` lifts it).
    pub lock_id: i64,
    pub committee: String,
    /// The locked period.
    pub period: String,
    pub locked_by: String,
    #[serde(serialize_with = "crate::timestamp::utc")]
    pub locked_at: chrono::NaiveDateTime,
    /// Why it was locked.
    pub note: Option<String>,
}

/// An RFC 7807 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// Every individual error, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a refused write to a locked period: the lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read: malformed JSON, wrong types, bad query parameters.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The request is well-formed but its content breaks a rule.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    NotFound(String),
    /// No valid token where one is needed.
    #[error("{0}")]
    Unauthorized(String),
    /// The token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the stored state (duplicate, data still attached).
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A write to a locked committee × period.
    #[error("{detail}")]
    Locked {
        detail: String,
        lock: Box<LockProblem>,
        errors: Vec<FieldError>,
    },
    /// `If-Match` does not match the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The database cannot be reached right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Another writer held the database (SQLite) or the row (PostgreSQL)
    /// longer than a write waits; the client should try again.
    #[error("database busy: {0}")]
    Busy(String),
    /// Too many expensive requests at once: this one waited for its lane
    /// longer than allowed; the client should try again.
    #[error("overloaded: {0}")]
    Overloaded(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid_parameter(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("invalid query parameter {field}: {message}"),
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = summarise(&errors);
        Self::Validation { detail, errors }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest { .. } => ("bad-request", "The request could not be read"),
            Self::Validation { .. } => ("validation", "The request content is invalid"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Not allowed for this token"),
            Self::Conflict { .. } => ("conflict", "The request conflicts with stored data"),
            Self::Locked { .. } => ("locked", "The period is locked"),
            Self::PreconditionFailed(_) => ("precondition-failed", "Someone else changed it first"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "The request body is too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::Unavailable(_) => ("unavailable", "The service is temporarily unavailable"),
            Self::Busy(_) => ("busy", "The database is busy with another write"),
            Self::Overloaded(_) => ("overloaded", "Too many expensive requests at once"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors }
            | Self::Validation { detail, errors }
            | Self::Conflict { detail, errors }
            | Self::Locked { detail, errors, .. } => (detail.clone(), errors.clone()),
            Self::PreconditionFailed(d) | Self::Unauthorized(d) | Self::Forbidden(d) => {
                (d.clone(), Vec::new())
            }
            Self::NotFound(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::MethodNotAllowed(d) => (d.clone(), Vec::new()),
            Self::Unavailable(_) => (
                "the database is not reachable; try again shortly".into(),
                Vec::new(),
            ),
            Self::Busy(_) => (
                format!(
                    "another write held the data this request needs for too long; nothing was written, try again in {RETRY_AFTER_SECONDS} seconds"
                ),
                Vec::new(),
            ),
            Self::Overloaded(d) => (
                format!("{d}; try again in {RETRY_AFTER_SECONDS} seconds"),
                Vec::new(),
            ),
            Self::Internal(_) => (
                "an unexpected error occurred; it has been logged".into(),
                Vec::new(),
            ),
        };
        Problem {
            problem_type: format!("urn:chitieu:problem:{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail,
            errors,
            lock: match self {
                Self::Locked { lock, .. } => Some((**lock).clone()),
                _ => None,
            },
        }
    }
}

fn summarise(errors: &[FieldError]) -> String {
    match errors {
        [] => "the request is invalid".into(),
        [only] => match only.index {
            Some(i) => format!("item {i}: {}: {}", only.field, only.message),
            None => format!("{}: {}", only.field, only.message),
        },
        many => format!("{} errors; see `errors` for each", many.len()),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict { .. } | Self::Locked { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) | Self::Busy(_) | Self::Overloaded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            Self::Busy(cause) => tracing::warn!(%cause, "database busy"),
            Self::Overloaded(cause) => tracing::warn!(%cause, "expensive lane full"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if matches!(
            self,
            Self::Unavailable(_) | Self::Busy(_) | Self::Overloaded(_)
        ) {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string()));
        }
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"chitieu\""));
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::NotFound("not found".into()),
            // The database's message names its constraints and tables: it is
            // logged, and the client gets a message of its own.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(cause = info.message(), "refused as a duplicate");
                Self::conflict(
                    "a record with the same key already exists, or was written at the same moment; read it again and retry",
                )
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::info!(cause = info.message(), "refused: still referred to");
                Self::conflict("other records still refer to this one")
            }
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                Self::Busy(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_lock_wait_exceeded(info.message()) =>
            {
                Self::Busy(info.message().to_owned())
            }
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Seconds a client is told to wait (`Retry-After`) when the database is
/// busy or unreachable.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Whether a database error says a lock was not granted in time: SQLite's
/// SQLITE_BUSY / SQLITE_LOCKED after `busy_timeout`, PostgreSQL's
/// `lock_timeout` (55P03), `statement_timeout` (57014) and deadlocks (40P01).
/// diesel hands these over as messages only, not as codes.
fn is_lock_wait_exceeded(message: &str) -> bool {
    const MESSAGES: [&str; 6] = [
        "database is locked",
        "database table is locked",
        "database schema is locked",
        "canceling statement due to lock timeout",
        "canceling statement due to statement timeout",
        "deadlock detected",
    ];
    MESSAGES.iter().any(|known| message.starts_with(known))
}

impl From<r2d2::Error> for ApiError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}
