//! The HTTP control endpoint: `GET /stats` (JSON), `GET /metrics` (Prometheus),
//! `GET|POST /config` (behaviour; POST merges a partial JSON object), `POST /reset`,
//! `POST /mo` (inject a mobile-originated message), `POST /disconnect` (drop every connection
//! now), `GET /health`; and the Celcom-style HTTP API under `/api/services/` ([`super::celcom`]).

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{Behaviour, SimHandle, metrics};

/// Serves until the simulator shuts down.
pub async fn serve(listener: TcpListener, handle: SimHandle) {
    let cancel = handle.shared.cancel.clone();
    let app = router(handle);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
    {
        tracing::warn!(error = %e, "http endpoint stopped");
    }
}

fn router(handle: SimHandle) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .route("/metrics", get(prometheus))
        .route("/config", get(config).post(update_config))
        .route("/reset", post(reset))
        .route("/mo", post(mo))
        .route("/disconnect", post(disconnect))
        .route("/api/services/sendsms/", post(super::celcom::sendsms))
        .route("/api/services/sendbulk/", post(super::celcom::sendbulk))
        .route("/api/services/getdlr/", post(super::celcom::getdlr))
        .route("/api/services/getbalance/", post(super::celcom::getbalance))
        .with_state(handle)
}

async fn stats(State(h): State<SimHandle>) -> impl IntoResponse {
    Json(h.stats())
}

async fn prometheus(State(h): State<SimHandle>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics::render(&h.stats()),
    )
}

async fn config(State(h): State<SimHandle>) -> impl IntoResponse {
    Json(h.behaviour())
}

/// Merges `patch` into `base` (objects recursively, everything else replaced).
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

async fn update_config(State(h): State<SimHandle>, Json(patch): Json<Value>) -> Response {
    let mut current = match serde_json::to_value(h.behaviour()) {
        Ok(v) => v,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    merge(&mut current, patch);
    let behaviour: Behaviour = match serde_json::from_value(current) {
        Ok(b) => b,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    match h.set_behaviour(behaviour) {
        Ok(()) => Json(h.behaviour()).into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}

async fn disconnect(State(h): State<SimHandle>) -> StatusCode {
    h.disconnect_all();
    StatusCode::NO_CONTENT
}

async fn reset(State(h): State<SimHandle>) -> StatusCode {
    h.reset_stats();
    StatusCode::NO_CONTENT
}

/// `POST /mo` body.
#[derive(Debug, Deserialize)]
struct Mo {
    from: String,
    to: String,
    text: String,
    system_id: Option<String>,
}

async fn mo(State(h): State<SimHandle>, Json(mo): Json<Mo>) -> Response {
    if h.inject_mo(
        mo.system_id.as_deref(),
        &mo.from,
        &mo.to,
        mo.text.as_bytes(),
    ) {
        StatusCode::ACCEPTED.into_response()
    } else {
        (StatusCode::CONFLICT, "no receiver bind for that system id").into_response()
    }
}
