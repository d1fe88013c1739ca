//! Group totals kept current on write (issue 14): one row per group ×
//! indicator × period with the total over the members' figures stored for
//! exactly that period ([`stored_total`], the one rule), and how many
//! members have one.
//!
//! The resolver answers a stored figure with that figure, so when every
//! member has one (and no `as_of` is asked) the group's total for the period
//! *is* the row: a request reads one row per period instead of every
//! member's figures. Otherwise the analysis falls back to the members.
//!
//! Every write of figures recomputes, in its own transaction, the rows of
//! the groups of the committees it wrote ([`figures_changed`],
//! [`staged_figures_changed`] for an import), and a membership change those
//! of its group ([`membership_changed`]). A row is recomputed from the
//! figures as they are now, never adjusted by a difference: qualifiers and
//! statuses do not subtract, and the ids list follows member order. Only
//! totals are kept (no breakdowns): the resolver, and so every group total,
//! reads totals only.
//!
//! Concurrency (PostgreSQL): writers of different committees of one group
//! would each recompute a row from a snapshot without the other's figure. A
//! transaction-level advisory lock per group, taken after the committee
//! locks (committees ascending, then groups ascending: no circle), makes the
//! second wait until the first commits; under READ COMMITTED its reads then
//! see the first's figure. SQLite writers take turns anyway.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::connection::BackendKind;
use super::decimal::StoredDecimal;
use super::schema::{
    committee_group_members, committee_groups, committees, group_rollups, observations,
    rollup_state,
};
use super::{write_transaction, AnyConnection};
use crate::domain::period::PeriodCode;
use crate::domain::resolve::{stored_total, Resolved, StoredFigure};
use crate::domain::value::{ObservationStatus, Qualifier};

/// Version of what the rows hold. Bump it when [`stored_total`] or what it
/// reads changes: every database then rebuilds its rollups at the next start.
pub const ROLLUP_VERSION: i32 = 1;

/// First key of the PostgreSQL advisory locks on a group's rollups (the
/// second is the group id); distinct from the committee write locks' class.
const GROUP_ROLLUP_LOCK_CLASS: i32 = 0x6772; // "gr"

/// At most this many codes in one `IN` list (SQLite binds at most 32766).
const CHUNK: usize = 500;

/// A group's total of one indicator in one period, over the members' stored figures.
#[derive(Debug, Clone)]
pub struct Rollup {
    pub total: Resolved,
    /// How many members have a figure stored for exactly this period.
    pub members_stored: usize,
}

#[derive(Insertable)]
#[diesel(table_name = group_rollups, treat_none_as_default_value = false)]
struct NewRollup {
    group_id: i64,
    indicator_id: i64,
    period_code: String,
    members_stored: i64,
    total: String,
}

fn corrupt(message: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(message.into())
}

fn parse_period(code: &str) -> QueryResult<PeriodCode> {
    PeriodCode::parse(code).map_err(|e| corrupt(format!("stored period {code:?}: {e}")))
}

/// Makes the rest of the transaction the only one recomputing these groups' rollups.
fn lock_groups(conn: &mut AnyConnection, group_ids: &BTreeSet<i64>) -> QueryResult<()> {
    if conn.backend() == BackendKind::Sqlite {
        return Ok(());
    }
    for id in group_ids {
        // Ids beyond i32 share a lock with another group: they only take turns.
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(GROUP_ROLLUP_LOCK_CLASS)
            .bind::<diesel::sql_types::Integer, _>(*id as i32)
            .execute(conn)?;
    }
    Ok(())
}

/// The position of each member in the order a group total adds them: by
/// code, the order of `groups::members` (and so of the `from` ids).
fn member_positions(conn: &mut AnyConnection, group_id: i64) -> QueryResult<HashMap<i64, usize>> {
    let ids: Vec<i64> = committee_group_members::table
        .inner_join(committees::table)
        .filter(committee_group_members::group_id.eq(group_id))
        .order(committees::code)
        .select(committees::id)
        .load(conn)?;
    Ok(ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect())
}

type FigureColumns = (i64, String, i64, StoredDecimal, String, String);

/// The live total figures of one indicator stored by members of the group,
/// for these periods (all: `None`), as (member position, figure) by period.
fn member_figures(
    conn: &mut AnyConnection,
    group_id: i64,
    positions: &HashMap<i64, usize>,
    indicator_id: i64,
    periods: Option<&[String]>,
) -> QueryResult<BTreeMap<PeriodCode, Vec<(usize, StoredFigure)>>> {
    let mut by_period: BTreeMap<PeriodCode, Vec<(usize, StoredFigure)>> = BTreeMap::new();
    // Each code is parsed once, not once per member (an import reads many).
    let mut parsed: HashMap<String, PeriodCode> = HashMap::new();
    let chunks: Vec<Option<&[String]>> = match periods {
        None => vec![None],
        Some(codes) => codes.chunks(CHUNK).map(Some).collect(),
    };
    for chunk in chunks {
        let mut query = observations::table
            .filter(
                observations::committee_id.eq_any(
                    committee_group_members::table
                        .filter(committee_group_members::group_id.eq(group_id))
                        .select(committee_group_members::committee_id),
                ),
            )
            .filter(observations::indicator_id.eq(indicator_id))
            .filter(observations::breakdown.eq(""))
            .filter(observations::deleted_at.is_null())
            .into_boxed();
        if let Some(codes) = chunk {
            query = query.filter(observations::period_code.eq_any(codes));
        }
        let rows: Vec<FigureColumns> = query
            .select((
                observations::committee_id,
                observations::period_code,
                observations::id,
                observations::value,
                observations::status,
                observations::qualifier,
            ))
            .load(conn)?;
        for (committee_id, period, id, value, status, qualifier) in rows {
            let Some(position) = positions.get(&committee_id) else {
                continue;
            };
            let period = match parsed.get(&period) {
                Some(code) => *code,
                None => {
                    let code = parse_period(&period)?;
                    parsed.insert(period, code);
                    code
                }
            };
            let figure = StoredFigure {
                id,
                period,
                value: value.0,
                status: status
                    .parse::<ObservationStatus>()
                    .map_err(|e| corrupt(e.to_string()))?,
                qualifier: qualifier
                    .parse::<Qualifier>()
                    .map_err(|e| corrupt(e.to_string()))?,
            };
            by_period
                .entry(period)
                .or_default()
                .push((*position, figure));
        }
    }
    Ok(by_period)
}

/// Recomputes the group's rows of one indicator: for `periods`, or (`None`)
/// all of them. A period no member has a figure for has no row.
fn recompute(
    conn: &mut AnyConnection,
    group_id: i64,
    positions: &HashMap<i64, usize>,
    indicator_id: i64,
    periods: Option<&BTreeSet<PeriodCode>>,
) -> QueryResult<()> {
    let codes: Option<Vec<String>> =
        periods.map(|periods| periods.iter().map(PeriodCode::code).collect());
    let figures = member_figures(conn, group_id, positions, indicator_id, codes.as_deref())?;
    let mut rows = Vec::with_capacity(figures.len());
    for (period, mut members) in figures {
        members.sort_by_key(|(position, _)| *position);
        let members: Vec<StoredFigure> = members.into_iter().map(|(_, figure)| figure).collect();
        let (total, count) = stored_total(&period, &members);
        rows.push(NewRollup {
            group_id,
            indicator_id,
            period_code: period.code(),
            members_stored: count as i64,
            total: serde_json::to_string(&total)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
        });
    }
    match &codes {
        None => {
            diesel::delete(group_rollups::table)
                .filter(group_rollups::group_id.eq(group_id))
                .filter(group_rollups::indicator_id.eq(indicator_id))
                .execute(conn)?;
        }
        Some(codes) => {
            for chunk in codes.chunks(CHUNK) {
                diesel::delete(group_rollups::table)
                    .filter(group_rollups::group_id.eq(group_id))
                    .filter(group_rollups::indicator_id.eq(indicator_id))
                    .filter(group_rollups::period_code.eq_any(chunk))
                    .execute(conn)?;
            }
        }
    }
    insert_rows(conn, &rows)
}

/// Writes rollup rows: PostgreSQL copies them in one `COPY` (an import
/// writes hundreds of thousands; one round trip each would dominate it),
/// SQLite steps one prepared single-row insert per row.
fn insert_rows(conn: &mut AnyConnection, rows: &[NewRollup]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgres(pg) => {
            diesel::copy_from(group_rollups::table)
                .from_insertable(rows)
                .execute(pg)?;
        }
        AnyConnection::Sqlite(sqlite) => {
            for row in rows {
                diesel::insert_into(group_rollups::table)
                    .values(row)
                    .execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// Recomputes these (indicator, period) rows of each group, after locking the groups.
fn recompute_keys(
    conn: &mut AnyConnection,
    keys: BTreeMap<i64, BTreeMap<i64, BTreeSet<PeriodCode>>>,
) -> QueryResult<()> {
    lock_groups(conn, &keys.keys().copied().collect())?;
    for (group_id, indicators) in keys {
        let positions = member_positions(conn, group_id)?;
        for (indicator_id, periods) in indicators {
            recompute(conn, group_id, &positions, indicator_id, Some(&periods))?;
        }
    }
    Ok(())
}

/// Recomputes the rollups that figures of these committee × indicator ×
/// period (totals only) enter. Call it inside the write's transaction, after
/// the write and after the committees' write locks.
pub fn figures_changed(
    conn: &mut AnyConnection,
    figures: &[(i64, i64, PeriodCode)],
) -> QueryResult<()> {
    if figures.is_empty() {
        return Ok(());
    }
    let mut committee_ids: Vec<i64> = figures.iter().map(|(c, _, _)| *c).collect();
    committee_ids.sort_unstable();
    committee_ids.dedup();
    let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in committee_ids.chunks(CHUNK) {
        let memberships: Vec<(i64, i64)> = committee_group_members::table
            .filter(committee_group_members::committee_id.eq_any(chunk))
            .select((
                committee_group_members::committee_id,
                committee_group_members::group_id,
            ))
            .load(conn)?;
        for (committee_id, group_id) in memberships {
            groups_of.entry(committee_id).or_default().push(group_id);
        }
    }
    let mut keys: BTreeMap<i64, BTreeMap<i64, BTreeSet<PeriodCode>>> = BTreeMap::new();
    for (committee_id, indicator_id, period) in figures {
        for group_id in groups_of.get(committee_id).into_iter().flatten() {
            keys.entry(*group_id)
                .or_default()
                .entry(*indicator_id)
                .or_default()
                .insert(*period);
        }
    }
    recompute_keys(conn, keys)
}

#[derive(QueryableByName)]
struct StagedKey {
    #[diesel(sql_type = BigInt)]
    group_id: i64,
    #[diesel(sql_type = BigInt)]
    indicator_id: i64,
    #[diesel(sql_type = Text)]
    period_code: String,
}

/// Recomputes the rollups that an import's merged rows (the staging table of
/// `db::imports`: created, updated, restored and deleted totals) enter, in
/// bulk: the distinct group × indicator × period they touch, then per group
/// and indicator one read of the members' figures.
pub fn staged_figures_changed(conn: &mut AnyConnection) -> QueryResult<()> {
    let touched: Vec<StagedKey> = diesel::sql_query(
        "SELECT DISTINCT m.group_id, s.indicator_id, s.period_code
           FROM import_staging AS s
           JOIN committee_group_members AS m ON m.committee_id = s.committee_id
          WHERE s.breakdown = '' AND (s.action IS NULL OR s.action IN ('update', 'restore', 'delete'))",
    )
    .load(conn)?;
    let mut keys: BTreeMap<i64, BTreeMap<i64, BTreeSet<PeriodCode>>> = BTreeMap::new();
    for key in touched {
        keys.entry(key.group_id)
            .or_default()
            .entry(key.indicator_id)
            .or_default()
            .insert(parse_period(&key.period_code)?);
    }
    recompute_keys(conn, keys)
}

/// Recomputes a group's rollups after these committees joined or left it:
/// the rows their figures enter (the others' sums did not change). Takes
/// the committees' write locks, so no write of their figures runs between
/// the membership change and the recomputation.
pub fn membership_changed(
    conn: &mut AnyConnection,
    group_id: i64,
    committee_ids: &[i64],
) -> QueryResult<()> {
    super::serialise_committee_writes(conn, committee_ids.iter().copied())?;
    let mut keys: BTreeMap<i64, BTreeSet<PeriodCode>> = BTreeMap::new();
    for chunk in committee_ids.chunks(CHUNK) {
        let figures: Vec<(i64, String)> = observations::table
            .filter(observations::committee_id.eq_any(chunk))
            .filter(observations::breakdown.eq(""))
            .filter(observations::deleted_at.is_null())
            .select((observations::indicator_id, observations::period_code))
            .distinct()
            .load(conn)?;
        for (indicator_id, period) in figures {
            keys.entry(indicator_id)
                .or_default()
                .insert(parse_period(&period)?);
        }
    }
    recompute_keys(conn, BTreeMap::from([(group_id, keys)]))
}

/// Rebuilds every rollup of a group from its members' figures.
pub fn rebuild_group(conn: &mut AnyConnection, group_id: i64) -> QueryResult<()> {
    lock_groups(conn, &BTreeSet::from([group_id]))?;
    let positions = member_positions(conn, group_id)?;
    // Rows of indicators no member has a figure of any more go too.
    diesel::delete(group_rollups::table)
        .filter(group_rollups::group_id.eq(group_id))
        .execute(conn)?;
    let indicator_ids: Vec<i64> = observations::table
        .filter(
            observations::committee_id.eq_any(
                committee_group_members::table
                    .filter(committee_group_members::group_id.eq(group_id))
                    .select(committee_group_members::committee_id),
            ),
        )
        .filter(observations::breakdown.eq(""))
        .filter(observations::deleted_at.is_null())
        .select(observations::indicator_id)
        .distinct()
        .load(conn)?;
    // One indicator at a time: memory is bounded by one indicator's figures.
    for indicator_id in indicator_ids {
        recompute(conn, group_id, &positions, indicator_id, None)?;
    }
    Ok(())
}

/// Rebuilds every group's rollups and records the version they are built
/// with, in one write transaction. Returns the number of groups.
pub fn rebuild_all(conn: &mut AnyConnection) -> QueryResult<usize> {
    write_transaction(conn, |conn| {
        let group_ids: Vec<i64> = committee_groups::table
            .select(committee_groups::id)
            .order(committee_groups::id)
            .load(conn)?;
        for group_id in &group_ids {
            rebuild_group(conn, *group_id)?;
        }
        diesel::delete(rollup_state::table).execute(conn)?;
        diesel::insert_into(rollup_state::table)
            .values((
                rollup_state::id.eq(1),
                rollup_state::version.eq(ROLLUP_VERSION),
            ))
            .execute(conn)?;
        Ok(group_ids.len())
    })
}

/// Rebuilds the rollups unless they were built with this version (after the
/// migration that adds them, or a change of the rule). Returns whether it did.
pub fn ensure_current(conn: &mut AnyConnection) -> QueryResult<bool> {
    let version: Option<i32> = rollup_state::table
        .select(rollup_state::version)
        .first(conn)
        .optional()?;
    if version == Some(ROLLUP_VERSION) {
        return Ok(false);
    }
    rebuild_all(conn)?;
    Ok(true)
}

/// The group's rollups of these indicators and periods (canonical codes).
pub fn read(
    conn: &mut AnyConnection,
    group_id: i64,
    indicator_ids: &[i64],
    period_codes: &[String],
) -> QueryResult<HashMap<(i64, PeriodCode), Rollup>> {
    let mut found = HashMap::new();
    for chunk in period_codes.chunks(CHUNK) {
        let rows: Vec<(i64, String, i64, String)> = group_rollups::table
            .filter(group_rollups::group_id.eq(group_id))
            .filter(group_rollups::indicator_id.eq_any(indicator_ids))
            .filter(group_rollups::period_code.eq_any(chunk))
            .select((
                group_rollups::indicator_id,
                group_rollups::period_code,
                group_rollups::members_stored,
                group_rollups::total,
            ))
            .load(conn)?;
        for (indicator_id, period, members_stored, total) in rows {
            let total: Resolved = serde_json::from_str(&total)
                .map_err(|e| corrupt(format!("stored rollup of {period}: {e}")))?;
            found.insert(
                (indicator_id, parse_period(&period)?),
                Rollup {
                    total,
                    members_stored: usize::try_from(members_stored).unwrap_or(0),
                },
            );
        }
    }
    Ok(found)
}

/// A stored rollup: group, indicator, period code, members stored, total (JSON).
pub type RollupRow = (i64, i64, String, i64, String);

/// Every rollup row, for tests that compare them with a rebuild.
pub fn all_rows(conn: &mut AnyConnection) -> QueryResult<Vec<RollupRow>> {
    group_rollups::table
        .order((
            group_rollups::group_id,
            group_rollups::indicator_id,
            group_rollups::period_code,
        ))
        .select((
            group_rollups::group_id,
            group_rollups::indicator_id,
            group_rollups::period_code,
            group_rollups::members_stored,
            group_rollups::total,
        ))
        .load(conn)
}
