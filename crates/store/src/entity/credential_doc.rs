use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential_docs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doc_id: String,
    pub kind: String,
    /// The school (học bạ) or the unit issuing the diploma.
    pub issuer_id: Uuid,
    pub learner_id: Option<Uuid>,
    pub school_year_id: Option<Uuid>,
    pub class_id: Option<Uuid>,
    /// "signing" | "issued" | "superseded" | "revoked".
    pub status: String,
    /// The canonical record (RFC 8785 bytes as text).
    pub record: String,
    pub sha256_data: String,
    /// The PDF as signed so far (the final one once issued).
    pub pdf: Option<Vec<u8>>,
    pub sha256_pdf: Option<String>,
    /// JSON list of the signatures applied, in order.
    pub signatures: String,
    /// The role whose signature comes next; None once all have signed.
    pub next_role: Option<String>,
    /// The document this one corrects.
    pub corrects: Option<Uuid>,
    pub leaf_index: Option<i64>,
    pub revoke_leaf: Option<i64>,
    pub revoke_reason: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Diplomas: số hiệu, số vào sổ gốc and the lookup keys of the public search.
    pub serial: Option<String>,
    pub register_no: Option<String>,
    pub name_folded: Option<String>,
    pub date_of_birth: Option<Date>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub issued_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
