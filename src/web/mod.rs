//! The web app for statisticians and analysts, served at `/` by the same
//! binary: server-rendered HTML (maud), Vietnamese first, no JavaScript needed
//! to read. It calls the same domain and storage functions as the API.
//!
//! Its routes are plain actix routes, not operations of the OpenAPI document;
//! each handler takes an access extractor ([`session::Person`] or
//! [`session::Visitor`]) as the API's handlers do.

pub mod accounts;
mod checks;
pub mod cli;
mod dashboard;
mod entry;
mod group;
mod history;
pub mod home;
mod import;
mod review;
pub mod session;
mod sign_in;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::error::ApiError;
use session::Person;

/// Largest form the app reads (an entry form with every indicator and quote).
const MAX_FORM_BYTES: usize = 512 * 1024;

/// Registers the web app's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
        .route("/", web::get().to(home::home))
        .route("/sign-in", web::get().to(sign_in::form))
        .route("/sign-in", web::post().to(sign_in::submit))
        .route("/sign-out", web::post().to(sign_in::sign_out))
        .route("/entry/{committee}/{period}", web::get().to(entry::form))
        .route("/entry/{committee}/{period}", web::post().to(entry::save))
        .route("/figures/{id}/history", web::get().to(history::history))
        .route("/checks", web::get().to(checks::checks))
        .route("/review", web::get().to(review::form))
        .route("/review", web::post().to(review::propose))
        .route("/review/accept", web::post().to(review::accept))
        .route("/import", web::get().to(import::form))
        .route("/import/preview", web::post().to(import::preview))
        .route("/import/confirm", web::post().to(import::confirm))
        .route("/dashboard/group/{group}", web::get().to(group::group_view))
        .route(
            "/chart/group/{group}/{indicator}",
            web::get().to(group::group_chart),
        )
        .route(
            "/dashboard/{committee}",
            web::get().to(dashboard::dashboard),
        )
        .route(
            "/chart/{committee}/{indicator}",
            web::get().to(dashboard::chart),
        );
}

/// Why a page could not be shown, answered as a page (not problem+json).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign in first")]
    SignInRequired { next: String },
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            // Answered as a redirect to the sign-in page (see `error_response`);
            // the status said here is what the request log records: a refusal
            // of the client, not a server error.
            Self::SignInRequired { .. } => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, detail) = match self {
            Self::SignInRequired { next } => {
                let target = format!(
                    "/sign-in?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .finish();
            }
            Self::Csrf => (
                "Biểu mẫu đã hết hạn".to_owned(),
                "Mã bảo vệ của biểu mẫu không đúng hoặc bị thiếu. Hãy tải lại trang và gửi lại."
                    .to_owned(),
            ),
            Self::Api(e) => {
                // Log as the API does (5xx causes are logged, never shown).
                let _ = e.error_response();
                let problem = e.problem();
                (problem.title, problem.detail)
            }
        };
        let body = page(
            &title,
            None,
            html! {
                h1 { (title) }
                p.error role="alert" { (detail) }
                p { a href="/" { "Về trang chủ" } }
            },
        );
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body.into_string())
    }
}

const STYLE: &str = include_str!("style.css");

/// The frame of every page: title, the signed-in person, the content.
pub fn page(title: &str, person: Option<&Person>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · chitieu" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.top {
                    a.brand href="/" { "chitieu" }
                    @if let Some(person) = person {
                        nav {
                            a href="/" { "Trang chủ" } " · "
                            a href="/checks" { "Kiểm tra" } " · "
                            a href="/review" { "Trích từ bài" } " · "
                            a href="/import" { "Nhập từ tệp" }
                        }
                        span.who { (person.display_name) " (" (person.caller.name) ")" }
                        form.inline method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(person.csrf_token);
                            button type="submit" { "Đăng xuất" }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// A page as a response.
pub fn respond(markup: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}
