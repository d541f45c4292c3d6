//! Statistics pages: the hub (`/stats`: the unit's reporting periods, opening one), the
//! official forms of a school or a subtree as at a reference date with every cell linked to
//! the records behind it, exports in the official layout, and the reporting workflow (a
//! period's schools; a school reviews its forms and data-quality errors, explains, submits;
//! the office returns or approves).

use crate::AppState;
use crate::api::stats::{
    self as api, Asked, DecideBody, ExplainBody, FormView, FormsQuery, NewPeriodBody, TraceQuery,
    school_year_label,
};
use crate::ctx::{Authed, Principal, ReqCtx};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, after_write, blank};
use crate::routes::{Access, Builder};
use crate::scope;
use crate::view::{self, FieldErrors, Layout, Tr, page, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_core::org::OrgKind;
use truongso_core::stats::period::Status;
use truongso_store::org::OrgUnit;
use truongso_store::stats::{self, Period, Submission};
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Access::Act;
    use Action::{ManageStats, SubmitStats, ViewStats};
    b.add("GET", "/stats", Act(ViewStats), get(hub))
        .add("POST", "/stats/periods", Act(ManageStats), post(open_period))
        .add("GET", "/stats/forms", Act(ViewStats), get(forms_page))
        .add("GET", "/stats/forms/trace", Act(ViewStats), get(trace_page))
        .add("GET", "/stats/forms/export", Act(ViewStats), get(export))
        .add("GET", "/stats/periods/{id}", Act(ViewStats), get(period_page))
        .add(
            "POST",
            "/stats/periods/{id}/close",
            Act(ManageStats),
            post(close_period),
        )
        .add(
            "GET",
            "/stats/periods/{id}/schools/{school}",
            Act(ViewStats),
            get(school_page),
        )
        .add(
            "POST",
            "/stats/periods/{id}/schools/{school}/explain",
            Act(SubmitStats),
            post(explain),
        )
        .add(
            "POST",
            "/stats/periods/{id}/schools/{school}/submit",
            Act(SubmitStats),
            post(submit),
        )
        .add(
            "POST",
            "/stats/periods/{id}/schools/{school}/decision",
            Act(ManageStats),
            post(decide),
        )
        .add("GET", "/api/v1/stats/forms", Act(ViewStats), get(api::forms))
        .add(
            "GET",
            "/api/v1/stats/forms/trace",
            Act(ViewStats),
            get(api::trace),
        )
        .add(
            "GET",
            "/api/v1/stats/periods",
            Act(ViewStats),
            get(api::list_periods),
        )
        .add(
            "POST",
            "/api/v1/stats/periods",
            Act(ManageStats),
            post(api::create_period),
        )
        .add(
            "GET",
            "/api/v1/stats/periods/{id}",
            Act(ViewStats),
            get(api::get_period),
        )
        .add(
            "POST",
            "/api/v1/stats/periods/{id}/close",
            Act(ManageStats),
            post(api::close_period),
        )
        .add(
            "GET",
            "/api/v1/stats/periods/{id}/totals",
            Act(ViewStats),
            get(api::period_totals),
        )
        .add(
            "GET",
            "/api/v1/stats/periods/{id}/schools/{school}",
            Act(ViewStats),
            get(api::get_submission),
        )
        .add(
            "GET",
            "/api/v1/stats/periods/{id}/schools/{school}/snapshot",
            Act(ViewStats),
            get(api::snapshot),
        )
        .add(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/explanations",
            Act(SubmitStats),
            post(api::explain),
        )
        .add(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/submit",
            Act(SubmitStats),
            post(api::submit),
        )
        .add(
            "POST",
            "/api/v1/stats/periods/{id}/schools/{school}/decision",
            Act(ManageStats),
            post(api::decide),
        )
}

// ---------------------------------------------------------------------------------------------
// Shared views

/// `12.345`: Vietnamese digit grouping.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

struct Cell {
    text: String,
    href: Option<String>,
}

struct TableRow {
    code: String,
    label: String,
    indent: u8,
    recorded: bool,
    cells: Vec<Cell>,
}

struct TableSection {
    title: String,
    columns: Vec<String>,
    rows: Vec<TableRow>,
}

/// A form laid out for a page; every non-empty cell links to its records when `trace` (the
/// query string naming the unit, date or snapshot) is given.
struct FormTable {
    id: String,
    code: String,
    title: String,
    regime: String,
    note: Option<String>,
    sections: Vec<TableSection>,
}

fn form_table(v: &FormView, trace: Option<&str>) -> FormTable {
    FormTable {
        id: v.id.clone(),
        code: v.code.clone(),
        title: v.title.clone(),
        regime: v.regime.clone(),
        note: v.note.clone(),
        sections: v
            .sections
            .iter()
            .map(|s| TableSection {
                title: s.title.clone(),
                columns: s.columns.iter().map(|c| c.label.clone()).collect(),
                rows: s
                    .rows
                    .iter()
                    .map(|r| TableRow {
                        code: r.code.clone(),
                        label: r.label.clone(),
                        indent: r.indent,
                        recorded: r.recorded,
                        cells: r
                            .cells
                            .iter()
                            .zip(&s.columns)
                            .map(|(c, col)| Cell {
                                text: c.map(count).unwrap_or_default(),
                                href: match (c, trace) {
                                    (Some(n), Some(q)) if *n > 0 => Some(format!(
                                        "/stats/forms/trace?{q}&form={}&row={}&column={}",
                                        enc(&v.id),
                                        enc(&r.code),
                                        enc(&col.key)
                                    )),
                                    _ => None,
                                },
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn enc(s: &str) -> String {
    crate::middleware::urlencode(s)
}

fn round_label(t: Tr, r: &str) -> &'static str {
    t.s(&format!("stats.round.{r}"))
}

fn status_label(t: Tr, s: &str) -> &'static str {
    t.s(&format!("stats.status.{s}"))
}

/// The query string that names a unit's live forms.
fn live_query(unit: Uuid, asked: &Asked) -> String {
    format!(
        "unit={unit}&round={}&year={}&date={}",
        asked.round.as_str(),
        asked.cut.start_year,
        asked.cut.reference
    )
}

// ---------------------------------------------------------------------------------------------
// Hub: the unit's periods, opening one

struct PeriodRow {
    href: String,
    title: String,
    office: String,
    round: &'static str,
    reference: String,
    deadline: String,
    closed: bool,
    /// For offices: "12/35 đã nộp"; for a school: its own status.
    state: String,
    late: bool,
}

#[derive(Default, Deserialize)]
pub struct PeriodForm {
    round: Option<String>,
    start_year: Option<String>,
    reference_date: Option<String>,
    opens_on: Option<String>,
    deadline: Option<String>,
    title: Option<String>,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct HubPage {
    l: Layout,
    unit: OrgUnit,
    choices: Vec<OrgUnit>,
    periods: Vec<PeriodRow>,
    /// Offered when the user manages statistics on this office.
    can_open: bool,
    form: PeriodForm,
    errors: FieldErrors,
    year: i32,
    /// Links to the report pages the user may use.
    links: Vec<(&'static str, &'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct UnitQuery {
    unit: Option<Uuid>,
}

async fn period_rows(st: &AppState, p: &Principal, t: Tr, unit: &OrgUnit) -> AppResult<Vec<PeriodRow>> {
    let today = crate::today();
    let mut out = vec![];
    for period in stats::periods_for(&st.store.db, &unit.path).await? {
        let office = truongso_store::org::get(&st.store.db, period.office_id).await?;
        let (state, late, href) = if unit.kind == OrgKind::School {
            let s = stats::submission(&st.store.db, &period, unit, today).await?;
            (
                status_label(t, &s.status).to_string(),
                s.late,
                format!("/stats/periods/{}/schools/{}", period.id, unit.id),
            )
        } else {
            let body = api::period_body(st, p, period.clone()).await?;
            let pr = body.progress;
            (
                truongso_core::i18n::tf(
                    t.0,
                    "stats.hub.progress",
                    &[
                        ("in", (pr.submitted + pr.approved).to_string()),
                        ("schools", pr.schools.to_string()),
                        ("approved", pr.approved.to_string()),
                    ],
                ),
                pr.late > 0,
                format!("/stats/periods/{}", period.id),
            )
        };
        out.push(PeriodRow {
            href,
            title: period.title.clone(),
            office: office.name,
            round: round_label(t, &period.round),
            reference: view::date(&period.reference_date),
            deadline: view::date(&period.deadline),
            closed: period.closed,
            state,
            late,
        });
    }
    Ok(out)
}

fn hub_links(p: &Principal, unit: &OrgUnit) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut links = vec![
        ("/stats/forms", "stats.hub.forms", "stats.hub.forms_help"),
        ("/stats/reports", "stats.hub.reports", "stats.hub.reports_help"),
    ];
    if unit.kind.is_office() {
        links.push((
            "/stats/dashboard",
            "stats.hub.dashboard",
            "stats.hub.dashboard_help",
        ));
        links.push(("/stats/pcgd", "stats.hub.pcgd", "stats.hub.pcgd_help"));
        if p.can(Action::ManageStats, Resource::OrgUnit(&unit.path)) {
            links.push((
                "/stats/population",
                "stats.hub.population",
                "stats.hub.population_help",
            ));
        }
    }
    links
}

async fn render_hub(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    asked: Option<Uuid>,
    form: PeriodForm,
    error: Option<AppError>,
) -> AppResult<Response> {
    let (unit, choices) = scope::chosen_unit(st, p, asked, Action::ViewStats).await?;
    let (l, errors, status) = Layout::titled(ctx, "stats.hub.title").with_error(error);
    let periods = period_rows(st, p, l.t, &unit).await?;
    let page = HubPage {
        can_open: unit.kind.is_office() && p.can(Action::ManageStats, Resource::OrgUnit(&unit.path)),
        links: hub_links(p, &unit),
        year: api::school_year_of(crate::today()),
        l,
        unit,
        choices,
        periods,
        form,
        errors,
    };
    Ok(render(status, &page))
}

pub async fn hub(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    render_hub(&st, &ctx, &p, q.unit, PeriodForm::default(), None).await
}

fn optional_date(v: &Option<String>, field: &'static str) -> AppResult<Option<chrono::NaiveDate>> {
    blank(v)
        .map(|d| truongso_core::org::parse_date(&d).map_err(|e| AppError::invalid(field, e)))
        .transpose()
}

#[derive(Deserialize)]
pub struct OpenQuery {
    unit: Uuid,
}

pub async fn open_period(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<OpenQuery>,
    PageForm(f): PageForm<PeriodForm>,
) -> AppResult<Response> {
    let result = async {
        let start_year = blank(&f.start_year)
            .ok_or_else(|| AppError::invalid("start_year", truongso_core::DomainError::Required))?
            .parse::<i32>()
            .map_err(|_| AppError::invalid("start_year", truongso_core::DomainError::InvalidSchoolYear))?;
        api::open(
            &st,
            &p,
            NewPeriodBody {
                office_id: q.unit,
                round: f.round.clone().unwrap_or_default(),
                start_year,
                reference_date: optional_date(&f.reference_date, "reference_date")?,
                opens_on: optional_date(&f.opens_on, "opens_on")?,
                deadline: optional_date(&f.deadline, "deadline")?,
                title: blank(&f.title),
            },
        )
        .await
    }
    .await;
    after_write(
        result,
        |period| {
            flash_redirect(
                &format!("/stats/periods/{}", period.id),
                "success",
                "stats.hub.opened",
                vec![("title", period.title)],
            )
        },
        async |e| render_hub(&st, &ctx, &p, Some(q.unit), f, Some(e)).await,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Forms of a unit

#[derive(Template)]
#[template(path = "stats_forms.html")]
struct FormsPage {
    l: Layout,
    unit: OrgUnit,
    choices: Vec<OrgUnit>,
    round: &'static str,
    year: i32,
    date: String,
    school_year: String,
    reference: String,
    schools: usize,
    /// (id, code) of every form shown, for the tabs.
    tabs: Vec<(String, String, bool)>,
    form: Option<FormTable>,
    query: String,
    /// The unit is not one of the picker's choices (a school reached from an office).
    unit_elsewhere: bool,
}

pub async fn forms_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<FormsQuery>,
) -> AppResult<Response> {
    let asked = q.resolve()?;
    let (unit, choices) = scope::chosen_unit(&st, &p, q.unit, Action::ViewStats).await?;
    let (defs, values, schools) = api::compute_forms(&st, &unit, asked, None).await?;
    let chosen = q
        .form
        .as_deref()
        .and_then(|id| defs.iter().position(|d| d.id == id))
        .unwrap_or(0);
    let query = live_query(unit.id, &asked);
    let form = defs
        .get(chosen)
        .map(|d| form_table(&FormView::new(d, &values[chosen]), Some(&query)));
    let tabs = defs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), d.code.clone(), i == chosen))
        .collect();
    let l = Layout::titled(&ctx, "stats.forms.title");
    Ok(page(&FormsPage {
        round: asked.round.as_str(),
        year: asked.cut.start_year,
        date: asked.cut.reference.to_string(),
        school_year: school_year_label(asked.cut.start_year),
        reference: view::date(&asked.cut.reference),
        schools,
        tabs,
        form,
        query,
        unit_elsewhere: !choices.iter().any(|c| c.id == unit.id),
        l,
        unit,
        choices,
    }))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(flatten)]
    forms: FormsQuery,
    /// `xlsx` (default) or `csv`.
    format: Option<String>,
}

/// One form of a unit in the official layout (XLSX) or as CSV.
pub async fn export(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    let asked = q.forms.resolve()?;
    let unit = api::stats_unit(&st, &p, q.forms.unit).await?;
    let form_id = q
        .forms
        .form
        .as_deref()
        .ok_or_else(|| AppError::invalid("form", truongso_core::DomainError::Required))?;
    let (defs, values, _) = api::compute_forms(&st, &unit, asked, Some(form_id)).await?;
    let (def, values) = (&defs[0], &values[0]);
    let stem = format!(
        "{}_{}_{}",
        truongso_core::text::fold(&def.code).replace(['.', ' '], "-"),
        unit.code
            .as_deref()
            .unwrap_or_default()
            .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
        asked.cut.reference
    );
    match q.forms_format() {
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{stem}.csv\""),
                ),
            ],
            truongso_docs::stats::form_csv(def, values),
        )
            .into_response()),
        _ => {
            let receiver = match unit.parent_id {
                Some(id) => truongso_store::org::get(&st.store.db, id).await?.name,
                None => String::new(),
            };
            let header = truongso_docs::stats::FormHeader {
                unit_name: unit.name.clone(),
                receiver,
                reference_date: asked.cut.reference,
                school_year: school_year_label(asked.cut.start_year),
                generated_at: chrono::Utc::now()
                    .with_timezone(&view::vn_offset())
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            };
            let bytes = truongso_docs::stats::form_xlsx(def, values, &header).map_err(AppError::internal)?;
            Ok(crate::pages::imports::xlsx(&format!("{stem}.xlsx"), bytes))
        }
    }
}

impl ExportQuery {
    fn forms_format(&self) -> &str {
        self.format.as_deref().unwrap_or("xlsx")
    }
}

// ---------------------------------------------------------------------------------------------
// Records behind a cell

struct TraceView {
    entity: &'static str,
    name: String,
    school: String,
    amount: u64,
    href: String,
}

#[derive(Template)]
#[template(path = "stats_trace.html")]
struct TracePage {
    l: Layout,
    unit: OrgUnit,
    form_code: String,
    row_label: String,
    column_label: String,
    row: String,
    value: String,
    count: String,
    truncated: bool,
    frozen: bool,
    back: String,
    records: Vec<TraceView>,
}

/// Records listed on the page; the API gives up to [`api::TRACE_LIMIT`].
const TRACE_SHOWN: usize = 1000;

#[derive(Deserialize)]
pub struct TracePageQuery {
    #[serde(flatten)]
    trace: TraceQuery,
    /// With `school`: the records frozen in that school's submission.
    period: Option<Uuid>,
    school: Option<Uuid>,
}

pub async fn trace_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<TracePageQuery>,
) -> AppResult<Response> {
    let l = Layout::titled(&ctx, "stats.trace.title");
    let (unit, body, frozen, back, def) = match (q.period, q.school) {
        (Some(period_id), Some(school_id)) => {
            let (period, school) =
                api::period_school(&st, &p, period_id, school_id, Action::ViewStats).await?;
            let snap = stats::snapshot(&st.store.db, period.id, school.id)
                .await?
                .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "stats_not_submitted"))?;
            let def = stats::forms_of(period.round(), period.reference_date, None)
                .into_iter()
                .find(|d| d.id == q.trace.form)
                .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "stats_unknown_form"))?;
            let rows =
                stats::trace_cell(&st.store.db, &def, &snap.facts, &q.trace.row, &q.trace.column).await?;
            let body = api::TraceBody {
                form_id: def.id.clone(),
                row: q.trace.row.clone(),
                column: q.trace.column.clone(),
                value: rows.iter().map(|r| r.amount).sum(),
                count: rows.len(),
                truncated: false,
                records: rows,
            };
            let back = format!(
                "/stats/periods/{}/schools/{}?form={}",
                period.id,
                school.id,
                enc(&def.id)
            );
            (school, body, true, back, def)
        }
        _ => {
            let asked = q.trace.forms().resolve()?;
            let unit = api::stats_unit(&st, &p, q.trace.unit).await?;
            let body = api::trace_of(&st, &unit, asked, &q.trace).await?;
            let def = stats::forms_of(asked.round, asked.cut.reference, None)
                .into_iter()
                .find(|d| d.id == body.form_id)
                .ok_or_else(AppError::not_found)?;
            let back = format!(
                "/stats/forms?{}&form={}",
                live_query(unit.id, &asked),
                enc(&def.id)
            );
            (unit, body, false, back, def)
        }
    };
    let (section, row) = def.row(&body.row).ok_or_else(AppError::not_found)?;
    let column_label = section
        .columns
        .iter()
        .find(|c| c.key == body.column)
        .map(|c| c.label.clone())
        .unwrap_or_default();
    let records = body
        .records
        .iter()
        .take(TRACE_SHOWN)
        .map(|r| TraceView {
            entity: l.t.s(&format!("stats.entity.{}", r.entity)),
            name: r.name.clone(),
            school: r.school.clone(),
            amount: r.amount,
            href: r.href.clone(),
        })
        .collect();
    Ok(page(&TracePage {
        form_code: def.code.clone(),
        row_label: row.label.clone(),
        column_label,
        row: body.row.clone(),
        value: count(body.value),
        count: count(body.count as u64),
        truncated: body.count > TRACE_SHOWN,
        frozen,
        back,
        records,
        l,
        unit,
    }))
}

// ---------------------------------------------------------------------------------------------
// A period: its schools

struct SubmissionRow {
    school: String,
    href: String,
    status: &'static str,
    status_code: String,
    submitted_at: String,
    late: bool,
    comment: String,
}

#[derive(Template)]
#[template(path = "stats_period.html")]
struct PeriodPage {
    l: Layout,
    period: Period,
    round: &'static str,
    reference: String,
    deadline: String,
    opens: String,
    progress: truongso_core::stats::period::Progress,
    percent: String,
    rows: Vec<SubmissionRow>,
    can_manage: bool,
    /// The sum of the snapshots received (approved, and with `pending` submitted too).
    totals: Vec<FormTable>,
    totals_schools: u32,
    pending: bool,
}

#[derive(Deserialize)]
pub struct PeriodQuery {
    pending: Option<bool>,
}

fn percent(permille: u32) -> String {
    match permille % 10 {
        0 => format!("{}%", permille / 10),
        d => format!("{},{d}%", permille / 10),
    }
}

fn submission_row(t: Tr, s: &Submission, period: &Period) -> SubmissionRow {
    SubmissionRow {
        school: s.school_name.clone(),
        href: format!("/stats/periods/{}/schools/{}", period.id, s.school_id),
        status: status_label(t, &s.status),
        status_code: s.status.clone(),
        submitted_at: view::opt_datetime(&s.submitted_at),
        late: s.late,
        comment: s.comment.clone().unwrap_or_default(),
    }
}

pub async fn period_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    let period = api::period(&st, &p, id).await?;
    let office_view = p.can(Action::ViewStats, Resource::OrgUnit(&period.office_path()));
    let body = api::period_body(&st, &p, period.clone()).await?;
    // A school's staff have one submission to look at.
    if !office_view && body.submissions.len() == 1 {
        return Ok(axum::response::Redirect::to(&format!(
            "/stats/periods/{}/schools/{}",
            period.id, body.submissions[0].school_id
        ))
        .into_response());
    }
    let l = Layout::new(&ctx, period.title.clone());
    let pending = q.pending.unwrap_or(false);
    let (totals, totals_schools) = if office_view {
        let t = api::totals(&st, &period, pending).await?;
        (t.forms.iter().map(|f| form_table(f, None)).collect(), t.schools)
    } else {
        (vec![], 0)
    };
    Ok(page(&PeriodPage {
        round: round_label(l.t, &period.round),
        reference: view::date(&period.reference_date),
        deadline: view::date(&period.deadline),
        opens: view::date(&period.opens_on),
        percent: percent(body.progress.completeness_permille),
        progress: body.progress,
        rows: body
            .submissions
            .iter()
            .map(|s| submission_row(l.t, s, &period))
            .collect(),
        can_manage: p.can(Action::ManageStats, Resource::OrgUnit(&period.office_path())),
        totals,
        totals_schools,
        pending,
        period,
        l,
    }))
}

pub async fn close_period(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let period = api::close(&st, &p, id).await?;
    Ok(flash_redirect(
        &format!("/stats/periods/{}", period.id),
        "success",
        "stats.period.closed_now",
        vec![],
    ))
}

// ---------------------------------------------------------------------------------------------
// A school's submission: review, explain, submit; return or approve

struct IssueItem {
    rule: String,
    rule_label: &'static str,
    entity_id: Uuid,
    name: String,
    href: String,
    detail: String,
    explanation: String,
}

#[derive(Template)]
#[template(path = "stats_school.html")]
struct SchoolPage {
    l: Layout,
    period: Period,
    school: OrgUnit,
    submission: Submission,
    status: &'static str,
    deadline: String,
    reference: String,
    issues: Vec<IssueItem>,
    unexplained: usize,
    /// The school may submit now (its staff, status draft or returned, period open).
    can_submit: bool,
    /// The school may still explain (draft or returned).
    can_explain: bool,
    /// The office may decide (submitted).
    can_decide: bool,
    is_office: bool,
    frozen: bool,
    sha: String,
    tabs: Vec<(String, String, bool)>,
    form: Option<FormTable>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct SchoolQuery {
    form: Option<String>,
}

async fn render_school(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    period_id: Uuid,
    school_id: Uuid,
    form_id: Option<&str>,
    error: Option<AppError>,
) -> AppResult<Response> {
    let (period, school) = api::period_school(st, p, period_id, school_id, Action::ViewStats).await?;
    let body = api::submission_body(st, &period, &school).await?;
    let (l, errors, status) = Layout::new(ctx, school.name.clone()).with_error(error);
    let t = l.t;
    let sub_status = body.submission.status();
    let frozen = matches!(sub_status, Status::Submitted | Status::Approved);
    // What the office sees once submitted is what was frozen; before, the live computation.
    let (views, trace_query) = match (frozen, api::snapshot_of(st, &period, &school).await?) {
        (true, Some(snap)) => (snap.forms, format!("period={}&school={}", period.id, school.id)),
        _ => {
            let asked = Asked {
                round: period.round(),
                cut: period.cut(),
            };
            let (defs, values, _) = api::compute_forms(st, &school, asked, None).await?;
            (
                defs.iter()
                    .zip(&values)
                    .map(|(d, v)| FormView::new(d, v))
                    .collect(),
                live_query(school.id, &asked),
            )
        }
    };
    let chosen = form_id
        .and_then(|id| views.iter().position(|v| v.id == id))
        .unwrap_or(0);
    let tabs = views
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.clone(), v.code.clone(), i == chosen))
        .collect();
    let form = views.get(chosen).map(|v| form_table(v, Some(&trace_query)));
    let issues = body
        .issues
        .iter()
        .map(|i| IssueItem {
            rule: i.rule.clone(),
            rule_label: t.s(&format!("quality.rule.{}", i.rule)),
            entity_id: i.entity_id,
            name: i.name.clone(),
            href: i.href.clone(),
            detail: crate::pages::quality::issue_view(t, i).detail,
            explanation: body
                .explanations
                .iter()
                .find(|e| e.rule == i.rule && e.entity_id == i.entity_id)
                .map(|e| e.text.clone())
                .unwrap_or_default(),
        })
        .collect();
    let open_for_school = matches!(sub_status, Status::Draft | Status::Returned) && !period.closed;
    let page = SchoolPage {
        status: status_label(t, &body.submission.status),
        deadline: view::date(&period.deadline),
        reference: view::date(&period.reference_date),
        can_submit: open_for_school && p.can(Action::SubmitStats, Resource::OrgUnit(&school.path)),
        can_explain: matches!(sub_status, Status::Draft | Status::Returned)
            && p.can(Action::SubmitStats, Resource::OrgUnit(&school.path)),
        can_decide: sub_status == Status::Submitted
            && p.can(Action::ManageStats, Resource::OrgUnit(&period.office_path())),
        is_office: p.can(Action::ViewStats, Resource::OrgUnit(&period.office_path())),
        sha: body.submission.snapshot_sha256.clone().unwrap_or_default(),
        unexplained: body.unexplained,
        submission: body.submission,
        frozen,
        issues,
        tabs,
        form,
        errors,
        l,
        period,
        school,
    };
    Ok(render(status, &page))
}

pub async fn school_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
    Query(q): Query<SchoolQuery>,
) -> AppResult<Response> {
    render_school(&st, &ctx, &p, id, school, q.form.as_deref(), None).await
}

fn back_to_school(id: Uuid, school: Uuid, key: &str) -> Response {
    flash_redirect(
        &format!("/stats/periods/{id}/schools/{school}"),
        "success",
        key,
        vec![],
    )
}

#[derive(Deserialize)]
pub struct ExplainForm {
    rule: String,
    entity_id: Uuid,
    text: Option<String>,
}

pub async fn explain(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
    PageForm(f): PageForm<ExplainForm>,
) -> AppResult<Response> {
    let b = ExplainBody {
        rule: f.rule,
        entity_id: f.entity_id,
        text: f.text.unwrap_or_default(),
    };
    let result = api::explain_issue(&st, &p, id, school, &b).await;
    after_write(
        result,
        |_| back_to_school(id, school, "stats.school.explained"),
        async |e| render_school(&st, &ctx, &p, id, school, None, Some(e)).await,
    )
    .await
}

pub async fn submit(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let result = api::submit_school(&st, &p, id, school).await;
    after_write(
        result,
        |_| back_to_school(id, school, "stats.school.submitted_now"),
        async |e| render_school(&st, &ctx, &p, id, school, None, Some(e)).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct DecideForm {
    decision: String,
    comment: Option<String>,
}

pub async fn decide(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path((id, school)): Path<(Uuid, Uuid)>,
    PageForm(f): PageForm<DecideForm>,
) -> AppResult<Response> {
    let b = DecideBody {
        decision: f.decision.clone(),
        comment: f.comment,
    };
    let result = api::decide_school(&st, &p, id, school, &b).await;
    let key = if f.decision == "approve" {
        "stats.school.approved_now"
    } else {
        "stats.school.returned_now"
    };
    after_write(
        result,
        |_| back_to_school(id, school, key),
        async |e| render_school(&st, &ctx, &p, id, school, None, Some(e)).await,
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_grouped_by_dots() {
        assert_eq!(super::count(0), "0");
        assert_eq!(super::count(999), "999");
        assert_eq!(super::count(1000), "1.000");
        assert_eq!(super::count(1234567), "1.234.567");
    }

    #[test]
    fn percent_with_a_decimal_comma() {
        assert_eq!(super::percent(1000), "100%");
        assert_eq!(super::percent(875), "87,5%");
    }
}
