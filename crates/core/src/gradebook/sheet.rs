//! The gradebook as a sheet: which columns a class × subject × term has, how a typed cell is
//! stored (one integer per cell), and how stored cells become the typed records the rules read.
//!
//! Terms are 1 (HK I) and 2 (HK II; for primary its end is the end of the year); term 0 holds
//! what belongs to the whole year (the summer re-test).

use super::RuleConfig;
use super::compute::{Cell, PrimarySubject, SubjectRecord, Term};
use super::curriculum::{Mode, SubjectPlan};
use super::marks::{Mark, Pass, SubjectLevel, TestScore, tenths_text};
use super::tt22::SubjectResult;
use crate::DomainError;
use serde::Serialize;
use std::collections::BTreeMap;

/// What one column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A 10-point mark with one decimal.
    Score,
    /// Đ / CĐ.
    Comment,
    /// Primary subject level T / H / C.
    Level,
    /// Primary test score, a whole number.
    Test,
    /// The teacher's comment (nhận xét): free text.
    Note,
}

/// What a cell holds: a number for marks and levels, text for comments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum CellValue {
    Int(i32),
    Text(String),
}

impl CellValue {
    pub fn int(&self) -> Option<i32> {
        match self {
            CellValue::Int(v) => Some(*v),
            CellValue::Text(_) => None,
        }
    }
}

/// Longest comment in one cell.
pub const MAX_NOTE: usize = 1000;

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Score => "score",
            Kind::Comment => "comment",
            Kind::Level => "level",
            Kind::Test => "test",
            Kind::Note => "note",
        }
    }

    /// What a teacher typed → what the cell stores; empty text clears it.
    pub fn parse_cell(self, input: &str) -> Result<Option<CellValue>, DomainError> {
        if self == Kind::Note {
            let text = crate::text::clean(input);
            if text.chars().count() > MAX_NOTE {
                return Err(DomainError::TooLong { max: MAX_NOTE });
            }
            return Ok((!text.is_empty()).then_some(CellValue::Text(text)));
        }
        Ok(self.encode(input)?.map(CellValue::Int))
    }

    pub fn show_cell(self, v: &CellValue) -> String {
        match v {
            CellValue::Int(i) => self.show(*i),
            CellValue::Text(t) => t.clone(),
        }
    }

    /// What a teacher typed → the stored integer; empty text clears the cell.
    pub fn encode(self, input: &str) -> Result<Option<i32>, DomainError> {
        if input.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(match self {
            Kind::Score => i32::from(Mark::parse(input)?.tenths()),
            Kind::Comment => match Pass::parse(input)? {
                Pass::Dat => 1,
                Pass::ChuaDat => 0,
            },
            Kind::Level => match SubjectLevel::parse(input)? {
                SubjectLevel::HoanThanhTot => 3,
                SubjectLevel::HoanThanh => 2,
                SubjectLevel::ChuaHoanThanh => 1,
            },
            Kind::Test => i32::from(TestScore::parse(input)?.value()),
            Kind::Note => return Err(DomainError::InvalidNumber),
        }))
    }

    /// The stored integer as the sheet shows it ("7.5", "Đ", "T", "9").
    pub fn show(self, value: i32) -> String {
        match self {
            Kind::Score => tenths_text(value.clamp(0, 100) as u16),
            Kind::Comment => if value == 1 { "Đ" } else { "CĐ" }.into(),
            Kind::Level => match value {
                3 => "T",
                2 => "H",
                _ => "C",
            }
            .into(),
            Kind::Test | Kind::Note => value.to_string(),
        }
    }
}

/// One column of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub slot: String,
    pub label: String,
    pub kind: Kind,
    /// Optional columns (the chuyên đề result) may stay empty without leaving a gap.
    pub optional: bool,
}

fn col(slot: &str, label: &str, kind: Kind) -> Column {
    Column {
        slot: slot.into(),
        label: label.into(),
        kind,
        optional: false,
    }
}

/// The columns of a subject's sheet for one term (1 or 2; 0 = the year's re-test): the marks,
/// then the teacher's comment on the learner's progress (TT 27 regular assessment by comment;
/// the subject comment of the TT 22 học bạ).
pub fn columns(plan: &SubjectPlan, term: u8, cfg: &RuleConfig) -> Vec<Column> {
    let mut v = mark_columns(plan, term, cfg);
    if term > 0 {
        v.push(Column {
            slot: "note".into(),
            label: "Nhận xét".into(),
            kind: Kind::Note,
            optional: true,
        });
    }
    v
}

fn mark_columns(plan: &SubjectPlan, term: u8, cfg: &RuleConfig) -> Vec<Column> {
    match (plan.mode, term) {
        (Mode::Level, 0) => {
            if plan.tested {
                vec![col("retest", "KT lại", Kind::Test)]
            } else {
                vec![]
            }
        }
        (Mode::Level, _) => {
            let mut v = vec![col("mid_level", "Giữa kì", Kind::Level)];
            if plan.mid_tested {
                v.push(col("mid_test", "KT giữa kì", Kind::Test));
            }
            v.push(col(
                "end_level",
                if term == 1 { "Cuối kì" } else { "Cuối năm" },
                Kind::Level,
            ));
            if plan.tested {
                v.push(col(
                    "end_test",
                    if term == 1 {
                        "KT cuối kì"
                    } else {
                        "KT cuối năm"
                    },
                    Kind::Test,
                ));
            }
            v
        }
        (mode, 0) => vec![col("retest", "KT lại", kind_of(mode))],
        (mode, _) => {
            let kind = kind_of(mode);
            let n = plan.regular_count(cfg);
            let mut v: Vec<Column> = (1..=n)
                .map(|k| col(&format!("tx{k}"), &format!("TX{k}"), kind))
                .collect();
            if plan.chuyen_de {
                for k in 1..=cfg.chuyen_de_extra {
                    v.push(Column {
                        slot: format!("cd{k}"),
                        label: "Chuyên đề".into(),
                        kind,
                        optional: true,
                    });
                }
            }
            v.push(col("gk", "GK", kind));
            v.push(col("ck", "CK", kind));
            v
        }
    }
}

/// A cell's place as the correction trail names it: "HK1 · TX1", "HK2 · KT cuối kì",
/// "Cả năm · KT lại".
pub fn place_label(term: u8, slot: &str) -> String {
    let term = match term {
        1 => "HK1",
        2 => "HK2",
        _ => "Cả năm",
    };
    let slot = match slot {
        "gk" => "GK".to_string(),
        "ck" => "CK".to_string(),
        "mid_level" => "Giữa kì".to_string(),
        "mid_test" => "KT giữa kì".to_string(),
        "end_level" => "Cuối kì".to_string(),
        "end_test" => "KT cuối kì".to_string(),
        "retest" => "KT lại".to_string(),
        "note" => "Nhận xét".to_string(),
        s if s.starts_with("cd") => "Chuyên đề".to_string(),
        s => s.to_uppercase(),
    };
    format!("{term} · {slot}")
}

fn kind_of(mode: Mode) -> Kind {
    match mode {
        Mode::Score => Kind::Score,
        Mode::Comment => Kind::Comment,
        Mode::Level => Kind::Level,
    }
}

/// Stored cells of one learner × subject: (term, slot) → value.
pub type Cells = BTreeMap<(u8, String), i32>;

fn term_of(plan: &SubjectPlan, cells: &Cells, term: u8, cfg: &RuleConfig) -> Term {
    let kind = kind_of(plan.mode);
    let cell = |slot: &str| {
        cells.get(&(term, slot.to_string())).map(|v| match kind {
            Kind::Comment => Cell::Pass(if *v == 1 { Pass::Dat } else { Pass::ChuaDat }),
            _ => Cell::Mark(Mark::from_tenths((*v).clamp(0, 100) as u8).expect("clamped")),
        })
    };
    // Regular marks in column order; a gap stops the list so the rule reports the first
    // missing one. Chuyên đề results join them (one more ĐĐGtx each).
    let mut regular = vec![];
    for k in 1..=plan.regular_count(cfg) {
        match cell(&format!("tx{k}")) {
            Some(c) => regular.push(c),
            None => break,
        }
    }
    let base_complete = regular.len() == usize::from(plan.regular_count(cfg));
    if base_complete && plan.chuyen_de {
        regular.extend((1..=cfg.chuyen_de_extra).filter_map(|k| cell(&format!("cd{k}"))));
    }
    Term {
        regular,
        mid: cell("gk"),
        end: cell("ck"),
        periodic: vec![],
        given: None,
    }
}

/// A secondary subject's record from its stored cells.
pub fn subject_record(plan: &SubjectPlan, cells: &Cells, cfg: &RuleConfig) -> SubjectRecord {
    let hk1 = term_of(plan, cells, 1, cfg);
    let hk2 = term_of(plan, cells, 2, cfg);
    // The count the formula divides by: the base count, plus the chuyên đề results the learner
    // has (the same in both terms when they take the cluster).
    let extra = |t: &Term| {
        t.regular
            .len()
            .saturating_sub(usize::from(plan.regular_count(cfg)))
    };
    let regular_count = plan.regular_count(cfg) + extra(&hk1).max(extra(&hk2)) as u8;
    let retest = cells.get(&(0, "retest".to_string())).map(|v| match plan.mode {
        Mode::Comment => SubjectResult::Comment(if *v == 1 { Pass::Dat } else { Pass::ChuaDat }),
        _ => SubjectResult::Score((*v).clamp(0, 100) as u16),
    });
    SubjectRecord {
        code: plan.code.to_string(),
        mode: plan.mode,
        regular_count,
        hk1,
        hk2,
        year_given: None,
        retest,
    }
}

/// A primary subject's end-of-year record from its stored cells.
pub fn primary_subject(plan: &SubjectPlan, cells: &Cells) -> PrimarySubject {
    let get = |term: u8, slot: &str| cells.get(&(term, slot.to_string())).copied();
    let level = get(2, "end_level").map(|v| match v {
        3 => SubjectLevel::HoanThanhTot,
        2 => SubjectLevel::HoanThanh,
        _ => SubjectLevel::ChuaHoanThanh,
    });
    let test = |v: Option<i32>| v.and_then(|v| TestScore::new(v.clamp(0, 10) as u8).ok());
    PrimarySubject {
        code: plan.code.to_string(),
        tested: plan.tested,
        level,
        test: test(get(2, "end_test")),
        retest: test(get(0, "retest")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::compute::{SubjectOutcome, subject_outcome};
    use super::super::{RuleSet, curriculum};
    use super::*;

    fn cells(list: &[(u8, &str, i32)]) -> Cells {
        list.iter().map(|(t, s, v)| ((*t, s.to_string()), *v)).collect()
    }

    #[test]
    fn columns_follow_the_programme() {
        let cfg = RuleConfig::default();
        let slots = |g: u8, code: &str, term: u8| -> Vec<String> {
            mark_columns(curriculum::subject(g, code).unwrap(), term, &cfg)
                .into_iter()
                .map(|c| c.slot)
                .collect()
        };
        assert_eq!(slots(7, "toan", 1), ["tx1", "tx2", "tx3", "tx4", "gk", "ck"]);
        let all = columns(curriculum::subject(4, "toan").unwrap(), 2, &cfg);
        assert_eq!(
            (all.last().unwrap().slot.as_str(), all.last().unwrap().kind),
            ("note", Kind::Note)
        );
        assert!(
            columns(curriculum::subject(7, "toan").unwrap(), 0, &cfg)
                .iter()
                .all(|c| c.kind != Kind::Note)
        );
        assert_eq!(slots(7, "gdcd", 2), ["tx1", "tx2", "gk", "ck"]);
        assert_eq!(slots(10, "vat_li", 1), ["tx1", "tx2", "tx3", "cd1", "gk", "ck"]);
        assert_eq!(slots(10, "gdqpan", 1), ["tx1", "tx2", "gk", "ck"]);
        assert_eq!(
            slots(4, "toan", 1),
            ["mid_level", "mid_test", "end_level", "end_test"]
        );
        assert_eq!(slots(3, "toan", 2), ["mid_level", "end_level", "end_test"]);
        assert_eq!(slots(3, "dao_duc", 2), ["mid_level", "end_level"]);
        assert_eq!(slots(7, "toan", 0), ["retest"]);
    }

    #[test]
    fn places_are_named_for_the_trail() {
        assert_eq!(place_label(1, "tx1"), "HK1 · TX1");
        assert_eq!(place_label(2, "end_test"), "HK2 · KT cuối kì");
        assert_eq!(place_label(0, "retest"), "Cả năm · KT lại");
    }

    #[test]
    fn cells_encode_and_show() {
        assert_eq!(Kind::Score.encode("7,5"), Ok(Some(75)));
        assert_eq!(Kind::Score.encode("  "), Ok(None));
        assert_eq!(
            Kind::Score.encode("12"),
            Err(DomainError::OutOfRange { min: 0, max: 10 })
        );
        assert_eq!(Kind::Comment.encode("cđ"), Ok(Some(0)));
        assert_eq!(Kind::Level.encode("h"), Ok(Some(2)));
        assert_eq!(Kind::Test.encode("9"), Ok(Some(9)));
        assert_eq!(Kind::Test.encode("9.5"), Err(DomainError::WholeNumberRequired));
        assert_eq!(Kind::Score.show(75), "7.5");
        assert_eq!(Kind::Comment.show(0), "CĐ");
        assert_eq!(Kind::Level.show(3), "T");
        assert_eq!(
            Kind::Note.parse_cell("  Tiến bộ rõ   ở phần hình học. "),
            Ok(Some(CellValue::Text("Tiến bộ rõ ở phần hình học.".into())))
        );
        assert_eq!(Kind::Note.parse_cell("   "), Ok(None));
        assert_eq!(
            Kind::Note.parse_cell(&"a".repeat(1001)),
            Err(DomainError::TooLong { max: 1000 })
        );
        assert_eq!(Kind::Score.parse_cell("7,5"), Ok(Some(CellValue::Int(75))));
    }

    #[test]
    fn stored_cells_compute_like_the_worked_example() {
        let cfg = RuleConfig::default();
        let plan = curriculum::subject(7, "toan").unwrap();
        let c = cells(&[
            (1, "tx1", 70),
            (1, "tx2", 85),
            (1, "tx3", 90),
            (1, "tx4", 60),
            (1, "gk", 75),
            (1, "ck", 80),
        ]);
        let o: SubjectOutcome = subject_outcome(&subject_record(plan, &c, &cfg), RuleSet::Tt22_2021);
        assert_eq!(o.hk1, Ok(SubjectResult::Score(77)));
        assert!(o.hk2.is_err());
    }

    #[test]
    fn a_chuyen_de_result_is_one_more_regular_mark() {
        let cfg = RuleConfig::default();
        let plan = curriculum::subject(10, "vat_li").unwrap();
        // 3 regular + chuyên đề 10 → d = 9: (6+7+6.8+10 + 2·7 + 3·7)/9 = 64.8/9 = 7.2
        let c = cells(&[
            (1, "tx1", 60),
            (1, "tx2", 70),
            (1, "tx3", 68),
            (1, "cd1", 100),
            (1, "gk", 70),
            (1, "ck", 70),
        ]);
        let r = subject_record(plan, &c, &cfg);
        assert_eq!(r.regular_count, 4);
        assert_eq!(
            subject_outcome(&r, RuleSet::Tt22_2021).hk1,
            Ok(SubjectResult::Score(72))
        );
        // Without the cluster: example 2, 6.9.
        let c = cells(&[
            (1, "tx1", 60),
            (1, "tx2", 70),
            (1, "tx3", 68),
            (1, "gk", 70),
            (1, "ck", 70),
        ]);
        assert_eq!(
            subject_outcome(&subject_record(plan, &c, &cfg), RuleSet::Tt22_2021).hk1,
            Ok(SubjectResult::Score(69))
        );
    }
}
