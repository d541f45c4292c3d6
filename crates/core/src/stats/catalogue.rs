//! Form definitions as versioned data: a catalogue of row codes, each with the computation that
//! fills it (which facts, which condition, count or sum), and column sets (totals, ownership
//! groups, female, ethnic minority…). Next year's change of a form is an edit of its TOML file,
//! never of code. The files shipped with Trường Số live in `crates/core/data/stats/`; an
//! installation may add its own (configuration `stats_forms_dir`).
//!
//! A condition (`where`) is a TOML table of field = test, all of which must hold:
//! - `grade = 1`, `sex = "female"`, `minority = true`: equality (for a set of codes such as
//!   `policy`, "includes");
//! - `grade = [1, 2]`: one of;
//! - `age = { ge = 20, le = 29 }`: comparisons `lt`, `le`, `gt`, `ge`, `ne`, `in`, `not_in`
//!   (an unrecorded value passes `ne` and `not_in`, and fails every other test);
//! - `disability = { missing = true }`: the field is (not) recorded.
//!
//! A field unknown to the entity is looked up on the fact's school (`ownership_group`,
//! `region_band`…).

use super::facts::{Entity, Fact, Field, Kind, Val};
use crate::org::SchoolLevel;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Why a form definition (or a dynamic filter) was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionError {
    /// Where in the definition: `sections[2].rows[5].where.grade`.
    pub at: String,
    /// Stable code: `toml`, `unknown_entity`, `unknown_field`, `wrong_type`, `unknown_test`,
    /// `unknown_column_set`, `duplicate_code`, `empty`, `invalid_date`, `unknown_level`,
    /// `unknown_round`, `not_summable`.
    pub code: &'static str,
    pub detail: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.at, self.code, self.detail)
    }
}

impl std::error::Error for DefinitionError {}

fn err(at: impl Into<String>, code: &'static str, detail: impl Into<String>) -> DefinitionError {
    DefinitionError {
        at: at.into(),
        code,
        detail: detail.into(),
    }
}

/// Which field a condition reads: the fact's own, or its school's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRef {
    Own(usize),
    School(usize),
}

impl FieldRef {
    pub fn resolve(entity: Entity, name: &str) -> Option<(FieldRef, Field)> {
        if let Some(i) = entity.index_of(name) {
            return Some((FieldRef::Own(i), entity.fields()[i]));
        }
        Entity::School
            .index_of(name)
            .map(|i| (FieldRef::School(i), Entity::School.fields()[i]))
    }

    pub fn value<'a>(self, fact: &'a Fact, school: &'a Fact) -> &'a Val {
        match self {
            FieldRef::Own(i) => &fact.values[i],
            FieldRef::School(i) => &school.values[i],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Eq(Val),
    Ne(Val),
    In(Vec<Val>),
    NotIn(Vec<Val>),
    Lt(i64),
    Le(i64),
    Gt(i64),
    Ge(i64),
    Missing(bool),
}

fn equal(v: &Val, want: &Val) -> bool {
    match (v, want) {
        (Val::Codes(cs), Val::Code(c)) => cs.contains(c),
        _ => v == want,
    }
}

impl Test {
    fn holds(&self, v: &Val) -> bool {
        let int = || v.as_int();
        match self {
            Test::Missing(m) => (*v == Val::Null) == *m,
            // An unrecorded value is not the one excluded.
            Test::Ne(_) | Test::NotIn(_) if *v == Val::Null => true,
            _ if *v == Val::Null => false,
            Test::Eq(w) => equal(v, w),
            Test::Ne(w) => !equal(v, w),
            Test::In(ws) => ws.iter().any(|w| equal(v, w)),
            Test::NotIn(ws) => !ws.iter().any(|w| equal(v, w)),
            Test::Lt(n) => int().is_some_and(|i| i < *n),
            Test::Le(n) => int().is_some_and(|i| i <= *n),
            Test::Gt(n) => int().is_some_and(|i| i > *n),
            Test::Ge(n) => int().is_some_and(|i| i >= *n),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Cond {
    field: FieldRef,
    test: Test,
}

/// A conjunction of conditions over one entity's facts. The empty filter matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    conds: Vec<Cond>,
    /// The source, for display (`grade = 1, sex = female`).
    pub text: String,
}

impl Filter {
    pub fn all() -> Filter {
        Filter::default()
    }

    pub fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }

    pub fn matches(&self, fact: &Fact, school: &Fact) -> bool {
        self.conds
            .iter()
            .all(|c| c.test.holds(c.field.value(fact, school)))
    }

    /// Both filters' conditions.
    pub fn and(&self, other: &Filter) -> Filter {
        let mut conds = self.conds.clone();
        conds.extend(other.conds.iter().cloned());
        let text = match (self.text.is_empty(), other.text.is_empty()) {
            (true, _) => other.text.clone(),
            (_, true) => self.text.clone(),
            _ => format!("{}, {}", self.text, other.text),
        };
        Filter { conds, text }
    }

    /// A TOML `where` table compiled against an entity's fields.
    pub fn compile(entity: Entity, table: &toml::Table, at: &str) -> Result<Filter, DefinitionError> {
        let mut conds = vec![];
        let mut text = vec![];
        for (name, spec) in table {
            let at = format!("{at}.{name}");
            let (field, def) = FieldRef::resolve(entity, name)
                .ok_or_else(|| err(&at, "unknown_field", format!("{name} is not a field of {entity}")))?;
            match spec {
                toml::Value::Table(ops) => {
                    for (op, arg) in ops {
                        let at = format!("{at}.{op}");
                        let int = || {
                            if def.kind != Kind::Int {
                                return Err(err(&at, "wrong_type", format!("{name} is not a number")));
                            }
                            arg.as_integer()
                                .ok_or_else(|| err(&at, "wrong_type", "expected an integer"))
                        };
                        let test = match op.as_str() {
                            "lt" => Test::Lt(int()?),
                            "le" => Test::Le(int()?),
                            "gt" => Test::Gt(int()?),
                            "ge" => Test::Ge(int()?),
                            "ne" => Test::Ne(scalar(def, arg, &at)?),
                            "in" => Test::In(list(def, arg, &at)?),
                            "not_in" => Test::NotIn(list(def, arg, &at)?),
                            "missing" => Test::Missing(
                                arg.as_bool()
                                    .ok_or_else(|| err(&at, "wrong_type", "expected true or false"))?,
                            ),
                            other => return Err(err(&at, "unknown_test", other.to_string())),
                        };
                        text.push(format!("{name} {op} {arg}"));
                        conds.push(Cond { field, test });
                    }
                }
                toml::Value::Array(_) => {
                    conds.push(Cond {
                        field,
                        test: Test::In(list(def, spec, &at)?),
                    });
                    text.push(format!("{name} in {spec}"));
                }
                _ => {
                    conds.push(Cond {
                        field,
                        test: Test::Eq(scalar(def, spec, &at)?),
                    });
                    text.push(format!("{name} = {spec}"));
                }
            }
        }
        Ok(Filter {
            conds,
            text: text.join(", "),
        })
    }

    /// Equality conditions typed by a user (dynamic-report filters, query strings): each value
    /// is read as the field's type; several values of one field mean "one of".
    pub fn from_pairs(entity: Entity, pairs: &[(String, String)]) -> Result<Filter, DefinitionError> {
        let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, v) in pairs {
            grouped.entry(k.as_str()).or_default().push(v.as_str());
        }
        let mut table = toml::Table::new();
        for (name, values) in grouped {
            let (_, def) = FieldRef::resolve(entity, name).ok_or_else(|| {
                err(
                    name,
                    "unknown_field",
                    format!("{name} is not a field of {entity}"),
                )
            })?;
            let typed = values
                .iter()
                .map(|v| typed_input(def, v).ok_or_else(|| err(name, "wrong_type", v.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let spec = if typed.len() == 1 {
                typed.into_iter().next().expect("one value")
            } else {
                toml::Value::Array(typed)
            };
            table.insert(name.to_string(), spec);
        }
        Filter::compile(entity, &table, "filter")
    }
}

fn typed_input(def: Field, v: &str) -> Option<toml::Value> {
    let v = v.trim();
    match def.kind {
        Kind::Int => v.parse::<i64>().ok().map(toml::Value::Integer),
        Kind::Bool => match v {
            "1" | "true" | "co" | "có" => Some(toml::Value::Boolean(true)),
            "0" | "false" | "khong" | "không" => Some(toml::Value::Boolean(false)),
            _ => None,
        },
        Kind::Code | Kind::Codes => (!v.is_empty()).then(|| toml::Value::String(v.to_string())),
    }
}

fn scalar(def: Field, v: &toml::Value, at: &str) -> Result<Val, DefinitionError> {
    let wrong = |what: &str| err(at, "wrong_type", format!("{} expects {what}", def.name));
    match def.kind {
        Kind::Int => v.as_integer().map(Val::Int).ok_or_else(|| wrong("an integer")),
        Kind::Bool => v.as_bool().map(Val::Bool).ok_or_else(|| wrong("true or false")),
        Kind::Code | Kind::Codes => v.as_str().map(Val::code).ok_or_else(|| wrong("a code string")),
    }
}

fn list(def: Field, v: &toml::Value, at: &str) -> Result<Vec<Val>, DefinitionError> {
    let items = v
        .as_array()
        .ok_or_else(|| err(at, "wrong_type", "expected a list"))?;
    if items.is_empty() {
        return Err(err(at, "empty", "an empty list matches nothing"));
    }
    items.iter().map(|i| scalar(def, i, at)).collect()
}

/// Which round of the reporting year a form belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Round {
    /// Đầu năm: data as at 30/9.
    BeginningOfYear,
    /// Cuối năm: data as at 31/5 (TT 24/2018; TT 25/2024 dates UNCERTAIN).
    EndOfYear,
}

impl Round {
    pub const ALL: [Round; 2] = [Round::BeginningOfYear, Round::EndOfYear];

    pub fn as_str(self) -> &'static str {
        match self {
            Round::BeginningOfYear => "beginning_of_year",
            Round::EndOfYear => "end_of_year",
        }
    }

    pub fn parse(s: &str) -> Option<Round> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// What a row adds up.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    Count,
    /// The sum of an integer field (satellite sites, computers).
    Sum(FieldRef),
    /// The form asks for it but no record holds it yet: shown blank, never as 0.
    NotRecorded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub key: String,
    pub label: String,
    pub filter: Filter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Mã số: the stable row code printed on the form.
    pub code: String,
    pub label: String,
    pub indent: u8,
    pub filter: Filter,
    pub measure: Measure,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub code: String,
    pub title: String,
    pub entity: Entity,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// One version of one statistical form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormDef {
    /// ASCII id used in addresses and snapshots: `tt24-2018/02-th-dn`.
    pub id: String,
    /// The code printed on the form: `02.ĐN-TH`.
    pub code: String,
    pub title: String,
    /// The regime (circular) this version belongs to: `TT 24/2018/TT-BGDĐT`.
    pub regime: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub level: SchoolLevel,
    pub round: Round,
    /// Month and day of the data's reference date (30/9 → (9, 30)).
    pub reference: (u32, u32),
    /// What is uncertain about this layout, shown on the form.
    pub note: Option<String>,
    /// Which facts the form counts at all, per entity (its level, on the roll…).
    pub scope: BTreeMap<Entity, Filter>,
    pub sections: Vec<Section>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    key: String,
    label: String,
    #[serde(rename = "where", default)]
    filter: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumnSet {
    #[serde(default)]
    columns: Vec<RawColumn>,
    /// Column groups × measures: `groups` (Tổng số, Công lập, Tư thục) each split by
    /// `measures` (Tổng số, Nữ, DTTS, DTTS nữ).
    #[serde(default)]
    groups: Vec<RawColumn>,
    #[serde(default)]
    measures: Vec<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    code: String,
    label: String,
    #[serde(default)]
    indent: u8,
    #[serde(rename = "where", default)]
    filter: toml::Table,
    sum: Option<String>,
    #[serde(default)]
    not_recorded: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    code: String,
    title: String,
    entity: String,
    columns: String,
    rows: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    id: String,
    code: String,
    title: String,
    regime: String,
    valid_from: String,
    valid_to: Option<String>,
    level: String,
    round: String,
    reference: String,
    note: Option<String>,
    #[serde(default)]
    scope: BTreeMap<String, toml::Table>,
    column_sets: BTreeMap<String, RawColumnSet>,
    sections: Vec<RawSection>,
}

fn date(s: &str, at: &str) -> Result<NaiveDate, DefinitionError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| err(at, "invalid_date", s.to_string()))
}

fn columns_of(entity: Entity, set: &RawColumnSet, at: &str) -> Result<Vec<Column>, DefinitionError> {
    let one = |c: &RawColumn, at: String| -> Result<Column, DefinitionError> {
        Ok(Column {
            key: c.key.clone(),
            label: c.label.clone(),
            filter: Filter::compile(entity, &c.filter, &at)?,
        })
    };
    let mut out = vec![];
    for (i, c) in set.columns.iter().enumerate() {
        out.push(one(c, format!("{at}.columns[{i}].where"))?);
    }
    for (gi, g) in set.groups.iter().enumerate() {
        let group = one(g, format!("{at}.groups[{gi}].where"))?;
        for (mi, m) in set.measures.iter().enumerate() {
            let measure = one(m, format!("{at}.measures[{mi}].where"))?;
            out.push(Column {
                key: format!("{}.{}", group.key, measure.key),
                label: format!("{} – {}", group.label, measure.label),
                filter: group.filter.and(&measure.filter),
            });
        }
    }
    if out.is_empty() {
        return Err(err(
            at,
            "empty",
            "a column set needs columns or groups × measures",
        ));
    }
    let mut keys: Vec<_> = out.iter().map(|c| c.key.as_str()).collect();
    keys.sort();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(err(at, "duplicate_code", w[0].to_string()));
    }
    Ok(out)
}

impl FormDef {
    /// Parses and checks one form file: every field named exists on its entity with the right
    /// type, row codes are unique in the form, column sets exist.
    pub fn parse_toml(src: &str) -> Result<FormDef, DefinitionError> {
        let raw: RawForm = toml::from_str(src).map_err(|e| err("", "toml", e.message().to_string()))?;
        let level = SchoolLevel::parse(&raw.level).map_err(|_| err("level", "unknown_level", &raw.level))?;
        let round = Round::parse(&raw.round).ok_or_else(|| err("round", "unknown_round", &raw.round))?;
        let reference = NaiveDate::parse_from_str(&format!("2000-{}", raw.reference), "%Y-%m-%d")
            .map(|d| (chrono::Datelike::month(&d), chrono::Datelike::day(&d)))
            .map_err(|_| err("reference", "invalid_date", &raw.reference))?;
        let mut scope = BTreeMap::new();
        for (name, table) in &raw.scope {
            let entity = Entity::parse(name).ok_or_else(|| err("scope", "unknown_entity", name))?;
            scope.insert(entity, Filter::compile(entity, table, &format!("scope.{name}"))?);
        }
        let mut sections = vec![];
        let mut codes: Vec<&str> = vec![];
        for (si, s) in raw.sections.iter().enumerate() {
            let at = format!("sections[{si}]");
            let entity = Entity::parse(&s.entity)
                .ok_or_else(|| err(format!("{at}.entity"), "unknown_entity", &s.entity))?;
            let set = raw
                .column_sets
                .get(&s.columns)
                .ok_or_else(|| err(format!("{at}.columns"), "unknown_column_set", &s.columns))?;
            let columns = columns_of(entity, set, &format!("column_sets.{}", s.columns))?;
            let mut rows = vec![];
            for (ri, r) in s.rows.iter().enumerate() {
                let at = format!("{at}.rows[{ri}]");
                let measure = match (&r.sum, r.not_recorded) {
                    (_, true) => Measure::NotRecorded,
                    (Some(name), false) => {
                        let (field, def) = FieldRef::resolve(entity, name)
                            .ok_or_else(|| err(format!("{at}.sum"), "unknown_field", name))?;
                        if def.kind != Kind::Int {
                            return Err(err(format!("{at}.sum"), "not_summable", name));
                        }
                        Measure::Sum(field)
                    }
                    (None, false) => Measure::Count,
                };
                rows.push(Row {
                    code: r.code.clone(),
                    label: r.label.clone(),
                    indent: r.indent,
                    filter: Filter::compile(entity, &r.filter, &format!("{at}.where"))?,
                    measure,
                });
                codes.push(r.code.as_str());
            }
            if rows.is_empty() {
                return Err(err(at, "empty", "a section needs rows"));
            }
            sections.push(Section {
                code: s.code.clone(),
                title: s.title.clone(),
                entity,
                columns,
                rows,
            });
        }
        codes.sort_unstable();
        if let Some(w) = codes.windows(2).find(|w| w[0] == w[1]) {
            return Err(err("sections", "duplicate_code", w[0].to_string()));
        }
        Ok(FormDef {
            valid_from: date(&raw.valid_from, "valid_from")?,
            valid_to: raw.valid_to.as_deref().map(|d| date(d, "valid_to")).transpose()?,
            id: raw.id,
            code: raw.code,
            title: raw.title,
            regime: raw.regime,
            level,
            round,
            reference,
            note: raw.note,
            scope,
            sections,
        })
    }

    /// The form's reference date in a school year starting in `start_year`: 30/9 of that year,
    /// 31/5 of the next.
    pub fn reference_date(&self, start_year: i32) -> NaiveDate {
        let (m, d) = self.reference;
        let year = if m >= 8 { start_year } else { start_year + 1 };
        NaiveDate::from_ymd_opt(year, m, d).expect("checked when parsed")
    }

    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|t| day < t)
    }

    pub fn scope_of(&self, entity: Entity) -> Option<&Filter> {
        self.scope.get(&entity)
    }

    pub fn section(&self, code: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.code == code)
    }

    /// The section and row of a row code.
    pub fn row(&self, code: &str) -> Option<(&Section, &Row)> {
        self.sections
            .iter()
            .find_map(|s| s.rows.iter().find(|r| r.code == code).map(|r| (s, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
id = "test/mini"
code = "99.ĐN-TH"
title = "Mini"
regime = "test"
valid_from = "2024-01-01"
level = "TH"
round = "beginning_of_year"
reference = "09-30"
[scope]
learner = { level = "TH", on_roll = true }
[column_sets.learners]
groups = [ { key = "all", label = "Tổng số" }, { key = "cl", label = "Công lập", where = { ownership_group = "cong_lap" } } ]
measures = [ { key = "total", label = "Tổng số" }, { key = "f", label = "Nữ", where = { sex = "female" } } ]
[[sections]]
code = "III"
title = "Học sinh"
entity = "learner"
columns = "learners"
rows = [
  { code = "37", label = "Tổng số" },
  { code = "45", label = "Dưới 6 tuổi", where = { age = { lt = 6 } } },
  { code = "40", label = "Lớp 1 và 2", where = { grade = [1, 2] } },
  { code = "75", label = "Hộ nghèo", where = { policy = "08" } },
  { code = "99", label = "Chưa có", not_recorded = true },
]
"#;

    #[test]
    fn a_form_parses_with_groups_times_measures() {
        let f = FormDef::parse_toml(MINI).unwrap();
        assert_eq!(f.sections[0].columns.len(), 4);
        assert_eq!(f.sections[0].columns[3].key, "cl.f");
        assert_eq!(f.sections[0].columns[3].label, "Công lập – Nữ");
        assert_eq!(
            f.reference_date(2025),
            NaiveDate::from_ymd_opt(2025, 9, 30).unwrap()
        );
        assert_eq!(f.row("75").unwrap().1.filter.text, "policy = \"08\"");
        assert_eq!(f.row("99").unwrap().1.measure, Measure::NotRecorded);
    }

    #[test]
    fn definition_errors_say_where() {
        let bad = MINI.replace("age = { lt = 6 }", "age = { lt = \"six\" }");
        let e = FormDef::parse_toml(&bad).unwrap_err();
        assert_eq!(
            (e.code, e.at.as_str()),
            ("wrong_type", "sections[0].rows[1].where.age.lt")
        );
        let bad = MINI.replace("grade = [1, 2]", "grde = [1, 2]");
        let e = FormDef::parse_toml(&bad).unwrap_err();
        assert_eq!(
            (e.code, e.at.as_str()),
            ("unknown_field", "sections[0].rows[2].where.grde")
        );
        let bad = MINI.replace("code = \"45\"", "code = \"37\"");
        assert_eq!(FormDef::parse_toml(&bad).unwrap_err().code, "duplicate_code");
        let bad = MINI.replace("columns = \"learners\"", "columns = \"pupils\"");
        assert_eq!(FormDef::parse_toml(&bad).unwrap_err().code, "unknown_column_set");
        let bad = MINI.replace("sex = \"female\"", "sex = true");
        assert_eq!(FormDef::parse_toml(&bad).unwrap_err().code, "wrong_type");
        let bad = MINI.replace("{ lt = 6 }", "{ about = 6 }");
        assert_eq!(FormDef::parse_toml(&bad).unwrap_err().code, "unknown_test");
        let bad = MINI.replace("reference = \"09-30\"", "reference = \"09-31\"");
        assert_eq!(FormDef::parse_toml(&bad).unwrap_err().code, "invalid_date");
        assert_eq!(FormDef::parse_toml("id = 1").unwrap_err().code, "toml");
    }

    #[test]
    fn end_of_year_reference_falls_in_the_next_calendar_year() {
        let f = FormDef::parse_toml(&MINI.replace("\"09-30\"", "\"05-31\"")).unwrap();
        assert_eq!(
            f.reference_date(2025),
            NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()
        );
    }

    #[test]
    fn user_filters_are_typed_by_field() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        let f = Filter::from_pairs(
            Entity::Learner,
            &pairs(&[("grade", "1"), ("grade", "2"), ("sex", "female")]),
        )
        .unwrap();
        assert_eq!(f.conds.len(), 2);
        let e = Filter::from_pairs(Entity::Learner, &pairs(&[("grade", "một")])).unwrap_err();
        assert_eq!((e.code, e.at.as_str()), ("wrong_type", "grade"));
        let e = Filter::from_pairs(Entity::Learner, &pairs(&[("salary", "1")])).unwrap_err();
        assert_eq!(e.code, "unknown_field");
        // A school field is reachable from a learner filter.
        assert!(Filter::from_pairs(Entity::Learner, &pairs(&[("ownership_group", "cong_lap")])).is_ok());
    }

    #[test]
    fn tests_on_values() {
        let v = Val::Codes(vec!["08".into(), "11".into()]);
        assert!(Test::Eq(Val::code("08")).holds(&v));
        assert!(!Test::Eq(Val::code("01")).holds(&v));
        assert!(Test::Ne(Val::code("01")).holds(&v));
        assert!(!Test::Lt(6).holds(&Val::Null));
        assert!(Test::Ne(Val::Int(1)).holds(&Val::Null));
        assert!(Test::NotIn(vec![Val::code("04")]).holds(&Val::Null));
        assert!(!Test::NotIn(vec![Val::code("04")]).holds(&Val::code("04")));
        assert!(!Test::In(vec![Val::code("04")]).holds(&Val::Null));
        assert!(Test::Missing(true).holds(&Val::Null));
        assert!(Test::Ge(28).holds(&Val::Int(28)));
        assert!(!Test::Gt(28).holds(&Val::Int(28)));
    }
}
