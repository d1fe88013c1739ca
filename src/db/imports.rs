//! Set-based bulk writes through a staging table: rows are checked in Rust,
//! loaded into a temporary table (PostgreSQL `COPY`, SQLite batched inserts),
//! classified against the stored figures in SQL and merged in a handful of
//! statements, so a million-row import is neither a query per row nor held
//! in memory.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use rust_decimal::Decimal;

use super::decimal::StoredDecimal;
use super::schema::import_staging;
use super::{AnyConnection, BackendKind};

/// One checked row, ready for the staging table.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = import_staging, treat_none_as_default_value = false)]
pub struct StagedRow {
    pub row_no: i64,
    pub committee_id: i64,
    pub indicator_id: i64,
    pub period_code: String,
    pub frequency: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub breakdown: String,
    pub value: Option<StoredDecimal>,
    pub status: String,
    pub qualifier: String,
    pub reported_yoy_pct: Option<StoredDecimal>,
    pub reported_yoy_qualifier: Option<String>,
    pub reported_share_pct: Option<StoredDecimal>,
    pub reported_share_qualifier: Option<String>,
    pub source_id: Option<i64>,
    pub source_quote: Option<String>,
}

/// How an import treats figures that exist already (as DHIS2's dataValueSets).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Only new figures; a row for an existing figure is rejected.
    Create,
    /// Only existing figures; a row for a new one is rejected.
    Update,
    /// New figures are created, existing ones updated (a revision) or left unchanged.
    #[default]
    CreateAndUpdate,
    /// The figures named by the rows are deleted (a revision each).
    Delete,
}

/// What the staged rows would do.
#[derive(Debug, Clone, Default)]
pub struct Classified {
    pub created: i64,
    pub restored: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    /// Rows refused by the stored data (duplicates, locks, strategy), first ones only.
    pub rejected: Vec<(i64, String)>,
    pub rejected_total: i64,
    /// Rows for committees the caller may not write for.
    pub forbidden: i64,
}

/// `a IS NOT DISTINCT FROM b`: equal, counting two NULLs as equal.
fn same(backend: BackendKind, a: &str, b: &str) -> String {
    match backend {
        BackendKind::Postgres => format!("{a} IS NOT DISTINCT FROM {b}"),
        BackendKind::Sqlite => format!("{a} IS {b}"),
    }
}

/// Bind placeholder number `n` (PostgreSQL `$n`, SQLite `?n`).
fn param(backend: BackendKind, n: usize) -> String {
    match backend {
        BackendKind::Postgres => format!("${n}"),
        BackendKind::Sqlite => format!("?{n}"),
    }
}

/// Creates an empty staging table on this connection (inside the import's transaction).
pub fn create_staging(conn: &mut AnyConnection) -> QueryResult<()> {
    let backend = conn.backend();
    let (date, decimal) = match backend {
        BackendKind::Postgres => ("DATE", "NUMERIC"),
        BackendKind::Sqlite => ("TEXT", "TEXT"),
    };
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS import_staging;
         CREATE TEMPORARY TABLE import_staging (
             row_no BIGINT PRIMARY KEY,
             committee_id BIGINT NOT NULL,
             indicator_id BIGINT NOT NULL,
             period_code TEXT NOT NULL,
             frequency TEXT NOT NULL,
             period_start {date} NOT NULL,
             period_end {date} NOT NULL,
             breakdown TEXT NOT NULL,
             value {decimal},
             status TEXT NOT NULL,
             qualifier TEXT NOT NULL,
             reported_yoy_pct {decimal},
             reported_yoy_qualifier TEXT,
             reported_share_pct {decimal},
             reported_share_qualifier TEXT,
             source_id BIGINT,
             source_quote TEXT,
             existing_id BIGINT,
             existing_revision INTEGER,
             existing_value {decimal},
             existing_deleted INTEGER,
             action TEXT,
             reject_code TEXT
         );"
    ))
}

/// Rows per SQLite insert: 17 columns each, well under its bind limit.
const SQLITE_CHUNK: usize = 400;

/// Appends rows to the staging table.
pub fn stage(conn: &mut AnyConnection, rows: &[StagedRow]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgres(pg) => {
            diesel::copy_from(import_staging::table)
                .from_insertable(rows)
                .execute(pg)?;
        }
        AnyConnection::Sqlite(sqlite) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                diesel::insert_into(import_staging::table)
                    .values(chunk)
                    .execute(sqlite)?;
            }
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct ActionCount {
    #[diesel(sql_type = Nullable<Text>)]
    action: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Marks what each staged row would do under `strategy`.
pub fn classify(
    conn: &mut AnyConnection,
    strategy: Strategy,
    scope: Option<&std::collections::HashSet<i64>>,
    max_rejected: i64,
) -> QueryResult<Classified> {
    let backend = conn.backend();
    let key = "t.committee_id = s.committee_id AND t.indicator_id = s.indicator_id \
               AND t.period_code = s.period_code AND t.breakdown = s.breakdown";
    let mut sql = format!(
        "CREATE INDEX import_staging_key ON import_staging (committee_id, indicator_id, period_code, breakdown, row_no);
         UPDATE import_staging AS s SET existing_id = t.id, existing_revision = t.revision, existing_value = t.value,
             existing_deleted = CASE WHEN t.deleted_at IS NULL THEN 0 ELSE 1 END
           FROM observations AS t WHERE {key};
         UPDATE import_staging AS s SET action = 'reject', reject_code = 'duplicate_in_file'
           WHERE EXISTS (SELECT 1 FROM import_staging AS t WHERE {key} AND t.row_no < s.row_no);
         UPDATE import_staging AS s SET action = 'reject', reject_code = 'locked'
           WHERE s.action IS NULL AND EXISTS (SELECT 1 FROM period_locks AS l WHERE l.unlocked_at IS NULL
             AND l.committee_id = s.committee_id AND l.period_start <= s.period_start AND s.period_end <= l.period_end);"
    );
    if let Some(scope) = scope {
        // Ids come from the token's own scope, not from the request.
        let ids: Vec<String> = scope.iter().map(i64::to_string).collect();
        let allowed = if ids.is_empty() {
            "NULL".to_owned()
        } else {
            ids.join(", ")
        };
        sql.push_str(&format!(
            "UPDATE import_staging SET action = 'reject', reject_code = 'forbidden'
               WHERE action IS NULL AND committee_id NOT IN ({allowed});"
        ));
    }
    if matches!(strategy, Strategy::Update | Strategy::CreateAndUpdate) {
        let columns = [
            "reported_yoy_pct",
            "reported_yoy_qualifier",
            "reported_share_pct",
            "reported_share_qualifier",
            "source_id",
            "source_quote",
        ];
        let nullable: Vec<String> = columns
            .iter()
            .map(|c| same(backend, &format!("t.{c}"), &format!("s.{c}")))
            .collect();
        sql.push_str(&format!(
            "UPDATE import_staging AS s SET action = 'unchanged' FROM observations AS t
               WHERE s.action IS NULL AND t.id = s.existing_id AND t.deleted_at IS NULL
                 AND t.value = s.value AND t.status = s.status AND t.qualifier = s.qualifier AND {};",
            nullable.join(" AND ")
        ));
    }
    // What a row does: for a new figure, a deleted one and a live one.
    let (new, deleted, live) = match strategy {
        Strategy::Create => ("create", "restore", "reject:already_exists"),
        Strategy::Update => ("reject:not_found", "reject:not_found", "update"),
        Strategy::CreateAndUpdate => ("create", "restore", "update"),
        Strategy::Delete => ("reject:not_found", "reject:not_found", "delete"),
    };
    let split = |outcome: &str| match outcome.strip_prefix("reject:") {
        Some(code) => ("'reject'".to_owned(), format!("'{code}'")),
        None => (format!("'{outcome}'"), "NULL".to_owned()),
    };
    let ((new_action, new_code), (deleted_action, deleted_code), (live_action, live_code)) =
        (split(new), split(deleted), split(live));
    sql.push_str(&format!(
        "UPDATE import_staging SET
             action = CASE WHEN existing_id IS NULL THEN {new_action} WHEN existing_deleted = 1 THEN {deleted_action} ELSE {live_action} END,
             reject_code = CASE WHEN existing_id IS NULL THEN {new_code} WHEN existing_deleted = 1 THEN {deleted_code} ELSE {live_code} END
           WHERE action IS NULL;"
    ));
    conn.batch_execute(&sql)?;

    let counts: Vec<ActionCount> =
        diesel::sql_query("SELECT action, COUNT(*) AS n FROM import_staging GROUP BY action")
            .load(conn)?;
    let count: HashMap<String, i64> = counts
        .into_iter()
        .map(|c| (c.action.unwrap_or_default(), c.n))
        .collect();
    let get = |action: &str| count.get(action).copied().unwrap_or(0);
    let forbidden: i64 = import_staging::table
        .filter(import_staging::reject_code.eq("forbidden"))
        .count()
        .get_result(conn)?;
    let rejected = import_staging::table
        .filter(import_staging::action.eq("reject"))
        .select((
            import_staging::row_no,
            import_staging::reject_code.assume_not_null(),
        ))
        .order(import_staging::row_no)
        .limit(max_rejected)
        .load::<(i64, String)>(conn)?;
    Ok(Classified {
        created: get("create"),
        restored: get("restore"),
        updated: get("update"),
        unchanged: get("unchanged"),
        deleted: get("delete"),
        rejected,
        rejected_total: get("reject"),
        forbidden,
    })
}

/// Applies the classified rows: updates, restores, deletions and creations,
/// each with its revision. Rejected and unchanged rows change nothing.
pub fn apply(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    changed_by: &str,
    token_id: Option<i64>,
    reason: Option<&str>,
) -> QueryResult<()> {
    let backend = conn.backend();
    let (p1, p2, p3, p4) = (
        param(backend, 1),
        param(backend, 2),
        param(backend, 3),
        param(backend, 4),
    );
    let state = "value = s.value, status = s.status, qualifier = s.qualifier, \
                 reported_yoy_pct = s.reported_yoy_pct, reported_yoy_qualifier = s.reported_yoy_qualifier, \
                 reported_share_pct = s.reported_share_pct, reported_share_qualifier = s.reported_share_qualifier, \
                 source_id = s.source_id, source_quote = s.source_quote";
    diesel::sql_query(format!(
        "UPDATE observations SET {state}, revision = observations.revision + 1, deleted_at = NULL, updated_at = {p1}
           FROM import_staging AS s WHERE observations.id = s.existing_id AND s.action IN ('update', 'restore')"
    ))
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    diesel::sql_query(format!(
        "UPDATE observations SET revision = observations.revision + 1, deleted_at = {p1}, updated_at = {p1}
           FROM import_staging AS s WHERE observations.id = s.existing_id AND s.action = 'delete'"
    ))
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    let columns = "committee_id, indicator_id, period_code, frequency, period_start, period_end, breakdown, value, \
                   status, qualifier, reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, \
                   reported_share_qualifier, source_id, source_quote";
    diesel::sql_query(format!(
        "INSERT INTO observations ({columns}, revision, created_at, updated_at)
           SELECT {columns}, 1, {p1}, {p1} FROM import_staging WHERE action = 'create' ORDER BY row_no"
    ))
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO observation_revisions (observation_id, revision, action, value, previous_value, status, qualifier,
             reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, reported_share_qualifier, source_id,
             source_quote, changed_at, changed_by, reason, token_id)
           SELECT o.id, o.revision, s.action, o.value, s.existing_value, o.status, o.qualifier,
             o.reported_yoy_pct, o.reported_yoy_qualifier, o.reported_share_pct, o.reported_share_qualifier,
             o.source_id, o.source_quote, {p1}, {p2}, {p3}, {p4}
           FROM import_staging AS s JOIN observations AS o ON o.committee_id = s.committee_id
             AND o.indicator_id = s.indicator_id AND o.period_code = s.period_code AND o.breakdown = s.breakdown
           WHERE s.action IN ('create', 'update', 'restore', 'delete') ORDER BY s.row_no"
    ))
    .bind::<Timestamp, _>(at)
    .bind::<Text, _>(changed_by)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Nullable<BigInt>, _>(token_id)
    .execute(conn)?;
    Ok(())
}

/// Removes the staging table (it is temporary, but a pooled connection lives on).
pub fn drop_staging(conn: &mut AnyConnection) -> QueryResult<()> {
    conn.batch_execute("DROP TABLE IF EXISTS import_staging")
}

/// Decimal of a staged value.
pub fn stored(value: Option<Decimal>) -> Option<StoredDecimal> {
    value.map(StoredDecimal)
}
