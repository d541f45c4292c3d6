//! Thông tư 27/2020/TT-BGDĐT: assessment of primary pupils. Subject levels T/H/C at four
//! periodic points, whole-number tests, five qualities and ten competencies at Tốt/Đạt/Cần cố
//! gắng, the year-end overall evaluation (Điều 9 khoản 2), completion (Điều 11) and awards
//! (Điều 13).

use super::config::RuleConfig;
use super::marks::{SubjectLevel, TestScore, TraitLevel};
use serde::{Deserialize, Serialize};

/// The five core qualities (phẩm chất chủ yếu), in học bạ order.
pub const QUALITIES: [(&str, &str); 5] = [
    ("yeu_nuoc", "Yêu nước"),
    ("nhan_ai", "Nhân ái"),
    ("cham_chi", "Chăm chỉ"),
    ("trung_thuc", "Trung thực"),
    ("trach_nhiem", "Trách nhiệm"),
];

/// The three general and seven specific competencies (năng lực), in học bạ order.
pub const COMPETENCIES: [(&str, &str); 10] = [
    ("tu_chu_tu_hoc", "Tự chủ và tự học"),
    ("giao_tiep_hop_tac", "Giao tiếp và hợp tác"),
    ("giai_quyet_van_de", "Giải quyết vấn đề và sáng tạo"),
    ("ngon_ngu", "Ngôn ngữ"),
    ("tinh_toan", "Tính toán"),
    ("khoa_hoc", "Khoa học"),
    ("cong_nghe", "Công nghệ"),
    ("tin_hoc", "Tin học"),
    ("tham_mi", "Thẩm mĩ"),
    ("the_chat", "Thể chất"),
];

/// The four periodic points of the year (TT 27 Điều 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Point {
    /// Giữa học kì I.
    MidHk1,
    /// Cuối học kì I.
    EndHk1,
    /// Giữa học kì II.
    MidHk2,
    /// Cuối năm học.
    EndYear,
}

impl Point {
    pub const ALL: [Point; 4] = [Point::MidHk1, Point::EndHk1, Point::MidHk2, Point::EndYear];

    pub fn as_str(self) -> &'static str {
        match self {
            Point::MidHk1 => "mid_hk1",
            Point::EndHk1 => "end_hk1",
            Point::MidHk2 => "mid_hk2",
            Point::EndYear => "end_year",
        }
    }

    pub fn is_mid(self) -> bool {
        matches!(self, Point::MidHk1 | Point::MidHk2)
    }
}

/// Hoàn thành xuất sắc / Hoàn thành tốt / Hoàn thành / Chưa hoàn thành, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    ChuaHoanThanh,
    HoanThanh,
    HoanThanhTot,
    HoanThanhXuatSac,
}

impl Evaluation {
    pub fn as_str(self) -> &'static str {
        match self {
            Evaluation::HoanThanhXuatSac => "hoan_thanh_xuat_sac",
            Evaluation::HoanThanhTot => "hoan_thanh_tot",
            Evaluation::HoanThanh => "hoan_thanh",
            Evaluation::ChuaHoanThanh => "chua_hoan_thanh",
        }
    }

    pub fn completes(self) -> bool {
        self >= Evaluation::HoanThanh
    }
}

/// One subject at the end of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SubjectYear {
    pub level: SubjectLevel,
    /// End-of-year test score for a tested subject (after a re-test, the last re-test score).
    pub test: Option<TestScore>,
}

/// Điều 9 khoản 2: the overall evaluation from the end-of-year subject levels and tests and
/// every quality and competency. A tested subject with no score cannot reach Hoàn thành.
pub fn evaluate(subjects: &[SubjectYear], traits: &[TraitLevel], cfg: &RuleConfig) -> Evaluation {
    let all_t = subjects.iter().all(|s| s.level == SubjectLevel::HoanThanhTot);
    let all_h = subjects.iter().all(|s| s.level >= SubjectLevel::HoanThanh);
    let traits_tot = traits.iter().all(|t| *t == TraitLevel::Tot);
    let traits_dat = traits.iter().all(|t| *t >= TraitLevel::Dat);
    let min_test = subjects
        .iter()
        .filter_map(|s| s.test.map(TestScore::value))
        .min()
        .unwrap_or(10);
    if all_t && traits_tot && min_test >= 9 {
        Evaluation::HoanThanhXuatSac
    } else if all_t && traits_tot && min_test >= 7 {
        Evaluation::HoanThanhTot
    } else if all_h && traits_dat && min_test >= cfg.primary_pass_test {
        Evaluation::HoanThanh
    } else {
        Evaluation::ChuaHoanThanh
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Award {
    /// Học sinh Xuất sắc.
    XuatSac,
    /// Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện.
    TieuBieu,
}

/// Điều 13: Xuất sắc for Hoàn thành xuất sắc; Tiêu biểu for Hoàn thành tốt that the class
/// recognises (an outstanding subject or clear progress in a quality or competency).
pub fn award(evaluation: Evaluation, recognised_by_class: bool) -> Option<Award> {
    match evaluation {
        Evaluation::HoanThanhXuatSac => Some(Award::XuatSac),
        Evaluation::HoanThanhTot if recognised_by_class => Some(Award::TieuBieu),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubjectLevel::*;

    fn s(level: SubjectLevel, test: Option<u8>) -> SubjectYear {
        SubjectYear {
            level,
            test: test.map(|t| TestScore::new(t).unwrap()),
        }
    }

    fn grade4(tests: [u8; 6], levels: [SubjectLevel; 6]) -> Vec<SubjectYear> {
        let mut v: Vec<SubjectYear> = tests.iter().zip(levels).map(|(t, l)| s(l, Some(*t))).collect();
        // Untested subjects: Đạo đức, GDTC, Nghệ thuật, HĐTN.
        v.extend([s(HoanThanhTot, None); 4]);
        v
    }

    const ALL_TOT: [TraitLevel; 15] = [TraitLevel::Tot; 15];

    #[test]
    fn domain_example_grade_4_hoan_thanh_tot() {
        // TV 9, Toán 10, NN1 9, LS&ĐL 9, KH 8, Tin-CN 9, everything T and Tốt.
        let sub = grade4([9, 10, 9, 9, 8, 9], [HoanThanhTot; 6]);
        let e = evaluate(&sub, &ALL_TOT, &RuleConfig::default());
        assert_eq!(e, Evaluation::HoanThanhTot);
        assert_eq!(award(e, false), None);
        assert_eq!(award(e, true), Some(Award::TieuBieu));
    }

    #[test]
    fn excellent_needs_nine_in_every_test() {
        let sub = grade4([9, 10, 9, 9, 9, 9], [HoanThanhTot; 6]);
        let e = evaluate(&sub, &ALL_TOT, &RuleConfig::default());
        assert_eq!(e, Evaluation::HoanThanhXuatSac);
        assert_eq!(award(e, false), Some(Award::XuatSac));
    }

    #[test]
    fn one_can_co_gang_is_not_completed() {
        let sub = grade4([10; 6], [HoanThanhTot; 6]);
        let mut traits = ALL_TOT;
        traits[3] = TraitLevel::CanCoGang;
        assert_eq!(
            evaluate(&sub, &traits, &RuleConfig::default()),
            Evaluation::ChuaHoanThanh
        );
    }

    #[test]
    fn hoan_thanh_rows() {
        let cfg = RuleConfig::default();
        let mixed = [
            HoanThanhTot,
            HoanThanh,
            HoanThanhTot,
            HoanThanh,
            HoanThanhTot,
            HoanThanhTot,
        ];
        let mut traits = ALL_TOT;
        traits[0] = TraitLevel::Dat;
        assert_eq!(
            evaluate(&grade4([5, 6, 7, 8, 9, 5], mixed), &traits, &cfg),
            Evaluation::HoanThanh
        );
        // A 4 in one test fails the "≥ 5" row; a configured threshold of 4 accepts it.
        assert_eq!(
            evaluate(&grade4([4, 6, 7, 8, 9, 5], mixed), &traits, &cfg),
            Evaluation::ChuaHoanThanh
        );
        let lenient = RuleConfig {
            primary_pass_test: 4,
            ..RuleConfig::default()
        };
        assert_eq!(
            evaluate(&grade4([4, 6, 7, 8, 9, 5], mixed), &traits, &lenient),
            Evaluation::HoanThanh
        );
        // All T with Tốt traits but a 6 in a test: not HTT (≥ 7), so Hoàn thành.
        assert_eq!(
            evaluate(&grade4([6, 9, 9, 9, 9, 9], [HoanThanhTot; 6]), &ALL_TOT, &cfg),
            Evaluation::HoanThanh
        );
        // One subject C: Chưa hoàn thành whatever the tests.
        let mut one_c = [HoanThanhTot; 6];
        one_c[2] = ChuaHoanThanh;
        assert_eq!(
            evaluate(&grade4([10; 6], one_c), &ALL_TOT, &cfg),
            Evaluation::ChuaHoanThanh
        );
        assert!(Evaluation::HoanThanh.completes() && !Evaluation::ChuaHoanThanh.completes());
    }

    #[test]
    fn zero_is_a_valid_test_score() {
        let sub = grade4([0, 9, 9, 9, 9, 9], [HoanThanhTot; 6]);
        assert_eq!(
            evaluate(&sub, &ALL_TOT, &RuleConfig::default()),
            Evaluation::ChuaHoanThanh
        );
    }
}
