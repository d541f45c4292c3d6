//! Thông tư 22/2021/TT-BGDĐT: assessment of THCS and THPT learners. Averages (Điều 9 khoản 1),
//! learning result with the one-subject adjustment (Điều 9 khoản 2–3), training result
//! (Điều 8), promotion, summer training and re-test (Điều 12–14), awards (Điều 15).
//!
//! Everything works on integer tenths; each average is rounded half-up once, as the circular
//! says, never through binary floating point.

use super::config::{BothFailed, Counterfactual, RuleConfig};
use super::marks::{Level, Mark, Pass};
use serde::Serialize;

/// ĐTBmhk = (TĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (số ĐĐGtx + 5), rounded half-up to one decimal, in
/// tenths. `regular` holds every ĐĐGtx recorded for the semester.
pub fn semester_average(regular: &[Mark], mid: Mark, end: Mark) -> u16 {
    let n: u32 = regular.iter().map(|m| u32::from(m.tenths())).sum::<u32>()
        + 2 * u32::from(mid.tenths())
        + 3 * u32::from(end.tenths());
    let d = regular.len() as u32 + 5;
    // n/d in tenths, half-up: floor((2n + d) / 2d).
    ((2 * n + d) / (2 * d)) as u16
}

/// ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3 from the rounded semester averages, rounded half-up.
pub fn year_average(hk1: u16, hk2: u16) -> u16 {
    let n = u32::from(hk1) + 2 * u32::from(hk2);
    ((2 * n + 3) / 6) as u16
}

/// A comment subject's semester result: Đạt when every required assessment is there and Đạt.
pub fn comment_semester(assessments: &[Pass], required: usize) -> Pass {
    if assessments.len() >= required && assessments.iter().all(|p| *p == Pass::Dat) {
        Pass::Dat
    } else {
        Pass::ChuaDat
    }
}

/// A comment subject's year result is its semester II result.
pub fn comment_year(hk2: Pass) -> Pass {
    hk2
}

/// One subject's result for a semester or the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum SubjectResult {
    /// ĐTBm in tenths.
    Score(u16),
    Comment(Pass),
}

impl SubjectResult {
    fn best(self) -> SubjectResult {
        match self {
            SubjectResult::Score(_) => SubjectResult::Score(100),
            SubjectResult::Comment(_) => SubjectResult::Comment(Pass::Dat),
        }
    }

    pub fn is_comment(self) -> bool {
        matches!(self, SubjectResult::Comment(_))
    }

    /// Below what Điều 14 re-tests: a comment subject Chưa đạt or a score under 5.0.
    pub fn needs_retest(self) -> bool {
        match self {
            SubjectResult::Score(t) => t < 50,
            SubjectResult::Comment(p) => p == Pass::ChuaDat,
        }
    }
}

/// The level the Điều 9 khoản 2 table gives, before any adjustment: Tốt, Khá, Đạt checked in
/// order, the first met wins.
pub fn table_level(results: &[SubjectResult]) -> Level {
    let mut failed_comments = 0;
    let mut min = u16::MAX;
    let (mut ge80, mut ge65, mut ge50) = (0, 0, 0);
    for r in results {
        match *r {
            SubjectResult::Comment(Pass::ChuaDat) => failed_comments += 1,
            SubjectResult::Comment(Pass::Dat) => {}
            SubjectResult::Score(t) => {
                min = min.min(t);
                ge80 += usize::from(t >= 80);
                ge65 += usize::from(t >= 65);
                ge50 += usize::from(t >= 50);
            }
        }
    }
    if failed_comments == 0 && min >= 65 && ge80 >= 6 {
        Level::Tot
    } else if failed_comments == 0 && min >= 50 && ge65 >= 6 {
        Level::Kha
    } else if failed_comments <= 1 && ge50 >= 6 && min >= 35 {
        Level::Dat
    } else {
        Level::ChuaDat
    }
}

/// A learning result with its trail: the table's level and, when one subject alone pulled it
/// down two levels or more, the subject (index into the input) and the adjusted level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LearningResult {
    pub level: Level,
    pub table_level: Level,
    pub adjusted_for: Option<usize>,
}

/// Điều 9 khoản 2–3: the table's level, raised to the adjacent level when one subject alone
/// caused a drop of two levels or more. "Alone" is read as: with that subject at its best (or
/// left out, per configuration) the table gives two or more levels higher.
pub fn learning_result(results: &[SubjectResult], cfg: &RuleConfig) -> LearningResult {
    let table = table_level(results);
    let mut trial = results.to_vec();
    for (i, r) in results.iter().enumerate() {
        if r.is_comment() && !cfg.adjustment_comment_subjects {
            continue;
        }
        let would_be = match cfg.adjustment {
            Counterfactual::Replace => {
                trial[i] = r.best();
                let l = table_level(&trial);
                trial[i] = *r;
                l
            }
            Counterfactual::Remove => {
                let rest: Vec<SubjectResult> = results
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, r)| *r)
                    .collect();
                table_level(&rest)
            }
        };
        if RuleConfig::drop_adjusts(would_be, table) {
            return LearningResult {
                level: table.up(),
                table_level: table,
                adjusted_for: Some(i),
            };
        }
    }
    LearningResult {
        level: table,
        table_level: table,
        adjusted_for: None,
    }
}

/// Điều 8: the year training result from the two semesters; semester II weighs more.
pub fn conduct_year(hk1: Level, hk2: Level) -> Level {
    use Level::*;
    match (hk2, hk1) {
        (Tot, Tot | Kha) => Tot,
        (Tot, Dat | ChuaDat) => Kha,
        (Kha, ChuaDat) => Dat,
        (Kha, _) => Kha,
        (Dat, Tot) => Kha,
        (Dat, _) => Dat,
        (ChuaDat, _) => ChuaDat,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Award {
    /// Học sinh Xuất sắc.
    XuatSac,
    /// Học sinh Giỏi.
    Gioi,
}

/// Điều 15: year training and learning Tốt make a Học sinh Giỏi; with six or more scored
/// subjects at 9.0 or above, a Học sinh Xuất sắc.
pub fn award(conduct: Level, learning: Level, results: &[SubjectResult]) -> Option<Award> {
    if conduct != Level::Tot || learning != Level::Tot {
        return None;
    }
    let ge90 = results
        .iter()
        .filter(|r| matches!(r, SubjectResult::Score(t) if *t >= 90))
        .count();
    Some(if ge90 >= 6 { Award::XuatSac } else { Award::Gioi })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retained {
    /// More absences than the limit.
    Absences,
    /// Training still Chưa đạt after summer training.
    Conduct,
    /// Learning still Chưa đạt after the re-test.
    Learning,
    /// Both Chưa đạt, and the school year's rule retains directly.
    BothFailed,
}

/// Where a learner stands at the end of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision", content = "reason")]
pub enum Decision {
    /// Lên lớp (or completes the level in its last grade).
    Promoted,
    /// Kiểm tra, đánh giá lại in summer: waiting for results.
    Retest,
    /// Rèn luyện trong kì nghỉ hè: waiting for the re-evaluation.
    SummerTraining,
    /// Không được lên lớp.
    Retained(Retained),
}

pub struct YearEndInput<'a> {
    /// Year result of every subject.
    pub results: &'a [SubjectResult],
    /// Year training result.
    pub conduct: Level,
    /// Sessions absent in the year, excused or not.
    pub absences: u16,
    /// Training result re-evaluated after summer training, once known.
    pub summer_conduct: Option<Level>,
    /// Re-test results, by index into `results`, once known.
    pub retest: &'a [(usize, SubjectResult)],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearEnd {
    pub learning: LearningResult,
    pub award: Option<Award>,
    /// The decision at the end of the school year, before any summer procedure.
    pub initial: Decision,
    /// Subjects (indexes) to re-test: comment subjects Chưa đạt, scores under 5.0.
    pub retest_subjects: Vec<usize>,
    /// Learning result recomputed with the re-test results replacing the year results.
    pub learning_after_retest: Option<LearningResult>,
    /// The decision with everything known so far; `Retest` or `SummerTraining` while waiting.
    pub decision: Decision,
}

/// Điều 12–14: promotion needs training ≥ Đạt, learning ≥ Đạt and absences within the limit;
/// training Chưa đạt goes to summer training, learning Chưa đạt (with training ≥ Đạt) to the
/// re-test of the listed subjects, whose results replace the year results.
pub fn year_end(input: &YearEndInput<'_>, cfg: &RuleConfig) -> YearEnd {
    let learning = learning_result(input.results, cfg);
    let award = award(input.conduct, learning.level, input.results);
    let retest_subjects: Vec<usize> = if learning.level == Level::ChuaDat {
        (0..input.results.len())
            .filter(|i| input.results[*i].needs_retest())
            .collect()
    } else {
        vec![]
    };
    let mut out = YearEnd {
        learning,
        award,
        initial: Decision::Promoted,
        retest_subjects,
        learning_after_retest: None,
        decision: Decision::Promoted,
    };
    if input.absences > cfg.absence_limit {
        // Not promoted, no summer procedure, and no title for a year the learner missed.
        out.initial = Decision::Retained(Retained::Absences);
        out.decision = out.initial;
        out.award = None;
        out.retest_subjects.clear();
        return out;
    }
    let conduct_ok = input.conduct >= Level::Dat;
    let learning_ok = learning.level >= Level::Dat;
    out.initial = match (conduct_ok, learning_ok) {
        (true, true) => Decision::Promoted,
        (true, false) => Decision::Retest,
        (false, true) => Decision::SummerTraining,
        (false, false) => match cfg.both_failed {
            BothFailed::Retained => Decision::Retained(Retained::BothFailed),
            BothFailed::TrainingThenRetest => Decision::SummerTraining,
        },
    };
    out.decision = out.initial;
    if matches!(out.initial, Decision::Retained(_)) {
        out.retest_subjects.clear();
    }
    if out.decision == Decision::SummerTraining {
        match input.summer_conduct {
            None => return out,
            Some(l) if l < Level::Dat => {
                out.decision = Decision::Retained(Retained::Conduct);
                return out;
            }
            Some(_) => {
                out.decision = if learning_ok {
                    Decision::Promoted
                } else {
                    Decision::Retest
                };
            }
        }
    }
    if out.decision == Decision::Retest {
        let known = |i: &usize| input.retest.iter().any(|(j, _)| j == i);
        if !out.retest_subjects.iter().all(known) {
            return out;
        }
        // Only the listed subjects are re-tested; a value given for another subject is ignored.
        let mut replaced = input.results.to_vec();
        for (i, r) in input.retest {
            if out.retest_subjects.contains(i)
                && let Some(slot) = replaced.get_mut(*i)
            {
                *slot = *r;
            }
        }
        let after = learning_result(&replaced, cfg);
        out.learning_after_retest = Some(after);
        out.decision = if after.level >= Level::Dat {
            Decision::Promoted
        } else {
            Decision::Retained(Retained::Learning)
        };
    }
    out
}

#[cfg(test)]
mod tests;
