//! School health (encrypted at rest, never in the audit chain) and facilities (rooms,
//! equipment, facts, learners per computer, shortfalls) on both databases.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use truongso_core::DomainError;
use truongso_core::codes;
use truongso_core::error::FieldError;
use truongso_core::facilities::SchoolFacts;
use truongso_core::health::{
    BmiCategory, Checkup, CheckupInput, HealthPolicy, HeightMm, WeightHg, bmi_for_age,
};
use truongso_core::org::OrgKind;
use truongso_core::people::Sex;
use truongso_store::crypto::FieldCipher;
use truongso_store::entity::{audit_event, equipment, health_entry, learner, room, school_facility};
use truongso_store::{ActorRef, Error, Store, audit, both_backends, classes, demo, facilities, health, org};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn sys() -> ActorRef {
    ActorRef::system("test")
}

/// The demo's THCS school, seeded with `cipher` (the same cipher must read it back).
async fn thcs(s: &Store, cipher: &FieldCipher) -> org::OrgUnit {
    demo::seed(s, cipher, demo::DemoOptions::small(5)).await.unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.levels.as_ref().is_some_and(|l| l.to_stored() == "THCS"))
        .unwrap()
}

async fn on_roll(s: &Store, school: Uuid) -> Vec<learner::Model> {
    let mut all = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school))
        .all(&s.db)
        .await
        .unwrap();
    all.retain(|l| l.class_id.is_some() && codes::ON_ROLL.contains(&l.status.as_str()));
    all.sort_by_key(|l| l.id);
    all
}

async fn counts(s: &Store) -> (u64, u64) {
    (
        health_entry::Entity::find().count(&s.db).await.unwrap(),
        audit_event::Entity::find().count(&s.db).await.unwrap(),
    )
}

fn field_error(r: Result<impl std::fmt::Debug, Error>) -> FieldError {
    match r {
        Err(Error::Invalid(e)) => e,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn sex_of(l: &learner::Model) -> Sex {
    Sex::parse(&l.sex).unwrap()
}

fn input(date: &str, height: &str, weight: &str, notes: &str) -> CheckupInput {
    CheckupInput {
        kind: "Khám sức khỏe định kỳ".into(),
        date: date.into(),
        height_cm: height.into(),
        weight_kg: weight.into(),
        vision_right: "6/10".into(),
        vision_left: "1,0".into(),
        dental: "caries".into(),
        notes: notes.into(),
    }
}

both_backends!(
    checkups_are_encrypted_classified_and_never_audited,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let school = thcs(&s, &cipher).await;
        let l = on_roll(&s, school.id).await.remove(0);
        let notes = "Hay chảy máu cam XYZZY";
        let form = input("20/11/2026", "132,5", "41,7", notes);
        let before = counts(&s).await;
        let id = health::add_checkup(&s.db, &cipher, &sys(), l.id, &form, today())
            .await
            .unwrap();
        let after = counts(&s).await;
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));

        // Round trip, with the derived values core computes.
        let rec = health::record(&s.db, &cipher, l.id, &HealthPolicy::default())
            .await
            .unwrap();
        let c = rec.checkups.iter().find(|c| c.id == id).unwrap();
        assert_eq!(rec.checkups[0].id, id, "newest first");
        let expected = Checkup::parse(&form, l.date_of_birth, today())
            .unwrap()
            .bmi_for_age(sex_of(&l), l.date_of_birth)
            .unwrap();
        let b = c.bmi_for_age.as_ref().unwrap();
        assert_eq!(b.category, expected.category.code());
        assert_eq!(
            (b.age_months, b.bmi_tenths, b.z_hundredths),
            (expected.age_months, expected.bmi_tenths, expected.z_hundredths)
        );
        assert_eq!(c.bmi_tenths, Some(238), "41.7 kg / 1.325² m = 23.75… → 23.8");
        assert_eq!((c.height_mm, c.weight_hg), (Some(1325), Some(417)));
        assert_eq!((c.vision_right, c.vision_left), (Some(6), Some(10)));
        assert!(c.vision_flag, "6/10 is below the default 8/10");
        let lenient = HealthPolicy {
            vision_flag_below_tenths: 5,
        };
        let rec2 = health::record(&s.db, &cipher, l.id, &lenient).await.unwrap();
        assert!(!rec2.checkups.iter().find(|c| c.id == id).unwrap().vision_flag);
        assert_eq!(c.kind, "periodic");
        assert_eq!(c.dental.as_deref(), Some("caries"));
        assert_eq!(c.notes.as_deref(), Some(notes));
        assert_eq!(c.date, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());

        // At rest: ciphertext only, bound to its row.
        let row = health_entry::Entity::find_by_id(id)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.kind.as_str(), row.on_date), ("checkup", c.date));
        for secret in ["132", "1325", "41,7", "417", "XYZZY", "caries", "periodic"] {
            assert!(!row.data_enc.contains(secret), "{secret} in ciphertext");
        }
        assert!(
            cipher
                .decrypt(&format!("health_entries.data:{id}"), &row.data_enc)
                .is_ok()
        );
        assert!(
            cipher
                .decrypt(&format!("health_entries.data:{}", l.id), &row.data_enc)
                .is_err()
        );
        let other = truongso_store::testing::cipher();
        assert!(
            health::record(&s.db, &other, l.id, &HealthPolicy::default())
                .await
                .is_err()
        );

        // The audit event names the entry, its kind and date: no value.
        let events = audit::recent(&s.db, None, 10_000).await.unwrap();
        let ev = events.iter().find(|e| e.entity_id == id.to_string()).unwrap();
        assert_eq!(
            (ev.action.as_str(), ev.entity_type.as_str()),
            ("health.add", "health_entry")
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(ev.after.as_deref().unwrap()).unwrap(),
            serde_json::json!({ "kind": "checkup", "on_date": "2026-11-20" })
        );
        assert_eq!(ev.before, None);
        for e in &events {
            let text = format!("{:?} {:?}", e.before, e.after);
            for secret in ["XYZZY", "chảy máu", "caries"] {
                assert!(!text.contains(secret), "{secret} in audit event {}", e.seq);
            }
            // Short numbers can occur by chance in older events (ids, hashes): check this write's.
            if e.entity_id == id.to_string() {
                for secret in ["1325", "417", "132,5", "41,7", "periodic"] {
                    assert!(!text.contains(secret), "{secret} in audit event {}", e.seq);
                }
            }
        }

        // Deleting keeps kind and date in the chain, nothing else.
        health::delete_entry(&s.db, &sys(), id).await.unwrap();
        assert!(
            health_entry::Entity::find_by_id(id)
                .one(&s.db)
                .await
                .unwrap()
                .is_none()
        );
        let ev = audit::recent(&s.db, None, 1).await.unwrap().remove(0);
        assert_eq!((ev.action.as_str(), ev.after.as_deref()), ("health.delete", None));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(ev.before.as_deref().unwrap()).unwrap(),
            serde_json::json!({ "kind": "checkup", "on_date": "2026-11-20" })
        );
        assert!(matches!(
            health::delete_entry(&s.db, &sys(), id).await,
            Err(Error::NotFound(m)) if m.code == "unknown_health_entry"
        ));
        assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
    }
);

both_backends!(invalid_health_input_writes_nothing, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let school = thcs(&s, &cipher).await;
    let l = on_roll(&s, school.id).await.remove(0);
    let before = counts(&s).await;
    let checkup = |form: CheckupInput| {
        let (db, cipher) = (s.db.clone(), cipher.clone());
        async move { health::add_checkup(&db, &cipher, &sys(), l.id, &form, today()).await }
    };
    let e = field_error(checkup(input("20/11/2026", "abc", "41,7", "")).await);
    assert_eq!(e, FieldError::new("height_cm", DomainError::InvalidNumber));
    let e = field_error(checkup(input("20/11/2026", "250", "41,7", "")).await);
    assert_eq!(
        e,
        FieldError::new("height_cm", DomainError::OutOfRange { min: 40, max: 220 })
    );
    let e = field_error(checkup(input("20/11/2026", "132", "4,17,0", "")).await);
    assert_eq!(e.field, "weight_kg");
    let day_before_birth = (l.date_of_birth - chrono::Days::new(1))
        .format("%d/%m/%Y")
        .to_string();
    let e = field_error(checkup(input(&day_before_birth, "132", "41", "")).await);
    assert_eq!(e, FieldError::new("date", DomainError::DateRangeReversed));
    let e = field_error(checkup(input("24/11/2026", "132", "41", "")).await);
    assert_eq!(
        e,
        FieldError::new("date", DomainError::DateRangeReversed),
        "after today"
    );
    let e = field_error(checkup(input("31/02/2026", "132", "41", "")).await);
    assert_eq!(e, FieldError::new("date", DomainError::InvalidDate));
    let mut bad_vision = input("20/11/2026", "132", "41", "");
    bad_vision.vision_left = "1".into();
    let e = field_error(checkup(bad_vision).await);
    assert_eq!(e, FieldError::new("vision_left", DomainError::InvalidNumber));
    let mut bad_kind = input("20/11/2026", "132", "41", "");
    bad_kind.kind = "hằng tuần".into();
    assert_eq!(
        field_error(checkup(bad_kind).await),
        FieldError::new("kind", DomainError::UnknownCode)
    );

    let vacc = |names: &str, date: &str| {
        let (db, cipher, names, date) = (s.db.clone(), cipher.clone(), names.to_string(), date.to_string());
        async move { health::add_vaccination(&db, &cipher, &sys(), l.id, &names, &date, today()).await }
    };
    let long = "x".repeat(101);
    assert_eq!(
        field_error(vacc(&format!("BCG; {long}"), "01/10/2026").await),
        FieldError::new("name", DomainError::TooLong { max: 100 }),
        "one bad entry rejects the whole list"
    );
    assert_eq!(
        field_error(vacc(" ; ,", "01/10/2026").await),
        FieldError::new("name", DomainError::Required)
    );
    assert_eq!(
        field_error(vacc("BCG", "").await),
        FieldError::new("date", DomainError::Required)
    );
    assert_eq!(
        field_error(vacc("BCG", &day_before_birth).await),
        FieldError::new("date", DomainError::DateRangeReversed)
    );

    let cond = |kind: &str, detail: &str| {
        let (db, cipher, kind, detail) = (s.db.clone(), cipher.clone(), kind.to_string(), detail.to_string());
        async move { health::add_condition(&db, &cipher, &sys(), l.id, &kind, &detail, today()).await }
    };
    assert_eq!(
        field_error(cond("cảm cúm", "sốt").await),
        FieldError::new("kind", DomainError::UnknownCode)
    );
    assert_eq!(
        field_error(cond("allergy", "  ").await),
        FieldError::new("detail", DomainError::Required)
    );
    assert_eq!(counts(&s).await, before, "nothing written, nothing audited");

    // An unknown learner.
    let r = health::add_checkup(
        &s.db,
        &cipher,
        &sys(),
        Uuid::now_v7(),
        &input("20/11/2026", "132", "41", ""),
        today(),
    )
    .await;
    assert!(matches!(r, Err(Error::NotFound(m)) if m.code == "unknown_learner"));
    assert_eq!(counts(&s).await, before);
});

both_backends!(vaccinations_and_conditions_newest_first, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let school = thcs(&s, &cipher).await;
    let l = on_roll(&s, school.id).await.remove(0);
    let before = counts(&s).await;
    let ids = health::add_vaccination(
        &s.db,
        &cipher,
        &sys(),
        l.id,
        "bcg; viem gan b, VGB\nSởi - Rubella",
        "2026-10-01",
        today(),
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 3, "VGB is the same vaccine as viêm gan B");
    let later = health::add_vaccination(&s.db, &cipher, &sys(), l.id, "HPV", "15/11/2026", today())
        .await
        .unwrap();
    let allergy = health::add_condition(
        &s.db,
        &cipher,
        &sys(),
        l.id,
        "allergy",
        "Dị ứng  tôm, cua",
        today(),
    )
    .await
    .unwrap();
    let after = counts(&s).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (5, 5),
        "one event per entry"
    );
    let rec = health::record(&s.db, &cipher, l.id, &HealthPolicy::default())
        .await
        .unwrap();
    let names: Vec<&str> = rec.vaccinations.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names[0], "HPV");
    assert_eq!(rec.vaccinations[0].id, later[0]);
    let mut rest = names[1..].to_vec();
    rest.sort();
    assert_eq!(rest, vec!["BCG", "Sởi-Rubella", "Viêm gan B"]);
    assert_eq!(
        rec.vaccinations[1].date,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
    );
    assert_eq!(rec.conditions.len(), 1);
    assert_eq!(
        (
            rec.conditions[0].id,
            rec.conditions[0].kind.as_str(),
            rec.conditions[0].detail.as_str()
        ),
        (allergy, "allergy", "Dị ứng tôm, cua")
    );
    assert_eq!(rec.conditions[0].recorded_on, today());
    assert_eq!(rec.checkups.len(), 1, "the demo's check-up");
    let events = audit::recent(&s.db, None, 5).await.unwrap();
    for e in &events {
        let text = format!("{:?}", e.after);
        assert!(
            !text.contains("tôm") && !text.contains("HPV") && !text.contains("BCG"),
            "{text}"
        );
        assert!(text.contains("vaccination") || text.contains("condition"));
    }
    assert!(matches!(
        health::record(&s.db, &cipher, Uuid::now_v7(), &HealthPolicy::default()).await,
        Err(Error::NotFound(_))
    ));
});

both_backends!(
    demo_checkups_decrypt_and_the_nutrition_summary_adds_up,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let school = thcs(&s, &cipher).await;
        let learners = on_roll(&s, school.id).await;
        assert!(learners.len() >= 3, "{} learners", learners.len());
        // Hand computation: each learner's demo check-up, classified by core.
        let mut by_hand = std::collections::BTreeMap::<&str, u64>::new();
        let mut category_of = std::collections::HashMap::new();
        for l in &learners {
            let rec = health::record(&s.db, &cipher, l.id, &HealthPolicy::default())
                .await
                .unwrap();
            assert_eq!(rec.checkups.len(), 1, "the demo writes one check-up per learner");
            let c = &rec.checkups[0];
            assert_eq!(c.kind, "start_of_year");
            let (h, w) = (
                HeightMm::from_mm(c.height_mm.unwrap() as u32).unwrap(),
                WeightHg::from_tenths_kg(c.weight_hg.unwrap() as u32).unwrap(),
            );
            let core = bmi_for_age(sex_of(l), l.date_of_birth, c.date, h, w).unwrap();
            assert_eq!(c.bmi_for_age.as_ref().unwrap().category, core.category.code());
            *by_hand.entry(core.category.code()).or_default() += 1;
            category_of.insert(l.id, core.category);
        }
        let sum = health::nutrition_summary(&s.db, &cipher, school.id)
            .await
            .unwrap();
        assert_eq!(sum.learners_on_roll, learners.len() as u64);
        assert_eq!(sum.measured, learners.len() as u64);
        assert_eq!(sum.unclassified, 0);
        assert_eq!(
            sum.categories
                .iter()
                .map(|c| c.category.as_str())
                .collect::<Vec<_>>(),
            BmiCategory::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()
        );
        for c in &sum.categories {
            assert_eq!(
                c.learners,
                by_hand.get(c.category.as_str()).copied().unwrap_or(0),
                "{}",
                c.category
            );
        }
        assert!(sum.count(BmiCategory::Normal) > 0);

        // The latest measured check-up counts: an obese reading moves one learner; a later
        // check-up without measurements changes nothing.
        let l = learners
            .iter()
            .find(|l| category_of[&l.id] != BmiCategory::Obesity)
            .unwrap();
        let was = category_of[&l.id];
        let obese = input("20/11/2026", "140", "80", "");
        health::add_checkup(&s.db, &cipher, &sys(), l.id, &obese, today())
            .await
            .unwrap();
        let mut vision_only = input("22/11/2026", "", "", "");
        vision_only.vision_right = "9/10".into();
        health::add_checkup(&s.db, &cipher, &sys(), l.id, &vision_only, today())
            .await
            .unwrap();
        let rec = health::record(&s.db, &cipher, l.id, &HealthPolicy::default())
            .await
            .unwrap();
        assert_eq!(rec.checkups.len(), 3);
        assert_eq!(rec.checkups[0].bmi_for_age, None);
        assert_eq!(rec.checkups[0].bmi_tenths, None);
        assert_eq!(rec.checkups[1].bmi_for_age.as_ref().unwrap().category, "obesity");
        let after = health::nutrition_summary(&s.db, &cipher, school.id)
            .await
            .unwrap();
        assert_eq!(after.measured, sum.measured);
        assert_eq!(after.count(was), sum.count(was) - 1);
        assert_eq!(
            after.count(BmiCategory::Obesity),
            sum.count(BmiCategory::Obesity) + 1
        );

        // A learner who left is not counted.
        let mut gone: learner::ActiveModel = learners[1].clone().into();
        gone.status = Set(truongso_core::codes::COMPLETED_LEVEL.into());
        gone.update(&s.db).await.unwrap();
        let later = health::nutrition_summary(&s.db, &cipher, school.id)
            .await
            .unwrap();
        assert_eq!(later.learners_on_roll, sum.learners_on_roll - 1);
        assert_eq!(later.measured, sum.measured - 1);
    }
);

both_backends!(
    rooms_and_equipment_upserts_are_idempotent,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let school = thcs(&s, &cipher).await;
        let events = || async { audit_event::Entity::find().count(&s.db).await.unwrap() };
        let rooms = || async {
            room::Entity::find()
                .filter(room::Column::SchoolId.eq(school.id))
                .count(&s.db)
                .await
                .unwrap()
        };
        let (e0, r0) = (events().await, rooms().await);
        let lab = facilities::upsert_room(
            &s.db,
            &sys(),
            school.id,
            " Phòng  thí nghiệm 1 ",
            "subject_room",
            "Kiên cố",
            "60",
        )
        .await
        .unwrap();
        assert_eq!(
            (
                lab.name.as_str(),
                lab.kind.as_str(),
                lab.quality.as_str(),
                lab.area_m2
            ),
            ("Phòng thí nghiệm 1", "subject_room", "solid", Some(60))
        );
        assert_eq!((events().await, rooms().await), (e0 + 1, r0 + 1));
        let again = facilities::upsert_room(
            &s.db,
            &sys(),
            school.id,
            "Phòng thí nghiệm 1",
            "Phòng học bộ môn, phòng thí nghiệm",
            "solid",
            "60",
        )
        .await
        .unwrap();
        assert_eq!(again, lab);
        assert_eq!(
            (events().await, rooms().await),
            (e0 + 1, r0 + 1),
            "unchanged upsert: no row, no event"
        );
        let semi = facilities::upsert_room(
            &s.db,
            &sys(),
            school.id,
            "Phòng thí nghiệm 1",
            "subject_room",
            "ban kien co",
            "",
        )
        .await
        .unwrap();
        assert_eq!(
            (semi.id, semi.quality.as_str(), semi.area_m2),
            (lab.id, "semi_solid", None)
        );
        assert_eq!((events().await, rooms().await), (e0 + 2, r0 + 1));
        let ev = audit::recent(&s.db, None, 1).await.unwrap().remove(0);
        assert_eq!(
            (ev.action.as_str(), ev.entity_id.clone()),
            ("room.update", lab.id.to_string())
        );
        let before: serde_json::Value = serde_json::from_str(ev.before.as_deref().unwrap()).unwrap();
        let after: serde_json::Value = serde_json::from_str(ev.after.as_deref().unwrap()).unwrap();
        assert_eq!(
            (before["quality"].as_str(), before["area_m2"].as_i64()),
            (Some("solid"), Some(60))
        );
        assert_eq!(
            (after["quality"].as_str(), after["area_m2"].as_i64()),
            (Some("semi_solid"), None)
        );

        // Invalid room fields write nothing.
        let bad = |name: &'static str, kind: &'static str, quality: &'static str, area: &'static str| {
            let db = s.db.clone();
            let id = school.id;
            async move { facilities::upsert_room(&db, &sys(), id, name, kind, quality, area).await }
        };
        assert_eq!(
            field_error(bad("Bể bơi", "swimming_pool", "solid", "").await),
            FieldError::new("kind", DomainError::UnknownCode)
        );
        assert_eq!(
            field_error(bad("Bể bơi", "other", "tốt", "").await),
            FieldError::new("quality", DomainError::UnknownCode)
        );
        assert_eq!(
            field_error(bad("Bể bơi", "other", "solid", "abc").await),
            FieldError::new("area_m2", DomainError::InvalidNumber)
        );
        assert_eq!(
            field_error(bad("Bể bơi", "other", "solid", "0").await),
            FieldError::new("area_m2", DomainError::OutOfRange { min: 1, max: 100_000 })
        );
        assert_eq!(
            field_error(bad("  ", "other", "solid", "").await),
            FieldError::new("name", DomainError::Required)
        );
        assert_eq!((events().await, rooms().await), (e0 + 2, r0 + 1));

        // Deleting checks the school.
        let other_school = Uuid::now_v7();
        assert!(matches!(
            facilities::delete_room(&s.db, &sys(), other_school, lab.id).await,
            Err(Error::NotFound(m)) if m.code == "unknown_room"
        ));
        facilities::delete_room(&s.db, &sys(), school.id, lab.id)
            .await
            .unwrap();
        assert_eq!((events().await, rooms().await), (e0 + 3, r0));
        assert!(matches!(
            facilities::upsert_room(&s.db, &sys(), other_school, "X", "other", "solid", "").await,
            Err(Error::NotFound(_))
        ));

        // Equipment: one line per (code, condition).
        let lines = || async {
            equipment::Entity::find()
                .filter(equipment::Column::SchoolId.eq(school.id))
                .count(&s.db)
                .await
                .unwrap()
        };
        let (e1, q0) = (events().await, lines().await);
        let set = |quantity: &'static str, condition: &'static str| {
            let db = s.db.clone();
            let id = school.id;
            async move {
                facilities::set_equipment(
                    &db,
                    &sys(),
                    id,
                    "THCS6-KHTN-01",
                    "Kính lúp cầm tay",
                    "teaching",
                    Some("Khối 6"),
                    quantity,
                    condition,
                )
                .await
            }
        };
        let good = set("30", "Tốt").await.unwrap();
        assert_eq!(
            (good.grade, good.quantity, good.condition.as_str()),
            (Some(6), 30, "good")
        );
        assert_eq!(set("30", "good").await.unwrap(), good);
        assert_eq!((events().await, lines().await), (e1 + 1, q0 + 1));
        set("5", "Hỏng").await.unwrap();
        assert_eq!((events().await, lines().await), (e1 + 2, q0 + 2));
        let updated = set("32", "good").await.unwrap();
        assert_eq!((updated.id, updated.quantity), (good.id, 32));
        assert_eq!((events().await, lines().await), (e1 + 3, q0 + 2));
        assert_eq!(
            field_error(set("100001", "good").await),
            FieldError::new("quantity", DomainError::OutOfRange { min: 0, max: 100_000 })
        );
        assert_eq!(
            field_error(set("-1", "good").await),
            FieldError::new("quantity", DomainError::InvalidNumber)
        );
        assert_eq!(
            field_error(set("3", "mới").await),
            FieldError::new("condition", DomainError::UnknownCode)
        );
        let e = field_error(
            facilities::set_equipment(
                &s.db,
                &sys(),
                school.id,
                "A B",
                "X",
                "teaching",
                None,
                "1",
                "good",
            )
            .await,
        );
        assert_eq!(e, FieldError::new("code", DomainError::InvalidCharacters));
        let e = field_error(
            facilities::set_equipment(
                &s.db,
                &sys(),
                school.id,
                "A",
                "X",
                "teaching",
                Some("13"),
                "1",
                "good",
            )
            .await,
        );
        assert_eq!(
            e,
            FieldError::new("grade", DomainError::OutOfRange { min: 1, max: 12 })
        );
        assert_eq!((events().await, lines().await), (e1 + 3, q0 + 2));
        assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
    }
);

both_backends!(facts_ratio_and_shortfalls, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let school = thcs(&s, &cipher).await;
    let events = || async { audit_event::Entity::find().count(&s.db).await.unwrap() };
    let e0 = events().await;
    let facts =
        SchoolFacts::parse(&[("grid_power", "có"), ("clean_water", "x"), ("counselling", "1")]).unwrap();
    assert!(
        facilities::set_facts(&s.db, &sys(), school.id, &facts, "7")
            .await
            .unwrap()
    );
    assert!(
        !facilities::set_facts(&s.db, &sys(), school.id, &facts, " 7 ")
            .await
            .unwrap()
    );
    assert_eq!(events().await, e0 + 1, "an unchanged call writes no event");
    let ev = audit::recent(&s.db, None, 1).await.unwrap().remove(0);
    assert_eq!(ev.action, "facilities.update", "the demo set the facts first");
    let after: serde_json::Value = serde_json::from_str(ev.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["computers_teaching"], 7);
    assert_eq!(after["facts"]["counselling"], true);
    assert_eq!(after["facts"]["toilets"], false);
    assert_eq!(
        field_error(facilities::set_facts(&s.db, &sys(), school.id, &facts, "bảy").await),
        FieldError::new("computers_teaching", DomainError::InvalidNumber)
    );
    assert_eq!(events().await, e0 + 1);
    let stored = school_facility::Entity::find_by_id(school.id)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.computers_teaching, 7);

    // Two learners leave the roll: one completed, one without a class.
    let learners = on_roll(&s, school.id).await;
    let mut a: learner::ActiveModel = learners[0].clone().into();
    a.status = Set(truongso_core::codes::COMPLETED_LEVEL.into());
    a.update(&s.db).await.unwrap();
    let mut b: learner::ActiveModel = learners[1].clone().into();
    b.class_id = Set(None);
    b.update(&s.db).await.unwrap();
    let n = learners.len() as u32 - 2;
    assert_eq!(on_roll(&s, school.id).await.len() as u32, n);

    let o = facilities::overview(&s.db, school.id, today()).await.unwrap();
    assert_eq!(o.learners_on_roll, n);
    assert_eq!(o.computers_teaching, Some(7));
    assert_eq!(o.facts, facts);
    // n / 7 in tenths, half-up: (10·n + 3.5) / 7 = (20·n + 7) / 14.
    let ratio = o.learners_per_computer.unwrap();
    assert_eq!((ratio.numerator, ratio.denominator), (n, 7));
    assert_eq!(ratio.tenths, (20 * n + 7) / 14);
    let exact = n as f64 / 7.0;
    assert!((ratio.tenths as f64 / 10.0 - exact).abs() <= 0.05 + 1e-9);

    // Rooms counted by kind and quality.
    let total: u32 = o.room_counts.iter().map(|c| c.total).sum();
    assert_eq!(total as usize, o.rooms.len());
    for c in &o.room_counts {
        assert_eq!(c.total, c.solid + c.semi_solid + c.temporary);
        let of_kind = o.rooms.iter().filter(|r| r.kind == c.kind).count() as u32;
        assert_eq!(c.total, of_kind);
    }
    assert!(o.room_counts.iter().any(|c| c.kind == "computer_room"));

    // Shortfalls against the sample list for this year's classes.
    assert_eq!(o.school_year.as_deref(), Some("2026-2027"));
    let years = truongso_store::school_years::for_school(&s.db, school.id)
        .await
        .unwrap();
    let year = years.iter().find(|y| y.name == "2026-2027").unwrap();
    let list = classes::list(&s.db, &[school.id], Some(year.id)).await.unwrap();
    let grade6 = list.iter().filter(|c| c.grade == 6).count() as u32;
    assert!(grade6 > 0);
    assert!(
        o.classes_per_grade
            .iter()
            .any(|g| g.grade == 6 && g.classes == grade6)
    );
    let magnifiers =
        |o: &facilities::FacilitiesOverview| o.shortfalls.iter().find(|x| x.code == "THCS6-KHTN-01").cloned();
    let m = magnifiers(&o).unwrap();
    assert_eq!(
        (m.required, m.available, m.missing),
        (10 * grade6, 0, 10 * grade6)
    );
    let set = |quantity: String, condition: &'static str| {
        let db = s.db.clone();
        let id = school.id;
        async move {
            facilities::set_equipment(
                &db,
                &sys(),
                id,
                "THCS6-KHTN-01",
                "Kính lúp",
                "teaching",
                Some("6"),
                &quantity,
                condition,
            )
            .await
            .unwrap()
        }
    };
    set((10 * grade6 - 1).to_string(), "usable").await;
    set("50".into(), "broken").await;
    let o = facilities::overview(&s.db, school.id, today()).await.unwrap();
    let m = magnifiers(&o).unwrap();
    assert_eq!(
        (m.available, m.missing),
        (10 * grade6 - 1, 1),
        "broken units do not count"
    );
    set("1".into(), "good").await;
    let o = facilities::overview(&s.db, school.id, today()).await.unwrap();
    assert!(magnifiers(&o).is_none());
    assert!(
        o.shortfalls.iter().all(|x| x.grades == vec![6]),
        "a THCS school has no grade-1 classes"
    );

    // No computers: no ratio; no year in progress: no classes, no shortfalls.
    facilities::set_facts(&s.db, &sys(), school.id, &facts, "0")
        .await
        .unwrap();
    let summer = NaiveDate::from_ymd_opt(2030, 7, 1).unwrap();
    let o = facilities::overview(&s.db, school.id, summer).await.unwrap();
    assert_eq!(o.learners_per_computer, None);
    assert_eq!(o.school_year, None);
    assert!(o.classes_per_grade.is_empty() && o.shortfalls.is_empty());
});
