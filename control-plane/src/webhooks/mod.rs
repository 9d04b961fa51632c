//! Webhooks customers can trust (docs/webhooks.md): endpoints per organisation subscribed to
//! event types, Standard Webhooks 1.0 signatures with secret rotation, an outbox written in
//! the transaction of each event, a sender pool with per-endpoint limits, timeouts, retries
//! with jittered exponential back-off for 24 hours, 410 and 24 hours of failure disabling an
//! endpoint (with a notification), an attempt log, replay and test-fire, and an SSRF guard at
//! registration and at every connection.
//!
//! * [`types`] — event types, endpoints; [`store`] — endpoint SQL; [`routes`] — endpoints API.
//! * [`events`] — writing events into the outbox (status batches set-based, notices, inbound).
//! * [`deliveries`] — the delivery log, attempts, replay.
//! * [`sender`] — the `webhook_sender` worker; [`client`] — its HTTP client;
//!   [`signing`] — signatures; [`ssrf`] — the address guard; [`config`] — `[webhooks]`.
//! * [`callbacks`] — the compatibility adapters' per-message callbacks (Kannel dlr-url,
//!   Africa's Talking callbackUrl) through the same outbox.

pub mod callbacks;
pub mod client;
pub mod config;
pub mod deliveries;
pub mod events;
pub mod routes;
pub mod sender;
pub mod signing;
pub mod ssrf;
pub mod store;
pub mod types;

use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::error::Result;
use crate::state::AppState;
use crate::worker::Worker;

/// The customer routes of the module: endpoints and the delivery log.
pub fn routes() -> OpenApiRouter<AppState> {
    routes::router()
        .merge(deliveries::routes::router())
        .merge(callbacks::routes::router())
}

/// The module's background worker: the sender.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Result<Vec<Worker>> {
    let sender = sender::Sender::new(
        state.pool.clone(),
        &state.config.webhooks,
        &state.config.server.public_base_url,
    )?;
    Ok(vec![Worker::new(
        "webhook_sender",
        sender.run(stop.clone()),
    )])
}
