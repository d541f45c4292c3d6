//! Classes, enrolments, rollover, staff and teaching assignments on both databases.

use chrono::NaiveDate;
use std::collections::HashMap;
use truongso_core::DomainError;
use truongso_core::classes::YearOutcome;
use truongso_core::org::OrgKind;
use truongso_store::classes::{self, ClassInput};
use truongso_store::staff::{self, NewStaff};
use truongso_store::{ActorRef, Error, Store, accounts, audit, both_backends, demo, org, school_years};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn sys() -> ActorRef {
    ActorRef::system("test")
}

fn teacher(code: &str, name: &str) -> NewStaff {
    NewStaff {
        staff_code: code.into(),
        full_name: name.into(),
        date_of_birth: "12/04/1988".into(),
        sex: "Nữ".into(),
        cccd: Some("008188000321".into()),
        ethnicity: Some("Tày".into()),
        staff_group: "03".into(),
        contract: "07".into(),
        main_subject: Some("Toán".into()),
        periods_per_week: Some("17".into()),
        standard_rating: Some("Khá".into()),
        ..Default::default()
    }
}

/// A THCS school of the small demo and its two years (2025-2026, 2026-2027).
async fn thcs(s: &Store) -> (org::OrgUnit, Vec<school_years::SchoolYearRow>) {
    demo::seed(s, &truongso_store::testing::cipher(), demo::DemoOptions::small(3))
        .await
        .unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    let school = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.levels.as_ref().is_some_and(|l| l.to_stored() == "THCS"))
        .unwrap();
    let years = school_years::for_school(&s.db, school.id).await.unwrap();
    (school, years)
}

both_backends!(classes_are_validated_and_listed, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let (school, years) = thcs(&s).await;
    let y2025 = years.iter().find(|y| y.name == "2025-2026").unwrap();
    let t = staff::save(
        &s.db,
        &cipher,
        &sys(),
        school.id,
        &teacher("gv-901", "Ma Thị Hoa"),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(t.staff_code, "GV-901");
    assert_eq!(t.main_subject.as_deref(), Some("toan"));
    assert_eq!(t.standard_rating.as_deref(), Some("02"));
    let input = |grade: &str, name: &str| ClassInput {
        grade: grade.into(),
        name: name.into(),
        homeroom_staff_id: Some(t.id),
        two_sessions: true,
        capacity: Some("40".into()),
        ..Default::default()
    };
    let c = classes::create(&s.db, &sys(), y2025.id, input("Khối 8", " 8A5 "))
        .await
        .unwrap();
    assert_eq!((c.grade, c.name.as_str()), (8, "8A5"));
    assert_eq!(c.homeroom_name.as_deref(), Some("Ma Thị Hoa"));
    assert!(c.two_sessions && !c.multigrade);
    // A THCS school does not teach grade 3; names are unique in a year; capacity is bounded.
    match classes::create(&s.db, &sys(), y2025.id, input("3", "3A1")).await {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("grade", DomainError::GradeNotTaught)),
        other => panic!("{other:?}"),
    }
    match classes::create(&s.db, &sys(), y2025.id, input("8", "8A5")).await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "duplicate_class"),
        other => panic!("{other:?}"),
    }
    let mut big = input("8", "8A6");
    big.capacity = Some("150".into());
    match classes::create(&s.db, &sys(), y2025.id, big).await {
        Err(Error::Invalid(e)) => assert_eq!(e.error, DomainError::OutOfRange { min: 1, max: 100 }),
        other => panic!("{other:?}"),
    }
    // Staff of another school cannot be the homeroom teacher.
    let other_school = org::in_subtree(
        &s.db,
        &org::by_code(&s.db, "08").await.unwrap().path,
        Some(OrgKind::School),
    )
    .await
    .unwrap()
    .into_iter()
    .find(|u| u.id != school.id)
    .unwrap();
    let outsider = staff::save(
        &s.db,
        &cipher,
        &sys(),
        other_school.id,
        &teacher("X1", "Lê Văn Tám"),
        today(),
    )
    .await
    .unwrap();
    let mut wrong = input("8", "8A7");
    wrong.homeroom_staff_id = Some(outsider.id);
    match classes::create(&s.db, &sys(), y2025.id, wrong).await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "staff_of_other_school"),
        other => panic!("{other:?}"),
    }
    // Last year's classes of the demo (one grade below this year's 7A1, 8A1, 9A1) and the new one.
    let listed = classes::list(&s.db, &[school.id], Some(y2025.id)).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["6A1", "7A1", "8A1", "8A5"]
    );
    // The demo's current-year classes carry roll counts.
    let y2026 = years.iter().find(|y| y.name == "2026-2027").unwrap();
    let current = classes::list(&s.db, &[school.id], Some(y2026.id)).await.unwrap();
    assert!(
        current
            .iter()
            .all(|c| c.learners > 0 && c.homeroom_name.is_some())
    );
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});

both_backends!(moves_keep_history_and_rollover_promotes, |s: Store| async move {
    let (school, years) = thcs(&s).await;
    let y2026 = years.iter().find(|y| y.name == "2026-2027").unwrap();
    let current = classes::list(&s.db, &[school.id], Some(y2026.id)).await.unwrap();
    let six = current.iter().find(|c| c.name == "6A1").unwrap();
    let nine = current.iter().find(|c| c.grade == 9).unwrap();
    let seven = current.iter().find(|c| c.grade == 7).unwrap();
    let roster = classes::roster(&s.db, six.id).await.unwrap();
    let mover = roster[0].id;
    // Move to 7th grade's class mid-year (unusual, but the history must show it).
    let on = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    classes::enrol(&s.db, &sys(), mover, seven.id, on, "moved")
        .await
        .unwrap();
    match classes::enrol(&s.db, &sys(), mover, six.id, on.pred_opt().unwrap(), "moved").await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "on_date"),
        other => panic!("{other:?}"),
    }
    let h = classes::history(&s.db, mover).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].class_name, "6A1");
    assert_eq!(h[0].to_date, NaiveDate::from_ymd_opt(2026, 9, 30));
    assert_eq!(
        (h[1].class_name.as_str(), h[1].from_date, h[1].to_date),
        ("7A1", on, None)
    );
    assert_eq!(
        classes::get(&s.db, six.id).await.unwrap().learners,
        six.learners - 1
    );

    // Roll over into a new year: one repeater from 6A1, everyone else by default promoted;
    // ninth graders complete the level.
    let next = school_years::create(
        &s.db,
        &sys(),
        school.id,
        &truongso_core::school_year::YearCalendar::typical(
            truongso_core::school_year::SchoolYear::from_start(2027),
        ),
    )
    .await
    .unwrap();
    let repeater = roster[1].id;
    let outcomes = HashMap::from([(repeater, YearOutcome::Repeat)]);
    let report = classes::rollover(&s.db, &sys(), y2026.id, next.id, &outcomes, YearOutcome::Promote)
        .await
        .unwrap();
    let total: i64 = current.iter().map(|c| c.learners).sum();
    assert_eq!(
        i64::from(report.promoted + report.repeated + report.completed),
        total
    );
    assert_eq!(report.repeated, 1);
    assert_eq!(i64::from(report.completed), nine.learners);
    assert_eq!(report.by_default, report.promoted + report.completed);
    let new_classes = classes::list(&s.db, &[school.id], Some(next.id)).await.unwrap();
    let names: Vec<&str> = new_classes.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"7A1") && names.contains(&"6A1") && !names.iter().any(|n| n.starts_with("10")));
    let h = classes::history(&s.db, repeater).await.unwrap();
    assert_eq!(h.last().unwrap().reason, "repeated");
    assert_eq!(h.last().unwrap().class_name, "6A1");
    assert_eq!(h.last().unwrap().school_year, "2027-2028");
    let ninth = classes::roster(&s.db, nine.id).await.unwrap();
    assert!(ninth.is_empty(), "completed learners leave the roll");
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});

both_backends!(assignments_follow_accounts, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let (school, years) = thcs(&s).await;
    let y2026 = years.iter().find(|y| y.name == "2026-2027").unwrap();
    let current = classes::list(&s.db, &[school.id], Some(y2026.id)).await.unwrap();
    let c = current.iter().find(|c| c.name == "7A1").unwrap();
    let t = staff::save(
        &s.db,
        &cipher,
        &sys(),
        school.id,
        &teacher("GV-777", "Hoàng Văn Quý"),
        today(),
    )
    .await
    .unwrap();
    let u = accounts::by_username(&s.db, "gvbm.thcs").await.unwrap().unwrap();
    // The demo links gvbm.thcs to another record; unlink it there, link it here.
    for row in staff::list(&s.db, std::slice::from_ref(&school.path), "", 500)
        .await
        .unwrap()
    {
        if row.user_id == Some(u.id) {
            staff::link_user(&s.db, &sys(), row.id, None).await.unwrap();
        }
    }
    staff::link_user(&s.db, &sys(), t.id, Some(u.id)).await.unwrap();
    let grants_before = accounts::grants_of(&s.db, u.id).await.unwrap().len();
    // 7A1's mathematics is taught by someone for the whole year already.
    match staff::assign(&s.db, &sys(), c.id, t.id, "Toán", "HK1").await {
        Err(Error::Conflict(m)) => assert_eq!(m.code, "subject_already_assigned"),
        other => panic!("{other:?}"),
    }
    let a = staff::assign(&s.db, &sys(), c.id, t.id, "Tin học", "Cả năm").await;
    let a = match a {
        Ok(id) => id,
        Err(Error::Conflict(_)) => {
            // The demo assigned Tin học too: free it first.
            let existing = staff::assignments(&s.db, Some(&[c.id]), None).await.unwrap();
            let tin = existing.iter().find(|x| x.subject == "tin_hoc").unwrap();
            staff::unassign(&s.db, &sys(), tin.id).await.unwrap();
            staff::assign(&s.db, &sys(), c.id, t.id, "Tin học", "Cả năm")
                .await
                .unwrap()
        }
        Err(e) => panic!("{e:?}"),
    };
    let grants = accounts::grants_of(&s.db, u.id).await.unwrap();
    assert_eq!(grants.len(), grants_before + 1);
    assert!(
        grants
            .iter()
            .any(|g| g.class_id == Some(c.id) && g.subject.as_deref() == Some("tin_hoc"))
    );
    // The same assignment again changes nothing; an unknown subject or term is a field error.
    assert_eq!(
        staff::assign(&s.db, &sys(), c.id, t.id, "tin_hoc", "CN")
            .await
            .unwrap(),
        a
    );
    match staff::assign(&s.db, &sys(), c.id, t.id, "Thiên văn", "CN").await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "subject"),
        other => panic!("{other:?}"),
    }
    match staff::assign(&s.db, &sys(), c.id, t.id, "tin_hoc", "HK3").await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "term"),
        other => panic!("{other:?}"),
    }
    staff::unassign(&s.db, &sys(), a).await.unwrap();
    assert_eq!(
        accounts::grants_of(&s.db, u.id).await.unwrap().len(),
        grants_before
    );
    // Staff validation: a CCCD whose sex digit disagrees, an age outside working life.
    let mut bad = teacher("GV-778", "Đinh Thị Lan");
    bad.sex = "Nam".into();
    match staff::save(&s.db, &cipher, &sys(), school.id, &bad, today()).await {
        Err(Error::Invalid(e)) => assert_eq!((e.field, e.error), ("cccd", DomainError::CccdSexMismatch)),
        other => panic!("{other:?}"),
    }
    let mut young = teacher("GV-779", "Đinh Thị Lan");
    young.date_of_birth = "01/01/2015".into();
    young.cccd = None;
    match staff::save(&s.db, &cipher, &sys(), school.id, &young, today()).await {
        Err(Error::Invalid(e)) => assert_eq!(e.field, "date_of_birth"),
        other => panic!("{other:?}"),
    }
    // Saving the same record twice changes nothing the second time.
    let events = audit::recent(&s.db, None, 1000).await.unwrap().len();
    staff::save(
        &s.db,
        &cipher,
        &sys(),
        school.id,
        &teacher("GV-777", "Hoàng Văn Quý"),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(audit::recent(&s.db, None, 1000).await.unwrap().len(), events);
});
