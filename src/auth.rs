//! Who is calling, and what they may do.
//!
//! Tokens are sent as `Authorization: Bearer <token>`: random, shown once, stored
//! only as a SHA-256 hash. Roles: `admin` (everything), `editor` (writes
//! figures, targets and imports for the committees, or committee subtrees, it
//! is scoped to), `viewer` (reads). Reads are open unless
//! `CHITIEU_PUBLIC_READ=false`.

use std::collections::{HashMap, HashSet};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use sha2::{Digest, Sha256};

use crate::db::{self, AnyConnection, Pool};
use crate::domain::role::Role;
use crate::error::ApiError;

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: Option<i64>,
    /// The token's name, recorded in revisions; `anonymous` without a token.
    pub name: String,
    pub role: Option<Role>,
    /// Committees an editor may write for, subtrees included.
    pub committees: HashSet<i64>,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self {
            token_id: None,
            name: "anonymous".into(),
            role: None,
            committees: HashSet::new(),
        }
    }

    /// An internal writer (seeding, the command line).
    pub fn system(name: &str) -> Self {
        Self {
            token_id: None,
            name: name.into(),
            role: Some(Role::Admin),
            committees: HashSet::new(),
        }
    }

    /// Whether the caller may write figures or targets of this committee.
    pub fn may_write_for(&self, committee_id: i64) -> bool {
        match self.role {
            Some(Role::Admin) => true,
            Some(Role::Editor) => self.committees.contains(&committee_id),
            Some(Role::Viewer) | None => false,
        }
    }

    /// The committees an editor is limited to; `None` for an admin.
    pub fn scope(&self) -> Option<&HashSet<i64>> {
        match self.role {
            Some(Role::Admin) => None,
            _ => Some(&self.committees),
        }
    }

    /// Refuses committees outside the caller's scope (403).
    pub fn require_committees(
        &self,
        committee_ids: impl IntoIterator<Item = i64>,
        describe: impl Fn(i64) -> String,
    ) -> Result<(), ApiError> {
        let outside: Vec<String> = committee_ids
            .into_iter()
            .filter(|id| !self.may_write_for(*id))
            .map(describe)
            .collect();
        if outside.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "token {:?} may not write for {}: it is scoped to other committees",
                self.name,
                outside.join(", ")
            )))
        }
    }
}

/// The caller of a request (set by [`authenticate`]).
pub fn caller(request: &HttpRequest) -> Caller {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}

/// A new token: `ctu_` and 64 hex digits of randomness.
pub fn generate_token() -> Result<String, anyhow::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(format!("ctu_{}", hex::encode(bytes)))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token and returns it with its id. The token is not stored: show it once.
pub fn create_token(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    committee_ids: &[i64],
    created_by: &str,
) -> Result<(i64, String), ApiError> {
    let token = generate_token()?;
    let id = db::tokens::insert(
        conn,
        name,
        role.as_str(),
        &hash_token(&token),
        &token[..12],
        created_by,
        committee_ids,
    )?;
    Ok((id, token))
}

/// The committees and all their descendants.
fn with_subtrees(conn: &mut AnyConnection, roots: &[i64]) -> Result<HashSet<i64>, ApiError> {
    let committees = db::committees::list(conn)?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for committee in &committees {
        if let Some(parent) = committee.parent_id {
            children.entry(parent).or_default().push(committee.id);
        }
    }
    let mut scope: HashSet<i64> = HashSet::new();
    let mut stack: Vec<i64> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if scope.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    Ok(scope)
}

/// Looks a bearer token up.
pub fn resolve(conn: &mut AnyConnection, token: &str) -> Result<Option<Caller>, ApiError> {
    let Some((row, roots)) = db::tokens::find_active(conn, &hash_token(token))? else {
        return Ok(None);
    };
    let role = row
        .role
        .parse::<Role>()
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Some(Caller {
        token_id: Some(row.id),
        name: row.name,
        role: Some(role),
        committees: with_subtrees(conn, &roots)?,
    }))
}

/// Authentication settings.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// Reads need no token.
    pub public_read: bool,
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths whose writes are for admins only (reference data, locks, tokens).
const ADMIN_WRITES: &[&str] = &[
    "/api/v1/committees",
    "/api/v1/groups",
    "/api/v1/indicators",
    "/api/v1/locks",
    "/api/v1/tokens",
    "/api/v1/sources",
];

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// What a caller may do with a method and path; the committee scope of an
/// editor is checked by the handlers, which know the committee.
pub fn authorize(
    caller: &Caller,
    method: &Method,
    path: &str,
    settings: AuthSettings,
) -> Result<(), ApiError> {
    if !under(path, "/api/v1") || path == "/api/v1/openapi.json" {
        return Ok(());
    }
    let unauthenticated =
        || ApiError::Unauthorized("send a valid token as Authorization: Bearer <token>".into());
    let role = caller.role;
    if under(path, "/api/v1/tokens") {
        return match role {
            Some(Role::Admin) => Ok(()),
            None => Err(unauthenticated()),
            Some(_) => Err(ApiError::Forbidden("tokens are managed by admins".into())),
        };
    }
    if is_read(method) {
        return match role {
            None if !settings.public_read => Err(unauthenticated()),
            _ => Ok(()),
        };
    }
    match role {
        None => Err(unauthenticated()),
        Some(Role::Viewer) => Err(ApiError::Forbidden(format!("token {:?} is a viewer: it may only read", caller.name))),
        Some(Role::Editor) if ADMIN_WRITES.iter().any(|prefix| under(path, prefix)) => Err(ApiError::Forbidden(
            format!("token {:?} is an editor: committees, groups, indicators, sources, locks and tokens are changed by admins", caller.name),
        )),
        Some(_) => Ok(()),
    }
}

fn bearer(request: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
    else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::Unauthorized(
            "use Authorization: Bearer <token>".into(),
        )),
    }
}

/// Middleware: identifies the caller from its token and applies the role rules.
pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let settings = request
        .app_data::<web::Data<AuthSettings>>()
        .map(|s| *s.get_ref())
        .unwrap_or(AuthSettings { public_read: true });
    let caller = match bearer(&request)? {
        None => Caller::anonymous(),
        Some(token) => {
            let pool = request
                .app_data::<web::Data<Pool>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no database pool")))?;
            let found = web::block(move || -> Result<Option<Caller>, ApiError> {
                let mut conn = pool.get()?;
                resolve(&mut conn, &token)
            })
            .await
            .map_err(ApiError::from)??;
            found.ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".into()))?
        }
    };
    authorize(&caller, request.method(), request.path(), settings)?;
    request.extensions_mut().insert(caller);
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Option<Role>) -> Caller {
        Caller {
            role,
            ..Caller::anonymous()
        }
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("ctu_") && a.len() == 68);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn roles_decide_what_may_be_done() {
        let open = AuthSettings { public_read: true };
        let closed = AuthSettings { public_read: false };
        let get = Method::GET;
        let post = Method::POST;
        let figures = "/api/v1/observations";
        assert!(authorize(&caller(None), &get, figures, open).is_ok());
        assert!(matches!(
            authorize(&caller(None), &get, figures, closed),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(authorize(&caller(Some(Role::Viewer)), &get, figures, closed).is_ok());
        assert!(matches!(
            authorize(&caller(None), &post, figures, open),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            authorize(&caller(Some(Role::Viewer)), &post, figures, open),
            Err(ApiError::Forbidden(_))
        ));
        assert!(authorize(&caller(Some(Role::Editor)), &post, figures, open).is_ok());
        assert!(matches!(
            authorize(
                &caller(Some(Role::Editor)),
                &post,
                "/api/v1/committees",
                open
            ),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            authorize(
                &caller(Some(Role::Editor)),
                &Method::DELETE,
                "/api/v1/locks/3",
                open
            ),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            authorize(&caller(Some(Role::Viewer)), &get, "/api/v1/tokens", open),
            Err(ApiError::Forbidden(_))
        ));
        assert!(authorize(
            &caller(Some(Role::Admin)),
            &post,
            "/api/v1/committees",
            open
        )
        .is_ok());
        // Probes and docs are always open.
        assert!(authorize(&caller(None), &get, "/readyz", closed).is_ok());
        assert!(authorize(&caller(None), &get, "/api/v1/openapi.json", closed).is_ok());
    }
}
