//! `truongso gradebook` end to end: the worked examples of assessment.md (§1.2–§1.6, §2.4–§2.6,
//! §3) in docs/examples/gradebook/ give exactly the figures the domain file gives; bad values and
//! bad JSON exit with status 2 and say where; nothing needs a database or configuration.

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/gradebook")
}

fn example(name: &str) -> String {
    examples().join(name).to_string_lossy().into_owned()
}

/// The binary, in an empty working directory, with a configuration file that does not exist and
/// a database URL that cannot be opened: the gradebook commands must not touch either.
fn truongso(args: &[&str], stdin: Option<&str>) -> Output {
    let cwd = std::env::temp_dir().join(format!("truongso-gradebook-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_truongso"))
        .args(["--config", "/nonexistent/truongso.toml"])
        .args(args)
        .current_dir(&cwd)
        .env("TRUONGSO_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env_remove("TRUONGSO_DATA_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().expect("finishes");
    assert!(!cwd.join("data").exists(), "no database or data key was created");
    out
}

fn ok_json(out: Output) -> Value {
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("pretty JSON on stdout")
}

fn compute(name: &str) -> Value {
    ok_json(truongso(
        &["gradebook", "compute", "--input", &example(name)],
        None,
    ))
}

fn compute_stdin(doc: &Value) -> Output {
    truongso(&["gradebook", "compute", "--input", "-"], Some(&doc.to_string()))
}

fn read(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(example(name)).unwrap()).unwrap()
}

/// The learner whose id starts with `prefix` ("L1 ").
fn learner<'a>(out: &'a Value, prefix: &str) -> &'a Value {
    out["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no learner {prefix}"))
}

fn subject<'a>(secondary: &'a Value, code: &str) -> &'a Value {
    secondary["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == code)
        .unwrap_or_else(|| panic!("no subject {code}"))
}

/// (level, table level, subject of the adjustment) of a learning result.
fn level(l: &Value) -> (String, String, Value) {
    (
        l["level"].as_str().unwrap().to_string(),
        l["table_level"].as_str().unwrap().to_string(),
        l["adjusted_for"].clone(),
    )
}

fn lv(level: &str, table: &str, adjusted_for: Value) -> (String, String, Value) {
    (level.to_string(), table.to_string(), adjusted_for)
}

fn decision(year_end: &Value) -> (Value, Value) {
    (year_end["initial"].clone(), year_end["decision"].clone())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn thcs_worked_examples() {
    let out = compute("thcs-grade8-tt22.json");
    assert_eq!(out["rules"], "tt22_2021");
    assert_eq!(out["grade"], 8);

    // §1.2 examples 1–4, §1.3 Tốt, §1.4 (Khá, Tốt) → Tốt, §1.6 Giỏi.
    let l1 = &learner(&out, "L1 ")["secondary"];
    let toan = subject(l1, "toan");
    assert_eq!(
        (&toan["regular_count"], &toan["hk1"], &toan["hk2"], &toan["year"]),
        (&json!(4), &json!("7.7"), &json!("8.4"), &json!("8.2"))
    );
    let cn = subject(l1, "cong_nghe");
    assert_eq!((&cn["regular_count"], &cn["hk1"]), (&json!(3), &json!("6.9")));
    assert_eq!(cn["year"], "8.4");
    let gdcd = subject(l1, "gdcd");
    assert_eq!(
        (&gdcd["regular_count"], &gdcd["hk1"], &gdcd["year"]),
        (&json!(2), &json!("7.9"), &json!("9.0"))
    );
    let years: Vec<&str> = l1["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["year"].as_str().unwrap())
        .collect();
    assert_eq!(
        years,
        [
            "8.2", "7.0", "8.5", "9.0", "8.0", "8.1", "8.4", "7.8", "Đ", "Đ", "Đ", "Đ"
        ]
    );
    assert_eq!(subject(l1, "nghe_thuat")["hk2"], "Đ", "Nghệ thuật by name");
    assert_eq!(level(&l1["learning"]["hk1"]), lv("kha", "kha", Value::Null));
    assert_eq!(level(&l1["learning"]["hk2"]), lv("tot", "tot", Value::Null));
    assert_eq!(level(&l1["learning"]["year"]), lv("tot", "tot", Value::Null));
    assert_eq!(l1["conduct_year"], "tot");
    let y = &l1["year_end"];
    assert_eq!(
        decision(y),
        (json!({"decision": "promoted"}), json!({"decision": "promoted"}))
    );
    assert_eq!(y["award"], "gioi", "only GDCD ≥ 9.0: Giỏi, not Xuất sắc");
    assert_eq!(y["completes_level"], false);

    // §1.3 adjustment: CN 3.0 → Chưa đạt by the table, Tốt without CN, adjusted to Đạt.
    let l2 = &learner(&out, "L2 ")["secondary"];
    for term in ["hk1", "hk2", "year"] {
        assert_eq!(
            level(&l2["learning"][term]),
            lv("dat", "chua_dat", json!("cong_nghe"))
        );
    }
    assert_eq!(l2["conduct_year"], "kha", "§1.4: HKI Tốt, HKII Đạt → Khá");
    assert_eq!(l2["year_end"]["retest_subjects"], json!([]));
    assert_eq!(l2["year_end"]["decision"], json!({"decision": "promoted"}));
    assert_eq!(l2["year_end"]["award"], Value::Null);

    // §1.3 CN 6.0: Khá, a one-level drop, no adjustment; §1.2(a) GDTC HKI CĐ, year = HKII Đ.
    let l3 = &learner(&out, "L3 ")["secondary"];
    assert_eq!(level(&l3["learning"]["year"]), lv("kha", "kha", Value::Null));
    let gdtc = subject(l3, "gdtc");
    assert_eq!((&gdtc["hk1"], &gdtc["year"]), (&json!("CĐ"), &json!("Đ")));
    assert_eq!(
        level(&l3["learning"]["hk1"]),
        lv("dat", "dat", Value::Null),
        "one comment subject CĐ: at most Đạt"
    );
    assert_eq!(l3["conduct_year"], "dat", "§1.4: HKI CĐ, HKII Khá → Đạt");

    // §1.5: Toán 4.6, Anh 4.8, six others ≥ 5.0: already Đạt, no re-test.
    let l4 = &learner(&out, "L4 ")["secondary"];
    assert_eq!(level(&l4["learning"]["year"]), lv("dat", "dat", Value::Null));
    assert_eq!(l4["year_end"]["retest_subjects"], json!([]));
    assert_eq!(l4["year_end"]["decision"], json!({"decision": "promoted"}));

    // §1.5 re-test case: Văn 4.9 too → Chưa đạt; re-test Toán, Văn, Anh.
    let l5 = &learner(&out, "L5 ")["secondary"];
    assert_eq!(
        level(&l5["learning"]["year"]),
        lv("chua_dat", "chua_dat", Value::Null)
    );
    assert_eq!(
        l5["year_end"]["retest_subjects"],
        json!(["toan", "ngu_van", "ngoai_ngu_1"])
    );
    assert_eq!(
        decision(&l5["year_end"]),
        (json!({"decision": "retest"}), json!({"decision": "retest"}))
    );
    // Re-test results 5.5, 5.0, 4.0 replace the year averages: Đạt, promoted.
    let l6 = &learner(&out, "L6 ")["secondary"];
    assert_eq!(
        [
            &subject(l6, "toan")["retest"],
            &subject(l6, "ngu_van")["retest"],
            &subject(l6, "ngoai_ngu_1")["retest"]
        ],
        [&json!("5.5"), &json!("5.0"), &json!("4.0")]
    );
    assert_eq!(
        level(&l6["year_end"]["learning_after_retest"]),
        lv("dat", "dat", Value::Null)
    );
    assert_eq!(
        decision(&l6["year_end"]),
        (json!({"decision": "retest"}), json!({"decision": "promoted"}))
    );

    // §1.6 Xuất sắc: six scored subjects ≥ 9.0 with Tốt and Tốt.
    let l7 = &learner(&out, "L7 ")["secondary"];
    assert_eq!(level(&l7["learning"]["year"]), lv("tot", "tot", Value::Null));
    assert_eq!(l7["year_end"]["award"], "xuat_sac");

    // §1.5 more than 45 sessions absent.
    let l8 = &learner(&out, "L8 ")["secondary"];
    assert_eq!(
        l8["year_end"]["decision"],
        json!({"decision": "retained", "reason": "absences"})
    );

    // §1.5 summer training: waiting, then re-evaluated Đạt → promoted.
    let l9 = &learner(&out, "L9 ")["secondary"];
    assert_eq!(l9["conduct_year"], "chua_dat");
    assert_eq!(
        decision(&l9["year_end"]),
        (
            json!({"decision": "summer_training"}),
            json!({"decision": "summer_training"})
        )
    );
    let l10 = &learner(&out, "L10 ")["secondary"];
    assert_eq!(
        decision(&l10["year_end"]),
        (
            json!({"decision": "summer_training"}),
            json!({"decision": "promoted"})
        )
    );

    // Both Chưa đạt: retained by default (UNCERTAIN, config.both_failed).
    let l11 = &learner(&out, "L11 ")["secondary"];
    assert_eq!(
        l11["year_end"]["decision"],
        json!({"decision": "retained", "reason": "both_failed"})
    );
    // …and with the other reading, summer training first.
    let mut doc = read("thcs-grade8-tt22.json");
    doc["config"] = json!({"both_failed": "training_then_retest"});
    let out = ok_json(compute_stdin(&doc));
    assert_eq!(out["config"]["both_failed"], "training_then_retest");
    assert_eq!(
        learner(&out, "L11 ")["secondary"]["year_end"]["decision"],
        json!({"decision": "summer_training"})
    );
}

#[test]
fn thpt_with_chuyen_de() {
    let out = compute("thpt-grade12-tt22-chuyen-de.json");
    assert_eq!(out["rules"], "tt22_2021");
    let a = &learner(&out, "A ")["secondary"];
    let row = |code: &str| {
        let s = subject(a, code);
        (
            s["regular_count"].as_u64().unwrap(),
            s["hk1"].as_str().unwrap().to_string(),
            s["hk2"].as_str().unwrap().to_string(),
            s["year"].as_str().unwrap().to_string(),
        )
    };
    let r = |n: u64, a: &str, b: &str, y: &str| (n, a.to_string(), b.to_string(), y.to_string());
    assert_eq!(row("ngu_van"), r(4, "8.3", "8.7", "8.6"));
    // Toán 105 periods (4) plus its chuyên đề (1); HKI 93.5/10 = 9.35 → 9.4 half-up.
    assert_eq!(row("toan"), r(5, "9.4", "9.4", "9.4"));
    assert_eq!(row("ngoai_ngu_1"), r(4, "9.0", "9.3", "9.2"));
    assert_eq!(row("lich_su"), r(3, "8.8", "8.9", "8.9"));
    assert_eq!(row("gdqpan"), r(2, "9.4", "9.5", "9.5"));
    // A 70-period elective with its chuyên đề: 3 + 1 = 4 ĐĐGtx (§1.1).
    assert_eq!(row("vat_li"), r(4, "8.4", "9.4", "9.1"));
    assert_eq!(row("hoa_hoc"), r(4, "8.9", "9.3", "9.2"));
    assert_eq!(row("sinh_hoc"), r(3, "8.1", "8.3", "8.2"));
    assert_eq!(row("tin_hoc"), r(3, "9.0", "9.0", "9.0"));
    assert_eq!(subject(a, "gdtc")["regular_count"], 2);
    assert_eq!(level(&a["learning"]["year"]), lv("tot", "tot", Value::Null));
    assert_eq!(a["year_end"]["award"], "xuat_sac");
    assert_eq!(a["year_end"]["decision"], json!({"decision": "promoted"}));
    assert_eq!(
        a["year_end"]["completes_level"], true,
        "grade 12: hoàn thành THPT"
    );

    // Seven scored subjects (Âm nhạc, Mĩ thuật electives): six ≥ 6.5 and all ≥ 5.0 → Khá.
    let b = &learner(&out, "B ")["secondary"];
    assert_eq!(subject(b, "ngu_van")["regular_count"], 5);
    assert_eq!(subject(b, "ngu_van")["hk1"], "6.8", "67.5/10 = 6.75 → 6.8");
    assert_eq!(subject(b, "ngu_van")["year"], "7.1");
    assert_eq!(subject(b, "dia_li")["year"], "6.7");
    assert_eq!(subject(b, "gdktpl")["year"], "5.8");
    assert_eq!(subject(b, "am_nhac")["hk1"], "CĐ");
    assert_eq!(subject(b, "am_nhac")["year"], "Đ");
    assert_eq!(level(&b["learning"]["hk1"]), lv("dat", "dat", Value::Null));
    assert_eq!(level(&b["learning"]["year"]), lv("kha", "kha", Value::Null));
    assert_eq!(b["conduct_year"], "kha");
    assert_eq!(b["year_end"]["award"], Value::Null);
    assert_eq!(b["year_end"]["completes_level"], true);

    // Without its chuyên đề, Vật lí takes 3 ĐĐGtx: the fourth mark is refused where it stands.
    let mut doc = read("thpt-grade12-tt22-chuyen-de.json");
    let vat_li = &mut doc["learners"][0]["subjects"][8];
    assert_eq!(vat_li["subject"], "vat_li");
    vat_li.as_object_mut().unwrap().remove("chuyen_de");
    let out = compute_stdin(&doc);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("learners[0].subjects[8].hk1.tx: too_many_marks — Quá nhiều cột điểm (tối đa 3)."),
        "{err}"
    );
}

#[test]
fn primary_tt27() {
    let out = compute("primary-grade4-tt27.json");
    assert_eq!(out["rules"], "tt27_2020");
    let p = |id: &str| learner(&out, id)["primary"].clone();
    let eval = |id: &str| {
        let r = p(id);
        (
            r["evaluation"].clone(),
            r["award"].clone(),
            r["completes"].clone(),
        )
    };
    // §2.4 example 1: KH 8 < 9, everything else T/Tốt, all tests ≥ 7 → Hoàn thành tốt.
    assert_eq!(eval("P1 "), (json!("hoan_thanh_tot"), Value::Null, json!(true)));
    assert_eq!(p("P1 ")["gaps"], json!([]));
    // §2.6 recognised by the class → Học sinh Tiêu biểu.
    assert_eq!(
        eval("P2 "),
        (json!("hoan_thanh_tot"), json!("tieu_bieu"), json!(true))
    );
    // §2.4 example 2: one quality Cần cố gắng → Chưa hoàn thành.
    assert_eq!(eval("P3 "), (json!("chua_hoan_thanh"), Value::Null, json!(false)));
    // Every test ≥ 9 → Hoàn thành xuất sắc, Học sinh Xuất sắc.
    assert_eq!(
        eval("P4 "),
        (json!("hoan_thanh_xuat_sac"), json!("xuat_sac"), json!(true))
    );
    // HT/Đạt with a lowest test of 5 → Hoàn thành (the "≥ 5" row, UNCERTAIN, configurable).
    assert_eq!(eval("P5 "), (json!("hoan_thanh"), Value::Null, json!(true)));
    assert_eq!(eval("P6 "), (json!("chua_hoan_thanh"), Value::Null, json!(false)));
    // §2.5 re-test 6 replaces the 4: Hoàn thành (not HTT: 6 < 7).
    assert_eq!(eval("P7 "), (json!("hoan_thanh"), Value::Null, json!(true)));

    // primary_pass_test 4 accepts P6's 4.
    let mut doc = read("primary-grade4-tt27.json");
    doc["config"] = json!({"primary_pass_test": 4});
    let out = ok_json(compute_stdin(&doc));
    assert_eq!(learner(&out, "P6 ")["primary"]["evaluation"], "hoan_thanh");

    // A test score with a decimal is refused at its place.
    let mut doc = read("primary-grade4-tt27.json");
    doc["learners"][0]["subjects"][1]["test"] = json!("8,5");
    let out = compute_stdin(&doc);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("learners[0].subjects[1].test: whole_number_required"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn legacy_grade9_2023_2024() {
    let out = compute("legacy-grade9-2023-2024-tt58-tt26.json");
    assert_eq!(out["rules"], "tt58_tt26", "assessment.md §0: grade 9 in 2023-24");
    let hoc_luc = |out: &Value, id: &str, term: &str| learner(out, id)["secondary"]["hoc_luc"][term].clone();
    // G1: Toán from its marks with the TT 26 formula (7.9, 7.7 → 7.8); ĐTBcn 91.8/11 = 8.345 →
    // 8.3 (tenths 83); Giỏi because TT 26 counts Ngoại ngữ (8.6) as a core subject.
    let g1 = &learner(&out, "G1 ")["secondary"];
    let toan = subject(g1, "toan");
    assert_eq!(
        (&toan["hk1"], &toan["hk2"], &toan["year"]),
        (&json!("7.9"), &json!("7.7"), &json!("7.8"))
    );
    assert_eq!(
        hoc_luc(&out, "G1 ", "year"),
        json!({"overall": 83, "level": "gioi", "table_level": "gioi", "adjusted_for": null})
    );
    assert_eq!(g1["learning"]["year"], Value::Null, "no TT 22 learning result");
    assert!(g1.get("year_end").is_none());
    // G2, khoản 6: ĐTBcn 8.4 but Hóa học 4.5 → Trung bình by the table, adjusted to Khá
    // (adjusted_for is the subject's index: 4 = Hóa học).
    assert_eq!(
        hoc_luc(&out, "G2 ", "year"),
        json!({"overall": 84, "level": "kha", "table_level": "trung_binh", "adjusted_for": 4})
    );
    assert_eq!(
        learner(&out, "G2 ")["secondary"]["subjects"][4]["subject"],
        "Hóa học"
    );
    assert_eq!(hoc_luc(&out, "G3 ", "year")["overall"], 63);
    assert_eq!(hoc_luc(&out, "G3 ", "year")["level"], "trung_binh");
    // G4: Thể dục CĐ in HKII (year = HKII) → Yếu; khoản 6 has no TB→Yếu case.
    assert_eq!(hoc_luc(&out, "G4 ", "hk1")["level"], "trung_binh");
    assert_eq!(
        hoc_luc(&out, "G4 ", "year"),
        json!({"overall": 63, "level": "yeu", "table_level": "yeu", "adjusted_for": null})
    );

    // The same marks under the original TT 58 (Toán, Văn only as core subjects): G1 is Khá.
    let mut doc = read("legacy-grade9-2023-2024-tt58-tt26.json");
    doc["rules"] = json!("tt58_2011");
    let out = ok_json(compute_stdin(&doc));
    assert_eq!(out["rules"], "tt58_2011");
    assert_eq!(hoc_luc(&out, "G1 ", "year")["level"], "kha");

    // §3 TT 58 example: tx 8; 9; 9 · đk 9; 8 · hk 8 → (26 + 34 + 24) / 10 = 8.4.
    let doc = json!({
        "school_year": "2019-2020", "grade": 9,
        "learners": [{"id": "tt58", "subjects": [
            {"subject": "Vật lí", "mode": "score", "hk1": {"tx": [8, 9, 9], "dk": [9, 8], "ck": 8}}
        ]}]
    });
    let out = ok_json(compute_stdin(&doc));
    assert_eq!(out["rules"], "tt58_2011");
    assert_eq!(out["learners"][0]["secondary"]["subjects"][0]["hk1"], "8.4");
}

#[test]
fn bad_marks_exit_2_and_name_their_place() {
    let out = truongso(
        &["gradebook", "compute", "--input", &example("invalid-marks.json")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains(
            "learners[0].subjects[1].hk1.tx[2]: out_of_range — Giá trị phải nằm trong khoảng 0 đến 10."
        ),
        "{err}"
    );
    // With the 11 corrected, the next bad value is the 7,25 mid-term.
    let mut doc = read("invalid-marks.json");
    doc["learners"][0]["subjects"][1]["hk1"]["tx"][2] = json!("9");
    let out = compute_stdin(&doc);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>: learners[0].subjects[1].hk1.gk: too_many_decimals — Điểm chỉ được có tối đa một chữ số thập phân"),
        "{err}"
    );
    // And with "7,5" the document computes (a comma is a decimal separator); HKII is missing.
    doc["learners"][0]["subjects"][1]["hk1"]["gk"] = json!("7,5");
    let out = ok_json(compute_stdin(&doc));
    let toan = &out["learners"][0]["secondary"]["subjects"][1];
    // (7 + 8 + 9 + 9 + 2·7.5 + 3·8) / 9 = 72/9 = 8.0
    assert_eq!(toan["hk1"], "8.0");
    assert_eq!(
        toan["hk2"],
        json!({"problem": "missing", "term": 2, "slot": "tx1"})
    );
}

#[test]
fn bad_json_shape_exits_2_with_line_and_column() {
    let text = "{\"school_year\": \"2025-2026\", \"grade\": 7,\n  \"learners\": [{\"id\": \"x\", \"subjects\": [{\"subject\": \"toan\", \"hk1\": {\"txx\": []}}]}]}";
    let out = truongso(&["gradebook", "compute", "--input", "-"], Some(text));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2:"), "{err}");
    assert!(
        err.contains("dòng 2, cột") && err.contains("line 2, column"),
        "{err}"
    );
    assert!(err.contains("unknown field `txx`"), "{err}");
    let out = truongso(&["gradebook", "compute", "--input", "-"], Some("{\"grade\": 7"));
    assert_eq!(out.status.code(), Some(2));
    let out = truongso(
        &["gradebook", "compute", "--input", "/nonexistent/doc.json"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/doc.json"));
}

#[test]
fn output_file_matches_stdout() {
    let path = std::env::temp_dir().join(format!("truongso-gradebook-out-{}.json", std::process::id()));
    let input = example("primary-grade4-tt27.json");
    let out = truongso(
        &[
            "gradebook",
            "compute",
            "--input",
            &input,
            "--output",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(written, compute("primary-grade4-tt27.json"));
}

#[test]
fn rules_by_grade_and_year() {
    let rules = |grade: &str, year: &str| {
        ok_json(truongso(
            &["gradebook", "rules", "--grade", grade, "--school-year", year],
            None,
        ))
    };
    let r = rules("8", "2025-2026");
    assert_eq!(r["rules"], "tt22_2021");
    assert_eq!(r["rules_title"], "Thông tư 22/2021/TT-BGDĐT");
    assert_eq!(r["config"]["absence_limit"], 45);
    let plan = |r: &Value, code: &str| {
        r["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        plan(&r, "cong_nghe"),
        json!({"code": "cong_nghe", "name": "Công nghệ", "mode": "score", "periods": 52,
               "elective": false, "regular_per_semester": 3})
    );
    assert_eq!(plan(&r, "toan")["regular_per_semester"], 4);
    assert_eq!(plan(&r, "gdcd")["regular_per_semester"], 2);
    assert_eq!(plan(&r, "gdtc")["mode"], "comment");
    assert_eq!(plan(&r, "gdtc")["regular_per_semester"], 2);
    let r = rules("10", "2025-2026");
    assert_eq!(plan(&r, "lich_su")["regular_per_semester"], 3);
    assert_eq!(
        plan(&r, "vat_li"),
        json!({"code": "vat_li", "name": "Vật lí", "mode": "score", "periods": 70,
               "elective": true, "regular_per_semester": 3, "regular_with_chuyen_de": 4})
    );
    assert_eq!(plan(&r, "gdqpan")["regular_with_chuyen_de"], Value::Null);
    assert_eq!(rules("9", "2023-2024")["rules"], "tt58_tt26");
    assert_eq!(rules("9", "2024-2025")["rules"], "tt22_2021");
    let r = rules("4", "2025-2026");
    assert_eq!(r["rules"], "tt27_2020");
    assert_eq!(plan(&r, "tieng_viet")["tested"], true);
    assert_eq!(plan(&r, "tieng_viet")["mid_tested"], true);
    assert_eq!(plan(&r, "tieng_viet")["regular_per_semester"], Value::Null);
    let r = rules("5", "2023-2024");
    assert_eq!(
        (&r["rules"], &r["computed"]),
        (&json!("tt30_tt22_2016"), &json!(false))
    );
    let bad = truongso(
        &[
            "gradebook",
            "rules",
            "--grade",
            "13",
            "--school-year",
            "2025-2026",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    let bad = truongso(
        &["gradebook", "rules", "--grade", "7", "--school-year", "2025"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("Năm học không hợp lệ"));
}
