use super::*;
use serde_json::json;

fn run_json(v: serde_json::Value) -> Result<serde_json::Value, InputError> {
    let input: Input = serde_json::from_value(v).expect("document shape");
    run(&input).map(|o| serde_json::to_value(o).unwrap())
}

fn grade7_learner(toan_hk2: serde_json::Value, cn: &str) -> serde_json::Value {
    let pass4 = json!({"tx": ["Đ", "Đ"], "gk": "Đ", "ck": "Đ"});
    let given = |a: &str| json!({"average": a});
    json!({
        "id": "hs1",
        "subjects": [
            {"subject": "toan", "hk1": {"tx": [7, 8.5, "9", "6"], "gk": "7,5", "ck": 8}, "hk2": toan_hk2},
            {"subject": "ngu_van", "hk1": given("7.0"), "hk2": given("7.0")},
            {"subject": "Ngoại ngữ 1", "hk1": given("8.5"), "hk2": given("8.5")},
            {"subject": "gdcd", "hk1": {"tx": [8, 9], "gk": 7, "ck": 8}, "hk2": given("9.5")},
            {"subject": "lich_su_dia_li", "hk1": given("8.0"), "hk2": given("8.0")},
            {"subject": "khtn", "hk1": given("8.1"), "hk2": given("8.1")},
            {"subject": "cong_nghe", "hk1": given(cn), "hk2": given(cn)},
            {"subject": "tin_hoc", "hk1": given("7.8"), "hk2": given("7.8")},
            {"subject": "gdtc", "hk1": pass4, "hk2": pass4},
            {"subject": "nghe_thuat", "hk1": pass4, "hk2": pass4},
            {"subject": "hdtn", "hk1": pass4, "hk2": pass4},
            {"subject": "gddp", "hk1": pass4, "hk2": pass4}
        ],
        "conduct": {"hk1": "Khá", "hk2": "Tốt"},
        "absences": 3
    })
}

#[test]
fn worked_examples_through_the_document() {
    let out = run_json(json!({
        "school_year": "2025-2026",
        "grade": 7,
        "learners": [grade7_learner(json!({"average": "8.4"}), "8.4")]
    }))
    .unwrap();
    assert_eq!(out["rules"], "tt22_2021");
    let l = &out["learners"][0]["secondary"];
    // Example 1 (7.7), example 4 (7.9), example 3 (year 8.2 from 7.7 and 8.4).
    assert_eq!(l["subjects"][0]["hk1"], "7.7");
    assert_eq!(l["subjects"][0]["year"], "8.2");
    assert_eq!(l["subjects"][0]["regular_count"], 4);
    assert_eq!(l["subjects"][3]["hk1"], "7.9");
    assert_eq!(l["subjects"][3]["regular_count"], 2);
    assert_eq!(l["subjects"][8]["year"], "Đ");
    // Conduct Khá then Tốt → Tốt; learning Tốt (the §1.3 example) → Học sinh Giỏi.
    assert_eq!(l["conduct_year"], "tot");
    assert_eq!(l["learning"]["year"]["level"], "tot");
    assert_eq!(l["year_end"]["decision"]["decision"], "promoted");
    assert_eq!(l["year_end"]["award"], "gioi");
}

#[test]
fn adjustment_is_reported_with_its_subject() {
    let out = run_json(json!({
        "school_year": "2025-2026",
        "grade": 7,
        "learners": [grade7_learner(json!({"average": "3.0"}), "8.4")]
    }))
    .unwrap();
    // Toán year = (7.7 + 2·3.0)/3 = 4.566 → 4.6: the table gives Đạt (Khá needs every subject
    // ≥ 5.0); with Toán at its best the learner is Tốt, a drop of two → adjusted to Khá.
    let l = &out["learners"][0]["secondary"];
    assert_eq!(l["subjects"][0]["year"], "4.6");
    assert_eq!(l["learning"]["year"]["table_level"], "dat");
    assert_eq!(l["learning"]["year"]["level"], "kha");
    assert_eq!(l["learning"]["year"]["adjusted_for"], "toan");
    let out = run_json(json!({
        "school_year": "2025-2026",
        "grade": 7,
        "learners": [grade7_learner(json!({"average": "8.4"}), "3.0")]
    }))
    .unwrap();
    let l = &out["learners"][0]["secondary"];
    assert_eq!(l["learning"]["year"]["table_level"], "chua_dat");
    assert_eq!(l["learning"]["year"]["level"], "dat");
    assert_eq!(l["learning"]["year"]["adjusted_for"], "cong_nghe");
}

#[test]
fn missing_marks_leave_results_open() {
    let out = run_json(json!({
        "school_year": "2025-2026",
        "grade": 7,
        "learners": [grade7_learner(json!({"tx": [8, 8, 8], "gk": 8}), "8.4")]
    }))
    .unwrap();
    let l = &out["learners"][0]["secondary"];
    assert_eq!(l["subjects"][0]["hk2"]["problem"], "missing");
    assert_eq!(l["subjects"][0]["hk2"]["slot"], "tx4");
    // HKI: only four subjects reach 8.0 (GDCD 7.9, Toán 7.7), so Khá.
    assert_eq!(l["learning"]["hk1"]["level"], "kha");
    assert_eq!(l["learning"]["year"], serde_json::Value::Null);
    assert!(l.get("year_end").is_none());
}

#[test]
fn bad_values_name_their_place() {
    let bad = |hk1: serde_json::Value| {
        run_json(json!({
            "school_year": "2025-2026",
            "grade": 7,
            "learners": [{"id": "x", "subjects": [{"subject": "toan", "hk1": hk1}]}]
        }))
        .unwrap_err()
    };
    let e = bad(json!({"tx": [7, 8, 11]}));
    assert_eq!(
        (e.path.as_str(), e.code),
        ("learners[0].subjects[0].hk1.tx[2]", "out_of_range")
    );
    let e = bad(json!({"tx": [7, 8, 9, 9, 9]}));
    assert_eq!(
        (e.path.as_str(), e.code),
        ("learners[0].subjects[0].hk1.tx", "too_many_marks")
    );
    let e = bad(json!({"gk": "7.25"}));
    assert_eq!(
        (e.path.as_str(), e.code),
        ("learners[0].subjects[0].hk1.gk", "too_many_decimals")
    );
    let e = run_json(json!({
        "school_year": "2025-2026", "grade": 7,
        "learners": [{"id": "x", "subjects": [{"subject": "gdtc", "hk1": {"tx": [8]}}]}]
    }))
    .unwrap_err();
    assert_eq!(e.code, "invalid_level");
    let e = run_json(json!({
        "school_year": "2025-2026", "grade": 7,
        "learners": [{"id": "x", "subjects": [{"subject": "vat_li", "hk1": {}}]}]
    }))
    .unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.code),
        ("learners[0].subjects[0].subject", "subject_not_in_grade")
    );
}

#[test]
fn free_subjects_take_their_count_from_the_marks() {
    // Example 2 of the domain file, a subject outside the programme with 3 regular marks.
    let out = run_json(json!({
        "school_year": "2025-2026", "grade": 10,
        "learners": [{"id": "x", "subjects": [
            {"subject": "Môn thử", "mode": "score", "hk1": {"tx": [6, 7, 6.8], "gk": 7, "ck": 7}}
        ]}]
    }))
    .unwrap();
    assert_eq!(out["learners"][0]["secondary"]["subjects"][0]["hk1"], "6.9");
}

#[test]
fn retest_replaces_the_year_result() {
    let given = |a: &str| json!({"average": a});
    let subject = |code: &str, y: &str, retest: Option<&str>| {
        let mut s = json!({"subject": code, "hk1": given(y), "hk2": given(y)});
        if let Some(r) = retest {
            s["retest"] = json!(r);
        }
        s
    };
    let pass = json!({"average": "Đ"});
    let doc = |retests: bool| {
        json!({
            "school_year": "2025-2026", "grade": 8,
            "learners": [{"id": "x", "subjects": [
                subject("toan", "4.6", retests.then_some("5.5")),
                subject("ngoai_ngu_1", "4.8", retests.then_some("4.0")),
                subject("ngu_van", "4.9", retests.then_some("5.0")),
                subject("gdcd", "6.0", None), subject("lich_su_dia_li", "5.5", None),
                subject("khtn", "7.0", None), subject("cong_nghe", "6.5", None),
                subject("tin_hoc", "5.0", None),
                {"subject": "gdtc", "hk1": pass, "hk2": pass}
            ], "conduct": {"hk1": "Đạt", "hk2": "Đạt"}, "absences": 12}]
        })
    };
    let out = run_json(doc(false)).unwrap();
    let y = &out["learners"][0]["secondary"]["year_end"];
    assert_eq!(y["decision"]["decision"], "retest");
    assert_eq!(y["retest_subjects"], json!(["toan", "ngoai_ngu_1", "ngu_van"]));
    let out = run_json(doc(true)).unwrap();
    let y = &out["learners"][0]["secondary"]["year_end"];
    assert_eq!(y["learning_after_retest"]["level"], "dat");
    assert_eq!(y["decision"]["decision"], "promoted");
}

#[test]
fn primary_document() {
    let tested = |code: &str, t: u8| json!({"subject": code, "level": "T", "test": t});
    let plain = |code: &str| json!({"subject": code, "level": "T"});
    let traits = |names: &[(&str, &str)]| -> serde_json::Value {
        names
            .iter()
            .map(|(c, _)| (c.to_string(), json!("Tốt")))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let doc = json!({
        "school_year": "2025-2026", "grade": 4,
        "learners": [{
            "id": "p1",
            "subjects": [tested("tieng_viet", 9), tested("toan", 10), tested("ngoai_ngu_1", 9),
                tested("lich_su_dia_li", 9), tested("khoa_hoc", 8), tested("tin_hoc_cong_nghe", 9),
                plain("dao_duc"), plain("gdtc"), plain("nghe_thuat"), plain("hdtn")],
            "qualities": traits(&tt27::QUALITIES),
            "competencies": traits(&tt27::COMPETENCIES)
        }]
    });
    let out = run_json(doc.clone()).unwrap();
    assert_eq!(out["rules"], "tt27_2020");
    let p = &out["learners"][0]["primary"];
    assert_eq!(p["evaluation"], "hoan_thanh_tot");
    assert_eq!(p["completes"], true);
    // A test score with a decimal is refused at its place.
    let mut bad = doc;
    bad["learners"][0]["subjects"][0]["test"] = json!("8,5");
    let e = run_json(bad).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.code),
        ("learners[0].subjects[0].test", "whole_number_required")
    );
}

#[test]
fn legacy_year_reads_back_hoc_luc() {
    let given = |a: &str| json!({"average": a});
    let out = run_json(json!({
        "school_year": "2023-2024", "grade": 9,
        "learners": [{"id": "old", "subjects": [
            {"subject": "toan", "hk1": given("8.5"), "hk2": given("8.5")},
            {"subject": "ngu_van", "hk1": given("7.8"), "hk2": given("7.8")},
            {"subject": "ngoai_ngu_1", "hk1": given("7.9"), "hk2": given("7.9")},
            {"subject": "khtn", "mode": "score", "hk1": given("9.0"), "hk2": given("9.0")},
            {"subject": "gdcd", "hk1": given("8.0"), "hk2": given("8.0")}
        ]}]
    }))
    .unwrap();
    assert_eq!(out["rules"], "tt58_tt26");
    let h = &out["learners"][0]["secondary"]["hoc_luc"]["year"];
    assert_eq!(h["overall"], 82);
    assert_eq!(h["level"], "gioi");
}
