//! Where status events and mobile-originated messages go: the [`StatusSink`] trait, the
//! in-process [`ChannelSink`] of the embedded mode, and [`EngineSink`], the one the app
//! composes (the channel, or [`AmqpSink`] publishing to `sms.status` / `sms.inbound` with
//! publisher confirms when `[amqp]` is configured).
//!
//! The channel is bounded: a consumer that falls behind slows the engine down (back-pressure)
//! rather than letting events pile up in memory.

use std::future::Future;

use semalink_protocol::contracts::{InboundMessage, StatusEvent};
use tokio::sync::mpsc;

pub use crate::amqp::AmqpSink;
use crate::error::{Error, Result};

/// Publishes the engine's results. Implementations must not lose an event they returned `Ok`
/// for.
pub trait StatusSink: Send + Sync + 'static {
    /// Publishes a status event.
    fn publish_status(&self, event: StatusEvent) -> impl Future<Output = Result<()>> + Send;

    /// Publishes a mobile-originated message.
    fn publish_inbound(&self, message: InboundMessage) -> impl Future<Output = Result<()>> + Send;
}

/// One item published to a [`ChannelSink`].
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// A status event.
    Status(StatusEvent),
    /// A mobile-originated message.
    Inbound(InboundMessage),
}

/// The in-process sink: a bounded channel whose receiver the composition root (or a test)
/// drains.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<Published>,
}

impl ChannelSink {
    /// A sink holding at most `capacity` unread items, and its receiver.
    pub fn new(capacity: usize) -> (ChannelSink, mpsc::Receiver<Published>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (ChannelSink { tx }, rx)
    }

    async fn send(&self, item: Published) -> Result<()> {
        self.tx
            .send(item)
            .await
            .map_err(|_| Error::Sink("the in-process status channel is closed".into()))
    }
}

impl StatusSink for ChannelSink {
    async fn publish_status(&self, event: StatusEvent) -> Result<()> {
        self.send(Published::Status(event)).await
    }

    async fn publish_inbound(&self, message: InboundMessage) -> Result<()> {
        self.send(Published::Inbound(message)).await
    }
}

/// The sink of a running engine, chosen by the config.
#[derive(Debug, Clone)]
pub enum EngineSink {
    /// Embedded mode: the in-process channel.
    Channel(ChannelSink),
    /// RabbitMQ mode.
    Amqp(AmqpSink),
}

impl StatusSink for EngineSink {
    async fn publish_status(&self, event: StatusEvent) -> Result<()> {
        match self {
            EngineSink::Channel(s) => s.publish_status(event).await,
            EngineSink::Amqp(s) => s.publish_status(event).await,
        }
    }

    async fn publish_inbound(&self, message: InboundMessage) -> Result<()> {
        match self {
            EngineSink::Channel(s) => s.publish_inbound(message).await,
            EngineSink::Amqp(s) => s.publish_inbound(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use semalink_protocol::contracts::{DeliveryState, VERSION};
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

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

    #[tokio::test]
    async fn events_arrive_in_order_and_a_closed_channel_is_an_error() {
        let (sink, mut rx) = ChannelSink::new(4);
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
            numbering: None,
        };
        sink.publish_inbound(inbound.clone()).await.unwrap();
        assert_eq!(rx.recv().await, Some(Published::Status(event(1))));
        assert_eq!(rx.recv().await, Some(Published::Inbound(inbound)));
        drop(rx);
        let err = sink.publish_status(event(2)).await.unwrap_err();
        assert!(matches!(err, Error::Sink(_)));
    }

    #[tokio::test]
    async fn a_full_channel_applies_back_pressure() {
        let (sink, mut rx) = ChannelSink::new(1);
        sink.publish_status(event(1)).await.unwrap();
        let blocked = tokio::spawn({
            let sink = sink.clone();
            async move { sink.publish_status(event(2)).await }
        });
        // The second publish can only finish once the first item is read.
        assert_eq!(rx.recv().await, Some(Published::Status(event(1))));
        blocked.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(Published::Status(event(2))));
    }
}
