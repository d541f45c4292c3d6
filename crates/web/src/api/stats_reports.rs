//! `/api/v1/stats` reports: dynamic reports (an indicator or a count, grouped by one or two
//! dimensions, filtered), every indicator of a unit, population tables (import and list),
//! universal-education levels (PCGD–XMC) per commune with the roll-up, and the province
//! dashboard. The pages (`pages::stats_reports`) call the same functions, so both answer alike.
//!
//! Parameters arrive as text and are read here, so a bad one gets a precise Vietnamese message
//! with status 400 (`invalid_field`, the parameter named in `field`) rather than the framework's
//! generic rejection.

use crate::AppState;
use crate::api::ApiResult;
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::scope;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use truongso_core::auth::{Action, Resource};
use truongso_core::codes::{self, CodeList};
use truongso_core::i18n::{self, Locale};
use truongso_core::org::{OrgKind, OrgPath, SchoolLevel};
use truongso_core::quality::QualityPolicy;
use truongso_core::stats::catalogue::{FieldRef, Filter};
use truongso_core::stats::compute::{self, Dim};
use truongso_core::stats::facts::{Entity, Facts, Kind, Val};
use truongso_core::stats::indicators::{self, IndicatorError, IndicatorId, Inputs, Rate, RateKind, Side};
use truongso_core::stats::pcgd::{self, AgeCounts, CommuneInput, CommuneResult, RollupResult, Thresholds};
use truongso_core::stats::period::Status;
use truongso_core::stats::population::{self, PopulationRow, PopulationTable};
use truongso_docs::template::{Column, Template};
use truongso_store::entity::population_row;
use truongso_store::org::{self, OrgUnit};
use truongso_store::stats::{self, Cut};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

/// The OpenAPI paths of this module, merged into the platform's document.
#[derive(OpenApi)]
#[openapi(paths(
    get_report,
    get_indicators,
    get_population,
    post_population,
    get_pcgd,
    get_dashboard
))]
pub struct Doc;

// ---------------------------------------------------------------------------------------------
// Parameters

fn t(locale: Locale, key: &str) -> String {
    i18n::t(locale, key).to_string()
}

fn tf(locale: Locale, key: &str, params: &[(&str, String)]) -> String {
    i18n::tf(locale, key, params)
}

/// A parameter the caller got wrong: 400 with the parameter's name and what is wrong with it.
pub fn bad(locale: Locale, field: &'static str, message: String) -> AppError {
    let mut e = AppError::new(StatusCode::BAD_REQUEST, "invalid_field")
        .with("field", i18n::t(locale, &format!("stats_reports.param.{field}")))
        .with("message", message);
    e.field = Some(field);
    e
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub fn parse_unit(locale: Locale, s: &Option<String>) -> AppResult<Option<Uuid>> {
    blank(s)
        .map(|v| {
            Uuid::parse_str(v).map_err(|_| {
                bad(
                    locale,
                    "unit",
                    tf(locale, "stats_reports.error.bad_unit", &[("value", v.into())]),
                )
            })
        })
        .transpose()
}

/// The school year (its first calendar year) in progress on `day`: one starts in August.
pub fn school_year_of(day: NaiveDate) -> i32 {
    if day.month() >= 8 {
        day.year()
    } else {
        day.year() - 1
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid constant date")
}

/// The day a report of school year `year` is computed at when none is asked: today while the
/// year is in progress (the live view), its last reporting day (31/5) once it is over, its
/// beginning-of-year day (30/9) before it starts.
pub fn default_reference(year: i32, today: NaiveDate) -> NaiveDate {
    let (start, end) = (ymd(year, 8, 1), ymd(year + 1, 5, 31));
    if today < start {
        ymd(year, 9, 30)
    } else if today > end {
        end
    } else {
        today
    }
}

fn parse_year(locale: Locale, s: &Option<String>) -> AppResult<Option<i32>> {
    let Some(v) = blank(s) else { return Ok(None) };
    // "2026-2027" names a school year by its first year too.
    let first = v.split(['-', '–', '/']).next().unwrap_or(v).trim();
    match first.parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => Ok(Some(y)),
        _ => Err(bad(
            locale,
            "year",
            tf(locale, "stats_reports.error.bad_year", &[("value", v.into())]),
        )),
    }
}

/// School year and reference date from `year` and `date` (either, both or neither).
pub fn resolve_cut(
    locale: Locale,
    year: &Option<String>,
    date: &Option<String>,
) -> AppResult<(i32, NaiveDate)> {
    let year = parse_year(locale, year)?;
    let date = match blank(date) {
        None => None,
        Some(d) => Some(truongso_core::org::parse_date(d).map_err(|_| {
            let mut e = AppError::new(StatusCode::BAD_REQUEST, "invalid_date");
            e.field = Some("date");
            e
        })?),
    };
    let today = crate::today();
    match (year, date) {
        (None, None) => {
            let y = school_year_of(today);
            Ok((y, default_reference(y, today)))
        }
        (Some(y), None) => Ok((y, default_reference(y, today))),
        (None, Some(d)) => Ok((school_year_of(d), d)),
        (Some(y), Some(d)) => {
            if school_year_of(d) != y {
                return Err(bad(
                    locale,
                    "date",
                    tf(
                        locale,
                        "stats_reports.error.date_outside_year",
                        &[
                            ("date", crate::view::date(&d)),
                            ("year", format!("{y}-{}", y + 1)),
                        ],
                    ),
                ));
            }
            Ok((y, d))
        }
    }
}

/// "1.234" (Vietnamese) or "1,234" (English).
pub fn count_text(locale: Locale, n: u64) -> String {
    let sep = if locale == Locale::Vi { '.' } else { ',' };
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

fn rate_text(locale: Locale, r: Rate, kind: RateKind) -> Option<String> {
    match locale {
        Locale::Vi => r.format_vi(kind),
        Locale::En => r.format_en(kind),
    }
}

// ---------------------------------------------------------------------------------------------
// What a report measures, and by what it is grouped

/// An indicator, or a count of one kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Indicator(IndicatorId),
    Count(Entity),
}

/// The counts a report may show, by their code in addresses.
pub const COUNTS: [(&str, Entity); 5] = [
    ("learners", Entity::Learner),
    ("classes", Entity::Class),
    ("staff", Entity::Staff),
    ("schools", Entity::School),
    ("rooms", Entity::Room),
];

impl Measure {
    pub fn parse(s: &str) -> Option<Measure> {
        let s = s.trim();
        COUNTS
            .iter()
            .find(|(c, _)| *c == s)
            .map(|(_, e)| Measure::Count(*e))
            .or_else(|| IndicatorId::parse(s).map(Measure::Indicator))
    }

    pub fn code(self) -> &'static str {
        match self {
            Measure::Indicator(i) => i.as_str(),
            Measure::Count(e) => COUNTS
                .iter()
                .find(|(_, x)| *x == e)
                .map(|(c, _)| *c)
                .unwrap_or("learners"),
        }
    }

    pub fn name(self, locale: Locale) -> String {
        match self {
            Measure::Indicator(i) => t(locale, &i.name_key()),
            Measure::Count(_) => t(locale, &format!("stats_reports.count.{}.name", self.code())),
        }
    }

    pub fn formula(self, locale: Locale) -> String {
        match self {
            Measure::Indicator(i) => t(locale, &i.formula_key()),
            Measure::Count(_) => t(locale, &format!("stats_reports.count.{}.formula", self.code())),
        }
    }

    /// `percent`, `ratio` or `count`.
    pub fn kind(self) -> &'static str {
        match self {
            Measure::Indicator(i) => match i.kind() {
                RateKind::Percent => "percent",
                RateKind::Ratio => "ratio",
            },
            Measure::Count(_) => "count",
        }
    }

    /// Every measure, indicators first.
    pub fn all() -> Vec<Measure> {
        IndicatorId::ALL
            .into_iter()
            .map(Measure::Indicator)
            .chain(COUNTS.iter().map(|(_, e)| Measure::Count(*e)))
            .collect()
    }
}

/// The child units of the report's unit: a dimension the facts do not carry (their school
/// does), resolved through the tree.
pub const UNIT_DIM: &str = "unit";

/// The dimensions a report offers, in the order a picker lists them. A measure accepts those
/// that mean the same for its numerator and denominator ([`dimensions_for`]).
pub const DIMENSIONS: &[&str] = &[
    UNIT_DIM,
    "school",
    "level",
    "grade",
    "sex",
    "minority",
    "ethnicity",
    "age",
    "on_age",
    "disabled",
    "disability",
    "boards",
    "two_sessions",
    "new_entrant",
    "repeater",
    "policy_any",
    "dropped_out",
    "dropout_reason",
    "transferred_out",
    "completed_level",
    "learning",
    "conduct",
    "nutrition",
    "residence",
    "region_band",
    "region",
    "area",
    "difficult",
    "school_type",
    "ownership_group",
    "ownership",
    "standard_level",
    "group",
    "position",
    "contract",
    "qualification",
    "trained",
    "rating",
    "teacher",
    "manager",
    "multigrade",
    "boarding",
    "specialist",
    "kind",
    "quality",
];

/// The core dimension behind a report dimension (child units are read through schools).
fn core_dim(name: &str) -> &str {
    if name == UNIT_DIM { "school" } else { name }
}

/// The level an indicator is computed for when none is asked.
pub fn default_level(id: IndicatorId) -> SchoolLevel {
    id.levels().first().copied().unwrap_or(SchoolLevel::TH)
}

/// Whether a dimension may group a measure: for a count, any field of its records (or of their
/// school); for an indicator, a field both sides share (decided by the engine on no data).
pub fn dimension_ok(measure: Measure, level: Option<SchoolLevel>, name: &str) -> bool {
    match measure {
        Measure::Count(e) => Dim::parse(e, core_dim(name)).is_some(),
        Measure::Indicator(id) => {
            let level = level.unwrap_or_else(|| default_level(id));
            let empty = Facts::default();
            let earlier = |_: i32| Some(&empty);
            let population = |_: u8, _: Option<&str>| Some(0u64);
            let inputs = Inputs {
                year: &empty,
                earlier: &earlier,
                later: Some(&empty),
                population: &population,
            };
            indicators::evaluate(id, level, &inputs, &[core_dim(name)], &[]).is_ok()
        }
    }
}

pub fn dimensions_for(measure: Measure, level: Option<SchoolLevel>) -> Vec<&'static str> {
    DIMENSIONS
        .iter()
        .copied()
        .filter(|d| dimension_ok(measure, level, d))
        .collect()
}

pub fn dimension_label(locale: Locale, name: &str) -> String {
    t(locale, &format!("stats.field.{name}"))
}

/// The official code list of a field, where it has one.
fn code_list(field: &str) -> Option<&'static CodeList> {
    Some(match field {
        "ethnicity" => &codes::DAN_TOC,
        "disability" => &codes::LOAI_KHUYET_TAT,
        "dropout_reason" => &codes::LY_DO_THOI_HOC,
        "boarding" => &codes::HOC_BAN_TRU,
        "policy" => &codes::DIEN_CHINH_SACH,
        "group" => &codes::NHOM_CAN_BO,
        "position" => &codes::LOAI_CAN_BO,
        "contract" => &codes::HINH_THUC_HOP_DONG,
        "qualification" => &codes::TRINH_DO_CHUYEN_MON,
        "rating" => &codes::KQ_CHUAN_NGHE_NGHIEP,
        "ownership" => &codes::LOAI_HINH,
        "region" => &codes::VUNG,
        "area" => &codes::KHU_VUC,
        "school_type" => &codes::LOAI_TRUONG,
        _ => return None,
    })
}

/// Values with a label in the message catalogue (`stats.value.<field>.<code>`, `level.<code>`).
fn catalogue_values(field: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match field {
        "sex" => (&["male", "female"], "stats.value.sex"),
        "ownership_group" => (&["cong_lap", "dan_lap", "tu_thuc"], "stats.value.ownership_group"),
        "region_band" => (&["delta", "mountain"], "stats.value.region_band"),
        "level" | "levels" => (&["MN", "TH", "THCS", "THPT", "GDTX"], "level"),
        _ => return None,
    })
}

/// The kind of a field on any entity (its own, or its school's).
fn field_kind(name: &str) -> Option<Kind> {
    Entity::ALL
        .iter()
        .find_map(|e| FieldRef::resolve(*e, name).map(|(_, f)| f.kind))
}

/// The label of one group value.
pub fn value_label(locale: Locale, dim: &str, v: &Val, names: &HashMap<String, String>) -> String {
    let code = match v {
        Val::Null => return t(locale, "stats_reports.not_recorded"),
        Val::Bool(b) => return t(locale, &format!("stats.value.bool.{}", u8::from(*b))),
        Val::Int(i) => {
            return match dim {
                "grade" => tf(locale, "stats_reports.value.grade", &[("n", i.to_string())]),
                "age" => tf(locale, "stats_reports.value.age", &[("n", i.to_string())]),
                "standard_level" if *i == 0 => t(locale, "stats_reports.value.no_standard"),
                "standard_level" => tf(locale, "stats_reports.value.standard", &[("n", i.to_string())]),
                _ => i.to_string(),
            };
        }
        Val::Code(c) => c.clone(),
        Val::Codes(cs) => cs.join(", "),
    };
    if let Some(name) = names.get(&code) {
        return name.clone();
    }
    if let Some(list) = code_list(dim)
        && let Some(l) = list.label(&code)
    {
        return l.to_string();
    }
    if let Some((values, prefix)) = catalogue_values(dim)
        && values.contains(&code.as_str())
    {
        return t(locale, &format!("{prefix}.{code}"));
    }
    code
}

/// Reads a filter typed by a person: `sex = nữ, level = TH; minority = có`. Field names are
/// the fields' codes; values may be codes or their labels (`Kinh`, `Nữ`, `Công lập`).
pub fn parse_filter(locale: Locale, raw: &str) -> AppResult<Vec<(String, String)>> {
    let mut out = vec![];
    for part in raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((field, value)) = part.split_once('=').or_else(|| part.split_once(':')) else {
            return Err(bad(
                locale,
                "filter",
                tf(
                    locale,
                    "stats_reports.error.filter_syntax",
                    &[("part", part.into())],
                ),
            ));
        };
        let field = field.trim().to_lowercase();
        let value = value.trim();
        let Some(kind) = field_kind(&field) else {
            return Err(bad(
                locale,
                "filter",
                tf(
                    locale,
                    "stats_reports.error.unknown_field",
                    &[("field", field.clone())],
                ),
            ));
        };
        let label = dimension_label(locale, &field);
        let wrong = || {
            bad(
                locale,
                "filter",
                tf(
                    locale,
                    "stats_reports.error.bad_value",
                    &[("field", label.clone()), ("value", value.into())],
                ),
            )
        };
        if value.is_empty() {
            return Err(wrong());
        }
        let code = match kind {
            Kind::Int => value.parse::<i64>().map_err(|_| wrong())?.to_string(),
            Kind::Bool => match truongso_core::text::fold(value).as_str() {
                "1" | "true" | "co" | "yes" => "1".into(),
                "0" | "false" | "khong" | "no" => "0".into(),
                _ => return Err(wrong()),
            },
            Kind::Code | Kind::Codes => {
                if let Some(list) = code_list(&field) {
                    list.parse(value).map_err(|_| wrong())?.to_string()
                } else if let Some((values, prefix)) = catalogue_values(&field) {
                    let folded = truongso_core::text::fold(value);
                    values
                        .iter()
                        .find(|c| {
                            c.eq_ignore_ascii_case(value)
                                || [Locale::Vi, Locale::En].iter().any(|l| {
                                    truongso_core::text::fold(i18n::t(*l, &format!("{prefix}.{c}"))) == folded
                                })
                        })
                        .map(|c| c.to_string())
                        .ok_or_else(wrong)?
                } else {
                    value.to_string()
                }
            }
        };
        out.push((field, code));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Dynamic reports

/// A dynamic report's parameters as they arrive (query string of the page, its export and the
/// API alike).
#[derive(Debug, Default, Clone, Deserialize, Serialize, IntoParams)]
pub struct ReportQuery {
    /// A school or an office (default: the highest unit of the caller's grants).
    pub unit: Option<String>,
    /// An indicator (`dropout_rate`, `pupils_per_teacher`, …) or a count: `learners`,
    /// `classes`, `staff`, `schools`, `rooms`. Default `learners`.
    pub measure: Option<String>,
    /// `MN`, `TH`, `THCS` or `THPT`: the level an indicator is computed for (default its first),
    /// or a filter on a count.
    pub level: Option<String>,
    /// First grouping dimension (`unit` = the unit's direct children, `sex`, `grade`, …).
    pub by1: Option<String>,
    /// Second grouping dimension.
    pub by2: Option<String>,
    /// Conditions `field = value`, separated by commas: `sex = nữ, minority = có`.
    pub filter: Option<String>,
    /// School year by its first year (`2026` or `2026-2027`; default the current one).
    pub year: Option<String>,
    /// Reference date `dd/mm/yyyy` or `yyyy-mm-dd` (default: today in the current year, 31/5
    /// of a past one).
    pub date: Option<String>,
    /// Exports only: `xlsx` or `csv`.
    pub format: Option<String>,
}

/// A resolved, authorised report request.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub unit: OrgUnit,
    pub choices: Vec<OrgUnit>,
    pub measure: Measure,
    pub level: Option<SchoolLevel>,
    pub by: Vec<String>,
    pub filter: Vec<(String, String)>,
    pub start_year: i32,
    pub reference: NaiveDate,
}

impl ReportQuery {
    /// The unit (authorised first: a forbidden unit is 403 whatever else is wrong), then every
    /// other parameter.
    pub async fn resolve(&self, st: &AppState, p: &Principal, locale: Locale) -> AppResult<ReportSpec> {
        let asked = parse_unit(locale, &self.unit)?;
        let (unit, choices) = scope::chosen_unit(st, p, asked, Action::ViewStats).await?;
        let measure = match blank(&self.measure) {
            None => Measure::Count(Entity::Learner),
            Some(m) => Measure::parse(m).ok_or_else(|| {
                bad(
                    locale,
                    "measure",
                    tf(
                        locale,
                        "stats_reports.error.unknown_measure",
                        &[("value", m.into())],
                    ),
                )
            })?,
        };
        let mut filter = match blank(&self.filter) {
            None => vec![],
            Some(f) => parse_filter(locale, f)?,
        };
        let mut level = match blank(&self.level) {
            None => None,
            Some(l) => Some(SchoolLevel::parse(l).map_err(|_| {
                bad(
                    locale,
                    "level",
                    tf(
                        locale,
                        "stats_reports.error.unknown_level",
                        &[("value", l.into())],
                    ),
                )
            })?),
        };
        if let Measure::Indicator(id) = measure {
            // The formula fixes the level itself: a level condition picks the level instead.
            if let Some(i) = filter.iter().position(|(f, _)| f == "level") {
                let (_, v) = filter.remove(i);
                let l = SchoolLevel::parse(&v).map_err(|_| {
                    bad(
                        locale,
                        "filter",
                        tf(
                            locale,
                            "stats_reports.error.unknown_level",
                            &[("value", v.clone())],
                        ),
                    )
                })?;
                if level.is_some_and(|x| x != l) {
                    return Err(bad(locale, "filter", t(locale, "stats_reports.error.two_levels")));
                }
                level = Some(l);
            }
            let l = *level.get_or_insert_with(|| default_level(id));
            if !id.applies_to(l) {
                return Err(bad(
                    locale,
                    "level",
                    tf(
                        locale,
                        "stats_reports.error.not_applicable",
                        &[
                            ("indicator", measure.name(locale)),
                            ("level", t(locale, &format!("level.{}", l.as_str()))),
                        ],
                    ),
                ));
            }
        }
        let mut by = vec![];
        for (field, v) in [("by1", &self.by1), ("by2", &self.by2)] {
            let Some(d) = blank(v) else { continue };
            if !DIMENSIONS.contains(&d) && field_kind(d).is_none() {
                return Err(bad(
                    locale,
                    field,
                    tf(
                        locale,
                        "stats_reports.error.unknown_dimension",
                        &[("dimension", d.into())],
                    ),
                ));
            }
            if by.iter().any(|b| b == d) {
                return Err(bad(
                    locale,
                    field,
                    t(locale, "stats_reports.error.same_dimension"),
                ));
            }
            if !dimension_ok(measure, level, d) {
                let key = match measure {
                    Measure::Indicator(_) => "stats_reports.error.dimension_not_shared",
                    Measure::Count(_) => "stats_reports.error.dimension_not_of_entity",
                };
                return Err(bad(
                    locale,
                    field,
                    tf(
                        locale,
                        key,
                        &[
                            ("measure", measure.name(locale)),
                            ("dimension", dimension_label(locale, d)),
                        ],
                    ),
                ));
            }
            by.push(d.to_string());
        }
        let (start_year, reference) = resolve_cut(locale, &self.year, &self.date)?;
        Ok(ReportSpec {
            unit,
            choices,
            measure,
            level,
            by,
            filter,
            start_year,
            reference,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    /// Stable code or id.
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FilterView {
    pub field: String,
    pub field_label: String,
    pub value: String,
    pub value_label: String,
}

/// One group of a report (or its total).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    /// One value per grouping dimension.
    pub key: Vec<Named>,
    /// The indicator's numerator, or the count.
    pub numerator: u64,
    /// The indicator's denominator, or for a count the total over every group (its share).
    pub denominator: u64,
    /// In hundredths: of a percent (percent indicators, the share of a count) or of the ratio;
    /// none when the denominator is 0 (never shown as 0).
    pub value_hundredths: Option<u64>,
    /// The value as written in the request's language: "12,50 %", "28,40".
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub measure: String,
    pub measure_name: String,
    /// The formula in words.
    pub formula: String,
    /// `percent`, `ratio` or `count`.
    pub kind: String,
    pub level: Option<String>,
    /// `2026-2027`.
    pub school_year: String,
    pub reference_date: NaiveDate,
    pub group_by: Vec<Named>,
    pub filter: Vec<FilterView>,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
}

/// Each school's direct child of `unit` (the school itself when it answers to the unit
/// directly, or when the unit is the school): id and name.
async fn child_of_schools(
    st: &AppState,
    unit: &OrgUnit,
    facts: &Facts,
) -> AppResult<HashMap<Uuid, (Uuid, String)>> {
    let children: HashMap<Uuid, String> = org::children(&st.store.db, unit.id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut out = HashMap::new();
    for s in &facts.schools {
        let ids = OrgPath::parse(&s.path).map(|p| p.ids()).unwrap_or_default();
        let child = ids
            .iter()
            .skip_while(|i| **i != unit.id)
            .nth(1)
            .and_then(|id| children.get(id).map(|n| (*id, n.clone())))
            .unwrap_or((s.id, s.name.clone()));
        out.insert(s.id, child);
    }
    Ok(out)
}

/// Resident population by commune and age for one year, from the tables stored by the unit's
/// offices (a lower office's table wins for its communes).
type Population = HashMap<(String, u8), u64>;

async fn population_of(st: &AppState, unit: &OrgUnit, year: i32) -> AppResult<Population> {
    let rows = stats::population(&st.store.db, unit).await?;
    let depth: HashMap<Uuid, usize> = unit
        .path
        .ids()
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    // The deepest office that surveyed a commune supplies all of it (an import replaces a
    // commune's year whole).
    let mut source: HashMap<&str, usize> = HashMap::new();
    for r in rows.iter().filter(|r| r.year == year) {
        let d = depth.get(&r.office_id).copied().unwrap_or(0);
        let e = source.entry(r.commune.as_str()).or_insert(d);
        *e = (*e).max(d);
    }
    let mut by = HashMap::new();
    for r in rows.iter().filter(|r| r.year == year) {
        if source.get(r.commune.as_str()) == Some(&depth.get(&r.office_id).copied().unwrap_or(0)) {
            by.insert(
                (r.commune.clone(), r.age.clamp(0, 255) as u8),
                r.population.max(0) as u64,
            );
        }
    }
    Ok(by)
}

/// The communes the unit's schools stand in: the area a population denominator covers.
fn area_of(facts: &Facts) -> BTreeSet<String> {
    (0..facts.schools.len())
        .filter_map(|i| match facts.school_fact(i).get("commune") {
            Some(Val::Code(c)) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn has_records(f: &Facts) -> bool {
    f.facts
        .iter()
        .any(|x| matches!(x.entity, Entity::Learner | Entity::Class))
}

fn uses_population(id: IndicatorId, level: SchoolLevel) -> bool {
    id.definition(level).is_some_and(|d| {
        [&d.numerator, &d.denominator]
            .iter()
            .any(|s| matches!(s, Side::Population { .. }))
    })
}

fn indicator_error(locale: Locale, spec: &ReportSpec, e: IndicatorError) -> AppError {
    let by_field = |dim: &str| -> &'static str {
        match spec.by.iter().position(|b| b == dim || core_dim(b) == dim) {
            Some(1) => "by2",
            _ => "by1",
        }
    };
    let name = spec.measure.name(locale);
    match e {
        IndicatorError::NotApplicable { level, .. } => bad(
            locale,
            "level",
            tf(
                locale,
                "stats_reports.error.not_applicable",
                &[
                    ("indicator", name),
                    ("level", t(locale, &format!("level.{}", level.as_str()))),
                ],
            ),
        ),
        IndicatorError::UnknownDimension { dimension } => bad(
            locale,
            by_field(&dimension),
            tf(
                locale,
                "stats_reports.error.unknown_dimension",
                &[("dimension", dimension)],
            ),
        ),
        IndicatorError::DimensionNotShared { dimension } => bad(
            locale,
            by_field(&dimension),
            tf(
                locale,
                "stats_reports.error.dimension_not_shared",
                &[
                    ("measure", name),
                    ("dimension", dimension_label(locale, &dimension)),
                ],
            ),
        ),
        IndicatorError::FilterNotShared { field } => bad(
            locale,
            "filter",
            tf(
                locale,
                "stats_reports.error.filter_not_shared",
                &[("measure", name), ("field", dimension_label(locale, &field))],
            ),
        ),
        IndicatorError::InvalidFilter(d) => filter_error(locale, &d),
        IndicatorError::MissingData { what } => bad(
            locale,
            "measure",
            tf(locale, "stats_reports.error.missing_data", &[("what", what)]),
        ),
        IndicatorError::InvalidDefinition(d) => AppError::internal(d),
    }
}

fn filter_error(locale: Locale, d: &truongso_core::stats::DefinitionError) -> AppError {
    let field =
        d.at.trim_start_matches("filter.")
            .split('.')
            .next()
            .unwrap_or("")
            .to_string();
    let key = match d.code {
        "unknown_field" => "stats_reports.error.filter_not_of_entity",
        _ => "stats_reports.error.bad_value",
    };
    bad(
        locale,
        "filter",
        tf(
            locale,
            key,
            &[
                ("field", dimension_label(locale, &field)),
                ("value", d.detail.clone()),
            ],
        ),
    )
}

/// Where a group value sorts: unrecorded last, numbers by value, the rest by label.
type SortKey = (u8, i64, String);

fn sort_key(v: &Val, label: &str) -> SortKey {
    match v {
        Val::Null => (2, 0, String::new()),
        Val::Int(i) => (0, *i, String::new()),
        Val::Bool(b) => (0, i64::from(!*b), String::new()),
        _ => (1, 0, truongso_core::text::fold(label)),
    }
}

/// What reports of one unit and day read, loaded once and shared by several evaluations (every
/// indicator of a unit): this year's facts, and on demand earlier and later years' and the
/// population.
pub struct Data {
    facts: Facts,
    earlier: HashMap<i32, Facts>,
    later: Option<Facts>,
    population: Option<Population>,
    children: Option<HashMap<Uuid, (Uuid, String)>>,
}

impl Data {
    pub async fn load(st: &AppState, spec: &ReportSpec) -> AppResult<Data> {
        let cut = Cut::new(spec.start_year, spec.reference);
        Ok(Data {
            facts: stats::unit_facts(&st.store.db, &st.cipher, &spec.unit, cut).await?,
            earlier: HashMap::new(),
            later: None,
            population: None,
            children: None,
        })
    }

    /// Loads what the report needs beyond this year's facts; a year or a population table that
    /// does not exist is a precise 400.
    async fn prepare(&mut self, st: &AppState, spec: &ReportSpec, locale: Locale) -> AppResult<()> {
        let db = &st.store.db;
        if spec.by.iter().any(|b| b == UNIT_DIM) && self.children.is_none() {
            self.children = Some(child_of_schools(st, &spec.unit, &self.facts).await?);
        }
        let Measure::Indicator(id) = spec.measure else {
            return Ok(());
        };
        let level = spec.level.unwrap_or_else(|| default_level(id));
        let Some(def) = id.definition(level) else {
            return Ok(());
        };
        for side in [&def.numerator, &def.denominator] {
            let Side::Facts { year, .. } = side else { continue };
            let (n, y) = match year {
                indicators::Year::This => continue,
                indicators::Year::Earlier(n) => (i32::from(*n), spec.start_year - i32::from(*n)),
                indicators::Year::Later => (-1, spec.start_year + 1),
            };
            let loaded = if n < 0 {
                self.later.is_some()
            } else {
                self.earlier.contains_key(&n)
            };
            if !loaded {
                let other = stats::unit_facts(db, &st.cipher, &spec.unit, Cut::new(y, ymd(y, 9, 30))).await?;
                if n < 0 {
                    self.later = Some(other);
                } else {
                    self.earlier.insert(n, other);
                }
            }
            let other = if n < 0 {
                self.later.as_ref()
            } else {
                self.earlier.get(&n)
            };
            if !other.is_some_and(has_records) {
                return Err(bad(
                    locale,
                    "year",
                    tf(
                        locale,
                        "stats_reports.error.no_year_data",
                        &[("year", format!("{y}-{}", y + 1))],
                    ),
                ));
            }
        }
        if uses_population(id, level) {
            if self.population.is_none() {
                self.population = Some(population_of(st, &spec.unit, spec.start_year).await?);
            }
            if self.population.as_ref().is_none_or(HashMap::is_empty) {
                return Err(bad(
                    locale,
                    "year",
                    tf(
                        locale,
                        "stats_reports.error.no_population",
                        &[("year", spec.start_year.to_string())],
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Computes a report.
pub async fn run_report(st: &AppState, spec: &ReportSpec, locale: Locale) -> AppResult<ReportBody> {
    let mut data = Data::load(st, spec).await?;
    report_with(st, &mut data, spec, locale).await
}

/// Computes a report over loaded data (loading what else it needs).
pub async fn report_with(
    st: &AppState,
    data: &mut Data,
    spec: &ReportSpec,
    locale: Locale,
) -> AppResult<ReportBody> {
    data.prepare(st, spec, locale).await?;
    compute_report(data, spec, locale)
}

fn compute_report(data: &Data, spec: &ReportSpec, locale: Locale) -> AppResult<ReportBody> {
    let facts = &data.facts;
    let no_children = HashMap::new();
    let children = data.children.as_ref().unwrap_or(&no_children);
    let school_name: HashMap<Uuid, &str> = facts.schools.iter().map(|s| (s.id, s.name.as_str())).collect();
    // Group values as codes, school and unit ids resolved; with the labels of the ids.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut resolve_key = |key: Vec<Val>, from_index: bool| -> Vec<Val> {
        key.into_iter()
            .zip(&spec.by)
            .map(|(v, dim)| {
                let id = match (&v, dim.as_str()) {
                    (Val::Int(i), "school" | UNIT_DIM) if from_index => {
                        facts.schools.get(*i as usize).map(|s| s.id)
                    }
                    (Val::Code(c), "school" | UNIT_DIM) => Uuid::parse_str(c).ok(),
                    _ => return v,
                };
                let Some(id) = id else { return Val::Null };
                if dim == UNIT_DIM
                    && let Some((cid, cname)) = children.get(&id)
                {
                    names.insert(cid.to_string(), cname.clone());
                    return Val::Code(cid.to_string());
                }
                if let Some(n) = school_name.get(&id) {
                    names.insert(id.to_string(), n.to_string());
                }
                Val::Code(id.to_string())
            })
            .collect()
    };

    let (kind, grouped, total): (Option<RateKind>, BTreeMap<Vec<Val>, Rate>, Rate) = match spec.measure {
        Measure::Count(entity) => {
            let mut pairs = spec.filter.clone();
            if entity == Entity::Learner && !pairs.iter().any(|(f, _)| f == "on_roll") {
                pairs.push(("on_roll".into(), "1".into()));
            }
            if let Some(l) = spec.level {
                let field = if entity == Entity::School {
                    "levels"
                } else {
                    "level"
                };
                pairs.push((field.into(), l.as_str().into()));
            }
            let filter = Filter::from_pairs(entity, &pairs).map_err(|d| filter_error(locale, &d))?;
            let dims: Vec<Dim> = spec
                .by
                .iter()
                .map(|d| Dim::parse(entity, core_dim(d)).expect("checked in resolve"))
                .collect();
            let counts = compute::group(facts, entity, &filter, &dims, None);
            let all: u64 = counts.values().sum();
            let mut grouped: BTreeMap<Vec<Val>, Rate> = BTreeMap::new();
            for (k, n) in counts {
                grouped.entry(resolve_key(k, true)).or_default().numerator += n;
            }
            for r in grouped.values_mut() {
                r.denominator = all;
            }
            (None, grouped, Rate::new(all, all))
        }
        Measure::Indicator(id) => {
            let level = spec.level.unwrap_or_else(|| default_level(id));
            let def = id.definition(level).ok_or_else(|| {
                indicator_error(
                    locale,
                    spec,
                    IndicatorError::NotApplicable { indicator: id, level },
                )
            })?;
            let no_population = Population::new();
            let pop = data.population.as_ref().unwrap_or(&no_population);
            let area = area_of(facts);
            let population = |age: u8, commune: Option<&str>| -> Option<u64> {
                match commune {
                    Some(c) => pop.get(&(c.to_string(), age)).copied(),
                    None if area.is_empty() => None,
                    None => area
                        .iter()
                        .map(|c| pop.get(&(c.clone(), age)).copied())
                        .sum::<Option<u64>>(),
                }
            };
            let earlier_of = |n: i32| data.earlier.get(&n);
            let inputs = Inputs {
                year: facts,
                earlier: &earlier_of,
                later: data.later.as_ref(),
                population: &population,
            };
            let group: Vec<&str> = spec.by.iter().map(|d| core_dim(d)).collect();
            let rows = indicators::evaluate_definition(&def, &inputs, &group, &spec.filter)
                .map_err(|e| indicator_error(locale, spec, e))?;
            let total = indicators::evaluate_definition(&def, &inputs, &[], &spec.filter)
                .map_err(|e| indicator_error(locale, spec, e))?
                .first()
                .map(|r| r.rate)
                .unwrap_or_default();
            let mut grouped: BTreeMap<Vec<Val>, Rate> = BTreeMap::new();
            for r in rows {
                let e = grouped.entry(resolve_key(r.key, false)).or_default();
                e.numerator += r.rate.numerator;
                e.denominator += r.rate.denominator;
            }
            (Some(id.kind()), grouped, total)
        }
    };

    let value_kind = kind.unwrap_or(RateKind::Percent);
    let row = |key: Vec<Named>, r: Rate| ReportRow {
        key,
        numerator: r.numerator,
        denominator: r.denominator,
        value_hundredths: r.hundredths(value_kind),
        value: rate_text(locale, r, value_kind),
    };
    let mut rows: Vec<(Vec<SortKey>, ReportRow)> = grouped
        .into_iter()
        .map(|(key, r)| {
            let labelled: Vec<(Named, SortKey)> = key
                .iter()
                .zip(&spec.by)
                .map(|(v, dim)| {
                    let label = value_label(locale, dim, v, &names);
                    let sk = sort_key(v, &label);
                    (Named { code: v.key(), label }, sk)
                })
                .collect();
            let sk = labelled.iter().map(|(_, s)| s.clone()).collect();
            (sk, row(labelled.into_iter().map(|(n, _)| n).collect(), r))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let filter = spec
        .filter
        .iter()
        .map(|(f, v)| FilterView {
            field: f.clone(),
            field_label: dimension_label(locale, f),
            value: v.clone(),
            value_label: value_label(locale, f, &typed(f, v), &HashMap::new()),
        })
        .collect();
    Ok(ReportBody {
        unit_id: spec.unit.id,
        unit_name: spec.unit.name.clone(),
        measure: spec.measure.code().to_string(),
        measure_name: spec.measure.name(locale),
        formula: spec.measure.formula(locale),
        kind: spec.measure.kind().to_string(),
        level: spec.level.map(|l| l.as_str().to_string()),
        school_year: format!("{}-{}", spec.start_year, spec.start_year + 1),
        reference_date: spec.reference,
        group_by: spec
            .by
            .iter()
            .map(|d| Named {
                code: d.clone(),
                label: dimension_label(locale, d),
            })
            .collect(),
        filter,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        total: row(vec![], total),
    })
}

/// A filter value as the fact would hold it, for its label.
fn typed(field: &str, v: &str) -> Val {
    match field_kind(field) {
        Some(Kind::Int) => v.parse().map(Val::Int).unwrap_or(Val::Null),
        Some(Kind::Bool) => Val::Bool(v == "1"),
        _ => Val::Code(v.to_string()),
    }
}

/// A dynamic report: an indicator (numerator, denominator and value per group) or a count of
/// records (count and share per group), for a school or a subtree as at a reference date.
#[utoipa::path(get, path = "/api/v1/stats/reports", tag = "stats", params(ReportQuery),
    responses((status = 200, body = ReportBody), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn get_report(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ReportQuery>,
) -> ApiResult<ReportBody> {
    let spec = q.resolve(&st, &p, ctx.locale).await?;
    Ok(Json(run_report(&st, &spec, ctx.locale).await?))
}

// ---------------------------------------------------------------------------------------------
// Every indicator of a unit

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct IndicatorsQuery {
    pub unit: Option<String>,
    /// School year by its first year (default the current one).
    pub year: Option<String>,
    /// Reference date (default as for reports).
    pub date: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorValue {
    pub indicator: String,
    pub name: String,
    pub formula: String,
    pub level: String,
    /// `percent` or `ratio`.
    pub kind: String,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub value_hundredths: Option<u64>,
    pub value: Option<String>,
    /// Why there is no value (missing population, no earlier year…).
    pub missing: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorsBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub school_year: String,
    pub reference_date: NaiveDate,
    pub indicators: Vec<IndicatorValue>,
}

/// Every indicator for every level the unit's schools teach.
#[utoipa::path(get, path = "/api/v1/stats/indicators", tag = "stats", params(IndicatorsQuery),
    responses((status = 200, body = IndicatorsBody), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn get_indicators(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<IndicatorsQuery>,
) -> ApiResult<IndicatorsBody> {
    let locale = ctx.locale;
    let asked = parse_unit(locale, &q.unit)?;
    let (unit, _) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    let (start_year, reference) = resolve_cut(locale, &q.year, &q.date)?;
    let base = ReportSpec {
        unit: unit.clone(),
        choices: vec![],
        measure: Measure::Count(Entity::Learner),
        level: None,
        by: vec![],
        filter: vec![],
        start_year,
        reference,
    };
    // One load of the year's facts for every indicator (earlier years and the population are
    // loaded once, when the first indicator needs them).
    let mut data = Data::load(&st, &base).await?;
    let facts = &data.facts;
    let taught: BTreeSet<SchoolLevel> = facts
        .schools
        .iter()
        .enumerate()
        .flat_map(|(i, _)| match facts.school_fact(i).get("levels") {
            Some(Val::Codes(cs)) => cs.iter().filter_map(|c| SchoolLevel::parse(c).ok()).collect(),
            _ => vec![],
        })
        .collect();
    let mut out = vec![];
    for id in IndicatorId::ALL {
        for level in taught.iter().copied().filter(|l| id.applies_to(*l)) {
            let spec = ReportSpec {
                measure: Measure::Indicator(id),
                level: Some(level),
                ..base.clone()
            };
            let base = IndicatorValue {
                indicator: id.as_str().into(),
                name: t(locale, &id.name_key()),
                formula: t(locale, &id.formula_key()),
                level: level.as_str().into(),
                kind: Measure::Indicator(id).kind().into(),
                numerator: None,
                denominator: None,
                value_hundredths: None,
                value: None,
                missing: None,
            };
            out.push(match report_with(&st, &mut data, &spec, locale).await {
                Ok(r) => IndicatorValue {
                    numerator: Some(r.total.numerator),
                    denominator: Some(r.total.denominator),
                    value_hundredths: r.total.value_hundredths,
                    value: r.total.value.clone(),
                    missing: r
                        .total
                        .value
                        .is_none()
                        .then(|| t(locale, "stats_reports.zero_denominator")),
                    ..base
                },
                Err(e) if e.status == StatusCode::BAD_REQUEST => IndicatorValue {
                    missing: Some(crate::api::message(locale, &e)),
                    ..base
                },
                Err(e) => return Err(e),
            });
        }
    }
    Ok(Json(IndicatorsBody {
        unit_id: unit.id,
        unit_name: unit.name,
        school_year: format!("{start_year}-{}", start_year + 1),
        reference_date: reference,
        indicators: out,
    }))
}

// ---------------------------------------------------------------------------------------------
// Population tables

const fn column(
    key: &'static str,
    header_vi: &'static str,
    header_en: &'static str,
    example: &'static str,
    note_vi: &'static str,
) -> Column {
    // Required columns are checked by `PopulationTable::from_rows`, which reports every bad
    // cell at once; the star only tells the person filling the sheet.
    Column {
        key,
        header_vi,
        header_en,
        required: false,
        example,
        note_vi,
    }
}

/// The population template. Headers are those `core::stats::population` reads (a star or a
/// note in brackets does not change a header's meaning).
pub const POPULATION_TEMPLATE: Template = Template {
    id: "dan_so",
    sheet_vi: "DanSo",
    title_vi: "Dân số theo độ tuổi",
    title_en: "Population by age",
    columns: &[
        column(
            "commune",
            "Mã xã *",
            "Commune code",
            "08001",
            "5 chữ số theo danh mục đơn vị hành chính; định dạng ô là Văn bản để giữ số 0 ở đầu.",
        ),
        column(
            "commune_name",
            "Tên xã",
            "Commune name",
            "Phường Minh Xuân",
            "Không bắt buộc, chỉ để dễ đọc; hệ thống không dùng cột này.",
        ),
        column("year", "Năm *", "Year", "2026", "Năm điều tra (bốn chữ số)."),
        column(
            "age",
            "Tuổi *",
            "Age",
            "6",
            "Tuổi tính theo năm sinh: năm điều tra − năm sinh. Khai đủ mọi độ tuổi từ 0 đến tuổi lớn nhất; độ tuổi không có ai thì ghi dân số 0.",
        ),
        column(
            "population",
            "Dân số *",
            "Population",
            "152",
            "Số người cư trú trên địa bàn ở độ tuổi này; số nguyên, không có dấu phân cách.",
        ),
        column(
            "excluded",
            "Khuyết tật không có khả năng học",
            "Disabled unable to study",
            "1",
            "Không được lớn hơn dân số; để trống là 0.",
        ),
        column(
            "completed_preschool",
            "Hoàn thành CT mầm non",
            "Completed preschool",
            "",
            "Trẻ 5 tuổi đã hoàn thành chương trình giáo dục mầm non (ngoài số liệu của các trường).",
        ),
        column(
            "thcs_diploma_out",
            "Có bằng THCS (ngoài nhà trường)",
            "THCS diploma (out of school)",
            "",
            "Người đã có bằng tốt nghiệp THCS, không còn đi học.",
        ),
        column(
            "completed_primary_out",
            "Hoàn thành tiểu học (ngoài nhà trường)",
            "Completed primary (out of school)",
            "",
            "Người đã hoàn thành chương trình tiểu học, không còn đi học.",
        ),
        column(
            "studying_elsewhere",
            "Đang học nơi khác",
            "Studying elsewhere",
            "",
            "Đang học THPT, GDTX hoặc giáo dục nghề nghiệp ở nơi khác (ngoài các trường trên hệ thống).",
        ),
        column(
            "literate_l1",
            "Biết chữ mức 1",
            "Literate level 1",
            "",
            "Người đạt chuẩn biết chữ mức 1 trở lên (gồm cả người đạt mức 2).",
        ),
        column(
            "literate_l2",
            "Biết chữ mức 2",
            "Literate level 2",
            "",
            "Người đạt chuẩn biết chữ mức 2; không lớn hơn số biết chữ mức 1.",
        ),
    ],
};

/// Largest population table read: every commune of a large province, every age, several years.
pub const MAX_POPULATION_ROWS: usize = 200_000;

/// One problem of an uploaded table, located.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TableProblem {
    /// 1-based row of the sheet (the header is row 1); none for a problem of the whole file.
    pub row: Option<usize>,
    /// Column header (or letter).
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

/// The canonical header `core::stats::population` reads for a template column.
fn core_header(c: &Column) -> String {
    c.header_vi.trim_end_matches(" *").to_string()
}

/// Splits CSV text (RFC 4180: quotes, doubled quotes, line breaks inside quotes) into records.
/// The separator is guessed from the header line: `;` (Excel with a Vietnamese locale), a tab,
/// or `,`.
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let sep = [';', '\t', ',']
        .into_iter()
        .max_by_key(|s| (first.matches(*s).count(), *s == ','))
        .unwrap_or(',');
    let mut records = vec![];
    let mut record = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            c if c == sep => record.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

fn cell_problems(locale: Locale, errors: Vec<population::CellError>) -> Vec<TableProblem> {
    errors
        .into_iter()
        .map(|e| TableProblem {
            message: tf(
                locale,
                &format!("stats.population.error.{}", e.code),
                &[("row", e.row.to_string()), ("column", e.column.clone())],
            ),
            row: Some(e.row),
            column: Some(e.column),
            code: e.code.to_string(),
        })
        .collect()
}

fn file_problem(locale: Locale, code: &str) -> Vec<TableProblem> {
    vec![TableProblem {
        row: None,
        column: None,
        code: code.into(),
        message: t(locale, &format!("stats_reports.population.{code}")),
    }]
}

/// Reads an uploaded population table (XLSX by its signature, else CSV text) into the validated
/// table, or every problem found.
pub fn read_population(locale: Locale, bytes: &[u8]) -> Result<PopulationTable, Vec<TableProblem>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(file_problem(locale, "empty_file"));
    }
    let (header, rows) = if bytes.starts_with(b"PK\x03\x04") {
        let parsed =
            truongso_docs::parse(bytes, &POPULATION_TEMPLATE, MAX_POPULATION_ROWS).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| TableProblem {
                        row: e.row.map(|r| r as usize),
                        column: e.header.clone().or_else(|| e.column.clone()),
                        code: e.code.code().to_string(),
                        message: e.message(locale),
                    })
                    .collect::<Vec<_>>()
            })?;
        let present: Vec<&Column> = POPULATION_TEMPLATE
            .columns
            .iter()
            .filter(|c| parsed.column_letter(c.key).is_some())
            .collect();
        let header: Vec<String> = present.iter().map(|c| core_header(c)).collect();
        // Core counts data rows from sheet row 2: keep every row at its place.
        let last = parsed.rows.iter().map(|r| r.number as usize).max().unwrap_or(1);
        let mut rows = vec![vec![String::new(); header.len()]; last.saturating_sub(1)];
        for r in &parsed.rows {
            if let Some(slot) = (r.number as usize).checked_sub(2).and_then(|i| rows.get_mut(i)) {
                *slot = present
                    .iter()
                    .map(|c| r.get(c.key).unwrap_or("").to_string())
                    .collect();
            }
        }
        (header, rows)
    } else {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(file_problem(locale, "not_utf8"));
        };
        let mut records = csv_records(text);
        if records.len() > MAX_POPULATION_ROWS + 1 {
            return Err(file_problem(locale, "too_many_rows"));
        }
        if records.is_empty() {
            return Err(file_problem(locale, "empty_file"));
        }
        let header = records.remove(0);
        (header, records)
    };
    if rows.iter().all(|r| r.iter().all(|c| c.trim().is_empty())) {
        return Err(file_problem(locale, "no_rows"));
    }
    PopulationTable::from_rows(&header, &rows).map_err(|e| cell_problems(locale, e))
}

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct UnitQuery {
    /// A school or an office (default: the highest unit of the caller's grants).
    pub unit: Option<String>,
}

/// One commune and year of the population tables a unit uses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationEntry {
    pub year: i32,
    pub commune: String,
    /// The commune's office, when the tree has one with this code.
    pub commune_name: Option<String>,
    /// Ages given (0 to the highest, all present).
    pub ages: u32,
    pub max_age: u32,
    pub population: u64,
    /// The office that imported the table.
    pub office_id: Uuid,
    pub office_name: String,
    pub imported_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub entries: Vec<PopulationEntry>,
}

/// The commune offices of the unit's tree, by their code: names for commune codes.
async fn commune_names(st: &AppState, unit: &OrgUnit) -> AppResult<HashMap<String, String>> {
    let root = OrgPath::root(unit.path.ids()[0]);
    Ok(org::in_subtree(&st.store.db, &root, Some(OrgKind::CommuneOffice))
        .await?
        .into_iter()
        .filter_map(|u| u.code.clone().map(|c| (c, u.name)))
        .collect())
}

/// The population tables a unit uses (its own and its offices' above it), per year and commune.
pub async fn population_entries(st: &AppState, unit: &OrgUnit) -> AppResult<PopulationBody> {
    let rows = stats::population(&st.store.db, unit).await?;
    let offices: HashMap<Uuid, String> = org::get_many(&st.store.db, &unit.path.ids())
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let names = commune_names(st, unit).await?;
    let mut by: BTreeMap<(i32, String, Uuid), PopulationEntry> = BTreeMap::new();
    for r in &rows {
        let e = by
            .entry((r.year, r.commune.clone(), r.office_id))
            .or_insert_with(|| PopulationEntry {
                year: r.year,
                commune: r.commune.clone(),
                commune_name: names.get(&r.commune).cloned(),
                ages: 0,
                max_age: 0,
                population: 0,
                office_id: r.office_id,
                office_name: offices.get(&r.office_id).cloned().unwrap_or_default(),
                imported_at: r.imported_at,
            });
        e.ages += 1;
        e.max_age = e.max_age.max(r.age.max(0) as u32);
        e.population += r.population.max(0) as u64;
        e.imported_at = e.imported_at.max(r.imported_at);
    }
    let mut entries: Vec<PopulationEntry> = by.into_values().collect();
    entries.sort_by(|a, b| b.year.cmp(&a.year).then(a.commune.cmp(&b.commune)));
    Ok(PopulationBody {
        unit_id: unit.id,
        unit_name: unit.name.clone(),
        entries,
    })
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationImported {
    pub rows: u64,
    pub years: Vec<i32>,
    pub communes: Vec<String>,
}

/// Why an import was refused: every problem found; nothing was stored.
#[derive(Serialize, ToSchema)]
pub struct PopulationRefused {
    pub error: crate::api::ErrorDetail,
    pub problems: Vec<TableProblem>,
}

/// An office the caller may import population tables for.
pub async fn import_unit(
    st: &AppState,
    p: &Principal,
    locale: Locale,
    asked: &Option<String>,
) -> AppResult<OrgUnit> {
    let asked = parse_unit(locale, asked)?;
    let (unit, _) = scope::chosen_unit(st, p, asked, Action::ManageStats).await?;
    if !unit.kind.is_office() {
        return Err(bad(
            locale,
            "unit",
            t(locale, "stats_reports.error.not_an_office"),
        ));
    }
    Ok(unit)
}

/// Validates and stores a table for `office` (already authorised): the problems, or what was
/// stored.
pub async fn import_population(
    st: &AppState,
    p: &Principal,
    locale: Locale,
    office: &OrgUnit,
    bytes: &[u8],
) -> AppResult<Result<PopulationImported, Vec<TableProblem>>> {
    let table = match read_population(locale, bytes) {
        Ok(t) => t,
        Err(problems) => return Ok(Err(problems)),
    };
    let rows = stats::import_population(&st.store.db, &p.actor_ref(), office, &table).await?;
    let years = table.years();
    let communes: BTreeSet<String> = years.iter().flat_map(|y| table.communes(*y)).collect();
    Ok(Ok(PopulationImported {
        rows,
        years,
        communes: communes.into_iter().collect(),
    }))
}

pub fn refused_json(locale: Locale, problems: Vec<TableProblem>) -> Response {
    let body = PopulationRefused {
        error: crate::api::ErrorDetail {
            code: "population_invalid".into(),
            message: tf(
                locale,
                "stats_reports.population.refused",
                &[("n", problems.len().to_string())],
            ),
            field: Some("file".into()),
        },
        problems,
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The file of an upload: the `file` field of a multipart form, or the body itself (XLSX or
/// CSV text).
pub async fn upload_bytes(st: &AppState, locale: Locale, req: axum::extract::Request) -> AppResult<Vec<u8>> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let malformed = |e: String| AppError::bad_request("malformed_form").with("detail", e);
    if !multipart {
        let body = Bytes::from_request(req, st)
            .await
            .map_err(|e| malformed(e.body_text()))?;
        return Ok(body.to_vec());
    }
    let mut form = Multipart::from_request(req, st)
        .await
        .map_err(|e| malformed(e.body_text()))?;
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| malformed(e.body_text()))? {
        if field.name() == Some("file") {
            file = Some(
                field
                    .bytes()
                    .await
                    .map_err(|e| malformed(e.body_text()))?
                    .to_vec(),
            );
        }
    }
    file.filter(|f| !f.is_empty())
        .ok_or_else(|| bad(locale, "file", t(locale, "stats_reports.population.file_missing")))
}

/// The population tables a unit's rates and universal-education levels use, per year and
/// commune (the unit's own imports and those of the offices above it).
#[utoipa::path(get, path = "/api/v1/stats/population", tag = "stats", params(UnitQuery),
    responses((status = 200, body = PopulationBody), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn get_population(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> ApiResult<PopulationBody> {
    let asked = parse_unit(ctx.locale, &q.unit)?;
    let (unit, _) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    Ok(Json(population_entries(&st, &unit).await?))
}

/// Imports a population-by-age table for an office (household survey; columns as in the
/// template of `/stats/population/template.xlsx`): XLSX or CSV as the body, or the `file` field
/// of a multipart form. Every bad cell is reported with its row and column and nothing is
/// stored; a valid table replaces the office's rows of each commune and year it holds.
#[utoipa::path(post, path = "/api/v1/stats/population", tag = "stats", params(UnitQuery),
    request_body(content = Vec<u8>, content_type = "text/csv"),
    responses((status = 200, body = PopulationImported), (status = 400, body = PopulationRefused), (status = 403, body = crate::api::ErrorBody)))]
pub async fn post_population(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let office = import_unit(&st, &p, ctx.locale, &q.unit).await?;
    let bytes = upload_bytes(&st, ctx.locale, req).await?;
    Ok(
        match import_population(&st, &p, ctx.locale, &office, &bytes).await? {
            Ok(done) => Json(done).into_response(),
            Err(problems) => refused_json(ctx.locale, problems),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Universal education and literacy

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct PcgdQuery {
    pub unit: Option<String>,
    /// Survey year (default: the latest year of the unit's population tables).
    pub year: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommuneLevels {
    pub code: String,
    pub name: String,
    /// The commune has survey rows for the year (a commune without reaches nothing).
    pub surveyed: bool,
    /// The evaluation: every standard with its criteria (numerator, denominator, threshold).
    #[schema(value_type = Object)]
    pub result: CommuneResult,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PcgdBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub year: i32,
    /// Years of the unit's population tables.
    pub years: Vec<i32>,
    /// The text the thresholds come from (NĐ 20/2014/NĐ-CP).
    pub regime: String,
    pub exclude_disabled: bool,
    /// The school year whose records count (its 30/9 roll).
    pub school_year: String,
    pub communes: Vec<CommuneLevels>,
    /// The unit over its communes.
    #[schema(value_type = Object)]
    pub rollup: RollupResult,
    /// Thresholds marked UNCERTAIN (configurable in `pcgd_thresholds.toml`).
    pub uncertain: Vec<String>,
}

/// Adds what the school records know of a resident learner to the commune's counts of the
/// learner's age: at school, in which level, having completed which level. The survey supplies
/// the population and what lies outside the records (statistics.md §3.3).
fn add_learner(counts: &mut AgeCounts, level: Option<&str>, grade: i64, completed: bool, n: u64) {
    match level {
        Some("MN") => {
            counts.attending_preschool += n;
            if completed {
                counts.completed_preschool += n;
            }
        }
        Some("TH") => {
            counts.in_grade1_or_above += n;
            if completed {
                counts.completed_primary += n;
            } else {
                counts.in_primary += n;
            }
        }
        Some("THCS") => {
            counts.in_grade1_or_above += n;
            counts.completed_primary += n;
            if completed {
                counts.thcs_diploma += n;
            }
        }
        Some("THPT") => {
            counts.in_grade1_or_above += n;
            counts.completed_primary += n;
            counts.thcs_diploma += n;
            counts.studying_upper += n;
        }
        _ if grade >= 1 => counts.in_grade1_or_above += n,
        _ => {}
    }
}

/// The PCGD–XMC levels of the communes of a unit and its roll-up for a survey year.
pub async fn pcgd_levels(
    st: &AppState,
    unit: &OrgUnit,
    locale: Locale,
    year: &Option<String>,
) -> AppResult<PcgdBody> {
    let db = &st.store.db;
    let rows = stats::population(db, unit).await?;
    let years: Vec<i32> = rows
        .iter()
        .map(|r| r.year)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let year = match parse_year(locale, year)? {
        Some(y) => y,
        None => years.last().copied().unwrap_or_else(|| crate::today().year()),
    };
    // The deepest office's survey of a commune (see `population_of`).
    let depth: HashMap<Uuid, usize> = unit
        .path
        .ids()
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    let mut chosen: HashMap<String, usize> = HashMap::new();
    for r in rows.iter().filter(|r| r.year == year) {
        let d = depth.get(&r.office_id).copied().unwrap_or(0);
        let e = chosen.entry(r.commune.clone()).or_insert(d);
        *e = (*e).max(d);
    }
    let mut survey: BTreeMap<String, BTreeMap<u8, AgeCounts>> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        r.year == year && chosen.get(&r.commune) == Some(&depth.get(&r.office_id).copied().unwrap_or(0))
    }) {
        let age = r.age.clamp(0, i32::from(population::MAX_AGE)) as u8;
        survey
            .entry(r.commune.clone())
            .or_default()
            .insert(age, AgeCounts::from_survey(&survey_row(r)));
    }

    // Residents may learn anywhere in the province: its schools' records all count.
    let ancestors = org::ancestors(db, unit).await?;
    let province = if matches!(unit.kind, OrgKind::ProvinceDept | OrgKind::Ministry) {
        unit.clone()
    } else {
        ancestors
            .iter()
            .find(|a| a.kind == OrgKind::ProvinceDept)
            .cloned()
            .unwrap_or_else(|| unit.clone())
    };
    let facts = stats::unit_facts(db, &st.cipher, &province, Cut::new(year, ymd(year, 9, 30))).await?;

    let mut communes: BTreeSet<String> = BTreeSet::new();
    let mut difficult: BTreeSet<String> = BTreeSet::new();
    for (i, s) in facts.schools.iter().enumerate() {
        let f = facts.school_fact(i);
        let Some(Val::Code(c)) = f.get("commune") else {
            continue;
        };
        if f.get("difficult") == Some(&Val::Bool(true)) {
            difficult.insert(c.clone());
        }
        if OrgPath::parse(&s.path).is_some_and(|p| p.is_within(&unit.path)) {
            communes.insert(c.clone());
        }
    }
    if matches!(unit.kind, OrgKind::ProvinceDept | OrgKind::Ministry) {
        communes.extend(survey.keys().cloned());
    }
    if let Some(code) = &unit.code
        && survey.contains_key(code)
    {
        communes.insert(code.clone());
    }

    let mut ages: BTreeMap<String, BTreeMap<u8, AgeCounts>> = communes
        .iter()
        .map(|c| (c.clone(), survey.get(c).cloned().unwrap_or_default()))
        .collect();
    for f in facts.facts.iter().filter(|f| f.entity == Entity::Learner) {
        if f.get("on_roll") != Some(&Val::Bool(true)) {
            continue;
        }
        let (Some(Val::Code(home)), Some(Val::Int(born))) = (f.get("residence"), f.get("birth_year")) else {
            continue;
        };
        let Some(by_age) = ages.get_mut(home) else {
            continue;
        };
        let age = i64::from(year) - born;
        if !(0..=i64::from(population::MAX_AGE)).contains(&age) {
            continue;
        }
        let level = match f.get("level") {
            Some(Val::Code(l)) => Some(l.as_str()),
            _ => None,
        };
        let grade = f.get("grade").and_then(Val::as_int).unwrap_or(0);
        let completed = f.get("completed_level") == Some(&Val::Bool(true));
        add_learner(
            by_age.entry(age as u8).or_default(),
            level,
            grade,
            completed,
            f.weight,
        );
    }

    let names = commune_names(st, unit).await?;
    let thresholds = Thresholds::default();
    let mut out = vec![];
    let mut results = vec![];
    for (code, by_age) in ages {
        let input = CommuneInput {
            name: names
                .get(&code)
                .cloned()
                .unwrap_or_else(|| tf(locale, "stats_reports.pcgd.commune", &[("code", code.clone())])),
            difficult: difficult.contains(&code),
            year,
            ages: by_age,
            code: code.clone(),
        };
        let result = pcgd::evaluate_commune(&input, &thresholds);
        results.push(result.clone());
        out.push(CommuneLevels {
            surveyed: survey.contains_key(&code),
            name: input.name,
            code,
            result,
        });
    }
    let rollup = pcgd::rollup(&results, &thresholds);
    Ok(PcgdBody {
        unit_id: unit.id,
        unit_name: unit.name.clone(),
        year,
        years,
        regime: thresholds.regime.clone(),
        exclude_disabled: thresholds.exclude_disabled,
        school_year: format!("{year}-{}", year + 1),
        communes: out,
        rollup,
        uncertain: thresholds.uncertain.clone(),
    })
}

fn survey_row(r: &population_row::Model) -> PopulationRow {
    let opt = |v: Option<i64>| v.map(|x| x.max(0) as u64);
    PopulationRow {
        commune: r.commune.clone(),
        year: r.year,
        age: r.age.clamp(0, i32::from(population::MAX_AGE)) as u8,
        population: r.population.max(0) as u64,
        excluded: r.excluded.max(0) as u64,
        completed_preschool: opt(r.completed_preschool),
        thcs_diploma_out: opt(r.thcs_diploma_out),
        completed_primary_out: opt(r.completed_primary_out),
        studying_elsewhere: opt(r.studying_elsewhere),
        literate_l1: opt(r.literate_l1),
        literate_l2: opt(r.literate_l2),
    }
}

/// Universal education (PCGD) and literacy (XMC) under NĐ 20/2014: the level of every commune
/// of the unit per programme, each criterion with its figures and threshold, and the roll-up.
#[utoipa::path(get, path = "/api/v1/stats/pcgd", tag = "stats", params(PcgdQuery),
    responses((status = 200, body = PcgdBody), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn get_pcgd(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<PcgdQuery>,
) -> ApiResult<PcgdBody> {
    let asked = parse_unit(ctx.locale, &q.unit)?;
    let (unit, _) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    Ok(Json(pcgd_levels(&st, &unit, ctx.locale, &q.year).await?))
}

// ---------------------------------------------------------------------------------------------
// Dashboard

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LevelCount {
    pub level: String,
    pub schools: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatioValue {
    /// The indicator.
    pub code: String,
    pub numerator: u64,
    pub denominator: u64,
    pub value_hundredths: Option<u64>,
    /// `percent` or `ratio`.
    pub kind: String,
}

/// Key figures of one school year as at a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearFigures {
    pub start_year: i32,
    pub reference_date: NaiveDate,
    pub schools: u64,
    pub schools_by_level: Vec<LevelCount>,
    /// On the roll on the day.
    pub learners: u64,
    pub classes: u64,
    pub teachers: u64,
    /// Pupils per class, pupils per teacher, dropout, trained teachers, over every level.
    pub ratios: Vec<RatioValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchoolBehind {
    pub school_id: Uuid,
    pub name: String,
    /// `draft`, `returned`, `submitted` or `approved`.
    pub status: String,
    pub late: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodProgress {
    pub period_id: Uuid,
    pub title: String,
    pub deadline: NaiveDate,
    pub closed: bool,
    pub schools: u32,
    pub on_time: u32,
    /// Submitted (or approved) after the deadline.
    pub late: u32,
    /// Not submitted yet (late too once the deadline has passed).
    pub not_submitted: u32,
    pub returned: u32,
    /// Not submitted, returned, or submitted late; not submitted first.
    pub behind: Vec<SchoolBehind>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QualityBehind {
    pub school_id: Uuid,
    pub name: String,
    pub completeness_permille: u32,
    pub errors: u64,
    pub warnings: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// The school years with records, oldest first; the last is the current one.
    pub years: Vec<YearFigures>,
    pub period: Option<PeriodProgress>,
    /// Schools with the lowest completeness or errors, worst first (at most 10).
    pub quality: Vec<QualityBehind>,
    pub computed_at: chrono::DateTime<chrono::Utc>,
}

impl DashboardBody {
    pub fn current(&self) -> Option<&YearFigures> {
        self.years.last()
    }
}

/// How long a unit's dashboard is reused: it reads every record of the subtree, several years.
pub const DASHBOARD_TTL: Duration = Duration::from_secs(120);

/// The indicators the dashboard shows, summed over levels.
pub const DASHBOARD_RATIOS: [IndicatorId; 4] = [
    IndicatorId::PupilsPerClass,
    IndicatorId::PupilsPerTeacher,
    IndicatorId::DropoutRate,
    IndicatorId::TrainedTeacherRate,
];

fn figures(facts: &Facts, start_year: i32, reference: NaiveDate) -> YearFigures {
    let mut by_level: BTreeMap<SchoolLevel, u64> = BTreeMap::new();
    for i in 0..facts.schools.len() {
        if let Some(Val::Codes(cs)) = facts.school_fact(i).get("levels") {
            for l in cs.iter().filter_map(|c| SchoolLevel::parse(c).ok()) {
                *by_level.entry(l).or_default() += 1;
            }
        }
    }
    let count = |entity: Entity, field: Option<&str>| -> u64 {
        facts
            .facts
            .iter()
            .filter(|f| f.entity == entity && field.is_none_or(|n| f.get(n) == Some(&Val::Bool(true))))
            .map(|f| f.weight)
            .sum()
    };
    let inputs = Inputs::this_year(facts);
    let ratios = DASHBOARD_RATIOS
        .iter()
        .map(|id| {
            let mut sum = Rate::default();
            for level in id.levels() {
                if let Ok(rows) = indicators::evaluate(*id, *level, &inputs, &[], &[])
                    && let Some(r) = rows.first()
                {
                    sum.numerator += r.rate.numerator;
                    sum.denominator += r.rate.denominator;
                }
            }
            RatioValue {
                code: id.as_str().into(),
                numerator: sum.numerator,
                denominator: sum.denominator,
                value_hundredths: sum.hundredths(id.kind()),
                kind: Measure::Indicator(*id).kind().into(),
            }
        })
        .collect();
    YearFigures {
        start_year,
        reference_date: reference,
        schools: facts.schools.len() as u64,
        schools_by_level: by_level
            .into_iter()
            .map(|(l, n)| LevelCount {
                level: l.as_str().into(),
                schools: n,
            })
            .collect(),
        learners: count(Entity::Learner, Some("on_roll")),
        classes: count(Entity::Class, None),
        teachers: count(Entity::Staff, Some("teacher")),
        ratios,
    }
}

/// The school years the unit's schools keep (read from a batch of them: years are opened for
/// every school alike by the rollover), the last five up to the current one.
async fn years_of(st: &AppState, schools: &[OrgUnit], current: i32) -> AppResult<Vec<i32>> {
    let mut years: BTreeSet<i32> = BTreeSet::from([current]);
    for s in schools.iter().take(stats::BATCH) {
        for y in truongso_store::school_years::for_school(&st.store.db, s.id).await? {
            let start = y.starts_on.year();
            if start <= current && start > current - 5 {
                years.insert(start);
            }
        }
    }
    Ok(years.into_iter().collect())
}

async fn period_progress(
    st: &AppState,
    unit: &OrgUnit,
    schools: &[OrgUnit],
) -> AppResult<Option<PeriodProgress>> {
    let db = &st.store.db;
    let periods = stats::periods_for(db, &unit.path).await?;
    // The newest open period, else the newest.
    let Some(period) = periods.iter().find(|p| !p.closed).or(periods.first()) else {
        return Ok(None);
    };
    let ours: BTreeSet<Uuid> = schools.iter().map(|s| s.id).collect();
    let subs: Vec<stats::Submission> = stats::submissions(db, period, crate::today())
        .await?
        .into_iter()
        .filter(|s| ours.contains(&s.school_id))
        .collect();
    let mut p = PeriodProgress {
        period_id: period.id,
        title: period.title.clone(),
        deadline: period.deadline,
        closed: period.closed,
        schools: subs.len() as u32,
        on_time: 0,
        late: 0,
        not_submitted: 0,
        returned: 0,
        behind: vec![],
    };
    for s in &subs {
        match (s.status(), s.late) {
            (Status::Draft, _) => p.not_submitted += 1,
            (Status::Returned, _) => p.returned += 1,
            (Status::Submitted | Status::Approved, true) => p.late += 1,
            (Status::Submitted | Status::Approved, false) => {
                p.on_time += 1;
                continue;
            }
        }
        p.behind.push(SchoolBehind {
            school_id: s.school_id,
            name: s.school_name.clone(),
            status: s.status.clone(),
            late: s.late,
        });
    }
    let rank = |s: &SchoolBehind| match s.status.as_str() {
        "draft" => 0,
        "returned" => 1,
        _ => 2,
    };
    p.behind
        .sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name.cmp(&b.name)));
    Ok(Some(p))
}

/// Dashboards by (unit, day), with when they were computed.
type DashboardCache = Mutex<HashMap<(Uuid, NaiveDate), (Instant, Arc<DashboardBody>)>>;

fn cache() -> &'static DashboardCache {
    static CACHE: OnceLock<DashboardCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The dashboard of a unit (already authorised), reused for [`DASHBOARD_TTL`] per unit and day.
pub async fn dashboard(st: &AppState, unit: &OrgUnit) -> AppResult<Arc<DashboardBody>> {
    let today = crate::today();
    let key = (unit.id, today);
    if let Some((at, d)) = cache().lock().expect("dashboard cache").get(&key)
        && at.elapsed() < DASHBOARD_TTL
    {
        return Ok(d.clone());
    }
    let db = &st.store.db;
    let current = school_year_of(today);
    let schools = stats::schools_of(db, unit, today).await?;
    let mut years = vec![];
    for y in years_of(st, &schools, current).await? {
        let reference = default_reference(y, today);
        let facts = stats::unit_facts(db, &st.cipher, unit, Cut::new(y, reference)).await?;
        years.push(figures(&facts, y, reference));
    }
    let period = period_progress(st, unit, &schools).await?;
    let rollup =
        truongso_store::quality::rollup(db, &st.cipher, &unit.path, &QualityPolicy::default(), today).await?;
    let mut quality: Vec<QualityBehind> = rollup
        .schools
        .iter()
        .filter(|s| s.counts.errors > 0 || s.counts.completeness_permille < 1000)
        .map(|s| QualityBehind {
            school_id: s.school_id,
            name: s.school_name.clone(),
            completeness_permille: s.counts.completeness_permille,
            errors: s.counts.errors,
            warnings: s.counts.warnings,
        })
        .collect();
    quality.sort_by(|a, b| {
        a.completeness_permille
            .cmp(&b.completeness_permille)
            .then(b.errors.cmp(&a.errors))
            .then(a.name.cmp(&b.name))
    });
    quality.truncate(10);
    let body = Arc::new(DashboardBody {
        unit_id: unit.id,
        unit_name: unit.name.clone(),
        years,
        period,
        quality,
        computed_at: truongso_store::now(),
    });
    let mut c = cache().lock().expect("dashboard cache");
    c.retain(|_, (at, _)| at.elapsed() < DASHBOARD_TTL);
    c.insert(key, (Instant::now(), body.clone()));
    Ok(body)
}

/// The province dashboard of a unit: key counts by school year (schools by level, learners,
/// classes, teachers, pupils per class and per teacher, dropout, trained teachers), the current
/// reporting period's progress with the schools behind, and the schools behind on data quality.
/// Computed at most every two minutes per unit.
#[utoipa::path(get, path = "/api/v1/stats/dashboard", tag = "stats", params(UnitQuery),
    responses((status = 200, body = DashboardBody), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody)))]
pub async fn get_dashboard(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> ApiResult<DashboardBody> {
    let asked = parse_unit(ctx.locale, &q.unit)?;
    let (unit, _) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    Ok(Json((*dashboard(&st, &unit).await?).clone()))
}

/// Whether the caller may import population tables for the unit (the page shows the form).
pub fn may_import(p: &Principal, unit: &OrgUnit) -> bool {
    unit.kind.is_office() && p.can(Action::ManageStats, Resource::OrgUnit(&unit.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_quotes_and_separators() {
        let r = csv_records("\u{feff}Mã xã;Năm;Tuổi\r\n\"08001\";2026;\"1\"\"2\"\n08002;2026;\"a;b\nc\"\n");
        assert_eq!(r[0], vec!["Mã xã", "Năm", "Tuổi"]);
        assert_eq!(r[1], vec!["08001", "2026", "1\"2"]);
        assert_eq!(r[2], vec!["08002", "2026", "a;b\nc"]);
        assert_eq!(r.len(), 3);
        let c = csv_records("a,b\n1,2");
        assert_eq!(c, vec![vec!["a", "b"], vec!["1", "2"]]);
    }

    #[test]
    fn reference_dates_follow_the_school_year() {
        let today = ymd(2026, 11, 24);
        assert_eq!(school_year_of(today), 2026);
        assert_eq!(school_year_of(ymd(2026, 7, 31)), 2025);
        assert_eq!(default_reference(2026, today), today);
        assert_eq!(default_reference(2025, today), ymd(2026, 5, 31));
        assert_eq!(default_reference(2027, today), ymd(2027, 9, 30));
    }

    #[test]
    fn filters_read_labels_and_codes() {
        let f = parse_filter(
            Locale::Vi,
            "sex = nữ, minority = có; ethnicity=Kinh, level=TH, grade=3",
        )
        .unwrap();
        assert_eq!(
            f,
            vec![
                ("sex".to_string(), "female".to_string()),
                ("minority".into(), "1".into()),
                ("ethnicity".into(), "01".into()),
                ("level".into(), "TH".into()),
                ("grade".into(), "3".into()),
            ]
        );
        assert_eq!(
            parse_filter(Locale::Vi, "ownership_group=Công lập").unwrap()[0].1,
            "cong_lap"
        );
        for wrong in ["sex", "colour=red", "grade=ba", "sex=other", "ethnicity=Không có"] {
            let e = parse_filter(Locale::Vi, wrong).unwrap_err();
            assert_eq!((e.status.as_u16(), e.field), (400, Some("filter")), "{wrong}");
        }
    }

    #[test]
    fn dimensions_follow_the_measure() {
        let ptr = Measure::Indicator(IndicatorId::PupilsPerTeacher);
        assert!(dimension_ok(ptr, None, "ownership_group"));
        assert!(dimension_ok(ptr, None, UNIT_DIM));
        assert!(!dimension_ok(ptr, None, "sex"));
        assert!(!dimension_ok(ptr, None, "grade"));
        let dropout = Measure::Indicator(IndicatorId::DropoutRate);
        assert!(dimension_ok(dropout, Some(SchoolLevel::THCS), "sex"));
        assert!(!dimension_ok(dropout, None, "dropped_out"));
        let learners = Measure::Count(Entity::Learner);
        assert!(dimension_ok(learners, None, "sex"));
        assert!(dimension_ok(learners, None, "school_type"));
        assert!(!dimension_ok(Measure::Count(Entity::Room), None, "sex"));
        assert_eq!(Measure::parse("rooms"), Some(Measure::Count(Entity::Room)));
        assert_eq!(Measure::parse("dropout_rate"), Some(dropout));
        assert_eq!(Measure::parse("dropout"), None);
        assert_eq!(Measure::all().len(), 20);
    }

    #[test]
    fn learners_add_to_their_age() {
        let mut c = AgeCounts::default();
        add_learner(&mut c, Some("TH"), 5, false, 3);
        add_learner(&mut c, Some("TH"), 5, true, 1);
        add_learner(&mut c, Some("THCS"), 6, false, 2);
        add_learner(&mut c, Some("THPT"), 10, false, 4);
        add_learner(&mut c, Some("MN"), 0, false, 7);
        assert_eq!(c.in_grade1_or_above, 10);
        assert_eq!(c.in_primary, 3);
        assert_eq!(c.completed_primary, 7);
        assert_eq!(c.thcs_diploma, 4);
        assert_eq!(c.studying_upper, 4);
        assert_eq!(c.attending_preschool, 7);
    }

    #[test]
    fn the_template_headers_are_the_ones_core_reads() {
        let header: Vec<String> = POPULATION_TEMPLATE.columns.iter().map(core_header).collect();
        let row: Vec<String> = POPULATION_TEMPLATE
            .columns
            .iter()
            .map(|c| match c.key {
                "commune" => "08001",
                "commune_name" => "Phường Minh Xuân",
                "year" => "2026",
                "age" => "0",
                "population" => "10",
                _ => "1",
            })
            .map(String::from)
            .collect();
        let table = PopulationTable::from_rows(&header, &[row]).unwrap();
        let r = table.get("08001", 2026, 0).unwrap();
        assert_eq!((r.population, r.excluded, r.literate_l2), (10, 1, Some(1)));
        assert_eq!(r.thcs_diploma_out, Some(1));
    }
}
