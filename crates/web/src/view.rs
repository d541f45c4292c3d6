//! What every page template shares: the translator, the layout (navigation filtered by what
//! the role may use), flash messages, and Vietnamese date formatting.

use crate::ctx::ReqCtx;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use truongso_core::auth::{Action, Resource, Role, ScopeKind};
use truongso_core::i18n::{self, Locale};
use truongso_core::org::{OrgKind, SchoolLevels};

/// Translator handed to templates: `{{ l.t.s("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn s(&self, key: &str) -> &'static str {
        i18n::t(self.0, key)
    }

    pub fn f(&self, key: &str, name: &str, value: &str) -> String {
        i18n::t(self.0, key).replace(&format!("{{{name}}}"), value)
    }

    pub fn role(&self, r: &Role) -> &'static str {
        self.s(&format!("role.{}", r.as_str()))
    }

    pub fn scope(&self, k: &ScopeKind) -> &'static str {
        self.s(&format!("scope.{}", k.as_str()))
    }

    pub fn kind(&self, k: &OrgKind) -> &'static str {
        self.s(&format!("org.kind.{}", k.as_str()))
    }

    pub fn levels(&self, l: &Option<SchoolLevels>) -> String {
        l.as_ref()
            .map(|l| {
                l.levels()
                    .iter()
                    .map(|x| self.s(&format!("level.{}", x.as_str())))
                    .collect::<Vec<_>>()
                    .join(" – ")
            })
            .unwrap_or_default()
    }

    pub fn term(&self, k: &truongso_core::school_year::TermKind) -> &'static str {
        self.s(&format!("term.{}", k.as_str()))
    }
}

/// Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset is exact.
pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("constant offset")
}

pub fn date(d: &NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub fn opt_date(d: &Option<NaiveDate>) -> String {
    d.as_ref().map(date).unwrap_or_default()
}

pub fn datetime(t: &DateTime<Utc>) -> String {
    t.with_timezone(&vn_offset()).format("%d/%m/%Y %H:%M").to_string()
}

pub fn opt_datetime(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(datetime).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct FlashView {
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub t: Tr,
    pub lang: &'static str,
    pub title: String,
    pub user_name: Option<String>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flash: Option<FlashView>,
}

impl Layout {
    pub fn new(ctx: &ReqCtx, title: impl Into<String>) -> Self {
        let t = Tr(ctx.locale);
        let flash = ctx.flash.as_ref().map(|f| {
            let mut text = t.s(&f.key).to_string();
            for (k, v) in &f.params {
                text = text.replace(&format!("{{{k}}}"), v);
            }
            FlashView {
                kind: f.kind.clone(),
                text,
            }
        });
        Self {
            t,
            lang: ctx.locale.as_str(),
            title: title.into(),
            user_name: ctx.principal.as_ref().map(|p| p.user.display_name.clone()),
            nav: nav_for(ctx),
            csrf: ctx.csrf.clone(),
            flash,
        }
    }

    pub fn titled(ctx: &ReqCtx, key: &str) -> Self {
        Self::new(ctx, i18n::t(ctx.locale, key))
    }

    /// For a form page rendered after a failed write: field errors go beside their fields, an
    /// error without a field becomes the page message, and the status is the error's.
    pub fn with_error(self, e: Option<crate::error::AppError>) -> (Self, FieldErrors, StatusCode) {
        match e {
            None => (self, FieldErrors::default(), StatusCode::OK),
            Some(e) => {
                let (errors, general) = FieldErrors::from_error(self.t.0, &e);
                let l = match general {
                    Some(m) => self.with_message("error", m),
                    None => self,
                };
                (l, errors, e.status)
            }
        }
    }

    /// Replace the pending flash with a message shown on this very render.
    pub fn with_message(mut self, kind: &str, text: String) -> Self {
        self.flash = Some(FlashView {
            kind: kind.into(),
            text,
        });
        self
    }
}

/// Navigation: only what one of the user's grants lets them use.
pub fn nav_for(ctx: &ReqCtx) -> Vec<NavItem> {
    let t = Tr(ctx.locale);
    let Some(p) = &ctx.principal else {
        return vec![];
    };
    let anchors: Vec<_> = p.actor.grants.iter().map(|g| g.scope.anchor().clone()).collect();
    let any = |a: Action| anchors.iter().any(|path| p.can(a, Resource::OrgUnit(path)));
    let mut items = vec![("/", "nav.home")];
    if any(Action::ViewOrgUnit) {
        items.push(("/org", "nav.org_tree"));
    }
    if !p.actor.grants.is_empty() {
        items.push(("/learners", "nav.learners"));
    }
    let teaches = p.actor.grants.iter().any(|g| {
        matches!(
            g.scope,
            truongso_core::auth::Scope::Class { .. } | truongso_core::auth::Scope::ClassSubject { .. }
        )
    });
    if teaches || any(Action::ViewClass) {
        items.push(("/classes", "nav.classes"));
    }
    if teaches || any(Action::ViewMarks) || any(Action::ManageGradebook) {
        items.push(("/gradebook", "nav.gradebook"));
    }
    let keeps_class_or_family = p.actor.grants.iter().any(|g| {
        matches!(
            g.scope,
            truongso_core::auth::Scope::Class { .. } | truongso_core::auth::Scope::Child { .. }
        )
    });
    if keeps_class_or_family || any(Action::ViewCredentials) {
        items.push(("/hoc-ba", "nav.credentials"));
    }
    if any(Action::ViewStaff) {
        items.push(("/staff", "nav.staff"));
    }
    if any(Action::ViewFacilities) {
        items.push(("/facilities", "nav.facilities"));
    }
    if any(Action::ImportRecords) {
        items.push(("/import", "nav.import"));
    }
    if any(Action::ViewQuality) {
        items.push(("/quality", "nav.quality"));
    }
    if any(Action::ViewStats) {
        items.push(("/stats", "nav.stats"));
    }
    if any(Action::ViewUsers) {
        items.push(("/users", "nav.users"));
    }
    if p.can(Action::ViewAudit, Resource::System) {
        items.push(("/audit", "nav.audit"));
    }
    items.push(("/account", "nav.account"));
    items
        .into_iter()
        .map(|(href, key)| NavItem {
            href,
            label: t.s(key),
            active: if href == "/" {
                ctx.path == "/"
            } else {
                ctx.path.starts_with(href)
            },
        })
        .collect()
}

/// Renders a template with a status code.
pub fn render<T: Template>(status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => crate::error::AppError::internal(format!("template: {e}")).into_response(),
    }
}

pub fn page<T: Template>(tpl: &T) -> Response {
    render(StatusCode::OK, tpl)
}

/// Field errors of a form, looked up by field name in templates.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One message for an error, placed on its field or (without one) returned as general.
    pub fn from_error(locale: Locale, e: &crate::error::AppError) -> (Self, Option<String>) {
        let msg = crate::api::message(locale, e);
        match e.field {
            Some(f) => (Self(vec![(f.to_string(), msg)]), None),
            None => (Self::default(), Some(msg)),
        }
    }
}
