//! The audit chain in the database: appends inside the caller's transaction, and a streaming
//! verifier for `truongso audit verify`.

use crate::entity::{audit_event, audit_head};
use crate::{ActorRef, Result};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use truongso_core::audit::{AuditRecord, ChainBreak, ChainVerifier, event_hash};

/// What changed, for one audit event.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, entity_type: &'a str, entity_id: impl ToString) -> Self {
        Self {
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, v: impl Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }

    pub fn after(mut self, v: impl Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

/// Appends one event. Call inside the transaction that makes the change, so the change and its
/// record commit together. Bumping the head row first serialises concurrent appends on both
/// databases (a row lock on PostgreSQL, the write lock on SQLite).
pub async fn append<C: ConnectionTrait>(db: &C, actor: &ActorRef, change: Change<'_>) -> Result<i64> {
    append_many(db, actor, vec![change]).await
}

/// Appends several events of one operation (an import) with four statements per thousand
/// events instead of four per event. Returns the sequence number of the last one.
pub async fn append_many<C: ConnectionTrait>(
    db: &C,
    actor: &ActorRef,
    changes: Vec<Change<'_>>,
) -> Result<i64> {
    let n = i64::try_from(changes.len()).map_err(|_| crate::Error::Internal("too many events".into()))?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq).add(n))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| crate::Error::Internal("audit head missing".into()))?;
    let at = crate::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let actor_id = actor.id.map(|u| u.to_string());
    let mut prev = head.hash;
    let mut seq = head.seq - n;
    let mut rows = Vec::with_capacity(changes.len());
    for change in changes {
        seq += 1;
        let before = change.before.map(|v| v.to_string());
        let after = change.after.map(|v| v.to_string());
        let hash = event_hash(
            seq,
            &at,
            actor_id.as_deref(),
            &actor.label,
            change.action,
            change.entity_type,
            &change.entity_id,
            before.as_deref(),
            after.as_deref(),
            &prev,
        );
        rows.push(audit_event::ActiveModel {
            seq: Set(seq),
            at: Set(at.clone()),
            actor_id: Set(actor_id.clone()),
            actor_label: Set(actor.label.clone()),
            action: Set(change.action.to_string()),
            entity_type: Set(change.entity_type.to_string()),
            entity_id: Set(change.entity_id),
            before_json: Set(before),
            after_json: Set(after),
            prev_hash: Set(std::mem::replace(&mut prev, hash.clone())),
            hash: Set(hash),
        });
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1000).collect();
        audit_event::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(prev))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(seq)
}

fn to_record(m: audit_event::Model) -> AuditRecord {
    AuditRecord {
        seq: m.seq,
        at: m.at,
        actor_id: m.actor_id,
        actor_label: m.actor_label,
        action: m.action,
        entity_type: m.entity_type,
        entity_id: m.entity_id,
        before: m.before_json,
        after: m.after_json,
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub first_break: Option<ChainBreak>,
}

/// Walks the whole chain in `seq` order, in pages, and reports the first break.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<VerifyReport> {
    const PAGE: u64 = 2_000;
    let mut v = ChainVerifier::default();
    let mut after_seq = 0i64;
    loop {
        let page = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(after_seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let n = page.len() as u64;
        for m in page {
            after_seq = m.seq;
            if let Err(b) = v.push(&to_record(m)) {
                return Ok(VerifyReport {
                    checked: v.checked,
                    first_break: Some(b),
                });
            }
        }
        if n < PAGE {
            break;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    let (head_seq, head_hash) = head.map(|h| (h.seq, h.hash)).unwrap_or((0, String::new()));
    let first_break = v.finish(head_seq, &head_hash).err();
    Ok(VerifyReport {
        checked: v.checked,
        first_break,
    })
}

/// The latest events, newest first, for the audit page.
pub async fn recent<C: ConnectionTrait>(
    db: &C,
    before_seq: Option<i64>,
    limit: u64,
) -> Result<Vec<AuditRecord>> {
    let mut q = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Seq)
        .limit(limit);
    if let Some(s) = before_seq {
        q = q.filter(audit_event::Column::Seq.lt(s));
    }
    Ok(q.all(db).await?.into_iter().map(to_record).collect())
}

/// Events about one entity, oldest first (the trail shown beside a record).
pub async fn for_entity<C: ConnectionTrait>(
    db: &C,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<AuditRecord>> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::EntityType.eq(entity_type))
        .filter(audit_event::Column::EntityId.eq(entity_id))
        .order_by_asc(audit_event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(to_record)
        .collect())
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64> {
    Ok(audit_event::Entity::find().count(db).await?)
}
