//! `/api/v1/org-units`: the organisation tree, scoped to what the caller may see.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use truongso_core::auth::{Action, Resource};
use truongso_core::org::{OrgPath, parse_date};
use truongso_store::org::{self, NewOrgUnit, OrgUnit};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct OrgUnitDto {
    pub id: Uuid,
    /// `ministry`, `province_dept`, `commune_office`, `district_office`, `school`, `satellite_site`.
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub code: Option<String>,
    pub name: String,
    /// For schools: levels taught, e.g. `TH+THCS`.
    pub levels: Option<String>,
    pub depth: i32,
    pub valid_from: chrono::NaiveDate,
    pub valid_to: Option<chrono::NaiveDate>,
}

impl From<OrgUnit> for OrgUnitDto {
    fn from(u: OrgUnit) -> Self {
        Self {
            id: u.id,
            kind: u.kind.as_str().into(),
            parent_id: u.parent_id,
            code: u.code,
            name: u.name,
            levels: u.levels.map(|l| l.to_stored()),
            depth: u.depth,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Children of this unit.
    parent: Option<Uuid>,
    /// The unit currently carrying this official code.
    code: Option<String>,
    /// Search by name (diacritics and case ignored) or code.
    q: Option<String>,
}

fn visible_roots(p: &Principal) -> Vec<OrgPath> {
    p.actor
        .grants
        .iter()
        .map(|g| g.scope.anchor().clone())
        .filter(|a| p.can(Action::ViewOrgUnit, Resource::OrgUnit(a)))
        .collect()
}

async fn visible(st: &AppState, p: &Principal, id: Uuid) -> AppResult<OrgUnit> {
    let u = org::get(&st.store.db, id).await?;
    p.require(Action::ViewOrgUnit, Resource::OrgUnit(&u.path))?;
    Ok(u)
}

/// Units by parent, code or search; without a filter, the caller's own top units.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "org", params(ListQuery),
    responses((status = 200, body = Vec<OrgUnitDto>), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn list_units(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<ListQuery>,
) -> ApiResult<Vec<OrgUnitDto>> {
    let db = &st.store.db;
    let units = if let Some(code) = q.code {
        let u = org::by_code(db, &code).await?;
        p.require(Action::ViewOrgUnit, Resource::OrgUnit(&u.path))?;
        vec![u]
    } else if let Some(parent) = q.parent {
        visible(&st, &p, parent).await?;
        org::children(db, parent).await?
    } else {
        let roots = visible_roots(&p);
        if roots.is_empty() {
            return Err(AppError::forbidden());
        }
        match q.q {
            Some(query) => org::search(db, &roots, &query, 100).await?,
            None => org::get_many(db, &roots.iter().map(OrgPath::last_id).collect::<Vec<_>>()).await?,
        }
    };
    Ok(Json(units.into_iter().map(OrgUnitDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}", tag = "org", params(("id" = Uuid, Path)),
    responses((status = 200, body = OrgUnitDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_unit(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<OrgUnitDto> {
    Ok(Json(visible(&st, &p, id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/org-units/{id}/children", tag = "org", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<OrgUnitDto>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn children(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Vec<OrgUnitDto>> {
    visible(&st, &p, id).await?;
    Ok(Json(
        org::children(&st.store.db, id)
            .await?
            .into_iter()
            .map(OrgUnitDto::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgUnitDto {
    pub kind: String,
    /// Parent by id…
    pub parent_id: Option<Uuid>,
    /// …or by its official code.
    pub parent_code: Option<String>,
    pub name: String,
    pub code: Option<String>,
    pub levels: Option<String>,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`; default today.
    pub valid_from: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/org-units", tag = "org", request_body = NewOrgUnitDto,
    responses((status = 201, body = OrgUnitDto), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody),
        (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_unit(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<NewOrgUnitDto>,
) -> AppResult<(StatusCode, Json<OrgUnitDto>)> {
    let db = &st.store.db;
    let parent = match (b.parent_id, b.parent_code.as_deref()) {
        (Some(id), _) => Some(org::get(db, id).await?),
        (None, Some(code)) => Some(org::by_code(db, code).await?),
        (None, None) => None,
    };
    match &parent {
        Some(par) => p.require(Action::ManageOrgUnit, Resource::OrgUnit(&par.path))?,
        // New roots are created with the CLI by the operator, not over the API.
        None => return Err(AppError::forbidden()),
    }
    let valid_from = b
        .valid_from
        .as_deref()
        .map(parse_date)
        .transpose()
        .map_err(|e| AppError::invalid("valid_from", e))?;
    let unit = org::create(
        db,
        &p.actor_ref(),
        NewOrgUnit {
            kind: b.kind,
            parent_id: parent.map(|x| x.id),
            name: b.name,
            code: b.code,
            levels: b.levels,
            valid_from,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(unit.into())))
}

#[derive(Serialize, ToSchema)]
pub struct OrgVersionDto {
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<Uuid>,
    pub parent_name: Option<String>,
    pub valid_from: chrono::NaiveDate,
    /// Exclusive end; `null` while in force.
    pub valid_to: Option<chrono::NaiveDate>,
    pub note: Option<String>,
}

/// The effective-dated history of a unit's name, code and parent.
#[utoipa::path(get, path = "/api/v1/org-units/{id}/history", tag = "org", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<OrgVersionDto>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Vec<OrgVersionDto>> {
    visible(&st, &p, id).await?;
    let rows = org::versions(&st.store.db, id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|v| OrgVersionDto {
                name: v.name,
                code: v.code,
                parent_id: v.parent_id,
                parent_name: v.parent_name,
                valid_from: v.valid_from,
                valid_to: v.valid_to,
                note: v.note,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveDto {
    pub parent_id: Uuid,
    /// First day under the new parent: `yyyy-mm-dd` or `dd/mm/yyyy`.
    pub valid_from: String,
    pub note: Option<String>,
}

/// Moves a unit (with its subtree) under another parent from a date; the old parent stays in
/// the unit's history.
#[utoipa::path(post, path = "/api/v1/org-units/{id}/move", tag = "org", params(("id" = Uuid, Path)), request_body = MoveDto,
    responses((status = 200, body = OrgUnitDto), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn move_unit(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<MoveDto>,
) -> ApiResult<OrgUnitDto> {
    crate::pages::org::restructurable(&st, &p, id).await?;
    let from = parse_date(&b.valid_from).map_err(|e| AppError::invalid("valid_from", e))?;
    let u = crate::pages::org::move_checked(&st, &p, id, Some(b.parent_id), Some(from), b.note).await?;
    Ok(Json(u.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DissolveDto {
    /// First day the unit no longer exists.
    pub valid_from: String,
}

/// Ends a unit from a date; its current children must have been moved first.
#[utoipa::path(post, path = "/api/v1/org-units/{id}/dissolve", tag = "org", params(("id" = Uuid, Path)), request_body = DissolveDto,
    responses((status = 200, body = OrgUnitDto), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn dissolve_unit(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<DissolveDto>,
) -> ApiResult<OrgUnitDto> {
    crate::pages::org::restructurable(&st, &p, id).await?;
    let on = parse_date(&b.valid_from).map_err(|e| AppError::invalid("valid_from", e))?;
    Ok(Json(
        crate::pages::org::dissolve_checked(&st, &p, id, Some(on))
            .await?
            .into(),
    ))
}
