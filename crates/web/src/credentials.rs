//! Học bạ số and văn bằng số as a service: the log's key and the witnesses it asks, the trust
//! roots and fonts, and the flows every layer (pages, API, CLI, demo) shares: open a class's
//! documents, sign one in turn, issue it into the log, revoke, correct, record a copy, publish a
//! cosigned checkpoint, and gather the log evidence a verifier needs.
//!
//! Rendering and signing are CPU work done on blocking threads; the log is appended under the
//! store's lock, and checkpoints are published one at a time.

use crate::AppState;
use chrono::{NaiveDate, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use truongso_core::credentials::event::{EVENT_SCHEMA, Event, EventType};
use truongso_core::credentials::record::{self, Record};
use truongso_core::credentials::{DocKind, HocBa, sha256_hex};
use truongso_docs::credentials::pades::{self, SignatureField};
use truongso_docs::credentials::render::{Fonts, RenderOptions, render_hoc_ba};
use truongso_docs::credentials::signer::{
    Pkcs11Signer, Pkcs12Signer, RemoteSigner, RemoteSignerConfig, Signer,
};
use truongso_docs::credentials::trust::TrustStore;
use truongso_docs::credentials::verify::{self, LogEvidence, Outcome, Trust};
use truongso_ledger::bundle::{TlogProof, TrustedLog};
use truongso_ledger::checkpoint::Checkpoint;
use truongso_ledger::cosignature::{CosignatureVerifier, WitnessPolicy};
use truongso_ledger::note::{Note, NoteSigner};
use truongso_ledger::witness::AddCheckpointRequest;
use truongso_store::credentials::{self as store_cred, Doc, HOC_BA_ROLES, Identity, NewDoc, SignatureStep};
use truongso_store::error::Msg;
use truongso_store::ledger::{self, NewLeaf};
use truongso_store::{ActorRef, Error};
use uuid::Uuid;

/// A witness this log asks to cosign its checkpoints.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Base URL; the request goes to `<url>/add-checkpoint`.
    pub url: String,
    pub vkey: String,
}

/// Where the credentials' files are and how the log presents itself.
#[derive(Debug, Clone)]
pub struct CredentialsSetup {
    /// Holds `log.key` (created on first start, mode 0600) and `trust/` (root certificates).
    pub dir: PathBuf,
    /// The log's origin line, e.g. `hocba.so-gddt.example.vn/log`.
    pub origin: String,
    /// The public verify page printed in every QR code.
    pub verify_url: String,
    pub fonts_dir: PathBuf,
    pub witnesses: Vec<WitnessEndpoint>,
    /// Cosignatures a verifier requires.
    pub quorum: usize,
}

pub struct Credentials {
    pub setup: CredentialsSetup,
    log_signer: NoteSigner,
    pub log: TrustedLog,
    pub policy: WitnessPolicy,
    pub trust: TrustStore,
    pub fonts: Fonts,
    witness_client: reqwest::Client,
    publishing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("origin", &self.setup.origin)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Loads (or creates) the log key, the trust roots and the fonts.
    pub fn load(setup: CredentialsSetup) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&setup.dir)?;
        let log_signer = load_or_create_log_key(&setup.dir.join("log.key"), &setup.origin)?;
        let log = TrustedLog::new(&setup.origin, vec![log_signer.verifier()]);
        let mut witnesses = vec![];
        for w in &setup.witnesses {
            witnesses.push(
                CosignatureVerifier::from_vkey(&w.vkey)
                    .map_err(|e| anyhow::anyhow!("witness key {}: {e}", w.vkey))?,
            );
        }
        let policy = if witnesses.is_empty() {
            WitnessPolicy::none()
        } else {
            WitnessPolicy::new(witnesses, setup.quorum).map_err(|e| anyhow::anyhow!("witness policy: {e}"))?
        };
        let mut trust = TrustStore::new();
        let trust_dir = setup.dir.join("trust");
        if trust_dir.is_dir() {
            trust
                .add_dir(&trust_dir)
                .map_err(|e| anyhow::anyhow!("trust roots in {}: {e}", trust_dir.display()))?;
        }
        let fonts = Fonts::load_dir(&setup.fonts_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Self {
            setup,
            log_signer,
            log,
            policy,
            trust,
            fonts,
            witness_client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()?,
            publishing: tokio::sync::Mutex::new(()),
        })
    }

    /// The log's verifier key, for relying parties.
    pub fn log_vkey(&self) -> String {
        self.log_signer.vkey()
    }

    /// Adds a trust root at run time (the demo's test root).
    pub fn trust_root(&mut self, name: &str, pem: &[u8]) -> anyhow::Result<()> {
        self.trust
            .add_pem(name, pem)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    pub fn verifier_trust(&self) -> Trust<'_> {
        Trust {
            roots: &self.trust,
            logs: std::slice::from_ref(&self.log),
            witnesses: &self.policy,
            pdf: Default::default(),
        }
    }
}

fn load_or_create_log_key(path: &Path, origin: &str) -> anyhow::Result<NoteSigner> {
    if path.exists() {
        let text = std::fs::read_to_string(path)?;
        let signer = NoteSigner::from_private_key(text.trim())
            .map_err(|e| anyhow::anyhow!("log key {}: {e}", path.display()))?;
        anyhow::ensure!(
            signer.name() == origin,
            "log key {} is for {}, not {origin}",
            path.display(),
            signer.name()
        );
        return Ok(signer);
    }
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    let signer = NoteSigner::from_seed(origin, &seed).map_err(|e| anyhow::anyhow!("log key: {e}"))?;
    write_private(path, &signer.private_key())?;
    Ok(signer)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(())
}

fn creds(state: &AppState) -> Result<&Arc<Credentials>, Error> {
    state
        .credentials
        .as_ref()
        .ok_or_else(|| Error::Conflict(Msg::new("credentials_not_configured")))
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// The signature field of each role and the reason printed in it.
fn field_for(role: &str) -> (&'static str, &'static str) {
    match role {
        "gvcn" => ("GVCN", "Giáo viên chủ nhiệm xác nhận học bạ"),
        "hieu_truong" => ("HieuTruong", "Hiệu trưởng phê duyệt học bạ"),
        "con_dau" => ("ConDau", "Đơn vị ký số (con dấu)"),
        _ => ("GiamDocSo", "Cấp văn bằng"),
    }
}

/// Renders and opens for signing the học bạ of every learner whose year this class closed and
/// who has no document yet in that year. Returns (opened, already had one).
pub async fn open_class(
    state: &AppState,
    actor: &ActorRef,
    class_id: Uuid,
    issued_on: NaiveDate,
) -> Result<(Vec<Doc>, usize), Error> {
    let c = creds(state)?.clone();
    let db = &state.store.db;
    let records = store_cred::hoc_ba_records(db, &state.cipher, class_id, issued_on, || {
        let mut r = [0u8; 10];
        rand::fill(&mut r);
        record::doc_id(DocKind::HocBa, r)
    })
    .await?;
    let existing = store_cred::for_class(db, class_id).await?;
    let info = truongso_store::gradebook::class_info(db, class_id).await?;
    let todo: Vec<(Uuid, HocBa)> = records
        .into_iter()
        .filter(|(l, _)| {
            !existing
                .iter()
                .any(|d| d.learner_id == Some(*l) && matches!(d.status.as_str(), "signing" | "issued"))
        })
        .collect();
    let skipped = existing
        .iter()
        .filter(|d| matches!(d.status.as_str(), "signing" | "issued"))
        .count();
    let created = chrono::Utc::now().fixed_offset();
    let rendered = tokio::task::spawn_blocking(move || {
        todo.into_iter()
            .map(|(learner, r)| {
                let canonical = r.canonical().map_err(internal)?;
                let opts = RenderOptions::new(c.setup.verify_url.clone(), created);
                let pdf = render_hoc_ba(&r, &canonical, &opts, &c.fonts).map_err(internal)?;
                Ok((learner, r.doc_id.clone(), canonical, pdf))
            })
            .collect::<Result<Vec<_>, Error>>()
    })
    .await
    .map_err(internal)??;
    let mut docs = vec![];
    for (learner, doc_id, canonical, pdf) in rendered {
        docs.push(
            store_cred::create(
                db,
                actor,
                NewDoc {
                    doc_id: &doc_id,
                    kind: DocKind::HocBa,
                    issuer_id: info.school_id,
                    learner_id: Some(learner),
                    school_year_id: Some(info.school_year_id),
                    class_id: Some(class_id),
                    record: &canonical,
                    pdf: &pdf,
                    first_role: HOC_BA_ROLES[0],
                    corrects: None,
                    diploma: None,
                },
            )
            .await?,
        );
    }
    Ok((docs, skipped))
}

/// Opens the signer an identity describes (on a blocking thread: tokens and remote services
/// block).
pub fn open_signer(identity: &Identity, base: &Path) -> Result<Box<dyn Signer>, Error> {
    let cfg = &identity.config;
    let get = |k: &str| cfg.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let secret = identity.secret.clone().unwrap_or_default();
    let resolve = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { base.join(p) }
    };
    Ok(match identity.backend.as_str() {
        "pkcs12" => {
            let file = get("file").ok_or_else(|| internal("pkcs12 identity without file"))?;
            Box::new(Pkcs12Signer::open(resolve(file), &secret).map_err(signing_failed)?)
        }
        "pkcs11" => {
            let module = get("module").ok_or_else(|| internal("pkcs11 identity without module"))?;
            let token = get("token").unwrap_or_default();
            let key = get("key").unwrap_or_default();
            Box::new(Pkcs11Signer::open(module, &token, &secret, &key).map_err(signing_failed)?)
        }
        "remote" => {
            let ca = get("ca_file")
                .map(|f| std::fs::read(resolve(f)))
                .transpose()
                .map_err(internal)?;
            Box::new(
                RemoteSigner::new(RemoteSignerConfig {
                    url: get("url").ok_or_else(|| internal("remote identity without url"))?,
                    key_id: get("key_id").unwrap_or_default(),
                    bearer_token: (!secret.is_empty()).then_some(secret),
                    extra_root_ca_pem: ca,
                    timeout: Duration::from_secs(300),
                    poll: Duration::from_secs(2),
                })
                .map_err(signing_failed)?,
            )
        }
        other => return Err(internal(format!("unknown signing backend {other}"))),
    })
}

/// A signer that cannot be opened or refuses to sign (token unplugged, wrong PIN, the remote
/// service down or the holder declining) is the user's to fix, not a server fault: say which.
fn signing_failed(e: truongso_docs::credentials::signer::SignerError) -> Error {
    Error::Conflict(Msg::new("signing_failed").with("detail", e.code()))
}

/// Applies `role`'s signature with `identity` and, once every role has signed, issues the
/// document into the log. The caller has checked that the actor may sign in this role.
pub async fn sign(
    state: &AppState,
    actor: &ActorRef,
    doc: &Doc,
    role: &str,
    identity: Identity,
) -> Result<Doc, Error> {
    let c = creds(state)?.clone();
    let db = &state.store.db;
    if doc.next_role.as_deref() != Some(role) {
        return Err(Error::Conflict(
            Msg::new("credential_not_awaiting").with("role", role),
        ));
    }
    let (pdf, _) = store_cred::files(db, doc.id).await?;
    let place = c.setup.dir.clone();
    let role_owned = role.to_string();
    let (signed, cert_sha256, subject) = tokio::task::spawn_blocking(move || {
        let signer = open_signer(&identity, &place)?;
        let (name, reason) = field_for(&role_owned);
        let field = SignatureField::new(name, Utc::now()).with_reason(reason);
        let signed = pades::sign(&pdf, &field, signer.as_ref()).map_err(|e| match e {
            pades::PadesError::Signer(se) => signing_failed(se),
            other => internal(other),
        })?;
        let cert = signer
            .chain()
            .first()
            .ok_or_else(|| internal("signer without certificate"))?;
        let der = der::Encode::to_der(cert).map_err(internal)?;
        Ok::<_, Error>((signed, sha256_hex(&der), identity.subject.clone()))
    })
    .await
    .map_err(internal)??;
    let step = SignatureStep {
        role: role.to_string(),
        signer: subject,
        user_id: actor.id,
        cert_sha256,
        at: Utc::now(),
    };
    let order: &[&str] = match doc.kind {
        DocKind::HocBa => &HOC_BA_ROLES,
        DocKind::VanBang => &["giam_doc_so"],
    };
    let updated = store_cred::record_signature(db, actor, doc.id, doc.version, step, &signed, order).await?;
    if updated.next_role.is_none() {
        return issue(state, actor, &updated).await;
    }
    Ok(updated)
}

/// Appends one event and returns its leaf index.
async fn append_event(state: &AppState, event: &Event) -> Result<u64, Error> {
    let data = event.leaf_bytes().map_err(internal)?;
    let idx = ledger::append(
        &state.store.db,
        &[NewLeaf {
            data,
            doc_id: event.doc_id.clone(),
            refers_to: event.refers_to,
        }],
    )
    .await?;
    Ok(idx[0])
}

/// Logs a fully signed document (an issue, or a correction of the document it replaces).
async fn issue(state: &AppState, actor: &ActorRef, doc: &Doc) -> Result<Doc, Error> {
    let db = &state.store.db;
    let (pdf, _) = store_cred::files(db, doc.id).await?;
    let refers_to = match doc.corrects {
        Some(old) => store_cred::get(db, old).await?.leaf_index.map(|l| l as u64),
        None => None,
    };
    let event = Event {
        schema: EVENT_SCHEMA.into(),
        event_type: if refers_to.is_some() {
            EventType::Correct
        } else {
            EventType::Issue
        },
        doc_id: doc.doc_id.clone(),
        doc_kind: doc.kind,
        sha256_data: Some(doc.sha256_data.clone()),
        sha256_pdf: Some(sha256_hex(&pdf)),
        signer_certs: doc.signatures.iter().map(|s| s.cert_sha256.clone()).collect(),
        refers_to,
        reason: None,
        time: Utc::now().timestamp(),
    };
    let leaf = append_event(state, &event).await?;
    store_cred::mark_issued(
        db,
        actor,
        doc.id,
        leaf as i64,
        event.sha256_pdf.as_deref().unwrap_or_default(),
    )
    .await
}

/// Revokes an issued document: a revoke event in the log, then the document's status.
pub async fn revoke(state: &AppState, actor: &ActorRef, doc: &Doc, reason: &str) -> Result<Doc, Error> {
    let leaf = doc
        .leaf_index
        .ok_or_else(|| Error::conflict("credential_not_issued"))? as u64;
    if doc.status != "issued" {
        return Err(Error::conflict("credential_not_issued"));
    }
    if !truongso_core::credentials::event::REVOKE_REASONS.contains(&reason) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "reason",
            truongso_core::DomainError::UnknownCode,
        )));
    }
    let event = Event {
        schema: EVENT_SCHEMA.into(),
        event_type: EventType::Revoke,
        doc_id: doc.doc_id.clone(),
        doc_kind: doc.kind,
        sha256_data: None,
        sha256_pdf: None,
        signer_certs: vec![],
        refers_to: Some(leaf),
        reason: Some(reason.to_string()),
        time: Utc::now().timestamp(),
    };
    let idx = append_event(state, &event).await?;
    let d = store_cred::mark_revoked(&state.store.db, actor, doc.id, idx as i64, reason).await?;
    publish(state).await?;
    Ok(d)
}

/// Records a copy handed out (the signed PDF itself) and returns its bytes and proof bundle.
pub async fn copy(
    state: &AppState,
    actor: &ActorRef,
    doc: &Doc,
    purpose: &str,
    recipient: Option<&str>,
) -> Result<(Vec<u8>, Option<TlogProof>), Error> {
    let leaf = doc
        .leaf_index
        .ok_or_else(|| Error::conflict("credential_not_issued"))? as u64;
    if !truongso_core::credentials::event::COPY_PURPOSES.contains(&purpose) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "purpose",
            truongso_core::DomainError::UnknownCode,
        )));
    }
    let (pdf, _) = store_cred::files(&state.store.db, doc.id).await?;
    let sha = sha256_hex(&pdf);
    let event = Event {
        schema: EVENT_SCHEMA.into(),
        event_type: EventType::Copy,
        doc_id: doc.doc_id.clone(),
        doc_kind: doc.kind,
        sha256_data: None,
        sha256_pdf: Some(sha.clone()),
        signer_certs: vec![],
        refers_to: Some(leaf),
        reason: Some(purpose.to_string()),
        time: Utc::now().timestamp(),
    };
    let idx = append_event(state, &event).await?;
    store_cred::record_copy(
        &state.store.db,
        actor,
        doc.id,
        purpose,
        recipient,
        &sha,
        idx as i64,
    )
    .await?;
    publish(state).await?;
    let proof = proof_bundle(state, leaf).await?;
    Ok((pdf, proof))
}

/// Signs a checkpoint of the current tree (if it grew) and asks each witness to cosign it.
/// Returns the note as stored, with whatever cosignatures arrived.
pub async fn publish(state: &AppState) -> Result<Option<String>, Error> {
    let c = creds(state)?.clone();
    let _one_at_a_time = c.publishing.lock().await;
    let db = &state.store.db;
    let size = ledger::size(db).await?;
    let latest = ledger::latest_checkpoint(db).await?;
    if size == 0 {
        return Ok(None);
    }
    if let Some((s, note)) = &latest
        && *s == size
    {
        return Ok(Some(note.clone()));
    }
    let root = ledger::root_at(db, size).await?;
    let cp = Checkpoint::new(&c.setup.origin, size, root).map_err(internal)?;
    let note = cp.sign(&[&c.log_signer]).map_err(internal)?;
    ledger::save_checkpoint(db, size, &root, &note).await?;
    let mut lines = vec![];
    for w in &c.setup.witnesses {
        match ask_witness(state, &c, w, &note, size).await {
            Ok(line) => lines.push(line),
            Err(e) => tracing::warn!(witness = %w.url, error = %e, "witness did not cosign"),
        }
    }
    if lines.is_empty() {
        return Ok(Some(note));
    }
    let cosigned = format!("{note}{}", lines.concat());
    ledger::set_cosigned(db, size, &cosigned, lines.len() as i32).await?;
    Ok(Some(cosigned))
}

/// One witness round: first from the size we last saw it at; on 409 it tells us its size and
/// we try once more from there.
async fn ask_witness(
    state: &AppState,
    c: &Credentials,
    w: &WitnessEndpoint,
    note: &str,
    size: u64,
) -> anyhow::Result<String> {
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    let mut old = 0u64;
    for _ in 0..2 {
        let proof = if old == 0 || old == size {
            vec![]
        } else {
            ledger::consistency_proof(&state.store.db, size, old).await?
        };
        let body = AddCheckpointRequest::new(old, proof, note)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_bytes();
        let resp = c.witness_client.post(&url).body(body).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if status.is_success() {
            // Keep only lines that are cosignatures by this witness's key.
            let verifier = CosignatureVerifier::from_vkey(&w.vkey).map_err(|e| anyhow::anyhow!("{e}"))?;
            let with = format!("{note}{text}");
            let parsed = Note::parse(with.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let line = parsed
                .signatures
                .iter()
                .filter(|s| verifier.matches(s))
                .find(|s| verifier.verify(&parsed.text, s).is_ok())
                .map(|s| s.line())
                .ok_or_else(|| anyhow::anyhow!("the witness answered without a valid cosignature"))?;
            return Ok(line);
        }
        if status.as_u16() == 409 {
            old = text.trim().parse()?;
            continue;
        }
        anyhow::bail!("{status}: {}", text.trim());
    }
    anyhow::bail!("the witness kept changing its size")
}

/// A proof bundle for leaf `index` under the newest checkpoint that contains it. The leaf's
/// event travels in `extra`, so a holder can verify with the bundle alone (the verifier hashes
/// it and checks inclusion; `extra` itself is trusted only through that check).
pub async fn proof_bundle(state: &AppState, index: u64) -> Result<Option<TlogProof>, Error> {
    let db = &state.store.db;
    let Some((size, note)) = ledger::latest_checkpoint(db).await? else {
        return Ok(None);
    };
    if index >= size {
        return Ok(None);
    }
    let path = ledger::inclusion_proof(db, size, index).await?;
    let leaf = ledger::leaf(db, index).await?;
    Ok(Some(TlogProof {
        extra: leaf,
        index,
        path,
        checkpoint: note,
    }))
}

/// What the log says about the document with this id, as evidence for the verifier: the event
/// that issued it, its inclusion proof, and every later event that refers to it (complete: read
/// from the log itself).
pub async fn evidence_for(state: &AppState, doc_id: &str) -> Result<Option<LogEvidence>, Error> {
    let db = &state.store.db;
    let issuing = ledger::leaves_of(db, doc_id)
        .await?
        .into_iter()
        .find(|(_, data)| {
            Event::from_leaf(data)
                .is_ok_and(|e| matches!(e.event_type, EventType::Issue | EventType::Correct))
        });
    let Some((index, leaf)) = issuing else {
        return Ok(None);
    };
    let Some(proof) = proof_bundle(state, index).await? else {
        return Ok(None);
    };
    let size = ledger::size(db).await?;
    let later = ledger::referring_to(db, index)
        .await?
        .into_iter()
        .filter(|(i, _)| *i < size)
        .filter_map(|(i, d)| Event::from_leaf(&d).ok().map(|e| (i, e)))
        .collect();
    Ok(Some(LogEvidence {
        proof,
        leaf,
        later,
        later_complete: true,
    }))
}

/// Verifies an uploaded PDF against this server's log (the public page and API).
pub async fn verify_upload(
    state: &AppState,
    pdf: Vec<u8>,
    qr: Option<(String, String)>,
) -> Result<Outcome, Error> {
    let c = creds(state)?.clone();
    // The record's id is inside the PDF; a first pass finds it, then the log evidence for it.
    let doc_id = {
        let c2 = c.clone();
        let bytes = pdf.clone();
        tokio::task::spawn_blocking(move || {
            let trust = c2.verifier_trust();
            truongso_docs::credentials::pdf_verify::verify_pdf(&bytes, trust.roots, &trust.pdf)
                .ok()
                .and_then(|r| verify::embedded_record(&r).map(|f| f.data.clone()))
                .and_then(|d| Record::parse(&d).ok())
                .map(|r| r.doc_id().to_string())
        })
        .await
        .map_err(internal)?
    };
    let evidence = match &doc_id {
        Some(id) => evidence_for(state, id).await?,
        None => None,
    };
    tokio::task::spawn_blocking(move || {
        let trust = c.verifier_trust();
        let qr = qr.as_ref().map(|(d, h)| (d.as_str(), h.as_str()));
        verify::verify_document(&pdf, &trust, evidence.as_ref(), qr)
    })
    .await
    .map_err(internal)
}

/// Opens a correction of an issued học bạ: the learner's year rendered again from the results
/// as they stand now, under a new id, pointing at the document it replaces. Signed in turn like
/// any other; once issued, the log's correct event supersedes the old document.
pub async fn open_correction(
    state: &AppState,
    actor: &ActorRef,
    old: &Doc,
    issued_on: NaiveDate,
) -> Result<Doc, Error> {
    let c = creds(state)?.clone();
    let db = &state.store.db;
    if old.status != "issued" || old.kind != DocKind::HocBa {
        return Err(Error::conflict("credential_not_issued"));
    }
    let (Some(class_id), Some(learner)) = (old.class_id, old.learner_id) else {
        return Err(Error::conflict("credential_not_issued"));
    };
    if store_cred::corrections_of(db, old.id)
        .await?
        .iter()
        .any(|d| d.status == "signing")
    {
        return Err(Error::conflict("correction_open"));
    }
    let record = store_cred::hoc_ba_records(db, &state.cipher, class_id, issued_on, || {
        let mut r = [0u8; 10];
        rand::fill(&mut r);
        record::doc_id(DocKind::HocBa, r)
    })
    .await?
    .into_iter()
    .find(|(l, _)| *l == learner)
    .map(|(_, r)| r)
    .ok_or_else(|| Error::conflict("no_results"))?;
    let created = chrono::Utc::now().fixed_offset();
    let (doc_id, canonical, pdf) = tokio::task::spawn_blocking(move || {
        let canonical = record.canonical().map_err(internal)?;
        let opts = RenderOptions::new(c.setup.verify_url.clone(), created);
        let pdf = render_hoc_ba(&record, &canonical, &opts, &c.fonts).map_err(internal)?;
        Ok::<_, Error>((record.doc_id.clone(), canonical, pdf))
    })
    .await
    .map_err(internal)??;
    store_cred::create(
        db,
        actor,
        NewDoc {
            doc_id: &doc_id,
            kind: DocKind::HocBa,
            issuer_id: old.issuer_id,
            learner_id: Some(learner),
            school_year_id: old.school_year_id,
            class_id: Some(class_id),
            record: &canonical,
            pdf: &pdf,
            first_role: HOC_BA_ROLES[0],
            corrects: Some(old.id),
            diploma: None,
        },
    )
    .await
}

/// Opens a diploma for the Sở director's signature: the record from the learner's stored result
/// and the registry fields, rendered (TT 21/2019 layout) and registered with its unique numbers.
pub async fn open_diploma(
    state: &AppState,
    actor: &ActorRef,
    input: &store_cred::DiplomaInput,
    issued_on: NaiveDate,
) -> Result<Doc, Error> {
    let c = creds(state)?.clone();
    let db = &state.store.db;
    let mut r = [0u8; 10];
    rand::fill(&mut r);
    let (record, issuer_id) = store_cred::van_bang_record(
        db,
        &state.cipher,
        input,
        issued_on,
        record::doc_id(DocKind::VanBang, r),
    )
    .await?;
    let created = chrono::Utc::now().fixed_offset();
    let keys = record.clone();
    let (canonical, pdf) = tokio::task::spawn_blocking(move || {
        let canonical = record.canonical().map_err(internal)?;
        let opts = RenderOptions::new(c.setup.verify_url.clone(), created);
        let pdf = truongso_docs::credentials::render::render_van_bang(&record, &canonical, &opts, &c.fonts)
            .map_err(internal)?;
        Ok::<_, Error>((canonical, pdf))
    })
    .await
    .map_err(internal)??;
    let dob = NaiveDate::parse_from_str(&keys.learner.date_of_birth, "%Y-%m-%d").map_err(internal)?;
    store_cred::create_diploma(
        db,
        actor,
        NewDoc {
            doc_id: &keys.doc_id,
            kind: DocKind::VanBang,
            issuer_id,
            learner_id: Some(input.learner_id),
            school_year_id: Some(input.school_year_id),
            class_id: None,
            record: &canonical,
            pdf: &pdf,
            first_role: "giam_doc_so",
            corrects: None,
            diploma: Some(store_cred::DiplomaKeys {
                serial: &keys.serial,
                register_no: &keys.register_no,
                full_name: &keys.learner.full_name,
                date_of_birth: dob,
            }),
        },
    )
    .await
}
