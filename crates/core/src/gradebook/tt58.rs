//! The old THCS/THPT scheme, Thông tư 58/2011/TT-BGDĐT as amended by Thông tư 26/2020/TT-BGDĐT,
//! kept only to read back the transition years (grades 7–12 up to 2023-24): the subject average
//! formulas, the overall average and the five-level học lực with its one-subject adjustment.
//! Hạnh kiểm is recorded, not computed.

use super::config::RuleConfig;
use super::marks::{Mark, Pass};
use super::tt22::SubjectResult;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HocLuc {
    Kem,
    Yeu,
    TrungBinh,
    Kha,
    Gioi,
}

/// Original TT 58 (before 11/10/2020): ĐTBmhk = (TĐKTtx + 2·TĐKTđk + 3·ĐKThk) /
/// (số bài KTtx + 2·số bài KTđk + 3), rounded half-up, in tenths.
pub fn semester_average_tt58(regular: &[Mark], periodic: &[Mark], exam: Mark) -> u16 {
    let sum = |v: &[Mark]| v.iter().map(|m| u32::from(m.tenths())).sum::<u32>();
    let n = sum(regular) + 2 * sum(periodic) + 3 * u32::from(exam.tenths());
    let d = regular.len() as u32 + 2 * periodic.len() as u32 + 3;
    ((2 * n + d) / (2 * d)) as u16
}

/// ĐTBhk / ĐTBcn: the plain mean of the scored subjects' averages, rounded half-up.
pub fn overall_average(results: &[SubjectResult]) -> Option<u16> {
    let scores: Vec<u32> = results
        .iter()
        .filter_map(|r| match r {
            SubjectResult::Score(t) => Some(u32::from(*t)),
            SubjectResult::Comment(_) => None,
        })
        .collect();
    if scores.is_empty() {
        return None;
    }
    let n: u32 = scores.iter().sum();
    let d = scores.len() as u32;
    Some(((2 * n + d) / (2 * d)) as u16)
}

/// The subjects whose average can carry the "one core subject" clause: Toán and Ngữ văn, and
/// from TT 26/2020 Ngoại ngữ too.
pub fn core_subjects(tt26: bool) -> &'static [&'static str] {
    if tt26 {
        &["toan", "ngu_van", "ngoai_ngu_1"]
    } else {
        &["toan", "ngu_van"]
    }
}

/// Học lực with its trail, like the TT 22 learning result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HocLucResult {
    pub overall: Option<u16>,
    pub level: HocLuc,
    pub table_level: HocLuc,
    pub adjusted_for: Option<usize>,
}

fn table(overall: u16, results: &[(&str, SubjectResult)], core: &[&str], skip: Option<usize>) -> HocLuc {
    let considered = || {
        results
            .iter()
            .enumerate()
            .filter(move |(i, _)| Some(*i) != skip)
            .map(|(_, r)| r)
    };
    let min = considered()
        .filter_map(|(_, r)| match r {
            SubjectResult::Score(t) => Some(*t),
            SubjectResult::Comment(_) => None,
        })
        .min()
        .unwrap_or(100);
    let comments_pass = considered().all(|(_, r)| *r != SubjectResult::Comment(Pass::ChuaDat));
    let best_core = results
        .iter()
        .filter(|(code, _)| core.contains(code))
        .filter_map(|(_, r)| match r {
            SubjectResult::Score(t) => Some(*t),
            SubjectResult::Comment(_) => None,
        })
        .max()
        .unwrap_or(0);
    let meets = |avg: u16, core_min: u16, floor: u16| {
        overall >= avg && best_core >= core_min && min >= floor && comments_pass
    };
    if meets(80, 80, 65) {
        HocLuc::Gioi
    } else if meets(65, 65, 50) {
        HocLuc::Kha
    } else if meets(50, 50, 35) {
        HocLuc::TrungBinh
    } else if overall >= 35 && min >= 20 {
        HocLuc::Yeu
    } else {
        HocLuc::Kem
    }
}

/// TT 58 Điều 13 (with TT 26's core-subject change): học lực from the subject averages, then the
/// khoản 6 adjustment when one subject alone kept an average of Giỏi or Khá level down, using the
/// configured (would-be, reached, adjusted) cases.
pub fn hoc_luc(results: &[(&str, SubjectResult)], tt26: bool, cfg: &RuleConfig) -> HocLucResult {
    let plain: Vec<SubjectResult> = results.iter().map(|(_, r)| *r).collect();
    let overall = overall_average(&plain);
    let core = core_subjects(tt26);
    let Some(avg) = overall else {
        return HocLucResult {
            overall,
            level: HocLuc::Kem,
            table_level: HocLuc::Kem,
            adjusted_for: None,
        };
    };
    let reached = table(avg, results, core, None);
    for i in 0..results.len() {
        let would_be = table(avg, results, core, Some(i));
        if let Some((_, _, adjusted)) = cfg
            .legacy_adjustments
            .iter()
            .find(|(w, r, _)| *w == would_be && *r == reached)
        {
            return HocLucResult {
                overall,
                level: *adjusted,
                table_level: reached,
                adjusted_for: Some(i),
            };
        }
    }
    HocLucResult {
        overall,
        level: reached,
        table_level: reached,
        adjusted_for: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Mark {
        Mark::parse(s).unwrap()
    }

    #[test]
    fn tt58_example_coefficients() {
        // tx 8; 9; 9 · đk 9; 8 · hk 8 → (26 + 34 + 24) / 10 = 8.4
        let tx = [m("8"), m("9"), m("9")];
        assert_eq!(semester_average_tt58(&tx, &[m("9"), m("8")], m("8")), 84);
    }

    fn subjects(scores: &[(&'static str, u16)]) -> Vec<(&'static str, SubjectResult)> {
        scores
            .iter()
            .map(|(c, t)| (*c, SubjectResult::Score(*t)))
            .collect()
    }

    #[test]
    fn gioi_needs_a_core_subject_and_the_floor() {
        let cfg = RuleConfig::default();
        let r = subjects(&[
            ("toan", 85),
            ("ngu_van", 78),
            ("ngoai_ngu_1", 79),
            ("vat_li", 90),
            ("hoa_hoc", 80),
        ]);
        let h = hoc_luc(&r, true, &cfg);
        assert_eq!(h.overall, Some(82));
        assert_eq!(h.level, HocLuc::Gioi);
        // TT 26 counts Ngoại ngữ as core: Toán and Văn below 8 but NN1 at 8.5 still makes Giỏi.
        let r = subjects(&[
            ("toan", 78),
            ("ngu_van", 78),
            ("ngoai_ngu_1", 85),
            ("vat_li", 90),
            ("hoa_hoc", 85),
        ]);
        assert_eq!(hoc_luc(&r, true, &cfg).level, HocLuc::Gioi);
        assert_eq!(hoc_luc(&r, false, &cfg).level, HocLuc::Kha);
    }

    #[test]
    fn one_subject_adjustment_gioi_to_tb_becomes_kha() {
        // Average 8.1 (Giỏi level) but one subject at 4.5 puts it at Trung bình → Khá.
        let r = subjects(&[
            ("toan", 90),
            ("ngu_van", 85),
            ("ngoai_ngu_1", 88),
            ("vat_li", 90),
            ("hoa_hoc", 45),
            ("sinh_hoc", 88),
        ]);
        let h = hoc_luc(&r, true, &RuleConfig::default());
        assert_eq!(h.overall, Some(81));
        assert_eq!(h.table_level, HocLuc::TrungBinh);
        assert_eq!((h.level, h.adjusted_for), (HocLuc::Kha, Some(4)));
    }

    #[test]
    fn weak_and_poor() {
        let cfg = RuleConfig::default();
        let r = subjects(&[("toan", 40), ("ngu_van", 40), ("vat_li", 30), ("hoa_hoc", 35)]);
        assert_eq!(hoc_luc(&r, true, &cfg).level, HocLuc::Yeu);
        let r = subjects(&[("toan", 40), ("ngu_van", 40), ("vat_li", 10), ("hoa_hoc", 35)]);
        assert_eq!(hoc_luc(&r, true, &cfg).level, HocLuc::Kem);
    }
}
