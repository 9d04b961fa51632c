//! Results: what the engine reports comes back. The `status_consumer` worker applies the
//! status events of `sms.status` to messages, their parts and timeline, settles each final
//! message's reservation exactly once (delivered → charged, otherwise refunded; see
//! docs/results.md), keeps the analytics rollups and the campaign counters, and completes a
//! campaign with its report when its last message is final.
//!
//! * [`apply`] — the pure fold (monotonic states, multipart), unit-tested.
//! * [`attempts`] — which attempt of a retried message an event belongs to.
//! * [`store`] — one transaction per batch, set-based writes, settlement, completion.
//! * [`consumer`] — the worker: batching envelopes, ack after commit, retry, requeue.
//! * [`progress`] — live campaign progress over Server-Sent Events.

pub mod apply;
pub mod attempts;
pub mod consumer;
pub mod progress;
pub mod store;
mod write;

use tokio_util::sync::CancellationToken;

use crate::bus::Queues;
use crate::state::AppState;
use crate::worker::Worker;

/// The customer routes of the module: live campaign progress.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    progress::router()
}

/// The module's background workers: `[results] consumers` status consumers on the status
/// queue (each takes its own envelopes; PostgreSQL applies one transaction per core, and the
/// fold locks messages in id order, so they do not deadlock with each other).
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    let queue = Queues::of(state.config.amqp.as_ref()).status;
    let in_process = matches!(state.bus, semalink_bus::Bus::Memory(_));
    (0..state.config.results.consumers.max(1))
        .map(|_| {
            let consumer = consumer::StatusConsumer::new(
                state.pool.clone(),
                state.metrics.clone(),
                state.config.server.public_base_url.clone(),
                state.config.results.clone(),
            )
            .ending_leases(in_process);
            Worker::new(
                "status_consumer",
                consumer.run(state.bus.clone(), queue.clone(), stop.clone()),
            )
        })
        .collect()
}
