//! Table-driven test of the policy: every role on its natural scope × every action × targets
//! inside, beside and above that scope. The expected answers are written out by hand below,
//! one letter per target, so a change in policy shows up as a diff in this table.

use super::*;

struct Tree {
    p: OrgPath,  // province department (a root)
    c: OrgPath,  // commune office under P
    s: OrgPath,  // school under C
    t: OrgPath,  // satellite site of S
    s2: OrgPath, // another school under C
    q: OrgPath,  // another province (a root)
    class: Uuid,
    learner: Uuid,
}

fn tree() -> Tree {
    let id = |n: u128| Uuid::from_u128(n);
    let p = OrgPath::root(id(1));
    let c = p.child(id(2));
    let s = c.child(id(3));
    let t = s.child(id(4));
    let s2 = c.child(id(5));
    let q = OrgPath::root(id(6));
    Tree {
        p,
        c,
        s,
        t,
        s2,
        q,
        class: id(100),
        learner: id(200),
    }
}

fn actor(role: Role, scope: Scope) -> Actor {
    Actor {
        user_id: Uuid::from_u128(999),
        grants: vec![Grant::new(role, scope).unwrap()],
    }
}

/// (label, actor) for every role on the scope it is normally granted on.
fn actors(t: &Tree) -> Vec<(&'static str, Actor)> {
    let school = |r| actor(r, Scope::School { school: t.s.clone() });
    vec![
        (
            "admin@P",
            actor(Role::Admin, Scope::Subtree { root: t.p.clone() }),
        ),
        (
            "admin@S",
            actor(Role::Admin, Scope::Subtree { root: t.s.clone() }),
        ),
        (
            "officer@P",
            actor(Role::Officer, Scope::Subtree { root: t.p.clone() }),
        ),
        (
            "officer@C",
            actor(Role::Officer, Scope::Subtree { root: t.c.clone() }),
        ),
        ("principal@S", school(Role::Principal)),
        ("vice_principal@S", school(Role::VicePrincipal)),
        ("department_head@S", school(Role::DepartmentHead)),
        ("clerk@S", school(Role::Clerk)),
        ("accountant@S", school(Role::Accountant)),
        ("nurse@S", school(Role::Nurse)),
        ("librarian@S", school(Role::Librarian)),
        (
            "homeroom@K",
            actor(
                Role::HomeroomTeacher,
                Scope::Class {
                    school: t.s.clone(),
                    class_id: t.class,
                },
            ),
        ),
        (
            "subject@K",
            actor(
                Role::SubjectTeacher,
                Scope::ClassSubject {
                    school: t.s.clone(),
                    class_id: t.class,
                    subject: "toan".into(),
                },
            ),
        ),
        (
            "parent@L",
            actor(
                Role::Parent,
                Scope::Child {
                    school: t.s.clone(),
                    learner_id: t.learner,
                },
            ),
        ),
        (
            "student@L",
            actor(
                Role::Student,
                Scope::Child {
                    school: t.s.clone(),
                    learner_id: t.learner,
                },
            ),
        ),
    ]
}

/// Expected answers. Org targets in order P C S T S2 Q; accounts owned by S, P, S2, and one
/// owned by S that holds the administrator role of P; grants
/// [subject teacher in S, admin on S, officer on C, principal of S]; audit on the system.
const TABLE: &str = "
actor              view_org manage_org years  view_users manage_user grant audit own
admin@P            YYYYYN   YYYYYN     YYYYYN YYYYYN     YYYY        YYYY  Y     YYY
admin@S            NNYYNN   NNYYNN     NNYYNN NNYYNN     YNNN        YYNY  N     YYY
officer@P          YYYYYN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
officer@C          NYYYYN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
principal@S        NNYYNN   NNNNNN     NNYYNN NNYYNN     NNNN        YNNN  N     YYY
vice_principal@S   NNYYNN   NNNNNN     NNYYNN NNYYNN     NNNN        YNNN  N     YYY
department_head@S  NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
clerk@S            NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
accountant@S       NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
nurse@S            NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
librarian@S        NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
homeroom@K         NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
subject@K          NNYYNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
parent@L           NNNNNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
student@L          NNNNNN   NNNNNN     NNNNNN NNNNNN     NNNN        NNNN  N     YYY
";

fn answers(actor: &Actor, t: &Tree) -> String {
    let orgs = [&t.p, &t.c, &t.s, &t.t, &t.s2, &t.q];
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    let org_col = |action| {
        orgs.iter()
            .map(|o| yn(can(actor, action, Resource::OrgUnit(o))))
            .collect::<String>()
    };
    let admin_of_p = [Grant::new(Role::Admin, Scope::Subtree { root: t.p.clone() }).unwrap()];
    let owners: [(&OrgPath, &[Grant]); 4] = [(&t.s, &[]), (&t.p, &[]), (&t.s2, &[]), (&t.s, &admin_of_p)];
    let users: String = owners
        .iter()
        .map(|(o, g)| {
            yn(can(
                actor,
                Action::ManageUser,
                Resource::User { owner: o, grants: g },
            ))
        })
        .collect();
    let grants = [
        (
            Role::SubjectTeacher,
            Scope::ClassSubject {
                school: t.s.clone(),
                class_id: t.class,
                subject: "van".into(),
            },
        ),
        (Role::Admin, Scope::Subtree { root: t.s.clone() }),
        (Role::Officer, Scope::Subtree { root: t.c.clone() }),
        (Role::Principal, Scope::School { school: t.s.clone() }),
    ];
    let grant: String = grants
        .iter()
        .map(|(role, scope)| {
            yn(can(
                actor,
                Action::GrantRole,
                Resource::Grant { role: *role, scope },
            ))
        })
        .collect();
    let own: String = [
        Action::ViewOwn,
        Action::ChangeOwnPassword,
        Action::ManageOwnTokens,
    ]
    .into_iter()
    .map(|a| yn(can(actor, a, Resource::Own)))
    .collect();
    format!(
        "{} {} {} {} {} {} {} {}",
        org_col(Action::ViewOrgUnit),
        org_col(Action::ManageOrgUnit),
        org_col(Action::ManageSchoolYears),
        org_col(Action::ViewUsers),
        users,
        grant,
        yn(can(actor, Action::ViewAudit, Resource::System)),
        own
    )
}

#[test]
fn policy_matches_table() {
    let t = tree();
    let expected: Vec<(String, String)> = TABLE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("actor"))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let label = parts.next().unwrap().to_string();
            (label, parts.collect::<Vec<_>>().join(" "))
        })
        .collect();
    let all = actors(&t);
    assert_eq!(expected.len(), all.len(), "one table row per actor");
    // Every role appears in the table.
    for role in Role::ALL {
        assert!(
            all.iter().any(|(_, a)| a.has_role(role)),
            "{role:?} missing from the table"
        );
    }
    let mut mismatches = vec![];
    for ((label, a), (exp_label, exp)) in all.iter().zip(&expected) {
        assert_eq!(label, exp_label);
        let got = answers(a, &t);
        if &got != exp {
            mismatches.push(format!("{label}: expected {exp}, got {got}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn mismatched_action_and_resource_is_denied() {
    let t = tree();
    let admin = actor(Role::Admin, Scope::Subtree { root: t.p.clone() });
    assert!(!can(&admin, Action::ManageUser, Resource::OrgUnit(&t.s)));
    assert!(!can(&admin, Action::ViewOrgUnit, Resource::System));
    assert!(!can(&admin, Action::ViewAudit, Resource::OrgUnit(&t.p)));
    assert!(!can(&admin, Action::ViewOwn, Resource::OrgUnit(&t.p)));
}

#[test]
fn no_grants_can_only_act_on_self() {
    let t = tree();
    let nobody = Actor {
        user_id: Uuid::from_u128(1),
        grants: vec![],
    };
    for action in Action::ALL {
        for res in [
            Resource::OrgUnit(&t.p),
            Resource::User {
                owner: &t.s,
                grants: &[],
            },
            Resource::System,
        ] {
            assert!(!can(&nobody, action, res), "{action:?}");
        }
    }
    assert!(can(&nobody, Action::ViewOwn, Resource::Own));
}

#[test]
fn grants_must_match_scope_kind() {
    let t = tree();
    assert_eq!(
        Grant::new(Role::Principal, Scope::Subtree { root: t.p.clone() }),
        Err(DomainError::ScopeNotAllowedForRole)
    );
    assert!(
        Grant::new(
            Role::Parent,
            Scope::Child {
                school: t.s.clone(),
                learner_id: t.learner
            }
        )
        .is_ok()
    );
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Ok(role));
    }
    for kind in ScopeKind::ALL {
        assert_eq!(ScopeKind::parse(kind.as_str()), Ok(kind));
    }
}

#[test]
fn a_second_grant_widens_access() {
    let t = tree();
    let mut a = actor(Role::Officer, Scope::Subtree { root: t.c.clone() });
    assert!(!can(&a, Action::ManageOrgUnit, Resource::OrgUnit(&t.s2)));
    a.grants
        .push(Grant::new(Role::Admin, Scope::Subtree { root: t.s2.clone() }).unwrap());
    assert!(can(&a, Action::ManageOrgUnit, Resource::OrgUnit(&t.s2)));
    assert!(!can(&a, Action::ManageOrgUnit, Resource::OrgUnit(&t.s)));
}

/// Learner records: L is in class K of school S, L2 in another class of S, L3 in school S2.
/// Columns: view [L L2 L3], manage [L L2 L3], health [L L2 L3], manage health [L L2 L3].
const LEARNER_TABLE: &str = "
admin@P            YYY YYY NNN NNN
admin@S            YYN YYN NNN NNN
officer@P          YYY NNN NNN NNN
officer@C          YYY NNN NNN NNN
principal@S        YYN YYN YYN NNN
vice_principal@S   YYN YYN NNN NNN
department_head@S  YYN NNN NNN NNN
clerk@S            YYN YYN NNN NNN
accountant@S       YYN NNN NNN NNN
nurse@S            YYN NNN YYN YYN
librarian@S        YYN NNN NNN NNN
homeroom@K         YNN YNN YNN NNN
subject@K          YNN NNN NNN NNN
parent@L           YNN NNN YNN NNN
student@L          YNN NNN NNN NNN
";

#[test]
fn learner_records_follow_the_table() {
    let t = tree();
    let other_class = Uuid::from_u128(101);
    let learners = [
        (&t.s, Some(t.class), t.learner),
        (&t.s, Some(other_class), Uuid::from_u128(201)),
        (&t.s2, None, Uuid::from_u128(202)),
    ];
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    let expected: Vec<(String, String)> = LEARNER_TABLE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            (
                parts.next().unwrap().to_string(),
                parts.collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    let all = actors(&t);
    assert_eq!(expected.len(), all.len());
    let mut mismatches = vec![];
    for ((label, a), (exp_label, exp)) in all.iter().zip(&expected) {
        assert_eq!(label, exp_label);
        let col = |action| {
            learners
                .iter()
                .map(|(school, class_id, learner_id)| {
                    yn(can(
                        a,
                        action,
                        Resource::Learner {
                            school,
                            class_id: *class_id,
                            learner_id: *learner_id,
                        },
                    ))
                })
                .collect::<String>()
        };
        let got = format!(
            "{} {} {} {}",
            col(Action::ViewLearner),
            col(Action::ManageLearner),
            col(Action::ViewHealth),
            col(Action::ManageHealth)
        );
        if &got != exp {
            mismatches.push(format!("{label}: expected {exp}, got {got}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Helper for the tables below: label → expected answer string.
fn table(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            (
                parts.next().unwrap().to_string(),
                parts.collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

fn check_table(text: &str, got: impl Fn(&Actor) -> String) {
    let t = tree();
    let expected = table(text);
    let all = actors(&t);
    assert_eq!(expected.len(), all.len());
    let mismatches: Vec<String> = all
        .iter()
        .zip(&expected)
        .filter_map(|((label, a), (exp_label, exp))| {
            assert_eq!(label, exp_label);
            let g = got(a);
            (&g != exp).then(|| format!("{label}: expected {exp}, got {g}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Classes: K in school S (the homeroom and subject teachers' class), K2 another class of S,
/// K3 a class of S2. Columns: view [K K2 K3], manage [K K2 K3].
const CLASS_TABLE: &str = "
admin@P            YYY YYY
admin@S            YYN YYN
officer@P          YYY NNN
officer@C          YYY NNN
principal@S        YYN YYN
vice_principal@S   YYN YYN
department_head@S  YYN NNN
clerk@S            YYN YYN
accountant@S       YYN NNN
nurse@S            YYN NNN
librarian@S        YYN NNN
homeroom@K         YNN NNN
subject@K          YNN NNN
parent@L           NNN NNN
student@L          NNN NNN
";

#[test]
fn classes_follow_the_table() {
    let t = tree();
    let classes = [
        (&t.s, t.class),
        (&t.s, Uuid::from_u128(101)),
        (&t.s2, Uuid::from_u128(102)),
    ];
    check_table(CLASS_TABLE, |a| {
        let col = |action| {
            classes
                .iter()
                .map(|(school, class_id)| {
                    if can(
                        a,
                        action,
                        Resource::Class {
                            school,
                            class_id: *class_id,
                        },
                    ) {
                        'Y'
                    } else {
                        'N'
                    }
                })
                .collect::<String>()
        };
        format!("{} {}", col(Action::ViewClass), col(Action::ManageClass))
    });
}

/// School records on org units [P C S T S2 Q]. Columns: view staff, manage staff, view
/// facilities, manage facilities, import, data quality, view all classes.
const RECORDS_TABLE: &str = "
admin@P            YYYYYN YYYYYN YYYYYN YYYYYN YYYYYN YYYYYN YYYYYN
admin@S            NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN
officer@P          YYYYYN NNNNNN YYYYYN NNNNNN NNNNNN YYYYYN YYYYYN
officer@C          NYYYYN NNNNNN NYYYYN NNNNNN NNNNNN NYYYYN NYYYYN
principal@S        NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN
vice_principal@S   NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN
department_head@S  NNYYNN NNNNNN NNYYNN NNNNNN NNNNNN NNNNNN NNYYNN
clerk@S            NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN
accountant@S       NNNNNN NNNNNN NNYYNN NNNNNN NNNNNN NNNNNN NNYYNN
nurse@S            NNNNNN NNNNNN NNYYNN NNNNNN NNNNNN NNNNNN NNYYNN
librarian@S        NNNNNN NNNNNN NNYYNN NNNNNN NNNNNN NNNNNN NNYYNN
homeroom@K         NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
subject@K          NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
parent@L           NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
student@L          NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
";

#[test]
fn school_records_follow_the_table() {
    let t = tree();
    let orgs = [&t.p, &t.c, &t.s, &t.t, &t.s2, &t.q];
    check_table(RECORDS_TABLE, |a| {
        [
            Action::ViewStaff,
            Action::ManageStaff,
            Action::ViewFacilities,
            Action::ManageFacilities,
            Action::ImportRecords,
            Action::ViewQuality,
            Action::ViewClass,
        ]
        .into_iter()
        .map(|action| {
            orgs.iter()
                .map(|o| {
                    if can(a, action, Resource::OrgUnit(o)) {
                        'Y'
                    } else {
                        'N'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
    });
}

/// The gradebook. Class subjects [K·toán, K·ngữ văn, K2·toán, K3 of S2·toán]: view marks, enter
/// marks; classes [K K2 K3]: class summary, class results; learners [L L2 L3]: results;
/// org units [P C S T S2 Q]: manage the gradebook (locks, corrections, results).
const GRADEBOOK_TABLE: &str = "
admin@P            YYYY NNNN NNN YYY YYY NNNNNN
admin@S            YYYN NNNN NNN YYN YYN NNNNNN
officer@P          YYYY NNNN NNN YYY YYY NNNNNN
officer@C          YYYY NNNN NNN YYY YYY NNNNNN
principal@S        YYYN NNNN NNN YYN YYN NNYYNN
vice_principal@S   YYYN NNNN NNN YYN YYN NNYYNN
department_head@S  YYYN NNNN NNN YYN YYN NNNNNN
clerk@S            YYYN NNNN NNN YYN YYN NNNNNN
accountant@S       NNNN NNNN NNN NNN NNN NNNNNN
nurse@S            NNNN NNNN NNN NNN NNN NNNNNN
librarian@S        NNNN NNNN NNN NNN NNN NNNNNN
homeroom@K         YYNN NNNN YNN YNN YNN NNNNNN
subject@K          YYNN YNNN NNN YNN YNN NNNNNN
parent@L           NNNN NNNN NNN NNN YNN NNNNNN
student@L          NNNN NNNN NNN NNN YNN NNNNNN
";

#[test]
fn gradebook_follows_the_table() {
    let t = tree();
    let (k2, k3) = (Uuid::from_u128(101), Uuid::from_u128(102));
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    check_table(GRADEBOOK_TABLE, |a| {
        let subjects = [
            (&t.s, t.class, "toan"),
            (&t.s, t.class, "ngu_van"),
            (&t.s, k2, "toan"),
            (&t.s2, k3, "toan"),
        ];
        let cs = |action| {
            subjects
                .iter()
                .map(|(school, class_id, subject)| {
                    yn(can(
                        a,
                        action,
                        Resource::ClassSubject {
                            school,
                            class_id: *class_id,
                            subject,
                        },
                    ))
                })
                .collect::<String>()
        };
        let classes = [(&t.s, t.class), (&t.s, k2), (&t.s2, k3)];
        let cl = |action| {
            classes
                .iter()
                .map(|(school, class_id)| {
                    yn(can(
                        a,
                        action,
                        Resource::Class {
                            school,
                            class_id: *class_id,
                        },
                    ))
                })
                .collect::<String>()
        };
        let learners = [
            (&t.s, Some(t.class), t.learner),
            (&t.s, Some(k2), Uuid::from_u128(201)),
            (&t.s2, Some(k3), Uuid::from_u128(202)),
        ];
        let results: String = learners
            .iter()
            .map(|(school, class_id, learner_id)| {
                yn(can(
                    a,
                    Action::ViewResults,
                    Resource::Learner {
                        school,
                        class_id: *class_id,
                        learner_id: *learner_id,
                    },
                ))
            })
            .collect();
        let orgs: String = [&t.p, &t.c, &t.s, &t.t, &t.s2, &t.q]
            .iter()
            .map(|o| yn(can(a, Action::ManageGradebook, Resource::OrgUnit(o))))
            .collect();
        format!(
            "{} {} {} {} {} {}",
            cs(Action::ViewMarks),
            cs(Action::EnterMarks),
            cl(Action::SummariseClass),
            cl(Action::ViewResults),
            results,
            orgs
        )
    });
}

/// Signed documents. Documents [D1 = L in K issued, D2 = L in K still signing, D3 = L2 in K2
/// issued with the actor as K2's homeroom teacher of record, D4 = the same without, D5 = L3 in K3
/// of S2 issued with the actor of record]: view, sign as homeroom teacher. Org units
/// [P C S T S2 Q]: view statuses, sign as principal, apply the seal, open for issuing, revoke,
/// record a copy, manage signing identities, the diploma registry.
const CREDENTIALS_TABLE: &str = "
admin@P            YYYYY NNNNN YYYYYN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN YYYYYN YYYYYN
admin@S            YYYYN NNNNN NNYYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNYYNN NNYYNN
officer@P          YYYYY NNNNN YYYYYN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN YYYYYN
officer@C          YYYYY NNNNN NYYYYN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NYYYYN
principal@S        YYYYN NNYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNYYNN NNNNNN
vice_principal@S   YYYYN NNYNN NNYYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
department_head@S  NNYNN NNYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
clerk@S            YYYYN NNYNN NNYYNN NNNNNN NNYYNN NNYYNN NNNNNN NNYYNN NNNNNN NNNNNN
accountant@S       NNYNN NNYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
nurse@S            NNYNN NNYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
librarian@S        NNYNN NNYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
homeroom@K         YYYNN YYYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
subject@K          NNYNN NNYNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
parent@L           YNNNN NNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
student@L          YNNNN NNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN NNNNNN
";

#[test]
fn credentials_follow_the_table() {
    let t = tree();
    let (k2, k3) = (Uuid::from_u128(101), Uuid::from_u128(102));
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    check_table(CREDENTIALS_TABLE, |a| {
        let docs = [
            (&t.s, t.class, t.learner, true, false),
            (&t.s, t.class, t.learner, false, false),
            (&t.s, k2, Uuid::from_u128(201), true, true),
            (&t.s, k2, Uuid::from_u128(201), true, false),
            (&t.s2, k3, Uuid::from_u128(202), true, true),
        ];
        let dc = |action| {
            docs.iter()
                .map(|(issuer, class_id, learner_id, issued, of_record)| {
                    yn(can(
                        a,
                        action,
                        Resource::Credentials {
                            issuer,
                            class_id: Some(*class_id),
                            learner_id: Some(*learner_id),
                            issued: *issued,
                            homeroom_of_record: *of_record,
                        },
                    ))
                })
                .collect::<String>()
        };
        let org = |action| {
            [&t.p, &t.c, &t.s, &t.t, &t.s2, &t.q]
                .iter()
                .map(|o| yn(can(a, action, Resource::OrgUnit(o))))
                .collect::<String>()
        };
        [
            dc(Action::ViewCredentials),
            dc(Action::SignAsHomeroom),
            org(Action::ViewCredentials),
            org(Action::SignAsPrincipal),
            org(Action::ApplySeal),
            org(Action::IssueCredentials),
            org(Action::RevokeCredential),
            org(Action::CopyCredential),
            org(Action::ManageSigningIdentities),
            org(Action::ManageDiplomas),
        ]
        .join(" ")
    });
}

#[test]
fn a_class_page_is_not_a_family_document() {
    // The documents of a whole class (no learner) never open to a guardian, issued or not.
    let t = tree();
    let parent = actor(
        Role::Parent,
        Scope::Child {
            school: t.s.clone(),
            learner_id: t.learner,
        },
    );
    assert!(!can(
        &parent,
        Action::ViewCredentials,
        Resource::Credentials {
            issuer: &t.s,
            class_id: Some(t.class),
            learner_id: None,
            issued: true,
            homeroom_of_record: false,
        }
    ));
}

/// Statistics. Org units [P C S T S2 Q]: see forms and reports, submit a school's forms, manage
/// periods (open, approve, return, population tables).
const STATS_TABLE: &str = "
admin@P            YYYYYN NNNNNN YYYYYN
admin@S            NNYYNN NNNNNN NNYYNN
officer@P          YYYYYN NNNNNN YYYYYN
officer@C          NYYYYN NNNNNN NYYYYN
principal@S        NNYYNN NNYYNN NNNNNN
vice_principal@S   NNYYNN NNYYNN NNNNNN
department_head@S  NNNNNN NNNNNN NNNNNN
clerk@S            NNYYNN NNYYNN NNNNNN
accountant@S       NNNNNN NNNNNN NNNNNN
nurse@S            NNNNNN NNNNNN NNNNNN
librarian@S        NNNNNN NNNNNN NNNNNN
homeroom@K         NNNNNN NNNNNN NNNNNN
subject@K          NNNNNN NNNNNN NNNNNN
parent@L           NNNNNN NNNNNN NNNNNN
student@L          NNNNNN NNNNNN NNNNNN
";

#[test]
fn statistics_follow_the_table() {
    let t = tree();
    let yn = |b: bool| if b { 'Y' } else { 'N' };
    check_table(STATS_TABLE, |a| {
        let org = |action| {
            [&t.p, &t.c, &t.s, &t.t, &t.s2, &t.q]
                .iter()
                .map(|o| yn(can(a, action, Resource::OrgUnit(o))))
                .collect::<String>()
        };
        [
            org(Action::ViewStats),
            org(Action::SubmitStats),
            org(Action::ManageStats),
        ]
        .join(" ")
    });
}
