//! One error type for pages and API. A handler returns `AppError`; the response middleware,
//! which knows the locale and whether the request was for the API, renders it as a JSON error
//! with a stable code or as a Vietnamese error page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use truongso_core::DomainError;
use truongso_store::Error as StoreError;

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    /// Stable code; the message is `error.<code>` in the catalogue.
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
    /// The input field at fault, when there is one.
    pub field: Option<&'static str>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            params: vec![],
            field: None,
        }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated")
    }

    pub fn bad_request(code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }

    pub fn invalid(field: &'static str, e: DomainError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: e.code(),
            params: e.params(),
            field: Some(field),
        }
    }

    /// An unexpected failure: logged with an id the user can quote, details never shown.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
        tracing::error!(error_id = %id, "internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal").with("id", id)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(fe) => AppError::invalid(fe.field, fe.error),
            StoreError::NotFound(m) => AppError {
                status: StatusCode::NOT_FOUND,
                code: m.code,
                params: m.params,
                field: None,
            },
            StoreError::Conflict(m) => AppError {
                status: StatusCode::CONFLICT,
                code: m.code,
                params: m.params,
                field: None,
            },
            StoreError::Forbidden => AppError::forbidden(),
            other => AppError::internal(other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut r = self.status.into_response();
        r.extensions_mut().insert(Arc::new(self));
        r
    }
}

pub type AppResult<T> = Result<T, AppError>;
