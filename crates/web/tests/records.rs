//! School records through the API on both databases: Excel import jobs (a bad row rejects the
//! whole file with sheet, row and column; the fixed file imports; the same file again changes
//! nothing), classes and staff scoped by role, moves with history.

mod common;

use reqwest::Client;
use serde_json::{Value, json};
use truongso_docs::{Cell, template};

async fn get_json<T: serde::de::DeserializeOwned>(
    app: &common::TestApp,
    token: &str,
    path: impl AsRef<str>,
) -> T {
    Client::new()
        .get(app.url(path.as_ref()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn me(app: &common::TestApp, token: &str) -> Value {
    get_json(app, token, "/api/v1/me").await
}

/// A learners workbook in the template's columns.
fn learners_xlsx(rows: &[[&str; 6]]) -> Vec<u8> {
    let keys = [
        "full_name",
        "date_of_birth",
        "sex",
        "cccd",
        "class_name",
        "mother_phone",
    ];
    let headers: Vec<String> = keys
        .iter()
        .map(|k| template::LEARNERS.column(k).unwrap().header_cell())
        .collect();
    let mut headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    headers.push(template::LEARNERS.column("mother_name").unwrap().header_vi);
    let cells = rows.iter().map(|r| {
        let mut v: Vec<Cell> = r.iter().map(|c| Cell::from(*c)).collect();
        v.push(Cell::from(if r[5].is_empty() { "" } else { "Hà Thị Mẹ" }));
        v
    });
    truongso_docs::write_table(template::LEARNERS.sheet_vi, &headers, cells).unwrap()
}

async fn run_import(app: &common::TestApp, token: &str, school: &str, body: Vec<u8>) -> Value {
    let c = Client::new();
    let r = c
        .post(app.url(&format!("/api/v1/imports/learners?school_id={school}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        let j: Value = get_json(app, token, &format!("/api/v1/jobs/{id}")).await;
        if j["status"] == "done" || j["status"] == "failed" {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job did not finish");
}

app_test!(
    import_rejects_bad_file_then_imports_fixed_file_once,
    async |app: &common::TestApp| {
        let clerk = app.token("vanthu.thcs").await;
        let school = me(app, &clerk).await["grants"][0]["org_unit_id"]
            .as_str()
            .unwrap()
            .to_string();
        let c = Client::new();
        // The template downloads as a real workbook.
        let t = c
            .get(app.url("/api/v1/templates/learners"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(t.status(), 200);
        assert!(t.bytes().await.unwrap().starts_with(b"PK"));

        let good = [
            ["Hà Văn Một", "05/09/2014", "Nam", "", "7A1", "0911000001"],
            [
                "Hà Thị Hai",
                "12/12/2015",
                "Nữ",
                "008315000222",
                "6A1",
                "0911000001",
            ],
        ];
        let mut bad = good.to_vec();
        bad.push(["Hà Văn Ba", "01/01/2014", "Nam", "999214000333", "6A1", ""]);
        let j = run_import(app, &clerk, &school, learners_xlsx(&bad)).await;
        assert_eq!(j["status"], "failed", "{j}");
        let errors = j["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{j}");
        assert_eq!(errors[0]["row"], 4);
        assert_eq!(errors[0]["column"], "D");
        assert_eq!(errors[0]["code"], "cccd_province");
        let msg = errors[0]["message_vi"].as_str().unwrap();
        assert!(msg.contains("dòng 4") && msg.contains("cột D"), "{msg}");

        let before: Vec<Value> = get_json(app, &clerk, "/api/v1/learners?q=ha van mot").await;
        assert!(before.is_empty(), "nothing from the rejected file was written");

        let j = run_import(app, &clerk, &school, learners_xlsx(&good)).await;
        assert_eq!(j["status"], "done", "{j}");
        assert_eq!(j["report"]["created"], 2);
        let j = run_import(app, &clerk, &school, learners_xlsx(&good)).await;
        assert_eq!(
            (j["report"]["created"].as_u64(), j["report"]["unchanged"].as_u64()),
            (Some(0), Some(2))
        );
        let found: Vec<Value> = get_json(app, &clerk, "/api/v1/learners?q=ha van mot").await;
        assert_eq!(found.len(), 1);

        // Not a workbook at all.
        let j = run_import(app, &clerk, &school, b"hello, not a spreadsheet".to_vec()).await;
        assert_eq!(j["errors"][0]["code"], "not_xlsx");
        // The librarian may not import.
        let librarian = app.token("thuvien.thcs").await;
        let r = c
            .post(app.url(&format!("/api/v1/imports/learners?school_id={school}")))
            .bearer_auth(&librarian)
            .body(learners_xlsx(&good))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
);

app_test!(classes_and_staff_follow_roles, async |app: &common::TestApp| {
    let c = Client::new();
    let clerk = app.token("vanthu.thcs").await;
    let school = me(app, &clerk).await["grants"][0]["org_unit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let classes: Vec<Value> = get_json(app, &clerk, &format!("/api/v1/classes?school_id={school}")).await;
    assert!(classes.len() >= 4);
    assert!(classes.iter().all(|k| k["learners"].as_i64().unwrap() > 0));
    // A homeroom teacher sees their one class; a subject teacher theirs; a parent none.
    for (user, n) in [("gvcn.thcs", 1), ("gvbm.thcs", 1), ("phuhuynh.thcs", 0)] {
        let tok = app.token(user).await;
        let mine: Vec<Value> = get_json(app, &tok, "/api/v1/classes").await;
        assert_eq!(mine.len(), n, "{user}");
    }
    let k = classes.iter().find(|k| k["name"] == "6A1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = classes.iter().find(|k| k["name"] == "7A1").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let detail: Value = get_json(app, &clerk, &format!("/api/v1/classes/{k}")).await;
    let pupil = detail["learners"][0]["id"].as_str().unwrap().to_string();
    assert!(!detail["assignments"].as_array().unwrap().is_empty());
    // The subject teacher of 6A1 cannot read 7A1.
    let gvbm = app.token("gvbm.thcs").await;
    let r = c
        .get(app.url(&format!("/api/v1/classes/{other}")))
        .bearer_auth(&gvbm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The clerk moves a pupil; the history shows both classes.
    let r = c
        .post(app.url(&format!("/api/v1/learners/{pupil}/enrolments")))
        .bearer_auth(&clerk)
        .json(&json!({"class_id": other, "on_date": "2026-11-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    let h: Vec<Value> = get_json(app, &clerk, &format!("/api/v1/learners/{pupil}/enrolments")).await;
    assert_eq!(h.len(), 2);
    assert_eq!(h[0]["to_date"], "2026-11-19");
    assert_eq!(h[1]["class_name"], "7A1");
    // Dropping out needs a reason; with one, the learner leaves the class roll.
    let r = c
        .post(app.url(&format!("/api/v1/learners/{pupil}/status")))
        .bearer_auth(&clerk)
        .json(&json!({"status": "05", "on_date": "2026-11-21"}))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "reason_code", "required").await;
    let roll_before =
        get_json::<Value>(app, &clerk, &format!("/api/v1/classes/{other}")).await["class"]["learners"]
            .as_i64()
            .unwrap();
    let r = c
        .post(app.url(&format!("/api/v1/learners/{pupil}/status")))
        .bearer_auth(&clerk)
        .json(&json!({"status": "05", "on_date": "2026-11-21", "reason_code": "01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let roll_after =
        get_json::<Value>(app, &clerk, &format!("/api/v1/classes/{other}")).await["class"]["learners"]
            .as_i64()
            .unwrap();
    assert_eq!(roll_after, roll_before - 1);
    // A duplicate class name is a conflict; a grade the school does not teach a field error.
    let year = detail["class"]["school_year_id"].as_str().unwrap();
    let r = c
        .post(app.url("/api/v1/classes"))
        .bearer_auth(&clerk)
        .json(&json!({"school_year_id": year, "grade": "6", "name": "6A1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = c
        .post(app.url("/api/v1/classes"))
        .bearer_auth(&clerk)
        .json(&json!({"school_year_id": year, "grade": "11", "name": "11A1"}))
        .send()
        .await
        .unwrap();
    common::assert_field_error(r, "grade", "grade_not_taught").await;
    // Staff search without diacritics; the CCCD never appears in staff JSON.
    let staff: Vec<Value> = get_json(app, &clerk, &format!("/api/v1/staff?school_id={school}")).await;
    assert!(staff.len() > 5);
    assert!(staff.iter().all(|s| s.get("cccd").is_none()));
    let first = staff[0]["full_name"].as_str().unwrap();
    let folded = truongso_core::text::fold(first);
    let hits: Vec<Value> = get_json(
        app,
        &clerk,
        &format!("/api/v1/staff?school_id={school}&q={folded}"),
    )
    .await;
    assert!(hits.iter().any(|s| s["full_name"] == first));
});
