//! Login, logout and the language switch.

use crate::AppState;
use crate::ctx::{Ctx, Via};
use crate::middleware::{LANG_COOKIE, SESSION_COOKIE, cookie, flash_redirect, removal};
use crate::pages::PageForm;
use crate::view::{Layout, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::SameSite;
use serde::Deserialize;
use truongso_core::i18n::{self, Locale};
use truongso_store::sessions::{self, LoginFailure};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    username: String,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site relative paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn form(Ctx(ctx): Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.principal.is_some() {
        return Redirect::to("/").into_response();
    }
    page(&LoginPage {
        l: Layout::titled(&ctx, "login.title"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// The client address: the TCP peer, or the first `X-Forwarded-For` hop behind a trusted proxy.
fn client_ip(
    st: &AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> std::net::IpAddr {
    let forwarded = st.cfg.behind_proxy.then(|| {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    });
    forwarded
        .flatten()
        .or(peer.map(|p| p.ip()))
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

pub async fn submit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: axum::http::HeaderMap,
    PageForm(f): PageForm<LoginForm>,
) -> crate::error::AppResult<Response> {
    let ip = client_ip(&st, &headers, ctx.peer);
    if st.login_blocked(ip) {
        let msg = i18n::t(ctx.locale, "error.too_many_attempts").to_string();
        let l = Layout::titled(&ctx, "login.title").with_message("error", msg);
        let page = LoginPage {
            l,
            next: safe_next(f.next.as_deref()),
            username: String::new(),
        };
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &page));
    }
    let outcome = sessions::login(&st.store.db, &f.username, &f.password, st.cfg.session_ttl).await?;
    match outcome {
        Ok(s) => {
            let mut r = Redirect::to(&safe_next(f.next.as_deref())).into_response();
            let c = cookie(SESSION_COOKIE, s.token, st.cfg.secure_cookies, SameSite::Lax);
            r.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_str(&c.to_string()).expect("cookie is ASCII"),
            );
            Ok(r)
        }
        Err(failure) => {
            st.metrics.logins_failed.inc();
            st.record_login_failure(ip);
            let (status, msg) = match failure {
                LoginFailure::BadCredentials => (
                    StatusCode::UNAUTHORIZED,
                    i18n::t(ctx.locale, "error.bad_credentials").to_string(),
                ),
                LoginFailure::Disabled => (
                    StatusCode::FORBIDDEN,
                    i18n::t(ctx.locale, "error.account_disabled").to_string(),
                ),
                LoginFailure::Locked { minutes_left } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    i18n::tf(
                        ctx.locale,
                        "error.account_locked",
                        &[("minutes", minutes_left.to_string())],
                    ),
                ),
            };
            let l = Layout::titled(&ctx, "login.title").with_message("error", msg);
            let username: String = f.username.chars().take(64).collect();
            Ok(render(
                status,
                &LoginPage {
                    l,
                    next: safe_next(f.next.as_deref()),
                    username,
                },
            ))
        }
    }
}

pub async fn logout(State(st): State<AppState>, Ctx(ctx): Ctx) -> crate::error::AppResult<Response> {
    if let Some(p) = &ctx.principal
        && let Via::Session { session_id } = &p.via
    {
        let info = sessions::SessionInfo {
            session_id: session_id.clone(),
            csrf_token: String::new(),
            user: p.user.clone(),
            actor: p.actor.clone(),
            grants: vec![],
        };
        sessions::logout(&st.store.db, &info).await?;
    }
    let mut r = flash_redirect("/login", "info", "login.logged_out", vec![]);
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&removal(SESSION_COOKIE).to_string()).expect("ASCII"),
    );
    Ok(r)
}

/// Switches the interface language (a preference cookie only).
/// Switches the language and returns to `?next=` (a same-site path; the public pages use it so
/// a visitor without an account stays where they were), else to the dashboard.
pub async fn set_language(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let locale = Locale::parse(&code).unwrap_or_default();
    let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    let c = cookie(LANG_COOKIE, locale.as_str().to_string(), false, SameSite::Lax);
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c.to_string()).expect("ASCII"),
    );
    r
}
