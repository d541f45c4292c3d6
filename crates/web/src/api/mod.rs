//! JSON API under `/api/v1`, described by an OpenAPI document generated from the handlers'
//! annotations. Authentication: a session cookie (with the `X-CSRF-Token` header on writes)
//! or `Authorization: Bearer <API token>`.

pub mod classes;
pub mod credentials;
pub mod facilities;
pub mod gradebook;
pub mod health;
pub mod imports;
pub mod learners;
pub mod me;
pub mod org;
pub mod quality;
pub mod staff;
pub mod stats;
pub mod stats_reports;
pub mod users;
pub mod verify;

use crate::error::AppError;
use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use truongso_core::i18n::{self, Locale};
use utoipa::{Modify, OpenApi, ToSchema};

/// The message of an error in a locale.
pub fn message(locale: Locale, e: &AppError) -> String {
    i18n::tf(locale, &format!("error.{}", e.code), &e.params)
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `forbidden`, `duplicate_username`, `malformed_json`.
    pub code: String,
    /// Human message in the request's language (Vietnamese by default).
    pub message: String,
    /// The offending input field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

pub fn error_json(locale: Locale, e: &AppError) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code.to_string(),
            message: message(locale, e),
            field: e.field.map(str::to_string),
        },
    };
    (e.status, Json(body)).into_response()
}

/// `Json<T>` whose rejections are our JSON errors, with the parser's reason in the message.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, s: &S) -> Result<Self, AppError> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, s).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            )),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").with("max", "1024 KiB"))
            }
            Err(r) => Err(AppError::bad_request("malformed_json").with("detail", r.body_text())),
        }
    }
}

pub type ApiResult<T> = Result<Json<T>, AppError>;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token `ts_…`"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("ts_session"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Trường Số API", version = "1", description = "Organisation tree, accounts and roles of the Trường Số platform."),
    paths(
        me::me,
        me::roles,
        org::list_units,
        org::get_unit,
        org::children,
        org::history,
        org::move_unit,
        org::dissolve_unit,
        org::create_unit,
        users::list_users,
        users::get_user,
        users::create_user,
        users::update_user,
        users::list_grants,
        users::create_grant,
        users::delete_grant,
        learners::search,
        learners::get,
        learners::create,
        learners::status,
        health::get_record,
        health::add_checkup,
        health::add_vaccination,
        health::add_condition,
        health::list_guardians,
        health::create_guardian,
        health::link_account,
        gradebook::get_marks,
        gradebook::put_marks,
        gradebook::request_correction,
        gradebook::decide_correction,
        gradebook::put_summaries,
        gradebook::class_results,
        gradebook::compute_class,
        gradebook::learner_results,
        gradebook::compute_document,
        classes::list,
        classes::create,
        classes::get,
        classes::update,
        classes::enrolments,
        classes::enrol,
        classes::rollover,
        staff::list,
        staff::save,
        staff::get,
        staff::assignments,
        staff::create_assignment,
        staff::delete_assignment,
        imports::start,
        imports::get,
        imports::template,
        quality::school,
        quality::unit_rollup,
        credentials::class_credentials,
        credentials::sign,
        credentials::revoke,
        credentials::copy,
        credentials::start,
        credentials::status,
        credentials::list_diplomas,
        credentials::create_diploma,
        verify::verify,
        verify::status,
        verify::proof,
        verify::lookup,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags((name = "me", description = "The caller"), (name = "org", description = "Organisation tree"), (name = "users", description = "Accounts and roles"), (name = "learners", description = "Learner records"), (name = "imports", description = "Excel imports and their jobs"), (name = "quality", description = "Data quality of schools and offices"), (name = "facilities", description = "School facilities"), (name = "classes", description = "Classes, enrolments and the year rollover"), (name = "staff", description = "Staff and teaching assignments"), (name = "health", description = "School health records and guardians"), (name = "gradebook", description = "Marks, corrections, class summaries and results (TT 22/2021, TT 27/2020)"), (name = "credentials", description = "Học bạ số signed in turn (GVCN, Hiệu trưởng, con dấu), batch issue of a school, revocation, copies, the diploma registry (TT 21/2019)"), (name = "stats", description = "Education statistics: official forms computed from the records with the records behind each cell, reporting periods, submissions and their frozen snapshots, indicators, dynamic reports, universal-education levels"), (name = "verify", description = "Public verification of học bạ and diplomas, document status and proofs, diploma lookup (no account needed)"))
)]
pub struct ApiDoc;

pub async fn openapi() -> Response {
    let mut doc = ApiDoc::openapi();
    doc.merge(stats::Doc::openapi());
    doc.merge(stats_reports::Doc::openapi());
    match doc.to_json() {
        Ok(s) => ([(axum::http::header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => AppError::internal(e).into_response(),
    }
}
