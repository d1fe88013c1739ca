//! Groups of committees (many-to-many), e.g. the seven northern business blocs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::committees::CommitteeRow;
use super::schema::{committee_group_members, committee_groups, committees};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = committee_groups)]
pub struct GroupRow {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub description: Option<String>,
    pub source_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = committee_groups, treat_none_as_null = true)]
pub struct GroupChanges<'a> {
    pub name_vi: &'a str,
    pub name_en: &'a str,
    pub description: Option<&'a str>,
    pub source_id: Option<i64>,
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<GroupRow>> {
    committee_groups::table
        .order(committee_groups::code)
        .select(GroupRow::as_select())
        .load(conn)
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<GroupRow>> {
    committee_groups::table
        .filter(committee_groups::code.eq(code))
        .select(GroupRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert(
    conn: &mut AnyConnection,
    code: &str,
    changes: GroupChanges<'_>,
) -> QueryResult<GroupRow> {
    let now = super::now();
    diesel::insert_into(committee_groups::table)
        .values((
            committee_groups::code.eq(code),
            changes,
            committee_groups::created_at.eq(now),
            committee_groups::updated_at.eq(now),
        ))
        .returning(committee_groups::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    changes: GroupChanges<'_>,
) -> QueryResult<GroupRow> {
    diesel::update(committee_groups::table.find(id))
        .set((changes, committee_groups::updated_at.eq(super::now())))
        .returning(committee_groups::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

/// Members of a group, ordered by code.
pub fn members(conn: &mut AnyConnection, group_id: i64) -> QueryResult<Vec<CommitteeRow>> {
    committee_group_members::table
        .inner_join(committees::table)
        .filter(committee_group_members::group_id.eq(group_id))
        .order(committees::code)
        .select(CommitteeRow::as_select())
        .load(conn)
}

/// The ids and codes of a group's members, by code: what a total over the
/// group needs of them (a national group has a member per committee).
pub fn member_codes(conn: &mut AnyConnection, group_id: i64) -> QueryResult<Vec<(i64, String)>> {
    committee_group_members::table
        .inner_join(committees::table)
        .filter(committee_group_members::group_id.eq(group_id))
        .order(committees::code)
        .select((committees::id, committees::code))
        .load(conn)
}

/// Member counts of every group, in one query.
pub fn member_counts(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, i64)>> {
    committee_group_members::table
        .group_by(committee_group_members::group_id)
        .select((committee_group_members::group_id, diesel::dsl::count_star()))
        .load(conn)
}

pub fn is_member(conn: &mut AnyConnection, group_id: i64, committee_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        committee_group_members::table
            .filter(committee_group_members::group_id.eq(group_id))
            .filter(committee_group_members::committee_id.eq(committee_id)),
    ))
    .get_result(conn)
}

/// Adds a member; returns false if it was a member already.
pub fn add_member(conn: &mut AnyConnection, group_id: i64, committee_id: i64) -> QueryResult<bool> {
    if is_member(conn, group_id, committee_id)? {
        return Ok(false);
    }
    diesel::insert_into(committee_group_members::table)
        .values((
            committee_group_members::group_id.eq(group_id),
            committee_group_members::committee_id.eq(committee_id),
        ))
        .execute(conn)?;
    super::rollups::membership_changed(conn, group_id, &[committee_id])?;
    Ok(true)
}

/// Adds members to a group (those that are members already stay), then
/// rebuilds the group's totals once: cheaper than one recomputation per
/// member when a group is made.
pub fn add_members(
    conn: &mut AnyConnection,
    group_id: i64,
    committee_ids: &[i64],
) -> QueryResult<()> {
    super::write_transaction(conn, |conn| {
        // Before the membership is visible: no write of these committees'
        // figures may run between the change and the rebuild.
        super::serialise_committee_writes(conn, committee_ids.iter().copied())?;
        for committee_id in committee_ids {
            if !is_member(conn, group_id, *committee_id)? {
                diesel::insert_into(committee_group_members::table)
                    .values((
                        committee_group_members::group_id.eq(group_id),
                        committee_group_members::committee_id.eq(*committee_id),
                    ))
                    .execute(conn)?;
            }
        }
        super::rollups::rebuild_group(conn, group_id)
    })
}

/// Removes a member; returns false if it was not a member.
pub fn remove_member(
    conn: &mut AnyConnection,
    group_id: i64,
    committee_id: i64,
) -> QueryResult<bool> {
    let removed = diesel::delete(
        committee_group_members::table
            .filter(committee_group_members::group_id.eq(group_id))
            .filter(committee_group_members::committee_id.eq(committee_id)),
    )
    .execute(conn)?;
    if removed > 0 {
        super::rollups::membership_changed(conn, group_id, &[committee_id])?;
    }
    Ok(removed > 0)
}

/// The groups a committee is a member of.
pub fn groups_of(conn: &mut AnyConnection, committee_id: i64) -> QueryResult<Vec<i64>> {
    committee_group_members::table
        .filter(committee_group_members::committee_id.eq(committee_id))
        .select(committee_group_members::group_id)
        .load(conn)
}

// RETURNING a whole row is not available through diesel's MultiConnection
// (its returning clause must be valid for every backend at once), so writes
// return the id and the row is read back.
fn find_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<GroupRow> {
    committee_groups::table
        .find(id)
        .select(GroupRow::as_select())
        .get_result(conn)
}
