//! School health records: check-ups, vaccinations and conditions to watch. Every payload is
//! encrypted at rest (`health_entries.data_enc`, AES-GCM bound to `health_entries.data:{id}`);
//! only the entry kind and its date are stored in the clear. Audit events record the entry id,
//! its kind and date, never a value, and nothing here logs a payload.

use crate::audit::{self, Change};
use crate::crypto::FieldCipher;
use crate::entity::{health_entry, learner};
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use truongso_core::DomainError;
use truongso_core::codes;
use truongso_core::error::{FieldError, OnField};
use truongso_core::health::{
    BmiCategory, Checkup, CheckupInput, HealthCondition, HealthPolicy, bmi_tenths, parse_vaccine_list,
    vision_flag,
};
use truongso_core::people::Sex;
use uuid::Uuid;

/// `health_entries.kind` of a check-up.
pub const CHECKUP: &str = "checkup";
/// `health_entries.kind` of a vaccination.
pub const VACCINATION: &str = "vaccination";
/// `health_entries.kind` of a condition to watch.
pub const CONDITION: &str = "condition";

/// The encrypted payload of a vaccination entry (its date is the row's `on_date`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct VaccinationData {
    name: String,
}

/// The associated data binding a payload to its row.
fn context(id: Uuid) -> String {
    format!("health_entries.data:{id}")
}

/// BMI-for-age of a check-up (WHO references).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BmiView {
    pub age_months: u32,
    pub bmi_tenths: u32,
    /// The z-score in hundredths; the category is decided on the unrounded value.
    pub z_hundredths: i32,
    /// A `BmiCategory` code: `severe_thinness`, `thinness`, `normal`, `overweight`, `obesity`.
    pub category: String,
}

/// A decrypted check-up with what is derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckupView {
    pub id: Uuid,
    pub date: NaiveDate,
    /// A `CheckupKind` code: `start_of_year`, `periodic`, `ad_hoc`.
    pub kind: String,
    pub height_mm: Option<u16>,
    /// Tenths of a kilogram.
    pub weight_hg: Option<u16>,
    /// BMI in tenths when both height and weight were measured, whatever the age.
    pub bmi_tenths: Option<u32>,
    /// BMI-for-age, when measured and the learner is 0–19 years old at the check-up.
    pub bmi_for_age: Option<BmiView>,
    /// Visual acuity in tenths (8 = 8/10).
    pub vision_right: Option<u8>,
    pub vision_left: Option<u8>,
    /// An eye below the policy threshold: refer to an eye specialist.
    pub vision_flag: bool,
    /// A `DentalStatus` code: `healthy`, `caries`, `other`.
    pub dental: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VaccinationView {
    pub id: Uuid,
    pub date: NaiveDate,
    /// Normalised name (common vaccines under one spelling).
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConditionView {
    pub id: Uuid,
    /// The day it was recorded.
    pub recorded_on: NaiveDate,
    /// A `ConditionKind` code: `allergy`, `chronic`, `medication`.
    pub kind: String,
    pub detail: String,
}

/// A learner's health record, decrypted; each list newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HealthRecord {
    pub learner_id: Uuid,
    pub checkups: Vec<CheckupView>,
    pub vaccinations: Vec<VaccinationView>,
    pub conditions: Vec<ConditionView>,
}

/// Learners of one BMI-for-age category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    /// A `BmiCategory` code.
    pub category: String,
    pub learners: u64,
}

/// The nutrition picture of a school: each on-roll learner counted once, by the BMI-for-age of
/// their latest check-up that measured both height and weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NutritionSummary {
    pub school_id: Uuid,
    /// Learners in a class with an on-roll status.
    pub learners_on_roll: u64,
    /// Of those, learners with a measured check-up.
    pub measured: u64,
    /// Measured, but outside the WHO references' ages (over 19 years).
    pub unclassified: u64,
    /// Every category in order from severe thinness to obesity, zeros included.
    pub categories: Vec<CategoryCount>,
}

impl NutritionSummary {
    /// Learners in one category.
    pub fn count(&self, category: BmiCategory) -> u64 {
        self.categories
            .iter()
            .find(|c| c.category == category.code())
            .map_or(0, |c| c.learners)
    }
}

/// (date of birth, sex) of a learner.
async fn learner_facts<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<(NaiveDate, Sex)> {
    let (dob, sex): (NaiveDate, String) = learner::Entity::find_by_id(learner_id)
        .select_only()
        .column(learner::Column::DateOfBirth)
        .column(learner::Column::Sex)
        .into_tuple()
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let sex = Sex::parse(&sex).map_err(|_| Error::Internal(format!("learner {learner_id}: bad sex")))?;
    Ok((dob, sex))
}

/// Inserts one encrypted entry and its audit event (kind and date only).
async fn insert_entry<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    kind: &'static str,
    on_date: NaiveDate,
    payload: &str,
) -> Result<Uuid> {
    let id = crate::new_id();
    health_entry::ActiveModel {
        id: Set(id),
        learner_id: Set(learner_id),
        kind: Set(kind.into()),
        on_date: Set(on_date),
        data_enc: Set(cipher.encrypt(&context(id), payload)),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    audit::append(
        db,
        actor,
        Change::new("health.add", "health_entry", id)
            .after(serde_json::json!({ "kind": kind, "on_date": on_date })),
    )
    .await?;
    Ok(id)
}

/// A date typed for a vaccination: not before birth, not after today
/// (`date_range_reversed` on `date`, as for check-ups).
fn parse_entry_date(
    input: &str,
    dob: NaiveDate,
    today: NaiveDate,
) -> std::result::Result<NaiveDate, FieldError> {
    if input.trim().is_empty() {
        return Err(FieldError::new("date", DomainError::Required));
    }
    let date = truongso_core::org::parse_date(input).on("date")?;
    if date < dob || date > today {
        return Err(FieldError::new("date", DomainError::DateRangeReversed));
    }
    Ok(date)
}

/// Records a check-up, validated against the learner's date of birth (field errors name the
/// `CheckupInput` field: `kind`, `date`, `height_cm`, `weight_kg`, `vision_right`,
/// `vision_left`, `dental`, `notes`).
pub async fn add_checkup(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    input: &CheckupInput,
    today: NaiveDate,
) -> Result<Uuid> {
    let txn = db.begin().await?;
    let (dob, _) = learner_facts(&txn, learner_id).await?;
    let checkup = Checkup::parse(input, dob, today)?;
    let payload = serde_json::to_string(&checkup).map_err(|e| Error::Internal(e.to_string()))?;
    let id = insert_entry(&txn, cipher, actor, learner_id, CHECKUP, checkup.date, &payload).await?;
    txn.commit().await?;
    Ok(id)
}

/// Records vaccinations given on one day. `names` may list several vaccines separated by `;`,
/// `,` or new lines (one entry each, duplicates dropped); errors are on `name` and `date`.
/// Returns the new entries' ids in the order typed.
pub async fn add_vaccination(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    names: &str,
    on_date: &str,
    today: NaiveDate,
) -> Result<Vec<Uuid>> {
    let vaccines = parse_vaccine_list(names).on("name")?;
    if vaccines.is_empty() {
        return Err(Error::invalid("name", DomainError::Required));
    }
    let txn = db.begin().await?;
    let (dob, _) = learner_facts(&txn, learner_id).await?;
    let date = parse_entry_date(on_date, dob, today)?;
    let mut ids = Vec::with_capacity(vaccines.len());
    for v in vaccines {
        let payload = serde_json::to_string(&VaccinationData {
            name: v.as_str().to_string(),
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        ids.push(insert_entry(&txn, cipher, actor, learner_id, VACCINATION, date, &payload).await?);
    }
    txn.commit().await?;
    Ok(ids)
}

/// Records a condition to watch (`kind`: allergy, chronic, medication — code or label;
/// `detail`: free text), dated `today`.
pub async fn add_condition(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    kind: &str,
    detail: &str,
    today: NaiveDate,
) -> Result<Uuid> {
    let condition = HealthCondition::parse(kind, detail)?;
    let payload = serde_json::to_string(&condition).map_err(|e| Error::Internal(e.to_string()))?;
    let txn = db.begin().await?;
    learner_facts(&txn, learner_id).await?;
    let id = insert_entry(&txn, cipher, actor, learner_id, CONDITION, today, &payload).await?;
    txn.commit().await?;
    Ok(id)
}

/// Deletes one entry; the audit event keeps its kind and date only.
pub async fn delete_entry(db: &DatabaseConnection, actor: &ActorRef, id: Uuid) -> Result<()> {
    let txn = db.begin().await?;
    let m = health_entry::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_health_entry"))?;
    health_entry::Entity::delete_by_id(id).exec(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("health.delete", "health_entry", id)
            .before(serde_json::json!({ "kind": m.kind, "on_date": m.on_date })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn decrypt<T: serde::de::DeserializeOwned>(cipher: &FieldCipher, id: Uuid, stored: &str) -> Result<T> {
    let plain = cipher
        .decrypt(&context(id), stored)
        .map_err(|e| Error::Internal(format!("health entry {id}: {e}")))?;
    // The serde error could quote the payload: report only where it failed.
    serde_json::from_str(&plain).map_err(|_| Error::Internal(format!("health entry {id}: bad payload")))
}

fn checkup_view(id: Uuid, c: Checkup, sex: Sex, dob: NaiveDate, policy: &HealthPolicy) -> CheckupView {
    CheckupView {
        id,
        date: c.date,
        kind: c.kind.code().into(),
        height_mm: c.height.map(|h| h.mm()),
        weight_hg: c.weight.map(|w| w.tenths_kg()),
        bmi_tenths: c.height.zip(c.weight).map(|(h, w)| bmi_tenths(h, w)),
        bmi_for_age: c.bmi_for_age(sex, dob).map(|b| BmiView {
            age_months: b.age_months,
            bmi_tenths: b.bmi_tenths,
            z_hundredths: b.z_hundredths,
            category: b.category.code().into(),
        }),
        vision_right: c.vision.right.map(|v| v.tenths()),
        vision_left: c.vision.left.map(|v| v.tenths()),
        vision_flag: vision_flag(&c.vision, policy),
        dental: c.dental.map(|d| d.code().into()),
        notes: c.notes,
    }
}

/// A learner's decrypted record with BMI-for-age (by the learner's sex and date of birth) and
/// the vision flag of `policy`. Entries of a kind this version does not know are skipped.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    learner_id: Uuid,
    policy: &HealthPolicy,
) -> Result<HealthRecord> {
    let (dob, sex) = learner_facts(db, learner_id).await?;
    let entries = health_entry::Entity::find()
        .filter(health_entry::Column::LearnerId.eq(learner_id))
        .order_by_desc(health_entry::Column::OnDate)
        .order_by_desc(health_entry::Column::CreatedAt)
        .order_by_desc(health_entry::Column::Id)
        .all(db)
        .await?;
    let mut out = HealthRecord {
        learner_id,
        checkups: vec![],
        vaccinations: vec![],
        conditions: vec![],
    };
    for e in entries {
        match e.kind.as_str() {
            CHECKUP => {
                let c: Checkup = decrypt(cipher, e.id, &e.data_enc)?;
                out.checkups.push(checkup_view(e.id, c, sex, dob, policy));
            }
            VACCINATION => {
                let v: VaccinationData = decrypt(cipher, e.id, &e.data_enc)?;
                out.vaccinations.push(VaccinationView {
                    id: e.id,
                    date: e.on_date,
                    name: v.name,
                });
            }
            CONDITION => {
                let c: HealthCondition = decrypt(cipher, e.id, &e.data_enc)?;
                out.conditions.push(ConditionView {
                    id: e.id,
                    recorded_on: e.on_date,
                    kind: c.kind.code().into(),
                    detail: c.detail,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Counts a school's on-roll learners by the BMI-for-age category of their latest check-up with
/// height and weight. Two queries (learners, then their check-ups through a subquery) and one
/// decryption pass that stops at each learner's first measured check-up.
pub async fn nutrition_summary<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    school_id: Uuid,
) -> Result<NutritionSummary> {
    let on_roll = || {
        learner::Entity::find()
            .filter(learner::Column::SchoolId.eq(school_id))
            .filter(learner::Column::ClassId.is_not_null())
            .filter(learner::Column::Status.is_in(codes::ON_ROLL))
    };
    let learners: std::collections::HashMap<Uuid, (NaiveDate, String)> = on_roll()
        .select_only()
        .column(learner::Column::Id)
        .column(learner::Column::DateOfBirth)
        .column(learner::Column::Sex)
        .into_tuple::<(Uuid, NaiveDate, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, dob, sex)| (id, (dob, sex)))
        .collect();
    let entries: Vec<(Uuid, Uuid, String)> = checkups_newest_first()
        .filter(
            health_entry::Column::LearnerId
                .in_subquery(on_roll().select_only().column(learner::Column::Id).into_query()),
        )
        .into_tuple()
        .all(db)
        .await?;
    let latest = latest_measured(cipher, entries, &learners)?;
    let mut counts = vec![0u64; BmiCategory::ALL.len()];
    let measured = latest.len() as u64;
    let mut unclassified = 0u64;
    for category in latest.values() {
        match category {
            Some(b) => {
                let k = BmiCategory::ALL
                    .iter()
                    .position(|x| x == b)
                    .expect("a category of the list");
                counts[k] += 1;
            }
            None => unclassified += 1,
        }
    }
    Ok(NutritionSummary {
        school_id,
        learners_on_roll: learners.len() as u64,
        measured,
        unclassified,
        categories: BmiCategory::ALL
            .iter()
            .zip(counts)
            .map(|(c, n)| CategoryCount {
                category: c.code().into(),
                learners: n,
            })
            .collect(),
    })
}

/// Check-ups as `(entry id, learner id, stored data)`, by learner and newest first (what
/// [`latest_measured`] walks).
fn checkups_newest_first() -> sea_orm::Select<health_entry::Entity> {
    health_entry::Entity::find()
        .select_only()
        .column(health_entry::Column::Id)
        .column(health_entry::Column::LearnerId)
        .column(health_entry::Column::DataEnc)
        .filter(health_entry::Column::Kind.eq(CHECKUP))
        .order_by_asc(health_entry::Column::LearnerId)
        .order_by_desc(health_entry::Column::OnDate)
        .order_by_desc(health_entry::Column::CreatedAt)
        .order_by_desc(health_entry::Column::Id)
}

/// Walks check-ups `(entry id, learner id, stored data)` ordered by learner and newest first,
/// and keeps for each learner of `learners` (date of birth, sex) the first that measured both
/// height and weight: its BMI-for-age category, `None` past the WHO references' ages. One
/// decryption per check-up until a learner's measured one.
fn latest_measured(
    cipher: &FieldCipher,
    entries: Vec<(Uuid, Uuid, String)>,
    learners: &std::collections::HashMap<Uuid, (NaiveDate, String)>,
) -> Result<std::collections::HashMap<Uuid, Option<BmiCategory>>> {
    let mut out = std::collections::HashMap::new();
    for (id, learner_id, data) in entries {
        if out.contains_key(&learner_id) {
            continue;
        }
        let Some((dob, sex)) = learners.get(&learner_id) else {
            continue;
        };
        let c: Checkup = decrypt(cipher, id, &data)?;
        if c.height.is_none() || c.weight.is_none() {
            continue;
        }
        let sex = Sex::parse(sex).map_err(|_| Error::Internal(format!("learner {learner_id}: bad sex")))?;
        out.insert(learner_id, c.bmi_for_age(sex, *dob).map(|b| b.category));
    }
    Ok(out)
}

/// The BMI-for-age category of each of `learners` (id → date of birth, sex) from their latest
/// check-up on or before `on` that measured height and weight (statistics as at a reference
/// date); learners never measured are absent.
pub async fn bmi_as_at<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    learners: &std::collections::HashMap<Uuid, (NaiveDate, String)>,
    on: NaiveDate,
) -> Result<std::collections::HashMap<Uuid, Option<BmiCategory>>> {
    let ids: Vec<Uuid> = learners.keys().copied().collect();
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(1000) {
        let entries: Vec<(Uuid, Uuid, String)> = checkups_newest_first()
            .filter(health_entry::Column::LearnerId.is_in(chunk.to_vec()))
            .filter(health_entry::Column::OnDate.lte(on))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(latest_measured(cipher, entries, learners)?);
    }
    Ok(out)
}
