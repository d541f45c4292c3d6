use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub staff_code: String,
    pub full_name: String,
    pub name_folded: String,
    pub date_of_birth: Date,
    pub sex: String,
    pub cccd_enc: Option<String>,
    pub cccd_index: Option<String>,
    pub ethnicity: Option<String>,
    pub staff_group: String,
    pub position: Option<String>,
    pub contract: String,
    pub qualification: Option<String>,
    pub main_subject: Option<String>,
    pub second_subject: Option<String>,
    pub periods_per_week: Option<i32>,
    pub standard_rating: Option<String>,
    pub status: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
