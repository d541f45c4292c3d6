//! Black-box tests of pages and API over the real server, on SQLite and PostgreSQL.

mod common;

use common::{TestApp, csrf_of};
use serde_json::{Value, json};
use truongso_store::{accounts, audit, org};

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

app_test!(login_dashboard_logout, async |app: &TestApp| {
    // Anonymous visitors are sent to the login page.
    let anon = app.client();
    let r = anon.get(app.url("/users")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fusers");
    // Wrong password: 401 with the Vietnamese message, the form keeps the username.
    let bad = app.login_with("admin.thcs", "sai-mat-khau1").await.unwrap_err();
    assert_eq!(bad.status(), 401);
    let html = bad.text().await.unwrap();
    assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    assert!(html.contains("value=\"admin.thcs\""));
    // Right password: the dashboard greets by name and lists the role.
    let (c, csrf) = app.login("admin.thcs").await;
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("Xin chào"));
    assert!(html.contains("Quản trị viên"));
    assert!(html.contains("id=\"main-nav\""));
    assert!(
        html.contains("href=\"/users\""),
        "an administrator sees account management"
    );
    assert!(
        !html.contains("href=\"/audit\""),
        "a school administrator does not see the system audit"
    );
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303, "the session is gone after logout");
});

app_test!(navigation_follows_roles, async |app: &TestApp| {
    let (parent, _) = app.login("phuhuynh.thcs").await;
    let html = common::get_text(&parent, app.url("/")).await;
    assert!(!html.contains("href=\"/users\""));
    assert!(!html.contains("href=\"/org\""));
    let r = parent.get(app.url("/users")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Không có quyền"));
    let (so, _) = app.login("admin.so").await;
    let html = common::get_text(&so, app.url("/")).await;
    assert!(html.contains("href=\"/audit\""));
});

app_test!(csrf_is_enforced, async |app: &TestApp| {
    let (c, csrf) = app.login("admin.thcs").await;
    let school = org::by_code(&app.store().db, "08001005").await;
    let before = audit::count(&app.store().db).await.unwrap();
    for token in ["", "forged-token"] {
        let r = c
            .post(app.url("/users"))
            .form(&[
                ("_csrf", token),
                ("username", "gv.moi"),
                ("display_name", "Giáo viên mới"),
                ("password", "Matkhau2025"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("Phiên biểu mẫu không hợp lệ"));
    }
    // The header works as well as the field (htmx sends it).
    let r = c
        .post(app.url("/audit/verify"))
        .header("x-csrf-token", csrf.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "allowed past CSRF, refused by policy: a school admin cannot read the audit"
    );
    assert_eq!(
        audit::count(&app.store().db).await.unwrap(),
        before,
        "nothing was written"
    );
    let _ = school;
});

app_test!(expired_session_is_explained, async |app: &TestApp| {
    use sea_orm::ConnectionTrait;
    let (c, _) = app.login("hieutruong.thcs").await;
    app.store()
        .db
        .execute_unprepared("UPDATE sessions SET expires_at = created_at")
        .await
        .unwrap();
    let r = c.get(app.url("/org")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let login = common::get_text(&c, app.url("/login?next=%2Forg")).await;
    assert!(
        login.contains("Phiên làm việc đã hết hạn"),
        "the login page says why"
    );
    // The API says it with a code.
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
});

app_test!(lockout_after_five_failures, async |app: &TestApp| {
    for _ in 0..4 {
        assert_eq!(
            app.login_with("ketoan.thcs", "sai-mat-khau1")
                .await
                .unwrap_err()
                .status(),
            401
        );
    }
    let r = app.login_with("ketoan.thcs", "sai-mat-khau1").await.unwrap_err();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("15 phút"));
    let r = app
        .login_with("ketoan.thcs", truongso_store::demo::DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(r.status(), 429, "locked even with the right password");
    let u = accounts::by_username(&app.store().db, "ketoan.thcs")
        .await
        .unwrap()
        .unwrap();
    let failed = audit::for_entity(&app.store().db, "user", &u.id.to_string())
        .await
        .unwrap();
    assert!(failed.iter().filter(|e| e.action == "auth.login_failed").count() >= 6);
});

app_test!(api_errors_have_stable_codes, async |app: &TestApp| {
    let c = reqwest::Client::new();
    let before = audit::count(&app.store().db).await.unwrap();
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await["error"]["code"], "unauthenticated");
    let r = c
        .get(app.url("/api/v1/me"))
        .bearer_auth("ts_bad_token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await["error"]["code"], "invalid_token");

    let admin = app.token("admin.thcs").await;
    let me = json_of(
        c.get(app.url("/api/v1/me"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["username"], "admin.thcs");
    assert_eq!(me["grants"][0]["role"], "admin");
    let school_id = me["grants"][0]["org_unit_id"].as_str().unwrap().to_string();

    // Malformed JSON: a precise message naming the problem.
    let r = c
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"username\": \"gv.x\",")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e = json_of(r).await;
    assert_eq!(e["error"]["code"], "malformed_json");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Dữ liệu JSON không hợp lệ")
    );
    // Unknown fields are refused, not silently dropped.
    let r = c
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "gv.x", "display_name": "X", "password": "Matkhau2025", "owner_org_id": school_id, "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["error"]["code"], "malformed_json");
    // Oversize body.
    let big = "x".repeat(2 * 1024 * 1024);
    // A client of its own: a connection the server refuses must not affect later requests.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(json_of(r).await["error"]["code"], "payload_too_large");
    // Unknown org code.
    let r = c
        .get(app.url("/api/v1/org-units?code=99999999"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e = json_of(r).await;
    assert_eq!(e["error"]["code"], "unknown_org_code");
    assert_eq!(e["error"]["message"], "Không có đơn vị nào mang mã «99999999».");
    // Outside the caller's scope: the Sở and another school.
    let so = org::by_code(&app.store().db, "08").await.unwrap();
    let r = c
        .get(app.url(&format!("/api/v1/org-units/{}", so.id)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(json_of(r).await["error"]["code"], "forbidden");
    let r = c
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "gv.so", "display_name": "X", "password": "Matkhau2025", "owner_org_code": "08"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Validation: field-level error with the field named.
    let r = c
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "gv.lan", "display_name": "Cô Lan", "password": "ngan", "owner_org_id": school_id}))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "password", "too_short").await;
    // English when asked.
    let r = c
        .get(app.url("/api/v1/org-units?code=77"))
        .bearer_auth(&admin)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["error"]["message"], "No unit has the code «77».");
    assert_eq!(
        audit::count(&app.store().db).await.unwrap(),
        before + 1,
        "only the token creation was written"
    );
});

app_test!(api_manages_users_and_roles, async |app: &TestApp| {
    let c = reqwest::Client::new();
    let admin = app.token("admin.thcs").await;
    let me = json_of(
        c.get(app.url("/api/v1/me"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let school_id = me["grants"][0]["org_unit_id"].as_str().unwrap().to_string();
    let r = c
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "GV.Hoa", "display_name": "Trần Thị Hoa", "phone": "0987 654 321", "password": "Matkhau2025", "owner_org_id": school_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let u = json_of(r).await;
    assert_eq!(u["username"], "gv.hoa");
    assert_eq!(u["phone"], "0987654321");
    let id = u["id"].as_str().unwrap().to_string();
    let r = c
        .post(app.url(&format!("/api/v1/users/{id}/grants")))
        .bearer_auth(&admin)
        .json(&json!({"role": "librarian", "org_unit_id": school_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let grant = json_of(r).await;
    // A school admin cannot make someone an officer of the Sở.
    let so = org::by_code(&app.store().db, "08").await.unwrap();
    let r = c
        .post(app.url(&format!("/api/v1/users/{id}/grants")))
        .bearer_auth(&admin)
        .json(&json!({"role": "officer", "org_unit_id": so.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let list = json_of(
        c.get(app.url("/api/v1/users?q=gv.hoa"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 1);
    let r = c
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["active"], false);
    let r = c
        .delete(app.url(&format!("/api/v1/grants/{}", grant["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let trail = audit::for_entity(&app.store().db, "user", &id).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.create", "user.disable"]);
    assert_eq!(trail[1].actor_label, "admin.thcs");
    assert!(trail[1].before.as_deref().unwrap().contains("\"active\":true"));
    assert!(trail[1].after.as_deref().unwrap().contains("\"active\":false"));
    assert!(
        !trail[0].after.as_deref().unwrap().contains("argon2"),
        "no password hash in the audit"
    );
});

app_test!(pages_manage_users_and_keep_input, async |app: &TestApp| {
    let (c, csrf) = app.login("admin.thcs").await;
    let form = common::get_text(&c, app.url("/users/new")).await;
    let owner = form
        .split("name=\"owner_org_id\"")
        .nth(1)
        .unwrap()
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let create = async |email: &str| {
        c.post(app.url("/users"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", "gv.minh"),
                ("display_name", "Đỗ Văn Minh"),
                ("email", email),
                ("owner_org_id", owner.as_str()),
                ("password", "Matkhau2025"),
            ])
            .send()
            .await
            .unwrap()
    };
    // An invalid e-mail re-renders the form with the message and the typed values.
    let r = create("khong-hop-le").await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Địa chỉ email không hợp lệ."));
    assert!(html.contains("value=\"Đỗ Văn Minh\""));
    let r = create("minh@truong.edu.vn").await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let page = common::get_text(&c, app.url(&loc)).await;
    assert!(page.contains("Đã tạo tài khoản «gv.minh»."));
    assert_eq!(csrf_of(&page), csrf);
    assert!(app.login_with("gv.minh", "Matkhau2025").await.is_ok());
});

app_test!(org_browser_and_school_years, async |app: &TestApp| {
    let (c, csrf) = app.login("admin.so").await;
    let so = org::by_code(&app.store().db, "08").await.unwrap();
    let html = common::get_text(&c, app.url(&format!("/org/{}", so.id))).await;
    assert!(html.contains("Phòng Văn hóa – Xã hội phường Minh Xuân"));
    assert!(
        html.contains("Đã giải thể"),
        "dissolved district offices stay visible in history"
    );
    let found = common::get_text(&c, app.url("/org/search?q=chuyen")).await;
    assert!(found.contains("Trường THPT Chuyên Tuyên Quang"));
    // Create a school under a commune office; a bad code keeps the input.
    let xa = org::by_code(&app.store().db, "08001").await.unwrap();
    let r = c
        .post(app.url(&format!("/org/{}/children", xa.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "school"),
            ("name", "Trường Tiểu học Mới"),
            ("code", "mã sai"),
            ("levels", "TH"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("value=\"Trường Tiểu học Mới\""));
    let r = c
        .post(app.url(&format!("/org/{}/children", xa.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "school"),
            ("name", "Trường Tiểu học Mới"),
            ("code", "08001099"),
            ("levels", "TH"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let new_school = org::by_code(&app.store().db, "08001099").await.unwrap();
    let r = c
        .post(app.url(&format!("/org/{}/school-years", new_school.id)))
        .form(&[("_csrf", csrf.as_str()), ("year", "2026-2027")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = common::get_text(&c, app.url(&format!("/org/{}", new_school.id))).await;
    assert!(html.contains("2026-2027"));
    assert!(html.contains("Học kỳ II"));
    // The reform is visible through the API too: a school moved from a district office.
    let token = app.token("admin.so").await;
    let moved = org::in_subtree(
        &app.store().db,
        &xa.path,
        Some(truongso_core::org::OrgKind::School),
    )
    .await
    .unwrap()
    .into_iter()
    .find(|u| u.id != new_school.id)
    .unwrap();
    let hist = json_of(
        reqwest::Client::new()
            .get(app.url(&format!("/api/v1/org-units/{}/history", moved.id)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(hist.as_array().unwrap().len(), 2, "{hist}");
    assert_eq!(hist[0]["valid_to"], "2025-07-01");
    assert_eq!(hist[1]["parent_id"], xa.id.to_string());
});

app_test!(operations_endpoints, async |app: &TestApp| {
    let c = reqwest::Client::new();
    assert_eq!(common::get_text(&c, app.url("/healthz")).await, "ok");
    assert_eq!(c.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    c.get(app.url("/login")).send().await.unwrap();
    let m = common::get_text(&c, app.url("/metrics")).await;
    assert!(
        m.contains("truongso_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("truongso_http_request_duration_seconds_bucket"));
    let r = c.get(app.url("/login")).send().await.unwrap();
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(r.headers().contains_key(h), "missing {h}");
    }
    let doc = json_of(c.get(app.url("/api/v1/openapi.json")).send().await.unwrap()).await;
    assert_eq!(doc["openapi"].as_str().unwrap().chars().next(), Some('3'));
    for p in [
        "/api/v1/me",
        "/api/v1/org-units",
        "/api/v1/org-units/{id}/history",
        "/api/v1/users/{id}/grants",
        "/api/v1/grants/{id}",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    let css = c.get(app.url("/static/app.css")).send().await.unwrap();
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let r = c.get(app.url("/khong-co")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Không tìm thấy"));
});

/// Password spraying: failures across many accounts from one address block that address for
/// the window, even for a correct password; other accounts' lockouts are not involved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_address() {
    let cfg = truongso_web::WebConfig {
        login_failures_per_ip: 3,
        ..Default::default()
    };
    let app = TestApp::start_with(truongso_store::testing::Backend::Sqlite, cfg).await;
    for user in ["yte.thcs", "thuvien.thcs", "vanthu.thcs"] {
        assert_eq!(
            app.login_with(user, "sai-mat-khau1").await.unwrap_err().status(),
            401
        );
    }
    let r = app
        .login_with("admin.so", truongso_store::demo::DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Quá nhiều lần đăng nhập sai"));
    let u = accounts::by_username(&app.store().db, "admin.so")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        u.failed_logins, 0,
        "the refused attempt never reached the account"
    );
    app.stop().await;
}

app_test!(restructuring_through_pages_and_api, async |app: &TestApp| {
    let c = reqwest::Client::new();
    let token = app.token("admin.so").await;
    let db = &app.store().db;
    let r = c
        .post(app.url("/api/v1/org-units"))
        .bearer_auth(&token)
        .json(&json!({"kind": "commune_office", "parent_code": "08", "name": "Phòng Văn hóa – Xã hội xã Mới", "code": "08099", "valid_from": "01/01/2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let office = json_of(r).await;
    let office_id = office["id"].as_str().unwrap().to_string();
    let xa = org::by_code(db, "08001").await.unwrap();
    let school = org::children(db, xa.id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    // The page moves a school; bad input first keeps the form and changes nothing.
    let (browser, csrf) = app.login("admin.so").await;
    let r = browser
        .post(app.url(&format!("/org/{}/move", school.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("parent_id", office_id.as_str()),
            ("valid_from", "31/02/2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Ngày không hợp lệ"));
    let r = browser
        .post(app.url(&format!("/org/{}/move", school.id)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("parent_id", office_id.as_str()),
            ("valid_from", "2026-09-01"),
            ("note", "Quyết định 12/QĐ-UBND"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let hist = org::versions(db, school.id).await.unwrap();
    assert_eq!(hist.len(), 3, "district office, commune office, new office");
    assert_eq!(hist[2].note.as_deref(), Some("Quyết định 12/QĐ-UBND"));
    // An office with live children cannot be dissolved.
    let r = c
        .post(app.url(&format!("/api/v1/org-units/{office_id}/dissolve")))
        .bearer_auth(&token)
        .json(&json!({"valid_from": "2026-10-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(json_of(r).await["error"]["code"], "org_has_children");
    // Move it back through the API, then dissolve the empty office.
    let r = c
        .post(app.url(&format!("/api/v1/org-units/{}/move", school.id)))
        .bearer_auth(&token)
        .json(&json!({"parent_id": xa.id, "valid_from": "2026-10-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(app.url(&format!("/api/v1/org-units/{office_id}/dissolve")))
        .bearer_auth(&token)
        .json(&json!({"valid_from": "2026-10-02"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await["valid_to"], "2026-10-02");
    // A school administrator cannot move their own school.
    let school_token = app.token("admin.thcs").await;
    let own = org::get(
        db,
        accounts::by_username(db, "admin.thcs")
            .await
            .unwrap()
            .unwrap()
            .owner_org_id,
    )
    .await
    .unwrap();
    let r = c
        .post(app.url(&format!("/api/v1/org-units/{}/move", own.id)))
        .bearer_auth(&school_token)
        .json(&json!({"parent_id": xa.id, "valid_from": "2026-10-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});

app_test!(learner_records_by_role, async |app: &TestApp| {
    let c = reqwest::Client::new();
    let db = &app.store().db;
    let clerk = app.token("vanthu.thcs").await;
    let school = accounts::by_username(db, "vanthu.thcs")
        .await
        .unwrap()
        .unwrap()
        .owner_org_id;
    let parent = accounts::by_username(db, "phuhuynh.thcs").await.unwrap().unwrap();
    let child = accounts::grants_of(db, parent.id).await.unwrap()[0]
        .learner_id
        .unwrap();
    let class_k = truongso_store::people::for_schools(db, &[school], 50)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.id == child)
        .unwrap()
        .class_id
        .unwrap();
    // The clerk enrols a learner in 6A1; a bad CCCD is refused with the field named.
    let body = |cccd: &str| {
        json!({"school_id": school, "class_id": class_k, "full_name": "Nguyễn Văn An", "date_of_birth": "02/03/2015",
               "sex": "Nam", "cccd": cccd, "ethnicity": "Tày"})
    };
    let r = c
        .post(app.url("/api/v1/learners"))
        .bearer_auth(&clerk)
        .json(&body("008315000123"))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "cccd", "cccd_sex_mismatch").await;
    let r = c
        .post(app.url("/api/v1/learners"))
        .bearer_auth(&clerk)
        .json(&body("008215000123"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let an = json_of(r).await;
    assert_eq!(an["cccd"], "008215000123");
    assert_eq!(an["ethnicity"], "02");
    let id = an["id"].as_str().unwrap().to_string();
    // Found without diacritics.
    let hits = json_of(
        c.get(app.url("/api/v1/learners?q=nguyen%20van%20an"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(hits.as_array().unwrap().iter().any(|h| h["id"] == id.as_str()));
    // The subject teacher of 6A1 reads the record with the identity number masked.
    let teacher = app.token("gvbm.thcs").await;
    let seen = json_of(
        c.get(app.url(&format!("/api/v1/learners/{id}")))
            .bearer_auth(&teacher)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["cccd"], "•••••••••123");
    // A guardian sees their own child only, in the record and in search.
    let guardian = app.token("phuhuynh.thcs").await;
    let r = c
        .get(app.url(&format!("/api/v1/learners/{id}")))
        .bearer_auth(&guardian)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(app.url(&format!("/api/v1/learners/{child}")))
        .bearer_auth(&guardian)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let hits = json_of(
        c.get(app.url("/api/v1/learners?q=a"))
            .bearer_auth(&guardian)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .all(|h| h["id"] == child.to_string().as_str())
    );
    // The pages show the same scoping; the parent's menu has the learners entry.
    let (browser, _) = app.login("phuhuynh.thcs").await;
    let home = common::get_text(&browser, app.url("/")).await;
    assert!(home.contains("href=\"/learners\""));
    let r = browser
        .get(app.url(&format!("/learners/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let own = common::get_text(&browser, app.url(&format!("/learners/{child}"))).await;
    assert!(own.contains("Quá trình học tập") && own.contains("Đang học"));
    let (clerk_page, _) = app.login("vanthu.thcs").await;
    let list = common::get_text(&clerk_page, app.url("/learners?q=NGUYEN%20van%20an")).await;
    assert!(list.contains("Nguyễn Văn An"));
    let rec = common::get_text(&clerk_page, app.url(&format!("/learners/{id}"))).await;
    assert!(rec.contains("008215000123") && rec.contains("Tày"));
    // The accountant reads records but does not enrol.
    let accountant = app.token("ketoan.thcs").await;
    let r = c
        .post(app.url("/api/v1/learners"))
        .bearer_auth(&accountant)
        .json(&body("008215000999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});
