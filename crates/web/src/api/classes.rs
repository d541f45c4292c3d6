//! `/api/v1/classes`: classes per school year with their roll and teachers, enrolment moves,
//! and the year rollover. Scoped by role: school staff and offices see a school's classes,
//! homeroom and subject teachers the classes they teach.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use truongso_core::auth::{Action, Resource, Scope};
use truongso_core::classes::YearOutcome;
use truongso_core::org::OrgPath;
use truongso_store::classes::{self, ClassInput, ClassSummary, Enrolment, RolloverReport};
use truongso_store::people::LearnerRow;
use truongso_store::staff::{self, Assignment};
use truongso_store::{org, school_years};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The class and its school's path, if the caller may perform `action` on it.
pub async fn authorised(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    action: Action,
) -> AppResult<(ClassSummary, OrgPath)> {
    let c = classes::get(&st.store.db, id).await?;
    let school = org::get(&st.store.db, c.school_id).await?.path;
    p.require(
        action,
        Resource::Class {
            school: &school,
            class_id: c.id,
        },
    )?;
    Ok((c, school))
}

/// Classes of the caller's own class grants (homeroom and subject teachers).
pub fn own_class_ids(p: &Principal) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = p
        .actor
        .grants
        .iter()
        .filter_map(|g| match &g.scope {
            Scope::Class { class_id, .. } | Scope::ClassSubject { class_id, .. } => Some(*class_id),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The classes a caller sees: a school's (a year, default the current one) when they may see
/// all its classes, else the classes they teach.
pub async fn visible(
    st: &AppState,
    p: &Principal,
    school_id: Option<Uuid>,
    year_id: Option<Uuid>,
) -> AppResult<Vec<ClassSummary>> {
    let db = &st.store.db;
    match school_id {
        Some(id) => {
            let school = crate::scope::school(st, p, id, Action::ViewClass).await?;
            let year = match year_id {
                Some(y) => Some(y),
                None => school_years::current(db, school.id, crate::today())
                    .await?
                    .map(|y| y.id),
            };
            Ok(classes::list(db, &[school.id], year).await?)
        }
        None => Ok(classes::by_ids(db, &own_class_ids(p)).await?),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// A school the caller may see all classes of; without it, the caller's own classes.
    school_id: Option<Uuid>,
    /// Default: the year in progress.
    school_year_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/classes", tag = "classes", params(ListQuery),
    responses((status = 200, body = Vec<ClassSummary>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<ListQuery>,
) -> ApiResult<Vec<ClassSummary>> {
    Ok(Json(visible(&st, &p, q.school_id, q.school_year_id).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassBody {
    /// Grade (1–12; 16 nhóm trẻ, 17 mẫu giáo), e.g. "6" or "Khối 6".
    pub grade: String,
    pub name: String,
    pub homeroom_staff_id: Option<Uuid>,
    #[serde(default)]
    pub multigrade: bool,
    #[serde(default)]
    pub specialist: bool,
    #[serde(default)]
    pub boarding: bool,
    #[serde(default)]
    pub two_sessions: bool,
    pub capacity: Option<u32>,
}

impl From<ClassBody> for ClassInput {
    fn from(b: ClassBody) -> Self {
        ClassInput {
            grade: b.grade,
            name: b.name,
            homeroom_staff_id: b.homeroom_staff_id,
            multigrade: b.multigrade,
            specialist: b.specialist,
            boarding: b.boarding,
            two_sessions: b.two_sessions,
            capacity: b.capacity.map(|c| c.to_string()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClassBody {
    pub school_year_id: Uuid,
    #[serde(flatten)]
    pub class: ClassBody,
}

/// Checks ManageClass on a school year's school (creating a class).
pub async fn may_open_class(st: &AppState, p: &Principal, year_id: Uuid) -> AppResult<()> {
    let year = school_years::get(&st.store.db, year_id).await?;
    let school = org::get(&st.store.db, year.school_id).await?.path;
    p.require(
        Action::ManageClass,
        Resource::Class {
            school: &school,
            class_id: Uuid::nil(),
        },
    )
}

#[utoipa::path(post, path = "/api/v1/classes", tag = "classes", request_body = NewClassBody,
    responses((status = 201, body = ClassSummary), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<NewClassBody>,
) -> AppResult<(StatusCode, Json<ClassSummary>)> {
    may_open_class(&st, &p, b.school_year_id).await?;
    let c = classes::create(&st.store.db, &p.actor_ref(), b.school_year_id, b.class.into()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Serialize, ToSchema)]
pub struct ClassDetail {
    pub class: ClassSummary,
    pub learners: Vec<LearnerRef>,
    pub assignments: Vec<Assignment>,
}

#[derive(Serialize, ToSchema)]
pub struct LearnerRef {
    pub id: Uuid,
    pub full_name: String,
}

impl From<LearnerRow> for LearnerRef {
    fn from(l: LearnerRow) -> Self {
        Self {
            id: l.id,
            full_name: l.full_name,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = Uuid, Path)),
    responses((status = 200, body = ClassDetail), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<ClassDetail> {
    let (class, _) = authorised(&st, &p, id, Action::ViewClass).await?;
    let db = &st.store.db;
    Ok(Json(ClassDetail {
        learners: classes::roster(db, id)
            .await?
            .into_iter()
            .map(LearnerRef::from)
            .collect(),
        assignments: staff::assignments(db, Some(&[id]), None).await?,
        class,
    }))
}

#[utoipa::path(patch, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = Uuid, Path)), request_body = ClassBody,
    responses((status = 200, body = ClassSummary), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<ClassBody>,
) -> ApiResult<ClassSummary> {
    authorised(&st, &p, id, Action::ManageClass).await?;
    Ok(Json(
        classes::update(&st.store.db, &p.actor_ref(), id, b.into()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/learners/{id}/enrolments", tag = "classes", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Enrolment>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn enrolments(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Vec<Enrolment>> {
    crate::api::learners::authorised(&st, &p, id, Action::ViewLearner).await?;
    Ok(Json(classes::history(&st.store.db, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    pub class_id: Uuid,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`; default today.
    pub on_date: Option<String>,
}

/// Moves a learner into a class from a date (history kept). Needs the right to manage both
/// the learner and the target class.
pub async fn move_learner(
    st: &AppState,
    p: &Principal,
    learner_id: Uuid,
    class_id: Uuid,
    on: Option<&str>,
) -> AppResult<()> {
    crate::api::learners::authorised(st, p, learner_id, Action::ManageLearner).await?;
    authorised(st, p, class_id, Action::ManageClass).await?;
    let on = match on.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => truongso_core::org::parse_date(s).map_err(|e| AppError::invalid("on_date", e))?,
        None => crate::today(),
    };
    classes::enrol(&st.store.db, &p.actor_ref(), learner_id, class_id, on, "moved").await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/learners/{id}/enrolments", tag = "classes", params(("id" = Uuid, Path)), request_body = MoveBody,
    responses((status = 204), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn enrol(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<MoveBody>,
) -> AppResult<StatusCode> {
    move_learner(&st, &p, id, b.class_id, b.on_date.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloverBody {
    /// The year that starts next.
    pub to_school_year_id: Uuid,
    /// What happens to learners without a year result: `promote` (default) or `repeat`.
    pub default_outcome: Option<String>,
}

/// Closes a school year into the next: next year's classes and every learner's placement.
pub async fn rollover_year(
    st: &AppState,
    p: &Principal,
    from: Uuid,
    to: Uuid,
    default: Option<&str>,
) -> AppResult<RolloverReport> {
    may_open_class(st, p, from).await?;
    may_open_class(st, p, to).await?;
    let default = match default.map(str::trim) {
        None | Some("") | Some("promote") => YearOutcome::Promote,
        Some("repeat") => YearOutcome::Repeat,
        Some(_) => {
            return Err(AppError::invalid(
                "default_outcome",
                truongso_core::DomainError::UnknownCode,
            ));
        }
    };
    // The stored year results decide; learners without one (or still waiting for a summer
    // re-test) take the default outcome and the report says how many did.
    let outcomes = truongso_store::gradebook::outcomes(&st.store.db, from).await?;
    Ok(classes::rollover(&st.store.db, &p.actor_ref(), from, to, &outcomes, default).await?)
}

#[utoipa::path(post, path = "/api/v1/school-years/{id}/rollover", tag = "classes", params(("id" = Uuid, Path)), request_body = RolloverBody,
    responses((status = 200, body = RolloverReport), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn rollover(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<RolloverBody>,
) -> ApiResult<RolloverReport> {
    Ok(Json(
        rollover_year(&st, &p, id, b.to_school_year_id, b.default_outcome.as_deref()).await?,
    ))
}
