//! Per-request context resolved once by the middleware: locale, the authenticated principal
//! (session cookie or API token), the CSRF token forms must carry, and the pending flash.

use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use truongso_core::auth::{Action, Actor, Resource, can};
use truongso_core::i18n::Locale;
use truongso_store::ActorRef;
use truongso_store::accounts::UserRow;

#[derive(Debug, Clone)]
pub enum Via {
    Session { session_id: String },
    Token,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserRow,
    pub actor: Actor,
    /// The grants behind `actor`, with names, for display.
    pub grants: Vec<truongso_store::accounts::GrantRow>,
    pub via: Via,
}

impl Principal {
    pub fn actor_ref(&self) -> ActorRef {
        ActorRef::user(self.user.id, &self.user.username)
    }

    pub fn can(&self, action: Action, resource: Resource<'_>) -> bool {
        can(&self.actor, action, resource)
    }

    /// Authorise or fail with 403.
    pub fn require(&self, action: Action, resource: Resource<'_>) -> Result<(), AppError> {
        if self.can(action, resource) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }
}

/// A one-shot message shown on the next page (after a redirect).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    /// `success`, `info` or `error`.
    pub kind: String,
    pub key: String,
    #[serde(default)]
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct ReqCtx {
    pub locale: Locale,
    pub principal: Option<Principal>,
    /// The token a form posted from this page must carry.
    pub csrf: String,
    /// A session cookie was sent but did not resolve (expired or revoked).
    pub stale_session: bool,
    pub flash: Option<Flash>,
    pub path: String,
    pub is_api: bool,
    /// The TCP peer, when the server was started with connection info.
    pub peer: Option<std::net::SocketAddr>,
}

/// Any request: context with an optional principal.
pub struct Ctx(pub ReqCtx);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<ReqCtx>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| AppError::internal("request context missing"))
    }
}

/// An authenticated request. Without a principal: 401, which the middleware turns into a
/// redirect to the login page for browsers.
pub struct Authed {
    pub ctx: ReqCtx,
    pub p: Principal,
}

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, AppError> {
        let Ctx(ctx) = Ctx::from_request_parts(parts, s).await?;
        match ctx.principal.clone() {
            Some(p) => Ok(Authed { ctx, p }),
            None if ctx.stale_session => Err(AppError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "session_expired",
            )),
            None => Err(AppError::unauthenticated()),
        }
    }
}
