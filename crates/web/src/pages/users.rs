//! Account administration: list, create, edit, disable, unlock, reset passwords, grant and
//! revoke roles. Every action is checked against the account's owning unit or the grant's scope.

use crate::AppState;
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank, parse_uuid};
use crate::view::{FieldErrors, Layout, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::auth::{Action, Grant, Resource, Role};
use truongso_core::org::{OrgKind, OrgPath};
use truongso_store::accounts::{self, GrantRow, GrantSpec, NewUser, ProfileUpdate, UserRow};
use truongso_store::classes::{self, ClassRow};
use truongso_store::org::{self, OrgUnit};
use truongso_store::people::{self, LearnerRow};
use uuid::Uuid;

const PAGE_SIZE: u64 = 50;

/// Anchors of the actor's grants that allow `action` on the anchor itself.
fn anchors(p: &Principal, action: Action) -> Vec<OrgPath> {
    let mut v: Vec<OrgPath> = p
        .actor
        .grants
        .iter()
        .map(|g| g.scope.anchor().clone())
        .filter(|a| {
            p.can(action, Resource::OrgUnit(a))
                || (action == Action::ManageUser
                    && p.can(
                        action,
                        Resource::User {
                            owner: a,
                            grants: &[],
                        },
                    ))
        })
        .collect();
    v.sort_by_key(|a| a.depth());
    v.dedup();
    v
}

/// Current units the actor may own accounts in or grant roles on.
async fn units_under(st: &AppState, roots: &[OrgPath]) -> AppResult<Vec<OrgUnit>> {
    let mut out: Vec<OrgUnit> = vec![];
    for r in roots {
        for u in org::in_subtree(&st.store.db, r, None).await? {
            if u.is_current() && !out.iter().any(|x| x.id == u.id) {
                out.push(u);
            }
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    org: Option<String>,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "users_list.html")]
struct ListPage {
    l: Layout,
    users: Vec<UserRow>,
    owners: Vec<(Uuid, String)>,
    q: String,
    org: String,
    page: u64,
    pages: u64,
    total: u64,
    can_create: bool,
}

pub async fn list(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let db = &st.store.db;
    let within = match parse_uuid(&q.org, "org")? {
        Some(id) => {
            let unit = org::get(db, id).await?;
            p.require(Action::ViewUsers, Resource::OrgUnit(&unit.path))?;
            vec![unit.path]
        }
        None => anchors(&p, Action::ViewUsers),
    };
    if within.is_empty() {
        return Err(AppError::forbidden());
    }
    let page_no = q.page.unwrap_or(1).max(1);
    let query = q.q.clone().unwrap_or_default();
    let (users, total) =
        accounts::list_users(db, &within, &query, PAGE_SIZE, (page_no - 1) * PAGE_SIZE).await?;
    let owner_ids: Vec<Uuid> = users.iter().map(|u| u.owner_org_id).collect();
    let owners = org::get_many(db, &owner_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(page(&ListPage {
        l: Layout::titled(&ctx, "users.title"),
        users,
        owners,
        q: query,
        org: q.org.unwrap_or_default(),
        page: page_no,
        pages: total.div_ceil(PAGE_SIZE).max(1),
        total,
        can_create: !anchors(&p, Action::ManageUser).is_empty(),
    }))
}

#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    username: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    owner_org_id: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewPage {
    l: Layout,
    f: UserForm,
    errors: FieldErrors,
    owners: Vec<OrgUnit>,
}

async fn new_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    f: UserForm,
    e: Option<AppError>,
) -> AppResult<Response> {
    let owners = units_under(st, &anchors(p, Action::ManageUser)).await?;
    if owners.is_empty() {
        return Err(AppError::forbidden());
    }
    let (l, errors, status) = Layout::titled(ctx, "users.create").with_error(e);
    Ok(render(status, &NewPage { l, f, errors, owners }))
}

pub async fn new_form(State(st): State<AppState>, Authed { ctx, p }: Authed) -> AppResult<Response> {
    new_page(&st, &ctx, &p, UserForm::default(), None).await
}

pub async fn create(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<UserForm>,
) -> AppResult<Response> {
    let db = &st.store.db;
    let owner_id = parse_uuid(&f.owner_org_id, "owner_org_id")?
        .ok_or_else(|| AppError::invalid("owner_org_id", truongso_core::DomainError::Required));
    let result = async {
        let owner = org::get(db, owner_id?).await?;
        p.require(
            Action::ManageUser,
            Resource::User {
                owner: &owner.path,
                grants: &[],
            },
        )?;
        let input = NewUser {
            username: f.username.clone().unwrap_or_default(),
            display_name: f.display_name.clone().unwrap_or_default(),
            email: blank(&f.email),
            phone: blank(&f.phone),
            owner_org_id: owner.id,
            password: f.password.clone().unwrap_or_default(),
        };
        Ok::<_, AppError>(accounts::create_user(db, &p.actor_ref(), input).await?)
    }
    .await;
    after_write(
        result,
        |u| {
            flash_redirect(
                &format!("/users/{}", u.id),
                "success",
                "users.created",
                vec![("username", u.username)],
            )
        },
        async |e| new_page(&st, &ctx, &p, UserForm { password: None, ..f }, Some(e)).await,
    )
    .await
}

pub struct GrantView {
    pub row: GrantRow,
    pub can_revoke: bool,
}

#[derive(Template)]
#[template(path = "user_detail.html")]
struct DetailPage {
    l: Layout,
    user: UserRow,
    owner: OrgUnit,
    locked: bool,
    can_manage: bool,
    grants: Vec<GrantView>,
    grant_units: Vec<OrgUnit>,
    roles: Vec<Role>,
    classes: Vec<ClassRow>,
    learners: Vec<LearnerRow>,
    profile: UserForm,
    errors: FieldErrors,
}

async fn load_user(st: &AppState, p: &Principal, id: Uuid) -> AppResult<(UserRow, OrgUnit)> {
    let user = accounts::get_user(&st.store.db, id).await?;
    let owner = org::get(&st.store.db, user.owner_org_id).await?;
    if user.id != p.user.id {
        p.require(Action::ViewUsers, Resource::OrgUnit(&owner.path))?;
    }
    Ok((user, owner))
}

async fn detail_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    id: Uuid,
    e: Option<(AppError, UserForm)>,
) -> AppResult<Response> {
    let db = &st.store.db;
    let (user, owner) = load_user(st, p, id).await?;
    let grants: Vec<GrantView> = accounts::grants_of(db, id)
        .await?
        .into_iter()
        .map(|row| {
            let can_revoke = row.grant().is_some_and(|g| {
                p.can(
                    Action::GrantRole,
                    Resource::Grant {
                        role: g.role,
                        scope: &g.scope,
                    },
                )
            });
            GrantView { row, can_revoke }
        })
        .collect();
    // Units where the actor may hand out at least one role.
    let granting: Vec<OrgPath> = p
        .actor
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::Admin | Role::Principal | Role::VicePrincipal))
        .map(|g| g.scope.anchor().clone())
        .collect();
    let grant_units = units_under(st, &granting).await?;
    let school_ids: Vec<Uuid> = grant_units
        .iter()
        .filter(|u| u.kind == OrgKind::School)
        .map(|u| u.id)
        .collect();
    let classes = classes::for_schools(db, &school_ids).await?;
    let learners = people::for_schools(db, &school_ids, 200).await?;
    let (error, profile) = match e {
        Some((e, form)) => (Some(e), form),
        None => (
            None,
            UserForm {
                display_name: Some(user.display_name.clone()),
                email: user.email.clone(),
                phone: user.phone.clone(),
                ..Default::default()
            },
        ),
    };
    let (l, errors, status) = Layout::new(ctx, user.display_name.clone()).with_error(error);
    let target_grants: Vec<Grant> = grants.iter().filter_map(|g| g.row.grant()).collect();
    let page_data = DetailPage {
        l,
        locked: user.is_locked(truongso_store::now()),
        can_manage: p.can(
            Action::ManageUser,
            Resource::User {
                owner: &owner.path,
                grants: &target_grants,
            },
        ),
        grants,
        grant_units,
        roles: Role::ALL.to_vec(),
        classes,
        learners,
        profile,
        errors,
        user,
        owner,
    };
    Ok(render(status, &page_data))
}

pub async fn show(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    detail_page(&st, &ctx, &p, id, None).await
}

async fn managed(st: &AppState, p: &Principal, id: Uuid) -> AppResult<UserRow> {
    let (user, owner) = load_user(st, p, id).await?;
    require_manage(st, p, id, &owner.path).await?;
    Ok(user)
}

/// Managing an account means being able to take it over, so the actor needs administrator
/// rights over its owner and the right to grant every role it holds (a school administrator
/// cannot reset the password of someone who also administers the Sở).
pub async fn require_manage(st: &AppState, p: &Principal, user_id: Uuid, owner: &OrgPath) -> AppResult<()> {
    let held = accounts::actor_for(&st.store.db, user_id).await?.grants;
    p.require(Action::ManageUser, Resource::User { owner, grants: &held })
}

/// Runs a write on an account; validation failures re-render the page with the values kept.
async fn account_write<F, Fut>(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    id: Uuid,
    form: UserForm,
    ok_key: &str,
    f: F,
) -> AppResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<()>>,
{
    managed(st, p, id).await?;
    after_write(
        f().await,
        |()| flash_redirect(&format!("/users/{id}"), "success", ok_key, vec![]),
        async |e| detail_page(st, ctx, p, id, Some((e, form))).await,
    )
    .await
}

pub async fn update(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<UserForm>,
) -> AppResult<Response> {
    let input = ProfileUpdate {
        display_name: f.display_name.clone().unwrap_or_default(),
        email: blank(&f.email),
        phone: blank(&f.phone),
    };
    let who = p.actor_ref();
    account_write(&st, &ctx, &p, id, f, "users.saved", || async {
        accounts::update_profile(&st.store.db, &who, id, input).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<ActiveForm>,
) -> AppResult<Response> {
    let who = p.actor_ref();
    let active = f.active == "true";
    account_write(&st, &ctx, &p, id, UserForm::default(), "users.saved", || async {
        accounts::set_active(&st.store.db, &who, id, active).await?;
        Ok(())
    })
    .await
}

pub async fn unlock(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let who = p.actor_ref();
    account_write(&st, &ctx, &p, id, UserForm::default(), "users.saved", || async {
        accounts::unlock(&st.store.db, &who, id).await?;
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: Option<String>,
}

pub async fn reset_password(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<PasswordForm>,
) -> AppResult<Response> {
    let who = p.actor_ref();
    let pw = f.password.unwrap_or_default();
    account_write(
        &st,
        &ctx,
        &p,
        id,
        UserForm::default(),
        "users.password_reset",
        || async {
            accounts::reset_password(&st.store.db, &who, id, &pw).await?;
            Ok(())
        },
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct GrantForm {
    pub role: Option<String>,
    pub org_unit_id: Option<String>,
    pub class_id: Option<String>,
    pub subject: Option<String>,
    pub learner_id: Option<String>,
}

impl GrantForm {
    pub fn spec(&self) -> AppResult<GrantSpec> {
        Ok(GrantSpec {
            role: self.role.clone().unwrap_or_default(),
            org_unit_id: parse_uuid(&self.org_unit_id, "org_unit_id")?
                .ok_or_else(|| AppError::invalid("org_unit_id", truongso_core::DomainError::Required))?,
            class_id: parse_uuid(&self.class_id, "class_id")?,
            subject: blank(&self.subject),
            learner_id: parse_uuid(&self.learner_id, "learner_id")?,
        })
    }
}

/// Checks and records a grant; shared by the page and the API.
pub async fn grant_role(
    st: &AppState,
    p: &Principal,
    user_id: Uuid,
    spec: &GrantSpec,
) -> AppResult<GrantRow> {
    load_user(st, p, user_id).await?;
    let g = accounts::resolve_grant(&st.store.db, spec).await?;
    require_grantable(p, &g)?;
    Ok(accounts::grant(&st.store.db, &p.actor_ref(), user_id, &g).await?)
}

/// Handing out or taking back a role needs the right to grant that role on that scope.
fn require_grantable(p: &Principal, g: &Grant) -> AppResult<()> {
    p.require(
        Action::GrantRole,
        Resource::Grant {
            role: g.role,
            scope: &g.scope,
        },
    )
}

/// Checks and removes a grant; shared by the page and the API.
pub async fn revoke_grant(st: &AppState, p: &Principal, grant_id: Uuid) -> AppResult<GrantRow> {
    let row = accounts::get_grant(&st.store.db, grant_id).await?;
    let g = row
        .grant()
        .ok_or_else(|| AppError::internal("grant without scope"))?;
    require_grantable(p, &g)?;
    accounts::revoke(&st.store.db, &p.actor_ref(), grant_id).await?;
    Ok(row)
}

pub async fn grant(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<GrantForm>,
) -> AppResult<Response> {
    let result = async { grant_role(&st, &p, id, &f.spec()?).await }.await;
    after_write(
        result,
        |_| flash_redirect(&format!("/users/{id}"), "success", "users.granted", vec![]),
        async |e| detail_page(&st, &ctx, &p, id, Some((e, UserForm::default()))).await,
    )
    .await
}

pub async fn revoke(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, gid)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    if accounts::get_grant(&st.store.db, gid).await?.user_id != id {
        return Err(AppError::not_found());
    }
    revoke_grant(&st, &p, gid).await?;
    Ok(flash_redirect(
        &format!("/users/{id}"),
        "success",
        "users.revoked",
        vec![],
    ))
}
