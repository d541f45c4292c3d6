//! `/api/v1/imports` and `/api/v1/jobs`: upload a spreadsheet for a school (the raw XLSX as the
//! request body), then follow the job until it reports the outcome.

use crate::AppState;
use crate::api::ApiResult;
use crate::ctx::Authed;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, JobError};
use crate::scope;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use truongso_core::auth::Action;
use truongso_store::imports::ImportReport;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The school the records belong to.
    school_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct JobStarted {
    pub job_id: Uuid,
}

/// Starts an import. Kinds: `learners`, `guardians`, `staff`, `classes`, `assignments`.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", tag = "imports",
    params(("kind" = String, Path), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 202, body = JobStarted), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<(StatusCode, Json<JobStarted>)> {
    let t = jobs::template(&kind).ok_or_else(AppError::not_found)?;
    let school = scope::school(&st, &p, q.school_id, Action::ImportRecords).await?;
    if body.is_empty() {
        return Err(AppError::invalid("file", truongso_core::DomainError::Required));
    }
    let id = jobs::start_import(&st, t, school.id, p.actor_ref(), body.to_vec()).await?;
    Ok((StatusCode::ACCEPTED, Json(JobStarted { job_id: id })))
}

#[derive(Serialize, ToSchema)]
pub struct JobDto {
    pub id: Uuid,
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows handled so far and in all, while running.
    pub progress: Option<(u32, u32)>,
    pub report: Option<ImportReport>,
    /// Every problem found (nothing was written when there is any).
    pub errors: Vec<JobError>,
}

/// One of the caller's jobs.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "imports", params(("id" = Uuid, Path)),
    responses((status = 200, body = JobDto), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<JobDto> {
    let job = truongso_store::jobs::get(&st.store.db, id).await?;
    if job.created_by != Some(p.user.id) {
        return Err(AppError::not_found());
    }
    let result = job.result.clone().unwrap_or_default();
    Ok(Json(JobDto {
        progress: st.progress(id),
        report: serde_json::from_value(result["report"].clone()).ok(),
        errors: serde_json::from_value(result["errors"].clone()).unwrap_or_default(),
        id: job.id,
        kind: job.kind,
        status: job.status,
    }))
}

/// The blank XLSX template of a kind.
#[utoipa::path(get, path = "/api/v1/templates/{kind}", tag = "imports", params(("kind" = String, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = crate::api::ErrorBody)))]
pub async fn template(_: Authed, Path(kind): Path<String>) -> AppResult<Response> {
    crate::pages::imports::template_file(&kind)
}
