//! `/api/v1/stats`: the official forms computed from the records for a school or a subtree as
//! at a reference date, the records behind a cell, reporting periods, each school's submission
//! and its frozen snapshot, explanations of data-quality errors, approval and return. The
//! pages (`pages::stats`) call the same functions, so both answer alike.

use crate::AppState;
use crate::api::{ApiJson, ApiResult};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::scope;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use truongso_core::DomainError;
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgKind;
use truongso_core::quality::{QualityPolicy, Severity};
use truongso_core::stats::FormDef;
use truongso_core::stats::catalogue::{Measure, Round};
use truongso_core::stats::compute::FormValues;
use truongso_core::stats::period::{self as rules, Progress, Status, Step};
use truongso_store::org::{self, OrgUnit};
use truongso_store::quality::{self, IssueRow};
use truongso_store::stats::{self, Cut, Explanation, NewPeriod, Period, Submission, TraceRow};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

/// The OpenAPI paths of this module, merged into the platform's document.
#[derive(OpenApi)]
#[openapi(paths(
    forms,
    trace,
    list_periods,
    create_period,
    get_period,
    close_period,
    period_totals,
    get_submission,
    snapshot,
    explain,
    submit,
    decide
))]
pub struct Doc;

// ---------------------------------------------------------------------------------------------
// What to compute

/// Which unit, which round, which school year, as at which day.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct FormsQuery {
    /// A school or an office (default: the highest unit of the caller's grants).
    pub unit: Option<Uuid>,
    /// `beginning_of_year` (default) or `end_of_year`.
    pub round: Option<String>,
    /// First calendar year of the school year (default: the current school year).
    #[param(value_type = Option<i32>)]
    pub year: Option<String>,
    /// Reference date `yyyy-mm-dd` or `dd/mm/yyyy` (default: the round's, 30/9 or 31/5).
    pub date: Option<String>,
    /// A form id (`tt25-2024/02-th-dn`): only that form.
    pub form: Option<String>,
}

/// The school year in progress on `day`: one starts in August.
pub fn school_year_of(day: NaiveDate) -> i32 {
    if day.month() >= 8 {
        day.year()
    } else {
        day.year() - 1
    }
}

/// A resolved [`FormsQuery`].
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub round: Round,
    pub cut: Cut,
}

impl FormsQuery {
    pub fn resolve(&self) -> AppResult<Asked> {
        let round = match self.round.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Round::BeginningOfYear,
            Some(r) => Round::parse(r).ok_or_else(|| AppError::invalid("round", DomainError::UnknownCode))?,
        };
        let year = match self.year.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => school_year_of(crate::today()),
            Some(y) => y
                .parse::<i32>()
                .map_err(|_| AppError::invalid("year", DomainError::InvalidSchoolYear))?,
        };
        if !(2000..=2100).contains(&year) {
            return Err(AppError::invalid("year", DomainError::InvalidSchoolYear));
        }
        let reference = match self.date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => rules::default_reference_date(round, year),
            Some(d) => truongso_core::org::parse_date(d).map_err(|e| AppError::invalid("date", e))?,
        };
        Ok(Asked {
            round,
            cut: Cut::new(year, reference),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Forms as shown

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ColumnView {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowView {
    /// Mã số.
    pub code: String,
    pub label: String,
    pub indent: u8,
    /// `false` when no record holds what the row asks: every cell is blank, never 0.
    pub recorded: bool,
    pub cells: Vec<Option<u64>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionView {
    pub code: String,
    pub title: String,
    pub columns: Vec<ColumnView>,
    pub rows: Vec<RowView>,
}

/// One form with its values.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormView {
    pub id: String,
    /// Biểu số: `02.ĐN-TH`.
    pub code: String,
    pub title: String,
    /// The circular the version belongs to.
    pub regime: String,
    pub level: String,
    pub note: Option<String>,
    pub sections: Vec<SectionView>,
}

impl FormView {
    pub fn new(def: &FormDef, values: &FormValues) -> FormView {
        let sections = def
            .sections
            .iter()
            .map(|s| {
                let sv = values.sections.iter().find(|v| v.code == s.code);
                SectionView {
                    code: s.code.clone(),
                    title: s.title.clone(),
                    columns: s
                        .columns
                        .iter()
                        .map(|c| ColumnView {
                            key: c.key.clone(),
                            label: c.label.clone(),
                        })
                        .collect(),
                    rows: s
                        .rows
                        .iter()
                        .map(|r| {
                            let cells = sv
                                .and_then(|sv| sv.rows.iter().find(|rv| rv.code == r.code))
                                .map(|rv| rv.cells.clone())
                                .unwrap_or_else(|| vec![None; s.columns.len()]);
                            RowView {
                                code: r.code.clone(),
                                label: r.label.clone(),
                                indent: r.indent,
                                recorded: !matches!(r.measure, Measure::NotRecorded),
                                cells,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        FormView {
            id: def.id.clone(),
            code: def.code.clone(),
            title: def.title.clone(),
            regime: def.regime.clone(),
            level: def.level.as_str().to_string(),
            note: def.note.clone(),
            sections,
        }
    }
}

/// A unit's forms as at a date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormsBody {
    pub unit_id: Uuid,
    pub unit_name: String,
    /// `beginning_of_year` or `end_of_year`.
    pub round: String,
    /// `2026-2027`.
    pub school_year: String,
    pub reference_date: NaiveDate,
    /// Schools summed (1 for a school).
    pub schools: usize,
    pub forms: Vec<FormView>,
}

/// A unit the caller may view statistics of.
pub async fn stats_unit(st: &AppState, p: &Principal, id: Option<Uuid>) -> AppResult<OrgUnit> {
    Ok(scope::chosen_unit(st, p, id, Action::ViewStats).await?.0)
}

/// The forms of a unit (a school's own, or the sum of its subtree's schools) as at the cut;
/// for an office, only the forms of the levels its schools teach.
pub async fn compute_forms(
    st: &AppState,
    unit: &OrgUnit,
    asked: Asked,
    only: Option<&str>,
) -> AppResult<(Vec<FormDef>, Vec<FormValues>, usize)> {
    let levels = (unit.kind == OrgKind::School)
        .then_some(unit.levels.as_ref())
        .flatten();
    let mut defs = stats::forms_of(asked.round, asked.cut.reference, levels);
    if let Some(id) = only {
        defs.retain(|d| d.id == id);
        if defs.is_empty() {
            return Err(AppError::new(
                axum::http::StatusCode::NOT_FOUND,
                "stats_unknown_form",
            ));
        }
    }
    if unit.kind == OrgKind::School {
        let (_, values) = stats::school_forms(&st.store.db, &st.cipher, unit, &defs, asked.cut).await?;
        return Ok((defs, values, 1));
    }
    let all = stats::unit_forms(&st.store.db, &st.cipher, unit, &defs, asked.cut).await?;
    let taught: Vec<bool> = (0..defs.len())
        .map(|i| all.schools.iter().any(|s| s.values[i].is_some()))
        .collect();
    let mut out_defs = vec![];
    let mut out_values = vec![];
    for ((d, v), keep) in defs.into_iter().zip(all.totals).zip(taught) {
        if keep || only.is_some() {
            out_defs.push(d);
            out_values.push(v);
        }
    }
    Ok((out_defs, out_values, all.schools.len()))
}

pub fn school_year_label(start: i32) -> String {
    format!("{start}-{}", start + 1)
}

/// The official forms of a school or of every school under an office, computed from the
/// records as at the reference date.
#[utoipa::path(get, path = "/api/v1/stats/forms", tag = "stats", params(FormsQuery),
    responses((status = 200, body = FormsBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn forms(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<FormsQuery>,
) -> ApiResult<FormsBody> {
    let asked = q.resolve()?;
    let unit = stats_unit(&st, &p, q.unit).await?;
    let (defs, values, schools) = compute_forms(&st, &unit, asked, q.form.as_deref()).await?;
    Ok(Json(FormsBody {
        unit_id: unit.id,
        unit_name: unit.name.clone(),
        round: asked.round.as_str().to_string(),
        school_year: school_year_label(asked.cut.start_year),
        reference_date: asked.cut.reference,
        schools,
        forms: defs
            .iter()
            .zip(&values)
            .map(|(d, v)| FormView::new(d, v))
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Lineage

#[derive(Debug, Clone, Deserialize, IntoParams)]
pub struct TraceQuery {
    /// A school or an office (default: the highest unit of the caller's grants).
    pub unit: Option<Uuid>,
    /// `beginning_of_year` (default) or `end_of_year`.
    pub round: Option<String>,
    /// First calendar year of the school year (default: the current school year).
    #[param(value_type = Option<i32>)]
    pub year: Option<String>,
    /// Reference date (default: the round's).
    pub date: Option<String>,
    /// The form id.
    pub form: String,
    /// Mã số of the row.
    pub row: String,
    /// Column key.
    pub column: String,
}

impl TraceQuery {
    pub fn forms(&self) -> FormsQuery {
        FormsQuery {
            unit: self.unit,
            round: self.round.clone(),
            year: self.year.clone(),
            date: self.date.clone(),
            form: Some(self.form.clone()),
        }
    }
}

/// Records shown at most; the total is always exact.
pub const TRACE_LIMIT: usize = 5000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceBody {
    pub form_id: String,
    pub row: String,
    pub column: String,
    /// The cell's value: the sum of the records' amounts.
    pub value: u64,
    /// Records behind the cell.
    pub count: usize,
    /// `true` when only the first records are listed.
    pub truncated: bool,
    pub records: Vec<TraceRow>,
}

/// The records behind one cell of a unit's form ("why is this 37?"), school by school.
pub async fn trace_of(st: &AppState, unit: &OrgUnit, asked: Asked, q: &TraceQuery) -> AppResult<TraceBody> {
    let def = stats::forms_of(asked.round, asked.cut.reference, None)
        .into_iter()
        .find(|d| d.id == q.form)
        .ok_or_else(|| AppError::new(axum::http::StatusCode::NOT_FOUND, "stats_unknown_form"))?;
    let schools = stats::schools_of(&st.store.db, unit, asked.cut.reference).await?;
    let mut records = vec![];
    let mut value = 0u64;
    let mut count = 0usize;
    for batch in schools.chunks(stats::BATCH) {
        let facts = stats::facts::load(&st.store.db, &st.cipher, batch, asked.cut, true).await?;
        let rows = stats::trace_cell(&st.store.db, &def, &facts, &q.row, &q.column).await?;
        value += rows.iter().map(|r| r.amount).sum::<u64>();
        count += rows.len();
        records.extend(rows.into_iter().take(TRACE_LIMIT.saturating_sub(records.len())));
    }
    Ok(TraceBody {
        form_id: def.id,
        row: q.row.clone(),
        column: q.column.clone(),
        value,
        truncated: count > records.len(),
        count,
        records,
    })
}

/// The records behind one cell (learners, classes, staff, rooms or schools), each with what it
/// adds and a link to it.
#[utoipa::path(get, path = "/api/v1/stats/forms/trace", tag = "stats", params(TraceQuery),
    responses((status = 200, body = TraceBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn trace(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<TraceQuery>,
) -> ApiResult<TraceBody> {
    let asked = q.forms().resolve()?;
    let unit = stats_unit(&st, &p, q.unit).await?;
    Ok(Json(trace_of(&st, &unit, asked, &q).await?))
}

// ---------------------------------------------------------------------------------------------
// Periods

#[derive(Debug, Deserialize, IntoParams)]
pub struct UnitQuery {
    /// Default: the highest unit of the caller's grants.
    pub unit: Option<Uuid>,
}

/// The periods that concern a unit: opened above it (what its schools owe) or below it.
#[utoipa::path(get, path = "/api/v1/stats/periods", tag = "stats", params(UnitQuery),
    responses((status = 200, body = [Period]), (status = 403, body = crate::api::ErrorBody)))]
pub async fn list_periods(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<UnitQuery>,
) -> ApiResult<Vec<Period>> {
    let unit = stats_unit(&st, &p, q.unit).await?;
    Ok(Json(stats::periods_for(&st.store.db, &unit.path).await?))
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
pub struct NewPeriodBody {
    /// The office whose schools report.
    pub office_id: Uuid,
    /// `beginning_of_year` or `end_of_year`.
    pub round: String,
    /// First calendar year of the school year.
    pub start_year: i32,
    /// Default: 30/9 (beginning) or 31/5 (end of year).
    pub reference_date: Option<NaiveDate>,
    /// Default: today.
    pub opens_on: Option<NaiveDate>,
    /// Default: the regime's deadline for schools.
    pub deadline: Option<NaiveDate>,
    pub title: Option<String>,
}

/// Opens a period (audited) after checking who may and what is asked.
pub async fn open(st: &AppState, p: &Principal, b: NewPeriodBody) -> AppResult<Period> {
    let office = org::get(&st.store.db, b.office_id).await?;
    p.require(Action::ManageStats, Resource::OrgUnit(&office.path))?;
    let round = Round::parse(&b.round).ok_or_else(|| AppError::invalid("round", DomainError::UnknownCode))?;
    if !(2000..=2100).contains(&b.start_year) {
        return Err(AppError::invalid("start_year", DomainError::InvalidSchoolYear));
    }
    let period = stats::open_period(
        &st.store.db,
        &p.actor_ref(),
        &office,
        NewPeriod {
            round,
            start_year: b.start_year,
            reference_date: b.reference_date,
            opens_on: b.opens_on.unwrap_or_else(crate::today),
            deadline: b.deadline,
            title: b.title,
        },
    )
    .await?;
    prepare_forms(st, office, &period);
    Ok(period)
}

/// Computes and stores every school's forms of a new period in the background, so the office's
/// first look at its forms sums stored values instead of loading every school's records.
fn prepare_forms(st: &AppState, office: OrgUnit, period: &Period) {
    let (db, cipher) = (st.store.db.clone(), st.cipher.clone());
    let forms = stats::forms_of(period.round(), period.reference_date, None);
    let cut = period.cut();
    tokio::spawn(async move {
        if let Err(e) = stats::unit_forms(&db, &cipher, &office, &forms, cut).await {
            tracing::warn!(error = %e, "statistics: preparing a new period's forms");
        }
    });
}

/// Opens a reporting period for the schools under an office. Refused when another period of
/// the same round and year covers any of the same schools, or the dates are out of order.
#[utoipa::path(post, path = "/api/v1/stats/periods", tag = "stats", request_body = NewPeriodBody,
    responses((status = 200, body = Period), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn create_period(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    ApiJson(b): ApiJson<NewPeriodBody>,
) -> ApiResult<Period> {
    Ok(Json(open(&st, &p, b).await?))
}

/// A period the caller may follow: an officer at or above its office, or staff of one of its
/// schools.
pub async fn period(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Period> {
    let period = stats::get_period(&st.store.db, id).await?;
    let office = period.office_path();
    let concerns = p.actor.grants.iter().any(|g| {
        let a = g.scope.anchor();
        (a.is_within(&office) || office.is_within(a)) && p.can(Action::ViewStats, Resource::OrgUnit(a))
    });
    if !concerns {
        return Err(AppError::forbidden());
    }
    Ok(period)
}

/// A period's submissions as the caller may see them: every school for those who may view the
/// office's statistics, else the schools of their grants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodBody {
    pub period: Period,
    #[schema(value_type = Object)]
    pub progress: Progress,
    pub submissions: Vec<Submission>,
}

pub async fn period_body(st: &AppState, p: &Principal, period: Period) -> AppResult<PeriodBody> {
    let today = crate::today();
    let mut subs = stats::submissions(&st.store.db, &period, today).await?;
    if !p.can(Action::ViewStats, Resource::OrgUnit(&period.office_path())) {
        let schools = stats::schools_of(
            &st.store.db,
            &org::get(&st.store.db, period.office_id).await?,
            today,
        )
        .await?;
        subs.retain(|s| {
            schools
                .iter()
                .find(|u| u.id == s.school_id)
                .is_some_and(|u| p.can(Action::ViewStats, Resource::OrgUnit(&u.path)))
        });
    }
    let statuses: Vec<(Status, Option<NaiveDate>)> = subs
        .iter()
        .map(|s| (s.status(), s.submitted_at.map(stats::vn_date)))
        .collect();
    Ok(PeriodBody {
        progress: rules::progress(&statuses, period.deadline, today),
        period,
        submissions: subs,
    })
}

/// A period with every school's status, lateness and the share of schools in.
#[utoipa::path(get, path = "/api/v1/stats/periods/{id}", tag = "stats", params(("id" = Uuid, Path)),
    responses((status = 200, body = PeriodBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_period(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<PeriodBody> {
    let period = period(&st, &p, id).await?;
    Ok(Json(period_body(&st, &p, period).await?))
}

/// Closes a period (the office that opened it, or above).
pub async fn close(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Period> {
    let period = stats::get_period(&st.store.db, id).await?;
    p.require(Action::ManageStats, Resource::OrgUnit(&period.office_path()))?;
    Ok(stats::close_period(&st.store.db, &p.actor_ref(), id).await?)
}

/// Closes a period: no more submissions; decisions on those in remain possible.
#[utoipa::path(post, path = "/api/v1/stats/periods/{id}/close", tag = "stats", params(("id" = Uuid, Path)),
    responses((status = 200, body = Period), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn close_period(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Period> {
    Ok(Json(close(&st, &p, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TotalsQuery {
    /// Count submitted but not yet approved snapshots too.
    pub include_pending: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotalsBody {
    pub period_id: Uuid,
    /// Snapshots summed.
    pub schools: u32,
    pub forms: Vec<FormView>,
}

/// What a period's office receives: the sum of its schools' frozen snapshots.
pub async fn totals(st: &AppState, period: &Period, include_pending: bool) -> AppResult<TotalsBody> {
    let defs = stats::forms_of(period.round(), period.reference_date, None);
    let (values, schools) = stats::reported_totals(&st.store.db, period, &defs, include_pending).await?;
    Ok(TotalsBody {
        period_id: period.id,
        schools,
        forms: defs
            .iter()
            .zip(&values)
            // Forms of a level no school reported sum to zeros everywhere: left out.
            .filter(|(_, v)| {
                v.sections.iter().any(|s| {
                    s.rows
                        .iter()
                        .any(|r| r.cells.iter().any(|c| c.is_some_and(|n| n > 0)))
                })
            })
            .map(|(d, v)| FormView::new(d, v))
            .collect(),
    })
}

/// The sum of the approved (or, with `include_pending`, every submitted) snapshots of a period.
#[utoipa::path(get, path = "/api/v1/stats/periods/{id}/totals", tag = "stats", params(("id" = Uuid, Path), TotalsQuery),
    responses((status = 200, body = TotalsBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn period_totals(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    Query(q): Query<TotalsQuery>,
) -> ApiResult<TotalsBody> {
    let period = stats::get_period(&st.store.db, id).await?;
    p.require(Action::ViewStats, Resource::OrgUnit(&period.office_path()))?;
    Ok(Json(
        totals(&st, &period, q.include_pending.unwrap_or(false)).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// One school's submission

/// A school of a period the caller may view.
pub async fn period_school(
    st: &AppState,
    p: &Principal,
    period_id: Uuid,
    school_id: Uuid,
    action: Action,
) -> AppResult<(Period, OrgUnit)> {
    let period = stats::get_period(&st.store.db, period_id).await?;
    let school = scope::school(st, p, school_id, action).await?;
    if !school.path.is_within(&period.office_path()) {
        return Err(AppError::not_found());
    }
    Ok((period, school))
}

/// The data-quality errors of a school now (only errors block a submission).
pub async fn school_errors(st: &AppState, school: &OrgUnit) -> AppResult<Vec<IssueRow>> {
    let report = quality::school_report(
        &st.store.db,
        &st.cipher,
        school.id,
        &QualityPolicy::default(),
        crate::today(),
    )
    .await?;
    Ok(report
        .issues
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionBody {
    pub submission: Submission,
    /// The school's data-quality errors now, each with its explanation if it has one.
    pub issues: Vec<IssueRow>,
    pub explanations: Vec<Explanation>,
    /// Errors neither fixed nor explained: the submission is refused while any is left.
    pub unexplained: usize,
}

pub async fn submission_body(st: &AppState, period: &Period, school: &OrgUnit) -> AppResult<SubmissionBody> {
    let submission = stats::submission(&st.store.db, period, school, crate::today()).await?;
    let issues = school_errors(st, school).await?;
    let explanations = stats::explanations(&st.store.db, period.id, school.id).await?;
    let unexplained = stats::unexplained(&issues, &explanations).len();
    Ok(SubmissionBody {
        submission,
        issues,
        explanations,
        unexplained,
    })
}

/// A school's submission for a period: status, the office's comment, its data-quality errors
/// and explanations.
#[utoipa::path(get, path = "/api/v1/stats/periods/{id}/schools/{school}", tag = "stats", params(("id" = Uuid, Path), ("school" = Uuid, Path)),
    responses((status = 200, body = SubmissionBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn get_submission(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
) -> ApiResult<SubmissionBody> {
    let (period, school) = period_school(&st, &p, id, school, Action::ViewStats).await?;
    Ok(Json(submission_body(&st, &period, &school).await?))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotBody {
    pub period_id: Uuid,
    pub school_id: Uuid,
    pub reference_date: NaiveDate,
    pub computed_at: chrono::DateTime<chrono::Utc>,
    /// SHA-256 of the stored snapshot (also in the audit event of the submission).
    pub sha256: Option<String>,
    pub forms: Vec<FormView>,
}

/// The frozen forms of a school's submission (what was submitted, whatever changed since).
pub async fn snapshot_of(
    st: &AppState,
    period: &Period,
    school: &OrgUnit,
) -> AppResult<Option<SnapshotBody>> {
    let Some(snap) = stats::snapshot(&st.store.db, period.id, school.id).await? else {
        return Ok(None);
    };
    let sub = stats::submission(&st.store.db, period, school, crate::today()).await?;
    let defs = stats::forms_of(period.round(), period.reference_date, None);
    let forms = snap
        .forms
        .iter()
        .filter_map(|v| defs.iter().find(|d| v.fits(d)).map(|d| FormView::new(d, v)))
        .collect();
    Ok(Some(SnapshotBody {
        period_id: period.id,
        school_id: school.id,
        reference_date: snap.reference_date,
        computed_at: snap.computed_at,
        sha256: sub.snapshot_sha256,
        forms,
    }))
}

/// The snapshot a school submitted: its forms as frozen, with the hash of what is stored.
#[utoipa::path(get, path = "/api/v1/stats/periods/{id}/schools/{school}/snapshot", tag = "stats", params(("id" = Uuid, Path), ("school" = Uuid, Path)),
    responses((status = 200, body = SnapshotBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn snapshot(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
) -> ApiResult<SnapshotBody> {
    let (period, school) = period_school(&st, &p, id, school, Action::ViewStats).await?;
    snapshot_of(&st, &period, &school)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::new(axum::http::StatusCode::NOT_FOUND, "stats_not_submitted"))
}

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct ExplainBody {
    /// The data-quality rule (`missing_field`, `over_age`…).
    pub rule: String,
    /// The record the issue is about.
    pub entity_id: Uuid,
    /// The explanation; empty withdraws it.
    pub text: String,
}

pub async fn explain_issue(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    school_id: Uuid,
    b: &ExplainBody,
) -> AppResult<()> {
    let (period, school) = period_school(st, p, id, school_id, Action::SubmitStats).await?;
    Ok(stats::explain(
        &st.store.db,
        &p.actor_ref(),
        &period,
        &school,
        &b.rule,
        b.entity_id,
        &b.text,
    )
    .await?)
}

/// The school explains (or, with an empty text, withdraws the explanation of) one data-quality
/// error before it submits.
#[utoipa::path(post, path = "/api/v1/stats/periods/{id}/schools/{school}/explanations", tag = "stats", params(("id" = Uuid, Path), ("school" = Uuid, Path)),
    request_body = ExplainBody,
    responses((status = 200, body = SubmissionBody), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn explain(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
    ApiJson(b): ApiJson<ExplainBody>,
) -> ApiResult<SubmissionBody> {
    explain_issue(&st, &p, id, school, &b).await?;
    let (period, school) = period_school(&st, &p, id, school, Action::ViewStats).await?;
    Ok(Json(submission_body(&st, &period, &school).await?))
}

pub async fn submit_school(st: &AppState, p: &Principal, id: Uuid, school_id: Uuid) -> AppResult<Submission> {
    let (period, school) = period_school(st, p, id, school_id, Action::SubmitStats).await?;
    let issues = school_errors(st, &school).await?;
    let defs = stats::forms_of(period.round(), period.reference_date, school.levels.as_ref());
    Ok(stats::submit(
        &st.store.db,
        &st.cipher,
        &p.actor_ref(),
        &period,
        &school,
        &defs,
        &issues,
    )
    .await?)
}

/// The school submits: its forms are computed as at the reference date and frozen with the
/// records behind them. Refused while a data-quality error is neither fixed nor explained,
/// after approval, or once the period is closed.
#[utoipa::path(post, path = "/api/v1/stats/periods/{id}/schools/{school}/submit", tag = "stats", params(("id" = Uuid, Path), ("school" = Uuid, Path)),
    responses((status = 200, body = Submission), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody)))]
pub async fn submit(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
) -> ApiResult<Submission> {
    Ok(Json(submit_school(&st, &p, id, school).await?))
}

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct DecideBody {
    /// `approve` or `return`.
    pub decision: String,
    /// Required when returning: what the school must fix.
    pub comment: Option<String>,
}

pub async fn decide_school(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    school_id: Uuid,
    b: &DecideBody,
) -> AppResult<Submission> {
    let period = stats::get_period(&st.store.db, id).await?;
    p.require(Action::ManageStats, Resource::OrgUnit(&period.office_path()))?;
    let school = org::get(&st.store.db, school_id).await?;
    let step = match b.decision.trim() {
        "approve" => Step::Approve,
        "return" => Step::Return {
            comment: b.comment.clone().unwrap_or_default(),
        },
        _ => return Err(AppError::invalid("decision", DomainError::UnknownCode)),
    };
    Ok(stats::decide(&st.store.db, &p.actor_ref(), &period, &school, step).await?)
}

/// The office approves a submission or returns it with a comment.
#[utoipa::path(post, path = "/api/v1/stats/periods/{id}/schools/{school}/decision", tag = "stats", params(("id" = Uuid, Path), ("school" = Uuid, Path)),
    request_body = DecideBody,
    responses((status = 200, body = Submission), (status = 403, body = crate::api::ErrorBody), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
pub async fn decide(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
    ApiJson(b): ApiJson<DecideBody>,
) -> ApiResult<Submission> {
    Ok(Json(decide_school(&st, &p, id, school, &b).await?))
}
