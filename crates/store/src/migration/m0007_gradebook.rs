//! The gradebook: one row per learner × year × subject holding its cells (term and slot → an
//! integer value and the cell's version for concurrent edits), deadlines and locks per term and column, correction requests
//! with their decision, the homeroom teacher's term summaries, computed year results with the
//! rule set that made them, and the year's rule options.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).if_not_exists().take()
}

fn int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("marks")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(uuid("class_id"))
                .col(uuid("learner_id"))
                .col(text("subject"))
                .col(text("cells"))
                .col(int("version"))
                .col(uuid_null("updated_by"))
                .col(text("updated_by_label"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("marks", "learner_id", "learners"))
                .foreign_key(&mut fk("marks", "class_id", "classes"))
                .take(),
        )
        .await?;
        m.create_index(index("marks", &["learner_id", "school_year_id", "subject"], true))
            .await?;
        m.create_index(index("marks", &["class_id", "subject"], false))
            .await?;

        m.create_table(
            table("gradebook_deadlines")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(int("term"))
                .col(text("slot"))
                .col(date_null("deadline"))
                .col(ts_null("locked_at"))
                .col(uuid_null("locked_by"))
                .col(ts("updated_at"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "gradebook_deadlines",
            &["school_year_id", "term", "slot"],
            true,
        ))
        .await?;

        m.create_table(
            table("mark_corrections")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(uuid("class_id"))
                .col(uuid("learner_id"))
                .col(text("subject"))
                .col(int("term"))
                .col(text("slot"))
                .col(int_null("old_value"))
                .col(int_null("new_value"))
                .col(text("reason"))
                .col(text("status"))
                .col(uuid_null("requested_by"))
                .col(text("requested_by_label"))
                .col(ts("requested_at"))
                .col(uuid_null("decided_by"))
                .col(text_null("decided_by_label"))
                .col(ts_null("decided_at"))
                .col(text_null("decision_note"))
                .foreign_key(&mut fk("mark_corrections", "learner_id", "learners"))
                .take(),
        )
        .await?;
        m.create_index(index("mark_corrections", &["school_id", "status"], false))
            .await?;
        m.create_index(index("mark_corrections", &["class_id", "subject"], false))
            .await?;

        m.create_table(
            table("term_summaries")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(uuid("class_id"))
                .col(uuid("learner_id"))
                .col(int("term"))
                .col(text_null("conduct"))
                .col(text_null("summer_conduct"))
                .col(int_null("absences_excused"))
                .col(int_null("absences_unexcused"))
                .col(text_null("remark"))
                .col(text_null("traits"))
                .col(
                    ColumnDef::new(Alias::new("recognised"))
                        .boolean()
                        .not_null()
                        .default(false)
                        .take(),
                )
                .col(int("version"))
                .col(uuid_null("updated_by"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("term_summaries", "learner_id", "learners"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "term_summaries",
            &["learner_id", "school_year_id", "term"],
            true,
        ))
        .await?;
        m.create_index(index("term_summaries", &["class_id", "term"], false))
            .await?;

        m.create_table(
            table("year_results")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(uuid("class_id"))
                .col(uuid("learner_id"))
                .col(text("rule_set"))
                .col(text_null("learning"))
                .col(text_null("conduct"))
                .col(text_null("decision"))
                .col(text_null("award"))
                .col(text("data"))
                .col(ts("computed_at"))
                .foreign_key(&mut fk("year_results", "learner_id", "learners"))
                .take(),
        )
        .await?;
        m.create_index(index("year_results", &["learner_id", "school_year_id"], true))
            .await?;
        m.create_index(index("year_results", &["class_id"], false))
            .await?;
        m.create_index(index("year_results", &["school_year_id", "school_id"], false))
            .await?;

        m.create_table(
            table("gradebook_configs")
                .col(id("school_year_id"))
                .col(text("config"))
                .col(uuid_null("updated_by"))
                .col(ts("updated_at"))
                .take(),
        )
        .await
    }
}
