//! Installation settings: small named values the installation must keep with its data, first of
//! all a check value encrypted with the field-encryption key, so a server started with the wrong
//! key refuses to run instead of failing to read every identity number and health record.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("settings"))
                .if_not_exists()
                .col(ColumnDef::new(Alias::new("key")).text().not_null().primary_key())
                .col(text("value"))
                .take(),
        )
        .await
    }
}
