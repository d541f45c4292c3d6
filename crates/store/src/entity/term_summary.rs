use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "term_summaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub class_id: Uuid,
    pub learner_id: Uuid,
    /// 1, 2, or 0 for the year (summer re-evaluation).
    pub term: i32,
    pub conduct: Option<String>,
    pub summer_conduct: Option<String>,
    pub absences_excused: Option<i32>,
    pub absences_unexcused: Option<i32>,
    pub remark: Option<String>,
    /// Primary: JSON object quality/competency code → level code.
    pub traits: Option<String>,
    pub recognised: bool,
    pub version: i32,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
