//! The data-quality read model on both databases: known-bad records made through the real
//! store functions (and, where those refuse them, written directly as a legacy import would)
//! appear with the right rule and link; the office rollup lists every school and adds up.

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use std::collections::HashSet;
use truongso_core::org::OrgKind;
use truongso_core::quality::{Finding, QualityPolicy, Severity};
use truongso_store::classes::{self, ClassInput};
use truongso_store::crypto::FieldCipher;
use truongso_store::entity::{learner, staff as staff_entity};
use truongso_store::people::{self, NewGuardian, NewLearner};
use truongso_store::quality::{self, IssueRow, SchoolReport};
use truongso_store::staff::{self, NewStaff};
use truongso_store::{ActorRef, Store, both_backends, demo, org, school_years};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn sys() -> ActorRef {
    ActorRef::system("test")
}

fn kid(school: Uuid, name: &str, dob: &str, sex: &str, cccd: Option<&str>) -> NewLearner {
    NewLearner {
        school_id: school,
        full_name: name.into(),
        date_of_birth: dob.into(),
        sex: sex.into(),
        cccd: cccd.map(Into::into),
        ethnicity: Some("01".into()),
        ..Default::default()
    }
}

fn worker(code: &str, name: &str, group: &str, cccd: &str) -> NewStaff {
    NewStaff {
        staff_code: code.into(),
        full_name: name.into(),
        date_of_birth: "12/04/1988".into(),
        sex: "Nữ".into(),
        cccd: Some(cccd.into()),
        ethnicity: Some("Tày".into()),
        staff_group: group.into(),
        contract: "07".into(),
        main_subject: (group == "03").then(|| "Toán".into()),
        ..Default::default()
    }
}

/// Rule codes found for one record.
fn rules_of(r: &SchoolReport, id: Uuid) -> Vec<&str> {
    let mut v: Vec<&str> = r
        .issues
        .iter()
        .filter(|i| i.entity_id == id)
        .map(|i| i.rule.as_str())
        .collect();
    v.sort();
    v
}

fn issue<'a>(r: &'a SchoolReport, id: Uuid, rule: &str) -> &'a IssueRow {
    let found: Vec<&IssueRow> = r
        .issues
        .iter()
        .filter(|i| i.entity_id == id && i.rule == rule)
        .collect();
    assert_eq!(found.len(), 1, "{rule} for {id}: {found:?}");
    found[0]
}

/// A legacy row the validating store functions would refuse, written directly.
#[allow(clippy::too_many_arguments)]
async fn legacy_learner(
    s: &Store,
    cipher: &FieldCipher,
    school: Uuid,
    class_id: Option<Uuid>,
    name: &str,
    dob: NaiveDate,
    sex: &str,
    cccd: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    let now = truongso_store::now();
    learner::ActiveModel {
        id: Set(id),
        school_id: Set(school),
        full_name: Set(name.into()),
        name_folded: Set(truongso_core::text::fold(name)),
        date_of_birth: Set(dob),
        sex: Set(sex.into()),
        class_id: Set(class_id),
        created_at: Set(now),
        cccd_enc: Set(Some(cipher.encrypt(&format!("learners.cccd:{id}"), cccd))),
        cccd_index: Set(Some(cipher.blind_index("cccd", cccd))),
        ethnicity: Set(Some("01".into())),
        nationality: Set(Some("Việt Nam".into())),
        status: Set("01".into()),
        updated_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&s.db)
    .await
    .unwrap();
    id
}

both_backends!(
    known_bad_records_are_reported_and_rolled_up,
    |s: Store| async move {
        // One cipher seeds the demo and reads it back.
        let cipher = truongso_store::testing::cipher();
        demo::seed(&s, &cipher, demo::DemoOptions::small(3))
            .await
            .unwrap();
        let so = org::by_code(&s.db, "08").await.unwrap();
        let schools = org::in_subtree(&s.db, &so.path, Some(OrgKind::School))
            .await
            .unwrap();
        let a = schools
            .iter()
            .find(|u| u.is_current() && u.levels.as_ref().is_some_and(|l| l.to_stored() == "THCS"))
            .unwrap()
            .clone();
        let b = schools
            .iter()
            .find(|u| u.is_current() && u.id != a.id)
            .unwrap()
            .clone();
        let year = school_years::for_school(&s.db, a.id)
            .await
            .unwrap()
            .into_iter()
            .find(|y| y.name == "2026-2027")
            .unwrap();
        let class_6a1 = classes::list(&s.db, &[a.id], Some(year.id))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name == "6A1")
            .unwrap();
        let policy = QualityPolicy::default();
        let before = quality::school_report(&s.db, &cipher, a.id, &policy, today())
            .await
            .unwrap();
        assert_eq!(before.school_year.as_deref(), Some("2026-2027"));

        // 1. A girl whose CCCD carries the boys' century digit (2 instead of 3).
        let wrong_sex = legacy_learner(
            &s,
            &cipher,
            a.id,
            Some(class_6a1.id),
            "Bùi Thị Sai",
            NaiveDate::from_ymd_opt(2015, 3, 2).unwrap(),
            "female",
            "008215000111",
        )
        .await;
        // 2. One CCCD on two learners in two schools.
        let dup_a = people::create_learner(
            &s.db,
            &cipher,
            &sys(),
            kid(a.id, "Hoàng Văn Một", "05/05/2014", "Nam", Some("008214000222")),
            today(),
        )
        .await
        .unwrap()
        .id;
        let dup_b = people::create_learner(
            &s.db,
            &cipher,
            &sys(),
            kid(b.id, "Hoàng Văn Hai", "05/05/2014", "Nam", Some("008214000222")),
            today(),
        )
        .await
        .unwrap()
        .id;
        // 3. The same child entered in two schools: folded name, birth date and mother's phone
        // agree (the name typed without diacritics in the second school).
        let twin_a = people::create_learner(
            &s.db,
            &cipher,
            &sys(),
            kid(a.id, "Nông Thị Trùng", "03/02/2013", "Nữ", Some("008313000333")),
            today(),
        )
        .await
        .unwrap()
        .id;
        let twin_b = people::create_learner(
            &s.db,
            &cipher,
            &sys(),
            kid(b.id, "NONG THI TRUNG", "03/02/2013", "Nữ", Some("008313000444")),
            today(),
        )
        .await
        .unwrap()
        .id;
        for l in [twin_a, twin_b] {
            people::link_guardian(
                &s.db,
                &cipher,
                &sys(),
                l,
                "mother",
                NewGuardian {
                    full_name: "Nông Thị Mẹ".into(),
                    phone: Some("0912 345 678".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        // 4. A grade-9 class of 46 (THCS norm 45).
        let big = classes::create(
            &s.db,
            &sys(),
            year.id,
            ClassInput {
                grade: "9".into(),
                name: "9A9".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut big_members = vec![];
        for i in 0..46u32 {
            let mut k = kid(
                a.id,
                "Lò Văn Đông",
                &format!("{:02}/{:02}/2011", i % 28 + 1, i / 28 + 1),
                "Nam",
                Some(&format!("008211{:06}", 500 + i)),
            );
            k.class_id = Some(big.id);
            big_members.push(
                people::create_learner(&s.db, &cipher, &sys(), k, today())
                    .await
                    .unwrap()
                    .id,
            );
        }
        // 5. A teacher with no assignment this year; 6. a support worker untouched since 2025.
        let idle = staff::save(
            &s.db,
            &cipher,
            &sys(),
            a.id,
            &worker("QT-1", "Ma Thị Rảnh", "03", "008188000901"),
            today(),
        )
        .await
        .unwrap()
        .id;
        let stale_staff = staff::save(
            &s.db,
            &cipher,
            &sys(),
            a.id,
            &worker("QT-2", "Ma Thị Cũ", "02", "008188000902"),
            today(),
        )
        .await
        .unwrap()
        .id;
        let old = Utc.with_ymd_and_hms(2025, 6, 1, 3, 0, 0).unwrap();
        let mut am = staff_entity::Entity::find_by_id(stale_staff)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        am.updated_at = Set(old);
        am.update(&s.db).await.unwrap();
        // 7. A learner record last changed before the year began.
        let stale = people::create_learner(
            &s.db,
            &cipher,
            &sys(),
            kid(a.id, "Đinh Văn Cũ", "01/06/2014", "Nam", Some("008214000777")),
            today(),
        )
        .await
        .unwrap()
        .id;
        let mut am = learner::Entity::find_by_id(stale)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        am.updated_at = Set(Some(old));
        am.update(&s.db).await.unwrap();

        let r = quality::school_report(&s.db, &cipher, a.id, &policy, today())
            .await
            .unwrap();
        assert_eq!((r.school_id, r.school_name.as_str()), (a.id, a.name.as_str()));
        assert_eq!(r.learners, before.learners + 1 + 1 + 1 + 46 + 1);
        assert_eq!(r.classes, before.classes + 1);
        assert_eq!(r.staff, before.staff + 2);

        assert_eq!(rules_of(&r, wrong_sex), vec!["cccd_inconsistent"]);
        let i = issue(&r, wrong_sex, "cccd_inconsistent");
        assert_eq!(
            i.finding,
            Finding::CccdInconsistent {
                code: "cccd_sex_mismatch"
            }
        );
        assert_eq!(i.severity, Severity::Error);
        assert_eq!(i.href, format!("/learners/{wrong_sex}"));
        assert_eq!(i.name, "Bùi Thị Sai");

        assert_eq!(rules_of(&r, dup_a), vec!["duplicate_cccd"]);
        assert_eq!(
            issue(&r, dup_a, "duplicate_cccd").finding,
            Finding::DuplicateCccd { others: vec![dup_b] },
            "found across schools through the blind index"
        );
        assert_eq!(rules_of(&r, twin_a), vec!["likely_duplicate"]);
        let i = issue(&r, twin_a, "likely_duplicate");
        assert_eq!(i.finding, Finding::LikelyDuplicate { others: vec![twin_b] });
        assert_eq!(i.severity, Severity::Warning);
        assert_eq!(i.href, format!("/learners/{twin_a}"));

        assert_eq!(rules_of(&r, big.id), vec!["class_over_size"]);
        let i = issue(&r, big.id, "class_over_size");
        assert_eq!(
            i.finding,
            Finding::ClassOverSize {
                enrolled: 46,
                max: 45
            }
        );
        assert_eq!(
            (i.href.as_str(), i.name.as_str()),
            (format!("/classes/{}", big.id).as_str(), "9A9")
        );
        for m in &big_members {
            assert!(
                rules_of(&r, *m).is_empty(),
                "on age, complete: {:?}",
                rules_of(&r, *m)
            );
        }

        assert_eq!(rules_of(&r, idle), vec!["teacher_without_assignment"]);
        assert_eq!(
            issue(&r, idle, "teacher_without_assignment").href,
            format!("/staff/{idle}")
        );
        assert_eq!(rules_of(&r, stale_staff), vec!["not_updated_this_year"]);
        assert_eq!(rules_of(&r, stale), vec!["not_updated_this_year"]);
        assert_eq!(issue(&r, stale, "not_updated_this_year").name, "Đinh Văn Cũ");

        // Only the new problems were added to what the demo already had.
        let new_ids: HashSet<Uuid> = [wrong_sex, dup_a, twin_a, big.id, idle, stale_staff, stale].into();
        assert_eq!(
            r.issues.iter().filter(|i| new_ids.contains(&i.entity_id)).count(),
            7
        );
        assert_eq!(r.issues.len(), before.issues.len() + 7);
        assert_eq!(r.errors, before.errors + 2);
        // Errors first, then by name.
        assert!(r.issues.windows(2).all(|w| w[0].severity <= w[1].severity));
        let errors_sorted: Vec<String> = r
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| truongso_core::text::fold(&i.name))
            .collect();
        assert!(errors_sorted.windows(2).all(|w| w[0] <= w[1]));
        // Personal data minimised: no identity number anywhere in the report.
        let json = serde_json::to_string(&r).unwrap();
        for cccd in ["008215000111", "008214000222", "008313000333", "008214000777"] {
            assert!(!json.contains(cccd));
        }
        assert_eq!(
            r.completeness_permille,
            truongso_core::quality::completeness_permille(
                (r.learners + r.classes + r.staff) as usize,
                &r.issues
                    .iter()
                    .map(|i| truongso_core::quality::Issue {
                        entity: i.entity,
                        id: i.entity_id,
                        school_id: a.id,
                        finding: i.finding.clone(),
                    })
                    .collect::<Vec<_>>()
            )
        );

        // The other school sees its half of each pair.
        let rb = quality::school_report(&s.db, &cipher, b.id, &policy, today())
            .await
            .unwrap();
        assert_eq!(
            issue(&rb, dup_b, "duplicate_cccd").finding,
            Finding::DuplicateCccd { others: vec![dup_a] }
        );
        assert_eq!(
            issue(&rb, twin_b, "likely_duplicate").finding,
            Finding::LikelyDuplicate { others: vec![twin_a] }
        );

        // The Sở's rollup: every current school once, the same counts as the school reports,
        // totals and per-unit sums that add up, worst completeness first.
        let roll = quality::rollup(&s.db, &cipher, &so.path, &policy, today())
            .await
            .unwrap();
        assert_eq!(roll.root_id, so.id);
        let current: HashSet<Uuid> = schools.iter().filter(|u| u.is_current()).map(|u| u.id).collect();
        let listed: HashSet<Uuid> = roll.schools.iter().map(|s| s.school_id).collect();
        assert_eq!(listed, current);
        assert_eq!(roll.schools.len(), current.len());
        for (report, id) in [(&r, a.id), (&rb, b.id)] {
            let row = roll.schools.iter().find(|s| s.school_id == id).unwrap();
            assert_eq!(row.counts.learners, report.learners);
            assert_eq!(row.counts.errors, report.errors);
            assert_eq!(row.counts.warnings, report.warnings);
            assert_eq!(row.counts.completeness_permille, report.completeness_permille);
        }
        let sum =
            |f: fn(&quality::QualityCounts) -> u64| roll.schools.iter().map(|s| f(&s.counts)).sum::<u64>();
        assert_eq!(roll.totals.schools, current.len() as u64);
        assert_eq!(roll.totals.learners, sum(|c| c.learners));
        assert_eq!(roll.totals.errors, sum(|c| c.errors));
        assert_eq!(roll.totals.warnings, sum(|c| c.warnings));
        assert_eq!(roll.totals.records, sum(|c| c.records));
        assert_eq!(
            roll.totals.completeness_permille as u64,
            (roll.totals.records - roll.totals.records_with_errors) * 1000 / roll.totals.records
        );
        let unit_sum: u64 = roll.units.iter().map(|u| u.counts.learners).sum();
        assert_eq!(unit_sum, roll.totals.learners);
        assert_eq!(
            roll.units.iter().map(|u| u.counts.schools).sum::<u64>(),
            roll.totals.schools
        );
        // Schools of a commune are grouped under its office; schools under the Sở stand alone.
        let a_row = roll.schools.iter().find(|s| s.school_id == a.id).unwrap();
        assert_eq!(a_row.unit_id, Some(a.parent_id.unwrap()));
        assert!(roll.units.iter().any(|u| u.kind == "commune_office"));
        assert!(
            roll.schools
                .windows(2)
                .all(|w| w[0].counts.completeness_permille <= w[1].counts.completeness_permille)
        );
        assert!(
            roll.units
                .windows(2)
                .all(|w| w[0].counts.completeness_permille <= w[1].counts.completeness_permille)
        );
    }
);

/// `cargo nextest run -p truongso-store --test quality --run-ignored only`: the rollup of the
/// default demo province (12,000 learners) on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn rollup_time_on_the_default_demo() {
    let db = truongso_store::testing::fresh(truongso_store::testing::Backend::Sqlite).await;
    let cipher = truongso_store::testing::cipher();
    let t = std::time::Instant::now();
    demo::seed(
        &db.store,
        &cipher,
        demo::DemoOptions {
            seed: 1,
            learners: demo::DEFAULT_LEARNERS,
        },
    )
    .await
    .unwrap();
    let seeded = t.elapsed();
    let so = org::by_code(&db.store.db, "08").await.unwrap();
    let policy = QualityPolicy::default();
    let t = std::time::Instant::now();
    let roll = quality::rollup(&db.store.db, &cipher, &so.path, &policy, today())
        .await
        .unwrap();
    let took = t.elapsed();
    let school = roll.schools[0].school_id;
    let t = std::time::Instant::now();
    let one = quality::school_report(&db.store.db, &cipher, school, &policy, today())
        .await
        .unwrap();
    let one_took = t.elapsed();
    println!(
        "seed {seeded:?}; rollup of {} schools, {} learners: {took:?}, {} errors, {} warnings, {}‰; \
         one school report ({} learners): {one_took:?}",
        roll.totals.schools,
        roll.totals.learners,
        roll.totals.errors,
        roll.totals.warnings,
        roll.totals.completeness_permille,
        one.learners,
    );
    db.cleanup().await;
}
