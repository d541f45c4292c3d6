//! Học bạ số in the school and văn bằng số at the Sở, as pages: the classes of a closed year
//! with how far each learner's học bạ has come, a class's documents signed in turn (GVCN →
//! Hiệu trưởng → con dấu) one by one or all at once, a document's trail (signatures, log leaf,
//! corrections, copies) with revoke, correct and copy, the batch issue of a whole school as a
//! background job, the signing identities of a unit, and the diploma registry.
//!
//! Authorisation is the policy's (`core::auth`), asked about each document's issuer and class;
//! the shared logic lives in `api::credentials`.

use crate::AppState;
use crate::api::credentials::{
    self as api, DocCtx, STATUS_KEYS, check_copy, check_reason, copy_action, identity, load_doc, may_sign,
    order_of, revoke_action, status_key,
};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, blank};
use crate::routes::{Access, Builder};
use crate::view::{FieldErrors, Layout, Tr, date, datetime, page, render};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use truongso_core::auth::{Action, Resource, Scope};
use truongso_core::credentials::DocKind;
use truongso_core::credentials::record::Record;
use truongso_core::i18n::Locale;
use truongso_core::org::OrgKind;
use truongso_docs::credentials::signer::{
    Pkcs11Signer, Pkcs12Signer, RemoteSigner, RemoteSignerConfig, Signer,
};
use truongso_docs::credentials::trust::ChainStatus;
use truongso_store::credentials::{self as store_cred, Doc, HOC_BA_ROLES, NewIdentity};
use truongso_store::org::{self, OrgUnit};
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Access::{Act, SignedIn};
    use Action::*;
    b.add("GET", "/hoc-ba", SignedIn, get(index))
        .add(
            "GET",
            "/hoc-ba/lop/{class_id}",
            Act(ViewCredentials),
            get(class_page),
        )
        .add(
            "POST",
            "/hoc-ba/lop/{class_id}/mo",
            Act(IssueCredentials),
            post(open_class),
        )
        .add(
            "POST",
            "/hoc-ba/lop/{class_id}/ky-tat-ca",
            Act(ViewCredentials),
            post(sign_all),
        )
        .add(
            "POST",
            "/hoc-ba/phat-hanh",
            Act(IssueCredentials),
            post(start_batch),
        )
        .add(
            "GET",
            "/hoc-ba/tac-vu/{id}",
            Act(IssueCredentials),
            get(batch_page),
        )
        .add(
            "GET",
            "/hoc-ba/chu-ky-so",
            Act(ManageSigningIdentities),
            get(identities),
        )
        .add(
            "POST",
            "/hoc-ba/chu-ky-so/pkcs12",
            Act(ManageSigningIdentities),
            post(add_pkcs12).layer(DefaultBodyLimit::max(256 * 1024)),
        )
        .add(
            "POST",
            "/hoc-ba/chu-ky-so/pkcs11",
            Act(ManageSigningIdentities),
            post(add_pkcs11),
        )
        .add(
            "POST",
            "/hoc-ba/chu-ky-so/remote",
            Act(ManageSigningIdentities),
            post(add_remote),
        )
        .add(
            "POST",
            "/hoc-ba/chu-ky-so/{id}/thu-hoi",
            Act(ManageSigningIdentities),
            post(retire_identity),
        )
        .add("GET", "/van-ban/{doc_id}", Act(ViewCredentials), get(document))
        .add("GET", "/van-ban/{doc_id}/pdf", Act(ViewCredentials), get(pdf))
        .add("GET", "/van-ban/{doc_id}/proof", Act(ViewCredentials), get(proof))
        .add("POST", "/van-ban/{doc_id}/ky", Act(ViewCredentials), post(sign))
        .add(
            "POST",
            "/van-ban/{doc_id}/thu-hoi",
            Act(RevokeCredential),
            post(revoke),
        )
        .add(
            "POST",
            "/van-ban/{doc_id}/dinh-chinh",
            Act(RevokeCredential),
            post(correct),
        )
        .add(
            "POST",
            "/van-ban/{doc_id}/ban-sao",
            Act(CopyCredential),
            post(copy),
        )
        .add("GET", "/van-bang", Act(ManageDiplomas), get(registry))
        .add("GET", "/van-bang/moi", Act(ManageDiplomas), get(new_diploma))
        .add("POST", "/van-bang", Act(ManageDiplomas), post(create_diploma))
        .add(
            "GET",
            "/api/v1/classes/{id}/credentials",
            Act(ViewCredentials),
            get(api::class_credentials),
        )
        .add(
            "POST",
            "/api/v1/credentials/{doc_id}/sign",
            Act(ViewCredentials),
            post(api::sign),
        )
        .add(
            "POST",
            "/api/v1/credentials/{doc_id}/revoke",
            Act(RevokeCredential),
            post(api::revoke),
        )
        .add(
            "POST",
            "/api/v1/credentials/{doc_id}/copies",
            Act(CopyCredential),
            post(api::copy),
        )
        .add(
            "POST",
            "/api/v1/credential-batches",
            Act(IssueCredentials),
            post(api::start),
        )
        .add(
            "GET",
            "/api/v1/credential-batches/{id}",
            Act(IssueCredentials),
            get(api::status),
        )
        .add(
            "GET",
            "/api/v1/diplomas",
            Act(ManageDiplomas),
            get(api::list_diplomas),
        )
        .add(
            "POST",
            "/api/v1/diplomas",
            Act(ManageDiplomas),
            post(api::create_diploma),
        )
}

fn role_label(t: Tr, role: &str) -> String {
    t.s(&format!("credentials.role.{role}")).to_string()
}

fn status_label(t: Tr, key: &str) -> String {
    t.s(&format!("credentials.status.{key}")).to_string()
}

/// Redirects with the error as the flash: a field error names its field.
fn flash_error(back: &str, locale: Locale, e: AppError) -> Response {
    match e.field {
        Some(f) => flash_redirect(
            back,
            "error",
            "error.invalid_field",
            vec![
                (
                    "field",
                    Tr(locale).s(&format!("credentials.field.{f}")).to_string(),
                ),
                ("message", crate::api::message(locale, &e)),
            ],
        ),
        None => flash_redirect(back, "error", &format!("error.{}", e.code), e.params.clone()),
    }
}

fn done_or_flash(back: &str, locale: Locale, r: AppResult<Response>) -> AppResult<Response> {
    match r {
        Ok(resp) => Ok(resp),
        Err(e) if e.status == StatusCode::FORBIDDEN || e.status.is_server_error() => Err(e),
        Err(e) => Ok(flash_error(back, locale, e)),
    }
}

fn configured(st: &AppState) -> bool {
    st.credentials.is_some()
}

// ------------------------------------------------------------------ index

struct FamilyDoc {
    learner: String,
    doc_id: String,
    title: String,
    status: String,
    issued: String,
}

struct ClassRow {
    id: Uuid,
    name: String,
    results: usize,
    counts: Vec<usize>,
}

struct SchoolSummary {
    name: String,
    id: Uuid,
    signing: i64,
    issued: i64,
    revoked: i64,
}

#[derive(Template)]
#[template(path = "credentials_index.html")]
struct IndexPage {
    l: Layout,
    configured: bool,
    family: Vec<FamilyDoc>,
    my_classes: Vec<(Uuid, String, String)>,
    schools: Vec<(Uuid, String)>,
    school: Option<(Uuid, String)>,
    years: Vec<(Uuid, String)>,
    year: Option<Uuid>,
    heads: Vec<String>,
    rows: Vec<ClassRow>,
    can_issue: bool,
    can_identities: bool,
    can_diplomas: bool,
    summaries: Vec<SchoolSummary>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IndexQuery {
    school: Option<String>,
    year: Option<String>,
}

/// The title of a document: "Học bạ năm học 2025-2026 — lớp 6A1" or the diploma's kind.
fn doc_title(t: Tr, record: Option<&Record>) -> String {
    match record {
        Some(Record::HocBa(h)) => t
            .f("credentials.ui.hoc_ba_title", "year", &h.school_year)
            .replace("{class}", &h.class_name),
        Some(Record::VanBang(v)) => t
            .s(&format!("credentials.diploma_type.{}", v.diploma_type))
            .to_string(),
        None => String::new(),
    }
}

async fn record_of(st: &AppState, d: &Doc) -> AppResult<Option<Record>> {
    let (_, record) = store_cred::files(&st.store.db, d.id).await?;
    Ok(Record::parse(&record).ok())
}

/// The school years of a school whose học bạ can be issued, newest first, and the one to show:
/// the one asked for, else the latest that has ended, else the latest.
async fn years_of(
    st: &AppState,
    school: Uuid,
    asked: Option<Uuid>,
) -> AppResult<(Vec<truongso_store::school_years::SchoolYearRow>, Option<Uuid>)> {
    let with = store_cred::years_with_results(&st.store.db, school).await?;
    let mut years: Vec<_> = truongso_store::school_years::for_school(&st.store.db, school)
        .await?
        .into_iter()
        .filter(|y| with.contains(&y.id))
        .collect();
    years.sort_by_key(|y| std::cmp::Reverse(y.starts_on));
    let today = crate::today();
    let chosen = match asked {
        Some(y) if years.iter().any(|x| x.id == y) => Some(y),
        Some(_) => return Err(AppError::not_found()),
        None => years
            .iter()
            .find(|y| y.ends_on < today)
            .or(years.first())
            .map(|y| y.id),
    };
    Ok((years, chosen))
}

pub async fn index(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let db = &st.store.db;
    // The family: the issued documents of their children.
    let mut family = vec![];
    for g in &p.actor.grants {
        if let Scope::Child { learner_id, .. } = &g.scope {
            let name = truongso_store::people::get_learner(db, &st.cipher, *learner_id)
                .await
                .map(|l| l.full_name)
                .unwrap_or_default();
            for d in store_cred::learner_docs(db, *learner_id).await? {
                let issuer = org::get(db, d.issuer_id).await?;
                let c = DocCtx {
                    doc: d.clone(),
                    issuer,
                    of_record: false,
                };
                if c.issued() && p.can(Action::ViewCredentials, c.resource()) {
                    family.push(FamilyDoc {
                        learner: name.clone(),
                        title: doc_title(t, record_of(&st, &d).await?.as_ref()),
                        status: status_label(t, status_key(Some(&d))),
                        issued: d.issued_at.as_ref().map(datetime).unwrap_or_default(),
                        doc_id: d.doc_id,
                    });
                }
            }
        }
    }
    // The homeroom teacher: the classes they keep (by grant or of record) that have results.
    let mut my_classes: Vec<(Uuid, String, String)> = vec![];
    let mut mine: Vec<Uuid> = store_cred::homeroom_classes(db, p.user.id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for g in &p.actor.grants {
        if let (Scope::Class { class_id, .. }, truongso_core::auth::Role::HomeroomTeacher) =
            (&g.scope, g.role)
            && !mine.contains(class_id)
        {
            mine.push(*class_id);
        }
    }
    for c in mine {
        let info = truongso_store::gradebook::class_info(db, c).await?;
        if !truongso_store::gradebook::class_results(db, c).await?.is_empty() {
            my_classes.push((c, info.name, info.school_year));
        }
    }
    // Schools: record keepers and offices.
    let asked_school = crate::pages::parse_uuid(&q.school, "school")?;
    let (school, schools) = crate::scope::chosen(&st, &p, asked_school, Action::ViewCredentials).await?;
    let mut years = vec![];
    let mut year = None;
    let mut rows = vec![];
    let (mut can_issue, mut can_identities) = (false, false);
    if let Some(s) = &school {
        let asked_year = crate::pages::parse_uuid(&q.year, "year")?;
        let (ys, chosen) = years_of(&st, s.id, asked_year).await?;
        years = ys.iter().map(|y| (y.id, y.name.clone())).collect();
        year = chosen;
        can_issue = p.can(Action::IssueCredentials, Resource::OrgUnit(&s.path));
        can_identities = p.can(Action::ManageSigningIdentities, Resource::OrgUnit(&s.path));
        if let Some(y) = year {
            let counts = store_cred::result_counts(db, s.id, y).await?;
            let docs = store_cred::school_year_docs(db, s.id, y).await?;
            let latest = store_cred::latest_per_learner(&docs);
            let results_by_class = truongso_store::credentials::classes_with_results(db, s.id, y).await?;
            for c in results_by_class {
                let n = counts.get(&c.id).copied().unwrap_or(0);
                let mut per = vec![0usize; STATUS_KEYS.len()];
                let mut with_doc = 0;
                for d in latest.values().filter(|d| d.class_id == Some(c.id)) {
                    let k = status_key(Some(d));
                    if let Some(i) = STATUS_KEYS.iter().position(|x| *x == k) {
                        per[i] += 1;
                    }
                    if matches!(d.status.as_str(), "signing" | "issued") {
                        with_doc += 1;
                    }
                }
                let not_opened = n.saturating_sub(with_doc);
                per[0] = not_opened;
                rows.push(ClassRow {
                    id: c.id,
                    name: c.name,
                    results: n,
                    counts: per,
                });
            }
        }
    }
    // Offices: how far each school of their subtree has come.
    let mut summaries = vec![];
    let supervises = p.actor.grants.iter().any(|g| {
        matches!(g.scope, Scope::Subtree { .. })
            && p.can(Action::ViewCredentials, Resource::OrgUnit(g.scope.anchor()))
    });
    if supervises && schools.len() > 1 {
        let ids: Vec<Uuid> = schools.iter().map(|s| s.id).collect();
        let counts = store_cred::issuer_status_counts(db, &ids, DocKind::HocBa).await?;
        for s in &schools {
            if let Some(c) = counts.get(&s.id) {
                let get = |k: &str| c.get(k).copied().unwrap_or(0);
                summaries.push(SchoolSummary {
                    name: s.name.clone(),
                    id: s.id,
                    signing: get("signing"),
                    issued: get("issued"),
                    revoked: get("revoked"),
                });
            }
        }
    }
    let can_diplomas = !api::registries(&st, &p).await?.is_empty();
    Ok(page(&IndexPage {
        l: Layout::titled(&ctx, "credentials.ui.title"),
        configured: configured(&st),
        family,
        my_classes,
        schools: schools.iter().map(|s| (s.id, s.name.clone())).collect(),
        school: school.as_ref().map(|s| (s.id, s.name.clone())),
        years,
        year,
        heads: STATUS_KEYS.iter().map(|k| status_label(t, k)).collect(),
        rows,
        can_issue,
        can_identities,
        can_diplomas,
        summaries,
    }))
}

// ------------------------------------------------------------------ a class

struct DocRow {
    n: usize,
    learner: String,
    doc_id: Option<String>,
    status: String,
    state: &'static str,
    next: String,
    sign_role: Option<String>,
    sign_label: String,
}

#[derive(Template)]
#[template(path = "credentials_class.html")]
struct ClassPage {
    l: Layout,
    configured: bool,
    class_id: Uuid,
    class_name: String,
    school_year: String,
    school_id: Uuid,
    school_name: String,
    rows: Vec<DocRow>,
    can_open: bool,
    not_opened: usize,
    sign_all: usize,
    sign_roles: String,
    missing: Vec<String>,
    can_identities: bool,
}

/// The roles the caller may sign in for a class's documents.
fn class_roles(p: &Principal, school: &OrgUnit, class_id: Uuid, of_record: bool) -> Vec<&'static str> {
    HOC_BA_ROLES
        .into_iter()
        .filter(|r| match *r {
            "gvcn" => p.can(
                Action::SignAsHomeroom,
                Resource::Credentials {
                    issuer: &school.path,
                    class_id: Some(class_id),
                    learner_id: None,
                    issued: false,
                    homeroom_of_record: of_record,
                },
            ),
            "hieu_truong" => p.can(Action::SignAsPrincipal, Resource::OrgUnit(&school.path)),
            _ => p.can(Action::ApplySeal, Resource::OrgUnit(&school.path)),
        })
        .collect()
}

pub async fn class_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let (class, school, of_record) = api::class_for(&st, &p, class_id).await?;
    let roles = class_roles(&p, &school, class_id, of_record);
    let mut missing = vec![];
    let mut usable = vec![];
    for r in &roles {
        match identity(&st, &p, school.id, r).await {
            Ok(_) => usable.push(*r),
            Err(e) => missing.push(crate::api::message(ctx.locale, &e)),
        }
    }
    let data = api::class_rows(&st, class_id).await?;
    let mut rows = vec![];
    let mut sign_all = 0;
    let mut not_opened = 0;
    for (i, (_, name, d)) in data.into_iter().enumerate() {
        let state = status_key(d.as_ref());
        if d.as_ref()
            .is_none_or(|d| !matches!(d.status.as_str(), "signing" | "issued"))
        {
            not_opened += 1;
        }
        let next = d
            .as_ref()
            .and_then(|d| d.next_role.clone())
            .filter(|_| state.starts_with("awaiting"));
        let sign_role = next.clone().filter(|r| roles.contains(&r.as_str()));
        if sign_role.as_deref().is_some_and(|r| usable.contains(&r)) {
            sign_all += 1;
        }
        rows.push(DocRow {
            n: i + 1,
            learner: name,
            doc_id: d.as_ref().map(|d| d.doc_id.clone()),
            status: status_label(t, state),
            state,
            next: next.as_deref().map(|r| role_label(t, r)).unwrap_or_default(),
            sign_label: sign_role
                .as_deref()
                .map(|r| t.f("credentials.ui.sign_as", "role", &role_label(t, r)))
                .unwrap_or_default(),
            sign_role,
        });
    }
    Ok(page(&ClassPage {
        l: Layout::new(&ctx, format!("{} — {}", t.s("credentials.ui.title"), class.name)),
        configured: configured(&st),
        class_id,
        class_name: class.name,
        school_year: class.school_year,
        school_id: school.id,
        can_open: p.can(Action::IssueCredentials, Resource::OrgUnit(&school.path)) && not_opened > 0,
        can_identities: p.can(Action::ManageSigningIdentities, Resource::OrgUnit(&school.path)),
        school_name: school.name,
        rows,
        not_opened,
        sign_all,
        sign_roles: roles
            .iter()
            .filter(|r| usable.contains(r))
            .map(|r| role_label(t, r))
            .collect::<Vec<_>>()
            .join(", "),
        missing,
    }))
}

pub async fn open_class(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    let (_, school, _) = api::class_for(&st, &p, class_id).await?;
    p.require(Action::IssueCredentials, Resource::OrgUnit(&school.path))?;
    let back = format!("/hoc-ba/lop/{class_id}");
    let r = async {
        let (opened, skipped) =
            crate::credentials::open_class(&st, &p.actor_ref(), class_id, crate::today()).await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.opened",
            vec![
                ("opened", opened.len().to_string()),
                ("skipped", skipped.to_string()),
            ],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

/// "Ký tất cả": every document of the class that waits for the caller, signed in every role the
/// caller holds in turn (a principal who also keeps the seal signs and seals).
pub async fn sign_all(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    let (_, school, of_record) = api::class_for(&st, &p, class_id).await?;
    let roles = class_roles(&p, &school, class_id, of_record);
    if roles.is_empty() {
        return Err(AppError::forbidden());
    }
    let back = format!("/hoc-ba/lop/{class_id}");
    let docs = store_cred::class_docs(&st.store.db, class_id).await?;
    let mut signed = 0;
    let mut issued = 0;
    let mut stopped = None;
    for d in store_cred::latest_per_learner(&docs).into_values() {
        if d.status != "signing" || !d.next_role.as_deref().is_some_and(|r| roles.contains(&r)) {
            continue;
        }
        let c = DocCtx {
            doc: d.clone(),
            issuer: school.clone(),
            of_record,
        };
        let (after, n, err) = api::sign_through(&st, &p, c, &|_| true).await;
        signed += n;
        if after.doc.status == "issued" {
            issued += 1;
        }
        if let Some(e) = err {
            stopped = Some(e);
            break;
        }
    }
    if issued > 0 {
        crate::credentials::publish(&st).await?;
    }
    match stopped {
        Some(e) if e.status.is_server_error() || e.status == StatusCode::FORBIDDEN => Err(e),
        Some(e) => Ok(flash_redirect(
            &back,
            "error",
            "credentials.ui.signed_stopped",
            vec![
                ("count", signed.to_string()),
                ("reason", crate::api::message(ctx.locale, &e)),
            ],
        )),
        None if signed == 0 => Ok(flash_redirect(
            &back,
            "info",
            "credentials.ui.nothing_to_sign",
            vec![],
        )),
        None => Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.signed_all",
            vec![("count", signed.to_string()), ("issued", issued.to_string())],
        )),
    }
}

// ------------------------------------------------------------------ one document

struct SigRow {
    role: String,
    signer: String,
    user: String,
    at: String,
    cert: String,
}

struct CopyRow {
    purpose: String,
    recipient: String,
    by: String,
    at: String,
    leaf: String,
}

#[derive(Template)]
#[template(path = "credentials_doc.html")]
struct DocPage {
    l: Layout,
    doc_id: String,
    title: String,
    learner: String,
    facts: Vec<(String, String)>,
    status: String,
    state: &'static str,
    next: String,
    sign_role: Option<String>,
    sign_label: String,
    missing: Option<String>,
    signatures: Vec<SigRow>,
    leaf_index: Option<i64>,
    revoked: Option<String>,
    corrects: Option<String>,
    corrected_by: Vec<(String, String)>,
    copies: Vec<CopyRow>,
    can_revoke: bool,
    can_correct: bool,
    can_copy: bool,
    issued: bool,
    reasons: Vec<(String, String)>,
    purposes: Vec<(String, String)>,
    back: Option<(String, String)>,
    sha256_data: String,
    sha256_pdf: String,
}

fn short(h: &str) -> String {
    h.chars().take(16).collect()
}

async fn user_name(st: &AppState, id: Option<Uuid>) -> String {
    match id {
        Some(u) => truongso_store::accounts::get_user(&st.store.db, u)
            .await
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => String::new(),
    }
}

fn facts_of(t: Tr, record: Option<&Record>) -> (String, Vec<(String, String)>) {
    let ymd = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| date(&d))
            .unwrap_or_else(|_| s.to_string())
    };
    match record {
        Some(Record::HocBa(h)) => (
            h.learner.full_name.clone(),
            vec![
                (
                    t.s("credentials.ui.date_of_birth").into(),
                    ymd(&h.learner.date_of_birth),
                ),
                (t.s("credentials.ui.school").into(), h.issuer.name.clone()),
                (t.s("credentials.ui.school_year").into(), h.school_year.clone()),
                (t.s("credentials.ui.class").into(), h.class_name.clone()),
                (
                    t.s("credentials.ui.homeroom_teacher").into(),
                    h.homeroom_teacher.clone(),
                ),
                (t.s("credentials.ui.principal").into(), h.principal.clone()),
                (t.s("credentials.ui.issued_on").into(), ymd(&h.issued_on)),
            ],
        ),
        Some(Record::VanBang(v)) => (
            v.learner.full_name.clone(),
            vec![
                (
                    t.s("credentials.ui.date_of_birth").into(),
                    ymd(&v.learner.date_of_birth),
                ),
                (t.s("credentials.field.serial").into(), v.serial.clone()),
                (t.s("credentials.field.register_no").into(), v.register_no.clone()),
                (t.s("credentials.ui.school").into(), v.school_name.clone()),
                (
                    t.s("credentials.ui.graduation_year").into(),
                    v.graduation_year.to_string(),
                ),
                (
                    t.s("credentials.field.classification").into(),
                    v.classification
                        .as_deref()
                        .map(|c| t.s(&format!("credentials.classification.{c}")).to_string())
                        .unwrap_or_else(|| "—".into()),
                ),
                (
                    t.s("credentials.ui.decision").into(),
                    format!("{} — {}", v.decision_no, ymd(&v.decision_date)),
                ),
                (t.s("credentials.ui.issuer").into(), v.issuer.name.clone()),
                (
                    t.s("credentials.field.signer_name").into(),
                    format!("{} {}", v.signer_title, v.signer_name),
                ),
                (t.s("credentials.ui.issued_on").into(), ymd(&v.issued_on)),
            ],
        ),
        None => (String::new(), vec![]),
    }
}

pub async fn document(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(doc_id): Path<String>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let d = load_doc(&st, &p, &doc_id).await?;
    let db = &st.store.db;
    let record = record_of(&st, &d.doc).await?;
    let (learner, facts) = facts_of(t, record.as_ref());
    let state = status_key(Some(&d.doc));
    let next = d.doc.next_role.clone().filter(|_| d.doc.status == "signing");
    let sign_role = next.clone().filter(|r| may_sign(&p, &d, r));
    let missing = match &sign_role {
        Some(r) => identity(&st, &p, d.doc.issuer_id, r)
            .await
            .err()
            .map(|e| crate::api::message(ctx.locale, &e)),
        None => None,
    };
    let mut signatures = vec![];
    for s in &d.doc.signatures {
        signatures.push(SigRow {
            role: role_label(t, &s.role),
            signer: s.signer.clone(),
            user: user_name(&st, s.user_id).await,
            at: datetime(&s.at),
            cert: short(&s.cert_sha256),
        });
    }
    let mut copies = vec![];
    for c in store_cred::copies(db, d.doc.id).await? {
        copies.push(CopyRow {
            purpose: t
                .s(&format!("credentials.copy_purpose.{}", c.purpose))
                .to_string(),
            recipient: c.recipient.unwrap_or_default(),
            by: user_name(&st, c.issued_by).await,
            at: datetime(&c.issued_at),
            leaf: c.leaf_index.map(|l| l.to_string()).unwrap_or_default(),
        });
    }
    let corrects = match d.doc.corrects {
        Some(old) => Some(store_cred::get(db, old).await?.doc_id),
        None => None,
    };
    let corrected_by = store_cred::corrections_of(db, d.doc.id)
        .await?
        .into_iter()
        .map(|c| (c.doc_id.clone(), status_label(t, status_key(Some(&c)))))
        .collect();
    let path = &d.issuer.path;
    let issued = d.doc.status == "issued";
    let back = match (d.doc.kind, d.doc.class_id) {
        (DocKind::HocBa, Some(c)) => Some((
            format!("/hoc-ba/lop/{c}"),
            t.s("credentials.ui.back_to_class").to_string(),
        )),
        (DocKind::VanBang, _) if p.can(Action::ManageDiplomas, Resource::OrgUnit(path)) => Some((
            format!("/van-bang?so={}", d.issuer.id),
            t.s("credentials.ui.back_to_registry").to_string(),
        )),
        _ => Some(("/hoc-ba".into(), t.s("credentials.ui.title").to_string())),
    };
    Ok(page(&DocPage {
        l: Layout::new(&ctx, format!("{} — {}", doc_title(t, record.as_ref()), learner)),
        title: doc_title(t, record.as_ref()),
        learner,
        facts,
        status: status_label(t, state),
        state,
        next: next.as_deref().map(|r| role_label(t, r)).unwrap_or_default(),
        sign_label: sign_role
            .as_deref()
            .map(|r| t.f("credentials.ui.sign_as", "role", &role_label(t, r)))
            .unwrap_or_default(),
        sign_role,
        missing,
        signatures,
        leaf_index: d.doc.leaf_index,
        revoked: d.doc.revoke_reason.as_deref().map(|r| {
            format!(
                "{} ({})",
                t.s(&format!("credentials.revoke_reason.{r}")),
                t.f(
                    "credentials.ui.leaf",
                    "index",
                    &d.doc.revoke_leaf.map(|l| l.to_string()).unwrap_or_default()
                )
            )
        }),
        corrects,
        corrected_by,
        copies,
        can_revoke: issued && p.can(revoke_action(d.doc.kind), Resource::OrgUnit(path)),
        can_correct: issued
            && d.doc.kind == DocKind::HocBa
            && p.can(Action::RevokeCredential, Resource::OrgUnit(path)),
        can_copy: issued && p.can(copy_action(d.doc.kind), Resource::OrgUnit(path)),
        issued: d.doc.leaf_index.is_some(),
        reasons: truongso_core::credentials::event::REVOKE_REASONS
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    t.s(&format!("credentials.revoke_reason.{r}")).to_string(),
                )
            })
            .collect(),
        purposes: truongso_core::credentials::event::COPY_PURPOSES
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    t.s(&format!("credentials.copy_purpose.{r}")).to_string(),
                )
            })
            .collect(),
        back,
        sha256_data: d.doc.sha256_data.clone(),
        sha256_pdf: d.doc.sha256_pdf.clone().unwrap_or_default(),
        doc_id: d.doc.doc_id,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PdfQuery {
    /// Any value: as an attachment rather than shown in the browser.
    tai: Option<String>,
}

/// The PDF as signed so far (the issued one once issued): shown in the browser, or downloaded.
pub async fn pdf(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(doc_id): Path<String>,
    Query(q): Query<PdfQuery>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    let (bytes, _) = store_cred::files(&st.store.db, d.doc.id).await?;
    let disposition = if q.tai.is_some() { "attachment" } else { "inline" };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{}.pdf\"", d.doc.doc_id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The document's offline proof bundle (c2sp.org/tlog-proof) under the newest checkpoint.
pub async fn proof(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(doc_id): Path<String>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    let leaf = d
        .doc
        .leaf_index
        .ok_or_else(|| AppError::new(StatusCode::CONFLICT, "credential_not_issued"))?;
    let bundle = crate::credentials::proof_bundle(&st, leaf as u64)
        .await?
        .ok_or_else(|| AppError::new(StatusCode::CONFLICT, "proof_not_ready"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.tlog-proof\"", d.doc.doc_id),
            ),
        ],
        bundle.to_text(),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignForm {
    role: String,
    /// `lop`: back to the class page.
    back: String,
}

pub async fn sign(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(doc_id): Path<String>,
    PageForm(f): PageForm<SignForm>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    let back = match (f.back.as_str(), d.doc.class_id) {
        ("lop", Some(c)) => format!("/hoc-ba/lop/{c}"),
        _ => format!("/van-ban/{}", d.doc.doc_id),
    };
    let role = f.role.trim().to_string();
    if !order_of(d.doc.kind).contains(&role.as_str()) {
        return Ok(flash_error(
            &back,
            ctx.locale,
            AppError::invalid("role", truongso_core::DomainError::UnknownCode),
        ));
    }
    let t = Tr(ctx.locale);
    let r = async {
        let doc = api::sign_one(&st, &p, &d, &role).await?;
        if doc.status == "issued" {
            crate::credentials::publish(&st).await?;
            return Ok(flash_redirect(
                &back,
                "success",
                "credentials.ui.signed_issued",
                vec![("doc", doc.doc_id)],
            ));
        }
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.signed_one",
            vec![("role", role_label(t, &role))],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RevokeForm {
    reason: String,
}

pub async fn revoke(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(doc_id): Path<String>,
    PageForm(f): PageForm<RevokeForm>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    p.require(revoke_action(d.doc.kind), Resource::OrgUnit(&d.issuer.path))?;
    let back = format!("/van-ban/{}", d.doc.doc_id);
    let t = Tr(ctx.locale);
    let r = async {
        let reason = check_reason(&f.reason)?;
        crate::credentials::revoke(&st, &p.actor_ref(), &d.doc, reason).await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.revoked",
            vec![(
                "reason",
                t.s(&format!("credentials.revoke_reason.{reason}")).to_string(),
            )],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

/// Re-opens the learner's year from the results as they stand, as a correction of this document.
pub async fn correct(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(doc_id): Path<String>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    p.require(Action::RevokeCredential, Resource::OrgUnit(&d.issuer.path))?;
    let back = format!("/van-ban/{}", d.doc.doc_id);
    let r = async {
        let new = crate::credentials::open_correction(&st, &p.actor_ref(), &d.doc, crate::today()).await?;
        Ok(flash_redirect(
            &format!("/van-ban/{}", new.doc_id),
            "success",
            "credentials.ui.correction_opened",
            vec![("old", d.doc.doc_id.clone())],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CopyForm {
    purpose: String,
    recipient: String,
}

pub async fn copy(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(doc_id): Path<String>,
    PageForm(f): PageForm<CopyForm>,
) -> AppResult<Response> {
    let d = load_doc(&st, &p, &doc_id).await?;
    p.require(copy_action(d.doc.kind), Resource::OrgUnit(&d.issuer.path))?;
    let back = format!("/van-ban/{}", d.doc.doc_id);
    let t = Tr(ctx.locale);
    let r = async {
        let (purpose, recipient) = check_copy(&f.purpose, Some(&f.recipient))?;
        if d.doc.status != "issued" {
            return Err(AppError::new(StatusCode::CONFLICT, "credential_not_issued"));
        }
        crate::credentials::copy(&st, &p.actor_ref(), &d.doc, purpose, recipient.as_deref()).await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.copy_recorded",
            vec![
                (
                    "purpose",
                    t.s(&format!("credentials.copy_purpose.{purpose}")).to_string(),
                ),
                ("recipient", recipient.unwrap_or_else(|| "—".into())),
            ],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

// ------------------------------------------------------------------ the batch issue

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BatchForm {
    school: String,
    year: String,
    sign: Option<String>,
}

pub async fn start_batch(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<BatchForm>,
) -> AppResult<Response> {
    let school_id = crate::pages::parse_uuid(&Some(f.school.clone()), "school")?
        .ok_or_else(|| AppError::invalid("school", truongso_core::DomainError::Required))?;
    let school = crate::scope::school(&st, &p, school_id, Action::IssueCredentials).await?;
    let back = format!("/hoc-ba?school={}", school.id);
    let r = async {
        let year = crate::pages::parse_uuid(&Some(f.year.clone()), "year")?
            .ok_or_else(|| AppError::invalid("year", truongso_core::DomainError::Required))?;
        let id = api::start_batch(&st, &p, school.clone(), year, f.sign.is_some()).await?;
        Ok(axum::response::Redirect::to(&format!("/hoc-ba/tac-vu/{id}")).into_response())
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

#[derive(Template)]
#[template(path = "credentials_batch.html")]
struct BatchPage {
    l: Layout,
    id: Uuid,
    running: bool,
    status: String,
    done: u32,
    total: u32,
    percent: u32,
    report: Option<api::BatchReport>,
    errors: Vec<(String, String)>,
}

pub async fn batch_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let b = api::batch_status(&st, &p, id).await?;
    let running = matches!(b.status.as_str(), "queued" | "running");
    let errors = b
        .report
        .as_ref()
        .map(|r| {
            r.errors
                .iter()
                .map(|e| {
                    (
                        e.place.clone(),
                        match ctx.locale {
                            Locale::Vi => e.message_vi.clone(),
                            Locale::En => e.message_en.clone(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(page(&BatchPage {
        l: Layout::titled(&ctx, "credentials.ui.batch_title"),
        id,
        running,
        status: Tr(ctx.locale)
            .s(&format!("credentials.job.{}", b.status))
            .to_string(),
        percent: if running {
            (b.done * 100).checked_div(b.total).unwrap_or(0).min(100)
        } else {
            100
        },
        done: b.done,
        total: b.total,
        report: b.report,
        errors,
    }))
}

// ------------------------------------------------------------------ signing identities

struct IdentityView {
    id: Uuid,
    role: String,
    holder: String,
    subject: String,
    not_after: String,
    expired: bool,
    backend: String,
}

#[derive(Template)]
#[template(path = "credentials_identities.html")]
struct IdentitiesPage {
    l: Layout,
    configured: bool,
    units: Vec<(Uuid, String)>,
    unit: Option<(Uuid, String)>,
    rows: Vec<IdentityView>,
    roles: Vec<(String, String)>,
    holders: Vec<(String, String)>,
    trust_roots: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UnitQuery {
    unit: Option<String>,
    school: Option<String>,
}

/// The units whose signing identities the caller manages: schools, and the Sở of a registry.
async fn identity_units(st: &AppState, p: &Principal) -> AppResult<Vec<OrgUnit>> {
    let mut out = api::registries(st, p)
        .await?
        .into_iter()
        .filter(|u| p.can(Action::ManageSigningIdentities, Resource::OrgUnit(&u.path)))
        .collect::<Vec<_>>();
    for s in crate::scope::schools_for(st, p, Action::ManageSigningIdentities).await? {
        if !out.iter().any(|u| u.id == s.id) {
            out.push(s);
        }
    }
    Ok(out)
}

/// The unit asked for (authorised), else the caller's first.
async fn identity_unit(st: &AppState, p: &Principal, asked: Option<Uuid>) -> AppResult<Option<OrgUnit>> {
    match asked {
        Some(id) => {
            let u = org::get(&st.store.db, id).await?;
            if !matches!(u.kind, OrgKind::School | OrgKind::ProvinceDept) {
                return Err(AppError::not_found());
            }
            p.require(Action::ManageSigningIdentities, Resource::OrgUnit(&u.path))?;
            Ok(Some(u))
        }
        None => match identity_units(st, p).await?.into_iter().next() {
            Some(u) => Ok(Some(u)),
            None => Err(AppError::forbidden()),
        },
    }
}

fn unit_roles(kind: OrgKind) -> &'static [&'static str] {
    if kind == OrgKind::ProvinceDept {
        &["giam_doc_so"]
    } else {
        &HOC_BA_ROLES
    }
}

pub async fn identities(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let asked = crate::pages::parse_uuid(&q.unit.clone().or(q.school.clone()), "unit")?;
    let unit = identity_unit(&st, &p, asked).await?;
    let units = identity_units(&st, &p).await?;
    let mut rows = vec![];
    let mut holders = vec![];
    let mut roles = vec![];
    if let Some(u) = &unit {
        let now = chrono::Utc::now();
        for i in store_cred::identities(&st.store.db, u.id).await? {
            rows.push(IdentityView {
                id: i.id,
                role: role_label(t, &i.role),
                holder: i
                    .user_name
                    .unwrap_or_else(|| t.s("credentials.ui.holder_unit").to_string()),
                subject: i.subject,
                expired: i.not_after < now,
                not_after: datetime(&i.not_after),
                backend: t.s(&format!("credentials.backend.{}", i.backend)).to_string(),
            });
        }
        roles = unit_roles(u.kind)
            .iter()
            .map(|r| (r.to_string(), role_label(t, r)))
            .collect();
        holders.push(("unit".to_string(), t.s("credentials.ui.holder_unit").to_string()));
        // The unit's own people (not its whole subtree: a Sở's would be the province).
        for (id, name, username) in store_cred::unit_people(&st.store.db, u.id).await? {
            holders.push((id.to_string(), format!("{name} ({username})")));
        }
    }
    Ok(page(&IdentitiesPage {
        l: Layout::titled(&ctx, "credentials.ui.identities_title"),
        configured: configured(&st),
        units: units.iter().map(|u| (u.id, u.name.clone())).collect(),
        unit: unit.as_ref().map(|u| (u.id, u.name.clone())),
        rows,
        roles,
        holders,
        trust_roots: st.credentials.as_ref().map_or(0, |c| c.trust.len()),
    }))
}

/// Who an identity is for: a user who works in the unit (a grant inside it), or the unit itself.
async fn holder_of(st: &AppState, unit: &OrgUnit, role: &str, raw: &str) -> AppResult<Option<Uuid>> {
    if !unit_roles(unit.kind).contains(&role) {
        return Err(AppError::invalid("role", truongso_core::DomainError::UnknownCode));
    }
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid("holder", truongso_core::DomainError::Required));
    }
    if raw == "unit" {
        return Ok(None);
    }
    if role == "con_dau" {
        // The seal is the school's own certificate, never a person's.
        return Err(AppError::invalid(
            "holder",
            truongso_core::DomainError::UnknownCode,
        ));
    }
    let id = Uuid::parse_str(raw)
        .map_err(|_| AppError::invalid("holder", truongso_core::DomainError::UnknownCode))?;
    let grants = truongso_store::accounts::grants_of(&st.store.db, id).await?;
    let inside = grants
        .iter()
        .filter_map(|g| g.grant())
        .any(|g| g.scope.anchor().is_within(&unit.path));
    if !inside {
        return Err(AppError::invalid(
            "holder",
            truongso_core::DomainError::UnknownCode,
        ));
    }
    Ok(Some(id))
}

/// Checks a signer's certificate against the configured trust roots now: it must chain to one,
/// be within its validity, and allow signing.
fn check_certificate(
    c: &crate::credentials::Credentials,
    ders: &[Vec<u8>],
) -> AppResult<truongso_docs::credentials::trust::CertSummary> {
    let leaf = ders.first().ok_or_else(|| {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "certificate_invalid").with("detail", "—")
    })?;
    let others: Vec<&[u8]> = ders[1..].iter().map(Vec::as_slice).collect();
    let report = c.trust.verify_chain(leaf, &others, chrono::Utc::now());
    match report.status {
        ChainStatus::Trusted { .. } => report
            .path
            .first()
            .cloned()
            .ok_or_else(|| AppError::internal("trusted path without certificates")),
        ChainStatus::Expired { subject, not_after } => Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_expired",
        )
        .with("subject", subject)
        .with("date", datetime(&not_after))),
        ChainStatus::NotYetValid { subject, not_before } => Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_not_yet_valid",
        )
        .with("subject", subject)
        .with("date", datetime(&not_before))),
        ChainStatus::UntrustedRoot { top_subject } => Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_untrusted",
        )
        .with("subject", top_subject)),
        other => Err(
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "certificate_invalid")
                .with("detail", other.code()),
        ),
    }
}

/// The DER of a signer's chain (signer first).
fn chain_der(s: &dyn Signer) -> Result<Vec<Vec<u8>>, truongso_docs::credentials::signer::SignerError> {
    s.chain()
        .iter()
        .map(der::Encode::to_der)
        .collect::<Result<_, _>>()
        .map_err(|e| truongso_docs::credentials::signer::SignerError::Certificate(e.to_string()))
}

/// A signer error as a message the user can act on.
fn signer_error(e: truongso_docs::credentials::signer::SignerError) -> AppError {
    let code = match e.code() {
        "signer.pkcs12_read" => "signer_pkcs12_read",
        "signer.pkcs12_password" => "signer_pkcs12_password",
        "signer.pkcs12_no_key" => "signer_pkcs12_no_key",
        "signer.unsupported_key" => "signer_unsupported_key",
        "signer.bad_certificate" => "signer_bad_certificate",
        "signer.key_certificate_mismatch" => "signer_key_certificate_mismatch",
        "signer.pkcs11_module" => "signer_pkcs11_module",
        "signer.pkcs11_token_not_found" => "signer_pkcs11_token_not_found",
        "signer.pkcs11_pin_incorrect" => "signer_pkcs11_pin_incorrect",
        "signer.pkcs11_pin_locked" => "signer_pkcs11_pin_locked",
        "signer.pkcs11_key_not_found" => "signer_pkcs11_key_not_found",
        "signer.pkcs11_certificate_not_found" => "signer_pkcs11_certificate_not_found",
        "signer.remote_config" => "signer_remote_config",
        "signer.remote_unreachable" => "signer_remote_unreachable",
        "signer.remote_unauthorized" => "signer_remote_unauthorized",
        "signer.remote_unknown_key" => "signer_remote_unknown_key",
        _ => "signer_failed",
    };
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code)
}

fn creds(st: &AppState) -> AppResult<std::sync::Arc<crate::credentials::Credentials>> {
    st.credentials
        .clone()
        .ok_or_else(|| AppError::new(StatusCode::CONFLICT, "credentials_not_configured"))
}

/// A file under the credentials directory with a random name: nothing a user typed reaches a path.
fn private_file(c: &crate::credentials::Credentials, ext: &str, bytes: &[u8]) -> AppResult<String> {
    use std::io::Write;
    let dir = c.setup.dir.join("identities");
    std::fs::create_dir_all(&dir).map_err(AppError::internal)?;
    let mut r = [0u8; 16];
    rand::fill(&mut r);
    let name = format!("{}.{ext}", hex::encode(r));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(dir.join(&name)).map_err(AppError::internal)?;
    f.write_all(bytes).map_err(AppError::internal)?;
    Ok(format!("identities/{name}"))
}

struct Registered<'a> {
    unit: &'a OrgUnit,
    role: &'a str,
    holder: Option<Uuid>,
    backend: &'a str,
    config: serde_json::Value,
    secret: Option<&'a str>,
    cert: truongso_docs::credentials::trust::CertSummary,
}

async fn save_identity(st: &AppState, p: &Principal, r: Registered<'_>) -> AppResult<()> {
    let subject = r.cert.common_name.clone().unwrap_or(r.cert.subject.clone());
    store_cred::add_identity(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        NewIdentity {
            user_id: r.holder,
            org_unit_id: r.unit.id,
            role: r.role,
            backend: r.backend,
            config: r.config,
            secret: r.secret,
            cert_sha256: &r.cert.sha256_hex,
            subject: &subject,
            not_after: r.cert.not_after,
        },
    )
    .await?;
    Ok(())
}

fn identities_back(unit: Option<Uuid>) -> String {
    match unit {
        Some(u) => format!("/hoc-ba/chu-ky-so?unit={u}"),
        None => "/hoc-ba/chu-ky-so".into(),
    }
}

/// Registers a PKCS#12 file (uploaded with its password through htmx, which sends the CSRF
/// header): it must open, chain to a trust root and be valid now before it is kept.
pub async fn add_pkcs12(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    // The unit is in the query so it is authorised before the body is read.
    let unit_id = crate::pages::parse_uuid(&q.unit, "unit")?
        .ok_or_else(|| AppError::invalid("unit", truongso_core::DomainError::Required))?;
    let unit = identity_unit(&st, &p, Some(unit_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut form = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &st)
        .await
        .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?;
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| AppError::bad_request("malformed_form").with("detail", e.body_text()))?;
        if name == "file" {
            file = Some(bytes.to_vec());
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let back = identities_back(Some(unit.id));
    let r = async {
        let c = creds(&st)?;
        let role = fields.get("role").cloned().unwrap_or_default();
        let holder = holder_of(
            &st,
            &unit,
            role.trim(),
            fields.get("holder").map_or("", String::as_str),
        )
        .await?;
        let file = file
            .filter(|f| !f.is_empty())
            .ok_or_else(|| AppError::invalid("file", truongso_core::DomainError::Required))?;
        let password = fields.get("password").cloned().unwrap_or_default();
        let (pw, bytes) = (password.clone(), file.clone());
        let chain = tokio::task::spawn_blocking(move || {
            Pkcs12Signer::from_bytes(&bytes, &pw).and_then(|s| chain_der(&s))
        })
        .await
        .map_err(AppError::internal)?
        .map_err(signer_error)?;
        let cert = check_certificate(&c, &chain)?;
        let path = private_file(&c, "p12", &file)?;
        save_identity(
            &st,
            &p,
            Registered {
                unit: &unit,
                role: role.trim(),
                holder,
                backend: "pkcs12",
                config: serde_json::json!({ "file": path }),
                secret: Some(&password),
                cert,
            },
        )
        .await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.identity_added",
            vec![],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Pkcs11Form {
    unit: String,
    role: String,
    holder: String,
    module: String,
    token: String,
    key: String,
    pin: String,
}

/// Where PKCS#11 modules are installed. The server loads the module into its own process, so a
/// path anywhere else (an uploaded file, say) is refused.
const MODULE_DIRS: [&str; 4] = ["/usr/lib/", "/usr/lib64/", "/usr/local/lib/", "/opt/"];

fn check_module(raw: &str) -> AppResult<std::path::PathBuf> {
    let refuse = || AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "pkcs11_module_path");
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid("module", truongso_core::DomainError::Required));
    }
    let path = std::path::Path::new(raw);
    if !path.is_absolute() || !raw.ends_with(".so") {
        return Err(refuse());
    }
    // Resolved, so a link cannot point outside the library directories.
    let real = std::fs::canonicalize(path).map_err(|_| refuse())?;
    let s = real.to_string_lossy();
    if !MODULE_DIRS.iter().any(|d| s.starts_with(d)) {
        return Err(refuse());
    }
    Ok(real)
}

pub async fn add_pkcs11(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<Pkcs11Form>,
) -> AppResult<Response> {
    let unit_id = crate::pages::parse_uuid(&Some(f.unit.clone()), "unit")?
        .ok_or_else(|| AppError::invalid("unit", truongso_core::DomainError::Required))?;
    let unit = identity_unit(&st, &p, Some(unit_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let back = identities_back(Some(unit.id));
    let r = async {
        let c = creds(&st)?;
        let holder = holder_of(&st, &unit, f.role.trim(), &f.holder).await?;
        let module = check_module(&f.module)?;
        let token = blank(&Some(f.token.clone()))
            .ok_or_else(|| AppError::invalid("token", truongso_core::DomainError::Required))?;
        let key = blank(&Some(f.key.clone()))
            .ok_or_else(|| AppError::invalid("key", truongso_core::DomainError::Required))?;
        if f.pin.is_empty() {
            return Err(AppError::invalid("pin", truongso_core::DomainError::Required));
        }
        let (m, tk, k, pin) = (module.clone(), token.clone(), key.clone(), f.pin.clone());
        let signer = tokio::task::spawn_blocking(move || {
            Pkcs11Signer::open(&m, &tk, &pin, &k).and_then(|s| chain_der(&s))
        })
        .await
        .map_err(AppError::internal)?
        .map_err(signer_error)?;
        let cert = check_certificate(&c, &signer)?;
        save_identity(
            &st,
            &p,
            Registered {
                unit: &unit,
                role: f.role.trim(),
                holder,
                backend: "pkcs11",
                config: serde_json::json!({ "module": module.to_string_lossy(), "token": token, "key": key }),
                secret: Some(&f.pin),
                cert,
            },
        )
        .await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.identity_added",
            vec![],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoteForm {
    unit: String,
    role: String,
    holder: String,
    url: String,
    key_id: String,
    token: String,
    ca_pem: String,
}

pub async fn add_remote(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<RemoteForm>,
) -> AppResult<Response> {
    let unit_id = crate::pages::parse_uuid(&Some(f.unit.clone()), "unit")?
        .ok_or_else(|| AppError::invalid("unit", truongso_core::DomainError::Required))?;
    let unit = identity_unit(&st, &p, Some(unit_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let back = identities_back(Some(unit.id));
    let r = async {
        let c = creds(&st)?;
        let holder = holder_of(&st, &unit, f.role.trim(), &f.holder).await?;
        let url = f.url.trim().to_string();
        if url.is_empty() {
            return Err(AppError::invalid("url", truongso_core::DomainError::Required));
        }
        if !url.starts_with("https://") || url.len() > 500 {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "remote_url_https",
            ));
        }
        let key_id = blank(&Some(f.key_id.clone()))
            .ok_or_else(|| AppError::invalid("key_id", truongso_core::DomainError::Required))?;
        let token = blank(&Some(f.token.clone()));
        let ca = blank(&Some(f.ca_pem.clone())).map(|s| s.into_bytes());
        let config = RemoteSignerConfig {
            url: url.clone(),
            key_id: key_id.clone(),
            bearer_token: token.clone(),
            extra_root_ca_pem: ca.clone(),
            timeout: std::time::Duration::from_secs(300),
            poll: std::time::Duration::from_secs(2),
        };
        let chain =
            tokio::task::spawn_blocking(move || RemoteSigner::new(config).and_then(|s| chain_der(&s)))
                .await
                .map_err(AppError::internal)?
                .map_err(signer_error)?;
        let cert = check_certificate(&c, &chain)?;
        let mut cfg = serde_json::json!({ "url": url, "key_id": key_id });
        if let Some(pem) = &ca {
            cfg["ca_file"] = serde_json::Value::String(private_file(&c, "pem", pem)?);
        }
        save_identity(
            &st,
            &p,
            Registered {
                unit: &unit,
                role: f.role.trim(),
                holder,
                backend: "remote",
                config: cfg,
                secret: token.as_deref(),
                cert,
            },
        )
        .await?;
        Ok(flash_redirect(
            &back,
            "success",
            "credentials.ui.identity_added",
            vec![],
        ))
    }
    .await;
    done_or_flash(&back, ctx.locale, r)
}

pub async fn retire_identity(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let unit_id = store_cred::identity_unit(&st.store.db, id).await?;
    let unit = identity_unit(&st, &p, Some(unit_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    store_cred::deactivate_identity(&st.store.db, &p.actor_ref(), id).await?;
    Ok(flash_redirect(
        &identities_back(Some(unit.id)),
        "success",
        "credentials.ui.identity_retired",
        vec![],
    ))
}

// ------------------------------------------------------------------ the diploma registry

struct RegistryRow {
    doc_id: String,
    serial: String,
    register_no: String,
    name: String,
    date_of_birth: String,
    school: String,
    year: String,
    status: String,
}

#[derive(Template)]
#[template(path = "credentials_diplomas.html")]
struct RegistryPage {
    l: Layout,
    configured: bool,
    units: Vec<(Uuid, String)>,
    unit: (Uuid, String),
    q: String,
    rows: Vec<RegistryRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegistryQuery {
    so: Option<String>,
    q: String,
}

pub async fn registry(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<RegistryQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let asked = crate::pages::parse_uuid(&q.so, "so")?;
    let (unit, units) = api::registry_for(&st, &p, asked).await?;
    let query = q.q.trim().to_string();
    if query.chars().count() > 100 {
        return Err(AppError::invalid(
            "q",
            truongso_core::DomainError::TooLong { max: 100 },
        ));
    }
    let entries = store_cred::diplomas(&st.store.db, unit.id, &query, 200).await?;
    let ymd = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| date(&d))
            .unwrap_or_default()
    };
    let rows = entries
        .iter()
        .map(|e| RegistryRow {
            doc_id: e.doc.doc_id.clone(),
            serial: e.serial.clone(),
            register_no: e.register_no.clone(),
            name: e
                .record
                .as_ref()
                .map(|r| r.learner.full_name.clone())
                .unwrap_or_default(),
            date_of_birth: e
                .record
                .as_ref()
                .map(|r| ymd(&r.learner.date_of_birth))
                .unwrap_or_default(),
            school: e
                .record
                .as_ref()
                .map(|r| r.school_name.clone())
                .unwrap_or_default(),
            year: e
                .record
                .as_ref()
                .map(|r| r.graduation_year.to_string())
                .unwrap_or_default(),
            status: status_label(t, status_key(Some(&e.doc))),
        })
        .collect();
    Ok(page(&RegistryPage {
        l: Layout::titled(&ctx, "credentials.ui.registry_title"),
        configured: configured(&st),
        units: units.iter().map(|u| (u.id, u.name.clone())).collect(),
        unit: (unit.id, unit.name),
        q: query,
        rows,
    }))
}

struct GraduateRow {
    learner_id: Uuid,
    name: String,
    date_of_birth: String,
    class_name: String,
    kind: String,
    doc: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "credentials_diploma_new.html")]
struct NewDiplomaPage {
    l: Layout,
    unit: (Uuid, String),
    schools: Vec<(Uuid, String)>,
    school: Option<Uuid>,
    years: Vec<(Uuid, String)>,
    year: Option<Uuid>,
    graduates: Vec<GraduateRow>,
    chosen: Option<GraduateRow>,
    form: DiplomaForm,
    errors: FieldErrors,
    classifications: Vec<(String, String)>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct DiplomaForm {
    so: String,
    school: String,
    year: String,
    learner: String,
    serial: String,
    register_no: String,
    decision_no: String,
    decision_date: String,
    classification: String,
    signer_title: String,
    signer_name: String,
}

async fn render_new_diploma(
    st: &AppState,
    ctx: &crate::ctx::ReqCtx,
    p: &Principal,
    f: DiplomaForm,
    error: Option<AppError>,
) -> AppResult<Response> {
    let t = Tr(ctx.locale);
    let asked = crate::pages::parse_uuid(&Some(f.so.clone()), "so")?;
    let (unit, _) = api::registry_for(st, p, asked).await?;
    let schools: Vec<OrgUnit> = org::in_subtree(&st.store.db, &unit.path, Some(OrgKind::School))
        .await?
        .into_iter()
        .filter(|s| s.is_current())
        .collect();
    let school = match crate::pages::parse_uuid(&Some(f.school.clone()), "school")? {
        Some(id) if schools.iter().any(|s| s.id == id) => Some(id),
        Some(_) => return Err(AppError::not_found()),
        None => None,
    };
    let mut years = vec![];
    let mut year = None;
    let mut graduates = vec![];
    if let Some(s) = school {
        let asked_year = crate::pages::parse_uuid(&Some(f.year.clone()), "year")?;
        let (ys, chosen) = years_of(st, s, asked_year).await?;
        years = ys.iter().map(|y| (y.id, y.name.clone())).collect();
        year = chosen;
        if let Some(y) = year {
            for g in store_cred::graduates(&st.store.db, &st.cipher, s, y).await? {
                graduates.push(GraduateRow {
                    learner_id: g.learner_id,
                    name: g.full_name,
                    date_of_birth: date(&g.date_of_birth),
                    class_name: g.class_name,
                    kind: t
                        .s(&format!("credentials.diploma_type.{}", g.diploma_type))
                        .to_string(),
                    doc: g
                        .diploma
                        .as_ref()
                        .map(|d| (d.doc_id.clone(), status_label(t, status_key(Some(d))))),
                });
            }
        }
    }
    let learner = crate::pages::parse_uuid(&Some(f.learner.clone()), "learner")?;
    let chosen = learner.and_then(|l| {
        graduates.iter().find(|g| g.learner_id == l).map(|g| GraduateRow {
            learner_id: g.learner_id,
            name: g.name.clone(),
            date_of_birth: g.date_of_birth.clone(),
            class_name: g.class_name.clone(),
            kind: g.kind.clone(),
            doc: g.doc.clone(),
        })
    });
    let (l, errors, status) = Layout::titled(ctx, "credentials.ui.new_diploma").with_error(error);
    let mut form = f;
    if form.signer_title.is_empty() {
        form.signer_title = t.s("credentials.ui.default_signer_title").to_string();
    }
    Ok(render(
        status,
        &NewDiplomaPage {
            l,
            unit: (unit.id, unit.name),
            schools: schools.iter().map(|s| (s.id, s.name.clone())).collect(),
            school,
            years,
            year,
            graduates,
            chosen,
            form,
            errors,
            classifications: store_cred::DIPLOMA_CLASSIFICATIONS
                .iter()
                .map(|c| {
                    (
                        c.to_string(),
                        t.s(&format!("credentials.classification.{c}")).to_string(),
                    )
                })
                .collect(),
        },
    ))
}

pub async fn new_diploma(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(f): Query<DiplomaForm>,
) -> AppResult<Response> {
    render_new_diploma(&st, &ctx, &p, f, None).await
}

pub async fn create_diploma(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<DiplomaForm>,
) -> AppResult<Response> {
    // Someone who keeps no registry learns nothing from the form's validation.
    if api::registries(&st, &p).await?.is_empty() {
        return Err(AppError::forbidden());
    }
    let learner_id = crate::pages::parse_uuid(&Some(f.learner.clone()), "learner")?
        .ok_or_else(|| AppError::invalid("learner", truongso_core::DomainError::Required))?;
    let school_year_id = crate::pages::parse_uuid(&Some(f.year.clone()), "year")?
        .ok_or_else(|| AppError::invalid("year", truongso_core::DomainError::Required))?;
    let input = store_cred::DiplomaInput {
        learner_id,
        school_year_id,
        serial: f.serial.clone(),
        register_no: f.register_no.clone(),
        decision_no: f.decision_no.clone(),
        decision_date: f.decision_date.clone(),
        classification: blank(&Some(f.classification.clone())),
        signer_title: f.signer_title.clone(),
        signer_name: f.signer_name.clone(),
    };
    let result = api::open_diploma(&st, &p, &input).await;
    crate::pages::after_write(
        result,
        |doc| {
            flash_redirect(
                &format!("/van-ban/{}", doc.doc_id),
                "success",
                "credentials.ui.diploma_opened",
                vec![("serial", f.serial.trim().to_uppercase())],
            )
        },
        |e| render_new_diploma(&st, &ctx, &p, f.clone(), Some(e)),
    )
    .await
}
