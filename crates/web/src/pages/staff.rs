//! Staff pages: the staff list of a school (search by name, diacritics optional), a staff
//! record with its teaching assignments, and the form to add or update a record.

use crate::AppState;
use crate::api::staff::{StaffBody, authorised, visible};
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank, parse_uuid};
use crate::scope;
use crate::view::{FieldErrors, Layout, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::codes;
use truongso_store::org::OrgUnit;
use truongso_store::staff::{self, Assignment, StaffRow};
use uuid::Uuid;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    school: Option<Uuid>,
    q: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct StaffForm {
    school_id: Option<String>,
    staff_code: Option<String>,
    full_name: Option<String>,
    date_of_birth: Option<String>,
    sex: Option<String>,
    cccd: Option<String>,
    ethnicity: Option<String>,
    staff_group: Option<String>,
    position: Option<String>,
    contract: Option<String>,
    qualification: Option<String>,
    main_subject: Option<String>,
    periods_per_week: Option<String>,
    standard_rating: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

type Options = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "staff_list.html")]
struct ListPage {
    l: Layout,
    school: Option<OrgUnit>,
    schools: Vec<OrgUnit>,
    q: String,
    staff: Vec<StaffRow>,
    can_manage: bool,
    f: StaffForm,
    errors: FieldErrors,
    groups: Options,
    positions: Options,
    contracts: Options,
    qualifications: Options,
    ratings: Options,
    subjects: Options,
}

fn options(list: codes::CodeList) -> Options {
    list.entries.to_vec()
}

async fn list_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    q: ListQuery,
    f: StaffForm,
    e: Option<AppError>,
) -> AppResult<Response> {
    let (school, schools) = scope::chosen(st, p, q.school, Action::ViewStaff).await?;
    let Some(s) = &school else {
        return Err(AppError::forbidden());
    };
    let query = q.q.clone().unwrap_or_default();
    let staff = visible(st, p, Some(s.id), &query).await?;
    let can_manage = p.can(Action::ManageStaff, Resource::OrgUnit(&s.path));
    let (l, errors, status) = Layout::titled(ctx, "staff.title").with_error(e);
    Ok(render(
        status,
        &ListPage {
            l,
            q: query,
            staff,
            can_manage,
            f,
            errors,
            groups: options(codes::NHOM_CAN_BO),
            positions: options(codes::LOAI_CAN_BO),
            contracts: options(codes::HINH_THUC_HOP_DONG),
            qualifications: options(codes::TRINH_DO_CHUYEN_MON),
            ratings: options(codes::KQ_CHUAN_NGHE_NGHIEP),
            subjects: truongso_core::classes::SUBJECTS
                .iter()
                .map(|(c, n, _)| (*c, *n))
                .collect(),
            school,
            schools,
        },
    ))
}

pub async fn list(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_page(&st, &ctx, &p, q, StaffForm::default(), None).await
}

pub async fn save(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<StaffForm>,
) -> AppResult<Response> {
    let school_id = parse_uuid(&f.school_id, "school_id")?
        .ok_or_else(|| AppError::invalid("school_id", truongso_core::DomainError::Required))?;
    let school = scope::school(&st, &p, school_id, Action::ManageStaff).await?;
    let body = StaffBody {
        school_id,
        staff_code: f.staff_code.clone().unwrap_or_default(),
        full_name: f.full_name.clone().unwrap_or_default(),
        date_of_birth: f.date_of_birth.clone().unwrap_or_default(),
        sex: f.sex.clone().unwrap_or_default(),
        cccd: blank(&f.cccd),
        ethnicity: blank(&f.ethnicity),
        staff_group: f.staff_group.clone().unwrap_or_default(),
        position: blank(&f.position),
        contract: f.contract.clone().unwrap_or_default(),
        qualification: blank(&f.qualification),
        main_subject: blank(&f.main_subject),
        second_subject: None,
        periods_per_week: None,
        standard_rating: blank(&f.standard_rating),
        status: None,
        phone: blank(&f.phone),
        email: blank(&f.email),
    };
    let mut input = body.input();
    input.periods_per_week = blank(&f.periods_per_week);
    let result = staff::save(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        school.id,
        &input,
        crate::today(),
    )
    .await
    .map_err(AppError::from);
    after_write(
        result,
        |s| {
            flash_redirect(
                &format!("/staff/{}", s.id),
                "success",
                "staff.saved",
                vec![("name", s.full_name)],
            )
        },
        async |e| {
            let q = ListQuery {
                school: Some(school_id),
                q: None,
            };
            list_page(&st, &ctx, &p, q, f.clone(), Some(e)).await
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "staff.html")]
struct DetailPage {
    l: Layout,
    s: StaffRow,
    assignments: Vec<Assignment>,
    group: &'static str,
    position: &'static str,
    contract: &'static str,
    rating: &'static str,
    subject: &'static str,
}

pub async fn show(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (s, _) = authorised(&st, &p, id, Action::ViewStaff).await?;
    let label =
        |list: codes::CodeList, v: &Option<String>| v.as_deref().and_then(|c| list.label(c)).unwrap_or("");
    Ok(page(&DetailPage {
        l: Layout::new(&ctx, s.full_name.clone()),
        assignments: staff::assignments(&st.store.db, None, Some(id)).await?,
        group: codes::NHOM_CAN_BO.label(&s.staff_group).unwrap_or(""),
        position: label(codes::LOAI_CAN_BO, &s.position),
        contract: codes::HINH_THUC_HOP_DONG.label(&s.contract).unwrap_or(""),
        rating: label(codes::KQ_CHUAN_NGHE_NGHIEP, &s.standard_rating),
        subject: s
            .main_subject
            .as_deref()
            .and_then(truongso_core::classes::subject_name)
            .unwrap_or(""),
        s,
    }))
}
