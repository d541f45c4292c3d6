//! Learners and guardians on both databases: validation, encryption at rest, diacritic-blind
//! search scoped to the org tree, status history, guardians across schools.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Statement};
use truongso_core::org::OrgKind;
use truongso_store::crypto::FieldCipher;
use truongso_store::people::{self, NewGuardian, NewLearner};
use truongso_store::{ActorRef, Error, Store, audit, both_backends, demo, org};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn sys() -> ActorRef {
    ActorRef::system("test")
}

fn an(school: uuid::Uuid) -> NewLearner {
    NewLearner {
        school_id: school,
        full_name: "Nguyễn Văn An".into(),
        date_of_birth: "02/03/2015".into(),
        sex: "Nam".into(),
        cccd: Some("008 215 000 123".into()),
        ethnicity: Some("Tày".into()),
        policy_codes: Some("08, 11".into()),
        boarding: Some("01".into()),
        moet_code: Some("0812345678".into()),
        ..Default::default()
    }
}

async fn two_schools(s: &Store) -> (org::OrgUnit, org::OrgUnit, org::OrgUnit) {
    demo::seed(s, &truongso_store::testing::cipher(), demo::DemoOptions::small(1))
        .await
        .unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    let schools = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap();
    (so, schools[0].clone(), schools[1].clone())
}

both_backends!(
    learners_are_validated_encrypted_and_searchable,
    |s: Store| async move {
        let cipher = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        let (so, a, b) = two_schools(&s).await;
        let l = people::create_learner(&s.db, &cipher, &sys(), an(a.id), today())
            .await
            .unwrap();
        assert_eq!(l.cccd.as_deref(), Some("008215000123"));
        assert_eq!(l.ethnicity.as_deref(), Some("02"));
        assert_eq!(l.policy_codes, vec!["08", "11"]);
        assert_eq!(l.nationality.as_deref(), Some("Việt Nam"));
        // An address recorded before the merger keeps its old province code.
        let mut old = an(a.id);
        old.full_name = "Giàng Thị Mỷ".into();
        old.sex = "Nữ".into();
        old.cccd = None;
        old.moet_code = None;
        old.province_code = Some("2".into());
        old.commune_code = Some("757".into());
        old.address_as_of = Some("01/09/2024".into());
        people::create_learner(&s.db, &cipher, &sys(), old, today())
            .await
            .unwrap();
        // At rest the number is ciphertext, in the table and in the audit chain.
        let row =
            s.db.query_one_raw(Statement::from_string(
                s.backend(),
                "SELECT cccd_enc FROM learners WHERE cccd_enc IS NOT NULL",
            ))
            .await
            .unwrap()
            .unwrap();
        let stored: String = row.try_get("", "cccd_enc").unwrap();
        assert!(stored.starts_with("v1:") && !stored.contains("008215000123"));
        let ev = audit::for_entity(&s.db, "learner", &l.id.to_string())
            .await
            .unwrap();
        assert!(!ev[0].after.as_deref().unwrap().contains("008215000123"));
        assert!(ev[0].after.as_deref().unwrap().contains("•••••••••123"));
        // Search without diacritics, scoped to the subtree.
        let found = people::search_learners(&s.db, std::slice::from_ref(&so.path), "nguyen van an", 10)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(
            people::search_learners(&s.db, std::slice::from_ref(&b.path), "nguyen van an", 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Duplicate identity numbers are found through the blind index, across schools.
        let mut twin = an(b.id);
        twin.moet_code = None;
        let t = people::create_learner(&s.db, &cipher, &sys(), twin, today())
            .await
            .unwrap();
        let same = people::with_same_cccd(&s.db, &cipher, "008215000123")
            .await
            .unwrap();
        assert_eq!(same.len(), 2);
        assert!(same.contains(&t.id));
    }
);

both_backends!(bad_learner_input_changes_nothing, |s: Store| async move {
    let cipher = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
    let (_, a, _) = two_schools(&s).await;
    let before = audit::count(&s.db).await.unwrap();
    let cases: Vec<(NewLearner, &str, &str)> = vec![
        (
            // Hà Giang's code after the 2025 merger: no longer in force.
            NewLearner {
                province_code: Some("02".into()),
                address_as_of: Some("05/09/2026".into()),
                ..an(a.id)
            },
            "province_code",
            "code_not_in_force",
        ),
        (
            NewLearner {
                commune_code: Some("12a45".into()),
                ..an(a.id)
            },
            "commune_code",
            "invalid_characters",
        ),
        (
            NewLearner {
                cccd: Some("108215000123".into()),
                ..an(a.id)
            },
            "cccd",
            "cccd_province",
        ),
        (
            NewLearner {
                cccd: Some("00821500012".into()),
                ..an(a.id)
            },
            "cccd",
            "invalid_cccd",
        ),
        (
            NewLearner {
                cccd: Some("008315000123".into()),
                ..an(a.id)
            },
            "cccd",
            "cccd_sex_mismatch",
        ),
        (
            NewLearner {
                cccd: Some("008214000123".into()),
                ..an(a.id)
            },
            "cccd",
            "cccd_birth_year_mismatch",
        ),
        (
            NewLearner {
                date_of_birth: "31/02/2015".into(),
                ..an(a.id)
            },
            "date_of_birth",
            "invalid_date",
        ),
        (
            NewLearner {
                date_of_birth: "01/01/2030".into(),
                ..an(a.id)
            },
            "date_of_birth",
            "invalid_date",
        ),
        (
            NewLearner {
                sex: "khác".into(),
                ..an(a.id)
            },
            "sex",
            "unknown_sex",
        ),
        (
            NewLearner {
                ethnicity: Some("Kinh Tày".into()),
                ..an(a.id)
            },
            "ethnicity",
            "unknown_code",
        ),
        (
            NewLearner {
                policy_codes: Some("08,99".into()),
                ..an(a.id)
            },
            "policy_codes",
            "unknown_code",
        ),
        (
            NewLearner {
                full_name: " ".into(),
                ..an(a.id)
            },
            "full_name",
            "required",
        ),
    ];
    for (input, field, code) in cases {
        match people::create_learner(&s.db, &cipher, &sys(), input, today()).await {
            Err(Error::Invalid(e)) => assert_eq!((e.field, e.error.code()), (field, code)),
            other => panic!("expected {field}/{code}, got {other:?}"),
        }
    }
    people::create_learner(&s.db, &cipher, &sys(), an(a.id), today())
        .await
        .unwrap();
    let dup = people::create_learner(&s.db, &cipher, &sys(), an(a.id), today()).await;
    assert!(matches!(dup, Err(Error::Conflict(m)) if m.code == "duplicate_moet_code"));
    assert_eq!(
        audit::count(&s.db).await.unwrap(),
        before + 1,
        "only the valid learner was written"
    );
});

both_backends!(status_history_and_guardians, |s: Store| async move {
    let cipher = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
    let (_, a, b) = two_schools(&s).await;
    let l = people::create_learner(&s.db, &cipher, &sys(), an(a.id), today())
        .await
        .unwrap();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    // Dropping out needs a reason.
    let no_reason = people::change_status(&s.db, &sys(), l.id, "05", d(2026, 12, 1), None, None).await;
    assert!(matches!(no_reason, Err(Error::Invalid(e)) if e.field == "reason_code"));
    people::change_status(
        &s.db,
        &sys(),
        l.id,
        "05",
        d(2026, 12, 1),
        Some("Hoàn cảnh gia đình khó khăn"),
        None,
    )
    .await
    .unwrap();
    let back = people::change_status(&s.db, &sys(), l.id, "07", d(2026, 11, 30), None, None).await;
    assert!(
        matches!(back, Err(Error::Invalid(e)) if e.field == "on_date"),
        "no entry before the last one"
    );
    people::change_status(
        &s.db,
        &sys(),
        l.id,
        "07",
        d(2027, 2, 1),
        None,
        Some("Đi học lại".into()),
    )
    .await
    .unwrap();
    let hist = people::status_history(&s.db, l.id).await.unwrap();
    assert_eq!(
        hist.iter().map(|h| h.status.as_str()).collect::<Vec<_>>(),
        vec!["01", "05", "07"]
    );
    assert_eq!(hist[1].reason_code.as_deref(), Some("01"));
    assert_eq!(
        people::get_learner(&s.db, &cipher, l.id).await.unwrap().status,
        "07"
    );
    // One mother, two children in two schools (found again by phone and name).
    let mut sibling = an(b.id);
    sibling.full_name = "Nguyễn Thị Bình".into();
    sibling.sex = "Nữ".into();
    sibling.cccd = Some("008318000777".into());
    sibling.date_of_birth = "2018-05-05".into();
    sibling.moet_code = None;
    let sib = people::create_learner(&s.db, &cipher, &sys(), sibling, today())
        .await
        .unwrap();
    let mother = || NewGuardian {
        full_name: "Hoàng Thị Mai".into(),
        phone: Some("0912 345 678".into()),
        ..Default::default()
    };
    let g1 = people::link_guardian(&s.db, &cipher, &sys(), l.id, "mother", mother())
        .await
        .unwrap();
    let g2 = people::link_guardian(&s.db, &cipher, &sys(), sib.id, "mother", mother())
        .await
        .unwrap();
    assert_eq!(g1, g2);
    let mut kids = people::children_of(&s.db, g1).await.unwrap();
    kids.sort();
    let mut expected = vec![l.id, sib.id];
    expected.sort();
    assert_eq!(kids, expected);
    let bad = people::link_guardian(&s.db, &cipher, &sys(), l.id, "aunt", mother()).await;
    assert!(matches!(bad, Err(Error::Invalid(e)) if e.field == "relation"));
    assert_eq!(audit::verify(&s.db).await.unwrap().first_break, None);
});

both_backends!(
    search_reads_names_in_order_up_to_the_limit,
    |s: Store| async move {
        let (so, a, _) = two_schools(&s).await;
        let all = people::search_learners(&s.db, std::slice::from_ref(&so.path), "nguyen", 1000)
            .await
            .unwrap();
        assert!(all.len() > 10, "{}", all.len());
        let folded: Vec<String> = all
            .iter()
            .map(|l| truongso_core::text::fold(&l.full_name))
            .collect();
        assert!(folded.iter().all(|n| n.contains("nguyen")));
        assert!(folded.windows(2).all(|w| w[0] <= w[1]), "ordered by name");
        // A limit stops early and keeps the first names in order; a school scope keeps its own.
        let first = people::search_learners(&s.db, std::slice::from_ref(&so.path), "nguyen", 7)
            .await
            .unwrap();
        assert_eq!(first.len(), 7);
        assert_eq!(
            first
                .iter()
                .map(|l| truongso_core::text::fold(&l.full_name))
                .collect::<Vec<_>>(),
            folded[..7].to_vec()
        );
        let mine = people::search_learners(&s.db, std::slice::from_ref(&a.path), "nguyen", 1000)
            .await
            .unwrap();
        assert!(mine.iter().all(|l| l.school_id == a.id));
        assert_eq!(mine.len(), all.iter().filter(|l| l.school_id == a.id).count());
    }
);
