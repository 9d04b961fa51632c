//! The `status_consumer` worker: [`crate::bus::consume`] over the status queue (RabbitMQ, or
//! the in-process bus an engine in the same process publishes to) with
//! [`store::apply_leased_batch`] as the batch: up to `[results] batch_events` events per
//! transaction, envelopes acked after the commit, a replay harmless. Deadlocks and
//! serialization failures are retried; events for unknown messages and undecodable items
//! are counted and acked.

use std::sync::Arc;

use semalink_bus::Bus;
use semalink_protocol::contracts::StatusEvent;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::store::{self, Applied, ResultsConfig};
use crate::bus::Applier;
use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Attempts of one batch on a deadlock or serialization failure before it counts as failed.
const CONFLICT_ATTEMPTS: usize = 3;

/// Applies the status queue's events.
#[derive(Debug, Clone)]
pub struct StatusConsumer {
    pool: PgPool,
    metrics: Arc<Metrics>,
    base_url: String,
    config: ResultsConfig,
    end_leases: bool,
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
            end_leases: false,
        }
    }

    /// Also ends the outbox leases of the messages it hears of (the in-process bus:
    /// [`crate::messages::store::Confirm::InProcess`]).
    pub fn ending_leases(mut self, end: bool) -> StatusConsumer {
        self.end_leases = end;
        self
    }

    /// Consumes `queue` on `bus` until `stop`.
    pub async fn run(self, bus: Bus, queue: String, stop: CancellationToken) {
        let (prefetch, max) = (self.config.prefetch, self.config.batch_events);
        crate::bus::consume(bus, queue, prefetch, max, self, stop).await;
    }

    async fn apply_retrying(&self, events: &[StatusEvent]) -> Result<Applied> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let applied = store::apply_leased_batch(
                &self.pool,
                events,
                &self.config,
                &self.base_url,
                self.end_leases,
            );
            match applied.await {
                Err(error) if attempt < CONFLICT_ATTEMPTS && is_conflict(&error) => {
                    tracing::debug!(%error, attempt, "status batch conflicted; retrying");
                }
                other => return other,
            }
        }
    }
}

impl Applier<StatusEvent> for StatusConsumer {
    async fn apply(&self, events: &[StatusEvent]) -> Result<()> {
        let a = self.apply_retrying(events).await?;
        self.metrics.status_events("applied", a.applied);
        self.metrics.status_events("unchanged", a.unchanged);
        self.metrics.status_events("stale", a.stale);
        if a.unknown > 0 {
            tracing::warn!(
                events = a.unknown,
                "status events for unknown messages (another deployment's, or purged)"
            );
            self.metrics.status_events("unknown", a.unknown);
        }
        Ok(())
    }

    fn malformed(&self, n: usize) {
        self.metrics.status_events("malformed", n);
    }

    fn failed(&self, n: usize) {
        self.metrics.status_events("failed", n);
    }
}

/// A deadlock or serialization failure: the transaction may succeed when run again.
pub fn is_conflict(error: &Error) -> bool {
    matches!(error, Error::Database(sqlx::Error::Database(db))
        if db.code().is_some_and(|code| code == "40P01" || code == "40001"))
}
