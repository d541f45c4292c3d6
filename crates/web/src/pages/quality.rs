//! Data-quality dashboard of a school and its roll-up for offices (page and API).
//!
//! `/quality` shows, for a school's staff, their school's report; for an office, the roll-up of
//! the unit of their grant (`?unit=` picks another unit they may check) with its child units
//! and schools worst first; `?school=` shows one school's report, its issues grouped by rule,
//! each linking to the record to fix.

use crate::AppState;
use crate::api::quality as q;
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::routes::{Access, Builder};
use crate::view::{Layout, Tr, page};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use truongso_core::auth::Action;
use truongso_core::i18n;
use truongso_core::org::OrgKind;
use truongso_core::quality::{Finding, Severity};
use truongso_store::org::OrgUnit;
use truongso_store::quality::{IssueRow, QualityCounts, SchoolReport};
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Action::ViewQuality;
    b.add("GET", "/quality", Access::Act(ViewQuality), get(index))
        .add(
            "GET",
            "/api/v1/quality/schools/{id}",
            Access::Act(ViewQuality),
            get(q::school),
        )
        .add(
            "GET",
            "/api/v1/quality/units/{id}",
            Access::Act(ViewQuality),
            get(q::unit_rollup),
        )
}

/// Rules in the order the school report lists them: errors first.
const RULES: [&str; 10] = [
    "missing_field",
    "cccd_invalid",
    "cccd_inconsistent",
    "duplicate_cccd",
    "likely_duplicate",
    "over_age",
    "under_age",
    "class_over_size",
    "teacher_without_assignment",
    "not_updated_this_year",
];

/// Issues shown per rule; the rest are counted.
const SHOWN_PER_RULE: usize = 200;

#[derive(Deserialize)]
pub struct QualityQuery {
    unit: Option<Uuid>,
    school: Option<Uuid>,
}

/// One row of a roll-up table (a child unit or a school).
struct Row {
    name: String,
    href: String,
    kind: String,
    permille: u32,
    percent: String,
    learners: u64,
    records: u64,
    errors: u64,
    warnings: u64,
}

fn percent(permille: u32) -> String {
    let whole = permille / 10;
    match permille % 10 {
        0 => format!("{whole}%"),
        d => format!("{whole},{d}%"),
    }
}

fn row(name: String, href: String, kind: String, c: &QualityCounts) -> Row {
    Row {
        name,
        href,
        kind,
        permille: c.completeness_permille,
        percent: percent(c.completeness_permille),
        learners: c.learners,
        records: c.records,
        errors: c.errors,
        warnings: c.warnings,
    }
}

#[derive(Template)]
#[template(path = "quality.html")]
struct RollupPage {
    l: Layout,
    unit: OrgUnit,
    /// The units of the user's grants, for the picker.
    choices: Vec<OrgUnit>,
    totals: Row,
    units: Vec<Row>,
    schools: Vec<Row>,
}

pub(crate) struct IssueView {
    name: String,
    href: String,
    pub(crate) detail: String,
    /// The other records of a duplicate: (link, label).
    others: Vec<(String, String)>,
}

struct RuleGroup {
    code: &'static str,
    label: &'static str,
    severity: &'static str,
    count: usize,
    items: Vec<IssueView>,
    more: String,
}

#[derive(Template)]
#[template(path = "quality_school.html")]
struct SchoolPage {
    l: Layout,
    report: SchoolReport,
    percent: String,
    /// The roll-up the user came from, when they have one.
    back: Option<String>,
    groups: Vec<RuleGroup>,
}

pub async fn index(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(query): Query<QualityQuery>,
) -> AppResult<Response> {
    let choices = crate::scope::units_for(&st, &p, Action::ViewQuality).await?;
    if let Some(id) = query.school {
        return school_page(&st, Layout::titled(&ctx, "quality.title"), &p, &choices, id).await;
    }
    let unit = match query.unit {
        Some(id) => q::unit(&st, &p, id).await?,
        None => choices.first().cloned().ok_or_else(AppError::forbidden)?,
    };
    if unit.kind == OrgKind::School {
        return school_page(&st, Layout::titled(&ctx, "quality.title"), &p, &choices, unit.id).await;
    }
    let l = Layout::titled(&ctx, "quality.title");
    let rollup = q::rollup_of(&st, &unit).await?;
    let units = rollup
        .units
        .iter()
        .map(|u| {
            let href = if u.kind == OrgKind::School.as_str() {
                format!("/quality?school={}", u.unit_id)
            } else {
                format!("/quality?unit={}", u.unit_id)
            };
            let kind = l.t.s(&format!("org.kind.{}", u.kind)).to_string();
            row(u.unit_name.clone(), href, kind, &u.counts)
        })
        .collect();
    let schools = rollup
        .schools
        .iter()
        .map(|s| {
            let href = format!("/quality?school={}", s.school_id);
            row(
                s.school_name.clone(),
                href,
                s.school_year.clone().unwrap_or_default(),
                &s.counts,
            )
        })
        .collect();
    let totals = row(
        rollup.root_name.clone(),
        String::new(),
        String::new(),
        &rollup.totals,
    );
    Ok(page(&RollupPage {
        l,
        unit,
        choices,
        totals,
        units,
        schools,
    }))
}

async fn school_page(
    st: &AppState,
    l: Layout,
    p: &Principal,
    choices: &[OrgUnit],
    school_id: Uuid,
) -> AppResult<Response> {
    let report = q::school_report(st, p, school_id).await?;
    let back = choices
        .iter()
        .find(|u| u.kind != OrgKind::School)
        .map(|_| "/quality".to_string());
    let groups = group(l.t, &report.issues);
    Ok(page(&SchoolPage {
        l: Layout {
            title: report.school_name.clone(),
            ..l
        },
        percent: percent(report.completeness_permille),
        back,
        groups,
        report,
    }))
}

fn group(t: Tr, issues: &[IssueRow]) -> Vec<RuleGroup> {
    let mut out = vec![];
    for code in RULES {
        let of_rule: Vec<&IssueRow> = issues.iter().filter(|i| i.rule == code).collect();
        let Some(first) = of_rule.first() else {
            continue;
        };
        let count = of_rule.len();
        let more = if count > SHOWN_PER_RULE {
            t.f("quality.more", "n", &(count - SHOWN_PER_RULE).to_string())
        } else {
            String::new()
        };
        out.push(RuleGroup {
            code,
            label: t.s(&format!("quality.rule.{code}")),
            severity: match first.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            count,
            items: of_rule
                .into_iter()
                .take(SHOWN_PER_RULE)
                .map(|i| issue_view(t, i))
                .collect(),
            more,
        });
    }
    out
}

pub(crate) fn issue_view(t: Tr, i: &IssueRow) -> IssueView {
    let mut others = vec![];
    let detail = match &i.finding {
        Finding::MissingField { field } => t.s(&format!("quality.field.{field}")).to_string(),
        Finding::CccdInvalid { code } | Finding::CccdInconsistent { code } => {
            t.s(&format!("error.{code}")).to_string()
        }
        Finding::DuplicateCccd { others: ids } | Finding::LikelyDuplicate { others: ids } => {
            others = ids
                .iter()
                .enumerate()
                .map(|(n, id)| {
                    (
                        format!("/learners/{id}"),
                        t.f("quality.other_record", "n", &(n + 1).to_string()),
                    )
                })
                .collect();
            t.s("quality.same_as").to_string()
        }
        Finding::OverAge { age, grade } | Finding::UnderAge { age, grade } => i18n::tf(
            t.0,
            "quality.detail_age",
            &[("age", age.to_string()), ("grade", grade.to_string())],
        ),
        Finding::ClassOverSize { enrolled, max } => i18n::tf(
            t.0,
            "quality.detail_class_size",
            &[("enrolled", enrolled.to_string()), ("max", max.to_string())],
        ),
        Finding::TeacherWithoutAssignment | Finding::NotUpdatedThisYear => String::new(),
    };
    IssueView {
        name: i.name.clone(),
        href: i.href.clone(),
        detail,
        others,
    }
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percent_with_a_decimal_comma() {
        assert_eq!(percent(1000), "100%");
        assert_eq!(percent(875), "87,5%");
        assert_eq!(percent(0), "0%");
    }
}
