//! The facts statistics are computed from: one row per school, class, learner, staff member or
//! room as it stood on the reference date, each with named fields. The store builds them from
//! the records; forms, indicators and dynamic reports only filter and count them, so every
//! number can be traced back to the rows behind it.
//!
//! A fact may stand for several identical records (`weight`): a province is loaded grouped by
//! every field, a school one record per row with its id (for "why is this 37?").

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// What a fact describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    School,
    Class,
    Learner,
    Staff,
    Room,
}

impl Entity {
    pub const ALL: [Entity; 5] = [
        Entity::School,
        Entity::Class,
        Entity::Learner,
        Entity::Staff,
        Entity::Room,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::School => "school",
            Entity::Class => "class",
            Entity::Learner => "learner",
            Entity::Staff => "staff",
            Entity::Room => "room",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The fields a fact of this entity carries, in storage order. Facts of every entity but
    /// the school also answer the school's fields (ownership, region…), looked up through
    /// their school.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Entity::School => SCHOOL_FIELDS,
            Entity::Class => CLASS_FIELDS,
            Entity::Learner => LEARNER_FIELDS,
            Entity::Staff => STAFF_FIELDS,
            Entity::Room => ROOM_FIELDS,
        }
    }

    /// Position of a field among this entity's own fields.
    pub fn index_of(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Int,
    Bool,
    /// One code of a list (`"01"`, `"female"`, `"cong_lap"`).
    Code,
    /// A set of codes (policy categories); `= "08"` means "includes 08".
    Codes,
}

/// A named field of a fact. `label` is the message key `stats.field.<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Offered as a dimension in dynamic reports (a few distinct values).
    pub groupable: bool,
}

const fn f(name: &'static str, kind: Kind, groupable: bool) -> Field {
    Field {
        name,
        kind,
        groupable,
    }
}

pub const SCHOOL_FIELDS: &[Field] = &[
    // DM_LOAI_HINH code and the three column groups of the forms.
    f("ownership", Kind::Code, false),
    f("ownership_group", Kind::Code, true),
    // DM_VUNG, and the two bands the forms split schools by.
    f("region", Kind::Code, true),
    f("region_band", Kind::Code, true),
    // DM_KHU_VUC.
    f("area", Kind::Code, true),
    // Commune with especially difficult conditions (ĐBKK).
    f("difficult", Kind::Bool, true),
    f("school_type", Kind::Code, true),
    // National standard level: 0 (none), 1, 2.
    f("standard_level", Kind::Int, true),
    f("levels", Kind::Codes, false),
    f("classes", Kind::Int, false),
    f("sites", Kind::Int, false),
    f("learners", Kind::Int, false),
    f("disabled_learners", Kind::Int, false),
    f("computers", Kind::Int, false),
    f("two_sessions", Kind::Bool, false),
    f("grid_power", Kind::Bool, false),
    f("clean_water", Kind::Bool, false),
    f("toilets", Kind::Bool, false),
    f("handwashing_education", Kind::Bool, false),
    f("internet_for_teaching", Kind::Bool, false),
    f("computers_for_teaching", Kind::Bool, false),
    f("disability_accessible", Kind::Bool, false),
    f("counselling", Kind::Bool, false),
    f("commune", Kind::Code, false),
    // Preschools by the groups they run on the date (Điều lệ trường mầm non): `nha_tre` (only
    // nursery groups, grade 16), `mau_giao` (only kindergarten classes, grade 17), `mam_non`
    // (both); empty for other schools.
    f("preschool_kind", Kind::Code, true),
    f("nursery_groups", Kind::Int, false),
    f("kindergarten_classes", Kind::Int, false),
];

pub const CLASS_FIELDS: &[Field] = &[
    f("grade", Kind::Int, true),
    f("level", Kind::Code, true),
    f("multigrade", Kind::Bool, true),
    f("two_sessions", Kind::Bool, true),
    f("boarding", Kind::Bool, true),
    f("specialist", Kind::Bool, true),
    f("size", Kind::Int, false),
    f("disabled_learners", Kind::Int, false),
    // A preschool group's age band (DM_NHOM_TUOI_MN), the band most of its children are in on
    // the date (ties: the older): nursery `3_12m`, `13_24m`, `25_36m` by months; kindergarten
    // `3_4`, `4_5`, `5_6` by calendar age. `age_bands`: how many bands its children span.
    f("age_band", Kind::Code, true),
    f("age_bands", Kind::Int, false),
];

pub const LEARNER_FIELDS: &[Field] = &[
    f("grade", Kind::Int, true),
    f("level", Kind::Code, true),
    // Calendar years: reference year − birth year (statistics.md §1.5).
    f("age", Kind::Int, true),
    // Whole months on the reference date (preschool age groups).
    f("age_months", Kind::Int, false),
    f("birth_year", Kind::Int, false),
    f("sex", Kind::Code, true),
    f("ethnicity", Kind::Code, true),
    f("minority", Kind::Bool, true),
    f("disabled", Kind::Bool, true),
    // DM_LOAI_KHUYET_TAT.
    f("disability", Kind::Code, true),
    // DM_HOC_BAN_TRU code when the learner boards.
    f("boarding", Kind::Code, false),
    f("boards", Kind::Bool, true),
    f("two_sessions", Kind::Bool, true),
    f("multigrade", Kind::Bool, false),
    // DM_DIEN_CHINH_SACH codes.
    f("policy", Kind::Codes, false),
    f("policy_any", Kind::Bool, true),
    f("new_entrant", Kind::Bool, true),
    f("repeater", Kind::Bool, true),
    // Age equal to the official age of the grade (6 in grade 1 … 17 in grade 12).
    f("on_age", Kind::Bool, true),
    // On the roll on the reference date.
    f("on_roll", Kind::Bool, false),
    // On the roll at the start of the school year (denominator of dropout and repetition).
    f("at_start", Kind::Bool, false),
    // Left during the year up to the reference date: dropped out, transferred out.
    f("dropped_out", Kind::Bool, true),
    f("dropout_reason", Kind::Code, true),
    f("transferred_out", Kind::Bool, true),
    // Year results (end-of-year forms): TT 22 learning and conduct, decision, completion.
    f("learning", Kind::Code, true),
    f("conduct", Kind::Code, true),
    f("decision", Kind::Code, true),
    f("completed_level", Kind::Bool, true),
    // Nutrition from the latest check-up (preschool): normal, underweight, stunted, wasted,
    // overweight; unchecked learners have none.
    f("nutrition", Kind::Code, true),
    // Residence commune (universal-education counts).
    f("residence", Kind::Code, false),
];

pub const STAFF_FIELDS: &[Field] = &[
    // DM_NHOM_CAN_BO, DM_LOAI_CAN_BO, DM_HINH_THUC_HOP_DONG, DM_TRINH_DO_CHUYEN_MON.
    f("group", Kind::Code, true),
    f("position", Kind::Code, true),
    f("contract", Kind::Code, true),
    f("qualification", Kind::Code, true),
    // Trained to the legal standard of the school's level (Luật GD 2019 Art. 72).
    f("trained", Kind::Bool, true),
    f("sex", Kind::Code, true),
    f("ethnicity", Kind::Code, true),
    f("minority", Kind::Bool, true),
    f("age", Kind::Int, true),
    f("rating", Kind::Code, true),
    f("teacher", Kind::Bool, true),
    f("manager", Kind::Bool, true),
    f("level", Kind::Code, true),
    // A preschool teacher's stage: the grade of the group they are homeroom teacher of, else
    // their school's only stage (`nha_tre`, `mau_giao`); empty when neither tells.
    f("preschool_stage", Kind::Code, true),
];

pub const ROOM_FIELDS: &[Field] = &[
    f("kind", Kind::Code, true),
    f("quality", Kind::Code, true),
    f("level", Kind::Code, true),
];

/// One field's value. `Null` is "not recorded": it matches no condition but `= null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Val {
    Null,
    Int(i64),
    Bool(bool),
    Code(String),
    Codes(Vec<String>),
}

impl Val {
    pub fn code(s: impl Into<String>) -> Val {
        Val::Code(s.into())
    }

    pub fn opt_code(s: Option<impl Into<String>>) -> Val {
        s.map_or(Val::Null, |s| Val::Code(s.into()))
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The value as a group label in dynamic reports and CSV (codes as they are).
    pub fn key(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Int(i) => i.to_string(),
            Val::Bool(b) => if *b { "1" } else { "0" }.into(),
            Val::Code(c) => c.clone(),
            Val::Codes(cs) => cs.join(","),
        }
    }
}

/// One row (or `weight` identical rows) of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub entity: Entity,
    /// Index of the fact's school in [`Facts::schools`] (a school fact points at itself).
    pub school: usize,
    /// The record behind the fact; `None` for grouped facts.
    pub id: Option<Uuid>,
    pub weight: u64,
    /// Values in the order of `entity.fields()`.
    pub values: Vec<Val>,
}

impl Fact {
    /// A fact with every field null, to be filled with [`Fact::set`].
    pub fn new(entity: Entity, school: usize, id: Option<Uuid>) -> Fact {
        Fact {
            entity,
            school,
            id,
            weight: 1,
            values: vec![Val::Null; entity.fields().len()],
        }
    }

    /// Sets a field by name. Panics on a name the entity lacks: the loaders name fields from
    /// the constant lists above, so this is a programming error caught by their tests.
    pub fn set(&mut self, name: &str, v: Val) -> &mut Self {
        let i = self
            .entity
            .index_of(name)
            .unwrap_or_else(|| panic!("{} has no field {name}", self.entity));
        self.values[i] = v;
        self
    }

    pub fn get(&self, name: &str) -> Option<&Val> {
        self.entity.index_of(name).map(|i| &self.values[i])
    }
}

/// Everything a computation reads: the schools (one fact each, with the unit path that places
/// them in the tree) and the facts of their classes, learners, staff and rooms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub schools: Vec<SchoolRef>,
    pub facts: Vec<Fact>,
}

/// A school in a fact set: its id, name, tree path and its own fact (index into `facts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolRef {
    pub id: Uuid,
    pub name: String,
    pub path: String,
    pub fact: usize,
}

impl Facts {
    /// Adds a school and its school fact; returns the school's index for its other facts.
    pub fn add_school(&mut self, id: Uuid, name: String, path: String, mut fact: Fact) -> usize {
        let index = self.schools.len();
        fact.school = index;
        self.schools.push(SchoolRef {
            id,
            name,
            path,
            fact: self.facts.len(),
        });
        self.facts.push(fact);
        index
    }

    pub fn school_fact(&self, school: usize) -> &Fact {
        &self.facts[self.schools[school].fact]
    }

    /// The same facts with identical rows of a school merged into one weighted fact (ids
    /// dropped): what a province-wide computation keeps in memory. School facts stay one each.
    pub fn grouped(self) -> Facts {
        let mut index: std::collections::HashMap<(Entity, usize, Vec<Val>), usize> =
            std::collections::HashMap::new();
        let mut facts: Vec<Fact> = Vec::with_capacity(self.facts.len() / 4);
        let mut schools = self.schools;
        for mut f in self.facts {
            if f.entity == Entity::School {
                schools[f.school].fact = facts.len();
                facts.push(f);
                continue;
            }
            let key = (f.entity, f.school, std::mem::take(&mut f.values));
            match index.get(&key) {
                Some(&i) => facts[i].weight += f.weight,
                None => {
                    f.values = key.2.clone();
                    f.id = None;
                    index.insert(key, facts.len());
                    facts.push(f);
                }
            }
        }
        Facts { schools, facts }
    }

    /// Adds the facts of another set (another batch of schools), re-indexing its schools.
    pub fn extend(&mut self, other: Facts) {
        let school_offset = self.schools.len();
        let fact_offset = self.facts.len();
        self.schools.extend(other.schools.into_iter().map(|mut s| {
            s.fact += fact_offset;
            s
        }));
        self.facts.extend(other.facts.into_iter().map(|mut f| {
            f.school += school_offset;
            f
        }));
    }
}

/// The preschool forms' nutrition status from a BMI-for-age category (WHO): below −2 SD is
/// wasting (gầy còm), above the age's overweight cut-off is overweight or obesity (thừa cân,
/// béo phì). Underweight and stunting need weight-for-age and height-for-age references the
/// records do not use yet; the forms leave those rows blank.
pub fn nutrition_of(category: crate::health::BmiCategory) -> &'static str {
    use crate::health::BmiCategory as B;
    match category {
        B::SevereThinness | B::Thinness => "wasted",
        B::Normal => "normal",
        B::Overweight | B::Obesity => "overweight",
    }
}

/// The age band of a preschool child (see the class field `age_band`): index and code.
pub fn preschool_band(grade: i64, age_months: i64, age: i64) -> Option<(usize, &'static str)> {
    const NURSERY: [&str; 3] = ["3_12m", "13_24m", "25_36m"];
    const KINDERGARTEN: [&str; 3] = ["3_4", "4_5", "5_6"];
    let (i, names) = match grade {
        16 => (
            match age_months {
                ..=12 => 0,
                13..=24 => 1,
                _ => 2,
            },
            NURSERY,
        ),
        17 => (
            match age {
                ..=3 => 0,
                4 => 1,
                _ => 2,
            },
            KINDERGARTEN,
        ),
        _ => return None,
    };
    Some((i, names[i]))
}

/// Official age of a general-education grade: 6 in grade 1 … 17 in grade 12.
pub fn official_age(grade: i64) -> Option<i64> {
    (1..=12).contains(&grade).then_some(grade + 5)
}

/// Whether a qualification (DM_TRINH_DO_CHUYEN_MON) meets the legal training standard of a
/// teacher of the level (Luật Giáo dục 2019 Art. 72; wording UNCERTAIN, statistics.md §2.4):
/// pedagogical college for preschool, a bachelor's degree (or a bachelor's with a pedagogy
/// certificate) for primary and secondary. Postgraduate degrees meet every standard.
pub fn trained_for(level: &str, qualification: &str) -> bool {
    let university = matches!(qualification, "01" | "02" | "03" | "13");
    match level {
        "MN" => university || matches!(qualification, "04" | "14"),
        _ => university,
    }
}

/// The three column groups of the forms by ownership (DM_LOAI_HINH): public, community-founded
/// (preschool only), private. "Ngoài công lập" (02) is counted with private.
pub fn ownership_group(code: &str) -> &'static str {
    match code {
        "01" => "cong_lap",
        "03" => "dan_lap",
        _ => "tu_thuc",
    }
}

/// The forms' two region bands: midland, delta and city (DM_VUNG 01–03) versus mountain,
/// island and remote (04–06).
pub fn region_band(region: &str) -> &'static str {
    match region {
        "04" | "05" | "06" => "mountain",
        _ => "delta",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preschool_age_bands() {
        use super::preschool_band as band;
        assert_eq!(band(16, 12, 1), Some((0, "3_12m")));
        assert_eq!(band(16, 13, 1), Some((1, "13_24m")));
        assert_eq!(band(16, 24, 2), Some((1, "13_24m")));
        assert_eq!(band(16, 25, 2), Some((2, "25_36m")));
        assert_eq!(
            band(16, 40, 3),
            Some((2, "25_36m")),
            "an older child in a nursery group"
        );
        assert_eq!(band(17, 40, 3), Some((0, "3_4")));
        assert_eq!(band(17, 50, 4), Some((1, "4_5")));
        assert_eq!(band(17, 62, 5), Some((2, "5_6")));
        assert_eq!(band(17, 75, 6), Some((2, "5_6")), "past 6 stays in the 5–6 band");
        assert_eq!(band(1, 75, 6), None);
    }

    #[test]
    fn nutrition_from_bmi_for_age() {
        use crate::health::{BmiCategory as B, classify_bmi_z};
        // Under five: overweight above +2 SD; wasting below −2 SD.
        assert_eq!(super::nutrition_of(classify_bmi_z(-2.01, 40).unwrap()), "wasted");
        assert_eq!(super::nutrition_of(classify_bmi_z(-3.5, 40).unwrap()), "wasted");
        assert_eq!(super::nutrition_of(classify_bmi_z(1.5, 40).unwrap()), "normal");
        assert_eq!(
            super::nutrition_of(classify_bmi_z(2.01, 40).unwrap()),
            "overweight"
        );
        assert_eq!(super::nutrition_of(B::Obesity), "overweight");
    }

    #[test]
    fn field_names_are_unique_per_entity() {
        for e in Entity::ALL {
            let names: Vec<_> = e.fields().iter().map(|f| f.name).collect();
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{e}");
        }
    }

    #[test]
    fn official_ages_and_bands() {
        assert_eq!(official_age(1), Some(6));
        assert_eq!(official_age(9), Some(14));
        assert_eq!(official_age(12), Some(17));
        assert_eq!(official_age(16), None);
        assert_eq!(ownership_group("01"), "cong_lap");
        assert_eq!(ownership_group("03"), "dan_lap");
        assert_eq!(ownership_group("09"), "tu_thuc");
        assert_eq!(ownership_group("02"), "tu_thuc");
        assert_eq!(region_band("02"), "delta");
        assert_eq!(region_band("05"), "mountain");
    }

    #[test]
    fn training_standard_by_level() {
        assert!(trained_for("MN", "04"));
        assert!(!trained_for("TH", "04"));
        assert!(trained_for("TH", "13"));
        assert!(trained_for("THPT", "02"));
        assert!(!trained_for("THCS", "05"));
        assert!(!trained_for("MN", "06"));
    }

    #[test]
    fn grouping_merges_identical_rows_and_keeps_schools() {
        let mut a = Facts::default();
        let s = a.add_school(
            Uuid::nil(),
            "A".into(),
            "a".into(),
            Fact::new(Entity::School, 0, None),
        );
        for grade in [1, 1, 2, 1] {
            let mut f = Fact::new(Entity::Learner, s, Some(Uuid::now_v7()));
            f.set("grade", Val::Int(grade));
            a.facts.push(f);
        }
        let g = a.grouped();
        assert_eq!(g.facts.len(), 3);
        assert_eq!(g.school_fact(0).entity, Entity::School);
        let ones = g
            .facts
            .iter()
            .find(|f| f.get("grade") == Some(&Val::Int(1)))
            .unwrap();
        assert_eq!((ones.weight, ones.id), (3, None));
    }

    #[test]
    fn facts_extend_reindexes_schools() {
        let mut a = Facts::default();
        let s = a.add_school(
            Uuid::nil(),
            "A".into(),
            "a".into(),
            Fact::new(Entity::School, 0, None),
        );
        a.facts.push(Fact::new(Entity::Learner, s, None));
        let mut b = Facts::default();
        let t = b.add_school(
            Uuid::max(),
            "B".into(),
            "b".into(),
            Fact::new(Entity::School, 0, None),
        );
        b.facts.push(Fact::new(Entity::Learner, t, None));
        a.extend(b);
        assert_eq!(a.schools[1].fact, 2);
        assert_eq!(a.facts[3].school, 1);
        assert_eq!(a.school_fact(1).school, 1);
    }
}
