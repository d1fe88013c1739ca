//! Accounts of people: passwords (argon2id), creation with a fixed committee
//! scope, and signing in with throttling.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::TimeDelta;

use crate::auth::{hash_token, Caller};
use crate::db::{self, AnyConnection};
use crate::domain::role::Role;
use crate::error::ApiError;

/// Failed sign-ins allowed per username within [`THROTTLE_WINDOW`] before
/// further attempts are refused (429), even with the right password.
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// How long a session lasts after signing in.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::hours(12);
/// Shortest password accepted on creation.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot encode a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot hash a password: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches quickly: verified for unknown usernames so that
/// the answer's timing does not tell which usernames exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

/// Checks a username: 1–64 letters, digits, `.`, `_` or `-`.
pub fn check_username(username: &str) -> Result<(), ApiError> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "a username is 1 to 64 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// Creates an account. An editor's scope is fixed here, as a token's is: the
/// committees named and every committee below them now.
pub fn create_user(
    conn: &mut AnyConnection,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
    committee_ids: &[i64],
    created_by: &str,
) -> Result<i64, ApiError> {
    check_username(username)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if db::users::find_by_username(conn, username)?.is_some() {
        return Err(ApiError::conflict(format!(
            "an account named {username:?} exists already"
        )));
    }
    let scope: Vec<i64> = if committee_ids.is_empty() {
        Vec::new()
    } else {
        db::committees::with_descendants(conn, committee_ids)?
            .into_iter()
            .collect()
    };
    let hash = hash_password(password)?;
    Ok(db::users::insert(
        conn,
        db::users::NewUser {
            username,
            display_name: display_name.trim(),
            password_hash: &hash,
            role: role.as_str(),
            created_by,
        },
        &scope,
    )?)
}

/// The caller an account acts as: its username is what revisions record.
pub fn caller_of(conn: &mut AnyConnection, user: &db::users::UserRow) -> Result<Caller, ApiError> {
    let role = user
        .role
        .parse::<Role>()
        .map_err(|e| ApiError::Internal(e.into()))?;
    let committees: HashSet<i64> = db::users::committee_ids(conn, user.id)?
        .into_iter()
        .collect();
    Ok(Caller {
        token_id: None,
        name: user.username.clone(),
        role: Some(role),
        committees,
    })
}

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum SignInRefused {
    /// Unknown username, wrong password or a disabled account (one answer for all).
    BadCredentials,
    /// Too many failures for this username lately.
    Throttled,
    Error(ApiError),
}

impl From<ApiError> for SignInRefused {
    fn from(e: ApiError) -> Self {
        Self::Error(e)
    }
}

impl From<diesel::result::Error> for SignInRefused {
    fn from(e: diesel::result::Error) -> Self {
        Self::Error(e.into())
    }
}

/// A new session: the cookie value (shown to the browser only) and its CSRF token.
pub struct NewSession {
    pub cookie: String,
    pub csrf_token: String,
}

/// Random hex, for session ids and CSRF tokens.
pub fn random_hex() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Signs a person in: throttled per username, then the password checked.
pub fn sign_in(
    conn: &mut AnyConnection,
    username: &str,
    password: &str,
) -> Result<NewSession, SignInRefused> {
    let username = username.trim();
    let since = db::now() - THROTTLE_WINDOW;
    if db::users::failures_since(conn, username, since)? >= MAX_FAILURES {
        return Err(SignInRefused::Throttled);
    }
    let user = db::users::find_by_username(conn, username)?;
    let stored = user
        .as_ref()
        .map_or(decoy_hash(), |u| u.password_hash.as_str());
    let matches = password_matches(password, stored);
    let user = match user {
        Some(user) if matches && user.disabled_at.is_none() => user,
        _ => {
            db::users::record_failure(conn, username)?;
            return Err(SignInRefused::BadCredentials);
        }
    };
    let session = NewSession {
        cookie: random_hex()?,
        csrf_token: random_hex()?,
    };
    db::users::insert_session(
        conn,
        &hash_token(&session.cookie),
        user.id,
        &session.csrf_token,
        db::now() + SESSION_LIFETIME,
    )?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_salted_argon2id_and_verified() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(password_matches("correct horse battery", &a));
        assert!(!password_matches("correct horse batterY", &a));
        assert!(!password_matches("anything", "not a hash"));
    }

    #[test]
    fn usernames_are_plain() {
        assert!(check_username("lan.nguyen_2").is_ok());
        for bad in ["", "a b", "lan/../x", "ngọc", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
    }
}
