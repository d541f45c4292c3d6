//! Fresh databases for tests: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `TRUONGSO_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Every store and web test runs on both.

use crate::Store;
use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub store: Store,
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    sqlite_dir: Option<std::path::PathBuf>,
}

pub fn pg_admin_url() -> String {
    std::env::var("TRUONGSO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

/// Creates, connects and migrates a fresh database.
pub async fn fresh(backend: Backend) -> TestDb {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let unique = format!(
        "{stamp}_{}",
        uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
    );
    let (url, pg_name, sqlite_dir) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("truongso_test_{unique}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = crate::sqlite_url(dir.join("test.db").to_str().expect("utf-8 path"));
            (url, None, Some(dir))
        }
        Backend::Postgres => {
            let admin_url = pg_admin_url();
            let admin = Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is required for tests ({admin_url}): {e}"));
            sweep_old(&admin, stamp).await;
            let name = format!("ts_test_{unique}");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            (with_database(&admin_url, &name), Some(name), None)
        }
    };
    let store = Store::connect(&url).await.expect("connect test database");
    store.migrate().await.expect("migrate test database");
    TestDb {
        store,
        backend,
        url,
        pg_name,
        sqlite_dir,
    }
}

/// Drops test databases left behind by crashed runs (older than an hour).
async fn sweep_old(admin: &sea_orm::DatabaseConnection, now: u64) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'ts_test_%'",
        ))
        .await
    else {
        return;
    };
    for r in rows {
        let Ok(name) = r.try_get::<String>("", "datname") else {
            continue;
        };
        let stamp: u64 = name
            .trim_start_matches("ts_test_")
            .split('_')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(now);
        if now.saturating_sub(stamp) > 3600 {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
}

impl TestDb {
    /// Closes and removes the database.
    pub async fn cleanup(self) {
        self.store.db.close().await.ok();
        if let Some(name) = self.pg_name
            && let Ok(admin) = Database::connect(&pg_admin_url()).await
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
        if let Some(dir) = self.sqlite_dir {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `both_backends!(name, |store: Store| async move { … });`
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::fresh($crate::testing::Backend::Sqlite).await;
                ($body)(db.store.clone()).await;
                db.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::testing::fresh($crate::testing::Backend::Postgres).await;
                ($body)(db.store.clone()).await;
                db.cleanup().await;
            }
        }
    };
}

/// A fresh field cipher for a test (keys are never committed).
pub fn cipher() -> crate::crypto::FieldCipher {
    crate::crypto::FieldCipher::from_base64(&crate::crypto::FieldCipher::generate_key()).expect("fresh key")
}
