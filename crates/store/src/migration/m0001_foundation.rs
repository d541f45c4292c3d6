//! Foundation: organisation tree, school years, minimal classes and learners (completed by the
//! school-records migrations), accounts, grants, sessions, API tokens, audit chain.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).if_not_exists().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("org_units")
                .col(id("id"))
                .col(text("kind"))
                .col(uuid_null("parent_id"))
                .col(text("path"))
                .col(int("depth"))
                .col(text_null("code"))
                .col(text("name"))
                .col(text("name_folded"))
                .col(text_null("levels"))
                .col(date("valid_from"))
                .col(date_null("valid_to"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("org_units", "parent_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("org_units", &["path"], true)).await?;
        m.create_index(index("org_units", &["parent_id"], false)).await?;
        m.create_index(index("org_units", &["code"], false)).await?;

        m.create_table(
            table("org_unit_versions")
                .col(id("id"))
                .col(uuid("org_unit_id"))
                .col(text("name"))
                .col(text_null("code"))
                .col(uuid_null("parent_id"))
                .col(date("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("note"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade("org_unit_versions", "org_unit_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("org_unit_versions", &["org_unit_id", "valid_from"], true))
            .await?;
        m.create_index(index("org_unit_versions", &["code"], false))
            .await?;

        m.create_table(
            table("school_years")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(text("name"))
                .col(int("start_year"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("school_years", "school_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("school_years", &["school_id", "start_year"], true))
            .await?;

        m.create_table(
            table("terms")
                .col(id("id"))
                .col(uuid("school_year_id"))
                .col(text("kind"))
                .col(date("starts_on"))
                .col(date("ends_on"))
                .foreign_key(&mut fk_cascade("terms", "school_year_id", "school_years"))
                .take(),
        )
        .await?;
        m.create_index(index("terms", &["school_year_id", "kind"], true))
            .await?;

        m.create_table(
            table("classes")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(uuid("school_year_id"))
                .col(int("grade"))
                .col(text("name"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("classes", "school_id", "org_units"))
                .foreign_key(&mut fk("classes", "school_year_id", "school_years"))
                .take(),
        )
        .await?;
        m.create_index(index("classes", &["school_year_id", "name"], true))
            .await?;
        m.create_index(index("classes", &["school_id"], false)).await?;

        m.create_table(
            table("learners")
                .col(id("id"))
                .col(uuid("school_id"))
                .col(text("full_name"))
                .col(text("name_folded"))
                .col(date("date_of_birth"))
                .col(text("sex"))
                .col(uuid_null("class_id"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("learners", "school_id", "org_units"))
                .foreign_key(&mut fk("learners", "class_id", "classes"))
                .take(),
        )
        .await?;
        m.create_index(index("learners", &["school_id"], false)).await?;

        m.create_table(
            table("users")
                .col(id("id"))
                .col(text("username"))
                .col(text("display_name"))
                .col(text("name_folded"))
                .col(text_null("email"))
                .col(text_null("phone"))
                .col(uuid("owner_org_id"))
                .col(text("password_hash"))
                .col(boolean("active"))
                .col(int("failed_logins"))
                .col(ts_null("locked_until"))
                .col(ts("password_changed_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("users", "owner_org_id", "org_units"))
                .take(),
        )
        .await?;
        m.create_index(index("users", &["username"], true)).await?;
        m.create_index(index("users", &["owner_org_id"], false)).await?;

        m.create_table(
            table("role_grants")
                .col(id("id"))
                .col(uuid("user_id"))
                .col(text("role"))
                .col(text("scope_kind"))
                .col(uuid("org_unit_id"))
                .col(uuid_null("class_id"))
                .col(text_null("subject"))
                .col(uuid_null("learner_id"))
                .col(uuid_null("granted_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk_cascade("role_grants", "user_id", "users"))
                .foreign_key(&mut fk("role_grants", "org_unit_id", "org_units"))
                .foreign_key(&mut fk("role_grants", "class_id", "classes"))
                .foreign_key(&mut fk("role_grants", "learner_id", "learners"))
                .take(),
        )
        .await?;
        m.create_index(index("role_grants", &["user_id"], false)).await?;
        m.create_index(index("role_grants", &["org_unit_id"], false))
            .await?;

        m.create_table(
            table("sessions")
                .col(ColumnDef::new(Alias::new("id")).text().not_null().primary_key())
                .col(uuid("user_id"))
                .col(text("csrf_token"))
                .col(ts("created_at"))
                .col(ts("last_seen_at"))
                .col(ts("expires_at"))
                .foreign_key(&mut fk_cascade("sessions", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("sessions", &["user_id"], false)).await?;
        m.create_index(index("sessions", &["expires_at"], false)).await?;

        m.create_table(
            table("api_tokens")
                .col(id("id"))
                .col(uuid("user_id"))
                .col(text("name"))
                .col(text("prefix"))
                .col(text("token_hash"))
                .col(ts("created_at"))
                .col(ts_null("expires_at"))
                .col(ts_null("last_used_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk_cascade("api_tokens", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_index(index("api_tokens", &["token_hash"], true)).await?;

        m.create_table(
            table("audit_events")
                .col(
                    ColumnDef::new(Alias::new("seq"))
                        .big_integer()
                        .not_null()
                        .primary_key(),
                )
                .col(text("at"))
                .col(text_null("actor_id"))
                .col(text("actor_label"))
                .col(text("action"))
                .col(text("entity_type"))
                .col(text("entity_id"))
                .col(text_null("before_json"))
                .col(text_null("after_json"))
                .col(text("prev_hash"))
                .col(text("hash"))
                .take(),
        )
        .await?;
        m.create_index(index("audit_events", &["entity_type", "entity_id"], false))
            .await?;

        m.create_table(
            table("audit_head")
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(bigint("seq"))
                .col(text("hash"))
                .take(),
        )
        .await?;
        let seed_head = Query::insert()
            .into_table(Alias::new("audit_head"))
            .columns([Alias::new("id"), Alias::new("seq"), Alias::new("hash")])
            .values_panic([1.into(), 0i64.into(), truongso_core::audit::GENESIS_HASH.into()])
            .to_owned();
        m.exec_stmt(seed_head).await?;
        Ok(())
    }
}
