//! One migration history for both databases, written with sea-query so each step renders to
//! the SQLite and PostgreSQL dialects from the same definition. Migrations are append-only:
//! never edit a released one, add the next.

use sea_orm_migration::prelude::*;

mod m0001_foundation;
mod m0002_learners;
mod m0003_school_records;
mod m0004_search_index;
mod m0005_settings;
mod m0006_learner_names;
mod m0007_gradebook;
mod m0008_credentials;
mod m0009_stats;
mod m0010_stats_cache;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_foundation::Migration),
            Box::new(m0002_learners::Migration),
            Box::new(m0003_school_records::Migration),
            Box::new(m0004_search_index::Migration),
            Box::new(m0005_settings::Migration),
            Box::new(m0006_learner_names::Migration),
            Box::new(m0007_gradebook::Migration),
            Box::new(m0008_credentials::Migration),
            Box::new(m0009_stats::Migration),
            Box::new(m0010_stats_cache::Migration),
        ]
    }
}

/// Shorthands so table definitions read like the schema they describe.
pub(crate) mod cols {
    use sea_orm_migration::prelude::*;

    pub fn id(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .uuid()
            .not_null()
            .primary_key()
            .take()
    }
    pub fn uuid(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).uuid().not_null().take()
    }
    pub fn uuid_null(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).uuid().null().take()
    }
    pub fn text(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).text().not_null().take()
    }
    pub fn text_null(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).text().null().take()
    }
    pub fn int(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).integer().not_null().take()
    }
    pub fn bigint(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).big_integer().not_null().take()
    }
    pub fn boolean(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).boolean().not_null().take()
    }
    pub fn date(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).date().not_null().take()
    }
    pub fn date_null(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).date().null().take()
    }
    pub fn ts(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .timestamp_with_time_zone()
            .not_null()
            .take()
    }
    pub fn ts_null(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .timestamp_with_time_zone()
            .null()
            .take()
    }
    pub fn fk(table: &str, col: &str, target: &str) -> ForeignKeyCreateStatement {
        ForeignKey::create()
            .name(format!("fk_{table}_{col}"))
            .from(Alias::new(table), Alias::new(col))
            .to(Alias::new(target), Alias::new("id"))
            .on_delete(ForeignKeyAction::Restrict)
            .take()
    }
    pub fn fk_cascade(table: &str, col: &str, target: &str) -> ForeignKeyCreateStatement {
        fk(table, col, target).on_delete(ForeignKeyAction::Cascade).take()
    }
    pub fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
        let mut i = Index::create();
        i.name(format!("ix_{table}_{}", columns.join("_")))
            .table(Alias::new(table));
        for c in columns {
            i.col(Alias::new(*c));
        }
        if unique {
            i.unique();
        }
        i.take()
    }
}
