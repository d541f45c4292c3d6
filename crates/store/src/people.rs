//! Learners (and, with the school-records issue, guardians and staff). The foundation only
//! lists learners so a parent or student role can be scoped to one child.

use crate::Result;
use crate::entity::learner;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnerRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub full_name: String,
    pub class_id: Option<Uuid>,
}

pub async fn for_schools(
    db: &DatabaseConnection,
    school_ids: &[Uuid],
    limit: u64,
) -> Result<Vec<LearnerRow>> {
    if school_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(learner::Entity::find()
        .filter(learner::Column::SchoolId.is_in(school_ids.to_vec()))
        .order_by_asc(learner::Column::NameFolded)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LearnerRow {
            id: l.id,
            school_id: l.school_id,
            full_name: l.full_name,
            class_id: l.class_id,
        })
        .collect())
}
