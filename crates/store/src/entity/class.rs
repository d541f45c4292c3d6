use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "classes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub grade: i32,
    pub name: String,
    pub created_at: DateTimeUtc,
    pub homeroom_staff_id: Option<Uuid>,
    pub multigrade: bool,
    pub specialist: bool,
    pub boarding: bool,
    pub two_sessions: bool,
    pub capacity: Option<i32>,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
