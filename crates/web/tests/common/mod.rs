//! Black-box harness: the real router served on 127.0.0.1:0 over a fresh database seeded with
//! the demo province, once on SQLite and once on PostgreSQL.

#![allow(dead_code)]

use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use truongso_store::testing::{Backend, TestDb, fresh};
use truongso_store::{ActorRef, Store, accounts, demo, tokens};
use truongso_web::{AppState, WebConfig};

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, WebConfig::default()).await
    }

    pub async fn start_with(backend: Backend, cfg: WebConfig) -> Self {
        let db = fresh(backend).await;
        let key = truongso_store::crypto::FieldCipher::generate_key();
        let cipher = truongso_store::crypto::FieldCipher::from_base64(&key).unwrap();
        demo::seed(&db.store, &cipher, demo::DemoOptions::small(1))
            .await
            .expect("demo seed");
        let state = AppState::new(db.store.clone(), cfg, cipher);
        let (router, _) = truongso_web::routes::build(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            base,
            db,
            state,
            server,
        }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Signs in through the login form; returns the client and the CSRF token of the session.
    pub async fn login(&self, username: &str) -> (Client, String) {
        self.login_with(username, demo::DEMO_PASSWORD)
            .await
            .expect("login succeeds")
    }

    pub async fn login_with(&self, username: &str, password: &str) -> Result<(Client, String), Response> {
        let c = self.client();
        let html = get_text(&c, self.url("/login")).await;
        let pre = csrf_of(&html);
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("_csrf", pre.as_str()),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        if r.status() != 303 {
            return Err(r);
        }
        let home = get_text(&c, self.url("/account")).await;
        let csrf = csrf_of(&home);
        Ok((c, csrf))
    }

    /// An API token for a demo account (created straight in the store).
    pub async fn token(&self, username: &str) -> String {
        let u = accounts::by_username(&self.store().db, username)
            .await
            .unwrap()
            .expect("demo user");
        let (_, secret) = tokens::create(
            &self.store().db,
            &ActorRef::user(u.id, &u.username),
            u.id,
            "test",
            None,
        )
        .await
        .unwrap();
        secret
    }

    pub async fn stop(self) {
        self.server.abort();
        self.db.cleanup().await;
    }
}

/// The unit a demo account belongs to.
pub async fn owner_unit(app: &TestApp, username: &str) -> truongso_store::org::OrgUnit {
    let u = accounts::by_username(&app.store().db, username)
        .await
        .unwrap()
        .unwrap();
    truongso_store::org::get(&app.store().db, u.owner_org_id)
        .await
        .unwrap()
}

/// GET a page and return its body.
pub async fn get_text(c: &Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

/// Asserts a 422 JSON error naming the field and the stable code.
pub async fn assert_field_error(r: Response, field: &str, code: &str) {
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (e["error"]["field"].as_str(), e["error"]["code"].as_str()),
        (Some(field), Some(code)),
        "{e}"
    );
}

/// The CSRF token embedded in a page's forms.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in page: {}", &html[..html.len().min(500)]))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Declares a test run against the app on both databases.
#[macro_export]
macro_rules! app_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = common::TestApp::start(truongso_store::testing::Backend::Sqlite).await;
                ($body)(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = common::TestApp::start(truongso_store::testing::Backend::Postgres).await;
                ($body)(&app).await;
                app.stop().await;
            }
        }
    };
}
