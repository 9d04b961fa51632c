//! The control plane's end of `semalink-bus`: RabbitMQ when `[amqp]` is configured, the
//! in-process bus otherwise. [`connect`] is the one place that decides; everything above it
//! holds a [`Bus`] and the queue names of [`Queues`] and never knows which it is.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use semalink_bus::amqp::{AmqpBus, AmqpConfig as BusAmqpConfig};
use semalink_bus::memory::MemoryBus;
use semalink_bus::{BatchConfig, Bus, QueueType, Topology, topology};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// Envelopes an in-process queue holds before publishers wait.
const MEMORY_QUEUE_ENVELOPES: usize = 1_024;

/// RabbitMQ settings (`[amqp]`); absent means the in-process bus. Every key but `url` has
/// a default, so `SEMALINK_API__AMQP__URL=...` alone turns RabbitMQ on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// Broker URL (`amqp://user:pass@host:5672/%2f`; secret, it may hold a password).
    pub url: SecretString,
    /// Submit requests of the `high` lane (API messages marked `high`, OTPs).
    #[serde(default = "default_priority_queue")]
    pub priority_queue: String,
    /// Submit requests of the `normal` lane (API messages, campaigns).
    #[serde(default = "default_normal_queue")]
    pub normal_queue: String,
    /// The engine's status events (what the status consumer applies).
    #[serde(default = "default_status_queue")]
    pub status_queue: String,
    /// The engine's inbound (MO) messages.
    #[serde(default = "default_inbound_queue")]
    pub inbound_queue: String,
    /// `classic` (default) or `quorum`; must match what the engine declares.
    #[serde(default)]
    pub queue_type: QueueType,
    /// Submit requests per published envelope at most.
    #[serde(default = "default_batch_max_items")]
    pub batch_max_items: usize,
    /// How long the first request of an envelope waits for more.
    #[serde(default = "default_batch_linger_ms")]
    pub batch_linger_ms: u64,
    /// First reconnect delay (jittered, doubling).
    #[serde(default = "default_reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay.
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
}

fn default_priority_queue() -> String {
    topology::PRIORITY_QUEUE.into()
}
fn default_normal_queue() -> String {
    topology::NORMAL_QUEUE.into()
}
fn default_status_queue() -> String {
    topology::STATUS_QUEUE.into()
}
fn default_inbound_queue() -> String {
    topology::INBOUND_QUEUE.into()
}
fn default_batch_max_items() -> usize {
    500
}
fn default_batch_linger_ms() -> u64 {
    2
}
fn default_reconnect_min_ms() -> u64 {
    200
}
fn default_reconnect_max_ms() -> u64 {
    10_000
}

impl AmqpConfig {
    /// The defaults for `url`.
    pub fn new(url: &str) -> AmqpConfig {
        AmqpConfig {
            url: SecretString::from(url.to_owned()),
            priority_queue: default_priority_queue(),
            normal_queue: default_normal_queue(),
            status_queue: default_status_queue(),
            inbound_queue: default_inbound_queue(),
            queue_type: QueueType::default(),
            batch_max_items: default_batch_max_items(),
            batch_linger_ms: default_batch_linger_ms(),
            reconnect_min_ms: default_reconnect_min_ms(),
            reconnect_max_ms: default_reconnect_max_ms(),
        }
    }

    fn batch(&self) -> BatchConfig {
        BatchConfig {
            max_items: self.batch_max_items.max(1),
            linger: Duration::from_millis(self.batch_linger_ms),
            ..BatchConfig::default()
        }
    }
}

/// The queues the control plane publishes to (submit lanes) and consumes (status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    /// `high` lane.
    pub priority: String,
    /// `normal` lane.
    pub normal: String,
    /// Status events.
    pub status: String,
    /// Inbound (MO) messages.
    pub inbound: String,
}

impl Queues {
    /// The queue names of `config` (the defaults without `[amqp]`).
    pub fn of(config: Option<&AmqpConfig>) -> Queues {
        match config {
            Some(c) => Queues {
                priority: c.priority_queue.clone(),
                normal: c.normal_queue.clone(),
                status: c.status_queue.clone(),
                inbound: c.inbound_queue.clone(),
            },
            None => Queues {
                priority: topology::PRIORITY_QUEUE.into(),
                normal: topology::NORMAL_QUEUE.into(),
                status: topology::STATUS_QUEUE.into(),
                inbound: topology::INBOUND_QUEUE.into(),
            },
        }
    }
}

/// The in-process bus (also what the one-process binary shares with the engine).
pub fn memory() -> Bus {
    Bus::Memory(MemoryBus::new(
        MEMORY_QUEUE_ENVELOPES,
        BatchConfig {
            linger: Duration::ZERO,
            ..BatchConfig::default()
        },
    ))
}

/// The bus `config` asks for: RabbitMQ (its connection supervised until `stop`) or, without
/// `[amqp]`, the in-process bus.
pub fn connect(config: Option<&AmqpConfig>, stop: CancellationToken) -> Bus {
    let Some(c) = config else {
        return memory();
    };
    let queues = Queues::of(config);
    let topology = Topology {
        priority: queues.priority,
        normal: queues.normal,
        status: queues.status,
        inbound: queues.inbound,
        queue_type: c.queue_type,
        ..Topology::default()
    };
    Bus::Amqp(AmqpBus::start(
        BusAmqpConfig {
            url: c.url.expose_secret().to_owned(),
            connection_name: "semalink-api".into(),
            topology,
            batch: c.batch(),
            reconnect_min: Duration::from_millis(c.reconnect_min_ms),
            reconnect_max: Duration::from_millis(c.reconnect_max_ms),
        },
        stop,
    ))
}

/// What a queue consumer does with a batch of contract messages: apply them in one
/// transaction (and count what it did). [`consume`] settles the envelopes by the result.
pub trait Applier<T>: Send + Sync + 'static {
    /// Applies `items`; an error rolls back everything of the batch.
    fn apply(
        &self,
        items: &[T],
    ) -> impl std::future::Future<Output = crate::error::Result<()>> + Send;

    /// `n` items could not be decoded (they are dropped with the envelope's ack).
    fn malformed(&self, n: usize);

    /// `n` items failed alone and were requeued.
    fn failed(&self, n: usize);
}

/// How long a failing consumer waits before taking envelopes again.
const FAILURE_PAUSE: Duration = Duration::from_millis(500);

/// The consumer loop of `queue` on `bus` until `stop`: takes an envelope, gathers those
/// already waiting up to `max_items` items (never waiting for more), applies them in one
/// batch and acks every envelope after the commit. A batch that fails is applied envelope by
/// envelope, so one bad envelope does not hold the others back; an envelope that still fails
/// is requeued (a quorum queue's `x-delivery-limit` dead-letters a poison one) and the loop
/// pauses briefly. A crash between commit and ack redelivers: appliers are idempotent.
pub async fn consume<T, A>(
    bus: Bus,
    queue: String,
    prefetch: u16,
    max_items: usize,
    applier: A,
    stop: CancellationToken,
) where
    T: semalink_bus::Message + Clone,
    A: Applier<T>,
{
    let mut sub = match bus.subscribe::<T>(&queue, prefetch.max(1)) {
        Ok(sub) => sub,
        Err(error) => {
            tracing::error!(%error, %queue, "cannot consume the queue");
            return;
        }
    };
    let max = max_items.max(1);
    loop {
        let first = tokio::select! {
            d = sub.recv() => d,
            () = stop.cancelled() => break,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        let mut items = batch[0].len();
        while items < max {
            let next = std::future::poll_fn(|cx| match sub.poll_recv(cx) {
                std::task::Poll::Ready(d) => std::task::Poll::Ready(d),
                std::task::Poll::Pending => std::task::Poll::Ready(None),
            })
            .await;
            let Some(d) = next else { break };
            items += d.len();
            batch.push(d);
        }
        if !settle_batch(&applier, &queue, batch).await
            && !crate::worker::pause(FAILURE_PAUSE, &stop).await
        {
            break;
        }
    }
    sub.cancel();
}

/// Applies and settles one gathered batch; false when an envelope had to be requeued.
async fn settle_batch<T, A>(applier: &A, queue: &str, batch: Vec<semalink_bus::Delivery<T>>) -> bool
where
    T: semalink_bus::Message + Clone,
    A: Applier<T>,
{
    let mut envelopes = Vec::with_capacity(batch.len());
    for mut d in batch {
        let mut items = Vec::with_capacity(d.len());
        let mut bad = 0;
        for item in d.take_items() {
            match item {
                Ok(x) => items.push(x),
                Err(e) => {
                    tracing::warn!(error = %e.error, %queue, "undecodable item dropped");
                    bad += 1;
                }
            }
        }
        if bad > 0 {
            applier.malformed(bad);
        }
        envelopes.push((d, items));
    }
    let all: Vec<T> = envelopes
        .iter()
        .flat_map(|(_, e)| e.iter().cloned())
        .collect();
    if let Err(error) = applier.apply(&all).await {
        tracing::warn!(%error, %queue, envelopes = envelopes.len(), "batch failed; applying envelope by envelope");
        let mut ok = true;
        for (d, items) in envelopes {
            match applier.apply(&items).await {
                Ok(()) => {
                    d.ack().await;
                }
                Err(error) => {
                    tracing::error!(%error, %queue, items = items.len(), "envelope failed; requeued");
                    applier.failed(items.len());
                    d.requeue(items).await;
                    ok = false;
                }
            }
        }
        return ok;
    }
    for (d, _) in envelopes {
        d.ack().await;
    }
    true
}
