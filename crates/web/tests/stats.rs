//! Black-box tests of the statistics forms, lineage, exports and the reporting workflow through
//! the API and pages, on SQLite and PostgreSQL (demo province seeded).

mod common;

use common::TestApp;
use serde_json::{Value, json};
use std::collections::HashMap;
use truongso_core::org::OrgKind;
use truongso_store::entity::stats_form_cache;
use truongso_store::{org, stats};
use uuid::Uuid;

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let c = reqwest::Client::new();
    let mut rb = c
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(path),
        )
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Every cell of a forms body, keyed by (form, section, row, column index).
fn cells(body: &Value) -> HashMap<(String, String, String, usize), u64> {
    let mut out = HashMap::new();
    for f in body["forms"].as_array().unwrap() {
        for s in f["sections"].as_array().unwrap() {
            for r in s["rows"].as_array().unwrap() {
                for (i, c) in r["cells"].as_array().unwrap().iter().enumerate() {
                    if let Some(n) = c.as_u64() {
                        let key = (
                            f["id"].as_str().unwrap().to_string(),
                            s["code"].as_str().unwrap().to_string(),
                            r["code"].as_str().unwrap().to_string(),
                            i,
                        );
                        out.insert(key, n);
                    }
                }
            }
        }
    }
    out
}

app_test!(
    an_office_form_is_the_sum_of_its_schools_and_a_cell_lists_its_records,
    async |app: &TestApp| {
        let db = &app.store().db;
        let token = app.token("chuyenvien.xa").await;
        let ward = common::owner_unit(app, "chuyenvien.xa").await;
        let q = "round=beginning_of_year&year=2026";
        let (status, unit) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/forms?unit={}&{q}", ward.id),
            None,
        )
        .await;
        assert_eq!(status, 200, "{unit}");
        let schools = stats::schools_of(db, &ward, chrono::NaiveDate::from_ymd_opt(2026, 9, 30).unwrap())
            .await
            .unwrap();
        assert!(schools.len() >= 2);
        assert_eq!(unit["schools"].as_u64(), Some(schools.len() as u64));
        let mut summed: HashMap<(String, String, String, usize), u64> = HashMap::new();
        for s in &schools {
            let (status, body) = call(
                app,
                &token,
                "GET",
                &format!("/api/v1/stats/forms?unit={}&{q}", s.id),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            for (k, v) in cells(&body) {
                *summed.entry(k).or_default() += v;
            }
        }
        let totals = cells(&unit);
        assert!(totals.values().any(|v| *v > 0), "the ward's schools have pupils");
        for (k, v) in &totals {
            assert_eq!(summed.get(k).copied().unwrap_or(0), *v, "cell {k:?}");
        }
        // Row 1 / first column of the first form: its records add up to the figure, each with a link.
        let form = &unit["forms"][0];
        let section = &form["sections"][0];
        let column = section["columns"][0]["key"].as_str().unwrap();
        let row = section["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["cells"][0].as_u64().is_some_and(|n| n > 0))
            .expect("a non-empty row");
        let path = format!(
            "/api/v1/stats/forms/trace?unit={}&{q}&form={}&row={}&column={}",
            ward.id,
            form["id"].as_str().unwrap().replace('/', "%2F"),
            row["code"].as_str().unwrap(),
            column
        );
        let (status, trace) = call(app, &token, "GET", &path, None).await;
        assert_eq!(status, 200, "{trace}");
        assert_eq!(trace["value"], row["cells"][0]);
        let records = trace["records"].as_array().unwrap();
        let amount: u64 = records.iter().map(|r| r["amount"].as_u64().unwrap()).sum();
        assert_eq!(Some(amount), row["cells"][0].as_u64());
        assert!(
            records
                .iter()
                .all(|r| r["href"].as_str().unwrap().starts_with('/')
                    && !r["name"].as_str().unwrap().is_empty())
        );
        // The same cell as a page.
        let (c, _) = app.login("chuyenvien.xa").await;
        let page = c
            .get(app.url(&path.replace("/api/v1/stats/forms/trace", "/stats/forms/trace")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"trace-value\""));
        assert_eq!(html.matches("<tr><td><a href=").count(), records.len().min(1000));

        // Bad input: a precise error, 4xx.
        let (status, e) = call(app, &token, "GET", "/api/v1/stats/forms?round=giua_nam", None).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some("round")),
            "{e}"
        );
        let (status, e) = call(app, &token, "GET", "/api/v1/stats/forms?date=31/02/2026", None).await;
        assert_eq!((status, e["error"]["field"].as_str()), (422, Some("date")), "{e}");
        let (status, e) = call(
            app,
            &token,
            "GET",
            &format!("{}&form=khong-co", path.split("&form=").next().unwrap()),
            None,
        )
        .await;
        assert!(status == 404 || status == 400 || status == 422, "{status} {e}");
        // Outside the ward: refused.
        let so = org::by_code(db, "08").await.unwrap();
        let (status, _) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/forms?unit={}", so.id),
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
);

app_test!(
    forms_export_in_the_official_layout_and_as_csv,
    async |app: &TestApp| {
        let school = common::owner_unit(app, "hieutruong.thcs").await;
        let (c, _) = app.login("hieutruong.thcs").await;
        let base = format!(
            "/stats/forms/export?unit={}&round=beginning_of_year&year=2026&form=tt25-2024%2F03-thcs-dn",
            school.id
        );
        let token = app.token("hieutruong.thcs").await;
        let (_, body) = call(
            app,
            &token,
            "GET",
            &format!(
                "/api/v1/stats/forms?unit={}&round=beginning_of_year&year=2026&form=tt25-2024%2F03-thcs-dn",
                school.id
            ),
            None,
        )
        .await;
        let first_row = &body["forms"][0]["sections"][0]["rows"][0];
        let r = c
            .get(app.url(&format!("{base}&format=xlsx")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with(".xlsx\"")
        );
        let bytes = r.bytes().await.unwrap();
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let sheet = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&sheet).unwrap();
        let text: Vec<String> = range
            .rows()
            .flat_map(|r| r.iter().map(|c| c.to_string()))
            .collect();
        assert!(
            text.iter().any(|t| t.contains(&school.name)),
            "the reporting unit is in the title block"
        );
        let code = first_row["code"].as_str().unwrap();
        let value = first_row["cells"][0].as_u64().unwrap();
        let row = range
            .rows()
            .find(|r| r.len() > 2 && matches!(&r[1], calamine::Data::String(c) if c == code))
            .expect("row with the first Mã số");
        assert_eq!(row[2].to_string(), value.to_string());

        let r = c
            .get(app.url(&format!("{base}&format=csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .ends_with("ma_so,chi_tieu,cot,gia_tri")
        );
        let first = csv
            .lines()
            .find(|l| l.starts_with(&format!("{code},")))
            .expect("the first Mã số");
        assert!(first.ends_with(&format!(",{value}")), "{first}");
    }
);

app_test!(a_period_from_opening_to_approval, async |app: &TestApp| {
    let db = &app.store().db;
    let office = app.token("chuyenvien.xa").await;
    let so = app.token("chuyenvien.so").await;
    let school_token = app.token("hieutruong.thcs").await;
    let ward = common::owner_unit(app, "chuyenvien.xa").await;
    let school = common::owner_unit(app, "hieutruong.thcs").await;
    assert!(
        school.path.is_within(&ward.path),
        "the model school is under the demo ward"
    );

    let open =
        json!({"office_id": ward.id, "round": "end_of_year", "start_year": 2026, "deadline": "2027-06-10"});
    let (status, period) = call(app, &office, "POST", "/api/v1/stats/periods", Some(open.clone())).await;
    assert_eq!(status, 200, "{period}");
    assert_eq!(period["reference_date"], "2027-05-31");
    let id = period["id"].as_str().unwrap().to_string();
    // Opening prepares every school's forms of the period in the background.
    {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let day = chrono::NaiveDate::from_ymd_opt(2027, 5, 31).unwrap();
        let forms = stats::forms_of(truongso_core::stats::Round::EndOfYear, day, None).len() as u64;
        let schools = stats::schools_of(db, &ward, day).await.unwrap().len() as u64;
        let stored = || async {
            stats_form_cache::Entity::find()
                .filter(stats_form_cache::Column::ReferenceDate.eq(day))
                .count(db)
                .await
                .unwrap()
        };
        let started = std::time::Instant::now();
        while stored().await < schools * forms && started.elapsed().as_secs() < 120 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(stored().await, schools * forms, "every school's forms stored");
    }
    // Overlaps: the same period again, and the Sở's over the ward's schools.
    let (status, e) = call(app, &office, "POST", "/api/v1/stats/periods", Some(open)).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_period_overlaps"))
    );
    let so_unit = org::by_code(db, "08").await.unwrap();
    let (status, e) = call(
        app,
        &so,
        "POST",
        "/api/v1/stats/periods",
        Some(json!({"office_id": so_unit.id, "round": "end_of_year", "start_year": 2026})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_period_overlaps"))
    );
    // The ward's officer may not open one for the Sở; a school is no office.
    let (status, _) = call(
        app,
        &office,
        "POST",
        "/api/v1/stats/periods",
        Some(json!({"office_id": so_unit.id, "round": "end_of_year", "start_year": 2027})),
    )
    .await;
    assert_eq!(status, 403);

    let sub = format!("/api/v1/stats/periods/{id}/schools/{}", school.id);
    // Unexplained errors block the submission.
    let (_, state) = call(app, &school_token, "GET", &sub, None).await;
    let issues = state["issues"].as_array().unwrap().clone();
    assert!(!issues.is_empty(), "the demo school has data-quality errors");
    assert_eq!(state["unexplained"].as_u64(), Some(issues.len() as u64));
    let (status, e) = call(app, &school_token, "POST", &format!("{sub}/submit"), None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_unexplained_issues")),
        "{e}"
    );
    let (_, still) = call(app, &office, "GET", &format!("/api/v1/stats/periods/{id}"), None).await;
    assert!(
        still["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "draft")
    );
    for i in &issues {
        let (status, body) = call(
            app,
            &school_token,
            "POST",
            &format!("{sub}/explanations"),
            Some(json!({"rule": i["rule"], "entity_id": i["entity_id"], "text": "Học sinh mới chuyển đến, đang chờ cấp mã định danh."})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, s) = call(app, &school_token, "POST", &format!("{sub}/submit"), None).await;
    assert_eq!((status, s["status"].as_str()), (200, Some("submitted")), "{s}");
    let sha = s["snapshot_sha256"].as_str().unwrap().to_string();
    let (status, snap) = call(app, &office, "GET", &format!("{sub}/snapshot"), None).await;
    assert_eq!(status, 200);
    assert_eq!(snap["sha256"].as_str(), Some(sha.as_str()));
    // The frozen forms are the live ones at the reference date.
    let (_, live) = call(
        app,
        &office,
        "GET",
        &format!(
            "/api/v1/stats/forms?unit={}&round=end_of_year&year=2026",
            school.id
        ),
        None,
    )
    .await;
    assert_eq!(cells(&snap), cells(&live));
    // Submitted: no second submission, no more explaining.
    let (status, e) = call(app, &school_token, "POST", &format!("{sub}/submit"), None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_already_submitted"))
    );
    // The school may not decide; the office must give a reason to return.
    let (status, _) = call(
        app,
        &school_token,
        "POST",
        &format!("{sub}/decision"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, e) = call(
        app,
        &office,
        "POST",
        &format!("{sub}/decision"),
        Some(json!({"decision": "return", "comment": "  "})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_comment_required")),
        "{e}"
    );
    let (status, s) = call(
        app,
        &office,
        "POST",
        &format!("{sub}/decision"),
        Some(json!({"decision": "return", "comment": "Kiểm tra lại số học sinh lưu ban."})),
    )
    .await;
    assert_eq!((status, s["status"].as_str()), (200, Some("returned")), "{s}");
    let (_, state) = call(app, &school_token, "GET", &sub, None).await;
    assert_eq!(
        state["submission"]["comment"],
        "Kiểm tra lại số học sinh lưu ban."
    );
    assert_eq!(
        state["unexplained"].as_u64(),
        Some(0),
        "explanations survive a return"
    );
    let (status, s) = call(app, &school_token, "POST", &format!("{sub}/submit"), None).await;
    assert_eq!((status, s["status"].as_str()), (200, Some("submitted")));
    let (status, s) = call(
        app,
        &office,
        "POST",
        &format!("{sub}/decision"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!((status, s["status"].as_str()), (200, Some("approved")));
    let (status, e) = call(app, &school_token, "POST", &format!("{sub}/submit"), None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_already_approved"))
    );
    // The office's received totals are that one school's frozen forms.
    let (status, totals) = call(
        app,
        &office,
        "GET",
        &format!("/api/v1/stats/periods/{id}/totals"),
        None,
    )
    .await;
    assert_eq!((status, totals["schools"].as_u64()), (200, Some(1)));
    assert_eq!(cells(&totals), cells(&snap));
    // Progress as the office sees it.
    let (_, p) = call(app, &office, "GET", &format!("/api/v1/stats/periods/{id}"), None).await;
    assert_eq!(p["progress"]["approved"].as_u64(), Some(1));
    assert_eq!(
        p["progress"]["schools"].as_u64(),
        Some(p["submissions"].as_array().unwrap().len() as u64)
    );
    // A school outside the ward: no decision on it through this period.
    let outside = org::in_subtree(db, &so_unit.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| !u.path.is_within(&ward.path))
        .unwrap();
    let (status, e) = call(
        app,
        &so,
        "POST",
        &format!("/api/v1/stats/periods/{id}/schools/{}/decision", outside.id),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("stats_outside_subtree")),
        "{e}"
    );
    // Closing stops late submissions.
    let (status, _) = call(
        app,
        &office,
        "POST",
        &format!("/api/v1/stats/periods/{id}/close"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let other = p["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "draft")
        .unwrap()["school_id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let period = stats::get_period(db, id.parse().unwrap()).await.unwrap();
    assert!(period.closed);
    let e = stats::submit(
        db,
        &app.state.cipher,
        &truongso_store::ActorRef::system("test"),
        &period,
        &org::get(db, other).await.unwrap(),
        &[],
        &[],
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("stats_period_closed"), "{e:?}");
});
