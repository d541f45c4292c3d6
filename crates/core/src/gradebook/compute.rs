//! From a learner's recorded marks to every result of the year, for any rule set. The store,
//! the API and `truongso gradebook compute` all go through here, so the figures a reviewer gets
//! from the command line are the figures the school sees.
//!
//! Two layers: typed records (what the store loads) and a JSON document (what the command line
//! and the API accept), which parses into the typed records with a path to every bad value.

use super::RuleSet;
use super::config::RuleConfig;
use super::curriculum::{self, Mode};
use super::marks::{Level, Mark, Pass, SubjectLevel, TestScore, TraitLevel, tenths_text};
use super::tt22::{self, Decision, LearningResult, SubjectResult, YearEnd, YearEndInput};
use super::tt27::{self, Evaluation};
use super::tt58::{self, HocLucResult};
use crate::DomainError;
use crate::school_year::SchoolYear;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one gradebook cell holds in a secondary subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Mark(Mark),
    Pass(Pass),
}

/// One semester of one subject: the regular assessments, mid-term and end-of-term, or a result
/// given directly (read back from an old record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Term {
    pub regular: Vec<Cell>,
    pub mid: Option<Cell>,
    pub end: Option<Cell>,
    /// TT 58/2011 before TT 26: the periodic tests (hệ số 2).
    pub periodic: Vec<Mark>,
    pub given: Option<SubjectResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    pub code: String,
    pub mode: Mode,
    /// ĐĐGtx required per semester (periods, chuyên đề and configuration already applied).
    pub regular_count: u8,
    pub hk1: Term,
    pub hk2: Term,
    pub year_given: Option<SubjectResult>,
    pub retest: Option<SubjectResult>,
}

/// Why a result cannot be computed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum Gap {
    /// A required mark is not entered: term 1 or 2, slot `tx3`, `gk`, `ck`.
    Missing { term: u8, slot: String },
    /// A mark of the wrong kind for the subject (a score in a comment subject or the reverse).
    WrongKind { term: u8, slot: String },
}

fn slot_name(k: usize) -> String {
    format!("tx{}", k + 1)
}

fn term_result(s: &SubjectRecord, term: u8, rules: RuleSet) -> Result<SubjectResult, Gap> {
    let t = if term == 1 { &s.hk1 } else { &s.hk2 };
    if let Some(g) = t.given {
        return Ok(g);
    }
    let missing = |slot: String| Gap::Missing { term, slot };
    let wrong = |slot: String| Gap::WrongKind { term, slot };
    match s.mode {
        Mode::Comment => {
            let mut passes = vec![];
            for k in 0..usize::from(s.regular_count) {
                match t.regular.get(k) {
                    Some(Cell::Pass(p)) => passes.push(*p),
                    Some(Cell::Mark(_)) => return Err(wrong(slot_name(k))),
                    None => return Err(missing(slot_name(k))),
                }
            }
            for (slot, c) in [("gk", t.mid), ("ck", t.end)] {
                match c {
                    Some(Cell::Pass(p)) => passes.push(p),
                    Some(Cell::Mark(_)) => return Err(wrong(slot.into())),
                    None => return Err(missing(slot.into())),
                }
            }
            Ok(SubjectResult::Comment(tt22::comment_semester(
                &passes,
                passes.len(),
            )))
        }
        Mode::Score | Mode::Level => {
            let mark = |c: Option<&Cell>, slot: String| match c {
                Some(Cell::Mark(m)) => Ok(*m),
                Some(Cell::Pass(_)) => Err(wrong(slot)),
                None => Err(missing(slot)),
            };
            let regular = (0..usize::from(s.regular_count))
                .map(|k| mark(t.regular.get(k), slot_name(k)))
                .collect::<Result<Vec<Mark>, Gap>>()?;
            let end = mark(t.end.as_ref(), "ck".into())?;
            if rules == RuleSet::Tt58_2011 {
                return Ok(SubjectResult::Score(tt58::semester_average_tt58(
                    &regular,
                    &t.periodic,
                    end,
                )));
            }
            let mid = mark(t.mid.as_ref(), "gk".into())?;
            Ok(SubjectResult::Score(tt22::semester_average(&regular, mid, end)))
        }
    }
}

/// One subject's results for the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectOutcome {
    pub code: String,
    pub hk1: Result<SubjectResult, Gap>,
    pub hk2: Result<SubjectResult, Gap>,
    pub year: Result<SubjectResult, Gap>,
    pub retest: Option<SubjectResult>,
}

impl SubjectOutcome {
    /// The year result after any re-test.
    pub fn final_year(&self) -> Result<SubjectResult, Gap> {
        match (self.retest, &self.year) {
            (Some(r), Ok(_)) => Ok(r),
            _ => self.year.clone(),
        }
    }
}

pub fn subject_outcome(s: &SubjectRecord, rules: RuleSet) -> SubjectOutcome {
    let hk1 = term_result(s, 1, rules);
    let hk2 = term_result(s, 2, rules);
    let year = match s.year_given {
        Some(y) => Ok(y),
        None => match (&hk1, &hk2) {
            (Ok(SubjectResult::Score(a)), Ok(SubjectResult::Score(b))) => {
                Ok(SubjectResult::Score(tt22::year_average(*a, *b)))
            }
            (_, Ok(SubjectResult::Comment(p))) => Ok(SubjectResult::Comment(tt22::comment_year(*p))),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
            (Ok(_), Ok(_)) => Err(Gap::WrongKind {
                term: 1,
                slot: "ck".into(),
            }),
        },
    };
    SubjectOutcome {
        code: s.code.clone(),
        hk1,
        hk2,
        year,
        retest: s.retest,
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecondaryLearner {
    pub subjects: Vec<SubjectRecord>,
    pub conduct_hk1: Option<Level>,
    pub conduct_hk2: Option<Level>,
    pub summer_conduct: Option<Level>,
    pub absences: Option<u16>,
}

/// Every result of a THCS/THPT learner that the recorded data allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecondaryResult {
    pub subjects: Vec<SubjectOutcome>,
    /// TT 22 learning result per semester and year (None while a subject is incomplete).
    pub learning_hk1: Option<LearningResult>,
    pub learning_hk2: Option<LearningResult>,
    pub learning_year: Option<LearningResult>,
    pub conduct_year: Option<Level>,
    pub year_end: Option<YearEnd>,
    /// TT 58 học lực per semester and year, for the legacy rule sets.
    pub hoc_luc_hk1: Option<HocLucResult>,
    pub hoc_luc_hk2: Option<HocLucResult>,
    pub hoc_luc_year: Option<HocLucResult>,
}

pub fn secondary(learner: &SecondaryLearner, rules: RuleSet, cfg: &RuleConfig) -> SecondaryResult {
    let subjects: Vec<SubjectOutcome> = learner
        .subjects
        .iter()
        .map(|s| subject_outcome(s, rules))
        .collect();
    let collect = |pick: fn(&SubjectOutcome) -> Result<SubjectResult, Gap>| -> Option<Vec<SubjectResult>> {
        if subjects.is_empty() {
            return None;
        }
        subjects.iter().map(|s| pick(s).ok()).collect()
    };
    let hk1 = collect(|s| s.hk1.clone());
    let hk2 = collect(|s| s.hk2.clone());
    let year = collect(|s| s.year.clone());
    let conduct_year = match (learner.conduct_hk1, learner.conduct_hk2) {
        (Some(a), Some(b)) => Some(tt22::conduct_year(a, b)),
        _ => None,
    };
    let mut out = SecondaryResult {
        subjects: vec![],
        learning_hk1: None,
        learning_hk2: None,
        learning_year: None,
        conduct_year,
        year_end: None,
        hoc_luc_hk1: None,
        hoc_luc_hk2: None,
        hoc_luc_year: None,
    };
    match rules {
        RuleSet::Tt22_2021 => {
            out.learning_hk1 = hk1.as_deref().map(|r| tt22::learning_result(r, cfg));
            out.learning_hk2 = hk2.as_deref().map(|r| tt22::learning_result(r, cfg));
            out.learning_year = year.as_deref().map(|r| tt22::learning_result(r, cfg));
            if let (Some(results), Some(conduct), Some(absences)) =
                (year.as_deref(), conduct_year, learner.absences)
            {
                let retest: Vec<(usize, SubjectResult)> = subjects
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.retest.map(|r| (i, r)))
                    .collect();
                out.year_end = Some(tt22::year_end(
                    &YearEndInput {
                        results,
                        conduct,
                        absences,
                        summer_conduct: learner.summer_conduct,
                        retest: &retest,
                    },
                    cfg,
                ));
            }
        }
        RuleSet::Tt58Tt26 | RuleSet::Tt58_2011 => {
            let tt26 = rules == RuleSet::Tt58Tt26;
            let coded = |r: &[SubjectResult]| -> Vec<(&str, SubjectResult)> {
                subjects
                    .iter()
                    .map(|s| s.code.as_str())
                    .zip(r.iter().copied())
                    .collect()
            };
            out.hoc_luc_hk1 = hk1.as_deref().map(|r| tt58::hoc_luc(&coded(r), tt26, cfg));
            out.hoc_luc_hk2 = hk2.as_deref().map(|r| tt58::hoc_luc(&coded(r), tt26, cfg));
            out.hoc_luc_year = year.as_deref().map(|r| tt58::hoc_luc(&coded(r), tt26, cfg));
        }
        RuleSet::Tt27_2020 | RuleSet::Tt30Tt22_2016 => {}
    }
    out.subjects = subjects;
    out
}

/// A primary pupil's end-of-year record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrimaryLearner {
    pub subjects: Vec<PrimarySubject>,
    /// The five qualities then the ten competencies; None where not yet assessed.
    pub traits: Vec<Option<TraitLevel>>,
    pub recognised_by_class: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimarySubject {
    pub code: String,
    pub tested: bool,
    pub level: Option<SubjectLevel>,
    pub test: Option<TestScore>,
    /// A re-test after the support plan (Điều 11): replaces the year's test score.
    pub retest: Option<TestScore>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryResult {
    /// Each subject's end-of-year level and test score as the học bạ prints them ("T", "9").
    pub subjects: Vec<PrimarySubjectView>,
    pub evaluation: Option<Evaluation>,
    pub award: Option<tt27::Award>,
    /// Hoàn thành chương trình lớp học (grade 5: chương trình tiểu học).
    pub completes: Option<bool>,
    pub gaps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimarySubjectView {
    pub subject: String,
    pub level: Option<&'static str>,
    pub test: Option<u8>,
}

pub fn primary(learner: &PrimaryLearner, cfg: &RuleConfig) -> PrimaryResult {
    let subjects = learner
        .subjects
        .iter()
        .map(|s| PrimarySubjectView {
            subject: s.code.clone(),
            level: s.level.map(SubjectLevel::symbol),
            test: s.retest.or(s.test).map(TestScore::value),
        })
        .collect();
    let mut gaps = vec![];
    let mut years = vec![];
    for s in &learner.subjects {
        let test = s.retest.or(s.test);
        match s.level {
            None => gaps.push(format!("{}.level", s.code)),
            Some(level) => {
                if s.tested && test.is_none() {
                    gaps.push(format!("{}.test", s.code));
                }
                years.push(tt27::SubjectYear {
                    level,
                    test: if s.tested { test } else { None },
                });
            }
        }
    }
    let expected = tt27::QUALITIES.len() + tt27::COMPETENCIES.len();
    let traits: Vec<TraitLevel> = learner.traits.iter().flatten().copied().collect();
    if traits.len() < expected {
        gaps.push("traits".into());
    }
    if !gaps.is_empty() || learner.subjects.is_empty() {
        return PrimaryResult {
            subjects,
            evaluation: None,
            award: None,
            completes: None,
            gaps,
        };
    }
    let evaluation = tt27::evaluate(&years, &traits, cfg);
    PrimaryResult {
        subjects,
        evaluation: Some(evaluation),
        award: tt27::award(evaluation, learner.recognised_by_class),
        completes: Some(evaluation.completes()),
        gaps,
    }
}

// ---------------------------------------------------------------------------------------------
// The JSON document of `truongso gradebook compute` and `POST /api/v1/gradebook/compute`.

/// A value as a person or a spreadsheet writes it: a JSON number or text ("7,5", "Đ", "T").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(serde_json::Number),
    Text(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Number(n) => n.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// "2025-2026".
    pub school_year: String,
    pub grade: u8,
    /// Override the rule set the roadmap gives for (grade, school year).
    #[serde(default)]
    pub rules: Option<RuleSet>,
    #[serde(default)]
    pub config: RuleConfig,
    pub learners: Vec<LearnerInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerInput {
    pub id: String,
    #[serde(default)]
    pub subjects: Vec<SubjectInput>,
    #[serde(default)]
    pub conduct: Option<ConductInput>,
    #[serde(default)]
    pub absences: Option<u16>,
    /// Primary: quality code → level.
    #[serde(default)]
    pub qualities: BTreeMap<String, String>,
    /// Primary: competency code → level.
    #[serde(default)]
    pub competencies: BTreeMap<String, String>,
    #[serde(default)]
    pub recognised_by_class: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConductInput {
    #[serde(default)]
    pub hk1: Option<String>,
    #[serde(default)]
    pub hk2: Option<String>,
    #[serde(default)]
    pub summer: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    /// Code (`toan`) or name (`Toán`); any other name with `mode` and `periods` or `tx` marks.
    pub subject: String,
    #[serde(default)]
    pub mode: Option<Mode>,
    #[serde(default)]
    pub periods: Option<u16>,
    /// THPT: the learner takes this subject's chuyên đề cluster (one more ĐĐGtx).
    #[serde(default)]
    pub chuyen_de: bool,
    #[serde(default)]
    pub hk1: Option<TermInput>,
    #[serde(default)]
    pub hk2: Option<TermInput>,
    /// A year result given directly (number or Đ/CĐ).
    #[serde(default)]
    pub year: Option<Value>,
    #[serde(default)]
    pub retest: Option<Value>,
    /// Primary: end-of-year level T/H/C.
    #[serde(default)]
    pub level: Option<String>,
    /// Primary: end-of-year test score.
    #[serde(default)]
    pub test: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermInput {
    #[serde(default)]
    pub tx: Vec<Value>,
    #[serde(default)]
    pub gk: Option<Value>,
    #[serde(default)]
    pub ck: Option<Value>,
    /// TT 58/2011: periodic tests (hệ số 2).
    #[serde(default)]
    pub dk: Vec<Value>,
    /// The semester average or Đ/CĐ given directly.
    #[serde(default)]
    pub average: Option<Value>,
}

/// A bad value in the document, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub path: String,
    pub code: &'static str,
    /// The values the catalogue message `error.<code>` needs.
    pub params: Vec<(&'static str, String)>,
    pub message: String,
}

fn at(path: String, e: DomainError) -> InputError {
    InputError {
        path,
        code: e.code(),
        params: e.params(),
        message: e.to_string(),
    }
}

fn cell(mode: Mode, v: &Value, path: &str) -> Result<Cell, InputError> {
    let t = v.text();
    match mode {
        Mode::Comment => Pass::parse(&t).map(Cell::Pass),
        _ => Mark::parse(&t).map(Cell::Mark),
    }
    .map_err(|e| at(path.to_string(), e))
}

fn result(mode: Mode, v: &Value, path: &str) -> Result<SubjectResult, InputError> {
    Ok(match cell(mode, v, path)? {
        Cell::Mark(m) => SubjectResult::Score(m.tenths().into()),
        Cell::Pass(p) => SubjectResult::Comment(p),
    })
}

fn term(mode: Mode, t: Option<&TermInput>, max_regular: usize, path: &str) -> Result<Term, InputError> {
    let Some(t) = t else { return Ok(Term::default()) };
    if t.tx.len() > max_regular {
        return Err(at(
            format!("{path}.tx"),
            DomainError::TooManyMarks {
                max: max_regular as u8,
            },
        ));
    }
    let regular =
        t.tx.iter()
            .enumerate()
            .map(|(k, v)| cell(mode, v, &format!("{path}.tx[{k}]")))
            .collect::<Result<Vec<Cell>, InputError>>()?;
    let opt = |v: &Option<Value>, slot: &str| {
        v.as_ref()
            .map(|v| cell(mode, v, &format!("{path}.{slot}")))
            .transpose()
    };
    let periodic =
        t.dk.iter()
            .enumerate()
            .map(|(k, v)| Mark::parse(&v.text()).map_err(|e| at(format!("{path}.dk[{k}]"), e)))
            .collect::<Result<Vec<Mark>, InputError>>()?;
    Ok(Term {
        regular,
        mid: opt(&t.gk, "gk")?,
        end: opt(&t.ck, "ck")?,
        periodic,
        given: t
            .average
            .as_ref()
            .map(|v| result(mode, v, &format!("{path}.average")))
            .transpose()?,
    })
}

fn level_of<T>(
    v: &Option<String>,
    path: &str,
    parse: fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, InputError> {
    v.as_deref()
        .map(|s| parse(s).map_err(|e| at(path.to_string(), e)))
        .transpose()
}

/// The whole computation's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub school_year: String,
    pub grade: u8,
    pub rules: RuleSet,
    pub rules_title: &'static str,
    pub curriculum: &'static str,
    pub config: RuleConfig,
    pub learners: Vec<LearnerOutput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LearnerOutput {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<SecondaryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<PrimaryResult>,
}

/// The secondary result printed the way the gradebook shows it ("7.7", "Đ", "tot").
#[derive(Debug, Clone, Serialize)]
pub struct SecondaryView {
    pub subjects: Vec<SubjectView>,
    pub learning: TermsView,
    pub conduct_year: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year_end: Option<YearEndView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hoc_luc: Option<HocLucView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectView {
    pub subject: String,
    pub regular_count: u8,
    pub hk1: Shown,
    pub hk2: Shown,
    pub year: Shown,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retest: Option<String>,
}

/// A result as text, or the gap that keeps it from being computed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Value(String),
    Gap(Gap),
}

pub fn show(r: &SubjectResult) -> String {
    match r {
        SubjectResult::Score(t) => tenths_text(*t),
        SubjectResult::Comment(p) => p.symbol().to_string(),
    }
}

fn shown(r: &Result<SubjectResult, Gap>) -> Shown {
    match r {
        Ok(r) => Shown::Value(show(r)),
        Err(g) => Shown::Gap(g.clone()),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TermsView {
    pub hk1: Option<LevelView>,
    pub hk2: Option<LevelView>,
    pub year: Option<LevelView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelView {
    pub level: Level,
    pub table_level: Level,
    /// The subject whose single result triggered the one-subject adjustment.
    pub adjusted_for: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearEndView {
    pub initial: Decision,
    pub decision: Decision,
    pub retest_subjects: Vec<String>,
    pub learning_after_retest: Option<LevelView>,
    pub award: Option<tt22::Award>,
    /// Promoted from the last grade of the level: hoàn thành chương trình THCS / THPT.
    pub completes_level: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HocLucView {
    pub hk1: Option<HocLucResult>,
    pub hk2: Option<HocLucResult>,
    pub year: Option<HocLucResult>,
}

fn level_view(l: &LearningResult, codes: &[String]) -> LevelView {
    LevelView {
        level: l.level,
        table_level: l.table_level,
        adjusted_for: l.adjusted_for.map(|i| codes[i].clone()),
    }
}

pub fn secondary_view(r: &SecondaryResult, grade: u8) -> SecondaryView {
    let codes: Vec<String> = r.subjects.iter().map(|s| s.code.clone()).collect();
    SecondaryView {
        subjects: vec![],
        learning: TermsView {
            hk1: r.learning_hk1.as_ref().map(|l| level_view(l, &codes)),
            hk2: r.learning_hk2.as_ref().map(|l| level_view(l, &codes)),
            year: r.learning_year.as_ref().map(|l| level_view(l, &codes)),
        },
        conduct_year: r.conduct_year,
        year_end: r.year_end.as_ref().map(|y| YearEndView {
            initial: y.initial,
            decision: y.decision,
            retest_subjects: y.retest_subjects.iter().map(|i| codes[*i].clone()).collect(),
            learning_after_retest: y.learning_after_retest.as_ref().map(|l| level_view(l, &codes)),
            award: y.award,
            completes_level: y.decision == Decision::Promoted && matches!(grade, 9 | 12),
        }),
        hoc_luc: r.hoc_luc_year.is_some().then_some(HocLucView {
            hk1: r.hoc_luc_hk1,
            hk2: r.hoc_luc_hk2,
            year: r.hoc_luc_year,
        }),
    }
}

/// Parse, check and compute a whole document. The first bad value stops it with its path.
pub fn run(input: &Input) -> Result<Output, InputError> {
    let year = SchoolYear::parse(&input.school_year).map_err(|e| at("school_year".into(), e))?;
    let rules = match input.rules {
        Some(r) => r,
        None => RuleSet::for_grade(input.grade, year)
            .ok_or_else(|| at("grade".into(), DomainError::OutOfRange { min: 1, max: 12 }))?,
    };
    if rules == RuleSet::Tt30Tt22_2016 {
        return Err(at("rules".into(), DomainError::RulesNotComputed));
    }
    let cfg = &input.config;
    let mut learners = vec![];
    for (li, l) in input.learners.iter().enumerate() {
        let lp = format!("learners[{li}]");
        let out = if rules == RuleSet::Tt27_2020 {
            LearnerOutput {
                id: l.id.clone(),
                secondary: None,
                primary: Some(primary(&primary_learner(l, input.grade, &lp)?, cfg)),
            }
        } else {
            let learner = secondary_learner(l, input.grade, cfg, &lp)?;
            let r = secondary(&learner, rules, cfg);
            let mut view = secondary_view(&r, input.grade);
            view.subjects = r
                .subjects
                .iter()
                .zip(&learner.subjects)
                .map(|(o, s)| SubjectView {
                    subject: o.code.clone(),
                    regular_count: s.regular_count,
                    hk1: shown(&o.hk1),
                    hk2: shown(&o.hk2),
                    year: shown(&o.year),
                    retest: o.retest.as_ref().map(show),
                })
                .collect();
            LearnerOutput {
                id: l.id.clone(),
                secondary: Some(view),
                primary: None,
            }
        };
        learners.push(out);
    }
    Ok(Output {
        school_year: year.name(),
        grade: input.grade,
        rules,
        rules_title: rules.title(),
        curriculum: curriculum::version(),
        config: cfg.clone(),
        learners,
    })
}

/// A subject named in the document: the programme's plan when the grade has it, else what the
/// document says (mode, and periods or the number of regular marks given).
fn plan(s: &SubjectInput, grade: u8, cfg: &RuleConfig, path: &str) -> Result<(String, Mode, u8), InputError> {
    let known = crate::classes::parse_subject(&s.subject)
        .ok()
        .and_then(|code| curriculum::subject(grade, code).ok());
    let mode = s
        .mode
        .or(known.map(|p| p.mode))
        .ok_or_else(|| at(format!("{path}.subject"), DomainError::SubjectNotInGrade))?;
    let code = known
        .map(|p| p.code.to_string())
        .unwrap_or_else(|| s.subject.trim().to_string());
    let periods = s.periods.or(known.map(|p| p.periods));
    let base = match periods {
        Some(p) => curriculum::regular_count(p, mode, cfg),
        None if mode == Mode::Comment => cfg.comment_regular_count,
        None => {
            let given = s
                .hk1
                .as_ref()
                .map_or(0, |t| t.tx.len())
                .max(s.hk2.as_ref().map_or(0, |t| t.tx.len()));
            if given == 0 {
                return Err(at(format!("{path}.periods"), DomainError::Required));
            }
            given as u8
        }
    };
    if s.chuyen_de && known.is_some_and(|p| !p.chuyen_de) {
        return Err(at(format!("{path}.chuyen_de"), DomainError::SubjectNotInGrade));
    }
    let extra = if s.chuyen_de { cfg.chuyen_de_extra } else { 0 };
    Ok((code, mode, base + extra))
}

fn secondary_learner(
    l: &LearnerInput,
    grade: u8,
    cfg: &RuleConfig,
    lp: &str,
) -> Result<SecondaryLearner, InputError> {
    let mut subjects = vec![];
    for (si, s) in l.subjects.iter().enumerate() {
        let sp = format!("{lp}.subjects[{si}]");
        let (code, mode, regular_count) = plan(s, grade, cfg, &sp)?;
        let max = usize::from(regular_count);
        subjects.push(SubjectRecord {
            code,
            mode,
            regular_count,
            hk1: term(mode, s.hk1.as_ref(), max, &format!("{sp}.hk1"))?,
            hk2: term(mode, s.hk2.as_ref(), max, &format!("{sp}.hk2"))?,
            year_given: s
                .year
                .as_ref()
                .map(|v| result(mode, v, &format!("{sp}.year")))
                .transpose()?,
            retest: s
                .retest
                .as_ref()
                .map(|v| result(mode, v, &format!("{sp}.retest")))
                .transpose()?,
        });
    }
    let c = l.conduct.as_ref();
    Ok(SecondaryLearner {
        subjects,
        conduct_hk1: level_of(
            &c.and_then(|c| c.hk1.clone()),
            &format!("{lp}.conduct.hk1"),
            Level::parse,
        )?,
        conduct_hk2: level_of(
            &c.and_then(|c| c.hk2.clone()),
            &format!("{lp}.conduct.hk2"),
            Level::parse,
        )?,
        summer_conduct: level_of(
            &c.and_then(|c| c.summer.clone()),
            &format!("{lp}.conduct.summer"),
            Level::parse,
        )?,
        absences: l.absences,
    })
}

fn primary_learner(l: &LearnerInput, grade: u8, lp: &str) -> Result<PrimaryLearner, InputError> {
    let mut subjects = vec![];
    for (si, s) in l.subjects.iter().enumerate() {
        let sp = format!("{lp}.subjects[{si}]");
        let known = crate::classes::parse_subject(&s.subject)
            .ok()
            .and_then(|code| curriculum::subject(grade, code).ok());
        let test = s
            .test
            .as_ref()
            .map(|v| TestScore::parse(&v.text()).map_err(|e| at(format!("{sp}.test"), e)))
            .transpose()?;
        let retest = s
            .retest
            .as_ref()
            .map(|v| TestScore::parse(&v.text()).map_err(|e| at(format!("{sp}.retest"), e)))
            .transpose()?;
        subjects.push(PrimarySubject {
            code: known
                .map(|p| p.code.to_string())
                .unwrap_or_else(|| s.subject.trim().to_string()),
            tested: known.map(|p| p.tested).unwrap_or(false) || test.is_some(),
            level: level_of(&s.level, &format!("{sp}.level"), SubjectLevel::parse)?,
            test,
            retest,
        });
    }
    let mut traits = vec![];
    for (map, list, name) in [
        (&l.qualities, &tt27::QUALITIES[..], "qualities"),
        (&l.competencies, &tt27::COMPETENCIES[..], "competencies"),
    ] {
        if let Some(unknown) = map.keys().find(|k| !list.iter().any(|(c, _)| c == k)) {
            return Err(at(format!("{lp}.{name}.{unknown}"), DomainError::UnknownCode));
        }
        for (code, _) in list {
            traits.push(level_of(
                &map.get(*code).cloned(),
                &format!("{lp}.{name}.{code}"),
                TraitLevel::parse,
            )?);
        }
    }
    Ok(PrimaryLearner {
        subjects,
        traits,
        recognised_by_class: l.recognised_by_class,
    })
}

#[cfg(test)]
mod tests;
