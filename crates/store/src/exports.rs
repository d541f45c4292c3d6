//! Lists of a school's records in the import templates' columns, so an exported file can be
//! corrected and imported back. Identity numbers are left out (exports are shared more widely
//! than the system; the CCCD column is simply absent and an import without it keeps the stored
//! numbers).

use crate::Result;
use crate::entity::{class, guardian, learner, learner_guardian, staff, teaching_assignment};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use truongso_core::{codes, text};
use uuid::Uuid;

pub type ExportRow = Vec<(&'static str, String)>;

fn date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn sex(s: &str) -> String {
    if s == "female" { "Nữ" } else { "Nam" }.into()
}

async fn class_names<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<HashMap<Uuid, class::Model>> {
    Ok(class::Entity::find()
        .filter(class::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Learners on the roll, by class and name, with their guardians.
pub async fn learners<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Vec<ExportRow>> {
    let classes = class_names(db, school_id).await?;
    let rows = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school_id))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .order_by_asc(learner::Column::NameFolded)
        .all(db)
        .await?;
    let mut guardians: HashMap<Uuid, Vec<(String, guardian::Model)>> = HashMap::new();
    let ids: Vec<Uuid> = rows.iter().map(|l| l.id).collect();
    for chunk in ids.chunks(1000) {
        for (link, g) in learner_guardian::Entity::find()
            .find_also_related(guardian::Entity)
            .filter(learner_guardian::Column::LearnerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(g) = g {
                guardians
                    .entry(link.learner_id)
                    .or_default()
                    .push((link.relation, g));
            }
        }
    }
    let mut out: Vec<(String, ExportRow)> = rows
        .into_iter()
        .map(|l| {
            let class = l
                .class_id
                .and_then(|c| classes.get(&c))
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let mut r: ExportRow = vec![
                ("moet_code", l.moet_code.unwrap_or_default()),
                ("full_name", l.full_name),
                ("date_of_birth", date(l.date_of_birth)),
                ("sex", sex(&l.sex)),
                (
                    "ethnicity",
                    l.ethnicity
                        .as_deref()
                        .and_then(|e| codes::DAN_TOC.label(e))
                        .unwrap_or_default()
                        .into(),
                ),
                ("religion", l.religion.unwrap_or_default()),
                ("nationality", l.nationality.unwrap_or_default()),
                ("policy_codes", l.policy_codes.unwrap_or_default()),
                ("boarding", l.boarding.unwrap_or_default()),
                ("class_name", class.clone()),
                ("province_code", l.province_code.unwrap_or_default()),
                ("commune_code", l.commune_code.unwrap_or_default()),
                ("address_line", l.address_line.unwrap_or_default()),
            ];
            for (relation, g) in guardians.remove(&l.id).unwrap_or_default() {
                let (name, phone) = match relation.as_str() {
                    "father" => ("father_name", "father_phone"),
                    "mother" => ("mother_name", "mother_phone"),
                    _ => ("guardian_name", "guardian_phone"),
                };
                if r.iter().any(|(k, _)| *k == name) {
                    continue;
                }
                r.push((name, g.full_name));
                r.push((phone, g.phone.unwrap_or_default()));
                if relation == "other" {
                    r.push(("guardian_email", g.email.unwrap_or_default()));
                }
            }
            (text::fold(&class), r)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

pub async fn staff<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Vec<ExportRow>> {
    Ok(staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school_id))
        .order_by_asc(staff::Column::NameFolded)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            vec![
                ("staff_code", s.staff_code),
                ("full_name", s.full_name),
                ("date_of_birth", date(s.date_of_birth)),
                ("sex", sex(&s.sex)),
                ("ethnicity", s.ethnicity.unwrap_or_default()),
                ("staff_group", s.staff_group),
                ("position", s.position.unwrap_or_default()),
                ("contract", s.contract),
                ("qualification", s.qualification.unwrap_or_default()),
                ("main_subject", s.main_subject.unwrap_or_default()),
                ("second_subject", s.second_subject.unwrap_or_default()),
                (
                    "periods_per_week",
                    s.periods_per_week.map(|p| p.to_string()).unwrap_or_default(),
                ),
                ("standard_rating", s.standard_rating.unwrap_or_default()),
                ("status", s.status),
                ("phone", s.phone.unwrap_or_default()),
                ("email", s.email.unwrap_or_default()),
            ]
        })
        .collect())
}

/// Classes of one school year.
pub async fn classes<C: ConnectionTrait>(db: &C, school_id: Uuid, year: Uuid) -> Result<Vec<ExportRow>> {
    let codes: HashMap<Uuid, String> = staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.staff_code))
        .collect();
    let yes = |b: bool| if b { "Có" } else { "" }.to_string();
    Ok(class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(year))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            vec![
                ("grade", c.grade.to_string()),
                ("name", c.name),
                (
                    "homeroom_staff_code",
                    c.homeroom_staff_id
                        .and_then(|h| codes.get(&h).cloned())
                        .unwrap_or_default(),
                ),
                ("multigrade", yes(c.multigrade)),
                ("specialist", yes(c.specialist)),
                ("boarding", yes(c.boarding)),
                ("two_sessions", yes(c.two_sessions)),
                ("capacity", c.capacity.map(|n| n.to_string()).unwrap_or_default()),
            ]
        })
        .collect())
}

/// Teaching assignments of one school year.
pub async fn assignments<C: ConnectionTrait>(db: &C, school_id: Uuid, year: Uuid) -> Result<Vec<ExportRow>> {
    let classes: HashMap<Uuid, String> = class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(year))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let codes: HashMap<Uuid, String> = staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.staff_code))
        .collect();
    let ids: Vec<Uuid> = classes.keys().copied().collect();
    let mut out = vec![];
    for chunk in ids.chunks(1000) {
        for a in teaching_assignment::Entity::find()
            .filter(teaching_assignment::Column::ClassId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.push(vec![
                ("staff_code", codes.get(&a.staff_id).cloned().unwrap_or_default()),
                (
                    "subject",
                    truongso_core::classes::subject_name(&a.subject)
                        .unwrap_or(&a.subject)
                        .to_string(),
                ),
                (
                    "class_name",
                    classes.get(&a.class_id).cloned().unwrap_or_default(),
                ),
                ("term", a.term),
            ]);
        }
    }
    out.sort();
    Ok(out)
}

/// Guardians of the school's learners, one row per link.
pub async fn guardians<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Vec<ExportRow>> {
    let learners: HashMap<Uuid, learner::Model> = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school_id))
        .filter(learner::Column::Status.is_in(codes::ON_ROLL))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let ids: Vec<Uuid> = learners.keys().copied().collect();
    let mut out = vec![];
    for chunk in ids.chunks(1000) {
        for (link, g) in learner_guardian::Entity::find()
            .find_also_related(guardian::Entity)
            .filter(learner_guardian::Column::LearnerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let (Some(g), Some(l)) = (g, learners.get(&link.learner_id)) else {
                continue;
            };
            let relation = match link.relation.as_str() {
                "father" => "Cha",
                "mother" => "Mẹ",
                _ => "Người giám hộ",
            };
            out.push(vec![
                ("learner_moet_code", l.moet_code.clone().unwrap_or_default()),
                ("learner_full_name", l.full_name.clone()),
                ("learner_date_of_birth", date(l.date_of_birth)),
                ("relation", relation.to_string()),
                ("full_name", g.full_name),
                ("phone", g.phone.unwrap_or_default()),
                ("email", g.email.unwrap_or_default()),
            ]);
        }
    }
    out.sort();
    Ok(out)
}
