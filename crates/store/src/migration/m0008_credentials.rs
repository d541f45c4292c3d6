//! Học bạ số and văn bằng số: the documents (canonical record, the PDF as signed so far, who signed,
//! what the log says), copies handed out, the signing identities of people and units, and the
//! transparency log itself (leaves, the stored Merkle hashes, checkpoints with their
//! cosignatures), plus the state a witness keeps of the logs it cosigns.

use super::cols::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).if_not_exists().take()
}

fn blob(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).blob().not_null().take()
}

fn blob_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).blob().null().take()
}

fn bigint_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).big_integer().null().take()
}

fn bigint_pk(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .primary_key()
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table("credential_docs")
                .col(id("id"))
                .col(text("doc_id"))
                .col(text("kind"))
                .col(uuid("issuer_id"))
                .col(uuid_null("learner_id"))
                .col(uuid_null("school_year_id"))
                .col(uuid_null("class_id"))
                .col(text("status"))
                .col(text("record"))
                .col(text("sha256_data"))
                .col(blob_null("pdf"))
                .col(text_null("sha256_pdf"))
                .col(text("signatures"))
                .col(text_null("next_role"))
                .col(uuid_null("corrects"))
                .col(bigint_null("leaf_index"))
                .col(bigint_null("revoke_leaf"))
                .col(text_null("revoke_reason"))
                .col(ts_null("revoked_at"))
                .col(text_null("serial"))
                .col(text_null("register_no"))
                .col(text_null("name_folded"))
                .col(date_null("date_of_birth"))
                .col(ts("created_at"))
                .col(uuid_null("created_by"))
                .col(ts_null("issued_at"))
                .col(int("version"))
                .take(),
        )
        .await?;
        m.create_index(index("credential_docs", &["doc_id"], true))
            .await?;
        m.create_index(index("credential_docs", &["learner_id", "school_year_id"], false))
            .await?;
        m.create_index(index("credential_docs", &["class_id", "status"], false))
            .await?;
        m.create_index(index("credential_docs", &["issuer_id", "status"], false))
            .await?;
        m.create_index(index("credential_docs", &["serial"], false))
            .await?;

        m.create_table(
            table("credential_copies")
                .col(id("id"))
                .col(uuid("doc"))
                .col(text("purpose"))
                .col(text_null("recipient"))
                .col(text("sha256_pdf"))
                .col(bigint_null("leaf_index"))
                .col(uuid_null("issued_by"))
                .col(ts("issued_at"))
                .foreign_key(&mut fk("credential_copies", "doc", "credential_docs"))
                .take(),
        )
        .await?;
        m.create_index(index("credential_copies", &["doc"], false))
            .await?;

        // Who signs what with which key: a person (GVCN, Hiệu trưởng) or a unit (con dấu).
        m.create_table(
            table("signing_identities")
                .col(id("id"))
                .col(uuid_null("user_id"))
                .col(uuid("org_unit_id"))
                .col(text("role"))
                .col(text("backend"))
                .col(text("config"))
                .col(text_null("secret_enc"))
                .col(text("cert_sha256"))
                .col(text("subject"))
                .col(ts("not_after"))
                .col(boolean("active"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index("signing_identities", &["org_unit_id", "role"], false))
            .await?;

        m.create_table(
            table("ledger_leaves")
                .col(bigint_pk("idx"))
                .col(blob("data"))
                .col(text("doc_id"))
                .col(bigint_null("refers_to"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_index(index("ledger_leaves", &["doc_id"], false)).await?;
        m.create_index(index("ledger_leaves", &["refers_to"], false))
            .await?;
        m.create_table(
            table("ledger_hashes")
                .col(bigint_pk("idx"))
                .col(blob("hash"))
                .take(),
        )
        .await?;
        m.create_table(
            table("ledger_checkpoints")
                .col(bigint_pk("size"))
                .col(text("root"))
                .col(text("note"))
                .col(int("cosignatures"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        // One row: the tree size. Appends lock it, so leaves get consecutive indexes.
        m.create_table(
            table("ledger_state")
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .integer()
                        .not_null()
                        .primary_key()
                        .take(),
                )
                .col(bigint("size"))
                .take(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(Alias::new("ledger_state"))
                .columns([Alias::new("id"), Alias::new("size")])
                .values_panic([1.into(), 0.into()])
                .take(),
        )
        .await?;
        m.create_table(
            table("witness_heads")
                .col(
                    ColumnDef::new(Alias::new("origin"))
                        .text()
                        .not_null()
                        .primary_key()
                        .take(),
                )
                .col(bigint("size"))
                .col(text("root"))
                .col(ts("updated_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "witness_heads",
            "ledger_state",
            "ledger_checkpoints",
            "ledger_hashes",
            "ledger_leaves",
            "signing_identities",
            "credential_copies",
            "credential_docs",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
