//! Who is calling, and what they may do.
//!
//! Tokens are sent as `Authorization: Bearer <token>`: random, shown once, stored
//! only as a SHA-256 hash. Roles: `admin` (everything), `editor` (writes
//! figures, targets and imports for the committees it is scoped to), `viewer`
//! (reads). Reads are open unless `CHITIEU_PUBLIC_READ=false`.
//!
//! Access is a property of each handler, never of a path: the [`identify`]
//! middleware only finds out who is calling (it never looks at the path), and
//! every handler states what it needs by taking one of the access extractors
//! [`Public`], [`Reader`], [`Editor`] or [`Admin`] as its first argument. A
//! committee scope is checked by the handler where the committee is known
//! ([`Caller::require_committees`]). [`require_access_rule`] refuses to answer
//! for a route whose handler took no access extractor, so a forgotten rule
//! fails closed (and the route × role test finds it).

use std::collections::HashSet;
use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
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
    /// Committees an editor may write for: fixed when the token was issued
    /// (the committees named and their sub-committees at that moment), so that
    /// creating, re-parenting or deleting committees never widens it.
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

    /// Whether the caller may write figures or targets of this committee. An
    /// empty scope grants nothing.
    pub fn may_write_for(&self, committee_id: i64) -> bool {
        match self.role {
            Some(Role::Admin) => true,
            Some(Role::Editor) => self.committees.contains(&committee_id),
            Some(Role::Viewer) | None => false,
        }
    }

    /// Refuses committees outside the caller's scope (403).
    pub fn require_committees(
        &self,
        committee_ids: impl IntoIterator<Item = i64>,
        describe: impl Fn(i64) -> String,
    ) -> Result<(), ApiError> {
        let mut outside: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for id in committee_ids {
            if !self.may_write_for(id) && seen.insert(id) {
                outside.push(describe(id));
            }
        }
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

impl Caller {
    /// The committees an editor is limited to; `None` for an admin. Viewers and
    /// anonymous callers get an empty scope, which grants nothing.
    pub fn scope(&self) -> Option<&HashSet<i64>> {
        match self.role {
            Some(Role::Admin) => None,
            _ => Some(&self.committees),
        }
    }
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
///
/// An editor's scope is fixed here: the committees named and every committee
/// below them now. Committees created, moved or deleted later never widen it.
pub fn create_token(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    committee_ids: &[i64],
    created_by: &str,
) -> Result<(i64, String), ApiError> {
    let token = generate_token()?;
    let mut scope: Vec<i64> = if committee_ids.is_empty() {
        Vec::new()
    } else {
        db::committees::with_descendants(conn, committee_ids)?
            .into_iter()
            .collect()
    };
    scope.sort_unstable();
    let id = db::tokens::insert(
        conn,
        name,
        role.as_str(),
        &hash_token(&token),
        &token[..12],
        created_by,
        &scope,
    )?;
    Ok((id, token))
}

/// Looks a bearer token up.
pub fn resolve(conn: &mut AnyConnection, token: &str) -> Result<Option<Caller>, ApiError> {
    let Some((row, committees)) = db::tokens::find_active(conn, &hash_token(token))? else {
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
        committees: committees.into_iter().collect(),
    }))
}

/// Authentication settings.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// Reads need no token.
    pub public_read: bool,
}

/// The token of a request, if it sent one. One `Authorization` header at
/// most: with two, a proxy and the server could each believe a different one.
fn bearer(request: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let mut values = request
        .headers()
        .get_all(actix_web::http::header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "send one Authorization header, not several",
        ));
    }
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

/// Middleware: finds out who is calling, from the token alone (never from the
/// path), and keeps it for the access extractors. An unknown or revoked token
/// is refused whatever the route.
pub async fn identify(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
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
    request.extensions_mut().insert(caller);
    next.call(request).await
}

/// Who may call a route: what each access extractor requires, also written in
/// the OpenAPI document (`security`) and checked for every route by the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without a token: probes.
    Public,
    /// Anyone when reads are public; otherwise any valid token.
    Read,
    /// An editor (for the committees in its scope, checked by the handler) or an admin.
    Write,
    /// An admin.
    Admin,
}

/// The access rule a handler applied (kept in the request's extensions).
#[derive(Debug, Clone, Copy)]
struct AccessChecked(#[allow(dead_code)] Access);

fn identified(request: &HttpRequest) -> Caller {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous)
}

fn public_read(request: &HttpRequest) -> bool {
    request
        .app_data::<web::Data<AuthSettings>>()
        .map(|s| s.public_read)
        // Fail closed: without settings, reads need a token.
        .unwrap_or(false)
}

fn unauthenticated() -> ApiError {
    ApiError::Unauthorized("send a valid token as Authorization: Bearer <token>".into())
}

/// Applies `access` to the request's caller.
pub fn check(request: &HttpRequest, access: Access) -> Result<Caller, ApiError> {
    let caller = admit(request, access, identified(request))?;
    // After the access rule, so that a stranger learns nothing about the
    // operation's parameters.
    crate::routes::query_rules::check(request)?;
    Ok(caller)
}

/// Applies `access` to a caller found otherwise than by token: a person signed
/// in to the web app (`crate::web::session`). The caller replaces the one the
/// token middleware found. The API's query rules are not applied: the web
/// app's pages are not operations of the OpenAPI document.
pub fn check_person(
    request: &HttpRequest,
    caller: Caller,
    access: Access,
) -> Result<Caller, ApiError> {
    request.extensions_mut().insert(caller.clone());
    admit(request, access, caller)
}

/// The one table of who may do what, for every kind of caller.
fn admit(request: &HttpRequest, access: Access, caller: Caller) -> Result<Caller, ApiError> {
    // The rule is applied, whether it admits the caller or not.
    request.extensions_mut().insert(AccessChecked(access));
    match (access, caller.role) {
        (Access::Public, _) => {}
        (Access::Read, None) if !public_read(request) => return Err(unauthenticated()),
        (Access::Read, _) => {}
        (Access::Write | Access::Admin, None) => return Err(unauthenticated()),
        (Access::Write, Some(Role::Viewer)) => {
            return Err(ApiError::Forbidden(format!(
                "token {:?} is a viewer: it may only read",
                caller.name
            )))
        }
        (Access::Write, Some(Role::Editor | Role::Admin)) => {}
        (Access::Admin, Some(Role::Admin)) => {}
        (Access::Admin, Some(_)) => {
            return Err(ApiError::Forbidden(format!(
                "token {:?} is not an admin: committees, groups, indicators, sources, locks and tokens are managed by admins",
                caller.name
            )))
        }
    }
    Ok(caller)
}

macro_rules! access_extractor {
    ($(#[$doc:meta])* $name:ident, $access:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            // Synchronous on purpose: actix runs a handler's extractors in
            // order, and a ready refusal here comes before any other argument
            // (path, query, body) is looked at.
            fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(check(request, $access).map($name))
            }
        }
    };
}

access_extractor!(
    /// Anyone may call: health probes.
    Public,
    Access::Public
);
access_extractor!(
    /// Reads: anyone when `CHITIEU_PUBLIC_READ` is on, otherwise any valid token.
    Reader,
    Access::Read
);
access_extractor!(
    /// Writes of figures, targets and imports: an editor or an admin. The handler
    /// checks the committees with [`Caller::require_committees`].
    Editor,
    Access::Write
);
access_extractor!(
    /// Reference data, locks and tokens: admins only.
    Admin,
    Access::Admin
);

/// Marks a request answered by no handler (the 404/405 default service),
/// which reveals nothing and so needs no rule.
pub fn no_handler(request: &HttpRequest) {
    request
        .extensions_mut()
        .insert(AccessChecked(Access::Public));
}

/// Routes served by libraries, not by our handlers: the documentation.
const LIBRARY_ROUTES: &[&str] = &["/docs", "/docs/{_:.*}", "/api/v1/openapi.json"];

/// Middleware: a route whose handler took no access extractor is refused
/// (500, logged), so that a missing rule fails closed instead of open.
pub async fn require_access_rule(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(request).await?;
    let pattern = response.request().match_pattern();
    let checked = response
        .request()
        .extensions()
        .get::<AccessChecked>()
        .is_some();
    match pattern {
        Some(pattern) if !checked && !LIBRARY_ROUTES.contains(&pattern.as_str()) => {
            let error = ApiError::Internal(anyhow::anyhow!(
                "route {} {pattern} answered without an access rule",
                response.request().method()
            ));
            let (request, _) = response.into_parts();
            Ok(ServiceResponse::new(request, error.error_response()))
        }
        _ => Ok(response.map_into_boxed_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(role: Option<Role>, public_read: bool) -> HttpRequest {
        let request = TestRequest::default()
            .app_data(web::Data::new(AuthSettings { public_read }))
            .to_http_request();
        request.extensions_mut().insert(Caller {
            role,
            ..Caller::anonymous()
        });
        request
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
    fn each_access_rule_admits_exactly_its_roles() {
        use Access::*;
        let roles = [
            None,
            Some(Role::Viewer),
            Some(Role::Editor),
            Some(Role::Admin),
        ];
        // Expected answer per role, in the order above: 0 admitted, else the status.
        let table: [(Access, bool, [u16; 4]); 8] = [
            (Public, true, [0, 0, 0, 0]),
            (Public, false, [0, 0, 0, 0]),
            (Read, true, [0, 0, 0, 0]),
            (Read, false, [401, 0, 0, 0]),
            (Write, true, [401, 403, 0, 0]),
            (Write, false, [401, 403, 0, 0]),
            (Admin, true, [401, 403, 403, 0]),
            (Admin, false, [401, 403, 403, 0]),
        ];
        for (access, open, expected) in table {
            for (role, want) in roles.iter().zip(expected) {
                let got = match check(&request(*role, open), access) {
                    Ok(_) => 0,
                    Err(e) => e.status_code().as_u16(),
                };
                assert_eq!(got, want, "{access:?} public_read={open} role={role:?}");
            }
        }
    }

    #[test]
    fn an_empty_scope_grants_nothing() {
        let editor = Caller {
            role: Some(Role::Editor),
            ..Caller::anonymous()
        };
        assert!(!editor.may_write_for(1));
        assert!(editor.require_committees([1], |id| id.to_string()).is_err());
        assert_eq!(editor.scope().map(HashSet::len), Some(0));
    }
}
