use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "marks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub class_id: Uuid,
    pub learner_id: Uuid,
    pub subject: String,
    pub term: i32,
    pub slot: String,
    pub value: Option<i32>,
    pub version: i32,
    pub updated_by: Option<Uuid>,
    pub updated_by_label: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
