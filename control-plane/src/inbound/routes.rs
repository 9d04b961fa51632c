//! `GET /v1/inbound` (the replies and keywords handsets sent the organisation, filtered by
//! number — the conversation with it —, action, campaign and time; cursor pages) and
//! `GET /v1/inbound/{id}`. Readers as for messages; another organisation's is a 404.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::store;
use super::types::{Inbound, InboundQuery};
use crate::error::{Error, Problem, Result};
use crate::http::reply::found;
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::Principal;
use crate::messages::routes::reader;
use crate::pricing::quote::Destination;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_inbound))
        .routes(routes!(get_inbound))
}

/// Inbound messages, newest first: replies, opt-outs (STOP, SIMAMA, …) and opt-ins (START).
#[utoipa::path(get, path = "/v1/inbound", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<InboundQuery>),
    responses(
        (status = 200, description = "Inbound messages", body = Page<Inbound>),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_inbound(
    With(state, principal): With<Principal>,
    Paged { query: q, page }: Paged<InboundQuery>,
) -> Result<Json<Page<Inbound>>> {
    reader(&principal)?;
    let scope = principal.scope();
    let from = match q.from.as_deref() {
        Some(input) => {
            let country = crate::contacts::store::account_country(&state.pool, scope).await?;
            let from = Destination::parse("from", input, &country)?;
            Some(from.msisdn.as_str().to_owned())
        }
        None => None,
    };
    if let (Some(since), Some(until)) = (q.since, q.until)
        && until <= since
    {
        return Err(Error::field("until", "must be after since"));
    }
    let rows = store::list(&state.pool, scope, &q, from.as_deref(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |m| m.id)))
}

/// One inbound message.
#[utoipa::path(get, path = "/v1/inbound/{inbound_id}", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("inbound_id" = Uuid, Path, description = "Inbound message id")),
    responses(
        (status = 200, description = "The inbound message", body = Inbound),
    ))]
async fn get_inbound(
    With(state, principal): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Inbound>> {
    reader(&principal)?;
    found(store::get(&state.pool, principal.scope(), id).await?).map(Json)
}
