//! Persistence for Trường Số: one schema, one migration history and one query path over SQLite
//! (embedded default) and PostgreSQL. Every write that matters appends to the audit chain in the
//! same transaction.

pub mod accounts;
pub mod audit;
pub mod classes;
pub mod credentials;
pub mod crypto;
pub mod demo;
pub mod entity;
pub mod error;
pub mod exports;
pub mod facilities;
pub mod gradebook;
pub mod health;
pub mod imports;
pub mod jobs;
pub mod ledger;
pub mod migration;
pub mod org;
pub mod people;
pub mod quality;
pub mod school_years;
pub mod sessions;
pub mod settings;
pub mod staff;
pub mod stats;
pub mod testing;
pub mod tokens;

pub use error::{Error, Result};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

/// Who performed a write, as recorded in the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorRef {
    pub id: Option<uuid::Uuid>,
    pub label: String,
}

impl ActorRef {
    pub fn user(id: uuid::Uuid, username: &str) -> Self {
        Self {
            id: Some(id),
            label: username.to_string(),
        }
    }

    /// A command-line or seeding operation with no user account behind it.
    pub fn system(label: &str) -> Self {
        Self {
            id: None,
            label: label.to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pub db: DatabaseConnection,
}

impl Store {
    /// Connects to `sqlite://path?mode=rwc` or `postgres://…`. For SQLite the parent directory
    /// is created, WAL and foreign keys are switched on.
    pub async fn connect(url: &str) -> Result<Self> {
        if let Some(path) = sqlite_path(url)
            && let Some(dir) = std::path::Path::new(&path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io(e.to_string()))?;
        }
        let mut opts = ConnectOptions::new(url.to_string());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        if url.starts_with("sqlite") {
            opts.max_connections(8).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
            });
        } else {
            opts.max_connections(32).min_connections(1);
            // Statements are prepared and reused; after five runs PostgreSQL may switch to a
            // generic plan that ignores the parameters, which for name search (a trigram
            // index whose selectivity depends on the text) is a hundred times slower.
            opts.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
        }
        let db = Database::connect(opts).await?;
        Ok(Self { db })
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Applies pending migrations; running it again changes nothing.
    pub async fn migrate(&self) -> Result<usize> {
        let pending = migration::Migrator::get_pending_migrations(&self.db).await?.len();
        migration::Migrator::up(&self.db, None).await?;
        Ok(pending)
    }

    /// Migrations known to this binary but not applied to the database.
    pub async fn pending_migrations(&self) -> Result<usize> {
        Ok(migration::Migrator::get_pending_migrations(&self.db).await?.len())
    }

    /// Cheap round trip used by `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }
}

/// The file path of a `sqlite:` URL, if it names a file.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// A SQLite URL for a file path, creating it when missing.
pub fn sqlite_url(path: &str) -> String {
    format!("sqlite://{path}?mode=rwc")
}

/// Current time truncated to microseconds: PostgreSQL keeps microseconds, so values written
/// and read back compare equal on both databases.
/// Inserts `rows` in statements of `per_statement` rows, which keeps bind parameters under
/// SQLite's 32,766 and PostgreSQL's 65,535 (bulk loads: the demo, benchmark provinces).
pub async fn insert_in_chunks<C, A>(db: &C, rows: Vec<A>, per_statement: usize) -> Result<()>
where
    C: sea_orm::ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    upsert_in_chunks(db, rows, per_statement, None).await
}

/// As `insert_in_chunks`, each statement resolving conflicts with `on_conflict` when given.
pub async fn upsert_in_chunks<C, A>(
    db: &C,
    rows: Vec<A>,
    per_statement: usize,
    on_conflict: Option<sea_orm::sea_query::OnConflict>,
) -> Result<()>
where
    C: sea_orm::ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        let mut insert = <A::Entity as sea_orm::EntityTrait>::insert_many(chunk);
        if let Some(c) = &on_conflict {
            insert = insert.on_conflict(c.clone());
        }
        insert.exec_without_returning(db).await?;
    }
    Ok(())
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

/// Time-ordered UUIDv7 for new rows.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
