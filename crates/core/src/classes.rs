//! Classes: which grades a school may open, class names, subjects, terms of a teaching
//! assignment, and the year-end rollover plan (who moves up, who repeats, who completes the
//! level). Pure: the store applies the plan.

use crate::DomainError;
use crate::org::{SchoolLevel, SchoolLevels};
use serde::Serialize;

/// Grades (DM_KHOI codes 1–12 for general education; 16 nhóm trẻ and 17 mẫu giáo for
/// preschool) that a school of the given level opens.
pub fn grades_of(level: SchoolLevel) -> &'static [u8] {
    match level {
        SchoolLevel::MN => &[16, 17],
        SchoolLevel::TH => &[1, 2, 3, 4, 5],
        SchoolLevel::THCS => &[6, 7, 8, 9],
        SchoolLevel::THPT => &[10, 11, 12],
        // GDTX centres teach lower and upper secondary programmes (DM_KHOI 13–15, 20–23).
        SchoolLevel::GDTX => &[13, 14, 15, 20, 21, 22, 23],
    }
}

pub fn level_of_grade(grade: u8) -> Option<SchoolLevel> {
    SchoolLevel::ALL
        .into_iter()
        .find(|l| grades_of(*l).contains(&grade))
}

/// Parses a grade typed as "6", "Khối 6" or "lớp 6" and checks the school teaches it.
pub fn parse_grade(input: &str, levels: &SchoolLevels) -> Result<u8, DomainError> {
    let digits: String = input.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return Err(DomainError::Required);
    }
    let grade: u8 = digits.parse().map_err(|_| DomainError::InvalidNumber)?;
    if levels.levels().iter().any(|l| grades_of(*l).contains(&grade)) {
        Ok(grade)
    } else {
        Err(DomainError::GradeNotTaught)
    }
}

/// A class name such as "6A1" or "Lá 2": 1–20 characters, no line breaks.
pub fn parse_class_name(input: &str) -> Result<String, DomainError> {
    crate::text::parse_name(input, 20)
}

/// Next year's name of a class: a leading grade number is raised ("6A1" → "7A1"); other names
/// keep their text.
pub fn next_class_name(name: &str, grade: u8, next_grade: u8) -> String {
    let prefix = grade.to_string();
    match name.strip_prefix(&prefix) {
        Some(rest) if !rest.starts_with(|c: char| c.is_ascii_digit()) => format!("{next_grade}{rest}"),
        _ => name.to_string(),
    }
}

/// The grade after `grade` within the same level; `None` for the last grade of the level.
pub fn next_grade(grade: u8) -> Option<u8> {
    let level = level_of_grade(grade)?;
    let grades = grades_of(level);
    let i = grades.iter().position(|g| *g == grade)?;
    grades.get(i + 1).copied()
}

/// The term a teaching assignment covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AssignmentTerm {
    Hk1,
    Hk2,
    /// The whole year (cả năm).
    Year,
}

impl AssignmentTerm {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentTerm::Hk1 => "HK1",
            AssignmentTerm::Hk2 => "HK2",
            AssignmentTerm::Year => "CN",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match crate::text::fold(s).replace([' ', '_', '-'], "").as_str() {
            "hk1" | "hki" | "hocky1" | "hocki1" | "hockyi" => Ok(AssignmentTerm::Hk1),
            "hk2" | "hkii" | "hocky2" | "hocki2" | "hockyii" => Ok(AssignmentTerm::Hk2),
            "cn" | "canam" | "" => Ok(AssignmentTerm::Year),
            _ => Err(DomainError::UnknownTerm),
        }
    }

    /// Two assignments of one subject in one class clash when their terms overlap.
    pub fn overlaps(self, other: AssignmentTerm) -> bool {
        self == other || self == AssignmentTerm::Year || other == AssignmentTerm::Year
    }
}

/// Subjects of the 2018 general-education programme (CT GDPT 2018). The sector database's
/// subject list (DM_MON_HOC) is not in the domain files, so these codes are Trường Số's own
/// stable codes (UNCERTAIN mapping to the Ministry's list; kept as data here).
pub const SUBJECTS: &[(&str, &str, &[SchoolLevel])] = {
    use SchoolLevel::*;
    &[
        ("tieng_viet", "Tiếng Việt", &[TH]),
        ("toan", "Toán", &[TH, THCS, THPT, GDTX]),
        ("ngu_van", "Ngữ văn", &[THCS, THPT, GDTX]),
        ("ngoai_ngu_1", "Ngoại ngữ 1", &[TH, THCS, THPT, GDTX]),
        ("dao_duc", "Đạo đức", &[TH]),
        ("tu_nhien_xa_hoi", "Tự nhiên và Xã hội", &[TH]),
        ("khoa_hoc", "Khoa học", &[TH]),
        ("lich_su_dia_li", "Lịch sử và Địa lí", &[TH, THCS]),
        ("gdcd", "Giáo dục công dân", &[THCS]),
        ("khtn", "Khoa học tự nhiên", &[THCS]),
        ("cong_nghe", "Công nghệ", &[THCS, THPT]),
        ("tin_hoc", "Tin học", &[THCS, THPT]),
        ("tin_hoc_cong_nghe", "Tin học và Công nghệ", &[TH]),
        ("gdtc", "Giáo dục thể chất", &[TH, THCS, THPT]),
        ("nghe_thuat", "Nghệ thuật", &[TH, THCS]),
        ("am_nhac", "Âm nhạc", &[THPT]),
        ("mi_thuat", "Mĩ thuật", &[THPT]),
        ("hdtn", "Hoạt động trải nghiệm", &[TH, THCS, THPT]),
        ("gddp", "Nội dung giáo dục địa phương", &[THCS, THPT]),
        ("lich_su", "Lịch sử", &[THPT, GDTX]),
        ("dia_li", "Địa lí", &[THPT, GDTX]),
        ("vat_li", "Vật lí", &[THPT, GDTX]),
        ("hoa_hoc", "Hóa học", &[THPT, GDTX]),
        ("sinh_hoc", "Sinh học", &[THPT, GDTX]),
        ("gdktpl", "Giáo dục kinh tế và pháp luật", &[THPT]),
        ("gdqpan", "Giáo dục quốc phòng và an ninh", &[THPT]),
        ("tieng_dtts", "Tiếng dân tộc thiểu số", &[TH, THCS, THPT]),
        ("ngoai_ngu_2", "Ngoại ngữ 2", &[THCS, THPT]),
    ]
};

/// Accepts a subject code or its name (case and diacritics ignored).
pub fn parse_subject(input: &str) -> Result<&'static str, DomainError> {
    let folded = crate::text::fold(input);
    if folded.is_empty() {
        return Err(DomainError::Required);
    }
    SUBJECTS
        .iter()
        .find(|(code, name, _)| *code == input.trim() || crate::text::fold(name) == folded)
        .map(|(code, _, _)| *code)
        .ok_or(DomainError::UnknownCode)
}

pub fn subject_name(code: &str) -> Option<&'static str> {
    SUBJECTS.iter().find(|(c, _, _)| *c == code).map(|(_, n, _)| *n)
}

/// What happens to a learner at the end of the year, as decided by results (the gradebook) or,
/// when no result exists yet, by the rollover's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum YearOutcome {
    /// Lên lớp.
    Promote,
    /// Ở lại lớp.
    Repeat,
}

/// Where one learner goes in the rollover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Placement {
    /// Into next year's class with this name and grade.
    Class { name: String, grade: u8 },
    /// Completed the last grade of the level (hoàn thành chương trình cấp học).
    Completed,
}

/// The placement of a learner of class (`name`, `grade`) with `outcome`. A repeater stays in
/// the same grade: the class of that grade named like the old one (the school may move them
/// afterwards).
pub fn place(name: &str, grade: u8, outcome: YearOutcome) -> Placement {
    match (outcome, next_grade(grade)) {
        (YearOutcome::Repeat, _) => Placement::Class {
            name: name.to_string(),
            grade,
        },
        (YearOutcome::Promote, Some(next)) => Placement::Class {
            name: next_class_name(name, grade, next),
            grade: next,
        },
        (YearOutcome::Promote, None) => Placement::Completed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_follow_levels() {
        let levels = SchoolLevels::parse("TH+THCS").unwrap();
        assert_eq!(parse_grade("Khối 6", &levels), Ok(6));
        assert_eq!(parse_grade("1", &levels), Ok(1));
        assert_eq!(parse_grade("10", &levels), Err(DomainError::GradeNotTaught));
        assert_eq!(parse_grade("", &levels), Err(DomainError::Required));
        assert_eq!(level_of_grade(9), Some(SchoolLevel::THCS));
        assert_eq!(level_of_grade(99), None);
    }

    #[test]
    fn rollover_names_and_grades() {
        assert_eq!(next_class_name("6A1", 6, 7), "7A1");
        assert_eq!(next_class_name("10A12", 10, 11), "11A12");
        // "1" must not match the start of "10A1".
        assert_eq!(next_class_name("10A1", 1, 2), "10A1");
        assert_eq!(next_class_name("Lá 2", 17, 17), "Lá 2");
        assert_eq!(next_grade(5), None);
        assert_eq!(next_grade(8), Some(9));
        assert_eq!(next_grade(9), None);
        assert_eq!(next_grade(11), Some(12));
        assert_eq!(
            place("8A2", 8, YearOutcome::Promote),
            Placement::Class {
                name: "9A2".into(),
                grade: 9
            }
        );
        assert_eq!(
            place("8A2", 8, YearOutcome::Repeat),
            Placement::Class {
                name: "8A2".into(),
                grade: 8
            }
        );
        assert_eq!(place("9A1", 9, YearOutcome::Promote), Placement::Completed);
        assert_eq!(
            place("9A1", 9, YearOutcome::Repeat),
            Placement::Class {
                name: "9A1".into(),
                grade: 9
            }
        );
    }

    #[test]
    fn terms_and_subjects() {
        assert_eq!(AssignmentTerm::parse("HK1"), Ok(AssignmentTerm::Hk1));
        assert_eq!(AssignmentTerm::parse("Học kỳ II"), Ok(AssignmentTerm::Hk2));
        assert_eq!(AssignmentTerm::parse("Cả năm"), Ok(AssignmentTerm::Year));
        assert_eq!(AssignmentTerm::parse("HK3"), Err(DomainError::UnknownTerm));
        assert!(AssignmentTerm::Year.overlaps(AssignmentTerm::Hk2));
        assert!(!AssignmentTerm::Hk1.overlaps(AssignmentTerm::Hk2));
        assert_eq!(parse_subject("ngu van"), Ok("ngu_van"));
        assert_eq!(parse_subject("Toán"), Ok("toan"));
        assert_eq!(parse_subject("khtn"), Ok("khtn"));
        assert_eq!(parse_subject("Thiên văn"), Err(DomainError::UnknownCode));
        assert_eq!(subject_name("gdtc"), Some("Giáo dục thể chất"));
        for (i, (code, _, _)) in SUBJECTS.iter().enumerate() {
            assert!(SUBJECTS[i + 1..].iter().all(|(c, _, _)| c != code));
        }
    }
}
