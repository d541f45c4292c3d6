use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learner_guardians")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub learner_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub guardian_id: Uuid,
    pub relation: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::guardian::Entity",
        from = "Column::GuardianId",
        to = "super::guardian::Column::Id"
    )]
    Guardian,
}

impl Related<super::guardian::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Guardian.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
