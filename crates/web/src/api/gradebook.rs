//! `/api/v1/gradebook`: marks of a class × subject × term (read, and written by the assigned
//! teacher with optimistic versions), correction requests and decisions, the homeroom
//! teacher's summaries, year results of a class and of a learner (guardians included), and the
//! pure computation of a marks document (the same as `truongso gradebook compute`).

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use truongso_core::auth::{Action, Resource};
use truongso_core::gradebook::compute;
use truongso_core::i18n::{self, Locale};
use truongso_core::org::OrgPath;
use truongso_store::gradebook::{self as store, CellStatus, CellWrite, ClassInfo, SummaryWrite};
use truongso_store::org;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A class with its rules, and the path of its school (what every policy check needs).
async fn located(st: &AppState, class_id: Uuid) -> AppResult<(ClassInfo, OrgPath)> {
    let class = store::class_info(&st.store.db, class_id).await?;
    let school = org::get(&st.store.db, class.school_id).await?.path;
    Ok((class, school))
}

/// The class (with its rules) and its school path, if the caller may `action` on it.
pub async fn class_for(
    st: &AppState,
    p: &Principal,
    class_id: Uuid,
    action: Action,
) -> AppResult<(ClassInfo, OrgPath)> {
    let (class, school) = located(st, class_id).await?;
    p.require(
        action,
        Resource::Class {
            school: &school,
            class_id,
        },
    )?;
    Ok((class, school))
}

/// The class for `action` on one of its subjects.
pub async fn subject_for(
    st: &AppState,
    p: &Principal,
    class_id: Uuid,
    subject: &str,
    action: Action,
) -> AppResult<(ClassInfo, OrgPath)> {
    let (class, school) = located(st, class_id).await?;
    p.require(
        action,
        Resource::ClassSubject {
            school: &school,
            class_id,
            subject,
        },
    )?;
    Ok((class, school))
}

#[derive(Deserialize, IntoParams)]
pub struct SheetQuery {
    pub class_id: Uuid,
    /// Subject code, e.g. `toan`.
    pub subject: String,
    /// 1 (HK I), 2 (HK II), 0 (the year's re-test).
    pub term: u8,
}

#[derive(Serialize, ToSchema)]
pub struct CellDto {
    pub learner_id: Uuid,
    pub slot: String,
    pub value: Option<String>,
    pub version: i32,
}

#[derive(Serialize, ToSchema)]
pub struct RowDto {
    pub learner_id: Uuid,
    pub full_name: String,
    /// The term's computed result ("7.7", "Đ"); null while a required mark is missing.
    pub average: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ColumnDto {
    pub slot: String,
    pub label: String,
    /// `score`, `comment`, `level` or `test`.
    pub kind: String,
    pub locked: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SheetDto {
    pub class_id: Uuid,
    pub class_name: String,
    pub school_year: String,
    /// Rule set, e.g. `tt22_2021`.
    pub rules: String,
    pub subject: String,
    pub term: u8,
    pub columns: Vec<ColumnDto>,
    pub rows: Vec<RowDto>,
    pub cells: Vec<CellDto>,
}

pub fn sheet_dto(s: &store::Sheet) -> SheetDto {
    let kind = |slot: &str| s.columns.iter().find(|c| c.slot == slot).map(|c| c.kind);
    SheetDto {
        class_id: s.class.id,
        class_name: s.class.name.clone(),
        school_year: s.class.school_year.clone(),
        rules: s.class.rules.as_str().into(),
        subject: s.subject.code.into(),
        term: s.term,
        columns: s
            .columns
            .iter()
            .map(|c| ColumnDto {
                slot: c.slot.clone(),
                label: c.label.clone(),
                kind: c.kind.as_str().into(),
                locked: s.locks.is_locked(&c.slot),
            })
            .collect(),
        rows: s
            .rows
            .iter()
            .map(|r| RowDto {
                learner_id: r.learner.learner_id,
                full_name: r.learner.full_name.clone(),
                average: r.result.clone(),
            })
            .collect(),
        cells: s
            .rows
            .iter()
            .flat_map(|r| {
                r.cells.iter().filter_map(move |(slot, c)| {
                    let k = kind(slot)?;
                    Some(CellDto {
                        learner_id: r.learner.learner_id,
                        slot: slot.clone(),
                        value: c.text.clone().or_else(|| c.value.map(|v| k.show(v))),
                        version: c.version,
                    })
                })
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/gradebook/marks", tag = "gradebook", params(SheetQuery),
    responses((status = 200, body = SheetDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_marks(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<SheetQuery>,
) -> ApiResult<SheetDto> {
    subject_for(&st, &p, q.class_id, &q.subject, Action::ViewMarks).await?;
    let s = store::sheet(&st.store.db, q.class_id, &q.subject, q.term, crate::today()).await?;
    Ok(Json(sheet_dto(&s)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarksBody {
    pub class_id: Uuid,
    pub subject: String,
    pub term: u8,
    pub cells: Vec<CellBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CellBody {
    pub learner_id: Uuid,
    /// `tx1`…, `gk`, `ck`, `cd1`; primary `mid_level`, `mid_test`, `end_level`, `end_test`;
    /// term 0 `retest`.
    pub slot: String,
    /// As typed ("7,5", "Đ", "T"); null or empty clears the cell.
    pub value: Option<String>,
    /// The version the client showed; 0 for a cell never written.
    pub version: i32,
}

#[derive(Serialize, ToSchema)]
pub struct CellResultDto {
    pub learner_id: Uuid,
    pub slot: String,
    /// `saved`, `conflict` (someone else's write stands: `value`, `by`, `at`), `error`, `locked`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Vietnam time, e.g. `2026-11-24T09:12:00+07:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SaveDto {
    pub cells: Vec<CellResultDto>,
    pub rows: Vec<RowAverageDto>,
}

#[derive(Serialize, ToSchema)]
pub struct RowAverageDto {
    pub learner_id: Uuid,
    pub average: Option<String>,
}

pub fn save_dto(locale: Locale, r: store::SaveReport) -> SaveDto {
    let cells = r
        .cells
        .into_iter()
        .map(|c| {
            let mut d = CellResultDto {
                learner_id: c.learner_id,
                slot: c.slot,
                status: "saved",
                value: None,
                version: None,
                by: None,
                at: None,
                code: None,
                message: None,
            };
            match c.status {
                CellStatus::Saved { value, version } => {
                    d.value = value;
                    d.version = Some(version);
                }
                CellStatus::Conflict {
                    value,
                    version,
                    by,
                    at,
                } => {
                    d.status = "conflict";
                    d.value = value;
                    d.version = Some(version);
                    d.by = Some(by);
                    d.at = Some(at.with_timezone(&crate::view::vn_offset()).to_rfc3339());
                }
                CellStatus::Error { code, params } => {
                    d.status = "error";
                    d.code = Some(code);
                    d.message = Some(i18n::tf(locale, &format!("error.{code}"), &params));
                }
                CellStatus::Locked => {
                    d.status = "locked";
                    d.code = Some("gradebook_locked");
                    d.message = Some(i18n::t(locale, "error.gradebook_locked").to_string());
                }
            }
            d
        })
        .collect();
    SaveDto {
        cells,
        rows: r
            .rows
            .into_iter()
            .map(|r| RowAverageDto {
                learner_id: r.learner_id,
                average: r.result,
            })
            .collect(),
    }
}

#[utoipa::path(put, path = "/api/v1/gradebook/marks", tag = "gradebook", request_body = MarksBody,
    responses((status = 200, body = SaveDto), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn put_marks(
    State(st): State<AppState>,
    Authed { p, ctx }: Authed,
    ApiJson(b): ApiJson<MarksBody>,
) -> ApiResult<SaveDto> {
    subject_for(&st, &p, b.class_id, &b.subject, Action::EnterMarks).await?;
    let writes: Vec<CellWrite> = b
        .cells
        .into_iter()
        .map(|c| CellWrite {
            learner_id: c.learner_id,
            slot: c.slot,
            value: c.value,
            version: c.version,
        })
        .collect();
    let r = store::save_cells(
        &st.store.db,
        &p.actor_ref(),
        b.class_id,
        &b.subject,
        b.term,
        &writes,
        crate::today(),
    )
    .await?;
    Ok(Json(save_dto(ctx.locale, r)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    pub class_id: Uuid,
    pub subject: String,
    pub term: u8,
    pub learner_id: Uuid,
    pub slot: String,
    pub value: Option<String>,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/gradebook/corrections", tag = "gradebook", request_body = CorrectionBody,
    responses((status = 200, body = store::Correction), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn request_correction(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> ApiResult<store::Correction> {
    subject_for(&st, &p, b.class_id, &b.subject, Action::EnterMarks).await?;
    let c = store::request_correction(
        &st.store.db,
        &p.actor_ref(),
        b.class_id,
        &b.subject,
        b.term,
        b.learner_id,
        &b.slot,
        b.value.as_deref(),
        &b.reason,
    )
    .await?;
    Ok(Json(c))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub approve: bool,
    pub note: Option<String>,
}

/// The correction, if the caller leads its school.
pub async fn correction_for(st: &AppState, p: &Principal, id: Uuid) -> AppResult<store::Correction> {
    let c = store::correction(&st.store.db, id).await?;
    let (_, school) = located(st, c.class_id).await?;
    p.require(Action::ManageGradebook, Resource::OrgUnit(&school))?;
    Ok(c)
}

#[utoipa::path(post, path = "/api/v1/gradebook/corrections/{id}/decision", tag = "gradebook", params(("id" = Uuid, Path)), request_body = DecisionBody,
    responses((status = 200, body = store::Correction), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody)))]
pub async fn decide_correction(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult<store::Correction> {
    correction_for(&st, &p, id).await?;
    let c = store::decide_correction(
        &st.store.db,
        &p.actor_ref(),
        id,
        b.approve,
        b.note.as_deref(),
        crate::today(),
    )
    .await?;
    Ok(Json(c))
}

#[derive(Deserialize, IntoParams)]
pub struct TermQuery {
    pub term: u8,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummariesBody {
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<SummaryWrite>,
}

#[derive(Serialize, ToSchema)]
pub struct SummariesDto {
    pub written: usize,
}

#[utoipa::path(put, path = "/api/v1/classes/{id}/summaries", tag = "gradebook", params(("id" = Uuid, Path), TermQuery), request_body = SummariesBody,
    responses((status = 200, body = SummariesDto), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn put_summaries(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    Query(q): Query<TermQuery>,
    ApiJson(b): ApiJson<SummariesBody>,
) -> ApiResult<SummariesDto> {
    class_for(&st, &p, id, Action::SummariseClass).await?;
    match store::save_summaries(&st.store.db, &p.actor_ref(), id, q.term, &b.rows).await? {
        Ok(written) => Ok(Json(SummariesDto { written })),
        Err(errors) => {
            let e = &errors[0];
            Err(
                AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.code)
                    .with("learner", e.learner_id)
                    .with("field", &e.field),
            )
        }
    }
}

/// Results of a class, as JSON (subjects per term and year, levels, decision, award).
#[derive(Serialize, ToSchema)]
pub struct ResultsDto {
    pub class_id: Uuid,
    pub rules: String,
    #[schema(value_type = Vec<Object>)]
    pub learners: Vec<serde_json::Value>,
}

fn results_dto(class: &ClassInfo, results: &[store::LearnerResult]) -> ResultsDto {
    ResultsDto {
        class_id: class.id,
        rules: class.rules.as_str().into(),
        learners: results
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/classes/{id}/results", tag = "gradebook", params(("id" = Uuid, Path)),
    responses((status = 200, body = ResultsDto), (status = 403, body = crate::api::ErrorBody)))]
pub async fn class_results(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<ResultsDto> {
    let (class, _) = class_for(&st, &p, id, Action::ViewResults).await?;
    let roster = store::year_members(&st.store.db, &class).await?;
    let results = store::compute_learners(&st.store.db, &class, &roster).await?;
    Ok(Json(results_dto(&class, &results)))
}

#[utoipa::path(post, path = "/api/v1/classes/{id}/results", tag = "gradebook", params(("id" = Uuid, Path)),
    responses((status = 200, body = ResultsDto), (status = 403, body = crate::api::ErrorBody)))]
pub async fn compute_class(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<ResultsDto> {
    let (class, school) = store_class_for_compute(&st, &p, id).await?;
    let _ = school;
    let results = store::compute_class(&st.store.db, &p.actor_ref(), id).await?;
    Ok(Json(results_dto(&class, &results)))
}

/// Computing and storing a class's results: its homeroom teacher or the school's leaders.
pub async fn store_class_for_compute(
    st: &AppState,
    p: &Principal,
    id: Uuid,
) -> AppResult<(ClassInfo, OrgPath)> {
    let (class, school) = located(st, id).await?;
    let ok = p.can(
        Action::SummariseClass,
        Resource::Class {
            school: &school,
            class_id: id,
        },
    ) || p.can(Action::ManageGradebook, Resource::OrgUnit(&school));
    if !ok {
        return Err(AppError::forbidden());
    }
    Ok((class, school))
}

#[utoipa::path(get, path = "/api/v1/learners/{id}/results", tag = "gradebook", params(("id" = Uuid, Path)),
    responses((status = 200, body = ResultsDto), (status = 403, body = crate::api::ErrorBody)))]
pub async fn learner_results(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<ResultsDto> {
    let (l, _) = crate::api::learners::authorised(&st, &p, id, Action::ViewResults).await?;
    let class_id = l.class_id.ok_or_else(AppError::not_found)?;
    let class = store::class_info(&st.store.db, class_id).await?;
    let entry = store::roster(&st.store.db, class_id)
        .await?
        .into_iter()
        .filter(|r| r.learner_id == id)
        .collect::<Vec<_>>();
    let results = store::compute_learners(&st.store.db, &class, &entry).await?;
    Ok(Json(results_dto(&class, &results)))
}

/// The pure computation over a marks document (see docs/gradebook.md): nothing is read or
/// written, so any signed-in caller may use it.
#[utoipa::path(post, path = "/api/v1/gradebook/compute", tag = "gradebook", request_body(content = Object),
    responses((status = 200, body = Object), (status = 422, body = crate::api::ErrorBody)))]
pub async fn compute_document(
    Authed { ctx, .. }: Authed,
    ApiJson(input): ApiJson<compute::Input>,
) -> AppResult<Json<compute::Output>> {
    compute::run(&input).map(Json).map_err(|e| {
        let detail = i18n::tf(ctx.locale, &format!("error.{}", e.code), &e.params);
        AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid_document")
            .with("path", e.path)
            .with("detail", detail)
    })
}
