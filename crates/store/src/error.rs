//! Store errors: validation and business conflicts carry the stable code of their message
//! (`error.<code>` in the catalogue) so every layer reports them the same way.

use truongso_core::error::FieldError;

/// A message reference: catalogue code plus the values its placeholders need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Msg {
    pub fn new(code: &'static str) -> Self {
        Self { code, params: vec![] }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input field failed domain validation.
    #[error("invalid field {}: {}", .0.field, .0.error)]
    Invalid(FieldError),
    /// The referenced record does not exist.
    #[error("not found: {}", .0.code)]
    NotFound(Msg),
    /// The write conflicts with existing data (duplicate code, username…).
    #[error("conflict: {}", .0.code)]
    Conflict(Msg),
    /// The actor may not perform this operation.
    #[error("forbidden")]
    Forbidden,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("io: {0}")]
    Io(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(e)
    }
}

impl Error {
    pub fn not_found(code: &'static str) -> Self {
        Error::NotFound(Msg::new(code))
    }

    pub fn conflict(code: &'static str) -> Self {
        Error::Conflict(Msg::new(code))
    }

    pub fn invalid(field: &'static str, e: truongso_core::DomainError) -> Self {
        Error::Invalid(FieldError::new(field, e))
    }
}

pub type Result<T> = std::result::Result<T, Error>;
