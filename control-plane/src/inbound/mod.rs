//! Inbound messages (MO) from the engine's `sms.inbound` queue: the `inbound_consumer`
//! worker routes each reply to the account that owns the conversation, opts the number out
//! on STOP / STOPALL / UNSUBSCRIBE / END / QUIT / CANCEL / SIMAMA (and `[inbound]`'s extra
//! keywords) with a `contact.opted_out` notification, back in on START / UNSTOP, and stores
//! every message for `GET /v1/inbound`.
//!
//! * [`keywords`] — what a reply asks for; [`store`] — routing, actions, reads;
//!   [`types`] — the API's shapes; [`routes`] — the endpoints.

pub mod keywords;
pub mod routes;
pub mod store;
pub mod types;

use std::sync::Arc;

use semalink_bus::Bus;
use semalink_protocol::contracts::InboundMessage;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::bus::{Applier, Queues};
use crate::error::Result;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::worker::Worker;
use keywords::InboundConfig;

/// The customer routes of the module.
pub use routes::router as routes;

/// Applies the inbound queue's messages.
#[derive(Debug, Clone)]
pub struct InboundConsumer {
    pool: PgPool,
    metrics: Arc<Metrics>,
    base_url: String,
    config: InboundConfig,
}

impl InboundConsumer {
    /// A consumer writing to `pool`.
    pub fn new(
        pool: PgPool,
        metrics: Arc<Metrics>,
        base_url: String,
        config: InboundConfig,
    ) -> InboundConsumer {
        InboundConsumer {
            pool,
            metrics,
            base_url,
            config,
        }
    }

    /// Consumes `queue` on `bus` until `stop`.
    pub async fn run(self, bus: Bus, queue: String, stop: CancellationToken) {
        crate::bus::consume(bus, queue, 8, 500, self, stop).await;
    }
}

impl Applier<InboundMessage> for InboundConsumer {
    async fn apply(&self, items: &[InboundMessage]) -> Result<()> {
        let a = store::apply_batch(&self.pool, items, &self.config, &self.base_url).await?;
        self.metrics
            .inbound_messages("stored", a.stored - a.unrouted);
        self.metrics.inbound_messages("unrouted", a.unrouted);
        self.metrics.inbound_messages("duplicate", a.duplicates);
        self.metrics.inbound_messages("opted_out", a.opted_out);
        self.metrics.inbound_messages("opted_in", a.opted_in);
        if a.unrouted > 0 {
            tracing::warn!(
                messages = a.unrouted,
                "inbound messages to an address no account talks from"
            );
        }
        Ok(())
    }

    fn malformed(&self, n: usize) {
        self.metrics.inbound_messages("malformed", n);
    }

    fn failed(&self, n: usize) {
        self.metrics.inbound_messages("failed", n);
    }
}

/// The module's background workers: the inbound consumer.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    let consumer = InboundConsumer::new(
        state.pool.clone(),
        state.metrics.clone(),
        state.config.server.public_base_url.clone(),
        state.config.inbound.clone(),
    );
    let queue = Queues::of(state.config.amqp.as_ref()).inbound;
    vec![Worker::new(
        "inbound_consumer",
        consumer.run(state.bus.clone(), queue, stop.clone()),
    )]
}
