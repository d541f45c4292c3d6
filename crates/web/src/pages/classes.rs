//! Class pages: the class list of a school year (or a teacher's own classes), a class with its
//! roll and teachers, forms to open and change classes, move a learner, and roll the year over.

use crate::AppState;
use crate::api::classes::{self as api, ClassBody, may_open_class, move_learner, rollover_year, visible};
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank, parse_uuid};
use crate::scope;
use crate::view::{FieldErrors, Layout, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_store::classes::{self, ClassSummary};
use truongso_store::org::OrgUnit;
use truongso_store::people::LearnerRow;
use truongso_store::school_years::{self, SchoolYearRow};
use truongso_store::staff::{self, Assignment, StaffRow};
use uuid::Uuid;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    school: Option<Uuid>,
    year: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "classes.html")]
struct ListPage {
    l: Layout,
    school: Option<OrgUnit>,
    schools: Vec<OrgUnit>,
    years: Vec<SchoolYearRow>,
    year: Option<Uuid>,
    classes: Vec<ClassSummary>,
    can_manage: bool,
    teachers: Vec<StaffRow>,
    errors: FieldErrors,
    f: ClassForm,
    next_year: Option<SchoolYearRow>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ClassForm {
    school_year_id: Option<String>,
    grade: Option<String>,
    name: Option<String>,
    homeroom_staff_id: Option<String>,
    multigrade: Option<String>,
    specialist: Option<String>,
    boarding: Option<String>,
    two_sessions: Option<String>,
    capacity: Option<String>,
}

impl ClassForm {
    fn body(&self) -> Result<ClassBody, AppError> {
        let capacity = blank(&self.capacity)
            .map(|c| {
                c.parse::<u32>()
                    .map_err(|_| AppError::invalid("capacity", truongso_core::DomainError::InvalidNumber))
            })
            .transpose()?;
        Ok(ClassBody {
            grade: self.grade.clone().unwrap_or_default(),
            name: self.name.clone().unwrap_or_default(),
            homeroom_staff_id: parse_uuid(&self.homeroom_staff_id, "homeroom_staff_id")?,
            multigrade: self.multigrade.is_some(),
            specialist: self.specialist.is_some(),
            boarding: self.boarding.is_some(),
            two_sessions: self.two_sessions.is_some(),
            capacity,
        })
    }

    fn from_class(c: &ClassSummary) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        ClassForm {
            school_year_id: Some(c.school_year_id.to_string()),
            grade: Some(c.grade.to_string()),
            name: Some(c.name.clone()),
            homeroom_staff_id: c.homeroom_staff_id.map(|h| h.to_string()),
            multigrade: on(c.multigrade),
            specialist: on(c.specialist),
            boarding: on(c.boarding),
            two_sessions: on(c.two_sessions),
            capacity: c.capacity.map(|n| n.to_string()),
        }
    }
}

fn may_manage(p: &Principal, school: &OrgUnit) -> bool {
    p.can(
        Action::ManageClass,
        Resource::Class {
            school: &school.path,
            class_id: Uuid::nil(),
        },
    )
}

async fn list_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    q: ListQuery,
    f: ClassForm,
    e: Option<AppError>,
) -> AppResult<Response> {
    let db = &st.store.db;
    let (school, schools) = if p
        .actor
        .grants
        .iter()
        .any(|g| p.can(Action::ViewClass, Resource::OrgUnit(g.scope.anchor())))
    {
        scope::chosen(st, p, q.school, Action::ViewClass).await?
    } else {
        (None, vec![])
    };
    let (years, year, classes, can_manage, teachers) = match &school {
        Some(s) => {
            let years = school_years::for_school(db, s.id).await?;
            let current = school_years::current(db, s.id, crate::today())
                .await?
                .map(|y| y.id);
            let year = q.year.or(current).or(years.first().map(|y| y.id));
            let classes = visible(st, p, Some(s.id), year).await?;
            let can_manage = may_manage(p, s);
            let teachers = if can_manage {
                staff::list(db, std::slice::from_ref(&s.path), "", 500).await?
            } else {
                vec![]
            };
            (years, year, classes, can_manage, teachers)
        }
        None => (vec![], None, visible(st, p, None, None).await?, false, vec![]),
    };
    // The year after the shown one, for the rollover form.
    let next_year = year.and_then(|y| {
        let shown = years.iter().find(|r| r.id == y)?;
        years
            .iter()
            .filter(|r| r.starts_on > shown.starts_on)
            .min_by_key(|r| r.starts_on)
            .cloned()
    });
    let (l, errors, status) = Layout::titled(ctx, "classes.title").with_error(e);
    Ok(render(
        status,
        &ListPage {
            l,
            school,
            schools,
            years,
            year,
            classes,
            can_manage,
            teachers,
            errors,
            f,
            next_year,
        },
    ))
}

pub async fn list(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_page(&st, &ctx, &p, q, ClassForm::default(), None).await
}

pub async fn create(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<ClassForm>,
) -> AppResult<Response> {
    let year_id = parse_uuid(&f.school_year_id, "school_year_id")?
        .ok_or_else(|| AppError::invalid("school_year_id", truongso_core::DomainError::Required))?;
    let year = school_years::get(&st.store.db, year_id).await?;
    may_open_class(&st, &p, year_id).await?;
    let result = async {
        let body = f.body()?;
        Ok::<_, AppError>(classes::create(&st.store.db, &p.actor_ref(), year_id, body.into()).await?)
    }
    .await;
    after_write(
        result,
        |c| {
            flash_redirect(
                &format!("/classes/{}", c.id),
                "success",
                "classes.created",
                vec![("name", c.name)],
            )
        },
        async |e| {
            let q = ListQuery {
                school: Some(year.school_id),
                year: Some(year_id),
            };
            list_page(&st, &ctx, &p, q, f.clone(), Some(e)).await
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "class.html")]
struct DetailPage {
    l: Layout,
    class: ClassSummary,
    learners: Vec<LearnerRow>,
    assignments: Vec<Assignment>,
    can_manage: bool,
    can_assign: bool,
    teachers: Vec<StaffRow>,
    subjects: Vec<(&'static str, &'static str)>,
    f: ClassForm,
    errors: FieldErrors,
}

async fn detail_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    id: Uuid,
    f: Option<ClassForm>,
    e: Option<AppError>,
) -> AppResult<Response> {
    let (class, school) = api::authorised(st, p, id, Action::ViewClass).await?;
    let db = &st.store.db;
    let can_manage = p.can(
        Action::ManageClass,
        Resource::Class {
            school: &school,
            class_id: id,
        },
    );
    let can_assign = p.can(Action::ManageStaff, Resource::OrgUnit(&school));
    let teachers = if can_manage || can_assign {
        staff::list(db, std::slice::from_ref(&school), "", 500).await?
    } else {
        vec![]
    };
    let level = truongso_core::classes::level_of_grade(u8::try_from(class.grade).unwrap_or(0));
    let subjects = truongso_core::classes::SUBJECTS
        .iter()
        .filter(|(_, _, ls)| level.is_some_and(|l| ls.contains(&l)))
        .map(|(c, n, _)| (*c, *n))
        .collect();
    let (l, errors, status) = Layout::new(ctx, class.name.clone()).with_error(e);
    Ok(render(
        status,
        &DetailPage {
            l,
            learners: classes::roster(db, id).await?,
            assignments: staff::assignments(db, Some(&[id]), None).await?,
            can_manage,
            can_assign,
            teachers,
            subjects,
            f: f.unwrap_or_else(|| ClassForm::from_class(&class)),
            class,
            errors,
        },
    ))
}

pub async fn show(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    detail_page(&st, &ctx, &p, id, None, None).await
}

pub async fn update(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<ClassForm>,
) -> AppResult<Response> {
    api::authorised(&st, &p, id, Action::ManageClass).await?;
    let result = async {
        let body = f.body()?;
        Ok::<_, AppError>(classes::update(&st.store.db, &p.actor_ref(), id, body.into()).await?)
    }
    .await;
    after_write(
        result,
        |c| flash_redirect(&format!("/classes/{}", c.id), "success", "classes.saved", vec![]),
        async |e| detail_page(&st, &ctx, &p, id, Some(f.clone()), Some(e)).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct AssignForm {
    staff_id: Option<String>,
    subject: Option<String>,
    term: Option<String>,
}

pub async fn assign(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<AssignForm>,
) -> AppResult<Response> {
    let (_, school) = api::authorised(&st, &p, id, Action::ViewClass).await?;
    p.require(Action::ManageStaff, Resource::OrgUnit(&school))?;
    let result = async {
        let staff_id = parse_uuid(&f.staff_id, "staff_id")?
            .ok_or_else(|| AppError::invalid("staff_id", truongso_core::DomainError::Required))?;
        let body = crate::api::staff::AssignmentBody {
            class_id: id,
            staff_id,
            subject: f.subject.clone().unwrap_or_default(),
            term: blank(&f.term),
        };
        crate::api::staff::assign(&st, &p, &body).await
    }
    .await;
    after_write(
        result,
        |_| flash_redirect(&format!("/classes/{id}"), "success", "classes.assigned", vec![]),
        async |e| detail_page(&st, &ctx, &p, id, None, Some(e)).await,
    )
    .await
}

pub async fn unassign(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let class_id = crate::api::staff::unassign(&st, &p, id).await?;
    Ok(flash_redirect(
        &format!("/classes/{class_id}"),
        "success",
        "classes.unassigned",
        vec![],
    ))
}

#[derive(Deserialize)]
pub struct MoveForm {
    class_id: Option<String>,
    on_date: Option<String>,
}

/// From the learner's page: move into another class of the school from a date.
pub async fn move_class(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(learner_id): Path<Uuid>,
    PageForm(f): PageForm<MoveForm>,
) -> AppResult<Response> {
    let class_id = parse_uuid(&f.class_id, "class_id")?
        .ok_or_else(|| AppError::invalid("class_id", truongso_core::DomainError::Required))?;
    move_learner(&st, &p, learner_id, class_id, f.on_date.as_deref()).await?;
    Ok(flash_redirect(
        &format!("/learners/{learner_id}"),
        "success",
        "classes.moved",
        vec![],
    ))
}

#[derive(Deserialize)]
pub struct RolloverForm {
    from: Option<String>,
    to: Option<String>,
    default_outcome: Option<String>,
}

pub async fn rollover(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    PageForm(f): PageForm<RolloverForm>,
) -> AppResult<Response> {
    let from = parse_uuid(&f.from, "from")?
        .ok_or_else(|| AppError::invalid("from", truongso_core::DomainError::Required))?;
    let to = parse_uuid(&f.to, "to")?
        .ok_or_else(|| AppError::invalid("to", truongso_core::DomainError::Required))?;
    let r = rollover_year(&st, &p, from, to, f.default_outcome.as_deref()).await?;
    let year = school_years::get(&st.store.db, to).await?;
    Ok(flash_redirect(
        &format!("/classes?school={}&year={to}", year.school_id),
        "success",
        "classes.rolled_over",
        vec![
            ("classes", r.classes_created.to_string()),
            ("promoted", r.promoted.to_string()),
            ("repeated", r.repeated.to_string()),
            ("completed", r.completed.to_string()),
        ],
    ))
}
