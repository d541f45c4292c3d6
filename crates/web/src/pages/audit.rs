//! The audit chain for a root unit's administrator: recent events and an integrity check.

use crate::AppState;
use crate::ctx::Authed;
use crate::error::AppResult;
use crate::view::{Layout, page};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use truongso_core::audit::{AuditRecord, ChainBreak};
use truongso_core::auth::{Action, Resource};
use truongso_store::audit;

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    events: Vec<AuditRecord>,
    older: Option<i64>,
}

pub async fn list(
    State(st): State<AppState>,
    Authed { ctx, p }: Authed,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    p.require(Action::ViewAudit, Resource::System)?;
    let events = audit::recent(&st.store.db, q.before, 100).await?;
    let older = events
        .last()
        .map(|e| e.seq)
        .filter(|s| *s > 1 && events.len() == 100);
    Ok(page(&AuditPage {
        l: Layout::titled(&ctx, "audit.title"),
        events,
        older,
    }))
}

#[derive(Template)]
#[template(
    source = r#"<p id="verify-result" class="flash {{ kind }}" role="status">{{ text }}</p>"#,
    ext = "html"
)]
struct VerifyResult {
    kind: &'static str,
    text: String,
}

pub async fn verify(State(st): State<AppState>, Authed { ctx, p }: Authed) -> AppResult<Response> {
    p.require(Action::ViewAudit, Resource::System)?;
    let report = audit::verify(&st.store.db).await?;
    let t = crate::view::Tr(ctx.locale);
    let r = match report.first_break {
        None => VerifyResult {
            kind: "success",
            text: t.f("audit.ok", "count", &report.checked.to_string()),
        },
        Some(b) => {
            let problem = match b {
                ChainBreak::Edited { .. } => t.s("audit.edited"),
                ChainBreak::Broken { .. } => t.s("audit.chain_broken"),
                ChainBreak::Gap { .. } => t.s("audit.gap"),
                ChainBreak::Truncated { .. } => t.s("audit.truncated"),
                ChainBreak::HeadMismatch { .. } => t.s("audit.head_mismatch"),
            };
            VerifyResult {
                kind: "error",
                text: t
                    .f("audit.broken", "seq", &b.seq().to_string())
                    .replace("{problem}", problem),
            }
        }
    };
    Ok(page(&r))
}
