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
}

impl Queues {
    /// The queue names of `config` (the defaults without `[amqp]`).
    pub fn of(config: Option<&AmqpConfig>) -> Queues {
        match config {
            Some(c) => Queues {
                priority: c.priority_queue.clone(),
                normal: c.normal_queue.clone(),
                status: c.status_queue.clone(),
            },
            None => Queues {
                priority: topology::PRIORITY_QUEUE.into(),
                normal: topology::NORMAL_QUEUE.into(),
                status: topology::STATUS_QUEUE.into(),
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
