//! The RabbitMQ mode (`[amqp]`): submit requests are consumed from `sms.priority` and
//! `sms.normal`, status events and MO messages are published to `sms.status` / `sms.inbound`.
//!
//! * Topology ([`Topology::declare`]), declared at every (re)connect, all durable, all on the
//!   default exchange: the four queues of the config with no arguments (the same declaration
//!   as `loadgen amqp`), and per submit queue one retry queue per configured delay,
//!   `<queue>.retry.<delay>ms`, whose messages expire after the delay (`x-message-ttl`) and
//!   are dead-lettered back to `<queue>`.
//! * [`consumer`]: one channel, one consumer per submit queue with a prefetch sized to the
//!   windows; a delivery is acknowledged only when its message's fate is decided, deferred
//!   messages are republished to a retry queue with `attempt + 1` before the original is
//!   acknowledged, and after `max_attempts` deliveries the message fails with a status event.
//! * [`AmqpSink`]: publishes persistent JSON events on a channel in confirm mode and returns
//!   only after the broker's ack.
//! * [`run`]: the connection supervisor. It connects, declares, publishes the publishing
//!   channel to the sink, runs the consumer until the connection fails, then reconnects with
//!   jittered doubling back-off and consumes again. [`Health::set_amqp`] follows the
//!   connection.

pub mod consumer;
mod settle;
mod sink;

use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::AmqpConfig;
use crate::error::{Error, Result};
use crate::health::Health;
pub use consumer::Consumer;
pub use sink::AmqpSink;

/// AMQP `delivery_mode` 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

fn amqp_err(what: &'static str) -> impl FnOnce(lapin::Error) -> Error {
    move |e| Error::Amqp(format!("{what}: {e}"))
}

/// The queue names of a config, and their declaration.
#[derive(Debug, Clone)]
pub struct Topology {
    /// `amqp.priority_queue`.
    pub priority: String,
    /// `amqp.normal_queue`.
    pub normal: String,
    /// `amqp.status_queue`.
    pub status: String,
    /// `amqp.inbound_queue`.
    pub inbound: String,
    /// The retry delays (deduplicated, in config order).
    pub delays: Vec<Duration>,
}

impl Topology {
    /// The names and delays of `config`.
    pub fn new(config: &AmqpConfig) -> Topology {
        let mut delays: Vec<Duration> = Vec::new();
        for &ms in &config.retry_delays_ms {
            let d = Duration::from_millis(ms);
            if !delays.contains(&d) {
                delays.push(d);
            }
        }
        Topology {
            priority: config.priority_queue.clone(),
            normal: config.normal_queue.clone(),
            status: config.status_queue.clone(),
            inbound: config.inbound_queue.clone(),
            delays,
        }
    }

    /// Declares every queue (idempotent; a queue declared before with other arguments is an
    /// error that names it).
    pub async fn declare(&self, channel: &Channel) -> Result<()> {
        for queue in [&self.priority, &self.normal, &self.status, &self.inbound] {
            declare(channel, queue, FieldTable::default()).await?;
        }
        for queue in [&self.priority, &self.normal] {
            for &delay in &self.delays {
                let mut args = FieldTable::default();
                let ttl = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
                args.insert("x-message-ttl".into(), AMQPValue::LongUInt(ttl));
                args.insert(
                    "x-dead-letter-exchange".into(),
                    AMQPValue::LongString("".into()),
                );
                args.insert(
                    "x-dead-letter-routing-key".into(),
                    AMQPValue::LongString(queue.as_str().into()),
                );
                declare(channel, &AmqpConfig::retry_queue(queue, delay), args).await?;
            }
        }
        Ok(())
    }
}

async fn declare(channel: &Channel, queue: &str, args: FieldTable) -> Result<()> {
    channel
        .queue_declare(queue.into(), QueueDeclareOptions::durable(), args)
        .await
        .map_err(|e| Error::Amqp(format!("declaring queue {queue}: {e}")))?;
    Ok(())
}

/// Publishes persistent messages with publisher confirms on the current connection's
/// publishing channel, waiting across reconnects. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    channel: watch::Receiver<Option<Channel>>,
    stop: CancellationToken,
}

impl Publisher {
    /// Publishes `payload` to `queue` (default exchange) and waits for the broker's ack. A
    /// nack or a lost connection is retried (every 100 ms, on the next connection) until it
    /// succeeds or `stop` is cancelled, which is the only error.
    pub async fn publish(&self, queue: &str, payload: &[u8], message_id: &str) -> Result<()> {
        let mut rx = self.channel.clone();
        loop {
            let channel = tokio::select! {
                c = rx.wait_for(|c| c.as_ref().is_some_and(|c| c.status().connected())) => {
                    match c.ok().and_then(|c| c.clone()) {
                        Some(c) => c,
                        None => return Err(Error::Sink("the broker link is gone".into())),
                    }
                }
                _ = self.stop.cancelled() => {
                    return Err(Error::Sink(format!("stopping: not published to {queue}")));
                }
            };
            match publish_confirmed(&channel, queue, payload, message_id).await {
                Ok(true) => return Ok(()),
                Ok(false) => tracing::warn!(queue, "broker nacked a publish; retrying"),
                Err(e) => tracing::debug!(error = %e, queue, "publish failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = self.stop.cancelled() => {
                    return Err(Error::Sink(format!("stopping: not published to {queue}")));
                }
            }
        }
    }
}

/// One persistent publish on a confirm-mode channel; `Ok(false)` when the broker nacked it.
async fn publish_confirmed(
    channel: &Channel,
    queue: &str,
    payload: &[u8],
    message_id: &str,
) -> Result<bool> {
    let props = BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type("application/json".into())
        .with_message_id(message_id.into());
    let confirm = channel
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            payload,
            props,
        )
        .await
        .map_err(amqp_err("basic.publish"))?;
    match confirm.await.map_err(amqp_err("publisher confirm"))? {
        Confirmation::Nack(_) => Ok(false),
        _ => Ok(true),
    }
}

/// The RabbitMQ link of an engine: the sink and the consumer share its publishing channel.
#[derive(Debug)]
pub struct Link {
    channel: watch::Sender<Option<Channel>>,
    publisher: Publisher,
    topology: Topology,
    config: AmqpConfig,
}

impl Link {
    /// A link for `config`, not connected yet; publishes give up once `stop` is cancelled
    /// (after the engine's segments have finished).
    pub fn new(config: &AmqpConfig, stop: CancellationToken) -> Link {
        let (tx, rx) = watch::channel(None);
        Link {
            channel: tx,
            publisher: Publisher { channel: rx, stop },
            topology: Topology::new(config),
            config: config.clone(),
        }
    }

    /// The sink publishing status events and MO messages over this link.
    pub fn sink(&self) -> AmqpSink {
        AmqpSink::new(
            self.publisher.clone(),
            &self.topology.status,
            &self.topology.inbound,
        )
    }

    /// The queue names.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The publisher (retry queues use it too).
    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// The config.
    pub fn config(&self) -> &AmqpConfig {
        &self.config
    }
}

/// One connection: opened, topology declared, publishing channel in confirm mode.
async fn open(link: &Link) -> Result<(Connection, Channel)> {
    let props = ConnectionProperties::default().with_connection_name("semalink-engine".into());
    let conn = Connection::connect(link.config.url.expose(), props)
        .await
        .map_err(amqp_err("connect"))?;
    let channel = conn.create_channel().await.map_err(amqp_err("channel"))?;
    link.topology.declare(&channel).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(amqp_err("confirm.select"))?;
    Ok((conn, channel))
}

/// The connection supervisor: connect, consume until the connection fails or `cancel` is
/// cancelled (then let `consumer` drain until `link`'s stop token), reconnect with back-off.
pub async fn run(
    link: Arc<Link>,
    mut consumer: Consumer,
    health: Arc<Health>,
    cancel: CancellationToken,
) {
    let min = Duration::from_millis(link.config.reconnect_min_ms);
    let max = Duration::from_millis(link.config.reconnect_max_ms);
    let mut delay = min;
    loop {
        match open(&link).await {
            Ok((conn, channel)) => {
                tracing::info!("connected to RabbitMQ");
                delay = min;
                link.channel.send_replace(Some(channel));
                health.set_amqp(true);
                let end = consumer.session(&conn, &cancel).await;
                health.set_amqp(false);
                match end {
                    consumer::SessionEnd::Stopped => {
                        consumer.drain(&link.publisher.stop).await;
                        link.channel.send_replace(None);
                        let _ = conn.close(200, "engine stopping".into()).await;
                        return;
                    }
                    consumer::SessionEnd::Lost(reason) => {
                        consumer.count("connection_lost");
                        link.channel.send_replace(None);
                        tracing::warn!(%reason, "RabbitMQ connection lost; reconnecting");
                        let _ = conn.close(320, "reconnecting".into()).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?delay, "RabbitMQ not reachable"),
        }
        let wait = delay / 2 + (delay / 2).mul_f64(fastrand::f64());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => {
                // Stopping while disconnected: segments still in flight keep their deliveries
                // unacknowledged; the broker redelivers them.
                consumer.drain(&link.publisher.stop).await;
                return;
            }
        }
        delay = (delay * 2).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_queues_are_named_by_delay_and_repeated_delays_declared_once() {
        let c = AmqpConfig {
            retry_delays_ms: vec![1_000, 5_000, 5_000, 1_000],
            ..AmqpConfig::default()
        };
        let t = Topology::new(&c);
        let delays: Vec<u64> = t.delays.iter().map(|d| d.as_millis() as u64).collect();
        assert_eq!(delays, [1_000, 5_000]);
        assert_eq!(
            AmqpConfig::retry_queue(&t.normal, t.delays[1]),
            "sms.normal.retry.5000ms"
        );
    }
}
