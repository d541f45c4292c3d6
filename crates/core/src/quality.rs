//! Data quality ("đúng, đủ, sạch, sống"): rules over learner, class and staff records that
//! find missing required fields, invalid or inconsistent identity numbers, duplicates within
//! and across schools, age–grade mismatches, oversize classes, staff without assignments and
//! records not touched this school year. Pure: the store loads the facts, this decides.

use crate::org::SchoolLevel;
use crate::people::{Cccd, Sex};
use crate::school_year::SchoolYear;
use crate::text;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// Thresholds that no source in the domain files fixes: configurable per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityPolicy {
    /// Years above the on-age norm (grade + 5, ages counted in calendar years) before a learner
    /// is flagged as over age. UNCERTAIN: the regulation allows late entry for some groups
    /// (ethnic minority, disability, return from abroad), so the default is lenient.
    pub max_years_over_age: i32,
    /// Largest class per level before it is flagged. UNCERTAIN in the domain files (the school
    /// charters are commonly cited as 35 for primary and 45 for secondary).
    pub class_size_max: Vec<(SchoolLevel, u32)>,
}

impl Default for QualityPolicy {
    fn default() -> Self {
        Self {
            max_years_over_age: 3,
            class_size_max: vec![
                (SchoolLevel::TH, 35),
                (SchoolLevel::THCS, 45),
                (SchoolLevel::THPT, 45),
                (SchoolLevel::GDTX, 45),
            ],
        }
    }
}

impl QualityPolicy {
    pub fn class_max(&self, level: SchoolLevel) -> Option<u32> {
        self.class_size_max
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, n)| *n)
    }
}

/// What a learner record says, as far as the rules need.
#[derive(Debug, Clone, Default)]
pub struct LearnerFacts {
    pub id: Uuid,
    pub school_id: Uuid,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub sex: Option<Sex>,
    /// Grade 1–12 in the current year, when enrolled in a class.
    pub grade: Option<u8>,
    pub cccd: Option<String>,
    pub ethnicity: Option<String>,
    pub guardian_phones: Vec<String>,
    /// The school year of the last change to the record.
    pub last_updated_year: Option<SchoolYear>,
}

#[derive(Debug, Clone, Default)]
pub struct ClassFacts {
    pub id: Uuid,
    pub school_id: Uuid,
    pub name: String,
    pub level: Option<SchoolLevel>,
    pub enrolled: u32,
}

#[derive(Debug, Clone, Default)]
pub struct StaffFacts {
    pub id: Uuid,
    pub school_id: Uuid,
    pub is_teacher: bool,
    pub assignments_this_year: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Learner,
    Class,
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Wrong data: blocks a clean report.
    Error,
    /// Probably wrong or stale: someone should look.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Finding {
    MissingField { field: &'static str },
    CccdInvalid { code: &'static str },
    CccdInconsistent { code: &'static str },
    DuplicateCccd { others: Vec<Uuid> },
    LikelyDuplicate { others: Vec<Uuid> },
    OverAge { age: i32, grade: u8 },
    UnderAge { age: i32, grade: u8 },
    ClassOverSize { enrolled: u32, max: u32 },
    TeacherWithoutAssignment,
    NotUpdatedThisYear,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::MissingField { .. }
            | Finding::CccdInvalid { .. }
            | Finding::CccdInconsistent { .. }
            | Finding::DuplicateCccd { .. } => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// Stable rule code, also the message key `quality.<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::MissingField { .. } => "missing_field",
            Finding::CccdInvalid { .. } => "cccd_invalid",
            Finding::CccdInconsistent { .. } => "cccd_inconsistent",
            Finding::DuplicateCccd { .. } => "duplicate_cccd",
            Finding::LikelyDuplicate { .. } => "likely_duplicate",
            Finding::OverAge { .. } => "over_age",
            Finding::UnderAge { .. } => "under_age",
            Finding::ClassOverSize { .. } => "class_over_size",
            Finding::TeacherWithoutAssignment => "teacher_without_assignment",
            Finding::NotUpdatedThisYear => "not_updated_this_year",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub entity: EntityKind,
    pub id: Uuid,
    pub school_id: Uuid,
    pub finding: Finding,
}

fn issue(entity: EntityKind, id: Uuid, school_id: Uuid, finding: Finding) -> Issue {
    Issue {
        entity,
        id,
        school_id,
        finding,
    }
}

/// Age in calendar years, as the statistics count it: reporting year − birth year.
pub fn age_in_year(date_of_birth: NaiveDate, year: SchoolYear) -> i32 {
    year.start_year() - date_of_birth.year()
}

/// Rules over learners. Pass every learner of the scope (a school, or an office's subtree) so
/// duplicates across schools are found.
pub fn check_learners(
    learners: &[LearnerFacts],
    policy: &QualityPolicy,
    year: SchoolYear,
    today: NaiveDate,
) -> Vec<Issue> {
    let mut out = vec![];
    let mut by_cccd: HashMap<String, Vec<Uuid>> = HashMap::new();
    let mut by_person: HashMap<(String, NaiveDate, String), Vec<Uuid>> = HashMap::new();
    for l in learners {
        let mut push = |f| out.push(issue(EntityKind::Learner, l.id, l.school_id, f));
        if text::clean(&l.full_name).is_empty() {
            push(Finding::MissingField { field: "full_name" });
        }
        if l.date_of_birth.is_none() {
            push(Finding::MissingField {
                field: "date_of_birth",
            });
        }
        if l.sex.is_none() {
            push(Finding::MissingField { field: "sex" });
        }
        if l.ethnicity.as_deref().is_none_or(|e| e.trim().is_empty()) {
            push(Finding::MissingField { field: "ethnicity" });
        }
        match l.cccd.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => push(Finding::MissingField { field: "cccd" }),
            Some(raw) => match Cccd::parse(raw) {
                Err(e) => push(Finding::CccdInvalid { code: e.code() }),
                Ok(id) => {
                    if let (Some(dob), Some(sex)) = (l.date_of_birth, l.sex) {
                        for e in id.check_against(dob, sex, today) {
                            push(Finding::CccdInconsistent { code: e.code() });
                        }
                    }
                    by_cccd.entry(id.as_str().to_string()).or_default().push(l.id);
                }
            },
        }
        if let (Some(dob), Some(grade)) = (l.date_of_birth, l.grade) {
            let age = age_in_year(dob, year);
            let norm = grade as i32 + 5;
            if age > norm + policy.max_years_over_age {
                push(Finding::OverAge { age, grade });
            } else if age < norm {
                push(Finding::UnderAge { age, grade });
            }
        }
        if l.last_updated_year.is_some_and(|y| y < year) {
            push(Finding::NotUpdatedThisYear);
        }
        if let Some(dob) = l.date_of_birth {
            for phone in &l.guardian_phones {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                if digits.len() >= 9 {
                    let key = (
                        text::fold(&l.full_name),
                        dob,
                        digits[digits.len() - 9..].to_string(),
                    );
                    by_person.entry(key).or_default().push(l.id);
                }
            }
        }
    }
    let school_of: HashMap<Uuid, Uuid> = learners.iter().map(|l| (l.id, l.school_id)).collect();
    let groups = |ids: &[Uuid], make: &dyn Fn(Vec<Uuid>) -> Finding, out: &mut Vec<Issue>| {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        if ids.len() < 2 {
            return;
        }
        for id in &ids {
            let others = ids.iter().copied().filter(|o| o != id).collect();
            out.push(issue(EntityKind::Learner, *id, school_of[id], make(others)));
        }
    };
    for ids in by_cccd.values() {
        groups(ids, &|others| Finding::DuplicateCccd { others }, &mut out);
    }
    let mut seen_pairs: Vec<Vec<Uuid>> = vec![];
    for ids in by_person.values() {
        let mut key = ids.clone();
        key.sort();
        key.dedup();
        // Two guardians' phones can match the same pair: report it once.
        if seen_pairs.contains(&key) {
            continue;
        }
        seen_pairs.push(key);
        groups(ids, &|others| Finding::LikelyDuplicate { others }, &mut out);
    }
    out
}

pub fn check_classes(classes: &[ClassFacts], policy: &QualityPolicy) -> Vec<Issue> {
    classes
        .iter()
        .filter_map(|c| {
            let max = policy.class_max(c.level?)?;
            (c.enrolled > max).then(|| {
                issue(
                    EntityKind::Class,
                    c.id,
                    c.school_id,
                    Finding::ClassOverSize {
                        enrolled: c.enrolled,
                        max,
                    },
                )
            })
        })
        .collect()
}

pub fn check_staff(staff: &[StaffFacts]) -> Vec<Issue> {
    staff
        .iter()
        .filter(|s| s.is_teacher && s.assignments_this_year == 0)
        .map(|s| {
            issue(
                EntityKind::Staff,
                s.id,
                s.school_id,
                Finding::TeacherWithoutAssignment,
            )
        })
        .collect()
}

/// Share of records without an error, in per-mille (integer arithmetic, no floats).
pub fn completeness_permille(records: usize, issues: &[Issue]) -> u32 {
    if records == 0 {
        return 1000;
    }
    let mut bad: Vec<Uuid> = issues
        .iter()
        .filter(|i| i.finding.severity() == Severity::Error)
        .map(|i| i.id)
        .collect();
    bad.sort();
    bad.dedup();
    (((records - bad.len().min(records)) * 1000) / records) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn year() -> SchoolYear {
        SchoolYear::parse("2026-2027").unwrap()
    }

    fn today() -> NaiveDate {
        d(2026, 11, 23)
    }

    fn learner(n: u128, school: u128) -> LearnerFacts {
        LearnerFacts {
            id: Uuid::from_u128(n),
            school_id: Uuid::from_u128(school),
            full_name: "Nguyễn Văn An".into(),
            date_of_birth: Some(d(2015, 3, 2)),
            sex: Some(Sex::Male),
            grade: Some(6),
            cccd: Some(format!("0082150{n:05}")),
            ethnicity: Some("01".into()),
            guardian_phones: vec![format!("09120000{n:02}")],
            last_updated_year: Some(year()),
        }
    }

    fn rules(issues: &[Issue], id: u128) -> Vec<&'static str> {
        let mut v: Vec<_> = issues
            .iter()
            .filter(|i| i.id == Uuid::from_u128(id))
            .map(|i| i.finding.code())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_clean_record_has_no_issue() {
        // Born 2015, grade 6 in 2026-2027: age 11 = 6 + 5, on age.
        let issues = check_learners(&[learner(1, 100)], &QualityPolicy::default(), year(), today());
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(completeness_permille(1, &issues), 1000);
    }

    #[test]
    fn missing_and_invalid_fields() {
        let mut l = learner(1, 100);
        l.ethnicity = None;
        l.cccd = Some("12345".into());
        l.sex = None;
        let issues = check_learners(&[l], &QualityPolicy::default(), year(), today());
        assert_eq!(
            rules(&issues, 1),
            vec!["cccd_invalid", "missing_field", "missing_field"]
        );
        assert!(
            issues
                .iter()
                .any(|i| i.finding == Finding::CccdInvalid { code: "invalid_cccd" })
        );
        assert_eq!(completeness_permille(1, &issues), 0);
    }

    #[test]
    fn cccd_inconsistent_with_birth_and_sex() {
        let mut l = learner(1, 100);
        // Encodes a girl born in 2014.
        l.cccd = Some("008314000001".into());
        let issues = check_learners(&[l], &QualityPolicy::default(), year(), today());
        let codes: Vec<_> = issues.iter().map(|i| i.finding.clone()).collect();
        assert!(codes.contains(&Finding::CccdInconsistent {
            code: "cccd_birth_year_mismatch"
        }));
        assert!(codes.contains(&Finding::CccdInconsistent {
            code: "cccd_sex_mismatch"
        }));
    }

    #[test]
    fn duplicates_within_and_across_schools() {
        let a = learner(1, 100);
        let mut b = learner(2, 200);
        b.cccd = a.cccd.clone();
        b.guardian_phones = vec!["+84 912 000 001".into()];
        let mut c = learner(3, 100);
        c.full_name = "NGUYEN VAN AN".into();
        c.guardian_phones = vec!["0912000001".into()];
        let issues = check_learners(&[a, b, c], &QualityPolicy::default(), year(), today());
        let dup: Vec<_> = issues
            .iter()
            .filter(|i| i.finding.code() == "duplicate_cccd")
            .collect();
        assert_eq!(dup.len(), 2, "both records of the pair are flagged");
        assert!(
            dup.iter().any(|i| i.school_id == Uuid::from_u128(200)),
            "across schools"
        );
        // Same folded name, same birth date, same guardian phone (different formatting).
        let likely: Vec<_> = issues
            .iter()
            .filter(|i| i.finding.code() == "likely_duplicate")
            .collect();
        assert_eq!(likely.len(), 3);
        let of_c = likely.iter().find(|i| i.id == Uuid::from_u128(3)).unwrap();
        assert_eq!(
            of_c.finding,
            Finding::LikelyDuplicate {
                others: vec![Uuid::from_u128(1), Uuid::from_u128(2)]
            }
        );
    }

    #[test]
    fn age_grade_norm_in_calendar_years() {
        let p = QualityPolicy::default();
        let mut young = learner(1, 100);
        young.date_of_birth = Some(d(2016, 1, 1)); // 10 in 2026, grade 6 expects 11
        young.cccd = Some("008216000001".into());
        let mut old = learner(2, 100);
        old.date_of_birth = Some(d(2011, 12, 31)); // 15: more than 3 years over 11
        old.cccd = Some("008211000002".into());
        let mut late = learner(3, 100);
        late.date_of_birth = Some(d(2012, 6, 1)); // 14: 3 over, still within tolerance
        late.cccd = Some("008212000003".into());
        let issues = check_learners(&[young, old, late], &p, year(), today());
        assert_eq!(rules(&issues, 1), vec!["under_age"]);
        assert_eq!(rules(&issues, 2), vec!["over_age"]);
        assert!(rules(&issues, 3).is_empty());
        assert_eq!(
            age_in_year(d(2020, 12, 31), year()),
            6,
            "age counts calendar years"
        );
    }

    #[test]
    fn classes_staff_and_staleness() {
        let p = QualityPolicy::default();
        let classes = [
            ClassFacts {
                id: Uuid::from_u128(10),
                school_id: Uuid::from_u128(100),
                name: "1A".into(),
                level: Some(SchoolLevel::TH),
                enrolled: 36,
            },
            ClassFacts {
                id: Uuid::from_u128(11),
                school_id: Uuid::from_u128(100),
                name: "6A1".into(),
                level: Some(SchoolLevel::THCS),
                enrolled: 45,
            },
            ClassFacts {
                id: Uuid::from_u128(12),
                school_id: Uuid::from_u128(100),
                name: "Lá 1".into(),
                level: Some(SchoolLevel::MN),
                enrolled: 60,
            },
        ];
        let issues = check_classes(&classes, &p);
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].finding,
            Finding::ClassOverSize {
                enrolled: 36,
                max: 35
            }
        );
        let staff = [
            StaffFacts {
                id: Uuid::from_u128(20),
                school_id: Uuid::from_u128(100),
                is_teacher: true,
                assignments_this_year: 0,
            },
            StaffFacts {
                id: Uuid::from_u128(21),
                school_id: Uuid::from_u128(100),
                is_teacher: true,
                assignments_this_year: 3,
            },
            StaffFacts {
                id: Uuid::from_u128(22),
                school_id: Uuid::from_u128(100),
                is_teacher: false,
                assignments_this_year: 0,
            },
        ];
        let issues = check_staff(&staff);
        assert_eq!(
            issues.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![Uuid::from_u128(20)]
        );
        let mut stale = learner(1, 100);
        stale.last_updated_year = Some(SchoolYear::parse("2025-2026").unwrap());
        let issues = check_learners(&[stale], &p, year(), today());
        assert_eq!(issues[0].finding, Finding::NotUpdatedThisYear);
        assert_eq!(issues[0].finding.severity(), Severity::Warning);
        assert_eq!(
            completeness_permille(1, &issues),
            1000,
            "warnings do not count against completeness"
        );
    }
}
