//! Route × role cases of the quality pages and API (see `authz.rs`).

use super::{Action, Actor, Body, Case, Expect, Held, Resource, Targets, any_anchor, can};

fn case(route: &'static str, path: String, expect: Expect) -> Case {
    Case {
        method: "GET",
        route,
        path,
        body: Body::None,
        fresh_grant: false,
        expect,
    }
}

pub fn cases(t: &Targets) -> Vec<Case> {
    let mut v = vec![case(
        "/quality",
        "/quality".into(),
        Box::new(|a: &Actor, _: &Held| any_anchor(a, Action::ViewQuality)),
    )];
    for (path, id) in [(&t.s, t.s_id), (&t.s2, t.s2_id)] {
        let pv = path.clone();
        let view = move |a: &Actor, _: &Held| can(a, Action::ViewQuality, Resource::OrgUnit(&pv));
        v.push(case(
            "/quality",
            format!("/quality?school={id}"),
            Box::new(view.clone()),
        ));
        v.push(case(
            "/api/v1/quality/schools/{id}",
            format!("/api/v1/quality/schools/{id}"),
            Box::new(view),
        ));
    }
    for (path, id) in [(&t.p, t.p_id), (&t.s, t.s_id)] {
        let pv = path.clone();
        let view = move |a: &Actor, _: &Held| can(a, Action::ViewQuality, Resource::OrgUnit(&pv));
        v.push(case(
            "/quality",
            format!("/quality?unit={id}"),
            Box::new(view.clone()),
        ));
        v.push(case(
            "/api/v1/quality/units/{id}",
            format!("/api/v1/quality/units/{id}"),
            Box::new(view),
        ));
    }
    v
}
