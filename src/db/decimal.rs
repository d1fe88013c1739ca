//! `DbDecimal`: an exact decimal column on both backends.
//!
//! PostgreSQL stores `NUMERIC`; SQLite has no exact decimal type (its NUMERIC
//! affinity converts to floating point), so there the column is `TEXT` holding
//! the canonical decimal string. Maths happens in Rust on `rust_decimal::Decimal`.

use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Numeric, Text};
use diesel::sqlite::Sqlite;
use rust_decimal::Decimal;

use super::connection::MultiBackend;

/// SQL type of an exact decimal column.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 1700, array_oid = 1231))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbDecimal;

impl HasSqlType<DbDecimal> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbDecimal>(lookup)
    }
}

/// A `Decimal` on its way to or from a [`DbDecimal`] column. (A local newtype:
/// diesel's conversion traits and `Decimal` both live in other crates.)
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = DbDecimal)]
pub struct StoredDecimal(pub Decimal);

impl From<Decimal> for StoredDecimal {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl From<StoredDecimal> for Decimal {
    fn from(value: StoredDecimal) -> Self {
        value.0
    }
}

impl ToSql<DbDecimal, Pg> for StoredDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        if self.0.is_zero() {
            // rust_decimal sends zero without its scale, so "0.0000" would come
            // back as "0". Binary NUMERIC: ndigits, weight, sign, dscale.
            let scale = u16::try_from(self.0.scale()).unwrap_or(0);
            for part in [0u16, 0, 0, scale] {
                std::io::Write::write_all(out, &part.to_be_bytes())?;
            }
            return Ok(IsNull::No);
        }
        <Decimal as ToSql<Numeric, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbDecimal, Pg> for StoredDecimal {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <Decimal as FromSql<Numeric, Pg>>::from_sql(bytes).map(Self)
    }
}

impl ToSql<DbDecimal, Sqlite> for StoredDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<DbDecimal, Sqlite> for StoredDecimal {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
        Decimal::from_str(&text)
            .map(Self)
            .map_err(|e| format!("stored decimal {text:?} is invalid: {e}").into())
    }
}

impl ToSql<DbDecimal, MultiBackend> for StoredDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbDecimal, self));
        Ok(IsNull::No)
    }
}

impl FromSql<DbDecimal, MultiBackend> for StoredDecimal {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<StoredDecimal, DbDecimal>()
    }
}
