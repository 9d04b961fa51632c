//! Messages: the messages API (send one text to up to 10,000 recipients, read a message, the
//! list, a message's timeline), `Idempotency-Key` for the sending endpoints, and the outbox
//! publisher that hands accepted messages to the engine's queues.
//!
//! * [`send`] — the service every sending endpoint calls: normalise, exclude, price, reserve
//!   once, write messages + events + outbox rows in one statement.
//! * [`idempotency`] — claim, replay, conflict; the 24-hour purge worker.
//! * [`publisher`] — the `message_publisher` worker (outbox → bus, `queued` after the confirm).
//! * [`kannel`] — Kannel's `GET /cgi-bin/sendsms` onto [`send`]; [`africastalking`] — Africa's
//!   Talking's `POST /version1/messaging` onto it.
//! * [`store`] — the SQL; [`types`] — requests, answers, statuses; [`routes`] — the endpoints.

pub mod africastalking;
pub mod idempotency;
pub mod kannel;
pub mod publisher;
pub mod routes;
pub mod send;
pub mod store;
pub mod types;

use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::error::Result;
use crate::state::AppState;
use crate::worker::Worker;

/// The customer routes of the module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(kannel::routes::router())
        .merge(africastalking::routes::router())
}

/// The module's background workers: the outbox publisher and the idempotency-key purge.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Result<Vec<Worker>> {
    Ok(vec![
        publisher::worker(state, stop.clone())?,
        idempotency::purge_worker(state.pool.clone(), stop.clone()),
    ])
}
