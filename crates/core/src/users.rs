//! Account fields that parse: usernames, e-mail addresses, Vietnamese phone numbers.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Login name: 3–64 of a–z, 0–9, '.', '_', '-', '@'; stored lower-case so logins are
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim().to_lowercase();
        let n = t.chars().count();
        if n < 3 {
            return Err(DomainError::TooShort { min: 3 });
        }
        if n > 64 {
            return Err(DomainError::TooLong { max: 64 });
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(DomainError::InvalidUsername);
        }
        Ok(Self(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for shape only (delivery proves the rest).
pub fn parse_email(s: &str) -> Result<String, DomainError> {
    let t = s.trim().to_lowercase();
    let (local, domain) = t.split_once('@').ok_or(DomainError::InvalidEmail)?;
    let ok = !local.is_empty()
        && t.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if ok { Ok(t) } else { Err(DomainError::InvalidEmail) }
}

/// A Vietnamese phone number, normalised to the 10-digit national form `0xxxxxxxxx`.
/// Accepts spaces, dots and dashes, and the `+84` / `84` prefixes.
pub fn parse_phone(s: &str) -> Result<String, DomainError> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = digits.strip_prefix("+84") {
        format!("0{rest}")
    } else if digits.starts_with("84") && digits.len() == 11 {
        format!("0{}", &digits[2..])
    } else {
        digits
    };
    if national.len() == 10 && national.starts_with('0') && national.chars().all(|c| c.is_ascii_digit()) {
        Ok(national)
    } else {
        Err(DomainError::InvalidPhone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse(" Admin.Truong ").unwrap().as_str(),
            "admin.truong"
        );
        assert_eq!(Username::parse("ab"), Err(DomainError::TooShort { min: 3 }));
        assert_eq!(Username::parse("nguyễn"), Err(DomainError::InvalidUsername));
        assert_eq!(Username::parse("a b c"), Err(DomainError::InvalidUsername));
    }

    #[test]
    fn emails() {
        assert_eq!(
            parse_email(" Co.Lan@Truong.EDU.vn ").unwrap(),
            "co.lan@truong.edu.vn"
        );
        assert!(parse_email("no-at-sign").is_err());
        assert!(parse_email("a@b").is_err());
        assert!(parse_email("a b@c.vn").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(parse_phone("0912 345 678").unwrap(), "0912345678");
        assert_eq!(parse_phone("+84 912.345.678").unwrap(), "0912345678");
        assert_eq!(parse_phone("84912345678").unwrap(), "0912345678");
        assert!(parse_phone("12345").is_err());
        assert!(parse_phone("09123456789").is_err());
    }
}
