//! The outbox publisher: takes due `message_outbox` rows in batches (`FOR UPDATE SKIP
//! LOCKED`, so several control-plane processes share the work), publishes one
//! [`SubmitRequest`] per message through the bus (`high` → the priority queue, else the
//! normal one), and once the broker confirmed a message marks it `queued` (with its event) and
//! deletes its outbox row, in the transaction that holds the lock.
//!
//! A crash, a lost connection or a confirm that does not come within `confirm_timeout_ms`
//! leaves the rows in the outbox, to be published again: delivery to the queue is
//! at-least-once and the engine de-duplicates by message id.
//!
//! On the in-process bus the "confirm" only means the request is in a queue in this
//! process's memory, which a stop loses: the row is kept, leased
//! ([`store::Confirm::InProcess`]), until the status consumer sees the engine's first status
//! for the message; when the publisher starts, the leases of messages still `queued` end and
//! they are published again ([`store::renew_leases`]). Over RabbitMQ the row goes at once. Which bus (RabbitMQ or
//! in-process) is the configuration's business ([`crate::bus::connect`]). Each pass first
//! asks the send gate ([`crate::accounts::gate::held_accounts`]): nothing is published while
//! the platform is halted, nothing of a halted or suspended organisation.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use semalink_bus::{Bus, Publisher};
use semalink_protocol::contracts::{self, Body, EncodingHint, Priority, RouteHints, SubmitRequest};
use serde::Deserialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::bus::Queues;
use crate::error::{Error, Result};
use crate::messages::store::{self, Outgoing};
use crate::messages::types::MessagePriority;
use crate::state::AppState;
use crate::worker::{Worker, pause};

/// `[publisher]`: how the outbox is drained.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublisherConfig {
    /// Outbox rows taken per transaction.
    pub batch: i64,
    /// How often an idle publisher looks for due rows (scheduled messages, other processes'
    /// sends); a send in this process wakes it at once.
    pub poll_interval_ms: u64,
    /// How long a batch waits for the broker's confirms before it is left for a later pass.
    pub confirm_timeout_ms: u64,
}

impl Default for PublisherConfig {
    fn default() -> PublisherConfig {
        PublisherConfig {
            batch: 500,
            poll_interval_ms: 250,
            confirm_timeout_ms: 10_000,
        }
    }
}

/// Drains the outbox onto the bus.
#[derive(Debug, Clone)]
pub struct OutboxPublisher {
    pool: PgPool,
    normal: Publisher<SubmitRequest>,
    priority: Publisher<SubmitRequest>,
    config: PublisherConfig,
    confirm: store::Confirm,
}

/// The submit request of one outgoing message.
fn submit_request(m: &Outgoing) -> SubmitRequest {
    SubmitRequest {
        version: contracts::VERSION,
        message_id: m.attempt_id.unwrap_or(m.id),
        account_id: m.account_id,
        destination: m.destination.clone(),
        sender: m.sender.clone(),
        body: Body::Text(m.body.clone()),
        encoding: if m.encoding == "ucs2" {
            EncodingHint::Ucs2
        } else {
            EncodingHint::Auto
        },
        priority: match m.priority {
            MessagePriority::High => Priority::High,
            MessagePriority::Normal => Priority::Normal,
        },
        route: RouteHints::default(),
        expires_at: m.expires_at,
        client_reference: m.client_reference.clone(),
        attempt: 0,
        created_at: m.created_at,
    }
}

impl OutboxPublisher {
    /// A publisher of `pool`'s outbox to `queues` on `bus` (one batching task for both lanes).
    pub fn new(
        pool: PgPool,
        bus: &Bus,
        queues: &Queues,
        config: PublisherConfig,
    ) -> Result<OutboxPublisher> {
        let normal = bus.publisher(&queues.normal).map_err(Error::internal)?;
        let priority = normal.to(&queues.priority);
        let confirm = match bus {
            Bus::Amqp(_) => store::Confirm::Durable,
            Bus::Memory(_) => store::Confirm::InProcess,
        };
        Ok(OutboxPublisher {
            pool,
            normal,
            priority,
            config,
            confirm,
        })
    }

    /// One pass: publishes up to `batch` due messages and marks the confirmed ones `queued`.
    /// Returns how many were taken (a full batch means more may be due).
    pub async fn drain_once(&self) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        // The send gate: nothing while the platform is halted, nothing of a halted or
        // suspended organisation (or one whose agent is suspended): their rows wait.
        let (platform, halted) = crate::accounts::gate::held_accounts(&mut *tx).await?;
        let rows = if platform {
            Vec::new()
        } else {
            store::claim_outbox(&mut tx, self.config.batch.max(1), &halted).await?
        };
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let mut pending = FuturesUnordered::new();
        let mut failed = Vec::new();
        for row in &rows {
            let lane = match row.priority {
                MessagePriority::High => &self.priority,
                MessagePriority::Normal => &self.normal,
            };
            match lane.send(submit_request(row)).await {
                Ok(confirm) => {
                    let id = row.id;
                    pending.push(async move { (id, confirm.await) });
                }
                Err(error) => {
                    tracing::warn!(%error, message_id = %row.id, "could not hand a message to the bus");
                    failed.push(row.id);
                }
            }
        }
        let deadline = tokio::time::sleep(Duration::from_millis(self.config.confirm_timeout_ms));
        tokio::pin!(deadline);
        let mut confirmed = Vec::with_capacity(rows.len());
        loop {
            tokio::select! {
                next = pending.next() => match next {
                    Some((id, Ok(()))) => confirmed.push(id),
                    Some((id, Err(error))) => {
                        tracing::warn!(%error, message_id = %id, "publish not confirmed");
                        failed.push(id);
                    }
                    None => break,
                },
                () = &mut deadline => {
                    tracing::warn!(unconfirmed = pending.len(), "broker confirms late; left in the outbox");
                    break;
                }
            }
        }
        drop(pending);
        let events: Vec<Uuid> = confirmed.iter().map(|_| Uuid::now_v7()).collect();
        store::mark_queued(&mut tx, &confirmed, &events, self.confirm).await?;
        tx.commit().await?;
        let unconfirmed: Vec<Uuid> = rows
            .iter()
            .map(|r| r.id)
            .filter(|id| !confirmed.contains(id))
            .collect();
        if !unconfirmed.is_empty() {
            store::count_attempt(&self.pool, &unconfirmed).await?;
        }
        Ok(rows.len())
    }

    /// On the in-process bus, the requests the previous process had in memory: the leased
    /// rows of messages still `queued` are due again ([`store::renew_leases`]). Nothing to do
    /// over RabbitMQ.
    pub async fn renew_leases(&self) -> Result<()> {
        if self.confirm == store::Confirm::InProcess {
            let (due, dropped) = store::renew_leases(&self.pool).await?;
            if due > 0 || dropped > 0 {
                tracing::info!(
                    due,
                    dropped,
                    "outbox leases of the previous run: unanswered messages published again"
                );
            }
        }
        Ok(())
    }

    /// Drains until `stop` (after [`Self::renew_leases`]): a full batch is followed at once by
    /// the next, otherwise it waits for a send in this process (`wake`) or the poll interval.
    pub async fn run(self, wake: std::sync::Arc<tokio::sync::Notify>, stop: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        while let Err(error) = self.renew_leases().await {
            tracing::warn!(%error, "could not renew the outbox leases");
            if !pause(poll, &stop).await {
                return;
            }
        }
        let full = usize::try_from(self.config.batch.max(1)).unwrap_or(usize::MAX);
        while !stop.is_cancelled() {
            match self.drain_once().await {
                Ok(n) if n >= full => continue,
                Ok(_) => {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(poll) => {}
                        () = stop.cancelled() => return,
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "outbox pass failed");
                    if !pause(poll, &stop).await {
                        return;
                    }
                }
            }
        }
    }
}

/// The `message_publisher` worker over the state's bus and pool.
pub fn worker(state: &AppState, stop: CancellationToken) -> Result<Worker> {
    let queues = Queues::of(state.config.amqp.as_ref());
    let publisher = OutboxPublisher::new(
        state.pool.clone(),
        &state.bus,
        &queues,
        state.config.publisher.clone(),
    )?;
    Ok(Worker::new(
        "message_publisher",
        publisher.run(state.outbox_wake.clone(), stop),
    ))
}
