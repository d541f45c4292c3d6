//! The home dashboard: one card per role the user holds, with what that role looks after.

use crate::AppState;
use crate::ctx::Authed;
use crate::error::AppResult;
use crate::view::{Layout, page};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use truongso_core::auth::{Action, Resource, ScopeKind};
use truongso_store::school_years;

pub struct Card {
    pub role: String,
    pub scope: String,
    pub href: Option<String>,
    pub stats: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    l: Layout,
    name: String,
    cards: Vec<Card>,
}

pub async fn dashboard(State(st): State<AppState>, Authed { ctx, p }: Authed) -> AppResult<Response> {
    let l = Layout::titled(&ctx, "dashboard.title");
    let t = l.t;
    let db = &st.store.db;
    let today = truongso_store::now()
        .with_timezone(&crate::view::vn_offset())
        .date_naive();
    let mut cards = vec![];
    for g in &p.grants {
        let mut stats = vec![];
        let mut scope = g.org_name.clone();
        match g.scope_kind {
            ScopeKind::Subtree => {
                let c = st.subtree_counts(&g.org_path).await?;
                stats.push((
                    t.s("dashboard.schools_in_scope").to_string(),
                    c.schools.to_string(),
                ));
                stats.push((t.s("dashboard.units_in_scope").to_string(), c.units.to_string()));
                if p.can(Action::ViewUsers, Resource::OrgUnit(&g.org_path)) {
                    stats.push((t.s("dashboard.users_in_scope").to_string(), c.users.to_string()));
                }
            }
            ScopeKind::School | ScopeKind::Class | ScopeKind::ClassSubject => {
                if let Some(y) = school_years::current(db, g.org_unit_id, today).await? {
                    let term = y
                        .terms
                        .iter()
                        .find(|tm| tm.starts_on <= today && today <= tm.ends_on)
                        .map(|tm| format!(" · {}", t.term(&tm.kind)))
                        .unwrap_or_default();
                    stats.push((
                        t.s("dashboard.current_year").to_string(),
                        format!("{}{term}", y.name),
                    ));
                }
                if let Some(c) = &g.class_name {
                    let subject = g.subject.as_ref().map(|s| format!(" · {s}")).unwrap_or_default();
                    stats.push((t.s("dashboard.class").to_string(), format!("{c}{subject}")));
                }
            }
            ScopeKind::Child => {
                if let Some(name) = &g.learner_name {
                    scope = format!("{name} — {}", g.org_name);
                }
            }
        }
        cards.push(Card {
            role: t.role(&g.role).to_string(),
            // Each card leads to what the role looks after: the child, the class, or the unit.
            href: match (g.scope_kind, g.learner_id, g.class_id) {
                (ScopeKind::Child, Some(l), _) => Some(format!("/learners/{l}")),
                (ScopeKind::Class | ScopeKind::ClassSubject, _, Some(c)) => Some(format!("/classes/{c}")),
                _ => p
                    .can(Action::ViewOrgUnit, Resource::OrgUnit(&g.org_path))
                    .then(|| format!("/org/{}", g.org_unit_id)),
            },
            scope,
            stats,
        });
    }
    Ok(page(&Dashboard {
        name: p.user.display_name.clone(),
        l,
        cards,
    }))
}
