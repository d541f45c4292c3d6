//! Which schools a user may act on for an action: the schools their grants name, and every
//! current school under the subtrees they administer or supervise. Used to offer a school
//! picker and to check a requested school (the check itself is always `core::auth::can`).

use crate::AppState;
use crate::ctx::Principal;
use crate::error::{AppError, AppResult};
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgKind;
use truongso_store::org::{self, OrgUnit};
use uuid::Uuid;

pub async fn schools_for(st: &AppState, p: &Principal, action: Action) -> AppResult<Vec<OrgUnit>> {
    let mut out: Vec<OrgUnit> = vec![];
    for g in &p.actor.grants {
        let anchor = g.scope.anchor();
        if !p.can(action, Resource::OrgUnit(anchor)) {
            continue;
        }
        for u in org::in_subtree(&st.store.db, anchor, Some(OrgKind::School)).await? {
            if u.is_current() && !out.iter().any(|o| o.id == u.id) {
                out.push(u);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The school named by `id`, if the user may perform `action` on it.
pub async fn school(st: &AppState, p: &Principal, id: Uuid, action: Action) -> AppResult<OrgUnit> {
    let unit = org::get(&st.store.db, id).await?;
    if unit.kind != OrgKind::School {
        return Err(AppError::not_found());
    }
    p.require(action, Resource::OrgUnit(&unit.path))?;
    Ok(unit)
}

/// The school a page is about: the one asked for, else the first the user may act on.
pub async fn chosen(
    st: &AppState,
    p: &Principal,
    asked: Option<Uuid>,
    action: Action,
) -> AppResult<(Option<OrgUnit>, Vec<OrgUnit>)> {
    let schools = schools_for(st, p, action).await?;
    let chosen = match asked {
        Some(id) => Some(school(st, p, id, action).await?),
        None => schools.first().cloned(),
    };
    Ok((chosen, schools))
}

/// The units of the user's grants on which they may perform `action`, highest first (the
/// choices of a unit picker; lower units are reached from these).
pub async fn units_for(st: &AppState, p: &Principal, action: Action) -> AppResult<Vec<OrgUnit>> {
    let mut anchors: Vec<_> = p
        .actor
        .grants
        .iter()
        .map(|g| g.scope.anchor().clone())
        .filter(|a| p.can(action, Resource::OrgUnit(a)))
        .collect();
    anchors.sort_by_key(|a| a.depth());
    anchors.dedup();
    let mut out: Vec<OrgUnit> = vec![];
    for a in anchors {
        if !out.iter().any(|u| u.id == a.last_id()) {
            out.push(org::get(&st.store.db, a.last_id()).await?);
        }
    }
    Ok(out)
}

/// The unit named by `id`, if the user may perform `action` on it.
pub async fn unit(st: &AppState, p: &Principal, id: Uuid, action: Action) -> AppResult<OrgUnit> {
    let u = org::get(&st.store.db, id).await?;
    p.require(action, Resource::OrgUnit(&u.path))?;
    Ok(u)
}

/// The unit a page is about: the one asked for, else the highest the user may act on; with
/// the picker's choices.
pub async fn chosen_unit(
    st: &AppState,
    p: &Principal,
    asked: Option<Uuid>,
    action: Action,
) -> AppResult<(OrgUnit, Vec<OrgUnit>)> {
    let choices = units_for(st, p, action).await?;
    let unit = match asked {
        Some(id) => unit(st, p, id, action).await?,
        None => choices.first().cloned().ok_or_else(AppError::forbidden)?,
    };
    Ok((unit, choices))
}
