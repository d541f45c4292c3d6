//! Route × role cases of the statistics forms, periods and submissions (see `authz.rs`). The
//! period is the demo's, opened by P; S and S2 are schools under P.

use super::{Action, Actor, Body, Case, Expect, Held, Resource, Targets, any_anchor, can};
use serde_json::json;
use truongso_core::org::OrgPath;

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

fn on(action: Action, path: &OrgPath) -> Expect {
    let path = path.clone();
    Box::new(move |a: &Actor, _: &Held| can(a, action, Resource::OrgUnit(&path)))
}

/// Someone whose grants reach the period's office from above or below and who may view
/// statistics there (what `api::stats::period` checks).
fn follows(office: &OrgPath) -> Expect {
    let office = office.clone();
    Box::new(move |a: &Actor, _: &Held| {
        a.grants.iter().any(|g| {
            let anchor = g.scope.anchor();
            (anchor.is_within(&office) || office.is_within(anchor))
                && can(a, Action::ViewStats, Resource::OrgUnit(anchor))
        })
    })
}

pub fn cases(t: &Targets) -> Vec<Case> {
    use Action::{ManageStats, SubmitStats, ViewStats};
    let period = t.period;
    let mut v = vec![
        case(
            "GET",
            "/stats",
            "/stats".into(),
            Body::None,
            Box::new(|a: &Actor, _: &Held| any_anchor(a, ViewStats)),
        ),
        case(
            "GET",
            "/stats/forms",
            "/stats/forms".into(),
            Body::None,
            Box::new(|a: &Actor, _: &Held| any_anchor(a, ViewStats)),
        ),
        case(
            "POST",
            "/stats/periods",
            format!("/stats/periods?unit={}", t.p_id),
            Body::Form(vec![
                ("round", "end_of_year".into()),
                ("start_year", "2031".into()),
            ]),
            on(ManageStats, &t.p),
        ),
        case(
            "POST",
            "/api/v1/stats/periods",
            "/api/v1/stats/periods".into(),
            Body::Json(json!({"office_id": t.p_id, "round": "end_of_year", "start_year": 2032})),
            on(ManageStats, &t.p),
        ),
        case(
            "GET",
            "/stats/periods/{id}",
            format!("/stats/periods/{period}"),
            Body::None,
            follows(&t.p),
        ),
        case(
            "GET",
            "/api/v1/stats/periods/{id}",
            format!("/api/v1/stats/periods/{period}"),
            Body::None,
            follows(&t.p),
        ),
        case(
            "GET",
            "/api/v1/stats/periods/{id}/totals",
            format!("/api/v1/stats/periods/{period}/totals"),
            Body::None,
            on(ViewStats, &t.p),
        ),
    ];
    for (path, id) in [(&t.p, t.p_id), (&t.s, t.s_id)] {
        v.push(case(
            "GET",
            "/stats",
            format!("/stats?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/periods",
            format!("/api/v1/stats/periods?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
    }
    for (path, id) in [(&t.s, t.s_id), (&t.s2, t.s2_id)] {
        let live = format!("unit={id}&round=beginning_of_year&year=2026");
        let cell = format!("{live}&form=tt25-2024%2F03-thcs-dn&row=1&column=total.all");
        for (route, p) in [
            ("/stats/forms", format!("/stats/forms?{live}")),
            ("/api/v1/stats/forms", format!("/api/v1/stats/forms?{live}")),
            ("/stats/forms/trace", format!("/stats/forms/trace?{cell}")),
            (
                "/api/v1/stats/forms/trace",
                format!("/api/v1/stats/forms/trace?{cell}"),
            ),
            (
                "/stats/forms/export",
                format!("/stats/forms/export?{live}&form=tt25-2024%2F03-thcs-dn&format=csv"),
            ),
        ] {
            v.push(case("GET", route, p, Body::None, on(ViewStats, path)));
        }
        let school = format!("{period}/schools/{id}");
        v.push(case(
            "GET",
            "/stats/periods/{id}/schools/{school}",
            format!("/stats/periods/{school}"),
            Body::None,
            on(ViewStats, path),
        ));
        for route in [
            "/api/v1/stats/periods/{id}/schools/{school}",
            "/api/v1/stats/periods/{id}/schools/{school}/snapshot",
        ] {
            let p = route.replace("{id}/schools/{school}", &school);
            v.push(case("GET", route, p, Body::None, on(ViewStats, path)));
        }
        v.push(case(
            "POST",
            "/stats/periods/{id}/schools/{school}/explain",
            format!("/stats/periods/{school}/explain"),
            Body::Form(vec![
                ("rule", "missing_field".into()),
                ("entity_id", id.to_string()),
                ("text", "Kiểm tra quyền".into()),
            ]),
            on(SubmitStats, path),
        ));
        v.push(case(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/explanations",
            format!("/api/v1/stats/periods/{school}/explanations"),
            Body::Json(json!({"rule": "missing_field", "entity_id": id, "text": ""})),
            on(SubmitStats, path),
        ));
        v.push(case(
            "POST",
            "/stats/periods/{id}/schools/{school}/submit",
            format!("/stats/periods/{school}/submit"),
            Body::Form(vec![]),
            on(SubmitStats, path),
        ));
        v.push(case(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/submit",
            format!("/api/v1/stats/periods/{school}/submit"),
            Body::None,
            on(SubmitStats, path),
        ));
        v.push(case(
            "POST",
            "/stats/periods/{id}/schools/{school}/decision",
            format!("/stats/periods/{school}/decision"),
            Body::Form(vec![
                ("decision", "return".into()),
                ("comment", "Kiểm tra quyền".into()),
            ]),
            on(ManageStats, &t.p),
        ));
        v.push(case(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/decision",
            format!("/api/v1/stats/periods/{school}/decision"),
            Body::Json(json!({"decision": "return", "comment": "Kiểm tra quyền"})),
            on(ManageStats, &t.p),
        ));
    }
    // Last: closing the period turns later writes into 409s, never into 403s.
    v.push(case(
        "POST",
        "/stats/periods/{id}/close",
        format!("/stats/periods/{period}/close"),
        Body::Form(vec![]),
        on(ManageStats, &t.p),
    ));
    v.push(case(
        "POST",
        "/api/v1/stats/periods/{id}/close",
        format!("/api/v1/stats/periods/{period}/close"),
        Body::None,
        on(ManageStats, &t.p),
    ));
    v
}
