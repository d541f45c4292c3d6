//! The organisation-tree browser: a unit with its ancestors, children, history and school
//! years; administrators add units, rename them from a date, and set school years.

use crate::AppState;
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank};
use crate::view::{FieldErrors, Layout, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::org::{OrgKind, OrgPath, parse_date};
use truongso_core::school_year::{SchoolYear, TermDates, TermKind, YearCalendar};
use truongso_store::org::{self, NewOrgUnit, OrgUnit, OrgVersionRow};
use truongso_store::school_years::{self, SchoolYearRow};
use uuid::Uuid;

/// Level combinations offered when creating a school.
pub const LEVEL_CHOICES: [&str; 10] = [
    "MN",
    "TH",
    "THCS",
    "THPT",
    "GDTX",
    "MN+TH",
    "TH+THCS",
    "THCS+THPT",
    "TH+THCS+THPT",
    "MN+TH+THCS",
];

pub struct Crumb {
    pub id: Uuid,
    pub name: String,
    pub link: bool,
}

#[derive(Default, Deserialize, Clone)]
pub struct ChildForm {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub code: Option<String>,
    pub levels: Option<String>,
    pub valid_from: Option<String>,
}

#[derive(Default, Deserialize, Clone)]
pub struct RenameForm {
    pub name: Option<String>,
    pub code: Option<String>,
    pub valid_from: Option<String>,
    pub note: Option<String>,
}

#[derive(Default, Deserialize, Clone)]
pub struct YearForm {
    pub year: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub hk1_start: Option<String>,
    pub hk1_end: Option<String>,
    pub hk2_start: Option<String>,
    pub hk2_end: Option<String>,
}

#[derive(Default, Deserialize, Clone)]
pub struct MoveForm {
    pub parent_id: Option<String>,
    pub valid_from: Option<String>,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "org_unit.html")]
struct OrgPage {
    l: Layout,
    unit: OrgUnit,
    crumbs: Vec<Crumb>,
    children: Vec<OrgUnit>,
    history: Vec<OrgVersionRow>,
    years: Vec<SchoolYearRow>,
    can_manage: bool,
    can_years: bool,
    can_users: bool,
    child_kinds: Vec<OrgKind>,
    level_choices: Vec<&'static str>,
    child: ChildForm,
    child_errors: FieldErrors,
    rename: RenameForm,
    rename_errors: FieldErrors,
    year: YearForm,
    year_errors: FieldErrors,
    can_restructure: bool,
    move_targets: Vec<OrgUnit>,
    moving: MoveForm,
    move_errors: FieldErrors,
}

impl OrgPage {
    fn date_str(&self, d: &chrono::NaiveDate) -> String {
        crate::view::date(d)
    }

    fn opt_date_str(&self, d: &Option<chrono::NaiveDate>) -> String {
        crate::view::opt_date(d)
    }
}

#[derive(Default)]
struct Forms {
    child: ChildForm,
    child_errors: FieldErrors,
    rename: RenameForm,
    rename_errors: FieldErrors,
    year: YearForm,
    year_errors: FieldErrors,
    moving: MoveForm,
    move_errors: FieldErrors,
    message: Option<String>,
}

async fn load_visible(st: &AppState, p: &Principal, id: Uuid) -> AppResult<OrgUnit> {
    let unit = org::get(&st.store.db, id).await?;
    p.require(Action::ViewOrgUnit, Resource::OrgUnit(&unit.path))?;
    Ok(unit)
}

async fn render_unit(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    unit: OrgUnit,
    forms: Forms,
    status: StatusCode,
) -> AppResult<Response> {
    let db = &st.store.db;
    let crumbs = org::ancestors(db, &unit)
        .await?
        .into_iter()
        .map(|a| Crumb {
            link: p.can(Action::ViewOrgUnit, Resource::OrgUnit(&a.path)),
            id: a.id,
            name: a.name,
        })
        .collect();
    let children = org::children(db, unit.id).await?;
    let history = org::versions(db, unit.id).await?;
    let years = if unit.kind == OrgKind::School {
        school_years::for_school(db, unit.id).await?
    } else {
        vec![]
    };
    let can_manage = p.can(Action::ManageOrgUnit, Resource::OrgUnit(&unit.path)) && unit.is_current();
    let child_kinds = OrgKind::ALL
        .into_iter()
        .filter(|k| k.may_have_parent(Some(unit.kind)))
        .collect();
    // Moving or dissolving changes the parent's subtree, so it needs rights over the parent.
    let parent = match unit.parent_id {
        Some(pid) if unit.is_current() => Some(org::get(db, pid).await?),
        _ => None,
    };
    let can_restructure = parent
        .as_ref()
        .is_some_and(|par| p.can(Action::ManageOrgUnit, Resource::OrgUnit(&par.path)));
    let mut move_targets = vec![];
    if can_restructure {
        for g in p
            .actor
            .grants
            .iter()
            .filter(|g| g.role == truongso_core::auth::Role::Admin)
        {
            for u in org::in_subtree(db, g.scope.anchor(), None).await? {
                let fits = u.is_current()
                    && unit.kind.may_have_parent(Some(u.kind))
                    && !u.path.is_within(&unit.path)
                    && Some(u.id) != unit.parent_id
                    && !move_targets.iter().any(|m: &OrgUnit| m.id == u.id);
                if fits {
                    move_targets.push(u);
                }
            }
        }
    }
    let mut l = Layout::new(ctx, unit.name.clone());
    if let Some(m) = forms.message {
        l = l.with_message("error", m);
    }
    let mut rename = forms.rename;
    if rename.name.is_none() {
        rename.name = Some(unit.name.clone());
        rename.code = unit.code.clone();
    }
    let page_data = OrgPage {
        l,
        crumbs,
        children,
        history,
        years,
        can_manage,
        can_years: p.can(Action::ManageSchoolYears, Resource::OrgUnit(&unit.path))
            && unit.kind == OrgKind::School,
        can_users: p.can(Action::ViewUsers, Resource::OrgUnit(&unit.path)),
        child_kinds,
        level_choices: LEVEL_CHOICES.to_vec(),
        child: forms.child,
        child_errors: forms.child_errors,
        rename,
        rename_errors: forms.rename_errors,
        year: forms.year,
        year_errors: forms.year_errors,
        can_restructure,
        move_targets,
        moving: forms.moving,
        move_errors: forms.move_errors,
        unit,
    };
    Ok(render(status, &page_data))
}

/// `/org`: the highest unit the user may see.
pub async fn index(Authed { p, .. }: Authed) -> AppResult<Response> {
    let mut anchors: Vec<&OrgPath> = p
        .actor
        .grants
        .iter()
        .map(|g| g.scope.anchor())
        .filter(|a| p.can(Action::ViewOrgUnit, Resource::OrgUnit(a)))
        .collect();
    anchors.sort_by_key(|a| a.depth());
    match anchors.first() {
        Some(a) => Ok(Redirect::to(&format!("/org/{}", a.last_id())).into_response()),
        None => Err(AppError::forbidden()),
    }
}

pub async fn show(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let unit = load_visible(&st, &p, id).await?;
    render_unit(&st, &ctx, &p, unit, Forms::default(), StatusCode::OK).await
}

fn date_field(v: &Option<String>, field: &'static str) -> AppResult<Option<chrono::NaiveDate>> {
    blank(v)
        .map(|s| parse_date(&s).map_err(|e| AppError::invalid(field, e)))
        .transpose()
}

pub async fn create_child(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<ChildForm>,
) -> AppResult<Response> {
    let parent = load_visible(&st, &p, id).await?;
    p.require(Action::ManageOrgUnit, Resource::OrgUnit(&parent.path))?;
    let result = async {
        let input = NewOrgUnit {
            kind: f.kind.clone().unwrap_or_default(),
            parent_id: Some(parent.id),
            name: f.name.clone().unwrap_or_default(),
            code: blank(&f.code),
            levels: blank(&f.levels),
            valid_from: date_field(&f.valid_from, "valid_from")?,
        };
        Ok::<_, AppError>(org::create(&st.store.db, &p.actor_ref(), input).await?)
    }
    .await;
    after_write(
        result,
        |u| flash_redirect(&format!("/org/{}", u.id), "success", "org.created", vec![]),
        async |e| {
            let (child_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                child: f,
                child_errors,
                message,
                ..Default::default()
            };
            render_unit(&st, &ctx, &p, parent, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

pub async fn rename(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<RenameForm>,
) -> AppResult<Response> {
    let unit = load_visible(&st, &p, id).await?;
    p.require(Action::ManageOrgUnit, Resource::OrgUnit(&unit.path))?;
    let result = async {
        let from = date_field(&f.valid_from, "valid_from")?
            .ok_or_else(|| AppError::invalid("valid_from", truongso_core::DomainError::Required))?;
        let name = f.name.clone().unwrap_or_default();
        let code = blank(&f.code);
        Ok::<_, AppError>(
            org::rename(
                &st.store.db,
                &p.actor_ref(),
                id,
                &name,
                code.as_deref(),
                from,
                blank(&f.note),
            )
            .await?,
        )
    }
    .await;
    after_write(
        result,
        |_| flash_redirect(&format!("/org/{id}"), "success", "org.renamed", vec![]),
        async |e| {
            let (rename_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                rename: f,
                rename_errors,
                message,
                ..Default::default()
            };
            render_unit(&st, &ctx, &p, unit, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

fn calendar(f: &YearForm) -> AppResult<YearCalendar> {
    let year =
        SchoolYear::parse(&f.year.clone().unwrap_or_default()).map_err(|e| AppError::invalid("year", e))?;
    let typical = YearCalendar::typical(year);
    let d = |v: &Option<String>, field, default| -> AppResult<chrono::NaiveDate> {
        Ok(date_field(v, field)?.unwrap_or(default))
    };
    let t1 = typical.terms[0];
    let t2 = typical.terms[1];
    let terms = vec![
        TermDates {
            kind: TermKind::Hk1,
            starts_on: d(&f.hk1_start, "hk1_start", t1.starts_on)?,
            ends_on: d(&f.hk1_end, "hk1_end", t1.ends_on)?,
        },
        TermDates {
            kind: TermKind::Hk2,
            starts_on: d(&f.hk2_start, "hk2_start", t2.starts_on)?,
            ends_on: d(&f.hk2_end, "hk2_end", t2.ends_on)?,
        },
    ];
    YearCalendar::new(
        year,
        d(&f.starts_on, "starts_on", typical.starts_on)?,
        d(&f.ends_on, "ends_on", typical.ends_on)?,
        terms,
    )
    .map_err(|e| AppError::invalid("year", e))
}

pub async fn create_year(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<YearForm>,
) -> AppResult<Response> {
    let unit = load_visible(&st, &p, id).await?;
    p.require(Action::ManageSchoolYears, Resource::OrgUnit(&unit.path))?;
    let result = async {
        let cal = calendar(&f)?;
        Ok::<_, AppError>(school_years::create(&st.store.db, &p.actor_ref(), id, &cal).await?)
    }
    .await;
    after_write(
        result,
        |_| flash_redirect(&format!("/org/{id}"), "success", "org.year_created", vec![]),
        async |e| {
            let (year_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                year: f,
                year_errors,
                message,
                ..Default::default()
            };
            render_unit(&st, &ctx, &p, unit, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "org_search.html")]
struct SearchResults {
    l: Layout,
    results: Vec<OrgUnit>,
    q: String,
}

/// Search within everything the user may see; an htmx fragment.
pub async fn search(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let within: Vec<OrgPath> = p
        .actor
        .grants
        .iter()
        .map(|g| g.scope.anchor().clone())
        .filter(|a| p.can(Action::ViewOrgUnit, Resource::OrgUnit(a)))
        .collect();
    if within.is_empty() {
        return Err(AppError::forbidden());
    }
    let query = q.q.unwrap_or_default();
    let results = org::search(&st.store.db, &within, &query, 30).await?;
    Ok(page(&SearchResults {
        l: Layout::titled(&ctx, "org.search_results"),
        results,
        q: query,
    }))
}

/// Checks that the actor may restructure `unit` (rights over its current parent) and returns it.
pub async fn restructurable(st: &AppState, p: &Principal, id: Uuid) -> AppResult<OrgUnit> {
    let unit = load_visible(st, p, id).await?;
    let parent_id = unit.parent_id.ok_or_else(AppError::forbidden)?;
    let parent = org::get(&st.store.db, parent_id).await?;
    p.require(Action::ManageOrgUnit, Resource::OrgUnit(&parent.path))?;
    Ok(unit)
}

/// Moves a unit under a new parent from a date; shared by the page and the API.
pub async fn move_checked(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    new_parent: Option<Uuid>,
    from: Option<chrono::NaiveDate>,
    note: Option<String>,
) -> AppResult<OrgUnit> {
    restructurable(st, p, id).await?;
    let new_parent =
        new_parent.ok_or_else(|| AppError::invalid("parent_id", truongso_core::DomainError::Required))?;
    let target = org::get(&st.store.db, new_parent).await?;
    p.require(Action::ManageOrgUnit, Resource::OrgUnit(&target.path))?;
    let from = from.ok_or_else(|| AppError::invalid("valid_from", truongso_core::DomainError::Required))?;
    Ok(org::move_to(&st.store.db, &p.actor_ref(), id, new_parent, from, note).await?)
}

/// Ends a unit from a date; shared by the page and the API.
pub async fn dissolve_checked(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    on: Option<chrono::NaiveDate>,
) -> AppResult<OrgUnit> {
    restructurable(st, p, id).await?;
    let on = on.ok_or_else(|| AppError::invalid("valid_from", truongso_core::DomainError::Required))?;
    Ok(org::dissolve(&st.store.db, &p.actor_ref(), id, on).await?)
}

pub async fn move_unit(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<MoveForm>,
) -> AppResult<Response> {
    let result = async {
        restructurable(&st, &p, id).await?;
        let parent = crate::pages::parse_uuid(&f.parent_id, "parent_id")?;
        let from = date_field(&f.valid_from, "valid_from")?;
        move_checked(&st, &p, id, parent, from, blank(&f.note)).await
    }
    .await;
    after_write(
        result,
        |_| flash_redirect(&format!("/org/{id}"), "success", "org.moved", vec![]),
        async |e| {
            let unit = load_visible(&st, &p, id).await?;
            let (move_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                moving: f,
                move_errors,
                message,
                ..Default::default()
            };
            render_unit(&st, &ctx, &p, unit, forms, e.status).await
        },
    )
    .await
}

pub async fn dissolve_unit(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<MoveForm>,
) -> AppResult<Response> {
    let result = async {
        restructurable(&st, &p, id).await?;
        dissolve_checked(&st, &p, id, date_field(&f.valid_from, "valid_from")?).await
    }
    .await;
    after_write(
        result,
        |_| flash_redirect(&format!("/org/{id}"), "success", "org.dissolved_ok", vec![]),
        async |e| {
            let unit = load_visible(&st, &p, id).await?;
            let (move_errors, message) = FieldErrors::from_error(ctx.locale, &e);
            let forms = Forms {
                moving: f,
                move_errors,
                message,
                ..Default::default()
            };
            render_unit(&st, &ctx, &p, unit, forms, e.status).await
        },
    )
    .await
}
