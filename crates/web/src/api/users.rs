//! `/api/v1/users` and grants: the same rules as the account pages.

use crate::AppState;
use crate::api::me::GrantDto;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::pages::users::{grant_role, require_manage, revoke_grant};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgPath;
use truongso_store::accounts::{self, GrantSpec, NewUser, ProfileUpdate, UserRow};
use truongso_store::org;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub owner_org_id: Uuid,
    pub active: bool,
    pub locked: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserRow> for UserDto {
    fn from(u: UserRow) -> Self {
        Self {
            locked: u.is_locked(truongso_store::now()),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            phone: u.phone,
            owner_org_id: u.owner_org_id,
            active: u.active,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub total: u64,
    pub items: Vec<UserDto>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    q: Option<String>,
    /// Only accounts owned inside this unit.
    org: Option<Uuid>,
    #[param(minimum = 1)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<u64>,
}

async fn owner_path(st: &AppState, u: &UserRow) -> AppResult<OrgPath> {
    Ok(org::get(&st.store.db, u.owner_org_id).await?.path)
}

async fn viewable(st: &AppState, p: &Principal, id: Uuid) -> AppResult<UserRow> {
    let u = accounts::get_user(&st.store.db, id).await?;
    if u.id != p.user.id {
        p.require(Action::ViewUsers, Resource::OrgUnit(&owner_path(st, &u).await?))?;
    }
    Ok(u)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserPage), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list_users(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<ListQuery>,
) -> ApiResult<UserPage> {
    let within: Vec<OrgPath> = match q.org {
        Some(id) => {
            let u = org::get(&st.store.db, id).await?;
            p.require(Action::ViewUsers, Resource::OrgUnit(&u.path))?;
            vec![u.path]
        }
        None => p
            .actor
            .grants
            .iter()
            .map(|g| g.scope.anchor().clone())
            .filter(|a| p.can(Action::ViewUsers, Resource::OrgUnit(a)))
            .collect(),
    };
    if within.is_empty() {
        return Err(AppError::forbidden());
    }
    let per = q.per_page.unwrap_or(100).clamp(1, 500);
    let page = q.page.unwrap_or(1).max(1);
    let (items, total) = accounts::list_users(
        &st.store.db,
        &within,
        q.q.as_deref().unwrap_or(""),
        per,
        (page - 1) * per,
    )
    .await?;
    Ok(Json(UserPage {
        total,
        items: items.into_iter().map(UserDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_user(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<UserDto> {
    Ok(Json(viewable(&st, &p, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Owning unit by id…
    pub owner_org_id: Option<Uuid>,
    /// …or by its official code.
    pub owner_org_code: Option<String>,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserDto,
    responses((status = 201, body = UserDto), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody),
        (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_user(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<NewUserDto>,
) -> AppResult<(StatusCode, Json<UserDto>)> {
    let db = &st.store.db;
    let owner = match (b.owner_org_id, b.owner_org_code.as_deref()) {
        (Some(id), _) => org::get(db, id).await?,
        (None, Some(code)) => org::by_code(db, code).await?,
        (None, None) => {
            return Err(AppError::invalid(
                "owner_org_id",
                truongso_core::DomainError::Required,
            ));
        }
    };
    p.require(
        Action::ManageUser,
        Resource::User {
            owner: &owner.path,
            grants: &[],
        },
    )?;
    let u = accounts::create_user(
        db,
        &p.actor_ref(),
        NewUser {
            username: b.username,
            display_name: b.display_name,
            email: b.email,
            phone: b.phone,
            owner_org_id: owner.id,
            password: b.password,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchDto {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UserPatchDto,
    responses((status = 200, body = UserDto), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn update_user(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<UserPatchDto>,
) -> ApiResult<UserDto> {
    let db = &st.store.db;
    let u = accounts::get_user(db, id).await?;
    require_manage(&st, &p, id, &owner_path(&st, &u).await?).await?;
    let mut out = u.clone();
    if b.display_name.is_some() || b.email.is_some() || b.phone.is_some() {
        let upd = ProfileUpdate {
            display_name: b.display_name.unwrap_or(u.display_name.clone()),
            email: b.email.or(u.email.clone()),
            phone: b.phone.or(u.phone.clone()),
        };
        out = accounts::update_profile(db, &p.actor_ref(), id, upd).await?;
    }
    if let Some(active) = b.active
        && active != out.active
    {
        out = accounts::set_active(db, &p.actor_ref(), id, active).await?;
    }
    Ok(Json(out.into()))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<GrantDto>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list_grants(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Vec<GrantDto>> {
    viewable(&st, &p, id).await?;
    Ok(Json(
        accounts::grants_of(&st.store.db, id)
            .await?
            .into_iter()
            .map(GrantDto::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantDto {
    pub role: String,
    pub org_unit_id: Uuid,
    pub class_id: Option<Uuid>,
    pub subject: Option<String>,
    pub learner_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = Uuid, Path)), request_body = NewGrantDto,
    responses((status = 201, body = GrantDto), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_grant(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<NewGrantDto>,
) -> AppResult<(StatusCode, Json<GrantDto>)> {
    let spec = GrantSpec {
        role: b.role,
        org_unit_id: b.org_unit_id,
        class_id: b.class_id,
        subject: b.subject,
        learner_id: b.learner_id,
    };
    let row = grant_role(&st, &p, id, &spec).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn delete_grant(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    revoke_grant(&st, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
