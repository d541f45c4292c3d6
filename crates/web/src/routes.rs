//! Every route in one table. Each route declares what it needs (public, any signed-in user, or
//! an authorisation action); the builder records the table so the authorisation test can walk
//! every route that exists with every role.

use crate::{AppState, api, assets, middleware, ops, pages};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, patch, post};
use truongso_core::auth::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in user, acting on their own account.
    SignedIn,
    /// The handler authorises this action on the resource named by the path.
    Act(Action),
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

pub(crate) struct Builder {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Builder {
    pub(crate) fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        mr: MethodRouter<AppState>,
    ) -> Self {
        self.specs.push(RouteSpec { method, path, access });
        self.router = self.router.route(path, mr);
        self
    }
}

/// Builds the router and returns the route table with it.
pub fn build(state: AppState) -> (Router, Vec<RouteSpec>) {
    use Access::*;
    use Action::*;
    let upload = state.cfg.max_upload_bytes;
    let b = Builder {
        router: Router::new(),
        specs: vec![],
    };
    let b = b
        // operations and assets
        .add("GET", "/healthz", Public, get(ops::healthz))
        .add("GET", "/readyz", Public, get(ops::readyz))
        .add("GET", "/metrics", Public, get(ops::metrics))
        .add("GET", "/static/{name}", Public, get(assets::serve))
        .add("GET", "/lang/{code}", Public, get(pages::auth::set_language))
        // sign-in
        .add("GET", "/login", Public, get(pages::auth::form))
        .add("POST", "/login", Public, post(pages::auth::submit))
        .add("POST", "/logout", SignedIn, post(pages::auth::logout))
        .add("GET", "/", SignedIn, get(pages::home::dashboard))
        // own account
        .add("GET", "/account", Act(ViewOwn), get(pages::account::show))
        .add(
            "POST",
            "/account/password",
            Act(ChangeOwnPassword),
            post(pages::account::change_password),
        )
        .add(
            "POST",
            "/account/tokens",
            Act(ManageOwnTokens),
            post(pages::account::create_token),
        )
        .add(
            "POST",
            "/account/tokens/{id}/revoke",
            Act(ManageOwnTokens),
            post(pages::account::revoke_token),
        )
        // organisation tree
        .add("GET", "/org", Act(ViewOrgUnit), get(pages::org::index))
        .add("GET", "/org/search", Act(ViewOrgUnit), get(pages::org::search))
        .add("GET", "/org/{id}", Act(ViewOrgUnit), get(pages::org::show))
        .add(
            "POST",
            "/org/{id}/children",
            Act(ManageOrgUnit),
            post(pages::org::create_child),
        )
        .add(
            "POST",
            "/org/{id}/rename",
            Act(ManageOrgUnit),
            post(pages::org::rename),
        )
        .add(
            "POST",
            "/org/{id}/move",
            Act(ManageOrgUnit),
            post(pages::org::move_unit),
        )
        .add(
            "POST",
            "/org/{id}/dissolve",
            Act(ManageOrgUnit),
            post(pages::org::dissolve_unit),
        )
        .add(
            "POST",
            "/org/{id}/school-years",
            Act(ManageSchoolYears),
            post(pages::org::create_year),
        )
        // accounts and roles
        .add("GET", "/users", Act(ViewUsers), get(pages::users::list))
        .add("POST", "/users", Act(ManageUser), post(pages::users::create))
        .add("GET", "/users/new", Act(ManageUser), get(pages::users::new_form))
        .add("GET", "/users/{id}", Act(ViewUsers), get(pages::users::show))
        .add("POST", "/users/{id}", Act(ManageUser), post(pages::users::update))
        .add(
            "POST",
            "/users/{id}/active",
            Act(ManageUser),
            post(pages::users::set_active),
        )
        .add(
            "POST",
            "/users/{id}/unlock",
            Act(ManageUser),
            post(pages::users::unlock),
        )
        .add(
            "POST",
            "/users/{id}/password",
            Act(ManageUser),
            post(pages::users::reset_password),
        )
        .add(
            "POST",
            "/users/{id}/grants",
            Act(GrantRole),
            post(pages::users::grant),
        )
        .add(
            "POST",
            "/users/{id}/grants/{gid}/revoke",
            Act(GrantRole),
            post(pages::users::revoke),
        )
        // learners
        .add("GET", "/learners", Act(ViewLearner), get(pages::learners::list))
        .add(
            "GET",
            "/learners/{id}",
            Act(ViewLearner),
            get(pages::learners::show),
        )
        // classes and staff
        .add("GET", "/classes", Act(ViewClass), get(pages::classes::list))
        .add("POST", "/classes", Act(ManageClass), post(pages::classes::create))
        .add(
            "POST",
            "/classes/rollover",
            Act(ManageClass),
            post(pages::classes::rollover),
        )
        .add("GET", "/classes/{id}", Act(ViewClass), get(pages::classes::show))
        .add(
            "POST",
            "/classes/{id}",
            Act(ManageClass),
            post(pages::classes::update),
        )
        .add(
            "POST",
            "/classes/{id}/assignments",
            Act(ManageStaff),
            post(pages::classes::assign),
        )
        .add(
            "POST",
            "/assignments/{id}/delete",
            Act(ManageStaff),
            post(pages::classes::unassign),
        )
        .add(
            "POST",
            "/learners/{id}/status",
            Act(ManageLearner),
            post(pages::learners::change_status),
        )
        .add(
            "POST",
            "/learners/{id}/class",
            Act(ManageClass),
            post(pages::classes::move_class),
        )
        .add("GET", "/staff", Act(ViewStaff), get(pages::staff::list))
        .add("POST", "/staff", Act(ManageStaff), post(pages::staff::save))
        .add("GET", "/staff/{id}", Act(ViewStaff), get(pages::staff::show))
        // Excel import and export
        .add("GET", "/import", Act(ImportRecords), get(pages::imports::index))
        .add(
            "GET",
            "/import/templates/{kind}",
            SignedIn,
            get(pages::imports::download_template),
        )
        .add(
            "POST",
            "/import/{kind}",
            Act(ImportRecords),
            post(pages::imports::upload).layer(DefaultBodyLimit::max(upload)),
        )
        .add("GET", "/import/jobs/{id}", SignedIn, get(pages::imports::job))
        .add(
            "GET",
            "/export/{kind}",
            Act(ImportRecords),
            get(pages::imports::export),
        )
        // audit
        .add("GET", "/audit", Act(ViewAudit), get(pages::audit::list))
        .add(
            "POST",
            "/audit/verify",
            Act(ViewAudit),
            post(pages::audit::verify),
        )
        // JSON API
        .add("GET", "/api/v1/openapi.json", Public, get(api::openapi))
        .add("GET", "/api/v1/me", Act(ViewOwn), get(api::me::me))
        .add("GET", "/api/v1/roles", SignedIn, get(api::me::roles))
        .add(
            "GET",
            "/api/v1/org-units",
            Act(ViewOrgUnit),
            get(api::org::list_units),
        )
        .add(
            "POST",
            "/api/v1/org-units",
            Act(ManageOrgUnit),
            post(api::org::create_unit),
        )
        .add(
            "GET",
            "/api/v1/org-units/{id}",
            Act(ViewOrgUnit),
            get(api::org::get_unit),
        )
        .add(
            "GET",
            "/api/v1/org-units/{id}/children",
            Act(ViewOrgUnit),
            get(api::org::children),
        )
        .add(
            "GET",
            "/api/v1/org-units/{id}/history",
            Act(ViewOrgUnit),
            get(api::org::history),
        )
        .add(
            "POST",
            "/api/v1/org-units/{id}/move",
            Act(ManageOrgUnit),
            post(api::org::move_unit),
        )
        .add(
            "POST",
            "/api/v1/org-units/{id}/dissolve",
            Act(ManageOrgUnit),
            post(api::org::dissolve_unit),
        )
        .add(
            "GET",
            "/api/v1/users",
            Act(ViewUsers),
            get(api::users::list_users),
        )
        .add(
            "POST",
            "/api/v1/users",
            Act(ManageUser),
            post(api::users::create_user),
        )
        .add(
            "GET",
            "/api/v1/users/{id}",
            Act(ViewUsers),
            get(api::users::get_user),
        )
        .add(
            "PATCH",
            "/api/v1/users/{id}",
            Act(ManageUser),
            patch(api::users::update_user),
        )
        .add(
            "GET",
            "/api/v1/users/{id}/grants",
            Act(ViewUsers),
            get(api::users::list_grants),
        )
        .add(
            "POST",
            "/api/v1/users/{id}/grants",
            Act(GrantRole),
            post(api::users::create_grant),
        )
        .add(
            "DELETE",
            "/api/v1/grants/{id}",
            Act(GrantRole),
            delete(api::users::delete_grant),
        )
        .add(
            "GET",
            "/api/v1/learners",
            Act(ViewLearner),
            get(api::learners::search),
        )
        .add(
            "POST",
            "/api/v1/learners",
            Act(ManageLearner),
            post(api::learners::create),
        )
        .add(
            "GET",
            "/api/v1/learners/{id}",
            Act(ViewLearner),
            get(api::learners::get),
        )
        .add(
            "POST",
            "/api/v1/imports/{kind}",
            Act(ImportRecords),
            post(api::imports::start).layer(DefaultBodyLimit::max(upload)),
        )
        .add("GET", "/api/v1/classes", Act(ViewClass), get(api::classes::list))
        .add(
            "POST",
            "/api/v1/classes",
            Act(ManageClass),
            post(api::classes::create),
        )
        .add(
            "GET",
            "/api/v1/classes/{id}",
            Act(ViewClass),
            get(api::classes::get),
        )
        .add(
            "PATCH",
            "/api/v1/classes/{id}",
            Act(ManageClass),
            patch(api::classes::update),
        )
        .add(
            "POST",
            "/api/v1/learners/{id}/status",
            Act(ManageLearner),
            post(api::learners::status),
        )
        .add(
            "GET",
            "/api/v1/learners/{id}/enrolments",
            Act(ViewLearner),
            get(api::classes::enrolments),
        )
        .add(
            "POST",
            "/api/v1/learners/{id}/enrolments",
            Act(ManageClass),
            post(api::classes::enrol),
        )
        .add(
            "POST",
            "/api/v1/school-years/{id}/rollover",
            Act(ManageClass),
            post(api::classes::rollover),
        )
        .add("GET", "/api/v1/staff", Act(ViewStaff), get(api::staff::list))
        .add("POST", "/api/v1/staff", Act(ManageStaff), post(api::staff::save))
        .add("GET", "/api/v1/staff/{id}", Act(ViewStaff), get(api::staff::get))
        .add(
            "GET",
            "/api/v1/assignments",
            Act(ViewClass),
            get(api::staff::assignments),
        )
        .add(
            "POST",
            "/api/v1/assignments",
            Act(ManageStaff),
            post(api::staff::create_assignment),
        )
        .add(
            "DELETE",
            "/api/v1/assignments/{id}",
            Act(ManageStaff),
            delete(api::staff::delete_assignment),
        )
        .add("GET", "/api/v1/jobs/{id}", SignedIn, get(api::imports::get))
        .add(
            "GET",
            "/api/v1/templates/{kind}",
            SignedIn,
            get(api::imports::template),
        );
    // Capabilities that register their own routes.
    let b = pages::quality::routes(b);
    let b = pages::facilities::routes(b);
    let b = pages::health::routes(b);
    let b = pages::gradebook::routes(b);
    let b = pages::credentials::routes(b);
    let b = pages::stats::routes(b);
    let b = pages::stats_reports::routes(b, upload);
    let b = crate::ledger_http::routes(b);
    let b = pages::verify::routes(b, upload);
    let b = api::verify::routes(b, upload);
    let max = state.cfg.max_body_bytes;
    let router = b
        .router
        .fallback(|| async { crate::error::AppError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::pipeline,
        ))
        .layer(DefaultBodyLimit::max(max))
        .with_state(state);
    (router, b.specs)
}
