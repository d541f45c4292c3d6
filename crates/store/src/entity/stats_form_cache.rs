use sea_orm::entity::prelude::*;

/// One school's values of one form as at a reference date, valid while the school's stamp is
/// still `stamp`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_form_cache")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub reference_date: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub form_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: Uuid,
    pub stamp: i64,
    /// Every cell of the form in order (sections, rows, columns), JSON.
    pub cells: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
