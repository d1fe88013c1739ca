//! Committees and the questions asked about them before changing them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{committees, observations, targets};
use super::AnyConnection;
use crate::domain::committee::CommitteeKind;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = committees)]
pub struct CommitteeRow {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    #[diesel(deserialize_as = String)]
    pub kind: CommitteeKind,
    pub parent_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The fields a client sets on a committee.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = committees, treat_none_as_null = true)]
pub struct CommitteeChanges<'a> {
    pub name_vi: &'a str,
    pub name_en: &'a str,
    #[diesel(serialize_as = String)]
    pub kind: CommitteeKind,
    pub parent_id: Option<i64>,
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<CommitteeRow>> {
    committees::table
        .order(committees::code)
        .select(CommitteeRow::as_select())
        .load(conn)
}

/// At most `limit` committees in code order after the code `after` (from the
/// first without it), only those of `only` when given: one page of a list
/// whose cost is the page's, not the number of committees.
pub fn page(
    conn: &mut AnyConnection,
    after: Option<&str>,
    only: Option<&[i64]>,
    limit: i64,
) -> QueryResult<Vec<CommitteeRow>> {
    let mut query = committees::table.into_boxed();
    if let Some(after) = after {
        query = query.filter(committees::code.gt(after.to_owned()));
    }
    if let Some(ids) = only {
        query = query.filter(committees::id.eq_any(ids.to_vec()));
    }
    query
        .order(committees::code)
        .limit(limit)
        .select(CommitteeRow::as_select())
        .load(conn)
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<CommitteeRow>> {
    committees::table
        .filter(committees::code.eq(code))
        .select(CommitteeRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<CommitteeRow> {
    committees::table
        .find(id)
        .select(CommitteeRow::as_select())
        .get_result(conn)
}

pub fn insert(
    conn: &mut AnyConnection,
    code: &str,
    changes: CommitteeChanges<'_>,
) -> QueryResult<CommitteeRow> {
    let now = super::now();
    diesel::insert_into(committees::table)
        .values((
            committees::code.eq(code),
            changes,
            committees::created_at.eq(now),
            committees::updated_at.eq(now),
        ))
        .returning(committees::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    changes: CommitteeChanges<'_>,
) -> QueryResult<CommitteeRow> {
    diesel::update(committees::table.find(id))
        .set((changes, committees::updated_at.eq(super::now())))
        .returning(committees::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

/// The committees and every committee below them, as the tree stands now.
pub fn with_descendants(
    conn: &mut AnyConnection,
    roots: &[i64],
) -> QueryResult<std::collections::BTreeSet<i64>> {
    let rows: Vec<(i64, Option<i64>)> = committees::table
        .select((committees::id, committees::parent_id))
        .load(conn)?;
    let mut children: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for (id, parent) in &rows {
        if let Some(parent) = parent {
            children.entry(*parent).or_default().push(*id);
        }
    }
    let mut found = std::collections::BTreeSet::new();
    let mut stack: Vec<i64> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if found.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    Ok(found)
}

/// Whether `ancestor` is `id` or one of its ancestors (to refuse parent cycles).
pub fn is_self_or_ancestor(conn: &mut AnyConnection, id: i64, ancestor: i64) -> QueryResult<bool> {
    let mut current = Some(ancestor);
    // Bounded walk: a chain longer than the table would mean a cycle already.
    for _ in 0..=10_000 {
        match current {
            None => return Ok(false),
            Some(c) if c == id => return Ok(true),
            Some(c) => current = find(conn, c)?.parent_id,
        }
    }
    Ok(true)
}

/// What still refers to a committee, counted, so a refusal can say why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dependents {
    pub observations: i64,
    pub targets: i64,
    pub children: i64,
}

impl Dependents {
    pub fn any(&self) -> bool {
        self.observations + self.targets + self.children > 0
    }
}

pub fn dependents(conn: &mut AnyConnection, id: i64) -> QueryResult<Dependents> {
    Ok(Dependents {
        // Deleted observations count too: their revision history refers to the committee.
        observations: observations::table
            .filter(observations::committee_id.eq(id))
            .count()
            .get_result(conn)?,
        targets: targets::table
            .filter(targets::committee_id.eq(id))
            .count()
            .get_result(conn)?,
        children: committees::table
            .filter(committees::parent_id.eq(id))
            .count()
            .get_result(conn)?,
    })
}

/// Deletes a committee and its group memberships.
pub fn delete(conn: &mut AnyConnection, id: i64) -> QueryResult<()> {
    let groups = super::groups::groups_of(conn, id)?;
    diesel::delete(super::schema::committee_group_members::table)
        .filter(super::schema::committee_group_members::committee_id.eq(id))
        .execute(conn)?;
    for group_id in groups {
        super::rollups::membership_changed(conn, group_id, &[id])?;
    }
    diesel::delete(committees::table.find(id)).execute(conn)?;
    Ok(())
}

// RETURNING a whole row is not available through diesel's MultiConnection
// (its returning clause must be valid for every backend at once), so writes
// return the id and the row is read back.
fn find_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<CommitteeRow> {
    committees::table
        .find(id)
        .select(CommitteeRow::as_select())
        .get_result(conn)
}

/// Codes of these committees, by id.
pub fn codes_by_id(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    committees::table
        .filter(committees::id.eq_any(ids))
        .select((committees::id, committees::code))
        .load(conn)
}

/// Up to `limit` committees' ids and codes in code order, after `after` (from
/// the first when `None`): a page of committees read by the unique code index.
pub fn codes_after(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(i64, String)>> {
    let mut query = committees::table
        .select((committees::id, committees::code))
        .order(committees::code)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(committees::code.gt(after.to_owned()));
    }
    query.load(conn)
}
