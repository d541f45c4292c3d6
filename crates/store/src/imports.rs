//! Imports of school records from spreadsheet rows (parsed by the `docs` crate). Every row is
//! validated first — field rules, references to classes and staff, duplicates inside the file —
//! and a file with any invalid row writes nothing. Valid files are written in one transaction.
//! Records are matched on their natural keys (mã học sinh, CCCD, or name + date of birth;
//! staff code; class name; teacher × subject × class × term), so importing the same file again
//! changes nothing.

use crate::audit::{self, Change};
use crate::crypto::FieldCipher;
use crate::entity::{class, class_enrolment, guardian, learner, learner_guardian, learner_status, staff};
use crate::people::{CheckedLearner, NewLearner, check_learner, context};
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use truongso_core::DomainError;
use truongso_core::org::OrgKind;
use truongso_core::people::Cccd;
use truongso_core::text;
use truongso_core::users::{parse_email, parse_phone};
use uuid::Uuid;

/// One spreadsheet row: its 1-based row number and its non-empty cells by column key.
#[derive(Debug, Clone)]
pub struct InRow {
    pub number: u32,
    pub cells: Vec<(&'static str, String)>,
}

impl InRow {
    fn get(&self, key: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn owned(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_string)
    }
}

/// Why a row cannot be imported: a field rule, or a reference or duplicate problem named by a
/// catalogue key `error.<code>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Problem {
    Field(#[serde(serialize_with = "ser_domain")] DomainError),
    Code(&'static str),
}

fn ser_domain<S: serde::Serializer>(e: &DomainError, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(e.code())
}

/// A problem at a row and column (by template key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u32,
    pub key: &'static str,
    pub problem: Problem,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
}

/// Either a report, or every row error (nothing written).
pub type Outcome = std::result::Result<ImportReport, Vec<RowError>>;

/// Reports progress as (rows done, rows in all).
pub type Progress<'a> = &'a (dyn Fn(u32, u32) + Send + Sync);

/// At most this many row errors are collected: enough to fix a file, bounded for a hostile one.
pub const MAX_ERRORS: usize = 500;

struct Errors(Vec<RowError>);

impl Errors {
    fn add(&mut self, row: u32, key: &'static str, problem: Problem) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(RowError { row, key, problem });
        }
    }

    /// Maps a store error of one field to the row's column (fields are named like the
    /// template's keys); other errors are real failures.
    fn field(&mut self, row: u32, e: Error) -> Result<()> {
        match e {
            Error::Invalid(fe) => {
                self.add(row, fe.field, Problem::Field(fe.error));
                Ok(())
            }
            other => Err(other),
        }
    }
}

async fn school<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<crate::org::OrgUnit> {
    let s = crate::org::get(db, school_id).await?;
    if s.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    Ok(s)
}

/// The school year the import fills: the one in progress today, else the next one to start.
async fn target_year<C: ConnectionTrait>(db: &C, school_id: Uuid, today: NaiveDate) -> Result<Option<Uuid>> {
    let years = crate::school_years::for_school(db, school_id).await?;
    Ok(years
        .iter()
        .find(|y| y.starts_on <= today && today <= y.ends_on)
        .or_else(|| {
            years
                .iter()
                .filter(|y| y.starts_on > today)
                .min_by_key(|y| y.starts_on)
        })
        .map(|y| y.id))
}

async fn classes_by_name<C: ConnectionTrait>(
    db: &C,
    year: Option<Uuid>,
) -> Result<HashMap<String, class::Model>> {
    let Some(year) = year else {
        return Ok(HashMap::new());
    };
    Ok(class::Entity::find()
        .filter(class::Column::SchoolYearId.eq(year))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (text::fold(&c.name), c))
        .collect())
}

fn chunks<T>(v: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut it = v.into_iter().peekable();
    std::iter::from_fn(move || {
        it.peek()?;
        Some(it.by_ref().take(1000).collect())
    })
}

// ------------------------------------------------------------------------------- learners

struct LearnerPlan {
    row: u32,
    c: CheckedLearner,
    input: NewLearner,
    class_id: Option<Uuid>,
    guardians: Vec<(&'static str, String, Option<String>, Option<String>)>,
    /// Files exported without identity numbers leave the stored ones alone.
    has_cccd_column: bool,
}

/// The snapshot an audit event and the idempotency check compare (CCCD masked).
fn learner_snapshot(c: &CheckedLearner, input: &NewLearner) -> serde_json::Value {
    serde_json::json!({
        "moet_code": c.moet_code,
        "full_name": c.full_name,
        "date_of_birth": c.dob,
        "sex": c.sex.as_str(),
        "cccd": c.cccd.as_ref().map(Cccd::masked),
        "ethnicity": c.ethnicity,
        "religion": input.religion.as_deref().map(text::clean),
        "nationality": input.nationality.as_deref().map(text::clean).unwrap_or_else(|| "Việt Nam".into()),
        "policy_codes": (!c.policy.is_empty()).then(|| c.policy.join(",")),
        "boarding": c.boarding,
        "province_code": c.address.province_code,
        "commune_code": c.address.commune_code,
        "address_line": c.address.line,
    })
}

fn stored_snapshot(m: &learner::Model, cccd_masked: Option<String>) -> serde_json::Value {
    serde_json::json!({
        "moet_code": m.moet_code,
        "full_name": m.full_name,
        "date_of_birth": m.date_of_birth,
        "sex": m.sex,
        "cccd": cccd_masked,
        "ethnicity": m.ethnicity,
        "religion": m.religion,
        "nationality": m.nationality.clone().unwrap_or_else(|| "Việt Nam".into()),
        "policy_codes": m.policy_codes,
        "boarding": m.boarding,
        "province_code": m.province_code,
        "commune_code": m.commune_code,
        "address_line": m.address_line,
    })
}

/// Imports learners with their class and guardians into one school.
#[allow(clippy::too_many_arguments)]
pub async fn learners(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    school_id: Uuid,
    rows: &[InRow],
    today: NaiveDate,
    progress: Progress<'_>,
) -> Result<Outcome> {
    let school = school(db, school_id).await?;
    let year = target_year(db, school.id, today).await?;
    let classes = classes_by_name(db, year).await?;
    let total = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let mut errors = Errors(vec![]);
    let mut plans = vec![];
    let mut seen_code: HashMap<String, u32> = HashMap::new();
    let mut seen_cccd: HashMap<String, u32> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let input = NewLearner {
            school_id: school.id,
            class_id: None,
            moet_code: r.owned("moet_code"),
            full_name: r.owned("full_name").unwrap_or_default(),
            date_of_birth: r.owned("date_of_birth").unwrap_or_default(),
            sex: r.owned("sex").unwrap_or_default(),
            cccd: r.owned("cccd"),
            ethnicity: r.owned("ethnicity"),
            religion: r.owned("religion"),
            nationality: r.owned("nationality"),
            disability_type: r.owned("disability_type"),
            policy_codes: r.owned("policy_codes"),
            boarding: r.owned("boarding"),
            enrolled_on: None,
            province_code: r.owned("province_code"),
            commune_code: r.owned("commune_code"),
            address_line: r.owned("address_line"),
            address_as_of: None,
        };
        let c = match check_learner(&input, today) {
            Ok(c) => c,
            Err(e) => {
                errors.field(r.number, e)?;
                continue;
            }
        };
        if let Some(code) = &c.moet_code
            && seen_code.insert(code.clone(), r.number).is_some()
        {
            errors.add(r.number, "moet_code", Problem::Code("duplicate_in_file"));
        }
        if let Some(id) = &c.cccd
            && seen_cccd.insert(id.as_str().to_string(), r.number).is_some()
        {
            errors.add(r.number, "cccd", Problem::Code("duplicate_in_file"));
        }
        let class_id = match r.get("class_name") {
            None => None,
            Some(name) => match classes.get(&text::fold(name)) {
                Some(c) => Some(c.id),
                None => {
                    errors.add(r.number, "class_name", Problem::Code("unknown_class"));
                    None
                }
            },
        };
        let mut guardians = vec![];
        for (relation, name_key, phone_key, email_key) in [
            ("father", "father_name", "father_phone", None),
            ("mother", "mother_name", "mother_phone", None),
            ("other", "guardian_name", "guardian_phone", Some("guardian_email")),
        ] {
            let Some(name) = r.get(name_key) else {
                if r.get(phone_key).is_some() {
                    errors.add(r.number, name_key, Problem::Field(DomainError::Required));
                }
                continue;
            };
            let name = match text::parse_name(name, 120) {
                Ok(n) => n,
                Err(e) => {
                    errors.add(r.number, name_key, Problem::Field(e));
                    continue;
                }
            };
            let phone = match r.get(phone_key).map(parse_phone).transpose() {
                Ok(p) => p,
                Err(e) => {
                    errors.add(r.number, phone_key, Problem::Field(e));
                    continue;
                }
            };
            let email = match email_key.and_then(|k| r.get(k)).map(parse_email).transpose() {
                Ok(e) => e,
                Err(e) => {
                    errors.add(r.number, "guardian_email", Problem::Field(e));
                    continue;
                }
            };
            guardians.push((relation, name, phone, email));
        }
        plans.push(LearnerPlan {
            row: r.number,
            has_cccd_column: r.cells.iter().any(|(k, _)| *k == "cccd"),
            c,
            input,
            class_id,
            guardians,
        });
        if i % 500 == 0 {
            progress(i as u32 / 2, total);
        }
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }

    // Everything is valid: match against the school's learners and write in one transaction.
    let txn = db.begin().await?;
    let existing = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school.id))
        .all(&txn)
        .await?;
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let mut by_cccd: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<(String, NaiveDate), usize> = HashMap::new();
    for (i, m) in existing.iter().enumerate() {
        if let Some(c) = &m.moet_code {
            by_code.insert(c.clone(), i);
        }
        if let Some(c) = &m.cccd_index {
            by_cccd.insert(c.clone(), i);
        }
        by_name.insert((m.name_folded.clone(), m.date_of_birth), i);
    }
    // A mã học sinh is unique nationally: one held by a learner of another school is an error.
    let codes: Vec<String> = plans.iter().filter_map(|p| p.c.moet_code.clone()).collect();
    let mut foreign = HashSet::new();
    for chunk in chunks(codes) {
        for m in learner::Entity::find()
            .filter(learner::Column::MoetCode.is_in(chunk))
            .filter(learner::Column::SchoolId.ne(school.id))
            .all(&txn)
            .await?
        {
            foreign.insert(m.moet_code.unwrap_or_default());
        }
    }
    if !foreign.is_empty() {
        for p in &plans {
            if p.c.moet_code.as_ref().is_some_and(|c| foreign.contains(c)) {
                errors.add(p.row, "moet_code", Problem::Code("moet_code_elsewhere"));
            }
        }
        return Ok(Err(errors.0));
    }
    let phones: Vec<String> = plans
        .iter()
        .flat_map(|p| p.guardians.iter().filter_map(|g| g.2.clone()))
        .collect();
    let mut guardians_by_key: HashMap<(String, String), Uuid> = HashMap::new();
    for chunk in chunks(phones) {
        for g in guardian::Entity::find()
            .filter(guardian::Column::Phone.is_in(chunk))
            .all(&txn)
            .await?
        {
            guardians_by_key.insert((g.phone.clone().unwrap_or_default(), g.name_folded.clone()), g.id);
        }
    }
    let mut links: HashSet<(Uuid, Uuid)> = HashSet::new();
    // A guardian typed without a phone is recognised among the child's own guardians by name.
    let mut linked_names: HashMap<(Uuid, String), Uuid> = HashMap::new();
    let existing_ids: Vec<Uuid> = existing.iter().map(|m| m.id).collect();
    for chunk in chunks(existing_ids) {
        let pairs = learner_guardian::Entity::find()
            .find_also_related(guardian::Entity)
            .filter(learner_guardian::Column::LearnerId.is_in(chunk))
            .all(&txn)
            .await?;
        for (l, g) in pairs {
            links.insert((l.learner_id, l.guardian_id));
            if let Some(g) = g {
                linked_names.insert((l.learner_id, g.name_folded), g.id);
            }
        }
    }

    let now = crate::now();
    let mut report = ImportReport::default();
    let mut new_learners = vec![];
    let mut new_status = vec![];
    let mut new_enrolments = vec![];
    let mut new_guardians = vec![];
    let mut new_links = vec![];
    let mut events: Vec<Change<'static>> = vec![];
    let mut moves: Vec<(Uuid, Uuid, bool)> = vec![];
    for (i, p) in plans.iter().enumerate() {
        let cccd_index = p.c.cccd.as_ref().map(|x| cipher.blind_index("cccd", x.as_str()));
        let keep_cccd = !p.has_cccd_column;
        let found =
            p.c.moet_code
                .as_ref()
                .and_then(|c| by_code.get(c))
                .or_else(|| cccd_index.as_ref().and_then(|c| by_cccd.get(c)))
                .or_else(|| by_name.get(&(text::fold(&p.c.full_name), p.c.dob)))
                .copied();
        let after = learner_snapshot(&p.c, &p.input);
        let learner_id = match found {
            Some(k) => {
                let m = &existing[k];
                let masked = m
                    .cccd_index
                    .as_ref()
                    .filter(|ix| Some(*ix) == cccd_index.as_ref())
                    .and(p.c.cccd.as_ref().map(Cccd::masked));
                let mut before = stored_snapshot(m, masked);
                let mut after = after.clone();
                if keep_cccd {
                    before["cccd"] = serde_json::Value::Null;
                    after["cccd"] = serde_json::Value::Null;
                }
                if before == after && (keep_cccd || m.cccd_index == cccd_index) {
                    report.unchanged += 1;
                } else {
                    let mut am: learner::ActiveModel = m.clone().into();
                    am.full_name = Set(p.c.full_name.clone());
                    am.name_folded = Set(text::fold(&p.c.full_name));
                    am.date_of_birth = Set(p.c.dob);
                    am.sex = Set(p.c.sex.as_str().into());
                    am.moet_code = Set(p.c.moet_code.clone());
                    if !keep_cccd {
                        am.cccd_enc = Set(p
                            .c
                            .cccd
                            .as_ref()
                            .map(|x| cipher.encrypt(&context("cccd", m.id), x.as_str())));
                        am.cccd_index = Set(cccd_index.clone());
                    }
                    am.ethnicity = Set(p.c.ethnicity.clone());
                    am.religion = Set(p.input.religion.as_deref().map(text::clean));
                    am.nationality = Set(Some(
                        p.input
                            .nationality
                            .as_deref()
                            .map(text::clean)
                            .unwrap_or_else(|| "Việt Nam".into()),
                    ));
                    am.policy_codes = Set((!p.c.policy.is_empty()).then(|| p.c.policy.join(",")));
                    am.boarding = Set(p.c.boarding.clone());
                    am.province_code = Set(p.c.address.province_code.clone());
                    am.commune_code = Set(p.c.address.commune_code.clone());
                    am.address_line = Set(p.c.address.line.clone());
                    am.address_as_of = Set(p.c.address.as_of);
                    am.updated_at = Set(Some(now));
                    am.update(&txn).await?;
                    events.push(
                        Change::new("learner.update", "learner", m.id)
                            .before(before)
                            .after(&after),
                    );
                    report.updated += 1;
                }
                if let Some(c) = p.class_id
                    && m.class_id != Some(c)
                {
                    moves.push((m.id, c, m.class_id.is_some()));
                }
                m.id
            }
            None => {
                let id = crate::new_id();
                new_learners.push(learner::ActiveModel {
                    id: Set(id),
                    school_id: Set(school.id),
                    name_folded: Set(text::fold(&p.c.full_name)),
                    full_name: Set(p.c.full_name.clone()),
                    date_of_birth: Set(p.c.dob),
                    sex: Set(p.c.sex.as_str().into()),
                    class_id: Set(p.class_id),
                    created_at: Set(now),
                    moet_code: Set(p.c.moet_code.clone()),
                    cccd_enc: Set(p
                        .c
                        .cccd
                        .as_ref()
                        .map(|x| cipher.encrypt(&context("cccd", id), x.as_str()))),
                    cccd_index: Set(cccd_index.clone()),
                    ethnicity: Set(p.c.ethnicity.clone()),
                    religion: Set(p.input.religion.as_deref().map(text::clean)),
                    nationality: Set(Some(
                        p.input
                            .nationality
                            .as_deref()
                            .map(text::clean)
                            .unwrap_or_else(|| "Việt Nam".into()),
                    )),
                    disability_enc: Set(p
                        .c
                        .disability
                        .as_ref()
                        .map(|d| cipher.encrypt(&context("disability", id), d))),
                    policy_codes: Set((!p.c.policy.is_empty()).then(|| p.c.policy.join(","))),
                    boarding: Set(p.c.boarding.clone()),
                    province_code: Set(p.c.address.province_code.clone()),
                    commune_code: Set(p.c.address.commune_code.clone()),
                    address_line: Set(p.c.address.line.clone()),
                    address_as_of: Set(p.c.address.as_of),
                    status: Set("01".into()),
                    updated_at: Set(Some(now)),
                });
                new_status.push(learner_status::ActiveModel {
                    id: Set(crate::new_id()),
                    learner_id: Set(id),
                    status: Set("01".into()),
                    on_date: Set(today),
                    reason_code: Set(None),
                    note: Set(None),
                    created_at: Set(now),
                });
                if let Some(c) = p.class_id {
                    new_enrolments.push(class_enrolment::ActiveModel {
                        id: Set(crate::new_id()),
                        learner_id: Set(id),
                        class_id: Set(c),
                        from_date: Set(today),
                        to_date: Set(None),
                        reason: Set("imported".into()),
                        created_at: Set(now),
                    });
                }
                let mut after = after.clone();
                after["class_id"] = serde_json::json!(p.class_id);
                events.push(Change::new("learner.create", "learner", id).after(after));
                report.created += 1;
                id
            }
        };
        for (relation, name, phone, email) in &p.guardians {
            let key = (phone.clone().unwrap_or_default(), text::fold(name));
            let known = linked_names
                .get(&(learner_id, text::fold(name)))
                .or_else(|| phone.as_ref().and(guardians_by_key.get(&key)));
            let gid = match known {
                Some(g) => *g,
                None => {
                    let gid = crate::new_id();
                    new_guardians.push(guardian::ActiveModel {
                        id: Set(gid),
                        full_name: Set(name.clone()),
                        name_folded: Set(text::fold(name)),
                        phone: Set(phone.clone()),
                        email: Set(email.clone()),
                        cccd_enc: Set(None),
                        cccd_index: Set(None),
                        created_at: Set(now),
                        user_id: Set(None),
                    });
                    if phone.is_some() {
                        guardians_by_key.insert(key, gid);
                    }
                    gid
                }
            };
            if links.insert((learner_id, gid)) {
                new_links.push(learner_guardian::ActiveModel {
                    learner_id: Set(learner_id),
                    guardian_id: Set(gid),
                    relation: Set((*relation).into()),
                });
                events.push(Change::new("guardian.link", "learner", learner_id).after(
                    serde_json::json!({ "guardian_id": gid, "relation": relation, "full_name": name }),
                ));
            }
        }
        if i % 500 == 0 {
            progress(total / 2 + i as u32 / 2, total);
        }
    }
    crate::people::remember_names(&txn, plans.iter().map(|p| text::fold(&p.c.full_name))).await?;
    for chunk in chunks(new_learners) {
        learner::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(new_status) {
        learner_status::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(new_enrolments) {
        class_enrolment::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(new_guardians) {
        guardian::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in chunks(new_links) {
        learner_guardian::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    audit::append_many(&txn, actor, events).await?;
    for (learner_id, class_id, had_class) in moves {
        crate::classes::enrol(
            &txn,
            actor,
            learner_id,
            class_id,
            today,
            if had_class { "moved" } else { "imported" },
        )
        .await?;
    }
    txn.commit().await?;
    progress(total, total);
    Ok(Ok(report))
}

// ---------------------------------------------------------------------------------- staff

/// Imports staff records into one school (matched on staff code).
pub async fn staff(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    school_id: Uuid,
    rows: &[InRow],
    today: NaiveDate,
    progress: Progress<'_>,
) -> Result<Outcome> {
    let school = school(db, school_id).await?;
    let mut errors = Errors(vec![]);
    let mut checked = vec![];
    let mut seen = HashSet::new();
    for r in rows {
        let input = crate::staff::NewStaff {
            staff_code: r.owned("staff_code").unwrap_or_default(),
            full_name: r.owned("full_name").unwrap_or_default(),
            date_of_birth: r.owned("date_of_birth").unwrap_or_default(),
            sex: r.owned("sex").unwrap_or_default(),
            cccd: r.owned("cccd"),
            ethnicity: r.owned("ethnicity"),
            staff_group: r.owned("staff_group").unwrap_or_default(),
            position: r.owned("position"),
            contract: r.owned("contract").unwrap_or_default(),
            qualification: r.owned("qualification"),
            main_subject: r.owned("main_subject"),
            second_subject: r.owned("second_subject"),
            periods_per_week: r.owned("periods_per_week"),
            standard_rating: r.owned("standard_rating"),
            status: r.owned("status"),
            phone: r.owned("phone"),
            email: r.owned("email"),
        };
        match crate::staff::check(&input, today) {
            Ok(c) => {
                if !seen.insert(c.staff_code.clone()) {
                    errors.add(r.number, "staff_code", Problem::Code("duplicate_in_file"));
                }
                checked.push(c);
            }
            Err(fe) => errors.add(r.number, fe.field, Problem::Field(fe.error)),
        }
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    let txn = db.begin().await?;
    let mut report = ImportReport::default();
    let total = checked.len() as u32;
    for (i, c) in checked.iter().enumerate() {
        match crate::staff::upsert(&txn, cipher, actor, school.id, c).await?.1 {
            crate::staff::Written::Created => report.created += 1,
            crate::staff::Written::Updated => report.updated += 1,
            crate::staff::Written::Unchanged => report.unchanged += 1,
        }
        progress(i as u32 + 1, total);
    }
    txn.commit().await?;
    Ok(Ok(report))
}

// -------------------------------------------------------------------------------- classes

fn flag(r: &InRow, key: &'static str, errors: &mut Errors) -> bool {
    match r.get(key) {
        None => false,
        Some(v) => match truongso_core::facilities::parse_bool(v) {
            Ok(b) => b,
            Err(e) => {
                errors.add(r.number, key, Problem::Field(e));
                false
            }
        },
    }
}

async fn staff_by_code<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<HashMap<String, Uuid>> {
    Ok(staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.staff_code, s.id))
        .collect())
}

/// Imports the classes of the school's current (or next) year, matched on class name.
pub async fn classes(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    rows: &[InRow],
    today: NaiveDate,
    progress: Progress<'_>,
) -> Result<Outcome> {
    let school = school(db, school_id).await?;
    let Some(year) = target_year(db, school.id, today).await? else {
        return Ok(Err(vec![RowError {
            row: rows.first().map_or(2, |r| r.number),
            key: "name",
            problem: Problem::Code("no_school_year"),
        }]));
    };
    let existing = classes_by_name(db, Some(year)).await?;
    let staff_codes = staff_by_code(db, school.id).await?;
    let levels = school.levels.clone().unwrap_or_default();
    let mut errors = Errors(vec![]);
    let mut plans = vec![];
    let mut seen = HashSet::new();
    for r in rows {
        let homeroom = match r.get("homeroom_staff_code") {
            None => None,
            Some(code) => match staff_codes.get(&code.to_ascii_uppercase()) {
                Some(id) => Some(*id),
                None => {
                    errors.add(r.number, "homeroom_staff_code", Problem::Code("unknown_staff"));
                    None
                }
            },
        };
        let input = crate::classes::ClassInput {
            grade: r.owned("grade").unwrap_or_default(),
            name: r.owned("name").unwrap_or_default(),
            homeroom_staff_id: homeroom,
            multigrade: flag(r, "multigrade", &mut errors),
            specialist: flag(r, "specialist", &mut errors),
            boarding: flag(r, "boarding", &mut errors),
            two_sessions: flag(r, "two_sessions", &mut errors),
            capacity: r.owned("capacity"),
        };
        if let Err(e) = truongso_core::classes::parse_grade(&input.grade, &levels) {
            errors.add(r.number, "grade", Problem::Field(e));
        }
        match truongso_core::classes::parse_class_name(&input.name) {
            Ok(n) if !seen.insert(text::fold(&n)) => {
                errors.add(r.number, "name", Problem::Code("duplicate_in_file"))
            }
            Ok(_) => {}
            Err(e) => errors.add(r.number, "name", Problem::Field(e)),
        }
        plans.push((r.number, input));
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    let txn = db.begin().await?;
    let mut report = ImportReport::default();
    let total = plans.len() as u32;
    for (i, (row, input)) in plans.into_iter().enumerate() {
        let result = match existing.get(&text::fold(&input.name)) {
            Some(m) => {
                let same = m.grade.to_string()
                    == input
                        .grade
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect::<String>()
                    && m.homeroom_staff_id == input.homeroom_staff_id
                    && (m.multigrade, m.specialist, m.boarding, m.two_sessions)
                        == (
                            input.multigrade,
                            input.specialist,
                            input.boarding,
                            input.two_sessions,
                        )
                    && m.capacity.map(|c| c.to_string())
                        == input.capacity.as_deref().map(|c| c.trim().to_string());
                if same {
                    report.unchanged += 1;
                    Ok(())
                } else {
                    report.updated += 1;
                    crate::classes::update(&txn, actor, m.id, input).await.map(|_| ())
                }
            }
            None => {
                report.created += 1;
                crate::classes::create(&txn, actor, year, input).await.map(|_| ())
            }
        };
        if let Err(e) = result {
            errors.field(row, e)?;
        }
        progress(i as u32 + 1, total);
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    txn.commit().await?;
    Ok(Ok(report))
}

// ---------------------------------------------------------------------------- assignments

/// Imports teaching assignments (teacher × subject × class × term) of the current year.
pub async fn assignments(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    rows: &[InRow],
    today: NaiveDate,
    progress: Progress<'_>,
) -> Result<Outcome> {
    let school = school(db, school_id).await?;
    let year = target_year(db, school.id, today).await?;
    let classes = classes_by_name(db, year).await?;
    let staff_codes = staff_by_code(db, school.id).await?;
    let mut errors = Errors(vec![]);
    let mut plans = vec![];
    for r in rows {
        let staff_id = r
            .get("staff_code")
            .and_then(|c| staff_codes.get(&c.to_ascii_uppercase()));
        if staff_id.is_none() {
            errors.add(r.number, "staff_code", Problem::Code("unknown_staff"));
        }
        let class = r.get("class_name").and_then(|n| classes.get(&text::fold(n)));
        if class.is_none() {
            errors.add(r.number, "class_name", Problem::Code("unknown_class"));
        }
        let subject = truongso_core::classes::parse_subject(r.get("subject").unwrap_or_default());
        if let Err(e) = &subject {
            errors.add(r.number, "subject", Problem::Field(e.clone()));
        }
        let term = truongso_core::classes::AssignmentTerm::parse(r.get("term").unwrap_or_default());
        if let Err(e) = &term {
            errors.add(r.number, "term", Problem::Field(e.clone()));
        }
        if let (Some(s), Some(c), Ok(subject), Ok(term)) = (staff_id, class, subject, term) {
            plans.push((r.number, *s, c.id, subject, term));
        }
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    let txn = db.begin().await?;
    let mut report = ImportReport::default();
    let total = plans.len() as u32;
    for (i, (row, staff_id, class_id, subject, term)) in plans.into_iter().enumerate() {
        match crate::staff::assign_in(&txn, actor, class_id, staff_id, subject, term.as_str()).await {
            Ok((_, true)) => report.created += 1,
            Ok((_, false)) => report.unchanged += 1,
            Err(Error::Conflict(m)) if m.code == "subject_already_assigned" => {
                errors.add(row, "subject", Problem::Code("subject_already_assigned"))
            }
            Err(e) => errors.field(row, e)?,
        }
        progress(i as u32 + 1, total);
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    txn.commit().await?;
    Ok(Ok(report))
}

// ------------------------------------------------------------------------------ guardians

/// Imports guardians of learners already in the school (found by mã học sinh, or by name and
/// date of birth).
pub async fn guardians(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    school_id: Uuid,
    rows: &[InRow],
    progress: Progress<'_>,
) -> Result<Outcome> {
    let school = school(db, school_id).await?;
    let learners = learner::Entity::find()
        .filter(learner::Column::SchoolId.eq(school.id))
        .all(db)
        .await?;
    // Looked up once per row: keyed, not searched.
    let by_code: HashMap<&str, &learner::Model> = learners
        .iter()
        .filter_map(|l| l.moet_code.as_deref().map(|c| (c, l)))
        .collect();
    let by_name: HashMap<(&str, NaiveDate), &learner::Model> = learners
        .iter()
        .map(|l| ((l.name_folded.as_str(), l.date_of_birth), l))
        .collect();
    let mut errors = Errors(vec![]);
    let mut plans = vec![];
    for r in rows {
        let found = match r.get("learner_moet_code") {
            Some(code) => by_code.get(code.to_ascii_uppercase().as_str()).copied(),
            None => {
                let name = r.get("learner_full_name").map(text::fold);
                let dob = r.get("learner_date_of_birth").map(truongso_core::org::parse_date);
                match (name, dob) {
                    (Some(n), Some(Ok(d))) => by_name.get(&(n.as_str(), d)).copied(),
                    (_, Some(Err(e))) => {
                        errors.add(r.number, "learner_date_of_birth", Problem::Field(e));
                        continue;
                    }
                    _ => None,
                }
            }
        };
        let Some(l) = found else {
            errors.add(r.number, "learner_moet_code", Problem::Code("unknown_learner"));
            continue;
        };
        let relation = r
            .get("relation")
            .map(truongso_core::people::parse_relation)
            .unwrap_or(Err(DomainError::Required));
        let relation = match relation {
            Ok(v) => v,
            Err(e) => {
                errors.add(r.number, "relation", Problem::Field(e));
                continue;
            }
        };
        let g = crate::people::NewGuardian {
            full_name: r.owned("full_name").unwrap_or_default(),
            phone: r.owned("phone"),
            email: r.owned("email"),
            cccd: r.owned("cccd"),
        };
        if let Err(e) = crate::people::check_guardian(&g) {
            errors.field(r.number, e)?;
            continue;
        }
        plans.push((l.id, relation, g));
    }
    if !errors.0.is_empty() {
        return Ok(Err(errors.0));
    }
    let txn = db.begin().await?;
    let mut report = ImportReport::default();
    let total = plans.len() as u32;
    for (i, (learner_id, relation, g)) in plans.into_iter().enumerate() {
        if crate::people::link_guardian_in(&txn, cipher, actor, learner_id, relation, g)
            .await?
            .1
        {
            report.created += 1;
        } else {
            report.unchanged += 1;
        }
        progress(i as u32 + 1, total);
    }
    txn.commit().await?;
    Ok(Ok(report))
}
