//! `/api/v1/learners`: learner records scoped by role — an office its subtree, school staff
//! their school, a homeroom or subject teacher their class, a guardian their own child.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgPath;
use truongso_core::people::Cccd;
use truongso_store::org;
use truongso_store::people::{self, Learner, NewLearner};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct LearnerDto {
    pub id: Uuid,
    pub school_id: Uuid,
    pub class_id: Option<Uuid>,
    /// Mã học sinh from the sector database, once issued.
    pub moet_code: Option<String>,
    pub full_name: String,
    pub date_of_birth: chrono::NaiveDate,
    /// `male` or `female`.
    pub sex: String,
    /// Shown in full to those who may edit the record, masked (`•••••••••123`) otherwise.
    pub cccd: Option<String>,
    /// DM_DAN_TOC code.
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    /// DM_TRANG_THAI_HOC_SINH code.
    pub status: String,
}

fn dto(l: Learner, full_identity: bool) -> LearnerDto {
    let cccd = l.cccd.map(|c| match (full_identity, Cccd::parse(&c)) {
        (true, _) | (false, Err(_)) => c,
        (false, Ok(id)) => id.masked(),
    });
    LearnerDto {
        id: l.id,
        school_id: l.school_id,
        class_id: l.class_id,
        moet_code: l.moet_code,
        full_name: l.full_name,
        date_of_birth: l.date_of_birth,
        sex: l.sex.as_str().into(),
        cccd,
        ethnicity: l.ethnicity,
        nationality: l.nationality,
        status: l.status,
    }
}

use crate::today;

async fn school_path(st: &AppState, school_id: Uuid) -> AppResult<OrgPath> {
    Ok(org::get(&st.store.db, school_id).await?.path)
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Part of the name; case and diacritics are ignored ("nguyen van an" finds "Nguyễn Văn An").
    q: String,
}

#[derive(Serialize, ToSchema)]
pub struct LearnerHit {
    pub id: Uuid,
    pub school_id: Uuid,
    pub class_id: Option<Uuid>,
    pub full_name: String,
}

/// Learners the caller may see whose name matches.
#[utoipa::path(get, path = "/api/v1/learners", tag = "learners", params(SearchQuery),
    responses((status = 200, body = Vec<LearnerHit>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Vec<LearnerHit>> {
    Ok(Json(visible(&st, &p, &q.q).await?))
}

/// Learners whose name matches and whom the caller may see (at most 100).
pub async fn visible(st: &AppState, p: &Principal, query: &str) -> AppResult<Vec<LearnerHit>> {
    let within: Vec<OrgPath> = p.actor.grants.iter().map(|g| g.scope.anchor().clone()).collect();
    let rows = people::search_learners(&st.store.db, &within, query, 500).await?;
    let mut paths: std::collections::HashMap<Uuid, OrgPath> = Default::default();
    let mut hits = vec![];
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(e) = paths.entry(r.school_id) {
            e.insert(school_path(st, r.school_id).await?);
        }
        let school = &paths[&r.school_id];
        if p.can(
            Action::ViewLearner,
            Resource::Learner {
                school,
                class_id: r.class_id,
                learner_id: r.id,
            },
        ) {
            hits.push(LearnerHit {
                id: r.id,
                school_id: r.school_id,
                class_id: r.class_id,
                full_name: r.full_name,
            });
        }
        if hits.len() == 100 {
            break;
        }
    }
    Ok(hits)
}

/// The record and its school path, if the caller may perform `action` on it.
pub async fn authorised(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    action: Action,
) -> AppResult<(Learner, OrgPath)> {
    let l = people::get_learner(&st.store.db, &st.cipher, id).await?;
    let school = school_path(st, l.school_id).await?;
    p.require(
        action,
        Resource::Learner {
            school: &school,
            class_id: l.class_id,
            learner_id: l.id,
        },
    )?;
    Ok((l, school))
}

#[utoipa::path(get, path = "/api/v1/learners/{id}", tag = "learners", params(("id" = Uuid, Path)),
    responses((status = 200, body = LearnerDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<LearnerDto> {
    let (l, school) = authorised(&st, &p, id, Action::ViewLearner).await?;
    let full = p.can(
        Action::ManageLearner,
        Resource::Learner {
            school: &school,
            class_id: l.class_id,
            learner_id: l.id,
        },
    );
    Ok(Json(dto(l, full)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLearnerDto {
    pub school_id: Uuid,
    pub class_id: Option<Uuid>,
    pub moet_code: Option<String>,
    pub full_name: String,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`.
    pub date_of_birth: String,
    /// `Nam`/`Nữ`, `male`/`female` or `01`/`02`.
    pub sex: String,
    pub cccd: Option<String>,
    /// DM_DAN_TOC code or name.
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub nationality: Option<String>,
    /// DM_LOAI_KHUYET_TAT code or name.
    pub disability_type: Option<String>,
    /// DM_DIEN_CHINH_SACH codes, comma-separated.
    pub policy_codes: Option<String>,
    /// DM_HOC_BAN_TRU code.
    pub boarding: Option<String>,
    /// Two-digit province code in force on `address_as_of` (the 34 provinces from 1/7/2025).
    pub province_code: Option<String>,
    /// Five-digit commune code.
    pub commune_code: Option<String>,
    pub address_line: Option<String>,
    /// When the address was recorded; default today.
    pub address_as_of: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/learners", tag = "learners", request_body = NewLearnerDto,
    responses((status = 201, body = LearnerDto), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<NewLearnerDto>,
) -> AppResult<(StatusCode, Json<LearnerDto>)> {
    let school = school_path(&st, b.school_id).await?;
    // Creating is managing a record that does not exist yet: checked on the school and class.
    let resource = Resource::Learner {
        school: &school,
        class_id: b.class_id,
        learner_id: Uuid::nil(),
    };
    if !p.can(Action::ManageLearner, resource) {
        return Err(AppError::forbidden());
    }
    let input = NewLearner {
        school_id: b.school_id,
        class_id: b.class_id,
        moet_code: b.moet_code,
        full_name: b.full_name,
        date_of_birth: b.date_of_birth,
        sex: b.sex,
        cccd: b.cccd,
        ethnicity: b.ethnicity,
        religion: b.religion,
        nationality: b.nationality,
        disability_type: b.disability_type,
        policy_codes: b.policy_codes,
        boarding: b.boarding,
        enrolled_on: None,
        province_code: b.province_code,
        commune_code: b.commune_code,
        address_line: b.address_line,
        address_as_of: b.address_as_of,
    };
    let l = people::create_learner(&st.store.db, &st.cipher, &p.actor_ref(), input, today()).await?;
    Ok((StatusCode::CREATED, Json(dto(l, true))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// DM_TRANG_THAI_HOC_SINH code or label (e.g. `05` "Thôi học trong học kỳ I").
    pub status: String,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`; not before the last entry.
    pub on_date: String,
    /// DM_LY_DO_THOI_HOC, required when dropping out.
    pub reason_code: Option<String>,
    pub note: Option<String>,
}

/// Records a dated status change (transfer, dropout with its reason, return…).
pub async fn change_status(st: &AppState, p: &Principal, id: Uuid, b: StatusBody) -> AppResult<()> {
    authorised(st, p, id, Action::ManageLearner).await?;
    let on = truongso_core::org::parse_date(&b.on_date).map_err(|e| AppError::invalid("on_date", e))?;
    let note = b
        .note
        .map(|n| truongso_core::text::clean(&n))
        .filter(|n| !n.is_empty());
    people::change_status(
        &st.store.db,
        &p.actor_ref(),
        id,
        &b.status,
        on,
        b.reason_code.as_deref(),
        note,
    )
    .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/learners/{id}/status", tag = "learners", params(("id" = Uuid, Path)), request_body = StatusBody,
    responses((status = 204), (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<StatusBody>,
) -> AppResult<StatusCode> {
    change_status(&st, &p, id, b).await?;
    Ok(StatusCode::NO_CONTENT)
}
