use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "year_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub class_id: Uuid,
    pub learner_id: Uuid,
    pub rule_set: String,
    pub learning: Option<String>,
    pub conduct: Option<String>,
    pub decision: Option<String>,
    pub award: Option<String>,
    /// The whole computed result (JSON), with the rule options it used.
    pub data: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
