//! People: learners, guardians and staff. The foundation of the school-records capability:
//! identity numbers that parse and check themselves against the record.

pub mod cccd;

pub use cccd::{Cccd, Sex};

/// A guardian's relation to a learner: `father`, `mother` or `other`, typed as the code or in
/// Vietnamese ("Cha", "Bố", "Mẹ", "Người giám hộ"), with or without diacritics.
pub fn parse_relation(input: &str) -> Result<&'static str, crate::DomainError> {
    match crate::text::fold(input).as_str() {
        "" => Err(crate::DomainError::Required),
        "cha" | "bo" | "ba" | "father" | "bo de" | "cha de" => Ok("father"),
        "me" | "ma" | "mother" | "me de" => Ok("mother"),
        "nguoi giam ho" | "giam ho" | "guardian" | "other" | "khac" => Ok("other"),
        _ => Err(crate::DomainError::UnknownCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations() {
        assert_eq!(parse_relation("Cha"), Ok("father"));
        assert_eq!(parse_relation("MẸ"), Ok("mother"));
        assert_eq!(parse_relation("Người giám hộ"), Ok("other"));
        assert_eq!(parse_relation("nguoi giam ho"), Ok("other"));
        assert_eq!(parse_relation(""), Err(crate::DomainError::Required));
        assert_eq!(parse_relation("Chú"), Err(crate::DomainError::UnknownCode));
    }
}
