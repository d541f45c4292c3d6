//! The transparency log over HTTP, as c2sp.org/tlog-tiles lays it out, so anyone can mirror and
//! check it with plain HTTP and no account: `/log/checkpoint` (the newest cosigned checkpoint),
//! `/log/tile/<L>/<N>[.p/<W>]` and `/log/tile/entries/<N>[.p/<W>]` (computed from the database
//! for the newest checkpoint's size), and `/log/vkey` (the key checkpoints are signed with).
//!
//! These answer tools rather than browsers, so errors are short plain-text bodies in Vietnamese
//! and English (a tool has no locale), never the HTML error page.

use crate::AppState;
use crate::middleware::KeepBody;
use crate::routes::{Access, Builder};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use truongso_core::i18n::{self, Locale};
use truongso_ledger::tiles::{TileError, TilePath};
use truongso_store::ledger;

pub(crate) fn routes(b: Builder) -> Builder {
    b.add("GET", "/log/checkpoint", Access::Public, get(checkpoint))
        .add("GET", "/log/vkey", Access::Public, get(vkey))
        .add("GET", "/log/tile/{*path}", Access::Public, get(tile))
}

/// A checkpoint changes with every publication: clients may reuse one for a few seconds only.
const CHECKPOINT_CACHE: &str = "public, max-age=5";
/// A full tile never changes (the log is append-only and a full tile covers complete subtrees).
const FULL_TILE_CACHE: &str = "public, max-age=31536000, immutable";
/// A partial tile's bytes are fixed too, but the log may stop serving it once the full tile
/// exists, so it is cached briefly.
const PARTIAL_TILE_CACHE: &str = "public, max-age=60";

fn with_headers(mut r: Response, content_type: &'static str, cache: &'static str) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// A plain-text answer in both languages, kept as written by the pipeline.
pub(crate) fn text_error(status: StatusCode, key: &str, params: &[(&str, String)]) -> Response {
    let body = format!(
        "{}\n{}\n",
        i18n::tf(Locale::Vi, key, params),
        i18n::tf(Locale::En, key, params)
    );
    let mut r = with_headers(
        (status, body).into_response(),
        "text/plain; charset=utf-8",
        "no-store",
    );
    r.extensions_mut().insert(KeepBody);
    r
}

fn internal(e: impl std::fmt::Display) -> Response {
    let id = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
    tracing::error!(error_id = %id, "log endpoint: {e}");
    text_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "verify.log.internal",
        &[("id", id)],
    )
}

/// The newest checkpoint with every cosignature it gathered.
pub async fn checkpoint(State(st): State<AppState>) -> Response {
    match ledger::latest_checkpoint(&st.store.db).await {
        Ok(Some((_, note))) => with_headers(
            note.into_response(),
            "text/plain; charset=utf-8",
            CHECKPOINT_CACHE,
        ),
        Ok(None) => text_error(StatusCode::NOT_FOUND, "verify.log.no_checkpoint", &[]),
        Err(e) => internal(e),
    }
}

/// The verifier key of the log (`<origin>+<key id>+<base64 key>`), for relying parties.
pub async fn vkey(State(st): State<AppState>) -> Response {
    match &st.credentials {
        Some(c) => with_headers(
            format!("{}\n", c.log_vkey()).into_response(),
            "text/plain; charset=utf-8",
            CHECKPOINT_CACHE,
        ),
        None => text_error(StatusCode::SERVICE_UNAVAILABLE, "verify.log.not_configured", &[]),
    }
}

/// One hash tile or entry bundle of the tree the newest checkpoint commits to.
pub async fn tile(State(st): State<AppState>, Path(rest): Path<String>) -> Response {
    let path = match TilePath::parse(&format!("tile/{rest}")) {
        Ok(p) => p,
        Err(e) => {
            return text_error(
                StatusCode::BAD_REQUEST,
                "verify.log.malformed_tile",
                &[("detail", e.to_string())],
            );
        }
    };
    // Only what a published checkpoint covers: a tile of leaves appended since would let a
    // client see entries no checkpoint vouches for yet.
    let size = match ledger::latest_checkpoint(&st.store.db).await {
        Ok(Some((size, _))) => size,
        Ok(None) => return text_error(StatusCode::NOT_FOUND, "verify.log.no_checkpoint", &[]),
        Err(e) => return internal(e),
    };
    match ledger::tile(&st.store.db, &path, size).await {
        Ok(Ok(bytes)) => with_headers(
            bytes.into_response(),
            "application/octet-stream",
            if path.is_partial() {
                PARTIAL_TILE_CACHE
            } else {
                FULL_TILE_CACHE
            },
        ),
        Ok(Err(TileError::BeyondTree { tree_size })) => text_error(
            StatusCode::NOT_FOUND,
            "verify.log.beyond_tree",
            &[("path", path.to_path()), ("size", tree_size.to_string())],
        ),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}
