use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gradebook_configs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_year_id: Uuid,
    /// `RuleConfig` as JSON.
    pub config: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
