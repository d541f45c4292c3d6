//! Route × role cases of the học bạ số pages and API and the diploma registry (see `authz.rs`).
//! The test app has no credentials set up, and the documents are two rows made in the store for
//! the demo class K's learner (one issued, one waiting for its homeroom teacher): an allowed
//! caller reaches the service and gets a conflict ("not configured", "no certificate", a
//! refused reason), so nothing changes between callers; a refused one gets 403 first.

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
    let (issued, signing) = (t.doc_issued.clone(), t.doc_signing.clone());
    let homeroom = t.homeroom_user;
    // The policy's question about a document of class K (or the class as a whole).
    let on_docs = |action: Action, learner: Option<Uuid>, is_issued: bool| -> Expect {
        let s = t.s.clone();
        Box::new(move |a: &Actor, _: &Held| {
            can(
                a,
                action,
                Resource::Credentials {
                    issuer: &s,
                    class_id: Some(k),
                    learner_id: learner,
                    issued: is_issued,
                    homeroom_of_record: a.user_id == homeroom,
                },
            )
        })
    };
    let on_school = |action: Action| -> Expect {
        let s = t.s.clone();
        Box::new(move |a: &Actor, _: &Held| can(a, action, Resource::OrgUnit(&s)))
    };
    let registry = || -> Expect {
        let p = t.p.clone();
        Box::new(move |a: &Actor, _: &Held| can(a, Action::ManageDiplomas, Resource::OrgUnit(&p)))
    };
    let yes = || -> Expect { Box::new(|_, _| true) };
    add("GET", "/hoc-ba", "/hoc-ba".into(), Body::None, yes());
    add(
        "GET",
        "/hoc-ba/lop/{class_id}",
        format!("/hoc-ba/lop/{k}"),
        Body::None,
        on_docs(Action::ViewCredentials, None, false),
    );
    add(
        "GET",
        "/api/v1/classes/{id}/credentials",
        format!("/api/v1/classes/{k}/credentials"),
        Body::None,
        on_docs(Action::ViewCredentials, None, false),
    );
    add(
        "POST",
        "/hoc-ba/lop/{class_id}/mo",
        format!("/hoc-ba/lop/{k}/mo"),
        Body::Form(vec![]),
        on_school(Action::IssueCredentials),
    );
    {
        let s = t.s.clone();
        add(
            "POST",
            "/hoc-ba/lop/{class_id}/ky-tat-ca",
            format!("/hoc-ba/lop/{k}/ky-tat-ca"),
            Body::Form(vec![]),
            Box::new(move |a: &Actor, _: &Held| {
                let docs = Resource::Credentials {
                    issuer: &s,
                    class_id: Some(k),
                    learner_id: None,
                    issued: false,
                    homeroom_of_record: a.user_id == homeroom,
                };
                can(a, Action::ViewCredentials, docs)
                    && (can(a, Action::SignAsHomeroom, docs)
                        || can(a, Action::SignAsPrincipal, Resource::OrgUnit(&s))
                        || can(a, Action::ApplySeal, Resource::OrgUnit(&s)))
            }),
        );
    }
    add(
        "POST",
        "/hoc-ba/phat-hanh",
        "/hoc-ba/phat-hanh".into(),
        Body::Form(vec![("school", t.s_id.to_string()), ("year", y.to_string())]),
        on_school(Action::IssueCredentials),
    );
    add(
        "POST",
        "/api/v1/credential-batches",
        "/api/v1/credential-batches".into(),
        Body::Json(json!({"school_id": t.s_id, "school_year_id": y, "sign": true})),
        on_school(Action::IssueCredentials),
    );
    for route in ["/hoc-ba/tac-vu/{id}", "/api/v1/credential-batches/{id}"] {
        add(
            "GET",
            route,
            route.replace("{id}", &Uuid::now_v7().to_string()),
            Body::None,
            yes(),
        );
    }
    // Signing identities.
    add(
        "GET",
        "/hoc-ba/chu-ky-so",
        "/hoc-ba/chu-ky-so".into(),
        Body::None,
        Box::new(|a, _| any_anchor(a, Action::ManageSigningIdentities)),
    );
    add(
        "POST",
        "/hoc-ba/chu-ky-so/pkcs12",
        format!("/hoc-ba/chu-ky-so/pkcs12?unit={}", t.s_id),
        Body::Form(vec![]),
        on_school(Action::ManageSigningIdentities),
    );
    for kind in ["pkcs11", "remote"] {
        add(
            "POST",
            if kind == "pkcs11" {
                "/hoc-ba/chu-ky-so/pkcs11"
            } else {
                "/hoc-ba/chu-ky-so/remote"
            },
            format!("/hoc-ba/chu-ky-so/{kind}"),
            Body::Form(vec![("unit", t.s_id.to_string()), ("role", "gvcn".into())]),
            on_school(Action::ManageSigningIdentities),
        );
    }
    add(
        "POST",
        "/hoc-ba/chu-ky-so/{id}/thu-hoi",
        format!("/hoc-ba/chu-ky-so/{}/thu-hoi", Uuid::now_v7()),
        Body::Form(vec![]),
        yes(),
    );
    // One document.
    for route in [
        "/van-ban/{doc_id}",
        "/van-ban/{doc_id}/pdf",
        "/van-ban/{doc_id}/proof",
    ] {
        add(
            "GET",
            route,
            route.replace("{doc_id}", &issued),
            Body::None,
            on_docs(Action::ViewCredentials, Some(child), true),
        );
    }
    add(
        "GET",
        "/van-ban/{doc_id}",
        format!("/van-ban/{signing}"),
        Body::None,
        on_docs(Action::ViewCredentials, Some(child), false),
    );
    add(
        "POST",
        "/van-ban/{doc_id}/ky",
        format!("/van-ban/{signing}/ky"),
        Body::Form(vec![("role", "gvcn".into())]),
        on_docs(Action::SignAsHomeroom, Some(child), false),
    );
    add(
        "POST",
        "/api/v1/credentials/{doc_id}/sign",
        format!("/api/v1/credentials/{signing}/sign"),
        Body::Json(json!({"role": "gvcn"})),
        on_docs(Action::SignAsHomeroom, Some(child), false),
    );
    for (method, route, path, body, action) in [
        (
            "POST",
            "/van-ban/{doc_id}/thu-hoi",
            format!("/van-ban/{issued}/thu-hoi"),
            Body::Form(vec![("reason", "".into())]),
            Action::RevokeCredential,
        ),
        (
            "POST",
            "/van-ban/{doc_id}/dinh-chinh",
            format!("/van-ban/{issued}/dinh-chinh"),
            Body::Form(vec![]),
            Action::RevokeCredential,
        ),
        (
            "POST",
            "/van-ban/{doc_id}/ban-sao",
            format!("/van-ban/{issued}/ban-sao"),
            Body::Form(vec![("purpose", "".into())]),
            Action::CopyCredential,
        ),
        (
            "POST",
            "/api/v1/credentials/{doc_id}/revoke",
            format!("/api/v1/credentials/{issued}/revoke"),
            Body::Json(json!({"reason": ""})),
            Action::RevokeCredential,
        ),
        (
            "POST",
            "/api/v1/credentials/{doc_id}/copies",
            format!("/api/v1/credentials/{issued}/copies"),
            Body::Json(json!({"purpose": ""})),
            Action::CopyCredential,
        ),
    ] {
        let s = t.s.clone();
        add(
            method,
            route,
            path,
            body,
            Box::new(move |a: &Actor, _: &Held| {
                let doc = Resource::Credentials {
                    issuer: &s,
                    class_id: Some(k),
                    learner_id: Some(child),
                    issued: true,
                    homeroom_of_record: a.user_id == homeroom,
                };
                can(a, Action::ViewCredentials, doc) && can(a, action, Resource::OrgUnit(&s))
            }),
        );
    }
    // The diploma registry (the Sở is P).
    add("GET", "/van-bang", "/van-bang".into(), Body::None, registry());
    add(
        "GET",
        "/van-bang/moi",
        "/van-bang/moi".into(),
        Body::None,
        registry(),
    );
    add(
        "GET",
        "/api/v1/diplomas",
        "/api/v1/diplomas".into(),
        Body::None,
        registry(),
    );
    add(
        "POST",
        "/van-bang",
        "/van-bang".into(),
        Body::Form(vec![("learner", child.to_string()), ("year", y.to_string())]),
        registry(),
    );
    add(
        "POST",
        "/api/v1/diplomas",
        "/api/v1/diplomas".into(),
        Body::Json(json!({
            "learner_id": Uuid::now_v7(), "school_year_id": y, "serial": "A1", "register_no": "1",
            "decision_no": "1", "decision_date": "2026-06-01", "signer_title": "Giám đốc", "signer_name": "A"
        })),
        registry(),
    );
    v
}
