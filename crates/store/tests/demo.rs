//! The demo province on both databases: realistic shape, every role, deterministic, reusable.

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
    let first = demo::seed(&s, 7).await.unwrap();
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
    // The chain over everything the demo wrote is intact.
    assert_eq!(audit::verify(&s.db).await.unwrap().first_break, None);
    // Seeding again reuses the data.
    let again = demo::seed(&s, 7).await.unwrap();
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
    demo::seed(&a.store, 42).await.unwrap();
    demo::seed(&b.store, 42).await.unwrap();
    demo::seed(&c.store, 43).await.unwrap();
    assert_eq!(names(&a.store).await, names(&b.store).await);
    assert_ne!(names(&a.store).await, names(&c.store).await);
    a.cleanup().await;
    b.cleanup().await;
    c.cleanup().await;
}
