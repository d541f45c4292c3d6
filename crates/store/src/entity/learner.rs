use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub school_id: Uuid,
    pub full_name: String,
    pub name_folded: String,
    pub date_of_birth: Date,
    pub sex: String,
    pub class_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub moet_code: Option<String>,
    pub cccd_enc: Option<String>,
    pub cccd_index: Option<String>,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub nationality: Option<String>,
    pub disability_enc: Option<String>,
    pub policy_codes: Option<String>,
    pub boarding: Option<String>,
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub address_line: Option<String>,
    pub address_as_of: Option<Date>,
    pub status: String,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
