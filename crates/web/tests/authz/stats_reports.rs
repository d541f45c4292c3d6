//! Route × role cases of the statistics reports, population tables, PCGD levels and dashboard,
//! pages and API (see `authz.rs`). P is the demo's Sở; S and S2 are schools under it.

use super::{Action, Actor, Body, Case, Expect, Held, Resource, Targets, any_anchor, can};
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

fn anywhere(action: Action) -> Expect {
    Box::new(move |a: &Actor, _: &Held| any_anchor(a, action))
}

pub fn cases(t: &Targets) -> Vec<Case> {
    use Action::{ManageStats, ViewStats};
    let mut v = vec![
        // Without a unit: the highest unit of the caller's grants, if any lets them.
        case(
            "GET",
            "/stats/reports",
            "/stats/reports".into(),
            Body::None,
            anywhere(ViewStats),
        ),
        case(
            "GET",
            "/stats/pcgd",
            "/stats/pcgd".into(),
            Body::None,
            anywhere(ViewStats),
        ),
        case(
            "GET",
            "/stats/dashboard",
            "/stats/dashboard".into(),
            Body::None,
            anywhere(ViewStats),
        ),
        case(
            "GET",
            "/stats/population",
            "/stats/population".into(),
            Body::None,
            anywhere(ManageStats),
        ),
        case(
            "GET",
            "/api/v1/stats/indicators",
            "/api/v1/stats/indicators".into(),
            Body::None,
            anywhere(ViewStats),
        ),
        // A harmless file: signed-in users only.
        case(
            "GET",
            "/stats/population/template.xlsx",
            "/stats/population/template.xlsx".into(),
            Body::None,
            Box::new(|_: &Actor, _: &Held| true),
        ),
    ];
    for (path, id) in [(&t.p, t.p_id), (&t.s, t.s_id), (&t.s2, t.s2_id)] {
        let q = "measure=learners&by1=sex";
        v.push(case(
            "GET",
            "/stats/reports",
            format!("/stats/reports?unit={id}&{q}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/reports",
            format!("/api/v1/stats/reports?unit={id}&{q}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/dashboard",
            format!("/api/v1/stats/dashboard?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
    }
    for (path, id) in [(&t.p, t.p_id), (&t.s, t.s_id)] {
        v.push(case(
            "GET",
            "/stats/reports/export",
            format!("/stats/reports/export?unit={id}&measure=pupils_per_class&format=csv"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/indicators",
            format!("/api/v1/stats/indicators?unit={id}&year=2026"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/stats/pcgd",
            format!("/stats/pcgd?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/pcgd",
            format!("/api/v1/stats/pcgd?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/stats/dashboard",
            format!("/stats/dashboard?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/api/v1/stats/population",
            format!("/api/v1/stats/population?unit={id}"),
            Body::None,
            on(ViewStats, path),
        ));
        v.push(case(
            "GET",
            "/stats/population",
            format!("/stats/population?unit={id}"),
            Body::None,
            on(ManageStats, path),
        ));
        // A table with a header and no row: refused (400) after authorisation, nothing stored.
        v.push(case(
            "POST",
            "/stats/population",
            format!("/stats/population?unit={id}"),
            Body::Form(vec![("csv", "Mã xã;Năm;Tuổi;Dân số".into())]),
            on(ManageStats, path),
        ));
        v.push(case(
            "POST",
            "/api/v1/stats/population",
            format!("/api/v1/stats/population?unit={id}"),
            Body::None,
            on(ManageStats, path),
        ));
    }
    v
}
