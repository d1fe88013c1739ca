//! Timestamps on the wire: stored as UTC without an offset, sent as RFC 3339
//! with `Z`, so that clients (and the OpenAPI `date-time` format) read them as UTC.

use chrono::NaiveDateTime;
use serde::Serializer;

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub fn utc<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.format(FORMAT))
}

pub fn utc_opt<S: Serializer>(
    at: &Option<NaiveDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc(at, serializer),
        None => serializer.serialize_none(),
    }
}
