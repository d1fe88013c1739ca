//! Targets assigned to committees, with their revisions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::decimal::StoredDecimal;
use super::observations::{Author, WriteError, WriteOutcome, Written};
use super::schema::{committees, indicators, sources, target_revisions, targets};
use super::{write_transaction, AnyConnection};
use crate::domain::period::PeriodCode;

#[derive(Debug, Clone)]
pub struct NewTarget {
    pub committee_id: i64,
    pub indicator_id: i64,
    pub period: PeriodCode,
    pub value: Decimal,
    pub assigned_by: Option<String>,
    pub source_id: Option<i64>,
    pub source_quote: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = targets)]
pub struct TargetRow {
    pub id: i64,
    pub committee_id: i64,
    pub indicator_id: i64,
    #[diesel(deserialize_as = String)]
    pub period_code: PeriodCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    #[diesel(deserialize_as = StoredDecimal)]
    pub value: Decimal,
    pub assigned_by: Option<String>,
    pub source_id: Option<i64>,
    pub source_quote: Option<String>,
    pub revision: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A target with the codes a reader needs.
#[derive(Debug, Clone)]
pub struct TargetRecord {
    pub row: TargetRow,
    pub committee: String,
    pub indicator: String,
    pub unit: String,
    pub scale: i32,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    pub committees: Vec<String>,
    pub indicators: Vec<String>,
    pub period: Option<PeriodCode>,
}

type RecordTuple = (TargetRow, String, String, String, i32, Option<String>);

fn into_record((row, committee, indicator, unit, scale, source): RecordTuple) -> TargetRecord {
    TargetRecord {
        row,
        committee,
        indicator,
        unit,
        scale,
        source,
    }
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &TargetFilter,
    limit: i64,
    after: Option<i64>,
) -> QueryResult<Vec<TargetRecord>> {
    let build = || {
        let mut query = targets::table
            .inner_join(committees::table)
            .inner_join(indicators::table)
            .left_join(sources::table)
            .into_boxed();
        if !filter.committees.is_empty() {
            query = query.filter(committees::code.eq_any(&filter.committees));
        }
        if !filter.indicators.is_empty() {
            query = query.filter(indicators::code.eq_any(&filter.indicators));
        }
        if let Some(period) = &filter.period {
            query = query.filter(targets::period_code.eq(period.code()));
        }
        query
    };
    let rows: Vec<RecordTuple> = build()
        .filter(targets::id.gt(after.unwrap_or(0)))
        .select((
            TargetRow::as_select(),
            committees::code,
            indicators::code,
            indicators::unit,
            indicators::scale,
            sources::code.nullable(),
        ))
        .order(targets::id)
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(into_record).collect())
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<TargetRecord>> {
    targets::table
        .inner_join(committees::table)
        .inner_join(indicators::table)
        .left_join(sources::table)
        .filter(targets::id.eq(id))
        .select((
            TargetRow::as_select(),
            committees::code,
            indicators::code,
            indicators::unit,
            indicators::scale,
            sources::code.nullable(),
        ))
        .get_result::<RecordTuple>(conn)
        .optional()
        .map(|found| found.map(into_record))
}

fn record_revision(
    conn: &mut AnyConnection,
    target_id: i64,
    revision: i32,
    target: &NewTarget,
    previous_value: Option<Decimal>,
    author: Author<'_>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(target_revisions::table)
        .values((
            target_revisions::target_id.eq(target_id),
            target_revisions::revision.eq(revision),
            target_revisions::value.eq(StoredDecimal(target.value)),
            target_revisions::previous_value.eq(previous_value.map(StoredDecimal)),
            target_revisions::assigned_by.eq(target.assigned_by.as_deref()),
            target_revisions::changed_at.eq(at),
            target_revisions::changed_by.eq(author.changed_by),
            target_revisions::reason.eq(author.reason),
            target_revisions::token_id.eq(author.token_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Creates the target of committee × indicator × period, or revises it.
///
/// A target falls under the locks of figures: a locked committee × period
/// refuses it (checked inside the write, so a lock taken meanwhile counts).
pub fn upsert(
    conn: &mut AnyConnection,
    target: &NewTarget,
    author: Author<'_>,
) -> Result<Written, WriteError> {
    write_transaction(conn, |conn| {
        super::serialise_committee_writes(conn, [target.committee_id])?;
        if let Some(lock) = super::locks::active(conn, &[target.committee_id])?
            .into_iter()
            .find(|lock| lock.covers(&target.period))
        {
            return Err(WriteError::Locked(vec![(0, lock)]));
        }
        let at = super::now();
        let existing: Option<TargetRow> = targets::table
            .filter(targets::committee_id.eq(target.committee_id))
            .filter(targets::indicator_id.eq(target.indicator_id))
            .filter(targets::period_code.eq(target.period.code()))
            .select(TargetRow::as_select())
            .get_result(conn)
            .optional()?;
        let fields = (
            targets::value.eq(StoredDecimal(target.value)),
            targets::assigned_by.eq(target.assigned_by.as_deref()),
            targets::source_id.eq(target.source_id),
            targets::source_quote.eq(target.source_quote.as_deref()),
        );
        match existing {
            None => {
                let id: i64 = diesel::insert_into(targets::table)
                    .values((
                        targets::committee_id.eq(target.committee_id),
                        targets::indicator_id.eq(target.indicator_id),
                        targets::period_code.eq(target.period.code()),
                        targets::frequency.eq(target.period.frequency().as_str()),
                        targets::period_start.eq(target.period.start()),
                        targets::period_end.eq(target.period.end()),
                        fields,
                        targets::revision.eq(1),
                        targets::created_at.eq(at),
                        targets::updated_at.eq(at),
                    ))
                    .returning(targets::id)
                    .get_result(conn)?;
                record_revision(conn, id, 1, target, None, author, at)?;
                Ok(Written {
                    id,
                    outcome: WriteOutcome::Created,
                    revision: 1,
                })
            }
            Some(row)
                if row.value == target.value
                    && row.assigned_by == target.assigned_by
                    && row.source_id == target.source_id
                    && row.source_quote == target.source_quote =>
            {
                Ok(Written {
                    id: row.id,
                    outcome: WriteOutcome::Unchanged,
                    revision: row.revision,
                })
            }
            Some(row) => {
                let revision = row.revision + 1;
                diesel::update(targets::table.find(row.id))
                    .set((
                        fields,
                        targets::revision.eq(revision),
                        targets::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                record_revision(conn, row.id, revision, target, Some(row.value), author, at)?;
                Ok(Written {
                    id: row.id,
                    outcome: WriteOutcome::Updated,
                    revision,
                })
            }
        }
    })
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = target_revisions)]
pub struct TargetRevisionRow {
    pub revision: i32,
    #[diesel(deserialize_as = StoredDecimal)]
    pub value: Decimal,
    pub previous_value: Option<StoredDecimal>,
    pub assigned_by: Option<String>,
    pub changed_at: NaiveDateTime,
    pub changed_by: String,
    pub reason: Option<String>,
}

pub fn revisions(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<TargetRevisionRow>> {
    target_revisions::table
        .filter(target_revisions::target_id.eq(id))
        .order(target_revisions::revision)
        .select(TargetRevisionRow::as_select())
        .load(conn)
}

/// Targets of these committees and indicators (all when a list is empty).
pub fn select_rows(
    conn: &mut AnyConnection,
    committee_ids: &[i64],
    indicator_ids: &[i64],
) -> QueryResult<Vec<TargetRow>> {
    let mut query = targets::table.into_boxed();
    if !committee_ids.is_empty() {
        query = query.filter(targets::committee_id.eq_any(committee_ids));
    }
    if !indicator_ids.is_empty() {
        query = query.filter(targets::indicator_id.eq_any(indicator_ids));
    }
    query
        .select(TargetRow::as_select())
        .order(targets::period_start)
        .load(conn)
}

/// The targets of these committees as they stood at `at`: those assigned by
/// then, each with the value of its last revision made by then.
pub fn select_rows_as_of(
    conn: &mut AnyConnection,
    committee_ids: &[i64],
    at: NaiveDateTime,
) -> QueryResult<Vec<TargetRow>> {
    let rows = select_rows(conn, committee_ids, &[])?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let revisions: Vec<(i64, StoredDecimal, Option<String>)> = target_revisions::table
        .filter(target_revisions::target_id.eq_any(&ids))
        .filter(target_revisions::changed_at.le(at))
        .order((target_revisions::target_id, target_revisions::revision))
        .select((
            target_revisions::target_id,
            target_revisions::value,
            target_revisions::assigned_by,
        ))
        .load(conn)?;
    // Ordered by revision: the last one seen is the one in force at `at`.
    let mut in_force = std::collections::HashMap::new();
    for (id, value, assigned_by) in revisions {
        in_force.insert(id, (value.0, assigned_by));
    }
    Ok(rows
        .into_iter()
        .filter_map(|mut row| {
            let (value, assigned_by) = in_force.remove(&row.id)?;
            row.value = value;
            row.assigned_by = assigned_by;
            Some(row)
        })
        .collect())
}
