//! Black-box tests of the data-quality dashboard and the facilities pages and API, on SQLite
//! and PostgreSQL.

mod common;

use common::{TestApp, assert_field_error, get_text};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use truongso_core::i18n::{self, Locale};
use truongso_core::org::OrgKind;
use truongso_store::entity::learner;
use truongso_store::{accounts, org, people};
use uuid::Uuid;

/// Text as askama escapes it in HTML.
fn html_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn owner_school(app: &TestApp, username: &str) -> Uuid {
    let u = accounts::by_username(&app.store().db, username)
        .await
        .unwrap()
        .unwrap();
    let unit = org::get(&app.store().db, u.owner_org_id).await.unwrap();
    assert_eq!(unit.kind, OrgKind::School, "{username} belongs to a school");
    unit.id
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

app_test!(principal_sees_the_school_report, async |app: &TestApp| {
    let school = owner_school(app, "hieutruong.thcs").await;
    let token = app.token("hieutruong.thcs").await;
    let (status, report) = get_json(app, &token, &format!("/api/v1/quality/schools/{school}")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["school_id"], json!(school));
    let issues = report["issues"].as_array().unwrap();
    assert!(!issues.is_empty(), "the demo school has imperfect records");
    assert!(report["learners"].as_u64().unwrap() > 0);
    let permille = report["completeness_permille"].as_u64().unwrap();
    assert!(permille <= 1000);
    // No identity number leaves the server: the decrypted CCCDs of the school's learners are
    // nowhere in the report.
    let body = report.to_string();
    for i in issues.iter().filter(|i| i["entity"] == "learner") {
        let id = i["entity_id"].as_str().unwrap();
        assert_eq!(i["href"], json!(format!("/learners/{id}")));
    }
    let with_cccd = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school))
        .filter(learner::Column::CccdEnc.is_not_null())
        .limit(50)
        .all(&app.store().db)
        .await
        .unwrap();
    assert!(!with_cccd.is_empty(), "some learners of the school have a CCCD");
    for m in with_cccd {
        let l = people::get_learner(&app.store().db, &app.state.cipher, m.id)
            .await
            .unwrap();
        let c = l.cccd.unwrap();
        assert!(!body.contains(&c), "the CCCD of {} is in the report", m.id);
    }

    // The page: the school's report, issues grouped by rule, each linking to its record.
    let (c, _) = app.login("hieutruong.thcs").await;
    let r = c.get(app.url("/quality")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let name = report["school_name"].as_str().unwrap();
    assert!(html.contains(&html_escape(name)));
    assert!(html.contains("id=\"quality-report\""));
    let first = issues[0]["href"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"{first}\"")),
        "issues link to the record"
    );
    let mut rules: Vec<&str> = issues.iter().map(|i| i["rule"].as_str().unwrap()).collect();
    rules.dedup();
    for rule in rules {
        let label = i18n::t(Locale::Vi, &format!("quality.rule.{rule}"));
        assert!(
            html.contains(&html_escape(label)),
            "rule {rule} is labelled «{label}»"
        );
        assert!(html.contains(&format!("id=\"rule-{rule}\"")));
    }
    // Same report through `?school=`; another school is refused.
    let r = c
        .get(app.url(&format!("/quality?school={school}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let db = &app.store().db;
    let parent = org::get(db, school).await.unwrap().parent_id.unwrap();
    let parent = org::get(db, parent).await.unwrap();
    let other = org::in_subtree(db, &parent.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id != school);
    if let Some(other) = other {
        let r = c
            .get(app.url(&format!("/quality?school={}", other.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // A librarian has no data-quality dashboard.
    let librarian = app.token("thuvien.thcs").await;
    let (status, _) = get_json(app, &librarian, &format!("/api/v1/quality/schools/{school}")).await;
    assert_eq!(status, 403);
});

app_test!(officer_sees_the_rollup_of_every_school, async |app: &TestApp| {
    let db = &app.store().db;
    let so = org::by_code(db, "08").await.unwrap();
    let schools: Vec<_> = org::in_subtree(db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.is_current())
        .collect();
    assert!(schools.len() > 1);
    let token = app.token("chuyenvien.so").await;
    let (status, rollup) = get_json(app, &token, &format!("/api/v1/quality/units/{}", so.id)).await;
    assert_eq!(status, 200, "{rollup}");
    let listed = rollup["schools"].as_array().unwrap();
    assert_eq!(listed.len(), schools.len());
    assert_eq!(rollup["totals"]["schools"], json!(schools.len()));
    // Worst first.
    let permille: Vec<u64> = listed
        .iter()
        .map(|s| s["counts"]["completeness_permille"].as_u64().unwrap())
        .collect();
    assert!(permille.windows(2).all(|w| w[0] <= w[1]), "{permille:?}");

    let (c, _) = app.login("chuyenvien.so").await;
    let r = c.get(app.url("/quality")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"quality-schools\""));
    assert!(html.contains("id=\"quality-units\""));
    for s in &schools {
        assert!(html.contains(&html_escape(&s.name)), "{} is listed", s.name);
        assert!(html.contains(&format!("href=\"/quality?school={}\"", s.id)));
    }
    // The officer opens one school's report from the table.
    let s = &schools[0];
    let page = get_text(&c, app.url(&format!("/quality?school={}", s.id))).await;
    assert!(page.contains("id=\"quality-report\""));
    assert!(page.contains("href=\"/quality\""), "a way back to the roll-up");
    // A unit below, by `?unit=`.
    let child = rollup["units"][0]["unit_id"].as_str().unwrap();
    let r = c
        .get(app.url(&format!("/quality?unit={child}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
});

app_test!(facilities_through_the_api, async |app: &TestApp| {
    let school = owner_school(app, "hieutruong.thcs").await;
    let token = app.token("hieutruong.thcs").await;
    let c = reqwest::Client::new();
    let before = get_json(app, &token, &format!("/api/v1/schools/{school}/facilities"))
        .await
        .1;
    let r = c
        .post(app.url(&format!("/api/v1/schools/{school}/rooms")))
        .bearer_auth(&token)
        .json(&json!({"name": "Phòng tin học số 2", "kind": "computer_room", "quality": "Bán kiên cố", "area_m2": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let room: Value = r.json().await.unwrap();
    assert_eq!(
        (room["kind"].as_str(), room["quality"].as_str()),
        (Some("computer_room"), Some("semi_solid"))
    );
    let r = c
        .put(app.url(&format!("/api/v1/schools/{school}/facilities/facts")))
        .bearer_auth(&token)
        .json(
            &json!({"computers_teaching": 25, "facts": {"grid_power": true, "internet_for_teaching": true}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(app.url(&format!("/api/v1/schools/{school}/equipment")))
        .bearer_auth(&token)
        .json(&json!({"code": "THCS6-KHTN-01", "name": "Kính lúp cầm tay", "category": "Khoa học tự nhiên", "grade": 6, "quantity": 12, "condition": "good"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (status, ov) = get_json(app, &token, &format!("/api/v1/schools/{school}/facilities")).await;
    assert_eq!(status, 200);
    assert!(
        ov["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Phòng tin học số 2")
    );
    let computer_rooms = |v: &Value| {
        v["room_counts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "computer_room")
            .map_or(0, |c| c["semi_solid"].as_u64().unwrap())
    };
    assert_eq!(computer_rooms(&ov), computer_rooms(&before) + 1);
    assert_eq!(ov["computers_teaching"], 25);
    assert_eq!(ov["facts"]["grid_power"], true);
    assert_eq!(ov["facts"]["internet_for_teaching"], true);
    assert_eq!(ov["facts"]["toilets"], false, "a fact left out is no");
    assert_eq!(ov["learners_per_computer"]["denominator"], 25);
    assert!(
        ov["equipment"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "THCS6-KHTN-01" && e["quantity"] == 12)
    );

    // Validation errors name the field.
    let r = c
        .post(app.url(&format!("/api/v1/schools/{school}/rooms")))
        .bearer_auth(&token)
        .json(&json!({"name": "Bể bơi", "kind": "swimming_pool", "quality": "solid"}))
        .send()
        .await
        .unwrap();
    assert_field_error(r, "kind", "unknown_code").await;
    let r = c
        .put(app.url(&format!("/api/v1/schools/{school}/facilities/facts")))
        .bearer_auth(&token)
        .json(&json!({"computers_teaching": 1, "facts": {"swimming_pool": true}}))
        .send()
        .await
        .unwrap();
    assert_field_error(r, "facts", "unknown_code").await;
    let r = c
        .post(app.url(&format!("/api/v1/schools/{school}/rooms")))
        .bearer_auth(&token)
        .json(&json!({"name": "A", "kind": "classroom", "quality": "solid", "floor": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "unknown fields are refused");

    // The librarian reads but may not write.
    let librarian = app.token("thuvien.thcs").await;
    let (status, _) = get_json(app, &librarian, &format!("/api/v1/schools/{school}/facilities")).await;
    assert_eq!(status, 200);
    let r = c
        .post(app.url(&format!("/api/v1/schools/{school}/rooms")))
        .bearer_auth(&librarian)
        .json(&json!({"name": "Kho sách", "kind": "library", "quality": "solid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .put(app.url(&format!("/api/v1/schools/{school}/facilities/facts")))
        .bearer_auth(&librarian)
        .json(&json!({"computers_teaching": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, after) = get_json(app, &token, &format!("/api/v1/schools/{school}/facilities")).await;
    assert!(
        !after["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Kho sách")
    );
    assert_eq!(after["computers_teaching"], 25);
});

app_test!(facilities_page_forms, async |app: &TestApp| {
    let school = owner_school(app, "hieutruong.thcs").await;
    let (c, csrf) = app.login("hieutruong.thcs").await;
    let html = get_text(&c, app.url("/facilities")).await;
    assert!(html.contains("id=\"room-form\""));
    assert!(html.contains("id=\"facts-form\""));
    assert!(html.contains(i18n::t(Locale::Vi, "facilities.learners_per_computer")));
    // An unknown kind: the page again, with the error beside the field and what was typed.
    let r = c
        .post(app.url(&format!("/facilities/{school}/rooms")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Phòng học 9A"),
            ("kind", "bể bơi"),
            ("quality", "solid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"field-error\""));
    assert!(html.contains(i18n::t(Locale::Vi, "error.unknown_code")));
    assert!(html.contains("value=\"Phòng học 9A\""));
    // A valid room: back to the page with a message, and the room is listed.
    let r = c
        .post(app.url(&format!("/facilities/{school}/rooms")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Phòng học 9A"),
            ("kind", "classroom"),
            ("quality", "solid"),
            ("area_m2", "54"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/facilities?school={school}").as_str()
    );
    let html = get_text(&c, app.url(&format!("/facilities?school={school}"))).await;
    assert!(html.contains(i18n::t(Locale::Vi, "facilities.room_saved")));
    assert!(html.contains("Phòng học 9A"));
    // Facts: ticked boxes are yes, the rest no; a bad number is shown beside its field.
    let r = c
        .post(app.url(&format!("/facilities/{school}/facts")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("clean_water", "có"),
            ("computers_teaching", "nhiều"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"field-error\""));
    assert!(html.contains("value=\"nhiều\""));
    let r = c
        .post(app.url(&format!("/facilities/{school}/facts")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("clean_water", "có"),
            ("computers_teaching", "20"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let token = app.token("hieutruong.thcs").await;
    let (_, ov) = get_json(app, &token, &format!("/api/v1/schools/{school}/facilities")).await;
    assert_eq!(ov["facts"]["clean_water"], true);
    assert_eq!(ov["facts"]["grid_power"], false);
    assert_eq!(ov["computers_teaching"], 20);
    // The librarian sees the page without forms and may not post.
    let (lib, lib_csrf) = app.login("thuvien.thcs").await;
    let html = get_text(&lib, app.url("/facilities")).await;
    assert!(html.contains("id=\"facts-list\""));
    assert!(!html.contains("id=\"room-form\""));
    let r = lib
        .post(app.url(&format!("/facilities/{school}/rooms")))
        .form(&[
            ("_csrf", lib_csrf.as_str()),
            ("name", "Kho sách"),
            ("kind", "library"),
            ("quality", "solid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
});
