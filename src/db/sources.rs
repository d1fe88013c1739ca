//! Source documents that figures are quoted from.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::sources;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sources)]
pub struct SourceRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub publisher: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = sources, treat_none_as_null = true)]
pub struct NewSource<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub publisher: Option<&'a str>,
    pub published_on: Option<NaiveDate>,
    pub url: Option<&'a str>,
    pub author: Option<&'a str>,
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<SourceRow>> {
    sources::table
        .order(sources::code)
        .select(SourceRow::as_select())
        .load(conn)
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<SourceRow>> {
    sources::table
        .filter(sources::code.eq(code))
        .select(SourceRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, source: &NewSource<'_>) -> QueryResult<SourceRow> {
    diesel::insert_into(sources::table)
        .values((source, sources::created_at.eq(super::now())))
        .returning(sources::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

/// Creates the source or brings its descriptive fields up to date.
pub fn upsert(conn: &mut AnyConnection, source: &NewSource<'_>) -> QueryResult<SourceRow> {
    match find_by_code(conn, source.code)? {
        None => insert(conn, source),
        Some(existing) => diesel::update(sources::table.find(existing.id))
            .set(source)
            .returning(sources::id)
            .get_result(conn)
            .and_then(|id: i64| find_by_id(conn, id)),
    }
}

// RETURNING a whole row is not available through diesel's MultiConnection
// (its returning clause must be valid for every backend at once), so writes
// return the id and the row is read back.
fn find_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<SourceRow> {
    sources::table
        .find(id)
        .select(SourceRow::as_select())
        .get_result(conn)
}
