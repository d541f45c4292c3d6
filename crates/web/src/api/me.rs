//! `/api/v1/me` and the role catalogue.

use crate::AppState;
use crate::api::ApiResult;
use crate::ctx::Authed;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use truongso_core::auth::Role;
use truongso_core::i18n;
use truongso_store::accounts;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct GrantDto {
    pub id: uuid::Uuid,
    /// Role code, e.g. `admin`, `principal`, `parent`.
    pub role: String,
    /// `subtree`, `school`, `class`, `class_subject` or `child`.
    pub scope_kind: String,
    pub org_unit_id: uuid::Uuid,
    pub org_name: String,
    pub class_id: Option<uuid::Uuid>,
    pub subject: Option<String>,
    pub learner_id: Option<uuid::Uuid>,
}

impl From<accounts::GrantRow> for GrantDto {
    fn from(g: accounts::GrantRow) -> Self {
        Self {
            id: g.id,
            role: g.role.as_str().into(),
            scope_kind: g.scope_kind.as_str().into(),
            org_unit_id: g.org_unit_id,
            org_name: g.org_name,
            class_id: g.class_id,
            subject: g.subject,
            learner_id: g.learner_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub owner_org_id: uuid::Uuid,
    pub grants: Vec<GrantDto>,
}

/// The authenticated caller and their roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = MeDto), (status = 401, body = crate::api::ErrorBody)))]
pub async fn me(State(st): State<AppState>, Authed { p, .. }: Authed) -> ApiResult<MeDto> {
    let grants = accounts::grants_of(&st.store.db, p.user.id).await?;
    Ok(Json(MeDto {
        id: p.user.id,
        username: p.user.username.clone(),
        display_name: p.user.display_name.clone(),
        owner_org_id: p.user.owner_org_id,
        grants: grants.into_iter().map(GrantDto::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RoleDto {
    pub code: String,
    pub label: String,
    pub scope_kind: String,
}

/// Every role, with its label in the caller's language and the scope it is granted on.
#[utoipa::path(get, path = "/api/v1/roles", tag = "me", responses((status = 200, body = Vec<RoleDto>)))]
pub async fn roles(Authed { ctx, .. }: Authed) -> ApiResult<Vec<RoleDto>> {
    Ok(Json(
        Role::ALL
            .iter()
            .map(|r| RoleDto {
                code: r.as_str().into(),
                label: i18n::t(ctx.locale, &format!("role.{}", r.as_str())).into(),
                scope_kind: r.scope_kind().as_str().into(),
            })
            .collect(),
    ))
}
