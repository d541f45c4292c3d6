//! The public verification API, open without an account like the pages it mirrors
//! (`pages::verify`): verify an uploaded PDF, read a document's standing in the log and its
//! proof bundle, and look a diploma up. Rate limits per client address answer 429 with
//! `Retry-After`.

use crate::AppState;
use crate::api::{ApiJson, ErrorBody, error_json};
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::pages::verify::{self as pv, LogStatus, LookupInput, LookupResult, VerifyResult};
use crate::routes::{Access, Builder};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use truongso_core::credentials::record::valid_doc_id;
use truongso_core::i18n::Locale;
use utoipa::ToSchema;

/// `upload` is the largest PDF accepted, in bytes.
pub(crate) fn routes(b: Builder, upload: usize) -> Builder {
    b.add(
        "POST",
        "/api/v1/verify",
        Access::Public,
        post(verify).layer(DefaultBodyLimit::max(upload)),
    )
    .add(
        "GET",
        "/api/v1/credentials/{id}/status",
        Access::Public,
        get(status),
    )
    .add(
        "GET",
        "/api/v1/credentials/{id}/proof",
        Access::Public,
        get(proof),
    )
    .add("POST", "/api/v1/diplomas/lookup", Access::Public, post(lookup))
}

/// An error as JSON, with `Retry-After` on a 429.
fn fail(locale: Locale, e: &AppError) -> Response {
    pv::retry_after(error_json(locale, e), e)
}

/// The multipart form of `POST /api/v1/verify`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyForm {
    /// The PDF to verify (`application/pdf`, at most the server's upload limit, 20 MiB by
    /// default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The document id from the QR code (`HB-…` or `VB-…`); with `h`, checked against the file.
    doc: Option<String>,
    /// The hash from the QR code (64 hex digits).
    h: Option<String>,
}

/// Verifies a học bạ or diploma PDF against this server's log: signatures, certificate chains,
/// nothing changed after the last signature, the embedded record, the checkpoint and its witness
/// cosignatures, inclusion, and the document's standing. `valid` is true only when every check
/// ran and passed. The record's facts come back only when the file itself proves them.
#[utoipa::path(post, path = "/api/v1/verify", tag = "verify", security(()),
    request_body(content = VerifyForm, content_type = "multipart/form-data"),
    responses((status = 200, body = VerifyResult), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn verify(State(st): State<AppState>, Ctx(ctx): Ctx, headers: HeaderMap, req: Request) -> Response {
    if let Err(secs) = st.public_limits.verify.hit(pv::client_ip(&st, &headers, &ctx)) {
        return fail(ctx.locale, &pv::verify_limited(secs));
    }
    let up = match pv::read_upload(&st, req).await {
        Ok(u) => u,
        Err(errors) => return fail(ctx.locale, &errors[0]),
    };
    match pv::verify(&st, ctx.locale, up).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => fail(ctx.locale, &e),
    }
}

/// A document's standing as the public log records it (ids, hashes, leaf indexes; nothing
/// personal).
#[utoipa::path(get, path = "/api/v1/credentials/{id}/status", tag = "verify", security(()),
    params(("id" = String, Path, description = "Document id, `HB-…` or `VB-…`")),
    responses((status = 200, body = LogStatus), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !valid_doc_id(&id) {
        let e = AppError {
            field: Some("id"),
            ..AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "public.bad_doc_id")
        };
        return fail(ctx.locale, &e);
    }
    if let Err(secs) = st.public_limits.verify.hit(pv::client_ip(&st, &headers, &ctx)) {
        return fail(ctx.locale, &pv::verify_limited(secs));
    }
    match pv::log_status(&st, &id).await {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => fail(ctx.locale, &pv::unknown_document(&id)),
        Err(e) => fail(ctx.locale, &e),
    }
}

/// The document's offline proof bundle (c2sp.org/tlog-proof@v1 text): the inclusion path of its
/// issuing event under the newest checkpoint, and that checkpoint with its cosignatures.
#[utoipa::path(get, path = "/api/v1/credentials/{id}/proof", tag = "verify", security(()),
    params(("id" = String, Path, description = "Document id, `HB-…` or `VB-…`")),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn proof(State(st): State<AppState>, Ctx(ctx): Ctx, Path(id): Path<String>) -> Response {
    match pv::proof_text(&st, &id).await {
        Ok(text) => pv::proof_response(&id, text),
        Err(e) => fail(ctx.locale, &e),
    }
}

/// The public diploma lookup (Thông tư 21/2019): số hiệu, họ và tên and ngày sinh must all match
/// an issued diploma. No match is a neutral `found: false` that never says which field missed.
/// Limited per client address; every lookup is audited with keyed digests of what was typed.
#[utoipa::path(post, path = "/api/v1/diplomas/lookup", tag = "verify", security(()),
    request_body = LookupInput,
    responses((status = 200, body = LookupResult), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn lookup(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LookupInput>,
) -> Response {
    match pv::lookup(&st, &ctx, &headers, &input).await {
        Ok(r) => Json(r).into_response(),
        Err(errors) => fail(ctx.locale, &errors[0]),
    }
}
