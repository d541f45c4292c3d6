use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mark_corrections")]
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
    pub old_value: Option<i32>,
    pub new_value: Option<i32>,
    pub reason: String,
    /// `pending`, `approved`, `rejected`.
    pub status: String,
    pub requested_by: Option<Uuid>,
    pub requested_by_label: String,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_by_label: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
