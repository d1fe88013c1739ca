//! Locks: a committee × period closed to writes after approval.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{committees, period_locks};
use super::AnyConnection;
use crate::domain::period::PeriodCode;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = period_locks)]
pub struct LockRow {
    pub id: i64,
    pub committee_id: i64,
    #[diesel(deserialize_as = String)]
    pub period_code: PeriodCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub locked_by: String,
    pub reason: Option<String>,
    pub locked_at: NaiveDateTime,
    pub unlocked_by: Option<String>,
    pub unlocked_at: Option<NaiveDateTime>,
}

impl LockRow {
    /// Whether a figure of `period` falls inside the locked period.
    pub fn covers(&self, period: &PeriodCode) -> bool {
        self.period_start <= period.start() && period.end() <= self.period_end
    }
}

/// Active locks of these committees (all committees when empty).
pub fn active(conn: &mut AnyConnection, committee_ids: &[i64]) -> QueryResult<Vec<LockRow>> {
    let mut query = period_locks::table
        .filter(period_locks::unlocked_at.is_null())
        .into_boxed();
    if !committee_ids.is_empty() {
        query = query.filter(period_locks::committee_id.eq_any(committee_ids));
    }
    query
        .select(LockRow::as_select())
        .order(period_locks::id)
        .load(conn)
}

/// Every lock, active or lifted, with its committee code, newest first.
pub fn list(conn: &mut AnyConnection, include_lifted: bool) -> QueryResult<Vec<(LockRow, String)>> {
    let mut query = period_locks::table
        .inner_join(committees::table)
        .into_boxed();
    if !include_lifted {
        query = query.filter(period_locks::unlocked_at.is_null());
    }
    query
        .select((LockRow::as_select(), committees::code))
        .order(period_locks::id.desc())
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<(LockRow, String)>> {
    period_locks::table
        .inner_join(committees::table)
        .filter(period_locks::id.eq(id))
        .select((LockRow::as_select(), committees::code))
        .get_result(conn)
        .optional()
}

pub fn insert(
    conn: &mut AnyConnection,
    committee_id: i64,
    period: &PeriodCode,
    locked_by: &str,
    reason: Option<&str>,
) -> QueryResult<i64> {
    diesel::insert_into(period_locks::table)
        .values((
            period_locks::committee_id.eq(committee_id),
            period_locks::period_code.eq(period.code()),
            period_locks::period_start.eq(period.start()),
            period_locks::period_end.eq(period.end()),
            period_locks::locked_by.eq(locked_by),
            period_locks::reason.eq(reason),
            period_locks::locked_at.eq(super::now()),
        ))
        .returning(period_locks::id)
        .get_result(conn)
}

/// Lifts an active lock; false if it was not active.
pub fn lift(conn: &mut AnyConnection, id: i64, unlocked_by: &str) -> QueryResult<bool> {
    let changed = diesel::update(
        period_locks::table
            .find(id)
            .filter(period_locks::unlocked_at.is_null()),
    )
    .set((
        period_locks::unlocked_by.eq(unlocked_by),
        period_locks::unlocked_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}
