//! Loads the statistics facts of a set of schools for one school year as they stood on a
//! reference date: a fixed number of queries per batch of schools (no per-learner query).
//!
//! History comes from the records that keep it: a learner's class on the date from the
//! enrolment history, their status from the status history (so a pupil who left in November is
//! still counted on 30/9), repeating from the enrolment reason or last year's grade. Staff and
//! rooms have no history yet: their current state is used (noted on the forms' page).

use crate::crypto::FieldCipher;
use crate::entity::{
    class, class_enrolment, learner, learner_status, org_unit, room, school_facility, school_profile,
    school_year, staff, year_result,
};
use crate::org::OrgUnit;
use crate::quality::{TEACHER_GROUPS, WORKING_STAFF};
use crate::{Error, Result};
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use truongso_core::classes::level_of_grade;
use truongso_core::codes;
use truongso_core::facilities::SchoolFacts;
use truongso_core::org::SchoolLevel;
use truongso_core::stats::facts::{self as f, Entity, Fact, Facts, Val};
use uuid::Uuid;

/// Dropped out (term 1, term 2, summer) and transferred out, DM_TRANG_THAI_HOC_SINH.
const DROPPED_OUT: [&str; 3] = ["05", "09", "12"];
const TRANSFERRED_OUT: [&str; 3] = ["04", "08", "11"];

/// What to load: which year, as at which date.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    pub start_year: i32,
    pub reference: NaiveDate,
    /// The beginning-of-year date whose roll is "the start of the year" (30/9).
    pub year_start: NaiveDate,
}

impl Cut {
    pub fn new(start_year: i32, reference: NaiveDate) -> Cut {
        Cut {
            start_year,
            reference,
            year_start: truongso_core::stats::period::default_reference_date(
                truongso_core::stats::Round::BeginningOfYear,
                start_year,
            ),
        }
    }
}

fn covers(from: NaiveDate, to: Option<NaiveDate>, day: NaiveDate) -> bool {
    from <= day && to.is_none_or(|t| t >= day)
}

/// The school's highest level: where its staff and rooms are counted (a decision recorded in
/// docs/decisions.md: the sector keeps no level per staff member).
fn main_level(unit: &OrgUnit) -> Option<SchoolLevel> {
    unit.levels.as_ref().and_then(|l| {
        l.levels()
            .iter()
            .copied()
            .filter(|l| *l != SchoolLevel::GDTX)
            .max()
    })
}

fn first_grade(level: SchoolLevel) -> Option<i64> {
    match level {
        SchoolLevel::TH => Some(1),
        SchoolLevel::THCS => Some(6),
        SchoolLevel::THPT => Some(10),
        _ => None,
    }
}

fn last_grade(level: SchoolLevel) -> Option<i64> {
    match level {
        SchoolLevel::TH => Some(5),
        SchoolLevel::THCS => Some(9),
        SchoolLevel::THPT => Some(12),
        _ => None,
    }
}

fn months_between(dob: NaiveDate, day: NaiveDate) -> i64 {
    let mut m = i64::from(day.year() - dob.year()) * 12 + i64::from(day.month()) - i64::from(dob.month());
    if day.day() < dob.day() {
        m -= 1;
    }
    m.max(0)
}

/// The learner columns the facts use: the wide ones (names, identity numbers, addresses) are
/// never read here, which halves what a province's load moves (docs/benchmarks.md).
#[derive(Debug, sea_orm::FromQueryResult)]
struct LearnerRow {
    id: Uuid,
    school_id: Uuid,
    date_of_birth: NaiveDate,
    sex: String,
    ethnicity: Option<String>,
    disability_enc: Option<String>,
    policy_codes: Option<String>,
    boarding: Option<String>,
    commune_code: Option<String>,
    status: String,
}

/// A year result without its JSON snapshot (about 1 KB a learner).
#[derive(Debug, sea_orm::FromQueryResult)]
struct ResultRow {
    learner_id: Uuid,
    learning: Option<String>,
    conduct: Option<String>,
    decision: Option<String>,
}

struct Enrolment {
    class_id: Uuid,
    from: NaiveDate,
    to: Option<NaiveDate>,
    reason: String,
}

/// Loads the facts of `schools` (a batch; call repeatedly for a province). `with_ids` keeps one
/// fact per record with its id (a school's forms, traces, snapshots); otherwise identical rows
/// are merged into weighted facts.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    schools: &[OrgUnit],
    cut: Cut,
    with_ids: bool,
) -> Result<Facts> {
    let ids: Vec<Uuid> = schools.iter().map(|s| s.id).collect();
    let mut facts = Facts::default();
    if ids.is_empty() {
        return Ok(facts);
    }
    let day = cut.reference;

    let profiles: HashMap<Uuid, school_profile::Model> = school_profile::Entity::find()
        .filter(school_profile::Column::SchoolId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.school_id, p))
        .collect();
    let facilities: HashMap<Uuid, school_facility::Model> = school_facility::Entity::find()
        .filter(school_facility::Column::SchoolId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.school_id, p))
        .collect();
    let mut sites: HashMap<Uuid, i64> = HashMap::new();
    for s in org_unit::Entity::find()
        .filter(org_unit::Column::Kind.eq("satellite_site"))
        .filter(org_unit::Column::ParentId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        if covers(s.valid_from, s.valid_to.and_then(|t| t.pred_opt()), day)
            && let Some(p) = s.parent_id
        {
            *sites.entry(p).or_default() += 1;
        }
    }
    let years: Vec<school_year::Model> = school_year::Entity::find()
        .filter(school_year::Column::SchoolId.is_in(ids.clone()))
        .filter(school_year::Column::StartYear.eq(cut.start_year))
        .all(db)
        .await?;
    let year_of: HashMap<Uuid, &school_year::Model> = years.iter().map(|y| (y.school_id, y)).collect();
    let year_ids: Vec<Uuid> = years.iter().map(|y| y.id).collect();

    let classes: Vec<class::Model> = if year_ids.is_empty() {
        vec![]
    } else {
        class::Entity::find()
            .filter(class::Column::SchoolYearId.is_in(year_ids.clone()))
            .all(db)
            .await?
    };
    let year_classes = Query::select()
        .column(class::Column::Id)
        .from(class::Entity)
        .and_where(class::Column::SchoolYearId.is_in(year_ids.clone()))
        .to_owned();
    let year_learners = Query::select()
        .column(class_enrolment::Column::LearnerId)
        .from(class_enrolment::Entity)
        .and_where(class_enrolment::Column::ClassId.in_subquery(year_classes))
        .to_owned();
    // Every enrolment of the year's learners, this year's and earlier ones (last year's grade).
    let mut enrolments: HashMap<Uuid, Vec<Enrolment>> = HashMap::new();
    let mut other_classes: Vec<Uuid> = vec![];
    let class_by_id: HashMap<Uuid, &class::Model> = classes.iter().map(|c| (c.id, c)).collect();
    if !year_ids.is_empty() {
        for e in class_enrolment::Entity::find()
            .filter(class_enrolment::Column::LearnerId.in_subquery(year_learners.clone()))
            .all(db)
            .await?
        {
            if !class_by_id.contains_key(&e.class_id) {
                other_classes.push(e.class_id);
            }
            enrolments.entry(e.learner_id).or_default().push(Enrolment {
                class_id: e.class_id,
                from: e.from_date,
                to: e.to_date,
                reason: e.reason,
            });
        }
    }
    other_classes.sort_unstable();
    other_classes.dedup();
    let mut earlier_grade: HashMap<Uuid, i32> = HashMap::new();
    for chunk in other_classes.chunks(5000) {
        for (id, grade) in class::Entity::find()
            .select_only()
            .column(class::Column::Id)
            .column(class::Column::Grade)
            .filter(class::Column::Id.is_in(chunk.to_vec()))
            .into_tuple::<(Uuid, i32)>()
            .all(db)
            .await?
        {
            earlier_grade.insert(id, grade);
        }
    }
    let learners: Vec<LearnerRow> = if year_ids.is_empty() {
        vec![]
    } else {
        use learner::Column as L;
        learner::Entity::find()
            .select_only()
            .columns([
                L::Id,
                L::SchoolId,
                L::DateOfBirth,
                L::Sex,
                L::Ethnicity,
                L::DisabilityEnc,
                L::PolicyCodes,
                L::Boarding,
                L::CommuneCode,
                L::Status,
            ])
            .filter(L::Id.in_subquery(year_learners.clone()))
            .into_model::<LearnerRow>()
            .all(db)
            .await?
    };
    // Nutrition is a preschool row: only the learners of schools that teach MN are measured.
    let preschools: Vec<Uuid> = schools
        .iter()
        .filter(|u| {
            u.levels
                .as_ref()
                .is_some_and(|l| l.levels().contains(&SchoolLevel::MN))
        })
        .map(|u| u.id)
        .collect();
    let to_measure: HashMap<Uuid, (NaiveDate, String)> = learners
        .iter()
        .filter(|l| preschools.contains(&l.school_id))
        .map(|l| (l.id, (l.date_of_birth, l.sex.clone())))
        .collect();
    let nutrition = if to_measure.is_empty() {
        HashMap::new()
    } else {
        crate::health::bmi_as_at(db, cipher, &to_measure, day).await?
    };
    let mut statuses: HashMap<Uuid, Vec<learner_status::Model>> = HashMap::new();
    if !year_ids.is_empty() {
        for s in learner_status::Entity::find()
            .filter(learner_status::Column::LearnerId.in_subquery(year_learners))
            .filter(learner_status::Column::OnDate.lte(day))
            .all(db)
            .await?
        {
            statuses.entry(s.learner_id).or_default().push(s);
        }
    }
    for v in statuses.values_mut() {
        v.sort_by_key(|s| (s.on_date, s.created_at));
    }
    let results: HashMap<Uuid, ResultRow> = if year_ids.is_empty() {
        HashMap::new()
    } else {
        use year_result::Column as R;
        year_result::Entity::find()
            .select_only()
            .columns([R::LearnerId, R::Learning, R::Conduct, R::Decision])
            .filter(R::SchoolYearId.is_in(year_ids.clone()))
            .into_model::<ResultRow>()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.learner_id, r))
            .collect()
    };
    let staff_rows = staff::Entity::find()
        .filter(staff::Column::SchoolId.is_in(ids.clone()))
        .filter(staff::Column::Status.is_in(WORKING_STAFF))
        .all(db)
        .await?;
    let rooms = room::Entity::find()
        .filter(room::Column::SchoolId.is_in(ids.clone()))
        .all(db)
        .await?;

    // Schools first: their index is what every other fact points at. Counts that come from the
    // other facts (classes, learners) are filled in at the end.
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for unit in schools {
        let mut sf = Fact::new(Entity::School, 0, Some(unit.id));
        let profile = profiles.get(&unit.id);
        let ownership = profile.map_or("01", |p| p.ownership.as_str());
        sf.set("ownership", Val::code(ownership))
            .set("ownership_group", Val::code(f::ownership_group(ownership)));
        if let Some(p) = profile {
            sf.set("region", Val::opt_code(p.region.clone()))
                .set(
                    "region_band",
                    Val::opt_code(p.region.as_deref().map(f::region_band)),
                )
                .set("area", Val::opt_code(p.area.clone()))
                .set("difficult", Val::Bool(p.difficult))
                .set("school_type", Val::opt_code(p.school_type.clone()))
                .set("standard_level", Val::Int(i64::from(p.standard_level)))
                .set("commune", Val::opt_code(p.commune_code.clone()));
        }
        let levels: Vec<String> = unit
            .levels
            .as_ref()
            .map(|l| l.levels().iter().map(|x| x.as_str().to_string()).collect())
            .unwrap_or_default();
        sf.set("levels", Val::Codes(levels))
            .set("sites", Val::Int(sites.get(&unit.id).copied().unwrap_or(0)));
        let fac = facilities.get(&unit.id);
        let flags: SchoolFacts = fac
            .and_then(|m| serde_json::from_str(&m.facts).ok())
            .unwrap_or_default();
        sf.set(
            "computers",
            Val::Int(fac.map_or(0, |m| i64::from(m.computers_teaching))),
        );
        for fact in truongso_core::facilities::SchoolFact::ALL {
            sf.set(fact.code(), Val::Bool(flags.get(*fact)));
        }
        let i = facts.add_school(unit.id, unit.name.clone(), unit.path.as_str().to_string(), sf);
        index.insert(unit.id, i);
    }
    let level_name = |u: &OrgUnit| Val::opt_code(main_level(u).map(|l| l.as_str()));
    let unit_of: HashMap<Uuid, &OrgUnit> = schools.iter().map(|u| (u.id, u)).collect();

    // Classes.
    let mut class_fact: HashMap<Uuid, usize> = HashMap::new();
    let mut class_counts: HashMap<usize, (i64, i64, bool)> = HashMap::new();
    // Per school: nursery groups (grade 16) and kindergarten classes (grade 17); per homeroom
    // teacher: the preschool grade of their group.
    let mut preschool_groups: HashMap<usize, (i64, i64)> = HashMap::new();
    let mut homeroom_grade: HashMap<Uuid, i32> = HashMap::new();
    for c in &classes {
        let Some(&s) = index.get(&c.school_id) else {
            continue;
        };
        let grade = i64::from(c.grade);
        let mut cf = Fact::new(Entity::Class, s, Some(c.id));
        cf.set("grade", Val::Int(grade))
            .set(
                "level",
                Val::opt_code(level_of_grade(c.grade as u8).map(|l| l.as_str())),
            )
            .set("multigrade", Val::Bool(c.multigrade))
            .set("two_sessions", Val::Bool(c.two_sessions))
            .set("boarding", Val::Bool(c.boarding))
            .set("specialist", Val::Bool(c.specialist))
            .set("size", Val::Int(0))
            .set("disabled_learners", Val::Int(0));
        let e = class_counts.entry(s).or_insert((0, 0, true));
        e.0 += 1;
        if matches!(c.grade, 16 | 17) {
            let g = preschool_groups.entry(s).or_default();
            if c.grade == 16 {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
            if let Some(t) = c.homeroom_staff_id {
                homeroom_grade.insert(t, c.grade);
            }
        }
        e.2 &= c.two_sessions;
        class_fact.insert(c.id, facts.facts.len());
        facts.facts.push(cf);
    }

    // Learners.
    let mut school_learners: HashMap<usize, (i64, i64)> = HashMap::new();
    // Children per age band of each preschool group (by class fact).
    let mut bands: HashMap<usize, [(i64, &'static str); 3]> = HashMap::new();
    for l in &learners {
        let Some(list) = enrolments.get(&l.id) else {
            continue;
        };
        let this_year: Vec<&Enrolment> = list
            .iter()
            .filter(|e| class_by_id.contains_key(&e.class_id))
            .collect();
        let at_ref = this_year.iter().find(|e| covers(e.from, e.to, day));
        // The class on the date, else the last one of the year before it (a learner who left).
        let Some(current) = at_ref.copied().or_else(|| {
            this_year
                .iter()
                .filter(|e| e.from <= day)
                .max_by_key(|e| e.from)
                .copied()
        }) else {
            continue;
        };
        let class = class_by_id[&current.class_id];
        let Some(&s) = index.get(&class.school_id) else {
            continue;
        };
        let Some(year) = year_of.get(&class.school_id) else {
            continue;
        };
        let grade = i64::from(class.grade);
        let level = level_of_grade(class.grade as u8);
        let history = statuses.get(&l.id).map(Vec::as_slice).unwrap_or(&[]);
        let status_now = history.last().map_or(l.status.as_str(), |s| s.status.as_str());
        let on_roll = at_ref.is_some() && codes::ON_ROLL.contains(&status_now);
        let at_start = this_year.iter().any(|e| covers(e.from, e.to, cut.year_start));
        let in_year = |s: &&learner_status::Model| s.on_date >= year.starts_on && s.on_date <= day;
        let dropout = history
            .iter()
            .filter(in_year)
            .rfind(|s| DROPPED_OUT.contains(&s.status.as_str()));
        let transferred = history
            .iter()
            .filter(in_year)
            .any(|s| TRANSFERRED_OUT.contains(&s.status.as_str()));
        let completed_status = history
            .iter()
            .filter(in_year)
            .any(|s| s.status == codes::COMPLETED_LEVEL);
        let before_year = list
            .iter()
            .filter(|e| e.from < year.starts_on && !class_by_id.contains_key(&e.class_id))
            .max_by_key(|e| e.from)
            .and_then(|e| earlier_grade.get(&e.class_id))
            .map(|g| i64::from(*g));
        let repeater = current.reason == "repeated" || before_year == Some(grade);
        let new_entrant = !repeater
            && level.is_some_and(|lv| {
                let first = match lv {
                    SchoolLevel::MN => true,
                    _ => first_grade(lv) == Some(grade),
                };
                first
                    && before_year
                        .and_then(|g| level_of_grade(g as u8))
                        .is_none_or(|prev| prev != lv)
            });
        let age = i64::from(cut.start_year - l.date_of_birth.year());
        let disability = match &l.disability_enc {
            Some(enc) => Some(
                cipher
                    .decrypt(&crate::people::context("disability", l.id), enc)
                    .map_err(|e| Error::Internal(format!("disability of {}: {e:?}", l.id)))?,
            ),
            None => None,
        };
        let policy: Vec<String> = l
            .policy_codes
            .as_deref()
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let minority = l.ethnicity.as_deref().is_some_and(codes::is_ethnic_minority);
        let result = results.get(&l.id);
        let decision = result.and_then(|r| r.decision.clone());
        let completed_level = completed_status
            || level.and_then(last_grade) == Some(grade)
                && matches!(decision.as_deref(), Some("completed" | "promoted"));
        let mut lf = Fact::new(Entity::Learner, s, Some(l.id));
        lf.set("grade", Val::Int(grade))
            .set("level", Val::opt_code(level.map(|x| x.as_str())))
            .set("age", Val::Int(age))
            .set("age_months", Val::Int(months_between(l.date_of_birth, day)))
            .set("birth_year", Val::Int(i64::from(l.date_of_birth.year())))
            .set("sex", Val::code(l.sex.clone()))
            .set("ethnicity", Val::opt_code(l.ethnicity.clone()))
            .set("minority", Val::Bool(minority))
            .set("disabled", Val::Bool(disability.is_some()))
            .set("disability", Val::opt_code(disability.clone()))
            .set("boarding", Val::opt_code(l.boarding.clone()))
            .set("boards", Val::Bool(l.boarding.is_some()))
            .set("two_sessions", Val::Bool(class.two_sessions))
            .set("multigrade", Val::Bool(class.multigrade))
            .set("policy_any", Val::Bool(!policy.is_empty()))
            .set("policy", Val::Codes(policy))
            .set("new_entrant", Val::Bool(new_entrant))
            .set("repeater", Val::Bool(repeater))
            .set(
                "on_age",
                Val::Bool(f::official_age(grade).is_some_and(|a| a == age)),
            )
            .set("on_roll", Val::Bool(on_roll))
            .set("at_start", Val::Bool(at_start))
            .set("dropped_out", Val::Bool(dropout.is_some()))
            .set(
                "dropout_reason",
                Val::opt_code(dropout.and_then(|d| d.reason_code.clone())),
            )
            .set("transferred_out", Val::Bool(transferred))
            .set("learning", Val::opt_code(result.and_then(|r| r.learning.clone())))
            .set("conduct", Val::opt_code(result.and_then(|r| r.conduct.clone())))
            .set("decision", Val::opt_code(decision))
            .set("completed_level", Val::Bool(completed_level))
            .set("residence", Val::opt_code(l.commune_code.clone()))
            .set(
                "nutrition",
                Val::opt_code(nutrition.get(&l.id).copied().flatten().map(f::nutrition_of)),
            );
        if on_roll {
            let e = school_learners.entry(s).or_default();
            e.0 += 1;
            e.1 += i64::from(disability.is_some());
            if let Some(&ci) = class_fact.get(&class.id) {
                let size = facts.facts[ci].get("size").and_then(Val::as_int).unwrap_or(0);
                let dis = facts.facts[ci]
                    .get("disabled_learners")
                    .and_then(Val::as_int)
                    .unwrap_or(0);
                facts.facts[ci].set("size", Val::Int(size + 1)).set(
                    "disabled_learners",
                    Val::Int(dis + i64::from(disability.is_some())),
                );
                if let Some((b, code)) = f::preschool_band(grade, months_between(l.date_of_birth, day), age) {
                    let e = bands.entry(ci).or_insert([(0, ""); 3]);
                    e[b] = (e[b].0 + 1, code);
                }
            }
        }
        facts.facts.push(lf);
    }

    // Staff at work and rooms, counted at the school's highest level.
    for m in &staff_rows {
        let Some(&s) = index.get(&m.school_id) else {
            continue;
        };
        let unit = unit_of[&m.school_id];
        let level = main_level(unit);
        let qualification = m.qualification.clone();
        let trained = match (level, qualification.as_deref()) {
            (Some(lv), Some(q)) => f::trained_for(lv.as_str(), q),
            _ => false,
        };
        let mut sf = Fact::new(Entity::Staff, s, Some(m.id));
        sf.set("group", Val::code(m.staff_group.clone()))
            .set("position", Val::opt_code(m.position.clone()))
            .set("contract", Val::code(m.contract.clone()))
            .set("qualification", Val::opt_code(qualification))
            .set("trained", Val::Bool(trained))
            .set("sex", Val::code(m.sex.clone()))
            .set("ethnicity", Val::opt_code(m.ethnicity.clone()))
            .set(
                "minority",
                Val::Bool(m.ethnicity.as_deref().is_some_and(codes::is_ethnic_minority)),
            )
            .set(
                "age",
                Val::Int(i64::from(cut.start_year - m.date_of_birth.year())),
            )
            .set("rating", Val::opt_code(m.standard_rating.clone()))
            .set(
                "teacher",
                Val::Bool(TEACHER_GROUPS.contains(&m.staff_group.as_str())),
            )
            .set("manager", Val::Bool(m.staff_group == "01"))
            .set("level", level_name(unit));
        facts.facts.push(sf);
    }
    for r in &rooms {
        let Some(&s) = index.get(&r.school_id) else {
            continue;
        };
        let mut rf = Fact::new(Entity::Room, s, Some(r.id));
        rf.set("kind", Val::code(r.kind.clone()))
            .set("quality", Val::code(r.quality.clone()))
            .set("level", level_name(unit_of[&r.school_id]));
        facts.facts.push(rf);
    }

    for (&s, &(n, _, all_two)) in &class_counts {
        let fi = facts.schools[s].fact;
        facts.facts[fi]
            .set("classes", Val::Int(n))
            .set("two_sessions", Val::Bool(n > 0 && all_two));
    }
    for s in 0..facts.schools.len() {
        let (n, dis) = school_learners.get(&s).copied().unwrap_or((0, 0));
        let fi = facts.schools[s].fact;
        let fact = &mut facts.facts[fi];
        if fact.get("classes") == Some(&Val::Null) {
            fact.set("classes", Val::Int(0))
                .set("two_sessions", Val::Bool(false));
        }
        fact.set("learners", Val::Int(n))
            .set("disabled_learners", Val::Int(dis));
    }
    for (ci, counts) in &bands {
        // The band with the most children; on a tie the older (`>=` keeps the later band).
        let (mut best, mut most) = (0, 0);
        for (b, (n, _)) in counts.iter().enumerate() {
            if *n > 0 && *n >= most {
                (best, most) = (b, *n);
            }
        }
        facts.facts[*ci].set("age_band", Val::code(counts[best].1)).set(
            "age_bands",
            Val::Int(counts.iter().filter(|(n, _)| *n > 0).count() as i64),
        );
    }
    let kinds: Vec<Option<&'static str>> = (0..facts.schools.len())
        .map(|s| {
            let (nursery, kindergarten) = preschool_groups.get(&s).copied().unwrap_or((0, 0));
            let kind = match (nursery > 0, kindergarten > 0) {
                (true, true) => Some("mam_non"),
                (true, false) => Some("nha_tre"),
                (false, true) => Some("mau_giao"),
                (false, false) => None,
            };
            let fi = facts.schools[s].fact;
            facts.facts[fi]
                .set("preschool_kind", Val::opt_code(kind))
                .set("nursery_groups", Val::Int(nursery))
                .set("kindergarten_classes", Val::Int(kindergarten));
            kind
        })
        .collect();
    for fact in facts.facts.iter_mut().filter(|f| f.entity == Entity::Staff) {
        let stage = match (fact.id.and_then(|id| homeroom_grade.get(&id)), kinds[fact.school]) {
            (Some(16), _) => Some("nha_tre"),
            (Some(_), _) => Some("mau_giao"),
            (None, Some(k @ ("nha_tre" | "mau_giao"))) => Some(k),
            _ => None,
        };
        fact.set("preschool_stage", Val::opt_code(stage));
    }
    Ok(if with_ids { facts } else { facts.grouped() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_of_age() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(months_between(d(2025, 9, 30), d(2026, 9, 30)), 12);
        assert_eq!(months_between(d(2025, 10, 1), d(2026, 9, 30)), 11);
        assert_eq!(months_between(d(2026, 10, 1), d(2026, 9, 30)), 0);
    }

    #[test]
    fn enrolment_cover_is_inclusive_of_its_last_day() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert!(covers(d(9, 5), Some(d(9, 30)), d(9, 30)));
        assert!(!covers(d(9, 5), Some(d(9, 29)), d(9, 30)));
        assert!(!covers(d(10, 1), None, d(9, 30)));
    }
}
