//! Every route × every role: each demo account (one per role, on its natural scope) calls every
//! route that exists, on targets inside and outside its scope. The expected answer comes from
//! `core::auth::can` (itself table-tested in core); this test proves each handler enforces the
//! action it declares. Anonymous callers are refused everywhere but public routes.

mod common;
#[path = "authz/credentials.rs"]
mod credentials_cases;
#[path = "authz/facilities.rs"]
mod facilities_cases;
#[path = "authz/gradebook.rs"]
mod gradebook_cases;
#[path = "authz/health.rs"]
mod health_cases;
#[path = "authz/quality.rs"]
mod quality_cases;
#[path = "authz/stats.rs"]
mod stats_cases;
#[path = "authz/stats_reports.rs"]
mod stats_reports_cases;

use common::TestApp;
use serde_json::json;
use truongso_core::auth::{Action, Actor, Grant, Resource, Role, Scope};
use truongso_core::org::{OrgKind, OrgPath};
use truongso_store::accounts::{self, GrantSpec};
use truongso_store::demo::DEMO_USERNAMES;
use truongso_store::{ActorRef, org};
use truongso_web::routes::{Access, build};
use uuid::Uuid;

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(serde_json::Value),
}

/// Grants currently held by the target accounts (they change as the test grants and revokes).
struct Held(std::collections::HashMap<Uuid, Vec<Grant>>);

impl Held {
    fn of(&self, id: Uuid) -> &[Grant] {
        self.0.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }
}

type Expect = Box<dyn Fn(&Actor, &Held) -> bool>;

struct Case {
    method: &'static str,
    route: &'static str,
    path: String,
    body: Body,
    /// Create a fresh librarian grant on the target user first and substitute its id for `{gid}`.
    fresh_grant: bool,
    expect: Expect,
}

struct Targets {
    p: OrgPath,
    s: OrgPath,
    s2: OrgPath,
    s_id: Uuid,
    s2_id: Uuid,
    p_id: Uuid,
    s_code: String,
    /// The current parent of S and of S2 (P has none).
    s_parent: OrgPath,
    s2_parent: OrgPath,
    user_s: Uuid,
    user_p: Uuid,
    /// Owned by the school but administrator of the Sở: only the Sở's administrators may manage it.
    user_esc: Uuid,
    /// The demo class 6A1 of S, its learner linked to the demo parent, and a classmate.
    class_k: Uuid,
    child: Uuid,
    classmate: Uuid,
    /// The school year of K and K's homeroom teacher (a staff record of S).
    year_k: Uuid,
    staff_s: Uuid,
    /// Two học bạ of K's learner (the child): one issued, one waiting for its homeroom teacher,
    /// who is `homeroom_user` (K's homeroom staff record is linked to that account).
    doc_issued: String,
    doc_signing: String,
    homeroom_user: Uuid,
    /// The demo's statistics period opened by P (beginning of year 2026).
    period: Uuid,
}

fn can(a: &Actor, action: Action, r: Resource<'_>) -> bool {
    truongso_core::auth::can(a, action, r)
}

fn any_anchor(a: &Actor, action: Action) -> bool {
    a.grants
        .iter()
        .any(|g| can(a, action, Resource::OrgUnit(g.scope.anchor())))
}

fn cases(t: &Targets) -> Vec<Case> {
    let mut v: Vec<Case> = vec![];
    let mut add = |method, route, path: String, body, expect: Expect| {
        v.push(Case {
            method,
            route,
            path,
            body,
            fresh_grant: false,
            expect,
        })
    };
    let yes = || -> Expect { Box::new(|_, _| true) };
    add("POST", "/logout", "/logout".into(), Body::Form(vec![]), yes());
    add("GET", "/", "/".into(), Body::None, yes());
    add("GET", "/account", "/account".into(), Body::None, yes());
    add(
        "POST",
        "/account/password",
        "/account/password".into(),
        Body::Form(vec![("current", "sai".into())]),
        yes(),
    );
    add(
        "POST",
        "/account/tokens",
        "/account/tokens".into(),
        Body::Form(vec![("name", "kiểm thử".into())]),
        yes(),
    );
    add(
        "POST",
        "/account/tokens/{id}/revoke",
        format!("/account/tokens/{}/revoke", Uuid::now_v7()),
        Body::Form(vec![]),
        yes(),
    );
    add(
        "GET",
        "/org",
        "/org".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewOrgUnit)),
    );
    add(
        "GET",
        "/org/search",
        "/org/search?q=truong".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewOrgUnit)),
    );
    add(
        "GET",
        "/api/v1/org-units",
        "/api/v1/org-units".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewOrgUnit)),
    );
    add(
        "GET",
        "/users",
        "/users".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewUsers)),
    );
    add(
        "GET",
        "/api/v1/users",
        "/api/v1/users".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewUsers)),
    );
    add(
        "GET",
        "/users/new",
        "/users/new".into(),
        Body::None,
        Box::new(|a, _| {
            a.grants.iter().any(|g| {
                can(
                    a,
                    Action::ManageUser,
                    Resource::User {
                        owner: g.scope.anchor(),
                        grants: &[],
                    },
                )
            })
        }),
    );
    // Moving or dissolving needs rights over the current parent (and, to move, the new one).
    for (id, parent) in [
        (t.p_id, None),
        (t.s_id, Some(t.s_parent.clone())),
        (t.s2_id, Some(t.s2_parent.clone())),
    ] {
        let pm = t.p.clone();
        let par = parent.clone();
        let can_move = move |a: &Actor, _h: &Held| {
            par.as_ref()
                .is_some_and(|x| can(a, Action::ManageOrgUnit, Resource::OrgUnit(x)))
                && can(a, Action::ManageOrgUnit, Resource::OrgUnit(&pm))
        };
        let par = parent.clone();
        let can_dissolve = move |a: &Actor, _h: &Held| {
            par.as_ref()
                .is_some_and(|x| can(a, Action::ManageOrgUnit, Resource::OrgUnit(x)))
        };
        let bad_date = || {
            vec![
                ("parent_id", t.p_id.to_string()),
                ("valid_from", "sai".to_string()),
            ]
        };
        add(
            "POST",
            "/org/{id}/move",
            format!("/org/{id}/move"),
            Body::Form(bad_date()),
            Box::new(can_move.clone()),
        );
        add(
            "POST",
            "/api/v1/org-units/{id}/move",
            format!("/api/v1/org-units/{id}/move"),
            Body::Json(json!({"parent_id": t.p_id, "valid_from": "sai"})),
            Box::new(can_move),
        );
        add(
            "POST",
            "/org/{id}/dissolve",
            format!("/org/{id}/dissolve"),
            Body::Form(bad_date()),
            Box::new(can_dissolve.clone()),
        );
        add(
            "POST",
            "/api/v1/org-units/{id}/dissolve",
            format!("/api/v1/org-units/{id}/dissolve"),
            Body::Json(json!({"valid_from": "sai"})),
            Box::new(can_dissolve),
        );
    }
    for (path, id) in [(&t.p, t.p_id), (&t.s, t.s_id), (&t.s2, t.s2_id)] {
        let pv = path.clone();
        let view = move |a: &Actor, _h: &Held| can(a, Action::ViewOrgUnit, Resource::OrgUnit(&pv));
        add(
            "GET",
            "/org/{id}",
            format!("/org/{id}"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/org-units/{id}",
            format!("/api/v1/org-units/{id}"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/org-units/{id}/children",
            format!("/api/v1/org-units/{id}/children"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/org-units/{id}/history",
            format!("/api/v1/org-units/{id}/history"),
            Body::None,
            Box::new(view),
        );
        let pm = path.clone();
        let manage = move |a: &Actor, _h: &Held| can(a, Action::ManageOrgUnit, Resource::OrgUnit(&pm));
        add(
            "POST",
            "/org/{id}/children",
            format!("/org/{id}/children"),
            Body::Form(vec![("kind", "satellite_site".into()), ("name", "".into())]),
            Box::new(manage.clone()),
        );
        add(
            "POST",
            "/org/{id}/rename",
            format!("/org/{id}/rename"),
            Body::Form(vec![("name", "".into())]),
            Box::new(manage.clone()),
        );
        add(
            "POST",
            "/api/v1/org-units",
            "/api/v1/org-units".into(),
            Body::Json(json!({"kind": "satellite_site", "parent_id": id, "name": ""})),
            Box::new(manage),
        );
        let py = path.clone();
        add(
            "POST",
            "/org/{id}/school-years",
            format!("/org/{id}/school-years"),
            Body::Form(vec![("year", "sai".into())]),
            Box::new(move |a, _| can(a, Action::ManageSchoolYears, Resource::OrgUnit(&py))),
        );
        let pu = path.clone();
        let owner_ok = move |a: &Actor, _h: &Held| {
            can(
                a,
                Action::ManageUser,
                Resource::User {
                    owner: &pu,
                    grants: &[],
                },
            )
        };
        add(
            "POST",
            "/users",
            "/users".into(),
            Body::Form(vec![("owner_org_id", id.to_string()), ("username", "x".into())]),
            Box::new(owner_ok.clone()),
        );
        add(
            "POST",
            "/api/v1/users",
            "/api/v1/users".into(),
            Body::Json(json!({"owner_org_id": id, "username": "x", "display_name": "X", "password": "p"})),
            Box::new(owner_ok),
        );
    }
    add(
        "GET",
        "/api/v1/org-units",
        format!("/api/v1/org-units?code={}", t.s_code),
        Body::None,
        {
            let s = t.s.clone();
            Box::new(move |a, _| can(a, Action::ViewOrgUnit, Resource::OrgUnit(&s)))
        },
    );
    for (owner, uid) in [(&t.s, t.user_s), (&t.p, t.user_p), (&t.s, t.user_esc)] {
        let ov = owner.clone();
        // Everyone may read their own account.
        let view =
            move |a: &Actor, _h: &Held| a.user_id == uid || can(a, Action::ViewUsers, Resource::OrgUnit(&ov));
        let om = owner.clone();
        let manage = move |a: &Actor, h: &Held| {
            can(
                a,
                Action::ManageUser,
                Resource::User {
                    owner: &om,
                    grants: h.of(uid),
                },
            )
        };
        add(
            "GET",
            "/users/{id}",
            format!("/users/{uid}"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/users/{id}",
            format!("/api/v1/users/{uid}"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/users/{id}/grants",
            format!("/api/v1/users/{uid}/grants"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "POST",
            "/users/{id}",
            format!("/users/{uid}"),
            Body::Form(vec![("display_name", "".into())]),
            Box::new(manage.clone()),
        );
        add(
            "PATCH",
            "/api/v1/users/{id}",
            format!("/api/v1/users/{uid}"),
            Body::Json(json!({"email": "sai"})),
            Box::new(manage.clone()),
        );
        add(
            "POST",
            "/users/{id}/active",
            format!("/users/{uid}/active"),
            Body::Form(vec![("active", "true".into())]),
            Box::new(manage.clone()),
        );
        add(
            "POST",
            "/users/{id}/unlock",
            format!("/users/{uid}/unlock"),
            Body::Form(vec![]),
            Box::new(manage.clone()),
        );
        add(
            "POST",
            "/users/{id}/password",
            format!("/users/{uid}/password"),
            Body::Form(vec![("password", "ngan".into())]),
            Box::new(manage),
        );
        // Granting a librarian role in school S to this user.
        let s = t.s.clone();
        let ov2 = owner.clone();
        let grant_ok = move |a: &Actor, _h: &Held| {
            can(a, Action::ViewUsers, Resource::OrgUnit(&ov2))
                && can(
                    a,
                    Action::GrantRole,
                    Resource::Grant {
                        role: Role::Librarian,
                        scope: &Scope::School { school: s.clone() },
                    },
                )
        };
        add(
            "POST",
            "/users/{id}/grants",
            format!("/users/{uid}/grants"),
            Body::Form(vec![
                ("role", "librarian".into()),
                ("org_unit_id", t.s_id.to_string()),
            ]),
            Box::new(grant_ok.clone()),
        );
        add(
            "POST",
            "/api/v1/users/{id}/grants",
            format!("/api/v1/users/{uid}/grants"),
            Body::Json(json!({"role": "librarian", "org_unit_id": t.s_id})),
            Box::new(grant_ok),
        );
    }
    // Learner records: search is open to all (results are filtered), reading and creating are
    // decided per record.
    add(
        "GET",
        "/api/v1/learners",
        "/api/v1/learners?q=a".into(),
        Body::None,
        Box::new(|_, _| true),
    );
    add(
        "GET",
        "/learners",
        "/learners?q=a".into(),
        Body::None,
        Box::new(|_, _| true),
    );
    for lid in [t.child, t.classmate] {
        let (s, k) = (t.s.clone(), t.class_k);
        let view = move |a: &Actor, _: &Held| {
            can(
                a,
                Action::ViewLearner,
                Resource::Learner {
                    school: &s,
                    class_id: Some(k),
                    learner_id: lid,
                },
            )
        };
        add(
            "GET",
            "/learners/{id}",
            format!("/learners/{lid}"),
            Body::None,
            Box::new(view.clone()),
        );
        add(
            "GET",
            "/api/v1/learners/{id}",
            format!("/api/v1/learners/{lid}"),
            Body::None,
            Box::new(view),
        );
    }
    for (school, sid) in [(t.s.clone(), t.s_id), (t.s2.clone(), t.s2_id)] {
        let k = t.class_k;
        add(
            "POST",
            "/api/v1/learners",
            "/api/v1/learners".into(),
            Body::Json(
                json!({"school_id": sid, "class_id": k, "full_name": "", "date_of_birth": "x", "sex": "x"}),
            ),
            Box::new(move |a, _| {
                can(
                    a,
                    Action::ManageLearner,
                    Resource::Learner {
                        school: &school,
                        class_id: Some(k),
                        learner_id: Uuid::nil(),
                    },
                )
            }),
        );
    }
    // Classes, enrolments, staff and assignments.
    add("GET", "/classes", "/classes".into(), Body::None, yes());
    add(
        "GET",
        "/api/v1/classes",
        "/api/v1/classes".into(),
        Body::None,
        yes(),
    );
    add("GET", "/api/v1/staff", "/api/v1/staff".into(), Body::None, yes());
    add(
        "GET",
        "/staff",
        "/staff".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ViewStaff)),
    );
    for f in ["/assignments/{id}/delete", "/api/v1/assignments/{id}"] {
        add(
            if f.starts_with("/api") { "DELETE" } else { "POST" },
            f,
            f.replace("{id}", &Uuid::now_v7().to_string()),
            if f.starts_with("/api") {
                Body::None
            } else {
                Body::Form(vec![])
            },
            yes(),
        );
    }
    for (school, sid) in [(t.s.clone(), t.s_id), (t.s2.clone(), t.s2_id)] {
        let sc = school.clone();
        add(
            "GET",
            "/api/v1/classes",
            format!("/api/v1/classes?school_id={sid}"),
            Body::None,
            Box::new(move |a, _| can(a, Action::ViewClass, Resource::OrgUnit(&sc))),
        );
        let sc = school.clone();
        add(
            "GET",
            "/api/v1/staff",
            format!("/api/v1/staff?school_id={sid}"),
            Body::None,
            Box::new(move |a, _| can(a, Action::ViewStaff, Resource::OrgUnit(&sc))),
        );
        let sc = school.clone();
        let manage_staff = move |a: &Actor, _h: &Held| can(a, Action::ManageStaff, Resource::OrgUnit(&sc));
        add(
            "POST",
            "/staff",
            "/staff".into(),
            Body::Form(vec![("school_id", sid.to_string()), ("staff_code", "".into())]),
            Box::new(manage_staff.clone()),
        );
        add(
            "POST",
            "/api/v1/staff",
            "/api/v1/staff".into(),
            Body::Json(
                json!({"school_id": sid, "staff_code": "", "full_name": "", "date_of_birth": "",
                "sex": "", "staff_group": "", "contract": ""}),
            ),
            Box::new(manage_staff),
        );
    }
    let (s, k, y, staff_s, child) = (t.s.clone(), t.class_k, t.year_k, t.staff_s, t.child);
    let view_k = {
        let s = s.clone();
        move |a: &Actor, _h: &Held| {
            can(
                a,
                Action::ViewClass,
                Resource::Class {
                    school: &s,
                    class_id: k,
                },
            )
        }
    };
    let manage_k = {
        let s = s.clone();
        move |a: &Actor, _h: &Held| {
            can(
                a,
                Action::ManageClass,
                Resource::Class {
                    school: &s,
                    class_id: k,
                },
            )
        }
    };
    add(
        "GET",
        "/classes/{id}",
        format!("/classes/{k}"),
        Body::None,
        Box::new(view_k.clone()),
    );
    add(
        "GET",
        "/api/v1/classes/{id}",
        format!("/api/v1/classes/{k}"),
        Body::None,
        Box::new(view_k.clone()),
    );
    add(
        "GET",
        "/api/v1/assignments",
        format!("/api/v1/assignments?class_id={k}"),
        Body::None,
        Box::new(view_k.clone()),
    );
    add(
        "POST",
        "/classes/{id}",
        format!("/classes/{k}"),
        Body::Form(vec![("grade", "".into()), ("name", "".into())]),
        Box::new(manage_k.clone()),
    );
    add(
        "PATCH",
        "/api/v1/classes/{id}",
        format!("/api/v1/classes/{k}"),
        Body::Json(json!({"grade": "", "name": ""})),
        Box::new(manage_k.clone()),
    );
    add(
        "POST",
        "/classes",
        "/classes".into(),
        Body::Form(vec![("school_year_id", y.to_string()), ("grade", "".into())]),
        Box::new(manage_k.clone()),
    );
    add(
        "POST",
        "/api/v1/classes",
        "/api/v1/classes".into(),
        Body::Json(json!({"school_year_id": y, "grade": "", "name": ""})),
        Box::new(manage_k.clone()),
    );
    add(
        "POST",
        "/classes/rollover",
        "/classes/rollover".into(),
        Body::Form(vec![("from", y.to_string()), ("to", y.to_string())]),
        Box::new(manage_k.clone()),
    );
    add(
        "POST",
        "/api/v1/school-years/{id}/rollover",
        format!("/api/v1/school-years/{y}/rollover"),
        Body::Json(json!({"to_school_year_id": y})),
        Box::new(manage_k.clone()),
    );
    let assign_k = {
        let s = s.clone();
        let view_k = view_k.clone();
        move |a: &Actor, h: &Held| view_k(a, h) && can(a, Action::ManageStaff, Resource::OrgUnit(&s))
    };
    add(
        "POST",
        "/classes/{id}/assignments",
        format!("/classes/{k}/assignments"),
        Body::Form(vec![("subject", "".into())]),
        Box::new(assign_k.clone()),
    );
    add(
        "POST",
        "/api/v1/assignments",
        "/api/v1/assignments".into(),
        Body::Json(json!({"class_id": k, "staff_id": staff_s, "subject": ""})),
        Box::new(assign_k),
    );
    let move_child = {
        let s = s.clone();
        let manage_k = manage_k.clone();
        move |a: &Actor, h: &Held| {
            manage_k(a, h)
                && can(
                    a,
                    Action::ManageLearner,
                    Resource::Learner {
                        school: &s,
                        class_id: Some(k),
                        learner_id: child,
                    },
                )
        }
    };
    add(
        "POST",
        "/learners/{id}/class",
        format!("/learners/{child}/class"),
        Body::Form(vec![("class_id", k.to_string()), ("on_date", "sai".into())]),
        Box::new(move_child.clone()),
    );
    add(
        "POST",
        "/api/v1/learners/{id}/enrolments",
        format!("/api/v1/learners/{child}/enrolments"),
        Body::Json(json!({"class_id": k, "on_date": "sai"})),
        Box::new(move_child),
    );
    {
        let s = s.clone();
        add(
            "GET",
            "/api/v1/learners/{id}/enrolments",
            format!("/api/v1/learners/{child}/enrolments"),
            Body::None,
            Box::new(move |a, _| {
                can(
                    a,
                    Action::ViewLearner,
                    Resource::Learner {
                        school: &s,
                        class_id: Some(k),
                        learner_id: child,
                    },
                )
            }),
        );
    }
    {
        let s = s.clone();
        let manage_child = move |a: &Actor, _h: &Held| {
            can(
                a,
                Action::ManageLearner,
                Resource::Learner {
                    school: &s,
                    class_id: Some(k),
                    learner_id: child,
                },
            )
        };
        add(
            "POST",
            "/learners/{id}/status",
            format!("/learners/{child}/status"),
            Body::Form(vec![("status", "05".into()), ("on_date", "sai".into())]),
            Box::new(manage_child.clone()),
        );
        add(
            "POST",
            "/api/v1/learners/{id}/status",
            format!("/api/v1/learners/{child}/status"),
            Body::Json(json!({"status": "05", "on_date": "sai"})),
            Box::new(manage_child),
        );
    }
    let view_staff = move |a: &Actor, _h: &Held| can(a, Action::ViewStaff, Resource::OrgUnit(&s));
    add(
        "GET",
        "/staff/{id}",
        format!("/staff/{staff_s}"),
        Body::None,
        Box::new(view_staff.clone()),
    );
    add(
        "GET",
        "/api/v1/staff/{id}",
        format!("/api/v1/staff/{staff_s}"),
        Body::None,
        Box::new(view_staff),
    );
    // Excel import and export: the records keepers of the school.
    add(
        "GET",
        "/import",
        "/import".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ImportRecords)),
    );
    add(
        "GET",
        "/import/templates/{kind}",
        "/import/templates/learners.xlsx".into(),
        Body::None,
        yes(),
    );
    add(
        "GET",
        "/api/v1/templates/{kind}",
        "/api/v1/templates/staff".into(),
        Body::None,
        yes(),
    );
    add(
        "GET",
        "/import/jobs/{id}",
        format!("/import/jobs/{}", Uuid::now_v7()),
        Body::None,
        yes(),
    );
    add(
        "GET",
        "/api/v1/jobs/{id}",
        format!("/api/v1/jobs/{}", Uuid::now_v7()),
        Body::None,
        yes(),
    );
    for (school, sid) in [(t.s.clone(), t.s_id), (t.s2.clone(), t.s2_id)] {
        let keeps = move |a: &Actor, _h: &Held| can(a, Action::ImportRecords, Resource::OrgUnit(&school));
        add(
            "POST",
            "/import/{kind}",
            format!("/import/learners?school={sid}"),
            Body::Form(vec![("file", "".into())]),
            Box::new(keeps.clone()),
        );
        add(
            "POST",
            "/api/v1/imports/{kind}",
            format!("/api/v1/imports/learners?school_id={sid}"),
            Body::None,
            Box::new(keeps.clone()),
        );
        add(
            "GET",
            "/export/{kind}",
            format!("/export/staff.xlsx?school={sid}"),
            Body::None,
            Box::new(keeps),
        );
    }
    let s = t.s.clone();
    let revoke_ok = move |a: &Actor, _h: &Held| {
        can(
            a,
            Action::GrantRole,
            Resource::Grant {
                role: Role::Librarian,
                scope: &Scope::School { school: s.clone() },
            },
        )
    };
    v.push(Case {
        method: "POST",
        route: "/users/{id}/grants/{gid}/revoke",
        path: format!("/users/{}/grants/{{gid}}/revoke", t.user_s),
        body: Body::Form(vec![]),
        fresh_grant: true,
        expect: Box::new(revoke_ok.clone()),
    });
    v.push(Case {
        method: "DELETE",
        route: "/api/v1/grants/{id}",
        path: "/api/v1/grants/{gid}".into(),
        body: Body::None,
        fresh_grant: true,
        expect: Box::new(revoke_ok),
    });
    let audit = |a: &Actor, _: &Held| can(a, Action::ViewAudit, Resource::System);
    v.push(Case {
        method: "GET",
        route: "/audit",
        path: "/audit".into(),
        body: Body::None,
        fresh_grant: false,
        expect: Box::new(audit),
    });
    v.push(Case {
        method: "POST",
        route: "/audit/verify",
        path: "/audit/verify".into(),
        body: Body::Form(vec![]),
        fresh_grant: false,
        expect: Box::new(audit),
    });
    v.push(Case {
        method: "GET",
        route: "/api/v1/me",
        path: "/api/v1/me".into(),
        body: Body::None,
        fresh_grant: false,
        expect: Box::new(|_, _| true),
    });
    v.push(Case {
        method: "GET",
        route: "/api/v1/roles",
        path: "/api/v1/roles".into(),
        body: Body::None,
        fresh_grant: false,
        expect: Box::new(|_, _| true),
    });
    v.extend(quality_cases::cases(t));
    v.extend(facilities_cases::cases(t));
    v.extend(health_cases::cases(t));
    v.extend(gradebook_cases::cases(t));
    v.extend(credentials_cases::cases(t));
    v.extend(stats_cases::cases(t));
    v.extend(stats_reports_cases::cases(t));
    v
}

async fn send(app: &TestApp, c: &reqwest::Client, case: &Case, path: &str, token: Option<&str>) -> u16 {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut rb = c.request(method, app.url(path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb = match &case.body {
        Body::None => rb,
        Body::Form(f) => rb.form(f),
        Body::Json(j) => rb.json(j),
    };
    rb.send().await.unwrap().status().as_u16()
}

async fn fresh_grant(app: &TestApp, user: Uuid, school: Uuid) -> Uuid {
    let db = &app.store().db;
    let g = accounts::resolve_grant(
        db,
        &GrantSpec {
            role: "librarian".into(),
            org_unit_id: school,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    match accounts::grant(db, &ActorRef::system("test"), user, &g).await {
        Ok(row) => row.id,
        Err(_) => {
            accounts::grants_of(db, user)
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.grant().as_ref() == Some(&g))
                .unwrap()
                .id
        }
    }
}

/// A học bạ row of the class's learner made straight in the store (the app under test has no
/// certificates or fonts): issued (three signatures and a log position) or still signing.
async fn credential_doc(
    app: &TestApp,
    class: &truongso_store::classes::ClassSummary,
    learner: Uuid,
    issued: bool,
) -> String {
    use truongso_core::credentials::{DocKind, record};
    use truongso_store::credentials::{self as cred, HOC_BA_ROLES, NewDoc, SignatureStep};
    let db = &app.store().db;
    let sys = ActorRef::system("test");
    let mut r = [0u8; 10];
    r[..8].copy_from_slice(&(Uuid::now_v7().as_u128() as u64).to_be_bytes());
    let doc_id = record::doc_id(DocKind::HocBa, r);
    let doc = cred::create(
        db,
        &sys,
        NewDoc {
            doc_id: &doc_id,
            kind: DocKind::HocBa,
            issuer_id: class.school_id,
            learner_id: Some(learner),
            school_year_id: Some(class.school_year_id),
            class_id: Some(class.id),
            record: b"{}",
            pdf: b"%PDF-1.7 test",
            first_role: HOC_BA_ROLES[0],
            corrects: None,
            diploma: None,
        },
    )
    .await
    .unwrap();
    if issued {
        let mut version = doc.version;
        for role in HOC_BA_ROLES {
            let step = SignatureStep {
                role: role.into(),
                signer: role.into(),
                user_id: None,
                cert_sha256: "00".into(),
                at: chrono::Utc::now(),
            };
            version =
                cred::record_signature(db, &sys, doc.id, version, step, b"%PDF-1.7 test", &HOC_BA_ROLES)
                    .await
                    .unwrap()
                    .version;
        }
        cred::mark_issued(db, &sys, doc.id, 0, "00").await.unwrap();
    }
    doc_id
}

app_test!(every_route_every_role, async |app: &TestApp| {
    let db = &app.store().db;
    let admin_s = accounts::by_username(db, "admin.thcs").await.unwrap().unwrap();
    let s = org::get(db, admin_s.owner_org_id).await.unwrap();
    let p = org::by_code(db, "08").await.unwrap();
    let s2 = org::in_subtree(db, &p.path, Some(OrgKind::School))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id != s.id)
        .unwrap();
    let t = Targets {
        period: truongso_store::stats::periods_for(db, &p.path)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.office_id == p.id)
            .expect("the demo's period")
            .id,
        p_id: p.id,
        s_id: s.id,
        s2_id: s2.id,
        s_code: s.code.clone().unwrap(),
        s_parent: org::get(db, s.parent_id.unwrap()).await.unwrap().path,
        s2_parent: org::get(db, s2.parent_id.unwrap()).await.unwrap().path,
        p: p.path.clone(),
        s: s.path.clone(),
        s2: s2.path.clone(),
        user_s: accounts::by_username(db, "gvbm.thcs").await.unwrap().unwrap().id,
        user_p: accounts::by_username(db, "chuyenvien.so")
            .await
            .unwrap()
            .unwrap()
            .id,
        user_esc: {
            let sys = ActorRef::system("test");
            let u = accounts::create_user(
                db,
                &sys,
                accounts::NewUser {
                    username: "kiemnhiem.so".into(),
                    display_name: "Kiêm nhiệm Sở".into(),
                    owner_org_id: s.id,
                    password: "Matkhau2025".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            let g = accounts::resolve_grant(
                db,
                &GrantSpec {
                    role: "admin".into(),
                    org_unit_id: p.id,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            accounts::grant(db, &sys, u.id, &g).await.unwrap();
            u.id
        },
        class_k: Uuid::nil(),
        child: Uuid::nil(),
        classmate: Uuid::nil(),
        year_k: Uuid::nil(),
        staff_s: Uuid::nil(),
        doc_issued: String::new(),
        doc_signing: String::new(),
        homeroom_user: Uuid::nil(),
    };
    let parent = accounts::by_username(db, "phuhuynh.thcs").await.unwrap().unwrap();
    let child = accounts::grants_of(db, parent.id).await.unwrap()[0]
        .learner_id
        .unwrap();
    let class_k = truongso_store::people::get_learner(db, &app.state.cipher, child)
        .await
        .unwrap()
        .class_id
        .unwrap();
    let pupils = truongso_store::classes::roster(db, class_k).await.unwrap();
    let k = truongso_store::classes::get(db, class_k).await.unwrap();
    let t = Targets {
        class_k,
        year_k: k.school_year_id,
        staff_s: k.homeroom_staff_id.unwrap(),
        child,
        classmate: pupils.iter().find(|l| l.id != child).unwrap().id,
        doc_issued: credential_doc(app, &k, child, true).await,
        doc_signing: credential_doc(app, &k, child, false).await,
        homeroom_user: accounts::by_username(db, "gvcn.thcs").await.unwrap().unwrap().id,
        ..t
    };
    let all = cases(&t);
    // Every non-public route that exists has at least one case.
    let (_, specs) = build(app.state.clone());
    for spec in specs.iter().filter(|s| s.access != Access::Public) {
        assert!(
            all.iter()
                .any(|c| c.method == spec.method && c.route == spec.path),
            "no case for {} {}",
            spec.method,
            spec.path
        );
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = vec![];
    let mut checked = 0;
    for username in DEMO_USERNAMES {
        let user = accounts::by_username(db, username).await.unwrap().unwrap();
        let actor = accounts::actor_for(db, user.id).await.unwrap();
        let token = app.token(username).await;
        for case in &all {
            let path = if case.fresh_grant {
                case.path
                    .replace("{gid}", &fresh_grant(app, t.user_s, t.s_id).await.to_string())
            } else {
                case.path.clone()
            };
            let status = send(app, &client, case, &path, Some(&token)).await;
            let mut held = Held(Default::default());
            for id in [t.user_s, t.user_p, t.user_esc] {
                held.0
                    .insert(id, accounts::actor_for(db, id).await.unwrap().grants);
            }
            let allowed = (case.expect)(&actor, &held);
            let ok = if allowed {
                status != 403 && status != 401 && status < 500
            } else {
                status == 403
            };
            if !ok {
                failures.push(format!(
                    "{username}: {} {path} → {status} (expected {})",
                    case.method,
                    if allowed { "allowed" } else { "403" }
                ));
            }
            checked += 1;
        }
        // The user is still active (no case disabled an account for good).
        assert!(accounts::get_user(db, user.id).await.unwrap().active);
    }
    // Anonymous: pages redirect to the login page, the API answers 401.
    for case in &all {
        let path = case.path.replace("{gid}", &Uuid::now_v7().to_string());
        let status = send(app, &client, case, &path, None).await;
        let expected = if path.starts_with("/api/") { 401 } else { 303 };
        let ok = status == expected || (case.method != "GET" && !path.starts_with("/api/") && status == 403);
        if !ok {
            failures.push(format!(
                "anonymous: {} {path} → {status} (expected {expected})",
                case.method
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 900, "{checked} checks");
});
