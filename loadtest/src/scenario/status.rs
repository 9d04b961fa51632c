//! A status-queue consumer that survives broker restarts: manual acknowledgements (several at
//! a time), reconnect with a short pause, and events the broker delivers again after a lost
//! connection applied without counting them as duplicates ([`Waiter::replayed`]).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use tokio_util::sync::CancellationToken;

use crate::{
    Error,
    loadgen::amqp::{Waiter, amqp_err, connect, declare_durable, lock},
};

/// Deliveries acknowledged at once (one `basic.ack` with `multiple`).
const ACK_BATCH: u64 = 256;
/// Unacknowledged deliveries the broker may push ahead.
const PREFETCH: u16 = 2048;

/// Consumes `queue` at `url` into `waiter` until `stop`; returns how many times a working
/// connection was lost.
pub async fn consume(
    url: String,
    queue: String,
    waiter: Arc<Mutex<Waiter>>,
    stop: CancellationToken,
) -> u64 {
    let mut reconnects = 0;
    let mut down = false;
    loop {
        let mut consumed = false;
        tokio::select! {
            _ = stop.cancelled() => return reconnects,
            r = session(&url, &queue, &waiter, &mut consumed) => {
                if let Err(e) = r
                    && (consumed || !down)
                {
                    tracing::info!(error = %e, "status consumer lost its connection; reconnecting");
                }
            }
        }
        // One line per outage, not one per failed attempt.
        down = !consumed;
        reconnects += u64::from(consumed);
        tokio::select! {
            _ = stop.cancelled() => return reconnects,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// One connection's worth of consuming; returns when the connection fails. `consumed` is set
/// once the consumer is registered.
async fn session(
    url: &str,
    queue: &str,
    waiter: &Mutex<Waiter>,
    consumed: &mut bool,
) -> Result<(), Error> {
    let conn = connect(url).await?;
    let channel = conn.create_channel().await.map_err(amqp_err("channel"))?;
    declare_durable(&channel, queue).await?;
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .map_err(amqp_err("basic_qos"))?;
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "fault-run".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err("basic_consume"))?;
    *consumed = true;
    let mut pending: Option<u64> = None;
    let mut unacked = 0;
    loop {
        let next = tokio::time::timeout(Duration::from_millis(50), consumer.next()).await;
        let delivery = match next {
            Ok(Some(Ok(d))) => d,
            Ok(Some(Err(e))) => return Err(amqp_err("consume")(e)),
            Ok(None) => return Err(Error::Protocol("status consumer cancelled".into())),
            Err(_) => {
                // Idle: acknowledge what was applied so far.
                if let Some(tag) = pending.take() {
                    ack(&channel, tag).await?;
                    unacked = 0;
                }
                continue;
            }
        };
        {
            let mut w = lock(waiter);
            if delivery.redelivered {
                w.replayed(&delivery.data);
            } else {
                w.event(&delivery.data);
            }
        }
        pending = Some(delivery.delivery_tag);
        unacked += 1;
        if unacked >= ACK_BATCH {
            ack(&channel, delivery.delivery_tag).await?;
            pending = None;
            unacked = 0;
        }
    }
}

async fn ack(channel: &lapin::Channel, tag: u64) -> Result<(), Error> {
    channel
        .basic_ack(tag, BasicAckOptions { multiple: true })
        .await
        .map_err(amqp_err("basic_ack"))
}
