//! School health records and guardians, black-box on both databases: the nurse records, the
//! parent and the homeroom teacher read, others are refused; invalid input writes nothing; the
//! audit chain never carries a health value; guardians are linked by the records keepers and
//! parent accounts by those who may grant the parent role on every child.

mod common;

use common::{TestApp, assert_field_error};
use reqwest::{Client, Response};
use serde_json::{Value, json};
use truongso_core::auth::Role;
use truongso_core::org::OrgKind;
use truongso_store::{ActorRef, accounts, audit, classes, org, people};
use uuid::Uuid;

struct Api<'a> {
    app: &'a TestApp,
    c: Client,
}

impl Api<'_> {
    async fn get(&self, token: &str, path: &str) -> Response {
        self.c
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.c
            .post(self.app.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// The learner the demo parent is granted on (found through `/api/v1/me`).
async fn parents_child(api: &Api<'_>, parent: &str) -> Uuid {
    let me: Value = api.get(parent, "/api/v1/me").await.json().await.unwrap();
    let g = me["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role"] == "parent")
        .expect("the demo parent has a parent grant");
    g["learner_id"].as_str().unwrap().parse().unwrap()
}

async fn health_of(api: &Api<'_>, token: &str, learner: Uuid) -> Value {
    let r = api
        .get(token, &format!("/api/v1/learners/{learner}/health"))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A check-up date the server accepts: yesterday (the server counts days in Vietnam's time).
fn yesterday() -> String {
    (chrono::Utc::now().date_naive() - chrono::Days::new(1))
        .format("%d/%m/%Y")
        .to_string()
}

app_test!(nurse_records_and_the_right_people_read, async |app: &TestApp| {
    let api = Api {
        app,
        c: Client::new(),
    };
    let nurse = app.token("yte.thcs").await;
    let parent = app.token("phuhuynh.thcs").await;
    let homeroom = app.token("gvcn.thcs").await;
    let subject = app.token("gvbm.thcs").await;
    let librarian = app.token("thuvien.thcs").await;
    let child = parents_child(&api, &parent).await;
    let before = health_of(&api, &nurse, child).await["checkups"]
        .as_array()
        .unwrap()
        .len();

    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/checkups"),
            json!({
                "kind": "periodic",
                "date": yesterday(),
                "height_cm": 147.3,
                "weight_kg": "61,9",
                "vision_right": "6/10",
                "vision_left": "10/10",
                "dental": "caries",
                "notes": "Hen suyễn nhẹ, mang bình xịt"
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let entry = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["height_mm"], 1473);
    assert_eq!(created["weight_hg"], 619);
    assert_eq!(created["vision_flag"], true);
    let category = created["bmi_for_age"]["category"].as_str().unwrap().to_string();
    assert!(!category.is_empty());

    // The parent and the homeroom teacher read it, with the BMI-for-age category.
    for reader in [&parent, &homeroom, &nurse] {
        let rec = health_of(&api, reader, child).await;
        let c = rec["checkups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == entry.as_str())
            .expect("the new check-up is listed")
            .clone();
        assert_eq!(c["bmi_for_age"]["category"], category.as_str());
        assert_eq!(c["notes"], "Hen suyễn nhẹ, mang bình xịt");
    }
    // The subject teacher and the librarian may not.
    for other in [&subject, &librarian] {
        let r = api.get(other, &format!("/api/v1/learners/{child}/health")).await;
        assert_eq!(r.status(), 403);
        let r = api
            .post(
                other,
                &format!("/api/v1/learners/{child}/health/checkups"),
                json!({"kind": "periodic", "date": yesterday(), "height_cm": 140}),
            )
            .await;
        assert_eq!(r.status(), 403);
    }
    // An invalid check-up names its field and writes nothing.
    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/checkups"),
            json!({"kind": "periodic", "date": yesterday(), "height_cm": "abc", "weight_kg": "30"}),
        )
        .await;
    assert_field_error(r, "height_cm", "invalid_number").await;
    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/checkups"),
            json!({"kind": "periodic", "date": yesterday(), "height": "140"}),
        )
        .await;
    assert_eq!(r.status(), 400, "unknown fields are refused");
    assert_eq!(
        health_of(&api, &nurse, child).await["checkups"]
            .as_array()
            .unwrap()
            .len(),
        before + 1
    );

    // Vaccinations and conditions.
    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/vaccinations"),
            json!({"name": "soi-rubella; Td", "date": yesterday()}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/conditions"),
            json!({"kind": "allergy", "detail": "Dị ứng đậu phộng"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = api
        .post(
            &nurse,
            &format!("/api/v1/learners/{child}/health/conditions"),
            json!({"kind": "sai", "detail": "x"}),
        )
        .await;
    assert_field_error(r, "kind", "unknown_code").await;
    let rec = health_of(&api, &parent, child).await;
    assert!(
        rec["vaccinations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "Sởi-Rubella")
    );
    assert!(
        rec["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "allergy" && c["detail"] == "Dị ứng đậu phộng")
    );

    // The audit chain records kinds and dates, never a value.
    let events = audit::recent(&app.store().db, None, 200).await.unwrap();
    let health_events: Vec<_> = events
        .iter()
        .filter(|e| e.action.starts_with("health."))
        .collect();
    assert!(health_events.len() >= 4, "{}", health_events.len());
    for e in &events {
        let text = format!("{:?} {:?}", e.before, e.after);
        for value in [
            "147.3",
            "147,3",
            "61,9",
            "Hen suyễn",
            "đậu phộng",
            "Sởi-Rubella",
            "6/10",
        ] {
            assert!(
                !text.contains(value),
                "audit event {} carries {value}: {text}",
                e.action
            );
        }
    }
    for e in &health_events {
        let after: Value = serde_json::from_str(e.after.as_deref().unwrap_or("{}")).unwrap();
        let keys: Vec<&String> = after.as_object().unwrap().keys().collect();
        assert!(keys.iter().all(|k| *k == "kind" || *k == "on_date"), "{keys:?}");
    }

    // The record page: the nurse sees the section and its forms, the subject teacher neither.
    let (nc, csrf) = app.login("yte.thcs").await;
    let html = common::get_text(&nc, app.url(&format!("/learners/{child}"))).await;
    assert!(html.contains("id=\"checkups-table\""));
    assert!(html.contains("id=\"checkup-form\""));
    assert!(html.contains("147,3"));
    let (sc, scsrf) = app.login("gvbm.thcs").await;
    let r = sc
        .get(app.url(&format!("/learners/{child}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(!html.contains("id=\"health\""));
    assert!(!html.contains("147,3"));
    // A page form with a bad height: the page again, the error beside the field, nothing written.
    let r = nc
        .post(app.url(&format!("/learners/{child}/health/checkups")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "periodic"),
            ("date", &yesterday()),
            ("height_cm", "abc"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"height_cm-error\""),
        "the error is beside the field"
    );
    assert!(html.contains("value=\"abc\""), "what was typed is kept");
    // A good one: 303 back to the record, with a message.
    let r = nc
        .post(app.url(&format!("/learners/{child}/health/checkups")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "ad_hoc"),
            ("date", &yesterday()),
            ("height_cm", "147"),
            ("weight_kg", "40"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/learners/{child}#health")
    );
    assert_eq!(
        health_of(&api, &nurse, child).await["checkups"]
            .as_array()
            .unwrap()
            .len(),
        before + 2
    );
    // Deleting: only the nurse.
    let r = sc
        .post(app.url(&format!("/health/{entry}/delete")))
        .form(&[("_csrf", scsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = nc
        .post(app.url(&format!("/health/{entry}/delete")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let rec = health_of(&api, &nurse, child).await;
    assert!(
        !rec["checkups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == entry.as_str())
    );
});

app_test!(guardians_and_parent_accounts, async |app: &TestApp| {
    let api = Api {
        app,
        c: Client::new(),
    };
    let db = &app.store().db;
    let sys = ActorRef::system("test");
    let clerk = app.token("vanthu.thcs").await;
    let parent = app.token("phuhuynh.thcs").await;
    let subject = app.token("gvbm.thcs").await;
    let principal = app.token("hieutruong.thcs").await;
    let child = parents_child(&api, &parent).await;
    let learner = people::get_learner(db, &app.state.cipher, child).await.unwrap();
    let classmate = classes::roster(db, learner.class_id.unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.id != child)
        .unwrap()
        .id;
    let school = org::get(db, learner.school_id).await.unwrap();
    let province = org::by_code(db, "08").await.unwrap();
    let others: Vec<Uuid> = org::in_subtree(db, &province.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.id != school.id)
        .map(|u| u.id)
        .collect();
    // A learner of another school.
    let elsewhere = people::for_schools(db, &others, 1).await.unwrap()[0].id;
    let guardians = |token: String, lid: Uuid| {
        let api = &api;
        async move {
            let r = api
                .get(&token, &format!("/api/v1/learners/{lid}/guardians"))
                .await;
            assert_eq!(r.status(), 200);
            r.json::<Vec<Value>>().await.unwrap()
        }
    };
    let before = guardians(clerk.clone(), child).await.len();

    // The clerk links a second guardian.
    let body = json!({"relation": "father", "full_name": "Trần Văn Bình", "phone": "0912 345 678",
        "email": "binh@example.vn", "cccd": "001085012345"});
    let r = api
        .post(
            &clerk,
            &format!("/api/v1/learners/{child}/guardians"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), 201);
    let linked: Value = r.json().await.unwrap();
    assert_eq!(linked["grants"], 0);
    let gid: Uuid = linked["guardian_id"].as_str().unwrap().parse().unwrap();
    let list = guardians(clerk.clone(), child).await;
    assert_eq!(list.len(), before + 1);
    let g = list.iter().find(|g| g["id"] == gid.to_string()).unwrap();
    assert_eq!(g["phone"], "0912345678");
    assert_eq!(g["relation"], "father");
    assert_eq!(g["children"], 1);
    // Those who may not edit the record see the phone masked and no email.
    let list = guardians(parent.clone(), child).await;
    let g = list.iter().find(|g| g["id"] == gid.to_string()).unwrap();
    assert_eq!(g["phone"], "09••••••78");
    assert!(g["email"].is_null());
    // Without rights on the learner: 403, nothing written.
    let r = api
        .post(
            &subject,
            &format!("/api/v1/learners/{child}/guardians"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = api
        .post(
            &clerk,
            &format!("/api/v1/learners/{elsewhere}/guardians"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        people::guardians_of(db, elsewhere)
            .await
            .unwrap()
            .iter()
            .all(|g| g.id != gid)
    );
    let r = api
        .post(
            &clerk,
            &format!("/api/v1/learners/{child}/guardians"),
            json!({"relation": "father", "full_name": "X", "phone": "12"}),
        )
        .await;
    assert_field_error(r, "phone", "invalid_phone").await;

    // A parent account for the new guardian, owned by the school.
    let user = accounts::create_user(
        db,
        &sys,
        accounts::NewUser {
            username: "tranvanbinh".into(),
            display_name: "Trần Văn Bình".into(),
            owner_org_id: school.id,
            password: "Matkhau@2025".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let uid = user.id;
    let parent_on = move |lid: Uuid| async move {
        accounts::grants_of(db, uid)
            .await
            .unwrap()
            .iter()
            .any(|g| g.role == Role::Parent && g.learner_id == Some(lid))
    };
    // The clerk may edit records but not grant roles: 403, nothing written.
    let r = api
        .post(
            &clerk,
            &format!("/api/v1/guardians/{gid}/account"),
            json!({"user_id": user.id}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(!parent_on(child).await);
    assert!(
        people::guardians_of(db, child)
            .await
            .unwrap()
            .iter()
            .all(|g| g.id != gid || g.user_id.is_none())
    );
    // The principal links it: the account gets the parent role on the child.
    let r = api
        .post(
            &principal,
            &format!("/api/v1/guardians/{gid}/account"),
            json!({"user_id": user.id}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["grants"], 1);
    assert!(parent_on(child).await);
    let me_token = app.token("tranvanbinh").await;
    assert_eq!(
        api.get(&me_token, &format!("/api/v1/learners/{child}/health"))
            .await
            .status(),
        200
    );
    // Again: nothing new.
    let r = api
        .post(
            &principal,
            &format!("/api/v1/guardians/{gid}/account"),
            json!({"user_id": user.id}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["grants"], 0);
    // Another account for the same guardian: a precise conflict.
    let other = accounts::by_username(db, "gvbm.thcs").await.unwrap().unwrap();
    let r = api
        .post(
            &principal,
            &format!("/api/v1/guardians/{gid}/account"),
            json!({"user_id": other.id}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "user_id");

    // Linking the same guardian (same name and phone) to a classmate grants the account that
    // child too.
    let r = api
        .post(
            &clerk,
            &format!("/api/v1/learners/{classmate}/guardians"),
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["guardian_id"], gid.to_string());
    assert_eq!(v["grants"], 1);
    assert!(parent_on(classmate).await);
    assert_eq!(
        guardians(clerk.clone(), classmate)
            .await
            .iter()
            .find(|g| g["id"] == gid.to_string())
            .unwrap()["children"],
        2
    );

    // A guardian with a child in another school: the school's principal may not link an account
    // (403, nothing written); the province's administrator may.
    let (g2, _) = people::link_guardian_granting(
        db,
        &app.state.cipher,
        &sys,
        child,
        "mother",
        people::NewGuardian {
            full_name: "Lê Thị Cúc".into(),
            phone: Some("0987654321".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    people::link_guardian(
        db,
        &app.state.cipher,
        &sys,
        elsewhere,
        "mother",
        people::NewGuardian {
            full_name: "Lê Thị Cúc".into(),
            phone: Some("0987654321".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let cuc = accounts::create_user(
        db,
        &sys,
        accounts::NewUser {
            username: "lethicuc".into(),
            display_name: "Lê Thị Cúc".into(),
            owner_org_id: school.id,
            password: "Matkhau@2025".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = api
        .post(
            &principal,
            &format!("/api/v1/guardians/{g2}/account"),
            json!({"user_id": cuc.id}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(accounts::grants_of(db, cuc.id).await.unwrap().is_empty());
    assert!(
        people::guardians_of(db, child)
            .await
            .unwrap()
            .iter()
            .all(|g| g.id != g2 || g.user_id.is_none())
    );
    let admin = app.token("admin.so").await;
    let r = api
        .post(
            &admin,
            &format!("/api/v1/guardians/{g2}/account"),
            json!({"user_id": cuc.id}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["grants"], 2);
    let held = accounts::grants_of(db, cuc.id).await.unwrap();
    assert!(held.iter().any(|g| g.learner_id == Some(child)));
    assert!(held.iter().any(|g| g.learner_id == Some(elsewhere)));

    // The page: the principal links through the form by username.
    let dinh = accounts::create_user(
        db,
        &sys,
        accounts::NewUser {
            username: "phamdinh".into(),
            display_name: "Phạm Đình".into(),
            owner_org_id: school.id,
            password: "Matkhau@2025".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (g3, _) = people::link_guardian_granting(
        db,
        &app.state.cipher,
        &sys,
        classmate,
        "other",
        people::NewGuardian {
            full_name: "Phạm Đình".into(),
            phone: Some("0901234567".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (pc, csrf) = app.login("hieutruong.thcs").await;
    let html = common::get_text(&pc, app.url(&format!("/learners/{classmate}"))).await;
    assert!(html.contains("id=\"guardians-table\""));
    assert!(html.contains("id=\"account-form\""));
    let r = pc
        .post(app.url(&format!("/learners/{classmate}/guardians/account")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("guardian_id", &g3.to_string()),
            ("username", "khongco"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("field-error"));
    let r = pc
        .post(app.url(&format!("/learners/{classmate}/guardians/account")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("guardian_id", &g3.to_string()),
            ("username", "phamdinh"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        accounts::grants_of(db, dinh.id)
            .await
            .unwrap()
            .iter()
            .any(|g| g.role == Role::Parent && g.learner_id == Some(classmate))
    );
    // The clerk's page has the guardian form but not the account form; a teacher has neither.
    let (cc, ccsrf) = app.login("vanthu.thcs").await;
    let html = common::get_text(&cc, app.url(&format!("/learners/{child}"))).await;
    assert!(html.contains("id=\"guardian-form\""));
    assert!(!html.contains("id=\"account-form\""));
    assert!(html.contains("0912345678"));
    let r = cc
        .post(app.url(&format!("/learners/{child}/guardians")))
        .form(&[
            ("_csrf", ccsrf.as_str()),
            ("relation", "mother"),
            ("full_name", "Ngô Thị Hoa"),
            ("phone", "sai"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("value=\"Ngô Thị Hoa\""));
    // The homeroom teacher may edit the record (full phone); a subject teacher only reads it.
    let (hc, _) = app.login("gvcn.thcs").await;
    let html = common::get_text(&hc, app.url(&format!("/learners/{child}"))).await;
    assert!(html.contains("id=\"guardian-form\""));
    assert!(html.contains("0912345678"));
    let (tc, _) = app.login("gvbm.thcs").await;
    let html = common::get_text(&tc, app.url(&format!("/learners/{child}"))).await;
    assert!(html.contains("id=\"guardians-table\""));
    assert!(!html.contains("id=\"guardian-form\""));
    assert!(html.contains("09••••••78"));
});
