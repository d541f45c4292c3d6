//! Education statistics read models and the reporting workflow: school profiles (the attributes
//! the forms split schools by), forms computed from the records for a school or a subtree as at
//! a reference date, the records behind a cell, reporting periods with each school's frozen and
//! audited submission, explanations of data-quality errors, and imported population tables.

pub mod cache;
pub mod facts;

use crate::audit::{self, Change};
use crate::crypto::FieldCipher;
use crate::entity::{
    class, learner, population_row, room, school_profile, staff, stats_explanation, stats_period,
    stats_submission,
};
use crate::org::{self, OrgUnit};
use crate::quality::IssueRow;
use crate::{ActorRef, Error, Result, error::Msg};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use truongso_core::org::{OrgKind, OrgPath, SchoolLevel, SchoolLevels};
use truongso_core::quality::Severity;
use truongso_core::stats::FormDef;
use truongso_core::stats::built_in;
use truongso_core::stats::catalogue::Round;
use truongso_core::stats::compute::{self, FormValues, TraceError};
use truongso_core::stats::facts::{Entity, Facts};
use truongso_core::stats::period::{self as rules, ExistingPeriod, PeriodError, PeriodSpec, Status, Step};
use truongso_core::stats::population::PopulationTable;
use uuid::Uuid;

pub use facts::Cut;

/// Schools computed together in one batch of queries: bounds memory on a province while keeping
/// the number of round trips small.
pub const BATCH: usize = 60;

fn period_error(e: PeriodError) -> Error {
    let mut m = Msg::new(e.code());
    for (k, v) in e.params() {
        m = m.with(k, v);
    }
    Error::Conflict(m)
}

// ---------------------------------------------------------------------------------------------
// School profiles

/// The attributes of a school that the forms split by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SchoolProfile {
    /// DM_LOAI_HINH: `01` công lập, `03` dân lập, `09` tư thục.
    pub ownership: String,
    /// DM_LOAI_TRUONG.
    pub school_type: Option<String>,
    /// DM_VUNG.
    pub region: Option<String>,
    /// DM_KHU_VUC.
    pub area: Option<String>,
    /// Commune with especially difficult conditions (ĐBKK).
    pub difficult: bool,
    /// National standard level: 0, 1 or 2.
    pub standard_level: i32,
    /// Commune code (GSO) of the school's main site.
    pub commune_code: Option<String>,
}

impl Default for SchoolProfile {
    fn default() -> Self {
        SchoolProfile {
            ownership: "01".into(),
            school_type: None,
            region: None,
            area: None,
            difficult: false,
            standard_level: 0,
            commune_code: None,
        }
    }
}

impl SchoolProfile {
    /// Checks every code against its list (DM_LOAI_HINH, DM_LOAI_TRUONG, DM_VUNG, DM_KHU_VUC).
    pub fn validate(&self) -> Result<()> {
        use truongso_core::codes;
        use truongso_core::error::FieldError;
        let check = |field: &'static str, list: &codes::CodeList, v: &Option<String>| -> Result<()> {
            match v {
                Some(c) if list.label(c).is_none() => {
                    Err(FieldError::new(field, truongso_core::DomainError::UnknownCode).into())
                }
                _ => Ok(()),
            }
        };
        check("ownership", &codes::LOAI_HINH, &Some(self.ownership.clone()))?;
        check("school_type", &codes::LOAI_TRUONG, &self.school_type)?;
        check("region", &codes::VUNG, &self.region)?;
        check("area", &codes::KHU_VUC, &self.area)?;
        if !(0..=2).contains(&self.standard_level) {
            return Err(Error::invalid(
                "standard_level",
                truongso_core::DomainError::OutOfRange { min: 0, max: 2 },
            ));
        }
        if let Some(c) = &self.commune_code
            && (c.len() != 5 || !c.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::invalid(
                "commune_code",
                truongso_core::DomainError::UnknownCode,
            ));
        }
        Ok(())
    }
}

pub async fn profile<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<SchoolProfile> {
    Ok(school_profile::Entity::find_by_id(school_id)
        .one(db)
        .await?
        .map(|p| SchoolProfile {
            ownership: p.ownership,
            school_type: p.school_type,
            region: p.region,
            area: p.area,
            difficult: p.difficult,
            standard_level: p.standard_level,
            commune_code: p.commune_code,
        })
        .unwrap_or_default())
}

/// Saves a school's profile (audited with before and after).
pub async fn set_profile<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    school_id: Uuid,
    p: &SchoolProfile,
) -> Result<()> {
    p.validate()?;
    let txn = db.begin().await?;
    let existing = school_profile::Entity::find_by_id(school_id).one(&txn).await?;
    let before = profile(&txn, school_id).await?;
    let am = school_profile::ActiveModel {
        school_id: Set(school_id),
        ownership: Set(p.ownership.clone()),
        school_type: Set(p.school_type.clone()),
        region: Set(p.region.clone()),
        area: Set(p.area.clone()),
        difficult: Set(p.difficult),
        standard_level: Set(p.standard_level),
        commune_code: Set(p.commune_code.clone()),
        updated_at: Set(crate::now()),
    };
    if existing.is_some() {
        am.update(&txn).await?;
    } else {
        am.insert(&txn).await?;
    }
    audit::append(
        &txn,
        actor,
        Change::new("stats.profile", "school", school_id)
            .before(existing.map(|_| before))
            .after(p),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Forms

/// The schools of a unit (itself, if a school) that existed on `day`.
pub async fn schools_of<C: ConnectionTrait>(db: &C, root: &OrgUnit, day: NaiveDate) -> Result<Vec<OrgUnit>> {
    if root.kind == OrgKind::School {
        return Ok(vec![root.clone()]);
    }
    Ok(org::in_subtree(db, &root.path, Some(OrgKind::School))
        .await?
        .into_iter()
        .filter(|u| u.valid_from <= day && u.valid_to.is_none_or(|t| t > day))
        .collect())
}

/// The forms in force on `day` for a round, for the given levels (every level when `None`).
pub fn forms_of(round: Round, day: NaiveDate, levels: Option<&SchoolLevels>) -> Vec<FormDef> {
    let all = [
        SchoolLevel::MN,
        SchoolLevel::TH,
        SchoolLevel::THCS,
        SchoolLevel::THPT,
    ];
    all.into_iter()
        .filter(|l| levels.is_none_or(|ls| ls.levels().contains(l)))
        .filter_map(|l| built_in::in_force(l, round, day))
        .collect()
}

/// One school's forms and the facts behind them (one fact per record, with ids).
pub async fn school_forms<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    school: &OrgUnit,
    forms: &[FormDef],
    cut: Cut,
) -> Result<(Facts, Vec<FormValues>)> {
    let facts = facts::load(db, cipher, std::slice::from_ref(school), cut, true).await?;
    let values = forms.iter().map(|f| compute::compute(f, &facts)).collect();
    Ok((facts, values))
}

/// A school's share of a unit's forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolForms {
    pub school_id: Uuid,
    pub name: String,
    pub path: String,
    /// Per form, in the order asked; `None` when the form is not the school's level.
    pub values: Vec<Option<FormValues>>,
}

/// A unit's forms: per school, and the totals (the sum of the schools').
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitForms {
    pub schools: Vec<SchoolForms>,
    pub totals: Vec<FormValues>,
    /// Schools whose forms were computed from their records this time; the others' came from
    /// the per-school store (`cache`), unchanged since.
    #[serde(skip)]
    pub recomputed: usize,
}

/// Computes `forms` for every school of `root` on the reference date, in batches of schools so
/// a province's records never sit in memory at once. On a reporting date, schools whose records
/// have not changed since their forms were last computed are summed from the stored values.
pub async fn unit_forms<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    root: &OrgUnit,
    forms: &[FormDef],
    cut: Cut,
) -> Result<UnitForms> {
    let schools = schools_of(db, root, cut.reference).await?;
    let ids: Vec<Uuid> = schools.iter().map(|s| s.id).collect();
    let (year, day) = (cut.start_year, cut.reference);
    let keep = cache::keeps(db, forms, year, day).await?;
    let keys = if keep {
        cache::form_keys(forms, year)
    } else {
        vec![]
    };
    let (stamps, mut values) = if keep {
        let stamps = cache::stamps(db, &ids).await?;
        let stored = cache::read(db, forms, &keys, day, &stamps).await?;
        (stamps, stored)
    } else {
        (HashMap::new(), HashMap::new())
    };
    let stale: Vec<OrgUnit> = schools
        .iter()
        .filter(|s| !values.contains_key(&s.id))
        .cloned()
        .collect();
    for batch in stale.chunks(BATCH) {
        let facts = facts::load(db, cipher, batch, cut, false).await?;
        let per_form: Vec<Vec<Option<FormValues>>> = forms
            .iter()
            .map(|f| compute::compute_per_school(f, &facts))
            .collect();
        let computed: Vec<(Uuid, cache::SchoolValues)> = facts
            .schools
            .iter()
            .enumerate()
            .map(|(si, s)| (s.id, per_form.iter().map(|v| v[si].clone()).collect()))
            .collect();
        if keep {
            let rows: Vec<(Uuid, i64, &cache::SchoolValues)> = computed
                .iter()
                .map(|(id, v)| (*id, stamps.get(id).copied().unwrap_or(0), v))
                .collect();
            cache::write(db, &keys, day, &rows).await?;
        }
        values.extend(computed);
    }
    let mut out = UnitForms {
        schools: vec![],
        totals: forms.iter().map(FormValues::empty).collect(),
        recomputed: stale.len(),
    };
    for s in &schools {
        let values = values.remove(&s.id).unwrap_or_else(|| vec![None; forms.len()]);
        for (total, v) in out.totals.iter_mut().zip(&values) {
            if let Some(v) = v {
                total.add(v);
            }
        }
        out.schools.push(SchoolForms {
            school_id: s.id,
            name: s.name.clone(),
            path: s.path.as_str().to_string(),
            values,
        });
    }
    Ok(out)
}

/// Loads the facts of every school of a unit (grouped: no ids), for indicators and dynamic
/// reports.
pub async fn unit_facts<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    root: &OrgUnit,
    cut: Cut,
) -> Result<Facts> {
    let schools = schools_of(db, root, cut.reference).await?;
    let mut all = Facts::default();
    for batch in schools.chunks(BATCH) {
        all.extend(facts::load(db, cipher, batch, cut, false).await?);
    }
    Ok(all)
}

/// One record behind a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TraceRow {
    /// `school`, `class`, `learner`, `staff` or `room`.
    pub entity: String,
    pub id: Uuid,
    pub name: String,
    pub school: String,
    /// What the record adds to the cell (1, or the summed value).
    pub amount: u64,
    /// The record's page.
    pub href: String,
}

fn trace_error(e: TraceError) -> Error {
    Error::not_found(match e {
        TraceError::UnknownRow => "stats_unknown_row",
        TraceError::UnknownColumn => "stats_unknown_column",
        TraceError::NotRecorded => "stats_not_recorded",
    })
}

/// (id, name) of the records of one table among `ids`.
async fn names_of<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    id: E::Column,
    name: E::Column,
    ids: Vec<Uuid>,
) -> Result<Vec<(Uuid, String)>> {
    Ok(E::find()
        .select_only()
        .column(id)
        .column(name)
        .filter(id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?)
}

/// The records behind one cell of `form` computed over `facts` (which must carry ids).
pub async fn trace_cell<C: ConnectionTrait>(
    db: &C,
    form: &FormDef,
    facts: &Facts,
    row: &str,
    column: &str,
) -> Result<Vec<TraceRow>> {
    let behind = compute::trace(form, facts, row, column).map_err(trace_error)?;
    let mut ids: HashMap<Entity, Vec<Uuid>> = HashMap::new();
    for (f, _) in &behind {
        if let Some(id) = f.id {
            ids.entry(f.entity).or_default().push(id);
        }
    }
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for (entity, list) in ids {
        for chunk in list.chunks(2000) {
            let chunk = chunk.to_vec();
            let rows: Vec<(Uuid, String)> = match entity {
                Entity::Learner => {
                    names_of::<learner::Entity, _>(db, learner::Column::Id, learner::Column::FullName, chunk)
                        .await?
                }
                Entity::Staff => {
                    names_of::<staff::Entity, _>(db, staff::Column::Id, staff::Column::FullName, chunk)
                        .await?
                }
                Entity::Class => {
                    names_of::<class::Entity, _>(db, class::Column::Id, class::Column::Name, chunk).await?
                }
                Entity::Room => {
                    names_of::<room::Entity, _>(db, room::Column::Id, room::Column::Name, chunk).await?
                }
                Entity::School => org::get_many(db, &chunk)
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u.name))
                    .collect(),
            };
            names.extend(rows);
        }
    }
    let mut out: Vec<TraceRow> = behind
        .into_iter()
        .filter_map(|(f, amount)| {
            let id = f.id?;
            let href = match f.entity {
                Entity::Learner => format!("/learners/{id}"),
                Entity::Staff => format!("/staff/{id}"),
                Entity::Class => format!("/classes/{id}"),
                Entity::Room => format!("/facilities?school={}", facts.schools[f.school].id),
                Entity::School => format!("/org/{id}"),
            };
            Some(TraceRow {
                entity: f.entity.as_str().to_string(),
                id,
                name: names.get(&id).cloned().unwrap_or_default(),
                school: facts.schools[f.school].name.clone(),
                amount,
                href,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.school, &a.name).cmp(&(&b.school, &b.name)));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reporting periods

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    pub id: Uuid,
    pub office_id: Uuid,
    pub office_path: String,
    /// `beginning_of_year` or `end_of_year`.
    pub round: String,
    pub start_year: i32,
    pub reference_date: NaiveDate,
    pub opens_on: NaiveDate,
    pub deadline: NaiveDate,
    pub closed: bool,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

impl Period {
    pub fn round(&self) -> Round {
        Round::parse(&self.round).unwrap_or(Round::BeginningOfYear)
    }

    pub fn cut(&self) -> Cut {
        Cut::new(self.start_year, self.reference_date)
    }

    pub fn office_path(&self) -> OrgPath {
        OrgPath::parse(&self.office_path).unwrap_or_else(|| OrgPath::root(self.office_id))
    }
}

impl From<stats_period::Model> for Period {
    fn from(m: stats_period::Model) -> Self {
        Period {
            id: m.id,
            office_id: m.office_id,
            office_path: m.office_path,
            round: m.round,
            start_year: m.start_year,
            reference_date: m.reference_date,
            opens_on: m.opens_on,
            deadline: m.deadline,
            closed: m.closed,
            title: m.title,
            created_at: m.created_at,
        }
    }
}

pub struct NewPeriod {
    pub round: Round,
    pub start_year: i32,
    pub reference_date: Option<NaiveDate>,
    pub opens_on: NaiveDate,
    pub deadline: Option<NaiveDate>,
    pub title: Option<String>,
}

/// Opens a period for the schools under `office`. Refused when it overlaps another period of
/// the same round and year for any of the same schools, or its dates are out of order.
pub async fn open_period<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    office: &OrgUnit,
    input: NewPeriod,
) -> Result<Period> {
    if !office.kind.is_office() {
        return Err(Error::conflict("stats_not_an_office"));
    }
    let spec = PeriodSpec {
        office: office.path.clone(),
        round: input.round,
        start_year: input.start_year,
        reference_date: input
            .reference_date
            .unwrap_or_else(|| rules::default_reference_date(input.round, input.start_year)),
        opens_on: input.opens_on,
        deadline: input
            .deadline
            .unwrap_or_else(|| rules::default_deadline(input.round, input.start_year)),
    };
    let title = match input.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => rules::clean_text(t).map_err(period_error)?,
        _ => format!(
            "{} {}-{}",
            match input.round {
                Round::BeginningOfYear => "Thống kê đầu năm học",
                Round::EndOfYear => "Thống kê cuối năm học",
            },
            input.start_year,
            input.start_year + 1
        ),
    };
    let txn = db.begin().await?;
    let existing: Vec<ExistingPeriod> = stats_period::Entity::find()
        .filter(stats_period::Column::Round.eq(input.round.as_str()))
        .filter(stats_period::Column::StartYear.eq(input.start_year))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(ExistingPeriod {
                id: m.id,
                office: OrgPath::parse(&m.office_path)?,
                round: input.round,
                start_year: m.start_year,
            })
        })
        .collect();
    rules::check_new(&spec, &existing).map_err(period_error)?;
    let m = stats_period::ActiveModel {
        id: Set(crate::new_id()),
        office_id: Set(office.id),
        office_path: Set(office.path.as_str().to_string()),
        round: Set(input.round.as_str().to_string()),
        start_year: Set(input.start_year),
        reference_date: Set(spec.reference_date),
        opens_on: Set(spec.opens_on),
        deadline: Set(spec.deadline),
        closed: Set(false),
        title: Set(title),
        created_by: Set(actor.id),
        created_at: Set(crate::now()),
    }
    .insert(&txn)
    .await?;
    let period = Period::from(m);
    audit::append(
        &txn,
        actor,
        Change::new("stats.period.open", "stats_period", period.id).after(&period),
    )
    .await?;
    txn.commit().await?;
    Ok(period)
}

pub async fn get_period<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Period> {
    stats_period::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Period::from)
        .ok_or_else(|| Error::not_found("stats_unknown_period"))
}

/// Periods that concern a unit: opened by it or by an office above it (what a school owes), or
/// by an office below it (what an office supervises). Newest first.
pub async fn periods_for<C: ConnectionTrait>(db: &C, unit: &OrgPath) -> Result<Vec<Period>> {
    let mut out: Vec<Period> = stats_period::Entity::find()
        .order_by_desc(stats_period::Column::StartYear)
        .order_by_desc(stats_period::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Period::from)
        .filter(|p| {
            let office = p.office_path();
            unit.is_within(&office) || office.is_within(unit)
        })
        .collect();
    out.dedup_by_key(|p| p.id);
    Ok(out)
}

/// Closes a period: no more submissions (decisions on those in remain possible).
pub async fn close_period<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
) -> Result<Period> {
    let txn = db.begin().await?;
    let m = stats_period::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("stats_unknown_period"))?;
    let mut am: stats_period::ActiveModel = m.into();
    am.closed = Set(true);
    let period = Period::from(am.update(&txn).await?);
    audit::append(
        &txn,
        actor,
        Change::new("stats.period.close", "stats_period", id).after(&period),
    )
    .await?;
    txn.commit().await?;
    Ok(period)
}

// ---------------------------------------------------------------------------------------------
// Submissions

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Submission {
    pub period_id: Uuid,
    pub school_id: Uuid,
    pub school_name: String,
    /// `draft`, `submitted`, `returned` or `approved`.
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The office's comment when it returned the submission.
    pub comment: Option<String>,
    /// SHA-256 of the frozen snapshot.
    pub snapshot_sha256: Option<String>,
    /// Submitted after the deadline, or not in once it has passed.
    pub late: bool,
}

impl Submission {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }
}

/// What a school froze when it submitted: the forms' values and the facts behind every cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub period_id: Uuid,
    pub school_id: Uuid,
    pub reference_date: NaiveDate,
    pub computed_at: DateTime<Utc>,
    pub forms: Vec<FormValues>,
    pub facts: Facts,
}

/// Civil date in Vietnam (UTC+7).
pub fn vn_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(7)).date_naive()
}

fn submission_of(
    period: &Period,
    school: &OrgUnit,
    m: Option<&stats_submission::Model>,
    today: NaiveDate,
) -> Submission {
    let status = m.and_then(|m| Status::parse(&m.status)).unwrap_or(Status::Draft);
    let submitted_on = m.and_then(|m| m.submitted_at).map(vn_date);
    let late = match (status, submitted_on) {
        (Status::Submitted | Status::Approved, Some(d)) => rules::is_late(period.deadline, d),
        (Status::Draft | Status::Returned, _) => rules::is_late(period.deadline, today),
        _ => false,
    };
    Submission {
        period_id: period.id,
        school_id: school.id,
        school_name: school.name.clone(),
        status: status.as_str().to_string(),
        submitted_at: m.and_then(|m| m.submitted_at),
        decided_at: m.and_then(|m| m.decided_at),
        comment: m.and_then(|m| m.comment.clone()),
        snapshot_sha256: m.and_then(|m| m.snapshot_sha256.clone()),
        late,
    }
}

/// Every school the period covers with its submission (draft when none), by name.
pub async fn submissions<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    today: NaiveDate,
) -> Result<Vec<Submission>> {
    let office = org::get(db, period.office_id).await?;
    let schools = schools_of(db, &office, period.reference_date.max(today.min(period.deadline))).await?;
    let rows: HashMap<Uuid, stats_submission::Model> = stats_submission::Entity::find()
        .filter(stats_submission::Column::PeriodId.eq(period.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.school_id, m))
        .collect();
    let mut out: Vec<Submission> = schools
        .iter()
        .map(|s| submission_of(period, s, rows.get(&s.id), today))
        .collect();
    out.sort_by(|a, b| a.school_name.cmp(&b.school_name));
    Ok(out)
}

/// The stored submission of a school for a period, if any.
async fn find_submission<C: ConnectionTrait>(
    db: &C,
    period_id: Uuid,
    school_id: Uuid,
) -> Result<Option<stats_submission::Model>> {
    Ok(stats_submission::Entity::find()
        .filter(stats_submission::Column::PeriodId.eq(period_id))
        .filter(stats_submission::Column::SchoolId.eq(school_id))
        .one(db)
        .await?)
}

fn school_in_period(period: &Period, school: &OrgUnit) -> Result<()> {
    if school.kind != OrgKind::School || !school.path.is_within(&period.office_path()) {
        return Err(period_error(PeriodError::OutsideSubtree));
    }
    Ok(())
}

pub async fn submission<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    school: &OrgUnit,
    today: NaiveDate,
) -> Result<Submission> {
    school_in_period(period, school)?;
    let m = find_submission(db, period.id, school.id).await?;
    Ok(submission_of(period, school, m.as_ref(), today))
}

/// The frozen snapshot of a school's submission, if it submitted.
pub async fn snapshot<C: ConnectionTrait>(
    db: &C,
    period_id: Uuid,
    school_id: Uuid,
) -> Result<Option<Snapshot>> {
    let m = find_submission(db, period_id, school_id).await?;
    match m.and_then(|m| m.snapshot) {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| Error::Internal(format!("snapshot: {e}"))),
        None => Ok(None),
    }
}

/// The data-quality errors of a school that neither a fix nor an explanation has dealt with.
pub fn unexplained<'a>(issues: &'a [IssueRow], explained: &[Explanation]) -> Vec<&'a IssueRow> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .filter(|i| {
            !explained
                .iter()
                .any(|e| e.rule == i.rule && e.entity_id == i.entity_id && !e.text.is_empty())
        })
        .collect()
}

/// The school submits: the forms are computed from its records as at the reference date and
/// frozen with the facts behind them (hashed, audited). Refused while a data-quality error is
/// neither fixed nor explained, after approval, or once the period is closed.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    period: &Period,
    school: &OrgUnit,
    forms: &[FormDef],
    issues: &[IssueRow],
) -> Result<Submission> {
    school_in_period(period, school)?;
    let txn = db.begin().await?;
    let explained = explanations(&txn, period.id, school.id).await?;
    let open = unexplained(issues, &explained).len();
    let existing = find_submission(&txn, period.id, school.id).await?;
    let current = existing
        .as_ref()
        .and_then(|m| Status::parse(&m.status))
        .unwrap_or(Status::Draft);
    let next =
        rules::apply(current, &Step::Submit { unexplained: open }, period.closed).map_err(period_error)?;
    let (facts, values) = school_forms(&txn, cipher, school, forms, period.cut()).await?;
    let now = crate::now();
    let snap = Snapshot {
        period_id: period.id,
        school_id: school.id,
        reference_date: period.reference_date,
        computed_at: now,
        forms: values,
        facts,
    };
    let json = serde_json::to_string(&snap).map_err(|e| Error::Internal(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(json.as_bytes()));
    let before = existing.as_ref().map(|m| {
        serde_json::json!({"status": m.status, "snapshot_sha256": m.snapshot_sha256, "version": m.version})
    });
    let version = existing.as_ref().map_or(1, |m| m.version + 1);
    let am = stats_submission::ActiveModel {
        id: Set(existing.as_ref().map_or_else(crate::new_id, |m| m.id)),
        period_id: Set(period.id),
        school_id: Set(school.id),
        status: Set(next.as_str().to_string()),
        snapshot: Set(Some(json)),
        snapshot_sha256: Set(Some(sha.clone())),
        submitted_at: Set(Some(now)),
        submitted_by: Set(actor.id),
        decided_at: Set(None),
        decided_by: Set(None),
        comment: Set(existing.as_ref().and_then(|m| m.comment.clone())),
        version: Set(version),
        updated_at: Set(now),
    };
    let m = if existing.is_some() {
        am.update(&txn).await?
    } else {
        am.insert(&txn).await?
    };
    audit::append(
        &txn,
        actor,
        Change::new("stats.submit", "stats_submission", m.id)
            .before(before)
            .after(serde_json::json!({
                "period_id": period.id, "school_id": school.id, "status": next.as_str(),
                "snapshot_sha256": sha, "version": version, "explained": explained.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(submission_of(period, school, Some(&m), vn_date(now)))
}

/// The office approves a submission or returns it with a comment (audited). A school outside
/// the period's office is refused, as is any step on an approved submission.
pub async fn decide<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    period: &Period,
    school: &OrgUnit,
    step: Step,
) -> Result<Submission> {
    school_in_period(period, school)?;
    let txn = db.begin().await?;
    let existing = find_submission(&txn, period.id, school.id).await?;
    let current = existing
        .as_ref()
        .and_then(|m| Status::parse(&m.status))
        .unwrap_or(Status::Draft);
    let next = rules::apply(current, &step, period.closed).map_err(period_error)?;
    let m = existing.ok_or_else(|| period_error(PeriodError::NotSubmitted))?;
    let comment = match &step {
        Step::Return { comment } => Some(rules::clean_text(comment).map_err(period_error)?),
        _ => m.comment.clone(),
    };
    let before = serde_json::json!({"status": m.status, "comment": m.comment});
    let now = crate::now();
    let mut am: stats_submission::ActiveModel = m.into();
    am.status = Set(next.as_str().to_string());
    am.decided_at = Set(Some(now));
    am.decided_by = Set(actor.id);
    am.comment = Set(comment.clone());
    am.updated_at = Set(now);
    let m = am.update(&txn).await?;
    let action = match step {
        Step::Approve => "stats.approve",
        _ => "stats.return",
    };
    audit::append(
        &txn,
        actor,
        Change::new(action, "stats_submission", m.id)
            .before(before)
            .after(serde_json::json!({"status": next.as_str(), "comment": comment, "snapshot_sha256": m.snapshot_sha256})),
    )
    .await?;
    txn.commit().await?;
    Ok(submission_of(period, school, Some(&m), vn_date(now)))
}

/// The sum of the frozen snapshots of a period's schools (approved ones, or every submitted one
/// with `include_pending`), per form id, and how many schools it covers.
pub async fn reported_totals<C: ConnectionTrait>(
    db: &C,
    period: &Period,
    forms: &[FormDef],
    include_pending: bool,
) -> Result<(Vec<FormValues>, u32)> {
    let mut totals: Vec<FormValues> = forms.iter().map(FormValues::empty).collect();
    let mut schools = 0;
    let wanted: Vec<&str> = if include_pending {
        vec!["submitted", "approved"]
    } else {
        vec!["approved"]
    };
    for m in stats_submission::Entity::find()
        .filter(stats_submission::Column::PeriodId.eq(period.id))
        .filter(stats_submission::Column::Status.is_in(wanted))
        .all(db)
        .await?
    {
        let Some(json) = m.snapshot else { continue };
        let snap: Snapshot = serde_json::from_str(&json).map_err(|e| Error::Internal(e.to_string()))?;
        schools += 1;
        for (total, form) in totals.iter_mut().zip(forms) {
            if let Some(v) = snap.forms.iter().find(|v| v.fits(form)) {
                total.add(v);
            }
        }
    }
    Ok((totals, schools))
}

// ---------------------------------------------------------------------------------------------
// Explanations of data-quality errors

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    pub rule: String,
    pub entity_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

pub async fn explanations<C: ConnectionTrait>(
    db: &C,
    period_id: Uuid,
    school_id: Uuid,
) -> Result<Vec<Explanation>> {
    Ok(stats_explanation::Entity::find()
        .filter(stats_explanation::Column::PeriodId.eq(period_id))
        .filter(stats_explanation::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| Explanation {
            rule: m.rule,
            entity_id: m.entity_id,
            text: m.text,
            created_at: m.created_at,
        })
        .collect())
}

/// Records (or, with an empty text, withdraws) the school's explanation of one data-quality
/// issue for a period. Refused once the submission is in or approved.
pub async fn explain<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    period: &Period,
    school: &OrgUnit,
    rule: &str,
    entity_id: Uuid,
    text: &str,
) -> Result<()> {
    school_in_period(period, school)?;
    let text = rules::clean_text(text).map_err(period_error)?;
    let rule = rule.trim();
    if rule.is_empty() || rule.len() > 64 || !rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(Error::invalid("rule", truongso_core::DomainError::UnknownCode));
    }
    let txn = db.begin().await?;
    let status = find_submission(&txn, period.id, school.id)
        .await?
        .and_then(|m| Status::parse(&m.status))
        .unwrap_or(Status::Draft);
    match status {
        Status::Approved => return Err(period_error(PeriodError::AlreadyApproved)),
        Status::Submitted => return Err(period_error(PeriodError::AlreadySubmitted)),
        _ => {}
    }
    let existing = stats_explanation::Entity::find()
        .filter(stats_explanation::Column::PeriodId.eq(period.id))
        .filter(stats_explanation::Column::SchoolId.eq(school.id))
        .filter(stats_explanation::Column::Rule.eq(rule))
        .filter(stats_explanation::Column::EntityId.eq(entity_id))
        .one(&txn)
        .await?;
    let before = existing.as_ref().map(|m| m.text.clone());
    match (existing, text.is_empty()) {
        (Some(m), true) => {
            stats_explanation::Entity::delete_by_id(m.id).exec(&txn).await?;
        }
        (Some(m), false) => {
            let mut am: stats_explanation::ActiveModel = m.into();
            am.text = Set(text.clone());
            am.update(&txn).await?;
        }
        (None, true) => {}
        (None, false) => {
            stats_explanation::ActiveModel {
                id: Set(crate::new_id()),
                period_id: Set(period.id),
                school_id: Set(school.id),
                rule: Set(rule.to_string()),
                entity_id: Set(entity_id),
                text: Set(text.clone()),
                created_by: Set(actor.id),
                created_at: Set(crate::now()),
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::append(
        &txn,
        actor,
        Change::new("stats.explain", "stats_period", period.id)
            .before(before.map(|t| serde_json::json!({"rule": rule, "entity_id": entity_id, "text": t})))
            .after(serde_json::json!({"school_id": school.id, "rule": rule, "entity_id": entity_id, "text": text})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Population tables

/// Stores an imported population table for an office, replacing the rows of every (year,
/// commune) it contains; audited with counts only.
pub async fn import_population<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    office: &OrgUnit,
    table: &PopulationTable,
) -> Result<u64> {
    let txn = db.begin().await?;
    let mut n = 0u64;
    let now = crate::now();
    for year in table.years() {
        for commune in table.communes(year) {
            population_row::Entity::delete_many()
                .filter(population_row::Column::OfficeId.eq(office.id))
                .filter(population_row::Column::Year.eq(year))
                .filter(population_row::Column::Commune.eq(commune.as_str()))
                .exec(&txn)
                .await?;
            let rows: Vec<population_row::ActiveModel> = table
                .rows_of(&commune, year)
                .map(|r| population_row::ActiveModel {
                    id: Set(crate::new_id()),
                    office_id: Set(office.id),
                    commune: Set(r.commune.clone()),
                    year: Set(r.year),
                    age: Set(i32::from(r.age)),
                    population: Set(r.population as i64),
                    excluded: Set(r.excluded as i64),
                    completed_preschool: Set(r.completed_preschool.map(|v| v as i64)),
                    thcs_diploma_out: Set(r.thcs_diploma_out.map(|v| v as i64)),
                    completed_primary_out: Set(r.completed_primary_out.map(|v| v as i64)),
                    studying_elsewhere: Set(r.studying_elsewhere.map(|v| v as i64)),
                    literate_l1: Set(r.literate_l1.map(|v| v as i64)),
                    literate_l2: Set(r.literate_l2.map(|v| v as i64)),
                    imported_at: Set(now),
                })
                .collect();
            n += rows.len() as u64;
            for chunk in rows.chunks(500) {
                population_row::Entity::insert_many(chunk.to_vec())
                    .exec(&txn)
                    .await?;
            }
        }
    }
    audit::append(
        &txn,
        actor,
        Change::new("stats.population.import", "org_unit", office.id).after(serde_json::json!({
            "rows": n, "years": table.years(), "communes": table.years().iter().map(|y| table.communes(*y).len()).sum::<usize>(),
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// The population rows stored by the offices at or above `unit` (a Sở's table serves its
/// communes), as a table; later imports of a lower office win for the same commune.
pub async fn population<C: ConnectionTrait>(db: &C, unit: &OrgUnit) -> Result<Vec<population_row::Model>> {
    let offices: Vec<Uuid> = unit.path.ids();
    Ok(population_row::Entity::find()
        .filter(population_row::Column::OfficeId.is_in(offices))
        .order_by_asc(population_row::Column::Year)
        .order_by_asc(population_row::Column::Commune)
        .order_by_asc(population_row::Column::Age)
        .all(db)
        .await?)
}
