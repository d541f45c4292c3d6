//! HTTP layer of Trường Số: server-rendered Vietnamese pages (askama + htmx) and the JSON API
//! under `/api/v1`, over the same store calls. Handlers are thin: parse → authorise → call the
//! store → render.

pub mod api;
pub mod assets;
pub mod credentials;
pub mod ctx;
pub mod error;
pub mod jobs;
pub mod ledger_http;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod routes;
pub mod scope;
pub mod view;
pub mod witness;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use truongso_core::org::OrgPath;
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
    /// Failed logins allowed from one client address per window before its logins are refused
    /// for the rest of the window (slows password spraying across many accounts; each account
    /// also locks after 5 failures).
    pub login_failures_per_ip: u32,
    pub login_failure_window: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub behind_proxy: bool,
    /// Largest uploaded spreadsheet, in bytes (imports only).
    pub max_upload_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::hours(8),
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            login_failures_per_ip: 50,
            login_failure_window: Duration::from_secs(15 * 60),
            behind_proxy: false,
            max_upload_bytes: 20 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub cfg: Arc<WebConfig>,
    pub metrics: Arc<metrics::Metrics>,
    pub started: Instant,
    /// Field-level encryption for sensitive records (identity numbers, health).
    pub cipher: Arc<truongso_store::crypto::FieldCipher>,
    /// Subtree counters shown on dashboards, recomputed at most every `COUNTS_TTL`.
    counts: Arc<Mutex<HashMap<String, (Instant, SubtreeCounts)>>>,
    /// Failed logins per client address: (window start, count).
    login_failures: Arc<Mutex<HashMap<std::net::IpAddr, (Instant, u32)>>>,
    /// Progress of running jobs: (rows done, rows in all).
    progress: Arc<Mutex<HashMap<uuid::Uuid, (u32, u32)>>>,
    /// Học bạ số / văn bằng số: the log key, trust roots, fonts (None when not set up).
    pub credentials: Option<Arc<credentials::Credentials>>,
    /// Per-address limits of the public verify page and diploma lookup.
    pub public_limits: Arc<pages::verify::PublicLimits>,
}

#[derive(Debug, Clone, Copy)]
pub struct SubtreeCounts {
    pub units: u64,
    pub schools: u64,
    pub users: u64,
}

/// Dashboard counters may lag this much behind writes; pages that list records read the
/// database directly.
pub const COUNTS_TTL: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(store: Store, cfg: WebConfig, cipher: truongso_store::crypto::FieldCipher) -> Self {
        Self {
            store,
            cfg: Arc::new(cfg),
            cipher: Arc::new(cipher),
            metrics: Arc::new(metrics::Metrics::new()),
            started: Instant::now(),
            counts: Default::default(),
            login_failures: Default::default(),
            progress: Default::default(),
            credentials: None,
            public_limits: Default::default(),
        }
    }

    pub fn with_credentials(mut self, c: credentials::Credentials) -> Self {
        self.credentials = Some(Arc::new(c));
        self
    }

    pub fn set_progress(&self, job: uuid::Uuid, done: u32, total: u32) {
        self.progress
            .lock()
            .expect("progress lock")
            .insert(job, (done, total));
    }

    pub fn clear_progress(&self, job: uuid::Uuid) {
        self.progress.lock().expect("progress lock").remove(&job);
    }

    /// Progress of a job running in this process.
    pub fn progress(&self, job: uuid::Uuid) -> Option<(u32, u32)> {
        self.progress.lock().expect("progress lock").get(&job).copied()
    }

    /// Whether this address has used up its failed logins for the current window.
    pub fn login_blocked(&self, ip: std::net::IpAddr) -> bool {
        let map = self.login_failures.lock().expect("login limiter lock");
        map.get(&ip).is_some_and(|(start, n)| {
            start.elapsed() < self.cfg.login_failure_window && *n >= self.cfg.login_failures_per_ip
        })
    }

    pub fn record_login_failure(&self, ip: std::net::IpAddr) {
        let mut map = self.login_failures.lock().expect("login limiter lock");
        let window = self.cfg.login_failure_window;
        // Forget finished windows so the map stays small.
        map.retain(|_, (start, _)| start.elapsed() < window);
        let e = map.entry(ip).or_insert((Instant::now(), 0));
        e.1 += 1;
    }

    /// Units, schools and accounts in a subtree, cached for `COUNTS_TTL`.
    pub async fn subtree_counts(&self, root: &OrgPath) -> truongso_store::Result<SubtreeCounts> {
        if let Some((at, c)) = self.counts.lock().expect("counts lock").get(root.as_str())
            && at.elapsed() < COUNTS_TTL
        {
            return Ok(*c);
        }
        let db = &self.store.db;
        let (units, schools) = truongso_store::org::counts_in_subtree(db, root).await?;
        let (_, users) =
            truongso_store::accounts::list_users(db, std::slice::from_ref(root), "", 1, 0).await?;
        let c = SubtreeCounts {
            units,
            schools,
            users,
        };
        self.counts
            .lock()
            .expect("counts lock")
            .insert(root.as_str().to_string(), (Instant::now(), c));
        Ok(c)
    }
}

/// Today's civil date in Vietnam.
pub fn today() -> chrono::NaiveDate {
    truongso_store::now()
        .with_timezone(&view::vn_offset())
        .date_naive()
}

/// The whole application router.
pub fn app(state: AppState) -> axum::Router {
    routes::build(state).0
}
