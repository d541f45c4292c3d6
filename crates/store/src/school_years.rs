//! School years and terms, set per school.

use crate::audit::{self, Change};
use crate::entity::{school_year, term};
use crate::error::Msg;
use crate::{ActorRef, Error, Result};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use truongso_core::org::OrgKind;
use truongso_core::school_year::{TermDates, TermKind, YearCalendar};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolYearRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub terms: Vec<TermDates>,
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &ActorRef,
    school_id: Uuid,
    cal: &YearCalendar,
) -> Result<SchoolYearRow> {
    let txn = db.begin().await?;
    let school = crate::org::get(&txn, school_id).await?;
    if school.kind != OrgKind::School {
        return Err(Error::conflict("not_a_school"));
    }
    let exists = school_year::Entity::find()
        .filter(school_year::Column::SchoolId.eq(school_id))
        .filter(school_year::Column::StartYear.eq(cal.year.start_year()))
        .count(&txn)
        .await?;
    if exists > 0 {
        return Err(Error::Conflict(
            Msg::new("duplicate_school_year").with("year", cal.year.name()),
        ));
    }
    let id = crate::new_id();
    school_year::ActiveModel {
        id: Set(id),
        school_id: Set(school_id),
        name: Set(cal.year.name()),
        start_year: Set(cal.year.start_year()),
        starts_on: Set(cal.starts_on),
        ends_on: Set(cal.ends_on),
        created_at: Set(crate::now()),
    }
    .insert(&txn)
    .await?;
    for t in &cal.terms {
        term::ActiveModel {
            id: Set(crate::new_id()),
            school_year_id: Set(id),
            kind: Set(t.kind.as_str().into()),
            starts_on: Set(t.starts_on),
            ends_on: Set(t.ends_on),
        }
        .insert(&txn)
        .await?;
    }
    let row = SchoolYearRow {
        id,
        school_id,
        name: cal.year.name(),
        starts_on: cal.starts_on,
        ends_on: cal.ends_on,
        terms: cal.terms.clone(),
    };
    audit::append(
        &txn,
        actor,
        Change::new("school_year.create", "school_year", id).after(&row),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A school's years, newest first, with their terms.
pub async fn for_school<C: ConnectionTrait>(db: &C, school_id: Uuid) -> Result<Vec<SchoolYearRow>> {
    let years = school_year::Entity::find()
        .filter(school_year::Column::SchoolId.eq(school_id))
        .order_by_desc(school_year::Column::StartYear)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = years.iter().map(|y| y.id).collect();
    let terms = if ids.is_empty() {
        vec![]
    } else {
        term::Entity::find()
            .filter(term::Column::SchoolYearId.is_in(ids))
            .order_by_asc(term::Column::StartsOn)
            .all(db)
            .await?
    };
    Ok(years
        .into_iter()
        .map(|y| SchoolYearRow {
            terms: terms
                .iter()
                .filter(|t| t.school_year_id == y.id)
                .filter_map(|t| {
                    Some(TermDates {
                        kind: TermKind::parse(&t.kind).ok()?,
                        starts_on: t.starts_on,
                        ends_on: t.ends_on,
                    })
                })
                .collect(),
            id: y.id,
            school_id: y.school_id,
            name: y.name,
            starts_on: y.starts_on,
            ends_on: y.ends_on,
        })
        .collect())
}

/// The year in progress on `day`, if the school has set one.
pub async fn current<C: ConnectionTrait>(
    db: &C,
    school_id: Uuid,
    day: NaiveDate,
) -> Result<Option<SchoolYearRow>> {
    Ok(for_school(db, school_id)
        .await?
        .into_iter()
        .find(|y| y.starts_on <= day && day <= y.ends_on))
}

/// One year with its terms.
pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<SchoolYearRow> {
    let y = school_year::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("unknown_school_year"))?;
    for_school(db, y.school_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::not_found("unknown_school_year"))
}
