//! The học bạ số flow through the service, on both databases, with every component real: the
//! demo's last year rendered into PDF/A-3b, signed in turn with PKCS#12 identities from a fresh
//! test PKI (GVCN → Hiệu trưởng → con dấu), logged, published as a checkpoint that a separate
//! witness server (its own database) cosigns, verified, then revoked. poppler's pdfsig and qpdf
//! check the issued PDF independently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use truongso_core::credentials::verdict::Check;
use truongso_docs::credentials::pki::{PkiSpec, TestPki};
use truongso_ledger::cosignature::CosignatureSigner;
use truongso_ledger::note::NoteVerifier;
use truongso_ledger::witness::Witness;
use truongso_store::credentials::{self as store_cred, NewIdentity};
use truongso_store::testing::{Backend, fresh};
use truongso_store::{ActorRef, demo, org, school_years};
use truongso_web::credentials::{self, Credentials, CredentialsSetup, WitnessEndpoint};
use truongso_web::witness::{WitnessService, router};
use truongso_web::{AppState, WebConfig};

const ORIGIN: &str = "hocba.test.truongso.vn/log";

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

fn pdfsig(pdf: &Path, ca: &Path) -> String {
    let nss = pdf.with_extension("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let db = format!("sql:{}", nss.display());
    let ok = Command::new("certutil")
        .args(["-N", "-d", &db, "--empty-password"])
        .status();
    assert!(ok.expect("certutil (apt-get install libnss3-tools)").success());
    let ok = Command::new("certutil")
        .args(["-A", "-d", &db, "-n", "testroot", "-t", "CT,C,C", "-i"])
        .arg(ca)
        .status()
        .unwrap();
    assert!(ok.success());
    let out = Command::new("pdfsig")
        .args(["-nssdir", &db])
        .arg(pdf)
        .output()
        .expect("pdfsig (apt-get install poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn flow(backend: Backend) {
    let db = fresh(backend).await;
    let cipher = truongso_store::testing::cipher();
    let seeded = demo::seed(&db.store, &cipher, demo::DemoOptions::small(1))
        .await
        .unwrap();
    let dir = temp_dir("creds");
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
    // The log key is created on first load; the witness follows that key.
    let first = Credentials::load(setup(&dir, vec![])).unwrap();
    let (witness_url, witness_vkey) = start_witness(&first.log_vkey()).await;
    let creds = Credentials::load(setup(
        &dir,
        vec![WitnessEndpoint {
            url: witness_url.clone(),
            vkey: witness_vkey,
        }],
    ))
    .unwrap();
    assert_eq!(creds.log_vkey(), first.log_vkey(), "the key file is reused");
    let state = AppState::new(db.store.clone(), WebConfig::default(), cipher.clone()).with_credentials(creds);

    // Last year's classes of the demo's model THCS school.
    let scope = &seeded
        .accounts
        .iter()
        .find(|a| a.username == "hieutruong.thcs")
        .unwrap()
        .scope;
    let so = org::by_code(&db.store.db, "08").await.unwrap();
    let school = org::in_subtree(&db.store.db, &so.path, Some(truongso_core::org::OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| &u.name == scope)
        .unwrap();
    let year = school_years::for_school(&db.store.db, school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|y| y.name == "2025-2026")
        .unwrap();
    let class = store_cred::classes_with_results(&db.store.db, school.id, year.id)
        .await
        .unwrap()[0]
        .id;

    let clerk = ActorRef::system("test");
    for (role, file) in [
        ("gvcn", "gvcn.p12"),
        ("hieu_truong", "hieutruong.p12"),
        ("con_dau", "condau.p12"),
    ] {
        store_cred::add_identity(
            &db.store.db,
            &cipher,
            &clerk,
            NewIdentity {
                user_id: None,
                org_unit_id: school.id,
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
    let (docs, skipped) = credentials::open_class(&state, &clerk, class, on).await.unwrap();
    assert!(!docs.is_empty());
    assert_eq!(skipped, 0);
    // Opening again adds nothing: every learner has a document in signing.
    let (again, skipped) = credentials::open_class(&state, &clerk, class, on).await.unwrap();
    assert!(again.is_empty());
    assert_eq!(skipped, docs.len());

    // A signer that cannot open (wrong password) is the user's to fix: a conflict naming why.
    let mut wrong = store_cred::identity_for(&db.store.db, &cipher, school.id, "gvcn", None)
        .await
        .unwrap()
        .unwrap();
    wrong.secret = Some("sai-mat-khau".into());
    match credentials::sign(&state, &clerk, &docs[0], "gvcn", wrong).await {
        Err(truongso_store::Error::Conflict(m)) => {
            assert_eq!(m.code, "signing_failed");
            assert!(m.params[0].1.starts_with("signer."), "{:?}", m.params);
        }
        other => panic!("{other:?}"),
    }
    let mut issued = vec![];
    for d in docs.iter().take(2) {
        let mut cur = d.clone();
        for role in ["gvcn", "hieu_truong", "con_dau"] {
            let id = store_cred::identity_for(&db.store.db, &cipher, school.id, role, None)
                .await
                .unwrap()
                .unwrap();
            cur = credentials::sign(&state, &clerk, &cur, role, id).await.unwrap();
        }
        assert_eq!(cur.status, "issued");
        assert_eq!(cur.signatures.len(), 3);
        issued.push(cur);
    }
    // Out of turn: the principal cannot sign a document still waiting for its homeroom teacher.
    let id = store_cred::identity_for(&db.store.db, &cipher, school.id, "hieu_truong", None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        credentials::sign(&state, &clerk, &docs[2], "hieu_truong", id)
            .await
            .is_err()
    );

    let note = credentials::publish(&state).await.unwrap().unwrap();
    assert!(note.starts_with(&format!("{ORIGIN}\n2\n")), "{note}");
    assert_eq!(
        note.matches("\n— ").count(),
        2,
        "log signature and one cosignature: {note}"
    );

    // The issued PDF verifies end to end.
    let (pdf, record) = store_cred::files(&db.store.db, issued[0].id).await.unwrap();
    let outcome = credentials::verify_upload(&state, pdf.clone(), None)
        .await
        .unwrap();
    let failures: Vec<_> = outcome.verdict.failures().map(|l| l.code.clone()).collect();
    assert!(outcome.verdict.valid(), "{failures:?}");
    assert_eq!(outcome.record.unwrap().doc_id(), issued[0].doc_id);
    let w = outcome
        .verdict
        .lines
        .iter()
        .find(|l| l.check == Check::Witnesses)
        .unwrap();
    assert_eq!(
        w.params,
        vec![
            ("have".to_string(), "1".to_string()),
            ("need".to_string(), "1".to_string())
        ]
    );
    // The QR code's claim is checked too.
    let h = truongso_core::credentials::sha256_hex(&record);
    let good = credentials::verify_upload(&state, pdf.clone(), Some((issued[0].doc_id.clone(), h.clone())))
        .await
        .unwrap();
    assert!(good.verdict.valid());
    let wrong = credentials::verify_upload(&state, pdf.clone(), Some((issued[1].doc_id.clone(), h)))
        .await
        .unwrap();
    assert!(wrong.verdict.failures().any(|l| l.code == "qr_mismatch"));

    // Independent tools agree on the file.
    let path = dir.join("issued.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = pdfsig(&path, &pki.ca_pem);
    assert_eq!(out.matches("Signature is Valid.").count(), 3, "{out}");
    assert_eq!(out.matches("Certificate is Trusted.").count(), 3, "{out}");
    assert!(out.contains("Total document signed"), "{out}");
    let q = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .status()
        .expect("qpdf");
    assert!(q.success());

    // Bytes appended after the last signature: not valid, and said so.
    let mut tampered = pdf.clone();
    tampered.extend_from_slice(b"\n% appended\n");
    let bad = credentials::verify_upload(&state, tampered, None).await.unwrap();
    assert!(!bad.verdict.valid());
    assert!(bad.verdict.failures().any(|l| l.code == "modified_after_signing"));

    // Not a PDF at all.
    let junk = credentials::verify_upload(&state, b"hello".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(junk.verdict.failures().next().unwrap().code, "not_pdf");

    // Revoked: the log says so and the verifier reports it, with the reason in Vietnamese.
    credentials::revoke(&state, &clerk, &issued[1], "issued_in_error")
        .await
        .unwrap();
    let (pdf1, _) = store_cred::files(&db.store.db, issued[1].id).await.unwrap();
    let revoked = credentials::verify_upload(&state, pdf1, None).await.unwrap();
    let line = revoked
        .verdict
        .failures()
        .find(|l| l.check == Check::Status)
        .unwrap();
    assert_eq!(line.code, "revoked");
    assert_eq!(
        line.message(truongso_core::i18n::Locale::Vi),
        "Văn bản đã bị THU HỒI (lý do: cấp nhầm)."
    );
    // The first is still standing, under the newer checkpoint the witness cosigned again.
    let still = credentials::verify_upload(&state, pdf, None).await.unwrap();
    assert!(still.verdict.valid());
    let note = truongso_store::ledger::latest_checkpoint(&db.store.db)
        .await
        .unwrap()
        .unwrap()
        .1;
    assert!(
        note.starts_with(&format!("{ORIGIN}\n3\n")) && note.matches("\n— ").count() == 2,
        "{note}"
    );

    // A forged checkpoint is refused by the witness.
    let forged = note.replace("\n3\n", "\n4\n");
    let r = reqwest::Client::new()
        .post(format!("{witness_url}/add-checkpoint"))
        .body(format!("old 3\n\n{forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    flow(Backend::Postgres).await;
}
