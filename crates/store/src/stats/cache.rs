//! Each school's computed forms kept per reference date, valid while the school's change stamp
//! has not moved. Database triggers (migration m0010) bump the stamp on every write to a table
//! the facts read, so an office's or a province's forms recompute only the schools whose records
//! changed, and sum the stored values of the others (docs/decisions.md).
//!
//! Read the stamps before loading facts: a write that commits afterwards moves the stamp past
//! the one stored with the values, so they are recomputed next time, never served stale.

use crate::entity::{stats_form_cache, stats_period, stats_school_stamp};
use crate::{Error, Result};
use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use truongso_core::stats::FormDef;
use truongso_core::stats::compute::FormValues;
use truongso_core::stats::period::default_reference_date;
use uuid::Uuid;

/// Bump when `facts.rs` derives a fact differently: stored values of the old derivation then
/// stop matching any key and are recomputed.
const FACTS_REVISION: u32 = 1;

/// `IN` lists stay well under both databases' bound-parameter limits.
const CHUNK: usize = 1000;

/// What a school's stored values of one form are valid for: the form's definition (a changed
/// TOML file or facts revision gives another key) and the school year of the facts.
pub fn form_key(form: &FormDef, start_year: i32) -> String {
    // The definition's debug form covers every row, condition and column; its maps are ordered.
    let digest = Sha256::digest(format!("{FACTS_REVISION}\n{form:?}"));
    format!("{}@{start_year}#{}", form.id, hex::encode(&digest[..8]))
}

/// The keys of `forms`, in order: computed once per unit's forms (a definition's debug text is
/// tens of kilobytes).
pub fn form_keys(forms: &[FormDef], start_year: i32) -> Vec<String> {
    forms.iter().map(|f| form_key(f, start_year)).collect()
}

/// Values are stored for the dates offices report on: a round's standard reference date and
/// any period's. Other dates (an officer exploring) are computed live and not kept.
pub async fn keeps<C: ConnectionTrait>(
    db: &C,
    forms: &[FormDef],
    start_year: i32,
    day: NaiveDate,
) -> Result<bool> {
    if forms
        .iter()
        .all(|f| default_reference_date(f.round, start_year) == day)
    {
        return Ok(true);
    }
    Ok(stats_period::Entity::find()
        .filter(stats_period::Column::ReferenceDate.eq(day))
        .count(db)
        .await?
        > 0)
}

/// The current stamp of each school (0 for a school never written since the triggers exist).
pub async fn stamps<C: ConnectionTrait>(db: &C, schools: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
    let mut out: HashMap<Uuid, i64> = schools.iter().map(|id| (*id, 0)).collect();
    for chunk in schools.chunks(CHUNK) {
        for (id, stamp) in stats_school_stamp::Entity::find()
            .select_only()
            .column(stats_school_stamp::Column::SchoolId)
            .column(stats_school_stamp::Column::Stamp)
            .filter(stats_school_stamp::Column::SchoolId.is_in(chunk.to_vec()))
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
        {
            out.insert(id, stamp);
        }
    }
    Ok(out)
}

/// Every cell in order; the shape comes back from the form definition.
fn flatten(values: &FormValues) -> Vec<Option<u64>> {
    values
        .sections
        .iter()
        .flat_map(|s| s.rows.iter().flat_map(|r| r.cells.iter().copied()))
        .collect()
}

fn unflatten(form: &FormDef, cells: &[Option<u64>]) -> Option<FormValues> {
    let mut values = FormValues::empty(form);
    let mut it = cells.iter();
    for s in &mut values.sections {
        for r in &mut s.rows {
            for c in &mut r.cells {
                *c = *it.next()?;
            }
        }
    }
    it.next().is_none().then_some(values)
}

/// One school's values of every form asked (`None` where the form is not the school's level).
pub type SchoolValues = Vec<Option<FormValues>>;

/// The stored values of the schools whose stamp still matches, for every form in `forms`:
/// a school missing any form is left out (it is recomputed whole).
pub async fn read<C: ConnectionTrait>(
    db: &C,
    forms: &[FormDef],
    keys: &[String],
    day: NaiveDate,
    stamps: &HashMap<Uuid, i64>,
) -> Result<HashMap<Uuid, SchoolValues>> {
    let schools: Vec<Uuid> = stamps.keys().copied().collect();
    let mut found: HashMap<Uuid, Vec<Option<Option<FormValues>>>> = HashMap::new();
    for chunk in schools.chunks(CHUNK) {
        for (school, key, stamp, cells) in stats_form_cache::Entity::find()
            .select_only()
            .column(stats_form_cache::Column::SchoolId)
            .column(stats_form_cache::Column::FormKey)
            .column(stats_form_cache::Column::Stamp)
            .column(stats_form_cache::Column::Cells)
            .filter(stats_form_cache::Column::ReferenceDate.eq(day))
            .filter(stats_form_cache::Column::FormKey.is_in(keys.to_vec()))
            .filter(stats_form_cache::Column::SchoolId.is_in(chunk.to_vec()))
            .into_tuple::<(Uuid, String, i64, String)>()
            .all(db)
            .await?
        {
            if stamps.get(&school) != Some(&stamp) {
                continue;
            }
            let Some(fi) = keys.iter().position(|k| *k == key) else {
                continue;
            };
            let cells: Option<Vec<Option<u64>>> = serde_json::from_str(&cells)
                .map_err(|e| Error::Internal(format!("stored form values: {e}")))?;
            let values = match cells {
                None => None,
                // A shape that no longer fits is treated as missing.
                Some(c) => match unflatten(&forms[fi], &c) {
                    Some(v) => Some(v),
                    None => continue,
                },
            };
            found.entry(school).or_insert_with(|| vec![None; forms.len()])[fi] = Some(values);
        }
    }
    Ok(found
        .into_iter()
        .filter_map(|(school, per_form)| {
            per_form
                .into_iter()
                .collect::<Option<SchoolValues>>()
                .map(|v| (school, v))
        })
        .collect())
}

/// Stores freshly computed values with the stamp read before their facts were loaded.
pub async fn write<C: ConnectionTrait>(
    db: &C,
    keys: &[String],
    day: NaiveDate,
    computed: &[(Uuid, i64, &SchoolValues)],
) -> Result<()> {
    let now = crate::now();
    let mut rows = vec![];
    for (school, stamp, values) in computed {
        for (key, v) in keys.iter().zip(values.iter()) {
            let cells = serde_json::to_string(&v.as_ref().map(flatten))
                .map_err(|e| Error::Internal(format!("form values: {e}")))?;
            rows.push(stats_form_cache::ActiveModel {
                reference_date: Set(day),
                form_key: Set(key.clone()),
                school_id: Set(*school),
                stamp: Set(*stamp),
                cells: Set(cells),
                computed_at: Set(now),
            });
        }
    }
    let on_conflict = OnConflict::columns([
        stats_form_cache::Column::ReferenceDate,
        stats_form_cache::Column::FormKey,
        stats_form_cache::Column::SchoolId,
    ])
    .update_columns([
        stats_form_cache::Column::Stamp,
        stats_form_cache::Column::Cells,
        stats_form_cache::Column::ComputedAt,
    ])
    .to_owned();
    crate::upsert_in_chunks(db, rows, 500, Some(on_conflict)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use truongso_core::stats::built_in;

    #[test]
    fn cells_round_trip_through_the_flat_form() {
        let form = built_in::built_in().into_iter().next().unwrap();
        let mut v = FormValues::empty(&form);
        let mut n = 0;
        for s in &mut v.sections {
            for r in &mut s.rows {
                for c in r.cells.iter_mut().flatten() {
                    n += 1;
                    *c = n;
                }
            }
        }
        let flat = flatten(&v);
        assert_eq!(unflatten(&form, &flat), Some(v));
        assert_eq!(unflatten(&form, &flat[1..]), None);
        let mut longer = flat.clone();
        longer.push(Some(1));
        assert_eq!(unflatten(&form, &longer), None);
    }

    #[test]
    fn a_key_changes_with_the_definition_and_the_year() {
        let form = built_in::built_in().into_iter().next().unwrap();
        let mut other = form.clone();
        other.title.push('.');
        assert_ne!(form_key(&form, 2026), form_key(&other, 2026));
        assert_ne!(form_key(&form, 2026), form_key(&form, 2025));
        assert_eq!(form_key(&form, 2026), form_key(&form.clone(), 2026));
    }
}
