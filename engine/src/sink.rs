//! Where status events and mobile-originated messages go: the [`StatusSink`] trait and
//! [`BusSink`], the one the app composes — over RabbitMQ when `[amqp]` is configured, over the
//! bus's in-process queues in the embedded mode, where [`forward`] hands them to the
//! composition root (or a test) as [`Published`] items.
//!
//! Everything is bounded: a consumer that falls behind slows the engine down (back-pressure)
//! rather than letting events pile up in memory.

use std::future::Future;

use semalink_bus::Subscription;
use semalink_bus::memory::MemoryBus;
use semalink_protocol::contracts::{InboundMessage, StatusEvent};
use tokio::sync::mpsc;

pub use crate::amqp::BusSink;
use crate::error::Result;

/// Publishes the engine's results. Implementations must not lose an event they returned `Ok`
/// for.
pub trait StatusSink: Send + Sync + 'static {
    /// Publishes a status event.
    fn publish_status(&self, event: StatusEvent) -> impl Future<Output = Result<()>> + Send;

    /// Publishes a mobile-originated message.
    fn publish_inbound(&self, message: InboundMessage) -> impl Future<Output = Result<()>> + Send;
}

/// One item of the embedded mode's events.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// A status event.
    Status(StatusEvent),
    /// A mobile-originated message.
    Inbound(InboundMessage),
}

/// The embedded mode's reader: moves the items of the in-process `status` and `inbound`
/// queues to `tx` in order, acking each envelope once its items are handed on. When `tx`'s
/// receiver is dropped both queues are closed, so the sink's next publish fails (a receipt
/// whose event nobody takes is not acknowledged to the SMSC) instead of filling a queue
/// nobody reads.
pub async fn forward(
    bus: MemoryBus,
    queues: (String, String),
    mut status: Subscription<StatusEvent>,
    mut inbound: Subscription<InboundMessage>,
    tx: mpsc::Sender<Published>,
) {
    'forward: loop {
        tokio::select! {
            biased;
            _ = tx.closed() => break,
            Some(mut d) = status.recv() => {
                for e in d.take_items().into_iter().flatten() {
                    if tx.send(Published::Status(e)).await.is_err() {
                        break 'forward;
                    }
                }
                d.ack().await;
            }
            Some(mut d) = inbound.recv() => {
                for m in d.take_items().into_iter().flatten() {
                    if tx.send(Published::Inbound(m)).await.is_err() {
                        break 'forward;
                    }
                }
                d.ack().await;
            }
            else => break,
        }
    }
    bus.close(&queues.0);
    bus.close(&queues.1);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use semalink_bus::{BatchConfig, Bus, topology};
    use semalink_protocol::contracts::{DeliveryState, VERSION};
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;
    use crate::error::Error;

    fn event(n: u128) -> StatusEvent {
        StatusEvent {
            version: VERSION,
            message_id: Uuid::from_u128(n),
            segment: None,
            state: DeliveryState::Sent,
            upstream: None,
            smsc_message_id: None,
            error: None,
            error_text: None,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            done_at: None,
        }
    }

    /// An in-process sink with `capacity` envelopes per queue, and its reader.
    fn embedded(capacity: usize) -> (BusSink, mpsc::Receiver<Published>) {
        let memory = MemoryBus::new(
            capacity,
            BatchConfig {
                max_items: 1,
                linger: Duration::ZERO,
                capacity: 1,
                max_in_flight: 1,
            },
        );
        let bus = Bus::Memory(memory.clone());
        let sink = BusSink::new(&bus, topology::STATUS_QUEUE, topology::INBOUND_QUEUE).unwrap();
        let (tx, rx) = mpsc::channel(1);
        let queues = (
            topology::STATUS_QUEUE.into(),
            topology::INBOUND_QUEUE.into(),
        );
        tokio::spawn(forward(
            memory.clone(),
            queues,
            memory.subscribe(topology::STATUS_QUEUE).unwrap(),
            memory.subscribe(topology::INBOUND_QUEUE).unwrap(),
            tx,
        ));
        (sink, rx)
    }

    #[tokio::test]
    async fn events_arrive_and_a_dropped_reader_makes_publishing_fail() {
        let (sink, mut rx) = embedded(4);
        sink.publish_status(event(1)).await.unwrap();
        let inbound = InboundMessage {
            version: VERSION,
            id: Uuid::from_u128(9),
            from: "254712345678".into(),
            to: "20880".into(),
            text: "STOP".into(),
            received_at: OffsetDateTime::UNIX_EPOCH,
            upstream: "sim".into(),
            segments: 1,
        };
        assert_eq!(rx.recv().await, Some(Published::Status(event(1))));
        sink.publish_inbound(inbound.clone()).await.unwrap();
        assert_eq!(rx.recv().await, Some(Published::Inbound(inbound)));
        drop(rx);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match sink.publish_status(event(2)).await {
                Err(Error::Sink(_)) => break,
                Err(e) => panic!("{e}"),
                Ok(()) => assert!(tokio::time::Instant::now() < deadline, "never refused"),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_applies_back_pressure() {
        let (sink, mut rx) = embedded(1);
        let publisher = tokio::spawn(async move {
            for n in 1..=20 {
                sink.publish_status(event(n)).await.unwrap();
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!publisher.is_finished(), "20 events with room for a few");
        for n in 1..=20 {
            assert_eq!(rx.recv().await, Some(Published::Status(event(n))));
        }
        publisher.await.unwrap();
    }
}
