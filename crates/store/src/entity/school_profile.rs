use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "school_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: Uuid,
    /// DM_LOAI_HINH: 01 công lập, 03 dân lập, 09 tư thục.
    pub ownership: String,
    /// DM_LOAI_TRUONG.
    pub school_type: Option<String>,
    /// DM_VUNG.
    pub region: Option<String>,
    /// DM_KHU_VUC.
    pub area: Option<String>,
    /// In a commune with especially difficult conditions (ĐBKK).
    pub difficult: bool,
    /// National standard level: 0 none, 1, 2.
    pub standard_level: i32,
    pub commune_code: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
