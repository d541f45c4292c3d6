//! Gradebook pages: the list of sheets a user may open, the entry grid of a class × subject ×
//! term (spreadsheet-like, saved by `static/gradebook.js` through the API), correction requests
//! and their trail, the homeroom teacher's term summary, the class results sheet, and the
//! leaders' page of deadlines, locks and pending corrections.

use crate::AppState;
use crate::api::gradebook::{self as api, class_for, correction_for, store_class_for_compute, subject_for};
use crate::ctx::{Authed, Principal};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::{PageForm, blank};
use crate::routes::{Access, Builder};
use crate::view::{Layout, datetime, page};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::BTreeMap;
use truongso_core::auth::{Action, Resource, Scope};
use truongso_core::gradebook::curriculum::Mode;
use truongso_core::gradebook::sheet::Kind;
use truongso_core::gradebook::{Level, TraitLevel, tt27};
use truongso_core::i18n;
use truongso_core::org::OrgPath;
use truongso_docs::gradebook as xlsx;
use truongso_store::gradebook::{self as store, ClassInfo, SummaryWrite};
use truongso_store::org;
use uuid::Uuid;

pub(crate) fn routes(b: Builder) -> Builder {
    use Access::Act;
    use Action::*;
    b.add("GET", "/gradebook", Access::SignedIn, get(index))
        .add("GET", "/gradebook/manage", Act(ManageGradebook), get(manage))
        .add(
            "POST",
            "/gradebook/manage/deadline",
            Act(ManageGradebook),
            post(set_deadline),
        )
        .add(
            "POST",
            "/gradebook/corrections/{id}",
            Act(ManageGradebook),
            post(decide),
        )
        .add(
            "GET",
            "/gradebook/{class_id}/results",
            Act(ViewResults),
            get(results),
        )
        .add(
            "GET",
            "/gradebook/{class_id}/results.xlsx",
            Act(ViewResults),
            get(results_xlsx),
        )
        .add(
            "POST",
            "/gradebook/{class_id}/results",
            Act(SummariseClass),
            post(compute),
        )
        .add(
            "GET",
            "/gradebook/{class_id}/summary",
            Act(ViewResults),
            get(summary),
        )
        .add(
            "POST",
            "/gradebook/{class_id}/summary",
            Act(SummariseClass),
            post(save_summary),
        )
        .add(
            "GET",
            "/gradebook/{class_id}/{subject}",
            Act(ViewMarks),
            get(sheet),
        )
        .add(
            "GET",
            "/gradebook/{class_id}/{subject}/xlsx",
            Act(ViewMarks),
            get(sheet_xlsx),
        )
        .add(
            "POST",
            "/gradebook/{class_id}/{subject}/corrections",
            Act(EnterMarks),
            post(request_correction),
        )
        .add("GET", "/learners/{id}/results", Act(ViewResults), get(card))
        .add(
            "GET",
            "/api/v1/gradebook/marks",
            Act(ViewMarks),
            get(api::get_marks),
        )
        .add(
            "PUT",
            "/api/v1/gradebook/marks",
            Act(EnterMarks),
            axum::routing::put(api::put_marks),
        )
        .add(
            "POST",
            "/api/v1/gradebook/corrections",
            Act(EnterMarks),
            post(api::request_correction),
        )
        .add(
            "POST",
            "/api/v1/gradebook/corrections/{id}/decision",
            Act(ManageGradebook),
            post(api::decide_correction),
        )
        .add(
            "PUT",
            "/api/v1/classes/{id}/summaries",
            Act(SummariseClass),
            axum::routing::put(api::put_summaries),
        )
        .add(
            "GET",
            "/api/v1/classes/{id}/results",
            Act(ViewResults),
            get(api::class_results),
        )
        .add(
            "POST",
            "/api/v1/classes/{id}/results",
            Act(SummariseClass),
            post(api::compute_class),
        )
        .add(
            "GET",
            "/api/v1/learners/{id}/results",
            Act(ViewResults),
            get(api::learner_results),
        )
        .add(
            "POST",
            "/api/v1/gradebook/compute",
            Access::SignedIn,
            post(api::compute_document),
        )
}

fn level_label(locale: i18n::Locale, l: Option<Level>) -> String {
    l.map(|l| i18n::t(locale, &format!("gradebook.level.{}", l.as_str())).to_string())
        .unwrap_or_default()
}

// ------------------------------------------------------------------ index

struct SheetLink {
    href: String,
    class_name: String,
    subject: String,
}

struct ClassLink {
    id: Uuid,
    name: String,
    homeroom: bool,
}

#[derive(Template)]
#[template(path = "gradebook_index.html")]
struct IndexPage {
    l: Layout,
    sheets: Vec<SheetLink>,
    classes: Vec<ClassLink>,
    manage_schools: Vec<(Uuid, String)>,
}

pub async fn index(State(st): State<AppState>, Authed { ctx, p }: Authed) -> AppResult<Response> {
    let db = &st.store.db;
    let mut sheets = vec![];
    let mut classes = vec![];
    for g in &p.actor.grants {
        match &g.scope {
            Scope::ClassSubject {
                class_id, subject, ..
            } => {
                if let Ok(c) = store::class_info(db, *class_id).await {
                    sheets.push(SheetLink {
                        href: format!("/gradebook/{class_id}/{subject}?term=1"),
                        class_name: c.name,
                        subject: truongso_core::classes::subject_name(subject)
                            .unwrap_or(subject)
                            .to_string(),
                    });
                }
            }
            Scope::Class { class_id, .. } => {
                if let Ok(c) = store::class_info(db, *class_id).await {
                    classes.push(ClassLink {
                        id: c.id,
                        name: c.name,
                        homeroom: true,
                    });
                }
            }
            _ => {}
        }
    }
    let mut manage_schools = vec![];
    for s in crate::scope::schools_for(&st, &p, Action::ViewClass)
        .await
        .unwrap_or_default()
    {
        if p.can(Action::ManageGradebook, Resource::OrgUnit(&s.path)) {
            manage_schools.push((s.id, s.name.clone()));
        }
        let readable = p.actor.grants.iter().any(|g| {
            matches!(g.scope, Scope::School { .. } | Scope::Subtree { .. })
                && p.can(
                    Action::ViewResults,
                    Resource::Class {
                        school: &s.path,
                        class_id: Uuid::nil(),
                    },
                )
        });
        if readable {
            for c in crate::api::classes::visible(&st, &p, Some(s.id), None)
                .await
                .unwrap_or_default()
            {
                if !classes.iter().any(|x| x.id == c.id) {
                    classes.push(ClassLink {
                        id: c.id,
                        name: c.name,
                        homeroom: false,
                    });
                }
            }
        }
    }
    sheets.sort_by(|a, b| (&a.class_name, &a.subject).cmp(&(&b.class_name, &b.subject)));
    Ok(page(&IndexPage {
        l: Layout::titled(&ctx, "gradebook.title"),
        sheets,
        classes,
        manage_schools,
    }))
}

// ------------------------------------------------------------------ the grid

struct GridCell {
    slot: String,
    kind: &'static str,
    value: String,
    version: i32,
    locked: bool,
    label: String,
}

struct GridRow {
    n: usize,
    learner_id: Uuid,
    name: String,
    current: bool,
    cells: Vec<GridCell>,
    average: String,
}

struct ColumnHead {
    slot: String,
    label: String,
    locked: bool,
}

struct CorrectionView {
    learner_name: String,
    place: String,
    old_value: String,
    new_value: String,
    reason: String,
    status: String,
    requested: String,
    decided: String,
}

#[derive(Template)]
#[template(path = "gradebook_sheet.html")]
struct SheetPage {
    l: Layout,
    class_id: Uuid,
    class_name: String,
    school_year: String,
    subject: String,
    subject_name: String,
    rules: &'static str,
    term: u8,
    kind: &'static str,
    editable: bool,
    any_locked: bool,
    columns: Vec<ColumnHead>,
    rows: Vec<GridRow>,
    corrections: Vec<CorrectionView>,
}

#[derive(Deserialize)]
pub struct TermParam {
    term: Option<u8>,
}

fn correction_view(t: crate::view::Tr, c: store::Correction) -> CorrectionView {
    CorrectionView {
        learner_name: c.learner_name,
        place: truongso_core::gradebook::sheet::place_label(c.term as u8, &c.slot),
        old_value: c.old_value.unwrap_or_else(|| "—".into()),
        new_value: c.new_value.unwrap_or_else(|| "—".into()),
        reason: c.reason,
        status: t.s(&format!("gradebook.correction.{}", c.status)).to_string(),
        requested: format!("{} · {}", c.requested_by, datetime(&c.requested_at)),
        decided: match (c.decided_by, c.decided_at) {
            (Some(by), Some(at)) => format!(
                "{by} · {}{}",
                datetime(&at),
                c.decision_note.map(|n| format!(" — {n}")).unwrap_or_default()
            ),
            _ => String::new(),
        },
    }
}

/// The sheet of a class × subject × term (HK I unless asked) if the caller may view its marks,
/// with the school's path.
async fn viewable_sheet(
    st: &AppState,
    p: &Principal,
    class_id: Uuid,
    subject: &str,
    term: Option<u8>,
) -> AppResult<(store::Sheet, OrgPath)> {
    let (_, school) = subject_for(st, p, class_id, subject, Action::ViewMarks).await?;
    let s = store::sheet(&st.store.db, class_id, subject, term.unwrap_or(1), crate::today()).await?;
    Ok((s, school))
}

pub async fn sheet(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path((class_id, subject)): Path<(Uuid, String)>,
    Query(q): Query<TermParam>,
) -> AppResult<Response> {
    let (s, school) = viewable_sheet(&st, &p, class_id, &subject, q.term).await?;
    let class = &s.class;
    let editable = p.can(
        Action::EnterMarks,
        Resource::ClassSubject {
            school: &school,
            class_id,
            subject: &subject,
        },
    );
    let t = crate::view::Tr(ctx.locale);
    let rows = s
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| GridRow {
            n: i + 1,
            learner_id: r.learner.learner_id,
            name: r.learner.full_name.clone(),
            current: r.learner.current,
            cells: s
                .columns
                .iter()
                .map(|c| {
                    let stored = r.cells.get(&c.slot);
                    GridCell {
                        slot: c.slot.clone(),
                        kind: c.kind.as_str(),
                        value: stored
                            .and_then(|x| x.text.clone().or_else(|| x.value.map(|v| c.kind.show(v))))
                            .unwrap_or_default(),
                        version: stored.map_or(0, |x| x.version),
                        locked: !editable || !r.learner.current || s.locks.is_locked(&c.slot),
                        label: format!("{} — {}", r.learner.full_name, c.label),
                    }
                })
                .collect(),
            average: r.result.clone().unwrap_or_default(),
        })
        .collect();
    let corrections = store::corrections(&st.store.db, class.school_id, Some((class_id, &subject)), false)
        .await?
        .into_iter()
        .map(|c| correction_view(t, c))
        .collect();
    let kind = s.columns.first().map_or("score", |c| c.kind.as_str());
    Ok(page(&SheetPage {
        l: Layout::new(
            &ctx,
            format!("{} — {} — {}", t.s("gradebook.title"), class.name, s.subject.name),
        ),
        class_id,
        class_name: class.name.clone(),
        school_year: class.school_year.clone(),
        subject: s.subject.code.to_string(),
        subject_name: s.subject.name.to_string(),
        rules: class.rules.title(),
        term: s.term,
        kind,
        editable,
        any_locked: s.columns.iter().any(|c| s.locks.is_locked(&c.slot)),
        columns: s
            .columns
            .iter()
            .map(|c| ColumnHead {
                slot: c.slot.clone(),
                label: c.label.clone(),
                locked: s.locks.is_locked(&c.slot),
            })
            .collect(),
        rows,
        corrections,
    }))
}

/// The title block of an export: the class, its year and rules, and the school's name.
async fn export_heading(st: &AppState, class: &ClassInfo) -> AppResult<xlsx::Heading> {
    Ok(xlsx::Heading {
        school: org::get(&st.store.db, class.school_id).await?.name,
        class_name: class.name.clone(),
        school_year: class.school_year.clone(),
        rules: class.rules.title().into(),
    })
}

/// A stored cell as the export writes it: marks as numbers, tests as whole numbers, Đ/CĐ and
/// levels as text.
fn export_value(kind: Kind, v: i32) -> xlsx::Value {
    match kind {
        Kind::Score => xlsx::Value::Score(v.clamp(0, 100) as u16),
        Kind::Test => xlsx::Value::Whole(v.into()),
        Kind::Comment | Kind::Level | Kind::Note => xlsx::Value::Text(kind.show(v)),
    }
}

/// The sheet page as an XLSX file in the class gradebook's layout.
pub async fn sheet_xlsx(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((class_id, subject)): Path<(Uuid, String)>,
    Query(q): Query<TermParam>,
) -> AppResult<Response> {
    let (s, _) = viewable_sheet(&st, &p, class_id, &subject, q.term).await?;
    let columns: Vec<_> = s
        .columns
        .iter()
        .filter_map(|c| xlsx::SubjectColumn::from_slot(&c.slot).map(|x| (c, x)))
        .collect();
    let doc = xlsx::SubjectSheet {
        heading: export_heading(&st, &s.class).await?,
        subject: s.subject.name.into(),
        term: s.term,
        mode: match s.subject.mode {
            Mode::Score => xlsx::SubjectMode::Score,
            Mode::Comment => xlsx::SubjectMode::Comment,
            Mode::Level => xlsx::SubjectMode::Level,
        },
        columns: columns.iter().map(|(_, x)| *x).collect(),
        rows: s
            .rows
            .iter()
            .map(|r| xlsx::SubjectRow {
                name: r.learner.full_name.clone(),
                left: !r.learner.current,
                values: columns
                    .iter()
                    .map(|(c, _)| {
                        r.cells
                            .get(&c.slot)
                            .and_then(|x| x.value)
                            .map_or(xlsx::Value::Empty, |v| export_value(c.kind, v))
                    })
                    .collect(),
                result: xlsx::Value::shown(r.result.as_deref().unwrap_or_default()),
            })
            .collect(),
    };
    let bytes = xlsx::subject_sheet(&doc).map_err(AppError::internal)?;
    Ok(crate::pages::imports::xlsx(&doc.file_name(), bytes))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CorrectionForm {
    term: String,
    learner_id: String,
    slot: String,
    value: String,
    reason: String,
}

pub async fn request_correction(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path((class_id, subject)): Path<(Uuid, String)>,
    PageForm(f): PageForm<CorrectionForm>,
) -> AppResult<Response> {
    subject_for(&st, &p, class_id, &subject, Action::EnterMarks).await?;
    let term: u8 = f.term.trim().parse().unwrap_or(1);
    let back = format!("/gradebook/{class_id}/{subject}?term={term}");
    let learner_id = crate::pages::parse_uuid(&Some(f.learner_id.clone()), "learner_id")?
        .ok_or_else(|| crate::error::AppError::invalid("learner_id", truongso_core::DomainError::Required))?;
    let done = store::request_correction(
        &st.store.db,
        &p.actor_ref(),
        class_id,
        &subject,
        term,
        learner_id,
        f.slot.trim(),
        blank(&Some(f.value.clone())).as_deref(),
        &f.reason,
    )
    .await;
    Ok(flashed(&back, done, "gradebook.correction_sent"))
}

// ------------------------------------------------------------------ summary (tổng kết)

struct SummaryRow {
    n: usize,
    learner_id: Uuid,
    name: String,
    conduct: String,
    excused: String,
    unexcused: String,
    remark: String,
    traits: Vec<(String, String)>,
    recognised: bool,
    learning: String,
}

#[derive(Template)]
#[template(path = "gradebook_summary.html")]
struct SummaryPage {
    l: Layout,
    class_id: Uuid,
    class_name: String,
    term: u8,
    primary: bool,
    editable: bool,
    levels: Vec<(String, String)>,
    trait_levels: Vec<(String, String)>,
    trait_heads: Vec<(String, String)>,
    rows: Vec<SummaryRow>,
}

pub async fn summary(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(class_id): Path<Uuid>,
    Query(q): Query<TermParam>,
) -> AppResult<Response> {
    let (class, school) = class_for(&st, &p, class_id, Action::ViewResults).await?;
    let term = q.term.unwrap_or(1).clamp(1, 2);
    let editable = p.can(
        Action::SummariseClass,
        Resource::Class {
            school: &school,
            class_id,
        },
    );
    let db = &st.store.db;
    let roster = store::year_members(db, &class).await?;
    let ids: Vec<Uuid> = roster.iter().map(|r| r.learner_id).collect();
    let sums = store::summaries(db, class.school_year_id, &ids).await?;
    let results = store::compute_learners(db, &class, &roster).await?;
    let primary = class.rules == truongso_core::gradebook::RuleSet::Tt27_2020;
    let t = crate::view::Tr(ctx.locale);
    let trait_heads: Vec<(String, String)> = tt27::QUALITIES
        .iter()
        .chain(tt27::COMPETENCIES.iter())
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    let rows = roster
        .iter()
        .zip(&results)
        .enumerate()
        .map(|(i, (r, res))| {
            let s = sums.get(&(r.learner_id, term)).cloned().unwrap_or_default();
            let learning = res
                .secondary
                .as_ref()
                .and_then(|v| {
                    if term == 1 {
                        v.learning.hk1.as_ref()
                    } else {
                        v.learning.hk2.as_ref()
                    }
                })
                .map(|l| level_label(ctx.locale, Some(l.level)))
                .unwrap_or_default();
            SummaryRow {
                n: i + 1,
                learner_id: r.learner_id,
                name: r.full_name.clone(),
                conduct: s.conduct.map(|l| l.as_str().to_string()).unwrap_or_default(),
                excused: sums
                    .get(&(r.learner_id, term))
                    .map(|s| s.absences_excused.to_string())
                    .unwrap_or_default(),
                unexcused: sums
                    .get(&(r.learner_id, term))
                    .map(|s| s.absences_unexcused.to_string())
                    .unwrap_or_default(),
                remark: s.remark.clone().unwrap_or_default(),
                traits: trait_heads
                    .iter()
                    .map(|(c, _)| {
                        (
                            c.clone(),
                            s.traits
                                .get(c)
                                .map(|l| l.as_str().to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
                recognised: s.recognised,
                learning,
            }
        })
        .collect();
    Ok(page(&SummaryPage {
        l: Layout::new(&ctx, format!("{} — {}", t.s("gradebook.summary"), class.name)),
        class_id,
        class_name: class.name,
        term,
        primary,
        editable,
        levels: Level::ALL
            .iter()
            .map(|l| (l.as_str().to_string(), level_label(ctx.locale, Some(*l))))
            .collect(),
        trait_levels: [TraitLevel::Tot, TraitLevel::Dat, TraitLevel::CanCoGang]
            .iter()
            .map(|l| {
                (
                    l.as_str().to_string(),
                    t.s(&format!("gradebook.trait.{}", l.as_str())).to_string(),
                )
            })
            .collect(),
        trait_heads,
        rows,
    }))
}

pub async fn save_summary(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(class_id): Path<Uuid>,
    Query(q): Query<TermParam>,
    PageForm(f): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    class_for(&st, &p, class_id, Action::SummariseClass).await?;
    let term = q.term.unwrap_or(1).clamp(1, 2);
    let back = format!("/gradebook/{class_id}/summary?term={term}");
    // Fields arrive as `<field>.<learner_id>` (traits as `trait.<code>.<learner_id>`).
    let mut rows: BTreeMap<Uuid, SummaryWrite> = BTreeMap::new();
    for (k, v) in f {
        let Some((field, id)) = k.rsplit_once('.') else {
            continue;
        };
        let Ok(id) = Uuid::parse_str(id) else { continue };
        let row = rows.entry(id).or_insert_with(|| SummaryWrite {
            learner_id: id,
            ..Default::default()
        });
        let num = |v: &str| -> Option<i32> {
            let v = v.trim();
            if v.is_empty() {
                None
            } else {
                Some(v.parse().unwrap_or(-1))
            }
        };
        match field {
            "conduct" => row.conduct = Some(v),
            "excused" => row.absences_excused = num(&v),
            "unexcused" => row.absences_unexcused = num(&v),
            "remark" => row.remark = Some(v),
            "recognised" => row.recognised = v == "on" || v == "1",
            f if f.starts_with("trait.") => {
                row.traits.insert(f.trim_start_matches("trait.").to_string(), v);
            }
            _ => {}
        }
    }
    let writes: Vec<SummaryWrite> = rows.into_values().collect();
    match store::save_summaries(&st.store.db, &p.actor_ref(), class_id, term, &writes).await? {
        Ok(n) => Ok(flash_redirect(
            &back,
            "success",
            "gradebook.summary_saved",
            vec![("n", n.to_string())],
        )),
        Err(errors) => Ok(flash_redirect(
            &back,
            "error",
            &format!("error.{}", errors[0].code),
            vec![],
        )),
    }
}

// ------------------------------------------------------------------ results

struct ResultRow {
    n: usize,
    name: String,
    learner_id: Uuid,
    subjects: Vec<String>,
    learning: String,
    adjusted: bool,
    conduct: String,
    absences: i32,
    decision: String,
    award: String,
}

struct StatRow {
    label: String,
    counts: Vec<usize>,
}

#[derive(Template)]
#[template(path = "gradebook_results.html")]
struct ResultsPage {
    l: Layout,
    class_id: Uuid,
    class_name: String,
    school_year: String,
    rules: &'static str,
    subject_heads: Vec<String>,
    rows: Vec<ResultRow>,
    can_compute: bool,
    level_heads: Vec<String>,
    stats: Vec<StatRow>,
}

/// Shown for a subject whose year result cannot be computed yet (a mark is missing).
const GAP: &str = "…";

/// The year results of a class as the results page and its export show them.
struct ClassResults {
    class: ClassInfo,
    primary: bool,
    subject_heads: Vec<String>,
    rows: Vec<ResultRow>,
    level_heads: Vec<String>,
    stats: Vec<StatRow>,
}

/// The results of the class's current learners, computed from what is stored, if the caller
/// may view them; labels in `locale`.
async fn class_results(
    st: &AppState,
    p: &Principal,
    class_id: Uuid,
    locale: i18n::Locale,
) -> AppResult<ClassResults> {
    let (class, _) = class_for(st, p, class_id, Action::ViewResults).await?;
    let db = &st.store.db;
    let roster = store::year_members(db, &class).await?;
    let results = store::compute_learners(db, &class, &roster).await?;
    let plans = store::class_subjects(db, &class).await?;
    let t = crate::view::Tr(locale);
    let primary = class.rules == truongso_core::gradebook::RuleSet::Tt27_2020;
    let mut stats: Vec<StatRow> = vec![];
    let rows = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let subjects: Vec<String> = match &r.secondary {
                Some(v) => v
                    .subjects
                    .iter()
                    .map(|s| match &s.year {
                        truongso_core::gradebook::compute::Shown::Value(v) => v.clone(),
                        _ => GAP.into(),
                    })
                    .collect(),
                None => match &r.primary {
                    // Primary: the end-of-year level, with the test score where there is one.
                    Some(p) => p
                        .subjects
                        .iter()
                        .map(|s| match (s.level, s.test) {
                            (Some(l), Some(t)) => format!("{l} ({t})"),
                            (Some(l), None) => l.to_string(),
                            _ => GAP.into(),
                        })
                        .collect(),
                    None => plans.iter().map(|_| String::new()).collect(),
                },
            };
            let learning = match (&r.secondary, &r.primary) {
                (Some(v), _) => level_label(locale, v.learning.year.as_ref().map(|l| l.level)),
                (_, Some(p)) => p
                    .evaluation
                    .map(|e| t.s(&format!("gradebook.evaluation.{}", e.as_str())).to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            ResultRow {
                n: i + 1,
                name: r.full_name.clone(),
                learner_id: r.learner_id,
                subjects,
                adjusted: r
                    .secondary
                    .as_ref()
                    .and_then(|v| v.learning.year.as_ref())
                    .is_some_and(|l| l.adjusted_for.is_some()),
                learning,
                conduct: level_label(locale, r.secondary.as_ref().and_then(|v| v.conduct_year)),
                absences: r.absences,
                decision: r
                    .decision()
                    .map(|d| t.s(&format!("gradebook.decision.{d}")).to_string())
                    .unwrap_or_default(),
                award: r
                    .award()
                    .map(|a| t.s(&format!("gradebook.award.{a}")).to_string())
                    .unwrap_or_default(),
            }
        })
        .collect::<Vec<_>>();
    // Subject statistics: how many learners at each level band of the year result.
    let level_heads: Vec<String> = ["≥ 8,0", "6,5–7,9", "5,0–6,4", "3,5–4,9", "< 3,5", "Đ", "CĐ"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !primary {
        for (k, plan) in plans.iter().enumerate() {
            let mut counts = vec![0usize; 7];
            for r in &results {
                let Some(v) = &r.secondary else { continue };
                if let Some(truongso_core::gradebook::compute::Shown::Value(val)) =
                    v.subjects.get(k).map(|s| &s.year)
                {
                    let band = match val.as_str() {
                        "Đ" => 5,
                        "CĐ" => 6,
                        x => {
                            let tenths = truongso_core::gradebook::Mark::parse(x)
                                .map(|m| m.tenths())
                                .unwrap_or(0);
                            match tenths {
                                80.. => 0,
                                65..=79 => 1,
                                50..=64 => 2,
                                35..=49 => 3,
                                _ => 4,
                            }
                        }
                    };
                    counts[band] += 1;
                }
            }
            stats.push(StatRow {
                label: plan.name.to_string(),
                counts,
            });
        }
    }
    Ok(ClassResults {
        primary,
        subject_heads: plans.iter().map(|p| p.name.to_string()).collect(),
        rows,
        level_heads,
        stats,
        class,
    })
}

pub async fn results(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    let r = class_results(&st, &p, class_id, ctx.locale).await?;
    let can_compute = store_class_for_compute(&st, &p, class_id).await.is_ok();
    let t = crate::view::Tr(ctx.locale);
    Ok(page(&ResultsPage {
        l: Layout::new(&ctx, format!("{} — {}", t.s("gradebook.results"), r.class.name)),
        class_id,
        class_name: r.class.name.clone(),
        school_year: r.class.school_year.clone(),
        rules: r.class.rules.title(),
        subject_heads: r.subject_heads,
        rows: r.rows,
        can_compute,
        level_heads: r.level_heads,
        stats: r.stats,
    }))
}

/// The results page as an XLSX file in the layout of the class's year summary, with the
/// subject statistics on a second sheet. Labels are Vietnamese, as on the school's records.
pub async fn results_xlsx(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    let r = class_results(&st, &p, class_id, i18n::Locale::Vi).await?;
    let doc = xlsx::ResultsSheet {
        heading: export_heading(&st, &r.class).await?,
        primary: r.primary,
        subjects: r.subject_heads,
        rows: r
            .rows
            .into_iter()
            .map(|x| xlsx::ResultRow {
                name: x.name,
                subjects: x
                    .subjects
                    .iter()
                    .map(|s| {
                        if s == GAP {
                            xlsx::Value::Empty
                        } else {
                            xlsx::Value::shown(s)
                        }
                    })
                    .collect(),
                learning: x.learning,
                adjusted: x.adjusted,
                conduct: x.conduct,
                absences: x.absences.into(),
                decision: x.decision,
                award: x.award,
            })
            .collect(),
        stat_heads: r.level_heads,
        stats: r
            .stats
            .into_iter()
            .map(|s| xlsx::StatRow {
                subject: s.label,
                counts: s
                    .counts
                    .iter()
                    .map(|&n| u32::try_from(n).unwrap_or(u32::MAX))
                    .collect(),
            })
            .collect(),
    };
    let bytes = xlsx::results_sheet(&doc).map_err(AppError::internal)?;
    Ok(crate::pages::imports::xlsx(&doc.file_name(), bytes))
}

pub async fn compute(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    store_class_for_compute(&st, &p, class_id).await?;
    let r = store::compute_class(&st.store.db, &p.actor_ref(), class_id).await?;
    Ok(flash_redirect(
        &format!("/gradebook/{class_id}/results"),
        "success",
        "gradebook.computed",
        vec![("n", r.len().to_string())],
    ))
}

// ------------------------------------------------------------------ leaders: deadlines, corrections

struct DeadlineView {
    term: i32,
    slot: String,
    deadline: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "gradebook_manage.html")]
struct ManagePage {
    l: Layout,
    schools: Vec<(Uuid, String)>,
    school_id: Option<Uuid>,
    year_id: Option<Uuid>,
    year_name: String,
    deadlines: Vec<DeadlineView>,
    pending: Vec<(Uuid, String, CorrectionView)>,
    decided: Vec<(String, CorrectionView)>,
}

impl ManagePage {
    fn is_chosen(&self, id: &Uuid) -> bool {
        self.school_id == Some(*id)
    }
}

#[derive(Deserialize)]
pub struct SchoolParam {
    school: Option<Uuid>,
}

pub async fn manage(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<SchoolParam>,
) -> AppResult<Response> {
    let schools: Vec<_> = crate::scope::schools_for(&st, &p, Action::ManageGradebook)
        .await?
        .into_iter()
        .filter(|s| p.can(Action::ManageGradebook, Resource::OrgUnit(&s.path)))
        .collect();
    if schools.is_empty() {
        return Err(crate::error::AppError::forbidden());
    }
    let chosen = match q.school {
        Some(id) => Some(crate::scope::school(&st, &p, id, Action::ManageGradebook).await?),
        None => schools.first().cloned(),
    };
    let t = crate::view::Tr(ctx.locale);
    let db = &st.store.db;
    let mut page_data = ManagePage {
        l: Layout::titled(&ctx, "gradebook.manage"),
        schools: schools.iter().map(|s| (s.id, s.name.clone())).collect(),
        school_id: chosen.as_ref().map(|s| s.id),
        year_id: None,
        year_name: String::new(),
        deadlines: vec![],
        pending: vec![],
        decided: vec![],
    };
    if let Some(s) = &chosen {
        if let Some(y) = truongso_store::school_years::current(db, s.id, crate::today()).await? {
            page_data.deadlines = store::deadlines(db, y.id)
                .await?
                .into_iter()
                .map(|d| DeadlineView {
                    term: d.term,
                    slot: d.slot,
                    deadline: d.deadline.map(|d| crate::view::date(&d)).unwrap_or_default(),
                    locked: d.locked_at.is_some(),
                })
                .collect();
            page_data.year_id = Some(y.id);
            page_data.year_name = y.name;
        }
        for c in store::corrections(db, s.id, None, false).await? {
            let subject = truongso_core::classes::subject_name(&c.subject)
                .unwrap_or(&c.subject)
                .to_string();
            let head = format!("{} · {}", c.class_name, subject);
            if c.status == "pending" {
                page_data.pending.push((c.id, head, correction_view(t, c)));
            } else {
                page_data.decided.push((head, correction_view(t, c)));
            }
        }
    }
    Ok(page(&page_data))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeadlineForm {
    school_year_id: String,
    term: String,
    slot: String,
    deadline: String,
    locked: String,
}

pub async fn set_deadline(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    PageForm(f): PageForm<DeadlineForm>,
) -> AppResult<Response> {
    let year_id =
        crate::pages::parse_uuid(&Some(f.school_year_id.clone()), "school_year_id")?.ok_or_else(|| {
            crate::error::AppError::invalid("school_year_id", truongso_core::DomainError::Required)
        })?;
    let year = truongso_store::school_years::get(&st.store.db, year_id).await?;
    let school = org::get(&st.store.db, year.school_id).await?;
    p.require(Action::ManageGradebook, Resource::OrgUnit(&school.path))?;
    let back = format!("/gradebook/manage?school={}", school.id);
    let deadline = match blank(&Some(f.deadline.clone())) {
        None => None,
        Some(d) => Some(
            truongso_core::org::parse_date(&d).map_err(|e| crate::error::AppError::invalid("deadline", e))?,
        ),
    };
    let term: u8 = f.term.trim().parse().unwrap_or(9);
    let slot = blank(&Some(f.slot.clone())).unwrap_or_else(|| "*".into());
    let done = store::set_deadline(
        &st.store.db,
        &p.actor_ref(),
        year_id,
        term,
        &slot,
        deadline,
        f.locked == "on" || f.locked == "1",
    )
    .await;
    Ok(flashed(&back, done, "gradebook.deadline_saved"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    decision: String,
    note: String,
}

pub async fn decide(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<DecideForm>,
) -> AppResult<Response> {
    let c = correction_for(&st, &p, id).await?;
    let class = store::class_info(&st.store.db, c.class_id).await?;
    let back = format!("/gradebook/manage?school={}", class.school_id);
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(crate::error::AppError::invalid(
                "decision",
                truongso_core::DomainError::UnknownCode,
            ));
        }
    };
    let done = store::decide_correction(
        &st.store.db,
        &p.actor_ref(),
        id,
        approve,
        blank(&Some(f.note)).as_deref(),
        crate::today(),
    )
    .await;
    Ok(flashed(
        &back,
        done,
        if approve {
            "gradebook.correction_approved"
        } else {
            "gradebook.correction_rejected"
        },
    ))
}

/// Back to the form's page with the success message, or with the write's error.
fn flashed<T>(back: &str, done: truongso_store::Result<T>, success: &str) -> Response {
    match done {
        Ok(_) => flash_redirect(back, "success", success, vec![]),
        Err(e) => {
            let e = crate::error::AppError::from(e);
            flash_redirect(back, "error", &format!("error.{}", e.code), vec![])
        }
    }
}

// ------------------------------------------------------------------ the learner's result card

struct CardSubject {
    name: String,
    hk1: String,
    hk2: String,
    year: String,
    retest: String,
}

struct CardYear {
    school_year: String,
    class_name: String,
    rules: &'static str,
    primary: bool,
    subjects: Vec<CardSubject>,
    learning: [String; 3],
    conduct: [String; 3],
    absences: i32,
    decision: String,
    award: String,
}

#[derive(Template)]
#[template(path = "gradebook_card.html")]
struct CardPage {
    l: Layout,
    name: String,
    years: Vec<CardYear>,
}

fn shown_text(s: &truongso_core::gradebook::compute::Shown) -> String {
    match s {
        truongso_core::gradebook::compute::Shown::Value(v) => v.clone(),
        truongso_core::gradebook::compute::Shown::Gap(_) => GAP.into(),
    }
}

/// A learner's results, year by year (every class they were enrolled in), computed from the
/// stored marks with each year's rules: what the family sees and what the học bạ will hold.
pub async fn card(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (learner, _) = crate::api::learners::authorised(&st, &p, id, Action::ViewResults).await?;
    let db = &st.store.db;
    let t = crate::view::Tr(ctx.locale);
    let mut years = vec![];
    for e in truongso_store::classes::history(db, id).await? {
        let Ok(class) = store::class_info(db, e.class_id).await else {
            continue;
        };
        let entry: Vec<_> = store::roster(db, e.class_id)
            .await?
            .into_iter()
            .filter(|r| r.learner_id == id)
            .collect();
        let plans = store::class_subjects(db, &class).await?;
        let Some(r) = store::compute_learners(db, &class, &entry).await?.pop() else {
            continue;
        };
        let name_of = |code: &str| {
            plans
                .iter()
                .find(|p| p.code == code)
                .map_or(code.to_string(), |p| p.name.to_string())
        };
        let mut card = CardYear {
            school_year: class.school_year.clone(),
            class_name: class.name.clone(),
            rules: class.rules.title(),
            primary: r.primary.is_some(),
            subjects: vec![],
            learning: Default::default(),
            conduct: [
                level_label(ctx.locale, r.conduct_hk1),
                level_label(ctx.locale, r.conduct_hk2),
                String::new(),
            ],
            absences: r.absences,
            decision: r
                .decision()
                .map(|d| t.s(&format!("gradebook.decision.{d}")).to_string())
                .unwrap_or_default(),
            award: r
                .award()
                .map(|a| t.s(&format!("gradebook.award.{a}")).to_string())
                .unwrap_or_default(),
        };
        if let Some(v) = &r.secondary {
            card.subjects = v
                .subjects
                .iter()
                .map(|s| CardSubject {
                    name: name_of(&s.subject),
                    hk1: shown_text(&s.hk1),
                    hk2: shown_text(&s.hk2),
                    year: shown_text(&s.year),
                    retest: s.retest.clone().unwrap_or_default(),
                })
                .collect();
            let lv = |l: &Option<truongso_core::gradebook::compute::LevelView>| {
                level_label(ctx.locale, l.as_ref().map(|l| l.level))
            };
            card.learning = [lv(&v.learning.hk1), lv(&v.learning.hk2), lv(&v.learning.year)];
            card.conduct[2] = level_label(ctx.locale, v.conduct_year);
        }
        if let Some(pr) = &r.primary {
            card.subjects = pr
                .subjects
                .iter()
                .map(|s| CardSubject {
                    name: name_of(&s.subject),
                    hk1: String::new(),
                    hk2: String::new(),
                    year: s.level.map(str::to_string).unwrap_or_else(|| GAP.into()),
                    retest: s.test.map(|t| t.to_string()).unwrap_or_default(),
                })
                .collect();
            card.learning[2] = pr
                .evaluation
                .map(|e| t.s(&format!("gradebook.evaluation.{}", e.as_str())).to_string())
                .unwrap_or_default();
        }
        years.push(card);
    }
    years.reverse();
    Ok(page(&CardPage {
        l: Layout::new(&ctx, format!("{} — {}", t.s("gradebook.card"), learner.full_name)),
        name: learner.full_name,
        years,
    }))
}
