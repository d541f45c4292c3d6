//! Classes per school year: grade, name, homeroom teacher, flags, enrolments with their dated
//! history, and the year rollover. A learner's current class is kept on the learner row for
//! fast lists; `class_enrolments` keeps every move.

use crate::audit::{self, Change};
use crate::entity::{class, class_enrolment, learner, learner_status, school_year, staff};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;
use truongso_core::DomainError;
use truongso_core::classes::{self as rules, Placement, YearOutcome};
use truongso_core::codes;
use truongso_core::error::OnField;
use truongso_core::org::OrgKind;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub grade: i32,
    pub name: String,
}

impl From<&class::Model> for ClassRow {
    fn from(c: &class::Model) -> Self {
        Self {
            id: c.id,
            school_id: c.school_id,
            school_year_id: c.school_year_id,
            grade: c.grade,
            name: c.name.clone(),
        }
    }
}

/// A class as lists and the class page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClassSummary {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub school_year: String,
    pub grade: i32,
    pub name: String,
    pub homeroom_staff_id: Option<Uuid>,
    pub homeroom_name: Option<String>,
    pub multigrade: bool,
    pub specialist: bool,
    pub boarding: bool,
    pub two_sessions: bool,
    pub capacity: Option<i32>,
    /// Learners on the roll (not transferred out, dropped out or completed).
    pub learners: i64,
}

/// Class fields as typed; validated by `create` and `update`.
#[derive(Debug, Clone, Default)]
pub struct ClassInput {
    pub grade: String,
    pub name: String,
    pub homeroom_staff_id: Option<Uuid>,
    pub multigrade: bool,
    pub specialist: bool,
    pub boarding: bool,
    pub two_sessions: bool,
    pub capacity: Option<String>,
}

fn parse_capacity(s: &Option<String>) -> Result<Option<i32>> {
    match s.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            let n: i32 = v
                .parse()
                .map_err(|_| Error::invalid("capacity", DomainError::InvalidNumber))?;
            if (1..=100).contains(&n) {
                Ok(Some(n))
            } else {
                Err(Error::invalid(
                    "capacity",
                    DomainError::OutOfRange { min: 1, max: 100 },
                ))
            }
        }
    }
}

/// The homeroom teacher must be on the staff of the class's school.
async fn check_homeroom<C: ConnectionTrait>(db: &C, school_id: Uuid, staff_id: Option<Uuid>) -> Result<()> {
    if let Some(id) = staff_id {
        let s = staff::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| Error::not_found("unknown_staff"))?;
        if s.school_id != school_id {
            return Err(Error::conflict("staff_of_other_school"));
        }
    }
    Ok(())
}

/// Grade, name and capacity of a class as typed, checked against the school, its staff and the
/// other classes of the year (`current` is the class being changed, if any).
async fn checked<C: ConnectionTrait>(
    db: &C,
    school: &crate::org::OrgUnit,
    year_id: Uuid,
    current: Option<&class::Model>,
    input: &ClassInput,
) -> Result<(u8, String, Option<i32>)> {
    let levels = school
        .levels
        .clone()
        .ok_or_else(|| Error::conflict("not_a_school"))?;
    let grade = rules::parse_grade(&input.grade, &levels).on("grade")?;
    let name = rules::parse_class_name(&input.name).on("name")?;
    let capacity = parse_capacity(&input.capacity)?;
    check_homeroom(db, school.id, input.homeroom_staff_id).await?;
    let renamed = current.is_none_or(|m| m.name != name);
    if renamed
        && class::Entity::find()
            .filter(class::Column::SchoolYearId.eq(year_id))
            .filter(class::Column::Name.eq(name.as_str()))
            .count(db)
            .await?
            > 0
    {
        return Err(Error::Conflict(Msg::new("duplicate_class").with("name", &name)));
    }
    Ok((grade, name, capacity))
}

/// Opens a class in a school year of its school.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    school_year_id: Uuid,
    input: ClassInput,
) -> Result<ClassSummary> {
    let txn = db.begin().await?;
    let year = school_year::Entity::find_by_id(school_year_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    let school = crate::org::get(&txn, year.school_id).await?;
    if school.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    let (grade, name, capacity) = checked(&txn, &school, year.id, None, &input).await?;
    let id = crate::new_id();
    let now = crate::now();
    let m = class::ActiveModel {
        id: Set(id),
        school_id: Set(school.id),
        school_year_id: Set(year.id),
        grade: Set(grade.into()),
        name: Set(name),
        created_at: Set(now),
        homeroom_staff_id: Set(input.homeroom_staff_id),
        multigrade: Set(input.multigrade),
        specialist: Set(input.specialist),
        boarding: Set(input.boarding),
        two_sessions: Set(input.two_sessions),
        capacity: Set(capacity),
        updated_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        actor,
        Change::new("class.create", "class", id).after(snapshot(&m)),
    )
    .await?;
    crate::staff::sync_homeroom_grant(&txn, actor, &m, None).await?;
    txn.commit().await?;
    get(db, id).await
}

fn snapshot(m: &class::Model) -> serde_json::Value {
    serde_json::json!({
        "school_year_id": m.school_year_id,
        "grade": m.grade,
        "name": m.name,
        "homeroom_staff_id": m.homeroom_staff_id,
        "multigrade": m.multigrade,
        "specialist": m.specialist,
        "boarding": m.boarding,
        "two_sessions": m.two_sessions,
        "capacity": m.capacity,
    })
}

/// Changes a class's name, homeroom teacher, flags or capacity (the grade is fixed once
/// learners are enrolled).
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
    input: ClassInput,
) -> Result<ClassSummary> {
    let txn = db.begin().await?;
    let m = class::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_class"))?;
    let school = crate::org::get(&txn, m.school_id).await?;
    let (grade, name, capacity) = checked(&txn, &school, m.school_year_id, Some(&m), &input).await?;
    if i32::from(grade) != m.grade && roll_count(&txn, id).await? > 0 {
        return Err(Error::conflict("class_has_learners"));
    }
    let before = snapshot(&m);
    let previous_homeroom = m.homeroom_staff_id;
    let mut am: class::ActiveModel = m.into();
    am.grade = Set(grade.into());
    am.name = Set(name);
    am.homeroom_staff_id = Set(input.homeroom_staff_id);
    am.multigrade = Set(input.multigrade);
    am.specialist = Set(input.specialist);
    am.boarding = Set(input.boarding);
    am.two_sessions = Set(input.two_sessions);
    am.capacity = Set(capacity);
    am.updated_at = Set(Some(crate::now()));
    let m = am.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("class.update", "class", id)
            .before(before)
            .after(snapshot(&m)),
    )
    .await?;
    crate::staff::sync_homeroom_grant(&txn, actor, &m, previous_homeroom).await?;
    txn.commit().await?;
    get(db, id).await
}

async fn roll_count<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<u64> {
    Ok(learner::Entity::find()
        .filter(learner::Column::ClassId.eq(class_id))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .count(db)
        .await?)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<ClassSummary> {
    let m = class::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_class"))?;
    Ok(summaries(db, vec![m]).await?.remove(0))
}

pub async fn model<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<class::Model> {
    class::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_class"))
}

/// Classes with their homeroom teacher's name and roll count, in three queries whatever the
/// number of classes.
async fn summaries<C: ConnectionTrait>(db: &C, classes: Vec<class::Model>) -> Result<Vec<ClassSummary>> {
    if classes.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = classes.iter().map(|c| c.id).collect();
    let counts: HashMap<Option<Uuid>, i64> = learner::Entity::find()
        .select_only()
        .column(learner::Column::ClassId)
        .column_as(learner::Column::Id.count(), "n")
        .filter(learner::Column::ClassId.is_in(ids))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .group_by(learner::Column::ClassId)
        .into_tuple::<(Option<Uuid>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let staff_ids: Vec<Uuid> = classes.iter().filter_map(|c| c.homeroom_staff_id).collect();
    let names: HashMap<Uuid, String> = if staff_ids.is_empty() {
        HashMap::new()
    } else {
        staff::Entity::find()
            .select_only()
            .column(staff::Column::Id)
            .column(staff::Column::FullName)
            .filter(staff::Column::Id.is_in(staff_ids))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut year_ids: Vec<Uuid> = classes.iter().map(|c| c.school_year_id).collect();
    year_ids.sort();
    year_ids.dedup();
    let years: HashMap<Uuid, String> = school_year::Entity::find()
        .select_only()
        .column(school_year::Column::Id)
        .column(school_year::Column::Name)
        .filter(school_year::Column::Id.is_in(year_ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(classes
        .into_iter()
        .map(|c| ClassSummary {
            learners: counts.get(&Some(c.id)).copied().unwrap_or(0),
            homeroom_name: c.homeroom_staff_id.and_then(|s| names.get(&s).cloned()),
            school_year: years.get(&c.school_year_id).cloned().unwrap_or_default(),
            id: c.id,
            school_id: c.school_id,
            school_year_id: c.school_year_id,
            grade: c.grade,
            name: c.name,
            homeroom_staff_id: c.homeroom_staff_id,
            multigrade: c.multigrade,
            specialist: c.specialist,
            boarding: c.boarding,
            two_sessions: c.two_sessions,
            capacity: c.capacity,
        })
        .collect())
}

/// Classes of one school year (or of every year) of the given schools, by grade and name.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    school_ids: &[Uuid],
    school_year_id: Option<Uuid>,
) -> Result<Vec<ClassSummary>> {
    if school_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut q = class::Entity::find().filter(class::Column::SchoolId.is_in(school_ids.to_vec()));
    if let Some(y) = school_year_id {
        q = q.filter(class::Column::SchoolYearId.eq(y));
    }
    let classes = q
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?;
    summaries(db, classes).await
}

/// Classes with the given ids (for teachers, whose scope is a set of classes).
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Vec<ClassSummary>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let classes = class::Entity::find()
        .filter(class::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?;
    summaries(db, classes).await
}

pub async fn for_schools(db: &DatabaseConnection, school_ids: &[Uuid]) -> Result<Vec<ClassRow>> {
    if school_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(class::Entity::find()
        .filter(class::Column::SchoolId.is_in(school_ids.to_vec()))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?
        .iter()
        .map(ClassRow::from)
        .collect())
}

/// The learners on a class's roll, by name.
pub async fn roster<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Vec<crate::people::LearnerRow>> {
    Ok(learner::Entity::find()
        .filter(learner::Column::ClassId.eq(class_id))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .order_by_asc(learner::Column::NameFolded)
        .all(db)
        .await?
        .into_iter()
        .map(crate::people::LearnerRow::from)
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub class_id: Uuid,
    pub class_name: String,
    pub school_year: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
    /// `admitted`, `moved`, `promoted`, `repeated` or `imported`.
    pub reason: String,
}

pub const ENROLMENT_REASONS: [&str; 5] = ["admitted", "moved", "promoted", "repeated", "imported"];

/// Puts a learner in a class from a date: the open enrolment (if any) ends the day before and
/// a new one starts. The class must belong to the learner's school; a date before the start of
/// the current enrolment is refused so the history stays ordered.
pub async fn enrol<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    learner_id: Uuid,
    class_id: Uuid,
    on: NaiveDate,
    reason: &str,
) -> Result<()> {
    if !ENROLMENT_REASONS.contains(&reason) {
        return Err(Error::invalid("reason", DomainError::UnknownCode));
    }
    let txn = db.begin().await?;
    let l = learner::Entity::find_by_id(learner_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let c = model(&txn, class_id).await?;
    if c.school_id != l.school_id {
        return Err(Error::conflict("class_of_other_school"));
    }
    if l.class_id == Some(class_id) {
        return Err(Error::conflict("already_in_class"));
    }
    let open = class_enrolment::Entity::find()
        .filter(class_enrolment::Column::LearnerId.eq(learner_id))
        .filter(class_enrolment::Column::ToDate.is_null())
        .one(&txn)
        .await?;
    // A move on the day the current enrolment started corrects that enrolment (a same-day
    // mistake, or an import run twice in a day) instead of leaving a zero-length stay.
    let corrected = match open {
        Some(e) if on < e.from_date => {
            return Err(Error::invalid("on_date", DomainError::DateRangeReversed));
        }
        Some(e) if on == e.from_date => {
            let mut am: class_enrolment::ActiveModel = e.into();
            am.class_id = Set(class_id);
            am.update(&txn).await?;
            true
        }
        Some(e) => {
            let mut am: class_enrolment::ActiveModel = e.into();
            am.to_date = Set(on.pred_opt());
            am.update(&txn).await?;
            false
        }
        None => false,
    };
    if !corrected {
        class_enrolment::ActiveModel {
            id: Set(crate::new_id()),
            learner_id: Set(learner_id),
            class_id: Set(class_id),
            from_date: Set(on),
            to_date: Set(None),
            reason: Set(reason.into()),
            created_at: Set(crate::now()),
        }
        .insert(&txn)
        .await?;
    }
    let before = l.class_id;
    let mut am: learner::ActiveModel = l.into();
    am.class_id = Set(Some(class_id));
    am.updated_at = Set(Some(crate::now()));
    am.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("class.enrol", "learner", learner_id)
            .before(serde_json::json!({ "class_id": before }))
            .after(serde_json::json!({ "class_id": class_id, "on": on, "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Every class a learner has been in, oldest first.
pub async fn history<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<Vec<Enrolment>> {
    let rows = class_enrolment::Entity::find()
        .filter(class_enrolment::Column::LearnerId.eq(learner_id))
        .order_by_asc(class_enrolment::Column::FromDate)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.class_id).collect();
    let classes: HashMap<Uuid, ClassSummary> =
        by_ids(db, &ids).await?.into_iter().map(|c| (c.id, c)).collect();
    Ok(rows
        .into_iter()
        .map(|e| {
            let c = classes.get(&e.class_id);
            Enrolment {
                class_id: e.class_id,
                class_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                school_year: c.map(|c| c.school_year.clone()).unwrap_or_default(),
                from_date: e.from_date,
                to_date: e.to_date,
                reason: e.reason,
            }
        })
        .collect())
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RolloverReport {
    pub classes_created: u32,
    pub promoted: u32,
    pub repeated: u32,
    pub completed: u32,
    /// Learners with no result from the gradebook, placed by the default outcome.
    pub by_default: u32,
}

/// Closes a school year: creates next year's classes (homeroom teachers and flags carried over)
/// and places every learner on the roll by their outcome. `outcomes` comes from the gradebook;
/// a learner without one gets `default`. Learners who finish the last grade of the level leave
/// the roll with the local status "completed" (codes::COMPLETED_LEVEL). One transaction: all
/// or nothing. Running it twice is refused once the learners have moved.
pub async fn rollover(
    db: &DatabaseConnection,
    actor: &ActorRef,
    from_year_id: Uuid,
    to_year_id: Uuid,
    outcomes: &HashMap<Uuid, YearOutcome>,
    default: YearOutcome,
) -> Result<RolloverReport> {
    let txn = db.begin().await?;
    let from = school_year::Entity::find_by_id(from_year_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    let to = school_year::Entity::find_by_id(to_year_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    if from.school_id != to.school_id || to.starts_on <= from.starts_on {
        return Err(Error::invalid("to_year", DomainError::DateRangeReversed));
    }
    let old = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(from.id))
        .all(&txn)
        .await?;
    let mut next: HashMap<String, class::Model> = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(to.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let mut report = RolloverReport::default();
    let on = to.starts_on;
    let old_ids: Vec<Uuid> = old.iter().map(|c| c.id).collect();
    let learners = learner::Entity::find()
        .filter(learner::Column::ClassId.is_in(old_ids))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .all(&txn)
        .await?;
    let by_class: HashMap<Uuid, &class::Model> = old.iter().map(|c| (c.id, c)).collect();
    for l in learners {
        let c = by_class[&l.class_id.expect("filtered by class")];
        let outcome = match outcomes.get(&l.id) {
            Some(o) => *o,
            None => {
                report.by_default += 1;
                default
            }
        };
        let grade = u8::try_from(c.grade).map_err(|_| Error::Internal("grade".into()))?;
        match rules::place(&c.name, grade, outcome) {
            Placement::Completed => {
                report.completed += 1;
                complete_level(&txn, actor, l, from.ends_on).await?;
            }
            Placement::Class { name, grade } => {
                if !next.contains_key(&name) {
                    let now = crate::now();
                    let m = class::ActiveModel {
                        id: Set(crate::new_id()),
                        school_id: Set(c.school_id),
                        school_year_id: Set(to.id),
                        grade: Set(grade.into()),
                        name: Set(name.clone()),
                        created_at: Set(now),
                        homeroom_staff_id: Set(c.homeroom_staff_id),
                        multigrade: Set(c.multigrade),
                        specialist: Set(c.specialist),
                        boarding: Set(c.boarding),
                        two_sessions: Set(c.two_sessions),
                        capacity: Set(c.capacity),
                        updated_at: Set(Some(now)),
                    }
                    .insert(&txn)
                    .await?;
                    audit::append(
                        &txn,
                        actor,
                        Change::new("class.create", "class", m.id).after(snapshot(&m)),
                    )
                    .await?;
                    report.classes_created += 1;
                    next.insert(name.clone(), m);
                }
                let target = &next[&name];
                let reason = match outcome {
                    YearOutcome::Promote => {
                        report.promoted += 1;
                        "promoted"
                    }
                    YearOutcome::Repeat => {
                        report.repeated += 1;
                        "repeated"
                    }
                };
                enrol(&txn, actor, l.id, target.id, on, reason).await?;
            }
        }
    }
    audit::append(
        &txn,
        actor,
        Change::new("class.rollover", "school_year", from.id)
            .after(serde_json::json!({ "to_year": to.id, "report": &report })),
    )
    .await?;
    txn.commit().await?;
    Ok(report)
}

async fn complete_level<C: ConnectionTrait>(
    db: &C,
    actor: &ActorRef,
    l: learner::Model,
    on: NaiveDate,
) -> Result<()> {
    learner_status::ActiveModel {
        id: Set(crate::new_id()),
        learner_id: Set(l.id),
        status: Set(codes::COMPLETED_LEVEL.into()),
        on_date: Set(on),
        reason_code: Set(None),
        note: Set(None),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    if let Some(e) = class_enrolment::Entity::find()
        .filter(class_enrolment::Column::LearnerId.eq(l.id))
        .filter(class_enrolment::Column::ToDate.is_null())
        .one(db)
        .await?
    {
        let mut am: class_enrolment::ActiveModel = e.into();
        am.to_date = Set(Some(on));
        am.update(db).await?;
    }
    let id = l.id;
    let before = l.status.clone();
    let mut am: learner::ActiveModel = l.into();
    am.status = Set(codes::COMPLETED_LEVEL.into());
    am.updated_at = Set(Some(crate::now()));
    am.update(db).await?;
    audit::append(
        db,
        actor,
        Change::new("learner.status", "learner", id)
            .before(serde_json::json!({ "status": before }))
            .after(serde_json::json!({ "status": codes::COMPLETED_LEVEL, "on": on })),
    )
    .await?;
    Ok(())
}
