//! Signing in and out.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use super::accounts::{self, SignInRefused, MAX_FAILURES, THROTTLE_WINDOW};
use super::session::{self, Person, Visitor, SESSION_COOKIE, SIGN_IN_COOKIE};
use super::{page, WebError};
use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::routes::with_conn;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// Where to go after signing in: a path of this site only, never another
/// site (`//host`), so the sign-in page cannot be used to send people away.
fn local_target(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines and read `\` as `/`: `/\tevil` or
        // `/\evil` would become `//evil`, another site.
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.chars().any(|c| c == '\\' || c.is_control()) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn sign_in_page(
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let markup = page(
        "Đăng nhập",
        None,
        html! {
            h1 { "Đăng nhập" }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="next" value=(next);
                p {
                    label for="username" { "Tên đăng nhập" } br;
                    input #username name="username" autocomplete="username" required value=(username);
                }
                p {
                    label for="password" { "Mật khẩu" } br;
                    input #password type="password" name="password" autocomplete="current-password" required;
                }
                p { button.primary type="submit" { "Đăng nhập" } }
            }
        },
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// The sign-in form. Its CSRF token goes both into a cookie and into the form.
pub async fn form(
    _: Visitor,
    request: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let csrf = accounts::random_hex()?;
    let next = local_target(query.next.as_deref());
    let mut response = sign_in_page(&csrf, &next, "", None, StatusCode::OK);
    response
        .add_cookie(&session::cookie(&request, SIGN_IN_COOKIE, csrf))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(response)
}

pub async fn submit(
    _: Visitor,
    request: HttpRequest,
    pool: web::Data<Pool>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let expected = request.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_owned());
    match (&expected, &form.csrf) {
        (Some(expected), Some(sent)) if session::same_secret(expected, sent) => {}
        _ => return Err(WebError::Csrf),
    }
    let csrf = expected.unwrap_or_default();
    let next = local_target(form.next.as_deref());
    let username = form.username.clone();
    let outcome = with_conn(&pool, move |conn| {
        Ok(accounts::sign_in(conn, &form.username, &form.password))
    })
    .await?;
    match outcome {
        Ok(new) => {
            let mut response = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .finish();
            response
                .add_cookie(&session::cookie(&request, SESSION_COOKIE, new.cookie))
                .and_then(|_| response.add_cookie(&session::removal(&request, SIGN_IN_COOKIE)))
                .map_err(|e| ApiError::Internal(e.into()))?;
            Ok(response)
        }
        Err(SignInRefused::BadCredentials) => Ok(sign_in_page(
            &csrf,
            &next,
            &username,
            Some("Tên đăng nhập hoặc mật khẩu không đúng."),
            StatusCode::UNAUTHORIZED,
        )),
        Err(SignInRefused::Throttled) => {
            let mut response = sign_in_page(
                &csrf,
                &next,
                &username,
                Some(&format!(
                    "Đã sai mật khẩu {MAX_FAILURES} lần trong {} phút: hãy thử lại sau.",
                    THROTTLE_WINDOW.num_minutes()
                )),
                StatusCode::TOO_MANY_REQUESTS,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(THROTTLE_WINDOW.num_seconds()),
            );
            Ok(response)
        }
        Err(SignInRefused::Error(e)) => Err(e.into()),
    }
}

/// Ends the session (a form with the session's CSRF token, so that another
/// site cannot sign a person out).
pub async fn sign_out(
    person: Person,
    request: HttpRequest,
    pool: web::Data<Pool>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    person.require_csrf(form.csrf.as_deref())?;
    let session_hash = person.session_hash().to_owned();
    with_conn(&pool, move |conn| {
        Ok(db::users::delete_session(conn, &session_hash)?)
    })
    .await?;
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/sign-in"))
        .finish();
    response
        .add_cookie(&session::removal(&request, SESSION_COOKIE))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn after_signing_in_only_this_site_is_a_target() {
        assert_eq!(
            local_target(Some("/entry/a/2024-Q1?x=1")),
            "/entry/a/2024-Q1?x=1"
        );
        for elsewhere in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "",
        ] {
            assert_eq!(local_target(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local_target(None), "/");
    }
}
