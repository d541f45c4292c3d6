//! `/api/v1/staff` and `/api/v1/assignments`: staff records (identity numbers never leave the
//! server) and teaching assignments (teacher × subject × class × term).

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgPath;
use truongso_store::org;
use truongso_store::staff::{self, Assignment, NewStaff, StaffRow};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The staff record, if the caller may perform `action` on its school.
pub async fn authorised(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    action: Action,
) -> AppResult<(StaffRow, OrgPath)> {
    let s = staff::get(&st.store.db, id).await?;
    let school = org::get(&st.store.db, s.school_id).await?.path;
    p.require(action, Resource::OrgUnit(&school))?;
    Ok((s, school))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// A school; without it, every school the caller may see staff of.
    school_id: Option<Uuid>,
    /// Part of the name; diacritics optional.
    q: Option<String>,
}

/// Staff the caller may see, by name (at most 500).
pub async fn visible(
    st: &AppState,
    p: &Principal,
    school_id: Option<Uuid>,
    q: &str,
) -> AppResult<Vec<StaffRow>> {
    let within: Vec<OrgPath> = match school_id {
        Some(id) => vec![crate::scope::school(st, p, id, Action::ViewStaff).await?.path],
        None => p
            .actor
            .grants
            .iter()
            .map(|g| g.scope.anchor().clone())
            .filter(|a| p.can(Action::ViewStaff, Resource::OrgUnit(a)))
            .collect(),
    };
    Ok(staff::list(&st.store.db, &within, q, 500).await?)
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(ListQuery),
    responses((status = 200, body = Vec<StaffRow>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<ListQuery>,
) -> ApiResult<Vec<StaffRow>> {
    Ok(Json(
        visible(&st, &p, q.school_id, q.q.as_deref().unwrap_or_default()).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    pub school_id: Uuid,
    /// The school's own code for the person (mã cán bộ); an existing code updates that record.
    pub staff_code: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub cccd: Option<String>,
    pub ethnicity: Option<String>,
    /// DM_NHOM_CAN_BO code or label.
    pub staff_group: String,
    /// DM_LOAI_CAN_BO.
    pub position: Option<String>,
    /// DM_HINH_THUC_HOP_DONG.
    pub contract: String,
    /// DM_TRINH_DO_CHUYEN_MON.
    pub qualification: Option<String>,
    pub main_subject: Option<String>,
    pub second_subject: Option<String>,
    pub periods_per_week: Option<u32>,
    /// DM_KQ_CHUAN_NGHE_NGHIEP.
    pub standard_rating: Option<String>,
    /// DM_TRANG_THAI_CAN_BO; default 01 (working).
    pub status: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl StaffBody {
    pub fn input(self) -> NewStaff {
        NewStaff {
            staff_code: self.staff_code,
            full_name: self.full_name,
            date_of_birth: self.date_of_birth,
            sex: self.sex,
            cccd: self.cccd,
            ethnicity: self.ethnicity,
            staff_group: self.staff_group,
            position: self.position,
            contract: self.contract,
            qualification: self.qualification,
            main_subject: self.main_subject,
            second_subject: self.second_subject,
            periods_per_week: self.periods_per_week.map(|n| n.to_string()),
            standard_rating: self.standard_rating,
            status: self.status,
            phone: self.phone,
            email: self.email,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = StaffBody,
    responses((status = 200, body = StaffRow), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn save(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<StaffBody>,
) -> ApiResult<StaffRow> {
    let school = crate::scope::school(&st, &p, b.school_id, Action::ManageStaff).await?;
    let row = staff::save(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        school.id,
        &b.input(),
        crate::today(),
    )
    .await?;
    Ok(Json(row))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = Uuid, Path)),
    responses((status = 200, body = StaffRow), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<StaffRow> {
    Ok(Json(authorised(&st, &p, id, Action::ViewStaff).await?.0))
}

#[derive(Deserialize, IntoParams)]
pub struct AssignmentQuery {
    class_id: Option<Uuid>,
    staff_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/assignments", tag = "staff", params(AssignmentQuery),
    responses((status = 200, body = Vec<Assignment>), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn assignments(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<AssignmentQuery>,
) -> ApiResult<Vec<Assignment>> {
    let db = &st.store.db;
    match (q.class_id, q.staff_id) {
        (Some(c), _) => {
            crate::api::classes::authorised(&st, &p, c, Action::ViewClass).await?;
            Ok(Json(staff::assignments(db, Some(&[c]), q.staff_id).await?))
        }
        (None, Some(s)) => {
            authorised(&st, &p, s, Action::ViewStaff).await?;
            Ok(Json(staff::assignments(db, None, Some(s)).await?))
        }
        (None, None) => Err(AppError::invalid(
            "class_id",
            truongso_core::DomainError::Required,
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    pub class_id: Uuid,
    pub staff_id: Uuid,
    /// Subject code or name (e.g. `toan`, "Ngữ văn").
    pub subject: String,
    /// `HK1`, `HK2` or `CN` (whole year, the default).
    pub term: Option<String>,
}

/// Assigns a teacher; managing the staff of the class's school is required.
pub async fn assign(st: &AppState, p: &Principal, b: &AssignmentBody) -> AppResult<Uuid> {
    let (class, school) = crate::api::classes::authorised(st, p, b.class_id, Action::ViewClass).await?;
    p.require(Action::ManageStaff, Resource::OrgUnit(&school))?;
    let id = staff::assign(
        &st.store.db,
        &p.actor_ref(),
        class.id,
        b.staff_id,
        &b.subject,
        b.term.as_deref().unwrap_or("CN"),
    )
    .await?;
    Ok(id)
}

#[utoipa::path(post, path = "/api/v1/assignments", tag = "staff", request_body = AssignmentBody,
    responses((status = 201, body = Vec<Assignment>), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_assignment(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<AssignmentBody>,
) -> AppResult<(StatusCode, Json<Vec<Assignment>>)> {
    assign(&st, &p, &b).await?;
    let list = staff::assignments(&st.store.db, Some(&[b.class_id]), None).await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// Removes an assignment (ManageStaff on the class's school).
pub async fn unassign(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Uuid> {
    let a = staff::assignment(&st.store.db, id).await?;
    let (_, school) = crate::api::classes::authorised(st, p, a.class_id, Action::ViewClass).await?;
    p.require(Action::ManageStaff, Resource::OrgUnit(&school))?;
    staff::unassign(&st.store.db, &p.actor_ref(), id).await?;
    Ok(a.class_id)
}

#[utoipa::path(delete, path = "/api/v1/assignments/{id}", tag = "staff", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn delete_assignment(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    unassign(&st, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
