//! The public side over real HTTP, on both databases, with every component real (test PKI,
//! PKCS#12 signers, a separate witness server, the log in the database):
//!
//! - `/log/*`: every tile of a log of a few hundred leaves equals what the ledger crate computes
//!   in memory; refusals are 400/404 with a bilingual text body; the independent Python verifier
//!   (scripts/tlog_verify.py) accepts entries fetched from the running server and refuses a
//!   wrong log key;
//! - `/xac-minh` and `POST /api/v1/verify`: a valid issued học bạ, a tampered copy, a file that is
//!   not a PDF, the wrong type, too large (declared and chunked), a revoked document, a QR code
//!   that does not match, a scanned QR code alone (status and hash, no personal data), proof
//!   bundles that verify, the per-address rate limit;
//! - `/tra-cuu-van-bang` and `POST /api/v1/diplomas/lookup`: match, no match (neutral), wrong date
//!   of birth, missing and malformed fields, the audit trail without clear personal data, the
//!   rate limit;
//! - every new route is declared public and answers anonymous callers.

use reqwest::Client;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use truongso_core::credentials::record::{self, Issuer, Learner, Record, VAN_BANG_SCHEMA, VanBang};
use truongso_core::credentials::{DocKind, sha256_hex};
use truongso_docs::credentials::pki::{PkiSpec, TestPki};
use truongso_docs::credentials::render::{RenderOptions, render_van_bang};
use truongso_ledger::bundle::TlogProof;
use truongso_ledger::cosignature::CosignatureSigner;
use truongso_ledger::log::Log;
use truongso_ledger::note::{NoteSigner, NoteVerifier};
use truongso_ledger::storage::MemoryStorage;
use truongso_ledger::tiles;
use truongso_ledger::witness::Witness;
use truongso_store::credentials::{self as store_cred, DiplomaKeys, Doc, NewDoc, NewIdentity};
use truongso_store::ledger::{self, NewLeaf};
use truongso_store::testing::{Backend, TestDb, fresh};
use truongso_store::{ActorRef, demo, org, school_years};
use truongso_web::credentials::{self, Credentials, CredentialsSetup, WitnessEndpoint};
use truongso_web::routes::{Access, build};
use truongso_web::witness::{WitnessService, router};
use truongso_web::{AppState, WebConfig};

const ORIGIN: &str = "hocba.test.truongso.vn/log";
/// The upload limit of the test server (small, so "too large" needs no 20 MiB body).
const UPLOAD_LIMIT: usize = 2 * 1024 * 1024;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("truongso-{tag}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn setup(dir: &Path, witnesses: Vec<WitnessEndpoint>) -> CredentialsSetup {
    CredentialsSetup {
        dir: dir.to_path_buf(),
        origin: ORIGIN.into(),
        verify_url: "https://truongso.test/xac-minh".into(),
        fonts_dir: "/usr/share/fonts/truetype/dejavu".into(),
        quorum: witnesses.len(),
        witnesses,
    }
}

/// A witness server on its own SQLite database; returns its base URL and vkey.
async fn start_witness(log_vkey: &str) -> (String, String) {
    let signer = CosignatureSigner::from_seed("witness.test.truongso.vn/w1", &[7u8; 32]).unwrap();
    let vkey = signer.vkey();
    let mut w = Witness::new(signer);
    w.add_log(ORIGIN, vec![NoteVerifier::from_vkey(log_vkey).unwrap()]);
    let db = fresh(Backend::Sqlite).await;
    let svc = Arc::new(WitnessService {
        witness: w,
        store: db.store.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _keep = db;
        axum::serve(listener, router(svc)).await.unwrap();
    });
    (base, vkey)
}

/// The real router with credentials (log key, the PKI's root, one witness), served on
/// 127.0.0.1:0 behind a "proxy" so tests can speak for several client addresses.
struct App {
    base: String,
    state: AppState,
    db: TestDb,
    dir: PathBuf,
    witness_vkey: String,
}

impl App {
    async fn start(backend: Backend, seed_demo: bool) -> Self {
        let db = fresh(backend).await;
        let cipher = truongso_store::testing::cipher();
        if seed_demo {
            demo::seed(&db.store, &cipher, demo::DemoOptions::small(1))
                .await
                .unwrap();
        }
        let dir = temp_dir("public");
        let pki = TestPki::generate(
            &dir.join("pki"),
            &PkiSpec::school(
                "Trường THCS Kiểm Thử",
                "Nguyễn Thị Chủ Nhiệm",
                "Trần Văn Hiệu Trưởng",
                "mat-khau",
            ),
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("trust")).unwrap();
        std::fs::copy(&pki.ca_pem, dir.join("trust/test-root.pem")).unwrap();
        let first = Credentials::load(setup(&dir, vec![])).unwrap();
        let (url, witness_vkey) = start_witness(&first.log_vkey()).await;
        let creds = Credentials::load(setup(
            &dir,
            vec![WitnessEndpoint {
                url,
                vkey: witness_vkey.clone(),
            }],
        ))
        .unwrap();
        let cfg = WebConfig {
            max_upload_bytes: UPLOAD_LIMIT,
            behind_proxy: true,
            ..WebConfig::default()
        };
        let state = AppState::new(db.store.clone(), cfg, cipher).with_credentials(creds);
        let (router, _) = build(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            base,
            state,
            db,
            dir,
            witness_vkey,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn creds(&self) -> &Credentials {
        self.state.credentials.as_ref().unwrap()
    }

    async fn stop(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        self.db.cleanup().await;
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

const BOUNDARY: &str = "----truongso-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body: (name, filename and type for files, bytes).
/// One form field: name, (file name, type) for a file, contents.
type Field<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

fn multipart(parts: &[Field<'_>]) -> Vec<u8> {
    let mut out = vec![];
    for (name, file, data) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some((filename, mime)) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn pdf_part(pdf: &[u8]) -> Vec<u8> {
    multipart(&[("file", Some(("hoc-ba.pdf", "application/pdf")), pdf)])
}

async fn post_multipart(c: &Client, url: String, body: Vec<u8>, ip: &str) -> reqwest::Response {
    c.post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("x-forwarded-for", ip)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn api_verify(app: &App, body: Vec<u8>, ip: &str) -> (u16, Value) {
    let r = post_multipart(&client(), app.url("/api/v1/verify"), body, ip).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn page_verify(app: &App, body: Vec<u8>, ip: &str) -> (u16, String) {
    let r = post_multipart(&client(), app.url("/xac-minh"), body, ip).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn get(c: &Client, url: String, ip: &str) -> reqwest::Response {
    c.get(url).header("x-forwarded-for", ip).send().await.unwrap()
}

/// The codes of the failing lines of an API verdict.
fn failing(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !l["ok"].as_bool().unwrap())
        .map(|l| l["code"].as_str().unwrap().to_string())
        .collect()
}

/// The rows of the verdict table of the result page: (data-code, passed).
fn page_rows(html: &str) -> Vec<(String, bool)> {
    html.split("<tr data-code=\"")
        .skip(1)
        .map(|rest| {
            let code = rest.split('"').next().unwrap().to_string();
            let class = rest.split("class=\"").nth(1).unwrap().split('"').next().unwrap();
            (code, class == "ok")
        })
        .collect()
}

/// Issued documents of the demo's model THCS school: three học bạ and one diploma.
struct Issued {
    hoc_ba: Vec<Doc>,
    diploma: Doc,
    diploma_record: VanBang,
}

async fn issue_documents(app: &App) -> Issued {
    let db = &app.db.store.db;
    let cipher = &app.state.cipher;
    let so = org::by_code(db, "08").await.unwrap();
    let schools = org::in_subtree(db, &so.path, Some(truongso_core::org::OrgKind::School))
        .await
        .unwrap();
    let mut found = None;
    for s in schools {
        let Some(year) = school_years::for_school(db, s.id)
            .await
            .unwrap()
            .into_iter()
            .find(|y| y.name == "2025-2026")
        else {
            continue;
        };
        let classes = store_cred::classes_with_results(db, s.id, year.id).await.unwrap();
        if let Some(c) = classes.first() {
            found = Some((s, c.id));
            break;
        }
    }
    let (school, class) = found.expect("a demo school with last year's results");
    let clerk = ActorRef::system("test");
    for (unit, role, file) in [
        (school.id, "gvcn", "gvcn.p12"),
        (school.id, "hieu_truong", "hieutruong.p12"),
        (school.id, "con_dau", "condau.p12"),
        (so.id, "giam_doc_so", "condau.p12"),
    ] {
        store_cred::add_identity(
            db,
            cipher,
            &clerk,
            NewIdentity {
                user_id: None,
                org_unit_id: unit,
                role,
                backend: "pkcs12",
                config: serde_json::json!({ "file": format!("pki/{file}") }),
                secret: Some("mat-khau"),
                cert_sha256: "-",
                subject: role,
                not_after: chrono::Utc::now() + chrono::Duration::days(365),
            },
        )
        .await
        .unwrap();
    }
    let on = chrono::NaiveDate::from_ymd_opt(2026, 5, 31).unwrap();
    let (docs, _) = credentials::open_class(&app.state, &clerk, class, on)
        .await
        .unwrap();
    assert!(docs.len() >= 3, "{} documents", docs.len());
    let mut hoc_ba = vec![];
    for d in docs.iter().take(3) {
        let mut cur = d.clone();
        for role in ["gvcn", "hieu_truong", "con_dau"] {
            let id = store_cred::identity_for(db, cipher, school.id, role, None)
                .await
                .unwrap()
                .unwrap();
            cur = credentials::sign(&app.state, &clerk, &cur, role, id)
                .await
                .unwrap();
        }
        assert_eq!(cur.status, "issued");
        hoc_ba.push(cur);
    }

    // A diploma, rendered, signed by the Sở and logged the same way.
    let vb = VanBang {
        schema: VAN_BANG_SCHEMA.into(),
        doc_id: record::doc_id(DocKind::VanBang, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
        diploma_type: "tot_nghiep_thcs".into(),
        issuer: Issuer {
            code: "08".into(),
            name: so.name.clone(),
            parents: vec![],
            place: "Kiểm Thử".into(),
        },
        learner: Learner {
            personal_id: None,
            moet_code: None,
            full_name: "Nguyễn Thị Ánh Dương".into(),
            date_of_birth: "2011-03-09".into(),
            sex: "nu".into(),
            ethnicity: None,
            place_of_birth: None,
        },
        school_name: "Trường THCS Kiểm Thử".into(),
        graduation_year: 2026,
        classification: Some("gioi".into()),
        training_mode: "chinh_quy".into(),
        serial: "A 0012345".into(),
        register_no: "2026/KT-0042".into(),
        decision_no: "123/QĐ-SGDĐT".into(),
        decision_date: "2026-06-20".into(),
        signer_title: "Giám đốc".into(),
        signer_name: "Trần Văn Quyết".into(),
        issued_on: "2026-06-25".into(),
    };
    let canonical = vb.canonical().unwrap();
    let opts = RenderOptions::new(
        app.creds().setup.verify_url.clone(),
        chrono::Utc::now().fixed_offset(),
    );
    let pdf = render_van_bang(&vb, &canonical, &opts, &app.creds().fonts).unwrap();
    let doc = store_cred::create(
        db,
        &clerk,
        NewDoc {
            doc_id: &vb.doc_id,
            kind: DocKind::VanBang,
            issuer_id: so.id,
            learner_id: None,
            school_year_id: None,
            class_id: None,
            record: &canonical,
            pdf: &pdf,
            first_role: "giam_doc_so",
            corrects: None,
            diploma: Some(DiplomaKeys {
                serial: "A 0012345",
                register_no: "2026/KT-0042",
                full_name: &vb.learner.full_name,
                date_of_birth: chrono::NaiveDate::from_ymd_opt(2011, 3, 9).unwrap(),
            }),
        },
    )
    .await
    .unwrap();
    let id = store_cred::identity_for(db, cipher, so.id, "giam_doc_so", None)
        .await
        .unwrap()
        .unwrap();
    let diploma = credentials::sign(&app.state, &clerk, &doc, "giam_doc_so", id)
        .await
        .unwrap();
    assert_eq!(diploma.status, "issued");
    let note = credentials::publish(&app.state).await.unwrap().unwrap();
    assert_eq!(
        note.matches("\n— ").count(),
        2,
        "log signature and a cosignature: {note}"
    );
    Issued {
        hoc_ba,
        diploma,
        diploma_record: vb,
    }
}

fn holder_of(record: &[u8]) -> String {
    match Record::parse(record).unwrap() {
        Record::HocBa(r) => r.learner.full_name.clone(),
        Record::VanBang(r) => r.learner.full_name.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// The verify page and API

async fn verify_flow(backend: Backend) {
    let app = App::start(backend, true).await;
    let db = app.db.store.db.clone();
    let issued = issue_documents(&app).await;
    let (pdf, rec) = store_cred::files(&db, issued.hoc_ba[0].id).await.unwrap();
    let holder = holder_of(&rec);
    let hash = sha256_hex(&rec);
    let doc_id = issued.hoc_ba[0].doc_id.clone();
    let ip = "198.51.100.1";

    // The empty form, anonymous, in Vietnamese.
    let r = get(&client(), app.url("/xac-minh"), ip).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Xác minh học bạ số, văn bằng số"), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("tối đa 2 MiB"), "the limit is stated");

    // A valid issued học bạ: the valid headline, every line ✓, the record's key facts.
    let (status, html) = page_verify(&app, pdf_part(&pdf), ip).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("✓ Văn bản hợp lệ"), "{html}");
    let rows = page_rows(&html);
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert!(rows.iter().all(|(_, ok)| *ok), "{rows:?}");
    assert!(!html.contains("✗"), "no failing mark: {html}");
    assert!(html.contains(&holder), "the file proves its holder's name");
    assert!(html.contains(&format!("/xac-minh/{doc_id}.tlog-proof")));
    assert!(html.contains("Chữ ký số") && html.contains("Cả 3 chữ ký số đều đúng"));

    let (status, v) = api_verify(&app, pdf_part(&pdf), ip).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["headline"], "Văn bản hợp lệ");
    assert_eq!(v["lines"].as_array().unwrap().len(), 9);
    assert!(failing(&v).is_empty(), "{v}");
    assert_eq!(v["record"]["doc_id"], doc_id.as_str());
    assert_eq!(v["record"]["kind"], "hoc_ba");
    assert_eq!(v["record"]["facts"]["holder_name"], holder.as_str());
    assert_eq!(v["record"]["facts"]["school_year"], "2025-2026");
    assert_eq!(
        v["record"]["proof_url"],
        format!("/xac-minh/{doc_id}.tlog-proof").as_str()
    );

    // English through the language switch, which returns to the page.
    let en = cookie_client();
    let r = en.get(app.url("/lang/en?next=/xac-minh")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/xac-minh");
    let r = post_multipart(&en, app.url("/xac-minh"), pdf_part(&pdf), ip).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("✓ Document is valid"), "{html}");
    assert!(html.contains("Digital signatures"), "{html}");

    // A signed-in user posts the same form without any token (the form is exempt from CSRF).
    let user = cookie_client();
    let login_page = user
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = csrf_of(&login_page);
    let r = user
        .post(app.url("/login"))
        .form(&[
            ("_csrf", pre.as_str()),
            ("username", "hieutruong.thcs"),
            ("password", demo::DEMO_PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post_multipart(&user, app.url("/xac-minh"), pdf_part(&pdf), ip).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Văn bản hợp lệ"));

    // Tampered: bytes appended after the last signature. Not valid, with the precise line;
    // the signatures and the record still hold, so whose document it is is still shown.
    let mut appended = pdf.clone();
    appended.extend_from_slice(b"\n% appended after signing\n");
    let (status, html) = page_verify(&app, pdf_part(&appended), ip).await;
    assert_eq!(status, 200);
    assert!(html.contains("✗ Văn bản KHÔNG hợp lệ"), "{html}");
    let rows = page_rows(&html);
    assert_eq!(
        rows.iter()
            .filter(|(_, ok)| !ok)
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>(),
        vec!["modified_after_signing"]
    );
    assert!(html.contains("Tệp đã bị thêm hoặc sửa nội dung sau chữ ký cuối cùng."));
    let (_, v) = api_verify(&app, pdf_part(&appended), ip).await;
    assert_eq!(v["valid"], false);
    assert_eq!(failing(&v), vec!["modified_after_signing"]);

    // Tampered inside the signed bytes: the digest no longer matches, and nothing the file
    // claims about its holder is shown.
    let mut flipped = pdf.clone();
    let at = flipped
        .windows(9)
        .position(|w| w == b"/Producer")
        .or_else(|| flipped.windows(6).position(|w| w == b"/Title"))
        .expect("an info string to alter")
        + 3;
    flipped[at] ^= 0x20;
    let (_, v) = api_verify(&app, pdf_part(&flipped), ip).await;
    assert_eq!(v["valid"], false);
    assert!(failing(&v).contains(&"digest_mismatch".to_string()), "{v}");
    assert!(v["record"]["facts"].is_null(), "{v}");
    let (_, html) = page_verify(&app, pdf_part(&flipped), ip).await;
    assert!(html.contains("Văn bản KHÔNG hợp lệ"));
    assert!(!html.contains(&holder), "facts withheld for a broken file");
    assert!(html.contains("Thông tin trong văn bản không được hiển thị"));

    // Not a PDF at all (declared as one): the verdict says so.
    let (status, v) = api_verify(&app, pdf_part(b"hello, not a pdf"), ip).await;
    assert_eq!(status, 200);
    assert_eq!(v["valid"], false);
    assert_eq!(failing(&v)[0], "not_pdf");
    assert!(v["record"].is_null());
    let (_, html) = page_verify(&app, pdf_part(b"hello, not a pdf"), ip).await;
    assert!(html.contains("Tệp này không phải là tệp PDF."), "{html}");

    // The wrong type, nothing chosen, an empty file, two files, not multipart at all.
    let text = multipart(&[("file", Some(("note.txt", "text/plain")), b"hello")]);
    let (status, v) = api_verify(&app, text.clone(), ip).await;
    assert_eq!(status, 415);
    assert_eq!(v["error"]["code"], "public.not_pdf_type");
    assert_eq!(v["error"]["field"], "file");
    assert_eq!(
        v["error"]["message"],
        "Chỉ nhận tệp PDF (application/pdf); tệp đã chọn có kiểu «text/plain»."
    );
    let (status, html) = page_verify(&app, text, ip).await;
    assert_eq!(status, 415);
    assert!(html.contains("tệp đã chọn có kiểu «text/plain»"), "{html}");
    let (status, v) = api_verify(&app, multipart(&[("doc", None, b"")]), ip).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (422, Some("public.file_missing"))
    );
    let (status, v) = api_verify(
        &app,
        multipart(&[("file", Some(("empty.pdf", "application/pdf")), b"")]),
        ip,
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (422, Some("public.empty_file"))
    );
    let two = multipart(&[
        ("file", Some(("a.pdf", "application/pdf")), &pdf),
        ("file", Some(("b.pdf", "application/pdf")), &pdf),
    ]);
    let (status, v) = api_verify(&app, two, ip).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (422, Some("public.one_file"))
    );
    let r = client()
        .post(app.url("/api/v1/verify"))
        .header("content-type", "application/pdf")
        .header("x-forwarded-for", ip)
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "public.not_multipart");

    // Too large: refused from the declared length before reading, and from the bytes read when
    // the client sends no length (chunked).
    let big = vec![b'%'; UPLOAD_LIMIT + 4096];
    let (status, v) = api_verify(&app, pdf_part(&big), ip).await;
    assert_eq!(status, 413);
    assert_eq!(v["error"]["code"], "payload_too_large");
    let (status, body) = chunked_post(&app, "/api/v1/verify", &pdf_part(&big), ip).await;
    assert_eq!(status, 413, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "public.file_too_large");
    assert_eq!(
        v["error"]["message"],
        "Tệp quá lớn: chỉ nhận tệp PDF tối đa 2 MiB."
    );
    let (status, body) = chunked_post(&app, "/xac-minh", &pdf_part(&big), ip).await;
    assert_eq!(status, 413);
    assert!(
        body.contains("Tệp quá lớn: chỉ nhận tệp PDF tối đa 2 MiB."),
        "{body}"
    );

    // QR parameters that do not match the file.
    let (_, rec1) = store_cred::files(&db, issued.hoc_ba[1].id).await.unwrap();
    let other_id = issued.hoc_ba[1].doc_id.clone();
    let mismatched = multipart(&[
        ("file", Some(("hb.pdf", "application/pdf")), &pdf),
        ("doc", None, other_id.as_bytes()),
        ("h", None, sha256_hex(&rec1).as_bytes()),
    ]);
    let (_, v) = api_verify(&app, mismatched.clone(), ip).await;
    assert_eq!(failing(&v), vec!["qr_mismatch"], "{v}");
    let (_, html) = page_verify(&app, mismatched, ip).await;
    assert!(html.contains("Mã QR không khớp với văn bản này."));
    let matching = multipart(&[
        ("file", Some(("hb.pdf", "application/pdf")), &pdf),
        ("doc", None, doc_id.as_bytes()),
        ("h", None, hash.as_bytes()),
    ]);
    let (_, v) = api_verify(&app, matching, ip).await;
    assert_eq!(v["valid"], true, "{v}");
    let bad_qr = multipart(&[
        ("file", Some(("hb.pdf", "application/pdf")), &pdf),
        ("doc", None, b"HB-NOTANID"),
    ]);
    let (status, v) = api_verify(&app, bad_qr, ip).await;
    assert_eq!(status, 422);
    assert_eq!(v["error"]["code"], "public.qr_incomplete");

    // A scanned QR code alone: what the log says, no personal data.
    let qr_ip = "198.51.100.2";
    let r = get(
        &client(),
        app.url(&format!("/xac-minh?doc={doc_id}&h={hash}")),
        qr_ip,
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Văn bản đang có hiệu lực."), "{html}");
    assert!(html.contains(&hash));
    assert!(html.contains("Mã băm trên mã QR khớp với mã băm đã ghi trên sổ cái."));
    assert!(!html.contains(&holder), "no personal data for a QR lookup");
    assert!(
        html.contains(&format!("value=\"{doc_id}\"")),
        "the form carries the QR claim"
    );
    let wrong_h = "0".repeat(64);
    let html = get(
        &client(),
        app.url(&format!("/xac-minh?doc={doc_id}&h={wrong_h}")),
        qr_ip,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("KHÔNG khớp"), "{html}");
    let unknown = record::doc_id(DocKind::HocBa, [1; 10]);
    let r = get(
        &client(),
        app.url(&format!("/xac-minh?doc={unknown}&h={hash}")),
        qr_ip,
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&format!("Không tìm thấy văn bản có mã {unknown} trên sổ cái."))
    );
    let r = get(&client(), app.url("/xac-minh?doc=HB-123&h=xyz"), qr_ip).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Mã văn bản không hợp lệ"), "{html}");
    assert!(html.contains("Mã băm phải gồm đúng 64 chữ số thập lục phân"));

    // The document's status and proof bundle through the API; the bundle verifies.
    let r = get(
        &client(),
        app.url(&format!("/api/v1/credentials/{doc_id}/status")),
        qr_ip,
    )
    .await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    let leaf = issued.hoc_ba[0].leaf_index.unwrap() as u64;
    assert_eq!(s["status"], "issued");
    assert_eq!(s["leaf_index"], leaf);
    assert_eq!(s["sha256_data"], hash.as_str());
    assert_eq!(s["sha256_pdf"], sha256_hex(&pdf).as_str());
    assert_eq!(s["checkpoint_size"], 4);
    assert_eq!(s["in_checkpoint"], true);
    for path in [
        format!("/xac-minh/{doc_id}.tlog-proof"),
        format!("/api/v1/credentials/{doc_id}/proof"),
    ] {
        let r = get(&client(), app.url(&path), qr_ip).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.headers()["content-disposition"],
            format!("attachment; filename=\"{doc_id}.tlog-proof\"").as_str()
        );
        let text = r.text().await.unwrap();
        let proof = TlogProof::parse(text.as_bytes()).unwrap();
        assert_eq!(proof.index, leaf);
        let leaf_data = ledger::leaf(&db, leaf).await.unwrap().unwrap();
        let ok = proof
            .verify(
                &leaf_data,
                std::slice::from_ref(&app.creds().log),
                &app.creds().policy,
            )
            .unwrap();
        assert_eq!(ok.cosignatures.cosigned.len(), 1);
    }
    let r = get(
        &client(),
        app.url(&format!("/xac-minh/{unknown}.tlog-proof")),
        qr_ip,
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = get(&client(), app.url("/api/v1/credentials/not-an-id/status"), qr_ip).await;
    assert_eq!(r.status(), 422);
    let r = get(
        &client(),
        app.url(&format!("/api/v1/credentials/{unknown}/status")),
        qr_ip,
    )
    .await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "public.unknown_document");

    // Revoked: the verdict's status line says so; the log status too, on page and API.
    let (pdf2, rec2) = store_cred::files(&db, issued.hoc_ba[2].id).await.unwrap();
    credentials::revoke(
        &app.state,
        &ActorRef::system("test"),
        &issued.hoc_ba[2],
        "issued_in_error",
    )
    .await
    .unwrap();
    let (_, v) = api_verify(&app, pdf_part(&pdf2), ip).await;
    assert_eq!(v["valid"], false);
    assert_eq!(failing(&v), vec!["revoked"], "{v}");
    assert_eq!(
        v["record"]["facts"]["holder_name"],
        holder_of(&rec2).as_str(),
        "a revoked document still shows whose it is"
    );
    let (_, html) = page_verify(&app, pdf_part(&pdf2), ip).await;
    assert!(
        html.contains("Văn bản đã bị THU HỒI (lý do: cấp nhầm)."),
        "{html}"
    );
    let id2 = &issued.hoc_ba[2].doc_id;
    let html = get(
        &client(),
        app.url(&format!("/xac-minh?doc={id2}&h={}", sha256_hex(&rec2))),
        qr_ip,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains("Văn bản đã bị THU HỒI (lý do: cấp nhầm)."),
        "{html}"
    );
    let s: Value = get(
        &client(),
        app.url(&format!("/api/v1/credentials/{id2}/status")),
        qr_ip,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(s["status"], "revoked");
    assert_eq!(s["revoke_reason"], "issued_in_error");

    // The diploma verifies too, with its own facts.
    let (vpdf, _) = store_cred::files(&db, issued.diploma.id).await.unwrap();
    let (_, v) = api_verify(&app, pdf_part(&vpdf), ip).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["record"]["kind"], "van_bang");
    assert_eq!(v["record"]["facts"]["serial"], "A 0012345");

    // The rate limit: 30 verifications a minute per address, then 429 in Vietnamese with
    // Retry-After, on the API and the page alike; another address is not affected.
    let busy = "203.0.113.9";
    for i in 0..30 {
        let r = get(
            &client(),
            app.url(&format!("/api/v1/credentials/{doc_id}/status")),
            busy,
        )
        .await;
        assert_eq!(r.status(), 200, "request {i}");
    }
    let r = get(
        &client(),
        app.url(&format!("/api/v1/credentials/{doc_id}/status")),
        busy,
    )
    .await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "public.verify_rate_limited");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Bạn đã gửi quá nhiều yêu cầu xác minh")
    );
    let (status, _) = api_verify(&app, pdf_part(&pdf), busy).await;
    assert_eq!(status, 429);
    let (status, html) = page_verify(&app, pdf_part(&pdf), busy).await;
    assert_eq!(status, 429);
    assert!(
        html.contains("Bạn đã gửi quá nhiều yêu cầu xác minh từ địa chỉ này."),
        "{html}"
    );
    let r = get(
        &client(),
        app.url(&format!("/xac-minh?doc={doc_id}&h={hash}")),
        busy,
    )
    .await;
    assert_eq!(r.status(), 429);
    let r = get(
        &client(),
        app.url(&format!("/api/v1/credentials/{doc_id}/status")),
        "203.0.113.10",
    )
    .await;
    assert_eq!(r.status(), 200);

    lookup_checks(&app, &issued).await;
    public_routes(&app, &doc_id).await;
    app.stop().await;
}

/// A POST with `Transfer-Encoding: chunked` (no declared length), over a raw connection.
async fn chunked_post(app: &App, path: &str, body: &[u8], ip: &str) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://").to_string();
    let path = path.to_string();
    let ip = ip.to_string();
    let body = body.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Transfer-Encoding: chunked\r\nX-Forwarded-For: {ip}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        for chunk in body.chunks(64 * 1024) {
            // The server may answer and close before everything is sent.
            if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || s.write_all(chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut out = vec![];
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, body)
    })
    .await
    .unwrap()
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Diploma lookup

async fn lookup_checks(app: &App, issued: &Issued) {
    let db = &app.db.store.db;
    let vb = &issued.diploma_record;
    let ip = "198.51.100.20";
    let c = cookie_client();
    let html = get(&c, app.url("/tra-cuu-van-bang"), ip)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Tra cứu văn bằng"), "{html}");
    let csrf = csrf_of(&html);
    let audits_before = lookup_audits(app).await.len();

    let post = |serial: &'static str, name: &'static str, dob: &'static str| {
        let c = c.clone();
        let url = app.url("/tra-cuu-van-bang");
        let csrf = csrf.clone();
        async move {
            let r = c
                .post(url)
                .header("x-forwarded-for", ip)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("serial", serial),
                    ("full_name", name),
                    ("date_of_birth", dob),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // A match: every field of the register, the status and the link to verify.
    let (status, html) = post("A 0012345", "Nguyễn Thị Ánh Dương", "09/03/2011").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Tìm thấy văn bằng — Có hiệu lực"), "{html}");
    for needle in [
        "Bằng tốt nghiệp trung học cơ sở",
        "Nguyễn Thị Ánh Dương",
        "09/03/2011",
        "Trường THCS Kiểm Thử",
        "2026",
        "Giỏi",
        "A 0012345",
        "2026/KT-0042",
        vb.issuer.name.as_str(),
    ] {
        assert!(html.contains(needle), "{needle} missing: {html}");
    }
    let link = format!(
        "/xac-minh?doc={}&#38;h={}",
        issued.diploma.doc_id, issued.diploma.sha256_data
    );
    assert!(html.contains(&link), "{link} missing: {html}");
    // Case, accents, spacing and an ISO date do not matter.
    let (_, html) = post(" a  0012345 ", "nguyen thi anh duong", "2011-03-09").await;
    assert!(html.contains("Tìm thấy văn bằng"), "{html}");

    // No match: one neutral message whichever field was wrong.
    let neutral = "Không tìm thấy văn bằng phù hợp với thông tin đã nhập.";
    for (serial, name, dob) in [
        ("A 0012345", "Nguyễn Thị Ánh Dương", "10/03/2011"),
        ("A 0012346", "Nguyễn Thị Ánh Dương", "09/03/2011"),
        ("A 0012345", "Nguyễn Thị Ánh", "09/03/2011"),
    ] {
        let (status, html) = post(serial, name, dob).await;
        assert_eq!(status, 200);
        assert!(html.contains(neutral), "{html}");
        assert!(!html.contains("2026/KT-0042"), "nothing of the diploma leaks");
    }

    // Missing and malformed fields, each said beside its field, nothing looked up.
    let (status, html) = post("", "", "").await;
    assert_eq!(status, 422);
    assert_eq!(html.matches("Trường này là bắt buộc.").count(), 3, "{html}");
    let (status, html) = post("A 0012345", "Nguyễn Thị Ánh Dương", "31/02/2011").await;
    assert_eq!(status, 422);
    assert!(html.contains("Ngày không hợp lệ (dd/mm/yyyy)."), "{html}");
    let (status, html) = post("A 0012345", "Nguyễn Thị Ánh Dương", "09/03/2099").await;
    assert_eq!(status, 422);
    assert!(html.contains("Ngày sinh không thể ở tương lai."));
    let (status, html) = post("<script>", "Nguyễn 123", "09/03/2011").await;
    assert_eq!(status, 422);
    assert!(html.contains("Số hiệu văn bằng chỉ gồm"), "{html}");
    assert!(html.contains("Họ và tên chỉ gồm chữ cái"), "{html}");
    assert!(!html.contains("<script>"), "typed input is escaped");

    // The API: the same answers as JSON.
    let api = |body: Value, ip: &'static str| {
        let url = app.url("/api/v1/diplomas/lookup");
        async move {
            let r = client()
                .post(url)
                .header("x-forwarded-for", ip)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").is_some();
            (status, r.json::<Value>().await.unwrap(), retry)
        }
    };
    let (status, v, _) = api(
        serde_json::json!({"serial": "A 0012345", "full_name": "NGUYỄN THỊ ÁNH DƯƠNG", "date_of_birth": "09/03/2011"}),
        "198.51.100.21",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["found"], true);
    let d = &v["diploma"];
    assert_eq!(d["doc_id"], issued.diploma.doc_id.as_str());
    assert_eq!(d["diploma_type"], "tot_nghiep_thcs");
    assert_eq!(d["holder_name"], "Nguyễn Thị Ánh Dương");
    assert_eq!(d["date_of_birth"], "09/03/2011");
    assert_eq!(d["school"], "Trường THCS Kiểm Thử");
    assert_eq!(d["graduation_year"], 2026);
    assert_eq!(d["classification"], "gioi");
    assert_eq!(d["serial"], "A 0012345");
    assert_eq!(d["register_no"], "2026/KT-0042");
    assert_eq!(d["status"], "issued");
    let (status, v, _) = api(
        serde_json::json!({"serial": "A 0012345", "full_name": "Nguyễn Thị Ánh Dương", "date_of_birth": "08/03/2011"}),
        "198.51.100.21",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["found"], false);
    assert!(v["diploma"].is_null());
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Không tìm thấy văn bằng")
    );
    let (status, v, _) = api(
        serde_json::json!({"serial": "A 0012345", "full_name": "Nguyễn Thị Ánh Dương"}),
        "198.51.100.21",
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v["error"]["field"], "date_of_birth");
    assert_eq!(v["error"]["code"], "required");

    // Every lookup that reached the register is audited, with digests only.
    let audits = lookup_audits(app).await;
    assert_eq!(audits.len() - audits_before, 2 + 3 + 2, "{audits:?}");
    for a in &audits {
        for clear in ["0012345", "Nguyễn", "nguyen", "2011", "198.51.100"] {
            assert!(!a.contains(clear), "{clear} in the audit trail: {a}");
        }
    }
    let found = audits.iter().filter(|a| a.contains("\"found\":true")).count();
    assert_eq!(found, 3, "{audits:?}");

    // The limit: 10 lookups per 10 minutes per address, then 429 with Retry-After.
    let many = "203.0.113.50";
    for i in 0..10 {
        let (status, _, _) = api(
            serde_json::json!({"serial": "B 1", "full_name": "Trần Văn An", "date_of_birth": "01/01/2010"}),
            many,
        )
        .await;
        assert_eq!(status, 200, "lookup {i}");
    }
    let (status, v, retry) = api(
        serde_json::json!({"serial": "B 1", "full_name": "Trần Văn An", "date_of_birth": "01/01/2010"}),
        many,
    )
    .await;
    assert_eq!(status, 429);
    assert!(retry);
    assert_eq!(v["error"]["code"], "public.lookup_rate_limited");
    assert_eq!(
        v["error"]["message"],
        "Bạn đã tra cứu quá nhiều lần từ địa chỉ này (tối đa 10 lần trong 10 phút). Vui lòng thử lại sau 10 phút."
    );
    // The page says the same.
    let r = c
        .post(app.url("/tra-cuu-van-bang"))
        .header("x-forwarded-for", many)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("serial", "B 1"),
            ("full_name", "Trần Văn An"),
            ("date_of_birth", "01/01/2010"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Bạn đã tra cứu quá nhiều lần"));
    let _ = db;
}

/// The `after` of every diploma lookup audit event, as JSON text.
async fn lookup_audits(app: &App) -> Vec<String> {
    truongso_store::audit::recent(&app.db.store.db, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "diploma.lookup")
        .map(|e| e.after.unwrap_or_default())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The route table

async fn public_routes(app: &App, doc_id: &str) {
    let (_, specs) = build(app.state.clone());
    let mine = [
        ("GET", "/log/checkpoint", "/log/checkpoint".to_string()),
        ("GET", "/log/vkey", "/log/vkey".to_string()),
        ("GET", "/log/tile/{*path}", "/log/tile/0/000.p/5".to_string()),
        ("GET", "/xac-minh", "/xac-minh".to_string()),
        ("POST", "/xac-minh", "/xac-minh".to_string()),
        (
            "GET",
            "/xac-minh/{file}",
            format!("/xac-minh/{doc_id}.tlog-proof"),
        ),
        ("GET", "/tra-cuu-van-bang", "/tra-cuu-van-bang".to_string()),
        ("POST", "/tra-cuu-van-bang", "/tra-cuu-van-bang".to_string()),
        ("POST", "/api/v1/verify", "/api/v1/verify".to_string()),
        (
            "GET",
            "/api/v1/credentials/{id}/status",
            format!("/api/v1/credentials/{doc_id}/status"),
        ),
        (
            "GET",
            "/api/v1/credentials/{id}/proof",
            format!("/api/v1/credentials/{doc_id}/proof"),
        ),
        (
            "POST",
            "/api/v1/diplomas/lookup",
            "/api/v1/diplomas/lookup".to_string(),
        ),
    ];
    for (method, route, path) in &mine {
        let spec = specs
            .iter()
            .find(|s| s.method == *method && s.path == *route)
            .unwrap_or_else(|| panic!("{method} {route} is not in the route table"));
        assert_eq!(spec.access, Access::Public, "{method} {route}");
        // Anonymous callers get an answer, never a login redirect or a refusal.
        if *method == "GET" {
            let r = get(&client(), app.url(path), "192.0.2.77").await;
            let s = r.status().as_u16();
            assert!(s == 200, "{method} {path} → {s}");
        }
    }
    // The OpenAPI document lists the API routes.
    let doc: Value = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/verify",
        "/api/v1/credentials/{id}/status",
        "/api/v1/credentials/{id}/proof",
        "/api/v1/diplomas/lookup",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} not in OpenAPI");
    }
    assert_eq!(
        doc["paths"]["/api/v1/verify"]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["multipart/form-data"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sqlite() {
    verify_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_postgres() {
    verify_flow(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// The log over HTTP

const LEAVES: u64 = 600;

fn leaf_data(i: u64) -> Vec<u8> {
    format!(
        "{{\"doc_id\":\"HB-{i:016}\",\"doc_kind\":\"hoc_ba\",\"sha256_data\":\"{}\",\"type\":\"issue\",\"v\":\"test\"}}",
        sha256_hex(&i.to_be_bytes())
    )
    .into_bytes()
}

async fn log_flow(backend: Backend) {
    let app = App::start(backend, false).await;
    let db = app.db.store.db.clone();
    let c = client();

    // Before the first checkpoint there is nothing to serve.
    let r = c.get(app.url("/log/checkpoint")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().await.unwrap(),
        "Sổ cái chưa công bố điểm kiểm tra nào.\nThe log has not published a checkpoint yet.\n"
    );
    let r = c.get(app.url("/log/tile/0/000.p/1")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // A log of a few hundred leaves, appended in batches, mirrored in memory by the ledger
    // crate's own log.
    let mut mem = Log::new(ORIGIN, MemoryStorage::new());
    let mut batch = vec![];
    for i in 0..LEAVES {
        mem.append(&leaf_data(i)).unwrap();
        batch.push(NewLeaf {
            data: leaf_data(i),
            doc_id: format!("HB-{i:016}"),
            refers_to: None,
        });
        if batch.len() == 100 {
            ledger::append(&db, &std::mem::take(&mut batch)).await.unwrap();
        }
    }
    let note = credentials::publish(&app.state).await.unwrap().unwrap();
    // Leaves appended after the checkpoint are not served until the next one.
    ledger::append(
        &db,
        &[NewLeaf {
            data: b"later".to_vec(),
            doc_id: "HB-LATER".into(),
            refers_to: None,
        }],
    )
    .await
    .unwrap();

    let r = c.get(app.url("/log/checkpoint")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.headers()["cache-control"], "public, max-age=5");
    let text = r.text().await.unwrap();
    assert_eq!(text, note);
    assert!(text.starts_with(&format!("{ORIGIN}\n{LEAVES}\n")), "{text}");
    let root = base64_encode(&mem.root(LEAVES).unwrap());
    assert_eq!(text.lines().nth(2), Some(root.as_str()));
    let vkey = c
        .get(app.url("/log/vkey"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(vkey.trim(), app.creds().log_vkey());

    // Every tile of the tree, full and partial, hashes and entries, byte for byte.
    let all: Vec<_> = tiles::hash_tiles_for_size(LEAVES)
        .into_iter()
        .chain(tiles::entry_bundles_for_size(LEAVES))
        .collect();
    assert_eq!(all.len(), 3 + 1 + 3, "{all:?}");
    for t in &all {
        let r = c
            .get(app.url(&format!("/log/{}", t.to_path())))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{t}");
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        let cache = r.headers()["cache-control"].to_str().unwrap().to_string();
        if t.is_partial() {
            assert_eq!(cache, "public, max-age=60", "{t}");
        } else {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{t}");
        }
        let got = r.bytes().await.unwrap();
        assert_eq!(got.as_ref(), mem.tile(t).unwrap().as_slice(), "{t}");
    }
    // A smaller partial tile of a full one is determined too.
    let r = c.get(app.url("/log/tile/0/001.p/7")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 7 * 32);

    // Beyond the checkpointed tree: 404 with a text body in both languages.
    for path in [
        "tile/0/002",
        "tile/0/002.p/89",
        "tile/1/000",
        "tile/entries/003",
        "tile/2/000.p/1",
    ] {
        let r = c.get(app.url(&format!("/log/{path}"))).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("điểm kiểm tra mới nhất của sổ cái chỉ có 600 bản ghi")
                && body.contains("the log's newest checkpoint has only 600 entries"),
            "{path}: {body}"
        );
    }
    // Malformed paths: 400.
    for path in [
        "tile/0/x",
        "tile/0/1",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/64/000",
        "tile/entries",
        "tile/a/000",
    ] {
        let r = c.get(app.url(&format!("/log/{path}"))).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.starts_with("Đường dẫn tile không hợp lệ"), "{path}: {body}");
    }

    // The independent Python verifier against the running server.
    let probe = Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .expect("python3 must be installed");
    assert!(probe.success(), "python3 with `cryptography` is required");
    for index in [0u64, 1, 255, 256, 511, 512, 599] {
        let run = tlog_verify(
            &app,
            &app.creds().log_vkey(),
            &app.witness_vkey,
            index,
            &leaf_data(index),
        )
        .await;
        assert_eq!(run["ok"], true, "leaf {index}: {run}");
        assert_eq!(run["tree_size"], LEAVES);
        assert_eq!(run["root"], root.as_str());
        assert_eq!(run["cosigners"][0], "witness.test.truongso.vn/w1");
    }
    // A wrong log key (same origin, other key), a wrong witness, a wrong leaf: not ok.
    let wrong = NoteSigner::from_seed(ORIGIN, &[0x42; 32]).unwrap().vkey();
    let run = tlog_verify(&app, &wrong, &app.witness_vkey, 3, &leaf_data(3)).await;
    assert_eq!(run["ok"], false, "{run}");
    assert!(run["error"].as_str().unwrap().contains("signature"), "{run}");
    let other_witness = CosignatureSigner::from_seed("witness.test.truongso.vn/w1", &[8u8; 32])
        .unwrap()
        .vkey();
    let run = tlog_verify(&app, &app.creds().log_vkey(), &other_witness, 3, &leaf_data(3)).await;
    assert_eq!(run["ok"], false, "{run}");
    let run = tlog_verify(&app, &app.creds().log_vkey(), &app.witness_vkey, 3, &leaf_data(4)).await;
    assert_eq!(run["ok"], false, "{run}");

    app.stop().await;
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn tlog_verify(app: &App, vkey: &str, witness: &str, index: u64, leaf: &[u8]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/tlog_verify.py");
    let args = vec![
        script.display().to_string(),
        "--url".into(),
        app.url("/log"),
        "--vkey".into(),
        vkey.into(),
        "--witness".into(),
        witness.into(),
        "--leaf-index".into(),
        index.to_string(),
        "--leaf-hex".into(),
        hex::encode(leaf),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(&args)
            .output()
            .expect("python3 must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "one line of JSON expected ({e}): {stdout:?} / {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        out.status.success(),
        v["ok"] == true,
        "exit status agrees with {v}"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_sqlite() {
    log_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_postgres() {
    log_flow(Backend::Postgres).await;
}
