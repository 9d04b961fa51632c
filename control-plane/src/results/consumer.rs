//! The `status_consumer` worker: takes envelopes of [`StatusEvent`]s off the status queue
//! (RabbitMQ, or the in-process bus an engine in the same process publishes to), gathers
//! those already waiting up to `[results] batch_events`, applies them in one transaction
//! ([`store::apply_batch`]) and acks the envelopes after the commit.
//!
//! A crash between commit and ack makes the broker redeliver: the batch is applied again
//! and changes nothing. A batch that fails is retried envelope by envelope, so one bad
//! envelope does not hold the others back; an envelope that still fails is requeued (on a
//! quorum queue its `x-delivery-limit` dead-letters a poison envelope) after a short pause.
//! Events for unknown messages and undecodable items are counted and acked.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use semalink_bus::{Bus, Delivery};
use semalink_protocol::contracts::StatusEvent;
use sqlx::PgPool;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use super::store::{self, Applied, ResultsConfig};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::worker::pause;

/// How long a failing consumer waits before taking envelopes again.
const FAILURE_PAUSE: Duration = Duration::from_millis(500);

/// Attempts of one batch on a deadlock or serialization failure before it counts as failed.
const CONFLICT_ATTEMPTS: usize = 3;

/// Applies the status queue's events.
#[derive(Debug, Clone)]
pub struct StatusConsumer {
    pool: PgPool,
    metrics: Arc<Metrics>,
    base_url: String,
    config: ResultsConfig,
}

impl StatusConsumer {
    /// A consumer writing to `pool`.
    pub fn new(
        pool: PgPool,
        metrics: Arc<Metrics>,
        base_url: String,
        config: ResultsConfig,
    ) -> StatusConsumer {
        StatusConsumer {
            pool,
            metrics,
            base_url,
            config,
        }
    }

    /// Consumes `queue` on `bus` until `stop`.
    pub async fn run(self, bus: Bus, queue: String, stop: CancellationToken) {
        let mut sub = match bus.subscribe::<StatusEvent>(&queue, self.config.prefetch.max(1)) {
            Ok(sub) => sub,
            Err(error) => {
                tracing::error!(%error, %queue, "cannot consume the status queue");
                return;
            }
        };
        let max = self.config.batch_events.max(1);
        loop {
            let first = tokio::select! {
                d = sub.recv() => d,
                () = stop.cancelled() => break,
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            let mut events = batch[0].len();
            // Whatever is already waiting joins the batch; nothing waits for more.
            while events < max {
                let next = poll_fn(|cx| match sub.poll_recv(cx) {
                    Poll::Ready(d) => Poll::Ready(d),
                    Poll::Pending => Poll::Ready(None),
                })
                .await;
                let Some(d) = next else { break };
                events += d.len();
                batch.push(d);
            }
            if !self.handle(batch).await && !pause(FAILURE_PAUSE, &stop).await {
                break;
            }
        }
        sub.cancel();
    }

    /// Applies and settles `batch`; false when some envelope had to be requeued.
    pub async fn handle(&self, batch: Vec<Delivery<StatusEvent>>) -> bool {
        let mut envelopes = Vec::with_capacity(batch.len());
        for mut d in batch {
            let mut events = Vec::with_capacity(d.len());
            for item in d.take_items() {
                match item {
                    Ok(e) => events.push(e),
                    Err(bad) => {
                        tracing::warn!(error = %bad.error, "undecodable status event dropped");
                        self.metrics.status_events("malformed", 1);
                    }
                }
            }
            envelopes.push((d, events));
        }
        let all: Vec<StatusEvent> = envelopes.iter().flat_map(|(_, e)| e.clone()).collect();
        match self.apply(&all).await {
            Ok(applied) => {
                self.record(&applied);
                for (d, _) in envelopes {
                    d.ack().await;
                }
                true
            }
            Err(error) => {
                tracing::warn!(%error, envelopes = envelopes.len(), "status batch failed; applying envelope by envelope");
                let mut ok = true;
                for (d, events) in envelopes {
                    match self.apply(&events).await {
                        Ok(applied) => {
                            self.record(&applied);
                            d.ack().await;
                        }
                        Err(error) => {
                            tracing::error!(%error, events = events.len(), "status envelope failed; requeued");
                            self.metrics.status_events("failed", events.len());
                            d.requeue(events).await;
                            ok = false;
                        }
                    }
                }
                ok
            }
        }
    }

    async fn apply(&self, events: &[StatusEvent]) -> Result<Applied> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store::apply_batch(&self.pool, events, &self.config, &self.base_url).await {
                Err(error) if attempt < CONFLICT_ATTEMPTS && is_conflict(&error) => {
                    tracing::debug!(%error, attempt, "status batch conflicted; retrying");
                }
                other => return other,
            }
        }
    }

    fn record(&self, a: &Applied) {
        self.metrics.status_events("applied", a.applied);
        self.metrics.status_events("unchanged", a.unchanged);
        if a.unknown > 0 {
            tracing::warn!(
                events = a.unknown,
                "status events for unknown messages (another deployment's, or purged)"
            );
            self.metrics.status_events("unknown", a.unknown);
        }
    }
}

/// A deadlock or serialization failure: the transaction may succeed when run again.
fn is_conflict(error: &Error) -> bool {
    matches!(error, Error::Database(sqlx::Error::Database(db))
        if db.code().is_some_and(|code| code == "40P01" || code == "40001"))
}
