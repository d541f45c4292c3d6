//! Vietnamese text handling shared by every layer: NFC on the way in, a folded form for search.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Unicode NFC: the one form we store, compare, hash and sign.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// NFC, trimmed, with inner runs of white space collapsed to one space.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    nfc(&out)
}

/// Search key: lowercase, diacritics removed, đ→d. SQLite's LOWER folds ASCII only and
/// PostgreSQL's LIKE is case-sensitive, so searchable columns store this form computed here.
pub fn fold(s: &str) -> String {
    clean(s)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// Validated human name (a person's or an organisation's): 1..=max characters after cleaning,
/// no control characters.
pub fn parse_name(s: &str, max_chars: usize) -> Result<String, crate::DomainError> {
    let cleaned = clean(s);
    let n = cleaned.chars().count();
    if n == 0 {
        return Err(crate::DomainError::Required);
    }
    if n > max_chars {
        return Err(crate::DomainError::TooLong { max: max_chars });
    }
    if cleaned.chars().any(char::is_control) {
        return Err(crate::DomainError::InvalidCharacters);
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_diacritics_and_case() {
        assert_eq!(fold("  ĐẶNG  Thị   Ánh "), "dang thi anh");
        assert_eq!(fold("Trường THCS Nguyễn Du"), "truong thcs nguyen du");
        assert_eq!(fold("Sở GD&ĐT"), "so gd&dt");
    }

    #[test]
    fn nfc_composes_decomposed_input() {
        let decomposed = "Tie\u{0302}\u{0301}ng Vie\u{0323}\u{0302}t";
        assert_eq!(nfc(decomposed), "Tiếng Việt");
        assert_eq!(clean(decomposed).chars().count(), "Tiếng Việt".chars().count());
    }

    #[test]
    fn parse_name_rejects_empty_long_and_control() {
        assert_eq!(parse_name("   ", 10), Err(crate::DomainError::Required));
        assert_eq!(
            parse_name("Nguyễn Văn A", 5),
            Err(crate::DomainError::TooLong { max: 5 })
        );
        assert_eq!(
            parse_name("a\u{0007}b", 5),
            Err(crate::DomainError::InvalidCharacters)
        );
        assert_eq!(parse_name(" Lê  Lợi ", 20).unwrap(), "Lê Lợi");
    }
}
