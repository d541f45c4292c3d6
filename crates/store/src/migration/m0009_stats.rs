//! Education statistics: the school attributes the forms split by (ownership, region, school
//! type, national standard), reporting periods and each school's submission with its frozen
//! snapshot, the explanations of data-quality errors, and the population tables imported per
//! commune and age (household survey) for enrolment rates and universal education.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).if_not_exists().take()
}

fn bigint_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).big_integer().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("school_profiles")
                .col(
                    ColumnDef::new(Alias::new("school_id"))
                        .uuid()
                        .not_null()
                        .primary_key()
                        .take(),
                )
                .col(text("ownership"))
                .col(text_null("school_type"))
                .col(text_null("region"))
                .col(text_null("area"))
                .col(boolean("difficult"))
                .col(int("standard_level"))
                .col(text_null("commune_code"))
                .col(ts("updated_at"))
                .take(),
        )
        .await?;
        m.create_table(
            table("stats_periods")
                .col(id("id"))
                .col(uuid("office_id"))
                .col(text("office_path"))
                .col(text("round"))
                .col(int("start_year"))
                .col(date("reference_date"))
                .col(date("opens_on"))
                .col(date("deadline"))
                .col(boolean("closed"))
                .col(text("title"))
                .col(uuid_null("created_by"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index("stats_periods", &["office_id", "start_year"], false))
            .await?;
        m.create_table(
            table("stats_submissions")
                .col(id("id"))
                .col(uuid("period_id"))
                .col(uuid("school_id"))
                .col(text("status"))
                .col(text_null("snapshot"))
                .col(text_null("snapshot_sha256"))
                .col(ts_null("submitted_at"))
                .col(uuid_null("submitted_by"))
                .col(ts_null("decided_at"))
                .col(uuid_null("decided_by"))
                .col(text_null("comment"))
                .col(int("version"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk_cascade("stats_submissions", "period_id", "stats_periods"))
                .take(),
        )
        .await?;
        m.create_index(index("stats_submissions", &["period_id", "school_id"], true))
            .await?;
        m.create_table(
            table("stats_explanations")
                .col(id("id"))
                .col(uuid("period_id"))
                .col(uuid("school_id"))
                .col(text("rule"))
                .col(uuid("entity_id"))
                .col(text("text"))
                .col(uuid_null("created_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade(
                    "stats_explanations",
                    "period_id",
                    "stats_periods",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "stats_explanations",
            &["period_id", "school_id", "rule", "entity_id"],
            true,
        ))
        .await?;
        m.create_table(
            table("population_rows")
                .col(id("id"))
                .col(uuid("office_id"))
                .col(text("commune"))
                .col(int("year"))
                .col(int("age"))
                .col(bigint("population"))
                .col(bigint("excluded"))
                .col(bigint_null("completed_preschool"))
                .col(bigint_null("thcs_diploma_out"))
                .col(bigint_null("completed_primary_out"))
                .col(bigint_null("studying_elsewhere"))
                .col(bigint_null("literate_l1"))
                .col(bigint_null("literate_l2"))
                .col(ts("imported_at"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "population_rows",
            &["office_id", "year", "commune", "age"],
            true,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "population_rows",
            "stats_explanations",
            "stats_submissions",
            "stats_periods",
            "school_profiles",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
