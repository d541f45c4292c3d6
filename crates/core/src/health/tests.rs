use super::*;
use crate::DomainError::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn h(s: &str) -> HeightMm {
    HeightMm::parse(s).unwrap()
}

fn w(s: &str) -> WeightHg {
    WeightHg::parse(s).unwrap()
}

#[test]
fn height_parses_cm_with_one_decimal() {
    assert_eq!(h("132,5").mm(), 1325);
    assert_eq!(h("132.5").mm(), 1325);
    assert_eq!(h(" 132 ").mm(), 1320);
    assert_eq!(h("132,5 cm").mm(), 1325);
    assert_eq!(h("132,5CM").mm(), 1325);
    assert_eq!(h("132,50").mm(), 1325, "a trailing zero is tolerated");
    assert_eq!(h("40").mm(), 400);
    assert_eq!(h("220,0").mm(), 2200);
    assert_eq!(
        HeightMm::parse("132,55"),
        Err(InvalidNumber),
        "two significant decimals"
    );
    assert_eq!(HeightMm::parse("1m32"), Err(InvalidNumber));
    assert_eq!(HeightMm::parse("-132"), Err(InvalidNumber));
    assert_eq!(HeightMm::parse("132,"), Err(InvalidNumber));
    assert_eq!(HeightMm::parse(",5"), Err(InvalidNumber));
    assert_eq!(HeightMm::parse("1.320.5"), Err(InvalidNumber));
    assert_eq!(HeightMm::parse(""), Err(Required));
    assert_eq!(HeightMm::parse("39,9"), Err(OutOfRange { min: 40, max: 220 }));
    assert_eq!(HeightMm::parse("220,1"), Err(OutOfRange { min: 40, max: 220 }));
    assert_eq!(
        HeightMm::parse("13250"),
        Err(OutOfRange { min: 40, max: 220 }),
        "typed in mm"
    );
    assert_eq!(HeightMm::parse("99999999"), Err(InvalidNumber), "no overflow");
}

#[test]
fn weight_parses_kg_with_one_decimal() {
    assert_eq!(w("28,4").tenths_kg(), 284);
    assert_eq!(w("28.4 kg").tenths_kg(), 284);
    assert_eq!(w("2").tenths_kg(), 20);
    assert_eq!(w("200").tenths_kg(), 2000);
    assert_eq!(WeightHg::parse("1,9"), Err(OutOfRange { min: 2, max: 200 }));
    assert_eq!(WeightHg::parse("200,1"), Err(OutOfRange { min: 2, max: 200 }));
    assert_eq!(WeightHg::parse("28,45"), Err(InvalidNumber));
    assert_eq!(WeightHg::parse("hai tám"), Err(InvalidNumber));
}

#[test]
fn stored_values_are_range_checked_on_deserialisation() {
    assert_eq!(serde_json::to_string(&h("132,5")).unwrap(), "1325");
    assert_eq!(serde_json::from_str::<HeightMm>("1325").unwrap(), h("132,5"));
    assert!(serde_json::from_str::<HeightMm>("10").is_err());
    assert!(serde_json::from_str::<WeightHg>("5000").is_err());
    assert!(serde_json::from_str::<VisualAcuity>("11").is_err());
}

#[test]
fn bmi_in_tenths_rounds_half_up_exactly() {
    // 28.4 kg, 132.5 cm: 284·10⁶ / 1325² = 284000000 / 1755625 = 161.76… → 16.2.
    assert_eq!(bmi_tenths(h("132,5"), w("28,4")), 162);
    // 1 m tall: BMI = weight exactly.
    assert_eq!(bmi_tenths(h("100"), w("30")), 300);
    // 2 m tall: tenths = hg / 4 — exact halves show the rounding.
    assert_eq!(bmi_tenths(h("200"), w("60,5")), 151, "151.25 rounds down");
    assert_eq!(bmi_tenths(h("200"), w("60,6")), 152, "151.5 rounds half up");
    assert_eq!(bmi_tenths(h("200"), w("60,7")), 152, "151.75 rounds up");
    assert_eq!(bmi_tenths(h("200"), w("61,0")), 153, "152.5 rounds half up");
    // 160 cm, 50 kg: 500/2.56 = 195.3125 → 19.5.
    assert_eq!(bmi_tenths(h("160"), w("50")), 195);
    // Extremes do not overflow.
    assert_eq!(bmi_tenths(h("40"), w("200")), 12500);
    assert_eq!(bmi_tenths(h("220"), w("2")), 4);
}

#[test]
fn completed_months() {
    let dob = d(2016, 3, 15);
    assert_eq!(age_in_completed_months(dob, d(2016, 3, 15)), Some(0));
    assert_eq!(age_in_completed_months(dob, d(2016, 4, 14)), Some(0));
    assert_eq!(age_in_completed_months(dob, d(2016, 4, 15)), Some(1));
    assert_eq!(age_in_completed_months(dob, d(2026, 3, 14)), Some(119));
    assert_eq!(age_in_completed_months(dob, d(2026, 3, 15)), Some(120));
    assert_eq!(age_in_completed_months(dob, d(2016, 3, 14)), None);
    // End of month: born 31/1, one month completed on 28/2 (29/2 in a leap year).
    assert_eq!(age_in_completed_months(d(2015, 1, 31), d(2015, 2, 27)), Some(0));
    assert_eq!(age_in_completed_months(d(2015, 1, 31), d(2015, 2, 28)), Some(1));
    assert_eq!(age_in_completed_months(d(2016, 1, 31), d(2016, 2, 28)), Some(0));
    assert_eq!(age_in_completed_months(d(2016, 1, 31), d(2016, 2, 29)), Some(1));
    assert_eq!(age_in_completed_months(d(2012, 2, 29), d(2013, 2, 28)), Some(12));
}

#[test]
fn tables_cover_every_month_of_both_references() {
    for table in [&who_bmi::BOYS, &who_bmi::GIRLS] {
        for (i, &(month, l, m, s)) in table.iter().enumerate() {
            assert_eq!(month as usize, i);
            assert!(l != 0.0 && (-2.5..1.0).contains(&l), "{i}: L {l}");
            assert!((13.0..23.0).contains(&m), "{i}: M {m}");
            assert!((0.07..0.15).contains(&s), "{i}: S {s}");
        }
    }
    // WHO 2007 rows at 61, 120 and 228 months, as in WHO's bfawho2007 table.
    assert_eq!(who_bmi::BOYS[61], (61, -0.7387, 15.2641, 0.0839));
    assert_eq!(who_bmi::BOYS[120], (120, -1.7407, 16.4433, 0.10566));
    assert_eq!(who_bmi::GIRLS[228], (228, -0.7496, 21.4269, 0.14441));
    // WHO 2006 rows at 0, 24 (height-based table) and 60 months.
    assert_eq!(who_bmi::BOYS[0], (0, -0.3053, 13.4069, 0.0956));
    assert_eq!(who_bmi::GIRLS[24], (24, -0.5684, 15.6881, 0.08454));
    assert_eq!(who_bmi::BOYS[60], (60, -0.6892, 15.1916, 0.087));
}

/// The SD curves rebuilt from L, M, S match the cut-off BMIs WHO publishes beside them
/// (boys 48 months and girls 12 months, WHO 2006 z-score tables, to 0.1).
#[test]
fn lms_reproduces_published_sd_curves() {
    let curve = |table: &[(u16, f64, f64, f64)], month: usize| -> Vec<f64> {
        let (_, l, m, s) = table[month];
        (-3..=3)
            .map(|k| (m * (1.0 + l * s * k as f64).powf(1.0 / l) * 10.0).round() / 10.0)
            .collect()
    };
    assert_eq!(
        curve(&who_bmi::BOYS, 48),
        vec![12.1, 13.1, 14.1, 15.3, 16.7, 18.2, 19.9]
    );
    assert_eq!(
        curve(&who_bmi::GIRLS, 12),
        vec![12.7, 13.8, 15.0, 16.4, 17.9, 19.6, 21.6]
    );
}

fn z(sex: Sex, months: u32, height: &str, weight: &str) -> f64 {
    bmi_for_age_z(sex, months, h(height), w(weight)).unwrap()
}

fn cat(sex: Sex, months: u32, height: &str, weight: &str) -> BmiCategory {
    classify_bmi_z(z(sex, months, height, weight), months).unwrap()
}

/// A boy of exactly 10 years (120 months), 140 cm: WHO 2007 L = −1.7407, M = 16.4433,
/// S = 0.10566. Cut-off BMIs SDk = M(1 + L·S·k)^(1/L): −3 → 12.775, −2 → 13.735, +1 → 18.480,
/// +2 → 21.400, +3 → 26.073. At 140 cm, BMI = kg / 1.96.
#[test]
fn boy_of_ten_across_the_cut_offs() {
    use BmiCategory::*;
    let boy = |kg: &str| cat(Sex::Male, 120, "140", kg);
    // 32.2 kg → BMI 16.43, just under the median: z ≈ −0.008.
    assert!(z(Sex::Male, 120, "140", "32,2").abs() < 0.01);
    assert_eq!(boy("32,2"), Normal);
    assert_eq!(boy("25,0"), SevereThinness); // BMI 12.755, z −3.02
    assert_eq!(boy("25,1"), Thinness); // 12.806, z −2.96
    assert_eq!(boy("26,9"), Thinness); // 13.724, z −2.01
    assert_eq!(boy("27,0"), Normal); // 13.776, z −1.96
    assert_eq!(boy("36,2"), Normal); // 18.469, z 0.996
    assert_eq!(boy("36,3"), Overweight); // 18.520, z 1.017
    assert_eq!(boy("41,9"), Overweight); // 21.378, z 1.994
    assert_eq!(boy("42,0"), Obesity); // 21.429, z 2.008
    assert_eq!(boy("51,2"), Obesity); // above +3 as well
    assert!((z(Sex::Male, 120, "140", "36,3") - 1.0169).abs() < 1e-3);
    assert!((z(Sex::Male, 120, "140", "42,0") - 2.0080).abs() < 1e-3);
}

/// A girl of 4 years (48 months), 100 cm, so BMI = kg: WHO 2006 L = −0.5684, M = 15.2602,
/// S = 0.09168; SD −3 → 11.82, −2 → 12.82, +2 → 18.52, +3 → 20.58. Under 5, overweight starts
/// above +2 and obesity above +3.
#[test]
fn girl_of_four_uses_the_under_five_cut_offs() {
    use BmiCategory::*;
    let girl = |kg: &str| cat(Sex::Female, 48, "100", kg);
    assert_eq!(girl("11,8"), SevereThinness);
    assert_eq!(girl("11,9"), Thinness);
    assert_eq!(girl("12,8"), Thinness);
    assert_eq!(girl("12,9"), Normal);
    assert_eq!(girl("16,8"), Normal, "z 1.02 is normal under 5");
    assert_eq!(girl("18,5"), Normal); // z 1.99
    assert_eq!(girl("18,6"), Overweight); // z 2.04
    assert_eq!(girl("20,5"), Overweight); // z 2.96
    assert_eq!(girl("20,6"), Obesity); // z 3.01
}

#[test]
fn reference_and_cut_offs_switch_at_61_months() {
    // The same boy, BMI 18.5: z 2.12 at 60 months (WHO 2006, overweight) and z 2.14 at
    // 61 months (WHO 2007, obesity).
    assert!((z(Sex::Male, 60, "100", "18,5") - 2.1177).abs() < 1e-3);
    assert!((z(Sex::Male, 61, "100", "18,5") - 2.1363).abs() < 1e-3);
    assert_eq!(cat(Sex::Male, 60, "100", "18,5"), BmiCategory::Overweight);
    assert_eq!(cat(Sex::Male, 61, "100", "18,5"), BmiCategory::Obesity);
}

#[test]
fn classification_boundaries_are_exact_on_z() {
    use BmiCategory::*;
    let c = |z: f64, m: u32| classify_bmi_z(z, m).unwrap();
    assert_eq!(c(-3.0001, 120), SevereThinness);
    assert_eq!(c(-3.0, 120), Thinness, "−3 itself is thinness");
    assert_eq!(c(-2.0001, 120), Thinness);
    assert_eq!(c(-2.0, 120), Normal, "−2 itself is normal");
    assert_eq!(c(1.0, 120), Normal, "+1 itself is normal");
    assert_eq!(c(1.0001, 120), Overweight);
    assert_eq!(c(2.0, 120), Overweight);
    assert_eq!(c(2.0001, 120), Obesity);
    assert_eq!(c(2.0, 60), Normal);
    assert_eq!(c(2.0001, 60), Overweight);
    assert_eq!(c(3.0, 60), Overweight);
    assert_eq!(c(3.0001, 60), Obesity);
    assert_eq!(c(-2.5, 0), Thinness);
    assert_eq!(classify_bmi_z(0.0, 229), None);
    assert_eq!(classify_bmi_z(f64::NAN, 120), None);
}

/// WHO's anthroplus README: a boy of 100 months, 100 cm, 30 kg has BMI-for-age z 5.03; a girl
/// of 110 months, 90 cm, 40 kg (BMI 49.38) has 7.37. Both lie beyond +3, so they check the
/// restricted-application adjustment too (the plain LMS formula gives 4.35 and 5.15).
#[test]
fn reproduces_who_anthroplus_examples_beyond_three() {
    let boy = z(Sex::Male, 100, "100", "30");
    let girl = z(Sex::Female, 110, "90", "40");
    assert_eq!((boy * 100.0).round(), 503.0, "{boy}");
    assert_eq!((girl * 100.0).round(), 737.0, "{girl}");
    let (_, l, m, s) = who_bmi::BOYS[100];
    let plain = ((30.0f64 / m).powf(l) - 1.0) / (l * s);
    assert!(plain < boy, "the adjustment stretches the tail: {plain}");
    // Below −3 the adjustment applies symmetrically and the result stays monotone.
    let thin = z(Sex::Male, 120, "140", "20");
    assert!(thin < -3.0 && thin < z(Sex::Male, 120, "140", "22"));
}

#[test]
fn bmi_for_age_at_a_check_up() {
    let dob = d(2016, 3, 15);
    let r = bmi_for_age(Sex::Male, dob, d(2026, 3, 20), h("140"), w("36,3")).unwrap();
    assert_eq!(r.age_months, 120);
    assert_eq!(r.bmi_tenths, 185);
    assert_eq!(r.z_hundredths, 102);
    assert_eq!(r.category, BmiCategory::Overweight);
    // 19 years and one month: outside the reference.
    assert_eq!(
        bmi_for_age(Sex::Male, dob, d(2035, 4, 15), h("170"), w("60")),
        None
    );
    assert!(bmi_for_age(Sex::Male, dob, d(2035, 3, 15), h("170"), w("60")).is_some());
    assert_eq!(bmi_for_age(Sex::Male, dob, d(2016, 1, 1), h("50"), w("3")), None);
    assert_eq!(bmi_for_age_z(Sex::Female, 229, h("170"), w("60")), None);
}

#[test]
fn visual_acuity_as_typed() {
    let v = |s: &str| VisualAcuity::parse(s).map(VisualAcuity::tenths);
    assert_eq!(v("10/10"), Ok(10));
    assert_eq!(v("8/10"), Ok(8));
    assert_eq!(v(" 3 / 10 "), Ok(3));
    assert_eq!(v("1/10"), Ok(1));
    assert_eq!(v("0.8"), Ok(8));
    assert_eq!(v("0,8"), Ok(8));
    assert_eq!(v("1,0"), Ok(10));
    assert_eq!(v("0,1"), Ok(1));
    assert_eq!(v("11/10"), Err(OutOfRange { min: 1, max: 10 }));
    assert_eq!(v("0/10"), Err(OutOfRange { min: 1, max: 10 }));
    assert_eq!(v("0,0"), Err(OutOfRange { min: 1, max: 10 }));
    assert_eq!(v("1,2"), Err(OutOfRange { min: 1, max: 10 }));
    assert_eq!(v("8/20"), Err(InvalidNumber));
    assert_eq!(v("/10"), Err(InvalidNumber));
    assert_eq!(v("8"), Err(InvalidNumber), "a bare integer is ambiguous");
    assert_eq!(v("0,85"), Err(InvalidNumber));
    assert_eq!(v(""), Err(Required));
    assert_eq!(VisualAcuity::parse("7/10").unwrap().to_string(), "7/10");
}

#[test]
fn vision_flag_when_either_eye_is_below_the_threshold() {
    let va = |s: &str| Some(VisualAcuity::parse(s).unwrap());
    let p = HealthPolicy::default();
    assert_eq!(p.vision_flag_below_tenths, 8);
    let both = |r, l| Vision { right: r, left: l };
    assert!(!vision_flag(&both(va("10/10"), va("8/10")), &p));
    assert!(vision_flag(&both(va("10/10"), va("7/10")), &p));
    assert!(vision_flag(&both(va("3/10"), va("10/10")), &p));
    assert!(vision_flag(&both(va("3/10"), None), &p));
    assert!(
        !vision_flag(&both(None, None), &p),
        "nothing measured, nothing flagged"
    );
    let strict = HealthPolicy {
        vision_flag_below_tenths: 10,
    };
    assert!(vision_flag(&both(va("10/10"), va("9/10")), &strict));
}

#[test]
fn code_lists_parse_codes_and_labels_in_both_locales() {
    assert_eq!(DentalStatus::parse("caries"), Ok(DentalStatus::Caries));
    assert_eq!(DentalStatus::parse("Sâu răng"), Ok(DentalStatus::Caries));
    assert_eq!(DentalStatus::parse("SAU RANG"), Ok(DentalStatus::Caries));
    assert_eq!(DentalStatus::parse("dental caries"), Ok(DentalStatus::Caries));
    assert_eq!(DentalStatus::parse("gãy răng"), Err(UnknownCode));
    assert_eq!(DentalStatus::parse(" "), Err(Required));
    assert_eq!(CheckupKind::parse("Khám đột xuất"), Ok(CheckupKind::AdHoc));
    assert_eq!(CheckupKind::parse("start_of_year"), Ok(CheckupKind::StartOfYear));
    assert_eq!(ConditionKind::parse("dị ứng"), Ok(ConditionKind::Allergy));
    assert_eq!(BmiCategory::parse("Béo phì"), Ok(BmiCategory::Obesity));
    assert_eq!(CheckupKind::Periodic.label_key(), "health.checkup_kind.periodic");
    assert_eq!(serde_json::to_string(&CheckupKind::AdHoc).unwrap(), "\"ad_hoc\"");
    assert_eq!(
        serde_json::from_str::<DentalStatus>("\"healthy\"").unwrap(),
        DentalStatus::Healthy
    );
}

#[test]
fn every_code_has_a_label_in_both_locales() {
    let keys: Vec<&str> = [
        BmiCategory::ALL.iter().map(|c| c.label_key()).collect::<Vec<_>>(),
        DentalStatus::ALL.iter().map(|c| c.label_key()).collect(),
        CheckupKind::ALL.iter().map(|c| c.label_key()).collect(),
        ConditionKind::ALL.iter().map(|c| c.label_key()).collect(),
    ]
    .concat();
    for key in keys {
        for locale in [Locale::Vi, Locale::En] {
            assert!(i18n::keys(locale).contains(&key), "{key} missing in {locale:?}");
        }
    }
    assert_eq!(i18n::t(Locale::Vi, "health.bmi.overweight"), "Thừa cân");
}

#[test]
fn vaccine_names_are_normalised() {
    let v = |s: &str| VaccineName::parse(s).unwrap();
    assert_eq!(v("  sởi  -  rubella ").as_str(), "Sởi-Rubella");
    assert_eq!(v("MR").as_str(), "Sởi-Rubella");
    assert_eq!(v("vnnb").as_str(), "Viêm não Nhật Bản");
    assert_eq!(v("VIEM NAO NHAT BAN").as_str(), "Viêm não Nhật Bản");
    assert_eq!(v("bcg").as_str(), "BCG");
    assert_eq!(v("Td").as_str(), "Bạch hầu-Uốn ván (Td)");
    // Unknown names are kept as typed, tidied.
    let other = v("Thủy   đậu / Varicella");
    assert_eq!(other.as_str(), "Thủy đậu/Varicella");
    assert_eq!(other.key(), "thuy dau/varicella");
    assert_eq!(VaccineName::parse("  "), Err(Required));
    assert_eq!(VaccineName::parse(&"x".repeat(101)), Err(TooLong { max: 100 }));
    let list = parse_vaccine_list("Sởi; soi\nBCG, viêm gan B ;").unwrap();
    let names: Vec<_> = list.iter().map(VaccineName::as_str).collect();
    assert_eq!(names, vec!["Sởi", "BCG", "Viêm gan B"]);
    assert_eq!(parse_vaccine_list("").unwrap(), vec![]);
}

#[test]
fn conditions_parse_kind_and_detail() {
    let c = HealthCondition::parse("Dị ứng", "  Dị ứng   hải sản ").unwrap();
    assert_eq!(c.kind, ConditionKind::Allergy);
    assert_eq!(c.detail, "Dị ứng hải sản");
    assert_eq!(HealthCondition::parse("x", "y").unwrap_err().field, "kind");
    assert_eq!(
        HealthCondition::parse("chronic", "").unwrap_err(),
        FieldError::new("detail", Required)
    );
}

fn input() -> CheckupInput {
    CheckupInput {
        kind: "Khám sức khỏe đầu năm học".into(),
        date: "15/09/2026".into(),
        height_cm: "140,0".into(),
        weight_kg: "36,3".into(),
        vision_right: "10/10".into(),
        vision_left: "7/10".into(),
        dental: "Sâu răng".into(),
        notes: "".into(),
    }
}

#[test]
fn checkup_parses_every_field() {
    let dob = d(2016, 3, 15);
    let today = d(2026, 11, 23);
    let c = Checkup::parse(&input(), dob, today).unwrap();
    assert_eq!(c.kind, CheckupKind::StartOfYear);
    assert_eq!(c.date, d(2026, 9, 15));
    assert_eq!(c.height, Some(h("140")));
    assert_eq!(c.weight, Some(w("36,3")));
    assert_eq!(c.vision.left.map(VisualAcuity::tenths), Some(7));
    assert_eq!(c.dental, Some(DentalStatus::Caries));
    assert_eq!(c.notes, None);
    assert!(vision_flag(&c.vision, &HealthPolicy::default()));
    let bmi = c.bmi_for_age(Sex::Male, dob).unwrap();
    assert_eq!(
        (bmi.age_months, bmi.category),
        (126, BmiCategory::Normal),
        "SD+1 is 18.8 at 126 months"
    );
    // Only kind and date are required.
    let minimal = CheckupInput {
        kind: "ad_hoc".into(),
        date: "2026-11-23".into(),
        ..Default::default()
    };
    let c = Checkup::parse(&minimal, dob, today).unwrap();
    assert_eq!(
        (c.height, c.weight, c.vision, c.dental),
        (None, None, Vision::default(), None)
    );
    assert_eq!(c.bmi_for_age(Sex::Male, dob), None);
}

#[test]
fn checkup_errors_name_the_field() {
    let dob = d(2016, 3, 15);
    let today = d(2026, 11, 23);
    let err = |f: &dyn Fn(&mut CheckupInput)| {
        let mut i = input();
        f(&mut i);
        Checkup::parse(&i, dob, today).unwrap_err()
    };
    assert_eq!(err(&|i| i.kind = "".into()), FieldError::new("kind", Required));
    assert_eq!(
        err(&|i| i.kind = "khám lại".into()),
        FieldError::new("kind", UnknownCode)
    );
    assert_eq!(err(&|i| i.date = "".into()), FieldError::new("date", Required));
    assert_eq!(
        err(&|i| i.date = "31/02/2026".into()),
        FieldError::new("date", InvalidDate)
    );
    assert_eq!(
        err(&|i| i.date = "24/11/2026".into()),
        FieldError::new("date", DateRangeReversed),
        "future"
    );
    assert_eq!(
        err(&|i| i.date = "14/03/2016".into()),
        FieldError::new("date", DateRangeReversed),
        "before birth"
    );
    assert!(
        Checkup::parse(
            &CheckupInput {
                date: "23/11/2026".into(),
                ..input()
            },
            dob,
            today
        )
        .is_ok()
    );
    assert!(
        Checkup::parse(
            &CheckupInput {
                date: "15/03/2016".into(),
                ..input()
            },
            dob,
            today
        )
        .is_ok()
    );
    assert_eq!(
        err(&|i| i.height_cm = "1m40".into()),
        FieldError::new("height_cm", InvalidNumber)
    );
    assert_eq!(
        err(&|i| i.weight_kg = "363".into()),
        FieldError::new("weight_kg", OutOfRange { min: 2, max: 200 })
    );
    assert_eq!(err(&|i| i.vision_right = "12/10".into()).field, "vision_right");
    assert_eq!(err(&|i| i.vision_left = "tốt".into()).field, "vision_left");
    assert_eq!(
        err(&|i| i.dental = "gãy".into()),
        FieldError::new("dental", UnknownCode)
    );
    assert_eq!(
        err(&|i| i.notes = "a".repeat(1001)),
        FieldError::new("notes", TooLong { max: 1000 })
    );
}
