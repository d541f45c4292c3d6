//! Domain errors. Each has a stable machine code (used in JSON errors and as the message-catalogue
//! key `error.<code>`) and the parameters its message needs.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("required")]
    Required,
    #[error("too long (max {max})")]
    TooLong { max: usize },
    #[error("too short (min {min})")]
    TooShort { min: usize },
    #[error("invalid characters")]
    InvalidCharacters,
    #[error("invalid org code")]
    InvalidOrgCode,
    #[error("unknown org kind")]
    UnknownOrgKind,
    #[error("invalid parent kind")]
    InvalidParent,
    #[error("unknown school level")]
    UnknownSchoolLevel,
    #[error("school levels required")]
    SchoolLevelsRequired,
    #[error("invalid date")]
    InvalidDate,
    #[error("date range reversed")]
    DateRangeReversed,
    #[error("effective periods overlap")]
    PeriodsOverlap,
    #[error("invalid school year")]
    InvalidSchoolYear,
    #[error("term outside school year")]
    TermOutsideYear,
    #[error("terms overlap or out of order")]
    TermsOutOfOrder,
    #[error("unknown term")]
    UnknownTerm,
    #[error("invalid username")]
    InvalidUsername,
    #[error("weak password")]
    WeakPassword,
    #[error("password contains username")]
    PasswordContainsUsername,
    #[error("invalid email")]
    InvalidEmail,
    #[error("invalid phone")]
    InvalidPhone,
    #[error("unknown role")]
    UnknownRole,
    #[error("scope not allowed for role")]
    ScopeNotAllowedForRole,
    #[error("unknown scope kind")]
    UnknownScopeKind,
    #[error("unknown sex")]
    UnknownSex,
    #[error("invalid CCCD")]
    InvalidCccd,
    #[error("CCCD province code impossible")]
    CccdProvince,
    #[error("CCCD birth year disagrees with date of birth")]
    CccdBirthYearMismatch,
    #[error("CCCD sex disagrees with the record")]
    CccdSexMismatch,
    #[error("CCCD birth year in the future")]
    CccdFutureYear,
    #[error("unknown code")]
    UnknownCode,
    #[error("code not in force on that date")]
    CodeNotInForce,
    #[error("grade not taught by the school")]
    GradeNotTaught,
    #[error("not a number")]
    InvalidNumber,
    #[error("out of range ({min}..={max})")]
    OutOfRange { min: i64, max: i64 },
    #[error("at most one decimal")]
    TooManyDecimals,
    #[error("whole number required")]
    WholeNumberRequired,
    #[error("not a level of this scale")]
    InvalidLevel,
    #[error("subject not in the grade's programme")]
    SubjectNotInGrade,
    #[error("too many marks (max {max})")]
    TooManyMarks { max: u8 },
    #[error("rule set kept for reading only")]
    RulesNotComputed,
}

impl DomainError {
    /// Stable code, part of the public API: never renamed.
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            Required => "required",
            TooLong { .. } => "too_long",
            TooShort { .. } => "too_short",
            InvalidCharacters => "invalid_characters",
            InvalidOrgCode => "invalid_org_code",
            UnknownOrgKind => "unknown_org_kind",
            InvalidParent => "invalid_parent",
            UnknownSchoolLevel => "unknown_school_level",
            SchoolLevelsRequired => "school_levels_required",
            InvalidDate => "invalid_date",
            DateRangeReversed => "date_range_reversed",
            PeriodsOverlap => "periods_overlap",
            InvalidSchoolYear => "invalid_school_year",
            TermOutsideYear => "term_outside_year",
            TermsOutOfOrder => "terms_out_of_order",
            UnknownTerm => "unknown_term",
            InvalidUsername => "invalid_username",
            WeakPassword => "weak_password",
            PasswordContainsUsername => "password_contains_username",
            InvalidEmail => "invalid_email",
            InvalidPhone => "invalid_phone",
            UnknownRole => "unknown_role",
            ScopeNotAllowedForRole => "scope_not_allowed_for_role",
            UnknownScopeKind => "unknown_scope_kind",
            UnknownSex => "unknown_sex",
            InvalidCccd => "invalid_cccd",
            CccdProvince => "cccd_province",
            CccdBirthYearMismatch => "cccd_birth_year_mismatch",
            CccdSexMismatch => "cccd_sex_mismatch",
            CccdFutureYear => "cccd_future_year",
            UnknownCode => "unknown_code",
            CodeNotInForce => "code_not_in_force",
            GradeNotTaught => "grade_not_taught",
            InvalidNumber => "invalid_number",
            OutOfRange { .. } => "out_of_range",
            TooManyDecimals => "too_many_decimals",
            WholeNumberRequired => "whole_number_required",
            InvalidLevel => "invalid_level",
            SubjectNotInGrade => "subject_not_in_grade",
            TooManyMarks { .. } => "too_many_marks",
            RulesNotComputed => "rules_not_computed",
        }
    }

    /// Parameters interpolated into the catalogue message.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            DomainError::TooLong { max } => vec![("max", max.to_string())],
            DomainError::TooShort { min } => vec![("min", min.to_string())],
            DomainError::OutOfRange { min, max } => vec![("min", min.to_string()), ("max", max.to_string())],
            DomainError::TooManyMarks { max } => vec![("max", max.to_string())],
            _ => vec![],
        }
    }
}

/// An error tied to the input field that caused it, so forms can show it beside the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub error: DomainError,
}

impl FieldError {
    pub fn new(field: &'static str, error: DomainError) -> Self {
        Self { field, error }
    }
}

/// Attach a field name to a domain result.
pub trait OnField<T> {
    fn on(self, field: &'static str) -> Result<T, FieldError>;
}

impl<T> OnField<T> for Result<T, DomainError> {
    fn on(self, field: &'static str) -> Result<T, FieldError> {
        self.map_err(|e| FieldError::new(field, e))
    }
}
