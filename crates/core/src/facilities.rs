//! School facilities (cơ sở vật chất) as the statistics forms count them: rooms by kind and
//! build quality (kiên cố / bán kiên cố / tạm, the three columns of section V of the forms),
//! teaching equipment and its condition against the minimum lists, learners per computer, and
//! the yes/no facts the forms and the sector database ask of every school (statistics.md §1.2,
//! §4.3). Pure: the store loads the facts, this decides.

use crate::error::FieldError;
use crate::health::coded_enum;
use crate::i18n::{self, Locale};
use crate::org::SchoolLevel;
use crate::{DomainError, text};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

coded_enum!(
    /// Kind of room or building.
    RoomKind,
    "facilities.room",
    {
        /// Phòng học.
        Classroom => "classroom",
        /// Phòng học bộ môn, phòng thí nghiệm.
        SubjectRoom => "subject_room",
        Library => "library",
        /// Phòng tin học.
        ComputerRoom => "computer_room",
        /// Nhà đa năng.
        MultiPurposeHall => "multi_purpose_hall",
        /// Nhà công vụ giáo viên.
        StaffHousing => "staff_housing",
        /// Khu vệ sinh.
        ToiletBlock => "toilet_block",
        Other => "other",
    }
);

coded_enum!(
    /// Build quality, the three classes of the forms.
    BuildQuality,
    "facilities.build",
    {
        /// Kiên cố.
        Solid => "solid",
        /// Bán kiên cố.
        SemiSolid => "semi_solid",
        /// Tạm.
        Temporary => "temporary",
    }
);

coded_enum!(
    /// Condition of a piece of equipment.
    EquipmentCondition,
    "facilities.condition",
    {
        Good => "good",
        /// Còn sử dụng được.
        Usable => "usable",
        Broken => "broken",
    }
);

impl EquipmentCondition {
    /// Counts towards the minimum list.
    pub fn is_available(self) -> bool {
        !matches!(self, EquipmentCondition::Broken)
    }
}

/// A row of section V: total and split by build quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RoomCount {
    pub total: u32,
    pub solid: u32,
    pub semi_solid: u32,
    pub temporary: u32,
}

/// Rooms counted by kind, with the form's build-quality columns.
pub fn count_rooms(rooms: &[(RoomKind, BuildQuality)]) -> BTreeMap<RoomKind, RoomCount> {
    let mut out: BTreeMap<RoomKind, RoomCount> = BTreeMap::new();
    for &(kind, quality) in rooms {
        let c = out.entry(kind).or_default();
        c.total += 1;
        match quality {
            BuildQuality::Solid => c.solid += 1,
            BuildQuality::SemiSolid => c.semi_solid += 1,
            BuildQuality::Temporary => c.temporary += 1,
        }
    }
    out
}

coded_enum!(
    /// Whether a minimum quantity is per class of the grade or once per school.
    Per,
    "facilities.per",
    {
        Class => "class",
        School => "school",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinimumItem {
    pub code: String,
    pub name: String,
    pub quantity: u32,
    pub per: Per,
}

/// The minimum teaching equipment of one grade. The lists are data (the annexes of the
/// circulars), read from TOML; see `data/minimum_equipment_sample.toml` for the format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinimumList {
    pub grade: u8,
    pub items: Vec<MinimumItem>,
}

/// What is wrong in a minimum-list file, precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinimumListError {
    /// Not valid TOML; line and column are 1-based.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A value at `path` (e.g. `grade[1].item[0].per_class`) is missing or invalid.
    Field {
        path: String,
        error: DomainError,
    },
    DuplicateGrade {
        grade: u8,
    },
    DuplicateCode {
        grade: u8,
        code: String,
    },
    /// An item gives both `per_class` and `per_school`.
    AmbiguousQuantity {
        path: String,
    },
}

impl MinimumListError {
    /// Stable code, also the message key `facilities.list_error.<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            MinimumListError::Syntax { .. } => "syntax",
            MinimumListError::Field { .. } => "field",
            MinimumListError::DuplicateGrade { .. } => "duplicate_grade",
            MinimumListError::DuplicateCode { .. } => "duplicate_code",
            MinimumListError::AmbiguousQuantity { .. } => "ambiguous_quantity",
        }
    }

    pub fn message(&self, locale: Locale) -> String {
        let key = format!("facilities.list_error.{}", self.code());
        let params = match self {
            MinimumListError::Syntax {
                line,
                column,
                message,
            } => vec![
                ("line", line.to_string()),
                ("column", column.to_string()),
                ("message", message.clone()),
            ],
            MinimumListError::Field { path, error } => {
                vec![
                    ("path", path.clone()),
                    ("message", i18n::error_message(locale, error)),
                ]
            }
            MinimumListError::DuplicateGrade { grade } => vec![("grade", grade.to_string())],
            MinimumListError::DuplicateCode { grade, code } => {
                vec![("grade", grade.to_string()), ("code", code.clone())]
            }
            MinimumListError::AmbiguousQuantity { path } => vec![("path", path.clone())],
        };
        i18n::tf(locale, &key, &params)
    }
}

impl MinimumList {
    pub const CODE_MAX: usize = 40;
    pub const NAME_MAX: usize = 200;
    pub const QUANTITY_MAX: u32 = 10_000;

    /// Parses every grade of a list file. Unknown keys are errors (a typo such as `per_clas`
    /// must not silently drop a requirement).
    pub fn parse_toml(src: &str) -> Result<Vec<MinimumList>, MinimumListError> {
        let table: toml::Table = src.parse().map_err(|e: toml::de::Error| {
            let at = e.span().map_or(0, |s| s.start).min(src.len());
            let before = &src[..at];
            MinimumListError::Syntax {
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
                message: e.message().to_string(),
            }
        })?;
        let field = |path: String, error| MinimumListError::Field { path, error };
        only_keys(&table, &["grade"], "")?;
        let grades = match table.get("grade") {
            None => return Ok(vec![]),
            Some(toml::Value::Array(a)) => a,
            Some(_) => return Err(field("grade".into(), DomainError::InvalidCharacters)),
        };
        let no_items = vec![];
        let mut out: Vec<MinimumList> = vec![];
        for (gi, g) in grades.iter().enumerate() {
            let gpath = format!("grade[{gi}]");
            let g = g
                .as_table()
                .ok_or_else(|| field(gpath.clone(), DomainError::InvalidCharacters))?;
            only_keys(g, &["grade", "item"], &gpath)?;
            let grade = integer(g, "grade", &gpath, 1, 12)?
                .ok_or_else(|| field(format!("{gpath}.grade"), DomainError::Required))?
                as u8;
            if out.iter().any(|l| l.grade == grade) {
                return Err(MinimumListError::DuplicateGrade { grade });
            }
            let items = match g.get("item") {
                None => &no_items,
                Some(toml::Value::Array(a)) => a,
                Some(_) => return Err(field(format!("{gpath}.item"), DomainError::InvalidCharacters)),
            };
            let mut list = MinimumList { grade, items: vec![] };
            for (ii, item) in items.iter().enumerate() {
                let ipath = format!("{gpath}.item[{ii}]");
                let item = item
                    .as_table()
                    .ok_or_else(|| field(ipath.clone(), DomainError::InvalidCharacters))?;
                only_keys(item, &["code", "name", "per_class", "per_school"], &ipath)?;
                let code = parse_item_code(string(item, "code", &ipath)?)
                    .map_err(|e| field(format!("{ipath}.code"), e))?;
                let name = text::parse_name(string(item, "name", &ipath)?, Self::NAME_MAX)
                    .map_err(|e| field(format!("{ipath}.name"), e))?;
                let per_class = integer(item, "per_class", &ipath, 1, Self::QUANTITY_MAX as i64)?;
                let per_school = integer(item, "per_school", &ipath, 1, Self::QUANTITY_MAX as i64)?;
                let (quantity, per) = match (per_class, per_school) {
                    (Some(q), None) => (q as u32, Per::Class),
                    (None, Some(q)) => (q as u32, Per::School),
                    (None, None) => return Err(field(format!("{ipath}.per_class"), DomainError::Required)),
                    (Some(_), Some(_)) => return Err(MinimumListError::AmbiguousQuantity { path: ipath }),
                };
                if list.items.iter().any(|i| i.code == code) {
                    return Err(MinimumListError::DuplicateCode { grade, code });
                }
                list.items.push(MinimumItem {
                    code,
                    name,
                    quantity,
                    per,
                });
            }
            out.push(list);
        }
        Ok(out)
    }

    /// The sample list shipped in `data/` (UNCERTAIN placeholder, not the official annex).
    pub fn sample() -> Vec<MinimumList> {
        Self::parse_toml(include_str!("../data/minimum_equipment_sample.toml"))
            .expect("the shipped sample list parses")
    }
}

fn only_keys(t: &toml::Table, allowed: &[&str], path: &str) -> Result<(), MinimumListError> {
    match t.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(MinimumListError::Field {
            path: if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            },
            error: DomainError::UnknownCode,
        }),
    }
}

fn string<'a>(t: &'a toml::Table, key: &str, path: &str) -> Result<&'a str, MinimumListError> {
    match t.get(key) {
        Some(toml::Value::String(s)) => Ok(s),
        other => Err(MinimumListError::Field {
            path: format!("{path}.{key}"),
            error: if other.is_none() {
                DomainError::Required
            } else {
                DomainError::InvalidCharacters
            },
        }),
    }
}

fn integer(
    t: &toml::Table,
    key: &str,
    path: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, MinimumListError> {
    let err = |error| MinimumListError::Field {
        path: format!("{path}.{key}"),
        error,
    };
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Integer(n)) if (min..=max).contains(n) => Ok(Some(*n)),
        Some(toml::Value::Integer(_)) => Err(err(DomainError::OutOfRange { min, max })),
        Some(_) => Err(err(DomainError::InvalidNumber)),
    }
}

/// Equipment codes: 1–40 ASCII letters, digits, `-`, `_` or `.`, as in the annexes.
pub fn parse_item_code(input: &str) -> Result<String, DomainError> {
    let t = input.trim();
    if t.is_empty() {
        return Err(DomainError::Required);
    }
    if t.len() > MinimumList::CODE_MAX {
        return Err(DomainError::TooLong {
            max: MinimumList::CODE_MAX,
        });
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(DomainError::InvalidCharacters);
    }
    Ok(t.to_string())
}

/// One inventory line: so many units of an item in one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentRecord {
    pub code: String,
    pub condition: EquipmentCondition,
    pub quantity: u32,
}

/// Units per item code that count towards the minimum (good or usable; broken ones do not).
pub fn usable_inventory(records: &[EquipmentRecord]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for r in records.iter().filter(|r| r.condition.is_available()) {
        *out.entry(r.code.clone()).or_insert(0) += r.quantity;
    }
    out
}

/// An item the school has fewer of than the minimum for its classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    pub code: String,
    pub name: String,
    /// The grades whose lists require the item.
    pub grades: Vec<u8>,
    pub required: u32,
    pub available: u32,
    pub missing: u32,
}

/// Compares an inventory (code → units in good or usable condition) with the minimum lists
/// for the school's classes (grade → number of classes; repeated grades add up). Grades
/// without classes require nothing. An item listed under several grades is one item: its
/// per-class quantities add up over the grades' classes, and its per-school quantity is the
/// largest any of those grades asks (one school-wide set serves them all). Sorted by code.
pub fn shortfalls(
    lists: &[MinimumList],
    classes_per_grade: &[(u8, u32)],
    inventory: &BTreeMap<String, u32>,
) -> Vec<Shortfall> {
    let classes = |grade: u8| -> u32 {
        classes_per_grade
            .iter()
            .filter(|(g, _)| *g == grade)
            .map(|(_, n)| n)
            .sum()
    };
    // code → (name, grades, per-class total, per-school max)
    let mut need: BTreeMap<&str, (&str, BTreeSet<u8>, u32, u32)> = BTreeMap::new();
    for list in lists {
        let n = classes(list.grade);
        if n == 0 {
            continue;
        }
        for item in &list.items {
            let e = need
                .entry(item.code.as_str())
                .or_insert((item.name.as_str(), BTreeSet::new(), 0, 0));
            e.1.insert(list.grade);
            match item.per {
                Per::Class => e.2 = e.2.saturating_add(item.quantity.saturating_mul(n)),
                Per::School => e.3 = e.3.max(item.quantity),
            }
        }
    }
    need.into_iter()
        .filter_map(|(code, (name, grades, per_class, per_school))| {
            let required = per_class.saturating_add(per_school);
            let available = inventory.get(code).copied().unwrap_or(0);
            (available < required).then(|| Shortfall {
                code: code.to_string(),
                name: name.to_string(),
                grades: grades.into_iter().collect(),
                required,
                available,
                missing: required - available,
            })
        })
        .collect()
}

/// An exact ratio reported in tenths (rounded half-up), with its numerator and denominator so
/// reports can publish both (statistics.md §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: u32,
    pub denominator: u32,
    pub tenths: u32,
}

impl Ratio {
    /// `None` when the denominator is 0.
    pub fn new(numerator: u32, denominator: u32) -> Option<Ratio> {
        if denominator == 0 {
            return None;
        }
        let (n, d) = (numerator as u64, denominator as u64);
        Some(Ratio {
            numerator,
            denominator,
            tenths: ((20 * n + d) / (2 * d)).min(u32::MAX as u64) as u32,
        })
    }
}

/// Learners per computer used for teaching, `None` when there is no computer. Apply it per
/// school level: a multi-level school reports each level apart.
pub fn learners_per_computer(learners: u32, computers: u32) -> Option<Ratio> {
    Ratio::new(learners, computers)
}

/// [`learners_per_computer`] for each level, from (level, learners, computers) rows; rows of
/// the same level add up. Sorted by level.
pub fn learners_per_computer_by_level(rows: &[(SchoolLevel, u32, u32)]) -> Vec<(SchoolLevel, Option<Ratio>)> {
    let mut sums: BTreeMap<SchoolLevel, (u32, u32)> = BTreeMap::new();
    for &(level, learners, computers) in rows {
        let e = sums.entry(level).or_default();
        e.0 += learners;
        e.1 += computers;
    }
    sums.into_iter()
        .map(|(level, (l, c))| (level, learners_per_computer(l, c)))
        .collect()
}

coded_enum!(
    /// A yes/no fact the statistics forms and the sector database ask of every school.
    SchoolFact,
    "facilities.fact",
    {
        GridPower => "grid_power",
        CleanWater => "clean_water",
        Toilets => "toilets",
        HandwashingEducation => "handwashing_education",
        InternetForTeaching => "internet_for_teaching",
        ComputersForTeaching => "computers_for_teaching",
        DisabilityAccessible => "disability_accessible",
        Counselling => "counselling",
    }
);

impl SchoolFact {
    /// The field of the sector database's school object (TruongHocInfo, statistics.md §4.3).
    /// On the TT 24/2018 primary form (Biểu 02) these are rows 18, 19, 20, 21, 17, 16, 23, 24.
    pub fn csdl_field(self) -> &'static str {
        match self {
            SchoolFact::GridPower => "DienLuoi",
            SchoolFact::CleanWater => "NguonNuocSach",
            SchoolFact::Toilets => "CongTrinhVeSinh",
            SchoolFact::HandwashingEducation => "CtGdvsDoiTay",
            SchoolFact::InternetForTeaching => "KhaiThacInternetDayHoc",
            SchoolFact::ComputersForTeaching => "SuDungMayTinhDayHoc",
            SchoolFact::DisabilityAccessible => "CoHaTangTlhtPhuHopHskt",
            SchoolFact::Counselling => "CongTacTuVanHocDuong",
        }
    }
}

/// The yes/no facts of one school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SchoolFacts {
    pub grid_power: bool,
    pub clean_water: bool,
    pub toilets: bool,
    pub handwashing_education: bool,
    pub internet_for_teaching: bool,
    pub computers_for_teaching: bool,
    pub disability_accessible: bool,
    pub counselling: bool,
}

impl SchoolFacts {
    fn slot(&mut self, fact: SchoolFact) -> &mut bool {
        match fact {
            SchoolFact::GridPower => &mut self.grid_power,
            SchoolFact::CleanWater => &mut self.clean_water,
            SchoolFact::Toilets => &mut self.toilets,
            SchoolFact::HandwashingEducation => &mut self.handwashing_education,
            SchoolFact::InternetForTeaching => &mut self.internet_for_teaching,
            SchoolFact::ComputersForTeaching => &mut self.computers_for_teaching,
            SchoolFact::DisabilityAccessible => &mut self.disability_accessible,
            SchoolFact::Counselling => &mut self.counselling,
        }
    }

    pub fn get(&self, fact: SchoolFact) -> bool {
        let mut copy = *self;
        *copy.slot(fact)
    }

    pub fn set(&mut self, fact: SchoolFact, value: bool) {
        *self.slot(fact) = value;
    }

    /// The facts that hold, in list order.
    pub fn yes(&self) -> Vec<SchoolFact> {
        SchoolFact::ALL.iter().copied().filter(|f| self.get(*f)).collect()
    }

    /// From form fields or an import row keyed by the facts' codes. A fact absent (an unticked
    /// checkbox) is `false`; a present value must be a yes/no word ([`parse_bool`]), and an error
    /// names the fact's code as the field. Other keys are ignored.
    pub fn parse(pairs: &[(&str, &str)]) -> Result<SchoolFacts, FieldError> {
        let mut out = SchoolFacts::default();
        for &fact in SchoolFact::ALL {
            if let Some((_, value)) = pairs.iter().rev().find(|(k, _)| *k == fact.code()) {
                let v = parse_bool(value).map_err(|e| FieldError::new(fact.code(), e))?;
                out.set(fact, v);
            }
        }
        Ok(out)
    }
}

/// A yes/no answer as typed in forms and spreadsheets: `có`/`không` (with or without
/// diacritics), `x` (a ticked cell), `yes`/`no`, `1`/`0`, `true`/`false`, `on` (an HTML
/// checkbox). An empty answer is `required`, anything else `unknown_code`.
pub fn parse_bool(input: &str) -> Result<bool, DomainError> {
    match text::fold(input).as_str() {
        "" => Err(DomainError::Required),
        "co" | "x" | "yes" | "y" | "1" | "true" | "on" => Ok(true),
        "khong" | "no" | "n" | "0" | "false" | "off" => Ok(false),
        _ => Err(DomainError::UnknownCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DomainError::*;

    #[test]
    fn code_lists_with_labels() {
        assert_eq!(
            RoomKind::parse("Nhà công vụ giáo viên"),
            Ok(RoomKind::StaffHousing)
        );
        assert_eq!(RoomKind::parse("computer_room"), Ok(RoomKind::ComputerRoom));
        assert_eq!(RoomKind::parse("phong tin hoc"), Ok(RoomKind::ComputerRoom));
        assert_eq!(BuildQuality::parse("Kiên cố"), Ok(BuildQuality::Solid));
        assert_eq!(BuildQuality::parse("ban kien co"), Ok(BuildQuality::SemiSolid));
        assert_eq!(BuildQuality::parse("Tạm"), Ok(BuildQuality::Temporary));
        assert_eq!(BuildQuality::parse("tốt"), Err(UnknownCode));
        assert_eq!(EquipmentCondition::parse("Hỏng"), Ok(EquipmentCondition::Broken));
        assert_eq!(
            EquipmentCondition::parse("còn sử dụng được"),
            Ok(EquipmentCondition::Usable)
        );
        assert!(EquipmentCondition::Usable.is_available());
        assert!(!EquipmentCondition::Broken.is_available());
        assert_eq!(RoomKind::ALL.len(), 8);
        assert_eq!(SchoolFact::ALL.len(), 8);
        let keys: Vec<&str> = [
            RoomKind::ALL.iter().map(|c| c.label_key()).collect::<Vec<_>>(),
            BuildQuality::ALL.iter().map(|c| c.label_key()).collect(),
            EquipmentCondition::ALL.iter().map(|c| c.label_key()).collect(),
            Per::ALL.iter().map(|c| c.label_key()).collect(),
            SchoolFact::ALL.iter().map(|c| c.label_key()).collect(),
        ]
        .concat();
        for key in keys {
            for locale in [Locale::Vi, Locale::En] {
                assert!(i18n::keys(locale).contains(&key), "{key} missing in {locale:?}");
            }
        }
        assert_eq!(
            i18n::t(Locale::Vi, BuildQuality::SemiSolid.label_key()),
            "Bán kiên cố"
        );
    }

    #[test]
    fn rooms_counted_by_kind_and_build_quality() {
        use BuildQuality::*;
        use RoomKind::*;
        let rooms = [
            (Classroom, Solid),
            (Classroom, Solid),
            (Classroom, SemiSolid),
            (Classroom, Temporary),
            (Library, Solid),
        ];
        let counts = count_rooms(&rooms);
        assert_eq!(
            counts[&Classroom],
            RoomCount {
                total: 4,
                solid: 2,
                semi_solid: 1,
                temporary: 1
            }
        );
        assert_eq!(counts[&Library].total, 1);
        assert!(!counts.contains_key(&ComputerRoom));
    }

    #[test]
    fn the_sample_list_parses() {
        let lists = MinimumList::sample();
        assert_eq!(lists.iter().map(|l| l.grade).collect::<Vec<_>>(), vec![1, 6]);
        let g6 = &lists[1];
        assert_eq!(g6.items.len(), 3);
        assert_eq!(
            g6.items[0],
            MinimumItem {
                code: "THCS6-KHTN-01".into(),
                name: "Kính lúp cầm tay".into(),
                quantity: 10,
                per: Per::Class
            }
        );
        assert_eq!(g6.items[2].per, Per::School);
        assert_eq!(MinimumList::parse_toml("").unwrap(), vec![]);
    }

    fn err(src: &str) -> MinimumListError {
        MinimumList::parse_toml(src).unwrap_err()
    }

    #[test]
    fn list_errors_are_precise() {
        let field = |path: &str, error| MinimumListError::Field {
            path: path.into(),
            error,
        };
        let item = |body: &str| format!("[[grade]]\ngrade = 6\n[[grade.item]]\n{body}\n");
        assert_eq!(
            err("[[grade]]\ngrade = 6\n[[grade.item]]\ncode = \"A\"\nname = \"B\nper_class = 1\n"),
            MinimumListError::Syntax {
                line: 5,
                column: 10,
                message: "invalid basic string".into()
            }
        );
        assert_eq!(err("[[grade]]\n"), field("grade[0].grade", Required));
        assert_eq!(
            err("[[grade]]\ngrade = 13\n"),
            field("grade[0].grade", OutOfRange { min: 1, max: 12 })
        );
        assert_eq!(
            err("[[grade]]\ngrade = \"6\"\n"),
            field("grade[0].grade", InvalidNumber)
        );
        assert_eq!(
            err("[[grade]]\ngrade = 6\nlevel = 2\n"),
            field("grade[0].level", UnknownCode)
        );
        assert_eq!(err("grades = []\n"), field("grades", UnknownCode));
        assert_eq!(
            err("[[grade]]\ngrade = 6\n[[grade]]\ngrade = 6\n"),
            MinimumListError::DuplicateGrade { grade: 6 }
        );
        assert_eq!(
            err(&item("name = \"X\"\nper_class = 1")),
            field("grade[0].item[0].code", Required)
        );
        assert_eq!(
            err(&item("code = \"A B\"\nname = \"X\"\nper_class = 1")),
            field("grade[0].item[0].code", InvalidCharacters)
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"  \"\nper_class = 1")),
            field("grade[0].item[0].name", Required)
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"X\"")),
            field("grade[0].item[0].per_class", Required)
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"X\"\nper_class = 0")),
            field("grade[0].item[0].per_class", OutOfRange { min: 1, max: 10_000 })
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"X\"\nper_class = 1.5")),
            field("grade[0].item[0].per_class", InvalidNumber)
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"X\"\nper_clas = 1")),
            field("grade[0].item[0].per_clas", UnknownCode)
        );
        assert_eq!(
            err(&item("code = \"A\"\nname = \"X\"\nper_class = 1\nper_school = 1")),
            MinimumListError::AmbiguousQuantity {
                path: "grade[0].item[0]".into()
            }
        );
        let dup = item(
            "code = \"A\"\nname = \"X\"\nper_class = 1\n[[grade.item]]\ncode = \"A\"\nname = \"Y\"\nper_school = 1",
        );
        assert_eq!(
            err(&dup),
            MinimumListError::DuplicateCode {
                grade: 6,
                code: "A".into()
            }
        );
    }

    #[test]
    fn list_error_messages() {
        let e = MinimumListError::Field {
            path: "grade[0].grade".into(),
            error: OutOfRange { min: 1, max: 12 },
        };
        assert_eq!(
            e.message(Locale::Vi),
            "Mục «grade[0].grade»: Giá trị phải nằm trong khoảng 1 đến 12."
        );
        assert_eq!(
            MinimumListError::DuplicateCode {
                grade: 6,
                code: "A".into()
            }
            .message(Locale::En),
            "Equipment code «A» appears twice in grade 6."
        );
        let syntax = err("[[grade]\n");
        assert_eq!(syntax.code(), "syntax");
        assert!(
            syntax.message(Locale::En).starts_with("Syntax error at line 1"),
            "{syntax:?}"
        );
    }

    fn list(grade: u8, items: &[(&str, u32, Per)]) -> MinimumList {
        MinimumList {
            grade,
            items: items
                .iter()
                .map(|&(code, quantity, per)| MinimumItem {
                    code: code.into(),
                    name: format!("Thiết bị {code}"),
                    quantity,
                    per,
                })
                .collect(),
        }
    }

    #[test]
    fn usable_inventory_ignores_broken_units() {
        let rec = |code: &str, condition, quantity| EquipmentRecord {
            code: code.into(),
            condition,
            quantity,
        };
        let inv = usable_inventory(&[
            rec("KL", EquipmentCondition::Good, 20),
            rec("KL", EquipmentCondition::Usable, 5),
            rec("KL", EquipmentCondition::Broken, 7),
            rec("MT", EquipmentCondition::Broken, 3),
        ]);
        assert_eq!(inv.get("KL"), Some(&25));
        assert_eq!(inv.get("MT"), None);
    }

    /// A school with four grade-6 classes and three grade-7 classes. Magnifiers: 10 per class
    /// in grade 6 and 5 per class in grade 7 → 4·10 + 3·5 = 55 needed, 25 usable → 30 missing.
    /// Computers: 20 per school for grade 6 and 24 for grade 7 → one school-wide set of 24;
    /// 24 usable → no shortfall. Rulers: 2 per grade-6 class → 8, none → 8 missing. Grade 8
    /// items: the school has no grade-8 class → nothing required.
    #[test]
    fn shortfalls_against_the_minimum() {
        let lists = [
            list(
                6,
                &[
                    ("KL", 10, Per::Class),
                    ("MT", 20, Per::School),
                    ("TH", 2, Per::Class),
                ],
            ),
            list(7, &[("KL", 5, Per::Class), ("MT", 24, Per::School)]),
            list(8, &[("X8", 1, Per::School)]),
        ];
        let inventory = BTreeMap::from([("KL".to_string(), 25), ("MT".to_string(), 24)]);
        let s = shortfalls(&lists, &[(6, 4), (7, 3)], &inventory);
        assert_eq!(
            s,
            vec![
                Shortfall {
                    code: "KL".into(),
                    name: "Thiết bị KL".into(),
                    grades: vec![6, 7],
                    required: 55,
                    available: 25,
                    missing: 30
                },
                Shortfall {
                    code: "TH".into(),
                    name: "Thiết bị TH".into(),
                    grades: vec![6],
                    required: 8,
                    available: 0,
                    missing: 8
                },
            ]
        );
        // One computer fewer shows up; classes of a grade given twice add up.
        let inventory = BTreeMap::from([
            ("KL".to_string(), 55),
            ("MT".to_string(), 23),
            ("TH".to_string(), 8),
        ]);
        let s = shortfalls(&lists, &[(6, 2), (6, 2), (7, 3)], &inventory);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].code.as_str(), s[0].required, s[0].missing), ("MT", 24, 1));
        assert!(shortfalls(&lists, &[], &BTreeMap::new()).is_empty());
    }

    #[test]
    fn learners_per_computer_in_tenths() {
        // 450 / 36 = 12.5 exactly: half-up → 12.5 (125 tenths).
        assert_eq!(
            learners_per_computer(450, 36),
            Some(Ratio {
                numerator: 450,
                denominator: 36,
                tenths: 125
            })
        );
        // 100 / 3 = 33.33… → 33.3; 200 / 3 = 66.66… → 66.7.
        assert_eq!(learners_per_computer(100, 3).unwrap().tenths, 333);
        assert_eq!(learners_per_computer(200, 3).unwrap().tenths, 667);
        // 1 / 20 = 0.05 → 0.1 (half-up at the tenths); 1 / 21 = 0.047… → 0.0.
        assert_eq!(learners_per_computer(1, 20).unwrap().tenths, 1);
        assert_eq!(learners_per_computer(1, 21).unwrap().tenths, 0);
        assert_eq!(learners_per_computer(0, 5).unwrap().tenths, 0);
        assert_eq!(learners_per_computer(450, 0), None);
        assert_eq!(
            learners_per_computer(u32::MAX, 1).unwrap().tenths,
            u32::MAX,
            "saturates"
        );
    }

    #[test]
    fn learners_per_computer_for_each_level() {
        let r = learners_per_computer_by_level(&[
            (SchoolLevel::THCS, 600, 40),
            (SchoolLevel::TH, 300, 0),
            (SchoolLevel::THCS, 30, 2),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], (SchoolLevel::TH, None));
        assert_eq!(r[1].0, SchoolLevel::THCS);
        assert_eq!(r[1].1.unwrap().tenths, 150, "630 / 42 = 15.0");
    }

    #[test]
    fn yes_no_words() {
        for yes in ["có", "Có", "CO", "x", "X", "yes", "1", "true", "on"] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["không", "Không", "khong", "no", "0", "false"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        assert_eq!(parse_bool("  "), Err(Required));
        assert_eq!(parse_bool("có lẽ"), Err(UnknownCode));
    }

    #[test]
    fn school_facts_from_form_fields() {
        let facts = SchoolFacts::parse(&[
            ("grid_power", "có"),
            ("clean_water", "x"),
            ("toilets", "không"),
            ("counselling", "1"),
            ("school_name", "THCS Nguyễn Du"),
        ])
        .unwrap();
        assert!(facts.grid_power && facts.clean_water && facts.counselling);
        assert!(!facts.toilets && !facts.internet_for_teaching);
        assert_eq!(
            facts.yes(),
            vec![
                SchoolFact::GridPower,
                SchoolFact::CleanWater,
                SchoolFact::Counselling
            ]
        );
        assert_eq!(
            SchoolFacts::parse(&[("toilets", "có lẽ")]),
            Err(FieldError::new("toilets", UnknownCode))
        );
        let mut f = SchoolFacts::default();
        f.set(SchoolFact::DisabilityAccessible, true);
        assert!(f.get(SchoolFact::DisabilityAccessible) && f.disability_accessible);
        assert_eq!(
            SchoolFact::InternetForTeaching.csdl_field(),
            "KhaiThacInternetDayHoc"
        );
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["disability_accessible"], true);
        for fact in SchoolFact::ALL {
            assert!(
                json.get(fact.code()).is_some(),
                "struct field named by the stable code"
            );
        }
    }
}
