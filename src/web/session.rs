//! Who is using the web app: the session cookie, its CSRF token, and the
//! access extractors of web handlers ([`Person`], [`Visitor`]).
//!
//! Like the API's extractors, each applies an access rule through
//! [`crate::auth`], so `require_access_rule` sees that the handler chose one.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::accounts;
use super::WebError;
use crate::auth::{self, hash_token, Access, Caller};
use crate::db::{self, Pool};
use crate::error::ApiError;

/// The session cookie: a random id whose hash is the session's key.
pub const SESSION_COOKIE: &str = "chitieu_session";
/// Before a session exists, the sign-in form's CSRF token lives in this cookie
/// and in the form (double submit).
pub const SIGN_IN_COOKIE: &str = "chitieu_signin";

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person {
    pub caller: Caller,
    pub display_name: String,
    /// The session's CSRF token, which every form of the session posts back.
    pub csrf_token: String,
    session_hash: String,
}

impl Person {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn require_csrf(&self, sent: Option<&str>) -> Result<(), WebError> {
        match sent {
            Some(sent) if same_secret(sent, &self.csrf_token) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    pub fn session_hash(&self) -> &str {
        &self.session_hash
    }
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn sign_in_required(request: &HttpRequest) -> WebError {
    // No session: the rule for writes refuses an anonymous caller (401), which
    // marks the request as checked; the page answers with a way to sign in.
    let _ = auth::check_person(request, Caller::anonymous(), Access::Write);
    WebError::SignInRequired {
        next: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into()),
    }
}

async fn find_person(request: HttpRequest) -> Result<Person, WebError> {
    let Some(cookie) = request.cookie(SESSION_COOKIE) else {
        return Err(sign_in_required(&request));
    };
    let pool = request
        .app_data::<web::Data<Pool>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no database pool")))?;
    let session_hash = hash_token(cookie.value());
    let lookup = session_hash.clone();
    let found = web::block(move || -> Result<_, ApiError> {
        let mut conn = pool.get()?;
        match db::users::find_session(&mut conn, &lookup)? {
            None => Ok(None),
            Some((user, csrf)) => {
                let caller = accounts::caller_of(&mut conn, &user)?;
                Ok(Some((caller, user.display_name, csrf)))
            }
        }
    })
    .await
    .map_err(ApiError::from)??;
    let Some((caller, display_name, csrf_token)) = found else {
        return Err(sign_in_required(&request));
    };
    // Any signed-in person may read; writes check the committee scope
    // (`Caller::require_committees`), which admits no viewer.
    let caller = auth::check_person(&request, caller, Access::Read)?;
    Ok(Person {
        caller,
        display_name,
        csrf_token,
        session_hash,
    })
}

impl FromRequest for Person {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(find_person(request.clone()))
    }
}

/// Anyone: the sign-in page.
#[derive(Debug, Clone)]
pub struct Visitor;

impl FromRequest for Visitor {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            auth::check_person(request, Caller::anonymous(), Access::Public)
                .map(|_| Visitor)
                .map_err(WebError::from),
        )
    }
}

/// Whether the browser reached us over TLS (directly or through a proxy that
/// says so with `X-Forwarded-Proto`/`Forwarded`): then cookies are `Secure`.
fn over_tls(request: &HttpRequest) -> bool {
    request.connection_info().scheme() == "https"
}

/// A cookie the page's scripts cannot read, sent only to this site's pages.
pub fn cookie(request: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(over_tls(request))
        .max_age(CookieDuration::seconds(
            accounts::SESSION_LIFETIME.num_seconds(),
        ))
        .finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(request: &HttpRequest, name: &'static str) -> Cookie<'static> {
    let mut gone = cookie(request, name, String::new());
    gone.make_removal();
    gone
}

/// A reader of something other sites may embed (a chart): the signed-in
/// person if the browser sends a session, otherwise whoever the token
/// middleware found (a token or nobody), under the API's rule for reads
/// (`CHITIEU_PUBLIC_READ`).
#[derive(Debug, Clone)]
pub struct Reading(pub Caller);

async fn find_reader(request: HttpRequest) -> Result<Reading, WebError> {
    if request.cookie(SESSION_COOKIE).is_some() {
        if let Ok(person) = find_person(request.clone()).await {
            return Ok(Reading(person.caller));
        }
    }
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous);
    Ok(Reading(auth::check_person(&request, caller, Access::Read)?))
}

impl FromRequest for Reading {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(find_reader(request.clone()))
    }
}
