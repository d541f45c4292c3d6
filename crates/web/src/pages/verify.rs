//! The public side of học bạ số and văn bằng số, open to anyone without an account:
//!
//! - `/xac-minh`: upload a PDF (and/or arrive from a scanned QR code with `?doc=…&h=…`) and read
//!   the verdict, one line per check, in Vietnamese (English through the language switch);
//! - `/xac-minh/<doc_id>.tlog-proof`: the document's offline proof bundle;
//! - `/tra-cuu-van-bang`: the diploma lookup of Thông tư 21/2019 (số hiệu + họ và tên + ngày sinh).
//!
//! Nothing here is behind a login, so every entry is validated precisely, uploads are size- and
//! type-limited, and verification and lookups are rate-limited per client address. Personal data
//! is shown only to someone who already has it: the facts of a record only when the uploaded file
//! itself proves them, a diploma only when all three typed fields match. A `doc`+`h` query shows
//! what the public log holds (status and hashes), nothing from the database's records.

use crate::AppState;
use crate::ctx::Ctx;
use crate::ctx::ReqCtx;
use crate::error::{AppError, AppResult};
use crate::pages::PageForm;
use crate::routes::{Access, Builder};
use crate::view::{FieldErrors, Layout, Tr, render};
use askama::Template;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use truongso_core::DomainError;
use truongso_core::credentials::DocKind;
use truongso_core::credentials::event::{Event, EventType, Status, status_of};
use truongso_core::credentials::record::{Record, VanBang, valid_doc_id};
use truongso_core::credentials::verdict::{Check, Line};
use truongso_core::i18n::Locale;
use truongso_store::ActorRef;
use truongso_store::credentials as store_cred;
use truongso_store::ledger;
use utoipa::ToSchema;

/// `upload` is the largest PDF accepted, in bytes.
pub(crate) fn routes(b: Builder, upload: usize) -> Builder {
    use axum::extract::DefaultBodyLimit;
    b.add("GET", "/xac-minh", Access::Public, get(form))
        .add(
            "POST",
            "/xac-minh",
            Access::Public,
            post(upload_pdf).layer(DefaultBodyLimit::max(upload)),
        )
        .add("GET", "/xac-minh/{file}", Access::Public, get(proof_file))
        .add("GET", "/tra-cuu-van-bang", Access::Public, get(lookup_form))
        .add("POST", "/tra-cuu-van-bang", Access::Public, post(lookup_submit))
}

// ---------------------------------------------------------------------------------------------
// Rate limits

/// A fixed-window counter per client address.
#[derive(Debug)]
pub struct RateLimiter {
    pub max: u32,
    pub window: Duration,
    hits: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one use by `ip`; when the window's allowance is spent, the seconds until it ends.
    pub fn hit(&self, ip: IpAddr) -> Result<(), u64> {
        let key = limit_key(ip);
        let mut map = self.hits.lock().expect("rate limiter lock");
        if map.len() > 10_000 {
            // Forget finished windows so the map cannot grow without bound.
            let window = self.window;
            map.retain(|_, (start, _)| start.elapsed() < window);
        }
        let now = Instant::now();
        let e = map.entry(key).or_insert((now, 0));
        if now.duration_since(e.0) >= self.window {
            *e = (now, 0);
        }
        if e.1 >= self.max {
            let left = self.window.saturating_sub(now.duration_since(e.0));
            return Err(left.as_secs().max(1));
        }
        e.1 += 1;
        Ok(())
    }
}

/// One IPv6 customer usually holds a whole /64, so addresses count per /64.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let mut o = v6.octets();
            o[8..].fill(0);
            IpAddr::V6(o.into())
        }
        v4 => v4,
    }
}

/// The limits of the public pages and API.
#[derive(Debug)]
pub struct PublicLimits {
    /// Uploads verified, QR codes looked up and document statuses asked for.
    pub verify: RateLimiter,
    /// Diploma lookups (each reaches the register of personal data).
    pub lookup: RateLimiter,
}

impl Default for PublicLimits {
    fn default() -> Self {
        Self {
            verify: RateLimiter::new(30, Duration::from_secs(60)),
            lookup: RateLimiter::new(10, Duration::from_secs(10 * 60)),
        }
    }
}

/// The client address: the TCP peer, or the first `X-Forwarded-For` hop behind a trusted proxy.
pub(crate) fn client_ip(st: &AppState, headers: &HeaderMap, ctx: &ReqCtx) -> IpAddr {
    let forwarded = st.cfg.behind_proxy.then(|| {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    });
    forwarded
        .flatten()
        .or(ctx.peer.map(|p| p.ip()))
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

pub(crate) fn verify_limited(secs: u64) -> AppError {
    AppError::new(StatusCode::TOO_MANY_REQUESTS, "public.verify_rate_limited").with("seconds", secs)
}

pub(crate) fn lookup_limited(secs: u64) -> AppError {
    AppError::new(StatusCode::TOO_MANY_REQUESTS, "public.lookup_rate_limited")
        .with("minutes", secs.div_ceil(60))
}

/// Adds `Retry-After` to a 429 answer.
pub(crate) fn retry_after(mut r: Response, e: &AppError) -> Response {
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        let secs = e
            .params
            .iter()
            .find_map(|(k, v)| match *k {
                "seconds" => v.parse::<u64>().ok(),
                "minutes" => v.parse::<u64>().ok().map(|m| m * 60),
                _ => None,
            })
            .unwrap_or(60);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Input

fn field_error(status: StatusCode, field: &'static str, code: &'static str) -> AppError {
    AppError {
        field: Some(field),
        ..AppError::new(status, code)
    }
}

/// The document id and hash a QR code carries, as typed or scanned: both or neither, each
/// well-formed. Ids are upper-cased and hashes lower-cased, so a hand-typed one still matches.
pub(crate) fn parse_qr(
    doc: Option<&str>,
    h: Option<&str>,
) -> Result<Option<(String, String)>, Vec<AppError>> {
    let doc = doc
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_uppercase);
    let h = h.map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let mut errors = vec![];
    match (&doc, &h) {
        (None, None) => return Ok(None),
        (Some(_), None) => errors.push(field_error(unprocessable, "h", "public.qr_incomplete")),
        (None, Some(_)) => errors.push(field_error(unprocessable, "doc", "public.qr_incomplete")),
        _ => {}
    }
    if doc.as_deref().is_some_and(|d| !valid_doc_id(d)) {
        errors.push(field_error(unprocessable, "doc", "public.bad_doc_id"));
    }
    if h.as_deref()
        .is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        errors.push(field_error(unprocessable, "h", "public.bad_hash"));
    }
    match (doc, h) {
        (Some(d), Some(h)) if errors.is_empty() => Ok(Some((d, h))),
        _ => Err(errors),
    }
}

/// An uploaded PDF to verify, with the QR code's claim when one came along.
pub(crate) struct Upload {
    pub pdf: Vec<u8>,
    pub qr: Option<(String, String)>,
}

const PDF_MIME: &str = "application/pdf";

/// What the upload limit reads as in messages.
pub(crate) fn mib(bytes: usize) -> String {
    let m = bytes as f64 / (1024.0 * 1024.0);
    if m.fract() == 0.0 {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

fn too_large(st: &AppState) -> AppError {
    field_error(StatusCode::PAYLOAD_TOO_LARGE, "file", "public.file_too_large")
        .with("max", mib(st.cfg.max_upload_bytes))
}

fn multipart_error(st: &AppState, e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(st)
    } else {
        AppError::bad_request("malformed_form").with("detail", e.body_text())
    }
}

/// Reads the multipart form: `file` (one PDF, `application/pdf`, not empty, within the upload
/// limit) and optionally `doc` and `h` from a QR code. Every problem is returned, each on its
/// field, so the form can show them all at once.
pub(crate) async fn read_upload(st: &AppState, req: Request) -> Result<Upload, Vec<AppError>> {
    let mut form = match axum::extract::Multipart::from_request(req, st).await {
        Ok(f) => f,
        Err(_) => {
            return Err(vec![field_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "file",
                "public.not_multipart",
            )]);
        }
    };
    let mut file: Option<Vec<u8>> = None;
    let mut doc = None;
    let mut h = None;
    let mut errors = vec![];
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(vec![multipart_error(st, e)]),
        };
        match field.name() {
            Some("file") => {
                if file.is_some() {
                    return Err(vec![field_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "file",
                        "public.one_file",
                    )]);
                }
                let given = field.file_name().is_some_and(|n| !n.is_empty());
                let mime = field
                    .content_type()
                    .map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
                let bytes = field.bytes().await.map_err(|e| vec![multipart_error(st, e)])?;
                if bytes.len() > st.cfg.max_upload_bytes {
                    return Err(vec![too_large(st)]);
                }
                if bytes.is_empty() && !given {
                    // A form sent with no file chosen: the browser still sends an empty part.
                    file = Some(vec![]);
                    continue;
                }
                match mime.as_deref() {
                    Some(PDF_MIME) => {}
                    other => {
                        errors.push(
                            field_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "file", "public.not_pdf_type")
                                .with("type", other.unwrap_or("-")),
                        );
                    }
                }
                if bytes.is_empty() {
                    errors.push(field_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "file",
                        "public.empty_file",
                    ));
                }
                file = Some(bytes.to_vec());
            }
            Some(name @ ("doc" | "h")) => {
                let name = name.to_string();
                let text = field.text().await.map_err(|e| vec![multipart_error(st, e)])?;
                if text.len() > 200 {
                    let (field, code) = if name == "doc" {
                        ("doc", "public.bad_doc_id")
                    } else {
                        ("h", "public.bad_hash")
                    };
                    errors.push(field_error(StatusCode::UNPROCESSABLE_ENTITY, field, code));
                    continue;
                }
                if name == "doc" {
                    doc = Some(text)
                } else {
                    h = Some(text)
                }
            }
            // Anything else (the page's own hidden fields, a client's extras) is not read.
            _ => {}
        }
    }
    let qr = match parse_qr(doc.as_deref(), h.as_deref()) {
        Ok(qr) => qr,
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    match file {
        Some(pdf) if !pdf.is_empty() && errors.is_empty() => Ok(Upload { pdf, qr }),
        Some(pdf) if pdf.is_empty() && errors.is_empty() => Err(vec![field_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            "public.file_missing",
        )]),
        None => {
            errors.insert(
                0,
                field_error(StatusCode::UNPROCESSABLE_ENTITY, "file", "public.file_missing"),
            );
            Err(errors)
        }
        _ => Err(errors),
    }
}

pub(crate) fn require_credentials(st: &AppState) -> AppResult<()> {
    if st.credentials.is_none() {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "public.not_configured",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What the log says about a document

/// A document's standing as the public log records it: ids, hashes, leaf indexes and codes,
/// nothing personal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogStatus {
    pub doc_id: String,
    /// `hoc_ba` or `van_bang`.
    pub kind: String,
    /// `issued` (standing), `revoked` or `superseded` (replaced by a correction).
    pub status: String,
    /// The revocation reason code, when revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_reason: Option<String>,
    /// The leaf of the revocation or of the correction that replaced the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by_leaf: Option<u64>,
    /// The leaf of the event that issued the document (or corrected into it).
    pub leaf_index: u64,
    /// SHA-256 (hex) of the canonical record, as the log committed to it.
    pub sha256_data: Option<String>,
    /// SHA-256 (hex) of the final signed PDF.
    pub sha256_pdf: Option<String>,
    /// Size of the newest published checkpoint (0 before the first).
    pub checkpoint_size: u64,
    /// Whether that checkpoint covers the issuing leaf (a proof bundle exists).
    pub in_checkpoint: bool,
    /// When the event was logged (seconds since the epoch, UTC).
    pub logged_at: i64,
}

/// The log's record of `doc_id`, or `None` when no issuing event names it.
pub(crate) async fn log_status(st: &AppState, doc_id: &str) -> AppResult<Option<LogStatus>> {
    let db = &st.store.db;
    let issuing = ledger::leaves_of(db, doc_id)
        .await?
        .into_iter()
        .filter_map(|(i, data)| Event::from_leaf(&data).ok().map(|e| (i, e)))
        .find(|(_, e)| matches!(e.event_type, EventType::Issue | EventType::Correct));
    let Some((index, event)) = issuing else {
        return Ok(None);
    };
    let later: Vec<(u64, Event)> = ledger::referring_to(db, index)
        .await?
        .into_iter()
        .filter_map(|(i, d)| Event::from_leaf(&d).ok().map(|e| (i, e)))
        .collect();
    let (status, reason, by) = match status_of(index, &later) {
        Status::Current { .. } => ("issued", None, None),
        Status::Superseded { by, .. } => ("superseded", None, Some(by)),
        Status::Revoked { by, reason, .. } => ("revoked", reason, Some(by)),
    };
    let checkpoint_size = ledger::latest_checkpoint(db).await?.map_or(0, |(s, _)| s);
    Ok(Some(LogStatus {
        doc_id: event.doc_id.clone(),
        kind: event.doc_kind.as_str().to_string(),
        status: status.to_string(),
        revoke_reason: reason,
        changed_by_leaf: by,
        leaf_index: index,
        sha256_data: event.sha256_data.clone(),
        sha256_pdf: event.sha256_pdf.clone(),
        checkpoint_size,
        in_checkpoint: index < checkpoint_size,
        logged_at: event.time,
    }))
}

/// The `.tlog-proof` text of a document's issuing event under the newest checkpoint.
pub(crate) async fn proof_text(st: &AppState, doc_id: &str) -> AppResult<String> {
    if !valid_doc_id(doc_id) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "public.bad_doc_id",
        ));
    }
    let status = log_status(st, doc_id)
        .await?
        .ok_or_else(|| unknown_document(doc_id))?;
    match crate::credentials::proof_bundle(st, status.leaf_index).await? {
        Some(p) => Ok(p.to_text()),
        None => Err(AppError::new(StatusCode::NOT_FOUND, "public.not_in_checkpoint")),
    }
}

pub(crate) fn unknown_document(doc_id: &str) -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "public.unknown_document").with("doc_id", doc_id)
}

pub(crate) fn proof_url(doc_id: &str) -> String {
    format!("/xac-minh/{doc_id}.tlog-proof")
}

// ---------------------------------------------------------------------------------------------
// The verdict, as pages and API show it

/// One verdict line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineView {
    /// `file`, `signatures`, `certificates`, `unchanged`, `record`, `checkpoint`, `witnesses`,
    /// `inclusion` or `status`.
    pub check: String,
    pub ok: bool,
    /// Stable code (e.g. `digest_mismatch`, `revoked`, `qr_mismatch`).
    pub code: String,
    /// The line in the request's language.
    pub message: String,
}

/// The record's key facts, given only when the uploaded file itself proves them.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RecordFacts {
    pub holder_name: String,
    /// The school (học bạ: the issuing school; diploma: the school graduated from).
    pub school: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school_year: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Diplomas: `tot_nghiep_thcs` or `tot_nghiep_thpt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diploma_type: Option<String>,
    /// Diplomas: số hiệu.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graduation_year: Option<u16>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub doc_id: String,
    /// `hoc_ba` or `van_bang`.
    pub kind: String,
    /// Present when the file's signatures are intact and its record is the one the log holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<RecordFacts>,
    /// Where the proof bundle of this document can be downloaded, once a checkpoint covers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof_url: Option<String>,
}

/// What verifying an upload found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyResult {
    /// True only when every check ran and passed.
    pub valid: bool,
    /// "Văn bản hợp lệ" or "Văn bản KHÔNG hợp lệ" (in the request's language).
    pub headline: String,
    pub lines: Vec<LineView>,
    /// The embedded record's identity, when the file carries one.
    pub record: Option<RecordView>,
}

pub(crate) fn check_code(c: Check) -> &'static str {
    match c {
        Check::File => "file",
        Check::Signatures => "signatures",
        Check::Certificates => "certificates",
        Check::Unchanged => "unchanged",
        Check::Record => "record",
        Check::Checkpoint => "checkpoint",
        Check::Witnesses => "witnesses",
        Check::Inclusion => "inclusion",
        Check::Status => "status",
    }
}

/// The file proves the record's facts when every signature line passed and the embedded record
/// is the one the log committed to (a document revoked later, or one missing its witnesses,
/// still shows whose it is; a forged or altered record never does).
fn proves_record(lines: &[Line]) -> bool {
    let passed = |c: Check| {
        let mine: Vec<_> = lines.iter().filter(|l| l.check == c).collect();
        !mine.is_empty() && mine.iter().all(|l| l.ok)
    };
    passed(Check::Signatures) && passed(Check::Record)
}

fn facts_of(record: &Record) -> RecordFacts {
    match record {
        Record::HocBa(r) => RecordFacts {
            holder_name: r.learner.full_name.clone(),
            school: r.issuer.name.clone(),
            school_year: Some(r.school_year.clone()),
            grade: Some(r.grade),
            class_name: Some(r.class_name.clone()),
            ..Default::default()
        },
        Record::VanBang(r) => RecordFacts {
            holder_name: r.learner.full_name.clone(),
            school: r.school_name.clone(),
            diploma_type: Some(r.diploma_type.clone()),
            serial: Some(r.serial.clone()),
            graduation_year: Some(r.graduation_year),
            ..Default::default()
        },
    }
}

/// Verifies an upload against this server's log and shapes the answer.
pub(crate) async fn verify(st: &AppState, locale: Locale, up: Upload) -> AppResult<VerifyResult> {
    require_credentials(st)?;
    let outcome = crate::credentials::verify_upload(st, up.pdf, up.qr).await?;
    let lines = &outcome.verdict.lines;
    let record = match &outcome.record {
        Some(r) => {
            let in_log = log_status(st, r.doc_id()).await?.is_some_and(|s| s.in_checkpoint);
            Some(RecordView {
                doc_id: r.doc_id().to_string(),
                kind: r.kind().as_str().to_string(),
                facts: proves_record(lines).then(|| facts_of(r)),
                proof_url: in_log.then(|| proof_url(r.doc_id())),
            })
        }
        None => None,
    };
    Ok(VerifyResult {
        valid: outcome.verdict.valid(),
        headline: outcome.verdict.headline(locale),
        lines: lines
            .iter()
            .map(|l| LineView {
                check: check_code(l.check).to_string(),
                ok: l.ok,
                code: l.code.clone(),
                message: l.message(locale),
            })
            .collect(),
        record,
    })
}

// ---------------------------------------------------------------------------------------------
// The verify page

/// Label/value rows of the record facts, in the page's language.
fn fact_rows(t: Tr, f: &RecordFacts) -> Vec<(&'static str, String)> {
    let mut rows = vec![(t.s("verify.fact.holder_name"), f.holder_name.clone())];
    if let Some(d) = &f.diploma_type {
        rows.push((t.s("verify.fact.diploma_type"), diploma_type_label(t, d)));
    }
    if let Some(s) = &f.serial {
        rows.push((t.s("verify.fact.serial"), s.clone()));
    }
    rows.push((t.s("verify.fact.school"), f.school.clone()));
    if let Some(y) = &f.school_year {
        rows.push((t.s("verify.fact.school_year"), y.clone()));
    }
    if let Some(c) = &f.class_name {
        let grade = f.grade.map(|g| g.to_string()).unwrap_or_default();
        rows.push((
            t.s("verify.fact.class"),
            t.f("verify.fact.class_value", "class", c)
                .replace("{grade}", &grade),
        ));
    }
    if let Some(y) = f.graduation_year {
        rows.push((t.s("verify.fact.graduation_year"), y.to_string()));
    }
    rows
}

fn diploma_type_label(t: Tr, code: &str) -> String {
    let key = format!("diploma_lookup.type.{code}");
    let s = t.s(&key);
    if s == key { code.to_string() } else { s.to_string() }
}

/// The QR code's document status shown above the upload form.
pub struct StatusView {
    pub doc_id: String,
    pub found: bool,
    pub kind: String,
    /// "success" (standing) or "error" (revoked, superseded, hash not matching).
    pub tone: &'static str,
    pub status_text: String,
    pub hash: String,
    pub hash_matches: bool,
    pub leaf_index: u64,
    pub logged_on: String,
    pub in_checkpoint: bool,
    pub checkpoint_size: u64,
    pub proof_url: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    l: Layout,
    errors: FieldErrors,
    doc: String,
    h: String,
    status: Option<StatusView>,
    max: String,
}

#[derive(Template)]
#[template(path = "verify_result.html")]
struct VerifyResultPage {
    l: Layout,
    r: VerifyResult,
    facts: Vec<(&'static str, String)>,
    kind: String,
    rows: Vec<LineRow>,
    /// The verify form below the verdict (empty: a fresh form).
    errors: FieldErrors,
    doc: String,
    h: String,
    max: String,
}

struct LineRow {
    label: &'static str,
    ok: bool,
    code: String,
    message: String,
}

/// Field errors beside their fields (the first per field) and the first general one.
fn errors_view(locale: Locale, errors: &[AppError]) -> (FieldErrors, Option<String>) {
    let mut fields = FieldErrors::default();
    let mut general = None;
    for e in errors {
        let (f, g) = FieldErrors::from_error(locale, e);
        for (name, msg) in f.0 {
            if !fields.has(&name) {
                fields.0.push((name, msg));
            }
        }
        if general.is_none() {
            general = g;
        }
    }
    (fields, general)
}

fn status_view(t: Tr, s: &LogStatus, h: &str) -> StatusView {
    let hash = s.sha256_data.clone().unwrap_or_default();
    let hash_matches = hash == h;
    let status_text = match s.status.as_str() {
        "revoked" => {
            let reason = s.revoke_reason.clone().unwrap_or_default();
            let reason = t.s(&format!("credentials.revoke_reason.{reason}"));
            t.f("verify.status.revoked", "reason", reason)
        }
        "superseded" => t.s("verify.status.superseded").to_string(),
        _ => t.s("verify.status.issued").to_string(),
    };
    let logged_on = chrono::DateTime::from_timestamp(s.logged_at, 0)
        .map(|d| crate::view::date(&d.with_timezone(&crate::view::vn_offset()).date_naive()))
        .unwrap_or_default();
    StatusView {
        doc_id: s.doc_id.clone(),
        found: true,
        kind: t.s(&format!("verify.kind.{}", s.kind)).to_string(),
        tone: if s.status == "issued" && hash_matches {
            "success"
        } else {
            "error"
        },
        status_text,
        hash,
        hash_matches,
        leaf_index: s.leaf_index,
        logged_on,
        in_checkpoint: s.in_checkpoint,
        checkpoint_size: s.checkpoint_size,
        proof_url: proof_url(&s.doc_id),
    }
}

fn not_found_view(doc_id: &str) -> StatusView {
    StatusView {
        doc_id: doc_id.to_string(),
        found: false,
        kind: String::new(),
        tone: "error",
        status_text: String::new(),
        hash: String::new(),
        hash_matches: false,
        leaf_index: 0,
        logged_on: String::new(),
        in_checkpoint: false,
        checkpoint_size: 0,
        proof_url: String::new(),
    }
}

fn form_page(
    st: &AppState,
    ctx: &ReqCtx,
    status: StatusCode,
    errors: &[AppError],
    doc: String,
    h: String,
    view: Option<StatusView>,
) -> Response {
    let (fields, general) = errors_view(ctx.locale, errors);
    let mut l = Layout::titled(ctx, "verify.title");
    if let Some(m) = general {
        l = l.with_message("error", m);
    }
    let r = render(
        status,
        &VerifyPage {
            l,
            errors: fields,
            doc,
            h,
            status: view,
            max: mib(st.cfg.max_upload_bytes),
        },
    );
    match errors.first() {
        Some(e) => retry_after(r, e),
        None => r,
    }
}

#[derive(Deserialize, Default)]
struct QrQuery {
    doc: Option<String>,
    h: Option<String>,
}

/// The form; with `?doc=…&h=…` (a scanned QR code) also what the log says about that document.
pub async fn form(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q: QrQuery = match serde_urlencoded::from_str(q.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            let err = AppError::bad_request("malformed_form").with("detail", e);
            return form_page(&st, &ctx, err.status, &[err], String::new(), String::new(), None);
        }
    };
    let typed = (q.doc.clone().unwrap_or_default(), q.h.clone().unwrap_or_default());
    let (doc, h) = match parse_qr(q.doc.as_deref(), q.h.as_deref()) {
        Ok(None) => return form_page(&st, &ctx, StatusCode::OK, &[], typed.0, typed.1, None),
        Ok(Some(qr)) => qr,
        Err(errors) => {
            return form_page(&st, &ctx, errors[0].status, &errors, typed.0, typed.1, None);
        }
    };
    if let Err(secs) = st.public_limits.verify.hit(client_ip(&st, &headers, &ctx)) {
        let e = verify_limited(secs);
        return form_page(&st, &ctx, e.status, &[e], doc, h, None);
    }
    let t = Tr(ctx.locale);
    match log_status(&st, &doc).await {
        Ok(Some(s)) => {
            let v = status_view(t, &s, &h);
            form_page(&st, &ctx, StatusCode::OK, &[], doc, h, Some(v))
        }
        Ok(None) => {
            let v = not_found_view(&doc);
            form_page(&st, &ctx, StatusCode::NOT_FOUND, &[], doc, h, Some(v))
        }
        Err(e) => form_page(&st, &ctx, e.status, &[e], doc, h, None),
    }
}

/// Verifies the uploaded PDF and shows the verdict; input problems re-show the form with them.
pub async fn upload_pdf(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    req: Request,
) -> Response {
    if let Err(secs) = st.public_limits.verify.hit(client_ip(&st, &headers, &ctx)) {
        let e = verify_limited(secs);
        return form_page(&st, &ctx, e.status, &[e], String::new(), String::new(), None);
    }
    let up = match read_upload(&st, req).await {
        Ok(u) => u,
        Err(errors) => {
            return form_page(
                &st,
                &ctx,
                errors[0].status,
                &errors,
                String::new(),
                String::new(),
                None,
            );
        }
    };
    let result = match verify(&st, ctx.locale, up).await {
        Ok(r) => r,
        Err(e) => return form_page(&st, &ctx, e.status, &[e], String::new(), String::new(), None),
    };
    let t = Tr(ctx.locale);
    let facts = result
        .record
        .as_ref()
        .and_then(|r| r.facts.as_ref())
        .map(|f| fact_rows(t, f))
        .unwrap_or_default();
    let kind = result
        .record
        .as_ref()
        .map(|r| t.s(&format!("verify.kind.{}", r.kind)).to_string())
        .unwrap_or_default();
    let rows = result
        .lines
        .iter()
        .map(|l| LineRow {
            label: t.s(&format!("verify.check.{}", l.check)),
            ok: l.ok,
            code: l.code.clone(),
            message: l.message.clone(),
        })
        .collect();
    render(
        StatusCode::OK,
        &VerifyResultPage {
            l: Layout::titled(&ctx, "verify.result_title"),
            r: result,
            facts,
            kind,
            rows,
            errors: FieldErrors::default(),
            doc: String::new(),
            h: String::new(),
            max: mib(st.cfg.max_upload_bytes),
        },
    )
}

/// `/xac-minh/<doc_id>.tlog-proof`: the offline proof bundle (hashes and the cosigned
/// checkpoint only).
pub async fn proof_file(State(st): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let Some(doc_id) = file.strip_suffix(".tlog-proof") else {
        return Err(AppError::not_found());
    };
    let text = proof_text(&st, doc_id).await?;
    Ok(proof_response(doc_id, text))
}

pub(crate) fn proof_response(doc_id: &str, text: String) -> Response {
    let mut r = text.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{doc_id}.tlog-proof\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Diploma lookup (Thông tư 21/2019)

/// The three fields of the lookup, as typed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct LookupInput {
    /// Số hiệu văn bằng, e.g. "B 0123456".
    #[serde(default)]
    pub serial: String,
    /// Họ và tên (any case; accents may be omitted).
    #[serde(default)]
    pub full_name: String,
    /// Ngày sinh, `dd/mm/yyyy` or `yyyy-mm-dd`.
    #[serde(default)]
    pub date_of_birth: String,
}

/// A validated lookup: the serial as the register stores it (clean, upper case).
pub(crate) struct LookupQuery {
    pub serial: String,
    pub full_name: String,
    pub date_of_birth: chrono::NaiveDate,
}

const SERIAL_MAX: usize = 30;
const NAME_MAX: usize = 100;

/// Every field's problem at once (the page shows each beside its field; the API the first).
pub(crate) fn validate_lookup(input: &LookupInput) -> Result<LookupQuery, Vec<AppError>> {
    let mut errors = vec![];
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let serial = truongso_core::text::clean(&input.serial).to_uppercase();
    if serial.is_empty() {
        errors.push(AppError::invalid("serial", DomainError::Required));
    } else if serial.chars().count() > SERIAL_MAX
        || !serial
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.'))
        || !serial.chars().any(|c| c.is_ascii_digit())
    {
        errors.push(field_error(unprocessable, "serial", "public.bad_serial").with("max", SERIAL_MAX));
    }
    let name = truongso_core::text::clean(&input.full_name);
    if name.is_empty() {
        errors.push(AppError::invalid("full_name", DomainError::Required));
    } else if name.chars().count() > NAME_MAX
        || !name.chars().any(char::is_alphabetic)
        || !name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.'))
    {
        errors.push(field_error(unprocessable, "full_name", "public.bad_name").with("max", NAME_MAX));
    }
    let dob = input.date_of_birth.trim();
    let mut date = None;
    if dob.is_empty() {
        errors.push(AppError::invalid("date_of_birth", DomainError::Required));
    } else {
        match truongso_core::org::parse_date(dob) {
            Err(e) => errors.push(AppError::invalid("date_of_birth", e)),
            Ok(d) if d > crate::today() => errors.push(field_error(
                unprocessable,
                "date_of_birth",
                "public.birth_in_future",
            )),
            Ok(d) if d < chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("constant date") => {
                errors.push(AppError::invalid("date_of_birth", DomainError::InvalidDate))
            }
            Ok(d) => date = Some(d),
        }
    }
    match date {
        Some(date_of_birth) if errors.is_empty() => Ok(LookupQuery {
            serial,
            full_name: name,
            date_of_birth,
        }),
        _ => Err(errors),
    }
}

/// A diploma found by the lookup, as the register (sổ gốc) records it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiplomaView {
    pub doc_id: String,
    /// `tot_nghiep_thcs` or `tot_nghiep_thpt`.
    pub diploma_type: String,
    pub diploma_type_label: String,
    pub holder_name: String,
    /// `dd/mm/yyyy`.
    pub date_of_birth: String,
    pub school: String,
    pub graduation_year: u16,
    /// Xếp loại tốt nghiệp (code), where the diploma carries one.
    pub classification: Option<String>,
    pub classification_label: Option<String>,
    /// Số hiệu.
    pub serial: String,
    /// Số vào sổ gốc cấp văn bằng.
    pub register_no: String,
    /// The unit that issued it (the Sở).
    pub issuer: String,
    /// `issued` (valid), `revoked` or `superseded`.
    pub status: String,
    pub status_label: String,
    /// The public verify page for this diploma (its QR code's address).
    pub verify_url: String,
}

/// The answer of a lookup: a match, or a neutral "not found" that never says which field missed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupResult {
    pub found: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diploma: Option<DiplomaView>,
}

fn label_or_code(t: Tr, key: String, code: &str) -> String {
    let s = t.s(&key);
    if s == key { code.to_string() } else { s.to_string() }
}

fn diploma_view(t: Tr, doc: &store_cred::Doc, r: &VanBang) -> DiplomaView {
    let dob = chrono::NaiveDate::parse_from_str(&r.learner.date_of_birth, "%Y-%m-%d")
        .map(|d| crate::view::date(&d))
        .unwrap_or_else(|_| r.learner.date_of_birth.clone());
    let status = match doc.status.as_str() {
        "revoked" | "superseded" => doc.status.clone(),
        _ => "issued".to_string(),
    };
    DiplomaView {
        doc_id: doc.doc_id.clone(),
        diploma_type: r.diploma_type.clone(),
        diploma_type_label: diploma_type_label(t, &r.diploma_type),
        holder_name: r.learner.full_name.clone(),
        date_of_birth: dob,
        school: r.school_name.clone(),
        graduation_year: r.graduation_year,
        classification: r.classification.clone(),
        classification_label: r
            .classification
            .as_ref()
            .map(|c| label_or_code(t, format!("diploma_lookup.classification.{c}"), c)),
        serial: r.serial.clone(),
        register_no: r.register_no.clone(),
        issuer: r.issuer.name.clone(),
        status_label: t.s(&format!("diploma_lookup.status.{status}")).to_string(),
        status,
        verify_url: format!("/xac-minh?doc={}&h={}", doc.doc_id, doc.sha256_data),
    }
}

/// Looks a diploma up (rate-limited per address) and audits the lookup with keyed digests of
/// what was typed and of the address, never the values themselves.
pub(crate) async fn lookup(
    st: &AppState,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    input: &LookupInput,
) -> Result<LookupResult, Vec<AppError>> {
    let q = validate_lookup(input)?;
    let ip = client_ip(st, headers, ctx);
    st.public_limits
        .lookup
        .hit(ip)
        .map_err(|s| vec![lookup_limited(s)])?;
    let db = &st.store.db;
    let found = store_cred::find_diploma(db, &q.serial, &q.full_name, q.date_of_birth)
        .await
        .map_err(|e| vec![AppError::from(e)])?;
    let typed = format!(
        "{}\n{}\n{}",
        q.serial,
        truongso_core::text::fold(&q.full_name),
        q.date_of_birth
    );
    let actor = match &ctx.principal {
        Some(p) => p.actor_ref(),
        None => ActorRef::system("public"),
    };
    let change = truongso_store::audit::Change::new(
        "diploma.lookup",
        "credential",
        found
            .as_ref()
            .map(|d| d.id.to_string())
            .unwrap_or_else(|| "-".into()),
    )
    .after(serde_json::json!({
        "query": st.cipher.blind_index("diploma_lookup", &typed),
        "client": st.cipher.blind_index("client_ip", &limit_key(ip).to_string()),
        "found": found.is_some(),
    }));
    truongso_store::audit::append(db, &actor, change)
        .await
        .map_err(|e| vec![AppError::from(e)])?;
    let t = Tr(ctx.locale);
    let diploma = match &found {
        Some(doc) => {
            let (_, record) = store_cred::files(db, doc.id)
                .await
                .map_err(|e| vec![AppError::from(e)])?;
            match Record::parse(&record) {
                Ok(Record::VanBang(r)) if doc.kind == DocKind::VanBang => Some(diploma_view(t, doc, &r)),
                _ => {
                    return Err(vec![AppError::internal(format!(
                        "diploma {} has no diploma record",
                        doc.doc_id
                    ))]);
                }
            }
        }
        None => None,
    };
    Ok(LookupResult {
        found: diploma.is_some(),
        message: t
            .s(if diploma.is_some() {
                "diploma_lookup.found"
            } else {
                "diploma_lookup.not_found"
            })
            .to_string(),
        diploma,
    })
}

#[derive(Template)]
#[template(path = "diploma_lookup.html")]
struct LookupPage {
    l: Layout,
    errors: FieldErrors,
    serial: String,
    full_name: String,
    date_of_birth: String,
    result: Option<LookupResult>,
}

fn lookup_page(
    ctx: &ReqCtx,
    status: StatusCode,
    errors: &[AppError],
    input: &LookupInput,
    result: Option<LookupResult>,
) -> Response {
    let (fields, general) = errors_view(ctx.locale, errors);
    let mut l = Layout::titled(ctx, "diploma_lookup.title");
    if let Some(m) = general {
        l = l.with_message("error", m);
    }
    let r = render(
        status,
        &LookupPage {
            l,
            errors: fields,
            serial: input.serial.clone(),
            full_name: input.full_name.clone(),
            date_of_birth: input.date_of_birth.clone(),
            result,
        },
    );
    match errors.first() {
        Some(e) => retry_after(r, e),
        None => r,
    }
}

pub async fn lookup_form(Ctx(ctx): Ctx) -> Response {
    lookup_page(&ctx, StatusCode::OK, &[], &LookupInput::default(), None)
}

pub async fn lookup_submit(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    PageForm(input): PageForm<LookupInput>,
) -> Response {
    match lookup(&st, &ctx, &headers, &input).await {
        Ok(r) => lookup_page(&ctx, StatusCode::OK, &[], &input, Some(r)),
        Err(errors) => lookup_page(&ctx, errors[0].status, &errors, &input, None),
    }
}
