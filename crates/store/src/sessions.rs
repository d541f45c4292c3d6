//! Login, sessions kept in the database, and the lockout rule. Only a SHA-256 of the session
//! token is stored, so a leaked table does not yield usable cookies.

use crate::accounts::{self, UserRow};
use crate::audit::{self, Change};
use crate::entity::{session, user};
use crate::{ActorRef, Result};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};
use sha2::{Digest, Sha256};
use truongso_core::auth::Actor;
use truongso_core::password::LoginGuard;

/// Why a login was refused. The message never says whether the username exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    BadCredentials,
    Locked { minutes_left: i64 },
    Disabled,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value; shown once, never stored.
    pub token: String,
    pub csrf_token: String,
    pub user: UserRow,
    pub expires_at: DateTime<Utc>,
}

/// An authenticated request's context.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session_id: String,
    pub csrf_token: String,
    pub user: UserRow,
    pub actor: Actor,
    pub grants: Vec<accounts::GrantRow>,
}

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a username and password, applies the lockout rule, and opens a session. Every
/// failure is audited.
pub async fn login(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
    ttl: Duration,
) -> Result<std::result::Result<NewSession, LoginFailure>> {
    let now = crate::now();
    let uname = username.trim().to_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(&uname))
        .one(db)
        .await?;
    let Some(m) = found else {
        accounts::verify_password(accounts::dummy_hash(), password).await;
        let txn = db.begin().await?;
        let who = ActorRef::system("anonymous");
        let change = Change::new("auth.login_failed", "user", "-").after(serde_json::json!({
            "username": truncate(&uname, 64), "reason": "unknown_user"
        }));
        audit::append(&txn, &who, change).await?;
        txn.commit().await?;
        return Ok(Err(LoginFailure::BadCredentials));
    };
    let who = ActorRef::user(m.id, &m.username);
    let guard = LoginGuard {
        failed: m.failed_logins,
        locked_until: m.locked_until,
    };
    let failure = if !m.active {
        Some(LoginFailure::Disabled)
    } else if guard.is_locked(now) {
        let left = (guard.locked_until.unwrap_or(now) - now).num_seconds();
        Some(LoginFailure::Locked {
            minutes_left: (left + 59) / 60,
        })
    } else {
        None
    };
    if let Some(f) = failure {
        let txn = db.begin().await?;
        let reason = if f == LoginFailure::Disabled {
            "disabled"
        } else {
            "locked"
        };
        let change =
            Change::new("auth.login_failed", "user", m.id).after(serde_json::json!({ "reason": reason }));
        audit::append(&txn, &who, change).await?;
        txn.commit().await?;
        return Ok(Err(f));
    }
    if !accounts::verify_password(&m.password_hash, password).await {
        let next = guard.after_failure(now);
        let txn = db.begin().await?;
        let mut am: user::ActiveModel = m.clone().into();
        am.failed_logins = Set(next.failed);
        am.locked_until = Set(next.locked_until);
        am.update(&txn).await?;
        let change = Change::new("auth.login_failed", "user", m.id)
            .after(serde_json::json!({ "reason": "bad_password", "failed": next.failed }));
        audit::append(&txn, &who, change).await?;
        if next.is_locked(now) {
            let change = Change::new("auth.locked", "user", m.id)
                .after(serde_json::json!({ "locked_until": next.locked_until }));
            audit::append(&txn, &who, change).await?;
        }
        txn.commit().await?;
        return Ok(Err(match next.is_locked(now) {
            true => LoginFailure::Locked {
                minutes_left: truongso_core::password::LOCKOUT_MINUTES,
            },
            false => LoginFailure::BadCredentials,
        }));
    }
    let token = random_token(32);
    let csrf_token = random_token(32);
    let expires_at = now + ttl;
    let txn = db.begin().await?;
    let mut am: user::ActiveModel = m.clone().into();
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    let m = am.update(&txn).await?;
    session::ActiveModel {
        id: Set(token_hash(&token)),
        user_id: Set(m.id),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(&txn)
    .await?;
    audit::append(&txn, &who, Change::new("auth.login", "user", m.id)).await?;
    txn.commit().await?;
    Ok(Ok(NewSession {
        token,
        csrf_token,
        user: m.into(),
        expires_at,
    }))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Resolves a session cookie. Expired sessions and disabled accounts yield `None`. Activity
/// slides the expiry, written at most once a minute to keep reads cheap.
pub async fn lookup<C: ConnectionTrait>(db: &C, token: &str, ttl: Duration) -> Result<Option<SessionInfo>> {
    let now = crate::now();
    let id = token_hash(token);
    let Some((s, Some(u))) = session::Entity::find_by_id(id.clone())
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if s.expires_at <= now || !u.active {
        return Ok(None);
    }
    if now - s.last_seen_at > Duration::seconds(60) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
            .col_expr(
                session::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(now + ttl),
            )
            .filter(session::Column::Id.eq(id.clone()))
            .exec(db)
            .await?;
    }
    let (grants, actor) = accounts::grants_and_actor(db, u.id).await?;
    Ok(Some(SessionInfo {
        session_id: id,
        csrf_token: s.csrf_token,
        user: u.into(),
        actor,
        grants,
    }))
}

/// Is there a session row for this token at all (to tell "expired" from "never logged in")?
pub async fn existed<C: ConnectionTrait>(db: &C, token: &str) -> Result<bool> {
    Ok(session::Entity::find_by_id(token_hash(token))
        .one(db)
        .await?
        .is_some())
}

pub async fn logout(db: &DatabaseConnection, info: &SessionInfo) -> Result<()> {
    let txn = db.begin().await?;
    session::Entity::delete_by_id(info.session_id.clone())
        .exec(&txn)
        .await?;
    let who = ActorRef::user(info.user.id, &info.user.username);
    audit::append(&txn, &who, Change::new("auth.logout", "user", info.user.id)).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes sessions past their expiry; returns how many.
pub async fn purge_expired<C: ConnectionTrait>(db: &C) -> Result<u64> {
    let res = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(crate::now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
