//! Imports on both databases: whole-file validation with row and column, nothing written on
//! error, and idempotence (the same file twice changes nothing the second time).

use chrono::NaiveDate;
use sea_orm::{EntityTrait, PaginatorTrait};
use truongso_core::DomainError;
use truongso_core::org::OrgKind;
use truongso_store::entity::{guardian, learner};
use truongso_store::imports::{self, InRow, Problem};
use truongso_store::{ActorRef, Store, audit, both_backends, classes, demo, org, school_years};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn row(number: u32, cells: &[(&'static str, &str)]) -> InRow {
    InRow {
        number,
        cells: cells.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

fn quiet(_: u32, _: u32) {}

async fn thcs(s: &Store) -> org::OrgUnit {
    demo::seed(s, &truongso_store::testing::cipher(), demo::DemoOptions::small(5))
        .await
        .unwrap();
    let so = org::by_code(&s.db, "08").await.unwrap();
    org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.levels.as_ref().is_some_and(|l| l.to_stored() == "THCS"))
        .unwrap()
}

fn learner_rows() -> Vec<InRow> {
    vec![
        row(
            2,
            &[
                ("full_name", "Lò Văn Páo"),
                ("date_of_birth", "14/02/2014"),
                ("sex", "Nam"),
                ("cccd", "008214001234"),
                ("ethnicity", "Tày"),
                ("class_name", "7A1"),
                ("mother_name", "Lò Thị Mai"),
                ("mother_phone", "0912345678"),
            ],
        ),
        row(
            3,
            &[
                ("moet_code", "0899990001"),
                ("full_name", "Lò Thị Hoa"),
                ("date_of_birth", "01/09/2015"),
                ("sex", "Nữ"),
                ("class_name", "6a1"),
                ("mother_name", "Lò Thị Mai"),
                ("mother_phone", "0912345678"),
                ("father_name", "Lò Văn Sính"),
            ],
        ),
    ]
}

both_backends!(
    learner_import_validates_whole_file_and_is_idempotent,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        let school = thcs(&s).await;
        let clerk = ActorRef::system("clerk");
        let before = learner::Entity::find().count(&s.db).await.unwrap();
        let guardians_before = guardian::Entity::find().count(&s.db).await.unwrap();

        // One bad row spoils the file: errors name row and column, nothing is written.
        let mut bad = learner_rows();
        bad.push(row(
            4,
            &[
                ("full_name", "Hoàng Văn Sáu"),
                ("date_of_birth", "31/02/2014"),
                ("sex", "Nam"),
            ],
        ));
        bad.push(row(
            5,
            &[
                ("full_name", "Hoàng Văn Bảy"),
                ("date_of_birth", "01/01/2014"),
                ("sex", "Nam"),
                ("cccd", "999214001234"),
                ("class_name", "9Z9"),
            ],
        ));
        bad.push(row(
            6,
            &[
                ("full_name", "Lò Văn Páo"),
                ("date_of_birth", "14/02/2014"),
                ("sex", "Nam"),
                ("cccd", "008214001234"),
            ],
        ));
        let errors = imports::learners(&s.db, &cipher, &clerk, school.id, &bad, today(), &quiet)
            .await
            .unwrap()
            .unwrap_err();
        let got: Vec<(u32, &str, Problem)> =
            errors.iter().map(|e| (e.row, e.key, e.problem.clone())).collect();
        assert_eq!(
            got,
            vec![
                (4, "date_of_birth", Problem::Field(DomainError::InvalidDate)),
                (5, "cccd", Problem::Field(DomainError::CccdProvince)),
                (6, "cccd", Problem::Code("duplicate_in_file")),
            ]
        );
        assert_eq!(learner::Entity::find().count(&s.db).await.unwrap(), before);

        // An unknown class is reported too (the CCCD is now fine on row 5).
        let mut bad_class = learner_rows();
        bad_class.push(row(
            5,
            &[
                ("full_name", "Hoàng Văn Bảy"),
                ("date_of_birth", "01/01/2014"),
                ("sex", "Nam"),
                ("class_name", "9Z9"),
            ],
        ));
        let errors = imports::learners(&s.db, &cipher, &clerk, school.id, &bad_class, today(), &quiet)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!((errors[0].row, errors[0].key), (5, "class_name"));
        assert_eq!(errors[0].problem, Problem::Code("unknown_class"));

        // The fixed file imports; the two children share their mother.
        let events_before = audit::verify(&s.db).await.unwrap().checked;
        let report = imports::learners(
            &s.db,
            &cipher,
            &clerk,
            school.id,
            &learner_rows(),
            today(),
            &quiet,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((report.created, report.updated, report.unchanged), (2, 0, 0));
        assert_eq!(learner::Entity::find().count(&s.db).await.unwrap(), before + 2);
        assert_eq!(
            guardian::Entity::find().count(&s.db).await.unwrap(),
            guardians_before + 2
        );
        let year = school_years::current(&s.db, school.id, today())
            .await
            .unwrap()
            .unwrap();
        let list = classes::list(&s.db, &[school.id], Some(year.id)).await.unwrap();
        let six = list.iter().find(|c| c.name == "6A1").unwrap();
        assert!(
            classes::roster(&s.db, six.id)
                .await
                .unwrap()
                .iter()
                .any(|l| l.full_name == "Lò Thị Hoa")
        );
        let after_first = audit::verify(&s.db).await.unwrap();
        assert!(after_first.first_break.is_none());
        assert!(
            after_first.checked >= events_before + 5,
            "2 learners and 3 guardian links audited"
        );

        // The same file again changes nothing; a corrected name updates one record.
        let again = imports::learners(
            &s.db,
            &cipher,
            &clerk,
            school.id,
            &learner_rows(),
            today(),
            &quiet,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
        assert_eq!(audit::verify(&s.db).await.unwrap().checked, after_first.checked);
        let mut fixed = learner_rows();
        fixed[1].cells[1].1 = "Lò Thị Hòa".into();
        let third = imports::learners(&s.db, &cipher, &clerk, school.id, &fixed, today(), &quiet)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 1));
        // A class corrected the same day replaces the day's enrolment rather than adding one.
        let mut moved = fixed.clone();
        let class_cell = moved[0]
            .cells
            .iter_mut()
            .find(|(k, _)| *k == "class_name")
            .unwrap();
        class_cell.1 = "8A1".into();
        imports::learners(&s.db, &cipher, &clerk, school.id, &moved, today(), &quiet)
            .await
            .unwrap()
            .unwrap();
        let paw = learner::Entity::find()
            .all(&s.db)
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.full_name == "Lò Văn Páo")
            .unwrap();
        let h = classes::history(&s.db, paw.id).await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].class_name, "8A1");
    }
);

both_backends!(staff_classes_assignments_import, |s: Store| async move {
    let cipher = truongso_store::testing::cipher();
    let school = thcs(&s).await;
    let clerk = ActorRef::system("clerk");
    let staff_rows = vec![row(
        2,
        &[
            ("staff_code", "NV-100"),
            ("full_name", "Triệu Thị Lan"),
            ("date_of_birth", "03/05/1990"),
            ("sex", "Nữ"),
            ("staff_group", "03"),
            ("contract", "07"),
            ("main_subject", "Ngữ văn"),
        ],
    )];
    let r = imports::staff(&s.db, &cipher, &clerk, school.id, &staff_rows, today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.created, 1);
    let r = imports::staff(&s.db, &cipher, &clerk, school.id, &staff_rows, today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));

    let class_rows = vec![
        row(
            2,
            &[
                ("grade", "8"),
                ("name", "8A9"),
                ("homeroom_staff_code", "nv-100"),
                ("two_sessions", "có"),
            ],
        ),
        row(3, &[("grade", "12"), ("name", "12A1")]),
    ];
    let errors = imports::classes(&s.db, &clerk, school.id, &class_rows, today(), &quiet)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!((errors[0].row, errors[0].key), (3, "grade"));
    assert_eq!(errors[0].problem, Problem::Field(DomainError::GradeNotTaught));
    let r = imports::classes(&s.db, &clerk, school.id, &class_rows[..1], today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.created, 1);
    let r = imports::classes(&s.db, &clerk, school.id, &class_rows[..1], today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));

    let assignment_rows = vec![
        row(
            2,
            &[
                ("staff_code", "NV-100"),
                ("subject", "Ngữ văn"),
                ("class_name", "8A9"),
                ("term", "Cả năm"),
            ],
        ),
        row(
            3,
            &[
                ("staff_code", "NV-404"),
                ("subject", "Toán"),
                ("class_name", "8A9"),
                ("term", "HK1"),
            ],
        ),
    ];
    let errors = imports::assignments(&s.db, &clerk, school.id, &assignment_rows, today(), &quiet)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].row, errors[0].key), (3, "staff_code"));
    let r = imports::assignments(&s.db, &clerk, school.id, &assignment_rows[..1], today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.created, 1);
    let r = imports::assignments(&s.db, &clerk, school.id, &assignment_rows[..1], today(), &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));

    // Guardians of a learner already in the school.
    let l = learner::Entity::find()
        .all(&s.db)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.school_id == school.id)
        .unwrap();
    let dob = l.date_of_birth.format("%d/%m/%Y").to_string();
    let g_rows = vec![row(
        2,
        &[
            ("learner_full_name", l.full_name.as_str()),
            ("learner_date_of_birth", dob.as_str()),
            ("relation", "Người giám hộ"),
            ("full_name", "Ma Văn Tính"),
            ("phone", "0977000111"),
        ],
    )];
    let r = imports::guardians(&s.db, &cipher, &clerk, school.id, &g_rows, &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.created, 1);
    let r = imports::guardians(&s.db, &cipher, &clerk, school.id, &g_rows, &quiet)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));
    assert!(audit::verify(&s.db).await.unwrap().first_break.is_none());
});
