//! Administrative units of an address, effective-dated: the 63 provinces until 30/6/2025 and
//! the 34 formed by Resolution 202/2025/QH15 from 1/7/2025 (payments_identity.md §2.3). A
//! learner's address is stored with the date it was recorded, and its province code is checked
//! against the list in force on that date, so records typed before the merger stay valid.
//!
//! UNCERTAIN: the new two-digit codes of QĐ 19/2025/QĐ-TTg. Two readings conflict; this table
//! follows the one that keeps the code of the province whose name survived (Lào Cai 10, Bắc
//! Ninh 27). Communes have five-digit GSO codes; their post-2025 list is not in the domain files,
//! so only the form of a commune code is checked.

use crate::DomainError;
use crate::people::cccd::LEGACY_PROVINCES;
use chrono::NaiveDate;

/// The first day of the two-tier local government.
pub fn reform_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("constant date")
}

/// Provinces in force from 1/7/2025: (code, name, legacy codes merged into it).
pub const PROVINCES_2025: [(&str, &str, &[&str]); 34] = [
    ("01", "Hà Nội", &["01"]),
    ("46", "Huế", &["46"]),
    ("04", "Cao Bằng", &["04"]),
    ("11", "Điện Biên", &["11"]),
    ("12", "Lai Châu", &["12"]),
    ("14", "Sơn La", &["14"]),
    ("20", "Lạng Sơn", &["20"]),
    ("22", "Quảng Ninh", &["22"]),
    ("38", "Thanh Hóa", &["38"]),
    ("40", "Nghệ An", &["40"]),
    ("42", "Hà Tĩnh", &["42"]),
    ("08", "Tuyên Quang", &["08", "02"]),
    ("10", "Lào Cai", &["10", "15"]),
    ("19", "Thái Nguyên", &["19", "06"]),
    ("25", "Phú Thọ", &["25", "26", "17"]),
    ("27", "Bắc Ninh", &["27", "24"]),
    ("33", "Hưng Yên", &["33", "34"]),
    ("31", "TP Hải Phòng", &["31", "30"]),
    ("37", "Ninh Bình", &["37", "35", "36"]),
    ("45", "Quảng Trị", &["45", "44"]),
    ("48", "TP Đà Nẵng", &["48", "49"]),
    ("51", "Quảng Ngãi", &["51", "62"]),
    ("64", "Gia Lai", &["64", "52"]),
    ("56", "Khánh Hòa", &["56", "58"]),
    ("68", "Lâm Đồng", &["68", "67", "60"]),
    ("66", "Đắk Lắk", &["66", "54"]),
    ("79", "TP Hồ Chí Minh", &["79", "74", "77"]),
    ("75", "Đồng Nai", &["75", "70"]),
    ("72", "Tây Ninh", &["72", "80"]),
    ("92", "TP Cần Thơ", &["92", "94", "93"]),
    ("86", "Vĩnh Long", &["86", "83", "84"]),
    ("87", "Đồng Tháp", &["87", "82"]),
    ("96", "Cà Mau", &["96", "95"]),
    ("89", "An Giang", &["89", "91"]),
];

/// The name of the province with this two-digit code on a date, if one was in force.
pub fn province_on(code: &str, on: NaiveDate) -> Option<&'static str> {
    if on >= reform_day() {
        PROVINCES_2025
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, n, _)| *n)
    } else {
        LEGACY_PROVINCES
            .iter()
            .find(|(c, _)| c.strip_prefix('0') == Some(code))
            .map(|(_, n)| *n)
    }
}

/// The province in force today that a (possibly legacy) province code now belongs to.
pub fn successor(code: &str) -> Option<&'static str> {
    PROVINCES_2025
        .iter()
        .find(|(_, _, from)| from.contains(&code))
        .map(|(c, _, _)| *c)
}

/// A two-digit province code in force on `on`.
pub fn parse_province(input: &str, on: NaiveDate) -> Result<String, DomainError> {
    let code = normalise(input, 2)?;
    if province_on(&code, on).is_some() {
        Ok(code)
    } else if LEGACY_PROVINCES
        .iter()
        .any(|(c, _)| c.strip_prefix('0') == Some(code.as_str()))
    {
        Err(DomainError::CodeNotInForce)
    } else {
        Err(DomainError::UnknownCode)
    }
}

/// A five-digit commune code (form only: the post-2025 commune list is UNCERTAIN).
pub fn parse_commune(input: &str) -> Result<String, DomainError> {
    normalise(input, 5)
}

fn normalise(input: &str, len: usize) -> Result<String, DomainError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(DomainError::Required);
    }
    if !t.chars().all(|c| c.is_ascii_digit()) || t.len() > len {
        return Err(DomainError::InvalidCharacters);
    }
    Ok(format!("{t:0>len$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn codes_follow_the_merger_date() {
        // Hà Giang (02) existed until 30/6/2025 and was merged into Tuyên Quang (08).
        assert_eq!(parse_province("2", d(2024, 9, 5)), Ok("02".into()));
        assert_eq!(
            parse_province("02", d(2025, 7, 1)),
            Err(DomainError::CodeNotInForce)
        );
        assert_eq!(parse_province("08", d(2026, 9, 5)), Ok("08".into()));
        assert_eq!(province_on("08", d(2026, 1, 1)), Some("Tuyên Quang"));
        assert_eq!(successor("02"), Some("08"));
        assert_eq!(successor("95"), Some("96"));
        assert_eq!(parse_province("99", d(2026, 1, 1)), Err(DomainError::UnknownCode));
        assert_eq!(
            parse_province("0x", d(2026, 1, 1)),
            Err(DomainError::InvalidCharacters)
        );
        assert_eq!(parse_commune("2269"), Ok("02269".into()));
        assert_eq!(parse_commune("123456"), Err(DomainError::InvalidCharacters));
    }

    #[test]
    fn every_legacy_province_has_one_successor() {
        assert_eq!(PROVINCES_2025.len(), 34);
        for (code, name) in LEGACY_PROVINCES {
            let two = code.strip_prefix('0').unwrap();
            let n = PROVINCES_2025.iter().filter(|(_, _, f)| f.contains(&two)).count();
            assert_eq!(n, 1, "{name} ({two}) belongs to exactly one new province");
        }
    }
}
