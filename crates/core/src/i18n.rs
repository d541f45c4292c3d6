//! The one message catalogue. Vietnamese is the default locale, English the second. Messages
//! live in `messages/*.toml` (nested tables flatten to dotted keys) and may hold `{name}`
//! placeholders.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Vi,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Vi => "vi",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" | "vi-vn" => Some(Locale::Vi),
            "en" | "en-us" | "en-gb" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks a locale from an `Accept-Language` header, Vietnamese unless English is preferred.
    pub fn from_accept_language(header: &str) -> Self {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| Locale::parse(tag.split('-').next().unwrap_or(tag)))
            .unwrap_or_default()
    }
}

const VI: &str = include_str!("../messages/vi.toml");
const EN: &str = include_str!("../messages/en.toml");

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, crate::text::nfc(s));
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => panic!("message {key} must be a string, found {other:?}"),
        }
    }
}

fn parse(src: &str) -> HashMap<String, String> {
    let table: toml::Table = src
        .parse()
        .unwrap_or_else(|e: toml::de::Error| panic!("message catalogue: {}", e.message()));
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn catalogue(locale: Locale) -> &'static HashMap<String, String> {
    static VI_MAP: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN_MAP: OnceLock<HashMap<String, String>> = OnceLock::new();
    match locale {
        Locale::Vi => VI_MAP.get_or_init(|| parse(VI)),
        Locale::En => EN_MAP.get_or_init(|| parse(EN)),
    }
}

/// The message for `key`; falls back to Vietnamese, then to the key itself so a missing message
/// is visible rather than blank.
pub fn t(locale: Locale, key: &str) -> &'static str {
    catalogue(locale)
        .get(key)
        .or_else(|| catalogue(Locale::Vi).get(key))
        .map(String::as_str)
        .unwrap_or_else(|| Box::leak(key.to_string().into_boxed_str()))
}

/// The message for `key` with `{name}` placeholders filled.
pub fn tf(locale: Locale, key: &str, params: &[(&str, String)]) -> String {
    let mut s = t(locale, key).to_string();
    for (name, value) in params {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The message for a domain error.
pub fn error_message(locale: Locale, e: &crate::DomainError) -> String {
    tf(locale, &format!("error.{}", e.code()), &e.params())
}

pub fn keys(locale: Locale) -> Vec<&'static str> {
    let mut k: Vec<_> = catalogue(locale).keys().map(String::as_str).collect();
    k.sort();
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainError;

    #[test]
    fn both_locales_have_the_same_keys() {
        assert_eq!(keys(Locale::Vi), keys(Locale::En));
        assert!(keys(Locale::Vi).len() > 50);
    }

    #[test]
    fn every_domain_error_has_a_message() {
        use DomainError::*;
        let all = [
            Required,
            TooLong { max: 1 },
            TooShort { min: 1 },
            InvalidCharacters,
            InvalidOrgCode,
            UnknownOrgKind,
            InvalidParent,
            UnknownSchoolLevel,
            SchoolLevelsRequired,
            InvalidDate,
            DateRangeReversed,
            PeriodsOverlap,
            InvalidSchoolYear,
            TermOutsideYear,
            TermsOutOfOrder,
            UnknownTerm,
            InvalidUsername,
            WeakPassword,
            PasswordContainsUsername,
            InvalidEmail,
            InvalidPhone,
            UnknownRole,
            ScopeNotAllowedForRole,
            UnknownScopeKind,
            UnknownSex,
            InvalidCccd,
            CccdProvince,
            CccdBirthYearMismatch,
            CccdSexMismatch,
            CccdFutureYear,
            UnknownCode,
        ];
        for e in all {
            let key = format!("error.{}", e.code());
            assert!(catalogue(Locale::Vi).contains_key(&key), "missing {key}");
        }
        assert_eq!(
            error_message(Locale::Vi, &TooLong { max: 200 }),
            "Dài quá 200 ký tự."
        );
    }

    #[test]
    fn vietnamese_text_is_nfc_and_interpolated() {
        let s = tf(Locale::Vi, "error.too_short", &[("min", "8".into())]);
        assert_eq!(s, "Cần ít nhất 8 ký tự.");
        assert_eq!(
            t(Locale::En, "error.too_short"),
            "At least {min} characters are needed."
        );
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9,vi;q=0.8"),
            Locale::En
        );
        assert_eq!(Locale::from_accept_language("fr-FR"), Locale::Vi);
    }
}
