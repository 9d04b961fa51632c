//! HTTP ingress and operations endpoints (axum):
//!
//! * `POST /v1/messages` — one [`SubmitRequest`] or a JSON array of them; see [`submit`].
//! * `GET /health` — the process is alive (always 200).
//! * `GET /ready` — 200 when the readiness callback says so (at least one bind per route
//!   up, once the bind pool is wired), else 503.
//! * `GET /metrics` — Prometheus text.
//! * `GET /v1/receipts/unmatched` — the receipts this engine could not match: the count since
//!   start and the last 100 ([`crate::unmatched`]; the control plane's staff view reads it).
//!
//! * `POST /v1/upstreams/{name}/dlr?token=…` — a delivery report pushed by an HTTP upstream
//!   with `dlr_callback_token` ([`crate::celcom::HttpUpstream::pushed`]): 200 once handled,
//!   503 when it could not be (the provider pushes it again), 401 for a wrong token, 404 for
//!   an upstream without a callback, 400 for a body that is not one of its reports.
//!
//! `/v1/messages`, `/metrics` and `/v1/receipts/unmatched` need `Authorization: Bearer <http.token>` when a token is
//! configured (it must be outside `environment = "development"`): whoever reaches the ingress
//! could otherwise send SMS on any account. `/health` and `/ready` stay open for probes.
//! Every error — 401, 404, 405, 413, 415, 422 … — is the same JSON problem body
//! (`{"status": …, "detail": …}`).
//!
//! Accepted requests go into a bounded channel to the dispatcher; when it is full the
//! request waits (back-pressure), when it is closed the engine is shutting down (503).

pub mod submit;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use semalink_protocol::contracts::SubmitRequest;
use tokio::sync::mpsc;

use crate::celcom::{HttpUpstream, Pushed};
use crate::metrics::Metrics;
use crate::tracker::Tracker;

/// Whether the engine can take traffic now.
pub type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

/// What the dispatcher would say about a request before sending it (routing hints, segment
/// limits): `Err` is the reason it is refused at the door.
pub type Screen = Arc<dyn Fn(&SubmitRequest) -> Result<(), String> + Send + Sync>;

/// What the handlers share.
#[derive(Clone)]
pub struct IngressState {
    /// Accepted requests, to the dispatcher.
    pub queue: mpsc::Sender<SubmitRequest>,
    /// Idempotency by message id.
    pub tracker: Arc<Tracker>,
    /// Metrics (ingress counters, `/metrics`).
    pub metrics: Arc<Metrics>,
    /// The readiness callback of `/ready`.
    pub ready: Readiness,
    /// The dispatcher's checks, run on every item before it is accepted.
    pub screen: Screen,
    /// Most requests in one POST.
    pub max_batch: usize,
    /// Largest body in bytes.
    pub max_body_bytes: usize,
    /// The bearer token of `/v1/messages` and `/metrics`; `None` = open (development only).
    pub token: Option<Arc<str>>,
    /// HTTP upstreams whose receipts are pushed, by name.
    pub callbacks: Arc<HashMap<String, HttpUpstream>>,
}

impl std::fmt::Debug for IngressState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressState")
            .field("max_batch", &self.max_batch)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// The engine's HTTP routes.
pub fn router(state: IngressState) -> Router {
    let protected = Router::new()
        .route("/v1/messages", post(submit::handler))
        .route("/metrics", get(metrics))
        .route("/v1/receipts/unmatched", get(unmatched))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize));
    Router::new()
        .merge(protected)
        .route("/v1/upstreams/{name}/dlr", post(dlr_callback))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state)
}

/// Lets a request through only with the configured bearer token (any, when none is set).
async fn authorize(State(state): State<IngressState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    if given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    let mut response = problem(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token (Authorization: Bearer <http.token>)",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Compares without stopping at the first difference, so the answer time does not tell how
/// much of a guessed token was right.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A delivery report pushed by an HTTP upstream (see the module docs).
async fn dlr_callback(
    State(state): State<IngressState>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(upstream) = state.callbacks.get(&name) else {
        return not_found().await;
    };
    let token = query.get("token").map_or("", String::as_str);
    if !upstream.callback_token_is(token) {
        return problem(StatusCode::UNAUTHORIZED, "token: missing or wrong");
    }
    match upstream.pushed(&body).await {
        Pushed::Taken | Pushed::NotFinal => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": 200})),
        )
            .into_response(),
        Pushed::Unreadable => problem(
            StatusCode::BAD_REQUEST,
            "body: not a delivery report (JSON with message-id and delivery-description)",
        ),
        Pushed::Deferred => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the report could not be handled now; push it again",
        ),
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(State(state): State<IngressState>) -> impl IntoResponse {
    if (state.ready)() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics(State(state): State<IngressState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, Metrics::content_type())],
        state.metrics.render(),
    )
}

async fn unmatched(State(state): State<IngressState>) -> impl IntoResponse {
    axum::Json(state.metrics.unmatched_log.report())
}

async fn not_found() -> Response {
    problem(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this endpoint",
    )
}

/// The JSON problem body every error of the ingress answers with.
pub(crate) fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({ "status": status.as_u16(), "detail": detail });
    (status, axum::Json(body)).into_response()
}
