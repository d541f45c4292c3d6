//! Statistics reports: the dynamic report (`/stats/reports`: an indicator or a count, grouped by
//! one or two dimensions, filtered, as a table and a bar chart, exported to XLSX and CSV), the
//! population tables (`/stats/population`: import per commune and age, with a template), the
//! universal-education and literacy levels (`/stats/pcgd`) and the province dashboard
//! (`/stats/dashboard`). The JSON API (`api::stats_reports`) computes the same bodies.
//!
//! Charts are SVG drawn on the server (no script), each with a title and a description for
//! screen readers and the figures in a table beside it.

use crate::AppState;
use crate::api::stats_reports::{
    self as api, DashboardBody, Measure, PcgdBody, PopulationBody, PopulationImported, ReportBody,
    ReportQuery, ReportRow, TableProblem, UnitQuery, count_text,
};
use crate::ctx::Authed;
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::PageForm;
use crate::routes::{Access, Builder};
use crate::scope;
use crate::view::{self, Layout, Tr, render};
use askama::Template;
use axum::extract::{FromRequest, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use truongso_core::auth::Action;
use truongso_core::i18n::{self, Locale};
use truongso_core::org::SchoolLevel;
use truongso_core::stats::indicators::{IndicatorId, Rate, RateKind};
use truongso_core::stats::pcgd::{Criterion, Programme};
use truongso_store::org::OrgUnit;

/// `upload`: the body limit of the population uploads (spreadsheets).
pub(crate) fn routes(b: Builder, upload: usize) -> Builder {
    use Access::{Act, SignedIn};
    use Action::{ManageStats, ViewStats};
    use axum::extract::DefaultBodyLimit;
    b.add("GET", "/stats/reports", Act(ViewStats), get(report_page))
        .add("GET", "/stats/reports/export", Act(ViewStats), get(report_export))
        .add("GET", "/stats/population", Act(ManageStats), get(population_page))
        .add(
            "POST",
            "/stats/population",
            Act(ManageStats),
            post(population_upload).layer(DefaultBodyLimit::max(upload)),
        )
        .add(
            "GET",
            "/stats/population/template.xlsx",
            SignedIn,
            get(population_template),
        )
        .add("GET", "/stats/pcgd", Act(ViewStats), get(pcgd_page))
        .add("GET", "/stats/dashboard", Act(ViewStats), get(dashboard_page))
        .add(
            "GET",
            "/api/v1/stats/reports",
            Act(ViewStats),
            get(api::get_report),
        )
        .add(
            "GET",
            "/api/v1/stats/indicators",
            Act(ViewStats),
            get(api::get_indicators),
        )
        .add(
            "GET",
            "/api/v1/stats/population",
            Act(ViewStats),
            get(api::get_population),
        )
        .add(
            "POST",
            "/api/v1/stats/population",
            Act(ManageStats),
            post(api::post_population).layer(DefaultBodyLimit::max(upload)),
        )
        .add("GET", "/api/v1/stats/pcgd", Act(ViewStats), get(api::get_pcgd))
        .add(
            "GET",
            "/api/v1/stats/dashboard",
            Act(ViewStats),
            get(api::get_dashboard),
        )
}

// ---------------------------------------------------------------------------------------------
// Charts

pub(crate) struct Bar {
    label: String,
    short: String,
    text: String,
    y: u32,
    text_y: u32,
    w: u32,
    value_x: u32,
}

/// A horizontal bar chart drawn as SVG (`stats_r_chart.html`).
pub(crate) struct Chart {
    id: String,
    title: String,
    desc: String,
    width: u32,
    height: u32,
    label_x: u32,
    bar_x: u32,
    bars: Vec<Bar>,
    /// Shown under the chart when bars were left out.
    note: Option<String>,
}

/// The drawing's width and the part of it the labels take (SVG units: the chart scales to its
/// box, so a small chart uses a narrow drawing to keep its text readable).
#[derive(Clone, Copy)]
struct Frame {
    width: u32,
    labels: u32,
}

/// A report's chart, across the page.
const WIDE: Frame = Frame {
    width: 720,
    labels: 260,
};
/// A trend in a card of the dashboard's grid.
const SMALL: Frame = Frame {
    width: 300,
    labels: 80,
};
/// Room left after the bar for its value.
const VALUE_SPACE: u32 = 70;
const ROW: u32 = 26;
/// Bars drawn at most; the table beside the chart has every row.
const MAX_BARS: usize = 40;

/// The end of a label that fits `max` characters: names of units and schools differ at their
/// end ("… phường Hà Giang 1"), not at their start ("Phòng Văn hóa – Xã hội …").
fn shorten_front(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (max - 1)).collect();
    format!("…{}", tail.trim_start())
}

/// A label of one or two group values that fits `max` characters: the last values are kept
/// whole (the sex of "unit · sex" tells the bars apart), the first is shortened.
fn short_label(parts: &[String], max: usize) -> String {
    let full = parts.join(" · ");
    if full.chars().count() <= max || parts.len() < 2 {
        return shorten_front(&full, max);
    }
    let rest: String = parts[1..].iter().map(|p| format!(" · {p}")).collect();
    let room = max.saturating_sub(rest.chars().count()).max(6);
    shorten_front(&format!("{}{rest}", shorten_front(&parts[0], room)), max)
}

/// Bars of `(label parts, value, value as written)`; values are scaled to the largest. A bar
/// without a value (zero denominator) is drawn empty with "—".
fn bar_chart(
    t: Tr,
    id: &str,
    title: String,
    items: Vec<(Vec<String>, Option<u64>, String)>,
    frame: Frame,
) -> Chart {
    let total = items.len();
    let items: Vec<(String, Vec<String>, Option<u64>, String)> = items
        .into_iter()
        .take(MAX_BARS)
        .map(|(parts, v, text)| (parts.join(" · "), parts, v, text))
        .collect();
    let max = items.iter().filter_map(|i| i.2).max().unwrap_or(0).max(1);
    let bar_x = frame.labels + 8;
    let space = frame.width - bar_x - VALUE_SPACE;
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .map(|(i, (label, parts, value, text))| {
            let y = 8 + i as u32 * ROW;
            let w = value.map_or(0, |v| {
                ((u128::from(v) * u128::from(space)) / u128::from(max)) as u32
            });
            Bar {
                // About 8 units a character at the drawing's font size.
                short: short_label(parts, (frame.labels / 8) as usize),
                label: label.clone(),
                text: if value.is_some() {
                    text.clone()
                } else {
                    "—".into()
                },
                y,
                text_y: y + 14,
                w,
                value_x: bar_x + w + 6,
            }
        })
        .collect();
    let desc = match (
        items.iter().filter(|i| i.2.is_some()).max_by_key(|i| i.2),
        items.iter().filter(|i| i.2.is_some()).min_by_key(|i| i.2),
    ) {
        (Some(hi), Some(lo)) => i18n::tf(
            t.0,
            "stats_reports.chart.desc",
            &[
                ("n", items.len().to_string()),
                ("max_label", hi.0.clone()),
                ("max", hi.3.clone()),
                ("min_label", lo.0.clone()),
                ("min", lo.3.clone()),
            ],
        ),
        _ => t.s("stats_reports.chart.empty").to_string(),
    };
    Chart {
        id: id.to_string(),
        title,
        desc,
        width: frame.width,
        height: 16 + items.len().max(1) as u32 * ROW,
        label_x: frame.labels,
        bar_x,
        bars,
        note: (total > MAX_BARS).then(|| t.f("stats_reports.chart.more", "n", &MAX_BARS.to_string())),
    }
}

// ---------------------------------------------------------------------------------------------
// Dynamic report

struct Opt {
    value: String,
    label: String,
}

/// What the form shows back: the parameters as typed (or as resolved).
#[derive(Default)]
struct Echo {
    unit: String,
    measure: String,
    level: String,
    by1: String,
    by2: String,
    filter: String,
    year: String,
    date: String,
}

struct Cell {
    text: String,
    href: Option<String>,
}

struct RowView {
    cells: Vec<Cell>,
    numerator: String,
    denominator: String,
    value: String,
}

struct ReportView {
    title: String,
    formula: String,
    meta: String,
    filter: String,
    is_count: bool,
    dims: Vec<String>,
    value_header: String,
    rows: Vec<RowView>,
    total: RowView,
    /// One chart (a list, for the shared partial).
    charts: Vec<Chart>,
    xlsx: String,
    csv: String,
}

#[derive(Template)]
#[template(path = "stats_report.html")]
struct ReportPage {
    l: Layout,
    unit_id: String,
    units: Vec<Opt>,
    echo: Echo,
    indicators: Vec<Opt>,
    counts: Vec<Opt>,
    levels: Vec<Opt>,
    dims: Vec<Opt>,
    report: Option<ReportView>,
}

fn qs(q: &ReportQuery) -> String {
    serde_urlencoded::to_string(q).unwrap_or_default()
}

fn value_header(t: Tr, m: Measure) -> String {
    match m {
        Measure::Count(_) => t.s("stats_reports.report.share").to_string(),
        Measure::Indicator(id) => match id.kind() {
            RateKind::Percent => t.s("stats_reports.report.rate").to_string(),
            RateKind::Ratio => t.s("stats_reports.report.ratio").to_string(),
        },
    }
}

fn row_view(t: Tr, r: &ReportRow, cells: Vec<Cell>) -> RowView {
    RowView {
        cells,
        numerator: count_text(t.0, r.numerator),
        denominator: count_text(t.0, r.denominator),
        value: r.value.clone().unwrap_or_else(|| "—".into()),
    }
}

fn report_view(t: Tr, spec: &api::ReportSpec, body: &ReportBody, q: &ReportQuery) -> ReportView {
    let is_count = matches!(spec.measure, Measure::Count(_));
    let unit_at = spec.by.iter().position(|b| b == api::UNIT_DIM);
    let rows: Vec<RowView> = body
        .rows
        .iter()
        .map(|r| {
            let cells = r
                .key
                .iter()
                .enumerate()
                .map(|(i, k)| Cell {
                    text: k.label.clone(),
                    // A child unit opens the same report one level down.
                    href: (Some(i) == unit_at && k.code != spec.unit.id.to_string()).then(|| {
                        format!(
                            "/stats/reports?{}",
                            qs(&ReportQuery {
                                unit: Some(k.code.clone()),
                                format: None,
                                ..q.clone()
                            })
                        )
                    }),
                })
                .collect();
            row_view(t, r, cells)
        })
        .collect();
    let total_cells = if body.group_by.is_empty() {
        vec![]
    } else {
        let mut v = vec![Cell {
            text: t.s("stats_reports.report.total").to_string(),
            href: None,
        }];
        v.extend((1..body.group_by.len()).map(|_| Cell {
            text: String::new(),
            href: None,
        }));
        v
    };
    let chart_items: Vec<(Vec<String>, Option<u64>, String)> = if body.rows.is_empty() {
        vec![(
            vec![t.s("stats_reports.report.total").to_string()],
            chart_value(is_count, &body.total),
            chart_text(t, is_count, &body.total),
        )]
    } else {
        body.rows
            .iter()
            .map(|r| {
                (
                    r.key.iter().map(|k| k.label.clone()).collect(),
                    chart_value(is_count, r),
                    chart_text(t, is_count, r),
                )
            })
            .collect()
    };
    let mut meta = vec![
        body.unit_name.clone(),
        format!("{} {}", t.s("stats_reports.report.school_year"), body.school_year),
        t.f(
            "stats_reports.report.as_at",
            "date",
            &view::date(&body.reference_date),
        ),
    ];
    if let Some(l) = &body.level {
        meta.push(t.s(&format!("level.{l}")).to_string());
    }
    let export = |format: &str| {
        format!(
            "/stats/reports/export?{}",
            qs(&ReportQuery {
                unit: Some(spec.unit.id.to_string()),
                format: Some(format.into()),
                ..q.clone()
            })
        )
    };
    ReportView {
        title: body.measure_name.clone(),
        formula: body.formula.clone(),
        meta: meta.join(" · "),
        filter: body
            .filter
            .iter()
            .map(|f| format!("{} = {}", f.field_label, f.value_label))
            .collect::<Vec<_>>()
            .join(", "),
        is_count,
        dims: body.group_by.iter().map(|d| d.label.clone()).collect(),
        value_header: value_header(t, spec.measure),
        total: row_view(t, &body.total, total_cells),
        rows,
        charts: vec![bar_chart(
            t,
            "report-chart",
            body.measure_name.clone(),
            chart_items,
            WIDE,
        )],
        xlsx: export("xlsx"),
        csv: export("csv"),
    }
}

/// What a bar stands for: the count, or the indicator's value.
fn chart_value(is_count: bool, r: &ReportRow) -> Option<u64> {
    if is_count {
        Some(r.numerator)
    } else {
        r.value_hundredths
    }
}

fn chart_text(t: Tr, is_count: bool, r: &ReportRow) -> String {
    if is_count {
        count_text(t.0, r.numerator)
    } else {
        r.value.clone().unwrap_or_default()
    }
}

fn options(
    t: Tr,
    measure: Option<Measure>,
    level: Option<SchoolLevel>,
) -> (Vec<Opt>, Vec<Opt>, Vec<Opt>, Vec<Opt>) {
    let indicators = IndicatorId::ALL
        .iter()
        .map(|i| Opt {
            value: i.as_str().into(),
            label: t.s(&i.name_key()).into(),
        })
        .collect();
    let counts = api::COUNTS
        .iter()
        .map(|(c, _)| Opt {
            value: (*c).into(),
            label: t.s(&format!("stats_reports.count.{c}.name")).into(),
        })
        .collect();
    let levels = ["MN", "TH", "THCS", "THPT"]
        .iter()
        .map(|l| Opt {
            value: (*l).into(),
            label: t.s(&format!("level.{l}")).into(),
        })
        .collect();
    let dims = match measure {
        Some(m) => api::dimensions_for(m, level),
        None => api::DIMENSIONS.to_vec(),
    }
    .into_iter()
    .map(|d| Opt {
        value: d.into(),
        label: api::dimension_label(t.0, d),
    })
    .collect();
    (indicators, counts, levels, dims)
}

fn unit_options(unit: Option<&OrgUnit>, choices: &[OrgUnit]) -> Vec<Opt> {
    let mut out: Vec<Opt> = vec![];
    for u in unit.into_iter().chain(choices) {
        if !out.iter().any(|o| o.value == u.id.to_string()) {
            out.push(Opt {
                value: u.id.to_string(),
                label: u.name.clone(),
            });
        }
    }
    out
}

fn echo(q: &ReportQuery) -> Echo {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    Echo {
        unit: s(&q.unit),
        measure: q.measure.clone().unwrap_or_else(|| "learners".into()),
        level: s(&q.level),
        by1: s(&q.by1),
        by2: s(&q.by2),
        filter: s(&q.filter),
        year: s(&q.year),
        date: s(&q.date),
    }
}

pub async fn report_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let l = Layout::titled(&ctx, "stats_reports.report.title");
    let t = l.t;
    let outcome = match q.resolve(&st, &p, ctx.locale).await {
        Ok(spec) => match api::run_report(&st, &spec, ctx.locale).await {
            Ok(body) => Ok((spec, body)),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok((spec, body)) => {
            let mut e = echo(&q);
            e.unit = spec.unit.id.to_string();
            e.year = spec.start_year.to_string();
            e.date = view::date(&spec.reference);
            e.level = spec.level.map(|l| l.as_str().to_string()).unwrap_or(e.level);
            let (indicators, counts, levels, dims) = options(t, Some(spec.measure), spec.level);
            let report = report_view(t, &spec, &body, &q);
            Ok(render(
                StatusCode::OK,
                &ReportPage {
                    l: Layout {
                        title: format!("{} · {}", body.measure_name, body.unit_name),
                        ..l
                    },
                    unit_id: spec.unit.id.to_string(),
                    units: unit_options(Some(&spec.unit), &spec.choices),
                    echo: e,
                    indicators,
                    counts,
                    levels,
                    dims,
                    report: Some(report),
                },
            ))
        }
        // A bad parameter: the form again with what was typed and the message; no figures.
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let choices = scope::units_for(&st, &p, Action::ViewStats).await?;
            let measure = q.measure.as_deref().and_then(Measure::parse);
            let (indicators, counts, levels, dims) = options(t, measure, None);
            let message = crate::api::message(ctx.locale, &e);
            Ok(render(
                StatusCode::BAD_REQUEST,
                &ReportPage {
                    l: l.with_message("error", message),
                    unit_id: q.unit.clone().unwrap_or_default(),
                    units: unit_options(None, &choices),
                    echo: echo(&q),
                    indicators,
                    counts,
                    levels,
                    dims,
                    report: None,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

/// The cells of an export: group labels, then the figures as numbers (hundredths with a
/// decimal comma, no thousands separator, so the workbook keeps them as numbers).
fn export_rows(t: Tr, body: &ReportBody) -> (Vec<String>, Vec<Vec<String>>) {
    let is_count = body.kind == "count";
    let mut headers: Vec<String> = body.group_by.iter().map(|d| d.label.clone()).collect();
    if is_count {
        headers.push(t.s("stats_reports.report.count").into());
        headers.push(t.s("stats_reports.report.share_percent").into());
    } else {
        headers.push(t.s("stats_reports.report.numerator").into());
        headers.push(t.s("stats_reports.report.denominator").into());
        headers.push(if body.kind == "percent" {
            t.s("stats_reports.report.rate_percent").into()
        } else {
            t.s("stats_reports.report.ratio").into()
        });
    }
    let figures = |r: &ReportRow| -> Vec<String> {
        let value = r
            .value_hundredths
            .map(|h| format!("{},{:02}", h / 100, h % 100))
            .unwrap_or_default();
        if is_count {
            vec![r.numerator.to_string(), value]
        } else {
            vec![r.numerator.to_string(), r.denominator.to_string(), value]
        }
    };
    let mut rows: Vec<Vec<String>> = body
        .rows
        .iter()
        .map(|r| {
            let mut cells: Vec<String> = r.key.iter().map(|k| k.label.clone()).collect();
            cells.extend(figures(r));
            cells
        })
        .collect();
    let mut total: Vec<String> = vec![String::new(); body.group_by.len()];
    if let Some(first) = total.first_mut() {
        *first = t.s("stats_reports.report.total").into();
    }
    total.extend(figures(&body.total));
    rows.push(total);
    (headers, rows)
}

/// An ASCII file name: letters, digits and dashes.
fn file_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            truongso_core::text::fold(p)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
        })
        .filter(|p| !p.trim_matches('-').is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

pub async fn report_export(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let locale = ctx.locale;
    let format = match q.format.as_deref().map(str::trim).unwrap_or("xlsx") {
        f @ ("xlsx" | "csv") => f.to_string(),
        other => {
            return Err(api::bad(
                locale,
                "format",
                i18n::tf(
                    locale,
                    "stats_reports.error.bad_format",
                    &[("value", other.into())],
                ),
            ));
        }
    };
    let spec = q.resolve(&st, &p, locale).await?;
    let body = api::run_report(&st, &spec, locale).await?;
    let t = Tr(locale);
    let (headers, rows) = export_rows(t, &body);
    let stem = file_stem(&[
        "bao-cao",
        &body.measure,
        spec.unit.code.as_deref().unwrap_or("don-vi"),
        &body.reference_date.format("%Y-%m-%d").to_string(),
    ]);
    let disposition = |ext: &str| format!("attachment; filename=\"{stem}.{ext}\"");
    if format == "csv" {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition("csv")),
            ],
            truongso_docs::stats::table_csv(&headers, &rows),
        )
            .into_response());
    }
    let title = format!(
        "{} – {} – {}",
        body.measure_name,
        body.unit_name,
        view::date(&body.reference_date)
    );
    let bytes = truongso_docs::stats::table_xlsx(&title, &headers, &rows).map_err(AppError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition("xlsx")),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Population tables

struct EntryView {
    year: i32,
    commune: String,
    name: String,
    ages: String,
    population: String,
    office: String,
    imported: String,
}

#[derive(Template)]
#[template(path = "stats_population.html")]
struct PopulationPage {
    l: Layout,
    unit: OrgUnit,
    units: Vec<Opt>,
    can_import: bool,
    done: Option<String>,
    problems: Vec<TableProblem>,
    problems_title: String,
    entries: Vec<EntryView>,
}

fn entries_view(t: Tr, body: &PopulationBody) -> Vec<EntryView> {
    body.entries
        .iter()
        .map(|e| EntryView {
            year: e.year,
            commune: e.commune.clone(),
            name: e.commune_name.clone().unwrap_or_default(),
            ages: format!("0–{}", e.max_age),
            population: count_text(t.0, e.population),
            office: e.office_name.clone(),
            imported: view::datetime(&e.imported_at),
        })
        .collect()
}

fn imported_message(t: Tr, d: &PopulationImported) -> String {
    i18n::tf(
        t.0,
        "stats_reports.population.imported",
        &[
            ("rows", count_text(t.0, d.rows)),
            ("communes", d.communes.len().to_string()),
            (
                "years",
                d.years.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
            ),
        ],
    )
}

async fn render_population(
    st: &AppState,
    l: Layout,
    p: &crate::ctx::Principal,
    unit: OrgUnit,
    status: StatusCode,
    done: Option<String>,
    problems: Vec<TableProblem>,
) -> AppResult<Response> {
    let choices = scope::units_for(st, p, Action::ManageStats).await?;
    let body = api::population_entries(st, &unit).await?;
    let t = l.t;
    Ok(render(
        status,
        &PopulationPage {
            can_import: api::may_import(p, &unit),
            units: unit_options(Some(&unit), &choices),
            entries: entries_view(t, &body),
            problems_title: t.f(
                "stats_reports.population.refused",
                "n",
                &problems.len().to_string(),
            ),
            done,
            problems,
            unit,
            l,
        },
    ))
}

pub async fn population_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    let asked = api::parse_unit(ctx.locale, &q.unit)?;
    let (unit, _) = scope::chosen_unit(&st, &p, asked, Action::ManageStats).await?;
    let l = Layout::titled(&ctx, "stats_reports.population.title");
    render_population(&st, l, &p, unit, StatusCode::OK, None, vec![]).await
}

#[derive(Deserialize)]
pub struct CsvForm {
    csv: Option<String>,
}

/// Receives a table: the `file` of a multipart form (sent by htmx, which carries the CSRF
/// header), or CSV text pasted in the form (works without script). Refused tables come back
/// with every problem; htmx gets 200 so it swaps the answer in, a plain form 400.
pub async fn population_upload(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let locale = ctx.locale;
    let htmx = req.headers().contains_key("hx-request");
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let office = api::import_unit(&st, &p, locale, &q.unit).await?;
    let bytes = if urlencoded {
        let PageForm(f) = PageForm::<CsvForm>::from_request(req, &st).await?;
        f.csv.unwrap_or_default().into_bytes()
    } else {
        api::upload_bytes(&st, locale, req).await?
    };
    let l = Layout::titled(&ctx, "stats_reports.population.title");
    match api::import_population(&st, &p, locale, &office, &bytes).await? {
        Ok(done) if !htmx => Ok(flash_redirect(
            &format!("/stats/population?unit={}", office.id),
            "success",
            "stats_reports.population.imported",
            vec![
                ("rows", count_text(locale, done.rows)),
                ("communes", done.communes.len().to_string()),
                (
                    "years",
                    done.years
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        )),
        Ok(done) => {
            let message = imported_message(l.t, &done);
            render_population(&st, l, &p, office, StatusCode::OK, Some(message), vec![]).await
        }
        Err(problems) => {
            let status = if htmx {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            render_population(&st, l, &p, office, status, None, problems).await
        }
    }
}

pub async fn population_template(_: Authed) -> AppResult<Response> {
    Ok(crate::pages::imports::xlsx(
        "mau_dan_so_theo_do_tuoi.xlsx",
        truongso_docs::template::write_template(&api::POPULATION_TEMPLATE),
    ))
}

// ---------------------------------------------------------------------------------------------
// Universal education and literacy

struct LevelCell {
    text: String,
    reached: bool,
}

struct CriterionView {
    label: String,
    ages: String,
    numerator: String,
    denominator: String,
    excluded: String,
    rate: String,
    threshold: String,
    uncertain: bool,
    pass: bool,
}

struct StandardView {
    label: String,
    pass: bool,
    missing: String,
    criteria: Vec<CriterionView>,
}

struct CommuneView {
    code: String,
    name: String,
    difficult: bool,
    surveyed: bool,
    levels: Vec<LevelCell>,
    standards: Vec<StandardView>,
}

struct RollupView {
    label: String,
    reached: String,
    share: String,
    required: String,
    pass: bool,
}

#[derive(Template)]
#[template(path = "stats_pcgd.html")]
struct PcgdPage {
    l: Layout,
    unit: OrgUnit,
    units: Vec<Opt>,
    year: i32,
    years: Vec<i32>,
    intro: String,
    programmes: Vec<String>,
    communes: Vec<CommuneView>,
    rollup: Vec<RollupView>,
    rollup_levels: Vec<LevelCell>,
    communes_total: usize,
}

fn percent_hundredths(t: Tr, h: Option<u64>) -> String {
    match h {
        Some(h) => {
            let sep = if t.0 == Locale::Vi { ',' } else { '.' };
            format!("{}{sep}{:02} %", h / 100, h % 100)
        }
        None => "—".into(),
    }
}

fn level_cell(t: Tr, p: Programme, level: u8) -> LevelCell {
    LevelCell {
        text: match (p, level) {
            (_, 0) => t.s("stats_reports.pcgd.not_reached").to_string(),
            (Programme::Mn5, _) => t.s("stats_reports.pcgd.reached").to_string(),
            (_, n) => t.f("stats_reports.pcgd.level_n", "n", &n.to_string()),
        },
        reached: level > 0,
    }
}

fn pcgd_view(t: Tr, body: &PcgdBody) -> (Vec<CommuneView>, Vec<RollupView>, Vec<LevelCell>) {
    // The same thresholds the evaluation used (the shipped file).
    let thresholds = truongso_core::stats::pcgd::Thresholds::default();
    let communes = body
        .communes
        .iter()
        .map(|c| {
            let r = &c.result;
            CommuneView {
                code: c.code.clone(),
                name: c.name.clone(),
                difficult: r.difficult,
                surveyed: c.surveyed,
                levels: Programme::ALL
                    .iter()
                    .map(|p| level_cell(t, *p, r.level(*p)))
                    .collect(),
                standards: r
                    .standards
                    .iter()
                    .map(|s| StandardView {
                        label: t.s(&s.label).to_string(),
                        pass: s.pass,
                        missing: s
                            .missing
                            .iter()
                            .map(|m| t.s(&m.label_key()).to_string())
                            .collect::<Vec<_>>()
                            .join("; "),
                        criteria: s
                            .criteria
                            .iter()
                            .map(|c| CriterionView {
                                label: t.s(&c.label).to_string(),
                                ages: if c.ages.from == c.ages.to {
                                    c.ages.from.to_string()
                                } else {
                                    format!("{}–{}", c.ages.from, c.ages.to)
                                },
                                numerator: count_text(t.0, c.numerator),
                                denominator: count_text(t.0, c.denominator),
                                excluded: count_text(t.0, c.excluded),
                                rate: percent_hundredths(t, c.rate),
                                threshold: format!("≥ {} %", c.threshold),
                                uncertain: thresholds.is_uncertain(s.standard, c.criterion, r.difficult)
                                    && c.criterion != Criterion::RestInPrimaryAge11,
                                pass: c.pass,
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    let rollup = body
        .rollup
        .levels
        .iter()
        .map(|l| RollupView {
            label: t.s(&l.label).to_string(),
            reached: format!("{}/{}", l.reached, body.rollup.communes),
            share: percent_hundredths(t, l.share),
            required: format!("≥ {} %", l.required),
            pass: l.pass,
        })
        .collect();
    let levels = Programme::ALL
        .iter()
        .map(|p| level_cell(t, *p, body.rollup.level(*p)))
        .collect();
    (communes, rollup, levels)
}

pub async fn pcgd_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<api::PcgdQuery>,
) -> AppResult<Response> {
    let locale = ctx.locale;
    let asked = api::parse_unit(ctx.locale, &q.unit)?;
    let (unit, choices) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    let body = api::pcgd_levels(&st, &unit, locale, &q.year).await?;
    let l = Layout::titled(&ctx, "stats_reports.pcgd.title");
    let t = l.t;
    let (communes, rollup, rollup_levels) = pcgd_view(t, &body);
    let intro = i18n::tf(
        locale,
        "stats_reports.pcgd.intro",
        &[
            ("regime", body.regime.clone()),
            ("year", body.year.to_string()),
            ("school_year", body.school_year.clone()),
        ],
    );
    Ok(render(
        StatusCode::OK,
        &PcgdPage {
            units: unit_options(Some(&unit), &choices),
            year: body.year,
            years: body.years.clone(),
            intro,
            programmes: Programme::ALL
                .iter()
                .map(|p| t.s(&p.label_key()).to_string())
                .collect(),
            communes_total: communes.len(),
            communes,
            rollup,
            rollup_levels,
            unit,
            l,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Dashboard

struct Figure {
    label: String,
    value: String,
    detail: String,
}

struct BehindView {
    name: String,
    href: String,
    status: String,
    late: bool,
}

struct PeriodView {
    title: String,
    href: String,
    deadline: String,
    closed: bool,
    counts: Vec<Figure>,
    behind: Vec<BehindView>,
}

struct QualityView {
    name: String,
    href: String,
    permille: u32,
    percent: String,
    errors: String,
    warnings: String,
}

#[derive(Template)]
#[template(path = "stats_dashboard.html")]
struct DashboardPage {
    l: Layout,
    unit: OrgUnit,
    units: Vec<Opt>,
    heading: String,
    counts: Vec<Figure>,
    levels: Vec<Figure>,
    ratios: Vec<Figure>,
    trends: Vec<Chart>,
    period: Option<PeriodView>,
    quality: Vec<QualityView>,
    computed: String,
}

fn ratio_text(t: Tr, r: &api::RatioValue) -> String {
    let kind = if r.kind == "percent" {
        RateKind::Percent
    } else {
        RateKind::Ratio
    };
    let rate = Rate::new(r.numerator, r.denominator);
    match t.0 {
        Locale::Vi => rate.format_vi(kind),
        Locale::En => rate.format_en(kind),
    }
    .unwrap_or_else(|| "—".into())
}

fn permille_text(t: Tr, p: u32) -> String {
    let sep = if t.0 == Locale::Vi { ',' } else { '.' };
    match p % 10 {
        0 => format!("{} %", p / 10),
        d => format!("{}{sep}{d} %", p / 10),
    }
}

fn dashboard_view(t: Tr, d: &DashboardBody) -> DashboardPage0 {
    let current = d.current();
    let n = |v: u64| count_text(t.0, v);
    let counts = current
        .map(|c| {
            vec![
                Figure {
                    label: t.s("stats_reports.dashboard.schools").into(),
                    value: n(c.schools),
                    detail: String::new(),
                },
                Figure {
                    label: t.s("stats_reports.dashboard.learners").into(),
                    value: n(c.learners),
                    detail: String::new(),
                },
                Figure {
                    label: t.s("stats_reports.dashboard.classes").into(),
                    value: n(c.classes),
                    detail: String::new(),
                },
                Figure {
                    label: t.s("stats_reports.dashboard.teachers").into(),
                    value: n(c.teachers),
                    detail: String::new(),
                },
            ]
        })
        .unwrap_or_default();
    let levels = current
        .map(|c| {
            c.schools_by_level
                .iter()
                .map(|l| Figure {
                    label: t.s(&format!("level.{}", l.level)).into(),
                    value: n(l.schools),
                    detail: String::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    let ratios = current
        .map(|c| {
            c.ratios
                .iter()
                .map(|r| Figure {
                    label: t.s(&format!("stats.indicator.{}.name", r.code)).into(),
                    value: ratio_text(t, r),
                    detail: format!("{} / {}", n(r.numerator), n(r.denominator)),
                })
                .collect()
        })
        .unwrap_or_default();
    let year_label = |y: &api::YearFigures| format!("{}-{}", y.start_year, y.start_year + 1);
    let mut trends = vec![];
    let series: [(&str, Count); 3] = [
        ("stats_reports.dashboard.learners", |y| y.learners),
        ("stats_reports.dashboard.classes", |y| y.classes),
        ("stats_reports.dashboard.teachers", |y| y.teachers),
    ];
    for (i, (key, f)) in series.iter().enumerate() {
        let items = d
            .years
            .iter()
            .map(|y| (vec![year_label(y)], Some(f(y)), n(f(y))))
            .collect();
        trends.push(bar_chart(t, &format!("trend-{i}"), t.s(key).into(), items, SMALL));
    }
    for (i, id) in api::DASHBOARD_RATIOS.iter().enumerate() {
        let items = d
            .years
            .iter()
            .map(|y| {
                let r = y.ratios.iter().find(|r| r.code == id.as_str());
                (
                    vec![year_label(y)],
                    r.and_then(|r| r.value_hundredths),
                    r.map(|r| ratio_text(t, r)).unwrap_or_default(),
                )
            })
            .collect();
        trends.push(bar_chart(
            t,
            &format!("trend-r{i}"),
            t.s(&id.name_key()).into(),
            items,
            SMALL,
        ));
    }
    let period = d.period.as_ref().map(|p| PeriodView {
        title: p.title.clone(),
        href: format!("/stats/periods/{}", p.period_id),
        deadline: view::date(&p.deadline),
        closed: p.closed,
        counts: [
            ("stats_reports.dashboard.on_time", p.on_time),
            ("stats_reports.dashboard.late", p.late),
            ("stats_reports.dashboard.not_submitted", p.not_submitted),
            ("stats_reports.dashboard.returned", p.returned),
        ]
        .iter()
        .map(|(k, v)| Figure {
            label: t.s(k).into(),
            value: n(u64::from(*v)),
            detail: String::new(),
        })
        .collect(),
        behind: p
            .behind
            .iter()
            .map(|s| BehindView {
                name: s.name.clone(),
                href: format!("/stats/periods/{}/schools/{}", p.period_id, s.school_id),
                status: t.s(&format!("stats.status.{}", s.status)).into(),
                late: s.late,
            })
            .collect(),
    });
    let quality = d
        .quality
        .iter()
        .map(|q| QualityView {
            name: q.name.clone(),
            href: format!("/quality?school={}", q.school_id),
            permille: q.completeness_permille,
            percent: permille_text(t, q.completeness_permille),
            errors: n(q.errors),
            warnings: n(q.warnings),
        })
        .collect();
    DashboardPage0 {
        heading: current
            .map(|c| {
                i18n::tf(
                    t.0,
                    "stats_reports.dashboard.as_at",
                    &[("year", year_label(c)), ("date", view::date(&c.reference_date))],
                )
            })
            .unwrap_or_default(),
        counts,
        levels,
        ratios,
        trends,
        period,
        quality,
        computed: i18n::tf(
            t.0,
            "stats_reports.dashboard.computed",
            &[
                ("time", view::datetime(&d.computed_at)),
                ("minutes", (api::DASHBOARD_TTL.as_secs() / 60).to_string()),
            ],
        ),
    }
}

/// One count of a school year's figures.
type Count = fn(&api::YearFigures) -> u64;

/// The dashboard's figures before the layout is attached.
struct DashboardPage0 {
    heading: String,
    counts: Vec<Figure>,
    levels: Vec<Figure>,
    ratios: Vec<Figure>,
    trends: Vec<Chart>,
    period: Option<PeriodView>,
    quality: Vec<QualityView>,
    computed: String,
}

pub async fn dashboard_page(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    let asked = api::parse_unit(ctx.locale, &q.unit)?;
    let (unit, choices) = scope::chosen_unit(&st, &p, asked, Action::ViewStats).await?;
    let d = api::dashboard(&st, &unit).await?;
    let l = Layout::titled(&ctx, "stats_reports.dashboard.title");
    let v = dashboard_view(l.t, &d);
    Ok(render(
        StatusCode::OK,
        &DashboardPage {
            units: unit_options(Some(&unit), &choices),
            heading: v.heading,
            counts: v.counts,
            levels: v.levels,
            ratios: v.ratios,
            trends: v.trends,
            period: v.period,
            quality: v.quality,
            computed: v.computed,
            unit,
            l,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_describe_themselves() {
        let c = bar_chart(
            Tr(Locale::Vi),
            "c",
            "Học sinh".into(),
            vec![
                (vec!["Nam".into()], Some(30), "30".into()),
                (vec!["Nữ".into()], Some(60), "60".into()),
                (vec!["Chưa ghi nhận".into()], None, String::new()),
            ],
            WIDE,
        );
        let space = WIDE.width - WIDE.labels - 8 - VALUE_SPACE;
        assert_eq!(c.bars[1].w, space);
        assert_eq!(c.bars[0].w, space / 2);
        assert_eq!((c.bars[2].w, c.bars[2].text.as_str()), (0, "—"));
        assert!(c.desc.contains("Nữ") && c.desc.contains("Nam"), "{}", c.desc);
        assert_eq!(c.height, 16 + 3 * ROW);
        assert!(c.note.is_none());
    }

    #[test]
    fn long_labels_keep_their_last_part() {
        let parts = vec![
            "Phòng Văn hóa – Xã hội phường Hà Giang 1".to_string(),
            "Nữ".to_string(),
        ];
        let s = short_label(&parts, 24);
        assert!(s.chars().count() <= 24);
        assert_eq!(s, "…phường Hà Giang 1 · Nữ");
        assert_eq!(short_label(&["Lớp 1".to_string()], 24), "Lớp 1");
    }

    #[test]
    fn export_names_are_ascii() {
        assert_eq!(
            file_stem(&["bao-cao", "dropout_rate", "08", "2026-11-20"]),
            "bao-cao-dropout-rate-08-2026-11-20"
        );
        assert_eq!(file_stem(&["Sở Hà Giang", ""]), "so-ha-giang");
    }
}
