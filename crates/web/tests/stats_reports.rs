//! Black-box tests of the statistics reports (dynamic reports and their exports, indicators,
//! population import, PCGD–XMC levels, the dashboard) through the API and the pages, on SQLite
//! and PostgreSQL with the demo province seeded.

mod common;

use chrono::NaiveDate;
use common::{TestApp, get_text};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use truongso_store::entity::{class, class_enrolment, learner, learner_status, school_year};
use truongso_store::{org, stats};
use uuid::Uuid;

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(path),
        )
        .bearer_auth(token);
    if let Some((ct, bytes)) = body {
        rb = rb.header("content-type", ct).body(bytes);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Classes of the 2026-2027 school year by id, with their grade.
async fn classes_2026(app: &TestApp) -> HashMap<Uuid, i32> {
    let db = &app.store().db;
    let years: Vec<Uuid> = school_year::Entity::find()
        .filter(school_year::Column::StartYear.eq(2026))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|y| y.id)
        .collect();
    class::Entity::find()
        .filter(class::Column::SchoolYearId.is_in(years))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.grade))
        .collect()
}

fn sum(rows: &Value, field: &str) -> u64 {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_u64().unwrap())
        .sum()
}

app_test!(
    a_report_matches_an_independent_count_and_its_units_sum_to_the_total,
    async |app: &TestApp| {
        let db = &app.store().db;
        let token = app.token("chuyenvien.so").await;
        let so = org::by_code(db, "08").await.unwrap();

        // Primary pupils on the roll on 20/11/2026 by sex, against the learner table itself.
        let q = format!(
            "unit={}&measure=learners&level=TH&year=2026&date=20/11/2026",
            so.id
        );
        let (status, by_sex) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/reports?{q}&by1=sex"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{by_sex}");
        let grades = classes_2026(app).await;
        let th: Vec<Uuid> = grades
            .iter()
            .filter(|(_, g)| (1..=5).contains(*g))
            .map(|(id, _)| *id)
            .collect();
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for l in learner::Entity::find()
            .filter(learner::Column::ClassId.is_in(th))
            .filter(learner::Column::Status.is_in(truongso_core::codes::ON_ROLL))
            .all(db)
            .await
            .unwrap()
        {
            *expected.entry(l.sex).or_default() += 1;
        }
        let got: BTreeMap<String, u64> = by_sex["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"][0]["code"].as_str().unwrap().to_string(),
                    r["numerator"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected);
        assert!(
            got.values().all(|n| *n > 0),
            "both sexes are in the demo: {got:?}"
        );
        assert_eq!(
            by_sex["total"]["numerator"].as_u64(),
            Some(expected.values().sum())
        );
        let female = by_sex["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"][0]["code"] == "female")
            .unwrap();
        assert_eq!(female["key"][0]["label"], "Nữ");
        assert!(
            female["value"].as_str().unwrap().contains(','),
            "Vietnamese decimal comma: {female}"
        );

        // Grouped by the Sở's direct units, then by sex: the groups add up to the total.
        let (status, by_unit) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/reports?{q}&by1=unit&by2=sex"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{by_unit}");
        assert_eq!(
            sum(&by_unit["rows"], "numerator"),
            by_sex["total"]["numerator"].as_u64().unwrap()
        );
        let children: HashSet<String> = org::children(db, so.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert!(
            by_unit["rows"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| children.contains(r["key"][0]["code"].as_str().unwrap())),
            "every group is a direct child of the Sở"
        );

        // Lower-secondary dropout: numerator and denominator against the status history and
        // the enrolments; the units' fractions add up to the Sở's.
        let dq = format!(
            "unit={}&measure=dropout_rate&level=THCS&year=2026&date=2026-11-20",
            so.id
        );
        let (status, total) = call(app, &token, "GET", &format!("/api/v1/stats/reports?{dq}"), None).await;
        assert_eq!(status, 200, "{total}");
        let thcs: HashSet<Uuid> = grades
            .iter()
            .filter(|(_, g)| (6..=9).contains(*g))
            .map(|(id, _)| *id)
            .collect();
        let enrolments = class_enrolment::Entity::find().all(db).await.unwrap();
        let thcs_learner = |id: Uuid| {
            enrolments
                .iter()
                .any(|e| e.learner_id == id && thcs.contains(&e.class_id))
        };
        let dropouts: HashSet<Uuid> = learner_status::Entity::find()
            .filter(learner_status::Column::Status.is_in(["05", "09", "12"]))
            .filter(learner_status::Column::OnDate.between(d(2026, 8, 1), d(2026, 11, 20)))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.learner_id)
            .filter(|id| thcs_learner(*id))
            .collect();
        let at_start: HashSet<Uuid> = enrolments
            .iter()
            .filter(|e| {
                thcs.contains(&e.class_id)
                    && e.from_date <= d(2026, 9, 30)
                    && e.to_date.is_none_or(|t| t >= d(2026, 9, 30))
            })
            .map(|e| e.learner_id)
            .collect();
        assert_eq!(total["total"]["numerator"].as_u64(), Some(dropouts.len() as u64));
        assert_eq!(
            total["total"]["denominator"].as_u64(),
            Some(at_start.len() as u64)
        );
        assert_eq!(total["kind"], "percent");
        let (_, units) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/reports?{dq}&by1=unit"),
            None,
        )
        .await;
        assert_eq!(sum(&units["rows"], "numerator"), dropouts.len() as u64);
        assert_eq!(sum(&units["rows"], "denominator"), at_start.len() as u64);

        // A ratio by a dimension both sides share; gross enrolment by commune of residence.
        let (status, ptr) = call(
            app,
            &token,
            "GET",
            &format!(
                "/api/v1/stats/reports?unit={}&measure=pupils_per_teacher&level=TH&by1=ownership_group",
                so.id
            ),
            None,
        )
        .await;
        assert_eq!(status, 200, "{ptr}");
        assert_eq!(ptr["kind"], "ratio");
        assert_eq!(
            sum(&ptr["rows"], "numerator"),
            ptr["total"]["numerator"].as_u64().unwrap()
        );
        let (status, ger) = call(
            app,
            &token,
            "GET",
            &format!(
                "/api/v1/stats/reports?unit={}&measure=gross_enrolment_rate&level=TH&year=2026&by1=residence",
                so.id
            ),
            None,
        )
        .await;
        assert_eq!(status, 200, "{ger}");
        assert_eq!(ger["rows"].as_array().unwrap().len(), 6, "the six demo communes");
        assert_eq!(
            sum(&ger["rows"], "denominator"),
            ger["total"]["denominator"].as_u64().unwrap()
        );

        // Every indicator of the unit, with a value or the reason there is none.
        let (status, all) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/indicators?unit={}&year=2026", so.id),
            None,
        )
        .await;
        assert_eq!(status, 200, "{all}");
        let list = all["indicators"].as_array().unwrap();
        let ids: HashSet<&str> = list.iter().map(|i| i["indicator"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 15, "{ids:?}");
        let completion = list
            .iter()
            .find(|i| i["indicator"] == "completion_rate" && i["level"] == "TH")
            .unwrap();
        assert!(
            completion["value"].is_null() && completion["missing"].as_str().unwrap().contains("2022-2023")
        );
        let dropout = list
            .iter()
            .find(|i| i["indicator"] == "dropout_rate" && i["level"] == "THCS")
            .unwrap();
        assert!(
            dropout["numerator"].as_u64().is_some() && dropout["missing"].is_null(),
            "{dropout}"
        );
    }
);

app_test!(bad_parameters_get_a_precise_400, async |app: &TestApp| {
    let token = app.token("chuyenvien.so").await;
    let check = |(status, body): (u16, Value), field: &str, code: &str, words: &str| {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    };
    let base = "/api/v1/stats/reports?year=2026";
    check(
        call(app, &token, "GET", &format!("{base}&measure=ty_le_bo_hoc"), None).await,
        "measure",
        "invalid_field",
        "Không có chỉ tiêu hoặc số lượng “ty_le_bo_hoc”",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=pupils_per_teacher&by1=grade"),
            None,
        )
        .await,
        "by1",
        "invalid_field",
        "tử số và mẫu số",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=gross_enrolment_rate&by1=unit&by2=sex"),
            None,
        )
        .await,
        "by1",
        "invalid_field",
        "“Đơn vị”",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=learners&by1=sex&by2=sex"),
            None,
        )
        .await,
        "by2",
        "invalid_field",
        "cùng một tiêu chí",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=dropout_rate&level=MN"),
            None,
        )
        .await,
        "level",
        "invalid_field",
        "không áp dụng cho cấp Mầm non",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=learners&filter=sex%3Dkh%C3%A1c"),
            None,
        )
        .await,
        "filter",
        "invalid_field",
        "“khác” không hợp lệ cho “Giới tính”",
    );
    check(
        call(
            app,
            &token,
            "GET",
            &format!("{base}&measure=rooms&filter=sex%3Dn%E1%BB%AF"),
            None,
        )
        .await,
        "filter",
        "invalid_field",
        "Giới tính",
    );
    check(
        call(
            app,
            &token,
            "GET",
            "/api/v1/stats/reports?measure=learners&date=31/02/2026",
            None,
        )
        .await,
        "date",
        "invalid_date",
        "Ngày không hợp lệ",
    );
    check(
        call(
            app,
            &token,
            "GET",
            "/api/v1/stats/reports?measure=learners&year=2026&date=2025-10-01",
            None,
        )
        .await,
        "date",
        "invalid_field",
        "không thuộc năm học 2026-2027",
    );
    check(
        call(
            app,
            &token,
            "GET",
            "/api/v1/stats/reports?measure=learners&year=hai",
            None,
        )
        .await,
        "year",
        "invalid_field",
        "“hai”",
    );
    check(
        call(
            app,
            &token,
            "GET",
            "/api/v1/stats/reports?measure=gross_enrolment_rate&year=2024",
            None,
        )
        .await,
        "year",
        "invalid_field",
        "Chưa có bảng dân số theo độ tuổi năm 2024",
    );

    // The page answers 400 with the message beside the form, and no figures.
    let (c, _) = app.login("chuyenvien.so").await;
    let r = c
        .get(app.url("/stats/reports?measure=pupils_per_teacher&by1=sex"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Không thể phân tổ"), "{html}");
    assert!(html.contains("id=\"report-form\"") && !html.contains("id=\"report-table\""));
    let r = c
        .get(app.url("/stats/reports/export?measure=xyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
});

app_test!(exports_read_back_as_the_report, async |app: &TestApp| {
    let token = app.token("chuyenvien.so").await;
    let so = org::by_code(&app.store().db, "08").await.unwrap();
    let q = format!(
        "unit={}&measure=dropout_rate&level=THCS&by1=unit&year=2026&date=20/11/2026",
        so.id
    );
    let (_, body) = call(app, &token, "GET", &format!("/api/v1/stats/reports?{q}"), None).await;
    let rows = body["rows"].as_array().unwrap();
    assert!(rows.len() >= 2, "{body}");

    let (c, _) = app.login("chuyenvien.so").await;
    let html = get_text(&c, app.url(&format!("/stats/reports?{q}"))).await;
    assert!(
        html.contains("id=\"report-table\"") && html.contains("<svg"),
        "table and chart"
    );
    assert!(html.contains("<title id=\"report-chart-title\">Tỷ lệ bỏ học</title>"));
    assert!(html.contains("report-chart-desc"), "the chart describes itself");
    assert!(html.contains(rows[0]["key"][0]["label"].as_str().unwrap()));

    let r = c
        .get(app.url(&format!("/stats/reports/export?{q}&format=xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(
        disposition.is_ascii() && disposition.ends_with(".xlsx\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("bao-cao-dropout-rate-08-2026-11-20"),
        "{disposition}"
    );
    let bytes = r.bytes().await.unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert!(cells[0][0].to_string().starts_with("Tỷ lệ bỏ học"), "title row");
    assert_eq!(
        cells[1].iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        vec!["Đơn vị", "Tử số", "Mẫu số", "Tỷ lệ (%)"]
    );
    for (i, r) in rows.iter().enumerate() {
        let line = &cells[2 + i];
        assert_eq!(line[0].to_string(), r["key"][0]["label"].as_str().unwrap());
        assert_eq!(line[1], Data::Float(r["numerator"].as_u64().unwrap() as f64));
        assert_eq!(line[2], Data::Float(r["denominator"].as_u64().unwrap() as f64));
        match r["value_hundredths"].as_u64() {
            Some(h) => assert_eq!(line[3], Data::Float(h as f64 / 100.0)),
            None => assert_eq!(line[3], Data::Empty),
        }
    }
    let last = &cells[2 + rows.len()];
    assert_eq!(last[0].to_string(), "Tổng cộng");
    assert_eq!(
        last[1],
        Data::Float(body["total"]["numerator"].as_u64().unwrap() as f64)
    );

    let r = c
        .get(app.url(&format!("/stats/reports/export?{q}&format=csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".csv\"")
    );
    let csv = r.text().await.unwrap();
    let text = csv.strip_prefix('\u{feff}').expect("BOM for Excel");
    let records = truongso_web::api::stats_reports::csv_records(text);
    assert_eq!(records[0], vec!["Đơn vị", "Tử số", "Mẫu số", "Tỷ lệ (%)"]);
    for (i, r) in rows.iter().enumerate() {
        let rec = &records[1 + i];
        assert_eq!(rec[0], r["key"][0]["label"].as_str().unwrap());
        assert_eq!(rec[1], r["numerator"].as_u64().unwrap().to_string());
        assert_eq!(rec[2], r["denominator"].as_u64().unwrap().to_string());
        let h = r["value_hundredths"].as_u64().unwrap();
        assert_eq!(rec[3], format!("{},{:02}", h / 100, h % 100));
    }
    assert_eq!(records[1 + rows.len()][0], "Tổng cộng");
});

/// A multipart body by hand (the workspace's reqwest has no multipart feature).
fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----truongso{}", Uuid::now_v7().simple());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

app_test!(
    a_population_table_with_bad_cells_is_refused_whole_then_a_good_one_is_stored,
    async |app: &TestApp| {
        let db = &app.store().db;
        let token = app.token("chuyenvien.xa").await;
        let office = common::owner_unit(app, "chuyenvien.xa").await;
        let stored_2027 = async || {
            stats::population(db, &office)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.year == 2027)
                .count()
        };
        // Age 2 missing, a negative count at age 3 (sheet row 4), a decimal at age 4 (row 5).
        let bad =
            "Mã xã;Năm;Tuổi;Dân số\n08001;2027;0;120\n08001;2027;1;118\n08001;2027;3;-5\n08001;2027;4;12,5\n";
        let path = format!("/api/v1/stats/population?unit={}", office.id);
        let (status, body) = call(
            app,
            &token,
            "POST",
            &path,
            Some(("text/csv", bad.as_bytes().to_vec())),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "population_invalid");
        let problems = body["problems"].as_array().unwrap();
        let find = |code: &str| {
            problems
                .iter()
                .find(|p| p["code"] == code)
                .unwrap_or_else(|| panic!("{code}: {body}"))
        };
        let negative = find("negative");
        assert_eq!(
            (negative["row"].as_u64(), negative["column"].as_str()),
            (Some(4), Some("Dân số"))
        );
        assert!(
            negative["message"]
                .as_str()
                .unwrap()
                .starts_with("Dòng 4, cột “Dân số”"),
            "{negative}"
        );
        let decimal = find("decimal");
        assert_eq!(decimal["row"].as_u64(), Some(5));
        let missing = find("missing_age");
        assert_eq!(missing["column"], "Tuổi");
        assert!(
            missing["message"].as_str().unwrap().contains("thiếu dòng"),
            "{missing}"
        );
        assert_eq!(stored_2027().await, 0, "nothing stored");

        // The page, without script: the same problems, 400, nothing stored.
        let (c, csrf) = app.login("chuyenvien.xa").await;
        let r = c
            .post(app.url(&format!("/stats/population?unit={}", office.id)))
            .form(&[("_csrf", csrf.as_str()), ("csv", bad)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"population-problems\"") && html.contains("Dòng 4, cột “Dân số”"));
        assert_eq!(stored_2027().await, 0);

        // A good table as XLSX through the page's upload (htmx sends the CSRF header): stored,
        // then listed.
        let header = [
            "Mã xã",
            "Tên xã",
            "Năm",
            "Tuổi",
            "Dân số",
            "Biết chữ mức 1",
            "Biết chữ mức 2",
        ];
        let rows: Vec<Vec<truongso_docs::Cell>> = (0..=20)
            .map(|age: u32| {
                let pop = (100 + age).to_string();
                let lit = if age >= 15 {
                    (95 + age).to_string()
                } else {
                    String::new()
                };
                [
                    "08001",
                    "Phường Minh Xuân",
                    "2027",
                    &age.to_string(),
                    &pop,
                    &lit,
                    &lit,
                ]
                .iter()
                .map(|s| truongso_docs::Cell::from(*s))
                .collect()
            })
            .collect();
        let xlsx = truongso_docs::write_table("DanSo", &header, rows).unwrap();
        let (ct, body) = multipart("dan-so.xlsx", &xlsx);
        let r = c
            .post(app.url(&format!("/stats/population?unit={}", office.id)))
            .header("content-type", ct)
            .header("x-csrf-token", &csrf)
            .header("hx-request", "true")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Đã lưu 21 dòng dân số của 1 xã, phường (năm 2027)."),
            "{html}"
        );
        assert_eq!(stored_2027().await, 21);
        let (status, list) = call(app, &token, "GET", &path, None).await;
        assert_eq!(status, 200);
        let entry = list["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["year"] == 2027)
            .unwrap();
        assert_eq!(
            (entry["commune"].as_str(), entry["ages"].as_u64()),
            (Some("08001"), Some(21))
        );
        assert_eq!(entry["office_id"], office.id.to_string());
        // The Sở's 2026 survey stays visible to the commune office (its ancestor's table).
        assert!(
            list["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["year"] == 2026)
        );

        // The same good table as CSV through the API replaces the commune's year.
        let good: String = std::iter::once("Mã xã,Năm,Tuổi,Dân số".to_string())
            .chain((0..=10).map(|a| format!("08001,2027,{a},{}", 50 + a)))
            .collect::<Vec<_>>()
            .join("\r\n");
        let (status, done) = call(app, &token, "POST", &path, Some(("text/csv", good.into_bytes()))).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(
            (done["rows"].as_u64(), done["communes"][0].as_str()),
            (Some(11), Some("08001"))
        );
        assert_eq!(stored_2027().await, 11);

        // A school is not an office; a teacher may not import at all.
        let school = common::owner_unit(app, "admin.thcs").await;
        let (status, body) = call(
            app,
            &app.token("admin.thcs").await,
            "POST",
            &format!("/api/v1/stats/population?unit={}", school.id),
            Some(("text/csv", b"x".to_vec())),
        )
        .await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some("unit")),
            "{body}"
        );
        let (status, _) = call(
            app,
            &app.token("gvbm.thcs").await,
            "POST",
            &format!("/api/v1/stats/population?unit={}", school.id),
            Some(("text/csv", b"x".to_vec())),
        )
        .await;
        assert_eq!(status, 403);

        // The template downloads as a workbook whose headers the import reads.
        let r = c
            .get(app.url("/stats/population/template.xlsx"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
);

app_test!(
    pcgd_shows_the_level_of_every_demo_commune,
    async |app: &TestApp| {
        let token = app.token("chuyenvien.so").await;
        let (status, body) = call(app, &token, "GET", "/api/v1/stats/pcgd?year=2026", None).await;
        assert_eq!(status, 200, "{body}");
        let communes = body["communes"].as_array().unwrap();
        let codes: Vec<&str> = communes.iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, vec!["08001", "08002", "08003", "08004", "08005", "08006"]);
        assert_eq!(body["rollup"]["communes"], 6);
        for c in communes {
            assert_eq!(c["surveyed"], true);
            assert!(c["name"].as_str().unwrap().contains("Phòng Văn hóa – Xã hội"));
            let levels = &c["result"]["levels"];
            for p in ["mn5", "th", "thcs", "xmc"] {
                assert!(levels[p].as_u64().is_some(), "{p} in {levels}");
            }
            // Grade-1 entry at age 6 counts the commune's 6-year-olds found in the records.
            let th1 = c["result"]["standards"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["standard"] == "th1")
                .unwrap();
            let g1 = th1["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["criterion"] == "grade1_age6")
                .unwrap();
            assert!(g1["denominator"].as_u64().unwrap() >= g1["numerator"].as_u64().unwrap());
            assert_eq!(
                g1["threshold"], 90,
                "the decree sets no ĐBKK value for grade-1 entry"
            );
        }
        // Vị Xuyên is the demo's especially difficult commune: held to the ĐBKK column.
        let vx = communes.iter().find(|c| c["code"] == "08006").unwrap();
        assert_eq!(vx["result"]["difficult"], true);
        let th1 = vx["result"]["standards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["standard"] == "th1")
            .unwrap();
        let c14 = th1["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["criterion"] == "completed_age14")
            .unwrap();
        assert_eq!(c14["threshold"], 70);

        let (c, _) = app.login("chuyenvien.so").await;
        let html = get_text(&c, app.url("/stats/pcgd?year=2026")).await;
        for code in codes {
            assert!(html.contains(&format!("id=\"commune-{code}\"")), "{code}");
        }
        assert!(
            html.contains("Xóa mù chữ") && html.contains("Mức 2"),
            "levels shown"
        );
        assert!(html.contains("<abbr title="), "UNCERTAIN thresholds are marked");
    }
);

app_test!(
    the_dashboard_lists_the_schools_behind_on_the_demo_period,
    async |app: &TestApp| {
        let db = &app.store().db;
        let token = app.token("chuyenvien.so").await;
        let so = org::by_code(db, "08").await.unwrap();
        let (status, body) = call(
            app,
            &token,
            "GET",
            &format!("/api/v1/stats/dashboard?unit={}", so.id),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let period = stats::periods_for(db, &so.path).await.unwrap().remove(0);
        let subs = stats::submissions(db, &period, truongso_web::today())
            .await
            .unwrap();
        let drafts: HashSet<String> = subs
            .iter()
            .filter(|s| s.status == "draft")
            .map(|s| s.school_name.clone())
            .collect();
        let late_in = subs
            .iter()
            .filter(|s| matches!(s.status.as_str(), "submitted" | "approved") && s.late)
            .count();
        let p = &body["period"];
        assert_eq!(p["period_id"], period.id.to_string());
        assert!(
            !drafts.is_empty() && late_in > 0,
            "the demo has schools not in and late"
        );
        assert_eq!(p["not_submitted"].as_u64(), Some(drafts.len() as u64));
        assert_eq!(p["late"].as_u64(), Some(late_in as u64));
        assert_eq!(
            p["on_time"].as_u64().unwrap()
                + p["late"].as_u64().unwrap()
                + p["not_submitted"].as_u64().unwrap()
                + p["returned"].as_u64().unwrap(),
            subs.len() as u64
        );
        let behind: Vec<&Value> = p["behind"].as_array().unwrap().iter().collect();
        assert_eq!(behind[0]["status"], "draft", "not submitted first");
        let listed: HashSet<String> = behind
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_string())
            .collect();
        assert!(drafts.is_subset(&listed));

        let years: Vec<i64> = body["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["start_year"].as_i64().unwrap())
            .collect();
        assert_eq!(years, vec![2025, 2026]);
        let current = body["years"].as_array().unwrap().last().unwrap();
        assert_eq!(
            current["schools"].as_u64(),
            Some(
                stats::schools_of(db, &so, truongso_web::today())
                    .await
                    .unwrap()
                    .len() as u64
            )
        );
        assert!(current["learners"].as_u64().unwrap() > 0);
        assert!(
            !body["quality"].as_array().unwrap().is_empty(),
            "the demo keeps some data errors"
        );

        let (c, _) = app.login("chuyenvien.so").await;
        let html = get_text(&c, app.url("/stats/dashboard")).await;
        assert!(html.contains("id=\"dashboard-behind\""));
        for name in &drafts {
            let shown = ["&amp;", "&#38;"]
                .iter()
                .any(|amp| html.contains(&name.replace('&', amp)));
            assert!(html.contains(name.as_str()) || shown, "{name}");
        }
        assert!(html.contains(&format!("/stats/periods/{}/schools/", period.id)));
        assert!(html.contains("/quality?school="));
        assert!(html.contains("id=\"trend-0-title\""), "trend charts");
        assert!(html.contains("2025-2026") && html.contains("2026-2027"));
    }
);

app_test!(the_api_is_scoped_to_the_caller_subtree, async |app: &TestApp| {
    let db = &app.store().db;
    let school = common::owner_unit(app, "hieutruong.thcs").await;
    let so = org::by_code(db, "08").await.unwrap();
    let other = org::in_subtree(db, &so.path, Some(truongso_core::org::OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id != school.id)
        .unwrap();
    let principal = app.token("hieutruong.thcs").await;
    for path in [
        "/api/v1/stats/reports?measure=learners&unit=",
        "/api/v1/stats/indicators?unit=",
        "/api/v1/stats/pcgd?unit=",
        "/api/v1/stats/dashboard?unit=",
        "/api/v1/stats/population?unit=",
    ] {
        for forbidden in [other.id, so.id] {
            let (status, body) = call(app, &principal, "GET", &format!("{path}{forbidden}"), None).await;
            assert_eq!(status, 403, "{path}{forbidden}: {body}");
        }
    }
    let (status, own) = call(
        app,
        &principal,
        "GET",
        &format!(
            "/api/v1/stats/reports?measure=learners&by1=grade&unit={}",
            school.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["unit_id"], school.id.to_string());
    // Without a unit, the caller's own school.
    let (_, default) = call(
        app,
        &principal,
        "GET",
        "/api/v1/stats/reports?measure=learners",
        None,
    )
    .await;
    assert_eq!(default["unit_id"], school.id.to_string());
    // A teacher sees no statistics, not even of their school.
    let (status, _) = call(
        app,
        &app.token("gvbm.thcs").await,
        "GET",
        &format!("/api/v1/stats/reports?unit={}", school.id),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // The OpenAPI document lists the routes.
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/stats/reports",
        "/api/v1/stats/indicators",
        "/api/v1/stats/population",
        "/api/v1/stats/pcgd",
        "/api/v1/stats/dashboard",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
});
