//! The gradebook in the database: sheets per class × subject × term, cell writes with optimistic
//! versions (two teachers on one cell: the first accepted write wins, the second is told whose
//! value stands), deadlines and locks, correction requests, the homeroom teacher's summaries,
//! and year results computed with the rules of the class's grade and year.
//!
//! Every cell change is an audit event; a write that changes nothing writes nothing.

use crate::audit::{self, Change};
use crate::entity::{
    class, class_enrolment, gradebook_config, gradebook_deadline, learner, mark, mark_correction,
    school_year, teaching_assignment, term_summary, year_result,
};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use truongso_core::DomainError;
use truongso_core::gradebook::compute::{self, PrimaryLearner, SecondaryLearner};
use truongso_core::gradebook::curriculum::{self, Mode, SubjectPlan};
use truongso_core::gradebook::sheet::{self, CellValue, Cells, Column, Kind};
use truongso_core::gradebook::tt27;
use truongso_core::gradebook::{Level, RuleConfig, RuleSet, TraitLevel};
use truongso_core::school_year::SchoolYear;
use uuid::Uuid;

/// Most cells one request may write: a whole class sheet (45 learners × 8 columns) with room.
pub const MAX_CELLS: usize = 1000;

/// SQLite: takes the database's write lock as the transaction's first statement. A transaction
/// that reads and then writes would otherwise fail with "database is locked" when another
/// connection wrote after its read began (WAL cannot upgrade a stale snapshot, and the busy
/// timeout does not apply); this way it waits its turn and then reads what the other wrote.
/// Nothing on PostgreSQL, whose row locks and version checks do the same.
async fn lock_for_write<C: ConnectionTrait>(txn: &C) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE marks SET version = version WHERE 0 = 1")
            .await?;
    }
    Ok(())
}

/// The class a sheet belongs to, with what the rules need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassInfo {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub school_year: String,
    pub grade: u8,
    pub name: String,
    pub homeroom_staff_id: Option<Uuid>,
    pub rules: RuleSet,
}

pub async fn class_info<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<ClassInfo> {
    let c = class::Entity::find_by_id(class_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_class"))?;
    let y = school_year::Entity::find_by_id(c.school_year_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    let year = SchoolYear::parse(&y.name).map_err(|e| Error::Internal(e.to_string()))?;
    let grade = u8::try_from(c.grade).unwrap_or(0);
    let rules = RuleSet::for_grade(grade, year).ok_or_else(|| Error::not_found("no_gradebook_for_grade"))?;
    Ok(ClassInfo {
        id: c.id,
        school_id: c.school_id,
        school_year_id: c.school_year_id,
        school_year: y.name,
        grade,
        name: c.name,
        homeroom_staff_id: c.homeroom_staff_id,
        rules,
    })
}

/// The subjects on a class's gradebook: the grade's compulsory subjects, and the electives the
/// class has a teaching assignment for.
pub async fn class_subjects<C: ConnectionTrait>(
    db: &C,
    info: &ClassInfo,
) -> Result<Vec<&'static SubjectPlan>> {
    let assigned: BTreeSet<String> = teaching_assignment::Entity::find()
        .filter(teaching_assignment::Column::ClassId.eq(info.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.subject)
        .collect();
    Ok(curriculum::subjects(info.grade)
        .iter()
        .filter(|s| !s.elective || assigned.contains(s.code))
        .collect())
}

pub async fn subject_of_class<C: ConnectionTrait>(
    db: &C,
    info: &ClassInfo,
    subject: &str,
) -> Result<&'static SubjectPlan> {
    class_subjects(db, info)
        .await?
        .into_iter()
        .find(|s| s.code == subject)
        .ok_or(Error::Invalid(truongso_core::error::FieldError::new(
            "subject",
            DomainError::SubjectNotInGrade,
        )))
}

/// The year's rule options (the defaults until a leader sets them).
pub async fn config<C: ConnectionTrait>(db: &C, school_year_id: Uuid) -> Result<RuleConfig> {
    Ok(
        match gradebook_config::Entity::find_by_id(school_year_id)
            .one(db)
            .await?
        {
            Some(row) => serde_json::from_str(&row.config).map_err(|e| Error::Internal(e.to_string()))?,
            None => RuleConfig::default(),
        },
    )
}

pub async fn set_config<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    school_year_id: Uuid,
    cfg: &RuleConfig,
) -> Result<()> {
    let txn = db.begin().await?;
    lock_for_write(&txn).await?;
    let before = config(&txn, school_year_id).await?;
    if &before == cfg {
        return Ok(());
    }
    let json = serde_json::to_string(cfg).map_err(|e| Error::Internal(e.to_string()))?;
    gradebook_config::Entity::insert(gradebook_config::ActiveModel {
        school_year_id: Set(school_year_id),
        config: Set(json.clone()),
        updated_by: Set(actor.id),
        updated_at: Set(crate::now()),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(gradebook_config::Column::SchoolYearId)
            .update_columns([
                gradebook_config::Column::Config,
                gradebook_config::Column::UpdatedBy,
                gradebook_config::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        actor,
        Change::new("gradebook.config", "school_year", school_year_id)
            .before(&before)
            .after(cfg),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A learner on a class's sheet: everyone ever enrolled in the class, in Vietnamese list order
/// (given name, then the whole name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    pub learner_id: Uuid,
    pub full_name: String,
    /// Still in this class (others keep their marks, read-only on the sheet).
    pub current: bool,
}

pub async fn roster<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Vec<RosterEntry>> {
    let enrolled: BTreeSet<Uuid> = class_enrolment::Entity::find()
        .filter(class_enrolment::Column::ClassId.eq(class_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.learner_id)
        .collect();
    let ids: Vec<Uuid> = enrolled.into_iter().collect();
    let mut rows = vec![];
    for chunk in ids.chunks(500) {
        rows.extend(
            learner::Entity::find()
                .filter(learner::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    let mut out: Vec<(String, RosterEntry)> = rows
        .into_iter()
        .map(|l| {
            let given = l.name_folded.rsplit(' ').next().unwrap_or_default().to_string();
            (
                format!("{given} {}", l.name_folded),
                RosterEntry {
                    learner_id: l.id,
                    current: l.class_id == Some(class_id)
                        && truongso_core::codes::ON_ROLL.contains(&l.status.as_str()),
                    full_name: l.full_name,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// Which columns of a term are closed: locked by a leader, or past their deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Locks {
    pub all: bool,
    pub slots: BTreeSet<String>,
}

impl Locks {
    pub fn is_locked(&self, slot: &str) -> bool {
        self.all || self.slots.contains(slot)
    }
}

pub async fn locks<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    term: u8,
    today: NaiveDate,
) -> Result<Locks> {
    let mut out = Locks::default();
    for d in deadlines(db, school_year_id).await? {
        if d.term != i32::from(term) {
            continue;
        }
        let closed = d.locked_at.is_some() || d.deadline.is_some_and(|day| day < today);
        if closed {
            if d.slot == "*" {
                out.all = true;
            } else {
                out.slots.insert(d.slot);
            }
        }
    }
    Ok(out)
}

pub async fn deadlines<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
) -> Result<Vec<gradebook_deadline::Model>> {
    Ok(gradebook_deadline::Entity::find()
        .filter(gradebook_deadline::Column::SchoolYearId.eq(school_year_id))
        .order_by_asc(gradebook_deadline::Column::Term)
        .order_by_asc(gradebook_deadline::Column::Slot)
        .all(db)
        .await?)
}

/// Sets a term's (or one column's, `slot` ≠ `*`) deadline and lock state.
pub async fn set_deadline<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    school_year_id: Uuid,
    term: u8,
    slot: &str,
    deadline: Option<NaiveDate>,
    locked: bool,
) -> Result<gradebook_deadline::Model> {
    if !(0..=2).contains(&term) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "term",
            DomainError::UnknownTerm,
        )));
    }
    let slot = slot.trim();
    if slot.is_empty()
        || slot.len() > 20
        || !slot
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'*')
    {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "slot",
            DomainError::UnknownCode,
        )));
    }
    let year = school_year::Entity::find_by_id(school_year_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    let txn = db.begin().await?;
    lock_for_write(&txn).await?;
    let existing = gradebook_deadline::Entity::find()
        .filter(gradebook_deadline::Column::SchoolYearId.eq(school_year_id))
        .filter(gradebook_deadline::Column::Term.eq(i32::from(term)))
        .filter(gradebook_deadline::Column::Slot.eq(slot))
        .one(&txn)
        .await?;
    // Setting what is already set writes nothing (no new audit event, the lock keeps its time).
    if let Some(e) = &existing
        && e.deadline == deadline
        && e.locked_at.is_some() == locked
    {
        return Ok(e.clone());
    }
    let now = crate::now();
    let row = gradebook_deadline::Model {
        id: existing.as_ref().map_or_else(crate::new_id, |e| e.id),
        school_id: year.school_id,
        school_year_id,
        term: i32::from(term),
        slot: slot.to_string(),
        deadline,
        locked_at: if locked {
            existing.as_ref().and_then(|e| e.locked_at).or(Some(now))
        } else {
            None
        },
        locked_by: if locked {
            existing.as_ref().and_then(|e| e.locked_by).or(actor.id)
        } else {
            None
        },
        updated_at: now,
    };
    let view = |d: &gradebook_deadline::Model| serde_json::json!({"term": d.term, "slot": d.slot, "deadline": d.deadline, "locked": d.locked_at.is_some()});
    let am = gradebook_deadline::ActiveModel {
        id: Set(row.id),
        school_id: Set(row.school_id),
        school_year_id: Set(row.school_year_id),
        term: Set(row.term),
        slot: Set(row.slot.clone()),
        deadline: Set(row.deadline),
        locked_at: Set(row.locked_at),
        locked_by: Set(row.locked_by),
        updated_at: Set(row.updated_at),
    };
    match &existing {
        Some(_) => {
            gradebook_deadline::Entity::update(am).exec(&txn).await?;
        }
        None => {
            gradebook_deadline::Entity::insert(am)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    audit::append(
        &txn,
        actor,
        Change::new(
            if locked {
                "gradebook.lock"
            } else {
                "gradebook.deadline"
            },
            "gradebook_deadline",
            row.id,
        )
        .before(existing.as_ref().map(view))
        .after(view(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// One cell as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCell {
    pub value: Option<i32>,
    /// A comment cell's text.
    pub text: Option<String>,
    pub version: i32,
}

/// A class × subject × term sheet, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub class: ClassInfo,
    pub subject: &'static SubjectPlan,
    pub term: u8,
    pub columns: Vec<Column>,
    pub locks: Locks,
    pub rows: Vec<SheetRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SheetRow {
    pub learner: RosterEntry,
    pub cells: BTreeMap<String, StoredCell>,
    /// The term's computed result ("7.7", "Đ") when every required cell is filled.
    pub result: Option<String>,
}

/// One cell unpacked from its learner × subject row.
#[derive(Debug, Clone)]
struct CellRow {
    learner_id: Uuid,
    subject: String,
    term: u8,
    slot: String,
    /// Marks and levels.
    value: Option<i32>,
    /// Comments.
    text: Option<String>,
    version: i32,
}

/// A row's cells: `"term.slot"` → (value, or null once cleared; the cell's version). One row per
/// learner × subject × year keeps a national gradebook at a dozen rows per learner.
type Packed = BTreeMap<String, (Option<CellValue>, i32)>;

fn unpack(json: &str) -> Packed {
    serde_json::from_str(json).unwrap_or_default()
}

fn pack(p: &Packed) -> String {
    serde_json::to_string(p).expect("cells serialise")
}

fn cell_key(term: u8, slot: &str) -> String {
    format!("{term}.{slot}")
}

/// The audit entity id of one cell.
fn cell_entity(row_id: Uuid, term: u8, slot: &str) -> String {
    format!("{row_id}:{}", cell_key(term, slot))
}

/// The rows of some learners in one subject (or every subject) and year.
async fn load_rows<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    subject: Option<&str>,
    learners: &[Uuid],
    for_update: bool,
) -> Result<Vec<mark::Model>> {
    let mut out = vec![];
    for chunk in learners.chunks(500) {
        let mut q = mark::Entity::find()
            .filter(mark::Column::SchoolYearId.eq(school_year_id))
            .filter(mark::Column::LearnerId.is_in(chunk.to_vec()));
        if let Some(s) = subject {
            q = q.filter(mark::Column::Subject.eq(s));
        }
        // PostgreSQL: a second writer of the same rows waits here and then reads what the first
        // wrote (SQLite is serialised by `lock_for_write`).
        if for_update && db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            q = q.lock_exclusive();
        }
        out.extend(q.all(db).await?);
    }
    Ok(out)
}

async fn load_cells<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    subject: Option<&str>,
    learners: &[Uuid],
) -> Result<Vec<CellRow>> {
    let rows = load_rows(db, school_year_id, subject, learners, false).await?;
    let mut out = vec![];
    for r in rows {
        for (k, (value, version)) in unpack(&r.cells) {
            let Some((term, slot)) = k.split_once('.') else {
                continue;
            };
            let Ok(term) = term.parse() else { continue };
            out.push(CellRow {
                learner_id: r.learner_id,
                subject: r.subject.clone(),
                term,
                slot: slot.to_string(),
                value: value.as_ref().and_then(CellValue::int),
                text: match value {
                    Some(CellValue::Text(t)) => Some(t),
                    _ => None,
                },
                version,
            });
        }
    }
    Ok(out)
}

/// The marks and levels of a packed row, as the rules read them.
fn packed_values(p: &Packed) -> Cells {
    p.iter()
        .filter_map(|(k, (v, _))| {
            let (term, slot) = k.split_once('.')?;
            Some(((term.parse().ok()?, slot.to_string()), v.as_ref()?.int()?))
        })
        .collect()
}

fn values(rows: &[&CellRow]) -> Cells {
    rows.iter()
        .filter_map(|m| m.value.map(|v| ((m.term, m.slot.clone()), v)))
        .collect()
}

/// Who wrote a cell last and when: from the audit chain, or the row for seeded cells.
async fn last_writer<C: ConnectionTrait>(
    db: &C,
    row: &mark::Model,
    term: u8,
    slot: &str,
) -> Result<(String, DateTime<Utc>)> {
    let events = crate::audit::for_entity(db, "mark", &cell_entity(row.id, term, slot)).await?;
    Ok(match events.last() {
        Some(e) => (
            e.actor_label.clone(),
            DateTime::parse_from_rfc3339(&e.at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(row.updated_at),
        ),
        None => (row.updated_by_label.clone(), row.updated_at),
    })
}

/// The term's result of one subject from its stored cells (None while incomplete).
pub fn term_result(
    plan: &SubjectPlan,
    cells: &Cells,
    term: u8,
    rules: RuleSet,
    cfg: &RuleConfig,
) -> Option<String> {
    if plan.mode == Mode::Level {
        let slot = if term == 0 { "retest" } else { "end_level" };
        return cells.get(&(term, slot.to_string())).map(|v| Kind::Level.show(*v));
    }
    let o = compute::subject_outcome(&sheet::subject_record(plan, cells, cfg), rules);
    match term {
        1 => o.hk1.ok(),
        2 => o.hk2.ok(),
        _ => o.final_year().ok(),
    }
    .map(|r| compute::show(&r))
}

pub async fn sheet<C: ConnectionTrait>(
    db: &C,
    class_id: Uuid,
    subject: &str,
    term: u8,
    today: NaiveDate,
) -> Result<Sheet> {
    let class = class_info(db, class_id).await?;
    let plan = subject_of_class(db, &class, subject).await?;
    if term > 2 {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "term",
            DomainError::UnknownTerm,
        )));
    }
    let cfg = config(db, class.school_year_id).await?;
    let columns = sheet::columns(plan, term, &cfg);
    let locks = locks(db, class.school_year_id, term, today).await?;
    let roster = roster(db, class_id).await?;
    let ids: Vec<Uuid> = roster.iter().map(|r| r.learner_id).collect();
    let marks = load_cells(db, class.school_year_id, Some(plan.code), &ids).await?;
    let mut by_learner: HashMap<Uuid, Vec<&CellRow>> = HashMap::new();
    for m in &marks {
        by_learner.entry(m.learner_id).or_default().push(m);
    }
    let rows = roster
        .into_iter()
        .map(|learner| {
            let mine = by_learner.remove(&learner.learner_id).unwrap_or_default();
            let cells = mine
                .iter()
                .filter(|m| m.term == term)
                .map(|m| {
                    (
                        m.slot.clone(),
                        StoredCell {
                            value: m.value,
                            text: m.text.clone(),
                            version: m.version,
                        },
                    )
                })
                .collect();
            let result = term_result(plan, &values(&mine), term, class.rules, &cfg);
            SheetRow {
                learner,
                cells,
                result,
            }
        })
        .collect();
    Ok(Sheet {
        class,
        subject: plan,
        term,
        columns,
        locks,
        rows,
    })
}

/// One cell a teacher typed: the value as typed (None or empty clears it) and the version the
/// teacher's screen showed (0 for a cell never written).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CellWrite {
    pub learner_id: Uuid,
    pub slot: String,
    pub value: Option<String>,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CellStatus {
    Saved {
        value: Option<String>,
        version: i32,
    },
    /// Someone else's write came first: theirs stands, shown here.
    Conflict {
        value: Option<String>,
        version: i32,
        by: String,
        at: DateTime<Utc>,
    },
    /// The value or the cell was refused; nothing written.
    Error {
        code: &'static str,
        params: Vec<(&'static str, String)>,
    },
    /// The column is locked: file a correction request.
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellOutcome {
    pub learner_id: Uuid,
    pub slot: String,
    #[serde(flatten)]
    pub status: CellStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowResult {
    pub learner_id: Uuid,
    pub result: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaveReport {
    pub cells: Vec<CellOutcome>,
    pub rows: Vec<RowResult>,
}

fn refused(e: DomainError) -> CellStatus {
    CellStatus::Error {
        code: e.code(),
        params: e.params(),
    }
}

/// What a write does to one cell once checked.
struct Planned {
    learner_id: Uuid,
    slot: String,
    value: Option<CellValue>,
    version: i32,
    kind: Kind,
}

/// Checks and writes a batch of cells of one class × subject × term. Each cell stands alone: a
/// refused or conflicting cell is reported and the others are saved. `bypass_locks` is for an
/// approved correction.
pub async fn save_cells<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
    subject: &str,
    term: u8,
    writes: &[CellWrite],
    today: NaiveDate,
) -> Result<SaveReport> {
    write_cells(
        db, actor, class_id, subject, term, writes, today, false, "mark.set",
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn write_cells<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
    subject: &str,
    term: u8,
    writes: &[CellWrite],
    today: NaiveDate,
    bypass_locks: bool,
    action: &str,
) -> Result<SaveReport> {
    if writes.len() > MAX_CELLS {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "cells",
            DomainError::TooManyMarks { max: 255 },
        )));
    }
    if term > 2 {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "term",
            DomainError::UnknownTerm,
        )));
    }
    let class = class_info(db, class_id).await?;
    let plan = subject_of_class(db, &class, subject).await?;
    let cfg = config(db, class.school_year_id).await?;
    let columns = sheet::columns(plan, term, &cfg);
    let locks = locks(db, class.school_year_id, term, today).await?;
    let roster: HashMap<Uuid, RosterEntry> = roster(db, class_id)
        .await?
        .into_iter()
        .map(|r| (r.learner_id, r))
        .collect();

    let mut outcomes: Vec<Option<CellStatus>> = vec![None; writes.len()];
    let mut planned: Vec<(usize, Planned)> = vec![];
    let mut seen = BTreeSet::new();
    for (i, w) in writes.iter().enumerate() {
        let Some(column) = columns.iter().find(|c| c.slot == w.slot) else {
            outcomes[i] = Some(refused(DomainError::TooManyMarks {
                max: columns.iter().filter(|c| c.kind != Kind::Note).count() as u8,
            }));
            continue;
        };
        // A learner who left the class keeps their marks here, read-only (the class they are in
        // now has them); an approved correction may still change them.
        if !roster
            .get(&w.learner_id)
            .is_some_and(|r| r.current || bypass_locks)
        {
            outcomes[i] = Some(CellStatus::Error {
                code: "learner_not_in_class",
                params: vec![],
            });
            continue;
        }
        if !bypass_locks && locks.is_locked(&w.slot) {
            outcomes[i] = Some(CellStatus::Locked);
            continue;
        }
        if !seen.insert((w.learner_id, w.slot.clone())) {
            outcomes[i] = Some(CellStatus::Error {
                code: "duplicate_cell",
                params: vec![],
            });
            continue;
        }
        match column.kind.parse_cell(w.value.as_deref().unwrap_or("")) {
            Ok(value) => planned.push((
                i,
                Planned {
                    learner_id: w.learner_id,
                    slot: w.slot.clone(),
                    value,
                    version: w.version,
                    kind: column.kind,
                },
            )),
            Err(e) => outcomes[i] = Some(refused(e)),
        }
    }

    let txn = db.begin().await?;
    lock_for_write(&txn).await?;
    let learner_ids: Vec<Uuid> = planned
        .iter()
        .map(|(_, p)| p.learner_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows: HashMap<Uuid, mark::Model> =
        load_rows(&txn, class.school_year_id, Some(plan.code), &learner_ids, true)
            .await?
            .into_iter()
            .map(|m| (m.learner_id, m))
            .collect();
    let mut packed: HashMap<Uuid, Packed> = rows.iter().map(|(l, m)| (*l, unpack(&m.cells))).collect();
    let mut row_ids: HashMap<Uuid, Uuid> = rows.iter().map(|(l, m)| (*l, m.id)).collect();
    let mut dirty: BTreeSet<Uuid> = BTreeSet::new();
    let now = crate::now();
    let shown = |kind: Kind, v: &Option<CellValue>| v.as_ref().map(|v| kind.show_cell(v));
    let mut changes = vec![];
    for (i, p) in &planned {
        let key = cell_key(term, &p.slot);
        let cur = packed.get(&p.learner_id).and_then(|c| c.get(&key)).cloned();
        let status = match cur {
            Some((value, version)) if version != p.version && value != p.value => {
                let (by, at) = last_writer(&txn, &rows[&p.learner_id], term, &p.slot).await?;
                CellStatus::Conflict {
                    value: shown(p.kind, &value),
                    version,
                    by,
                    at,
                }
            }
            Some((value, version)) if value == p.value => CellStatus::Saved {
                value: shown(p.kind, &value),
                version,
            },
            None if p.value.is_none() => CellStatus::Saved {
                value: None,
                version: 0,
            },
            _ => {
                let (old, version) = cur.unwrap_or((None, 0));
                let row_id = *row_ids.entry(p.learner_id).or_insert_with(crate::new_id);
                packed
                    .entry(p.learner_id)
                    .or_default()
                    .insert(key, (p.value.clone(), version + 1));
                dirty.insert(p.learner_id);
                changes.push(mark_change(
                    action,
                    cell_entity(row_id, term, &p.slot),
                    &class,
                    plan.code,
                    term,
                    p,
                    &old,
                    shown(p.kind, &old),
                ));
                CellStatus::Saved {
                    value: shown(p.kind, &p.value),
                    version: version + 1,
                }
            }
        };
        outcomes[*i] = Some(status);
    }
    let mut inserts = vec![];
    for learner_id in &dirty {
        let cells = pack(&packed[learner_id]);
        match rows.get(learner_id) {
            Some(row) => {
                // The row is locked (FOR UPDATE, or SQLite's write lock): the version check
                // guards against a writer that bypassed both.
                let res = mark::Entity::update_many()
                    .col_expr(mark::Column::Cells, Expr::value(cells))
                    .col_expr(mark::Column::Version, Expr::value(row.version + 1))
                    .col_expr(mark::Column::UpdatedBy, Expr::value(actor.id))
                    .col_expr(mark::Column::UpdatedByLabel, Expr::value(actor.label.clone()))
                    .col_expr(mark::Column::UpdatedAt, Expr::value(now))
                    .col_expr(mark::Column::ClassId, Expr::value(class_id))
                    .filter(mark::Column::Id.eq(row.id))
                    .filter(mark::Column::Version.eq(row.version))
                    .exec(&txn)
                    .await?;
                if res.rows_affected != 1 {
                    return Err(Error::Conflict(Msg::new("mark_concurrent_insert")));
                }
            }
            None => inserts.push(mark::ActiveModel {
                id: Set(row_ids[learner_id]),
                school_id: Set(class.school_id),
                school_year_id: Set(class.school_year_id),
                class_id: Set(class_id),
                learner_id: Set(*learner_id),
                subject: Set(plan.code.to_string()),
                cells: Set(cells),
                version: Set(1),
                updated_by: Set(actor.id),
                updated_by_label: Set(actor.label.clone()),
                updated_at: Set(now),
            }),
        }
    }
    if !inserts.is_empty() {
        // A concurrent first write of the same learner × subject makes this fail on the unique
        // index; the whole batch is then refused and the client retries with fresh versions.
        mark::Entity::insert_many(inserts)
            .exec_without_returning(&txn)
            .await
            .map_err(|_| Error::Conflict(Msg::new("mark_concurrent_insert")))?;
    }
    if !changes.is_empty() {
        audit::append_many(&txn, actor, changes).await?;
    }
    txn.commit().await?;

    // The rows as just written: their results need no second read.
    let rows = learner_ids
        .iter()
        .map(|l| RowResult {
            learner_id: *l,
            result: term_result(
                plan,
                &packed.get(l).map(packed_values).unwrap_or_default(),
                term,
                class.rules,
                &cfg,
            ),
        })
        .collect();
    Ok(SaveReport {
        cells: writes
            .iter()
            .zip(outcomes)
            .map(|(w, s)| CellOutcome {
                learner_id: w.learner_id,
                slot: w.slot.clone(),
                status: s.unwrap_or(CellStatus::Error {
                    code: "internal",
                    params: vec![],
                }),
            })
            .collect(),
        rows,
    })
}

#[allow(clippy::too_many_arguments)]
fn mark_change<'a>(
    action: &'a str,
    id: String,
    class: &ClassInfo,
    subject: &str,
    term: u8,
    p: &Planned,
    old: &Option<CellValue>,
    old_shown: Option<String>,
) -> Change<'a> {
    Change::new(action, "mark", id)
        .before(
            old.as_ref()
                .map(|v| serde_json::json!({"value": v, "shown": old_shown})),
        )
        .after(serde_json::json!({
            "learner_id": p.learner_id,
            "class_id": class.id,
            "subject": subject,
            "term": term,
            "slot": p.slot,
            "value": p.value,
            "shown": p.value.as_ref().map(|v| p.kind.show_cell(v)),
        }))
}

// ---------------------------------------------------------------------------------------------
// Corrections after a lock.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Correction {
    pub id: Uuid,
    pub class_id: Uuid,
    pub class_name: String,
    pub learner_id: Uuid,
    pub learner_name: String,
    pub subject: String,
    pub term: i32,
    pub slot: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

/// A teacher asks to change a locked cell, with a reason.
#[allow(clippy::too_many_arguments)]
pub async fn request_correction<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
    subject: &str,
    term: u8,
    learner_id: Uuid,
    slot: &str,
    value: Option<&str>,
    reason: &str,
) -> Result<Correction> {
    let reason = truongso_core::text::clean(reason);
    if reason.chars().count() < 5 {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "reason",
            DomainError::TooShort { min: 5 },
        )));
    }
    if reason.chars().count() > 1000 {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "reason",
            DomainError::TooLong { max: 1000 },
        )));
    }
    let class = class_info(db, class_id).await?;
    let plan = subject_of_class(db, &class, subject).await?;
    let cfg = config(db, class.school_year_id).await?;
    let column = sheet::columns(plan, term, &cfg)
        .into_iter()
        .find(|c| c.slot == slot)
        .ok_or(Error::Invalid(truongso_core::error::FieldError::new(
            "slot",
            DomainError::UnknownCode,
        )))?;
    if !roster(db, class_id)
        .await?
        .iter()
        .any(|r| r.learner_id == learner_id)
    {
        return Err(Error::Conflict(Msg::new("learner_not_in_class")));
    }
    // Comments stay open to their teacher's own edits until the lock; corrections are for marks.
    if column.kind == Kind::Note {
        return Err(Error::Conflict(Msg::new("correction_not_for_notes")));
    }
    let new_value = column
        .kind
        .encode(value.unwrap_or(""))
        .map_err(|e| Error::Invalid(truongso_core::error::FieldError::new("value", e)))?;
    let current = cell_now(db, class.school_year_id, learner_id, plan.code, term, slot)
        .await?
        .and_then(|(value, _)| value);
    if current == new_value {
        return Err(Error::Conflict(Msg::new("correction_no_change")));
    }
    let txn = db.begin().await?;
    let row = mark_correction::ActiveModel {
        id: Set(crate::new_id()),
        school_id: Set(class.school_id),
        school_year_id: Set(class.school_year_id),
        class_id: Set(class_id),
        learner_id: Set(learner_id),
        subject: Set(plan.code.to_string()),
        term: Set(i32::from(term)),
        slot: Set(slot.to_string()),
        old_value: Set(current),
        new_value: Set(new_value),
        reason: Set(reason.clone()),
        status: Set("pending".into()),
        requested_by: Set(actor.id),
        requested_by_label: Set(actor.label.clone()),
        requested_at: Set(crate::now()),
        decided_by: Set(None),
        decided_by_label: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
    };
    let id = *row.id.as_ref();
    mark_correction::Entity::insert(row)
        .exec_without_returning(&txn)
        .await?;
    audit::append(
        &txn,
        actor,
        Change::new("mark.correction_request", "mark_correction", id).after(serde_json::json!({
            "learner_id": learner_id, "class_id": class_id, "subject": plan.code, "term": term,
            "slot": slot, "old": current, "new": new_value, "reason": reason,
        })),
    )
    .await?;
    txn.commit().await?;
    correction(db, id).await
}

/// The principal approves (the new value is written, bypassing the lock) or rejects. The
/// decision and the write are one transaction: two decisions on one request cannot both act, and
/// an approval that cannot be applied leaves the request pending.
pub async fn decide_correction<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
    approve: bool,
    note: Option<&str>,
    today: NaiveDate,
) -> Result<Correction> {
    let c = mark_correction::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_correction"))?;
    if c.status != "pending" {
        return Err(Error::Conflict(Msg::new("correction_decided")));
    }
    let note = note.map(truongso_core::text::clean).filter(|n| !n.is_empty());
    let txn = db.begin().await?;
    // Claimed first: a concurrent decision waits here and then finds it decided.
    let status = if approve { "approved" } else { "rejected" };
    let res = mark_correction::Entity::update_many()
        .col_expr(mark_correction::Column::Status, Expr::value(status))
        .col_expr(mark_correction::Column::DecidedBy, Expr::value(actor.id))
        .col_expr(
            mark_correction::Column::DecidedByLabel,
            Expr::value(actor.label.clone()),
        )
        .col_expr(mark_correction::Column::DecidedAt, Expr::value(crate::now()))
        .col_expr(mark_correction::Column::DecisionNote, Expr::value(note.clone()))
        .filter(mark_correction::Column::Id.eq(id))
        .filter(mark_correction::Column::Status.eq("pending"))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::Conflict(Msg::new("correction_decided")));
    }
    if approve {
        let class = class_info(&txn, c.class_id).await?;
        let plan = subject_of_class(&txn, &class, &c.subject).await?;
        let cfg = config(&txn, class.school_year_id).await?;
        let kind = sheet::columns(plan, c.term as u8, &cfg)
            .into_iter()
            .find(|col| col.slot == c.slot)
            .map(|col| col.kind)
            .ok_or_else(|| Error::Internal("correction column vanished".into()))?;
        let current = cell_now(
            &txn,
            c.school_year_id,
            c.learner_id,
            &c.subject,
            c.term as u8,
            &c.slot,
        )
        .await?;
        // The request was made against `old_value`; if the cell moved since, the principal
        // decides on stale information.
        if current.and_then(|(value, _)| value) != c.old_value {
            return Err(Error::Conflict(Msg::new("correction_stale")));
        }
        let write = CellWrite {
            learner_id: c.learner_id,
            slot: c.slot.clone(),
            value: c.new_value.map(|v| kind.show(v)),
            version: current.map_or(0, |(_, version)| version),
        };
        let report = write_cells(
            &txn,
            actor,
            c.class_id,
            &c.subject,
            c.term as u8,
            &[write],
            today,
            true,
            "mark.correction_apply",
        )
        .await?;
        if !matches!(report.cells[0].status, CellStatus::Saved { .. }) {
            return Err(Error::Conflict(Msg::new("correction_stale")));
        }
    }
    audit::append(
        &txn,
        actor,
        Change::new("mark.correction_decide", "mark_correction", id)
            .before(serde_json::json!({"status": "pending"}))
            .after(serde_json::json!({"status": status, "note": note})),
    )
    .await?;
    txn.commit().await?;
    correction(db, id).await
}

pub async fn correction<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Correction> {
    let c = mark_correction::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_correction"))?;
    Ok(corrections_view(db, vec![c]).await?.remove(0))
}

/// Correction requests of a school (optionally one class × subject), newest first.
pub async fn corrections<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    class_subject: Option<(Uuid, &str)>,
    pending_only: bool,
) -> Result<Vec<Correction>> {
    let mut q = mark_correction::Entity::find().filter(mark_correction::Column::SchoolId.eq(school_id));
    if let Some((class_id, subject)) = class_subject {
        q = q
            .filter(mark_correction::Column::ClassId.eq(class_id))
            .filter(mark_correction::Column::Subject.eq(subject));
    }
    if pending_only {
        q = q.filter(mark_correction::Column::Status.eq("pending"));
    }
    let rows = q
        .order_by_desc(mark_correction::Column::RequestedAt)
        .all(db)
        .await?;
    corrections_view(db, rows).await
}

async fn corrections_view<C: ConnectionTrait>(
    db: &C,
    rows: Vec<mark_correction::Model>,
) -> Result<Vec<Correction>> {
    let learner_ids: Vec<Uuid> = rows.iter().map(|r| r.learner_id).collect();
    let class_ids: Vec<Uuid> = rows.iter().map(|r| r.class_id).collect();
    let names: HashMap<Uuid, String> = learner::Entity::find()
        .filter(learner::Column::Id.is_in(learner_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.full_name))
        .collect();
    let classes: HashMap<Uuid, class::Model> = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let cfg = RuleConfig::default();
    Ok(rows
        .into_iter()
        .map(|r| {
            let grade = classes.get(&r.class_id).map_or(0, |c| c.grade as u8);
            let kind = curriculum::subject(grade, &r.subject)
                .ok()
                .and_then(|p| {
                    sheet::columns(p, r.term as u8, &cfg)
                        .into_iter()
                        .find(|c| c.slot == r.slot)
                })
                .map_or(Kind::Score, |c| c.kind);
            Correction {
                id: r.id,
                class_id: r.class_id,
                class_name: classes
                    .get(&r.class_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                learner_id: r.learner_id,
                learner_name: names.get(&r.learner_id).cloned().unwrap_or_default(),
                subject: r.subject,
                term: r.term,
                slot: r.slot,
                old_value: r.old_value.map(|v| kind.show(v)),
                new_value: r.new_value.map(|v| kind.show(v)),
                reason: r.reason,
                status: r.status,
                requested_by: r.requested_by_label,
                requested_at: r.requested_at,
                decided_by: r.decided_by_label,
                decided_at: r.decided_at,
                decision_note: r.decision_note,
            }
        })
        .collect())
}

/// The visible trail of one cell: every change from the audit chain, oldest first.
pub async fn cell_history<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    learner_id: Uuid,
    subject: &str,
    term: u8,
    slot: &str,
) -> Result<Vec<truongso_core::audit::AuditRecord>> {
    let Some(m) = load_rows(db, school_year_id, Some(subject), &[learner_id], false)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(vec![]);
    };
    crate::audit::for_entity(db, "mark", &cell_entity(m.id, term, slot)).await
}

/// A cell's stored (value, version), if it was ever written.
async fn cell_now<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    learner_id: Uuid,
    subject: &str,
    term: u8,
    slot: &str,
) -> Result<Option<(Option<i32>, i32)>> {
    Ok(load_rows(db, school_year_id, Some(subject), &[learner_id], false)
        .await?
        .first()
        .and_then(|m| {
            unpack(&m.cells)
                .remove(&cell_key(term, slot))
                .map(|(v, version)| (v.as_ref().and_then(CellValue::int), version))
        }))
}

// ---------------------------------------------------------------------------------------------
// The homeroom teacher's summary (tổng kết) per term: conduct, absences, remark; for primary the
// qualities and competencies and the class's recognition.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SummaryWrite {
    pub learner_id: Uuid,
    #[serde(default)]
    pub conduct: Option<String>,
    /// Term 0 only: training re-evaluated after summer training.
    #[serde(default)]
    pub summer_conduct: Option<String>,
    #[serde(default)]
    pub absences_excused: Option<i32>,
    #[serde(default)]
    pub absences_unexcused: Option<i32>,
    #[serde(default)]
    pub remark: Option<String>,
    /// Primary: quality/competency code → Tốt / Đạt / Cần cố gắng.
    #[serde(default)]
    pub traits: BTreeMap<String, String>,
    #[serde(default)]
    pub recognised: bool,
}

/// A summary as stored, levels as codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub conduct: Option<Level>,
    pub summer_conduct: Option<Level>,
    pub absences_excused: i32,
    pub absences_unexcused: i32,
    pub remark: Option<String>,
    pub traits: BTreeMap<String, TraitLevel>,
    pub recognised: bool,
}

impl Summary {
    pub fn absences(&self) -> i32 {
        self.absences_excused + self.absences_unexcused
    }
}

fn summary_of(m: &term_summary::Model) -> Summary {
    let traits: BTreeMap<String, String> = m
        .traits
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    Summary {
        conduct: m.conduct.as_deref().and_then(|c| Level::parse(c).ok()),
        summer_conduct: m.summer_conduct.as_deref().and_then(|c| Level::parse(c).ok()),
        absences_excused: m.absences_excused.unwrap_or(0),
        absences_unexcused: m.absences_unexcused.unwrap_or(0),
        remark: m.remark.clone(),
        traits: traits
            .into_iter()
            .filter_map(|(k, v)| TraitLevel::parse(&v).ok().map(|l| (k, l)))
            .collect(),
        recognised: m.recognised,
    }
}

/// Every summary of some learners in a year: (learner, term) → summary.
pub async fn summaries<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    learners: &[Uuid],
) -> Result<HashMap<(Uuid, u8), Summary>> {
    let mut out = HashMap::new();
    for chunk in learners.chunks(500) {
        for m in term_summary::Entity::find()
            .filter(term_summary::Column::SchoolYearId.eq(school_year_id))
            .filter(term_summary::Column::LearnerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert((m.learner_id, m.term as u8), summary_of(&m));
        }
    }
    Ok(out)
}

/// A refused summary row: which learner, which field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryError {
    pub learner_id: Uuid,
    pub field: String,
    pub code: &'static str,
}

/// Saves the summaries of a class for one term. The whole batch is checked first; any refused
/// field refuses the batch and nothing is written.
pub async fn save_summaries<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
    term: u8,
    writes: &[SummaryWrite],
) -> Result<std::result::Result<usize, Vec<SummaryError>>> {
    if term > 2 {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "term",
            DomainError::UnknownTerm,
        )));
    }
    let class = class_info(db, class_id).await?;
    let roster: BTreeSet<Uuid> = roster(db, class_id).await?.iter().map(|r| r.learner_id).collect();
    let mut errors = vec![];
    let mut rows = vec![];
    for w in writes {
        let err = |field: &str, e: &DomainError| SummaryError {
            learner_id: w.learner_id,
            field: field.to_string(),
            code: e.code(),
        };
        if !roster.contains(&w.learner_id) {
            errors.push(SummaryError {
                learner_id: w.learner_id,
                field: "learner_id".into(),
                code: "learner_not_in_class",
            });
            continue;
        }
        let level = |field: &str, v: &Option<String>, errors: &mut Vec<SummaryError>| -> Option<String> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => match Level::parse(s) {
                    Ok(l) => Some(l.as_str().to_string()),
                    Err(e) => {
                        errors.push(err(field, &e));
                        None
                    }
                },
            }
        };
        let conduct = level("conduct", &w.conduct, &mut errors);
        let summer = level("summer_conduct", &w.summer_conduct, &mut errors);
        for (field, v) in [
            ("absences_excused", w.absences_excused),
            ("absences_unexcused", w.absences_unexcused),
        ] {
            if v.is_some_and(|n| !(0..=400).contains(&n)) {
                errors.push(err(field, &DomainError::OutOfRange { min: 0, max: 400 }));
            }
        }
        let remark = w
            .remark
            .as_deref()
            .map(truongso_core::text::clean)
            .filter(|r| !r.is_empty());
        if remark.as_ref().is_some_and(|r| r.chars().count() > 2000) {
            errors.push(err("remark", &DomainError::TooLong { max: 2000 }));
        }
        let mut traits = BTreeMap::new();
        for (code, v) in &w.traits {
            if !tt27::QUALITIES
                .iter()
                .chain(tt27::COMPETENCIES.iter())
                .any(|(c, _)| c == code)
            {
                errors.push(err(&format!("traits.{code}"), &DomainError::UnknownCode));
                continue;
            }
            if v.trim().is_empty() {
                continue;
            }
            match TraitLevel::parse(v) {
                Ok(l) => {
                    traits.insert(code.clone(), l.as_str().to_string());
                }
                Err(e) => errors.push(err(&format!("traits.{code}"), &e)),
            }
        }
        rows.push((w, conduct, summer, remark, traits));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let txn = db.begin().await?;
    lock_for_write(&txn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0.learner_id).collect();
    let mut existing: HashMap<Uuid, term_summary::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in term_summary::Entity::find()
            .filter(term_summary::Column::SchoolYearId.eq(class.school_year_id))
            .filter(term_summary::Column::Term.eq(i32::from(term)))
            .filter(term_summary::Column::LearnerId.is_in(chunk.to_vec()))
            .all(&txn)
            .await?
        {
            existing.insert(m.learner_id, m);
        }
    }
    let now = crate::now();
    let mut changes = vec![];
    let mut written = 0;
    for (w, conduct, summer, remark, traits) in rows {
        let traits_json = (!traits.is_empty()).then(|| serde_json::to_string(&traits).unwrap_or_default());
        let cur = existing.get(&w.learner_id);
        let same = cur.is_some_and(|c| {
            c.conduct == conduct
                && c.summer_conduct == summer
                && c.absences_excused == w.absences_excused
                && c.absences_unexcused == w.absences_unexcused
                && c.remark == remark
                && c.traits == traits_json
                && c.recognised == w.recognised
        });
        if same {
            continue;
        }
        let am = term_summary::ActiveModel {
            id: Set(cur.map_or_else(crate::new_id, |c| c.id)),
            school_id: Set(class.school_id),
            school_year_id: Set(class.school_year_id),
            class_id: Set(class_id),
            learner_id: Set(w.learner_id),
            term: Set(i32::from(term)),
            conduct: Set(conduct.clone()),
            summer_conduct: Set(summer.clone()),
            absences_excused: Set(w.absences_excused),
            absences_unexcused: Set(w.absences_unexcused),
            remark: Set(remark.clone()),
            traits: Set(traits_json.clone()),
            recognised: Set(w.recognised),
            version: Set(cur.map_or(1, |c| c.version + 1)),
            updated_by: Set(actor.id),
            updated_at: Set(now),
        };
        let id = *am.id.as_ref();
        match cur {
            Some(_) => {
                term_summary::Entity::update(am).exec(&txn).await?;
            }
            None => {
                term_summary::Entity::insert(am)
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        let view = |conduct: &Option<String>,
                    summer: &Option<String>,
                    e: Option<i32>,
                    u: Option<i32>,
                    t: &Option<String>| {
            serde_json::json!({"conduct": conduct, "summer_conduct": summer, "absences_excused": e,
                "absences_unexcused": u, "traits": t})
        };
        changes.push(
            Change::new("gradebook.summary", "term_summary", id)
                .before(cur.map(|c| {
                    view(
                        &c.conduct,
                        &c.summer_conduct,
                        c.absences_excused,
                        c.absences_unexcused,
                        &c.traits,
                    )
                }))
                .after(serde_json::json!({
                    "learner_id": w.learner_id, "class_id": class_id, "term": term,
                    "values": view(&conduct, &summer, w.absences_excused, w.absences_unexcused, &traits_json),
                })),
        );
        written += 1;
    }
    if !changes.is_empty() {
        audit::append_many(&txn, actor, changes).await?;
    }
    txn.commit().await?;
    Ok(Ok(written))
}

// ---------------------------------------------------------------------------------------------
// Results.

/// Everything the rules say about one learner's year, from the stored cells and summaries.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerResult {
    pub learner_id: Uuid,
    pub full_name: String,
    pub rules: RuleSet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<compute::SecondaryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<compute::PrimaryResult>,
    pub conduct_hk1: Option<Level>,
    pub conduct_hk2: Option<Level>,
    pub absences: i32,
}

impl LearnerResult {
    pub fn learning_year(&self) -> Option<Level> {
        self.secondary.as_ref()?.learning.year.as_ref().map(|l| l.level)
    }

    pub fn decision(&self) -> Option<&'static str> {
        use truongso_core::gradebook::tt22::{Decision, Retained};
        if let Some(p) = &self.primary {
            return p.completes.map(|c| if c { "completed" } else { "not_completed" });
        }
        Some(match self.secondary.as_ref()?.year_end.as_ref()?.decision {
            Decision::Promoted => "promoted",
            Decision::Retest => "retest",
            Decision::SummerTraining => "summer_training",
            Decision::Retained(Retained::Absences) => "retained_absences",
            Decision::Retained(_) => "retained",
        })
    }

    pub fn award(&self) -> Option<&'static str> {
        use truongso_core::gradebook::tt22::Award;
        if let Some(p) = &self.primary {
            return p.award.map(|a| match a {
                tt27::Award::XuatSac => "xuat_sac",
                tt27::Award::TieuBieu => "tieu_bieu",
            });
        }
        self.secondary
            .as_ref()?
            .year_end
            .as_ref()?
            .award
            .map(|a| match a {
                Award::XuatSac => "xuat_sac",
                Award::Gioi => "gioi",
            })
    }
}

/// Computes the results of the given learners of one class from what is stored. Pure reading.
pub async fn compute_learners<C: ConnectionTrait>(
    db: &C,
    class: &ClassInfo,
    learners: &[RosterEntry],
) -> Result<Vec<LearnerResult>> {
    let cfg = config(db, class.school_year_id).await?;
    let subjects = class_subjects(db, class).await?;
    let ids: Vec<Uuid> = learners.iter().map(|l| l.learner_id).collect();
    let marks = load_cells(db, class.school_year_id, None, &ids).await?;
    let sums = summaries(db, class.school_year_id, &ids).await?;
    let mut cells: HashMap<(Uuid, &str), Cells> = HashMap::new();
    for m in &marks {
        if let Some(v) = m.value {
            cells
                .entry((m.learner_id, m.subject.as_str()))
                .or_default()
                .insert((m.term, m.slot.clone()), v);
        }
    }
    let empty = Cells::new();
    let view_of = |r: &compute::SecondaryResult, records: &[compute::SubjectRecord]| {
        let mut v = compute::secondary_view(r, class.grade);
        v.subjects = r
            .subjects
            .iter()
            .zip(records)
            .map(|(o, s)| compute::SubjectView {
                subject: o.code.clone(),
                regular_count: s.regular_count,
                hk1: shown(&o.hk1),
                hk2: shown(&o.hk2),
                year: shown(&o.year),
                retest: o.retest.as_ref().map(compute::show),
            })
            .collect();
        v
    };
    let mut out = vec![];
    for l in learners {
        let s1 = sums.get(&(l.learner_id, 1)).cloned().unwrap_or_default();
        let s2 = sums.get(&(l.learner_id, 2)).cloned().unwrap_or_default();
        let s0 = sums.get(&(l.learner_id, 0)).cloned().unwrap_or_default();
        let absences = s1.absences() + s2.absences();
        let has_absences = sums.contains_key(&(l.learner_id, 1)) || sums.contains_key(&(l.learner_id, 2));
        let mut result = LearnerResult {
            learner_id: l.learner_id,
            full_name: l.full_name.clone(),
            rules: class.rules,
            secondary: None,
            primary: None,
            conduct_hk1: s1.conduct,
            conduct_hk2: s2.conduct,
            absences,
        };
        match class.rules {
            RuleSet::Tt27_2020 => {
                let traits = tt27::QUALITIES
                    .iter()
                    .chain(tt27::COMPETENCIES.iter())
                    .map(|(c, _)| s2.traits.get(*c).copied())
                    .collect();
                let learner = PrimaryLearner {
                    subjects: subjects
                        .iter()
                        .map(|p| {
                            sheet::primary_subject(p, cells.get(&(l.learner_id, p.code)).unwrap_or(&empty))
                        })
                        .collect(),
                    traits,
                    recognised_by_class: s2.recognised,
                };
                result.primary = Some(compute::primary(&learner, &cfg));
            }
            RuleSet::Tt30Tt22_2016 => {}
            rules => {
                let records: Vec<compute::SubjectRecord> = subjects
                    .iter()
                    .map(|p| {
                        sheet::subject_record(p, cells.get(&(l.learner_id, p.code)).unwrap_or(&empty), &cfg)
                    })
                    .collect();
                let learner = SecondaryLearner {
                    subjects: records.clone(),
                    conduct_hk1: s1.conduct,
                    conduct_hk2: s2.conduct,
                    summer_conduct: s0.summer_conduct,
                    absences: has_absences.then_some(absences.clamp(0, i32::from(u16::MAX)) as u16),
                };
                let r = compute::secondary(&learner, rules, &cfg);
                result.secondary = Some(view_of(&r, &records));
            }
        }
        out.push(result);
    }
    Ok(out)
}

fn shown(
    r: &std::result::Result<truongso_core::gradebook::tt22::SubjectResult, compute::Gap>,
) -> compute::Shown {
    match r {
        Ok(v) => compute::Shown::Value(compute::show(v)),
        Err(g) => compute::Shown::Gap(g.clone()),
    }
}

/// Computes and stores the year results of a class (the snapshot the results sheet, awards,
/// promotion lists and the rollover read). Results that did not change are not rewritten; every
/// change is audited.
pub async fn compute_class<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
) -> Result<Vec<LearnerResult>> {
    let class = class_info(db, class_id).await?;
    let members = year_members(db, &class).await?;
    let results = compute_learners(db, &class, &members).await?;
    store_results(db, actor, &class, &results).await?;
    Ok(results)
}

/// The learners whose year a class closes: in a class of the year in progress, those on its
/// roll; in a past year's class (everyone has moved on since), those whose last class of that
/// year it was.
pub async fn year_members<C: ConnectionTrait>(db: &C, class: &ClassInfo) -> Result<Vec<RosterEntry>> {
    let roster = roster(db, class.id).await?;
    if roster.iter().any(|r| r.current) {
        return Ok(roster.into_iter().filter(|r| r.current).collect());
    }
    let year_classes: BTreeSet<Uuid> = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(class.school_year_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let ids: Vec<Uuid> = roster.iter().map(|r| r.learner_id).collect();
    let mut last: HashMap<Uuid, (NaiveDate, Uuid)> = HashMap::new();
    for chunk in ids.chunks(500) {
        for e in class_enrolment::Entity::find()
            .filter(class_enrolment::Column::LearnerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if year_classes.contains(&e.class_id) {
                let slot = last.entry(e.learner_id).or_insert((e.from_date, e.class_id));
                if e.from_date >= slot.0 {
                    *slot = (e.from_date, e.class_id);
                }
            }
        }
    }
    Ok(roster
        .into_iter()
        .filter(|r| last.get(&r.learner_id).is_some_and(|(_, c)| *c == class.id))
        .collect())
}

pub async fn store_results<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class: &ClassInfo,
    results: &[LearnerResult],
) -> Result<usize> {
    let txn = db.begin().await?;
    lock_for_write(&txn).await?;
    let ids: Vec<Uuid> = results.iter().map(|r| r.learner_id).collect();
    let mut existing: HashMap<Uuid, year_result::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in year_result::Entity::find()
            .filter(year_result::Column::SchoolYearId.eq(class.school_year_id))
            .filter(year_result::Column::LearnerId.is_in(chunk.to_vec()))
            .all(&txn)
            .await?
        {
            existing.insert(m.learner_id, m);
        }
    }
    let now = crate::now();
    let mut changes = vec![];
    let mut inserts = vec![];
    for r in results {
        let data = serde_json::to_string(r).map_err(|e| Error::Internal(e.to_string()))?;
        let learning = r.learning_year().map(|l| l.as_str().to_string()).or_else(|| {
            r.primary
                .as_ref()
                .and_then(|p| p.evaluation)
                .map(|e| e.as_str().to_string())
        });
        let conduct = r
            .secondary
            .as_ref()
            .and_then(|s| s.conduct_year)
            .map(|l| l.as_str().to_string());
        let decision = r.decision().map(str::to_string);
        let award = r.award().map(str::to_string);
        let cur = existing.get(&r.learner_id);
        if cur.is_some_and(|c| c.data == data && c.class_id == class.id) {
            continue;
        }
        let summary = serde_json::json!({"learning": learning, "conduct": conduct, "decision": decision, "award": award});
        let before = cur.map(|c| serde_json::json!({"learning": c.learning, "conduct": c.conduct, "decision": c.decision, "award": c.award}));
        let am = year_result::ActiveModel {
            id: Set(cur.map_or_else(crate::new_id, |c| c.id)),
            school_id: Set(class.school_id),
            school_year_id: Set(class.school_year_id),
            class_id: Set(class.id),
            learner_id: Set(r.learner_id),
            rule_set: Set(r.rules.as_str().to_string()),
            learning: Set(learning),
            conduct: Set(conduct),
            decision: Set(decision),
            award: Set(award),
            data: Set(data),
            computed_at: Set(now),
        };
        let id = *am.id.as_ref();
        match cur {
            Some(_) => {
                year_result::Entity::update(am).exec(&txn).await?;
            }
            None => inserts.push(am),
        }
        changes.push(
            Change::new("gradebook.result", "year_result", id)
                .before(before)
                .after(
                    serde_json::json!({"learner_id": r.learner_id, "class_id": class.id, "result": summary}),
                ),
        );
    }
    let n = changes.len();
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(500).collect();
        year_result::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    if !changes.is_empty() {
        audit::append_many(&txn, actor, changes).await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// A stored year result: the summary columns, and the whole computed snapshot as JSON (the
/// `LearnerResult` serialised when it was computed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredResult {
    pub learner_id: Uuid,
    pub full_name: String,
    pub rules: RuleSet,
    pub learning: Option<String>,
    pub conduct: Option<String>,
    pub decision: Option<String>,
    pub award: Option<String>,
    pub computed_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Stored year results of a class, in roster order.
pub async fn class_results<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Vec<StoredResult>> {
    let rows = year_result::Entity::find()
        .filter(year_result::Column::ClassId.eq(class_id))
        .all(db)
        .await?;
    let order: HashMap<Uuid, usize> = roster(db, class_id)
        .await?
        .iter()
        .enumerate()
        .map(|(i, r)| (r.learner_id, i))
        .collect();
    let mut out = rows
        .into_iter()
        .map(|r| {
            let data: serde_json::Value =
                serde_json::from_str(&r.data).map_err(|e| Error::Internal(e.to_string()))?;
            let rules = serde_json::from_value(serde_json::Value::String(r.rule_set.clone()))
                .map_err(|e| Error::Internal(e.to_string()))?;
            Ok((
                order.get(&r.learner_id).copied().unwrap_or(usize::MAX),
                StoredResult {
                    learner_id: r.learner_id,
                    full_name: data["full_name"].as_str().unwrap_or_default().to_string(),
                    rules,
                    learning: r.learning,
                    conduct: r.conduct,
                    decision: r.decision,
                    award: r.award,
                    computed_at: r.computed_at,
                    data,
                },
            ))
        })
        .collect::<Result<Vec<(usize, StoredResult)>>>()?;
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// Cells of one learner × subject for a year, written in bulk by the demo generator (seeded
/// data: no audit event per cell, one event per batch).
#[derive(Debug, Clone)]
pub struct BulkCells {
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub class_id: Uuid,
    pub learner_id: Uuid,
    pub subject: String,
    pub cells: Cells,
}

pub async fn insert_bulk<C: ConnectionTrait>(db: &C, actor: &ActorRef, rows: Vec<BulkCells>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = crate::now();
    let n = rows.len();
    // Cells added to rows that exist (the summer re-tests) are merged into them.
    let learners: Vec<Uuid> = rows
        .iter()
        .map(|r| r.learner_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut existing: HashMap<(Uuid, Uuid, String), mark::Model> = HashMap::new();
    for year in rows.iter().map(|r| r.school_year_id).collect::<BTreeSet<_>>() {
        for m in load_rows(db, year, None, &learners, false).await? {
            existing.insert((m.learner_id, m.school_year_id, m.subject.clone()), m);
        }
    }
    let (merge, fresh): (Vec<BulkCells>, Vec<BulkCells>) = rows
        .into_iter()
        .partition(|r| existing.contains_key(&(r.learner_id, r.school_year_id, r.subject.clone())));
    for r in merge {
        let row = &existing[&(r.learner_id, r.school_year_id, r.subject.clone())];
        let mut cells = unpack(&row.cells);
        for ((term, slot), value) in r.cells {
            let key = cell_key(term, &slot);
            let version = cells.get(&key).map_or(0, |(_, v)| *v);
            cells.insert(key, (Some(CellValue::Int(value)), version + 1));
        }
        mark::Entity::update_many()
            .col_expr(mark::Column::Cells, Expr::value(pack(&cells)))
            .col_expr(mark::Column::Version, Expr::value(row.version + 1))
            .filter(mark::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    let models: Vec<mark::ActiveModel> = fresh
        .into_iter()
        .map(|r| {
            let cells: Packed = r
                .cells
                .into_iter()
                .map(|((term, slot), value)| (cell_key(term, &slot), (Some(CellValue::Int(value)), 1)))
                .collect();
            mark::ActiveModel {
                id: Set(crate::new_id()),
                school_id: Set(r.school_id),
                school_year_id: Set(r.school_year_id),
                class_id: Set(r.class_id),
                learner_id: Set(r.learner_id),
                subject: Set(r.subject),
                cells: Set(pack(&cells)),
                version: Set(1),
                updated_by: Set(actor.id),
                updated_by_label: Set(actor.label.clone()),
                updated_at: Set(now),
            }
        })
        .collect();
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let chunk: Vec<_> = models.by_ref().take(1000).collect();
        mark::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    audit::append(
        db,
        actor,
        Change::new("mark.bulk", "marks", n).after(serde_json::json!({"learner_subjects": n})),
    )
    .await?;
    Ok(())
}

/// What the stored year results say for the rollover: promoted or completed → promote;
/// retained or not completed → repeat. Learners still waiting for a summer re-test or
/// re-evaluation, and those without a stored result, are left out (the rollover's default).
pub async fn outcomes<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
) -> Result<HashMap<Uuid, truongso_core::classes::YearOutcome>> {
    use truongso_core::classes::YearOutcome;
    Ok(year_result::Entity::find()
        .filter(year_result::Column::SchoolYearId.eq(school_year_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| {
            let o = match r.decision.as_deref()? {
                "promoted" | "completed" => YearOutcome::Promote,
                "retained" | "retained_absences" | "not_completed" => YearOutcome::Repeat,
                _ => return None,
            };
            Some((r.learner_id, o))
        })
        .collect())
}

/// Computes and stores the year results of every class of a school year (the year-end
/// batch). Returns (classes, learners).
pub async fn compute_year<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    school_year_id: Uuid,
) -> Result<(usize, usize)> {
    let classes = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(school_year_id))
        .filter(class::Column::Grade.between(1, 12))
        .all(db)
        .await?;
    let mut learners = 0;
    for c in &classes {
        learners += compute_class(db, actor, c.id).await?.len();
    }
    Ok((classes.len(), learners))
}

/// Each learner's subject remarks for the học bạ: the teacher's end-of-year comment (term 2),
/// or the first semester's when the second is empty. (learner, subject) → remark.
pub async fn year_remarks<C: ConnectionTrait>(
    db: &C,
    school_year_id: Uuid,
    learners: &[Uuid],
) -> Result<HashMap<(Uuid, String), String>> {
    let mut out: HashMap<(Uuid, String), (u8, String)> = HashMap::new();
    for c in load_cells(db, school_year_id, None, learners).await? {
        let (Some(text), "note") = (c.text, c.slot.as_str()) else {
            continue;
        };
        if text.trim().is_empty() || !matches!(c.term, 1 | 2) {
            continue;
        }
        let slot = out.entry((c.learner_id, c.subject)).or_insert((0, String::new()));
        if c.term > slot.0 {
            *slot = (c.term, text);
        }
    }
    Ok(out.into_iter().map(|(k, (_, v))| (k, v)).collect())
}
