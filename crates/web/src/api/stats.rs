//! `/api/v1/stats`: see `pages::stats`.

use utoipa::OpenApi;

/// The OpenAPI paths of this module, merged into the platform's document.
#[derive(OpenApi)]
#[openapi(paths())]
pub struct Doc;
