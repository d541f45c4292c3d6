//! API tokens for integrations: `ts_<prefix>_<secret>`, shown once, stored as SHA-256.
//! A token acts with its owner's grants.

use crate::accounts::{self, UserRow};
use crate::audit::{self, Change};
use crate::entity::{api_token, user};
use crate::sessions::{random_token, token_hash};
use crate::{ActorRef, Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use truongso_core::auth::Actor;
use truongso_core::error::OnField;
use truongso_core::text;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_token::Model> for TokenRow {
    fn from(m: api_token::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Creates a token; returns its row and the secret (the only time it is visible).
pub async fn create(
    db: &DatabaseConnection,
    owner: &ActorRef,
    user_id: Uuid,
    name: &str,
    valid_days: Option<i64>,
) -> Result<(TokenRow, String)> {
    let name = text::parse_name(name, 80).on("name")?;
    let prefix: String = random_token(6)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let secret = format!("ts_{prefix}_{}", random_token(32));
    let now = crate::now();
    let txn = db.begin().await?;
    let m = api_token::ActiveModel {
        id: Set(crate::new_id()),
        user_id: Set(user_id),
        name: Set(name),
        prefix: Set(prefix),
        token_hash: Set(token_hash(&secret)),
        created_at: Set(now),
        expires_at: Set(valid_days.map(|d| now + Duration::days(d))),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let row = TokenRow::from(m);
    audit::append(
        &txn,
        owner,
        Change::new("token.create", "api_token", row.id).after(&row),
    )
    .await?;
    txn.commit().await?;
    Ok((row, secret))
}

pub async fn list<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<TokenRow>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(TokenRow::from)
        .collect())
}

pub async fn revoke(db: &DatabaseConnection, owner: &ActorRef, user_id: Uuid, id: Uuid) -> Result<()> {
    let txn = db.begin().await?;
    let m = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("invalid_token"))?;
    let before = TokenRow::from(m.clone());
    let mut am: api_token::ActiveModel = m.into();
    am.revoked_at = Set(Some(crate::now()));
    let after = TokenRow::from(am.update(&txn).await?);
    audit::append(
        &txn,
        owner,
        Change::new("token.revoke", "api_token", id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Resolves a bearer token to its owner and grants; `None` if unknown, revoked, expired, or
/// the owner is disabled.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    secret: &str,
) -> Result<Option<(UserRow, Actor, Vec<accounts::GrantRow>)>> {
    let now = crate::now();
    let Some((t, Some(u))) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(secret.trim())))
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) || !u.active {
        return Ok(None);
    }
    if t.last_used_at.is_none_or(|l| now - l > Duration::seconds(60)) {
        let mut am: api_token::ActiveModel = t.into();
        am.last_used_at = Set(Some(now));
        am.update(db).await?;
    }
    let (grants, actor) = accounts::grants_and_actor(db, u.id).await?;
    Ok(Some((u.into(), actor, grants)))
}
