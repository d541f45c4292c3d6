//! Học bạ số and văn bằng số in the database: building the canonical record of a learner's
//! year from the stored year results, and the life of a document (signed in turn by each role,
//! issued with its log leaf, corrected, revoked, copied). Every change is audited; the PDF bytes
//! and the canonical record are kept so a document can be handed out again byte for byte.

use crate::entity::{class, credential_copy, credential_doc, role_grant, signing_identity, staff, user};
use crate::error::{Error, Msg, Result};
use crate::{ActorRef, audit, gradebook, org, people};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use truongso_core::credentials::record::{
    self, HOC_BA_SCHEMA, Issuer, Learner, PrimarySubject, PrimaryYear, Rated, SecondarySubject,
    SecondaryYear, Terms, YearResults,
};
use truongso_core::credentials::{DocKind, HocBa};
use truongso_core::gradebook::{curriculum, tt27};
use uuid::Uuid;

/// The order in which a học bạ is signed: homeroom teacher, principal, then the school's seal.
pub const HOC_BA_ROLES: [&str; 3] = ["gvcn", "hieu_truong", "con_dau"];

/// The issuing unit as the record names it, with its parents as they stand today.
pub async fn issuer<C: ConnectionTrait>(db: &C, unit_id: Uuid) -> Result<Issuer> {
    let unit = org::get(db, unit_id).await?;
    let mut parents = org::ancestors(db, &unit).await?;
    parents.reverse();
    let place = parents
        .iter()
        .find_map(|p| province_of(&p.name))
        .unwrap_or_default();
    Ok(Issuer {
        code: unit.code.clone().unwrap_or_default(),
        name: unit.name.clone(),
        parents: parents.into_iter().map(|p| p.name).collect(),
        place,
    })
}

/// "Sở Giáo dục và Đào tạo tỉnh Bắc Ninh" → "Bắc Ninh" (the place printed before the date).
pub fn province_of(unit_name: &str) -> Option<String> {
    let rest = unit_name.strip_prefix("Sở Giáo dục và Đào tạo ")?;
    let rest = rest
        .strip_prefix("tỉnh ")
        .or_else(|| rest.strip_prefix("thành phố "))
        .or_else(|| rest.strip_prefix("Thành phố "))
        .unwrap_or(rest);
    Some(rest.to_string())
}

/// The name of the school's principal (the holder of the principal role), if any.
pub async fn principal_name<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Option<String>> {
    let grant = role_grant::Entity::find()
        .filter(role_grant::Column::OrgUnitId.eq(school_id))
        .filter(role_grant::Column::Role.eq("principal"))
        .order_by_asc(role_grant::Column::CreatedAt)
        .one(db)
        .await?;
    let Some(g) = grant else { return Ok(None) };
    Ok(user::Entity::find_by_id(g.user_id)
        .one(db)
        .await?
        .map(|u| u.display_name))
}

/// One canonical record per learner whose year this class closed, from the stored results.
/// Learners without stored results are left out (the caller reports them).
pub async fn hoc_ba_records<C: ConnectionTrait>(
    db: &C,
    cipher: &crate::crypto::FieldCipher,
    class_id: Uuid,
    issued_on: NaiveDate,
    mut new_doc_id: impl FnMut() -> String,
) -> Result<Vec<(Uuid, HocBa)>> {
    let info = gradebook::class_info(db, class_id).await?;
    let school = issuer(db, info.school_id).await?;
    let principal = principal_name(db, info.school_id).await?.unwrap_or_default();
    let homeroom = match info.homeroom_staff_id {
        Some(id) => staff::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| s.full_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let results = gradebook::class_results(db, class_id).await?;
    let ids: Vec<Uuid> = results.iter().map(|r| r.learner_id).collect();
    let summaries = gradebook::summaries(db, info.school_year_id, &ids).await?;
    let remarks = gradebook::year_remarks(db, info.school_year_id, &ids).await?;
    let mut out = vec![];
    for r in results {
        let l = people::get_learner(db, cipher, r.learner_id).await?;
        let summary = |term: u8| summaries.get(&(r.learner_id, term));
        let remark_of = |subject: &str| remarks.get(&(r.learner_id, subject.to_string())).cloned();
        let results = year_results(&r.data, info.grade, &remark_of, summary(2).or(summary(1)))
            .ok_or_else(|| Error::Conflict(Msg::new("results_incomplete").with("name", &l.full_name)))?;
        let homeroom_remark = summary(0)
            .or(summary(2))
            .and_then(|s| s.remark.clone())
            .filter(|s| !s.trim().is_empty());
        out.push((
            r.learner_id,
            HocBa {
                schema: HOC_BA_SCHEMA.into(),
                doc_id: new_doc_id(),
                issuer: school.clone(),
                learner: record_learner(&l),
                school_year: info.school_year.clone(),
                grade: info.grade,
                class_name: info.name.clone(),
                rules: info.rules.as_str().to_string(),
                homeroom_teacher: homeroom.clone(),
                principal: principal.clone(),
                results,
                homeroom_remark,
                issued_on: issued_on.format("%Y-%m-%d").to_string(),
            },
        ));
    }
    Ok(out)
}

/// The learner as a record names them. The record's sex codes are the học bạ's words: nam / nữ.
fn record_learner(l: &people::Learner) -> Learner {
    Learner {
        personal_id: l.cccd.clone(),
        moet_code: l.moet_code.clone(),
        full_name: l.full_name.clone(),
        date_of_birth: l.date_of_birth.format("%Y-%m-%d").to_string(),
        sex: match l.sex {
            truongso_core::people::cccd::Sex::Male => "nam",
            truongso_core::people::cccd::Sex::Female => "nu",
        }
        .to_string(),
        ethnicity: l.ethnicity.clone(),
        place_of_birth: None,
    }
}

/// The record's results from a stored year result (the gradebook's JSON snapshot). None when the
/// snapshot lacks what a học bạ prints (a year not yet closed).
pub fn year_results(
    data: &Value,
    grade: u8,
    remark_of: &dyn Fn(&str) -> Option<String>,
    end_summary: Option<&gradebook::Summary>,
) -> Option<YearResults> {
    let absences = data.get("absences").and_then(Value::as_u64).unwrap_or(0) as u32;
    let name_of = |code: &str| {
        curriculum::subject(grade, code)
            .map(|p| p.name.to_string())
            .unwrap_or_else(|_| code.to_string())
    };
    if let Some(p) = data.get("primary").filter(|p| !p.is_null()) {
        let rated = |list: &[(&str, &str)]| -> Vec<Rated> {
            list.iter()
                .map(|(code, name)| Rated {
                    code: code.to_string(),
                    name: name.to_string(),
                    level: end_summary
                        .and_then(|s| s.traits.get(*code))
                        .map(|l| l.as_str().to_string()),
                })
                .collect()
        };
        return Some(YearResults::Primary(PrimaryYear {
            subjects: p
                .get("subjects")?
                .as_array()?
                .iter()
                .map(|s| {
                    let code = text(s.get("subject")).unwrap_or_default();
                    PrimarySubject {
                        name: name_of(&code),
                        level: text(s.get("level")),
                        test: s.get("test").and_then(Value::as_u64).map(|t| t as u8),
                        remark: remark_of(&code),
                        code,
                    }
                })
                .collect(),
            qualities: rated(&tt27::QUALITIES),
            competencies: rated(&tt27::COMPETENCIES),
            evaluation: evaluation_code(p.get("evaluation")),
            award: text(p.get("award")),
            completes: p.get("completes").and_then(Value::as_bool),
            absences,
        }));
    }
    let s = data.get("secondary").filter(|s| !s.is_null())?;
    let level = |v: Option<&Value>| v.and_then(|l| text(l.get("level")));
    let learning = s.get("learning")?;
    let year_end = s.get("year_end").filter(|y| !y.is_null());
    let decision = year_end.and_then(|y| y.get("decision")).and_then(|d| {
        let name = text(d.get("decision"))?;
        Some(match (name.as_str(), text(d.get("reason"))) {
            ("retained", Some(r)) if r == "absences" => "retained_absences".to_string(),
            _ => name,
        })
    });
    Some(YearResults::Secondary(SecondaryYear {
        subjects: s
            .get("subjects")?
            .as_array()?
            .iter()
            .map(|v| {
                let code = text(v.get("subject")).unwrap_or_default();
                SecondarySubject {
                    name: name_of(&code),
                    hk1: result_code(v.get("hk1")),
                    hk2: result_code(v.get("hk2")),
                    year: result_code(v.get("year")),
                    retest: result_code(v.get("retest")),
                    remark: remark_of(&code),
                    code,
                }
            })
            .collect(),
        conduct: Terms {
            hk1: text(data.get("conduct_hk1")),
            hk2: text(data.get("conduct_hk2")),
            year: text(s.get("conduct_year")),
        },
        learning: Terms {
            hk1: level(learning.get("hk1")),
            hk2: level(learning.get("hk2")),
            year: level(learning.get("year")),
        },
        learning_after_retest: level(year_end.and_then(|y| y.get("learning_after_retest"))),
        absences,
        decision,
        retest_subjects: year_end
            .and_then(|y| y.get("retest_subjects"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| text(Some(v))).collect())
            .unwrap_or_default(),
        award: year_end.and_then(|y| text(y.get("award"))),
        completes_level: year_end
            .and_then(|y| y.get("completes_level"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }))
}

/// A string value; a gap object (a result that could not be computed) reads as absent.
fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// A subject result as the record codes it: marks as they are, Đ / CĐ as "D" / "CD".
fn result_code(v: Option<&Value>) -> Option<String> {
    text(v).map(|t| match t.as_str() {
        "Đ" => "D".to_string(),
        "CĐ" => "CD".to_string(),
        _ => t,
    })
}

/// The record's short codes for the TT 27 overall evaluation.
fn evaluation_code(v: Option<&Value>) -> Option<String> {
    text(v).map(|t| {
        match t.as_str() {
            "hoan_thanh_xuat_sac" => "htxs",
            "hoan_thanh_tot" => "htt",
            "hoan_thanh" => "ht",
            "chua_hoan_thanh" => "cht",
            _ => return t,
        }
        .to_string()
    })
}

/// One signature applied to a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureStep {
    pub role: String,
    pub signer: String,
    pub user_id: Option<Uuid>,
    pub cert_sha256: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Doc {
    pub id: Uuid,
    pub doc_id: String,
    pub kind: DocKind,
    pub issuer_id: Uuid,
    pub learner_id: Option<Uuid>,
    pub school_year_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    pub status: String,
    pub sha256_data: String,
    pub sha256_pdf: Option<String>,
    pub signatures: Vec<SignatureStep>,
    pub next_role: Option<String>,
    pub corrects: Option<Uuid>,
    pub leaf_index: Option<i64>,
    pub revoke_leaf: Option<i64>,
    pub revoke_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn doc_of(m: &credential_doc::Model) -> Doc {
    Doc {
        id: m.id,
        doc_id: m.doc_id.clone(),
        kind: DocKind::parse(&m.kind).unwrap_or(DocKind::HocBa),
        issuer_id: m.issuer_id,
        learner_id: m.learner_id,
        school_year_id: m.school_year_id,
        class_id: m.class_id,
        status: m.status.clone(),
        sha256_data: m.sha256_data.clone(),
        sha256_pdf: m.sha256_pdf.clone(),
        signatures: serde_json::from_str(&m.signatures).unwrap_or_default(),
        next_role: m.next_role.clone(),
        corrects: m.corrects,
        leaf_index: m.leaf_index,
        revoke_leaf: m.revoke_leaf,
        revoke_reason: m.revoke_reason.clone(),
        created_at: m.created_at,
        issued_at: m.issued_at,
        version: m.version,
    }
}

/// A document to open for signing.
pub struct NewDoc<'a> {
    pub doc_id: &'a str,
    pub kind: DocKind,
    pub issuer_id: Uuid,
    pub learner_id: Option<Uuid>,
    pub school_year_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    /// The canonical record bytes.
    pub record: &'a [u8],
    /// The unsigned PDF rendition.
    pub pdf: &'a [u8],
    pub first_role: &'a str,
    pub corrects: Option<Uuid>,
    /// Diplomas: số hiệu, số vào sổ gốc, the holder's name and date of birth for the lookup.
    pub diploma: Option<DiplomaKeys<'a>>,
}

pub struct DiplomaKeys<'a> {
    pub serial: &'a str,
    pub register_no: &'a str,
    pub full_name: &'a str,
    pub date_of_birth: NaiveDate,
}

pub async fn create<C: ConnectionTrait>(db: &C, actor: &ActorRef, new: NewDoc<'_>) -> Result<Doc> {
    if !record::valid_doc_id(new.doc_id) {
        return Err(Error::Internal(format!("bad document id {}", new.doc_id)));
    }
    let record = std::str::from_utf8(new.record).map_err(|e| Error::Internal(e.to_string()))?;
    let sha = truongso_core::credentials::sha256_hex(new.record);
    let now = crate::now();
    let m = credential_doc::ActiveModel {
        id: Set(crate::new_id()),
        doc_id: Set(new.doc_id.to_string()),
        kind: Set(new.kind.as_str().to_string()),
        issuer_id: Set(new.issuer_id),
        learner_id: Set(new.learner_id),
        school_year_id: Set(new.school_year_id),
        class_id: Set(new.class_id),
        status: Set("signing".into()),
        record: Set(record.to_string()),
        sha256_data: Set(sha.clone()),
        pdf: Set(Some(new.pdf.to_vec())),
        sha256_pdf: Set(None),
        signatures: Set("[]".into()),
        next_role: Set(Some(new.first_role.to_string())),
        corrects: Set(new.corrects),
        leaf_index: Set(None),
        revoke_leaf: Set(None),
        revoke_reason: Set(None),
        revoked_at: Set(None),
        serial: Set(new.diploma.as_ref().map(|d| d.serial.to_string())),
        register_no: Set(new.diploma.as_ref().map(|d| d.register_no.to_string())),
        name_folded: Set(new
            .diploma
            .as_ref()
            .map(|d| truongso_core::text::fold(d.full_name))),
        date_of_birth: Set(new.diploma.as_ref().map(|d| d.date_of_birth)),
        created_at: Set(now),
        created_by: Set(actor.id),
        issued_at: Set(None),
        version: Set(1),
    }
    .insert(db)
    .await?;
    audit::append(
        db,
        actor,
        audit::Change::new("credential.create", "credential", m.id).after(serde_json::json!({
            "doc_id": m.doc_id, "kind": m.kind, "sha256_data": sha, "learner_id": m.learner_id,
        })),
    )
    .await?;
    Ok(doc_of(&m))
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Doc> {
    Ok(doc_of(&model(db, id).await?))
}

async fn model<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<credential_doc::Model> {
    credential_doc::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_credential"))
}

pub async fn by_doc_id<C: ConnectionTrait>(db: &C, doc_id: &str) -> Result<Option<Doc>> {
    Ok(credential_doc::Entity::find()
        .filter(credential_doc::Column::DocId.eq(doc_id))
        .one(db)
        .await?
        .as_ref()
        .map(doc_of))
}

/// The PDF as it stands and the canonical record bytes.
pub async fn files<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(Vec<u8>, Vec<u8>)> {
    let m = model(db, id).await?;
    Ok((m.pdf.unwrap_or_default(), m.record.into_bytes()))
}

/// Documents of a class (every learner's học bạ of the class's year), newest first per learner.
pub async fn for_class<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Vec<Doc>> {
    Ok(credential_doc::Entity::find()
        .filter(credential_doc::Column::ClassId.eq(class_id))
        .order_by_desc(credential_doc::Column::CreatedAt)
        .all(db)
        .await?
        .iter()
        .map(doc_of)
        .collect())
}

/// Every document of a learner, newest first.
pub async fn for_learner<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<Vec<Doc>> {
    Ok(credential_doc::Entity::find()
        .filter(credential_doc::Column::LearnerId.eq(learner_id))
        .order_by_desc(credential_doc::Column::CreatedAt)
        .all(db)
        .await?
        .iter()
        .map(doc_of)
        .collect())
}

/// Records a signature: the new PDF replaces the old if the document still waits for this role
/// and nobody else signed in between (`version`). The next role follows `order`.
pub async fn record_signature<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
    version: i32,
    step: SignatureStep,
    signed_pdf: &[u8],
    order: &[&str],
) -> Result<Doc> {
    let txn = db.begin().await?;
    let m = model(&txn, id).await?;
    if m.version != version {
        return Err(Error::conflict("credential_changed"));
    }
    if m.status != "signing" || m.next_role.as_deref() != Some(step.role.as_str()) {
        return Err(Error::Conflict(
            Msg::new("credential_not_awaiting").with("role", &step.role),
        ));
    }
    let mut steps: Vec<SignatureStep> = serde_json::from_str(&m.signatures).unwrap_or_default();
    steps.push(step.clone());
    let next = order
        .iter()
        .skip_while(|r| **r != step.role)
        .nth(1)
        .map(|r| r.to_string());
    let mut a: credential_doc::ActiveModel = m.clone().into();
    a.pdf = Set(Some(signed_pdf.to_vec()));
    a.signatures = Set(serde_json::to_string(&steps).map_err(|e| Error::Internal(e.to_string()))?);
    a.next_role = Set(next.clone());
    a.version = Set(m.version + 1);
    let updated = a.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        audit::Change::new("credential.sign", "credential", id)
            .before(serde_json::json!({"next_role": m.next_role, "signatures": m.signatures}))
            .after(
                serde_json::json!({"role": step.role, "cert_sha256": step.cert_sha256, "next_role": next}),
            ),
    )
    .await?;
    txn.commit().await?;
    Ok(doc_of(&updated))
}

/// Marks a fully signed document issued with its log leaf; a correction supersedes the document
/// it corrects in the same transaction.
pub async fn mark_issued<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
    leaf_index: i64,
    sha256_pdf: &str,
) -> Result<Doc> {
    let txn = db.begin().await?;
    let m = model(&txn, id).await?;
    if m.status != "signing" || m.next_role.is_some() {
        return Err(Error::conflict("credential_not_signed"));
    }
    let mut a: credential_doc::ActiveModel = m.clone().into();
    a.status = Set("issued".into());
    a.leaf_index = Set(Some(leaf_index));
    a.sha256_pdf = Set(Some(sha256_pdf.to_string()));
    a.issued_at = Set(Some(crate::now()));
    a.version = Set(m.version + 1);
    let updated = a.update(&txn).await?;
    if let Some(old) = m.corrects {
        let o = model(&txn, old).await?;
        let mut oa: credential_doc::ActiveModel = o.clone().into();
        oa.status = Set("superseded".into());
        oa.version = Set(o.version + 1);
        oa.update(&txn).await?;
        audit::append(
            &txn,
            actor,
            audit::Change::new("credential.supersede", "credential", old)
                .before(serde_json::json!({"status": o.status}))
                .after(serde_json::json!({"status": "superseded", "by": m.doc_id})),
        )
        .await?;
    }
    audit::append(
        &txn,
        actor,
        audit::Change::new("credential.issue", "credential", id)
            .before(serde_json::json!({"status": m.status}))
            .after(
                serde_json::json!({"status": "issued", "leaf_index": leaf_index, "sha256_pdf": sha256_pdf}),
            ),
    )
    .await?;
    txn.commit().await?;
    Ok(doc_of(&updated))
}

/// Marks an issued document revoked by the log leaf that says so.
pub async fn mark_revoked<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    id: Uuid,
    leaf_index: i64,
    reason: &str,
) -> Result<Doc> {
    if !truongso_core::credentials::event::REVOKE_REASONS.contains(&reason) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "reason",
            truongso_core::DomainError::UnknownCode,
        )));
    }
    let txn = db.begin().await?;
    let m = model(&txn, id).await?;
    if m.status != "issued" {
        return Err(Error::conflict("credential_not_issued"));
    }
    let mut a: credential_doc::ActiveModel = m.clone().into();
    a.status = Set("revoked".into());
    a.revoke_leaf = Set(Some(leaf_index));
    a.revoke_reason = Set(Some(reason.to_string()));
    a.revoked_at = Set(Some(crate::now()));
    a.version = Set(m.version + 1);
    let updated = a.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        audit::Change::new("credential.revoke", "credential", id)
            .before(serde_json::json!({"status": m.status}))
            .after(serde_json::json!({"status": "revoked", "leaf_index": leaf_index, "reason": reason})),
    )
    .await?;
    txn.commit().await?;
    Ok(doc_of(&updated))
}

/// Records a copy or extract handed out (its own log leaf included).
pub async fn record_copy<C: ConnectionTrait>(
    db: &C,
    actor: &ActorRef,
    doc: Uuid,
    purpose: &str,
    recipient: Option<&str>,
    sha256_pdf: &str,
    leaf_index: i64,
) -> Result<Uuid> {
    if !truongso_core::credentials::event::COPY_PURPOSES.contains(&purpose) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "purpose",
            truongso_core::DomainError::UnknownCode,
        )));
    }
    let id = crate::new_id();
    credential_copy::ActiveModel {
        id: Set(id),
        doc: Set(doc),
        purpose: Set(purpose.to_string()),
        recipient: Set(recipient.map(truongso_core::text::clean)),
        sha256_pdf: Set(sha256_pdf.to_string()),
        leaf_index: Set(Some(leaf_index)),
        issued_by: Set(actor.id),
        issued_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    audit::append(
        db,
        actor,
        audit::Change::new("credential.copy", "credential", doc)
            .after(serde_json::json!({"copy": id, "purpose": purpose, "leaf_index": leaf_index})),
    )
    .await?;
    Ok(id)
}

pub async fn copies<C: ConnectionTrait>(db: &C, doc: Uuid) -> Result<Vec<credential_copy::Model>> {
    Ok(credential_copy::Entity::find()
        .filter(credential_copy::Column::Doc.eq(doc))
        .order_by_asc(credential_copy::Column::IssuedAt)
        .all(db)
        .await?)
}

/// The public diploma lookup: số hiệu, the holder's name (any case or accents typed) and date of
/// birth must all match an issued diploma; nothing is said about near misses.
pub async fn find_diploma<C: ConnectionTrait>(
    db: &C,
    serial: &str,
    full_name: &str,
    date_of_birth: NaiveDate,
) -> Result<Option<Doc>> {
    let serial = truongso_core::text::clean(serial).to_uppercase();
    Ok(credential_doc::Entity::find()
        .filter(credential_doc::Column::Kind.eq("van_bang"))
        .filter(credential_doc::Column::Serial.eq(serial))
        .filter(credential_doc::Column::NameFolded.eq(truongso_core::text::fold(full_name)))
        .filter(credential_doc::Column::DateOfBirth.eq(date_of_birth))
        .filter(credential_doc::Column::Status.is_in(["issued", "superseded", "revoked"]))
        .one(db)
        .await?
        .as_ref()
        .map(doc_of))
}

/// The classes of a school year whose learners' year is closed (there are stored results), for
/// the batch issue page.
pub async fn classes_with_results<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    school_year_id: Uuid,
) -> Result<Vec<class::Model>> {
    let classes = class::Entity::find()
        .filter(class::Column::SchoolId.eq(school_id))
        .filter(class::Column::SchoolYearId.eq(school_year_id))
        .order_by_asc(class::Column::Grade)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?;
    let mut out = vec![];
    for c in classes {
        if !gradebook::class_results(db, c.id).await?.is_empty() {
            out.push(c);
        }
    }
    Ok(out)
}

/// Counts per status of a class's documents, for progress displays.
pub fn status_counts(docs: &[Doc]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for d in docs {
        *out.entry(d.status.clone()).or_insert(0) += 1;
    }
    out
}

/// A signing identity with its secret decrypted, ready to open a signer.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    pub role: String,
    pub backend: String,
    pub config: Value,
    pub secret: Option<String>,
    pub cert_sha256: String,
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("role", &self.role)
            .field("backend", &self.backend)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

pub struct NewIdentity<'a> {
    pub user_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    pub role: &'a str,
    pub backend: &'a str,
    pub config: Value,
    pub secret: Option<&'a str>,
    pub cert_sha256: &'a str,
    pub subject: &'a str,
    pub not_after: DateTime<Utc>,
}

fn identity_context(id: Uuid) -> String {
    format!("signing_identities.secret:{id}")
}

/// Registers how a person or a unit signs; an earlier identity for the same (unit, role, person)
/// is deactivated, so a renewed certificate simply replaces the old one.
pub async fn add_identity<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cipher: &crate::crypto::FieldCipher,
    actor: &ActorRef,
    new: NewIdentity<'_>,
) -> Result<Uuid> {
    if !["pkcs12", "pkcs11", "remote"].contains(&new.backend) {
        return Err(Error::Invalid(truongso_core::error::FieldError::new(
            "backend",
            truongso_core::DomainError::UnknownCode,
        )));
    }
    let txn = db.begin().await?;
    let mut q = signing_identity::Entity::find()
        .filter(signing_identity::Column::OrgUnitId.eq(new.org_unit_id))
        .filter(signing_identity::Column::Role.eq(new.role))
        .filter(signing_identity::Column::Active.eq(true));
    q = match new.user_id {
        Some(u) => q.filter(signing_identity::Column::UserId.eq(u)),
        None => q.filter(signing_identity::Column::UserId.is_null()),
    };
    for old in q.all(&txn).await? {
        let mut a: signing_identity::ActiveModel = old.into();
        a.active = Set(false);
        a.update(&txn).await?;
    }
    let id = crate::new_id();
    signing_identity::ActiveModel {
        id: Set(id),
        user_id: Set(new.user_id),
        org_unit_id: Set(new.org_unit_id),
        role: Set(new.role.to_string()),
        backend: Set(new.backend.to_string()),
        config: Set(new.config.to_string()),
        secret_enc: Set(new.secret.map(|s| cipher.encrypt(&identity_context(id), s))),
        cert_sha256: Set(new.cert_sha256.to_string()),
        subject: Set(new.subject.to_string()),
        not_after: Set(new.not_after),
        active: Set(true),
        created_at: Set(crate::now()),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        actor,
        audit::Change::new("credential.identity", "signing_identity", id).after(serde_json::json!({
            "role": new.role, "backend": new.backend, "subject": new.subject,
            "cert_sha256": new.cert_sha256, "user_id": new.user_id, "org_unit_id": new.org_unit_id,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// The active identity a person (or, with `user_id` None, the unit itself) signs with in a role.
pub async fn identity_for<C: ConnectionTrait>(
    db: &C,
    cipher: &crate::crypto::FieldCipher,
    org_unit_id: Uuid,
    role: &str,
    user_id: Option<Uuid>,
) -> Result<Option<Identity>> {
    let mut q = signing_identity::Entity::find()
        .filter(signing_identity::Column::OrgUnitId.eq(org_unit_id))
        .filter(signing_identity::Column::Role.eq(role))
        .filter(signing_identity::Column::Active.eq(true));
    q = match user_id {
        Some(u) => q.filter(signing_identity::Column::UserId.eq(u)),
        None => q.filter(signing_identity::Column::UserId.is_null()),
    };
    let Some(m) = q.one(db).await? else {
        return Ok(None);
    };
    let secret = m
        .secret_enc
        .as_ref()
        .map(|s| cipher.decrypt(&identity_context(m.id), s))
        .transpose()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Some(Identity {
        id: m.id,
        user_id: m.user_id,
        org_unit_id: m.org_unit_id,
        role: m.role,
        backend: m.backend,
        config: serde_json::from_str(&m.config).map_err(|e| Error::Internal(e.to_string()))?,
        secret,
        cert_sha256: m.cert_sha256,
        subject: m.subject,
        not_after: m.not_after,
    }))
}

// ---------------------------------------------------------------------------------------------
// The school workflow's listings, signing identities as the registry page shows them, and the
// diploma registry (văn bằng).

/// A document row without its files (the PDF and the record), for listings: a school's year
/// holds hundreds of PDFs that a status table never needs.
#[derive(Debug, sea_orm::FromQueryResult)]
struct LeanDoc {
    id: Uuid,
    doc_id: String,
    kind: String,
    issuer_id: Uuid,
    learner_id: Option<Uuid>,
    school_year_id: Option<Uuid>,
    class_id: Option<Uuid>,
    status: String,
    sha256_data: String,
    sha256_pdf: Option<String>,
    signatures: String,
    next_role: Option<String>,
    corrects: Option<Uuid>,
    leaf_index: Option<i64>,
    revoke_leaf: Option<i64>,
    revoke_reason: Option<String>,
    created_at: DateTime<Utc>,
    issued_at: Option<DateTime<Utc>>,
    version: i32,
}

impl From<LeanDoc> for Doc {
    fn from(m: LeanDoc) -> Self {
        Doc {
            id: m.id,
            doc_id: m.doc_id,
            kind: DocKind::parse(&m.kind).unwrap_or(DocKind::HocBa),
            issuer_id: m.issuer_id,
            learner_id: m.learner_id,
            school_year_id: m.school_year_id,
            class_id: m.class_id,
            status: m.status,
            sha256_data: m.sha256_data,
            sha256_pdf: m.sha256_pdf,
            signatures: serde_json::from_str(&m.signatures).unwrap_or_default(),
            next_role: m.next_role,
            corrects: m.corrects,
            leaf_index: m.leaf_index,
            revoke_leaf: m.revoke_leaf,
            revoke_reason: m.revoke_reason,
            created_at: m.created_at,
            issued_at: m.issued_at,
            version: m.version,
        }
    }
}

fn lean() -> sea_orm::Select<credential_doc::Entity> {
    use credential_doc::Column as C;
    use sea_orm::QuerySelect;
    credential_doc::Entity::find().select_only().columns([
        C::Id,
        C::DocId,
        C::Kind,
        C::IssuerId,
        C::LearnerId,
        C::SchoolYearId,
        C::ClassId,
        C::Status,
        C::Sha256Data,
        C::Sha256Pdf,
        C::Signatures,
        C::NextRole,
        C::Corrects,
        C::LeafIndex,
        C::RevokeLeaf,
        C::RevokeReason,
        C::CreatedAt,
        C::IssuedAt,
        C::Version,
    ])
}

async fn lean_all<C: ConnectionTrait>(
    db: &C,
    q: sea_orm::Select<credential_doc::Entity>,
) -> Result<Vec<Doc>> {
    Ok(q.order_by_desc(credential_doc::Column::CreatedAt)
        .into_model::<LeanDoc>()
        .all(db)
        .await?
        .into_iter()
        .map(Doc::from)
        .collect())
}

/// The học bạ of a school's year, newest first, without their files.
pub async fn school_year_docs<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    school_year_id: Uuid,
) -> Result<Vec<Doc>> {
    lean_all(
        db,
        lean()
            .filter(credential_doc::Column::Kind.eq(DocKind::HocBa.as_str()))
            .filter(credential_doc::Column::IssuerId.eq(school_id))
            .filter(credential_doc::Column::SchoolYearId.eq(school_year_id)),
    )
    .await
}

/// A class's documents, newest first, without their files.
pub async fn class_docs<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Vec<Doc>> {
    lean_all(db, lean().filter(credential_doc::Column::ClassId.eq(class_id))).await
}

/// A learner's documents (học bạ years and diplomas), newest first, without their files.
pub async fn learner_docs<C: ConnectionTrait>(db: &C, learner_id: Uuid) -> Result<Vec<Doc>> {
    lean_all(
        db,
        lean().filter(credential_doc::Column::LearnerId.eq(learner_id)),
    )
    .await
}

/// One document by its public id, without its files.
pub async fn lean_by_doc_id<C: ConnectionTrait>(db: &C, doc_id: &str) -> Result<Doc> {
    lean_all(db, lean().filter(credential_doc::Column::DocId.eq(doc_id)))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("unknown_credential"))
}

/// The documents that correct `id` (newest first): the chain a superseded document points along.
pub async fn corrections_of<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Vec<Doc>> {
    lean_all(db, lean().filter(credential_doc::Column::Corrects.eq(id))).await
}

/// The latest document of each learner (a correction is newer than what it corrects), keyed by
/// learner: what a status table shows.
pub fn latest_per_learner(docs: &[Doc]) -> HashMap<Uuid, &Doc> {
    let mut out: HashMap<Uuid, &Doc> = HashMap::new();
    for d in docs {
        let Some(l) = d.learner_id else { continue };
        match out.get(&l) {
            Some(cur) if cur.created_at >= d.created_at => {}
            _ => {
                out.insert(l, d);
            }
        }
    }
    out
}

/// Documents per status for each issuer (the office's view of its schools), from one grouped
/// query.
pub async fn issuer_status_counts<C: ConnectionTrait>(
    db: &C,
    issuers: &[Uuid],
    kind: DocKind,
) -> Result<HashMap<Uuid, HashMap<String, i64>>> {
    use sea_orm::QuerySelect;
    let mut out: HashMap<Uuid, HashMap<String, i64>> = HashMap::new();
    for chunk in issuers.chunks(500) {
        let rows: Vec<(Uuid, String, i64)> = credential_doc::Entity::find()
            .select_only()
            .column(credential_doc::Column::IssuerId)
            .column(credential_doc::Column::Status)
            .column_as(credential_doc::Column::Id.count(), "n")
            .filter(credential_doc::Column::Kind.eq(kind.as_str()))
            .filter(credential_doc::Column::IssuerId.is_in(chunk.to_vec()))
            .group_by(credential_doc::Column::IssuerId)
            .group_by(credential_doc::Column::Status)
            .into_tuple()
            .all(db)
            .await?;
        for (issuer, status, n) in rows {
            out.entry(issuer).or_default().insert(status, n);
        }
    }
    Ok(out)
}

/// Stored year results per class of a school's year (learners whose year is closed).
pub async fn result_counts<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    school_year_id: Uuid,
) -> Result<HashMap<Uuid, usize>> {
    use crate::entity::year_result;
    use sea_orm::QuerySelect;
    let rows: Vec<Uuid> = year_result::Entity::find()
        .select_only()
        .column(year_result::Column::ClassId)
        .filter(year_result::Column::SchoolId.eq(school_id))
        .filter(year_result::Column::SchoolYearId.eq(school_year_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = HashMap::new();
    for c in rows {
        *out.entry(c).or_insert(0) += 1;
    }
    Ok(out)
}

/// The school years of a school that have stored results (years whose học bạ can be issued).
pub async fn years_with_results<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Vec<Uuid>> {
    use crate::entity::year_result;
    use sea_orm::QuerySelect;
    Ok(year_result::Entity::find()
        .select_only()
        .column(year_result::Column::SchoolYearId)
        .filter(year_result::Column::SchoolId.eq(school_id))
        .distinct()
        .into_tuple()
        .all(db)
        .await?)
}

/// The account of the teacher a class records as its homeroom teacher (their staff record's
/// linked user), if any.
pub async fn homeroom_user<C: ConnectionTrait>(db: &C, class_id: Uuid) -> Result<Option<Uuid>> {
    let Some(c) = class::Entity::find_by_id(class_id).one(db).await? else {
        return Err(Error::not_found("unknown_class"));
    };
    let Some(staff_id) = c.homeroom_staff_id else {
        return Ok(None);
    };
    Ok(staff::Entity::find_by_id(staff_id)
        .one(db)
        .await?
        .and_then(|s| s.user_id))
}

/// A signing identity as the registry page lists it (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityRow {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    /// The holder's display name; None for the unit's own certificate.
    pub user_name: Option<String>,
    pub org_unit_id: Uuid,
    pub role: String,
    pub backend: String,
    pub subject: String,
    pub cert_sha256: String,
    pub not_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The active signing identities of a unit, by role then holder.
pub async fn identities<C: ConnectionTrait>(db: &C, org_unit_id: Uuid) -> Result<Vec<IdentityRow>> {
    let rows = signing_identity::Entity::find()
        .filter(signing_identity::Column::OrgUnitId.eq(org_unit_id))
        .filter(signing_identity::Column::Active.eq(true))
        .order_by_asc(signing_identity::Column::Role)
        .order_by_asc(signing_identity::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = vec![];
    for m in rows {
        let user_name = match m.user_id {
            Some(u) => user::Entity::find_by_id(u).one(db).await?.map(|u| u.display_name),
            None => None,
        };
        out.push(IdentityRow {
            id: m.id,
            user_id: m.user_id,
            user_name,
            org_unit_id: m.org_unit_id,
            role: m.role,
            backend: m.backend,
            subject: m.subject,
            cert_sha256: m.cert_sha256,
            not_after: m.not_after,
            created_at: m.created_at,
        });
    }
    Ok(out)
}

/// The unit an identity belongs to (for authorising its retirement).
pub async fn identity_unit<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Uuid> {
    signing_identity::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.active)
        .map(|m| m.org_unit_id)
        .ok_or_else(|| Error::not_found("unknown_signing_identity"))
}

/// Retires a signing identity: it signs nothing more (what it signed stays valid).
pub async fn deactivate_identity<C: ConnectionTrait>(db: &C, actor: &ActorRef, id: Uuid) -> Result<()> {
    let m = signing_identity::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| Error::not_found("unknown_signing_identity"))?;
    let (role, subject) = (m.role.clone(), m.subject.clone());
    let mut a: signing_identity::ActiveModel = m.into();
    a.active = Set(false);
    a.update(db).await?;
    audit::append(
        db,
        actor,
        audit::Change::new("credential.identity_retire", "signing_identity", id)
            .before(serde_json::json!({"active": true, "role": role, "subject": subject}))
            .after(serde_json::json!({"active": false})),
    )
    .await?;
    Ok(())
}

/// A learner who completed the level (THCS after grade 9, THPT after grade 12) in a school year,
/// with their diploma if one was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graduate {
    pub learner_id: Uuid,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub class_name: String,
    pub grade: u8,
    /// `tot_nghiep_thcs` or `tot_nghiep_thpt`.
    pub diploma_type: &'static str,
    /// The learner's diploma of this year (the newest), when one exists.
    pub diploma: Option<Doc>,
}

/// Learners of a school whose stored year result completes the level in `school_year_id`.
pub async fn graduates<C: ConnectionTrait>(
    db: &C,
    cipher: &crate::crypto::FieldCipher,
    school_id: Uuid,
    school_year_id: Uuid,
) -> Result<Vec<Graduate>> {
    use crate::entity::year_result;
    let classes: HashMap<Uuid, class::Model> = class::Entity::find()
        .filter(class::Column::SchoolId.eq(school_id))
        .filter(class::Column::SchoolYearId.eq(school_year_id))
        .filter(class::Column::Grade.is_in([9, 12]))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    if classes.is_empty() {
        return Ok(vec![]);
    }
    let results = year_result::Entity::find()
        .filter(year_result::Column::SchoolYearId.eq(school_year_id))
        .filter(year_result::Column::ClassId.is_in(classes.keys().copied().collect::<Vec<_>>()))
        .all(db)
        .await?;
    let diplomas = lean_all(
        db,
        lean()
            .filter(credential_doc::Column::Kind.eq(DocKind::VanBang.as_str()))
            .filter(credential_doc::Column::SchoolYearId.eq(school_year_id)),
    )
    .await?;
    let latest = latest_per_learner(&diplomas);
    let mut out = vec![];
    for r in results {
        let data: Value = serde_json::from_str(&r.data).map_err(|e| Error::Internal(e.to_string()))?;
        let completes = data
            .pointer("/secondary/year_end/completes_level")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !completes {
            continue;
        }
        let c = &classes[&r.class_id];
        let l = people::get_learner(db, cipher, r.learner_id).await?;
        out.push(Graduate {
            learner_id: r.learner_id,
            full_name: l.full_name,
            date_of_birth: l.date_of_birth,
            class_name: c.name.clone(),
            grade: c.grade as u8,
            diploma_type: if c.grade == 12 {
                "tot_nghiep_thpt"
            } else {
                "tot_nghiep_thcs"
            },
            diploma: latest.get(&r.learner_id).map(|d| (*d).clone()),
        });
    }
    out.sort_by(|a, b| {
        (&a.class_name, truongso_core::text::fold(&a.full_name))
            .cmp(&(&b.class_name, truongso_core::text::fold(&b.full_name)))
    });
    Ok(out)
}

/// What the registry clerk types for one diploma (Thông tư 21/2019 sổ gốc fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DiplomaInput {
    pub learner_id: Uuid,
    pub school_year_id: Uuid,
    /// Số hiệu văn bằng (printed on the blank form).
    pub serial: String,
    /// Số vào sổ gốc cấp văn bằng.
    pub register_no: String,
    pub decision_no: String,
    /// YYYY-MM-DD or dd/mm/yyyy.
    pub decision_date: String,
    /// `xuat_sac`, `gioi`, `kha`, `trung_binh`, or empty.
    pub classification: Option<String>,
    pub signer_title: String,
    pub signer_name: String,
}

pub const DIPLOMA_CLASSIFICATIONS: [&str; 4] = ["xuat_sac", "gioi", "kha", "trung_binh"];

fn invalid(field: &'static str, e: truongso_core::DomainError) -> Error {
    Error::Invalid(truongso_core::error::FieldError::new(field, e))
}

/// A registry number as the form prints it: upper case, letters, digits, `/`, `-`, `.`.
fn registry_number(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let v = truongso_core::text::clean(raw).to_uppercase();
    if v.is_empty() {
        return Err(invalid(field, truongso_core::DomainError::Required));
    }
    if v.chars().count() > max {
        return Err(invalid(field, truongso_core::DomainError::TooLong { max }));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | ' '))
    {
        return Err(invalid(field, truongso_core::DomainError::InvalidCharacters));
    }
    Ok(v)
}

fn required_text(field: &'static str, raw: &str, max: usize) -> Result<String> {
    let v = truongso_core::text::clean(raw);
    if v.is_empty() {
        return Err(invalid(field, truongso_core::DomainError::Required));
    }
    if v.chars().count() > max {
        return Err(invalid(field, truongso_core::DomainError::TooLong { max }));
    }
    Ok(v)
}

fn parse_day(field: &'static str, raw: &str) -> Result<NaiveDate> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(invalid(field, truongso_core::DomainError::Required));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .map_err(|_| invalid(field, truongso_core::DomainError::InvalidDate))
}

/// The canonical record of a diploma from the learner's stored result and the typed registry
/// fields, checked: the learner completed the level that year, the numbers are well formed, the
/// decision is dated within the school year's end and `issued_on`. The issuer is the Sở above
/// the school.
pub async fn van_bang_record<C: ConnectionTrait>(
    db: &C,
    cipher: &crate::crypto::FieldCipher,
    input: &DiplomaInput,
    issued_on: NaiveDate,
    doc_id: String,
) -> Result<(truongso_core::credentials::VanBang, Uuid)> {
    use crate::entity::year_result;
    let serial = registry_number("serial", &input.serial, 30)?;
    let register_no = registry_number("register_no", &input.register_no, 30)?;
    let decision_no = required_text("decision_no", &input.decision_no, 60)?;
    let decision_date = parse_day("decision_date", &input.decision_date)?;
    let signer_title = required_text("signer_title", &input.signer_title, 100)?;
    let signer_name = required_text("signer_name", &input.signer_name, 100)?;
    let classification = match input.classification.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) if DIPLOMA_CLASSIFICATIONS.contains(&c) => Some(c.to_string()),
        Some(_) => return Err(invalid("classification", truongso_core::DomainError::UnknownCode)),
    };
    let result = year_result::Entity::find()
        .filter(year_result::Column::LearnerId.eq(input.learner_id))
        .filter(year_result::Column::SchoolYearId.eq(input.school_year_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::Conflict(Msg::new("not_a_graduate")))?;
    let data: Value = serde_json::from_str(&result.data).map_err(|e| Error::Internal(e.to_string()))?;
    let c = class::Entity::find_by_id(result.class_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_class"))?;
    let completes = data
        .pointer("/secondary/year_end/completes_level")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !completes || !matches!(c.grade, 9 | 12) {
        return Err(Error::Conflict(Msg::new("not_a_graduate")));
    }
    let year = crate::school_years::get(db, input.school_year_id).await?;
    if decision_date < year.starts_on || decision_date > issued_on {
        return Err(Error::Conflict(
            Msg::new("decision_date_outside")
                .with("from", year.starts_on.format("%d/%m/%Y"))
                .with("to", issued_on.format("%d/%m/%Y")),
        ));
    }
    let school = org::get(db, c.school_id).await?;
    let so = org::ancestors(db, &school)
        .await?
        .into_iter()
        .find(|u| u.kind == truongso_core::org::OrgKind::ProvinceDept)
        .ok_or_else(|| Error::Conflict(Msg::new("no_issuing_department")))?;
    let issuer = issuer(db, so.id).await?;
    let l = people::get_learner(db, cipher, input.learner_id).await?;
    let record = truongso_core::credentials::VanBang {
        schema: record::VAN_BANG_SCHEMA.into(),
        doc_id,
        diploma_type: if c.grade == 12 {
            "tot_nghiep_thpt"
        } else {
            "tot_nghiep_thcs"
        }
        .into(),
        issuer,
        learner: record_learner(&l),
        school_name: school.name.clone(),
        graduation_year: year.ends_on.format("%Y").to_string().parse().unwrap_or(0),
        classification,
        training_mode: "chinh_quy".into(),
        serial,
        register_no,
        decision_no,
        decision_date: decision_date.format("%Y-%m-%d").to_string(),
        signer_title,
        signer_name,
        issued_on: issued_on.format("%Y-%m-%d").to_string(),
    };
    Ok((record, so.id))
}

/// Opens a diploma for signing: số hiệu and số vào sổ gốc are unique in the registry (a revoked
/// diploma keeps its numbers: the blank form is spent), and a learner gets one diploma of a kind
/// unless it corrects the one before. Checked and written under one lock so two clerks cannot
/// both take a number.
pub async fn create_diploma<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &ActorRef,
    new: NewDoc<'_>,
) -> Result<Doc> {
    let keys = new
        .diploma
        .as_ref()
        .ok_or_else(|| Error::Internal("a diploma without its registry keys".into()))?;
    let txn = db.begin().await?;
    match txn.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            txn.execute_unprepared("UPDATE credential_docs SET version = version WHERE 0 = 1")
                .await?;
        }
        _ => {
            // One registry-wide lock (an arbitrary constant key) for the rest of the transaction.
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(5502190821)")
                .await?;
        }
    }
    let taken = |col: credential_doc::Column, v: &str| {
        credential_doc::Entity::find()
            .filter(credential_doc::Column::Kind.eq(DocKind::VanBang.as_str()))
            .filter(col.eq(v.to_string()))
            .filter(credential_doc::Column::Status.ne("superseded"))
    };
    let mut serial_q = taken(credential_doc::Column::Serial, keys.serial);
    let mut register_q = taken(credential_doc::Column::RegisterNo, keys.register_no);
    if let Some(old) = new.corrects {
        serial_q = serial_q.filter(credential_doc::Column::Id.ne(old));
        register_q = register_q.filter(credential_doc::Column::Id.ne(old));
    }
    if serial_q.one(&txn).await?.is_some() {
        return Err(Error::Conflict(
            Msg::new("duplicate_diploma_serial").with("serial", keys.serial),
        ));
    }
    if register_q.one(&txn).await?.is_some() {
        return Err(Error::Conflict(
            Msg::new("duplicate_register_no").with("number", keys.register_no),
        ));
    }
    if new.corrects.is_none()
        && let Some(l) = new.learner_id
        && credential_doc::Entity::find()
            .filter(credential_doc::Column::Kind.eq(DocKind::VanBang.as_str()))
            .filter(credential_doc::Column::LearnerId.eq(l))
            .filter(credential_doc::Column::SchoolYearId.eq(new.school_year_id))
            .filter(credential_doc::Column::Status.is_in(["signing", "issued"]))
            .one(&txn)
            .await?
            .is_some()
    {
        return Err(Error::Conflict(Msg::new("diploma_exists")));
    }
    let doc = create(&txn, actor, new).await?;
    txn.commit().await?;
    Ok(doc)
}

/// One line of the diploma registry: the document, its registry numbers and its record (the
/// holder's name and the diploma's facts; the PDF is not loaded).
#[derive(Debug, Clone)]
pub struct RegistryEntry {
    pub doc: Doc,
    pub serial: String,
    pub register_no: String,
    pub record: Option<truongso_core::credentials::VanBang>,
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct RegistryRow {
    id: Uuid,
    serial: Option<String>,
    register_no: Option<String>,
    record: String,
}

/// The diploma registry of an issuing unit, newest first, optionally searched by số hiệu, số vào
/// sổ gốc or the holder's name (any case, with or without accents).
pub async fn diplomas<C: ConnectionTrait>(
    db: &C,
    issuer_id: Uuid,
    query: &str,
    limit: u64,
) -> Result<Vec<RegistryEntry>> {
    use sea_orm::{Condition, QuerySelect};
    let q = truongso_core::text::clean(query);
    let mut cond = Condition::all()
        .add(credential_doc::Column::Kind.eq(DocKind::VanBang.as_str()))
        .add(credential_doc::Column::IssuerId.eq(issuer_id));
    if !q.is_empty() {
        let upper = q.to_uppercase();
        cond = cond.add(
            Condition::any()
                .add(credential_doc::Column::Serial.eq(upper.clone()))
                .add(credential_doc::Column::RegisterNo.eq(upper))
                .add(credential_doc::Column::NameFolded.contains(truongso_core::text::fold(&q))),
        );
    }
    let docs = lean_all(db, lean().filter(cond.clone()).limit(limit)).await?;
    let rows: HashMap<Uuid, RegistryRow> = credential_doc::Entity::find()
        .select_only()
        .column(credential_doc::Column::Id)
        .column(credential_doc::Column::Serial)
        .column(credential_doc::Column::RegisterNo)
        .column(credential_doc::Column::Record)
        .filter(credential_doc::Column::Id.is_in(docs.iter().map(|d| d.id).collect::<Vec<_>>()))
        .into_model::<RegistryRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(docs
        .into_iter()
        .map(|doc| {
            let row = rows.get(&doc.id);
            RegistryEntry {
                serial: row.and_then(|r| r.serial.clone()).unwrap_or_default(),
                register_no: row.and_then(|r| r.register_no.clone()).unwrap_or_default(),
                record: row.and_then(|r| match record::Record::parse(r.record.as_bytes()) {
                    Ok(record::Record::VanBang(v)) => Some(*v),
                    _ => None,
                }),
                doc,
            }
        })
        .collect())
}

/// The school where a learner's year result was recorded (their school that year), if any.
pub async fn result_school<C: ConnectionTrait>(
    db: &C,
    learner_id: Uuid,
    school_year_id: Uuid,
) -> Result<Option<Uuid>> {
    use crate::entity::year_result;
    Ok(year_result::Entity::find()
        .filter(year_result::Column::LearnerId.eq(learner_id))
        .filter(year_result::Column::SchoolYearId.eq(school_year_id))
        .one(db)
        .await?
        .map(|r| r.school_id))
}

/// The classes a teacher is the homeroom teacher of record of (their staff records' classes),
/// newest year first.
pub async fn homeroom_classes<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<class::Model>> {
    let staff_ids: Vec<Uuid> = staff::Entity::find()
        .filter(staff::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if staff_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(class::Entity::find()
        .filter(class::Column::HomeroomStaffId.is_in(staff_ids))
        .order_by_desc(class::Column::SchoolYearId)
        .order_by_asc(class::Column::Name)
        .all(db)
        .await?)
}

/// The active accounts a unit owns (id, display name, username), by name: who may hold one of
/// the unit's signing identities.
pub async fn unit_people<C: ConnectionTrait>(db: &C, unit_id: Uuid) -> Result<Vec<(Uuid, String, String)>> {
    Ok(user::Entity::find()
        .filter(user::Column::OwnerOrgId.eq(unit_id))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::NameFolded)
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name, u.username))
        .collect())
}
