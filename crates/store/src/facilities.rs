//! School facilities: rooms with their kind and build quality, the teaching-equipment
//! inventory by condition, and the school's yes/no facts with its teaching computers. The
//! overview adds what the statistics forms derive: rooms counted by kind and quality,
//! learners per computer, and shortfalls against the minimum equipment lists for the classes
//! of the current year. Facilities are not sensitive: audit events carry before and after.

use crate::audit::{self, Change};
use crate::entity::{equipment, learner, room, school_facility};
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use std::collections::BTreeMap;
use truongso_core::DomainError;
use truongso_core::codes;
use truongso_core::error::OnField;
use truongso_core::facilities::{
    BuildQuality, EquipmentCondition, EquipmentRecord, MinimumList, RoomKind, SchoolFacts, count_rooms,
    learners_per_computer, parse_item_code, shortfalls, usable_inventory,
};
use truongso_core::org::OrgKind;
use truongso_core::text;
use uuid::Uuid;

/// Longest room name.
pub const ROOM_NAME_MAX: usize = 120;
/// Largest room area, m².
pub const AREA_MAX: i64 = 100_000;
/// Longest equipment category.
pub const CATEGORY_MAX: usize = 60;
/// Largest quantity of one item in one condition, and largest number of computers.
pub const QUANTITY_MAX: i64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RoomRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub name: String,
    /// A `RoomKind` code.
    pub kind: String,
    /// A `BuildQuality` code: `solid`, `semi_solid`, `temporary`.
    pub quality: String,
    pub area_m2: Option<i32>,
}

impl From<room::Model> for RoomRow {
    fn from(m: room::Model) -> Self {
        Self {
            id: m.id,
            school_id: m.school_id,
            name: m.name,
            kind: m.kind,
            quality: m.quality,
            area_m2: m.area_m2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EquipmentRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub code: String,
    pub name: String,
    pub category: String,
    pub grade: Option<i32>,
    pub quantity: i32,
    /// An `EquipmentCondition` code: `good`, `usable`, `broken`.
    pub condition: String,
}

impl From<equipment::Model> for EquipmentRow {
    fn from(m: equipment::Model) -> Self {
        Self {
            id: m.id,
            school_id: m.school_id,
            code: m.code,
            name: m.name,
            category: m.category,
            grade: m.grade,
            quantity: m.quantity,
            condition: m.condition,
        }
    }
}

/// Rooms of one kind: the total and the form's build-quality columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RoomCountRow {
    /// A `RoomKind` code.
    pub kind: String,
    pub total: u32,
    pub solid: u32,
    pub semi_solid: u32,
    pub temporary: u32,
}

/// An exact ratio with its parts; `tenths` is rounded half-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RatioView {
    pub numerator: u32,
    pub denominator: u32,
    pub tenths: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GradeClasses {
    pub grade: u8,
    pub classes: u32,
}

/// An item the school has fewer of (good or usable) than the minimum for its classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ShortfallRow {
    pub code: String,
    pub name: String,
    pub grades: Vec<u8>,
    pub required: u32,
    pub available: u32,
    pub missing: u32,
}

/// Everything the facilities page and the statistics forms need about one school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FacilitiesOverview {
    pub school_id: Uuid,
    /// By name.
    pub rooms: Vec<RoomRow>,
    /// By kind, in `RoomKind` order; kinds without rooms are left out.
    pub room_counts: Vec<RoomCountRow>,
    /// By code, then condition.
    pub equipment: Vec<EquipmentRow>,
    /// The yes/no facts (all `false` until set), keyed by `SchoolFact` code.
    #[schema(value_type = Object)]
    pub facts: SchoolFacts,
    /// Computers used for teaching; `None` until the facts are set.
    pub computers_teaching: Option<u32>,
    /// Learners in a class with an on-roll status.
    pub learners_on_roll: u32,
    /// Learners per teaching computer; `None` without computers.
    pub learners_per_computer: Option<RatioView>,
    /// The school year in progress, whose classes the shortfalls are computed for.
    pub school_year: Option<String>,
    pub classes_per_grade: Vec<GradeClasses>,
    /// Against the sample minimum list (`MinimumList::sample()`), by code.
    pub shortfalls: Vec<ShortfallRow>,
}

async fn check_school<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<()> {
    if crate::org::get(db, school_id).await?.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    Ok(())
}

/// A whole number in `min..=max`; spaces (thousands separators, `1 200`) are ignored.
fn parse_count(input: &str, min: i64, max: i64) -> std::result::Result<i64, DomainError> {
    let t: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return Err(DomainError::Required);
    }
    if !t.chars().all(|c| c.is_ascii_digit()) || t.len() > 12 {
        return Err(DomainError::InvalidNumber);
    }
    let n: i64 = t.parse().map_err(|_| DomainError::InvalidNumber)?;
    if !(min..=max).contains(&n) {
        return Err(DomainError::OutOfRange { min, max });
    }
    Ok(n)
}

fn room_snapshot(name: &str, kind: &str, quality: &str, area: Option<i32>) -> serde_json::Value {
    serde_json::json!({ "name": name, "kind": kind, "quality": quality, "area_m2": area })
}

/// Creates a room, or updates the school's room with the same name. Errors are on `name`,
/// `kind`, `quality` (code or label) and `area_m2` (optional, 1–100 000). An unchanged room is
/// left alone and writes no audit event.
pub async fn upsert_room(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    name: &str,
    kind: &str,
    quality: &str,
    area_m2: &str,
) -> Result<RoomRow> {
    let name = text::parse_name(name, ROOM_NAME_MAX).on("name")?;
    let kind = RoomKind::parse(kind).on("kind")?.code();
    let quality = BuildQuality::parse(quality).on("quality")?.code();
    let area = if area_m2.trim().is_empty() {
        None
    } else {
        Some(parse_count(area_m2, 1, AREA_MAX).on("area_m2")? as i32)
    };
    let after = room_snapshot(&name, kind, quality, area);
    let txn = db.begin().await?;
    check_school(&txn, school_id).await?;
    let existing = room::Entity::find()
        .filter(room::Column::SchoolId.eq(school_id))
        .filter(room::Column::Name.eq(name.as_str()))
        .one(&txn)
        .await?;
    let row = match existing {
        Some(m) => {
            let before = room_snapshot(&m.name, &m.kind, &m.quality, m.area_m2);
            if before == after {
                return Ok(m.into());
            }
            let id = m.id;
            let mut am: room::ActiveModel = m.into();
            am.kind = Set(kind.into());
            am.quality = Set(quality.into());
            am.area_m2 = Set(area);
            am.updated_at = Set(crate::now());
            let m = am.update(&txn).await?;
            audit::append(
                &txn,
                actor,
                Change::new("room.update", "room", id).before(before).after(after),
            )
            .await?;
            m
        }
        None => {
            let id = crate::new_id();
            let m = room::ActiveModel {
                id: Set(id),
                school_id: Set(school_id),
                name: Set(name),
                kind: Set(kind.into()),
                quality: Set(quality.into()),
                area_m2: Set(area),
                updated_at: Set(crate::now()),
            }
            .insert(&txn)
            .await?;
            audit::append(&txn, actor, Change::new("room.create", "room", id).after(after)).await?;
            m
        }
    };
    txn.commit().await?;
    Ok(row.into())
}

/// Deletes a room of the school (`unknown_room` when the school has no such room).
pub async fn delete_room(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    room_id: Uuid,
) -> Result<()> {
    let txn = db.begin().await?;
    let m = room::Entity::find_by_id(room_id)
        .one(&txn)
        .await?
        .filter(|m| m.school_id == school_id)
        .ok_or_else(|| Error::not_found("unknown_room"))?;
    let before = room_snapshot(&m.name, &m.kind, &m.quality, m.area_m2);
    room::Entity::delete_by_id(room_id).exec(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("room.delete", "room", room_id).before(before),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn equipment_snapshot(
    code: &str,
    name: &str,
    category: &str,
    grade: Option<i32>,
    quantity: i32,
    condition: &str,
) -> serde_json::Value {
    serde_json::json!({
        "code": code,
        "name": name,
        "category": category,
        "grade": grade,
        "quantity": quantity,
        "condition": condition,
    })
}

/// Sets how many units of an item the school has in one condition: creates the line, or
/// updates the one with the same code and condition. Errors are on `code` (1–40 of
/// `A–Z a–z 0–9 - _ .`), `name`, `category`, `grade` (optional, 1–12, `Khối 6` accepted),
/// `quantity` (0–100 000) and `condition` (code or label). An unchanged line writes nothing.
#[allow(clippy::too_many_arguments)]
pub async fn set_equipment(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    code: &str,
    name: &str,
    category: &str,
    grade: Option<&str>,
    quantity: &str,
    condition: &str,
) -> Result<EquipmentRow> {
    let code = parse_item_code(code).on("code")?;
    let name = text::parse_name(name, MinimumList::NAME_MAX).on("name")?;
    let category = text::parse_name(category, CATEGORY_MAX).on("category")?;
    let grade = match grade.map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => {
            let digits: String = g.chars().filter(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return Err(Error::invalid("grade", DomainError::InvalidNumber));
            }
            Some(parse_count(&digits, 1, 12).on("grade")? as i32)
        }
    };
    let quantity = parse_count(quantity, 0, QUANTITY_MAX).on("quantity")? as i32;
    let condition = EquipmentCondition::parse(condition).on("condition")?.code();
    let after = equipment_snapshot(&code, &name, &category, grade, quantity, condition);
    let txn = db.begin().await?;
    check_school(&txn, school_id).await?;
    let existing = equipment::Entity::find()
        .filter(equipment::Column::SchoolId.eq(school_id))
        .filter(equipment::Column::Code.eq(code.as_str()))
        .filter(equipment::Column::Condition.eq(condition))
        .one(&txn)
        .await?;
    let row = match existing {
        Some(m) => {
            let before = equipment_snapshot(&m.code, &m.name, &m.category, m.grade, m.quantity, &m.condition);
            if before == after {
                return Ok(m.into());
            }
            let id = m.id;
            let mut am: equipment::ActiveModel = m.into();
            am.name = Set(name);
            am.category = Set(category);
            am.grade = Set(grade);
            am.quantity = Set(quantity);
            am.updated_at = Set(crate::now());
            let m = am.update(&txn).await?;
            audit::append(
                &txn,
                actor,
                Change::new("equipment.update", "equipment", id)
                    .before(before)
                    .after(after),
            )
            .await?;
            m
        }
        None => {
            let id = crate::new_id();
            let m = equipment::ActiveModel {
                id: Set(id),
                school_id: Set(school_id),
                code: Set(code),
                name: Set(name),
                category: Set(category),
                grade: Set(grade),
                quantity: Set(quantity),
                condition: Set(condition.into()),
                updated_at: Set(crate::now()),
            }
            .insert(&txn)
            .await?;
            audit::append(
                &txn,
                actor,
                Change::new("equipment.create", "equipment", id).after(after),
            )
            .await?;
            m
        }
    };
    txn.commit().await?;
    Ok(row.into())
}

/// Sets the school's yes/no facts and its number of teaching computers (`computers_teaching`,
/// 0–100 000). Returns whether anything changed; an unchanged call writes no audit event.
pub async fn set_facts(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    facts: &SchoolFacts,
    computers_teaching: &str,
) -> Result<bool> {
    let computers = parse_count(computers_teaching, 0, QUANTITY_MAX).on("computers_teaching")? as i32;
    let facts_json = serde_json::to_string(facts).map_err(|e| Error::Internal(e.to_string()))?;
    let after = serde_json::json!({ "computers_teaching": computers, "facts": facts });
    let txn = db.begin().await?;
    check_school(&txn, school_id).await?;
    let existing = school_facility::Entity::find_by_id(school_id).one(&txn).await?;
    match existing {
        Some(m) => {
            let old: SchoolFacts = serde_json::from_str(&m.facts).unwrap_or_default();
            let before = serde_json::json!({ "computers_teaching": m.computers_teaching, "facts": old });
            if before == after {
                return Ok(false);
            }
            let mut am: school_facility::ActiveModel = m.into();
            am.computers_teaching = Set(computers);
            am.facts = Set(facts_json);
            am.updated_at = Set(crate::now());
            am.update(&txn).await?;
            audit::append(
                &txn,
                actor,
                Change::new("facilities.update", "school_facilities", school_id)
                    .before(before)
                    .after(after),
            )
            .await?;
        }
        None => {
            school_facility::ActiveModel {
                school_id: Set(school_id),
                computers_teaching: Set(computers),
                facts: Set(facts_json),
                updated_at: Set(crate::now()),
            }
            .insert(&txn)
            .await?;
            audit::append(
                &txn,
                actor,
                Change::new("facilities.create", "school_facilities", school_id).after(after),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(true)
}

/// Learners in a class of the school with an on-roll status.
pub async fn learners_on_roll<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<u64> {
    Ok(learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school_id))
        .filter(learner::Column::ClassId.is_not_null())
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .count(db)
        .await?)
}

/// The school's facilities with the derived counts, ratio and shortfalls. The shortfalls use
/// the classes of the school year in progress on `today` (none when no year is set).
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    today: NaiveDate,
) -> Result<FacilitiesOverview> {
    let rooms: Vec<RoomRow> = room::Entity::find()
        .filter(room::Column::SchoolId.eq(school_id))
        .order_by_asc(room::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(RoomRow::from)
        .collect();
    let typed: Vec<(RoomKind, BuildQuality)> = rooms
        .iter()
        .filter_map(|r| {
            Some((
                RoomKind::parse(&r.kind).ok()?,
                BuildQuality::parse(&r.quality).ok()?,
            ))
        })
        .collect();
    let room_counts = count_rooms(&typed)
        .into_iter()
        .map(|(kind, c)| RoomCountRow {
            kind: kind.code().into(),
            total: c.total,
            solid: c.solid,
            semi_solid: c.semi_solid,
            temporary: c.temporary,
        })
        .collect();
    let equipment: Vec<EquipmentRow> = equipment::Entity::find()
        .filter(equipment::Column::SchoolId.eq(school_id))
        .order_by_asc(equipment::Column::Code)
        .order_by_asc(equipment::Column::Condition)
        .all(db)
        .await?
        .into_iter()
        .map(EquipmentRow::from)
        .collect();
    let records: Vec<EquipmentRecord> = equipment
        .iter()
        .filter_map(|e| {
            Some(EquipmentRecord {
                code: e.code.clone(),
                condition: EquipmentCondition::parse(&e.condition).ok()?,
                quantity: u32::try_from(e.quantity).ok()?,
            })
        })
        .collect();
    let inventory = usable_inventory(&records);
    let stored = school_facility::Entity::find_by_id(school_id).one(db).await?;
    let facts: SchoolFacts = stored
        .as_ref()
        .and_then(|m| serde_json::from_str(&m.facts).ok())
        .unwrap_or_default();
    let computers = stored.map(|m| u32::try_from(m.computers_teaching).unwrap_or(0));
    let learners = u32::try_from(learners_on_roll(db, school_id).await?).unwrap_or(u32::MAX);
    let ratio = computers
        .and_then(|c| learners_per_computer(learners, c))
        .map(|r| RatioView {
            numerator: r.numerator,
            denominator: r.denominator,
            tenths: r.tenths,
        });
    let year = crate::school_years::current(db, school_id, today).await?;
    let mut per_grade: BTreeMap<u8, u32> = BTreeMap::new();
    if let Some(y) = &year {
        for c in crate::classes::list(db, &[school_id], Some(y.id)).await? {
            if let Ok(g) = u8::try_from(c.grade) {
                *per_grade.entry(g).or_default() += 1;
            }
        }
    }
    let per_grade: Vec<(u8, u32)> = per_grade.into_iter().collect();
    let missing = shortfalls(&MinimumList::sample(), &per_grade, &inventory)
        .into_iter()
        .map(|s| ShortfallRow {
            code: s.code,
            name: s.name,
            grades: s.grades,
            required: s.required,
            available: s.available,
            missing: s.missing,
        })
        .collect();
    Ok(FacilitiesOverview {
        school_id,
        rooms,
        room_counts,
        equipment,
        facts,
        computers_teaching: computers,
        learners_on_roll: learners,
        learners_per_computer: ratio,
        school_year: year.map(|y| y.name),
        classes_per_grade: per_grade
            .into_iter()
            .map(|(grade, classes)| GradeClasses { grade, classes })
            .collect(),
        shortfalls: missing,
    })
}
