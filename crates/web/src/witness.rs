//! The witness another office runs (`truongso witness`): it follows some logs, and cosigns a
//! checkpoint only if it is consistent with the last one it cosigned for that log (c2sp
//! tlog-witness: `POST /add-checkpoint`). Its memory — the latest (size, root) per log — lives in
//! its own database and moves only by compare-and-swap, so two concurrent requests can never roll
//! it back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;
use truongso_ledger::witness::{
    AddCheckpointRequest, CONFLICT_CONTENT_TYPE, TreeState, Witness, WitnessError,
};
use truongso_store::Store;

pub struct WitnessService {
    pub witness: Witness,
    pub store: Store,
}

/// Largest request body: 63 proof lines, a checkpoint and its signatures.
const MAX_BODY: usize = 64 * 1024;

pub fn router(service: Arc<WitnessService>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}

fn refusal(e: &WitnessError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match e.conflict_body() {
        Some(body) => (status, [(header::CONTENT_TYPE, CONFLICT_CONTENT_TYPE)], body).into_response(),
        None => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{e}\n"),
        )
            .into_response(),
    }
}

async fn add_checkpoint(State(s): State<Arc<WitnessService>>, body: Bytes) -> Response {
    let req = match AddCheckpointRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => return refusal(&e),
    };
    let stored = match truongso_store::ledger::witness_head(&s.store.db, req.origin()).await {
        Ok(h) => h.map(|(size, root)| TreeState { size, root }),
        Err(e) => {
            tracing::error!(error = %e, "witness state unreadable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let cosigned = match s.witness.cosign(&req, stored.as_ref(), now) {
        Ok(c) => c,
        Err(e) => return refusal(&e),
    };
    let u = &cosigned.update;
    let old = stored.as_ref().map(|t| t.size);
    match truongso_store::ledger::advance_witness_head(
        &s.store.db,
        &u.origin,
        old,
        u.new_state.size,
        &u.new_state.root,
    )
    .await
    {
        Ok(true) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            cosigned.response_body,
        )
            .into_response(),
        // Someone else moved the head in between: report where it is now, cosign nothing.
        Ok(false) => {
            let latest = truongso_store::ledger::witness_head(&s.store.db, &u.origin)
                .await
                .ok()
                .flatten()
                .map_or(0, |(size, _)| size);
            refusal(&WitnessError::Conflict { latest_size: latest })
        }
        Err(e) => {
            tracing::error!(error = %e, "witness state not saved");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
