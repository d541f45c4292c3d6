//! A gradebook for the demo province: last school year (2025-2026) complete — every class of
//! the grade below with its marks, comments, conduct, absences, summer re-tests and stored
//! results — and this year's first semester up to its mid-term. Marks come from a per-learner
//! ability with per-subject strengths and noise, so the levels, awards, re-tests and
//! retentions fall in realistic proportions and are exactly what the rules give.

use crate::entity::{class, class_enrolment, learner, teaching_assignment, term_summary};
use crate::gradebook::{self as gb, BulkCells};
use crate::{ActorRef, Result, Store, school_years};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use std::collections::{BTreeMap, HashMap};
use truongso_core::gradebook::curriculum::{self, Mode, SubjectPlan};
use truongso_core::gradebook::sheet::Cells;
use truongso_core::gradebook::{Level, tt27};
use uuid::Uuid;

/// Roughly normal (mean 0, sd 1) from uniforms: enough for demo data, no extra dependency.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    (0..6)
        .map(|_| rng.random::<f64>())
        .sum::<f64>()
        .mul_add(std::f64::consts::SQRT_2, -3.0 * std::f64::consts::SQRT_2)
}

/// A mark in half points, as teachers give them, in tenths.
fn mark(rng: &mut ChaCha8Rng, mean: f64) -> i32 {
    let v = mean + 0.9 * normal(rng);
    ((v * 2.0).round() * 5.0).clamp(0.0, 100.0) as i32
}

struct Pupil {
    id: Uuid,
    ability: f64,
    behaviour: f64,
    strengths: HashMap<&'static str, f64>,
}

fn pupil(id: Uuid) -> Pupil {
    let mut rng = ChaCha8Rng::seed_from_u64(id.as_u128() as u64);
    let ability = (7.0 + 1.25 * normal(&mut rng)).clamp(2.5, 9.8);
    let behaviour = normal(&mut rng);
    let strengths = curriculum::subjects(12)
        .iter()
        .chain(curriculum::subjects(5))
        .chain(curriculum::subjects(9))
        .map(|s| (s.code, 0.6 * normal(&mut rng)))
        .collect();
    Pupil {
        id,
        ability,
        behaviour,
        strengths,
    }
}

impl Pupil {
    fn mean(&self, subject: &str) -> f64 {
        self.ability + self.strengths.get(subject).copied().unwrap_or(0.0)
    }
}

/// Which cells of a term to fill.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Upto {
    /// Everything of both semesters.
    Year,
    /// This year so far: the first regular marks and the mid-term of semester I.
    MidHk1,
}

fn subject_cells(rng: &mut ChaCha8Rng, p: &Pupil, plan: &SubjectPlan, upto: Upto) -> Cells {
    let mut cells = Cells::new();
    let mean = p.mean(plan.code);
    let terms: &[u8] = if upto == Upto::Year { &[1, 2] } else { &[1] };
    for &term in terms {
        let put = |cells: &mut Cells, slot: &str, v: i32| {
            cells.insert((term, slot.to_string()), v);
        };
        match plan.mode {
            Mode::Level => {
                // Primary levels and tests run higher than secondary scores, as they do in
                // practice (most pupils complete their grade).
                let level = |rng: &mut ChaCha8Rng| {
                    let v = mean + 0.6 + 0.6 * normal(rng);
                    if v >= 7.6 {
                        3
                    } else if v >= 3.6 {
                        2
                    } else {
                        1
                    }
                };
                let test =
                    |rng: &mut ChaCha8Rng| (mean + 1.0 + 0.7 * normal(rng)).round().clamp(0.0, 10.0) as i32;
                put(&mut cells, "mid_level", level(rng));
                if plan.mid_tested {
                    put(&mut cells, "mid_test", test(rng));
                }
                if upto == Upto::Year {
                    put(&mut cells, "end_level", level(rng));
                    if plan.tested {
                        put(&mut cells, "end_test", test(rng));
                    }
                }
            }
            Mode::Comment => {
                let pass = |rng: &mut ChaCha8Rng| i32::from(mean + normal(rng) > 3.2);
                let n = if upto == Upto::Year { 2 } else { 1 };
                for k in 1..=n {
                    put(&mut cells, &format!("tx{k}"), pass(rng));
                }
                put(&mut cells, "gk", pass(rng));
                if upto == Upto::Year {
                    put(&mut cells, "ck", pass(rng));
                }
            }
            Mode::Score => {
                let cfg = truongso_core::gradebook::RuleConfig::default();
                let n = if upto == Upto::Year {
                    plan.regular_count(&cfg)
                } else {
                    2
                };
                for k in 1..=n {
                    put(&mut cells, &format!("tx{k}"), mark(rng, mean + 0.2));
                }
                put(&mut cells, "gk", mark(rng, mean));
                if upto == Upto::Year {
                    put(&mut cells, "ck", mark(rng, mean - 0.1));
                }
            }
        }
    }
    cells
}

fn conduct(rng: &mut ChaCha8Rng, p: &Pupil) -> Level {
    let v = p.behaviour + 0.5 * normal(rng);
    if v > -0.75 {
        Level::Tot
    } else if v > -1.6 {
        Level::Kha
    } else if v > -2.4 {
        Level::Dat
    } else {
        Level::ChuaDat
    }
}

fn absences(rng: &mut ChaCha8Rng) -> (i32, i32) {
    if rng.random_bool(0.002) {
        return (rng.random_range(15..30), rng.random_range(5..12));
    }
    let excused = (rng.random::<f64>().powi(3) * 8.0) as i32;
    let unexcused = i32::from(rng.random_bool(0.08)) * rng.random_range(1..3);
    (excused, unexcused)
}

fn summary_row(
    class: &class::Model,
    learner_id: Uuid,
    term: i32,
    conduct: Option<Level>,
    absences: (i32, i32),
    traits: Option<String>,
) -> term_summary::ActiveModel {
    term_summary::ActiveModel {
        id: Set(crate::new_id()),
        school_id: Set(class.school_id),
        school_year_id: Set(class.school_year_id),
        class_id: Set(class.id),
        learner_id: Set(learner_id),
        term: Set(term),
        conduct: Set(conduct.map(|l| l.as_str().to_string())),
        summer_conduct: Set(None),
        absences_excused: Set(Some(absences.0)),
        absences_unexcused: Set(Some(absences.1)),
        remark: Set(None),
        traits: Set(traits),
        recognised: Set(false),
        version: Set(1),
        updated_by: Set(None),
        updated_at: Set(crate::now()),
    }
}

fn traits(rng: &mut ChaCha8Rng, p: &Pupil) -> String {
    let map: BTreeMap<&str, &str> = tt27::QUALITIES
        .iter()
        .chain(tt27::COMPETENCIES.iter())
        .map(|(c, _)| {
            let v = p.ability + 0.5 + 0.8 * p.behaviour + 0.5 * normal(rng);
            (
                *c,
                if v > 7.2 {
                    "tot"
                } else if v > 2.6 {
                    "dat"
                } else {
                    "can_co_gang"
                },
            )
        })
        .collect();
    serde_json::to_string(&map).expect("serialisable")
}

/// The class name one grade lower: "7A2" → "6A2".
fn previous_name(name: &str, grade: i32) -> String {
    let g = grade.to_string();
    match name.strip_prefix(&g) {
        Some(rest) => format!("{}{rest}", grade - 1),
        None => format!("{} ({})", name, grade - 1),
    }
}

/// Builds the demo gradebook of every school. `model_class` (6A1 of the model school) keeps an
/// empty mathematics sheet this semester for the demo teacher to fill.
pub(super) async fn generate(store: &Store, model_class: Uuid, seed: u64) -> Result<()> {
    let db = &store.db;
    let demo = ActorRef::system("demo");
    let classes = class::Entity::find()
        .filter(class::Column::Grade.between(1, 12))
        .order_by_asc(class::Column::SchoolId)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?;
    let mut years: HashMap<Uuid, Vec<school_years::SchoolYearRow>> = HashMap::new();
    for c in &classes {
        if let std::collections::hash_map::Entry::Vacant(e) = years.entry(c.school_id) {
            e.insert(school_years::for_school(db, c.school_id).await?);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6772_6164_6562_6f6f);
    for current in classes {
        let Some(prev_year) = years[&current.school_id]
            .iter()
            .find(|y| y.name == "2025-2026")
            .cloned()
        else {
            continue;
        };
        let learners: Vec<Uuid> = learner::Entity::find()
            .filter(learner::Column::ClassId.eq(current.id))
            .order_by_asc(learner::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect();
        let pupils: Vec<Pupil> = learners.iter().map(|id| pupil(*id)).collect();
        let txn = db.begin().await?;

        // This year: semester I up to its mid-term.
        let info = gb::class_info(&txn, current.id).await?;
        let plans = gb::class_subjects(&txn, &info).await?;
        let mut bulk = vec![];
        for p in &pupils {
            for plan in &plans {
                if current.id == model_class && plan.code == "toan" {
                    continue;
                }
                bulk.push(BulkCells {
                    school_id: current.school_id,
                    school_year_id: current.school_year_id,
                    class_id: current.id,
                    learner_id: p.id,
                    subject: plan.code.to_string(),
                    cells: subject_cells(&mut rng, p, plan, Upto::MidHk1),
                });
            }
        }
        gb::insert_bulk(&txn, &demo, bulk).await?;

        // Last year: the class one grade lower, unless this is the first grade of its level
        // (those learners came from another school).
        let first_grade = matches!(current.grade, 1 | 6 | 10);
        if first_grade {
            txn.commit().await?;
            continue;
        }
        let prev = class::Model {
            id: crate::new_id(),
            school_year_id: prev_year.id,
            grade: current.grade - 1,
            name: previous_name(&current.name, current.grade),
            created_at: crate::now(),
            updated_at: Some(crate::now()),
            ..current.clone()
        };
        class::Entity::insert(class::ActiveModel {
            id: Set(prev.id),
            school_id: Set(prev.school_id),
            school_year_id: Set(prev.school_year_id),
            grade: Set(prev.grade),
            name: Set(prev.name.clone()),
            created_at: Set(prev.created_at),
            homeroom_staff_id: Set(prev.homeroom_staff_id),
            multigrade: Set(prev.multigrade),
            specialist: Set(prev.specialist),
            boarding: Set(prev.boarding),
            two_sessions: Set(prev.two_sessions),
            capacity: Set(prev.capacity),
            updated_at: Set(prev.updated_at),
        })
        .exec_without_returning(&txn)
        .await?;
        // Last year's class had the same elective combination.
        let assignments: Vec<teaching_assignment::ActiveModel> = teaching_assignment::Entity::find()
            .filter(teaching_assignment::Column::ClassId.eq(current.id))
            .all(&txn)
            .await?
            .into_iter()
            .filter(|a| curriculum::subject(prev.grade as u8, &a.subject).is_ok())
            .map(|a| teaching_assignment::ActiveModel {
                id: Set(crate::new_id()),
                class_id: Set(prev.id),
                staff_id: Set(a.staff_id),
                subject: Set(a.subject),
                term: Set(a.term),
                created_at: Set(crate::now()),
            })
            .collect();
        if !assignments.is_empty() {
            teaching_assignment::Entity::insert_many(assignments)
                .exec_without_returning(&txn)
                .await?;
        }
        let enrolments: Vec<class_enrolment::ActiveModel> = learners
            .iter()
            .map(|id| class_enrolment::ActiveModel {
                id: Set(crate::new_id()),
                learner_id: Set(*id),
                class_id: Set(prev.id),
                from_date: Set(prev_year.starts_on),
                to_date: Set(Some(prev_year.ends_on)),
                reason: Set("admitted".into()),
                created_at: Set(crate::now()),
            })
            .collect();
        if !enrolments.is_empty() {
            class_enrolment::Entity::insert_many(enrolments)
                .exec_without_returning(&txn)
                .await?;
        }
        let prev_info = gb::class_info(&txn, prev.id).await?;
        let prev_plans = gb::class_subjects(&txn, &prev_info).await?;
        let primary = prev_plans.iter().any(|p| p.mode == Mode::Level);
        let mut bulk = vec![];
        let mut summaries = vec![];
        for p in &pupils {
            for plan in &prev_plans {
                bulk.push(BulkCells {
                    school_id: prev.school_id,
                    school_year_id: prev.school_year_id,
                    class_id: prev.id,
                    learner_id: p.id,
                    subject: plan.code.to_string(),
                    cells: subject_cells(&mut rng, p, plan, Upto::Year),
                });
            }
            for term in [1, 2] {
                let c = (!primary).then(|| conduct(&mut rng, p));
                let t = (primary && term == 2).then(|| traits(&mut rng, p));
                summaries.push(summary_row(&prev, p.id, term, c, absences(&mut rng), t));
            }
        }
        gb::insert_bulk(&txn, &demo, bulk).await?;
        for chunk in summaries.chunks(1000) {
            term_summary::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }

        // The summer: re-tests and re-evaluated training for those the rules send there, then
        // the stored results.
        let roster = gb::roster(&txn, prev.id).await?;
        let results = gb::compute_learners(&txn, &prev_info, &roster).await?;
        let mut retests = vec![];
        let mut summer = vec![];
        for r in &results {
            let Some(ye) = r.secondary.as_ref().and_then(|s| s.year_end.as_ref()) else {
                continue;
            };
            for subject in &ye.retest_subjects {
                let Some(plan) = prev_plans.iter().find(|p| p.code == subject) else {
                    continue;
                };
                let v = match plan.mode {
                    Mode::Comment => i32::from(rng.random_bool(0.85)),
                    _ => (rng.random_range(35..=75) / 5) * 5,
                };
                let mut cells = Cells::new();
                cells.insert((0, "retest".to_string()), v);
                retests.push(BulkCells {
                    school_id: prev.school_id,
                    school_year_id: prev.school_year_id,
                    class_id: prev.id,
                    learner_id: r.learner_id,
                    subject: plan.code.to_string(),
                    cells,
                });
            }
            if ye.initial == truongso_core::gradebook::tt22::Decision::SummerTraining {
                let mut row = summary_row(&prev, r.learner_id, 0, None, (0, 0), None);
                row.summer_conduct = Set(Some(
                    if rng.random_bool(0.85) { "dat" } else { "chua_dat" }.into(),
                ));
                summer.push(row);
            }
        }
        gb::insert_bulk(&txn, &demo, retests).await?;
        if !summer.is_empty() {
            term_summary::Entity::insert_many(summer)
                .exec_without_returning(&txn)
                .await?;
        }
        let results = gb::compute_learners(&txn, &prev_info, &roster).await?;
        gb::store_results(&txn, &demo, &prev_info, &results).await?;
        txn.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_class_names() {
        assert_eq!(previous_name("7A2", 7), "6A2");
        assert_eq!(previous_name("12A10", 12), "11A10");
        assert_eq!(previous_name("Lớp ghép", 3), "Lớp ghép (2)");
    }

    #[test]
    fn marks_are_half_points_on_the_scale() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for mean in [0.5, 5.0, 9.9] {
            for _ in 0..200 {
                let m = mark(&mut rng, mean);
                assert!((0..=100).contains(&m) && m % 5 == 0, "{m}");
            }
        }
    }
}
