//! The router: every resource's routes merged in one place, the OpenAPI document and Swagger
//! UI, and the cross-cutting layers (request id, metrics, security headers, CORS, timeout,
//! body limit, panic catching).

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware;
use axum::response::IntoResponse;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::Error;
use crate::http::layers::{self, MakeUuid, X_REQUEST_ID};
use crate::openapi::ApiDoc;
use crate::rate_limit;
use crate::state::AppState;
use crate::worker::Worker;
use crate::{
    accounts, admin, agents, analytics, api_keys, auth, campaigns, contacts, credits, crm, email,
    engineering, exports, imports, inbound, links, messages, notifications, ops, pricing, results,
    sender_ids, users, webhooks,
};

/// Every route of the service with its documentation, merged in this one place.
pub fn routes() -> OpenApiRouter<AppState> {
    modules()
        .into_iter()
        .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |all, m| {
            all.merge(m)
        })
}

/// Each feature's routes on their own (merged by [`routes`]): every feature's customer
/// `routes()`, then every feature's `staff_routes()` (`/v1/admin/...`). The OpenAPI test
/// compares their component schemas, since a merge silently keeps one of two types that
/// share a name.
pub fn modules() -> Vec<OpenApiRouter<AppState>> {
    vec![
        ops::routes(),
        auth::routes(),
        users::routes(),
        accounts::routes(),
        api_keys::routes(),
        notifications::routes(),
        sender_ids::routes(),
        contacts::routes(),
        imports::routes(),
        exports::routes(),
        pricing::routes(),
        credits::routes(),
        messages::routes(),
        inbound::routes(),
        analytics::routes(),
        results::routes(),
        campaigns::routes(),
        webhooks::routes(),
        agents::routes(),
        links::routes(),
        admin::staff_routes(),
        sender_ids::staff_routes(),
        pricing::staff_routes(),
        credits::staff_routes(),
        campaigns::staff_routes(),
        crm::staff_routes(),
        engineering::staff_routes(),
        agents::staff_routes(),
    ]
}

/// Every background worker of the service, merged in one place like the routes and filtered
/// by `[workers]`; each stops when `stop` is cancelled, but the status and inbound consumers
/// on `consumers` (the same token unless the bus is shared with an engine in this process).
pub fn workers(
    state: &AppState,
    stop: &CancellationToken,
    consumers: &CancellationToken,
) -> Result<Vec<Worker>, Error> {
    let mut all = email::workers(state, stop)?;
    all.extend(auth::workers(state, stop));
    all.extend(contacts::workers(state, stop));
    all.extend(messages::workers(state, stop)?);
    all.extend(results::workers(state, consumers));
    all.extend(inbound::workers(state, consumers));
    all.extend(campaigns::workers(state, stop));
    all.push(rate_limit::worker(state.limits.clone(), stop.clone()));
    all.extend(webhooks::workers(state, stop)?);
    all.extend(engineering::workers(state, stop));
    if state.config.workers.enabled("link_click_writer") {
        all.extend(links::workers(state, stop));
    }
    all.retain(|w| state.config.workers.enabled(w.name));
    Ok(all)
}

/// The OpenAPI document (what `/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = routes().split_for_parts().1;
    crate::openapi::document_common_errors(&mut api);
    api
}

/// The internal listener's routes (`server.metrics_bind`, loopback by default): `/metrics` for
/// Prometheus, and `/health` so the scraper can tell a dead process from a silent one.
pub fn internal(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(crate::ops::metrics))
        .route(
            "/health",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .with_state(state)
}

/// The complete application for a state.
pub fn app(state: AppState) -> Router {
    let (router, mut api) = routes().split_for_parts();
    crate::openapi::document_common_errors(&mut api);
    let server = &state.config.server;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            server
                .cors_allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            X_REQUEST_ID.clone(),
        ])
        .expose_headers([X_REQUEST_ID.clone(), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let body_limit = server.body_limit_bytes;
    router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .fallback(layers::not_found)
        .method_not_allowed_fallback(layers::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), MakeUuid))
                .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    layers::observe,
                ))
                .layer(middleware::from_fn(layers::security_headers))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    crm::impersonation::layer::impersonation,
                ))
                .layer(CatchPanicLayer::custom(|_| {
                    Error::internal("handler panicked").into_response()
                }))
                .layer(cors)
                .layer(HandleErrorLayer::new(layers::handle_layer_error))
                .layer(tower::timeout::TimeoutLayer::new(timeout))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}
