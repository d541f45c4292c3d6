//! Classes. The school-records issue completes this module (homeroom teacher, flags,
//! enrolments, rollover); the foundation only lists classes so roles can be scoped to them.

use crate::Result;
use crate::entity::class;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub grade: i32,
    pub name: String,
}

pub async fn for_schools(db: &DatabaseConnection, school_ids: &[Uuid]) -> Result<Vec<ClassRow>> {
    if school_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(class::Entity::find()
        .filter(class::Column::SchoolId.is_in(school_ids.to_vec()))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|c| ClassRow {
            id: c.id,
            school_id: c.school_id,
            school_year_id: c.school_year_id,
            grade: c.grade,
            name: c.name,
        })
        .collect())
}
