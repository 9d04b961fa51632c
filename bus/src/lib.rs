//! The transport of the queue contracts (`semalink_protocol::contracts`) shared by the engine,
//! the control plane and the load generator; none of them touches lapin.
//!
//! * [`topology`]: queue names, the retry queues, queue type and arguments, declaration.
//! * [`Publisher<T>`]: batching by size and time, one confirm future per item, bounded.
//! * [`Subscription<T>`] yielding [`Delivery<T>`]: the items of one envelope, settled once
//!   ([`Delivery::ack`], or [`Delivery::requeue`] with the undecided items).
//! * Two implementations behind [`Bus`]: [`amqp`] (RabbitMQ: supervised connection,
//!   reconnect with jittered back-off, resumed consumption, readiness) and [`memory`]
//!   (bounded in-process queues for the embedded and one-process modes).

pub mod amqp;
mod backoff;
mod delivery;
mod error;
pub mod memory;
mod publisher;
mod subscription;
pub mod topology;

pub use backoff::Backoff;
pub use delivery::Delivery;
pub use error::{Error, Result};
pub use publisher::{BatchConfig, Confirm, Message, Publisher};
pub use subscription::Subscription;
pub use topology::{QueueType, Topology};

use tokio::sync::watch;

/// What a queue holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    /// Messages (envelopes) ready for delivery.
    pub messages: u64,
    /// Consumers attached.
    pub consumers: u64,
}

/// The bus a service runs on: RabbitMQ, or in-process. Code above holds one of these and
/// never needs to know which.
#[derive(Debug, Clone)]
pub enum Bus {
    /// RabbitMQ.
    Amqp(amqp::AmqpBus),
    /// In-process.
    Memory(memory::MemoryBus),
}

impl Bus {
    /// A batching publisher to `queue` (create once, clone: each call starts a task).
    pub fn publisher<T: Message>(&self, queue: &str) -> Result<Publisher<T>> {
        match self {
            Bus::Amqp(b) => Ok(b.publisher(queue)),
            Bus::Memory(b) => b.publisher(queue),
        }
    }

    /// The envelopes of `queue`, at most `prefetch` unsettled at a time over RabbitMQ.
    pub fn subscribe<T: Message>(&self, queue: &str, prefetch: u16) -> Result<Subscription<T>> {
        match self {
            Bus::Amqp(b) => Ok(b.subscribe(queue, prefetch)),
            Bus::Memory(b) => b.subscribe(queue),
        }
    }

    /// Messages waiting in `queue` and consumers attached to it: an AMQP passive declare (no
    /// management plugin needed) on a short-lived channel, or the in-process queue's own
    /// counters. `None` when the queue does not exist (or, over RabbitMQ, while disconnected).
    pub async fn queue_stats(&self, queue: &str) -> Result<Option<QueueStats>> {
        match self {
            Bus::Amqp(b) => b.queue_stats(queue).await,
            Bus::Memory(b) => Ok(b.queue_stats(queue)),
        }
    }

    /// Whether the bus can carry messages now (always true in-process), and its changes.
    /// The in-process bus's watch stays open (a process-wide sender that never changes): a
    /// closed one reads as "the supervisor is gone", and watchers report the bus down.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        static ALWAYS_UP: std::sync::LazyLock<watch::Sender<bool>> =
            std::sync::LazyLock::new(|| watch::Sender::new(true));
        match self {
            Bus::Amqp(b) => b.readiness(),
            Bus::Memory(_) => ALWAYS_UP.subscribe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_process_bus_is_ready_and_its_readiness_stays_open() {
        let bus = Bus::Memory(memory::MemoryBus::new(4, BatchConfig::default()));
        let ready = bus.readiness();
        assert!(*ready.borrow());
        // A closed watch (sender dropped) reads as a dead supervisor to its watchers.
        assert!(
            ready.has_changed().is_ok(),
            "the readiness watch is still open"
        );
    }
}
