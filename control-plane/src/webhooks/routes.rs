//! `/v1/webhooks/endpoints`: register (the signing secret shown once), list, read, change,
//! delete, rotate the secret with an overlap, and test-fire a sample event. Admins and
//! owners; another organisation's endpoint is a 404.

use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::deliveries::types::{Delivery, TestFire};
use super::ssrf::Guard;
use super::types::{
    CreateEndpoint, CreatedEndpoint, Endpoint, EventType, RotateSecret, RotatedSecret,
    UpdateEndpoint, check,
};
use super::{events, signing, store};
use crate::error::{Error, Problem, Result};
use crate::http::reply::{found, gone};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(test_fire))
}

/// The SSRF guard on a URL being registered: its form and where it resolves now.
async fn guard_url(state: &AppState, url: &str) -> Result<()> {
    let guard = Guard::new(&state.config.webhooks).map_err(Error::internal)?;
    guard
        .check_url(url)
        .await
        .map_err(|e| Error::field("url", &e.to_string()))
}

/// Register an endpoint. The signing secret is in this response only.
#[utoipa::path(post, path = "/v1/webhooks/endpoints", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateEndpoint,
    responses(
        (status = 201, description = "Registered; store the secret now", body = CreatedEndpoint),
        (status = 422, description = "Invalid field, or the URL is not https or reaches a forbidden address", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_endpoint(
    With(state, user): With<AuthUser>,
    Json(req): Json<CreateEndpoint>,
) -> Result<(StatusCode, Json<CreatedEndpoint>)> {
    user.require(Role::Admin)?;
    let c = check(
        Some(&req.url),
        req.description.as_deref(),
        Some(&req.event_types),
        req.max_in_flight,
    )?;
    guard_url(&state, c.url.as_deref().unwrap_or_default()).await?;
    let secret = signing::new_secret();
    let endpoint = store::insert(&state.pool, user.scope(), &c, &secret).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint { endpoint, secret }),
    ))
}

/// The organisation's endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhooks/endpoints", tag = "webhooks", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Endpoints (no secrets)", body = Page<Endpoint>),
    ))]
async fn list_endpoints(
    With(state, user): With<AuthUser>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<Endpoint>>> {
    user.require(Role::Admin)?;
    let rows = store::list(&state.pool, user.scope(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id)))
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = Endpoint),
    ))]
async fn get_endpoint(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<Endpoint>> {
    user.require(Role::Admin)?;
    found(store::get(&state.pool, user.scope(), id).await?).map(Json)
}

/// Change an endpoint (URL, label, subscriptions, in-flight limit); `enabled: true` turns a
/// disabled endpoint back on and clears its failure state.
#[utoipa::path(patch, path = "/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")), request_body = UpdateEndpoint,
    responses(
        (status = 200, description = "The changed endpoint", body = Endpoint),
    ))]
async fn update_endpoint(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateEndpoint>,
) -> Result<Json<Endpoint>> {
    user.require(Role::Admin)?;
    let c = check(
        req.url.as_deref(),
        req.description.as_deref(),
        req.event_types.as_deref(),
        req.max_in_flight,
    )?;
    found(store::get(&state.pool, user.scope(), id).await?)?;
    if let Some(url) = &c.url {
        guard_url(&state, url).await?;
    }
    found(store::update(&state.pool, user.scope(), id, &c, req.enabled).await?).map(Json)
}

/// Delete an endpoint and its delivery log.
#[utoipa::path(delete, path = "/v1/webhooks/endpoints/{endpoint_id}", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
    ))]
async fn delete_endpoint(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    user.require(Role::Admin)?;
    gone(store::delete(&state.pool, user.scope(), id).await?)
}

/// Rotate the signing secret. The new secret is in this response only; the previous one
/// keeps signing (both signatures in `webhook-signature`) for `overlap_seconds`.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")), request_body = RotateSecret,
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
    ))]
async fn rotate_secret(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
    Json(req): Json<RotateSecret>,
) -> Result<Json<RotatedSecret>> {
    user.require(Role::Admin)?;
    let until = req.overlap_until(state.config.webhooks.rotation_overlap_secs)?;
    found(store::rotate(&state.pool, user.scope(), id, until).await?).map(Json)
}

/// Test-fire: queue a signed sample event of the chosen type (`"test": true` in its data) to
/// this endpoint; it is delivered and logged like any delivery.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{endpoint_id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("endpoint_id" = Uuid, Path, description = "Endpoint id")), request_body = TestFire,
    responses(
        (status = 202, description = "Queued; follow it in the delivery log", body = Delivery),
        (status = 409, description = "The endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    ))]
async fn test_fire(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
    Json(req): Json<TestFire>,
) -> Result<(StatusCode, Json<Delivery>)> {
    user.require(Role::Admin)?;
    let mut tx = state.pool.begin().await?;
    let endpoint = found(store::get(&mut *tx, user.scope(), id).await?)?;
    if !endpoint.enabled {
        return Err(Error::Conflict("the endpoint is disabled: enable it first"));
    }
    let event = req.event_type.unwrap_or(EventType::MessageDelivered);
    let delivery_id = events::test_fire(&mut tx, user.account_id, id, event).await?;
    let delivery = super::deliveries::store::get(&mut *tx, user.scope(), delivery_id).await?;
    let delivery = found(delivery)?.0;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
