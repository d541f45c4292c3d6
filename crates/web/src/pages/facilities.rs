//! Facilities of a school: rooms, equipment, computers and yes/no facts (page and API).
//!
//! `/facilities?school=` shows the school's rooms counted by kind and build quality, its
//! equipment, learners per teaching computer, the yes/no facts and the shortfalls against the
//! minimum list; those who manage the school's facilities get the forms to change them.

use crate::AppState;
use crate::api::facilities as api;
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank};
use crate::routes::{Access, Builder};
use crate::scope;
use crate::view::{FieldErrors, Layout, Tr, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::facilities::{BuildQuality, EquipmentCondition, RoomKind, SchoolFact, SchoolFacts};
use truongso_store::facilities::{self, FacilitiesOverview};
use truongso_store::org::OrgUnit;
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Action::{ManageFacilities, ViewFacilities};
    b.add("GET", "/facilities", Access::Act(ViewFacilities), get(index))
        .add(
            "POST",
            "/facilities/{school_id}/rooms",
            Access::Act(ManageFacilities),
            post(save_room),
        )
        .add(
            "POST",
            "/facilities/{school_id}/equipment",
            Access::Act(ManageFacilities),
            post(save_equipment),
        )
        .add(
            "POST",
            "/facilities/{school_id}/facts",
            Access::Act(ManageFacilities),
            post(save_facts),
        )
        .add(
            "GET",
            "/api/v1/schools/{id}/facilities",
            Access::Act(ViewFacilities),
            get(api::get),
        )
        .add(
            "POST",
            "/api/v1/schools/{id}/rooms",
            Access::Act(ManageFacilities),
            post(api::upsert_room),
        )
        .add(
            "POST",
            "/api/v1/schools/{id}/equipment",
            Access::Act(ManageFacilities),
            post(api::set_equipment),
        )
        .add(
            "PUT",
            "/api/v1/schools/{id}/facilities/facts",
            Access::Act(ManageFacilities),
            put(api::set_facts),
        )
}

#[derive(Deserialize)]
pub struct SchoolQuery {
    school: Option<Uuid>,
}

#[derive(Default, Deserialize, Clone)]
pub struct RoomForm {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub quality: Option<String>,
    pub area_m2: Option<String>,
}

#[derive(Default, Deserialize, Clone)]
pub struct EquipmentForm {
    pub code: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub grade: Option<String>,
    pub quantity: Option<String>,
    pub condition: Option<String>,
}

/// What the forms show: the values typed and their errors after a failed post.
#[derive(Default)]
struct Forms {
    room: RoomForm,
    room_errors: FieldErrors,
    equipment: EquipmentForm,
    equipment_errors: FieldErrors,
    /// Facts and computers as posted (ticked codes, typed number), after a failed post.
    facts: Option<(Vec<String>, String)>,
    facts_errors: FieldErrors,
    message: Option<String>,
}

struct Choice {
    code: &'static str,
    label: &'static str,
}

struct CountRow {
    label: String,
    total: u32,
    solid: u32,
    semi_solid: u32,
    temporary: u32,
}

struct RoomView {
    name: String,
    kind: String,
    quality: String,
    area: String,
}

struct EquipmentView {
    code: String,
    name: String,
    category: String,
    grade: String,
    quantity: i32,
    condition: String,
}

struct FactView {
    code: &'static str,
    label: &'static str,
    yes: bool,
}

struct ShortfallView {
    code: String,
    name: String,
    grades: String,
    required: u32,
    available: u32,
    missing: u32,
}

#[derive(Template)]
#[template(path = "facilities.html")]
struct FacilitiesPage {
    l: Layout,
    school: Option<OrgUnit>,
    schools: Vec<OrgUnit>,
    can_manage: bool,
    counts: Vec<CountRow>,
    rooms: Vec<RoomView>,
    equipment: Vec<EquipmentView>,
    computers: String,
    learners_on_roll: u32,
    ratio: String,
    facts_set: bool,
    facts: Vec<FactView>,
    school_year: Option<String>,
    shortfalls: Vec<ShortfallView>,
    room_kinds: Vec<Choice>,
    build_qualities: Vec<Choice>,
    conditions: Vec<Choice>,
    room: RoomForm,
    room_errors: FieldErrors,
    equipment_form: EquipmentForm,
    equipment_errors: FieldErrors,
    facts_errors: FieldErrors,
}

impl FacilitiesPage {
    fn selected(&self, value: &Option<String>, code: &str) -> bool {
        value.as_deref() == Some(code)
    }
}

/// The label of a stored code, or the code itself when it is not a known one.
fn label<T: Copy>(
    t: Tr,
    parse: fn(&str) -> Result<T, truongso_core::DomainError>,
    key: fn(T) -> &'static str,
    code: &str,
) -> String {
    match parse(code) {
        Ok(v) => t.s(key(v)).to_string(),
        Err(_) => code.to_string(),
    }
}

/// Tenths with a decimal comma: 125 → "12,5".
fn tenths(n: u32) -> String {
    format!("{},{}", n / 10, n % 10)
}

fn choices<T: Copy>(
    t: Tr,
    all: &[T],
    code: fn(T) -> &'static str,
    key: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: t.s(key(*v)),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    school: Option<OrgUnit>,
    schools: Vec<OrgUnit>,
    forms: Forms,
    status: StatusCode,
) -> AppResult<Response> {
    let mut l = Layout::titled(ctx, "facilities.title");
    if let Some(m) = forms.message {
        l = l.with_message("error", m);
    }
    let t = l.t;
    let ov = match &school {
        Some(s) => Some(api::overview(st, s.id).await?),
        None => None,
    };
    let can_manage = school
        .as_ref()
        .is_some_and(|s| p.can(Action::ManageFacilities, Resource::OrgUnit(&s.path)));
    let FacilitiesOverview {
        rooms,
        room_counts,
        equipment,
        facts,
        computers_teaching,
        learners_on_roll,
        learners_per_computer,
        school_year,
        shortfalls,
        ..
    } = ov.unwrap_or_else(|| empty_overview(Uuid::nil()));
    let facts_set = computers_teaching.is_some();
    let (ticked, computers) = match forms.facts {
        Some((codes, typed)) => {
            let mut f = SchoolFacts::default();
            for fact in SchoolFact::ALL {
                f.set(*fact, codes.iter().any(|c| c == fact.code()));
            }
            (f, typed)
        }
        None => (
            facts,
            computers_teaching.map(|c| c.to_string()).unwrap_or_default(),
        ),
    };
    let page_data = FacilitiesPage {
        counts: room_counts
            .iter()
            .map(|c| CountRow {
                label: label(t, RoomKind::parse, RoomKind::label_key, &c.kind),
                total: c.total,
                solid: c.solid,
                semi_solid: c.semi_solid,
                temporary: c.temporary,
            })
            .collect(),
        rooms: rooms
            .iter()
            .map(|r| RoomView {
                name: r.name.clone(),
                kind: label(t, RoomKind::parse, RoomKind::label_key, &r.kind),
                quality: label(t, BuildQuality::parse, BuildQuality::label_key, &r.quality),
                area: r.area_m2.map(|a| a.to_string()).unwrap_or_default(),
            })
            .collect(),
        equipment: equipment
            .iter()
            .map(|e| EquipmentView {
                code: e.code.clone(),
                name: e.name.clone(),
                category: e.category.clone(),
                grade: e.grade.map(|g| g.to_string()).unwrap_or_default(),
                quantity: e.quantity,
                condition: label(
                    t,
                    EquipmentCondition::parse,
                    EquipmentCondition::label_key,
                    &e.condition,
                ),
            })
            .collect(),
        computers,
        learners_on_roll,
        ratio: learners_per_computer
            .map(|r| tenths(r.tenths))
            .unwrap_or_default(),
        facts_set,
        facts: SchoolFact::ALL
            .iter()
            .map(|f| FactView {
                code: f.code(),
                label: t.s(f.label_key()),
                yes: ticked.get(*f),
            })
            .collect(),
        school_year,
        shortfalls: shortfalls
            .into_iter()
            .map(|s| ShortfallView {
                grades: s.grades.iter().map(u8::to_string).collect::<Vec<_>>().join(", "),
                code: s.code,
                name: s.name,
                required: s.required,
                available: s.available,
                missing: s.missing,
            })
            .collect(),
        room_kinds: choices(t, RoomKind::ALL, RoomKind::code, RoomKind::label_key),
        build_qualities: choices(t, BuildQuality::ALL, BuildQuality::code, BuildQuality::label_key),
        conditions: choices(
            t,
            EquipmentCondition::ALL,
            EquipmentCondition::code,
            EquipmentCondition::label_key,
        ),
        room: forms.room,
        room_errors: forms.room_errors,
        equipment_form: forms.equipment,
        equipment_errors: forms.equipment_errors,
        facts_errors: forms.facts_errors,
        can_manage,
        school,
        schools,
        l,
    };
    Ok(render(status, &page_data))
}

fn empty_overview(school_id: Uuid) -> FacilitiesOverview {
    FacilitiesOverview {
        school_id,
        rooms: vec![],
        room_counts: vec![],
        equipment: vec![],
        facts: SchoolFacts::default(),
        computers_teaching: None,
        learners_on_roll: 0,
        learners_per_computer: None,
        school_year: None,
        classes_per_grade: vec![],
        shortfalls: vec![],
    }
}

pub async fn index(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<SchoolQuery>,
) -> AppResult<Response> {
    let (school, schools) = scope::chosen(&st, &p, q.school, Action::ViewFacilities).await?;
    if school.is_none() {
        return Err(AppError::forbidden());
    }
    render_page(&st, &ctx, &p, school, schools, Forms::default(), StatusCode::OK).await
}

/// After a failed post: the page of that school with the form's values and errors.
async fn rerender(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    school: OrgUnit,
    forms: Forms,
) -> AppResult<Response> {
    let schools = scope::schools_for(st, p, Action::ViewFacilities).await?;
    render_page(
        st,
        ctx,
        p,
        Some(school),
        schools,
        forms,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

fn back(school_id: Uuid, key: &str) -> Response {
    flash_redirect(&format!("/facilities?school={school_id}"), "success", key, vec![])
}

pub async fn save_room(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(school_id): Path<Uuid>,
    PageForm(f): PageForm<RoomForm>,
) -> AppResult<Response> {
    let school = api::managed(&st, &p, school_id).await?;
    let result = facilities::upsert_room(
        &st.store.db,
        &p.actor_ref(),
        school.id,
        f.name.as_deref().unwrap_or_default(),
        f.kind.as_deref().unwrap_or_default(),
        f.quality.as_deref().unwrap_or_default(),
        &blank(&f.area_m2).unwrap_or_default(),
    )
    .await
    .map_err(AppError::from);
    after_write(
        result,
        |_| back(school_id, "facilities.room_saved"),
        async |e| {
            let (room_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                room: f,
                room_errors,
                message,
                ..Default::default()
            };
            rerender(&st, &ctx, &p, school, forms).await
        },
    )
    .await
}

pub async fn save_equipment(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(school_id): Path<Uuid>,
    PageForm(f): PageForm<EquipmentForm>,
) -> AppResult<Response> {
    let school = api::managed(&st, &p, school_id).await?;
    let grade = blank(&f.grade);
    let result = facilities::set_equipment(
        &st.store.db,
        &p.actor_ref(),
        school.id,
        f.code.as_deref().unwrap_or_default(),
        f.name.as_deref().unwrap_or_default(),
        f.category.as_deref().unwrap_or_default(),
        grade.as_deref(),
        f.quantity.as_deref().unwrap_or_default(),
        f.condition.as_deref().unwrap_or_default(),
    )
    .await
    .map_err(AppError::from);
    after_write(
        result,
        |_| back(school_id, "facilities.equipment_saved"),
        async |e| {
            let (equipment_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                equipment: f,
                equipment_errors,
                message,
                ..Default::default()
            };
            rerender(&st, &ctx, &p, school, forms).await
        },
    )
    .await
}

/// The facts form: one checkbox per fact (named by its code) and `computers_teaching`.
pub async fn save_facts(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(school_id): Path<Uuid>,
    PageForm(f): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let school = api::managed(&st, &p, school_id).await?;
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let computers = f
        .iter()
        .rev()
        .find(|(k, _)| k == "computers_teaching")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let result = async {
        let facts = SchoolFacts::parse(&pairs).map_err(|e| AppError::invalid(e.field, e.error))?;
        Ok::<_, AppError>(
            facilities::set_facts(&st.store.db, &p.actor_ref(), school.id, &facts, &computers).await?,
        )
    }
    .await;
    after_write(
        result,
        |_| back(school_id, "facilities.facts_saved"),
        async |e| {
            let (facts_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let ticked = SchoolFact::ALL
                .iter()
                .filter(|fact| {
                    f.iter().any(|(k, v)| {
                        k == fact.code() && truongso_core::facilities::parse_bool(v) == Ok(true)
                    })
                })
                .map(|fact| fact.code().to_string())
                .collect();
            let forms = Forms {
                facts: Some((ticked, computers.clone())),
                facts_errors,
                message,
                ..Default::default()
            };
            rerender(&st, &ctx, &p, school, forms).await
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn tenths_with_a_decimal_comma() {
        assert_eq!(super::tenths(125), "12,5");
        assert_eq!(super::tenths(0), "0,0");
    }
}
