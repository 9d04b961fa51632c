//! `/v1/webhooks/deliveries`: the delivery log (filter by endpoint, state, event type),
//! one delivery with its body and attempts, replay of one delivery, and replay of an
//! endpoint's deliveries in a time range. Admins and owners; another organisation's is a 404.

use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::store;
use super::types::{Delivery, DeliveryDetail, DeliveryQuery, ReplayRange, Replayed};
use crate::error::{Error, Problem, Result};
use crate::http::reply::found;
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this sub-resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(replay_delivery))
        .routes(routes!(replay_range))
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(Paged<DeliveryQuery>),
    responses(
        (status = 200, description = "Deliveries", body = Page<Delivery>),
    ))]
async fn list_deliveries(
    With(state, user): With<AuthUser>,
    Paged { query, page }: Paged<DeliveryQuery>,
) -> Result<Json<Page<Delivery>>> {
    user.require(Role::Admin)?;
    let rows = store::list(&state.pool, user.scope(), &query, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |d| d.id)))
}

/// One delivery: the exact body sent and every attempt (time, status, latency, answer).
#[utoipa::path(get, path = "/v1/webhooks/deliveries/{delivery_id}", tag = "webhooks", security(("bearer" = [])),
    params(("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryDetail),
    ))]
async fn get_delivery(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<DeliveryDetail>> {
    user.require(Role::Admin)?;
    let (delivery, body) = found(store::get(&state.pool, user.scope(), id).await?)?;
    let attempts_log = store::attempts(&state.pool, user.scope(), id).await?;
    Ok(Json(DeliveryDetail {
        delivery,
        body,
        attempts_log,
    }))
}

/// Replay one delivery now: the same `webhook-id` and body, a fresh 24-hour retry window.
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{delivery_id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "Queued again", body = Delivery),
    ))]
async fn replay_delivery(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<Delivery>> {
    user.require(Role::Admin)?;
    found(store::replay(&state.pool, user.scope(), id).await?).map(Json)
}

/// Replay an endpoint's deliveries of events in `[since, until)` (default: the last 24
/// hours), or only the failed ones.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{endpoint_id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")), request_body = ReplayRange,
    responses(
        (status = 200, description = "How many were queued again", body = Replayed),
        (status = 422, description = "until is not after since", body = Problem, content_type = "application/problem+json"),
    ))]
async fn replay_range(
    With(state, user): With<AuthUser>,
    Path(endpoint_id): Path<Uuid>,
    Json(req): Json<ReplayRange>,
) -> Result<Json<Replayed>> {
    user.require(Role::Admin)?;
    let now = OffsetDateTime::now_utc();
    let until = req.until.unwrap_or(now);
    let since = req.since.unwrap_or(until - time::Duration::days(1));
    if until <= since {
        return Err(Error::field("until", "must be after since"));
    }
    found(crate::webhooks::store::get(&state.pool, user.scope(), endpoint_id).await?)?;
    let replayed = store::replay_range(
        &state.pool,
        user.scope(),
        endpoint_id,
        since,
        until,
        req.only_failed,
    )
    .await?;
    Ok(Json(Replayed { replayed }))
}
