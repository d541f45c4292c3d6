//! Background jobs (imports now; exports and batch signing later). The row is the durable
//! record — who asked, what, when, the outcome — while the running process reports progress in
//! memory: an import writes in one transaction, and on SQLite a progress UPDATE from another
//! connection would wait for that transaction. Jobs still `running` when the process starts
//! were interrupted and are marked failed.

use crate::entity::job;
use crate::{Error, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobRow {
    pub id: Uuid,
    /// e.g. `import.learners`.
    pub kind: String,
    pub school_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// The outcome: a report, or the list of errors.
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<job::Model> for JobRow {
    fn from(m: job::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            school_id: m.school_id,
            created_by: m.created_by,
            status: m.status,
            result: m.result.and_then(|r| serde_json::from_str(&r).ok()),
            created_at: m.created_at,
            finished_at: m.finished_at,
        }
    }
}

/// Records a job with its input (e.g. the uploaded file).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    school_id: Option<Uuid>,
    created_by: Option<Uuid>,
    input: Vec<u8>,
    total: i32,
) -> Result<Uuid> {
    let id = crate::new_id();
    job::ActiveModel {
        id: Set(id),
        kind: Set(kind.into()),
        school_id: Set(school_id),
        created_by: Set(created_by),
        status: Set("queued".into()),
        progress: Set(0),
        total: Set(total),
        input: Set(Some(input)),
        params: Set(None),
        result: Set(None),
        created_at: Set(crate::now()),
        started_at: Set(None),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Marks a job running and hands back its input.
pub async fn start<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Vec<u8>> {
    let m = job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_job"))?;
    let input = m.input.clone().unwrap_or_default();
    let mut am: job::ActiveModel = m.into();
    am.status = Set("running".into());
    am.started_at = Set(Some(crate::now()));
    am.update(db).await?;
    Ok(input)
}

/// Stores the outcome and drops the input: an uploaded file is kept no longer than needed.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    ok: bool,
    result: &serde_json::Value,
) -> Result<()> {
    job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(if ok { "done" } else { "failed" }),
        )
        .col_expr(job::Column::Result, Expr::value(result.to_string()))
        .col_expr(job::Column::Input, Expr::value(Option::<Vec<u8>>::None))
        .col_expr(job::Column::FinishedAt, Expr::value(crate::now()))
        .filter(job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<JobRow> {
    Ok(job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_job"))?
        .into())
}

/// Fails jobs left running or queued by a previous process.
pub async fn fail_interrupted<C: ConnectionTrait>(db: &C) -> Result<u64> {
    let result = serde_json::json!({ "interrupted": true }).to_string();
    Ok(job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value("failed"))
        .col_expr(job::Column::Result, Expr::value(result))
        .col_expr(job::Column::Input, Expr::value(Option::<Vec<u8>>::None))
        .filter(job::Column::Status.is_in(["running", "queued"]))
        .exec(db)
        .await?
        .rows_affected)
}
