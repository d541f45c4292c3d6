//! Subjects and educational activities of each grade under the 2018 programme, with periods per
//! year, read from `data/curriculum_2018.toml` so a programme change is a data edit.

use super::config::RuleConfig;
use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// How a secondary subject is assessed (TT 22/2021 Điều 5); primary subjects are all assessed by
/// level (T/H/C) and some also by tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nhận xét kết hợp điểm số: a 10-point score.
    Score,
    /// Đánh giá bằng nhận xét: Đạt / Chưa đạt.
    Comment,
    /// Primary (TT 27/2020): Hoàn thành tốt / Hoàn thành / Chưa hoàn thành.
    Level,
}

/// One subject as the programme fixes it for one grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectPlan {
    pub code: &'static str,
    pub name: &'static str,
    pub mode: Mode,
    pub periods: u16,
    /// Elective (tự chọn / lựa chọn): on a class's list only when the class is assigned it.
    pub elective: bool,
    /// Primary: sits the end-of-HKI and end-of-year tests.
    pub tested: bool,
    /// Primary: also sits the mid-HKI and mid-HKII tests.
    pub mid_tested: bool,
    /// THPT: has a chuyên đề cluster, whose result counts as one more ĐĐGtx for learners who
    /// take it.
    pub chuyen_de: bool,
}

impl SubjectPlan {
    /// Number of regular assessments (ĐĐGtx) per semester, TT 22/2021 Điều 7: 2 up to 35
    /// periods, 3 up to 70, 4 above; comment subjects take the configured count (UNCERTAIN, 2).
    pub fn regular_count(&self, cfg: &RuleConfig) -> u8 {
        regular_count(self.periods, self.mode, cfg)
    }
}

pub fn regular_count(periods: u16, mode: Mode, cfg: &RuleConfig) -> u8 {
    match mode {
        Mode::Comment => cfg.comment_regular_count,
        _ if periods <= 35 => 2,
        _ if periods <= 70 => 3,
        _ => 4,
    }
}

#[derive(Deserialize)]
struct File {
    version: String,
    primary: Vec<Row>,
    lower_secondary: Vec<Row>,
    upper_secondary: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    #[serde(default)]
    mode: Option<Mode>,
    periods: Vec<u16>,
    #[serde(default)]
    elective: Vec<u8>,
    #[serde(default)]
    tested: Vec<u8>,
    #[serde(default)]
    mid_tested: Vec<u8>,
    #[serde(default)]
    chuyen_de: bool,
}

struct Curriculum {
    version: &'static str,
    /// Index = grade (1..=12).
    grades: Vec<Vec<SubjectPlan>>,
}

static CURRICULUM: LazyLock<Curriculum> = LazyLock::new(|| {
    let file: File =
        toml::from_str(include_str!("../../data/curriculum_2018.toml")).expect("curriculum data parses");
    let mut grades: Vec<Vec<SubjectPlan>> = vec![vec![]; 13];
    for (rows, first, default_mode) in [
        (&file.primary, 1u8, Mode::Level),
        (&file.lower_secondary, 6, Mode::Score),
        (&file.upper_secondary, 10, Mode::Score),
    ] {
        for row in rows {
            let (code, name) = crate::classes::SUBJECTS
                .iter()
                .find(|(c, _, _)| *c == row.code)
                .map(|(c, n, _)| (*c, *n))
                .unwrap_or_else(|| panic!("curriculum subject {} is not in classes::SUBJECTS", row.code));
            for (k, periods) in row.periods.iter().enumerate() {
                let grade = first + k as u8;
                if *periods == 0 {
                    continue;
                }
                grades[grade as usize].push(SubjectPlan {
                    code,
                    name,
                    mode: row.mode.unwrap_or(default_mode),
                    periods: *periods,
                    elective: row.elective.contains(&grade),
                    tested: row.tested.contains(&grade),
                    mid_tested: row.mid_tested.contains(&grade),
                    chuyen_de: row.chuyen_de,
                });
            }
        }
    }
    Curriculum {
        version: Box::leak(file.version.into_boxed_str()),
        grades,
    }
});

/// The programme version the plans come from, recorded beside computed results.
pub fn version() -> &'static str {
    CURRICULUM.version
}

/// Every subject of a grade, compulsory first in programme order, then electives.
pub fn subjects(grade: u8) -> &'static [SubjectPlan] {
    CURRICULUM
        .grades
        .get(grade as usize)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub fn subject(grade: u8, code: &str) -> Result<&'static SubjectPlan, DomainError> {
    subjects(grade)
        .iter()
        .find(|s| s.code == code)
        .ok_or(DomainError::SubjectNotInGrade)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grade_has_its_programme() {
        for grade in 1..=12 {
            assert!(subjects(grade).len() >= 9, "grade {grade}");
        }
        assert!(subjects(0).is_empty() && subjects(13).is_empty());
    }

    #[test]
    fn totals_match_the_published_tables() {
        let total = |g: u8| -> u16 {
            subjects(g)
                .iter()
                .filter(|s| !s.elective)
                .map(|s| s.periods)
                .sum()
        };
        assert_eq!(
            [total(1), total(2), total(3), total(4), total(5)],
            [875, 875, 980, 1050, 1050]
        );
        assert_eq!([total(6), total(7), total(8), total(9)], [1015, 1015, 1032, 1032]);
        // THPT compulsory items only (the four electives and chuyên đề come on top): 612.
        assert_eq!(total(10), 612);
    }

    #[test]
    fn regular_assessment_counts_follow_periods() {
        let cfg = RuleConfig::default();
        let count = |g: u8, c: &str| subject(g, c).unwrap().regular_count(&cfg);
        assert_eq!(count(7, "toan"), 4);
        assert_eq!(count(7, "ngoai_ngu_1"), 4);
        assert_eq!(count(7, "gdcd"), 2);
        assert_eq!(count(7, "cong_nghe"), 2);
        assert_eq!(count(8, "cong_nghe"), 3);
        assert_eq!(count(10, "lich_su"), 3);
        assert_eq!(count(10, "gdqpan"), 2);
        assert_eq!(count(10, "vat_li"), 3);
        assert_eq!(count(10, "toan"), 4);
        assert_eq!(count(6, "gdtc"), 2);
        assert_eq!(subject(6, "gdtc").unwrap().mode, Mode::Comment);
        assert_eq!(subject(11, "am_nhac").unwrap().mode, Mode::Comment);
        assert!(subject(11, "am_nhac").unwrap().elective);
        assert_eq!(subject(6, "lich_su"), Err(DomainError::SubjectNotInGrade));
    }

    #[test]
    fn primary_tests_follow_tt27() {
        let tested =
            |g: u8| -> Vec<&str> { subjects(g).iter().filter(|s| s.tested).map(|s| s.code).collect() };
        assert_eq!(tested(1), ["tieng_viet", "toan"]);
        assert_eq!(
            tested(3),
            ["tieng_viet", "toan", "ngoai_ngu_1", "tin_hoc_cong_nghe"]
        );
        assert_eq!(
            tested(4),
            [
                "tieng_viet",
                "toan",
                "ngoai_ngu_1",
                "lich_su_dia_li",
                "khoa_hoc",
                "tin_hoc_cong_nghe"
            ]
        );
        let mid: Vec<&str> = subjects(5)
            .iter()
            .filter(|s| s.mid_tested)
            .map(|s| s.code)
            .collect();
        assert_eq!(mid, ["tieng_viet", "toan"]);
        assert!(subject(1, "ngoai_ngu_1").unwrap().elective);
        assert!(!subject(3, "ngoai_ngu_1").unwrap().elective);
    }
}
