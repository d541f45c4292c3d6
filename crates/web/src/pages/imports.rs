//! Excel import and export pages: download a template, upload a file (it runs as a background
//! job with a progress bar), read the list of errors with sheet, row and column, fix, upload
//! again; export lists to XLSX.

use crate::AppState;
use crate::ctx::Authed;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, JobError};
use crate::scope;
use crate::view::{Layout, page};
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use truongso_core::auth::Action;
use truongso_core::i18n::Locale;
use truongso_docs::template;
use truongso_store::org::OrgUnit;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct SchoolQuery {
    school: Option<Uuid>,
}

struct Kind {
    id: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    school: Option<OrgUnit>,
    schools: Vec<OrgUnit>,
    kinds: Vec<Kind>,
}

pub async fn index(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<SchoolQuery>,
) -> AppResult<Response> {
    let (school, schools) = scope::chosen(&st, &p, q.school, Action::ImportRecords).await?;
    if schools.is_empty() {
        return Err(AppError::forbidden());
    }
    let l = Layout::titled(&ctx, "import.title");
    let kinds = template::ALL
        .iter()
        .map(|t| Kind {
            id: t.id,
            label: l.t.s(&format!("import.template_{}", t.id)).to_string(),
        })
        .collect();
    Ok(page(&ImportPage {
        l,
        school,
        schools,
        kinds,
    }))
}

/// The blank template of one kind (signed-in users only: it is harmless, but the site is not
/// public).
pub async fn download_template(_: Authed, Path(kind): Path<String>) -> AppResult<Response> {
    template_file(&kind)
}

pub fn template_file(kind: &str) -> AppResult<Response> {
    let name = kind.strip_suffix(".xlsx").unwrap_or(kind);
    let t = jobs::template(name).ok_or_else(AppError::not_found)?;
    Ok(xlsx(&t.file_name(), template::write_template(t)))
}

pub fn xlsx(file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Receives the upload (`?school=` names the school; multipart field `file`) and answers with
/// the job's progress. The school is authorised before the body is read.
pub async fn upload(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(kind): Path<String>,
    Query(q): Query<SchoolQuery>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let t = jobs::template(&kind).ok_or_else(AppError::not_found)?;
    let school_id = q
        .school
        .ok_or_else(|| AppError::invalid("school", truongso_core::DomainError::Required))?;
    let school = scope::school(&st, &p, school_id, Action::ImportRecords).await?;
    let mut form = Multipart::from_request(req, &st)
        .await
        .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?
    {
        if field.name() == Some("file") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?;
            file = Some(bytes.to_vec());
        }
    }
    let file = file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| AppError::invalid("file", truongso_core::DomainError::Required))?;
    let id = jobs::start_import(&st, t, school.id, p.actor_ref(), file).await?;
    job_fragment(&st, ctx.locale, id, p.user.id).await
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobFragment {
    t: crate::view::Tr,
    id: Uuid,
    status: String,
    done: u32,
    total: u32,
    report: Option<truongso_store::imports::ImportReport>,
    errors: Vec<String>,
    more_errors: bool,
}

/// Progress, report or error list of one of the user's jobs (polled by the page).
pub async fn job(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    job_fragment(&st, ctx.locale, id, p.user.id).await
}

async fn job_fragment(st: &AppState, locale: Locale, id: Uuid, user: Uuid) -> AppResult<Response> {
    let job = truongso_store::jobs::get(&st.store.db, id).await?;
    if job.created_by != Some(user) {
        return Err(AppError::not_found());
    }
    let (done, total) = st.progress(id).unwrap_or((0, 0));
    let result = job.result.unwrap_or_default();
    let report = serde_json::from_value(result["report"].clone()).ok();
    let all: Vec<JobError> = serde_json::from_value(result["errors"].clone()).unwrap_or_default();
    let shown = 200;
    let errors = all
        .iter()
        .take(shown)
        .map(|e| match locale {
            Locale::Vi => e.message_vi.clone(),
            Locale::En => e.message_en.clone(),
        })
        .collect();
    let failed_internally = job.status == "failed" && all.is_empty();
    Ok(crate::view::page(&JobFragment {
        t: crate::view::Tr(locale),
        id,
        status: if failed_internally {
            "internal".into()
        } else {
            job.status
        },
        done,
        total,
        report,
        more_errors: all.len() > shown,
        errors,
    }))
}

impl JobFragment {
    fn percent(&self) -> u32 {
        (self.done * 100).checked_div(self.total).unwrap_or(0)
    }
}

/// A school's records of one kind as XLSX, in the import template's columns.
pub async fn export(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(kind): Path<String>,
    Query(q): Query<SchoolQuery>,
) -> AppResult<Response> {
    let name = kind.strip_suffix(".xlsx").unwrap_or(&kind);
    let t = jobs::template(name).ok_or_else(AppError::not_found)?;
    let school_id = q
        .school
        .ok_or_else(|| AppError::invalid("school", truongso_core::DomainError::Required))?;
    let school = scope::school(&st, &p, school_id, Action::ImportRecords).await?;
    let db = &st.store.db;
    let year = truongso_store::school_years::current(db, school.id, crate::today())
        .await?
        .map(|y| y.id);
    use truongso_store::exports;
    let rows = match t.id {
        "learners" => exports::learners(db, school.id).await?,
        "guardians" => exports::guardians(db, school.id).await?,
        "staff" => exports::staff(db, school.id).await?,
        "classes" => match year {
            Some(y) => exports::classes(db, school.id, y).await?,
            None => vec![],
        },
        "assignments" => match year {
            Some(y) => exports::assignments(db, school.id, y).await?,
            None => vec![],
        },
        _ => return Err(AppError::not_found()),
    };
    // Identity numbers never leave in an export.
    let columns: Vec<&truongso_docs::Column> = t.columns.iter().filter(|c| c.key != "cccd").collect();
    let headers: Vec<String> = columns.iter().map(|c| c.header_cell()).collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let cells = rows.into_iter().map(|r| {
        columns
            .iter()
            .map(|c| {
                r.iter()
                    .find(|(k, _)| *k == c.key)
                    .map(|(_, v)| truongso_docs::Cell::from(v.as_str()))
                    .unwrap_or(truongso_docs::Cell::Empty)
            })
            .collect::<Vec<_>>()
    });
    let bytes = truongso_docs::write_table(t.sheet_vi, &header_refs, cells).map_err(AppError::internal)?;
    let file = format!("{}-{}.xlsx", t.id, school.code.as_deref().unwrap_or("truong"));
    Ok(xlsx(&file, bytes))
}
