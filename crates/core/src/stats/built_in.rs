//! The form definitions shipped with Trường Số (`crates/core/data/stats/`), one file per form
//! version, and the lookups that pick the version in force for a level, round and day.
//!
//! TT 24/2018 versions run until 2025-02-09, the TT 25/2024 ones from then on; that date is
//! UNCERTAIN (statistics.md §0) and lives in the files' `valid_from` / `valid_to`, so correcting
//! it is a data edit.

use super::catalogue::{FormDef, Round};
use crate::org::SchoolLevel;
use chrono::NaiveDate;
use std::sync::OnceLock;

macro_rules! form_file {
    ($name:literal) => {
        ($name, include_str!(concat!("../../data/stats/", $name)))
    };
}

/// The form files shipped with Trường Số: (file name, TOML source).
pub const BUILT_IN: &[(&str, &str)] = &[
    form_file!("tt24-2018-01-mn-dn.toml"),
    form_file!("tt24-2018-02-th-dn.toml"),
    form_file!("tt24-2018-03-thcs-dn.toml"),
    form_file!("tt24-2018-04-thpt-dn.toml"),
    form_file!("tt24-2018-02-th-cn.toml"),
    form_file!("tt24-2018-03-thcs-cn.toml"),
    form_file!("tt24-2018-04-thpt-cn.toml"),
    form_file!("tt25-2024-01-mn-dn.toml"),
    form_file!("tt25-2024-02-th-dn.toml"),
    form_file!("tt25-2024-03-thcs-dn.toml"),
    form_file!("tt25-2024-04-thpt-dn.toml"),
    form_file!("tt25-2024-02-th-cn.toml"),
    form_file!("tt25-2024-03-thcs-cn.toml"),
    form_file!("tt25-2024-04-thpt-cn.toml"),
];

/// Parsed once: the files are compiled in, so they cannot change while the process runs.
fn parsed() -> &'static [FormDef] {
    static FORMS: OnceLock<Vec<FormDef>> = OnceLock::new();
    FORMS.get_or_init(|| {
        BUILT_IN
            .iter()
            .map(|(name, src)| FormDef::parse_toml(src).unwrap_or_else(|e| panic!("{name}: {e}")))
            .collect()
    })
}

/// Every built-in form, checked (a broken file is a build-time bug caught by the tests).
pub fn built_in() -> Vec<FormDef> {
    parsed().to_vec()
}

/// A built-in form version by its id (`tt24-2018/02-th-dn`).
pub fn by_id(id: &str) -> Option<FormDef> {
    parsed().iter().find(|f| f.id == id).cloned()
}

/// The built-in form a school of `level` files for `round` on day `on`. Should two versions
/// overlap (a data error the tests rule out for the shipped files), the newer one wins.
pub fn in_force(level: SchoolLevel, round: Round, on: NaiveDate) -> Option<FormDef> {
    parsed()
        .iter()
        .filter(|f| f.level == level && f.round == round && f.in_force_on(on))
        .max_by_key(|f| f.valid_from)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::catalogue::Measure;
    use crate::stats::compute::compute;
    use crate::stats::facts::{Entity, Fact, Facts, Val};
    use uuid::Uuid;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The (level, round) pairs that have an official form: MN has no end-of-year form and
    /// GDTX no form yet.
    const FILED: [(SchoolLevel, Round); 7] = [
        (SchoolLevel::MN, Round::BeginningOfYear),
        (SchoolLevel::TH, Round::BeginningOfYear),
        (SchoolLevel::THCS, Round::BeginningOfYear),
        (SchoolLevel::THPT, Round::BeginningOfYear),
        (SchoolLevel::TH, Round::EndOfYear),
        (SchoolLevel::THCS, Round::EndOfYear),
        (SchoolLevel::THPT, Round::EndOfYear),
    ];

    #[test]
    fn every_built_in_form_parses_and_ids_are_unique() {
        let forms = built_in();
        assert_eq!(forms.len(), BUILT_IN.len());
        let mut ids: Vec<_> = forms.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), forms.len(), "form ids are unique");
        // The file name is the id with its slash made a dash, so a file is found by its id.
        for ((name, _), form) in BUILT_IN.iter().zip(&forms) {
            assert_eq!(*name, format!("{}.toml", form.id.replace('/', "-")));
        }
    }

    #[test]
    fn row_codes_run_from_one_in_order() {
        for form in built_in() {
            let codes: Vec<String> = form
                .sections
                .iter()
                .flat_map(|s| s.rows.iter().map(|r| r.code.clone()))
                .collect();
            let expected: Vec<String> = (1..=codes.len()).map(|i| i.to_string()).collect();
            assert_eq!(codes, expected, "{}", form.id);
        }
        // The two official layouts end where the MOET exports end.
        let last = |id: &str| {
            by_id(id)
                .unwrap()
                .sections
                .last()
                .unwrap()
                .rows
                .last()
                .unwrap()
                .code
                .clone()
        };
        assert_eq!(last("tt24-2018/01-mn-dn"), "212");
        assert_eq!(last("tt24-2018/02-th-dn"), "132");
    }

    #[test]
    fn one_form_is_in_force_per_level_and_round() {
        for (on, regime) in [
            (day(2020, 10, 1), "TT 24/2018/TT-BGDĐT"),
            (day(2026, 11, 24), "TT 25/2024/TT-BGDĐT"),
        ] {
            for level in SchoolLevel::ALL {
                for round in Round::ALL {
                    let n = built_in()
                        .iter()
                        .filter(|f| f.level == level && f.round == round && f.in_force_on(on))
                        .count();
                    let want = usize::from(FILED.contains(&(level, round)));
                    assert_eq!(n, want, "{level:?} {round:?} on {on}");
                    if want == 1 {
                        let f = in_force(level, round, on).unwrap();
                        assert_eq!(f.regime, regime, "{}", f.id);
                    } else {
                        assert!(in_force(level, round, on).is_none());
                    }
                }
            }
        }
    }

    #[test]
    fn versions_follow_each_other_without_gap_or_overlap() {
        for (level, round) in FILED {
            let mut versions: Vec<FormDef> = built_in()
                .into_iter()
                .filter(|f| f.level == level && f.round == round)
                .collect();
            versions.sort_by_key(|f| f.valid_from);
            assert_eq!(versions.len(), 2, "{level:?} {round:?}");
            for pair in versions.windows(2) {
                assert_eq!(pair[0].valid_to, Some(pair[1].valid_from), "{}", pair[0].id);
            }
            assert_eq!(versions.last().unwrap().valid_to, None);
        }
    }

    #[test]
    fn the_switch_to_tt25_happens_on_its_first_day() {
        let before = in_force(SchoolLevel::THCS, Round::EndOfYear, day(2025, 2, 8)).unwrap();
        let from = in_force(SchoolLevel::THCS, Round::EndOfYear, day(2025, 2, 9)).unwrap();
        assert_eq!(before.id, "tt24-2018/03-thcs-cn");
        assert_eq!(from.id, "tt25-2024/03-thcs-cn");
        assert!(in_force(SchoolLevel::GDTX, Round::BeginningOfYear, day(2026, 1, 1)).is_none());
        assert!(in_force(SchoolLevel::TH, Round::BeginningOfYear, day(2018, 11, 13)).is_none());
    }

    #[test]
    fn forms_are_found_by_id() {
        let mn = by_id("tt25-2024/01-mn-dn").unwrap();
        assert_eq!(
            (mn.code.as_str(), mn.level, mn.round),
            ("01.ĐN-MN", SchoolLevel::MN, Round::BeginningOfYear)
        );
        assert_eq!(mn.valid_from, day(2025, 2, 9));
        let cn = by_id("tt24-2018/02-th-cn").unwrap();
        assert_eq!((cn.round, cn.reference), (Round::EndOfYear, (5, 31)));
        assert!(by_id("tt24-2018/05-gdtx-dn").is_none());
        assert!(by_id("").is_none());
    }

    #[test]
    fn tt25_copies_keep_the_tt24_row_codes() {
        let codes = |f: &FormDef| -> Vec<(String, Vec<String>)> {
            f.sections
                .iter()
                .map(|s| (s.code.clone(), s.rows.iter().map(|r| r.code.clone()).collect()))
                .collect()
        };
        let copies: Vec<FormDef> = built_in()
            .into_iter()
            .filter(|f| f.id.starts_with("tt25-2024/"))
            .collect();
        assert_eq!(copies.len(), 7);
        for copy in copies {
            let original = by_id(&copy.id.replace("tt25-2024/", "tt24-2018/")).unwrap();
            assert_eq!(codes(&copy), codes(&original), "{}", copy.id);
            assert_eq!(
                (copy.code.as_str(), copy.level, copy.round),
                (original.code.as_str(), original.level, original.round)
            );
            assert_eq!(copy.scope, original.scope, "{}", copy.id);
            // The copy says it is a copy and that its date is uncertain.
            assert!(
                copy.note.as_deref().is_some_and(|n| n.contains("TT 25/2024")),
                "{}",
                copy.id
            );
        }
    }

    #[test]
    fn beginning_of_year_forms_open_their_learners_with_the_total() {
        let forms: Vec<FormDef> = built_in()
            .into_iter()
            .filter(|f| f.round == Round::BeginningOfYear)
            .collect();
        assert_eq!(forms.len(), 8);
        for form in forms {
            let learners = form
                .sections
                .iter()
                .find(|s| s.entity == Entity::Learner)
                .unwrap();
            let first = &learners.rows[0];
            assert!(first.filter.is_empty(), "{} row {}", form.id, first.code);
            assert_eq!(first.measure, Measure::Count, "{}", form.id);
            // …and of the roll on the reference date only.
            assert!(
                form.scope_of(Entity::Learner).unwrap().text.contains("on_roll"),
                "{}",
                form.id
            );
        }
    }

    #[test]
    fn end_of_year_forms_keep_those_who_left_in_scope() {
        for form in built_in().into_iter().filter(|f| f.round == Round::EndOfYear) {
            assert_eq!(form.reference, (5, 31), "{}", form.id);
            assert!(
                !form.scope_of(Entity::Learner).unwrap().text.contains("on_roll"),
                "{}",
                form.id
            );
            assert!(
                form.note.is_some(),
                "{}: the layout is uncertain and says so",
                form.id
            );
        }
    }

    fn school(facts: &mut Facts, levels: &[&str], ownership_group: &str) -> usize {
        let mut f = Fact::new(Entity::School, 0, None);
        f.set("ownership_group", Val::code(ownership_group))
            .set("region_band", Val::code("mountain"))
            .set(
                "levels",
                Val::Codes(levels.iter().map(|l| l.to_string()).collect()),
            );
        facts.add_school(Uuid::now_v7(), "S".into(), "p".into(), f)
    }

    fn learner(facts: &mut Facts, s: usize, level: &str, grade: i64, fields: &[(&str, Val)]) {
        let mut f = Fact::new(Entity::Learner, s, Some(Uuid::now_v7()));
        f.set("level", Val::code(level))
            .set("grade", Val::Int(grade))
            .set("sex", Val::code("female"))
            .set("minority", Val::Bool(false))
            .set("on_roll", Val::Bool(true))
            .set("at_start", Val::Bool(true));
        for (name, v) in fields {
            f.set(name, v.clone());
        }
        facts.facts.push(f);
    }

    /// A community-founded (dân lập) preschool: a 10-month-old in a crèche group, found
    /// underweight; a 5-year-old kindergartner of normal weight; a 4-year-old never weighed.
    #[test]
    fn preschool_form_counts_ages_nutrition_and_the_dan_lap_column() {
        let form = by_id("tt24-2018/01-mn-dn").unwrap();
        let mut facts = Facts::default();
        let s = school(&mut facts, &["MN"], "dan_lap");
        learner(
            &mut facts,
            s,
            "MN",
            16,
            &[
                ("age_months", Val::Int(10)),
                ("age", Val::Int(0)),
                ("nutrition", Val::code("wasted")),
            ],
        );
        learner(
            &mut facts,
            s,
            "MN",
            17,
            &[("age", Val::Int(5)), ("nutrition", Val::code("normal"))],
        );
        learner(&mut facts, s, "MN", 17, &[("age", Val::Int(4))]);
        let v = compute(&form, &facts);
        assert_eq!(v.cell("1", "dl"), Some(1));
        assert_eq!(v.cell("1", "cl"), Some(0));
        assert_eq!(v.cell("2", "total"), Some(0), "no kind set: not a nhà trẻ");
        let fi = facts.schools[s].fact;
        facts.facts[fi].set("preschool_kind", Val::code("mam_non"));
        let v2 = compute(&form, &facts);
        assert_eq!(v2.cell("33", "dl"), Some(1), "a dân lập mầm non school");
        assert_eq!(v2.cell("2", "total"), Some(0));
        assert_eq!(v2.cell("15", "total"), Some(0));
        assert_eq!(
            v2.cell("51", "total"),
            None,
            "independent groups are not recorded"
        );
        assert_eq!(v.cell("83", "total.all"), Some(3));
        assert_eq!(v.cell("83", "dl.nu"), Some(3));
        assert_eq!(v.cell("83", "cl.all"), Some(0));
        assert_eq!(v.cell("84", "total.all"), Some(1));
        assert_eq!(v.cell("86", "total.all"), Some(1));
        assert_eq!(v.cell("97", "total.all"), Some(1));
        assert_eq!(v.cell("98", "total.all"), Some(0));
        assert_eq!(v.cell("104", "total.all"), Some(1));
        assert_eq!(v.cell("105", "total.all"), Some(1));
        assert_eq!(v.cell("107", "total.all"), Some(1));
        assert_eq!(v.cell("110", "total.all"), Some(1));
        assert_eq!(
            v.cell("108", "total.all"),
            None,
            "underweight is not derived from BMI"
        );
        assert_eq!(
            v.cell("112", "total.all"),
            Some(1),
            "the unweighed child is not checked"
        );
        assert_eq!(v.cell("115", "total.all"), Some(0));
        assert_eq!(v.cell("117", "total.all"), None);
    }

    /// One school teaching THCS and THPT: each form counts its own grades only.
    #[test]
    fn secondary_forms_count_their_own_grades() {
        let thcs = by_id("tt24-2018/03-thcs-dn").unwrap();
        let thpt = by_id("tt24-2018/04-thpt-dn").unwrap();
        let mut facts = Facts::default();
        let s = school(&mut facts, &["THCS", "THPT"], "cong_lap");
        learner(
            &mut facts,
            s,
            "THCS",
            6,
            &[("age", Val::Int(11)), ("new_entrant", Val::Bool(true))],
        );
        learner(&mut facts, s, "THCS", 9, &[("age", Val::Int(15))]);
        learner(&mut facts, s, "THPT", 10, &[("age", Val::Int(15))]);
        let a = compute(&thcs, &facts);
        assert_eq!(a.cell("38", "total.all"), Some(2));
        assert_eq!(a.cell("51", "total.all"), Some(1), "11 in grade 6 is on age");
        assert_eq!(a.cell("50", "total.all"), Some(1), "over 14");
        assert_eq!(a.cell("55", "total.all"), Some(1));
        assert_eq!(
            a.cell("72", "total.all"),
            Some(2),
            "every THCS pupil studies Tin học"
        );
        let b = compute(&thpt, &facts);
        assert_eq!(b.cell("38", "total.all"), Some(1));
        assert_eq!(b.cell("49", "cl.all"), Some(1), "15 in grade 10 is on age");
        assert_eq!(b.cell("70", "total.all"), None, "Tin học is an elective at THPT");
    }

    /// A primary school's year: one pupil completes grade 5 and the level, one drops out for
    /// family hardship in January, one moves away, one arrives after the start of the year.
    #[test]
    fn end_of_year_form_counts_leavers_and_results() {
        let form = in_force(SchoolLevel::TH, Round::EndOfYear, day(2026, 5, 31)).unwrap();
        let mut facts = Facts::default();
        let s = school(&mut facts, &["TH"], "tu_thuc");
        learner(
            &mut facts,
            s,
            "TH",
            5,
            &[
                ("learning", Val::code("hoan_thanh_tot")),
                ("decision", Val::code("completed")),
                ("completed_level", Val::Bool(true)),
            ],
        );
        learner(
            &mut facts,
            s,
            "TH",
            2,
            &[
                ("on_roll", Val::Bool(false)),
                ("dropped_out", Val::Bool(true)),
                ("dropout_reason", Val::code("01")),
            ],
        );
        learner(
            &mut facts,
            s,
            "TH",
            3,
            &[
                ("on_roll", Val::Bool(false)),
                ("transferred_out", Val::Bool(true)),
            ],
        );
        learner(
            &mut facts,
            s,
            "TH",
            3,
            &[
                ("at_start", Val::Bool(false)),
                ("decision", Val::code("not_completed")),
            ],
        );
        let v = compute(&form, &facts);
        assert_eq!(v.cell("1", "total.all"), Some(3), "on the roll at the start");
        assert_eq!(v.cell("7", "total.all"), Some(2), "on the roll on 31/5");
        assert_eq!(v.cell("7", "tt.nu"), Some(2));
        assert_eq!(v.cell("10", "total.all"), Some(1), "grade 3 on 31/5");
        assert_eq!(v.cell("13", "total.all"), Some(1), "dropouts");
        assert_eq!(v.cell("15", "total.all"), Some(1), "a grade-2 dropout");
        assert_eq!(v.cell("19", "total.all"), Some(1), "family hardship");
        assert_eq!(v.cell("20", "total.all"), Some(0));
        assert_eq!(
            v.cell("29", "total.all"),
            Some(1),
            "transferred out, not a dropout"
        );
        assert_eq!(v.cell("36", "total.all"), Some(1));
        assert_eq!(v.cell("44", "total.all"), Some(1), "grade 5 completed");
        assert_eq!(v.cell("45", "total.all"), Some(1));
        assert_eq!(v.cell("48", "total.all"), Some(1), "grade 3 not completed");
        assert_eq!(v.cell("51", "total.all"), Some(1));
    }
}
