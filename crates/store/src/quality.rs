//! Data quality read model ("đúng, đủ, sạch, sống"): loads the facts of a school's records for
//! its current school year and runs the pure rules of `truongso_core::quality` over them, then
//! rolls the results up for an office's subtree.
//!
//! Query budget: a school report costs a fixed number of queries whatever the number of
//! learners (no per-learner query): the school and its years, classes, learners, guardian
//! links and phones, staff, assignment counts, and the learners of other schools that may be
//! the same child (same folded name and birth date, or same CCCD blind index). A rollup loads
//! each school's own facts in turn, but finds the cross-school candidates once for the whole
//! subtree with grouped queries (`GROUP BY … HAVING COUNT(DISTINCT school_id) > 1`), never
//! pairwise. Identity numbers are decrypted in memory for the validity rules and never leave
//! this module: issue rows carry the rule, the record's name and a link, not the CCCD.

use crate::crypto::FieldCipher;
use crate::entity::{class, guardian, learner, learner_guardian, staff, teaching_assignment};
use crate::org::OrgUnit;
use crate::school_years::SchoolYearRow;
use crate::{Error, Result};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use truongso_core::classes::level_of_grade;
use truongso_core::codes;
use truongso_core::org::{OrgKind, OrgPath, SchoolLevel};
use truongso_core::people::Sex;
use truongso_core::quality::{
    self as rules, ClassFacts, EntityKind, Finding, Issue, LearnerFacts, QualityPolicy, Severity, StaffFacts,
};
use truongso_core::school_year::SchoolYear;
use truongso_core::text;
use uuid::Uuid;

/// Staff groups (DM_NHOM_CAN_BO) who are expected to hold teaching assignments: teachers,
/// vocational teachers and seconded teachers.
pub const TEACHER_GROUPS: [&str; 3] = ["03", "06", "10"];

/// Staff statuses (DM_TRANG_THAI_CAN_BO) of people working at the school: working, awaiting
/// retirement, transferred in. Transferred out, reassigned, retired and seconded elsewhere are
/// not checked.
pub const WORKING_STAFF: [&str; 3] = ["01", "04", "07"];

/// Civil dates in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
const VN_OFFSET_HOURS: i64 = 7;

/// One problem found in one record, as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssueRow {
    /// Stable rule code, also the message key `quality.<rule>`.
    pub rule: String,
    /// `error` (counts against completeness) or `warning`.
    #[schema(value_type = String, example = "error")]
    pub severity: Severity,
    /// `learner`, `class` or `staff`.
    #[schema(value_type = String, example = "learner")]
    pub entity: EntityKind,
    pub entity_id: Uuid,
    /// The learner's, class's or staff member's name.
    pub name: String,
    /// The record to fix: `/learners/{id}`, `/classes/{id}` or `/staff/{id}`.
    pub href: String,
    /// The rule's details (the missing field, the identity-number problem code, the other
    /// records of a duplicate, age and grade, class size). Never the identity number itself.
    #[schema(value_type = Object)]
    pub finding: Finding,
}

/// The data quality of one school in one school year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SchoolReport {
    pub school_id: Uuid,
    pub school_name: String,
    /// The year checked (`2026-2027`): the year in progress, else the latest one.
    pub school_year: Option<String>,
    /// Learners on the roll.
    pub learners: u64,
    /// Classes of the year.
    pub classes: u64,
    /// Staff at work.
    pub staff: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Records (learners, classes, staff) with no error, per mille.
    pub completeness_permille: u32,
    /// Worst first: errors, then warnings, each by name.
    pub issues: Vec<IssueRow>,
}

/// Counts of a set of schools (one school, a unit's schools, the whole subtree).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QualityCounts {
    pub schools: u64,
    pub learners: u64,
    pub classes: u64,
    pub staff: u64,
    /// Records checked: learners + classes + staff.
    pub records: u64,
    /// Records with at least one error.
    pub records_with_errors: u64,
    pub errors: u64,
    pub warnings: u64,
    pub completeness_permille: u32,
}

impl QualityCounts {
    fn add(&mut self, o: &QualityCounts) {
        self.schools += o.schools;
        self.learners += o.learners;
        self.classes += o.classes;
        self.staff += o.staff;
        self.records += o.records;
        self.records_with_errors += o.records_with_errors;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.completeness_permille = permille(self.records, self.records_with_errors);
    }
}

/// Same arithmetic as `rules::completeness_permille`, from counts.
fn permille(records: u64, bad: u64) -> u32 {
    ((records - Ord::min(bad, records)) * 1000)
        .checked_div(records)
        .map_or(1000, |p| p as u32)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SchoolQuality {
    pub school_id: Uuid,
    pub school_name: String,
    pub school_year: Option<String>,
    /// The direct child of the rollup's root that contains the school (the school itself when
    /// it answers to the root directly).
    pub unit_id: Option<Uuid>,
    pub counts: QualityCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitQuality {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// `commune_office`, `school`, …
    pub kind: String,
    pub counts: QualityCounts,
}

/// An office's view: every current school of its subtree, the direct child units, totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rollup {
    pub root_id: Uuid,
    pub root_name: String,
    /// Worst completeness first, then by name.
    pub schools: Vec<SchoolQuality>,
    /// Schools grouped by the root's direct child containing them; worst completeness first.
    pub units: Vec<UnitQuality>,
    pub totals: QualityCounts,
}

/// A learner of another school who may be the same child as one of ours.
#[derive(Debug, Clone)]
struct Candidate {
    facts: LearnerFacts,
    name_folded: String,
    cccd_index: Option<String>,
}

/// The cross-school candidates, indexed by the keys that can match.
#[derive(Default)]
struct Candidates {
    all: Vec<Candidate>,
    by_person: HashMap<(String, NaiveDate), Vec<usize>>,
    by_cccd: HashMap<String, Vec<usize>>,
}

impl Candidates {
    fn new(all: Vec<Candidate>) -> Self {
        let mut c = Candidates {
            all,
            ..Default::default()
        };
        for (i, x) in c.all.iter().enumerate() {
            if let Some(dob) = x.facts.date_of_birth {
                c.by_person
                    .entry((x.name_folded.clone(), dob))
                    .or_default()
                    .push(i);
            }
            if let Some(k) = &x.cccd_index {
                c.by_cccd.entry(k.clone()).or_default().push(i);
            }
        }
        c
    }

    /// Candidates of other schools sharing a key with one of `learners`.
    fn matching(&self, school_id: Uuid, learners: &[learner::Model]) -> Vec<LearnerFacts> {
        let mut picked: Vec<usize> = vec![];
        for l in learners {
            if let Some(ix) = self.by_person.get(&(l.name_folded.clone(), l.date_of_birth)) {
                picked.extend(ix);
            }
            if let Some(ix) = l.cccd_index.as_ref().and_then(|k| self.by_cccd.get(k)) {
                picked.extend(ix);
            }
        }
        picked.sort_unstable();
        picked.dedup();
        picked
            .into_iter()
            .map(|i| &self.all[i].facts)
            .filter(|f| f.school_id != school_id)
            .cloned()
            .collect()
    }
}

/// Everything one school's report needs, loaded in a fixed number of queries.
struct SchoolFacts {
    school: OrgUnit,
    year: Option<(SchoolYearRow, SchoolYear)>,
    learners: Vec<learner::Model>,
    phones: HashMap<Uuid, Vec<String>>,
    classes: Vec<class::Model>,
    staff: Vec<staff::Model>,
    assignments: HashMap<Uuid, u32>,
}

/// The year in progress on `today`; else the latest year already started; else the newest.
async fn year_of<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    today: NaiveDate,
) -> Result<Option<SchoolYearRow>> {
    // `for_school` is what `school_years::current` reads; one call serves both choices.
    let years = crate::school_years::for_school(db, school_id).await?;
    let pick = years
        .iter()
        .find(|y| y.starts_on <= today && today <= y.ends_on)
        .or_else(|| years.iter().find(|y| y.starts_on <= today))
        .or(years.first());
    Ok(pick.cloned())
}

fn on_roll_of(school_id: Uuid) -> SelectStatement {
    Query::select()
        .column(learner::Column::Id)
        .from(learner::Entity)
        .and_where(learner::Column::SchoolId.eq(school_id))
        .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
        .to_owned()
}

/// Guardian phones of the learners selected by `learner_ids` (a sub-query): two queries.
async fn phones_of<C: ConnectionTrait>(
    db: &C,
    learner_ids: SelectStatement,
) -> Result<HashMap<Uuid, Vec<String>>> {
    let links: Vec<(Uuid, Uuid)> = learner_guardian::Entity::find()
        .select_only()
        .column(learner_guardian::Column::LearnerId)
        .column(learner_guardian::Column::GuardianId)
        .filter(learner_guardian::Column::LearnerId.in_subquery(learner_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let guardian_ids = Query::select()
        .column(learner_guardian::Column::GuardianId)
        .from(learner_guardian::Entity)
        .and_where(learner_guardian::Column::LearnerId.in_subquery(learner_ids))
        .to_owned();
    let phones: HashMap<Uuid, String> = guardian::Entity::find()
        .select_only()
        .column(guardian::Column::Id)
        .column(guardian::Column::Phone)
        .filter(guardian::Column::Id.in_subquery(guardian_ids))
        .filter(guardian::Column::Phone.is_not_null())
        .into_tuple::<(Uuid, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(id, p)| Some((id, p?)))
        .collect();
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (l, g) in links {
        if let Some(p) = phones.get(&g) {
            out.entry(l).or_default().push(p.clone());
        }
    }
    Ok(out)
}

async fn load_school<C: ConnectionTrait>(db: &C, school: OrgUnit, today: NaiveDate) -> Result<SchoolFacts> {
    let year = year_of(db, school.id, today).await?.map(|y| {
        let sy = SchoolYear::parse(&y.name).unwrap_or_else(|_| SchoolYear::containing(y.starts_on));
        (y, sy)
    });
    let learners = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school.id))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .all(db)
        .await?;
    let phones = phones_of(db, on_roll_of(school.id)).await?;
    let (classes, assignments) = match &year {
        Some((y, _)) => {
            let classes = class::Entity::find()
                .filter(class::Column::SchoolId.eq(school.id))
                .filter(class::Column::SchoolYearId.eq(y.id))
                .all(db)
                .await?;
            let of_year = Query::select()
                .column(class::Column::Id)
                .from(class::Entity)
                .and_where(class::Column::SchoolYearId.eq(y.id))
                .to_owned();
            let counts: HashMap<Uuid, u32> = teaching_assignment::Entity::find()
                .select_only()
                .column(teaching_assignment::Column::StaffId)
                .column_as(teaching_assignment::Column::Id.count(), "n")
                .filter(teaching_assignment::Column::ClassId.in_subquery(of_year))
                .group_by(teaching_assignment::Column::StaffId)
                .into_tuple::<(Uuid, i64)>()
                .all(db)
                .await?
                .into_iter()
                .map(|(s, n)| (s, n as u32))
                .collect();
            (classes, counts)
        }
        None => (vec![], HashMap::new()),
    };
    let staff = staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school.id))
        .filter(staff::Column::Status.is_in(WORKING_STAFF))
        .all(db)
        .await?;
    Ok(SchoolFacts {
        school,
        year,
        learners,
        phones,
        classes,
        staff,
        assignments,
    })
}

fn vn_date(t: chrono::DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(VN_OFFSET_HOURS)).date_naive()
}

/// The school year a record was last changed in, as the rules compare it: a change dated
/// before the start of the year checked belongs to an earlier year.
fn year_of_change(changed: NaiveDate, year: Option<&(SchoolYearRow, SchoolYear)>) -> Option<SchoolYear> {
    let (row, sy) = year?;
    Some(if changed < row.starts_on {
        SchoolYear::containing(changed).min(SchoolYear::from_start(sy.start_year() - 1))
    } else {
        *sy
    })
}

/// Decrypts a stored CCCD. A value that does not decrypt is passed on as unreadable so the
/// validity rule flags it (`cccd_invalid`) rather than failing the whole report.
fn decrypt_cccd(cipher: &FieldCipher, id: Uuid, stored: &Option<String>) -> Option<String> {
    stored.as_ref().map(|s| {
        cipher
            .decrypt(&crate::people::context("cccd", id), s)
            .unwrap_or_else(|_| "unreadable".to_string())
    })
}

fn learner_facts(
    l: &learner::Model,
    cipher: &FieldCipher,
    phones: &HashMap<Uuid, Vec<String>>,
    grade_of_class: &HashMap<Uuid, i32>,
    year: Option<&(SchoolYearRow, SchoolYear)>,
) -> LearnerFacts {
    LearnerFacts {
        id: l.id,
        school_id: l.school_id,
        full_name: l.full_name.clone(),
        date_of_birth: Some(l.date_of_birth),
        sex: Sex::parse(&l.sex).ok(),
        grade: l
            .class_id
            .and_then(|c| grade_of_class.get(&c))
            .and_then(|g| u8::try_from(*g).ok())
            .filter(|g| (1..=12).contains(g)),
        cccd: decrypt_cccd(cipher, l.id, &l.cccd_enc),
        ethnicity: l.ethnicity.clone(),
        guardian_phones: phones.get(&l.id).cloned().unwrap_or_default(),
        last_updated_year: year_of_change(vn_date(l.updated_at.unwrap_or(l.created_at)), year),
    }
}

/// A class's level: the school's level teaching that grade, else the grade's usual level.
fn class_level(grade: i32, school: &OrgUnit) -> Option<SchoolLevel> {
    let g = u8::try_from(grade).ok()?;
    school
        .levels
        .as_ref()
        .and_then(|ls| {
            ls.levels()
                .iter()
                .copied()
                .find(|l| truongso_core::classes::grades_of(*l).contains(&g))
        })
        .or_else(|| level_of_grade(g))
}

fn evaluate(
    f: &SchoolFacts,
    foreign: Vec<LearnerFacts>,
    cipher: &FieldCipher,
    policy: &QualityPolicy,
    today: NaiveDate,
) -> SchoolReport {
    let year = f.year.as_ref();
    let grade_of_class: HashMap<Uuid, i32> = f.classes.iter().map(|c| (c.id, c.grade)).collect();
    let mut learners: Vec<LearnerFacts> = f
        .learners
        .iter()
        .map(|l| learner_facts(l, cipher, &f.phones, &grade_of_class, year))
        .chain(foreign)
        .collect();
    // Only records sharing a folded name and birth date can be likely duplicates; dropping
    // the phones of the others changes no finding and keeps the duplicate grouping small.
    let keys: Vec<(String, Option<NaiveDate>)> = learners
        .iter()
        .map(|l| (text::fold(&l.full_name), l.date_of_birth))
        .collect();
    let mut people: HashMap<&(String, Option<NaiveDate>), u32> = HashMap::new();
    for k in &keys {
        *people.entry(k).or_default() += 1;
    }
    for (l, k) in learners.iter_mut().zip(&keys) {
        if people[k] < 2 {
            l.guardian_phones.clear();
        }
    }
    let own: HashSet<Uuid> = f.learners.iter().map(|l| l.id).collect();
    let school_year = year
        .map(|(_, y)| *y)
        .unwrap_or_else(|| SchoolYear::containing(today));
    let mut issues: Vec<Issue> = rules::check_learners(&learners, policy, school_year, today)
        .into_iter()
        .filter(|i| own.contains(&i.id))
        .collect();

    let mut enrolled: HashMap<Uuid, u32> = HashMap::new();
    for l in &f.learners {
        if let Some(c) = l.class_id {
            *enrolled.entry(c).or_default() += 1;
        }
    }
    let classes: Vec<ClassFacts> = f
        .classes
        .iter()
        .map(|c| ClassFacts {
            id: c.id,
            school_id: c.school_id,
            name: c.name.clone(),
            level: class_level(c.grade, &f.school),
            enrolled: enrolled.get(&c.id).copied().unwrap_or(0),
        })
        .collect();
    issues.extend(rules::check_classes(&classes, policy));

    let staff: Vec<StaffFacts> = f
        .staff
        .iter()
        .map(|s| StaffFacts {
            id: s.id,
            school_id: s.school_id,
            // Without a school year there is nothing to be assigned to.
            is_teacher: year.is_some() && TEACHER_GROUPS.contains(&s.staff_group.as_str()),
            assignments_this_year: f.assignments.get(&s.id).copied().unwrap_or(0),
        })
        .collect();
    issues.extend(rules::check_staff(&staff));
    // The core's staff facts carry no change date: the staleness rule for staff records is
    // the learners' one (a change before the start of the year checked).
    if let Some((row, _)) = year {
        for s in &f.staff {
            if vn_date(s.updated_at) < row.starts_on {
                issues.push(Issue {
                    entity: EntityKind::Staff,
                    id: s.id,
                    school_id: s.school_id,
                    finding: Finding::NotUpdatedThisYear,
                });
            }
        }
    }

    let records = f.learners.len() + f.classes.len() + f.staff.len();
    let completeness_permille = rules::completeness_permille(records, &issues);
    let names: HashMap<Uuid, &str> = f
        .learners
        .iter()
        .map(|l| (l.id, l.full_name.as_str()))
        .chain(f.classes.iter().map(|c| (c.id, c.name.as_str())))
        .chain(f.staff.iter().map(|s| (s.id, s.full_name.as_str())))
        .collect();
    let mut rows: Vec<(String, IssueRow)> = issues
        .into_iter()
        .map(|i| {
            let name = names.get(&i.id).copied().unwrap_or_default().to_string();
            let href = match i.entity {
                EntityKind::Learner => format!("/learners/{}", i.id),
                EntityKind::Class => format!("/classes/{}", i.id),
                EntityKind::Staff => format!("/staff/{}", i.id),
            };
            (
                text::fold(&name),
                IssueRow {
                    rule: i.finding.code().to_string(),
                    severity: i.finding.severity(),
                    entity: i.entity,
                    entity_id: i.id,
                    name,
                    href,
                    finding: i.finding,
                },
            )
        })
        .collect();
    rows.sort_by(|(fa, a), (fb, b)| {
        (a.severity, fa, &a.name, a.entity, a.entity_id, &a.rule).cmp(&(
            b.severity,
            fb,
            &b.name,
            b.entity,
            b.entity_id,
            &b.rule,
        ))
    });
    let issues: Vec<IssueRow> = rows.into_iter().map(|(_, r)| r).collect();
    let errors = issues.iter().filter(|i| i.severity == Severity::Error).count() as u64;
    SchoolReport {
        school_id: f.school.id,
        school_name: f.school.name.clone(),
        school_year: year.map(|(y, _)| y.name.clone()),
        learners: f.learners.len() as u64,
        classes: f.classes.len() as u64,
        staff: f.staff.len() as u64,
        errors,
        warnings: issues.len() as u64 - errors,
        completeness_permille,
        issues,
    }
}

/// Loads the learners selected by `cond` (on the roll) as candidates, with their phones and
/// decrypted identity numbers: three queries.
async fn load_candidates<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    cond: sea_orm::Condition,
) -> Result<Candidates> {
    let on_roll = sea_orm::Condition::all()
        .add(learner::Column::Status.is_in(codes::ON_ROLL))
        .add(cond);
    let models = learner::Entity::find().filter(on_roll.clone()).all(db).await?;
    if models.is_empty() {
        return Ok(Candidates::default());
    }
    let ids = Query::select()
        .column(learner::Column::Id)
        .from(learner::Entity)
        .cond_where(on_roll)
        .to_owned();
    let phones = phones_of(db, ids).await?;
    let none = HashMap::new();
    Ok(Candidates::new(
        models
            .into_iter()
            .map(|l| Candidate {
                // Only what the cross-record rules read; their own findings are not kept.
                facts: learner_facts(&l, cipher, &phones, &none, None),
                name_folded: l.name_folded,
                cccd_index: l.cccd_index,
            })
            .collect(),
    ))
}

fn person_key() -> Expr {
    Expr::tuple([
        Expr::col(learner::Column::NameFolded),
        Expr::col(learner::Column::DateOfBirth),
    ])
}

/// The data-quality report of one school for its current school year (else its latest).
pub async fn school_report<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    school_id: Uuid,
    policy: &QualityPolicy,
    today: NaiveDate,
) -> Result<SchoolReport> {
    let school = crate::org::get(db, school_id).await?;
    if school.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    let facts = load_school(db, school, today).await?;
    // Learners of other schools (anywhere in the database) sharing a folded name and birth
    // date, or a CCCD blind index, with a learner on this school's roll.
    let same_person = Query::select()
        .column(learner::Column::NameFolded)
        .column(learner::Column::DateOfBirth)
        .from(learner::Entity)
        .and_where(learner::Column::SchoolId.eq(school_id))
        .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
        .to_owned();
    let same_cccd = Query::select()
        .column(learner::Column::CccdIndex)
        .from(learner::Entity)
        .and_where(learner::Column::SchoolId.eq(school_id))
        .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
        .and_where(learner::Column::CccdIndex.is_not_null())
        .to_owned();
    let cond = sea_orm::Condition::all()
        .add(learner::Column::SchoolId.ne(school_id))
        .add(
            sea_orm::Condition::any()
                .add(person_key().in_subquery(same_person))
                .add(learner::Column::CccdIndex.in_subquery(same_cccd)),
        );
    let candidates = load_candidates(db, cipher, cond).await?;
    let foreign = candidates.matching(school_id, &facts.learners);
    Ok(evaluate(&facts, foreign, cipher, policy, today))
}

/// Cross-school candidates for a whole subtree, with grouped queries: every learner on a roll
/// whose (folded name, birth date) or CCCD blind index is shared by learners of two or more
/// schools in the database, where at least one of them is inside `root`.
async fn subtree_candidates<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    root: &OrgPath,
) -> Result<Candidates> {
    let schools_distinct = || Expr::expr(Func::count_distinct(Expr::col(learner::Column::SchoolId))).gt(1);
    let shared_person = Query::select()
        .column(learner::Column::NameFolded)
        .column(learner::Column::DateOfBirth)
        .from(learner::Entity)
        .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
        .group_by_columns([learner::Column::NameFolded, learner::Column::DateOfBirth])
        .and_having(schools_distinct())
        .to_owned();
    let shared_cccd = Query::select()
        .column(learner::Column::CccdIndex)
        .from(learner::Entity)
        .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
        .and_where(learner::Column::CccdIndex.is_not_null())
        .group_by_col(learner::Column::CccdIndex)
        .and_having(schools_distinct())
        .to_owned();
    let inside = |cols: &[learner::Column]| {
        let mut q = Query::select();
        for c in cols {
            q.column(*c);
        }
        q.from(learner::Entity)
            .and_where(
                learner::Column::SchoolId.in_subquery(crate::org::ids_within(std::slice::from_ref(root))),
            )
            .and_where(learner::Column::Status.is_in(codes::ON_ROLL))
            .to_owned()
    };
    let cond = sea_orm::Condition::any()
        .add(
            sea_orm::Condition::all()
                .add(person_key().in_subquery(shared_person))
                .add(person_key().in_subquery(inside(&[
                    learner::Column::NameFolded,
                    learner::Column::DateOfBirth,
                ]))),
        )
        .add(
            sea_orm::Condition::all()
                .add(learner::Column::CccdIndex.in_subquery(shared_cccd))
                .add(learner::Column::CccdIndex.in_subquery(inside(&[learner::Column::CccdIndex]))),
        );
    load_candidates(db, cipher, cond).await
}

fn counts_of(r: &SchoolReport) -> QualityCounts {
    let records = r.learners + r.classes + r.staff;
    let mut bad: Vec<Uuid> = r
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.entity_id)
        .collect();
    bad.sort_unstable();
    bad.dedup();
    QualityCounts {
        schools: 1,
        learners: r.learners,
        classes: r.classes,
        staff: r.staff,
        records,
        records_with_errors: bad.len() as u64,
        errors: r.errors,
        warnings: r.warnings,
        completeness_permille: r.completeness_permille,
    }
}

/// The data quality of every current school under `root` (an office, or a school), grouped
/// by the root's direct children, with totals. Schools are loaded one after the other; the
/// cross-school duplicate candidates are found once for the subtree.
pub async fn rollup<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    root: &OrgPath,
    policy: &QualityPolicy,
    today: NaiveDate,
) -> Result<Rollup> {
    let root_unit = crate::org::get(db, root.last_id()).await?;
    let schools: Vec<OrgUnit> = crate::org::in_subtree(db, root, Some(OrgKind::School))
        .await?
        .into_iter()
        .filter(OrgUnit::is_current)
        .collect();
    let candidates = subtree_candidates(db, cipher, root).await?;
    let root_len = root.ids().len();
    let mut out = vec![];
    for school in schools {
        let unit_id = school.path.ids().get(root_len).copied();
        let facts = load_school(db, school, today).await?;
        let foreign = candidates.matching(facts.school.id, &facts.learners);
        let report = evaluate(&facts, foreign, cipher, policy, today);
        out.push(SchoolQuality {
            school_id: report.school_id,
            school_name: report.school_name.clone(),
            school_year: report.school_year.clone(),
            unit_id,
            counts: counts_of(&report),
        });
    }
    let mut totals = QualityCounts {
        completeness_permille: 1000,
        ..Default::default()
    };
    let mut by_unit: HashMap<Uuid, QualityCounts> = HashMap::new();
    for s in &out {
        totals.add(&s.counts);
        if let Some(u) = s.unit_id {
            by_unit.entry(u).or_default().add(&s.counts);
        }
    }
    let unit_ids: Vec<Uuid> = by_unit.keys().copied().collect();
    let units_found = crate::org::get_many(db, &unit_ids).await?;
    let mut units: Vec<UnitQuality> = units_found
        .into_iter()
        .map(|u| UnitQuality {
            counts: by_unit.remove(&u.id).unwrap_or_default(),
            unit_id: u.id,
            unit_name: u.name,
            kind: u.kind.as_str().to_string(),
        })
        .collect();
    units.sort_by(|a, b| {
        (
            a.counts.completeness_permille,
            text::fold(&a.unit_name),
            a.unit_id,
        )
            .cmp(&(
                b.counts.completeness_permille,
                text::fold(&b.unit_name),
                b.unit_id,
            ))
    });
    out.sort_by(|a, b| {
        (
            a.counts.completeness_permille,
            text::fold(&a.school_name),
            a.school_id,
        )
            .cmp(&(
                b.counts.completeness_permille,
                text::fold(&b.school_name),
                b.school_id,
            ))
    });
    Ok(Rollup {
        root_id: root_unit.id,
        root_name: root_unit.name,
        schools: out,
        units,
        totals,
    })
}
