//! `truongso gradebook`: the gradebook rule engine from the command line. Pure computation: no
//! database, no configuration file, no data key. The same `compute::run` serves the API, so the
//! figures a reviewer gets here are the figures the school sees. docs/gradebook.md describes the
//! document.

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use truongso_core::gradebook::compute::{self, InputError};
use truongso_core::gradebook::curriculum::{self, Mode};
use truongso_core::gradebook::{RuleConfig, RuleSet};
use truongso_core::i18n::{self, Locale};
use truongso_core::school_year::SchoolYear;

/// Exit status for an input that cannot be read, is not JSON of the document's shape, or holds a
/// bad value (clap uses the same status for a bad command line).
pub const BAD_INPUT: i32 = 2;

#[derive(Subcommand)]
pub enum GradebookCmd {
    /// Compute every result (averages, levels, promotion, awards) of a JSON document.
    Compute {
        /// The document (docs/gradebook.md); `-` reads standard input.
        #[arg(long)]
        input: String,
        /// Where to write the pretty JSON result (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the rule set and the subject plan of a grade in a school year, as JSON.
    Rules {
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=12))]
        grade: u8,
        /// E.g. 2025-2026.
        #[arg(long, value_parser = parse_school_year)]
        school_year: SchoolYear,
    },
}

fn parse_school_year(s: &str) -> Result<SchoolYear, String> {
    SchoolYear::parse(s).map_err(|e| i18n::error_message(Locale::Vi, &e))
}

/// Runs the command; the exit status is 0, or [`BAD_INPUT`] after the reason went to stderr
/// (unreadable input, JSON of the wrong shape, a bad value). Failing to write the output is an
/// error (status 1).
pub fn run(cmd: GradebookCmd) -> anyhow::Result<i32> {
    match cmd {
        GradebookCmd::Compute { input, output } => compute_file(&input, output.as_deref()),
        GradebookCmd::Rules { grade, school_year } => {
            write_json(&rules(grade, school_year), None)?;
            Ok(0)
        }
    }
}

fn compute_file(input: &str, output: Option<&Path>) -> anyhow::Result<i32> {
    let name = if input == "-" { "<stdin>" } else { input };
    let read = if input == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(input)
    };
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: không đọc được tệp (cannot read the input): {e}");
            return Ok(BAD_INPUT);
        }
    };
    let doc: compute::Input = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}", shape_error(name, &e));
            return Ok(BAD_INPUT);
        }
    };
    match compute::run(&doc) {
        Ok(out) => {
            write_json(&out, output)?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}", input_error(name, &e));
            Ok(BAD_INPUT)
        }
    }
}

/// `FILE:LINE:COLUMN: …` with serde's reason, without its own trailing position.
fn shape_error(name: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let reason = full.rsplit_once(" at line ").map_or(full.as_str(), |(r, _)| r);
    format!(
        "{name}:{line}:{col}: tài liệu JSON không đúng dạng, dòng {line}, cột {col} \
         (JSON document shape error at line {line}, column {col}): {reason}",
        line = e.line(),
        col = e.column(),
    )
}

/// `FILE: PATH: CODE — Vietnamese message (English message)`.
fn input_error(name: &str, e: &InputError) -> String {
    format!(
        "{name}: {}: {} — {} ({})",
        e.path,
        e.code,
        vietnamese(e),
        e.message
    )
}

/// The catalogue's Vietnamese text for the error's code and parameters.
fn vietnamese(e: &InputError) -> String {
    i18n::tf(Locale::Vi, &format!("error.{}", e.code), &e.params)
}

fn write_json<T: Serialize>(value: &T, output: Option<&Path>) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    match output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct Rules {
    school_year: String,
    grade: u8,
    rules: RuleSet,
    rules_title: &'static str,
    /// False for TT 30/2014 + TT 22/2016 (primary before TT 27): kept for reading only.
    computed: bool,
    curriculum: &'static str,
    config: RuleConfig,
    subjects: Vec<SubjectRow>,
    notes: Vec<&'static str>,
}

#[derive(Serialize)]
struct SubjectRow {
    code: &'static str,
    name: &'static str,
    mode: Mode,
    periods: u16,
    elective: bool,
    /// ĐĐGtx per semester (secondary); null at primary, where regular assessment is by comment.
    regular_per_semester: Option<u8>,
    /// THPT: the subject has a chuyên đề cluster; a learner who takes it has this many ĐĐGtx
    /// per semester instead (config.chuyen_de_extra more).
    #[serde(skip_serializing_if = "Option::is_none")]
    regular_with_chuyen_de: Option<u8>,
    /// Primary: sits the end-of-HKI and end-of-year tests.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tested: bool,
    /// Primary: also sits the mid-HKI and mid-HKII tests.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    mid_tested: bool,
}

fn rules(grade: u8, year: SchoolYear) -> Rules {
    let rules = RuleSet::for_grade(grade, year).expect("grade is 1..=12");
    let config = RuleConfig::default();
    let primary = grade <= 5;
    let subjects = curriculum::subjects(grade)
        .iter()
        .map(|s| SubjectRow {
            code: s.code,
            name: s.name,
            mode: s.mode,
            periods: s.periods,
            elective: s.elective,
            regular_per_semester: (!primary).then(|| s.regular_count(&config)),
            regular_with_chuyen_de: (!primary && s.chuyen_de)
                .then(|| s.regular_count(&config) + config.chuyen_de_extra),
            tested: s.tested,
            mid_tested: s.mid_tested,
        })
        .collect();
    let mut notes = vec![];
    if grade >= 10 && rules == RuleSet::Tt22_2021 {
        notes.push(
            "regular_with_chuyen_de applies to a learner who takes the subject's chuyên đề \
             cluster (\"chuyen_de\": true in the compute document).",
        );
    }
    match rules {
        RuleSet::Tt58Tt26 | RuleSet::Tt58_2011 => notes.push(
            "Legacy rule set: the plan shown is CT GDPT 2018's. Subjects of the old programme \
             that the grade's 2018 plan lacks (e.g. Vật lí in grade 9) must be given with \
             \"mode\" and \"periods\" (or their marks).",
        ),
        RuleSet::Tt30Tt22_2016 => {
            notes.push("TT 30/2014 + TT 22/2016 is kept for reading old records only; compute refuses it.")
        }
        RuleSet::Tt22_2021 | RuleSet::Tt27_2020 => {}
    }
    Rules {
        school_year: year.name(),
        grade,
        rules,
        rules_title: rules.title(),
        computed: rules != RuleSet::Tt30Tt22_2016,
        curriculum: curriculum::version(),
        config,
        subjects,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_messages_carry_their_values() {
        let e = InputError {
            path: "learners[0].subjects[0].hk1.tx[2]".into(),
            code: "out_of_range",
            params: vec![("min", "0".into()), ("max", "10".into())],
            message: "out of range (0..=10)".into(),
        };
        assert_eq!(vietnamese(&e), "Giá trị phải nằm trong khoảng 0 đến 10.");
        let e = InputError {
            path: "x".into(),
            code: "too_many_marks",
            params: vec![("max", "4".into())],
            message: "too many marks (max 4)".into(),
        };
        assert_eq!(vietnamese(&e), "Quá nhiều cột điểm (tối đa 4).");
    }
}
