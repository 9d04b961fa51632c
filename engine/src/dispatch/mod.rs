//! The pipeline between the ingress queue and the SMPP pools, and back.
//!
//! * [`run_dispatcher`] takes [`Work`] (a [`SubmitRequest`](semalink_protocol::contracts::SubmitRequest) from the HTTP ingress or the
//!   RabbitMQ consumer) off its queue, routes and splits
//!   each (see [`prepare`]) and spawns one task per segment ([`segment`]): throttle, submit on
//!   the route's upstream pool, then correlate (`Accepted`), back off and retry (throttled,
//!   transient, ambiguous) or fail the message (permanent). Spawning is bounded by a
//!   semaphore per upstream sized from its windows, so a full upstream slows the dispatcher
//!   and, through the bounded queue, the HTTP ingress.
//! * [`events::run`] drains one pool's event stream: receipts are correlated and turned into
//!   status events, MO messages reassembled and published; each `deliver_sm` is acknowledged
//!   only after its event was handed to the sink.
//! * [`sweeper::run`] expires correlation entries, reports unmatched receipts and refreshes
//!   the gauges.
//!
//! Work from RabbitMQ carries a [`Completion`]: each segment task reports how it ended and the
//! last report settles the message (ack, defer to the broker's retry queue, or leave it for
//! redelivery). Such segments stop retrying in-process at the completion's [`DeferLimits`].
//!
//! Delivery is at-least-once: a response timeout is retried, which can send a message twice
//! (see `docs/engine.md`).

pub mod events;
mod prepare;
mod segment;
pub mod sweeper;
mod work;

use std::sync::Arc;

use semalink_protocol::contracts::DeliveryState;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::task::TaskTracker;

use crate::config::UpstreamConfig;
use crate::correlation::CorrelationStore;
use crate::metrics::Metrics;
use crate::retry::RetryPolicy;
use crate::routing::Router;
use crate::sink::StatusSink;
use crate::smpp::Pool;
use crate::throttle::Throttle;
use crate::tracker::{Tracker, Transition};

pub use prepare::{PrepareError, SegmentJob};
pub use work::{Completion, DeferLimits, Outcome, SegmentEnd, Settled, Work};

/// Everything the pipeline's tasks share. Built once by the app; cheap to clone behind `Arc`.
pub struct Pipeline<S, K> {
    /// The upstreams, in config order (index = `CorrelationKey::upstream`).
    pub upstreams: Vec<UpstreamConfig>,
    /// One pool per upstream, same order.
    pub pools: Vec<Pool>,
    /// Destination → route.
    pub router: Router,
    /// Token buckets per route and upstream.
    pub throttle: Throttle,
    /// Retry classification and back-off.
    pub retry: RetryPolicy,
    /// SMSC id → segment.
    pub store: Arc<S>,
    /// Where status events and MO messages go.
    pub sink: Arc<K>,
    /// Per-message state.
    pub tracker: Arc<Tracker>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
}

impl<S, K> std::fmt::Debug for Pipeline<S, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("upstreams", &self.upstreams.len())
            .finish_non_exhaustive()
    }
}

impl<S: CorrelationStore, K: StatusSink> Pipeline<S, K> {
    /// Counts a transition, feeds the latency histograms and hands the event to the sink.
    /// Returns whether the sink took it (nothing to publish counts as taken). A sink failure
    /// is logged: the sinks only fail once the engine is stopping.
    pub async fn publish(&self, transition: Option<Transition>) -> bool {
        let Some(t) = transition else { return true };
        let event = t.event;
        let state = state_label(event.state);
        self.metrics.status_events.with_label_values(&[state]).inc();
        let seconds = t.elapsed.as_secs_f64();
        if event.state == DeliveryState::Sent {
            let upstream = event.upstream.as_deref().unwrap_or("");
            self.metrics
                .accept_to_sent
                .with_label_values(&[upstream])
                .observe(seconds);
        } else if event.state.is_final() {
            self.metrics
                .accept_to_final
                .with_label_values(&[state])
                .observe(seconds);
        }
        tracing::debug!(message_id = %event.message_id, state, "status event");
        match self.sink.publish_status(event).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "status event not published");
                false
            }
        }
    }
}

/// The `state` label / log word of a delivery state.
pub fn state_label(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Accepted => "accepted",
        DeliveryState::Sent => "sent",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
        DeliveryState::Expired => "expired",
        DeliveryState::Rejected => "rejected",
        DeliveryState::Intermediate => "intermediate",
    }
}

/// Consumes a work queue until it is closed and empty. Each segment runs as its own task on
/// `tasks`; at most `permits[upstream]` segments of an upstream are in flight (the permits are
/// shared by every dispatcher of the engine).
pub async fn run_dispatcher<S: CorrelationStore, K: StatusSink, W: Into<Work>>(
    pipeline: Arc<Pipeline<S, K>>,
    mut queue: mpsc::Receiver<W>,
    permits: Vec<Arc<Semaphore>>,
    tasks: TaskTracker,
) {
    let mut reference: u16 = fastrand::u16(..);
    while let Some(work) = queue.recv().await {
        let Work { request, done } = work.into();
        reference = reference.wrapping_add(1);
        let jobs = match prepare::prepare(&pipeline, &request, reference) {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::info!(message_id = %request.message_id, error = %e, "not sendable");
                let t =
                    pipeline
                        .tracker
                        .finish(request.message_id, e.state(), None, &e.to_string());
                let published = pipeline.publish(t).await;
                if let Some(done) = done {
                    done.finish(if published {
                        SegmentEnd::Decided
                    } else {
                        SegmentEnd::Unpublished
                    });
                }
                continue;
            }
        };
        if let Some(done) = &done {
            done.expect(jobs.len() as u32);
        }
        for job in jobs {
            let Ok(permit) = Arc::clone(&permits[job.upstream]).acquire_owned().await else {
                return;
            };
            let pipeline = Arc::clone(&pipeline);
            let done = done.clone();
            tasks.spawn(async move {
                let limits = done.as_ref().map(Completion::limits);
                let end = segment::send(&pipeline, job, limits).await;
                drop(permit);
                if let Some(done) = done {
                    done.segment(end);
                }
            });
        }
    }
}
