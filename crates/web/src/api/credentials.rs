//! The school workflow of học bạ số and the diploma registry, shared by the pages and the JSON
//! API: who may sign what (the policy in `core::auth`, fed with the facts of one document), which
//! certificate signs for whom, signing one document or a class in turn, the batch issue of a
//! whole school as a background job, and the `/api/v1` handlers.
//!
//! Every handler loads the document, authorises on the document's issuer (a school, or the Sở of
//! a diploma), and only then acts; the service in `crate::credentials` does the signing and the
//! logging.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::credentials as service;
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use truongso_core::auth::{Action, Resource};
use truongso_core::credentials::DocKind;
use truongso_core::i18n::{self, Locale};
use truongso_core::org::OrgKind;
use truongso_store::credentials::{self as store_cred, Doc, HOC_BA_ROLES, Identity};
use truongso_store::org::{self, OrgUnit};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The roles a document is signed in, in order.
pub fn order_of(kind: DocKind) -> &'static [&'static str] {
    match kind {
        DocKind::HocBa => &HOC_BA_ROLES,
        DocKind::VanBang => &["giam_doc_so"],
    }
}

/// A document with the facts the policy needs about it.
#[derive(Debug, Clone)]
pub struct DocCtx {
    pub doc: Doc,
    /// The issuing unit (the school, or the Sở of a diploma).
    pub issuer: OrgUnit,
    /// The caller is the homeroom teacher the document's class records.
    pub of_record: bool,
}

impl DocCtx {
    pub fn issued(&self) -> bool {
        self.doc.status != "signing"
    }

    pub fn resource(&self) -> Resource<'_> {
        Resource::Credentials {
            issuer: &self.issuer.path,
            class_id: self.doc.class_id,
            learner_id: self.doc.learner_id,
            issued: self.issued(),
            homeroom_of_record: self.of_record,
        }
    }
}

/// Whether the caller is the homeroom teacher of record of a class.
pub async fn of_record(st: &AppState, p: &Principal, class_id: Option<Uuid>) -> AppResult<bool> {
    Ok(match class_id {
        Some(c) => store_cred::homeroom_user(&st.store.db, c).await? == Some(p.user.id),
        None => false,
    })
}

/// Loads a document by its public id (HB-…/VB-…) if the caller may see it; 404 for an unknown
/// id, 403 for one the caller may not see.
pub async fn load_doc(st: &AppState, p: &Principal, doc_id: &str) -> AppResult<DocCtx> {
    let doc = store_cred::lean_by_doc_id(&st.store.db, doc_id.trim()).await?;
    let issuer = org::get(&st.store.db, doc.issuer_id).await?;
    let of_record = of_record(st, p, doc.class_id).await?;
    let ctx = DocCtx {
        doc,
        issuer,
        of_record,
    };
    p.require(Action::ViewCredentials, ctx.resource())?;
    Ok(ctx)
}

/// Whether the caller may apply `role`'s signature to this document (turn aside).
pub fn may_sign(p: &Principal, d: &DocCtx, role: &str) -> bool {
    let path = &d.issuer.path;
    match (d.doc.kind, role) {
        (DocKind::HocBa, "gvcn") => p.can(Action::SignAsHomeroom, d.resource()),
        (DocKind::HocBa, "hieu_truong") => p.can(Action::SignAsPrincipal, Resource::OrgUnit(path)),
        (DocKind::HocBa, "con_dau") => p.can(Action::ApplySeal, Resource::OrgUnit(path)),
        (DocKind::VanBang, "giam_doc_so") => p.can(Action::ManageDiplomas, Resource::OrgUnit(path)),
        _ => false,
    }
}

/// The action that revokes, corrects or copies a document of this kind.
pub fn revoke_action(kind: DocKind) -> Action {
    match kind {
        DocKind::HocBa => Action::RevokeCredential,
        DocKind::VanBang => Action::ManageDiplomas,
    }
}

pub fn copy_action(kind: DocKind) -> Action {
    match kind {
        DocKind::HocBa => Action::CopyCredential,
        DocKind::VanBang => Action::ManageDiplomas,
    }
}

/// The certificate that signs for the caller in `role` at `unit`: the person's own identity; for
/// the seal (con dấu) the unit's; for a personal role without a personal identity, one the unit
/// registered for that role (a signing service holding the role's key). An expired certificate
/// signs nothing.
pub async fn identity(st: &AppState, p: &Principal, unit: Uuid, role: &str) -> AppResult<Identity> {
    let db = &st.store.db;
    let mut found = None;
    if role != "con_dau" {
        found = store_cred::identity_for(db, &st.cipher, unit, role, Some(p.user.id)).await?;
    }
    if found.is_none() {
        found = store_cred::identity_for(db, &st.cipher, unit, role, None).await?;
    }
    let role_name = i18n::t(Locale::Vi, &format!("credentials.role.{role}"));
    match found {
        None => Err(AppError::new(StatusCode::CONFLICT, "signing_identity_missing").with("role", role_name)),
        Some(i) if i.not_after < chrono::Utc::now() => {
            Err(AppError::new(StatusCode::CONFLICT, "signing_identity_expired")
                .with("role", role_name)
                .with("date", crate::view::datetime(&i.not_after)))
        }
        Some(i) => Ok(i),
    }
}

/// Signs one document in `role` after checking turn, right and certificate.
pub async fn sign_one(st: &AppState, p: &Principal, d: &DocCtx, role: &str) -> AppResult<Doc> {
    if d.doc.status != "signing" || d.doc.next_role.as_deref() != Some(role) {
        return Err(AppError::new(StatusCode::CONFLICT, "credential_not_awaiting")
            .with("role", i18n::t(Locale::Vi, &format!("credentials.role.{role}"))));
    }
    if !may_sign(p, d, role) {
        return Err(AppError::forbidden());
    }
    let id = identity(st, p, d.doc.issuer_id, role).await?;
    Ok(service::sign(st, &p.actor_ref(), &d.doc, role, id).await?)
}

/// Signs every role the caller holds (and `usable` allows), in turn, starting at the document's
/// next role. Returns the document as it stands, how many signatures were applied, and the error
/// that stopped it.
pub async fn sign_through(
    st: &AppState,
    p: &Principal,
    mut d: DocCtx,
    usable: &(dyn Fn(&str) -> bool + Sync),
) -> (DocCtx, usize, Option<AppError>) {
    let mut n = 0;
    while let Some(role) = d.doc.next_role.clone().filter(|_| d.doc.status == "signing") {
        if !may_sign(p, &d, &role) || !usable(&role) {
            break;
        }
        match sign_one(st, p, &d, &role).await {
            Ok(doc) => {
                d.doc = doc;
                n += 1;
            }
            Err(e) => return (d, n, Some(e)),
        }
    }
    (d, n, None)
}

/// The Sở (province department) a unit belongs to: itself or its nearest such ancestor.
pub async fn department_of(st: &AppState, unit: &OrgUnit) -> AppResult<Option<OrgUnit>> {
    if unit.kind == OrgKind::ProvinceDept {
        return Ok(Some(unit.clone()));
    }
    Ok(org::ancestors(&st.store.db, unit)
        .await?
        .into_iter()
        .find(|u| u.kind == OrgKind::ProvinceDept))
}

/// The status a table shows for a learner's latest document (None: not opened yet).
pub fn status_key(d: Option<&Doc>) -> &'static str {
    match d {
        None => "not_opened",
        Some(d) => match (d.status.as_str(), d.next_role.as_deref()) {
            ("signing", Some("gvcn")) => "awaiting_gvcn",
            ("signing", Some("hieu_truong")) => "awaiting_hieu_truong",
            ("signing", Some("con_dau")) => "awaiting_con_dau",
            ("signing", _) => "awaiting_giam_doc_so",
            ("issued", _) => "issued",
            ("revoked", _) => "revoked",
            _ => "superseded",
        },
    }
}

/// The order of the status columns.
pub const STATUS_KEYS: [&str; 6] = [
    "not_opened",
    "awaiting_gvcn",
    "awaiting_hieu_truong",
    "awaiting_con_dau",
    "issued",
    "revoked",
];

// ------------------------------------------------------------------ the batch issue of a school

/// What a batch job reports when it ends.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct BatchReport {
    pub classes: usize,
    /// Documents opened for signing.
    pub opened: usize,
    /// Learners who already had a document in signing or issued.
    pub skipped: usize,
    /// Signatures applied.
    pub signed: usize,
    /// Documents issued into the log.
    pub issued: usize,
    /// Whether a checkpoint was published after the batch.
    pub published: bool,
    pub errors: Vec<BatchError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchError {
    /// The class (or document) concerned.
    pub place: String,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

fn batch_error(place: String, e: &AppError) -> BatchError {
    BatchError {
        place,
        code: e.code.to_string(),
        message_vi: crate::api::message(Locale::Vi, e),
        message_en: crate::api::message(Locale::En, e),
    }
}

/// Starts the batch issue of a school's year: every class with results opened, then (if asked)
/// every document signed in the roles the caller holds. The job belongs to the caller.
pub async fn start_batch(
    st: &AppState,
    p: &Principal,
    school: OrgUnit,
    school_year_id: Uuid,
    sign: bool,
) -> AppResult<Uuid> {
    p.require(Action::IssueCredentials, Resource::OrgUnit(&school.path))?;
    let year = truongso_store::school_years::get(&st.store.db, school_year_id).await?;
    if year.school_id != school.id {
        return Err(AppError::not_found());
    }
    if st.credentials.is_none() {
        return Err(AppError::new(StatusCode::CONFLICT, "credentials_not_configured"));
    }
    let params = serde_json::json!({"school_id": school.id, "school_year_id": year.id, "sign": sign});
    let id = truongso_store::jobs::create(
        &st.store.db,
        "credential_batch",
        Some(school.id),
        Some(p.user.id),
        params.to_string().into_bytes(),
        0,
    )
    .await?;
    st.set_progress(id, 0, 0);
    let (st, p) = (st.clone(), p.clone());
    tokio::spawn(async move {
        let outcome = match truongso_store::jobs::start(&st.store.db, id).await {
            Ok(_) => run_batch(&st, &p, id, &school, year.id, sign).await,
            Err(e) => Err(e.into()),
        };
        let (ok, result) = match outcome {
            Ok(r) => (r.errors.is_empty(), serde_json::to_value(&r).unwrap_or_default()),
            Err(e) => {
                tracing::error!(job = %id, code = e.code, "batch issue failed");
                (
                    false,
                    serde_json::to_value(BatchReport {
                        errors: vec![batch_error(school.name.clone(), &e)],
                        ..Default::default()
                    })
                    .unwrap_or_default(),
                )
            }
        };
        if let Err(e) = truongso_store::jobs::finish(&st.store.db, id, ok, &result).await {
            tracing::error!(job = %id, error = %e, "could not record the batch outcome");
        }
        st.clear_progress(id);
    });
    Ok(id)
}

async fn run_batch(
    st: &AppState,
    p: &Principal,
    job: Uuid,
    school: &OrgUnit,
    year: Uuid,
    sign: bool,
) -> AppResult<BatchReport> {
    let db = &st.store.db;
    let actor = p.actor_ref();
    let classes = store_cred::classes_with_results(db, school.id, year).await?;
    let counts = store_cred::result_counts(db, school.id, year).await?;
    let before = store_cred::school_year_docs(db, school.id, year).await?;
    let latest = store_cred::latest_per_learner(&before);
    let mut already: HashMap<Uuid, usize> = HashMap::new();
    for d in latest.values() {
        if let (Some(c), "signing" | "issued") = (d.class_id, d.status.as_str()) {
            *already.entry(c).or_insert(0) += 1;
        }
    }
    let to_open: usize = classes
        .iter()
        .map(|c| {
            counts
                .get(&c.id)
                .copied()
                .unwrap_or(0)
                .saturating_sub(already.get(&c.id).copied().unwrap_or(0))
        })
        .sum();
    // The certificates the caller signs with: a missing one is reported once, and its role is
    // left for later rather than failing every document.
    let mut report = BatchReport {
        classes: classes.len(),
        ..Default::default()
    };
    let mut usable: Vec<&str> = vec![];
    if sign {
        for role in HOC_BA_ROLES {
            match identity(st, p, school.id, role).await {
                Ok(_) => usable.push(role),
                Err(e) if role != "gvcn" && e.status == StatusCode::CONFLICT => {
                    let may = match role {
                        "hieu_truong" => p.can(Action::SignAsPrincipal, Resource::OrgUnit(&school.path)),
                        _ => p.can(Action::ApplySeal, Resource::OrgUnit(&school.path)),
                    };
                    if may {
                        report.errors.push(batch_error(school.name.clone(), &e));
                    }
                }
                Err(_) => {}
            }
        }
    }
    let usable_role = |r: &str| usable.contains(&r);
    // The signatures the caller will apply: for each document (new ones start with the homeroom
    // teacher), the run of roles from its next one that the caller may sign.
    let mut planned = 0usize;
    let mut of_record_cache: HashMap<Uuid, bool> = HashMap::new();
    if sign {
        for c in &classes {
            of_record_cache.insert(c.id, of_record(st, p, Some(c.id)).await?);
        }
        let run = |d: &DocCtx| {
            let order = order_of(d.doc.kind);
            let start = d
                .doc
                .next_role
                .as_deref()
                .and_then(|r| order.iter().position(|x| *x == r))
                .unwrap_or(order.len());
            order[start..]
                .iter()
                .take_while(|r| may_sign(p, d, r) && usable_role(r))
                .count()
        };
        for d in latest.values().filter(|d| d.status == "signing") {
            let ctx = DocCtx {
                doc: (*d).clone(),
                issuer: school.clone(),
                of_record: d
                    .class_id
                    .and_then(|c| of_record_cache.get(&c).copied())
                    .unwrap_or(false),
            };
            planned += run(&ctx);
        }
        for c in &classes {
            let new = counts
                .get(&c.id)
                .copied()
                .unwrap_or(0)
                .saturating_sub(already.get(&c.id).copied().unwrap_or(0));
            let mut doc = blank_doc(school.id);
            doc.class_id = Some(c.id);
            let template = DocCtx {
                doc,
                issuer: school.clone(),
                of_record: of_record_cache.get(&c.id).copied().unwrap_or(false),
            };
            planned += new * run(&template);
        }
    }
    let total = (to_open + planned) as u32;
    let mut done = 0u32;
    st.set_progress(job, 0, total);
    let today = crate::today();
    for c in &classes {
        match service::open_class(st, &actor, c.id, today).await {
            Ok((opened, _)) => {
                report.opened += opened.len();
                done += opened.len() as u32;
            }
            Err(e) => report.errors.push(batch_error(c.name.clone(), &e.into())),
        }
        st.set_progress(job, done.min(total), total);
    }
    report.skipped = already.values().sum();
    if sign {
        let docs = store_cred::school_year_docs(db, school.id, year).await?;
        let names: HashMap<Uuid, String> = classes.iter().map(|c| (c.id, c.name.clone())).collect();
        for d in docs.into_iter().filter(|d| d.status == "signing") {
            let of_rec = d
                .class_id
                .and_then(|c| of_record_cache.get(&c).copied())
                .unwrap_or(false);
            let place = format!(
                "{} — {}",
                d.class_id
                    .and_then(|c| names.get(&c).cloned())
                    .unwrap_or_default(),
                d.doc_id
            );
            let ctx = DocCtx {
                doc: d,
                issuer: school.clone(),
                of_record: of_rec,
            };
            let (after, n, err) = sign_through(st, p, ctx, &usable_role).await;
            report.signed += n;
            done += n as u32;
            if after.doc.status == "issued" {
                report.issued += 1;
            }
            if let Some(e) = err {
                report.errors.push(batch_error(place, &e));
            }
            st.set_progress(job, done.min(total.max(done)), total.max(done));
        }
    }
    if report.issued > 0 {
        service::publish(st).await?;
        report.published = true;
    }
    Ok(report)
}

/// A placeholder document used only to ask the policy about documents not yet opened.
fn blank_doc(issuer: Uuid) -> Doc {
    Doc {
        id: Uuid::nil(),
        doc_id: String::new(),
        kind: DocKind::HocBa,
        issuer_id: issuer,
        learner_id: None,
        school_year_id: None,
        class_id: None,
        status: "signing".into(),
        sha256_data: String::new(),
        sha256_pdf: None,
        signatures: vec![],
        next_role: Some("gvcn".into()),
        corrects: None,
        leaf_index: None,
        revoke_leaf: None,
        revoke_reason: None,
        created_at: chrono::Utc::now(),
        issued_at: None,
        version: 0,
    }
}

/// A batch job of the caller, as the page and the API show it.
#[derive(Serialize, ToSchema)]
pub struct BatchDto {
    pub id: Uuid,
    /// `queued`, `running`, `done` or `failed` (failed: some documents could not be handled).
    pub status: String,
    /// Steps done and in all (documents opened plus signatures applied), while running.
    pub done: u32,
    pub total: u32,
    pub report: Option<BatchReport>,
}

pub async fn batch_status(st: &AppState, p: &Principal, id: Uuid) -> AppResult<BatchDto> {
    let job = truongso_store::jobs::get(&st.store.db, id).await?;
    if job.created_by != Some(p.user.id) || job.kind != "credential_batch" {
        return Err(AppError::not_found());
    }
    let (done, total) = match (st.progress(id), job.status.as_str()) {
        (Some(p), _) => p,
        (None, "done" | "failed") => {
            let r: Option<BatchReport> = job.result.clone().and_then(|r| serde_json::from_value(r).ok());
            let n = r.map_or(0, |r| (r.opened + r.signed) as u32);
            (n, n)
        }
        _ => (0, 0),
    };
    Ok(BatchDto {
        id,
        report: job.result.and_then(|r| serde_json::from_value(r).ok()),
        status: job.status,
        done,
        total,
    })
}

// ------------------------------------------------------------------ JSON API

#[derive(Serialize, ToSchema)]
pub struct SignatureDto {
    /// `gvcn`, `hieu_truong`, `con_dau`, `giam_doc_so`.
    pub role: String,
    /// The certificate's subject.
    pub signer: String,
    pub cert_sha256: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CredentialDto {
    /// The public id, `HB-…` or `VB-…`.
    pub doc_id: String,
    /// `hoc_ba` or `van_bang`.
    pub kind: String,
    pub learner_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    pub school_year_id: Option<Uuid>,
    /// `signing`, `issued`, `revoked` or `superseded`.
    pub status: String,
    /// The role whose signature comes next, while signing.
    pub next_role: Option<String>,
    pub signatures: Vec<SignatureDto>,
    /// SHA-256 of the canonical record.
    pub sha256_data: String,
    pub sha256_pdf: Option<String>,
    /// The log leaf that issued it.
    pub leaf_index: Option<i64>,
    pub revoke_reason: Option<String>,
    pub issued_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn dto(d: &Doc) -> CredentialDto {
    CredentialDto {
        doc_id: d.doc_id.clone(),
        kind: d.kind.as_str().into(),
        learner_id: d.learner_id,
        class_id: d.class_id,
        school_year_id: d.school_year_id,
        status: d.status.clone(),
        next_role: d.next_role.clone(),
        signatures: d
            .signatures
            .iter()
            .map(|s| SignatureDto {
                role: s.role.clone(),
                signer: s.signer.clone(),
                cert_sha256: s.cert_sha256.clone(),
                at: s.at,
            })
            .collect(),
        sha256_data: d.sha256_data.clone(),
        sha256_pdf: d.sha256_pdf.clone(),
        leaf_index: d.leaf_index,
        revoke_reason: d.revoke_reason.clone(),
        issued_at: d.issued_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct LearnerCredentialDto {
    pub learner_id: Uuid,
    pub full_name: String,
    /// `not_opened`, `awaiting_gvcn`, `awaiting_hieu_truong`, `awaiting_con_dau`, `issued`,
    /// `revoked`, `superseded`.
    pub state: String,
    /// The latest document (a correction is newer than what it corrects).
    pub document: Option<CredentialDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ClassCredentialsDto {
    pub class_id: Uuid,
    pub class_name: String,
    pub school_year: String,
    pub learners: Vec<LearnerCredentialDto>,
}

/// The class's learners whose year is closed (stored results) and documents, latest per learner.
pub async fn class_rows(st: &AppState, class_id: Uuid) -> AppResult<Vec<(Uuid, String, Option<Doc>)>> {
    let db = &st.store.db;
    let results = truongso_store::gradebook::class_results(db, class_id).await?;
    let docs = store_cred::class_docs(db, class_id).await?;
    let latest = store_cred::latest_per_learner(&docs);
    let mut rows: Vec<(Uuid, String, Option<Doc>)> = results
        .iter()
        .map(|r| {
            (
                r.learner_id,
                r.full_name.clone(),
                latest.get(&r.learner_id).map(|d| (*d).clone()),
            )
        })
        .collect();
    // A document whose learner's result has since gone (moved class) still shows.
    for (l, d) in &latest {
        if !rows.iter().any(|(x, _, _)| x == l) {
            let name = truongso_store::people::get_learner(db, &st.cipher, *l)
                .await
                .map(|x| x.full_name)
                .unwrap_or_default();
            rows.push((*l, name, Some((*d).clone())));
        }
    }
    Ok(rows)
}

/// The class and its school, if the caller may see the class's documents.
pub async fn class_for(
    st: &AppState,
    p: &Principal,
    class_id: Uuid,
) -> AppResult<(truongso_store::gradebook::ClassInfo, OrgUnit, bool)> {
    let class = truongso_store::gradebook::class_info(&st.store.db, class_id).await?;
    let school = org::get(&st.store.db, class.school_id).await?;
    let rec = of_record(st, p, Some(class_id)).await?;
    p.require(
        Action::ViewCredentials,
        Resource::Credentials {
            issuer: &school.path,
            class_id: Some(class_id),
            learner_id: None,
            issued: false,
            homeroom_of_record: rec,
        },
    )?;
    Ok((class, school, rec))
}

/// The học bạ of a class: every learner whose year is closed, with their latest document.
#[utoipa::path(get, path = "/api/v1/classes/{id}/credentials", tag = "credentials", params(("id" = Uuid, Path)),
    responses((status = 200, body = ClassCredentialsDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn class_credentials(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<ClassCredentialsDto> {
    let (class, _, _) = class_for(&st, &p, id).await?;
    let rows = class_rows(&st, id).await?;
    Ok(Json(ClassCredentialsDto {
        class_id: id,
        class_name: class.name,
        school_year: class.school_year,
        learners: rows
            .into_iter()
            .map(|(l, name, d)| LearnerCredentialDto {
                learner_id: l,
                full_name: name,
                state: status_key(d.as_ref()).into(),
                document: d.as_ref().map(dto),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// The role to sign in: `gvcn`, `hieu_truong`, `con_dau` (học bạ) or `giam_doc_so` (diploma).
    /// It must be the document's next role.
    pub role: String,
}

/// Signs a document in its next role with the caller's registered certificate; the last
/// signature issues it into the log (and publishes a checkpoint).
#[utoipa::path(post, path = "/api/v1/credentials/{doc_id}/sign", tag = "credentials", params(("doc_id" = String, Path)), request_body = SignBody,
    responses((status = 200, body = CredentialDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn sign(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(doc_id): Path<String>,
    ApiJson(b): ApiJson<SignBody>,
) -> ApiResult<CredentialDto> {
    let d = load_doc(&st, &p, &doc_id).await?;
    let role = b.role.trim();
    if !order_of(d.doc.kind).contains(&role) {
        return Err(AppError::invalid("role", truongso_core::DomainError::UnknownCode));
    }
    let doc = sign_one(&st, &p, &d, role).await?;
    if doc.status == "issued" {
        service::publish(&st).await?;
    }
    Ok(Json(dto(&doc)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// `data_error`, `issued_in_error`, `fraud`, `court_order`, `replaced`.
    pub reason: String,
}

/// Revokes an issued document: a revoke event in the log, then its status.
#[utoipa::path(post, path = "/api/v1/credentials/{doc_id}/revoke", tag = "credentials", params(("doc_id" = String, Path)), request_body = RevokeBody,
    responses((status = 200, body = CredentialDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn revoke(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(doc_id): Path<String>,
    ApiJson(b): ApiJson<RevokeBody>,
) -> ApiResult<CredentialDto> {
    let d = load_doc(&st, &p, &doc_id).await?;
    p.require(revoke_action(d.doc.kind), Resource::OrgUnit(&d.issuer.path))?;
    let reason = check_reason(&b.reason)?;
    let doc = service::revoke(&st, &p.actor_ref(), &d.doc, reason).await?;
    Ok(Json(dto(&doc)))
}

/// A revocation reason from the closed list.
pub fn check_reason(raw: &str) -> AppResult<&'static str> {
    truongso_core::credentials::event::REVOKE_REASONS
        .iter()
        .copied()
        .find(|r| *r == raw.trim())
        .ok_or_else(|| {
            if raw.trim().is_empty() {
                AppError::invalid("reason", truongso_core::DomainError::Required)
            } else {
                AppError::invalid("reason", truongso_core::DomainError::UnknownCode)
            }
        })
}

/// A copy purpose from the closed list, and the recipient (cleaned, at most 200 characters).
pub fn check_copy(purpose: &str, recipient: Option<&str>) -> AppResult<(&'static str, Option<String>)> {
    let purpose = truongso_core::credentials::event::COPY_PURPOSES
        .iter()
        .copied()
        .find(|r| *r == purpose.trim())
        .ok_or_else(|| {
            if purpose.trim().is_empty() {
                AppError::invalid("purpose", truongso_core::DomainError::Required)
            } else {
                AppError::invalid("purpose", truongso_core::DomainError::UnknownCode)
            }
        })?;
    let recipient = recipient
        .map(truongso_core::text::clean)
        .filter(|r| !r.is_empty());
    if let Some(r) = &recipient {
        if r.chars().count() > 200 {
            return Err(AppError::invalid(
                "recipient",
                truongso_core::DomainError::TooLong { max: 200 },
            ));
        }
        if r.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "recipient",
                truongso_core::DomainError::InvalidCharacters,
            ));
        }
    }
    Ok((purpose, recipient))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    /// `extract` (trích lục) or `certified_copy` (bản sao).
    pub purpose: String,
    /// Who receives it (a school, an office, the holder).
    pub recipient: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CopyDto {
    pub doc_id: String,
    pub purpose: String,
    pub recipient: Option<String>,
    /// SHA-256 of the PDF handed out.
    pub sha256_pdf: String,
    /// The document's `.tlog-proof` bundle (c2sp.org/tlog-proof), when a checkpoint covers it.
    pub proof: Option<String>,
}

/// Records a copy or extract handed out: a copy event in the log and the registry of copies.
#[utoipa::path(post, path = "/api/v1/credentials/{doc_id}/copies", tag = "credentials", params(("doc_id" = String, Path)), request_body = CopyBody,
    responses((status = 200, body = CopyDto), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn copy(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(doc_id): Path<String>,
    ApiJson(b): ApiJson<CopyBody>,
) -> ApiResult<CopyDto> {
    let d = load_doc(&st, &p, &doc_id).await?;
    p.require(copy_action(d.doc.kind), Resource::OrgUnit(&d.issuer.path))?;
    let (purpose, recipient) = check_copy(&b.purpose, b.recipient.as_deref())?;
    if d.doc.status != "issued" {
        return Err(AppError::new(StatusCode::CONFLICT, "credential_not_issued"));
    }
    let (pdf, proof) = service::copy(&st, &p.actor_ref(), &d.doc, purpose, recipient.as_deref()).await?;
    Ok(Json(CopyDto {
        doc_id: d.doc.doc_id,
        purpose: purpose.into(),
        recipient,
        sha256_pdf: truongso_core::credentials::sha256_hex(&pdf),
        proof: proof.map(|p| p.to_text()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    /// Also sign, in the roles the caller holds, every document that waits for them.
    #[serde(default)]
    pub sign: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BatchStarted {
    pub job_id: Uuid,
}

/// Starts the batch issue of a school's year (background job).
#[utoipa::path(post, path = "/api/v1/credential-batches", tag = "credentials", request_body = BatchBody,
    responses((status = 202, body = BatchStarted), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<BatchBody>,
) -> AppResult<(StatusCode, Json<BatchStarted>)> {
    let school = crate::scope::school(&st, &p, b.school_id, Action::IssueCredentials).await?;
    let id = start_batch(&st, &p, school, b.school_year_id, b.sign).await?;
    Ok((StatusCode::ACCEPTED, Json(BatchStarted { job_id: id })))
}

/// Progress and outcome of one of the caller's batch jobs.
#[utoipa::path(get, path = "/api/v1/credential-batches/{id}", tag = "credentials", params(("id" = Uuid, Path)),
    responses((status = 200, body = BatchDto), (status = 404, body = crate::api::ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<BatchDto> {
    Ok(Json(batch_status(&st, &p, id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct RegistryQuery {
    /// The issuing Sở; the caller's first one when absent.
    pub issuer_id: Option<Uuid>,
    /// Số hiệu, số vào sổ gốc (exact) or part of the holder's name.
    pub q: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DiplomaDto {
    pub serial: String,
    pub register_no: String,
    pub full_name: String,
    /// YYYY-MM-DD.
    pub date_of_birth: String,
    pub school_name: String,
    pub graduation_year: u16,
    pub diploma_type: String,
    pub classification: Option<String>,
    pub document: CredentialDto,
}

/// The Sở units the caller keeps a diploma registry for.
pub async fn registries(st: &AppState, p: &Principal) -> AppResult<Vec<OrgUnit>> {
    let mut out: Vec<OrgUnit> = vec![];
    for g in &p.actor.grants {
        let anchor = g.scope.anchor();
        let units = org::in_subtree(&st.store.db, anchor, Some(OrgKind::ProvinceDept)).await?;
        for u in units {
            if u.is_current()
                && p.can(Action::ManageDiplomas, Resource::OrgUnit(&u.path))
                && !out.iter().any(|o| o.id == u.id)
            {
                out.push(u);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The registry the caller asked for (or their first), authorised.
pub async fn registry_for(
    st: &AppState,
    p: &Principal,
    asked: Option<Uuid>,
) -> AppResult<(OrgUnit, Vec<OrgUnit>)> {
    let all = registries(st, p).await?;
    let unit = match asked {
        Some(id) => {
            let u = org::get(&st.store.db, id).await?;
            p.require(Action::ManageDiplomas, Resource::OrgUnit(&u.path))?;
            if u.kind != OrgKind::ProvinceDept {
                return Err(AppError::not_found());
            }
            u
        }
        None => all.first().cloned().ok_or_else(AppError::forbidden)?,
    };
    Ok((unit, all))
}

pub fn diploma_dto(e: &store_cred::RegistryEntry) -> DiplomaDto {
    let r = e.record.as_ref();
    DiplomaDto {
        serial: e.serial.clone(),
        register_no: e.register_no.clone(),
        full_name: r.map(|r| r.learner.full_name.clone()).unwrap_or_default(),
        date_of_birth: r.map(|r| r.learner.date_of_birth.clone()).unwrap_or_default(),
        school_name: r.map(|r| r.school_name.clone()).unwrap_or_default(),
        graduation_year: r.map_or(0, |r| r.graduation_year),
        diploma_type: r.map(|r| r.diploma_type.clone()).unwrap_or_default(),
        classification: r.and_then(|r| r.classification.clone()),
        document: dto(&e.doc),
    }
}

/// The diploma registry of a Sở, newest first (at most 200), optionally searched.
#[utoipa::path(get, path = "/api/v1/diplomas", tag = "credentials", params(RegistryQuery),
    responses((status = 200, body = Vec<DiplomaDto>), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list_diplomas(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<RegistryQuery>,
) -> ApiResult<Vec<DiplomaDto>> {
    let (unit, _) = registry_for(&st, &p, q.issuer_id).await?;
    let rows = store_cred::diplomas(&st.store.db, unit.id, q.q.as_deref().unwrap_or(""), 200).await?;
    Ok(Json(rows.iter().map(diploma_dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiplomaBody {
    pub learner_id: Uuid,
    /// The school year the learner completed the level in.
    pub school_year_id: Uuid,
    /// Số hiệu văn bằng.
    pub serial: String,
    /// Số vào sổ gốc cấp văn bằng.
    pub register_no: String,
    /// Số quyết định công nhận tốt nghiệp.
    pub decision_no: String,
    /// YYYY-MM-DD.
    pub decision_date: String,
    /// `xuat_sac`, `gioi`, `kha`, `trung_binh`.
    pub classification: Option<String>,
    /// e.g. "Giám đốc", "KT. Giám đốc — Phó Giám đốc".
    pub signer_title: String,
    pub signer_name: String,
}

impl From<DiplomaBody> for store_cred::DiplomaInput {
    fn from(b: DiplomaBody) -> Self {
        Self {
            learner_id: b.learner_id,
            school_year_id: b.school_year_id,
            serial: b.serial,
            register_no: b.register_no,
            decision_no: b.decision_no,
            decision_date: b.decision_date,
            classification: b.classification,
            signer_title: b.signer_title,
            signer_name: b.signer_name,
        }
    }
}

/// Checks that the learner's school lies under a Sở the caller keeps the registry of, and opens
/// the diploma there.
pub async fn open_diploma(st: &AppState, p: &Principal, input: &store_cred::DiplomaInput) -> AppResult<Doc> {
    // The learner's school that year (they may have moved on since) decides the Sở.
    let Some(school_id) =
        store_cred::result_school(&st.store.db, input.learner_id, input.school_year_id).await?
    else {
        // Say nothing about a learner to a caller who keeps no registry at all.
        if registries(st, p).await?.is_empty() {
            return Err(AppError::forbidden());
        }
        return Err(AppError::new(StatusCode::CONFLICT, "not_a_graduate"));
    };
    let school = org::get(&st.store.db, school_id).await?;
    let so = department_of(st, &school)
        .await?
        .ok_or_else(AppError::forbidden)?;
    p.require(Action::ManageDiplomas, Resource::OrgUnit(&so.path))?;
    Ok(service::open_diploma(st, &p.actor_ref(), input, crate::today()).await?)
}

/// Opens a diploma in the registry (it then waits for the director's signature).
#[utoipa::path(post, path = "/api/v1/diplomas", tag = "credentials", request_body = DiplomaBody,
    responses((status = 201, body = CredentialDto), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_diploma(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<DiplomaBody>,
) -> AppResult<(StatusCode, Json<CredentialDto>)> {
    let doc = open_diploma(&st, &p, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(dto(&doc))))
}
