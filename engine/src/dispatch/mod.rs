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
//! * [`reconcile::run`] asks for parts whose final receipt never came (`query_sm`) or expires
//!   them (`no_receipt`).
//!
//! Work from RabbitMQ carries a [`Completion`]: each segment task reports how it ended and the
//! last report settles the message (ack, defer to the broker's retry queue, or leave it for
//! redelivery). Such segments stop retrying in-process at the completion's [`DeferLimits`].
//!
//! Delivery is at-least-once: a response timeout is retried, which can send a message twice
//! (see `docs/engine.md`). A message's segments already accepted upstream (recorded in the
//! correlation store) are not submitted again when the message comes a second time
//! ([`dedupe`]), and a message-level final event is published by exactly one engine (the one
//! whose [`CorrelationStore::claim_final`] succeeds).

mod dedupe;
pub mod events;
mod prepare;
pub mod reconcile;
mod segment;
pub mod sweeper;
mod work;

use std::sync::Arc;

use semalink_protocol::contracts::DeliveryState;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::task::TaskTracker;

use crate::config::UpstreamConfig;
use crate::correlation::CorrelationStore;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::retry::RetryPolicy;
use crate::routing::Router;
use crate::sink::StatusSink;
use crate::throttle::Throttle;
use crate::tracker::{Tracker, Transition};
use crate::upstream::Upstream;

pub use prepare::{PrepareError, SegmentJob, check};
pub use work::{Completion, DeferLimits, Outcome, SegmentEnd, Settled, Work};

/// Everything the pipeline's tasks share. Built once by the app; cheap to clone behind `Arc`.
pub struct Pipeline<S, K> {
    /// The upstreams, in config order (index = `CorrelationKey::upstream`).
    pub upstreams: Vec<UpstreamConfig>,
    /// One link (SMPP pool or HTTP API) per upstream, same order.
    pub pools: Vec<Upstream>,
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
    /// Parts waiting for their final receipt (see [`reconcile`]).
    pub awaiting: reconcile::Awaiting,
    /// Submits recorded before they leave, until answered (see
    /// [`crate::correlation::intents`]).
    pub intents: crate::correlation::intents::Intents,
}

impl<S, K> std::fmt::Debug for Pipeline<S, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("upstreams", &self.upstreams.len())
            .finish_non_exhaustive()
    }
}

impl<S, K> Pipeline<S, K> {
    /// The upstream to send on instead of `upstream`: its configured fallback, while
    /// `upstream` is down and the fallback is up.
    pub fn fallback(&self, upstream: usize) -> Option<usize> {
        if self.pools[upstream].is_up() {
            return None;
        }
        let name = self.upstreams[upstream].fallback.as_deref()?;
        let index = self.upstreams.iter().position(|u| u.name == name)?;
        self.pools[index].is_up().then_some(index)
    }
}

impl<S: CorrelationStore, K: StatusSink> Pipeline<S, K> {
    /// Publishes a transition the engine decided (not a receipt's: see [`events`]) and
    /// returns whether the sink took it (nothing to publish counts as taken). A message-level
    /// final event is claimed in the store first, so a message whose receipt another engine
    /// already turned into a published final event gets no second one (that counts as taken;
    /// a claim still being published elsewhere does not, and the work is tried again later);
    /// if the store cannot be asked, the event is published anyway (a possible duplicate beats
    /// a lost final). A published claim is confirmed in the store; when the sink refuses a
    /// claimed final, the claim is released so that the redelivered message can publish it. A sink failure is logged: the sinks only fail while
    /// the broker is away or the engine is stopping.
    pub async fn publish(&self, transition: Option<Transition>) -> bool {
        let Some(t) = transition else { return true };
        let message_id = t.event.message_id;
        let mut claimed = false;
        if t.event.segment.is_none() && t.event.state.is_final() {
            match self.store.claim_final(message_id).await {
                Ok(true) => claimed = true,
                Ok(false) => {
                    // Published (taken), or being published elsewhere (not yet: whoever
                    // retries finds it published or the claim lapsed).
                    let published = self.store.final_published(message_id).await;
                    tracing::debug!(%message_id, ?published, "final event claimed elsewhere");
                    return published.unwrap_or(false);
                }
                Err(e) => tracing::warn!(error = %e, "final event published unclaimed"),
            }
        }
        match self.emit(t).await {
            Ok(()) => {
                if claimed && let Err(e) = self.store.confirm_final(message_id).await {
                    tracing::warn!(error = %e, %message_id, "final event published, not confirmed in the store");
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "status event not published");
                if claimed && let Err(e) = self.store.release_final(message_id).await {
                    tracing::warn!(error = %e, %message_id, "final claim not released");
                }
                false
            }
        }
    }

    /// Counts a transition, feeds the latency histograms and hands the event to the sink;
    /// an error if the sink did not take it.
    pub async fn emit(&self, t: Transition) -> Result<()> {
        let event = t.event;
        let state = state_label(event.state);
        self.metrics.status_events.with_label_values(&[state]).inc();
        if let Some(elapsed) = t.elapsed {
            let seconds = elapsed.as_secs_f64();
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
        }
        tracing::debug!(message_id = %event.message_id, state, "status event");
        self.sink.publish_status(event).await
    }
}

/// The HTTP ingress's [`Screen`](crate::ingress::Screen): [`check`] against this pipeline's
/// routes and upstreams.
pub fn screen<S, K>(p: &Pipeline<S, K>) -> crate::ingress::Screen {
    let router = p.router.clone();
    let upstreams = p.upstreams.clone();
    std::sync::Arc::new(move |request| {
        check(&router, &upstreams, request).map_err(|e| e.to_string())
    })
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
    while let Some(work) = queue.recv().await {
        let Work { request, done } = work.into();
        // Derived from the id, not counted: a redelivered message whose first parts were
        // accepted must give its remaining parts the same concatenation reference.
        let reference = dedupe::reference(request.message_id);
        let jobs = match prepare::prepare(&pipeline, &request, reference) {
            Ok(jobs) => dedupe::skip_accepted(&pipeline, jobs).await,
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
