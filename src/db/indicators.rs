//! Indicators: what is measured.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::decimal::StoredDecimal;
use super::schema::{indicators, observations, targets};
use super::AnyConnection;
use crate::domain::indicator::{Bounds, Direction, MeasureKind, Unit};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = indicators)]
pub struct IndicatorRow {
    pub id: i64,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    #[diesel(deserialize_as = String)]
    pub unit: Unit,
    pub scale: i32,
    #[diesel(deserialize_as = String)]
    pub measure_kind: MeasureKind,
    #[diesel(deserialize_as = String)]
    pub direction: Direction,
    pub denominator_id: Option<i64>,
    /// For a ratio: the indicator divided by `denominator_id` (× 100).
    pub numerator_id: Option<i64>,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub min_value: Option<StoredDecimal>,
    pub max_value: Option<StoredDecimal>,
    pub whole_number: bool,
}

impl IndicatorRow {
    /// The values its figures and targets may take.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            min: self.min_value.map(Into::into),
            max: self.max_value.map(Into::into),
            whole: self.whole_number,
        }
    }
}

/// The fields a client sets on an indicator.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = indicators, treat_none_as_null = true)]
pub struct IndicatorChanges<'a> {
    pub name_vi: &'a str,
    pub name_en: &'a str,
    #[diesel(serialize_as = String)]
    pub unit: Unit,
    pub scale: i32,
    #[diesel(serialize_as = String)]
    pub measure_kind: MeasureKind,
    #[diesel(serialize_as = String)]
    pub direction: Direction,
    pub denominator_id: Option<i64>,
    pub numerator_id: Option<i64>,
    pub description: Option<&'a str>,
    pub min_value: Option<StoredDecimal>,
    pub max_value: Option<StoredDecimal>,
    pub whole_number: bool,
}

/// Sets an indicator's bounds.
pub fn set_bounds(conn: &mut AnyConnection, id: i64, bounds: Bounds) -> QueryResult<()> {
    diesel::update(indicators::table.find(id))
        .set((
            indicators::min_value.eq(bounds.min.map(StoredDecimal)),
            indicators::max_value.eq(bounds.max.map(StoredDecimal)),
            indicators::whole_number.eq(bounds.whole),
            indicators::updated_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<IndicatorRow>> {
    indicators::table
        .order(indicators::code)
        .select(IndicatorRow::as_select())
        .load(conn)
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<IndicatorRow>> {
    indicators::table
        .filter(indicators::code.eq(code))
        .select(IndicatorRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<IndicatorRow> {
    indicators::table
        .find(id)
        .select(IndicatorRow::as_select())
        .get_result(conn)
}

pub fn insert(
    conn: &mut AnyConnection,
    code: &str,
    changes: IndicatorChanges<'_>,
) -> QueryResult<IndicatorRow> {
    let now = super::now();
    diesel::insert_into(indicators::table)
        .values((
            indicators::code.eq(code),
            changes,
            indicators::created_at.eq(now),
            indicators::updated_at.eq(now),
        ))
        .returning(indicators::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    changes: IndicatorChanges<'_>,
) -> QueryResult<IndicatorRow> {
    diesel::update(indicators::table.find(id))
        .set((changes, indicators::updated_at.eq(super::now())))
        .returning(indicators::id)
        .get_result(conn)
        .and_then(|id: i64| find_by_id(conn, id))
}

/// Whether any figure or target uses the indicator (its unit, scale and kind
/// then cannot change without silently changing what those figures mean).
pub fn has_data(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    let figures: bool = diesel::select(diesel::dsl::exists(
        observations::table.filter(observations::indicator_id.eq(id)),
    ))
    .get_result(conn)?;
    let goals: bool = diesel::select(diesel::dsl::exists(
        targets::table.filter(targets::indicator_id.eq(id)),
    ))
    .get_result(conn)?;
    Ok(figures || goals)
}

// RETURNING a whole row is not available through diesel's MultiConnection
// (its returning clause must be valid for every backend at once), so writes
// return the id and the row is read back.
fn find_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<IndicatorRow> {
    indicators::table
        .find(id)
        .select(IndicatorRow::as_select())
        .get_result(conn)
}
