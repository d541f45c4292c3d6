use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The person who signs; None for a unit's own certificate (con dấu).
    pub user_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    /// "gvcn" | "hieu_truong" | "con_dau" | "giam_doc_so".
    pub role: String,
    /// "pkcs12" | "pkcs11" | "remote".
    pub backend: String,
    /// Backend settings (JSON): file path, module and token, or URL and key id.
    pub config: String,
    /// Password, PIN or bearer token, encrypted with the data key.
    pub secret_enc: Option<String>,
    pub cert_sha256: String,
    pub subject: String,
    pub not_after: DateTimeUtc,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
