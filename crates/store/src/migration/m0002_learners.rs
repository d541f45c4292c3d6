//! School records, learners: the sector-database learner fields, guardians, and the dated
//! status history. Sensitive values (CCCD, disability) are stored encrypted, with a keyed blind
//! index on the CCCD for duplicate detection.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add(col: ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(Alias::new("learners"))
        .add_column(col)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text_null("moet_code"),
            text_null("cccd_enc"),
            text_null("cccd_index"),
            text_null("ethnicity"),
            text_null("religion"),
            text_null("nationality"),
            text_null("disability_enc"),
            text_null("policy_codes"),
            text_null("boarding"),
            text_null("province_code"),
            text_null("commune_code"),
            text_null("address_line"),
            date_null("address_as_of"),
            ColumnDef::new(Alias::new("status"))
                .text()
                .not_null()
                .default("01")
                .take(),
            ts_null("updated_at"),
        ] {
            m.alter_table(add(col)).await?;
        }
        m.create_index(index("learners", &["moet_code"], true)).await?;
        m.create_index(index("learners", &["cccd_index"], false)).await?;
        m.create_index(index("learners", &["name_folded"], false)).await?;

        m.create_table(
            Table::create()
                .table(Alias::new("learner_status_history"))
                .if_not_exists()
                .col(id("id"))
                .col(uuid("learner_id"))
                .col(text("status"))
                .col(date("on_date"))
                .col(text_null("reason_code"))
                .col(text_null("note"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade(
                    "learner_status_history",
                    "learner_id",
                    "learners",
                ))
                .take(),
        )
        .await?;
        m.create_index(index("learner_status_history", &["learner_id", "on_date"], false))
            .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("guardians"))
                .if_not_exists()
                .col(id("id"))
                .col(text("full_name"))
                .col(text("name_folded"))
                .col(text_null("phone"))
                .col(text_null("email"))
                .col(text_null("cccd_enc"))
                .col(text_null("cccd_index"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index("guardians", &["phone"], false)).await?;
        m.create_index(index("guardians", &["cccd_index"], false)).await?;

        m.create_table(
            Table::create()
                .table(Alias::new("learner_guardians"))
                .if_not_exists()
                .col(uuid("learner_id"))
                .col(uuid("guardian_id"))
                .col(text("relation"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("learner_id"))
                        .col(Alias::new("guardian_id")),
                )
                .foreign_key(&mut fk_cascade("learner_guardians", "learner_id", "learners"))
                .foreign_key(&mut fk_cascade("learner_guardians", "guardian_id", "guardians"))
                .take(),
        )
        .await?;
        m.create_index(index("learner_guardians", &["guardian_id"], false))
            .await?;
        Ok(())
    }
}
