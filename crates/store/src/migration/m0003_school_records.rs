//! School records, the rest: class details and enrolment history, staff and teaching
//! assignments, facilities, school health (encrypted payloads), the job queue, and the link
//! between a guardian record and a parent account.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).if_not_exists().take()
}

fn flag(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .default(false)
        .take()
}

fn int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().take()
}

fn add(table: &str, col: ColumnDef) -> TableAlterStatement {
    Table::alter().table(Alias::new(table)).add_column(col).take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Staff first: classes point at their homeroom teacher.
        m.create_table(
            table("staff")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(text("staff_code"))
                .col(text("full_name"))
                .col(text("name_folded"))
                .col(date("date_of_birth"))
                .col(text("sex"))
                .col(text_null("cccd_enc"))
                .col(text_null("cccd_index"))
                .col(text_null("ethnicity"))
                .col(text("staff_group"))
                .col(text_null("position"))
                .col(text("contract"))
                .col(text_null("qualification"))
                .col(text_null("main_subject"))
                .col(text_null("second_subject"))
                .col(int_null("periods_per_week"))
                .col(text_null("standard_rating"))
                .col(text("status"))
                .col(text_null("phone"))
                .col(text_null("email"))
                .col(uuid_null("user_id"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("staff", "school_id", "org_units"))
                .foreign_key(&mut fk("staff", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("staff", &["school_id", "staff_code"], true))
            .await?;
        m.create_index(index("staff", &["cccd_index"], false)).await?;
        m.create_index(index("staff", &["user_id"], false)).await?;

        for col in [
            uuid_null("homeroom_staff_id"),
            flag("multigrade"),
            flag("specialist"),
            flag("boarding"),
            flag("two_sessions"),
            int_null("capacity"),
            ts_null("updated_at"),
        ] {
            m.alter_table(add("classes", col)).await?;
        }
        m.create_index(index("classes", &["school_id", "school_year_id"], false))
            .await?;
        m.create_index(index("learners", &["class_id"], false)).await?;
        m.create_index(index("learners", &["school_id", "name_folded"], false))
            .await?;

        m.create_table(
            table("class_enrolments")
                .col(id("id"))
                .col(uuid("learner_id"))
                .col(uuid("class_id"))
                .col(date("from_date"))
                .col(date_null("to_date"))
                .col(text("reason"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade("class_enrolments", "learner_id", "learners"))
                .foreign_key(&mut fk("class_enrolments", "class_id", "classes"))
                .take(),
        )
        .await?;
        m.create_index(index("class_enrolments", &["learner_id", "from_date"], false))
            .await?;
        m.create_index(index("class_enrolments", &["class_id"], false))
            .await?;

        m.create_table(
            table("teaching_assignments")
                .col(id("id"))
                .col(uuid("class_id"))
                .col(uuid("staff_id"))
                .col(text("subject"))
                .col(text("term"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade("teaching_assignments", "class_id", "classes"))
                .foreign_key(&mut fk("teaching_assignments", "staff_id", "staff"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "teaching_assignments",
            &["class_id", "subject", "term"],
            true,
        ))
        .await?;
        m.create_index(index("teaching_assignments", &["staff_id"], false))
            .await?;

        m.create_table(
            table("rooms")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(text("name"))
                .col(text("kind"))
                .col(text("quality"))
                .col(int_null("area_m2"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("rooms", "school_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("rooms", &["school_id", "name"], true))
            .await?;

        m.create_table(
            table("equipment")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(text("code"))
                .col(text("name"))
                .col(text("category"))
                .col(int_null("grade"))
                .col(int("quantity"))
                .col(text("condition"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("equipment", "school_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("equipment", &["school_id", "code", "condition"], true))
            .await?;

        m.create_table(
            table("school_facilities")
                .col(
                    ColumnDef::new(Alias::new("school_id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(int("computers_teaching"))
                .col(text("facts"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("school_facilities", "school_id", "org_units"))
                .take(),
        )
        .await?;

        m.create_table(
            table("health_entries")
                .col(id("id"))
                .col(uuid("learner_id"))
                .col(text("kind"))
                .col(date("on_date"))
                .col(text("data_enc"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade("health_entries", "learner_id", "learners"))
                .take(),
        )
        .await?;
        m.create_index(index("health_entries", &["learner_id", "on_date"], false))
            .await?;

        m.create_table(
            table("jobs")
                .col(id("id"))
                .col(text("kind"))
                .col(uuid_null("school_id"))
                .col(uuid_null("created_by"))
                .col(text("status"))
                .col(int("progress"))
                .col(int("total"))
                .col(ColumnDef::new(Alias::new("input")).binary().null())
                .col(text_null("params"))
                .col(text_null("result"))
                .col(ts("created_at"))
                .col(ts_null("started_at"))
                .col(ts_null("finished_at"))
                .take(),
        )
        .await?;
        m.create_index(index("jobs", &["status", "created_at"], false))
            .await?;

        m.alter_table(add("guardians", uuid_null("user_id"))).await?;
        m.create_index(index("guardians", &["user_id"], false)).await?;
        Ok(())
    }
}
