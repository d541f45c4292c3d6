//! Filling a form from facts, tracing a cell back to its records, and counting facts by
//! dimensions (dynamic reports, indicators).
//!
//! A cell is the sum, over the facts of its section's entity that pass the form's scope, the
//! row's condition and the column's condition, of the fact's weight (or weight × a field for a
//! summed row). Rows and columns are tested separately per fact, so a fact costs rows + columns
//! tests, not rows × columns.

use super::catalogue::{FieldRef, Filter, FormDef, Measure};
use super::facts::{Entity, Fact, Facts, Val};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The numbers of one form: per section, rows × columns; `None` where the form asks for data
/// no record holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormValues {
    pub form_id: String,
    pub sections: Vec<SectionValues>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionValues {
    pub code: String,
    pub columns: Vec<String>,
    pub rows: Vec<RowValues>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowValues {
    pub code: String,
    pub cells: Vec<Option<u64>>,
}

impl FormValues {
    /// All zeros (blank for rows not recorded), shaped like the form.
    pub fn empty(form: &FormDef) -> FormValues {
        FormValues {
            form_id: form.id.clone(),
            sections: form
                .sections
                .iter()
                .map(|s| SectionValues {
                    code: s.code.clone(),
                    columns: s.columns.iter().map(|c| c.key.clone()).collect(),
                    rows: s
                        .rows
                        .iter()
                        .map(|r| RowValues {
                            code: r.code.clone(),
                            cells: vec![(r.measure != Measure::NotRecorded).then_some(0); s.columns.len()],
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Adds another school's (or unit's) values of the same form, cell by cell.
    pub fn add(&mut self, other: &FormValues) {
        for (s, o) in self.sections.iter_mut().zip(&other.sections) {
            for (r, or) in s.rows.iter_mut().zip(&o.rows) {
                for (c, oc) in r.cells.iter_mut().zip(&or.cells) {
                    if let (Some(a), Some(b)) = (c.as_mut(), oc) {
                        *a += b;
                    }
                }
            }
        }
    }

    /// The value of a cell by row code and column key.
    pub fn cell(&self, row: &str, column: &str) -> Option<u64> {
        self.sections.iter().find_map(|s| {
            let c = s.columns.iter().position(|k| k == column)?;
            s.rows.iter().find(|r| r.code == row).and_then(|r| r.cells[c])
        })
    }

    /// Whether the values have the shape of `form` (a stored snapshot of an older version
    /// does not).
    pub fn fits(&self, form: &FormDef) -> bool {
        self.form_id == form.id
            && self.sections.len() == form.sections.len()
            && self.sections.iter().zip(&form.sections).all(|(v, s)| {
                v.code == s.code
                    && v.columns.len() == s.columns.len()
                    && v.rows.len() == s.rows.len()
                    && v.rows.iter().zip(&s.rows).all(|(a, b)| a.code == b.code)
            })
    }
}

fn in_scope(form: &FormDef, fact: &Fact, school: &Fact) -> bool {
    let school_ok = form
        .scope_of(Entity::School)
        .is_none_or(|f| f.matches(school, school));
    school_ok && form.scope_of(fact.entity).is_none_or(|f| f.matches(fact, school))
}

fn amount(measure: &Measure, fact: &Fact, school: &Fact) -> u64 {
    match measure {
        Measure::Count => fact.weight,
        Measure::Sum(field) => {
            let v = field.value(fact, school).as_int().unwrap_or(0).max(0) as u64;
            v * fact.weight
        }
        Measure::NotRecorded => 0,
    }
}

/// Adds one fact into the values of `form`.
fn accumulate(form: &FormDef, values: &mut FormValues, fact: &Fact, school: &Fact, rows: &mut Vec<usize>) {
    for (section, sv) in form.sections.iter().zip(values.sections.iter_mut()) {
        if section.entity != fact.entity {
            continue;
        }
        rows.clear();
        rows.extend(
            section
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.measure != Measure::NotRecorded && r.filter.matches(fact, school))
                .map(|(i, _)| i),
        );
        if rows.is_empty() {
            continue;
        }
        for (ci, col) in section.columns.iter().enumerate() {
            if !col.filter.matches(fact, school) {
                continue;
            }
            for &ri in rows.iter() {
                let add = amount(&section.rows[ri].measure, fact, school);
                if let Some(c) = sv.rows[ri].cells[ci].as_mut() {
                    *c += add;
                }
            }
        }
    }
}

/// The form filled from every fact in the set (a school, or a whole subtree).
pub fn compute(form: &FormDef, facts: &Facts) -> FormValues {
    let mut values = FormValues::empty(form);
    let mut rows = vec![];
    for fact in &facts.facts {
        let school = facts.school_fact(fact.school);
        if in_scope(form, fact, school) {
            accumulate(form, &mut values, fact, school, &mut rows);
        }
    }
    values
}

/// The form filled per school, in the order of `facts.schools`; schools outside the form's
/// scope (another level) get `None`.
pub fn compute_per_school(form: &FormDef, facts: &Facts) -> Vec<Option<FormValues>> {
    let mut out: Vec<Option<FormValues>> = facts
        .schools
        .iter()
        .map(|s| {
            let sf = &facts.facts[s.fact];
            form.scope_of(Entity::School)
                .is_none_or(|f| f.matches(sf, sf))
                .then(|| FormValues::empty(form))
        })
        .collect();
    let mut rows = vec![];
    for fact in &facts.facts {
        let school = facts.school_fact(fact.school);
        if let Some(values) = out[fact.school].as_mut()
            && in_scope(form, fact, school)
        {
            accumulate(form, values, fact, school, &mut rows);
        }
    }
    out
}

/// Why a trace was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceError {
    UnknownRow,
    UnknownColumn,
    NotRecorded,
}

/// The facts behind one cell ("why is this 37?"), in the set's order, each with the amount it
/// adds (its weight, or the summed field).
pub fn trace<'a>(
    form: &FormDef,
    facts: &'a Facts,
    row: &str,
    column: &str,
) -> Result<Vec<(&'a Fact, u64)>, TraceError> {
    let (section, r) = form.row(row).ok_or(TraceError::UnknownRow)?;
    let col = section
        .columns
        .iter()
        .find(|c| c.key == column)
        .ok_or(TraceError::UnknownColumn)?;
    if r.measure == Measure::NotRecorded {
        return Err(TraceError::NotRecorded);
    }
    Ok(facts
        .facts
        .iter()
        .filter(|f| f.entity == section.entity)
        .filter_map(|f| {
            let school = facts.school_fact(f.school);
            (in_scope(form, f, school) && r.filter.matches(f, school) && col.filter.matches(f, school))
                .then(|| (f, amount(&r.measure, f, school)))
        })
        .filter(|(_, amount)| *amount > 0)
        .collect())
}

/// A dimension to group by: a field, or the school itself (which the caller may map to the
/// unit above it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Field(FieldRef),
    School,
}

impl Dim {
    /// A dimension by name for an entity: `school` or one of its (or its school's) fields.
    pub fn parse(entity: Entity, name: &str) -> Option<Dim> {
        if name == "school" {
            return Some(Dim::School);
        }
        FieldRef::resolve(entity, name).map(|(r, _)| Dim::Field(r))
    }

    fn key(self, fact: &Fact, school: &Fact) -> Val {
        match self {
            Dim::Field(r) => r.value(fact, school).clone(),
            Dim::School => Val::Int(fact.school as i64),
        }
    }
}

/// Counts (or sums) the facts of `entity` passing `filter`, grouped by `dims`. A school
/// dimension yields the school's index in `facts.schools`.
pub fn group(
    facts: &Facts,
    entity: Entity,
    filter: &Filter,
    dims: &[Dim],
    sum: Option<FieldRef>,
) -> BTreeMap<Vec<Val>, u64> {
    let mut out: BTreeMap<Vec<Val>, u64> = BTreeMap::new();
    for fact in facts.facts.iter().filter(|f| f.entity == entity) {
        let school = facts.school_fact(fact.school);
        if !filter.matches(fact, school) {
            continue;
        }
        let key: Vec<Val> = dims.iter().map(|d| d.key(fact, school)).collect();
        let add = match sum {
            Some(r) => r.value(fact, school).as_int().unwrap_or(0).max(0) as u64 * fact.weight,
            None => fact.weight,
        };
        *out.entry(key).or_default() += add;
    }
    out
}

/// Counts facts of `entity` passing `filter`.
pub fn count(facts: &Facts, entity: Entity, filter: &Filter) -> u64 {
    group(facts, entity, filter, &[], None).values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::catalogue::FormDef;
    use uuid::Uuid;

    const FORM: &str = r#"
id = "test/tiny"
code = "T"
title = "Tiny"
regime = "test"
valid_from = "2024-01-01"
level = "TH"
round = "beginning_of_year"
reference = "09-30"
[scope]
school = { levels = "TH" }
learner = { level = "TH", on_roll = true }
[column_sets.schools]
columns = [ { key = "total", label = "Tổng số" }, { key = "cl", label = "Công lập", where = { ownership_group = "cong_lap" } }, { key = "tt", label = "Tư thục", where = { ownership_group = "tu_thuc" } } ]
[column_sets.learners]
columns = [ { key = "total", label = "Tổng số" }, { key = "f", label = "Nữ", where = { sex = "female" } }, { key = "dtts", label = "DTTS", where = { minority = true } } ]
[[sections]]
code = "I"
title = "Trường"
entity = "school"
columns = "schools"
rows = [
  { code = "1", label = "Tổng số trường" },
  { code = "3", label = "Từ 28 lớp", where = { region_band = "delta", classes = { ge = 28 } } },
  { code = "26", label = "Số điểm trường", sum = "sites" },
  { code = "22", label = "Giáo dục giới tính", not_recorded = true },
]
[[sections]]
code = "III"
title = "Học sinh"
entity = "learner"
columns = "learners"
rows = [
  { code = "37", label = "Tổng số" },
  { code = "40", label = "Lớp 1", where = { grade = 1 } },
  { code = "52", label = "6 tuổi lớp 1", where = { grade = 1, age = 6 } },
  { code = "74", label = "Chính sách", where = { policy_any = true } },
]
"#;

    fn school(facts: &mut Facts, ownership: &str, classes: i64, sites: i64, levels: &[&str]) -> usize {
        let mut f = Fact::new(Entity::School, 0, None);
        f.set("ownership_group", Val::code(ownership))
            .set("region_band", Val::code("delta"))
            .set("classes", Val::Int(classes))
            .set("sites", Val::Int(sites))
            .set(
                "levels",
                Val::Codes(levels.iter().map(|s| s.to_string()).collect()),
            );
        facts.add_school(Uuid::now_v7(), "S".into(), "p".into(), f)
    }

    fn learner(
        facts: &mut Facts,
        s: usize,
        grade: i64,
        age: i64,
        female: bool,
        minority: bool,
        on_roll: bool,
    ) {
        let mut f = Fact::new(Entity::Learner, s, Some(Uuid::now_v7()));
        f.set("grade", Val::Int(grade))
            .set("level", Val::code(if grade <= 5 { "TH" } else { "THCS" }))
            .set("age", Val::Int(age))
            .set("sex", Val::code(if female { "female" } else { "male" }))
            .set("minority", Val::Bool(minority))
            .set("policy_any", Val::Bool(minority))
            .set("on_roll", Val::Bool(on_roll));
        facts.facts.push(f);
    }

    /// Two public primary schools and a private one; a THCS school whose learners the form
    /// must not count; a learner who left before the reference date.
    fn province() -> (FormDef, Facts) {
        let form = FormDef::parse_toml(FORM).unwrap();
        let mut facts = Facts::default();
        let a = school(&mut facts, "cong_lap", 30, 2, &["TH"]);
        let b = school(&mut facts, "cong_lap", 12, 0, &["TH"]);
        let c = school(&mut facts, "tu_thuc", 28, 1, &["TH", "THCS"]);
        let d = school(&mut facts, "cong_lap", 20, 0, &["THCS"]);
        learner(&mut facts, a, 1, 6, true, false, true);
        learner(&mut facts, a, 1, 7, false, true, true);
        learner(&mut facts, a, 2, 7, true, true, true);
        learner(&mut facts, a, 1, 6, true, false, false);
        learner(&mut facts, b, 1, 6, false, false, true);
        learner(&mut facts, c, 1, 6, true, true, true);
        learner(&mut facts, c, 6, 11, true, true, true);
        learner(&mut facts, d, 6, 11, false, false, true);
        (form, facts)
    }

    #[test]
    fn a_form_counts_what_its_rows_and_columns_say() {
        let (form, facts) = province();
        let v = compute(&form, &facts);
        // Schools: three teach TH, two public; 28+ classes in the delta: a and c.
        assert_eq!(v.cell("1", "total"), Some(3));
        assert_eq!(v.cell("1", "cl"), Some(2));
        assert_eq!(v.cell("1", "tt"), Some(1));
        assert_eq!(v.cell("3", "total"), Some(2));
        assert_eq!(v.cell("3", "tt"), Some(1));
        assert_eq!(v.cell("26", "total"), Some(3));
        assert_eq!(v.cell("22", "total"), None, "not recorded stays blank");
        // Learners: the one who left and the THCS pupils are out.
        assert_eq!(v.cell("37", "total"), Some(5));
        assert_eq!(v.cell("37", "f"), Some(3));
        assert_eq!(v.cell("37", "dtts"), Some(3));
        assert_eq!(v.cell("40", "total"), Some(4));
        assert_eq!(v.cell("52", "total"), Some(3));
        assert_eq!(v.cell("52", "f"), Some(2));
        assert_eq!(v.cell("74", "dtts"), Some(3));
    }

    #[test]
    fn the_whole_equals_the_sum_of_its_schools() {
        let (form, facts) = province();
        let whole = compute(&form, &facts);
        let per = compute_per_school(&form, &facts);
        assert!(per[3].is_none(), "the THCS school has no TH form");
        let mut sum = FormValues::empty(&form);
        for v in per.iter().flatten() {
            sum.add(v);
        }
        assert_eq!(sum, whole);
        assert_eq!(per[0].as_ref().unwrap().cell("37", "total"), Some(3));
    }

    #[test]
    fn grouped_facts_weigh_as_many_records() {
        let (form, mut facts) = province();
        // A twin of school b's pupil: same fields, another record.
        let mut twin = facts.facts[8].clone();
        twin.id = Some(Uuid::now_v7());
        facts.facts.push(twin);
        let mut grouped = Facts {
            schools: facts.schools.clone(),
            ..Facts::default()
        };
        for f in &facts.facts {
            if let Some(g) = grouped
                .facts
                .iter_mut()
                .find(|g| g.entity == f.entity && g.school == f.school && g.values == f.values)
            {
                g.weight += 1;
            } else {
                let mut g = f.clone();
                g.id = None;
                grouped.facts.push(g);
            }
        }
        assert!(grouped.facts.len() < facts.facts.len());
        assert_eq!(compute(&form, &grouped), compute(&form, &facts));
    }

    #[test]
    fn a_cell_traces_to_its_records() {
        let (form, facts) = province();
        let behind = trace(&form, &facts, "52", "total").unwrap();
        assert_eq!(behind.len(), 3);
        assert!(behind.iter().all(|(f, n)| *n == 1 && f.id.is_some()));
        let sites = trace(&form, &facts, "26", "total").unwrap();
        assert_eq!(sites.iter().map(|(_, n)| n).sum::<u64>(), 3);
        assert_eq!(sites.len(), 2, "a school without sites adds nothing");
        assert_eq!(
            trace(&form, &facts, "22", "total").unwrap_err(),
            TraceError::NotRecorded
        );
        assert_eq!(
            trace(&form, &facts, "999", "total").unwrap_err(),
            TraceError::UnknownRow
        );
        assert_eq!(
            trace(&form, &facts, "37", "x").unwrap_err(),
            TraceError::UnknownColumn
        );
    }

    #[test]
    fn grouping_by_a_field_and_by_school() {
        let (_, facts) = province();
        let on_roll = Filter::from_pairs(Entity::Learner, &[("on_roll".into(), "1".into())]).unwrap();
        let by_sex = group(
            &facts,
            Entity::Learner,
            &on_roll,
            &[Dim::parse(Entity::Learner, "sex").unwrap()],
            None,
        );
        assert_eq!(by_sex[&vec![Val::code("female")]], 4);
        assert_eq!(by_sex[&vec![Val::code("male")]], 3);
        let by_school = group(&facts, Entity::Learner, &on_roll, &[Dim::School], None);
        assert_eq!(by_school[&vec![Val::Int(0)]], 3);
        let by_ownership = group(
            &facts,
            Entity::Learner,
            &on_roll,
            &[Dim::parse(Entity::Learner, "ownership_group").unwrap()],
            None,
        );
        assert_eq!(by_ownership[&vec![Val::code("tu_thuc")]], 2);
        assert_eq!(count(&facts, Entity::Learner, &Filter::all()), 8);
    }

    #[test]
    fn stored_values_fit_only_their_form_version() {
        let (form, facts) = province();
        let v = compute(&form, &facts);
        assert!(v.fits(&form));
        let mut other = form.clone();
        other.sections[1].rows.pop();
        assert!(!v.fits(&other));
        let json = serde_json::to_string(&v).unwrap();
        let back: FormValues = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
    }
}
