use sea_orm::entity::prelude::*;

/// The latest checkpoint a witness has cosigned for a log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "witness_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub origin: String,
    pub size: i64,
    /// Root hash, hex.
    pub root: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
