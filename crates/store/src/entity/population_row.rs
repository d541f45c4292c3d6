use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "population_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub office_id: Uuid,
    pub commune: String,
    pub year: i32,
    pub age: i32,
    pub population: i64,
    pub excluded: i64,
    pub completed_preschool: Option<i64>,
    pub thcs_diploma_out: Option<i64>,
    pub completed_primary_out: Option<i64>,
    pub studying_elsewhere: Option<i64>,
    pub literate_l1: Option<i64>,
    pub literate_l2: Option<i64>,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
