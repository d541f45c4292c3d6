//! The demo province on both databases: realistic shape, every role, deterministic, reusable.

use sea_orm::{ConnectionTrait, Statement};
use std::collections::BTreeSet;
use truongso_core::auth::Role;
use truongso_core::org::{OrgKind, SchoolLevel};
use truongso_store::{Store, audit, both_backends, demo, org};

async fn names(s: &Store) -> Vec<String> {
    let mut out = vec![];
    for root in org::roots(&s.db).await.unwrap() {
        for u in org::in_subtree(&s.db, &root.path, None).await.unwrap() {
            out.push(format!(
                "{}|{}|{:?}|{:?}",
                u.kind.as_str(),
                u.name,
                u.code,
                u.valid_to
            ));
        }
    }
    out.sort();
    out
}

both_backends!(demo_province, |s: Store| async move {
    let first = demo::seed(
        &s,
        &truongso_store::testing::cipher(),
        demo::DemoOptions::small(7),
    )
    .await
    .unwrap();
    assert!(first.created);
    assert!(first.schools >= 30, "{} schools", first.schools);
    let roots = org::roots(&s.db).await.unwrap();
    let so = roots.iter().find(|r| r.is_current()).unwrap();
    assert_eq!(
        roots.iter().filter(|r| r.is_current()).count(),
        1,
        "one Sở in force"
    );
    let units = org::in_subtree(&s.db, &so.path, None).await.unwrap();
    let current = |k| units.iter().filter(|u| u.kind == k && u.is_current()).count();
    assert!(current(OrgKind::CommuneOffice) >= 3);
    assert!(current(OrgKind::SatelliteSite) >= 1);
    assert!(
        units
            .iter()
            .any(|u| u.kind == OrgKind::DistrictOffice && !u.is_current()),
        "a dissolved district office"
    );
    let levels: BTreeSet<SchoolLevel> = units
        .iter()
        .filter_map(|u| u.levels.as_ref())
        .flat_map(|l| l.levels().to_vec())
        .collect();
    assert_eq!(levels.len(), 5, "every level is present: {levels:?}");
    assert!(
        units
            .iter()
            .any(|u| u.levels.as_ref().is_some_and(|l| l.is_multi_level()))
    );
    // Every role has a login.
    let roles: BTreeSet<String> = first.accounts.iter().map(|a| a.role.clone()).collect();
    for r in Role::ALL {
        assert!(roles.contains(r.as_str()), "no demo account for {r:?}");
    }
    // School records at the requested scale, with their links.
    assert!(
        (350..=520).contains(&first.learners),
        "{} learners",
        first.learners
    );
    let count = |sql: &'static str| {
        let s = s.clone();
        async move {
            let row =
                s.db.query_one_raw(Statement::from_string(s.backend(), sql))
                    .await
                    .unwrap()
                    .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM classes WHERE homeroom_staff_id IS NULL").await,
        0
    );
    assert!(count("SELECT COUNT(*) FROM teaching_assignments").await > 100);
    assert_eq!(
        count("SELECT COUNT(*) FROM learners l WHERE NOT EXISTS (SELECT 1 FROM class_enrolments e WHERE e.learner_id = l.id)").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM health_entries").await,
        i64::try_from(first.learners).unwrap()
    );
    assert!(
        count(
            "SELECT COUNT(*) FROM (SELECT lg.guardian_id FROM learner_guardians lg JOIN learners l ON l.id = lg.learner_id \
             GROUP BY lg.guardian_id HAVING COUNT(DISTINCT l.school_id) > 1) x"
        )
        .await
            > 0,
        "some guardian has children in two schools"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM staff WHERE user_id IS NOT NULL").await,
        3
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM guardians WHERE user_id IS NOT NULL").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM school_facilities").await,
        i64::try_from(first.schools).unwrap()
    );
    // The chain over everything the demo wrote is intact.
    assert_eq!(audit::verify(&s.db).await.unwrap().first_break, None);
    // Seeding again reuses the data.
    let again = demo::seed(
        &s,
        &truongso_store::testing::cipher(),
        demo::DemoOptions::small(7),
    )
    .await
    .unwrap();
    assert!(!again.created);
    assert_eq!(again.schools, first.schools);
    assert_eq!(again.accounts.len(), first.accounts.len());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_is_deterministic_for_a_seed() {
    use truongso_store::testing::{Backend, fresh};
    let a = fresh(Backend::Sqlite).await;
    let b = fresh(Backend::Sqlite).await;
    let c = fresh(Backend::Sqlite).await;
    demo::seed(
        &a.store,
        &truongso_store::testing::cipher(),
        demo::DemoOptions::small(42),
    )
    .await
    .unwrap();
    demo::seed(
        &b.store,
        &truongso_store::testing::cipher(),
        demo::DemoOptions::small(42),
    )
    .await
    .unwrap();
    demo::seed(
        &c.store,
        &truongso_store::testing::cipher(),
        demo::DemoOptions::small(43),
    )
    .await
    .unwrap();
    assert_eq!(names(&a.store).await, names(&b.store).await);
    assert_ne!(names(&a.store).await, names(&c.store).await);
    a.cleanup().await;
    b.cleanup().await;
    c.cleanup().await;
}
