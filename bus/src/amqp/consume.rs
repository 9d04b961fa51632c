//! The consumer loop of one subscription: on every connection, a channel of its own with
//! `basic.qos(prefetch)` and a consumer on the queue; each delivery is decoded
//! (`contracts::decode_batch`: bare or batched) and handed to the [`Subscription`]
//! over a channel with room for the prefetch (the broker sends no more than that
//! unacknowledged, so nothing beyond it is ever buffered). When the consumer
//! ends (connection or channel lost, queue deleted, consumer cancelled by the broker) it
//! waits a jittered back-off and consumes again on the live connection: consumption resumes
//! by itself, and unacknowledged deliveries of the dead channel come back redelivered.
//!
//! An envelope that is unreadable as a whole (an unknown envelope version) can never be
//! processed by this build: it is rejected without requeue (dead-lettered where a policy
//! says so) and logged.
//!
//! [`Subscription`]: crate::Subscription

use futures::StreamExt;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use semalink_protocol::contracts;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::backoff::Backoff;
use crate::delivery::{Delivery, Settler};
use crate::publisher::{Message, Publisher};

pub(crate) struct Consume<T> {
    pub session: watch::Receiver<Option<Session>>,
    pub queue: String,
    pub prefetch: u16,
    pub tx: mpsc::Sender<Delivery<T>>,
    pub requeue: Publisher<T>,
    pub cancel: CancellationToken,
    pub backoff: Backoff,
}

/// Why one consumer ended.
enum End {
    /// Cancelled, or the subscription is gone: the task ends.
    Stop,
    /// Lost: consume again.
    Lost(String),
}

pub(crate) async fn run<T: Message>(mut c: Consume<T>) {
    loop {
        let session = tokio::select! {
            s = c.session.wait_for(|s| s.as_ref().is_some_and(Session::live)) => match s {
                Ok(s) => s.clone(),
                Err(_) => return,
            },
            _ = c.cancel.cancelled() => return,
        };
        let Some(session) = session else { continue };
        match consume(&mut c, &session).await {
            End::Stop => return,
            End::Lost(reason) => {
                tracing::debug!(queue = %c.queue, %reason, "consumer ended; resuming")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(c.backoff.next_wait()) => {}
            _ = c.cancel.cancelled() => return,
        }
    }
}

async fn consume<T: Message>(c: &mut Consume<T>, session: &Session) -> End {
    let channel = match session.conn.create_channel().await {
        Ok(ch) => ch,
        Err(e) => return End::Lost(format!("channel: {e}")),
    };
    if let Err(e) = channel
        .basic_qos(c.prefetch, BasicQosOptions { global: false })
        .await
    {
        return End::Lost(format!("basic.qos: {e}"));
    }
    let mut consumer = match channel
        .basic_consume(
            c.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
    {
        Ok(consumer) => consumer,
        Err(e) => return End::Lost(format!("basic.consume: {e}")),
    };
    c.backoff.reset();
    tracing::debug!(queue = %c.queue, epoch = session.epoch, "consuming");
    loop {
        let delivery = tokio::select! {
            _ = c.cancel.cancelled() => {
                let _ = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await;
                return End::Stop;
            }
            d = consumer.next() => d,
        };
        let d = match delivery {
            Some(Ok(d)) => d,
            Some(Err(e)) => return End::Lost(format!("consumer: {e}")),
            None => return End::Lost("the consumer was cancelled".into()),
        };
        let items = match contracts::decode_batch::<T>(&d.data) {
            Ok(items) => items,
            Err(e) => {
                tracing::error!(queue = %c.queue, error = %e, "unreadable envelope rejected");
                let _ = d.acker.reject(BasicRejectOptions { requeue: false }).await;
                continue;
            }
        };
        let settler = Settler::Amqp {
            acker: d.acker,
            _channel: channel.clone(),
            requeue: c.requeue.clone(),
        };
        let delivery = Delivery::new(items, d.redelivered, settler);
        tokio::select! {
            sent = c.tx.send(delivery) => if sent.is_err() { return End::Stop },
            _ = c.cancel.cancelled() => {
                let _ = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await;
                return End::Stop;
            }
        }
    }
}
