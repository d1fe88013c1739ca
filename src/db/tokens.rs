//! API tokens: stored as hashes, with the committees an editor may write for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_token_committees, api_tokens, committees};
use super::{write_transaction, AnyConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub token_prefix: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a token (its hash) and its committees; returns its id.
pub fn insert(
    conn: &mut AnyConnection,
    name: &str,
    role: &str,
    token_hash: &str,
    token_prefix: &str,
    created_by: &str,
    committee_ids: &[i64],
) -> QueryResult<i64> {
    write_transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::name.eq(name),
                api_tokens::role.eq(role),
                api_tokens::token_hash.eq(token_hash),
                api_tokens::token_prefix.eq(token_prefix),
                api_tokens::created_at.eq(super::now()),
                api_tokens::created_by.eq(created_by),
            ))
            .returning(api_tokens::id)
            .get_result(conn)?;
        for committee_id in committee_ids {
            diesel::insert_into(api_token_committees::table)
                .values((
                    api_token_committees::token_id.eq(id),
                    api_token_committees::committee_id.eq(committee_id),
                ))
                .execute(conn)?;
        }
        Ok(id)
    })
}

/// The active token with this hash, with its committees' ids.
pub fn find_active(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<(TokenRow, Vec<i64>)>> {
    let Some(row) = api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let committees = api_token_committees::table
        .filter(api_token_committees::token_id.eq(row.id))
        .select(api_token_committees::committee_id)
        .load(conn)?;
    Ok(Some((row, committees)))
}

/// Every token with its committee codes, newest first.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<(TokenRow, Vec<String>)>> {
    let rows: Vec<TokenRow> = api_tokens::table
        .select(TokenRow::as_select())
        .order(api_tokens::id.desc())
        .load(conn)?;
    let scopes: Vec<(i64, String)> = api_token_committees::table
        .inner_join(committees::table)
        .select((api_token_committees::token_id, committees::code))
        .order(committees::code)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let codes = scopes
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, code)| code.clone())
                .collect();
            (row, codes)
        })
        .collect())
}

/// Revokes an active token; false if there is none with this id.
pub fn revoke(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(super::now()))
    .execute(conn)?;
    Ok(changed > 0)
}
