//! The request pipeline around every handler: resolve locale and principal, enforce CSRF on
//! unsafe methods, render errors for the API (JSON) or the browser (page), set security
//! headers, record metrics and a log line without personal data.

use crate::AppState;
use crate::ctx::{Flash, Principal, ReqCtx, Via};
use crate::error::AppError;
use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use std::sync::Arc;
use std::time::Instant;
use truongso_core::i18n::Locale;
use truongso_store::{sessions, tokens};

pub const SESSION_COOKIE: &str = "ts_session";
pub const PRE_COOKIE: &str = "ts_pre";
pub const FLASH_COOKIE: &str = "ts_flash";
pub const LANG_COOKIE: &str = "ts_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

pub fn cookie(name: &'static str, value: String, secure: bool, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .build()
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build((name, "")).path("/").build();
    c.make_removal();
    c
}

fn set_cookie(headers: &mut HeaderMap, c: Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        headers.append(header::SET_COOKIE, v);
    }
}

pub fn encode_flash(f: &Flash) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(f).unwrap_or_default())
}

fn decode_flash(s: &str) -> Option<Flash> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A redirect that shows a message on the next page.
pub fn flash_redirect(to: &str, kind: &str, key: &str, params: Vec<(&str, String)>) -> Response {
    let f = Flash {
        kind: kind.into(),
        key: key.into(),
        params: params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    };
    let mut r = Redirect::to(to).into_response();
    set_cookie(
        r.headers_mut(),
        cookie(FLASH_COOKIE, encode_flash(&f), false, SameSite::Lax),
    );
    r
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded_pairs(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
}

pub async fn pipeline(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let is_api = path.starts_with("/api/");
    let mut resp = handle(&st, req, next, &path, is_api).await;
    security_headers(resp.headers_mut(), route.starts_with("/static/"));
    let status = resp.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    st.metrics.observe(method.as_str(), &route, status, secs);
    tracing::info!(method = %method, route = %route, status, ms = secs * 1000.0, "request");
    resp
}

async fn handle(st: &AppState, mut req: Request, next: Next, path: &str, is_api: bool) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let locale = jar
        .get(LANG_COOKIE)
        .and_then(|c| Locale::parse(c.value()))
        .unwrap_or_else(|| {
            // Pages are Vietnamese unless the user picks English (many Vietnamese users run
            // English-language browsers); API clients may ask with Accept-Language.
            if !is_api {
                return Locale::Vi;
            }
            let al = req
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Locale::from_accept_language(al)
        });
    let ctx_for_errors = |principal| ReqCtx {
        locale,
        principal,
        csrf: String::new(),
        stale_session: false,
        flash: None,
        path: path.to_string(),
        is_api,
        peer: None,
    };

    // Oversized bodies are refused before anything reads them. Spreadsheet uploads have their
    // own, larger limit.
    let limit = if is_upload(req.uri().path()) {
        st.cfg.max_upload_bytes
    } else {
        st.cfg.max_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|n| *n > limit) {
        // Read (and discard) a moderately oversized body before answering: a server that
        // answers mid-upload and closes makes most clients report a broken pipe instead of
        // showing the message. Past the drain limit the connection is simply dropped.
        if n <= DRAIN_LIMIT {
            drain(req.into_body()).await;
        }
        let e = too_large(limit);
        return render_error(st, &ctx_for_errors(None), e).await;
    }

    // Who is asking.
    let mut principal = None;
    let mut session_csrf = None;
    let mut stale_session = false;
    if let Some(tok) = bearer(req.headers()) {
        match tokens::authenticate(&st.store.db, &tok).await {
            Ok(Some((user, actor, grants))) => {
                principal = Some(Principal {
                    user,
                    actor,
                    grants,
                    via: Via::Token,
                })
            }
            Ok(None) => {
                let e = AppError::new(StatusCode::UNAUTHORIZED, "invalid_token");
                return render_error(st, &ctx_for_errors(None), e).await;
            }
            Err(e) => return render_error(st, &ctx_for_errors(None), e.into()).await,
        }
    } else if let Some(c) = jar.get(SESSION_COOKIE) {
        match sessions::lookup(&st.store.db, c.value(), st.cfg.session_ttl).await {
            Ok(Some(info)) => {
                session_csrf = Some(info.csrf_token.clone());
                principal = Some(Principal {
                    user: info.user,
                    actor: info.actor,
                    grants: info.grants,
                    via: Via::Session {
                        session_id: info.session_id,
                    },
                });
            }
            Ok(None) => stale_session = true,
            Err(e) => return render_error(st, &ctx_for_errors(None), e.into()).await,
        }
    }

    // The token forms must carry: the session's, or a pre-session cookie for the login form.
    let mut new_pre = None;
    let expected_csrf = match &session_csrf {
        Some(t) => t.clone(),
        None => match jar.get(PRE_COOKIE) {
            Some(c) if c.value().len() >= 32 => c.value().to_string(),
            _ => {
                let t = sessions::random_token(32);
                new_pre = Some(t.clone());
                t
            }
        },
    };

    if is_unsafe(req.method()) {
        // Bearer tokens are not sent by browsers on their own, so they need no CSRF token; an
        // anonymous API call is refused by the handler anyway.
        let needs_check = !matches!(
            (&principal, is_api),
            (Some(Principal { via: Via::Token, .. }), _) | (None, true)
        ) && !csrf_exempt(req.method(), req.uri().path());
        if needs_check {
            let mut provided = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let is_form = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            if provided.is_none() && is_form {
                let (parts, body) = req.into_parts();
                let bytes = match to_bytes(body, st.cfg.max_body_bytes).await {
                    Ok(b) => b,
                    Err(_) => {
                        let e = too_large(st.cfg.max_body_bytes);
                        return render_error(st, &ctx_for_errors(principal), e).await;
                    }
                };
                provided = form_field(&bytes, CSRF_FIELD);
                req = Request::from_parts(parts, Body::from(bytes));
            }
            if !provided.is_some_and(|p| constant_time_eq(&p, &expected_csrf)) {
                let e = AppError::new(StatusCode::FORBIDDEN, "csrf");
                return render_error(st, &ctx_for_errors(principal), e).await;
            }
        }
    }

    let flash = jar.get(FLASH_COOKIE).and_then(|c| decode_flash(c.value()));
    let had_flash = flash.is_some();
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let ctx = ReqCtx {
        locale,
        principal,
        csrf: expected_csrf,
        stale_session,
        flash,
        path: path.to_string(),
        is_api,
        peer,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut resp = next.run(req).await;

    // Errors raised by handlers or by axum itself become rendered errors.
    if let Some(e) = resp.extensions().get::<Arc<AppError>>().cloned() {
        resp = render_error(st, &ctx, (*e).clone()).await;
    } else if let Some(e) = plain_error(&resp, st.cfg.max_body_bytes) {
        resp = render_error(st, &ctx, e).await;
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().is_ok_and(|s| s.starts_with("text/html")));
    let headers = resp.headers_mut();
    if let Some(t) = new_pre.filter(|_| is_html) {
        set_cookie(
            headers,
            cookie(PRE_COOKIE, t, st.cfg.secure_cookies, SameSite::Strict),
        );
    }
    if stale_session {
        set_cookie(headers, removal(SESSION_COOKIE));
    }
    if had_flash && resp.status() == StatusCode::OK {
        set_cookie(resp.headers_mut(), removal(FLASH_COOKIE));
    }
    resp
}

/// Oversized bodies up to this size are read and discarded so the client sees the 413.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let mut read = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |d| d.len());
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

/// Routes that accept uploads (spreadsheets; PDFs to verify).
pub fn is_upload(path: &str) -> bool {
    path.starts_with("/import/")
        || path.starts_with("/api/v1/imports/")
        || path == "/stats/population"
        || path == "/api/v1/stats/population"
        || path == "/xac-minh"
        || path == "/api/v1/verify"
}

/// The public verify form posts a PDF as multipart, which carries no CSRF field the pipeline can
/// read, and a browser without JavaScript sends no header. It needs no token: it acts for nobody
/// (no session state is read or changed) and a cross-site poster cannot read the answer.
fn csrf_exempt(method: &Method, path: &str) -> bool {
    method == Method::POST && path == "/xac-minh"
}

/// Marks a response whose plain-text error body the handler wrote on purpose (the log's files
/// answer tools, not browsers), so the pipeline does not replace it with an error page.
#[derive(Debug, Clone, Copy)]
pub struct KeepBody;

fn too_large(max: usize) -> AppError {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        .with("max", format!("{} KiB", max / 1024))
}

/// Maps axum's own plain-text rejections (unknown route, wrong method, body too large…) to
/// our errors so every failure has a code and a Vietnamese message.
fn plain_error(resp: &Response, max: usize) -> Option<AppError> {
    if resp.extensions().get::<KeepBody>().is_some() {
        return None;
    }
    let is_plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|ct| ct.to_str().is_ok_and(|s| s.starts_with("text/plain")));
    if !is_plain {
        return None;
    }
    match resp.status() {
        StatusCode::NOT_FOUND => Some(AppError::not_found()),
        StatusCode::METHOD_NOT_ALLOWED => Some(AppError::new(StatusCode::METHOD_NOT_ALLOWED, "not_found")),
        StatusCode::PAYLOAD_TOO_LARGE => Some(too_large(max)),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )),
        _ => None,
    }
}

async fn render_error(st: &AppState, ctx: &ReqCtx, e: AppError) -> Response {
    if ctx.is_api {
        return crate::api::error_json(ctx.locale, &e);
    }
    if e.status == StatusCode::UNAUTHORIZED {
        let next = if ctx.path == "/" || ctx.path.starts_with("/login") {
            String::new()
        } else {
            format!("?next={}", urlencode(&ctx.path))
        };
        return flash_redirect(
            &format!("/login{next}"),
            "info",
            &format!("error.{}", e.code),
            vec![],
        );
    }
    crate::pages::error_page(st, ctx, &e).await
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded_byte_serialize(s)
}

fn form_urlencoded_byte_serialize(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|v| v.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn security_headers(h: &mut HeaderMap, is_static: bool) {
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
}
