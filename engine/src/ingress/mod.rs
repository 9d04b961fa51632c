//! HTTP ingress and operations endpoints (axum):
//!
//! * `POST /v1/messages` — one [`SubmitRequest`] or a JSON array of them; see [`submit`].
//! * `GET /health` — the process is alive (always 200).
//! * `GET /ready` — 200 when the readiness callback says so (at least one bind per route
//!   up, once the bind pool is wired), else 503.
//! * `GET /metrics` — Prometheus text.
//!
//! Accepted requests go into a bounded channel to the dispatcher; when it is full the
//! request waits (back-pressure), when it is closed the engine is shutting down (503).

pub mod submit;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use semalink_protocol::contracts::SubmitRequest;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::tracker::Tracker;

/// Whether the engine can take traffic now.
pub type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

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
    /// Most requests in one POST.
    pub max_batch: usize,
}

impl std::fmt::Debug for IngressState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressState")
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

/// The engine's HTTP routes.
pub fn router(state: IngressState) -> Router {
    Router::new()
        .route("/v1/messages", post(submit::handler))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
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
