//! Plausible measurements and equipment for the demo: heights and weights around the WHO
//! medians for age (so most learners are "normal" and a realistic few are thin or overweight),
//! school-vision results, and a small teaching-equipment inventory per grade.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use truongso_core::health::{Checkup, CheckupInput};

/// One start-of-year check-up, as the encrypted JSON payload `store::health` reads.
pub(super) fn demo_checkup(
    rng: &mut ChaCha8Rng,
    dob: NaiveDate,
    female: bool,
    year_start: NaiveDate,
) -> String {
    let on = year_start + chrono::Days::new(14);
    let age_years = (on - dob).num_days() as f64 / 365.25;
    // Median height grows ~6 cm a year from ~87 cm at 2; BMI medians sit near 15.5–19.
    let median_cm = (75.0 + 6.1 * age_years).min(if female { 158.0 } else { 166.0 });
    let height_cm: f64 = median_cm + rng.random_range(-8.0..8.0);
    let bmi: f64 = 15.2 + 0.25 * (age_years - 5.0).max(0.0) + rng.random_range(-2.6..4.2);
    let weight = bmi * (height_cm / 100.0).powi(2);
    let acuity = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.82) {
            "10/10".to_string()
        } else {
            format!("{}/10", rng.random_range(3..=9))
        }
    };
    let input = CheckupInput {
        kind: "start_of_year".into(),
        date: on.format("%d/%m/%Y").to_string(),
        height_cm: format!("{height_cm:.1}"),
        weight_kg: format!("{weight:.1}"),
        vision_right: acuity(rng),
        vision_left: acuity(rng),
        dental: if rng.random_bool(0.3) { "caries" } else { "healthy" }.into(),
        notes: String::new(),
    };
    let checkup = Checkup::parse(&input, dob, on).expect("demo measurements are plausible");
    serde_json::to_string(&checkup).expect("serialisable")
}

/// (code, name, grade, quantity per class) of a few items of the minimum equipment lists.
pub(super) fn demo_equipment(grades: &[u8]) -> Vec<(String, String, Option<u8>, i32)> {
    let mut out = vec![];
    for g in grades {
        if *g > 12 {
            continue;
        }
        out.push((
            format!("TB-TOAN-{g}"),
            format!("Bộ thiết bị dạy học Toán lớp {g}"),
            Some(*g),
            1,
        ));
        out.push((
            format!("TB-TV-{g}"),
            format!("Bộ tranh ảnh, bản đồ lớp {g}"),
            Some(*g),
            1,
        ));
    }
    out.push(("TB-MC".into(), "Máy chiếu (projector)".into(), None, 1));
    out
}
