//! Server-rendered pages, one module per capability.

pub mod account;
pub mod audit;
pub mod auth;
pub mod classes;
pub mod credentials;
pub mod facilities;
pub mod gradebook;
pub mod health;
pub mod home;
pub mod imports;
pub mod learners;
pub mod org;
pub mod quality;
pub mod staff;
pub mod stats;
pub mod stats_reports;
pub mod users;
pub mod verify;

use crate::AppState;
use crate::ctx::ReqCtx;
use crate::error::AppError;
use crate::view::{Layout, render};
use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    heading: String,
    message: String,
}

/// The error page, inside the normal layout so the user keeps their navigation.
pub async fn error_page(_st: &AppState, ctx: &ReqCtx, e: &AppError) -> Response {
    let heading_key = match e.status {
        StatusCode::FORBIDDEN => "error_title.forbidden",
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => "error_title.not_found",
        s if s.is_server_error() => "error_title.internal",
        _ => "error_title.bad_request",
    };
    let l = Layout::titled(ctx, heading_key);
    let page = ErrorPage {
        heading: l.title.clone(),
        message: crate::api::message(ctx.locale, e),
        l,
    };
    render(e.status, &page)
}

/// `Form<T>` whose rejection is one of our errors (with the parser's detail).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, s: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, s).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(r.status(), "payload_too_large").with("max", "1 MiB"))
            }
            Err(r) => Err(AppError::bad_request("malformed_form").with("detail", r.body_text())),
        }
    }
}

/// The end of every form post: success redirects with a message; an input error re-renders
/// the form with what was typed; anything else (403, 500…) is passed on.
pub async fn after_write<T, Fut>(
    result: Result<T, AppError>,
    ok: impl FnOnce(T) -> Response,
    rerender: impl FnOnce(AppError) -> Fut,
) -> Result<Response, AppError>
where
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    match result {
        Ok(v) => Ok(ok(v)),
        Err(e)
            if e.status.is_client_error()
                && !matches!(e.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED) =>
        {
            rerender(e).await
        }
        Err(e) => Err(e),
    }
}

/// Empty strings from forms mean "not given".
pub fn blank(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub fn parse_uuid(s: &Option<String>, field: &'static str) -> Result<Option<uuid::Uuid>, AppError> {
    blank(s)
        .map(|v| {
            uuid::Uuid::parse_str(&v)
                .map_err(|_| AppError::invalid(field, truongso_core::DomainError::InvalidCharacters))
        })
        .transpose()
}
