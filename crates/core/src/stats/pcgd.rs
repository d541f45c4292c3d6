//! Universal education (phổ cập giáo dục, PCGD) and literacy (xóa mù chữ, XMC): the level each
//! commune reaches under NĐ 20/2014/NĐ-CP, and the roll-up of a unit over its communes
//! (statistics.md §3).
//!
//! The percentages, age bands, roll-up shares and cross-programme prerequisites are data
//! (`data/stats/pcgd_thresholds.toml`), so an amended decree is an edit of that file or an
//! installation's own copy. What stays in code is the shape of the standards: which count each
//! criterion divides by which population, that a level requires the level below it, and that at
//! levels 2 and 3 of primary every 11-year-old who has not completed primary is still in a primary
//! class.
//!
//! A rate is shown in hundredths of a percent, but a criterion is decided on the exact ratio
//! (`numerator × 100 ≥ percent × denominator`): 94.995 % shows as 95.00 % and still fails 95 %.

use super::catalogue::DefinitionError;
use super::population::{PopulationRow, PopulationTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The thresholds of NĐ 20/2014 as shipped.
pub const DEFAULT_TOML: &str = include_str!("../../data/stats/pcgd_thresholds.toml");

/// A universal-education or literacy programme; its level is 0 (none) up to `max_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    /// PCGD mầm non cho trẻ em 5 tuổi: one level.
    Mn5,
    Th,
    Thcs,
    Xmc,
}

impl Programme {
    pub const ALL: [Programme; 4] = [Programme::Mn5, Programme::Th, Programme::Thcs, Programme::Xmc];

    pub fn as_str(self) -> &'static str {
        match self {
            Programme::Mn5 => "mn5",
            Programme::Th => "th",
            Programme::Thcs => "thcs",
            Programme::Xmc => "xmc",
        }
    }

    /// Message key of the programme's name.
    pub fn label_key(self) -> String {
        format!("pcgd.programme.{}", self.as_str())
    }

    pub fn max_level(self) -> u8 {
        self.standards().len() as u8
    }

    /// The programme's standards, level 1 first.
    pub fn standards(self) -> &'static [Standard] {
        match self {
            Programme::Mn5 => &[Standard::Mn5],
            Programme::Th => &[Standard::Th1, Standard::Th2, Standard::Th3],
            Programme::Thcs => &[Standard::Thcs1, Standard::Thcs2, Standard::Thcs3],
            Programme::Xmc => &[Standard::Xmc1, Standard::Xmc2],
        }
    }
}

impl fmt::Display for Programme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One level of one programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    Mn5,
    Th1,
    Th2,
    Th3,
    Xmc1,
    Xmc2,
    Thcs1,
    Thcs2,
    Thcs3,
}

impl Standard {
    /// Evaluation order: a standard may only require standards before it (THCS needs TH and
    /// XMC), which also keeps prerequisites free of cycles.
    pub const ALL: [Standard; 9] = [
        Standard::Mn5,
        Standard::Th1,
        Standard::Th2,
        Standard::Th3,
        Standard::Xmc1,
        Standard::Xmc2,
        Standard::Thcs1,
        Standard::Thcs2,
        Standard::Thcs3,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Standard::Mn5 => "mn5",
            Standard::Th1 => "th1",
            Standard::Th2 => "th2",
            Standard::Th3 => "th3",
            Standard::Xmc1 => "xmc1",
            Standard::Xmc2 => "xmc2",
            Standard::Thcs1 => "thcs1",
            Standard::Thcs2 => "thcs2",
            Standard::Thcs3 => "thcs3",
        }
    }

    pub fn parse(s: &str) -> Option<Standard> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Message key of the standard's name.
    pub fn label_key(self) -> String {
        format!("pcgd.{}.title", self.as_str())
    }

    pub fn programme(self) -> Programme {
        match self {
            Standard::Mn5 => Programme::Mn5,
            Standard::Th1 | Standard::Th2 | Standard::Th3 => Programme::Th,
            Standard::Xmc1 | Standard::Xmc2 => Programme::Xmc,
            Standard::Thcs1 | Standard::Thcs2 | Standard::Thcs3 => Programme::Thcs,
        }
    }

    pub fn level(self) -> u8 {
        let p = self.programme().standards();
        p.iter()
            .position(|s| *s == self)
            .expect("listed under its programme") as u8
            + 1
    }

    /// The level below in the same programme, always required.
    pub fn lower(self) -> Option<Standard> {
        let level = self.level();
        (level > 1).then(|| self.programme().standards()[usize::from(level) - 2])
    }

    /// The criteria whose percentages the thresholds file gives. Levels 2 and 3 of primary
    /// add [`Criterion::RestInPrimaryAge11`], which has no percentage to configure.
    pub fn criteria(self) -> &'static [Criterion] {
        use Criterion::*;
        match self {
            Standard::Mn5 => &[Attending, Completed],
            Standard::Th1 => &[Grade1Age6, CompletedAge14],
            Standard::Th2 | Standard::Th3 => &[Grade1Age6, CompletedAge11],
            Standard::Thcs1 | Standard::Thcs2 => &[Diploma],
            Standard::Thcs3 => &[Diploma, Studying],
            Standard::Xmc1 | Standard::Xmc2 => &[Literate],
        }
    }
}

impl fmt::Display for Standard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One test of a standard: a count of the target group over its population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// 5-year-olds attending a preschool class.
    Attending,
    /// 5-year-olds who completed the preschool programme.
    Completed,
    /// 6-year-olds in grade 1 or above.
    Grade1Age6,
    /// 14-year-olds who completed primary (early completers included).
    CompletedAge14,
    /// 11-year-olds who completed primary.
    CompletedAge11,
    /// 11-year-olds who completed primary or are still in a primary class: all of them.
    RestInPrimaryAge11,
    /// The THCS band with a THCS diploma.
    Diploma,
    /// The THCS band studying upper-secondary (general or GDTX) or vocational.
    Studying,
    /// The literacy band at the standard's literacy level.
    Literate,
}

impl Criterion {
    pub const ALL: [Criterion; 9] = [
        Criterion::Attending,
        Criterion::Completed,
        Criterion::Grade1Age6,
        Criterion::CompletedAge14,
        Criterion::CompletedAge11,
        Criterion::RestInPrimaryAge11,
        Criterion::Diploma,
        Criterion::Studying,
        Criterion::Literate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Attending => "attending",
            Criterion::Completed => "completed",
            Criterion::Grade1Age6 => "grade1_age6",
            Criterion::CompletedAge14 => "completed_age14",
            Criterion::CompletedAge11 => "completed_age11",
            Criterion::RestInPrimaryAge11 => "rest_in_primary_age11",
            Criterion::Diploma => "diploma",
            Criterion::Studying => "studying",
            Criterion::Literate => "literate",
        }
    }

    pub fn parse(s: &str) -> Option<Criterion> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Counts of one age in one commune. The store fills them by adding two sources:
/// - the school records of learners resident in the commune (`residence`) as at the reference
///   date: `attending_preschool`, `in_grade1_or_above`, `in_primary`, and the completions and
///   diplomas of learners still on a roll;
/// - the household survey ([`AgeCounts::from_survey`]): `population`, `excluded`, and what lies
///   outside the records (diplomas and completions of people no longer at school, study in
///   other provinces or vocational schools, literacy).
///
/// A person is counted once per field: a learner on a roll must not also be in the survey's
/// out-of-school counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeCounts {
    pub population: u64,
    /// Disabled people unable to study (left out of denominators when configured).
    pub excluded: u64,
    /// In a preschool class (for age 5: the 5-year-old class).
    pub attending_preschool: u64,
    pub completed_preschool: u64,
    /// In grade 1 or any higher grade.
    pub in_grade1_or_above: u64,
    /// Completed the primary programme, at school or not.
    pub completed_primary: u64,
    /// Not yet completed primary and enrolled in a primary class (grades 1–5); never a
    /// completer, so `completed_primary + in_primary` counts people once.
    pub in_primary: u64,
    /// THCS diploma holders, at school or not.
    pub thcs_diploma: u64,
    /// Studying upper-secondary (general education or GDTX) or vocational, anywhere.
    pub studying_upper: u64,
    /// Literate at level 1 or above (level-2 people included).
    pub literate_l1: u64,
    pub literate_l2: u64,
}

impl AgeCounts {
    /// The survey's share of one age's counts; the store adds the school records on top.
    pub fn from_survey(row: &PopulationRow) -> AgeCounts {
        AgeCounts {
            population: row.population,
            excluded: row.excluded,
            completed_preschool: row.completed_preschool.unwrap_or(0),
            completed_primary: row.completed_primary_out.unwrap_or(0),
            thcs_diploma: row.thcs_diploma_out.unwrap_or(0),
            studying_upper: row.studying_elsewhere.unwrap_or(0),
            literate_l1: row.literate_l1.unwrap_or(0),
            literate_l2: row.literate_l2.unwrap_or(0),
            ..AgeCounts::default()
        }
    }
}

/// The survey's counts of every age of one commune and year ([`AgeCounts::from_survey`]).
pub fn ages_from_survey(table: &PopulationTable, commune: &str, year: i32) -> BTreeMap<u8, AgeCounts> {
    table
        .rows_of(commune, year)
        .map(|r| (r.age, AgeCounts::from_survey(r)))
        .collect()
}

/// What one commune is evaluated on. An age absent from `ages` counts as nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommuneInput {
    /// 5-digit GSO commune code.
    pub code: String,
    pub name: String,
    /// Xã có điều kiện kinh tế – xã hội đặc biệt khó khăn: the `difficult` column applies.
    pub difficult: bool,
    /// Survey year; ages are counted in calendar years of it.
    pub year: i32,
    pub ages: BTreeMap<u8, AgeCounts>,
}

/// A percentage for an ordinary commune and for an ĐBKK commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Percentages {
    pub general: u32,
    pub difficult: u32,
}

impl Percentages {
    pub fn for_commune(self, difficult: bool) -> u32 {
        if difficult { self.difficult } else { self.general }
    }
}

/// Inclusive calendar-year ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeBand {
    pub from: u8,
    pub to: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bands {
    pub general: AgeBand,
    pub difficult: AgeBand,
}

impl Bands {
    pub fn for_commune(self, difficult: bool) -> AgeBand {
        if difficult { self.difficult } else { self.general }
    }
}

/// The configured part of one standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardRule {
    /// Whole percent of a unit's communes that must reach the standard.
    pub rollup: u32,
    /// Standards of other programmes required first (the lower level is always required).
    pub requires: Vec<Standard>,
    pub criteria: BTreeMap<Criterion, Percentages>,
}

/// Every number the evaluation reads (statistics.md §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// The text the values come from, shown on reports.
    pub regime: String,
    /// Leave disabled people unable to study out of every denominator (UNCERTAIN rule).
    pub exclude_disabled: bool,
    pub thcs_ages: Bands,
    pub xmc1_ages: Bands,
    pub xmc2_ages: Bands,
    pub standards: BTreeMap<Standard, StandardRule>,
    /// Values not confirmed from the source text, shown as such on reports:
    /// `<standard>.<criterion>` (both columns), `<standard>.<criterion>.difficult`, `ages.<band>`,
    /// `exclude_disabled`.
    pub uncertain: Vec<String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::parse_toml(DEFAULT_TOML).expect("the shipped thresholds parse (tested)")
    }
}

fn err(at: impl Into<String>, code: &'static str, detail: impl Into<String>) -> DefinitionError {
    DefinitionError {
        at: at.into(),
        code,
        detail: detail.into(),
    }
}

fn only_keys(t: &toml::Table, allowed: &[&str], at: &str) -> Result<(), DefinitionError> {
    match t.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(err(
            join(at, k),
            "unknown_key",
            format!("expected one of {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn field<'a>(t: &'a toml::Table, key: &str, at: &str) -> Result<&'a toml::Value, DefinitionError> {
    t.get(key)
        .ok_or_else(|| err(join(at, key), "missing", format!("{key} is required")))
}

fn table<'a>(t: &'a toml::Table, key: &str, at: &str) -> Result<&'a toml::Table, DefinitionError> {
    field(t, key, at)?
        .as_table()
        .ok_or_else(|| err(join(at, key), "wrong_type", "expected a table"))
}

fn integer(v: &toml::Value, at: &str, min: i64, max: i64) -> Result<i64, DefinitionError> {
    let i = v
        .as_integer()
        .ok_or_else(|| err(at, "wrong_type", "expected a whole number"))?;
    if !(min..=max).contains(&i) {
        return Err(err(at, "out_of_range", format!("{i} is not in {min}–{max}")));
    }
    Ok(i)
}

fn percentages(v: &toml::Value, at: &str) -> Result<Percentages, DefinitionError> {
    let t = v
        .as_table()
        .ok_or_else(|| err(at, "wrong_type", "expected { general = …, difficult = … }"))?;
    only_keys(t, &["general", "difficult"], at)?;
    let p = |k: &str| integer(field(t, k, at)?, &join(at, k), 0, 100).map(|i| i as u32);
    Ok(Percentages {
        general: p("general")?,
        difficult: p("difficult")?,
    })
}

fn bands(t: &toml::Table, key: &str, at: &str) -> Result<Bands, DefinitionError> {
    let at = join(at, key);
    let t = table(t, key, "ages").map_err(|e| DefinitionError { at: at.clone(), ..e })?;
    only_keys(t, &["general", "difficult"], &at)?;
    let band = |k: &str| -> Result<AgeBand, DefinitionError> {
        let at = join(&at, k);
        let pair = field(t, k, "")
            .map_err(|e| DefinitionError { at: at.clone(), ..e })?
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| err(&at, "wrong_type", "expected [from, to]"))?;
        let from = integer(&pair[0], &at, 0, i64::from(super::population::MAX_AGE))? as u8;
        let to = integer(&pair[1], &at, 0, i64::from(super::population::MAX_AGE))? as u8;
        if from > to {
            return Err(err(&at, "out_of_range", format!("{from} is above {to}")));
        }
        Ok(AgeBand { from, to })
    };
    Ok(Bands {
        general: band("general")?,
        difficult: band("difficult")?,
    })
}

/// A name the `uncertain` list may hold.
fn uncertain_name_known(name: &str) -> bool {
    if matches!(name, "exclude_disabled" | "ages.thcs" | "ages.xmc1" | "ages.xmc2") {
        return true;
    }
    let name = name.strip_suffix(".difficult").unwrap_or(name);
    name.split_once('.').is_some_and(|(s, c)| {
        Standard::parse(s).is_some_and(|s| s.criteria().iter().any(|k| k.as_str() == c))
    })
}

impl Thresholds {
    /// Reads a complete thresholds file: every standard with every criterion of it, no unknown
    /// key (a misspelt criterion must not silently keep a default).
    pub fn parse_toml(src: &str) -> Result<Thresholds, DefinitionError> {
        let root: toml::Table = src
            .parse()
            .map_err(|e: toml::de::Error| err("", "toml", e.message()))?;
        only_keys(
            &root,
            &["regime", "exclude_disabled", "ages", "standards", "uncertain"],
            "",
        )?;
        let regime = field(&root, "regime", "")?
            .as_str()
            .ok_or_else(|| err("regime", "wrong_type", "expected text"))?
            .to_string();
        let exclude_disabled = field(&root, "exclude_disabled", "")?
            .as_bool()
            .ok_or_else(|| err("exclude_disabled", "wrong_type", "expected true or false"))?;
        let ages = table(&root, "ages", "")?;
        only_keys(ages, &["thcs", "xmc1", "xmc2"], "ages")?;
        let raw = table(&root, "standards", "")?;
        let names: Vec<&str> = Standard::ALL.iter().map(|s| s.as_str()).collect();
        only_keys(raw, &names, "standards")?;
        let mut standards = BTreeMap::new();
        for (position, standard) in Standard::ALL.into_iter().enumerate() {
            let at = join("standards", standard.as_str());
            let t = table(raw, standard.as_str(), "standards")?;
            let mut allowed = vec!["rollup", "requires"];
            allowed.extend(standard.criteria().iter().map(|c| c.as_str()));
            only_keys(t, &allowed, &at)?;
            let rollup = integer(field(t, "rollup", &at)?, &join(&at, "rollup"), 1, 100)? as u32;
            let mut requires = vec![];
            if let Some(v) = t.get("requires") {
                let at = join(&at, "requires");
                let list = v
                    .as_array()
                    .ok_or_else(|| err(&at, "wrong_type", "expected a list of standards"))?;
                for item in list {
                    let name = item.as_str().unwrap_or_default();
                    let required = Standard::parse(name)
                        .ok_or_else(|| err(&at, "unknown_standard", item.to_string()))?;
                    // Only earlier standards: keeps the evaluation one pass and cycle-free.
                    if Standard::ALL.iter().position(|s| *s == required) >= Some(position) {
                        return Err(err(
                            &at,
                            "requires_order",
                            format!("{standard} cannot require {required}"),
                        ));
                    }
                    requires.push(required);
                }
            }
            let mut criteria = BTreeMap::new();
            for &c in standard.criteria() {
                let at_c = join(&at, c.as_str());
                criteria.insert(c, percentages(field(t, c.as_str(), &at)?, &at_c)?);
            }
            standards.insert(
                standard,
                StandardRule {
                    rollup,
                    requires,
                    criteria,
                },
            );
        }
        let mut uncertain = vec![];
        if let Some(v) = root.get("uncertain") {
            let list = v
                .as_array()
                .ok_or_else(|| err("uncertain", "wrong_type", "expected a list of names"))?;
            for item in list {
                let name = item
                    .as_str()
                    .ok_or_else(|| err("uncertain", "wrong_type", item.to_string()))?;
                if !uncertain_name_known(name) {
                    return Err(err("uncertain", "unknown_name", name));
                }
                uncertain.push(name.to_string());
            }
        }
        Ok(Thresholds {
            uncertain,
            regime,
            exclude_disabled,
            thcs_ages: bands(ages, "thcs", "ages")?,
            xmc1_ages: bands(ages, "xmc1", "ages")?,
            xmc2_ages: bands(ages, "xmc2", "ages")?,
            standards,
        })
    }

    /// Whether the threshold a commune is held to for `criterion` of `standard` is marked
    /// UNCERTAIN, including through the age band it counts.
    pub fn is_uncertain(&self, standard: Standard, criterion: Criterion, difficult: bool) -> bool {
        let marked = |name: &str| self.uncertain.iter().any(|u| u == name);
        let key = format!("{}.{}", standard.as_str(), criterion.as_str());
        marked(&key)
            || (difficult && marked(&format!("{key}.difficult")))
            || (matches!(criterion, Criterion::Diploma | Criterion::Studying) && marked("ages.thcs"))
            || (standard == Standard::Xmc1 && marked("ages.xmc1"))
            || (standard == Standard::Xmc2 && marked("ages.xmc2"))
    }

    pub fn rule(&self, standard: Standard) -> &StandardRule {
        &self.standards[&standard]
    }

    /// The percentage a commune must reach; [`Criterion::RestInPrimaryAge11`] is always 100.
    pub fn percent(&self, standard: Standard, criterion: Criterion, difficult: bool) -> Option<u32> {
        if criterion == Criterion::RestInPrimaryAge11 {
            return matches!(standard, Standard::Th2 | Standard::Th3).then_some(100);
        }
        self.rule(standard)
            .criteria
            .get(&criterion)
            .map(|p| p.for_commune(difficult))
    }

    /// The ages a criterion counts, for a commune of the given kind.
    pub fn ages(&self, standard: Standard, criterion: Criterion, difficult: bool) -> AgeBand {
        let one = |a: u8| AgeBand { from: a, to: a };
        match criterion {
            Criterion::Attending | Criterion::Completed => one(5),
            Criterion::Grade1Age6 => one(6),
            Criterion::CompletedAge14 => one(14),
            Criterion::CompletedAge11 | Criterion::RestInPrimaryAge11 => one(11),
            Criterion::Diploma | Criterion::Studying => self.thcs_ages.for_commune(difficult),
            Criterion::Literate if standard == Standard::Xmc1 => self.xmc1_ages.for_commune(difficult),
            Criterion::Literate => self.xmc2_ages.for_commune(difficult),
        }
    }
}

/// `numerator / denominator` in hundredths of a percent, rounded half up; `None` for an empty
/// population.
pub fn rate_hundredths(numerator: u64, denominator: u64) -> Option<u64> {
    if denominator == 0 {
        return None;
    }
    let (n, d) = (u128::from(numerator), u128::from(denominator));
    Some(((n * 20_000 + d) / (2 * d)) as u64)
}

/// Whether `numerator / denominator ≥ percent %`, on the exact ratio. An empty population
/// reaches nothing.
pub fn reaches(numerator: u64, denominator: u64, percent: u32) -> bool {
    denominator > 0 && u128::from(numerator) * 100 >= u128::from(percent) * u128::from(denominator)
}

/// One criterion of one standard for one commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionResult {
    pub criterion: Criterion,
    /// Message key `pcgd.<standard>.<criterion>`.
    pub label: String,
    pub ages: AgeBand,
    pub numerator: u64,
    /// Population of the ages, less the excluded when configured.
    pub denominator: u64,
    /// Disabled people left out of the denominator (0 when the exclusion is off).
    pub excluded: u64,
    /// Hundredths of a percent, for display only.
    pub rate: Option<u64>,
    /// Whole percent required.
    pub threshold: u32,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardResult {
    pub standard: Standard,
    pub programme: Programme,
    pub level: u8,
    /// Message key `pcgd.<standard>.title`.
    pub label: String,
    pub criteria: Vec<CriterionResult>,
    /// Prerequisite standards the commune does not reach (the level below, other programmes).
    pub missing: Vec<Standard>,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommuneResult {
    pub code: String,
    pub name: String,
    pub difficult: bool,
    pub year: i32,
    /// In [`Standard::ALL`] order.
    pub standards: Vec<StandardResult>,
    /// Level reached per programme, 0 for none.
    pub levels: BTreeMap<Programme, u8>,
}

impl CommuneResult {
    pub fn standard(&self, s: Standard) -> &StandardResult {
        self.standards
            .iter()
            .find(|r| r.standard == s)
            .expect("every standard is evaluated")
    }

    pub fn level(&self, p: Programme) -> u8 {
        self.levels.get(&p).copied().unwrap_or(0)
    }
}

fn criterion(input: &CommuneInput, t: &Thresholds, standard: Standard, c: Criterion) -> CriterionResult {
    let ages = t.ages(standard, c, input.difficult);
    let mut numerator = 0;
    let mut population = 0u64;
    let mut excluded = 0u64;
    for counts in input.ages.range(ages.from..=ages.to).map(|(_, a)| a) {
        population += counts.population;
        if t.exclude_disabled {
            excluded += counts.excluded.min(counts.population);
        }
        numerator += match c {
            Criterion::Attending => counts.attending_preschool,
            Criterion::Completed => counts.completed_preschool,
            Criterion::Grade1Age6 => counts.in_grade1_or_above,
            Criterion::CompletedAge14 | Criterion::CompletedAge11 => counts.completed_primary,
            Criterion::RestInPrimaryAge11 => counts.completed_primary + counts.in_primary,
            Criterion::Diploma => counts.thcs_diploma,
            Criterion::Studying => counts.studying_upper,
            Criterion::Literate if standard == Standard::Xmc1 => counts.literate_l1,
            Criterion::Literate => counts.literate_l2,
        };
    }
    let denominator = population - excluded;
    let threshold = t
        .percent(standard, c, input.difficult)
        .expect("criteria come from the standard's list");
    CriterionResult {
        criterion: c,
        label: format!("pcgd.{}.{}", standard.as_str(), c.as_str()),
        ages,
        numerator,
        denominator,
        excluded,
        rate: rate_hundredths(numerator, denominator),
        threshold,
        pass: reaches(numerator, denominator, threshold),
    }
}

/// Every standard of one commune, against its own column (general or ĐBKK), and the level it
/// reaches in each programme.
pub fn evaluate_commune(input: &CommuneInput, t: &Thresholds) -> CommuneResult {
    let mut standards: Vec<StandardResult> = vec![];
    for standard in Standard::ALL {
        let mut list: Vec<Criterion> = standard.criteria().to_vec();
        if matches!(standard, Standard::Th2 | Standard::Th3) {
            list.push(Criterion::RestInPrimaryAge11);
        }
        let criteria: Vec<CriterionResult> = list
            .into_iter()
            .map(|c| criterion(input, t, standard, c))
            .collect();
        let passed = |s: Standard| standards.iter().any(|r| r.standard == s && r.pass);
        let missing: Vec<Standard> = standard
            .lower()
            .into_iter()
            .chain(t.rule(standard).requires.iter().copied())
            .filter(|s| !passed(*s))
            .collect();
        let pass = missing.is_empty() && criteria.iter().all(|c| c.pass);
        standards.push(StandardResult {
            standard,
            programme: standard.programme(),
            level: standard.level(),
            label: standard.label_key(),
            criteria,
            missing,
            pass,
        });
    }
    let levels = Programme::ALL
        .into_iter()
        .map(|p| {
            let level = standards
                .iter()
                .filter(|r| r.programme == p && r.pass)
                .map(|r| r.level)
                .max()
                .unwrap_or(0);
            (p, level)
        })
        .collect();
    CommuneResult {
        code: input.code.clone(),
        name: input.name.clone(),
        difficult: input.difficult,
        year: input.year,
        standards,
        levels,
    }
}

/// One level of one programme over a unit's communes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupLevel {
    pub standard: Standard,
    pub programme: Programme,
    pub level: u8,
    pub label: String,
    /// Communes at this level or above.
    pub reached: usize,
    /// `reached / communes` in hundredths of a percent.
    pub share: Option<u64>,
    /// Whole percent of communes required.
    pub required: u32,
    pub pass: bool,
}

/// A unit (whatever sits above communes since the 2025 reform) over the communes under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupResult {
    pub communes: usize,
    /// In [`Standard::ALL`] order.
    pub levels: Vec<RollupLevel>,
}

impl RollupResult {
    /// The highest level of a programme the unit reaches with every level below it.
    pub fn level(&self, p: Programme) -> u8 {
        let mut reached = 0;
        for l in self.levels.iter().filter(|l| l.programme == p) {
            if !l.pass {
                break;
            }
            reached = l.level;
        }
        reached
    }
}

/// Counts the communes at or above each level. `results` must hold every commune of the unit,
/// including those not surveyed (which reach nothing), or the share is overstated.
pub fn rollup(results: &[CommuneResult], t: &Thresholds) -> RollupResult {
    let communes = results.len();
    let levels = Standard::ALL
        .into_iter()
        .map(|standard| {
            let (programme, level) = (standard.programme(), standard.level());
            let reached = results.iter().filter(|r| r.level(programme) >= level).count();
            let required = t.rule(standard).rollup;
            RollupLevel {
                standard,
                programme,
                level,
                label: standard.label_key(),
                reached,
                share: rate_hundredths(reached as u64, communes as u64),
                required,
                pass: reaches(reached as u64, communes as u64, required),
            }
        })
        .collect();
    RollupResult { communes, levels }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commune of 100 people per age 0–60 where everyone has done everything: it reaches
    /// every level, so each test breaks exactly the count it is about.
    fn model(difficult: bool) -> CommuneInput {
        let ages = (0..=60u8)
            .map(|a| {
                let all = 100;
                let c = AgeCounts {
                    population: all,
                    excluded: 0,
                    attending_preschool: if a == 5 { all } else { 0 },
                    completed_preschool: if a == 5 { all } else { 0 },
                    in_grade1_or_above: if a >= 6 { all } else { 0 },
                    completed_primary: if a >= 11 { all } else { 0 },
                    in_primary: 0,
                    thcs_diploma: if a >= 15 { all } else { 0 },
                    studying_upper: if (15..=18).contains(&a) { all } else { 0 },
                    literate_l1: if a >= 9 { all } else { 0 },
                    literate_l2: if a >= 11 { all } else { 0 },
                };
                (a, c)
            })
            .collect();
        CommuneInput {
            code: "00001".into(),
            name: "Xã Phúc Xá".into(),
            difficult,
            year: 2025,
            ages,
        }
    }

    fn at(input: &mut CommuneInput, age: u8) -> &mut AgeCounts {
        input.ages.get_mut(&age).unwrap()
    }

    fn crit(r: &CommuneResult, s: Standard, c: Criterion) -> &CriterionResult {
        r.standard(s).criteria.iter().find(|x| x.criterion == c).unwrap()
    }

    #[test]
    fn the_default_file_parses_and_matches_section_3_2() {
        let t = Thresholds::default();
        assert_eq!(t.regime, "NĐ 20/2014/NĐ-CP");
        assert!(t.exclude_disabled);
        let band = |from, to| AgeBand { from, to };
        assert_eq!(
            (t.thcs_ages.general, t.thcs_ages.difficult),
            (band(15, 18), band(15, 18))
        );
        assert_eq!(
            (t.xmc1_ages.general, t.xmc1_ages.difficult),
            (band(15, 35), band(15, 25))
        );
        assert_eq!(
            (t.xmc2_ages.general, t.xmc2_ages.difficult),
            (band(15, 60), band(15, 35))
        );
        use Criterion::*;
        use Standard::*;
        let expected: &[(Standard, Criterion, u32, u32)] = &[
            (Mn5, Attending, 95, 90),
            (Mn5, Completed, 85, 80),
            (Th1, Grade1Age6, 90, 90),
            (Th1, CompletedAge14, 80, 70),
            (Th2, Grade1Age6, 95, 95),
            (Th2, CompletedAge11, 80, 70),
            (Th3, Grade1Age6, 98, 98),
            (Th3, CompletedAge11, 90, 86),
            (Thcs1, Diploma, 80, 70),
            (Thcs2, Diploma, 90, 80),
            (Thcs3, Diploma, 95, 90),
            (Thcs3, Studying, 80, 70),
            (Xmc1, Literate, 90, 90),
            (Xmc2, Literate, 90, 90),
        ];
        for &(s, c, g, d) in expected {
            assert_eq!(t.percent(s, c, false), Some(g), "{s}.{} general", c.as_str());
            assert_eq!(t.percent(s, c, true), Some(d), "{s}.{} ĐBKK", c.as_str());
        }
        let configured: usize = t.standards.values().map(|r| r.criteria.len()).sum();
        assert_eq!(configured, expected.len());
        for s in Standard::ALL {
            let want = if s == Thcs3 { 100 } else { 90 };
            assert_eq!(t.rule(s).rollup, want, "{s}");
        }
        assert_eq!(t.rule(Thcs1).requires, vec![Th1, Xmc1]);
        assert_eq!(t.percent(Th2, RestInPrimaryAge11, false), Some(100));
        assert_eq!(t.percent(Th1, RestInPrimaryAge11, false), None);
    }

    #[test]
    fn the_model_commune_reaches_every_level() {
        let r = evaluate_commune(&model(false), &Thresholds::default());
        for p in Programme::ALL {
            assert_eq!(r.level(p), p.max_level(), "{p}");
        }
        let c = crit(&r, Standard::Xmc2, Criterion::Literate);
        assert_eq!((c.numerator, c.denominator, c.rate), (4600, 4600, Some(10_000)));
        assert_eq!(c.label, "pcgd.xmc2.literate");
        assert_eq!(r.standard(Standard::Thcs2).label, "pcgd.thcs2.title");
    }

    #[test]
    fn exactly_at_the_threshold_passes_and_a_hair_below_fails() {
        let t = Thresholds::default();
        let mut input = model(false);
        at(&mut input, 5).population = 2000;
        at(&mut input, 5).completed_preschool = 2000;
        at(&mut input, 5).attending_preschool = 1900;
        let r = evaluate_commune(&input, &t);
        let c = crit(&r, Standard::Mn5, Criterion::Attending);
        assert_eq!(
            (c.numerator, c.denominator, c.rate, c.threshold),
            (1900, 2000, Some(9500), 95)
        );
        assert!(c.pass);
        assert_eq!(r.level(Programme::Mn5), 1);

        at(&mut input, 5).attending_preschool = 1899;
        let r = evaluate_commune(&input, &t);
        let c = crit(&r, Standard::Mn5, Criterion::Attending);
        assert_eq!(c.rate, Some(9495));
        assert!(!c.pass);
        assert_eq!(r.level(Programme::Mn5), 0);

        // 94.99 %.
        at(&mut input, 5).population = 10_000;
        at(&mut input, 5).completed_preschool = 10_000;
        at(&mut input, 5).attending_preschool = 9499;
        let c = crit(&evaluate_commune(&input, &t), Standard::Mn5, Criterion::Attending).clone();
        assert_eq!((c.rate, c.pass), (Some(9499), false));

        // 94.995 % rounds to 95.00 % on display and still fails: the exact ratio decides.
        at(&mut input, 5).population = 20_000;
        at(&mut input, 5).completed_preschool = 20_000;
        at(&mut input, 5).attending_preschool = 18_999;
        let c = crit(&evaluate_commune(&input, &t), Standard::Mn5, Criterion::Attending).clone();
        assert_eq!((c.rate, c.pass), (Some(9500), false));
    }

    #[test]
    fn a_difficult_commune_is_held_to_its_own_column() {
        let t = Thresholds::default();
        for difficult in [false, true] {
            let mut input = model(difficult);
            at(&mut input, 14).completed_primary = 75;
            let r = evaluate_commune(&input, &t);
            let c = crit(&r, Standard::Th1, Criterion::CompletedAge14);
            assert_eq!(c.threshold, if difficult { 70 } else { 80 });
            assert_eq!(c.pass, difficult);
            assert_eq!(r.level(Programme::Th), if difficult { 3 } else { 0 });
        }
        // The ĐBKK literacy band is 15–25: illiterate 30-year-olds do not count there.
        for difficult in [false, true] {
            let mut input = model(difficult);
            at(&mut input, 30).literate_l1 = 0;
            at(&mut input, 31).literate_l1 = 0;
            let r = evaluate_commune(&input, &t);
            let c = crit(&r, Standard::Xmc1, Criterion::Literate);
            let want = if difficult { (1100, 1100) } else { (1900, 2100) };
            assert_eq!((c.numerator, c.denominator), want);
            assert_eq!(c.ages.to, if difficult { 25 } else { 35 });
            // 1900 / 2100 = 90.48 %.
            assert!(c.pass);
        }
    }

    #[test]
    fn excluding_disabled_people_changes_the_denominator() {
        let mut input = model(false);
        for a in 15..=18 {
            at(&mut input, a).excluded = 5;
            at(&mut input, a).thcs_diploma = 76;
        }
        let mut t = Thresholds::default();
        let r = evaluate_commune(&input, &t);
        let c = crit(&r, Standard::Thcs1, Criterion::Diploma);
        // 304 / 380 = 80 %.
        assert_eq!(
            (c.numerator, c.denominator, c.excluded, c.rate),
            (304, 380, 20, Some(8000))
        );
        assert!(c.pass);
        assert_eq!(r.level(Programme::Thcs), 1);

        t.exclude_disabled = false;
        let r = evaluate_commune(&input, &t);
        let c = crit(&r, Standard::Thcs1, Criterion::Diploma);
        assert_eq!(
            (c.numerator, c.denominator, c.excluded, c.rate),
            (304, 400, 0, Some(7600))
        );
        assert!(!c.pass);
        assert_eq!(r.level(Programme::Thcs), 0);
    }

    #[test]
    fn level_2_needs_every_11_year_old_completed_or_in_primary() {
        let t = Thresholds::default();
        let mut input = model(false);
        // 95 completed, 4 still in primary, 1 neither: 95 % completion passes, the rule fails.
        at(&mut input, 11).completed_primary = 95;
        at(&mut input, 11).in_primary = 4;
        let r = evaluate_commune(&input, &t);
        assert!(crit(&r, Standard::Th2, Criterion::CompletedAge11).pass);
        let rest = crit(&r, Standard::Th2, Criterion::RestInPrimaryAge11);
        assert_eq!(
            (rest.numerator, rest.denominator, rest.threshold, rest.pass),
            (99, 100, 100, false)
        );
        assert!(r.standard(Standard::Th1).pass);
        assert!(!r.standard(Standard::Th2).pass);
        assert!(!r.standard(Standard::Th3).pass);
        assert_eq!(r.standard(Standard::Th3).missing, vec![Standard::Th2]);
        assert_eq!(r.level(Programme::Th), 1);

        // The missing child is in primary after all.
        at(&mut input, 11).in_primary = 5;
        let r = evaluate_commune(&input, &t);
        assert_eq!(r.level(Programme::Th), 3);

        // A disabled child unable to study is out of the cohort when excluded.
        at(&mut input, 11).in_primary = 4;
        at(&mut input, 11).excluded = 1;
        assert_eq!(evaluate_commune(&input, &t).level(Programme::Th), 3);
    }

    #[test]
    fn a_higher_level_requires_the_lower_one() {
        let mut input = model(false);
        // Level 1 fails on 14-year-olds; level 2 and 3 criteria all hold.
        at(&mut input, 14).completed_primary = 79;
        let r = evaluate_commune(&input, &Thresholds::default());
        assert!(!r.standard(Standard::Th1).pass);
        assert!(r.standard(Standard::Th2).criteria.iter().all(|c| c.pass));
        assert_eq!(r.standard(Standard::Th2).missing, vec![Standard::Th1]);
        assert_eq!(r.level(Programme::Th), 0);
        // THCS level 1 requires TH level 1.
        assert_eq!(r.standard(Standard::Thcs1).missing, vec![Standard::Th1]);
        assert_eq!(r.level(Programme::Thcs), 0);
    }

    #[test]
    fn thcs_is_refused_without_literacy() {
        let mut input = model(false);
        for a in 15..=35 {
            at(&mut input, a).literate_l1 = 80;
        }
        let r = evaluate_commune(&input, &Thresholds::default());
        assert_eq!(r.level(Programme::Xmc), 0);
        let thcs1 = r.standard(Standard::Thcs1);
        assert!(thcs1.criteria.iter().all(|c| c.pass));
        assert_eq!(thcs1.missing, vec![Standard::Xmc1]);
        assert!(!thcs1.pass);
        assert_eq!(r.level(Programme::Thcs), 0);
        assert_eq!(r.level(Programme::Th), 3);
    }

    #[test]
    fn an_empty_population_reaches_nothing() {
        let mut input = model(false);
        input.ages.remove(&5);
        let r = evaluate_commune(&input, &Thresholds::default());
        let c = crit(&r, Standard::Mn5, Criterion::Attending);
        assert_eq!((c.denominator, c.rate, c.pass), (0, None, false));
        assert_eq!(r.level(Programme::Mn5), 0);
        assert_eq!(rate_hundredths(0, 0), None);
        assert!(!reaches(0, 0, 0));
        assert_eq!(rate_hundredths(2, 3), Some(6667));
        assert_eq!(rate_hundredths(1, 3), Some(3333));
    }

    fn communes(n: usize, reaching: usize, t: &Thresholds) -> Vec<CommuneResult> {
        (0..n)
            .map(|i| {
                let mut input = model(false);
                if i >= reaching {
                    at(&mut input, 6).in_grade1_or_above = 0;
                }
                evaluate_commune(&input, t)
            })
            .collect()
    }

    #[test]
    fn a_unit_passes_with_90_percent_of_its_communes() {
        let t = Thresholds::default();
        let u = rollup(&communes(10, 9, &t), &t);
        let th1 = &u.levels[1];
        assert_eq!(
            (th1.standard, th1.reached, th1.share, th1.required),
            (Standard::Th1, 9, Some(9000), 90)
        );
        assert!(th1.pass);
        assert_eq!(u.level(Programme::Th), 3);
        // THCS needs TH level 1, so 9 of 10 at THCS level 3, which needs all of them.
        let thcs3 = u.levels.iter().find(|l| l.standard == Standard::Thcs3).unwrap();
        assert_eq!((thcs3.reached, thcs3.required, thcs3.pass), (9, 100, false));
        assert_eq!(u.level(Programme::Thcs), 2);
        assert_eq!(u.level(Programme::Mn5), 1);

        let u = rollup(&communes(9, 8, &t), &t);
        assert_eq!(
            (u.communes, u.levels[1].reached, u.levels[1].share),
            (9, 8, Some(8889))
        );
        assert!(!u.levels[1].pass);
        assert_eq!(u.level(Programme::Th), 0);

        let u = rollup(&communes(4, 4, &t), &t);
        assert_eq!(u.level(Programme::Thcs), 3);
        let none = rollup(&[], &t);
        assert_eq!((none.levels[0].share, none.levels[0].pass), (None, false));
    }

    #[test]
    fn survey_rows_become_age_counts() {
        let header: Vec<String> = [
            "Mã xã",
            "Năm",
            "Tuổi",
            "Dân số",
            "Biết chữ mức 1",
            "Có bằng THCS (ngoài nhà trường)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<Vec<String>> = (0..=16u8)
            .map(|a| {
                let lit = if a >= 15 { "9" } else { "" };
                ["00001", "2025", &a.to_string(), "10", lit, "3"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
            .collect();
        let table = PopulationTable::from_rows(&header, &rows).unwrap();
        let ages = ages_from_survey(&table, "00001", 2025);
        assert_eq!(ages.len(), 17);
        assert_eq!(ages[&16].literate_l1, 9);
        assert_eq!(ages[&14].literate_l1, 0);
        assert_eq!(ages[&16].thcs_diploma, 3);
        assert_eq!(ages[&16].in_primary, 0);
        assert!(ages_from_survey(&table, "00002", 2025).is_empty());
    }

    #[test]
    fn threshold_files_are_checked() {
        let code = |src: String| Thresholds::parse_toml(&src).unwrap_err();
        let e = code(DEFAULT_TOML.replace("attending = {", "atending = {"));
        assert_eq!((e.code, e.at.as_str()), ("unknown_key", "standards.mn5.atending"));
        let e = code(DEFAULT_TOML.replace(
            "completed_age14 = { general = 80",
            "completed_age14 = { general = 180",
        ));
        assert_eq!(
            (e.code, e.at.as_str()),
            ("out_of_range", "standards.th1.completed_age14.general")
        );
        let e = code(DEFAULT_TOML.replace("xmc1 = { general = [15, 35]", "xmc1 = { general = [35, 15]"));
        assert_eq!((e.code, e.at.as_str()), ("out_of_range", "ages.xmc1.general"));
        let e = code(DEFAULT_TOML.replace("requires = [\"th1\", \"xmc1\"]", "requires = [\"thcs2\"]"));
        assert_eq!(
            (e.code, e.at.as_str()),
            ("requires_order", "standards.thcs1.requires")
        );
        let e = code(DEFAULT_TOML.replace("requires = [\"th1\", \"xmc1\"]", "requires = [\"th9\"]"));
        assert_eq!(e.code, "unknown_standard");
        let e = code(DEFAULT_TOML.replace("studying = { general = 80, difficult = 70 }", ""));
        assert_eq!((e.code, e.at.as_str()), ("missing", "standards.thcs3.studying"));
        let e = code(DEFAULT_TOML.replace("exclude_disabled = true", "exclude_disabled = \"yes\""));
        assert_eq!(e.code, "wrong_type");
        assert_eq!(code("regime = ".into()).code, "toml");
        // An installation's own values are honoured.
        let own = Thresholds::parse_toml(&DEFAULT_TOML.replace("difficult = 86", "difficult = 80")).unwrap();
        assert_eq!(
            own.percent(Standard::Th3, Criterion::CompletedAge11, true),
            Some(80)
        );
        let e = code(DEFAULT_TOML.replace("\"thcs2.diploma\"", "\"thcs2.diplomas\""));
        assert_eq!((e.code, e.detail.as_str()), ("unknown_name", "thcs2.diplomas"));
    }

    #[test]
    fn uncertain_thresholds_are_data() {
        let t = Thresholds::default();
        // Marked for the ĐBKK column only.
        assert!(t.is_uncertain(Standard::Th3, Criterion::CompletedAge11, true));
        assert!(!t.is_uncertain(Standard::Th3, Criterion::CompletedAge11, false));
        // Through the THCS age band.
        assert!(t.is_uncertain(Standard::Thcs1, Criterion::Diploma, false));
        assert!(!t.is_uncertain(Standard::Mn5, Criterion::Attending, false));
        let cleared = Thresholds::parse_toml(&DEFAULT_TOML.replace(
            "uncertain = [\"th3.completed_age11.difficult\", ",
            "uncertain = [",
        ))
        .unwrap();
        assert!(!cleared.is_uncertain(Standard::Th3, Criterion::CompletedAge11, true));
    }
}
