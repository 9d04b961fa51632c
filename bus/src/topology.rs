//! The queue topology in one place: the names of the four queues, the retry queues
//! `<queue>.retry.<delay>ms` (message TTL, dead-lettered back to `<queue>` on the default
//! exchange), the queue type and its arguments, and their idempotent declaration.
//!
//! Every queue is durable and bound to the default exchange (its name is its routing key).
//! * `classic` (the default): no arguments, the same declaration older builds made, so an
//!   existing broker keeps its queues.
//! * `quorum`: `x-queue-type = quorum` (Raft-replicated, what a RabbitMQ cluster runs in
//!   production) and, with a non-zero `delivery_limit`, `x-delivery-limit`: a message
//!   redelivered that often (a poison message that crashes every consumer) is dropped, or
//!   dead-lettered where a policy says so, instead of looping forever.
//!
//! Declaring a queue that exists with other arguments fails with the broker's
//! `PRECONDITION_FAILED`, reported as [`Error::Declare`] naming the queue: changing a queue's
//! type means draining and deleting it first.

use std::time::Duration;

use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable};
use serde::Deserialize;

use crate::error::{Error, Result};

/// Submit requests of the `high` lane.
pub const PRIORITY_QUEUE: &str = "sms.priority";
/// Submit requests of the `normal` lane.
pub const NORMAL_QUEUE: &str = "sms.normal";
/// Status events.
pub const STATUS_QUEUE: &str = "sms.status";
/// Mobile-originated messages.
pub const INBOUND_QUEUE: &str = "sms.inbound";

/// The RabbitMQ queue type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    /// A classic queue (one node).
    #[default]
    Classic,
    /// A quorum queue (replicated).
    Quorum,
}

/// The queues of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// `sms.priority` unless configured.
    pub priority: String,
    /// `sms.normal` unless configured.
    pub normal: String,
    /// `sms.status` unless configured.
    pub status: String,
    /// `sms.inbound` unless configured.
    pub inbound: String,
    /// The retry delays of the submit queues (deduplicated, in the given order).
    pub delays: Vec<Duration>,
    /// The type of every queue.
    pub queue_type: QueueType,
    /// Quorum queues: deliveries of one message before the broker drops it (0 = no limit).
    pub delivery_limit: u32,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            priority: PRIORITY_QUEUE.into(),
            normal: NORMAL_QUEUE.into(),
            status: STATUS_QUEUE.into(),
            inbound: INBOUND_QUEUE.into(),
            delays: Vec::new(),
            queue_type: QueueType::Classic,
            delivery_limit: 0,
        }
    }
}

/// The retry queue of `queue` for `delay`: `<queue>.retry.<delay>ms`.
pub fn retry_queue(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", delay.as_millis())
}

impl Topology {
    /// With retry queues for `delays_ms` (repeated delays declared once).
    pub fn with_delays(mut self, delays_ms: &[u64]) -> Topology {
        self.delays.clear();
        for &ms in delays_ms {
            let d = Duration::from_millis(ms);
            if !self.delays.contains(&d) {
                self.delays.push(d);
            }
        }
        self
    }

    /// The four main queues.
    pub fn queues(&self) -> [&str; 4] {
        [&self.priority, &self.normal, &self.status, &self.inbound]
    }

    /// Every queue name, retry queues included (what a test deletes afterwards).
    pub fn all_queues(&self) -> Vec<String> {
        let mut all: Vec<String> = self.queues().iter().map(|q| q.to_string()).collect();
        for queue in [&self.priority, &self.normal] {
            all.extend(self.delays.iter().map(|&d| retry_queue(queue, d)));
        }
        all
    }

    /// The arguments every queue gets from its type.
    pub fn type_arguments(&self) -> FieldTable {
        let mut args = FieldTable::default();
        if self.queue_type == QueueType::Quorum {
            args.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("quorum".into()),
            );
            if self.delivery_limit > 0 {
                let limit = i64::from(self.delivery_limit);
                args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
            }
        }
        args
    }

    /// The arguments of the retry queue of `queue` for `delay`.
    pub fn retry_arguments(&self, queue: &str, delay: Duration) -> FieldTable {
        let mut args = self.type_arguments();
        let ttl = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
        args.insert("x-message-ttl".into(), AMQPValue::LongUInt(ttl));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(queue.into()),
        );
        args
    }

    /// Declares every queue (idempotent).
    pub async fn declare(&self, channel: &Channel) -> Result<()> {
        for queue in self.queues() {
            declare_queue(channel, queue, self.type_arguments()).await?;
        }
        for queue in [&self.priority, &self.normal] {
            for &delay in &self.delays {
                let args = self.retry_arguments(queue, delay);
                declare_queue(channel, &retry_queue(queue, delay), args).await?;
            }
        }
        Ok(())
    }
}

/// Declares one durable queue with `args` (idempotent), for tools that need a single queue
/// of the topology (the fault scenario's status reader).
pub async fn declare_queue(channel: &Channel, queue: &str, args: FieldTable) -> Result<()> {
    channel
        .queue_declare(queue.into(), QueueDeclareOptions::durable(), args)
        .await
        .map_err(|source| Error::Declare {
            queue: queue.to_owned(),
            source,
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_queues_are_named_by_delay_and_repeated_delays_declared_once() {
        let t = Topology::default().with_delays(&[1_000, 5_000, 5_000, 1_000]);
        assert_eq!(t.delays, [Duration::from_secs(1), Duration::from_secs(5)]);
        assert_eq!(
            retry_queue(&t.normal, t.delays[1]),
            "sms.normal.retry.5000ms"
        );
        assert_eq!(t.all_queues().len(), 4 + 2 * 2);
    }

    #[test]
    fn classic_queues_have_no_arguments_and_quorum_ones_their_type_and_limit() {
        let classic = Topology::default();
        assert!(classic.type_arguments().inner().is_empty());
        let quorum = Topology {
            queue_type: QueueType::Quorum,
            delivery_limit: 5,
            ..Topology::default()
        };
        let args = quorum.type_arguments();
        let args = args.inner();
        assert_eq!(
            args.get("x-queue-type"),
            Some(&AMQPValue::LongString("quorum".into()))
        );
        assert_eq!(
            args.get("x-delivery-limit"),
            Some(&AMQPValue::LongLongInt(5))
        );
        let retry = quorum.retry_arguments("q", Duration::from_millis(250));
        assert_eq!(
            retry.inner().get("x-message-ttl"),
            Some(&AMQPValue::LongUInt(250))
        );
    }
}
