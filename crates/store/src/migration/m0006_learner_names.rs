//! Learner search at national scale: the distinct folded names in a table of their own, so a
//! search first finds the matching names (a few thousand rows, trigram-indexed on PostgreSQL) and
//! then reads learners name by name in order, stopping at the limit, instead of testing
//! `LIKE '%q%'` against every learner. A (name, school) b-tree serves the second step.

use super::cols::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("learner_names"))
                .if_not_exists()
                .col(
                    ColumnDef::new(Alias::new("name_folded"))
                        .text()
                        .not_null()
                        .primary_key(),
                )
                .take(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "INSERT INTO learner_names (name_folded) SELECT DISTINCT name_folded FROM learners",
        )
        .await?;
        m.create_index(index("learners", &["name_folded", "school_id"], false))
            .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // m0004 installed pg_trgm when it could; without it the name table is scanned, which
            // stays fast because it holds distinct names only.
            let has_trgm = db
                .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_extension WHERE extname = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if has_trgm {
                db.execute_unprepared(
                    "CREATE INDEX IF NOT EXISTS ix_learner_names_trgm ON learner_names \
                     USING gin (name_folded gin_trgm_ops)",
                )
                .await?;
            }
        }
        Ok(())
    }
}
