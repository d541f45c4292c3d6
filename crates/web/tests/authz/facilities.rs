//! Route × role cases of the facilities pages and API (see `authz.rs`). Writes carry an
//! invalid body: an allowed caller gets a validation error (nothing changes), a refused one 403.

use super::{Action, Actor, Body, Case, Expect, Held, Resource, Targets, any_anchor, can};
use serde_json::json;

fn case(method: &'static str, route: &'static str, path: String, body: Body, expect: Expect) -> Case {
    Case {
        method,
        route,
        path,
        body,
        fresh_grant: false,
        expect,
    }
}

pub fn cases(t: &Targets) -> Vec<Case> {
    let mut v = vec![case(
        "GET",
        "/facilities",
        "/facilities".into(),
        Body::None,
        Box::new(|a: &Actor, _: &Held| any_anchor(a, Action::ViewFacilities)),
    )];
    for (path, id) in [(&t.s, t.s_id), (&t.s2, t.s2_id)] {
        let pv = path.clone();
        let view = move |a: &Actor, _: &Held| can(a, Action::ViewFacilities, Resource::OrgUnit(&pv));
        let pm = path.clone();
        let manage = move |a: &Actor, _: &Held| can(a, Action::ManageFacilities, Resource::OrgUnit(&pm));
        v.push(case(
            "GET",
            "/facilities",
            format!("/facilities?school={id}"),
            Body::None,
            Box::new(view.clone()),
        ));
        v.push(case(
            "GET",
            "/api/v1/schools/{id}/facilities",
            format!("/api/v1/schools/{id}/facilities"),
            Body::None,
            Box::new(view),
        ));
        v.push(case(
            "POST",
            "/facilities/{school_id}/rooms",
            format!("/facilities/{id}/rooms"),
            Body::Form(vec![("name", "".into()), ("kind", "classroom".into())]),
            Box::new(manage.clone()),
        ));
        v.push(case(
            "POST",
            "/facilities/{school_id}/equipment",
            format!("/facilities/{id}/equipment"),
            Body::Form(vec![("code", "".into()), ("quantity", "1".into())]),
            Box::new(manage.clone()),
        ));
        v.push(case(
            "POST",
            "/facilities/{school_id}/facts",
            format!("/facilities/{id}/facts"),
            Body::Form(vec![
                ("grid_power", "có".into()),
                ("computers_teaching", "sai".into()),
            ]),
            Box::new(manage.clone()),
        ));
        v.push(case(
            "POST",
            "/api/v1/schools/{id}/rooms",
            format!("/api/v1/schools/{id}/rooms"),
            Body::Json(json!({"name": "", "kind": "classroom", "quality": "solid"})),
            Box::new(manage.clone()),
        ));
        v.push(case(
            "POST",
            "/api/v1/schools/{id}/equipment",
            format!("/api/v1/schools/{id}/equipment"),
            Body::Json(json!({"code": "", "name": "X", "category": "X", "quantity": 1, "condition": "good"})),
            Box::new(manage.clone()),
        ));
        v.push(case(
            "PUT",
            "/api/v1/schools/{id}/facilities/facts",
            format!("/api/v1/schools/{id}/facilities/facts"),
            Body::Json(json!({"computers_teaching": -1, "facts": {"grid_power": true}})),
            Box::new(manage),
        ));
    }
    v
}
