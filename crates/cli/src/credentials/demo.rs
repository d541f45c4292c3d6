//! The demo's học bạ số: a test PKI for the model THCS school, its root trusted, signing
//! identities (GVCN, Hiệu trưởng, con dấu), a witness of its own running beside the server, one
//! class of last year (2025-2026) issued — three signatures, logged, published and cosigned — and
//! a second class opened for the signing pages. One issued PDF and its proof bundle are written
//! to `<data>/demo-hocba/` for `truongso verify`.
//!
//! Everything lives beside the demo's database (`<data>/demo-credentials/`,
//! `<data>/demo-witness.db`) and is reused by the next run. The log key, PKI and witness
//! memory only make sense with the database that holds the log: while that log is empty and no
//! document exists, they are made afresh (a demo database deleted and re-created would
//! otherwise meet a witness that remembers another history and refuses it).

use crate::config::Config;
use crate::credentials::{
    create_witness_key, fonts_usable, load_witness_key, witness_service, write_log_vkey,
};
use anyhow::Context;
use sea_orm::{EntityTrait, PaginatorTrait};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use truongso_docs::credentials::pki::{Holder, IdentitySpec, KeyAlgorithm, PkiSpec, TestPki};
use truongso_docs::credentials::trust::{CertSummary, summarize_certificate};
use truongso_ledger::note::NoteVerifier;
use truongso_store::credentials::{self as store_cred, NewIdentity};
use truongso_store::crypto::FieldCipher;
use truongso_store::{ActorRef, Store, accounts, entity, ledger, org, school_years};
use truongso_web::AppState;
use truongso_web::credentials::{self as web_cred, Credentials, CredentialsSetup, WitnessEndpoint};
use uuid::Uuid;

/// The demo log's origin: its own, so it never shares a key or a witness with a real log.
pub const DEMO_ORIGIN: &str = "demo.truongso.local/hoc-ba";
const WITNESS_NAME: &str = "witness.demo.truongso.local";
const P12_PASSWORD: &str = "demo-truongso";
const SCHOOL_YEAR: &str = "2025-2026";
/// File stem of the login teacher's certificate.
const LOGIN_CERT: &str = "gvcn-login";

/// What the demo's issuance did, for the banner.
#[derive(Debug, Clone)]
pub struct DemoIssued {
    pub school: String,
    pub issued_class: String,
    pub issued: usize,
    pub open_class: Option<String>,
    pub opened: usize,
    /// The login that signs the opened class as its homeroom teacher, if any.
    pub open_gvcn: Option<String>,
    /// One issued document and its proof bundle.
    pub pdf: PathBuf,
    pub bundle: PathBuf,
    pub root_pem: PathBuf,
    pub log_vkey: PathBuf,
    pub witness_vkey: PathBuf,
    pub witness_url: String,
    pub cosigned: bool,
    pub secs: f64,
    /// Nothing new was issued: everything came from an earlier run.
    pub reused: bool,
    /// Who signs as GVCN: a login, or the school itself when no login teaches that class.
    pub gvcn_signer: String,
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

struct People {
    school_id: Uuid,
    school: String,
    principal: accounts::UserRow,
    issued_on: chrono::NaiveDate,
    issue_class: entity::class::Model,
    open_class: Option<entity::class::Model>,
    /// The homeroom teacher of the issued class: (name, their login if any).
    gvcn_name: String,
    gvcn_user: Option<(Uuid, String)>,
    /// The demo's homeroom-teacher login (`gvcn.thcs`) and its staff record: it becomes the
    /// teacher of record of the opened class, so the signing pages have a GVCN to sign with.
    login_gvcn: Option<LoginTeacher>,
}

struct LoginTeacher {
    user_id: Uuid,
    staff_id: Uuid,
    name: String,
}

async fn people(store: &Store) -> anyhow::Result<Option<People>> {
    let db = &store.db;
    let Some(principal) = accounts::by_username(db, "hieutruong.thcs").await? else {
        return Ok(None);
    };
    let school = org::get(db, principal.owner_org_id).await?;
    let Some(year) = school_years::for_school(db, school.id)
        .await?
        .into_iter()
        .find(|y| y.name == SCHOOL_YEAR)
    else {
        return Ok(None);
    };
    let classes = store_cred::classes_with_results(db, school.id, year.id).await?;
    let mut it = classes.into_iter();
    let Some(issue_class) = it.next() else {
        return Ok(None);
    };
    let open_class = it.next();
    let staff = match issue_class.homeroom_staff_id {
        Some(id) => entity::staff::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let gvcn_name = staff.as_ref().map(|s| s.full_name.clone()).unwrap_or_default();
    let gvcn_user = match staff.and_then(|s| s.user_id) {
        Some(uid) => Some((uid, accounts::get_user(db, uid).await?.username)),
        None => None,
    };
    let login_gvcn = match accounts::by_username(db, "gvcn.thcs").await? {
        Some(u) => {
            use sea_orm::{ColumnTrait, QueryFilter};
            entity::staff::Entity::find()
                .filter(entity::staff::Column::UserId.eq(u.id))
                .filter(entity::staff::Column::SchoolId.eq(school.id))
                .one(db)
                .await?
                .map(|st| LoginTeacher {
                    user_id: u.id,
                    staff_id: st.id,
                    name: st.full_name,
                })
        }
        None => None,
    };
    Ok(Some(People {
        school_id: school.id,
        school: school.name,
        principal,
        issued_on: year.ends_on,
        issue_class,
        open_class,
        gvcn_name,
        gvcn_user,
        login_gvcn,
    }))
}

/// The PKI in `dir`, made if missing (reused otherwise: its certificates are what the
/// identities and the trusted root already name). Returns the root's path and whether it was
/// just made. A PKI made before the login teacher's certificate existed has no `gvcn-login`:
/// its root key is gone, so that identity is simply not registered.
fn pki(dir: &Path, p: &People) -> anyhow::Result<(PathBuf, bool)> {
    let ready = [
        "ca.pem",
        "gvcn.pem",
        "gvcn.p12",
        "hieutruong.pem",
        "hieutruong.p12",
        "condau.pem",
        "condau.p12",
    ]
    .iter()
    .all(|f| dir.join(f).is_file());
    if ready {
        return Ok((dir.join("ca.pem"), false));
    }
    let gvcn = if p.gvcn_name.is_empty() {
        "Giáo viên chủ nhiệm"
    } else {
        &p.gvcn_name
    };
    let mut spec = PkiSpec {
        // The demo needs only the signers; the test extras cost key generation time.
        tls_server: false,
        expired: false,
        untrusted: false,
        ..PkiSpec::school(&p.school, gvcn, &p.principal.display_name, P12_PASSWORD)
    };
    if let Some(t) = &p.login_gvcn {
        spec.identities.push(IdentitySpec {
            name: LOGIN_CERT.into(),
            holder: Holder::Person(t.name.clone()),
            key: KeyAlgorithm::P256,
        });
    }
    let _ = std::fs::remove_dir_all(dir);
    let pki = TestPki::generate(dir, &spec).map_err(|e| anyhow::anyhow!("demo PKI: {e}"))?;
    Ok((pki.ca_pem, true))
}

/// The certificate in a one-certificate PEM file, summarised (fingerprint, subject, expiry).
fn cert_summary(pem_file: &Path) -> anyhow::Result<CertSummary> {
    use base64::Engine;
    let text = std::fs::read_to_string(pem_file).with_context(|| format!("{}", pem_file.display()))?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .with_context(|| format!("{}: not PEM", pem_file.display()))?;
    summarize_certificate(&der).map_err(|e| anyhow::anyhow!("{}: {e}", pem_file.display()))
}

/// Sets up and runs the demo's issuance. `None` (after a warning) when the fonts are missing:
/// the demo still serves, without học bạ số.
pub async fn setup(
    store: &Store,
    cfg: &Config,
    cipher: &FieldCipher,
    data_dir: &Path,
    public_url: &str,
) -> anyhow::Result<Option<(Arc<Credentials>, DemoIssued)>> {
    let t0 = Instant::now();
    if let Err(why) = fonts_usable(Path::new(&cfg.fonts_dir)) {
        eprintln!("Cảnh báo: bỏ qua học bạ số của bản mẫu (warning: demo credentials skipped): {why}");
        return Ok(None);
    }
    let db = &store.db;
    let Some(p) = people(store).await? else {
        eprintln!("Cảnh báo: tỉnh mẫu không có lớp năm {SCHOOL_YEAR} có kết quả; bỏ qua học bạ số.");
        return Ok(None);
    };
    let creds_dir = data_dir.join("demo-credentials");
    let witness_db = data_dir.join("demo-witness.db");
    let out_dir = data_dir.join("demo-hocba");
    let log_empty = ledger::size(db).await? == 0;
    if log_empty {
        // Nothing was ever logged here, so no witness can legitimately remember this log.
        remove_sqlite(&witness_db);
        let docs = entity::credential_doc::Entity::find().count(db).await?;
        if docs == 0 {
            // A fresh database: keys, PKI and outputs of an earlier database are stale.
            let _ = std::fs::remove_dir_all(&creds_dir);
            let _ = std::fs::remove_dir_all(&out_dir);
        }
    }
    std::fs::create_dir_all(creds_dir.join("trust"))?;
    std::fs::create_dir_all(&out_dir)?;
    let pki_dir = creds_dir.join("pki");
    let (ca_pem, fresh_pki) = pki(&pki_dir, &p)?;
    let root_pem = creds_dir.join("trust/demo-root.pem");
    std::fs::copy(&ca_pem, &root_pem)?;

    // The witness: its key and address first (the log's setup names them), then the service,
    // once the log's key is known.
    let witness_key = creds_dir.join("witness.key");
    let signer = if witness_key.exists() {
        load_witness_key(&witness_key)?
    } else {
        create_witness_key(&witness_key, WITNESS_NAME)?
    };
    let witness_vkey = creds_dir.join("witness.vkey");
    std::fs::write(&witness_vkey, format!("{}\n", signer.vkey()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("demo witness: cannot listen")?;
    let witness_url = format!("http://{}", listener.local_addr()?);
    let creds = Credentials::load(CredentialsSetup {
        dir: creds_dir.clone(),
        origin: DEMO_ORIGIN.into(),
        verify_url: crate::config::verify_url(public_url),
        fonts_dir: cfg.fonts_dir.clone().into(),
        witnesses: vec![WitnessEndpoint {
            url: witness_url.clone(),
            vkey: signer.vkey(),
        }],
        quorum: 1,
    })?;
    let log_vkey = write_log_vkey(&creds)?;
    let log_key = NoteVerifier::from_vkey(&creds.log_vkey()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let wstore = Store::connect(&truongso_store::sqlite_url(&witness_db.display().to_string()))
        .await
        .context("demo witness database")?;
    wstore.migrate().await.context("demo witness database")?;
    let svc = witness_service(signer, &[(DEMO_ORIGIN.to_string(), log_key)], wstore);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, truongso_web::witness::router(svc)).await {
            tracing::error!(error = %e, "demo witness stopped");
        }
    });

    let state = AppState::new(store.clone(), cfg.web(), cipher.clone()).with_credentials(creds);
    let principal = ActorRef::user(p.principal.id, &p.principal.username);
    let gvcn_actor = match &p.gvcn_user {
        Some((id, name)) => ActorRef::user(*id, name),
        None => ActorRef::system("demo"),
    };
    // Identities: the GVCN's own when a login teaches the class, else the school's; the
    // principal's own; the school's seal.
    let mut ids: Vec<(&str, &str, Option<Uuid>, &str)> = vec![
        (
            "gvcn",
            "gvcn",
            p.gvcn_user.as_ref().map(|u| u.0),
            p.gvcn_name.as_str(),
        ),
        (
            "hieu_truong",
            "hieutruong",
            Some(p.principal.id),
            p.principal.display_name.as_str(),
        ),
        ("con_dau", "condau", None, p.school.as_str()),
    ];
    let login_cert = pki_dir.join(format!("{LOGIN_CERT}.p12")).is_file();
    if let Some(t) = p.login_gvcn.as_ref().filter(|_| login_cert) {
        ids.push(("gvcn", LOGIN_CERT, Some(t.user_id), t.name.as_str()));
    }
    let setup_actor = ActorRef::system("demo");
    for (role, file, user, subject) in ids {
        let have = store_cred::identity_for(db, cipher, p.school_id, role, user).await?;
        if have.is_some() && !fresh_pki {
            continue;
        }
        let cert = cert_summary(&pki_dir.join(format!("{file}.pem")))?;
        store_cred::add_identity(
            db,
            cipher,
            &setup_actor,
            NewIdentity {
                user_id: user,
                org_unit_id: p.school_id,
                role,
                backend: "pkcs12",
                config: serde_json::json!({ "file": format!("pki/{file}.p12") }),
                secret: Some(P12_PASSWORD),
                cert_sha256: &cert.sha256_hex,
                subject: cert.common_name.as_deref().unwrap_or(subject),
                not_after: cert.not_after,
            },
        )
        .await?;
    }

    // Issue one class in full (resuming documents an interrupted run left in signing).
    let mut issued_now = 0;
    if store_cred::for_class(db, p.issue_class.id).await?.is_empty() {
        web_cred::open_class(&state, &principal, p.issue_class.id, p.issued_on).await?;
    }
    let signers = [
        ("gvcn", p.gvcn_user.as_ref().map(|u| u.0), &gvcn_actor),
        ("hieu_truong", Some(p.principal.id), &principal),
        ("con_dau", None, &principal),
    ];
    for doc in store_cred::for_class(db, p.issue_class.id).await? {
        let mut cur = doc;
        while cur.status == "signing" {
            let Some(role) = cur.next_role.clone() else { break };
            let Some((_, user, actor)) = signers.iter().find(|(r, _, _)| *r == role) else {
                break;
            };
            let identity = store_cred::identity_for(db, cipher, p.school_id, &role, *user)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no demo identity for {role}"))?;
            cur = web_cred::sign(&state, actor, &cur, &role, identity).await?;
            if cur.status == "issued" {
                issued_now += 1;
            }
        }
    }
    // The second class is opened for the signing pages, and left for the GVCN.
    let mut opened = 0;
    if let Some(c) = &p.open_class {
        let docs = store_cred::for_class(db, c.id).await?;
        opened = if docs.is_empty() {
            // The demo's homeroom-teacher login taught this class last year, unless a login
            // already did: then `gvcn.thcs` signs it on the pages, as its teacher of record.
            if let Some(t) = p.login_gvcn.as_ref().filter(|_| login_cert)
                && store_cred::homeroom_user(db, c.id).await?.is_none()
            {
                let m = truongso_store::classes::model(db, c.id).await?;
                truongso_store::classes::update(
                    db,
                    &setup_actor,
                    c.id,
                    truongso_store::classes::ClassInput {
                        grade: m.grade.to_string(),
                        name: m.name.clone(),
                        homeroom_staff_id: Some(t.staff_id),
                        multigrade: m.multigrade,
                        specialist: m.specialist,
                        boarding: m.boarding,
                        two_sessions: m.two_sessions,
                        capacity: m.capacity.map(|n| n.to_string()),
                    },
                )
                .await?;
            }
            web_cred::open_class(&state, &principal, c.id, p.issued_on)
                .await?
                .0
                .len()
        } else {
            docs.iter().filter(|d| d.status == "signing").count()
        };
    }
    let note = web_cred::publish(&state).await?.unwrap_or_default();
    let cosigned = note.matches("\n— ").count() >= 2;
    if !cosigned {
        eprintln!(
            "Cảnh báo: đơn vị chứng kiến mẫu chưa ký xác nhận điểm kiểm tra (the demo witness did not cosign)."
        );
    }

    // One issued document and its bundle (refreshed each run: the newest checkpoint).
    let docs = store_cred::for_class(db, p.issue_class.id).await?;
    let doc = docs
        .iter()
        .filter(|d| d.status == "issued")
        .min_by(|a, b| a.doc_id.cmp(&b.doc_id))
        .ok_or_else(|| anyhow::anyhow!("the demo issued no document"))?;
    let leaf = doc.leaf_index.unwrap_or_default() as u64;
    let (pdf_bytes, _) = store_cred::files(db, doc.id).await?;
    let mut bundle = web_cred::proof_bundle(&state, leaf)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no checkpoint covers the demo document"))?;
    // The event itself travels with the proof, so a holder can verify without the log.
    bundle.extra = ledger::leaf(db, leaf).await?;
    let pdf = out_dir.join(format!("{}.pdf", doc.doc_id));
    let bundle_path = out_dir.join(format!("{}.tlog-proof", doc.doc_id));
    std::fs::write(&pdf, &pdf_bytes)?;
    std::fs::write(&bundle_path, bundle.to_text())?;

    let issued = docs.iter().filter(|d| d.status == "issued").count();
    let credentials = state.credentials.clone().expect("set by with_credentials above");
    Ok(Some((
        credentials,
        DemoIssued {
            school: p.school.clone(),
            issued_class: p.issue_class.name.clone(),
            issued,
            open_class: p.open_class.as_ref().map(|c| c.name.clone()),
            opened,
            open_gvcn: match &p.open_class {
                Some(c) => match store_cred::homeroom_user(db, c.id).await? {
                    Some(u) => Some(accounts::get_user(db, u).await?.username),
                    None => None,
                },
                None => None,
            },
            pdf,
            bundle: bundle_path,
            root_pem,
            log_vkey,
            witness_vkey,
            witness_url,
            cosigned,
            secs: t0.elapsed().as_secs_f64(),
            reused: issued_now == 0,
            gvcn_signer: p
                .gvcn_user
                .as_ref()
                .map(|u| u.1.clone())
                .unwrap_or_else(|| format!("danh tính ký của {} (the school's own identity)", p.school)),
        },
    )))
}

impl DemoIssued {
    /// The `truongso verify` command for the written document against the served log.
    pub fn verify_command(&self, server: &str) -> String {
        format!(
            "truongso verify {} --bundle {} --trust {} --log-key {} --witness {} --quorum 1 --url {server}",
            self.pdf.display(),
            self.bundle.display(),
            self.root_pem.display(),
            self.log_vkey.display(),
            self.witness_vkey.display(),
        )
    }

    pub fn print(&self, server: &str) {
        let how = if self.reused {
            "dùng lại"
        } else {
            "đã phát hành"
        };
        println!(
            "\nHọc bạ số mẫu ({how}, {:.1} giây): {} — lớp {} năm {SCHOOL_YEAR}: {} học bạ đã ký đủ 3 chữ ký \
             và ghi sổ cái{}.",
            self.secs,
            self.school,
            self.issued_class,
            self.issued,
            if self.cosigned {
                ", có chữ ký xác nhận của đơn vị chứng kiến"
            } else {
                ""
            }
        );
        if let Some(c) = &self.open_class {
            println!(
                "  Lớp {c}: {} học bạ đang chờ ký trên trang /hoc-ba (waiting to be signed): GVCN {} → \
                 Hiệu trưởng hieutruong.thcs → con dấu hieutruong.thcs.",
                self.opened,
                self.open_gvcn
                    .as_deref()
                    .unwrap_or("(chưa có tài khoản / no login)")
            );
        }
        println!(
            "  GVCN lớp {} ký bằng (signed as homeroom teacher by): {}",
            self.issued_class, self.gvcn_signer
        );
        println!(
            "  Đơn vị chứng kiến mẫu (demo witness): {}/add-checkpoint",
            self.witness_url
        );
        println!("  Một bản học bạ và bằng chứng sổ cái (one issued PDF and its proof):");
        println!("    {}", self.pdf.display());
        println!("    {}", self.bundle.display());
        println!("  Kiểm tra (verify):");
        println!("    {}", self.verify_command(server));
        println!("  hoặc tải tệp lên (or upload it at) {server}/xac-minh");
    }
}
