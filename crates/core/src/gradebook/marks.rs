//! The values a gradebook cell holds, each parsed from what a teacher types.
//!
//! Marks are integer tenths (7.5 → 75) so that averages are exact; a comma is accepted as the
//! decimal separator because that is how Vietnamese teachers (and Vietnamese Excel) write it.

use crate::DomainError;
use crate::text::fold;
use serde::{Deserialize, Serialize};

/// A score on the 10-point scale with at most one decimal, held in tenths (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Mark(u8);

impl Mark {
    pub const MAX: Mark = Mark(100);

    pub fn from_tenths(tenths: u8) -> Result<Self, DomainError> {
        if tenths > 100 {
            return Err(DomainError::OutOfRange { min: 0, max: 10 });
        }
        Ok(Self(tenths))
    }

    pub fn tenths(self) -> u8 {
        self.0
    }

    /// Accepts `7`, `7.5`, `7,5`, `10`, `10.0`, ` 8 `; refuses a second decimal, a sign, a value
    /// above 10 and anything that is not a number.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let tenths = parse_tenths(input)?;
        if tenths > 100 {
            return Err(DomainError::OutOfRange { min: 0, max: 10 });
        }
        Ok(Self(tenths as u8))
    }
}

impl std::fmt::Display for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&tenths_text(self.0.into()))
    }
}

/// `75` → `7.5`, `80` → `8.0`: the one-decimal form the gradebook and học bạ print.
pub fn tenths_text(tenths: u16) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A decimal with at most one fractional digit, in tenths. `InvalidNumber` for text,
/// `TooManyDecimals` for `7.25`.
fn parse_tenths(input: &str) -> Result<u32, DomainError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(DomainError::Required);
    }
    let (int, frac) = match t.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !(frac.is_empty() || frac.bytes().all(|b| b.is_ascii_digit())) {
        return Err(DomainError::InvalidNumber);
    }
    if t.len() > int.len() && frac.is_empty() {
        // "7." or "7,": a separator with nothing after it is a typo, not a whole number.
        return Err(DomainError::InvalidNumber);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 1 {
        return Err(DomainError::TooManyDecimals);
    }
    let i: u32 = int.parse().map_err(|_| DomainError::InvalidNumber)?;
    let f: u32 = frac.parse().unwrap_or(0);
    Ok(i * 10 + f)
}

/// A primary periodic test score: a whole number 0–10 (TT 27/2020 Điều 7; 0 is allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TestScore(u8);

impl TestScore {
    pub fn new(score: u8) -> Result<Self, DomainError> {
        if score > 10 {
            return Err(DomainError::OutOfRange { min: 0, max: 10 });
        }
        Ok(Self(score))
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let tenths = parse_tenths(input)?;
        if tenths > 100 {
            return Err(DomainError::OutOfRange { min: 0, max: 10 });
        }
        if tenths % 10 != 0 {
            return Err(DomainError::WholeNumberRequired);
        }
        Ok(Self((tenths / 10) as u8))
    }
}

/// Đạt / Chưa đạt, the result of a subject assessed by comment (TT 22/2021 Điều 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    ChuaDat,
    Dat,
}

impl Pass {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        match fold(input).replace([' ', '.', '_'], "").as_str() {
            "" => Err(DomainError::Required),
            "d" | "dat" => Ok(Pass::Dat),
            "cd" | "chuadat" => Ok(Pass::ChuaDat),
            _ => Err(DomainError::InvalidLevel),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Pass::Dat => "Đ",
            Pass::ChuaDat => "CĐ",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pass::Dat => "dat",
            Pass::ChuaDat => "chua_dat",
        }
    }
}

/// The four levels of a learning or training result under TT 22/2021 (Điều 8, 9), ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    ChuaDat = 0,
    Dat = 1,
    Kha = 2,
    Tot = 3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Tot, Level::Kha, Level::Dat, Level::ChuaDat];

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        match fold(input).replace([' ', '.', '_'], "").as_str() {
            "" => Err(DomainError::Required),
            "t" | "tot" => Ok(Level::Tot),
            "k" | "kha" => Ok(Level::Kha),
            "d" | "dat" => Ok(Level::Dat),
            "cd" | "chuadat" => Ok(Level::ChuaDat),
            _ => Err(DomainError::InvalidLevel),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Tot => "tot",
            Level::Kha => "kha",
            Level::Dat => "dat",
            Level::ChuaDat => "chua_dat",
        }
    }

    /// One level up, saturating at Tốt.
    pub fn up(self) -> Level {
        match self {
            Level::ChuaDat => Level::Dat,
            Level::Dat => Level::Kha,
            Level::Kha | Level::Tot => Level::Tot,
        }
    }

    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// A primary subject's periodic level (TT 27/2020 Điều 6): Hoàn thành tốt / Hoàn thành /
/// Chưa hoàn thành.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectLevel {
    ChuaHoanThanh,
    HoanThanh,
    HoanThanhTot,
}

impl SubjectLevel {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        match fold(input).replace([' ', '.', '_'], "").as_str() {
            "" => Err(DomainError::Required),
            "t" | "htt" | "hoanthanhtot" => Ok(SubjectLevel::HoanThanhTot),
            "h" | "ht" | "hoanthanh" => Ok(SubjectLevel::HoanThanh),
            "c" | "cht" | "chuahoanthanh" => Ok(SubjectLevel::ChuaHoanThanh),
            _ => Err(DomainError::InvalidLevel),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            SubjectLevel::HoanThanhTot => "T",
            SubjectLevel::HoanThanh => "H",
            SubjectLevel::ChuaHoanThanh => "C",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectLevel::HoanThanhTot => "hoan_thanh_tot",
            SubjectLevel::HoanThanh => "hoan_thanh",
            SubjectLevel::ChuaHoanThanh => "chua_hoan_thanh",
        }
    }
}

/// A primary quality or competency level (TT 27/2020 Điều 6): Tốt / Đạt / Cần cố gắng.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraitLevel {
    CanCoGang,
    Dat,
    Tot,
}

impl TraitLevel {
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        match fold(input).replace([' ', '.', '_'], "").as_str() {
            "" => Err(DomainError::Required),
            "t" | "tot" => Ok(TraitLevel::Tot),
            "d" | "dat" => Ok(TraitLevel::Dat),
            "c" | "ccg" | "cancogang" => Ok(TraitLevel::CanCoGang),
            _ => Err(DomainError::InvalidLevel),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            TraitLevel::Tot => "T",
            TraitLevel::Dat => "Đ",
            TraitLevel::CanCoGang => "C",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TraitLevel::Tot => "tot",
            TraitLevel::Dat => "dat",
            TraitLevel::CanCoGang => "can_co_gang",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_parse_with_dot_or_comma() {
        assert_eq!(Mark::parse("7,5").unwrap().tenths(), 75);
        assert_eq!(Mark::parse("7.5").unwrap().tenths(), 75);
        assert_eq!(Mark::parse(" 8 ").unwrap().tenths(), 80);
        assert_eq!(Mark::parse("10").unwrap().tenths(), 100);
        assert_eq!(Mark::parse("10.0").unwrap().tenths(), 100);
        assert_eq!(Mark::parse("0").unwrap().tenths(), 0);
        assert_eq!(Mark::parse("6.50").unwrap().tenths(), 65);
        assert_eq!(Mark::parse("7,5").unwrap().to_string(), "7.5");
    }

    #[test]
    fn marks_refuse_what_is_not_a_mark() {
        assert_eq!(
            Mark::parse("10.5"),
            Err(DomainError::OutOfRange { min: 0, max: 10 })
        );
        assert_eq!(
            Mark::parse("11"),
            Err(DomainError::OutOfRange { min: 0, max: 10 })
        );
        assert_eq!(Mark::parse("7.25"), Err(DomainError::TooManyDecimals));
        assert_eq!(Mark::parse("-1"), Err(DomainError::InvalidNumber));
        assert_eq!(Mark::parse("7."), Err(DomainError::InvalidNumber));
        assert_eq!(Mark::parse("7,5,1"), Err(DomainError::InvalidNumber));
        assert_eq!(Mark::parse("bảy"), Err(DomainError::InvalidNumber));
        assert_eq!(Mark::parse("1e1"), Err(DomainError::InvalidNumber));
        assert_eq!(Mark::parse(""), Err(DomainError::Required));
    }

    #[test]
    fn primary_tests_are_whole_numbers() {
        assert_eq!(TestScore::parse("9").unwrap().value(), 9);
        assert_eq!(TestScore::parse("0").unwrap().value(), 0);
        assert_eq!(TestScore::parse("9,0").unwrap().value(), 9);
        assert_eq!(TestScore::parse("8,5"), Err(DomainError::WholeNumberRequired));
        assert_eq!(
            TestScore::parse("11"),
            Err(DomainError::OutOfRange { min: 0, max: 10 })
        );
    }

    #[test]
    fn levels_parse_symbols_and_words() {
        assert_eq!(Pass::parse("Đ").unwrap(), Pass::Dat);
        assert_eq!(Pass::parse("cđ").unwrap(), Pass::ChuaDat);
        assert_eq!(Pass::parse("Chưa đạt").unwrap(), Pass::ChuaDat);
        assert_eq!(Pass::parse("x"), Err(DomainError::InvalidLevel));
        assert_eq!(Level::parse("Khá").unwrap(), Level::Kha);
        assert_eq!(Level::parse("CĐ").unwrap(), Level::ChuaDat);
        assert_eq!(SubjectLevel::parse("T").unwrap(), SubjectLevel::HoanThanhTot);
        assert_eq!(
            SubjectLevel::parse("Hoàn thành").unwrap(),
            SubjectLevel::HoanThanh
        );
        assert_eq!(TraitLevel::parse("Cần cố gắng").unwrap(), TraitLevel::CanCoGang);
        // Stored codes read back.
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()).unwrap(), l);
        }
        for t in [TraitLevel::Tot, TraitLevel::Dat, TraitLevel::CanCoGang] {
            assert_eq!(TraitLevel::parse(t.as_str()).unwrap(), t);
        }
        for s in [
            SubjectLevel::HoanThanhTot,
            SubjectLevel::HoanThanh,
            SubjectLevel::ChuaHoanThanh,
        ] {
            assert_eq!(SubjectLevel::parse(s.as_str()).unwrap(), s);
        }
        for p in [Pass::Dat, Pass::ChuaDat] {
            assert_eq!(Pass::parse(p.as_str()).unwrap(), p);
        }
        assert!(Level::Tot > Level::Kha && Level::Dat > Level::ChuaDat);
        assert_eq!(Level::ChuaDat.up().up(), Level::Kha);
    }
}
