//! `GET /{code}` (and HEAD): the redirect, answered from the in-memory cache (the database
//! only on a miss), the click handed to the batch writer without waiting. And
//! `GET /v1/campaigns/{campaign_id}/clicks`: a campaign's clicks (readers as for messages;
//! another organisation's campaign is a 404).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::cache::Lookup;
use super::clicks::{Bot, Click};
use super::types::{ClickQuery, ClickRow};
use super::{bots, code, store};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::Principal;
use crate::messages::routes::reader;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(redirect))
        .routes(routes!(list_clicks))
}

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 512;

/// A short link: 302 to its long URL. HEAD requests answer the same and are recorded as a
/// machine's; so are known link previewers and crawlers. An unknown code is a 404.
#[utoipa::path(get, path = "/{code}", tag = "links", operation_id = "follow_short_link",
    params(("code" = String, Path, description = "The short code: 7 base62 characters")),
    responses(
        (status = 302, description = "To the long URL (`Location`)"),
    ))]
async fn redirect(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Response> {
    if !code::is_code(&code) {
        return Err(Error::NotFound);
    }
    let links = &state.links;
    let url = match links.cache.get(&code) {
        Lookup::Found(url) => url,
        Lookup::Unknown => return Err(Error::NotFound),
        Lookup::Miss => {
            let found = store::resolve(&state.pool, &code).await?;
            let target = found.map(|u| -> std::sync::Arc<str> { u.into() });
            links.cache.put(&code, target.clone());
            target.ok_or(Error::NotFound)?
        }
    };
    let location = HeaderValue::from_str(&url).map_err(Error::internal)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>());
    let head = method == Method::HEAD;
    let bot = if head {
        Some(Bot::Head)
    } else if bots::is_bot(user_agent.as_deref(), &state.config.links.bot_user_agents) {
        Some(Bot::UserAgent)
    } else {
        None
    };
    links.clicks.offer(
        Click {
            id: Uuid::now_v7(),
            code,
            at: OffsetDateTime::now_utc(),
            head,
            user_agent,
            bot,
        },
        &state.metrics,
    );
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response())
}

/// A campaign's short-link requests, newest first: people's clicks and machines' (`bot`
/// says why), with the recipient's message and contact.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}/clicks", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id"), Paged<ClickQuery>),
    responses(
        (status = 200, description = "Clicks", body = Page<ClickRow>),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_clicks(
    With(state, principal): With<Principal>,
    Path(campaign): Path<Uuid>,
    Paged { query: q, page }: Paged<ClickQuery>,
) -> Result<Json<Page<ClickRow>>> {
    reader(&principal)?;
    let scope = principal.scope();
    if !store::campaign_exists(&state.pool, scope, campaign).await? {
        return Err(Error::NotFound);
    }
    let kind = q.kind.unwrap_or_default();
    let rows = store::list_clicks(&state.pool, scope, campaign, kind, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |c| c.id)))
}
