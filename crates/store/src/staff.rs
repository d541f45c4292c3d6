//! Staff records (the sector-database staff fields), teaching assignments (teacher × subject ×
//! class × term) and homeroom duties. A staff record linked to a user account keeps that
//! account's teacher grants in step: assigning a subject grants it, removing it revokes it.

use crate::accounts::{self, GrantSpec};
use crate::audit::{self, Change};
use crate::crypto::FieldCipher;
use crate::entity::{class, role_grant, staff, teaching_assignment};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, TryIntoModel,
};
use serde::Serialize;
use std::collections::HashMap;
use truongso_core::DomainError;
use truongso_core::classes::{self as rules, AssignmentTerm};
use truongso_core::codes;
use truongso_core::error::OnField;
use truongso_core::org::{OrgKind, OrgPath};
use truongso_core::people::{Cccd, Sex};
use truongso_core::text;
use truongso_core::users::{parse_email, parse_phone};
use uuid::Uuid;

/// A staff member as lists and the record page show it (identity number never included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StaffRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub staff_code: String,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    /// `male` or `female`.
    pub sex: String,
    pub ethnicity: Option<String>,
    /// DM_NHOM_CAN_BO.
    pub staff_group: String,
    /// DM_LOAI_CAN_BO.
    pub position: Option<String>,
    /// DM_HINH_THUC_HOP_DONG.
    pub contract: String,
    /// DM_TRINH_DO_CHUYEN_MON.
    pub qualification: Option<String>,
    pub main_subject: Option<String>,
    pub second_subject: Option<String>,
    pub periods_per_week: Option<i32>,
    /// DM_KQ_CHUAN_NGHE_NGHIEP.
    pub standard_rating: Option<String>,
    /// DM_TRANG_THAI_CAN_BO.
    pub status: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<Uuid>,
}

impl From<staff::Model> for StaffRow {
    fn from(m: staff::Model) -> Self {
        Self {
            id: m.id,
            school_id: m.school_id,
            staff_code: m.staff_code,
            full_name: m.full_name,
            date_of_birth: m.date_of_birth,
            sex: m.sex,
            ethnicity: m.ethnicity,
            staff_group: m.staff_group,
            position: m.position,
            contract: m.contract,
            qualification: m.qualification,
            main_subject: m.main_subject,
            second_subject: m.second_subject,
            periods_per_week: m.periods_per_week,
            standard_rating: m.standard_rating,
            status: m.status,
            phone: m.phone,
            email: m.email,
            user_id: m.user_id,
        }
    }
}

/// Staff fields as typed or imported.
#[derive(Debug, Clone, Default)]
pub struct NewStaff {
    pub staff_code: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub cccd: Option<String>,
    pub ethnicity: Option<String>,
    pub staff_group: String,
    pub position: Option<String>,
    pub contract: String,
    pub qualification: Option<String>,
    pub main_subject: Option<String>,
    pub second_subject: Option<String>,
    pub periods_per_week: Option<String>,
    pub standard_rating: Option<String>,
    pub status: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn code_opt(
    list: codes::CodeList,
    s: &Option<String>,
    field: &'static str,
) -> std::result::Result<Option<String>, truongso_core::error::FieldError> {
    opt(s)
        .map(|v| list.parse(v).map(str::to_string))
        .transpose()
        .on(field)
}

/// A validated staff record, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedStaff {
    pub staff_code: String,
    pub full_name: String,
    pub dob: NaiveDate,
    pub sex: Sex,
    pub cccd: Option<Cccd>,
    pub ethnicity: Option<String>,
    pub staff_group: String,
    pub position: Option<String>,
    pub contract: String,
    pub qualification: Option<String>,
    pub main_subject: Option<String>,
    pub second_subject: Option<String>,
    pub periods_per_week: Option<i32>,
    pub standard_rating: Option<String>,
    pub status: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Validates every field; the first failing field is reported. Pure, so imports check whole
/// files before writing anything.
pub fn check(
    input: &NewStaff,
    today: NaiveDate,
) -> std::result::Result<CheckedStaff, truongso_core::error::FieldError> {
    let staff_code = {
        let c = input.staff_code.trim();
        if c.is_empty() {
            return Err(truongso_core::error::FieldError::new(
                "staff_code",
                DomainError::Required,
            ));
        }
        if c.len() > 30
            || !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            return Err(truongso_core::error::FieldError::new(
                "staff_code",
                DomainError::InvalidCharacters,
            ));
        }
        c.to_ascii_uppercase()
    };
    let full_name = text::parse_name(&input.full_name, 120).on("full_name")?;
    let dob = truongso_core::org::parse_date(&input.date_of_birth).on("date_of_birth")?;
    let age = today.years_since(dob).unwrap_or(0);
    if !(18..=75).contains(&age) {
        return Err(truongso_core::error::FieldError::new(
            "date_of_birth",
            DomainError::InvalidDate,
        ));
    }
    let sex = Sex::parse(&input.sex).on("sex")?;
    let cccd = opt(&input.cccd).map(Cccd::parse).transpose().on("cccd")?;
    if let Some(id) = &cccd
        && let Some(problem) = id.check_against(dob, sex, today).into_iter().next()
    {
        return Err(truongso_core::error::FieldError::new("cccd", problem));
    }
    let subject = |s: &Option<String>, field| {
        opt(s)
            .map(|v| rules::parse_subject(v).map(str::to_string))
            .transpose()
            .on(field)
    };
    let periods_per_week = opt(&input.periods_per_week)
        .map(|p| {
            let n: i32 = p.parse().map_err(|_| DomainError::InvalidNumber)?;
            if (0..=40).contains(&n) {
                Ok(n)
            } else {
                Err(DomainError::OutOfRange { min: 0, max: 40 })
            }
        })
        .transpose()
        .on("periods_per_week")?;
    Ok(CheckedStaff {
        staff_code,
        full_name,
        dob,
        sex,
        cccd,
        ethnicity: code_opt(codes::DAN_TOC, &input.ethnicity, "ethnicity")?,
        staff_group: codes::NHOM_CAN_BO
            .parse(&input.staff_group)
            .on("staff_group")?
            .to_string(),
        position: code_opt(codes::LOAI_CAN_BO, &input.position, "position")?,
        contract: codes::HINH_THUC_HOP_DONG
            .parse(&input.contract)
            .on("contract")?
            .to_string(),
        qualification: code_opt(codes::TRINH_DO_CHUYEN_MON, &input.qualification, "qualification")?,
        main_subject: subject(&input.main_subject, "main_subject")?,
        second_subject: subject(&input.second_subject, "second_subject")?,
        periods_per_week,
        standard_rating: code_opt(
            codes::KQ_CHUAN_NGHE_NGHIEP,
            &input.standard_rating,
            "standard_rating",
        )?,
        status: code_opt(codes::TRANG_THAI_CAN_BO, &input.status, "status")?.unwrap_or_else(|| "01".into()),
        phone: opt(&input.phone).map(parse_phone).transpose().on("phone")?,
        email: opt(&input.email).map(parse_email).transpose().on("email")?,
    })
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// The stored record already said the same: nothing written, nothing audited.
    Unchanged,
}

/// The audited view of a staff record: every field but the keys, with the CCCD masked.
fn audit_view(m: &staff::Model, cccd: Option<&Cccd>) -> serde_json::Value {
    let mut v = serde_json::to_value(StaffRow::from(m.clone())).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        for key in ["id", "school_id", "user_id"] {
            o.remove(key);
        }
        o.insert("cccd".into(), serde_json::json!(cccd.map(Cccd::masked)));
    }
    v
}

/// Creates a staff record, or updates the one with the same staff code in the school (an
/// identical record is left alone, so importing the same file twice changes nothing).
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    cipher: &FieldCipher,
    actor: &ActorRef,
    school_id: Uuid,
    c: &CheckedStaff,
) -> Result<(Uuid, Written)> {
    let existing = staff::Entity::find()
        .filter(staff::Column::SchoolId.eq(school_id))
        .filter(staff::Column::StaffCode.eq(c.staff_code.as_str()))
        .one(db)
        .await?;
    let now = crate::now();
    let mut am = match &existing {
        Some(m) => m.clone().into(),
        None => staff::ActiveModel {
            id: Set(crate::new_id()),
            school_id: Set(school_id),
            user_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        },
    };
    let id = *am.id.as_ref();
    fill(&mut am, cipher, id, c);
    let after = audit_view(&am.clone().try_into_model()?, c.cccd.as_ref());
    match existing {
        Some(m) => {
            let same_cccd = m.cccd_index == *am.cccd_index.as_ref();
            let before = audit_view(&m, c.cccd.as_ref().filter(|_| same_cccd));
            if before == after && same_cccd {
                return Ok((id, Written::Unchanged));
            }
            am.updated_at = Set(now);
            am.update(db).await?;
            let change = Change::new("staff.update", "staff", id)
                .before(before)
                .after(after);
            audit::append(db, actor, change).await?;
            Ok((id, Written::Updated))
        }
        None => {
            am.insert(db).await?;
            audit::append(db, actor, Change::new("staff.create", "staff", id).after(after)).await?;
            Ok((id, Written::Created))
        }
    }
}

fn fill(am: &mut staff::ActiveModel, cipher: &FieldCipher, id: Uuid, c: &CheckedStaff) {
    am.staff_code = Set(c.staff_code.clone());
    am.name_folded = Set(text::fold(&c.full_name));
    am.full_name = Set(c.full_name.clone());
    am.date_of_birth = Set(c.dob);
    am.sex = Set(c.sex.as_str().into());
    am.cccd_enc = Set(c
        .cccd
        .as_ref()
        .map(|x| cipher.encrypt(&format!("staff.cccd:{id}"), x.as_str())));
    am.cccd_index = Set(c.cccd.as_ref().map(|x| cipher.blind_index("cccd", x.as_str())));
    am.ethnicity = Set(c.ethnicity.clone());
    am.staff_group = Set(c.staff_group.clone());
    am.position = Set(c.position.clone());
    am.contract = Set(c.contract.clone());
    am.qualification = Set(c.qualification.clone());
    am.main_subject = Set(c.main_subject.clone());
    am.second_subject = Set(c.second_subject.clone());
    am.periods_per_week = Set(c.periods_per_week);
    am.standard_rating = Set(c.standard_rating.clone());
    am.status = Set(c.status.clone());
    am.phone = Set(c.phone.clone());
    am.email = Set(c.email.clone());
}

/// Creates (or updates by staff code) one staff member of a school.
pub async fn save(
    db: &DatabaseConnection,
    cipher: &FieldCipher,
    actor: &ActorRef,
    school_id: Uuid,
    input: &NewStaff,
    today: NaiveDate,
) -> Result<StaffRow> {
    let c = check(input, today)?;
    let txn = db.begin().await?;
    let school = crate::org::get(&txn, school_id).await?;
    if school.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    let (id, _) = upsert(&txn, cipher, actor, school_id, &c).await?;
    txn.commit().await?;
    get(db, id).await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<StaffRow> {
    Ok(staff::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_staff"))?
        .into())
}

/// Staff of the given schools whose name contains the (folded) query, by name.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    within: &[OrgPath],
    query: &str,
    limit: u64,
) -> Result<Vec<StaffRow>> {
    if within.is_empty() {
        return Ok(vec![]);
    }
    let mut q =
        staff::Entity::find().filter(staff::Column::SchoolId.in_subquery(crate::org::ids_within(within)));
    let folded = text::fold(query);
    if !folded.is_empty() {
        q = q.filter(staff::Column::NameFolded.contains(&folded));
    }
    Ok(q.order_by_asc(staff::Column::NameFolded)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(StaffRow::from)
        .collect())
}

/// Links a staff record to a user account (so teaching duties become grants), or unlinks it.
pub async fn link_user(
    db: &DatabaseConnection,
    actor: &ActorRef,
    staff_id: Uuid,
    user_id: Option<Uuid>,
) -> Result<()> {
    let txn = db.begin().await?;
    let m = staff::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_staff"))?;
    if let Some(u) = user_id {
        accounts::get_user(&txn, u).await?;
        if staff::Entity::find()
            .filter(staff::Column::UserId.eq(u))
            .filter(staff::Column::SchoolId.eq(m.school_id))
            .filter(staff::Column::Id.ne(staff_id))
            .count(&txn)
            .await?
            > 0
        {
            return Err(Error::conflict("user_linked_to_other_staff"));
        }
    }
    let before = m.user_id;
    let school_id = m.school_id;
    let mut am: staff::ActiveModel = m.into();
    am.user_id = Set(user_id);
    am.updated_at = Set(crate::now());
    am.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("staff.link_user", "staff", staff_id)
            .before(serde_json::json!({ "user_id": before }))
            .after(serde_json::json!({ "user_id": user_id })),
    )
    .await?;
    // Duties follow the account: grant the new one, revoke the old one.
    let duties = duties_of(&txn, staff_id).await?;
    for (class_id, subject) in duties {
        let role = if subject.is_some() {
            "subject_teacher"
        } else {
            "homeroom_teacher"
        };
        if let Some(old) = before {
            drop_grant(&txn, actor, old, role, class_id, subject.as_deref()).await?;
        }
        if let Some(new) = user_id {
            ensure_grant(&txn, actor, new, school_id, role, class_id, subject.as_deref()).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// (class, subject) pairs a staff member teaches, and (class, None) for homeroom classes.
async fn duties_of<C: ConnectionTrait>(db: &C, staff_id: Uuid) -> Result<Vec<(Uuid, Option<String>)>> {
    let mut out: Vec<(Uuid, Option<String>)> = teaching_assignment::Entity::find()
        .filter(teaching_assignment::Column::StaffId.eq(staff_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.class_id, Some(a.subject)))
        .collect();
    out.sort();
    out.dedup();
    out.extend(
        class::Entity::find()
            .filter(class::Column::HomeroomStaffId.eq(staff_id))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, None)),
    );
    Ok(out)
}

async fn ensure_grant<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    user_id: Uuid,
    school_id: Uuid,
    role: &str,
    class_id: Uuid,
    subject: Option<&str>,
) -> Result<()> {
    let g = accounts::resolve_grant(
        db,
        &GrantSpec {
            role: role.into(),
            org_unit_id: school_id,
            class_id: Some(class_id),
            subject: subject.map(str::to_string),
            learner_id: None,
        },
    )
    .await?;
    match accounts::grant(db, actor, user_id, &g).await {
        Ok(_) => Ok(()),
        Err(Error::Conflict(m)) if m.code == "duplicate_grant" => Ok(()),
        Err(e) => Err(e),
    }
}

async fn drop_grant<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    user_id: Uuid,
    role: &str,
    class_id: Uuid,
    subject: Option<&str>,
) -> Result<()> {
    let mut q = role_grant::Entity::find()
        .filter(role_grant::Column::UserId.eq(user_id))
        .filter(role_grant::Column::Role.eq(role))
        .filter(role_grant::Column::ClassId.eq(class_id));
    if let Some(s) = subject {
        q = q.filter(role_grant::Column::Subject.eq(text::fold(s)));
    }
    for g in q.all(db).await? {
        accounts::revoke(db, actor, g.id).await?;
    }
    Ok(())
}

/// Keeps the homeroom grant of a class in step with its homeroom teacher's account.
pub(crate) async fn sync_homeroom_grant<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    c: &class::Model,
    previous: Option<Uuid>,
) -> Result<()> {
    if previous == c.homeroom_staff_id {
        return Ok(());
    }
    let user_of = |id: Option<Uuid>| async move {
        Ok::<_, Error>(match id {
            Some(id) => staff::Entity::find_by_id(id)
                .one(db)
                .await?
                .and_then(|s| s.user_id),
            None => None,
        })
    };
    if let Some(old) = user_of(previous).await? {
        drop_grant(db, actor, old, "homeroom_teacher", c.id, None).await?;
    }
    if let Some(new) = user_of(c.homeroom_staff_id).await? {
        ensure_grant(db, actor, new, c.school_id, "homeroom_teacher", c.id, None).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    pub id: Uuid,
    pub class_id: Uuid,
    pub class_name: String,
    pub staff_id: Uuid,
    pub staff_name: String,
    /// Subject code (see `/api/v1/codes`).
    pub subject: String,
    pub subject_name: String,
    /// `HK1`, `HK2` or `CN` (whole year).
    pub term: String,
}

/// Assigns a teacher to teach a subject in a class for a term. Both must belong to the same
/// school; a subject already taught in that class for an overlapping term is refused.
pub async fn assign(
    db: &DatabaseConnection,
    actor: &ActorRef,
    class_id: Uuid,
    staff_id: Uuid,
    subject: &str,
    term: &str,
) -> Result<Uuid> {
    let txn = db.begin().await?;
    let (id, _) = assign_in(&txn, actor, class_id, staff_id, subject, term).await?;
    txn.commit().await?;
    Ok(id)
}

/// `assign` inside a caller's transaction; returns whether a row was written (an identical
/// assignment is left alone).
pub async fn assign_in<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    class_id: Uuid,
    staff_id: Uuid,
    subject: &str,
    term: &str,
) -> Result<(Uuid, bool)> {
    let subject = rules::parse_subject(subject).on("subject")?;
    let term = AssignmentTerm::parse(term).on("term")?;
    let c = crate::classes::model(db, class_id).await?;
    let s = staff::Entity::find_by_id(staff_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_staff"))?;
    if s.school_id != c.school_id {
        return Err(Error::conflict("staff_of_other_school"));
    }
    let existing = teaching_assignment::Entity::find()
        .filter(teaching_assignment::Column::ClassId.eq(class_id))
        .filter(teaching_assignment::Column::Subject.eq(subject))
        .all(db)
        .await?;
    for a in &existing {
        let t = AssignmentTerm::parse(&a.term).map_err(|_| Error::Internal("bad term".into()))?;
        if t == term && a.staff_id == staff_id {
            return Ok((a.id, false));
        }
        if t.overlaps(term) {
            return Err(Error::Conflict(
                Msg::new("subject_already_assigned")
                    .with("subject", rules::subject_name(subject).unwrap_or(subject)),
            ));
        }
    }
    let id = crate::new_id();
    teaching_assignment::ActiveModel {
        id: Set(id),
        class_id: Set(class_id),
        staff_id: Set(staff_id),
        subject: Set(subject.into()),
        term: Set(term.as_str().into()),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    audit::append(
        db,
        actor,
        Change::new("assignment.create", "teaching_assignment", id).after(serde_json::json!({
            "class_id": class_id, "staff_id": staff_id, "subject": subject, "term": term.as_str()
        })),
    )
    .await?;
    if let Some(user) = s.user_id {
        ensure_grant(
            db,
            actor,
            user,
            c.school_id,
            "subject_teacher",
            class_id,
            Some(subject),
        )
        .await?;
    }
    Ok((id, true))
}

/// Removes an assignment and, when the teacher no longer teaches that subject in that class,
/// the matching grant.
pub async fn unassign(db: &DatabaseConnection, actor: &ActorRef, id: Uuid) -> Result<()> {
    let txn = db.begin().await?;
    let a = teaching_assignment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("unknown_assignment"))?;
    teaching_assignment::Entity::delete_by_id(id).exec(&txn).await?;
    audit::append(
        &txn,
        actor,
        Change::new("assignment.delete", "teaching_assignment", id).before(serde_json::json!({
            "class_id": a.class_id, "staff_id": a.staff_id, "subject": a.subject, "term": a.term
        })),
    )
    .await?;
    let still = teaching_assignment::Entity::find()
        .filter(teaching_assignment::Column::ClassId.eq(a.class_id))
        .filter(teaching_assignment::Column::StaffId.eq(a.staff_id))
        .filter(teaching_assignment::Column::Subject.eq(a.subject.as_str()))
        .count(&txn)
        .await?;
    if still == 0
        && let Some(user) = staff::Entity::find_by_id(a.staff_id)
            .one(&txn)
            .await?
            .and_then(|s| s.user_id)
    {
        drop_grant(&txn, actor, user, "subject_teacher", a.class_id, Some(&a.subject)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Assignments of some classes or of one teacher.
pub async fn assignments<C: ConnectionTrait>(
    db: &C,
    class_ids: Option<&[Uuid]>,
    staff_id: Option<Uuid>,
) -> Result<Vec<Assignment>> {
    let mut q = teaching_assignment::Entity::find();
    if let Some(ids) = class_ids {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        q = q.filter(teaching_assignment::Column::ClassId.is_in(ids.to_vec()));
    }
    if let Some(s) = staff_id {
        q = q.filter(teaching_assignment::Column::StaffId.eq(s));
    }
    let rows = q.all(db).await?;
    let class_ids: Vec<Uuid> = rows.iter().map(|a| a.class_id).collect();
    let staff_ids: Vec<Uuid> = rows.iter().map(|a| a.staff_id).collect();
    let classes: HashMap<Uuid, String> = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let names: HashMap<Uuid, String> = staff::Entity::find()
        .filter(staff::Column::Id.is_in(staff_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.full_name))
        .collect();
    let mut out: Vec<Assignment> = rows
        .into_iter()
        .map(|a| Assignment {
            class_name: classes.get(&a.class_id).cloned().unwrap_or_default(),
            staff_name: names.get(&a.staff_id).cloned().unwrap_or_default(),
            subject_name: rules::subject_name(&a.subject).unwrap_or(&a.subject).to_string(),
            id: a.id,
            class_id: a.class_id,
            staff_id: a.staff_id,
            subject: a.subject,
            term: a.term,
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.class_name, &a.subject_name, &a.term).cmp(&(&b.class_name, &b.subject_name, &b.term))
    });
    Ok(out)
}

/// One assignment by id.
pub async fn assignment<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Assignment> {
    let a = teaching_assignment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_assignment"))?;
    assignments(db, Some(&[a.class_id]), None)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| Error::not_found("unknown_assignment"))
}
