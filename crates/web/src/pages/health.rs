//! School health records of a learner: check-ups, vaccinations, conditions (page and API), and
//! the learner's guardians with the link to parent accounts. The sections appear on the learner
//! record page; the forms post here and come back to it (303 and a message on success, the page
//! with the error beside the field otherwise). Health values are never logged.

use crate::AppState;
use crate::api::health::{self as api, add_guardian, link_account_checked, mask_phone};
use crate::api::learners::authorised;
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::learners::detail;
use crate::pages::{PageForm, after_write, blank, parse_uuid};
use crate::routes::{Access, Builder};
use crate::today;
use crate::view::{FieldErrors, Tr};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use truongso_core::DomainError;
use truongso_core::auth::{Action, Resource, Role, Scope};
use truongso_core::health::{CheckupInput, CheckupKind, ConditionKind, DentalStatus};
use truongso_core::i18n::Locale;
use truongso_core::org::OrgPath;
use truongso_store::accounts;
use truongso_store::health;
use truongso_store::people::{self, Learner, NewGuardian};
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Access::Act;
    use Action::*;
    b.add(
        "POST",
        "/learners/{id}/health/checkups",
        Act(ManageHealth),
        post(add_checkup),
    )
    .add(
        "POST",
        "/learners/{id}/health/vaccinations",
        Act(ManageHealth),
        post(add_vaccination),
    )
    .add(
        "POST",
        "/learners/{id}/health/conditions",
        Act(ManageHealth),
        post(add_condition),
    )
    .add(
        "POST",
        "/health/{entry_id}/delete",
        Act(ManageHealth),
        post(delete_entry),
    )
    .add(
        "POST",
        "/learners/{id}/guardians",
        Act(ManageLearner),
        post(add_guardian_form),
    )
    .add(
        "POST",
        "/learners/{id}/guardians/account",
        Act(GrantRole),
        post(link_account_form),
    )
    .add(
        "GET",
        "/api/v1/learners/{id}/health",
        Act(ViewHealth),
        get(api::get_record),
    )
    .add(
        "POST",
        "/api/v1/learners/{id}/health/checkups",
        Act(ManageHealth),
        post(api::add_checkup),
    )
    .add(
        "POST",
        "/api/v1/learners/{id}/health/vaccinations",
        Act(ManageHealth),
        post(api::add_vaccination),
    )
    .add(
        "POST",
        "/api/v1/learners/{id}/health/conditions",
        Act(ManageHealth),
        post(api::add_condition),
    )
    .add(
        "GET",
        "/api/v1/learners/{id}/guardians",
        Act(ViewLearner),
        get(api::list_guardians),
    )
    .add(
        "POST",
        "/api/v1/learners/{id}/guardians",
        Act(ManageLearner),
        post(api::create_guardian),
    )
    .add(
        "POST",
        "/api/v1/guardians/{id}/account",
        Act(GrantRole),
        post(api::link_account),
    )
}

// ------------------------------------------------------------------ forms

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CheckupForm {
    pub kind: String,
    pub date: String,
    pub height_cm: String,
    pub weight_kg: String,
    pub vision_right: String,
    pub vision_left: String,
    pub dental: String,
    pub notes: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct VaccinationForm {
    pub name: String,
    pub date: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ConditionForm {
    pub kind: String,
    pub detail: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct GuardianForm {
    pub relation: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub cccd: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AccountForm {
    pub guardian_id: String,
    pub username: String,
}

/// What was typed in the forms of the record page, and the errors of the one that failed.
#[derive(Default, Clone)]
pub struct FormState {
    /// `checkup`, `vaccination`, `condition`, `guardian` or `account`; empty when none failed.
    pub which: &'static str,
    pub errors: FieldErrors,
    pub checkup: CheckupForm,
    pub vaccination: VaccinationForm,
    pub condition: ConditionForm,
    pub guardian: GuardianForm,
    pub account: AccountForm,
}

impl FormState {
    /// The error of `field` when `form` is the one that failed, empty otherwise.
    pub fn err(&self, form: &str, field: &str) -> &str {
        if self.which == form {
            self.errors.get(field)
        } else {
            ""
        }
    }

    /// The form is open (it failed and shows what was typed).
    pub fn open(&self, form: &str) -> bool {
        self.which == form
    }
}

// ---------------------------------------------------------- sections (views)

pub struct CheckupRow {
    pub id: Uuid,
    pub date: String,
    pub kind: String,
    pub height: String,
    pub weight: String,
    pub bmi: String,
    pub category: String,
    /// The BMI-for-age category code, for styling.
    pub category_code: String,
    pub vision_right: String,
    pub vision_left: String,
    pub vision_flag: bool,
    pub dental: String,
    pub notes: String,
}

pub struct VaccinationRow {
    pub id: Uuid,
    pub date: String,
    pub name: String,
}

pub struct ConditionRow {
    pub id: Uuid,
    pub recorded_on: String,
    pub kind: String,
    pub detail: String,
}

pub struct HealthView {
    /// The nurse: forms and delete buttons.
    pub manage: bool,
    pub checkups: Vec<CheckupRow>,
    pub vaccinations: Vec<VaccinationRow>,
    pub conditions: Vec<ConditionRow>,
    pub checkup_kinds: Vec<(&'static str, &'static str)>,
    pub dental_options: Vec<(&'static str, &'static str)>,
    pub condition_kinds: Vec<(&'static str, &'static str)>,
}

pub struct GuardianRow {
    pub id: Uuid,
    pub relation: &'static str,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub children: u64,
    pub has_account: bool,
}

/// The sections this module adds to the learner record page.
pub struct LearnerSections {
    pub learner_id: Uuid,
    /// Present only for those who may read the health record.
    pub health: Option<HealthView>,
    pub guardians: Vec<GuardianRow>,
    /// May link guardians (edit the record).
    pub manage_guardians: bool,
    /// May link parent accounts (grant the parent role on this learner).
    pub link_accounts: bool,
    pub form: FormState,
}

/// `1325` → `132,5` (a decimal comma in Vietnamese, a point in English).
fn tenths(v: u32, locale: Locale) -> String {
    let sep = if locale == Locale::Vi { ',' } else { '.' };
    format!("{}{sep}{}", v / 10, v % 10)
}

fn labels(t: Tr, all: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|(code, key)| (*code, t.s(key))).collect()
}

/// The health and guardian sections of a learner's record page for this caller.
pub(crate) async fn sections(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    learner: &Learner,
    school: &OrgPath,
    form: FormState,
) -> AppResult<LearnerSections> {
    let t = Tr(ctx.locale);
    let res = || Resource::Learner {
        school,
        class_id: learner.class_id,
        learner_id: learner.id,
    };
    let health = if p.can(Action::ViewHealth, res()) {
        let rec = health::record(&st.store.db, &st.cipher, learner.id, &api::policy()).await?;
        let loc = ctx.locale;
        Some(HealthView {
            manage: p.can(Action::ManageHealth, res()),
            checkups: rec
                .checkups
                .into_iter()
                .map(|c| CheckupRow {
                    id: c.id,
                    date: crate::view::date(&c.date),
                    kind: t.s(&format!("health.checkup_kind.{}", c.kind)).to_string(),
                    height: c.height_mm.map(|v| tenths(v as u32, loc)).unwrap_or_default(),
                    weight: c.weight_hg.map(|v| tenths(v as u32, loc)).unwrap_or_default(),
                    bmi: c.bmi_tenths.map(|v| tenths(v, loc)).unwrap_or_default(),
                    category: c
                        .bmi_for_age
                        .as_ref()
                        .map(|b| t.s(&format!("health.bmi.{}", b.category)).to_string())
                        .unwrap_or_default(),
                    category_code: c.bmi_for_age.map(|b| b.category).unwrap_or_default(),
                    vision_right: c.vision_right.map(|v| format!("{v}/10")).unwrap_or_default(),
                    vision_left: c.vision_left.map(|v| format!("{v}/10")).unwrap_or_default(),
                    vision_flag: c.vision_flag,
                    dental: c
                        .dental
                        .map(|d| t.s(&format!("health.dental.{d}")).to_string())
                        .unwrap_or_default(),
                    notes: c.notes.unwrap_or_default(),
                })
                .collect(),
            vaccinations: rec
                .vaccinations
                .into_iter()
                .map(|v| VaccinationRow {
                    id: v.id,
                    date: crate::view::date(&v.date),
                    name: v.name,
                })
                .collect(),
            conditions: rec
                .conditions
                .into_iter()
                .map(|c| ConditionRow {
                    id: c.id,
                    recorded_on: crate::view::date(&c.recorded_on),
                    kind: t.s(&format!("health.condition.{}", c.kind)).to_string(),
                    detail: c.detail,
                })
                .collect(),
            checkup_kinds: labels(
                t,
                &CheckupKind::ALL
                    .iter()
                    .map(|k| (k.code(), k.label_key()))
                    .collect::<Vec<_>>(),
            ),
            dental_options: labels(
                t,
                &DentalStatus::ALL
                    .iter()
                    .map(|k| (k.code(), k.label_key()))
                    .collect::<Vec<_>>(),
            ),
            condition_kinds: labels(
                t,
                &ConditionKind::ALL
                    .iter()
                    .map(|k| (k.code(), k.label_key()))
                    .collect::<Vec<_>>(),
            ),
        })
    } else {
        None
    };
    let full = api::manages(p, learner, school);
    let guardians = people::guardians_of(&st.store.db, learner.id)
        .await?
        .into_iter()
        .map(|g| GuardianRow {
            id: g.id,
            relation: t.s(match g.relation.as_str() {
                "father" => "guardians.father",
                "mother" => "guardians.mother",
                _ => "guardians.other",
            }),
            phone: g
                .phone
                .map(|ph| if full { ph } else { mask_phone(&ph) })
                .unwrap_or_default(),
            email: g.email.filter(|_| full).unwrap_or_default(),
            full_name: g.full_name,
            children: g.children,
            has_account: g.user_id.is_some(),
        })
        .collect();
    let link_accounts = p.can(
        Action::GrantRole,
        Resource::Grant {
            role: Role::Parent,
            scope: &Scope::Child {
                school: school.clone(),
                learner_id: learner.id,
            },
        },
    );
    Ok(LearnerSections {
        learner_id: learner.id,
        health,
        guardians,
        manage_guardians: full,
        link_accounts,
        form,
    })
}

// ---------------------------------------------------------------- handlers

fn to_learner(id: Uuid, anchor: &str) -> String {
    format!("/learners/{id}#{anchor}")
}

/// Success: back to the record with a message (and its parameters). An input error: the record page with what was
/// typed and the error beside its field. Anything else passes on.
async fn finish(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    id: Uuid,
    result: AppResult<Vec<(&'static str, String)>>,
    ok_key: &str,
    failed: FormState,
) -> AppResult<Response> {
    // The message's section is the page's: `health.…` or `guardians.…`.
    let anchor = ok_key.split('.').next().unwrap_or_default();
    after_write(
        result,
        |params| flash_redirect(&to_learner(id, anchor), "success", ok_key, params),
        async |e| detail(st, ctx, p, id, Some((e, failed))).await,
    )
    .await
}

pub async fn add_checkup(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<CheckupForm>,
) -> AppResult<Response> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let input = CheckupInput {
        kind: f.kind.clone(),
        date: f.date.clone(),
        height_cm: f.height_cm.clone(),
        weight_kg: f.weight_kg.clone(),
        vision_right: f.vision_right.clone(),
        vision_left: f.vision_left.clone(),
        dental: f.dental.clone(),
        notes: f.notes.clone(),
    };
    let result = health::add_checkup(&st.store.db, &st.cipher, &p.actor_ref(), id, &input, today())
        .await
        .map(|_| vec![])
        .map_err(AppError::from);
    let failed = FormState {
        which: "checkup",
        checkup: f,
        ..Default::default()
    };
    finish(&st, &ctx, &p, id, result, "health.checkup_saved", failed).await
}

pub async fn add_vaccination(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<VaccinationForm>,
) -> AppResult<Response> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let result = health::add_vaccination(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        id,
        &f.name,
        &f.date,
        today(),
    )
    .await
    .map(|_| vec![])
    .map_err(AppError::from);
    let failed = FormState {
        which: "vaccination",
        vaccination: f,
        ..Default::default()
    };
    finish(&st, &ctx, &p, id, result, "health.vaccination_saved", failed).await
}

pub async fn add_condition(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<ConditionForm>,
) -> AppResult<Response> {
    authorised(&st, &p, id, Action::ManageHealth).await?;
    let result = health::add_condition(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        id,
        &f.kind,
        &f.detail,
        today(),
    )
    .await
    .map(|_| vec![])
    .map_err(AppError::from);
    let failed = FormState {
        which: "condition",
        condition: f,
        ..Default::default()
    };
    finish(&st, &ctx, &p, id, result, "health.condition_saved", failed).await
}

pub async fn delete_entry(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(entry_id): Path<Uuid>,
) -> AppResult<Response> {
    let db = &st.store.db;
    let learner_id = people::health_entry_learner(db, entry_id).await?;
    authorised(&st, &p, learner_id, Action::ManageHealth).await?;
    health::delete_entry(db, &p.actor_ref(), entry_id).await?;
    Ok(flash_redirect(
        &to_learner(learner_id, "health"),
        "success",
        "health.entry_deleted",
        vec![],
    ))
}

pub async fn add_guardian_form(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<GuardianForm>,
) -> AppResult<Response> {
    authorised(&st, &p, id, Action::ManageLearner).await?;
    let g = NewGuardian {
        full_name: f.full_name.clone(),
        phone: blank(&Some(f.phone.clone())),
        email: blank(&Some(f.email.clone())),
        cccd: blank(&Some(f.cccd.clone())),
    };
    let result = add_guardian(&st, &p, id, &f.relation, g)
        .await
        .map(|(_, grants)| vec![("grants", grants.to_string())]);
    let failed = FormState {
        which: "guardian",
        guardian: f,
        ..Default::default()
    };
    finish(&st, &ctx, &p, id, result, "guardians.linked", failed).await
}

pub async fn link_account_form(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<AccountForm>,
) -> AppResult<Response> {
    // Only those who may grant the parent role on this learner get further.
    api::require_parent_grant(&st, &p, id).await?;
    let result = async {
        let gid = parse_uuid(&Some(f.guardian_id.clone()), "guardian_id")?
            .ok_or_else(|| AppError::invalid("guardian_id", DomainError::Required))?;
        if !people::guardians_of(&st.store.db, id)
            .await?
            .iter()
            .any(|g| g.id == gid)
        {
            return Err(AppError::invalid("guardian_id", DomainError::UnknownCode));
        }
        let username = f.username.trim();
        if username.is_empty() {
            return Err(AppError::invalid("username", DomainError::Required));
        }
        let user = accounts::by_username(&st.store.db, username)
            .await?
            .ok_or_else(|| {
                let mut e = AppError::new(StatusCode::NOT_FOUND, "unknown_user");
                e.field = Some("username");
                e
            })?;
        let grants = link_account_checked(&st, &p, ctx.locale, gid, user.id, "username").await?;
        Ok(vec![("grants", grants.to_string())])
    }
    .await;
    let failed = FormState {
        which: "account",
        account: f,
        ..Default::default()
    };
    finish(&st, &ctx, &p, id, result, "guardians.account_linked", failed).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phones_and_formats_tenths() {
        assert_eq!(mask_phone("0912345678"), "09••••••78");
        assert_eq!(tenths(1325, Locale::Vi), "132,5");
        assert_eq!(tenths(284, Locale::En), "28.4");
    }
}
