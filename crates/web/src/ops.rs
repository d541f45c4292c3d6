//! Operations endpoints: liveness, readiness (database reachable, schema current), metrics.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and its schema is the one this binary expects, so a load
/// balancer never routes to a node whose migrations have not run.
pub async fn readyz(State(st): State<AppState>) -> Response {
    match st.store.pending_migrations().await {
        Ok(0) => (StatusCode::OK, "ready").into_response(),
        Ok(n) => (StatusCode::SERVICE_UNAVAILABLE, format!("{n} pending migrations")).into_response(),
        Err(e) => {
            tracing::warn!("not ready: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

pub async fn metrics(State(st): State<AppState>) -> Response {
    st.metrics
        .uptime_seconds
        .set(st.started.elapsed().as_secs() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.render(),
    )
        .into_response()
}
