//! Route × role cases of the gradebook pages and API (see `authz.rs`). Writes carry a refused
//! value (an unknown column, a bad level, an empty reason), so an allowed caller gets a field
//! error and nothing is written; a refused caller gets 403 before the body is looked at. The
//! one real write is computing the demo class's results, which only its homeroom teacher and
//! the school's leaders may do.

use super::{Body, Case, Expect, Held, Targets, any_anchor, can};
use serde_json::json;
use truongso_core::auth::{Action, Actor, Resource};
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
    let (k, child, y) = (t.class_k, t.child, t.year_k);
    let on_class = |action: Action| -> Expect {
        let s = t.s.clone();
        Box::new(move |a: &Actor, _: &Held| {
            can(
                a,
                action,
                Resource::Class {
                    school: &s,
                    class_id: k,
                },
            )
        })
    };
    let on_subject = |action: Action| -> Expect {
        let s = t.s.clone();
        Box::new(move |a: &Actor, _: &Held| {
            can(
                a,
                action,
                Resource::ClassSubject {
                    school: &s,
                    class_id: k,
                    subject: "toan",
                },
            )
        })
    };
    let compute = || -> Expect {
        let s = t.s.clone();
        Box::new(move |a: &Actor, _: &Held| {
            can(
                a,
                Action::SummariseClass,
                Resource::Class {
                    school: &s,
                    class_id: k,
                },
            ) || can(a, Action::ManageGradebook, Resource::OrgUnit(&s))
        })
    };
    let yes = || -> Expect { Box::new(|_, _| true) };
    add("GET", "/gradebook", "/gradebook".into(), Body::None, yes());
    add(
        "GET",
        "/gradebook/manage",
        "/gradebook/manage".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ManageGradebook)),
    );
    let s = t.s.clone();
    add(
        "POST",
        "/gradebook/manage/deadline",
        "/gradebook/manage/deadline".into(),
        Body::Form(vec![("school_year_id", y.to_string()), ("term", "9".into())]),
        Box::new(move |a, _| can(a, Action::ManageGradebook, Resource::OrgUnit(&s))),
    );
    for route in [
        "/gradebook/corrections/{id}",
        "/api/v1/gradebook/corrections/{id}/decision",
    ] {
        add(
            "POST",
            route,
            route.replace("{id}", &Uuid::now_v7().to_string()),
            if route.starts_with("/api") {
                Body::Json(json!({"approve": false}))
            } else {
                Body::Form(vec![("decision", "reject".into())])
            },
            yes(),
        );
    }
    add(
        "GET",
        "/gradebook/{class_id}/results",
        format!("/gradebook/{k}/results"),
        Body::None,
        on_class(Action::ViewResults),
    );
    add(
        "GET",
        "/gradebook/{class_id}/results.xlsx",
        format!("/gradebook/{k}/results.xlsx"),
        Body::None,
        on_class(Action::ViewResults),
    );
    add(
        "POST",
        "/gradebook/{class_id}/results",
        format!("/gradebook/{k}/results"),
        Body::Form(vec![]),
        compute(),
    );
    add(
        "GET",
        "/gradebook/{class_id}/summary",
        format!("/gradebook/{k}/summary?term=1"),
        Body::None,
        on_class(Action::ViewResults),
    );
    add(
        "POST",
        "/gradebook/{class_id}/summary",
        format!("/gradebook/{k}/summary?term=1"),
        Body::Form(vec![(&*format!("conduct.{child}").leak(), "Giỏi".into())]),
        on_class(Action::SummariseClass),
    );
    add(
        "GET",
        "/gradebook/{class_id}/{subject}",
        format!("/gradebook/{k}/toan?term=1"),
        Body::None,
        on_subject(Action::ViewMarks),
    );
    add(
        "GET",
        "/gradebook/{class_id}/{subject}/xlsx",
        format!("/gradebook/{k}/toan/xlsx?term=1"),
        Body::None,
        on_subject(Action::ViewMarks),
    );
    add(
        "POST",
        "/gradebook/{class_id}/{subject}/corrections",
        format!("/gradebook/{k}/toan/corrections"),
        Body::Form(vec![
            ("term", "1".into()),
            ("learner_id", child.to_string()),
            ("slot", "tx1".into()),
            ("value", "11".into()),
            ("reason", "".into()),
        ]),
        on_subject(Action::EnterMarks),
    );
    add(
        "GET",
        "/api/v1/gradebook/marks",
        format!("/api/v1/gradebook/marks?class_id={k}&subject=toan&term=1"),
        Body::None,
        on_subject(Action::ViewMarks),
    );
    add(
        "PUT",
        "/api/v1/gradebook/marks",
        "/api/v1/gradebook/marks".into(),
        Body::Json(json!({"class_id": k, "subject": "toan", "term": 1,
            "cells": [{"learner_id": child, "slot": "tx9", "value": "7", "version": 0}]})),
        on_subject(Action::EnterMarks),
    );
    add(
        "POST",
        "/api/v1/gradebook/corrections",
        "/api/v1/gradebook/corrections".into(),
        Body::Json(
            json!({"class_id": k, "subject": "toan", "term": 1, "learner_id": child,
            "slot": "tx1", "value": "7", "reason": ""}),
        ),
        on_subject(Action::EnterMarks),
    );
    add(
        "PUT",
        "/api/v1/classes/{id}/summaries",
        format!("/api/v1/classes/{k}/summaries?term=1"),
        Body::Json(json!({"rows": [{"learner_id": child, "conduct": "Giỏi"}]})),
        on_class(Action::SummariseClass),
    );
    add(
        "GET",
        "/api/v1/classes/{id}/results",
        format!("/api/v1/classes/{k}/results"),
        Body::None,
        on_class(Action::ViewResults),
    );
    add(
        "POST",
        "/api/v1/classes/{id}/results",
        format!("/api/v1/classes/{k}/results"),
        Body::None,
        compute(),
    );
    for lid in [t.child, t.classmate] {
        let s = t.s.clone();
        add(
            "GET",
            "/learners/{id}/results",
            format!("/learners/{lid}/results"),
            Body::None,
            Box::new(move |a, _| {
                can(
                    a,
                    Action::ViewResults,
                    Resource::Learner {
                        school: &s,
                        class_id: Some(k),
                        learner_id: lid,
                    },
                )
            }),
        );
        let s = t.s.clone();
        add(
            "GET",
            "/api/v1/learners/{id}/results",
            format!("/api/v1/learners/{lid}/results"),
            Body::None,
            Box::new(move |a, _| {
                can(
                    a,
                    Action::ViewResults,
                    Resource::Learner {
                        school: &s,
                        class_id: Some(k),
                        learner_id: lid,
                    },
                )
            }),
        );
    }
    add(
        "POST",
        "/api/v1/gradebook/compute",
        "/api/v1/gradebook/compute".into(),
        Body::Json(json!({})),
        yes(),
    );
    v
}
