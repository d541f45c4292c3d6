//! Statistics for the demo province: each school's profile (ownership, region, school type,
//! national standard), learners' home communes, the events of the year that the end-of-year
//! forms and the dropout indicators count (a few pupils leave or transfer after 30/9, some
//! repeat), the household-survey population of the communes, and the Sở's beginning-of-year
//! reporting period with schools at every stage (approved, returned, submitted late, not in).

use super::{COMMUNES, d};
use crate::crypto::FieldCipher;
use crate::entity::{class, class_enrolment, learner, learner_status};
use crate::org::OrgUnit;
use crate::stats::{self as st, NewPeriod, SchoolProfile};
use crate::{ActorRef, Result, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use truongso_core::org::SchoolLevel;
use truongso_core::stats::Round;
use truongso_core::stats::period::Step;
use truongso_core::stats::population::PopulationTable;
use uuid::Uuid;

/// The GSO-style 5-digit code of a demo commune (the post-2025 code list is UNCERTAIN).
pub fn commune_code(i: usize) -> String {
    format!("08{}", COMMUNES[i].0)
}

fn profile_of(school: &OrgUnit, commune: Option<usize>, rng: &mut ChaCha8Rng) -> SchoolProfile {
    let levels = school
        .levels
        .as_ref()
        .map(|l| l.levels().to_vec())
        .unwrap_or_default();
    let name = school.name.as_str();
    let urban = commune.is_some_and(|i| COMMUNES[i].2);
    let school_type = if name.contains("Chuyên") {
        "09"
    } else if name.contains("PTDTNT THPT") {
        "02"
    } else if name.contains("Nội trú THCS") {
        "03"
    } else if levels.contains(&SchoolLevel::GDTX) {
        "16"
    } else if levels == [SchoolLevel::MN] {
        "13"
    } else {
        "07"
    };
    SchoolProfile {
        ownership: "01".into(),
        school_type: Some(school_type.into()),
        region: Some(if urban { "03" } else { "04" }.into()),
        area: Some(if urban { "02" } else { "04" }.into()),
        // Vị Xuyên (the last commune) is an especially difficult commune.
        difficult: commune == Some(COMMUNES.len() - 1),
        standard_level: *[0, 1, 1, 2].get(rng.random_range(0..4)).unwrap_or(&0),
        commune_code: Some(commune_code(commune.unwrap_or(0))),
    }
}

/// Which demo commune a school stands in: its office's, or the first for the Sở's own schools.
fn commune_of(school: &OrgUnit, offices: &[OrgUnit]) -> Option<usize> {
    offices.iter().position(|o| school.path.is_within(&o.path))
}

pub(super) async fn seed(
    store: &Store,
    cipher: &FieldCipher,
    so: &OrgUnit,
    offices: &[OrgUnit],
    schools: &[OrgUnit],
    model_school: Uuid,
    seed: u64,
) -> Result<()> {
    let db = &store.db;
    let who = ActorRef::system("demo");
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x57a7);
    // A private kindergarten and a private primary school in the city.
    let mut private = 0;
    for s in schools {
        let commune = commune_of(s, offices);
        let mut p = profile_of(s, commune, &mut rng);
        let urban = commune.is_some_and(|i| COMMUNES[i].2);
        let single = s.levels.as_ref().map(|l| l.levels().to_vec()).unwrap_or_default();
        if urban
            && private < 2
            && (single == [SchoolLevel::MN] || single == [SchoolLevel::TH])
            && s.id != model_school
        {
            // The second school of each kind in the city is private.
            if rng.random_bool(0.5) || private == 0 {
                p.ownership = "09".into();
                private += 1;
            }
        }
        st::set_profile(db, &who, s.id, &p).await?;
        // Most pupils live in the school's commune; a few come from the next one.
        let home = commune.unwrap_or(0);
        learner::Entity::update_many()
            .col_expr(learner::Column::CommuneCode, Expr::value(commune_code(home)))
            .filter(learner::Column::SchoolId.eq(s.id))
            .exec(db)
            .await?;
    }

    // The year's events after 30/9 in schools other than the model one (whose records the
    // walkthroughs describe): dropouts with a reason, transfers out, and repeaters.
    let on = d(2026, 10, 20);
    for s in schools.iter().filter(|s| s.id != model_school) {
        let ids: Vec<(Uuid, Uuid)> = class_enrolment::Entity::find()
            .select_only()
            .column(class_enrolment::Column::Id)
            .column(class_enrolment::Column::LearnerId)
            .filter(
                class_enrolment::Column::ClassId.in_subquery(
                    Query::select()
                        .column(class::Column::Id)
                        .from(class::Entity)
                        .and_where(class::Column::SchoolId.eq(s.id))
                        .and_where(class::Column::Grade.ne(1))
                        .to_owned(),
                ),
            )
            .filter(class_enrolment::Column::ToDate.is_null())
            .filter(class_enrolment::Column::FromDate.gte(d(2026, 8, 1)))
            .order_by_asc(class_enrolment::Column::LearnerId)
            .into_tuple()
            .all(db)
            .await?;
        for (enrolment, learner_id) in ids {
            let roll: f64 = rng.random();
            let (status, reason) = if roll < 0.006 {
                ("05", Some(["01", "02", "03", "06"][rng.random_range(0..4)]))
            } else if roll < 0.009 {
                ("04", None)
            } else {
                if roll < 0.025 {
                    class_enrolment::Entity::update_many()
                        .col_expr(class_enrolment::Column::Reason, Expr::value("repeated"))
                        .filter(class_enrolment::Column::Id.eq(enrolment))
                        .exec(db)
                        .await?;
                }
                continue;
            };
            learner_status::ActiveModel {
                id: Set(crate::new_id()),
                learner_id: Set(learner_id),
                status: Set(status.into()),
                on_date: Set(on),
                reason_code: Set(reason.map(Into::into)),
                note: Set(None),
                created_at: Set(crate::now()),
            }
            .insert(db)
            .await?;
            learner::Entity::update_many()
                .col_expr(learner::Column::Status, Expr::value(status))
                .col_expr(learner::Column::ClassId, Expr::value(Option::<Uuid>::None))
                .filter(learner::Column::Id.eq(learner_id))
                .exec(db)
                .await?;
            class_enrolment::Entity::update_many()
                .col_expr(class_enrolment::Column::ToDate, Expr::value(on.pred_opt()))
                .filter(class_enrolment::Column::Id.eq(enrolment))
                .exec(db)
                .await?;
        }
    }

    population(store, so, schools, &mut rng).await?;
    period(store, cipher, so, schools, model_school, &mut rng).await
}

/// The 2026 household survey of the communes: for each age 0–60 a population a little above the
/// learners of that age living there (so enrolment rates are realistic), the disabled who cannot
/// study, and literacy for adults.
async fn population(store: &Store, so: &OrgUnit, schools: &[OrgUnit], rng: &mut ChaCha8Rng) -> Result<()> {
    let db = &store.db;
    let ids: Vec<Uuid> = schools.iter().map(|s| s.id).collect();
    let births: Vec<(Option<String>, chrono::NaiveDate)> = learner::Entity::find()
        .select_only()
        .column(learner::Column::CommuneCode)
        .column(learner::Column::DateOfBirth)
        .filter(learner::Column::SchoolId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let mut by: BTreeMap<(String, i32), u64> = BTreeMap::new();
    for (c, dob) in births {
        if let Some(c) = c {
            *by.entry((c, 2026 - chrono::Datelike::year(&dob))).or_default() += 1;
        }
    }
    let header: Vec<String> = [
        "Mã xã",
        "Năm",
        "Tuổi",
        "Dân số",
        "Khuyết tật không có khả năng học",
        "Biết chữ mức 1",
        "Biết chữ mức 2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = vec![];
    for i in 0..COMMUNES.len() {
        let code = commune_code(i);
        for age in 0..=60 {
            let learners = by.get(&(code.clone(), age)).copied().unwrap_or(0);
            let base = if learners > 0 {
                learners + learners * rng.random_range(1..6) / 100 + rng.random_range(0..3)
            } else {
                rng.random_range(150..400)
            };
            let excluded = base / 200;
            let (l1, l2) = if age >= 15 {
                let l1 = base - base * rng.random_range(0..3) / 100;
                (
                    l1.to_string(),
                    (l1 - l1 * rng.random_range(0..4) / 100).to_string(),
                )
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![
                code.clone(),
                "2026".into(),
                age.to_string(),
                base.to_string(),
                excluded.to_string(),
                l1,
                l2,
            ]);
        }
    }
    let table = PopulationTable::from_rows(&header, &rows)
        .map_err(|e| crate::Error::Internal(format!("demo population: {e:?}")))?;
    st::import_population(db, &ActorRef::system("demo"), so, &table).await?;
    Ok(())
}

/// The Sở's beginning-of-year period 2026-2027 (deadline 31/10/2026, past on the demo's date):
/// most schools approved, some returned with a comment, some submitted after the deadline, the
/// model school and a few others not in yet.
async fn period(
    store: &Store,
    cipher: &FieldCipher,
    so: &OrgUnit,
    schools: &[OrgUnit],
    model_school: Uuid,
    rng: &mut ChaCha8Rng,
) -> Result<()> {
    let db = &store.db;
    let officer = ActorRef::system("demo");
    let period = st::open_period(
        db,
        &officer,
        so,
        NewPeriod {
            round: Round::BeginningOfYear,
            start_year: 2026,
            reference_date: None,
            opens_on: d(2026, 10, 1),
            deadline: None,
            title: None,
        },
    )
    .await?;
    for (i, s) in schools.iter().enumerate() {
        if s.id == model_school || i % 7 == 3 {
            continue;
        }
        let forms = st::forms_of(Round::BeginningOfYear, period.reference_date, s.levels.as_ref());
        // The demo school reviewed its data: every remaining error is explained.
        let report = crate::quality::school_report(
            db,
            cipher,
            s.id,
            &truongso_core::quality::QualityPolicy::default(),
            d(2026, 10, 25),
        )
        .await?;
        for issue in report
            .issues
            .iter()
            .filter(|i| i.severity == truongso_core::quality::Severity::Error)
        {
            st::explain(
                db,
                &officer,
                &period,
                s,
                &issue.rule,
                issue.entity_id,
                "Nhà trường đã rà soát; hồ sơ gốc đang chờ phụ huynh bổ sung.",
            )
            .await?;
        }
        st::submit(db, cipher, &officer, &period, s, &forms, &report.issues).await?;
        // Most schools sent their report in October; every fourth one after the deadline.
        if i % 4 != 1 {
            let day = rng.random_range(10..=30);
            let at = d(2026, 10, day)
                .and_hms_opt(3, 0, 0)
                .expect("valid time")
                .and_utc();
            crate::entity::stats_submission::Entity::update_many()
                .col_expr(
                    crate::entity::stats_submission::Column::SubmittedAt,
                    Expr::value(at),
                )
                .filter(crate::entity::stats_submission::Column::PeriodId.eq(period.id))
                .filter(crate::entity::stats_submission::Column::SchoolId.eq(s.id))
                .exec(db)
                .await?;
        }
        match rng.random_range(0..10) {
            0 => {
                st::decide(
                    db,
                    &officer,
                    &period,
                    s,
                    Step::Return {
                        comment: "Số học sinh khuyết tật chưa khớp với hồ sơ; đề nghị rà soát lại.".into(),
                    },
                )
                .await?;
            }
            1 | 2 => {}
            _ => {
                st::decide(db, &officer, &period, s, Step::Approve).await?;
            }
        }
    }
    Ok(())
}
