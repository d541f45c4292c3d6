//! The signed-in user's own account: password change and API tokens.

use crate::AppState;
use crate::ctx::{Authed, Principal, ReqCtx, Via};
use crate::error::{AppError, AppResult};
use crate::middleware::flash_redirect;
use crate::pages::PageForm;
use crate::view::{FieldErrors, Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::auth::{Action, Resource};
use truongso_store::accounts::{self, GrantRow};
use truongso_store::tokens::{self, TokenRow};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    username: String,
    grants: Vec<GrantRow>,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    errors: FieldErrors,
}

impl AccountPage {
    fn datetime(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::view::datetime(t)
    }

    fn opt_datetime(&self, t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        crate::view::opt_datetime(t)
    }
}

async fn account_page(
    st: &AppState,
    ctx: &ReqCtx,
    p: &Principal,
    new_token: Option<String>,
    e: Option<AppError>,
) -> AppResult<Response> {
    let (l, errors, status) = Layout::titled(ctx, "nav.account").with_error(e);
    let page = AccountPage {
        l,
        username: p.user.username.clone(),
        grants: accounts::grants_of(&st.store.db, p.user.id).await?,
        tokens: tokens::list(&st.store.db, p.user.id).await?,
        new_token,
        errors,
    };
    Ok(render(status, &page))
}

pub async fn show(State(st): State<AppState>, Authed { ctx, p }: Authed) -> AppResult<Response> {
    p.require(Action::ViewOwn, Resource::Own)?;
    account_page(&st, &ctx, &p, None, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: Option<String>,
    new_password: Option<String>,
    confirm: Option<String>,
}

pub async fn change_password(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<PasswordForm>,
) -> AppResult<Response> {
    p.require(Action::ChangeOwnPassword, Resource::Own)?;
    let keep = match &p.via {
        Via::Session { session_id } => Some(session_id.clone()),
        Via::Token => None,
    };
    let result = accounts::change_own_password(
        &st.store.db,
        p.user.id,
        f.current.as_deref().unwrap_or_default(),
        f.new_password.as_deref().unwrap_or_default(),
        f.confirm.as_deref().unwrap_or_default(),
        keep.as_deref(),
    )
    .await;
    match result {
        Ok(()) => Ok(flash_redirect("/account", "success", "password.changed", vec![])),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() {
                return Err(e);
            }
            account_page(&st, &ctx, &p, None, Some(e)).await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: Option<String>,
    days: Option<String>,
}

pub async fn create_token(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    PageForm(f): PageForm<TokenForm>,
) -> AppResult<Response> {
    p.require(Action::ManageOwnTokens, Resource::Own)?;
    let days = f
        .days
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok())
        .filter(|d| (1..=3650).contains(d));
    let result = tokens::create(
        &st.store.db,
        &p.actor_ref(),
        p.user.id,
        f.name.as_deref().unwrap_or_default(),
        days,
    )
    .await;
    match result {
        // The secret is shown on this response only, never stored or redirected through a URL.
        Ok((_, secret)) => account_page(&st, &ctx, &p, Some(secret), None).await,
        Err(e) => account_page(&st, &ctx, &p, None, Some(e.into())).await,
    }
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Authed { p, .. }: Authed,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    p.require(Action::ManageOwnTokens, Resource::Own)?;
    tokens::revoke(&st.store.db, &p.actor_ref(), p.user.id, id).await?;
    Ok(flash_redirect("/account", "success", "tokens.revoked", vec![]))
}
