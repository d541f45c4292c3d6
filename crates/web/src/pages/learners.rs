//! Learner pages: search by name (diacritics optional) among the learners the role may see,
//! and the record with its status history. Identity numbers are shown in full only to those who
//! may edit the record.

use crate::AppState;
use crate::api::learners::{LearnerHit, authorised, visible};
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::pages::health;
use crate::view::{Layout, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::codes;
use truongso_core::people::Cccd;
use truongso_store::people::{self, Learner, StatusEntry};
use uuid::Uuid;

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "learners.html")]
struct ListPage {
    l: Layout,
    q: String,
    hits: Vec<LearnerHit>,
}

pub async fn list(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let query = q.q.unwrap_or_default();
    let hits = if query.trim().is_empty() {
        vec![]
    } else {
        visible(&st, &p, &query).await?
    };
    Ok(page(&ListPage {
        l: Layout::titled(&ctx, "learners.title"),
        q: query,
        hits,
    }))
}

#[derive(Template)]
#[template(path = "learner.html")]
struct DetailPage {
    l: Layout,
    learner: Learner,
    cccd: String,
    ethnicity: String,
    status: String,
    history: Vec<(String, String, String)>,
    /// Classes the learner has been in, and the classes they may be moved to.
    enrolments: Vec<truongso_store::classes::Enrolment>,
    move_to: Vec<truongso_store::classes::ClassSummary>,
    /// Status and dropout-reason choices, for those who may change the record.
    can_manage: bool,
    statuses: &'static [(&'static str, &'static str)],
    reasons: &'static [(&'static str, &'static str)],
    /// Health and guardian sections (`pages::health`).
    x: health::LearnerSections,
    /// May open the result card (`pages::gradebook::card`).
    can_results: bool,
}

pub async fn show(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    detail(&st, &ctx, &p, id, None).await
}

/// The record page; after a failed form post on it, with the error beside that form's fields
/// and the status of the error.
pub(crate) async fn detail(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    id: Uuid,
    failed: Option<(AppError, health::FormState)>,
) -> AppResult<Response> {
    let (error, form) = match failed {
        Some((e, f)) => (Some(e), f),
        None => (None, health::FormState::default()),
    };
    let (learner, school) = authorised(st, p, id, Action::ViewLearner).await?;
    let (l, errors, code) = Layout::new(ctx, learner.full_name.clone()).with_error(error);
    let form = health::FormState { errors, ..form };
    let x = health::sections(st, ctx, p, &learner, &school, form).await?;
    let full = p.can(
        Action::ManageLearner,
        Resource::Learner {
            school: &school,
            class_id: learner.class_id,
            learner_id: learner.id,
        },
    );
    let cccd = match (learner.cccd.as_deref(), full) {
        (None, _) => String::new(),
        (Some(c), true) => c.to_string(),
        (Some(c), false) => Cccd::parse(c).map(|x| x.masked()).unwrap_or_default(),
    };
    let label = |list: codes::CodeList, code: &Option<String>| {
        code.as_deref()
            .and_then(|c| list.label(c))
            .unwrap_or_default()
            .to_string()
    };
    let history = people::status_history(&st.store.db, id)
        .await?
        .into_iter()
        .map(|h: StatusEntry| {
            let status = codes::learner_status_label(&h.status)
                .unwrap_or_default()
                .to_string();
            let reason = h
                .reason_code
                .as_deref()
                .and_then(|r| codes::LY_DO_THOI_HOC.label(r))
                .unwrap_or_default();
            (crate::view::date(&h.on_date), status, reason.to_string())
        })
        .collect();
    // Moving needs the right to manage the learner and the school's classes.
    let move_to = if full
        && p.can(
            Action::ManageClass,
            Resource::Class {
                school: &school,
                class_id: Uuid::nil(),
            },
        ) {
        let year =
            truongso_store::school_years::current(&st.store.db, learner.school_id, crate::today()).await?;
        truongso_store::classes::list(&st.store.db, &[learner.school_id], year.map(|y| y.id))
            .await?
            .into_iter()
            .filter(|c| Some(c.id) != learner.class_id)
            .collect()
    } else {
        vec![]
    };
    let can_results = p.can(
        Action::ViewResults,
        Resource::Learner {
            school: &school,
            class_id: learner.class_id,
            learner_id: learner.id,
        },
    );
    let page_data = DetailPage {
        l,
        x,
        can_results,
        cccd,
        ethnicity: label(codes::DAN_TOC, &learner.ethnicity),
        status: codes::learner_status_label(&learner.status)
            .unwrap_or_default()
            .to_string(),
        history,
        enrolments: truongso_store::classes::history(&st.store.db, id).await?,
        move_to,
        can_manage: full,
        statuses: codes::TRANG_THAI_HOC_SINH.entries,
        reasons: codes::LY_DO_THOI_HOC.entries,
        learner,
    };
    Ok(render(code, &page_data))
}

impl DetailPage {
    fn date_str(&self, d: &chrono::NaiveDate) -> String {
        crate::view::date(d)
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: Option<String>,
    on_date: Option<String>,
    reason_code: Option<String>,
    note: Option<String>,
}

/// From the record page: a dated status change.
pub async fn change_status(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    crate::pages::PageForm(f): crate::pages::PageForm<StatusForm>,
) -> AppResult<Response> {
    let body = crate::api::learners::StatusBody {
        status: f.status.unwrap_or_default(),
        on_date: f.on_date.unwrap_or_default(),
        reason_code: crate::pages::blank(&f.reason_code),
        note: f.note,
    };
    crate::api::learners::change_status(&st, &p, id, body).await?;
    Ok(crate::middleware::flash_redirect(
        &format!("/learners/{id}"),
        "success",
        "learners.status_saved",
        vec![],
    ))
}
