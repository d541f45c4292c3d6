//! The per-school form store on both databases: every write to a table the statistics facts
//! read moves the stamp of each school it feeds (database triggers), a unit's forms summed from
//! stored values equal a computation from the records, and exactly the schools whose records
//! changed are recomputed.

use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use std::collections::HashMap;
use truongso_core::org::OrgKind;
use truongso_core::stats::Round;
use truongso_store::entity::{
    class, class_enrolment, health_entry, learner, learner_status, org_unit, room, school_facility,
    school_profile, school_year, staff, stats_form_cache, year_result,
};
use truongso_store::stats::{self as st, Cut};
use truongso_store::{Store, both_backends, demo, org};
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn stamps(s: &Store) -> HashMap<Uuid, i64> {
    let schools: Vec<Uuid> = org::in_subtree(
        &s.db,
        &org::by_code(&s.db, "08").await.unwrap().path,
        Some(OrgKind::School),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|u| u.id)
    .collect();
    st::cache::stamps(&s.db, &schools).await.unwrap()
}

/// Runs `write` and returns the schools whose stamp moved.
async fn moved<F: std::future::Future<Output = ()>>(s: &Store, write: F) -> Vec<Uuid> {
    let before = stamps(s).await;
    write.await;
    let after = stamps(s).await;
    let mut out: Vec<Uuid> = after
        .iter()
        .filter(|(id, stamp)| before.get(id).is_none_or(|b| b < stamp))
        .map(|(id, _)| *id)
        .collect();
    out.sort();
    out
}

/// The first row of a table whose `column` is `id`.
async fn first_of<E: EntityTrait>(db: &sea_orm::DatabaseConnection, column: E::Column, id: Uuid) -> E::Model {
    E::find()
        .filter(column.eq(id))
        .one(db)
        .await
        .unwrap()
        .expect("a row")
}

/// Saves a changed record and returns the schools whose stamp moved.
async fn updated<A>(s: &Store, changed: A) -> Vec<Uuid>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    moved(s, async {
        changed.update(&s.db).await.unwrap();
    })
    .await
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.dedup();
    ids
}

both_backends!(
    every_table_the_facts_read_moves_its_schools_stamp,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        demo::seed(&s, &cipher, demo::DemoOptions::small(5))
            .await
            .unwrap();
        let db = &s.db;
        let pupil = learner::Entity::find()
            .filter(learner::Column::Status.eq("01"))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let a = pupil.school_id;
        let own = sorted(vec![a]);

        // Learner, status history, enrolment, check-up, year result.
        let mut m = pupil.clone().into_active_model();
        m.sex = Set(if pupil.sex == "female" {
            "male".into()
        } else {
            "female".into()
        });
        assert_eq!(updated(&s, m).await, own);
        let status = learner_status::ActiveModel {
            id: Set(Uuid::now_v7()),
            learner_id: Set(pupil.id),
            status: Set("01".into()),
            on_date: Set(d(2026, 10, 2)),
            reason_code: Set(None),
            note: Set(None),
            created_at: Set(chrono::Utc::now()),
        };
        assert_eq!(
            moved(&s, async {
                status.insert(db).await.unwrap();
            })
            .await,
            own
        );
        let enrolment =
            first_of::<class_enrolment::Entity>(db, class_enrolment::Column::LearnerId, pupil.id).await;
        let mut e = enrolment.clone().into_active_model();
        e.reason = Set("corrected".into());
        assert_eq!(updated(&s, e).await, own);
        if let Some(h) = health_entry::Entity::find()
            .filter(
                health_entry::Column::LearnerId.is_in(
                    learner::Entity::find()
                        .filter(learner::Column::SchoolId.eq(a))
                        .all(db)
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|l| l.id),
                ),
            )
            .one(db)
            .await
            .unwrap()
        {
            let mut h = h.into_active_model();
            h.kind = Set("checkup".into());
            assert_eq!(updated(&s, h).await, own);
        }
        let result = year_result::Entity::find()
            .one(db)
            .await
            .unwrap()
            .expect("the demo has year results");
        let mut r = result.clone().into_active_model();
        r.conduct = Set(Some("T".into()));
        assert_eq!(updated(&s, r).await, vec![result.school_id]);

        // School records: class, staff, room, profile, facilities, school year, the school's unit.
        let c = first_of::<class::Entity>(db, class::Column::SchoolId, a).await;
        let mut cm = c.into_active_model();
        cm.capacity = Set(Some(40));
        assert!(updated(&s, cm).await.contains(&a));
        let member = first_of::<staff::Entity>(db, staff::Column::SchoolId, a).await;
        let mut sm = member.into_active_model();
        sm.phone = Set(Some("0912345678".into()));
        assert_eq!(updated(&s, sm).await, own);
        let r = first_of::<room::Entity>(db, room::Column::SchoolId, a).await;
        assert_eq!(
            moved(&s, async {
                room::Entity::delete_by_id(r.id).exec(db).await.unwrap();
            })
            .await,
            own
        );
        let p = school_profile::Entity::find_by_id(a)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut pm = p.into_active_model();
        pm.difficult = Set(true);
        assert_eq!(updated(&s, pm).await, own);
        let f = school_facility::Entity::find_by_id(a)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut fm = f.into_active_model();
        fm.computers_teaching = Set(3);
        assert_eq!(updated(&s, fm).await, own);
        let y = first_of::<school_year::Entity>(db, school_year::Column::SchoolId, a).await;
        let mut ym = y.into_active_model();
        ym.name = Set("Năm học (sửa)".into());
        assert_eq!(updated(&s, ym).await, own);
        let unit = org_unit::Entity::find_by_id(a).one(db).await.unwrap().unwrap();
        let mut um = unit.clone().into_active_model();
        um.name = Set(format!("{} (mới)", unit.name));
        assert_eq!(updated(&s, um).await, own);
        // A new satellite site moves its school's stamp; an office's change moves none.
        let site_id = Uuid::now_v7();
        let site = org_unit::ActiveModel {
            id: Set(site_id),
            kind: Set(OrgKind::SatelliteSite.as_str().into()),
            parent_id: Set(Some(a)),
            path: Set(format!("{}{site_id}/", unit.path)),
            depth: Set(unit.depth + 1),
            code: Set(None),
            name: Set("Điểm trường Bản Mới".into()),
            name_folded: Set("diem truong ban moi".into()),
            levels: Set(None),
            valid_from: Set(d(2026, 9, 1)),
            valid_to: Set(None),
            created_at: Set(chrono::Utc::now()),
            updated_at: Set(chrono::Utc::now()),
        };
        assert_eq!(
            moved(&s, async {
                site.insert(db).await.unwrap();
            })
            .await,
            own
        );
        let office = org_unit::Entity::find_by_id(unit.parent_id.unwrap())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut om = office.into_active_model();
        om.name_folded = Set("renamed office".into());
        assert_eq!(updated(&s, om).await, Vec::<Uuid>::new());

        // A learner enrolled at a second school: both schools' stamps move, and from then on the
        // learner's own history (a back-dated status) moves both.
        let other_class = class::Entity::find()
            .filter(class::Column::SchoolId.ne(a))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let b = other_class.school_id;
        let both = sorted(vec![a, b]);
        let moving = class_enrolment::ActiveModel {
            id: Set(Uuid::now_v7()),
            learner_id: Set(pupil.id),
            class_id: Set(other_class.id),
            from_date: Set(d(2027, 1, 4)),
            to_date: Set(None),
            reason: Set("transfer_in".into()),
            created_at: Set(chrono::Utc::now()),
        };
        assert_eq!(
            moved(&s, async {
                moving.insert(db).await.unwrap();
            })
            .await,
            both
        );
        assert_eq!(
            moved(&s, async {
                learner_status::Entity::delete_many()
                    .filter(learner_status::Column::LearnerId.eq(pupil.id))
                    .filter(learner_status::Column::OnDate.eq(d(2026, 10, 2)))
                    .exec(db)
                    .await
                    .unwrap();
            })
            .await,
            both
        );
    }
);

both_backends!(
    unit_forms_sum_stored_values_and_recompute_changed_schools,
    |s: Store| async move {
        let cipher = truongso_store::testing::cipher();
        demo::seed(&s, &cipher, demo::DemoOptions::small(5))
            .await
            .unwrap();
        let db = &s.db;
        let so = org::by_code(db, "08").await.unwrap();
        let day = d(2026, 9, 30);
        let cut = Cut::new(2026, day);
        let forms = st::forms_of(Round::BeginningOfYear, day, None);
        let schools = st::schools_of(db, &so, day).await.unwrap().len();
        assert!(schools > 10);

        let first = st::unit_forms(db, &cipher, &so, &forms, cut).await.unwrap();
        assert_eq!(first.recomputed, schools, "nothing stored yet");
        let stored = stats_form_cache::Entity::find().count(db).await.unwrap();
        assert_eq!(stored, (schools * forms.len()) as u64);
        let second = st::unit_forms(db, &cipher, &so, &forms, cut).await.unwrap();
        assert_eq!(second.recomputed, 0, "no record changed");
        assert_same(&second, &first);

        // One primary pupil's sex changes: only their school is recomputed, and the totals move.
        let th = forms
            .iter()
            .position(|f| f.level == truongso_core::org::SchoolLevel::TH)
            .unwrap();
        let year_2026: Vec<Uuid> = school_year::Entity::find()
            .filter(school_year::Column::StartYear.eq(2026))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|y| y.id)
            .collect();
        let grade_3 = class::Entity::find()
            .filter(class::Column::Grade.eq(3))
            .filter(class::Column::SchoolYearId.is_in(year_2026))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut pupil = None;
        for e in class_enrolment::Entity::find()
            .filter(class_enrolment::Column::ClassId.eq(grade_3.id))
            .filter(class_enrolment::Column::ToDate.is_null())
            .filter(class_enrolment::Column::FromDate.lte(day))
            .all(db)
            .await
            .unwrap()
        {
            let l = learner::Entity::find_by_id(e.learner_id)
                .one(db)
                .await
                .unwrap()
                .unwrap();
            let history = learner_status::Entity::find()
                .filter(learner_status::Column::LearnerId.eq(l.id))
                .filter(learner_status::Column::Status.ne("01"))
                .count(db)
                .await
                .unwrap();
            if l.status == "01" && history == 0 {
                pupil = Some(l);
                break;
            }
        }
        let pupil = pupil.expect("a grade-3 pupil on the roll throughout");
        let female = |u: &st::UnitForms| u.totals[th].cell("37", "total.nu");
        let mut m = pupil.clone().into_active_model();
        let to_female = pupil.sex != "female";
        m.sex = Set(if to_female { "female".into() } else { "male".into() });
        m.update(db).await.unwrap();
        let third = st::unit_forms(db, &cipher, &so, &forms, cut).await.unwrap();
        assert_eq!(third.recomputed, 1);
        let was = female(&first).unwrap();
        assert_eq!(female(&third), Some(if to_female { was + 1 } else { was - 1 }));

        // The same forms with nothing stored: equal, cell by cell.
        stats_form_cache::Entity::delete_many().exec(db).await.unwrap();
        let fresh = st::unit_forms(db, &cipher, &so, &forms, cut).await.unwrap();
        assert_eq!(fresh.recomputed, schools);
        assert_same(&third, &fresh);

        // A date no office reports on is computed live and not kept.
        let other = Cut::new(2026, d(2026, 10, 15));
        let live = st::unit_forms(db, &cipher, &so, &forms, other).await.unwrap();
        assert_eq!(live.recomputed, schools);
        let again = st::unit_forms(db, &cipher, &so, &forms, other).await.unwrap();
        assert_eq!(again.recomputed, schools);
        assert_eq!(
            stats_form_cache::Entity::find()
                .filter(stats_form_cache::Column::ReferenceDate.eq(other.reference))
                .count(db)
                .await
                .unwrap(),
            0
        );
    }
);

/// Two unit results agree on every school's values and the totals.
fn assert_same(a: &st::UnitForms, b: &st::UnitForms) {
    assert_eq!(a.schools, b.schools);
    assert_eq!(a.totals, b.totals);
}
