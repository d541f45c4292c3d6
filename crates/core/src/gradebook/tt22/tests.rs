use super::*;
use proptest::prelude::*;

fn m(s: &str) -> Mark {
    Mark::parse(s).unwrap()
}

fn marks(s: &[&str]) -> Vec<Mark> {
    s.iter().map(|x| m(x)).collect()
}

fn scores(t: &[u16]) -> Vec<SubjectResult> {
    t.iter().map(|t| SubjectResult::Score(*t)).collect()
}

const COMMENTS_PASS: [SubjectResult; 4] = [SubjectResult::Comment(Pass::Dat); 4];

fn with_comments(t: &[u16]) -> Vec<SubjectResult> {
    let mut v = scores(t);
    v.extend(COMMENTS_PASS);
    v
}

// assessment.md §1.2, worked examples 1–4.
#[test]
fn semester_average_example_1_toan_grade_7() {
    assert_eq!(
        semester_average(&marks(&["7", "8.5", "9", "6"]), m("7.5"), m("8")),
        77
    );
}

#[test]
fn semester_average_example_2_rounds_half_up() {
    // 54.8 / 8 = 6.85 exactly: half-up gives 6.9 (binary floating point gives 6.8).
    assert_eq!(semester_average(&marks(&["6", "7", "6.8"]), m("7"), m("7")), 69);
}

#[test]
fn year_average_example_3() {
    assert_eq!(year_average(77, 84), 82);
}

#[test]
fn semester_average_example_4_gdcd() {
    assert_eq!(semester_average(&marks(&["8", "9"]), m("7"), m("8")), 79);
}

#[test]
fn rounding_boundaries_of_both_formulas() {
    // d = 10 (5 regular marks, chuyên đề): 72.5/10 = 7.25 → 7.3.
    assert_eq!(
        semester_average(&marks(&["7", "7", "7", "7", "8"]), m("7"), m("7.5")),
        73
    );
    // Just below the half: 6.84375 → 6.8.
    assert_eq!(semester_average(&marks(&["6", "7", "6.7"]), m("7"), m("7")), 68);
    // Year: (6.0 + 2·6.1)/3 = 6.0666 → 6.1; (5.0 + 2·5.1)/3 = 5.0666 → 5.1; no exact .x5 tie.
    assert_eq!(year_average(60, 61), 61);
    assert_eq!(year_average(50, 51), 51);
    assert_eq!(year_average(100, 100), 100);
    assert_eq!(year_average(0, 0), 0);
}

#[test]
fn comment_subjects_need_every_assessment_dat() {
    use Pass::*;
    assert_eq!(comment_semester(&[Dat, Dat, Dat, Dat], 4), Dat);
    assert_eq!(comment_semester(&[Dat, Dat, Dat], 4), ChuaDat);
    assert_eq!(comment_semester(&[Dat, ChuaDat, Dat, Dat], 4), ChuaDat);
    assert_eq!(comment_year(ChuaDat), ChuaDat);
}

// §1.3 worked example: Tốt.
#[test]
fn learning_level_example_tot() {
    let r = with_comments(&[82, 70, 85, 90, 80, 81, 84, 78]);
    let l = learning_result(&r, &RuleConfig::default());
    assert_eq!((l.level, l.adjusted_for), (Level::Tot, None));
}

// §1.3 adjustment example: CN 3.0 drops a Tốt learner to Chưa đạt → Đạt.
#[test]
fn one_subject_adjustment_example() {
    let r = with_comments(&[85, 80, 90, 88, 82, 86, 81, 30]);
    for adjustment in [Counterfactual::Replace, Counterfactual::Remove] {
        let cfg = RuleConfig {
            adjustment,
            ..RuleConfig::default()
        };
        let l = learning_result(&r, &cfg);
        assert_eq!(l.table_level, Level::ChuaDat);
        assert_eq!(l.level, Level::Dat);
        assert_eq!(l.adjusted_for, Some(7));
    }
    // CN 6.0 instead: Khá, a drop of one level, no adjustment.
    let r = with_comments(&[85, 80, 90, 88, 82, 86, 81, 60]);
    let l = learning_result(&r, &RuleConfig::default());
    assert_eq!((l.level, l.adjusted_for), (Level::Kha, None));
}

#[test]
fn adjustment_examples_from_the_domain_file() {
    let cfg = RuleConfig::default();
    // Tốt → Đạt becomes Khá: one subject at 4.0 (≥ 3.5 but < 5.0).
    let l = learning_result(&with_comments(&[85, 80, 90, 88, 82, 86, 81, 40]), &cfg);
    assert_eq!((l.table_level, l.level), (Level::Dat, Level::Kha));
    // Khá → Chưa đạt becomes Đạt.
    let l = learning_result(&with_comments(&[70, 70, 70, 70, 70, 70, 60, 20]), &cfg);
    assert_eq!((l.table_level, l.level), (Level::ChuaDat, Level::Dat));
    // Two weak subjects: fixing one alone is not enough, no adjustment.
    let l = learning_result(&with_comments(&[85, 80, 90, 88, 82, 86, 30, 30]), &cfg);
    assert_eq!(
        (l.table_level, l.level, l.adjusted_for),
        (Level::ChuaDat, Level::ChuaDat, None)
    );
}

#[test]
fn a_comment_subject_can_cause_the_adjustment_when_configured() {
    // All scores Tốt-level, two comment subjects Chưa đạt → table Chưa đạt; fixing one gives Đạt
    // only (one CĐ left), a one-level rise: no adjustment.
    let mut r = scores(&[85, 80, 90, 88, 82, 86, 81, 80]);
    r.extend([
        SubjectResult::Comment(Pass::ChuaDat),
        SubjectResult::Comment(Pass::ChuaDat),
    ]);
    assert_eq!(learning_result(&r, &RuleConfig::default()).level, Level::ChuaDat);
    // One comment subject CĐ → table Đạt; would be Tốt → adjusted to Khá, unless configured off.
    let mut r = scores(&[85, 80, 90, 88, 82, 86, 81, 80]);
    r.push(SubjectResult::Comment(Pass::ChuaDat));
    assert_eq!(learning_result(&r, &RuleConfig::default()).level, Level::Kha);
    let cfg = RuleConfig {
        adjustment_comment_subjects: false,
        ..RuleConfig::default()
    };
    assert_eq!(learning_result(&r, &cfg).level, Level::Dat);
}

#[test]
fn remove_and_replace_readings_differ_when_the_count_drops() {
    // Exactly 6 subjects ≥ 8.0 only if the weak one is replaced by 10: five strong, one at 3.0.
    // Replace: the would-be level counts six ≥ 8.0 → Tốt, adjust Chưa đạt → Đạt.
    // Remove: five ≥ 8.0 left, so the would-be level is Khá (six ≥ 6.5), still 2 above → Đạt.
    let r = with_comments(&[85, 80, 90, 88, 82, 70, 30]);
    let replace = learning_result(&r, &RuleConfig::default());
    let remove = learning_result(
        &r,
        &RuleConfig {
            adjustment: Counterfactual::Remove,
            ..RuleConfig::default()
        },
    );
    assert_eq!((replace.table_level, replace.level), (Level::ChuaDat, Level::Dat));
    assert_eq!(remove.level, Level::Dat);
    // Six scored subjects, one at 4.0: only five reach 5.0, so the table says Chưa đạt. Replace
    // sees Tốt (six ≥ 8.0) and adjusts to Đạt; Remove has five left, which can never make the
    // six-subject counts, so no adjustment.
    let r = with_comments(&[85, 80, 90, 88, 82, 40]);
    assert_eq!(learning_result(&r, &RuleConfig::default()).level, Level::Dat);
    let remove = learning_result(
        &r,
        &RuleConfig {
            adjustment: Counterfactual::Remove,
            ..RuleConfig::default()
        },
    );
    assert_eq!(
        (remove.table_level, remove.level),
        (Level::ChuaDat, Level::ChuaDat)
    );
}

#[test]
fn thresholds_are_inclusive() {
    let cfg = RuleConfig::default();
    // Every subject exactly 6.5 and six exactly 8.0 → Tốt.
    assert_eq!(
        learning_result(&with_comments(&[80, 80, 80, 80, 80, 80, 65, 65]), &cfg).level,
        Level::Tot
    );
    // One at 6.4 → Khá (would be Tốt: one level, no adjustment).
    assert_eq!(
        learning_result(&with_comments(&[80, 80, 80, 80, 80, 80, 65, 64]), &cfg).level,
        Level::Kha
    );
    // Đạt needs none below 3.5: 3.5 passes, 3.4 does not.
    assert_eq!(
        table_level(&with_comments(&[50, 50, 50, 50, 50, 50, 35, 35])),
        Level::Dat
    );
    assert_eq!(
        table_level(&with_comments(&[50, 50, 50, 50, 50, 50, 35, 34])),
        Level::ChuaDat
    );
}

// §1.4 year training table, every cell.
#[test]
fn conduct_year_table() {
    use Level::*;
    let table = [
        // HKII row, then HKI Tốt, Khá, Đạt, CĐ.
        (Tot, [Tot, Tot, Kha, Kha]),
        (Kha, [Kha, Kha, Kha, Dat]),
        (Dat, [Kha, Dat, Dat, Dat]),
        (ChuaDat, [ChuaDat, ChuaDat, ChuaDat, ChuaDat]),
    ];
    for (hk2, row) in table {
        for (hk1, want) in [Tot, Kha, Dat, ChuaDat].into_iter().zip(row) {
            assert_eq!(conduct_year(hk1, hk2), want, "HKI {hk1:?} HKII {hk2:?}");
        }
    }
    assert_eq!(conduct_year(Kha, Tot), Tot);
    assert_eq!(conduct_year(Tot, Dat), Kha);
    assert_eq!(conduct_year(ChuaDat, Kha), Dat);
}

// §1.6 awards.
#[test]
fn awards() {
    let good = with_comments(&[82, 70, 85, 90, 80, 81, 84, 78]);
    assert_eq!(award(Level::Tot, Level::Tot, &good), Some(Award::Gioi));
    let excellent = with_comments(&[92, 90, 95, 90, 91, 93, 84, 78]);
    assert_eq!(award(Level::Tot, Level::Tot, &excellent), Some(Award::XuatSac));
    assert_eq!(award(Level::Kha, Level::Tot, &excellent), None);
    assert_eq!(award(Level::Tot, Level::Kha, &excellent), None);
}

fn end(input: YearEndInput<'_>) -> YearEnd {
    year_end(&input, &RuleConfig::default())
}

// §1.5 worked examples.
#[test]
fn two_subjects_below_five_is_still_dat_and_promoted() {
    let r = with_comments(&[46, 48, 60, 60, 60, 60, 60, 60]);
    let y = end(YearEndInput {
        results: &r,
        conduct: Level::Dat,
        absences: 12,
        summer_conduct: None,
        retest: &[],
    });
    assert_eq!(y.learning.level, Level::Dat);
    assert_eq!(y.decision, Decision::Promoted);
    assert!(y.retest_subjects.is_empty());
}

#[test]
fn retest_example_promotes_after_the_summer() {
    // Toán 4.6, Anh 4.8, Văn 4.9; five others ≥ 5.0; rèn luyện Đạt; 12 absences.
    let r = with_comments(&[46, 48, 49, 60, 55, 70, 65, 50]);
    let pending = end(YearEndInput {
        results: &r,
        conduct: Level::Dat,
        absences: 12,
        summer_conduct: None,
        retest: &[],
    });
    assert_eq!(pending.learning.level, Level::ChuaDat);
    assert_eq!(pending.initial, Decision::Retest);
    assert_eq!(pending.decision, Decision::Retest);
    assert_eq!(pending.retest_subjects, vec![0, 1, 2]);
    let retest = [
        (0, SubjectResult::Score(55)),
        (1, SubjectResult::Score(40)),
        (2, SubjectResult::Score(50)),
    ];
    let done = end(YearEndInput {
        results: &r,
        conduct: Level::Dat,
        absences: 12,
        summer_conduct: None,
        retest: &retest,
    });
    assert_eq!(done.learning_after_retest.unwrap().level, Level::Dat);
    assert_eq!(done.decision, Decision::Promoted);
    // Re-test results that stay low retain the learner.
    let low = [
        (0, SubjectResult::Score(30)),
        (1, SubjectResult::Score(40)),
        (2, SubjectResult::Score(45)),
    ];
    let failed = end(YearEndInput {
        results: &r,
        conduct: Level::Dat,
        absences: 12,
        summer_conduct: None,
        retest: &low,
    });
    assert_eq!(failed.decision, Decision::Retained(Retained::Learning));
    // A re-test value for a subject not on the list changes nothing.
    let stray = [
        (0, SubjectResult::Score(55)),
        (1, SubjectResult::Score(40)),
        (2, SubjectResult::Score(50)),
        (3, SubjectResult::Score(0)),
    ];
    let y = end(YearEndInput {
        results: &r,
        conduct: Level::Dat,
        absences: 12,
        summer_conduct: None,
        retest: &stray,
    });
    assert_eq!(y.decision, Decision::Promoted);
}

#[test]
fn absences_over_the_limit_retain() {
    let r = with_comments(&[82, 70, 85, 90, 80, 81, 84, 78]);
    let over = end(YearEndInput {
        results: &r,
        conduct: Level::Tot,
        absences: 46,
        summer_conduct: None,
        retest: &[],
    });
    assert_eq!(over.decision, Decision::Retained(Retained::Absences));
    // No title and no re-test list for a year with too many absences.
    assert_eq!(over.award, None);
    assert!(over.retest_subjects.is_empty());
    let at = end(YearEndInput {
        results: &r,
        conduct: Level::Tot,
        absences: 45,
        summer_conduct: None,
        retest: &[],
    });
    assert_eq!(at.decision, Decision::Promoted);
}

#[test]
fn summer_training_for_conduct() {
    let r = with_comments(&[82, 70, 85, 90, 80, 81, 84, 78]);
    let input = |summer| YearEndInput {
        results: &r,
        conduct: Level::ChuaDat,
        absences: 3,
        summer_conduct: summer,
        retest: &[],
    };
    assert_eq!(end(input(None)).decision, Decision::SummerTraining);
    assert_eq!(end(input(Some(Level::Dat))).decision, Decision::Promoted);
    assert_eq!(
        end(input(Some(Level::ChuaDat))).decision,
        Decision::Retained(Retained::Conduct)
    );
    // No award without Tốt training.
    assert_eq!(end(input(None)).award, None);
}

#[test]
fn both_failed_follows_the_configuration() {
    let r = with_comments(&[30, 30, 40, 60, 55, 70, 65, 50]);
    let input = |summer| YearEndInput {
        results: &r,
        conduct: Level::ChuaDat,
        absences: 3,
        summer_conduct: summer,
        retest: &[],
    };
    assert_eq!(
        end(input(None)).decision,
        Decision::Retained(Retained::BothFailed)
    );
    let cfg = RuleConfig {
        both_failed: BothFailed::TrainingThenRetest,
        ..RuleConfig::default()
    };
    assert_eq!(year_end(&input(None), &cfg).decision, Decision::SummerTraining);
    assert_eq!(
        year_end(&input(Some(Level::Dat)), &cfg).decision,
        Decision::Retest
    );
    assert_eq!(
        year_end(&input(Some(Level::ChuaDat)), &cfg).decision,
        Decision::Retained(Retained::Conduct)
    );
}

fn arb_mark() -> impl Strategy<Value = Mark> {
    (0u8..=100).prop_map(|t| Mark::from_tenths(t).unwrap())
}

fn arb_results() -> impl Strategy<Value = Vec<SubjectResult>> {
    (
        prop::collection::vec(0u16..=100, 6..10),
        prop::collection::vec(any::<bool>(), 0..5),
    )
        .prop_map(|(s, c)| {
            let mut v = scores(&s);
            v.extend(
                c.into_iter()
                    .map(|p| SubjectResult::Comment(if p { Pass::Dat } else { Pass::ChuaDat })),
            );
            v
        })
}

fn arb_cfg() -> impl Strategy<Value = RuleConfig> {
    (any::<bool>(), any::<bool>()).prop_map(|(remove, comments)| RuleConfig {
        adjustment: if remove {
            Counterfactual::Remove
        } else {
            Counterfactual::Replace
        },
        adjustment_comment_subjects: comments,
        ..RuleConfig::default()
    })
}

proptest! {
    #[test]
    fn averages_stay_on_the_scale(
        regular in prop::collection::vec(arb_mark(), 2..6),
        mid in arb_mark(),
        end in arb_mark(),
        other in 0u16..=100,
    ) {
        let s = semester_average(&regular, mid, end);
        prop_assert!(s <= 100);
        let lo = regular.iter().chain([&mid, &end]).map(|m| m.tenths()).min().unwrap();
        let hi = regular.iter().chain([&mid, &end]).map(|m| m.tenths()).max().unwrap();
        prop_assert!(u16::from(lo) <= s && s <= u16::from(hi));
        let y = year_average(other, s);
        prop_assert!(y <= 100 && y >= other.min(s) && y <= other.max(s));
    }

    #[test]
    fn semester_average_is_exact_half_up(
        regular in prop::collection::vec(arb_mark(), 2..6),
        mid in arb_mark(),
        end in arb_mark(),
    ) {
        // Against exact rational arithmetic in hundredths: 10·s must be the nearest tenth,
        // ties upward.
        let n: u32 = regular.iter().map(|m| u32::from(m.tenths())).sum::<u32>()
            + 2 * u32::from(mid.tenths()) + 3 * u32::from(end.tenths());
        let d = regular.len() as u32 + 5;
        let s = u32::from(semester_average(&regular, mid, end));
        // s - 1/2 ≤ n/d < s + 1/2  ⇔  (2s - 1)·d ≤ 2n < (2s + 1)·d
        prop_assert!((2 * s + 1) * d > 2 * n);
        prop_assert!(s == 0 || (2 * s - 1) * d <= 2 * n);
    }

    #[test]
    fn raising_a_mark_never_lowers_an_average(
        regular in prop::collection::vec(arb_mark(), 2..6),
        mid in arb_mark(),
        end in arb_mark(),
        which in 0usize..8,
        by in 1u8..=100,
    ) {
        let before = semester_average(&regular, mid, end);
        let (mut r, mut mi, mut en) = (regular.clone(), mid, end);
        let raise = |m: Mark| Mark::from_tenths(m.tenths().saturating_add(by).min(100)).unwrap();
        match which {
            0 => mi = raise(mi),
            1 => en = raise(en),
            k => { let k = (k - 2) % r.len(); r[k] = raise(r[k]); }
        }
        prop_assert!(semester_average(&r, mi, en) >= before);
    }

    #[test]
    fn raising_one_result_never_lowers_the_level(
        results in arb_results(),
        which in any::<prop::sample::Index>(),
        by in 1u16..=100,
        cfg in arb_cfg(),
    ) {
        let before = learning_result(&results, &cfg);
        let mut raised = results.clone();
        let i = which.index(raised.len());
        raised[i] = match raised[i] {
            SubjectResult::Score(t) => SubjectResult::Score((t + by).min(100)),
            SubjectResult::Comment(_) => SubjectResult::Comment(Pass::Dat),
        };
        let after = learning_result(&raised, &cfg);
        prop_assert!(after.level >= before.level, "{before:?} → {after:?}");
    }

    #[test]
    fn adjustment_raises_by_one_level_at_most(results in arb_results(), cfg in arb_cfg()) {
        let l = learning_result(&results, &cfg);
        prop_assert!(l.level.rank() <= l.table_level.rank() + 1);
        prop_assert_eq!(l.adjusted_for.is_some(), l.level != l.table_level);
    }

    #[test]
    fn promotion_needs_all_three_conditions(
        results in arb_results(),
        conduct in 0u8..4,
        absences in 0u16..80,
    ) {
        let conduct = Level::ALL[3 - conduct as usize];
        let y = year_end(&YearEndInput { results: &results, conduct, absences, summer_conduct: None, retest: &[] },
            &RuleConfig::default());
        let promoted = y.decision == Decision::Promoted;
        prop_assert_eq!(promoted, conduct >= Level::Dat && y.learning.level >= Level::Dat && absences <= 45);
        if y.award.is_some() { prop_assert!(promoted); }
    }
}
