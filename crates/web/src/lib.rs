//! HTTP layer of Trường Số: server-rendered Vietnamese pages (askama + htmx) and the JSON API
//! under `/api/v1`, over the same store calls. Handlers are thin: parse → authorise → call the
//! store → render.

pub mod api;
pub mod assets;
pub mod ctx;
pub mod error;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod routes;
pub mod view;

use std::sync::Arc;
use std::time::Instant;
use truongso_store::Store;

/// Settings the web layer needs (the CLI fills them from the TOML file and `TRUONGSO_*`).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Idle lifetime of a session; activity slides it.
    pub session_ttl: chrono::Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::hours(8),
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub cfg: Arc<WebConfig>,
    pub metrics: Arc<metrics::Metrics>,
    pub started: Instant,
}

impl AppState {
    pub fn new(store: Store, cfg: WebConfig) -> Self {
        Self {
            store,
            cfg: Arc::new(cfg),
            metrics: Arc::new(metrics::Metrics::new()),
            started: Instant::now(),
        }
    }
}

/// The whole application router.
pub fn app(state: AppState) -> axum::Router {
    routes::build(state).0
}
