//! Accounts and role grants. Passwords are hashed with argon2id on a blocking thread; hashes
//! never leave this module.

use crate::audit::{self, Change};
use crate::entity::{class, learner, role_grant, session, user};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use std::sync::OnceLock;
use truongso_core::DomainError;
use truongso_core::auth::{Actor, Grant, Role, Scope, ScopeKind};
use truongso_core::error::OnField;
use truongso_core::org::{OrgKind, OrgPath};
use truongso_core::users::{Username, parse_email, parse_phone};
use truongso_core::{password, text};
use uuid::Uuid;

/// An account as shown to administrators and the API (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub owner_org_id: Uuid,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl UserRow {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }
}

impl From<user::Model> for UserRow {
    fn from(m: user::Model) -> Self {
        Self {
            id: m.id,
            username: m.username,
            display_name: m.display_name,
            email: m.email,
            phone: m.phone,
            owner_org_id: m.owner_org_id,
            active: m.active,
            failed_logins: m.failed_logins,
            locked_until: m.locked_until,
            created_at: m.created_at,
        }
    }
}

/// A grant with the names needed to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub scope_kind: ScopeKind,
    pub org_unit_id: Uuid,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: OrgPath,
    pub class_id: Option<Uuid>,
    pub class_name: Option<String>,
    pub subject: Option<String>,
    pub learner_id: Option<Uuid>,
    pub learner_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl GrantRow {
    pub fn grant(&self) -> Option<Grant> {
        let school = self.org_path.clone();
        let scope = match self.scope_kind {
            ScopeKind::Subtree => Scope::Subtree { root: school },
            ScopeKind::School => Scope::School { school },
            ScopeKind::Class => Scope::Class {
                school,
                class_id: self.class_id?,
            },
            ScopeKind::ClassSubject => Scope::ClassSubject {
                school,
                class_id: self.class_id?,
                subject: self.subject.clone()?,
            },
            ScopeKind::Child => Scope::Child {
                school,
                learner_id: self.learner_id?,
            },
        };
        Grant::new(self.role, scope).ok()
    }
}

// ---------------------------------------------------------------- passwords

pub async fn hash_password(password: &str) -> Result<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let salt = SaltString::encode_b64(&bytes).map_err(|e| Error::Internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hash: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

pub async fn verify_password(hash: &str, password: &str) -> bool {
    let (hash, pw) = (hash.to_string(), password.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the username does not exist, so timing does not tell which
/// usernames are real.
pub(crate) fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let salt = SaltString::encode_b64(b"truongso-dummy-salt").expect("static salt");
        Argon2::default()
            .hash_password(b"not a password", &salt)
            .expect("hash")
            .to_string()
    })
}

// ---------------------------------------------------------------- accounts

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub owner_org_id: Uuid,
    pub password: String,
}

#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

fn opt(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

struct Profile {
    display_name: String,
    email: Option<String>,
    phone: Option<String>,
}

fn parse_profile(display_name: &str, email: Option<&str>, phone: Option<&str>) -> Result<Profile> {
    Ok(Profile {
        display_name: text::parse_name(display_name, 120).on("display_name")?,
        email: opt(email).map(parse_email).transpose().on("email")?,
        phone: opt(phone).map(parse_phone).transpose().on("phone")?,
    })
}

pub async fn create_user(db: &DatabaseConnection, actor: &ActorRef, input: NewUser) -> Result<UserRow> {
    let username = Username::parse(&input.username).on("username")?;
    let p = parse_profile(
        &input.display_name,
        input.email.as_deref(),
        input.phone.as_deref(),
    )?;
    password::check_new_password(&input.password, username.as_str()).on("password")?;
    let hash = hash_password(&input.password).await?;
    let txn = db.begin().await?;
    crate::org::get(&txn, input.owner_org_id).await?;
    let taken = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .count(&txn)
        .await?;
    if taken > 0 {
        return Err(Error::Conflict(
            Msg::new("duplicate_username").with("username", username.as_str()),
        ));
    }
    let now = crate::now();
    let m = user::ActiveModel {
        id: Set(crate::new_id()),
        username: Set(username.as_str().into()),
        name_folded: Set(text::fold(&p.display_name)),
        display_name: Set(p.display_name),
        email: Set(p.email),
        phone: Set(p.phone),
        owner_org_id: Set(input.owner_org_id),
        password_hash: Set(hash),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let row = UserRow::from(m);
    audit::append(
        &txn,
        actor,
        Change::new("user.create", "user", row.id).after(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn get_user<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<UserRow> {
    Ok(find_model(db, id).await?.into())
}

async fn find_model<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_user"))
}

pub async fn by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<UserRow>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username.trim().to_lowercase()))
        .one(db)
        .await?
        .map(UserRow::from))
}

/// Applies `f` to an account and records before/after in the audit chain.
async fn modify<F>(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    action: &str,
    end_sessions: bool,
    f: F,
) -> Result<UserRow>
where
    F: FnOnce(&mut user::ActiveModel),
{
    let txn = db.begin().await?;
    let m = find_model(&txn, id).await?;
    let before = UserRow::from(m.clone());
    let mut am: user::ActiveModel = m.into();
    f(&mut am);
    am.updated_at = Set(crate::now());
    let after = UserRow::from(am.update(&txn).await?);
    if end_sessions {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
    }
    audit::append(
        &txn,
        actor,
        Change::new(action, "user", id).before(&before).after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn update_profile(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    input: ProfileUpdate,
) -> Result<UserRow> {
    let p = parse_profile(
        &input.display_name,
        input.email.as_deref(),
        input.phone.as_deref(),
    )?;
    modify(db, actor, id, "user.update", false, |am| {
        am.name_folded = Set(text::fold(&p.display_name));
        am.display_name = Set(p.display_name);
        am.email = Set(p.email);
        am.phone = Set(p.phone);
    })
    .await
}

/// Disabling ends the account's sessions at once.
pub async fn set_active(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    active: bool,
) -> Result<UserRow> {
    let action = if active { "user.enable" } else { "user.disable" };
    modify(db, actor, id, action, !active, |am| am.active = Set(active)).await
}

pub async fn unlock(db: &DatabaseConnection, actor: &ActorRef, id: Uuid) -> Result<UserRow> {
    modify(db, actor, id, "user.unlock", false, |am| {
        am.failed_logins = Set(0);
        am.locked_until = Set(None);
    })
    .await
}

/// An administrator sets a new password; the account's sessions end.
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    new_password: &str,
) -> Result<UserRow> {
    let u = get_user(db, id).await?;
    password::check_new_password(new_password, &u.username).on("password")?;
    let hash = hash_password(new_password).await?;
    modify(db, actor, id, "user.reset_password", true, |am| {
        am.password_hash = Set(hash);
        am.password_changed_at = Set(crate::now());
        am.failed_logins = Set(0);
        am.locked_until = Set(None);
    })
    .await
}

/// The user changes their own password; other sessions end, the current one (if given) stays.
pub async fn change_own_password(
    db: &DatabaseConnection,
    user_id: Uuid,
    current: &str,
    new: &str,
    confirm: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    let m = find_model(db, user_id).await?;
    if !verify_password(&m.password_hash, current).await {
        return Err(Error::Conflict(Msg::new("wrong_current_password")));
    }
    if new != confirm {
        return Err(Error::Conflict(Msg::new("password_mismatch")));
    }
    password::check_new_password(new, &m.username).on("new_password")?;
    let hash = hash_password(new).await?;
    let actor = ActorRef::user(m.id, &m.username);
    let txn = db.begin().await?;
    let mut am: user::ActiveModel = m.into();
    am.password_hash = Set(hash);
    am.password_changed_at = Set(crate::now());
    am.updated_at = Set(crate::now());
    am.update(&txn).await?;
    let mut del = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(keep) = keep_session {
        del = del.filter(session::Column::Id.ne(keep));
    }
    del.exec(&txn).await?;
    audit::append(&txn, &actor, Change::new("user.change_password", "user", user_id)).await?;
    txn.commit().await?;
    Ok(())
}

/// Accounts owned by units inside any of `within`, filtered by a folded name/username query.
pub async fn list_users(
    db: &DatabaseConnection,
    within: &[OrgPath],
    query: &str,
    limit: u64,
    offset: u64,
) -> Result<(Vec<UserRow>, u64)> {
    if within.is_empty() {
        return Ok((vec![], 0));
    }
    let owners = crate::org::ids_within(within);
    let mut q = user::Entity::find().filter(user::Column::OwnerOrgId.in_subquery(owners));
    let folded = text::fold(query);
    if !folded.is_empty() {
        q = q.filter(
            Condition::any()
                .add(user::Column::NameFolded.contains(&folded))
                .add(user::Column::Username.contains(query.trim().to_lowercase())),
        );
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(user::Column::Username)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(UserRow::from).collect(), total))
}

// ---------------------------------------------------------------- grants

/// A grant as requested: role code plus the ids that define its scope.
#[derive(Debug, Clone, Default)]
pub struct GrantSpec {
    pub role: String,
    pub org_unit_id: Uuid,
    pub class_id: Option<Uuid>,
    pub subject: Option<String>,
    pub learner_id: Option<Uuid>,
}

/// Checks a requested grant against the data (the unit is a school where the role needs one,
/// the class or learner belongs to it) and returns the policy-level grant.
pub async fn resolve_grant<C: ConnectionTrait>(db: &C, spec: &GrantSpec) -> Result<Grant> {
    let role = Role::parse(&spec.role).on("role")?;
    let unit = crate::org::get(db, spec.org_unit_id).await?;
    let kind = role.scope_kind();
    if kind != ScopeKind::Subtree && unit.kind != OrgKind::School {
        return Err(Error::conflict("scope_needs_school"));
    }
    let school = unit.path.clone();
    let need_class = || -> Result<Uuid> {
        spec.class_id
            .ok_or(Error::invalid("class_id", DomainError::Required))
    };
    let scope = match kind {
        ScopeKind::Subtree => Scope::Subtree { root: school },
        ScopeKind::School => Scope::School { school },
        ScopeKind::Class | ScopeKind::ClassSubject => {
            let class_id = need_class()?;
            let c = class::Entity::find_by_id(class_id)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("unknown_class"))?;
            if c.school_id != unit.id {
                return Err(Error::conflict("class_not_in_school"));
            }
            if kind == ScopeKind::Class {
                Scope::Class { school, class_id }
            } else {
                let subject = opt(spec.subject.as_deref())
                    .ok_or(Error::invalid("subject", DomainError::Required))
                    .and_then(|s| text::parse_name(s, 60).on("subject").map_err(Error::from))?;
                Scope::ClassSubject {
                    school,
                    class_id,
                    subject: text::fold(&subject),
                }
            }
        }
        ScopeKind::Child => {
            let lid = spec
                .learner_id
                .ok_or(Error::invalid("learner_id", DomainError::Required))?;
            let l = learner::Entity::find_by_id(lid)
                .one(db)
                .await?
                .ok_or_else(|| Error::not_found("unknown_learner"))?;
            if l.school_id != unit.id {
                return Err(Error::conflict("learner_not_in_school"));
            }
            Scope::Child {
                school,
                learner_id: lid,
            }
        }
    };
    Grant::new(role, scope).on("role").map_err(Error::from)
}

fn scope_ids(scope: &Scope) -> (Option<Uuid>, Option<String>, Option<Uuid>) {
    match scope {
        Scope::Subtree { .. } | Scope::School { .. } => (None, None, None),
        Scope::Class { class_id, .. } => (Some(*class_id), None, None),
        Scope::ClassSubject {
            class_id, subject, ..
        } => (Some(*class_id), Some(subject.clone()), None),
        Scope::Child { learner_id, .. } => (None, None, Some(*learner_id)),
    }
}

/// Works inside an outer transaction too (as a savepoint), so records that imply a grant
/// (teaching assignments, homeroom classes, guardian links) commit with it or not at all.
pub async fn grant<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    user_id: Uuid,
    g: &Grant,
) -> Result<GrantRow> {
    let txn = db.begin().await?;
    find_model(&txn, user_id).await?;
    if grants_of(&txn, user_id)
        .await?
        .iter()
        .any(|r| r.grant().as_ref() == Some(g))
    {
        return Err(Error::conflict("duplicate_grant"));
    }
    let (class_id, subject, learner_id) = scope_ids(&g.scope);
    let id = crate::new_id();
    role_grant::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        role: Set(g.role.as_str().into()),
        scope_kind: Set(g.scope.kind().as_str().into()),
        org_unit_id: Set(g.scope.anchor().last_id()),
        class_id: Set(class_id),
        subject: Set(subject),
        learner_id: Set(learner_id),
        granted_by: Set(actor.id),
        created_at: Set(crate::now()),
    }
    .insert(&txn)
    .await?;
    let row = grants_of(&txn, user_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::Internal("grant vanished".into()))?;
    audit::append(
        &txn,
        actor,
        Change::new("grant.create", "role_grant", id).after(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn get_grant<C: ConnectionTrait>(db: &C, grant_id: Uuid) -> Result<GrantRow> {
    let m = role_grant::Entity::find_by_id(grant_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_grant"))?;
    grants_of(db, m.user_id)
        .await?
        .into_iter()
        .find(|r| r.id == grant_id)
        .ok_or_else(|| Error::not_found("unknown_grant"))
}

pub async fn revoke<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    grant_id: Uuid,
) -> Result<()> {
    let txn = db.begin().await?;
    let row = get_grant(&txn, grant_id).await?;
    role_grant::Entity::delete_by_id(grant_id).exec(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("grant.revoke", "role_grant", grant_id).before(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A user's grants with the names of their units, classes and learners.
pub async fn grants_of<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<GrantRow>> {
    // One query for the grants and their units: this runs on every authenticated request.
    let pairs = role_grant::Entity::find()
        .find_also_related(crate::entity::org_unit::Entity)
        .filter(role_grant::Column::UserId.eq(user_id))
        .order_by_asc(role_grant::Column::CreatedAt)
        .all(db)
        .await?;
    if pairs.is_empty() {
        return Ok(vec![]);
    }
    let mut rows = Vec::with_capacity(pairs.len());
    let mut orgs = Vec::with_capacity(pairs.len());
    for (g, o) in pairs {
        if let Some(o) = o {
            orgs.push(crate::org::OrgUnit::try_from(o)?);
        }
        rows.push(g);
    }
    let class_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.class_id).collect();
    let classes = if class_ids.is_empty() {
        vec![]
    } else {
        class::Entity::find()
            .filter(class::Column::Id.is_in(class_ids))
            .all(db)
            .await?
    };
    let learner_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.learner_id).collect();
    let learners = if learner_ids.is_empty() {
        vec![]
    } else {
        learner::Entity::find()
            .filter(learner::Column::Id.is_in(learner_ids))
            .all(db)
            .await?
    };
    rows.into_iter()
        .map(|r| {
            let org = orgs
                .iter()
                .find(|o| o.id == r.org_unit_id)
                .ok_or_else(|| Error::Internal("grant on a missing unit".into()))?;
            Ok(GrantRow {
                id: r.id,
                user_id: r.user_id,
                role: Role::parse(&r.role).map_err(|_| Error::Internal(format!("bad role {}", r.role)))?,
                scope_kind: ScopeKind::parse(&r.scope_kind)
                    .map_err(|_| Error::Internal(format!("bad scope {}", r.scope_kind)))?,
                org_unit_id: r.org_unit_id,
                org_name: org.name.clone(),
                org_path: org.path.clone(),
                class_name: r
                    .class_id
                    .and_then(|c| classes.iter().find(|x| x.id == c).map(|x| x.name.clone())),
                class_id: r.class_id,
                subject: r.subject,
                learner_name: r
                    .learner_id
                    .and_then(|l| learners.iter().find(|x| x.id == l).map(|x| x.full_name.clone())),
                learner_id: r.learner_id,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The policy-level actor for a user.
pub async fn actor_for<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Actor> {
    Ok(grants_and_actor(db, user_id).await?.1)
}

/// A user's grant rows (for display) and the actor built from them (for decisions), in one read.
pub async fn grants_and_actor<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<(Vec<GrantRow>, Actor)> {
    let rows = grants_of(db, user_id).await?;
    let grants = rows.iter().filter_map(GrantRow::grant).collect();
    Ok((rows, Actor { user_id, grants }))
}
