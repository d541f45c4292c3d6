//! Mã định danh cá nhân / CCCD: 12 digits `PPP G YY RRRRRR` (payments_identity.md §2.1).
//!
//! - `PPP`: the province where the birth was registered. The 63 legacy codes are known; since
//!   the 2025 merger new prefixes are UNCERTAIN, so any `0dd` is accepted and an unknown one is
//!   labelled "unknown province" rather than rejected. A prefix that cannot be a province code
//!   (not starting with 0) is rejected.
//! - `G`: century and sex: 0/1 → 1900s male/female, 2/3 → 2000s, 4/5 → 2100s, … (rows past the
//!   21st century are UNCERTAIN in the sources but follow the same rule).
//! - `YY`: last two digits of the birth year.
//! - There is **no check digit**: generators that claim one are wrong, so none is checked.

use crate::DomainError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Sex as the sector database codes it (DM_GIOI_TINH: 01 male, 02 female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn moet_code(self) -> &'static str {
        match self {
            Sex::Male => "01",
            Sex::Female => "02",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Accepts the stored form, the MOET code, or the Vietnamese word (any case, with or
    /// without diacritics).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match crate::text::fold(s).as_str() {
            "male" | "01" | "1" | "nam" | "m" => Ok(Sex::Male),
            "female" | "02" | "2" | "nu" | "f" => Ok(Sex::Female),
            _ => Err(DomainError::UnknownSex),
        }
    }
}

/// The 63 legacy province codes used in the first three digits (payments_identity.md §2.2).
pub const LEGACY_PROVINCES: [(&str, &str); 63] = [
    ("001", "Hà Nội"),
    ("002", "Hà Giang"),
    ("004", "Cao Bằng"),
    ("006", "Bắc Kạn"),
    ("008", "Tuyên Quang"),
    ("010", "Lào Cai"),
    ("011", "Điện Biên"),
    ("012", "Lai Châu"),
    ("014", "Sơn La"),
    ("015", "Yên Bái"),
    ("017", "Hòa Bình"),
    ("019", "Thái Nguyên"),
    ("020", "Lạng Sơn"),
    ("022", "Quảng Ninh"),
    ("024", "Bắc Giang"),
    ("025", "Phú Thọ"),
    ("026", "Vĩnh Phúc"),
    ("027", "Bắc Ninh"),
    ("030", "Hải Dương"),
    ("031", "Hải Phòng"),
    ("033", "Hưng Yên"),
    ("034", "Thái Bình"),
    ("035", "Hà Nam"),
    ("036", "Nam Định"),
    ("037", "Ninh Bình"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("042", "Hà Tĩnh"),
    ("044", "Quảng Bình"),
    ("045", "Quảng Trị"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("049", "Quảng Nam"),
    ("051", "Quảng Ngãi"),
    ("052", "Bình Định"),
    ("054", "Phú Yên"),
    ("056", "Khánh Hòa"),
    ("058", "Ninh Thuận"),
    ("060", "Bình Thuận"),
    ("062", "Kon Tum"),
    ("064", "Gia Lai"),
    ("066", "Đắk Lắk"),
    ("067", "Đắk Nông"),
    ("068", "Lâm Đồng"),
    ("070", "Bình Phước"),
    ("072", "Tây Ninh"),
    ("074", "Bình Dương"),
    ("075", "Đồng Nai"),
    ("077", "Bà Rịa – Vũng Tàu"),
    ("079", "TP Hồ Chí Minh"),
    ("080", "Long An"),
    ("082", "Tiền Giang"),
    ("083", "Bến Tre"),
    ("084", "Trà Vinh"),
    ("086", "Vĩnh Long"),
    ("087", "Đồng Tháp"),
    ("089", "An Giang"),
    ("091", "Kiên Giang"),
    ("092", "Cần Thơ"),
    ("093", "Hậu Giang"),
    ("094", "Sóc Trăng"),
    ("095", "Bạc Liêu"),
    ("096", "Cà Mau"),
];

/// A well-formed personal identification number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cccd(String);

impl Cccd {
    /// Accepts 12 digits, optionally grouped with spaces, dots or dashes.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::InvalidCccd);
        }
        if !digits.starts_with('0') {
            return Err(DomainError::CccdProvince);
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digit(&self, i: usize) -> u32 {
        self.0.as_bytes()[i] as u32 - b'0' as u32
    }

    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    /// The legacy province of birth registration, `None` for a prefix not in the table.
    pub fn province(&self) -> Option<&'static str> {
        LEGACY_PROVINCES
            .iter()
            .find(|(c, _)| *c == self.province_code())
            .map(|(_, n)| *n)
    }

    /// `year = 1900 + 100·(G / 2) + YY`.
    pub fn birth_year(&self) -> i32 {
        let g = self.digit(3) as i32;
        let yy = (self.digit(4) * 10 + self.digit(5)) as i32;
        1900 + 100 * (g / 2) + yy
    }

    pub fn sex(&self) -> Sex {
        if self.digit(3) % 2 == 1 {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// Checks the number against the person's record: the birth year and sex it encodes must
    /// agree, and the year cannot lie after `today`. Every disagreement is reported.
    pub fn check_against(&self, date_of_birth: NaiveDate, sex: Sex, today: NaiveDate) -> Vec<DomainError> {
        let mut problems = vec![];
        if self.birth_year() > today.year() {
            problems.push(DomainError::CccdFutureYear);
        } else if self.birth_year() != date_of_birth.year() {
            problems.push(DomainError::CccdBirthYearMismatch);
        }
        if self.sex() != sex {
            problems.push(DomainError::CccdSexMismatch);
        }
        problems
    }

    /// The number with all but the last three digits hidden, for lists and exports.
    pub fn masked(&self) -> String {
        format!("{}{}", "•".repeat(9), &self.0[9..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 11, 23);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn decodes_worked_examples() {
        // 001 Hà Nội, G=2 (2000s, male), YY=03.
        let a = Cccd::parse("001203012345").unwrap();
        assert_eq!(
            (a.province(), a.birth_year(), a.sex()),
            (Some("Hà Nội"), 2003, Sex::Male)
        );
        // 079 TP Hồ Chí Minh, G=3 (2000s, female), YY=15; grouped input is accepted.
        let b = Cccd::parse(" 079 315 000 123 ").unwrap();
        assert_eq!(
            (b.province(), b.birth_year(), b.sex()),
            (Some("TP Hồ Chí Minh"), 2015, Sex::Female)
        );
        assert_eq!(b.as_str(), "079315000123");
        // 036 Nam Định, G=0 (1900s, male), YY=98.
        let c = Cccd::parse("036098001234").unwrap();
        assert_eq!((c.birth_year(), c.sex()), (1998, Sex::Male));
        // G=1: 1900s female; G=5: 2100s female.
        assert_eq!(Cccd::parse("008185000001").unwrap().birth_year(), 1985);
        assert_eq!(Cccd::parse("008185000001").unwrap().sex(), Sex::Female);
        assert_eq!(Cccd::parse("008501000001").unwrap().birth_year(), 2101);
    }

    #[test]
    fn every_legacy_code_is_known() {
        assert_eq!(LEGACY_PROVINCES.len(), 63);
        for (code, name) in LEGACY_PROVINCES {
            let id = Cccd::parse(&format!("{code}212000001")).unwrap();
            assert_eq!(id.province(), Some(name));
        }
        // The table is sorted and has no duplicates.
        assert!(LEGACY_PROVINCES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn unknown_but_plausible_prefix_is_accepted_and_labelled_unknown() {
        // 003 is not a legacy code; after the 2025 merger new prefixes are UNCERTAIN.
        let id = Cccd::parse("003212000001").unwrap();
        assert_eq!(id.province(), None);
    }

    #[test]
    fn rejects_malformed_numbers() {
        assert_eq!(
            Cccd::parse("00120301234"),
            Err(DomainError::InvalidCccd),
            "11 digits"
        );
        assert_eq!(
            Cccd::parse("0012030123456"),
            Err(DomainError::InvalidCccd),
            "13 digits"
        );
        assert_eq!(Cccd::parse("00120301234A"), Err(DomainError::InvalidCccd));
        assert_eq!(Cccd::parse(""), Err(DomainError::InvalidCccd));
        assert_eq!(
            Cccd::parse("100203012345"),
            Err(DomainError::CccdProvince),
            "no province code starts with 1"
        );
        assert_eq!(Cccd::parse("979315000123"), Err(DomainError::CccdProvince));
    }

    #[test]
    fn checks_against_the_record() {
        let id = Cccd::parse("001203012345").unwrap();
        assert!(id.check_against(d(2003, 5, 1), Sex::Male, today()).is_empty());
        assert_eq!(
            id.check_against(d(2003, 5, 1), Sex::Female, today()),
            vec![DomainError::CccdSexMismatch]
        );
        assert_eq!(
            id.check_against(d(2004, 1, 1), Sex::Female, today()),
            vec![DomainError::CccdBirthYearMismatch, DomainError::CccdSexMismatch]
        );
        // 2099 cannot be a birth year yet.
        let future = Cccd::parse("001299000001").unwrap();
        assert_eq!(
            future.check_against(d(1999, 1, 1), Sex::Male, today()),
            vec![DomainError::CccdFutureYear]
        );
        assert_eq!(id.masked(), "•••••••••345");
    }

    #[test]
    fn sex_parses_codes_and_words() {
        for s in ["nam", "Nam", "01", "male"] {
            assert_eq!(Sex::parse(s), Ok(Sex::Male));
        }
        for s in ["nữ", "Nữ", "NU", "02", "female"] {
            assert_eq!(Sex::parse(s), Ok(Sex::Female));
        }
        assert_eq!(Sex::parse("khác"), Err(DomainError::UnknownSex));
        assert_eq!(Sex::Female.moet_code(), "02");
    }
}
