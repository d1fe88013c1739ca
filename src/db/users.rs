//! People who sign in to the web app, their sessions and failed sign-ins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{committees, sessions, sign_in_failures, user_committees, users};
use super::{write_transaction, AnyConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub disabled_at: Option<NaiveDateTime>,
}

/// What a new account holds.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub created_by: &'a str,
}

/// Stores an account and its (already expanded) committee scope; returns its id.
pub fn insert(
    conn: &mut AnyConnection,
    user: NewUser<'_>,
    committee_ids: &[i64],
) -> QueryResult<i64> {
    write_transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(user.username),
                users::display_name.eq(user.display_name),
                users::password_hash.eq(user.password_hash),
                users::role.eq(user.role),
                users::created_at.eq(super::now()),
                users::created_by.eq(user.created_by),
            ))
            .returning(users::id)
            .get_result(conn)?;
        for committee_id in committee_ids {
            diesel::insert_into(user_committees::table)
                .values((
                    user_committees::user_id.eq(id),
                    user_committees::committee_id.eq(committee_id),
                ))
                .execute(conn)?;
        }
        Ok(id)
    })
}

pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
}

/// The committee ids an account may write for.
pub fn committee_ids(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    user_committees::table
        .filter(user_committees::user_id.eq(user_id))
        .select(user_committees::committee_id)
        .load(conn)
}

/// Every account with its committee codes, by username.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<(UserRow, Vec<String>)>> {
    let rows: Vec<UserRow> = users::table
        .select(UserRow::as_select())
        .order(users::username)
        .load(conn)?;
    let scopes: Vec<(i64, String)> = user_committees::table
        .inner_join(committees::table)
        .select((user_committees::user_id, committees::code))
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

/// Disables an active account and ends its sessions; false if there is none.
pub fn disable(conn: &mut AnyConnection, username: &str) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let Some(user) = find_by_username(conn, username)?.filter(|u| u.disabled_at.is_none())
        else {
            return Ok(false);
        };
        diesel::update(users::table.find(user.id))
            .set(users::disabled_at.eq(super::now()))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user.id))).execute(conn)?;
        Ok(true)
    })
}

pub fn insert_session(
    conn: &mut AnyConnection,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(csrf_token),
            sessions::created_at.eq(super::now()),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired session with this hash of an enabled account, with the
/// account and the session's CSRF token.
pub fn find_session(
    conn: &mut AnyConnection,
    id_hash: &str,
) -> QueryResult<Option<(UserRow, String)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        .filter(sessions::expires_at.gt(super::now()))
        .filter(users::disabled_at.is_null())
        .select((UserRow::as_select(), sessions::csrf_token))
        .get_result(conn)
        .optional()
}

pub fn delete_session(conn: &mut AnyConnection, id_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::id_hash.eq(id_hash))).execute(conn)?;
    // Expired sessions of anyone go too: they can never be used again.
    diesel::delete(sessions::table.filter(sessions::expires_at.le(super::now()))).execute(conn)?;
    Ok(())
}

pub fn record_failure(conn: &mut AnyConnection, username: &str) -> QueryResult<()> {
    diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::username.eq(username),
            sign_in_failures::failed_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed sign-ins for `username` since `since`.
pub fn failures_since(
    conn: &mut AnyConnection,
    username: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    sign_in_failures::table
        .filter(sign_in_failures::username.eq(username))
        .filter(sign_in_failures::failed_at.gt(since))
        .count()
        .get_result(conn)
}
