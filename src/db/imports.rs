//! Set-based bulk writes through a staging table: rows are checked in Rust,
//! loaded into a temporary table (PostgreSQL `COPY`, SQLite batched inserts),
//! classified against the stored figures in SQL and merged in a handful of
//! statements, so a million-row import is neither a query per row nor held
//! in memory.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
use rust_decimal::Decimal;

use super::decimal::{DbDecimal, StoredDecimal};
use super::schema::{import_staging, observations};
use super::{AnyConnection, BackendKind};
use crate::domain::plausibility::{check_change, Factor, PlausibilityWarning, PreviousFigure};

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

/// Keys tracked in memory for the duplicate check: 32 MiB of hashes. A larger
/// file goes to the check in SQL.
const MAX_TRACKED_KEYS: usize = 4_000_000;

/// Finds out, without asking the database, whether a file may name a figure
/// twice. It keeps a 64-bit hash of each staged key and sorts them at the
/// end. Equal keys have equal hashes, so when no hash repeats no figure does;
/// a repeated hash (a real duplicate or, rarely, a collision), or a file too
/// large to track, leaves the exact check to SQL.
#[derive(Debug, Default)]
pub struct KeyHashes {
    hashes: Vec<u64>,
    overflow: bool,
}

impl KeyHashes {
    /// Notes the key of a staged row.
    pub fn add(&mut self, row: &StagedRow) {
        if self.overflow {
            return;
        }
        if self.hashes.len() >= MAX_TRACKED_KEYS {
            self.overflow = true;
            self.hashes = Vec::new();
            return;
        }
        // SipHash with fixed keys; `str` hashes end with a marker, so the
        // fields cannot run into each other.
        let mut hasher = std::hash::DefaultHasher::new();
        (
            row.committee_id,
            row.indicator_id,
            row.period_code.as_str(),
            row.breakdown.as_str(),
        )
            .hash(&mut hasher);
        self.hashes.push(hasher.finish());
    }

    /// Whether two noted rows may have the same key.
    pub fn may_repeat(mut self) -> bool {
        if self.overflow {
            return true;
        }
        self.hashes.sort_unstable();
        self.hashes.windows(2).any(|pair| pair[0] == pair[1])
    }
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
    /// Rows that would write a value far from the committee's previous figure,
    /// the first ones (row, warning), in row order.
    pub warnings: Vec<(i64, PlausibilityWarning)>,
    pub warned_total: i64,
    /// No staged row was changed since it was staged, so the staging table
    /// still holds them in the order they were written (file order).
    pub untouched: bool,
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

/// Creates an empty staging table on this connection. It outlives transactions
/// (the file is staged before the write transaction); [`drop_staging`] removes it.
///
/// It has no index: rows are appended in file order (on SQLite `row_no` is the
/// rowid, so that order is also the table's), and the duplicate check builds
/// an index only when a file does repeat a figure.
pub fn create_staging(conn: &mut AnyConnection) -> QueryResult<()> {
    let backend = conn.backend();
    let (row_no, date, decimal) = match backend {
        BackendKind::Postgres => ("row_no BIGINT NOT NULL", "DATE", "NUMERIC"),
        BackendKind::Sqlite => ("row_no INTEGER PRIMARY KEY", "TEXT", "TEXT"),
    };
    conn.batch_execute(&format!(
        "DROP TABLE IF EXISTS import_staging;
         CREATE TEMPORARY TABLE import_staging (
             {row_no},
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

/// Runs `work`, which fills the staging table, in one ordinary (deferred)
/// transaction: one commit for all the inserts instead of one each. It
/// writes only the temporary table, so on SQLite it never takes the main
/// database's write lock, and other writers go on while a file is read.
pub fn staging_transaction<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(work)
}

/// Appends rows to the staging table, in `row_no` order.
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
            // One single-row insert, prepared once and cached by diesel (its
            // shape never changes), bound and stepped for each row: SQLite's
            // fastest way to load rows inside a transaction. A multi-row
            // insert would be parsed again for every batch.
            for row in rows {
                diesel::insert_into(import_staging::table)
                    .values(row)
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

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

/// Whether `query` (a `SELECT EXISTS (…) AS found`) found a row.
fn found(conn: &mut AnyConnection, query: &str) -> QueryResult<bool> {
    Ok(diesel::sql_query(query).get_result::<Found>(conn)?.found)
}

/// The key of a figure, between staged rows `s` and rows `t`.
const KEY: &str = "t.committee_id = s.committee_id AND t.indicator_id = s.indicator_id \
                   AND t.period_code = s.period_code AND t.breakdown = s.breakdown";

/// Marks what each staged row would do under `strategy`. `staged` is the
/// number of rows staged.
///
/// Rows that end up with no `action` are new figures to create: in a first
/// load that is every row, and leaving them unmarked spares a pass that would
/// rewrite the whole staging table.
#[allow(clippy::too_many_arguments)]
pub fn classify(
    conn: &mut AnyConnection,
    strategy: Strategy,
    scope: Option<&std::collections::HashSet<i64>>,
    max_rejected: i64,
    staged: i64,
    may_repeat: bool,
    plausibility: Plausibility,
) -> QueryResult<Classified> {
    let backend = conn.backend();
    if staged == 0 {
        return Ok(Classified::default());
    }
    // From here on no one else writes the figures of these committees, so
    // what is read below (which figures exist, their values and revisions)
    // is what the merge replaces.
    // (SQLite writers take turns anyway: spare it a pass over the rows.)
    if backend == BackendKind::Postgres {
        let committees: Vec<i64> = import_staging::table
            .select(import_staging::committee_id)
            .distinct()
            .load(conn)?;
        super::serialise_committee_writes(conn, committees)?;
    }
    // The stored figures the rows name (none to look for in an empty table).
    let mut existing = 0;
    if found(conn, "SELECT EXISTS (SELECT 1 FROM observations) AS found")? {
        existing = diesel::sql_query(format!(
            "UPDATE import_staging AS s SET existing_id = t.id, existing_revision = t.revision, existing_value = t.value,
                 existing_deleted = CASE WHEN t.deleted_at IS NULL THEN 0 ELSE 1 END
               FROM observations AS t WHERE {KEY}"
        ))
        .execute(conn)?;
    }
    // Scope before anything else: a row for a committee outside the caller's
    // scope is forbidden whatever else is wrong with it (403 before 409).
    let mut marked = 0;
    let mut forbidden = 0;
    if let Some(scope) = scope {
        // Ids come from the token's own scope, not from the request. An empty
        // scope grants nothing: every row is forbidden.
        let outside = if scope.is_empty() {
            "1 = 1".to_owned()
        } else {
            let ids: Vec<String> = scope.iter().map(i64::to_string).collect();
            format!("committee_id NOT IN ({})", ids.join(", "))
        };
        forbidden = diesel::sql_query(format!(
            "UPDATE import_staging SET action = 'reject', reject_code = 'forbidden' WHERE {outside}"
        ))
        .execute(conn)?;
        marked += forbidden;
    }
    // Figures repeated in the file: every row after the first is rejected.
    // Only looked for when the key hashes say there may be some.
    if may_repeat {
        conn.batch_execute(
            "CREATE INDEX import_staging_key ON import_staging (committee_id, indicator_id, period_code, breakdown, row_no)",
        )?;
        marked += diesel::sql_query(format!(
            "UPDATE import_staging AS s SET action = 'reject', reject_code = 'duplicate_in_file'
               WHERE s.action IS NULL AND EXISTS (SELECT 1 FROM import_staging AS t WHERE {KEY} AND t.row_no < s.row_no)"
        ))
        .execute(conn)?;
    }
    if found(
        conn,
        "SELECT EXISTS (SELECT 1 FROM period_locks WHERE unlocked_at IS NULL) AS found",
    )? {
        marked += diesel::sql_query(
            "UPDATE import_staging AS s SET action = 'reject', reject_code = 'locked'
               WHERE s.action IS NULL AND EXISTS (SELECT 1 FROM period_locks AS l WHERE l.unlocked_at IS NULL
                 AND l.committee_id = s.committee_id AND l.period_start <= s.period_start AND s.period_end <= l.period_end)",
        )
        .execute(conn)?;
    }
    if existing > 0 && matches!(strategy, Strategy::Update | Strategy::CreateAndUpdate) {
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
        marked += diesel::sql_query(format!(
            "UPDATE import_staging AS s SET action = 'unchanged' FROM observations AS t
               WHERE s.action IS NULL AND t.id = s.existing_id AND t.deleted_at IS NULL
                 AND t.value = s.value AND t.status = s.status AND t.qualifier = s.qualifier AND {}",
            nullable.join(" AND ")
        ))
        .execute(conn)?;
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
    let ((deleted_action, deleted_code), (live_action, live_code)) = (split(deleted), split(live));
    if existing > 0 {
        diesel::sql_query(format!(
            "UPDATE import_staging SET
                 action = CASE WHEN existing_deleted = 1 THEN {deleted_action} ELSE {live_action} END,
                 reject_code = CASE WHEN existing_deleted = 1 THEN {deleted_code} ELSE {live_code} END
               WHERE action IS NULL AND existing_id IS NOT NULL"
        ))
        .execute(conn)?;
    }
    if let Some(code) = new.strip_prefix("reject:") {
        diesel::sql_query(format!(
            "UPDATE import_staging SET action = 'reject', reject_code = '{code}'
               WHERE action IS NULL AND existing_id IS NULL"
        ))
        .execute(conn)?;
    }

    let (warnings, warned_total) = if strategy == Strategy::Delete
        || !found(conn, "SELECT EXISTS (SELECT 1 FROM observations) AS found")?
    {
        (Vec::new(), 0)
    } else {
        let (warnings, warned_total, refused) =
            check_plausibility(conn, plausibility, max_rejected)?;
        marked += refused;
        (warnings, warned_total)
    };

    if existing == 0 && marked == 0 && new == "create" {
        // A first load with nothing refused: every row creates a figure.
        return Ok(Classified {
            created: staged,
            warnings,
            warned_total,
            untouched: true,
            ..Classified::default()
        });
    }
    let counts: Vec<ActionCount> =
        diesel::sql_query("SELECT action, COUNT(*) AS n FROM import_staging GROUP BY action")
            .load(conn)?;
    let count: HashMap<String, i64> = counts
        .into_iter()
        .map(|c| (c.action.unwrap_or_else(|| "create".to_owned()), c.n))
        .collect();
    let get = |action: &str| count.get(action).copied().unwrap_or(0);
    let rejected_total = get("reject");
    let rejected = if rejected_total > 0 {
        import_staging::table
            .filter(import_staging::action.eq("reject"))
            .select((
                import_staging::row_no,
                import_staging::reject_code.assume_not_null(),
            ))
            .order(import_staging::row_no)
            .limit(max_rejected)
            .load::<(i64, String)>(conn)?
    } else {
        Vec::new()
    };
    Ok(Classified {
        created: get("create"),
        restored: get("restore"),
        updated: get("update"),
        unchanged: get("unchanged"),
        deleted: get("delete"),
        rejected,
        rejected_total,
        forbidden: forbidden as i64,
        warnings,
        warned_total,
        untouched: false,
    })
}

/// A staged row as an import's row listing shows it: the figure's codes, the
/// indicator's unit and scale, and what the row does (after [`classify`]).
#[derive(Debug, Clone, QueryableByName)]
pub struct StagedOutcome {
    #[diesel(sql_type = BigInt)]
    pub row_no: i64,
    #[diesel(sql_type = Text)]
    pub committee: String,
    #[diesel(sql_type = Text)]
    pub indicator: String,
    #[diesel(sql_type = Text)]
    pub period_code: String,
    #[diesel(sql_type = Text)]
    pub breakdown: String,
    /// In the indicator's unit and scale; none for a deletion that named no value.
    #[diesel(sql_type = Nullable<DbDecimal>)]
    pub value: Option<StoredDecimal>,
    #[diesel(sql_type = Text)]
    pub unit: String,
    #[diesel(sql_type = Integer)]
    pub scale: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub qualifier: String,
    /// `update`, `restore`, `unchanged`, `delete`, `reject`; none: a new figure.
    #[diesel(sql_type = Nullable<Text>)]
    pub action: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reject_code: Option<String>,
    /// The stored value the row replaces or deletes (any figure it names).
    #[diesel(sql_type = Nullable<DbDecimal>)]
    pub existing_value: Option<StoredDecimal>,
}

/// The first `limit` classified rows in row order: all of them, or with
/// `changes_only` those that are not `unchanged`. One statement over the
/// staging table (on SQLite in rowid order; on PostgreSQL a top-N sort).
pub fn staged_outcomes(
    conn: &mut AnyConnection,
    changes_only: bool,
    limit: i64,
) -> QueryResult<Vec<StagedOutcome>> {
    let filter = if changes_only {
        "WHERE s.action IS NULL OR s.action <> 'unchanged'"
    } else {
        ""
    };
    diesel::sql_query(format!(
        "SELECT s.row_no, c.code AS committee, i.code AS indicator, s.period_code, s.breakdown, s.value,
                i.unit, i.scale, s.status, s.qualifier, s.action, s.reject_code, s.existing_value
           FROM import_staging AS s
           JOIN committees AS c ON c.id = s.committee_id
           JOIN indicators AS i ON i.id = s.indicator_id
           {filter}
          ORDER BY s.row_no LIMIT {}",
        param(conn.backend(), 1)
    ))
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// How an import checks values against the previous figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plausibility {
    pub factor: Factor,
    /// A warning rejects the row (`implausible_change`) instead of letting it through.
    pub strict: bool,
}

#[derive(QueryableByName)]
struct Compared {
    #[diesel(sql_type = BigInt)]
    row_no: i64,
    #[diesel(sql_type = DbDecimal)]
    value: StoredDecimal,
    #[diesel(sql_type = BigInt)]
    previous_id: i64,
    #[diesel(sql_type = Text)]
    previous_period: String,
    #[diesel(sql_type = DbDecimal)]
    previous_value: StoredDecimal,
}

/// The first warnings (row, warning), their total, and the rows refused.
type PlausibilityFound = (Vec<(i64, PlausibilityWarning)>, i64, usize);

/// Compares every staged row that writes a value with the committee's latest
/// stored figure of the indicator before its period (same frequency and
/// breakdown), in one statement over the staging table (a correlated
/// subquery per row, on the figures' key index). SQL only narrows the rows
/// down, in floating point with a 1 % margin so that it never drops one;
/// the exact decision is `domain::plausibility`'s. Returns the first
/// `max_listed` warnings, their total and the rows refused (strict).
fn check_plausibility(
    conn: &mut AnyConnection,
    plausibility: Plausibility,
    max_listed: i64,
) -> QueryResult<PlausibilityFound> {
    let factor = plausibility.factor.get();
    let float = |column: &str| format!("CAST({column} AS DOUBLE PRECISION)");
    let (value, previous) = (float("s.value"), float("p.value"));
    let candidates: Vec<Compared> = diesel::sql_query(format!(
        "SELECT s.row_no, s.value, p.id AS previous_id, p.period_code AS previous_period, p.value AS previous_value
           FROM import_staging AS s JOIN observations AS p ON p.id = (
             SELECT t.id FROM observations AS t
              WHERE t.committee_id = s.committee_id AND t.indicator_id = s.indicator_id
                AND t.frequency = s.frequency AND t.breakdown = s.breakdown
                AND t.period_start < s.period_start AND t.deleted_at IS NULL
              ORDER BY t.period_start DESC LIMIT 1)
          WHERE s.value IS NOT NULL AND (s.action IS NULL OR s.action IN ('update', 'restore'))
            AND {value} * {previous} > 0
            AND (ABS({value}) * 1.01 > {factor} * ABS({previous}) OR {factor} * ABS({value}) < 1.01 * ABS({previous}))
          ORDER BY s.row_no"
    ))
    .load(conn)?;
    let mut warnings = Vec::new();
    let mut total = 0;
    let mut refused = Vec::new();
    for row in candidates {
        let previous = PreviousFigure {
            id: row.previous_id,
            period: row.previous_period,
            value: row.previous_value.0,
        };
        let Some(warning) = check_change(row.value.0, previous, plausibility.factor) else {
            continue;
        };
        total += 1;
        if plausibility.strict {
            refused.push(row.row_no);
        }
        if (warnings.len() as i64) < max_listed {
            warnings.push((row.row_no, warning));
        }
    }
    for chunk in refused.chunks(1000) {
        let rows: Vec<String> = chunk.iter().map(i64::to_string).collect();
        diesel::sql_query(format!(
            "UPDATE import_staging SET action = 'reject', reject_code = '{}' WHERE row_no IN ({})",
            crate::domain::plausibility::IMPLAUSIBLE_CHANGE,
            rows.join(", ")
        ))
        .execute(conn)?;
    }
    Ok((warnings, total, refused.len()))
}

/// Applies the classified rows: updates, restores, deletions and creations,
/// each with its revision, then recomputes the group totals they enter (in
/// bulk, see `db::rollups`). Rejected and unchanged rows change nothing.
pub fn apply(
    conn: &mut AnyConnection,
    classified: &Classified,
    at: NaiveDateTime,
    changed_by: &str,
    token_id: Option<i64>,
    reason: Option<&str>,
) -> QueryResult<()> {
    apply_rows(conn, classified, at, changed_by, token_id, reason)?;
    let changed =
        classified.created + classified.updated + classified.restored + classified.deleted;
    let analyze = conn.backend() == BackendKind::Postgres && changed >= ANALYZE_AFTER_ROWS;
    if analyze {
        // The rollups below read what was just written, and every later
        // query plans with these statistics.
        conn.batch_execute("ANALYZE observations, observation_revisions")?;
    }
    if changed > 0 {
        super::rollups::staged_figures_changed(conn)?;
    }
    if analyze {
        conn.batch_execute("ANALYZE group_rollups")?;
    }
    Ok(())
}

/// An import that changes at least this many figures refreshes PostgreSQL's
/// planner statistics of the tables it wrote, in its own transaction (which
/// ANALYZE samples, its own new rows included). Autovacuum would do it later,
/// or never where it is off; until then the planner takes a freshly loaded
/// table for empty, and picks plans that read it whole per row of a join (an
/// export of 10M imported figures: 10 s per period instead of 1). It costs
/// about a second at 10M figures, a sample of 30,000 rows per table.
pub const ANALYZE_AFTER_ROWS: i64 = 1_000;

/// The figures' part of [`apply`]. Statements with no row to change are not run.
fn apply_rows(
    conn: &mut AnyConnection,
    classified: &Classified,
    at: NaiveDateTime,
    changed_by: &str,
    token_id: Option<i64>,
    reason: Option<&str>,
) -> QueryResult<()> {
    let backend = conn.backend();
    let (p1, p2, p3, p4, p5) = (
        param(backend, 1),
        param(backend, 2),
        param(backend, 3),
        param(backend, 4),
        param(backend, 5),
    );
    let state = "value = s.value, status = s.status, qualifier = s.qualifier, \
                 reported_yoy_pct = s.reported_yoy_pct, reported_yoy_qualifier = s.reported_yoy_qualifier, \
                 reported_share_pct = s.reported_share_pct, reported_share_qualifier = s.reported_share_qualifier, \
                 source_id = s.source_id, source_quote = s.source_quote";
    if classified.updated + classified.restored > 0 {
        diesel::sql_query(format!(
            "UPDATE observations SET {state}, revision = observations.revision + 1, deleted_at = NULL, updated_at = {p1}
               FROM import_staging AS s WHERE observations.id = s.existing_id AND s.action IN ('update', 'restore')"
        ))
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
    }
    if classified.deleted > 0 {
        diesel::sql_query(format!(
            "UPDATE observations SET revision = observations.revision + 1, deleted_at = {p1}, updated_at = {p1}
               FROM import_staging AS s WHERE observations.id = s.existing_id AND s.action = 'delete'"
        ))
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
    }
    let revision_columns = "observation_id, revision, action, value, previous_value, status, qualifier, \
                            reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, reported_share_qualifier, \
                            source_id, source_quote, changed_at, changed_by, reason, token_id";
    let state_columns =
        "value, status, qualifier, reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, \
                         reported_share_qualifier, source_id, source_quote";
    if classified.updated + classified.restored + classified.deleted > 0 {
        // The changed figures are found by id, through the staged rows.
        diesel::sql_query(format!(
            "INSERT INTO observation_revisions ({revision_columns})
               SELECT o.id, o.revision, s.action, o.value, s.existing_value, o.status, o.qualifier,
                 o.reported_yoy_pct, o.reported_yoy_qualifier, o.reported_share_pct, o.reported_share_qualifier,
                 o.source_id, o.source_quote, {p1}, {p2}, {p3}, {p4}
               FROM import_staging AS s JOIN observations AS o ON o.id = s.existing_id
               WHERE s.action IN ('update', 'restore', 'delete') ORDER BY s.row_no"
        ))
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>(changed_by)
        .bind::<Nullable<Text>, _>(reason)
        .bind::<Nullable<BigInt>, _>(token_id)
        .execute(conn)?;
    }
    if classified.created == 0 {
        return Ok(());
    }
    // New figures: the staged rows with no action, in file order. Their
    // revisions are made from the inserted rows themselves, with no lookup
    // by key.
    let columns = "committee_id, indicator_id, period_code, frequency, period_start, period_end, breakdown, value, \
                   status, qualifier, reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, \
                   reported_share_qualifier, source_id, source_quote";
    let insert = |order: &str| {
        format!(
            "INSERT INTO observations ({columns}, revision, created_at, updated_at)
               SELECT {columns}, 1, {p1}, {p1} FROM import_staging WHERE action IS NULL{order}"
        )
    };
    match backend {
        BackendKind::Postgres => {
            // Ids follow the file. A PostgreSQL temporary table is read from
            // its first page, never by a synchronised or parallel scan, so
            // rows that were only appended by COPY come back in file order;
            // sorting a million wide rows would spill to disk. Once a staged
            // row was updated it may have moved, and the rows are sorted.
            let insert = insert(if classified.untouched {
                ""
            } else {
                " ORDER BY row_no"
            });
            // The revisions take the rows the insert returns.
            diesel::sql_query(format!(
                "WITH created AS ({insert} RETURNING id, revision, {state_columns})
                 INSERT INTO observation_revisions ({revision_columns})
                   SELECT id, revision, 'create', value, CAST(NULL AS NUMERIC), status, qualifier,
                     reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, reported_share_qualifier,
                     source_id, source_quote, {p1}, {p2}, {p3}, {p4}
                   FROM created"
            ))
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(changed_by)
            .bind::<Nullable<Text>, _>(reason)
            .bind::<Nullable<BigInt>, _>(token_id)
            .execute(conn)?;
        }
        BackendKind::Sqlite => {
            // SQLite has no RETURNING into another statement. The import holds
            // the database's only write transaction, and AUTOINCREMENT ids only
            // grow, so the new rows are exactly those above the highest id.
            let before: Option<i64> = observations::table
                .select(diesel::dsl::max(observations::id))
                .get_result(conn)?;
            // `row_no` is the rowid: this order costs nothing.
            diesel::sql_query(insert(" ORDER BY row_no"))
                .bind::<Timestamp, _>(at)
                .execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO observation_revisions ({revision_columns})
                   SELECT id, revision, 'create', value, NULL, status, qualifier,
                     reported_yoy_pct, reported_yoy_qualifier, reported_share_pct, reported_share_qualifier,
                     source_id, source_quote, {p1}, {p2}, {p3}, {p4}
                   FROM observations WHERE id > {p5} ORDER BY id"
            ))
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(changed_by)
            .bind::<Nullable<Text>, _>(reason)
            .bind::<Nullable<BigInt>, _>(token_id)
            .bind::<BigInt, _>(before.unwrap_or(0))
            .execute(conn)?;
        }
    }
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{KeyHashes, StagedRow};

    fn row(row_no: i64, committee_id: i64, period_code: &str, breakdown: &str) -> StagedRow {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        StagedRow {
            row_no,
            committee_id,
            indicator_id: 1,
            period_code: period_code.into(),
            frequency: "quarterly".into(),
            period_start: day,
            period_end: day,
            breakdown: breakdown.into(),
            value: None,
            status: "A".into(),
            qualifier: "exact".into(),
            reported_yoy_pct: None,
            reported_yoy_qualifier: None,
            reported_share_pct: None,
            reported_share_qualifier: None,
            source_id: None,
            source_quote: None,
        }
    }

    #[test]
    fn key_hashes_see_a_repeated_figure_and_only_that() {
        let distinct = [
            row(2, 1, "2024-Q1", ""),
            row(3, 1, "2024-Q2", ""),
            row(4, 2, "2024-Q1", ""),
            row(5, 1, "2024-Q1", "sex=female"),
            // The fields cannot run into each other.
            row(6, 1, "2024-Q1s", "ex=female"),
        ];
        let mut keys = KeyHashes::default();
        distinct.iter().for_each(|r| keys.add(r));
        assert!(!keys.may_repeat());

        let mut keys = KeyHashes::default();
        distinct.iter().for_each(|r| keys.add(r));
        // Same figure, another row and value: a repeat.
        keys.add(&row(9, 2, "2024-Q1", ""));
        assert!(keys.may_repeat());

        assert!(!KeyHashes::default().may_repeat());
    }
}
