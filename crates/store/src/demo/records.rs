//! School records of the demo province at realistic scale: classes of 30–42 for every grade a
//! school teaches, staff with the sector-database fields, teaching assignments, learners with
//! guardians (siblings share parents across schools), enrolment and status history, rooms,
//! equipment, facility facts and a start-of-year health check-up.
//!
//! Rows go in with multi-row inserts in one transaction per school, without an audit event per
//! row: the seed is one system operation (`demo.seed`, one event). A handful of records are
//! deliberately imperfect (missing ethnicity, a CCCD that disagrees with the sex, a learner
//! entered twice in two schools) so the data-quality dashboard has something true to show.

use super::{GIVEN_F, GIVEN_M, MIDDLE_F, MIDDLE_M, SURNAMES, d};
use crate::crypto::FieldCipher;
use crate::entity::{
    class, class_enrolment, equipment, guardian, health_entry, learner, learner_guardian, learner_status,
    room, school_facility, staff, teaching_assignment,
};
use crate::org::OrgUnit;
use crate::{Result, Store};
use chrono::{Datelike, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use truongso_core::classes::{SUBJECTS, grades_of};
use truongso_core::org::SchoolLevel;
use truongso_core::text;
use uuid::Uuid;

/// Rows per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 bind parameters
/// for the widest table (learners, 25 columns).
const CHUNK: usize = 1000;

/// Tuyên Quang's ethnic mix (GSO codes, weights in per mille): Kinh, Tày, Dao, Hmông, Sán
/// Chay, Nùng, Sán Dìu, Cao Lan is counted in Sán Chay, others.
const ETHNIC_MIX: [(&str, u32); 9] = [
    ("01", 430),
    ("02", 250),
    ("09", 120),
    ("08", 90),
    ("15", 50),
    ("07", 30),
    ("18", 15),
    ("25", 10),
    ("35", 5),
];

pub(super) struct Made {
    /// 6A1 of the model THCS school, its homeroom teacher and its mathematics teacher.
    pub class_id: Uuid,
    pub homeroom_staff: Uuid,
    pub math_staff: Uuid,
    pub principal_staff: Uuid,
    /// First learner of 6A1 and one of their guardians.
    pub learner_id: Uuid,
    pub guardian_id: Uuid,
    pub learners: u64,
}

struct Family {
    father: Option<Uuid>,
    mother: Uuid,
    surname: &'static str,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, weighted: &'a [(T, u32)]) -> &'a T {
    let total: u32 = weighted.iter().map(|(_, w)| *w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in weighted {
        if x < *w {
            return v;
        }
        x -= w;
    }
    &weighted[0].0
}

fn name(rng: &mut ChaCha8Rng, surname: &str, female: bool) -> String {
    let (m, g) = if female {
        (&MIDDLE_F, &GIVEN_F)
    } else {
        (&MIDDLE_M, &GIVEN_M)
    };
    format!(
        "{surname} {} {}",
        m.choose(rng).expect("non-empty"),
        g.choose(rng).expect("non-empty")
    )
}

/// A CCCD consistent with birth date and sex: Tuyên Quang's registration code 008, the
/// century/sex digit, the two-digit year and six serial digits.
fn cccd(rng: &mut ChaCha8Rng, dob: NaiveDate, female: bool) -> String {
    let century = (dob.year() - 1900) / 100;
    let g = century * 2 + i32::from(female);
    format!(
        "008{g}{:02}{:06}",
        dob.year() % 100,
        rng.random_range(0..1_000_000)
    )
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    let prefix = [
        "098", "097", "096", "091", "094", "088", "086", "035", "039", "033",
    ]
    .choose(rng)
    .expect("non-empty");
    format!("{prefix}{:07}", rng.random_range(0..10_000_000))
}

async fn insert_chunks<C, A>(db: &C, rows: Vec<A>) -> Result<()>
where
    C: ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    crate::insert_in_chunks(db, rows, CHUNK).await
}

/// Learners a school of these levels holds, relative to the others.
fn weight(levels: &[SchoolLevel]) -> u32 {
    levels
        .iter()
        .map(|l| match l {
            SchoolLevel::MN => 2,
            SchoolLevel::TH => 5,
            SchoolLevel::THCS => 4,
            SchoolLevel::THPT => 4,
            SchoolLevel::GDTX => 1,
        })
        .sum()
}

/// Builds the school records of every school, `learners` in total (± rounding to whole
/// classes). `model_school` receives the classes the demo accounts are scoped to.
pub(super) async fn generate(
    store: &Store,
    cipher: &FieldCipher,
    schools: &[OrgUnit],
    model_school: Uuid,
    learners: u64,
    rng: &mut ChaCha8Rng,
) -> Result<Made> {
    let total_weight: u32 = schools
        .iter()
        .map(|s| weight(s.levels.as_ref().map(|l| l.levels()).unwrap_or(&[])))
        .sum();
    let mut made = None;
    let mut families: Vec<Family> = vec![];
    let mut issued = 0u64;
    let mut count = 0u64;
    let mut cumulative = 0u64;
    for (i, school) in schools.iter().enumerate() {
        let levels = school.levels.clone().unwrap_or_default();
        // Cumulative rounding: the shares add up to exactly `learners`.
        let before = learners * cumulative / u64::from(total_weight.max(1));
        cumulative += u64::from(weight(levels.levels()));
        let share = learners * cumulative / u64::from(total_weight.max(1)) - before;
        let mut school_rng = ChaCha8Rng::seed_from_u64(rng.random::<u64>() ^ i as u64);
        let txn = store.db.begin().await?;
        let m = school_records(
            &txn,
            cipher,
            school,
            share,
            school.id == model_school,
            &mut families,
            &mut issued,
            &mut school_rng,
        )
        .await?;
        txn.commit().await?;
        count += m.learners;
        if school.id == model_school {
            made = Some(m);
        }
    }
    let mut made = made.expect("the model school is in the list");
    made.learners = count;
    Ok(made)
}

#[allow(clippy::too_many_arguments)]
async fn school_records<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    school: &OrgUnit,
    share: u64,
    is_model: bool,
    families: &mut Vec<Family>,
    issued: &mut u64,
    rng: &mut ChaCha8Rng,
) -> Result<Made> {
    let years = crate::school_years::for_school(db, school.id).await?;
    let year = years
        .iter()
        .find(|y| y.name == "2026-2027")
        .expect("seeded before records");
    let levels = school.levels.clone().unwrap_or_default();
    let grades: Vec<u8> = levels
        .levels()
        .iter()
        .flat_map(|l| grades_of(*l).iter().copied())
        .collect();
    let per_grade = share / grades.len().max(1) as u64;
    let classes_per_grade = per_grade.div_ceil(38).max(1);
    let now = crate::now();
    let enrolled_on = year.starts_on;

    // Staff: leadership and support, then about two teachers per class.
    let mut staff_rows = vec![];
    let mut teachers: Vec<(Uuid, &'static str)> = vec![];
    let subjects: Vec<&'static str> = SUBJECTS
        .iter()
        .filter(|(_, _, ls)| ls.iter().any(|l| levels.levels().contains(l)))
        .map(|(c, _, _)| *c)
        .collect();
    let n_classes = classes_per_grade as usize * grades.len();
    let mut serial = 0;
    let mut add_staff =
        |rng: &mut ChaCha8Rng, group: &str, position: Option<&str>, subject: Option<&'static str>| {
            serial += 1;
            let female = rng.random_bool(0.7);
            let surname = SURNAMES.choose(rng).expect("non-empty");
            let full_name = name(rng, surname, female);
            let dob = d(
                rng.random_range(1968..=2001),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            );
            let id = crate::new_id();
            let id_number = cccd(rng, dob, female);
            staff_rows.push(staff::ActiveModel {
                id: Set(id),
                school_id: Set(school.id),
                staff_code: Set(format!("{}{serial:04}", school.code.clone().unwrap_or_default())),
                name_folded: Set(text::fold(&full_name)),
                full_name: Set(full_name),
                date_of_birth: Set(dob),
                sex: Set(if female { "female" } else { "male" }.into()),
                cccd_enc: Set(Some(cipher.encrypt(&format!("staff.cccd:{id}"), &id_number))),
                cccd_index: Set(Some(cipher.blind_index("cccd", &id_number))),
                ethnicity: Set(Some((*pick(rng, &ETHNIC_MIX)).into())),
                staff_group: Set(group.into()),
                position: Set(position.map(Into::into)),
                contract: Set(if rng.random_bool(0.85) { "07" } else { "03" }.into()),
                qualification: Set(Some(if rng.random_bool(0.8) { "03" } else { "02" }.into())),
                main_subject: Set(subject.map(Into::into)),
                second_subject: Set(None),
                periods_per_week: Set(subject.map(|_| rng.random_range(14..=19))),
                standard_rating: Set(Some(
                    (*pick(rng, &[("01", 35), ("02", 45), ("03", 18), ("05", 2)])).into(),
                )),
                status: Set("01".into()),
                phone: Set(Some(phone(rng))),
                email: Set(None),
                user_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
            id
        };
    let principal = add_staff(rng, "01", Some("01"), None);
    add_staff(rng, "01", Some("02"), None);
    for position in ["16", "15", "11", "09"] {
        add_staff(rng, "02", Some(position), None);
    }
    let is_mn = levels.levels() == [SchoolLevel::MN];
    let n_teachers = if is_mn {
        n_classes * 2
    } else {
        (n_classes * 2).max(subjects.len())
    };
    for k in 0..n_teachers {
        let subject = if is_mn {
            None
        } else {
            Some(subjects[k % subjects.len()])
        };
        let id = add_staff(rng, "03", None, subject);
        teachers.push((id, subject.unwrap_or("")));
    }

    // Classes, with a homeroom teacher each; teaching assignments per level subject.
    let mut class_rows = vec![];
    let mut assignment_rows = vec![];
    let mut classes: Vec<(Uuid, u8, String, Uuid)> = vec![];
    // Preschool groups by age, as schools run them: nursery groups of 1- or 2-year-olds, and
    // kindergarten classes Mầm (3), Chồi (4), Lá (5); a school too small for one class per age
    // mixes them in one multigrade class (`None`: the age follows the child).
    let mut preschool_ages: Vec<Option<i32>> = vec![];
    // Learners per class, spreading the remainders so the school gets its whole share.
    let mut sizes: Vec<u64> = vec![];
    let mut homeroom_next = 0usize;
    for (gi, grade) in grades.iter().enumerate() {
        let in_grade = per_grade + u64::from((gi as u64) < share % grades.len().max(1) as u64);
        for k in 1..=classes_per_grade {
            sizes.push(in_grade / classes_per_grade + u64::from(k <= in_grade % classes_per_grade));
            let id = crate::new_id();
            let bands = if *grade == 16 { 2 } else { 3 };
            let mixed = is_mn && classes_per_grade < bands;
            let preschool_age = (is_mn && !mixed).then(|| match grade {
                16 => 2 - ((k as i32 - 1) % 2),
                _ => 3 + (k as i32 - 1) % 3,
            });
            preschool_ages.push(preschool_age);
            let cname = match (is_mn, preschool_age) {
                (false, _) => format!("{grade}A{k}"),
                (true, None) if *grade == 16 => format!("Nhà trẻ ghép {k}"),
                (true, None) => format!("Mẫu giáo ghép {k}"),
                (true, Some(a)) if *grade == 16 => format!("Nhà trẻ {a} tuổi {k}"),
                (true, Some(a)) => format!("{} {k}", ["Mầm", "Chồi", "Lá"][(a - 3) as usize]),
            };
            // The model class's homeroom teacher does not teach mathematics, so the two demo
            // teacher accounts (homeroom, mathematics) are two people.
            if is_model && cname == "6A1" && teachers[homeroom_next % teachers.len()].1 == "toan" {
                homeroom_next += 1;
            }
            let homeroom = teachers[homeroom_next % teachers.len()].0;
            homeroom_next += 1;
            class_rows.push(class::ActiveModel {
                id: Set(id),
                school_id: Set(school.id),
                school_year_id: Set(year.id),
                grade: Set((*grade).into()),
                name: Set(cname.clone()),
                created_at: Set(now),
                homeroom_staff_id: Set(Some(homeroom)),
                multigrade: Set(mixed),
                specialist: Set(false),
                boarding: Set(false),
                two_sessions: Set(levels.levels().contains(&SchoolLevel::TH) && *grade <= 5),
                capacity: Set(None),
                updated_at: Set(Some(now)),
            });
            if !is_mn {
                // The programme's subjects of the grade; at THPT four electives, one of three
                // usual combinations by class.
                const COMBOS: [[&str; 4]; 3] = [
                    ["vat_li", "hoa_hoc", "sinh_hoc", "tin_hoc"],
                    ["vat_li", "hoa_hoc", "dia_li", "gdktpl"],
                    ["dia_li", "gdktpl", "cong_nghe", "am_nhac"],
                ];
                let combo = COMBOS[(k as usize + 2) % COMBOS.len()];
                for plan in truongso_core::gradebook::curriculum::subjects(*grade) {
                    let subject = &plan.code;
                    if plan.elective && !(*grade >= 10 && combo.contains(subject)) {
                        continue;
                    }
                    let candidates: Vec<Uuid> = teachers
                        .iter()
                        .filter(|(_, s)| s == subject)
                        .map(|(id, _)| *id)
                        .collect();
                    let Some(t) = candidates.choose(rng) else { continue };
                    assignment_rows.push(teaching_assignment::ActiveModel {
                        id: Set(crate::new_id()),
                        class_id: Set(id),
                        staff_id: Set(*t),
                        subject: Set((*subject).into()),
                        term: Set("CN".into()),
                        created_at: Set(now),
                    });
                }
            }
            classes.push((id, *grade, cname, homeroom));
        }
    }
    // The model class is a full class of 45 (the THCS maximum, the size the gradebook
    // benchmarks are set for) whenever its grade has the learners: they are taken from the
    // grade's other classes, so the school's share is unchanged.
    if is_model && let Some(m) = classes.iter().position(|c| c.2 == "6A1") {
        while sizes[m] < 45 {
            let donor = (0..classes.len())
                .filter(|&k| k != m && classes[k].1 == classes[m].1 && sizes[k] > 1)
                .max_by_key(|&k| sizes[k]);
            let Some(k) = donor else { break };
            sizes[k] -= 1;
            sizes[m] += 1;
        }
    }

    // Learners, their guardians, enrolment and status history, one check-up each.
    let start_year = year.starts_on.year();
    let mut learner_rows = vec![];
    let mut names = vec![];
    let mut status_rows = vec![];
    let mut enrol_rows = vec![];
    let mut guardian_rows = vec![];
    let mut link_rows = vec![];
    let mut health_rows = vec![];
    let mut first_learner = None;
    let mut first_guardian = None;
    let mut learners_made = 0u64;
    for (((class_id, grade, _, _), size), preschool_age) in classes.iter().zip(&sizes).zip(&preschool_ages) {
        for nth in 0..(*size).clamp(1, 45) {
            let female = rng.random_bool(0.49);
            // Siblings: one learner in eight belongs to a family already seen, maybe in
            // another school.
            let family = if !families.is_empty() && rng.random_bool(0.12) {
                let k = rng.random_range(families.len().saturating_sub(400)..families.len());
                &families[k]
            } else {
                let surname = *SURNAMES.choose(rng).expect("non-empty");
                let mut parent = |female: bool, rng: &mut ChaCha8Rng| {
                    let id = crate::new_id();
                    let full_name = name(rng, surname, female);
                    guardian_rows.push(guardian::ActiveModel {
                        id: Set(id),
                        name_folded: Set(text::fold(&full_name)),
                        full_name: Set(full_name),
                        phone: Set(Some(phone(rng))),
                        email: Set(None),
                        cccd_enc: Set(None),
                        cccd_index: Set(None),
                        created_at: Set(now),
                        user_id: Set(None),
                    });
                    id
                };
                let mother = parent(true, rng);
                let father = rng.random_bool(0.93).then(|| parent(false, rng));
                families.push(Family {
                    father,
                    mother,
                    surname,
                });
                families.last().expect("just pushed")
            };
            let full_name = name(rng, family.surname, female);
            // On-age learners are born in (start year − grade − 5); a few are a year older.
            let age = if *grade >= 16 {
                preschool_age.unwrap_or(match grade {
                    16 => 1 + (nth % 2) as i32,
                    _ => 3 + (nth % 3) as i32,
                })
            } else {
                i32::from(*grade) + 5 + i32::from(rng.random_bool(0.04))
            };
            let dob = d(
                start_year - age,
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            );
            let id = crate::new_id();
            let ethnicity = *pick(rng, &ETHNIC_MIX);
            let has_cccd = rng.random_bool(0.9);
            // One record in 300 carries a CCCD typed with the wrong sex digit.
            let typo = rng.random_bool(1.0 / 300.0);
            let id_number = cccd(rng, dob, female ^ typo);
            names.push(text::fold(&full_name));
            learner_rows.push(learner::ActiveModel {
                id: Set(id),
                school_id: Set(school.id),
                name_folded: Set(text::fold(&full_name)),
                full_name: Set(full_name),
                date_of_birth: Set(dob),
                sex: Set(if female { "female" } else { "male" }.into()),
                class_id: Set(Some(*class_id)),
                created_at: Set(now),
                // Mã học sinh are unique nationally: issued in sequence (grade-1 entrants and
                // preschool children are still waiting for theirs).
                moet_code: Set((*grade != 1 && *grade < 16).then(|| {
                    *issued += 1;
                    format!("08{:08}", *issued)
                })),
                cccd_enc: Set(has_cccd.then(|| cipher.encrypt(&format!("learners.cccd:{id}"), &id_number))),
                cccd_index: Set(has_cccd.then(|| cipher.blind_index("cccd", &id_number))),
                ethnicity: Set((!rng.random_bool(0.01)).then(|| ethnicity.into())),
                religion: Set(None),
                nationality: Set(Some("Việt Nam".into())),
                disability_enc: Set(rng
                    .random_bool(0.01)
                    .then(|| cipher.encrypt(&format!("learners.disability:{id}"), "01"))),
                policy_codes: Set((ethnicity != "01" && rng.random_bool(0.3)).then(|| "11".into())),
                boarding: Set((ethnicity != "01" && rng.random_bool(0.1)).then(|| "01".into())),
                province_code: Set(Some("08".into())),
                commune_code: Set(None),
                address_line: Set(Some(format!("Tổ {}", rng.random_range(1..=20)))),
                address_as_of: Set(Some(enrolled_on)),
                status: Set("01".into()),
                updated_at: Set(Some(now)),
            });
            status_rows.push(learner_status::ActiveModel {
                id: Set(crate::new_id()),
                learner_id: Set(id),
                status: Set("01".into()),
                on_date: Set(enrolled_on),
                reason_code: Set(None),
                note: Set(None),
                created_at: Set(now),
            });
            enrol_rows.push(class_enrolment::ActiveModel {
                id: Set(crate::new_id()),
                learner_id: Set(id),
                class_id: Set(*class_id),
                from_date: Set(enrolled_on),
                to_date: Set(None),
                reason: Set("admitted".into()),
                created_at: Set(now),
            });
            for (g, relation) in [(Some(family.mother), "mother"), (family.father, "father")] {
                if let Some(g) = g {
                    link_rows.push(learner_guardian::ActiveModel {
                        learner_id: Set(id),
                        guardian_id: Set(g),
                        relation: Set(relation.into()),
                    });
                }
            }
            let checkup = super::health::demo_checkup(rng, dob, female, enrolled_on);
            health_rows.push(health_entry::ActiveModel {
                id: Set(crate::new_id()),
                learner_id: Set(id),
                kind: Set("checkup".into()),
                on_date: Set(enrolled_on + chrono::Days::new(14)),
                data_enc: Set(String::new()),
                created_at: Set(now),
            });
            if let Some(h) = health_rows.last_mut() {
                let hid = *h.id.as_ref();
                h.data_enc = Set(cipher.encrypt(&format!("health_entries.data:{hid}"), &checkup));
            }
            first_learner.get_or_insert(id);
            first_guardian.get_or_insert(family.mother);
            learners_made += 1;
        }
    }

    // Rooms, equipment and facility facts.
    let mut room_rows = vec![];
    for (k, (_, _, cname, _)) in classes.iter().enumerate() {
        room_rows.push(room::ActiveModel {
            id: Set(crate::new_id()),
            school_id: Set(school.id),
            name: Set(format!("Phòng học {:02} ({cname})", k + 1)),
            kind: Set("classroom".into()),
            quality: Set((*pick(rng, &[("solid", 82), ("semi_solid", 14), ("temporary", 4)])).into()),
            area_m2: Set(Some(rng.random_range(48..=60))),
            updated_at: Set(now),
        });
    }
    for (kind, label) in [
        ("library", "Thư viện"),
        ("computer_room", "Phòng tin học"),
        ("staff_housing", "Nhà công vụ giáo viên"),
    ] {
        room_rows.push(room::ActiveModel {
            id: Set(crate::new_id()),
            school_id: Set(school.id),
            name: Set(label.into()),
            kind: Set(kind.into()),
            quality: Set("solid".into()),
            area_m2: Set(Some(rng.random_range(40..=90))),
            updated_at: Set(now),
        });
    }
    let computers = rng.random_range(10..=40);
    let equipment_rows: Vec<equipment::ActiveModel> = super::health::demo_equipment(&grades)
        .into_iter()
        .map(|(code, item, grade, per_class)| equipment::ActiveModel {
            id: Set(crate::new_id()),
            school_id: Set(school.id),
            code: Set(code),
            name: Set(item),
            category: Set("teaching".into()),
            grade: Set(grade.map(Into::into)),
            quantity: Set((per_class * classes_per_grade as i32 - rng.random_range(0..=1)).max(0)),
            condition: Set("good".into()),
            updated_at: Set(now),
        })
        .collect();
    let rural = school.name.contains("Điểm") || rng.random_bool(0.3);
    let facts = truongso_core::facilities::SchoolFacts {
        grid_power: true,
        clean_water: !rural || rng.random_bool(0.8),
        toilets: true,
        handwashing_education: true,
        internet_for_teaching: !rural || rng.random_bool(0.7),
        computers_for_teaching: true,
        disability_accessible: rng.random_bool(0.4),
        counselling: rng.random_bool(0.6),
    };

    insert_chunks(db, staff_rows).await?;
    insert_chunks(db, class_rows).await?;
    insert_chunks(db, assignment_rows).await?;
    insert_chunks(db, guardian_rows).await?;
    crate::people::remember_names(db, names).await?;
    insert_chunks(db, learner_rows).await?;
    insert_chunks(db, status_rows).await?;
    insert_chunks(db, enrol_rows).await?;
    insert_chunks(db, link_rows).await?;
    insert_chunks(db, health_rows).await?;
    insert_chunks(db, room_rows).await?;
    insert_chunks(db, equipment_rows).await?;
    school_facility::Entity::insert(school_facility::ActiveModel {
        school_id: Set(school.id),
        computers_teaching: Set(computers),
        facts: Set(serde_json::to_string(&facts).expect("serialisable")),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;

    let (class_id, _, _, homeroom) = classes
        .iter()
        .find(|(_, _, n, _)| !is_model || n == "6A1")
        .cloned()
        .expect("at least one class");
    let math = crate::entity::teaching_assignment::Entity::find()
        .filter(teaching_assignment::Column::ClassId.eq(class_id))
        .filter(teaching_assignment::Column::Subject.eq("toan"))
        .one(db)
        .await?
        .map(|a| a.staff_id)
        .unwrap_or(homeroom);
    let learner_id = learner::Entity::find()
        .filter(learner::Column::ClassId.eq(class_id))
        .order_by_asc(learner::Column::Id)
        .one(db)
        .await?
        .map(|l| l.id)
        .or(first_learner)
        .expect("learners were made");
    let guardian_id = learner_guardian::Entity::find()
        .filter(learner_guardian::Column::LearnerId.eq(learner_id))
        .one(db)
        .await?
        .map(|g| g.guardian_id)
        .or(first_guardian)
        .expect("guardians were made");
    Ok(Made {
        class_id,
        homeroom_staff: homeroom,
        math_staff: math,
        principal_staff: principal,
        learner_id,
        guardian_id,
        learners: learners_made,
    })
}

use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
