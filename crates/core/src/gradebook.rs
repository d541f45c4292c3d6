//! The electronic gradebook (sổ theo dõi và đánh giá học sinh): what a cell may hold, the
//! programme's subjects per grade, and the rule sets that turn marks into results. The rule set
//! is a function of (grade, school year): historical records are recomputed with the rules that
//! applied when they were made (assessment.md §0).

pub mod compute;
pub mod config;
pub mod curriculum;
pub mod marks;
pub mod sheet;
pub mod tt22;
pub mod tt27;
pub mod tt58;

pub use config::RuleConfig;
pub use marks::{Level, Mark, Pass, SubjectLevel, TestScore, TraitLevel};

use crate::school_year::SchoolYear;
use serde::{Deserialize, Serialize};

/// The regulation a grade's assessment follows in a school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// TT 22/2021/TT-BGDĐT, THCS and THPT.
    Tt22_2021,
    /// TT 27/2020/TT-BGDĐT, primary.
    Tt27_2020,
    /// TT 58/2011 as amended by TT 26/2020 (from 11/10/2020), THCS and THPT.
    Tt58Tt26,
    /// TT 58/2011 before TT 26/2020.
    Tt58_2011,
    /// TT 30/2014 as amended by TT 22/2016, primary: read-only history, not computed.
    Tt30Tt22_2016,
}

impl RuleSet {
    /// The roadmap of assessment.md §0: TT 27 reached grade g of primary in 2019 + g, TT 22
    /// reached grade g of THCS in 2015 + g and of THPT in 2012 + g; before that the old schemes.
    pub fn for_grade(grade: u8, year: SchoolYear) -> Option<RuleSet> {
        let y = year.start_year();
        match grade {
            1..=5 if y >= 2019 + i32::from(grade) => Some(RuleSet::Tt27_2020),
            1..=5 => Some(RuleSet::Tt30Tt22_2016),
            6..=9 if y >= 2015 + i32::from(grade) => Some(RuleSet::Tt22_2021),
            10..=12 if y >= 2012 + i32::from(grade) => Some(RuleSet::Tt22_2021),
            6..=12 if y >= 2020 => Some(RuleSet::Tt58Tt26),
            6..=12 => Some(RuleSet::Tt58_2011),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleSet::Tt22_2021 => "tt22_2021",
            RuleSet::Tt27_2020 => "tt27_2020",
            RuleSet::Tt58Tt26 => "tt58_tt26",
            RuleSet::Tt58_2011 => "tt58_2011",
            RuleSet::Tt30Tt22_2016 => "tt30_tt22_2016",
        }
    }

    /// The circular's number as printed on records.
    pub fn title(self) -> &'static str {
        match self {
            RuleSet::Tt22_2021 => "Thông tư 22/2021/TT-BGDĐT",
            RuleSet::Tt27_2020 => "Thông tư 27/2020/TT-BGDĐT",
            RuleSet::Tt58Tt26 => "Thông tư 58/2011/TT-BGDĐT, sửa đổi bởi Thông tư 26/2020/TT-BGDĐT",
            RuleSet::Tt58_2011 => "Thông tư 58/2011/TT-BGDĐT",
            RuleSet::Tt30Tt22_2016 => "Thông tư 30/2014/TT-BGDĐT, sửa đổi bởi Thông tư 22/2016/TT-BGDĐT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roadmap_of_assessment_rules() {
        let rs = |g: u8, y: i32| RuleSet::for_grade(g, SchoolYear::from_start(y)).unwrap();
        use RuleSet::*;
        // The §0 table, row by row.
        assert_eq!([rs(1, 2020), rs(2, 2020)], [Tt27_2020, Tt30Tt22_2016]);
        assert_eq!([rs(6, 2020), rs(12, 2020)], [Tt58Tt26, Tt58Tt26]);
        assert_eq!(
            [rs(2, 2021), rs(3, 2021), rs(6, 2021), rs(7, 2021)],
            [Tt27_2020, Tt30Tt22_2016, Tt22_2021, Tt58Tt26]
        );
        assert_eq!(
            [
                rs(3, 2022),
                rs(4, 2022),
                rs(7, 2022),
                rs(8, 2022),
                rs(10, 2022),
                rs(11, 2022)
            ],
            [Tt27_2020, Tt30Tt22_2016, Tt22_2021, Tt58Tt26, Tt22_2021, Tt58Tt26]
        );
        assert_eq!(
            [
                rs(4, 2023),
                rs(5, 2023),
                rs(8, 2023),
                rs(9, 2023),
                rs(11, 2023),
                rs(12, 2023)
            ],
            [Tt27_2020, Tt30Tt22_2016, Tt22_2021, Tt58Tt26, Tt22_2021, Tt58Tt26]
        );
        for g in 1..=5 {
            assert_eq!(rs(g, 2024), Tt27_2020);
        }
        for g in 6..=12 {
            assert_eq!(rs(g, 2024), Tt22_2021);
            assert_eq!(rs(g, 2026), Tt22_2021);
            assert_eq!(rs(g, 2019), Tt58_2011);
        }
        // A grade-9 record of 2023-24 is read with TT 58 + 26, not TT 22.
        assert_eq!(rs(9, 2023), Tt58Tt26);
        assert_eq!(RuleSet::for_grade(13, SchoolYear::from_start(2024)), None);
    }
}
