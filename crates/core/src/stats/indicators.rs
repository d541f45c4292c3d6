//! Statistical indicators (statistics.md §2): rates and ratios computed from the same facts as
//! the forms, each published with its numerator and denominator so a reader can check it.
//!
//! An indicator is a [`Definition`]: a numerator and a denominator, each either the facts of
//! one entity passing a condition (this year, an earlier year, the next year) or a resident
//! population by age, which schools do not hold and the caller supplies (GSO, PCGD survey).
//! The built-in definitions follow the GSO formulas of §2.4; where the domain file marks a
//! formula UNCERTAIN (preschool wording, transition rate) the definition is data the caller
//! may replace ([`evaluate_definition`], or a TOML table deserialized into [`Definition`]).
//!
//! Values are integers in hundredths, rounded half up: no floating point, so a rate printed
//! on a report is the same on every machine and in every re-computation.

use super::catalogue::{DefinitionError, FieldRef, Filter};
use super::compute::{Dim, group};
use super::facts::{Entity, Facts, Kind, Val};
use crate::org::SchoolLevel;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A numerator over a denominator. The value is derived, never stored, so the two counts
/// behind it always travel with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
}

/// Round half up of `num / den`, `den > 0`. Saturates at `u64::MAX`, which needs more than
/// 10^15 pupils: not a case to complicate every caller's type for.
fn div_half_up(num: u128, den: u128) -> u64 {
    u64::try_from((2 * num + den) / (2 * den)).unwrap_or(u64::MAX)
}

impl Rate {
    pub fn new(numerator: u64, denominator: u64) -> Rate {
        Rate {
            numerator,
            denominator,
        }
    }

    /// Percent in hundredths: 1/8 → 1250 (12,50 %). `None` on a zero denominator.
    pub fn percent_hundredths(self) -> Option<u64> {
        (self.denominator > 0)
            .then(|| div_half_up(u128::from(self.numerator) * 10_000, u128::from(self.denominator)))
    }

    /// Ratio in hundredths: 1/8 → 13 (0,13). `None` on a zero denominator.
    pub fn ratio_hundredths(self) -> Option<u64> {
        (self.denominator > 0)
            .then(|| div_half_up(u128::from(self.numerator) * 100, u128::from(self.denominator)))
    }

    pub fn hundredths(self, kind: RateKind) -> Option<u64> {
        match kind {
            RateKind::Percent => self.percent_hundredths(),
            RateKind::Ratio => self.ratio_hundredths(),
        }
    }

    /// Vietnamese notation: "12,35 %", "28,40", "1.234,50". `None` on a zero denominator (the
    /// caller prints its own blank; a 0 would be a false figure).
    pub fn format_vi(self, kind: RateKind) -> Option<String> {
        let h = self.hundredths(kind)?;
        let n = format_hundredths(h, '.', ',');
        Some(match kind {
            RateKind::Percent => format!("{n} %"),
            RateKind::Ratio => n,
        })
    }

    /// English notation: "12.35%", "28.40", "1,234.50".
    pub fn format_en(self, kind: RateKind) -> Option<String> {
        let h = self.hundredths(kind)?;
        let n = format_hundredths(h, ',', '.');
        Some(match kind {
            RateKind::Percent => format!("{n}%"),
            RateKind::Ratio => n,
        })
    }
}

fn format_hundredths(h: u64, thousands: char, decimal: char) -> String {
    let digits = (h / 100).to_string();
    let mut int = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            int.push(thousands);
        }
        int.push(c);
    }
    format!("{int}{decimal}{:02}", h % 100)
}

/// How an indicator's value reads: a percentage, or a plain ratio (pupils per teacher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    Percent,
    Ratio,
}

/// The indicators of statistics.md §2.4. The snake_case code is stable: it names the message
/// keys and appears in addresses and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorId {
    /// Tỷ lệ đi học chung: enrolled in the level ÷ population of its official ages.
    GrossEnrolmentRate,
    /// Tỷ lệ đi học đúng tuổi: enrolled of the official ages ÷ population of those ages.
    NetEnrolmentRate,
    /// Tỷ lệ huy động trẻ đi nhà trẻ (3–36 months, counted as ages 0–2 in calendar years).
    CrecheEnrolmentRate,
    /// Tỷ lệ huy động trẻ 3–5 tuổi đi mẫu giáo.
    KindergartenEnrolmentRate,
    /// Tỷ lệ huy động trẻ 5 tuổi.
    FiveYearOldEnrolmentRate,
    /// Tỷ lệ bỏ học.
    DropoutRate,
    /// Tỷ lệ lưu ban.
    RepetitionRate,
    /// Tỷ lệ hoàn thành cấp học (cohort proxy).
    CompletionRate,
    /// Tỷ lệ chuyển cấp.
    TransitionRate,
    /// Học sinh bình quân một giáo viên.
    PupilsPerTeacher,
    /// Học sinh bình quân một lớp.
    PupilsPerClass,
    /// Giáo viên bình quân một lớp.
    TeachersPerClass,
    /// Tỷ lệ giáo viên đạt chuẩn trình độ đào tạo.
    TrainedTeacherRate,
    /// Tỷ lệ học sinh dân tộc thiểu số.
    EthnicMinorityShare,
    /// Học sinh bình quân một máy tính.
    LearnersPerComputer,
}

const GENERAL: &[SchoolLevel] = &[SchoolLevel::TH, SchoolLevel::THCS, SchoolLevel::THPT];
const PRESCHOOL: &[SchoolLevel] = &[SchoolLevel::MN];
const ALL_LEVELS: &[SchoolLevel] = &[
    SchoolLevel::MN,
    SchoolLevel::TH,
    SchoolLevel::THCS,
    SchoolLevel::THPT,
];
// THPT has no next general-education level to transition to.
const WITH_NEXT: &[SchoolLevel] = &[SchoolLevel::TH, SchoolLevel::THCS];

impl IndicatorId {
    pub const ALL: [IndicatorId; 15] = [
        IndicatorId::GrossEnrolmentRate,
        IndicatorId::NetEnrolmentRate,
        IndicatorId::CrecheEnrolmentRate,
        IndicatorId::KindergartenEnrolmentRate,
        IndicatorId::FiveYearOldEnrolmentRate,
        IndicatorId::DropoutRate,
        IndicatorId::RepetitionRate,
        IndicatorId::CompletionRate,
        IndicatorId::TransitionRate,
        IndicatorId::PupilsPerTeacher,
        IndicatorId::PupilsPerClass,
        IndicatorId::TeachersPerClass,
        IndicatorId::TrainedTeacherRate,
        IndicatorId::EthnicMinorityShare,
        IndicatorId::LearnersPerComputer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorId::GrossEnrolmentRate => "gross_enrolment_rate",
            IndicatorId::NetEnrolmentRate => "net_enrolment_rate",
            IndicatorId::CrecheEnrolmentRate => "creche_enrolment_rate",
            IndicatorId::KindergartenEnrolmentRate => "kindergarten_enrolment_rate",
            IndicatorId::FiveYearOldEnrolmentRate => "five_year_old_enrolment_rate",
            IndicatorId::DropoutRate => "dropout_rate",
            IndicatorId::RepetitionRate => "repetition_rate",
            IndicatorId::CompletionRate => "completion_rate",
            IndicatorId::TransitionRate => "transition_rate",
            IndicatorId::PupilsPerTeacher => "pupils_per_teacher",
            IndicatorId::PupilsPerClass => "pupils_per_class",
            IndicatorId::TeachersPerClass => "teachers_per_class",
            IndicatorId::TrainedTeacherRate => "trained_teacher_rate",
            IndicatorId::EthnicMinorityShare => "ethnic_minority_share",
            IndicatorId::LearnersPerComputer => "learners_per_computer",
        }
    }

    pub fn parse(s: &str) -> Option<IndicatorId> {
        Self::ALL.into_iter().find(|i| i.as_str() == s.trim())
    }

    /// Message key of the indicator's name. A TOML key cannot be both a string and a table,
    /// so the name sits beside the formula under the code rather than at the code itself.
    pub fn name_key(self) -> String {
        format!("stats.indicator.{}.name", self.as_str())
    }

    /// Message key of the formula in words, shown under every published value.
    pub fn formula_key(self) -> String {
        format!("stats.indicator.{}.formula", self.as_str())
    }

    pub fn kind(self) -> RateKind {
        match self {
            IndicatorId::PupilsPerTeacher
            | IndicatorId::PupilsPerClass
            | IndicatorId::TeachersPerClass
            | IndicatorId::LearnersPerComputer => RateKind::Ratio,
            _ => RateKind::Percent,
        }
    }

    /// The levels the indicator is defined for.
    pub fn levels(self) -> &'static [SchoolLevel] {
        match self {
            IndicatorId::GrossEnrolmentRate
            | IndicatorId::NetEnrolmentRate
            | IndicatorId::DropoutRate
            | IndicatorId::RepetitionRate
            | IndicatorId::CompletionRate => GENERAL,
            IndicatorId::CrecheEnrolmentRate
            | IndicatorId::KindergartenEnrolmentRate
            | IndicatorId::FiveYearOldEnrolmentRate => PRESCHOOL,
            IndicatorId::TransitionRate => WITH_NEXT,
            IndicatorId::PupilsPerTeacher
            | IndicatorId::PupilsPerClass
            | IndicatorId::TeachersPerClass
            | IndicatorId::TrainedTeacherRate
            | IndicatorId::EthnicMinorityShare
            | IndicatorId::LearnersPerComputer => ALL_LEVELS,
        }
    }

    pub fn applies_to(self, level: SchoolLevel) -> bool {
        self.levels().contains(&level)
    }

    /// The built-in formula for a level; `None` where the indicator does not apply.
    pub fn definition(self, level: SchoolLevel) -> Option<Definition> {
        if !self.applies_to(level) {
            return None;
        }
        let l = level.as_str();
        let on_roll = || ("on_roll", toml::Value::Boolean(true));
        let lvl = || ("level", toml::Value::from(l));
        let yes = |name: &'static str| (name, toml::Value::Boolean(true));
        let learners = |extra: &[(&'static str, toml::Value)]| {
            let mut pairs = vec![lvl(), on_roll()];
            pairs.extend(extra.iter().cloned());
            Side::facts(Entity::Learner, &pairs)
        };
        let teachers = |extra: &[(&'static str, toml::Value)]| {
            let mut pairs = vec![lvl(), yes("teacher")];
            pairs.extend(extra.iter().cloned());
            Side::facts(Entity::Staff, &pairs)
        };
        let classes = || Side::facts(Entity::Class, &[lvl()]);
        let (from, to) = official_ages(level).unwrap_or((0, 0));
        let first = first_grade(level).unwrap_or(0);
        let (numerator, denominator) = match self {
            IndicatorId::GrossEnrolmentRate => (learners(&[]), Side::population(from, to)),
            IndicatorId::NetEnrolmentRate => (
                learners(&[("age", age_range(from, to))]),
                Side::population(from, to),
            ),
            // The population is known by calendar-year age only (§1.5), so "3–36 months"
            // becomes ages 0–2 on both sides; the wording of the preschool formulas is
            // UNCERTAIN (§2.4) and an installation may replace these definitions.
            IndicatorId::CrecheEnrolmentRate => {
                (learners(&[("age", age_range(0, 2))]), Side::population(0, 2))
            }
            IndicatorId::KindergartenEnrolmentRate => {
                (learners(&[("age", age_range(3, 5))]), Side::population(3, 5))
            }
            IndicatorId::FiveYearOldEnrolmentRate => (
                learners(&[("age", toml::Value::Integer(5))]),
                Side::population(5, 5),
            ),
            // Transfers out are not dropouts (§2.4 edge rules): only `dropped_out` counts.
            IndicatorId::DropoutRate => (
                Side::facts(Entity::Learner, &[lvl(), yes("dropped_out")]),
                Side::facts(Entity::Learner, &[lvl(), yes("at_start")]),
            ),
            // Repeaters counted among those enrolled at the start, so the numerator is a part
            // of the denominator.
            IndicatorId::RepetitionRate => (
                Side::facts(Entity::Learner, &[lvl(), yes("repeater"), yes("at_start")]),
                Side::facts(Entity::Learner, &[lvl(), yes("at_start")]),
            ),
            IndicatorId::CompletionRate => {
                let back = cohort_years(level).unwrap_or(0);
                let mut den = learners(&[("grade", toml::Value::Integer(first))]);
                den.set_year(Year::Earlier(back));
                (learners(&[yes("completed_level")]), den)
            }
            // UNCERTAIN formula (§2.4): the standard definition, new entrants of the next
            // level's first grade next year over this year's completers.
            IndicatorId::TransitionRate => {
                let next = next_level(level)?;
                let mut num = Side::facts(
                    Entity::Learner,
                    &[
                        ("level", toml::Value::from(next.as_str())),
                        on_roll(),
                        ("grade", toml::Value::Integer(first_grade(next)?)),
                        yes("new_entrant"),
                    ],
                );
                num.set_year(Year::Later);
                (num, learners(&[yes("completed_level")]))
            }
            IndicatorId::PupilsPerTeacher => (learners(&[]), teachers(&[])),
            IndicatorId::PupilsPerClass => (learners(&[]), classes()),
            IndicatorId::TeachersPerClass => (teachers(&[]), classes()),
            IndicatorId::TrainedTeacherRate => (teachers(&[yes("trained")]), teachers(&[])),
            IndicatorId::EthnicMinorityShare => (learners(&[yes("minority")]), learners(&[])),
            // A school teaching several levels shares its computers among them; with no
            // record of which level uses which computer, each level counts them all
            // (UNCERTAIN: no official formula; replace the definition to apportion).
            IndicatorId::LearnersPerComputer => (
                learners(&[]),
                Side::Facts {
                    entity: Entity::School,
                    filter: table(&[("levels", toml::Value::from(l))]),
                    sum: Some("computers".into()),
                    year: Year::This,
                },
            ),
        };
        Some(Definition {
            numerator,
            denominator,
        })
    }
}

impl fmt::Display for IndicatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Official ages of a general-education level (§2.3), in calendar years.
pub fn official_ages(level: SchoolLevel) -> Option<(u8, u8)> {
    match level {
        SchoolLevel::TH => Some((6, 10)),
        SchoolLevel::THCS => Some((11, 14)),
        SchoolLevel::THPT => Some((15, 17)),
        SchoolLevel::MN | SchoolLevel::GDTX => None,
    }
}

pub fn first_grade(level: SchoolLevel) -> Option<i64> {
    match level {
        SchoolLevel::TH => Some(1),
        SchoolLevel::THCS => Some(6),
        SchoolLevel::THPT => Some(10),
        SchoolLevel::MN | SchoolLevel::GDTX => None,
    }
}

/// Years between entering a level's first grade and completing its last: the cohort-proxy
/// lag of the completion rate (t−4, t−3, t−2).
pub fn cohort_years(level: SchoolLevel) -> Option<u8> {
    match level {
        SchoolLevel::TH => Some(4),
        SchoolLevel::THCS => Some(3),
        SchoolLevel::THPT => Some(2),
        SchoolLevel::MN | SchoolLevel::GDTX => None,
    }
}

pub fn next_level(level: SchoolLevel) -> Option<SchoolLevel> {
    match level {
        SchoolLevel::TH => Some(SchoolLevel::THCS),
        SchoolLevel::THCS => Some(SchoolLevel::THPT),
        _ => None,
    }
}

fn age_range(from: u8, to: u8) -> toml::Value {
    toml::Value::Table(table(&[
        ("ge", toml::Value::Integer(from.into())),
        ("le", toml::Value::Integer(to.into())),
    ]))
}

fn table(pairs: &[(&str, toml::Value)]) -> toml::Table {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Which year's facts a side counts, relative to the year evaluated (t).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Year {
    #[default]
    This,
    /// t − n.
    Earlier(u8),
    /// t + 1.
    Later,
}

impl fmt::Display for Year {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Year::This => f.write_str("t"),
            Year::Earlier(n) => write!(f, "t-{n}"),
            Year::Later => f.write_str("t+1"),
        }
    }
}

/// One side of a fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum Side {
    /// The facts of `entity` passing `filter` (a `where` table as in form definitions),
    /// counted by weight, or summing the integer field `sum`.
    Facts {
        entity: Entity,
        #[serde(rename = "where", default)]
        filter: toml::Table,
        #[serde(default)]
        sum: Option<String>,
        #[serde(default)]
        year: Year,
    },
    /// Resident population aged `from..=to` (calendar years) in the year evaluated.
    Population { from: u8, to: u8 },
}

impl Side {
    fn facts(entity: Entity, pairs: &[(&str, toml::Value)]) -> Side {
        Side::Facts {
            entity,
            filter: table(pairs),
            sum: None,
            year: Year::This,
        }
    }

    fn population(from: u8, to: u8) -> Side {
        Side::Population { from, to }
    }

    fn set_year(&mut self, y: Year) {
        if let Side::Facts { year, .. } = self {
            *year = y;
        }
    }
}

/// An indicator's formula as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub numerator: Side,
    pub denominator: Side,
}

/// What an evaluation reads. Pure: the caller has loaded every year's facts and the
/// population beforehand.
pub struct Inputs<'a> {
    /// Facts of the year evaluated (t).
    pub year: &'a Facts,
    /// Facts of an earlier year, by years back (4 → t−4).
    pub earlier: &'a dyn Fn(i32) -> Option<&'a Facts>,
    /// Facts of the next year (t+1), for the transition rate.
    pub later: Option<&'a Facts>,
    /// Resident population of an age (calendar years) in t, in one commune or, with `None`,
    /// in the whole area the facts cover.
    pub population: &'a dyn Fn(u8, Option<&str>) -> Option<u64>,
}

fn no_facts<'b>(_: i32) -> Option<&'b Facts> {
    None
}

fn no_population(_: u8, _: Option<&str>) -> Option<u64> {
    None
}

impl<'a> Inputs<'a> {
    /// Only this year's facts: indicators needing anything else report it as missing.
    pub fn this_year(year: &'a Facts) -> Inputs<'a> {
        Inputs {
            year,
            earlier: &no_facts,
            later: None,
            population: &no_population,
        }
    }
}

/// One value of an indicator: the group's key (one value per `group_by` dimension; the
/// `school` dimension gives the school's id, stable across years) and the fraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorRow {
    pub key: Vec<Val>,
    pub rate: Rate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("{indicator} is not defined for {level:?}")]
    NotApplicable {
        indicator: IndicatorId,
        level: SchoolLevel,
    },
    #[error("unknown dimension {dimension}")]
    UnknownDimension { dimension: String },
    /// The dimension does not mean the same thing for the numerator and the denominator
    /// (pupils per teacher by grade: teachers have no grade).
    #[error("{dimension} is not a dimension of both the numerator and the denominator")]
    DimensionNotShared { dimension: String },
    #[error("{field} cannot filter both the numerator and the denominator")]
    FilterNotShared { field: String },
    #[error("invalid filter: {0}")]
    InvalidFilter(DefinitionError),
    #[error("invalid indicator definition: {0}")]
    InvalidDefinition(DefinitionError),
    /// Data the formula needs is not available: never published as a 0 rate.
    #[error("missing data: {what}")]
    MissingData { what: String },
}

impl IndicatorError {
    /// Stable code for messages (`stats.indicator.error.<code>`) and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            IndicatorError::NotApplicable { .. } => "not_applicable",
            IndicatorError::UnknownDimension { .. } => "unknown_dimension",
            IndicatorError::DimensionNotShared { .. } => "dimension_not_shared",
            IndicatorError::FilterNotShared { .. } => "filter_not_shared",
            IndicatorError::InvalidFilter(_) => "invalid_filter",
            IndicatorError::InvalidDefinition(_) => "invalid_definition",
            IndicatorError::MissingData { .. } => "missing_data",
        }
    }
}

/// An indicator for a level, grouped by `group_by` and restricted by `filter` (field, value
/// pairs; several values of one field mean "one of").
pub fn evaluate(
    id: IndicatorId,
    level: SchoolLevel,
    inputs: &Inputs,
    group_by: &[&str],
    filter: &[(String, String)],
) -> Result<Vec<IndicatorRow>, IndicatorError> {
    let def = id
        .definition(level)
        .ok_or(IndicatorError::NotApplicable { indicator: id, level })?;
    evaluate_definition(&def, inputs, group_by, filter)
}

/// Learner fields that stay the same for a person from one year to the next: the only own
/// fields that may group or filter a fraction whose sides read different years (age and grade
/// move on, so "grade-1 pupils in t−4 by age" and "completers in t by age" never match).
const STABLE_ACROSS_YEARS: &[&str] = &["sex", "ethnicity", "minority", "birth_year", "residence"];

/// The dimension through which a population side is broken down.
const RESIDENCE: &str = "residence";

enum Shared {
    Yes,
    No,
    Unknown,
}

/// Whether `name` reads at the school (the school itself or one of its fields), so it means
/// the same for every entity.
fn school_level(entity: Entity, name: &str) -> bool {
    name == "school"
        || match FieldRef::resolve(entity, name) {
            Some((FieldRef::School(_), _)) => true,
            Some((FieldRef::Own(_), _)) => entity == Entity::School,
            None => false,
        }
}

/// Whether `name` may group or filter both sides alike.
fn shared(name: &str, num: &Side, den: &Side) -> Shared {
    let sides = [num, den];
    let facts: Vec<(Entity, &toml::Table, Year)> = sides
        .iter()
        .filter_map(|s| match s {
            Side::Facts {
                entity, filter, year, ..
            } => Some((*entity, filter, *year)),
            Side::Population { .. } => None,
        })
        .collect();
    let known = facts.iter().any(|(e, _, _)| Dim::parse(*e, name).is_some());
    if !known {
        return Shared::Unknown;
    }
    // A field the formula itself fixes (dropped_out, grade = 1, minority) is no breakdown:
    // grouping by it splits the numerator from its own denominator.
    if facts.iter().any(|(_, f, _)| f.contains_key(name)) {
        return Shared::No;
    }
    if facts.len() < sides.len() {
        // Population is known by commune only: the learner's commune of residence.
        let ok = name == RESIDENCE
            && facts
                .iter()
                .all(|(e, _, _)| *e == Entity::Learner && Dim::parse(*e, name).is_some());
        return if ok && !facts.is_empty() {
            Shared::Yes
        } else {
            Shared::No
        };
    }
    let (a, b) = (facts[0], facts[1]);
    if Dim::parse(a.0, name).is_none() || Dim::parse(b.0, name).is_none() {
        return Shared::No;
    }
    let at_school = school_level(a.0, name) && school_level(b.0, name);
    // Two entities share only what they read at their school: learners' sex and teachers' sex
    // describe different people.
    if a.0 != b.0 && !at_school {
        return Shared::No;
    }
    if a.2 != b.2 && !at_school && !STABLE_ACROSS_YEARS.contains(&name) {
        return Shared::No;
    }
    Shared::Yes
}

fn facts_of<'a>(inputs: &Inputs<'a>, year: Year) -> Result<&'a Facts, IndicatorError> {
    let missing = || IndicatorError::MissingData {
        what: format!("facts of year {year}"),
    };
    match year {
        Year::This => Ok(inputs.year),
        Year::Earlier(n) => (inputs.earlier)(i32::from(n)).ok_or_else(missing),
        Year::Later => inputs.later.ok_or_else(missing),
    }
}

/// One side's counts by group key.
fn count_side(
    entity: Entity,
    facts: &Facts,
    filter: &Filter,
    dims: &[(Dim, bool)],
    sum: Option<FieldRef>,
) -> BTreeMap<Vec<Val>, u64> {
    let plain: Vec<Dim> = dims.iter().map(|(d, _)| *d).collect();
    let counts = group(facts, entity, filter, &plain, sum);
    if !dims.iter().any(|(_, is_school)| *is_school) {
        return counts;
    }
    // School indexes differ between years' fact sets; the school's id does not.
    let mut out = BTreeMap::new();
    for (key, n) in counts {
        let key = key
            .into_iter()
            .zip(dims)
            .map(|(v, (_, is_school))| match (v, is_school) {
                (Val::Int(i), true) => facts
                    .schools
                    .get(i as usize)
                    .map_or(Val::Null, |s| Val::Code(s.id.to_string())),
                (v, _) => v,
            })
            .collect();
        *out.entry(key).or_default() += n;
    }
    out
}

enum Counted {
    Facts(BTreeMap<Vec<Val>, u64>),
    Population { from: u8, to: u8 },
}

/// Any indicator definition (a built-in one, or an installation's replacement).
pub fn evaluate_definition(
    def: &Definition,
    inputs: &Inputs,
    group_by: &[&str],
    filter: &[(String, String)],
) -> Result<Vec<IndicatorRow>, IndicatorError> {
    let (num, den) = (&def.numerator, &def.denominator);
    for name in group_by {
        match shared(name, num, den) {
            Shared::Yes => {}
            Shared::No => {
                return Err(IndicatorError::DimensionNotShared {
                    dimension: name.to_string(),
                });
            }
            Shared::Unknown => {
                return Err(IndicatorError::UnknownDimension {
                    dimension: name.to_string(),
                });
            }
        }
    }
    let mut communes: Vec<&str> = vec![];
    for (field, value) in filter {
        match shared(field, num, den) {
            Shared::Yes => {}
            Shared::No => {
                return Err(IndicatorError::FilterNotShared { field: field.clone() });
            }
            Shared::Unknown => {
                return Err(IndicatorError::InvalidFilter(DefinitionError {
                    at: field.clone(),
                    code: "unknown_field",
                    detail: format!("{field} is not a field of the indicator's facts"),
                }));
            }
        }
        if field == RESIDENCE && !communes.contains(&value.as_str()) {
            communes.push(value);
        }
    }
    let residence_at = group_by.iter().position(|d| *d == RESIDENCE);

    let mut counted = vec![];
    for (which, side) in [("numerator", num), ("denominator", den)] {
        counted.push(match side {
            Side::Population { from, to } => Counted::Population { from: *from, to: *to },
            Side::Facts {
                entity,
                filter: table,
                sum,
                year,
            } => {
                let at = format!("{which}.where");
                let own = Filter::compile(*entity, table, &at).map_err(IndicatorError::InvalidDefinition)?;
                let user = Filter::from_pairs(*entity, filter).map_err(IndicatorError::InvalidFilter)?;
                let sum = match sum {
                    None => None,
                    Some(name) => match FieldRef::resolve(*entity, name) {
                        Some((r, f)) if f.kind == Kind::Int => Some(r),
                        _ => {
                            return Err(IndicatorError::InvalidDefinition(DefinitionError {
                                at: format!("{which}.sum"),
                                code: "not_summable",
                                detail: name.clone(),
                            }));
                        }
                    },
                };
                let dims = group_by
                    .iter()
                    .map(|name| {
                        let d = Dim::parse(*entity, name).expect("checked as shared");
                        (d, d == Dim::School)
                    })
                    .collect::<Vec<_>>();
                let facts = facts_of(inputs, *year)?;
                Counted::Facts(count_side(*entity, facts, &own.and(&user), &dims, sum))
            }
        });
    }

    let mut keys: BTreeSet<Vec<Val>> = BTreeSet::new();
    if group_by.is_empty() {
        keys.insert(vec![]);
    } else {
        for c in &counted {
            if let Counted::Facts(m) = c {
                keys.extend(m.keys().cloned());
            }
        }
    }
    let fact_count = |key: &Vec<Val>| -> u64 {
        counted
            .iter()
            .filter_map(|c| match c {
                Counted::Facts(m) => m.get(key).copied(),
                Counted::Population { .. } => None,
            })
            .sum()
    };

    let mut rows = Vec::with_capacity(keys.len());
    for key in keys {
        let mut values = [0u64; 2];
        for (slot, c) in values.iter_mut().zip(&counted) {
            *slot = match c {
                Counted::Facts(m) => m.get(&key).copied().unwrap_or(0),
                Counted::Population { from, to } => {
                    let places: Vec<Option<&str>> = match residence_at.map(|i| &key[i]) {
                        Some(Val::Code(c)) => vec![Some(c.as_str())],
                        Some(_) => {
                            return Err(IndicatorError::MissingData {
                                what: format!("commune of residence of {} learners", fact_count(&key)),
                            });
                        }
                        None if communes.is_empty() => vec![None],
                        None => communes.iter().map(|c| Some(*c)).collect(),
                    };
                    population(inputs, *from, *to, &places)?
                }
            };
        }
        rows.push(IndicatorRow {
            key,
            rate: Rate::new(values[0], values[1]),
        });
    }
    Ok(rows)
}

fn population(inputs: &Inputs, from: u8, to: u8, places: &[Option<&str>]) -> Result<u64, IndicatorError> {
    let mut total = 0u64;
    for place in places {
        for age in from..=to {
            total += (inputs.population)(age, *place).ok_or_else(|| IndicatorError::MissingData {
                what: match place {
                    Some(c) => format!("population aged {age} in commune {c}"),
                    None => format!("population aged {age}"),
                },
            })?;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::facts::Fact;
    use std::cell::RefCell;
    use uuid::Uuid;

    fn school(facts: &mut Facts, ownership: &str, levels: &[&str], computers: i64) -> usize {
        let mut f = Fact::new(Entity::School, 0, None);
        f.set("ownership_group", Val::code(ownership))
            .set("computers", Val::Int(computers))
            .set(
                "levels",
                Val::Codes(levels.iter().map(|s| s.to_string()).collect()),
            );
        facts.add_school(Uuid::now_v7(), "S".into(), "p".into(), f)
    }

    /// A learner (or `weight` identical ones) with the named fields set; every flag not given
    /// is false, as the loader records it.
    fn learners(facts: &mut Facts, s: usize, weight: u64, level: &str, grade: i64, fields: &[(&str, Val)]) {
        let mut f = Fact::new(Entity::Learner, s, None);
        f.weight = weight;
        for flag in [
            "on_roll",
            "at_start",
            "dropped_out",
            "transferred_out",
            "repeater",
            "new_entrant",
            "completed_level",
            "minority",
        ] {
            f.set(flag, Val::Bool(false));
        }
        f.set("level", Val::code(level)).set("grade", Val::Int(grade));
        for (k, v) in fields {
            f.set(k, v.clone());
        }
        facts.facts.push(f);
    }

    fn staff(facts: &mut Facts, s: usize, weight: u64, level: &str, teacher: bool, trained: bool) {
        let mut f = Fact::new(Entity::Staff, s, None);
        f.weight = weight;
        f.set("level", Val::code(level))
            .set("teacher", Val::Bool(teacher))
            .set("trained", Val::Bool(trained));
        facts.facts.push(f);
    }

    fn classes(facts: &mut Facts, s: usize, weight: u64, level: &str) {
        let mut f = Fact::new(Entity::Class, s, None);
        f.weight = weight;
        f.set("level", Val::code(level));
        facts.facts.push(f);
    }

    fn yes(name: &str) -> (&str, Val) {
        (name, Val::Bool(true))
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    fn one(rows: &[IndicatorRow]) -> Rate {
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows[0].rate
    }

    #[test]
    fn rounding_is_half_up_in_hundredths() {
        let third = Rate::new(1, 3);
        assert_eq!(third.percent_hundredths(), Some(3333));
        assert_eq!(third.format_vi(RateKind::Percent).as_deref(), Some("33,33 %"));
        let two_thirds = Rate::new(2, 3);
        assert_eq!(two_thirds.percent_hundredths(), Some(6667));
        assert_eq!(
            two_thirds.format_vi(RateKind::Percent).as_deref(),
            Some("66,67 %")
        );
        assert_eq!(two_thirds.format_en(RateKind::Percent).as_deref(), Some("66.67%"));
        // 1/8 = 12,5 % exactly: two decimals are still printed.
        let eighth = Rate::new(1, 8);
        assert_eq!(eighth.percent_hundredths(), Some(1250));
        assert_eq!(eighth.format_vi(RateKind::Percent).as_deref(), Some("12,50 %"));
        // 0,125 as a ratio: the half goes up.
        assert_eq!(eighth.ratio_hundredths(), Some(13));
        assert_eq!(eighth.format_vi(RateKind::Ratio).as_deref(), Some("0,13"));
        assert_eq!(
            Rate::new(1, 400).ratio_hundredths(),
            Some(0),
            "0,0025 rounds down"
        );
        assert_eq!(Rate::new(3, 400).ratio_hundredths(), Some(1), "0,0075 rounds up");
        // 57 pupils / 2 teachers; 123 456,5 / 1 with thousands separators.
        assert_eq!(
            Rate::new(57, 2).format_vi(RateKind::Ratio).as_deref(),
            Some("28,50")
        );
        assert_eq!(
            Rate::new(246_913, 2).format_vi(RateKind::Ratio).as_deref(),
            Some("123.456,50")
        );
        assert_eq!(
            Rate::new(246_913, 2).format_en(RateKind::Ratio).as_deref(),
            Some("123,456.50")
        );
        assert_eq!(
            Rate::new(1_234, 1).format_vi(RateKind::Percent).as_deref(),
            Some("123.400,00 %")
        );
        // No overflow with the largest counts.
        assert_eq!(Rate::new(u64::MAX, u64::MAX).percent_hundredths(), Some(10_000));
    }

    #[test]
    fn a_zero_denominator_has_no_value() {
        let r = Rate::new(5, 0);
        assert_eq!(r.percent_hundredths(), None);
        assert_eq!(r.ratio_hundredths(), None);
        assert_eq!(r.format_vi(RateKind::Percent), None);
        assert_eq!(r.format_en(RateKind::Ratio), None);
        assert_eq!(Rate::new(0, 4).percent_hundredths(), Some(0));
        // A school with pupils and no teacher recorded: the row keeps its counts, no value.
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["TH"], 0);
        learners(&mut facts, s, 12, "TH", 1, &[yes("on_roll")]);
        let rows = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &Inputs::this_year(&facts),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(one(&rows), Rate::new(12, 0));
        assert_eq!(one(&rows).ratio_hundredths(), None);
    }

    /// Grade 1 of a primary school: 8 pupils at the start; one dropped out, two transferred
    /// out, one transferred in later.
    fn dropout_school() -> Facts {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["TH"], 0);
        let female = ("sex", Val::code("female"));
        let male = ("sex", Val::code("male"));
        learners(
            &mut facts,
            s,
            4,
            "TH",
            1,
            &[yes("at_start"), yes("on_roll"), female.clone()],
        );
        learners(
            &mut facts,
            s,
            1,
            "TH",
            1,
            &[yes("at_start"), yes("on_roll"), male.clone()],
        );
        learners(
            &mut facts,
            s,
            1,
            "TH",
            1,
            &[yes("at_start"), yes("dropped_out"), male.clone()],
        );
        learners(
            &mut facts,
            s,
            2,
            "TH",
            1,
            &[yes("at_start"), yes("transferred_out"), female],
        );
        learners(&mut facts, s, 1, "TH", 1, &[yes("on_roll"), male.clone()]);
        // A THCS dropout of the same school is not a primary dropout.
        learners(
            &mut facts,
            s,
            3,
            "THCS",
            6,
            &[yes("at_start"), yes("dropped_out"), male],
        );
        facts
    }

    #[test]
    fn dropout_excludes_transfers() {
        let facts = dropout_school();
        let inputs = Inputs::this_year(&facts);
        let rows = evaluate(IndicatorId::DropoutRate, SchoolLevel::TH, &inputs, &[], &[]).unwrap();
        // 1 dropout ÷ 8 at the start (the two transfers stay in the denominator only).
        assert_eq!(one(&rows), Rate::new(1, 8));
        assert_eq!(
            one(&rows).format_vi(RateKind::Percent).as_deref(),
            Some("12,50 %")
        );
        // By sex (a GSO breakdown): girls 0 of 6, boys 1 of 2.
        let by_sex = evaluate(IndicatorId::DropoutRate, SchoolLevel::TH, &inputs, &["sex"], &[]).unwrap();
        assert_eq!(by_sex.len(), 2);
        assert_eq!(by_sex[0].key, vec![Val::code("female")]);
        assert_eq!(by_sex[0].rate, Rate::new(0, 6));
        assert_eq!(by_sex[1].key, vec![Val::code("male")]);
        assert_eq!(by_sex[1].rate.percent_hundredths(), Some(5000));
        // Grouping by the formula's own condition is refused.
        assert_eq!(
            evaluate(
                IndicatorId::DropoutRate,
                SchoolLevel::TH,
                &inputs,
                &["dropped_out"],
                &[]
            ),
            Err(IndicatorError::DimensionNotShared {
                dimension: "dropped_out".into()
            })
        );
    }

    #[test]
    fn repetition_counts_repeaters_enrolled_at_the_start() {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["THCS"], 0);
        learners(&mut facts, s, 37, "THCS", 6, &[yes("at_start"), yes("on_roll")]);
        learners(
            &mut facts,
            s,
            3,
            "THCS",
            6,
            &[yes("at_start"), yes("on_roll"), yes("repeater")],
        );
        learners(
            &mut facts,
            s,
            1,
            "THCS",
            7,
            &[yes("at_start"), yes("on_roll"), yes("repeater")],
        );
        let rows = evaluate(
            IndicatorId::RepetitionRate,
            SchoolLevel::THCS,
            &Inputs::this_year(&facts),
            &["grade"],
            &[],
        )
        .unwrap();
        // Grade 6: 3 of 40 = 7,50 %; grade 7: 1 of 1.
        assert_eq!(rows[0].key, vec![Val::Int(6)]);
        assert_eq!(
            rows[0].rate.format_vi(RateKind::Percent).as_deref(),
            Some("7,50 %")
        );
        assert_eq!(rows[1].rate, Rate::new(1, 1));
    }

    /// Two public primary schools (30 + 27 pupils, 1 teacher each, a non-teaching staff
    /// member) and a private one (20 pupils, 3 teachers); THCS pupils of the private school
    /// count for THCS only.
    fn three_schools() -> (Facts, [usize; 3]) {
        let mut facts = Facts::default();
        let a = school(&mut facts, "cong_lap", &["TH"], 10);
        let b = school(&mut facts, "cong_lap", &["TH"], 9);
        let c = school(&mut facts, "tu_thuc", &["TH", "THCS"], 4);
        learners(&mut facts, a, 30, "TH", 1, &[yes("on_roll")]);
        learners(&mut facts, b, 27, "TH", 2, &[yes("on_roll")]);
        learners(&mut facts, b, 2, "TH", 2, &[yes("dropped_out")]);
        learners(&mut facts, c, 20, "TH", 3, &[yes("on_roll")]);
        learners(&mut facts, c, 15, "THCS", 6, &[yes("on_roll")]);
        staff(&mut facts, a, 1, "TH", true, true);
        staff(&mut facts, a, 1, "TH", false, false);
        staff(&mut facts, b, 1, "TH", true, false);
        staff(&mut facts, c, 3, "TH", true, true);
        staff(&mut facts, c, 2, "THCS", true, true);
        classes(&mut facts, a, 1, "TH");
        classes(&mut facts, b, 1, "TH");
        classes(&mut facts, c, 2, "TH");
        (facts, [a, b, c])
    }

    #[test]
    fn pupils_per_teacher_by_ownership_group_and_school() {
        let (facts, [a, _, c]) = three_schools();
        let inputs = Inputs::this_year(&facts);
        let rows = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &inputs,
            &["ownership_group"],
            &[],
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, vec![Val::code("cong_lap")]);
        // (30 + 27) ÷ 2 = 28,50; the dropout and the support staff member do not count.
        assert_eq!(rows[0].rate, Rate::new(57, 2));
        assert_eq!(rows[0].rate.format_vi(RateKind::Ratio).as_deref(), Some("28,50"));
        assert_eq!(rows[1].key, vec![Val::code("tu_thuc")]);
        assert_eq!(rows[1].rate.format_vi(RateKind::Ratio).as_deref(), Some("6,67"));
        let by_school = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &inputs,
            &["school"],
            &[],
        )
        .unwrap();
        let of = |s: usize| {
            by_school
                .iter()
                .find(|r| r.key == vec![Val::Code(facts.schools[s].id.to_string())])
                .map(|r| r.rate)
        };
        assert_eq!(of(a), Some(Rate::new(30, 1)));
        assert_eq!(of(c), Some(Rate::new(20, 3)));
        // A school filter applies to both sides.
        let public = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &inputs,
            &[],
            &pairs(&[("ownership_group", "cong_lap")]),
        )
        .unwrap();
        assert_eq!(one(&public), Rate::new(57, 2));
        // THCS of the multi-level school: 15 ÷ 2.
        let thcs = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::THCS,
            &inputs,
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(one(&thcs), Rate::new(15, 2));
    }

    #[test]
    fn class_teacher_and_computer_ratios() {
        let (facts, _) = three_schools();
        let inputs = Inputs::this_year(&facts);
        let get = |id| one(&evaluate(id, SchoolLevel::TH, &inputs, &[], &[]).unwrap());
        // 77 pupils, 4 classes, 5 teachers of whom 4 trained, computers 10 + 9 + 4.
        assert_eq!(get(IndicatorId::PupilsPerClass), Rate::new(77, 4));
        assert_eq!(get(IndicatorId::TeachersPerClass), Rate::new(5, 4));
        assert_eq!(get(IndicatorId::TrainedTeacherRate), Rate::new(4, 5));
        assert_eq!(
            get(IndicatorId::TrainedTeacherRate)
                .format_vi(RateKind::Percent)
                .as_deref(),
            Some("80,00 %")
        );
        assert_eq!(get(IndicatorId::LearnersPerComputer), Rate::new(77, 23));
        assert_eq!(
            get(IndicatorId::LearnersPerComputer)
                .format_vi(RateKind::Ratio)
                .as_deref(),
            Some("3,35")
        );
        // The private school's computers serve its THCS pupils too (UNCERTAIN rule).
        let thcs = evaluate(
            IndicatorId::LearnersPerComputer,
            SchoolLevel::THCS,
            &inputs,
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(one(&thcs), Rate::new(15, 4));
    }

    #[test]
    fn ethnic_minority_share() {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["THPT"], 0);
        learners(&mut facts, s, 13, "THPT", 10, &[yes("on_roll"), yes("minority")]);
        learners(&mut facts, s, 27, "THPT", 10, &[yes("on_roll")]);
        learners(&mut facts, s, 5, "THPT", 10, &[yes("minority")]);
        let rows = evaluate(
            IndicatorId::EthnicMinorityShare,
            SchoolLevel::THPT,
            &Inputs::this_year(&facts),
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(one(&rows), Rate::new(13, 40));
        assert_eq!(
            one(&rows).format_vi(RateKind::Percent).as_deref(),
            Some("32,50 %")
        );
    }

    #[test]
    fn a_dimension_not_on_both_sides_is_refused() {
        let (facts, _) = three_schools();
        let inputs = Inputs::this_year(&facts);
        let refused = |id, dim: &str| {
            evaluate(id, SchoolLevel::TH, &inputs, &[dim], &[])
                .map(|_| ())
                .unwrap_err()
        };
        let not_shared = |d: &str| IndicatorError::DimensionNotShared { dimension: d.into() };
        // Teachers have no grade.
        assert_eq!(
            refused(IndicatorId::PupilsPerTeacher, "grade"),
            not_shared("grade")
        );
        // Both have a sex, but not the same people's.
        assert_eq!(refused(IndicatorId::PupilsPerTeacher, "sex"), not_shared("sex"));
        // The population is known by age and commune only.
        assert_eq!(refused(IndicatorId::GrossEnrolmentRate, "sex"), not_shared("sex"));
        // Completers in t and grade-1 pupils in t−4 do not have the same age.
        assert_eq!(refused(IndicatorId::CompletionRate, "age"), not_shared("age"));
        assert_eq!(refused(IndicatorId::CompletionRate, "grade"), not_shared("grade"));
        assert_eq!(
            refused(IndicatorId::PupilsPerTeacher, "colour"),
            IndicatorError::UnknownDimension {
                dimension: "colour".into()
            }
        );
        let e = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &inputs,
            &[],
            &pairs(&[("grade", "1")]),
        )
        .unwrap_err();
        assert_eq!(
            e,
            IndicatorError::FilterNotShared {
                field: "grade".into()
            }
        );
        assert_eq!(e.code(), "filter_not_shared");
        let e = evaluate(
            IndicatorId::PupilsPerTeacher,
            SchoolLevel::TH,
            &inputs,
            &[],
            &pairs(&[("ownership_group", "")]),
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_filter");
    }

    fn population_table() -> BTreeMap<(u8, &'static str), u64> {
        let mut p = BTreeMap::new();
        for age in 0..=17 {
            p.insert((age, "00001"), 12);
            p.insert((age, "00004"), 8);
        }
        p
    }

    #[test]
    fn gross_enrolment_may_exceed_100_percent() {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["TH"], 0);
        let at = |c: &str| ("residence", Val::code(c));
        // Commune 00001: 50 on-age pupils, 12 over-age; commune 00004: 45 on-age.
        learners(
            &mut facts,
            s,
            50,
            "TH",
            1,
            &[yes("on_roll"), ("age", Val::Int(7)), at("00001")],
        );
        learners(
            &mut facts,
            s,
            12,
            "TH",
            5,
            &[yes("on_roll"), ("age", Val::Int(12)), at("00001")],
        );
        learners(
            &mut facts,
            s,
            45,
            "TH",
            2,
            &[yes("on_roll"), ("age", Val::Int(8)), at("00004")],
        );
        let table = population_table();
        let asked = RefCell::new(vec![]);
        let population = |age: u8, commune: Option<&str>| {
            asked.borrow_mut().push((age, commune.map(str::to_string)));
            match commune {
                Some(c) => table.get(&(age, c)).copied(),
                None => Some(table.range((age, "")..(age + 1, "")).map(|(_, n)| n).sum()),
            }
        };
        let inputs = Inputs {
            population: &population,
            ..Inputs::this_year(&facts)
        };
        // Whole area: 107 pupils ÷ 5 ages × 20 = 100.
        let ger = evaluate(
            IndicatorId::GrossEnrolmentRate,
            SchoolLevel::TH,
            &inputs,
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(one(&ger), Rate::new(107, 100));
        assert_eq!(
            one(&ger).format_vi(RateKind::Percent).as_deref(),
            Some("107,00 %")
        );
        assert_eq!(
            asked.borrow().iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            vec![6, 7, 8, 9, 10]
        );
        let ner = evaluate(IndicatorId::NetEnrolmentRate, SchoolLevel::TH, &inputs, &[], &[]).unwrap();
        assert_eq!(one(&ner), Rate::new(95, 100));
        // By commune of residence: 62 ÷ 60 and 45 ÷ 40, each asked with its commune.
        asked.borrow_mut().clear();
        let by = evaluate(
            IndicatorId::GrossEnrolmentRate,
            SchoolLevel::TH,
            &inputs,
            &["residence"],
            &[],
        )
        .unwrap();
        assert_eq!(by.len(), 2);
        assert_eq!(
            (by[0].key.clone(), by[0].rate),
            (vec![Val::code("00001")], Rate::new(62, 60))
        );
        assert_eq!(
            by[0].rate.format_vi(RateKind::Percent).as_deref(),
            Some("103,33 %")
        );
        assert_eq!(
            (by[1].key.clone(), by[1].rate),
            (vec![Val::code("00004")], Rate::new(45, 40))
        );
        assert!(asked.borrow().contains(&(10, Some("00004".into()))));
        assert!(asked.borrow().iter().all(|(_, c)| c.is_some()));
        // A commune filter narrows both sides.
        let one_commune = evaluate(
            IndicatorId::GrossEnrolmentRate,
            SchoolLevel::TH,
            &inputs,
            &[],
            &pairs(&[("residence", "00004")]),
        )
        .unwrap();
        assert_eq!(one(&one_commune), Rate::new(45, 40));
    }

    #[test]
    fn missing_population_is_refused() {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["THCS"], 0);
        learners(
            &mut facts,
            s,
            40,
            "THCS",
            6,
            &[yes("on_roll"), ("age", Val::Int(11))],
        );
        learners(
            &mut facts,
            s,
            2,
            "THCS",
            6,
            &[yes("on_roll"), ("age", Val::Int(11))],
        );
        let inputs = Inputs::this_year(&facts);
        assert_eq!(
            evaluate(
                IndicatorId::GrossEnrolmentRate,
                SchoolLevel::THCS,
                &inputs,
                &[],
                &[]
            ),
            Err(IndicatorError::MissingData {
                what: "population aged 11".into()
            })
        );
        // Known for some ages only: still refused, never a partial denominator.
        let partial = |age: u8, _: Option<&str>| (age != 13).then_some(30);
        let inputs = Inputs {
            population: &partial,
            ..Inputs::this_year(&facts)
        };
        assert_eq!(
            evaluate(
                IndicatorId::NetEnrolmentRate,
                SchoolLevel::THCS,
                &inputs,
                &[],
                &[]
            ),
            Err(IndicatorError::MissingData {
                what: "population aged 13".into()
            })
        );
        // Learners without a recorded commune cannot be set against a commune's population.
        let full = |_: u8, _: Option<&str>| Some(30);
        let inputs = Inputs {
            population: &full,
            ..Inputs::this_year(&facts)
        };
        let e = evaluate(
            IndicatorId::GrossEnrolmentRate,
            SchoolLevel::THCS,
            &inputs,
            &["residence"],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            IndicatorError::MissingData {
                what: "commune of residence of 42 learners".into()
            }
        );
        assert_eq!(
            one(&evaluate(
                IndicatorId::GrossEnrolmentRate,
                SchoolLevel::THCS,
                &inputs,
                &[],
                &[]
            )
            .unwrap()),
            Rate::new(42, 120)
        );
    }

    #[test]
    fn preschool_mobilisation_by_age_band() {
        let mut facts = Facts::default();
        let s = school(&mut facts, "cong_lap", &["MN"], 0);
        let age = |a| ("age", Val::Int(a));
        learners(&mut facts, s, 9, "MN", 16, &[yes("on_roll"), age(1)]);
        learners(&mut facts, s, 6, "MN", 16, &[yes("on_roll"), age(2)]);
        learners(&mut facts, s, 20, "MN", 17, &[yes("on_roll"), age(4)]);
        learners(&mut facts, s, 19, "MN", 17, &[yes("on_roll"), age(5)]);
        learners(&mut facts, s, 1, "MN", 17, &[yes("on_roll"), age(6)]);
        let population = |a: u8, _: Option<&str>| Some(20 + u64::from(a));
        let inputs = Inputs {
            population: &population,
            ..Inputs::this_year(&facts)
        };
        let get = |id| one(&evaluate(id, SchoolLevel::MN, &inputs, &[], &[]).unwrap());
        // Ages 0–2: 15 ÷ (20 + 21 + 22); 3–5: 39 ÷ (23 + 24 + 25); 5: 19 ÷ 25.
        assert_eq!(get(IndicatorId::CrecheEnrolmentRate), Rate::new(15, 63));
        assert_eq!(get(IndicatorId::KindergartenEnrolmentRate), Rate::new(39, 72));
        assert_eq!(get(IndicatorId::FiveYearOldEnrolmentRate), Rate::new(19, 25));
        assert_eq!(
            get(IndicatorId::FiveYearOldEnrolmentRate)
                .format_vi(RateKind::Percent)
                .as_deref(),
            Some("76,00 %")
        );
    }

    #[test]
    fn cohort_completion_reads_an_earlier_year() {
        let mut now = Facts::default();
        let s = school(&mut now, "cong_lap", &["TH"], 0);
        let female = ("sex", Val::code("female"));
        learners(
            &mut now,
            s,
            27,
            "TH",
            5,
            &[yes("on_roll"), yes("completed_level"), female.clone()],
        );
        learners(
            &mut now,
            s,
            18,
            "TH",
            5,
            &[yes("on_roll"), yes("completed_level")],
        );
        learners(&mut now, s, 3, "TH", 5, &[yes("on_roll"), yes("repeater")]);
        // Four years earlier the same school (a new fact set: other indexes, same id).
        let mut then = Facts::default();
        school(&mut then, "tu_thuc", &["TH"], 0);
        let mut f = now.school_fact(s).clone();
        f.school = 0;
        then.add_school(now.schools[s].id, "S".into(), "p".into(), f);
        learners(&mut then, 1, 28, "TH", 1, &[yes("on_roll"), female]);
        learners(&mut then, 1, 22, "TH", 1, &[yes("on_roll")]);
        learners(&mut then, 1, 40, "TH", 2, &[yes("on_roll")]);
        learners(&mut then, 0, 9, "TH", 1, &[yes("on_roll")]);
        let asked = RefCell::new(vec![]);
        let earlier = |back: i32| {
            asked.borrow_mut().push(back);
            (back == 4).then_some(&then)
        };
        let inputs = Inputs {
            earlier: &earlier,
            ..Inputs::this_year(&now)
        };
        // 45 completers ÷ 59 grade-1 pupils of t−4.
        let all = evaluate(IndicatorId::CompletionRate, SchoolLevel::TH, &inputs, &[], &[]).unwrap();
        assert_eq!(one(&all), Rate::new(45, 59));
        assert_eq!(asked.borrow().as_slice(), &[4]);
        // By school: the id carries across years; the other school had no completers.
        let by_school = evaluate(
            IndicatorId::CompletionRate,
            SchoolLevel::TH,
            &inputs,
            &["school"],
            &[],
        )
        .unwrap();
        let ours = Val::Code(now.schools[s].id.to_string());
        let row = by_school.iter().find(|r| r.key == vec![ours.clone()]).unwrap();
        assert_eq!(row.rate, Rate::new(45, 50));
        assert_eq!(row.rate.format_vi(RateKind::Percent).as_deref(), Some("90,00 %"));
        assert!(
            by_school
                .iter()
                .any(|r| r.key != vec![ours.clone()] && r.rate == Rate::new(0, 9))
        );
        // Sex is the same person's in both years: 27 ÷ 28 girls.
        let by_sex = evaluate(
            IndicatorId::CompletionRate,
            SchoolLevel::TH,
            &inputs,
            &["sex"],
            &[],
        )
        .unwrap();
        let girls = by_sex
            .iter()
            .find(|r| r.key == vec![Val::code("female")])
            .unwrap();
        assert_eq!(girls.rate, Rate::new(27, 28));
        // THCS asks for t−3, which is not there.
        asked.borrow_mut().clear();
        assert_eq!(
            evaluate(IndicatorId::CompletionRate, SchoolLevel::THCS, &inputs, &[], &[]),
            Err(IndicatorError::MissingData {
                what: "facts of year t-3".into()
            })
        );
        assert_eq!(asked.borrow().as_slice(), &[3]);
    }

    #[test]
    fn transition_reads_the_next_year() {
        let mut now = Facts::default();
        let s = school(&mut now, "cong_lap", &["TH"], 0);
        learners(
            &mut now,
            s,
            40,
            "TH",
            5,
            &[yes("on_roll"), yes("completed_level")],
        );
        let mut next = Facts::default();
        let t = school(&mut next, "cong_lap", &["THCS"], 0);
        learners(&mut next, t, 38, "THCS", 6, &[yes("on_roll"), yes("new_entrant")]);
        learners(&mut next, t, 2, "THCS", 6, &[yes("on_roll"), yes("repeater")]);
        learners(&mut next, t, 30, "THCS", 7, &[yes("on_roll"), yes("new_entrant")]);
        let inputs = Inputs {
            later: Some(&next),
            ..Inputs::this_year(&now)
        };
        let rows = evaluate(IndicatorId::TransitionRate, SchoolLevel::TH, &inputs, &[], &[]).unwrap();
        assert_eq!(one(&rows), Rate::new(38, 40));
        assert_eq!(
            one(&rows).format_vi(RateKind::Percent).as_deref(),
            Some("95,00 %")
        );
        assert_eq!(
            evaluate(
                IndicatorId::TransitionRate,
                SchoolLevel::TH,
                &Inputs::this_year(&now),
                &[],
                &[]
            ),
            Err(IndicatorError::MissingData {
                what: "facts of year t+1".into()
            })
        );
        assert_eq!(
            evaluate(IndicatorId::TransitionRate, SchoolLevel::THPT, &inputs, &[], &[]),
            Err(IndicatorError::NotApplicable {
                indicator: IndicatorId::TransitionRate,
                level: SchoolLevel::THPT
            })
        );
    }

    #[test]
    fn a_definition_can_be_replaced_by_data() {
        // An installation counting every grade-6 pupil of t+1 (not only new entrants).
        let def: Definition = toml::from_str(
            r#"
            [numerator]
            source = "facts"
            entity = "learner"
            year = "later"
            where = { level = "THCS", grade = 6, on_roll = true }
            [denominator]
            source = "facts"
            entity = "learner"
            where = { level = "TH", completed_level = true }
            "#,
        )
        .unwrap();
        let mut now = Facts::default();
        let s = school(&mut now, "cong_lap", &["TH"], 0);
        learners(&mut now, s, 40, "TH", 5, &[yes("completed_level")]);
        let mut next = Facts::default();
        let t = school(&mut next, "cong_lap", &["THCS"], 0);
        learners(&mut next, t, 38, "THCS", 6, &[yes("on_roll"), yes("new_entrant")]);
        learners(&mut next, t, 3, "THCS", 6, &[yes("on_roll")]);
        let inputs = Inputs {
            later: Some(&next),
            ..Inputs::this_year(&now)
        };
        let rows = evaluate_definition(&def, &inputs, &[], &[]).unwrap();
        assert_eq!(one(&rows), Rate::new(41, 40));
        let bad: Definition = toml::from_str(
            r#"
            numerator = { source = "facts", entity = "learner", where = { grde = 6 } }
            denominator = { source = "population", from = 6, to = 10 }
            "#,
        )
        .unwrap();
        let e = evaluate_definition(&bad, &inputs, &[], &[]).unwrap_err();
        assert_eq!(e.code(), "invalid_definition");
        let bad_sum = Definition {
            numerator: Side::Facts {
                entity: Entity::School,
                filter: toml::Table::new(),
                sum: Some("ownership".into()),
                year: Year::This,
            },
            denominator: Side::population(0, 0),
        };
        assert_eq!(
            evaluate_definition(&bad_sum, &inputs, &[], &[])
                .unwrap_err()
                .code(),
            "invalid_definition"
        );
    }

    #[test]
    fn the_catalogue() {
        let mut codes: Vec<_> = IndicatorId::ALL.iter().map(|i| i.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), IndicatorId::ALL.len());
        for id in IndicatorId::ALL {
            assert_eq!(IndicatorId::parse(id.as_str()), Some(id));
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
            assert_eq!(id.name_key(), format!("stats.indicator.{id}.name"));
            assert_eq!(id.formula_key(), format!("stats.indicator.{id}.formula"));
            assert!(!id.levels().is_empty());
            for level in SchoolLevel::ALL {
                assert_eq!(
                    id.definition(level).is_some(),
                    id.applies_to(level),
                    "{id} {level:?}"
                );
            }
        }
        assert!(!IndicatorId::TransitionRate.applies_to(SchoolLevel::THPT));
        assert!(IndicatorId::CrecheEnrolmentRate.applies_to(SchoolLevel::MN));
        assert!(!IndicatorId::CrecheEnrolmentRate.applies_to(SchoolLevel::TH));
        assert!(!IndicatorId::GrossEnrolmentRate.applies_to(SchoolLevel::MN));
        assert!(!IndicatorId::PupilsPerTeacher.applies_to(SchoolLevel::GDTX));
        assert_eq!(IndicatorId::PupilsPerTeacher.kind(), RateKind::Ratio);
        assert_eq!(IndicatorId::LearnersPerComputer.kind(), RateKind::Ratio);
        assert_eq!(IndicatorId::DropoutRate.kind(), RateKind::Percent);
        assert_eq!(IndicatorId::parse("nope"), None);
        // The cohort lag is the distance from the level's first grade to its last.
        assert_eq!(cohort_years(SchoolLevel::TH), Some(4));
        assert_eq!(cohort_years(SchoolLevel::THCS), Some(3));
        assert_eq!(cohort_years(SchoolLevel::THPT), Some(2));
        assert_eq!(
            IndicatorId::CompletionRate
                .definition(SchoolLevel::THPT)
                .unwrap()
                .denominator,
            Side::Facts {
                entity: Entity::Learner,
                filter: table(&[
                    ("level", "THPT".into()),
                    ("on_roll", true.into()),
                    ("grade", 10.into())
                ]),
                sum: None,
                year: Year::Earlier(2),
            }
        );
    }
}
