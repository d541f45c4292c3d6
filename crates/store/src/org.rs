//! The organisation tree in the database: units with a materialised path, and the
//! effective-dated history of each unit's name, code and parent.

use crate::audit::{self, Change};
use crate::entity::{org_unit, org_unit_version};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use truongso_core::DomainError;
use truongso_core::error::OnField;
use truongso_core::org::{OrgCode, OrgKind, OrgPath, SchoolLevels};
use truongso_core::text;
use uuid::Uuid;

/// A unit as the rest of the application sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgUnit {
    pub id: Uuid,
    pub kind: OrgKind,
    pub parent_id: Option<Uuid>,
    pub path: OrgPath,
    pub depth: i32,
    pub code: Option<String>,
    pub name: String,
    pub levels: Option<SchoolLevels>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl OrgUnit {
    pub fn is_current(&self) -> bool {
        self.valid_to.is_none()
    }
}

impl TryFrom<org_unit::Model> for OrgUnit {
    type Error = Error;
    fn try_from(m: org_unit::Model) -> Result<Self> {
        Ok(Self {
            id: m.id,
            kind: OrgKind::parse(&m.kind).map_err(|_| Error::Internal(format!("bad kind {}", m.kind)))?,
            parent_id: m.parent_id,
            path: OrgPath::parse(&m.path).ok_or_else(|| Error::Internal(format!("bad path {}", m.path)))?,
            depth: m.depth,
            code: m.code,
            name: m.name,
            levels: m
                .levels
                .as_deref()
                .map(SchoolLevels::parse)
                .transpose()
                .ok()
                .flatten(),
            valid_from: m.valid_from,
            valid_to: m.valid_to,
        })
    }
}

fn convert(models: Vec<org_unit::Model>) -> Result<Vec<OrgUnit>> {
    models.into_iter().map(OrgUnit::try_from).collect()
}

/// Input for a new unit, as typed by a person or read from a file.
#[derive(Debug, Clone, Default)]
pub struct NewOrgUnit {
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub code: Option<String>,
    pub levels: Option<String>,
    pub valid_from: Option<NaiveDate>,
}

/// A version row of a unit's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgVersionRow {
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<Uuid>,
    pub parent_name: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<OrgUnit> {
    org_unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_org"))?
        .try_into()
}

pub async fn get_many<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<OrgUnit>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    convert(
        org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(ids.to_vec()))
            .all(db)
            .await?,
    )
}

/// The unit currently carrying an official code.
pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> Result<OrgUnit> {
    let unknown = || Error::NotFound(Msg::new("unknown_org_code").with("code", code.trim()));
    let code = OrgCode::parse(code).map_err(|_| unknown())?;
    org_unit::Entity::find()
        .filter(org_unit::Column::Code.eq(code.as_str()))
        .filter(org_unit::Column::ValidTo.is_null())
        .one(db)
        .await?
        .ok_or_else(unknown)?
        .try_into()
}

pub async fn roots<C: ConnectionTrait>(db: &C) -> Result<Vec<OrgUnit>> {
    convert(
        org_unit::Entity::find()
            .filter(org_unit::Column::ParentId.is_null())
            .order_by_asc(org_unit::Column::NameFolded)
            .all(db)
            .await?,
    )
}

/// Direct children, current units first, then by kind and name.
pub async fn children<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Vec<OrgUnit>> {
    let mut units = convert(
        org_unit::Entity::find()
            .filter(org_unit::Column::ParentId.eq(id))
            .order_by_asc(org_unit::Column::NameFolded)
            .all(db)
            .await?,
    )?;
    units.sort_by_key(|u| (!u.is_current(), u.kind));
    Ok(units)
}

/// The chain from the root down to the unit's parent.
pub async fn ancestors<C: ConnectionTrait>(db: &C, unit: &OrgUnit) -> Result<Vec<OrgUnit>> {
    let ids: Vec<Uuid> = unit.path.ids().into_iter().filter(|i| *i != unit.id).collect();
    let mut found = get_many(db, &ids).await?;
    found.sort_by_key(|u| u.depth);
    Ok(found)
}

/// Every unit inside a subtree (root included), optionally of one kind.
pub async fn in_subtree<C: ConnectionTrait>(
    db: &C,
    root: &OrgPath,
    kind: Option<OrgKind>,
) -> Result<Vec<OrgUnit>> {
    let mut q = org_unit::Entity::find().filter(org_unit::Column::Path.starts_with(root.as_str()));
    if let Some(k) = kind {
        q = q.filter(org_unit::Column::Kind.eq(k.as_str()));
    }
    convert(q.order_by_asc(org_unit::Column::Path).all(db).await?)
}

pub async fn count_in_subtree<C: ConnectionTrait>(
    db: &C,
    root: &OrgPath,
    kind: Option<OrgKind>,
) -> Result<u64> {
    let mut q = org_unit::Entity::find()
        .filter(org_unit::Column::Path.starts_with(root.as_str()))
        .filter(org_unit::Column::ValidTo.is_null());
    if let Some(k) = kind {
        q = q.filter(org_unit::Column::Kind.eq(k.as_str()));
    }
    Ok(q.count(db).await?)
}

/// A sub-query selecting the ids of every unit inside any of `within`, to scope rows owned by
/// units (accounts, learners) to the subtrees a caller may see.
pub fn ids_within(within: &[OrgPath]) -> sea_orm::sea_query::SelectStatement {
    let mut scope = Condition::any();
    for p in within {
        scope = scope.add(org_unit::Column::Path.starts_with(p.as_str()));
    }
    sea_orm::sea_query::Query::select()
        .column(org_unit::Column::Id)
        .from(org_unit::Entity)
        .cond_where(scope)
        .to_owned()
}

/// Current units and schools in a subtree, counted in one query.
pub async fn counts_in_subtree<C: ConnectionTrait>(db: &C, root: &OrgPath) -> Result<(u64, u64)> {
    let rows: Vec<(String, i64)> = org_unit::Entity::find()
        .select_only()
        .column(org_unit::Column::Kind)
        .column_as(org_unit::Column::Id.count(), "n")
        .filter(org_unit::Column::Path.starts_with(root.as_str()))
        .filter(org_unit::Column::ValidTo.is_null())
        .group_by(org_unit::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let units = rows.iter().map(|(_, n)| *n as u64).sum();
    let schools = rows
        .iter()
        .find(|(k, _)| k == OrgKind::School.as_str())
        .map(|(_, n)| *n as u64)
        .unwrap_or(0);
    Ok((units, schools))
}

/// Search by folded name or code inside the subtrees the caller may see.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    within: &[OrgPath],
    query: &str,
    limit: u64,
) -> Result<Vec<OrgUnit>> {
    let folded = text::fold(query);
    if folded.is_empty() || within.is_empty() {
        return Ok(vec![]);
    }
    let mut scope = Condition::any();
    for p in within {
        scope = scope.add(org_unit::Column::Path.starts_with(p.as_str()));
    }
    let code = query.trim().to_ascii_uppercase();
    convert(
        org_unit::Entity::find()
            .filter(scope)
            .filter(
                Condition::any()
                    .add(org_unit::Column::NameFolded.contains(&folded))
                    .add(org_unit::Column::Code.eq(code)),
            )
            .order_by_asc(org_unit::Column::Depth)
            .order_by_asc(org_unit::Column::NameFolded)
            .limit(limit)
            .all(db)
            .await?,
    )
}

pub async fn versions<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Vec<OrgVersionRow>> {
    let rows = org_unit_version::Entity::find()
        .filter(org_unit_version::Column::OrgUnitId.eq(id))
        .order_by_asc(org_unit_version::Column::ValidFrom)
        .all(db)
        .await?;
    let parent_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents = get_many(db, &parent_ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| OrgVersionRow {
            parent_name: r
                .parent_id
                .and_then(|p| parents.iter().find(|u| u.id == p).map(|u| u.name.clone())),
            name: r.name,
            code: r.code,
            parent_id: r.parent_id,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            note: r.note,
        })
        .collect())
}

async fn ensure_code_free<C: ConnectionTrait>(db: &C, code: &OrgCode, except: Option<Uuid>) -> Result<()> {
    let mut q = org_unit::Entity::find()
        .filter(org_unit::Column::Code.eq(code.as_str()))
        .filter(org_unit::Column::ValidTo.is_null());
    if let Some(id) = except {
        q = q.filter(org_unit::Column::Id.ne(id));
    }
    if q.count(db).await? > 0 {
        return Err(Error::Conflict(
            Msg::new("duplicate_org_code").with("code", code.as_str()),
        ));
    }
    Ok(())
}

fn parse_code(raw: Option<&str>) -> Result<Option<OrgCode>> {
    Ok(raw
        .filter(|c| !c.trim().is_empty())
        .map(OrgCode::parse)
        .transpose()
        .on("code")?)
}

/// Creates a unit under `parent_id` (or a root), validating kind, parent, name, code and
/// school levels, and records its first version.
pub async fn create(db: &DatabaseConnection, actor: &ActorRef, input: NewOrgUnit) -> Result<OrgUnit> {
    let kind = OrgKind::parse(&input.kind).on("kind")?;
    let name = text::parse_name(&input.name, 200).on("name")?;
    let code = parse_code(input.code.as_deref())?;
    let levels = match (kind, input.levels.as_deref().filter(|l| !l.trim().is_empty())) {
        (OrgKind::School, None) => {
            return Err(Error::invalid("levels", DomainError::SchoolLevelsRequired));
        }
        (OrgKind::School, Some(l)) => Some(SchoolLevels::parse(l).on("levels")?),
        _ => None,
    };
    let valid_from = input.valid_from.unwrap_or_else(|| crate::now().date_naive());
    let txn = db.begin().await?;
    let parent = match input.parent_id {
        Some(p) => Some(get(&txn, p).await?),
        None => None,
    };
    if !kind.may_have_parent(parent.as_ref().map(|p| p.kind)) {
        return Err(Error::invalid("parent_id", DomainError::InvalidParent));
    }
    if let Some(c) = &code {
        ensure_code_free(&txn, c, None).await?;
    }
    let id = crate::new_id();
    let path = match &parent {
        Some(p) => p.path.child(id),
        None => OrgPath::root(id),
    };
    let now = crate::now();
    let model = org_unit::ActiveModel {
        id: Set(id),
        kind: Set(kind.as_str().into()),
        parent_id: Set(parent.as_ref().map(|p| p.id)),
        path: Set(path.as_str().into()),
        depth: Set(path.depth() as i32),
        code: Set(code.as_ref().map(|c| c.as_str().to_string())),
        name: Set(name.clone()),
        name_folded: Set(text::fold(&name)),
        levels: Set(levels.as_ref().map(SchoolLevels::to_stored)),
        valid_from: Set(valid_from),
        valid_to: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = model.insert(&txn).await?;
    insert_version(&txn, &model, valid_from, None).await?;
    let unit = OrgUnit::try_from(model)?;
    audit::append(
        &txn,
        actor,
        Change::new("org.create", "org_unit", id).after(&unit),
    )
    .await?;
    txn.commit().await?;
    Ok(unit)
}

async fn insert_version<C: ConnectionTrait>(
    db: &C,
    m: &org_unit::Model,
    from: NaiveDate,
    note: Option<String>,
) -> Result<()> {
    org_unit_version::ActiveModel {
        id: Set(crate::new_id()),
        org_unit_id: Set(m.id),
        name: Set(m.name.clone()),
        code: Set(m.code.clone()),
        parent_id: Set(m.parent_id),
        valid_from: Set(from),
        valid_to: Set(None),
        note: Set(note),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Closes the version in force and returns it; a new version must start after it.
async fn close_current_version<C: ConnectionTrait>(db: &C, unit_id: Uuid, on: NaiveDate) -> Result<()> {
    let current = org_unit_version::Entity::find()
        .filter(org_unit_version::Column::OrgUnitId.eq(unit_id))
        .filter(org_unit_version::Column::ValidTo.is_null())
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal("unit without a current version".into()))?;
    if on <= current.valid_from {
        return Err(Error::invalid("valid_from", DomainError::DateRangeReversed));
    }
    let mut am: org_unit_version::ActiveModel = current.into();
    am.valid_to = Set(Some(on));
    am.update(db).await?;
    Ok(())
}

/// Renames a unit and/or changes its official code from a date; the old name stays in the
/// history (the 2025 reform renamed many units).
pub async fn rename(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    name: &str,
    code: Option<&str>,
    from: NaiveDate,
    note: Option<String>,
) -> Result<OrgUnit> {
    let name = text::parse_name(name, 200).on("name")?;
    let code = parse_code(code)?;
    let txn = db.begin().await?;
    let before = get(&txn, id).await?;
    if !before.is_current() {
        return Err(Error::conflict("org_dissolved"));
    }
    if let Some(c) = &code {
        ensure_code_free(&txn, c, Some(id)).await?;
    }
    close_current_version(&txn, id, from).await?;
    let m = org_unit::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_org"))?;
    let mut am: org_unit::ActiveModel = m.into();
    am.name = Set(name.clone());
    am.name_folded = Set(text::fold(&name));
    am.code = Set(code.map(|c| c.as_str().to_string()));
    am.updated_at = Set(crate::now());
    let m = am.update(&txn).await?;
    insert_version(&txn, &m, from, note).await?;
    let after = OrgUnit::try_from(m)?;
    audit::append(
        &txn,
        actor,
        Change::new("org.rename", "org_unit", id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Moves a unit (and its subtree) under a new parent from a date, e.g. schools of a dissolved
/// district office passing to a commune office.
pub async fn move_to(
    db: &DatabaseConnection,
    actor: &ActorRef,
    id: Uuid,
    new_parent_id: Uuid,
    from: NaiveDate,
    note: Option<String>,
) -> Result<OrgUnit> {
    let txn = db.begin().await?;
    let before = get(&txn, id).await?;
    let parent = get(&txn, new_parent_id).await?;
    if parent.path.is_within(&before.path) {
        return Err(Error::conflict("cannot_move_into_own_subtree"));
    }
    if !before.kind.may_have_parent(Some(parent.kind)) || !parent.is_current() {
        return Err(Error::invalid("parent_id", DomainError::InvalidParent));
    }
    close_current_version(&txn, id, from).await?;
    let new_path = parent.path.child(id);
    let old_prefix = before.path.as_str().to_string();
    let subtree = org_unit::Entity::find()
        .filter(org_unit::Column::Path.starts_with(&old_prefix))
        .all(&txn)
        .await?;
    for m in subtree {
        let moved = format!("{}{}", new_path.as_str(), &m.path[old_prefix.len()..]);
        let depth = OrgPath::parse(&moved)
            .map(|p| p.depth() as i32)
            .unwrap_or(m.depth);
        let is_self = m.id == id;
        let mut am: org_unit::ActiveModel = m.into();
        am.path = Set(moved);
        am.depth = Set(depth);
        if is_self {
            am.parent_id = Set(Some(new_parent_id));
        }
        am.updated_at = Set(crate::now());
        am.update(&txn).await?;
    }
    let m = org_unit::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_org"))?;
    insert_version(&txn, &m, from, note).await?;
    let after = OrgUnit::try_from(m)?;
    audit::append(
        &txn,
        actor,
        Change::new("org.move", "org_unit", id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Ends a unit on a date (a district office abolished by the 2025 reform). Its current
/// children must have been moved first, so nothing is orphaned.
pub async fn dissolve(db: &DatabaseConnection, actor: &ActorRef, id: Uuid, on: NaiveDate) -> Result<OrgUnit> {
    let txn = db.begin().await?;
    let before = get(&txn, id).await?;
    let live_children = org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(id))
        .filter(org_unit::Column::ValidTo.is_null())
        .count(&txn)
        .await?;
    if live_children > 0 {
        return Err(Error::conflict("org_has_children"));
    }
    close_current_version(&txn, id, on).await?;
    let m = org_unit::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_org"))?;
    let mut am: org_unit::ActiveModel = m.into();
    am.valid_to = Set(Some(on));
    am.updated_at = Set(crate::now());
    let after = OrgUnit::try_from(am.update(&txn).await?)?;
    audit::append(
        &txn,
        actor,
        Change::new("org.dissolve", "org_unit", id)
            .before(&before)
            .after(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
