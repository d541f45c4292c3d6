//! The school workflow of học bạ số through the real router, on both databases: signing
//! identities registered through the page (a certificate under an untrusted root, an expired one
//! and a wrong password refused), a class opened, the homeroom teacher signing only their own
//! class, the principal unable to sign before them, "Ký tất cả", one document signed and sealed
//! to issued, the batch issue of the whole school to 100 % with exact counts, revoke with a bad
//! and a good reason, a copy recorded, a guardian downloading only their own child's issued PDF,
//! and a diploma drawn up, signed by the Sở and found by the public lookup.

mod common;

use chrono::NaiveDate;
use common::{csrf_of, get_text};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use truongso_docs::credentials::pki::{Holder, IdentitySpec, KeyAlgorithm, PkiSpec, TestPki};
use truongso_store::credentials::{self as store_cred};
use truongso_store::entity::{class, staff, year_result};
use truongso_store::testing::{Backend, TestDb, fresh};
use truongso_store::{ActorRef, accounts, demo, org, school_years, tokens};
use truongso_web::credentials::{Credentials, CredentialsSetup};
use truongso_web::{AppState, WebConfig};
use uuid::Uuid;

const PASSWORD: &str = "mat-khau-p12";

struct App {
    base: String,
    db: TestDb,
    state: AppState,
    dir: PathBuf,
    pki: TestPki,
}

impl App {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.db.store.db
    }

    async fn login(&self, username: &str) -> (Client, String) {
        let c = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let pre = csrf_of(&get_text(&c, self.url("/login")).await);
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("_csrf", pre.as_str()),
                ("username", username),
                ("password", demo::DEMO_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login {username}");
        let csrf = csrf_of(&get_text(&c, self.url("/account")).await);
        (c, csrf)
    }

    async fn token(&self, username: &str) -> String {
        let u = accounts::by_username(self.db(), username).await.unwrap().unwrap();
        tokens::create(self.db(), &ActorRef::user(u.id, &u.username), u.id, "test", None)
            .await
            .unwrap()
            .1
    }

    async fn user(&self, username: &str) -> Uuid {
        accounts::by_username(self.db(), username)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    async fn doc(&self, doc_id: &str) -> store_cred::Doc {
        store_cred::lean_by_doc_id(self.db(), doc_id).await.unwrap()
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("truongso-{tag}-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn start(backend: Backend) -> App {
    let db = fresh(backend).await;
    let cipher = truongso_store::testing::cipher();
    demo::seed(&db.store, &cipher, demo::DemoOptions::small(1))
        .await
        .unwrap();
    let dir = temp_dir("hocba-pages");
    let mut spec = PkiSpec::school(
        "Trường THCS Kiểm Thử",
        "Nguyễn Thị Chủ Nhiệm",
        "Trần Văn Hiệu Trưởng",
        PASSWORD,
    );
    spec.identities.push(IdentitySpec {
        name: "giamdoc".into(),
        holder: Holder::Person("Lê Văn Giám Đốc".into()),
        key: KeyAlgorithm::P256,
    });
    let pki = TestPki::generate(&dir.join("pki"), &spec).unwrap();
    let creds_dir = dir.join("creds");
    std::fs::create_dir_all(creds_dir.join("trust")).unwrap();
    std::fs::copy(&pki.ca_pem, creds_dir.join("trust/test-root.pem")).unwrap();
    let creds = Credentials::load(CredentialsSetup {
        dir: creds_dir,
        origin: "hocba.pages.test/log".into(),
        verify_url: "https://truongso.test/xac-minh".into(),
        fonts_dir: "/usr/share/fonts/truetype/dejavu".into(),
        witnesses: vec![],
        quorum: 0,
    })
    .unwrap();
    let state = AppState::new(db.store.clone(), WebConfig::default(), cipher).with_credentials(creds);
    let (router, _) = truongso_web::routes::build(state.clone());
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
    App {
        base,
        db,
        state,
        dir,
        pki,
    }
}

/// A multipart body by hand (the workspace's reqwest has no multipart feature).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = format!("----truongso{}", Uuid::now_v7().simple());
    let mut body = vec![];
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/x-pkcs12\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a .p12 through the identities page; returns the flash shown on the page it lands on.
async fn upload_p12(
    app: &App,
    (c, csrf): (&Client, &str),
    unit: Uuid,
    role: &str,
    holder: &str,
    file: &Path,
    password: &str,
) -> String {
    let bytes = std::fs::read(file).unwrap();
    let unit_s = unit.to_string();
    let (ct, body) = multipart(
        &[("role", role), ("holder", holder), ("password", password)],
        Some(("id.p12", &bytes)),
    );
    let r = c
        .post(app.url(&format!("/hoc-ba/chu-ky-so/pkcs12?unit={unit_s}")))
        .header("content-type", ct)
        .header("x-csrf-token", csrf)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the upload answers with a redirect");
    let to = r.headers()["location"].to_str().unwrap().to_string();
    flash_of(&get_text(c, app.url(&to)).await)
}

fn flash_of(html: &str) -> String {
    let Some(start) = html.find("<div class=\"flash ") else {
        return String::new();
    };
    let rest = &html[start..];
    let text_start = rest.find('>').unwrap() + 1;
    let end = rest.find("</div>").unwrap();
    rest[text_start..end].trim().to_string()
}

/// Posts a form and returns (status, flash of the page redirected to).
async fn post_form(app: &App, c: &Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    if status != 303 {
        return (status, r.text().await.unwrap());
    }
    let to = r.headers()["location"].to_str().unwrap().to_string();
    (status, flash_of(&get_text(c, app.url(&to)).await))
}

async fn school_and_year(app: &App) -> (org::OrgUnit, Uuid) {
    let principal = accounts::by_username(app.db(), "hieutruong.thcs")
        .await
        .unwrap()
        .unwrap();
    let school = org::get(app.db(), principal.owner_org_id).await.unwrap();
    let year = school_years::for_school(app.db(), school.id)
        .await
        .unwrap()
        .into_iter()
        .find(|y| y.name == "2025-2026")
        .unwrap();
    (school, year.id)
}

/// Records the teacher as the class's homeroom teacher: the staff record linked to the account.
async fn make_homeroom(app: &App, class_id: Uuid, username: &str) {
    let user = app.user(username).await;
    let s = staff::Entity::find()
        .filter(staff::Column::UserId.eq(user))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    class::Entity::update_many()
        .col_expr(class::Column::HomeroomStaffId, Expr::value(s.id))
        .filter(class::Column::Id.eq(class_id))
        .exec(app.db())
        .await
        .unwrap();
}

async fn school_flow(backend: Backend) {
    let app = start(backend).await;
    let db = app.db().clone();
    let (school, year) = school_and_year(&app).await;
    let classes = store_cred::classes_with_results(&db, school.id, year)
        .await
        .unwrap();
    assert!(classes.len() >= 3, "the demo's THCS has several closed classes");
    let (a, c_other) = (classes[0].id, classes[1].id);
    make_homeroom(&app, a, "gvcn.thcs").await;
    let results_a = truongso_store::gradebook::class_results(&db, a)
        .await
        .unwrap()
        .len();
    assert!(results_a >= 3);

    // ---- every API route of the workflow is in the OpenAPI document
    let doc: Value = Client::new()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/v1/classes/{id}/credentials", "get"),
        ("/api/v1/credentials/{doc_id}/sign", "post"),
        ("/api/v1/credentials/{doc_id}/revoke", "post"),
        ("/api/v1/credentials/{doc_id}/copies", "post"),
        ("/api/v1/credential-batches", "post"),
        ("/api/v1/credential-batches/{id}", "get"),
        ("/api/v1/diplomas", "get"),
        ("/api/v1/diplomas", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from OpenAPI"
        );
    }

    // ---- signing identities, through the page
    let (pc, pcsrf) = app.login("hieutruong.thcs").await;
    let gvcn_id = app.user("gvcn.thcs").await.to_string();
    let principal_id = app.user("hieutruong.thcs").await.to_string();
    let pki = &app.pki;
    let untrusted = pki.untrusted.as_ref().unwrap().p12.clone();
    let flash = upload_p12(
        &app,
        (&pc, &pcsrf),
        school.id,
        "gvcn",
        &gvcn_id,
        &untrusted,
        PASSWORD,
    )
    .await;
    assert!(
        flash.contains("không do tổ chức chứng thực tin cậy cấp"),
        "{flash}"
    );
    let expired = pki.expired.as_ref().unwrap().p12.clone();
    let flash = upload_p12(
        &app,
        (&pc, &pcsrf),
        school.id,
        "gvcn",
        &gvcn_id,
        &expired,
        PASSWORD,
    )
    .await;
    assert!(flash.contains("đã hết hạn"), "{flash}");
    let gvcn_p12 = pki.identity("gvcn").unwrap().p12.clone();
    let flash = upload_p12(&app, (&pc, &pcsrf), school.id, "gvcn", &gvcn_id, &gvcn_p12, "sai").await;
    assert_eq!(flash, "Mật khẩu của tệp PKCS#12 không đúng.");
    // The seal is the school's, never a person's.
    let condau = pki.identity("condau").unwrap().p12.clone();
    let flash = upload_p12(
        &app,
        (&pc, &pcsrf),
        school.id,
        "con_dau",
        &principal_id,
        &condau,
        PASSWORD,
    )
    .await;
    assert!(flash.starts_with("Trường «Người sử dụng»"), "{flash}");
    assert!(
        store_cred::identities(&db, school.id).await.unwrap().is_empty(),
        "nothing refused was kept"
    );
    for (role, holder, file) in [
        ("gvcn", gvcn_id.as_str(), &gvcn_p12),
        (
            "hieu_truong",
            principal_id.as_str(),
            &pki.identity("hieutruong").unwrap().p12,
        ),
        ("con_dau", "unit", &condau),
    ] {
        let flash = upload_p12(&app, (&pc, &pcsrf), school.id, role, holder, file, PASSWORD).await;
        assert_eq!(flash, "Đã đăng ký chữ ký số.");
    }
    let ids = store_cred::identities(&db, school.id).await.unwrap();
    assert_eq!(ids.len(), 3);
    let page = get_text(&pc, app.url(&format!("/hoc-ba/chu-ky-so?unit={}", school.id))).await;
    assert!(
        page.contains(&format!("<option value=\"{gvcn_id}\">")),
        "the school's people hold identities"
    );
    assert!(
        page.contains("Nguyễn Thị Chủ Nhiệm"),
        "the registered certificates are listed: {page}"
    );
    let gvcn_row = ids.iter().find(|i| i.role == "gvcn").unwrap();
    assert_eq!(gvcn_row.subject, "Nguyễn Thị Chủ Nhiệm");
    assert_eq!(gvcn_row.user_id.map(|u| u.to_string()), Some(gvcn_id.clone()));
    assert!(ids.iter().any(|i| i.role == "con_dau" && i.user_id.is_none()));
    // The stored file has a random name under the credentials directory.
    let files: Vec<_> = std::fs::read_dir(app.dir.join("creds/identities"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 3);
    let (gc, gcsrf) = app.login("gvcn.thcs").await;
    let r = gc.get(app.url("/hoc-ba/chu-ky-so")).send().await.unwrap();
    assert_eq!(r.status(), 403, "a homeroom teacher does not manage identities");

    // ---- the principal opens two classes
    let (s, flash) = post_form(&app, &pc, &format!("/hoc-ba/lop/{a}/mo"), &[("_csrf", &pcsrf)]).await;
    assert_eq!(s, 303);
    assert_eq!(
        flash,
        format!("Đã mở {results_a} học bạ để ký (0 học sinh đã có học bạ).")
    );
    post_form(
        &app,
        &pc,
        &format!("/hoc-ba/lop/{c_other}/mo"),
        &[("_csrf", &pcsrf)],
    )
    .await;
    let docs_a = store_cred::class_docs(&db, a).await.unwrap();
    let docs_c = store_cred::class_docs(&db, c_other).await.unwrap();
    assert_eq!(docs_a.len(), results_a);
    assert!(docs_a.iter().all(|d| d.next_role.as_deref() == Some("gvcn")));
    let page = get_text(&pc, app.url(&format!("/hoc-ba/lop/{a}"))).await;
    assert_eq!(page.matches("data-state=\"awaiting_gvcn\"").count(), results_a);
    // The index counts them per class.
    let index = get_text(&pc, app.url(&format!("/hoc-ba?school={}&year={year}", school.id))).await;
    assert!(index.contains(&format!("data-class=\"{a}\"")), "{index}");

    // ---- out of turn: the principal cannot sign before the homeroom teacher
    let first = &docs_a[0].doc_id;
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/ky"),
        &[("_csrf", &pcsrf), ("role", "hieu_truong")],
    )
    .await;
    assert_eq!(
        flash,
        "Văn bản không đang chờ chữ ký của hiệu trưởng: có thể người khác vừa ký hoặc chưa đến lượt."
    );
    let ptoken = app.token("hieutruong.thcs").await;
    let r = Client::new()
        .post(app.url(&format!("/api/v1/credentials/{first}/sign")))
        .bearer_auth(&ptoken)
        .json(&json!({"role": "hieu_truong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(app.doc(first).await.signatures.len(), 0);
    // Nor as the homeroom teacher: the principal is not the class's homeroom teacher.
    let (s, _) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/ky"),
        &[("_csrf", &pcsrf), ("role", "gvcn")],
    )
    .await;
    assert_eq!(s, 403);

    // ---- the homeroom teacher signs only their own class
    let other = &docs_c[0].doc_id;
    let (s, _) = post_form(
        &app,
        &gc,
        &format!("/van-ban/{other}/ky"),
        &[("_csrf", &gcsrf), ("role", "gvcn")],
    )
    .await;
    assert_eq!(s, 403, "another class's document");
    let r = gc
        .get(app.url(&format!("/hoc-ba/lop/{c_other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (s, _) = post_form(
        &app,
        &gc,
        &format!("/hoc-ba/lop/{c_other}/ky-tat-ca"),
        &[("_csrf", &gcsrf)],
    )
    .await;
    assert_eq!(s, 403);
    let gtoken = app.token("gvcn.thcs").await;
    let r = Client::new()
        .post(app.url(&format!("/api/v1/credentials/{other}/sign")))
        .bearer_auth(&gtoken)
        .json(&json!({"role": "gvcn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Their own class lists the documents with a "Ký" button each and "Ký tất cả".
    let page = get_text(&gc, app.url(&format!("/hoc-ba/lop/{a}"))).await;
    assert_eq!(page.matches("class=\"sign-one\"").count(), results_a);
    assert!(page.contains("id=\"sign-all\""));
    let (s, flash) = post_form(
        &app,
        &gc,
        &format!("/hoc-ba/lop/{a}/ky-tat-ca"),
        &[("_csrf", &gcsrf)],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(
        flash,
        format!("Đã thực hiện {results_a} chữ ký; 0 học bạ đã phát hành.")
    );
    let docs_a = store_cred::class_docs(&db, a).await.unwrap();
    assert!(
        docs_a
            .iter()
            .all(|d| d.next_role.as_deref() == Some("hieu_truong")
                && d.signatures.len() == 1
                && d.signatures[0].subject_is("Nguyễn Thị Chủ Nhiệm"))
    );

    // ---- one document signed and sealed by the principal, to issued
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/ky"),
        &[("_csrf", &pcsrf), ("role", "hieu_truong")],
    )
    .await;
    assert_eq!(flash, "Đã ký với vai trò hiệu trưởng.");
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/ky"),
        &[("_csrf", &pcsrf), ("role", "con_dau")],
    )
    .await;
    assert_eq!(
        flash,
        format!("Đã ký đủ và phát hành văn bản {first} lên sổ cái.")
    );
    let issued = app.doc(first).await;
    assert_eq!(issued.status, "issued");
    assert_eq!(
        issued
            .signatures
            .iter()
            .map(|s| s.role.as_str())
            .collect::<Vec<_>>(),
        ["gvcn", "hieu_truong", "con_dau"]
    );
    assert_eq!(issued.leaf_index, Some(0));
    let (size, _) = truongso_store::ledger::latest_checkpoint(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(size, 1, "the issue was published");
    let page = get_text(&pc, app.url(&format!("/van-ban/{first}"))).await;
    assert!(
        page.contains("Đã phát hành") && page.contains("id=\"revoke-form\""),
        "{page}"
    );
    assert!(
        page.contains("Trần Văn Hiệu Trưởng"),
        "the signature trail names the certificate"
    );

    // ---- the batch issue of the whole school: opens every other class, signs and seals the
    // rest of class A (the homeroom teacher has signed them), publishes once
    let total_results: usize = store_cred::result_counts(&db, school.id, year)
        .await
        .unwrap()
        .values()
        .sum();
    let to_open = total_results - results_a - docs_c.len();
    let r = Client::new()
        .post(app.url("/api/v1/credential-batches"))
        .bearer_auth(&ptoken)
        .json(&json!({"school_id": school.id, "school_year_id": year, "sign": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut last = Value::Null;
    for _ in 0..600 {
        let r = Client::new()
            .get(app.url(&format!("/api/v1/credential-batches/{job}")))
            .bearer_auth(&ptoken)
            .send()
            .await
            .unwrap();
        last = r.json().await.unwrap();
        if matches!(last["status"].as_str(), Some("done" | "failed")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(last["status"], "done", "{last}");
    let report = &last["report"];
    assert_eq!(report["opened"], to_open, "{last}");
    assert_eq!(report["signed"], 2 * (results_a - 1), "{last}");
    assert_eq!(report["issued"], results_a - 1, "{last}");
    assert_eq!(report["published"], true);
    assert_eq!(report["errors"], json!([]));
    assert_eq!(last["done"], last["total"], "100 %");
    assert_eq!(last["done"], to_open + 2 * (results_a - 1));
    // The page shows it finished at 100 %, without JavaScript.
    let page = get_text(&pc, app.url(&format!("/hoc-ba/tac-vu/{job}"))).await;
    assert!(page.contains("<span id=\"batch-percent\">100%</span>"), "{page}");
    assert!(!page.contains("hx-get"), "no more polling once done");
    // Someone else's job is not theirs to see (nor to learn it exists).
    let r = gc
        .get(app.url(&format!("/hoc-ba/tac-vu/{job}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let all = store_cred::school_year_docs(&db, school.id, year).await.unwrap();
    assert_eq!(all.len(), total_results);
    assert_eq!(all.iter().filter(|d| d.status == "issued").count(), results_a);
    let (size, _) = truongso_store::ledger::latest_checkpoint(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(size as usize, results_a);

    // ---- revoke: a reason outside the list is refused, a listed one recorded in the log
    let docs_a = store_cred::class_docs(&db, a).await.unwrap();
    let second = docs_a.iter().find(|d| &d.doc_id != first).unwrap().doc_id.clone();
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{second}/thu-hoi"),
        &[("_csrf", &pcsrf), ("reason", "khong_thich")],
    )
    .await;
    assert_eq!(flash, "Trường «Lý do»: Mã không có trong danh mục.");
    let r = Client::new()
        .post(app.url(&format!("/api/v1/credentials/{second}/revoke")))
        .bearer_auth(&ptoken)
        .json(&json!({"reason": ""}))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "reason", "required").await;
    assert_eq!(app.doc(&second).await.status, "issued");
    // The homeroom teacher may not revoke.
    let (s, _) = post_form(
        &app,
        &gc,
        &format!("/van-ban/{second}/thu-hoi"),
        &[("_csrf", &gcsrf), ("reason", "data_error")],
    )
    .await;
    assert_eq!(s, 403);
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{second}/thu-hoi"),
        &[("_csrf", &pcsrf), ("reason", "issued_in_error")],
    )
    .await;
    assert_eq!(flash, "Đã thu hồi văn bản (lý do: cấp nhầm).");
    let revoked = app.doc(&second).await;
    assert_eq!(
        (revoked.status.as_str(), revoked.revoke_reason.as_deref()),
        ("revoked", Some("issued_in_error"))
    );
    let leaf = revoked.revoke_leaf.unwrap() as u64;
    let event = truongso_store::ledger::leaves_of(&db, &second)
        .await
        .unwrap()
        .into_iter()
        .find(|(i, _)| *i == leaf)
        .map(|(_, d)| truongso_core::credentials::event::Event::from_leaf(&d).unwrap())
        .unwrap();
    assert_eq!(event.reason.as_deref(), Some("issued_in_error"));
    assert_eq!(event.refers_to, revoked.leaf_index.map(|l| l as u64));

    // ---- a copy recorded (page) and through the API with its proof
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/ban-sao"),
        &[
            ("_csrf", &pcsrf),
            ("purpose", "certified_copy"),
            ("recipient", "Trường THPT Chuyên Bắc Ninh"),
        ],
    )
    .await;
    assert_eq!(
        flash,
        "Đã ghi nhận Bản sao cấp cho Trường THPT Chuyên Bắc Ninh trên sổ cái."
    );
    let issued = app.doc(first).await;
    let copies = store_cred::copies(&db, issued.id).await.unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(
        copies[0].recipient.as_deref(),
        Some("Trường THPT Chuyên Bắc Ninh")
    );
    assert_eq!(copies[0].sha256_pdf, issued.sha256_pdf.clone().unwrap());
    let r = Client::new()
        .post(app.url(&format!("/api/v1/credentials/{first}/copies")))
        .bearer_auth(&ptoken)
        .json(&json!({"purpose": "extract", "recipient": "Sở GDĐT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["sha256_pdf"], issued.sha256_pdf.clone().unwrap());
    let proof =
        truongso_ledger::bundle::TlogProof::parse(copy["proof"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(
        proof.index, 0,
        "the copy's proof is the issued document's inclusion"
    );
    assert_eq!(store_cred::copies(&db, issued.id).await.unwrap().len(), 2);
    let r = Client::new()
        .post(app.url(&format!("/api/v1/credentials/{first}/copies")))
        .bearer_auth(&ptoken)
        .json(&json!({"purpose": "photocopy"}))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "purpose", "unknown_code").await;

    // ---- a guardian sees and downloads only their own child's issued documents
    let child = issued.learner_id.unwrap();
    let parent = app.user("phuhuynh.thcs").await;
    let g = accounts::resolve_grant(
        &db,
        &accounts::GrantSpec {
            role: "parent".into(),
            org_unit_id: school.id,
            learner_id: Some(child),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    accounts::grant(&db, &ActorRef::system("test"), parent, &g)
        .await
        .unwrap();
    let (fc, _) = app.login("phuhuynh.thcs").await;
    let home = get_text(&fc, app.url("/hoc-ba")).await;
    assert!(home.contains(&format!("/van-ban/{first}")), "{home}");
    let r = fc
        .get(app.url(&format!("/van-ban/{first}/pdf?tai=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let (pdf, _) = store_cred::files(&db, issued.id).await.unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    let r = fc
        .get(app.url(&format!("/van-ban/{first}/proof")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bundle = truongso_ledger::bundle::TlogProof::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(bundle.index, 0);
    for other_doc in [&second, other] {
        let r = fc
            .get(app.url(&format!("/van-ban/{other_doc}/pdf")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "another learner's document");
    }
    // Their own child's document still being signed is not theirs to see yet.
    let signing = all.iter().find(|d| d.status == "signing").unwrap();
    let r = fc
        .get(app.url(&format!("/van-ban/{}/pdf", signing.doc_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // ---- a correction re-opens the year from the current results and supersedes once issued
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/dinh-chinh"),
        &[("_csrf", &pcsrf)],
    )
    .await;
    assert_eq!(
        flash,
        format!("Đã mở bản đính chính cho văn bản {first}; hãy ký lần lượt để phát hành.")
    );
    let fix = store_cred::corrections_of(&db, issued.id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fix.next_role.as_deref(), Some("gvcn"));
    let (_, flash) = post_form(
        &app,
        &pc,
        &format!("/van-ban/{first}/dinh-chinh"),
        &[("_csrf", &pcsrf)],
    )
    .await;
    assert_eq!(flash, "Đã có một bản đính chính đang chờ ký cho văn bản này.");
    post_form(
        &app,
        &gc,
        &format!("/van-ban/{}/ky", fix.doc_id),
        &[("_csrf", &gcsrf), ("role", "gvcn")],
    )
    .await;
    post_form(
        &app,
        &pc,
        &format!("/hoc-ba/lop/{a}/ky-tat-ca"),
        &[("_csrf", &pcsrf)],
    )
    .await;
    assert_eq!(app.doc(&fix.doc_id).await.status, "issued");
    assert_eq!(app.doc(first).await.status, "superseded");

    let _ = std::fs::remove_dir_all(&app.dir);
    app.db.cleanup().await;
}

trait SubjectIs {
    fn subject_is(&self, s: &str) -> bool;
}

impl SubjectIs for store_cred::SignatureStep {
    fn subject_is(&self, s: &str) -> bool {
        self.signer == s
    }
}

/// Turns a closed grade-8 class of the demo into a grade-9 one whose promoted learners complete
/// the THCS level (the demo's last year has no grade 9).
async fn make_graduates(app: &App, class_id: Uuid) -> Vec<Uuid> {
    let db = app.db();
    class::Entity::update_many()
        .col_expr(class::Column::Grade, Expr::value(9))
        .filter(class::Column::Id.eq(class_id))
        .exec(db)
        .await
        .unwrap();
    let mut out = vec![];
    for r in year_result::Entity::find()
        .filter(year_result::Column::ClassId.eq(class_id))
        .all(db)
        .await
        .unwrap()
    {
        let mut data: Value = serde_json::from_str(&r.data).unwrap();
        let promoted = r.decision.as_deref() == Some("promoted");
        if let Some(ye) = data.pointer_mut("/secondary/year_end").filter(|y| y.is_object()) {
            ye["completes_level"] = Value::Bool(promoted);
            if promoted {
                out.push(r.learner_id);
            }
        }
        year_result::Entity::update_many()
            .col_expr(year_result::Column::Data, Expr::value(data.to_string()))
            .filter(year_result::Column::Id.eq(r.id))
            .exec(db)
            .await
            .unwrap();
    }
    out
}

async fn diploma_flow(backend: Backend) {
    let app = start(backend).await;
    let db = app.db().clone();
    let (school, year) = school_and_year(&app).await;
    let class8 = store_cred::classes_with_results(&db, school.id, year)
        .await
        .unwrap()
        .into_iter()
        .rfind(|c| c.grade == 8)
        .unwrap();
    let graduates = make_graduates(&app, class8.id).await;
    assert!(graduates.len() >= 2, "{graduates:?}");
    let so = org::by_code(&db, "08").await.unwrap();

    // The Sở's director certificate, registered by the Sở's administrator for the unit.
    let (ac, acsrf) = app.login("admin.so").await;
    let giamdoc = app.pki.identity("giamdoc").unwrap().p12.clone();
    let flash = upload_p12(
        &app,
        (&ac, &acsrf),
        so.id,
        "giam_doc_so",
        "unit",
        &giamdoc,
        PASSWORD,
    )
    .await;
    assert_eq!(flash, "Đã đăng ký chữ ký số.");
    // A school role cannot be registered on the Sở.
    let flash = upload_p12(&app, (&ac, &acsrf), so.id, "con_dau", "unit", &giamdoc, PASSWORD).await;
    assert_eq!(flash, "Trường «Vai trò»: Mã không có trong danh mục.");

    let (oc, ocsrf) = app.login("chuyenvien.so").await;
    let page = get_text(
        &oc,
        app.url(&format!(
            "/van-bang/moi?so={}&school={}&year={year}",
            so.id, school.id
        )),
    )
    .await;
    for g in &graduates {
        assert!(
            page.contains(&format!("data-learner=\"{g}\"")),
            "every graduate is listed"
        );
    }
    let learner = graduates[0];
    let l = truongso_store::people::get_learner(&db, &app.state.cipher, learner)
        .await
        .unwrap();
    let (so_s, school_s, year_s, learner_s) = (
        so.id.to_string(),
        school.id.to_string(),
        year.to_string(),
        learner.to_string(),
    );
    let form = |serial: &'static str, register: &'static str, date: &'static str| {
        vec![
            ("_csrf", ocsrf.clone()),
            ("so", so_s.clone()),
            ("school", school_s.clone()),
            ("year", year_s.clone()),
            ("learner", learner_s.clone()),
            ("serial", serial.to_string()),
            ("register_no", register.to_string()),
            ("decision_no", "1234/QĐ-SGDĐT".to_string()),
            ("decision_date", date.to_string()),
            ("classification", "gioi".to_string()),
            ("signer_title", "Giám đốc".to_string()),
            ("signer_name", "Lê Văn Giám Đốc".to_string()),
        ]
    };
    // A date that is not one: the form comes back with the field marked.
    let r = oc
        .post(app.url("/van-bang"))
        .form(&form("b 0001234", "THCS-1", "31/02/2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<p class=\"field-error\">Ngày không hợp lệ (dd/mm/yyyy).</p>"),
        "{html}"
    );
    let r = oc
        .post(app.url("/van-bang"))
        .form(&form("B 0001234", "THCS-1", "2026-06-20"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let vb_id = to.trim_start_matches("/van-ban/").to_string();
    assert!(vb_id.starts_with("VB-"), "{to}");
    let vb = app.doc(&vb_id).await;
    assert_eq!(
        (vb.status.as_str(), vb.next_role.as_deref()),
        ("signing", Some("giam_doc_so"))
    );
    assert_eq!(vb.issuer_id, so.id);
    // The same số hiệu for another graduate is refused.
    let r = Client::new()
        .post(app.url("/api/v1/diplomas"))
        .bearer_auth(app.token("chuyenvien.so").await)
        .json(&json!({
            "learner_id": graduates[1], "school_year_id": year, "serial": "b 0001234", "register_no": "THCS-2",
            "decision_no": "1234/QĐ-SGDĐT", "decision_date": "2026-06-20", "signer_title": "Giám đốc",
            "signer_name": "Lê Văn Giám Đốc"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e["error"]["message"],
        "Số hiệu văn bằng B 0001234 đã được dùng trong sổ gốc."
    );
    // A learner who did not complete the level gets none.
    let not_grad = truongso_store::gradebook::class_results(&db, class8.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.learner_id)
        .find(|l| !graduates.contains(l));
    if let Some(l) = not_grad {
        let r = Client::new()
            .post(app.url("/api/v1/diplomas"))
            .bearer_auth(app.token("chuyenvien.so").await)
            .json(&json!({
                "learner_id": l, "school_year_id": year, "serial": "B 0009999", "register_no": "THCS-9",
                "decision_no": "1", "decision_date": "2026-06-20", "signer_title": "Giám đốc", "signer_name": "A"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
    }
    // A school principal keeps no registry.
    let r = Client::new()
        .get(app.url("/api/v1/diplomas"))
        .bearer_auth(app.token("hieutruong.thcs").await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Signed by the Sở (the unit's director certificate) and issued into the log.
    let (_, flash) = post_form(
        &app,
        &oc,
        &format!("/van-ban/{vb_id}/ky"),
        &[("_csrf", &ocsrf), ("role", "giam_doc_so")],
    )
    .await;
    assert_eq!(
        flash,
        format!("Đã ký đủ và phát hành văn bản {vb_id} lên sổ cái.")
    );
    let vb = app.doc(&vb_id).await;
    assert_eq!(vb.status, "issued");
    assert_eq!(vb.signatures[0].signer, "Lê Văn Giám Đốc");
    // In the registry, searchable by number and by name without accents.
    let r = Client::new()
        .get(app.url("/api/v1/diplomas?q=B%200001234"))
        .bearer_auth(app.token("chuyenvien.so").await)
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["full_name"], l.full_name.as_str());
    assert_eq!(list[0]["classification"], "gioi");
    assert_eq!(list[0]["graduation_year"], 2026);
    let folded = truongso_core::text::fold(&l.full_name);
    let page = get_text(
        &oc,
        app.url(&format!("/van-bang?so={}&q={}", so.id, folded.replace(' ', "+"))),
    )
    .await;
    assert!(page.contains(&vb_id), "found by the name without accents");
    // The public lookup finds it by số hiệu + name + date of birth.
    let found = store_cred::find_diploma(&db, "b 0001234", &folded.to_uppercase(), l.date_of_birth)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.doc_id, vb_id);
    assert_eq!(found.status, "issued");
    let wrong_day = l.date_of_birth.succ_opt().unwrap();
    assert!(
        store_cred::find_diploma(&db, "B 0001234", &l.full_name, wrong_day)
            .await
            .unwrap()
            .is_none()
    );
    // The record in the PDF is the diploma's.
    let (_, record) = store_cred::files(&db, vb.id).await.unwrap();
    match truongso_core::credentials::record::Record::parse(&record).unwrap() {
        truongso_core::credentials::record::Record::VanBang(v) => {
            assert_eq!(v.diploma_type, "tot_nghiep_thcs");
            assert_eq!(v.serial, "B 0001234");
            assert_eq!(v.register_no, "THCS-1");
            assert_eq!(v.decision_date, "2026-06-20");
            assert_eq!(v.issuer.name, so.name);
            assert_eq!(
                NaiveDate::parse_from_str(&v.learner.date_of_birth, "%Y-%m-%d").unwrap(),
                l.date_of_birth
            );
        }
        other => panic!("{other:?}"),
    }
    let _ = StatusCode::OK;
    let _ = std::fs::remove_dir_all(&app.dir);
    app.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_workflow_sqlite() {
    school_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn school_workflow_postgres() {
    school_flow(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diplomas_sqlite() {
    diploma_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diplomas_postgres() {
    diploma_flow(Backend::Postgres).await;
}

// ------------------------------------------------------------------ a PKCS#11 token

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "truongso-web-test";
const TOKEN_PIN: &str = "246810";

fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?}: {text}");
    text
}

/// Runs the PKCS#11 flow in a child process of this test binary: SoftHSM reads `SOFTHSM2_CONF`
/// once per process, and setting the environment of a multi-threaded test process is unsound.
fn pkcs11_in_child(backend: &str) {
    for tool in ["softhsm2-util", "pkcs11-tool"] {
        assert!(
            std::process::Command::new("which")
                .arg(tool)
                .output()
                .unwrap()
                .status
                .success(),
            "{tool} is needed (apt-get install softhsm2 opensc)"
        );
    }
    let work = temp_dir("hocba-p11");
    let tokens = work.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = work.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pkcs11_flow_in_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env("TRUONGSO_P11_BACKEND", backend)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("test pkcs11_flow_in_child ... ok"), "{text}");
    assert!(
        !text.contains("run by pkcs11_token_"),
        "the child ran the flow: {text}"
    );
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn pkcs11_token_sqlite() {
    pkcs11_in_child("sqlite");
}

#[test]
fn pkcs11_token_postgres() {
    pkcs11_in_child("postgres");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child half of pkcs11_token_*: needs SOFTHSM2_CONF set by its parent"]
async fn pkcs11_flow_in_child() {
    let (Some(_), Ok(backend)) = (
        std::env::var_os("SOFTHSM2_CONF"),
        std::env::var("TRUONGSO_P11_BACKEND"),
    ) else {
        eprintln!("pkcs11_flow_in_child: run by pkcs11_token_*");
        return;
    };
    let app = start(if backend == "postgres" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    })
    .await;
    let db = app.db().clone();
    // The principal's RSA key and certificate on a fresh token.
    let hsm = |args: &[&str]| run_ok(std::process::Command::new("softhsm2-util").args(args));
    let init = hsm(&[
        "--init-token",
        "--free",
        "--label",
        TOKEN,
        "--so-pin",
        "13579135",
        "--pin",
        TOKEN_PIN,
    ]);
    assert!(init.contains("has been initialized"), "{init}");
    let principal = app.pki.identity("hieutruong").unwrap();
    let key = principal.key_pem.display().to_string();
    hsm(&[
        "--import",
        &key,
        "--token",
        TOKEN,
        "--label",
        "hieutruong",
        "--id",
        "01",
        "--pin",
        TOKEN_PIN,
    ]);
    let der = app.dir.join("hieutruong.der");
    std::fs::write(&der, der::Encode::to_der(&principal.certificate).unwrap()).unwrap();
    run_ok(
        std::process::Command::new("pkcs11-tool")
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                TOKEN,
                "--login",
                "--pin",
                TOKEN_PIN,
            ])
            .arg("--write-object")
            .arg(&der)
            .args(["--type", "cert", "--id", "01", "--label", "hieutruong"]),
    );

    let (school, year) = school_and_year(&app).await;
    let a = store_cred::classes_with_results(&db, school.id, year)
        .await
        .unwrap()[0]
        .id;
    make_homeroom(&app, a, "gvcn.thcs").await;
    let (pc, pcsrf) = app.login("hieutruong.thcs").await;
    let gvcn_id = app.user("gvcn.thcs").await.to_string();
    let principal_id = app.user("hieutruong.thcs").await.to_string();
    for (role, holder, name) in [("gvcn", gvcn_id.as_str(), "gvcn"), ("con_dau", "unit", "condau")] {
        let file = app.pki.identity(name).unwrap().p12.clone();
        let flash = upload_p12(&app, (&pc, &pcsrf), school.id, role, holder, &file, PASSWORD).await;
        assert_eq!(flash, "Đã đăng ký chữ ký số.");
    }
    let school_s = school.id.to_string();
    let token_form = |module: &'static str, pin: &'static str| {
        vec![
            ("_csrf", pcsrf.clone()),
            ("unit", school_s.clone()),
            ("role", "hieu_truong".to_string()),
            ("holder", principal_id.clone()),
            ("module", module.to_string()),
            ("token", TOKEN.to_string()),
            ("key", "hieutruong".to_string()),
            ("pin", pin.to_string()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let pc = pc.clone();
        let app = &app;
        async move {
            let r = pc
                .post(app.url("/hoc-ba/chu-ky-so/pkcs11"))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            let to = r.headers()["location"].to_str().unwrap().to_string();
            flash_of(&get_text(&pc, app.url(&to)).await)
        }
    };
    // A library outside the system's library directories is never loaded.
    let evil = app.dir.join("evil.so");
    std::fs::write(&evil, b"not a library").unwrap();
    let evil_path: &'static str = Box::leak(evil.display().to_string().into_boxed_str());
    assert_eq!(
        post(token_form(evil_path, TOKEN_PIN)).await,
        "Đường dẫn thư viện PKCS#11 phải là tệp .so đã cài trong /usr/lib, /usr/lib64, /usr/local/lib hoặc /opt."
    );
    assert_eq!(
        post(token_form(SOFTHSM_MODULE, "000000")).await,
        "Mã PIN của thiết bị ký số không đúng."
    );
    assert_eq!(
        post(token_form(SOFTHSM_MODULE, TOKEN_PIN)).await,
        "Đã đăng ký chữ ký số."
    );
    let ids = store_cred::identities(&db, school.id).await.unwrap();
    let p11 = ids.iter().find(|i| i.role == "hieu_truong").unwrap();
    assert_eq!(
        (p11.backend.as_str(), p11.subject.as_str()),
        ("pkcs11", "Trần Văn Hiệu Trưởng")
    );
    let page = get_text(&pc, app.url(&format!("/hoc-ba/chu-ky-so?unit={school_s}"))).await;
    assert!(page.contains("Thiết bị ký số (PKCS#11)"), "{page}");

    // One record through to issued, the principal's signature made on the token.
    post_form(&app, &pc, &format!("/hoc-ba/lop/{a}/mo"), &[("_csrf", &pcsrf)]).await;
    let doc = store_cred::class_docs(&db, a).await.unwrap().remove(0);
    let (gc, gcsrf) = app.login("gvcn.thcs").await;
    let path = format!("/van-ban/{}/ky", doc.doc_id);
    let (_, flash) = post_form(&app, &gc, &path, &[("_csrf", &gcsrf), ("role", "gvcn")]).await;
    assert_eq!(flash, "Đã ký với vai trò giáo viên chủ nhiệm.");
    let (_, flash) = post_form(&app, &pc, &path, &[("_csrf", &pcsrf), ("role", "hieu_truong")]).await;
    assert_eq!(flash, "Đã ký với vai trò hiệu trưởng.");
    let (_, flash) = post_form(&app, &pc, &path, &[("_csrf", &pcsrf), ("role", "con_dau")]).await;
    assert_eq!(
        flash,
        format!("Đã ký đủ và phát hành văn bản {} lên sổ cái.", doc.doc_id)
    );
    let issued = app.doc(&doc.doc_id).await;
    let cert_sha =
        truongso_core::credentials::sha256_hex(&der::Encode::to_der(&principal.certificate).unwrap());
    assert_eq!(issued.signatures[1].cert_sha256, cert_sha);
    let (pdf, _) = store_cred::files(&db, issued.id).await.unwrap();
    let outcome = truongso_web::credentials::verify_upload(&app.state, pdf, None)
        .await
        .unwrap();
    let failures: Vec<_> = outcome.verdict.failures().map(|l| l.code.clone()).collect();
    assert!(outcome.verdict.valid(), "{failures:?}");
    let _ = std::fs::remove_dir_all(&app.dir);
    app.db.cleanup().await;
}

// ------------------------------------------------------------------ a remote signing service

/// The docs crate's HTTPS remote-signing service (Python), serving one key; killed when dropped.
struct RemoteService {
    child: std::process::Child,
    port: u16,
}

impl RemoteService {
    fn start(pki: &TestPki, p12: &Path, key_id: &str, token: &str) -> Self {
        use std::io::BufRead;
        let tls = pki
            .tls_server
            .as_ref()
            .expect("the PKI has a TLS server certificate");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/tests/support/remote_signer.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg("--p12")
            .arg(p12)
            .args([
                "--password",
                PASSWORD,
                "--key-id",
                key_id,
                "--reject-key-id",
                "reject",
            ])
            .args([
                "--broken-key-id",
                "broken",
                "--token",
                token,
                "--approve-after-polls",
                "1",
            ])
            .arg("--tls-cert")
            .arg(&tls.cert_pem)
            .arg("--tls-key")
            .arg(&tls.key_pem)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python3 with cryptography (apt-get install python3-cryptography)");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let Some(port) = first
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
        else {
            let _ = child.kill();
            panic!("remote signer did not start: {first:?}");
        };
        // Keep reading so the service never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Self { child, port }
    }
}

impl Drop for RemoteService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A remote signing service registered through the page (plain http and a refused token turned
/// away, the service's own root kept as a file), then the homeroom teacher signing through it.
async fn remote_flow(backend: Backend) {
    let app = start(backend).await;
    let db = app.db().clone();
    let (school, year) = school_and_year(&app).await;
    let a = store_cred::classes_with_results(&db, school.id, year)
        .await
        .unwrap()[0]
        .id;
    make_homeroom(&app, a, "gvcn.thcs").await;
    let gvcn_p12 = app.pki.identity("gvcn").unwrap().p12.clone();
    let service = RemoteService::start(&app.pki, &gvcn_p12, "gv-smartca", "s3cr3t");
    let (pc, pcsrf) = app.login("hieutruong.thcs").await;
    let gvcn_id = app.user("gvcn.thcs").await.to_string();
    let ca = std::fs::read_to_string(&app.pki.ca_pem).unwrap();
    let school_s = school.id.to_string();
    let form = |url: String, token: &str| {
        vec![
            ("_csrf", pcsrf.clone()),
            ("unit", school_s.clone()),
            ("role", "gvcn".to_string()),
            ("holder", gvcn_id.clone()),
            ("url", url),
            ("key_id", "gv-smartca".to_string()),
            ("token", token.to_string()),
            ("ca_pem", ca.clone()),
        ]
    };
    let post = async |form: Vec<(&'static str, String)>| {
        let r = pc
            .post(app.url("/hoc-ba/chu-ky-so/remote"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        flash_of(&get_text(&pc, app.url(&to)).await)
    };
    let https = format!("https://127.0.0.1:{}", service.port);
    assert_eq!(
        post(form(format!("http://127.0.0.1:{}", service.port), "s3cr3t")).await,
        "Địa chỉ dịch vụ ký số từ xa phải bắt đầu bằng https://."
    );
    assert_eq!(
        post(form(https.clone(), "sai")).await,
        "Dịch vụ ký số từ xa từ chối mã truy cập."
    );
    assert_eq!(post(form(https.clone(), "s3cr3t")).await, "Đã đăng ký chữ ký số.");
    let ids = store_cred::identities(&db, school.id).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        (ids[0].backend.as_str(), ids[0].subject.as_str()),
        ("remote", "Nguyễn Thị Chủ Nhiệm")
    );
    // The token is kept encrypted, the service's root as a file of its own.
    let id = store_cred::identity_for(
        &db,
        &app.state.cipher,
        school.id,
        "gvcn",
        Some(app.user("gvcn.thcs").await),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(id.secret.as_deref(), Some("s3cr3t"));
    let ca_file = id.config["ca_file"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(app.dir.join("creds").join(ca_file))
            .unwrap()
            .trim(),
        ca.trim()
    );
    let row = truongso_store::entity::signing_identity::Entity::find_by_id(id.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.secret_enc.unwrap_or_default().contains("s3cr3t"));

    post_form(&app, &pc, &format!("/hoc-ba/lop/{a}/mo"), &[("_csrf", &pcsrf)]).await;
    let doc = store_cred::class_docs(&db, a).await.unwrap().remove(0);
    let (gc, gcsrf) = app.login("gvcn.thcs").await;
    let (_, flash) = post_form(
        &app,
        &gc,
        &format!("/van-ban/{}/ky", doc.doc_id),
        &[("_csrf", &gcsrf), ("role", "gvcn")],
    )
    .await;
    assert_eq!(flash, "Đã ký với vai trò giáo viên chủ nhiệm.");
    let signed = app.doc(&doc.doc_id).await;
    assert_eq!(signed.signatures[0].signer, "Nguyễn Thị Chủ Nhiệm");
    assert_eq!(signed.next_role.as_deref(), Some("hieu_truong"));
    drop(service);
    let _ = std::fs::remove_dir_all(&app.dir);
    app.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_service_sqlite() {
    remote_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_service_postgres() {
    remote_flow(Backend::Postgres).await;
}
