//! Learner search at province scale: on PostgreSQL, a trigram GIN index on `learners.name_folded`
//! so `name_folded LIKE '%q%'` (the folded, diacritic-free name) is answered from the index
//! instead of a scan of every learner. SQLite keeps the b-tree indexes it already has (a school's
//! or a small province's learners scan in a few milliseconds).
//!
//! The single-column b-tree on `name_folded` (m0002) is dropped once the trigram index exists:
//! with it, `… LIKE '%q%' ORDER BY name_folded LIMIT n` over a whole province is planned as a walk
//! of the b-tree in name order, filtering row by row, which reads most of the table when the
//! matches sit late in the alphabet (3 s for "le thu" over 1,000,000 learners). Every other
//! ordering by name is within a school or class and uses `(school_id, name_folded)` or
//! `class_id`; equality on `name_folded` is served by the trigram index.
//!
//! `pg_trgm` ships with PostgreSQL (contrib) and is a trusted extension, so a role with CREATE on
//! the database may install it. When it cannot be created (contrib not installed, no privilege)
//! the migration logs a warning and succeeds: search stays correct, only slower.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_learners_name_folded_trgm";
const BTREE: &str = "ix_learners_name_folded";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Always in a transaction, so the savepoint below can undo a refused CREATE EXTENSION
    /// without aborting the migration.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared("SAVEPOINT m0004_trgm").await?;
        if let Err(e) = db
            .execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            .await
        {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT m0004_trgm").await?;
            tracing::warn!(
                "pg_trgm is unavailable ({e}); learner search will scan names without a trigram index"
            );
            return Ok(());
        }
        db.execute_unprepared("RELEASE SAVEPOINT m0004_trgm").await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {INDEX} ON learners USING gin (name_folded gin_trgm_ops)"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {BTREE}"))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {BTREE} ON learners (name_folded)"
            ))
            .await?;
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
                .await?;
        }
        Ok(())
    }
}
