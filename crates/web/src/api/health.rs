//! `/api/v1/learners/{id}/health` and `/api/v1/learners/{id}/guardians`: a learner's school
//! health record (read by the nurse, the school's leaders, the homeroom teacher and the learner's
//! own guardians; written by the nurse) and guardians (read with the record, written by those
//! who may edit it), and `/api/v1/guardians/{id}/account`, which links a parent account to a
//! guardian record. Health values are encrypted at rest and never logged: nothing here puts
//! them in tracing fields or error details.

use crate::AppState;
use crate::api::learners::authorised;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::today;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use truongso_core::DomainError;
use truongso_core::auth::{Action, Resource, Role, Scope};
use truongso_core::health::{CheckupInput, HealthPolicy};
use truongso_core::i18n::{self, Locale};
use truongso_core::org::OrgPath;
use truongso_store::health::{self, CheckupView, ConditionView, HealthRecord, VaccinationView};
use truongso_store::people::{self, Learner, LearnerGuardian, NewGuardian};
use truongso_store::{accounts, org};
use utoipa::ToSchema;
use uuid::Uuid;

/// Thresholds of the school health rules (the defaults until deployments configure them).
pub fn policy() -> HealthPolicy {
    HealthPolicy::default()
}

/// The learner (with its school) and the decrypted record, if the caller may read it.
pub async fn record_for(
    st: &AppState,
    p: &Principal,
    id: Uuid,
) -> AppResult<(Learner, OrgPath, HealthRecord)> {
    let (l, school) = authorised(st, p, id, Action::ViewHealth).await?;
    let rec = health::record(&st.store.db, &st.cipher, id, &policy()).await?;
    Ok((l, school, rec))
}

/// A phone number for those who may not edit the record: the first and last two digits
/// (`09••••••78`).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "•".repeat(chars.len());
    }
    let n = chars.len();
    format!(
        "{}{}{}",
        chars[..2].iter().collect::<String>(),
        "•".repeat(n - 4),
        chars[n - 2..].iter().collect::<String>()
    )
}

/// May the caller edit the learner's record (and so see guardians' contacts in full)?
pub fn manages(p: &Principal, l: &Learner, school: &OrgPath) -> bool {
    p.can(
        Action::ManageLearner,
        Resource::Learner {
            school,
            class_id: l.class_id,
            learner_id: l.id,
        },
    )
}

/// Links a guardian to a learner the caller may edit; an account already linked to the
/// guardian gets the parent role on this learner too. Returns (guardian, grants made).
pub async fn add_guardian(
    st: &AppState,
    p: &Principal,
    learner_id: Uuid,
    relation: &str,
    g: NewGuardian,
) -> AppResult<(Uuid, u32)> {
    authorised(st, p, learner_id, Action::ManageLearner).await?;
    Ok(
        people::link_guardian_granting(&st.store.db, &st.cipher, &p.actor_ref(), learner_id, relation, g)
            .await?,
    )
}

/// The right to grant the parent role on one learner (Child scope in its school).
pub async fn require_parent_grant(st: &AppState, p: &Principal, learner_id: Uuid) -> AppResult<()> {
    let l = people::get_learner(&st.store.db, &st.cipher, learner_id).await?;
    let school = org::get(&st.store.db, l.school_id).await?.path;
    p.require(
        Action::GrantRole,
        Resource::Grant {
            role: Role::Parent,
            scope: &Scope::Child { school, learner_id },
        },
    )
}

/// Links a parent account to a guardian record after checking that the caller may grant the
/// parent role on every one of the guardian's children (whatever their school) and may see the
/// account: otherwise 403 and nothing is written. `field` names the input holding the account
/// in the caller's form (`user_id` in the API, `username` on the page).
pub async fn link_account_checked(
    st: &AppState,
    p: &Principal,
    locale: Locale,
    guardian_id: Uuid,
    user_id: Uuid,
    field: &'static str,
) -> AppResult<u32> {
    let db = &st.store.db;
    let children = people::children_of(db, guardian_id).await?;
    if children.is_empty() {
        return Err(AppError::not_found());
    }
    for lid in children {
        require_parent_grant(st, p, lid).await?;
    }
    let user = accounts::get_user(db, user_id).await.map_err(|e| {
        let mut e = AppError::from(e);
        e.field = Some(field);
        e
    })?;
    if user.id != p.user.id {
        let owner = org::get(db, user.owner_org_id).await?;
        p.require(Action::ViewUsers, Resource::OrgUnit(&owner.path))?;
    }
    match people::link_account(db, &p.actor_ref(), guardian_id, user_id).await {
        Ok(n) => Ok(n),
        Err(truongso_store::Error::Conflict(m)) if m.code == "guardian_has_account" => {
            // The catalogue has no error of its own for this yet: say it precisely through the
            // generic field message.
            let mut e = AppError::new(StatusCode::CONFLICT, "invalid_field")
                .with("field", i18n::t(locale, "guardians.account"))
                .with("message", i18n::t(locale, "guardians.has_other_account"));
            e.field = Some(field);
            Err(e)
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------ health

/// A measurement typed as text (`"132,5"`) or sent as a JSON number (`132.5`).
fn measure(v: &Option<serde_json::Value>, field: &'static str) -> AppResult<String> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(AppError::invalid(field, DomainError::InvalidNumber)),
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckupDto {
    /// `start_of_year`, `periodic` or `ad_hoc` (or the label).
    pub kind: Option<String>,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`; not before birth, not after today.
    pub date: Option<String>,
    /// Centimetres, one decimal at most: `132.5`, `"132,5"`.
    #[schema(value_type = Option<String>)]
    pub height_cm: Option<serde_json::Value>,
    /// Kilograms, one decimal at most: `28.4`, `"28,4"`.
    #[schema(value_type = Option<String>)]
    pub weight_kg: Option<serde_json::Value>,
    /// `8/10` or `0,8`.
    pub vision_right: Option<String>,
    pub vision_left: Option<String>,
    /// `healthy`, `caries` or `other` (or the label).
    pub dental: Option<String>,
    pub notes: Option<String>,
}

impl CheckupDto {
    fn input(&self) -> AppResult<CheckupInput> {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Ok(CheckupInput {
            kind: s(&self.kind),
            date: s(&self.date),
            height_cm: measure(&self.height_cm, "height_cm")?,
            weight_kg: measure(&self.weight_kg, "weight_kg")?,
            vision_right: s(&self.vision_right),
            vision_left: s(&self.vision_left),
            dental: s(&self.dental),
            notes: s(&self.notes),
        })
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct VaccinationDto {
    /// One vaccine or several separated by `;`, `,` or new lines (one entry each).
    pub name: Option<String>,
    /// `yyyy-mm-dd` or `dd/mm/yyyy`.
    pub date: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ConditionDto {
    /// `allergy`, `chronic` or `medication` (or the label).
    pub kind: Option<String>,
    pub detail: Option<String>,
}

/// The health record of a learner: check-ups with BMI-for-age and the vision flag,
/// vaccinations, conditions to watch; each list newest first.
#[utoipa::path(get, path = "/api/v1/learners/{id}/health", tag = "health", params(("id" = Uuid, Path)),
    responses((status = 200, body = HealthRecord), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_record(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<HealthRecord> {
    let (_, _, rec) = record_for(&st, &p, id).await?;
    Ok(Json(rec))
}

/// Records a check-up (the school nurse). Field errors name the body field.
#[utoipa::path(post, path = "/api/v1/learners/{id}/health/checkups", tag = "health", params(("id" = Uuid, Path)),
    request_body = CheckupDto,
    responses((status = 201, body = CheckupView), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn add_checkup(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<CheckupDto>,
) -> AppResult<(StatusCode, Json<CheckupView>)> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let input = b.input()?;
    let db = &st.store.db;
    let entry = health::add_checkup(db, &st.cipher, &p.actor_ref(), id, &input, today()).await?;
    let rec = health::record(db, &st.cipher, id, &policy()).await?;
    let view = rec
        .checkups
        .into_iter()
        .find(|c| c.id == entry)
        .ok_or_else(|| AppError::internal("check-up not found after insert"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Records vaccinations given on one day (the school nurse).
#[utoipa::path(post, path = "/api/v1/learners/{id}/health/vaccinations", tag = "health", params(("id" = Uuid, Path)),
    request_body = VaccinationDto,
    responses((status = 201, body = Vec<VaccinationView>), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn add_vaccination(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<VaccinationDto>,
) -> AppResult<(StatusCode, Json<Vec<VaccinationView>>)> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let db = &st.store.db;
    let ids = health::add_vaccination(
        db,
        &st.cipher,
        &p.actor_ref(),
        id,
        b.name.as_deref().unwrap_or_default(),
        b.date.as_deref().unwrap_or_default(),
        today(),
    )
    .await?;
    let rec = health::record(db, &st.cipher, id, &policy()).await?;
    let views = rec
        .vaccinations
        .into_iter()
        .filter(|v| ids.contains(&v.id))
        .collect();
    Ok((StatusCode::CREATED, Json(views)))
}

/// Records a condition to watch: an allergy, a chronic condition or a medication note.
#[utoipa::path(post, path = "/api/v1/learners/{id}/health/conditions", tag = "health", params(("id" = Uuid, Path)),
    request_body = ConditionDto,
    responses((status = 201, body = ConditionView), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn add_condition(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<ConditionDto>,
) -> AppResult<(StatusCode, Json<ConditionView>)> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let db = &st.store.db;
    let entry = health::add_condition(
        db,
        &st.cipher,
        &p.actor_ref(),
        id,
        b.kind.as_deref().unwrap_or_default(),
        b.detail.as_deref().unwrap_or_default(),
        today(),
    )
    .await?;
    let rec = health::record(db, &st.cipher, id, &policy()).await?;
    let view = rec
        .conditions
        .into_iter()
        .find(|c| c.id == entry)
        .ok_or_else(|| AppError::internal("condition not found after insert"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

// ---------------------------------------------------------------- guardians

#[derive(Serialize, ToSchema)]
pub struct GuardianDto {
    pub id: Uuid,
    /// `father`, `mother` or `other`.
    pub relation: String,
    pub full_name: String,
    /// In full for those who may edit the record, masked (`09••••••78`) otherwise.
    pub phone: Option<String>,
    /// Only for those who may edit the record.
    pub email: Option<String>,
    /// A parent account is linked to this guardian.
    pub has_account: bool,
    /// Children linked to this guardian, across schools.
    pub children: u64,
}

pub fn guardian_dto(g: LearnerGuardian, full: bool) -> GuardianDto {
    GuardianDto {
        id: g.id,
        relation: g.relation,
        full_name: g.full_name,
        phone: g.phone.map(|ph| if full { ph } else { mask_phone(&ph) }),
        email: g.email.filter(|_| full),
        has_account: g.user_id.is_some(),
        children: g.children,
    }
}

/// The learner's guardians (father, mother, other guardians).
#[utoipa::path(get, path = "/api/v1/learners/{id}/guardians", tag = "learners", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<GuardianDto>), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn list_guardians(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Vec<GuardianDto>> {
    let (l, school) = authorised(&st, &p, id, Action::ViewLearner).await?;
    let full = manages(&p, &l, &school);
    let rows = people::guardians_of(&st.store.db, id).await?;
    Ok(Json(rows.into_iter().map(|g| guardian_dto(g, full)).collect()))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewGuardianDto {
    /// `father`, `mother` or `other` (or `cha`, `mẹ`, `người giám hộ`).
    pub relation: Option<String>,
    pub full_name: Option<String>,
    /// A guardian with the same name and phone is reused (one guardian, several children).
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Căn cước công dân (12 digits), encrypted at rest.
    pub cccd: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GuardianLinked {
    pub guardian_id: Uuid,
    /// Parent-role grants made for the guardian's account (0 without an account).
    pub grants: u32,
}

/// Links a guardian (found by name and phone, or created) to the learner.
#[utoipa::path(post, path = "/api/v1/learners/{id}/guardians", tag = "learners", params(("id" = Uuid, Path)),
    request_body = NewGuardianDto,
    responses((status = 201, body = GuardianLinked), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_guardian(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<NewGuardianDto>,
) -> AppResult<(StatusCode, Json<GuardianLinked>)> {
    let g = NewGuardian {
        full_name: b.full_name.unwrap_or_default(),
        phone: b.phone,
        email: b.email,
        cccd: b.cccd,
    };
    let (guardian_id, grants) =
        add_guardian(&st, &p, id, b.relation.as_deref().unwrap_or_default(), g).await?;
    Ok((StatusCode::CREATED, Json(GuardianLinked { guardian_id, grants })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountLinkDto {
    pub user_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct AccountLinked {
    pub guardian_id: Uuid,
    pub user_id: Uuid,
    /// Parent-role grants made, one per child the account did not already have.
    pub grants: u32,
}

/// Links a parent account to a guardian record and grants it the parent role on each of the
/// guardian's children. Needs the right to grant that role on every child (any school):
/// otherwise 403 and nothing is written.
#[utoipa::path(post, path = "/api/v1/guardians/{id}/account", tag = "learners", params(("id" = Uuid, Path)),
    request_body = AccountLinkDto,
    responses((status = 200, body = AccountLinked), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody)))]
pub async fn link_account(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    ApiJson(b): ApiJson<AccountLinkDto>,
) -> ApiResult<AccountLinked> {
    let grants = link_account_checked(&st, &p, ctx.locale, id, b.user_id, "user_id").await?;
    Ok(Json(AccountLinked {
        guardian_id: id,
        user_id: b.user_id,
        grants,
    }))
}
