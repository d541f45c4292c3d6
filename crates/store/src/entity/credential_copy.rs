use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential_copies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doc: Uuid,
    /// "extract" | "certified_copy".
    pub purpose: String,
    /// Who asked for it (a unit's name), kept here and never in the log.
    pub recipient: Option<String>,
    pub sha256_pdf: String,
    pub leaf_index: Option<i64>,
    pub issued_by: Option<Uuid>,
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
