//! Route × role cases of the health pages and API, and of the learner's guardians (see
//! `authz.rs`). Every write carries an invalid body, so an allowed caller gets a field error and
//! nothing is written; a refused caller gets 403 before the body is looked at.

use super::{Body, Case, Expect, Held, Targets, can};
use serde_json::json;
use truongso_core::auth::{Action, Actor, Resource, Role, Scope};
use uuid::Uuid;

pub fn cases(t: &Targets) -> Vec<Case> {
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
    for lid in [t.child, t.classmate] {
        let on = |action: Action| -> Expect {
            let (s, k) = (t.s.clone(), t.class_k);
            Box::new(move |a: &Actor, _: &Held| {
                can(
                    a,
                    action,
                    Resource::Learner {
                        school: &s,
                        class_id: Some(k),
                        learner_id: lid,
                    },
                )
            })
        };
        let grant_parent = || -> Expect {
            let s = t.s.clone();
            Box::new(move |a: &Actor, _: &Held| {
                can(
                    a,
                    Action::GrantRole,
                    Resource::Grant {
                        role: Role::Parent,
                        scope: &Scope::Child {
                            school: s.clone(),
                            learner_id: lid,
                        },
                    },
                )
            })
        };
        // Health: pages
        add(
            "POST",
            "/learners/{id}/health/checkups",
            format!("/learners/{lid}/health/checkups"),
            Body::Form(vec![("kind", "sai".into()), ("height_cm", "abc".into())]),
            on(Action::ManageHealth),
        );
        add(
            "POST",
            "/learners/{id}/health/vaccinations",
            format!("/learners/{lid}/health/vaccinations"),
            Body::Form(vec![("name", "".into())]),
            on(Action::ManageHealth),
        );
        add(
            "POST",
            "/learners/{id}/health/conditions",
            format!("/learners/{lid}/health/conditions"),
            Body::Form(vec![("kind", "sai".into())]),
            on(Action::ManageHealth),
        );
        // Health: API
        add(
            "GET",
            "/api/v1/learners/{id}/health",
            format!("/api/v1/learners/{lid}/health"),
            Body::None,
            on(Action::ViewHealth),
        );
        add(
            "POST",
            "/api/v1/learners/{id}/health/checkups",
            format!("/api/v1/learners/{lid}/health/checkups"),
            Body::Json(json!({"kind": "periodic", "date": "01/09/2024", "height_cm": "abc"})),
            on(Action::ManageHealth),
        );
        add(
            "POST",
            "/api/v1/learners/{id}/health/vaccinations",
            format!("/api/v1/learners/{lid}/health/vaccinations"),
            Body::Json(json!({"name": "", "date": "sai"})),
            on(Action::ManageHealth),
        );
        add(
            "POST",
            "/api/v1/learners/{id}/health/conditions",
            format!("/api/v1/learners/{lid}/health/conditions"),
            Body::Json(json!({"kind": "sai", "detail": ""})),
            on(Action::ManageHealth),
        );
        // Guardians
        add(
            "POST",
            "/learners/{id}/guardians",
            format!("/learners/{lid}/guardians"),
            Body::Form(vec![("relation", "sai".into()), ("full_name", "".into())]),
            on(Action::ManageLearner),
        );
        add(
            "GET",
            "/api/v1/learners/{id}/guardians",
            format!("/api/v1/learners/{lid}/guardians"),
            Body::None,
            on(Action::ViewLearner),
        );
        add(
            "POST",
            "/api/v1/learners/{id}/guardians",
            format!("/api/v1/learners/{lid}/guardians"),
            Body::Json(json!({"relation": "sai", "full_name": ""})),
            on(Action::ManageLearner),
        );
        add(
            "POST",
            "/learners/{id}/guardians/account",
            format!("/learners/{lid}/guardians/account"),
            Body::Form(vec![("guardian_id", "".into()), ("username", "".into())]),
            grant_parent(),
        );
    }
    // Entries and guardians that do not exist: 404 for everyone (the real ones are decided by
    // their learner, see records_health.rs).
    let anyone = || -> Expect { Box::new(|_, _| true) };
    add(
        "POST",
        "/health/{entry_id}/delete",
        format!("/health/{}/delete", Uuid::now_v7()),
        Body::Form(vec![]),
        anyone(),
    );
    add(
        "POST",
        "/api/v1/guardians/{id}/account",
        format!("/api/v1/guardians/{}/account", Uuid::now_v7()),
        Body::Json(json!({"user_id": Uuid::now_v7()})),
        anyone(),
    );
    v
}
