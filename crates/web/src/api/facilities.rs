//! `/api/v1/schools/{id}/facilities`: a school's rooms, equipment, teaching computers and
//! yes/no facts, with the counts, ratio and shortfalls the statistics forms derive. Reading
//! needs `ViewFacilities` on the school, writing `ManageFacilities`.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::scope;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::collections::BTreeMap;
use truongso_core::DomainError;
use truongso_core::auth::Action;
use truongso_core::facilities::{SchoolFact, SchoolFacts};
use truongso_store::facilities::{self, EquipmentRow, FacilitiesOverview, RoomRow};
use truongso_store::org::OrgUnit;
use utoipa::ToSchema;
use uuid::Uuid;

/// The school's overview, computed for today.
pub async fn overview(st: &AppState, school_id: Uuid) -> AppResult<FacilitiesOverview> {
    Ok(facilities::overview(&st.store.db, school_id, crate::today()).await?)
}

/// The school, if the caller may manage its facilities.
pub async fn managed(st: &AppState, p: &Principal, school_id: Uuid) -> AppResult<OrgUnit> {
    scope::school(st, p, school_id, Action::ManageFacilities).await
}

#[utoipa::path(get, path = "/api/v1/schools/{id}/facilities", tag = "facilities", params(("id" = Uuid, Path)),
    responses((status = 200, body = FacilitiesOverview), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<FacilitiesOverview> {
    let school = scope::school(&st, &p, id, Action::ViewFacilities).await?;
    Ok(Json(overview(&st, school.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomDto {
    /// Unique within the school: a room with the same name is updated.
    pub name: String,
    /// A room kind code (`classroom`, `subject_room`, `library`, `computer_room`,
    /// `multi_purpose_hall`, `staff_housing`, `toilet_block`, `other`) or its Vietnamese label.
    pub kind: String,
    /// `solid`, `semi_solid`, `temporary` (or `Kiên cố`, `Bán kiên cố`, `Tạm`).
    pub quality: String,
    /// 1–100 000 m².
    pub area_m2: Option<i64>,
}

/// Creates a room, or updates the school's room with the same name.
#[utoipa::path(post, path = "/api/v1/schools/{id}/rooms", tag = "facilities", params(("id" = Uuid, Path)), request_body = RoomDto,
    responses((status = 201, body = RoomRow), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn upsert_room(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<RoomDto>,
) -> AppResult<(StatusCode, Json<RoomRow>)> {
    let school = managed(&st, &p, id).await?;
    let area = b.area_m2.map(|a| a.to_string()).unwrap_or_default();
    let row = facilities::upsert_room(
        &st.store.db,
        &p.actor_ref(),
        school.id,
        &b.name,
        &b.kind,
        &b.quality,
        &area,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquipmentDto {
    /// 1–40 of `A–Z a–z 0–9 - _ .`, as in the minimum lists.
    pub code: String,
    pub name: String,
    pub category: String,
    /// 1–12.
    pub grade: Option<i64>,
    /// 0–100 000 units in this condition.
    pub quantity: i64,
    /// `good`, `usable` or `broken` (or `Tốt`, `Còn sử dụng được`, `Hỏng`).
    pub condition: String,
}

/// Sets how many units of an item the school has in one condition.
#[utoipa::path(post, path = "/api/v1/schools/{id}/equipment", tag = "facilities", params(("id" = Uuid, Path)), request_body = EquipmentDto,
    responses((status = 201, body = EquipmentRow), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn set_equipment(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<EquipmentDto>,
) -> AppResult<(StatusCode, Json<EquipmentRow>)> {
    let school = managed(&st, &p, id).await?;
    let grade = b.grade.map(|g| g.to_string());
    let row = facilities::set_equipment(
        &st.store.db,
        &p.actor_ref(),
        school.id,
        &b.code,
        &b.name,
        &b.category,
        grade.as_deref(),
        &b.quantity.to_string(),
        &b.condition,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsDto {
    /// Computers used for teaching, 0–100 000.
    pub computers_teaching: i64,
    /// Yes/no facts keyed by code (`grid_power`, `clean_water`, `toilets`,
    /// `handwashing_education`, `internet_for_teaching`, `computers_for_teaching`,
    /// `disability_accessible`, `counselling`); a fact left out is `false`.
    #[serde(default)]
    pub facts: BTreeMap<String, bool>,
}

/// The facts of a body: every key must be a fact code (the error names the key).
pub fn facts_of(map: &BTreeMap<String, bool>) -> AppResult<SchoolFacts> {
    let mut out = SchoolFacts::default();
    for (k, v) in map {
        let fact = SchoolFact::ALL
            .iter()
            .find(|f| f.code() == k)
            .ok_or_else(|| AppError::invalid("facts", DomainError::UnknownCode))?;
        out.set(*fact, *v);
    }
    Ok(out)
}

/// Replaces the school's yes/no facts and its number of teaching computers; answers with the
/// updated overview.
#[utoipa::path(put, path = "/api/v1/schools/{id}/facilities/facts", tag = "facilities", params(("id" = Uuid, Path)), request_body = FactsDto,
    responses((status = 200, body = FacilitiesOverview), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn set_facts(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<FactsDto>,
) -> ApiResult<FacilitiesOverview> {
    let school = managed(&st, &p, id).await?;
    let facts = facts_of(&b.facts)?;
    facilities::set_facts(
        &st.store.db,
        &p.actor_ref(),
        school.id,
        &facts,
        &b.computers_teaching.to_string(),
    )
    .await?;
    Ok(Json(overview(&st, school.id).await?))
}
