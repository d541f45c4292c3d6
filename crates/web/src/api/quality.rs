//! `/api/v1/quality`: the data-quality report of a school and the roll-up of an office's
//! subtree, computed on the server. Issue rows name the rule, the record and a link to it;
//! identity numbers never appear.

use crate::AppState;
use crate::api::ApiResult;
use crate::ctx::{Authed, Principal};
use crate::error::AppResult;
use crate::scope;
use axum::Json;
use axum::extract::{Path, State};
use truongso_core::auth::Action;
use truongso_core::quality::QualityPolicy;
use truongso_store::org::OrgUnit;
use truongso_store::quality::{self, Rollup, SchoolReport};
use uuid::Uuid;

/// The report of a school the caller may check.
pub async fn school_report(st: &AppState, p: &Principal, school_id: Uuid) -> AppResult<SchoolReport> {
    let school = scope::school(st, p, school_id, Action::ViewQuality).await?;
    Ok(quality::school_report(
        &st.store.db,
        &st.cipher,
        school.id,
        &QualityPolicy::default(),
        crate::today(),
    )
    .await?)
}

/// A unit the caller may check the data quality of.
pub async fn unit(st: &AppState, p: &Principal, id: Uuid) -> AppResult<OrgUnit> {
    scope::unit(st, p, id, Action::ViewQuality).await
}

/// The roll-up of a unit's subtree (already authorised).
pub async fn rollup_of(st: &AppState, u: &OrgUnit) -> AppResult<Rollup> {
    Ok(quality::rollup(
        &st.store.db,
        &st.cipher,
        &u.path,
        &QualityPolicy::default(),
        crate::today(),
    )
    .await?)
}

/// Data quality of one school in its current school year: counts, completeness and every
/// issue with a link to the record to fix.
#[utoipa::path(get, path = "/api/v1/quality/schools/{id}", tag = "quality", params(("id" = Uuid, Path)),
    responses((status = 200, body = SchoolReport), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn school(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<SchoolReport> {
    Ok(Json(school_report(&st, &p, id).await?))
}

/// Data quality of every current school under a unit, by direct child unit, worst first.
#[utoipa::path(get, path = "/api/v1/quality/units/{id}", tag = "quality", params(("id" = Uuid, Path)),
    responses((status = 200, body = Rollup), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn unit_rollup(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Rollup> {
    let u = unit(&st, &p, id).await?;
    Ok(Json(rollup_of(&st, &u).await?))
}
