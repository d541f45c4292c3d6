use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gradebook_deadlines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub term: i32,
    /// A column (`gk`), or `*` for every column of the term.
    pub slot: String,
    pub deadline: Option<Date>,
    pub locked_at: Option<DateTimeUtc>,
    pub locked_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
