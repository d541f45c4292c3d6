//! School years ("2025-2026") and their terms (HK I, HK II), per school.

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A school year named by its two calendar years, e.g. `2025-2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchoolYear {
    start_year: i32,
}

impl SchoolYear {
    /// Accepts `2025-2026`, `2025 - 2026` or `2025–2026`; the second year must follow the first.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let (a, b) = t
            .split_once(['-', '–', '/'])
            .ok_or(DomainError::InvalidSchoolYear)?;
        let a: i32 = a.parse().map_err(|_| DomainError::InvalidSchoolYear)?;
        let b: i32 = b.parse().map_err(|_| DomainError::InvalidSchoolYear)?;
        if !(1945..=2200).contains(&a) || b != a + 1 {
            return Err(DomainError::InvalidSchoolYear);
        }
        Ok(Self { start_year: a })
    }

    pub fn from_start(start_year: i32) -> Self {
        Self { start_year }
    }

    pub fn start_year(self) -> i32 {
        self.start_year
    }

    pub fn name(self) -> String {
        format!("{}-{}", self.start_year, self.start_year + 1)
    }

    /// The school year a date falls in, counting from 1 August (the ministry's yearly plan
    /// opens the year in August or September).
    pub fn containing(day: NaiveDate) -> Self {
        use chrono::Datelike;
        let y = day.year();
        Self {
            start_year: if day.month() >= 8 { y } else { y - 1 },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// Học kỳ I.
    Hk1,
    /// Học kỳ II.
    Hk2,
}

impl TermKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Hk1 => "hk1",
            TermKind::Hk2 => "hk2",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hk1" | "1" | "i" => Ok(TermKind::Hk1),
            "hk2" | "2" | "ii" => Ok(TermKind::Hk2),
            _ => Err(DomainError::UnknownTerm),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermDates {
    pub kind: TermKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// A school year's calendar as a school sets it: the year's dates and both terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCalendar {
    pub year: SchoolYear,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub terms: Vec<TermDates>,
}

impl YearCalendar {
    /// Validates: dates ordered, the year lies within its two calendar years, each term inside
    /// the year, HK I before HK II without overlap, each term at most once.
    pub fn new(
        year: SchoolYear,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        mut terms: Vec<TermDates>,
    ) -> Result<Self, DomainError> {
        use chrono::Datelike;
        if ends_on <= starts_on {
            return Err(DomainError::DateRangeReversed);
        }
        if starts_on.year() != year.start_year() || ends_on.year() != year.start_year() + 1 {
            return Err(DomainError::InvalidSchoolYear);
        }
        terms.sort_by_key(|t| t.kind);
        for t in &terms {
            if t.ends_on <= t.starts_on {
                return Err(DomainError::DateRangeReversed);
            }
            if t.starts_on < starts_on || t.ends_on > ends_on {
                return Err(DomainError::TermOutsideYear);
            }
        }
        for pair in terms.windows(2) {
            if pair[0].kind == pair[1].kind || pair[0].ends_on >= pair[1].starts_on {
                return Err(DomainError::TermsOutOfOrder);
            }
        }
        Ok(Self {
            year,
            starts_on,
            ends_on,
            terms,
        })
    }

    /// The usual calendar: 5/9 to 31/5, HK I until mid-January.
    pub fn typical(year: SchoolYear) -> Self {
        let y = year.start_year();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date");
        Self::new(
            year,
            d(y, 9, 5),
            d(y + 1, 5, 31),
            vec![
                TermDates {
                    kind: TermKind::Hk1,
                    starts_on: d(y, 9, 5),
                    ends_on: d(y + 1, 1, 17),
                },
                TermDates {
                    kind: TermKind::Hk2,
                    starts_on: d(y + 1, 1, 19),
                    ends_on: d(y + 1, 5, 31),
                },
            ],
        )
        .expect("typical calendar is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parse_school_year() {
        assert_eq!(SchoolYear::parse("2025-2026").unwrap().start_year(), 2025);
        assert_eq!(SchoolYear::parse(" 2025 – 2026 ").unwrap().name(), "2025-2026");
        assert!(SchoolYear::parse("2025-2027").is_err());
        assert!(SchoolYear::parse("2025").is_err());
        assert!(SchoolYear::parse("abcd-efgh").is_err());
    }

    #[test]
    fn year_containing() {
        assert_eq!(SchoolYear::containing(d(2025, 9, 30)).name(), "2025-2026");
        assert_eq!(SchoolYear::containing(d(2026, 5, 31)).name(), "2025-2026");
        assert_eq!(SchoolYear::containing(d(2026, 8, 1)).name(), "2026-2027");
    }

    #[test]
    fn calendar_validation() {
        let y = SchoolYear::parse("2025-2026").unwrap();
        assert_eq!(YearCalendar::typical(y).terms.len(), 2);
        let t1 = TermDates {
            kind: TermKind::Hk1,
            starts_on: d(2025, 9, 5),
            ends_on: d(2026, 1, 20),
        };
        let t2 = TermDates {
            kind: TermKind::Hk2,
            starts_on: d(2026, 1, 15),
            ends_on: d(2026, 5, 31),
        };
        assert_eq!(
            YearCalendar::new(y, d(2025, 9, 5), d(2026, 5, 31), vec![t1, t2]),
            Err(DomainError::TermsOutOfOrder)
        );
        let late = TermDates {
            kind: TermKind::Hk2,
            starts_on: d(2026, 1, 25),
            ends_on: d(2026, 6, 30),
        };
        assert_eq!(
            YearCalendar::new(y, d(2025, 9, 5), d(2026, 5, 31), vec![t1, late]),
            Err(DomainError::TermOutsideYear)
        );
        assert_eq!(
            YearCalendar::new(y, d(2024, 9, 5), d(2026, 5, 31), vec![]),
            Err(DomainError::InvalidSchoolYear)
        );
        assert_eq!(TermKind::parse("II"), Ok(TermKind::Hk2));
    }
}
