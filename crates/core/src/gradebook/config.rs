//! The choices the regulations leave open (marked UNCERTAIN in the domain file), set per school
//! year so a school or Sở can follow its own reading and a later clarification is a data edit.
//! Defaults follow the domain file's recommended reading; docs/decisions.md says why.

use super::marks::Level;
use super::tt58::HocLuc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// ĐĐGtx per semester for a subject assessed by comment (TT 22 Điều 7 khoản 2a, unconfirmed).
    pub comment_regular_count: u8,
    /// Extra ĐĐGtx a THPT chuyên đề cluster adds to its subject each semester (Điều 7 khoản 3,
    /// unconfirmed).
    pub chuyen_de_extra: u8,
    /// How the one-subject adjustment (Điều 9 khoản 3) imagines "without that subject".
    pub adjustment: Counterfactual,
    /// Whether the one subject of the adjustment may be a comment subject ("01 môn học" without
    /// restriction; one implementation allows only scored subjects).
    pub adjustment_comment_subjects: bool,
    /// Absence limit in sessions (buổi) for promotion (Điều 12: 45).
    pub absence_limit: u16,
    /// A learner Chưa đạt in both training and learning (Điều 13–14 interplay, unconfirmed).
    pub both_failed: BothFailed,
    /// Lowest end-of-year test score for Hoàn thành at primary (TT 27 Điều 9, "≥ 5" unconfirmed).
    pub primary_pass_test: u8,
    /// TT 58/2011 Điều 13 khoản 6 adjustments (would-be level, level reached, adjusted level);
    /// the four cases are unconfirmed.
    pub legacy_adjustments: Vec<(HocLuc, HocLuc, HocLuc)>,
}

impl Default for RuleConfig {
    fn default() -> Self {
        use HocLuc::*;
        Self {
            comment_regular_count: 2,
            chuyen_de_extra: 1,
            adjustment: Counterfactual::Replace,
            adjustment_comment_subjects: true,
            absence_limit: 45,
            both_failed: BothFailed::Retained,
            primary_pass_test: 5,
            legacy_adjustments: vec![
                (Gioi, TrungBinh, Kha),
                (Gioi, Yeu, TrungBinh),
                (Kha, Yeu, TrungBinh),
                (Kha, Kem, Yeu),
            ],
        }
    }
}

/// "Had it not been for that one subject".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counterfactual {
    /// The subject counts with its best possible result (Đạt, 10.0): the recommended reading.
    Replace,
    /// The subject is left out (one public implementation); differs when leaving it out drops a
    /// "≥ 6 subjects" count.
    Remove,
}

/// What happens to a learner with training and learning both Chưa đạt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BothFailed {
    /// Not promoted, no summer procedure (the reading of MOET's reported answer).
    Retained,
    /// Summer training first; a re-evaluated Đạt opens the re-test.
    TrainingThenRetest,
}

impl RuleConfig {
    /// Whether a level drop from `would_be` to `reached` is large enough to adjust.
    pub(crate) fn drop_adjusts(would_be: Level, reached: Level) -> bool {
        would_be.rank() >= reached.rank() + 2
    }
}
