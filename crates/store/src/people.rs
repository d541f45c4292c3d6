//! Learners and guardians. Identity numbers and disability are encrypted at rest (see
//! `crypto`); the audit chain records them masked. Searches fold Vietnamese diacritics, so
//! "nguyen van an" finds "Nguyễn Văn An" on both databases.

use crate::audit::{self, Change};
use crate::crypto::FieldCipher;
use crate::entity::{guardian, learner, learner_guardian, learner_name, learner_status};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use truongso_core::DomainError;
use truongso_core::codes;
use truongso_core::error::OnField;
use truongso_core::org::{OrgKind, OrgPath};
use truongso_core::people::{Cccd, Sex};
use truongso_core::text;
use truongso_core::users::parse_phone;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnerRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub full_name: String,
    pub class_id: Option<Uuid>,
}

impl From<learner::Model> for LearnerRow {
    fn from(l: learner::Model) -> Self {
        Self {
            id: l.id,
            school_id: l.school_id,
            full_name: l.full_name,
            class_id: l.class_id,
        }
    }
}

/// A learner as shown to those allowed to see the record; sensitive fields decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Learner {
    pub id: Uuid,
    pub school_id: Uuid,
    pub class_id: Option<Uuid>,
    pub moet_code: Option<String>,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub cccd: Option<String>,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub nationality: Option<String>,
    pub disability_type: Option<String>,
    pub policy_codes: Vec<String>,
    pub boarding: Option<String>,
    pub status: String,
}

/// Input for a learner, as typed or imported; every field is validated.
#[derive(Debug, Clone, Default)]
pub struct NewLearner {
    pub school_id: Uuid,
    pub class_id: Option<Uuid>,
    pub moet_code: Option<String>,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub cccd: Option<String>,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub nationality: Option<String>,
    pub disability_type: Option<String>,
    /// Policy-beneficiary codes (DM_DIEN_CHINH_SACH), comma-separated.
    pub policy_codes: Option<String>,
    /// Semi-boarding code (DM_HOC_BAN_TRU).
    pub boarding: Option<String>,
    pub enrolled_on: Option<NaiveDate>,
    /// Permanent address: province (two digits, checked against the list in force on
    /// `address_as_of`), commune (five digits) and the rest as text.
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub address_line: Option<String>,
    /// When the address was recorded (`dd/mm/yyyy`); default today.
    pub address_as_of: Option<String>,
}

/// An address with the date its administrative codes refer to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub line: Option<String>,
    pub as_of: Option<NaiveDate>,
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Everything a learner row needs, checked; the CCCD must agree with birth date and sex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLearner {
    pub full_name: String,
    pub dob: NaiveDate,
    pub sex: Sex,
    pub cccd: Option<Cccd>,
    pub moet_code: Option<String>,
    pub ethnicity: Option<String>,
    pub disability: Option<String>,
    pub policy: Vec<String>,
    pub boarding: Option<String>,
    pub address: Address,
}

/// Validates a learner as typed or imported (pure: no database), first failing field first.
pub fn check_learner(input: &NewLearner, today: NaiveDate) -> Result<CheckedLearner> {
    let full_name = text::parse_name(&input.full_name, 120).on("full_name")?;
    let dob = truongso_core::org::parse_date(&input.date_of_birth).on("date_of_birth")?;
    if dob > today || dob < NaiveDate::from_ymd_opt(1900, 1, 1).expect("constant date") {
        return Err(Error::invalid("date_of_birth", DomainError::InvalidDate));
    }
    let sex = Sex::parse(&input.sex).on("sex")?;
    let cccd = opt(&input.cccd).map(Cccd::parse).transpose().on("cccd")?;
    if let Some(id) = &cccd
        && let Some(problem) = id.check_against(dob, sex, today).into_iter().next()
    {
        return Err(Error::invalid("cccd", problem));
    }
    let moet_code = opt(&input.moet_code)
        .map(|c| {
            if c.len() <= 30 && c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err(DomainError::InvalidCharacters)
            }
        })
        .transpose()
        .on("moet_code")?;
    let ethnicity = opt(&input.ethnicity)
        .map(|e| codes::DAN_TOC.parse(e))
        .transpose()
        .on("ethnicity")?;
    let disability = opt(&input.disability_type)
        .map(|e| codes::LOAI_KHUYET_TAT.parse(e))
        .transpose()
        .on("disability_type")?;
    let policy = opt(&input.policy_codes)
        .map(|p| {
            p.split([',', ';'])
                .filter(|c| !c.trim().is_empty())
                .map(|c| codes::DIEN_CHINH_SACH.parse(c).map(str::to_string))
                .collect::<std::result::Result<Vec<_>, _>>()
        })
        .transpose()
        .on("policy_codes")?
        .unwrap_or_default();
    let boarding = opt(&input.boarding)
        .map(|b| codes::HOC_BAN_TRU.parse(b))
        .transpose()
        .on("boarding")?;
    let address = if opt(&input.province_code).is_some()
        || opt(&input.commune_code).is_some()
        || opt(&input.address_line).is_some()
    {
        let as_of = opt(&input.address_as_of)
            .map(truongso_core::org::parse_date)
            .transpose()
            .on("address_as_of")?
            .unwrap_or(today);
        Address {
            province_code: opt(&input.province_code)
                .map(|p| truongso_core::admin_units::parse_province(p, as_of))
                .transpose()
                .on("province_code")?,
            commune_code: opt(&input.commune_code)
                .map(truongso_core::admin_units::parse_commune)
                .transpose()
                .on("commune_code")?,
            line: opt(&input.address_line)
                .map(|l| text::parse_name(l, 200))
                .transpose()
                .on("address_line")?,
            as_of: Some(as_of),
        }
    } else {
        Address::default()
    };
    Ok(CheckedLearner {
        address,
        full_name,
        dob,
        sex,
        cccd,
        moet_code,
        ethnicity: ethnicity.map(Into::into),
        disability: disability.map(Into::into),
        policy,
        boarding: boarding.map(Into::into),
    })
}

pub(crate) fn context(column: &str, id: Uuid) -> String {
    format!("learners.{column}:{id}")
}

/// Creates a learner with an "enrolled" status entry. The audit event carries the CCCD masked.
pub async fn create_learner(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    input: NewLearner,
    today: NaiveDate,
) -> Result<Learner> {
    let c = check_learner(&input, today)?;
    let txn = db.begin().await?;
    let school = crate::org::get(&txn, input.school_id).await?;
    if school.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    if let Some(code) = &c.moet_code {
        let taken = learner::Entity::find()
            .filter(learner::Column::MoetCode.eq(code.as_str()))
            .count(&txn)
            .await?;
        if taken > 0 {
            return Err(Error::Conflict(
                Msg::new("duplicate_moet_code").with("code", code),
            ));
        }
    }
    let id = crate::new_id();
    let now = crate::now();
    learner::ActiveModel {
        id: Set(id),
        school_id: Set(school.id),
        name_folded: Set(text::fold(&c.full_name)),
        full_name: Set(c.full_name.clone()),
        date_of_birth: Set(c.dob),
        sex: Set(c.sex.as_str().into()),
        class_id: Set(input.class_id),
        created_at: Set(now),
        moet_code: Set(c.moet_code.clone()),
        cccd_enc: Set(c
            .cccd
            .as_ref()
            .map(|x| cipher.encrypt(&context("cccd", id), x.as_str()))),
        cccd_index: Set(c.cccd.as_ref().map(|x| cipher.blind_index("cccd", x.as_str()))),
        ethnicity: Set(c.ethnicity.clone()),
        religion: Set(opt(&input.religion).map(text::clean)),
        nationality: Set(Some(
            opt(&input.nationality)
                .map(text::clean)
                .unwrap_or_else(|| "Việt Nam".into()),
        )),
        disability_enc: Set(c
            .disability
            .as_ref()
            .map(|d| cipher.encrypt(&context("disability", id), d))),
        policy_codes: Set((!c.policy.is_empty()).then(|| c.policy.join(","))),
        boarding: Set(c.boarding.clone()),
        province_code: Set(c.address.province_code.clone()),
        commune_code: Set(c.address.commune_code.clone()),
        address_line: Set(c.address.line.clone()),
        address_as_of: Set(c.address.as_of),
        status: Set("01".into()),
        updated_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    remember_names(&txn, [text::fold(&c.full_name)]).await?;
    learner_status::ActiveModel {
        id: Set(crate::new_id()),
        learner_id: Set(id),
        status: Set("01".into()),
        on_date: Set(input.enrolled_on.unwrap_or(today)),
        reason_code: Set(None),
        note: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let after = serde_json::json!({
        "school_id": school.id,
        "full_name": c.full_name,
        "date_of_birth": c.dob,
        "sex": c.sex.as_str(),
        "moet_code": c.moet_code,
        "cccd": c.cccd.as_ref().map(Cccd::masked),
        "ethnicity": c.ethnicity,
    });
    audit::append(
        &txn,
        actor,
        Change::new("learner.create", "learner", id).after(after),
    )
    .await?;
    txn.commit().await?;
    get_learner(db, cipher, id).await
}

pub async fn get_learner<C: ConnectionTrait>(db: &C, cipher: &FieldCipher, id: Uuid) -> Result<Learner> {
    let m = learner::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let decrypt = |col: &str, v: &Option<String>| -> Result<Option<String>> {
        v.as_ref()
            .map(|s| {
                cipher
                    .decrypt(&context(col, m.id), s)
                    .map_err(|e| Error::Internal(e.to_string()))
            })
            .transpose()
    };
    Ok(Learner {
        cccd: decrypt("cccd", &m.cccd_enc)?,
        disability_type: decrypt("disability", &m.disability_enc)?,
        id: m.id,
        school_id: m.school_id,
        class_id: m.class_id,
        moet_code: m.moet_code,
        full_name: m.full_name,
        date_of_birth: m.date_of_birth,
        sex: Sex::parse(&m.sex).map_err(|_| Error::Internal(format!("bad sex {}", m.sex)))?,
        ethnicity: m.ethnicity,
        religion: m.religion,
        nationality: m.nationality,
        policy_codes: m
            .policy_codes
            .map(|p| p.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        boarding: m.boarding,
        status: m.status,
    })
}

/// Learners whose (folded) name contains the folded query, in schools inside `within`, by name.
/// The matching names come from the table of distinct names; learners are then read a few names
/// at a time in name order (one name, then two, four…) until `limit` are found, so a common
/// name and a province-wide scope cost a handful of index lookups, not a scan.
pub async fn search_learners<C: ConnectionTrait>(
    db: &C,
    within: &[OrgPath],
    query: &str,
    limit: u64,
) -> Result<Vec<LearnerRow>> {
    let folded = text::fold(query);
    if within.is_empty() || folded.is_empty() {
        return Ok(vec![]);
    }
    let names: Vec<String> = learner_name::Entity::find()
        .select_only()
        .column(learner_name::Column::NameFolded)
        .filter(learner_name::Column::NameFolded.contains(&folded))
        .order_by_asc(learner_name::Column::NameFolded)
        .limit(10_000)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Vec<LearnerRow> = vec![];
    let (mut next, mut batch) = (0usize, 1usize);
    while next < names.len() && (out.len() as u64) < limit {
        let chunk = &names[next..(next + batch).min(names.len())];
        let rows = learner::Entity::find()
            .filter(learner::Column::NameFolded.is_in(chunk.to_vec()))
            .filter(learner::Column::SchoolId.in_subquery(crate::org::ids_within(within)))
            .order_by_asc(learner::Column::NameFolded)
            .order_by_asc(learner::Column::Id)
            .limit(limit - out.len() as u64)
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(LearnerRow::from));
        next += chunk.len();
        batch = (batch * 2).min(512);
    }
    Ok(out)
}

/// Records folded names in the table search starts from (names are never removed: a name no
/// learner carries any more only costs an empty lookup).
pub async fn remember_names<C: ConnectionTrait>(
    db: &C,
    names: impl IntoIterator<Item = String>,
) -> Result<()> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.dedup();
    for chunk in names.chunks(1000) {
        learner_name::Entity::insert_many(chunk.iter().map(|n| learner_name::ActiveModel {
            name_folded: Set(n.clone()),
        }))
        .on_conflict_do_nothing_on([learner_name::Column::NameFolded])
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Learners carrying the same identity number (through the blind index, nothing decrypted).
pub async fn with_same_cccd<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    cccd: &str,
) -> Result<Vec<Uuid>> {
    let id = Cccd::parse(cccd).on("cccd")?;
    Ok(learner::Entity::find()
        .filter(learner::Column::CccdIndex.eq(cipher.blind_index("cccd", id.as_str())))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEntry {
    pub status: String,
    pub on_date: NaiveDate,
    pub reason_code: Option<String>,
    pub note: Option<String>,
}

/// Records a status change (DM_TRANG_THAI_HOC_SINH) from a date. Dropping out (05, 09, 12)
/// needs a reason (DM_LY_DO_THOI_HOC); a date before the last entry is refused.
pub async fn change_status(
    db: &DatabaseConnection,
    actor: &ActorRef,
    learner_id: Uuid,
    status: &str,
    on: NaiveDate,
    reason: Option<&str>,
    note: Option<String>,
) -> Result<()> {
    let status = codes::TRANG_THAI_HOC_SINH.parse(status).on("status")?;
    let dropped_out = matches!(status, "05" | "09" | "12");
    let reason = match (dropped_out, reason.map(str::trim).filter(|r| !r.is_empty())) {
        (true, None) => return Err(Error::invalid("reason_code", DomainError::Required)),
        (true, Some(r)) => Some(codes::LY_DO_THOI_HOC.parse(r).on("reason_code")?.to_string()),
        (false, _) => None,
    };
    let txn = db.begin().await?;
    let m = learner::Entity::find_by_id(learner_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let last = learner_status::Entity::find()
        .filter(learner_status::Column::LearnerId.eq(learner_id))
        .order_by_desc(learner_status::Column::OnDate)
        .one(&txn)
        .await?;
    if last.as_ref().is_some_and(|l| on < l.on_date) {
        return Err(Error::invalid("on_date", DomainError::DateRangeReversed));
    }
    let before = m.status.clone();
    learner_status::ActiveModel {
        id: Set(crate::new_id()),
        learner_id: Set(learner_id),
        status: Set(status.into()),
        on_date: Set(on),
        reason_code: Set(reason.clone()),
        note: Set(note),
        created_at: Set(crate::now()),
    }
    .insert(&txn)
    .await?;
    let mut am: learner::ActiveModel = m.into();
    am.status = Set(status.into());
    am.updated_at = Set(Some(crate::now()));
    am.update(&txn).await?;
    let change = Change::new("learner.status", "learner", learner_id)
        .before(serde_json::json!({ "status": before }))
        .after(serde_json::json!({ "status": status, "on": on, "reason": reason }));
    audit::append(&txn, actor, change).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn status_history<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<Vec<StatusEntry>> {
    Ok(learner_status::Entity::find()
        .filter(learner_status::Column::LearnerId.eq(learner_id))
        .order_by_asc(learner_status::Column::OnDate)
        .order_by_asc(learner_status::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|s| StatusEntry {
            status: s.status,
            on_date: s.on_date,
            reason_code: s.reason_code,
            note: s.note,
        })
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct NewGuardian {
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub cccd: Option<String>,
}

/// A guardian's fields, checked.
pub struct CheckedGuardian {
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    cccd: Option<Cccd>,
}

/// Validates a guardian as typed or imported (pure).
pub fn check_guardian(g: &NewGuardian) -> Result<CheckedGuardian> {
    Ok(CheckedGuardian {
        full_name: text::parse_name(&g.full_name, 120).on("full_name")?,
        phone: opt(&g.phone).map(parse_phone).transpose().on("phone")?,
        email: opt(&g.email)
            .map(truongso_core::users::parse_email)
            .transpose()
            .on("email")?,
        cccd: opt(&g.cccd).map(Cccd::parse).transpose().on("cccd")?,
    })
}

/// Links a guardian (found by phone, or created) to a learner. One guardian may have children
/// in several schools; the relation is `father`, `mother` or `other`.
pub async fn link_guardian(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    relation: &str,
    g: NewGuardian,
) -> Result<Uuid> {
    let txn = db.begin().await?;
    let (gid, _) = link_guardian_in(&txn, cipher, actor, learner_id, relation, g).await?;
    txn.commit().await?;
    Ok(gid)
}

/// `link_guardian` inside the caller's transaction; also says whether a new link was made.
pub async fn link_guardian_in<C: ConnectionTrait>(
    txn: &C,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    relation: &str,
    g: NewGuardian,
) -> Result<(Uuid, bool)> {
    let relation = truongso_core::people::parse_relation(relation).on("relation")?;
    let CheckedGuardian {
        full_name,
        phone,
        email,
        cccd,
    } = check_guardian(&g)?;
    learner::Entity::find_by_id(learner_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let existing = match &phone {
        Some(p) => {
            guardian::Entity::find()
                .filter(guardian::Column::Phone.eq(p.as_str()))
                .filter(guardian::Column::NameFolded.eq(text::fold(&full_name)))
                .one(txn)
                .await?
        }
        None => None,
    };
    let gid = match existing {
        Some(m) => m.id,
        None => {
            let gid = crate::new_id();
            guardian::ActiveModel {
                id: Set(gid),
                name_folded: Set(text::fold(&full_name)),
                full_name: Set(full_name.clone()),
                phone: Set(phone.clone()),
                email: Set(email),
                cccd_enc: Set(cccd
                    .as_ref()
                    .map(|c| cipher.encrypt(&format!("guardians.cccd:{gid}"), c.as_str()))),
                cccd_index: Set(cccd.as_ref().map(|c| cipher.blind_index("cccd", c.as_str()))),
                created_at: Set(crate::now()),
                user_id: Set(None),
            }
            .insert(txn)
            .await?;
            gid
        }
    };
    let linked = learner_guardian::Entity::find()
        .filter(learner_guardian::Column::LearnerId.eq(learner_id))
        .filter(learner_guardian::Column::GuardianId.eq(gid))
        .count(txn)
        .await?;
    if linked > 0 {
        return Ok((gid, false));
    }
    learner_guardian::ActiveModel {
        learner_id: Set(learner_id),
        guardian_id: Set(gid),
        relation: Set(relation.into()),
    }
    .insert(txn)
    .await?;
    let change = Change::new("guardian.link", "learner", learner_id)
        .after(serde_json::json!({ "guardian_id": gid, "relation": relation, "full_name": full_name }));
    audit::append(txn, actor, change).await?;
    Ok((gid, true))
}

/// The learners a guardian is linked to, across schools.
pub async fn children_of<C: ConnectionTrait>(db: &C, guardian_id: Uuid) -> Result<Vec<Uuid>> {
    Ok(learner_guardian::Entity::find()
        .filter(learner_guardian::Column::GuardianId.eq(guardian_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.learner_id)
        .collect())
}

/// Learners of the given schools, for the foundation's grant forms.
pub async fn for_schools(
    db: &DatabaseConnection,
    school_ids: &[Uuid],
    limit: u64,
) -> Result<Vec<LearnerRow>> {
    if school_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(learner::Entity::find()
        .filter(learner::Column::SchoolId.is_in(school_ids.to_vec()))
        .order_by_asc(learner::Column::NameFolded)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(LearnerRow::from)
        .collect())
}

/// A guardian of one learner, as the record page and the API list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnerGuardian {
    pub id: Uuid,
    /// `father`, `mother` or `other`.
    pub relation: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The parent account linked to this guardian, if any.
    pub user_id: Option<Uuid>,
    /// Children linked to this guardian, across schools.
    pub children: u64,
}

/// The guardians of a learner (father, mother, then others; by name), with their children
/// counts.
pub async fn guardians_of<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<Vec<LearnerGuardian>> {
    let pairs = learner_guardian::Entity::find()
        .filter(learner_guardian::Column::LearnerId.eq(learner_id))
        .find_also_related(guardian::Entity)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = pairs.iter().map(|(l, _)| l.guardian_id).collect();
    let mut counts: std::collections::HashMap<Uuid, u64> = Default::default();
    if !ids.is_empty() {
        for l in learner_guardian::Entity::find()
            .filter(learner_guardian::Column::GuardianId.is_in(ids))
            .all(db)
            .await?
        {
            *counts.entry(l.guardian_id).or_default() += 1;
        }
    }
    let mut out: Vec<LearnerGuardian> = pairs
        .into_iter()
        .filter_map(|(l, g)| {
            let g = g?;
            Some(LearnerGuardian {
                id: g.id,
                relation: l.relation,
                full_name: g.full_name,
                phone: g.phone,
                email: g.email,
                user_id: g.user_id,
                children: counts.get(&g.id).copied().unwrap_or(0),
            })
        })
        .collect();
    let rank = |r: &str| match r {
        "father" => 0,
        "mother" => 1,
        _ => 2,
    };
    out.sort_by(|a, b| {
        (rank(&a.relation), text::fold(&a.full_name)).cmp(&(rank(&b.relation), text::fold(&b.full_name)))
    });
    Ok(out)
}

/// Grants `user_id` the parent role on one learner (Child scope in the learner's school) inside
/// the caller's transaction; `false` when the account already holds it.
async fn grant_parent<C: ConnectionTrait + TransactionTrait>(
    txn: &C,
    actor: &ActorRef,
    user_id: Uuid,
    learner_id: Uuid,
) -> Result<bool> {
    let l = learner::Entity::find_by_id(learner_id)
        .one(txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_learner"))?;
    let g = crate::accounts::resolve_grant(
        txn,
        &crate::accounts::GrantSpec {
            role: "parent".into(),
            org_unit_id: l.school_id,
            learner_id: Some(learner_id),
            ..Default::default()
        },
    )
    .await?;
    if crate::accounts::grants_of(txn, user_id)
        .await?
        .iter()
        .any(|r| r.grant().as_ref() == Some(&g))
    {
        return Ok(false);
    }
    match crate::accounts::grant(txn, actor, user_id, &g).await {
        Ok(_) => Ok(true),
        Err(Error::Conflict(m)) if m.code == "duplicate_grant" => Ok(false),
        Err(e) => Err(e),
    }
}

/// `link_guardian`, and when the guardian already has a parent account, the parent role on
/// this learner for that account, in the same transaction. Returns the guardian and the number
/// of grants made (0 or 1).
pub async fn link_guardian_granting(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    learner_id: Uuid,
    relation: &str,
    g: NewGuardian,
) -> Result<(Uuid, u32)> {
    let txn = db.begin().await?;
    let (gid, _) = link_guardian_in(&txn, cipher, actor, learner_id, relation, g).await?;
    let account = guardian::Entity::find_by_id(gid)
        .one(&txn)
        .await?
        .and_then(|m| m.user_id);
    let made = match account {
        Some(user_id) => u32::from(grant_parent(&txn, actor, user_id, learner_id).await?),
        None => 0,
    };
    txn.commit().await?;
    Ok((gid, made))
}

/// Links a parent account to a guardian record and grants it the parent role on each of the
/// guardian's children (in their schools), all in one transaction; grants the account already
/// holds are skipped. A guardian linked to another account is a conflict
/// (`guardian_has_account`). The caller authorises (the right to grant the parent role on every
/// child). Returns the number of grants made.
pub async fn link_account(
    db: &DatabaseConnection,
    actor: &ActorRef,
    guardian_id: Uuid,
    user_id: Uuid,
) -> Result<u32> {
    let txn = db.begin().await?;
    let m = guardian::Entity::find_by_id(guardian_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("not_found"))?;
    crate::accounts::get_user(&txn, user_id).await?;
    let before = m.user_id;
    match before {
        Some(u) if u != user_id => return Err(Error::conflict("guardian_has_account")),
        Some(_) => {}
        None => {
            let mut am: guardian::ActiveModel = m.into();
            am.user_id = Set(Some(user_id));
            am.update(&txn).await?;
        }
    }
    let mut made = 0u32;
    for learner_id in children_of(&txn, guardian_id).await? {
        made += u32::from(grant_parent(&txn, actor, user_id, learner_id).await?);
    }
    audit::append(
        &txn,
        actor,
        Change::new("guardian.account", "guardian", guardian_id)
            .before(serde_json::json!({ "user_id": before }))
            .after(serde_json::json!({ "user_id": user_id, "grants": made })),
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}

/// The learner a health entry belongs to (to authorise acting on the entry).
pub async fn health_entry_learner<C: ConnectionTrait>(db: &C, entry_id: Uuid) -> Result<Uuid> {
    crate::entity::health_entry::Entity::find_by_id(entry_id)
        .one(db)
        .await?
        .map(|m| m.learner_id)
        .ok_or_else(|| Error::not_found("not_found"))
}
